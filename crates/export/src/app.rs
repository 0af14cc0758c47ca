//! Per-application counters: DNS query types and response codes, TLS hello
//! versions and server names, HTTP methods and status classes, counted from
//! the DNS, TLSClientHello, TLSServerHello and HTTP records.
//!
//! Only the few fields each counter needs are read from the encoded record,
//! by field number, skipping the rest by wire type (like
//! [`crate::metrics::ConnectionFacts`]); records the capture pipeline wrote
//! are in field-number order, so the scan stops after the last field needed.
//! Every label takes its values from a fixed table below, except server
//! names, which go through a [`crate::topn::BoundedCounterVec`].

use crate::metrics::{BadRecord, Field, scan};
use netcap_records::RecordType;
use prost::encoding::decode_varint;

/// DNS RR type names of the `qtype` label; other types are "other".
pub const DNS_TYPES: &[(u32, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (5, "CNAME"),
    (6, "SOA"),
    (12, "PTR"),
    (13, "HINFO"),
    (15, "MX"),
    (16, "TXT"),
    (28, "AAAA"),
    (33, "SRV"),
    (35, "NAPTR"),
    (43, "DS"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (50, "NSEC3"),
    (52, "TLSA"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (251, "IXFR"),
    (252, "AXFR"),
    (255, "ANY"),
    (257, "CAA"),
];

/// DNS RCODE names of the `rcode` label (RFC 1035, 2136, 6891, 7873), with
/// the EDNS upper bits; other codes are "other".
pub const DNS_RCODES: &[(u32, &str)] = &[
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (6, "YXDOMAIN"),
    (7, "YXRRSET"),
    (8, "NXRRSET"),
    (9, "NOTAUTH"),
    (10, "NOTZONE"),
    (16, "BADVERS"),
    (23, "BADCOOKIE"),
];

/// TLS protocol versions of the `version` label; anything else (TLS 1.3
/// drafts, DTLS, garbage) is "other".
pub const TLS_VERSIONS: &[(u32, &str)] =
    &[(0x0300, "ssl3"), (0x0301, "tls1.0"), (0x0302, "tls1.1"), (0x0303, "tls1.2"), (0x0304, "tls1.3")];

/// HTTP methods of the `method` label (RFC 9110 and PATCH); other methods
/// (WebDAV, ...) are "other".
pub const HTTP_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"];

/// HTTP status classes of the `class` label; codes outside 100-599 are "other".
pub const HTTP_CLASSES: &[&str] = &["1xx", "2xx", "3xx", "4xx", "5xx"];

pub const OTHER: &str = "other";

/// Index of `value` in a table, or the table's length for "other".
fn index_of(table: &[(u32, &str)], value: u32) -> usize {
    table.iter().position(|&(v, _)| v == value).unwrap_or(table.len())
}

/// Label of index `i` of a table ("other" past its end).
pub fn label(table: &[(u32, &'static str)], i: usize) -> &'static str {
    table.get(i).map_or(OTHER, |&(_, name)| name)
}

pub fn dns_type_index(qtype: u32) -> usize {
    index_of(DNS_TYPES, qtype)
}

pub fn dns_rcode_index(rcode: u32) -> usize {
    index_of(DNS_RCODES, rcode)
}

pub fn tls_version_index(version: u32) -> usize {
    index_of(TLS_VERSIONS, version)
}

pub fn http_method_index(method: &[u8]) -> usize {
    HTTP_METHODS.iter().position(|m| m.as_bytes() == method).unwrap_or(HTTP_METHODS.len())
}

pub fn http_method_label(i: usize) -> &'static str {
    HTTP_METHODS.get(i).copied().unwrap_or(OTHER)
}

pub fn http_class_index(status: u32) -> usize {
    match status {
        100..=599 => (status / 100 - 1) as usize,
        _ => HTTP_CLASSES.len(),
    }
}

pub fn http_class_label(i: usize) -> &'static str {
    HTTP_CLASSES.get(i).copied().unwrap_or(OTHER)
}

/// TLS GREASE values (RFC 8701): 0x?a?a.
fn is_grease(v: u32) -> bool {
    v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff
}

/// The fields of one application record the counters need. Tags are those
/// of proto/application.proto (a test checks them against the schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppFacts<'a> {
    /// A DNS message: a query's questions (the encoded `questions` entries
    /// are read by [`question_types`]) or a response's RCODE.
    Dns { response: bool, rcode: u32, questions: Questions<'a> },
    /// A ClientHello: the highest version offered, and the server name.
    ClientHello { version: u32, sni: &'a [u8] },
    /// A ServerHello: the version chosen.
    ServerHello { version: u32 },
    /// An HTTP transaction: the request's method (None for a response
    /// without a request) and the final status (None for a request without
    /// a response).
    Http { method: Option<&'a [u8]>, status: Option<u32> },
}

/// The encoded questions of a DNS record: the record bytes, scanned again
/// for field 26 only when the message is a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Questions<'a> {
    record: &'a [u8],
    ordered: bool,
}

impl Questions<'_> {
    /// Calls `each` with the QTYPE of every question.
    pub fn for_each_type(&self, mut each: impl FnMut(u32)) -> Result<(), BadRecord> {
        scan(self.record, self.ordered.then_some(dns::QUESTIONS), |tag, f| {
            if let (dns::QUESTIONS, Field::Bytes(q)) = (tag, f) {
                let mut qtype = 0u32;
                let _ = scan(q, None, |tag, f| {
                    if let (dns::QUESTION_TYPE, Field::Varint(v)) = (tag, f) {
                        qtype = v as u32;
                    }
                });
                each(qtype);
            }
        })
    }
}

/// Field numbers (proto/application.proto).
mod dns {
    pub const RESPONSE: u64 = 13;
    pub const RCODE: u64 = 21;
    pub const QUESTIONS: u64 = 26;
    pub const QUESTION_TYPE: u64 = 2;
    pub const EDNS_EXTENDED_RCODE: u64 = 32;
}
mod client_hello {
    pub const VERSION: u64 = 11;
    pub const SNI: u64 = 17;
    pub const SUPPORTED_VERSIONS: u64 = 22;
}
mod server_hello {
    pub const VERSION: u64 = 11;
    pub const SELECTED_VERSION: u64 = 17;
}
mod http {
    pub const METHOD: u64 = 11;
    pub const STATUS_CODE: u64 = 14;
    pub const MISSING_REQUEST: u64 = 45;
    pub const MISSING_RESPONSE: u64 = 46;
}

/// Whether a record type feeds the application counters.
pub fn is_app_record(t: RecordType) -> bool {
    matches!(t, RecordType::Dns | RecordType::Tlsclienthello | RecordType::Tlsserverhello | RecordType::Http)
}

impl<'a> AppFacts<'a> {
    /// Reads the facts of an encoded record of type `t` (None for types
    /// without application counters). `ordered`: the record was encoded by
    /// prost (fields in number order), so the scan may stop early.
    pub fn decode(t: RecordType, record: &'a [u8], ordered: bool) -> Result<Option<Self>, BadRecord> {
        let stop = |last: u64| ordered.then_some(last);
        Ok(Some(match t {
            RecordType::Dns => {
                let (mut response, mut rcode, mut extended) = (false, 0u32, 0u32);
                scan(record, stop(dns::EDNS_EXTENDED_RCODE), |tag, f| match (tag, f) {
                    (dns::RESPONSE, Field::Varint(v)) => response = v != 0,
                    (dns::RCODE, Field::Varint(v)) => rcode = v as u32,
                    (dns::EDNS_EXTENDED_RCODE, Field::Varint(v)) => extended = v as u32,
                    _ => {}
                })?;
                let rcode = (extended << 4) | (rcode & 0xf);
                AppFacts::Dns { response, rcode, questions: Questions { record, ordered } }
            }
            RecordType::Tlsclienthello => {
                let (mut legacy, mut highest, mut sni) = (0u32, 0u32, &[][..]);
                scan(record, stop(client_hello::SUPPORTED_VERSIONS), |tag, f| match (tag, f) {
                    (client_hello::VERSION, Field::Varint(v)) => legacy = v as u32,
                    (client_hello::SNI, Field::Bytes(b)) => sni = b,
                    // Packed (as prost writes it) or one value per field.
                    (client_hello::SUPPORTED_VERSIONS, Field::Bytes(mut packed)) => {
                        while let Ok(v) = decode_varint(&mut packed) {
                            highest = highest.max(tls_offer(v as u32));
                        }
                    }
                    (client_hello::SUPPORTED_VERSIONS, Field::Varint(v)) => highest = highest.max(tls_offer(v as u32)),
                    _ => {}
                })?;
                AppFacts::ClientHello { version: if highest != 0 { highest } else { legacy }, sni }
            }
            RecordType::Tlsserverhello => {
                let (mut legacy, mut selected) = (0u32, 0u32);
                scan(record, stop(server_hello::SELECTED_VERSION), |tag, f| match (tag, f) {
                    (server_hello::VERSION, Field::Varint(v)) => legacy = v as u32,
                    (server_hello::SELECTED_VERSION, Field::Varint(v)) => selected = v as u32,
                    _ => {}
                })?;
                AppFacts::ServerHello { version: if selected != 0 { selected } else { legacy } }
            }
            RecordType::Http => {
                let (mut method, mut status) = (&[][..], 0u32);
                let (mut no_request, mut no_response) = (false, false);
                scan(record, stop(http::MISSING_RESPONSE), |tag, f| match (tag, f) {
                    (http::METHOD, Field::Bytes(b)) => method = b,
                    (http::STATUS_CODE, Field::Varint(v)) => status = v as u32,
                    (http::MISSING_REQUEST, Field::Varint(v)) => no_request = v != 0,
                    (http::MISSING_RESPONSE, Field::Varint(v)) => no_response = v != 0,
                    _ => {}
                })?;
                AppFacts::Http { method: (!no_request).then_some(method), status: (!no_response).then_some(status) }
            }
            _ => return Ok(None),
        }))
    }
}

/// A supported_versions entry as an offer: GREASE values offer nothing.
fn tls_offer(v: u32) -> u32 {
    if is_grease(v) { 0 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records as r;
    use prost::Message;

    #[test]
    fn field_tags_match_the_schema() {
        let check = crate::assert_field_numbers;
        check(
            RecordType::Dns,
            &[
                ("response", dns::RESPONSE),
                ("rcode", dns::RCODE),
                ("questions", dns::QUESTIONS),
                ("edns_extended_rcode", dns::EDNS_EXTENDED_RCODE),
            ],
        );
        let question = RecordType::Dns.descriptor().unwrap().get_field_by_name("questions").unwrap();
        let question = question.kind();
        let question = question.as_message().unwrap();
        assert_eq!(question.get_field_by_name("type").map(|f| u64::from(f.number())), Some(dns::QUESTION_TYPE));
        check(
            RecordType::Tlsclienthello,
            &[
                ("version", client_hello::VERSION),
                ("sni", client_hello::SNI),
                ("supported_versions", client_hello::SUPPORTED_VERSIONS),
            ],
        );
        check(
            RecordType::Tlsserverhello,
            &[("version", server_hello::VERSION), ("selected_version", server_hello::SELECTED_VERSION)],
        );
        check(
            RecordType::Http,
            &[
                ("method", http::METHOD),
                ("status_code", http::STATUS_CODE),
                ("missing_request", http::MISSING_REQUEST),
                ("missing_response", http::MISSING_RESPONSE),
            ],
        );
        for t in RecordType::all().filter(|t| is_app_record(*t)) {
            assert!(AppFacts::decode(t, &[], false).unwrap().is_some());
        }
    }

    #[test]
    fn facts_of_full_records() {
        let dns = r::Dns {
            id: 7,
            response: true,
            rcode: 3,
            questions: vec![
                r::DnsQuestion { name: "a.example".into(), r#type: 28, class: 1, ..Default::default() },
                r::DnsQuestion { name: "b.example".into(), r#type: 65, class: 1, ..Default::default() },
            ],
            edns_extended_rcode: 1,
            edns_option_codes: vec![10],
            ..Default::default()
        };
        let bytes = dns.encode_to_vec();
        for ordered in [false, true] {
            let Some(AppFacts::Dns { response, rcode, questions }) =
                AppFacts::decode(RecordType::Dns, &bytes, ordered).unwrap()
            else {
                panic!()
            };
            assert_eq!((response, rcode), (true, 16 + 3));
            let mut types = Vec::new();
            questions.for_each_type(|t| types.push(t)).unwrap();
            assert_eq!(types, [28, 65]);
        }
        let hello = r::TlsClientHello {
            version: 0x0303,
            sni: "Example.COM".into(),
            supported_versions: vec![0x3a3a, 0x0304, 0x0303],
            ja3: "x".into(),
            ..Default::default()
        };
        let bytes = hello.encode_to_vec();
        let facts = AppFacts::decode(RecordType::Tlsclienthello, &bytes, true).unwrap();
        assert_eq!(facts, Some(AppFacts::ClientHello { version: 0x0304, sni: b"Example.COM" }));
        let old = r::TlsClientHello { version: 0x0301, supported_versions: vec![0xfafa], ..Default::default() };
        let bytes = old.encode_to_vec();
        let facts = AppFacts::decode(RecordType::Tlsclienthello, &bytes, false).unwrap();
        assert_eq!(facts, Some(AppFacts::ClientHello { version: 0x0301, sni: b"" }));
        let server = r::TlsServerHello { version: 0x0303, selected_version: 0x0304, ..Default::default() };
        let bytes = server.encode_to_vec();
        let facts = AppFacts::decode(RecordType::Tlsserverhello, &bytes, true).unwrap();
        assert_eq!(facts, Some(AppFacts::ServerHello { version: 0x0304 }));
        let get = r::Http {
            method: "GET".into(),
            host: "h".into(),
            status_code: 204,
            server: "s".into(),
            ..Default::default()
        };
        let bytes = get.encode_to_vec();
        let facts = AppFacts::decode(RecordType::Http, &bytes, true).unwrap();
        assert_eq!(facts, Some(AppFacts::Http { method: Some(b"GET"), status: Some(204) }));
        let unanswered = r::Http { method: "POST".into(), missing_response: true, ..Default::default() };
        let bytes = unanswered.encode_to_vec();
        let facts = AppFacts::decode(RecordType::Http, &bytes, false).unwrap();
        assert_eq!(facts, Some(AppFacts::Http { method: Some(b"POST"), status: None }));
        let orphan = r::Http { status_code: 200, missing_request: true, ..Default::default() };
        let bytes = orphan.encode_to_vec();
        let facts = AppFacts::decode(RecordType::Http, &bytes, true).unwrap();
        assert_eq!(facts, Some(AppFacts::Http { method: None, status: Some(200) }));
        assert_eq!(AppFacts::decode(RecordType::Udp, &[], false), Ok(None));
        // Cut anywhere: an error or the fields before the cut, never a panic.
        let bytes = hello.encode_to_vec();
        for cut in 0..bytes.len() {
            let _ = AppFacts::decode(RecordType::Tlsclienthello, &bytes[..cut], false);
        }
        assert_eq!(AppFacts::decode(RecordType::Http, &[0x0b], false), Err(BadRecord));
    }

    #[test]
    fn labels_come_from_fixed_sets() {
        assert_eq!(label(DNS_TYPES, dns_type_index(28)), "AAAA");
        assert_eq!(label(DNS_TYPES, dns_type_index(4242)), OTHER);
        assert_eq!(label(DNS_RCODES, dns_rcode_index(3)), "NXDOMAIN");
        assert_eq!(label(DNS_RCODES, dns_rcode_index(15)), OTHER);
        assert_eq!(label(TLS_VERSIONS, tls_version_index(0x0304)), "tls1.3");
        assert_eq!(label(TLS_VERSIONS, tls_version_index(0x7f17)), OTHER);
        assert_eq!(http_method_label(http_method_index(b"PATCH")), "PATCH");
        assert_eq!(http_method_label(http_method_index(b"PROPFIND")), OTHER);
        assert_eq!(http_class_label(http_class_index(404)), "4xx");
        assert_eq!(http_class_label(http_class_index(99)), OTHER);
        assert_eq!(http_class_label(http_class_index(600)), OTHER);
        assert!(is_grease(0x0a0a) && is_grease(0xfafa) && !is_grease(0x0a1a) && !is_grease(0x0304));
    }
}
