//! Apple PKTAP (LINKTYPE_PKTAP, 258): a little-endian metadata header
//! (length, record type, the link type of the packet that follows, interface
//! and process) before a packet of another link type.
//!
//! As in tshark 4.0, a header shorter than 108 bytes is malformed, and only
//! a record of type 1 (a packet) carries a packet, decoded by the header's
//! link type. The packet's link type may not be PKTAP again, so the nesting
//! is one level deep.

use crate::wire::{Malformed, Result};
use crate::{Layer, PacketContext, link};

/// Smallest header length (the header as macOS writes it).
pub const MIN_HEADER_LEN: usize = 108;
/// Record type of a header followed by a packet.
pub const RECORD_PACKET: u32 = 1;

/// The header fields the decoder uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PktapHeader<'a> {
    /// Header length: where the packet starts.
    pub length: usize,
    pub record_type: u32,
    /// Link type (DLT) of the packet after the header.
    pub dlt: u32,
    /// Interface name, up to its first NUL.
    pub interface: &'a [u8],
    /// Process ID that sent or received the packet.
    pub pid: u32,
    /// Its command name, up to the first NUL.
    pub command: &'a [u8],
}

fn le32(data: &[u8], at: usize) -> Result<u32> {
    crate::wire::array::<4>(data, at, "PKTAP header truncated").map(u32::from_le_bytes)
}

fn c_string(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}

/// Parses the header; the packet is `data[header.length..]`.
pub fn parse(data: &[u8]) -> Result<PktapHeader<'_>> {
    let length = le32(data, 0)?;
    let length = usize::try_from(length).unwrap_or(usize::MAX);
    if length < MIN_HEADER_LEN {
        return Err(Malformed("PKTAP header length below 108"));
    }
    if length > data.len() {
        return Err(Malformed("PKTAP header truncated"));
    }
    Ok(PktapHeader {
        length,
        record_type: le32(data, 4)?,
        dlt: le32(data, 8)?,
        interface: c_string(&data[12..36]),
        pid: le32(data, 52)?,
        command: c_string(&data[56..76]),
    })
}

/// A PKTAP packet at `offset` of `data`. The packet after the header is the
/// frame the link-layer records describe. A packet of a link type netcap
/// does not decode is a Link error (the capture's link type, PKTAP, is
/// supported, so it is not counted as an unsupported link type).
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Link, offset, e),
    };
    if h.record_type != RECORD_PACKET {
        return;
    }
    if h.dlt == link::LINKTYPE_PKTAP {
        return cx.error(Layer::Link, offset, "PKTAP packet inside PKTAP");
    }
    let inner = offset + h.length;
    cx.link_start = inner;
    if !link::decode_link(cx, data, h.dlt, inner) {
        cx.error(
            Layer::Link,
            offset,
            format_args!("PKTAP packet of link type {}, which netcap does not decode", h.dlt),
        );
    }
}

/// Where the packet after the header starts and its link type, for a
/// header followed by a packet of another link type.
pub fn inner_packet(data: &[u8]) -> Option<(u32, usize)> {
    let h = parse(data).ok()?;
    (h.record_type == RECORD_PACKET && h.dlt != link::LINKTYPE_PKTAP).then_some((h.dlt, h.length))
}

/// Fuzz entry point: the header parser on arbitrary bytes.
pub fn fuzz_entry(data: &[u8]) {
    if let Ok(h) = parse(data) {
        assert!((MIN_HEADER_LEN..=data.len()).contains(&h.length));
        assert!(h.interface.len() <= 24 && h.command.len() <= 20);
    }
    if let Some((dlt, at)) = inner_packet(data) {
        assert!(dlt != link::LINKTYPE_PKTAP && at <= data.len());
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::l2::nflog::tests::hex;

    /// The one packet of tcpdump-LINKTYPE_PKTAP.pcap (`tshark -r
    /// tcpdump-LINKTYPE_PKTAP.pcap -x`; `-V` names the fields): header length
    /// 108, record type 1, DLT 1, interface en0, protocol family 2, PID 512,
    /// then an Ethernet frame 70:73:cb:0b:26:2a -> 00:1e:49:1f:f2:c4 with a
    /// DNS query 10.32.4.27:63538 -> 10.32.100.15:53.
    pub(crate) const PKTAP_DNS: &str = concat!(
        "6c000000010000000100000065 6e30000000000000000000000000000000000000000000",
        "0200000002000000 0e000000 00000000 00020000",
        "0000000000000000000000000000000000000000",
        "00000000 0000 0000 ffffffff",
        "0000000000000000000000000000000000000000",
        "001e491ff2c47073cb0b262a0800",
        "4500003c2e030000ff1111440a20041b0a20640f",
        "f83200350028481443010100000100000000000002696e016d057961686f6f03636f6d0000010001",
    );

    #[test]
    fn header_of_a_real_packet() {
        let data = hex(PKTAP_DNS);
        assert_eq!(data.len(), 182);
        let h = parse(&data).unwrap();
        assert_eq!((h.length, h.record_type, h.dlt, h.pid), (108, 1, 1, 512));
        assert_eq!(h.interface, b"en0");
        assert_eq!(h.command, b"");
        assert_eq!(inner_packet(&data), Some((1, 108)));
        assert_eq!(&data[108..114], &[0x00, 0x1e, 0x49, 0x1f, 0xf2, 0xc4]);
    }

    #[test]
    fn malformed_and_truncated() {
        let data = hex(PKTAP_DNS);
        assert_eq!(parse(&data[..3]), Err(Malformed("PKTAP header truncated")));
        assert_eq!(parse(&data[..107]), Err(Malformed("PKTAP header truncated")));
        assert_eq!(parse(&data[..108]).map(|h| h.length), Ok(108));
        let mut short = data.clone();
        short[0] = 107;
        assert_eq!(parse(&short), Err(Malformed("PKTAP header length below 108")));
        let mut huge = data.clone();
        huge[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(parse(&huge), Err(Malformed("PKTAP header truncated")));
        // Record type 0: nothing follows.
        let mut none = data.clone();
        none[4] = 0;
        assert_eq!(inner_packet(&none), None);
        // PKTAP in PKTAP is refused.
        let mut nested = data.clone();
        nested[8..12].copy_from_slice(&258u32.to_le_bytes());
        assert_eq!(inner_packet(&nested), None);
    }

    #[test]
    fn every_cut_parses_without_panic() {
        let data = hex(PKTAP_DNS);
        for end in 0..=data.len() {
            fuzz_entry(&data[..end]);
            fuzz_entry(&data[end..]);
        }
    }
}
