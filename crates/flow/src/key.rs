//! Flow keys: the exact bidirectional 5-tuple of a packet, and the shard it
//! belongs to.

use netcap_decoder::{NetworkKind, PacketSummary, TransportKind};
use std::hash::{BuildHasher, Hash, Hasher};
use std::net::IpAddr;

/// The 5-tuple of a conversation in canonical order: endpoint `a` is the
/// smaller (address, port) pair, so both directions have the same key.
/// Compared in full (no hash merging). IPv4 addresses occupy the first four
/// bytes; `v6` tells the families apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowKey {
    pub ip_a: [u8; 16],
    pub ip_b: [u8; 16],
    pub port_a: u16,
    pub port_b: u16,
    pub ip_protocol: u8,
    pub v6: bool,
}

/// The key of a packet's conversation and whether the packet was sent by
/// endpoint `a`. `None` for packets that belong to no flow: non-IP traffic
/// (ARP, undecodable network layer).
///
/// Ports: TCP and UDP ports; for ICMP, Community ID's port equivalents (type
/// and code, or type and the paired reply type for request/reply types, so a
/// request and its reply share a key); 0 for other IP protocols, for
/// non-first IP fragments (they carry no transport header) and for TCP/UDP
/// packets whose header did not decode.
pub fn packet_key(s: &PacketSummary) -> Option<(FlowKey, bool)> {
    if !matches!(s.network, NetworkKind::Ipv4 | NetworkKind::Ipv6) {
        return None;
    }
    let (src, dst, v6) = match (s.src_ip?, s.dst_ip?) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (v4_bytes(a.octets()), v4_bytes(b.octets()), false),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.octets(), b.octets(), true),
        _ => return None,
    };
    let (sport, dport) = match s.transport {
        TransportKind::Tcp | TransportKind::Udp => (s.src_port, s.dst_port),
        TransportKind::Icmpv4 => icmp_ports(s.icmp_type, s.icmp_code, false),
        TransportKind::Icmpv6 => icmp_ports(s.icmp_type, s.icmp_code, true),
        TransportKind::Other | TransportKind::None => (0, 0),
    };
    let from_a = (src, sport) <= (dst, dport);
    let (ip_a, port_a, ip_b, port_b) = if from_a { (src, sport, dst, dport) } else { (dst, dport, src, sport) };
    Some((FlowKey { ip_a, ip_b, port_a, port_b, ip_protocol: s.ip_protocol, v6 }, from_a))
}

impl Hash for FlowKey {
    /// Three wide writes instead of a length-prefixed write per array.
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from_ne_bytes(self.ip_a));
        state.write_u128(u128::from_ne_bytes(self.ip_b));
        let rest = u64::from(self.port_a)
            | u64::from(self.port_b) << 16
            | u64::from(self.ip_protocol) << 32
            | u64::from(self.v6) << 40;
        state.write_u64(rest);
    }
}

fn v4_bytes(o: [u8; 4]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..4].copy_from_slice(&o);
    b
}

impl FlowKey {
    pub fn ip(&self, a: bool) -> IpAddr {
        let b = if a { self.ip_a } else { self.ip_b };
        if self.v6 { IpAddr::from(b) } else { IpAddr::from([b[0], b[1], b[2], b[3]]) }
    }

    pub fn port(&self, a: bool) -> u16 {
        if a { self.port_a } else { self.port_b }
    }
}

/// ICMP request/reply type pairs, as in Community ID v1: (type, counterpart).
const ICMPV4_PAIRS: [(u8, u8); 10] =
    [(8, 0), (0, 8), (13, 14), (14, 13), (15, 16), (16, 15), (17, 18), (18, 17), (10, 9), (9, 10)];
const ICMPV6_PAIRS: [(u8, u8); 10] = [
    (128, 129),
    (129, 128),
    (133, 134),
    (134, 133),
    (135, 136),
    (136, 135),
    (130, 131),
    (131, 130),
    (144, 145),
    (145, 144),
];

/// Community ID's port equivalents of an ICMP type and code.
pub(crate) fn icmp_ports(icmp_type: u8, code: u8, v6: bool) -> (u16, u16) {
    let pairs = if v6 { &ICMPV6_PAIRS } else { &ICMPV4_PAIRS };
    match pairs.iter().find(|(t, _)| *t == icmp_type) {
        Some(&(t, other)) => (u16::from(t), u16::from(other)),
        None => (u16::from(icmp_type), u16::from(code)),
    }
}

/// ICMP types that answer a request: seen first, their receiver is the
/// client (the requester).
pub(crate) fn is_icmp_reply(icmp_type: u8, v6: bool) -> bool {
    if v6 { matches!(icmp_type, 129 | 131 | 134 | 136 | 145) } else { matches!(icmp_type, 0 | 14 | 16 | 18 | 9) }
}

/// Number of logical flow shards. A constant, independent of the number of
/// threads, so which flows end together (and the records) never depend on
/// the thread count. Each shard is one [`crate::FlowTable`].
pub const SHARDS: usize = 64;

/// Fixed seed: a packet's shard must be the same in every run.
const SHARD_SEED: u64 = 0x6e65_7463_6170_666c;

/// The shard (`0..shards`) of a packet's conversation: a hash of its
/// canonical key, so both directions land in the same shard. `None` for
/// packets that belong to no flow (see [`packet_key`]): skip them.
pub fn shard_of(s: &PacketSummary, shards: usize) -> Option<usize> {
    let (key, _) = packet_key(s)?;
    Some(shard_of_key(&key, shards))
}

/// [`shard_of`] for a key already computed.
pub fn shard_of_key(key: &FlowKey, shards: usize) -> usize {
    let h = foldhash::fast::FixedState::with_seed(SHARD_SEED).hash_one(key);
    // Multiply-shift: uniform over the high bits, no division.
    ((u128::from(h) * shards.max(1) as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> PacketSummary {
        PacketSummary {
            network: NetworkKind::Ipv4,
            src_ip: Some(IpAddr::V4(Ipv4Addr::from(src))),
            dst_ip: Some(IpAddr::V4(Ipv4Addr::from(dst))),
            ip_protocol: 17,
            transport: TransportKind::Udp,
            src_port: sport,
            dst_port: dport,
            ..Default::default()
        }
    }

    #[test]
    fn both_directions_share_key_and_shard() {
        let a = udp([10, 0, 0, 1], 5000, [10, 0, 0, 2], 53);
        let b = udp([10, 0, 0, 2], 53, [10, 0, 0, 1], 5000);
        let (ka, fa) = packet_key(&a).unwrap();
        let (kb, fb) = packet_key(&b).unwrap();
        assert_eq!(ka, kb);
        assert_ne!(fa, fb);
        assert_eq!(shard_of(&a, SHARDS), shard_of(&b, SHARDS));
        // Same addresses, other port: another key.
        let c = udp([10, 0, 0, 1], 5001, [10, 0, 0, 2], 53);
        assert_ne!(packet_key(&c).unwrap().0, ka);
        // Same endpoints in the other family never collide.
        assert!(!ka.v6);
    }

    #[test]
    fn same_host_both_ends() {
        let a = udp([127, 0, 0, 1], 9, [127, 0, 0, 1], 7);
        let b = udp([127, 0, 0, 1], 7, [127, 0, 0, 1], 9);
        assert_eq!(packet_key(&a).unwrap().0, packet_key(&b).unwrap().0);
        assert_ne!(packet_key(&a).unwrap().1, packet_key(&b).unwrap().1);
    }

    #[test]
    fn icmp_echo_pairs() {
        let mut req = udp([10, 0, 0, 1], 0, [10, 0, 0, 2], 0);
        req.transport = TransportKind::Icmpv4;
        req.ip_protocol = 1;
        req.icmp_type = 8;
        let mut rep = udp([10, 0, 0, 2], 0, [10, 0, 0, 1], 0);
        rep.transport = TransportKind::Icmpv4;
        rep.ip_protocol = 1;
        rep.icmp_type = 0;
        assert_eq!(packet_key(&req).unwrap().0, packet_key(&rep).unwrap().0);
        assert_eq!(icmp_ports(3, 1, false), (3, 1));
        assert_eq!(icmp_ports(128, 0, true), (128, 129));
    }

    #[test]
    fn non_ip_has_no_flow() {
        let arp = PacketSummary { network: NetworkKind::Arp, ..Default::default() };
        assert_eq!(shard_of(&arp, SHARDS), None);
        assert_eq!(shard_of(&PacketSummary::default(), SHARDS), None);
    }

    #[test]
    fn shards_spread() {
        let mut counts = [0usize; SHARDS];
        for i in 0..64_000u32 {
            let s = udp([10, 0, (i >> 8) as u8, i as u8], 1024 + (i % 7) as u16, [192, 168, 1, 1], 443);
            counts[shard_of(&s, SHARDS).unwrap()] += 1;
        }
        assert!(counts.iter().all(|&c| c > 700 && c < 1300), "{counts:?}");
    }
}
