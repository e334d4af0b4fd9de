//! A whole block, as `LibraDB._write_transactions` and `TransactionAccumulator.append` write it.
//!
//! Per version, in this order (the batch's order; the store content does not depend on it):
//! the tree's new leaves and stale-index entry, then per event `E | version | index ->
//! key | seq | event` and `K | key | seq -> version | index`, then `T | version -> the
//! transaction`, `I | version -> TransactionInfo BCS`, `W | version -> write set` (if
//! any), `Q | sender | seq -> version` (user transactions). After the last version, the
//! internal nodes of its tree (the block's checkpoint, see [`super::tree`]), then the
//! accumulator nodes frozen by the block: `A | level u8 | index u64be -> hash`.

use crate::hashing::HashValue;

use super::accumulator::{accumulator_root, accumulator_root_of_leaves, append_leaves, Frozen};
use super::node::StoreKey;
use super::puts::Puts;
use super::salts::salts;
use super::source::{NodeSource, Overlay};
use super::sponge::hash_with_seed;
use super::tree::TreeWriter;
use super::TreeResult;

/// One emitted event (its key is 24 bytes).
pub struct EventInput<B> {
    pub key: [u8; 24],
    pub sequence_number: u64,
    pub bytes: B,
}

/// What the store receives for one version (`TransactionToCommit`, checked); `B` holds
/// bytes where they are (the Python objects, read in place).
pub struct VersionInput<B> {
    pub transaction: B,
    /// State key (hash of the address) -> new blob, None deletes; keys distinct.
    pub changes: Vec<(HashValue, Option<B>)>,
    pub events: Vec<EventInput<B>>,
    pub gas_used: u64,
    /// The `KeptVMStatus` BCS; None for `Executed` (the byte 0).
    pub status: Option<Vec<u8>>,
    pub sender: Option<([u8; 16], u64)>,
    pub write_set: B,
}

/// What a prepared block holds.
pub struct BlockOutput {
    pub puts: Puts,
    /// The nodes of the last version's tree written by the block.
    pub overlay: Overlay,
    /// Per version: transaction hash, state root, event root.
    pub hashes: Vec<[HashValue; 3]>,
    pub frozen: Frozen,
    pub root: HashValue,
}

fn key_of(table: u8, parts: &[&[u8]]) -> StoreKey {
    StoreKey::from_parts(table, parts).expect("every key of a block is at most 42 bytes")
}

/// `encode_transaction_info`: variant 0, three length-prefixed hashes, gas u64 LE, status.
pub fn encode_transaction_info(hashes: &[HashValue; 3], gas_used: u64, status: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + 33 * 3 + 8 + status.len());
    out.push(0);
    for hash in hashes {
        out.push(32);
        out.extend_from_slice(hash);
    }
    out.extend_from_slice(&gas_used.to_le_bytes());
    out.extend_from_slice(status);
    out
}

const EXECUTED: [u8; 1] = [0];

/// About the bytes a block writes (sized up front, so the buffer is not copied as it grows):
/// its inputs, a leaf per change and its stale-index entry, and a share of the internal
/// nodes the block's checkpoint writes (measured ~240 bytes per change besides the blob).
fn estimated_bytes<B: AsRef<[u8]>>(versions: &[VersionInput<B>]) -> usize {
    versions
        .iter()
        .map(|v| {
            let changes: usize = v
                .changes
                .iter()
                .map(|(_, blob)| blob.as_ref().map_or(0, |b| b.as_ref().len()) + 300)
                .sum();
            let events: usize = v.events.iter().map(|e| e.bytes.as_ref().len() + 60).sum();
            v.transaction.as_ref().len() + v.write_set.as_ref().len() + changes + events + 300
        })
        .sum()
}

/// Computes the block of `versions` starting at `first_version` on top of `source` (the
/// parent's state) and of the accumulator `frozen` (whose leaves are the versions before).
///
/// Panics if `frozen` does not describe `first_version` leaves (the caller checks);
/// `buffer` is memory to write the puts' values into (a finished block's, so that its
/// pages are not faulted in again).
pub fn write_block<B: AsRef<[u8]>>(
    source: &impl NodeSource,
    versions: &[VersionInput<B>],
    first_version: u64,
    mut frozen: Frozen,
    buffer: Vec<u8>,
) -> TreeResult<BlockOutput> {
    let salts = salts();
    let mut writer = TreeWriter::new(source);
    writer.puts = Puts::in_buffer(buffer, versions.len() * 24, estimated_bytes(versions));
    let mut base = first_version.checked_sub(1);
    let mut hashes = Vec::with_capacity(versions.len());
    let mut leaves = Vec::with_capacity(versions.len());
    let count = versions.len() as u64;
    for (offset, input) in versions.iter().enumerate() {
        let version = first_version + offset as u64;
        let changes = input
            .changes
            .iter()
            .map(|(key, blob)| (*key, blob.as_ref().map(AsRef::as_ref)))
            .collect();
        let state_root = writer.apply(version, base, changes)?;
        base = Some(version);
        let packed = version.to_be_bytes();
        let puts = &mut writer.puts;
        let mut event_hashes = Vec::with_capacity(input.events.len());
        for (index, event) in input.events.iter().enumerate() {
            let bytes = event.bytes.as_ref();
            event_hashes.push(hash_with_seed(&salts.contract_event, bytes));
            let mut position = [0u8; 12];
            position[..8].copy_from_slice(&packed);
            position[8..].copy_from_slice(&(index as u32).to_be_bytes());
            let sequence = event.sequence_number.to_be_bytes();
            puts.push(key_of(b'E', &[&position]), &[&event.key, &sequence, bytes]);
            puts.push(key_of(b'K', &[&event.key, &sequence]), &[&position]);
        }
        let event_root = accumulator_root_of_leaves(&salts.event_accumulator, &event_hashes);
        let transaction = input.transaction.as_ref();
        let info_hashes = [
            hash_with_seed(&salts.transaction, transaction),
            state_root,
            event_root,
        ];
        let status = input.status.as_deref().unwrap_or(&EXECUTED);
        let info = encode_transaction_info(&info_hashes, input.gas_used, status);
        leaves.push(hash_with_seed(&salts.transaction_info, &info));
        hashes.push(info_hashes);
        puts.push(key_of(b'T', &[&packed]), &[transaction]);
        puts.push(key_of(b'I', &[&packed]), &[&info]);
        let write_set = input.write_set.as_ref();
        if !write_set.is_empty() {
            puts.push(key_of(b'W', &[&packed]), &[write_set]);
        }
        if let Some((sender, sequence_number)) = input.sender {
            puts.push(
                key_of(b'Q', &[&sender, &sequence_number.to_be_bytes()]),
                &[&packed],
            );
        }
    }
    writer.checkpoint();
    for (level, index, hash) in append_leaves(&salts.transaction_accumulator, &mut frozen, &leaves)
    {
        writer.puts.push(
            key_of(b'A', &[&[level as u8], &index.to_be_bytes()]),
            &[&hash],
        );
    }
    let roots: Vec<HashValue> = frozen.iter().map(|(_, hash)| *hash).collect();
    let root = accumulator_root(
        &salts.transaction_accumulator,
        &roots,
        first_version + count,
    )
    .expect("the frozen stack describes the versions before the block");
    Ok(BlockOutput {
        puts: writer.puts,
        overlay: writer.overlay,
        hashes,
        frozen,
        root,
    })
}
