//! Record-file integrity end to end (issue 20): damaged files as `dump`
//! and `util -check` see them.

use crate::util::{capture, run, stderr, testdata};
use std::path::{Path, PathBuf};

/// Start offsets of the frames of an undamaged record file (zstd frames,
/// check frames, end marker), as zstd finds them.
fn frame_starts(bytes: &[u8]) -> Vec<usize> {
    let mut starts = vec![];
    let mut at = 0;
    while at < bytes.len() {
        starts.push(at);
        at += zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]).expect("an undamaged file");
    }
    starts
}

/// A small record file written by `netcap capture`, and its directory.
fn small_record_file() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/tcpdump-dns_udp.pcap"), dir.path(), &[]);
    let path = dir.path().join("UDP.ncap.zst");
    assert!(path.exists());
    (dir, path)
}

fn dump_json(path: &Path) -> std::process::Output {
    run(&["dump", "-read", path.to_str().unwrap(), "-json"])
}

/// The bar of issue 20: every byte of a record file flipped in turn. `dump`
/// never prints a record that is not in the undamaged file, reports every
/// damage at the start of the frame it is in (a CRC mismatch at the frame
/// its check frame checks), and exits with status 3.
#[test]
fn dump_never_prints_altered_records_and_reports_every_flipped_byte_at_its_frame() {
    let (dir, path) = small_record_file();
    let original = std::fs::read(&path).unwrap();
    let starts = frame_starts(&original);
    // Header, its check frame, one data frame, its check frame, end marker.
    assert_eq!(starts.len(), 5, "{starts:?}");
    let clean = dump_json(&path);
    assert!(clean.status.success(), "{}", stderr(&clean));
    let good = String::from_utf8(clean.stdout).unwrap();
    let good_lines: Vec<&str> = good.lines().collect();
    assert!(good_lines.len() >= 2, "{good}");
    let damaged = dir.path().join("damaged.ncap.zst");
    let name = damaged.display().to_string();
    for pos in 0..original.len() {
        for flip in [0xffu8, 0x01] {
            let mut bytes = original.clone();
            bytes[pos] ^= flip;
            std::fs::write(&damaged, &bytes).unwrap();
            let out = dump_json(&damaged);
            let context = format!("byte {pos} ^ {flip:#x}");
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(3), "{context}: {err}");
            // Only records of the undamaged file, in its order.
            let printed = String::from_utf8(out.stdout).unwrap();
            let mut rest = good_lines.iter();
            for line in printed.lines() {
                assert!(rest.any(|g| *g == line), "{context}: altered or reordered record printed: {line}");
            }
            let index = starts.iter().rposition(|s| *s <= pos).unwrap();
            let here = format!("frame {} at compressed byte {}", index + 1, starts[index]);
            let checked = index.checked_sub(1).map(|i| format!("frame {} at compressed byte {}", index, starts[i]));
            let reports: Vec<&str> = err.lines().collect();
            assert!(!reports.is_empty(), "{context}: nothing reported");
            for report in reports {
                assert!(report.contains(&name), "{context}: {report}");
                let at_frame = report.contains(&format!("{here} is damaged"))
                    || report.contains(&format!(
                        "ends inside frame {}, which starts at compressed byte {}",
                        index + 1,
                        starts[index]
                    ))
                    || report.contains(&format!("frame {}, compressed byte {}", index + 1, starts[index]))
                    || (index % 2 == 1
                        && report.contains("CRC-32")
                        && checked.as_ref().is_some_and(|c| report.contains(c.as_str())));
                assert!(at_frame, "{context}: expected {here}: {report}");
            }
        }
    }
}

/// A file cut inside its header is truncated, not "not a record file"; a
/// directory is a directory.
#[test]
fn dump_names_a_cut_header_and_a_directory() {
    let (dir, path) = small_record_file();
    let original = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.ncap.zst");
    for len in [2, 10, 20] {
        std::fs::write(&cut, &original[..len]).unwrap();
        let out = dump_json(&cut);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{err}");
        assert!(
            err.contains("truncated: the file ends inside frame 1, which starts at compressed byte 0"),
            "{len}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    let out = dump_json(dir.path());
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("is a directory"), "{err}");
}

/// `util -check` passes on every file `capture` writes (a few captures of
/// testdata, with the optional record types), and fails with status 3 on a
/// copy of each with one byte of a data frame flipped.
#[test]
fn util_check_passes_on_capture_output_and_fails_on_damaged_copies() {
    let dir = tempfile::tempdir().unwrap();
    for pcap in ["tcpdump-dns_udp.pcap", "zeek-tcp-option-sack.pcap", "zeek-dns-https.pcap", "cidspec-icmp.pcap"] {
        let out = dir.path().join(pcap);
        capture(&testdata(&format!("pcaps/{pcap}")), &out, &["-errors", "-payload"]);
    }
    let files: Vec<PathBuf> = walk(dir.path());
    assert!(files.len() >= 12, "{files:?}");
    let out = run(&["util", "-check", dir.path().to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(out.status.code(), Some(0), "{text}{}", stderr(&out));
    assert!(text.contains(&format!("{n} files checked: {n} ok, 0 damaged, 0 unreadable", n = files.len())), "{text}");
    for file in &files {
        let line = text.lines().find(|l| l.starts_with(&format!("{}: ", file.display()))).expect("a line per file");
        assert!(line.contains(": ok: "), "{line}");
        assert!(line.contains("with netcap check frame"), "{line}");
    }
    assert!(text.contains("type"), "{text}");

    let damaged_dir = tempfile::tempdir().unwrap();
    for (i, file) in files.iter().enumerate() {
        let mut bytes = std::fs::read(file).unwrap();
        let starts = frame_starts(&bytes);
        // The first data frame (after the header and its check frame), or
        // the header's frame in a file without records.
        let k = if starts.len() >= 5 { 2 } else { 0 };
        let (start, end) = (starts[k], starts[k + 1]);
        bytes[(start + end) / 2] ^= 0x10;
        let damaged = damaged_dir.path().join(format!("{i}{}", netcap_records::FILE_EXTENSION));
        std::fs::write(&damaged, &bytes).unwrap();
        let out = run(&["util", "-check", damaged.to_str().unwrap()]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{}: {text}{err}", file.display());
        assert!(text.contains(": DAMAGED: "), "{text}");
        assert!(
            err.contains(&format!("frame {} at compressed byte {start} is damaged", k + 1)),
            "{}: {err}",
            file.display()
        );
    }
}

/// Record files under `dir`, sorted.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.to_str().unwrap().ends_with(netcap_records::FILE_EXTENSION) {
            files.push(path);
        }
    }
    files.sort();
    files
}

#[test]
fn util_ts2utc_types_and_usage() {
    for (input, expected) in [
        ("1368328666543210123", "2013-05-12T03:17:46.543210123Z"),
        ("1368328666.543210", "2013-05-12T03:17:46.543210000Z"),
        ("1368328666", "2013-05-12T03:17:46.000000000Z"),
    ] {
        let out = run(&["util", "-ts2utc", input]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("{expected}\n"));
    }
    let out = run(&["util", "-ts2utc", "yesterday"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("is not a timestamp"), "{}", stderr(&out));

    let out = run(&["util", "-types"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    for layer in ["link:", "network:", "transport:", "application:", "flows:"] {
        assert!(text.lines().any(|l| l == layer), "{layer}: {text}");
    }
    let tcp = text.lines().find(|l| l.trim_start().starts_with("TCP ")).expect("TCP is listed");
    let fields = netcap_records::RecordType::Tcp.descriptor().unwrap().fields().len();
    assert!(tcp.contains(&format!("{fields} fields")), "{tcp}");
    assert_eq!(text.lines().filter(|l| l.starts_with("  ")).count(), netcap_records::RecordType::count());

    // One action is required; two are a usage error.
    assert_eq!(run(&["util"]).status.code(), Some(2));
    assert_eq!(run(&["util", "-types", "-ts2utc", "1"]).status.code(), Some(2));
}
