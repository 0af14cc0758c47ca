//! Crafted segment sequences through a whole shard (flow table, stream
//! analyzer, HTTP parser): what the Connection record's extras, the HTTP
//! records and the `-streams` files say.

use crate::Emitter;
use crate::protocols::Direction;
use crate::protocols::ftp::data::FtpDataEvent;
use crate::shard::{SessionConfig, SessionPacket, Shard};
use crate::tcp::StreamConfig;
use netcap_decoder::{TransportKind, tcp_flag};
use netcap_flow::{ConnectionExtras, EndedConnection, FlowConfig, FlowKey, FlowPacket};
use netcap_records::{File, Http, RecordType};
use std::path::Path;

const CLIENT: [u8; 4] = [10, 0, 0, 1];
const SERVER: [u8; 4] = [10, 0, 0, 2];
const CLIENT_PORT: u16 = 40000;

/// One side of a crafted connection to port `server_port`.
struct Wire {
    shard: Shard,
    emit: Emitter,
    ended: Vec<EndedConnection>,
    frame: u64,
    server_port: u16,
}

fn v4(b: [u8; 4]) -> [u8; 16] {
    let mut a = [0; 16];
    a[..4].copy_from_slice(&b);
    a
}

impl Wire {
    fn new(server_port: u16, config: StreamConfig) -> Wire {
        let session = SessionConfig { flows: FlowConfig::default(), streams: Some(config), quic: false };
        Wire { shard: Shard::new(&session, 0), emit: Emitter::all(), ended: Vec::new(), frame: 0, server_port }
    }

    fn http() -> Wire {
        Wire::new(80, StreamConfig::default())
    }

    /// A segment from the client (`to_server`) or the server; `flags` from
    /// "SAFRP" (ACK is set with `ack`).
    fn send(&mut self, to_server: bool, flags: &str, seq: u32, ack: Option<u32>, payload: &[u8]) {
        self.frame += 1;
        let mut f = 0u16;
        for (c, bit) in [('S', tcp_flag::SYN), ('F', tcp_flag::FIN), ('R', tcp_flag::RST), ('P', tcp_flag::PSH)] {
            if flags.contains(c) {
                f |= bit;
            }
        }
        if ack.is_some() {
            f |= tcp_flag::ACK;
        }
        // The client's endpoint sorts first: it is endpoint a.
        let key = FlowKey {
            ip_a: v4(CLIENT),
            ip_b: v4(SERVER),
            port_a: CLIENT_PORT,
            port_b: self.server_port,
            ip_protocol: 6,
            v6: false,
        };
        let packet = FlowPacket {
            timestamp_ns: self.frame as i64 * 1_000_000,
            frame: self.frame,
            wire_length: 54 + payload.len() as u32,
            payload: payload.len() as u32,
            src_mac: None,
            dst_mac: None,
            tcp_flags: f,
            tcp_window: 8192,
            tcp_window_scale: None,
            transport: TransportKind::Tcp,
            icmp_type: 0,
        };
        let p = SessionPacket {
            packet,
            key,
            from_a: to_server,
            tcp_seq: seq,
            tcp_ack: ack.unwrap_or(0),
            payload,
            reassembled: false,
            fragment: false,
        };
        self.shard.observe(&p, &mut self.emit, &mut self.ended);
    }

    fn finish(mut self) -> Outcome {
        self.shard.finish(&mut self.emit, &mut self.ended);
        let [conn] = &mut self.ended[..] else { panic!("one connection, got {}", self.ended.len()) };
        let extras = *conn.extras.take().expect("the stream layer fills extras");
        Outcome { extras, http: self.emit.decoded(RecordType::Http), files: self.emit.decoded(RecordType::File) }
    }
}

struct Outcome {
    extras: ConnectionExtras,
    http: Vec<Http>,
    files: Vec<File>,
}

const REQUEST: &[u8] = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n";

/// A handshake with client ISN `c` and server ISN `s`; returns the next
/// sequence numbers.
fn handshake(w: &mut Wire, c: u32, s: u32) -> (u32, u32) {
    w.send(true, "S", c, None, b"");
    w.send(false, "S", s, Some(c.wrapping_add(1)), b"");
    w.send(true, "", c.wrapping_add(1), Some(s.wrapping_add(1)), b"");
    (c.wrapping_add(1), s.wrapping_add(1))
}

fn response(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn close(w: &mut Wire, c: u32, s: u32) {
    w.send(true, "F", c, Some(s), b"");
    w.send(false, "F", s, Some(c.wrapping_add(1)), b"");
    w.send(true, "", c.wrapping_add(1), Some(s.wrapping_add(1)), b"");
}

#[test]
fn in_order_connection_is_one_transaction_with_zeek_state() {
    let mut w = Wire::http();
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(true, "P", c, Some(s), REQUEST);
    let resp = response("hello");
    w.send(false, "P", s, Some(c + REQUEST.len() as u32), &resp);
    close(&mut w, c + REQUEST.len() as u32, s + resp.len() as u32);
    let out = w.finish();
    assert_eq!(out.extras.application_protocol, Some("HTTP"));
    assert_eq!(out.extras.conn_state, "SF");
    // Zeek's letters: the server's data packet is 'd' (an 'a' needs a
    // packet with no payload, and the server sent none).
    assert_eq!(out.extras.history, "ShADdFf");
    assert_eq!(out.extras.missed_bytes, [0, 0]);
    assert_eq!(out.extras.retransmissions, [0, 0]);
    let [h] = &out.http[..] else { panic!("{:?}", out.http) };
    assert_eq!((h.method.as_str(), h.request_uri.as_str(), h.status_code), ("GET", "/index.html", 200));
    assert_eq!((h.request_first_frame, h.response_last_frame), (4, 5));
    let [f] = &out.files[..] else { panic!() };
    assert!(f.complete);
    assert_eq!(f.sha256, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
}

#[test]
fn overlap_with_different_data_keeps_the_first_copy_and_is_counted() {
    let mut w = Wire::http();
    let (c, s) = handshake(&mut w, 1000, 5000);
    let (a, b) = REQUEST.split_at(10);
    w.send(true, "P", c, Some(s), a);
    // A retransmission of the first 10 bytes whose content differs ("GET /evil"),
    // then the rest.
    w.send(true, "P", c, Some(s), b"GET /evil!");
    w.send(true, "P", c + 10, Some(s), b);
    let resp = response("ok");
    w.send(false, "P", s, Some(c + REQUEST.len() as u32), &resp);
    let out = w.finish();
    assert_eq!(out.extras.overlaps_different_data, 1);
    assert_eq!(out.extras.retransmissions, [1, 0]);
    assert!(out.extras.history.contains('T'), "{}", out.extras.history);
    let [h] = &out.http[..] else { panic!("{:?}", out.http) };
    assert_eq!(h.request_uri, "/index.html");
}

#[test]
fn sequence_numbers_wrap_around() {
    let mut w = Wire::http();
    // The request's bytes cross 2^32.
    let (c, s) = handshake(&mut w, u32::MAX - 20, u32::MAX - 3);
    let (a, b) = REQUEST.split_at(25);
    // Out of order across the wrap: the second half first.
    w.send(true, "P", c.wrapping_add(25), Some(s), b);
    w.send(true, "P", c, Some(s), a);
    let resp = response("wrapped");
    w.send(false, "P", s, Some(c.wrapping_add(REQUEST.len() as u32)), &resp);
    let out = w.finish();
    assert_eq!(out.extras.missed_bytes, [0, 0]);
    let [h] = &out.http[..] else { panic!("{:?}", out.http) };
    assert_eq!((h.request_uri.as_str(), h.response_body_len), ("/index.html", 7));
    assert!(out.files[0].complete);
}

#[test]
fn a_gap_the_peer_acknowledges_is_missed_bytes_and_the_parser_resynchronises() {
    let mut w = Wire::http();
    let (c, s) = handshake(&mut w, 1000, 5000);
    let second = b"GET /second HTTP/1.1\r\nHost: example.com\r\n\r\n";
    // The first request's bytes 10.. are never captured.
    w.send(true, "P", c, Some(s), &REQUEST[..10]);
    let next = c + REQUEST.len() as u32;
    w.send(true, "P", next, Some(s), second);
    // The server acknowledges everything: the hole is data the capture lost.
    w.send(false, "", s, Some(next + second.len() as u32), b"");
    let out = w.finish();
    assert_eq!(out.extras.missed_bytes, [REQUEST.len() as u64 - 10, 0]);
    assert!(out.extras.history.contains('G'), "{}", out.extras.history);
    assert!(out.http.iter().any(|h| h.request_uri == "/second"), "{:?}", out.http);
}

#[test]
fn syn_retransmission_changes_nothing() {
    let mut w = Wire::http();
    w.send(true, "S", 1000, None, b"");
    w.send(true, "S", 1000, None, b"");
    w.send(false, "S", 5000, Some(1001), b"");
    w.send(true, "", 1001, Some(5001), b"");
    w.send(true, "P", 1001, Some(5001), REQUEST);
    let resp = response("x");
    w.send(false, "P", 5001, Some(1001 + REQUEST.len() as u32), &resp);
    let out = w.finish();
    assert_eq!(out.extras.missed_bytes, [0, 0]);
    assert_eq!(out.http.len(), 1);
    assert_eq!(out.http[0].status_code, 200);
}

#[test]
fn rst_in_the_middle_of_a_body_leaves_an_incomplete_file() {
    let mut w = Wire::http();
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(true, "P", c, Some(s), REQUEST);
    let head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789";
    let c_end = c + REQUEST.len() as u32;
    w.send(false, "P", s, Some(c_end), head);
    w.send(false, "R", s + head.len() as u32, Some(c_end), b"");
    let out = w.finish();
    assert_eq!(out.extras.conn_state, "RSTR");
    let [h] = &out.http[..] else { panic!("{:?}", out.http) };
    assert_eq!((h.status_code, h.response_body_len), (200, 10));
    let [f] = &out.files[..] else { panic!() };
    assert!(!f.complete);
    assert_eq!(f.seen_bytes, 10);
    assert!(f.sha256.is_empty(), "no hash of an incomplete file");
}

#[test]
fn a_connection_picked_up_mid_stream_is_decoded() {
    let mut w = Wire::http();
    // No handshake: the capture starts inside the connection.
    w.send(true, "P", 77_000, Some(9_000), REQUEST);
    let resp = response("mid");
    w.send(false, "P", 9_000, Some(77_000 + REQUEST.len() as u32), &resp);
    let out = w.finish();
    assert_eq!(out.extras.conn_state, "OTH");
    assert!(out.extras.history.starts_with('D'), "{}", out.extras.history);
    let [h] = &out.http[..] else { panic!("{:?}", out.http) };
    assert_eq!((h.request_uri.as_str(), h.status_code, h.response_body_len), ("/index.html", 200, 3));
}

#[test]
fn content_decides_the_protocol_on_any_port() {
    let mut w = Wire::new(8888, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1, 1);
    w.send(true, "P", c, Some(s), REQUEST);
    let out = w.finish();
    assert_eq!(out.extras.application_protocol, Some("HTTP"));
    assert_eq!(out.http.len(), 1);
}

#[test]
fn streams_files_hold_each_direction() {
    let dir = tempfile::tempdir().unwrap();
    let config = StreamConfig { streams_dir: Some(dir.path().to_owned()), ..StreamConfig::default() };
    let mut w = Wire::new(80, config);
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(true, "P", c, Some(s), REQUEST);
    let resp = response("body");
    w.send(false, "P", s, Some(c + REQUEST.len() as u32), &resp);
    w.finish();
    let read = |name: &str| std::fs::read(Path::new(dir.path()).join(name)).unwrap();
    assert_eq!(read("00000001-10.0.0.1.40000-10.0.0.2.80.c2s"), REQUEST);
    assert_eq!(read("00000001-10.0.0.1.40000-10.0.0.2.80.s2c"), resp);
}

/// Out-of-order data of many connections at once: the shard's memory stays
/// under its share of the memory cap, and what did not fit is counted.
#[test]
fn out_of_order_flood_stays_under_the_memory_cap() {
    let memcap = netcap_flow::SHARDS * 64 * 1024;
    let config = StreamConfig { memcap, ..StreamConfig::default() };
    let session = SessionConfig { flows: FlowConfig::default(), streams: Some(config), quic: false };
    let mut shard = Shard::new(&session, 0);
    let mut emit = Emitter::all();
    let mut ended = Vec::new();
    let hole = [0x55u8; 1400];
    // The cap is checked before a segment is taken: one segment and one
    // probe buffer may go past it (docs/streams.md).
    const SLACK: usize = 64 * 1024 + super::PROBE_BYTES + 1400;
    for i in 0..500u32 {
        let key = FlowKey {
            ip_a: v4(CLIENT),
            ip_b: v4(SERVER),
            port_a: 1024 + i as u16,
            port_b: 80,
            ip_protocol: 6,
            v6: false,
        };
        for (n, seq) in [(0, 1_000u32), (1, 100_000)] {
            let frame = u64::from(i) * 2 + n + 1;
            let packet = FlowPacket {
                timestamp_ns: frame as i64,
                frame,
                wire_length: 1454,
                payload: 1400,
                src_mac: None,
                dst_mac: None,
                tcp_flags: tcp_flag::ACK | tcp_flag::PSH,
                tcp_window: 8192,
                tcp_window_scale: None,
                transport: TransportKind::Tcp,
                icmp_type: 0,
            };
            // The second segment starts far ahead: it must be queued.
            let p = SessionPacket {
                packet,
                key,
                from_a: true,
                tcp_seq: seq,
                tcp_ack: 1,
                payload: &hole,
                reassembled: false,
                fragment: false,
            };
            shard.observe(&p, &mut emit, &mut ended);
            assert!(shard.stream_memory() <= SLACK, "{} bytes held", shard.stream_memory());
        }
    }
    let counters = shard.stream_counters().unwrap_or_default();
    assert!(counters.memcap_hits > 0);
    assert!(counters.peak_memory <= SLACK as u64);
    assert!(counters.peak_memory >= 32 * 1024, "the cap was used: {}", counters.peak_memory);
    shard.finish(&mut emit, &mut ended);
    assert_eq!(shard.stream_memory(), 0);
}

/// docs/streams.md and scripts/stream-flood count on this bound of the
/// state every followed connection has.
const _: () = assert!(super::FIXED_CONN_BYTES <= 1280);

/// The fuzz entries of the TCP path and of reassembly on pseudo-random and
/// crafted inputs (the fuzz targets run them for longer: docs/fuzzing.md).
#[test]
fn fuzz_entries_survive_random_segments() {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..400 {
        let len = (next() % 600) as usize;
        let mut input: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 4 == 0 {
            // Small sequence offsets and real HTTP bytes, so that the
            // parsers are reached.
            for step in input.chunks_mut(6) {
                if step.len() == 6 {
                    step[2] = 0;
                    step[4] = 0;
                    step[5] %= 48;
                }
            }
            input.extend_from_slice(&[0x10, 0, 0, 0, 0, REQUEST.len() as u8]);
            input.extend_from_slice(REQUEST);
        }
        super::fuzz_entry(&input);
        crate::reassembly::fuzz_entry(&input);
    }
    super::fuzz_entry(&[]);
    crate::reassembly::fuzz_entry(&[]);
}

/// What the wire's connection reported as possible FTP data: (direction,
/// seen bytes, missing bytes, complete, SHA-256) per stream.
fn one_way(mut w: Wire) -> Vec<(Direction, u64, u64, bool, String)> {
    w.shard.finish(&mut w.emit, &mut w.ended);
    w.emit
        .ftp_data()
        .iter()
        .filter_map(|(_, e)| match e {
            FtpDataEvent::Stream(s) => {
                let f = &s.file;
                Some((s.direction, f.seen_bytes, f.missing_bytes, f.complete, f.sha256.clone()))
            }
            _ => None,
        })
        .collect()
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn one_way_streams_may_be_ftp_data() {
    let listing = b"-rw-r--r-- 1 ftp ftp 39 Jan 1 00:00 index.html\r\n";
    // A passive data connection: the server sends and closes.
    let mut w = Wire::new(50000, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(false, "P", s, Some(c), listing);
    close(&mut w, c, s + listing.len() as u32);
    assert_eq!(one_way(w), [(Direction::ToClient, listing.len() as u64, 0, true, sha256(listing))]);

    // More than the probes hold (detection gives up at 4 KiB): every byte
    // still counts. From the client: an upload.
    let big: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
    let mut w = Wire::new(50000, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    for (i, piece) in big.chunks(1460).enumerate() {
        w.send(true, "P", c + (i * 1460) as u32, Some(s), piece);
    }
    close(&mut w, c + big.len() as u32, s);
    assert_eq!(one_way(w), [(Direction::ToServer, big.len() as u64, 0, true, sha256(&big))]);

    // Content a probe takes for a protocol (an uploaded file that starts
    // with an FTP command): parsed as FTP, and still reported.
    let upload = b"STOR payload for FTP data-command sequence.\n";
    let mut w = Wire::new(21008, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(true, "P", c, Some(s), upload);
    close(&mut w, c + upload.len() as u32, s);
    assert_eq!(one_way(w), [(Direction::ToServer, upload.len() as u64, 0, true, sha256(upload))]);

    // A hole the peer acknowledged, and no FIN: incomplete.
    let mut w = Wire::new(50000, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(false, "P", s, Some(c), &listing[..10]);
    w.send(false, "P", s + 20, Some(c), &listing[20..]);
    w.send(true, "", c, Some(s + listing.len() as u32), b"");
    assert_eq!(one_way(w), [(Direction::ToClient, listing.len() as u64 - 10, 10, false, String::new())]);
}

#[test]
fn streams_both_ways_below_1024_mid_stream_or_without_files_are_not_followed() {
    let listing = b"-rw-r--r-- 1 ftp ftp 39 Jan 1 00:00 index.html\r\n";
    // Both ways.
    let mut w = Wire::new(50000, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(false, "P", s, Some(c), listing);
    w.send(true, "P", c, Some(s + listing.len() as u32), b"x");
    assert!(one_way(w).is_empty());
    // HTTP on a high port: request and response.
    let mut w = Wire::new(8080, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(true, "P", c, Some(s), REQUEST);
    w.send(false, "P", s, Some(c + REQUEST.len() as u32), &response("ok"));
    assert!(one_way(w).is_empty());
    // A well-known port.
    let mut w = Wire::new(443, StreamConfig::default());
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(false, "P", s, Some(c), listing);
    assert!(one_way(w).is_empty());
    // Picked up mid-stream (no SYN).
    let mut w = Wire::new(50000, StreamConfig::default());
    w.send(false, "P", 5000, Some(1000), listing);
    assert!(one_way(w).is_empty());
    // Without File records (nor extraction), nothing is followed.
    let mut config = StreamConfig::default();
    config.files.records = false;
    let mut w = Wire::new(50000, config);
    let (c, s) = handshake(&mut w, 1000, 5000);
    w.send(false, "P", s, Some(c), listing);
    assert!(one_way(w).is_empty());
}
