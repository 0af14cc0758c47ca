//! The workers' side: one batch's packets folded into conversations, and
//! the names its records give hosts and devices.

use crate::host::Attr;
use crate::observe;
use netcap_decoder::{NetworkKind, PacketSummary, TransportKind, tcp_flag};
use netcap_records::RecordType;
use std::net::IpAddr;

/// The packets of one direction of one conversation within a batch, and
/// the MAC they came from. Frames that are not IP (ARP, LLDP, ...) have no
/// addresses: they count for their source MAC only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ConvKey {
    pub src_mac: Option<[u8; 6]>,
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub protocol: u8,
    pub src_port: u16,
    pub dst_port: u16,
}

/// Bits of [`ConvStats::handshake`].
pub(crate) const SAW_SYN: u8 = 1;
pub(crate) const SAW_SYN_ACK: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvStats {
    /// The batch position of its first packet: the merge order.
    pub first_index: u32,
    /// The frame number of its first packet (the smallest).
    pub first_frame: u64,
    pub first_ns: i64,
    pub last_ns: i64,
    pub packets: u64,
    /// Frame lengths.
    pub bytes: u64,
    /// TCP handshake segments this direction sent ([`SAW_SYN`],
    /// [`SAW_SYN_ACK`]): they tell which side serves the port.
    pub handshake: u8,
    /// Whether the key's ports are transport ports (TCP, UDP, SCTP).
    pub has_ports: bool,
}

/// Where an observation from a record goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    Host(IpAddr),
    Device([u8; 6]),
}

/// A name, fingerprint or application protocol a record gives a host or
/// device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Observation {
    pub target: Target,
    pub attr: Attr,
    /// Application protocol names are static: most observations allocate
    /// nothing.
    pub value: std::borrow::Cow<'static, str>,
}

/// One batch's share of the profiles, for [`crate::Profiles::merge`].
#[derive(Debug, Default)]
pub struct BatchProfile {
    /// In the order of their first packet.
    pub(crate) convs: Vec<(ConvKey, ConvStats)>,
    /// In record order.
    pub(crate) observations: Vec<Observation>,
}

impl BatchProfile {
    /// Packets the batch's conversations hold.
    pub fn packets(&self) -> u64 {
        self.convs.iter().map(|(_, s)| s.packets).sum()
    }
}

/// Folds batches into [`BatchProfile`]s; one per worker, its table reused
/// from batch to batch.
#[derive(Default)]
pub struct BatchProfiler {
    convs: hashbrown::HashMap<ConvKey, ConvStats, foldhash::fast::RandomState>,
}

impl BatchProfiler {
    pub fn new() -> Self {
        BatchProfiler::default()
    }

    /// The profile share of one batch: its packet summaries, and the
    /// records of [`crate::PACKET_RECORD_TYPES`] the decoder wrote for it
    /// (`records(type)`: the length-delimited records of that type, if
    /// any).
    pub fn batch<'r>(
        &mut self,
        summaries: &[PacketSummary],
        records: impl Fn(RecordType) -> Option<&'r [u8]>,
    ) -> BatchProfile {
        self.convs.clear();
        for (index, s) in summaries.iter().enumerate() {
            // A reassembled datagram's fragments were counted.
            if s.reassembled {
                continue;
            }
            let ip = matches!(s.network, NetworkKind::Ipv4 | NetworkKind::Ipv6);
            if !ip && s.src_mac.is_none() {
                continue;
            }
            let has_ports = ip
                && (matches!(s.transport, TransportKind::Tcp | TransportKind::Udp)
                    || (s.ip_protocol == 132 && !s.fragment && (s.src_port, s.dst_port) != (0, 0)));
            let key = ConvKey {
                src_mac: s.src_mac,
                src: if ip { s.src_ip } else { None },
                dst: if ip { s.dst_ip } else { None },
                protocol: if ip { s.ip_protocol } else { 0 },
                src_port: if has_ports { s.src_port } else { 0 },
                dst_port: if has_ports { s.dst_port } else { 0 },
            };
            let handshake = if s.has_tcp_flag(tcp_flag::SYN) {
                if s.tcp_flags & tcp_flag::ACK != 0 { SAW_SYN_ACK } else { SAW_SYN }
            } else {
                0
            };
            let bytes = u64::from(s.wire_length);
            self.convs
                .entry(key)
                .and_modify(|c| {
                    c.first_ns = c.first_ns.min(s.timestamp_ns);
                    c.first_frame = c.first_frame.min(s.frame);
                    c.last_ns = c.last_ns.max(s.timestamp_ns);
                    c.packets += 1;
                    c.bytes += bytes;
                    c.handshake |= handshake;
                })
                .or_insert(ConvStats {
                    first_index: index as u32,
                    first_frame: s.frame,
                    first_ns: s.timestamp_ns,
                    last_ns: s.timestamp_ns,
                    packets: 1,
                    bytes,
                    handshake,
                    has_ports,
                });
        }
        let mut convs: Vec<(ConvKey, ConvStats)> = self.convs.drain().collect();
        convs.sort_unstable_by_key(|(_, s)| s.first_index);
        let mut observations = Vec::new();
        for record_type in crate::PACKET_RECORD_TYPES {
            if let Some(bytes) = records(record_type).filter(|b| !b.is_empty()) {
                observe::packet_records(record_type, bytes, summaries, &mut observations);
            }
        }
        BatchProfile { convs, observations }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn summary(
        frame: u64,
        ts: i64,
        src: &str,
        dst: &str,
        sport: u16,
        dport: u16,
        len: u32,
    ) -> PacketSummary {
        let src_ip: IpAddr = src.parse().unwrap();
        PacketSummary {
            frame,
            timestamp_ns: ts,
            wire_length: len,
            captured_length: len,
            src_mac: Some([0, 0x1b, 0x21, 0, 0, frame as u8 % 2]),
            dst_mac: Some([0, 0x1b, 0x21, 0, 0, 1 - frame as u8 % 2]),
            network: if src_ip.is_ipv4() { NetworkKind::Ipv4 } else { NetworkKind::Ipv6 },
            src_ip: Some(src_ip),
            dst_ip: Some(dst.parse().unwrap()),
            ip_protocol: 17,
            transport: TransportKind::Udp,
            src_port: sport,
            dst_port: dport,
            ..PacketSummary::default()
        }
    }

    #[test]
    fn packets_fold_into_conversations_in_first_packet_order() {
        let summaries = [
            summary(1, 10, "10.0.0.2", "10.0.0.1", 5000, 53, 80),
            summary(2, 20, "10.0.0.1", "10.0.0.2", 53, 5000, 120),
            summary(3, 5, "10.0.0.2", "10.0.0.1", 5000, 53, 90),
            PacketSummary { reassembled: true, ..summary(4, 30, "10.0.0.2", "10.0.0.1", 5000, 53, 1000) },
            PacketSummary { network: NetworkKind::Arp, ..summary(5, 40, "10.0.0.2", "10.0.0.1", 0, 0, 60) },
            PacketSummary {
                src_mac: None,
                network: NetworkKind::None,
                ..summary(6, 50, "10.0.0.2", "10.0.0.1", 0, 0, 60)
            },
        ];
        let part = BatchProfiler::new().batch(&summaries, |_| None);
        assert_eq!(part.convs.len(), 3);
        let (k, s) = part.convs[0];
        assert_eq!(
            (k.src, k.dst, k.src_port, k.dst_port),
            (Some("10.0.0.2".parse().unwrap()), Some("10.0.0.1".parse().unwrap()), 5000, 53)
        );
        assert_eq!((s.first_index, s.first_ns, s.last_ns, s.packets, s.bytes, s.has_ports), (0, 5, 10, 2, 170, true));
        assert_eq!((part.convs[1].1.packets, part.convs[1].1.bytes), (1, 120));
        // ARP: the source MAC only.
        let (k, s) = part.convs[2];
        assert_eq!((k.src, k.dst, k.protocol, s.packets, s.bytes), (None, None, 0, 1, 60));
        assert_eq!(part.packets(), 4);
    }
}
