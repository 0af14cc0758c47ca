//! `netcap agent` → `netcap collect`: every record arrives once, through
//! collector crashes, hostile clients, and NATS JetStream.
//!
//! Each agent replays a capture of ../shared/pcaps/mixed (kept in
//! testdata/pcaps), repeated a few times (util::repeated_pcap) so that it
//! makes dozens of batches and the collector crashes land while batches are
//! in flight; the expected records are what `netcap capture` writes for the
//! same file.

use crate::util::{netcap, repeated_pcap, run, stderr, testdata};
use netcap_records::{Header, RecordReader, RecordType};
use prost_reflect::DynamicMessage;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PCAPS: [&str; 3] = ["pcapplusplus-example.pcap", "pcapplusplus-many-protocols.pcap", "pcapplusplus-tls2.pcap"];
/// Copies of each capture in an agent's input.
const COPIES: usize = 6;
/// Seconds an agent's replay takes (paced with -rate).
const REPLAY_SECONDS: usize = 5;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn gen_certs(dir: &Path, agents: &str) {
    let out =
        run(&["collect", "-gen-certs", dir.to_str().unwrap(), "-agents", agents, "-hosts", "localhost,127.0.0.1"]);
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
        self.wait_status(within).success()
    }

    /// Waits for exit (panics after `within`), returns the status.
    fn wait_status(&mut self, within: Duration) -> std::process::ExitStatus {
        let until = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the stderr thread catch up.
                std::thread::sleep(Duration::from_millis(100));
                return status;
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
        self.wait(Duration::from_secs(30))
    }

    /// SIGKILL; returns the log so far.
    fn sigkill(&mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(50));
        self.log()
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
    let mut args =
        vec!["collect", "-listen", &listen, "-out", out.to_str().unwrap(), "-certs", certs.to_str().unwrap()];
    args.extend_from_slice(&["-rotate", "150KB"]);
    args.extend_from_slice(extra);
    let p = Proc::spawn(&args);
    p.wait_for_log("listening on", Duration::from_secs(20));
    p
}

/// One record type's files in a directory: their headers, and the encoded
/// records in file order (rotated files by number, then the live file).
#[derive(Default, Clone)]
struct TypeFiles {
    headers: Vec<Header>,
    records: Vec<Vec<u8>>,
}

fn records_in(dir: &Path) -> BTreeMap<String, TypeFiles> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    files.retain(|p| p.to_string_lossy().ends_with(".ncap.zst"));
    // "TCP.000001.ncap.zst" < ... < "TCP.ncap.zst" ('0'-'9' sort before 'n').
    files.sort();
    let mut out: BTreeMap<String, TypeFiles> = BTreeMap::new();
    for file in files {
        let mut reader = RecordReader::open(&file).unwrap_or_else(|e| panic!("{e}"));
        let entry = out.entry(reader.record_type().name().to_string()).or_default();
        entry.headers.push(reader.header().clone());
        loop {
            match reader.next_raw() {
                Ok(Some(record)) => entry.records.push(record.to_vec()),
                Ok(None) => break,
                Err(e) => panic!("{}: {e}", file.display()),
            }
        }
    }
    out
}

/// The agents' inputs: each capture repeated [`COPIES`] times.
fn inputs(tmp: &Path) -> Vec<PathBuf> {
    PCAPS
        .iter()
        .map(|name| {
            let path = tmp.join(format!("x{COPIES}-{name}"));
            repeated_pcap(&testdata(&format!("pcaps/{name}")), COPIES, &path);
            path
        })
        .collect()
}

fn expected(pcap: &Path, tmp: &Path) -> BTreeMap<String, TypeFiles> {
    let dir = tmp.join(format!("expected-{}", pcap.file_name().unwrap().to_string_lossy()));
    crate::util::capture(pcap, &dir, &[]);
    records_in(&dir)
}

fn total(records: &BTreeMap<String, TypeFiles>) -> usize {
    records.values().map(|t| t.records.len()).sum()
}

fn decoded(name: &str, records: &[Vec<u8>]) -> Vec<DynamicMessage> {
    let descriptor = RecordType::from_name(name).and_then(|t| t.descriptor()).unwrap();
    records.iter().map(|r| DynamicMessage::decode(descriptor.clone(), r.as_slice()).unwrap()).collect()
}

/// Asserts that `got` holds exactly the records of `want`, type by type:
/// same count, same decoded records, in the same order unless `any_order`;
/// and that every file's header is capture's, creation time aside.
fn assert_same_records(
    who: &str,
    got: &BTreeMap<String, TypeFiles>,
    want: &BTreeMap<String, TypeFiles>,
    any_order: bool,
) {
    assert_eq!(got.keys().collect::<Vec<_>>(), want.keys().collect::<Vec<_>>(), "record types of {who}");
    for (name, want) in want {
        let got = &got[name];
        assert_eq!(got.records.len(), want.records.len(), "{name} records of {who}");
        let (mut have, mut expect) = (got.records.clone(), want.records.clone());
        if any_order {
            have.sort();
            expect.sort();
        }
        let (have, expect) = (decoded(name, &have), decoded(name, &expect));
        if let Some(i) = (0..have.len()).find(|&i| have[i] != expect[i]) {
            panic!("{name} record {i} of {who} differs from capture's:\n got  {:?}\n want {:?}", have[i], expect[i]);
        }
        let reference = Header { created_ns: 0, ..want.headers[0].clone() };
        for header in &got.headers {
            assert_eq!(Header { created_ns: 0, ..header.clone() }, reference, "{name} header of {who}");
        }
    }
}

fn agent(pcap: &Path, port: u16, certs: &Path, name: &str, spool: &Path, rate: usize) -> Proc {
    agent_with(pcap, port, certs, name, spool, &["-rate", &rate.to_string(), "-quiet"])
}

/// Agent `name` reading `pcap` into the collector on `port`, spooling to
/// `spool`, with `extra` flags.
fn agent_with(pcap: &Path, port: u16, certs: &Path, name: &str, spool: &Path, extra: &[&str]) -> Proc {
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec![
        "agent",
        "-read",
        pcap.to_str().unwrap(),
        "-addr",
        &addr,
        "-server-name",
        "localhost",
        "-certs",
        certs.to_str().unwrap(),
        "-name",
        name,
        "-spool-dir",
        spool.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    Proc::spawn(&args)
}

#[test]
fn three_agents_through_two_collector_crashes() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    gen_certs(&certs, "a0,a1,a2");
    let out = tmp.path().join("collected");
    let port = free_port();
    let pcaps = inputs(tmp.path());
    let wanted: Vec<_> = pcaps.iter().map(|p| expected(p, tmp.path())).collect();

    let mut collect = collector(port, &out, &certs, &[]);
    let mut agents: Vec<Proc> = pcaps
        .iter()
        .enumerate()
        .map(|(i, pcap)| {
            let spool = tmp.path().join(format!("spool{i}"));
            agent(pcap, port, &certs, &format!("a{i}"), &spool, total(&wanted[i]) / REPLAY_SECONDS + 1)
        })
        .collect();
    // Both crashes land mid-replay: SIGKILL, then a new collector on the
    // same directory while the agents keep capturing and retrying.
    let mut logs = String::new();
    for _ in 0..2 {
        std::thread::sleep(Duration::from_millis(1500));
        logs += &collect.sigkill();
        std::thread::sleep(Duration::from_millis(300));
        collect = collector(port, &out, &certs, &[]);
    }
    for (i, agent) in agents.iter_mut().enumerate() {
        assert!(agent.wait(Duration::from_secs(120)), "agent a{i} failed:\n{}", agent.log());
        let log = agent.log();
        assert!(log.matches("connected to collector").count() >= 2, "a{i} never reconnected:\n{log}");
    }
    assert!(collect.terminate(), "collector:\n{}", collect.log());
    logs += &collect.log();
    for (i, want) in wanted.iter().enumerate() {
        let got = records_in(&out.join(format!("a{i}")));
        assert_same_records(&format!("a{i} (collector logs:\n{logs})"), &got, want, false);
    }
    // Rotation happened (150 KB files), and the files of the killed
    // collectors were recovered into rotated files: no live file is left.
    let a2: Vec<_> = std::fs::read_dir(out.join("a2")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(a2.iter().any(|n| n.to_string_lossy().ends_with(".000002.ncap.zst")), "{a2:?}");
    assert!(!a2.iter().any(|n| n.to_string_lossy() == "TCP.ncap.zst"), "{a2:?}");
}

/// A TLS client that presents `client` (cert, key) and trusts `ca`; says
/// hello and returns what the collector sends back, or the error.
fn tls_client(ca: &Path, client: Option<(&Path, &Path)>, port: u16) -> Result<Vec<u8>, String> {
    use rustls::pki_types::ServerName;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for cert in netcap_wire::tls::load_certs(ca).unwrap() {
        roots.add(cert).unwrap();
    }
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

fn framed(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(body);
    out
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
    let pcap = &inputs(tmp.path())[2];
    let want = expected(pcap, tmp.path());
    let mut collect = collector(port, &out, &certs, &[]);
    let mut legit = agent(pcap, port, &certs, "a0", &tmp.path().join("spool"), total(&want) / REPLAY_SECONDS + 1);
    legit.wait_for_log("connected to collector", Duration::from_secs(20));

    // 1. Random bytes instead of a TLS handshake.
    let mut raw = TcpStream::connect(("127.0.0.1", port)).unwrap();
    raw.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
    let _ = raw.write_all(&noise);
    let mut sink = Vec::new();
    let _ = raw.read_to_end(&mut sink);
    // 2. TLS without a client certificate.
    let anonymous = tls_client(&certs.join("ca.pem"), None, port);
    assert!(anonymous.is_err(), "{anonymous:?}");
    // 3. A certificate from another CA, even one naming a real agent.
    let stranger = tls_client(&certs.join("ca.pem"), Some((&other.join("a0.pem"), &other.join("a0.key"))), port);
    assert!(stranger.is_err(), "{stranger:?}");
    // 4. A valid certificate, then an oversized frame: closed.
    let oversized = raw_session(&certs, "a1", port, &[0xff, 0xff, 0xff, 0xff]);
    assert!(oversized.contains("exceeds"), "{oversized}");
    // 5. A valid certificate, then a frame of garbage: closed.
    let garbage = raw_session(&certs, "a1", port, &framed(&noise[..100]));
    assert!(garbage.contains("Error"), "{garbage}");
    // 6. A batch whose records do not decode: rejected, not stored.
    let header = prost::Message::encode_to_vec(&Header { record_type: RecordType::Tcp as i32, ..Default::default() });
    let frame = zstd::bulk::compress(&[5, 0xff, 0xff, 0xff, 0xff, 0x0f], 1).unwrap();
    let body = netcap_wire::batch_body(&[9; 16], 0, RecordType::Tcp, 1, &header, &frame);
    let rejected = raw_session(&certs, "a1", port, &framed(&body));
    assert!(rejected.contains("does not decode"), "{rejected}");

    assert!(legit.wait(Duration::from_secs(120)), "{}", legit.log());
    let agent_log = legit.log();
    assert_eq!(agent_log.matches("connected to collector").count(), 1, "the agent's stream was cut:\n{agent_log}");
    assert!(collect.terminate());
    let log = collect.log();
    assert_same_records("a0", &records_in(&out.join("a0")), &want, false);
    assert!(records_in(&out.join("a1")).is_empty(), "a rejected batch was stored");
    assert!(log.contains("3 refused at TLS"), "{log}");
    assert!(log.contains("1 batches rejected"), "{log}");
    assert!(log.contains("2 closed for protocol errors"), "{log}");
}

/// Sends `bodies` (batch messages) on one connection as agent `agent` and
/// waits for the acknowledgement of the last.
fn send_batches(certs: &Path, agent: &str, port: u16, bodies: &[Vec<u8>]) {
    let files = netcap_wire::tls::TlsFiles::in_dir(certs, agent);
    let config = netcap_wire::tls::client_config(&files).unwrap();
    let conn =
        rustls::ClientConnection::new(config, rustls::pki_types::ServerName::try_from("localhost").unwrap()).unwrap();
    let tcp = TcpStream::connect(("127.0.0.1", port)).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(&netcap_wire::hello()).unwrap();
    for body in bodies {
        tls.write_all(&framed(body)).unwrap();
    }
    tls.flush().unwrap();
    let last = netcap_wire::batch_position(bodies.last().unwrap()).unwrap();
    let mut len = [0u8; 4];
    loop {
        tls.read_exact(&mut len).expect("the collector acknowledges");
        let mut body = vec![0u8; u32::from_be_bytes(len) as usize];
        tls.read_exact(&mut body).unwrap();
        match netcap_wire::Message::decode(&body).unwrap() {
            netcap_wire::Message::Ack { session, seq } if (session, seq) == last => return,
            netcap_wire::Message::Ack { .. } | netcap_wire::Message::Welcome { .. } => {}
            other => panic!("unexpected reply {other:?}"),
        }
    }
}

#[test]
fn batches_resent_after_a_collector_kill_are_stored_once() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    gen_certs(&certs, "a1");
    let out = tmp.path().join("collected");
    let port = free_port();
    // Capture's TCP records of one capture, cut into six batches.
    let want = expected(&testdata("pcaps/pcapplusplus-tls2.pcap"), tmp.path());
    let tcp = &want["TCP"];
    let header = prost::Message::encode_to_vec(&tcp.headers[0]);
    let session = [3u8; 16];
    let bodies: Vec<Vec<u8>> = tcp
        .records
        .chunks(tcp.records.len().div_ceil(6))
        .enumerate()
        .map(|(seq, records)| {
            let mut delimited = Vec::new();
            for record in records {
                prost::encoding::encode_varint(record.len() as u64, &mut delimited);
                delimited.extend_from_slice(record);
            }
            let frame = zstd::bulk::compress(&delimited, 1).unwrap();
            netcap_wire::batch_body(&session, seq as u64, RecordType::Tcp, records.len() as u64, &header, &frame)
        })
        .collect();
    assert_eq!(bodies.len(), 6);

    let mut collect = collector(port, &out, &certs, &[]);
    send_batches(&certs, "a1", port, &bodies[..4]);
    let mut logs = collect.sigkill();
    let mut collect = collector(port, &out, &certs, &[]);
    // As an agent does after reconnecting: everything from the oldest batch
    // it is not sure about.
    send_batches(&certs, "a1", port, &bodies[2..]);
    assert!(collect.terminate());
    logs += &collect.log();
    let only_tcp = BTreeMap::from([("TCP".to_string(), tcp.clone())]);
    assert_same_records(&format!("a1 (collector logs:\n{logs})"), &records_in(&out.join("a1")), &only_tcp, false);
    assert!(logs.contains("2 duplicate batches ignored"), "{logs}");
}

/// nats-server (Debian installs it in /usr/sbin; scripts/deps installs it).
fn nats_server() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("nats-server"))
        .find(|p| p.is_file())
        // CI installs it: a missing server is a failure, not a skip.
        .expect("nats-server is not installed: run scripts/deps (apt-get install nats-server)")
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

#[test]
fn three_agents_through_nats_jetstream_and_two_collectors() {
    let server = nats_server();
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
    let pcaps = inputs(tmp.path());
    let wanted: Vec<_> = pcaps.iter().map(|p| expected(p, tmp.path())).collect();

    // Two collectors writing files from the stream (a consumer group); a
    // message one of them took and did not acknowledge goes to the other
    // after 3 s.
    let outs = [tmp.path().join("out0"), tmp.path().join("out1")];
    let group_member = |out: &Path| {
        let p = Proc::spawn(&[
            "collect",
            "-from-nats",
            &url,
            "-out",
            out.to_str().unwrap(),
            "-rotate",
            "150KB",
            "-nats-ack-wait",
            "3s",
        ]);
        p.wait_for_log("consuming", Duration::from_secs(20));
        p
    };
    let mut group: Vec<Proc> = outs.iter().map(|out| group_member(out)).collect();
    // ...fed by a TLS collector that publishes (killed and restarted once)
    // for agents a0 and a1, and by agent a2 publishing directly.
    let port = free_port();
    let front_out = tmp.path().join("front");
    let mut front = collector(port, &front_out, &certs, &["-nats", &url]);
    let mut agents: Vec<Proc> = (0..2)
        .map(|i| {
            let spool = tmp.path().join(format!("spool{i}"));
            agent(&pcaps[i], port, &certs, &format!("a{i}"), &spool, total(&wanted[i]) / REPLAY_SECONDS + 1)
        })
        .collect();
    let rate = (total(&wanted[2]) / REPLAY_SECONDS + 1).to_string();
    let direct = ["agent", "-read", pcaps[2].to_str().unwrap(), "-nats", &url, "-name", "a2", "-rate", &rate];
    agents.push(Proc::spawn(&direct));
    let mut logs = String::new();
    std::thread::sleep(Duration::from_millis(1500));
    logs += &front.sigkill();
    std::thread::sleep(Duration::from_millis(300));
    let mut front = collector(port, &front_out, &certs, &["-nats", &url]);
    std::thread::sleep(Duration::from_millis(700));
    logs += &group[0].sigkill();
    std::thread::sleep(Duration::from_millis(500));
    group[0] = group_member(&outs[0]);
    for (i, agent) in agents.iter_mut().enumerate() {
        assert!(agent.wait(Duration::from_secs(120)), "agent a{i} failed:\n{}", agent.log());
    }
    assert!(front.terminate(), "{}", front.log());
    // Wait until the group has written everything, then a little longer
    // for a late duplicate to show.
    let want_total: usize = wanted.iter().map(total).sum();
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let got: usize = (0..3).map(|i| outs.iter().map(|o| live_count(&o.join(format!("a{i}")))).sum::<usize>()).sum();
        if got >= want_total || Instant::now() > until {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(4));
    for p in &mut group {
        assert!(p.terminate(), "{}", p.log());
        logs += &p.log();
    }
    for (i, want) in wanted.iter().enumerate() {
        // Each batch went to one collector of the group: merge both.
        let mut got: BTreeMap<String, TypeFiles> = BTreeMap::new();
        for out in &outs {
            for (name, files) in records_in(&out.join(format!("a{i}"))) {
                let entry = got.entry(name).or_default();
                entry.headers.extend(files.headers);
                entry.records.extend(files.records);
            }
        }
        assert_same_records(&format!("a{i} (collector logs:\n{logs})"), &got, want, true);
    }
    let _ = nats.kill();
    let _ = nats.wait();
}

// ---- The agent's spool, end to end (issue 7): memory bound, spool files,
// ---- drops, pauses, and a spool left by an earlier run.

/// The spool tests' input: one capture repeated [`COPIES`] times (dozens of
/// batches of a few KiB to ~100 KiB).
fn spool_input(tmp: &Path) -> PathBuf {
    let path = tmp.join("spool-input.pcap");
    repeated_pcap(&testdata("pcaps/pcapplusplus-tls2.pcap"), COPIES, &path);
    path
}

/// What every spool test starts from: agent `a0`'s certificates, the
/// collector's output and the spool directories, a free port, the input and
/// the records `capture` makes of it. `tmp` holds them all.
struct SpoolCase {
    tmp: tempfile::TempDir,
    certs: PathBuf,
    out: PathBuf,
    spool: PathBuf,
    port: u16,
    pcap: PathBuf,
    want: BTreeMap<String, TypeFiles>,
}

fn spool_case() -> SpoolCase {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    gen_certs(&certs, "a0");
    let pcap = spool_input(tmp.path());
    let want = expected(&pcap, tmp.path());
    SpoolCase {
        certs,
        out: tmp.path().join("collected"),
        spool: tmp.path().join("spool"),
        port: free_port(),
        pcap,
        want,
        tmp,
    }
}

/// Agent `a0` reading `pcap`, spooling to `spool`, with `extra` flags.
fn spool_agent(pcap: &Path, port: u16, certs: &Path, spool: &Path, extra: &[&str]) -> Proc {
    agent_with(pcap, port, certs, "a0", spool, extra)
}

/// Spool segment files, in the order the agent reads them.
fn segments(spool: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(spool).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    files.retain(|p| p.file_name().unwrap().to_string_lossy().ends_with(".seg"));
    // spool-<20 digits>.seg: the names sort by number.
    files.sort();
    files
}

/// Bytes of every file in a directory (0 when it does not exist).
fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum()
}

fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < until, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Samples `dir`'s size every few milliseconds until dropped; returns the
/// largest size seen.
struct SizeSampler {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

impl SizeSampler {
    fn start(dir: &Path) -> SizeSampler {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (dir, flag) = (dir.to_path_buf(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut largest = 0;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                largest = largest.max(dir_bytes(&dir));
                std::thread::sleep(Duration::from_millis(2));
            }
            largest
        });
        SizeSampler { stop, thread: Some(thread) }
    }

    fn largest(mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// What a spool directory holds, read as the agent reads it (segments in
/// order, length-prefixed batch messages, stopping at a torn one): the
/// records per type in sending order, and each batch's (session, seq).
fn spooled(spool: &Path) -> (BTreeMap<String, TypeFiles>, Vec<(netcap_wire::SessionId, u64)>) {
    let mut records: BTreeMap<String, TypeFiles> = BTreeMap::new();
    let mut batches = Vec::new();
    for segment in segments(spool) {
        let data = std::fs::read(&segment).unwrap();
        let mut rest = &data[..];
        while rest.len() >= 4 {
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            let Some(body) = rest.get(4..4 + len) else { break };
            rest = &rest[4 + len..];
            let Ok(netcap_wire::Message::Batch(batch)) = netcap_wire::Message::decode(body) else {
                panic!("{}: not a batch", segment.display())
            };
            batches.push((batch.session, batch.seq));
            let entry = records.entry(batch.record_type.name().to_string()).or_default();
            if entry.headers.is_empty() {
                entry.headers.push(prost::Message::decode(batch.header).unwrap());
            }
            let delimited = zstd::stream::decode_all(batch.frame).unwrap();
            let mut buf = &delimited[..];
            let mut count = 0;
            while !buf.is_empty() {
                let len = prost::encoding::decode_varint(&mut buf).unwrap() as usize;
                entry.records.push(buf[..len].to_vec());
                buf = &buf[len..];
                count += 1;
            }
            assert_eq!(count, batch.records, "records of batch {}", batch.seq);
        }
    }
    (records, batches)
}

/// `first`'s records followed by `then`'s, type by type.
fn concat(first: &BTreeMap<String, TypeFiles>, then: &BTreeMap<String, TypeFiles>) -> BTreeMap<String, TypeFiles> {
    let mut out = first.clone();
    for (name, files) in then {
        let entry = out.entry(name.clone()).or_default();
        entry.headers.extend(files.headers.iter().cloned());
        entry.records.extend(files.records.iter().cloned());
    }
    out
}

/// The numbers in the words of the first line of `log` containing `marker`
/// (digits only, e.g. "(12" counts as 12).
fn numbers_in_line(log: &str, marker: &str) -> Vec<u64> {
    let line = log.lines().find(|l| l.contains(marker)).unwrap_or_else(|| panic!("no {marker:?} in:\n{log}"));
    line.split_whitespace().filter_map(|w| w.trim_matches(|c: char| !c.is_ascii_digit()).parse().ok()).collect()
}

#[test]
fn agent_spools_while_the_collector_is_down() {
    let SpoolCase { tmp: _tmp, certs, out, spool, port, pcap, want } = spool_case();
    // A 4 s replay into 64 KiB of memory, nobody listening on the port.
    let rate = (total(&want) / 4 + 1).to_string();
    let mut agent = spool_agent(&pcap, port, &certs, &spool, &["-memory-max", "64KiB", "-rate", &rate, "-quiet"]);
    agent.wait_for_log("spooling batches to", Duration::from_secs(30));
    wait_until("spooled batches", Duration::from_secs(30), || dir_bytes(&spool) > 256 << 10);
    let log = agent.log();
    assert!(log.contains("cannot connect"), "{log}");
    assert!(!segments(&spool).is_empty(), "{:?}", std::fs::read_dir(&spool).unwrap().collect::<Vec<_>>());
    assert!(!log.contains("connected to collector"), "{log}");

    let mut collect = collector(port, &out, &certs, &[]);
    assert!(agent.wait(Duration::from_secs(120)), "agent failed:\n{}", agent.log());
    let log = agent.log();
    assert_eq!(log.matches("connected to collector").count(), 1, "{log}");
    assert!(!log.contains("DROPPING") && !log.contains("pausing"), "{log}");
    assert!(collect.terminate(), "{}", collect.log());
    assert_same_records(&format!("a0 (agent log:\n{log})"), &records_in(&out.join("a0")), &want, false);
    // Every segment is removed once sent and acknowledged.
    let left: Vec<_> = std::fs::read_dir(&spool).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn agent_drops_loudly_when_the_spool_is_full() {
    let SpoolCase { tmp: _tmp, certs, out, spool, port, pcap, want } = spool_case();
    // -drop-when-full: the file is read as a live capture is, so a full
    // spool drops. No collector until the whole input has been read.
    let spool_max: u64 = 300_000;
    let sampler = SizeSampler::start(&spool);
    let mut agent = spool_agent(
        &pcap,
        port,
        &certs,
        &spool,
        &["-memory-max", "64KiB", "-spool-max", &spool_max.to_string(), "-drop-when-full"],
    );
    agent.wait_for_log("end of input; waiting", Duration::from_secs(60));
    let log = agent.log();
    assert!(log.contains("spooling batches to"), "{log}");
    // Loud: the first drop is reported at once, with its count.
    let first = numbers_in_line(&log, "DROPPING records");
    assert_eq!(first[first.len() - 2], 1, "{log}");
    let on_disk = dir_bytes(&spool);
    assert!(on_disk > spool_max / 2 && on_disk <= spool_max, "{on_disk} bytes spooled");

    let mut collect = collector(port, &out, &certs, &[]);
    let status = agent.wait_status(Duration::from_secs(120));
    assert!(collect.terminate(), "{}", collect.log());
    let largest = sampler.largest();
    let log = agent.log();
    assert_eq!(status.code(), Some(1), "dropping records is a failure:\n{log}");
    assert!(largest <= spool_max, "the spool reached {largest} bytes on disk (-spool-max {spool_max})");
    // "WARNING: B batches (R records) were DROPPED ..., 0 unacknowledged batches lost at exit"
    let dropped = numbers_in_line(&log, "were DROPPED");
    let (dropped_batches, dropped_records) = (dropped[0], dropped[1]);
    assert!(dropped_batches > 0 && dropped[2] == 0, "{log}");
    // "session S: M batches made, A records acknowledged by the collector in AB batches"
    let summary = numbers_in_line(&log, "batches made");
    let (made, acked_records, acked_batches) =
        (summary[summary.len() - 3], summary[summary.len() - 2], summary[summary.len() - 1]);
    assert_eq!(made, acked_batches + dropped_batches, "{log}");

    // What is missing at the collector is exactly what the agent says it
    // dropped; what arrived is capture's records in order, none twice.
    let got = records_in(&out.join("a0"));
    assert_eq!(total(&got) as u64, acked_records, "{log}");
    assert_eq!((total(&want) - total(&got)) as u64, dropped_records, "{log}");
    for (name, files) in &got {
        let mut wanted = want[name].records.iter();
        for (i, record) in files.records.iter().enumerate() {
            assert!(wanted.any(|w| w == record), "{name} record {i} at the collector is not capture's next one");
        }
    }
    assert!(segments(&spool).is_empty(), "{:?}", segments(&spool));
}

#[test]
fn agent_pauses_a_file_when_the_spool_is_full() {
    let SpoolCase { tmp: _tmp, certs, out, spool, port, pcap, want } = spool_case();
    let spool_max: u64 = 300_000;
    let sampler = SizeSampler::start(&spool);
    let mut agent =
        spool_agent(&pcap, port, &certs, &spool, &["-memory-max", "64KiB", "-spool-max", &spool_max.to_string()]);
    agent.wait_for_log("pausing the capture", Duration::from_secs(60));
    // The collector comes while the capture is paused: the spool is read
    // while the resumed capture writes to it, and stays within its bound.
    let mut collect = collector(port, &out, &certs, &[]);
    let status = agent.wait_status(Duration::from_secs(120));
    assert!(collect.terminate(), "{}", collect.log());
    let largest = sampler.largest();
    let log = agent.log();
    assert!(status.success(), "{log}");
    assert!(!log.contains("DROPPED") && !log.contains("DROPPING"), "{log}");
    assert!(largest <= spool_max, "the spool reached {largest} bytes on disk (-spool-max {spool_max})");
    assert_same_records(&format!("a0 (agent log:\n{log})"), &records_in(&out.join("a0")), &want, false);
    assert!(segments(&spool).is_empty(), "{:?}", segments(&spool));
}

#[test]
fn a_restarted_agent_sends_what_earlier_runs_spooled_first_and_once() {
    let SpoolCase { tmp: _tmp, certs, out, spool, port, pcap, want } = spool_case();

    // Run 1, collector down, killed with SIGKILL mid-replay: what was in
    // memory is lost (documented); the spooled batches are on disk.
    let rate = (total(&want) / 4 + 1).to_string();
    let mut first = spool_agent(&pcap, port, &certs, &spool, &["-memory-max", "64KiB", "-rate", &rate, "-quiet"]);
    wait_until("spooled batches", Duration::from_secs(30), || dir_bytes(&spool) > 200 << 10);
    first.sigkill();
    let (_, batches1) = spooled(&spool);
    assert!(!batches1.is_empty());

    // Run 2, collector still down, with a spool bound just above what run
    // 1 left: it pauses on the full spool, and SIGTERM still ends it, with
    // its unacknowledged batches put into the spool.
    let spool_max = dir_bytes(&spool) + 150_000;
    let mut second =
        spool_agent(&pcap, port, &certs, &spool, &["-memory-max", "64KiB", "-spool-max", &spool_max.to_string()]);
    second.wait_for_log("will be sent first", Duration::from_secs(20));
    second.wait_for_log("pausing the capture", Duration::from_secs(60));
    assert!(dir_bytes(&spool) <= spool_max, "{} > {spool_max}", dir_bytes(&spool));
    assert!(second.terminate(), "run 2 did not end cleanly:\n{}", second.log());
    let log2 = second.log();
    assert!(log2.contains("left in the spool for the next run"), "{log2}");
    let (left, batches2) = spooled(&spool);
    let sessions: std::collections::BTreeSet<_> = batches2.iter().map(|b| b.0).collect();
    assert_eq!(sessions.len(), 2, "both runs' batches are in the spool");
    let from_run1: Vec<_> = batches2.iter().filter(|b| b.0 == batches1[0].0).copied().collect();
    assert_eq!(from_run1, batches1, "run 1's batches are kept, in order");

    // Run 3 with the collector up: the spool first, then its own capture.
    let mut collect = collector(port, &out, &certs, &[]);
    let mut third = spool_agent(&pcap, port, &certs, &spool, &["-quiet"]);
    assert!(third.wait(Duration::from_secs(120)), "{}", third.log());
    assert!(third.log().contains("will be sent first"), "{}", third.log());
    assert!(collect.terminate(), "{}", collect.log());
    let logs = format!("run 2:\n{log2}\nrun 3:\n{}\ncollector:\n{}", third.log(), collect.log());
    assert_same_records(&format!("a0 ({logs})"), &records_in(&out.join("a0")), &concat(&left, &want), false);
    assert!(segments(&spool).is_empty(), "{:?}", segments(&spool));
}
