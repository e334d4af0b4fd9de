//! Diem's `TransactionView` JSON of committed transactions, for the shapes pollers read most.
//!
//! [`transaction_view_json`] writes exactly the text `libra.api.dispatcher.encode_json` gives
//! for `libra.api.views.transaction_json(version, txn, data, info, [], False)` (compact,
//! keys in the view's order), for a user transaction of the common shape
//! ([`crate::transaction::decode_common`]) or a block metadata transaction, whose status is
//! `Executed`. Anything else (other payloads or statuses, events asked for, a string that
//! would need escaping) gives `None`, and the Python views answer.

use crate::transaction::{decode_common, transaction_hash, TypeArg};

const HEX: &[u8; 16] = b"0123456789abcdef";
const PRIMITIVE_NAMES: [&str; 6] = ["bool", "u8", "u64", "u128", "address", "signer"];

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for byte in bytes {
        out.push(HEX[(byte >> 4) as usize]);
        out.push(HEX[(byte & 0x0f) as usize]);
    }
}

fn push_u64(out: &mut Vec<u8>, value: u64) {
    out.extend_from_slice(value.to_string().as_bytes());
}

/// A string JSON writes as is: printable ASCII without `"` or `\`.
fn is_plain(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

fn push_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    out.extend_from_slice(text.as_bytes());
    out.push(b'"');
}

fn push_hex_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    push_hex(out, bytes);
    out.push(b'"');
}

/// The `KeptVMStatus` at the end of a stored `TransactionInfo` is `Executed` (a lone 0 byte),
/// and the gas used before it; `None` for any other layout or status.
fn executed_gas(info: &[u8]) -> Option<u64> {
    // variant 0, three 32-byte hashes with their length bytes, gas u64, status
    if info.len() != 1 + 3 * 33 + 8 + 1
        || info[0] != 0
        || info[1] != 32
        || info[34] != 32
        || info[67] != 32
    {
        return None;
    }
    if info[108] != 0 {
        return None;
    }
    Some(u64::from_le_bytes(
        info[100..108].try_into().expect("8 bytes"),
    ))
}

fn push_tail(out: &mut Vec<u8>, data: &[u8], gas_used: u64) {
    out.extend_from_slice(b",\"hash\":");
    push_hex_str(out, &transaction_hash(data));
    out.extend_from_slice(b",\"bytes\":");
    push_hex_str(out, data);
    out.extend_from_slice(b",\"events\":[],\"vm_status\":{\"type\":\"executed\"},\"gas_used\":");
    push_u64(out, gas_used);
    out.push(b'}');
}

fn user_view(out: &mut Vec<u8>, data: &[u8]) -> Option<()> {
    let txn = decode_common(data, 1)?;
    if txn.end != data.len() || !is_plain(txn.gas_currency_code) {
        return None;
    }
    out.extend_from_slice(b"{\"type\":\"user\",\"sender\":");
    push_hex_str(out, &txn.sender);
    out.extend_from_slice(b",\"signature_scheme\":\"Scheme::Ed25519\",\"signature\":");
    push_hex_str(out, &txn.signature);
    out.extend_from_slice(b",\"public_key\":");
    push_hex_str(out, &txn.public_key);
    out.extend_from_slice(
        b",\"secondary_signers\":[],\"secondary_signature_schemes\":[],\"secondary_signatures\":[],\"secondary_public_keys\":[],\"sequence_number\":",
    );
    push_u64(out, txn.sequence_number);
    out.extend_from_slice(b",\"chain_id\":");
    push_u64(out, u64::from(txn.chain_id));
    out.extend_from_slice(b",\"max_gas_amount\":");
    push_u64(out, txn.max_gas_amount);
    out.extend_from_slice(b",\"gas_unit_price\":");
    push_u64(out, txn.gas_unit_price);
    out.extend_from_slice(b",\"gas_currency\":");
    push_str(out, txn.gas_currency_code);
    out.extend_from_slice(b",\"expiration_timestamp_secs\":");
    push_u64(out, txn.expiration_timestamp_secs);
    // a script function's hash is zero; its bytes are the payload after the variant byte
    out.extend_from_slice(b",\"script_hash\":");
    push_hex_str(out, &[0u8; 32]);
    out.extend_from_slice(b",\"script_bytes\":");
    push_hex_str(
        out,
        &data[txn.raw_start + 25..txn.raw_end - (8 + 8 + 1 + txn.gas_currency_code.len() + 8 + 1)],
    );
    out.extend_from_slice(b",\"script\":{\"type\":\"script_function\",\"arguments_bcs\":[");
    for (index, arg) in txn.args.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        push_hex_str(out, arg);
    }
    out.extend_from_slice(b"],\"type_arguments\":[");
    for (index, arg) in txn.ty_args.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        match arg {
            TypeArg::Primitive(variant) => push_str(out, PRIMITIVE_NAMES[*variant as usize]),
            TypeArg::Struct { module, .. } => push_str(out, module),
        }
    }
    out.extend_from_slice(b"],\"module_address\":");
    push_hex_str(out, &txn.module_address);
    out.extend_from_slice(b",\"module_name\":");
    push_str(out, txn.module_name);
    out.extend_from_slice(b",\"function_name\":");
    push_str(out, txn.function);
    out.extend_from_slice(b"}}");
    Some(())
}

/// `BlockMetadata`: id (32-byte hash), round, timestamp, votes, proposer; the view shows the time.
fn block_metadata_view(out: &mut Vec<u8>, data: &[u8]) -> Option<()> {
    let mut reader = crate::bcs::Reader::new(&data[1..]);
    let id = reader.bytes("HashValue").ok()?;
    if id.len() != 32 {
        return None;
    }
    reader.u64().ok()?;
    let timestamp = reader.u64().ok()?;
    let votes = reader.length("previous block votes length").ok()?;
    for _ in 0..votes {
        reader.raw(16, "address").ok()?;
    }
    reader.raw(16, "address").ok()?;
    reader.finish().ok()?;
    out.extend_from_slice(b"{\"type\":\"blockmetadata\",\"timestamp_usecs\":");
    push_u64(out, timestamp);
    out.push(b'}');
    Some(())
}

/// The `TransactionView` text of the stored transaction `data` (the `Transaction` enum's BCS)
/// at `version` with the stored `TransactionInfo` BCS `info`, or `None` (see the module docs).
pub fn transaction_view_json(version: u64, data: &[u8], info: &[u8]) -> Option<Vec<u8>> {
    let gas_used = executed_gas(info)?;
    let mut out = Vec::with_capacity(64 + data.len() * 4);
    out.extend_from_slice(b"{\"version\":");
    push_u64(&mut out, version);
    out.extend_from_slice(b",\"transaction\":");
    match data.first()? {
        0 => user_view(&mut out, data)?,
        2 => block_metadata_view(&mut out, data)?,
        _ => return None,
    }
    push_tail(&mut out, data, gas_used);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(gas: u64, status: &[u8]) -> Vec<u8> {
        let mut out = vec![0u8];
        for _ in 0..3 {
            out.push(32);
            out.extend_from_slice(&[7u8; 32]);
        }
        out.extend_from_slice(&gas.to_le_bytes());
        out.extend_from_slice(status);
        out
    }

    #[test]
    fn block_metadata_shows_its_time() {
        let mut data = vec![2u8, 32];
        data.extend_from_slice(&[1u8; 32]);
        data.extend_from_slice(&5u64.to_le_bytes());
        data.extend_from_slice(&1234u64.to_le_bytes());
        data.push(0);
        data.extend_from_slice(&[9u8; 16]);
        let text =
            String::from_utf8(transaction_view_json(3, &data, &info(0, &[0])).unwrap()).unwrap();
        assert!(text.starts_with("{\"version\":3,\"transaction\":{\"type\":\"blockmetadata\",\"timestamp_usecs\":1234},\"hash\":\""));
        assert!(
            text.ends_with("\"events\":[],\"vm_status\":{\"type\":\"executed\"},\"gas_used\":0}")
        );
    }

    #[test]
    fn other_statuses_and_kinds_decline() {
        let mut data = vec![2u8, 32];
        data.extend_from_slice(&[1u8; 32]);
        data.extend_from_slice(&[0u8; 16]);
        data.push(0);
        data.extend_from_slice(&[9u8; 16]);
        assert!(transaction_view_json(3, &data, &info(0, &[0])).is_some());
        assert!(transaction_view_json(3, &data, &info(0, &[1, 0, 0])).is_none()); // not executed
        let mut genesis = data.clone();
        genesis[0] = 1;
        assert!(transaction_view_json(3, &genesis, &info(0, &[0])).is_none());
        data.push(0); // trailing byte
        assert!(transaction_view_json(3, &data, &info(0, &[0])).is_none());
    }

    #[test]
    fn plain_strings_only() {
        assert!(is_plain("XUS"));
        assert!(!is_plain("a\"b"));
        assert!(!is_plain("a\\b"));
        assert!(!is_plain("é"));
        assert!(!is_plain("a\nb"));
    }
}
