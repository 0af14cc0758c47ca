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
    dst.clear();
    push_hex(dst, bytes);
}

/// Appends `bytes` in lower-case hex.
pub fn push_hex(dst: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
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

/// Adds the byte range `start..end` to sorted, disjoint `ranges`, merging
/// it with the ranges it overlaps or touches, in place.
pub fn add_range(ranges: &mut Vec<(usize, usize)>, start: usize, end: usize) {
    ranges.push((start, end));
    ranges.sort_unstable();
    let mut kept = 0;
    for i in 0..ranges.len() {
        let (s, e) = ranges[i];
        if kept > 0 && s <= ranges[kept - 1].1 {
            ranges[kept - 1].1 = ranges[kept - 1].1.max(e);
        } else {
            ranges[kept] = (s, e);
            kept += 1;
        }
    }
    ranges.truncate(kept);
}

/// Replaces the items of a reused list of byte strings, keeping the
/// buffers it already has.
pub fn set_bytes_list<'a>(dst: &mut Vec<Vec<u8>>, items: impl IntoIterator<Item = &'a [u8]>) {
    let mut n = 0;
    for item in items {
        match dst.get_mut(n) {
            Some(slot) => {
                slot.clear();
                slot.extend_from_slice(item);
            }
            None => dst.push(item.to_vec()),
        }
        n += 1;
    }
    dst.truncate(n);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_when_they_overlap_or_touch() {
        let mut have = Vec::new();
        add_range(&mut have, 10, 20);
        add_range(&mut have, 30, 40);
        assert_eq!(have, [(10, 20), (30, 40)]);
        add_range(&mut have, 0, 5);
        assert_eq!(have, [(0, 5), (10, 20), (30, 40)]);
        add_range(&mut have, 20, 30);
        assert_eq!(have, [(0, 5), (10, 40)]);
        add_range(&mut have, 3, 12);
        assert_eq!(have, [(0, 40)]);
        add_range(&mut have, 5, 6);
        assert_eq!(have, [(0, 40)]);
        add_range(&mut have, 40, 40);
        assert_eq!(have, [(0, 40)]);
    }
}
