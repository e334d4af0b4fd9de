//! The ledger store's hashing-heavy work, natively: the Jellyfish state tree update of a
//! whole block, the event and transaction accumulators, `TransactionInfo` encoding.
//!
//! The Python store (`src/libra/storage/`) is the specification: every byte written
//! (node, stale-index entry, info, accumulator node, event) and every root equals what it
//! writes, which `tests/unit/native/test_storage_*.py` check on generated workloads.
//!
//! * [`node`]: node keys, the stored node layout, the 31-slot binary hash heap of a node;
//! * [`tree`]: one version's update (a port of `TreeUpdater`'s general path, call for call,
//!   so the stale-index lists come out in the same order);
//! * [`source`]: where a block reads nodes: its speculative ancestors, a pinned copy of the
//!   base-tree nodes on its paths, the shared cache of committed nodes, the store;
//! * [`reads`]: blob and proof reads of committed versions;
//! * [`accumulator`]: Merkle accumulator appends and roots;
//! * [`block`]: a whole block: every version's tree, events, info, the accumulator append.

pub mod accumulator;
pub mod block;
pub mod cache;
pub mod node;
pub mod puts;
pub mod reads;
pub mod salts;
pub mod source;
pub mod sponge;
pub mod tree;

use std::fmt;

use node::NodeKey;

/// Why a tree operation failed; the text is the Python store's `StorageError` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    /// A node the tree points to is not in the store.
    Missing(NodeKey),
    /// A stored node does not decode, or is not what its parent says.
    Corrupt(String),
    /// Two leaves with one key (unreachable with distinct keys).
    DuplicateKeys,
    /// Reading the store failed; the caller holds the reason (a Python exception).
    Fetch,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::Missing(key) => {
                let hex: String = key.as_bytes()[1..]
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                write!(f, "missing state tree node {hex} (pruned or corrupt store)")
            }
            TreeError::Corrupt(message) => f.write_str(message),
            TreeError::DuplicateKeys => f.write_str("duplicate state keys"),
            TreeError::Fetch => f.write_str("reading the store failed"),
        }
    }
}

impl std::error::Error for TreeError {}

pub type TreeResult<T> = Result<T, TreeError>;
