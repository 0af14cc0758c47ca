//! The tshark oracle for application records and Community IDs.
//!
//! Runs `netcap capture` on every capture in testdata/pcaps/ and compares,
//! frame by frame, the application records with tshark's dissection
//! committed in testdata/expected-app/ (scripts/tshark-app-expected; CI has
//! no tshark). For each protocol, the frames compared are those whose
//! `frame.protocols` names it; every field in [`CHECKS`] must agree on at
//! least [`MIN_AGREEMENT`] percent of them, over all captures together.
//! Community IDs are compared on every frame tshark gives one for.
//! JA4 has no tshark field (Wireshark 4.0): it is checked against the
//! corpus' tls-fingerprints.tsv in `ja4_matches_reference_values`.

use crate::util;
use netcap_records::{RecordReader, RecordType};
use prost_reflect::{DynamicMessage, ReflectMessage, Value};
use std::collections::BTreeMap;
use std::path::Path;

const MIN_AGREEMENT: f64 = 99.0;

/// How tshark's text and netcap's value are made comparable.
#[derive(Clone, Copy, Debug)]
enum Norm {
    /// Integers, decimal or 0x-hex.
    Int,
    /// Text as is.
    Text,
    /// Hex bytes, colons removed.
    Hex,
    /// One text value that may contain commas (no splitting).
    Whole,
    /// Text, the first of tshark's occurrences only.
    First,
    /// Integers, leaving out tshark's occurrences for EDNS OPT records
    /// (netcap decodes OPT into the edns_* fields, not the RR lists); the
    /// field's occurrences line up with `dns.resp.type`'s.
    NoOptInt,
    /// Text, with OPT occurrences left out like [`Norm::NoOptInt`].
    NoOptText,
}

/// One field check: record type, the tshark protocol token in
/// frame.protocols that selects frames, tshark field, netcap field path
/// ("questions.name" reads a field of each repeated message).
struct Check {
    record: RecordType,
    proto: &'static str,
    tshark: &'static str,
    netcap: &'static str,
    norm: Norm,
    /// Compared only where tshark gives the field (it leaves some out for
    /// message kinds that lack them, like NTP control messages' stratum).
    optional: bool,
    /// Only tshark's first occurrence (QUIC datagrams coalesce packets;
    /// netcap records the first, the Initial).
    first: bool,
}

const fn c(record: RecordType, proto: &'static str, tshark: &'static str, netcap: &'static str, norm: Norm) -> Check {
    Check { record, proto, tshark, netcap, norm, optional: false, first: false }
}

const fn opt(record: RecordType, proto: &'static str, tshark: &'static str, netcap: &'static str, norm: Norm) -> Check {
    Check { record, proto, tshark, netcap, norm, optional: true, first: false }
}

const fn c1(record: RecordType, proto: &'static str, tshark: &'static str, netcap: &'static str, norm: Norm) -> Check {
    Check { record, proto, tshark, netcap, norm, optional: false, first: true }
}

use Norm::*;
use RecordType as T;

const CHECKS: &[Check] = &[
    c(T::Dns, "dns", "dns.id", "id", Int),
    c(T::Dns, "dns", "dns.flags", "flags", Int),
    c(T::Dns, "dns", "dns.count.queries", "question_count", Int),
    c(T::Dns, "dns", "dns.count.answers", "answer_count", Int),
    c(T::Dns, "dns", "dns.qry.name", "questions.name", Text),
    c(T::Dns, "dns", "dns.qry.type", "questions.type", Int),
    c(T::Dns, "dns", "dns.count.auth_rr", "authority_count", Int),
    c(T::Dns, "dns", "dns.count.add_rr", "additional_count", Int),
    c(T::Dns, "dns", "dns.resp.name", "_rr_names", NoOptText),
    c(T::Dns, "dns", "dns.resp.type", "_rr_types", NoOptInt),
    c(T::Dns, "dns", "dns.a", "_a", Text),
    c(T::Dns, "dns", "dns.aaaa", "_aaaa", Text),
    c(T::Mdns, "mdns", "dns.id", "id", Int),
    c(T::Mdns, "mdns", "dns.flags", "flags", Int),
    c(T::Mdns, "mdns", "dns.count.queries", "question_count", Int),
    c(T::Mdns, "mdns", "dns.qry.name", "questions.name", Text),
    c(T::Llmnr, "llmnr", "dns.id", "id", Int),
    c(T::Llmnr, "llmnr", "dns.flags", "flags", Int),
    c(T::Llmnr, "llmnr", "dns.qry.name", "questions.name", Text),
    c(T::Netbiosnameservice, "nbns", "nbns.id", "id", Int),
    c(T::Netbiosnameservice, "nbns", "nbns.flags", "flags", Int),
    c(T::Dhcpv4, "dhcp", "dhcp.type", "op", Int),
    c(T::Dhcpv4, "dhcp", "dhcp.id", "xid", Int),
    c(T::Dhcpv4, "dhcp", "dhcp.hw.mac_addr", "client_mac", First),
    c(T::Dhcpv4, "dhcp", "dhcp.ip.your", "your_ip", Text),
    c(T::Dhcpv4, "dhcp", "dhcp.option.dhcp", "_message_type", Int),
    c(T::Dhcpv4, "dhcp", "dhcp.option.request_list_item", "parameter_request_list", Int),
    c(T::Dhcpv4, "dhcp", "dhcp.option.hostname", "hostname", Text),
    c1(T::Dhcpv6, "dhcpv6", "dhcpv6.msgtype", "_first_msgtype", Int),
    opt(T::Ntp, "ntp", "ntp.flags.li", "leap_indicator", Int),
    c(T::Ntp, "ntp", "ntp.flags.vn", "version", Int),
    c(T::Ntp, "ntp", "ntp.flags.mode", "mode", Int),
    opt(T::Ntp, "ntp", "ntp.stratum", "stratum", Int),
    c(T::Snmp, "snmp", "snmp.community", "community", Text),
    c(T::Sip, "sip", "sip.Method", "method", Text),
    c(T::Sip, "sip", "sip.r-uri", "request_uri", Text),
    c(T::Sip, "sip", "sip.Status-Code", "_status", Int),
    c(T::Sip, "sip", "sip.Call-ID", "call_id", Text),
    c(T::Sip, "sip", "sip.CSeq", "cseq", Text),
    c(T::Modbus, "mbtcp", "mbtcp.trans_id", "transaction_id", Int),
    c(T::Modbus, "mbtcp", "mbtcp.unit_id", "unit_id", Int),
    c(T::Modbus, "mbtcp", "mbtcp.len", "length", Int),
    c(T::Modbus, "mbtcp", "modbus.func_code", "function_code", Int),
    c(T::Modbus, "mbtcp", "modbus.exception_code", "_exception_code", Int),
    c(T::Tlsclienthello, "tls", "tls.handshake.extensions_server_name", "sni", Text),
    c(T::Tlsclienthello, "tls", "tls.handshake.extensions_alpn_str", "alpn", Text),
    c(T::Tlsclienthello, "tls", "tls.handshake.ciphersuite", "cipher_suites", Int),
    c(T::Tlsclienthello, "tls", "tls.handshake.ja3_full", "ja3", Whole),
    c(T::Tlsclienthello, "tls", "tls.handshake.ja3", "ja3_hash", Text),
    // TLS over TCP comes from reassembled streams: a retransmitted
    // ServerHello (tshark dissects each copy when desegmentation is off, as
    // here) is one record, so ServerHellos are compared per stream instead
    // (the TLS stream oracle). ClientHellos split over segments are not
    // selected here (tshark sees no hello in either segment).
    c(T::Dtlsclienthello, "dtls", "dtls.handshake.extensions_server_name", "sni", Text),
    c(T::Dtlsclienthello, "dtls", "dtls.handshake.ciphersuite", "cipher_suites", Int),
    c1(T::Quicinitial, "quic", "quic.version", "version", Int),
    c1(T::Quicinitial, "quic", "quic.dcid", "dcid", Hex),
    c1(T::Quicinitial, "quic", "quic.scid", "scid", Hex),
    c(T::Tlscertificate, "tls", "x509af.serialNumber", "serial", Hex),
    c(T::Dtlsserverhello, "dtls", "dtls.handshake.ciphersuite", "cipher_suite", Int),
    c(T::Ssdp, "ssdp", "http.request.method", "method", Text),
    c(T::Ssdp, "ssdp", "http.response.code", "_status", Int),
    c(T::Quicinitial, "quic", "tls.handshake.extensions_server_name", "sni", Text),
    c(T::Syslog, "syslog", "syslog.facility", "facility", Int),
    c(T::Syslog, "syslog", "syslog.level", "severity", Int),
];

/// Whether a frame takes part in a check: tshark dissected the protocol and
/// (for hello records) the message type the record is about.
fn selected(check: &Check, row: &BTreeMap<&str, &str>) -> bool {
    let protocols = row.get("frame.protocols").copied().unwrap_or("");
    let tokens: Vec<&str> = protocols.split(':').collect();
    let Some(at) = tokens.iter().position(|p| *p == check.proto) else {
        return false;
    };
    // netcap decodes the outer stack only: not the packet quoted in an ICMP
    // error, nor what a tunnel carries (a second IP header).
    let ip_headers = tokens[..at].iter().filter(|t| matches!(**t, "ip" | "ipv6")).count();
    if tokens[..at].iter().any(|t| matches!(*t, "icmp" | "icmpv6")) || ip_headers > 1 {
        return false;
    }
    let hs_types =
        || row.get("tls.handshake.type").copied().unwrap_or("").split(',').map(str::to_owned).collect::<Vec<_>>();
    match check.record {
        // TLS inside QUIC has its own record type.
        T::Tlsclienthello => !protocols.contains("quic") && hs_types().iter().any(|t| t == "1"),
        // Hellos fragmented over several datagrams are reassembled by tshark,
        // not by a per-packet decoder.
        T::Dtlsclienthello => {
            row.get("dtls.handshake.type").is_some_and(|t| t.split(',').next() == Some("1"))
                && row.get("dtls.handshake.fragment_length").map(|v| v.split(',').next())
                    == row.get("dtls.handshake.length").map(|v| v.split(',').next())
        }
        // Certificates of DTLS are fragmented and reassembled by tshark;
        // tshark's x509 fields also come from the OCSP response of a
        // CertificateStatus message (type 22).
        T::Tlscertificate => {
            !protocols.contains("dtls") && !protocols.contains("quic") && !hs_types().iter().any(|t| t == "22")
        }
        T::Dtlsserverhello => {
            row.get("dtls.handshake.type").is_some_and(|t| t.split(',').next() == Some("2"))
                && row.get("dtls.handshake.fragment_length").map(|v| v.split(',').next())
                    == row.get("dtls.handshake.length").map(|v| v.split(',').next())
        }
        // The ClientHello's fields where tshark dissected one: tshark follows
        // the CRYPTO stream of the connection, so it leaves out a ClientHello
        // retransmitted after a Retry (netcap records it with its packet).
        T::Quicinitial if check.tshark.starts_with("tls.") => hs_types().iter().any(|t| t == "1"),
        // Initial packets only (long packet type 0; v2 numbers it 1).
        T::Quicinitial => {
            let version = row.get("quic.version").copied().unwrap_or("");
            let initial = if version == "0x6b3343cf" { "1" } else { "0" };
            row.get("quic.long.packet_type").is_some_and(|t| t.split(',').next() == Some(initial))
        }
        // Mode 6 and 7 messages have no stratum in their header; tshark's
        // field then comes from the peer list in the data.
        T::Ntp if check.tshark == "ntp.stratum" => !matches!(row.get("ntp.flags.mode").copied(), Some("6" | "7")),
        // mDNS and LLMNR frames also list "dns"; NBNS is its own token.
        // DNS over QUIC or TLS is encrypted or stream-borne: not per packet.
        T::Dns => !protocols.contains("mdns") && !protocols.contains("llmnr") && !protocols.contains("quic"),
        _ => true,
    }
}

/// Whether tshark gave any of the checked fields of a record type (a
/// truncated packet's protocol is listed in frame.protocols with no fields).
fn tshark_decoded(record: RecordType, row: &BTreeMap<&str, &str>) -> bool {
    CHECKS.iter().filter(|c| c.record == record).any(|c| row.get(c.tshark).is_some_and(|v| !v.is_empty()))
}

fn norm(n: Norm, s: &str) -> String {
    let s = s.trim();
    match n {
        Int | NoOptInt => {
            let v = if let Some(h) = s.strip_prefix("0x") { i128::from_str_radix(h, 16).ok() } else { s.parse().ok() };
            v.map_or_else(|| s.to_owned(), |v| v.to_string())
        }
        Text | NoOptText => s.to_owned(),
        Hex => s.replace(':', "").to_lowercase(),
        Whole | First => s.to_owned(),
    }
}

/// A value as text; `bytes` fields named like addresses (docs/dump.md) as
/// addresses (MACs colon-separated), other bytes as hex.
fn scalar(name: &str, v: &Value) -> String {
    match v {
        Value::Bytes(b) => {
            let ip = name == "ip" || name.ends_with("_ip") || name.ends_with("_ips");
            let mac = name == "mac" || name.ends_with("_mac");
            if let (true, Ok(a)) = (ip, <[u8; 4]>::try_from(&b[..])) {
                std::net::Ipv4Addr::from(a).to_string()
            } else if let (true, Ok(a)) = (ip, <[u8; 16]>::try_from(&b[..])) {
                std::net::Ipv6Addr::from(a).to_string()
            } else if mac {
                b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
            } else {
                b.iter().map(|x| format!("{x:02x}")).collect()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::U32(x) => x.to_string(),
        Value::U64(x) => x.to_string(),
        Value::String(s) => s.clone(),
        Value::EnumNumber(x) => x.to_string(),
        other => format!("{other:?}"),
    }
}

/// A field of the resource records of every section, in order (of records
/// of type `only`, or of all if 0).
fn rr_field(msg: &DynamicMessage, field: &str, only: u32) -> Vec<String> {
    let mut out = Vec::new();
    for section in ["answers", "authorities", "additionals"] {
        let Some(Value::List(items)) = msg.get_field_by_name(section).map(|v| v.into_owned()) else { continue };
        for rr in items {
            let Some(m) = rr.as_message() else { continue };
            let t = m.get_field_by_name("type").and_then(|v| v.as_u32()).unwrap_or(0);
            if (only == 0 || t == only)
                && let Some(v) = m.get_field_by_name(field)
            {
                out.push(scalar(field, &v));
            }
        }
    }
    out
}

/// The values of `path` in one record, as text.
fn values(msg: &DynamicMessage, path: &str) -> Vec<String> {
    let get = |name: &str| msg.get_field_by_name(name).map(|v| v.into_owned());
    match path {
        // Every A record's address, all sections, in order (tshark's dns.a).
        "_a" => ["answers", "authorities", "additionals"]
            .iter()
            .filter_map(|s| get(s))
            .flat_map(|v| match v {
                Value::List(items) => items,
                _ => Vec::new(),
            })
            .filter_map(|rr| {
                let m = rr.as_message()?.clone();
                let t = m.get_field_by_name("type")?.as_u32()?;
                let ip = m.get_field_by_name("ip")?;
                (t == 1).then(|| scalar("ip", &ip))
            })
            .collect(),
        "_aaaa" => rr_field(msg, "ip", 28),
        "_rr_names" => rr_field(msg, "name", 0),
        "_rr_types" => rr_field(msg, "type", 0),
        "_message_type" => values(msg, "message_type").into_iter().filter(|v| v != "0").collect(),
        "_status" => values(msg, "status_code").into_iter().filter(|v| v != "0").collect(),
        "_exception_code" => {
            if values(msg, "exception") == ["true"] {
                values(msg, "exception_code")
            } else {
                Vec::new()
            }
        }
        "_first_msgtype" => values(msg, "message_type"),
        _ => {
            if let Some((list, field)) = path.split_once('.') {
                return match get(list) {
                    Some(Value::List(items)) => items
                        .iter()
                        .filter_map(|i| i.as_message()?.get_field_by_name(field).map(|v| scalar(field, &v)))
                        .collect(),
                    _ => Vec::new(),
                };
            }
            match get(path) {
                Some(Value::List(items)) => items.iter().map(|v| scalar(path, v)).collect(),
                Some(Value::String(s)) if s.is_empty() => Vec::new(),
                Some(Value::Bytes(b)) if b.is_empty() => Vec::new(),
                Some(v) => vec![scalar(path, &v)],
                None => Vec::new(),
            }
        }
    }
}

fn read_all(dir: &Path, t: RecordType) -> BTreeMap<u64, Vec<DynamicMessage>> {
    let mut by_frame: BTreeMap<u64, Vec<DynamicMessage>> = BTreeMap::new();
    let path = dir.join(t.file_name());
    if !path.exists() {
        return by_frame;
    }
    let desc = t.descriptor().expect("record type has a message").clone();
    let mut reader = RecordReader::open(&path).expect("record file opens");
    while let Some(bytes) = reader.next_raw().expect("record file reads") {
        let msg = DynamicMessage::decode(desc.clone(), bytes).expect("record decodes");
        let frame = msg.get_field_by_name("frame").and_then(|v| v.as_u64()).unwrap_or(0);
        by_frame.entry(frame).or_default().push(msg);
    }
    by_frame
}

#[derive(Default, Clone, Copy)]
struct Tally {
    compared: u64,
    agreed: u64,
}

#[test]
fn app_records_agree_with_tshark() {
    let pcaps = util::testdata("pcaps");
    let mut files: Vec<_> = std::fs::read_dir(&pcaps).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let inputs = files
        .into_iter()
        .map(|pcap| {
            let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
            let tsv = std::fs::read_to_string(util::testdata(&format!("expected-app/{name}.tsv")))
                .unwrap_or_else(|_| panic!("no tshark expectations for {name}: run scripts/tshark-app-expected"));
            (pcap, tsv)
        })
        .collect();
    compare_all(inputs);
}

/// The same comparison live over a capture corpus (tshark needed):
/// `NETCAP_APP_CORPUS=../shared/pcaps/protocols cargo test --test integration app_corpus -- --ignored --nocapture`.
#[test]
#[ignore = "needs tshark and NETCAP_APP_CORPUS (a directory of captures)"]
fn app_corpus() {
    let Some(dir) = std::env::var_os("NETCAP_APP_CORPUS") else { return };
    let mut files = Vec::new();
    let mut stack = vec![std::path::PathBuf::from(dir)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() { stack.push(p) } else { files.push(p) }
        }
    }
    files.sort();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/tshark-app-expected");
    let inputs = files
        .into_iter()
        .filter_map(|pcap| {
            let out = std::process::Command::new(&script).arg("--stdout").arg(&pcap).output().ok()?;
            Some((pcap, String::from_utf8_lossy(&out.stdout).into_owned()))
        })
        .collect();
    compare_all(inputs);
}

fn compare_all(inputs: Vec<(std::path::PathBuf, String)>) {
    let mut tallies: BTreeMap<(String, &'static str), Tally> = BTreeMap::new();
    let mut cid = Tally::default();
    let mut failures: Vec<String> = Vec::new();
    let mut shown: BTreeMap<String, usize> = BTreeMap::new();
    let mut show = |key: String| {
        let n = shown.entry(key).or_default();
        *n += 1;
        *n <= 5
    };
    for (pcap, tsv) in inputs {
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        // tshark runs with IP reassembly off (scripts/tshark-app-expected).
        let (pcap_arg, out_arg) = (pcap.to_str().unwrap(), dir.path().to_str().unwrap());
        let out = util::run(&["capture", "-read", pcap_arg, "-out", out_arg, "-quiet", "-reassemble=false"]);
        if !out.status.success() && out.status.code() != Some(3) {
            panic!("capture of {name} failed: {}", util::stderr(&out));
        }
        let mut lines = tsv.lines().filter(|l| !l.starts_with('#'));
        let header: Vec<&str> = lines.next().unwrap_or_default().split('\t').collect();
        let mut records: BTreeMap<RecordType, BTreeMap<u64, Vec<DynamicMessage>>> = BTreeMap::new();
        let ip4 = read_all(dir.path(), T::Ipv4);
        let ip6 = read_all(dir.path(), T::Ipv6);
        for line in lines {
            let row: BTreeMap<&str, &str> = header.iter().copied().zip(line.split('\t')).collect();
            let frame: u64 = row.get("frame.number").and_then(|f| f.parse().ok()).unwrap_or(0);
            // Frames whose network layer netcap does not decode (PPPoE and
            // other link layers of the L2/L3 work) are not the application
            // decoders' to answer for.
            if !ip4.contains_key(&frame) && !ip6.contains_key(&frame) {
                continue;
            }
            let protocols = row.get("frame.protocols").copied().unwrap_or("");
            let ip_headers = protocols.split(':').filter(|t| matches!(*t, "ip" | "ipv6")).count();
            // Community ID of the outer IP header.
            // tshark hashes the innermost flow of a tunnel; netcap's IP record
            // is the outer header.
            if let Some(expected) = row.get("communityid").filter(|v| !v.is_empty() && ip_headers == 1) {
                let ours = ip4
                    .get(&frame)
                    .or_else(|| ip6.get(&frame))
                    .and_then(|m| m.first())
                    .map(|m| values(m, "community_id"));
                cid.compared += 1;
                let expected = expected.split(',').next().unwrap_or_default();
                if ours.as_deref() == Some(&[expected.to_owned()][..]) {
                    cid.agreed += 1;
                } else if show(format!("{name} cid")) {
                    failures.push(format!("{name} frame {frame}: community_id netcap {ours:?} tshark {expected}"));
                }
            }
            for check in CHECKS {
                if !selected(check, &row) {
                    continue;
                }
                let recs = records.entry(check.record).or_insert_with(|| read_all(dir.path(), check.record));
                let ours: Vec<String> = recs
                    .get(&frame)
                    .map(|ms| ms.iter().flat_map(|m| values(m, check.netcap)).map(|v| norm(check.norm, &v)).collect())
                    .unwrap_or_default();
                let theirs: Vec<String> = row
                    .get(check.tshark)
                    .filter(|v| !v.is_empty())
                    .map(|v| match check.norm {
                        Whole => vec![v.to_string()],
                        NoOptInt | NoOptText => {
                            let types = row.get("dns.resp.type").copied().unwrap_or("");
                            v.split(',')
                                .zip(types.split(','))
                                .filter(|(_, t)| *t != "41")
                                .map(|(x, _)| norm(check.norm, x))
                                .collect()
                        }
                        First => v.split(',').take(1).map(str::to_owned).collect(),
                        n => v.split(',').take(if check.first { 1 } else { usize::MAX }).map(|x| norm(n, x)).collect(),
                    })
                    .unwrap_or_default();
                if theirs.is_empty() && (check.optional || !tshark_decoded(check.record, &row)) {
                    continue;
                }
                let has_record = recs.contains_key(&frame);
                let t = tallies.entry((check.record.name().to_owned(), check.tshark)).or_default();
                t.compared += 1;
                if has_record && ours == theirs {
                    t.agreed += 1;
                } else if show(format!("{name} {}", check.tshark)) {
                    failures.push(format!(
                        "{name} frame {frame}: {} {} netcap {:?} tshark {:?}{}",
                        check.record.name(),
                        check.tshark,
                        ours,
                        theirs,
                        if has_record { "" } else { " (no record)" }
                    ));
                }
            }
        }
    }
    let mut report = String::new();
    let mut bad = Vec::new();
    let pct = |t: Tally| if t.compared == 0 { 100.0 } else { 100.0 * t.agreed as f64 / t.compared as f64 };
    for ((record, field), t) in &tallies {
        report.push_str(&format!("{record:20} {field:40} {:5}/{:5} {:6.2}%\n", t.agreed, t.compared, pct(*t)));
        if pct(*t) < MIN_AGREEMENT {
            bad.push(format!("{record} {field}"));
        }
    }
    report.push_str(&format!(
        "{:20} {:40} {:5}/{:5} {:6.2}%\n",
        "CommunityID",
        "communityid",
        cid.agreed,
        cid.compared,
        pct(cid)
    ));
    if pct(cid) < MIN_AGREEMENT {
        bad.push("community_id".into());
    }
    eprintln!("{report}");
    if std::env::var_os("NETCAP_APP_ORACLE_VERBOSE").is_some() || !bad.is_empty() {
        eprintln!("{}", failures.join("\n"));
    }
    assert!(bad.is_empty(), "below {MIN_AGREEMENT}% agreement with tshark: {bad:?}\n{report}");
}

/// JA4 (no tshark field in Wireshark 4.0) against the reference values the
/// corpus records for these captures (arkime and recomputed, in
/// ../shared/pcaps/expected/tls-fingerprints/tls-fingerprints.tsv, copied
/// here as testdata/expected-app/ja4.tsv).
#[test]
fn ja4_matches_reference_values() {
    let table = std::fs::read_to_string(util::testdata("expected-app/ja4.tsv")).unwrap();
    let mut checked = 0;
    for line in table.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (capture, frame, transport, ja4, ja4_r) = (cols[0], cols[1], cols[2], cols[3], cols[4]);
        let pcap = util::testdata(&format!("pcaps/{capture}"));
        let dir = tempfile::tempdir().unwrap();
        util::capture(&pcap, dir.path(), &[]);
        let t = match transport {
            "tcp" => T::Tlsclienthello,
            "dtls" => T::Dtlsclienthello,
            _ => T::Quicinitial,
        };
        let recs = read_all(dir.path(), t);
        let frame: u64 = frame.parse().unwrap();
        let record = recs.get(&frame).and_then(|m| m.first());
        let got = record.map(|m| values(m, "ja4"));
        assert_eq!(got, Some(vec![ja4.to_owned()]), "{capture} frame {frame}");
        if ja4_r != "-" {
            assert_eq!(record.map(|m| values(m, "ja4_r")), Some(vec![ja4_r.to_owned()]), "{capture} frame {frame}");
        }
        checked += 1;
    }
    assert!(checked > 0);
}

#[test]
fn app_oracle_normalisers() {
    assert_eq!(norm(Int, "0x00000001"), "1");
    assert_eq!(norm(Hex, "83:94:C8"), "8394c8");
    let _ = DynamicMessage::new(netcap_records::Dns::default().descriptor());
}

/// Connection and Flow records carry the Community ID of their 5-tuple: the
/// same as the per-packet records of their first packet (which agree with
/// tshark's communityid, above).
#[test]
fn connections_carry_the_community_id_of_their_packets() {
    let mut compared = 0;
    for name in
        ["cidspec-tcp.pcap", "cidspec-udp.pcap", "cidspec-icmp.pcap", "cidspec-ipv6.pcap", "zeek-icmp6-ping.pcap"]
    {
        let dir = tempfile::tempdir().unwrap();
        util::capture(&util::testdata(&format!("pcaps/{name}")), dir.path(), &[]);
        let ip4 = read_all(dir.path(), T::Ipv4);
        let ip6 = read_all(dir.path(), T::Ipv6);
        let flows = read_all(dir.path(), T::Flow);
        for conns in read_all(dir.path(), T::Connection).values() {
            for c in conns {
                let frame = c.get_field_by_name("frame").and_then(|v| v.as_u64()).unwrap();
                let packet = ip4.get(&frame).or_else(|| ip6.get(&frame)).and_then(|m| m.first()).unwrap();
                let ours = values(c, "community_id");
                assert_eq!(ours, values(packet, "community_id"), "{name} connection at frame {frame}");
                assert!(ours[0].starts_with("1:"), "{name}: {ours:?}");
                for f in flows.get(&frame).into_iter().flatten() {
                    assert_eq!(values(f, "community_id"), ours, "{name} flow at frame {frame}");
                }
                compared += 1;
            }
        }
    }
    assert!(compared >= 5, "{compared}");
}

/// HTTP transactions of real captures, field by field (the values tshark
/// shows).
#[test]
fn http_records_hold_their_values() {
    use netcap_records as r;
    let dir = tempfile::tempdir().unwrap();
    util::capture(&util::testdata("pcaps/zeek-http-vlan-0.pcap"), dir.path(), &[]);
    let http: Vec<r::Http> = util::records(dir.path(), T::Http);
    assert_eq!(http.len(), 1, "one transaction: {http:?}");
    let t = &http[0];
    assert_eq!((t.frame, t.trans_depth, t.src_port, t.dst_port), (4, 1, 59856, 80));
    assert_eq!(
        (t.method.as_str(), t.request_uri.as_str(), t.version.as_str()),
        ("GET", "/download/CHANGES.bro-aux.txt", "HTTP/1.1")
    );
    assert_eq!((t.host.as_str(), t.user_agent.as_str()), ("bro.org", "Wget/1.14 (darwin12.2.0)"));
    assert_eq!((t.status_code, t.status_msg.as_str(), t.response_version.as_str()), (200, "OK", "HTTP/1.1"));
    assert_eq!(
        (t.server.as_str(), t.response_content_type.as_str(), t.response_body_len),
        ("Apache/2.4.3 (Fedora)", "text/plain; charset=UTF-8", 4705)
    );
    assert_eq!((t.request_first_frame, t.response_first_frame), (4, 6));
    assert!(!t.missing_request && !t.missing_response);
    assert!(t.community_id.starts_with("1:"));
    assert_eq!(t.resp_fuids.len(), 1);
    let files: Vec<r::File> = util::records(dir.path(), T::File);
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0].file_id.as_str(), files[0].seen_bytes, files[0].complete),
        (t.resp_fuids[0].as_str(), 4705, true)
    );

    // IPv6 over BSD loopback, port 8000.
    let dir = tempfile::tempdir().unwrap();
    util::capture(&util::testdata("pcaps/sv-null-http-ipv6.pcap"), dir.path(), &[]);
    let http: Vec<r::Http> = util::records(dir.path(), T::Http);
    assert_eq!(http.len(), 1, "{http:?}");
    assert_eq!(
        (http[0].frame, http[0].host.as_str(), http[0].user_agent.as_str(), http[0].dst_port),
        (5, "[::1]:8000", "curl/7.54.0", 8000)
    );
    assert_eq!(http[0].src_ip, std::net::Ipv6Addr::LOCALHOST.octets());
    assert_eq!((http[0].server.as_str(), http[0].response_body_len), ("SimpleHTTP/0.6 Python/3.9.1", 563));
}
