//! IMAP command records and IMAP credentials against tshark 4.0 on
//! testdata/pcaps-imap/arkime-imap.pcap: `tshark -Y imap.request_tag -T
//! fields -e tcp.srcport -e imap.request_tag -e imap.request.command`, and
//! `-z credentials` ("8  IMAP  \"neulingern\"").

use crate::util::*;
use netcap_records::{Credentials, Imap, RecordType};

const TSHARK: &[(u32, &str, &str)] = &[
    (4167, "a0000", "CAPABILITY"),
    (4167, "a0001", "LOGIN"),
    (4167, "a0002", "LIST"),
    (4167, "a0003", "SELECT"),
    (4167, "a0004", "FETCH"),
    (4167, "a0005", "NOOP"),
    (4167, "a0006", "NOOP"),
    (4167, "a0007", "FETCH"),
    (4167, "a0008", "NOOP"),
    (4167, "a0009", "NOOP"),
    (4167, "a0010", "NOOP"),
    (4167, "a0011", "NOOP"),
    (4167, "a0012", "NOOP"),
    (4167, "a0013", "NOOP"),
    (4167, "a0014", "NOOP"),
    (4167, "a0015", "NOOP"),
    (4167, "a0016", "NOOP"),
    (4167, "a0017", "NOOP"),
    (4167, "a0018", "NOOP"),
    (4167, "a0019", "STORE"),
    (4167, "a0020", "STORE"),
    (4167, "a0021", "EXPUNGE"),
    (4167, "a0022", "SELECT"),
    (4167, "a0023", "FETCH"),
    (4167, "a0024", "NOOP"),
    (4167, "a0025", "CLOSE"),
];

#[test]
fn every_command_tshark_decodes_with_its_completion() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-imap/arkime-imap.pcap"), out.path(), &[]);
    let imap: Vec<Imap> = records(out.path(), RecordType::Imap);
    let got: Vec<(u32, &str, &str)> = imap.iter().map(|r| (r.src_port, r.tag.as_str(), r.command.as_str())).collect();
    assert_eq!(got, TSHARK);
    // Every command was completed with OK (tshark: imap.response.status).
    assert!(imap.iter().all(|r| r.status == "OK"), "{imap:?}");
    let credentials: Vec<Credentials> = records(out.path(), RecordType::Credentials);
    assert_eq!(credentials.len(), 1);
    let c = &credentials[0];
    assert_eq!(
        (c.protocol.as_str(), c.user.as_str(), c.password.as_str(), c.success),
        ("IMAP", "neulingern", "XXXXXX", Some(true))
    );
    assert_eq!(c.frame, 8);
}
