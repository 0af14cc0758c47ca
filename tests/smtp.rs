//! SMTP transactions, Mail records (SMTP, POP3 RETR/TOP, IMAP FETCH),
//! attachments and mail credentials against tshark 4.0 on the captures of
//! testdata/pcaps-smtp, pcaps-pop3 and pcaps-imap. The expectations in
//! testdata/expected-mail were written by scripts/tshark-mail-expected:
//!
//! - every message tshark decodes as IMF has a Mail record with the same
//!   From and Subject (RFC 2047 encoded words decoded by Python; compared
//!   without whitespace: tshark shows folded headers as sent). tshark's POP3 dissector does not reassemble: a
//!   segment of a RETR or TOP response is an IMF layer of its own, with
//!   neither (skipped) or only one of the two (matched on that one). In
//!   zeek-smtp-mail-transactions-invalid.pcap tshark also takes the lines a
//!   client sent after a DATA the server refused (503, then "500
//!   unrecognized command" for each line) for three messages: netcap, like
//!   Zeek, reads them as commands;
//! - every MAIL FROM and RCPT TO tshark decodes is an SMTP record's
//!   `mail_from` or in its `rcpt_to`;
//! - every user of `tshark -z credentials` (SMTP AUTH LOGIN users base64
//!   decoded) has a Credentials record of the same protocol;
//! - every attachment of the messages in tshark's reassembled client
//!   streams (taken apart by Python's email package) has a File record with
//!   the same SHA-256 and file name.

use crate::util::*;
use netcap_records::{Connection, Credentials, File, Mail, RecordType, Smtp};
use std::collections::BTreeMap;

/// Messages tshark decodes that are no messages (see above).
const REFUSED_DATA: &[(&str, usize)] = &[("zeek-smtp-mail-transactions-invalid.pcap", 3)];

fn expected(name: &str, kind: &str) -> Vec<Vec<String>> {
    std::fs::read_to_string(testdata(&format!("expected-mail/{name}.{kind}.tsv")))
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect()
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn address(parameter: &str) -> String {
    let rest = parameter.split_once(':').map_or(parameter, |(_, r)| r).trim();
    rest.trim_start_matches('<').split('>').next().unwrap_or("").to_owned()
}

fn base64_user(user: &str) -> String {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(user).unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn every_message_envelope_attachment_and_credential_tshark_sees() {
    let (mut messages, mut attachments, mut envelopes, mut users) = (0, 0, 0, 0);
    for folder in ["pcaps-smtp", "pcaps-pop3", "pcaps-imap"] {
        let dir = testdata(folder);
        let mut names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        for name in names {
            let out = tempfile::tempdir().unwrap();
            capture(&dir.join(&name), out.path(), &[]);
            let mail: Vec<Mail> = records(out.path(), RecordType::Mail);
            let smtp: Vec<Smtp> = records(out.path(), RecordType::Smtp);
            let files: Vec<File> = records(out.path(), RecordType::File);
            let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);

            let mut have: BTreeMap<(String, String), i64> = BTreeMap::new();
            for m in &mail {
                *have.entry((squeeze(&m.from), squeeze(&m.subject))).or_default() += 1;
            }
            let mut missed = 0;
            for line in expected(&name, "imf") {
                // Columns 3 and 4: encoded words decoded.
                let from = squeeze(line.get(2).map_or("", String::as_str));
                let subject = squeeze(line.get(3).map_or("", String::as_str));
                let smtp_capture = folder == "pcaps-smtp";
                if !smtp_capture && from.is_empty() && subject.is_empty() {
                    continue; // a segment of a longer response
                }
                messages += 1;
                let key = (from.clone(), subject.clone());
                if let Some(count) = have.get_mut(&key).filter(|c| **c > 0) {
                    *count -= 1;
                } else if !smtp_capture
                    && (from.is_empty() || subject.is_empty())
                    && mail.iter().any(|m| {
                        (from.is_empty() || squeeze(&m.from) == from)
                            && (subject.is_empty() || squeeze(&m.subject) == subject)
                    })
                {
                    // A segment holding only the From or only the Subject.
                } else {
                    missed += 1;
                }
            }
            let refused = REFUSED_DATA.iter().find(|(n, _)| *n == name).map_or(0, |(_, n)| *n);
            assert_eq!(missed, refused, "{name}: IMF messages without a Mail record; records: {mail:#?}");
            messages -= refused;

            let mut envelope: BTreeMap<(bool, String), i64> = BTreeMap::new();
            for t in &smtp {
                *envelope.entry((true, t.mail_from.clone())).or_default() += 1;
                for r in &t.rcpt_to {
                    *envelope.entry((false, r.clone())).or_default() += 1;
                }
            }
            for line in expected(&name, "envelope") {
                let key = (line[0] == "MAIL", address(&line[1]));
                let count = envelope.entry(key.clone()).or_default();
                assert!(*count > 0, "{name}: no SMTP record with {key:?}: {smtp:#?}");
                *count -= 1;
                envelopes += 1;
            }

            for line in expected(&name, "attachments") {
                assert!(
                    files.iter().any(|f| f.sha256 == line[0] && f.filename == line[1]),
                    "{name}: no File record for {line:?}: {files:#?}"
                );
                attachments += 1;
            }

            for line in expected(&name, "credentials") {
                let protocol = line[0].as_str();
                let user = line[1].trim_matches('"');
                let user = if protocol == "SMTP" { base64_user(user) } else { user.to_owned() };
                assert!(
                    credentials.iter().any(|c| c.protocol == protocol && c.user == user),
                    "{name}: no Credentials record for {protocol} {user}: {credentials:#?}"
                );
                users += 1;
            }
        }
    }
    // What the expectations hold (a regenerated file that lost its lines
    // would otherwise pass).
    assert_eq!((messages, envelopes, attachments, users), (41, 22, 6, 7));
}

#[test]
fn transactions_bdat_starttls_and_attached_messages() {
    let out = tempfile::tempdir().unwrap();
    // 27 BDAT chunks, tshark does not decode them (values from the message:
    // `tshark -z follow,tcp,ascii,0`).
    capture(&testdata("pcaps-smtp/zeek-smtp-rfc3030-bdat-multipart-chunked.pcap"), out.path(), &[]);
    let smtp: Vec<Smtp> = records(out.path(), RecordType::Smtp);
    assert_eq!(smtp.len(), 1);
    let t = &smtp[0];
    assert_eq!((t.mail_from.as_str(), t.rcpt_to.as_slice()), ("zeek@localhost", &["root@localhost".to_owned()][..]));
    assert_eq!((t.from.as_str(), t.subject.as_str()), ("Arne Welzel <arne.welzel@corelight.com>", "Zeek Logo"));
    assert_eq!((t.bdat_chunks, t.message_bytes), (27, 3460));
    assert_eq!(t.last_reply, "250 2.0.0 Ok: 3462 bytes queued as E4F471CA025");
    let files: Vec<File> = records(out.path(), RecordType::File);
    assert_eq!((files[0].filename.as_str(), files[0].mime_type.as_str()), ("zeek-logo.png", "image/png"));

    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-smtp/zeek-tls-smtp-starttls.pcap"), out.path(), &[]);
    let smtp: Vec<Smtp> = records(out.path(), RecordType::Smtp);
    assert_eq!(smtp.len(), 1);
    assert!(smtp[0].tls);
    assert_eq!(smtp[0].last_reply, "220 2.0.0 Ready to start TLS");
    let connections: Vec<Connection> = records(out.path(), RecordType::Connection);
    assert!(connections.iter().any(|c| c.application_protocol == "SMTP"));

    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-smtp/zeek-smtp-attachment-msg.pcap"), out.path(), &[]);
    let mail: Vec<Mail> = records(out.path(), RecordType::Mail);
    let got: Vec<(&str, &str, &str)> =
        mail.iter().map(|m| (m.from.as_str(), m.subject.as_str(), m.parent_mail_id.as_str())).collect();
    assert_eq!(
        got,
        [("sender@example.com", "subject", ""), ("<attachment@example.com>", "", mail[0].mail_id.as_str())]
    );
}

/// TLS after an accepted STARTTLS is parsed as TLS on its own port would
/// be. tshark 4.0 on zeek-tls-smtp-starttls.pcap (`-Y
/// "tls.handshake.type==1 || tls.handshake.type==2" -T fields -e
/// tcp.srcport -e tls.handshake.extensions_server_name -e
/// tls.handshake.ja3 -e tls.handshake.ja3s -e tls.handshake.ciphersuite`,
/// and the SHA-1 of each `tls.handshake.certificate`): ClientHello from
/// 54170 without SNI, JA3 13020a4ccb11b2d3c9c0e6c285c3c415; ServerHello
/// JA3S ccc514751b175866924439bdbb5bba34, cipher 0xc02f; three
/// certificates.
#[test]
fn tls_after_starttls() {
    use netcap_records::{TlsCertificate, TlsClientHello, TlsServerHello};
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-smtp/zeek-tls-smtp-starttls.pcap"), out.path(), &[]);
    let smtp: Vec<Smtp> = records(out.path(), RecordType::Smtp);
    assert!(smtp.iter().any(|t| t.tls), "the STARTTLS transaction");
    let hellos: Vec<TlsClientHello> = records(out.path(), RecordType::Tlsclienthello);
    let got: Vec<(u32, &str, &str)> =
        hellos.iter().map(|h| (h.src_port, h.sni.as_str(), h.ja3_hash.as_str())).collect();
    assert_eq!(got, [(54170, "", "13020a4ccb11b2d3c9c0e6c285c3c415")]);
    let servers: Vec<TlsServerHello> = records(out.path(), RecordType::Tlsserverhello);
    let got: Vec<(&str, u32)> = servers.iter().map(|s| (s.ja3s_hash.as_str(), s.cipher_suite)).collect();
    assert_eq!(got, [("ccc514751b175866924439bdbb5bba34", 0xc02f)]);
    let certs: Vec<TlsCertificate> = records(out.path(), RecordType::Tlscertificate);
    let sha1: Vec<&str> = certs.iter().map(|c| c.sha1.as_str()).collect();
    assert_eq!(
        sha1,
        [
            "45156ae749634094f9ab091ef5a7336df37b28fc",
            "d83c1a7f4d0446bb2081b81a1670f8183451ca24",
            "7359755c6df9a0abc3060bce369564c8ec4542a3"
        ]
    );
    let connections: Vec<Connection> = records(out.path(), RecordType::Connection);
    let c = connections.iter().find(|c| c.src_port == 54170).unwrap();
    assert_eq!((c.application_protocol.as_str(), c.tls_cipher), ("SMTP", 0xc02f));
}
