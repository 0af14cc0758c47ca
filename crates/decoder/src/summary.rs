//! A fixed-size digest of each packet's headers, for the stages that follow
//! decoding: flow tracking, per-tick traffic statistics and metrics. It is
//! filled while the records are decoded, so those stages never parse a packet
//! a second time.

use std::net::IpAddr;

/// The network layer a packet carried (innermost for tunnels).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum NetworkKind {
    #[default]
    None,
    Arp,
    Ipv4,
    Ipv6,
}

/// The transport layer a packet carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum TransportKind {
    #[default]
    None,
    Tcp,
    Udp,
    Icmpv4,
    Icmpv6,
    /// An IP protocol the decoder has no transport decoder for (see
    /// [`PacketSummary::ip_protocol`]), or a non-first fragment.
    Other,
}

/// TCP header flag bits, as in [`PacketSummary::tcp_flags`].
pub mod tcp_flag {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;
}

/// What one packet's headers said. Fields of layers the packet did not have
/// (or that failed to decode) keep their defaults.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketSummary {
    pub frame: u64,
    pub timestamp_ns: i64,
    /// Length on the wire.
    pub wire_length: u32,
    pub captured_length: u32,
    /// Ethernet (or SLL) addresses, when the link layer has them.
    pub src_mac: Option<[u8; 6]>,
    pub dst_mac: Option<[u8; 6]>,
    pub network: NetworkKind,
    /// IP addresses (IPv4 or IPv6); for ARP the sender and target protocol
    /// addresses when they are IPv4.
    pub src_ip: Option<IpAddr>,
    pub dst_ip: Option<IpAddr>,
    /// IPv4 protocol / IPv6 next header after the extension chain.
    pub ip_protocol: u8,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Bytes after the IP header(s) that the IP header says the packet holds.
    pub ip_payload_length: u32,
    /// The IPv4 header's total length field as it is (0 under TCP
    /// segmentation offload); for IPv6, 40 + the payload length field.
    pub ip_total_length: u32,
    /// Part of a fragmented datagram (any fragment).
    pub fragment: bool,
    pub transport: TransportKind,
    pub src_port: u16,
    pub dst_port: u16,
    /// ICMP type and code (ICMPv4 or ICMPv6).
    pub icmp_type: u8,
    pub icmp_code: u8,
    /// TCP flags, bits as in [`tcp_flag`].
    pub tcp_flags: u16,
    pub tcp_seq: u32,
    pub tcp_ack: u32,
    /// TCP window field, unscaled.
    pub tcp_window: u16,
    /// TCP window scale option, if present (SYN segments).
    pub tcp_window_scale: Option<u8>,
    /// Transport payload bytes captured (TCP/UDP data, ICMP body).
    pub payload_length: u32,
    /// Where the TCP or UDP payload starts in the packet's bytes (0 for
    /// other packets): the session stage reads `payload_length` bytes
    /// from there.
    pub payload_offset: u32,
    /// The summary of a datagram reassembled from IP fragments, not of a
    /// captured packet: its fragments had their own summaries (which flows,
    /// statistics and metrics count); only the session stage reads this one,
    /// for the datagram's payload.
    pub reassembled: bool,
}

impl PacketSummary {
    pub fn has_tcp_flag(&self, flag: u16) -> bool {
        self.transport == TransportKind::Tcp && self.tcp_flags & flag != 0
    }
}
