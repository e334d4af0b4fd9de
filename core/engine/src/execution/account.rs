//! One account's state, kept as the blob that stores it (`framework/state.py`).
//!
//! `blob = BCS(map<bytes, bytes>)`: entries sorted by encoded key, key = `ULEB128 length ‖
//! resource path`, value = the resource's BCS. An [`Account`] holds the canonical blob and
//! where each entry sits in it, so reading a resource is a binary search and writing one of
//! the same length (every write of a payment: balances, `DiemAccount`, the fee pool) is a copy
//! into place; the blob of a version is then the bytes as they are.

use super::resources::read_bytes;
use crate::bcs::{push_uleb128, Reader};

pub type Address = [u8; 16];

/// Where one entry sits in the blob: its encoded key and its value (without its length).
#[derive(Clone, Copy, Debug)]
struct Entry {
    key_start: u32,
    key_end: u32,
    value_start: u32,
    value_end: u32,
}

/// An account's resources as its canonical blob, indexed.
#[derive(Clone, Debug, Default)]
pub struct Account {
    blob: Vec<u8>,
    entries: Vec<Entry>,
}

/// The blob was not the canonical encoding of a `map<bytes, bytes>`: the Python decoder says
/// what is wrong (the native side never answers for such an account).
#[derive(Debug, PartialEq, Eq)]
pub struct MalformedBlob;

impl Account {
    /// Decode a blob strictly, as `framework.state.decode_account_blob`: canonical lengths,
    /// keys strictly increasing by their encoding, no trailing bytes.
    pub fn decode(blob: &[u8]) -> Result<Account, MalformedBlob> {
        let mut reader = Reader::new(blob);
        let count = reader.length("map length").map_err(|_| MalformedBlob)?;
        let mut entries = Vec::with_capacity(count);
        let mut previous: Option<&[u8]> = None;
        for _ in 0..count {
            let key_start = reader.offset();
            read_bytes(&mut reader).ok_or(MalformedBlob)?;
            let key = reader.since(key_start);
            if let Some(previous) = previous {
                if key <= previous {
                    return Err(MalformedBlob);
                }
            }
            previous = Some(key);
            let key_end = reader.offset();
            let value = read_bytes(&mut reader).ok_or(MalformedBlob)?;
            let value_end = reader.offset();
            entries.push(Entry {
                key_start: key_start as u32,
                key_end: key_end as u32,
                value_start: (value_end - value.len()) as u32,
                value_end: value_end as u32,
            });
        }
        reader.finish().map_err(|_| MalformedBlob)?;
        Ok(Account {
            blob: blob.to_vec(),
            entries,
        })
    }

    /// The blob as stored: `None` when the account has no resources (as `_Account.encode`).
    pub fn blob(&self) -> Option<&[u8]> {
        if self.entries.is_empty() {
            None
        } else {
            Some(&self.blob)
        }
    }

    /// The bytes this account was decoded from or last encoded to (what a cache compares).
    pub fn raw_blob(&self) -> &[u8] {
        &self.blob
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn key(&self, entry: &Entry) -> &[u8] {
        &self.blob[entry.key_start as usize..entry.key_end as usize]
    }

    fn find(&self, key: &[u8]) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|entry| self.key(entry).cmp(key))
    }

    /// The value at the encoded key `key` (`ULEB128 length ‖ path`).
    pub fn get(&self, key: &[u8]) -> Option<&[u8]> {
        let index = self.find(key).ok()?;
        let entry = &self.entries[index];
        Some(&self.blob[entry.value_start as usize..entry.value_end as usize])
    }

    /// `(path, value)` of every resource, in blob order.
    pub fn resources(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries.iter().map(|entry| {
            let key = self.key(entry);
            let prefix = key.len() - path_length(key);
            (
                &key[prefix..],
                &self.blob[entry.value_start as usize..entry.value_end as usize],
            )
        })
    }

    /// Set the value at the encoded key `key` (`None` removes it).
    pub fn set(&mut self, key: &[u8], value: Option<&[u8]>) {
        match (self.find(key), value) {
            (Ok(index), Some(value)) => {
                let entry = self.entries[index];
                let (start, end) = (entry.value_start as usize, entry.value_end as usize);
                if end - start == value.len() {
                    self.blob[start..end].copy_from_slice(value);
                } else {
                    self.rebuild(|entries| entries[index].1 = value.to_vec());
                }
            }
            (Ok(index), None) => self.rebuild(|entries| {
                entries.remove(index);
            }),
            (Err(index), Some(value)) => {
                self.rebuild(|entries| entries.insert(index, (key.to_vec(), value.to_vec())))
            }
            (Err(_), None) => {}
        }
    }

    /// Re-encode the blob after `change` edits the (encoded key, value) list, kept in order.
    fn rebuild(&mut self, change: impl FnOnce(&mut Vec<(Vec<u8>, Vec<u8>)>)) {
        let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = self
            .entries
            .iter()
            .map(|entry| {
                (
                    self.key(entry).to_vec(),
                    self.blob[entry.value_start as usize..entry.value_end as usize].to_vec(),
                )
            })
            .collect();
        change(&mut pairs);
        *self = Account::encode(&pairs);
    }

    /// The account of (encoded key, value) pairs given in encoded-key order.
    fn encode(pairs: &[(Vec<u8>, Vec<u8>)]) -> Account {
        let mut blob = Vec::new();
        push_uleb128(&mut blob, pairs.len() as u64);
        let mut entries = Vec::with_capacity(pairs.len());
        for (key, value) in pairs {
            let key_start = blob.len();
            blob.extend_from_slice(key);
            let key_end = blob.len();
            push_uleb128(&mut blob, value.len() as u64);
            let value_start = blob.len();
            blob.extend_from_slice(value);
            entries.push(Entry {
                key_start: key_start as u32,
                key_end: key_end as u32,
                value_start: value_start as u32,
                value_end: blob.len() as u32,
            });
        }
        Account { blob, entries }
    }
}

/// The length of the path inside an encoded key (the key minus its ULEB128 prefix).
fn path_length(key: &[u8]) -> usize {
    let mut reader = Reader::new(key);
    reader
        .uleb128(u64::MAX, "key length")
        .map(|length| length as usize)
        .unwrap_or(0)
}

/// `ULEB128 length ‖ path`: the map key of a resource path.
pub fn encoded_key(path: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(path.len() + 2);
    push_uleb128(&mut key, path.len() as u64);
    key.extend_from_slice(path);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob_of(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let mut sorted: Vec<(Vec<u8>, Vec<u8>)> = pairs
            .iter()
            .map(|(path, value)| (encoded_key(path), value.to_vec()))
            .collect();
        sorted.sort();
        Account::encode(&sorted).blob
    }

    #[test]
    fn decodes_reads_and_writes_in_place() {
        let blob = blob_of(&[(b"\x01bb", b"12345678"), (b"\x01a", b"xy")]);
        let mut account = Account::decode(&blob).unwrap();
        assert_eq!(account.get(&encoded_key(b"\x01a")), Some(&b"xy"[..]));
        assert_eq!(account.get(&encoded_key(b"\x01c")), None);
        account.set(&encoded_key(b"\x01bb"), Some(b"87654321"));
        assert_eq!(
            account.blob().unwrap(),
            &blob_of(&[(b"\x01bb", b"87654321"), (b"\x01a", b"xy")])[..]
        );
        account.set(&encoded_key(b"\x01a"), Some(b"longer value"));
        account.set(&encoded_key(b"\x01c"), Some(b""));
        assert_eq!(
            account.blob().unwrap(),
            &blob_of(&[
                (b"\x01bb", b"87654321"),
                (b"\x01a", b"longer value"),
                (b"\x01c", b"")
            ])[..]
        );
        let paths: Vec<&[u8]> = account.resources().map(|(path, _)| path).collect();
        assert_eq!(paths, vec![&b"\x01a"[..], b"\x01c", b"\x01bb"]);
        for path in [&b"\x01a"[..], b"\x01bb", b"\x01c"] {
            account.set(&encoded_key(path), None);
        }
        assert!(account.blob().is_none());
    }

    #[test]
    fn refuses_what_is_not_canonical() {
        let good = blob_of(&[(b"\x01a", b"1"), (b"\x01b", b"2")]);
        assert!(Account::decode(&good).is_ok());
        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(Account::decode(&trailing).unwrap_err(), MalformedBlob);
        // keys out of order, and a duplicate key
        let swapped = [&[2u8][..], &[2, 1, b'b', 1, b'2'], &[2, 1, b'a', 1, b'1']].concat();
        assert_eq!(Account::decode(&swapped).unwrap_err(), MalformedBlob);
        let twice = [&[2u8][..], &[2, 1, b'a', 1, b'1'], &[2, 1, b'a', 1, b'1']].concat();
        assert_eq!(Account::decode(&twice).unwrap_err(), MalformedBlob);
        assert_eq!(Account::decode(&[]).unwrap_err(), MalformedBlob);
        assert_eq!(Account::decode(&[0x80, 0]).unwrap_err(), MalformedBlob);
        for cut in 0..good.len() {
            assert!(Account::decode(&good[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn long_paths_sort_by_their_encoded_keys() {
        let long = vec![b'a'; 200]; // a two-byte length sorts after every one-byte length
        let blob = blob_of(&[(&long, b"1"), (b"\x01z", b"2")]);
        let account = Account::decode(&blob).unwrap();
        let paths: Vec<&[u8]> = account.resources().map(|(path, _)| path).collect();
        assert_eq!(paths, vec![&b"\x01z"[..], &long[..]]);
    }
}
