//! Link layers: the capture's LINKTYPE decides how to find the network layer.

use crate::{Layer, PacketContext, l2, network};
use etherparse::{Ethernet2HeaderSlice, SingleVlanHeaderSlice};
use netcap_records::RecordType;

pub const LINKTYPE_NULL: u32 = 0;
pub const LINKTYPE_ETHERNET: u32 = 1;
/// ARCNET with BSD-style headers (no offset bytes).
pub const LINKTYPE_ARCNET_BSD: u32 = 7;
pub const LINKTYPE_PPP: u32 = 9;
/// DLT_RAW as some BSDs write it into pcap files.
pub const LINKTYPE_RAW_BSD_12: u32 = 12;
pub const LINKTYPE_RAW_BSD_14: u32 = 14;
pub const LINKTYPE_PPP_HDLC: u32 = 50;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_IEEE802_11: u32 = 105;
pub const LINKTYPE_LOOP: u32 = 108;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_IEEE802_11_RADIOTAP: u32 = 127;
/// ARCNET with Linux-style headers (offset bytes).
pub const LINKTYPE_ARCNET_LINUX: u32 = 129;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
/// Linux netfilter NFLOG.
pub const LINKTYPE_NFLOG: u32 = 239;
/// Apple PKTAP: a metadata header before a packet of another link type.
pub const LINKTYPE_PKTAP: u32 = 258;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Names of the supported link types, for help texts and summaries.
pub const LINKTYPE_NAMES: &[(u32, &str)] = &[
    (LINKTYPE_NULL, "NULL"),
    (LINKTYPE_ETHERNET, "ETHERNET"),
    (LINKTYPE_ARCNET_BSD, "ARCNET_BSD"),
    (LINKTYPE_PPP, "PPP"),
    (LINKTYPE_RAW_BSD_12, "RAW"),
    (LINKTYPE_RAW_BSD_14, "RAW"),
    (LINKTYPE_PPP_HDLC, "PPP_HDLC"),
    (LINKTYPE_RAW, "RAW"),
    (LINKTYPE_IEEE802_11, "IEEE802_11"),
    (LINKTYPE_LOOP, "LOOP"),
    (LINKTYPE_LINUX_SLL, "LINUX_SLL"),
    (LINKTYPE_IEEE802_11_RADIOTAP, "IEEE802_11_RADIOTAP"),
    (LINKTYPE_ARCNET_LINUX, "ARCNET_LINUX"),
    (LINKTYPE_IPV4, "IPV4"),
    (LINKTYPE_IPV6, "IPV6"),
    (LINKTYPE_NFLOG, "NFLOG"),
    (LINKTYPE_PKTAP, "PKTAP"),
    (LINKTYPE_LINUX_SLL2, "LINUX_SLL2"),
];

pub fn is_supported_link_type(link_type: u32) -> bool {
    LINKTYPE_NAMES.iter().any(|(lt, _)| *lt == link_type)
}

/// Name of a link type, "LINKTYPE_<n>" for unknown ones.
pub fn link_type_name(link_type: u32) -> String {
    LINKTYPE_NAMES
        .iter()
        .find(|(lt, _)| *lt == link_type)
        .map(|(_, name)| (*name).to_string())
        .unwrap_or_else(|| format!("LINKTYPE_{link_type}"))
}

const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
/// Deepest VLAN stack decoded; deeper tags are reported as an error.
const MAX_VLAN_TAGS: u32 = 8;

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8]) {
    let link_type = cx.meta.link_type;
    if !decode_link(cx, data, link_type, 0) {
        *cx.stats.unsupported_link_types.entry(link_type).or_default() += 1;
    }
}

/// Decodes the frame of link type `link_type` starting at `offset` (0, or
/// after a PKTAP header); false if netcap does not decode that link type.
pub(crate) fn decode_link(cx: &mut PacketContext<'_>, data: &[u8], link_type: u32, offset: usize) -> bool {
    match link_type {
        LINKTYPE_ETHERNET => ethernet(cx, data, offset),
        LINKTYPE_RAW | LINKTYPE_RAW_BSD_12 | LINKTYPE_RAW_BSD_14 => network::raw_ip(cx, data, offset),
        LINKTYPE_IPV4 => network::ipv4(cx, data, offset),
        LINKTYPE_IPV6 => network::ipv6(cx, data, offset),
        LINKTYPE_LINUX_SLL => linux_sll(cx, data, offset),
        LINKTYPE_LINUX_SLL2 => linux_sll2(cx, data, offset),
        LINKTYPE_NULL | LINKTYPE_LOOP => bsd_loopback(cx, data, offset),
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => ppp(cx, data, offset),
        LINKTYPE_IEEE802_11 => l2::dot11::decode(cx, data, offset, false),
        LINKTYPE_IEEE802_11_RADIOTAP => l2::dot11::decode(cx, data, offset, true),
        LINKTYPE_NFLOG => l2::nflog::decode(cx, data, offset),
        LINKTYPE_PKTAP if offset == 0 => l2::pktap::decode(cx, data, offset),
        LINKTYPE_ARCNET_BSD => l2::arcnet::decode(cx, data, offset, l2::arcnet::Variant::Bsd),
        LINKTYPE_ARCNET_LINUX => l2::arcnet::decode(cx, data, offset, l2::arcnet::Variant::Linux),
        _ => return false,
    }
    true
}

/// An Ethernet II or 802.3 frame starting at `offset` (0, or inside a tunnel).
pub(crate) fn ethernet(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let frame = data.get(offset..).unwrap_or_default();
    let header = match Ethernet2HeaderSlice::from_slice(frame) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Ethernet, offset, e),
    };
    let ether_type = header.ether_type().0;
    let header_len = header.slice().len();
    cx.summary.src_mac = Some(header.source());
    cx.summary.dst_mac = Some(header.destination());
    if cx.wants(RecordType::Ethernet) {
        let r = &mut cx.scratch.ethernet;
        crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
        crate::set_bytes(&mut r.src_mac, &header.source());
        crate::set_bytes(&mut r.dst_mac, &header.destination());
        r.ether_type = u32::from(ether_type);
        r.captured_length = frame.len() as u32;
        // The capture's wire length covers the frame at the link start (less
        // any pseudo-header before it); an inner frame's is its own length.
        r.wire_length = if offset == cx.link_start {
            cx.meta.wire_length.saturating_sub(u32::try_from(offset).unwrap_or(u32::MAX))
        } else {
            frame.len() as u32
        };
        let payload = &frame[header_len..];
        crate::set_payload(&mut r.payload, payload, cx.config.payloads);
        cx.out.push(RecordType::Ethernet, &cx.scratch.ethernet);
    }
    // Values up to 1500 are an 802.3 length: an 802.2 LLC header follows
    // (0xffff there is Novell's raw 802.3 IPX, which has none).
    if ether_type <= 1500 {
        let start = offset + header_len;
        let end = (start + usize::from(ether_type)).min(data.len());
        if data.get(start..start + 2) != Some(&[0xff, 0xff]) {
            l2::llc::decode(cx, &data[..end], start);
        }
        return;
    }
    by_ether_type(cx, data, ether_type, offset + header_len);
}

/// Walks stacked VLAN tags, then dispatches on the EtherType that follows them.
pub(crate) fn by_ether_type(cx: &mut PacketContext<'_>, data: &[u8], mut ether_type: u16, mut offset: usize) {
    cx.link_headers += 1;
    if cx.link_headers > crate::MAX_LINK_HEADERS {
        return cx.error(
            Layer::Link,
            offset,
            format_args!("more than {} nested link headers", crate::MAX_LINK_HEADERS),
        );
    }
    let mut index = 0;
    while matches!(ether_type, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        if index == MAX_VLAN_TAGS {
            return cx.error(Layer::Vlan, offset, format_args!("more than {MAX_VLAN_TAGS} stacked VLAN tags"));
        }
        let tag = match SingleVlanHeaderSlice::from_slice(data.get(offset..).unwrap_or_default()) {
            Ok(tag) => tag,
            Err(e) => return cx.error(Layer::Vlan, offset, e),
        };
        let inner = tag.ether_type().0;
        if cx.wants(RecordType::Dot1q) {
            let r = &mut cx.scratch.dot1q;
            crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
            r.index = index;
            r.tpid = u32::from(ether_type);
            r.priority = u32::from(tag.priority_code_point().value());
            r.drop_eligible = tag.drop_eligible_indicator();
            r.vlan_id = u32::from(tag.vlan_identifier().value());
            r.ether_type = u32::from(inner);
            cx.out.push(RecordType::Dot1q, &cx.scratch.dot1q);
        }
        ether_type = inner;
        offset += tag.slice().len();
        index += 1;
    }
    match ether_type {
        // An 802.3 length after VLAN tags: LLC follows.
        0..=1500 => {
            let end = (offset + usize::from(ether_type)).min(data.len());
            l2::llc::decode(cx, &data[..end], offset)
        }
        // Cisco MetaData (security group tag): version, length, options and
        // tag in 6 bytes, then an EtherType.
        ETHERTYPE_CISCO_METADATA => match data.get(offset + 6..offset + 8) {
            Some(t) => by_ether_type(cx, data, u16::from_be_bytes([t[0], t[1]]), offset + 8),
            None => cx.error(Layer::Link, offset, "Cisco MetaData header truncated"),
        },
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => l2::mpls::decode(cx, data, offset),
        ETHERTYPE_PPPOE_DISCOVERY | ETHERTYPE_PPPOE_SESSION => l2::pppoe::decode(cx, data, offset, ether_type),
        ETHERTYPE_LLDP => l2::lldp::decode(cx, data, offset),
        ETHERTYPE_EAPOL => l2::eapol::decode(cx, data, offset),
        // Transparent Ethernet bridging: an Ethernet frame inside a tunnel.
        ETHERTYPE_TEB => ethernet(cx, data, offset),
        _ => network::by_ether_type(cx, data, ether_type, offset),
    }
}

const ETHERTYPE_MPLS: u16 = 0x8847;
pub(crate) const ETHERTYPE_CISCO_METADATA: u16 = 0x8909;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
const ETHERTYPE_PPPOE_DISCOVERY: u16 = 0x8863;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_LLDP: u16 = 0x88cc;
const ETHERTYPE_EAPOL: u16 = 0x888e;
pub(crate) const ETHERTYPE_TEB: u16 = 0x6558;

/// Linux "cooked" capture v1 at `offset`: 16-byte header, protocol in the
/// last 2 bytes.
fn linux_sll(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    const LEN: usize = 16;
    let Some(h) = data.get(offset..).and_then(|f| f.get(..LEN)) else {
        let captured = data.len().saturating_sub(offset);
        return cx.error(Layer::Link, offset, format_args!("Linux SLL header needs {LEN} bytes, {captured} captured"));
    };
    let arphrd = u16::from_be_bytes([h[2], h[3]]);
    let protocol = u16::from_be_bytes([h[14], h[15]]);
    sll_payload(cx, data, arphrd, protocol, offset + LEN);
}

/// Linux "cooked" capture v2 at `offset`: 20-byte header, protocol first.
fn linux_sll2(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    const LEN: usize = 20;
    let Some(h) = data.get(offset..).and_then(|f| f.get(..LEN)) else {
        let captured = data.len().saturating_sub(offset);
        return cx.error(Layer::Link, offset, format_args!("Linux SLL2 header needs {LEN} bytes, {captured} captured"));
    };
    let protocol = u16::from_be_bytes([h[0], h[1]]);
    let arphrd = u16::from_be_bytes([h[8], h[9]]);
    sll_payload(cx, data, arphrd, protocol, offset + LEN);
}

fn sll_payload(cx: &mut PacketContext<'_>, data: &[u8], arphrd: u16, protocol: u16, offset: usize) {
    const ARPHRD_NETLINK: u16 = 824;
    /// Linux's ETH_P_802_2: an 802.2 LLC frame follows.
    const ETH_P_802_2: u16 = 0x0004;
    if arphrd == ARPHRD_NETLINK {
        return;
    }
    // Below 0x0600 the protocol field is not an EtherType (CAN, netlink,
    // ...): nothing this decoder follows, except 802.2 LLC.
    if protocol == ETH_P_802_2 {
        return l2::llc::decode(cx, data, offset);
    }
    if protocol < 0x0600 {
        return;
    }
    by_ether_type(cx, data, protocol, offset);
}

/// BSD loopback at `offset`: a 4-byte address family, in the writer's byte
/// order for LINKTYPE_NULL and big-endian for LINKTYPE_LOOP.
fn bsd_loopback(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let Some(&raw) = data.get(offset..).and_then(|f| f.first_chunk::<4>()) else {
        let captured = data.len().saturating_sub(offset);
        return cx.error(Layer::Link, offset, format_args!("loopback header needs 4 bytes, {captured} captured"));
    };
    let next = offset + 4;
    // The family is a small number, so whichever byte order gives one is right.
    let family = match u32::from_le_bytes(raw) {
        f if f <= 0xffff => f,
        _ => u32::from_be_bytes(raw),
    };
    const AF_INET: u32 = 2;
    // AF_INET6 differs by OS: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS.
    match family {
        AF_INET => network::ipv4(cx, data, next),
        10 | 24 | 28 | 30 => network::ipv6(cx, data, next),
        // Some old Linux loopback captures put an EtherType in bytes 2-3
        // instead of a family; Wireshark reads them the same way.
        _ => match u16::from_be_bytes([raw[2], raw[3]]) {
            0x0800 => network::ipv4(cx, data, next),
            0x86dd => network::ipv6(cx, data, next),
            _ => {}
        },
    }
}

/// PPP (RFC 1661) at `offset`, optionally with HDLC-like framing (address
/// 0xff, control 0x03).
pub(crate) fn ppp(cx: &mut PacketContext<'_>, data: &[u8], mut offset: usize) {
    if data.get(offset..offset + 2) == Some(&[0xff, 0x03]) {
        offset += 2;
    }
    let Some((protocol, len)) = ppp_protocol(data, offset) else {
        return cx.error(Layer::Link, offset, "PPP protocol field truncated");
    };
    ppp_payload(cx, data, protocol, offset + len);
}

/// The PPP protocol field at `offset` and its length (1 with protocol-field
/// compression, else 2).
pub(crate) fn ppp_protocol(data: &[u8], offset: usize) -> Option<(u16, usize)> {
    let first = *data.get(offset)?;
    // Protocol-field compression: an odd first byte is a 1-byte protocol.
    if first & 1 == 1 {
        return Some((u16::from(first), 1));
    }
    Some((u16::from_be_bytes([first, *data.get(offset + 1)?]), 2))
}

pub(crate) const PPP_IPV4: u16 = 0x0021;
pub(crate) const PPP_IPV6: u16 = 0x0057;

/// What follows a PPP protocol field: IPv4 or IPv6 (others are not decoded).
pub(crate) fn ppp_payload(cx: &mut PacketContext<'_>, data: &[u8], protocol: u16, offset: usize) {
    match protocol {
        PPP_IPV4 => network::ipv4(cx, data, offset),
        PPP_IPV6 => network::ipv6(cx, data, offset),
        _ => {}
    }
}

/// Where the IP header of a captured packet starts, if the packet is IPv4
/// or IPv6 right under its link layer (VLAN tags allowed): a few byte checks,
/// for the capture thread's fragment detection. Tunnels are not entered.
pub fn network_offset(link_type: u32, data: &[u8]) -> Option<usize> {
    let be16 = |at: usize| data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let ether = |mut ether_type: u16, mut offset: usize| {
        let mut tags = 0;
        while matches!(ether_type, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) && tags < MAX_VLAN_TAGS {
            ether_type = be16(offset + 2)?;
            offset += 4;
            tags += 1;
        }
        matches!(ether_type, 0x0800 | 0x86dd).then_some(offset)
    };
    let offset = match link_type {
        LINKTYPE_ETHERNET => ether(be16(12)?, 14)?,
        LINKTYPE_RAW | LINKTYPE_RAW_BSD_12 | LINKTYPE_RAW_BSD_14 | LINKTYPE_IPV4 | LINKTYPE_IPV6 => 0,
        LINKTYPE_LINUX_SLL => ether(be16(14)?, 16)?,
        LINKTYPE_LINUX_SLL2 => ether(be16(0)?, 20)?,
        LINKTYPE_NULL | LINKTYPE_LOOP => 4,
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => {
            let start = if data.get(..2) == Some(&[0xff, 0x03]) { 2 } else { 0 };
            let (protocol, len) = ppp_protocol(data, start)?;
            matches!(protocol, PPP_IPV4 | PPP_IPV6).then_some(start + len)?
        }
        LINKTYPE_NFLOG => {
            let (ether_type, start, _) = l2::nflog::network_payload(data)?;
            ether(ether_type, start)?
        }
        LINKTYPE_ARCNET_BSD | LINKTYPE_ARCNET_LINUX => {
            let variant =
                if link_type == LINKTYPE_ARCNET_BSD { l2::arcnet::Variant::Bsd } else { l2::arcnet::Variant::Linux };
            let h = l2::arcnet::parse(data, variant).ok()?;
            ether(l2::arcnet::ether_type(h.protocol)?, h.length)?
        }
        LINKTYPE_PKTAP => {
            // One level: the inner link type is never PKTAP.
            let (dlt, start) = l2::pktap::inner_packet(data)?;
            return network_offset(dlt, data.get(start..)?).map(|o| start + o);
        }
        _ => return None,
    };
    matches!(data.get(offset).map(|b| b >> 4), Some(4 | 6)).then_some(offset)
}
