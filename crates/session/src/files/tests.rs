//! Tests of the file machinery through its public interface.
//!
//! Expected digests were computed outside Rust: `md5sum`, `sha1sum` and
//! `sha256sum` of the same bytes (the "lines" text is written by
//! `python3 -c "import sys; sys.stdout.write(''.join(f'line {i}: the quick
//! brown fox jumps over the lazy dog\n' for i in range(5000)))"`), and, for
//! the HTTP bodies in testdata/files, of the objects that
//! `tshark -r FILE --export-objects http,DIR` wrote (see
//! testdata/files/README.md).

use super::*;
use crate::emit::Emitter;
use crate::protocols::TestHarness;
use flate2::Compression;
use netcap_records::File;
use std::io::Write;

const LINES_MD5: &str = "2127bdd74b1c0a09063346e3517b07f5";
const LINES_SHA1: &str = "89f43c5f613bf6fe06d458afbd810a333155424c";
const LINES_SHA256: &str = "327c6f2071428ba1e777d790fc2246492101172b735e6f886b0258e8c2d7fa18";
const LINES_LEN: u64 = 273_890;
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn lines() -> Vec<u8> {
    (0..5000).flat_map(|i| format!("line {i}: the quick brown fox jumps over the lazy dog\n").into_bytes()).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn at(frame: u64) -> PacketTime {
    PacketTime { timestamp_ns: 1_000_000_000 + frame as i64 * 1000, frame }
}

fn start(encoding: &str) -> FileStart {
    FileStart {
        source: "HTTP",
        direction: Some(Direction::ToClient),
        trans_depth: 2,
        index: 3,
        filename: "../../etc/passwd".into(),
        declared_mime_type: "Text/HTML; charset=UTF-8".into(),
        total_bytes: Some(999),
        content_encoding: encoding.into(),
    }
}

/// One file's result.
struct Done {
    record: Option<File>,
    outcome: FileOutcome,
    counters: FileCounters,
}

/// Every digest (the default leaves MD5 out).
fn all_hashes() -> FileConfig {
    FileConfig { hashes: FileHashes { md5: true, sha1: true, sha256: true }, ..FileConfig::default() }
}

fn harness(config: FileConfig) -> TestHarness {
    TestHarness { files: Files::new(config, 5), ..Default::default() }
}

/// Writes `content` in pieces of `piece` bytes (frames 10, 11, ...) and
/// finishes the file.
fn run_in(h: &mut TestHarness, encoding: &str, content: &[u8], piece: usize, complete: bool) -> Done {
    let before = h.emit.decoded::<File>(RecordType::File).len();
    let mut f = h.files.open(&h.conn, at(10), start(encoding));
    for (i, part) in content.chunks(piece.max(1)).enumerate() {
        f.write(&mut h.files, at(10 + i as u64), part);
    }
    let outcome = f.finish(&mut h.cx(), complete);
    let record = h.emit.decoded::<File>(RecordType::File).into_iter().nth(before);
    Done { record, outcome, counters: h.files.counters.clone() }
}

fn run(config: FileConfig, encoding: &str, content: &[u8], piece: usize) -> Done {
    run_in(&mut harness(config), encoding, content, piece, true)
}

/// The record of `content`, which must come out the same for every piece
/// size (but for the last frame).
fn same_in_all_pieces(encoding: &str, content: &[u8]) -> File {
    let whole = run(all_hashes(), encoding, content, usize::MAX).record.unwrap();
    for piece in [1, 2, 3, 1000] {
        let mut r = run(all_hashes(), encoding, content, piece).record.unwrap();
        assert_eq!(r.last_frame, 10 + (content.len() as u64).div_ceil(piece as u64) - 1);
        r.last_frame = whole.last_frame;
        r.last_timestamp_ns = whole.last_timestamp_ns;
        assert_eq!(r, whole, "{encoding} in pieces of {piece}");
    }
    whole
}

#[test]
fn identity_content_every_field() {
    let d = run(all_hashes(), "", b"hello world\n", 5);
    let r = d.record.unwrap();
    assert_eq!(r.timestamp_ns, 1_000_010_000);
    assert_eq!(r.frame, 10);
    assert_eq!(r.src_ip, [10, 0, 0, 1]);
    assert_eq!(r.dst_ip, [10, 0, 0, 2]);
    assert_eq!(r.src_port, 40000);
    assert_eq!(r.dst_port, 80);
    assert_eq!(r.community_id, "1:test");
    assert_eq!(r.file_id, "F1-3");
    assert_eq!(r.source, "HTTP");
    assert_eq!(r.direction, netcap_records::Direction::ServerToClient as i32);
    assert_eq!(r.trans_depth, 2);
    assert_eq!(r.filename, "../../etc/passwd");
    assert_eq!(r.mime_type, "text/plain");
    assert_eq!(r.declared_mime_type, "text/html");
    assert_eq!(r.seen_bytes, 12);
    assert_eq!(r.total_bytes, Some(999));
    assert_eq!(r.missing_bytes, 0);
    assert!(r.complete);
    assert_eq!(r.md5, "6f5902ac237024bdd0c176cb93063dc4");
    assert_eq!(r.sha1, "22596363b3de40b06f981fb85d82312e8c0ed511");
    assert_eq!(r.sha256, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
    assert_eq!(r.content_encoding, "");
    assert_eq!(r.extracted, "");
    assert!(!r.truncated);
    assert_eq!(r.last_timestamp_ns, 1_000_012_000);
    assert_eq!(r.last_frame, 12);
    assert_eq!(r.encoded_bytes, 12);
    assert!(!r.decode_failed);
    assert_eq!(
        d.outcome,
        FileOutcome {
            file_id: "F1-3".into(),
            mime_type: "text/plain".into(),
            filename: "../../etc/passwd".into(),
            seen_bytes: 12,
            sha256: "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447".into(),
        }
    );
    assert_eq!(d.counters, FileCounters { files: 1, ..Default::default() });
}

#[test]
fn identity_in_every_piece_size() {
    let r = same_in_all_pieces("identity", &lines());
    assert_eq!((r.md5.as_str(), r.sha1.as_str(), r.sha256.as_str()), (LINES_MD5, LINES_SHA1, LINES_SHA256));
    assert_eq!((r.seen_bytes, r.encoded_bytes), (LINES_LEN, LINES_LEN));
    assert_eq!(r.content_encoding, "");
}

#[test]
fn empty_content_is_complete_and_not_extracted() {
    let dir = tempfile::tempdir().unwrap();
    let config = FileConfig { extract_dir: Some(dir.path().into()), ..all_hashes() };
    let r = run(config, "gzip", b"", 1).record.unwrap();
    assert!(r.complete);
    assert_eq!(r.sha256, EMPTY_SHA256);
    assert_eq!((r.seen_bytes, r.mime_type.as_str(), r.extracted.as_str()), (0, "", ""));
    assert!(!r.decode_failed);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

fn assert_lines(r: &File, encoding: &str, encoded: usize) {
    assert!(r.complete, "{encoding}");
    assert!(!r.decode_failed && !r.truncated);
    assert_eq!((r.md5.as_str(), r.sha1.as_str(), r.sha256.as_str()), (LINES_MD5, LINES_SHA1, LINES_SHA256));
    assert_eq!(r.seen_bytes, LINES_LEN);
    assert_eq!(r.encoded_bytes, encoded as u64);
    assert_eq!(r.content_encoding, encoding);
    assert_eq!(r.mime_type, "text/plain");
}

#[test]
fn gzip_single_and_multi_member() {
    let data = lines();
    let gz = gzip(&data);
    assert_lines(&same_in_all_pieces("gzip", &gz), "gzip", gz.len());
    assert_lines(&same_in_all_pieces("X-GZIP", &gz), "gzip", gz.len());
    let mut multi = gzip(&data[..1000]);
    multi.extend(gzip(&data[1000..100_000]));
    multi.extend(gzip(&data[100_000..]));
    assert_lines(&same_in_all_pieces("gzip", &multi), "gzip", multi.len());
}

#[test]
fn deflate_zlib_and_raw() {
    let data = lines();
    let z = zlib(&data);
    assert_lines(&same_in_all_pieces("deflate", &z), "deflate", z.len());
    let raw = raw_deflate(&data);
    assert_lines(&same_in_all_pieces("deflate", &raw), "deflate", raw.len());
}

#[test]
fn brotli_and_stacked_gzip_br() {
    // Made with Python's brotli module: brotli.compress(lines, quality=9,
    // lgwin=22), and of gzip.compress(lines, mtime=0).
    let br = include_bytes!("../../testdata/files/lines.br");
    assert_lines(&same_in_all_pieces("br", br), "br", br.len());
    let stacked = include_bytes!("../../testdata/files/lines.gz.br");
    assert_lines(&same_in_all_pieces("gzip, br", stacked), "gzip, br", stacked.len());
    // Declared in the wrong order: brotli data is not gzip.
    let r = run(all_hashes(), "br, gzip", stacked, 100).record.unwrap();
    assert!(r.decode_failed && !r.complete);
    assert_eq!(r.sha256, "");
}

/// Bodies of real HTTP responses, checked against the objects tshark
/// exported (testdata/files/README.md says how they were made).
#[test]
fn real_http_bodies() {
    // Encoding, body, MD5, SHA-1, SHA-256, decoded size, MIME type.
    type Case<'a> = (&'a str, &'a [u8], &'a str, &'a str, &'a str, u64, &'a str);
    let cases: [Case; 3] = [
        (
            "gzip",
            include_bytes!("../../testdata/files/zeek-http-get-gzip.body"),
            "5baba7eea57bc8a42a92c817ed566d72",
            "e351b8c693c3353716787c02e2923f4d12ebbb31",
            "202b775be087f5af98e95120e42769a9b3488f84c5aa79c4f4c1093d348f849c",
            197,
            "application/json",
        ),
        (
            "deflate",
            include_bytes!("../../testdata/files/zeek-http-missing-zlib-header.body"),
            "4b197ac59c0291f249cd7cd5e25a4fb6",
            "7dd590c6bddd18bb177b159fe3afb71cde13e1d9",
            "21f693252bc943812b916f4fb0a5ac82bee898dcf53ff582af448f85d463b81f",
            13249,
            "text/plain",
        ),
        (
            "br",
            include_bytes!("../../testdata/files/sv-http-brotli-ce.body"),
            "3dbacb6452cf4be32d98b701990cbe7b",
            "d9c6aac2fedd5f3f0685bb4351fa72854c315f2c",
            "f66256471cd5a28ff9fda1752c92896cfd06954a3a29c936cfc586ee954794fe",
            1743,
            "text/plain",
        ),
    ];
    for (encoding, body, md5, sha1, sha256, len, mime) in cases {
        let r = same_in_all_pieces(encoding, body);
        assert!(r.complete, "{encoding}");
        assert_eq!((r.md5.as_str(), r.sha1.as_str(), r.sha256.as_str()), (md5, sha1, sha256));
        assert_eq!((r.seen_bytes, r.encoded_bytes), (len, body.len() as u64));
        assert_eq!(r.mime_type, mime);
    }
}

#[test]
fn corrupt_gzip_stops_decoding() {
    let data = lines();
    let mut gz = gzip(&data);
    let middle = gz.len() / 2;
    gz[middle] ^= 0xff;
    gz[middle + 1] ^= 0x55;
    for piece in [1, 1000, usize::MAX] {
        let d = run(all_hashes(), "gzip", &gz, piece);
        let r = d.record.unwrap();
        assert!(r.decode_failed && !r.complete && !r.truncated, "piece {piece}");
        assert_eq!((r.md5.as_str(), r.sha1.as_str(), r.sha256.as_str()), ("", "", ""));
        // Corrupt deflate data decodes to garbage until the decoder meets an
        // invalid code (or the trailer's CRC): how far depends on the
        // backend; it is bounded all the same.
        assert!(r.seen_bytes < 2 * LINES_LEN, "{}", r.seen_bytes);
        assert_eq!(r.encoded_bytes, gz.len() as u64);
        assert_eq!(r.mime_type, "text/plain");
        assert_eq!(r.content_encoding, "gzip");
        assert_eq!((d.counters.decode_failed, d.counters.decoders_busy), (1, 0));
    }
    // Cut short although the framing said it was all there.
    let gz = gzip(&data);
    let r = run(all_hashes(), "gzip", &gz[..gz.len() - 4], 100).record.unwrap();
    assert!(r.decode_failed && !r.complete);
    assert_eq!(r.seen_bytes, LINES_LEN);
    // Cut short by the connection: incomplete, not a decoding failure.
    let r = run_in(&mut harness(all_hashes()), "gzip", &gz[..gz.len() / 2], 100, false).record.unwrap();
    assert!(!r.decode_failed && !r.complete);
}

#[test]
fn content_that_is_not_what_it_says_is_sniffed_as_sent() {
    let html = b"<html><body>plain</body></html>";
    let d = run(all_hashes(), "gzip", html, 4);
    let r = d.record.unwrap();
    assert!(r.decode_failed && !r.complete);
    assert_eq!((r.seen_bytes, r.encoded_bytes), (0, html.len() as u64));
    assert_eq!(r.mime_type, "text/html");
    assert_eq!(d.outcome.mime_type, "text/html");
}

#[test]
fn unknown_encoding_keeps_the_bytes_as_sent() {
    let zstd_magic = b"\x28\xb5\x2f\xfd\x00\x58\x61\x00\x00";
    let dir = tempfile::tempdir().unwrap();
    let config = FileConfig { extract_dir: Some(dir.path().into()), ..all_hashes() };
    let d = run(config, "zstd", zstd_magic, 2);
    let r = d.record.unwrap();
    assert!(r.decode_failed && !r.complete);
    assert_eq!(r.sha256, "");
    assert_eq!((r.seen_bytes, r.encoded_bytes), (9, 9));
    assert_eq!(r.mime_type, "application/zstd");
    assert_eq!(r.content_encoding, "zstd");
    assert_eq!(r.extracted, "incomplete/F1-3");
    assert_eq!(std::fs::read(dir.path().join("incomplete/F1-3")).unwrap(), zstd_magic);
    assert_eq!(d.counters.decode_failed, 1);
}

#[test]
fn bombs_are_cut_at_max_bytes() {
    let config = FileConfig { max_bytes: 1 << 20, ..all_hashes() };
    // 64 MiB of zeros in 54 bytes of brotli (Python: brotli.compress(
    // bytes(64 << 20), quality=11, lgwin=24)).
    let br = include_bytes!("../../testdata/files/zeros-64mib.br");
    // 16 MiB of zeros in about 16 KB of gzip.
    let gz = gzip(&vec![0; 16 << 20]);
    for (encoding, body) in [("br", &br[..]), ("gzip", &gz[..])] {
        let mut h = harness(config.clone());
        let mut f = h.files.open(&h.conn, at(10), start(encoding));
        let mut peak = 0;
        for part in body.chunks(1000) {
            f.write(&mut h.files, at(11), part);
            peak = peak.max(f.memory());
        }
        // The brotli stream asks for a 16 MiB window (the most a decoder
        // may hold); gzip needs its 32 KiB window and buffers.
        let bound = if encoding == "br" { 17 << 20 } else { 256 << 10 };
        assert!(peak < bound, "{encoding}: {peak}");
        let d = f.finish(&mut h.cx(), true);
        assert_eq!(d.seen_bytes, 1 << 20);
        let r = &h.emit.decoded::<File>(RecordType::File)[0];
        assert!(r.truncated && !r.complete && !r.decode_failed, "{encoding}");
        assert_eq!((r.md5.as_str(), r.sha256.as_str()), ("", ""));
        assert_eq!(r.encoded_bytes, body.len() as u64);
        assert_eq!(h.files.counters.truncated, 1);
        assert_eq!(h.files.decoders_in_use(), 0);
    }
    // Exactly max_bytes is not truncated.
    let r = run(FileConfig { max_bytes: 12, ..all_hashes() }, "", b"hello world\n", 5).record.unwrap();
    assert!(r.complete && !r.truncated);
    let r = run(FileConfig { max_bytes: 11, ..all_hashes() }, "", b"hello world\n", 5).record.unwrap();
    assert!(!r.complete && r.truncated);
    assert_eq!(r.seen_bytes, 11);
}

#[test]
fn gaps_make_files_incomplete() {
    let dir = tempfile::tempdir().unwrap();
    let config = FileConfig { extract_dir: Some(dir.path().into()), ..all_hashes() };
    let mut h = harness(config);
    // Identity: a hole in the extracted file.
    let mut f = h.files.open(&h.conn, at(10), start(""));
    f.write(&mut h.files, at(10), b"hello");
    f.gap(3);
    f.write(&mut h.files, at(12), b"world");
    f.gap(2);
    f.finish(&mut h.cx(), true);
    // Encoded: decoding stops at the gap.
    let gz = gzip(&lines());
    let mut f = h.files.open(&h.conn, at(20), FileStart { index: 4, ..start("gzip") });
    f.write(&mut h.files, at(20), &gz[..1000]);
    f.gap(1000);
    f.write(&mut h.files, at(22), &gz[2000..]);
    f.finish(&mut h.cx(), true);
    let records = h.emit.decoded::<File>(RecordType::File);
    let r = &records[0];
    assert!(!r.complete && !r.decode_failed && !r.truncated);
    assert_eq!((r.seen_bytes, r.missing_bytes, r.encoded_bytes), (10, 5, 10));
    assert_eq!(r.sha256, "");
    assert_eq!(r.mime_type, "text/plain");
    assert_eq!(r.extracted, "incomplete/F1-3");
    assert_eq!(std::fs::read(dir.path().join("incomplete/F1-3")).unwrap(), b"hello\0\0\0world\0\0");
    let r = &records[1];
    assert!(!r.complete && !r.decode_failed);
    assert_eq!((r.missing_bytes, r.encoded_bytes), (1000, gz.len() as u64 - 1000));
    assert!(r.seen_bytes > 1000 && r.seen_bytes < LINES_LEN, "{}", r.seen_bytes);
    assert_eq!(r.sha256, "");
    assert_eq!(r.extracted, "incomplete/F1-4");
    let extracted = std::fs::read(dir.path().join("incomplete/F1-4")).unwrap();
    assert_eq!(extracted.len() as u64, r.seen_bytes);
    assert!(lines().starts_with(&extracted));
    assert_eq!(h.files.decoders_in_use(), 0);
    // A gap that would pass max_bytes truncates.
    let mut h = harness(FileConfig { max_bytes: 100, ..all_hashes() });
    let mut f = h.files.open(&h.conn, at(10), start(""));
    f.write(&mut h.files, at(10), b"abc");
    f.gap(1 << 40);
    f.write(&mut h.files, at(11), b"def");
    assert_eq!(f.finish(&mut h.cx(), true).seen_bytes, 3);
    assert!(h.emit.decoded::<File>(RecordType::File)[0].truncated);
}

#[test]
fn mime_types_are_sniffed() {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    let mut long_json = b"[".to_vec();
    long_json.extend((0..2000).flat_map(|i| format!("{i},").into_bytes()));
    long_json.extend(b"0]");
    let cases: [(&[u8], &str); 9] = [
        (&png, "image/png"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!", "image/gif"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01", "image/jpeg"),
        (b"%PDF-1.4\n%\xc7\xec\x8f\xa2\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00\x00\x00!\x00", "application/zip"),
        (b"<!DOCTYPE html>\n<html><head><title>x</title>", "text/html"),
        (b"{\"a\": [1, 2, 3]}\n", "application/json"),
        (&long_json, "application/json"),
        (b"just some words\n", "text/plain"),
    ];
    for (content, mime) in cases {
        for piece in [1, usize::MAX] {
            let d = run(all_hashes(), "", content, piece);
            assert_eq!(d.record.unwrap().mime_type, mime);
            assert_eq!(d.outcome.mime_type, mime);
        }
    }
    // Gzipped, the type is of the decoded content.
    assert_eq!(run(all_hashes(), "gzip", &gzip(&png), 3).record.unwrap().mime_type, "image/png");
}

#[test]
fn extraction_dedups_and_separates_incomplete_files() {
    let dir = tempfile::tempdir().unwrap();
    let config = FileConfig { extract_dir: Some(dir.path().join("out")), ..all_hashes() };
    let mut h = harness(config);
    let data = lines();
    let gz = gzip(&data);
    let a = run_in(&mut h, "gzip", &gz, 1500, true);
    let b = run_in(&mut h, "", &data, 1500, true);
    let c = run_in(&mut h, "", &data[..1000], 1500, false);
    for d in [&a, &b] {
        let r = d.record.as_ref().unwrap();
        assert!(r.complete);
        assert_eq!(r.extracted, LINES_SHA256);
    }
    assert_eq!(c.record.as_ref().unwrap().extracted, "incomplete/F1-3");
    assert_eq!(c.counters.extracted, 3);
    assert_eq!(c.counters.extract_errors, 0);
    let out = dir.path().join("out");
    assert_eq!(std::fs::read(out.join(LINES_SHA256)).unwrap(), data);
    assert_eq!(std::fs::read(out.join("incomplete/F1-3")).unwrap(), &data[..1000]);
    let mut names: Vec<_> =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
    names.sort();
    assert_eq!(names, [".partial", LINES_SHA256, "incomplete"]);
    assert_eq!(std::fs::read_dir(out.join(".partial")).unwrap().count(), 0);
    // The filename from the traffic went nowhere near a path.
    assert!(!dir.path().join("etc").exists());
}

#[test]
fn extraction_errors_are_counted_and_hashing_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // A directory under a regular file cannot be created, even by root.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let config = FileConfig { extract_dir: Some(blocker.join("sub")), ..all_hashes() };
    let mut h = harness(config);
    for _ in 0..2 {
        let d = run_in(&mut h, "", b"hello world\n", 3, true);
        let r = d.record.unwrap();
        assert!(r.complete);
        assert_eq!(r.sha256, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
        assert_eq!(r.extracted, "");
    }
    assert_eq!(h.files.counters.extract_errors, 2);
    assert_eq!(h.files.counters.extracted, 0);

    // A read-only directory (root may write anyway: then it is extracted).
    let ro = dir.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&ro, perms).unwrap();
    let writable = std::fs::create_dir(ro.join("probe")).is_ok();
    let mut h = harness(FileConfig { extract_dir: Some(ro.clone()), ..all_hashes() });
    let d = run_in(&mut h, "", b"hello world\n", 3, true);
    let r = d.record.unwrap();
    assert_eq!(r.sha256, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
    if writable {
        assert_eq!(r.extracted, r.sha256);
    } else {
        assert_eq!(r.extracted, "");
        assert_eq!(h.files.counters.extract_errors, 1);
    }
    let mut perms = std::fs::metadata(&ro).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&ro, perms).unwrap();
}

#[test]
fn decoders_are_bounded_per_shard() {
    let mut h = harness(FileConfig { max_decoders: 1, ..all_hashes() });
    let gz = gzip(b"hello world\n");
    let mut a = h.files.open(&h.conn, at(10), start("gzip"));
    let mut b = h.files.open(&h.conn, at(10), FileStart { index: 4, ..start("gzip") });
    let mut plain = h.files.open(&h.conn, at(10), FileStart { index: 5, ..start("") });
    // Taken at the first content byte.
    assert_eq!(h.files.decoders_in_use(), 0);
    a.write(&mut h.files, at(11), &gz);
    assert_eq!(h.files.decoders_in_use(), 1);
    let memory = a.memory();
    assert!(memory > decode::CHUNK && memory < 256 << 10, "{memory}");
    b.write(&mut h.files, at(11), &gz);
    plain.write(&mut h.files, at(11), b"text");
    a.finish(&mut h.cx(), true);
    b.finish(&mut h.cx(), true);
    plain.finish(&mut h.cx(), true);
    let records = h.emit.decoded::<File>(RecordType::File);
    assert!(records[0].complete && !records[0].decode_failed);
    assert!(!records[1].complete && records[1].decode_failed);
    assert_eq!(records[1].mime_type, "application/gzip");
    assert_eq!(records[1].seen_bytes, gz.len() as u64);
    assert!(records[2].complete);
    assert_eq!((h.files.counters.decoders_busy, h.files.counters.decode_failed), (1, 1));
    // Given back at finish, and when a file is dropped unfinished.
    assert_eq!(h.files.decoders_in_use(), 0);
    let mut c = h.files.open(&h.conn, at(10), start("gzip"));
    c.write(&mut h.files, at(11), &gz[..5]);
    assert_eq!(h.files.decoders_in_use(), 1);
    drop(c);
    assert_eq!(h.files.decoders_in_use(), 0);
}

#[test]
fn files_nobody_wants_are_still_hashed_and_extracted() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(FileConfig { extract_dir: Some(dir.path().into()), ..all_hashes() });
    h.emit = Emitter::new(vec![false; RecordType::count()]);
    let d = run_in(&mut h, "", b"hello world\n", 100, true);
    assert!(d.record.is_none());
    assert_eq!(d.outcome.mime_type, "text/plain");
    assert_eq!(d.outcome.seen_bytes, 12);
    assert_eq!(d.counters.extracted, 1);
    assert!(dir.path().join("a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447").exists());
}

#[test]
fn memory_is_reported_and_released() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = harness(FileConfig { extract_dir: Some(dir.path().into()), ..all_hashes() });
    // Identity: the sniff buffer until 4 KiB are seen, the write buffer.
    let data = lines();
    let mut f = h.files.open(&h.conn, at(10), start(""));
    let idle = f.memory();
    assert!(idle < 1024, "{idle}");
    for part in data[..4000].chunks(1) {
        f.write(&mut h.files, at(11), part);
    }
    assert_eq!(f.memory(), idle + extract::WRITE_BUFFER + 4096);
    f.write(&mut h.files, at(11), &data[4000..]);
    assert_eq!(f.memory(), idle + extract::WRITE_BUFFER);
    f.finish(&mut h.cx(), true);
    // Brotli: the output buffer, the decoder's state and window, and the
    // first bytes as sent until something decodes.
    let mut f = h.files.open(&h.conn, at(10), FileStart { index: 4, ..start("br") });
    let br = include_bytes!("../../testdata/files/lines.br");
    f.write(&mut h.files, at(11), &br[..3]);
    let busy = f.memory();
    assert!(busy > decode::CHUNK && busy < 256 << 10, "{busy}");
    f.write(&mut h.files, at(11), &br[3..]);
    // lgwin 22: a window of up to 4 MiB.
    let decoding = f.memory();
    assert!(decoding > busy && decoding < 5 << 20, "{decoding}");
    f.finish(&mut h.cx(), true);
    assert_eq!(h.files.decoders_in_use(), 0);
}

#[test]
fn fuzz_entry_survives_odd_inputs() {
    let gz = gzip(&lines()[..20_000]);
    let br = include_bytes!("../../testdata/files/lines.gz.br");
    for selector in 0..=255u8 {
        for body in [&gz[..], &br[..], b"\x1f\x8b\x08\x1f\0\0\0\0\0\0", b"", &[0xff; 3000]] {
            let mut input = vec![selector];
            input.extend_from_slice(body);
            fuzz_entry(&input);
        }
    }
    fuzz_entry(&[]);
}

#[test]
fn hex_and_declared_types() {
    assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    assert_eq!(declared_type(" Application/JSON ; charset=utf-8"), "application/json");
    assert_eq!(declared_type(""), "");
}

#[test]
fn open_files_can_move_between_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<OpenFile>();
    assert_send::<Files>();
}

/// Valid streams with bytes flipped, cut or doubled: no panic (and
/// `fuzz_entry` checks that the decoder was given back). 600 rounds;
/// `MUTATION_ROUNDS=N` runs more.
#[test]
fn mutated_streams_never_panic() {
    let text = &lines()[..30_000];
    let streams: [(u8, Vec<u8>); 4] = [
        (1, gzip(text)),
        (2, zlib(text)),
        (2, raw_deflate(text)),
        (3, include_bytes!("../../testdata/files/lines.br").to_vec()),
    ];
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..std::env::var("MUTATION_ROUNDS").ok().and_then(|v| v.parse().ok()).unwrap_or(600) {
        let (encoding, stream) = &streams[round % streams.len()];
        let mut body = stream.clone();
        for _ in 0..1 + next() % 4 {
            let at = (next() % body.len() as u64) as usize;
            match next() % 3 {
                0 => body[at] ^= 1 << (next() % 8),
                1 => body.truncate(at.max(1)),
                _ => body.insert(at, body[at]),
            }
        }
        // Selector: the encoding, piece sizes from 1 up, sometimes a gap.
        let selector = encoding | ((next() as u8) & 0xf8);
        let mut input = vec![selector];
        input.extend_from_slice(&body);
        fuzz_entry(&input);
    }
}

#[test]
fn digests_are_those_asked_for() {
    let r = run(FileConfig::default(), "", b"hello world\n", 5).record.unwrap();
    assert_eq!(r.md5, "", "MD5 is opt-in");
    assert_eq!(r.sha1, "22596363b3de40b06f981fb85d82312e8c0ed511");
    assert_eq!(r.sha256, "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447");
    let only_md5 = FileConfig { hashes: FileHashes::parse("md5").unwrap(), ..FileConfig::default() };
    let r = run(only_md5, "", b"hello world\n", 5).record.unwrap();
    assert_eq!((r.md5.as_str(), r.sha1.as_str(), r.sha256.as_str()), ("6f5902ac237024bdd0c176cb93063dc4", "", ""));
    // No File records, no extraction: nothing to hash for.
    let quiet = FileConfig { records: false, ..all_hashes() };
    let r = run(quiet, "", b"hello world\n", 5).record.unwrap();
    assert_eq!((r.md5.as_str(), r.sha256.as_str()), ("", ""));
    assert_eq!(FileHashes::parse("SHA256, md5"), Ok(FileHashes { md5: true, sha1: false, sha256: true }));
    assert!(FileHashes::parse("crc32").is_err());
}
