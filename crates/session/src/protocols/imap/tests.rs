use super::*;
use crate::protocols::TestHarness;

/// arkime-imap.pcap's opening (as `tshark -z follow,tcp,ascii,0` shows it),
/// with a FETCH whose literal holds lines that look like responses.
const SESSION: &[(bool, &str)] = &[
    (false, "* OK Microsoft Exchange IMAP4rev1 server version 5.5.2650.23 (umr-mail02) ready\r\n"),
    (true, "a0000 CAPABILITY\r\n"),
    (
        false,
        "* CAPABILITY IMAP4 IMAP4rev1 IDLE LOGIN-REFERRALS MAILBOX-REFERRALS NAMESPACE LITERAL+ UIDPLUS CHILDREN\r\na0000 OK CAPABILITY completed.\r\n",
    ),
    (true, "a0001 LOGIN \"neulingern\" \"XXXXXX\"\r\n"),
    (false, "a0001 OK LOGIN completed.\r\n"),
    (true, "a0002 FETCH 1 BODY[]\r\n"),
    (false, "* 1 FETCH (BODY[] {27}\r\na0002 OK fake\r\n* BYE fake\r\n)\r\na0002 OK FETCH completed.\r\n"),
    (true, "a0003 LOGOUT\r\n"),
];

fn run(chunk: usize) -> (Vec<ImapRecord>, Vec<Credentials>) {
    let mut h = TestHarness::default();
    let mut p = Imap::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, line) in SESSION {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, line.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Imap), h.emit.decoded(RecordType::Credentials))
}

#[test]
fn tagged_commands_complete_and_literals_are_not_lines() {
    let (imap, credentials) = run(usize::MAX);
    let summary: Vec<(&str, &str, &str, &str, &str)> = imap
        .iter()
        .map(|r| (r.tag.as_str(), r.command.as_str(), r.arg.as_str(), r.status.as_str(), r.status_msg.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            ("a0000", "CAPABILITY", "", "OK", "CAPABILITY completed."),
            ("a0001", "LOGIN", "\"neulingern\" \"XXXXXX\"", "OK", "LOGIN completed."),
            ("a0002", "FETCH", "1 BODY[]", "OK", "FETCH completed."),
            ("a0003", "LOGOUT", "", "", ""),
        ]
    );
    assert_eq!(imap[2].user, "neulingern");
    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!(
        (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success),
        ("IMAP", "neulingern", "XXXXXX", Some(true))
    );
    for chunk in 1..=24 {
        assert_eq!(run(chunk), (imap.clone(), credentials.clone()), "cut into {chunk}-byte pieces");
    }
}

#[test]
fn login_with_literals_and_authenticate_plain() {
    let mut h = TestHarness::default();
    let mut p = Imap::default();
    for (dir, line) in [
        (Direction::ToClient, "* OK IMAP4 ready\r\n"),
        (Direction::ToServer, "A1 LOGIN {3}\r\nbob {6}\r\nsecret\r\n"),
        (Direction::ToClient, "A1 NO [AUTHENTICATIONFAILED] Invalid credentials\r\n"),
        (Direction::ToServer, "A2 AUTHENTICATE PLAIN\r\n"),
        (Direction::ToClient, "+ \r\n"),
        // "\0tim\0tanstaaftanstaaf" (RFC 4616's example).
        (Direction::ToServer, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n"),
        (Direction::ToClient, "A2 OK done\r\n"),
        (Direction::ToServer, "A3 STARTTLS\r\n"),
    ] {
        p.parse(&mut h.cx(), dir, line.as_bytes());
    }
    // After STARTTLS's OK the rest is TLS's: a record header's start.
    assert_eq!(
        p.parse(&mut h.cx(), Direction::ToClient, b"A3 OK Begin TLS\r\n\x16\x03\x01"),
        Parsed::Continue { consumed: 17, needed: 2 }
    );
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    let got: Vec<(&str, &str, Option<bool>, &str)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success, c.notes.as_str())).collect();
    assert_eq!(got, [("bob", "secret", Some(false), ""), ("tim", "tanstaaftanstaaf", Some(true), AUTH_PLAIN)]);
}

#[test]
fn astrings_literals_and_probes() {
    assert_eq!(astrings(r#""a \"q\"" b c"#, 2), ["a \"q\"", "b"]);
    assert_eq!(literal_length(b"A1 LOGIN {12}"), Some(12));
    assert_eq!(literal_length(b"A1 LOGIN {12+}"), Some(12));
    assert_eq!(literal_length(b"A1 LOGIN {x}"), None);
    assert_eq!(probe(Direction::ToClient, b"* OK [CAPABILITY IMAP4rev1] Dovecot ready.\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"* OK ready\r\n"), Probe::No);
    assert_eq!(port_probe(Direction::ToClient, b"* OK ready\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"a1 CAPABILITY\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"USER x\r\n"), Probe::No);
}

#[test]
fn garbage_gaps_and_endless_literals_do_not_panic() {
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        for (_, line) in SESSION {
            data.extend_from_slice(line.as_bytes());
        }
        data.extend(std::iter::repeat_n(seed, 64));
        fuzz_entry(&data);
    }
    let mut h = TestHarness::default();
    let mut p = Imap::default();
    let mut huge = b"* 1 FETCH (BODY[TEXT] {99999999999}\r\n".to_vec();
    huge.extend(vec![b'x'; MAX_LINE * 2]);
    assert!(matches!(p.parse(&mut h.cx(), Direction::ToClient, &huge), Parsed::Continue { .. }));
    assert!(p.memory() <= MAX_LINE * 2);
    // A literal that is a message is kept up to the message bound.
    let mut p = Imap::default();
    let mut huge = b"* 1 FETCH (BODY[] {99999999999}\r\n".to_vec();
    huge.extend(vec![b'x'; MAX_LINE * 2]);
    assert!(matches!(p.parse(&mut h.cx(), Direction::ToClient, &huge), Parsed::Continue { .. }));
    assert!(p.memory() <= MAX_LINE * 2 + crate::protocols::mail::MAX_MESSAGE);
}

/// FETCH responses in the shape of arkime-imap.pcap's (header fields, then
/// a whole RFC822 message) and a part section, which is no message.
const FETCHES: &[(bool, &str)] = &[
    (false, "* OK IMAP4rev1 ready\r\n"),
    (true, "a1 FETCH 1:3 (FLAGS BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)])\r\n"),
    (
        false,
        "* 1 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (FROM SUBJECT)] {50}\r\n\
From: \"Turner, Jim\" <turner@umr.edu>\r\n\
Subject: x\r\n\r\n)\r\n\
* 2 FETCH (BODY[1] {5}\r\nhello)\r\n\
* 3 FETCH (UID 7 RFC822 {42}\r\nSubject: =?ISO-8859-1?Q?caf=E9?=\r\n\r\nbody\r\n)\r\n\
a1 OK FETCH completed.\r\n",
    ),
];

fn fetched(chunk: usize) -> Vec<netcap_records::Mail> {
    let mut h = TestHarness::default();
    let mut p = Imap::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, line) in FETCHES {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, line.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    h.emit.decoded(RecordType::Mail)
}

#[test]
fn fetched_messages_and_headers_are_mail_records_at_every_segmentation() {
    let mail = fetched(usize::MAX);
    let got: Vec<(&str, &str, &str, bool)> =
        mail.iter().map(|m| (m.command.as_str(), m.from.as_str(), m.subject.as_str(), m.truncated)).collect();
    assert_eq!(got, [("FETCH", "\"Turner, Jim\" <turner@umr.edu>", "x", false), ("FETCH", "", "café", false)]);
    assert_eq!(mail[1].body, "body\r\n");
    for chunk in 1..=24 {
        assert_eq!(fetched(chunk), mail, "cut into {chunk}-byte pieces");
    }
    assert!(message_literal(b"* 12 FETCH (RFC822 "));
    assert!(message_literal(b"* 1 FETCH (UID 5 BODY[]<0> "));
    assert!(message_literal(b"* 1 FETCH (BODY[HEADER] "));
    assert!(!message_literal(b"* 1 FETCH (BODY[TEXT] "));
    assert!(!message_literal(b"* 1 FETCH (BODY[1.2] "));
    assert!(!message_literal(b"a1 LOGIN user "));
}
