use super::*;
use crate::protocols::TestHarness;

/// sv-pop3-02-bug-7709.pcap's second connection (as `tshark -z
/// follow,tcp,ascii,1` shows it), shortened: a login, STAT, LIST, RETR.
const SESSION: &[(bool, &str)] = &[
    (false, "+OK CMailServer 5.2 POP3 Service Ready\r\n"),
    (true, "USER test\r\n"),
    (false, "+OK welcome here\r\n"),
    (true, "PASS 123456\r\n"),
    (false, "+OK\r\n"),
    (true, "STAT\r\n"),
    (false, "+OK 5 21639\r\n"),
    (true, "LIST\r\n"),
    (false, "+OK 5 21639\r\n1 1024\r\n2 2048\r\n.\r\n"),
    (true, "RETR 5\r\n"),
    (false, "+OK 30 octets\r\nSubject: hi\r\n\r\n..dot\r\n.\r\n"),
    (true, "QUIT\r\n"),
    (false, "+OK bye\r\n"),
];

fn run(chunk: usize) -> (Vec<Pop3Record>, Vec<Credentials>) {
    let mut h = TestHarness::default();
    let mut p = Pop3::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, line) in SESSION {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, line.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Pop3), h.emit.decoded(RecordType::Credentials))
}

#[test]
fn commands_responses_and_the_login_at_every_segmentation() {
    let (pop3, credentials) = run(usize::MAX);
    let summary: Vec<(&str, &str, Option<bool>, &str, u32)> = pop3
        .iter()
        .map(|r| (r.command.as_str(), r.arg.as_str(), r.success, r.status_msg.as_str(), r.response_lines))
        .collect();
    assert_eq!(
        summary,
        [
            ("USER", "test", Some(true), "welcome here", 0),
            ("PASS", "123456", Some(true), "", 0),
            ("STAT", "", Some(true), "5 21639", 0),
            ("LIST", "", Some(true), "5 21639", 2),
            ("RETR", "5", Some(true), "30 octets", 3),
            ("QUIT", "", Some(true), "bye", 0),
        ]
    );
    assert_eq!(pop3[4].response_bytes, 13 + 2 + 7);
    assert!(pop3.iter().skip(1).all(|r| r.user == "test"));
    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!(
        (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success),
        ("POP3", "test", "123456", Some(true))
    );
    for chunk in 1..=24 {
        assert_eq!(run(chunk), (pop3.clone(), credentials.clone()), "cut into {chunk}-byte pieces");
    }
}

#[test]
fn failed_logins_apop_and_auth_plain() {
    let mut h = TestHarness::default();
    let mut p = Pop3::default();
    for (dir, line) in [
        (Direction::ToClient, "+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n"),
        (Direction::ToServer, "USER test@tt.com\r\nPASS 123456\r\n"),
        (Direction::ToClient, "+OK welcome here\r\n-ERR the password incorrect\r\n"),
        (Direction::ToServer, "APOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"),
        (Direction::ToClient, "+OK maildrop has 1 message\r\n"),
        // "\0tim\0tanstaaftanstaaf" in base64 (RFC 4616's example).
        (Direction::ToServer, "AUTH PLAIN\r\n"),
        (Direction::ToClient, "+ \r\n"),
        (Direction::ToServer, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"),
        (Direction::ToClient, "-ERR no\r\n"),
    ] {
        p.parse(&mut h.cx(), dir, line.as_bytes());
    }
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    let got: Vec<(&str, &str, Option<bool>, &str)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success, c.notes.as_str())).collect();
    assert_eq!(
        got,
        [
            ("test@tt.com", "123456", Some(false), ""),
            ("mrose", "c4c9334bac560ecc979e58001b3e22fb", Some(true), APOP),
            ("tim", "tanstaaftanstaaf", Some(false), AUTH_PLAIN),
        ]
    );
}

#[test]
fn stls_hands_the_rest_to_tls_and_probe_needs_pop() {
    let mut h = TestHarness::default();
    let mut p = Pop3::default();
    p.parse(&mut h.cx(), Direction::ToClient, b"+OK POP3 ready\r\n");
    p.parse(&mut h.cx(), Direction::ToServer, b"STLS\r\n");
    // The status line is read; the three bytes after it are a TLS record
    // header's start, which TLS keeps for two more.
    assert_eq!(
        p.parse(&mut h.cx(), Direction::ToClient, b"+OK Begin TLS\r\n\x16\x03\x01"),
        Parsed::Continue { consumed: 15, needed: 2 }
    );
    assert_eq!(probe(Direction::ToClient, b"+OK Dovecot ready.\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToClient, b"+OK POP3 server ready\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"+O"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, b"CAPA\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"USER x\r\n"), Probe::No);
}

#[test]
fn garbage_gaps_and_endless_lines_do_not_panic() {
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        for (_, line) in SESSION {
            data.extend_from_slice(line.as_bytes());
        }
        data.extend(std::iter::repeat_n(seed, 64));
        fuzz_entry(&data);
    }
    let mut h = TestHarness::default();
    let mut p = Pop3::default();
    assert!(matches!(p.parse(&mut h.cx(), Direction::ToClient, &vec![b'x'; MAX_LINE * 2]), Parsed::Continue { .. }));
}

fn retrieved(chunk: usize) -> Vec<netcap_records::Mail> {
    let mut h = TestHarness::default();
    let mut p = Pop3::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, line) in SESSION {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, line.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    h.emit.decoded(RecordType::Mail)
}

#[test]
fn retr_gives_a_mail_record_unstuffed_at_every_segmentation() {
    let mail = retrieved(usize::MAX);
    assert_eq!(mail.len(), 1);
    let m = &mail[0];
    assert_eq!((m.protocol.as_str(), m.command.as_str(), m.subject.as_str()), ("POP3", "RETR", "hi"));
    assert_eq!(m.body, ".dot\r\n");
    assert_eq!(m.size, 13 + 2 + 6);
    assert!(!m.truncated);
    for chunk in 1..=24 {
        assert_eq!(retrieved(chunk), mail, "cut into {chunk}-byte pieces");
    }
    // A response the connection ends in is written truncated.
    let mut h = TestHarness::default();
    let mut p = Pop3::default();
    p.parse(&mut h.cx(), Direction::ToClient, b"+OK POP3 ready\r\n");
    p.parse(&mut h.cx(), Direction::ToServer, b"TOP 1 0\r\n");
    p.parse(&mut h.cx(), Direction::ToClient, b"+OK\r\nFrom: a@b\r\nSubject: top\r\n");
    p.finish(&mut h.cx());
    let mail: Vec<netcap_records::Mail> = h.emit.decoded(RecordType::Mail);
    let got: Vec<(&str, &str, &str, bool)> =
        mail.iter().map(|m| (m.command.as_str(), m.from.as_str(), m.subject.as_str(), m.truncated)).collect();
    assert_eq!(got, [("TOP", "a@b", "top", true)]);
}
