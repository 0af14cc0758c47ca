//! Kerberos records over UDP (per datagram) and TCP (reassembled) against
//! tshark 4.0.
//!
//! Expected values: `scripts/tshark-kerberos-expected
//! testdata/pcaps-kerberos/*.pcap`: every message tshark decodes, counted
//! by (transport, message type, first client name component, realm, error
//! code; -1 for none). A record's client name is the first "/"-separated
//! component of its `client`.

use crate::util::*;
use netcap_records::{Kerberos, RecordType};
use std::collections::BTreeMap;

type Row = (usize, &'static str, &'static str, &'static str, &'static str, i32);

const TSHARK: &[(&str, &[Row])] = &[
    ("arkime-krb5-tcp.pcap", &[(1, "tcp", "AS-REQ", "xxxxxxxxxxx$", "xxxxxxxxxxxxxx.xxxxxx.xxx.COM", -1)]),
    ("arkime-krb5-udp.pcap", &[(1, "udp", "AS-REQ", "xxxxxxxx$", "xx.xxx.xxxxx.NET", -1)]),
    (
        "sv-evasion.1.flow.2.segments.pcap",
        &[(1, "tcp", "AS-REQ", "testuser", "DEMO.LOCAL", -1), (1, "tcp", "TGS-REQ", "testuser", "DEMO.LOCAL", -1)],
    ),
    (
        "sv-kerberoast.pcap",
        &[(1, "tcp", "TGS-REP", "spotless", "OFFENSE.LOCAL", -1), (1, "tcp", "TGS-REQ", "", "OFFENSE.LOCAL", -1)],
    ),
    (
        "sv-krb5-frag.pcap",
        &[
            (1, "tcp", "AS-REP", "user01", "dom.test.lo.com", -1),
            (2, "tcp", "AS-REQ", "user01", "dom.test.lo.com", -1),
            (1, "tcp", "KRB-ERROR", "", "dom.test.lo.com", 25),
            (1, "tcp", "TGS-REP", "user01", "dom.test.lo.com", -1),
            (1, "tcp", "TGS-REQ", "", "dom.test.lo.com", -1),
        ],
    ),
    (
        "zeek-krb-auth.pcap",
        &[(1, "udp", "TGS-REP", "vladg", "VLADG.NET", -1), (1, "udp", "TGS-REQ", "", "VLADG.NET", -1)],
    ),
    (
        "zeek-krb-kinit.pcap",
        &[
            (1, "tcp", "AS-REP", "WELLKNOWN", "VLADG.NET", -1),
            (1, "tcp", "AS-REP", "test_pkinit", "VLADG.NET", -1),
            (1, "tcp", "AS-REQ", "WELLKNOWN", "VLADG.NET", -1),
            (1, "tcp", "AS-REQ", "enterprise_principal@AD.VLADG.NET", "VLADG.NET", -1),
            (1, "tcp", "AS-REQ", "test_pkinit", "VLADG.NET", -1),
            (1, "tcp", "KRB-ERROR", "enterprise_principal@AD.VLADG.NET", "VLADG.NET", 6),
            (1, "udp", "AS-REP", "WELLKNOWN", "VLADG.NET", -1),
            (2, "udp", "AS-REP", "expired_password_client_principal", "VLADG.NET", -1),
            (1, "udp", "AS-REP", "requires_preauth_client_principal", "VLADG.NET", -1),
            (44, "udp", "AS-REP", "valid_client_principal", "VLADG.NET", -1),
            (1, "udp", "AS-REP", "valid_service_principal", "VLADG.NET", -1),
            (2, "udp", "AS-REQ", "WELLKNOWN", "VLADG.NET", -1),
            (16, "udp", "AS-REQ", "enterprise_principal@AD.VLADG.NET", "VLADG.NET", -1),
            (2, "udp", "AS-REQ", "expired_client_principal", "VLADG.NET", -1),
            (4, "udp", "AS-REQ", "expired_password_client_principal", "VLADG.NET", -1),
            (2, "udp", "AS-REQ", "invalid_client_principal", "VLADG.NET", -1),
            (8, "udp", "AS-REQ", "lockout_policy_client_principal", "VLADG.NET", -1),
            (2, "udp", "AS-REQ", "nokey_client_principal", "VLADG.NET", -1),
            (4, "udp", "AS-REQ", "requires_preauth_client_principal", "VLADG.NET", -1),
            (3, "udp", "AS-REQ", "test_pkinit", "VLADG.NET", -1),
            (46, "udp", "AS-REQ", "valid_client_principal", "VLADG.NET", -1),
            (1, "udp", "AS-REQ", "valid_service_principal", "VLADG.NET", -1),
            (1, "udp", "KRB-ERROR", "WELLKNOWN", "VLADG.NET", 25),
            (16, "udp", "KRB-ERROR", "enterprise_principal@AD.VLADG.NET", "VLADG.NET", 6),
            (2, "udp", "KRB-ERROR", "expired_client_principal", "VLADG.NET", 1),
            (2, "udp", "KRB-ERROR", "expired_password_client_principal", "VLADG.NET", 23),
            (2, "udp", "KRB-ERROR", "invalid_client_principal", "VLADG.NET", 6),
            (2, "udp", "KRB-ERROR", "lockout_policy_client_principal", "VLADG.NET", 18),
            (3, "udp", "KRB-ERROR", "lockout_policy_client_principal", "VLADG.NET", 25),
            (3, "udp", "KRB-ERROR", "lockout_policy_client_principal", "VLADG.NET", 31),
            (2, "udp", "KRB-ERROR", "nokey_client_principal", "VLADG.NET", 14),
            (2, "udp", "KRB-ERROR", "requires_preauth_client_principal", "VLADG.NET", 25),
            (1, "udp", "KRB-ERROR", "requires_preauth_client_principal", "VLADG.NET", 31),
            (3, "udp", "KRB-ERROR", "test_pkinit", "VLADG.NET", 25),
            (1, "udp", "KRB-ERROR", "valid_client_principal", "VLADG.NET", 13),
            (2, "udp", "KRB-ERROR", "valid_client_principal", "VLADG.NET", 7),
            (1, "udp", "TGS-REQ", "", "VLADG.NET", -1),
        ],
    ),
];

fn captured(name: &str) -> Vec<Kerberos> {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata(&format!("pcaps-kerberos/{name}")), out.path(), &[]);
    records(out.path(), RecordType::Kerberos)
}

#[test]
fn every_message_tshark_decodes() {
    let mut checked = 0;
    for (name, rows) in TSHARK {
        let mut want = BTreeMap::new();
        for &(n, transport, msg_type, cname, realm, error) in rows.iter() {
            *want
                .entry((transport.to_owned(), msg_type.to_owned(), cname.to_owned(), realm.to_owned(), error))
                .or_insert(0) += n;
            checked += n;
        }
        let mut got = BTreeMap::new();
        for k in captured(name) {
            let cname = k.client.split('/').next().unwrap_or("").to_owned();
            let key = (k.transport.clone(), k.msg_type.clone(), cname, k.realm.clone(), k.error_code.unwrap_or(-1));
            *got.entry(key).or_insert(0) += 1;
        }
        assert_eq!(got, want, "{name}");
    }
    assert_eq!(checked, 202);
}

/// Field by field: sv-krb5-frag's AS-REP (2296 bytes over several
/// segments; tshark: ticket etype 18 aes256-cts-hmac-sha1-96, sname
/// krbtgt/dom.test.lo.com) and zeek-krb-auth's TGS exchange over UDP
/// (kerberos.SNameString krbtgt,VLADG.NET; the request's kdc_options
/// 60000000: forwardable and forwarded, not renewable; its ENCTYPE list
/// 18,17,16,23).
#[test]
fn replies_and_requests_field_by_field() {
    let frag = captured("sv-krb5-frag.pcap");
    let rep = frag.iter().find(|k| k.msg_type == "AS-REP").unwrap();
    assert_eq!(
        (rep.client.as_str(), rep.service.as_str(), rep.cipher.as_str(), rep.success, rep.request_type.as_str()),
        ("user01/dom.test.lo.com", "krbtgt/dom.test.lo.com", "aes256-cts-hmac-sha1-96", Some(true), "AS")
    );
    assert_eq!((rep.src_port, rep.dst_port), (88, 55286));
    let error = frag.iter().find(|k| k.msg_type == "KRB-ERROR").unwrap();
    assert_eq!(
        (error.error_code, error.error_msg.as_str(), error.success),
        (Some(25), "KDC_ERR_PREAUTH_REQUIRED", Some(false))
    );
    let auth = captured("zeek-krb-auth.pcap");
    assert_eq!(auth.len(), 2);
    let (req, rep) = (&auth[0], &auth[1]);
    assert_eq!(
        (req.msg_type.as_str(), req.service.as_str(), req.transport.as_str()),
        ("TGS-REQ", "krbtgt/VLADG.NET", "udp")
    );
    assert!(req.forwardable && !req.renewable);
    assert_eq!(
        req.request_ciphers,
        ["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "des3-cbc-sha1-kd", "rc4-hmac"]
    );
    assert_eq!(
        (rep.client.as_str(), rep.cipher.as_str(), rep.frame),
        ("vladg/VLADG.NET", "aes256-cts-hmac-sha1-96", 2)
    );
    assert_eq!(rep.community_id, req.community_id);
}
