//! Reads of one version's tree (`get_blob`, `get_with_proof`, `root_hash` of `jellyfish.py`).

use crate::hashing::HashValue;

use super::node::{nibble, with_nibble, Child, InternalNode, Node, NodeKey};
use super::salts::SPARSE_MERKLE_PLACEHOLDER;
use super::source::NodeSource;
use super::{TreeError, TreeResult};

const ROOT_PATH: HashValue = [0; 32];

/// The root hash of `version`'s tree.
pub fn root_hash(source: &impl NodeSource, version: u64) -> TreeResult<HashValue> {
    Ok(source.read(&NodeKey::new(version, &ROOT_PATH, 0))?.hash())
}

/// The blob of `key` at `version` (no proof): follow the key's nibbles.
pub fn get_blob(
    source: &impl NodeSource,
    version: u64,
    key: &HashValue,
) -> TreeResult<Option<Vec<u8>>> {
    let mut current = NodeKey::new(version, key, 0);
    let mut depth = 0;
    loop {
        let node = source.read(&current)?;
        match &*node {
            Node::Null => return Ok(None),
            Node::Leaf(leaf) => return Ok((leaf.key() == *key).then(|| leaf.blob().to_vec())),
            Node::Internal(internal) => {
                let Some(child) = internal.children[nibble(key, depth)] else {
                    return Ok(None);
                };
                depth += 1;
                current = NodeKey::new(child.version, key, depth);
            }
        }
    }
}

/// A leaf met by a proof: (key, value hash, blob).
pub type ProvenLeaf = (HashValue, HashValue, Vec<u8>);

/// `(blob or None, leaf met or None, siblings bottom-up)`.
pub type Proof = (Option<Vec<u8>>, Option<ProvenLeaf>, Vec<HashValue>);

/// `(blob or None, leaf met or None, siblings bottom-up)` for `key` at `version`.
pub fn get_with_proof(
    source: &impl NodeSource,
    version: u64,
    key: &HashValue,
) -> TreeResult<Proof> {
    let mut siblings = Vec::new();
    let mut current = NodeKey::new(version, key, 0);
    let mut depth = 0;
    loop {
        let node = source.read(&current)?;
        let internal = match &*node {
            Node::Null => break,
            Node::Leaf(leaf) => {
                siblings.reverse();
                let blob = (leaf.key() == *key).then(|| leaf.blob().to_vec());
                return Ok((
                    blob,
                    Some((leaf.key(), leaf.value_hash(), leaf.blob().to_vec())),
                    siblings,
                ));
            }
            Node::Internal(internal) => internal,
        };
        let mut index = nibble(key, depth);
        let mut child: Option<Child> = None;
        for height in [3usize, 2, 1, 0] {
            let position = index >> height;
            let first = 16 >> height;
            let sibling = internal.slot(first + (position ^ 1));
            siblings.push(sibling.map_or(SPARSE_MERKLE_PLACEHOLDER, |s| s.hash));
            let Some(mine) = internal.slot(first + position) else {
                break;
            };
            if height == 0 || mine.leaf {
                let only = if height == 0 {
                    index
                } else {
                    only_child(internal, position, height)?
                };
                child = Some(internal.children[only].ok_or_else(|| {
                    TreeError::Corrupt("corrupt state tree node (lone leaf not found)".into())
                })?);
                index = only;
                break;
            }
        }
        let Some(child) = child else { break };
        depth += 1;
        let path = if index == nibble(key, depth - 1) {
            *key
        } else {
            with_nibble(key, depth - 1, index)
        };
        current = NodeKey::new(child.version, &path, depth);
    }
    siblings.reverse();
    Ok((None, None, siblings))
}

fn only_child(node: &InternalNode, position: usize, height: usize) -> TreeResult<usize> {
    let low = position << height;
    (low..low + (1 << height))
        .find(|&index| node.children[index].is_some())
        .ok_or_else(|| TreeError::Corrupt("corrupt state tree node (lone leaf not found)".into()))
}
