use super::*;
use crate::files::{FileConfig, FileStart, Files};
use netcap_records::File;

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const OTHER: [u8; 4] = [10, 0, 0, 9];
const CONTENT: &[u8] = b"<html><body>hello</body></html>\n";

fn at(frame: u64) -> PacketTime {
    PacketTime { timestamp_ns: frame as i64 * 1_000_000, frame }
}

fn conn(client: (IpAddr, u16), server: (IpAddr, u16), first: u64, community_id: &str) -> ConnInfo {
    ConnInfo {
        client_ip: client.0,
        client_port: client.1,
        server_ip: server.0,
        server_port: server.1,
        first: at(first),
        community_id: community_id.into(),
    }
}

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

/// The control connection CLIENT:40000 -> SERVER:21, first frame 1.
fn control() -> ConnInfo {
    conn((ip(CLIENT), 40000), (ip(SERVER), 21), 1, "1:control")
}

fn channel(control: &ConnInfo, passive: bool, address: IpAddr, port: u16, command: u64) -> Channel {
    Channel { control: control.clone(), passive, address, port, command: at(command), reply: at(command + 1) }
}

fn pasv(port: u16, command: u64) -> Channel {
    channel(&control(), true, ip(SERVER), port, command)
}

fn transfer(channel: &Channel, command: &str, arg: &str, depth: u32, at_frame: u64, code: u16, reply: u64) -> Transfer {
    Transfer {
        channel: channel.clone(),
        command: command.into(),
        arg: arg.into(),
        trans_depth: depth,
        at: at(at_frame),
        reply_code: code,
        reply: (code != 0).then(|| at(reply)),
        total_bytes: Some(CONTENT.len() as u64),
    }
}

/// A one-way data stream from `client` to `server` whose first packet is
/// frame `first`; its content goes `dir` and it ended with a FIN
/// (`complete`).
fn stream_in(
    files: &mut Files,
    client: (IpAddr, u16),
    server: (IpAddr, u16),
    first: u64,
    dir: Direction,
    complete: bool,
) -> Box<DataStream> {
    let conn = conn(client, server, first, &format!("1:data{first}"));
    let mut file = files.open(&conn, at(first + 3), FileStart { source: "FTP", ..FileStart::default() });
    let (a, b) = CONTENT.split_at(10);
    file.write(files, at(first + 3), a);
    file.write(files, at(first + 4), b);
    Box::new(DataStream { conn, direction: dir, file: file.detach(files, complete) })
}

fn stream(client: (IpAddr, u16), server: (IpAddr, u16), first: u64, dir: Direction) -> Box<DataStream> {
    stream_in(&mut Files::new(FileConfig::default(), 0), client, server, first, dir, true)
}

fn matcher() -> Matcher {
    Matcher::new(MatchConfig { extract_dir: None, records: true })
}

fn run(m: &mut Matcher, events: Vec<FtpDataEvent>) -> Vec<File> {
    let mut out = Vec::new();
    for e in events {
        m.event(e, &mut out);
    }
    out
}

fn ch(c: &Channel) -> FtpDataEvent {
    FtpDataEvent::Channel(Box::new(c.clone()))
}

fn tr(t: Transfer) -> FtpDataEvent {
    FtpDataEvent::Transfer(Box::new(t))
}

fn st(s: Box<DataStream>) -> FtpDataEvent {
    FtpDataEvent::Stream(s)
}

fn sha256(data: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn passive_retr_becomes_a_file_of_the_control_connection() {
    let c = pasv(50000, 10);
    // The data connection starts after the PASV (frame 10), before the 226
    // (frame 20), and its bytes go from the server to the client.
    let data = || stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient);
    let t = transfer(&c, "RETR", "index.html", 4, 14, 226, 20);
    // The data connection reported after the 226, or (its end seen first)
    // before it: the same record.
    let after = run(&mut matcher(), vec![ch(&c), tr(t.clone()), st(data())]);
    let mut m = matcher();
    let before = run(&mut m, vec![ch(&c), st(data()), tr(t)]);
    assert_eq!(after, before);
    assert_eq!(m.counters.files, 1);
    let [f] = &after[..] else { panic!("{after:?}") };
    assert_eq!((f.source.as_str(), f.command.as_str(), f.filename.as_str()), ("FTP", "RETR", "index.html"));
    assert_eq!(f.direction, netcap_records::Direction::ServerToClient as i32);
    assert_eq!((f.trans_depth, f.total_bytes, f.seen_bytes), (4, Some(CONTENT.len() as u64), CONTENT.len() as u64));
    assert!(f.complete);
    assert_eq!(f.sha256, sha256(CONTENT));
    assert_eq!(f.mime_type, "text/html");
    // The control connection's endpoints and Community ID; the data
    // connection's own.
    assert_eq!(
        (f.src_ip.as_slice(), f.dst_ip.as_slice(), f.src_port, f.dst_port),
        (&CLIENT[..], &SERVER[..], 40000, 21)
    );
    assert_eq!((f.community_id.as_str(), f.data_community_id.as_str()), ("1:control", "1:data12"));
    assert_eq!((f.file_id.as_str(), f.frame, f.last_frame), ("F12-0", 15, 16));
}

#[test]
fn active_port_and_stor_go_the_other_way() {
    // PORT 10,0,0,1,156,67: the server connects from port 20.
    let c = channel(&control(), false, ip(CLIENT), 40003, 10);
    let retr = transfer(&c, "RETR", "a.txt", 5, 12, 226, 30);
    // The data connection's client is the FTP server: a download goes
    // to its server.
    let data = stream((ip(SERVER), 20), (ip(CLIENT), 40003), 13, Direction::ToServer);
    let files = run(&mut matcher(), vec![ch(&c), tr(retr), st(data)]);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].direction, netcap_records::Direction::ServerToClient as i32);

    let c = channel(&control(), false, ip(CLIENT), 40004, 40);
    let stor = transfer(&c, "STOR", "up.txt", 7, 42, 226, 60);
    let data = stream((ip(SERVER), 20), (ip(CLIENT), 40004), 43, Direction::ToClient);
    let files = run(&mut matcher(), vec![ch(&c), tr(stor), st(data)]);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].direction, netcap_records::Direction::ClientToServer as i32);
    assert_eq!(files[0].command, "STOR");

    // A passive upload: from the data connection's client.
    let c = pasv(50001, 70);
    let stor = transfer(&c, "APPE", "up.txt", 9, 72, 226, 90);
    let data = stream((ip(CLIENT), 41001), (ip(SERVER), 50001), 73, Direction::ToServer);
    assert_eq!(run(&mut matcher(), vec![ch(&c), tr(stor), st(data)]).len(), 1);
}

#[test]
fn epsv_and_ipv6_eprt() {
    let v6 = |last: u16| IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, last]);
    let control = conn((v6(1), 49185), (v6(0x21), 21), 1, "1:v6");
    // EPSV: "229 (|||57086|)": the control connection's server.
    let c = channel(&control, true, v6(0x21), 57086, 10);
    let list = transfer(&c, "LIST", "", 6, 12, 226, 20);
    let data = stream((v6(1), 49186), (v6(0x21), 57086), 11, Direction::ToClient);
    let files = run(&mut matcher(), vec![ch(&c), tr(list), st(data)]);
    assert_eq!((files.len(), files[0].command.as_str()), (1, "LIST"));
    // EPRT |2|2001:db8::1|49189|: the server connects from port 20.
    let c = channel(&control, false, v6(1), 49189, 30);
    let retr = transfer(&c, "RETR", "robots.txt", 8, 32, 226, 40);
    let data = stream((v6(0x21), 55785), (v6(1), 49189), 33, Direction::ToServer);
    let files = run(&mut matcher(), vec![ch(&c), tr(retr), st(data)]);
    assert_eq!((files.len(), files[0].filename.as_str()), (1, "robots.txt"));
    let IpAddr::V6(client) = v6(1) else { unreachable!() };
    assert_eq!(files[0].src_ip, client.octets());
}

#[test]
fn third_party_transfers_are_refused() {
    // PORT naming another host (FTP bounce): the server's connection to it
    // is not the control connection's hosts'.
    let c = channel(&control(), false, ip(OTHER), 40003, 10);
    let retr = transfer(&c, "RETR", "a.txt", 5, 12, 226, 30);
    let data = stream((ip(SERVER), 20), (ip(OTHER), 40003), 13, Direction::ToServer);
    let mut m = matcher();
    assert!(run(&mut m, vec![ch(&c), tr(retr), st(data)]).is_empty());
    assert_eq!(m.counters.third_party, 1);
    // PASV, and a third host (FXP) connects to the announced port.
    let c = pasv(50000, 10);
    let retr = transfer(&c, "RETR", "a.txt", 5, 12, 226, 30);
    let data = stream((ip(OTHER), 41000), (ip(SERVER), 50000), 13, Direction::ToClient);
    let mut m = matcher();
    assert!(run(&mut m, vec![ch(&c), tr(retr), st(data)]).is_empty());
    assert_eq!(m.counters.third_party, 1);
    // A server behind NAT announces its private address; the client
    // connects to the control connection's: the hosts are the control
    // connection's, so it matches.
    let c = channel(&control(), true, ip([192, 168, 1, 5]), 50000, 10);
    let retr = transfer(&c, "RETR", "a.txt", 5, 12, 226, 30);
    let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 13, Direction::ToClient);
    assert_eq!(run(&mut matcher(), vec![ch(&c), tr(retr), st(data)]).len(), 1);
}

#[test]
fn ambiguous_matches_are_refused() {
    // Two control connections of the same hosts announce the same port at
    // once: a data connection fits both.
    let control_b = conn((ip(CLIENT), 40001), (ip(SERVER), 21), 2, "1:control-b");
    let a = pasv(50000, 10);
    let b = channel(&control_b, true, ip(SERVER), 50000, 11);
    let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 13, Direction::ToClient);
    let mut m = matcher();
    let files = run(
        &mut m,
        vec![
            ch(&a),
            ch(&b),
            tr(transfer(&a, "RETR", "a", 3, 14, 226, 30)),
            tr(transfer(&b, "RETR", "b", 3, 15, 226, 31)),
            st(data),
        ],
    );
    assert!(files.is_empty());
    assert_eq!(m.counters.ambiguous, 1);

    // Two data connections for one channel before its transfer is known:
    // neither is taken, and the transfer gets none.
    let c = pasv(50000, 10);
    let one = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient);
    let two = stream((ip(CLIENT), 41001), (ip(SERVER), 50000), 13, Direction::ToClient);
    let mut m = matcher();
    let files = run(&mut m, vec![ch(&c), st(one), st(two), tr(transfer(&c, "RETR", "a", 3, 14, 226, 30))]);
    assert!(files.is_empty());
    assert_eq!(m.counters.ambiguous, 2);

    // A second one for a transfer that already has its file: its channel
    // is done.
    let c = pasv(50000, 10);
    let one = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient);
    let two = stream((ip(CLIENT), 41001), (ip(SERVER), 50000), 13, Direction::ToClient);
    let mut m = matcher();
    let files = run(&mut m, vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 226, 30)), st(one), st(two)]);
    assert_eq!((files.len(), m.counters.no_channel, m.waiting()), (1, 1, 0));
}

#[test]
fn a_reused_port_is_told_apart_by_time() {
    // PASV -> 21008, RETR (226 at 41); PASV -> 21008 again, NLST (226 at
    // 57), as in sv-ftp-download-passive; every arrival order.
    let first = pasv(21008, 29);
    let second = pasv(21008, 45);
    let retr = transfer(&first, "RETR", "index.html", 8, 34, 226, 41);
    let nlst = transfer(&second, "NLST", "", 11, 50, 226, 57);
    let d1 = || st(stream((ip(CLIENT), 46274), (ip(SERVER), 21008), 31, Direction::ToClient));
    let d2 = || st(stream((ip(CLIENT), 46280), (ip(SERVER), 21008), 47, Direction::ToClient));
    let orders: Vec<Vec<FtpDataEvent>> = vec![
        vec![ch(&first), tr(retr.clone()), ch(&second), tr(nlst.clone()), d1(), d2()],
        vec![ch(&first), d1(), ch(&second), d2(), tr(retr.clone()), tr(nlst.clone())],
        vec![ch(&first), ch(&second), d2(), d1(), tr(nlst.clone()), tr(retr.clone())],
    ];
    for events in orders {
        let mut m = matcher();
        let files = run(&mut m, events);
        let mut got: Vec<(&str, &str)> = files.iter().map(|f| (f.command.as_str(), f.file_id.as_str())).collect();
        got.sort();
        assert_eq!(got, [("NLST", "F47-0"), ("RETR", "F31-0")], "{:?}", m.counters);
    }
}

#[test]
fn data_against_the_command_or_outside_its_window_is_refused() {
    let c = pasv(50000, 10);
    // RETR, but the client sent the bytes.
    let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToServer);
    let mut m = matcher();
    assert!(run(&mut m, vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 226, 30)), st(data)]).is_empty());
    assert_eq!(m.counters.wrong_direction, 1);
    // A connection that started before the PASV, or after the 226.
    for first in [5, 31] {
        let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), first, Direction::ToClient);
        let mut m = matcher();
        assert!(run(&mut m, vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 226, 30)), st(data)]).is_empty());
        assert_eq!(m.counters.no_channel, 1);
    }
    // A refused RETR (550) takes its channel: nothing to match.
    let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient);
    let mut m = matcher();
    assert!(run(&mut m, vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 550, 15)), st(data)]).is_empty());
    assert_eq!((m.counters.no_channel, m.waiting()), (1, 0));
}

#[test]
fn an_aborted_or_cut_transfer_is_incomplete() {
    let c = pasv(50000, 10);
    let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient);
    let files = run(&mut matcher(), vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 426, 30)), st(data)]);
    assert_eq!((files[0].complete, files[0].sha256.as_str(), files[0].seen_bytes), (false, "", CONTENT.len() as u64));
    // No FIN: incomplete whatever the reply.
    let mut shard_files = Files::new(FileConfig::default(), 0);
    let data = stream_in(&mut shard_files, (ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient, false);
    let files = run(&mut matcher(), vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 226, 30)), st(data)]);
    assert!(!files[0].complete && files[0].sha256.is_empty());
    // The control connection ended without a reply: the data's view.
    let data = stream((ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient);
    let files = run(&mut matcher(), vec![ch(&c), tr(transfer(&c, "RETR", "a", 3, 14, 0, 0)), st(data)]);
    assert!(files[0].complete);
}

#[test]
fn waiting_channels_are_bounded() {
    let mut m = matcher();
    for i in 0..=MAX_EXPECTATIONS as u64 {
        m.event(ch(&pasv(1024 + (i % 1000) as u16, 10 + 2 * i)), &mut Vec::new());
    }
    assert_eq!((m.waiting(), m.counters.evicted), (MAX_EXPECTATIONS, 1));
    // A day of capture time later, they have all gone.
    let late = Channel { reply: PacketTime { timestamp_ns: HOLD_OPEN_NS * 2, frame: 1 << 40 }, ..pasv(60000, 1 << 40) };
    m.event(ch(&late), &mut Vec::new());
    assert_eq!(m.waiting(), 1);
    m.finish();
    assert_eq!(m.counters.channels_unused, MAX_EXPECTATIONS as u64 + 2);
}

#[test]
fn matched_content_is_extracted_and_unmatched_content_removed() {
    let dir = tempfile::tempdir().unwrap();
    let config = FileConfig { extract_dir: Some(dir.path().to_path_buf()), ..FileConfig::default() };
    let mut files = Files::new(config, 7);
    let c = pasv(50000, 10);
    let data = stream_in(&mut files, (ip(CLIENT), 41000), (ip(SERVER), 50000), 12, Direction::ToClient, true);
    let stray = stream_in(&mut files, (ip(CLIENT), 41001), (ip(SERVER), 50001), 13, Direction::ToClient, true);
    let waiting = stream_in(&mut files, (ip(CLIENT), 41002), (ip(SERVER), 50002), 14, Direction::ToClient, true);
    assert_eq!(std::fs::read_dir(dir.path().join(".partial")).unwrap().count(), 3);
    let mut m = Matcher::new(MatchConfig { extract_dir: Some(dir.path().to_path_buf()), records: true });
    let other = pasv(50002, 11);
    let files = run(
        &mut m,
        vec![ch(&c), ch(&other), tr(transfer(&c, "RETR", "a", 3, 14, 226, 30)), st(data), st(stray), st(waiting)],
    );
    assert_eq!(files[0].extracted, sha256(CONTENT));
    assert_eq!(std::fs::read(dir.path().join(&files[0].extracted)).unwrap(), CONTENT);
    // The stray stream is gone at once, the one waiting for its transfer
    // at the end.
    assert_eq!(std::fs::read_dir(dir.path().join(".partial")).unwrap().count(), 1);
    m.finish();
    assert_eq!(std::fs::read_dir(dir.path().join(".partial")).unwrap().count(), 0);
    assert_eq!((m.counters.extracted, m.counters.no_channel, m.counters.no_transfer), (1, 1, 1));
}

#[test]
fn fuzz_entry_survives_random_events() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for len in [0, 6, 60, 600, 6000] {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        fuzz_entry(&data);
    }
}
