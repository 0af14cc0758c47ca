//! Application protocols carried in one packet.
//!
//! Every protocol follows one pattern: a pure parser over the payload bytes
//! (no state, fuzzable, typed errors) in its own module, and a function that
//! fills that protocol's reusable record from the parse result. This module
//! dispatches by port, plus cheap content checks for protocols that run on
//! any port (DTLS, QUIC). TLS over TCP is not here: its messages span
//! segments, and the session stage parses it from the reassembled stream
//! (with the filling functions of [`tls`]). Dispatch is a couple of integer comparisons
//! for packets of no protocol here; a payload that is routed to a parser and
//! fails is a decode error of that protocol.

pub mod dhcpv4;
pub mod dhcpv6;
pub mod dns;
pub mod enip;
pub mod kerberos;
pub mod modbus;
pub mod ntp;
pub mod quic;
pub mod quic_initials;
pub mod radius;
pub mod sip;
pub mod snmp;
pub mod ssdp;
pub mod syslog;
pub mod tls;

pub(crate) use crate::wire::{push_hex, write_text as set_lossy};
use crate::{Layer, PacketContext};
use netcap_records as r;
use netcap_records::RecordType;

/// Reused application records, refilled for every packet.
#[derive(Default)]
pub(crate) struct Scratch {
    dns: r::Dns,
    mdns: r::Mdns,
    llmnr: r::Llmnr,
    nbns: r::NetBiosNameService,
    dhcpv4: r::DhcPv4,
    dhcpv6: r::DhcPv6,
    ntp: r::Ntp,
    snmp: r::Snmp,
    sip: r::Sip,
    modbus: r::Modbus,
    dtls_client_hello: r::DtlsClientHello,
    dtls_server_hello: r::DtlsServerHello,
    certificate: r::TlsCertificate,
    syslog: r::Syslog,
    ssdp: r::Ssdp,
    enip: r::Enip,
    cip: r::Cip,
    radius: r::Radius,
    kerberos: r::Kerberos,
    /// Work buffers of the TLS fingerprints and QUIC decryption.
    pub(crate) tls_work: tls::Work,
    pub(crate) dns_spares: dns::Spares,
}

/// The record types this module writes.
pub const RECORD_TYPES: [RecordType; 19] = [
    RecordType::Dns,
    RecordType::Mdns,
    RecordType::Llmnr,
    RecordType::Netbiosnameservice,
    RecordType::Dhcpv4,
    RecordType::Dhcpv6,
    RecordType::Ntp,
    RecordType::Snmp,
    RecordType::Sip,
    RecordType::Modbus,
    // Certificates of DTLS handshakes (TLS over TCP: the session stage).
    RecordType::Tlscertificate,
    RecordType::Dtlsclienthello,
    RecordType::Dtlsserverhello,
    RecordType::Syslog,
    RecordType::Ssdp,
    RecordType::Enip,
    RecordType::Cip,
    RecordType::Radius,
    // Over UDP (over TCP: the session stage, with this module's parser).
    RecordType::Kerberos,
];

/// The flow of the packet an application record comes from.
#[derive(Clone, Copy)]
pub(crate) struct Flow {
    pub src_port: u16,
    pub dst_port: u16,
    /// Offset of the payload in the frame (for error records).
    pub offset: usize,
}

/// What every application record starts with: the packet's time, frame,
/// addresses, ports, Community ID, tunnel and reassembly flag.
pub(crate) struct Stamp<'a> {
    pub meta: &'a crate::PacketMeta,
    pub src_ip: &'a [u8],
    pub dst_ip: &'a [u8],
    pub community_id: &'a str,
    pub tunnel: Option<&'a r::Tunnel>,
    pub flow: Flow,
}

/// Splits the scratch into the application records (to fill) and the
/// packet's [`Stamp`] (to read).
macro_rules! stamp_and_records {
    ($cx:expr, $flow:expr) => {{
        let cx: &mut PacketContext<'_> = $cx;
        let s = &mut *cx.scratch;
        let stamp = $crate::app::Stamp {
            meta: cx.meta,
            src_ip: &s.src_ip,
            dst_ip: &s.dst_ip,
            community_id: &s.community_id,
            tunnel: (cx.depth > 0).then_some(&s.tunnel),
            flow: $flow,
        };
        (stamp, &mut s.app, &mut *cx.out)
    }};
}
pub(crate) use stamp_and_records;

pub(crate) trait AppRecord {
    fn set_flow(&mut self, stamp: &Stamp<'_>);
}

macro_rules! app_records {
    ($($record:ty),*) => {
        $(impl AppRecord for $record {
            fn set_flow(&mut self, stamp: &Stamp<'_>) {
                self.timestamp_ns = stamp.meta.timestamp_ns;
                self.frame = stamp.meta.frame;
                crate::set_bytes(&mut self.src_ip, stamp.src_ip);
                crate::set_bytes(&mut self.dst_ip, stamp.dst_ip);
                self.src_port = u32::from(stamp.flow.src_port);
                self.dst_port = u32::from(stamp.flow.dst_port);
                self.community_id.clear();
                self.community_id.push_str(stamp.community_id);
                crate::copy_tunnel(&mut self.tunnel, stamp.tunnel);
                self.reassembled = stamp.meta.reassembled;
            }
        })*
    };
}

app_records!(
    r::Dns,
    r::Mdns,
    r::Llmnr,
    r::NetBiosNameService,
    r::DhcPv4,
    r::DhcPv6,
    r::Ntp,
    r::Snmp,
    r::Sip,
    r::Modbus,
    r::DtlsClientHello,
    r::DtlsServerHello,
    r::TlsCertificate,
    r::Syslog,
    r::Ssdp,
    r::Enip,
    r::Cip,
    r::Radius,
    r::Kerberos
);

/// Stamps the record in `$field` of the app scratch with the packet's flow,
/// runs `$body` with it bound to `$r`, and pushes it.
macro_rules! emit {
    ($cx:expr, $flow:expr, $record_type:expr, $field:ident, |$r:ident $(: $t:ty)?| $body:expr) => {{
        let (stamp, app, out) = $crate::app::stamp_and_records!($cx, $flow);
        let $r = &mut app.$field;
        AppRecord::set_flow($r, &stamp);
        $body;
        out.push($record_type, &app.$field);
    }};
}
pub(crate) use emit;

const DNS: u16 = 53;
const NBNS: u16 = 137;
const DHCP_SERVER: u16 = 67;
const DHCP_CLIENT: u16 = 68;
const NTP: u16 = 123;
const SNMP: u16 = 161;
const SNMP_TRAP: u16 = 162;
const SYSLOG: u16 = 514;
const DHCPV6_CLIENT: u16 = 546;
const DHCPV6_SERVER: u16 = 547;
const MODBUS: u16 = 502;
const SSDP: u16 = 1900;
const MDNS: u16 = 5353;
const LLMNR: u16 = 5355;
const SIP: u16 = 5060;

/// A protocol chosen by port.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum ByPort {
    Dns,
    Mdns,
    Llmnr,
    Nbns,
    Dhcpv4,
    Dhcpv6,
    Ntp,
    Snmp,
    Syslog,
    Sip,
    Ssdp,
    Modbus,
    Enip,
    Radius,
    Kerberos,
}

fn udp_port(port: u16) -> Option<ByPort> {
    Some(match port {
        DNS => ByPort::Dns,
        MDNS => ByPort::Mdns,
        LLMNR => ByPort::Llmnr,
        NBNS => ByPort::Nbns,
        DHCP_SERVER | DHCP_CLIENT => ByPort::Dhcpv4,
        DHCPV6_CLIENT | DHCPV6_SERVER => ByPort::Dhcpv6,
        NTP => ByPort::Ntp,
        SNMP | SNMP_TRAP => ByPort::Snmp,
        SYSLOG => ByPort::Syslog,
        enip::PORT => ByPort::Enip,
        p if radius::PORTS.contains(&p) => ByPort::Radius,
        SIP => ByPort::Sip,
        SSDP => ByPort::Ssdp,
        kerberos::PORT => ByPort::Kerberos,
        _ => return None,
    })
}

fn tcp_port(port: u16) -> Option<ByPort> {
    Some(match port {
        DNS => ByPort::Dns,
        LLMNR => ByPort::Llmnr,
        MODBUS => ByPort::Modbus,
        enip::PORT => ByPort::Enip,
        SIP => ByPort::Sip,
        _ => return None,
    })
}

/// Any enabled record type of this module? Checked once per packet so a
/// capture with every application record excluded skips all of this.
fn any_enabled(cx: &PacketContext<'_>) -> bool {
    cx.config.app_enabled && !cx.quiet
}

/// Decodes the application payload of a UDP datagram.
pub(crate) fn udp(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if payload.is_empty() || !any_enabled(cx) {
        return;
    }
    let by_port = udp_port(flow.dst_port).or_else(|| udp_port(flow.src_port));
    match by_port {
        Some(ByPort::Dns) => dns::decode(cx, flow, payload, dns::Variant::Dns, false),
        Some(ByPort::Mdns) => dns::decode(cx, flow, payload, dns::Variant::Mdns, false),
        Some(ByPort::Llmnr) => dns::decode(cx, flow, payload, dns::Variant::Llmnr, false),
        Some(ByPort::Nbns) => dns::decode(cx, flow, payload, dns::Variant::Nbns, false),
        Some(ByPort::Dhcpv4) => dhcpv4::decode(cx, flow, payload),
        Some(ByPort::Dhcpv6) => dhcpv6::decode(cx, flow, payload),
        Some(ByPort::Ntp) => ntp::decode(cx, flow, payload),
        Some(ByPort::Snmp) => snmp::decode(cx, flow, payload),
        Some(ByPort::Syslog) => syslog::decode(cx, flow, payload),
        Some(ByPort::Sip) => sip::decode(cx, flow, payload, false),
        Some(ByPort::Ssdp) => ssdp::decode(cx, flow, payload),
        Some(ByPort::Enip) => enip::decode(cx, flow, payload, false),
        Some(ByPort::Radius) => radius::decode(cx, flow, payload),
        Some(ByPort::Kerberos) => kerberos::decode(cx, flow, payload),
        Some(ByPort::Modbus) | None => {
            // Port-independent protocols, recognised by their first bytes.
            // QUIC Initials are the session stage's (crates/session).
            if tls::looks_like_dtls(payload) {
                tls::decode_dtls(cx, flow, payload);
            }
        }
    }
}

/// Decodes the application payload of one TCP segment.
pub(crate) fn tcp(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if payload.is_empty() || !any_enabled(cx) {
        return;
    }
    match tcp_port(flow.dst_port).or_else(|| tcp_port(flow.src_port)) {
        Some(ByPort::Dns) => dns::decode(cx, flow, payload, dns::Variant::Dns, true),
        Some(ByPort::Llmnr) => dns::decode(cx, flow, payload, dns::Variant::Llmnr, true),
        Some(ByPort::Modbus) => modbus::decode(cx, flow, payload),
        Some(ByPort::Enip) => enip::decode(cx, flow, payload, true),
        Some(ByPort::Sip) => sip::decode(cx, flow, payload, true),
        _ => {}
    }
}

/// Counts a parse failure of `layer`.
pub(crate) fn parse_error(cx: &mut PacketContext<'_>, layer: Layer, flow: Flow, reason: impl std::fmt::Display) {
    cx.error(layer, flow.offset, reason);
}

/// Sets `dst` to `src` keeping its allocation.
pub(crate) fn set_str(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    crate::wire::be16(b, at, "").ok()
}

pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    crate::wire::be32(b, at, "").ok()
}
