use super::*;
use crate::protocols::TestHarness;
use netcap_records::File;

/// A forwarded message (message/rfc822) inside a multipart, as in
/// zeek-smtp-attachment-msg.pcap, with an RFC 2047 From (the display name
/// of sv-tcp-async-01.pcap's message: `=?gb18030?B?t9DLrqTOx+DN3A==?=` is
/// 沸水の青蛙) and a base64 attachment inside the attached message
/// (`printf 'hello attachment\n' | sha256sum`).
const FORWARD: &str = "From: =?gb18030?B?t9DLrqTOx+DN3A==?= <99785958@qq.com>\r\n\
To: a@example.com, b@example.com\r\n\
Subject: Fwd: inner\r\n\
Content-Type: multipart/mixed; boundary=b1\r\n\
\r\n\
--b1\r\n\
Content-Type: text/plain\r\n\
\r\n\
see below\r\n\
--b1\r\n\
Content-Type: message/rfc822\r\n\
\r\n\
From: inner@example.com\r\n\
Subject: inner\r\n\
Content-Type: multipart/mixed; boundary=b2\r\n\
\r\n\
--b2\r\n\
Content-Type: text/plain\r\n\
\r\n\
inner text\r\n\
--b2\r\n\
Content-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"=?UTF-8?B?w6kudHh0?=\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
aGVsbG8gYXR0YWNobWVudAo=\r\n\
--b2--\r\n\
\r\n\
--b1--\r\n";

fn run(message: &[u8], truncated: bool) -> (MailSummary, Vec<Mail>, Vec<File>) {
    let mut h = TestHarness::default();
    let mut counters = MailCounters::default();
    let source =
        MailSource { protocol: "POP3", command: "RETR", direction: Direction::ToClient, at: h.now, trans_depth: 0 };
    let summary = mail_records(&mut h.cx(), source, message, truncated, &mut counters);
    (summary, h.emit.decoded(RecordType::Mail), h.emit.decoded(RecordType::File))
}

#[test]
fn headers_parts_attached_messages_and_their_attachments() {
    let (summary, mail, files) = run(FORWARD.as_bytes(), false);
    assert_eq!(summary.from, "沸水の青蛙 <99785958@qq.com>");
    assert_eq!(summary.to, ["a@example.com", "b@example.com"]);
    assert_eq!(summary.subject, "Fwd: inner");
    assert_eq!(summary.mail_id, "M1-0");
    assert_eq!(summary.fuids, ["F1-0", "F1-1"]);
    assert_eq!(mail.len(), 2);
    let m = &mail[0];
    assert_eq!((m.protocol.as_str(), m.command.as_str(), m.parent_mail_id.as_str()), ("POP3", "RETR", ""));
    assert_eq!(m.src_port, 80, "a retrieved message goes from the server");
    assert_eq!(m.body, "see below");
    let parts: Vec<(&str, &str, &str, &str)> = m
        .parts
        .iter()
        .map(|p| (p.path.as_str(), p.content_type.as_str(), p.filename.as_str(), p.file_id.as_str()))
        .collect();
    assert_eq!(
        parts,
        [
            ("", "multipart/mixed", "", ""),
            ("1", "text/plain", "", ""),
            ("2", "message/rfc822", "", "F1-0"),
            ("2.1", "multipart/mixed", "", ""),
            ("2.1.1", "text/plain", "", ""),
            ("2.1.2", "application/octet-stream", "é.txt", "F1-1"),
        ]
    );
    assert_eq!(m.parts[5].sha256, "2852d7262f1fd6339a426560101d5840edf5b8999b90eb6b2eea86c8b9f7e298");
    let inner = &mail[1];
    assert_eq!(
        (inner.mail_id.as_str(), inner.parent_mail_id.as_str(), inner.from.as_str(), inner.subject.as_str()),
        ("M1-1", "M1-0", "inner@example.com", "inner")
    );
    assert_eq!(inner.body, "inner text");
    assert!(inner.parts.is_empty());
    let f: Vec<(&str, &str, bool)> =
        files.iter().map(|f| (f.file_id.as_str(), f.source.as_str(), f.complete)).collect();
    assert_eq!(f, [("F1-0", "POP3", true), ("F1-1", "POP3", true)]);
    assert_eq!(files[1].direction, netcap_records::Direction::ServerToClient as i32);
}

#[test]
fn a_cut_message_leaves_its_last_attachment_incomplete() {
    let cut = FORWARD.find("aGVsbG8g").unwrap() + 4;
    let (summary, mail, files) = run(&FORWARD.as_bytes()[..cut], true);
    assert_eq!(summary.subject, "Fwd: inner");
    assert!(mail[0].truncated);
    // The attached message runs to the cut: it and its attachment are
    // incomplete, without digests.
    assert!(files.iter().all(|f| !f.complete && f.sha256.is_empty()), "{files:?}");
}

#[test]
fn malformed_and_empty_messages_give_a_record_without_panicking() {
    for message in [
        &b""[..],
        b"no header here",
        b"\r\n\r\nbody only",
        b"Subject: =?utf-8?B?!!!?=\r\nContent-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n",
        b"Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Transfer-Encoding: base64\r\nContent-Type: image/png\r\n\r\n***not base64***\r\n--x",
    ] {
        let (_, mail, _) = run(message, false);
        assert_eq!(mail.len(), 1, "{:?}", String::from_utf8_lossy(message));
    }
    // Deep nesting stops at mailparse's recursion limit; nested attached
    // messages at MAX_NESTED_MESSAGES.
    let mut deep = String::new();
    for i in 0..300 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=b{i}\r\n\r\n--b{i}\r\n"));
    }
    run(deep.as_bytes(), false);
    let mut nested = String::from("Subject: 0\r\n");
    for _ in 0..20 {
        nested.push_str("Content-Type: message/rfc822\r\n\r\nSubject: n\r\n");
    }
    let (_, mail, _) = run(nested.as_bytes(), false);
    assert_eq!(mail.len(), 1 + MAX_NESTED_MESSAGES as usize);
}

#[test]
fn the_buffer_keeps_at_most_max_message_bytes() {
    let mut b = MessageBuffer::default();
    assert!(!b.active());
    b.start(PacketTime { timestamp_ns: 5, frame: 2 });
    let mut unlimited = usize::MAX;
    assert!(b.push(&vec![b'a'; MAX_MESSAGE - 1], &mut unlimited));
    assert!(!b.push(b"bc", &mut unlimited), "the first overflow is reported");
    assert!(b.push(b"d", &mut unlimited), "later ones only counted");
    assert_eq!((b.bytes().len(), b.seen, b.truncated), (MAX_MESSAGE, MAX_MESSAGE as u64 + 2, true));
    b.reset();
    assert!(!b.active());
    assert_eq!(b.memory(), 0);
    // The shard's memory room bounds what a buffer grows by.
    b.start(PacketTime { timestamp_ns: 5, frame: 2 });
    let mut room = 110;
    assert!(b.push(&[b'a'; 100], &mut room));
    assert!(b.memory() <= 100);
    assert_eq!(room, 110 - b.memory());
    assert!(!b.push(&[b'b'; 100], &mut room), "beyond the room: dropped");
    assert_eq!(room, 0);
    assert_eq!((b.bytes().len(), b.seen, b.truncated), (110, 200, true));
    assert!(b.memory() <= 110);
}

#[test]
fn fuzz_entry_survives_pseudo_random_input() {
    let mut x: u32 = 1;
    for n in 0..256 {
        let mut data = FORWARD.as_bytes().to_vec();
        for _ in 0..n {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let i = (x >> 8) as usize % data.len();
            data[i] = (x >> 16) as u8;
        }
        fuzz_entry(&data);
    }
}
