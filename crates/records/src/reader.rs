//! Reading `.ncap.zst` files.
//!
//! The reader takes a file one zstd frame at a time: it finds the frame's
//! end from its frame and block headers (RFC 8878, section 3.1.1),
//! decompresses the whole frame, and yields the frame's records only after
//! zstd has checked the frame's content checksum. A damaged frame is
//! reported with its file, index and byte offset, and skipped: reading
//! resumes at the next frame (found by its magic number when the damaged
//! frame's length cannot be trusted). A truncated file is reported after
//! every record before the cut (docs/format.md, "Reading rules").

use crate::varint::{self, Varint};
use crate::writer::{CHECK_LEN, CHECK_MAGIC, CHECK_TAG, END_MARKER_LEN, END_MARKER_MAGIC, END_MARKER_TAG};
use crate::{Header, RecordType};
use prost::Message;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Longest record accepted; a larger length prefix means corruption.
pub const MAX_RECORD_LEN: u64 = 64 << 20;

/// Largest frame content accepted (decompressed). A whole frame is held in
/// memory while its checksum is checked, so this bounds the reader's
/// memory: about twice this (compressed and decompressed frame) at worst.
/// netcap's frames hold one batch (at most 4096 packets or 4 MiB of packet
/// data), far below it.
pub const MAX_FRAME_CONTENT: u64 = 1 << 30;

/// Largest compressed frame accepted: zstd's compression bound of
/// [`MAX_FRAME_CONTENT`] (incompressible data grows by a block header per
/// 128 KiB, and a little more).
const MAX_FRAME_LEN: u64 = MAX_FRAME_CONTENT + (MAX_FRAME_CONTENT >> 7);

/// zstd's frame magic number.
const ZSTD_MAGIC: u32 = 0xFD2F_B528;
/// Skippable frames have magic numbers 0x184D2A50 to 0x184D2A5F.
const SKIPPABLE_MAGIC_MASK: u32 = 0xFFFF_FFF0;
const SKIPPABLE_MAGIC: u32 = 0x184D_2A50;
/// Skippable frames netcap writes besides the end marker and check frames:
/// the collector's batch markers. In netcap's files, any other skippable
/// frame is damage.
const BATCH_MARKER_MAGIC: u32 = 0x184D_2A5B;
/// Largest block content of a zstd frame (`ZSTD_BLOCKSIZE_MAX`); a block
/// header claiming more is damaged.
const MAX_BLOCK_SIZE: u64 = 128 << 10;
/// Bytes asked of the input at once.
const READ_CHUNK: usize = 64 << 10;

/// Error reading a record file. Records are numbered from 1 after the
/// header; frames from 1 (the header's frame) in file order, skippable
/// frames included; offsets are bytes from the start of the file.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("{file}: {source}")]
    Open { file: String, source: io::Error },
    #[error("{file}: is a directory, not a record file")]
    Directory { file: String },
    #[error("{file}: not a netcap record file: {reason}")]
    NotRecordFile { file: String, reason: String },
    #[error("{file}: read error at compressed byte {offset}: {source}")]
    Io { file: String, offset: u64, source: io::Error },
    #[error(
        "{file}: truncated: the file ends inside frame {frame}, which starts at compressed byte {offset} ({complete} records were read before it)"
    )]
    Truncated { file: String, frame: u64, offset: u64, complete: u64 },
    #[error(
        "{file}: truncated: the file ends after record {complete} without netcap's end marker (its writer was interrupted)"
    )]
    Unfinished { file: String, complete: u64 },
    /// One frame failed its checks; its records were not returned. The
    /// reader continues with the next frame ([`ReadError::is_recoverable`]),
    /// except when the damaged frame is the header's.
    #[error("{file}: frame {frame} at compressed byte {offset} is damaged: {reason}")]
    DamagedFrame { file: String, frame: u64, offset: u64, reason: String },
    #[error("{file}: corrupt at record {record} (frame {frame}, compressed byte {offset}): {reason}")]
    Corrupt { file: String, record: u64, frame: u64, offset: u64, reason: String },
}

impl ReadError {
    /// True for damage confined to one frame or record: reading goes on
    /// (the next call returns the next good record, or `None` at the end).
    /// Every other error ends the file (the reader returns `Ok(None)`
    /// after it).
    pub fn is_recoverable(&self) -> bool {
        matches!(self, ReadError::DamagedFrame { .. } | ReadError::Corrupt { .. })
    }

    /// True if the error is about the file's content (damage or truncation)
    /// rather than about opening or reading it, or it not being a record
    /// file at all.
    pub fn is_damage(&self) -> bool {
        matches!(
            self,
            ReadError::Truncated { .. }
                | ReadError::Unfinished { .. }
                | ReadError::DamagedFrame { .. }
                | ReadError::Corrupt { .. }
        )
    }

    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            ReadError::Open { file, .. }
            | ReadError::Directory { file }
            | ReadError::NotRecordFile { file, .. }
            | ReadError::Io { file, .. }
            | ReadError::Truncated { file, .. }
            | ReadError::Unfinished { file, .. }
            | ReadError::DamagedFrame { file, .. }
            | ReadError::Corrupt { file, .. } => file,
        }
    }
}

/// What the reader has seen of a file so far; complete once the reader
/// returned `Ok(None)`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Frames read, skippable frames and damaged frames included.
    pub frames: u64,
    /// Data frames whose content checksum zstd verified.
    pub verified_frames: u64,
    /// Data frames whose bytes their check frame verified.
    pub checked_frames: u64,
    /// Data frames without a content checksum (accepted only in files not
    /// written by netcap; see docs/format.md).
    pub unverified_frames: u64,
    /// Frames reported as [`ReadError::DamagedFrame`].
    pub damaged_frames: u64,
    /// Record count from the end marker, once it was read.
    pub end_marker: Option<u64>,
    /// Compressed bytes consumed.
    pub bytes: u64,
}

/// The compressed input, buffered so that a frame can be located and
/// decompressed in place, and so that reading can resume inside a damaged
/// frame's bytes.
struct Input<R> {
    inner: R,
    buf: Vec<u8>,
    /// Bytes of `buf` already consumed.
    start: usize,
    /// File offset of `buf[start]`.
    offset: u64,
    eof: bool,
}

impl<R: Read> Input<R> {
    /// Makes `n` bytes past the position available unless the input ends
    /// first; returns how many are available.
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        while self.buf.len() - self.start < n && !self.eof {
            if self.start > 0 && self.start >= self.buf.len() / 2 {
                self.buf.drain(..self.start);
                self.start = 0;
            }
            let missing = n - (self.buf.len() - self.start);
            let old = self.buf.len();
            self.buf.resize(old + missing.max(READ_CHUNK), 0);
            let got = loop {
                match self.inner.read(&mut self.buf[old..]) {
                    Ok(got) => break got,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.buf.truncate(old);
                        return Err(e);
                    }
                }
            };
            self.buf.truncate(old + got);
            self.eof = got == 0;
        }
        Ok(self.buf.len() - self.start)
    }

    fn available(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    fn consume(&mut self, n: usize) {
        let n = n.min(self.buf.len() - self.start);
        self.start += n;
        self.offset += n as u64;
    }

    fn le32(&self, at: usize) -> Option<u32> {
        let bytes = self.available().get(at..at + 4)?;
        Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }

    /// Skips to the next place that starts with a frame magic number netcap
    /// writes (zstd's or its end marker's), at least one byte on. Returns
    /// false if the input ends first (all of it consumed).
    fn resync(&mut self) -> io::Result<bool> {
        self.consume(1);
        loop {
            let available = self.fill(READ_CHUNK)?;
            let found = self.available().windows(4).position(|w| {
                let magic = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
                magic == ZSTD_MAGIC || magic == END_MARKER_MAGIC
            });
            if let Some(at) = found {
                self.consume(at);
                return Ok(true);
            }
            if self.eof {
                self.consume(available);
                return Ok(false);
            }
            // Keep the last three bytes: a magic number may straddle reads.
            self.consume(available.saturating_sub(3));
        }
    }
}

/// Where the frame at the input's position ends, from its headers.
enum Located {
    /// The input ends exactly here.
    End,
    /// A zstd frame of `len` bytes, all of them available.
    Zstd { len: usize, checksum: bool },
    /// A skippable frame of `len` bytes, all of them available.
    Skippable { len: usize, magic: u32 },
    /// The input ends inside the frame.
    Truncated,
    /// The headers are not those of a frame.
    Damaged(String),
}

/// A frame's index and file offset.
#[derive(Clone, Copy, Debug, Default)]
struct FramePlace {
    index: u64,
    offset: u64,
}

/// Streams records out of one `.ncap.zst` file.
pub struct RecordReader<R: Read> {
    file: String,
    input: Input<R>,
    decompressor: zstd::bulk::Decompressor<'static>,
    header: Header,
    /// Decompressed content of the current frame (after any partial record
    /// carried over from the frame before), and the position of the next
    /// record in it.
    content: Vec<u8>,
    at: usize,
    /// The frame `content` came from.
    frame: FramePlace,
    records_read: u64,
    stats: ReadStats,
    /// The file has check frames (one followed the header frame): every
    /// zstd frame must be followed by one and have zstd's content checksum
    /// (netcap's writer), and skippable frames netcap does not write are
    /// damage.
    has_checks: bool,
    /// Where the header's frame ends (its check frame starts).
    after_header: u64,
    /// No more records: the end, or a fatal error, was reached.
    done: bool,
    /// The last frame read was damaged: a missing end marker may have been
    /// in it, so the end of the input is not reported again.
    damaged_tail: bool,
}

impl RecordReader<File> {
    /// Opens a record file and reads its header.
    pub fn open(path: &Path) -> Result<Self, ReadError> {
        let name = path.display().to_string();
        if path.is_dir() {
            return Err(ReadError::Directory { file: name });
        }
        let file = File::open(path).map_err(|source| ReadError::Open { file: name.clone(), source })?;
        RecordReader::new(name, file)
    }
}

/// What reading the next frame gave.
enum Advance {
    /// `content` holds records again.
    Data,
    /// No more frames.
    End,
}

impl<R: Read> RecordReader<R> {
    /// Reads the header from `input`; `name` is used in error messages.
    /// Any error is final: a file whose header frame is damaged, truncated
    /// or not netcap's cannot be read.
    pub fn new(name: impl Into<String>, input: R) -> Result<Self, ReadError> {
        let file = name.into();
        let decompressor =
            zstd::bulk::Decompressor::new().map_err(|source| ReadError::Open { file: file.clone(), source })?;
        let mut reader = RecordReader {
            file,
            input: Input { inner: input, buf: Vec::new(), start: 0, offset: 0, eof: false },
            decompressor,
            header: Header::default(),
            content: Vec::new(),
            at: 0,
            frame: FramePlace::default(),
            records_read: 0,
            stats: ReadStats::default(),
            has_checks: false,
            after_header: 0,
            done: false,
            damaged_tail: false,
        };
        reader.read_header()?;
        Ok(reader)
    }

    fn read_header(&mut self) -> Result<(), ReadError> {
        let not_record_file =
            |file: &str, reason: &str| ReadError::NotRecordFile { file: file.into(), reason: reason.into() };
        let available = self.input.fill(4).map_err(|e| self.io_error(e))?;
        if available == 0 {
            return Err(not_record_file(&self.file, "empty input"));
        }
        let magic = self.input.available().get(..4).map(|b| [b[0], b[1], b[2], b[3]]);
        match magic.map(u32::from_le_bytes) {
            Some(ZSTD_MAGIC) => {}
            // Three of zstd's four magic bytes: a damaged netcap file
            // rather than some other file.
            Some(_)
                if magic.is_some_and(|m| {
                    m.iter().zip(ZSTD_MAGIC.to_le_bytes()).filter(|(a, b)| **a == *b).count() == 3
                }) =>
            {
                return Err(ReadError::DamagedFrame {
                    file: self.file.clone(),
                    frame: 1,
                    offset: 0,
                    reason: "bad magic number".into(),
                });
            }
            Some(_) => return Err(not_record_file(&self.file, "not zstd data")),
            // Fewer than four bytes that begin zstd's magic number: cut.
            None if ZSTD_MAGIC.to_le_bytes().starts_with(self.input.available()) => {
                return Err(ReadError::Truncated { file: self.file.clone(), frame: 1, offset: 0, complete: 0 });
            }
            None => return Err(not_record_file(&self.file, "not zstd data")),
        }
        let damaged = |reader: &Self, reason: String| ReadError::DamagedFrame {
            file: reader.file.clone(),
            frame: 1,
            offset: 0,
            reason,
        };
        match self.advance() {
            Ok(Advance::Data) => {}
            Ok(Advance::End) => return Err(not_record_file(&self.file, "empty input")),
            Err(e) => return Err(e),
        }
        let header_len = match varint::read(&self.content) {
            Varint::Value { value, len } if value <= MAX_RECORD_LEN => {
                let end = len + value as usize;
                if end > self.content.len() {
                    return Err(damaged(self, "the header runs past the end of its frame".into()));
                }
                self.at = end;
                len..end
            }
            _ => return Err(damaged(self, "no header length at the start of the file".into())),
        };
        self.header = Header::decode(&self.content[header_len])
            .map_err(|e| not_record_file(&self.file, &format!("bad header: {e}")))?;
        if RecordType::try_from(self.header.record_type).is_err()
            || self.header.record_type == RecordType::Unspecified as i32
        {
            return Err(not_record_file(
                &self.file,
                &format!("header names unknown record type {}", self.header.record_type),
            ));
        }
        Ok(())
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

    /// Frames, checksums and damage seen so far.
    pub fn stats(&self) -> ReadStats {
        ReadStats { bytes: self.input.offset, ..self.stats }
    }

    /// The next record's encoded bytes, `None` at the end. A
    /// [recoverable](ReadError::is_recoverable) error reports one damaged
    /// frame, whose records are skipped, and the next call goes on after
    /// it; after any other error every later call returns `None`.
    pub fn next_raw(&mut self) -> Result<Option<&[u8]>, ReadError> {
        let (start, end) = loop {
            if self.done {
                return Ok(None);
            }
            let rest = self.content.get(self.at..).unwrap_or_default();
            match varint::read(rest) {
                Varint::Value { value, .. } if value > MAX_RECORD_LEN => {
                    return Err(self.damaged_content(format!("record length {value} exceeds {MAX_RECORD_LEN}")));
                }
                Varint::Value { value, len } => {
                    let start = self.at + len;
                    let end = start + value as usize;
                    if end <= self.content.len() {
                        self.at = end;
                        break (start, end);
                    }
                }
                Varint::Invalid => {
                    return Err(self.damaged_content("length prefix longer than 10 bytes".into()));
                }
                Varint::Incomplete => {}
            }
            // The frame's records are used up (or the last one continues in
            // the next frame).
            match self.advance()? {
                Advance::Data => {}
                Advance::End => return Ok(None),
            }
        };
        self.records_read += 1;
        Ok(Some(&self.content[start..end]))
    }

    /// The next record decoded as `M`.
    // Generic over the record type, so not an Iterator.
    #[allow(clippy::should_implement_trait)]
    pub fn next<M: Message + Default>(&mut self) -> Result<Option<M>, ReadError> {
        let record = self.records_read + 1;
        let Some(bytes) = self.next_raw()? else {
            return Ok(None);
        };
        let decoded = M::decode(bytes);
        // The frame the record came from.
        let frame = self.frame;
        decoded.map(Some).map_err(|e| ReadError::Corrupt {
            file: self.file.clone(),
            record,
            frame: frame.index,
            offset: frame.offset,
            reason: format!("record does not decode: {e}"),
        })
    }

    /// Reports the rest of the current frame's content as damaged (a
    /// checksummed frame whose records do not parse: a writer's fault).
    fn damaged_content(&mut self, reason: String) -> ReadError {
        self.content.clear();
        self.at = 0;
        self.stats.damaged_frames += 1;
        ReadError::DamagedFrame { file: self.file.clone(), frame: self.frame.index, offset: self.frame.offset, reason }
    }

    fn io_error(&self, source: io::Error) -> ReadError {
        if source.kind() == io::ErrorKind::IsADirectory {
            return ReadError::Directory { file: self.file.clone() };
        }
        ReadError::Io { file: self.file.clone(), offset: self.input.offset, source }
    }

    /// Ends the file with `error`.
    fn fail(&mut self, error: ReadError) -> ReadError {
        self.done = true;
        self.content.clear();
        self.at = 0;
        error
    }

    /// Reads frames up to the next data frame, into `content` after the
    /// unread bytes of the current one (a record that continues there).
    fn advance(&mut self) -> Result<Advance, ReadError> {
        loop {
            let mut place = FramePlace { index: self.stats.frames + 1, offset: self.input.offset };
            // A frame whose records are lost to damage reported at its check
            // frame.
            let mut skipped = None;
            let located = self.locate().map_err(|e| self.io_error(e))?;
            let damage = match located {
                Located::End => return self.at_end(),
                Located::Truncated => {
                    // The last frame's headers run past the end: a cut
                    // file, unless they were damaged and a frame follows.
                    self.stats.frames += 1;
                    if place.index > 1 && self.input.resync().map_err(|e| self.io_error(e))? {
                        "its headers give a length past the next frame".to_string()
                    } else {
                        self.input.consume(usize::MAX);
                        let complete = self.records_read;
                        return Err(self.fail(ReadError::Truncated {
                            file: self.file.clone(),
                            frame: place.index,
                            offset: place.offset,
                            complete,
                        }));
                    }
                }
                Located::Damaged(reason) => {
                    self.stats.frames += 1;
                    self.input.resync().map_err(|e| self.io_error(e))?;
                    reason
                }
                Located::Skippable { len, magic } => {
                    self.stats.frames += 1;
                    if magic == END_MARKER_MAGIC {
                        match self.end_marker(len) {
                            Ok(count) => {
                                self.input.consume(len);
                                self.stats.end_marker = Some(count);
                                return self.after_end_marker(place, count);
                            }
                            Err(reason) => {
                                self.input.resync().map_err(|e| self.io_error(e))?;
                                reason
                            }
                        }
                    } else if magic == CHECK_MAGIC {
                        // Check frames follow their zstd frame, and are
                        // read with it.
                        self.input.consume(len);
                        "a check frame without a frame before it".to_string()
                    } else if self.has_checks && magic != BATCH_MARKER_MAGIC {
                        self.input.resync().map_err(|e| self.io_error(e))?;
                        format!("skippable frame of magic {magic:#010x}, which netcap does not write")
                    } else {
                        // Other skippable frames are ignored, as by zstd.
                        self.input.consume(len);
                        continue;
                    }
                }
                Located::Zstd { len, checksum } => {
                    self.stats.frames += 1;
                    match self.decompress(len, checksum) {
                        Ok(()) => match self.check(len, place)? {
                            Ok(checked) => {
                                if checksum {
                                    self.stats.verified_frames += 1;
                                } else {
                                    self.stats.unverified_frames += 1;
                                }
                                self.stats.checked_frames += u64::from(checked);
                                self.frame = place;
                                self.damaged_tail = false;
                                return Ok(Advance::Data);
                            }
                            Err((check_place, reason)) => {
                                // The frame decompressed, but its check
                                // failed: its records are not returned.
                                if check_place.index != place.index {
                                    skipped = Some(place.index);
                                }
                                place = check_place;
                                reason
                            }
                        },
                        Err(reason) => {
                            // Resume right after the frame if a frame starts
                            // there, else at the next magic number.
                            let next = self.input.le32(len);
                            if next.is_some_and(|m| m == ZSTD_MAGIC || m == END_MARKER_MAGIC) {
                                self.input.consume(len);
                            } else {
                                self.input.resync().map_err(|e| self.io_error(e))?;
                            }
                            reason
                        }
                    }
                }
            };
            // A damaged frame: what it held is lost, and so is the start
            // of a record continued from the frame before.
            self.content.clear();
            self.at = 0;
            self.stats.damaged_frames += 1;
            self.damaged_tail = true;
            let reason = match skipped {
                Some(frame) => format!("{damage}; the records of frame {frame} were skipped"),
                None => damage,
            };
            let error =
                ReadError::DamagedFrame { file: self.file.clone(), frame: place.index, offset: place.offset, reason };
            if place.index == 1 || skipped == Some(1) {
                // Without its header frame, a file cannot be read.
                return Err(self.fail(error));
            }
            return Err(error);
        }
    }

    /// The input ended cleanly at a frame boundary.
    fn at_end(&mut self) -> Result<Advance, ReadError> {
        let partial = self.at < self.content.len();
        let complete = self.records_read;
        if partial {
            // A record continued past the last frame.
            let frame = self.stats.frames + 1;
            let offset = self.input.offset;
            return Err(self.fail(ReadError::Truncated { file: self.file.clone(), frame, offset, complete }));
        }
        self.done = true;
        if self.damaged_tail || self.stats.frames == 0 {
            // A missing end marker was reported as damage already (or the
            // header frame is still to come: empty input).
            return Ok(Advance::End);
        }
        Err(self.fail(ReadError::Unfinished { file: self.file.clone(), complete }))
    }

    /// After netcap's end marker: the count must match and nothing may
    /// follow.
    fn after_end_marker(&mut self, place: FramePlace, count: u64) -> Result<Advance, ReadError> {
        let complete = self.records_read;
        if self.at < self.content.len() {
            return Err(self.fail(ReadError::Truncated {
                file: self.file.clone(),
                frame: place.index,
                offset: place.offset,
                complete,
            }));
        }
        let trailing = self.input.fill(1).map_err(|e| self.io_error(e))?;
        if trailing > 0 {
            self.stats.frames += 1;
            self.stats.damaged_frames += 1;
            let offset = self.input.offset;
            self.input.consume(usize::MAX);
            return Err(self.fail(ReadError::DamagedFrame {
                file: self.file.clone(),
                frame: place.index + 1,
                offset,
                reason: "data after netcap's end marker".into(),
            }));
        }
        self.done = true;
        // Records lost to damage were reported already; the count is
        // checked where nothing was lost.
        if count != complete && self.stats.damaged_frames == 0 {
            return Err(self.fail(ReadError::Corrupt {
                file: self.file.clone(),
                record: complete + 1,
                frame: place.index,
                offset: place.offset,
                reason: format!("end marker says {count} records, but {complete} were read"),
            }));
        }
        Ok(Advance::End)
    }

    /// Checks the zstd frame of `len` bytes at the position (at `place`)
    /// against the check frame after it, and consumes both. `Ok(true)` if
    /// a check frame verified it, `Ok(false)` if the file has no check
    /// frames; else the place to report and why.
    #[allow(clippy::type_complexity)]
    fn check(&mut self, len: usize, place: FramePlace) -> Result<Result<bool, (FramePlace, String)>, ReadError> {
        let available = self.input.fill(len + CHECK_LEN).map_err(|e| self.io_error(e))?;
        let bytes = self.input.available();
        let check_place = FramePlace { index: place.index + 1, offset: place.offset + len as u64 };
        if place.index == 1 {
            self.after_header = check_place.offset;
        }
        let is_check = self.input.le32(len) == Some(CHECK_MAGIC);
        if is_check || self.has_checks && available < len + CHECK_LEN {
            self.stats.frames += 1;
            if available < len + CHECK_LEN {
                self.input.consume(usize::MAX);
                let complete = self.records_read;
                return Err(self.fail(ReadError::Truncated {
                    file: self.file.clone(),
                    frame: check_place.index,
                    offset: check_place.offset,
                    complete,
                }));
            }
            let check = bytes.get(len..len + CHECK_LEN).filter(|_| is_check);
            let Some(check) = check.filter(|c| c[4..8] == 8u32.to_le_bytes() && &c[8..12] == CHECK_TAG) else {
                self.input.consume(len);
                self.input.resync().map_err(|e| self.io_error(e))?;
                return Ok(Err((check_place, "damaged check frame".into())));
            };
            let crc = u32::from_le_bytes([check[12], check[13], check[14], check[15]]);
            let matches = crc == crc32fast::hash(&bytes[..len]);
            self.input.consume(len + CHECK_LEN);
            if !self.has_checks && place.index > 1 {
                // Check frames, but none after the header's frame: it was
                // damaged, and the header cannot be trusted.
                return Err(self.fail(ReadError::DamagedFrame {
                    file: self.file.clone(),
                    frame: 2,
                    offset: self.after_header,
                    reason: "the header frame's check frame is missing or damaged".into(),
                }));
            }
            self.has_checks = true;
            if !matches {
                return Ok(Err((place, "its bytes do not match the CRC-32 of its check frame".into())));
            }
            return Ok(Ok(true));
        }
        if !self.has_checks {
            self.input.consume(len);
            return Ok(Ok(false));
        }
        self.input.consume(len);
        self.stats.frames += 1;
        let next = self.input.le32(0);
        if !next.is_some_and(|m| m == ZSTD_MAGIC || m == END_MARKER_MAGIC) {
            self.input.resync().map_err(|e| self.io_error(e))?;
        }
        Ok(Err((check_place, "missing or damaged check frame".into())))
    }

    /// The record count of the end marker frame of `len` bytes at the
    /// position, or why it is not one.
    fn end_marker(&self, len: usize) -> Result<u64, String> {
        let bytes = self.input.available();
        match bytes.get(..END_MARKER_LEN) {
            Some(frame) if len == END_MARKER_LEN && &frame[8..16] == END_MARKER_TAG => {
                let mut count = [0u8; 8];
                count.copy_from_slice(&frame[16..24]);
                Ok(u64::from_le_bytes(count))
            }
            _ => Err("damaged end marker".into()),
        }
    }

    /// Locates the frame at the input's position (reading all of it).
    fn locate(&mut self) -> io::Result<Located> {
        let available = self.input.fill(8)?;
        if available == 0 {
            return Ok(Located::End);
        }
        let Some(magic) = self.input.le32(0) else {
            return Ok(Located::Truncated);
        };
        if magic == ZSTD_MAGIC {
            return self.locate_zstd();
        }
        if magic & SKIPPABLE_MAGIC_MASK != SKIPPABLE_MAGIC {
            return Ok(Located::Damaged("no frame starts here (bad magic number)".into()));
        }
        let Some(size) = self.input.le32(4) else {
            return Ok(Located::Truncated);
        };
        let len = 8 + u64::from(size);
        if magic == END_MARKER_MAGIC && len != END_MARKER_LEN as u64 {
            return Ok(Located::Damaged("damaged end marker".into()));
        }
        if len > MAX_FRAME_LEN {
            return Ok(Located::Damaged(format!("skippable frame of {len} bytes, larger than {MAX_FRAME_LEN}")));
        }
        let len = len as usize;
        if self.input.fill(len)? < len {
            return Ok(Located::Truncated);
        }
        Ok(Located::Skippable { len, magic })
    }

    /// Length of the zstd frame at the position, from its header and block
    /// headers (RFC 8878, section 3.1.1).
    fn locate_zstd(&mut self) -> io::Result<Located> {
        if self.input.fill(5)? < 5 {
            return Ok(Located::Truncated);
        }
        let descriptor = self.input.available()[4];
        if descriptor & 0x08 != 0 {
            return Ok(Located::Damaged("reserved bit set in the frame header".into()));
        }
        let single_segment = descriptor & 0x20 != 0;
        let window_descriptor = usize::from(!single_segment);
        let dictionary_id = [0, 1, 2, 4][usize::from(descriptor & 3)];
        let content_size = match descriptor >> 6 {
            0 => usize::from(single_segment),
            1 => 2,
            2 => 4,
            _ => 8,
        };
        let checksum = descriptor & 0x04 != 0;
        let mut len = 5 + window_descriptor + dictionary_id + content_size;
        loop {
            if self.input.fill(len + 3)? < len + 3 {
                return Ok(Located::Truncated);
            }
            let header = &self.input.available()[len..len + 3];
            let header = u32::from(header[0]) | u32::from(header[1]) << 8 | u32::from(header[2]) << 16;
            let size = u64::from(header >> 3);
            if size > MAX_BLOCK_SIZE {
                return Ok(Located::Damaged(format!("block of {size} bytes, larger than zstd's {MAX_BLOCK_SIZE}")));
            }
            let content = match (header >> 1) & 3 {
                // Raw and compressed blocks hold `size` bytes, RLE blocks one.
                0 | 2 => size as usize,
                1 => 1,
                _ => return Ok(Located::Damaged("reserved block type".into())),
            };
            len += 3 + content;
            if len as u64 > MAX_FRAME_LEN {
                return Ok(Located::Damaged(format!("frame larger than {MAX_FRAME_LEN} bytes")));
            }
            if header & 1 == 1 {
                break;
            }
        }
        if checksum {
            len += 4;
        }
        if self.input.fill(len)? < len {
            return Ok(Located::Truncated);
        }
        Ok(Located::Zstd { len, checksum })
    }

    /// Decompresses the located frame of `len` bytes into `content`, after
    /// the unread bytes of the frame before; zstd checks the content
    /// checksum and the declared content size.
    fn decompress(&mut self, len: usize, checksum: bool) -> Result<(), String> {
        if !checksum && self.has_checks {
            return Err("no content checksum, which netcap writes in every frame".into());
        }
        let frame = &self.input.available()[..len];
        // Keep a record that continues from the frame before.
        self.content.drain(..self.at.min(self.content.len()));
        self.at = 0;
        let keep = self.content.len();
        let result = match zstd::zstd_safe::get_frame_content_size(frame) {
            Ok(Some(size)) if size > MAX_FRAME_CONTENT => {
                Err(format!("frame content of {size} bytes, larger than {MAX_FRAME_CONTENT}"))
            }
            Ok(Some(size)) => {
                self.content.reserve(size as usize);
                let mut out = io::Cursor::new(&mut self.content);
                out.set_position(keep as u64);
                self.decompressor.decompress_to_buffer(frame, &mut out).map(drop).map_err(|e| e.to_string())
            }
            // No size in the header (a third-party writer): stream it,
            // bounded.
            Ok(None) => (|| {
                let decoder = zstd::stream::read::Decoder::with_buffer(frame)?.single_frame();
                let got = decoder.take(MAX_FRAME_CONTENT + 1).read_to_end(&mut self.content)?;
                if got as u64 > MAX_FRAME_CONTENT {
                    return Err(io::Error::other(format!("frame content larger than {MAX_FRAME_CONTENT}")));
                }
                Ok(())
            })()
            .map_err(|e| e.to_string()),
            Err(_) => Err("bad frame header".into()),
        };
        if result.is_err() {
            self.content.truncate(keep);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{FrameCompressor, RecordFileWriter, Tcp};

    fn write_file(path: &Path, producer: &str, frames: usize, per_frame: usize) {
        let mut compressor = FrameCompressor::new(3).unwrap();
        let header = Header { record_type: RecordType::Tcp as i32, producer: producer.into(), ..Default::default() };
        let mut w = RecordFileWriter::create(path, &header, &mut compressor).unwrap();
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
    }

    fn sample_file(dir: &Path, frames: usize, per_frame: usize) -> std::path::PathBuf {
        let path = dir.join("TCP.ncap.zst");
        write_file(&path, "netcap test", frames, per_frame);
        path
    }

    /// Reads to the first error.
    fn read_all(path: &Path) -> (Vec<Tcp>, Option<ReadError>) {
        let bytes = std::fs::read(path).unwrap();
        read_bytes(&bytes)
    }

    fn read_bytes(bytes: &[u8]) -> (Vec<Tcp>, Option<ReadError>) {
        let mut r = match RecordReader::new("t", bytes) {
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

    /// Reads past recoverable errors to the end, as `dump` does.
    fn read_through(bytes: &[u8]) -> (Vec<Tcp>, Vec<ReadError>, Option<ReadStats>) {
        let mut r = match RecordReader::new("t", bytes) {
            Ok(r) => r,
            Err(e) => return (vec![], vec![e], None),
        };
        let (mut out, mut errors) = (vec![], vec![]);
        loop {
            match r.next::<Tcp>() {
                Ok(Some(t)) => out.push(t),
                Ok(None) => break,
                Err(e) => {
                    let recoverable = e.is_recoverable();
                    errors.push(e);
                    if !recoverable {
                        assert!(matches!(r.next_raw(), Ok(None)), "records after a final error");
                        break;
                    }
                }
            }
        }
        (out, errors, Some(r.stats()))
    }

    /// Start offsets of the frames of a clean file (data frames as zstd
    /// finds them, then the end marker).
    fn frame_starts(bytes: &[u8]) -> Vec<usize> {
        let mut starts = vec![];
        let mut at = 0;
        while at < bytes.len() {
            starts.push(at);
            let len = zstd::zstd_safe::find_frame_compressed_size(&bytes[at..]).unwrap();
            at += len;
        }
        starts
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
        let reader = {
            let mut r = RecordReader::open(&path).unwrap();
            while r.next_raw().unwrap().is_some() {}
            r
        };
        let stats = reader.stats();
        assert_eq!(stats.frames, 27, "header, 12 data frames, their check frames, end marker");
        assert_eq!(stats.verified_frames, 13);
        assert_eq!(stats.checked_frames, 13);
        assert_eq!(stats.unverified_frames, 0);
        assert_eq!(stats.damaged_frames, 0);
        assert_eq!(stats.end_marker, Some(n));
        assert_eq!(stats.bytes, std::fs::metadata(&path).unwrap().len());
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

    /// A stream cut into frames anywhere (records crossing frames, the way
    /// a streaming writer would cut them, without checksums), from a writer
    /// that is not netcap: read whole, its frames counted as unverified.
    #[test]
    fn records_crossing_frames_of_other_writers_read_whole() {
        let header = Header { record_type: RecordType::Tcp as i32, producer: "other".into(), ..Default::default() };
        let mut plain = header.encode_length_delimited_to_vec();
        for n in 1..=200u64 {
            Tcp { frame: n, seq: 9, ..Default::default() }.encode_length_delimited(&mut plain).unwrap();
        }
        let mut file = Vec::new();
        for piece in plain.chunks(37) {
            // Streaming encoder: no content size, no checksum.
            let mut encoder = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
            encoder.include_checksum(false).unwrap();
            encoder.include_contentsize(false).unwrap();
            std::io::Write::write_all(&mut encoder, piece).unwrap();
            file.extend(encoder.finish().unwrap());
        }
        file.extend(crate::writer::end_marker(200));
        let (records, errors, stats) = read_through(&file);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 200);
        assert_eq!(records[199].frame, 200);
        let stats = stats.unwrap();
        assert_eq!(stats.unverified_frames, plain.chunks(37).len() as u64);
        assert_eq!(stats.verified_frames, 0);
        // So are such frames in files of netcap's producer without check
        // frames (the collector stores agents' frames verbatim).
        let header = Header { producer: "netcap 1".into(), ..header };
        let mut plain = header.encode_length_delimited_to_vec();
        Tcp { frame: 1, ..Default::default() }.encode_length_delimited(&mut plain).unwrap();
        let mut file = zstd::bulk::compress(&plain, 1).unwrap();
        file.extend(crate::writer::end_marker(1));
        let (records, errors, _) = read_through(&file);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(records.len(), 1);
    }

    #[test]
    fn every_truncation_yields_complete_records_then_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_file(dir.path(), 3, 50);
        let full = std::fs::read(&path).unwrap();
        let starts = frame_starts(&full);
        let mut last_count = 0;
        for cut in 1..full.len() {
            let (records, err) = read_bytes(&full[..cut]);
            // Records come out in order and never go backwards as the cut grows.
            for (i, r) in records.iter().enumerate() {
                assert_eq!(r.frame, i as u64 + 1);
            }
            assert!(records.len() >= last_count);
            last_count = records.len();
            let err = err.expect("a cut file must report an error");
            let msg = err.to_string();
            assert!(msg.starts_with("t: "), "{msg}");
            assert!(err.is_damage(), "{msg}");
            // The frame the cut is in.
            let index = starts.iter().rposition(|s| *s <= cut).unwrap();
            match err {
                // Frames alternate: zstd frame, its check frame (index odd).
                ReadError::Truncated { frame, offset, complete, .. } if starts[index] == cut && index % 2 == 0 => {
                    panic!("cut at a frame boundary {cut}: {frame} {offset} {complete}")
                }
                ReadError::Truncated { frame, offset, complete, .. } => {
                    assert_eq!((frame as usize, offset as usize), (index + 1, starts[index]), "cut {cut}");
                    assert_eq!(complete as usize, records.len());
                    assert_eq!(records.len(), (index / 2).saturating_sub(1) * 50, "cut {cut}");
                }
                ReadError::Unfinished { complete, .. } => {
                    assert_eq!(starts[index], cut);
                    assert_eq!(complete as usize, records.len());
                }
                _ => panic!("cut {cut}: {msg}"),
            }
        }
    }

    /// The bar of issue 20: every byte of a file flipped in turn; no record
    /// that differs from the original is ever returned, every damage is
    /// reported at the start of the frame it is in, and the records of the
    /// other frames are all read.
    #[test]
    fn every_flipped_byte_is_reported_at_its_frame_and_no_altered_record_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_file(dir.path(), 3, 40);
        let full = std::fs::read(&path).unwrap();
        let starts = frame_starts(&full);
        assert_eq!(starts.len(), 9, "header, 3 data frames, each with its check frame, end marker");
        let (original, _, _) = read_through(&full);
        assert_eq!(original.len(), 120);
        for pos in 0..full.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = full.clone();
                bad[pos] ^= flip;
                // Index in `starts` of the damaged frame: 0 header, 2k data
                // frame k, 2k + 1 its check frame, 8 end marker.
                let index = starts.iter().rposition(|s| *s <= pos).unwrap();
                let (records, errors, _) = read_through(&bad);
                let context = format!("byte {pos} ^ {flip:#x} (frame {} at {})", index + 1, starts[index]);
                assert!(!errors.is_empty(), "{context}: no error");
                for e in &errors {
                    let place = match e {
                        ReadError::DamagedFrame { frame, offset, .. }
                        | ReadError::Truncated { frame, offset, .. }
                        | ReadError::Corrupt { frame, offset, .. } => (*frame as usize, *offset as usize),
                        other => panic!("{context}: {other}"),
                    };
                    let at_damage = place == (index + 1, starts[index]);
                    // A CRC that does not match is reported at the frame
                    // it checks.
                    let at_checked =
                        index % 2 == 1 && place == (index, starts[index - 1]) && e.to_string().contains("CRC-32");
                    assert!(at_damage || at_checked, "{context}: {e}");
                }
                // Whatever is read is an original record: all those of the
                // frames that were not damaged.
                let expected: Vec<&Tcp> = match index {
                    0 => vec![],
                    // The header's check frame: the header is skipped, or,
                    // where the check frame is not recognised as one, read.
                    1 if records.is_empty() => vec![],
                    1 | 8 => original.iter().collect(),
                    _ => original.iter().enumerate().filter(|(i, _)| i / 40 + 1 != index / 2).map(|(_, r)| r).collect(),
                };
                assert_eq!(records.iter().collect::<Vec<_>>(), expected, "{context}: {errors:?}");
            }
        }
    }

    #[test]
    fn garbage_is_not_a_record_file() {
        let err = RecordReader::new("g", &b"hello world, not zstd"[..]).err().unwrap();
        assert!(matches!(err, ReadError::NotRecordFile { .. }), "{err}");
        assert!(!err.is_damage());
        let err = RecordReader::new("e", &b""[..]).err().unwrap();
        assert!(err.to_string().contains("empty input"), "{err}");
        let err = RecordReader::new("c", &[0x28, 0xb5][..]).err().unwrap();
        assert!(matches!(err, ReadError::Truncated { frame: 1, offset: 0, complete: 0, .. }), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let err = RecordReader::open(dir.path()).err().unwrap();
        assert_eq!(err.to_string(), format!("{}: is a directory, not a record file", dir.path().display()));
        // A directory opened by the caller fails on the first read.
        let file = File::open(dir.path()).unwrap();
        let err = RecordReader::new("d", file).err().unwrap();
        assert!(matches!(err, ReadError::Directory { .. }), "{err}");
    }

    /// Frames and bytes after the end marker, and an end marker whose count
    /// disagrees, are reported.
    #[test]
    fn end_marker_checks() {
        let dir = tempfile::tempdir().unwrap();
        let path = sample_file(dir.path(), 2, 10);
        let full = std::fs::read(&path).unwrap();
        let mut longer = full.clone();
        longer.extend_from_slice(b"junk");
        let (records, errors, _) = read_through(&longer);
        assert_eq!(records.len(), 20);
        assert_eq!(errors.len(), 1);
        assert!(
            matches!(&errors[0], ReadError::DamagedFrame { frame: 8, offset, .. } if *offset as usize == full.len()),
            "{}",
            errors[0]
        );
        let mut miscounted = full.clone();
        let at = full.len() - 8;
        miscounted[at..].copy_from_slice(&21u64.to_le_bytes());
        let (records, errors, _) = read_through(&miscounted);
        assert_eq!(records.len(), 20);
        assert_eq!(
            errors[0].to_string(),
            format!(
                "t: corrupt at record 21 (frame 7, compressed byte {}): end marker says 21 records, but 20 were read",
                full.len() - 24
            )
        );
    }
}
