//! Text renderings of addresses, written into reused strings.

use std::fmt::Write;
use std::net::Ipv6Addr;

const HEX: &[u8; 16] = b"0123456789abcdef";

// Addresses are formatted for every packet, so these write ASCII into a
// stack buffer and append it once instead of going through `fmt`.

/// `aa:bb:cc:dd:ee:ff` for 6 bytes; any other length as colon-separated hex.
pub fn write_mac(dst: &mut String, bytes: &[u8]) {
    dst.clear();
    let mut buf = [0u8; 3 * 16];
    for chunk in bytes.chunks(16) {
        let mut n = 0;
        for b in chunk {
            buf[n] = b':';
            buf[n + 1] = HEX[usize::from(b >> 4)];
            buf[n + 2] = HEX[usize::from(b & 0xf)];
            n += 3;
        }
        // The first chunk's leading ':' is not part of the address.
        let skip = usize::from(dst.is_empty());
        push_ascii(dst, &buf[skip.min(n)..n]);
    }
}

/// Dotted-quad IPv4 text.
pub fn write_ipv4(dst: &mut String, bytes: [u8; 4]) {
    dst.clear();
    let mut buf = [0u8; 15];
    let mut n = 0;
    for (i, &octet) in bytes.iter().enumerate() {
        if i > 0 {
            buf[n] = b'.';
            n += 1;
        }
        if octet >= 100 {
            buf[n] = b'0' + octet / 100;
            n += 1;
        }
        if octet >= 10 {
            buf[n] = b'0' + octet / 10 % 10;
            n += 1;
        }
        buf[n] = b'0' + octet % 10;
        n += 1;
    }
    push_ascii(dst, &buf[..n]);
}

/// Appends ASCII bytes without UTF-8 validation (every byte is < 0x80).
fn push_ascii(dst: &mut String, ascii: &[u8]) {
    dst.reserve(ascii.len());
    dst.extend(ascii.iter().map(|&b| char::from(b)));
}

/// RFC 5952 text (the form Wireshark prints): lower-case hex groups without
/// leading zeros, the longest run of two or more zero groups (the first of
/// equal runs) as `::`. IPv4-mapped and -compatible forms go through std.
pub fn write_ipv6(dst: &mut String, bytes: [u8; 16]) {
    dst.clear();
    let groups: [u16; 8] = std::array::from_fn(|i| u16::from_be_bytes([bytes[2 * i], bytes[2 * i + 1]]));
    // ::a.b.c.d and ::ffff:a.b.c.d have dotted tails.
    if groups[..5] == [0; 5] && (groups[5] == 0xffff || (groups[5] == 0 && groups[6] != 0)) {
        let _ = write!(dst, "{}", Ipv6Addr::from(bytes));
        return;
    }
    let (mut best_start, mut best_len, mut run_start, mut run_len) = (0, 0, 0, 0);
    for (i, &g) in groups.iter().enumerate() {
        if g == 0 {
            if run_len == 0 {
                run_start = i;
            }
            run_len += 1;
            if run_len > best_len {
                (best_start, best_len) = (run_start, run_len);
            }
        } else {
            run_len = 0;
        }
    }
    let mut buf = [0u8; 39];
    let mut n = 0;
    let mut i = 0;
    while i < 8 {
        if best_len >= 2 && i == best_start {
            buf[n] = b':';
            buf[n + 1] = b':';
            n += 2;
            i += best_len;
            continue;
        }
        if n > 0 && buf[n - 1] != b':' {
            buf[n] = b':';
            n += 1;
        }
        let g = groups[i];
        let digits = (4 - g.leading_zeros() as usize / 4).max(1);
        for d in (0..digits).rev() {
            buf[n] = HEX[usize::from((g >> (4 * d)) & 0xf)];
            n += 1;
        }
        i += 1;
    }
    push_ascii(dst, &buf[..n]);
}

/// A protocol address: dotted quad for 4 bytes, IPv6 text for 16, else hex.
pub(crate) fn write_proto_addr(dst: &mut String, bytes: &[u8]) {
    if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
        write_ipv4(dst, v4)
    } else if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
        write_ipv6(dst, v6)
    } else {
        write_mac(dst, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn ipv4_text_matches_std_for_every_octet() {
        let mut s = String::new();
        for octet in 0..=255u8 {
            let bytes = [octet, 255 - octet, octet / 3, 7];
            write_ipv4(&mut s, bytes);
            assert_eq!(s, Ipv4Addr::from(bytes).to_string());
        }
        let long: Vec<u8> = (0..20).collect();
        write_mac(&mut s, &long);
        assert_eq!(s.len(), 20 * 3 - 1);
        assert!(s.starts_with("00:01:02") && s.ends_with(":13"), "{s}");
        write_mac(&mut s, &[]);
        assert_eq!(s, "");
    }

    #[test]
    fn ipv6_text_matches_std() {
        let mut s = String::new();
        let mut cases: Vec<[u8; 16]> = vec![[0; 16], [0xff; 16]];
        // Every pattern of zero and non-zero groups, with varied digits.
        for mask in 0..256u32 {
            let mut b = [0u8; 16];
            for g in 0..8 {
                if mask & (1 << g) != 0 {
                    b[2 * g] = (g as u8 * 17) & 0x0f;
                    b[2 * g + 1] = 0xa0 + g as u8;
                }
            }
            cases.push(b);
        }
        for b in cases {
            write_ipv6(&mut s, b);
            assert_eq!(s, Ipv6Addr::from(b).to_string(), "{b:?}");
        }
    }

    #[test]
    fn renders_addresses_like_wireshark() {
        let mut s = String::from("stale");
        write_mac(&mut s, &[0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef]);
        assert_eq!(s, "00:1b:21:ab:cd:ef");
        write_proto_addr(&mut s, &[192, 168, 0, 1]);
        assert_eq!(s, "192.168.0.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0xfe;
        v6[1] = 0x80;
        v6[15] = 1;
        write_ipv6(&mut s, v6);
        assert_eq!(s, "fe80::1");
    }
}
