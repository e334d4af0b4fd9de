//! Bindings of `libra_engine::storage`: the state tree, accumulator and per-version hashing
//! of a whole block in one call, and the committed-node cache the store's readers share.
//!
//! `StateTree` belongs to one `LibraDB`. `prepare_block` reads the `TransactionToCommit`
//! objects (holding the GIL), pins the base-tree nodes on the block's paths (one batched
//! store read per tree level for what the cache lacks), then computes the block with the
//! GIL released; a node it still lacks (the sibling a deletion moves up) is read with the
//! GIL taken back for that read. Input the native side does not take as is (a wrong length,
//! a type other than the one the store is given in practice) makes it answer None: the
//! Python store then runs and raises its own error.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use libra_engine::hashing::HashValue;
use libra_engine::storage::accumulator::{leaves_of, Frozen};
use libra_engine::storage::block::{write_block, EventInput, VersionInput};
use libra_engine::storage::cache::NodeCache;
use libra_engine::storage::node::{decode, NodeKey, StoreKey};
use libra_engine::storage::puts::Puts;
use libra_engine::storage::reads;
use libra_engine::storage::salts::account_key;
use libra_engine::storage::source::{BlockSource, Committed, Fetch, Overlay};
use libra_engine::storage::{TreeError, TreeResult};
use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::pybacked::PyBackedBytes;
use pyo3::types::{PyBytes, PyDict, PyInt, PyList, PyTuple, PyType};

use crate::guarded;

const ADDRESS_KEYS_KEPT: usize = 1 << 16;

/// Store reads through the Python store's `get` (one key) and `multi_get`; a failure
/// keeps the exception.
struct PyFetch<'a> {
    store: &'a StoreReads,
    failure: Mutex<Option<PyErr>>,
}

/// The Python store's read methods.
struct StoreReads {
    get: Py<PyAny>,
    multi_get: Py<PyAny>,
}

fn value_bytes(value: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    if value.is_none() {
        return Ok(None);
    }
    Ok(Some(value.cast::<PyBytes>()?.as_bytes().to_vec()))
}

impl<'a> PyFetch<'a> {
    fn new(store: &'a StoreReads) -> PyFetch<'a> {
        PyFetch {
            store,
            failure: Mutex::new(None),
        }
    }

    fn read(&self, py: Python<'_>, keys: &[NodeKey]) -> PyResult<Vec<Option<Vec<u8>>>> {
        if let [key] = keys {
            let value = self
                .store
                .get
                .bind(py)
                .call1((PyBytes::new(py, key.as_bytes()),))?;
            return Ok(vec![value_bytes(&value)?]);
        }
        let list = PyList::new(py, keys.iter().map(|key| PyBytes::new(py, key.as_bytes())))?;
        let values = self.store.multi_get.bind(py).call1((list,))?;
        let mut out = Vec::with_capacity(keys.len());
        for value in values.try_iter()? {
            out.push(value_bytes(&value?)?);
        }
        if out.len() != keys.len() {
            return Err(PyValueError::new_err(
                "multi_get answered another number of values",
            ));
        }
        Ok(out)
    }

    /// The Python exception for `error`: the store's own, or its `StorageError`.
    fn error(&self, py: Python<'_>, error: TreeError) -> PyErr {
        if error == TreeError::Fetch {
            if let Some(failure) = self
                .failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
            {
                return failure;
            }
        }
        storage_error(py, error.to_string())
    }
}

impl Fetch for PyFetch<'_> {
    fn fetch(&self, keys: &[NodeKey]) -> TreeResult<Vec<Option<Vec<u8>>>> {
        Python::attach(|py| self.read(py, keys)).map_err(|failure| {
            *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(failure);
            TreeError::Fetch
        })
    }
}

fn storage_error(py: Python<'_>, message: String) -> PyErr {
    let class = py
        .import(intern!(py, "libra.storage.errors"))
        .and_then(|module| module.getattr(intern!(py, "StorageError")))
        .and_then(|class| class.cast_into::<PyType>().map_err(PyErr::from));
    match class {
        Ok(class) => PyErr::from_type(class, message),
        Err(err) => err,
    }
}

/// The nodes a prepared block leaves (its last version's tree): `PreparedBlock.nodes`.
#[pyclass(frozen, module = "libra._core")]
pub struct BlockNodes {
    nodes: Arc<Overlay>,
}

#[pymethods]
impl BlockNodes {
    /// Nodes from their encodings (a block the Python store prepared).
    #[staticmethod]
    fn from_encoded(entries: Vec<(PyBackedBytes, PyBackedBytes)>) -> PyResult<BlockNodes> {
        guarded(|| {
            let mut nodes = Overlay::default();
            for (key, value) in entries {
                let key = NodeKey::from_bytes(&key)
                    .ok_or_else(|| PyValueError::new_err("not a node key"))?;
                let node = decode(&value).map_err(|err| PyValueError::new_err(err.to_string()))?;
                nodes.insert(key, Arc::new(node));
            }
            Ok(BlockNodes {
                nodes: Arc::new(nodes),
            })
        })
    }

    fn __len__(&self) -> usize {
        self.nodes.len()
    }

    /// The encoding of the node at `key`, None if the block does not hold it.
    fn encoded<'py>(&self, py: Python<'py>, key: &[u8]) -> PyResult<Option<Bound<'py, PyBytes>>> {
        guarded(|| {
            let Some(key) = NodeKey::from_bytes(key) else {
                return Ok(None);
            };
            Ok(self
                .nodes
                .get(&key)
                .map(|node| PyBytes::new(py, &node.encode())))
        })
    }

    /// Every `(key, encoding)`, keys ascending.
    fn items<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
        guarded(|| {
            let mut keys: Vec<&NodeKey> = self.nodes.keys().collect();
            keys.sort();
            Ok(keys
                .into_iter()
                .map(|key| {
                    (
                        PyBytes::new(py, key.as_bytes()),
                        PyBytes::new(py, &self.nodes[key].encode()),
                    )
                })
                .collect())
        })
    }
}

/// The puts of a prepared block's write batch, in the order the Python store makes them.
#[pyclass(frozen, module = "libra._core")]
pub struct BlockBatch {
    puts: Puts,
    /// Where the value buffer goes back when the batch is dropped (its block committed).
    pool: Option<Arc<BufferPool>>,
}

/// Value buffers of dropped batches, for the next blocks (a few: chains are short).
#[derive(Default)]
struct BufferPool {
    buffers: Mutex<Vec<Vec<u8>>>,
}

const BUFFERS_KEPT: usize = 4;

impl BufferPool {
    fn take(&self) -> Vec<u8> {
        self.buffers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop()
            .unwrap_or_default()
    }

    fn give(&self, buffer: Vec<u8>) {
        let mut buffers = self.buffers.lock().unwrap_or_else(|p| p.into_inner());
        if buffers.len() < BUFFERS_KEPT {
            buffers.push(buffer);
        }
    }
}

impl Drop for BlockBatch {
    fn drop(&mut self) {
        if let Some(pool) = &self.pool {
            pool.give(std::mem::take(&mut self.puts).into_buffer());
        }
    }
}

#[pymethods]
impl BlockBatch {
    /// A batch from `(key, value)` pairs (a block the Python store prepared).
    #[staticmethod]
    fn from_items(items: Vec<(PyBackedBytes, PyBackedBytes)>) -> PyResult<BlockBatch> {
        let mut puts = Puts::default();
        for (key, value) in items {
            let key = StoreKey::from_bytes(&key)
                .ok_or_else(|| PyValueError::new_err("a block's keys are at most 42 bytes"))?;
            puts.push(key, &[&value]);
        }
        Ok(BlockBatch { puts, pool: None })
    }

    fn __len__(&self) -> usize {
        self.puts.len()
    }

    fn items<'py>(
        &self,
        py: Python<'py>,
    ) -> PyResult<Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
        guarded(|| {
            Ok(self
                .puts
                .iter()
                .map(|(key, value)| (PyBytes::new(py, key), PyBytes::new(py, value)))
                .collect())
        })
    }

    /// Calls `put(key, value, families[key[0]])` for every put, in order: fills a RocksDB
    /// write batch, each key into its table's column family (`families` has 256 entries).
    fn fill(
        &self,
        py: Python<'_>,
        put: &Bound<'_, PyAny>,
        families: Vec<Py<PyAny>>,
    ) -> PyResult<()> {
        guarded(|| {
            if families.len() != 256 {
                return Err(PyValueError::new_err(
                    "families has one entry per first byte: 256",
                ));
            }
            for (key, value) in self.puts.iter() {
                let first = key.first().copied().unwrap_or_default();
                put.call1((
                    PyBytes::new(py, key),
                    PyBytes::new(py, value),
                    families[usize::from(first)].bind(py),
                ))?;
            }
            Ok(())
        })
    }
}

/// The native side of one `LibraDB`'s state tree: the shared cache of committed nodes.
#[pyclass(frozen, module = "libra._core")]
pub struct StateTree {
    cache: NodeCache,
    store: StoreReads,
    buffers: Arc<BufferPool>,
    address_keys: Mutex<HashMap<[u8; 16], HashValue>>,
}

fn exact_bytes<'a, 'py>(value: &'a Bound<'py, PyAny>) -> Option<&'a Bound<'py, PyBytes>> {
    value.cast_exact::<PyBytes>().ok()
}

/// An exact `bytes` object, read in place (no copy) even without the GIL.
fn backed(value: &Bound<'_, PyAny>) -> Option<PyBackedBytes> {
    exact_bytes(value).map(|bytes| PyBackedBytes::from(bytes.clone()))
}

fn exact_u64(value: &Bound<'_, PyAny>) -> Option<u64> {
    if value.is_exact_instance_of::<PyInt>() {
        value.extract::<u64>().ok()
    } else {
        None
    }
}

struct Extracted<'py> {
    versions: Vec<VersionInput<PyBackedBytes>>,
    keys: Vec<HashValue>,
    changed: Bound<'py, PyDict>,
}

impl StateTree {
    fn account_key(&self, address: &[u8; 16]) -> HashValue {
        let mut keys = self.address_keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(key) = keys.get(address) {
            return *key;
        }
        if keys.len() >= ADDRESS_KEYS_KEPT {
            keys.clear();
        }
        let key = account_key(address);
        keys.insert(*address, key);
        key
    }

    /// The block's `TransactionToCommit`s as engine input; None when one is not as the
    /// native side takes it (the Python store then decides, and raises its error).
    fn extract<'py>(
        &self,
        py: Python<'py>,
        transactions: &Bound<'py, PyAny>,
        first_version: u64,
        state_keys: bool,
    ) -> PyResult<Option<Extracted<'py>>> {
        let changed = PyDict::new(py);
        let mut versions = Vec::new();
        let mut keys = Vec::new();
        for (offset, txn) in transactions.try_iter()?.enumerate() {
            let txn = txn?;
            let version = first_version + offset as u64;
            let Some(transaction) = backed(&txn.getattr(intern!(py, "transaction_bytes"))?) else {
                return Ok(None);
            };
            let blobs = txn.getattr(intern!(py, "account_blobs"))?;
            let items = match blobs.cast_exact::<PyDict>() {
                Ok(dict) => dict.items(),
                Err(_) => blobs
                    .call_method0(intern!(py, "items"))?
                    .try_iter()?
                    .collect::<PyResult<Vec<_>>>()
                    .and_then(|items| PyList::new(py, items))?,
            };
            let mut changes = Vec::with_capacity(items.len());
            for item in items.iter() {
                let (address, blob): (Bound<'py, PyAny>, Bound<'py, PyAny>) = item.extract()?;
                let Some(address_bytes) = exact_bytes(&address) else {
                    return Ok(None);
                };
                let key = if state_keys {
                    let Ok(key) = HashValue::try_from(address_bytes.as_bytes()) else {
                        return Ok(None);
                    };
                    key
                } else {
                    let Ok(address) = <[u8; 16]>::try_from(address_bytes.as_bytes()) else {
                        return Ok(None);
                    };
                    self.account_key(&address)
                };
                let blob_bytes = if blob.is_none() {
                    None
                } else {
                    let Some(blob) = backed(&blob) else {
                        return Ok(None);
                    };
                    Some(blob)
                };
                keys.push(key);
                changes.push((key, blob_bytes));
                changed.set_item(&address, (version, &blob))?;
            }
            let mut events = Vec::new();
            for event in txn.getattr(intern!(py, "events"))?.try_iter()? {
                let event = event?;
                let Some(key) = exact_bytes(&event.getattr(intern!(py, "key"))?)
                    .and_then(|k| <[u8; 24]>::try_from(k.as_bytes()).ok())
                else {
                    return Ok(None);
                };
                let Some(sequence_number) =
                    exact_u64(&event.getattr(intern!(py, "sequence_number"))?)
                else {
                    return Ok(None);
                };
                let Some(bytes) = backed(&event.getattr(intern!(py, "event_bytes"))?) else {
                    return Ok(None);
                };
                events.push(EventInput {
                    key,
                    sequence_number,
                    bytes,
                });
            }
            if events.len() > u32::MAX as usize {
                return Ok(None);
            }
            let Some(gas_used) = exact_u64(&txn.getattr(intern!(py, "gas_used"))?) else {
                return Ok(None);
            };
            let status = txn.getattr(intern!(py, "status"))?;
            let status = match exact_u64(&status.getattr(intern!(py, "kind"))?) {
                Some(0) => None,
                _ => match status.call_method0(intern!(py, "to_bcs")) {
                    Ok(encoded) => match exact_bytes(&encoded) {
                        Some(encoded) => Some(encoded.as_bytes().to_vec()),
                        None => return Ok(None),
                    },
                    Err(_) => return Ok(None),
                },
            };
            let sender = txn.getattr(intern!(py, "sender"))?;
            let sender = if sender.is_none() {
                None
            } else {
                let Some(address) =
                    exact_bytes(&sender).and_then(|s| <[u8; 16]>::try_from(s.as_bytes()).ok())
                else {
                    return Ok(None);
                };
                let Some(sequence_number) =
                    exact_u64(&txn.getattr(intern!(py, "sequence_number"))?)
                else {
                    return Ok(None);
                };
                Some((address, sequence_number))
            };
            let Some(write_set) = backed(&txn.getattr(intern!(py, "write_set_bytes"))?) else {
                return Ok(None);
            };
            versions.push(VersionInput {
                transaction,
                changes,
                events,
                gas_used,
                status,
                sender,
                write_set,
            });
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(Some(Extracted {
            versions,
            keys,
            changed,
        }))
    }

    fn committed<'a>(&'a self, fetch: &'a PyFetch<'a>) -> Committed<'a, PyFetch<'a>> {
        Committed {
            cache: &self.cache,
            fetch,
        }
    }
}

fn state_key(key: &[u8]) -> PyResult<HashValue> {
    key.try_into()
        .map_err(|_| PyValueError::new_err("a state key is 32 bytes"))
}

#[pymethods]
impl StateTree {
    /// `get(key) -> value` and `multi_get(keys) -> values` read the store; the cache holds
    /// about `cache_size` internal nodes and `leaf_cache_size` leaves.
    #[new]
    #[pyo3(signature = (get, multi_get, cache_size = 20000, leaf_cache_size = 16384))]
    fn new(
        get: Py<PyAny>,
        multi_get: Py<PyAny>,
        cache_size: usize,
        leaf_cache_size: usize,
    ) -> StateTree {
        StateTree {
            cache: NodeCache::new(cache_size, leaf_cache_size),
            store: StoreReads { get, multi_get },
            buffers: Arc::default(),
            address_keys: Mutex::new(HashMap::new()),
        }
    }

    /// Computes a block (see the module docs); `ancestors` are the uncommitted ancestors'
    /// nodes, nearest first; `frozen` the accumulator's frozen `(level, hash)` stack before
    /// the block. Returns `(nodes, batch, hashes, frozen, root, changed_blobs)`: `hashes`
    /// holds per version its transaction hash, state root and event root (96 bytes), or None.
    /// With `state_keys` the blobs are keyed by state keys instead of addresses (for the
    /// tree's tests, which need keys sharing long prefixes).
    #[pyo3(signature = (transactions, first_version, ancestors, frozen, *, state_keys = false))]
    fn prepare_block<'py>(
        &self,
        py: Python<'py>,
        transactions: &Bound<'py, PyAny>,
        first_version: u64,
        ancestors: Vec<PyRef<'py, BlockNodes>>,
        frozen: Vec<(u32, PyBackedBytes)>,
        state_keys: bool,
    ) -> PyResult<Option<Bound<'py, PyTuple>>> {
        guarded(|| {
            let mut base_frozen = Frozen::with_capacity(frozen.len());
            for (level, hash) in frozen {
                let Ok(hash) = HashValue::try_from(&hash[..]) else {
                    return Ok(None);
                };
                if level >= 64 {
                    return Ok(None);
                }
                base_frozen.push((level, hash));
            }
            if leaves_of(&base_frozen) != Some(first_version) {
                return Ok(None);
            }
            let Some(extracted) = self.extract(py, transactions, first_version, state_keys)? else {
                return Ok(None);
            };
            let count = extracted.versions.len() as u64;
            if first_version.checked_add(count).is_none() {
                return Ok(None);
            }
            let overlays: Vec<Arc<Overlay>> =
                ancestors.iter().map(|block| block.nodes.clone()).collect();
            drop(ancestors);
            let fetch = PyFetch::new(&self.store);
            let mut source = BlockSource::new(&overlays, &self.cache, &fetch);
            if first_version > 0 {
                source
                    .prefetch(first_version - 1, &extracted.keys)
                    .map_err(|err| fetch.error(py, err))?;
            }
            let versions = extracted.versions;
            let buffer = self.buffers.take();
            let output = py
                .detach(|| write_block(&source, &versions, first_version, base_frozen, buffer))
                .map_err(|err| fetch.error(py, err))?;
            let mut hashes = Vec::with_capacity(output.hashes.len() * 96);
            for entry in &output.hashes {
                for hash in entry {
                    hashes.extend_from_slice(hash);
                }
            }
            let frozen = PyList::new(
                py,
                output
                    .frozen
                    .iter()
                    .map(|(level, hash)| (*level, PyBytes::new(py, hash))),
            )?;
            let fields: Vec<Bound<'py, PyAny>> = vec![
                Bound::new(
                    py,
                    BlockNodes {
                        nodes: Arc::new(output.overlay),
                    },
                )?
                .into_any(),
                Bound::new(
                    py,
                    BlockBatch {
                        puts: output.puts,
                        pool: Some(self.buffers.clone()),
                    },
                )?
                .into_any(),
                PyBytes::new(py, &hashes).into_any(),
                frozen.into_any(),
                PyBytes::new(py, &output.root).into_any(),
                extracted.changed.into_any(),
            ];
            Ok(Some(PyTuple::new(py, fields)?))
        })
    }

    /// Caches a committed block's nodes (call once they are in the store).
    fn publish(&self, nodes: &BlockNodes) -> PyResult<()> {
        guarded(|| {
            self.cache.publish(nodes.nodes.iter());
            Ok(())
        })
    }

    /// `root_hash(reader, version)`.
    fn root_hash<'py>(&self, py: Python<'py>, version: u64) -> PyResult<Bound<'py, PyBytes>> {
        guarded(|| {
            let fetch = PyFetch::new(&self.store);
            let root = reads::root_hash(&self.committed(&fetch), version)
                .map_err(|err| fetch.error(py, err))?;
            Ok(PyBytes::new(py, &root))
        })
    }

    /// `get_blob(reader, version, key)`.
    fn get_blob<'py>(
        &self,
        py: Python<'py>,
        version: u64,
        key: &[u8],
    ) -> PyResult<Option<Bound<'py, PyBytes>>> {
        guarded(|| {
            let key = state_key(key)?;
            let fetch = PyFetch::new(&self.store);
            let blob = reads::get_blob(&self.committed(&fetch), version, &key)
                .map_err(|err| fetch.error(py, err))?;
            Ok(blob.map(|blob| PyBytes::new(py, &blob)))
        })
    }

    /// `get_with_proof(reader, version, key)`: `(blob, (key, value_hash, blob) or None, siblings)`.
    fn get_with_proof<'py>(
        &self,
        py: Python<'py>,
        version: u64,
        key: &[u8],
    ) -> PyResult<Bound<'py, PyTuple>> {
        guarded(|| {
            let key = state_key(key)?;
            let fetch = PyFetch::new(&self.store);
            let (blob, leaf, siblings) =
                reads::get_with_proof(&self.committed(&fetch), version, &key)
                    .map_err(|err| fetch.error(py, err))?;
            let blob = blob.map(|blob| PyBytes::new(py, &blob));
            let leaf = leaf.map(|(key, value_hash, blob)| {
                (
                    PyBytes::new(py, &key),
                    PyBytes::new(py, &value_hash),
                    PyBytes::new(py, &blob),
                )
            });
            let siblings = PyList::new(py, siblings.iter().map(|hash| PyBytes::new(py, hash)))?;
            PyTuple::new(
                py,
                [
                    blob.into_pyobject(py)?.into_any(),
                    leaf.into_pyobject(py)?.into_any(),
                    siblings.into_any(),
                ],
            )
        })
    }

    /// `(internal nodes, leaves)` in the cache.
    fn cached(&self) -> (usize, usize) {
        self.cache.len()
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<StateTree>()?;
    m.add_class::<BlockNodes>()?;
    m.add_class::<BlockBatch>()?;
    Ok(())
}
