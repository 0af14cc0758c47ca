//! Packet summaries built from the input through small, sharded flow tables
//! with short timeouts, so that splitting, lingering, expiry and eviction all
//! happen within a few packets.
//!
//! Input: byte 0 scales the timeouts; then 12 bytes per packet: time step
//! (signed, ms: capture time may go backwards), address and port choices
//! from small sets (so packets meet their flows again), transport kind, TCP
//! flags, window, payload length, window scale.
//!
//! Checks, besides "does not panic": no table ever holds more than its
//! capacity; every packet that belongs to a flow is counted in exactly one
//! Connection record, and in one of its Flow records; a record's counts add
//! up by direction; durations are not negative; sequences stay within N;
//! the records the capture writes (`encode_connection`, `encode_flow`) are
//! prost's bytes for the filled records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::{NetworkKind, PacketSummary, TransportKind};
use netcap_flow::{FlowConfig, FlowTable, shard_of};
use netcap_records::{Connection, Flow};
use prost::Message;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

const SHARDS: usize = 4;
const CAPACITY: usize = 3;
const SEQUENCES: usize = 2;

fn ip(choice: u8, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(choice % 3)))
    } else {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, choice % 3))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&scale, rest)) = data.split_first() else { return };
    let unit = Duration::from_millis(1 + u64::from(scale % 16));
    let config = FlowConfig {
        idle_timeout: unit * 20,
        active_timeout: unit * 50,
        close_linger: unit * 5,
        max_flows: SHARDS * CAPACITY,
        sequences: SEQUENCES,
    };
    let mut tables: Vec<FlowTable> = (0..SHARDS).map(|_| FlowTable::with_capacity(&config, CAPACITY)).collect();
    let mut ended = Vec::new();
    let mut ts: i64 = 1_000_000_000;
    let mut keyed = 0u64;
    for (i, p) in rest.chunks_exact(12).enumerate() {
        ts = ts.saturating_add(i64::from(i16::from_le_bytes([p[0], p[1]])) * 1_000_000);
        let v6 = p[2] & 0x80 != 0;
        let transport = match p[3] % 6 {
            0 => TransportKind::Tcp,
            1 => TransportKind::Udp,
            2 => {
                if v6 {
                    TransportKind::Icmpv6
                } else {
                    TransportKind::Icmpv4
                }
            }
            3 => TransportKind::Other,
            4 => TransportKind::None,
            _ => TransportKind::Tcp,
        };
        let ip_protocol = match transport {
            TransportKind::Tcp => 6,
            TransportKind::Udp => 17,
            TransportKind::Icmpv4 => 1,
            TransportKind::Icmpv6 => 58,
            _ => p[3],
        };
        let s = PacketSummary {
            frame: i as u64 + 1,
            timestamp_ns: ts,
            wire_length: u32::from(p[10]) * 7,
            captured_length: u32::from(p[10]) * 7,
            src_mac: (p[2] & 0x40 != 0).then_some([2, 0, 0, 0, 0, p[2] & 3]),
            dst_mac: (p[2] & 0x40 != 0).then_some([2, 0, 0, 0, 0, (p[2] >> 2) & 3]),
            network: if p[2] & 0x20 != 0 {
                NetworkKind::Arp
            } else if v6 {
                NetworkKind::Ipv6
            } else {
                NetworkKind::Ipv4
            },
            src_ip: Some(ip(p[2], v6)),
            dst_ip: Some(ip(p[2] >> 2, v6)),
            ip_protocol,
            ip_payload_length: u32::from(p[10]) * 5,
            transport,
            src_port: [80, 443, 53, 40000][usize::from(p[4] & 3)],
            dst_port: [80, 443, 53, 40000][usize::from((p[4] >> 2) & 3)],
            icmp_type: p[4] >> 4,
            icmp_code: p[5] & 3,
            tcp_flags: u16::from(p[6]),
            tcp_window: u16::from_le_bytes([p[7], p[8]]),
            tcp_window_scale: (p[9] & 0x80 != 0).then_some(p[9] & 15),
            payload_length: u32::from(p[11]),
            ..PacketSummary::default()
        };
        if let Some(shard) = shard_of(&s, SHARDS) {
            keyed += 1;
            tables[shard].observe(&s, &mut ended);
            assert!(tables[shard].len() <= CAPACITY, "table above its capacity");
        }
        // A batch boundary every 4 packets.
        if i % 4 == 3 {
            tables.iter_mut().for_each(|t| t.expire(ts, &mut ended));
        }
    }
    tables.iter_mut().for_each(|t| t.finish(&mut ended));
    let (mut c, mut f) = (Connection::default(), Flow::default());
    let mut counted = 0;
    let mut direct = Vec::new();
    for e in &ended {
        e.fill_connection(&mut c);
        c.community_id = "1:id".into();
        direct.clear();
        e.encode_connection("1:id", &mut direct);
        assert_eq!(direct, c.encode_length_delimited_to_vec(), "direct Connection encoding differs");
        counted += c.packets;
        assert_eq!(c.packets, c.client_packets + c.server_packets);
        assert_eq!(c.bytes, c.client_bytes + c.server_bytes);
        assert!(c.duration_ns >= 0, "negative duration");
        assert!(c.payload_size_sequence.len() <= SEQUENCES);
        let mut flow_packets = 0;
        for from_client in [true, false] {
            direct.clear();
            let written = e.encode_flow(from_client, "1:id", &mut direct);
            assert_eq!(written, e.fill_flow(from_client, &mut f));
            if written {
                f.community_id = "1:id".into();
                assert_eq!(direct, f.encode_length_delimited_to_vec(), "direct Flow encoding differs");
                assert!(f.packets > 0 && f.duration_ns >= 0);
                flow_packets += f.packets;
            }
        }
        assert_eq!(flow_packets, c.packets, "flows do not add up to their connection");
    }
    assert_eq!(counted, keyed, "packets lost or counted twice");
});
