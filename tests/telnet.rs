//! Telnet records and Telnet credentials against tshark 4.0.
//!
//! Expected values: `scripts/tshark-telnet-expected
//! testdata/pcaps-telnet/*.pcap` (tshark's `telnet.cmd`, `telnet.subcmd`
//! and the client's `telnet.data`): per connection the options each side
//! sent WILL and DO for, in first-seen order, and the client's lines.
//! tshark has no Telnet credentials (`-z credentials` lists none); the
//! login is the client's lines typed at the "login:" and "Password:"
//! prompts (`tshark -z follow,tcp,ascii,0` shows them).

use crate::util::*;
use netcap_records::{Connection, Credentials, RecordType, Telnet};

fn captured(name: &str) -> (Vec<Telnet>, Vec<Credentials>, Vec<Connection>) {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata(&format!("pcaps-telnet/{name}")), out.path(), &[]);
    (
        records(out.path(), RecordType::Telnet),
        records(out.path(), RecordType::Credentials),
        records(out.path(), RecordType::Connection),
    )
}

#[test]
fn options_lines_and_login_of_a_line_mode_session() {
    let (telnet, credentials, connections) = captured("sv-telnet.pcap");
    assert_eq!(telnet.len(), 1);
    let t = &telnet[0];
    assert_eq!(t.src_port, 1550);
    // client WILL 24 31 32 33 34 39 35, DO 3 5 1 6; server WILL 3 5 38 1 6,
    // DO 37 24 31 32 33 34 39 35 38 36 1.
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
    assert_eq!(t.client_do, ["SUPPRESS-GO-AHEAD", "STATUS", "ECHO", "TIMING-MARK"]);
    assert_eq!(t.server_will, ["SUPPRESS-GO-AHEAD", "STATUS", "ENCRYPT", "ECHO", "TIMING-MARK"]);
    assert_eq!(
        t.server_do,
        [
            "AUTHENTICATION",
            "TERMINAL-TYPE",
            "NAWS",
            "TERMINAL-SPEED",
            "TOGGLE-FLOW-CONTROL",
            "LINEMODE",
            "NEW-ENVIRON",
            "X-DISPLAY-LOCATION",
            "ENCRYPT",
            "ENVIRON",
            "ECHO"
        ]
    );
    // Client data: fake\r\n, user\r\n, /sbin/ping www.yahoo.com\r\n, ls\r\n,
    // ls -a\r\n, exit\r\n (the first two at the login prompts).
    assert_eq!(t.user, "fake");
    assert_eq!(t.commands, ["/sbin/ping www.yahoo.com", "ls", "ls -a", "exit"]);
    assert_eq!((t.login_success, t.login_attempts), (Some(true), 1));
    assert_eq!(t.terminal_type, "xterm-color");
    assert_eq!((t.window_width, t.window_height), (80, 32));
    let got: Vec<(&str, &str, &str, Option<bool>)> =
        credentials.iter().map(|c| (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success)).collect();
    assert_eq!(got, [("Telnet", "fake", "user", Some(true))]);
    assert_eq!(credentials[0].frame, 31);
    assert_eq!(credentials[0].community_id, t.community_id);
    assert_eq!(connections.iter().map(|c| c.application_protocol.as_str()).collect::<Vec<_>>(), ["Telnet"]);
}

#[test]
fn negotiation_without_handshakes() {
    // Three connections picked up mid-stream, server data only: server WILL
    // 3 and DO 24 31 32 33 34 (port 1550), WILL 0 and DO 0 (1201), no
    // negotiation (3714, whose banner is Microsoft's).
    let (telnet, credentials, _) = captured("pcapplusplus-telnet.pcap");
    let got: Vec<(u32, Vec<String>, Vec<String>)> =
        telnet.iter().map(|t| (t.src_port, t.server_will.clone(), t.server_do.clone())).collect();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        got,
        [
            (
                1550,
                s(&["SUPPRESS-GO-AHEAD"]),
                s(&["TERMINAL-TYPE", "NAWS", "TERMINAL-SPEED", "TOGGLE-FLOW-CONTROL", "LINEMODE"])
            ),
            (1201, s(&["TRANSMIT-BINARY"]), s(&["TRANSMIT-BINARY"])),
            (3714, s(&[]), s(&[])),
        ]
    );
    assert!(telnet[2].banner.starts_with("Telnet server could not log you in using NTLM authentication."));
    assert!(credentials.is_empty());
    // One segment: an escaped 255 and a subnegotiation cut short.
    let (telnet, _, _) = captured("pcapplusplus-telnetCommandAfterData.pcap");
    assert_eq!(telnet.len(), 1);
    assert_eq!(telnet[0].server_bytes, 1);
}
