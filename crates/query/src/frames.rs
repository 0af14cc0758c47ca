//! Reading one record file with its zstd frames decompressed in parallel.
//!
//! netcap's writers put whole records in every frame (a frame is one batch)
//! and end a finished file with a skippable end-marker frame holding the
//! record count (docs/format.md). Such a file can be cut at frame boundaries
//! and each piece decoded on its own core. Anything else (a record crossing
//! frames, a missing end marker, a count that does not add up, any damage)
//! makes this path give up, and the caller streams the file with
//! `RecordReader`, which reports damage precisely; the work done here is
//! thrown away, so both paths count exactly the same records.

use crate::engine::{Partial, Plan};
use crate::record::ConnectionView;
use netcap_records::varint::decode_at as varint;
use rayon::prelude::*;
use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// netcap's end marker: a skippable frame (magic 0x184D2A5E) of 16 bytes,
/// "NCAPEND\0" and the record count.
const END_MARKER_MAGIC: u32 = 0x184D_2A5E;
const END_MARKER_TAG: &[u8; 8] = b"NCAPEND\0";
/// Longest record netcap's reader accepts (`netcap_records`'s
/// `MAX_RECORD_LEN`).
const MAX_RECORD_LEN: u64 = 64 << 20;
/// A frame claiming more than this much content is not one of ours.
const MAX_FRAME_CONTENT: u64 = 1 << 30;

/// Aggregates `path` in parallel, or `None` if it is not a complete file
/// laid out as netcap writes it.
///
/// The file is not read into memory first: a fresh buffer the size of the
/// file costs a page fault per 4 KiB, more than copying the data, and one
/// thread reading while the others wait. Instead the frames are located
/// from their headers, and every thread reads its own frames into one
/// buffer it reuses.
pub(crate) fn read(path: &Path, plan: &Plan<'_>) -> Option<Partial> {
    let file = File::open(path).ok()?;
    let (frames, count) = locate(&file, file.metadata().ok()?.len())?;
    let (first, rest) = frames.split_first()?;
    // The header is the first message of the first frame; records may
    // follow it in the same frame.
    let mut decompressor = zstd::bulk::Decompressor::new().ok()?;
    let mut compressed = Vec::new();
    let mut head = Vec::new();
    read_frame(&file, *first, &mut compressed)?;
    decompress(&mut decompressor, &compressed, &mut head)?;
    let mut at = 0;
    let header_len = usize::try_from(varint(&head, &mut at)?).ok()?;
    let after_header = at.checked_add(header_len).filter(|end| *end <= head.len())?;
    let header: netcap_records::Header = prost::Message::decode(head.get(at..after_header)?).ok()?;
    let ascending = written_by_netcap(&header);
    let mut partial = Partial::new();
    let records = add_records(&mut partial, plan, head.get(after_header..)?, ascending)?;
    drop((head, compressed));
    // One worker per thread, each with its own group tables (merging costs
    // about as much as filling, so there are no more than threads), taking
    // the next frame whenever it is free: with fixed shares, a core lent
    // to another process would leave its share late and the others idle.
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let workers = rayon::current_num_threads().clamp(1, rest.len().max(1));
    let runs: Vec<(Partial, u64)> = (0..workers)
        .into_par_iter()
        .map(|_| {
            let mut partial = Partial::new();
            // One context and two buffers per worker, reused for every frame.
            let mut decompressor = zstd::bulk::Decompressor::new().ok()?;
            let mut compressed = Vec::new();
            let mut content = Vec::new();
            let mut n = 0;
            // After a failure elsewhere the work is void: stop early.
            while !failed.load(Ordering::Relaxed)
                && let Some(frame) = rest.get(next.fetch_add(1, Ordering::Relaxed))
            {
                let added = (|| {
                    read_frame(&file, *frame, &mut compressed)?;
                    decompress(&mut decompressor, &compressed, &mut content)?;
                    add_records(&mut partial, plan, &content, ascending)
                })();
                let Some(records) = added else {
                    failed.store(true, Ordering::Relaxed);
                    return None;
                };
                n += records;
            }
            Some((partial, n))
        })
        .collect::<Option<_>>()?;
    // A file changed since it was located fails here at the latest (or in
    // decompression): the streaming reader then says what it finds.
    let records = records + runs.iter().map(|(_, n)| n).sum::<u64>();
    if records != count {
        return None;
    }
    let partials = std::iter::once(partial).chain(runs.into_iter().map(|(p, _)| p)).collect();
    let mut partial = Partial::merge_all(partials);
    partial.files = 1;
    Some(partial)
}

/// A zstd frame's place in a file, and the CRC-32 of its bytes from the
/// check frame after it (files written since check frames exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frame {
    offset: u64,
    len: u64,
    crc: Option<u32>,
}

/// netcap's check frame: a skippable frame (magic 0x184D2A5C) of 8 bytes,
/// "NCRC" and the CRC-32 of the zstd frame before it (docs/format.md).
const CHECK_MAGIC: u32 = 0x184D_2A5C;
const CHECK_TAG: &[u8; 4] = b"NCRC";

/// Reads `buf.len()` bytes at `offset` without a shared cursor, so that
/// threads can read through one handle at once.
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> Option<()> {
    #[cfg(unix)]
    {
        std::os::unix::fs::FileExt::read_exact_at(file, buf, offset).ok()
    }
    #[cfg(windows)]
    {
        let (mut buf, mut offset) = (buf, offset);
        while !buf.is_empty() {
            let n = std::os::windows::fs::FileExt::seek_read(file, buf, offset).ok()?;
            if n == 0 {
                return None;
            }
            buf = &mut buf[n..];
            offset += n as u64;
        }
        Some(())
    }
    #[cfg(not(any(unix, windows)))]
    {
        // No positional reads: the streaming reader takes the file.
        let _ = (file, buf, offset);
        None
    }
}

/// Reads a frame's bytes, checked against its check frame's CRC-32.
fn read_frame(file: &File, frame: Frame, buf: &mut Vec<u8>) -> Option<()> {
    buf.resize(usize::try_from(frame.len).ok()?, 0);
    read_at(file, buf, frame.offset)?;
    match frame.crc {
        Some(crc) if crc != crc32fast::hash(buf) => None,
        _ => Some(()),
    }
}

/// Bytes read at once for frame and block headers.
const HEADER_WINDOW: usize = 4096;

/// The small reads of [`locate`], at increasing offsets, served from a
/// window of the file: one system call per block header is fine for
/// netcap's ~128 KiB blocks, but a crafted file of empty blocks would need
/// one per 3 bytes.
struct Headers<'f> {
    file: &'f File,
    len: u64,
    /// File offset of `window[0]`, and how much of the window holds data.
    start: u64,
    filled: usize,
    window: [u8; HEADER_WINDOW],
}

impl<'f> Headers<'f> {
    fn new(file: &'f File, len: u64) -> Self {
        Headers { file, len, start: 0, filled: 0, window: [0; HEADER_WINDOW] }
    }

    fn read(&mut self, offset: u64, out: &mut [u8]) -> Option<()> {
        let end = offset.checked_add(out.len() as u64)?;
        if offset < self.start || end > self.start + self.filled as u64 {
            let n = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX).min(HEADER_WINDOW);
            read_at(self.file, &mut self.window[..n], offset)?;
            (self.start, self.filled) = (offset, n);
        }
        let from = usize::try_from(offset - self.start).ok()?;
        out.copy_from_slice(self.window.get(..self.filled)?.get(from..from + out.len())?);
        Some(())
    }
}

/// zstd's frame magic number.
const ZSTD_MAGIC: u32 = 0xFD2F_B528;

/// Finds the zstd frames of a file of `len` bytes from their headers,
/// checking that it ends with netcap's end marker; returns the data frames
/// and the marker's record count.
fn locate(file: &File, len: u64) -> Option<(Vec<Frame>, u64)> {
    let mut headers = Headers::new(file, len);
    let mut frames = Vec::new();
    let mut at = 0u64;
    let mut count = None;
    while at < len {
        if count.is_some() {
            // The end marker must be the last frame.
            return None;
        }
        let mut word = [0u8; 4];
        headers.read(at, &mut word)?;
        let magic = u32::from_le_bytes(word);
        let frame_len = if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            // Skippable frame: magic, size, content.
            headers.read(at + 4, &mut word)?;
            let size = u32::from_le_bytes(word);
            if magic == CHECK_MAGIC && size == 8 {
                let mut content = [0u8; 8];
                headers.read(at + 8, &mut content)?;
                let (tag, crc) = content.split_at(4);
                // A check frame belongs to the zstd frame right before it.
                let last = frames.last_mut().filter(|f: &&mut Frame| f.offset + f.len == at && f.crc.is_none());
                match last {
                    Some(frame) if tag == CHECK_TAG => frame.crc = Some(u32::from_le_bytes(crc.try_into().ok()?)),
                    _ => return None,
                }
            } else if magic == END_MARKER_MAGIC && size == 16 {
                let mut content = [0u8; 16];
                headers.read(at + 8, &mut content)?;
                let (tag, number) = content.split_at(8);
                if tag == END_MARKER_TAG {
                    count = Some(u64::from_le_bytes(number.try_into().ok()?));
                }
            }
            8 + u64::from(size)
        } else if magic == ZSTD_MAGIC {
            let frame_len = zstd_frame_len(&mut headers, at)?;
            // Compressed, a frame is at most a little larger than its
            // content; a larger one would not decompress here anyway, and
            // its buffer could exhaust memory.
            if frame_len > MAX_FRAME_CONTENT + (MAX_FRAME_CONTENT >> 12) {
                return None;
            }
            frames.push(Frame { offset: at, len: frame_len, crc: None });
            frame_len
        } else {
            return None;
        };
        at = at.checked_add(frame_len)?;
    }
    // A last frame that claims more bytes than there are.
    if at != len {
        return None;
    }
    // Where there are check frames, every frame has one (else the streaming
    // reader says which is missing).
    if frames.iter().any(|f| f.crc.is_some()) && frames.iter().any(|f| f.crc.is_none()) {
        return None;
    }
    Some((frames, count?))
}

/// Length of the zstd frame at `start`, from its header and block headers
/// (RFC 8878, section 3.1.1).
fn zstd_frame_len(headers: &mut Headers<'_>, start: u64) -> Option<u64> {
    let mut descriptor = [0u8; 1];
    headers.read(start + 4, &mut descriptor)?;
    let [fhd] = descriptor;
    if fhd & 0x08 != 0 {
        // The reserved bit.
        return None;
    }
    let single_segment = fhd & 0x20 != 0;
    let window_descriptor = u64::from(!single_segment);
    let dictionary_id = [0, 1, 2, 4][usize::from(fhd & 3)];
    let content_size = match fhd >> 6 {
        0 => u64::from(single_segment),
        1 => 2,
        2 => 4,
        _ => 8,
    };
    let mut at = start + 5 + window_descriptor + dictionary_id + content_size;
    loop {
        let mut header = [0u8; 3];
        headers.read(at, &mut header)?;
        let header = u32::from(header[0]) | u32::from(header[1]) << 8 | u32::from(header[2]) << 16;
        let size = u64::from(header >> 3);
        let content = match (header >> 1) & 3 {
            // Raw and compressed blocks hold `size` bytes, RLE blocks one.
            0 | 2 => size,
            1 => 1,
            _ => return None,
        };
        at = at.checked_add(3 + content)?;
        if header & 1 == 1 {
            break;
        }
    }
    let checksum = if fhd & 0x04 != 0 { 4 } else { 0 };
    Some(at + checksum - start)
}

/// netcap writes every record's fields in ascending number order (prost
/// does), which lets the record walk stop early.
pub(crate) fn written_by_netcap(header: &netcap_records::Header) -> bool {
    header.producer.starts_with("netcap ")
}

/// Decompresses `frame` into `out` (replacing its content).
fn decompress(decompressor: &mut zstd::bulk::Decompressor<'_>, frame: &[u8], out: &mut Vec<u8>) -> Option<()> {
    out.clear();
    match zstd::zstd_safe::get_frame_content_size(frame).ok()? {
        Some(size) if size <= MAX_FRAME_CONTENT => {
            // The frame's declared size bounds the output (zstd checks);
            // the buffer grows only for a frame larger than any before.
            out.reserve(usize::try_from(size).ok()?);
            decompressor.decompress_to_buffer(frame, out).ok()?;
        }
        Some(_) => return None,
        // No size in the header (a third-party writer): stream it.
        None => *out = zstd::stream::decode_all(frame).ok()?,
    }
    Some(())
}

/// Adds every record of a frame's content; `None` if the content does not
/// end at a record boundary or a record does not decode.
fn add_records(partial: &mut Partial, plan: &Plan<'_>, content: &[u8], ascending: bool) -> Option<u64> {
    let mut at = 0;
    let mut n = 0;
    while at < content.len() {
        let len = varint(content, &mut at)?;
        if len > MAX_RECORD_LEN {
            return None;
        }
        let end = at.checked_add(len as usize).filter(|end| *end <= content.len())?;
        let record = &content[at..end];
        let view =
            if ascending { ConnectionView::decode_ascending(record) } else { ConnectionView::decode(record) }.ok()?;
        partial.add(plan, &view);
        at = end;
        n += 1;
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Attribute, Query};
    use netcap_records::{Connection, FrameCompressor, Header, RecordFileWriter, RecordReader, RecordType};
    use prost::Message;

    fn records(n: u32) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let c = Connection {
                src_ip: vec![10, 0, 0, (i % 7) as u8],
                dst_ip: vec![192, 0, 2, 1],
                dst_port: 443 + i % 3,
                client_bytes: u64::from(i),
                server_bytes: 2 * u64::from(i),
                application_protocol: ["TLS", "DNS", ""][i as usize % 3].into(),
                ..Default::default()
            };
            c.encode_length_delimited(&mut out).unwrap();
        }
        out
    }

    /// Writes the header, then `batches` as frames, then the end marker.
    fn file(dir: &Path, batches: &[&[u8]], count: u64) -> std::path::PathBuf {
        let path = dir.join("Connection.ncap.zst");
        let mut compressor = FrameCompressor::new(1).unwrap();
        let header = Header { record_type: RecordType::Connection as i32, ..Default::default() };
        let mut writer = RecordFileWriter::create(&path, &header, &mut compressor).unwrap();
        for batch in batches {
            writer.write_records(batch, &mut compressor).unwrap();
        }
        writer.finish(count).unwrap();
        path
    }

    fn streamed(path: &Path, plan: &Plan<'_>) -> Partial {
        let mut partial = Partial::new();
        partial.read(plan, RecordReader::open(path).unwrap(), "x");
        partial
    }

    #[test]
    fn parallel_and_streamed_reads_agree() {
        let dir = tempfile::tempdir().unwrap();
        let a = records(500);
        let b = records(300);
        let path = file(dir.path(), &[&a, &b, &a, &b, &a], 2100);
        let query = Query { group: vec![Attribute::Sip, Attribute::App], ..Query::default() };
        let plan = Plan::new(&query);
        let streamed = streamed(&path, &plan).finish(&plan);
        // Frames go to whichever worker is free: any number of threads
        // gives the same answer.
        for threads in 1..=4 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            let plan = Plan::new(&query);
            let parallel = pool
                .install(|| read(&path, &plan))
                .expect("a netcap-written file takes the parallel path")
                .finish(&plan);
            assert_eq!(parallel.rows, streamed.rows, "{threads} threads");
            assert_eq!((parallel.totals, parallel.hits), (streamed.totals, streamed.hits));
            assert_eq!(parallel.connections_read, 2100);
            assert_eq!(parallel.files, 1);
        }
    }

    #[test]
    fn files_netcap_would_not_write_take_the_streaming_path() {
        let dir = tempfile::tempdir().unwrap();
        let query = Query { group: vec![Attribute::Sip], ..Query::default() };
        let plan = Plan::new(&query);
        let a = records(10);
        // A record split across two frames.
        let path = file(dir.path(), &[&a[..25], &a[25..]], 10);
        assert!(read(&path, &plan).is_none());
        assert_eq!(streamed(&path, &plan).finish(&plan).connections_read, 10);
        // A count that does not match.
        let path = file(dir.path(), &[&a], 11);
        assert!(read(&path, &plan).is_none());
        // Truncated: no end marker.
        let path = file(dir.path(), &[&a, &a], 20);
        let data = std::fs::read(&path).unwrap();
        for cut in [data.len() - 24, data.len() - 30, data.len() / 2, 3] {
            std::fs::write(&path, &data[..cut]).unwrap();
            assert!(read(&path, &plan).is_none(), "cut at {cut}");
        }
        // Data after the end marker; an unknown frame type.
        let mut extended = data.clone();
        extended.extend_from_slice(&data[..data.len() - 24]);
        std::fs::write(&path, &extended).unwrap();
        assert!(read(&path, &plan).is_none());
        std::fs::write(&path, [0u8; 64]).unwrap();
        assert!(read(&path, &plan).is_none());
        std::fs::write(&path, []).unwrap();
        assert!(read(&path, &plan).is_none());
    }

    /// The frame walk finds the lengths zstd finds, whatever blocks and
    /// header fields a frame has.
    #[test]
    fn frame_lengths_match_zstd() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frames");
        let text: Vec<u8> = (0..300_000u32).flat_map(|i| format!("{} ", i % 977).into_bytes()).collect();
        let noise: Vec<u8> = (0..300_000u64).map(|i| (i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as u8).collect();
        let inputs: [&[u8]; 5] = [&[], b"a", &text, &noise, &[7u8; 500_000]];
        for input in inputs {
            for checksum in [false, true] {
                for content_size in [false, true] {
                    let mut compressor = zstd::bulk::Compressor::new(1).unwrap();
                    compressor.include_checksum(checksum).unwrap();
                    compressor.include_contentsize(content_size).unwrap();
                    let frame = compressor.compress(input).unwrap();
                    std::fs::write(&path, &frame).unwrap();
                    let file = File::open(&path).unwrap();
                    let expected = zstd::zstd_safe::find_frame_compressed_size(&frame).unwrap() as u64;
                    assert_eq!(
                        zstd_frame_len(&mut Headers::new(&file, frame.len() as u64), 0),
                        Some(expected),
                        "{} bytes {checksum} {content_size}",
                        input.len()
                    );
                }
            }
        }
    }

    /// A frame of a million empty blocks is walked in a few hundred reads,
    /// not a million, and found as long as zstd finds it.
    #[test]
    fn empty_blocks_are_walked_quickly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("frames");
        // Magic, then a descriptor without content size, so a window byte.
        let mut frame = vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x50];
        for _ in 0..1_000_000 {
            frame.extend_from_slice(&[0, 0, 0]);
        }
        frame.extend_from_slice(&[1, 0, 0]);
        assert_eq!(zstd::stream::decode_all(&frame[..]).unwrap(), b"", "a valid frame");
        std::fs::write(&path, &frame).unwrap();
        let file = File::open(&path).unwrap();
        let started = std::time::Instant::now();
        let len = zstd_frame_len(&mut Headers::new(&file, frame.len() as u64), 0);
        assert_eq!(len, Some(zstd::zstd_safe::find_frame_compressed_size(&frame).unwrap() as u64));
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        // One byte short: no frame.
        assert_eq!(zstd_frame_len(&mut Headers::new(&file, frame.len() as u64 - 1), 0), None);
    }
}
