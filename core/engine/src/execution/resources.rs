//! The resources a payment reads and writes: their paths and strict codecs
//! (`framework/resources.py`, `framework/events.py`).
//!
//! A path is `0x01 ‖ BCS(StructTag)` of a `0x1` struct; generic ones take a currency's type
//! tag `0x1::C::C`. Decoders accept exactly the bytes the Python `LAYOUT` decoders accept
//! (canonical ULEB128 lengths, option tags 0/1, bools 0/1, nothing left over) and give `None`
//! otherwise: such a state is unusual, and the Python framework then says what is wrong.

use std::sync::{Arc, OnceLock};

use super::account::encoded_key;
use crate::bcs::{push_uleb128, Reader};

pub const CORE_CODE_ADDRESS: [u8; 16] = {
    let mut address = [0u8; 16];
    address[15] = 1;
    address
};
pub const DIEM_ROOT_ADDRESS: [u8; 16] = {
    let mut address = [0u8; 16];
    address[12] = 0x0a;
    address[13] = 0x55;
    address[14] = 0x0c;
    address[15] = 0x18;
    address
};
pub const TREASURY_COMPLIANCE_ADDRESS: [u8; 16] = {
    let mut address = [0u8; 16];
    address[12] = 0x0b;
    address[13] = 0x1e;
    address[14] = 0x55;
    address[15] = 0xed;
    address
};

/// A resource path (for write sets) and its encoded map key (for account blobs).
#[derive(Debug, PartialEq, Eq)]
pub struct ResourcePath {
    pub path: Vec<u8>,
    pub key: Vec<u8>,
}

pub type PathRef = Arc<ResourcePath>;

/// `BCS(StructTag)` of `0x1::module::name<params>` (each param an encoded `TypeTag`).
pub fn struct_tag(module: &str, name: &str, params: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::with_capacity(40);
    out.extend_from_slice(&CORE_CODE_ADDRESS);
    push_uleb128(&mut out, module.len() as u64);
    out.extend_from_slice(module.as_bytes());
    push_uleb128(&mut out, name.len() as u64);
    out.extend_from_slice(name.as_bytes());
    push_uleb128(&mut out, params.len() as u64);
    for param in params {
        out.extend_from_slice(param);
    }
    out
}

/// `TypeTag::Struct(0x1::code::code)`: a currency's type tag.
pub fn currency_type_tag(code: &str) -> Vec<u8> {
    let mut out = vec![7];
    out.extend(struct_tag(code, code, &[]));
    out
}

fn resource(module: &str, name: &str, params: &[&[u8]]) -> PathRef {
    let mut path = vec![1];
    path.extend(struct_tag(module, name, params));
    let key = encoded_key(&path);
    Arc::new(ResourcePath { path, key })
}

/// The paths of the resources without type parameters that a payment touches.
pub struct PlainPaths {
    pub diem_account: PathRef,
    pub freezing_bit: PathRef,
    pub parent_vasp: PathRef,
    pub child_vasp: PathRef,
    pub dual_attestation_limit: PathRef,
    pub current_time: PathRef,
    /// `TypeTag` encodings of the two payment events.
    pub sent_payment_tag: Vec<u8>,
    pub received_payment_tag: Vec<u8>,
}

pub fn plain_paths() -> &'static PlainPaths {
    static PATHS: OnceLock<PlainPaths> = OnceLock::new();
    PATHS.get_or_init(|| {
        let event_tag = |name: &str| {
            let mut out = vec![7];
            out.extend(struct_tag("DiemAccount", name, &[]));
            out
        };
        PlainPaths {
            diem_account: resource("DiemAccount", "DiemAccount", &[]),
            freezing_bit: resource("AccountFreezing", "FreezingBit", &[]),
            parent_vasp: resource("VASP", "ParentVASP", &[]),
            child_vasp: resource("VASP", "ChildVASP", &[]),
            dual_attestation_limit: resource("DualAttestation", "Limit", &[]),
            current_time: resource("DiemTimestamp", "CurrentTimeMicroseconds", &[]),
            sent_payment_tag: event_tag("SentPaymentEvent"),
            received_payment_tag: event_tag("ReceivedPaymentEvent"),
        }
    })
}

/// The paths of one currency's generic resources.
pub struct CurrencyPaths {
    pub balance: PathRef,
    pub currency_info: PathRef,
    pub transaction_fee: PathRef,
}

impl CurrencyPaths {
    pub fn new(code: &str) -> CurrencyPaths {
        let tag = currency_type_tag(code);
        CurrencyPaths {
            balance: resource("DiemAccount", "Balance", &[&tag]),
            currency_info: resource("Diem", "CurrencyInfo", &[&tag]),
            transaction_fee: resource("TransactionFee", "TransactionFee", &[&tag]),
        }
    }
}

// --- codecs -----------------------------------------------------------------------------

/// A byte string kept inline when short (keys and event keys are 32 and 24 bytes), so that
/// decoding an account allocates nothing in the usual case.
#[derive(Clone)]
pub enum SmallBytes {
    Inline { len: u8, data: [u8; 32] },
    Heap(Vec<u8>),
}

impl From<&[u8]> for SmallBytes {
    fn from(bytes: &[u8]) -> Self {
        if bytes.len() <= 32 {
            let mut data = [0u8; 32];
            data[..bytes.len()].copy_from_slice(bytes);
            SmallBytes::Inline {
                len: bytes.len() as u8,
                data,
            }
        } else {
            SmallBytes::Heap(bytes.to_vec())
        }
    }
}

impl std::ops::Deref for SmallBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            SmallBytes::Inline { len, data } => &data[..*len as usize],
            SmallBytes::Heap(bytes) => bytes,
        }
    }
}

impl PartialEq for SmallBytes {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for SmallBytes {}

impl std::fmt::Debug for SmallBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", &**self)
    }
}

/// `Event::EventHandle`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventHandle {
    pub counter: u64,
    pub guid: SmallBytes,
}

/// `DiemAccount::DiemAccount` (capabilities are the address they hold, if not extracted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiemAccount {
    pub authentication_key: SmallBytes,
    pub withdraw_capability: Option<[u8; 16]>,
    pub key_rotation_capability: Option<[u8; 16]>,
    pub received_events: EventHandle,
    pub sent_events: EventHandle,
    pub sequence_number: u64,
}

/// A `vector<u8>` at the reader (as `Reader::bytes`, without building its error text first:
/// a decline needs no message).
pub fn read_bytes<'a>(reader: &mut Reader<'a>) -> Option<&'a [u8]> {
    let size = reader.length("bytes length").ok()?;
    reader.raw(size, "bytes").ok()
}

fn option_address(reader: &mut Reader<'_>) -> Option<Option<[u8; 16]>> {
    match reader.u8().ok()? {
        0 => Some(None),
        1 => Some(Some(reader.fixed::<16>("address").ok()?)),
        _ => None,
    }
}

fn event_handle(reader: &mut Reader<'_>) -> Option<EventHandle> {
    let counter = reader.u64().ok()?;
    let guid = SmallBytes::from(read_bytes(reader)?);
    Some(EventHandle { counter, guid })
}

fn whole<T>(data: &[u8], read: impl FnOnce(&mut Reader<'_>) -> Option<T>) -> Option<T> {
    let mut reader = Reader::new(data);
    let value = read(&mut reader)?;
    reader.finish().ok()?;
    Some(value)
}

impl DiemAccount {
    pub fn decode(data: &[u8]) -> Option<DiemAccount> {
        whole(data, |r| {
            Some(DiemAccount {
                authentication_key: SmallBytes::from(read_bytes(r)?),
                withdraw_capability: option_address(r)?,
                key_rotation_capability: option_address(r)?,
                received_events: event_handle(r)?,
                sent_events: event_handle(r)?,
                sequence_number: r.u64().ok()?,
            })
        })
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.authentication_key.len() + 120);
        push_uleb128(&mut out, self.authentication_key.len() as u64);
        out.extend_from_slice(&self.authentication_key);
        for capability in [self.withdraw_capability, self.key_rotation_capability] {
            match capability {
                None => out.push(0),
                Some(address) => {
                    out.push(1);
                    out.extend_from_slice(&address);
                }
            }
        }
        for handle in [&self.received_events, &self.sent_events] {
            out.extend_from_slice(&handle.counter.to_le_bytes());
            push_uleb128(&mut out, handle.guid.len() as u64);
            out.extend_from_slice(&handle.guid);
        }
        out.extend_from_slice(&self.sequence_number.to_le_bytes());
        out
    }
}

/// A resource that is exactly one u64 (`Balance`, `Limit`, `CurrentTimeMicroseconds`, `ParentVASP`).
pub fn decode_u64(data: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(data.try_into().ok()?))
}

/// `AccountFreezing::FreezingBit { is_frozen: bool }`.
pub fn decode_bool(data: &[u8]) -> Option<bool> {
    match data {
        [0] => Some(false),
        [1] => Some(true),
        _ => None,
    }
}

/// `VASP::ChildVASP { parent_vasp_addr }`.
pub fn decode_address(data: &[u8]) -> Option<[u8; 16]> {
    data.try_into().ok()
}

/// `TransactionFee::TransactionFee { balance, preburn }`.
pub fn decode_transaction_fee(data: &[u8]) -> Option<(u64, u64)> {
    whole(data, |r| Some((r.u64().ok()?, r.u64().ok()?)))
}

pub fn encode_transaction_fee(balance: u64, preburn: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(16);
    out.extend_from_slice(&balance.to_le_bytes());
    out.extend_from_slice(&preburn.to_le_bytes());
    out
}

/// What a payment needs of `Diem::CurrencyInfo` (the whole struct is checked).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CurrencyInfo {
    pub to_xdx_exchange_rate: u64,
    pub currency_code: Vec<u8>,
}

impl CurrencyInfo {
    pub fn decode(data: &[u8]) -> Option<CurrencyInfo> {
        whole(data, |r| {
            r.u128().ok()?; // total_value
            r.u64().ok()?; // preburn_value
            let to_xdx_exchange_rate = r.u64().ok()?;
            r.bool().ok()?; // is_synthetic
            r.u64().ok()?; // scaling_factor
            r.u64().ok()?; // fractional_part
            let currency_code = read_bytes(r)?.to_vec();
            r.bool().ok()?; // can_mint
            for _ in 0..5 {
                event_handle(r)?;
            }
            Some(CurrencyInfo {
                to_xdx_exchange_rate,
                currency_code,
            })
        })
    }
}

/// `SentPaymentEvent` / `ReceivedPaymentEvent`: amount ‖ currency code ‖ the other party ‖ metadata.
pub fn payment_event_data(amount: u64, code: &[u8], party: &[u8; 16], metadata: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(30 + code.len() + metadata.len());
    out.extend_from_slice(&amount.to_le_bytes());
    push_uleb128(&mut out, code.len() as u64);
    out.extend_from_slice(code);
    out.extend_from_slice(party);
    push_uleb128(&mut out, metadata.len() as u64);
    out.extend_from_slice(metadata);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn paths_are_the_struct_tags_of_0x1() {
        let paths = plain_paths();
        assert_eq!(
            hex(&paths.diem_account.path),
            format!(
                "01{}0b{}0b{}00",
                hex(&CORE_CODE_ADDRESS),
                hex(b"DiemAccount"),
                hex(b"DiemAccount")
            )
        );
        assert_eq!(
            paths.diem_account.key[0] as usize,
            paths.diem_account.path.len()
        );
        let xus = CurrencyPaths::new("XUS");
        assert!(hex(&xus.balance.path).ends_with(&format!(
            "0107{}03{}03{}00",
            hex(&CORE_CODE_ADDRESS),
            hex(b"XUS"),
            hex(b"XUS")
        )));
    }

    #[test]
    fn diem_account_round_trips_and_refuses_odd_bytes() {
        let account = DiemAccount {
            authentication_key: SmallBytes::from(&[7u8; 32][..]),
            withdraw_capability: Some([1; 16]),
            key_rotation_capability: None,
            received_events: EventHandle {
                counter: 3,
                guid: SmallBytes::from(&[9u8; 24][..]),
            },
            sent_events: EventHandle {
                counter: u64::MAX,
                guid: SmallBytes::from(&[8u8; 40][..]), // a long one, on the heap
            },
            sequence_number: 42,
        };
        let data = account.encode();
        assert_eq!(DiemAccount::decode(&data), Some(account));
        let mut trailing = data.clone();
        trailing.push(0);
        assert_eq!(DiemAccount::decode(&trailing), None);
        let mut bad_option = data.clone();
        bad_option[33] = 2;
        assert_eq!(DiemAccount::decode(&bad_option), None);
        for cut in 0..data.len() {
            assert_eq!(DiemAccount::decode(&data[..cut]), None);
        }
    }

    #[test]
    fn small_resources_are_exact() {
        assert_eq!(decode_u64(&5u64.to_le_bytes()), Some(5));
        assert_eq!(decode_u64(&[0; 7]), None);
        assert_eq!(decode_u64(&[0; 9]), None);
        assert_eq!(decode_bool(&[1]), Some(true));
        assert_eq!(decode_bool(&[2]), None);
        assert_eq!(decode_bool(&[0, 0]), None);
        assert_eq!(
            decode_transaction_fee(&encode_transaction_fee(1, 2)),
            Some((1, 2))
        );
        assert_eq!(decode_transaction_fee(&[0; 15]), None);
    }
}
