//! Flags that do what they say: every refused value and combination exits
//! with its documented status (README's "Exit status": 2 for usage errors,
//! 1 for values that are not valid) and a message naming the flag.

use crate::util::{records, run, stderr, testdata};
use netcap_records::{RecordType, Tcp, Udp};

const PCAP: &str = "pcaps/pcapplusplus-many-protocols.pcap";

fn capture_args<'a>(pcap: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["capture", "-read", pcap, "-out", out, "-quiet"];
    args.extend_from_slice(extra);
    args
}

/// Runs `args` and checks the exit status and that stderr holds `message`.
fn refused(args: &[&str], code: i32, message: &str) {
    let output = run(args);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {err}");
    assert!(err.contains(message), "{args:?}: expected {message:?} in {err}");
    assert!(output.stdout.is_empty(), "{args:?} printed data");
}

#[test]
fn capture_values_out_of_range_are_refused_with_status_1() {
    let pcap = testdata(PCAP);
    let pcap = pcap.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out = out.to_str().unwrap();
    for (extra, message) in [
        (vec!["-workers", "20000"], "-workers must be between 1 and 1024, not 20000"),
        (vec!["-workers", "0"], "-workers must be between 1 and 1024, not 0"),
        (vec!["-workers", "many"], "invalid value 'many' for '--workers <N>'"),
        (vec!["-compression", "99"], "99 is not in -7..=19"),
        (vec!["-flow-max", "0"], "-flow-max must be at least 64"),
        (vec!["-include", ""], "-include names no record type"),
        (vec!["-include", "TCP,Bogus"], "unknown record type \"Bogus\""),
        (vec!["-bpf", "tcp prot 80"], "-bpf \"tcp prot 80\""),
    ] {
        refused(&capture_args(pcap, out, &extra), 1, message);
        assert!(!std::path::Path::new(out).exists(), "{extra:?} made output");
    }
}

#[test]
fn usage_errors_exit_2() {
    let pcap = testdata(PCAP);
    let pcap = pcap.to_str().unwrap();
    refused(&["capture", "-out", "x"], 2, "required arguments were not provided");
    refused(&["dump", "-read", pcap, "-csv", "-json"], 2, "choose one of -csv, -tsv, -json and -table");
    refused(&["query", "-read", pcap, "-csv", "-json"], 2, "choose one of -table, -csv and -json");
    refused(&["capture", "-read", pcap, "-bogus"], 2, "unexpected argument '--bogus'");
    refused(&["netcap-no-such-command"], 2, "unrecognized subcommand");
    // Help is not an error.
    let output = run(&["capture", "-help"]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn an_unknown_go_style_flag_is_named_in_full() {
    let file = testdata(PCAP);
    let output = run(&["dump", "-read", file.to_str().unwrap(), "-separator", ","]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("unexpected argument '--separator'"), "{err}");
    assert!(err.contains("'--sep'"), "the tip names the flag meant: {err}");
    assert!(!err.contains("'-s'"), "{err}");
}

#[test]
fn os_errors_are_printed_once_and_out_must_be_a_directory() {
    let pcap = testdata(PCAP);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run(&["capture", "-read", "/nonexistent/x.pcap", "-out", out.to_str().unwrap()]);
    let err = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    refused(
        &["capture", "-read", pcap.to_str().unwrap(), "-out", file.to_str().unwrap()],
        1,
        &format!("-out {}: is a file, not a directory", file.display()),
    );
}

#[test]
fn bpf_filters_a_capture_file() {
    // tshark -r pcapplusplus-many-protocols.pcap -Y 'tcp.port==80' | wc -l: 3252
    // of the file's 4709 packets.
    let pcap = testdata(PCAP);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output =
        run(&["capture", "-read", pcap.to_str().unwrap(), "-out", out.to_str().unwrap(), "-bpf", "tcp port 80"]);
    let err = stderr(&output);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("decoded 3252 packets"), "{err}");
    assert!(err.contains("-bpf \"tcp port 80\": 1457 packets left out"), "{err}");
    let tcp: Vec<Tcp> = records(&out, RecordType::Tcp);
    assert_eq!(tcp.len(), 3252);
    assert!(tcp.iter().all(|t| t.src_port == 80 || t.dst_port == 80));
    assert!(records::<Udp>(&out, RecordType::Udp).is_empty());
}

#[test]
fn summary_columns_fit_long_type_names() {
    let pcap = testdata(PCAP);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let output = run(&["capture", "-read", pcap.to_str().unwrap(), "-out", out.to_str().unwrap()]);
    let err = stderr(&output);
    let rows: Vec<&str> = err.lines().filter(|l| l.ends_with(".ncap.zst")).collect();
    assert!(rows.iter().any(|r| r.contains("TLSClientHello")), "{err}");
    let column = |row: &str| row.find(" records").unwrap();
    let first = column(rows[0]);
    assert!(rows.iter().all(|r| column(r) == first), "misaligned:\n{err}");
}
