//! POP3 command records and POP3 credentials against tshark 4.0.
//!
//! Expected commands: `tshark -r <capture> -Y pop.request.command -T fields
//! -e tcp.srcport -e pop.request.command -e pop.request.parameter` on the
//! captures of testdata/pcaps-pop3. tshark shows the base64 lines that
//! answer an AUTH challenge as commands; netcap reads them as part of the
//! AUTH exchange (and decodes AUTH PLAIN into a credential), so those rows
//! are checked as credentials instead.

use crate::util::*;
use netcap_records::{Credentials, Pop3, RecordType};

const TSHARK: &[(&str, u16, &str, &str)] = &[
    ("sv-pop3-02-bug-7709.pcap", 38571, "USER", "test@tt.com"),
    ("sv-pop3-02-bug-7709.pcap", 38571, "PASS", "123456"),
    ("sv-pop3-02-bug-7709.pcap", 38571, "QUIT", ""),
    ("sv-pop3-02-bug-7709.pcap", 38572, "USER", "test"),
    ("sv-pop3-02-bug-7709.pcap", 38572, "PASS", "123456"),
    ("sv-pop3-02-bug-7709.pcap", 38572, "STAT", ""),
    ("sv-pop3-02-bug-7709.pcap", 38572, "LIST", ""),
    ("sv-pop3-02-bug-7709.pcap", 38572, "UIDL", ""),
    ("sv-pop3-02-bug-7709.pcap", 38572, "RETR", "5"),
    ("sv-pop3-02-bug-7709.pcap", 38572, "QUIT", ""),
    ("sv-pop3-auth-01.pcap", 5555, "CAPA", ""),
    ("sv-pop3-auth-01.pcap", 5555, "AUTH", "XOAUTH2"),
    (
        "sv-pop3-auth-01.pcap",
        5555,
        "dXNlcj1qb2Uuc3BlZWRib2F0AWF1dGg9QmVhcmVyIEFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUEBAQ==",
        "",
    ),
    ("sv-pop3-auth-01.pcap", 5555, "STAT", ""),
    ("sv-pop3-auth-01.pcap", 5555, "LIST", ""),
    ("sv-pop3-auth-01.pcap", 5555, "UIDL", ""),
    ("sv-pop3-auth-01.pcap", 5555, "QUIT", ""),
    ("zeek-pop3-unknown-commands.pcap", 58246, "USER", "zeek@zeek.org"),
    ("zeek-pop3-unknown-commands.pcap", 58246, "PASS", "zeek"),
    ("zeek-pop3-unknown-commands.pcap", 58246, "STAT", ""),
    ("zeek-pop3-unknown-commands.pcap", 58246, "QUIT", ""),
    ("zeek-pop3.pcap", 26272, "CAPA", ""),
    ("zeek-pop3.pcap", 26272, "QUIT", ""),
    ("zeek-pop3.pcap", 26284, "AUTH", ""),
    ("zeek-pop3.pcap", 26284, "CAPA", ""),
    ("zeek-pop3.pcap", 26284, "AUTH", "PLAIN"),
    ("zeek-pop3.pcap", 26284, "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcg==", ""),
    ("zeek-pop3.pcap", 26304, "CAPA", ""),
    ("zeek-pop3.pcap", 26304, "QUIT", ""),
    ("zeek-pop3.pcap", 26308, "AUTH", ""),
    ("zeek-pop3.pcap", 26308, "CAPA", ""),
    ("zeek-pop3.pcap", 26308, "AUTH", "PLAIN"),
    ("zeek-pop3.pcap", 26308, "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcjEyMw==", ""),
    ("zeek-pop3.pcap", 26308, "QUIT", ""),
    ("zeek-pop3.pcap", 26383, "AUTH", ""),
    ("zeek-pop3.pcap", 26383, "CAPA", ""),
    ("zeek-pop3.pcap", 26383, "AUTH", "PLAIN"),
    ("zeek-pop3.pcap", 26383, "AGRpZ2l0YWxpbnZlc3RpZ2F0b3JAbmV0d29ya3NpbXMuY29tAG5hcGllcjEyMw==", ""),
    ("zeek-pop3.pcap", 26383, "STAT", ""),
    ("zeek-pop3.pcap", 26383, "LIST", ""),
    ("zeek-pop3.pcap", 26383, "UIDL", ""),
    ("zeek-pop3.pcap", 26383, "RETR", "1"),
    ("zeek-pop3.pcap", 26383, "RETR", "2"),
    ("zeek-pop3.pcap", 26383, "RETR", "3"),
    ("zeek-pop3.pcap", 26383, "QUIT", ""),
];

fn captured(name: &str) -> (Vec<Pop3>, Vec<Credentials>) {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata(&format!("pcaps-pop3/{name}")), out.path(), &[]);
    (records(out.path(), RecordType::Pop3), records(out.path(), RecordType::Credentials))
}

fn is_sasl_answer(command: &str) -> bool {
    command.len() > 20 && command.bytes().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
}

#[test]
fn every_command_tshark_decodes() {
    let mut names: Vec<&str> = TSHARK.iter().map(|r| r.0).collect();
    names.dedup();
    let mut checked = 0;
    for name in names {
        let (pop3, _) = captured(name);
        let mut left: Vec<(u32, &str, &str)> =
            pop3.iter().map(|r| (r.src_port, r.command.as_str(), r.arg.as_str())).collect();
        for &(_, port, command, arg) in TSHARK.iter().filter(|r| r.0 == name && !is_sasl_answer(r.2)) {
            let at = left.iter().position(|&(p, c, a)| p == u32::from(port) && c == command && a == arg);
            assert!(at.is_some(), "{name}: no POP3 record for {port} {command} {arg:?}: {left:?}");
            left.remove(at.unwrap_or(0));
            checked += 1;
        }
    }
    assert_eq!(checked, TSHARK.len() - 4);
}

/// `tshark -z credentials`: test@tt.com and test (sv-pop3-02-bug-7709),
/// zeek@zeek.org (zeek-pop3-unknown-commands). tshark shows no AUTH PLAIN
/// credential; zeek-pop3.pcap's three AUTH PLAIN answers decode to
/// digitalinvestigator@networksims.com with "napier" and twice "napier123"
/// (the base64 lines above).
#[test]
fn logins_are_credentials_with_their_outcome() {
    let (_, c) = captured("sv-pop3-02-bug-7709.pcap");
    let got: Vec<(&str, &str, Option<bool>)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.success)).collect();
    assert_eq!(got, [("test@tt.com", "123456", Some(false)), ("test", "123456", Some(true))]);
    let (_, c) = captured("zeek-pop3-unknown-commands.pcap");
    assert_eq!(c.iter().map(|c| c.user.as_str()).collect::<Vec<_>>(), ["zeek@zeek.org"]);
    let (_, c) = captured("zeek-pop3.pcap");
    let got: Vec<(&str, &str, &str)> =
        c.iter().map(|c| (c.user.as_str(), c.password.as_str(), c.notes.as_str())).collect();
    assert_eq!(
        got,
        [
            ("digitalinvestigator@networksims.com", "napier", "AUTH PLAIN"),
            ("digitalinvestigator@networksims.com", "napier123", "AUTH PLAIN"),
            ("digitalinvestigator@networksims.com", "napier123", "AUTH PLAIN"),
        ]
    );
    assert!(c.iter().all(|c| c.protocol == "POP3"));
}

/// TLS after an accepted STLS is parsed as TLS on its own port would be.
/// tshark 4.0 on zeek-tls-pop3-starttls.pcap (`-Y "tls.handshake.type==1
/// || tls.handshake.type==2" -T fields -e tcp.srcport -e
/// tls.handshake.extensions_server_name -e tls.handshake.ja3 -e
/// tls.handshake.ja3s -e tls.handshake.ciphersuite`, and the SHA-1 of each
/// `tls.handshake.certificate`): ClientHello from 54775 without SNI, JA3
/// 13020a4ccb11b2d3c9c0e6c285c3c415; ServerHello JA3S
/// ee644a8a34c434abca4b737ec1d9efad, cipher 0x009f; one certificate.
#[test]
fn tls_after_stls() {
    use netcap_records::{Connection, TlsCertificate, TlsClientHello, TlsServerHello};
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-pop3/zeek-tls-pop3-starttls.pcap"), out.path(), &[]);
    let pop3: Vec<Pop3> = records(out.path(), RecordType::Pop3);
    assert!(pop3.iter().any(|r| r.command == "STLS"), "{pop3:?}");
    let hellos: Vec<TlsClientHello> = records(out.path(), RecordType::Tlsclienthello);
    let got: Vec<(u32, &str, &str)> =
        hellos.iter().map(|h| (h.src_port, h.sni.as_str(), h.ja3_hash.as_str())).collect();
    assert_eq!(got, [(54775, "", "13020a4ccb11b2d3c9c0e6c285c3c415")]);
    let servers: Vec<TlsServerHello> = records(out.path(), RecordType::Tlsserverhello);
    let got: Vec<(&str, u32)> = servers.iter().map(|s| (s.ja3s_hash.as_str(), s.cipher_suite)).collect();
    assert_eq!(got, [("ee644a8a34c434abca4b737ec1d9efad", 0x9f)]);
    let certs: Vec<TlsCertificate> = records(out.path(), RecordType::Tlscertificate);
    let sha1: Vec<&str> = certs.iter().map(|c| c.sha1.as_str()).collect();
    assert_eq!(sha1, ["9d3cd48e1be8cf6494b7da2ff413c660285955e7"]);
    let connections: Vec<Connection> = records(out.path(), RecordType::Connection);
    let c = connections.iter().find(|c| c.src_port == 54775).unwrap();
    assert_eq!((c.application_protocol.as_str(), c.tls_cipher), ("POP3", 0x9f));
}
