//! Packet decoders: bytes of one captured packet in, netcap records out.
//!
//! Decoding is pure (no state between packets), so any worker can decode any
//! packet and the records of a packet depend only on its bytes and metadata.
//! Layers L2–L4 are a closed set dispatched by EtherType and IP protocol
//! number, parsed with etherparse's zero-copy slices; every layer that fails
//! to parse is counted, and optionally recorded as an `Error` record.

pub mod app;
pub mod community_id;
mod format;
mod link;
mod network;
mod transport;

use netcap_records::RecordType;
use prost::Message;
use std::fmt::{self, Write as _};

pub use link::{LINKTYPE_NAMES, is_supported_link_type, link_type_name};

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
}

impl Layer {
    pub const ALL: [Layer; 25] = [
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
        DecodeConfig { enabled, payloads: false, app_enabled: true, community_id_seed: 0 }
    }

    /// Turns one record type on or off.
    pub fn set(&mut self, record_type: RecordType, on: bool) {
        if let Some(slot) = self.enabled.get_mut(record_type.index()) {
            *slot = on;
        }
        self.app_enabled = RecordType::all().any(|t| app::RECORD_TYPES.contains(&t) && self.is_enabled(t));
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// Decode errors per layer, indexed like [`Layer::ALL`].
    pub errors: [u64; Layer::ALL.len()],
    /// Packets per link type this decoder does not support, by LINKTYPE.
    pub unsupported_link_types: std::collections::BTreeMap<u32, u64>,
}

impl DecodeStats {
    pub fn merge(&mut self, other: &DecodeStats) {
        for (a, b) in self.errors.iter_mut().zip(other.errors.iter()) {
            *a += b;
        }
        for (lt, n) in &other.unsupported_link_types {
            *self.unsupported_link_types.entry(*lt).or_default() += n;
        }
    }

    pub fn errors_for(&self, layer: Layer) -> u64 {
        self.errors[layer as usize]
    }
}

/// Length-delimited encoded records of a batch of packets, one buffer per
/// record type, in packet order.
#[derive(Debug, Default)]
pub struct RecordBuffers {
    buffers: Vec<Vec<u8>>,
    counts: Vec<u64>,
}

impl RecordBuffers {
    pub fn new() -> Self {
        RecordBuffers { buffers: vec![Vec::new(); RecordType::count()], counts: vec![0; RecordType::count()] }
    }

    fn push(&mut self, record_type: RecordType, record: &impl Message) {
        let i = record_type.index();
        // Encoding into a Vec cannot fail: it grows as needed.
        let _ = record.encode_length_delimited(&mut self.buffers[i]);
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
    src_ip: String,
    dst_ip: String,
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
}

impl PacketContext<'_> {
    fn wants(&self, record_type: RecordType) -> bool {
        self.config.is_enabled(record_type)
    }

    /// Counts a decode failure and, if enabled, records it.
    fn error(&mut self, layer: Layer, offset: usize, reason: impl fmt::Display) {
        self.stats.errors[layer as usize] += 1;
        if self.wants(RecordType::Error) {
            let e = &mut self.scratch.error;
            e.stamp(self.meta);
            e.layer.clear();
            e.layer.push_str(layer.name());
            e.offset = u32::try_from(offset).unwrap_or(u32::MAX);
            e.reason.clear();
            let _ = write!(e.reason, "{reason}");
            self.out.push(RecordType::Error, &self.scratch.error);
        }
    }
}

/// Fields every per-packet record has.
trait PacketRecord {
    /// Sets when and where (frame) the packet was captured.
    fn stamp(&mut self, meta: &PacketMeta);
}

/// Records from layer 3 up carry the packet's addresses and flow ID.
trait AddressedRecord: PacketRecord {
    fn set_addresses(&mut self, src_ip: &str, dst_ip: &str);
    fn set_community_id(&mut self, id: &str);
}

macro_rules! packet_records {
    ($($record:ty),* ; addressed: $($addressed:ty),*) => {
        $(impl PacketRecord for $record {
            fn stamp(&mut self, meta: &PacketMeta) {
                self.timestamp_ns = meta.timestamp_ns;
                self.frame = meta.frame;
            }
        })*
        $(impl AddressedRecord for $addressed {
            fn set_addresses(&mut self, src_ip: &str, dst_ip: &str) {
                self.src_ip.clear();
                self.src_ip.push_str(src_ip);
                self.dst_ip.clear();
                self.dst_ip.push_str(dst_ip);
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
    r::Ethernet, r::Dot1q, r::Arp, r::Ipv4, r::Ipv6, r::Tcp, r::Udp, r::Icmpv4, r::Icmpv6, r::Error;
    addressed: r::Ipv4, r::Ipv6, r::Tcp, r::Udp, r::Icmpv4, r::Icmpv6
);

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
        let mut cx =
            PacketContext { meta, config: &self.config, stats: &mut self.stats, scratch: &mut self.scratch, out };
        link::decode(&mut cx, data);
    }
}

#[cfg(test)]
mod tests;
