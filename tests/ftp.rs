//! FTP command records and credentials (FTP, HTTP Basic) against tshark 4.0: every
//! request tshark decodes in the captures of testdata/pcaps-ftp has an FTP
//! record with the same sender port, command and argument, and every user
//! of `tshark -z credentials` a Credentials record. The expectations in
//! testdata/expected-ftp were written by scripts/tshark-ftp-expected.

use crate::util::*;
use netcap_records::{Credentials, Ftp, RecordType};
use std::collections::BTreeMap;

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
    assert_eq!((commands, users), (185, 36), "every expectation was checked");
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
