//! State tree nodes as `libra.storage.jellyfish` stores them.
//!
//! Key: `N | version u64be | depth u8 | the first depth nibbles of any key below` (an odd
//! depth keeps the high nibble of its last byte). Values:
//!
//! ```text
//! internal  00 | existence bitmap u16be | leaf bitmap u16be | (child version u64be | hash 32)*
//! leaf      01 | key 32 | value hash 32 | account blob
//! null      02
//! ```
//!
//! An internal node hashes as the 4-level binary reduction of its 16 slots (the *heap*:
//! slot 1 is the root, slot `j` has children `2j` and `2j+1`, slot `16 + nibble` is a
//! child) where an empty half is the placeholder and a half holding one leaf is that leaf.

use std::sync::OnceLock;

use crate::hashing::HashValue;

use super::salts::{hash_pair, leaf_hash, salts, SPARSE_MERKLE_PLACEHOLDER};
use super::{TreeError, TreeResult};

pub const NODE_TABLE: u8 = b'N';
const INTERNAL: u8 = 0;
const LEAF: u8 = 1;
const NULL: u8 = 2;
pub const NULL_NODE: [u8; 1] = [NULL];
const MAX_KEY: usize = 42;

/// The storage key of a node; zero beyond `len`, so the derived equality holds.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NodeKey {
    len: u8,
    bytes: [u8; MAX_KEY],
}

/// Mixes the words of a short key (FxHash's step, then a final avalanche): node keys are
/// hashed several times per node written, and their bytes after the version are already
/// uniform (nibbles of SHA3 outputs), so a SipHash pass over 43 bytes buys nothing.
fn mix_words(len: u8, bytes: &[u8; MAX_KEY]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut hash = u64::from(len);
    for chunk in bytes.chunks(8) {
        let mut word = [0u8; 8];
        word[..chunk.len()].copy_from_slice(chunk);
        hash = (hash.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    hash ^= hash >> 32;
    hash.wrapping_mul(K) ^ (hash >> 29)
}

impl std::hash::Hash for NodeKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(mix_words(self.len, &self.bytes));
    }
}

/// A hasher that passes on the one word [`NodeKey`] writes.
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 ^= value;
    }
}

pub type BuildKeyHasher = std::hash::BuildHasherDefault<KeyHasher>;

/// A map keyed by node keys.
pub type NodeMap<V> = std::collections::HashMap<NodeKey, V, BuildKeyHasher>;

/// A key of the store (every key a block writes is at most 42 bytes), kept inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct StoreKey {
    len: u8,
    bytes: [u8; MAX_KEY],
}

impl StoreKey {
    /// `table ‖ parts…`; None if longer than 42 bytes.
    pub fn from_parts(table: u8, parts: &[&[u8]]) -> Option<StoreKey> {
        let mut bytes = [0u8; MAX_KEY];
        bytes[0] = table;
        let mut len = 1;
        for part in parts {
            bytes.get_mut(len..len + part.len())?.copy_from_slice(part);
            len += part.len();
        }
        Some(StoreKey {
            len: len as u8,
            bytes,
        })
    }

    pub fn from_bytes(data: &[u8]) -> Option<StoreKey> {
        let mut bytes = [0u8; MAX_KEY];
        bytes.get_mut(..data.len())?.copy_from_slice(data);
        Some(StoreKey {
            len: data.len() as u8,
            bytes,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }
}

impl From<NodeKey> for StoreKey {
    fn from(key: NodeKey) -> StoreKey {
        StoreKey {
            len: key.len,
            bytes: key.bytes,
        }
    }
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "StoreKey({hex})")
    }
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hex: String = self.as_bytes().iter().map(|b| format!("{b:02x}")).collect();
        write!(f, "NodeKey({hex})")
    }
}

impl NodeKey {
    /// The key of the node at `depth` nibbles on the path of `key`, written at `version`.
    pub fn new(version: u64, key: &HashValue, depth: usize) -> NodeKey {
        debug_assert!(depth <= 64);
        let mut bytes = [0u8; MAX_KEY];
        bytes[0] = NODE_TABLE;
        bytes[1..9].copy_from_slice(&version.to_be_bytes());
        bytes[9] = depth as u8;
        let half = depth >> 1;
        bytes[10..10 + half].copy_from_slice(&key[..half]);
        let mut len = 10 + half;
        if depth & 1 == 1 {
            bytes[len] = key[half] & 0xF0;
            len += 1;
        }
        NodeKey {
            len: len as u8,
            bytes,
        }
    }

    /// A key read back from the store (None if it is not a node key's length).
    pub fn from_bytes(data: &[u8]) -> Option<NodeKey> {
        if data.len() < 10 || data.len() > MAX_KEY {
            return None;
        }
        let mut bytes = [0u8; MAX_KEY];
        bytes[..data.len()].copy_from_slice(data);
        Some(NodeKey {
            len: data.len() as u8,
            bytes,
        })
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The version the node was written at.
    pub fn version(&self) -> u64 {
        u64::from_be_bytes(self.bytes[1..9].try_into().expect("8 bytes"))
    }

    /// The same position in the tree of another version.
    pub fn with_version(&self, version: u64) -> NodeKey {
        let mut key = *self;
        key.bytes[1..9].copy_from_slice(&version.to_be_bytes());
        key
    }
}

/// Nibble `depth` of `key` (high nibble first).
pub fn nibble(key: &HashValue, depth: usize) -> usize {
    let byte = key[depth >> 1];
    if depth & 1 == 1 {
        (byte & 0x0F) as usize
    } else {
        (byte >> 4) as usize
    }
}

/// `key` with nibble `depth` replaced by `value` (to address a child off the key's path).
pub fn with_nibble(key: &HashValue, depth: usize, value: usize) -> HashValue {
    let mut out = *key;
    let byte = out[depth >> 1];
    out[depth >> 1] = if depth & 1 == 1 {
        (byte & 0xF0) | value as u8
    } else {
        (byte & 0x0F) | ((value as u8) << 4)
    };
    out
}

/// What an internal node records of a child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    pub version: u64,
    pub hash: HashValue,
    pub leaf: bool,
}

/// A binary subtree inside a node: its hash, and whether it is a lone leaf (which floats up).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    pub hash: HashValue,
    pub leaf: bool,
}

pub type Children = [Option<Child>; 16];

/// The 15 binary slots above a node's children (slot 0 unused; the children are slots 16..32).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Heap {
    hashes: [HashValue; 16],
    present: u16,
    leaf: u16,
}

impl Heap {
    const EMPTY: Heap = Heap {
        hashes: [[0; 32]; 16],
        present: 0,
        leaf: 0,
    };

    fn get(&self, slot: usize) -> Option<Slot> {
        (self.present >> slot & 1 == 1).then(|| Slot {
            hash: self.hashes[slot],
            leaf: self.leaf >> slot & 1 == 1,
        })
    }

    fn set(&mut self, slot: usize, value: Option<Slot>) {
        let bit = 1u16 << slot;
        match value {
            Some(value) => {
                self.hashes[slot] = value.hash;
                self.present |= bit;
                if value.leaf {
                    self.leaf |= bit;
                } else {
                    self.leaf &= !bit;
                }
            }
            None => {
                self.hashes[slot] = [0; 32]; // so that equal heaps compare equal
                self.present &= !bit;
                self.leaf &= !bit;
            }
        }
    }

    /// Recomputes the slots above the children whose bit is set in `changed`, bottom up.
    fn recompute(&mut self, children: &Children, changed: u16) {
        let mut dirty = 0u16;
        for index in 0..16 {
            if changed >> index & 1 == 1 {
                dirty |= 1 << ((16 + index) >> 1);
            }
        }
        for slot in (1..16).rev() {
            if dirty >> slot & 1 == 1 {
                let value = combine(
                    slot_of(self, children, 2 * slot),
                    slot_of(self, children, 2 * slot + 1),
                );
                self.set(slot, value);
                dirty |= 1 << (slot >> 1);
            }
        }
    }
}

/// Slot `slot` of a node (1 is its root, 16 + nibble a child).
fn slot_of(heap: &Heap, children: &Children, slot: usize) -> Option<Slot> {
    if slot >= 16 {
        children[slot - 16].map(|c| Slot {
            hash: c.hash,
            leaf: c.leaf,
        })
    } else {
        heap.get(slot)
    }
}

/// An internal node: its children and, once computed, its hash heap.
#[derive(Debug)]
pub struct InternalNode {
    pub children: Children,
    heap: OnceLock<Box<Heap>>,
}

impl InternalNode {
    pub fn new(children: Children) -> InternalNode {
        InternalNode {
            children,
            heap: OnceLock::new(),
        }
    }

    /// A node whose heap is computed from scratch.
    pub fn hashed(children: Children) -> InternalNode {
        let mut heap = Box::new(Heap::EMPTY);
        heap.recompute(&children, u16::MAX);
        InternalNode::with_heap(children, heap)
    }

    /// `base` with the children at the nibbles set in `changed` replaced: only the slots
    /// above them are recomputed (the same values as from scratch).
    pub fn updated(base: &InternalNode, children: Children, changed: u16) -> InternalNode {
        let mut heap = Box::new(base.heap().clone());
        heap.recompute(&children, changed);
        InternalNode::with_heap(children, heap)
    }

    fn with_heap(children: Children, heap: Box<Heap>) -> InternalNode {
        let cell = OnceLock::new();
        let _ = cell.set(heap);
        InternalNode {
            children,
            heap: cell,
        }
    }

    fn heap(&self) -> &Heap {
        self.heap.get_or_init(|| {
            let mut heap = Box::new(Heap::EMPTY);
            heap.recompute(&self.children, u16::MAX);
            heap
        })
    }

    /// Slot `slot` of the heap (1 is the root, 16 + nibble a child).
    pub fn slot(&self, slot: usize) -> Option<Slot> {
        slot_of(self.heap(), &self.children, slot)
    }

    pub fn hash(&self) -> HashValue {
        self.heap()
            .get(1)
            .map_or(SPARSE_MERKLE_PLACEHOLDER, |slot| slot.hash)
    }

    pub fn count(&self) -> usize {
        self.children.iter().filter(|c| c.is_some()).count()
    }
    /// `encode_internal`: header, then (version, hash) per child in nibble order.
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        let mut existence = 0u16;
        let mut leaves = 0u16;
        for (index, child) in self.children.iter().enumerate() {
            if let Some(child) = child {
                existence |= 1 << index;
                if child.leaf {
                    leaves |= 1 << index;
                }
            }
        }
        out.push(INTERNAL);
        out.extend_from_slice(&existence.to_be_bytes());
        out.extend_from_slice(&leaves.to_be_bytes());
        for child in self.children.iter().flatten() {
            out.extend_from_slice(&child.version.to_be_bytes());
            out.extend_from_slice(&child.hash);
        }
    }
}

/// A leaf node: its stored bytes `01 | key | value hash | blob`.
#[derive(Debug, Clone)]
pub struct LeafNode {
    raw: Vec<u8>,
}

impl LeafNode {
    /// A leaf from its encoding (at least 65 bytes: checked by the callers).
    pub fn from_raw(raw: Vec<u8>) -> LeafNode {
        debug_assert!(raw.len() >= 65 && raw[0] == LEAF);
        LeafNode { raw }
    }

    /// `encode_leaf`.
    pub fn encode(key: &HashValue, value_hash: &HashValue, blob: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(65 + blob.len());
        out.push(LEAF);
        out.extend_from_slice(key);
        out.extend_from_slice(value_hash);
        out.extend_from_slice(blob);
        out
    }

    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    pub fn key(&self) -> HashValue {
        self.raw[1..33].try_into().expect("32 bytes")
    }

    pub fn value_hash(&self) -> HashValue {
        self.raw[33..65].try_into().expect("32 bytes")
    }

    pub fn blob(&self) -> &[u8] {
        &self.raw[65..]
    }

    pub fn hash(&self) -> HashValue {
        leaf_hash(&self.key(), &self.value_hash())
    }
}

/// A decoded node.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // nodes live behind an `Arc`: a box would be one more allocation per node
pub enum Node {
    Null,
    Leaf(LeafNode),
    Internal(InternalNode),
}

impl Node {
    /// `node_hash`.
    pub fn hash(&self) -> HashValue {
        match self {
            Node::Null => SPARSE_MERKLE_PLACEHOLDER,
            Node::Leaf(leaf) => leaf.hash(),
            Node::Internal(internal) => internal.hash(),
        }
    }

    /// `encode_node`: the canonical encoding (what the Python store writes for a copy).
    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Node::Null => out.extend_from_slice(&NULL_NODE),
            Node::Leaf(leaf) => out.extend_from_slice(&leaf.raw),
            Node::Internal(internal) => internal.encode_into(out),
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(&mut out);
        out
    }

    pub fn is_leaf(&self) -> bool {
        matches!(self, Node::Leaf(_))
    }
}

/// `decode_node`, with the Python store's errors for what it refuses.
pub fn decode(data: &[u8]) -> TreeResult<Node> {
    let Some(&kind) = data.first() else {
        return Err(TreeError::Corrupt("corrupt state tree node (empty)".into()));
    };
    match kind {
        LEAF => {
            if data.len() < 65 {
                return Err(TreeError::Corrupt(
                    "corrupt state tree node (short leaf)".into(),
                ));
            }
            Ok(Node::Leaf(LeafNode { raw: data.to_vec() }))
        }
        NULL => Ok(Node::Null),
        INTERNAL => {
            if data.len() < 5 {
                return Err(TreeError::Corrupt(
                    "corrupt state tree node (length)".into(),
                ));
            }
            let existence = u16::from_be_bytes([data[1], data[2]]);
            let leaves = u16::from_be_bytes([data[3], data[4]]);
            if data.len() != 5 + 40 * existence.count_ones() as usize {
                return Err(TreeError::Corrupt(
                    "corrupt state tree node (length)".into(),
                ));
            }
            let mut children: Children = [None; 16];
            let mut position = 5;
            for (index, slot) in children.iter_mut().enumerate() {
                if existence >> index & 1 == 1 {
                    let version = u64::from_be_bytes(
                        data[position..position + 8].try_into().expect("8 bytes"),
                    );
                    let hash: HashValue = data[position + 8..position + 40]
                        .try_into()
                        .expect("32 bytes");
                    *slot = Some(Child {
                        version,
                        hash,
                        leaf: leaves >> index & 1 == 1,
                    });
                    position += 40;
                }
            }
            Ok(Node::Internal(InternalNode::new(children)))
        }
        other => Err(TreeError::Corrupt(format!(
            "corrupt state tree node (kind {other})"
        ))),
    }
}

/// A binary slot from its two halves: empty, a lone leaf floating up, or a hash.
fn combine(left: Option<Slot>, right: Option<Slot>) -> Option<Slot> {
    let internal = &salts().sparse_merkle_internal;
    match (left, right) {
        (None, None) => None,
        (None, Some(right)) if right.leaf => Some(right),
        (None, Some(right)) => Some(Slot {
            hash: hash_pair(internal, &SPARSE_MERKLE_PLACEHOLDER, &right.hash),
            leaf: false,
        }),
        (Some(left), None) if left.leaf => Some(left),
        (Some(left), None) => Some(Slot {
            hash: hash_pair(internal, &left.hash, &SPARSE_MERKLE_PLACEHOLDER),
            leaf: false,
        }),
        (Some(left), Some(right)) => Some(Slot {
            hash: hash_pair(internal, &left.hash, &right.hash),
            leaf: false,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(version: u64, byte: u8, leaf: bool) -> Option<Child> {
        Some(Child {
            version,
            hash: [byte; 32],
            leaf,
        })
    }

    #[test]
    fn node_keys_keep_the_nibbles_of_the_depth() {
        let key = [0xAB; 32];
        assert_eq!(
            NodeKey::new(7, &key, 0).as_bytes(),
            &[b'N', 0, 0, 0, 0, 0, 0, 0, 7, 0]
        );
        assert_eq!(NodeKey::new(7, &key, 1).as_bytes()[9..], [1, 0xA0]);
        assert_eq!(NodeKey::new(7, &key, 2).as_bytes()[9..], [2, 0xAB]);
        assert_eq!(NodeKey::new(7, &key, 64).as_bytes().len(), 42);
        assert_eq!(NodeKey::new(7, &key, 3).with_version(9).version(), 9);
    }

    #[test]
    fn internal_nodes_round_trip() {
        let mut children: Children = [None; 16];
        children[2] = child(5, 1, true);
        children[9] = child(6, 2, false);
        let encoded = Node::Internal(InternalNode::new(children)).encode();
        assert_eq!(encoded.len(), 5 + 80);
        assert_eq!(&encoded[..5], &[0, 0x02, 0x04, 0x00, 0x04]);
        let Node::Internal(decoded) = decode(&encoded).unwrap() else {
            panic!("not internal")
        };
        assert_eq!(decoded.children, children);
    }

    #[test]
    fn a_lone_leaf_floats_to_the_root_of_its_node() {
        let mut children: Children = [None; 16];
        children[3] = child(1, 7, true);
        assert_eq!(InternalNode::new(children).hash(), [7; 32]);
        children[3] = child(1, 7, false);
        assert_ne!(InternalNode::new(children).hash(), [7; 32]);
    }

    #[test]
    fn incremental_heaps_equal_full_heaps() {
        let mut children: Children = [None; 16];
        for index in [0, 3, 4, 11, 15] {
            children[index] = child(index as u64, index as u8, index % 2 == 0);
        }
        let base = InternalNode::hashed(children);
        children[3] = None;
        children[11] = child(20, 99, true);
        children[6] = child(21, 98, false);
        let changed = 1 << 3 | 1 << 11 | 1 << 6;
        let updated = InternalNode::updated(&base, children, changed);
        assert_eq!(updated.heap(), InternalNode::hashed(children).heap());
        assert_eq!(updated.heap(), InternalNode::new(children).heap());
        assert_ne!(updated.hash(), base.hash());
    }

    #[test]
    fn corrupt_nodes_are_refused_with_the_python_messages() {
        assert_eq!(
            decode(&[7]).unwrap_err().to_string(),
            "corrupt state tree node (kind 7)"
        );
        assert_eq!(
            decode(&[0, 0, 1, 0, 0]).unwrap_err().to_string(),
            "corrupt state tree node (length)"
        );
        assert!(matches!(decode(&[2]).unwrap(), Node::Null));
    }
}
