//! Files carried in streams: HTTP bodies now, mail attachments and FTP
//! transfers next. One machinery for all of them: the protocol parser opens
//! a file ([`Files::open`]), writes the content as sent with transfer
//! encoding undone ([`OpenFile::write`]: the parser de-chunks), reports gaps
//! ([`OpenFile::gap`]) and finishes it ([`OpenFile::finish`]); this module
//! undoes the content encoding ([`decode`]: gzip, deflate in both framings,
//! br, stacked) in bounded chunks, hashes the decoded bytes as they stream
//! (MD5, SHA-1, SHA-256), sniffs the MIME type from the first bytes
//! ([`sniff`]), optionally extracts the content under `-files DIR`, and
//! emits the `File` record.
//!
//! # The File record
//!
//! - `seen_bytes`: decoded bytes; `encoded_bytes`: bytes as sent;
//!   `missing_bytes`: bytes as sent that were missing (gaps).
//! - `complete` is true exactly when the parser said the content ended where
//!   its framing said (`finish(cx, true)`), no byte was missing, the content
//!   was not cut by the size limit (`truncated`) and its content encoding
//!   was undone (`!decode_failed`).
//! - `md5`, `sha1`, `sha256` (lower-case hex of the decoded content) are set
//!   only for complete files, and only those [`FileConfig::hashes`] asks
//!   for (`-file-hashes`, default SHA-1 and SHA-256; SHA-256 always when
//!   extracting).
//! - `decode_failed`: the content encoding was not undone: an unknown
//!   coding or more than [`decode::MAX_CODINGS`] of them, or no decoder free
//!   ([`FileConfig::max_decoders`]): then the bytes as sent are what is
//!   sniffed, counted in `seen_bytes` and extracted; or a corrupt stream
//!   (bad header or checksum, bytes after its end, a stream that had not
//!   ended when the content had): decoding stops there, and what was
//!   decoded before is what is sniffed (the bytes as sent if nothing was),
//!   counted and extracted. A stream cut by the transport (the content
//!   ended early, or a gap) is incomplete, not `decode_failed`: decoding
//!   stops at a gap, as nothing after it can be decoded.
//! - `content_encoding`: the declared codings, normalised (lower case,
//!   "x-gzip" as "gzip", without "identity"), in declared order, e.g.
//!   "gzip, br"; whether they were undone is `decode_failed`.
//! - `mime_type`: sniffed from the first [`sniff::SNIFF_BYTES`] decoded
//!   bytes; `declared_mime_type`: the declared type without parameters, in
//!   lower case.
//! - Endpoints and Community ID are the connection's, `src` its client,
//!   whichever way the file went (`direction` says that); `timestamp_ns`
//!   and `frame` are of the packet of the first content byte (the one given
//!   to [`Files::open`]), `last_*` of the last one written.
//!
//! # Limits
//!
//! - [`FileConfig::max_bytes`] (default 100 MiB, `-file-max-bytes`):
//!   decoded bytes per file. Beyond, the file is `truncated` (no hashes,
//!   not complete), decoding, hashing and extraction stop, and the rest is
//!   only counted in `encoded_bytes`: a decompression bomb costs the work of
//!   `max_bytes` of output. For identity content a gap's bytes count too
//!   (they are a hole in the extracted file).
//! - [`FileConfig::max_decoders`] (default [`DEFAULT_MAX_DECODERS`] = 4
//!   per shard, 256 over the 64 shards): content decoders open at once in
//!   a shard, taken at a file's first content byte and given back when the
//!   file finishes, fails or stops. A deflate or gzip decoder holds about
//!   44 KiB and every stage has a 32 KiB output buffer, so 256 gzip
//!   decoders take about 20 MiB; a brotli decoder's window grows with its
//!   output up to 16 MiB (large-window streams are refused), so the
//!   theoretical worst case, 256 brotli bodies each past 16 MiB at the same
//!   moment, is about 4.3 GiB: the bound a hostile capture can reach, far
//!   above what real traffic does. A file that finds no decoder free is
//!   `decode_failed` (counted in [`FileCounters::decoders_busy`]).
//! - Sniffing buffers at most [`sniff::SNIFF_BYTES`] (4 KiB) per file until
//!   they are seen (and the same of the bytes as sent while a decoder has
//!   produced nothing yet, for the MIME type of content that does not
//!   decode); extraction buffers [`extract::WRITE_BUFFER`] (32 KiB) per
//!   file. [`OpenFile::memory`] reports all of it.
//!
//! # The extraction directory (`-files DIR`)
//!
//! ```text
//! DIR/<sha256>               complete files, named by the SHA-256 of their
//!                            decoded content: each content once
//! DIR/incomplete/<file_id>   incomplete, truncated or undecodable files
//!                            (what was decoded of them; identity content
//!                            has holes of zeros where bytes were missing)
//! DIR/.partial/<shard>-<n>   files being received (moved away at finish)
//! ```
//!
//! The File record's `extracted` is the path relative to DIR
//! (`<sha256>` or `incomplete/<file_id>`), empty if nothing was extracted
//! (no content, or an error). Names come from the shard number, a counter,
//! the hash and the file ID only (checked to be `[A-Za-z0-9._-]`); file
//! names from the traffic are the record's `filename`, never part of a
//! path. Directories are created when first needed. Extraction errors (disk
//! full, permissions) are counted ([`FileCounters::extract_errors`]), stop
//! that file's extraction and remove its partial content; they never fail
//! the capture, and hashing goes on. An `incomplete/<file_id>` left by an
//! earlier capture into the same DIR is replaced. Content without a byte is
//! not extracted.

pub mod decode;
pub mod extract;
pub mod sniff;

use crate::emit::ConnRecord;
use crate::protocols::{Direction, ParseContext};
use crate::{ConnInfo, PacketTime};
use decode::{Coding, Flow, Pipeline};
use extract::Extraction;
use md5::Md5;
use netcap_records::RecordType;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Content decoders open at once per shard by default.
pub const DEFAULT_MAX_DECODERS: usize = 4;

/// File handling settings (capture flags `-files`, `-file-max-bytes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileConfig {
    /// Extract contents into this directory (`-files DIR`).
    pub extract_dir: Option<PathBuf>,
    /// Decoded bytes per file at most: beyond, the file is `truncated` (no
    /// hashes), and extraction stops.
    pub max_bytes: u64,
    /// Content decoders (gzip, deflate, br) open at once per shard: a file
    /// that finds none free is not decoded (`decode_failed`). Default
    /// [`DEFAULT_MAX_DECODERS`].
    pub max_decoders: usize,
    /// The digests File records carry (`-file-hashes`).
    pub hashes: FileHashes,
    /// File records are written: without them (and without extraction)
    /// nothing is hashed.
    pub records: bool,
}

/// Which digests of a file's content are computed. SHA-1 and SHA-256 are
/// the default: both run on the CPU's SHA extensions where it has them;
/// MD5 has none and costs more than both together (about a fifth of a
/// capture's CPU on HTTP-heavy traffic, docs/performance.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileHashes {
    pub md5: bool,
    pub sha1: bool,
    pub sha256: bool,
}

impl Default for FileHashes {
    fn default() -> Self {
        FileHashes { md5: false, sha1: true, sha256: true }
    }
}

impl FileHashes {
    /// From a comma-separated list of `md5`, `sha1`, `sha256` (or `all`,
    /// or `none`).
    pub fn parse(list: &str) -> Result<FileHashes, String> {
        let mut h = FileHashes { md5: false, sha1: false, sha256: false };
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name.to_ascii_lowercase().as_str() {
                "md5" => h.md5 = true,
                "sha1" => h.sha1 = true,
                "sha256" => h.sha256 = true,
                "all" => h = FileHashes { md5: true, sha1: true, sha256: true },
                "none" => {}
                other => return Err(format!("unknown hash {other:?} (md5, sha1, sha256, all, none)")),
            }
        }
        Ok(h)
    }
}

impl Default for FileConfig {
    fn default() -> Self {
        FileConfig {
            extract_dir: None,
            max_bytes: 100 << 20,
            max_decoders: DEFAULT_MAX_DECODERS,
            hashes: FileHashes::default(),
            records: true,
        }
    }
}

/// What the file machinery did in one shard; summed with [`FileCounters::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCounters {
    /// Files finished (File records).
    pub files: u64,
    /// Files whose content was written under the extraction directory.
    pub extracted: u64,
    /// Files cut by `max_bytes`.
    pub truncated: u64,
    /// Files whose content encoding could not be undone (all reasons,
    /// [`FileCounters::decoders_busy`] included).
    pub decode_failed: u64,
    /// Extraction writes that failed (disk full, permissions), at most one
    /// per file.
    pub extract_errors: u64,
    /// Files not decoded because the shard's decoders were all in use
    /// ([`FileConfig::max_decoders`]).
    pub decoders_busy: u64,
}

impl FileCounters {
    pub fn merge(&mut self, o: &FileCounters) {
        self.files += o.files;
        self.extracted += o.extracted;
        self.truncated += o.truncated;
        self.decode_failed += o.decode_failed;
        self.extract_errors += o.extract_errors;
        self.decoders_busy += o.decoders_busy;
    }
}

/// The files of one shard.
pub struct Files {
    pub config: FileConfig,
    /// The shard (temporary extraction files are named by shard, so
    /// threads never collide).
    pub shard: usize,
    pub counters: FileCounters,
    /// Content decoders in use; a [`DecoderSlot`] gives its unit back when
    /// dropped, so a file dropped without `finish` does not leak it.
    decoders: Arc<AtomicUsize>,
    /// Names the next temporary extraction file.
    next_temp: u64,
}

/// One of a shard's [`FileConfig::max_decoders`], held by a file while it
/// decodes.
struct DecoderSlot(Arc<AtomicUsize>);

impl Drop for DecoderSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What a protocol knows when a file starts.
#[derive(Debug, Clone, Default)]
pub struct FileStart {
    /// Protocol that carries it: "HTTP".
    pub source: &'static str,
    pub direction: Option<Direction>,
    pub trans_depth: u32,
    /// Unique among the connection's files: the file ID is
    /// `F<connection's first frame>-<index>`.
    pub index: u32,
    pub filename: String,
    /// Content-Type as declared (parameters are removed here).
    pub declared_mime_type: String,
    /// Declared size of the content as sent.
    pub total_bytes: Option<u64>,
    /// Content-Encoding as declared ("gzip", "x-gzip", "deflate", "br",
    /// "identity", a list, or empty).
    pub content_encoding: String,
}

/// What a finished file left for the protocol's own record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileOutcome {
    pub file_id: String,
    pub mime_type: String,
    pub filename: String,
    /// Decoded bytes.
    pub seen_bytes: u64,
    /// Lower-case hex SHA-256 of the decoded content, when the File record
    /// has one (complete, and SHA-256 wanted).
    pub sha256: String,
}

/// A file being received.
pub struct OpenFile {
    id: String,
    start: FileStart,
    first: PacketTime,
    last: PacketTime,
    encoded_bytes: u64,
    missing_bytes: u64,
    /// `start.content_encoding` normalised.
    content_encoding: String,
    decoding: Decoding,
    /// The first bytes as sent, while a decoder has produced nothing (the
    /// MIME type of content that turns out not to decode).
    raw_head: Vec<u8>,
    decode_failed: bool,
    decoders_busy: bool,
    content: Content,
}

/// How the bytes as sent become content.
enum Decoding {
    /// Identity, or bytes kept as sent (`decode_failed`).
    AsSent,
    /// Codings (declared order) to undo from the first content byte on.
    Pending(Vec<Coding>),
    /// Decoding; `_slot` is given back when this is dropped.
    Active { pipeline: Box<Pipeline>, _slot: DecoderSlot },
    /// Decoding ended early (corrupt data, a gap, the size limit): later
    /// bytes are only counted.
    Stopped,
}

/// The decoded content: size, hashes, sniffing, extraction.
struct Content {
    max_bytes: u64,
    /// Decoded bytes.
    seen: u64,
    /// Offset of the next decoded byte (`seen` plus identity gaps).
    position: u64,
    truncated: bool,
    /// False after a gap (the hashes could not be set anyway), or when no
    /// digest is wanted.
    hashing: bool,
    md5: Option<Md5>,
    sha1: Option<Sha1>,
    sha256: Option<Sha256>,
    /// Identity content missing since the last write (a hole made at the
    /// next write or at finish, which have the shard's files).
    pending_hole: u64,
    /// The first bytes until the type is sniffed.
    sniff_buf: Vec<u8>,
    mime: Option<&'static str>,
    extraction: Extract,
}

enum Extract {
    /// No extraction directory.
    Off,
    /// Starts at the first byte.
    NotStarted,
    On(Extraction),
    /// An error stopped it.
    Failed,
}

impl Files {
    pub fn new(config: FileConfig, shard: usize) -> Self {
        Files { config, shard, counters: FileCounters::default(), decoders: Arc::default(), next_temp: 0 }
    }

    /// Starts a file of connection `conn` whose first content byte came
    /// with packet `at`.
    pub fn open(&mut self, conn: &ConnInfo, at: PacketTime, start: FileStart) -> OpenFile {
        let id = format!("F{}-{}", conn.first.frame, start.index);
        let codings = decode::parse_codings(&start.content_encoding);
        let (decoding, decode_failed) = match codings.known {
            Some(list) if list.is_empty() => (Decoding::AsSent, false),
            Some(list) => (Decoding::Pending(list), false),
            None => (Decoding::AsSent, true),
        };
        let extraction = if self.config.extract_dir.is_some() { Extract::NotStarted } else { Extract::Off };
        // Extracted files are named by their SHA-256; without File records
        // and extraction no digest is needed.
        let mut hashes = if self.config.records {
            self.config.hashes
        } else {
            FileHashes { md5: false, sha1: false, sha256: false }
        };
        hashes.sha256 |= self.config.extract_dir.is_some();
        OpenFile {
            id,
            start,
            first: at,
            last: at,
            encoded_bytes: 0,
            missing_bytes: 0,
            content_encoding: codings.normalised,
            decoding,
            raw_head: Vec::new(),
            decode_failed,
            decoders_busy: false,
            content: Content {
                max_bytes: self.config.max_bytes,
                seen: 0,
                position: 0,
                truncated: false,
                hashing: hashes.md5 || hashes.sha1 || hashes.sha256,
                pending_hole: 0,
                md5: hashes.md5.then(Md5::new),
                sha1: hashes.sha1.then(Sha1::new),
                sha256: hashes.sha256.then(Sha256::new),
                sniff_buf: Vec::new(),
                mime: None,
                extraction,
            },
        }
    }

    /// Whether files matter: File records are written or contents
    /// extracted (without either, nothing is hashed and content that needs
    /// matching across threads, FTP data, is not followed).
    pub fn active(&self) -> bool {
        self.config.records || self.config.extract_dir.is_some()
    }

    /// Content decoders in use in this shard.
    pub fn decoders_in_use(&self) -> usize {
        self.decoders.load(Ordering::Relaxed)
    }

    /// A decoder slot, if one is free.
    fn take_decoder(&mut self) -> Option<DecoderSlot> {
        let used = self.decoders.load(Ordering::Relaxed);
        if used >= self.config.max_decoders {
            return None;
        }
        self.decoders.fetch_add(1, Ordering::Relaxed);
        Some(DecoderSlot(self.decoders.clone()))
    }
}

impl Content {
    /// Takes decoded bytes: counts, sniffs, hashes and extracts them, up to
    /// the size limit.
    fn take(&mut self, files: &mut Files, data: &[u8]) -> Flow {
        if self.truncated {
            return Flow::Stop;
        }
        let room = self.max_bytes.saturating_sub(self.position);
        let data = match usize::try_from(room) {
            Ok(room) if room < data.len() => {
                self.truncated = true;
                data.get(..room).unwrap_or_default()
            }
            _ => data,
        };
        if self.mime.is_none() {
            push_bounded(&mut self.sniff_buf, data, sniff::SNIFF_BYTES);
            if self.sniff_buf.len() >= sniff::SNIFF_BYTES {
                self.sniff(true);
            }
        }
        if self.hashing {
            if let Some(h) = self.md5.as_mut() {
                h.update(data);
            }
            if let Some(h) = self.sha1.as_mut() {
                h.update(data);
            }
            if let Some(h) = self.sha256.as_mut() {
                h.update(data);
            }
        }
        self.extract(files, |e| e.write(data));
        self.seen += data.len() as u64;
        self.position += data.len() as u64;
        if self.truncated { Flow::Stop } else { Flow::Continue }
    }

    /// Sniffs the type from what was buffered and frees the buffer.
    fn sniff(&mut self, cut: bool) {
        if self.mime.is_none() {
            self.mime = Some(sniff::sniff(&self.sniff_buf, cut));
            self.sniff_buf = Vec::new();
        }
    }

    /// Runs `op` on the extraction (starting it if needed); an error stops
    /// it for good and is counted.
    fn extract(&mut self, files: &mut Files, op: impl FnOnce(&mut Extraction) -> std::io::Result<()>) {
        if matches!(self.extraction, Extract::NotStarted) {
            let Some(dir) = files.config.extract_dir.as_deref() else {
                self.extraction = Extract::Off;
                return;
            };
            let n = files.next_temp;
            files.next_temp += 1;
            self.extraction = match Extraction::create(dir, files.shard, n) {
                Ok(e) => Extract::On(e),
                Err(_) => {
                    files.counters.extract_errors += 1;
                    Extract::Failed
                }
            };
        }
        if let Extract::On(e) = &mut self.extraction
            && op(e).is_err()
        {
            e.remove();
            self.extraction = Extract::Failed;
            files.counters.extract_errors += 1;
        }
    }

    /// `len` bytes of identity content are missing: a hole in the
    /// extracted file, unless it would pass the size limit.
    fn hole(&mut self, files: &mut Files, len: u64) {
        if self.truncated {
            return;
        }
        if self.position.saturating_add(len) > self.max_bytes {
            self.truncated = true;
            return;
        }
        self.position += len;
        self.extract(files, |e| e.skip(len));
    }
}

impl OpenFile {
    /// The file's ID (the File record's `file_id`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Content bytes as sent (after transfer decoding), which came with
    /// packet `at`.
    pub fn write(&mut self, files: &mut Files, at: PacketTime, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.encoded_bytes += data.len() as u64;
        self.last = at;
        self.make_hole(files);
        if let Decoding::Pending(codings) = &self.decoding {
            self.decoding = match files.take_decoder() {
                Some(slot) => Decoding::Active { pipeline: Box::new(Pipeline::new(codings)), _slot: slot },
                None => {
                    self.decode_failed = true;
                    self.decoders_busy = true;
                    Decoding::AsSent
                }
            };
        }
        let content = &mut self.content;
        // Until something decodes, the first bytes as sent are kept for the
        // MIME type of content that does not decode.
        let decoding = !matches!(self.decoding, Decoding::AsSent);
        if decoding && content.seen == 0 && content.mime.is_none() {
            push_bounded(&mut self.raw_head, data, sniff::SNIFF_BYTES);
        }
        match &mut self.decoding {
            Decoding::AsSent => {
                content.take(files, data);
            }
            Decoding::Active { pipeline, .. } => {
                let result = pipeline.push(data, &mut |piece| content.take(files, piece));
                if content.seen > 0 && !self.raw_head.is_empty() {
                    self.raw_head = Vec::new();
                }
                match result {
                    Ok(Flow::Continue) => {}
                    Ok(Flow::Stop) => self.decoding = Decoding::Stopped,
                    Err(_) => {
                        self.decode_failed = true;
                        self.decoding = Decoding::Stopped;
                    }
                }
            }
            Decoding::Pending(_) | Decoding::Stopped => {}
        }
    }

    /// `len` bytes of the content as sent are missing.
    pub fn gap(&mut self, len: u64) {
        if len == 0 {
            return;
        }
        self.missing_bytes = self.missing_bytes.saturating_add(len);
        // The hashes cannot be set; the type is of what came before.
        self.content.hashing = false;
        self.content.sniff(true);
        match self.decoding {
            Decoding::AsSent => self.content.pending_hole = self.content.pending_hole.saturating_add(len),
            // Nothing after a gap can be decoded.
            Decoding::Active { .. } | Decoding::Pending(_) => self.decoding = Decoding::Stopped,
            Decoding::Stopped => {}
        }
    }

    /// Makes the hole of identity content missing since the last write.
    fn make_hole(&mut self, files: &mut Files) {
        let len = std::mem::take(&mut self.content.pending_hole);
        if len > 0 {
            self.content.hole(files, len);
        }
    }

    /// Ends the file and emits its File record; `complete`: the content
    /// ended where its framing said (the file is complete if, besides,
    /// nothing was missing, it was not truncated and its encoding was
    /// undone).
    pub fn finish(mut self, cx: &mut ParseContext<'_>, complete: bool) -> FileOutcome {
        let files = &mut *cx.files;
        let (complete, mime_type) = self.settle(files, complete);
        let mut record = netcap_records::File::default();
        self.digests(complete, &mut record);
        record.extracted = self.extract_finish(files, complete, &record.sha256);
        let sha256 = record.sha256.clone();

        let counters = &mut files.counters;
        counters.files += 1;
        counters.extracted += u64::from(!record.extracted.is_empty());
        counters.truncated += u64::from(self.content.truncated);
        counters.decode_failed += u64::from(self.decode_failed);
        counters.decoders_busy += u64::from(self.decoders_busy);

        if cx.emit.wants(RecordType::File) {
            record.set_conn(cx.conn, self.first, Direction::ToServer);
            record.file_id = self.id.clone();
            record.source = self.start.source.to_string();
            record.direction = self.start.direction.map_or(0, |d| d.record() as i32);
            record.trans_depth = self.start.trans_depth;
            record.filename = self.start.filename.clone();
            record.mime_type = mime_type.to_string();
            record.declared_mime_type = declared_type(&self.start.declared_mime_type);
            record.seen_bytes = self.content.seen;
            record.total_bytes = self.start.total_bytes;
            record.missing_bytes = self.missing_bytes;
            record.complete = complete;
            record.content_encoding = std::mem::take(&mut self.content_encoding);
            record.truncated = self.content.truncated;
            record.last_timestamp_ns = self.last.timestamp_ns;
            record.last_frame = self.last.frame;
            record.encoded_bytes = self.encoded_bytes;
            record.decode_failed = self.decode_failed;
            cx.emit.emit(RecordType::File, &record);
        }
        FileOutcome {
            file_id: self.id,
            mime_type: mime_type.to_string(),
            filename: self.start.filename,
            seen_bytes: self.content.seen,
            sha256,
        }
    }

    /// Ends the content: the last hole, the decoder's end, the MIME type.
    /// Returns whether the file is complete (see the module documentation)
    /// and its type.
    fn settle(&mut self, files: &mut Files, complete: bool) -> (bool, &'static str) {
        self.make_hole(files);
        if let Decoding::Active { pipeline, .. } = &self.decoding
            && complete
            && self.missing_bytes == 0
            && pipeline.finish().is_err()
        {
            self.decode_failed = true;
        }
        // Gives the decoder back.
        self.decoding = Decoding::Stopped;
        let content = &mut self.content;
        if content.mime.is_none() && content.seen == 0 && !self.raw_head.is_empty() {
            // Nothing decoded: the type of the bytes as sent.
            content.sniff_buf = std::mem::take(&mut self.raw_head);
            content.sniff(true);
        }
        let complete = complete && self.missing_bytes == 0 && !content.truncated && !self.decode_failed;
        content.sniff(!complete);
        (complete, content.mime.unwrap_or_default())
    }

    /// Sets the record's digests: those wanted, of complete files.
    fn digests(&mut self, complete: bool, record: &mut netcap_records::File) {
        let content = &mut self.content;
        if complete && content.hashing {
            record.md5 = content.md5.take().map(|h| hex(&h.finalize())).unwrap_or_default();
            record.sha1 = content.sha1.take().map(|h| hex(&h.finalize())).unwrap_or_default();
            record.sha256 = content.sha256.take().map(|h| hex(&h.finalize())).unwrap_or_default();
        }
    }

    /// Content bytes as sent that were missing so far.
    pub fn missing_bytes(&self) -> u64 {
        self.missing_bytes
    }

    /// Ends the file without a record: what it was, for a File record
    /// another thread writes once it knows what the content was (an FTP
    /// data connection's, [`crate::protocols::ftp::data`]). Its extracted
    /// content stays in its temporary file, closed, until then. Not counted
    /// in the shard's file counters (the File record's writer counts it).
    pub fn detach(mut self, files: &mut Files, complete: bool) -> DetachedFile {
        let (complete, mime_type) = self.settle(files, complete);
        let mut digests = netcap_records::File::default();
        self.digests(complete, &mut digests);
        let extraction = match std::mem::replace(&mut self.content.extraction, Extract::Off) {
            Extract::On(e) => match e.close() {
                Ok(closed) => Some(closed),
                Err(_) => {
                    files.counters.extract_errors += 1;
                    None
                }
            },
            _ => None,
        };
        DetachedFile {
            id: self.id,
            first: self.first,
            last: self.last,
            seen_bytes: self.content.seen,
            encoded_bytes: self.encoded_bytes,
            missing_bytes: self.missing_bytes,
            complete,
            truncated: self.content.truncated,
            mime_type,
            md5: digests.md5,
            sha1: digests.sha1,
            sha256: digests.sha256,
            extraction,
        }
    }

    /// Moves the extracted content to its place: the path relative to the
    /// extraction directory, or empty.
    fn extract_finish(&mut self, files: &mut Files, complete: bool, sha256: &str) -> String {
        let Extract::On(extraction) = std::mem::replace(&mut self.content.extraction, Extract::Off) else {
            return String::new();
        };
        let Some(dir) = files.config.extract_dir.as_deref() else { return String::new() };
        let (name, dedup) = if complete {
            (sha256.to_string(), true)
        } else if extract::safe_name(&self.id) {
            (format!("{}/{}", extract::INCOMPLETE_DIR, self.id), false)
        } else {
            (String::new(), false)
        };
        let moved = if name.is_empty() {
            Err(std::io::ErrorKind::InvalidInput.into())
        } else {
            extraction.finish(dir, &name, dedup)
        };
        match moved {
            Ok(()) => name,
            Err(_) => {
                files.counters.extract_errors += 1;
                String::new()
            }
        }
    }

    /// Heap bytes held (decoder state, buffers), for the memory cap.
    pub fn memory(&self) -> usize {
        let decoder = match &self.decoding {
            Decoding::Active { pipeline, .. } => pipeline.memory(),
            Decoding::Pending(c) => c.capacity() * std::mem::size_of::<Coding>(),
            Decoding::AsSent | Decoding::Stopped => 0,
        };
        let extraction = match self.content.extraction {
            Extract::On(_) => extract::WRITE_BUFFER,
            _ => 0,
        };
        decoder
            + extraction
            + self.raw_head.capacity()
            + self.content.sniff_buf.capacity()
            + self.id.capacity()
            + self.content_encoding.capacity()
            + self.start.filename.capacity()
            + self.start.declared_mime_type.capacity()
            + self.start.content_encoding.capacity()
    }
}

/// A file ended without its record ([`OpenFile::detach`]): the content's
/// facts, and its extracted content waiting for a name.
#[derive(Debug)]
pub struct DetachedFile {
    /// `F<connection's first frame>-<index>`.
    pub id: String,
    /// The packets of the first and last content bytes.
    pub first: PacketTime,
    pub last: PacketTime,
    pub seen_bytes: u64,
    pub encoded_bytes: u64,
    pub missing_bytes: u64,
    /// Ended as its framing said, nothing missing, not truncated.
    pub complete: bool,
    pub truncated: bool,
    pub mime_type: &'static str,
    /// Digests of complete content (those wanted), lower-case hex.
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    extraction: Option<extract::ClosedExtraction>,
}

impl DetachedFile {
    /// Whether extracted content waits for a name.
    pub fn has_extraction(&self) -> bool {
        self.extraction.is_some()
    }

    /// Moves the extracted content under `dir`: complete content (with its
    /// SHA-256) as `<sha256>`, other content as `incomplete/<id>`. Returns
    /// the path relative to `dir` (empty if nothing was extracted) and
    /// whether moving failed. Without a call the content is removed when
    /// the file is dropped.
    pub fn extract(&mut self, dir: &std::path::Path, complete: bool) -> (String, bool) {
        let Some(extraction) = self.extraction.take() else { return (String::new(), false) };
        let name = if complete && !self.sha256.is_empty() {
            self.sha256.clone()
        } else if extract::safe_name(&self.id) {
            format!("{}/{}", extract::INCOMPLETE_DIR, self.id)
        } else {
            return (String::new(), true);
        };
        let dedup = complete && !self.sha256.is_empty();
        match extraction.finish(dir, &name, dedup) {
            Ok(()) => (name, false),
            Err(_) => (String::new(), true),
        }
    }

    /// Heap bytes held (for bounds on files waiting to be matched).
    pub fn memory(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.id.capacity()
            + self.md5.capacity()
            + self.sha1.capacity()
            + self.sha256.capacity()
            + self.extraction.as_ref().map_or(0, |_| 64)
    }
}

/// Appends to `buf` what fits below `limit` bytes; the capacity grows
/// geometrically but never beyond `limit`.
fn push_bounded(buf: &mut Vec<u8>, data: &[u8], limit: usize) {
    let n = data.len().min(limit.saturating_sub(buf.len()));
    if n == 0 {
        return;
    }
    let needed = buf.len() + n;
    if needed > buf.capacity() {
        let target = needed.max(buf.capacity() * 2).min(limit);
        buf.reserve_exact(target - buf.len());
    }
    buf.extend_from_slice(data.get(..n).unwrap_or_default());
}

/// A declared Content-Type without parameters, in lower case.
fn declared_type(declared: &str) -> String {
    declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Fuzzing entry: the first byte picks the content encoding (its low
/// three bits), the size of the pieces the rest is written in, whether the
/// fourth piece is a gap (bit 7) and whether the content ended as framed
/// (bit 6); the rest is the content as sent. Bounded: at most 1 MiB of
/// output is decoded.
pub fn fuzz_entry(data: &[u8]) {
    const ENCODINGS: [&str; 8] = ["", "gzip", "deflate", "br", "gzip, br", "deflate, gzip", "x-gzip, deflate", "zstd"];
    let Some((&selector, content)) = data.split_first() else { return };
    let config = FileConfig { max_bytes: 1 << 20, max_decoders: 2, ..FileConfig::default() };
    let mut h = crate::protocols::TestHarness { files: Files::new(config, 0), ..Default::default() };
    let start = FileStart {
        source: "HTTP",
        content_encoding: ENCODINGS[usize::from(selector) % ENCODINGS.len()].into(),
        ..FileStart::default()
    };
    let mut file = h.files.open(&h.conn, h.now, start);
    let piece = 1 + usize::from(selector >> 3) * 97 % 1500;
    for (i, part) in content.chunks(piece).enumerate() {
        if selector & 0x80 != 0 && i == 3 {
            file.gap(part.len() as u64);
        } else {
            file.write(&mut h.files, h.now, part);
        }
    }
    file.finish(&mut h.cx(), selector & 0x40 == 0);
    debug_assert_eq!(h.files.decoders_in_use(), 0, "a decoder was not given back");
}

#[cfg(test)]
mod tests;
