//! `netcap capture`: records, flags, determinism, stdin, interruption.

use crate::util::*;
use netcap_records::{Dot1q, Ethernet, Header, Ipv4, Ipv6, RecordReader, RecordType, Tcp, Udp};
use prost::Message;
use std::path::Path;

/// Field values of zeek-tcp-fast-open.pcap as tshark 4.0 dissects them.
#[test]
fn tcp_fast_open_records_match_tshark() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-tcp-fast-open.pcap"), out.path(), &[]);
    let tcp: Vec<Tcp> = records(out.path(), RecordType::Tcp);
    assert_eq!(tcp.len(), 16);
    let syn = &tcp[0];
    assert_eq!(syn.frame, 1);
    assert_eq!(syn.timestamp_ns, 1_402_321_033_739_117_000);
    assert_eq!((&syn.src_ip[..], &syn.dst_ip[..]), (&[10, 99, 99, 1][..], &[10, 99, 99, 45][..]));
    assert_eq!((syn.src_port, syn.dst_port, syn.seq, syn.ack), (55533, 80, 1_620_482_629, 0));
    assert_eq!((syn.flags, syn.window, syn.mss, syn.window_scale), (0x002, 29200, Some(1460), Some(7)));
    assert_eq!((syn.ts_val, syn.sack_permitted), (Some(14_248_099), true));
    // 254 is the experimental option TCP Fast Open used before kind 34.
    assert_eq!(syn.option_kinds, vec![2, 4, 8, 1, 3, 254]);
    let syn_ack = &tcp[1];
    assert_eq!(
        (syn_ack.flags, syn_ack.seq, syn_ack.ack, syn_ack.window_scale),
        (0x012, 991_577_150, 1_620_482_630, Some(6))
    );
    assert_eq!(syn_ack.ts_val, Some(4_294_965_494));
    let data = &tcp[2];
    assert_eq!((data.flags, data.payload_length, data.window, data.mss), (0x018, 65, 229, None));
    assert!(data.payload.is_empty(), "payload bytes only with -payload");
    let ip: Vec<Ipv4> = records(out.path(), RecordType::Ipv4);
    assert_eq!((ip[0].ttl, ip[0].id, ip[0].protocol, ip[0].flags), (64, 0xf2e6, 6, 0x2));
    let eth: Vec<Ethernet> = records(out.path(), RecordType::Ethernet);
    assert_eq!((&eth[0].src_mac[..], eth[0].ether_type), (&[0x00, 0x50, 0x56, 0xc0, 0x00, 0x01][..], 0x0800));
}

#[test]
fn payload_flag_keeps_payload_bytes() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-tcp-fast-open.pcap"), out.path(), &["-payload", "-include", "TCP"]);
    let tcp: Vec<Tcp> = records(out.path(), RecordType::Tcp);
    assert_eq!(tcp[2].payload.len(), 65);
    assert!(tcp[2].payload.starts_with(b"GET "), "{:?}", String::from_utf8_lossy(&tcp[2].payload));
    let header = header_of(&out.path().join("TCP.ncap.zst"));
    assert!(header.payloads);
}

#[test]
fn stacked_vlan_tags_give_one_record_each() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-vlan-qinqinq.pcap"), out.path(), &[]);
    let tags: Vec<Dot1q> = records(out.path(), RecordType::Dot1q);
    let first_frame: Vec<_> = tags.iter().filter(|t| t.frame == 1).collect();
    let ids: Vec<_> = first_frame.iter().map(|t| (t.index, t.vlan_id, t.ether_type)).collect();
    assert_eq!(ids, vec![(0, 30, 0x8100), (1, 20, 0x8100), (2, 10, 0x0800)]);
    let tcp: Vec<Tcp> = records(out.path(), RecordType::Tcp);
    assert_eq!((tcp[0].frame, &tcp[0].src_ip[..], tcp[0].src_port), (1, &[141, 142, 228, 5][..], 59856));
}

#[test]
fn header_describes_the_file() {
    let out = tempfile::tempdir().unwrap();
    let pcap = testdata("pcaps/arkime-v6.pcap");
    capture(&pcap, out.path(), &[]);
    let header = header_of(&out.path().join("IPv6.ncap.zst"));
    assert_eq!(header.record_type, RecordType::Ipv6 as i32);
    assert_eq!(header.message_type, "netcap.IPv6");
    assert_eq!(header.schema_version, netcap_records::SCHEMA_VERSION);
    assert!(header.producer.starts_with("netcap 0."), "{}", header.producer);
    assert_eq!(header.source, pcap.display().to_string());
    assert_eq!(header.link_types, vec![1]);
    assert!(!header.payloads);
    assert!(header.created_ns > 1_700_000_000_000_000_000);
    let v6: Vec<Ipv6> = records(out.path(), RecordType::Ipv6);
    assert!(!v6.is_empty());
}

#[test]
fn include_and_exclude_select_record_types() {
    let out = tempfile::tempdir().unwrap();
    let pcap = testdata("pcaps/zeek-tcp-fast-open.pcap");
    capture(&pcap, out.path(), &["-include", "tcp,IPv4", "-exclude", "ipv4"]);
    let mut files: Vec<_> = std::fs::read_dir(out.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    files.sort();
    assert_eq!(files, vec!["TCP.ncap.zst"]);

    let output = run(&[
        "capture",
        "-read",
        pcap.to_str().unwrap(),
        "-out",
        out.path().to_str().unwrap(),
        "-include",
        "TCP,Bogus",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let message = stderr(&output);
    assert!(message.contains("unknown record type \"Bogus\""), "{message}");
    assert!(message.contains("Ethernet, ARP, Dot1Q, IPv4, IPv6, TCP, UDP, ICMPv4, ICMPv6, Error"), "{message}");
}

#[test]
fn errors_flag_writes_error_records() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("malformed/zeek-tcp-truncated-header.pcap"), out.path(), &["-errors"]);
    let errors: Vec<netcap_records::Error> = records(out.path(), RecordType::Error);
    assert!(!errors.is_empty());
    let e = &errors[0];
    assert_eq!(e.layer, "tcp");
    assert!(e.frame >= 1 && e.offset >= 34, "{e:?}");
    assert!(!e.reason.is_empty());
    // Without -errors the same failures are only counted.
    let out2 = tempfile::tempdir().unwrap();
    capture(&testdata("malformed/zeek-tcp-truncated-header.pcap"), out2.path(), &[]);
    assert!(!out2.path().join("Error.ncap.zst").exists());
}

/// The record streams must not depend on the number of workers: same
/// records, same order, same bytes (the header's creation time aside).
#[test]
fn output_is_identical_for_any_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("many.pcap");
    // 161 packets x 120 = 19,320 packets: several batches in flight at once.
    repeated_pcap(&testdata("pcaps/arkime-v6.pcap"), 120, &pcap);
    let outputs: Vec<_> = ["1", "2", "5"]
        .iter()
        .map(|workers| {
            let out = dir.path().join(format!("w{workers}"));
            let jsonl = dir.path().join(format!("w{workers}.jsonl"));
            let jsonl = jsonl.to_str().unwrap();
            capture(&pcap, &out, &["-workers", workers, "-errors", "-all-stats", "-spot-jsonl", jsonl]);
            out
        })
        .collect();
    let jsonl = |w: &str| std::fs::read_to_string(dir.path().join(format!("w{w}.jsonl"))).unwrap();
    assert!(!jsonl("1").is_empty());
    assert_eq!(jsonl("1"), jsonl("2"));
    assert_eq!(jsonl("1"), jsonl("5"));
    let names = |d: &Path| {
        let mut v: Vec<_> = std::fs::read_dir(d).unwrap().map(|e| e.unwrap().file_name()).collect();
        v.sort();
        v
    };
    assert!(names(&outputs[0]).len() >= 4);
    assert!(outputs[0].join("SpotStat.ncap.zst").exists());
    for out in &outputs[1..] {
        assert_eq!(names(out), names(&outputs[0]));
        for name in names(out) {
            let a = stream_without_creation_time(&outputs[0].join(&name));
            let b = stream_without_creation_time(&out.join(&name));
            assert!(a == b, "{name:?} differs between worker counts");
        }
    }
    let tcp: Vec<Tcp> = records(&outputs[0], RecordType::Tcp);
    assert!(tcp.windows(2).all(|w| w[0].frame <= w[1].frame), "records in frame order");
}

/// The stream layer's records and files do not depend on the number of
/// workers either: HTTP transactions, File records, TLS handshakes and
/// certificates, Connection records with stream fields, and the bytes
/// written by -streams and -files (a capture of 2,931 packets with 155 HTTP
/// transactions, 131 files and 28 certificates, twice over).
#[test]
fn stream_records_are_identical_for_any_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("twice.pcap");
    repeated_pcap(&testdata("pcaps/pcapplusplus-many-protocols.pcap"), 2, &pcap);
    let run = |workers: &str| {
        let base = dir.path().join(format!("w{workers}"));
        let (out, streams, files) = (base.join("records"), base.join("streams"), base.join("files"));
        let s = streams.to_str().unwrap().to_owned();
        let f = files.to_str().unwrap().to_owned();
        capture(&pcap, &out, &["-workers", workers, "-streams", &s, "-files", &f]);
        base
    };
    let listing = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v = Vec::new();
        let mut stack = vec![d.to_path_buf()];
        while let Some(p) = stack.pop() {
            for e in std::fs::read_dir(&p).unwrap() {
                let e = e.unwrap().path();
                if e.is_dir() {
                    stack.push(e);
                } else {
                    let name = e.strip_prefix(d).unwrap().to_string_lossy().into_owned();
                    let bytes = if name.ends_with(".ncap.zst") {
                        stream_without_creation_time(&e)
                    } else {
                        std::fs::read(&e).unwrap()
                    };
                    v.push((name, bytes));
                }
            }
        }
        v.sort();
        v
    };
    let one = listing(&run("1"));
    for name in ["records/HTTP.ncap.zst", "records/File.ncap.zst", "records/TLSCertificate.ncap.zst"] {
        assert!(one.iter().any(|(n, _)| n == name), "{name} missing");
    }
    assert!(one.iter().filter(|(n, _)| n.starts_with("streams/")).count() > 100);
    assert!(one.iter().filter(|(n, _)| n.starts_with("files/")).count() > 10);
    for workers in ["2", "5"] {
        let other = listing(&run(workers));
        assert_eq!(
            other.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            one.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            "same files with -workers {workers}"
        );
        for ((name, a), (_, b)) in one.iter().zip(&other) {
            assert!(a == b, "{name} differs between -workers 1 and {workers}");
        }
    }
}

/// The decompressed stream with the header's creation time zeroed.
fn stream_without_creation_time(path: &Path) -> Vec<u8> {
    let plain = zstd::stream::decode_all(std::fs::File::open(path).unwrap()).unwrap();
    let mut rest = plain.as_slice();
    let mut header = Header::decode_length_delimited(&mut rest).unwrap();
    header.created_ns = 0;
    let mut out = header.encode_length_delimited_to_vec();
    out.extend_from_slice(rest);
    out
}

fn header_of(path: &Path) -> Header {
    RecordReader::open(path).unwrap().header().clone()
}

#[test]
fn stdin_gives_the_same_records_as_the_file() {
    let pcap = testdata("pcaps/zeek-vlan-qinqinq.pcap");
    let from_file = tempfile::tempdir().unwrap();
    capture(&pcap, from_file.path(), &[]);
    let from_stdin = tempfile::tempdir().unwrap();
    let status = netcap()
        .args(["capture", "-read", "-", "-out", from_stdin.path().to_str().unwrap(), "-quiet"])
        .stdin(std::fs::File::open(&pcap).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    let a: Vec<Udp> = records(from_file.path(), RecordType::Udp);
    let b: Vec<Udp> = records(from_stdin.path(), RecordType::Udp);
    assert_eq!(a, b);
    let a: Vec<Tcp> = records(from_file.path(), RecordType::Tcp);
    let b: Vec<Tcp> = records(from_stdin.path(), RecordType::Tcp);
    assert_eq!(a, b);
    assert_eq!(header_of(&from_stdin.path().join("TCP.ncap.zst")).source, "-");
}

#[test]
fn summary_reports_packets_records_and_rate() {
    let out = tempfile::tempdir().unwrap();
    let pcap = testdata("pcaps/zeek-tcp-fast-open.pcap");
    let output = run(&["capture", "-read", pcap.to_str().unwrap(), "-out", out.path().to_str().unwrap()]);
    assert!(output.status.success());
    assert!(output.stdout.is_empty(), "data goes to files, logs to stderr");
    let summary = stderr(&output);
    assert!(summary.contains("decoded 16 packets"), "{summary}");
    assert!(summary.contains("packets/s"), "{summary}");
    assert!(summary.contains("TCP") && summary.contains("16 records"), "{summary}");
}

#[test]
fn gnu_and_go_style_flags_are_equivalent() {
    let pcap = testdata("pcaps/zeek-tcp-fast-open.pcap");
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let go = run(&[
        "capture",
        "-read",
        pcap.to_str().unwrap(),
        "-out",
        a.path().to_str().unwrap(),
        "-include=TCP",
        "-quiet",
    ]);
    let gnu = run(&[
        "capture",
        "--read",
        pcap.to_str().unwrap(),
        "--out",
        b.path().to_str().unwrap(),
        "--include",
        "TCP",
        "--quiet=true",
    ]);
    assert!(go.status.success() && gnu.status.success());
    let ra: Vec<Tcp> = records(a.path(), RecordType::Tcp);
    let rb: Vec<Tcp> = records(b.path(), RecordType::Tcp);
    assert_eq!(ra, rb);
    assert_eq!(ra.len(), 16);
}

#[test]
fn help_describes_every_flag() {
    let help = String::from_utf8(run(&["capture", "-h"]).stdout).unwrap();
    for flag in [
        "--read",
        "--iface",
        "--out",
        "--include",
        "--exclude",
        "--workers",
        "--payload",
        "--errors",
        "--bpf",
        "--promisc",
        "--snaplen",
    ] {
        assert!(help.contains(flag), "capture -h lacks {flag}:\n{help}");
    }
    let help = String::from_utf8(run(&["-help"]).stdout).unwrap();
    assert!(help.contains("capture") && help.contains("dump"), "{help}");
}

#[test]
fn unreadable_or_foreign_input_fails_before_writing() {
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("o");
    let output = run(&["capture", "-read", "Cargo.toml", "-out", target.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("Cargo.toml: not a pcap or pcapng file (unknown magic number 5b706163)"),
        "{}",
        stderr(&output)
    );
    assert!(!target.exists(), "no output for an input that is not a capture");
    let output = run(&["capture", "-read", "/nonexistent.pcap", "-out", target.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("/nonexistent.pcap: No such file"), "{}", stderr(&output));
}

/// A slow producer on stdin (`tcpdump -w - | netcap capture -read -`): its
/// records reach the files within a second, before the input ends.
#[test]
fn records_of_a_slow_stdin_producer_arrive_within_a_second() {
    use std::io::Write;
    let out = tempfile::tempdir().unwrap();
    let pcap = std::fs::read(testdata("pcaps/zeek-tcp-fast-open.pcap")).unwrap();
    let mut child = netcap()
        .args(["capture", "-read", "-", "-out", out.path().to_str().unwrap(), "-quiet", "-include", "TCP"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The file header and the first three packets (16 + 74, 74, 66 bytes).
    let first_three = 24 + (16 + 74) + (16 + 74) + (16 + 66);
    stdin.write_all(&pcap[..first_three]).unwrap();
    stdin.flush().unwrap();
    let tcp_file = out.path().join("TCP.ncap.zst");
    let started = std::time::Instant::now();
    while !tcp_file.exists() {
        assert!(started.elapsed() < std::time::Duration::from_secs(3), "records still not written after 3 s");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let partial = std::fs::read(&tcp_file).unwrap();
    let plain = zstd::stream::decode_all(partial.as_slice()).unwrap();
    assert!(!plain.is_empty());
    stdin.write_all(&pcap[first_three..]).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
    let tcp: Vec<Tcp> = records(out.path(), RecordType::Tcp);
    assert_eq!(tcp.len(), 16);
    assert_eq!(tcp.iter().map(|t| t.frame).collect::<Vec<_>>(), (1..=16).collect::<Vec<_>>());
}

/// SPOT parameters reach each statistic from a TOML file (statistics,
/// n_init, depth, a per-statistic side) and from netspot-style per-stat
/// flags (`-spot-r_syn-low`), and the tick from `-tick`.
#[test]
fn spot_config_file_and_per_stat_flags_apply() {
    use netcap_records::SpotStat;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("spot.toml");
    std::fs::write(
        &config,
        "stats = [\"PPS\", \"R_SYN\"]\n[spot]\nn_init = 50\ndepth = 0\n[spot.PPS]\nside = \"both\"\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let pcap = testdata("pcaps/arkime-v6.pcap");
    let output = capture(&pcap, &out, &["-spot-config", config.to_str().unwrap(), "-tick", "100ms", "-spot-r_syn-low"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let stats: Vec<SpotStat> = records(&out, RecordType::Spotstat);
    let of = |name: &str| stats.iter().filter(|s| s.stat == name).collect::<Vec<_>>();
    let (pps, r_syn) = (of("PPS"), of("R_SYN"));
    assert_eq!(pps.len() + r_syn.len(), stats.len(), "only the configured statistics");
    // 64.6 s of capture in 100 ms ticks.
    assert!((640..=650).contains(&pps.len()), "{} PPS ticks", pps.len());
    assert!(stats.iter().all(|s| s.tick_ns == 100_000_000 && s.drift == 0.0));
    // n_init = 50: 49 values collected, the 50th calibrates.
    let codes: Vec<i32> = r_syn.iter().map(|s| s.code).collect();
    assert!(codes[..49].iter().all(|&c| c == 3) && codes[49] == 4, "{:?}", &codes[..51]);
    // R_SYN watches its lower tail only (the flag), PPS both (the file).
    for s in &r_syn[50..] {
        assert!(matches!(s.code, -2..=0), "{s:?}");
        assert!(s.excess_threshold.is_finite() && s.low_excess_threshold.is_nan(), "{s:?}");
    }
    for s in pps.iter().skip(50) {
        assert!(s.excess_threshold.is_finite() && s.low_excess_threshold.is_finite(), "{s:?}");
    }
}

/// The flow flags reach the flow tables: each changes how conversations
/// are cut into Connection records, never what the records add up to.
#[test]
fn flow_flags_cut_records_without_losing_packets() {
    use netcap_records::{Connection, TerminationReason as R};
    use std::collections::BTreeMap;
    let pcap = testdata("pcaps/pcapplusplus-example.pcap");
    let run = |flags: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["-include", "Connection"];
        args.extend_from_slice(flags);
        let out = netcap()
            .args(["capture", "-read", pcap.to_str().unwrap(), "-out", dir.path().to_str().unwrap()])
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        (records::<Connection>(dir.path(), RecordType::Connection), stderr(&out))
    };
    let reasons = |conns: &[Connection]| {
        let mut n = BTreeMap::new();
        for c in conns {
            *n.entry(c.termination_reason()).or_insert(0) += 1;
        }
        n
    };
    // Packets and bytes per (client, server, ports, protocol) in each direction.
    let sums = |conns: &[Connection]| {
        let mut s: BTreeMap<_, [u64; 4]> = BTreeMap::new();
        for c in conns {
            let key = (c.src_ip.clone(), c.dst_ip.clone(), c.src_port, c.dst_port, c.ip_protocol);
            let v = s.entry(key).or_default();
            for (i, x) in [c.client_packets, c.server_packets, c.client_bytes, c.server_bytes].into_iter().enumerate() {
                v[i] += x;
            }
        }
        s
    };

    // 136 conversations (tshark -z conv,tcp and conv,udp), 15.6 s: none
    // idle for the default 120 s.
    let (base, _) = run(&[]);
    assert_eq!(base.len(), 136);
    assert_eq!(reasons(&base), BTreeMap::from([(R::Fin, 12), (R::Rst, 1), (R::EndOfCapture, 123)]));
    assert_eq!(base.iter().map(|c| c.packets).sum::<u64>(), 4631, "every packet of the capture is IP");

    // A table of 64 (one per shard): evictions, counted, and the bound kept.
    let (evicted, summary) = run(&["-flow-max", "64"]);
    let n = reasons(&evicted);
    assert_eq!(n.get(&R::Evicted), Some(&203), "{n:?}");
    assert!(summary.contains("evicted 203), at most 61 tracked at once, 203 evicted"), "{summary}");
    assert_eq!(sums(&evicted), sums(&base));

    // A 1 s idle timeout: no record holds a gap of 1 s or more. The
    // conversations have 27 such gaps (tshark's frame times per 5-tuple):
    // 163 records, all but the FIN/RST-closed ones and the last one ended
    // by the timeout.
    let (idle, _) = run(&["-flow-idle-timeout", "1s"]);
    assert_eq!(idle.len(), 163);
    assert_eq!(reasons(&idle).get(&R::IdleTimeout), Some(&149));
    assert!(idle.iter().all(|c| c.interarrival_max_ns < 1_000_000_000));
    assert!(base.iter().any(|c| c.interarrival_max_ns >= 1_000_000_000));
    assert_eq!(sums(&idle), sums(&base));

    // A 200 ms active timeout: no open record spans more. A connection
    // closed by FIN lingers (docs/flows.md) and takes its last ACK even past
    // the timeout: 10.0.0.4:49683's record from frame 4603 (cut at 200 ms)
    // ends with the FINs at frames 4605 and 4607 and takes frame 4608's ACK,
    // 231.581 ms after 4603.
    let (active, _) = run(&["-flow-active-timeout", "200ms"]);
    assert_eq!(reasons(&active).get(&R::ActiveTimeout), Some(&193));
    let longer: Vec<_> = active.iter().filter(|c| c.duration_ns > 200_000_000).collect();
    assert_eq!(longer.len(), 1, "{longer:?}");
    assert_eq!((longer[0].frame, longer[0].src_port, longer[0].duration_ns), (4603, 49683, 231_581_000));
    assert_eq!((longer[0].termination_reason(), longer[0].packets), (R::Fin, 6));
    assert_eq!(sums(&active), sums(&base));

    // Sequences: the first 4 packets of each record, none without the flag.
    assert!(base.iter().all(|c| c.payload_size_sequence.is_empty() && c.interarrival_sequence_ns.is_empty()));
    let (seq, _) = run(&["-flow-sequences", "4"]);
    for c in &seq {
        let want = c.packets.min(4) as usize;
        assert_eq!(c.payload_size_sequence.len(), want);
        assert_eq!(c.interarrival_sequence_ns.len(), want);
        if c.ip_protocol == 6 {
            assert_eq!(c.window_sequence.len(), want);
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let bad = netcap()
        .args(["capture", "-read", pcap.to_str().unwrap(), "-out", dir.path().to_str().unwrap()])
        .args(["-flow-idle-timeout", "soon"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("flow-idle-timeout"), "{}", stderr(&bad));
}

/// Issue 20, part 5: a capture too short for SPOT to calibrate says so at
/// the end, with how many ticks each statistic had and still misses
/// (arkime-v6.pcap: 64.6 s, so 65 one-second ticks for the 1050 that
/// depth 50 + n_init 1000 need); the numbers are those of the SpotStat
/// records.
#[test]
fn spot_summary_says_no_statistic_calibrated() {
    use netcap_records::SpotStat;
    let out = tempfile::tempdir().unwrap();
    let pcap = testdata("pcaps/arkime-v6.pcap");
    let args = ["capture", "-read", pcap.to_str().unwrap(), "-out", out.path().to_str().unwrap(), "-spot"];
    let output = run(&args);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stderr(&output);
    let stats: Vec<SpotStat> = records(out.path(), RecordType::Spotstat);
    let ticks: std::collections::BTreeSet<i64> = stats.iter().map(|s| s.timestamp_ns).collect();
    assert!((64..=66).contains(&ticks.len()), "{}", ticks.len());
    assert!(stats.iter().all(|s| matches!(s.code, 3 | 5 | 6)), "nothing is judged before calibration");
    assert!(
        text.contains(&format!("SPOT: no statistic finished calibrating in {} ticks, so none was judged", ticks.len())),
        "{text}"
    );
    // Every statistic's line (or the shared one) gives its ticks with a
    // value and what is missing to 1050.
    let with_value = |name: &str| stats.iter().filter(|s| s.stat == name && !s.value.is_nan()).count();
    let counts: Vec<usize> = netcap_spot::Stat::DEFAULT.iter().map(|s| with_value(s.name())).collect();
    if counts.iter().all(|&c| c == counts[0]) {
        let expected = format!("each had {} ticks with a value of the 1050 needed", counts[0]);
        assert!(text.contains(&expected), "{expected}\n{text}");
    } else {
        for (stat, n) in netcap_spot::Stat::DEFAULT.iter().zip(&counts) {
            let expected = format!("  {:<14} {n} of 1050, {} missing", stat.name(), 1050 - n);
            assert!(text.contains(&expected), "{expected}\n{text}");
        }
    }
    assert!(text.contains("SPOT alerts: 0"), "{text}");
    assert!(!text.contains("Stat fit"), "{text}");
    assert!(output.stdout.is_empty(), "nothing on stdout");
}

/// netspot's "Stat fit" line for each statistic when its calibration ends,
/// on stderr (stdout stays empty); then the summary has nothing to say
/// about calibration, and every judged value's probability is a number.
#[test]
fn spot_prints_stat_fit_lines_as_netspot() {
    use netcap_records::SpotStat;
    let out = tempfile::tempdir().unwrap();
    let pcap = testdata("pcaps/arkime-v6.pcap");
    let output = run(&[
        "capture",
        "-read",
        pcap.to_str().unwrap(),
        "-out",
        out.path().to_str().unwrap(),
        "-spot-stats",
        "PPS,BPS",
        "-tick",
        "100ms",
        "-n-init",
        "50",
        "-depth",
        "0",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(output.stdout.is_empty(), "log lines go to stderr");
    let text = stderr(&output);
    let stats: Vec<SpotStat> = records(out.path(), RecordType::Spotstat);
    let first_tick = stats.iter().map(|s| s.timestamp_ns).min().unwrap();
    let fits: Vec<&str> = text.lines().filter(|l| l.contains(" INFO Stat fit ")).collect();
    assert_eq!(fits.len(), 2, "{text}");
    for (line, name) in fits.iter().zip(["PPS", "BPS"]) {
        let fitted = stats.iter().find(|s| s.stat == name && s.code == 4).unwrap();
        // `10:38:19.904 INFO Stat fit source_time_ns:… stat:BPS timesince_ns:…`
        let (clock, rest) = line.split_once(' ').unwrap();
        assert!(clock.len() == 12 && clock.as_bytes()[2] == b':' && clock.as_bytes()[8] == b'.', "{line}");
        assert_eq!(
            rest,
            format!(
                "INFO Stat fit source_time_ns:{} stat:{name} timesince_ns:{}",
                fitted.timestamp_ns,
                fitted.timestamp_ns - first_tick
            )
        );
    }
    assert!(!text.contains("SPOT: "), "every statistic calibrated: {text}");
    for s in stats.iter().filter(|s| matches!(s.code, -2..=-1 | 1..=2)) {
        assert!((0.0..=1.0).contains(&s.probability), "{s:?}");
    }
    assert!(stats.iter().any(|s| s.code == 1), "some excesses");
}
