use super::*;
use crate::protocols::{HIDDEN, TestHarness, unhex};
use netcap_records::Http;

/// zeek-socks-auth.pcap: a SOCKS 5 greeting offering methods 0, 3 and 2,
/// username/password "bob"/"alice", CONNECT 192.168.0.2:22, reply bound
/// 192.168.0.1:55951 (`tshark -r zeek-socks-auth.pcap -T fields -e
/// tcp.srcport -e tcp.payload -Y "tcp.len>0"`; true: from the client).
const AUTH: &[(bool, &str)] = &[
    (true, "0503000302"),
    (false, "0502"),
    (true, "0103626f6205616c696365"),
    (false, "0100"),
    (true, "05010001c0a800020016"),
    (false, "05000001c0a80001da8f"),
];

/// arkime-socks-http-example.pcap's SOCKS 4a connection (port 53534):
/// CONNECT www.example.com:80, granted, then the start of an HTTP request
/// and response through the tunnel.
const SOCKS4A: &[(bool, &str)] = &[
    (true, "0401005000000001007777772e6578616d706c652e636f6d00"),
    (false, "005adfb30ab49cf9"),
    (true, "474554202f20485454502f312e310d0a486f73743a207777772e6578616d706c652e636f6d0d0a0d0a"),
    (false, "485454502f312e3120323030204f4b0d0a436f6e74656e742d4c656e6774683a20320d0a0d0a6f6b"),
];

type Out = (Vec<SocksRecord>, Vec<Credentials>, Vec<Http>);

fn run(session: &[(bool, &str)], chunk: usize) -> Out {
    let mut h = TestHarness::default();
    let mut p = Socks::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut done = [false; 2];
    for (to_server, hex) in session {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        if !done[dir.index()] {
            done[dir.index()] = h.feed(&mut p, dir, &unhex(hex), chunk, &mut pending[dir.index()]);
        }
    }
    for dir in [Direction::ToServer, Direction::ToClient] {
        let rest = std::mem::take(&mut pending[dir.index()]);
        p.end(&mut h.cx(), dir, &rest);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Socks), h.emit.decoded(RecordType::Credentials), h.emit.decoded(RecordType::Http))
}

#[test]
fn socks5_with_username_and_password_at_every_segmentation() {
    let (socks, credentials, _) = run(AUTH, usize::MAX);
    assert_eq!(socks.len(), 1);
    let s = &socks[0];
    assert_eq!(s.version, 5);
    assert_eq!(s.auth_methods, ["no authentication", "3", "username/password"]);
    assert_eq!(s.auth_method, "username/password");
    assert_eq!(s.auth_success, Some(true));
    assert_eq!((s.user.as_str(), s.password.as_str()), ("bob", "alice"));
    assert_eq!(s.request_type, "CONNECT");
    assert_eq!((s.request_host.as_slice(), s.request_name.as_str(), s.request_p), (&[192, 168, 0, 2][..], "", 22));
    assert_eq!((s.status.as_str(), s.reply_code), ("succeeded", Some(0)));
    assert_eq!((s.bound_host.as_slice(), s.bound_p), (&[192, 168, 0, 1][..], 55951));
    let c: Vec<(&str, &str, &str, Option<bool>)> =
        credentials.iter().map(|c| (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success)).collect();
    assert_eq!(c, [("SOCKS", "bob", "alice", Some(true))]);
    for chunk in 1..=12 {
        assert_eq!(run(AUTH, chunk), (socks.clone(), credentials.clone(), vec![]), "{chunk}-byte pieces");
    }
}

#[test]
fn socks4a_tunnel_is_handed_to_http() {
    let (socks, _, http) = run(SOCKS4A, usize::MAX);
    assert_eq!(socks.len(), 1);
    let s = &socks[0];
    assert_eq!(
        (s.version, s.request_type.as_str(), s.request_name.as_str(), s.request_p),
        (4, "CONNECT", "www.example.com", 80)
    );
    assert!(s.request_host.is_empty());
    assert_eq!((s.status.as_str(), s.reply_code, s.bound_p), ("succeeded", Some(90), 57267));
    assert_eq!(s.bound_host, [10, 180, 156, 249]);
    assert_eq!(s.tunnel_protocol, "HTTP");
    assert_eq!(http.len(), 1);
    assert_eq!((http[0].method.as_str(), http[0].host.as_str(), http[0].status_code), ("GET", "www.example.com", 200));
    for chunk in 1..=9 {
        assert_eq!(run(SOCKS4A, chunk), (socks.clone(), vec![], http.clone()), "{chunk}-byte pieces");
    }
}

#[test]
fn refusals_failed_logins_and_hidden_passwords() {
    // arkime-socks-http-pass.pcap: no acceptable method (port 54068), then
    // a failed login testuser/testpass (54069).
    let (socks, credentials, _) = run(&[(true, "05020001"), (false, "05ff")], usize::MAX);
    assert_eq!((socks[0].auth_method.as_str(), socks[0].request_type.as_str()), ("no acceptable methods", ""));
    assert!(credentials.is_empty());
    let session =
        [(true, "0503000102"), (false, "0502"), (true, "01087465737475736572087465737470617373"), (false, "01ff")];
    let (socks, credentials, _) = run(&session, usize::MAX);
    assert_eq!((socks[0].user.as_str(), socks[0].auth_success), ("testuser", Some(false)));
    assert_eq!(
        credentials.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success)).collect::<Vec<_>>(),
        [("testuser", "testpass", Some(false))]
    );
    // -no-secrets.
    let mut h = TestHarness { emit: crate::emit::Emitter::all().without_secrets(), ..Default::default() };
    let mut p = Socks::default();
    for (to_server, hex) in AUTH {
        let dir = if *to_server { Direction::ToServer } else { Direction::ToClient };
        p.parse(&mut h.cx(), dir, &unhex(hex));
    }
    p.finish(&mut h.cx());
    let s: Vec<SocksRecord> = h.emit.decoded(RecordType::Socks);
    let c: Vec<Credentials> = h.emit.decoded(RecordType::Credentials);
    assert_eq!((s[0].password.as_str(), c[0].password.as_str()), (HIDDEN, HIDDEN));
}

#[test]
fn socks5_names_ipv6_and_refused_replies() {
    // CONNECT www.google.com:443 (zeek-socks-with-ssl.pcap's request),
    // answered "Connection refused" with an IPv6 bound address.
    let mut reply = vec![5, 5, 0, 4];
    reply.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8]);
    reply.extend_from_slice(&[0; 12]);
    reply.extend_from_slice(&[0x01, 0xbb]);
    let reply: String = reply.iter().map(|b| format!("{b:02x}")).collect();
    let session = [
        (true, "050100"),
        (false, "0500"),
        (true, "050100030e7777772e676f6f676c652e636f6d01bb"),
        (false, reply.as_str()),
    ];
    let (socks, _, _) = run(&session, usize::MAX);
    let s = &socks[0];
    assert_eq!((s.request_name.as_str(), s.request_p), ("www.google.com", 443));
    assert_eq!((s.status.as_str(), s.reply_code), ("Connection refused", Some(5)));
    assert_eq!(s.bound_host.len(), 16);
    assert_eq!(s.bound_p, 443);
    assert!(s.tunnel_protocol.is_empty());
}

#[test]
fn message_parsers_and_probe() {
    assert_eq!(
        parse_client(&unhex("040100505db8d87700"), ClientExpect::First),
        Ok(Some((
            ClientMessage::V4Request { command: 1, port: 80, ip: [93, 184, 216, 119], user: String::new(), name: None },
            9
        )))
    );
    assert_eq!(parse_client(&unhex("040100505db8d877"), ClientExpect::First), Ok(None));
    assert_eq!(
        parse_client(
            &[4, 1, 0, 80, 1, 2, 3, 4].iter().copied().chain([b'x'; 300]).collect::<Vec<_>>(),
            ClientExpect::First
        ),
        Err(SocksError::Unterminated)
    );
    assert_eq!(parse_client(&[5, 0], ClientExpect::First), Err(SocksError::NoMethods));
    assert_eq!(parse_client(&[6], ClientExpect::First), Err(SocksError::Version(6)));
    assert_eq!(parse_client(&[5, 1, 0, 9, 0], ClientExpect::V5Next { gssapi: false }), Err(SocksError::AddressType(9)));
    assert_eq!(parse_client(&[1, 2], ClientExpect::V5Next { gssapi: true }), Err(SocksError::Unexpected(1)));
    assert_eq!(parse_server(&[5], ServerExpect::V5Method), Ok(None));
    assert_eq!(parse_server(&[5, 0, 0, 3, 5, b'a'], ServerExpect::V5Next), Ok(None));
    assert_eq!(probe(Direction::ToServer, &unhex("0503000302")), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, &unhex("050100")), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, &unhex("05010005010001")), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, &unhex("0502")), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, &unhex("05020000")), Probe::No);
    assert_eq!(probe(Direction::ToServer, &unhex("050100ff")), Probe::No);
    assert_eq!(probe(Direction::ToServer, &unhex("040100505db8d877")), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, &unhex("040100505db8d87700")), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, b"GET / HTTP/1.1\r\n"), Probe::No);
    assert_eq!(probe(Direction::ToClient, &unhex("0500")), Probe::No);
}

#[test]
fn garbage_gaps_and_truncation_do_not_panic() {
    for seed in 0..=255u8 {
        for session in [AUTH, SOCKS4A] {
            let mut data = vec![seed];
            for (_, hex) in session {
                data.extend_from_slice(&unhex(hex));
            }
            data.extend(std::iter::repeat_n(seed, 64));
            fuzz_entry(&data);
        }
    }
    // Truncated: every prefix of the client's bytes, then the end.
    let client: Vec<u8> = AUTH.iter().filter(|(c, _)| *c).flat_map(|(_, h)| unhex(h)).collect();
    for cut in 0..client.len() {
        let mut h = TestHarness::default();
        let mut p = Socks::default();
        p.parse(&mut h.cx(), Direction::ToServer, &client[..cut]);
        p.gap(&mut h.cx(), Direction::ToClient, 5);
        p.finish(&mut h.cx());
        assert!(h.emit.decoded::<SocksRecord>(RecordType::Socks).len() <= 1);
    }
}
