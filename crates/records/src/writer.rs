//! Writing `.ncap.zst` files.
//!
//! Records are compressed in independent, complete zstd frames (one per batch
//! of records), and each frame goes to the file in a single write. A process
//! killed at any moment therefore leaves a file whose every complete frame is
//! readable; compression can run on any thread, since frames concatenate.

use crate::Header;
use prost::Message;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Error writing a record file; names the file.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("zstd compression failed: {0}")]
    Compress(io::Error),
}

/// Magic number of netcap's end marker: a zstd skippable frame (which every
/// zstd decoder ignores), so readers can tell a finished file from one whose
/// writer was interrupted at a frame boundary.
pub(crate) const END_MARKER_MAGIC: u32 = 0x184D_2A5E;
pub(crate) const END_MARKER_TAG: &[u8; 8] = b"NCAPEND\0";
/// Size of the whole end-marker frame.
pub(crate) const END_MARKER_LEN: usize = 24;

/// Magic number of netcap's check frame: a zstd skippable frame written
/// after every zstd frame of a record file, holding the CRC-32 of that
/// frame's compressed bytes. zstd's content checksum covers what a frame
/// decompresses to; this covers the frame's own bytes, so that damage which
/// decompresses to the same content (a flipped bit zstd does not use) is
/// found too. Every zstd decoder skips it.
pub(crate) const CHECK_MAGIC: u32 = 0x184D_2A5C;
pub(crate) const CHECK_TAG: &[u8; 4] = b"NCRC";
/// Size of the whole check frame.
pub(crate) const CHECK_LEN: usize = 16;

/// The check frame of a zstd `frame`: magic, content size 8, tag, CRC-32
/// (IEEE, as zlib's `crc32`) of the frame's bytes (LE).
pub fn check_frame(frame: &[u8]) -> [u8; CHECK_LEN] {
    let mut check = [0u8; CHECK_LEN];
    check[0..4].copy_from_slice(&CHECK_MAGIC.to_le_bytes());
    check[4..8].copy_from_slice(&8u32.to_le_bytes());
    check[8..12].copy_from_slice(CHECK_TAG);
    check[12..16].copy_from_slice(&crc32fast::hash(frame).to_le_bytes());
    check
}

/// The end-marker frame: magic, content size 16, tag, record count (LE).
pub(crate) fn end_marker(records: u64) -> [u8; END_MARKER_LEN] {
    let mut frame = [0u8; END_MARKER_LEN];
    frame[0..4].copy_from_slice(&END_MARKER_MAGIC.to_le_bytes());
    frame[4..8].copy_from_slice(&16u32.to_le_bytes());
    frame[8..16].copy_from_slice(END_MARKER_TAG);
    frame[16..24].copy_from_slice(&records.to_le_bytes());
    frame
}

/// Appends `record` to `buf` with its varint length in front, like prost's
/// `encode_length_delimited`, in one pass over the fields instead of two (a
/// length pass, then the bytes). See [`write_length_delimited`] for `guess`.
pub fn encode_length_delimited(record: &impl prost::Message, buf: &mut Vec<u8>, guess: usize) {
    write_length_delimited(buf, guess, |buf| record.encode_raw(buf));
}

/// Appends what `body` writes to `buf` with its varint length in front: the
/// body is written after a `guess`-byte (1 to 3) length prefix, which is
/// then filled in, or resized when the body needs another prefix length (one
/// move of the body). Guess the prefix the type usually needs: 1 below 128
/// bytes, 2 below 16 KiB.
pub fn write_length_delimited(buf: &mut Vec<u8>, guess: usize, body: impl FnOnce(&mut Vec<u8>)) {
    let guess = guess.clamp(1, 3);
    let start = buf.len();
    buf.resize(start + guess, 0);
    body(buf);
    let len = buf.len() - start - guess;
    let needed = prost::encoding::encoded_len_varint(len as u64);
    if needed != guess {
        let body = start + guess;
        if needed < guess {
            buf.copy_within(body.., start + needed);
            buf.truncate(start + needed + len);
        } else {
            buf.splice(start..start, std::iter::repeat_n(0, needed - guess));
        }
    }
    let mut prefix = &mut buf[start..start + needed];
    prost::encoding::encode_varint(len as u64, &mut prefix);
}

/// Compresses buffers of length-delimited records into complete zstd frames.
pub struct FrameCompressor {
    inner: zstd::bulk::Compressor<'static>,
    level: i32,
}

impl FrameCompressor {
    /// A compressor at zstd `level`; frames carry a content checksum so that
    /// corruption is detected on reading.
    pub fn new(level: i32) -> Result<Self, WriteError> {
        let mut inner = zstd::bulk::Compressor::new(level).map_err(WriteError::Compress)?;
        inner.set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true)).map_err(WriteError::Compress)?;
        Ok(FrameCompressor { inner, level })
    }

    /// The zstd level it compresses at.
    pub fn level(&self) -> i32 {
        self.level
    }

    /// Compresses `records` (already length-delimited) into one frame,
    /// appended to `out`.
    pub fn compress_into(&mut self, records: &[u8], out: &mut Vec<u8>) -> Result<(), WriteError> {
        let bound = zstd::zstd_safe::compress_bound(records.len());
        out.reserve(bound);
        self.inner.compress_to_buffer(records, out).map_err(WriteError::Compress)?;
        Ok(())
    }

    /// Compresses `records` into a new frame.
    pub fn compress(&mut self, records: &[u8]) -> Result<Vec<u8>, WriteError> {
        let mut out = Vec::new();
        self.compress_into(records, &mut out)?;
        Ok(out)
    }
}

/// One `<Type>.ncap.zst` file: the header frame, then whatever frames follow.
pub struct RecordFileWriter {
    path: PathBuf,
    file: File,
    /// A frame and its check frame, for writing them in one call.
    pending: Vec<u8>,
    bytes_written: u64,
    /// Bytes whose writeback to disk has been started.
    writeback_started: u64,
}

/// Written bytes after which the writer asks the kernel to start writing
/// them to disk (Linux), so that the `fdatasync` which ends the file waits
/// for the last few MB only, not for the whole file: a 1 M-packet capture
/// spent 40-65 ms in its final syncs otherwise.
pub(crate) const WRITEBACK_EVERY: u64 = 8 << 20;

/// Starts writeback of a file's byte range without waiting for it; a hint,
/// whose failure changes nothing (the final sync still makes the file
/// durable).
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    let (Ok(offset), Ok(len)) = (i64::try_from(offset), i64::try_from(len)) else { return };
    // SAFETY: sync_file_range reads no memory of ours; the descriptor is
    // open for as long as `file` is borrowed.
    unsafe {
        libc::sync_file_range(file.as_raw_fd(), offset, len, libc::SYNC_FILE_RANGE_WRITE);
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_file: &File, _offset: u64, _len: u64) {}

impl RecordFileWriter {
    /// Creates (truncates) `path` and writes `header` as its first frame.
    pub fn create(path: &Path, header: &Header, compressor: &mut FrameCompressor) -> Result<Self, WriteError> {
        let file = File::create(path).map_err(|source| WriteError::Io { path: path.into(), source })?;
        let mut writer =
            RecordFileWriter { path: path.into(), file, pending: Vec::new(), bytes_written: 0, writeback_started: 0 };
        let frame = compressor.compress(&header.encode_length_delimited_to_vec())?;
        writer.write_frame(&frame)?;
        Ok(writer)
    }

    /// Appends one complete zstd frame (from [`FrameCompressor`]) and its
    /// check frame ([`check_frame`]).
    pub fn write_frame(&mut self, frame: &[u8]) -> Result<(), WriteError> {
        let mut pending = std::mem::take(&mut self.pending);
        pending.clear();
        pending.extend_from_slice(frame);
        pending.extend_from_slice(&check_frame(frame));
        let written = self.write_raw(&pending);
        self.pending = pending;
        written
    }

    /// Appends bytes in one write call.
    fn write_raw(&mut self, bytes: &[u8]) -> Result<(), WriteError> {
        // Unbuffered on purpose: each frame reaches the kernel whole (with
        // its check frame), so a killed process leaves only complete frames
        // behind.
        self.file.write_all(bytes).map_err(|source| WriteError::Io { path: self.path.clone(), source })?;
        self.bytes_written += bytes.len() as u64;
        if self.bytes_written - self.writeback_started >= WRITEBACK_EVERY {
            start_writeback(&self.file, self.writeback_started, self.bytes_written - self.writeback_started);
            self.writeback_started = self.bytes_written;
        }
        Ok(())
    }

    /// Compresses and appends length-delimited `records` as one frame.
    pub fn write_records(&mut self, records: &[u8], compressor: &mut FrameCompressor) -> Result<(), WriteError> {
        if records.is_empty() {
            return Ok(());
        }
        let frame = compressor.compress(records)?;
        self.write_frame(&frame)
    }

    /// Bytes written so far, header and check frames included.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Path of the file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the end marker, flushes the file to stable storage and closes
    /// it. `records` is the number of records written after the header.
    pub fn finish(mut self, records: u64) -> Result<(), WriteError> {
        self.write_raw(&end_marker(records))?;
        self.file.sync_data().map_err(|source| WriteError::Io { path: self.path, source })
    }
}
