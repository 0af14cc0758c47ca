//! Protobuf base-128 varints, read exactly as prost reads them.
//!
//! One reader for every crate that walks protobuf bytes or netcap's length
//! prefixes itself (the record reader, `dump`'s and `label`'s field walks,
//! `query`'s record views, the wire validator): at most ten bytes, the tenth
//! holding bit 63 only (`prost::encoding::decode_varint` refuses anything
//! more, and so must every walk that claims to read what prost reads).

/// Longest varint: ten bytes carry 64 bits.
pub const MAX_LEN: usize = 10;

/// What the bytes at the start of a buffer hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Varint {
    /// A varint of `len` bytes.
    Value { value: u64, len: usize },
    /// The buffer ends inside a varint (every byte has its continuation bit
    /// set, and there are fewer than ten): more input may complete it.
    Incomplete,
    /// Not a varint prost accepts: ten bytes without an end, or a tenth
    /// byte above 1 (bits past 64).
    Invalid,
}

/// Reads the varint at the start of `buf`.
#[inline(always)]
pub fn read(buf: &[u8]) -> Varint {
    // Keys and most values are one or two bytes: those take no loop.
    match *buf {
        [b0, ..] if b0 < 0x80 => Varint::Value { value: u64::from(b0), len: 1 },
        [b0, b1, ..] if b1 < 0x80 => Varint::Value { value: u64::from(b0 & 0x7f) | u64::from(b1) << 7, len: 2 },
        _ => read_long(buf),
    }
}

/// Varints of three bytes or more, and any at the very end of the buffer.
#[inline(never)]
fn read_long(buf: &[u8]) -> Varint {
    // With eight bytes at hand, the length comes from the first byte
    // without its continuation bit, and the value from masks and shifts:
    // no branch per byte, whose exit the CPU would mispredict (from
    // netcap-query's record walk, where timestamps and counters are long).
    if let Some(bytes) = buf.get(..8) {
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes);
        let word = u64::from_le_bytes(le);
        let value = seven_bit_groups(word);
        let ends = !word & 0x8080_8080_8080_8080;
        if ends != 0 {
            let len = ends.trailing_zeros() as usize / 8 + 1;
            // The groups of the bytes after the last one are not ours.
            return Varint::Value { value: value & ((1u64 << (7 * len)) - 1), len };
        }
        // Nine or ten bytes (a timestamp): 56 bits so far.
        let mut value = value;
        for (i, shift) in [(8, 56), (9, 63)] {
            let Some(&byte) = buf.get(i) else {
                return Varint::Incomplete;
            };
            // The tenth byte holds bit 63 only; prost refuses more.
            if shift == 63 && byte > 1 {
                return Varint::Invalid;
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Varint::Value { value, len: i + 1 };
            }
        }
        return Varint::Invalid;
    }
    let mut value = 0u64;
    for (i, &byte) in buf.iter().take(MAX_LEN).enumerate() {
        if i == MAX_LEN - 1 && byte > 1 {
            return Varint::Invalid;
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Varint::Value { value, len: i + 1 };
        }
    }
    if buf.len() >= MAX_LEN { Varint::Invalid } else { Varint::Incomplete }
}

/// The low seven bits of each of the eight bytes of `word` (little
/// endian), packed into 56 bits: pairs of bytes, then pairs of pairs.
#[inline]
fn seven_bit_groups(word: u64) -> u64 {
    let w = word & 0x7f7f_7f7f_7f7f_7f7f;
    let w = (w & 0x007f_007f_007f_007f) | (w & 0x7f00_7f00_7f00_7f00) >> 1;
    let w = (w & 0x0000_3fff_0000_3fff) | (w & 0x3fff_0000_3fff_0000) >> 2;
    (w & 0x0000_0000_0fff_ffff) | (w & 0x0fff_ffff_0000_0000) >> 4
}

/// Reads a varint from the front of `buf` and advances past it; `None`
/// (and `buf` unchanged) where prost's `decode_varint` fails.
#[inline(always)]
pub fn decode(buf: &mut &[u8]) -> Option<u64> {
    match read(buf) {
        Varint::Value { value, len } => {
            *buf = buf.get(len..)?;
            Some(value)
        }
        Varint::Incomplete | Varint::Invalid => None,
    }
}

/// Reads a varint at `buf[*at..]` and advances `at` past it; `None` (and
/// `at` unchanged) where prost's `decode_varint` fails or `at` is past the
/// end.
#[inline(always)]
pub fn decode_at(buf: &[u8], at: &mut usize) -> Option<u64> {
    match read(buf.get(*at..)?) {
        Varint::Value { value, len } => {
            *at += len;
            Some(value)
        }
        Varint::Incomplete | Varint::Invalid => None,
    }
}

/// Fuzzing entry point: reads `data` as a sequence of varints and checks
/// every step against prost's `decode_varint` (same value, same length,
/// same refusals) and against re-encoding. Panics on any disagreement.
pub fn fuzz_entry(data: &[u8]) {
    let mut ours = data;
    loop {
        let mut theirs = ours;
        let expected = prost::encoding::decode_varint(&mut theirs).ok();
        let before = ours;
        let got = decode(&mut ours);
        assert_eq!(got, expected, "{before:x?}");
        let Some(value) = got else {
            // Incomplete only when the input ends inside a varint.
            let incomplete = read(before) == Varint::Incomplete;
            assert_eq!(incomplete, before.len() < MAX_LEN && before.iter().all(|b| b & 0x80 != 0));
            assert_eq!(ours, before, "a failed read must not advance");
            return;
        };
        assert_eq!(ours.len(), theirs.len(), "{before:x?}");
        let mut at = 0;
        assert_eq!(decode_at(before, &mut at), Some(value));
        assert_eq!(at, before.len() - ours.len());
        // A varint read back re-encodes to at most as many bytes (longer
        // encodings with trailing zero groups are legal input).
        assert!(prost::encoding::encoded_len_varint(value) <= at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length from 1 to 10 bytes, at both ends of its range, read
    /// with each of the three functions, whole and cut short.
    #[test]
    fn every_length_reads_as_prost_reads_it() {
        let mut values = vec![0u64, 1, u64::MAX];
        for bits in (7..64).step_by(7) {
            values.extend([(1u64 << bits) - 1, 1 << bits]);
        }
        for value in values {
            let mut bytes = Vec::new();
            prost::encoding::encode_varint(value, &mut bytes);
            let len = bytes.len();
            assert_eq!(len, prost::encoding::encoded_len_varint(value));
            assert_eq!(read(&bytes), Varint::Value { value, len }, "{value:#x}");
            bytes.push(0x55);
            assert_eq!(read(&bytes), Varint::Value { value, len }, "{value:#x} with a byte after it");
            let mut buf = bytes.as_slice();
            assert_eq!(decode(&mut buf), Some(value));
            assert_eq!(buf, &[0x55]);
            let mut at = 0;
            assert_eq!(decode_at(&bytes, &mut at), Some(value));
            assert_eq!(at, len);
            for cut in 0..len {
                assert_eq!(read(&bytes[..cut]), Varint::Incomplete, "{value:#x} cut at {cut}");
                let mut buf = &bytes[..cut];
                assert_eq!(decode(&mut buf), None);
                assert_eq!(buf.len(), cut, "a failed read must not advance");
            }
        }
        assert_eq!(
            read(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).clone(),
            Varint::Value { value: u64::MAX, len: 10 }
        );
        // Padded encodings (trailing zero groups) are accepted, as by prost.
        assert_eq!(read(&[0x81, 0x80, 0x00]), Varint::Value { value: 1, len: 3 });
        let mut at = 5;
        assert_eq!(decode_at(&[1, 2], &mut at), None);
        assert_eq!(at, 5);
    }

    /// Bits past 64 and eleven-byte varints are refused, as prost refuses
    /// them.
    #[test]
    fn past_64_bits_is_refused_as_prost_refuses_it() {
        let cases: [&[u8]; 4] = [
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f],
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x81, 0x00],
            &[0xff; 12],
        ];
        for case in cases {
            assert_eq!(read(case), Varint::Invalid, "{case:x?}");
            let mut theirs = case;
            assert!(prost::encoding::decode_varint(&mut theirs).is_err(), "{case:x?}");
            let mut ours = case;
            assert_eq!(decode(&mut ours), None);
            fuzz_entry(case);
        }
    }

    #[test]
    fn fuzz_entry_takes_any_bytes() {
        fuzz_entry(b"");
        fuzz_entry(&[0x80]);
        fuzz_entry(&[0x96, 0x01, 0x00, 0xff, 0xff, 0x03, 0x80]);
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..2000 {
            let mut data = Vec::new();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                data.push(if x & 0x300 == 0 { 0xff } else { x as u8 });
            }
            fuzz_entry(&data);
        }
    }
}
