//! `netcap dump -features netwatcher`, `netcap train` and `netcap detect`
//! end to end (docs/detect.md).
//!
//! The features are checked against an independent computation from the
//! packets: the capture is read here with pcap-parser and etherparse, its
//! TCP and UDP packets grouped by 5-tuple, and NetWatcher's definitions
//! (src/flow_features.py: sample standard deviations, windows of ACK
//! segments scaled by the side's window-scale factor) applied, with
//! netcap's documented differences (docs/detect.md: RST segments are not
//! window samples, the initial window is the side's first segment's, the
//! client is the forward direction, inter-arrival times in arrival order).

use crate::util::{capture, run, stderr, testdata};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::Path;

/// One TCP or UDP packet as NetWatcher's parser takes it.
struct Pkt {
    ts_ns: i64,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    tcp: bool,
    payload: usize,
    flags: u16,
    window: u16,
    wscale: Option<u8>,
}

fn packets(pcap: &Path) -> Vec<Pkt> {
    use etherparse::{LaxNetSlice, LaxSlicedPacket, TcpOptionElement, TransportSlice};
    let data = std::fs::read(pcap).unwrap();
    let (mut rest, header) = pcap_parser::pcap::parse_pcap_header(&data).expect("a legacy pcap");
    assert_eq!(header.network.0, 1, "Ethernet captures only");
    let nanos = header.is_nanosecond_precision();
    let mut out = Vec::new();
    while !rest.is_empty() {
        let Ok((r, block)) = pcap_parser::pcap::parse_pcap_frame(rest) else { break };
        rest = r;
        let frac = i64::from(block.ts_usec) * if nanos { 1 } else { 1000 };
        let ts_ns = i64::from(block.ts_sec) * 1_000_000_000 + frac;
        // Lax: a packet whose IP length exceeds what was captured still counts
        // (with the payload that is there).
        let Ok(p) = LaxSlicedPacket::from_ethernet(block.data) else { continue };
        let (s, d): (IpAddr, IpAddr) = match &p.net {
            Some(LaxNetSlice::Ipv4(v4)) => (v4.header().source_addr().into(), v4.header().destination_addr().into()),
            Some(LaxNetSlice::Ipv6(v6)) => (v6.header().source_addr().into(), v6.header().destination_addr().into()),
            _ => continue,
        };
        match &p.transport {
            Some(TransportSlice::Tcp(t)) => {
                let flags = u16::from(t.fin())
                    | u16::from(t.syn()) << 1
                    | u16::from(t.rst()) << 2
                    | u16::from(t.psh()) << 3
                    | u16::from(t.ack()) << 4
                    | u16::from(t.urg()) << 5
                    | u16::from(t.ece()) << 6
                    | u16::from(t.cwr()) << 7;
                let wscale = t.options_iterator().find_map(|o| match o {
                    Ok(TcpOptionElement::WindowScale(s)) => Some(s),
                    _ => None,
                });
                out.push(Pkt {
                    ts_ns,
                    src: (s, t.source_port()),
                    dst: (d, t.destination_port()),
                    tcp: true,
                    payload: t.payload().len(),
                    flags,
                    window: t.window_size(),
                    wscale,
                });
            }
            Some(TransportSlice::Udp(u)) => out.push(Pkt {
                ts_ns,
                src: (s, u.source_port()),
                dst: (d, u.destination_port()),
                tcp: false,
                payload: u.payload().len(),
                flags: 0,
                window: 0,
                wscale: None,
            }),
            _ => {}
        }
    }
    out
}

/// Python's statistics.stdev (0 under two values, as NetWatcher has it).
fn stdev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
}

fn min_max(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    (v.iter().copied().fold(f64::INFINITY, f64::min), v.iter().copied().fold(f64::NEG_INFINITY, f64::max))
}

/// NetWatcher's 36 features of the packets of one connection whose client
/// is `client`.
fn expected(pkts: &[&Pkt], client: (IpAddr, u16)) -> Vec<f64> {
    // Arrival (file) order: netcap's gaps are from the latest time seen so
    // far, 0 where capture time went backwards, and the duration runs from
    // the first packet to the latest (NetWatcher sorts by time first; the
    // same for captures whose times only go forward).
    let sorted: Vec<&&Pkt> = pkts.iter().collect();
    let mut latest = sorted[0].ts_ns;
    let mut gaps = Vec::new();
    for p in &sorted[1..] {
        gaps.push((p.ts_ns - latest).max(0) as f64 / 1e9);
        latest = latest.max(p.ts_ns);
    }
    let sizes: Vec<f64> = sorted.iter().map(|p| p.payload as f64).collect();
    let nonzero: Vec<f64> = sizes.iter().copied().filter(|&s| s > 0.0).collect();
    let (smin, smax) = min_max(&sizes);
    let (gmin, gmax) = min_max(&gaps);
    let mut f = vec![
        (latest - sorted[0].ts_ns) as f64 / 1e9,
        sizes.len() as f64,
        sizes.iter().sum(),
        smin,
        smax,
        stdev(&sizes),
        min_max(&nonzero).0,
        if nonzero.is_empty() { 0.0 } else { nonzero.iter().sum::<f64>() / nonzero.len() as f64 },
        stdev(&nonzero),
        gmin,
        gmax,
        stdev(&gaps),
    ];
    let tcp = pkts[0].tcp;
    for bit in [1, 0, 2, 4, 3, 5, 6, 7] {
        f.push(if tcp { sorted.iter().filter(|p| p.flags & (1 << bit) != 0).count() as f64 } else { 0.0 });
    }
    for forward in [false, true] {
        if !tcp {
            f.extend([0.0; 8]);
            continue;
        }
        let side: Vec<&&&Pkt> = sorted.iter().filter(|p| (p.src == client) == forward).collect();
        let shift = side.iter().filter(|p| p.flags & 2 != 0).filter_map(|p| p.wscale).next_back();
        let factor = shift.map_or(1.0, |s| f64::from(1u32 << u32::from(s).min(14)));
        let windows: Vec<f64> = side
            .iter()
            .filter(|p| p.flags & 0x10 != 0 && p.flags & 0x04 == 0)
            .map(|p| f64::from(p.window) * factor)
            .collect();
        let (wmin, wmax) = min_max(&windows);
        let zero = windows.iter().filter(|&&w| w == 0.0).count();
        let updates = windows.windows(2).filter(|w| w[0] == 0.0 && w[1] != 0.0).count();
        f.extend([
            wmin,
            wmax,
            if windows.is_empty() { 0.0 } else { windows.iter().sum::<f64>() / windows.len() as f64 },
            stdev(&windows),
            factor,
            side.first().map_or(0.0, |p| f64::from(p.window)),
            zero as f64,
            updates as f64,
        ]);
    }
    f
}

fn dump_features(dir: &Path) -> Vec<Vec<String>> {
    let conn = dir.join("Connection.ncap.zst");
    let out = run(&["dump", "-read", conn.to_str().unwrap(), "-features", "netwatcher"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header.len(), 8 + 36);
    assert_eq!(&header[8..], &netcap_detect::FEATURE_NAMES[..]);
    lines.map(|l| l.split(',').map(str::to_string).collect()).collect()
}

#[test]
fn features_equal_an_independent_computation_from_the_packets() {
    let mut compared = 0;
    let mut scaled_sides = 0;
    for name in [
        "pcaps/pcapplusplus-tls2.pcap",
        "pcaps/pcapplusplus-many-protocols.pcap",
        "pcaps/pcapplusplus-example.pcap",
        "pcaps/arkime-modbus.pcap",
        "pcaps/zeek-modbusSmall.pcap",
        "pcaps/arkime-v6.pcap",
        "pcaps/zeek-tcp-reassembly.pcap",
        "pcaps/cidspec-tcp.pcap",
        "pcaps/cidspec-udp.pcap",
        "pcaps/zeek-tls-chrome-34-google.pcap",
        "pcaps/arkime-v6-http.pcap",
        "pcaps-ftp/zeek-ftp-bruteforce.pcap",
        "pcaps-ftp/zeek-ftp-ipv6.pcap",
        "pcaps-pop3/zeek-pop3.pcap",
    ] {
        let pcap = testdata(name);
        let tmp = tempfile::tempdir().unwrap();
        capture(&pcap, tmp.path(), &["-include", "Connection"]);
        let rows = dump_features(tmp.path());
        let pkts = packets(&pcap);
        let key = |a: (IpAddr, u16), b: (IpAddr, u16), tcp: bool| if a <= b { (a, b, tcp) } else { (b, a, tcp) };
        let mut groups: HashMap<_, Vec<&Pkt>> = HashMap::new();
        for p in &pkts {
            groups.entry(key(p.src, p.dst, p.tcp)).or_default().push(p);
        }
        let mut seen: HashMap<_, usize> = HashMap::new();
        let parsed: Vec<_> = rows
            .iter()
            .filter(|r| r[6] == "6" || r[6] == "17")
            .map(|r| {
                let src: (IpAddr, u16) = (r[2].parse().unwrap(), r[3].parse().unwrap());
                let dst: (IpAddr, u16) = (r[4].parse().unwrap(), r[5].parse().unwrap());
                let k = key(src, dst, r[6] == "6");
                *seen.entry(k).or_default() += 1;
                (k, src, r)
            })
            .collect();
        for (k, client, r) in parsed {
            // A 5-tuple reused by several connections is cut by netcap's
            // connection tracking, which this computation does not redo.
            if seen[&k] != 1 {
                continue;
            }
            let Some(group) = groups.get(&k) else { panic!("{name}: no packets for {k:?}") };
            let want = expected(group, client);
            let got: Vec<f64> = r[8..].iter().map(|v| v.parse().unwrap()).collect();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-9 * w.abs().max(1.0),
                    "{name} {k:?}: {} is {g}, computed {w}",
                    netcap_detect::FEATURE_NAMES[i]
                );
            }
            scaled_sides += usize::from(want[24] > 1.0) + usize::from(want[32] > 1.0);
            compared += 1;
        }
    }
    eprintln!("compared {compared} connections, {scaled_sides} sides with window scaling");
    assert!(compared >= 40, "compared {compared} connections");
    assert!(scaled_sides >= 10, "only {scaled_sides} sides with window scaling");
}

/// A labelled Connection table: the FTP brute force of
/// zeek-ftp-bruteforce.pcap (30 connections labelled "Brute Force" by an
/// attack schedule) and the benign connections of two other captures.
fn labelled_table(dir: &Path) -> std::path::PathBuf {
    let schedule = dir.join("schedule.yaml");
    std::fs::write(
        &schedule,
        "attacks:\n  - name: FTP brute force\n    category: Brute Force\n    start: 1389721000\n    end: 1389722000\n    \
         attackers: 192.168.56.1\n    victims: 192.168.56.101\n    ports: [21]\n",
    )
    .unwrap();
    let mut table = String::new();
    for (i, name) in
        ["pcaps-ftp/zeek-ftp-bruteforce.pcap", "pcaps/pcapplusplus-many-protocols.pcap", "pcaps/pcapplusplus-tls2.pcap"]
            .iter()
            .enumerate()
    {
        let records = dir.join(format!("records{i}"));
        let labelled = dir.join(format!("labelled{i}"));
        capture(&testdata(name), &records, &["-include", "Connection"]);
        let out = run(&[
            "label",
            "-dir",
            records.to_str().unwrap(),
            "-out",
            labelled.to_str().unwrap(),
            "-attacks",
            schedule.to_str().unwrap(),
            "-quiet",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(labelled.join("Connection_labeled.csv")).unwrap();
        let skip = if i == 0 { 0 } else { 1 };
        for line in text.lines().skip(skip) {
            table.push_str(line);
            table.push('\n');
        }
    }
    let path = dir.join("Connection_labeled.csv");
    std::fs::write(&path, table).unwrap();
    path
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn train_then_detect_on_a_capture_records_and_inside_capture() {
    let tmp = tempfile::tempdir().unwrap();
    let table = labelled_table(tmp.path());
    let model = tmp.path().join("model.json");
    // The default algorithm: perpetual's gradient-boosted trees.
    let out = run(&["train", "-read", table.to_str().unwrap(), "-model", model.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("trained gradient-boosted trees (perpetual, "), "{text}");
    assert!(text.contains("AUROC"), "{text}");
    assert!(text.contains("confusion matrix"), "{text}");
    assert!(text.contains("held out"), "{text}");
    let file: serde_json::Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
    assert_eq!(file["classifier"]["kind"], "gradient_boosting");
    assert_eq!(file["classifier"]["folds"], 5);
    assert_eq!(file["training"]["budget"], 0.5);
    // The same seed gives the same model file, whatever the thread count.
    let again = tmp.path().join("again.json");
    let out = run(&["train", "-read", table.to_str().unwrap(), "-model", again.to_str().unwrap(), "-threads", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&model).unwrap(), std::fs::read(&again).unwrap());

    // detect -read: an [ALERT] line per brute-force connection.
    let bruteforce = testdata("pcaps-ftp/zeek-ftp-bruteforce.pcap");
    let alerts_dir = tmp.path().join("alerts");
    let out = run(&[
        "detect",
        "-read",
        bruteforce.to_str().unwrap(),
        "-model",
        model.to_str().unwrap(),
        "-out",
        alerts_dir.to_str().unwrap(),
        "-quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout(&out);
    let alerts: Vec<&str> = lines.lines().collect();
    assert!(alerts.len() >= 27, "{lines}");
    for l in &alerts {
        assert!(l.contains(" [ALERT] 192.168.56.1:"), "{l}");
        assert!(l.contains(" -> 192.168.56.101:21 (TCP): "), "{l}");
        assert!(l.starts_with("2014-01-14 17:3"), "{l}");
    }
    let records: Vec<netcap_records::Alert> = crate::util::records(&alerts_dir, netcap_records::RecordType::Alert);
    assert_eq!(records.len(), alerts.len());
    let connections: Vec<netcap_records::Connection> =
        crate::util::records(&alerts_dir, netcap_records::RecordType::Connection);
    assert_eq!(connections.len(), 30);
    for a in &records {
        assert!(a.score >= 0.5 && a.score <= 1.0);
        assert_eq!(a.threshold, 0.5);
        assert_eq!(a.features.len(), 36);
        assert_eq!(a.model, "model.json (gradient_boosting)");
        let c = connections.iter().find(|c| c.community_id == a.community_id).expect("alert joins its connection");
        assert_eq!(a.connection_timestamp_ns, c.timestamp_ns);
        assert_eq!(a.features, netcap_detect::netwatcher_features(c).to_vec());
    }

    // detect -dir on the records gives the same lines; -output-filter all
    // adds [OK] lines; -events writes them to the rotating log.
    let events = tmp.path().join("events");
    let out = run(&[
        "detect",
        "-dir",
        alerts_dir.to_str().unwrap(),
        "-model",
        model.to_str().unwrap(),
        "-output-filter",
        "all",
        "-events",
        events.to_str().unwrap(),
        "-quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    let log = std::fs::read_to_string(events.join("detector_events.log")).unwrap();
    let log_alerts: Vec<&str> = log.lines().filter(|l| l.contains("[ALERT]")).collect();
    assert_eq!(log_alerts, alerts);
    assert_eq!(log.lines().count(), 30);

    // -threshold 1.01 is refused; -threshold 1 and -min-packets 100: nothing.
    let out =
        run(&["detect", "-dir", alerts_dir.to_str().unwrap(), "-model", model.to_str().unwrap(), "-threshold", "1.5"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let out = run(&[
        "detect",
        "-dir",
        alerts_dir.to_str().unwrap(),
        "-model",
        model.to_str().unwrap(),
        "-min-packets",
        "100",
    ]);
    assert!(out.status.success());
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("0 connections scored"), "{}", stderr(&out));

    // capture -model: the capture's records, Alert.ncap.zst and the lines.
    let cap = tmp.path().join("cap");
    let out = run(&[
        "capture",
        "-read",
        bruteforce.to_str().unwrap(),
        "-out",
        cap.to_str().unwrap(),
        "-model",
        model.to_str().unwrap(),
        "-quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), alerts);
    assert!(cap.join("TCP.ncap.zst").exists());
    let again: Vec<netcap_records::Alert> = crate::util::records(&cap, netcap_records::RecordType::Alert);
    assert_eq!(again, records);

    // -algorithm forest: netcap's random forest, with its own flags.
    let forest = tmp.path().join("forest.json");
    let out = run(&[
        "train",
        "-read",
        table.to_str().unwrap(),
        "-model",
        forest.to_str().unwrap(),
        "-algorithm",
        "forest",
        "-trees",
        "30",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("trained a random forest of 30 trees"), "{}", stdout(&out));
    let out = run(&["detect", "-read", bruteforce.to_str().unwrap(), "-model", forest.to_str().unwrap(), "-quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let forest_alerts = stdout(&out);
    assert!(forest_alerts.lines().count() >= 27, "{forest_alerts}");
    assert!(forest_alerts.lines().all(|l| l.contains(" [ALERT] 192.168.56.1:")), "{forest_alerts}");
}

#[test]
fn train_refuses_flags_of_the_other_algorithm() {
    let tmp = tempfile::tempdir().unwrap();
    let table = tmp.path().join("none.csv");
    let model = tmp.path().join("m.json");
    for (args, want) in [
        (vec!["-trees", "30"], "-trees goes with -algorithm forest"),
        (vec!["-algorithm", "boosting", "-max-depth", "3"], "-max-depth goes with -algorithm forest"),
        (vec!["-algorithm", "forest", "-budget", "1"], "-budget goes with -algorithm boosting"),
        (vec!["-algorithm", "xgboost"], "-algorithm takes boosting or forest"),
        (vec!["-budget", "0"], "-budget must be a positive number"),
        (vec!["-memory-limit=-1"], "-memory-limit must be a positive number"),
    ] {
        let mut all = vec!["train", "-read", table.to_str().unwrap(), "-model", model.to_str().unwrap()];
        all.extend(args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(1), "{all:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(want), "{all:?}: {}", stderr(&out));
        assert!(!model.exists());
    }
}

#[test]
fn bad_models_are_refused_before_any_packet_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    // The input does not exist: an error about the model shows the model
    // was checked first.
    let missing_input = tmp.path().join("no-such.pcap");
    let check = |model: &Path, want: &str| {
        for args in [
            vec!["detect", "-read", missing_input.to_str().unwrap(), "-model", model.to_str().unwrap()],
            vec!["capture", "-read", missing_input.to_str().unwrap(), "-model", model.to_str().unwrap(), "-out"],
        ] {
            let mut args = args;
            let out_dir = tmp.path().join("out");
            if args.last() == Some(&"-out") {
                args.push(out_dir.to_str().unwrap());
            }
            let out = run(&args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(want), "{args:?}: {err}");
            assert!(!err.contains("no-such.pcap"), "{err}");
        }
    };
    check(&tmp.path().join("absent.json"), "absent.json");
    let corrupt = tmp.path().join("corrupt.json");
    std::fs::write(&corrupt, b"\x28\xb5\x2f\xfd garbage").unwrap();
    check(&corrupt, "not a netcap model file");
    // A valid model with one feature name removed.
    let tree = r#"{"feature":[-1],"threshold":[0.0],"left":[0],"right":[0],"value":[0.5]}"#;
    let names: Vec<String> = netcap_detect::FEATURE_NAMES.iter().map(|n| format!("\"{n}\"")).collect();
    let model = |names: &[String], trees: &str| {
        format!(
            r#"{{"format":"netcap-flow-model","version":1,"feature_set":"netwatcher","features":[{}],"scaler":null,"threshold":0.5,"classifier":{{"kind":"random_forest","trees":[{trees}]}}}}"#,
            names.join(",")
        )
    };
    let short = tmp.path().join("short.json");
    std::fs::write(&short, model(&names[..35], tree)).unwrap();
    check(&short, "model takes 35 features; netcap computes 36");
    let shape = tmp.path().join("shape.json");
    std::fs::write(&shape, model(&names, r#"{"feature":[0],"threshold":[0.0],"left":[5],"right":[6],"value":[0.5]}"#))
        .unwrap();
    check(&shape, "tree 0: node 0 has child 5");
    let empty = tmp.path().join("empty.json");
    std::fs::write(&empty, model(&names, "")).unwrap();
    check(&empty, "the random forest has no trees");
    // Gradient-boosted trees: a child before its parent, a leaf without
    // its fold weights.
    let boosting = |trees: &str| {
        format!(
            r#"{{"format":"netcap-flow-model","version":1,"feature_set":"netwatcher","features":[{}],"scaler":null,"threshold":0.5,"classifier":{{"kind":"gradient_boosting","base_score":0.1,"folds":2,"trees":[{trees}]}}}}"#,
            names.join(",")
        )
    };
    let loop_tree = r#"{"split_feature":[3,-1,-1],"split_value":[0.5,0,0],"left":[1,0,0],"right":[2,0,0],"missing":[0,0,0],"leaf_weights":[[],[0.1,0.2],[0.3,0.4]]}"#;
    let boosted = tmp.path().join("boosted.json");
    std::fs::write(&boosted, boosting(loop_tree)).unwrap();
    check(&boosted, "tree 0: node 0 has child 0");
    let short_leaf =
        r#"{"split_feature":[-1],"split_value":[0],"left":[0],"right":[0],"missing":[0],"leaf_weights":[[0.1]]}"#;
    std::fs::write(&boosted, boosting(short_leaf)).unwrap();
    check(&boosted, "tree 0: leaf 0 has 1 weights, not 2");
    // A good one loads.
    let good_tree = r#"{"split_feature":[3,-1,-1],"split_value":[0.5,0,0],"left":[1,0,0],"right":[2,0,0],"missing":[2,0,0],"leaf_weights":[[],[0.1,0.2],[0.3,0.4]]}"#;
    std::fs::write(&boosted, boosting(good_tree)).unwrap();
    let out = run(&["detect", "-read", missing_input.to_str().unwrap(), "-model", boosted.to_str().unwrap()]);
    assert!(stderr(&out).contains("no-such.pcap"), "{}", stderr(&out));
    // And the good one works (no packets: the input is missing, so the
    // error is now about the input).
    let good = tmp.path().join("good.json");
    std::fs::write(&good, model(&names, tree)).unwrap();
    let out = run(&["detect", "-read", missing_input.to_str().unwrap(), "-model", good.to_str().unwrap()]);
    assert!(stderr(&out).contains("no-such.pcap"), "{}", stderr(&out));
}

#[test]
fn onnx_model_scores_a_capture_as_it_scores_its_records() {
    // The skl2onnx forest (testdata/detect/rf.onnx) scores a capture's
    // connections a writer frame at a time (capture -model) and 1024 records
    // at a time (-dir): the same lines, in the same order, and the scores of
    // its Alert records are those of single-row runs of the model.
    let tmp = tempfile::tempdir().unwrap();
    let model = testdata("detect/rf.onnx");
    let pcap = testdata("pcaps/pcapplusplus-many-protocols.pcap");
    let cap = tmp.path().join("cap");
    let out = run(&[
        "detect",
        "-read",
        pcap.to_str().unwrap(),
        "-model",
        model.to_str().unwrap(),
        "-output-filter",
        "all",
        "-min-packets",
        "1",
        "-threshold",
        "0",
        "-out",
        cap.to_str().unwrap(),
        "-quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout(&out);
    let connections: Vec<netcap_records::Connection> =
        crate::util::records(&cap, netcap_records::RecordType::Connection);
    assert!(connections.len() > 50, "{}", connections.len());
    assert_eq!(lines.lines().count(), connections.len());
    let out = run(&[
        "detect",
        "-dir",
        cap.to_str().unwrap(),
        "-model",
        model.to_str().unwrap(),
        "-output-filter",
        "all",
        "-min-packets",
        "1",
        "-threshold",
        "0",
        "-quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), lines);
    // Threshold 0: every connection an alert, each with its score.
    let alerts: Vec<netcap_records::Alert> = crate::util::records(&cap, netcap_records::RecordType::Alert);
    assert_eq!(alerts.len(), connections.len());
    let single = netcap_detect::FlowModel::load(&model).unwrap();
    for a in &alerts {
        let features: [f64; 36] = a.features.as_slice().try_into().unwrap();
        assert_eq!(a.score.to_bits(), single.score(&features).to_bits(), "{}", a.community_id);
        assert_eq!(a.model, "rf.onnx (onnx)");
    }
}
