//! `netcap query` against an independent computation from the records.
//!
//! Most Connection files here are written with RecordFileWriter from
//! chosen values (no ties, both address families, rotated file names); one
//! test queries what `netcap capture` writes for a capture in the repo.
//! The expected tables are computed from the records decoded in full by
//! prost, with nothing from netcap-query.

use crate::util::*;
use netcap_records::{Connection, FrameCompressor, Header, RecordFileWriter, RecordReader, RecordType};
use prost::Message;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Connections of a small office: a few clients, web, DNS, SSH and an
/// IPv6 peer, in two record files (a rotated name included).
fn connections() -> Vec<Connection> {
    let clients = ["192.168.10.5", "192.168.10.23", "192.168.10.77", "10.8.0.2", "2001:db8:10::5"];
    let servers = [
        ("93.184.216.34", 443, 6, "TLS"),
        ("142.250.185.78", 443, 6, "TLS"),
        ("192.168.10.1", 53, 17, "DNS"),
        ("151.101.1.69", 80, 6, "HTTP"),
        ("10.8.0.1", 22, 6, "SSH"),
        ("2001:db8:20::443", 443, 6, "TLS"),
        ("8.8.8.8", 53, 17, "DNS"),
        ("192.168.10.1", 123, 17, ""),
    ];
    let mut out = Vec::new();
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut random = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    for i in 0..400u64 {
        let client = clients[random(clients.len() as u64) as usize];
        let (server, dport, proto, app) = servers[random(servers.len() as u64) as usize];
        if client.contains(':') != server.contains(':') {
            continue;
        }
        let client_packets = 1 + random(40);
        let server_packets = 1 + random(120);
        let client_bytes = client_packets * (54 + random(600));
        let server_bytes = server_packets * (54 + random(1460));
        let start = 1_456_428_575_000_000_000 + i as i64 * 150_000_000;
        let duration = random(20_000_000_000) as i64;
        out.push(Connection {
            timestamp_ns: start,
            frame: i + 1,
            last_timestamp_ns: start + duration,
            duration_ns: duration,
            link_protocol: "Ethernet".into(),
            network_protocol: if client.contains(':') { "IPv6" } else { "IPv4" }.into(),
            transport_protocol: if proto == 6 { "TCP" } else { "UDP" }.into(),
            application_protocol: app.into(),
            ip_protocol: proto,
            src_mac: vec![0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56],
            dst_mac: vec![0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e],
            src_ip: octets(client),
            dst_ip: octets(server),
            src_port: 49_152 + random(16_000) as u32,
            dst_port: dport,
            community_id: format!("1:{i:020}="),
            packets: client_packets + server_packets,
            bytes: client_bytes + server_bytes,
            client_packets,
            client_bytes,
            server_packets,
            server_bytes,
            payload_bytes_mean: 512.5,
            client_window_scale: Some(7),
            ..Default::default()
        });
    }
    out
}

fn write_file(path: &Path, record_type: RecordType, records: &[Vec<u8>]) {
    let mut compressor = FrameCompressor::new(1).unwrap();
    let header = Header { record_type: record_type as i32, producer: "tests/query.rs".into(), ..Default::default() };
    let mut writer = RecordFileWriter::create(path, &header, &mut compressor).unwrap();
    // Several frames, as the capture pipeline writes them.
    for chunk in records.chunks(64) {
        let mut batch = Vec::new();
        for record in chunk {
            prost::encoding::encode_varint(record.len() as u64, &mut batch);
            batch.extend_from_slice(record);
        }
        writer.write_records(&batch, &mut compressor).unwrap();
    }
    writer.finish(records.len() as u64).unwrap();
}

/// A directory with the connections in two Connection files (one with a
/// rotated name) and an unrelated TCP file.
fn records_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let encoded: Vec<Vec<u8>> = connections().iter().map(|c| c.encode_to_vec()).collect();
    let (a, b) = encoded.split_at(encoded.len() / 2);
    write_file(&dir.path().join("Connection.ncap.zst"), RecordType::Connection, a);
    write_file(&dir.path().join("Connection-2016-02-25T19-30-00.ncap.zst"), RecordType::Connection, b);
    let tcp = netcap_records::Tcp { src_port: 1, ..Default::default() }.encode_to_vec();
    write_file(&dir.path().join("TCP.ncap.zst"), RecordType::Tcp, &[tcp]);
    dir
}

fn read_back(dir: &Path) -> Vec<Connection> {
    let mut out = Vec::new();
    for name in ["Connection.ncap.zst", "Connection-2016-02-25T19-30-00.ncap.zst"] {
        let mut reader = RecordReader::open(&dir.join(name)).unwrap();
        while let Some(c) = reader.next::<Connection>().unwrap() {
            out.push(c);
        }
    }
    out
}

/// Independent per-group sums: (packets in, packets out, bytes in, bytes
/// out, connections) by the group's labels.
#[derive(Default, Debug, Clone, Copy, PartialEq)]
struct Sums {
    pin: u64,
    pout: u64,
    bin: u64,
    bout: u64,
    conns: u64,
}

impl Sums {
    /// Counts connection `c` into the group: "in" is what the server sent.
    fn add(&mut self, c: &Connection) {
        self.pin += c.server_packets;
        self.pout += c.client_packets;
        self.bin += c.server_bytes;
        self.bout += c.client_bytes;
        self.conns += 1;
    }
}

/// An address as records store it.
fn octets(ip: &str) -> Vec<u8> {
    match ip.parse::<std::net::IpAddr>().unwrap() {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// A stored address as text.
fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()).to_string(),
        _ => std::net::IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()).to_string(),
    }
}

fn expected(
    connections: &[Connection],
    keep: impl Fn(&Connection) -> bool,
    key: impl Fn(&Connection) -> Vec<String>,
) -> Vec<(Vec<String>, Sums)> {
    let mut groups: BTreeMap<Vec<String>, Sums> = BTreeMap::new();
    for c in connections.iter().filter(|c| keep(c)) {
        groups.entry(key(c)).or_default().add(c);
    }
    let mut rows: Vec<(Vec<String>, Sums)> = groups.into_iter().collect();
    // Largest byte total first; ties cannot be checked independently of
    // the tie-break rule, so the test data is checked to have none.
    rows.sort_by_key(|r| std::cmp::Reverse(r.1.bin + r.1.bout));
    for pair in rows.windows(2) {
        assert_ne!(pair[0].1.bin + pair[0].1.bout, pair[1].1.bin + pair[1].1.bout, "tie in the test data");
    }
    rows
}

fn query(args: &[&str]) -> (String, String, Option<i32>) {
    let output = netcap().arg("query").args(args).output().unwrap();
    (String::from_utf8_lossy(&output.stdout).into_owned(), stderr(&output), output.status.code())
}

/// goQuery's units, written independently of netcap-query.
fn units(value: u64, base: f64, names: [&str; 5]) -> String {
    let mut v = value as f64;
    let mut i = 0;
    while v >= base && i < 4 {
        v /= base;
        i += 1;
    }
    format!("{v:.2} {}", names[i]).trim_end().to_string()
}

fn count(v: u64) -> String {
    units(v, 1000.0, ["", "k", "M", "G", "T"])
}

fn bytes(v: u64) -> String {
    units(v, 1024.0, ["B", "kB", "MB", "GB", "TB"])
}

#[test]
fn top_talker_table_csv_and_json_match_an_independent_computation() {
    let dir = records_dir();
    let all = read_back(dir.path());
    assert!(all.len() > 250, "{}", all.len());
    let rows = expected(&all, |_| true, |c| vec![ip_text(&c.src_ip), ip_text(&c.dst_ip)]);
    let total = rows.iter().fold(Sums::default(), |mut t, (_, s)| {
        t.pin += s.pin;
        t.pout += s.pout;
        t.bin += s.bin;
        t.bout += s.bout;
        t.conns += s.conns;
        t
    });
    let d = dir.path().to_str().unwrap();

    // CSV: every group, exact numbers.
    let (csv, err, code) = query(&["-dir", d, "-csv", "-limit", "0", "sip,dip"]);
    assert_eq!(code, Some(0), "{err}");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("sip,dip,packets_in,packets_out,packets_percent,bytes_in,bytes_out,bytes_percent,connections")
    );
    let got: Vec<&str> = lines.collect();
    assert_eq!(got.len(), rows.len());
    for (line, (key, s)) in got.iter().zip(&rows) {
        let packets_pct = (s.pin + s.pout) as f64 * 100.0 / (total.pin + total.pout) as f64;
        let bytes_pct = (s.bin + s.bout) as f64 * 100.0 / (total.bin + total.bout) as f64;
        let want = format!(
            "{},{},{},{},{packets_pct:.2},{},{},{bytes_pct:.2},{}",
            key[0], key[1], s.pin, s.pout, s.bin, s.bout, s.conns
        );
        assert_eq!(*line, want);
    }

    // Table: the top 5 with goQuery's units, the "..." line, the sums.
    let (table, err, code) = query(&["-dir", d, "-n", "5", "talk_conv"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = table.lines().collect();
    let words = |line: &str| line.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(lines[0]), ["packets", "packets", "bytes", "bytes"]);
    assert_eq!(words(lines[1]), ["sip", "dip", "in", "out", "%", "in", "out", "%"]);
    for (line, (key, s)) in lines[2..7].iter().zip(&rows) {
        let packets_pct = (s.pin + s.pout) as f64 * 100.0 / (total.pin + total.pout) as f64;
        let bytes_pct = (s.bin + s.bout) as f64 * 100.0 / (total.bin + total.bout) as f64;
        let want = format!(
            "{} {} {} {} {packets_pct:.2} {} {} {bytes_pct:.2}",
            key[0],
            key[1],
            count(s.pin),
            count(s.pout),
            bytes(s.bin),
            bytes(s.bout)
        );
        assert_eq!(words(line).join(" "), want, "{table}");
    }
    assert_eq!(words(lines[7]), ["...", "...", "...", "..."]);
    assert_eq!(
        words(lines[8]).join(" "),
        format!("{} {} {} {}", count(total.pin), count(total.pout), bytes(total.bin), bytes(total.bout))
    );
    assert_eq!(lines[9], "");
    assert_eq!(
        words(lines[10]).join(" "),
        format!("Totals: {} {}", count(total.pin + total.pout), bytes(total.bin + total.bout))
    );
    // Columns are right-aligned: every row ends at the same column.
    assert!(lines[1..7].iter().all(|l| l.len() == lines[1].len()), "{table}");
    assert!(
        table.contains(&format!(
            "Query stats          : {} hits ({} of {} connections)",
            rows.len(),
            all.len(),
            all.len()
        )),
        "{table}"
    );
    assert!(table.contains("Timespan / Source    : [2016-02-25 19:29:35, "), "{table}");

    // JSON: the same numbers, totals over everything.
    let (json, err, code) = query(&["-dir", d, "-json", "-n", "3", "sip,dip"]);
    assert_eq!(code, Some(0), "{err}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["summary"]["hits"], rows.len());
    assert_eq!(value["summary"]["connections_read"], all.len());
    assert_eq!(value["summary"]["totals"]["bytes"], total.bin + total.bout);
    assert_eq!(value["summary"]["totals"]["connections"], total.conns);
    let json_rows = value["rows"].as_array().unwrap();
    assert_eq!(json_rows.len(), 3);
    for (row, (key, s)) in json_rows.iter().zip(&rows) {
        assert_eq!(row["sip"], key[0]);
        assert_eq!(row["dip"], key[1]);
        assert_eq!(row["bytes_in"], s.bin);
        assert_eq!(row["bytes_out"], s.bout);
        assert_eq!(row["packets_in"], s.pin);
        assert_eq!(row["packets_out"], s.pout);
        assert_eq!(row["connections"], s.conns);
    }
}

/// Issue 4's check on real traffic: `netcap capture` on a capture in the
/// repo, then `netcap query` over its Connection file, against sums
/// computed here from the records. Real traffic has ties (small groups of
/// equal size), ranked by the documented rule: the attribute values,
/// ascending (addresses numerically, IPv4 first).
#[test]
fn top_talkers_of_a_capture_match_its_connection_records() {
    let dir = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/pcapplusplus-example.pcap"), dir.path(), &["-include", "Connection"]);
    let all: Vec<Connection> = records(dir.path(), RecordType::Connection);
    // One per conversation of tshark's -z conv,tcp and conv,udp.
    assert_eq!(all.len(), 136);
    let file = dir.path().join("Connection.ncap.zst");
    let file = file.to_str().unwrap();
    let address = |bytes: &[u8]| ip_text(bytes).parse::<IpAddr>().unwrap();

    // sip,dip over everything.
    let mut groups: BTreeMap<(IpAddr, IpAddr), Sums> = BTreeMap::new();
    for c in &all {
        groups.entry((address(&c.src_ip), address(&c.dst_ip))).or_default().add(c);
    }
    let mut rows: Vec<_> = groups.into_iter().collect();
    rows.sort_by_key(|(key, s)| (std::cmp::Reverse(s.bin + s.bout), *key));
    assert_eq!(rows.len(), 27, "talker pairs");
    let total_bytes: u64 = rows.iter().map(|(_, s)| s.bin + s.bout).sum();
    let total_packets: u64 = rows.iter().map(|(_, s)| s.pin + s.pout).sum();
    assert!(rows.windows(2).any(|w| w[0].1.bin + w[0].1.bout == w[1].1.bin + w[1].1.bout), "no tie exercised");

    let (csv, err, code) = query(&["-read", file, "-csv", "-limit", "0", "sip,dip"]);
    assert_eq!(code, Some(0), "{err}");
    let got: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(got.len(), rows.len());
    for (line, ((sip, dip), s)) in got.iter().zip(&rows) {
        let packets_pct = (s.pin + s.pout) as f64 * 100.0 / total_packets as f64;
        let bytes_pct = (s.bin + s.bout) as f64 * 100.0 / total_bytes as f64;
        let want = format!(
            "{sip},{dip},{},{},{packets_pct:.2},{},{},{bytes_pct:.2},{}",
            s.pin, s.pout, s.bin, s.bout, s.conns
        );
        assert_eq!(*line, want);
    }

    // The goProbe-style table: the top 5 rows and the totals.
    let (table, err, code) = query(&["-read", file, "-n", "5", "talk_conv"]);
    assert_eq!(code, Some(0), "{err}");
    let lines: Vec<&str> = table.lines().collect();
    let words = |line: &str| line.split_whitespace().collect::<Vec<_>>().join(" ");
    for (line, ((sip, dip), s)) in lines[2..7].iter().zip(&rows) {
        let packets_pct = (s.pin + s.pout) as f64 * 100.0 / total_packets as f64;
        let bytes_pct = (s.bin + s.bout) as f64 * 100.0 / total_bytes as f64;
        let (pin, pout, bin, bout) = (count(s.pin), count(s.pout), bytes(s.bin), bytes(s.bout));
        assert_eq!(words(line), format!("{sip} {dip} {pin} {pout} {packets_pct:.2} {bin} {bout} {bytes_pct:.2}"));
    }
    assert_eq!(words(lines[10]), format!("Totals: {} {}", count(total_packets), bytes(total_bytes)), "{table}");
    assert!(table.contains(&format!("{} hits ({n} of {n} connections)", rows.len(), n = all.len())), "{table}");

    // A condition and another grouping: server ports of TCP connections
    // from the private 10.0.0.0/8 clients, by packets.
    let private = |ip: IpAddr| matches!(ip, IpAddr::V4(a) if a.octets()[0] == 10);
    let mut ports: BTreeMap<u32, Sums> = BTreeMap::new();
    for c in all.iter().filter(|c| c.ip_protocol == 6 && private(address(&c.src_ip))) {
        ports.entry(c.dst_port).or_default().add(c);
    }
    let mut ports: Vec<_> = ports.into_iter().collect();
    ports.sort_by_key(|(port, s)| (std::cmp::Reverse(s.pin + s.pout), *port));
    assert_eq!(ports.iter().map(|(port, _)| *port).collect::<Vec<_>>(), [80, 443, 5005], "{ports:?}");
    let condition = "proto = tcp and sip = 10.0.0.0/8";
    let (csv, err, code) =
        query(&["-read", file, "-csv", "-sort", "packets", "-where", condition, "-limit", "0", "dport"]);
    assert_eq!(code, Some(0), "{err}");
    let got: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(got.len(), ports.len());
    for (fields, (port, s)) in got.iter().zip(&ports) {
        let want = [port.to_string(), s.pin.to_string(), s.pout.to_string()];
        assert_eq!(fields[..3], want.iter().map(String::as_str).collect::<Vec<_>>()[..], "{csv}");
        assert_eq!(fields[4..6], [s.bin.to_string(), s.bout.to_string()], "{csv}");
        assert_eq!(fields[7], s.conns.to_string(), "{csv}");
    }
}

#[test]
fn conditions_and_time_ranges_match_an_independent_filter() {
    let dir = records_dir();
    let all = read_back(dir.path());
    let d = dir.path().to_str().unwrap();
    let private = |ip: &str| match ip.parse::<IpAddr>().unwrap() {
        IpAddr::V4(v4) => v4.octets()[0] == 10,
        IpAddr::V6(_) => false,
    };
    // goProbe's example condition, with the README's extension.
    let rows = expected(
        &all,
        |c| c.dst_port == 443 && !private(&ip_text(&c.src_ip)),
        |c| vec![c.dst_port.to_string(), "TCP".into()],
    );
    let (csv, err, code) = query(&["-dir", d, "-csv", "-where", "dport = 443 and not sip = 10.0.0.0/8", "dport,proto"]);
    assert_eq!(code, Some(0), "{err}");
    let line = csv.lines().nth(1).unwrap();
    let (key, s) = &rows[0];
    assert!(line.starts_with(&format!("{},{},{},{},", key[0], key[1], s.pin, s.pout)), "{line}");
    assert!(line.ends_with(&format!(",{}", s.conns)), "{line}");
    assert_eq!(csv.lines().count(), 2);

    // or / parentheses / not / protocol names / app, against the same filter in Rust.
    let condition = "(app = dns | proto = udp) & !(dip = 8.8.8.8 or sport < 50000) and bytes > 1k";
    let keep = |c: &Connection| {
        (c.application_protocol.eq_ignore_ascii_case("dns") || c.ip_protocol == 17)
            && !(ip_text(&c.dst_ip) == "8.8.8.8" || c.src_port < 50_000)
            && c.bytes > 1000
    };
    let rows = expected(&all, keep, |c| vec![ip_text(&c.src_ip)]);
    let (csv, err, code) = query(&[
        "-read",
        &format!("{d}/Connection.ncap.zst"),
        "-read",
        &format!("{d}/Connection-2016-02-25T19-30-00.ncap.zst"),
        "-csv",
        "-c",
        condition,
        "-group",
        "sip",
    ]);
    assert_eq!(code, Some(0), "{err}");
    let got: Vec<String> = csv.lines().skip(1).map(|l| l.split(',').next().unwrap().to_string()).collect();
    let want: Vec<String> = rows.iter().map(|(k, _)| k[0].clone()).collect();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // Time range: connections overlapping [first, last].
    let first = 1_456_428_575_000_000_000i64 + 20_000_000_000;
    let last = first + 10_000_000_000;
    let keep = |c: &Connection| c.last_timestamp_ns >= first && c.timestamp_ns <= last;
    let matched = all.iter().filter(|c| keep(c)).count();
    assert!(matched > 0 && matched < all.len());
    let (json, err, code) =
        query(&["-dir", d, "-json", "-f", "2016-02-25T19:29:55Z", "-l", "1456428605", "-sort", "packets", "app"]);
    assert_eq!(code, Some(0), "{err}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["summary"]["connections_matched"], matched);
    let rows = expected(&all, keep, |c| vec![c.application_protocol.clone()]);
    let mut by_packets: Vec<(String, u64)> = rows.iter().map(|(k, s)| (k[0].clone(), s.pin + s.pout)).collect();
    by_packets.sort_by_key(|r| std::cmp::Reverse(r.1));
    let got: Vec<(String, u64)> = value["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["app"].as_str().unwrap().to_string(), r["packets"].as_u64().unwrap()))
        .collect();
    assert_eq!(got, by_packets);
}

#[test]
fn errors_and_damaged_input() {
    let dir = records_dir();
    let d = dir.path().to_str().unwrap();
    let (out, err, code) = query(&["-dir", d, "-where", "dport = 443 and sip = 10.0.0.0/33"]);
    assert_eq!(code, Some(1));
    assert!(out.is_empty());
    assert!(err.contains("position 23") && err.contains(&format!("{}^^^^^^^^^^^", " ".repeat(24))), "{err}");

    let tcp = dir.path().join("TCP.ncap.zst");
    let (_, err, code) = query(&["-read", tcp.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("holds TCP records"), "{err}");
    let (_, err, code) = query(&["-read", d, "bogus"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("bogus"), "{err}");
    let empty = tempfile::tempdir().unwrap();
    let (_, err, code) = query(&["-dir", empty.path().to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("no Connection record files"), "{err}");

    // A truncated file: what was read is counted, a warning, status 3.
    let whole = dir.path().join("Connection.ncap.zst");
    let data = std::fs::read(&whole).unwrap();
    let cut: PathBuf = empty.path().join("Connection.ncap.zst");
    std::fs::write(&cut, &data[..data.len() * 2 / 3]).unwrap();
    let (csv, err, code) = query(&["-read", cut.to_str().unwrap(), "-csv", "dport"]);
    assert_eq!(code, Some(3), "{err}");
    assert!(err.contains("warning") && err.contains("truncated"), "{err}");
    assert!(csv.lines().count() > 1, "{csv}");

    // Standard input.
    let output = netcap()
        .args(["query", "-read", "-", "-csv", "proto"])
        .stdin(std::fs::File::open(&whole).unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("TCP,")) && text.lines().any(|l| l.starts_with("UDP,")), "{text}");
}

#[test]
fn every_format_exits_quietly_when_the_reader_goes_away() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    // 20,000 talkers: far more output than a pipe buffer holds.
    let dir = tempfile::tempdir().unwrap();
    let template = connections().remove(0);
    let records: Vec<Vec<u8>> = (0..20_000u32)
        .map(|i| {
            let mut c = template.clone();
            c.src_ip = vec![10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
            c.encode_to_vec()
        })
        .collect();
    write_file(&dir.path().join("Connection.ncap.zst"), RecordType::Connection, &records);
    for format in ["-csv", "-json", "-table"] {
        let mut child = netcap()
            .args(["query", "-dir", dir.path().to_str().unwrap(), format, "-n", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{format}");
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{format}: {:?}", output.status);
        assert_eq!(stderr(&output), "", "{format}: no noise on a closed pipe");
    }
}
