//! `netcap agent` → `netcap collect`: every record arrives once, through
//! collector crashes, hostile clients, and NATS JetStream.

use crate::util::{netcap, run, stderr, testdata};
use netcap_records::{RecordReader, RecordType};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PCAPS: [&str; 3] = ["ndpi-1kxun.pcap", "pcapplusplus-many-protocols.pcap", "pcapplusplus-tls2.pcap"];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn gen_certs(dir: &Path, agents: &str) {
    let out = run(&["collect", "-gen-certs", dir.to_str().unwrap(), "-agents", agents, "-hosts", "localhost,127.0.0.1"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// A child process whose stderr is collected; killed when dropped.
struct Proc {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Proc {
    fn spawn(args: &[&str]) -> Proc {
        let mut child = netcap().args(args).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        Proc { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn wait_for_log(&self, text: &str, within: Duration) {
        let until = Instant::now() + within;
        while !self.log().contains(text) {
            assert!(Instant::now() < until, "no {text:?} within {within:?}; log:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for exit (panics after `within`), returns success.
    fn wait(&mut self, within: Duration) -> bool {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the stderr thread catch up.
                std::thread::sleep(Duration::from_millis(100));
                return status.success();
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("process did not end within {within:?}; log:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn terminate(&mut self) -> bool {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        self.wait(Duration::from_secs(20))
    }

    fn sigkill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collector(port: u16, out: &Path, certs: &Path, extra: &[&str]) -> Proc {
    let listen = format!("127.0.0.1:{port}");
    let mut args = vec![
        "collect",
        "-listen",
        &listen,
        "-out",
        out.to_str().unwrap(),
        "-certs",
        certs.to_str().unwrap(),
        "-rotate",
        "150KB",
    ];
    args.extend_from_slice(extra);
    let p = Proc::spawn(&args);
    p.wait_for_log("listening on", Duration::from_secs(20));
    p
}

/// Encoded records per type, in file order, from every file of each type
/// in `dir` (rotated files by number, then the live file).
fn records_in(dir: &Path) -> BTreeMap<String, Vec<Vec<u8>>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.to_string_lossy().ends_with(".ncap.zst"));
    // "TCP.000001.ncap.zst" < ... < "TCP.ncap.zst" ('0'-'9' sort before 'n').
    files.sort();
    let mut out: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for file in files {
        let mut reader = RecordReader::open(&file).unwrap_or_else(|e| panic!("{e}"));
        let name = reader.record_type().name().to_string();
        let records = out.entry(name).or_default();
        loop {
            match reader.next_raw() {
                Ok(Some(record)) => records.push(record.to_vec()),
                Ok(None) => break,
                Err(e) => panic!("{}: {e}", file.display()),
            }
        }
    }
    out
}

fn expected(pcap: &Path, tmp: &Path) -> BTreeMap<String, Vec<Vec<u8>>> {
    let dir = tmp.join(format!("expected-{}", pcap.file_name().unwrap().to_string_lossy()));
    crate::util::capture(pcap, &dir, &[]);
    records_in(&dir)
}

fn total(records: &BTreeMap<String, Vec<Vec<u8>>>) -> usize {
    records.values().map(Vec::len).sum()
}

fn agent(pcap: &Path, port: u16, certs: &Path, name: &str, spool: &Path, rate: usize) -> Proc {
    Proc::spawn(&[
        "agent",
        "-read",
        pcap.to_str().unwrap(),
        "-addr",
        &format!("127.0.0.1:{port}"),
        "-server-name",
        "localhost",
        "-certs",
        certs.to_str().unwrap(),
        "-name",
        name,
        "-spool-dir",
        spool.to_str().unwrap(),
        "-rate",
        &rate.to_string(),
        "-quiet",
    ])
}

#[test]
fn three_agents_through_two_collector_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    gen_certs(&certs, "a0,a1,a2");
    let out = tmp.path().join("collected");
    let port = free_port();
    let pcaps: Vec<PathBuf> = PCAPS.iter().map(|p| testdata(&format!("pcaps/{p}"))).collect();
    let wanted: Vec<_> = pcaps.iter().map(|p| expected(p, tmp.path())).collect();

    let mut collect = collector(port, &out, &certs, &[]);
    // Each replay takes about 5 s, so both crashes land mid-stream.
    let mut agents: Vec<Proc> = pcaps
        .iter()
        .enumerate()
        .map(|(i, pcap)| {
            let spool = tmp.path().join(format!("spool{i}"));
            agent(pcap, port, &certs, &format!("a{i}"), &spool, total(&wanted[i]) / 5 + 1)
        })
        .collect();
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(1500));
        collect.sigkill();
        std::thread::sleep(Duration::from_millis(400));
        collect = collector(port, &out, &certs, &[]);
    }
    for (i, agent) in agents.iter_mut().enumerate() {
        assert!(agent.wait(Duration::from_secs(60)), "agent a{i} failed:\n{}", agent.log());
    }
    assert!(collect.terminate(), "collector:\n{}", collect.log());
    let log = collect.log();
    for (i, want) in wanted.iter().enumerate() {
        let got = records_in(&out.join(format!("a{i}")));
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "record types of a{i}");
        for (name, records) in want {
            assert_eq!(got[name].len(), records.len(), "{name} records of a{i} (collector log:\n{log})");
            assert!(got[name] == *records, "{name} records of a{i} differ from capture's");
        }
    }
    // Rotation happened (150 KB files), and files of a killed collector
    // were recovered into rotated files: no live file is left.
    let a2: Vec<_> = std::fs::read_dir(out.join("a2")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(a2.iter().any(|n| n.to_string_lossy().ends_with(".000002.ncap.zst")), "{a2:?}");
    assert!(!a2.iter().any(|n| n.to_string_lossy() == "TCP.ncap.zst"), "{a2:?}");
}

/// A TLS client that presents `client` (cert, key) and trusts `ca`.
fn tls_client(ca: &Path, client: Option<(&Path, &Path)>, port: u16) -> Result<Vec<u8>, String> {
    use rustls::pki_types::ServerName;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = {
        let mut roots = rustls::RootCertStore::empty();
        for cert in netcap_wire::tls::load_certs(ca).unwrap() {
            roots.add(cert).unwrap();
        }
        roots
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match client {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                netcap_wire::tls::load_certs(cert).unwrap(),
                netcap_wire::tls::load_key(key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    let conn = rustls::ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(&netcap_wire::hello()).map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    match tls.read_to_end(&mut reply) {
        Ok(_) => Ok(reply),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn strangers_and_garbage_are_refused_while_an_agent_streams() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    let other = tmp.path().join("other-ca");
    gen_certs(&certs, "a0,a1");
    gen_certs(&other, "a0");
    let out = tmp.path().join("collected");
    let port = free_port();
    let pcap = testdata("pcaps/ndpi-1kxun.pcap");
    let want = expected(&pcap, tmp.path());
    let collect = collector(port, &out, &certs, &[]);
    let mut legit = agent(&pcap, port, &certs, "a0", &tmp.path().join("spool"), total(&want) / 4 + 1);
    std::thread::sleep(Duration::from_millis(500));

    // 1. Random bytes instead of a TLS handshake.
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let _ = raw.write_all(&noise);
    let mut sink = Vec::new();
    let _ = raw.read_to_end(&mut sink);
    // 2. TLS without a client certificate.
    assert!(tls_client(&certs.join("ca.pem"), None, port).is_err());
    // 3. A certificate from another CA, even one naming a real agent.
    let stranger = tls_client(&certs.join("ca.pem"), Some((&other.join("a0.pem"), &other.join("a0.key"))), port);
    assert!(stranger.is_err(), "{stranger:?}");
    // 4. A valid certificate, then an oversized frame: closed.
    let oversized = raw_session(&certs, "a1", port, &[0xff, 0xff, 0xff, 0xff]);
    assert!(oversized.contains("exceeds"), "{oversized}");
    // 5. A batch whose records do not decode: rejected, not stored.
    let header = prost::Message::encode_to_vec(&netcap_records::Header {
        record_type: RecordType::Tcp as i32,
        ..Default::default()
    });
    let frame = zstd::bulk::compress(&[5, 0xff, 0xff, 0xff, 0xff, 0x0f], 1).unwrap();
    let body = netcap_wire::batch_body(&[9; 16], 0, RecordType::Tcp, 1, &header, &frame);
    let mut framed = (body.len() as u32).to_be_bytes().to_vec();
    framed.extend_from_slice(&body);
    let rejected = raw_session(&certs, "a1", port, &framed);
    assert!(rejected.contains("does not decode"), "{rejected}");

    assert!(legit.wait(Duration::from_secs(60)), "{}", legit.log());
    let mut collect = collect;
    assert!(collect.terminate());
    let log = collect.log();
    let got = records_in(&out.join("a0"));
    for (name, records) in &want {
        assert!(got[name] == *records, "{name} records differ");
    }
    assert!(!out.join("a1").join("TCP.000001.ncap.zst").exists(), "a rejected batch was stored");
    assert!(log.contains("3 refused at TLS"), "{log}");
    assert!(log.contains("1 batches rejected"), "{log}");
}

/// Connects with a valid certificate of `agent`, says hello, sends `bytes`,
/// and returns every reply message as text (errors and rejections).
fn raw_session(certs: &Path, agent: &str, port: u16, bytes: &[u8]) -> String {
    let files = netcap_wire::tls::TlsFiles::in_dir(certs, agent);
    let config = netcap_wire::tls::client_config(&files).unwrap();
    let conn =
        rustls::ClientConnection::new(config, rustls::pki_types::ServerName::try_from("localhost").unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(&netcap_wire::hello()).unwrap();
    tls.write_all(bytes).unwrap();
    tls.flush().unwrap();
    let mut replies = String::new();
    let mut len = [0u8; 4];
    while tls.read_exact(&mut len).is_ok() {
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        if tls.read_exact(&mut body).is_err() {
            break;
        }
        replies.push_str(&format!("{:?}\n", netcap_wire::Message::decode(&body)));
        if replies.contains("Rejected") {
            break;
        }
    }
    replies
}

fn nats_server() -> Option<PathBuf> {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

#[test]
fn three_agents_through_nats_jetstream_and_two_collectors() {
    let Some(server) = nats_server() else {
        eprintln!("\n\n*** SKIPPED: nats-server is not installed (scripts/deps installs it) ***\n\n");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let nats_port = free_port();
    let mut nats = Command::new(server)
        .args(["-js", "-a", "127.0.0.1", "-p", &nats_port.to_string(), "-sd"])
        .arg(tmp.path().join("jetstream"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", nats_port)).is_err() {
        assert!(Instant::now() < until, "nats-server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    let url = format!("nats://127.0.0.1:{nats_port}");
    let certs = tmp.path().join("certs");
    gen_certs(&certs, "a0,a1,a2");
    let pcaps: Vec<PathBuf> = PCAPS.iter().map(|p| testdata(&format!("pcaps/{p}"))).collect();
    let wanted: Vec<_> = pcaps.iter().map(|p| expected(p, tmp.path())).collect();

    // Two collectors writing files from the stream (a consumer group)...
    let outs = [tmp.path().join("out1"), tmp.path().join("out2")];
    let mut group: Vec<Proc> = outs
        .iter()
        .map(|out| {
            let p = Proc::spawn(&["collect", "-from-nats", &url, "-out", out.to_str().unwrap()]);
            p.wait_for_log("consuming", Duration::from_secs(20));
            p
        })
        .collect();
    // ...fed by a TLS collector that publishes (killed and restarted once)
    // for agents a0 and a1, and by agent a2 publishing directly.
    let port = free_port();
    let mut front = collector(port, &tmp.path().join("unused"), &certs, &["-nats", &url]);
    let mut agents: Vec<Proc> = (0..2)
        .map(|i| {
            let spool = tmp.path().join(format!("spool{i}"));
            agent(&pcaps[i], port, &certs, &format!("a{i}"), &spool, total(&wanted[i]) / 4 + 1)
        })
        .collect();
    agents.push(Proc::spawn(&[
        "agent",
        "-read",
        pcaps[2].to_str().unwrap(),
        "-nats",
        &url,
        "-name",
        "a2",
        "-quiet",
    ]));
    std::thread::sleep(Duration::from_millis(1500));
    front.sigkill();
    std::thread::sleep(Duration::from_millis(300));
    let mut front = collector(port, &tmp.path().join("unused"), &certs, &["-nats", &url]);
    for (i, agent) in agents.iter_mut().enumerate() {
        assert!(agent.wait(Duration::from_secs(60)), "agent a{i} failed:\n{}", agent.log());
    }
    assert!(front.terminate());
    // Wait until the group has written everything (at most 30 s).
    let want_total: usize = wanted.iter().map(total).sum();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let got: usize = (0..3)
            .map(|i| outs.iter().map(|o| live_count(&o.join(format!("a{i}")))).sum::<usize>())
            .sum();
        if got >= want_total || Instant::now() > until {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    for p in &mut group {
        assert!(p.terminate(), "{}", p.log());
    }
    for (i, want) in wanted.iter().enumerate() {
        // Each batch went to one collector of the group: merge both.
        let mut got: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
        for out in &outs {
            for (name, records) in records_in(&out.join(format!("a{i}"))) {
                got.entry(name).or_default().extend(records);
            }
        }
        assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "record types of a{i}");
        for (name, records) in want {
            let mut expect = records.clone();
            let mut have = got[name].clone();
            expect.sort();
            have.sort();
            assert_eq!(have.len(), expect.len(), "{name} records of a{i}");
            assert!(have == expect, "{name} records of a{i} differ from capture's");
        }
    }
    let _ = nats.kill();
    let _ = nats.wait();
}

/// Records readable in `dir` now, live files included (their unfinished
/// tails are expected).
fn live_count(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    let mut n = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if !path.to_string_lossy().ends_with(".ncap.zst") {
            continue;
        }
        let Ok(mut reader) = RecordReader::open(&path) else { continue };
        while let Ok(Some(_)) = reader.next_raw() {
            n += 1;
        }
    }
    n
}
