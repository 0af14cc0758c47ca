//! SOCKS records, SOCKS credentials and the protocols in SOCKS tunnels
//! against tshark 4.0.
//!
//! Expected values: `scripts/tshark-socks-expected
//! testdata/pcaps-socks/*.pcap` (tshark decodes SOCKS on the proxy's port
//! with `-d tcp.port==P,socks`): per connection the version, command,
//! requested address or name and port, reply code, bound address and port,
//! RFC 1929 user and password, offered and chosen methods and the
//! authentication status. The tunnelled HTTP requests are tshark's
//! `http.host` (`-Y http.request`); the TLS server name `tls.handshake.
//! extensions_server_name`. tshark's `-z credentials` lists no SOCKS
//! logins; the RFC 1929 rows above are the expected credentials.

use crate::util::*;
use netcap_records::{Connection, Credentials, Http, RecordType, Socks, TlsClientHello};

struct Out {
    socks: Vec<Socks>,
    credentials: Vec<Credentials>,
    http: Vec<Http>,
    hellos: Vec<TlsClientHello>,
    connections: Vec<Connection>,
}

fn captured(name: &str) -> Out {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata(&format!("pcaps-socks/{name}")), out.path(), &[]);
    let p = out.path();
    Out {
        socks: records(p, RecordType::Socks),
        credentials: records(p, RecordType::Credentials),
        http: records(p, RecordType::Http),
        hellos: records(p, RecordType::Tlsclienthello),
        connections: records(p, RecordType::Connection),
    }
}

/// (client port, version, command, requested address, name, port, reply
/// code, bound address, bound port, user, password, methods offered,
/// method chosen, auth status) as the script prints them.
type Row = (
    u32,
    u32,
    &'static str,
    &'static str,
    &'static str,
    u32,
    Option<u32>,
    &'static str,
    u32,
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    Option<bool>,
);

const NONE: &[&str] = &[];
const NO_AUTH: &[&str] = &["no authentication"];
const NO_AUTH_GSSAPI: &[&str] = &["no authentication", "GSSAPI"];
const ALL3: &[&str] = &["no authentication", "GSSAPI", "username/password"];

const TSHARK: &[(&str, &[Row])] = &[
    (
        "arkime-socks-http-example.pcap",
        &[
            (53533, 4, "CONNECT", "93.184.216.119", "", 80, Some(90), "10.180.156.249", 57266, "", "", NONE, "", None),
            // SOCKS 4a: 0.0.0.1 and the name www.example.com.
            (53534, 4, "CONNECT", "", "www.example.com", 80, Some(90), "10.180.156.249", 57267, "", "", NONE, "", None),
            (
                53535,
                5,
                "CONNECT",
                "93.184.216.119",
                "",
                80,
                Some(0),
                "10.180.156.249",
                57268,
                "",
                "",
                NO_AUTH_GSSAPI,
                "no authentication",
                None,
            ),
        ],
    ),
    (
        "arkime-socks-http-pass.pcap",
        &[
            (54068, 5, "", "", "", 0, None, "", 0, "", "", NO_AUTH_GSSAPI, "no acceptable methods", None),
            (54069, 5, "", "", "", 0, None, "", 0, "testuser", "testpass", ALL3, "username/password", Some(false)),
            (
                54072,
                5,
                "CONNECT",
                "93.184.216.119",
                "",
                80,
                Some(0),
                "10.180.156.249",
                33214,
                "testuser",
                "testuser",
                ALL3,
                "username/password",
                Some(true),
            ),
        ],
    ),
    (
        "arkime-socks5-http-302-frag.pcap",
        &[(
            1637,
            5,
            "CONNECT",
            "",
            "www.google.com",
            80,
            Some(0),
            "10.0.0.2",
            80,
            "",
            "",
            NO_AUTH,
            "no authentication",
            None,
        )],
    ),
    (
        "arkime-socks5-rdp.pcap",
        &[(
            2276,
            5,
            "CONNECT",
            "10.0.0.1",
            "",
            3389,
            Some(0),
            "0.0.0.0",
            0,
            "",
            "",
            NO_AUTH,
            "no authentication",
            None,
        )],
    ),
    (
        "zeek-socks-auth.pcap",
        &[(
            55951,
            5,
            "CONNECT",
            "192.168.0.2",
            "",
            22,
            Some(0),
            "192.168.0.1",
            55951,
            "bob",
            "alice",
            &["no authentication", "3", "username/password"],
            "username/password",
            Some(true),
        )],
    ),
    (
        "zeek-socks-with-ssl.pcap",
        &[(
            59580,
            5,
            "CONNECT",
            "",
            "www.google.com",
            443,
            Some(0),
            "0.0.0.0",
            443,
            "",
            "",
            NO_AUTH,
            "no authentication",
            None,
        )],
    ),
    (
        "zeek-socks.pcap",
        &[(
            53994,
            5,
            "CONNECT",
            "",
            "www.osnews.com",
            80,
            Some(0),
            "192.168.0.31",
            2688,
            "",
            "",
            NO_AUTH,
            "no authentication",
            None,
        )],
    ),
];

fn ip(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(bytes).unwrap()).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).unwrap()).to_string(),
        _ => String::new(),
    }
}

#[test]
fn every_request_and_reply_tshark_decodes() {
    let mut checked = 0;
    for (name, rows) in TSHARK {
        let out = captured(name);
        let got: Vec<_> = out
            .socks
            .iter()
            .map(|s| {
                (
                    (
                        s.src_port,
                        s.version,
                        s.request_type.clone(),
                        ip(&s.request_host),
                        s.request_name.clone(),
                        s.request_p,
                    ),
                    (s.reply_code, ip(&s.bound_host), s.bound_p),
                    (s.user.clone(), s.password.clone(), s.auth_methods.clone(), s.auth_method.clone(), s.auth_success),
                )
            })
            .collect();
        let want: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    (r.0, r.1, r.2.to_owned(), r.3.to_owned(), r.4.to_owned(), r.5),
                    (r.6, r.7.to_owned(), r.8),
                    (
                        r.9.to_owned(),
                        r.10.to_owned(),
                        r.11.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                        r.12.to_owned(),
                        r.13,
                    ),
                )
            })
            .collect();
        assert_eq!(got, want, "{name}");
        for socks in &out.socks {
            let c = out.connections.iter().find(|c| c.community_id == socks.community_id);
            assert_eq!(c.map(|c| c.application_protocol.as_str()), Some("SOCKS"), "{name}");
        }
        checked += rows.len();
    }
    assert_eq!(checked, 11);
}

#[test]
fn rfc1929_logins_are_credentials() {
    let out = captured("arkime-socks-http-pass.pcap");
    let got: Vec<(u32, &str, &str, &str, Option<bool>)> = out
        .credentials
        .iter()
        .map(|c| (c.src_port, c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success))
        .collect();
    assert_eq!(
        got,
        [(54069, "SOCKS", "testuser", "testpass", Some(false)), (54072, "SOCKS", "testuser", "testuser", Some(true))]
    );
    let out = captured("zeek-socks-auth.pcap");
    assert_eq!(out.credentials.len(), 1);
    assert_eq!((out.credentials[0].user.as_str(), out.credentials[0].password.as_str()), ("bob", "alice"));
    assert_eq!(out.credentials[0].frame, 8);
}

#[test]
fn tunnels_are_decoded_as_their_protocols() {
    // tshark -Y http.request -e tcp.srcport -e http.host: 53533, 53534,
    // 53535, each www.example.com.
    let out = captured("arkime-socks-http-example.pcap");
    let hosts: Vec<(u32, &str)> = out.http.iter().map(|h| (h.src_port, h.host.as_str())).collect();
    assert_eq!(hosts, [(53533, "www.example.com"), (53534, "www.example.com"), (53535, "www.example.com")]);
    assert!(out.socks.iter().all(|s| s.tunnel_protocol == "HTTP"));
    // The HTTP of arkime-socks5-http-302-frag comes in tiny segments: a
    // request to www.google.com answered 302.
    let out = captured("arkime-socks5-http-302-frag.pcap");
    assert_eq!(out.http.len(), 1);
    assert_eq!((out.http[0].host.as_str(), out.http[0].status_code), ("www.google.com", 302));
    // tls.handshake.extensions_server_name: www.google.com.
    let out = captured("zeek-socks-with-ssl.pcap");
    assert_eq!(out.socks[0].tunnel_protocol, "TLS");
    assert_eq!(out.hellos.iter().map(|h| h.sni.as_str()).collect::<Vec<_>>(), ["www.google.com"]);
    let out = captured("zeek-socks.pcap");
    assert_eq!(out.socks[0].tunnel_protocol, "HTTP");
    assert!(
        out.http.iter().all(|h| h.host == "www.osnews.com"),
        "{:?}",
        out.http.iter().map(|h| &h.host).collect::<Vec<_>>()
    );
    assert!(!out.http.is_empty());
}
