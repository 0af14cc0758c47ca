//! FTP command records and credentials (FTP, HTTP Basic) against tshark 4.0: every
//! request tshark decodes in the captures of testdata/pcaps-ftp has an FTP
//! record with the same sender port, command and argument, and every user
//! of `tshark -z credentials` a Credentials record. The expectations in
//! testdata/expected-ftp were written by scripts/tshark-ftp-expected.
//!
//! FTP data connections: every object `tshark --export-objects ftp-data`
//! writes has a File record with the same SHA-256 (expectations by
//! scripts/tshark-ftp-data-expected), and `-files` holds the same bytes.

use crate::util::*;
use netcap_records::{Credentials, File, Ftp, RecordType};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::Path;

fn expected(name: &str, kind: &str) -> String {
    std::fs::read_to_string(testdata(&format!("expected-ftp/{name}.{kind}.tsv"))).unwrap()
}

#[test]
fn every_command_and_credential_tshark_sees() {
    let dir = testdata("pcaps-ftp");
    let mut names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert!(names.len() >= 9);
    let (mut commands, mut users) = (0, 0);
    for name in names {
        let out = tempfile::tempdir().unwrap();
        capture(&dir.join(&name), out.path(), &[]);
        let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
        let mut got: BTreeMap<(String, String, String), i64> = BTreeMap::new();
        for r in &ftp {
            *got.entry((r.src_port.to_string(), r.command.clone(), r.arg.clone())).or_default() += 1;
        }
        for line in expected(&name, "commands").lines() {
            let mut fields = line.split('\t');
            let key = (
                fields.next().unwrap_or("").to_owned(),
                fields.next().unwrap_or("").to_owned(),
                fields.next().unwrap_or("").to_owned(),
            );
            let count = got.entry(key.clone()).or_default();
            assert!(*count > 0, "{name}: no FTP record for {key:?}");
            *count -= 1;
            commands += 1;
        }
        let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
        let mut left: Vec<&str> = credentials.iter().map(|c| c.user.as_str()).collect();
        for user in expected(&name, "credentials").lines() {
            let at = left.iter().position(|u| *u == user);
            assert!(at.is_some(), "{name}: no credential of {user}: {credentials:?}");
            left.remove(at.unwrap_or(0));
            users += 1;
        }
    }
    assert_eq!((commands, users), (308, 42), "every expectation was checked");
}

#[test]
fn brute_force_logins_fail_and_passwords_are_kept() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/zeek-ftp-bruteforce.pcap"), out.path(), &[]);
    let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
    assert_eq!(credentials.len(), 30);
    assert!(credentials.iter().all(|c| c.protocol == "FTP" && c.user == "bro" && c.success == Some(false)));
    assert!(credentials.iter().all(|c| !c.password.is_empty()));
    let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
    let pass = ftp.iter().find(|r| r.command == "PASS").unwrap();
    assert_eq!(pass.reply_code, 530);
}

#[test]
fn data_channels_from_pasv_port_and_epsv() {
    // tshark: frame 14 "227 Entering Passive Mode (172,23,0,2,82,9)".
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/sv-ftp-download-passive.pcap"), out.path(), &[]);
    let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
    let pasv = ftp.iter().find(|r| r.command == "PASV").unwrap();
    assert_eq!(
        (pasv.data_passive, pasv.data_resp_ip.as_slice(), pasv.data_resp_port),
        (Some(true), &[172, 23, 0, 2][..], 82 * 256 + 9)
    );
    assert_eq!(pasv.data_orig_ip, pasv.src_ip);
    // tshark: "PORT 127,0,0,1,156,67", answered 200.
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/sv-ftp-active-mode.pcap"), out.path(), &[]);
    let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
    let port = ftp.iter().find(|r| r.command == "PORT").unwrap();
    assert_eq!(
        (port.data_passive, port.data_resp_ip.as_slice(), port.data_resp_port),
        (Some(false), &[127, 0, 0, 1][..], 156 * 256 + 67)
    );
    assert_eq!(port.data_orig_ip, port.dst_ip);
    // tshark: "229 Entering Extended Passive Mode (|||58612|)".
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/sv-ftp-epsv.pcap"), out.path(), &[]);
    let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
    let epsv = ftp.iter().find(|r| r.command == "EPSV").unwrap();
    assert_eq!((epsv.data_resp_ip.as_slice(), epsv.data_resp_port), (epsv.dst_ip.as_slice(), 58612));
}

#[test]
fn no_secrets_hides_passwords_in_credentials_and_pass_commands() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/sv-ftp-download-passive.pcap"), out.path(), &["-no-secrets"]);
    let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
    assert_eq!((credentials[0].user.as_str(), credentials[0].password.as_str()), ("bob", "<hidden>"));
    let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
    assert!(ftp.iter().filter(|r| r.command == "PASS").all(|r| r.arg == "<hidden>"));
    // Without the flag, tshark's ftp.request.arg: "password".
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/sv-ftp-download-passive.pcap"), out.path(), &[]);
    let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
    assert_eq!(credentials[0].password, "password");
}

/// `tshark -z credentials` on arkime-http-basicauth.pcap: "4  HTTP basic
/// auth  userrrrr"; the Authorization header decodes to
/// userrrrr:passworddddd.
#[test]
fn http_basic_authentication_is_a_credential() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-streams/arkime-http-basicauth.pcap"), out.path(), &[]);
    let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!((c.protocol.as_str(), c.user.as_str(), c.password.as_str()), ("HTTP", "userrrrr", "passworddddd"));
    assert_eq!(c.frame, 4);
}

/// tshark 4.0 on arkime-http-digestauth.pcap (`-e http.authorization`):
/// frame 4 from 10.0.0.1 `Digest username="user12345678@domain.xxxx",
/// realm="xxxxxxx",nonce=...,response="xxxx..."`; no response follows, so
/// the outcome is unknown. (`-z credentials` lists only Basic.)
#[test]
fn http_digest_authentication_is_a_credential_with_its_hash_material() {
    let pcap = testdata("pcaps-credentials/arkime-http-digestauth.pcap");
    let out = tempfile::tempdir().unwrap();
    capture(&pcap, out.path(), &[]);
    let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!((c.protocol.as_str(), c.user.as_str(), c.frame), ("HTTP", "user12345678@domain.xxxx", 4));
    assert_eq!((c.password.as_str(), c.success), ("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", None));
    assert_eq!(
        c.notes,
        r#"Digest realm="xxxxxxx" uri="/xxxxxxxxxxxxxxxxxxxxxxxxxxx/xxxx/xxxxxxxxxxxxxxxxxxxxxxxx" algorithm="MD5" qop="auth" nc="00000003" nonce="xxxxxxxxxxxxxxxx" cnonce="xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" opaque="""#
    );
    // -no-secrets hides the digest like a password.
    let hidden = tempfile::tempdir().unwrap();
    capture(&pcap, hidden.path(), &["-no-secrets"]);
    let credentials: Vec<Credentials> = records(hidden.path(), RecordType::Credentials);
    assert_eq!(credentials[0].password, "<hidden>");
}

/// The FTP captures in testdata/pcaps-ftp, sorted.
fn ftp_captures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testdata("pcaps-ftp"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

fn sha256_hex(data: &[u8]) -> String {
    sha2::Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// The last component of an FTP argument (tshark names objects by it).
fn base_name(arg: &str) -> &str {
    arg.rsplit('/').next().unwrap_or(arg)
}

/// tshark 4.0 `--export-objects ftp-data` on every capture of
/// testdata/pcaps-ftp: each object whole (11 in 7 captures) is a complete
/// File record of source FTP with its name, size and SHA-256, and `-files`
/// holds its bytes under that SHA-256. The one partial object (rand.txt of
/// zeek-ftp-bigtransfer: 24 KB captured of a 5.4 GB transfer, 9 lost
/// segments; tshark writes what it saw) is an incomplete File record of that
/// name, without a hash.
#[test]
fn every_object_tshark_exports_is_a_file_record_with_its_sha256() {
    let (mut whole, mut partial) = (0, 0);
    for name in ftp_captures() {
        let out = tempfile::tempdir().unwrap();
        let files_dir = out.path().join("files");
        capture(
            &testdata(&format!("pcaps-ftp/{name}")),
            &out.path().join("records"),
            &["-files", files_dir.to_str().unwrap()],
        );
        let files: Vec<File> = records(&out.path().join("records"), RecordType::File);
        let mut left: Vec<&File> = files.iter().filter(|f| f.source == "FTP").collect();
        let expected = std::fs::read_to_string(testdata(&format!("expected-ftp/{name}.files.tsv"))).unwrap();
        for line in expected.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [object, size, sha256, state] = fields[..] else { panic!("{name}: bad line {line:?}") };
            // "index(1).html" is tshark's name for a second index.html.
            let filename = without_copy_number(object);
            let size: u64 = size.parse().unwrap();
            if state == "whole" {
                let at = left.iter().position(|f| f.sha256 == sha256 && base_name(&f.filename) == filename);
                let Some(at) = at else {
                    panic!("{name}: no File record of {object} with SHA-256 {sha256}: {left:#?}")
                };
                let f = left.remove(at);
                assert!(f.complete && f.seen_bytes == size, "{name}: {f:?}");
                let bytes = std::fs::read(files_dir.join(&f.extracted)).unwrap();
                assert_eq!((f.extracted.as_str(), sha256_hex(&bytes).as_str()), (sha256, sha256), "{name}: -files");
                whole += 1;
            } else {
                let at = left.iter().position(|f| base_name(&f.filename) == filename);
                let Some(at) = at else { panic!("{name}: no File record of {object}: {left:#?}") };
                let f = left.remove(at);
                assert!(!f.complete && f.sha256.is_empty() && f.missing_bytes > 0, "{name}: {f:?}");
                assert!(f.extracted.starts_with("incomplete/"), "{name}: {f:?}");
                partial += 1;
            }
        }
        // Nothing is left in the temporary extraction directory.
        let partial_dir = files_dir.join(".partial");
        assert!(!partial_dir.exists() || std::fs::read_dir(&partial_dir).unwrap().next().is_none(), "{name}");
    }
    assert_eq!((whole, partial), (11, 1), "every expectation was checked");
}

/// `name(1).ext` -> `name.ext`.
fn without_copy_number(object: &str) -> String {
    let (stem, ext) = match object.rfind('.') {
        Some(dot) => (&object[..dot], &object[dot..]),
        None => (object, ""),
    };
    match stem.strip_suffix(')').and_then(|s| s.rfind('(').map(|open| (s, open))) {
        Some((s, open)) if s[open + 1..].bytes().all(|b| b.is_ascii_digit()) && open + 1 < s.len() => {
            format!("{}{ext}", &s[..open])
        }
        _ => object.to_string(),
    }
}

/// Beyond tshark's export (RETR and STOR over PASV, EPSV and IPv4 PORT):
/// every connection besides the control connections whose payload went
/// one way (in these captures, the data connections, whatever command
/// opened them: listings, APPE, STOU, IPv6 EPRT included) has a File
/// record with the SHA-256 and size of what `tshark -z follow,tcp,raw`
/// reassembles of it; the one with lost segments an incomplete record.
/// One connection picked up mid-stream (pcapplusplus-Ftp: a single data
/// segment, no control connection) is not followed. Expectations by
/// scripts/tshark-ftp-data-expected.
#[test]
fn every_one_way_connection_tshark_follows_is_a_file_record() {
    let (mut whole, mut partial, mut no_syn) = (0, 0, 0);
    for name in ftp_captures() {
        let out = tempfile::tempdir().unwrap();
        capture(&testdata(&format!("pcaps-ftp/{name}")), out.path(), &[]);
        let files: Vec<File> = records(out.path(), RecordType::File);
        let mut left: Vec<&File> = files.iter().collect();
        let expected = std::fs::read_to_string(testdata(&format!("expected-ftp/{name}.streams.tsv"))).unwrap();
        for line in expected.lines() {
            let fields: Vec<&str> = line.split('\t').collect();
            let [_port, _sender, size, sha256, state] = fields[..] else { panic!("{name}: bad line {line:?}") };
            let size: u64 = size.parse().unwrap();
            match state {
                "whole" => {
                    let at = left.iter().position(|f| f.sha256 == sha256 && f.seen_bytes == size);
                    let Some(at) = at else { panic!("{name}: no File record for {line:?}: {left:#?}") };
                    assert!(left.remove(at).complete);
                    whole += 1;
                }
                "partial" => {
                    let at = left.iter().position(|f| !f.complete && f.missing_bytes > 0);
                    assert!(at.is_some(), "{name}: no incomplete File record for {line:?}");
                    left.remove(at.unwrap_or(0));
                    partial += 1;
                }
                _ => no_syn += 1,
            }
        }
        assert!(left.is_empty(), "{name}: File records tshark has no connection for: {left:#?}");
    }
    assert_eq!((whole, partial, no_syn), (46, 1, 1), "every expectation was checked");
}

/// Every File record of FTP data names its command: the File's Community
/// ID and trans_depth point at the FTP record of the command, whose
/// argument is the file name; listings, uploads and downloads go the
/// command's way.
#[test]
fn every_data_connection_is_matched_to_its_command() {
    // (capture, the File records' commands and file names)
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("arkime-ftp.pcap", &[]),
        ("sv-ftp-epsv.pcap", &[]),
        ("sv-ftp-active-mode.pcap", &[("RETR", "index.html")]),
        ("sv-ftp-download-passive.pcap", &[("NLST", ""), ("RETR", "index.html"), ("NLST", "")]),
        ("sv-ftp-upload-active.pcap", &[("NLST", ""), ("STOR", "index.html"), ("NLST", "")]),
        ("zeek-ftp-ipv4.pcap", &[("LIST", ""), ("RETR", "robots.txt"), ("LIST", ""), ("RETR", "robots.txt")]),
        // EPSV (LIST, NLST, RETR), then EPRT (RETR, LIST).
        (
            "zeek-ftp-ipv6.pcap",
            &[("LIST", ""), ("NLST", ""), ("RETR", "robots.txt"), ("RETR", "robots.txt"), ("LIST", "")],
        ),
        ("zeek-ftp-retr.pcap", &[("RETR", "/README")]),
        ("zeek-ftp-bigtransfer.pcap", &[("LIST", ""), ("RETR", "rand.txt")]),
    ];
    for (name, expected) in cases {
        let out = tempfile::tempdir().unwrap();
        capture(&testdata(&format!("pcaps-ftp/{name}")), out.path(), &[]);
        let files: Vec<File> = records(out.path(), RecordType::File);
        let mut got: Vec<(&str, &str)> = files.iter().map(|f| (f.command.as_str(), f.filename.as_str())).collect();
        got.sort();
        let mut expected = expected.to_vec();
        expected.sort();
        assert_eq!(got, expected, "{name}");
        let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
        for f in &files {
            assert_eq!(f.source, "FTP");
            let commands: Vec<&Ftp> = ftp.iter().filter(|r| r.community_id == f.community_id).collect();
            let command = commands[f.trans_depth as usize - 1];
            assert_eq!((command.command.as_str(), command.arg.as_str()), (f.command.as_str(), f.filename.as_str()));
            assert_eq!(f.direction, direction_of(&f.command) as i32, "{name}: {f:?}");
            assert_eq!(f.dst_port, 21, "{name}: the control connection's endpoints");
        }
    }
    // Both suricata-verify captures of every data command: 7 commands (STOR,
    // APPE, STOU, LIST, NLST, MLSD, RETR) over PASV then PORT (IPv4), EPSV
    // then EPRT (IPv6).
    for name in ["sv-ruletype-firewall-116-ftp-all-data-ipv4.pcap", "sv-ruletype-firewall-117-ftp-all-data-ipv6.pcap"] {
        let out = tempfile::tempdir().unwrap();
        capture(&testdata(&format!("pcaps-ftp/{name}")), out.path(), &[]);
        let files: Vec<File> = records(out.path(), RecordType::File);
        let mut got: Vec<&str> = files.iter().map(|f| f.command.as_str()).collect();
        got.sort();
        let mut want = ["STOR", "APPE", "STOU", "LIST", "NLST", "MLSD", "RETR"].repeat(2);
        want.sort();
        assert_eq!(got, want, "{name}");
        let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
        for f in &files {
            let commands: Vec<&Ftp> = ftp.iter().filter(|r| r.community_id == f.community_id).collect();
            let command = commands[f.trans_depth as usize - 1];
            assert_eq!((command.command.as_str(), command.arg.as_str()), (f.command.as_str(), f.filename.as_str()));
            assert_eq!(f.direction, direction_of(&f.command) as i32, "{name}: {f:?}");
            assert!(f.complete, "{name}: {f:?}");
        }
    }
}

/// Uploads go to the server, downloads and listings to the client.
fn direction_of(command: &str) -> netcap_records::Direction {
    match command {
        "STOR" | "APPE" | "STOU" => netcap_records::Direction::ClientToServer,
        _ => netcap_records::Direction::ServerToClient,
    }
}

/// File records of FTP data and the extracted contents do not depend on
/// the number of workers (40 copies of the suricata-verify IPv4 capture:
/// three batches, data and control connections on different shards).
#[test]
fn ftp_data_files_are_identical_for_any_number_of_workers() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("many.pcap");
    repeated_pcap(&testdata("pcaps-ftp/sv-ruletype-firewall-116-ftp-all-data-ipv4.pcap"), 40, &pcap);
    let run = |workers: &str| -> (Vec<File>, Vec<(String, Vec<u8>)>) {
        let base = dir.path().join(format!("w{workers}"));
        let files_dir = base.join("files");
        capture(&pcap, &base.join("records"), &["-workers", workers, "-files", files_dir.to_str().unwrap()]);
        let mut extracted = Vec::new();
        let mut stack = vec![files_dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    extracted
                        .push((p.strip_prefix(&files_dir).unwrap().display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        extracted.sort();
        (records(&base.join("records"), RecordType::File), extracted)
    };
    let one = run("1");
    // 14 data connections in each copy, every one matched.
    assert_eq!(one.0.len(), 14 * 40);
    assert!(!one.1.is_empty());
    assert_eq!(run("2"), one);
    assert!(files_only_under(&dir.path().join("w2/files")));
}

/// No temporary content is left under a -files directory.
fn files_only_under(dir: &Path) -> bool {
    let partial = dir.join(".partial");
    !partial.exists() || std::fs::read_dir(&partial).unwrap().next().is_none()
}

/// TLS after AUTH TLS answered 234 (RFC 4217) is parsed as TLS on its own
/// port would be. tshark 4.0 on zeek-ftp-auth-tls.pcap (`-Y
/// tls.handshake -T fields -e tcp.srcport -e
/// tls.handshake.extensions_server_name -e tls.handshake.ja3 -e
/// tls.handshake.ja3s -e tls.handshake.ciphersuite`): ClientHello from
/// 40284 with SNI 127.0.0.1, JA3 11d974c9114303ebbaac1703a515be37;
/// ServerHello (TLS 1.3: its certificate is encrypted) JA3S
/// 15af977ce25de452b96affa2addb1036, cipher 0x1302.
#[test]
fn tls_after_auth_tls() {
    use netcap_records::{Connection, TlsClientHello, TlsServerHello};
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-ftp/zeek-ftp-auth-tls.pcap"), out.path(), &[]);
    let ftp: Vec<Ftp> = records(out.path(), RecordType::Ftp);
    let auth: Vec<(&str, u32)> =
        ftp.iter().filter(|r| r.command == "AUTH").map(|r| (r.arg.as_str(), r.reply_code)).collect();
    assert_eq!(auth, [("TLS", 234)]);
    let hellos: Vec<TlsClientHello> = records(out.path(), RecordType::Tlsclienthello);
    let got: Vec<(u32, &str, &str)> =
        hellos.iter().map(|h| (h.src_port, h.sni.as_str(), h.ja3_hash.as_str())).collect();
    assert_eq!(got, [(40284, "127.0.0.1", "11d974c9114303ebbaac1703a515be37")]);
    let servers: Vec<TlsServerHello> = records(out.path(), RecordType::Tlsserverhello);
    let got: Vec<(&str, u32)> = servers.iter().map(|s| (s.ja3s_hash.as_str(), s.cipher_suite)).collect();
    assert_eq!(got, [("15af977ce25de452b96affa2addb1036", 0x1302)]);
    let connections: Vec<Connection> = records(out.path(), RecordType::Connection);
    let c = connections.iter().find(|c| c.src_port == 40284).unwrap();
    assert_eq!((c.application_protocol.as_str(), c.tls_cipher), ("FTP", 0x1302));
    // Nothing after the switch was read as FTP.
    assert_eq!(ftp.len(), 2, "{ftp:?}");
}
