//! Network layer: ARP, IPv4 (with options) and IPv6 (with its
//! extension-header chain).

use crate::set_bytes;
use crate::{AddressedRecord, Layer, NetworkKind, PacketContext, TransportKind, net, transport};
use etherparse::{
    ArpPacketSlice, IpAuthHeaderSlice, Ipv6FragmentHeaderSlice, Ipv6RawExtHeaderSlice, LaxIpv4Slice, LaxIpv6Slice,
};
use netcap_records::{Ipv4Option, Ipv6ExtensionHeader, RecordType};
use std::net::IpAddr;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
/// Reverse ARP uses ARP's packet format (RFC 903).
const ETHERTYPE_RARP: u16 = 0x8035;
const ETHERTYPE_IPV6: u16 = 0x86dd;

pub(crate) fn by_ether_type(cx: &mut PacketContext<'_>, data: &[u8], ether_type: u16, offset: usize) {
    match ether_type {
        ETHERTYPE_IPV4 => ipv4(cx, data, offset),
        ETHERTYPE_IPV6 => ipv6(cx, data, offset),
        ETHERTYPE_ARP | ETHERTYPE_RARP => arp(cx, data, offset),
        _ => {}
    }
}

/// Raw IP: the version nibble says which.
pub(crate) fn raw_ip(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    match data.get(offset).map(|b| b >> 4) {
        Some(4) => ipv4(cx, data, offset),
        Some(6) => ipv6(cx, data, offset),
        Some(v) => cx.error(Layer::Link, offset, format_args!("raw IP packet with version {v}")),
        None => cx.error(Layer::Link, offset, "empty raw IP packet"),
    }
}

fn arp(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let packet = match ArpPacketSlice::from_slice(&data[offset..]) {
        Ok(p) => p,
        Err(e) => return cx.error(Layer::Arp, offset, e),
    };
    cx.summary.network = NetworkKind::Arp;
    let ipv4 = |addr: &[u8]| <[u8; 4]>::try_from(addr).ok().map(IpAddr::from);
    cx.summary.src_ip = ipv4(packet.sender_protocol_addr());
    cx.summary.dst_ip = ipv4(packet.target_protocol_addr());
    if !cx.wants(RecordType::Arp) {
        return;
    }
    let r = &mut cx.scratch.arp;
    crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
    r.hw_type = u32::from(packet.hw_addr_type().0);
    r.proto_type = u32::from(packet.proto_addr_type().0);
    r.hw_size = u32::from(packet.hw_addr_size());
    r.proto_size = u32::from(packet.proto_addr_size());
    r.operation = u32::from(packet.operation().0);
    set_bytes(&mut r.src_hw_addr, packet.sender_hw_addr());
    set_bytes(&mut r.src_proto_addr, packet.sender_protocol_addr());
    set_bytes(&mut r.dst_hw_addr, packet.target_hw_addr());
    set_bytes(&mut r.dst_proto_addr, packet.target_protocol_addr());
    cx.out.push(RecordType::Arp, &cx.scratch.arp);
}

pub(crate) fn ipv4(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let Some(bytes) = data.get(offset..) else {
        return cx.error(Layer::Ipv4, offset, "no IPv4 header");
    };
    let (slice, auth_error) = match LaxIpv4Slice::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => return cx.error(Layer::Ipv4, offset, e),
    };
    let header = slice.header();
    let header_len = header.slice().len();
    set_bytes(&mut cx.scratch.src_ip, &header.source());
    set_bytes(&mut cx.scratch.dst_ip, &header.destination());
    cx.has_ip = true;
    let payload = slice.payload();
    let sum = &mut cx.summary;
    sum.network = NetworkKind::Ipv4;
    sum.src_ip = Some(IpAddr::from(header.source()));
    sum.dst_ip = Some(IpAddr::from(header.destination()));
    sum.ip_protocol = header.protocol().0;
    sum.ttl = header.ttl();
    sum.ip_payload_length = u32::from(header.total_len()).saturating_sub(header_len as u32);
    sum.ip_total_length = u32::from(header.total_len());
    let first_fragment = header.fragments_offset().value() == 0;
    let fragmented = header.more_fragments() || !first_fragment;
    sum.fragment = fragmented;
    let s = &mut *cx.scratch;
    let transport = first_fragment.then_some(payload.payload);
    s.community_ids.write(&mut s.community_id, &header.source(), &header.destination(), header.protocol().0, transport);
    // A reassembled datagram's header was recorded with its fragments.
    if cx.wants(RecordType::Ipv4) && !(cx.meta.reassembled && cx.depth == 0) {
        let r = &mut cx.scratch.ipv4;
        crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
        r.set_addresses(&cx.scratch.src_ip, &cx.scratch.dst_ip);
        r.set_community_id(&cx.scratch.community_id);
        r.version = u32::from(header.version());
        r.header_length = header_len as u32;
        r.dscp = u32::from(header.dcp().value());
        r.ecn = u32::from(header.ecn().value());
        r.total_length = u32::from(header.total_len());
        r.id = u32::from(header.identification());
        // The flags are the top 3 bits of bytes 6-7.
        r.flags = u32::from(header.slice()[6] >> 5);
        r.fragment_offset = u32::from(header.fragments_offset().value()) * 8;
        r.ttl = u32::from(header.ttl());
        r.protocol = u32::from(header.protocol().0);
        r.checksum = u32::from(header.header_checksum());
        ipv4_options(&mut r.options, header.options());
        // Bytes after the header that the capture holds, within total_length.
        let end = usize::from(header.total_len()).clamp(header_len, bytes.len());
        r.payload_length = (end - header_len) as u32;
        let payload_bytes = &bytes[header_len..end];
        crate::set_payload(&mut r.payload, payload_bytes, cx.config.payloads);
        cx.out.push(RecordType::Ipv4, &cx.scratch.ipv4);
    }
    if header.protocol().0 == net::ipsec::IP_AH && !(cx.meta.reassembled && cx.depth == 0) {
        let end = usize::from(header.total_len()).clamp(header_len, bytes.len());
        net::ipsec::ah(cx, &data[..offset + end], offset + header_len);
    }
    if let Some(e) = auth_error {
        return cx.error(Layer::Ipv4, offset + header_len, e);
    }
    // A total length shorter than the header leaves no payload to decode.
    // Zero is different: hosts with TCP segmentation offload capture their
    // own packets before the length is filled in, so the capture decides
    // (as in Wireshark).
    if header.total_len() != 0 && usize::from(header.total_len()) < header_len {
        return cx.error(
            Layer::Ipv4,
            offset,
            format_args!("total length {} is smaller than the {header_len}-byte header", header.total_len()),
        );
    }
    above_ip(cx, data, payload.payload, payload.ip_number.0, first_fragment, fragmented, false);
}

/// Decodes what follows the IP header(s), under the fragment policy
/// (docs/records.md): a non-first fragment has no transport header; a
/// first fragment's transport and application records are written from the
/// reassembled datagram instead when reassembly is on (the fragment still
/// gives the packet summary its ports). Fragments inside tunnels are not
/// reassembled, so their first fragment is decoded as it is.
fn above_ip(
    cx: &mut PacketContext<'_>,
    data: &[u8],
    payload: &[u8],
    protocol: u8,
    first_fragment: bool,
    fragmented: bool,
    over_ipv6: bool,
) {
    if !first_fragment {
        cx.summary.transport = TransportKind::Other;
        return;
    }
    let transport_offset = offset_in(data, payload);
    let end = transport_offset + payload.len();
    let data = &data[..end];
    if fragmented && cx.config.reassemble && cx.depth == 0 {
        cx.summary_only(|cx| transport::decode(cx, protocol, data, transport_offset, over_ipv6));
    } else {
        transport::decode(cx, protocol, data, transport_offset, over_ipv6);
    }
}

/// Splits IPv4 options into (type, length, data) without trusting lengths.
fn ipv4_options(dst: &mut Vec<Ipv4Option>, mut options: &[u8]) {
    dst.clear();
    while let Some(&kind) = options.first() {
        const EOL: u8 = 0;
        const NOP: u8 = 1;
        if kind == EOL || kind == NOP {
            dst.push(Ipv4Option { r#type: u32::from(kind), length: 1, data: Vec::new() });
            options = &options[1..];
            if kind == EOL {
                break;
            }
            continue;
        }
        let declared = options.get(1).copied().map(usize::from).unwrap_or(0);
        // A length below 2 or past the end is malformed: keep what is left.
        let len = if (2..=options.len()).contains(&declared) { declared } else { options.len() };
        dst.push(Ipv4Option {
            r#type: u32::from(kind),
            length: declared as u32,
            data: options.get(2..len).unwrap_or_default().to_vec(),
        });
        options = &options[len..];
    }
}

pub(crate) fn ipv6(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let Some(bytes) = data.get(offset..) else {
        return cx.error(Layer::Ipv6, offset, "no IPv6 header");
    };
    let (slice, ext_error) = match LaxIpv6Slice::from_slice(bytes) {
        Ok(s) => s,
        Err(e) => return cx.error(Layer::Ipv6, offset, e),
    };
    let header = slice.header();
    set_bytes(&mut cx.scratch.src_ip, &header.source());
    set_bytes(&mut cx.scratch.dst_ip, &header.destination());
    cx.has_ip = true;
    let payload = slice.payload();
    let sum = &mut cx.summary;
    sum.network = NetworkKind::Ipv6;
    sum.src_ip = Some(IpAddr::from(header.source()));
    sum.dst_ip = Some(IpAddr::from(header.destination()));
    sum.ip_protocol = payload.ip_number.0;
    sum.ttl = header.hop_limit();
    sum.ip_payload_length = u32::from(header.payload_length());
    sum.ip_total_length = 40 + u32::from(header.payload_length());
    sum.fragment = payload.fragmented;
    let first_fragment = extension_chain(header.next_header().0, slice.extensions().slice())
        .filter_map(|ext| ext.fragment)
        .all(|(offset, _, _)| offset == 0);
    let s = &mut *cx.scratch;
    let transport = first_fragment.then_some(payload.payload);
    s.community_ids.write(&mut s.community_id, &header.source(), &header.destination(), payload.ip_number.0, transport);
    if cx.wants(RecordType::Ipv6) && !(cx.meta.reassembled && cx.depth == 0) {
        let r = &mut cx.scratch.ipv6;
        crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
        r.set_addresses(&cx.scratch.src_ip, &cx.scratch.dst_ip);
        r.set_community_id(&cx.scratch.community_id);
        r.version = u32::from(header.version());
        r.traffic_class = u32::from(header.traffic_class());
        r.flow_label = header.flow_label().value();
        r.payload_length = u32::from(header.payload_length());
        r.next_header = u32::from(header.next_header().0);
        r.hop_limit = u32::from(header.hop_limit());
        r.extension_headers.clear();
        r.fragmented = false;
        r.fragment_offset = 0;
        r.more_fragments = false;
        r.fragment_id = 0;
        for ext in extension_chain(header.next_header().0, slice.extensions().slice()) {
            if let Some((fragment_offset, more_fragments, id)) = ext.fragment {
                r.fragmented = true;
                r.fragment_offset = fragment_offset;
                r.more_fragments = more_fragments;
                r.fragment_id = id;
            }
            let mut h = Ipv6ExtensionHeader {
                r#type: ext.r#type,
                length: ext.length,
                next_header: ext.next_header,
                ..Default::default()
            };
            match ext.r#type as u8 {
                IPV6_ROUTING if ext.bytes.len() >= 4 => {
                    h.routing_type = u32::from(ext.bytes[2]);
                    h.segments_left = u32::from(ext.bytes[3]);
                }
                IPV6_HOP_BY_HOP | IPV6_DEST_OPTIONS => option_types(&mut h.option_types, ext.bytes.get(2..)),
                _ => {}
            }
            r.extension_headers.push(h);
        }
        r.transport_protocol = u32::from(payload.ip_number.0);
        crate::set_payload(&mut r.payload, payload.payload, cx.config.payloads);
        cx.out.push(RecordType::Ipv6, &cx.scratch.ipv6);
    }
    // Records of the extension headers themselves: IP-layer records, so
    // written for the fragments as captured, not for a reassembled datagram.
    let chain = slice.extensions().slice();
    if !chain.is_empty() && (!cx.meta.reassembled || cx.depth != 0) {
        for ext in extension_chain(header.next_header().0, chain) {
            let at = offset_in(data, ext.bytes);
            if ext.r#type == u32::from(IPV6_AUTH) {
                if cx.wants(RecordType::Ipsecah) {
                    net::ipsec::ah(cx, &data[..at + ext.bytes.len()], at);
                }
            } else {
                net::ipv6ext::decode(cx, ext.r#type as u8, ext.bytes, at);
            }
        }
    }
    if let Some((e, _)) = ext_error {
        return cx.error(Layer::Ipv6, offset + 40, e);
    }
    above_ip(cx, data, payload.payload, payload.ip_number.0, first_fragment, payload.fragmented, true);
}

/// Option types of a hop-by-hop or destination options header's body.
fn option_types(dst: &mut Vec<u32>, body: Option<&[u8]>) {
    let mut rest = body.unwrap_or_default();
    while let Some(&kind) = rest.first() {
        dst.push(u32::from(kind));
        // Pad1 is a lone byte; every other option has a length byte.
        let len = if kind == 0 { 1 } else { 2 + usize::from(rest.get(1).copied().unwrap_or(0)) };
        rest = rest.get(len..).unwrap_or_default();
    }
}

/// Offset of `part` inside `whole` (`part` is a sub-slice of `whole`).
fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    (part.as_ptr() as usize).saturating_sub(whole.as_ptr() as usize)
}

const IPV6_HOP_BY_HOP: u8 = 0;
const IPV6_ROUTING: u8 = 43;
const IPV6_FRAGMENT: u8 = 44;
const IPV6_AUTH: u8 = 51;
const IPV6_DEST_OPTIONS: u8 = 60;

/// One header of an IPv6 extension chain.
struct ExtensionHeader<'a> {
    /// The whole header.
    bytes: &'a [u8],
    r#type: u32,
    length: u32,
    next_header: u32,
    /// Fragment offset in bytes, more-fragments flag, identification.
    fragment: Option<(u32, bool, u32)>,
}

/// Walks the extension headers in `chain` (the bytes etherparse validated)
/// with checked parsers. etherparse 0.21's own iterator re-parses without
/// bounds checks and runs past a chain its lax parser cut short, which is
/// undefined behaviour on crafted packets (seen on tcpdump's
/// ipv6-next-header-oobr-1 capture).
fn extension_chain(first: u8, chain: &[u8]) -> impl Iterator<Item = ExtensionHeader<'_>> + '_ {
    let mut next = first;
    let mut rest = chain;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let kind = next;
        let (len, next_header, fragment) = match kind {
            IPV6_HOP_BY_HOP | IPV6_ROUTING | IPV6_DEST_OPTIONS => {
                let h = Ipv6RawExtHeaderSlice::from_slice(rest).ok()?;
                (h.slice().len(), h.next_header().0, None)
            }
            IPV6_FRAGMENT => {
                let f = Ipv6FragmentHeaderSlice::from_slice(rest).ok()?;
                let fragment = (u32::from(f.fragment_offset().value()) * 8, f.more_fragments(), f.identification());
                (f.slice().len(), f.next_header().0, Some(fragment))
            }
            IPV6_AUTH => {
                let a = IpAuthHeaderSlice::from_slice(rest).ok()?;
                (a.slice().len(), a.next_header().0, None)
            }
            _ => return None,
        };
        let bytes = rest.get(..len)?;
        rest = rest.get(len..)?;
        next = next_header;
        Some(ExtensionHeader {
            bytes,
            r#type: u32::from(kind),
            length: len as u32,
            next_header: u32::from(next_header),
            fragment,
        })
    })
}
