use super::*;
use crate::PacketTime;
use crate::protocols::unhex;
use netcap_records as r;

// ---------------------------------------------------------------------------
// Building crafted streams.

/// A TLS record of `kind` (version 3.3).
fn record(kind: u8, body: &[u8]) -> Vec<u8> {
    record_v(kind, 0x0303, body)
}

fn record_v(kind: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// Handshake records carrying `messages`, cut after the given lengths.
fn handshake_records(messages: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = messages;
    for &cut in cuts {
        let (a, b) = rest.split_at(cut);
        out.extend(record(HANDSHAKE, a));
        rest = b;
    }
    out.extend(record(HANDSHAKE, rest));
    out
}

/// A handshake message.
fn message(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

fn ext(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_be_bytes().to_vec();
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
    out
}

/// The ClientHello body of the decoder's tests (python-built): random
/// 0x11 * 32, session id 00..1f, suites 1301 c02f 002f, SNI example.com,
/// groups, point formats, signature algorithms, ALPN h2 http/1.1, supported
/// versions 1.3 1.2. JA3 MD5 6bfe35123df20afcf42aa008b0081ebf (hashlib).
const CLIENT_HELLO_BODY: &str = "0303111111111111111111111111111111111111111111111111111111111111111120000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00061301c02f002f0100004900000010000e00000b6578616d706c652e636f6d000a00060004001d0017000b00020100000d00060004040308040010000e000c02683208687474702f312e31002b00050403040303";

fn client_hello() -> Vec<u8> {
    message(CLIENT_HELLO, &unhex(CLIENT_HELLO_BODY))
}

/// A ServerHello body: version 3.3, random 0x22 * 32, `session_id`,
/// `cipher`, null compression, `extensions` (already encoded).
fn server_hello_body(session_id: &[u8], cipher: u16, extensions: &[u8]) -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[0x22; 32]);
    b.push(session_id.len() as u8);
    b.extend_from_slice(session_id);
    b.extend_from_slice(&cipher.to_be_bytes());
    b.push(0);
    b.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    b.extend_from_slice(extensions);
    b
}

fn server_hello(session_id: &[u8]) -> Vec<u8> {
    message(SERVER_HELLO, &server_hello_body(session_id, 0xc02f, &ext(0xff01, &[0])))
}

/// A TLS 1.3 ServerHello (supported_versions 0x0304, a key share, and a
/// pre_shared_key selection if `psk`), echoing the client's session id.
fn server_hello_13(psk: bool) -> Vec<u8> {
    let mut exts = ext(EXT_SUPPORTED_VERSIONS, &[3, 4]);
    exts.extend(ext(51, &[0, 0x1d, 0, 2, 0xaa, 0xbb]));
    if psk {
        exts.extend(ext(EXT_PRE_SHARED_KEY, &[0, 0]));
    }
    let sid: Vec<u8> = (0..32).collect();
    message(SERVER_HELLO, &server_hello_body(&sid, 0x1301, &exts))
}

/// `openssl req -x509` P-256 CA (testdata/tls/netcap-test-ca.der; its
/// fields are checked in the decoder's tests).
const CA_DER: &[u8] = include_bytes!("../../../testdata/tls/netcap-test-ca.der");
/// An Ed25519 leaf issued by it (testdata/tls/netcap-test-leaf.der).
const LEAF_DER: &[u8] = include_bytes!("../../../testdata/tls/netcap-test-leaf.der");
const CA_SHA1: &str = "02136fb4ccaf828f9ed2a51952ea1469866203f6";
const LEAF_SHA1: &str = "d05aeb6f6659e5363dd57189d9555b90982f9726";

fn certificate(ders: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for der in ders {
        list.extend_from_slice(&(der.len() as u32).to_be_bytes()[1..]);
        list.extend_from_slice(der);
    }
    let mut body = (list.len() as u32).to_be_bytes()[1..].to_vec();
    body.extend(list);
    message(CERTIFICATE, &body)
}

fn server_hello_done() -> Vec<u8> {
    message(SERVER_HELLO_DONE, &[])
}

fn ccs() -> Vec<u8> {
    record(CHANGE_CIPHER_SPEC, &[1])
}

/// An encrypted record (a Finished after ChangeCipherSpec, or data).
fn encrypted(kind: u8, len: usize) -> Vec<u8> {
    record(kind, &vec![0x5a; len])
}

// ---------------------------------------------------------------------------
// Running a parser.

use Direction::{ToClient as S, ToServer as C};

#[derive(Debug, Clone)]
enum Step {
    Data(Direction, Vec<u8>),
    Gap(Direction, u64),
}

/// What a run produced.
#[derive(Debug, PartialEq)]
struct Out {
    client_hellos: Vec<r::TlsClientHello>,
    server_hellos: Vec<r::TlsServerHello>,
    certificates: Vec<r::TlsCertificate>,
    facts: ConnectionExtras,
    errors: u64,
    done: [bool; 2],
}

fn collect(h: &TestHarness, parser: &Tls, done: [bool; 2]) -> Out {
    let mut facts = ConnectionExtras::default();
    parser.facts(&mut facts);
    Out {
        client_hellos: h.emit.decoded(RecordType::Tlsclienthello),
        server_hellos: h.emit.decoded(RecordType::Tlsserverhello),
        certificates: h.emit.decoded(RecordType::Tlscertificate),
        facts,
        errors: h.errors.errors.iter().sum(),
        done,
    }
}

/// Feeds the steps cut in pieces of `chunk` bytes (as reassembly would,
/// except that `parse` is called after every piece), then ends both
/// directions.
fn run(steps: &[Step], chunk: usize) -> Out {
    let mut h = TestHarness::default();
    let mut parser = Tls::default();
    let mut pending = [Vec::new(), Vec::new()];
    let mut done = [false; 2];
    for step in steps {
        match step {
            Step::Data(dir, bytes) => {
                let d = dir.index();
                if !done[d] {
                    done[d] = h.feed(&mut parser, *dir, bytes, chunk, &mut pending[d]);
                }
            }
            Step::Gap(dir, n) => {
                let d = dir.index();
                if !done[d] {
                    pending[d].clear();
                    parser.gap(&mut h.cx(), *dir, *n);
                }
            }
        }
        assert!(parser.memory() <= 3 * MAX_MESSAGE);
    }
    for dir in [C, S] {
        parser.end(&mut h.cx(), dir, &pending[dir.index()]);
    }
    parser.finish(&mut h.cx());
    collect(&h, &parser, done)
}

/// Runs the steps at every chunk size from 1 to the longest step (and the
/// larger sizes in `extra`), asserting identical output; returns it.
fn run_all_cuts(steps: &[Step]) -> Out {
    let whole = run(steps, usize::MAX);
    let longest = steps.iter().map(|s| if let Step::Data(_, b) = s { b.len() } else { 0 }).max().unwrap_or(1);
    for chunk in 1..=longest {
        assert_eq!(run(steps, chunk), whole, "chunk size {chunk}");
    }
    whole
}

// ---------------------------------------------------------------------------
// Crafted streams.

#[test]
fn probe_recognises_handshakes_and_sslv2_hellos() {
    assert_eq!(probe(C, &[]), Probe::NeedMore);
    assert_eq!(probe(C, &[22, 3]), Probe::NeedMore);
    assert_eq!(probe(S, &[22, 3, 3, 0, 5]), Probe::Yes);
    assert_eq!(probe(C, &[22, 3, 5]), Probe::No);
    assert_eq!(probe(C, b"GET / HTTP/1.1"), Probe::No);
    // SSL 2.0 ClientHello (Zeek's ssl-v2.pcap) and its prefixes.
    let v2 = unhex("802e0100020015000000100700c0");
    assert_eq!(probe(C, &v2), Probe::Yes);
    assert_eq!(probe(C, &v2[..2]), Probe::NeedMore);
    assert_eq!(probe(C, &v2[..4]), Probe::NeedMore);
    assert_eq!(probe(S, &v2), Probe::No);
    // An SSLv2-compatible hello of a TLS 1.0 client.
    assert_eq!(probe(C, &[0x80, 0x4c, 1, 3, 1, 0, 0x33]), Probe::Yes);
    assert_eq!(probe(C, &[0x80, 0x4c, 2, 3, 1]), Probe::No);
    assert_eq!(probe(C, &[0x80, 0x4c, 1, 3, 7]), Probe::No);
}

#[test]
fn client_hello_split_over_two_records_and_many_segments() {
    let hello = client_hello();
    let steps = [Step::Data(C, handshake_records(&hello, &[2])), Step::Data(C, handshake_records(&hello, &[100]))];
    let out = run_all_cuts(&steps);
    assert_eq!(out.client_hellos.len(), 2);
    let ch = &out.client_hellos[0];
    assert_eq!(ch.sni, "example.com");
    assert_eq!(ch.ja3_hash, "6bfe35123df20afcf42aa008b0081ebf");
    assert_eq!(ch.ja4, "t13d0306h2_54093f43ad55_fb71836bce29");
    assert_eq!(ch.handshake_length, 152);
    assert_eq!(ch.record_version, 0x0303);
    assert_eq!(ch.session_id, (0..32).collect::<Vec<u8>>());
    // Endpoints: the client sent it.
    assert_eq!((ch.src_ip.as_slice(), ch.src_port, ch.dst_port), (&[10, 0, 0, 1][..], 40000, 80));
    assert_eq!((ch.frame, ch.timestamp_ns, ch.community_id.as_str()), (1, 1_000_000_000, "1:test"));
    assert_eq!(out.client_hellos[1], *ch);
    assert_eq!(out.facts.tls_server_name, "example.com");
    assert_eq!(out.errors, 0);
    assert_eq!(out.done, [false, false]);
}

#[test]
fn two_messages_in_one_record() {
    // A client flight: Certificate and ClientKeyExchange in one record.
    let mut flight = certificate(&[LEAF_DER]);
    flight.extend(message(16, &[0, 2, 0xab, 0xcd]));
    let steps = [
        Step::Data(C, record(HANDSHAKE, &client_hello())),
        Step::Data(S, handshake_records(&[server_hello(&[]), server_hello_done()].concat(), &[])),
        Step::Data(C, record(HANDSHAKE, &flight)),
    ];
    let out = run_all_cuts(&steps);
    assert_eq!(out.certificates.len(), 1);
    let cert = &out.certificates[0];
    assert_eq!((cert.index, cert.sha1.as_str(), cert.client), (0, LEAF_SHA1, true));
    assert_eq!((cert.src_ip.as_slice(), cert.src_port), (&[10, 0, 0, 1][..], 40000));
    assert_eq!(cert.subject_cn, "leaf.example");
    assert_eq!(out.errors, 0);
}

#[test]
fn server_hello_certificate_and_done_in_one_record() {
    let flight = [server_hello(&[9; 32]), certificate(&[LEAF_DER, CA_DER]), server_hello_done()].concat();
    let steps = [Step::Data(C, record(HANDSHAKE, &client_hello())), Step::Data(S, record(HANDSHAKE, &flight))];
    let out = run_all_cuts(&steps);
    let sh = &out.server_hellos[..];
    assert_eq!(sh.len(), 1);
    assert_eq!((sh[0].version, sh[0].cipher_suite, sh[0].session_id.as_slice()), (0x0303, 0xc02f, &[9; 32][..]));
    assert_eq!(sh[0].ja3s, "771,49199,65281");
    // Sent by the server.
    assert_eq!((sh[0].src_ip.as_slice(), sh[0].src_port, sh[0].dst_port), (&[10, 0, 0, 2][..], 80, 40000));
    let certs = &out.certificates;
    assert_eq!(certs.len(), 2);
    assert_eq!((certs[0].index, certs[0].sha1.as_str(), certs[0].client), (0, LEAF_SHA1, false));
    assert_eq!((certs[1].index, certs[1].sha1.as_str()), (1, CA_SHA1));
    assert!(certs[1].is_ca && certs[1].self_signed);
    assert_eq!(certs[1].san_ip, ["192.0.2.1", "2001:db8::1"]);
    assert_eq!((certs[0].src_port, certs[1].dst_port), (80, 40000));
    assert_eq!(out.facts.tls_version, 0x0303);
    assert_eq!(out.facts.tls_cipher, 0xc02f);
    assert!(!out.facts.tls_resumed);
    assert!(!out.facts.tls_established);
    assert_eq!(out.errors, 0);
}

#[test]
fn certificate_message_spanning_three_records() {
    let cert = certificate(&[LEAF_DER, CA_DER]);
    // Cuts inside the header of the message, then inside the first DER.
    let steps = [Step::Data(S, handshake_records(&cert, &[2, 300]))];
    let out = run_all_cuts(&steps);
    assert_eq!(out.certificates.iter().map(|c| c.sha1.as_str()).collect::<Vec<_>>(), [LEAF_SHA1, CA_SHA1]);
    assert_eq!(out.errors, 0);
}

/// Parses `bytes` in one call, its runs starting at `starts` carried by
/// frames 7, 8, ...
fn parse_in_packets(bytes: &[u8], starts: &[usize]) -> TestHarness {
    let times: Vec<(usize, PacketTime)> = starts
        .iter()
        .enumerate()
        .map(|(i, &at)| (at, PacketTime { timestamp_ns: 10 + i as i64, frame: 7 + i as u64 }))
        .collect();
    let mut h = TestHarness::default();
    let mut parser = Tls::default();
    let mut cx = h.cx();
    cx.times = &times;
    assert_eq!(parser.parse(&mut cx, S, bytes), Parsed::Continue { consumed: bytes.len(), needed: 5 });
    h
}

#[test]
fn messages_are_stamped_with_the_packet_completing_their_record() {
    // A Certificate message over three records in three packets: the third.
    let bytes = handshake_records(&certificate(&[LEAF_DER]), &[100, 100]);
    let h = parse_in_packets(&bytes, &[0, 150, 300]);
    let certs: Vec<r::TlsCertificate> = h.emit.decoded(RecordType::Tlscertificate);
    assert_eq!((certs[0].frame, certs[0].timestamp_ns), (9, 12));
    // ServerHello and Certificate in one record whose second packet begins
    // after the ServerHello: both at the record's completion (as tshark,
    // which dissects a record once reassembled).
    let flight = [server_hello(&[]), certificate(&[LEAF_DER])].concat();
    let bytes = record(HANDSHAKE, &flight);
    let h = parse_in_packets(&bytes, &[0, 200]);
    let sh: Vec<r::TlsServerHello> = h.emit.decoded(RecordType::Tlsserverhello);
    let certs: Vec<r::TlsCertificate> = h.emit.decoded(RecordType::Tlscertificate);
    assert_eq!((sh[0].frame, certs[0].frame), (8, 8));
    // Two records: the ServerHello's record completes in the first packet.
    let bytes = handshake_records(&flight, &[server_hello(&[]).len()]);
    let h = parse_in_packets(&bytes, &[0, 200]);
    let sh: Vec<r::TlsServerHello> = h.emit.decoded(RecordType::Tlsserverhello);
    let certs: Vec<r::TlsCertificate> = h.emit.decoded(RecordType::Tlscertificate);
    assert_eq!((sh[0].frame, certs[0].frame), (7, 8));
}

/// A full TLS 1.2 handshake, then application data.
fn tls12_handshake(server_session_id: &[u8]) -> Vec<Step> {
    vec![
        Step::Data(C, record_v(HANDSHAKE, 0x0301, &client_hello())),
        Step::Data(
            S,
            handshake_records(
                &[server_hello(server_session_id), certificate(&[LEAF_DER]), server_hello_done()].concat(),
                &[],
            ),
        ),
        Step::Data(C, [record(HANDSHAKE, &message(16, &[0, 2, 1, 2])), ccs(), encrypted(HANDSHAKE, 40)].concat()),
        Step::Data(S, [ccs(), encrypted(HANDSHAKE, 40)].concat()),
        Step::Data(C, encrypted(APPLICATION_DATA, 100)),
        Step::Data(S, [encrypted(APPLICATION_DATA, 300), b"anything at all".to_vec()].concat()),
    ]
}

#[test]
fn change_cipher_spec_and_application_data_then_done() {
    let out = run_all_cuts(&tls12_handshake(&[7; 32]));
    assert_eq!(out.done, [true, true]);
    assert_eq!(out.client_hellos[0].record_version, 0x0301);
    assert_eq!(out.certificates.len(), 1);
    assert!(out.facts.tls_established);
    assert!(!out.facts.tls_resumed);
    assert_eq!((out.facts.tls_version, out.facts.tls_cipher), (0x0303, 0xc02f));
    assert_eq!(out.errors, 0);
}

#[test]
fn done_directions_cost_nothing() {
    let mut h = TestHarness::default();
    let mut parser = Tls::default();
    let mut pending = Vec::new();
    let client = [record(HANDSHAKE, &client_hello()), ccs(), encrypted(HANDSHAKE, 40)].concat();
    assert!(h.feed(&mut parser, C, &client, usize::MAX, &mut pending));
    // Garbage afterwards is not even looked at.
    assert_eq!(parser.parse(&mut h.cx(), C, b"\xff\xff\xff\xff\xff\xff"), Parsed::Done);
    assert_eq!(h.errors.errors.iter().sum::<u64>(), 0);
    // Its message buffer is freed.
    assert_eq!(parser.sides[0].message.capacity(), 0);
}

#[test]
fn established_needs_both_sides() {
    // Only the client switched: not established.
    let steps = &tls12_handshake(&[7; 32])[..3];
    let out = run(steps, usize::MAX);
    assert_eq!(out.done, [true, false]);
    assert!(!out.facts.tls_established);
}

#[test]
fn resumed_by_session_id() {
    let sid: Vec<u8> = (0..32).collect();
    let steps = [
        Step::Data(C, record(HANDSHAKE, &client_hello())),
        Step::Data(S, [record(HANDSHAKE, &server_hello(&sid)), ccs(), encrypted(HANDSHAKE, 40)].concat()),
        Step::Data(C, [ccs(), encrypted(HANDSHAKE, 40)].concat()),
    ];
    let out = run_all_cuts(&steps);
    assert!(out.facts.tls_resumed);
    assert!(out.facts.tls_established);
    assert_eq!(out.done, [true, true]);
}

#[test]
fn resumed_by_abbreviated_handshake_with_ticket() {
    // The client's session id is not echoed (a ticket resumes), but the
    // server's ChangeCipherSpec follows its ServerHello and NewSessionTicket.
    let ticket = message(4, &[0, 0, 0, 1, 0, 2, 0xaa, 0xbb]);
    let steps = [
        Step::Data(C, record(HANDSHAKE, &client_hello())),
        Step::Data(S, [handshake_records(&[server_hello(&[5; 32]), ticket].concat(), &[]), ccs()].concat()),
    ];
    let out = run_all_cuts(&steps);
    assert!(out.facts.tls_resumed);
    assert!(!out.facts.tls_established);
}

#[test]
fn tls13_established_by_application_data_from_both_sides() {
    for psk in [false, true] {
        let steps = [
            Step::Data(C, record_v(HANDSHAKE, 0x0301, &client_hello())),
            Step::Data(S, [record(HANDSHAKE, &server_hello_13(psk)), ccs(), encrypted(APPLICATION_DATA, 900)].concat()),
            Step::Data(C, [ccs(), encrypted(APPLICATION_DATA, 53)].concat()),
            Step::Data(S, encrypted(APPLICATION_DATA, 200)),
        ];
        let out = run_all_cuts(&steps);
        assert_eq!(out.server_hellos[0].selected_version, 0x0304);
        // The session id echo of TLS 1.3 is no resumption; a PSK is.
        assert_eq!(out.facts.tls_resumed, psk);
        assert!(out.facts.tls_established);
        assert_eq!((out.facts.tls_version, out.facts.tls_cipher), (0x0304, 0x1301));
        assert!(out.certificates.is_empty());
        assert_eq!(out.done, [true, true]);
        assert_eq!(out.errors, 0);
    }
}

#[test]
fn tls13_server_flight_alone_is_not_established() {
    let steps = [
        Step::Data(C, record(HANDSHAKE, &client_hello())),
        Step::Data(S, [record(HANDSHAKE, &server_hello_13(false)), encrypted(APPLICATION_DATA, 900)].concat()),
    ];
    let out = run(&steps, usize::MAX);
    assert!(!out.facts.tls_established);
    assert_eq!(out.done, [false, true]);
}

#[test]
fn fatal_alert_aborts_the_handshake() {
    let steps = [
        Step::Data(C, record(HANDSHAKE, &client_hello())),
        Step::Data(
            S,
            handshake_records(&[server_hello(&[]), certificate(&[LEAF_DER]), server_hello_done()].concat(), &[]),
        ),
        // unknown_ca, fatal.
        Step::Data(C, record(ALERT, &[2, 48])),
        Step::Data(S, [ccs(), encrypted(HANDSHAKE, 40)].concat()),
        Step::Data(C, [ccs(), encrypted(HANDSHAKE, 40)].concat()),
    ];
    let out = run_all_cuts(&steps);
    assert!(!out.facts.tls_established);
    assert_eq!(out.certificates.len(), 1);
    assert_eq!(out.errors, 0);
    // A warning (close_notify) does not.
    let mut steps = steps.to_vec();
    steps[2] = Step::Data(C, record(ALERT, &[1, 0]));
    assert!(run(&steps, usize::MAX).facts.tls_established);
}

#[test]
fn garbage_from_the_start_gives_up() {
    for garbage in
        [&b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..], &[22, 3, 3, 0xff, 0xff, 0, 0], &[22, 2, 0, 0, 4, 1, 0, 0, 0]]
    {
        let out = run_all_cuts(&[Step::Data(C, garbage.to_vec())]);
        assert_eq!((out.errors, out.done), (1, [true, false]), "{garbage:?}");
        assert!(out.client_hellos.is_empty());
    }
}

#[test]
fn garbage_between_records_resynchronises() {
    let bytes =
        [record(HANDSHAKE, &client_hello()), vec![0xff; 7], record(HANDSHAKE, &certificate(&[LEAF_DER]))].concat();
    let out = run_all_cuts(&[Step::Data(C, bytes)]);
    assert_eq!(out.client_hellos.len(), 1);
    assert_eq!(out.certificates.len(), 1);
    assert_eq!(out.errors, 1);
    assert_eq!(out.done, [false, false]);
}

#[test]
fn gap_then_resync() {
    let cert = certificate(&[LEAF_DER, CA_DER]);
    let records = handshake_records(&cert, &[400]);
    let first = records[..405].to_vec();
    // A gap cuts the Certificate message: the message is lost (one error);
    // the bytes after the gap start inside a record; the next record header
    // is found and its ServerHelloDone read; no ServerHello, no certificate.
    let steps = [
        Step::Data(S, first),
        Step::Gap(S, 100),
        Step::Data(
            S,
            [vec![0x33; 57], record(HANDSHAKE, &server_hello_done()), ccs(), encrypted(HANDSHAKE, 40)].concat(),
        ),
    ];
    let out = run_all_cuts(&steps);
    assert!(out.certificates.is_empty());
    assert_eq!(out.errors, 1);
    assert_eq!(out.done, [false, true]);
    // A gap between records: nothing lost, nothing counted.
    let steps = [
        Step::Data(S, record(HANDSHAKE, &server_hello(&[]))),
        Step::Gap(S, 1000),
        Step::Data(S, [vec![0x01; 3], record(HANDSHAKE, &cert)].concat()),
    ];
    let out = run_all_cuts(&steps);
    assert_eq!(out.certificates.len(), 2);
    assert_eq!(out.errors, 0);
}

#[test]
fn gaps_without_a_header_give_up() {
    // Bytes that never contain a plausible header: the search stops after
    // its window.
    let steps =
        [Step::Data(C, record(HANDSHAKE, &client_hello())), Step::Gap(C, 10), Step::Data(C, vec![0x99; 40_000])];
    for chunk in [1, 7, 1000, usize::MAX] {
        let out = run(&steps, chunk);
        assert_eq!((out.errors, out.done), (1, [true, false]), "chunk {chunk}");
    }
    // Too many gaps.
    let mut steps = vec![Step::Data(C, record(HANDSHAKE, &client_hello()))];
    for _ in 0..=MAX_RESYNCS {
        steps.push(Step::Gap(C, 10));
    }
    steps.push(Step::Data(C, record(HANDSHAKE, &client_hello())));
    let out = run(&steps, usize::MAX);
    assert_eq!((out.client_hellos.len(), out.errors, out.done), (1, 1, [true, false]));
}

#[test]
fn oversize_message_is_skipped_and_counted() {
    // A message declaring 70000 bytes over five records, then a Certificate.
    let mut huge = vec![CERTIFICATE, 0x01, 0x11, 0x70];
    huge.resize(4 + 70_000, 0x42);
    let cuts = [16_000, 16_000, 16_000, 16_000];
    let bytes = [handshake_records(&huge, &cuts), record(HANDSHAKE, &certificate(&[LEAF_DER]))].concat();
    let steps = [Step::Data(S, bytes.clone())];
    let whole = run(&steps, usize::MAX);
    for chunk in (1..=70).chain([509, 4096, 16_005, 16_006, 40_000]) {
        assert_eq!(run(&steps, chunk), whole, "chunk {chunk}");
    }
    assert_eq!(whole.errors, 1);
    assert_eq!(whole.certificates.iter().map(|c| c.sha1.as_str()).collect::<Vec<_>>(), [LEAF_SHA1]);
    // The same when the length is learnt from a header split over records.
    let bytes =
        [handshake_records(&huge, &[2, 16_000, 16_000, 16_000, 16_000]), record(HANDSHAKE, &certificate(&[LEAF_DER]))]
            .concat();
    let out = run(&[Step::Data(S, bytes)], 3);
    assert_eq!((out.errors, out.certificates.len()), (1, 1));
    // A message within the bound is buffered, exactly.
    let mut big = vec![CERTIFICATE, 0x00, 0xea, 0x60];
    big.resize(59_000, 0x42);
    let mut parser = Tls::default();
    let mut h = TestHarness::default();
    let mut pending = Vec::new();
    h.feed(&mut parser, S, &handshake_records(&big, &[16_000, 16_000, 16_000]), 999, &mut pending);
    assert_eq!(parser.sides[1].message.len(), 59_000);
    assert!(parser.memory() <= 60_004 + 64, "{}", parser.memory());
}

#[test]
fn record_length_bound() {
    // Records up to 2^14 + 2048 bytes; one byte more is an error.
    let ok = record(HEARTBEAT, &vec![0; MAX_RECORD]);
    let mut bad = record(HEARTBEAT, &vec![0; MAX_RECORD + 1]);
    let out = run(&[Step::Data(C, [ok.clone(), record(HANDSHAKE, &client_hello())].concat())], 1000);
    assert_eq!((out.errors, out.client_hellos.len()), (0, 1));
    bad.extend(record(HANDSHAKE, &client_hello()));
    let out = run(&[Step::Data(C, [record(HANDSHAKE, &client_hello()), bad].concat())], 1000);
    // After the error, the search resynchronises on the ClientHello.
    assert_eq!((out.errors, out.client_hellos.len()), (1, 2));
}

#[test]
fn malformed_messages_are_counted() {
    let steps = [
        // A ClientHello too short to parse, a ServerHello too.
        Step::Data(C, record(HANDSHAKE, &message(CLIENT_HELLO, &[3, 3, 0]))),
        Step::Data(S, record(HANDSHAKE, &message(SERVER_HELLO, &[3, 3]))),
        // A certificate list longer than its message, then one whose DER is cut.
        Step::Data(S, record(HANDSHAKE, &message(CERTIFICATE, &[0, 0, 9, 0, 0, 1, 0x30]))),
        Step::Data(S, record(HANDSHAKE, &message(CERTIFICATE, &[0, 0, 4, 0, 0, 9, 0x30]))),
        // Not a certificate at all.
        Step::Data(S, record(HANDSHAKE, &message(CERTIFICATE, &[0, 0, 5, 0, 0, 2, 0x30, 0]))),
    ];
    let out = run_all_cuts(&steps);
    assert!(out.client_hellos.is_empty() && out.server_hellos.is_empty() && out.certificates.is_empty());
    // 1 + 1, then 2 (list length, unreadable DER), 1 (DER cut), 1 (unreadable).
    assert_eq!(out.errors, 6);
}

#[test]
fn truncated_message_at_the_end_is_counted() {
    let cert = certificate(&[LEAF_DER]);
    let out = run(&[Step::Data(S, handshake_records(&cert[..200], &[]))], usize::MAX);
    assert_eq!((out.errors, out.certificates.len()), (1, 0));
}

#[test]
fn unwanted_records_are_not_filled_but_facts_are() {
    let mut h = TestHarness { emit: crate::Emitter::new(vec![false; RecordType::count()]), ..TestHarness::default() };
    let mut parser = Tls::default();
    let mut pending = [Vec::new(), Vec::new()];
    for step in tls12_handshake(&[]) {
        if let Step::Data(dir, bytes) = step {
            h.feed(&mut parser, dir, &bytes, usize::MAX, &mut pending[dir.index()]);
        }
    }
    let out = collect(&h, &parser, [true, true]);
    assert!(out.client_hellos.is_empty() && out.certificates.is_empty());
    assert_eq!(out.facts.tls_server_name, "example.com");
    assert!(out.facts.tls_established);
}

#[test]
fn fuzz_entry_survives() {
    fuzz_entry(&[]);
    fuzz_entry(&[0]);
    let mut state = 0x1234_5678u32;
    let streams = [
        tls12_handshake(&[])
            .into_iter()
            .filter_map(|s| if let Step::Data(_, b) = s { Some(b) } else { None })
            .collect::<Vec<_>>()
            .concat(),
        handshake_records(&certificate(&[LEAF_DER, CA_DER]), &[3, 100]),
    ];
    for seed in 0..=255u8 {
        for stream in &streams {
            let mut data = vec![seed];
            data.extend(stream);
            // Flip a few bytes.
            for _ in 0..seed % 8 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let at = 1 + (state >> 8) as usize % (data.len() - 1);
                data[at] ^= (state >> 24) as u8;
            }
            fuzz_entry(&data);
        }
        let noise: Vec<u8> = (0..600)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 24) as u8
            })
            .collect();
        fuzz_entry(&noise);
    }
}

// ---------------------------------------------------------------------------
// Captured streams (testdata/tls/*.txt: one line per TCP segment with
// payload, `<frame> <c|s> <hex>`, made with `tshark -T fields -e
// frame.number -e ip.src -e tcp.srcport -e tcp.payload` and checked against
// `tshark -q -z follow,tcp,raw,N`; testdata/tls/README.md). Expected values
// are tshark 4.0's (`-e tls.handshake.ja3 -e tls.handshake.ja3_full -e
// tls.handshake.ja3s ...`), certificate digests are sha1sum/sha256sum of the
// DER in `tls.handshake.certificate`.

/// Replays a fixture the way reassembly hands data over: per direction, the
/// unconsumed rest and the packets its bytes came with.
fn replay(fixture: &str) -> Out {
    let mut h = TestHarness::default();
    let mut parser = Tls::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut times: [Vec<(usize, PacketTime)>; 2] = Default::default();
    let mut done = [false; 2];
    for line in fixture.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split(' ');
        let frame: u64 = fields.next().unwrap().parse().unwrap();
        let dir = if fields.next() == Some("c") { C } else { S };
        let bytes = unhex(fields.next().unwrap());
        let d = dir.index();
        if done[d] {
            continue;
        }
        let now = PacketTime { timestamp_ns: frame as i64 * 1000, frame };
        times[d].push((pending[d].len(), now));
        pending[d].extend_from_slice(&bytes);
        let mut cx = ParseContext {
            memory_room: usize::MAX,
            conn: &h.conn,
            emit: &mut h.emit,
            files: &mut h.files,
            now,
            times: &times[d],
            protocol: 0,
            errors: &mut h.errors,
        };
        match parser.parse(&mut cx, dir, &pending[d]) {
            Parsed::Continue { consumed, .. } => {
                pending[d].drain(..consumed);
                // The packet of the first byte left, then the later ones.
                let keep = times[d].partition_point(|&(at, _)| at <= consumed).saturating_sub(1);
                times[d].drain(..keep);
                for (at, _) in &mut times[d] {
                    *at = at.saturating_sub(consumed);
                }
            }
            Parsed::Done => {
                done[d] = true;
                pending[d].clear();
            }
        }
    }
    for dir in [C, S] {
        parser.end(&mut h.cx(), dir, &pending[dir.index()]);
    }
    parser.finish(&mut h.cx());
    collect(&h, &parser, done)
}

/// The fixture in one piece per direction and cut in pieces of every size
/// up to `max_chunk` give the same records, frames aside.
fn same_records_at_any_cut(fixture: &str, max_chunk: usize) {
    let mut steps = Vec::new();
    for line in fixture.lines().filter(|l| !l.trim().is_empty()) {
        let mut fields = line.split(' ');
        fields.next();
        let dir = if fields.next() == Some("c") { C } else { S };
        steps.push(Step::Data(dir, unhex(fields.next().unwrap())));
    }
    let whole = run(&steps, usize::MAX);
    for chunk in 1..=max_chunk {
        assert_eq!(run(&steps, chunk), whole, "chunk {chunk}");
    }
}

fn sha1s(certs: &[r::TlsCertificate]) -> Vec<&str> {
    certs.iter().map(|c| c.sha1.as_str()).collect()
}

const SPLIT_CLIENT_HELLO: &str = include_str!("../../../testdata/tls/arkime-tls-split-client-hello.txt");
const TLS12: &str = include_str!("../../../testdata/tls/zeek-tls1.2.txt");
const TLS13_WOLFSSL: &str = include_str!("../../../testdata/tls/zeek-tls13_wolfssl.txt");
const EXPIRED_CERT: &str = include_str!("../../../testdata/tls/zeek-tls-expired-cert-stream1.txt");
const CLIENT_CERTIFICATE: &str = include_str!("../../../testdata/tls/zeek-tls-client-certificate.txt");
const SSL_V2: &str = include_str!("../../../testdata/tls/zeek-tls-ssl-v2.txt");
const ML_DSA: &str = include_str!("../../../testdata/tls/zeek-tls-ml-dsa-44-cert.txt");

#[test]
fn arkime_split_client_hello() {
    // tshark: ClientHello (1720 bytes) reassembled at frame 5 from frames 4
    // and 5, record version 0x0301, SNI clients2.google.com; ServerHello at
    // frame 8 selecting 0x0304, TLS_AES_128_GCM_SHA256.
    let out = replay(SPLIT_CLIENT_HELLO);
    let ch = &out.client_hellos;
    assert_eq!(ch.len(), 1);
    assert_eq!((ch[0].frame, ch[0].timestamp_ns), (5, 5000));
    assert_eq!(ch[0].record_version, 0x0301);
    assert_eq!(ch[0].version, 0x0303);
    assert_eq!(ch[0].handshake_length, 1720);
    assert_eq!(ch[0].sni, "clients2.google.com");
    assert_eq!(
        ch[0].ja3,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,13-18-45-27-65037-43-51-0-11-35-5-23-16-10-65281-17513,4588-29-23-24,0"
    );
    assert_eq!(ch[0].ja3_hash, "35708a08e7be9f7aa5bce7f2d5c1cecb");
    assert_eq!(ch[0].supported_versions, [0x9a9a, 0x0304, 0x0303]);
    assert_eq!(ch[0].session_id.len(), 32);
    assert!(ch[0].ja4.starts_with("t13d"));
    let sh = &out.server_hellos;
    assert_eq!(sh.len(), 1);
    assert_eq!((sh[0].frame, sh[0].version, sh[0].selected_version), (8, 0x0303, 0x0304));
    assert_eq!(sh[0].ja3s, "771,4865,51-43");
    assert_eq!(sh[0].ja3s_hash, "eb1d94daa7e0344597e756a1fb6e7054");
    assert!(out.certificates.is_empty());
    let f = &out.facts;
    assert_eq!((f.tls_version, f.tls_cipher, f.tls_server_name.as_str()), (0x0304, 0x1301, "clients2.google.com"));
    // Application data from the server (frame 8) and the client (frame 17).
    assert!(f.tls_established);
    assert!(!f.tls_resumed);
    assert_eq!((out.errors, out.done), (0, [true, true]));
    same_records_at_any_cut(SPLIT_CLIENT_HELLO, 40);
}

#[test]
fn zeek_tls12() {
    // tshark: ClientHello frame 4 (no SNI), ServerHello frame 5 (0x0303,
    // TLS_RSA_WITH_RC4_128_MD5), Certificate frame 8 (3 certificates).
    // Zeek's ssl.log: established T, resumed F; its x509.log gives the same
    // SHA-256 fingerprints, key type rsa 2048, and CA flags F, T, T.
    let out = replay(TLS12);
    let ch = &out.client_hellos[0];
    assert_eq!((ch.frame, ch.sni.as_str(), ch.handshake_length), (4, "", 313));
    assert_eq!(ch.ja3_hash, "bd9c99b3a0f752c3ab8b052a79e9de3e");
    assert!(ch.ja3.starts_with("771,49200-49196-49192-"));
    assert!(
        ch.ja3.ends_with(",11-10-35-13-15,14-13-25-11-12-24-9-10-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2")
    );
    let sh = &out.server_hellos[0];
    assert_eq!((sh.frame, sh.cipher_suite, sh.ja3s.as_str()), (5, 4, "771,4,65281"));
    assert_eq!(sh.ja3s_hash, "c253ec3ad88e42f8da4032682892f9a0");
    let certs = &out.certificates;
    assert_eq!(
        sha1s(certs),
        [
            "3367a1824a6013c02a3e25bbe4da863387faf134",
            "b9b4c7a488c0885ec1c83aa87e4ebd2b215f9fa4",
            "02faf3e291435468607857694df5e45b68851868"
        ]
    );
    assert_eq!(
        certs.iter().map(|c| c.sha256.as_str()).collect::<Vec<_>>(),
        [
            "95cb443934beda97627688546191ab1d3989a835592cebdd2434f9ad41324ce1",
            "7363593d116aafcf804b974465546e1f02ed74b52db529ba7520345e5fed1ed4",
            "687fa451382278fff0c8b11f8d43d576671c6eb2bceab413fb83d965d06d2ff2"
        ]
    );
    assert!(certs.iter().all(|c| c.frame == 8 && !c.client && c.src_port == 80));
    assert_eq!(certs.iter().map(|c| c.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(certs.iter().map(|c| c.length).collect::<Vec<_>>(), [1449, 1280, 1082]);
    let leaf = &certs[0];
    // The serial's DER content bytes, sign byte included (as before).
    assert_eq!(leaf.serial, "0099faa8037a4eb2faef84eb5e55d5b8c8");
    assert_eq!(leaf.subject_cn, "*.taleo.net");
    assert_eq!(leaf.issuer_cn, "COMODO High-Assurance Secure Server CA");
    assert_eq!(
        leaf.subject,
        // openssl -nameopt compat: /C=US/postalCode=94568/ST=CA/L=Dublin/street=...; x509-parser names street streetAddress.
        "C=US, postalCode=94568, ST=CA, L=Dublin, streetAddress=Suite 400, streetAddress=4140 Dublin Boulevard, O=Taleo Inc., OU=Web, OU=Comodo PremiumSSL Wildcard, CN=*.taleo.net"
    );
    assert_eq!(
        leaf.issuer,
        "C=GB, ST=Greater Manchester, L=Salford, O=COMODO CA Limited, CN=COMODO High-Assurance Secure Server CA"
    );
    assert_eq!(leaf.san_dns, ["*.taleo.net", "taleo.net"]);
    assert_eq!((leaf.not_before, leaf.not_after), (1_304_467_200, 1_467_676_799));
    assert_eq!((leaf.key_type.as_str(), leaf.key_bits), ("RSA", 2048));
    assert_eq!(certs.iter().map(|c| c.is_ca).collect::<Vec<_>>(), [false, true, true]);
    assert_eq!(certs.iter().map(|c| c.self_signed).collect::<Vec<_>>(), [false, false, true]);
    assert_eq!(certs[2].subject, "C=SE, O=AddTrust AB, OU=AddTrust External TTP Network, CN=AddTrust External CA Root");
    let f = &out.facts;
    assert_eq!((f.tls_version, f.tls_cipher), (0x0303, 4));
    assert!(f.tls_established && !f.tls_resumed);
    assert_eq!((out.errors, out.done), (0, [true, true]));
    same_records_at_any_cut(TLS12, 64);
}

#[test]
fn zeek_tls13_wolfssl() {
    // tshark: ClientHello frame 4, ServerHello frame 6 selecting 0x0304,
    // TLS_AES_256_GCM_SHA384. Zeek: established T (at the client's
    // Finished), resumed F, no ChangeCipherSpec.
    let out = replay(TLS13_WOLFSSL);
    let ch = &out.client_hellos[0];
    assert_eq!((ch.frame, ch.ja3.as_str()), (4, "771,4866,51-43-13-11-10-23,25-24-23-21-19-16-256,0"));
    assert_eq!(ch.ja3_hash, "39cef737bf0cabc32c28f95d09b97702");
    assert_eq!(ch.supported_versions, [0x0304, 0x0303, 0x0302]);
    let sh = &out.server_hellos[0];
    assert_eq!((sh.frame, sh.selected_version, sh.ja3s.as_str()), (6, 0x0304, "771,4866,51-43"));
    assert_eq!(sh.ja3s_hash, "907bf3ecef1c987c889946b737b43de8");
    assert!(out.certificates.is_empty());
    let f = &out.facts;
    assert_eq!((f.tls_version, f.tls_cipher), (0x0304, 0x1302));
    assert!(f.tls_established && !f.tls_resumed);
    assert_eq!((out.errors, out.done), (0, [true, true]));
    same_records_at_any_cut(TLS13_WOLFSSL, 64);
}

#[test]
fn zeek_expired_cert_chain_over_three_segments() {
    // Stream 1 of tls-expired-cert.pcap: the Certificate message (one
    // record of 4162 bytes) spans frames 32, 33 and 35; tshark shows it at
    // frame 35. ServerHello frame 32: TLS 1.0, TLS_RSA_WITH_AES_256_CBC_SHA.
    let out = replay(EXPIRED_CERT);
    assert_eq!(out.client_hellos[0].frame, 31);
    assert_eq!(out.client_hellos[0].ja3_hash, "bd9c99b3a0f752c3ab8b052a79e9de3e");
    let sh = &out.server_hellos[0];
    assert_eq!((sh.frame, sh.version, sh.cipher_suite, sh.ja3s.as_str()), (32, 0x0301, 53, "769,53,"));
    assert_eq!(sh.ja3s_hash, "ab1e32eeaf70ee94c0af00f08d126891");
    let certs = &out.certificates;
    assert_eq!(
        sha1s(certs),
        [
            "70829f77ff4b6e908324a3f4e1940fce6c489098",
            "5deb8f339e264c19f6686f5f8f32b54a4c46b476",
            "32f30882622b87cf8856c63db873df0853b4dd27"
        ]
    );
    assert!(certs.iter().all(|c| c.frame == 35 && c.timestamp_ns == 35_000));
    assert_eq!(certs[0].subject_cn, "www.tobu-estate.com");
    assert_eq!(certs[0].serial, "3a357032a2cc40165c91902dbc863069");
    assert_eq!(certs[0].issuer_cn, "VeriSign Class 3 Secure Server CA - G3");
    assert_eq!(certs[1].sha256, "64903546a58058d1e6f1bead1134ede66a6831d231f0df8d4e28535d7a300496");
    let f = &out.facts;
    assert_eq!((f.tls_version, f.tls_cipher), (0x0301, 53));
    // Session id only from the server: no resumption; both Finished seen.
    assert!(f.tls_established && !f.tls_resumed);
    assert_eq!((out.errors, out.done), (0, [true, true]));
    same_records_at_any_cut(EXPIRED_CERT, 40);
}

#[test]
fn zeek_client_certificate() {
    // tshark: server Certificate at frame 11 (3 certificates), the client's
    // Certificate at frame 15 (2 certificates, begun in frame 13).
    let out = replay(CLIENT_CERTIFICATE);
    let ch = &out.client_hellos[0];
    assert_eq!((ch.frame, ch.sni.as_str()), (4, "certauth.idrix.fr"));
    assert_eq!(ch.ja3_hash, "579ccef312d18482fc42e2b822ca2430");
    let sh = &out.server_hellos[0];
    assert_eq!((sh.frame, sh.cipher_suite, sh.ja3s.as_str()), (6, 0xc030, "771,49200,65281-0-11-35-16-23"));
    assert_eq!(sh.ja3s_hash, "d154fcfa5bb4f0748e1dd1992c681104");
    let certs = &out.certificates;
    assert_eq!(
        sha1s(certs),
        [
            "aeae9d28724cf52cb8121c7aada7ec12784a2a64",
            "a053375bfe84e8b748782c7cee15827a6af5a405",
            "933c6ddee95c9c41a40f9f50493d82be03ad87bf",
            "bf361270e0c67dd9dfc2156c5dcbd4438e9d996a",
            "79fcac1f8d216eebd6d0c8f115cf42dec1825a92"
        ]
    );
    assert_eq!(
        certs.iter().map(|c| (c.frame, c.index, c.client)).collect::<Vec<_>>(),
        [(11, 0, false), (11, 1, false), (11, 2, false), (15, 0, true), (15, 1, true)]
    );
    // The client's certificates come from the client.
    assert_eq!((certs[3].src_port, certs[3].dst_port), (40000, 80));
    assert_eq!(certs[3].subject, "CN=johanna@corelight.com");
    assert_eq!(certs[3].san_email, ["johanna@corelight.com"]);
    assert_eq!(certs[3].issuer_cn, "Actalis Client Authentication CA G3");
    assert_eq!(certs[0].san_dns, ["certauth.idrix.fr"]);
    assert_eq!(certs[0].issuer, "C=US, O=Let's Encrypt, CN=R3");
    assert_eq!(certs[2].key_bits, 4096);
    let f = &out.facts;
    assert_eq!((f.tls_version, f.tls_cipher), (0x0303, 0xc030));
    assert!(f.tls_established && !f.tls_resumed);
    assert_eq!((out.errors, out.done), (0, [true, true]));
    same_records_at_any_cut(CLIENT_CERTIFICATE, 24);
}

#[test]
fn zeek_sslv2() {
    // tshark: SSLv2 ClientHello frame 4 (version 0x0002, 7 cipher specs),
    // ServerHello frame 6 with a 903-byte X.509 v1 certificate and 6 cipher
    // specs (0x0700c0 first), ClientMasterKey frame 8. Zeek counts the
    // ClientMasterKey as established.
    let out = replay(SSL_V2);
    let ch = &out.client_hellos[0];
    assert_eq!((ch.frame, ch.version, ch.record_version), (4, 2, 0));
    assert_eq!(ch.cipher_suites, [0x0700c0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080]);
    let sh = &out.server_hellos[0];
    assert_eq!((sh.frame, sh.version, sh.cipher_suite), (6, 2, 0x0700c0));
    let cert = &out.certificates[..];
    assert_eq!(cert.len(), 1);
    assert_eq!((cert[0].frame, cert[0].length, cert[0].version), (6, 903, 1));
    assert_eq!(cert[0].sha1, "a6933c2feb27df07b8bb4f21532df04035bfb92d");
    assert_eq!(cert[0].sha256, "8ce7a4de80166f6198ad559e2aaaa0d858ad2fb173557a9b159cfcaf4760beef");
    assert_eq!(cert[0].serial, "4eb6f269");
    assert_eq!(cert[0].subject_cn, "plesk");
    assert!(cert[0].self_signed && !cert[0].is_ca);
    let f = &out.facts;
    assert_eq!((f.tls_version, f.tls_cipher), (2, 0x0700c0));
    assert!(f.tls_established && !f.tls_resumed);
    assert_eq!((out.errors, out.done), (0, [true, true]));
    same_records_at_any_cut(SSL_V2, 64);
}

#[test]
fn zeek_ml_dsa_certificate() {
    // Zeek's x509.log: key type ML-DSA-44, 10496 bits, CA, self-issued;
    // ssl.log: established F (the capture ends after the server's flight).
    let out = replay(ML_DSA);
    let cert = &out.certificates[..];
    assert_eq!(cert.len(), 1);
    assert_eq!(cert[0].frame, 5);
    assert_eq!(cert[0].sha1, "d36abb9e6c6b82270778a6b56ef822d0cbc06b81");
    assert_eq!(cert[0].sha256, "fd95785a038018dccb84cd816602920a1e010d8acd9ce63407aa68440f595758");
    assert_eq!((cert[0].key_type.as_str(), cert[0].key_bits), ("ML-DSA-44", 10496));
    assert_eq!(cert[0].subject, "C=US, O=PQC-Test, CN=ml-dsa.example.com");
    assert_eq!((cert[0].not_before, cert[0].not_after), (1_775_199_968, 1_806_735_968));
    assert!(cert[0].is_ca && cert[0].self_signed);
    assert_eq!(out.client_hellos[0].ja3_hash, "fde4273625b2ac63bd01d9c500dac91b");
    assert_eq!(out.server_hellos[0].ja3s_hash, "5397c414a9ebeaff1bf18b70ca22eaa0");
    assert!(!out.facts.tls_established);
    assert_eq!(out.errors, 0);
    same_records_at_any_cut(ML_DSA, 64);
}
