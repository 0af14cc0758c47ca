//! `netcap label` against expectations computed here, row by row.
//!
//! A capture in the repo (arkime-v6.pcap: SSH, DNS, a UDP traceroute and
//! ICMPv6 over IPv6) goes through `netcap capture`; ground truth is written
//! against its connections (eve.json, fast.log, a YAML schedule); the
//! expected label of every Connection row is computed by a direct loop over
//! all alerts and windows with the documented rules (nothing from
//! netcap-label), and every other record type's rows are checked against
//! the labelled connections (community ID and time) or, for Ethernet, the
//! labelled frames.

use crate::util::*;
use netcap_records::{Connection, RecordType};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

const SECOND: i64 = 1_000_000_000;

fn addr(bytes: &[u8]) -> IpAddr {
    match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()),
        _ => IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()),
    }
}

/// An alert as the test writes it and judges it.
struct TestAlert {
    source: &'static str,
    time_ns: i64,
    sid: u64,
    severity: u32,
    category: String,
    /// Community ID the alert carries (or gets from a flow event).
    community_id: Option<String>,
    /// Protocol and endpoints (as written, any orientation).
    tuple: Option<Tuple>,
}

/// IP protocol and two endpoints.
type Tuple = (u8, (IpAddr, u16), (IpAddr, u16));

/// A window as the test writes it and judges it.
struct TestWindow {
    name: &'static str,
    category: &'static str,
    start_ns: i64,
    end_ns: i64,
    attackers: Vec<IpAddr>,
    victims: Vec<IpAddr>,
    ips: Vec<IpAddr>,
    proto: Option<u8>,
    ports: Option<(u16, u16)>,
}

fn has_ports(proto: u32) -> bool {
    matches!(proto, 6 | 17 | 132 | 136)
}

/// The join rules of docs/label.md, written out plainly.
fn alert_matches(a: &TestAlert, c: &Connection, slack: i64) -> bool {
    if a.time_ns < c.timestamp_ns - slack || a.time_ns > c.last_timestamp_ns + slack {
        return false;
    }
    if let Some(id) = &a.community_id {
        return *id == c.community_id;
    }
    let Some((proto, x, y)) = a.tuple else { return false };
    if u32::from(proto) != c.ip_protocol {
        return false;
    }
    let (s, d) = ((addr(&c.src_ip), c.src_port as u16), (addr(&c.dst_ip), c.dst_port as u16));
    if has_ports(c.ip_protocol) {
        (x == s && y == d) || (x == d && y == s)
    } else {
        (x.0 == s.0 && y.0 == d.0) || (x.0 == d.0 && y.0 == s.0)
    }
}

fn window_matches(w: &TestWindow, c: &Connection) -> bool {
    if c.last_timestamp_ns < w.start_ns || c.timestamp_ns > w.end_ns {
        return false;
    }
    if w.proto.is_some_and(|p| u32::from(p) != c.ip_protocol) {
        return false;
    }
    let (s, d) = ((addr(&c.src_ip), c.src_port as u16), (addr(&c.dst_ip), c.dst_port as u16));
    let port_ok = |p: u16| !has_ports(c.ip_protocol) || w.ports.is_none_or(|(lo, hi)| (lo..=hi).contains(&p));
    let any = |list: &[IpAddr], a: IpAddr| list.is_empty() || list.contains(&a);
    let between =
        |att: (IpAddr, u16), vic: (IpAddr, u16)| any(&w.attackers, att.0) && any(&w.victims, vic.0) && port_ok(vic.1);
    if (!w.attackers.is_empty() || !w.victims.is_empty()) && (between(s, d) || between(d, s)) {
        return true;
    }
    !w.ips.is_empty() && (w.ips.contains(&s.0) || w.ips.contains(&d.0)) && (port_ok(s.1) || port_ok(d.1))
}

/// Label, source and detail of a connection: alerts first (most severe,
/// then earliest), then windows (earliest start); details deduplicated.
fn expected(c: &Connection, alerts: &[TestAlert], windows: &[TestWindow], slack: i64) -> [String; 3] {
    let mut hit_alerts: Vec<&TestAlert> = alerts.iter().filter(|a| alert_matches(a, c, slack)).collect();
    hit_alerts.sort_by_key(|a| (a.severity, a.time_ns));
    let mut hit_windows: Vec<&TestWindow> = windows.iter().filter(|w| window_matches(w, c)).collect();
    hit_windows.sort_by_key(|w| w.start_ns);
    let mut items: Vec<String> = Vec::new();
    for item in hit_alerts
        .iter()
        .map(|a| format!("{}:{}", a.source, a.sid))
        .chain(hit_windows.iter().map(|w| format!("attacks:{}", w.name)))
    {
        if !items.contains(&item) {
            items.push(item);
        }
    }
    match (hit_alerts.first(), hit_windows.first()) {
        (Some(a), _) => [a.category.clone(), a.source.into(), items.join("|")],
        (None, Some(w)) => [w.category.into(), "attacks".into(), items.join("|")],
        (None, None) => ["normal".into(), String::new(), String::new()],
    }
}

/// Rows of a labelled CSV as maps from column name to cell.
fn read_csv(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut reader = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let rows =
        reader.records().map(|r| headers.iter().cloned().zip(r.unwrap().iter().map(str::to_owned)).collect()).collect();
    (headers, rows)
}

/// Suricata's eve.json time text (offset without colon).
fn eve_time(ns: i64) -> String {
    let (secs, micros) = (ns.div_euclid(SECOND), ns.rem_euclid(SECOND) / 1000);
    let days = secs.div_euclid(86_400);
    let (y, m, d) = netcap_records::civil::civil_from_days(days);
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+0000", s / 3600, s / 60 % 60, s % 60)
}

/// Suricata's fast.log time, in UTC+1 (Europe/Berlin in March 1999).
fn fast_time(ns: i64) -> String {
    let t = eve_time(ns + 3600 * SECOND);
    // 1999-03-09T12:34:56.123456+0000 -> 03/09/1999-12:34:56.123456
    format!("{}/{}/{}-{}", &t[5..7], &t[8..10], &t[0..4], &t[11..26])
}

/// Suricata's full IPv6 form with the port after a ninth colon.
fn fast_endpoint(ip: IpAddr, port: u16) -> String {
    match ip {
        IpAddr::V6(v6) => {
            let groups: Vec<String> = v6.segments().iter().map(|g| format!("{g:04x}")).collect();
            format!("{}:{port}", groups.join(":"))
        }
        IpAddr::V4(v4) => format!("{v4}:{port}"),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    records: PathBuf,
    truth: PathBuf,
    alerts: Vec<TestAlert>,
    windows: Vec<TestWindow>,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    capture(&testdata("pcaps/arkime-v6.pcap"), &records, &[]);
    let mut connections: Vec<Connection> = records_of(&records);
    connections.sort_by_key(|c| (c.timestamp_ns, c.frame));
    let find = |f: &dyn Fn(&Connection) -> bool| connections.iter().find(|c| f(c)).unwrap().clone();
    let ssh = find(&|c| c.ip_protocol == 6);
    let dns: Vec<Connection> = connections.iter().filter(|c| c.dst_port == 53).cloned().collect();
    let echo = find(&|c| c.ip_protocol == 58 && c.src_port == 128 && c.packets >= 6);
    let trace: Vec<Connection> =
        connections.iter().filter(|c| c.dst_port >= 33435 && c.dst_port <= 33446).cloned().collect();
    assert!(dns.len() >= 5 && trace.len() >= 6, "capture changed: {} DNS, {} traceroute", dns.len(), trace.len());
    let tuple = |c: &Connection, flip: bool| {
        let (s, d) = ((addr(&c.src_ip), c.src_port as u16), (addr(&c.dst_ip), c.dst_port as u16));
        Some((c.ip_protocol as u8, if flip { d } else { s }, if flip { s } else { d }))
    };
    let alert = |source, time_ns, sid, severity, category: &str, community_id: Option<String>, tuple| TestAlert {
        source,
        time_ns,
        sid,
        severity,
        category: category.into(),
        community_id,
        tuple,
    };
    let alerts = vec![
        // Two alerts on the SSH connection: one by community ID, one by
        // endpoints in the server-to-client orientation, half a second
        // after its last packet (within the slack); the second is more
        // severe and gives the label.
        alert(
            "eve",
            ssh.timestamp_ns + SECOND,
            1001,
            2,
            "Attempted Admin",
            Some(ssh.community_id.clone()),
            tuple(&ssh, false),
        ),
        alert("eve", ssh.last_timestamp_ns + SECOND / 2, 1002, 1, "Brute Force", None, tuple(&ssh, true)),
        // Just outside the slack of a DNS query: matches nothing.
        alert("eve", dns[0].last_timestamp_ns + SECOND + 1_000, 1003, 1, "DNS Exfil", None, tuple(&dns[0], false)),
        // Just inside it, before the first packet, by community ID.
        alert(
            "eve",
            dns[1].timestamp_ns - SECOND + 1_000,
            1004,
            3,
            "DNS Tunnel",
            Some(dns[1].community_id.clone()),
            None,
        ),
        // A community ID no connection has.
        alert("eve", ssh.timestamp_ns, 1005, 1, "Nothing", Some("1:AAAAAAAAAAAAAAAAAAAAAAAAAAA=".into()), None),
        // No community ID and no endpoints: its flow event gives the ID.
        alert("eve", echo.timestamp_ns + 10, 1006, 2, "ICMP Probe", Some(echo.community_id.clone()), None),
        // fast.log: a DNS query by endpoints, reversed, times in UTC+1.
        alert("fast", dns[2].timestamp_ns + 1_000, 2001, 2, "Suspicious DNS", None, tuple(&dns[2], true)),
        // fast.log and eve both on DNS 3, the eve one less severe.
        alert("fast", dns[3].timestamp_ns, 2002, 1, "Bad DNS", None, tuple(&dns[3], false)),
        alert("eve", dns[3].timestamp_ns, 1007, 3, "DNS Tunnel", Some(dns[3].community_id.clone()), None),
    ];
    let client = addr(&trace[0].src_ip);
    let target = addr(&trace[0].dst_ip);
    let dns_server = addr(&dns[0].dst_ip);
    let t0 = connections[0].timestamp_ns;
    let windows = vec![
        // Every connection of the DNS server for the first 40 s.
        TestWindow {
            name: "Recon",
            category: "recon",
            start_ns: t0,
            end_ns: t0 + 40 * SECOND,
            attackers: vec![],
            victims: vec![],
            ips: vec![dns_server],
            proto: None,
            ports: None,
        },
        // Overlapping it: the traceroute's first ports, over UDP.
        TestWindow {
            name: "Trace",
            category: "scan",
            start_ns: trace[0].timestamp_ns - 1,
            end_ns: trace[0].timestamp_ns + 60 * SECOND,
            attackers: vec![client],
            victims: vec![target],
            ips: vec![],
            proto: Some(17),
            ports: Some((33435, 33440)),
        },
        // Overlapping both: the same parties over TCP (the SSH session only).
        TestWindow {
            name: "Shell",
            category: "intrusion",
            start_ns: ssh.timestamp_ns,
            end_ns: ssh.timestamp_ns + SECOND,
            attackers: vec![addr(&ssh.src_ip)],
            victims: vec![addr(&ssh.dst_ip)],
            ips: vec![],
            proto: Some(6),
            ports: None,
        },
        TestWindow {
            name: "Ghost",
            category: "dos",
            start_ns: t0 + 86_400 * SECOND,
            end_ns: t0 + 86_401 * SECOND,
            attackers: vec![client],
            victims: vec![],
            ips: vec![],
            proto: None,
            ports: None,
        },
    ];
    let truth = dir.path().join("truth");
    std::fs::create_dir(&truth).unwrap();
    let mut eve = String::new();
    for (i, a) in alerts.iter().enumerate().filter(|(_, a)| a.source == "eve") {
        let mut event = serde_json::json!({
            "timestamp": eve_time(a.time_ns),
            "flow_id": 100 + i,
            "event_type": "alert",
            "alert": {"action": "allowed", "gid": 1, "signature_id": a.sid, "rev": 1,
                      "signature": format!("TEST {}", a.sid), "category": a.category, "severity": a.severity},
        });
        // Alert 1006 carries neither; its flow event (below) has the ID.
        if a.sid != 1006 {
            if let Some(id) = &a.community_id {
                event["community_id"] = id.clone().into();
            }
            if let Some((proto, s, d)) = a.tuple {
                event["proto"] = if proto == 6 { "TCP" } else { "UDP" }.into();
                event["src_ip"] = s.0.to_string().into();
                event["src_port"] = s.1.into();
                event["dest_ip"] = d.0.to_string().into();
                event["dest_port"] = d.1.into();
            }
        }
        eve.push_str(&event.to_string());
        eve.push('\n');
        if a.sid == 1006 {
            eve.push_str(&format!(
                "{{\"timestamp\":\"{}\",\"flow_id\":{},\"event_type\":\"flow\",\"community_id\":\"{}\"}}\n",
                eve_time(a.time_ns),
                100 + i,
                a.community_id.as_ref().unwrap()
            ));
        }
        eve.push_str("{\"timestamp\":\"2017-01-01T00:00:00.000000+0000\",\"event_type\":\"dns\",\"dns\":{}}\n");
    }
    std::fs::write(truth.join("eve.json"), eve).unwrap();
    let mut fast = String::new();
    for a in alerts.iter().filter(|a| a.source == "fast") {
        let (_, s, d) = a.tuple.unwrap();
        fast.push_str(&format!(
            "{}  [**] [1:{}:1] TEST {} [**] [Classification: {}] [Priority: {}] {{UDP}} {} -> {}\n",
            fast_time(a.time_ns),
            a.sid,
            a.sid,
            a.category,
            a.severity,
            fast_endpoint(s.0, s.1),
            fast_endpoint(d.0, d.1)
        ));
    }
    std::fs::write(truth.join("fast.log"), fast).unwrap();
    let mut yaml = String::from("attacks:\n");
    for w in &windows {
        let list = |l: &[IpAddr]| format!("[{}]", l.iter().map(|a| format!("\"{a}\"")).collect::<Vec<_>>().join(", "));
        yaml.push_str(&format!(
            "  - name: {}\n    category: {}\n    start: {}\n    end: {}\n",
            w.name,
            w.category,
            eve_time(w.start_ns).replace("+0000", "Z"),
            eve_time(w.end_ns).replace("+0000", "Z")
        ));
        for (key, l) in [("attackers", &w.attackers), ("victims", &w.victims), ("ips", &w.ips)] {
            if !l.is_empty() {
                yaml.push_str(&format!("    {key}: {}\n", list(l)));
            }
        }
        if let Some(p) = w.proto {
            yaml.push_str(&format!("    protocol: {}\n", if p == 6 { "tcp" } else { "udp" }));
        }
        if let Some((lo, hi)) = w.ports {
            yaml.push_str(&format!("    ports: [\"{lo}-{hi}\"]\n"));
        }
    }
    std::fs::write(truth.join("attacks.yaml"), yaml).unwrap();
    Fixture { records, truth, alerts, windows, _dir: dir }
}

fn records_of(dir: &Path) -> Vec<Connection> {
    records(dir, RecordType::Connection)
}

fn label_args<'a>(f: &'a Fixture, out: &'a Path, extra: &[&'a str]) -> Vec<String> {
    let t = |name: &str| f.truth.join(name).to_str().unwrap().to_owned();
    let mut args: Vec<String> = ["label", "-dir", f.records.to_str().unwrap(), "-out", out.to_str().unwrap()]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend(["-eve".into(), t("eve.json"), "-fast".into(), t("fast.log"), "-attacks".into(), t("attacks.yaml")]);
    args.extend(["-tz".into(), "Europe/Berlin".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn run_label(args: &[String]) -> std::process::Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
}

#[test]
fn label_connections_and_their_records_row_by_row() {
    let f = fixture();
    let out = f.truth.parent().unwrap().join("out");
    let output = run_label(&label_args(&f, &out, &[]));
    assert!(output.status.success(), "{}", stderr(&output));
    let slack = SECOND;

    // Connections: every row against the plain rules.
    let (headers, rows) = read_csv(&out.join("Connection_labeled.csv"));
    let dump = run(&["dump", "-read", f.records.join("Connection.ncap.zst").to_str().unwrap(), "-csv"]);
    let dump_text = String::from_utf8(dump.stdout).unwrap();
    let dump_header: Vec<&str> = dump_text.lines().next().unwrap().split(',').collect();
    assert_eq!(headers[..headers.len() - 3], dump_header[..]);
    assert_eq!(headers[headers.len() - 3..], ["label", "label_source", "label_detail"]);
    let in_file_order: Vec<Connection> = records_of(&f.records);
    assert_eq!(rows.len(), in_file_order.len());
    let mut labels_by_id: HashMap<String, Vec<(i64, i64, String)>> = HashMap::new();
    let mut by_label: BTreeMap<String, u64> = BTreeMap::new();
    for (i, (row, c)) in rows.iter().zip(&in_file_order).enumerate() {
        // The row is dump's row of the same record.
        assert_eq!(row["frame"], c.frame.to_string());
        let want = expected(c, &f.alerts, &f.windows, slack);
        let got = [row["label"].clone(), row["label_source"].clone(), row["label_detail"].clone()];
        assert_eq!(got, want, "row {i}: {} -> {} port {}", row["src_ip"], row["dst_ip"], row["dst_port"]);
        *by_label.entry(want[0].clone()).or_default() += 1;
        labels_by_id.entry(c.community_id.clone()).or_default().push((
            c.timestamp_ns,
            c.last_timestamp_ns,
            want[0].clone(),
        ));
    }
    // The cases the fixture is about all happened.
    for label in ["Brute Force", "DNS Tunnel", "ICMP Probe", "Suspicious DNS", "Bad DNS", "recon", "scan"] {
        assert!(by_label.contains_key(label), "no connection labelled {label}: {by_label:?}");
    }
    assert!(by_label["normal"] > 10, "{by_label:?}");
    assert!(!by_label.contains_key("DNS Exfil") && !by_label.contains_key("Nothing") && !by_label.contains_key("dos"));
    // Overlapping windows: a traceroute probe in Recon's time and port range
    // is in both, Trace first (earlier start).
    let trace_rows = rows.iter().filter(|r| r["label"] == "scan").count();
    assert!(trace_rows >= 4, "{trace_rows}");

    // Every other record type: the label of its connection.
    let label_of = |id: &str, t: i64| -> String {
        labels_by_id
            .get(id)
            .and_then(|spans| spans.iter().find(|(a, b, _)| *a <= t && t <= *b))
            .map_or("normal".into(), |s| s.2.clone())
    };
    let mut frame_labels: HashMap<String, String> = HashMap::new();
    let mut packets_by_label: BTreeMap<String, u64> = BTreeMap::new();
    for name in ["IPv6", "TCP", "UDP", "ICMPv6", "ICMPv6Echo", "ICMPv6NDP", "DNS", "Flow"] {
        let (_, rows) = read_csv(&out.join(format!("{name}_labeled.csv")));
        assert!(!rows.is_empty(), "{name}");
        for (i, row) in rows.iter().enumerate() {
            let want = label_of(&row["community_id"], row["timestamp_ns"].parse().unwrap());
            assert_eq!(row["label"], want, "{name} row {i}");
            if want != "normal" {
                assert_ne!(row["label_source"], "", "{name} row {i}");
                frame_labels.insert(row["frame"].clone(), want.clone());
                if name == "IPv6" {
                    *packets_by_label.entry(want).or_default() += 1;
                }
            } else {
                assert_eq!((row["label_source"].as_str(), row["label_detail"].as_str()), ("", ""));
            }
        }
    }
    // Every packet of a labelled connection has an IPv6 record with its label.
    let mut expected_packets: BTreeMap<String, u64> = BTreeMap::new();
    for (row, c) in rows.iter().zip(&in_file_order) {
        if row["label"] != "normal" {
            *expected_packets.entry(row["label"].clone()).or_default() += c.packets;
        }
    }
    assert_eq!(packets_by_label, expected_packets);
    let (_, ethernet) = read_csv(&out.join("Ethernet_labeled.csv"));
    for row in &ethernet {
        let want = frame_labels.get(&row["frame"]).cloned().unwrap_or("normal".into());
        assert_eq!(row["label"], want, "Ethernet frame {}", row["frame"]);
    }
    assert_eq!(
        ethernet.iter().filter(|r| r["label"] != "normal").count() as u64,
        expected_packets.values().sum::<u64>()
    );

    // The summary: unmatched alerts listed, the empty window, the conflicts.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("label-summary.json")).unwrap()).unwrap();
    let unmatched: Vec<u64> = summary["alerts"]["unmatched_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["signature_id"].as_u64().unwrap())
        .collect();
    assert_eq!(unmatched, [1003, 1005]);
    assert_eq!(summary["alerts"]["total"], 9);
    assert_eq!(summary["alerts"]["community_ids_from_flow_events"], 1);
    let empty: Vec<&str> =
        summary["windows"]["without_traffic"].as_array().unwrap().iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(empty, ["Ghost"]);
    assert!(summary["conflicts"]["connections"].as_u64().unwrap() >= 3, "{}", summary["conflicts"]);
    assert_eq!(summary["records"]["Connection"]["normal"], by_label["normal"]);
    let text = stderr(&output);
    assert!(text.contains("alerts: 9 read, 7 matched, 2 unmatched"), "{text}");
    assert!(text.contains("without traffic: Ghost"), "{text}");
    // Nothing but the outputs in OUT.
    let mut names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert!(names.iter().all(|n| n.ends_with("_labeled.csv") || n == "label-summary.json"), "{names:?}");

    // -prefer attacks: the SSH connection is labelled by its window.
    let out2 = f.truth.parent().unwrap().join("out-prefer");
    let output = run_label(&label_args(&f, &out2, &["-prefer", "attacks", "-label-by", "name", "-quiet"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let (_, rows) = read_csv(&out2.join("Connection_labeled.csv"));
    let ssh = rows.iter().find(|r| r["ip_protocol"] == "6").unwrap();
    assert_eq!(
        (ssh["label"].as_str(), ssh["label_source"].as_str(), ssh["label_detail"].as_str()),
        ("Shell", "attacks", "attacks:Shell|eve:1002|eve:1001")
    );
}

#[test]
fn label_parquet_has_the_rows_and_labels_of_the_csv() {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{TimestampNanosecondType, UInt64Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let f = fixture();
    let csv_out = f.truth.parent().unwrap().join("csv");
    let pq_out = f.truth.parent().unwrap().join("parquet");
    assert!(run_label(&label_args(&f, &csv_out, &["-quiet"])).status.success());
    let output = run_label(&label_args(&f, &pq_out, &["-quiet", "-parquet"]));
    assert!(output.status.success(), "{}", stderr(&output));
    for name in ["Connection", "IPv6", "Ethernet", "DNS"] {
        let (_, rows) = read_csv(&csv_out.join(format!("{name}_labeled.csv")));
        let file = std::fs::File::open(pq_out.join(format!("{name}_labeled.parquet"))).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file).unwrap().build().unwrap();
        let mut n = 0;
        for batch in reader {
            let batch = batch.unwrap();
            let column = |c: &str| batch.column_by_name(c).unwrap_or_else(|| panic!("{name}: no {c}"));
            let time = column("timestamp_ns").as_primitive::<TimestampNanosecondType>();
            let frame = column("frame").as_primitive::<UInt64Type>();
            for i in 0..batch.num_rows() {
                let row = &rows[n];
                assert_eq!(time.value(i).to_string(), row["timestamp_ns"], "{name} row {n}");
                assert_eq!(frame.value(i).to_string(), row["frame"], "{name} row {n}");
                for c in ["label", "label_source", "label_detail"] {
                    assert_eq!(column(c).as_string::<i32>().value(i), row[c], "{name} row {n} {c}");
                }
                if name != "Ethernet" {
                    assert_eq!(column("src_ip").as_string::<i32>().value(i), row["src_ip"], "{name} row {n}");
                }
                n += 1;
            }
        }
        assert_eq!(n, rows.len(), "{name}");
    }
    // Typed columns where the schema has them.
    let file = std::fs::File::open(pq_out.join("Connection_labeled.parquet")).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let schema = builder.schema().clone();
    use arrow_schema::DataType;
    assert_eq!(schema.field_with_name("packets").unwrap().data_type(), &DataType::UInt64);
    assert_eq!(schema.field_with_name("payload_bytes_mean").unwrap().data_type(), &DataType::Float64);
    assert_eq!(schema.field_with_name("src_port").unwrap().data_type(), &DataType::UInt32);
    assert!(matches!(schema.field_with_name("payload_size_sequence").unwrap().data_type(), DataType::List(_)));
    assert!(schema.field_with_name("client_window_scale").unwrap().is_nullable());
}

#[test]
fn label_errors_name_the_file_and_line_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    capture(&testdata("pcaps/zeek-tls-chrome-34-google.pcap"), &records, &[]);
    let out = dir.path().join("out");
    let rec = records.to_str().unwrap();
    let o = out.to_str().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let good = r#"{"timestamp":"2014-05-06T13:44:05.000000+0000","event_type":"alert","community_id":"1:x=","alert":{"signature_id":1}}"#;
    let eve = write("eve.json", &format!("{good}\n{{\"event_type\":\"alert\",\n"));
    let fast = write("fast.log", "garbage here\n");
    let ok = write("ok.json", good);
    let yaml =
        write("s.yaml", "attacks:\n  - name: x\n    start: 2014-05-06T13:44:05\n    end: 2\n    ips: [10.0.0.1]\n");
    let flows_csv =
        write("flows.csv", "Source IP,Destination IP,Timestamp,Label\n1.2.3.4,5.6.7.8,6/5/2014 13:44,DoS\n");
    let yaml_zone = write(
        "zone.yaml",
        "# a schedule\ntimezone: Mars/Olympus\nattacks:\n  - name: x\n    start: 2014-05-06T13:44:05\n    end: 2014-05-06T13:45:05\n    ips: [10.0.0.1]\n",
    );
    let yaml_bad = write(
        "bad.yaml",
        "attacks:\n  - name: x\n    start: 2014-05-06T13:44:05Z\n    finish: 2014-05-06T13:45:05Z\n    ips: [10.0.0.1]\n",
    );
    let fast_line = "05/06/2014-13:44:05.000000  [**] [1:1:1] x [**] [Classification: y] [Priority: 1] {TCP} 1.2.3.4:1 -> 5.6.7.8:2";
    let fast_late = write("late.log", &format!("{fast_line}\n{fast_line}\n05/06/2014-13:44:06.000000 oops\n"));
    let eve_no_sid = write(
        "nosid.json",
        &format!(
            "{good}\n{{\"timestamp\":\"2014-05-06T13:44:05.000000+0000\",\"event_type\":\"alert\",\"alert\":{{}}}}\n"
        ),
    );
    let cases: Vec<(Vec<&str>, u8, String)> = vec![
        (vec!["-eve", &eve], 1, format!("{eve}:2: not an eve.json event")),
        (vec!["-eve", "/nonexistent/eve.json"], 1, "/nonexistent/eve.json: No such file".into()),
        (vec!["-fast", &fast], 1, "fast.log:1: invalid fast.log time".into()),
        (vec!["-eve", &ok, "-tz", "Mars/Olympus"], 1, "-tz: unknown time zone \"Mars/Olympus\"".into()),
        (vec!["-eve", &ok, "-slack", "soon"], 1, "-slack: invalid duration".into()),
        (
            vec!["-attacks", &yaml],
            1,
            "s.yaml:2: attack \"x\": start: time \"2014-05-06T13:44:05\" has no time zone".into(),
        ),
        (vec!["-attacks", &flows_csv], 1, "flows.csv:2: time \"6/5/2014 13:44\" has no time zone".into()),
        (vec![], 2, "required arguments were not provided".into()),
        // A directory where a file should be: unreadable, named with its line.
        (vec!["-eve", dir.path().to_str().unwrap()], 1, format!("{}:1: read error", dir.path().display())),
        (vec!["-attacks", &yaml_zone], 1, "zone.yaml:2: timezone: unknown time zone \"Mars/Olympus\"".into()),
        (vec!["-attacks", &yaml_bad], 1, "bad.yaml:4: not a valid attack schedule".into()),
        (vec!["-fast", &fast_late, "-tz", "Europe/Berlin"], 1, "late.log:3: expected [**] after the time".into()),
        (vec!["-eve", &eve_no_sid], 1, "nosid.json:2: alert without alert.signature_id".into()),
        (vec!["-eve", &ok, "-prefer", "both"], 1, "-prefer takes alerts or attacks".into()),
    ];
    for (extra, code, message) in cases {
        let mut args = vec!["label", "-dir", rec, "-out", o];
        args.extend(extra.iter());
        let output = run(&args);
        assert_eq!(output.status.code(), Some(i32::from(code)), "{args:?}: {}", stderr(&output));
        assert!(stderr(&output).contains(&message), "{args:?}: {}", stderr(&output));
        assert!(!out.exists(), "{args:?} left {}", out.display());
    }
    // An existing OUT keeps only what it had.
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "x").unwrap();
    let output = run(&["label", "-dir", rec, "-out", o, "-eve", &eve]);
    assert_eq!(output.status.code(), Some(1));
    let names: Vec<String> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    assert_eq!(names, ["keep.txt"]);
    // A flow label file with -tz labels the TLS connection and its records.
    let conns: Vec<Connection> = records_of(&records);
    let c = conns.iter().max_by_key(|c| c.packets).unwrap();
    let minute = c.timestamp_ns / (60 * SECOND) * 60 * SECOND;
    let when = eve_time(minute);
    let cic = format!(
        " Source IP, Source Port, Destination IP, Destination Port, Protocol, Timestamp, Flow Duration, Label\n{},{},{},{},6,{}/{}/{} {}:{},{},Web Attack\n",
        addr(&c.src_ip),
        c.src_port,
        addr(&c.dst_ip),
        c.dst_port,
        &when[8..10],
        &when[5..7],
        &when[0..4],
        &when[11..13],
        &when[14..16],
        (c.last_timestamp_ns - c.timestamp_ns) / 1000,
    );
    let flows = write("labels.csv", &cic);
    let out2 = dir.path().join("out2");
    let output =
        run(&["label", "-dir", rec, "-out", out2.to_str().unwrap(), "-attacks", &flows, "-tz", "UTC", "-quiet"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let (_, rows) = read_csv(&out2.join("Connection_labeled.csv"));
    for row in &rows {
        let want = if row["frame"] == c.frame.to_string() { "Web Attack" } else { "normal" };
        assert_eq!(row["label"], want);
    }
    let (_, hello) = read_csv(&out2.join("TLSClientHello_labeled.csv"));
    assert!(hello.iter().any(|r| r["label"] == "Web Attack" && r["label_detail"] == "attacks:Web Attack"));
}

/// `-attempted`: attack-labelled TCP connections that carried no payload
/// or never completed a handshake get `<label> - Attempted`, and so do
/// their packets' records; the rule is written out here from Zeek's
/// conn_state definitions (docs/label.md), not taken from netcap-label.
#[test]
fn label_attempted_marks_connections_without_payload_or_handshake() {
    let dir = tempfile::tempdir().unwrap();
    let records = dir.path().join("records");
    capture(&testdata("pcaps/pcapplusplus-tls2.pcap"), &records, &[]);
    let connections: Vec<Connection> = records_of(&records);
    let first = connections.iter().map(|c| c.timestamp_ns).min().unwrap();
    let last = connections.iter().map(|c| c.last_timestamp_ns).max().unwrap();
    let schedule = dir.path().join("all.yaml");
    std::fs::write(
        &schedule,
        format!(
            "attacks:\n  - name: Everything\n    category: sweep\n    start: {}\n    end: {}\n    ips: [0.0.0.0/0, \"::/0\"]\n    protocol: tcp\n",
            eve_time(first).replace("+0000", "Z"),
            eve_time(last).replace("+0000", "Z")
        ),
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = run(&[
        "label",
        "-dir",
        records.to_str().unwrap(),
        "-out",
        out.to_str().unwrap(),
        "-attacks",
        schedule.to_str().unwrap(),
        "-attempted",
        "-quiet",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let attempted = |c: &Connection| {
        c.payload_bytes == 0 || matches!(c.conn_state.as_str(), "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR")
    };
    let (_, rows) = read_csv(&out.join("Connection_labeled.csv"));
    assert_eq!(rows.len(), connections.len());
    let mut label_by_id: HashMap<String, String> = HashMap::new();
    let mut counts = (0, 0);
    for (row, c) in rows.iter().zip(&connections) {
        assert_eq!(row["frame"], c.frame.to_string());
        let want = match (c.ip_protocol, attempted(c)) {
            (6, true) => "sweep - Attempted",
            (6, false) => "sweep",
            _ => "normal",
        };
        assert_eq!(row["label"], want, "{} -> {} {}", row["src_ip"], row["dst_ip"], row["conn_state"]);
        if c.ip_protocol == 6 {
            assert_eq!(row["label_detail"], "attacks:Everything");
            if attempted(c) { counts.0 += 1 } else { counts.1 += 1 }
        }
        label_by_id.insert(c.community_id.clone(), want.to_owned());
    }
    assert!(counts.0 >= 10 && counts.1 >= 100, "attempted {} and complete {}: capture changed", counts.0, counts.1);
    // Every TCP packet record carries its connection's label.
    let (_, tcp) = read_csv(&out.join("TCP_labeled.csv"));
    let mut attempted_packets = 0;
    for row in &tcp {
        let want = label_by_id.get(&row["community_id"]).map_or("normal", String::as_str);
        assert_eq!(row["label"], want, "TCP frame {}", row["frame"]);
        attempted_packets += usize::from(want == "sweep - Attempted");
    }
    assert!(attempted_packets >= counts.0);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("label-summary.json")).unwrap()).unwrap();
    assert_eq!(summary["attempted"], counts.0);

    // Deterministic: with 7451 packets the per-packet tables span two
    // chunks (4096 records each); one worker or several write the same
    // bytes in every file.
    assert!(tcp.len() > 4096, "{}", tcp.len());
    let names: Vec<std::ffi::OsString> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    for workers in ["1", "3"] {
        let again = dir.path().join(format!("out-workers-{workers}"));
        let output = run(&[
            "label",
            "-dir",
            records.to_str().unwrap(),
            "-out",
            again.to_str().unwrap(),
            "-attacks",
            schedule.to_str().unwrap(),
            "-attempted",
            "-quiet",
            "-workers",
            workers,
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        for name in &names {
            let (a, b) = (std::fs::read(out.join(name)).unwrap(), std::fs::read(again.join(name)).unwrap());
            assert!(a == b, "{name:?} differs with -workers {workers}");
        }
    }
}
