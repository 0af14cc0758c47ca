use super::*;
use crate::protocols::{HIDDEN, TestHarness};

/// The control connection of sv-ftp-download-passive.pcap (as
/// `tshark -z follow,tcp,ascii,0` shows it), one line per step: (to the
/// server?, line).
const SESSION: &[(bool, &str)] = &[
    (false, "220 FTP Sandbox Ready.\r\n"),
    (true, "USER bob\r\n"),
    (false, "331 Please specify the password.\r\n"),
    (true, "PASS password\r\n"),
    (false, "230 Login successful.\r\n"),
    (true, "PASV\r\n"),
    (false, "227 Entering Passive Mode (172,23,0,2,82,9).\r\n"),
    (true, "RETR index.html\r\n"),
    (false, "150 Opening BINARY mode data connection for index.html (39 bytes).\r\n"),
    (false, "226 Transfer complete.\r\n"),
    (true, "FEAT\r\n"),
    (false, "211-Features:\r\n EPSV\r\n211 End\r\n"),
    (true, "PORT 127,0,0,1,156,67\r\n"),
    (false, "200 PORT command successful.\r\n"),
    (true, "EPSV\r\n"),
    (false, "229 Entering Extended Passive Mode (|||58612|)\r\n"),
    (true, "QUIT\r\n"),
];

fn run(chunk: usize) -> (Vec<FtpRecord>, Vec<Credentials>) {
    let mut h = TestHarness::default();
    let mut p = Ftp::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, line) in SESSION {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, line.as_bytes(), chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Ftp), h.emit.decoded(RecordType::Credentials))
}

#[test]
fn commands_pair_with_their_final_replies_at_every_segmentation() {
    let (ftp, credentials) = run(usize::MAX);
    let summary: Vec<(&str, &str, u32, &str)> =
        ftp.iter().map(|r| (r.command.as_str(), r.arg.as_str(), r.reply_code, r.reply_msg.as_str())).collect();
    assert_eq!(
        summary,
        [
            ("USER", "bob", 331, "Please specify the password."),
            ("PASS", "password", 230, "Login successful."),
            ("PASV", "", 227, "Entering Passive Mode (172,23,0,2,82,9)."),
            ("RETR", "index.html", 226, "Transfer complete."),
            ("FEAT", "", 211, "Features:"),
            ("PORT", "127,0,0,1,156,67", 200, "PORT command successful."),
            ("EPSV", "", 229, "Entering Extended Passive Mode (|||58612|)"),
            ("QUIT", "", 0, ""),
        ]
    );
    assert!(ftp.iter().skip(1).all(|r| r.user == "bob"));
    let pasv = &ftp[2];
    assert_eq!(pasv.data_passive, Some(true));
    assert_eq!(pasv.data_orig_ip, [10, 0, 0, 1]);
    assert_eq!(pasv.data_resp_ip, [172, 23, 0, 2]);
    assert_eq!(pasv.data_resp_port, 82 * 256 + 9);
    let port = &ftp[5];
    assert_eq!(port.data_passive, Some(false));
    assert_eq!((port.data_orig_ip.as_slice(), port.data_resp_ip.as_slice()), (&[10, 0, 0, 2][..], &[127, 0, 0, 1][..]));
    assert_eq!(port.data_resp_port, 156 * 256 + 67);
    let epsv = &ftp[6];
    assert_eq!((epsv.data_resp_ip.as_slice(), epsv.data_resp_port), (&[10, 0, 0, 2][..], 58612));
    assert_eq!(ftp[0].data_passive, None);

    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!((c.protocol.as_str(), c.user.as_str(), c.password.as_str()), ("FTP", "bob", "password"));
    assert_eq!(c.success, Some(true));
    assert_eq!((c.src_port, c.dst_port), (40000, 80));

    for chunk in 1..=24 {
        assert_eq!(run(chunk), (ftp.clone(), credentials.clone()), "cut into {chunk}-byte pieces");
    }
}

#[test]
fn failed_logins_are_each_a_credential() {
    let mut h = TestHarness::default();
    let mut p = Ftp::default();
    for (dir, line) in [
        (Direction::ToClient, "220 hi\r\n"),
        (Direction::ToServer, "USER bro\r\nPASS a\r\n"),
        (Direction::ToClient, "331 pw\r\n530 Login incorrect.\r\n"),
        (Direction::ToServer, "USER bro\r\nPASS b\r\n"),
        (Direction::ToClient, "331 pw\r\n230 ok\r\n"),
        (Direction::ToServer, "USER anonymous\r\n"),
    ] {
        assert!(
            matches!(p.parse(&mut h.cx(), dir, line.as_bytes()), Parsed::Continue { consumed, .. } if consumed == line.len())
        );
    }
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    let got: Vec<(&str, &str, Option<bool>)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success)).collect();
    assert_eq!(got, [("bro", "a", Some(false)), ("bro", "b", Some(true)), ("anonymous", "", None)]);
}

#[test]
fn probe_decides_on_a_command_or_an_ftp_greeting() {
    // USER is POP3's too: it decides FTP on port 21 only.
    assert_eq!(probe(Direction::ToServer, b"USER x"), Probe::No);
    assert_eq!(port_probe(Direction::ToServer, b"USER x"), Probe::Yes);
    assert_eq!(port_probe(Direction::ToClient, b"220 Service ready\r\n"), Probe::Yes);
    assert_eq!(port_probe(Direction::ToClient, b"+OK POP3"), Probe::No);
    assert_eq!(probe(Direction::ToServer, b"mdtm rand.txt\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"PASV\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"us"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, b"EHLO x"), Probe::No);
    assert_eq!(probe(Direction::ToServer, b"GET / HTTP/1.1"), Probe::No);
    assert_eq!(probe(Direction::ToClient, b"220 (vsFTPd 3.0.3)\r\n"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"220 mail.example.com ESMTP\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToClient, b"220 FT"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToClient, b"SSH-2.0"), Probe::No);
}

#[test]
fn addresses_in_replies_and_arguments() {
    assert_eq!(parse_227("Entering Passive Mode (10,1,2,3,4,5)."), Some((IpAddr::from([10, 1, 2, 3]), 1029)));
    assert_eq!(parse_227("Entering Passive Mode 10,1,2,3,4,5"), Some((IpAddr::from([10, 1, 2, 3]), 1029)));
    assert_eq!(parse_227("no address"), None);
    assert_eq!(parse_229("Entering Extended Passive Mode (|||6446|)"), Some(6446));
    assert_eq!(parse_eprt("|2|::1|6275|"), Some(("::1".parse().unwrap(), 6275)));
    assert_eq!(parse_host_port("1,2,3,4,300,1"), None);
}

#[test]
fn garbage_gaps_and_endless_lines_do_not_panic() {
    let mut h = TestHarness::default();
    let mut p = Ftp::default();
    let long = vec![b'A'; MAX_LINE * 2];
    assert!(matches!(p.parse(&mut h.cx(), Direction::ToServer, &long), Parsed::Continue { .. }));
    p.gap(&mut h.cx(), Direction::ToClient, 100);
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        for (_, line) in SESSION {
            data.extend_from_slice(line.as_bytes());
        }
        data.extend(std::iter::repeat_n(seed, 64));
        fuzz_entry(&data);
    }
}

#[test]
fn no_secrets_hides_passwords() {
    let mut h = TestHarness { emit: crate::Emitter::all().without_secrets(), ..TestHarness::default() };
    let mut p = Ftp::default();
    for (dir, line) in
        [(Direction::ToServer, "USER bob\r\nPASS hunter2\r\n"), (Direction::ToClient, "331 pw\r\n230 ok\r\n")]
    {
        p.parse(&mut h.cx(), dir, line.as_bytes());
    }
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    assert_eq!((c[0].user.as_str(), c[0].password.as_str(), c[0].success), ("bob", HIDDEN, Some(true)));
    let ftp: Vec<FtpRecord> = h.emit.decoded(RecordType::Ftp);
    assert_eq!(ftp[1].arg, HIDDEN);
    assert_eq!(ftp[0].arg, "bob");
}

/// The FTP data events of `steps` (to the server?, bytes), in order:
/// ("channel", port, passive) or (command, arg, reply code, depth, total
/// bytes, channel port).
fn data_events(steps: &[(bool, &str)]) -> Vec<String> {
    let mut h = TestHarness::default();
    let mut p = Ftp::default();
    for (to_server, text) in steps {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        p.parse(&mut h.cx(), dir, text.as_bytes());
    }
    p.finish(&mut h.cx());
    h.emit
        .ftp_data()
        .iter()
        .map(|(_, e)| match e {
            FtpDataEvent::Channel(c) => {
                format!("channel {} {}:{}", if c.passive { "passive" } else { "active" }, c.address, c.port)
            }
            FtpDataEvent::Transfer(t) => format!(
                "{} {:?} reply {} depth {} size {:?} via {}:{}",
                t.command, t.arg, t.reply_code, t.trans_depth, t.total_bytes, t.channel.address, t.channel.port
            ),
            FtpDataEvent::Stream(_) => "stream".into(),
        })
        .collect()
}

#[test]
fn channels_and_the_transfers_that_use_them_are_reported() {
    assert_eq!(
        data_events(SESSION),
        [
            "channel passive 172.23.0.2:21001",
            "RETR \"index.html\" reply 226 depth 4 size Some(39) via 172.23.0.2:21001",
            "channel active 127.0.0.1:40003",
            "channel passive 10.0.0.2:58612",
        ]
    );
    // Pipelined: the channel's reply comes before the transfer's.
    assert_eq!(
        data_events(&[
            (true, "PASV\r\nLIST /tmp\r\nPORT 10,0,0,1,1,2\r\nSTOR x\r\n"),
            (false, "227 ok (10,0,0,2,4,1)\r\n150 here\r\n226 done\r\n200 ok\r\n150 go\r\n"),
        ]),
        [
            "channel passive 10.0.0.2:1025",
            "LIST \"/tmp\" reply 226 depth 2 size None via 10.0.0.2:1025",
            "channel active 10.0.0.1:258",
            // Unanswered when the connection ends: reply 0.
            "STOR \"x\" reply 0 depth 4 size None via 10.0.0.1:258",
        ]
    );
    // A refused PASV opens nothing; a transfer refused at once still
    // reports (the matcher drops its channel); one without a channel does
    // not.
    assert_eq!(
        data_events(&[
            (true, "EPSV\r\nRETR a\r\nRETR b\r\nPASV\r\nNLST\r\n"),
            (false, "229 ok (|||5000|)\r\n550 no\r\n425 no channel\r\n500 no\r\n425 no\r\n"),
        ]),
        ["channel passive 10.0.0.2:5000", "RETR \"a\" reply 550 depth 2 size None via 10.0.0.2:5000"]
    );
    assert_eq!(parse_size("Opening BINARY mode data connection for x (5416666670 bytes)."), Some(5416666670));
    assert_eq!(parse_size("Accepted data connection"), None);
}
