//! Flow-table benchmark: a flood of distinct flows through the sharded
//! tables, then a warm phase of packets on known flows.
//!
//!     cargo run --release -p netcap-flow --example flood -- [FLOWS] [--max-flows N] [--sequences N]
//!
//! Phase 1 sends FLOWS (default 10,000,000) TCP SYNs, each of a new 5-tuple (sources spread over
//! 10.0.0.0/8 and ports), 1 µs apart in capture time, in batches of 4096 as
//! the capture pipeline does: route by `shard_of`, observe, expire at the
//! batch boundary, turn the ended connections into Connection records. The
//! tables fill to their bound and then evict one flow per new one. Phase 2
//! sends min(FLOWS, 2 M) packets over 100,000 flows that stay in the table,
//! phase 3 as many over 1,000 flows (the per-packet cost on a warm table, with the
//! state in main memory and in cache). Wall and CPU time (of this thread) are
//! both given: on a busy machine CPU time is the better measure. Peak RSS
//! (VmHWM) is read from /proc/self/status and compared with the configured
//! bound.

use netcap_decoder::{NetworkKind, PacketSummary, TransportKind, tcp_flag};
use netcap_flow::{FlowConfig, FlowCounters, FlowTable, SHARDS, TerminationReason, shard_of};
use netcap_records::Connection;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

const BATCH: usize = 4096;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut flows: u64 = 10_000_000;
    let mut config = FlowConfig::default();
    while let Some(a) = args.next() {
        let mut value = || args.next().and_then(|v| v.parse::<usize>().ok()).expect("a number after the flag");
        match a.as_str() {
            "--max-flows" => config.max_flows = value(),
            "--sequences" => config.sequences = value(),
            n => flows = n.parse().expect("FLOWS, --max-flows N or --sequences N"),
        }
    }
    let rss_start = vm_hwm_kib();
    let mut tables: Vec<FlowTable> = (0..SHARDS).map(|_| FlowTable::new(&config)).collect();
    let mut routed: Vec<Vec<PacketSummary>> = vec![Vec::new(); SHARDS];
    let mut ended = Vec::new();
    let mut record = Connection::default();
    let mut records = 0u64;
    let mut run = |make: &dyn Fn(u64) -> PacketSummary, n: u64, ended: &mut Vec<_>| {
        let (start, cpu_start) = (Instant::now(), thread_cpu_s());
        let mut i = 0;
        while i < n {
            let end = (i + BATCH as u64).min(n);
            let mut now = 0;
            for j in i..end {
                let s = make(j);
                now = s.timestamp_ns;
                if let Some(shard) = shard_of(&s, SHARDS) {
                    routed[shard].push(s);
                }
            }
            for (table, packets) in tables.iter_mut().zip(routed.iter_mut()) {
                for s in packets.iter() {
                    table.observe(s, ended);
                }
                packets.clear();
                table.expire(now, ended);
            }
            for e in ended.iter() {
                e.fill_connection(&mut record);
                records += 1;
            }
            ended.clear();
            i = end;
        }
        (start.elapsed().as_secs_f64(), thread_cpu_s() - cpu_start)
    };

    let flood = run(&|i| syn(i, i), flows, &mut ended);
    let rss_flood = vm_hwm_kib();
    let warm_flows = 100_000u64.min(config.max_flows as u64 / 2).max(1);
    let warm_packets = flows.min(2_000_000);
    let warm = run(&|i| syn(flows + i % warm_flows, flows + i), warm_packets, &mut ended);
    let hot = run(&|i| syn(2 * flows + i % 1000, 2 * flows + i), warm_packets, &mut ended);
    let routed_capacity: usize = routed.iter().map(Vec::capacity).sum();
    let mut counters = FlowCounters::default();
    for t in &mut tables {
        t.finish(&mut ended);
        counters.merge(t.counters());
        ended.clear();
    }
    let rss_end = vm_hwm_kib();
    let bound = config.memory_bound_bytes();
    println!(
        "flows: {flows}, max_flows: {} ({} per shard), sequences: {}",
        config.max_flows,
        config.table_capacity(),
        config.sequences
    );
    let phase = |name: &str, n: u64, (wall, cpu): (f64, f64)| {
        println!(
            "{name}: {n} packets, wall {wall:.2} s, CPU {cpu:.2} s: {:.0} ns CPU per packet, {:.2} M packets/s per core",
            cpu * 1e9 / n as f64,
            n as f64 / cpu / 1e6
        )
    };
    phase("flood (each packet a new flow: an eviction and a Connection record)", flows, flood);
    phase(&format!("warm, {warm_flows} flows"), warm_packets, warm);
    phase("warm, 1000 flows", warm_packets, hot);
    println!(
        "created {}, evicted {}, ended idle {}, end of capture {}, records filled {}",
        counters.created,
        counters.evicted,
        counters.ended_by(TerminationReason::IdleTimeout),
        counters.ended_by(TerminationReason::EndOfCapture),
        records
    );
    println!(
        "peak RSS: {:.1} MiB at start, {:.1} MiB after the flood, {:.1} MiB at the end; table bound {:.1} MiB ({} bytes per flow)",
        rss_start as f64 / 1024.0,
        rss_flood as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        bound as f64 / (1 << 20) as f64,
        bound / (SHARDS * config.table_capacity()).max(1)
    );
    // The caller's buffers come on top of the tables: what ended in a batch
    // and the batch's packets routed to shards.
    // Vectors that grew by doubling leave their earlier buffers to the
    // allocator, hence twice their final capacity.
    let buffers = 2 * ended.capacity() * std::mem::size_of::<netcap_flow::EndedConnection>()
        + 2 * routed_capacity * std::mem::size_of::<PacketSummary>();
    // Code and allocator state touched after the first measurement.
    const RUNTIME: usize = 2 << 20;
    println!(
        "caller's buffers: {:.1} MiB, runtime allowance {:.1} MiB",
        buffers as f64 / (1 << 20) as f64,
        RUNTIME as f64 / (1 << 20) as f64
    );
    let growth = (rss_end.saturating_sub(rss_start) * 1024) as usize;
    if growth > bound + buffers + RUNTIME {
        println!("FAIL: memory grew {:.1} MiB, above the bound", growth as f64 / (1 << 20) as f64);
        std::process::exit(1);
    }
    println!("OK: memory grew {:.1} MiB, within the bound and the caller's buffers", growth as f64 / (1 << 20) as f64);
}

/// A TCP SYN of flow `flow` (distinct for every value below 2^40) at
/// capture time `t` µs.
fn syn(flow: u64, t: u64) -> PacketSummary {
    let src = 0x0a00_0000 | (flow as u32 & 0x00ff_ffff);
    let port = 1024 + ((flow >> 24) % 64_000) as u16;
    PacketSummary {
        frame: t + 1,
        timestamp_ns: 1_700_000_000_000_000_000 + t as i64 * 1000,
        wire_length: 74,
        captured_length: 74,
        src_mac: Some([2, 0, 0, 0, 0, 1]),
        dst_mac: Some([2, 0, 0, 0, 0, 2]),
        network: NetworkKind::Ipv4,
        src_ip: Some(IpAddr::V4(Ipv4Addr::from(src))),
        dst_ip: Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))),
        ip_protocol: 6,
        ttl: 64,
        ip_payload_length: 40,
        transport: TransportKind::Tcp,
        src_port: port,
        dst_port: 443,
        tcp_flags: tcp_flag::SYN,
        tcp_window: 64240,
        tcp_window_scale: Some(7),
        ..Default::default()
    }
}

/// CPU time of the calling thread, seconds.
fn thread_cpu_s() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}

/// Peak resident set size of this process, KiB.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:").map(|v| v.trim().trim_end_matches("kB").trim().parse().ok()))
        })
        .flatten()
        .unwrap_or(0)
}
