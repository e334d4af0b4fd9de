//! One version's state tree update: a port of `TreeUpdater` (`jellyfish.py`), call for call.
//!
//! The Python updater has a fast path for versions that only overwrite existing keys and
//! a general path; its tests hold them to the same output, so this port has the general
//! path only. The order of calls is the Python order, because the stale-index entry of a
//! version lists the nodes it replaces in the order they are met.
//!
//! New nodes go to `overlay`; at the end of each version the nodes it replaced leave it,
//! so the overlay ends up holding the last version's tree only, which is all a child block
//! reads. Leaves go to `puts` (the block's write batch) at once; internal and null nodes
//! only at [`TreeWriter::checkpoint`], the block's end, so an internal node that a later
//! version of the same block replaces is never written (nor listed as stale). Every leaf
//! of every version is on disk; whole trees only at block ends (the store's checkpoints,
//! see `libradb.py` for how a version in between is read).

use std::sync::Arc;

use crate::hashing::HashValue;

use super::node::{
    nibble, with_nibble, Child, Children, InternalNode, LeafNode, Node, NodeKey, StoreKey,
};
use super::puts::Puts;
use super::salts::{leaf_hash, salts, SPARSE_MERKLE_PLACEHOLDER};
use super::source::{NodeSource, Overlay};
use super::sponge::hash_with_seed;
use super::{TreeError, TreeResult};

const STALE_TABLE: u8 = b'S';
const ROOT_PATH: HashValue = [0; 32];

/// A leaf that ends up somewhere in the new tree, written once its depth is known (`_Pending`).
struct Pending {
    key: HashValue,
    /// The encoded leaf, or None to load it from `old` (a leaf that moves).
    value: Option<Vec<u8>>,
    old: Option<OldLeaf>,
    hash: HashValue,
}

#[derive(Clone, Copy)]
struct OldLeaf {
    key: NodeKey,
    version: u64,
    depth: usize,
}

/// What a subtree became: empty, a lone leaf still to place, or an internal node (written) with this hash.
enum Outcome {
    Empty,
    Leaf(Pending),
    Hash(HashValue),
}

enum Entry {
    Child(Child),
    Pending(Pending),
}

enum Change {
    Remove,
    Child(Child),
    Pending(Pending),
}

type Update = (HashValue, Option<Pending>);

/// Splits `items` (sorted by key) into runs sharing nibble `depth`: `(nibble, run)`.
fn groups<T>(items: Vec<T>, depth: usize, key: impl Fn(&T) -> &HashValue) -> Vec<(usize, Vec<T>)> {
    let mut out: Vec<(usize, Vec<T>)> = Vec::new();
    for item in items {
        let index = nibble(key(&item), depth);
        match out.last_mut() {
            Some((last, run)) if *last == index => run.push(item),
            _ => out.push((index, vec![item])),
        }
    }
    out
}

fn present(updates: Vec<Update>) -> Vec<Pending> {
    updates
        .into_iter()
        .filter_map(|(_, pending)| pending)
        .collect()
}

/// Applies versions one after the other on top of `source` (`TreeUpdater`).
pub struct TreeWriter<'s, S: NodeSource> {
    source: &'s S,
    pub overlay: Overlay,
    pub puts: Puts,
    version: u64,
    replaced: Vec<NodeKey>,
}

impl<'s, S: NodeSource> TreeWriter<'s, S> {
    pub fn new(source: &'s S) -> TreeWriter<'s, S> {
        TreeWriter {
            source,
            overlay: Overlay::default(),
            puts: Puts::default(),
            version: 0,
            replaced: Vec::new(),
        }
    }

    /// Writes version `version`'s tree (`changes`: state key -> blob, None deletes; keys
    /// distinct) on top of `base_version`'s and returns its root (`TreeUpdater.apply`).
    pub fn apply(
        &mut self,
        version: u64,
        base_version: Option<u64>,
        changes: Vec<(HashValue, Option<&[u8]>)>,
    ) -> TreeResult<HashValue> {
        self.version = version;
        let result = self.apply_version(base_version, changes);
        // A replaced node that this block wrote and that is not a leaf never reaches the
        // store, so it is not stale either; the others are listed in the order they were met.
        let mut stale = Vec::with_capacity(self.replaced.len());
        for key in self.replaced.drain(..) {
            match self.overlay.remove(&key) {
                Some(node) if !matches!(*node, Node::Leaf(_)) => {}
                _ => stale.push(key),
            }
        }
        if result.is_ok() && !stale.is_empty() {
            let key =
                StoreKey::from_parts(STALE_TABLE, &[&version.to_be_bytes()]).expect("a short key");
            self.puts.push_with(key, |out| {
                for node_key in &stale {
                    out.extend_from_slice(node_key.as_bytes());
                }
            });
        }
        result
    }

    /// The block's end (`TreeUpdater.checkpoint`): writes the internal and null nodes of
    /// the last version's tree that the block made, in key order.
    pub fn checkpoint(&mut self) {
        let mut keys: Vec<&NodeKey> = self
            .overlay
            .iter()
            .filter(|(_, node)| !matches!(***node, Node::Leaf(_)))
            .map(|(key, _)| key)
            .collect();
        keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for key in keys {
            let node = &self.overlay[key];
            self.puts
                .push_with((*key).into(), |out| node.encode_into(out));
        }
    }

    fn apply_version(
        &mut self,
        base_version: Option<u64>,
        mut changes: Vec<(HashValue, Option<&[u8]>)>,
    ) -> TreeResult<HashValue> {
        changes.sort_by_key(|change| change.0);
        let blob_salt = &salts().account_blob;
        let updates: Vec<Update> = changes
            .into_iter()
            .map(|(key, blob)| {
                let pending = blob.map(|blob| {
                    let value_hash = hash_with_seed(blob_salt, blob);
                    Pending {
                        key,
                        value: Some(LeafNode::encode(&key, &value_hash, blob)),
                        old: None,
                        hash: leaf_hash(&key, &value_hash),
                    }
                });
                (key, pending)
            })
            .collect();
        let result = match base_version {
            None => self.build(present(updates), 0)?,
            Some(base) if updates.is_empty() => return self.copy_root(base),
            Some(base) => {
                let root_key = NodeKey::new(base, &ROOT_PATH, 0);
                let root = self.read(&root_key)?;
                self.mark_stale(root_key);
                self.update(root_key, base, root, 0, updates)?
            }
        };
        self.write_root(result)
    }

    fn read(&self, key: &NodeKey) -> TreeResult<Arc<Node>> {
        match self.overlay.get(key) {
            Some(node) => Ok(node.clone()),
            None => self.source.read(key),
        }
    }

    /// Keeps `node` for later reads and, a leaf, writes it (its canonical encoding) under `key`.
    fn put(&mut self, key: NodeKey, node: Arc<Node>) {
        if matches!(*node, Node::Leaf(_)) {
            self.puts.push_with(key.into(), |out| node.encode_into(out));
        }
        self.overlay.insert(key, node);
    }

    fn mark_stale(&mut self, key: NodeKey) {
        self.replaced.push(key);
    }

    /// An unchanged state: the new version's root is a copy of the old one.
    fn copy_root(&mut self, base_version: u64) -> TreeResult<HashValue> {
        let old_key = NodeKey::new(base_version, &ROOT_PATH, 0);
        let root = self.read(&old_key)?;
        self.mark_stale(old_key);
        let hash = root.hash();
        self.put(NodeKey::new(self.version, &ROOT_PATH, 0), root);
        Ok(hash)
    }

    fn write_root(&mut self, result: Outcome) -> TreeResult<HashValue> {
        match result {
            Outcome::Empty => {
                let key = NodeKey::new(self.version, &ROOT_PATH, 0);
                self.put(key, Arc::new(Node::Null));
                Ok(SPARSE_MERKLE_PLACEHOLDER)
            }
            Outcome::Leaf(pending) => {
                let hash = pending.hash;
                self.place(pending, 0)?;
                Ok(hash)
            }
            Outcome::Hash(hash) => Ok(hash),
        }
    }

    /// Writes `leaf` at `depth` on its path unless it already sits there (below the root).
    fn place(&mut self, leaf: Pending, depth: usize) -> TreeResult<Child> {
        if let Some(old) = leaf.old {
            if old.depth == depth && depth > 0 {
                return Ok(Child {
                    version: old.version,
                    hash: leaf.hash,
                    leaf: true,
                });
            }
        }
        let value = match (leaf.value, leaf.old) {
            (Some(value), _) => value,
            (None, Some(old)) => self.load_leaf_value(&old.key)?,
            (None, None) => unreachable!("a pending leaf has a value or an old position"),
        };
        if let Some(old) = leaf.old {
            if old.key.version() != self.version {
                self.mark_stale(old.key);
            }
        }
        let key = NodeKey::new(self.version, &leaf.key, depth);
        self.put(key, Arc::new(Node::Leaf(LeafNode::from_raw(value))));
        Ok(Child {
            version: self.version,
            hash: leaf.hash,
            leaf: true,
        })
    }

    fn load_leaf_value(&self, key: &NodeKey) -> TreeResult<Vec<u8>> {
        match &*self.read(key)? {
            Node::Leaf(leaf) => Ok(leaf.raw().to_vec()),
            _ => Err(TreeError::Corrupt(
                "corrupt state tree: expected a leaf".into(),
            )),
        }
    }

    fn write_node(&mut self, key: NodeKey, node: InternalNode) -> HashValue {
        let hash = node.hash();
        self.put(key, Arc::new(Node::Internal(node)));
        hash
    }

    /// An internal node of fresh children (`_write_internal`), children placed in the given order.
    fn write_internal(
        &mut self,
        children: Vec<(usize, Entry)>,
        path_key: &HashValue,
        depth: usize,
    ) -> TreeResult<HashValue> {
        let mut placed: Children = [None; 16];
        for (index, entry) in children {
            placed[index] = Some(match entry {
                Entry::Pending(pending) => self.place(pending, depth + 1)?,
                Entry::Child(child) => child,
            });
        }
        let key = NodeKey::new(self.version, path_key, depth);
        Ok(self.write_node(key, InternalNode::hashed(placed)))
    }

    /// `base` (stored at `base_key`) with `changes` applied; at least two children remain.
    fn write_updated(
        &mut self,
        base: &InternalNode,
        base_key: &NodeKey,
        depth: usize,
        changes: Vec<(usize, Change)>,
    ) -> TreeResult<HashValue> {
        let mut placed = base.children;
        let mut changed = 0u16;
        for (index, change) in changes {
            changed |= 1 << index;
            placed[index] = match change {
                Change::Remove => None,
                Change::Pending(pending) => Some(self.place(pending, depth + 1)?),
                Change::Child(child) => Some(child),
            };
        }
        Ok(self.write_node(
            base_key.with_version(self.version),
            InternalNode::updated(base, placed, changed),
        ))
    }

    /// A fresh subtree holding exactly `items` (sorted, all below the same `depth` prefix).
    fn build(&mut self, mut items: Vec<Pending>, depth: usize) -> TreeResult<Outcome> {
        if items.is_empty() {
            return Ok(Outcome::Empty);
        }
        if items.len() == 1 {
            return Ok(Outcome::Leaf(items.pop().expect("one item")));
        }
        if depth >= 64 {
            return Err(TreeError::DuplicateKeys);
        }
        let path = items[0].key;
        let mut children = Vec::new();
        for (index, group) in groups(items, depth, |p| &p.key) {
            let entry = match self.build(group, depth + 1)? {
                Outcome::Leaf(pending) => Entry::Pending(pending),
                Outcome::Hash(hash) => Entry::Child(Child {
                    version: self.version,
                    hash,
                    leaf: false,
                }),
                Outcome::Empty => unreachable!("a non-empty group builds a non-empty subtree"),
            };
            children.push((index, entry));
        }
        self.write_internal(children, &path, depth)
            .map(Outcome::Hash)
    }

    /// The new subtree for the existing `node` (stored at `key`) after `updates`.
    fn update(
        &mut self,
        key: NodeKey,
        version: u64,
        node: Arc<Node>,
        depth: usize,
        updates: Vec<Update>,
    ) -> TreeResult<Outcome> {
        let internal = match &*node {
            Node::Null => return self.build(present(updates), depth),
            Node::Leaf(leaf) => return self.update_leaf(key, version, leaf, depth, updates),
            Node::Internal(internal) => internal,
        };
        if updates.is_empty() {
            return Ok(Outcome::Empty);
        }
        let path = updates[0].0;
        let mut changes = Vec::new();
        let mut size = internal.count() as isize;
        for (index, group) in groups(updates, depth, |u| &u.0) {
            let result = match internal.children[index] {
                None => {
                    let result = self.build(present(group), depth + 1)?;
                    if !matches!(result, Outcome::Empty) {
                        size += 1;
                    }
                    result
                }
                Some(existing) => {
                    let child_key = NodeKey::new(existing.version, &group[0].0, depth + 1);
                    let child = self.read(&child_key)?;
                    if !existing.leaf {
                        self.mark_stale(child_key);
                    }
                    let result =
                        self.update(child_key, existing.version, child, depth + 1, group)?;
                    if matches!(result, Outcome::Empty) {
                        size -= 1;
                    }
                    result
                }
            };
            changes.push((
                index,
                match result {
                    Outcome::Hash(hash) => Change::Child(Child {
                        version: self.version,
                        hash,
                        leaf: false,
                    }),
                    Outcome::Leaf(pending) => Change::Pending(pending),
                    Outcome::Empty => Change::Remove,
                },
            ));
        }
        if size >= 2 {
            return self
                .write_updated(internal, &key, depth, changes)
                .map(Outcome::Hash);
        }
        // at most one child is left: it collapses into its parent, or stays as a lone internal child
        let mut children: Vec<(usize, Entry)> = internal
            .children
            .iter()
            .enumerate()
            .filter_map(|(index, child)| child.map(|child| (index, Entry::Child(child))))
            .collect();
        for (index, change) in changes {
            let position = children.iter().position(|(at, _)| *at == index);
            let entry = match change {
                Change::Remove => {
                    if let Some(position) = position {
                        children.remove(position);
                    }
                    continue;
                }
                Change::Child(child) => Entry::Child(child),
                Change::Pending(pending) => Entry::Pending(pending),
            };
            match position {
                Some(position) => children[position].1 = entry,
                None => children.push((index, entry)),
            }
        }
        self.collapse_or_write(children, &path, depth)
    }

    fn update_leaf(
        &mut self,
        key: NodeKey,
        version: u64,
        leaf: &LeafNode,
        depth: usize,
        updates: Vec<Update>,
    ) -> TreeResult<Outcome> {
        let existing_key = leaf.key();
        let items = if updates.iter().any(|(k, _)| *k == existing_key) {
            if depth > 0 {
                self.mark_stale(key);
            }
            present(updates)
        } else {
            let moved = Pending {
                key: existing_key,
                value: None,
                old: Some(OldLeaf {
                    key,
                    version,
                    depth,
                }),
                hash: leaf_hash(&existing_key, &leaf.value_hash()),
            };
            let mut items = present(updates);
            items.push(moved);
            items.sort_by_key(|item| item.key);
            items
        };
        self.build(items, depth)
    }

    fn collapse_or_write(
        &mut self,
        mut children: Vec<(usize, Entry)>,
        path_key: &HashValue,
        depth: usize,
    ) -> TreeResult<Outcome> {
        if children.is_empty() {
            return Ok(Outcome::Empty);
        }
        if children.len() == 1 {
            match children.pop().expect("one child") {
                (_, Entry::Pending(pending)) => return Ok(Outcome::Leaf(pending)),
                (index, Entry::Child(child)) if child.leaf => {
                    let leaf_key = NodeKey::new(
                        child.version,
                        &with_nibble(path_key, depth, index),
                        depth + 1,
                    );
                    let Node::Leaf(leaf) = &*self.read(&leaf_key)? else {
                        return Err(TreeError::Corrupt(
                            "corrupt state tree: expected a leaf".into(),
                        ));
                    };
                    return Ok(Outcome::Leaf(Pending {
                        key: leaf.key(),
                        value: None,
                        old: Some(OldLeaf {
                            key: leaf_key,
                            version: child.version,
                            depth: depth + 1,
                        }),
                        hash: child.hash,
                    }));
                }
                only => children.push(only),
            }
        }
        self.write_internal(children, path_key, depth)
            .map(Outcome::Hash)
    }
}
