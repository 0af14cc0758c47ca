//! `netcap dump` over files made by `netcap capture`.

use crate::util::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

fn captured() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-tcp-fast-open.pcap"), out.path(), &[]);
    out
}

fn dump(args: &[&str]) -> (String, String, Option<i32>) {
    let output = netcap().arg("dump").args(args).output().unwrap();
    (String::from_utf8_lossy(&output.stdout).into_owned(), stderr(&output), output.status.code())
}

#[test]
fn csv_json_and_text_show_the_same_record() {
    let out = captured();
    let tcp = out.path().join("TCP.ncap.zst");
    let tcp = tcp.to_str().unwrap();
    let (csv, _, code) = dump(&["-read", tcp, "-csv", "-select", "frame,src_ip,src_port,flags,mss,option_kinds"]);
    assert_eq!(code, Some(0));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "frame,src_ip,src_port,flags,mss,option_kinds");
    assert_eq!(lines[1], "1,10.99.99.1,55533,2,1460,2|4|8|1|3|254");
    assert_eq!(lines.len(), 17);

    let (json, _, _) = dump(&["-read", tcp, "-json"]);
    let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(first["frame"], 1);
    assert_eq!(first["seq"], 1_620_482_629u64);
    assert_eq!(first["timestamp_ns"], 1_402_321_033_739_117_000i64);
    assert_eq!(first["src_ip"], "10.99.99.1");

    let (text, _, _) = dump(&["--read", tcp]);
    let line = text.lines().next().unwrap();
    assert!(line.starts_with("TCP timestamp=2014-06-09T13:37:13.739117000Z frame=1 src_ip=10.99.99.1"), "{line}");

    let (tsv, _, _) = dump(&["-read", tcp, "-tsv", "-select", "frame,dst_port"]);
    assert_eq!(tsv.lines().nth(1), Some("1\t80"));
    let (table, _, _) = dump(&["-read", tcp, "-table", "-select", "frame,dst_port"]);
    assert!(table.lines().next().unwrap().contains("frame"), "{table}");
}

#[test]
fn fields_and_header_describe_the_file() {
    let out = captured();
    let tcp = out.path().join("TCP.ncap.zst");
    let (fields, _, code) = dump(&["-read", tcp.to_str().unwrap(), "-fields"]);
    assert_eq!(code, Some(0));
    assert!(fields.lines().any(|l| l.starts_with("src_port")), "{fields}");
    let (header, _, _) = dump(&["-read", tcp.to_str().unwrap(), "-header"]);
    assert!(header.contains("record_type: TCP"), "{header}");
    assert!(header.contains("message_type: netcap.TCP"), "{header}");
    let (_, err, code) = dump(&["-read", tcp.to_str().unwrap(), "-select", "nope"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("nope") && err.contains("src_port"), "{err}");
}

#[test]
fn stdin_and_pipes_that_close_early() {
    let out = captured();
    let tcp = out.path().join("TCP.ncap.zst");
    let output =
        netcap().args(["dump", "-read", "-", "-csv"]).stdin(std::fs::File::open(&tcp).unwrap()).output().unwrap();
    assert!(output.status.success());
    assert_eq!(String::from_utf8(output.stdout).unwrap().lines().count(), 17);

    // `netcap dump ... | head -1`: the reader goes away; dump exits quietly.
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("many.pcap");
    repeated_pcap(&testdata("pcaps/arkime-v6.pcap"), 200, &pcap);
    capture(&pcap, dir.path(), &["-include", "IPv6"]);
    let mut child = netcap()
        .args(["dump", "-read", dir.path().join("IPv6.ncap.zst").to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    assert!(first.starts_with("IPv6 "), "{first}");
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{:?}", output.status);
    assert_eq!(stderr(&output), "", "no noise on a closed pipe");
}

#[test]
fn damaged_record_file_prints_what_it_can_then_warns() {
    let out = captured();
    let tcp = out.path().join("TCP.ncap.zst");
    let bytes = std::fs::read(&tcp).unwrap();
    let cut = out.path().join("cut.ncap.zst");
    // Dropping the end marker: all records are there, the end is not.
    std::fs::write(&cut, &bytes[..bytes.len() - 24]).unwrap();
    let (csv, err, code) = dump(&["-read", cut.to_str().unwrap(), "-csv"]);
    assert_eq!(code, Some(3));
    assert_eq!(csv.lines().count(), 17, "every record before the damage is printed");
    assert!(
        err.contains("cut.ncap.zst: truncated: the file ends after record 16 without netcap's end marker"),
        "{err}"
    );
    // Cut inside the data: fewer records, then the truncation message.
    std::fs::write(&cut, &bytes[..bytes.len() - 60]).unwrap();
    let (_, err, code) = dump(&["-read", cut.to_str().unwrap(), "-csv"]);
    assert_eq!(code, Some(3));
    assert!(err.contains("cut.ncap.zst: truncated"), "{err}");
    // Not a record file at all.
    let (_, err, code) = dump(&["-read", "Cargo.toml"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Cargo.toml: not a netcap record file"), "{err}");
}

/// Codes print by name in every format, `-numeric` keeps numbers, and
/// `-select` reaches nested and repeated fields. Expected values from
/// `tshark -r tcpdump-dns_udp.pcap -T fields -e dns.qry.name -e dns.qry.type
/// -e dns.flags.rcode -e dns.a -e dns.aaaa` and, for the TLS server hellos of
/// pcapplusplus-many-protocols.pcap, `-e tls.handshake.ciphersuite -e
/// tls.handshake.version` (0xc02f and 0x0303 in frame 60).
#[test]
fn codes_by_name_numeric_and_nested_selections() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/tcpdump-dns_udp.pcap"), out.path(), &[]);
    let dns = out.path().join("DNS.ncap.zst");
    let dns = dns.to_str().unwrap();

    // tshark's dns.a and dns.aaaa hold the addresses of every section: the
    // answers' two, then the additional section's four.
    let (csv, err, code) =
        dump(&["-read", dns, "-csv", "-select", "questions.name,questions.type,rcode,answers.ip,additionals.ip"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "questions.name,questions.type,rcode,answers.ip,additionals.ip",
            "www.tcpdump.org,A,NOERROR,,",
            "www.tcpdump.org,A,NOERROR,192.139.46.66|198.199.88.104,\
209.87.249.18|2607:f0b0:f::babe:f00d|97.107.133.15|2600:3c03::f03c:91ff:fe96:e8ef",
        ]
    );
    let (numeric, _, _) = dump(&["-read", dns, "-csv", "-numeric", "-select", "questions.type,rcode"]);
    assert_eq!(numeric.lines().collect::<Vec<_>>(), ["questions.type,rcode", "1,0", "1,0"]);

    let (json, _, _) = dump(&["-read", dns, "-json"]);
    let answer: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert_eq!(answer["rcode"], "NOERROR");
    assert_eq!(answer["opcode"], "QUERY");
    assert_eq!(answer["questions"][0]["type"], "A");
    assert_eq!(answer["questions"][0]["class"], "IN");
    assert_eq!(answer["additionals"][1]["type"], "AAAA");
    let (json, _, _) = dump(&["-read", dns, "-json", "-numeric"]);
    let answer: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert_eq!(answer["rcode"], 0);
    assert_eq!(answer["additionals"][1]["type"], 28);
    let (json, _, _) = dump(&["-read", dns, "-json", "-select", "questions.name,answers.ip"]);
    let answer: serde_json::Value = serde_json::from_str(json.lines().nth(1).unwrap()).unwrap();
    assert_eq!(answer["questions.name"], serde_json::json!(["www.tcpdump.org"]));
    assert_eq!(answer["answers.ip"][0], "192.139.46.66");
    let (text, _, _) = dump(&["-read", dns, "-select", "questions.name,questions.type"]);
    assert_eq!(text.lines().next(), Some("DNS questions.name=www.tcpdump.org questions.type=A"));

    let (_, err, code) = dump(&["-read", dns, "-select", "questions.bogus"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("questions.name"), "the error lists the nested fields: {err}");

    capture(&testdata("pcaps/pcapplusplus-many-protocols.pcap"), out.path(), &[]);
    let hello = out.path().join("TLSServerHello.ncap.zst");
    let (csv, _, _) = dump(&["-read", hello.to_str().unwrap(), "-csv", "-select", "frame,cipher_suite,version"]);
    assert_eq!(csv.lines().nth(1), Some("60,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLSv12"));
    let conn = out.path().join("Connection.ncap.zst");
    let (json, _, _) = dump(&["-read", conn.to_str().unwrap(), "-json", "-select", "termination_reason,ip_protocol"]);
    assert_eq!(json.lines().next(), Some(r#"{"termination_reason":"IDLE_TIMEOUT","ip_protocol":"ICMP"}"#));
}

#[test]
fn tables_show_default_columns_that_fit() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/tcpdump-dns_udp.pcap"), out.path(), &[]);
    let dns = out.path().join("DNS.ncap.zst");
    let table = |extra: &[&str], columns: &str| {
        let output = netcap()
            .args(["dump", "-read", dns.to_str().unwrap(), "-table"])
            .args(extra)
            .env("COLUMNS", columns)
            .output();
        String::from_utf8(output.unwrap().stdout).unwrap()
    };
    let wide = table(&[], "400");
    let header: Vec<&str> = wide.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        [
            "timestamp",
            "src_ip",
            "dst_ip",
            "id",
            "response",
            "rcode",
            "questions.name",
            "questions.type",
            "answers.name",
            "answers.ip",
            "answers.ttl"
        ],
        "answers.data is empty in every row: left out"
    );
    let narrow = table(&[], "80");
    assert!(narrow.lines().all(|l| l.chars().count() <= 80), "{narrow}");
    assert!(narrow.lines().next().unwrap().starts_with("timestamp"));
    let all = table(&["-all"], "80");
    assert!(all.lines().next().unwrap().contains("authoritative"), "-all shows every field");
}
