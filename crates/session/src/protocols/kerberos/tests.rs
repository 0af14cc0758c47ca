use super::*;
use crate::protocols::{TestHarness, follow_raw as follow};

/// sv-krb5-frag.pcap's three Kerberos connections (tcp.stream 1, 2, 3:
/// client ports 55284, 55286, 55288), as `tshark -r sv-krb5-frag.pcap -q
/// -z follow,tcp,raw,N` prints them. tshark (`-T fields -e tcp.srcport -e
/// kerberos.msg_type -e kerberos.CNameString -e kerberos.realm -e
/// kerberos.SNameString -e kerberos.etype -e kerberos.error_code -e
/// kerberos.kdc_options`): 55284 AS-REQ user01, dom.test.lo.com,
/// krbtgt/dom.test.lo.com, options 50800000; KRB-ERROR 25. 55286 AS-REQ;
/// AS-REP user01, ticket etype 18. 55288 TGS-REQ for
/// HTTP/epgidvwman1088.epga.dom.lo.com (options 40810010), TGS-REP user01,
/// ticket etype 23.
const STREAMS: [&str; 3] = [
    include_str!("fixtures/sv-krb5-frag-55284.follow"),
    include_str!("fixtures/sv-krb5-frag-55286.follow"),
    include_str!("fixtures/sv-krb5-frag-55288.follow"),
];

fn run(text: &str, chunk: usize) -> (Vec<KerberosRecord>, Vec<u64>) {
    let mut h = TestHarness::default();
    let mut p = Kerberos::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (to_server, bytes) in follow(text) {
        let dir = if to_server { Direction::ToServer } else { Direction::ToClient };
        h.feed(&mut p, dir, &bytes, chunk, &mut pending[dir.index()]);
    }
    p.finish(&mut h.cx());
    (h.emit.decoded(RecordType::Kerberos), h.errors.errors.clone())
}

type Summary = (String, String, String, String, String, Option<bool>, Option<i32>, String);

fn summary(r: &KerberosRecord) -> Summary {
    (
        r.msg_type.clone(),
        r.request_type.clone(),
        r.client.clone(),
        r.service.clone(),
        r.realm.clone(),
        r.success,
        r.error_code,
        r.cipher.clone(),
    )
}

fn s(v: (&str, &str, &str, &str, &str, Option<bool>, Option<i32>, &str)) -> Summary {
    (v.0.into(), v.1.into(), v.2.into(), v.3.into(), v.4.into(), v.5, v.6, v.7.into())
}

#[test]
fn requests_replies_and_errors_split_over_segments() {
    let realm = "dom.test.lo.com";
    let (a, _) = run(STREAMS[0], usize::MAX);
    assert_eq!(
        a.iter().map(summary).collect::<Vec<_>>(),
        [
            s(("AS-REQ", "AS", "user01/dom.test.lo.com", "krbtgt/dom.test.lo.com", realm, None, None, "")),
            s(("KRB-ERROR", "", "", "krbtgt/dom.test.lo.com", realm, Some(false), Some(25), "")),
        ]
    );
    assert_eq!(a[1].error_msg, "KDC_ERR_PREAUTH_REQUIRED");
    assert!(a[0].forwardable && a[0].renewable);
    // kerberos.till: Jun 28, 2018 17:13:30 UTC.
    assert_eq!(a[0].till_ns, 1_530_206_010_000_000_000);
    assert_eq!(a[0].transport, "tcp");
    assert_eq!((a[0].src_port, a[1].src_port), (40000, 80));
    let (b, _) = run(STREAMS[1], usize::MAX);
    assert_eq!(
        b.iter().map(summary).collect::<Vec<_>>(),
        [
            s(("AS-REQ", "AS", "user01/dom.test.lo.com", "krbtgt/dom.test.lo.com", realm, None, None, "")),
            s((
                "AS-REP",
                "AS",
                "user01/dom.test.lo.com",
                "krbtgt/dom.test.lo.com",
                realm,
                Some(true),
                None,
                "aes256-cts-hmac-sha1-96"
            )),
        ]
    );
    assert_eq!(b[0].request_ciphers, ["rc4-hmac"]);
    let (c, errors) = run(STREAMS[2], usize::MAX);
    assert_eq!(
        c.iter().map(summary).collect::<Vec<_>>(),
        [
            s(("TGS-REQ", "TGS", "", "HTTP/epgidvwman1088.epga.dom.lo.com", realm, None, None, "")),
            s((
                "TGS-REP",
                "TGS",
                "user01/dom.test.lo.com",
                "HTTP/epgidvwman1088.epga.dom.lo.com",
                realm,
                Some(true),
                None,
                "rc4-hmac"
            )),
        ]
    );
    assert_eq!(c[0].padata_types, [1]);
    assert!(errors.iter().all(|&e| e == 0));
    for stream in STREAMS {
        let whole = run(stream, usize::MAX);
        for chunk in [1, 2, 3, 5, 7, 100, 1000] {
            assert_eq!(run(stream, chunk), whole, "{chunk}-byte pieces");
        }
    }
}

#[test]
fn probe_needs_a_consistent_length_and_a_tag_of_its_direction() {
    let stream = follow(STREAMS[0]);
    let request = &stream[0].1;
    let error = &stream[1].1;
    assert_eq!(probe(Direction::ToServer, request), Probe::Yes);
    assert_eq!(probe(Direction::ToServer, &request[..5]), Probe::NeedMore);
    assert_eq!(probe(Direction::ToClient, request), Probe::No);
    assert_eq!(probe(Direction::ToClient, error), Probe::Yes);
    let mut wrong = request.clone();
    wrong[3] ^= 1;
    assert_eq!(probe(Direction::ToServer, &wrong), Probe::No);
    assert_eq!(probe(Direction::ToServer, b"GET / HTTP/1.1\r\n"), Probe::No);
}

#[test]
fn malformed_oversized_and_truncated_input() {
    let mut h = TestHarness::default();
    let mut p = Kerberos::default();
    // The reserved bit.
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, &[0x80, 0, 0, 1, 0x6a]), Parsed::Done);
    // An oversized message is skipped as it comes, then the next one read.
    let mut p = Kerberos::default();
    let big = (MAX_MESSAGE + 10) as u32;
    let mut data = big.to_be_bytes().to_vec();
    data.extend(std::iter::repeat_n(0u8, 1000));
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, &data), Parsed::Continue { consumed: 1004, needed: 4 });
    let rest = vec![0u8; MAX_MESSAGE + 10 - 1000];
    let stream = follow(STREAMS[0]);
    let mut tail = rest.clone();
    tail.extend_from_slice(&stream[0].1);
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, &tail), Parsed::Continue { consumed: tail.len(), needed: 4 });
    assert_eq!(h.emit.decoded::<KerberosRecord>(RecordType::Kerberos).len(), 1);
    // Not Kerberos, and a message that does not parse.
    let mut p = Kerberos::default();
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, &[0, 0, 0, 2, 0x30, 0]), Parsed::Done);
    let mut p = Kerberos::default();
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, &[0, 0, 0, 2, 0x6a, 0]), Parsed::Done);
    // Every truncation of a message waits for the rest.
    for cut in 0..stream[0].1.len() {
        let mut p = Kerberos::default();
        assert!(matches!(
            p.parse(&mut h.cx(), Direction::ToServer, &stream[0].1[..cut]),
            Parsed::Continue { consumed: 0, .. }
        ));
    }
    for seed in 0..=255u8 {
        for text in STREAMS {
            let mut data = vec![seed];
            for (_, bytes) in follow(text) {
                data.extend_from_slice(&bytes);
            }
            fuzz_entry(&data);
        }
        fuzz_entry(&[seed, 0, 0, 0, 5, 0x6a, 3, 0x30, 1, seed]);
    }
}
