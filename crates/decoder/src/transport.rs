//! Transport layer: TCP (with options), UDP, ICMPv4 and ICMPv6.

use crate::app::{self, Flow};
use crate::{AddressedRecord, Layer, PacketContext, TransportKind, net, network, tunnel};
use etherparse::{TcpSlice, UdpSlice};
use netcap_records::{RecordType, Tcp};

const IP_ICMPV4: u8 = 1;
const IP_TCP: u8 = 6;
const IP_UDP: u8 = 17;
const IP_ICMPV6: u8 = 58;

const IP_IGMP: u8 = 2;
const IP_IPIP: u8 = 4;
const IP_IPV6: u8 = 41;
const IP_GRE: u8 = 47;
const IP_ESP: u8 = 50;
const IP_OSPF: u8 = 89;
const IP_VRRP: u8 = 112;
const IP_SCTP: u8 = 132;

/// Decodes what follows the IP header(s): `data` is the frame cut at the end
/// of the IP payload, which starts at `offset`. The IP addresses are already
/// in the scratch strings.
pub(crate) fn decode(cx: &mut PacketContext<'_>, protocol: u8, data: &[u8], offset: usize, over_ipv6: bool) {
    let payload = data.get(offset..).unwrap_or_default();
    match protocol {
        IP_TCP => tcp(cx, payload, offset),
        IP_UDP => udp(cx, data, offset),
        IP_ICMPV4 if !over_ipv6 => icmp(cx, payload, offset, RecordType::Icmpv4),
        IP_ICMPV6 if over_ipv6 => {
            icmp(cx, payload, offset, RecordType::Icmpv6);
            net::ndp::decode(cx, payload, offset);
            net::echo::decode(cx, payload);
        }
        IP_IPIP => cx.inner("ipip", 0, offset, |cx| network::ipv4(cx, data, offset)),
        IP_IPV6 => cx.inner("ipip", 0, offset, |cx| network::ipv6(cx, data, offset)),
        IP_GRE => tunnel::gre::decode(cx, data, offset),
        _ => {
            // Not a transport the flow stages know (a tunnel's inner packet
            // has set its own above).
            cx.summary.transport = TransportKind::Other;
            match protocol {
                IP_IGMP if !over_ipv6 => net::igmp::decode(cx, payload, offset),
                IP_ESP => net::ipsec::esp(cx, payload, offset),
                IP_OSPF => net::ospf::decode(cx, payload, offset),
                IP_VRRP => net::vrrp::decode(cx, payload, offset),
                IP_SCTP => net::sctp::decode(cx, payload, offset),
                _ => {}
            }
        }
    }
}

fn tcp(cx: &mut PacketContext<'_>, payload: &[u8], offset: usize) {
    let segment = match TcpSlice::from_slice(payload) {
        Ok(s) => s,
        Err(e) => return cx.error(Layer::Tcp, offset, e),
    };
    let header = segment.header_slice();
    // Data offset takes the top 4 bits of byte 12; the other 12 bits are flags.
    let flags = u16::from_be_bytes([header[12], header[13]]) & 0x0fff;
    let sum = &mut cx.summary;
    sum.transport = TransportKind::Tcp;
    sum.src_port = segment.source_port();
    sum.dst_port = segment.destination_port();
    sum.tcp_flags = flags;
    sum.tcp_seq = segment.sequence_number();
    sum.tcp_ack = segment.acknowledgment_number();
    sum.tcp_window = segment.window_size();
    sum.payload_length = segment.payload().len() as u32;
    sum.payload_offset = (offset + segment.header_slice().len()) as u32;
    if cx.wants(RecordType::Tcp) {
        tcp_record(cx, &segment, flags);
    } else if cx.config.summaries && segment.syn() {
        cx.summary.tcp_window_scale = window_scale(segment.options());
    }
    let flow = Flow {
        src_port: segment.source_port(),
        dst_port: segment.destination_port(),
        offset: offset + segment.header_slice().len(),
    };
    app::tcp(cx, flow, segment.payload());
}

fn tcp_record(cx: &mut PacketContext<'_>, segment: &TcpSlice<'_>, flags: u16) {
    let header = segment.header_slice();
    let r = &mut cx.scratch.tcp;
    crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
    r.set_addresses(&cx.scratch.src_ip, &cx.scratch.dst_ip);
    r.reassembled = cx.meta.reassembled;
    r.set_community_id(&cx.scratch.community_id);
    r.src_port = u32::from(segment.source_port());
    r.dst_port = u32::from(segment.destination_port());
    r.seq = segment.sequence_number();
    r.ack = segment.acknowledgment_number();
    r.header_length = header.len() as u32;
    r.flags = u32::from(flags);
    r.fin = segment.fin();
    r.syn = segment.syn();
    r.rst = segment.rst();
    r.psh = segment.psh();
    r.ack_flag = segment.ack();
    r.urg = segment.urg();
    r.ece = segment.ece();
    r.cwr = segment.cwr();
    r.ns = segment.ns();
    r.window = u32::from(segment.window_size());
    r.checksum = u32::from(segment.checksum());
    r.urgent_pointer = u32::from(segment.urgent_pointer());
    tcp_options(r, segment.options());
    cx.summary.tcp_window_scale = r.window_scale.map(|s| s as u8);
    r.payload_length = segment.payload().len() as u32;
    crate::set_payload(&mut r.payload, segment.payload(), cx.config.payloads);
    cx.out.push(RecordType::Tcp, &cx.scratch.tcp);
}

/// The window scale option alone, for summaries when no TCP record is made.
fn window_scale(options: &[u8]) -> Option<u8> {
    let mut r = Tcp::default();
    tcp_options(&mut r, options);
    r.window_scale.map(|s| s as u8)
}

/// Decodes the options walk by hand rather than with etherparse's iterator,
/// which stops at the first kind it does not know (MPTCP, TFO, ...).
fn tcp_options(r: &mut Tcp, mut options: &[u8]) {
    r.option_kinds.clear();
    r.mss = None;
    r.window_scale = None;
    r.sack_permitted = false;
    r.sack_blocks.clear();
    r.ts_val = None;
    r.ts_ecr = None;
    const EOL: u8 = 0;
    const NOP: u8 = 1;
    const MSS: u8 = 2;
    const WSCALE: u8 = 3;
    const SACK_PERMITTED: u8 = 4;
    const SACK: u8 = 5;
    const TIMESTAMPS: u8 = 8;
    while let Some(&kind) = options.first() {
        r.option_kinds.push(u32::from(kind));
        match kind {
            EOL => break,
            NOP => {
                options = &options[1..];
                continue;
            }
            _ => {}
        }
        let len = options.get(1).copied().map(usize::from).unwrap_or(0);
        let Some(option) = options.get(..len).filter(|_| len >= 2) else {
            // Malformed length: the rest of the option space is unusable.
            break;
        };
        let data = &option[2..];
        let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        match (kind, data.len()) {
            (MSS, 2) => r.mss = Some(u32::from(u16::from_be_bytes([data[0], data[1]]))),
            (WSCALE, 1) => r.window_scale = Some(u32::from(data[0])),
            (SACK_PERMITTED, 0) => r.sack_permitted = true,
            (SACK, n) if n % 8 == 0 => r.sack_blocks.extend(data.chunks_exact(4).map(be32)),
            (TIMESTAMPS, 8) => {
                r.ts_val = Some(be32(&data[..4]));
                r.ts_ecr = Some(be32(&data[4..]));
            }
            _ => {}
        }
        options = &options[len..];
    }
}

fn udp(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let datagram = match UdpSlice::from_slice_lax(data.get(offset..).unwrap_or_default()) {
        Ok(d) => d,
        Err(e) => return cx.error(Layer::Udp, offset, e),
    };
    let (src_port, dst_port) = (datagram.source_port(), datagram.destination_port());
    let sum = &mut cx.summary;
    sum.transport = TransportKind::Udp;
    sum.src_port = src_port;
    sum.dst_port = dst_port;
    sum.payload_length = datagram.payload().len() as u32;
    sum.payload_offset = (offset + 8) as u32;
    if cx.wants(RecordType::Udp) {
        let r = &mut cx.scratch.udp;
        crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
        r.set_addresses(&cx.scratch.src_ip, &cx.scratch.dst_ip);
        r.reassembled = cx.meta.reassembled;
        r.set_community_id(&cx.scratch.community_id);
        r.src_port = u32::from(src_port);
        r.dst_port = u32::from(dst_port);
        r.length = u32::from(datagram.length());
        r.checksum = u32::from(datagram.checksum());
        r.payload_length = datagram.payload().len() as u32;
        crate::set_payload(&mut r.payload, datagram.payload(), cx.config.payloads);
        cx.out.push(RecordType::Udp, &cx.scratch.udp);
    }
    let start = offset + 8;
    let end = start + datagram.payload().len();
    if !tunnel::by_udp_port(cx, &data[..end], start, src_port, dst_port) {
        let flow = Flow { src_port, dst_port, offset: start };
        app::udp(cx, flow, datagram.payload());
    }
}

/// ICMPv4 and ICMPv6 share their first 8 bytes' layout: type, code,
/// checksum, then an identifier and sequence number for echo messages.
fn icmp(cx: &mut PacketContext<'_>, payload: &[u8], offset: usize, record_type: RecordType) {
    let layer = if record_type == RecordType::Icmpv4 { Layer::Icmpv4 } else { Layer::Icmpv6 };
    if payload.len() < 4 {
        return cx.error(layer, offset, format_args!("ICMP header needs 4 bytes, {} captured", payload.len()));
    }
    let (kind, code) = (payload[0], payload[1]);
    let sum = &mut cx.summary;
    sum.transport = if record_type == RecordType::Icmpv4 { TransportKind::Icmpv4 } else { TransportKind::Icmpv6 };
    sum.icmp_type = kind;
    sum.icmp_code = code;
    sum.payload_length = payload.len().saturating_sub(if record_type == RecordType::Icmpv4 { 8 } else { 4 }) as u32;
    if !cx.wants(record_type) {
        return;
    }
    let checksum = u32::from(u16::from_be_bytes([payload[2], payload[3]]));
    let has_id_seq = match record_type {
        // Echo reply/request, timestamp, information and address-mask messages.
        RecordType::Icmpv4 => matches!(kind, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18),
        // Echo request/reply.
        _ => matches!(kind, 128 | 129),
    };
    let (id, seq) = match payload.get(4..8) {
        Some(b) if has_id_seq => {
            (u32::from(u16::from_be_bytes([b[0], b[1]])), u32::from(u16::from_be_bytes([b[2], b[3]])))
        }
        _ => (0, 0),
    };
    // ICMPv4's header is 8 bytes; ICMPv6's fixed part is 4.
    let body = if record_type == RecordType::Icmpv4 { payload.get(8..) } else { payload.get(4..) };
    let body = body.unwrap_or_default();
    macro_rules! fill {
        ($r:expr) => {{
            let r = $r;
            crate::stamp(r, cx.meta, cx.depth, &cx.scratch.tunnel);
            r.set_addresses(&cx.scratch.src_ip, &cx.scratch.dst_ip);
            r.reassembled = cx.meta.reassembled;
            r.set_community_id(&cx.scratch.community_id);
            r.r#type = u32::from(kind);
            r.code = u32::from(code);
            r.checksum = checksum;
            r.id = id;
            r.seq = seq;
            r.payload_length = body.len() as u32;
            crate::set_payload(&mut r.payload, body, cx.config.payloads);
        }};
    }
    if record_type == RecordType::Icmpv4 {
        fill!(&mut cx.scratch.icmpv4);
        cx.out.push(RecordType::Icmpv4, &cx.scratch.icmpv4);
    } else {
        fill!(&mut cx.scratch.icmpv6);
        cx.out.push(RecordType::Icmpv6, &cx.scratch.icmpv6);
    }
}
