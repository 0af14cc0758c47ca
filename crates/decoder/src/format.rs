//! Text renderings of addresses, written into reused strings.

use std::fmt::Write;
use std::net::{Ipv4Addr, Ipv6Addr};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `aa:bb:cc:dd:ee:ff` for 6 bytes; any other length as colon-separated hex.
pub(crate) fn write_mac(dst: &mut String, bytes: &[u8]) {
    dst.clear();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            dst.push(':');
        }
        dst.push(HEX[usize::from(b >> 4)] as char);
        dst.push(HEX[usize::from(b & 0xf)] as char);
    }
}

pub(crate) fn write_ipv4(dst: &mut String, bytes: [u8; 4]) {
    dst.clear();
    let _ = write!(dst, "{}", Ipv4Addr::from(bytes));
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
