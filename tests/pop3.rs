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
