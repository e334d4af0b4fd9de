//! A block's puts, in order: keys inline, values packed into one buffer, so a put costs
//! no allocation (a block of 500 payments has about 9,000 of them).

use super::node::StoreKey;

#[derive(Default)]
pub struct Puts {
    entries: Vec<(StoreKey, usize, usize)>,
    data: Vec<u8>,
}

impl Puts {
    /// Puts written into `buffer` (emptied first; its memory is reused).
    pub fn in_buffer(mut buffer: Vec<u8>, puts: usize, bytes: usize) -> Puts {
        buffer.clear();
        buffer.reserve(bytes);
        Puts {
            entries: Vec::with_capacity(puts),
            data: buffer,
        }
    }

    /// The value buffer, for reuse by a later block.
    pub fn into_buffer(self) -> Vec<u8> {
        self.data
    }

    /// Puts `key -> parts…` (the value is the parts joined).
    pub fn push(&mut self, key: StoreKey, parts: &[&[u8]]) {
        let start = self.data.len();
        for part in parts {
            self.data.extend_from_slice(part);
        }
        self.entries.push((key, start, self.data.len()));
    }

    /// Puts `key -> value`, the value written by `write` at the end of the buffer.
    pub fn push_with(&mut self, key: StoreKey, write: impl FnOnce(&mut Vec<u8>)) {
        let start = self.data.len();
        write(&mut self.data);
        self.entries.push((key, start, self.data.len()));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `(key, value)` of every put, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.entries
            .iter()
            .map(|(key, start, end)| (key.as_bytes(), &self.data[*start..*end]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn puts_keep_their_order_and_values() {
        let mut puts = Puts::default();
        puts.push(StoreKey::from_bytes(b"Ta").unwrap(), &[b"x", b"yz"]);
        puts.push_with(StoreKey::from_bytes(b"Ib").unwrap(), |out| {
            out.extend_from_slice(b"")
        });
        puts.push(StoreKey::from_bytes(b"Ta").unwrap(), &[b"w"]);
        let all: Vec<_> = puts.iter().collect();
        assert_eq!(
            all,
            [(&b"Ta"[..], &b"xyz"[..]), (b"Ib", b""), (b"Ta", b"w")]
        );
        assert_eq!(puts.len(), 3);
    }
}
