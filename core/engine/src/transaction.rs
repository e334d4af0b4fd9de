//! The common signed transaction: a script function call signed by one Ed25519 key.
//!
//! [`decode_common`] reads exactly the shape `libra.types.transaction.decode_signed_transaction_fast`
//! reads, and answers exactly when it answers: the same fields, ending at the same offset, and
//! `None` for every other shape (other payloads or authenticators, nested type arguments,
//! lengths of three or more ULEB128 bytes) and for anything malformed. Callers give `None`
//! inputs to the Python reference decoder, which then accepts them or says what is wrong.
//!
//! Layout read (diem-protocol.md §5):
//! `sender 16 ‖ sequence u64 ‖ 03 ‖ module address 16 ‖ module name ‖ function ‖
//!  ty_args ‖ args: Vec<bytes> ‖ max_gas u64 ‖ price u64 ‖ currency String ‖ expiration u64 ‖
//!  chain_id u8 ‖ 00 ‖ 20 public key 32 ‖ 40 signature 64`.
//!
//! [`decode_common_script`] reads the same transaction with a Move script as its payload
//! (`01 ‖ code ‖ ty_args ‖ args: Vec<TransactionArgument>`), the other way wallets send a
//! payment; it answers only for that shape, which no Python fast decoder reads, so it is held
//! to the reference decoder instead.

use crate::hashing::{hash_seed, hash_with_seed, HashValue};
use sha3::{Digest, Sha3_256};
use std::sync::OnceLock;

/// A type argument of the common shape: a primitive (its TypeTag variant, 0..=5) or a struct
/// without type parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TypeArg<'a> {
    Primitive(u8),
    Struct {
        address: [u8; 16],
        module: &'a str,
        name: &'a str,
    },
}

/// The fields of a common signed transaction, borrowing its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommonTransaction<'a> {
    pub sender: [u8; 16],
    pub sequence_number: u64,
    pub module_address: [u8; 16],
    pub module_name: &'a str,
    pub function: &'a str,
    pub ty_args: Vec<TypeArg<'a>>,
    pub args: Vec<&'a [u8]>,
    pub max_gas_amount: u64,
    pub gas_unit_price: u64,
    pub gas_currency_code: &'a str,
    pub expiration_timestamp_secs: u64,
    pub chain_id: u8,
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
    /// Where the `RawTransaction` starts and ends in the input (what the key signed).
    pub raw_start: usize,
    pub raw_end: usize,
    /// The offset after the transaction.
    pub end: usize,
}

/// Move's identifier rule: `[A-Za-z][A-Za-z0-9_]*` or `_[A-Za-z0-9_]+`.
pub fn is_valid_identifier(name: &[u8]) -> bool {
    match name.first() {
        Some(c) if c.is_ascii_alphabetic() => name[1..]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'_'),
        Some(b'_') => {
            name.len() > 1
                && name[1..]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        }
        _ => false,
    }
}

fn identifier(raw: &[u8]) -> Option<&str> {
    // an identifier is ASCII, so valid identifiers are valid UTF-8
    if is_valid_identifier(raw) {
        std::str::from_utf8(raw).ok()
    } else {
        None
    }
}

fn u64_at(data: &[u8], pos: usize) -> u64 {
    u64::from_le_bytes(data[pos..pos + 8].try_into().expect("8 bytes"))
}

fn array<const N: usize>(data: &[u8], pos: usize) -> [u8; N] {
    data[pos..pos + N].try_into().expect("N bytes")
}

/// The common signed transaction at `data[pos..]`, or `None` (see the module docs).
pub fn decode_common(data: &[u8], pos: usize) -> Option<CommonTransaction<'_>> {
    let end = data.len();
    let raw_start = pos;
    // sender, sequence number, payload variant 3 (ScriptFunction)
    if pos.checked_add(25)? > end || data[pos + 24] != 3 {
        return None;
    }
    let sender = array::<16>(data, pos);
    let sequence_number = u64_at(data, pos + 16);
    let mut pos = pos + 25;
    // ModuleId: address and identifier
    if pos + 17 > end {
        return None;
    }
    let size = data[pos + 16] as usize;
    let after = pos + 17 + size;
    if size >= 0x80 || after > end {
        return None;
    }
    let module_address = array::<16>(data, pos);
    let module_name = identifier(&data[pos + 17..after])?;
    pos = after;
    // function name
    if pos >= end {
        return None;
    }
    let size = data[pos] as usize;
    let after = pos + 1 + size;
    if size >= 0x80 || after > end {
        return None;
    }
    let function = identifier(&data[pos + 1..after])?;
    pos = after;
    let (ty_args, after) = type_args(data, pos)?;
    pos = after;
    // arguments: byte strings whose lengths take one or two ULEB128 bytes
    if pos >= end {
        return None;
    }
    let count = data[pos] as usize;
    if count >= 0x80 {
        return None;
    }
    pos += 1;
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        let (arg, after) = short_bytes(data, pos)?;
        args.push(arg);
        pos = after;
    }
    let tail = tail(data, pos)?;
    Some(CommonTransaction {
        sender,
        sequence_number,
        module_address,
        module_name,
        function,
        ty_args,
        args,
        max_gas_amount: tail.max_gas_amount,
        gas_unit_price: tail.gas_unit_price,
        gas_currency_code: tail.gas_currency_code,
        expiration_timestamp_secs: tail.expiration_timestamp_secs,
        chain_id: tail.chain_id,
        public_key: tail.public_key,
        signature: tail.signature,
        raw_start,
        raw_end: tail.raw_end,
        end: tail.end,
    })
}

/// A `TransactionArgument` of a Move script (its variant order: U8, U64, U128, Address,
/// U8Vector, Bool).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptArg<'a> {
    U8(u8),
    U64(u64),
    U128(u128),
    Address([u8; 16]),
    U8Vector(&'a [u8]),
    Bool(bool),
}

/// The fields of a signed Move script transaction of the common shape, borrowing its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommonScriptTransaction<'a> {
    pub sender: [u8; 16],
    pub sequence_number: u64,
    pub code: &'a [u8],
    pub ty_args: Vec<TypeArg<'a>>,
    pub args: Vec<ScriptArg<'a>>,
    pub max_gas_amount: u64,
    pub gas_unit_price: u64,
    pub gas_currency_code: &'a str,
    pub expiration_timestamp_secs: u64,
    pub chain_id: u8,
    pub public_key: [u8; 32],
    pub signature: [u8; 64],
    pub raw_start: usize,
    pub raw_end: usize,
    pub end: usize,
}

/// The signed Move script transaction at `data[pos..]` of the common shape, or `None`.
///
/// The shape: payload variant 1 (`Script`) whose code and `U8Vector` arguments have lengths
/// of one or two ULEB128 bytes, fewer than 128 type arguments (primitives and structs without
/// type parameters, as [`decode_common`]) and fewer than 128 arguments of any variant, then
/// the same tail and Ed25519 authenticator as [`decode_common`]. Anything else, and anything
/// malformed, is `None`; when this answers, the reference decoder
/// (`deserialize_signed_transaction_reference`) gives the same transaction ending at the same
/// offset, which `tests/unit/native/test_transaction_decode.py` checks.
pub fn decode_common_script(data: &[u8], pos: usize) -> Option<CommonScriptTransaction<'_>> {
    let end = data.len();
    let raw_start = pos;
    if pos.checked_add(25)? > end || data[pos + 24] != 1 {
        return None;
    }
    let sender = array::<16>(data, pos);
    let sequence_number = u64_at(data, pos + 16);
    let (code, after) = short_bytes(data, pos + 25)?;
    let (ty_args, after) = type_args(data, after)?;
    let mut pos = after;
    if pos >= end {
        return None;
    }
    let count = data[pos] as usize;
    if count >= 0x80 {
        return None;
    }
    pos += 1;
    let mut args = Vec::with_capacity(count);
    for _ in 0..count {
        if pos >= end {
            return None;
        }
        let variant = data[pos];
        pos += 1;
        let arg = match variant {
            0 => {
                if pos + 1 > end {
                    return None;
                }
                pos += 1;
                ScriptArg::U8(data[pos - 1])
            }
            1 => {
                if pos + 8 > end {
                    return None;
                }
                pos += 8;
                ScriptArg::U64(u64_at(data, pos - 8))
            }
            2 => {
                if pos + 16 > end {
                    return None;
                }
                pos += 16;
                ScriptArg::U128(u128::from_le_bytes(array::<16>(data, pos - 16)))
            }
            3 => {
                if pos + 16 > end {
                    return None;
                }
                pos += 16;
                ScriptArg::Address(array::<16>(data, pos - 16))
            }
            4 => {
                let (bytes, after) = short_bytes(data, pos)?;
                pos = after;
                ScriptArg::U8Vector(bytes)
            }
            5 => {
                if pos + 1 > end || data[pos] > 1 {
                    return None;
                }
                pos += 1;
                ScriptArg::Bool(data[pos - 1] == 1)
            }
            _ => return None,
        };
        args.push(arg);
    }
    let tail = tail(data, pos)?;
    Some(CommonScriptTransaction {
        sender,
        sequence_number,
        code,
        ty_args,
        args,
        max_gas_amount: tail.max_gas_amount,
        gas_unit_price: tail.gas_unit_price,
        gas_currency_code: tail.gas_currency_code,
        expiration_timestamp_secs: tail.expiration_timestamp_secs,
        chain_id: tail.chain_id,
        public_key: tail.public_key,
        signature: tail.signature,
        raw_start,
        raw_end: tail.raw_end,
        end: tail.end,
    })
}

/// A byte string at `data[pos..]` whose length takes one or two (canonical) ULEB128 bytes,
/// and the offset after it.
fn short_bytes(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let end = data.len();
    if pos >= end {
        return None;
    }
    let mut size = data[pos] as usize;
    let mut pos = pos;
    if size < 0x80 {
        pos += 1;
    } else {
        if pos + 1 >= end || !(1..0x80).contains(&data[pos + 1]) {
            return None; // a zero high group is not canonical
        }
        size = (size & 0x7f) | ((data[pos + 1] as usize) << 7);
        pos += 2;
    }
    let after = pos + size;
    if after > end {
        return None;
    }
    Some((&data[pos..after], after))
}

/// Type arguments at `data[pos..]`: fewer than 128, primitives and structs without type
/// parameters; and the offset after them.
fn type_args(data: &[u8], pos: usize) -> Option<(Vec<TypeArg<'_>>, usize)> {
    let end = data.len();
    if pos >= end {
        return None;
    }
    let count = data[pos] as usize;
    if count >= 0x80 {
        return None;
    }
    let mut pos = pos + 1;
    let mut ty_args = Vec::with_capacity(count);
    for _ in 0..count {
        if pos >= end {
            return None;
        }
        let variant = data[pos];
        if variant < 6 {
            ty_args.push(TypeArg::Primitive(variant));
            pos += 1;
            continue;
        }
        if variant != 7 || pos + 18 > end {
            return None;
        }
        let module_size = data[pos + 17] as usize;
        let name_at = pos + 18 + module_size;
        if module_size >= 0x80 || name_at >= end {
            return None;
        }
        let name_size = data[name_at] as usize;
        let after = name_at + 2 + name_size;
        if name_size >= 0x80 || after > end || data[after - 1] != 0 {
            return None;
        }
        let module = identifier(&data[pos + 18..name_at])?;
        let name = identifier(&data[name_at + 1..after - 1])?;
        ty_args.push(TypeArg::Struct {
            address: array::<16>(data, pos + 1),
            module,
            name,
        });
        pos = after;
    }
    Some((ty_args, pos))
}

/// The fields after the payload: gas, currency, expiration, chain id and the Ed25519
/// authenticator.
struct Tail<'a> {
    max_gas_amount: u64,
    gas_unit_price: u64,
    gas_currency_code: &'a str,
    expiration_timestamp_secs: u64,
    chain_id: u8,
    public_key: [u8; 32],
    signature: [u8; 64],
    raw_end: usize,
    end: usize,
}

fn tail(data: &[u8], pos: usize) -> Option<Tail<'_>> {
    let end = data.len();
    // max gas, gas price, currency code, expiration, chain id
    if pos + 17 > end {
        return None;
    }
    let max_gas_amount = u64_at(data, pos);
    let gas_unit_price = u64_at(data, pos + 8);
    let size = data[pos + 16] as usize;
    let pos = pos + 17;
    let after = pos + size;
    if size >= 0x80 || after + 9 > end {
        return None;
    }
    let gas_currency_code = std::str::from_utf8(&data[pos..after]).ok()?;
    let expiration_timestamp_secs = u64_at(data, after);
    let chain_id = data[after + 8];
    let pos = after + 9;
    // Ed25519 authenticator: variant 0, a 32-byte key and a 64-byte signature
    if pos + 99 > end || data[pos] != 0 || data[pos + 1] != 0x20 || data[pos + 34] != 64 {
        return None;
    }
    Some(Tail {
        max_gas_amount,
        gas_unit_price,
        gas_currency_code,
        expiration_timestamp_secs,
        chain_id,
        public_key: array::<32>(data, pos + 2),
        signature: array::<64>(data, pos + 35),
        raw_end: pos,
        end: pos + 99,
    })
}

fn seed(cell: &'static OnceLock<HashValue>, name: &str) -> &'static HashValue {
    cell.get_or_init(|| hash_seed(name))
}

static RAW_TRANSACTION_SEED: OnceLock<HashValue> = OnceLock::new();
static TRANSACTION_SEED: OnceLock<HashValue> = OnceLock::new();

/// What the sender's key signs: `seed("RawTransaction") ‖ BCS(raw)`.
pub fn signing_message(raw: &[u8]) -> Vec<u8> {
    let seed = seed(&RAW_TRANSACTION_SEED, "RawTransaction");
    let mut message = Vec::with_capacity(32 + raw.len());
    message.extend_from_slice(seed);
    message.extend_from_slice(raw);
    message
}

/// The hash of `Transaction::UserTransaction(signed)`: `sha3(seed("Transaction") ‖ 00 ‖ signed)`.
pub fn user_transaction_hash(signed: &[u8]) -> HashValue {
    let mut hasher = Sha3_256::new();
    hasher.update(seed(&TRANSACTION_SEED, "Transaction"));
    hasher.update([0u8]);
    hasher.update(signed);
    hasher.finalize().into()
}

/// The hash of a ledger `Transaction` given its whole BCS (variant byte included).
pub fn transaction_hash(transaction: &[u8]) -> HashValue {
    hash_with_seed(seed(&TRANSACTION_SEED, "Transaction"), transaction)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A p2p payment as the SDK builds it (the bytes of tests/unit/types' vectors).
    fn payment() -> Vec<u8> {
        let mut raw = Vec::new();
        raw.extend_from_slice(&[0xaa; 16]); // sender
        raw.extend_from_slice(&7u64.to_le_bytes());
        raw.push(3);
        raw.extend_from_slice(&{
            let mut a = [0u8; 16];
            a[15] = 1;
            a
        });
        raw.push(14);
        raw.extend_from_slice(b"PaymentScripts");
        raw.push(26);
        raw.extend_from_slice(b"peer_to_peer_with_metadata");
        raw.push(1); // one type argument: 0x1::XUS::XUS
        raw.push(7);
        raw.extend_from_slice(&{
            let mut a = [0u8; 16];
            a[15] = 1;
            a
        });
        raw.push(3);
        raw.extend_from_slice(b"XUS");
        raw.push(3);
        raw.extend_from_slice(b"XUS");
        raw.push(0);
        raw.push(4); // four arguments
        raw.push(16);
        raw.extend_from_slice(&[0xbb; 16]);
        raw.push(8);
        raw.extend_from_slice(&1_000_000u64.to_le_bytes());
        raw.extend_from_slice(&[1, 0, 1, 0]);
        raw.extend_from_slice(&1_000_000u64.to_le_bytes());
        raw.extend_from_slice(&0u64.to_le_bytes());
        raw.push(3);
        raw.extend_from_slice(b"XUS");
        raw.extend_from_slice(&1_900_000_000u64.to_le_bytes());
        raw.push(2);
        raw.extend_from_slice(&[0, 0x20]);
        raw.extend_from_slice(&[0x11; 32]);
        raw.push(0x40);
        raw.extend_from_slice(&[0x22; 64]);
        raw
    }

    #[test]
    fn decodes_a_payment() {
        let data = payment();
        let txn = decode_common(&data, 0).expect("common shape");
        assert_eq!(txn.sender, [0xaa; 16]);
        assert_eq!(txn.sequence_number, 7);
        assert_eq!(txn.module_name, "PaymentScripts");
        assert_eq!(txn.function, "peer_to_peer_with_metadata");
        assert_eq!(
            txn.ty_args,
            vec![TypeArg::Struct {
                address: {
                    let mut a = [0u8; 16];
                    a[15] = 1;
                    a
                },
                module: "XUS",
                name: "XUS"
            }]
        );
        assert_eq!(txn.args.len(), 4);
        assert_eq!(txn.args[1], &1_000_000u64.to_le_bytes());
        assert_eq!(txn.gas_currency_code, "XUS");
        assert_eq!(txn.chain_id, 2);
        assert_eq!(txn.end, data.len());
        assert_eq!(txn.raw_end, data.len() - 99);
    }

    #[test]
    fn every_truncation_declines() {
        let data = payment();
        for cut in 0..data.len() {
            assert!(
                decode_common(&data[..cut], 0).is_none(),
                "accepted a cut at {cut}"
            );
        }
    }

    /// The same payment as a Move script with 200 bytes of code (a two-byte length).
    fn script_payment() -> Vec<u8> {
        let function = payment();
        let mut raw = Vec::new();
        raw.extend_from_slice(&function[..24]);
        raw.push(1);
        raw.extend_from_slice(&[0xc8, 0x01]);
        raw.extend_from_slice(&[0x5a; 200]);
        raw.push(1); // 0x1::XUS::XUS
        raw.push(7);
        raw.extend_from_slice(&[0; 15]);
        raw.push(1);
        raw.extend_from_slice(&[3, b'X', b'U', b'S', 3, b'X', b'U', b'S', 0]);
        raw.push(6); // every argument variant
        raw.push(3);
        raw.extend_from_slice(&[0xbb; 16]);
        raw.push(1);
        raw.extend_from_slice(&9u64.to_le_bytes());
        raw.extend_from_slice(&[4, 2, 0xde, 0xad]);
        raw.extend_from_slice(&[0, 0x7f]);
        raw.push(2);
        raw.extend_from_slice(&[0xee; 16]);
        raw.extend_from_slice(&[5, 1]);
        let tail_at = function.len() - 99 - 29; // max gas .. chain id: 8 + 8 + 4 + 8 + 1
        raw.extend_from_slice(&function[tail_at..]);
        raw
    }

    #[test]
    fn decodes_a_script_payment() {
        let data = script_payment();
        let txn = decode_common_script(&data, 0).expect("common script shape");
        assert_eq!(txn.sender, [0xaa; 16]);
        assert_eq!(txn.sequence_number, 7);
        assert_eq!(txn.code, &[0x5a; 200][..]);
        assert_eq!(txn.ty_args.len(), 1);
        assert_eq!(
            txn.args,
            vec![
                ScriptArg::Address([0xbb; 16]),
                ScriptArg::U64(9),
                ScriptArg::U8Vector(&[0xde, 0xad]),
                ScriptArg::U8(0x7f),
                ScriptArg::U128(u128::from_le_bytes([0xee; 16])),
                ScriptArg::Bool(true),
            ]
        );
        assert_eq!(txn.gas_currency_code, "XUS");
        assert_eq!(txn.chain_id, 2);
        assert_eq!(txn.end, data.len());
        assert!(decode_common(&data, 0).is_none(), "not a script function");
        assert!(
            decode_common_script(&payment(), 0).is_none(),
            "not a script"
        );
    }

    #[test]
    fn every_truncation_of_a_script_declines() {
        let data = script_payment();
        for cut in 0..data.len() {
            assert!(
                decode_common_script(&data[..cut], 0).is_none(),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn script_arguments_out_of_shape_decline() {
        let data = script_payment();
        let bool_at = data.len() - 99 - 29 - 1; // the Bool argument's byte
        assert_eq!(data[bool_at - 1], 5);
        let mut bad_bool = data.clone();
        bad_bool[bool_at] = 2;
        assert!(decode_common_script(&bad_bool, 0).is_none());
        let mut bad_variant = data.clone();
        bad_variant[bool_at - 1] = 6;
        assert!(decode_common_script(&bad_variant, 0).is_none());
        let mut zero_high_group = data.clone();
        zero_high_group[26] = 0; // code length 0xc8 0x00: not canonical
        assert!(decode_common_script(&zero_high_group, 0).is_none());
    }

    #[test]
    fn invalid_identifiers_decline() {
        assert!(is_valid_identifier(b"a"));
        assert!(is_valid_identifier(b"_a"));
        assert!(is_valid_identifier(b"Z9_"));
        for bad in [
            &b""[..],
            b"_",
            b"1abc",
            b"ab-c",
            b"abc\n",
            b"a b",
            "é".as_bytes(),
        ] {
            assert!(!is_valid_identifier(bad), "{bad:?}");
        }
    }
}
