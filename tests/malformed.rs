//! Bad input never panics, never hangs, and never loses what came before it.
//! testdata/malformed holds ../shared/pcaps/malformed (MANIFEST.tsv there),
//! but for its 16 nDPI captures (LGPL-3.0, not kept in the repository).

use crate::util::*;
use netcap_records::{RecordReader, RecordType, Tcp};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs capture with a deadline; returns (exit code, stderr).
fn capture_with_deadline(pcap: &std::path::Path, out: &std::path::Path, deadline: Duration) -> (Option<i32>, String) {
    let mut child = netcap()
        .args(["capture", "-read", pcap.to_str().unwrap(), "-out", out.to_str().unwrap(), "-errors", "-quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            return (status.code(), err);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            panic!("{} hung for more than {deadline:?}", pcap.display());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_malformed_capture_ends_cleanly_with_a_documented_status() {
    let dir = testdata("malformed");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "pcapng"))
        .collect();
    files.sort();
    // ../shared/pcaps/malformed's 150 but its 16 nDPI captures (LGPL-3.0:
    // not kept in the repository).
    assert!(files.len() >= 134, "testdata/malformed has {} captures", files.len());
    let mut damaged = Vec::new();
    for pcap in &files {
        let out = tempfile::tempdir().unwrap();
        let (code, err) = capture_with_deadline(pcap, out.path(), Duration::from_secs(10));
        assert!(!err.contains("panicked"), "{}: {err}", pcap.display());
        match code {
            Some(0) => {}
            // Damaged input: a warning that names the file and the offset.
            Some(3) => {
                assert!(err.contains(&*pcap.to_string_lossy()) && err.contains("at byte"), "{err}");
                damaged.push(pcap.file_name().unwrap().to_string_lossy().into_owned());
            }
            // Not a capture at all.
            Some(1) => assert!(err.contains("not a pcap or pcapng file"), "{}: {err}", pcap.display()),
            other => panic!("{}: exit status {other:?}: {err}", pcap.display()),
        }
        // Every record file left behind reads to its end.
        for entry in std::fs::read_dir(out.path()).unwrap() {
            let path = entry.unwrap().path();
            let mut reader = RecordReader::open(&path).unwrap();
            while reader.next_raw().unwrap_or_else(|e| panic!("{e}")).is_some() {}
        }
    }
    damaged.sort();
    assert_eq!(
        damaged,
        vec![
            "derived-truncated-mid-block_zeek-pcapng-multi-interface.pcapng",
            "derived-truncated-mid-packet-data_zeek-smtp.pcap",
            "derived-truncated-mid-record-header_zeek-smtp.pcap",
            "libpcap-shb-option-too-long.pcapng",
            "sv-bug-6875-fuzz-corrupt-record.pcap",
            "sv-tls_DER-incomplete-header-corrupt-record.pcap",
        ]
    );
}

/// A file cut mid-record: the 20 complete packets before the cut are all
/// decoded and written, and the warning says where the cut is.
#[test]
fn truncated_capture_keeps_every_complete_packet() {
    for (name, complete, offset) in [
        ("derived-truncated-mid-packet-data_zeek-smtp.pcap", 20, 2112),
        ("derived-truncated-mid-record-header_zeek-smtp.pcap", 20, 2112),
        ("derived-truncated-mid-block_zeek-pcapng-multi-interface.pcapng", 3, 828),
    ] {
        let out = tempfile::tempdir().unwrap();
        let (code, err) =
            capture_with_deadline(&testdata(&format!("malformed/{name}")), out.path(), Duration::from_secs(10));
        assert_eq!(code, Some(3), "{err}");
        assert!(
            err.contains(&format!("truncated at byte {offset}: the input ends inside the record of frame {}; the {complete} packets before it were decoded", complete + 1)),
            "{name}: {err}"
        );
        let ethernet: Vec<netcap_records::Ethernet> = records(out.path(), RecordType::Ethernet);
        let frames: Vec<u64> = ethernet.iter().map(|r| r.frame).collect();
        assert_eq!(frames, (1..=complete).collect::<Vec<u64>>(), "{name}");
    }
    // The smtp capture's 20th packet is a TCP segment of the SMTP session.
    let out = tempfile::tempdir().unwrap();
    capture_with_deadline(
        &testdata("malformed/derived-truncated-mid-packet-data_zeek-smtp.pcap"),
        out.path(),
        Duration::from_secs(10),
    );
    let tcp: Vec<Tcp> = records(out.path(), RecordType::Tcp);
    assert_eq!(tcp.last().map(|t| t.frame), Some(20));
}

/// A capture killed with SIGKILL leaves record files readable up to the last
/// complete frame, ending with a clear truncation message.
#[test]
fn sigkill_leaves_readable_files() {
    let dir = tempfile::tempdir().unwrap();
    let pcap = dir.path().join("big.pcap");
    // ~1.3 M packets: long enough to be killed mid-run even in a release build.
    repeated_pcap(&testdata("pcaps/arkime-v6.pcap"), 8_000, &pcap);
    let out = dir.path().join("out");
    let mut child = netcap()
        .args(["capture", "-read", pcap.to_str().unwrap(), "-out", out.to_str().unwrap(), "-quiet", "-workers", "1"])
        .spawn()
        .unwrap();
    // Kill once some frames have reached the TCP file.
    let tcp_file = out.join("TCP.ncap.zst");
    let started = Instant::now();
    while std::fs::metadata(&tcp_file).map(|m| m.len()).unwrap_or(0) < 200_000 {
        assert!(started.elapsed() < Duration::from_secs(60), "no output after 60 s");
        if child.try_wait().unwrap().is_some() {
            panic!("capture finished before it could be killed");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let mut reader = RecordReader::open(&tcp_file).unwrap();
    let mut count = 0u64;
    let mut last_frame = 0;
    let error = loop {
        match reader.next::<Tcp>() {
            Ok(Some(tcp)) => {
                assert!(tcp.frame > last_frame, "records in order");
                last_frame = tcp.frame;
                count += 1;
            }
            Ok(None) => panic!("a killed capture must not look finished"),
            Err(e) => break e,
        }
    };
    assert!(count > 1000, "only {count} records before the cut");
    let message = error.to_string();
    assert!(message.contains("TCP.ncap.zst: truncated"), "{message}");
    assert!(message.contains(&count.to_string()), "message names the last complete record: {message}");
}
