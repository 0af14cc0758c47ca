//! Software and Service records against tshark 4.0: every HTTP User-Agent
//! and Server value and every SSH identification string tshark decodes in
//! the captures has a Software record of the address that sent it, whose
//! product name and version are in the string (strings that differ only
//! after the version, `Apache/2.2.25 (Unix) mod_ssl/...` and
//! `Apache/2.2.25 (Unix) mod_perl/...`, are one product and version, one
//! record), and every FTP server's greeting is its Service record's banner. The expectations in testdata/expected-inventory were
//! written by scripts/tshark-software-expected.

use crate::util::*;
use netcap_records::{Connection, RecordType, Service, Software};
use std::collections::BTreeSet;
use std::net::IpAddr;

fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).unwrap()).to_string(),
        16 => IpAddr::from(<[u8; 16]>::try_from(bytes).unwrap()).to_string(),
        _ => panic!("not an address: {bytes:?}"),
    }
}

fn captures() -> Vec<std::path::PathBuf> {
    let mut paths = Vec::new();
    for dir in ["pcaps-ssh", "pcaps-ftp", "pcaps-streams", "pcaps-credentials"] {
        for e in std::fs::read_dir(testdata(dir)).unwrap() {
            paths.push(e.unwrap().path());
        }
    }
    paths.push(testdata("pcaps/pcapplusplus-many-protocols.pcap"));
    paths.sort();
    paths
}

#[test]
fn every_software_string_and_ftp_greeting_tshark_sees() {
    let (mut software_seen, mut banners_seen) = (0, 0);
    for pcap in captures() {
        let name = pcap.file_name().unwrap().to_str().unwrap().to_owned();
        let expected = std::fs::read_to_string(testdata(&format!("expected-inventory/{name}.software.tsv"))).unwrap();
        let out = tempfile::tempdir().unwrap();
        capture(&pcap, out.path(), &[]);
        let software: Vec<Software> = records(out.path(), RecordType::Software);
        // tshark splits `220-text` (a multi-line reply's first line) into
        // code and text, which the script joins with a blank: compared
        // without blanks and dashes.
        let squeeze = |s: &str| s.replace([' ', '-'], "");
        let banners: BTreeSet<(String, String)> = records::<Service>(out.path(), RecordType::Service)
            .iter()
            .map(|s| (ip_text(&s.ip), squeeze(&s.banner)))
            .collect();
        for line in expected.lines() {
            let mut fields = line.splitn(3, '\t');
            let (kind, ip, text) = (fields.next().unwrap(), fields.next().unwrap(), fields.next().unwrap());
            let key = (ip.to_owned(), text.trim().to_owned());
            match kind {
                "software" => {
                    let found = software.iter().any(|s| {
                        ip_text(&s.ip) == key.0
                            && !s.name.is_empty()
                            && key.1.contains(&s.name)
                            && key.1.contains(&s.version)
                    });
                    assert!(found, "{name}: no Software record for {key:?}: {software:?}");
                    software_seen += 1;
                }
                "banner" => {
                    let key = (key.0, squeeze(&key.1));
                    assert!(banners.contains(&key), "{name}: no Service with banner {key:?}: {banners:?}");
                    banners_seen += 1;
                }
                other => panic!("{name}: unknown kind {other}"),
            }
        }
    }
    // The expectations are not empty: the test compares something.
    assert!(software_seen >= 60 && banners_seen >= 8, "{software_seen} software strings, {banners_seen} banners");
}

/// The records of one SSH connection, field by field (tshark 4.0:
/// `-e ssh.protocol`; the server's greeting is its identification string).
#[test]
fn ssh_software_and_service_field_by_field() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ssh/zeek-ssh-on-port-80.pcap"), out.path(), &[]);
    let software: Vec<Software> = records(out.path(), RecordType::Software);
    let server = software.iter().find(|s| s.software_type == "SSH::SERVER").expect("an SSH server");
    assert_eq!((ip_text(&server.ip), server.host_p), ("172.16.238.131".to_owned(), 80));
    assert_eq!((server.name.as_str(), server.version.as_str()), ("OpenSSH", "5.8p1"));
    assert_eq!((server.version_major, server.version_minor, server.version_addl.as_str()), (5, 8, "p1"));
    assert_eq!(server.source, "ssh-identification");
    let client = software.iter().find(|s| s.software_type == "SSH::CLIENT").expect("an SSH client");
    assert_eq!((ip_text(&client.ip), client.host_p, client.name.as_str()), ("172.16.238.1".to_owned(), 0, "OpenSSH"));
    let services: Vec<Service> = records(out.path(), RecordType::Service);
    assert_eq!(services.len(), 1);
    let s = &services[0];
    assert_eq!((ip_text(&s.ip), s.port_num, s.port_proto.as_str()), ("172.16.238.131".to_owned(), 80, "tcp"));
    assert_eq!(s.service, ["SSH"]);
    assert_eq!((s.product.as_str(), s.version.as_str(), s.connections, s.clients), ("OpenSSH", "5.8p1", 1, 1));
    // The totals are the Connection record's.
    let conns: Vec<Connection> = records(out.path(), RecordType::Connection);
    assert_eq!(conns.len(), 1);
    let c = &conns[0];
    assert_eq!(
        (s.client_packets, s.client_bytes, s.server_packets, s.server_bytes),
        (c.client_packets, c.client_bytes, c.server_packets, c.server_bytes)
    );
    assert_eq!(
        (s.timestamp_ns, s.last_seen_ns, s.community_id.as_str()),
        (c.timestamp_ns, c.last_timestamp_ns, c.community_id.as_str())
    );
    assert_eq!(c.client_software, ["SSH-2.0-OpenSSH_5.2"]);
    assert_eq!(c.server_software, ["SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3"]);
}

/// Software alone: Connection records are made for the inventory and not
/// written; the Software records are those of a full capture.
#[test]
fn software_without_connection_records() {
    let pcap = testdata("pcaps/pcapplusplus-many-protocols.pcap");
    let (full, alone) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    capture(&pcap, full.path(), &[]);
    capture(&pcap, alone.path(), &["-include", "Software,Service"]);
    assert!(!alone.path().join("Connection.ncap.zst").exists());
    let a: Vec<Software> = records(full.path(), RecordType::Software);
    let b: Vec<Software> = records(alone.path(), RecordType::Software);
    assert!(a.len() > 30);
    assert_eq!(a, b);
    let a: Vec<Service> = records(full.path(), RecordType::Service);
    let b: Vec<Service> = records(alone.path(), RecordType::Service);
    assert_eq!(a, b);
}
