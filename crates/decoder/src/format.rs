//! Text renderings of addresses, written into reused strings.

use std::fmt::Write;
use std::net::Ipv6Addr;

const HEX: &[u8; 16] = b"0123456789abcdef";

// Addresses are formatted for every packet, so these write ASCII into a
// stack buffer and append it once instead of going through `fmt`.

/// `aa:bb:cc:dd:ee:ff` for 6 bytes; any other length as colon-separated hex.
pub(crate) fn write_mac(dst: &mut String, bytes: &[u8]) {
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
        let text = std::str::from_utf8(&buf[..n]).unwrap_or_default();
        // The first chunk's leading ':' is not part of the address.
        dst.push_str(if dst.is_empty() { text.get(1..).unwrap_or_default() } else { text });
    }
}

/// Dotted-quad IPv4 text.
pub(crate) fn write_ipv4(dst: &mut String, bytes: [u8; 4]) {
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
    dst.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}

/// RFC 5952 text (the form Wireshark prints).
pub(crate) fn write_ipv6(dst: &mut String, bytes: [u8; 16]) {
    dst.clear();
    let _ = write!(dst, "{}", Ipv6Addr::from(bytes));
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
