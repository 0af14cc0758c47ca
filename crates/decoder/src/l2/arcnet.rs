//! ARCNET, as BSD (LINKTYPE_ARCNET_BSD, 7) and Linux (LINKTYPE_ARCNET_LINUX,
//! 129) capture it: source and destination station (1 byte each), on Linux
//! the 2 offset bytes of the hardware frame, then a protocol ID. RFC 1201
//! protocols (all but RFC 1051 IP and ARP, diagnose and BACnet) add a split
//! flag and a 2-byte sequence number; BSD headers may be exception frames
//! (split flag 0xff, 2 padding bytes, the protocol ID again, the real split
//! flag).
//!
//! tshark 4.0 decodes IP (RFC 1051 and 1201), ARP and RARP (both) and IPv6
//! inside ARCNET; so does netcap.

use crate::wire::{Result, u8_at};
use crate::{Layer, PacketContext, network};

/// Which capture header precedes the ARCNET protocol ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// LINKTYPE_ARCNET_BSD: no offset bytes; exception frames possible.
    Bsd,
    /// LINKTYPE_ARCNET_LINUX: offset bytes; no exception frames.
    Linux,
}

pub const PROTO_IP_1051: u8 = 0xf0;
pub const PROTO_ARP_1051: u8 = 0xf1;
pub const PROTO_IP_1201: u8 = 0xd4;
pub const PROTO_ARP_1201: u8 = 0xd5;
pub const PROTO_RARP_1201: u8 = 0xd6;
pub const PROTO_IPV6: u8 = 0xc4;
pub const PROTO_DIAGNOSE: u8 = 0x80;
pub const PROTO_BACNET: u8 = 0xcd;

/// A parsed ARCNET header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArcnetHeader {
    pub src: u8,
    pub dst: u8,
    /// The hardware frame's offset bytes (Linux only).
    pub offset: Option<[u8; 2]>,
    pub protocol: u8,
    /// RFC 1201 split flag, for protocols that have one.
    pub split_flag: Option<u8>,
    /// RFC 1201 sequence number, for protocols that have one.
    pub sequence: Option<u16>,
    /// The header was an exception frame header.
    pub exception: bool,
    /// Where the protocol's payload starts.
    pub length: usize,
}

/// Parses the ARCNET header at the start of `data`.
pub fn parse(data: &[u8], variant: Variant) -> Result<ArcnetHeader> {
    const SHORT: &str = "ARCNET header truncated";
    let src = u8_at(data, 0, SHORT)?;
    let dst = u8_at(data, 1, SHORT)?;
    let (offset, mut at) = match variant {
        Variant::Linux => (Some(crate::wire::array::<2>(data, 2, SHORT)?), 4),
        Variant::Bsd => (None, 2),
    };
    let protocol = u8_at(data, at, SHORT)?;
    at += 1;
    let mut h =
        ArcnetHeader { src, dst, offset, protocol, split_flag: None, sequence: None, exception: false, length: at };
    if matches!(protocol, PROTO_IP_1051 | PROTO_ARP_1051 | PROTO_DIAGNOSE | PROTO_BACNET) {
        return Ok(h);
    }
    let mut split = u8_at(data, at, SHORT)?;
    if variant == Variant::Bsd && split == 0xff {
        // Exception flag, 2 padding bytes, the protocol ID again.
        h.exception = true;
        at += 4;
        split = u8_at(data, at, SHORT)?;
    }
    h.split_flag = Some(split);
    h.sequence = Some(crate::wire::be16(data, at + 1, SHORT)?);
    h.length = at + 3;
    Ok(h)
}

/// The EtherType of what follows an ARCNET protocol ID, for the protocols
/// netcap decodes.
pub fn ether_type(protocol: u8) -> Option<u16> {
    match protocol {
        PROTO_IP_1051 | PROTO_IP_1201 => Some(0x0800),
        PROTO_ARP_1051 | PROTO_ARP_1201 | PROTO_RARP_1201 => Some(0x0806),
        PROTO_IPV6 => Some(0x86dd),
        _ => None,
    }
}

/// An ARCNET frame at `offset` of `data`.
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize, variant: Variant) {
    let h = match parse(data.get(offset..).unwrap_or_default(), variant) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Link, offset, e),
    };
    if let Some(ether_type) = ether_type(h.protocol) {
        network::by_ether_type(cx, data, ether_type, offset + h.length);
    }
}

/// Fuzz entry point: both header variants on arbitrary bytes.
pub fn fuzz_entry(data: &[u8]) {
    for variant in [Variant::Bsd, Variant::Linux] {
        if let Ok(h) = parse(data, variant) {
            assert!(h.length <= data.len(), "ARCNET header of {} bytes in {}", h.length, data.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Malformed;

    /// Frames 1 and 3 of tcpdump-arcnet-rfc1051-arp-icmp-http.pcap
    /// (LINKTYPE_ARCNET_LINUX; `tshark -r ... -x -c 3`, `-V` names the
    /// fields): an RFC 1051 ARP request from station 0xbe (10.80.131.1 asks
    /// for 10.80.131.254) and an RFC 1051 IP ICMP echo request.
    const ARP_1051: [u8; 23] = [
        0xbe, 0x00, 0xed, 0x08, 0xf1, 0x00, 0x07, 0x08, 0x00, 0x01, 0x04, 0x00, 0x01, 0xbe, 0x0a, 0x50, 0x83, 0x01,
        0x00, 0x0a, 0x50, 0x83, 0xfe,
    ];
    const IP_1051_HEAD: [u8; 9] = [0xbe, 0x50, 0xab, 0x08, 0xf0, 0x45, 0x00, 0x00, 0x54];

    #[test]
    fn linux_rfc1051_headers_of_real_frames() {
        let h = parse(&ARP_1051, Variant::Linux).unwrap();
        assert_eq!(
            h,
            ArcnetHeader {
                src: 0xbe,
                dst: 0x00,
                offset: Some([0xed, 0x08]),
                protocol: PROTO_ARP_1051,
                split_flag: None,
                sequence: None,
                exception: false,
                length: 5,
            }
        );
        assert_eq!(ether_type(h.protocol), Some(0x0806));
        let h = parse(&IP_1051_HEAD, Variant::Linux).unwrap();
        assert_eq!((h.src, h.dst, h.protocol, h.length), (0xbe, 0x50, PROTO_IP_1051, 5));
        assert_eq!(ether_type(h.protocol), Some(0x0800));
    }

    #[test]
    fn rfc1201_split_flag_sequence_and_exception() {
        // Linux, RFC 1201 IP: split flag 0, sequence 0x1234.
        let linux = [0x01, 0x02, 0x00, 0x00, PROTO_IP_1201, 0x00, 0x12, 0x34, 0x45];
        let h = parse(&linux, Variant::Linux).unwrap();
        assert_eq!((h.split_flag, h.sequence, h.exception, h.length), (Some(0), Some(0x1234), false, 8));
        // Linux never has exception frames: 0xff is just the split flag.
        let mut linux_ff = linux;
        linux_ff[5] = 0xff;
        assert_eq!(parse(&linux_ff, Variant::Linux).unwrap().length, 8);
        // BSD exception frame: flag 0xff, padding, protocol again, split flag, sequence.
        let bsd = [0x01, 0x02, PROTO_IP_1201, 0xff, 0xff, 0xff, PROTO_IP_1201, 0x03, 0x00, 0x07, 0x45];
        let h = parse(&bsd, Variant::Bsd).unwrap();
        assert_eq!((h.offset, h.split_flag, h.sequence, h.exception, h.length), (None, Some(3), Some(7), true, 10));
        // Protocols without ARCNET fields: IPv6 (0xc4) is RFC 1201 style.
        assert_eq!(parse(&[1, 2, PROTO_IPV6, 0, 0, 1], Variant::Bsd).unwrap().length, 6);
        assert_eq!(parse(&[1, 2, PROTO_BACNET], Variant::Bsd).unwrap().length, 3);
    }

    #[test]
    fn truncated_headers_are_errors_at_every_cut() {
        let bsd = [0x01, 0x02, PROTO_IP_1201, 0xff, 0xff, 0xff, PROTO_IP_1201, 0x03, 0x00, 0x07];
        for end in 0..bsd.len() {
            assert_eq!(parse(&bsd[..end], Variant::Bsd), Err(Malformed("ARCNET header truncated")), "cut at {end}");
        }
        for end in 0..5 {
            assert!(parse(&ARP_1051[..end], Variant::Linux).is_err(), "cut at {end}");
        }
        for end in 5..=ARP_1051.len() {
            assert_eq!(parse(&ARP_1051[..end], Variant::Linux).map(|h| h.length), Ok(5));
        }
        for start in 0..=ARP_1051.len() {
            fuzz_entry(&ARP_1051[start..]);
        }
    }
}
