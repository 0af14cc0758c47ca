//! IRC records against tshark 4.0.
//!
//! Expected values: `tshark -r <capture> -Y irc.request -T fields -e
//! tcp.srcport -e irc.request.command`, the commands of each line counted
//! per client port (tshark writes `map` and `squit` as sent; netcap in
//! upper case). arkime-irc.pcap runs on port 8000, which tshark does not
//! decode as IRC: netcap finds it by content (its client lines, `tshark -q
//! -z follow,tcp,ascii,0`: USER, NICK, USERHOST, MODE, JOIN).

use crate::util::*;
use netcap_records::{Connection, Credentials, Irc, RecordType};
use std::collections::BTreeMap;

/// (client port, command, how many) of one capture.
type CommandCounts = &'static [(u32, &'static str, usize)];

const TSHARK: &[(&str, CommandCounts)] = &[
    (
        "sv-irc.pcap",
        &[
            (1049, "JOIN", 3),
            (1049, "MODE", 3),
            (1049, "NICK", 1),
            (1049, "PASS", 1),
            (1049, "PRIVMSG", 9),
            (1049, "USER", 1),
            (1049, "USERHOST", 3),
        ],
    ),
    (
        "zeek-irc-basic.pcap",
        &[(49170, "JOIN", 1), (49170, "NICK", 1), (49170, "PRIVMSG", 1), (49170, "QUIT", 1), (49170, "USER", 1)],
    ),
    (
        "zeek-irc-more-commands.pcap",
        &[
            (40896, "CAP", 3),
            (40896, "CONNECT", 1),
            (40896, "INVITE", 1),
            (40896, "JOIN", 1),
            (40896, "KICK", 1),
            (40896, "MODE", 3),
            (40896, "NICK", 1),
            (40896, "OPER", 2),
            (40896, "PASS", 1),
            (40896, "PING", 3),
            (40896, "PONG", 1),
            (40896, "TOPIC", 1),
            (40896, "USER", 1),
            (40896, "WHO", 2),
            (40896, "WHOIS", 1),
            (40896, "MAP", 2),
            (40896, "SQUIT", 2),
            (52624, "CAP", 3),
            (52624, "JOIN", 2),
            (52624, "MODE", 5),
            (52624, "NICK", 3),
            (52624, "PART", 1),
            (52624, "PASS", 1),
            (52624, "PING", 2),
            (52624, "PONG", 1),
            (52624, "USER", 1),
            (52624, "WHO", 2),
            (52624, "WHOIS", 1),
        ],
    ),
];

fn captured(name: &str) -> (Vec<Irc>, Vec<Credentials>, Vec<Connection>) {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata(&format!("pcaps-irc/{name}")), out.path(), &[]);
    (
        records(out.path(), RecordType::Irc),
        records(out.path(), RecordType::Credentials),
        records(out.path(), RecordType::Connection),
    )
}

#[test]
fn every_command_tshark_decodes() {
    for (name, rows) in TSHARK {
        let want: BTreeMap<(u32, String), usize> = rows.iter().map(|&(p, c, n)| ((p, c.to_owned()), n)).collect();
        let (irc, _, _) = captured(name);
        let mut got = BTreeMap::new();
        for r in irc.iter().filter(|r| r.dst_port == 6667 || r.src_port != 6667) {
            *got.entry((r.src_port, r.command.clone())).or_insert(0) += 1;
        }
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn nick_user_values_and_credentials() {
    // zeek-irc-basic: USER brotest * * :brotest, NICK brotest, JOIN #brotest,
    // PRIVMSG #brotest test.
    let (irc, _, _) = captured("zeek-irc-basic.pcap");
    let join = irc.iter().find(|r| r.command == "JOIN").unwrap();
    assert_eq!((join.nick.as_str(), join.user.as_str(), join.value.as_str()), ("brotest", "brotest", "#brotest"));
    // sv-irc: PASS l0m3za, NICK damn-0262937047, USER ghmfeirsfnw 0 0
    // :damn-0262937047.
    let (irc, credentials, _) = captured("sv-irc.pcap");
    assert_eq!(irc.last().map(|r| r.nick.as_str()), Some("damn-0262937047"));
    let got: Vec<(&str, &str, &str)> =
        credentials.iter().map(|c| (c.protocol.as_str(), c.user.as_str(), c.password.as_str())).collect();
    assert_eq!(got, [("IRC", "ghmfeirsfnw", "l0m3za")]);
    // zeek-irc-more-commands: OPER tim fail, OPER tim test.
    let (_, credentials, _) = captured("zeek-irc-more-commands.pcap");
    let opers: Vec<&str> = credentials.iter().filter(|c| c.notes == "OPER").map(|c| c.password.as_str()).collect();
    assert_eq!(opers, ["fail", "test"]);
}

#[test]
fn irc_on_another_port_and_starttls() {
    let (irc, _, connections) = captured("arkime-irc.pcap");
    assert_eq!(
        irc.iter().map(|r| r.command.as_str()).collect::<Vec<_>>(),
        ["USER", "NICK", "USERHOST", "MODE", "JOIN"]
    );
    assert!(irc.iter().all(|r| r.dst_port == 8000));
    assert_eq!(connections.iter().filter(|c| c.application_protocol == "IRC").count(), 1);
    // STARTTLS, answered 670: the TLS that follows is not read as lines.
    let (irc, _, _) = captured("zeek-tls-irc-starttls.pcap");
    assert_eq!(irc.iter().map(|r| r.command.as_str()).collect::<Vec<_>>(), ["STARTTLS"]);
}
