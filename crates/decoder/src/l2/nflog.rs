//! Linux netfilter NFLOG (LINKTYPE_NFLOG, 239): a 4-byte header (address
//! family, version, resource ID) and type-length-value attributes, one of
//! which (NFULA_PAYLOAD) holds the logged packet from its network header on.
//!
//! The attributes' length and type fields are in the byte order of the host
//! that wrote the capture (the pcap file's byte order); Wireshark's reader
//! swaps them to its own. The decoder sees only the packet, so it takes the
//! byte order in which the first attribute is well formed (little-endian
//! first). Like tshark 4.0, the payload is decoded by the EtherType of
//! NFULA_PACKET_HDR when that is not 0, else by the family (IPv4 or IPv6);
//! an attribute length below 4 ends the walk and nothing is decoded.

use crate::wire::{Malformed, Result};
use crate::{Layer, PacketContext, link, network};

/// Length of the fixed header before the attributes.
pub const HEADER_LEN: usize = 4;
/// NFULA_PACKET_HDR: hardware protocol (EtherType, big-endian), hook, pad.
pub const NFULA_PACKET_HDR: u16 = 1;
/// NFULA_PAYLOAD: the logged packet.
pub const NFULA_PAYLOAD: u16 = 9;
/// NFPROTO_IPV4 and NFPROTO_IPV6, the families tshark decodes a payload by.
pub const NFPROTO_IPV4: u8 = 2;
pub const NFPROTO_IPV6: u8 = 10;
/// The attribute type is the low 15 bits (tshark's mask; the top bit is
/// NLA_F_NESTED).
const TYPE_MASK: u16 = 0x7fff;

/// Byte order of the attributes' length and type fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    fn u16(self, b: [u8; 2]) -> u16 {
        match self {
            ByteOrder::Little => u16::from_le_bytes(b),
            ByteOrder::Big => u16::from_be_bytes(b),
        }
    }
}

/// One attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// Attribute type (NFULA_*), masked to 15 bits.
    pub kind: u16,
    /// Where the value starts, from the start of the NFLOG header.
    pub value_offset: usize,
    /// The value, cut at the captured bytes.
    pub value: &'a [u8],
    /// The length field says the value goes on past the captured bytes.
    pub cut: bool,
}

/// The fixed NFLOG header and the byte order of its attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NflogHeader {
    /// NFPROTO_* address family of the logged packet.
    pub family: u8,
    pub version: u8,
    /// Resource ID (the nflog group), big-endian on the wire.
    pub resource_id: u16,
    pub order: ByteOrder,
}

/// What the decoder needs from a whole NFLOG packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nflog<'a> {
    pub header: NflogHeader,
    /// NFULA_PACKET_HDR's hardware protocol (an EtherType); 0 when the
    /// attribute is absent or not 4 bytes long. The last one counts.
    pub hw_protocol: u16,
    /// The last NFULA_PAYLOAD attribute.
    pub payload: Option<Tlv<'a>>,
    /// Attributes walked.
    pub tlvs: usize,
    /// An attribute's length runs past the bytes given.
    pub overrun: bool,
}

pub fn parse_header(data: &[u8]) -> Result<NflogHeader> {
    let [family, version, r0, r1] = crate::wire::array::<4>(data, 0, "NFLOG header truncated")?;
    Ok(NflogHeader { family, version, resource_id: u16::from_be_bytes([r0, r1]), order: byte_order(data) })
}

/// The byte order in which the first attribute is well formed: length at
/// least 4 and within the packet, type a small NFULA number.
fn byte_order(data: &[u8]) -> ByteOrder {
    let Some(first) = data.get(HEADER_LEN..HEADER_LEN + 4) else { return ByteOrder::Little };
    let remaining = data.len() - HEADER_LEN;
    let plausible = |order: ByteOrder| {
        let len = usize::from(order.u16([first[0], first[1]]));
        let kind = order.u16([first[2], first[3]]) & TYPE_MASK;
        (4..=remaining).contains(&len) && (1..0x100).contains(&kind)
    };
    if !plausible(ByteOrder::Little) && plausible(ByteOrder::Big) { ByteOrder::Big } else { ByteOrder::Little }
}

/// The attributes after the header, in `order`. Each step advances at least
/// 4 bytes (lengths are rounded up to 4), so the walk ends within
/// `data.len() / 4` steps; a length below 4 yields an error and ends it.
pub fn tlvs(data: &[u8], order: ByteOrder) -> impl Iterator<Item = Result<Tlv<'_>>> + '_ {
    let mut at = HEADER_LEN;
    std::iter::from_fn(move || {
        let head = data.get(at..at.checked_add(4)?)?;
        let len = usize::from(order.u16([head[0], head[1]]));
        if len < 4 {
            at = data.len();
            return Some(Err(Malformed("NFLOG attribute length below 4")));
        }
        let kind = order.u16([head[2], head[3]]) & TYPE_MASK;
        let value_offset = at + 4;
        let end = at + len;
        let value = data.get(value_offset..end.min(data.len())).unwrap_or_default();
        // Attributes are padded to 4 bytes.
        at = at.saturating_add(len.next_multiple_of(4));
        Some(Ok(Tlv { kind, value_offset, value, cut: end > data.len() }))
    })
}

/// Parses the header and walks every attribute.
pub fn parse(data: &[u8]) -> Result<Nflog<'_>> {
    let header = parse_header(data)?;
    let mut out = Nflog { header, hw_protocol: 0, payload: None, tlvs: 0, overrun: false };
    for tlv in tlvs(data, header.order) {
        let tlv = tlv?;
        out.tlvs += 1;
        out.overrun |= tlv.cut;
        match tlv.kind {
            NFULA_PACKET_HDR if tlv.value.len() == 4 && !tlv.cut => {
                out.hw_protocol = u16::from_be_bytes([tlv.value[0], tlv.value[1]]);
            }
            NFULA_PAYLOAD => out.payload = Some(tlv),
            _ => {}
        }
    }
    Ok(out)
}

/// Where the logged packet's network header starts and how it is decoded:
/// (EtherType, offset, end of the payload).
pub fn network_payload(data: &[u8]) -> Option<(u16, usize, usize)> {
    let n = parse(data).ok()?;
    let payload = n.payload?;
    let ether_type = match (n.hw_protocol, n.header.family) {
        (0, NFPROTO_IPV4) => 0x0800,
        (0, NFPROTO_IPV6) => 0x86dd,
        (0, _) => return None,
        (p, _) => p,
    };
    Some((ether_type, payload.value_offset, payload.value_offset + payload.value.len()))
}

/// An NFLOG packet at `offset` of `data`.
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let frame = data.get(offset..).unwrap_or_default();
    let n = match parse(frame) {
        Ok(n) => n,
        Err(e) => return cx.error(Layer::Link, offset, e),
    };
    if n.overrun {
        // tshark stops at an attribute that runs past the packet; when the
        // capture cut the packet short (snaplen), it decodes what is there.
        let captured = u32::try_from(data.len()).unwrap_or(u32::MAX);
        if cx.meta.wire_length <= captured {
            return cx.error(Layer::Link, offset, "NFLOG attribute length runs past the packet");
        }
        cx.error(Layer::Link, offset, "NFLOG attribute truncated by the capture");
    }
    let Some(payload) = n.payload else { return };
    let start = offset + payload.value_offset;
    // The payload is a slice of `data` (its end is within it): the layers
    // above see the packet only, not the attributes after it.
    let data = data.get(..start + payload.value.len()).unwrap_or(data);
    match (n.hw_protocol, n.header.family) {
        (0, NFPROTO_IPV4) => network::ipv4(cx, data, start),
        (0, NFPROTO_IPV6) => network::ipv6(cx, data, start),
        (0, _) => {}
        (ether_type, _) => link::by_ether_type(cx, data, ether_type, start),
    }
}

/// Fuzz entry point: the parser and the byte-order guess on arbitrary
/// bytes, with the invariants the decoder relies on.
pub fn fuzz_entry(data: &[u8]) {
    if let Ok(n) = parse(data) {
        assert!(n.tlvs <= data.len() / 4, "{} attributes in {} bytes", n.tlvs, data.len());
        if let Some(p) = n.payload {
            assert!(p.value_offset + p.value.len() <= data.len());
        }
    }
    if let Some((_, start, end)) = network_payload(data) {
        assert!(start <= end && end <= data.len());
    }
    for order in [ByteOrder::Little, ByteOrder::Big] {
        for tlv in tlvs(data, order).flatten() {
            assert!(tlv.value_offset >= HEADER_LEN + 4 && tlv.value_offset + tlv.value.len() <= data.len());
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Frame 1 of zeek-nflog-http.pcap (`tshark -r zeek-nflog-http.pcap -x
    /// -c 1`; `-V` names the fields): family IPv4, resource 42, PACKET_HDR
    /// (hw protocol 0, hook 3), PREFIX "", IFINDEX_OUTDEV 2, UID 0, GID 0,
    /// PAYLOAD of 60 bytes (a TCP SYN 10.0.2.15:49762 -> 93.184.216.34:80).
    /// Frame 3 is the same but for PACKET_HDR: hw protocol 0x0800, hook 4.
    pub(crate) const NFLOG_SYN: &str = concat!(
        "0200002a",
        "0800010000000300",
        "05000a0000000000",
        "0800050000000002",
        "08000b0000000000",
        "08000e0000000000",
        "40000900",
        "4500003ce8ef400040060fe30a00020f5db8d822",
        "c26200503f32bad100000000a002721042180000",
        "020405b40402080a0027523e0000000001030307",
    );

    pub(crate) fn hex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn header_and_attributes_of_a_real_packet() {
        let data = hex(NFLOG_SYN);
        assert_eq!(data.len(), 108);
        let n = parse(&data).unwrap();
        assert_eq!(
            n.header,
            NflogHeader { family: NFPROTO_IPV4, version: 0, resource_id: 42, order: ByteOrder::Little }
        );
        assert_eq!(n.hw_protocol, 0);
        assert_eq!(n.tlvs, 6);
        let kinds: Vec<u16> = tlvs(&data, ByteOrder::Little).map(|t| t.unwrap().kind).collect();
        assert_eq!(kinds, [1, 10, 5, 11, 14, 9]);
        let p = n.payload.unwrap();
        assert_eq!((p.value_offset, p.value.len(), p.cut), (48, 60, false));
        assert_eq!(&p.value[..4], &[0x45, 0, 0, 0x3c]);
        assert_eq!(network_payload(&data), Some((0x0800, 48, 108)));
    }

    #[test]
    fn big_endian_attributes_are_recognised() {
        let mut data = hex(NFLOG_SYN);
        // Swap every attribute's length and type.
        let mut at = HEADER_LEN;
        while at + 4 <= data.len() {
            let len = usize::from(u16::from_le_bytes([data[at], data[at + 1]]));
            data.swap(at, at + 1);
            data.swap(at + 2, at + 3);
            at += len.next_multiple_of(4);
        }
        let n = parse(&data).unwrap();
        assert_eq!(n.header.order, ByteOrder::Big);
        assert_eq!(n.tlvs, 6);
        assert_eq!(n.payload.unwrap().value_offset, 48);
    }

    #[test]
    fn hw_protocol_chooses_the_payload_decoder() {
        let mut data = hex(NFLOG_SYN);
        // Frame 3: PACKET_HDR with hw protocol 0x0800 and hook 4.
        data[8..12].copy_from_slice(&[0x08, 0x00, 0x04, 0x00]);
        assert_eq!(parse(&data).unwrap().hw_protocol, 0x0800);
        assert_eq!(network_payload(&data), Some((0x0800, 48, 108)));
        // hw protocol 0x86dd wins over the family (IPv4).
        data[8] = 0x86;
        data[9] = 0xdd;
        assert_eq!(network_payload(&data), Some((0x86dd, 48, 108)));
        // No hw protocol, unknown family: nothing to decode.
        data[8] = 0;
        data[9] = 0;
        data[0] = 7;
        assert_eq!(network_payload(&data), None);
    }

    #[test]
    fn malformed_and_truncated() {
        let data = hex(NFLOG_SYN);
        assert_eq!(parse(&data[..3]), Err(Malformed("NFLOG header truncated")));
        // A zero length ends the walk with an error, not a loop.
        let mut zero = data.clone();
        zero[4] = 0;
        zero[5] = 0;
        assert_eq!(parse(&zero), Err(Malformed("NFLOG attribute length below 4")));
        // Cut inside the payload: the value is what was captured.
        let cut = parse(&data[..70]).unwrap().payload.unwrap();
        assert_eq!((cut.value.len(), cut.cut), (22, true));
        // Cut inside an attribute header: the walk stops before it.
        assert_eq!(parse(&data[..46]).unwrap().tlvs, 5);
        // A length past the end, with the maximal 0xffff.
        let mut huge = data[..12].to_vec();
        huge[4] = 0xff;
        huge[5] = 0xff;
        let t: Vec<_> = tlvs(&huge, ByteOrder::Little).collect();
        assert_eq!(t.len(), 1);
        assert!(t[0].unwrap().cut);
    }

    /// zeek-nflog-bad-tlv-len.pcap of the shared corpus's malformed/ (tshark:
    /// "Malformed Packet: NFLOG"): an attribute of length 256 in 12 bytes.
    #[test]
    fn attribute_past_the_packet() {
        let data = hex("020000000001010000000000");
        let n = parse(&data).unwrap();
        assert!(n.overrun);
        assert_eq!((n.tlvs, n.hw_protocol, n.payload), (1, 0, None));
        assert!(!parse(&hex(NFLOG_SYN)).unwrap().overrun);
    }

    #[test]
    fn every_prefix_parses_without_panic() {
        let data = hex(NFLOG_SYN);
        for end in 0..=data.len() {
            fuzz_entry(&data[..end]);
            for start in 0..end {
                fuzz_entry(&data[start..end]);
            }
        }
        for b in 0..=255u8 {
            fuzz_entry(&[2, 0, 0, 0, b, b, b, b, b, b, b, b]);
        }
    }
}
