use super::*;
use crate::protocols::{HIDDEN, TestHarness, unhex};

/// sv-telnet.pcap (line mode: OpenBSD login "fake" / "user", then ping,
/// ls, ls -a, exit), every data segment in capture order without the one
/// retransmission, as `tshark -r sv-telnet.pcap -T fields -e tcp.srcport
/// -e tcp.payload -Y "tcp.len>0 && !tcp.analysis.retransmission"` prints
/// them (true: from the client, port 1550).
const SESSION: &[(bool, &str)] = &[
    (true, "fffd03fffb18fffb1ffffb20fffb21fffb22fffb27fffd05fffb23"),
    (false, "fffd25"),
    (true, "fffc25"),
    (false, "fffb03fffd18fffd1ffffd20fffd21fffd22fffa22010bfff0"),
    (
        true,
        "fffa1f00500020fff0fffa220301000003620304020f05000007621c08020409421a0a027f0b02150f0211100213110000120000fff0fffd03fffa22010ffff0",
    ),
    (false, "fffd27fffb05fffd23fffb26fffd26fffd24"),
    (true, "fffe26fffc26fffc24"),
    (false, "fffa2001fff0fffa2301fff0fffa2701fff0fffa1801fff0"),
    (
        true,
        "fffa2000393630302c39363030fff0fffa230062616d2e7a696e672e6f72673a302e30fff0fffa270000444953504c41590162616d2e7a696e672e6f72673a302e30fff0fffa1800787465726d2d636f6c6f72fff0",
    ),
    (false, "fffd01"),
    (true, "fffc01"),
    (false, "fffb01fffa2102fff0fffc01"),
    (true, "fffd01fffe01"),
    (false, "fffa2203058000118000128000fff0"),
    (false, "0d0a4f70656e4253442f6933383620286f6f662920287474797032290d0a0d0a"),
    (false, "6c6f67696e3a20"),
    (true, "66616b650d0a"),
    (false, "fffb01"),
    (true, "fffd01"),
    (false, "50617373776f72643a"),
    (true, "757365720d0a"),
    (false, "0d0a"),
    (false, "fffc01"),
    (true, "fffe01"),
    (
        false,
        "4c617374206c6f67696e3a20536174204e6f762032372032303a31313a3433206f6e2074747970322066726f6d2062616d2e7a696e672e6f72670d0a",
    ),
    (
        false,
        "5761726e696e673a206e6f204b65726265726f73207469636b657473206973737565642e0d0a4f70656e42534420322e362d6265746120284f4f46292023343a20547565204f63742031322032303a34323a33322043445420313939390d0a0d0a57656c636f6d6520746f204f70656e4253443a205468652070726f6163746976656c792073656375726520556e69782d6c696b65206f7065726174696e672073797374656d2e0d0a0d0a506c6561736520757365207468652073656e64627567283129207574696c69747920746f207265706f7274206275677320696e207468652073797374656d2e0d0a4265666f7265207265706f7274696e672061206275672c20706c656173652074727920746f20726570726f64756365206974207769746820746865206c61746573740d0a76657273696f6e206f662074686520636f64652e20205769746820627567207265706f7274732c20706c656173652074727920746f20656e7375726520746861740d0a656e6f75676820696e666f726d6174696f6e20746f20726570726f64756365207468652070726f626c656d20697320656e636c6f7365642c20616e6420696620610d0a6b6e6f776e2066697820666f72206974206578697374732c20696e636c75646520746861742061732077656c6c2e0d0a0d0a",
    ),
    (false, "2420"),
    (true, "2f7362696e2f70696e67207777772e7961686f6f2e636f6d0d0a"),
    (false, "50494e47207777772e7961686f6f2e636f6d20283230342e37312e3230302e3637293a20353620646174612062797465730d0a"),
    (
        false,
        "36342062797465732066726f6d203230342e37312e3230302e36373a2069636d705f7365713d302074746c3d3234312074696d653d36392e383835206d730d0a",
    ),
    (
        false,
        "36342062797465732066726f6d203230342e37312e3230302e36373a2069636d705f7365713d312074746c3d3234312074696d653d37332e353931206d730d0a",
    ),
    (
        false,
        "36342062797465732066726f6d203230342e37312e3230302e36373a2069636d705f7365713d322074746c3d3234312074696d653d37322e333032206d730d0a",
    ),
    (
        false,
        "36342062797465732066726f6d203230342e37312e3230302e36373a2069636d705f7365713d332074746c3d3234312074696d653d37332e343933206d730d0a",
    ),
    (
        false,
        "36342062797465732066726f6d203230342e37312e3230302e36373a2069636d705f7365713d342074746c3d3234312074696d653d37352e303638206d730d0a",
    ),
    (
        false,
        "36342062797465732066726f6d203230342e37312e3230302e36373a2069636d705f7365713d352074746c3d3234312074696d653d37302e323339206d730d0a",
    ),
    (true, "fff4fffd06"),
    (false, "fffb06"),
    (false, "ff"),
    (false, "f2"),
    (
        false,
        "0d002d2d2d207777772e7961686f6f2e636f6d2070696e672073746174697374696373202d2d2d0d0a36207061636b657473207472616e736d69747465642c2036207061636b6574732072656365697665642c203025207061636b6574206c6f73730d0a726f756e642d74726970206d696e2f6176672f6d6178203d2036392e3838352f37322e3432392f37352e303638206d730d0a2420",
    ),
    (true, "6c730d0a"),
    (false, "2420"),
    (true, "6c73202d610d0a"),
    (
        false,
        "2e2020202020202020202e2e20202020202020202e6373687263202020202e6c6f67696e202020202e6d61696c72632020202e70726f66696c6520202e72686f7374730d0a",
    ),
    (false, "2420"),
    (true, "657869740d0a"),
];

fn run_segments(segments: &[(bool, Vec<u8>)], chunk: usize) -> (Vec<TelnetRecord>, Vec<Credentials>) {
    let mut h = TestHarness::default();
    let mut p = Telnet::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, bytes) in segments {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, bytes, chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Telnet), h.emit.decoded(RecordType::Credentials))
}

fn session() -> Vec<(bool, Vec<u8>)> {
    SESSION.iter().map(|(c, hex)| (*c, unhex(hex))).collect()
}

#[test]
fn line_mode_login_options_and_commands_at_every_segmentation() {
    let (telnet, credentials) = run_segments(&session(), usize::MAX);
    assert_eq!(telnet.len(), 1);
    let t = &telnet[0];
    assert_eq!(t.user, "fake");
    assert_eq!(t.login_success, Some(true));
    assert_eq!(t.login_attempts, 1);
    assert_eq!(t.commands, ["/sbin/ping www.yahoo.com", "ls", "ls -a", "exit"]);
    assert_eq!(t.commands_dropped, 0);
    assert_eq!(t.terminal_type, "xterm-color");
    assert_eq!(t.terminal_speed, "9600,9600");
    assert_eq!(t.x_display, "bam.zing.org:0.0");
    assert_eq!(t.environment, ["DISPLAY=bam.zing.org:0.0"]);
    assert_eq!((t.window_width, t.window_height), (80, 32));
    assert_eq!(t.banner, "OpenBSD/i386 (oof) (ttyp2)");
    // Frame 4: the client's first offers.
    assert_eq!(
        t.client_will,
        [
            "TERMINAL-TYPE",
            "NAWS",
            "TERMINAL-SPEED",
            "TOGGLE-FLOW-CONTROL",
            "LINEMODE",
            "NEW-ENVIRON",
            "X-DISPLAY-LOCATION"
        ]
    );
    assert_eq!(t.client_do[..2], ["SUPPRESS-GO-AHEAD".to_owned(), "STATUS".to_owned()]);
    assert_eq!(t.server_will[..3], ["SUPPRESS-GO-AHEAD".to_owned(), "STATUS".to_owned(), "ENCRYPT".to_owned()]);
    assert!(t.server_do.contains(&"TERMINAL-TYPE".to_owned()));
    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!(
        (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success, c.notes.as_str()),
        ("Telnet", "fake", "user", Some(true), HEURISTIC)
    );
    for chunk in 1..=16 {
        assert_eq!(run_segments(&session(), chunk), (telnet.clone(), credentials.clone()), "{chunk}-byte pieces");
    }
}

#[test]
fn every_split_point_of_the_whole_exchange() {
    // The login part of the session as one client and one server stream
    // split at every point: the records must not change. Since directions
    // interleave, each segment is split in two at every offset instead.
    let segments = session();
    let whole = run_segments(&segments, usize::MAX);
    for (i, (c, bytes)) in segments.iter().enumerate().take(24) {
        for cut in 1..bytes.len() {
            let mut split = segments.clone();
            split[i] = (*c, bytes[..cut].to_vec());
            split.insert(i + 1, (*c, bytes[cut..].to_vec()));
            assert_eq!(run_segments(&split, usize::MAX), whole, "segment {i} cut at {cut}");
        }
    }
}

/// Character mode as CredSLayer's telnet-raw capture has it: the client
/// sends one keystroke per segment and the server echoes the name (not
/// the password); a failed attempt first, with a typo corrected by
/// backspace.
#[test]
fn character_mode_with_a_failed_attempt_and_backspace() {
    let mut segments: Vec<(bool, Vec<u8>)> = vec![
        (true, vec![IAC, DO, 1]),
        (false, vec![IAC, WILL, 1, IAC, WILL, 3]),
        (false, b"Ubuntu 18.04\r\nlogin: ".to_vec()),
    ];
    let typed = |text: &[u8], echo: bool, segments: &mut Vec<(bool, Vec<u8>)>| {
        for &b in text {
            segments.push((true, vec![b]));
            if echo && b != b'\r' {
                segments.push((false, vec![b]));
            }
        }
    };
    typed(b"fakx\x7fe\r", true, &mut segments);
    segments.push((false, b"\r\nPassword: ".to_vec()));
    typed(b"wrong\r", false, &mut segments);
    segments.push((false, b"\r\n\r\nLogin incorrect\r\nlogin: ".to_vec()));
    typed(b"fake\r", true, &mut segments);
    segments.push((false, b"\r\nPassword: ".to_vec()));
    typed(b"user\r", false, &mut segments);
    segments.push((false, b"\r\nWelcome to Ubuntu\r\nfake@host:~$ ".to_vec()));
    typed(b"id\r", true, &mut segments);
    let (telnet, credentials) = run_segments(&segments, usize::MAX);
    let got: Vec<(&str, &str, Option<bool>)> =
        credentials.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success)).collect();
    assert_eq!(got, [("fake", "wrong", Some(false)), ("fake", "user", Some(true))]);
    let t = &telnet[0];
    assert_eq!((t.login_attempts, t.login_success), (2, Some(true)));
    assert_eq!(t.commands, ["id"]);
    assert_eq!(t.banner, "Ubuntu 18.04");
    assert_eq!(t.server_will, ["ECHO", "SUPPRESS-GO-AHEAD"]);
    assert_eq!(t.client_do, ["ECHO"]);
}

#[test]
fn password_only_prompts_iac_escapes_and_hidden_secrets() {
    let mut h = TestHarness { emit: crate::emit::Emitter::all().without_secrets(), ..Default::default() };
    let mut p = Telnet::default();
    p.parse(&mut h.cx(), Direction::ToClient, b"\r\nUser Access Verification\r\n\r\nPassword: ");
    // A password with a byte 255 (sent as IAC IAC).
    p.parse(&mut h.cx(), Direction::ToServer, b"cisco\xff\xff\r\n");
    p.parse(&mut h.cx(), Direction::ToClient, b"\r\nrouter> ");
    p.finish(&mut h.cx());
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].user.as_str(), c[0].password.as_str(), c[0].success), ("", HIDDEN, Some(true)));
    let t: Vec<TelnetRecord> = h.emit.decoded(RecordType::Telnet);
    assert_eq!(t[0].client_bytes, 8);
    assert_eq!(t[0].banner, "User Access Verification");
}

#[test]
fn probes() {
    assert_eq!(probe(Direction::ToServer, &[IAC, DO, 3]), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, &[IAC, SB, 24]), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, &[IAC]), Probe::NeedMore);
    assert_eq!(probe(Direction::ToClient, &[IAC, 241]), Probe::No);
    assert_eq!(probe(Direction::ToClient, b"login: "), Probe::No);
    assert_eq!(port_probe(Direction::ToClient, b"login: "), Probe::Yes);
    assert_eq!(option_name(24), "TERMINAL-TYPE");
    assert_eq!(option_name(200), "200");
}

#[test]
fn malformed_truncated_and_endless_input_stays_bounded() {
    // An endless subnegotiation, an endless line each way, IAC at the end.
    let mut h = TestHarness::default();
    let mut p = Telnet::default();
    let mut sb = vec![IAC, SB, TERMINAL_TYPE, 0];
    sb.extend(std::iter::repeat_n(b'x', MAX_SUBNEGOTIATION * 4));
    p.parse(&mut h.cx(), Direction::ToServer, &sb);
    p.parse(&mut h.cx(), Direction::ToServer, &[IAC, SE]);
    p.parse(&mut h.cx(), Direction::ToServer, &vec![b'a'; MAX_LINE * 4]);
    p.parse(&mut h.cx(), Direction::ToClient, &vec![b'b'; MAX_SERVER_LINE * 40]);
    p.parse(&mut h.cx(), Direction::ToClient, &[IAC]);
    p.gap(&mut h.cx(), Direction::ToClient, 100);
    for i in 0..MAX_COMMANDS + 5 {
        p.parse(&mut h.cx(), Direction::ToServer, format!("\ncmd {i}").as_bytes());
    }
    assert!(p.memory() < 200_000);
    assert_eq!(p.record().terminal_type.len(), MAX_SUBNEGOTIATION - 1);
    p.finish(&mut h.cx());
    let t: Vec<TelnetRecord> = h.emit.decoded(RecordType::Telnet);
    assert_eq!(t[0].commands.len(), MAX_COMMANDS);
    assert_eq!(t[0].commands[0].len(), MAX_LINE);
    // The long line and 261 more lines: 6 over the bound.
    assert_eq!(t[0].commands_dropped, 6);
    assert_eq!(h.errors.errors.iter().sum::<u64>(), 1);
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        for (_, hex) in SESSION {
            data.extend_from_slice(&unhex(hex));
        }
        data.extend(std::iter::repeat_n(seed, 64));
        fuzz_entry(&data);
    }
}
