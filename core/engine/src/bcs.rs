//! Strict BCS, as `libra.bcs` (diem-protocol.md §5): the same canonical-form rules and the
//! same error text (reason, byte offset, what was expected), so a native decoder refuses
//! exactly what the Python one refuses and says so in the same words.

use std::fmt;

pub const MAX_SEQUENCE_LENGTH: u64 = (1 << 31) - 1;
pub const U32_MAX: u64 = u32::MAX as u64;

/// Bytes that are not the canonical BCS encoding of the expected type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BcsError {
    pub reason: String,
    pub offset: Option<usize>,
    pub expected: Option<String>,
}

impl BcsError {
    pub fn new(reason: impl Into<String>, offset: usize, expected: impl Into<String>) -> Self {
        let expected = expected.into();
        BcsError {
            reason: reason.into(),
            offset: Some(offset),
            expected: if expected.is_empty() {
                None
            } else {
                Some(expected)
            },
        }
    }
}

impl fmt::Display for BcsError {
    /// `reason (at byte N, expected X)`, as `BcsError.__str__` in Python.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(offset) = self.offset {
            parts.push(format!("at byte {offset}"));
        }
        if let Some(expected) = &self.expected {
            parts.push(format!("expected {expected}"));
        }
        if parts.is_empty() {
            write!(f, "{}", self.reason)
        } else {
            write!(f, "{} ({})", self.reason, parts.join(", "))
        }
    }
}

impl std::error::Error for BcsError {}

pub type Result<T> = std::result::Result<T, BcsError>;

/// Reads BCS values from a byte string, refusing anything non-canonical.
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    pub fn offset(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    /// The input from `start` to the current position.
    pub fn since(&self, start: usize) -> &'a [u8] {
        &self.data[start..self.pos]
    }

    pub fn finish(&self) -> Result<()> {
        if self.pos != self.data.len() {
            return Err(BcsError::new(
                format!(
                    "{} trailing byte(s) after the value",
                    self.data.len() - self.pos
                ),
                self.pos,
                "end of input",
            ));
        }
        Ok(())
    }

    pub fn raw(&mut self, size: usize, expected: &str) -> Result<&'a [u8]> {
        if size > self.data.len() - self.pos {
            return Err(BcsError::new(
                format!(
                    "input ends after {} byte(s), {} needed",
                    self.data.len() - self.pos,
                    size
                ),
                self.pos,
                expected,
            ));
        }
        let start = self.pos;
        self.pos += size;
        Ok(&self.data[start..self.pos])
    }

    pub fn fixed<const N: usize>(&mut self, expected: &str) -> Result<[u8; N]> {
        let bytes = self.raw(N, expected)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    pub fn bool(&mut self) -> Result<bool> {
        let offset = self.pos;
        let byte = self.raw(1, "bool")?[0];
        if byte > 1 {
            return Err(BcsError::new(
                format!("invalid bool byte 0x{byte:02x}"),
                offset,
                "bool (00 or 01)",
            ));
        }
        Ok(byte == 1)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.raw(1, "u8")?[0])
    }

    pub fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.fixed::<8>("u64")?))
    }

    pub fn u128(&mut self) -> Result<u128> {
        Ok(u128::from_le_bytes(self.fixed::<16>("u128")?))
    }

    pub fn uleb128(&mut self, limit: u64, expected: &str) -> Result<u64> {
        let start = self.pos;
        // at most 10 groups of 7 bits: the value fits in a u128, as Python's int holds it
        let mut value: u128 = 0;
        let mut shift: u32 = 0;
        loop {
            if self.pos >= self.data.len() {
                return Err(BcsError::new(
                    "input ends inside a ULEB128 integer",
                    start,
                    expected,
                ));
            }
            let byte = self.data[self.pos];
            self.pos += 1;
            value |= u128::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                if byte == 0 && shift > 0 {
                    return Err(BcsError::new(
                        "non-canonical ULEB128 (redundant zero group)",
                        start,
                        expected,
                    ));
                }
                break;
            }
            shift += 7;
            if shift > 63 {
                return Err(BcsError::new("ULEB128 integer too long", start, expected));
            }
        }
        if value > u128::from(limit) {
            return Err(BcsError::new(
                format!("ULEB128 value {value} exceeds {limit}"),
                start,
                expected,
            ));
        }
        Ok(value as u64)
    }

    /// A sequence length: at most 2^31 - 1 and no more than the bytes left.
    pub fn length(&mut self, expected: &str) -> Result<usize> {
        let start = self.pos;
        let size = self.uleb128(MAX_SEQUENCE_LENGTH, expected)?;
        let left = self.data.len() - self.pos;
        if size as usize > left {
            return Err(BcsError::new(
                format!("length {size} exceeds the {left} byte(s) left"),
                start,
                expected,
            ));
        }
        Ok(size as usize)
    }

    pub fn variant(&mut self, count: u64, type_name: &str) -> Result<u64> {
        let start = self.pos;
        let index = self.uleb128(U32_MAX, &format!("{type_name} variant index"))?;
        if index >= count {
            return Err(BcsError::new(
                format!("unknown {type_name} variant {index}"),
                start,
                format!("{type_name} variant < {count}"),
            ));
        }
        Ok(index)
    }

    pub fn bytes(&mut self, expected: &str) -> Result<&'a [u8]> {
        let size = self.length(&format!("{expected} length"))?;
        self.raw(size, expected)
    }

    /// A UTF-8 string (its bytes; the text is checked to be valid UTF-8).
    pub fn str(&mut self, expected: &str) -> Result<&'a str> {
        let start = self.pos;
        let data = self.bytes(expected)?;
        std::str::from_utf8(data).map_err(|_| BcsError::new("invalid UTF-8", start, expected))
    }
}

/// Appends BCS encodings to a buffer.
#[derive(Default)]
pub struct Writer {
    pub out: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Writer {
            out: Vec::with_capacity(capacity),
        }
    }

    pub fn raw(&mut self, data: &[u8]) {
        self.out.extend_from_slice(data);
    }

    pub fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    pub fn bool(&mut self, value: bool) {
        self.out.push(u8::from(value));
    }

    pub fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub fn uleb128(&mut self, value: u64) {
        push_uleb128(&mut self.out, value);
    }

    pub fn bytes(&mut self, data: &[u8]) {
        push_uleb128(&mut self.out, data.len() as u64);
        self.out.extend_from_slice(data);
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

pub fn push_uleb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The size of `value`'s ULEB128 encoding.
pub fn uleb128_size(mut value: u64) -> usize {
    let mut size = 1;
    while value >= 0x80 {
        value >>= 7;
        size += 1;
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uleb128_round_trips_and_is_canonical() {
        for value in [
            0u64,
            1,
            127,
            128,
            300,
            16383,
            16384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            push_uleb128(&mut out, value);
            assert_eq!(out.len(), uleb128_size(value));
            let mut reader = Reader::new(&out);
            assert_eq!(reader.uleb128(u64::MAX, "x").unwrap(), value);
            reader.finish().unwrap();
        }
    }

    #[test]
    fn uleb128_errors_say_what_python_says() {
        let err = Reader::new(&[0x80, 0x00])
            .uleb128(U32_MAX, "ULEB128 integer")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "non-canonical ULEB128 (redundant zero group) (at byte 0, expected ULEB128 integer)"
        );
        let err = Reader::new(&[0x80])
            .uleb128(U32_MAX, "ULEB128 integer")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "input ends inside a ULEB128 integer (at byte 0, expected ULEB128 integer)"
        );
        let err = Reader::new(&[0x80, 0x80, 0x80, 0x80, 0x10])
            .uleb128(U32_MAX, "n")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "ULEB128 value 4294967296 exceeds 4294967295 (at byte 0, expected n)"
        );
        let err = Reader::new(&[0xff; 10]).uleb128(U32_MAX, "n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "ULEB128 integer too long (at byte 0, expected n)"
        );
    }

    #[test]
    fn lengths_beyond_the_input_are_refused_before_reading() {
        let err = Reader::new(&[0x05, 1, 2]).bytes("bytes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "length 5 exceeds the 2 byte(s) left (at byte 0, expected bytes length)"
        );
    }

    #[test]
    fn bools_and_trailing_bytes() {
        let err = Reader::new(&[2]).bool().unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid bool byte 0x02 (at byte 0, expected bool (00 or 01))"
        );
        let mut reader = Reader::new(&[1, 0]);
        assert!(reader.bool().unwrap());
        assert_eq!(
            reader.finish().unwrap_err().to_string(),
            "1 trailing byte(s) after the value (at byte 1, expected end of input)"
        );
    }

    #[test]
    fn variants_out_of_range_name_the_type() {
        let err = Reader::new(&[3])
            .variant(3, "TransactionPayload")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown TransactionPayload variant 3 (at byte 0, expected TransactionPayload variant < 3)"
        );
    }
}
