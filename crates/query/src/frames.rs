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
use rayon::prelude::*;
use std::path::Path;

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
pub(crate) fn read(path: &Path, plan: &Plan<'_>) -> Option<Partial> {
    let data = std::fs::read(path).ok()?;
    let (frames, count) = split(&data)?;
    let (first, rest) = frames.split_first()?;
    // The header is the first message of the first frame; records may
    // follow it in the same frame.
    let mut decompressor = zstd::bulk::Decompressor::new().ok()?;
    let mut head = Vec::new();
    decompress(&mut decompressor, first, &mut head)?;
    let mut at = 0;
    let header_len = usize::try_from(varint(&head, &mut at)?).ok()?;
    let after_header = at.checked_add(header_len).filter(|end| *end <= head.len())?;
    let header: netcap_records::Header = prost::Message::decode(head.get(at..after_header)?).ok()?;
    let ascending = written_by_netcap(&header);
    let mut partial = Partial::new();
    let records = add_records(&mut partial, plan, head.get(after_header..)?, ascending)?;
    drop(head);
    // One contiguous run of frames per thread: every run has its own group
    // tables, and merging costs about as much as filling, so there are as
    // few as there are threads.
    let runs = rayon::current_num_threads().clamp(1, rest.len().max(1));
    let runs: Vec<(Partial, u64)> = rest
        .par_chunks(rest.len().div_ceil(runs).max(1))
        .map(|run| {
            let mut partial = Partial::new();
            // One context and one buffer per run: a fresh multi-megabyte
            // buffer per frame costs page faults on every page.
            let mut decompressor = zstd::bulk::Decompressor::new().ok()?;
            let mut content = Vec::new();
            let mut n = 0;
            for frame in run {
                decompress(&mut decompressor, frame, &mut content)?;
                n += add_records(&mut partial, plan, &content, ascending)?;
            }
            Some((partial, n))
        })
        .collect::<Option<_>>()?;
    let records = records + runs.iter().map(|(_, n)| n).sum::<u64>();
    if records != count {
        return None;
    }
    let partials = std::iter::once(partial).chain(runs.into_iter().map(|(p, _)| p)).collect();
    let mut partial = Partial::merge_all(partials);
    partial.files = 1;
    Some(partial)
}

/// netcap writes every record's fields in ascending number order (prost
/// does), which lets the record walk stop early.
pub(crate) fn written_by_netcap(header: &netcap_records::Header) -> bool {
    header.producer.starts_with("netcap ")
}

/// Cuts a file into its zstd frames, checking that it ends with netcap's
/// end marker; returns the data frames and the marker's record count.
fn split(data: &[u8]) -> Option<(Vec<&[u8]>, u64)> {
    let mut frames = Vec::new();
    let mut at = 0;
    let mut count = None;
    while at < data.len() {
        let rest = &data[at..];
        let magic = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
        let len = if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
            // Skippable frame: magic, size, content.
            let size = u32::from_le_bytes(rest.get(4..8)?.try_into().ok()?) as usize;
            let len = size.checked_add(8)?;
            let content = rest.get(8..len)?;
            if magic == END_MARKER_MAGIC && size == 16 && &content[..8] == END_MARKER_TAG {
                if at + len != data.len() {
                    return None;
                }
                count = Some(u64::from_le_bytes(content[8..16].try_into().ok()?));
            }
            len
        } else {
            let len = zstd::zstd_safe::find_frame_compressed_size(rest).ok()?;
            frames.push(rest.get(..len)?);
            len
        };
        if len == 0 {
            return None;
        }
        at += len;
    }
    Some((frames, count?))
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

fn varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *buf.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
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
        let path = file(dir.path(), &[&a, &b, &a], 1300);
        let query = Query { group: vec![Attribute::Sip, Attribute::App], ..Query::default() };
        let plan = Plan::new(&query);
        let parallel = read(&path, &plan).expect("a netcap-written file takes the parallel path").finish(&plan);
        let streamed = streamed(&path, &plan).finish(&plan);
        assert_eq!(parallel.rows, streamed.rows);
        assert_eq!(parallel.connections_read, 1300);
        assert_eq!(parallel.files, 1);
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
        assert!(split(&[]).is_none());
    }
}
