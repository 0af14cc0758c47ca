use super::*;
use crate::protocols::{HIDDEN, TestHarness};

/// zeek-irc-basic.pcap's connection as `tshark -q -z follow,tcp,ascii,0`
/// shows it, shortened (server lines cut to their start), and a DCC SEND
/// offer as zeek-irc-dcc-send.pcapng has it (`tshark -Y 'irc.request
/// contains "DCC"' -T fields -e irc.request`: PRIVMSG tim1 :\x01DCC SEND
/// ssh.trace 167772167 59130 1320211\x01), relayed back by the server.
const SESSION: &[(bool, &str)] = &[
    (false, ":leguin.freenode.net NOTICE * :*** Looking up your hostname...\r\n"),
    (true, "USER brotest * * :brotest\r\n"),
    (true, "NICK brotest\r\n"),
    (false, ":leguin.freenode.net 001 brotest :Welcome to the freenode Internet Relay Chat Network brotest\r\n"),
    (true, "JOIN #brotest\r\n"),
    (false, ":brotest!~brotest@new-wifi-nat.ICSI.Berkeley.EDU JOIN #brotest\r\n"),
    (true, "PRIVMSG #brotest test\r\n"),
    (true, "PRIVMSG tim1 :\u{1}DCC SEND ssh.trace 167772167 59130 1320211\u{1}\r\n"),
    (false, ":tim2!tim@10.0.0.22 PRIVMSG tim1 :\u{1}DCC SEND \"my file.txt\" 167772167 59130 42\u{1}\r\n"),
    (true, "QUIT quitting\r\n"),
    (false, "ERROR :Closing Link: new-wifi-nat.ICSI.Berkeley.EDU (Client Quit)\r\n"),
];

fn run(session: &[(bool, &str)], chunk: usize) -> (Vec<IrcRecord>, Vec<Credentials>) {
    let mut h = TestHarness::default();
    let mut p = Irc::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, line) in session {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, line.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Irc), h.emit.decoded(RecordType::Credentials))
}

#[test]
fn commands_nick_user_and_dcc_offers_at_every_segmentation() {
    let (irc, credentials) = run(SESSION, usize::MAX);
    let got: Vec<(&str, &str, &str, &str, &str)> = irc
        .iter()
        .map(|r| (r.nick.as_str(), r.user.as_str(), r.command.as_str(), r.value.as_str(), r.addl.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("", "brotest", "USER", "brotest", "* * brotest"),
            ("brotest", "brotest", "NICK", "brotest", ""),
            ("brotest", "brotest", "JOIN", "#brotest", ""),
            ("brotest", "brotest", "PRIVMSG", "#brotest", "test"),
            ("brotest", "brotest", "PRIVMSG", "tim1", "\u{1}DCC SEND ssh.trace 167772167 59130 1320211\u{1}"),
            ("brotest", "brotest", "PRIVMSG", "tim1", "\u{1}DCC SEND \"my file.txt\" 167772167 59130 42\u{1}"),
            ("brotest", "brotest", "QUIT", "quitting", ""),
        ]
    );
    let dcc = &irc[4];
    assert_eq!(
        (dcc.dcc_type.as_str(), dcc.dcc_file_name.as_str(), dcc.dcc_file_size, dcc.dcc_ip.as_slice(), dcc.dcc_port),
        ("SEND", "ssh.trace", 1_320_211, &[10, 0, 0, 7][..], 59130)
    );
    // The relayed offer: from the server, with the sender's prefix.
    assert_eq!(
        (irc[5].src_port, irc[5].prefix.as_str(), irc[5].dcc_file_name.as_str()),
        (80, "tim2!tim@10.0.0.22", "my file.txt")
    );
    assert!(credentials.is_empty());
    for chunk in 1..=20 {
        assert_eq!(run(SESSION, chunk), (irc.clone(), credentials.clone()), "{chunk}-byte pieces");
    }
}

#[test]
fn pass_and_oper_are_credentials_and_starttls_ends_parsing() {
    let mut h = TestHarness { emit: crate::emit::Emitter::all().without_secrets(), ..Default::default() };
    let mut p = Irc::default();
    p.parse(&mut h.cx(), Direction::ToServer, b"PASS l0m3za\r\nNICK damn\r\nUSER ghm 0 0 :damn\r\nOPER tim fail\r\n");
    p.parse(&mut h.cx(), Direction::ToServer, b"STARTTLS\r\n");
    assert_eq!(
        p.parse(&mut h.cx(), Direction::ToClient, b":irc 670 damn :STARTTLS successful\r\n\x16\x03\x01"),
        Parsed::Done
    );
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, b"\x16\x03\x01\x02\x00\n"), Parsed::Done);
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    let got: Vec<(&str, &str, &str)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.notes.as_str())).collect();
    assert_eq!(got, [("ghm", HIDDEN, "PASS (server password)"), ("tim", HIDDEN, "OPER")]);
    let irc: Vec<IrcRecord> = h.emit.decoded(RecordType::Irc);
    assert_eq!((irc[0].command.as_str(), irc[0].value.as_str()), ("PASS", HIDDEN));
    assert_eq!((irc[3].command.as_str(), irc[3].value.as_str(), irc[3].addl.as_str()), ("OPER", "tim", HIDDEN));
}

#[test]
fn line_dcc_and_probe_parsers() {
    assert_eq!(
        parse_line(":a!b@c PRIVMSG #x :hello there"),
        Some(Line { prefix: "a!b@c", command: "PRIVMSG", params: vec!["#x", "hello there"] })
    );
    assert_eq!(parse_line("  "), None);
    assert_eq!(parse_line(":only-prefix"), None);
    assert_eq!(
        parse_dcc("\u{1}DCC CHAT CHAT 167772167 59214\u{1}").map(|d| (d.kind, d.port)),
        Some(("CHAT".into(), 59214))
    );
    assert_eq!(parse_dcc("\u{1}DCC SEND f ::1 5 7\u{1}").map(|d| d.ip.len()), Some(16));
    assert_eq!(parse_dcc("\u{1}DCC SEND f nohost 5\u{1}"), None);
    assert_eq!(parse_dcc("DCC SEND f 1 2"), None);
    assert_eq!(probe(Direction::ToServer, b"NICK brotest\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"USER brotest * * :brotest\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"PASS x\r\nNICK y\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"PASS x\r\n"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, b"PASS x\r\nQUIT\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToServer, b"USER anonymous\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToServer, b"NICK"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToClient, b":leguin.freenode.net NOTICE * :*** Looking up\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"220 ftp ready\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToClient, b"\x16\x03\x01\x02\x00"), Probe::No);
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
    let mut p = Irc::default();
    assert_eq!(
        p.parse(&mut h.cx(), Direction::ToServer, &vec![b'x'; MAX_LINE * 2]),
        Parsed::Continue { consumed: MAX_LINE * 2, needed: 0 }
    );
    p.parse(&mut h.cx(), Direction::ToServer, b"xx\r\nNICK a\r\n");
    let irc: Vec<IrcRecord> = h.emit.decoded(RecordType::Irc);
    assert_eq!(irc.iter().map(|r| r.command.as_str()).collect::<Vec<_>>(), ["NICK"]);
}
