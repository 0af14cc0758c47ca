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
