//! Reading `.ncap.zst` files.
//!
//! The reader streams: it yields every complete record, and only then reports
//! a truncated or corrupt tail, naming the file, the record index and the
//! compressed byte offset reached.

use crate::writer::{END_MARKER_LEN, END_MARKER_MAGIC, END_MARKER_TAG};
use crate::{Header, RecordType};
use prost::Message;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Longest record accepted; a larger length prefix means corruption.
pub const MAX_RECORD_LEN: u64 = 64 << 20;

/// Error reading a record file. Records are numbered from 1 after the header.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: {source}")]
    Open { file: String, source: io::Error },
    #[error("{file}: not a netcap record file: {reason}")]
    NotRecordFile { file: String, reason: String },
    #[error(
        "{file}: truncated: record {record} is incomplete (the {complete} records before it were read; input ends at compressed byte {offset})"
    )]
    Truncated { file: String, record: u64, complete: u64, offset: u64 },
    #[error(
        "{file}: truncated: the file ends after record {complete} without netcap's end marker (its writer was interrupted)"
    )]
    Unfinished { file: String, complete: u64 },
    #[error("{file}: corrupt at record {record} (compressed byte {offset}): {reason}")]
    Corrupt { file: String, record: u64, offset: u64, reason: String },
}

/// What the reader learns about the compressed input as it passes: bytes
/// read (for error offsets) and its last bytes (for the end marker).
#[derive(Default)]
struct InputState {
    count: AtomicU64,
    tail: Mutex<Vec<u8>>,
}

/// Feeds the zstd decoder and records [`InputState`].
struct CountingReader<R> {
    inner: R,
    state: Arc<InputState>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.state.count.fetch_add(n as u64, Ordering::Relaxed);
        if let Ok(mut tail) = self.state.tail.lock() {
            tail.extend_from_slice(&buf[n.saturating_sub(END_MARKER_LEN)..n]);
            let excess = tail.len().saturating_sub(END_MARKER_LEN);
            tail.drain(..excess);
        }
        Ok(n)
    }
}

/// Streams records out of one `.ncap.zst` file.
pub struct RecordReader<R: Read> {
    file: String,
    input: BufReader<zstd::stream::read::Decoder<'static, BufReader<CountingReader<R>>>>,
    input_state: Arc<InputState>,
    header: Header,
    record: Vec<u8>,
    records_read: u64,
    failed: bool,
}

impl RecordReader<File> {
    /// Opens a record file and reads its header.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| ReadError::Open { file: name.clone(), source })?;
        RecordReader::new(name, file)
    }
}

enum Next {
    Record,
    End,
}

impl<R: Read> RecordReader<R> {
    /// Reads the header from `input`; `name` is used in error messages.
    pub fn new(name: impl Into<String>, input: R) -> Result<Self, ReadError> {
        let file = name.into();
        let state = Arc::new(InputState::default());
        let counting = CountingReader { inner: input, state: state.clone() };
        let decoder = zstd::stream::read::Decoder::new(counting)
            .map_err(|source| ReadError::Open { file: file.clone(), source })?;
        let mut reader = RecordReader {
            file,
            input: BufReader::with_capacity(64 << 10, decoder),
            input_state: state,
            header: Header::default(),
            record: Vec::new(),
            records_read: 0,
            failed: false,
        };
        let not_record_file =
            |reader: &Self, reason: String| ReadError::NotRecordFile { file: reader.file.clone(), reason };
        match reader.read_message() {
            Ok(Next::Record) => {}
            Ok(Next::End) => return Err(not_record_file(&reader, "empty input".into())),
            Err(_) if reader.offset() == 0 => {
                return Err(not_record_file(&reader, "empty input".into()));
            }
            Err(e) => return Err(not_record_file(&reader, e.reason())),
        }
        reader.header = Header::decode(reader.record.as_slice())
            .map_err(|e| not_record_file(&reader, format!("bad header: {e}")))?;
        if RecordType::try_from(reader.header.record_type).is_err()
            || reader.header.record_type == RecordType::Unspecified as i32
        {
            return Err(not_record_file(
                &reader,
                format!("header names unknown record type {}", reader.header.record_type),
            ));
        }
        Ok(reader)
    }

    /// The file's header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Record type of the file, from its header.
    pub fn record_type(&self) -> RecordType {
        RecordType::try_from(self.header.record_type).unwrap_or(RecordType::Unspecified)
    }

    /// Number of records returned so far.
    pub fn records_read(&self) -> u64 {
        self.records_read
    }

    /// The next record's encoded bytes, `None` at a clean end. After an
    /// error, every later call returns `None`.
    pub fn next_raw(&mut self) -> Result<Option<&[u8]>, ReadError> {
        if self.failed {
            return Ok(None);
        }
        match self.read_message() {
            Ok(Next::Record) => {
                self.records_read += 1;
                Ok(Some(&self.record))
            }
            Ok(Next::End) => match self.end_marker_count() {
                Some(count) if count == self.records_read => Ok(None),
                Some(count) => {
                    self.failed = true;
                    Err(ReadError::Corrupt {
                        file: self.file.clone(),
                        record: self.records_read + 1,
                        offset: self.offset(),
                        reason: format!("end marker says {count} records, but {} were read", self.records_read),
                    })
                }
                None => {
                    self.failed = true;
                    Err(ReadError::Unfinished { file: self.file.clone(), complete: self.records_read })
                }
            },
            Err(e) => {
                self.failed = true;
                Err(self.error(e))
            }
        }
    }

    /// The next record decoded as `M`.
    // Generic over the record type, so not an Iterator.
    #[allow(clippy::should_implement_trait)]
    pub fn next<M: Message + Default>(&mut self) -> Result<Option<M>, ReadError> {
        let record = self.records_read + 1;
        let Some(bytes) = self.next_raw()? else {
            return Ok(None);
        };
        M::decode(bytes).map(Some).map_err(|e| ReadError::Corrupt {
            file: self.file.clone(),
            record,
            offset: self.offset(),
            reason: format!("record does not decode: {e}"),
        })
    }

    fn offset(&self) -> u64 {
        self.input_state.count.load(Ordering::Relaxed)
    }

    /// Record count from the end marker, if the input ended with one.
    fn end_marker_count(&self) -> Option<u64> {
        let tail = self.input_state.tail.lock().ok()?;
        let tail: &[u8; END_MARKER_LEN] = tail.as_slice().try_into().ok()?;
        let magic = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]);
        let size = u32::from_le_bytes([tail[4], tail[5], tail[6], tail[7]]);
        if magic != END_MARKER_MAGIC || size != 16 || &tail[8..16] != END_MARKER_TAG {
            return None;
        }
        let mut count = [0u8; 8];
        count.copy_from_slice(&tail[16..24]);
        Some(u64::from_le_bytes(count))
    }

    fn error(&self, e: FrameError) -> ReadError {
        let record = self.records_read + 1;
        let offset = self.offset();
        match e {
            FrameError::Truncated => {
                ReadError::Truncated { file: self.file.clone(), record, complete: self.records_read, offset }
            }
            other => ReadError::Corrupt { file: self.file.clone(), record, offset, reason: other.reason() },
        }
    }

    /// Reads one length-delimited message into `self.record`.
    fn read_message(&mut self) -> Result<Next, FrameError> {
        let Some(len) = self.read_varint()? else {
            return Ok(Next::End);
        };
        if len > MAX_RECORD_LEN {
            return Err(FrameError::Corrupt(format!("record length {len} exceeds {MAX_RECORD_LEN}")));
        }
        self.record.clear();
        let got = (&mut self.input).take(len).read_to_end(&mut self.record).map_err(FrameError::from_io)?;
        if (got as u64) < len {
            return Err(FrameError::Truncated);
        }
        Ok(Next::Record)
    }

    /// A uvarint, or `None` at a clean end of input before its first byte.
    fn read_varint(&mut self) -> Result<Option<u64>, FrameError> {
        let mut value: u64 = 0;
        for i in 0..10 {
            let buf = self.input.fill_buf().map_err(FrameError::from_io)?;
            let Some(&byte) = buf.first() else {
                return if i == 0 { Ok(None) } else { Err(FrameError::Truncated) };
            };
            self.input.consume(1);
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                return Ok(Some(value));
            }
        }
        Err(FrameError::Corrupt("length prefix longer than 10 bytes".into()))
    }
}

enum FrameError {
    Truncated,
    Corrupt(String),
}

impl FrameError {
    fn from_io(e: io::Error) -> Self {
        // zstd reports input that ends inside a frame as UnexpectedEof.
        if e.kind() == io::ErrorKind::UnexpectedEof {
            FrameError::Truncated
        } else {
            FrameError::Corrupt(e.to_string())
        }
    }

    fn reason(&self) -> String {
        match self {
            FrameError::Truncated => "input ends inside a record".into(),
            FrameError::Corrupt(reason) => reason.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FrameCompressor, RecordFileWriter, Tcp};

    fn sample_file(dir: &Path, frames: usize, per_frame: usize) -> std::path::PathBuf {
        let path = dir.join("TCP.ncap.zst");
        let mut compressor = FrameCompressor::new(3).unwrap();
        let header = Header { record_type: RecordType::Tcp as i32, ..Default::default() };
        let mut w = RecordFileWriter::create(&path, &header, &mut compressor).unwrap();
        let mut frame_no = 0;
        for _ in 0..frames {
            let mut buf = Vec::new();
            for _ in 0..per_frame {
                frame_no += 1;
                let r = Tcp { frame: frame_no, src_port: 80, seq: frame_no as u32 * 7, ..Default::default() };
                r.encode_length_delimited(&mut buf).unwrap();
            }
            w.write_records(&buf, &mut compressor).unwrap();
        }
        w.finish(frame_no).unwrap();
        path
    }

    fn read_all(path: &Path) -> (Vec<Tcp>, Option<ReadError>) {
        let bytes = std::fs::read(path).unwrap();
        let mut r = match RecordReader::new("t", bytes.as_slice()) {
            Ok(r) => r,
            Err(e) => return (vec![], Some(e)),
        };
        let mut out = vec![];
        loop {
            match r.next::<Tcp>() {
                Ok(Some(t)) => out.push(t),
                Ok(None) => return (out, None),
                Err(e) => return (out, Some(e)),
            }
        }
    }

    /// A file past the size at which the writer starts writeback early
    /// (WRITEBACK_EVERY) reads back whole.
    #[test]
    fn large_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("TCP.ncap.zst");
        let header = Header { record_type: RecordType::Tcp as i32, ..Default::default() };
        let mut compressor = FrameCompressor::new(1).unwrap();
        let mut w = RecordFileWriter::create(&path, &header, &mut compressor).unwrap();
        // Addresses from xorshift: incompressible, so 12 frames of 1 MiB
        // records make a file of about 12 MiB.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes().to_vec()
        };
        let mut n = 0;
        for _ in 0..12 {
            let mut buf = Vec::new();
            while buf.len() < 1 << 20 {
                n += 1;
                let r = Tcp { frame: n, src_ip: next(), dst_ip: next(), ..Default::default() };
                r.encode_length_delimited(&mut buf).unwrap();
            }
            w.write_records(&buf, &mut compressor).unwrap();
        }
        assert!(w.bytes_written() > crate::writer::WRITEBACK_EVERY, "{}", w.bytes_written());
        w.finish(n).unwrap();
        let (records, err) = read_all(&path);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(records.len() as u64, n);
        assert_eq!(records.last().map(|r| r.frame), Some(n));
    }

    #[test]
    fn round_trip_over_concatenated_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_file(dir.path(), 3, 100);
        let r = RecordReader::open(&path).unwrap();
        assert_eq!(r.record_type(), RecordType::Tcp);
        let (records, err) = read_all(&path);
        assert!(err.is_none());
        assert_eq!(records.len(), 300);
        assert_eq!(records[299].frame, 300);
        assert_eq!(records[299].seq, 2100);
        // Standard zstd tools skip the end marker: the decompressed stream
        // is exactly the delimited messages.
        let plain = zstd::stream::decode_all(std::fs::File::open(&path).unwrap()).unwrap();
        let mut rest = plain.as_slice();
        let header = Header::decode_length_delimited(&mut rest).unwrap();
        assert_eq!(header.record_type, RecordType::Tcp as i32);
        let mut n = 0;
        while !rest.is_empty() {
            Tcp::decode_length_delimited(&mut rest).unwrap();
            n += 1;
        }
        assert_eq!(n, 300);
    }

    #[test]
    fn every_truncation_yields_complete_records_then_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_file(dir.path(), 3, 50);
        let full = std::fs::read(&path).unwrap();
        let mut last_count = 0;
        for cut in (1..full.len()).step_by(7) {
            let cut_path = dir.path().join("cut.ncap.zst");
            std::fs::write(&cut_path, &full[..cut]).unwrap();
            let (records, err) = read_all(&cut_path);
            // Records come out in order and never go backwards as the cut grows.
            for (i, r) in records.iter().enumerate() {
                assert_eq!(r.frame, i as u64 + 1);
            }
            assert!(records.len() >= last_count);
            last_count = records.len();
            let err = err.expect("a cut file must report an error");
            let msg = err.to_string();
            assert!(msg.starts_with("t: "), "{msg}");
            match err {
                ReadError::Truncated { record, complete, .. } => {
                    assert_eq!(record, complete + 1);
                    assert_eq!(complete as usize, records.len());
                }
                ReadError::Unfinished { complete, .. } => {
                    assert_eq!(complete as usize, records.len())
                }
                ReadError::NotRecordFile { .. } => assert!(records.is_empty()),
                ReadError::Corrupt { .. } => {}
                ReadError::Open { .. } => panic!("{msg}"),
            }
        }
    }

    #[test]
    fn corruption_is_reported_not_panicked() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_file(dir.path(), 2, 50);
        let full = std::fs::read(&path).unwrap();
        for pos in (0..full.len()).step_by(5) {
            let mut bad = full.clone();
            bad[pos] ^= 0x5a;
            let p = dir.path().join("bad.ncap.zst");
            std::fs::write(&p, &bad).unwrap();
            let _ = read_all(&p);
        }
    }

    #[test]
    fn garbage_is_not_a_record_file() {
        let err = RecordReader::new("g", &b"hello world, not zstd"[..]).err().unwrap();
        assert!(matches!(err, ReadError::NotRecordFile { .. }), "{err}");
        let err = RecordReader::new("e", &b""[..]).err().unwrap();
        assert!(err.to_string().contains("empty input"), "{err}");
    }
}
