//! Where a block's tree update reads nodes, nearest first:
//!
//! 1. its own nodes (the writer's overlay, see [`super::tree`]);
//! 2. `pinned`: the base-tree nodes on the paths of every key the block changes, read
//!    before the work starts ([`BlockSource::prefetch`], one batched store read per tree
//!    level for what the cache lacks) and held for the block, so a concurrent reader's
//!    cache traffic cannot evict them;
//! 3. the nodes of its uncommitted ancestors, nearest first (each the last version's tree
//!    of that block, as `PreparedBlock.nodes`);
//! 4. the shared cache of committed nodes, then the store, one node at a time (only nodes
//!    off the changed paths get here: the lone sibling that moves up after a deletion).

use std::sync::Arc;

use crate::hashing::HashValue;

use super::cache::NodeCache;
use super::node::{decode, nibble, Node, NodeKey, NodeMap};
use super::{TreeError, TreeResult};

/// The nodes a block leaves (its last version's tree), keyed by node key.
pub type Overlay = NodeMap<Arc<Node>>;

/// Reads stored values; `Err(TreeError::Fetch)` when the store fails (the implementation
/// keeps the reason for its caller).
pub trait Fetch {
    fn fetch(&self, keys: &[NodeKey]) -> TreeResult<Vec<Option<Vec<u8>>>>;
}

/// Reads one node of a tree.
pub trait NodeSource {
    fn read(&self, key: &NodeKey) -> TreeResult<Arc<Node>>;
}

/// Committed nodes: the cache, then the store (decoded nodes are cached).
pub struct Committed<'a, F: Fetch> {
    pub cache: &'a NodeCache,
    pub fetch: &'a F,
}

impl<F: Fetch> Committed<'_, F> {
    /// `keys` missing from the cache, read in one batch and cached; nodes the store lacks
    /// are left out (the read that needs them reports them).
    fn load(&self, keys: &[NodeKey]) -> TreeResult<Vec<Option<Arc<Node>>>> {
        let values = self.fetch.fetch(keys)?;
        let mut nodes = Vec::with_capacity(keys.len());
        for (key, value) in keys.iter().zip(values) {
            match value {
                None => nodes.push(None),
                Some(data) => {
                    let node = Arc::new(decode(&data)?);
                    self.cache.insert(*key, node.clone());
                    nodes.push(Some(node));
                }
            }
        }
        Ok(nodes)
    }
}

impl<F: Fetch> NodeSource for Committed<'_, F> {
    fn read(&self, key: &NodeKey) -> TreeResult<Arc<Node>> {
        if let Some(node) = self.cache.get(key) {
            return Ok(node);
        }
        self.load(std::slice::from_ref(key))?
            .pop()
            .flatten()
            .ok_or(TreeError::Missing(*key))
    }
}

/// The speculative state a block is computed on.
pub struct BlockSource<'a, F: Fetch> {
    pinned: NodeMap<Arc<Node>>,
    ancestors: &'a [Arc<Overlay>],
    committed: Committed<'a, F>,
}

impl<'a, F: Fetch> BlockSource<'a, F> {
    pub fn new(
        ancestors: &'a [Arc<Overlay>],
        cache: &'a NodeCache,
        fetch: &'a F,
    ) -> BlockSource<'a, F> {
        BlockSource {
            pinned: NodeMap::default(),
            ancestors,
            committed: Committed { cache, fetch },
        }
    }

    fn speculative(&self, key: &NodeKey) -> Option<Arc<Node>> {
        self.ancestors
            .iter()
            .find_map(|overlay| overlay.get(key).cloned())
    }

    /// Pins the nodes of the tree at `base_version` on the paths of `keys` (sorted,
    /// distinct), level by level, reading what the cache lacks in one batch per level.
    pub fn prefetch(&mut self, base_version: u64, keys: &[HashValue]) -> TreeResult<()> {
        if keys.is_empty() {
            return Ok(());
        }
        // (node key, depth, the range of `keys` whose path goes through it)
        let mut level = vec![(
            NodeKey::new(base_version, &[0; 32], 0),
            0usize,
            0..keys.len(),
        )];
        while !level.is_empty() {
            let mut unknown = Vec::new();
            for (key, _, _) in &level {
                if !self.pinned.contains_key(key) {
                    match self.speculative(key) {
                        Some(node) => {
                            self.pinned.insert(*key, node);
                        }
                        None => unknown.push(*key),
                    }
                }
            }
            if !unknown.is_empty() {
                let cached = self.committed.cache.get_many(&unknown);
                let mut missing = Vec::new();
                for (key, node) in unknown.iter().zip(cached) {
                    match node {
                        Some(node) => {
                            self.pinned.insert(*key, node);
                        }
                        None => missing.push(*key),
                    }
                }
                if !missing.is_empty() {
                    for (key, node) in missing.iter().zip(self.committed.load(&missing)?) {
                        if let Some(node) = node {
                            self.pinned.insert(*key, node);
                        }
                    }
                }
            }
            let mut next = Vec::new();
            for (key, depth, range) in level {
                let Some(node) = self.pinned.get(&key) else {
                    continue;
                };
                let Node::Internal(internal) = &**node else {
                    continue;
                };
                let mut start = range.start;
                while start < range.end {
                    let index = nibble(&keys[start], depth);
                    let mut end = start + 1;
                    while end < range.end && nibble(&keys[end], depth) == index {
                        end += 1;
                    }
                    if let Some(child) = internal.children[index] {
                        next.push((
                            NodeKey::new(child.version, &keys[start], depth + 1),
                            depth + 1,
                            start..end,
                        ));
                    }
                    start = end;
                }
            }
            level = next;
        }
        Ok(())
    }

    pub fn pinned(&self) -> usize {
        self.pinned.len()
    }
}

impl<F: Fetch> NodeSource for BlockSource<'_, F> {
    fn read(&self, key: &NodeKey) -> TreeResult<Arc<Node>> {
        if let Some(node) = self.pinned.get(key) {
            return Ok(node.clone());
        }
        if let Some(node) = self.speculative(key) {
            return Ok(node);
        }
        self.committed.read(key)
    }
}
