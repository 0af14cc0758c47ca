//! Link layers: the capture's LINKTYPE decides how to find the network layer.

use crate::{Layer, PacketContext, PacketRecord, network};
use etherparse::{Ethernet2HeaderSlice, SingleVlanHeaderSlice};
use netcap_records::RecordType;

pub const LINKTYPE_NULL: u32 = 0;
pub const LINKTYPE_ETHERNET: u32 = 1;
pub const LINKTYPE_PPP: u32 = 9;
/// DLT_RAW as some BSDs write it into pcap files.
pub const LINKTYPE_RAW_BSD_12: u32 = 12;
pub const LINKTYPE_RAW_BSD_14: u32 = 14;
pub const LINKTYPE_PPP_HDLC: u32 = 50;
pub const LINKTYPE_RAW: u32 = 101;
pub const LINKTYPE_LOOP: u32 = 108;
pub const LINKTYPE_LINUX_SLL: u32 = 113;
pub const LINKTYPE_IPV4: u32 = 228;
pub const LINKTYPE_IPV6: u32 = 229;
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// Names of the supported link types, for help texts and summaries.
pub const LINKTYPE_NAMES: &[(u32, &str)] = &[
    (LINKTYPE_NULL, "NULL"),
    (LINKTYPE_ETHERNET, "ETHERNET"),
    (LINKTYPE_PPP, "PPP"),
    (LINKTYPE_RAW_BSD_12, "RAW"),
    (LINKTYPE_RAW_BSD_14, "RAW"),
    (LINKTYPE_PPP_HDLC, "PPP_HDLC"),
    (LINKTYPE_RAW, "RAW"),
    (LINKTYPE_LOOP, "LOOP"),
    (LINKTYPE_LINUX_SLL, "LINUX_SLL"),
    (LINKTYPE_IPV4, "IPV4"),
    (LINKTYPE_IPV6, "IPV6"),
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
    match cx.meta.link_type {
        LINKTYPE_ETHERNET => ethernet(cx, data),
        LINKTYPE_RAW | LINKTYPE_RAW_BSD_12 | LINKTYPE_RAW_BSD_14 => network::raw_ip(cx, data, 0),
        LINKTYPE_IPV4 => network::ipv4(cx, data, 0),
        LINKTYPE_IPV6 => network::ipv6(cx, data, 0),
        LINKTYPE_LINUX_SLL => linux_sll(cx, data),
        LINKTYPE_LINUX_SLL2 => linux_sll2(cx, data),
        LINKTYPE_NULL | LINKTYPE_LOOP => bsd_loopback(cx, data),
        LINKTYPE_PPP | LINKTYPE_PPP_HDLC => ppp(cx, data),
        other => *cx.stats.unsupported_link_types.entry(other).or_default() += 1,
    }
}

fn ethernet(cx: &mut PacketContext<'_>, data: &[u8]) {
    let header = match Ethernet2HeaderSlice::from_slice(data) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Ethernet, 0, e),
    };
    let ether_type = header.ether_type().0;
    let header_len = header.slice().len();
    cx.summary.src_mac = Some(header.source());
    cx.summary.dst_mac = Some(header.destination());
    if cx.wants(RecordType::Ethernet) {
        let r = &mut cx.scratch.ethernet;
        r.stamp(cx.meta);
        crate::set_bytes(&mut r.src_mac, &header.source());
        crate::set_bytes(&mut r.dst_mac, &header.destination());
        r.ether_type = u32::from(ether_type);
        r.captured_length = data.len() as u32;
        r.wire_length = cx.meta.wire_length;
        let payload = &data[header_len..];
        crate::set_payload(&mut r.payload, payload, cx.config.payloads);
        cx.out.push(RecordType::Ethernet, &cx.scratch.ethernet);
    }
    vlan_then_network(cx, data, ether_type, header_len);
}

/// Walks stacked VLAN tags, then hands the EtherType that follows them on.
fn vlan_then_network(cx: &mut PacketContext<'_>, data: &[u8], mut ether_type: u16, mut offset: usize) {
    let mut index = 0;
    while matches!(ether_type, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD) {
        if index == MAX_VLAN_TAGS {
            return cx.error(Layer::Vlan, offset, format_args!("more than {MAX_VLAN_TAGS} stacked VLAN tags"));
        }
        let tag = match SingleVlanHeaderSlice::from_slice(&data[offset..]) {
            Ok(tag) => tag,
            Err(e) => return cx.error(Layer::Vlan, offset, e),
        };
        let inner = tag.ether_type().0;
        if cx.wants(RecordType::Dot1q) {
            let r = &mut cx.scratch.dot1q;
            r.stamp(cx.meta);
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
    network::by_ether_type(cx, data, ether_type, offset);
}

/// Linux "cooked" capture v1: 16-byte header, protocol in the last 2 bytes.
fn linux_sll(cx: &mut PacketContext<'_>, data: &[u8]) {
    const LEN: usize = 16;
    if data.len() < LEN {
        return cx.error(Layer::Link, 0, format_args!("Linux SLL header needs {LEN} bytes, {} captured", data.len()));
    }
    let arphrd = u16::from_be_bytes([data[2], data[3]]);
    let protocol = u16::from_be_bytes([data[14], data[15]]);
    sll_payload(cx, data, arphrd, protocol, LEN);
}

/// Linux "cooked" capture v2: 20-byte header, protocol first.
fn linux_sll2(cx: &mut PacketContext<'_>, data: &[u8]) {
    const LEN: usize = 20;
    if data.len() < LEN {
        return cx.error(Layer::Link, 0, format_args!("Linux SLL2 header needs {LEN} bytes, {} captured", data.len()));
    }
    let protocol = u16::from_be_bytes([data[0], data[1]]);
    let arphrd = u16::from_be_bytes([data[8], data[9]]);
    sll_payload(cx, data, arphrd, protocol, LEN);
}

fn sll_payload(cx: &mut PacketContext<'_>, data: &[u8], arphrd: u16, protocol: u16, offset: usize) {
    const ARPHRD_NETLINK: u16 = 824;
    // Below 0x0600 the protocol field is not an EtherType (802.2 LLC, CAN,
    // netlink, ...): nothing this decoder follows.
    if arphrd == ARPHRD_NETLINK || protocol < 0x0600 {
        return;
    }
    vlan_then_network(cx, data, protocol, offset);
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for
/// LINKTYPE_NULL and big-endian for LINKTYPE_LOOP.
fn bsd_loopback(cx: &mut PacketContext<'_>, data: &[u8]) {
    if data.len() < 4 {
        return cx.error(Layer::Link, 0, format_args!("loopback header needs 4 bytes, {} captured", data.len()));
    }
    let raw = [data[0], data[1], data[2], data[3]];
    // The family is a small number, so whichever byte order gives one is right.
    let family = match u32::from_le_bytes(raw) {
        f if f <= 0xffff => f,
        _ => u32::from_be_bytes(raw),
    };
    const AF_INET: u32 = 2;
    // AF_INET6 differs by OS: 10 Linux, 24 NetBSD/OpenBSD, 28 FreeBSD, 30 macOS.
    match family {
        AF_INET => network::ipv4(cx, data, 4),
        10 | 24 | 28 | 30 => network::ipv6(cx, data, 4),
        // Some old Linux loopback captures put an EtherType in bytes 2-3
        // instead of a family; Wireshark reads them the same way.
        _ => match u16::from_be_bytes([data[2], data[3]]) {
            0x0800 => network::ipv4(cx, data, 4),
            0x86dd => network::ipv6(cx, data, 4),
            _ => {}
        },
    }
}

/// PPP (RFC 1661), optionally with HDLC-like framing (address 0xff, control 0x03).
fn ppp(cx: &mut PacketContext<'_>, data: &[u8]) {
    let mut offset = 0;
    if data.len() >= 2 && data[0] == 0xff && data[1] == 0x03 {
        offset = 2;
    }
    let Some(&first) = data.get(offset) else {
        return cx.error(Layer::Link, offset, "PPP header truncated");
    };
    // Protocol-field compression: an odd first byte is a 1-byte protocol.
    let (protocol, len) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else {
        match data.get(offset + 1) {
            Some(&second) => (u16::from_be_bytes([first, second]), 2),
            None => return cx.error(Layer::Link, offset, "PPP protocol field truncated"),
        }
    };
    const PPP_IPV4: u16 = 0x0021;
    const PPP_IPV6: u16 = 0x0057;
    match protocol {
        PPP_IPV4 => network::ipv4(cx, data, offset + len),
        PPP_IPV6 => network::ipv6(cx, data, offset + len),
        _ => {}
    }
}
