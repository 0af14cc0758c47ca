//! Helpers shared by the end-to-end tests.

use netcap_records::{RecordReader, RecordType};
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The netcap binary under test.
pub fn netcap() -> Command {
    Command::new(env!("CARGO_BIN_EXE_netcap"))
}

/// A file under testdata/.
pub fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata").join(path)
}

/// Runs netcap with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    netcap().args(args).output().expect("netcap runs")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `netcap capture -read <pcap> -out <dir> <extra...>` and asserts success.
pub fn capture(pcap: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["capture", "-read", pcap.to_str().unwrap(), "-out", out.to_str().unwrap(), "-quiet"];
    args.extend_from_slice(extra);
    let output = run(&args);
    assert!(output.status.success(), "capture of {} failed: {}", pcap.display(), stderr(&output));
    output
}

/// Every record of `record_type` in `dir`, decoded as `M` (empty if the
/// file does not exist).
pub fn records<M: Message + Default>(dir: &Path, record_type: RecordType) -> Vec<M> {
    let path = dir.join(record_type.file_name());
    if !path.exists() {
        return Vec::new();
    }
    let mut reader = RecordReader::open(&path).expect("record file opens");
    assert_eq!(reader.record_type(), record_type);
    let mut out = Vec::new();
    while let Some(record) = reader.next::<M>().expect("record file reads to the end") {
        out.push(record);
    }
    out
}

/// Builds a pcap of `copies` repetitions of every packet in `source` (a
/// little-endian microsecond pcap), for multi-batch inputs without
/// committing large files.
pub fn repeated_pcap(source: &Path, copies: usize, dest: &Path) {
    let data = std::fs::read(source).unwrap();
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{} must be a LE µs pcap", source.display());
    let mut records = Vec::new();
    let mut offset = 24;
    while offset + 16 <= data.len() {
        let caplen = u32::from_le_bytes(data[offset + 8..offset + 12].try_into().unwrap()) as usize;
        records.push(&data[offset..offset + 16 + caplen]);
        offset += 16 + caplen;
    }
    let mut out = data[..24].to_vec();
    for _ in 0..copies {
        for record in &records {
            out.extend_from_slice(record);
        }
    }
    std::fs::write(dest, out).unwrap();
}
