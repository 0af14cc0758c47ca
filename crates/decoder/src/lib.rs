//! Packet decoders: bytes of one captured packet in, netcap records out.
//!
//! Decoding is pure (no state between packets), so any worker can decode any
//! packet and the records of a packet depend only on its bytes and metadata.
//! Layers L2–L4 are a closed set dispatched by EtherType and IP protocol
//! number, parsed with etherparse's zero-copy slices; every layer that fails
//! to parse is counted, and optionally recorded as an `Error` record.

pub mod app;
mod arrival;
pub mod community_id;
pub mod l2;
mod link;
pub mod net;
mod network;
mod reason;
pub mod reassembly;
mod summary;
mod transport;
pub mod tunnel;
pub mod wire;

use netcap_records::RecordType;
use prost::Message;
use std::fmt::{self, Write as _};

pub use link::{LINKTYPE_NAMES, is_supported_link_type, link_type_name, network_offset};
pub use reason::ErrorReason;
pub use summary::{NetworkKind, PacketSummary, TransportKind, tcp_flag};

/// Where and when a packet was captured.
#[derive(Debug, Clone, Copy, Default)]
pub struct PacketMeta {
    /// 1-based index of the packet in its source (Wireshark's frame.number).
    pub frame: u64,
    /// Capture time, Unix nanoseconds.
    pub timestamp_ns: i64,
    /// LINKTYPE_* of the interface the packet came from.
    pub link_type: u32,
    /// Length of the packet on the wire (may exceed the captured bytes).
    pub wire_length: u32,
    /// The bytes are an IP datagram reassembled from fragments (link type
    /// RAW), not a captured packet: only records above the IP layer are
    /// emitted for it, marked `reassembled`.
    pub reassembled: bool,
}

/// The protocol layers the decoder knows, for per-layer error counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Layer {
    Link,
    Ethernet,
    Vlan,
    Arp,
    Ipv4,
    Ipv6,
    Tcp,
    Udp,
    Icmpv4,
    Icmpv6,
    Llc,
    Stp,
    Lldp,
    Cdp,
    Eapol,
    Dot11,
    Mpls,
    Pppoe,
    Igmp,
    Ndp,
    Mld,
    Ah,
    Esp,
    Ospf,
    Vrrp,
    Bfd,
    Gre,
    Erspan,
    Vxlan,
    Geneve,
    Sctp,
    Tunnel,
    Dns,
    Mdns,
    Llmnr,
    Nbns,
    Dhcpv4,
    Dhcpv6,
    Ntp,
    Snmp,
    Sip,
    Modbus,
    Tls,
    Dtls,
    Quic,
    Syslog,
    Ssdp,
    Enip,
    Cip,
    Radius,
    Kerberos,
}

impl Layer {
    pub const ALL: [Layer; 51] = [
        Layer::Link,
        Layer::Ethernet,
        Layer::Vlan,
        Layer::Arp,
        Layer::Ipv4,
        Layer::Ipv6,
        Layer::Tcp,
        Layer::Udp,
        Layer::Icmpv4,
        Layer::Icmpv6,
        Layer::Llc,
        Layer::Stp,
        Layer::Lldp,
        Layer::Cdp,
        Layer::Eapol,
        Layer::Dot11,
        Layer::Mpls,
        Layer::Pppoe,
        Layer::Igmp,
        Layer::Ndp,
        Layer::Mld,
        Layer::Ah,
        Layer::Esp,
        Layer::Ospf,
        Layer::Vrrp,
        Layer::Bfd,
        Layer::Gre,
        Layer::Erspan,
        Layer::Vxlan,
        Layer::Geneve,
        Layer::Sctp,
        Layer::Tunnel,
        Layer::Dns,
        Layer::Mdns,
        Layer::Llmnr,
        Layer::Nbns,
        Layer::Dhcpv4,
        Layer::Dhcpv6,
        Layer::Ntp,
        Layer::Snmp,
        Layer::Sip,
        Layer::Modbus,
        Layer::Tls,
        Layer::Dtls,
        Layer::Quic,
        Layer::Syslog,
        Layer::Ssdp,
        Layer::Enip,
        Layer::Cip,
        Layer::Radius,
        Layer::Kerberos,
    ];

    /// Lower-case name used in `Error` records and summaries.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Ethernet => "ethernet",
            Layer::Vlan => "vlan",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmpv4 => "icmpv4",
            Layer::Icmpv6 => "icmpv6",
            Layer::Llc => "llc",
            Layer::Stp => "stp",
            Layer::Lldp => "lldp",
            Layer::Cdp => "cdp",
            Layer::Eapol => "eapol",
            Layer::Dot11 => "dot11",
            Layer::Mpls => "mpls",
            Layer::Pppoe => "pppoe",
            Layer::Igmp => "igmp",
            Layer::Ndp => "icmpv6-ndp",
            Layer::Mld => "mld",
            Layer::Ah => "ipsec-ah",
            Layer::Esp => "ipsec-esp",
            Layer::Ospf => "ospf",
            Layer::Vrrp => "vrrp",
            Layer::Bfd => "bfd",
            Layer::Gre => "gre",
            Layer::Erspan => "erspan",
            Layer::Vxlan => "vxlan",
            Layer::Geneve => "geneve",
            Layer::Sctp => "sctp",
            Layer::Tunnel => "tunnel",
            Layer::Dns => "dns",
            Layer::Mdns => "mdns",
            Layer::Llmnr => "llmnr",
            Layer::Nbns => "nbns",
            Layer::Dhcpv4 => "dhcpv4",
            Layer::Dhcpv6 => "dhcpv6",
            Layer::Ntp => "ntp",
            Layer::Snmp => "snmp",
            Layer::Sip => "sip",
            Layer::Modbus => "modbus",
            Layer::Tls => "tls",
            Layer::Dtls => "dtls",
            Layer::Quic => "quic",
            Layer::Syslog => "syslog",
            Layer::Ssdp => "ssdp",
            Layer::Enip => "enip",
            Layer::Cip => "cip",
            Layer::Radius => "radius",
            Layer::Kerberos => "kerberos",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What to decode and emit.
#[derive(Debug, Clone)]
pub struct DecodeConfig {
    enabled: Vec<bool>,
    /// Copy payload bytes into records.
    pub payloads: bool,
    /// Also produce a [`PacketSummary`] per packet (for flows, statistics
    /// and metrics).
    pub summaries: bool,
    /// Reassemble IP fragments before decoding (done by the capture
    /// pipeline with a [`reassembly::Reassembler`]). Then transport and
    /// application records come only from the reassembled datagram, never
    /// from a fragment (docs/records.md).
    pub reassemble: bool,
    /// Whether any application record type is on: one test per packet
    /// decides whether payloads are looked at.
    app_enabled: bool,
    /// Seed of the Community ID hashes (0 unless the user sets one).
    pub community_id_seed: u16,
}

impl DecodeConfig {
    /// Every record type except `Error`, no payloads.
    pub fn new() -> Self {
        let mut enabled = vec![true; RecordType::count()];
        enabled[RecordType::Error.index()] = false;
        DecodeConfig {
            enabled,
            payloads: false,
            summaries: false,
            reassemble: true,
            app_enabled: true,
            community_id_seed: 0,
        }
    }

    /// Turns one record type on or off.
    pub fn set(&mut self, record_type: RecordType, on: bool) {
        if let Some(slot) = self.enabled.get_mut(record_type.index()) {
            *slot = on;
        }
        self.app_enabled = app::RECORD_TYPES.iter().any(|&t| self.is_enabled(t));
    }

    pub fn is_enabled(&self, record_type: RecordType) -> bool {
        self.enabled.get(record_type.index()).copied().unwrap_or(false)
    }
}

impl Default for DecodeConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts of what decoding saw, summed over packets; mergeable across workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeStats {
    /// Decode errors per layer, indexed like [`Layer::ALL`].
    pub errors: [u64; Layer::ALL.len()],
    /// The same errors per layer and [`ErrorReason`] (indexed like
    /// [`ErrorReason::ALL`]); each row sums to the layer's `errors`.
    pub reasons: [[u64; ErrorReason::ALL.len()]; Layer::ALL.len()],
    /// Packets per link type this decoder does not support, by LINKTYPE.
    pub unsupported_link_types: std::collections::BTreeMap<u32, u64>,
}

// Arrays longer than 32 have no derived Default.
impl Default for DecodeStats {
    fn default() -> Self {
        DecodeStats {
            errors: [0; Layer::ALL.len()],
            reasons: [[0; ErrorReason::ALL.len()]; Layer::ALL.len()],
            unsupported_link_types: Default::default(),
        }
    }
}

impl DecodeStats {
    pub fn merge(&mut self, other: &DecodeStats) {
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
        for (row, other_row) in self.reasons.iter_mut().zip(other.reasons.iter()) {
            for (a, b) in row.iter_mut().zip(other_row.iter()) {
                *a += b;
            }
        }
        for (lt, n) in &other.unsupported_link_types {
            *self.unsupported_link_types.entry(*lt).or_default() += n;
        }
    }

    pub fn errors_for(&self, layer: Layer) -> u64 {
        self.errors[layer as usize]
    }

    pub fn errors_for_reason(&self, layer: Layer, reason: ErrorReason) -> u64 {
        self.reasons[layer as usize][reason as usize]
    }
}

/// Length-delimited encoded records of a batch of packets, one buffer per
/// record type, in packet order.
#[derive(Debug, Default)]
pub struct RecordBuffers {
    buffers: Vec<Vec<u8>>,
    counts: Vec<u64>,
    /// One per packet decoded (reassembled datagrams included, marked
    /// [`PacketSummary::reassembled`]), in packet order, when
    /// [`DecodeConfig::summaries`] is on.
    pub summaries: Vec<PacketSummary>,
}

impl RecordBuffers {
    pub fn new() -> Self {
        RecordBuffers {
            buffers: vec![Vec::new(); RecordType::count()],
            counts: vec![0; RecordType::count()],
            summaries: Vec::new(),
        }
    }

    fn push(&mut self, record_type: RecordType, record: &impl Message) {
        let i = record_type.index();
        let buf = &mut self.buffers[i];
        // `encode_length_delimited` walks the record twice (length, then
        // bytes). Most records are shorter than 128 bytes, so write the body
        // after a one-byte length and widen the prefix in the rare other case.
        let start = buf.len();
        buf.push(0);
        record.encode_raw(buf);
        let len = buf.len() - start - 1;
        if len < 0x80 {
            buf[start] = len as u8;
        } else {
            let mut prefix = [0u8; 10];
            let mut writer = &mut prefix[..];
            prost::encoding::encode_varint(len as u64, &mut writer);
            let n = prost::encoding::encoded_len_varint(len as u64);
            buf.splice(start..start + 1, prefix[..n].iter().copied());
        }
        self.counts[i] += 1;
    }

    /// Encoded records of one type.
    pub fn bytes(&self, record_type: RecordType) -> &[u8] {
        &self.buffers[record_type.index()]
    }

    /// Number of records of one type.
    pub fn count(&self, record_type: RecordType) -> u64 {
        self.counts[record_type.index()]
    }

    /// Empties every buffer, keeping its memory.
    pub fn clear(&mut self) {
        self.buffers.iter_mut().for_each(Vec::clear);
        self.counts.iter_mut().for_each(|c| *c = 0);
        self.summaries.clear();
    }
}

/// Decodes packets into records. One per worker: it keeps reusable record
/// structs so the hot path allocates nothing once warm.
pub struct Decoder {
    config: DecodeConfig,
    stats: DecodeStats,
    scratch: Scratch,
}

/// Reused record values, refilled for every packet.
#[derive(Default)]
struct Scratch {
    ethernet: netcap_records::Ethernet,
    dot1q: netcap_records::Dot1q,
    arp: netcap_records::Arp,
    ipv4: netcap_records::Ipv4,
    ipv6: netcap_records::Ipv6,
    tcp: netcap_records::Tcp,
    udp: netcap_records::Udp,
    icmpv4: netcap_records::Icmpv4,
    icmpv6: netcap_records::Icmpv6,
    error: netcap_records::Error,
    /// The packet's IP addresses, network order (4 or 16 bytes).
    src_ip: Vec<u8>,
    dst_ip: Vec<u8>,
    /// The innermost tunnel of the packet being decoded (valid while
    /// `PacketContext::depth` > 0).
    tunnel: netcap_records::Tunnel,
    l2: l2::Scratch,
    net: net::Scratch,
    tunnels: tunnel::Scratch,
    /// Community ID of the packet's flow, computed once at the IP layer.
    community_id: String,
    community_ids: community_id::CommunityId,
    app: app::Scratch,
}

/// The decoding of one packet in progress: decoder state plus the output.
struct PacketContext<'d> {
    meta: &'d PacketMeta,
    config: &'d DecodeConfig,
    stats: &'d mut DecodeStats,
    scratch: &'d mut Scratch,
    out: &'d mut RecordBuffers,
    summary: PacketSummary,
    /// Tunnel nesting depth: 0 for the outermost packet.
    depth: u32,
    /// True once an IP header of the current (innermost) packet has set
    /// `scratch.src_ip`/`dst_ip`.
    has_ip: bool,
    /// Only the summary is being filled (the transport header of a first
    /// fragment, whose records come from the reassembled datagram): no
    /// records, no errors.
    quiet: bool,
    /// EtherType dispatches so far ([`link::by_ether_type`]): link headers
    /// can nest without a tunnel (Ethernet in TEB, SNAP, Cisco MetaData).
    link_headers: u32,
    /// Where the captured frame of the packet's own link type starts: 0, or
    /// after a pseudo-header such as PKTAP's. The Ethernet frame starting
    /// there is the one whose wire length the capture gives.
    link_start: usize,
}

/// Deepest tunnel nesting decoded; deeper packets are a `tunnel` error.
const MAX_TUNNEL_DEPTH: u32 = 8;

/// Most EtherType dispatches in one packet: a few per tunnel level. A frame
/// that nests Ethernet, SNAP or MetaData headers beyond it is a `link`
/// error, not thousands of nested calls (a stack overflow).
const MAX_LINK_HEADERS: u32 = 4 * (MAX_TUNNEL_DEPTH + 1);

impl PacketContext<'_> {
    #[inline]
    fn wants(&self, record_type: RecordType) -> bool {
        !self.quiet && self.config.is_enabled(record_type)
    }

    /// Runs `decode` for the packet summary alone (see [`PacketContext::quiet`]).
    fn summary_only(&mut self, decode: impl FnOnce(&mut Self)) {
        if self.config.summaries {
            self.quiet = true;
            decode(self);
            self.quiet = false;
        }
    }

    /// Decodes a packet carried inside a tunnel with `decode`, marking its
    /// records with the tunnel: `kind`, `id`, and the addresses of the IP
    /// packet that carried it. Bounded by [`MAX_TUNNEL_DEPTH`].
    fn inner(&mut self, kind: &'static str, id: u32, offset: usize, decode: impl FnOnce(&mut Self)) {
        if self.depth >= MAX_TUNNEL_DEPTH {
            return self.error(Layer::Tunnel, offset, format_args!("more than {MAX_TUNNEL_DEPTH} nested tunnels"));
        }
        let t = &mut self.scratch.tunnel;
        t.kind.clear();
        t.kind.push_str(kind);
        t.outer_src_ip.clear();
        t.outer_dst_ip.clear();
        if self.has_ip {
            t.outer_src_ip.extend_from_slice(&self.scratch.src_ip);
            t.outer_dst_ip.extend_from_slice(&self.scratch.dst_ip);
        }
        t.id = id;
        self.depth += 1;
        t.depth = self.depth;
        let had_ip = std::mem::replace(&mut self.has_ip, false);
        decode(self);
        self.depth -= 1;
        self.has_ip = had_ip;
    }

    /// Counts a decode failure, by layer and reason class, and, if
    /// enabled, records it. The reason text is formatted either way (into
    /// the reused record), because its class is read from it.
    fn error(&mut self, layer: Layer, offset: usize, reason: impl fmt::Display) {
        if self.quiet {
            return;
        }
        let e = &mut self.scratch.error;
        e.reason.clear();
        let _ = write!(e.reason, "{reason}");
        let class = ErrorReason::classify(&e.reason);
        self.stats.errors[layer as usize] += 1;
        self.stats.reasons[layer as usize][class as usize] += 1;
        if self.config.is_enabled(RecordType::Error) {
            e.stamp(self.meta);
            e.layer.clear();
            e.layer.push_str(layer.name());
            e.offset = u32::try_from(offset).unwrap_or(u32::MAX);
            self.out.push(RecordType::Error, &self.scratch.error);
        }
    }
}

/// Fills and writes one record if its type is enabled: stamps time, frame
/// and tunnel (and, with `addressed`, the IP addresses), runs the body on the
/// scratch record `r`, then encodes it.
macro_rules! emit {
    ($cx:ident, $rt:expr, $group:ident . $rec:ident, |$r:ident| $body:block) => {
        if $cx.wants($rt) {
            let $r = &mut $cx.scratch.$group.$rec;
            crate::stamp($r, $cx.meta, $cx.depth, &$cx.scratch.tunnel);
            $body
            $cx.out.push($rt, &$cx.scratch.$group.$rec);
        }
    };
    ($cx:ident, $rt:expr, $group:ident . $rec:ident, addressed, |$r:ident| $body:block) => {
        if $cx.wants($rt) {
            let $r = &mut $cx.scratch.$group.$rec;
            crate::stamp($r, $cx.meta, $cx.depth, &$cx.scratch.tunnel);
            crate::AddressedRecord::set_addresses($r, &$cx.scratch.src_ip, &$cx.scratch.dst_ip);
            crate::AddressedRecord::set_community_id($r, &$cx.scratch.community_id);
            $body
            $cx.out.push($rt, &$cx.scratch.$group.$rec);
        }
    };
}
pub(crate) use emit;

/// Fields every per-packet record has.
trait PacketRecord {
    /// Sets when and where (frame) the packet was captured.
    fn stamp(&mut self, meta: &PacketMeta);
}

/// Records that say which tunnel their packet came out of.
trait TunnelRecord {
    /// Sets (or clears) the record's `tunnel`, reusing its strings.
    fn set_tunnel(&mut self, tunnel: Option<&netcap_records::Tunnel>);
}

/// Copies `src` into `dst` keeping `dst`'s allocations.
#[inline]
fn copy_tunnel(dst: &mut Option<netcap_records::Tunnel>, src: Option<&netcap_records::Tunnel>) {
    match (dst.as_mut(), src) {
        (_, None) => *dst = None,
        (Some(d), Some(s)) => {
            d.kind.clone_from(&s.kind);
            d.outer_src_ip.clone_from(&s.outer_src_ip);
            d.outer_dst_ip.clone_from(&s.outer_dst_ip);
            d.id = s.id;
            d.depth = s.depth;
        }
        (None, Some(s)) => *dst = Some(s.clone()),
    }
}

/// Records from layer 3 up carry the packet's addresses and flow ID.
trait AddressedRecord: PacketRecord {
    fn set_addresses(&mut self, src_ip: &[u8], dst_ip: &[u8]);
    fn set_community_id(&mut self, id: &str);
}

macro_rules! packet_records {
    ($($record:ty),* ; addressed: $($addressed:ty),* ; untunneled: $($plain:ty),*) => {
        $(impl PacketRecord for $record {
            fn stamp(&mut self, meta: &PacketMeta) {
                self.timestamp_ns = meta.timestamp_ns;
                self.frame = meta.frame;
            }
        })*
        $(impl PacketRecord for $plain {
            fn stamp(&mut self, meta: &PacketMeta) {
                self.timestamp_ns = meta.timestamp_ns;
                self.frame = meta.frame;
            }
        })*
        $(impl TunnelRecord for $record {
            fn set_tunnel(&mut self, tunnel: Option<&netcap_records::Tunnel>) {
                copy_tunnel(&mut self.tunnel, tunnel);
            }
        })*
        $(impl AddressedRecord for $addressed {
            fn set_addresses(&mut self, src_ip: &[u8], dst_ip: &[u8]) {
                self.src_ip.clear();
                self.src_ip.extend_from_slice(src_ip);
                self.dst_ip.clear();
                self.dst_ip.extend_from_slice(dst_ip);
            }
            fn set_community_id(&mut self, id: &str) {
                self.community_id.clear();
                self.community_id.push_str(id);
            }
        })*
    };
}

use netcap_records as r;
packet_records!(
    r::Ethernet, r::Dot1q, r::Arp, r::Ipv4, r::Ipv6, r::Tcp, r::Udp, r::Icmpv4, r::Icmpv6,
    r::Llc, r::Snap, r::Stp, r::Lldp, r::Cdp, r::Eap, r::Eapol, r::Dot11, r::Mpls, r::PpPoE,
    r::Igmp, r::Icmpv6Ndp, r::Mld, r::IpSecAh, r::IpSecEsp, r::Ospf, r::Vrrp, r::Bfd, r::Gre, r::Erspan,
    r::Vxlan, r::Geneve, r::Sctp, r::IPv6HopByHop, r::IPv6Destination, r::IPv6Routing, r::IPv6Fragment,
    r::IcmPv6Echo;
    addressed: r::Ipv4, r::Ipv6, r::Tcp, r::Udp, r::Icmpv4, r::Icmpv6,
    r::Igmp, r::Icmpv6Ndp, r::Mld, r::IpSecAh, r::IpSecEsp, r::Ospf, r::Vrrp, r::Bfd, r::Gre, r::Erspan,
    r::Vxlan, r::Geneve, r::Sctp, r::IPv6HopByHop, r::IPv6Destination, r::IPv6Routing, r::IPv6Fragment,
    r::IcmPv6Echo;
    untunneled: r::Error
);

/// Replaces a reused bytes field's contents.
fn set_bytes(dst: &mut Vec<u8>, src: &[u8]) {
    dst.clear();
    dst.extend_from_slice(src);
}

/// Stamps a record with the packet's time and frame, and the tunnel it came
/// out of (none at depth 0).
fn stamp<R: PacketRecord + TunnelRecord>(r: &mut R, meta: &PacketMeta, depth: u32, tunnel: &netcap_records::Tunnel) {
    r.stamp(meta);
    r.set_tunnel((depth > 0).then_some(tunnel));
}

/// Sets a record's payload field: the bytes with -payload, else empty.
fn set_payload(dst: &mut Vec<u8>, payload: &[u8], keep: bool) {
    dst.clear();
    if keep {
        dst.extend_from_slice(payload);
    }
}

impl Decoder {
    pub fn new(config: DecodeConfig) -> Self {
        let scratch =
            Scratch { community_ids: community_id::CommunityId::new(config.community_id_seed), ..Scratch::default() };
        Decoder { config, stats: DecodeStats::default(), scratch }
    }

    pub fn config(&self) -> &DecodeConfig {
        &self.config
    }

    /// Counts accumulated since creation or the last [`Decoder::take_stats`].
    pub fn stats(&self) -> &DecodeStats {
        &self.stats
    }

    pub fn take_stats(&mut self) -> DecodeStats {
        std::mem::take(&mut self.stats)
    }

    /// Decodes one packet's captured bytes, appending its records to `out`.
    pub fn decode(&mut self, meta: &PacketMeta, data: &[u8], out: &mut RecordBuffers) {
        let summary = PacketSummary {
            frame: meta.frame,
            timestamp_ns: meta.timestamp_ns,
            wire_length: meta.wire_length,
            captured_length: data.len() as u32,
            ..PacketSummary::default()
        };
        let mut cx = PacketContext {
            meta,
            config: &self.config,
            stats: &mut self.stats,
            scratch: &mut self.scratch,
            out,
            summary,
            depth: 0,
            has_ip: false,
            quiet: false,
            link_headers: 0,
            link_start: 0,
        };
        cx.summary.reassembled = meta.reassembled;
        link::decode(&mut cx, data);
        // A reassembled datagram's summary is marked: its fragments have had
        // theirs, and only the session stage wants its payload.
        if self.config.summaries {
            cx.out.summaries.push(cx.summary);
        }
    }
}

#[cfg(test)]
mod tests;
