//! Addresses are stored as bytes (network order) and shown as text. Which
//! `bytes` fields are addresses follows from their names (docs/dump.md):
//! `ip`, `*_ip`, `*_ips` and `*_proto_addr` are IP addresses; `mac`, `*_mac`
//! `*_macs` and `*_hw_addr` are MAC addresses.

use prost_reflect::{FieldDescriptor, Kind};
use std::io::Write;
use std::net::Ipv6Addr;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Address {
    Ip,
    Mac,
}

/// Whether `field` holds addresses, and of which kind.
pub(crate) fn address_kind(field: &FieldDescriptor) -> Option<Address> {
    if !matches!(field.kind(), Kind::Bytes) {
        return None;
    }
    let name = field.name();
    if name == "ip" || name.ends_with("_ip") || name.ends_with("_ips") || name.ends_with("_proto_addr") {
        Some(Address::Ip)
    } else if name == "mac" || name.ends_with("_mac") || name.ends_with("_macs") || name.ends_with("_hw_addr") {
        Some(Address::Mac)
    } else {
        None
    }
}

/// Appends an address as text: dotted quad for 4-byte IPs, RFC 5952 text
/// (as Wireshark prints it) for 16-byte IPs, colon-separated hex for MACs
/// and for IPs of any other length.
pub(crate) fn push_address(buf: &mut Vec<u8>, kind: Address, bytes: &[u8]) {
    if kind == Address::Ip {
        if let Ok(v4) = <[u8; 4]>::try_from(bytes) {
            push_ipv4(buf, v4);
            return;
        }
        if let Ok(v6) = <[u8; 16]>::try_from(bytes) {
            let _ = write!(buf, "{}", Ipv6Addr::from(v6));
            return;
        }
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            buf.push(b':');
        }
        buf.push(HEX[usize::from(b >> 4)]);
        buf.push(HEX[usize::from(b & 0xf)]);
    }
}

/// Appends an IPv4 address in dotted decimal, as `Ipv4Addr`'s `Display`
/// writes it, without the formatting machinery (`netcap label` renders
/// two per Connection record).
fn push_ipv4(buf: &mut Vec<u8>, octets: [u8; 4]) {
    for (i, octet) in octets.into_iter().enumerate() {
        if i > 0 {
            buf.push(b'.');
        }
        if octet >= 100 {
            buf.push(b'0' + octet / 100);
        }
        if octet >= 10 {
            buf.push(b'0' + octet / 10 % 10);
        }
        buf.push(b'0' + octet % 10);
    }
}

/// An address as a `String`, for JSON.
pub(crate) fn address_string(kind: Address, bytes: &[u8]) -> String {
    let mut buf = Vec::with_capacity(40);
    push_address(&mut buf, kind, bytes);
    String::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(kind: Address, bytes: &[u8]) -> String {
        address_string(kind, bytes)
    }

    #[test]
    fn renders_addresses_like_wireshark() {
        assert_eq!(text(Address::Mac, &[0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef]), "00:1b:21:ab:cd:ef");
        assert_eq!(text(Address::Ip, &[192, 168, 0, 1]), "192.168.0.1");
        let mut v6 = [0u8; 16];
        v6[0] = 0xfe;
        v6[1] = 0x80;
        v6[15] = 1;
        assert_eq!(text(Address::Ip, &v6), "fe80::1");
        v6[10] = 0xff;
        v6[11] = 0xff;
        v6[0] = 0;
        v6[1] = 0;
        assert_eq!(text(Address::Ip, &v6), "::ffff:0.0.0.1");
        // Not an IP length: hex, so nothing is lost.
        assert_eq!(text(Address::Ip, &[1, 2]), "01:02");
        assert_eq!(text(Address::Mac, &[]), "");
    }

    #[test]
    fn ipv4_text_is_std_display() {
        for octet in 0..=255u8 {
            for bytes in [[octet, 0, 9, 255], [10, octet, 100, 1], [1, 99, octet, 200], [255, 10, 0, octet]] {
                let want = std::net::Ipv4Addr::from(bytes).to_string();
                assert_eq!(text(Address::Ip, &bytes), want);
            }
        }
    }
}
