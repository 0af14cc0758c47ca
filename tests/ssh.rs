//! SSH records from reassembled streams against tshark 4.0.
//!
//! Expected values: `tshark -r <capture> -Y "ssh.protocol or ssh.kex.hassh
//! or ssh.kex.hasshserver" -T fields -e tcp.srcport -e tcp.dstport -e
//! ssh.protocol -e ssh.kex.hassh -e ssh.kex.hasshserver` on the captures of
//! testdata/pcaps-ssh (zeek-ssh-on-port-80.pcap with `-d tcp.port==80,ssh`,
//! as tshark does not decode SSH on port 80 by itself).

use crate::util::*;
use netcap_records::{Connection, RecordType, Ssh};

/// (capture, sender port, receiver port, identification string, client
/// HASSH, server HASSH): one row per value tshark shows.
const TSHARK: &[(&str, u16, u16, &str, &str, &str)] = &[
    ("arkime-ssh2.pcap", 22, 61672, "SSH-1.99-OpenSSH_3.9p1", "", ""),
    ("arkime-ssh2.pcap", 61672, 22, "SSH-2.0-OpenSSH_5.3", "", ""),
    ("arkime-ssh2.pcap", 61672, 22, "", "21b457a327ce7a2d4fce5ef2c42400bd", ""),
    ("arkime-ssh2.pcap", 22, 61672, "", "", "f430cd6761697a6a658ee1d45ed22e49"),
    ("sv-ssh-banner-only.pcap", 54634, 22, "SSH-2.0-OpenSSH_for_Windows_7.7", "", ""),
    ("sv-ssh-banner-only.pcap", 22, 54634, "SSH-2.0-OpenSSH_7.4", "", ""),
    ("sv-ssh-hassh-reassembled.pcap", 22, 59139, "SSH-2.0-Cisco-1.25", "", ""),
    ("sv-ssh-hassh-reassembled.pcap", 59139, 22, "SSH-1.99-Cisco-1.25", "", ""),
    ("sv-ssh-hassh-reassembled.pcap", 22, 59139, "", "", "3cc67862bceac0f334c62ad1b76895b4"),
    ("sv-ssh-hassh-reassembled.pcap", 59139, 22, "", "3cc67862bceac0f334c62ad1b76895b4", ""),
    ("sv-ssh-hassh.pcap", 54634, 22, "SSH-2.0-OpenSSH_for_Windows_7.7", "", ""),
    ("sv-ssh-hassh.pcap", 22, 54634, "SSH-2.0-OpenSSH_7.4", "", ""),
    ("sv-ssh-hassh.pcap", 54634, 22, "", "2dd6531c7e89d3c925db9214711be76a", ""),
    ("sv-ssh-hassh.pcap", 22, 54634, "", "", "6832f1ce43d4397c2c0a3e2f8c94334e"),
    ("tcpdump-ssh.pcap", 62146, 22, "SSH-2.0-OpenSSH_7.8", "", ""),
    ("tcpdump-ssh.pcap", 22, 62146, "SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u3", "", ""),
    ("tcpdump-ssh.pcap", 62146, 22, "", "ec7378c1a92f5a8dde7e8b7a1ddf33d1", ""),
    ("tcpdump-ssh.pcap", 22, 62146, "", "", "c099ec12a2b4c3b347f8f17d966469ed"),
    ("zeek-ssh-reverse-ssh.pcap", 22, 48020, "SSH-2.0-AsyncSSH_2.8.1", "", ""),
    ("zeek-ssh-reverse-ssh.pcap", 48020, 22, "SSH-2.0-dropbear_2018.76", "413e646031ea5204c5ec2fe2d5b7946e", ""),
    ("zeek-ssh-reverse-ssh.pcap", 22, 48020, "", "", "18f369389d126cfeecade20e1ea5ff9b"),
    ("zeek-ssh-server-pre-banner-data.pcap", 55343, 22, "SSH-2.0-OpenSSH_9.7", "", ""),
    ("zeek-ssh-server-pre-banner-data.pcap", 55343, 22, "", "7994d3e86b804f8317899f8b2eeb1059", ""),
    ("zeek-ssh-single-conn.pcap", 22, 49244, "SSH-1.99-OpenSSH_3.9p1", "", ""),
    ("zeek-ssh-single-conn.pcap", 49244, 22, "SSH-2.0-OpenSSH_3.8.1p1", "", ""),
    ("zeek-ssh-single-conn.pcap", 49244, 22, "", "c4fd9343cba76d12f0dd523fbe7c4da1", ""),
    ("zeek-ssh-single-conn.pcap", 22, 49244, "", "", "f430cd6761697a6a658ee1d45ed22e49"),
    ("zeek-ssh1-ssh2-fingerprints.pcap", 57388, 22, "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.1", "", ""),
    ("zeek-ssh1-ssh2-fingerprints.pcap", 22, 57388, "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.1", "", ""),
    ("zeek-ssh1-ssh2-fingerprints.pcap", 57388, 22, "", "ae8bd7dd09970555aa4c6ed22adbbf56", ""),
    ("zeek-ssh1-ssh2-fingerprints.pcap", 22, 57388, "", "", "3ccd1778a76049721c71ad7d2bf62bbc"),
    (
        "zeek-ssh_client_sends_first_enc_pkt_with_newkeys.pcap",
        22,
        61251,
        "SSH-2.0-OpenSSH_7.6p1 Ubuntu-4ubuntu0.3",
        "",
        "",
    ),
    ("zeek-ssh_client_sends_first_enc_pkt_with_newkeys.pcap", 61251, 22, "SSH-2.0-PuTTY_Release_0.72", "", ""),
    ("zeek-ssh_client_sends_first_enc_pkt_with_newkeys.pcap", 22, 61251, "", "", "b12d2871a1189eff20364cf5333619ee"),
    ("zeek-ssh_client_sends_first_enc_pkt_with_newkeys.pcap", 61251, 22, "", "e77c2db7432e8cfbc42a96909a84fc8e", ""),
    ("zeek-ssh_kex_curve25519.pcap", 60906, 22, "SSH-2.0-OpenSSH_7.4", "", ""),
    ("zeek-ssh_kex_curve25519.pcap", 22, 60906, "SSH-2.0-OpenSSH_7.5", "", ""),
    ("zeek-ssh_kex_curve25519.pcap", 60906, 22, "", "0df0d56bb50c6b2426d8d40234bf1826", ""),
    ("zeek-ssh_kex_curve25519.pcap", 22, 60906, "", "", "a95c22bf8e9b19ed0a5dc74bb2f9c613"),
    ("zeek-ssh_kex_dh_group18.pcap", 54468, 22, "SSH-2.0-OpenSSH_10.3", "", ""),
    ("zeek-ssh_kex_dh_group18.pcap", 22, 54468, "SSH-2.0-OpenSSH_10.2", "", ""),
    ("zeek-ssh_kex_dh_group18.pcap", 54468, 22, "", "422e6fdef10393678795b9a542d89ab6", ""),
    ("zeek-ssh_kex_dh_group18.pcap", 22, 54468, "", "", "f6ac1ecedabc5a6096a573cdbfcfd8a2"),
    ("zeek-ssh-on-port-80.pcap", 80, 49656, "SSH-2.0-OpenSSH_5.8p1 Debian-1ubuntu3", "", ""),
    ("zeek-ssh-on-port-80.pcap", 49656, 80, "SSH-2.0-OpenSSH_5.2", "", ""),
    ("zeek-ssh-on-port-80.pcap", 49656, 80, "", "21b457a327ce7a2d4fce5ef2c42400bd", ""),
    ("zeek-ssh-on-port-80.pcap", 80, 49656, "", "", "60205d0b53ffd441ead5c43b5a6f1bc7"),
];

fn ssh_records(capture: &str) -> (Vec<Ssh>, Vec<Connection>) {
    let out = tempfile::tempdir().unwrap();
    crate::util::capture(&testdata(&format!("pcaps-ssh/{capture}")), out.path(), &[]);
    (records(out.path(), RecordType::Ssh), records(out.path(), RecordType::Connection))
}

#[test]
fn identification_strings_and_hassh_agree_with_tshark() {
    let mut captures: Vec<&str> = TSHARK.iter().map(|row| row.0).collect();
    captures.dedup();
    let mut checked = 0;
    for capture in captures {
        let (ssh, _) = ssh_records(capture);
        assert!(!ssh.is_empty(), "{capture}: no SSH record");
        for &(_, from, to, ident, hassh, hassh_server) in TSHARK.iter().filter(|row| row.0 == capture) {
            // The record whose connection this is; the sender is its
            // client when the sender's port is the record's src_port.
            let found = ssh.iter().any(|r| {
                let from_client = (r.src_port, r.dst_port) == (u32::from(from), u32::from(to));
                let from_server = (r.src_port, r.dst_port) == (u32::from(to), u32::from(from));
                (ident.is_empty() || (from_client && r.client == ident) || (from_server && r.server == ident))
                    && (hassh.is_empty() || (from_client && r.hassh == hassh))
                    && (hassh_server.is_empty() || (from_server && r.hassh_server == hassh_server))
                    && (from_client || from_server)
            });
            assert!(found, "{capture}: {from}->{to} {ident:?} {hassh:?} {hassh_server:?} not in {ssh:#?}");
            checked += 1;
        }
    }
    assert_eq!(checked, TSHARK.len());
}

#[test]
fn ssh_on_port_80_is_named_ssh_and_fully_decoded() {
    let (ssh, connections) = ssh_records("zeek-ssh-on-port-80.pcap");
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].application_protocol, "SSH");
    assert_eq!(connections[0].dst_port, 80);
    let r = &ssh[0];
    assert_eq!(r.version, 2);
    assert_eq!(r.kex_alg, "diffie-hellman-group-exchange-sha256");
    assert_eq!(r.host_key, "SHA256:oHZ724BXjs0jFymYMP6Xg+s00wOgwmbGcb8CEqwqbKg");
}

/// Beyond tshark: the server's identification string after its pre-banner
/// lines (tshark 4.0 shows none), negotiated algorithms and the host key
/// (from `ssh-keygen -l`-style SHA-256 of the reply's key blob), SSH 1
/// sides, and reverse SSH (the connection's initiator is the SSH server).
#[test]
fn pre_banner_lines_ssh1_and_reverse_ssh() {
    let (ssh, _) = ssh_records("zeek-ssh-server-pre-banner-data.pcap");
    assert_eq!(ssh[0].server, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u5");
    assert_eq!(ssh[0].hassh_server, "425d29fe50d8e4f5e37efb6e24bcf660");
    assert_eq!(ssh[0].kex_alg, "sntrup761x25519-sha512@openssh.com");

    let (ssh, _) = ssh_records("zeek-ssh1-ssh2-fingerprints.pcap");
    assert_eq!(ssh.len(), 2);
    let ssh1 = ssh.iter().find(|r| r.version == 1).expect("the SSH 1 connection");
    assert_eq!((ssh1.client.as_str(), ssh1.server.as_str()), ("SSH-1.5-OpenSSH_6.6", "SSH-1.5-OpenSSH_6.6"));
    assert!(ssh1.hassh.is_empty() && ssh1.auth_success.is_none());

    let (ssh, _) = ssh_records("zeek-ssh-reverse-ssh.pcap");
    assert_eq!(ssh[0].client, "SSH-2.0-dropbear_2018.76");
    assert_eq!(ssh[0].host_key, "SHA256:tSmMXzF10Li/WQ6QDwEUv6Lfrn6eQJeZsQeP8ggZeYE");

    // The first of the client's lists that the server's lists hold, from
    // the KEXINIT lists tshark shows (ssh.mac_algorithms_client_to_server
    // and friends): the client offers umac-64-etm first, which the server
    // (hmac-sha2-512-etm,hmac-sha2-256-etm) lacks.
    let (ssh, _) = ssh_records("tcpdump-ssh.pcap");
    let r = &ssh[0];
    assert_eq!(
        (r.kex_alg.as_str(), r.host_key_alg.as_str(), r.cipher_alg.as_str(), r.mac_alg.as_str()),
        (
            "curve25519-sha256@libssh.org",
            "rsa-sha2-512",
            "chacha20-poly1305@openssh.com",
            "hmac-sha2-256-etm@openssh.com"
        )
    );
}
