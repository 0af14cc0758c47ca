//! Checked big-endian reads for the hand-written parsers: every read returns
//! `Err(Malformed)` instead of panicking when the bytes run out.

use std::fmt;

/// Why a parser rejected its input; becomes the `reason` of an `Error` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for Malformed {}

pub type Result<T> = std::result::Result<T, Malformed>;

/// `data[at..at + N]` as an array.
pub fn array<const N: usize>(data: &[u8], at: usize, what: &'static str) -> Result<[u8; N]> {
    data.get(at..at.checked_add(N).ok_or(Malformed(what))?).and_then(|b| b.try_into().ok()).ok_or(Malformed(what))
}

pub fn u8_at(data: &[u8], at: usize, what: &'static str) -> Result<u8> {
    data.get(at).copied().ok_or(Malformed(what))
}

pub fn be16(data: &[u8], at: usize, what: &'static str) -> Result<u16> {
    array::<2>(data, at, what).map(u16::from_be_bytes)
}

pub fn be24(data: &[u8], at: usize, what: &'static str) -> Result<u32> {
    array::<3>(data, at, what).map(|b| u32::from_be_bytes([0, b[0], b[1], b[2]]))
}

pub fn be32(data: &[u8], at: usize, what: &'static str) -> Result<u32> {
    array::<4>(data, at, what).map(u32::from_be_bytes)
}

pub fn be64(data: &[u8], at: usize, what: &'static str) -> Result<u64> {
    array::<8>(data, at, what).map(u64::from_be_bytes)
}

/// `data[at..at + len]`.
pub fn bytes<'a>(data: &'a [u8], at: usize, len: usize, what: &'static str) -> Result<&'a [u8]> {
    data.get(at..at.checked_add(len).ok_or(Malformed(what))?).ok_or(Malformed(what))
}

/// Lower-case hex of `bytes` into a reused string.
pub fn write_hex(dst: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    dst.clear();
    dst.reserve(bytes.len() * 2);
    for b in bytes {
        dst.push(char::from(HEX[usize::from(b >> 4)]));
        dst.push(char::from(HEX[usize::from(b & 0xf)]));
    }
}

/// Text of a protocol string field: UTF-8 as is, else lossy.
pub fn write_text(dst: &mut String, bytes: &[u8]) {
    dst.clear();
    match std::str::from_utf8(bytes) {
        Ok(s) => dst.push_str(s),
        Err(_) => dst.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// IPv4 (4 bytes) or IPv6 (16 bytes) address text; other lengths as hex.
pub fn write_ip(dst: &mut String, bytes: &[u8]) {
    match bytes.len() {
        4 => crate::format::write_ipv4(dst, [bytes[0], bytes[1], bytes[2], bytes[3]]),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(bytes);
            crate::format::write_ipv6(dst, a);
        }
        _ => write_hex(dst, bytes),
    }
}

/// A new string holding an address (for repeated fields).
pub fn ip_string(bytes: &[u8]) -> String {
    let mut s = String::new();
    write_ip(&mut s, bytes);
    s
}
