//! The shared cache of committed nodes: readers and the one writer use it from any thread.
//!
//! Internal nodes and leaves are kept apart (as `NodeReader` does) so that leaves, cheap
//! to miss, never push out internal nodes, whose miss re-hashes a whole heap. Each part is
//! two generations of at most half its size: a hit in the old one moves the node to the
//! new one; when the new one is full it becomes the old one (the old one is dropped).
//! That approximates an LRU with O(1) work and no list. What it holds never decides state:
//! a node key is written once with one value, and is never written again once pruned, so
//! pruned nodes are not dropped eagerly (no reader asks for them: reads of pruned versions
//! are refused first); they age out like any other.

use std::sync::{Arc, Mutex, MutexGuard};

use super::node::{Node, NodeKey, NodeMap};

struct Generations {
    young: NodeMap<Arc<Node>>,
    old: NodeMap<Arc<Node>>,
    half: usize,
}

impl Generations {
    fn new(capacity: usize) -> Generations {
        Generations {
            young: NodeMap::default(),
            old: NodeMap::default(),
            half: (capacity / 2).max(1),
        }
    }

    fn get(&mut self, key: &NodeKey) -> Option<Arc<Node>> {
        if let Some(node) = self.young.get(key) {
            return Some(node.clone());
        }
        let node = self.old.remove(key)?;
        self.insert(*key, node.clone());
        Some(node)
    }

    fn insert(&mut self, key: NodeKey, node: Arc<Node>) {
        self.young.insert(key, node);
        if self.young.len() >= self.half {
            self.old = std::mem::take(&mut self.young);
        }
    }

    fn len(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

/// Decoded committed nodes, behind one lock (held only for map operations, never while
/// calling out, so a thread holding it never waits for anything else).
pub struct NodeCache {
    parts: Mutex<(Generations, Generations)>,
}

impl NodeCache {
    pub fn new(internal_capacity: usize, leaf_capacity: usize) -> NodeCache {
        NodeCache {
            parts: Mutex::new((
                Generations::new(internal_capacity),
                Generations::new(leaf_capacity),
            )),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (Generations, Generations)> {
        // a panic while holding the lock leaves the maps consistent (each operation is one call)
        self.parts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn get(&self, key: &NodeKey) -> Option<Arc<Node>> {
        let mut parts = self.lock();
        if let Some(node) = parts.0.get(key) {
            return Some(node);
        }
        parts.1.get(key)
    }

    /// Looks up many keys under one lock; `found[i]` answers `keys[i]`.
    pub fn get_many(&self, keys: &[NodeKey]) -> Vec<Option<Arc<Node>>> {
        let mut parts = self.lock();
        keys.iter()
            .map(|key| parts.0.get(key).or_else(|| parts.1.get(key)))
            .collect()
    }

    pub fn insert(&self, key: NodeKey, node: Arc<Node>) {
        let mut parts = self.lock();
        Self::insert_locked(&mut parts, key, node);
    }

    fn insert_locked(parts: &mut (Generations, Generations), key: NodeKey, node: Arc<Node>) {
        if node.is_leaf() {
            parts.1.insert(key, node);
        } else {
            parts.0.insert(key, node);
        }
    }

    /// Caches nodes that are now in the store.
    pub fn publish<'a>(&self, nodes: impl IntoIterator<Item = (&'a NodeKey, &'a Arc<Node>)>) {
        let mut parts = self.lock();
        for (key, node) in nodes {
            Self::insert_locked(&mut parts, *key, node.clone());
        }
    }

    /// (internal nodes, leaves) held.
    pub fn len(&self) -> (usize, usize) {
        let parts = self.lock();
        (parts.0.len(), parts.1.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::node::{InternalNode, LeafNode};

    fn key(version: u64) -> NodeKey {
        NodeKey::new(version, &[0; 32], 0)
    }

    #[test]
    fn the_cache_stays_within_its_capacity_and_keeps_recent_nodes() {
        let cache = NodeCache::new(8, 4);
        for version in 0..100 {
            let node = Arc::new(Node::Internal(InternalNode::new([None; 16])));
            cache.insert(key(version), node);
            if version >= 3 {
                assert!(
                    cache.get(&key(3)).is_some(),
                    "a node read at every step stays"
                );
            }
        }
        let (internal, leaves) = cache.len();
        assert!(internal <= 8 && leaves == 0);
        assert!(cache.get(&key(99)).is_some());
        assert!(cache.get(&key(0)).is_none(), "a node never read again goes");
    }

    #[test]
    fn leaves_never_push_out_internal_nodes() {
        let cache = NodeCache::new(8, 2);
        cache.insert(
            key(1),
            Arc::new(Node::Internal(InternalNode::new([None; 16]))),
        );
        for version in 2..50 {
            let raw = LeafNode::encode(&[version as u8; 32], &[0; 32], b"");
            cache.insert(key(version), Arc::new(Node::Leaf(LeafNode::from_raw(raw))));
        }
        assert!(cache.get(&key(1)).is_some());
    }
}
