//! Flow tables on real captures: agreement with tshark's conversation
//! statistics, NetWatcher features of hand-checked flows, and determinism
//! across shard processing orders and batch sizes.
//!
//! The packets go through the pipeline's steps as the capture command runs
//! them: decode with summaries on, cut into batches, route each summary to
//! one of `SHARDS` tables by `shard_of`, expire every table at each batch
//! boundary with the batch's last timestamp, sort what ended in the batch by
//! `sort_key`.

use netcap_decoder::{DecodeConfig, Decoder, PacketSummary, RecordBuffers};
use netcap_flow::{EndedConnection, FlowConfig, FlowTable, SHARDS, TerminationReason, shard_of};
use netcap_records::{Connection, Flow, RecordType};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn repo_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").join(rel)
}

/// A capture of testdata/pcaps.
fn capture(name: &str) -> Vec<u8> {
    let path = repo_path("testdata/pcaps").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn summaries(data: &[u8]) -> Vec<PacketSummary> {
    let mut config = DecodeConfig::new();
    for t in RecordType::all() {
        config.set(t, false);
    }
    config.summaries = true;
    let mut decoder = Decoder::new(config);
    let mut out = RecordBuffers::new();
    netcap_capture::read_packets_in_memory("capture", data, |meta, bytes| decoder.decode(meta, bytes, &mut out))
        .expect("readable capture");
    std::mem::take(&mut out.summaries)
}

/// The summaries of a capture decoded with every decoder on (None if it does
/// not read to the end).
fn every_decoder_summaries(data: &[u8]) -> Option<Vec<PacketSummary>> {
    let mut config = DecodeConfig::new();
    config.summaries = true;
    let mut decoder = Decoder::new(config);
    let mut out = RecordBuffers::new();
    netcap_capture::read_packets_in_memory("c", data, |m, b| decoder.decode(m, b, &mut out)).ok()?;
    Some(std::mem::take(&mut out.summaries))
}

/// The pipeline's flow stage: batches of `batch` packets, shards processed
/// in the order `shard_order` gives (a permutation of 0..SHARDS).
fn track(s: &[PacketSummary], config: &FlowConfig, batch: usize, shard_order: &[usize]) -> Vec<EndedConnection> {
    let mut tables: Vec<FlowTable> = (0..SHARDS).map(|_| FlowTable::new(config)).collect();
    let mut out = Vec::new();
    let mut routed: Vec<Vec<&PacketSummary>> = vec![Vec::new(); SHARDS];
    for chunk in s.chunks(batch) {
        routed.iter_mut().for_each(Vec::clear);
        for p in chunk {
            if let Some(shard) = shard_of(p, SHARDS) {
                routed[shard].push(p);
            }
        }
        let mut ended = Vec::new();
        let now = chunk.last().map_or(0, |p| p.timestamp_ns);
        for &shard in shard_order {
            for p in &routed[shard] {
                tables[shard].observe(p, &mut ended);
            }
            tables[shard].expire(now, &mut ended);
        }
        ended.sort_by_key(|e| e.sort_key());
        out.append(&mut ended);
    }
    let mut ended = Vec::new();
    for &shard in shard_order {
        tables[shard].finish(&mut ended);
    }
    ended.sort_by_key(|e| e.sort_key());
    out.append(&mut ended);
    out
}

fn connections(ended: &[EndedConnection]) -> Vec<Connection> {
    ended
        .iter()
        .map(|e| {
            let mut c = Connection::default();
            e.fill_connection(&mut c);
            c
        })
        .collect()
}

type ConvKey = (String, String, u32, String, u32);

/// tshark's order of a conversation's endpoints (IPv4 before IPv6, then
/// address text, then port), as scripts/tshark-conversations writes them.
/// A stored address as text (records keep addresses as bytes).
fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()).to_string(),
        16 => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()).to_string(),
        _ => bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":"),
    }
}

fn endpoint_order(ip: &str, port: u32) -> (bool, String, u32) {
    (ip.contains(':'), ip.to_string(), port)
}

/// Sums of Connection records per 5-tuple: frames and bytes A to B, B to A.
fn netcap_conversations(conns: &[Connection]) -> BTreeMap<ConvKey, [u64; 4]> {
    let mut m = BTreeMap::new();
    for c in conns {
        let proto = match c.ip_protocol {
            6 => "tcp",
            17 => "udp",
            _ => continue,
        };
        let client = (c.client_packets, c.client_bytes);
        let server = (c.server_packets, c.server_bytes);
        let (sip, dip) = (ip_text(&c.src_ip), ip_text(&c.dst_ip));
        let (key, ab, ba) = if endpoint_order(&sip, c.src_port) <= endpoint_order(&dip, c.dst_port) {
            ((proto.to_string(), sip, c.src_port, dip, c.dst_port), client, server)
        } else {
            ((proto.to_string(), dip, c.dst_port, sip, c.src_port), server, client)
        };
        let e: &mut [u64; 4] = m.entry(key).or_default();
        e[0] += ab.0;
        e[1] += ab.1;
        e[2] += ba.0;
        e[3] += ba.1;
    }
    m
}

fn tshark_conversations(name: &str) -> BTreeMap<ConvKey, [u64; 4]> {
    let path = repo_path("testdata/expected/conversations").join(format!("{name}.tsv"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut m = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split('\t').collect();
        let n = |i: usize| f[i].parse::<u64>().unwrap();
        let key = (f[0].to_string(), f[1].to_string(), n(2) as u32, f[3].to_string(), n(4) as u32);
        m.insert(key, [n(5), n(6), n(7), n(8)]);
    }
    m
}

const AGREEMENT_CAPTURES: [&str; 9] = [
    "pcapplusplus-tls2.pcap",
    "pcapplusplus-example.pcap",
    "pcapplusplus-many-protocols.pcap",
    "tcpdump-print-flags.pcap",
    "zeek-tcp-fast-open.pcap",
    "zeek-tcp-handshake-reorder.pcap",
    "zeek-tcp-option-sack.pcap",
    "zeek-tcp-options.pcap",
    "zeek-tcp-reassembly.pcap",
];

/// Per-5-tuple packets and bytes in each direction equal tshark's
/// `-z conv,tcp` / `-z conv,udp` (summed over the Connection records of a
/// 5-tuple: tshark's conversations never time out).
#[test]
fn conversations_agree_with_tshark() {
    let (mut total, mut agree) = (0usize, 0usize);
    let mut report = Vec::new();
    for name in AGREEMENT_CAPTURES {
        let data = capture(name);
        let ended = track(&summaries(&data), &FlowConfig::default(), 4096, &(0..SHARDS).collect::<Vec<_>>());
        let conns = connections(&ended);
        let ours = netcap_conversations(&conns);
        let theirs = tshark_conversations(name);
        let mut reasons = BTreeMap::new();
        for c in &conns {
            *reasons.entry(format!("{:?}", c.termination_reason())).or_insert(0) += 1;
        }
        println!("{name}: {} connection records {reasons:?}", conns.len());
        let (mut t, mut a) = (0, 0);
        for (key, want) in &theirs {
            t += 1;
            match ours.get(key) {
                Some(got) if got == want => a += 1,
                got => report.push(format!("{name}: {key:?}: tshark {want:?}, netcap {got:?}")),
            }
        }
        for key in ours.keys().filter(|k| !theirs.contains_key(*k)) {
            report.push(format!("{name}: {key:?}: netcap only {:?}", ours[key]));
        }
        println!("{name}: {a}/{t} conversations agree");
        total += t;
        agree += a;
    }
    for r in &report {
        println!("  {r}");
    }
    println!("total: {agree}/{total} conversations agree");
    assert!(total > 0);
    assert!(agree * 100 >= total * 99, "{agree}/{total} agree, below 99%");
}

/// The same records for any shard processing order and batch size (batch
/// boundaries only move idle expiry, which here never triggers: what matters
/// is that records depend on the input only).
#[test]
fn deterministic_for_any_shard_order() {
    let data = capture("pcapplusplus-example.pcap");
    let s = summaries(&data);
    let config = FlowConfig { idle_timeout: std::time::Duration::from_secs(5), ..FlowConfig::default() };
    let forward: Vec<usize> = (0..SHARDS).collect();
    let reverse: Vec<usize> = (0..SHARDS).rev().collect();
    let interleaved: Vec<usize> = (0..SHARDS).step_by(2).chain((1..SHARDS).step_by(2)).collect();
    let base = connections(&track(&s, &config, 4096, &forward));
    assert!(base.len() > 100);
    for order in [&reverse, &interleaved] {
        assert_eq!(connections(&track(&s, &config, 4096, order)), base);
    }
    // Records in a stream are ordered by batch, then by sort key.
    let small = connections(&track(&s, &config, 100, &forward));
    let key = |c: &Connection| (c.frame, c.last_timestamp_ns);
    let mut a: Vec<_> = base.iter().map(key).collect();
    let mut b: Vec<_> = small.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same records whatever the batch size");
}

/// A flood of flows through a small bound: evictions, never more state.
#[test]
fn bound_holds_on_a_real_capture() {
    let data = capture("pcapplusplus-tls2.pcap");
    let s = summaries(&data);
    let config = FlowConfig { max_flows: SHARDS, ..FlowConfig::default() };
    let mut tables: Vec<FlowTable> = (0..SHARDS).map(|_| FlowTable::new(&config)).collect();
    let mut ended = Vec::new();
    for p in &s {
        if let Some(shard) = shard_of(p, SHARDS) {
            tables[shard].observe(p, &mut ended);
            assert!(tables[shard].len() <= 1);
        }
    }
    let evicted: u64 = tables.iter().map(|t| t.counters().evicted).sum();
    assert!(evicted > 100, "{evicted}");
    assert_eq!(ended.iter().filter(|e| e.reason() == TerminationReason::Evicted).count() as u64, evicted);
}

fn find<'a>(conns: &'a [Connection], src: &str, sport: u32, dst: &str, dport: u32) -> &'a Connection {
    conns
        .iter()
        .find(|c| ip_text(&c.src_ip) == src && c.src_port == sport && ip_text(&c.dst_ip) == dst && c.dst_port == dport)
        .unwrap_or_else(|| panic!("no connection {src}:{sport} -> {dst}:{dport}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

macro_rules! assert_close {
    ($a:expr, $b:expr) => {
        assert!(close($a, $b), "{} = {} != {}", stringify!($a), $a, $b)
    };
}

fn flows_of(ended: &[EndedConnection], frame: u64) -> (Flow, Flow) {
    let e = ended.iter().find(|e| e.first_frame() == frame).unwrap();
    let (mut c, mut s) = (Flow::default(), Flow::default());
    assert!(e.fill_flow(true, &mut c));
    assert!(e.fill_flow(false, &mut s));
    (c, s)
}

fn tracked(name: &str) -> (Vec<EndedConnection>, Vec<Connection>) {
    let data = capture(name);
    let ended = track(&summaries(&data), &FlowConfig::default(), 4096, &(0..SHARDS).collect::<Vec<_>>());
    let conns = connections(&ended);
    (ended, conns)
}

// NetWatcher's features of real flows, checked against values computed from
// tshark's fields (frame.time_epoch, frame.len, tcp.len / udp.length - 8,
// tcp.flags, tcp.window_size_value, tcp.options.wscale.shift) by a short
// Python script with this crate's definitions: population standard
// deviations, window statistics over segments with ACK set and RST clear,
// initial window = the direction's first segment.

/// A handshake whose SYN-ACK was captured before the SYN: the SYN-ACK's
/// receiver is the client. 14 packets; the last ACK after both FINs is
/// absorbed by the close linger.
#[test]
fn netwatcher_features_handshake_reorder() {
    let (ended, conns) = tracked("zeek-tcp-handshake-reorder.pcap");
    assert_eq!(conns.len(), 1);
    let c = find(&conns, "141.142.228.5", 59856, "192.150.187.43", 80);
    assert_eq!(ended[0].reason(), TerminationReason::Fin);
    assert_eq!((c.frame, c.duration_ns, c.application_protocol.as_str()), (1, 141_888_000, "HTTP"));
    assert_eq!((c.packets, c.client_packets, c.server_packets), (14, 7, 7));
    assert_eq!((c.client_bytes, c.server_bytes, c.payload_bytes), (610, 5477, 5143));
    assert_eq!((c.client_payload_bytes, c.server_payload_bytes), (136, 5007));
    assert_eq!((c.syn_count, c.fin_count, c.rst_count, c.ack_count, c.psh_count), (2, 2, 0, 13, 2));
    assert_eq!((c.urg_count, c.ece_count, c.cwr_count), (0, 0, 0));
    assert_eq!((c.payload_bytes_min, c.payload_bytes_max), (0, 1448));
    assert_close!(c.payload_bytes_mean, 367.35714285714283);
    assert_close!(c.payload_bytes_std, 589.1191496199896);
    assert_eq!(c.payload_bytes_min_nonzero, 136);
    assert_close!(c.payload_bytes_mean_nonzero, 1028.6);
    assert_close!(c.payload_bytes_std_nonzero, 540.0161479067084);
    assert_eq!(c.interarrival_min_ns, 10_000);
    assert_eq!(c.interarrival_max_ns, 68_982_000);
    assert_close!(c.interarrival_mean_s, 0.01091446153846154);
    assert_close!(c.interarrival_std_s, 0.024765686642286042);
    assert_eq!((c.client_window_min, c.client_window_max), (7922, 8235));
    assert_close!(c.client_window_mean, 8138.333333333333);
    assert_close!(c.client_window_std, 114.2813292809557);
    assert_eq!((c.client_initial_window, c.client_window_scale), (65535, Some(4)));
    assert_eq!((c.server_window_min, c.server_window_max), (122, 14480));
    assert_close!(c.server_window_mean, 2173.1428571428573);
    assert_close!(c.server_window_std, 5024.25338955441);
    assert_eq!((c.server_initial_window, c.server_window_scale), (14480, Some(7)));
    assert_eq!((c.client_zero_window_count, c.server_zero_window_count), (0, 0));
    let (client, server) = flows_of(&ended, 1);
    assert_eq!((client.frame, client.packets, client.bytes, client.payload_bytes), (2, 7, 610, 136));
    assert_eq!(client.interarrival_min_ns, 32_000);
    assert_eq!(client.interarrival_max_ns, 70_328_000);
    assert_close!(client.interarrival_mean_s, 0.023604666666666673);
    assert_close!(client.interarrival_std_s, 0.03262210853427813);
    assert_close!(client.payload_bytes_mean, 19.428571428571427);
    assert_close!(client.payload_bytes_std, 47.59008643121603);
    assert_eq!((server.frame, server.packets, server.bytes, server.connection_frame), (1, 7, 5477, 1));
    assert_close!(server.interarrival_mean_s, 0.023624000000000003);
    assert_close!(server.interarrival_std_s, 0.03296677848986765);
    assert_close!(server.payload_bytes_mean, 715.2857142857143);
    assert_close!(server.payload_bytes_std, 670.6335414656618);
    assert_eq!((server.window_scale, server.initial_window, server.syn_count), (Some(7), 14480, 1));
}

/// A loopback HTTP exchange: both ends on 127.0.0.1, the SYN decides.
#[test]
fn netwatcher_features_print_flags() {
    let (ended, conns) = tracked("tcpdump-print-flags.pcap");
    assert_eq!(conns.len(), 1);
    let c = find(&conns, "127.0.0.1", 55920, "127.0.0.1", 80);
    assert_eq!(ended[0].reason(), TerminationReason::Fin);
    assert_eq!((c.packets, c.client_packets, c.server_packets), (10, 6, 4));
    assert_eq!((c.client_bytes, c.server_bytes, c.payload_bytes, c.duration_ns), (606, 5831, 5761, 1_292_834_000));
    assert_eq!((c.syn_count, c.fin_count, c.ack_count, c.psh_count), (2, 2, 9, 2));
    assert_close!(c.payload_bytes_mean, 576.1);
    assert_close!(c.payload_bytes_std, 1662.0581488022613);
    assert_eq!((c.payload_bytes_min_nonzero, c.payload_bytes_max), (202, 5559));
    assert_close!(c.payload_bytes_mean_nonzero, 2880.5);
    assert_close!(c.payload_bytes_std_nonzero, 2678.5);
    assert_eq!(c.interarrival_min_ns, 28_000);
    assert_eq!(c.interarrival_max_ns, 1_288_315_000);
    assert_close!(c.interarrival_mean_s, 0.14364822222222223);
    assert_close!(c.interarrival_std_s, 0.40470113768057364);
    assert_close!(c.client_window_mean, 10706.6);
    assert_close!(c.client_window_std, 2053.16230240086);
    assert_close!(c.server_window_mean, 14335.75);
    assert_close!(c.server_window_std, 10641.28714900129);
    assert_eq!((c.client_initial_window, c.server_initial_window), (32767, 32767));
    assert_eq!((c.client_window_scale, c.server_window_scale), (Some(2), Some(2)));
    let (client, server) = flows_of(&ended, 1);
    assert_close!(client.interarrival_mean_s, 0.2585668);
    assert_close!(client.interarrival_std_s, 0.5148744132008892);
    assert_close!(server.interarrival_mean_s, 0.43090566666666663);
    assert_close!(server.interarrival_std_s, 0.6071938845269185);
    assert_close!(server.payload_bytes_std, 2407.117609818847);
}

/// An IPv6 TLS connection picked up mid-stream (no SYN): port 443 makes the
/// other end the client.
#[test]
fn netwatcher_features_ipv6_midstream() {
    let (ended, conns) = tracked("pcapplusplus-tls2.pcap");
    let c = find(&conns, "2601:647:4b02:1d20:fd05:6f66:ecce:8bc7", 49756, "2a04:4e42:a::272", 443);
    assert_eq!((c.network_protocol.as_str(), c.application_protocol.as_str()), ("IPv6", "TLS"));
    assert_eq!(c.termination_reason(), TerminationReason::EndOfCapture);
    assert_eq!((c.frame, c.duration_ns), (2725, 2_640_601_000));
    assert_eq!((c.packets, c.client_packets, c.server_packets), (308, 209, 99));
    assert_eq!((c.client_bytes, c.server_bytes, c.payload_bytes), (36709, 54020, 67937));
    assert_eq!((c.syn_count, c.fin_count, c.ack_count, c.psh_count), (0, 0, 308, 307));
    assert_eq!((c.payload_bytes_min, c.payload_bytes_max, c.payload_bytes_min_nonzero), (2, 1376, 2));
    assert_close!(c.payload_bytes_mean, 220.57467532467533);
    assert_close!(c.payload_bytes_std, 242.44054889450982);
    assert_close!(c.payload_bytes_std_nonzero, 242.44054889450982);
    assert_eq!(c.interarrival_min_ns, 0);
    assert_eq!(c.interarrival_max_ns, 1_581_673_000);
    assert_close!(c.interarrival_mean_s, 0.008601306188925085);
    assert_close!(c.interarrival_std_s, 0.09055182822169089);
    assert_eq!((c.client_window_min, c.client_window_max, c.client_initial_window), (1021, 4117, 1026));
    assert_close!(c.client_window_mean, 1482.751196172249);
    assert_close!(c.client_window_std, 1098.8593892010986);
    assert_eq!((c.server_window_min, c.server_window_max, c.server_initial_window), (82, 83, 83));
    assert_close!(c.server_window_mean, 82.97979797979798);
    assert_close!(c.server_window_std, 0.14069079067862747);
    assert_eq!((c.client_window_scale, c.server_window_scale), (None, None));
    let (client, server) = flows_of(&ended, 2725);
    assert_close!(client.interarrival_mean_s, 0.01260688942307692);
    assert_close!(client.interarrival_std_s, 0.11116559669713937);
    assert_close!(client.payload_bytes_std, 68.37729855392814);
    assert_eq!(server.interarrival_max_ns, 1_592_419_000);
    assert_close!(server.interarrival_std_s, 0.16054315657506876);
    assert_close!(server.payload_bytes_mean, 471.65656565656565);
    assert_close!(server.payload_bytes_std, 282.99913129809784);
}

/// A DNS query sent twice (the second a second after the first) and its
/// answer, in pcapplusplus-many-protocols.pcap (frames 364, 704 and 712).
#[test]
fn netwatcher_features_udp_dns() {
    let (ended, conns) = tracked("pcapplusplus-many-protocols.pcap");
    let c = find(&conns, "10.0.0.1", 55788, "10.0.0.138", 53);
    assert_eq!((c.transport_protocol.as_str(), c.application_protocol.as_str()), ("UDP", "DNS"));
    assert_eq!((c.frame, c.duration_ns), (364, 1_016_262_000));
    assert_eq!((c.client_packets, c.client_bytes, c.server_packets, c.server_bytes), (2, 152, 1, 175));
    assert_eq!((c.payload_bytes, c.client_payload_bytes, c.server_payload_bytes), (201, 68, 133));
    assert_eq!((c.payload_bytes_min, c.payload_bytes_max), (34, 133));
    assert_close!(c.payload_bytes_mean, 67.0);
    assert_close!(c.payload_bytes_std, 46.66904755831214);
    assert_eq!(c.interarrival_min_ns, 17_002_000);
    assert_eq!(c.interarrival_max_ns, 999_260_000);
    assert_close!(c.interarrival_mean_s, 0.508131);
    assert_close!(c.interarrival_std_s, 0.491129);
    assert_eq!((c.syn_count, c.ack_count, c.client_window_max, c.client_initial_window), (0, 0, 0, 0));
    let (client, server) = flows_of(&ended, 364);
    assert_eq!((client.packets, client.bytes, client.payload_bytes), (2, 152, 68));
    assert_close!(client.interarrival_mean_s, 0.99926);
    assert_eq!((client.interarrival_std_s, server.interarrival_max_ns), (0.0, 0));
    assert_eq!((server.frame, server.payload_bytes, server.src_port, server.dst_port), (712, 133, 53, 55788));
}

/// Every capture of testdata (well-formed and malformed) through small
/// tables with short timeouts: no panic, the bound holds, and every packet of
/// a flow is counted in exactly one Connection record.
#[test]
fn every_packet_counted_once_under_pressure() {
    let config = FlowConfig {
        idle_timeout: std::time::Duration::from_millis(50),
        active_timeout: std::time::Duration::from_millis(200),
        close_linger: std::time::Duration::from_millis(10),
        max_flows: 2 * SHARDS,
        sequences: 3,
    };
    let mut checked = 0;
    for dir in ["testdata/pcaps", "testdata/malformed"] {
        for entry in std::fs::read_dir(repo_path(dir)).unwrap() {
            let path = entry.unwrap().path();
            let Some(s) = std::fs::read(&path).ok().and_then(|data| every_decoder_summaries(&data)) else { continue };
            let keyed = s.iter().filter(|p| shard_of(p, SHARDS).is_some()).count() as u64;
            let ended = track(&s, &config, 64, &(0..SHARDS).collect::<Vec<_>>());
            let mut counted = 0;
            let (mut c, mut f) = (Connection::default(), Flow::default());
            for e in &ended {
                assert_direct_encoding(e);
                e.fill_connection(&mut c);
                counted += c.packets;
                assert_eq!(c.packets, c.client_packets + c.server_packets);
                assert!(c.duration_ns >= 0 && c.payload_size_sequence.len() <= 3);
                let mut flow_packets = 0;
                for from_client in [true, false] {
                    if e.fill_flow(from_client, &mut f) {
                        flow_packets += f.packets;
                    }
                }
                assert_eq!(flow_packets, c.packets);
            }
            assert_eq!(counted, keyed, "{}", path.display());
            checked += 1;
        }
    }
    assert!(checked > 50, "{checked}");
}

/// The records the capture writes ([`EndedConnection::encode_connection`]
/// and `encode_flow`, which skip prost) are the bytes prost writes for the
/// filled records.
fn assert_direct_encoding(e: &EndedConnection) {
    use prost::Message;
    let id = "1:hcp4sRW9OkTf1uD1zb2R8QBqYLU=";
    let mut c = Connection::default();
    e.fill_connection(&mut c);
    c.community_id = id.to_string();
    let mut got = Vec::new();
    e.encode_connection(id, &mut got);
    assert_eq!(got, c.encode_length_delimited_to_vec(), "{c:?}");
    for from_client in [true, false] {
        let mut f = Flow::default();
        let mut got = Vec::new();
        assert_eq!(e.fill_flow(from_client, &mut f), e.encode_flow(from_client, id, &mut got));
        if !got.is_empty() {
            f.community_id = id.to_string();
            assert_eq!(got, f.encode_length_delimited_to_vec(), "{f:?}");
        }
    }
}

/// Direct encoding on every connection of the repository's captures, with
/// the default settings and with long sequences.
#[test]
fn direct_encoding_matches_prost() {
    let mut checked = 0;
    for sequences in [0, 500] {
        let config = FlowConfig { sequences, ..FlowConfig::default() };
        for entry in std::fs::read_dir(repo_path("testdata/pcaps")).unwrap() {
            let path = entry.unwrap().path();
            let Some(s) = std::fs::read(&path).ok().and_then(|data| every_decoder_summaries(&data)) else { continue };
            for e in &track(&s, &config, 4096, &(0..SHARDS).collect::<Vec<_>>()) {
                assert_direct_encoding(e);
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}
