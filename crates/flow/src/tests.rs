//! Flow tables on hand-built packet summaries.

use super::*;
use netcap_decoder::{NetworkKind, TransportKind, tcp_flag as f};
use netcap_records::{Connection, Flow};
use std::net::{IpAddr, Ipv4Addr};

const C: [u8; 4] = [10, 0, 0, 1];
const S: [u8; 4] = [93, 184, 216, 34];
const SEC: i64 = 1_000_000_000;

/// Packet builder: a TCP segment between C:40000 and S:80 at `t` ms.
struct P {
    s: PacketSummary,
}

impl P {
    fn tcp(from_client: bool, t_ms: i64, flags: u16, payload: u32) -> P {
        let (src, dst, sp, dp) = if from_client { (C, S, 40000, 80) } else { (S, C, 80, 40000) };
        let mac_c = [2, 0, 0, 0, 0, 1];
        let mac_s = [2, 0, 0, 0, 0, 2];
        P {
            s: PacketSummary {
                frame: 0,
                timestamp_ns: 1_700_000_000 * SEC + t_ms * 1_000_000,
                wire_length: 54 + payload,
                captured_length: 54 + payload,
                src_mac: Some(if from_client { mac_c } else { mac_s }),
                dst_mac: Some(if from_client { mac_s } else { mac_c }),
                network: NetworkKind::Ipv4,
                src_ip: Some(IpAddr::V4(Ipv4Addr::from(src))),
                dst_ip: Some(IpAddr::V4(Ipv4Addr::from(dst))),
                ip_protocol: 6,
                ttl: 64,
                ip_payload_length: 20 + payload,
                fragment: false,
                transport: TransportKind::Tcp,
                src_port: sp,
                dst_port: dp,
                tcp_flags: flags,
                tcp_window: 1000,
                payload_length: payload,
                ..Default::default()
            },
        }
    }

    /// A UDP datagram between C:40000 and S:`server_port`.
    fn udp(from_client: bool, t_ms: i64, server_port: u16, payload: u32) -> P {
        let mut p = P::tcp(from_client, t_ms, 0, payload);
        p.s.transport = TransportKind::Udp;
        p.s.ip_protocol = 17;
        p.s.wire_length = 42 + payload;
        if from_client {
            p.s.dst_port = server_port
        } else {
            p.s.src_port = server_port
        }
        p
    }

    fn window(mut self, w: u16) -> P {
        self.s.tcp_window = w;
        self
    }

    fn wscale(mut self, w: u8) -> P {
        self.s.tcp_window_scale = Some(w);
        self
    }

    fn port(mut self, client_port: u16) -> P {
        if self.s.src_ip == Some(IpAddr::V4(Ipv4Addr::from(C))) {
            self.s.src_port = client_port;
        } else {
            self.s.dst_port = client_port;
        }
        self
    }
}

/// Feeds packets (numbering frames from 1) into one table; returns what
/// ended, including at the end of capture.
fn run(config: &FlowConfig, capacity: usize, packets: Vec<P>) -> (Vec<EndedConnection>, FlowCounters) {
    let mut t = FlowTable::with_capacity(config, capacity);
    let mut ended = Vec::new();
    for (i, mut p) in packets.into_iter().enumerate() {
        p.s.frame = i as u64 + 1;
        t.observe(&p.s, &mut ended);
    }
    t.finish(&mut ended);
    (ended, t.counters().clone())
}

fn conn(e: &EndedConnection) -> Connection {
    let mut c = Connection::default();
    e.fill_connection(&mut c);
    c
}

const SYN: u16 = f::SYN;
const SA: u16 = f::SYN | f::ACK;
const A: u16 = f::ACK;
const PA: u16 = f::PSH | f::ACK;
const FA: u16 = f::FIN | f::ACK;
const RA: u16 = f::RST | f::ACK;

fn handshake_and_close() -> Vec<P> {
    vec![
        P::tcp(true, 0, SYN, 0).window(64240).wscale(7),
        P::tcp(false, 10, SA, 0).window(65160).wscale(8),
        P::tcp(true, 20, A, 0).window(502),
        P::tcp(true, 30, PA, 100).window(502),
        P::tcp(false, 60, A, 0).window(510),
        P::tcp(false, 70, PA, 1400).window(510),
        P::tcp(true, 80, A, 0).window(0),
        P::tcp(true, 90, A, 0).window(700),
        P::tcp(true, 100, FA, 0).window(700),
        P::tcp(false, 110, FA, 0).window(510),
        P::tcp(true, 120, A, 0).window(700), // last ACK: absorbed by the linger
    ]
}

#[test]
fn handshake_data_and_fin() {
    let (ended, counters) = run(&FlowConfig::default(), 100, handshake_and_close());
    assert_eq!(ended.len(), 1, "the final ACK starts no connection");
    let e = &ended[0];
    assert_eq!(e.reason(), TerminationReason::Fin);
    let c = conn(e);
    assert_eq!(
        (ip_text(&c.src_ip).as_str(), c.src_port, ip_text(&c.dst_ip).as_str(), c.dst_port),
        ("10.0.0.1", 40000, "93.184.216.34", 80)
    );
    assert_eq!(
        (ip_text(&c.src_mac).as_str(), ip_text(&c.dst_mac).as_str()),
        ("02:00:00:00:00:01", "02:00:00:00:00:02")
    );
    assert_eq!((c.link_protocol.as_str(), c.network_protocol.as_str()), ("Ethernet", "IPv4"));
    assert_eq!((c.transport_protocol.as_str(), c.application_protocol.as_str()), ("TCP", "HTTP"));
    assert_eq!((c.packets, c.client_packets, c.server_packets), (11, 7, 4));
    assert_eq!((c.client_bytes, c.server_bytes), (7 * 54 + 100, 4 * 54 + 1400));
    assert_eq!((c.payload_bytes, c.client_payload_bytes, c.server_payload_bytes), (1500, 100, 1400));
    assert_eq!((c.frame, c.duration_ns), (1, 120_000_000));
    assert_eq!((c.syn_count, c.fin_count, c.rst_count, c.ack_count, c.psh_count), (2, 2, 0, 10, 2));
    // Payload sizes: 0,0,0,100,0,1400,0,0,0,0,0.
    assert_eq!((c.payload_bytes_min, c.payload_bytes_max), (0, 1400));
    assert!((c.payload_bytes_mean - 1500.0 / 11.0).abs() < 1e-9);
    let m = 1500.0 / 11.0;
    let var = (100f64.powi(2) + 1400f64.powi(2)) / 11.0 - m * m;
    assert!((c.payload_bytes_std - var.sqrt()).abs() < 1e-9);
    assert_eq!(
        (c.payload_bytes_min_nonzero, c.payload_bytes_mean_nonzero, c.payload_bytes_std_nonzero),
        (100, 750.0, 650.0)
    );
    // Gaps: 10,10,10,30,10,10,10,10,10,10 ms.
    assert_eq!((c.interarrival_min_ns, c.interarrival_max_ns), (10_000_000, 30_000_000));
    assert!((c.interarrival_mean_s - 0.012).abs() < 1e-12);
    assert!((c.interarrival_std_s - 0.006).abs() < 1e-12);
    // Window samples: ACK segments. Client: 502,502,0,700,700,700; server: 65160,510,510,510.
    assert_eq!((c.client_window_min, c.client_window_max), (0, 700));
    assert!((c.client_window_mean - 3104.0 / 6.0).abs() < 1e-9);
    assert_eq!((c.client_initial_window, c.server_initial_window), (64240, 65160));
    assert_eq!((c.client_window_scale, c.server_window_scale), (Some(7), Some(8)));
    assert_eq!((c.client_zero_window_count, c.client_zero_window_update_count), (1, 1));
    assert_eq!((c.server_zero_window_count, c.server_zero_window_update_count), (0, 0));
    assert_eq!((c.server_window_min, c.server_window_max), (510, 65160));
    assert!(c.payload_size_sequence.is_empty() && c.window_sequence.is_empty());
    assert_eq!(counters.created, 1);
    assert_eq!(counters.ended_by(TerminationReason::Fin), 1);
    assert_eq!(counters.current, 0);

    let mut fl = Flow::default();
    assert!(e.fill_flow(false, &mut fl));
    assert_eq!(
        (ip_text(&fl.src_ip).as_str(), fl.src_port, fl.dst_port, fl.from_client),
        ("93.184.216.34", 80, 40000, false)
    );
    assert_eq!((fl.packets, fl.bytes, fl.payload_bytes, fl.connection_frame, fl.frame), (4, 4 * 54 + 1400, 1400, 1, 2));
    assert_eq!((fl.syn_count, fl.fin_count, fl.ack_count), (1, 1, 4));
    // Server gaps: 50, 10, 40 ms.
    assert!((fl.interarrival_mean_s - 0.1 / 3.0).abs() < 1e-12);
    assert_eq!((fl.window_min, fl.window_max, fl.initial_window, fl.window_scale), (510, 65160, 65160, Some(8)));
    assert!(e.fill_flow(true, &mut fl));
    assert_eq!((fl.packets, fl.from_client, fl.zero_window_count, fl.zero_window_update_count), (7, true, 1, 1));
}

#[test]
fn linger_ends_by_expiry_and_syn_opens_a_new_connection() {
    let config = FlowConfig::default();
    let mut t = FlowTable::with_capacity(&config, 10);
    let mut ended = Vec::new();
    for (i, mut p) in handshake_and_close().into_iter().enumerate() {
        p.s.frame = i as u64 + 1;
        t.observe(&p.s, &mut ended);
    }
    let base = 1_700_000_000 * SEC;
    t.expire(base + 120_000_000 + 4 * SEC, &mut ended);
    assert!(ended.is_empty(), "still lingering");
    t.expire(base + 120_000_000 + 5 * SEC, &mut ended);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].reason(), TerminationReason::Fin);
    assert!(t.is_empty());

    // RST, a retransmitted RST (absorbed), then a SYN on the same 5-tuple.
    ended.clear();
    let mut t = FlowTable::with_capacity(&config, 10);
    let ps = [P::tcp(true, 0, SYN, 0), P::tcp(false, 1, RA, 0), P::tcp(false, 2, RA, 0), P::tcp(true, 1000, SYN, 0)];
    for (i, mut p) in ps.into_iter().enumerate() {
        p.s.frame = i as u64 + 1;
        t.observe(&p.s, &mut ended);
    }
    assert_eq!(ended.len(), 1, "the SYN ended the reset connection");
    assert_eq!(ended[0].reason(), TerminationReason::Rst);
    assert_eq!(conn(&ended[0]).packets, 3);
    t.finish(&mut ended);
    assert_eq!(ended.len(), 2);
    assert_eq!(ended[1].reason(), TerminationReason::EndOfCapture);
    assert_eq!((conn(&ended[1]).frame, conn(&ended[1]).packets), (4, 1));
}

#[test]
fn syn_ack_first_makes_its_receiver_the_client() {
    let (ended, _) = run(&FlowConfig::default(), 10, vec![P::tcp(false, 0, SA, 0), P::tcp(true, 1, A, 0)]);
    let c = conn(&ended[0]);
    assert_eq!((ip_text(&c.src_ip).as_str(), c.src_port, c.dst_port), ("10.0.0.1", 40000, 80));
    assert_eq!((c.client_packets, c.server_packets), (1, 1));
    assert_eq!(ip_text(&c.src_mac), "02:00:00:00:00:01");
}

#[test]
fn midstream_and_udp_direction_by_service_port() {
    // A server-to-client segment first, no SYN: port 80 is the service.
    let (ended, _) = run(&FlowConfig::default(), 10, vec![P::tcp(false, 0, PA, 10)]);
    assert_eq!((conn(&ended[0]).src_port, conn(&ended[0]).server_packets), (40000, 1));
    // A DNS response seen before its query.
    let (ended, _) = run(&FlowConfig::default(), 10, vec![P::udp(false, 0, 53, 80), P::udp(true, 5, 53, 30)]);
    let c = conn(&ended[0]);
    assert_eq!((ip_text(&c.src_ip).as_str(), c.dst_port, c.application_protocol.as_str()), ("10.0.0.1", 53, "DNS"));
    assert_eq!((c.client_packets, c.server_packets, c.transport_protocol.as_str()), (1, 1, "UDP"));
    // Neither or both are service ports: the first sender is the client.
    let (ended, _) = run(&FlowConfig::default(), 10, vec![P::udp(false, 0, 5000, 1).port(6000)]);
    assert_eq!(ip_text(&conn(&ended[0]).src_ip), "93.184.216.34");
}

#[test]
fn idle_timeout_by_packet_time_and_by_expiry() {
    let config = FlowConfig { idle_timeout: std::time::Duration::from_secs(60), ..FlowConfig::default() };
    // A gap of 60 s inside one 5-tuple: two records.
    let (ended, counters) = run(&config, 10, vec![P::udp(true, 0, 5000, 10), P::udp(true, 60_000, 5000, 10)]);
    assert_eq!(ended.len(), 2);
    assert_eq!(ended[0].reason(), TerminationReason::IdleTimeout);
    assert_eq!(ended[1].reason(), TerminationReason::EndOfCapture);
    assert_eq!(counters.created, 2);
    // 59.999 s: one record.
    let (ended, _) = run(&config, 10, vec![P::udp(true, 0, 5000, 10), P::udp(true, 59_999, 5000, 10)]);
    assert_eq!(ended.len(), 1);

    let mut t = FlowTable::with_capacity(&config, 10);
    let mut ended = Vec::new();
    t.observe(&P::udp(true, 0, 5000, 10).s, &mut ended);
    t.observe(&P::udp(true, 30_000, 5001, 10).s, &mut ended);
    let base = 1_700_000_000 * SEC;
    t.expire(base + 60 * SEC - 1, &mut ended);
    assert!(ended.is_empty());
    t.expire(base + 60 * SEC, &mut ended);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].server().1, 5000);
    t.expire(base + 90 * SEC, &mut ended);
    assert_eq!(ended.len(), 2);
    assert_eq!(t.counters().ended_by(TerminationReason::IdleTimeout), 2);
}

#[test]
fn active_timeout_splits_and_keeps_roles() {
    let config = FlowConfig {
        idle_timeout: std::time::Duration::from_secs(10),
        active_timeout: std::time::Duration::from_secs(30),
        ..FlowConfig::default()
    };
    let mut ps = vec![P::tcp(true, 0, SYN, 0).wscale(7), P::tcp(false, 1, SA, 0)];
    // One packet every 5 s for 70 s, alternating sides.
    for i in 1..=14 {
        ps.push(P::tcp(i % 2 == 0, i * 5000, PA, 10));
    }
    let (ended, _) = run(&config, 10, ps);
    let reasons: Vec<_> = ended.iter().map(|e| e.reason()).collect();
    use TerminationReason::*;
    assert_eq!(reasons, [ActiveTimeout, ActiveTimeout, EndOfCapture]);
    let cs: Vec<Connection> = ended.iter().map(conn).collect();
    // 0..25 s: 2 + 5 packets; 30..55: 6; 60..70: 3.
    assert_eq!(cs.iter().map(|c| c.packets).collect::<Vec<_>>(), [7, 6, 3]);
    // The continuation starts with a server packet yet keeps the client.
    assert!(cs.iter().all(|c| ip_text(&c.src_ip) == "10.0.0.1" && c.dst_port == 80));
    assert_eq!(cs[1].client_window_scale, Some(7));
    assert!(cs.iter().all(|c| c.duration_ns < 30 * SEC));
}

#[test]
fn eviction_takes_the_oldest_idle_and_keeps_the_bound() {
    let config = FlowConfig::default();
    let mut t = FlowTable::with_capacity(&config, 3);
    let mut ended = Vec::new();
    for (i, port) in [1000u16, 1001, 1002].into_iter().enumerate() {
        t.observe(&P::udp(true, i as i64, port, 1).s, &mut ended);
    }
    // Touch 1000 again: 1001 is now the oldest idle.
    t.observe(&P::udp(true, 10, 1000, 1).s, &mut ended);
    t.observe(&P::udp(true, 11, 1003, 1).s, &mut ended);
    assert_eq!(ended.len(), 1);
    assert_eq!((ended[0].reason(), ended[0].server().1), (TerminationReason::Evicted, 1001));
    t.observe(&P::udp(true, 12, 1004, 1).s, &mut ended);
    assert_eq!(ended[1].server().1, 1002);
    for port in 2000..3000 {
        t.observe(&P::udp(true, 20, port, 1).s, &mut ended);
        assert!(t.len() <= 3);
    }
    assert_eq!(t.counters().evicted, 1002);
    assert_eq!(t.counters().peak, 3);
    // A closed, lingering connection goes before any open one.
    let mut t = FlowTable::with_capacity(&config, 2);
    let mut ended = Vec::new();
    t.observe(&P::udp(true, 0, 1000, 1).s, &mut ended);
    t.observe(&P::tcp(true, 1, SYN, 0).s, &mut ended);
    t.observe(&P::tcp(false, 2, RA, 0).s, &mut ended);
    t.observe(&P::udp(true, 3, 1001, 1).s, &mut ended);
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].reason(), TerminationReason::Rst);
    assert_eq!(t.counters().evicted, 0);
}

#[test]
fn sequences_keep_the_first_n() {
    let config = FlowConfig { sequences: 4, ..FlowConfig::default() };
    let ps = vec![
        P::tcp(true, 0, SYN, 0).window(100),
        P::tcp(false, 3, SA, 0).window(200),
        P::tcp(true, 5, PA, 30).window(101),
        P::tcp(false, 12, PA, 700).window(201),
        P::tcp(true, 20, PA, 40).window(102),
    ];
    let (ended, _) = run(&config, 10, ps);
    let c = conn(&ended[0]);
    assert_eq!(c.payload_size_sequence, [0, 0, 30, -700]);
    assert_eq!(c.interarrival_sequence_ns, [0, 3_000_000, 2_000_000, 7_000_000]);
    assert_eq!(c.window_sequence, [100, 200, 101, 201]);
    let mut fl = Flow::default();
    assert!(ended[0].fill_flow(false, &mut fl));
    assert_eq!(fl.payload_size_sequence, [0, 700]);
    assert_eq!(fl.interarrival_sequence_ns, [0, 9_000_000]);
    assert_eq!(fl.window_sequence, [200, 201]);
}

#[test]
fn one_way_flow_has_one_flow_record() {
    let (ended, _) = run(&FlowConfig::default(), 10, vec![P::udp(true, 0, 5000, 8), P::udp(true, 1, 5000, 0)]);
    let mut fl = Flow::default();
    assert!(ended[0].fill_flow(true, &mut fl));
    assert!(!ended[0].fill_flow(false, &mut fl));
    let c = conn(&ended[0]);
    assert_eq!((c.server_packets, c.payload_bytes_min_nonzero, c.window_sequence.len()), (0, 8, 0));
    assert_eq!((c.syn_count, c.client_window_max, c.client_window_scale), (0, 0, None));
}

#[test]
fn non_ip_is_ignored() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let mut ended = Vec::new();
    t.observe(&PacketSummary { network: NetworkKind::Arp, ..Default::default() }, &mut ended);
    t.finish(&mut ended);
    assert!(ended.is_empty());
    assert_eq!((t.counters().packets, t.counters().ignored, t.counters().created), (1, 1, 0));
}

#[test]
fn memory_bound_is_documented_size() {
    let config = FlowConfig::default();
    assert_eq!(config.table_capacity(), 4096);
    let bound = config.memory_bound_bytes();
    assert!(bound > 50 << 20 && bound < 200 << 20, "{bound}");
}

/// A stored address as text (records keep addresses as bytes).
fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()).to_string(),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()).to_string(),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
    }
}
