use super::*;
use crate::protocols::TestHarness;
use netcap_records::{File, Mail};

/// A session in the shape of zeek-smtp.pcap (AUTH LOGIN with its base64
/// user and password, as `tshark -z credentials` shows the user
/// "Z3VycGFydGFwQHBhdHJpb3RzLmlu"), then PIPELINING as in
/// sv-smtp-pipelining.pcap (MAIL, RCPT, DATA and the message in one
/// segment), a message with dot-stuffing, an RFC 2047 subject and two
/// attachments (an RFC 2231 file name, a hostile one), then a BDAT
/// transaction as in zeek-smtp-rfc3030-bdat-example1.pcap. Attachment
/// digests: `printf 'hello attachment\n' | sha256sum` and of the 16 PNG
/// bytes.
const SESSION: &[(bool, &str)] = &[
    (false, "220 mx.example.com ESMTP Postfix\r\n"),
    (true, "EHLO client.example\r\n"),
    (false, "250-mx.example.com\r\n250-PIPELINING\r\n250-AUTH LOGIN PLAIN\r\n250 CHUNKING\r\n"),
    (true, "AUTH LOGIN\r\n"),
    (false, "334 VXNlcm5hbWU6\r\n"),
    (true, "Z3VycGFydGFwQHBhdHJpb3RzLmlu\r\n"),
    (false, "334 UGFzc3dvcmQ6\r\n"),
    (true, "cHVuamFiQDEyMw==\r\n"),
    (false, "235 2.7.0 Authentication successful\r\n"),
    (
        true,
        "MAIL FROM:<alice@example.org> SIZE=500\r\nRCPT TO:<bob@example.net>\r\nRCPT TO:<carol@example.net>\r\nDATA\r\n\
From: Alice <alice@example.org>\r\n\
To: Bob <bob@example.net>\r\n\
Cc: carol@example.net, \"Dave, D.\" <dave@example.net>\r\n\
Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= and\r\n more\r\n\
Message-ID: <1@example.org>\r\n\
Date: Mon, 5 Oct 2009 11:36:07 +0530\r\n\
Received: from a by b; Mon, 5 Oct 2009 11:36:07 +0530\r\n\
Received: from c by a; Mon, 5 Oct 2009 11:36:06 +0530\r\n\
X-Mailer: Test Mailer 1.0\r\n\
X-Originating-IP: [192.0.2.7]\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=\"outer\"\r\n\
\r\n\
--outer\r\n\
Content-Type: multipart/alternative; boundary=\"inner\"\r\n\
\r\n\
--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
..leading dot\r\n\
hello\r\n\
--inner\r\n\
Content-Type: text/html\r\n\
\r\n\
<p>hello</p>\r\n\
--inner--\r\n\
--outer\r\n\
Content-Type: text/plain\r\n\
Content-Disposition: attachment; filename*=UTF-8''%E2%82%AC%20rates.txt\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8gYXR0YWNobWVudAo=\r\n\
--outer\r\n\
Content-Type: application/octet-stream; name=\"../../etc/passwd\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
iVBORw0KGgoAAAANSUhEUg==\r\n\
--outer--\r\n\
.\r\n",
    ),
    (false, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"),
    (false, "250 2.0.0 Ok: queued as 1234\r\n"),
    (true, "MAIL FROM:<alice@example.org>\r\nRCPT TO:<bob@example.net>\r\nBDAT 20\r\nSubject: chunked\r\n\r\n"),
    (true, "BDAT 6 LAST\r\nbody\r\n"),
    (false, "250 Ok\r\n250 Ok\r\n250 2.0.0 20 octets received\r\n250 2.0.0 Ok: 26 bytes queued as 5678\r\n"),
    (true, "QUIT\r\n"),
    (false, "221 2.0.0 Bye\r\n"),
];

type Records = (Vec<SmtpRecord>, Vec<Mail>, Vec<File>, Vec<Credentials>);

fn run_session(session: &[(bool, &str)], chunk: usize) -> Records {
    let mut h = TestHarness::default();
    let mut p = Smtp::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, text) in session {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, text.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    for dir in [Direction::ToServer, Direction::ToClient] {
        let rest = std::mem::take(&mut pending[dir.index()]);
        p.end(&mut h.cx(), dir, &rest);
    }
    p.finish(&mut h.cx());
    (
        h.emit.decoded(RecordType::Smtp),
        h.emit.decoded(RecordType::Mail),
        h.emit.decoded(RecordType::File),
        h.emit.decoded(RecordType::Credentials),
    )
}

#[test]
fn transactions_messages_attachments_and_login_at_every_segmentation() {
    let whole = run_session(SESSION, usize::MAX);
    let (smtp, mail, files, credentials) = &whole;
    assert_eq!(smtp.len(), 2, "{smtp:#?}");
    let t = &smtp[0];
    assert_eq!(t.trans_depth, 1);
    assert_eq!(t.helo, "client.example");
    assert_eq!(t.mail_from, "alice@example.org");
    assert_eq!(t.rcpt_to, ["bob@example.net", "carol@example.net"]);
    assert_eq!(t.from, "Alice <alice@example.org>");
    assert_eq!(t.to, ["Bob <bob@example.net>"]);
    assert_eq!(t.cc, ["carol@example.net", "Dave, D. <dave@example.net>"]);
    assert_eq!(t.subject, "Grüße and more");
    assert_eq!(t.msg_id, "<1@example.org>");
    assert_eq!(t.date, "Mon, 5 Oct 2009 11:36:07 +0530");
    assert_eq!(t.x_originating_ip, "[192.0.2.7]");
    assert_eq!(t.path, ["from a by b; Mon, 5 Oct 2009 11:36:07 +0530", "from c by a; Mon, 5 Oct 2009 11:36:06 +0530"]);
    assert_eq!(t.user_agent, "Test Mailer 1.0");
    assert_eq!(t.last_reply, "250 2.0.0 Ok: queued as 1234");
    assert!(!t.tls);
    assert_eq!(t.user, "gurpartap@patriots.in");
    assert_eq!(t.mail_id, "M1-0");
    assert_eq!(t.fuids, ["F1-0", "F1-1"]);
    assert!(!t.message_truncated);
    assert_eq!(t.bdat_chunks, 0);

    let b = &smtp[1];
    assert_eq!((b.trans_depth, b.subject.as_str(), b.bdat_chunks, b.message_bytes), (2, "chunked", 2, 26));
    assert_eq!(b.last_reply, "250 2.0.0 Ok: 26 bytes queued as 5678");
    assert_eq!(b.mail_id, "M1-1");

    assert_eq!(mail.len(), 2);
    let m = &mail[0];
    assert_eq!((m.protocol.as_str(), m.command.as_str(), m.mail_id.as_str()), ("SMTP", "DATA", "M1-0"));
    assert_eq!(m.subject, "Grüße and more");
    assert_eq!(m.body, ".leading dot\r\nhello");
    let parts: Vec<(&str, &str, &str, &str, u64)> = m
        .parts
        .iter()
        .map(|p| (p.path.as_str(), p.content_type.as_str(), p.filename.as_str(), p.file_id.as_str(), p.size))
        .collect();
    assert_eq!(
        parts,
        [
            ("", "multipart/mixed", "", "", 0),
            ("1", "multipart/alternative", "", "", 0),
            ("1.1", "text/plain", "", "", 19),
            ("1.2", "text/html", "", "", 12),
            ("2", "text/plain", "€ rates.txt", "F1-0", 17),
            ("3", "application/octet-stream", "../../etc/passwd", "F1-1", 16),
        ]
    );
    assert_eq!(m.parts[4].sha256, "2852d7262f1fd6339a426560101d5840edf5b8999b90eb6b2eea86c8b9f7e298");
    assert_eq!(m.parts[5].mime_type, "image/png");
    assert_eq!(m.headers.len(), 12);
    assert_eq!(m.headers[3].name, "Subject");
    assert_eq!(mail[1].command, "BDAT");

    assert_eq!(files.len(), 2);
    let f = &files[1];
    assert_eq!(
        (f.source.as_str(), f.filename.as_str(), f.mime_type.as_str()),
        ("SMTP", "../../etc/passwd", "image/png")
    );
    assert_eq!(f.sha256, "02a3e298f1533f62558c58e4c70edcab9af5a50d62d925fd5390942020fb0fb8");
    assert!(f.complete);

    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!(
        (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success, c.notes.as_str()),
        ("SMTP", "gurpartap@patriots.in", "punjab@123", Some(true), "AUTH LOGIN")
    );

    for chunk in 1..=40 {
        assert_eq!(run_session(SESSION, chunk), whole, "cut into {chunk}-byte pieces");
    }
}

#[test]
fn every_split_point_gives_the_same_records() {
    // Each piece of the session cut once at every offset (both halves
    // handed over as they came), the other pieces whole.
    let whole = run_session(SESSION, usize::MAX);
    for (i, (to_server, text)) in SESSION.iter().enumerate() {
        for cut in 1..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let (a, b) = text.split_at(cut);
            let mut session: Vec<(bool, &str)> = SESSION[..i].to_vec();
            session.extend([(*to_server, a), (*to_server, b)]);
            session.extend_from_slice(&SESSION[i + 1..]);
            assert_eq!(run_session(&session, usize::MAX), whole, "piece {i} cut at {cut}");
        }
    }
}

#[test]
fn refused_data_makes_the_next_lines_commands() {
    // zeek-smtp-mail-transactions-invalid.pcap: DATA answered 503, the
    // client's "message" is answered 500 line by line.
    let (smtp, mail, _, _) = run_session(
        &[
            (false, "220 tinkyx390 ESMTP Exim 4.94.2\r\n"),
            (true, "EHLO Bob-PC\r\n"),
            (false, "250 HELP\r\n"),
            (true, "RCPT TO:<alice@example.org>\r\n"),
            (false, "503 sender not yet given\r\n"),
            (true, "DATA\r\n"),
            (
                false,
                "503-All RCPT commands were rejected with this error:\r\n503 valid RCPT command must precede DATA\r\n",
            ),
            (true, "Hello, Alice (2)\r\n"),
            (false, "500 unrecognized command\r\n"),
            (true, ".\r\n"),
            (false, "500 unrecognized command\r\n"),
            (true, "MAIL FROM:<bob@example.org>\r\n"),
            (false, "250 OK\r\n"),
        ],
        usize::MAX,
    );
    assert!(mail.is_empty());
    let got: Vec<(u32, &str, &str)> =
        smtp.iter().map(|t| (t.trans_depth, t.mail_from.as_str(), t.last_reply.as_str())).collect();
    assert_eq!(got, [(1, "", "500 unrecognized command"), (2, "bob@example.org", "250 OK")]);
}

#[test]
fn starttls_writes_a_tls_transaction_and_hands_the_rest_to_tls() {
    let mut h = TestHarness::default();
    let mut p = Smtp::default();
    p.parse(&mut h.cx(), Direction::ToClient, b"220 mail.example.com ESMTP\r\n");
    p.parse(&mut h.cx(), Direction::ToServer, b"EHLO openssl.client.net\r\nSTARTTLS\r\n");
    p.parse(&mut h.cx(), Direction::ToClient, b"250 STARTTLS\r\n");
    // The reply is consumed; TLS waits for a record header.
    let reply = b"220 2.0.0 Ready to start TLS\r\n";
    assert!(matches!(
        p.parse(&mut h.cx(), Direction::ToClient, reply),
        Parsed::Continue { consumed, .. } if consumed == reply.len()
    ));
    // Four bytes of a TLS record header: the TLS parser wants the fifth.
    assert_eq!(
        p.parse(&mut h.cx(), Direction::ToServer, b"\x16\x03\x01\x00"),
        Parsed::Continue { consumed: 0, needed: 1 }
    );
    p.finish(&mut h.cx());
    let smtp: Vec<SmtpRecord> = h.emit.decoded(RecordType::Smtp);
    assert_eq!(smtp.len(), 1);
    assert!(smtp[0].tls);
    assert_eq!(smtp[0].helo, "openssl.client.net");
    assert_eq!(smtp[0].last_reply, "220 2.0.0 Ready to start TLS");
}

#[test]
fn auth_plain_cram_md5_failure_and_cancel() {
    let mut h = TestHarness::default();
    let mut p = Smtp::default();
    for (dir, text) in [
        (Direction::ToClient, "220 x ESMTP\r\n"),
        // RFC 4616's example, as the initial response.
        (Direction::ToServer, "AUTH PLAIN AHRpbQB0YW5zdGFhZg==\r\n"),
        (Direction::ToClient, "535 5.7.8 Authentication failed\r\n"),
        (Direction::ToServer, "AUTH PLAIN\r\n"),
        (Direction::ToClient, "334 \r\n"),
        (Direction::ToServer, "AHRpbQB0YW5zdGFhZg==\r\n"),
        (Direction::ToClient, "235 ok\r\n"),
        (Direction::ToServer, "AUTH CRAM-MD5\r\n"),
        (Direction::ToClient, "334 PDQxOTI5NDIzNDEuMTI4Mjg0NzJAc291cmNlZm91ci5hbmRyZXcuY211LmVkdT4=\r\n"),
        (Direction::ToServer, "dGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
        (Direction::ToClient, "235 ok\r\n"),
        (Direction::ToServer, "AUTH LOGIN\r\n"),
        (Direction::ToClient, "334 VXNlcm5hbWU6\r\n"),
        (Direction::ToServer, "*\r\n"),
        (Direction::ToClient, "501 cancelled\r\n"),
        (Direction::ToServer, "MAIL FROM:<a@b>\r\n"),
        (Direction::ToClient, "250 ok\r\n"),
    ] {
        p.parse(&mut h.cx(), dir, text.as_bytes());
    }
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    let got: Vec<(&str, &str, Option<bool>, &str)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success, c.notes.as_str())).collect();
    assert_eq!(
        got,
        [
            ("tim", "tanstaaf", Some(false), "AUTH PLAIN"),
            ("tim", "tanstaaf", Some(true), "AUTH PLAIN"),
            ("tim", "b913a602c7eda7a495b4e6e7334d3890", Some(true), CRAM_MD5),
        ]
    );
    let smtp: Vec<SmtpRecord> = h.emit.decoded(RecordType::Smtp);
    assert_eq!((smtp[0].mail_from.as_str(), smtp[0].user.as_str()), ("a@b", "tim"));
}

#[test]
fn probes() {
    assert_eq!(probe(Direction::ToClient, b"220 mx.example.com ESMTP Postfix\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"220-smtp.example.com Microsoft SMTP ready\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"220 ProFTPD Server\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToClient, b"220 mx"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToClient, b"+OK POP3\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToServer, b"EHLO client\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"hel"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, b"USER x\r\n"), Probe::No);
    assert_eq!(port_probe(Direction::ToClient, b"220 mail\r\n"), Probe::Yes);
    assert_eq!(port_probe(Direction::ToClient, b"22"), Probe::NeedMore);
    assert_eq!(port_probe(Direction::ToClient, b"554 go away\r\n"), Probe::No);
}

#[test]
fn gaps_truncate_the_message_and_the_end_writes_what_is_pending() {
    let mut h = TestHarness::default();
    let mut p = Smtp::default();
    p.parse(&mut h.cx(), Direction::ToClient, b"220 x ESMTP\r\n");
    p.parse(
        &mut h.cx(),
        Direction::ToServer,
        b"MAIL FROM:<a@b>\r\nRCPT TO:<c@d>\r\nDATA\r\nSubject: cut\r\n\r\nfirst\r\n",
    );
    p.gap(&mut h.cx(), Direction::ToServer, 1000);
    p.parse(&mut h.cx(), Direction::ToServer, b"tail of a line\r\nlast\r\n.\r\n");
    p.parse(&mut h.cx(), Direction::ToClient, b"250 a\r\n250 b\r\n354 go\r\n250 queued\r\n");
    // A second message the connection ends in.
    p.parse(&mut h.cx(), Direction::ToServer, b"MAIL FROM:<a@b>\r\nDATA\r\nSubject: never ended\r\n");
    p.end(&mut h.cx(), Direction::ToServer, b"");
    p.finish(&mut h.cx());
    let mail: Vec<Mail> = h.emit.decoded(RecordType::Mail);
    let got: Vec<(&str, bool)> = mail.iter().map(|m| (m.subject.as_str(), m.truncated)).collect();
    assert_eq!(got, [("cut", true), ("never ended", true)]);
    let smtp: Vec<SmtpRecord> = h.emit.decoded(RecordType::Smtp);
    assert_eq!(smtp.len(), 2);
    assert!(smtp[0].message_truncated);
    assert_eq!(smtp[0].last_reply, "250 queued");
    assert_eq!(smtp[0].message_bytes, 14 + 2 + 7 + 1000 + 16 + 6);
}

#[test]
fn garbage_gaps_and_endless_lines_do_not_panic() {
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        for (_, text) in SESSION {
            data.extend_from_slice(text.as_bytes());
        }
        data.extend(std::iter::repeat_n(seed, 64));
        fuzz_entry(&data);
    }
    let mut h = TestHarness::default();
    let mut p = Smtp::default();
    assert!(matches!(p.parse(&mut h.cx(), Direction::ToClient, &vec![b'x'; MAX_LINE * 2]), Parsed::Continue { .. }));
    assert!(matches!(p.parse(&mut h.cx(), Direction::ToServer, &vec![b'x'; MAX_LINE * 2]), Parsed::Continue { .. }));
    // A BDAT chunk of an absurd size only waits for bytes.
    p.parse(&mut h.cx(), Direction::ToServer, b"\r\nBDAT 18446744073709551615 LAST\r\nabc");
    p.finish(&mut h.cx());
}

#[test]
fn the_shards_memory_room_bounds_a_kept_message() {
    let mut h = TestHarness { memory_room: 64, ..Default::default() };
    let mut p = Smtp::default();
    p.parse(&mut h.cx(), Direction::ToClient, b"220 x ESMTP\r\n");
    let mut message = b"MAIL FROM:<a@b>\r\nDATA\r\nSubject: big\r\n\r\n".to_vec();
    message.extend(std::iter::repeat_n(b"0123456789abcdef\r\n".as_slice(), 1000).flatten());
    message.extend_from_slice(b".\r\n");
    p.parse(&mut h.cx(), Direction::ToServer, &message);
    assert!(p.memory() < 1024, "{}", p.memory());
    p.finish(&mut h.cx());
    let mail: Vec<Mail> = h.emit.decoded(RecordType::Mail);
    assert_eq!((mail[0].subject.as_str(), mail[0].truncated, mail[0].size), ("big", true, 64));
    let smtp: Vec<SmtpRecord> = h.emit.decoded(RecordType::Smtp);
    assert_eq!(smtp[0].message_bytes, 16 + 18_000);
    assert!(h.errors.errors.iter().sum::<u64>() >= 1);
}
