//! Writes synthetic Connection records for `scripts/bench-label`.
//!
//! ```sh
//! cargo run --release -p netcap-label --example make_connections -- DIR [RECORDS [EVERY]]
//! ```
//!
//! Writes RECORDS (default 1,000,000) Connection records with every
//! statistics field filled, as the flow builder fills them (the shape of
//! `netcap-query`'s benchmark records: an office uplink of a few hundred
//! clients and a few thousand servers), to DIR/Connection.ncap.zst, and
//! every EVERY-th connection (default 10) to DIR/connections.tsv: first and
//! last packet (Unix ns), IP protocol, client address and port, server
//! address and port, Community ID, one line each, for the script to build
//! alerts against. Community IDs are real (v1, seed 0). Deterministic.

use netcap_decoder::community_id::CommunityId;
use netcap_records::{Connection, FrameCompressor, Header, RecordFileWriter, RecordType};
use prost::Message;
use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::PathBuf;

fn connection(i: u64, ids: &mut CommunityId) -> Connection {
    let mix = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let client = mix % 500;
    let server = (mix >> 20) % 4000;
    let (dport, app, proto) = match (mix >> 40) % 10 {
        0..=4 => (443, "TLS", 6),
        5 | 6 => (80, "HTTP", 6),
        7 | 8 => (53, "DNS", 17),
        _ => (22, "SSH", 6),
    };
    let client_packets = 1 + (mix >> 8) % 50;
    let server_packets = 1 + (mix >> 16) % 80;
    let client_bytes = client_packets * (60 + (mix >> 24) % 1400);
    let server_bytes = server_packets * (60 + (mix >> 32) % 1400);
    // A thousand connections a second, each lasting up to 30 s.
    let start = 1_700_000_000_000_000_000 + i as i64 * 1_000_000;
    let duration = ((mix >> 12) % 30_000_000_000) as i64;
    let src_ip = [10, client / 250, client % 250, 10 + client % 7].map(|b| b as u8).to_vec();
    let dst_ip =
        [23 + server % 200, (server >> 3) % 256, (server >> 5) % 256, 1 + server % 250].map(|b| b as u8).to_vec();
    let src_port = 32_768 + (mix % 28_000) as u32;
    let mut community_id = String::new();
    ids.write_conversation(&mut community_id, &src_ip, &dst_ip, proto as u8, src_port as u16, dport as u16);
    Connection {
        timestamp_ns: start,
        frame: i * 7 + 1,
        last_timestamp_ns: start + duration,
        duration_ns: duration,
        termination_reason: 1,
        link_protocol: "Ethernet".into(),
        network_protocol: "IPv4".into(),
        transport_protocol: if proto == 6 { "TCP" } else { "UDP" }.into(),
        application_protocol: app.into(),
        ip_protocol: proto,
        src_mac: vec![0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56],
        dst_mac: vec![0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e],
        src_ip,
        dst_ip,
        src_port,
        dst_port: dport,
        community_id,
        packets: client_packets + server_packets,
        bytes: client_bytes + server_bytes,
        client_packets,
        client_bytes,
        server_packets,
        server_bytes,
        payload_bytes: (client_bytes + server_bytes) * 9 / 10,
        client_payload_bytes: client_bytes * 9 / 10,
        server_payload_bytes: server_bytes * 9 / 10,
        syn_count: if proto == 6 { 2 } else { 0 },
        fin_count: if proto == 6 { 2 } else { 0 },
        ack_count: client_packets + server_packets - 1,
        psh_count: client_packets / 2,
        payload_bytes_min: 0,
        payload_bytes_max: 1448,
        payload_bytes_mean: 612.5,
        payload_bytes_std: 301.25,
        payload_bytes_min_nonzero: 31,
        payload_bytes_mean_nonzero: 800.125,
        payload_bytes_std_nonzero: 250.5,
        interarrival_min_ns: 12_000,
        interarrival_max_ns: 1_250_000_000,
        interarrival_mean_s: 0.031,
        interarrival_std_s: 0.12,
        client_window_min: 501,
        client_window_max: 65_535,
        client_window_mean: 30_000.5,
        client_window_std: 1_000.25,
        client_window_scale: Some(7),
        client_initial_window: 64_240,
        server_window_min: 501,
        server_window_max: 65_535,
        server_window_mean: 28_000.5,
        server_window_std: 900.75,
        server_window_scale: Some(9),
        server_initial_window: 65_160,
        conn_state: if proto == 6 { "SF" } else { "" }.into(),
        history: if proto == 6 { "ShADadFf" } else { "Dd" }.into(),
        ..Default::default()
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(args.next().ok_or("usage: make_connections DIR [RECORDS [EVERY]]")?);
    let records: u64 = args.next().map_or(Ok(1_000_000), |a| a.parse())?;
    let every: u64 = args.next().map_or(Ok(10), |a| a.parse())?;
    std::fs::create_dir_all(&dir)?;
    let mut compressor = FrameCompressor::new(1)?;
    let header = Header {
        record_type: RecordType::Connection as i32,
        producer: "netcap-label make_connections".into(),
        ..Default::default()
    };
    let mut writer = RecordFileWriter::create(&dir.join("Connection.ncap.zst"), &header, &mut compressor)?;
    let mut sample = BufWriter::new(std::fs::File::create(dir.join("connections.tsv"))?);
    let mut ids = CommunityId::new(0);
    let mut batch = Vec::new();
    for i in 0..records {
        let c = connection(i, &mut ids);
        if every > 0 && i % every == 0 {
            let ip = |b: &[u8]| Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            writeln!(
                sample,
                "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
                c.timestamp_ns,
                c.last_timestamp_ns,
                c.ip_protocol,
                ip(&c.src_ip),
                c.src_port,
                ip(&c.dst_ip),
                c.dst_port,
                c.community_id
            )?;
        }
        c.encode_length_delimited(&mut batch)?;
        if batch.len() > 4 << 20 {
            writer.write_records(&batch, &mut compressor)?;
            batch.clear();
        }
    }
    writer.write_records(&batch, &mut compressor)?;
    writer.finish(records)?;
    sample.flush()?;
    Ok(())
}
