//! Times `netcap query` over synthetic Connection records.
//!
//! ```sh
//! cargo run --release -p netcap-query --example bench_query [-- RECORDS [FILES [DIR [QUERY]]]]
//! ```
//!
//! Writes RECORDS (default 1,000,000) realistic-looking Connection records
//! (every statistics field filled, as the flow builder fills them) into
//! FILES files (default 1) in a temporary directory, then runs typical
//! queries and prints the best wall time of three runs for each, with that
//! run's CPU time (all threads) and critical path (the main thread's CPU
//! time plus the busiest other thread's: about the wall time with a free
//! core per thread, which a busy machine cannot show), and a digest of
//! the result (rows, totals, counts) to compare builds.
//!
//! With DIR, the files are kept there, and files a previous run left there
//! are reused (same RECORDS and FILES: the names do not say, so mind that
//! when changing them); with QUERY (a group list such as `sip,dip` or `raw`)
//! only that query runs, for profiling.

use netcap_query::{Attribute, Condition, Query, SortBy};
use netcap_records::{Connection, FrameCompressor, Header, RecordFileWriter, RecordType};
use prost::Message;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn connection(i: u64) -> Connection {
    // A few hundred clients talking to a few thousand servers, ports and
    // applications from a small set: the shape of an office uplink.
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
    let start = 1_700_000_000_000_000_000 + i as i64 * 1_000_000;
    let duration = ((mix >> 12) % 30_000_000_000) as i64;
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
        src_ip: [10, client / 250, client % 250, 10 + client % 7].map(|b| b as u8).to_vec(),
        dst_ip: [23 + server % 200, (server >> 3) % 256, (server >> 5) % 256, 1 + server % 250]
            .map(|b| b as u8)
            .to_vec(),
        src_port: 32_768 + (mix % 28_000) as u32,
        dst_port: dport,
        community_id: format!("1:{:022x}=", mix),
        packets: client_packets + server_packets,
        bytes: client_bytes + server_bytes,
        client_packets,
        client_bytes,
        server_packets,
        server_bytes,
        payload_bytes: (client_bytes + server_bytes) * 9 / 10,
        client_payload_bytes: client_bytes * 9 / 10,
        server_payload_bytes: server_bytes * 9 / 10,
        syn_count: 2,
        fin_count: 2,
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
        ..Default::default()
    }
}

/// Writes `records` Connection records into `files` files under `dir`.
fn write(dir: &std::path::Path, records: u64, files: u64) -> Vec<PathBuf> {
    let mut compressor = FrameCompressor::new(1).unwrap();
    let header = Header {
        record_type: RecordType::Connection as i32,
        producer: "netcap bench_query".into(),
        ..Default::default()
    };
    let per_file = records.div_ceil(files);
    let mut paths = Vec::new();
    for f in 0..files {
        let path = dir.join(format!("Connection-{f:03}.ncap.zst"));
        let mut writer = RecordFileWriter::create(&path, &header, &mut compressor).unwrap();
        let (start, end) = (f * per_file, ((f + 1) * per_file).min(records));
        let mut batch = Vec::new();
        for i in start..end {
            connection(i).encode_length_delimited(&mut batch).unwrap();
            // Batches of about a capture pipeline's size.
            if batch.len() > 4 << 20 {
                writer.write_records(&batch, &mut compressor).unwrap();
                batch.clear();
            }
        }
        writer.write_records(&batch, &mut compressor).unwrap();
        writer.finish(end - start).unwrap();
        paths.push(path);
    }
    paths
}

/// CPU time (user + system) in a /proc stat file (Linux; zero elsewhere).
fn stat_cpu(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // After the name: state (0), ppid, ..., utime (11), stime (12).
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}

/// CPU time of this process so far: on a busy machine it says more than
/// wall time.
fn cpu_time() -> Duration {
    stat_cpu("/proc/self/stat")
}

/// CPU time of each thread of this process so far, by thread id.
fn thread_times() -> HashMap<String, Duration> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return HashMap::new() };
    tasks
        .flatten()
        .map(|task| {
            let tid = task.file_name().to_string_lossy().into_owned();
            let cpu = stat_cpu(&format!("/proc/self/task/{tid}/stat"));
            (tid, cpu)
        })
        .collect()
}

/// The CPU time of the main thread plus that of the busiest other thread
/// during a run: what the run would take with a free core per thread, as
/// the main thread waits while the workers run (an estimate for a busy
/// machine, where wall time says little).
fn critical_path(before: &HashMap<String, Duration>, after: &HashMap<String, Duration>) -> Duration {
    let main = std::process::id().to_string();
    let spent = |tid: &String| after[tid].saturating_sub(before.get(tid).copied().unwrap_or_default());
    let busiest = after.keys().filter(|tid| **tid != main).map(spent).max().unwrap_or_default();
    after.get(&main).map_or(Duration::ZERO, |_| spent(&main)) + busiest
}

struct Timing {
    wall: Duration,
    cpu: Duration,
    critical: Duration,
}

/// Best wall time of three runs, with the CPU times of that run.
fn best_of_three(files: &[PathBuf], query: &Query) -> (Timing, netcap_query::QueryResult) {
    let mut best = Timing { wall: Duration::MAX, cpu: Duration::ZERO, critical: Duration::ZERO };
    let mut result = None;
    for _ in 0..3 {
        let (started, cpu, threads) = (Instant::now(), cpu_time(), thread_times());
        let r = netcap_query::run(files, query).unwrap();
        let wall = started.elapsed();
        if wall < best.wall {
            best = Timing { wall, cpu: cpu_time() - cpu, critical: critical_path(&threads, &thread_times()) };
        }
        result = Some(r);
    }
    (best, result.unwrap())
}

/// A fingerprint of what a query printed (rows in order, totals, counts),
/// to check that a change to the engine leaves results as they were.
fn digest(result: &netcap_query::QueryResult) -> u64 {
    let text = format!(
        "{:?} {:?} {} {} {} {:?} {:?}",
        result.rows,
        result.totals,
        result.hits,
        result.connections_read,
        result.connections_matched,
        result.first_ns,
        result.last_ns
    );
    // FNV-1a: the same on every run and build.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

fn main() {
    let mut args = std::env::args().skip(1);
    let records: u64 = args.next().map_or(1_000_000, |a| a.parse().expect("RECORDS is a number"));
    let files: u64 = args.next().map_or(1, |a| a.parse().expect("FILES is a number"));
    // A third argument keeps the files in that directory (for profiling).
    let temp = tempfile::tempdir().unwrap();
    let dir = args.next().map_or_else(|| temp.path().to_path_buf(), PathBuf::from);
    let only = args.next();
    let started = Instant::now();
    let existing: Vec<PathBuf> = (0..files).map(|f| dir.join(format!("Connection-{f:03}.ncap.zst"))).collect();
    let reused = existing.iter().all(|p| p.is_file());
    let paths = if reused { existing } else { write(&dir, records, files) };
    let size: u64 = paths.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
    let raw: usize = (0..1000).map(|i| connection(i).encoded_len() + 2).sum::<usize>() * (records as usize / 1000);
    println!(
        "{} {records} records in {files} file(s): {:.1} MB compressed, ~{:.0} MB of protobuf, in {:.2?}",
        if reused { "reused" } else { "wrote" },
        size as f64 / 1e6,
        raw as f64 / 1e6,
        started.elapsed()
    );
    let queries: [(&str, &str, Option<&str>, SortBy); 4] = [
        ("top talkers", "sip,dip", None, SortBy::Bytes),
        ("applications", "dport,proto", None, SortBy::Packets),
        (
            "condition",
            "sip",
            Some("dport = 443 and not dip = 23.0.0.0/8 or (proto = udp & bytes > 10k)"),
            SortBy::Bytes,
        ),
        ("everything", "raw", None, SortBy::Bytes),
    ];
    for (name, group, condition, sort) in queries {
        if only.as_deref().is_some_and(|only| only != group) {
            continue;
        }
        let query = Query {
            group: Attribute::parse_list(group).unwrap(),
            condition: condition.map(|c| Condition::parse(c).unwrap()),
            sort,
            limit: Some(10),
            ..Query::default()
        };
        let (Timing { wall, cpu, critical }, result) = best_of_three(&paths, &query);
        println!(
            "{name:>13} ({group}): {wall:>9.2?} wall, {cpu:>9.2?} CPU, {critical:>9.2?} critical path  {:>8} groups, {:>8} of {} connections matched, {:.1} M records/s, result {:016x}",
            result.hits,
            result.connections_matched,
            result.connections_read,
            result.connections_read as f64 / wall.as_secs_f64() / 1e6,
            digest(&result)
        );
    }
}
