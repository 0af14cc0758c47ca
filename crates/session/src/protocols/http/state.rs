//! Per-connection HTTP/1.x state: the two directions' readers, the queue of
//! transactions waiting for their responses, and the records they become.
//! The rules (pairing, bounds, resync) are documented on the module above.

use super::parser::{self, Framing, HeadStatus, HttpVersion, Line, MAX_HEAD_BYTES, MAX_HEADERS, Resync, StartLine};
use crate::emit::ConnRecord;
use crate::files::{FileStart, OpenFile};
use crate::protocols::{Direction, InnerTls, ParseContext, Parsed, Probe, StreamParser, name_software};
use crate::{ConnectionExtras, PacketTime};
use httparse::Header;
use netcap_records::{Http as HttpRecord, HttpHeader, RecordType};
use std::collections::VecDeque;

/// Transactions held at most (requests waiting for their responses, and
/// transactions whose other half is still being read). A new request
/// beyond it evicts the oldest request without a response.
pub const MAX_PENDING: usize = 64;
/// Heap bytes the held transactions may take (their header strings); a
/// new request beyond it evicts like [`MAX_PENDING`].
pub const MAX_PENDING_BYTES: usize = 1 << 20;
/// Evicted requests whose responses are still expected, remembered (depth
/// and method kind, 8 bytes each) so that those responses pair with them.
pub const MAX_EVICTED: usize = 1024;
/// Bytes a direction skips looking for a message start after a gap or a
/// malformed message before it gives up on HTTP (the direction is Done).
pub const MAX_RESYNC_BYTES: u64 = 1 << 20;
/// Header lines kept per message in `request_headers`/`response_headers`.
pub const MAX_LOGGED_HEADERS: usize = MAX_HEADERS;
/// Header names in those lists are cut to this many bytes.
pub const MAX_HEADER_NAME: usize = 256;
/// Header values in those lists are cut to this many bytes.
pub const MAX_HEADER_VALUE: usize = 4096;

/// Headers that show a proxy between client and server (Zeek's
/// `proxy_headers`, plus X-Real-IP and True-Client-IP).
const PROXY_HEADERS: &[&str] = &[
    "FORWARDED",
    "X-FORWARDED-FOR",
    "X-FORWARDED-FROM",
    "CLIENT-IP",
    "VIA",
    "XROXY-CONNECTION",
    "PROXY-CONNECTION",
    "X-REAL-IP",
    "TRUE-CLIENT-IP",
];

/// What a request's method means for its response's framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RequestKind {
    Normal,
    Head,
    Connect,
    /// An HTTP/0.9 simple request: its response is the raw bytes until close.
    Simple,
    /// No request was seen.
    Missing,
}

impl RequestKind {
    fn method(self) -> Option<&'static str> {
        match self {
            RequestKind::Head => Some("HEAD"),
            RequestKind::Connect => Some("CONNECT"),
            RequestKind::Missing => None,
            RequestKind::Normal | RequestKind::Simple => Some("GET"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseState {
    /// No response head yet.
    Waiting,
    /// A 1xx came; the final response is awaited.
    Interim,
    /// The final response's body is being read.
    Body,
    Done,
}

/// A request/response pair on its way to becoming a record.
struct Transaction {
    depth: u32,
    kind: RequestKind,
    record: HttpRecord,
    request_first: Option<PacketTime>,
    request_last: Option<PacketTime>,
    response_first: Option<PacketTime>,
    response_last: Option<PacketTime>,
    request_done: bool,
    response: ResponseState,
    /// Heap bytes of `record` (estimated when its heads were filled in).
    heap: usize,
    /// The credential of the request's `Authorization` (Basic or Digest).
    auth: Option<parser::HttpAuth>,
}

impl Transaction {
    fn new(depth: u32, kind: RequestKind) -> Self {
        Transaction {
            depth,
            kind,
            record: HttpRecord::default(),
            request_first: None,
            request_last: None,
            response_first: None,
            response_last: None,
            request_done: kind == RequestKind::Missing,
            response: ResponseState::Waiting,
            auth: None,
            heap: 0,
        }
    }

    /// A transaction for a response without a request.
    fn without_request(depth: u32, kind: RequestKind) -> Self {
        let mut tx = Transaction::new(depth, kind);
        tx.request_done = true;
        tx.record.missing_request = true;
        tx
    }
}

/// A request evicted from the queue before its response came.
#[derive(Debug, Clone, Copy)]
struct Evicted {
    depth: u32,
    kind: RequestKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
    /// A chunk-size line is next.
    Size,
    /// This many bytes of chunk data are next.
    Data(u64),
    /// The line end after chunk data is next.
    DataEnd,
    /// Trailer lines (this many so far) until a blank line.
    Trailers(u32),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyFraming {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

/// Reads one message body, streaming it into a file.
struct BodyReader {
    dir: Direction,
    /// The transaction it belongs to.
    depth: u32,
    framing: BodyFraming,
    /// What the file is opened with at the first body byte (or gap).
    start: FileStart,
    file: Option<OpenFile>,
    /// Body bytes (as sent) lost in gaps.
    missing: u64,
    /// Packet of the last byte read.
    last: Option<PacketTime>,
}

/// What a body reader did with the bytes it was given.
enum BodyStep {
    /// It wants more (`needed`, as in [`Parsed::Continue`]).
    More(usize),
    /// The body ended where its framing said.
    Ended,
    /// The chunked framing is malformed: the message ends incomplete.
    Broken,
}

/// What a body reader did with a gap.
enum GapStep {
    Continue,
    /// The body ended inside the gap; `leftover` bytes of it came after.
    Ended {
        leftover: u64,
    },
    /// The framing is lost.
    Broken,
}

impl BodyReader {
    fn new(dir: Direction, depth: u32, framing: BodyFraming, start: FileStart) -> Self {
        BodyReader { dir, depth, framing, start, file: None, missing: 0, last: None }
    }

    fn open<'s>(&'s mut self, cx: &mut ParseContext<'_>, at: PacketTime, next_file: &mut u32) -> &'s mut OpenFile {
        self.file.get_or_insert_with(|| {
            *next_file = next_file.saturating_add(1);
            let mut start = std::mem::take(&mut self.start);
            start.index = *next_file;
            cx.files.open(cx.conn, at, start)
        })
    }

    /// Writes body bytes `data`, which are at offset `base` of the bytes
    /// being parsed, split by the packets that carried them.
    fn write(&mut self, cx: &mut ParseContext<'_>, data: &[u8], base: usize, next_file: &mut u32) {
        if data.is_empty() {
            return;
        }
        let first = cx.time_at(base);
        let file = self.open(cx, first, next_file);
        let times = cx.times;
        let end = base + data.len();
        let mut pos = base;
        while pos < end {
            let next = times.partition_point(|&(start, _)| start <= pos);
            let run_end = times.get(next).map_or(end, |&(start, _)| start.min(end));
            let at = cx.time_at(pos);
            file.write(cx.files, at, &data[pos - base..run_end - base]);
            pos = run_end;
        }
    }

    fn file_gap(&mut self, cx: &mut ParseContext<'_>, len: u64, next_file: &mut u32) {
        if len > 0 {
            let now = cx.now;
            self.open(cx, now, next_file).gap(len);
            self.missing = self.missing.saturating_add(len);
        }
    }

    /// Reads the body from `data` (at offset `base` of the bytes being
    /// parsed): how many bytes it consumed, and what next.
    fn process(
        &mut self,
        cx: &mut ParseContext<'_>,
        data: &[u8],
        base: usize,
        next_file: &mut u32,
    ) -> (usize, BodyStep) {
        let (consumed, step) = self.read(cx, data, base, next_file);
        if consumed > 0 {
            self.last = Some(cx.time_at(base + consumed - 1));
        }
        (consumed, step)
    }

    fn read(&mut self, cx: &mut ParseContext<'_>, data: &[u8], base: usize, next_file: &mut u32) -> (usize, BodyStep) {
        let mut i = 0;
        loop {
            match self.framing {
                BodyFraming::UntilClose => {
                    self.write(cx, data, base, next_file);
                    return (data.len(), BodyStep::More(0));
                }
                BodyFraming::Length(remaining) => {
                    let n = remaining.min(data.len() as u64) as usize;
                    self.framing = BodyFraming::Length(remaining - n as u64);
                    self.write(cx, &data[..n], base, next_file);
                    return (n, if remaining == n as u64 { BodyStep::Ended } else { BodyStep::More(0) });
                }
                BodyFraming::Chunked(Chunk::Size) => match parser::parse_chunk_line(&data[i..]) {
                    Ok(Line::Partial) => return (i, BodyStep::More(1)),
                    Ok(Line::Complete(size, len)) => {
                        i += len;
                        let next = if size == 0 { Chunk::Trailers(0) } else { Chunk::Data(size) };
                        self.framing = BodyFraming::Chunked(next);
                    }
                    Err(_) => return (i, BodyStep::Broken),
                },
                BodyFraming::Chunked(Chunk::Data(remaining)) => {
                    let n = remaining.min((data.len() - i) as u64) as usize;
                    self.write(cx, &data[i..i + n], base + i, next_file);
                    i += n;
                    if remaining == n as u64 {
                        self.framing = BodyFraming::Chunked(Chunk::DataEnd);
                    } else {
                        self.framing = BodyFraming::Chunked(Chunk::Data(remaining - n as u64));
                        return (i, BodyStep::More(0));
                    }
                }
                BodyFraming::Chunked(Chunk::DataEnd) => {
                    match &data[i..] {
                        [b'\r', b'\n', ..] => i += 2,
                        [b'\n', ..] => i += 1,
                        [] | [b'\r'] => return (i, BodyStep::More(1)),
                        _ => return (i, BodyStep::Broken),
                    }
                    self.framing = BodyFraming::Chunked(Chunk::Size);
                }
                BodyFraming::Chunked(Chunk::Trailers(count)) => match parser::parse_trailer_line(&data[i..]) {
                    Ok(Line::Partial) => return (i, BodyStep::More(1)),
                    Ok(Line::Complete(blank, len)) => {
                        i += len;
                        if blank {
                            return (i, BodyStep::Ended);
                        }
                        if count + 1 >= parser::MAX_TRAILERS {
                            return (i, BodyStep::Broken);
                        }
                        self.framing = BodyFraming::Chunked(Chunk::Trailers(count + 1));
                    }
                    Err(_) => return (i, BodyStep::Broken),
                },
            }
        }
    }

    /// `len` bytes of the direction are missing here.
    fn gap(&mut self, cx: &mut ParseContext<'_>, len: u64, next_file: &mut u32) -> GapStep {
        match self.framing {
            BodyFraming::UntilClose => {
                self.file_gap(cx, len, next_file);
                GapStep::Continue
            }
            BodyFraming::Length(remaining) => {
                let n = remaining.min(len);
                self.file_gap(cx, n, next_file);
                self.framing = BodyFraming::Length(remaining - n);
                if n == remaining { GapStep::Ended { leftover: len - n } } else { GapStep::Continue }
            }
            BodyFraming::Chunked(Chunk::Data(remaining)) if len <= remaining => {
                // The gap lies inside the chunk's data: the framing is intact.
                self.file_gap(cx, len, next_file);
                let next = if len == remaining { Chunk::DataEnd } else { Chunk::Data(remaining - len) };
                self.framing = BodyFraming::Chunked(next);
                GapStep::Continue
            }
            BodyFraming::Chunked(_) => {
                // How much of the gap was body is unknown: all of it counts
                // as missing, so that the loss shows.
                self.file_gap(cx, len, next_file);
                GapStep::Broken
            }
        }
    }

    fn memory(&self) -> usize {
        self.start.filename.capacity()
            + self.start.declared_mime_type.capacity()
            + self.start.content_encoding.capacity()
            + self.file.as_ref().map_or(0, OpenFile::memory)
    }
}

/// Where a direction's parsing is.
enum Mode {
    /// A head (or a simple response's first byte) is next.
    Head,
    /// (Boxed: a reader is much larger than the other modes.)
    Body(Box<BodyReader>),
    /// Looking for a message start after a gap or a malformed message
    /// (at line starts and packet starts); `start` says whether the next
    /// byte may start one.
    Resync { start: ResyncStart },
    /// Nothing more of this direction is HTTP (it ended, or resync gave up).
    Closed,
}

/// Whether the next byte of a resynchronising direction is a place where a
/// message may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResyncStart {
    /// Yes: it starts a line (after a gap, a broken body, or a line end).
    Line,
    /// No: a head starting there was just refused.
    Refused,
    /// Every byte so far was skipped, the last one from this frame: the
    /// next byte may start a message if it starts another packet.
    After(u64),
}

struct DirState {
    mode: Mode,
    /// The `scanned` of the last partial head (see `parser::parse_head`).
    head_scanned: usize,
    /// Bytes skipped by resync since the last head.
    resync_bytes: u64,
}

impl Default for DirState {
    fn default() -> Self {
        DirState { mode: Mode::Head, head_scanned: 0, resync_bytes: 0 }
    }
}

/// What reading at a head position did.
enum HeadStep {
    /// Consumed this many bytes (maybe 0) and changed mode: go on.
    Consumed(usize),
    /// Keep the bytes from this offset on; more are needed.
    Wait(usize),
}

/// HTTP/1.x parser state of one connection.
#[derive(Default)]
pub struct Http {
    dirs: [DirState; 2],
    /// Transactions not yet emitted, oldest first (at most [`MAX_PENDING`]
    /// before a new request).
    txs: VecDeque<Transaction>,
    /// Requests evicted unanswered, oldest first: the next responses are
    /// theirs.
    evicted: VecDeque<Evicted>,
    /// Transactions so far (the last trans_depth given).
    depth: u32,
    /// Files opened so far (the last file index given).
    files_opened: u32,
    /// A 101 or a 2xx to CONNECT was seen: nothing more is HTTP.
    switched: bool,
    /// After a 2xx to CONNECT: the TLS parser, for a tunnel whose bytes
    /// are TLS (an HTTPS proxy); `tunnel_tls` says per direction whether
    /// its first bytes were (until they come, unknown; a direction that
    /// starts otherwise is not read).
    tunnel: Option<InnerTls>,
    tunnel_tls: [bool; 2],
    /// A CONNECT or Upgrade request waits for its response: the client's
    /// next bytes are held (not parsed) until it comes, unless they start a
    /// request.
    await_switch: Option<u32>,
    /// Bytes of the server's direction went missing where a response head
    /// was due (or its first bytes were no head), since the last response
    /// head.
    response_head_lost: bool,
    /// A response head was read.
    response_seen: bool,
    /// The first User-Agent and Server header values (client, server).
    software: [Vec<String>; 2],
}

impl Http {
    fn pending_heap(&self) -> usize {
        self.txs.iter().map(|t| t.heap).sum()
    }

    /// Makes room for a new request: the oldest request whose response has
    /// not started is emitted as `missing_response` and remembered.
    fn evict(&mut self, cx: &mut ParseContext<'_>) {
        let Some(t) = self.txs.iter().position(|t| t.response == ResponseState::Waiting && t.request_done) else {
            return;
        };
        let Some(mut tx) = self.txs.remove(t) else { return };
        cx.error();
        if self.evicted.len() >= MAX_EVICTED {
            self.evicted.pop_front();
            cx.error();
        }
        self.evicted.push_back(Evicted { depth: tx.depth, kind: tx.kind });
        tx.record.missing_response = true;
        emit_transaction(cx, tx);
    }

    /// The kind of the request the next response answers (without choosing
    /// it).
    fn next_response_kind(&self) -> Option<RequestKind> {
        if let Some(tx) = self.txs.iter().find(|t| t.response == ResponseState::Interim) {
            return Some(tx.kind);
        }
        if let Some(e) = self.evicted.front() {
            return Some(e.kind);
        }
        self.txs.iter().find(|t| t.response == ResponseState::Waiting && t.kind != RequestKind::Missing).map(|t| t.kind)
    }

    /// After a gap took a response head, or the server's first bytes were
    /// the middle of a response (`response_head_lost`), the next
    /// head found (`head`: its first packet) is not the response of the
    /// oldest waiting request if a later request was sent before it came:
    /// the oldest's response was the one lost, and it is emitted with
    /// `missing_response` (a client that does not pipeline sends its next
    /// request only after the previous response; tshark pairs by TCP
    /// acknowledgment and agrees). With no later request sent before the
    /// head, nothing changes.
    fn skip_lost_response(&mut self, cx: &mut ParseContext<'_>, head: PacketTime) {
        if !std::mem::take(&mut self.response_head_lost)
            || !self.evicted.is_empty()
            || self.txs.iter().any(|t| t.response == ResponseState::Interim)
        {
            return;
        }
        let mut waiting = (0..self.txs.len())
            .filter(|&k| self.txs[k].response == ResponseState::Waiting && self.txs[k].kind != RequestKind::Missing);
        let Some(oldest) = waiting.next() else { return };
        let later_sent_before = waiting.next().is_some_and(|k| {
            // Frames are in capture order (timestamps need not be).
            self.txs[k].request_first.is_some_and(|sent| sent.frame < head.frame)
        });
        if !later_sent_before {
            return;
        }
        let tx = &mut self.txs[oldest];
        tx.record.missing_response = true;
        tx.response = ResponseState::Done;
        self.emit_ready(cx);
    }

    /// The transaction the next response belongs to (its index in `txs`):
    /// the one with an interim response, else an evicted request, else the
    /// oldest request without a response, else a new one without request.
    fn response_target(&mut self) -> usize {
        if let Some(t) = self.txs.iter().position(|t| t.response == ResponseState::Interim) {
            return t;
        }
        if let Some(e) = self.evicted.pop_front() {
            self.txs.push_back(Transaction::without_request(e.depth, e.kind));
            return self.txs.len() - 1;
        }
        if let Some(t) =
            self.txs.iter().position(|t| t.response == ResponseState::Waiting && t.kind != RequestKind::Missing)
        {
            return t;
        }
        self.depth = self.depth.saturating_add(1);
        self.txs.push_back(Transaction::without_request(self.depth, RequestKind::Missing));
        self.txs.len() - 1
    }

    /// Emits the transactions whose request and response are both done.
    fn emit_ready(&mut self, cx: &mut ParseContext<'_>) {
        let mut k = 0;
        while k < self.txs.len() {
            if self.txs[k].request_done && self.txs[k].response == ResponseState::Done {
                if let Some(tx) = self.txs.remove(k) {
                    emit_transaction(cx, tx);
                }
            } else {
                k += 1;
            }
        }
    }

    /// Finishes a body's file and files its outcome with its transaction.
    fn end_body(&mut self, cx: &mut ParseContext<'_>, reader: BodyReader, complete: bool) {
        let outcome = reader.file.map(|f| f.finish(cx, complete));
        if let Some(tx) = self.txs.iter_mut().find(|t| t.depth == reader.depth) {
            let rec = &mut tx.record;
            let (len, fuids, mimes, names, missing, last) = match reader.dir {
                Direction::ToServer => {
                    tx.request_done = true;
                    (
                        &mut rec.request_body_len,
                        &mut rec.orig_fuids,
                        &mut rec.orig_mime_types,
                        &mut rec.orig_filenames,
                        &mut rec.request_missing_bytes,
                        &mut tx.request_last,
                    )
                }
                Direction::ToClient => {
                    tx.response = ResponseState::Done;
                    (
                        &mut rec.response_body_len,
                        &mut rec.resp_fuids,
                        &mut rec.resp_mime_types,
                        &mut rec.resp_filenames,
                        &mut rec.response_missing_bytes,
                        &mut tx.response_last,
                    )
                }
            };
            if let Some(o) = outcome {
                *len = o.seen_bytes;
                fuids.push(o.file_id);
                if !o.mime_type.is_empty() {
                    mimes.push(o.mime_type);
                }
                if !o.filename.is_empty() {
                    names.push(o.filename);
                }
            }
            *missing = missing.saturating_add(reader.missing);
            if reader.last.is_some() {
                *last = reader.last;
            }
        }
        self.emit_ready(cx);
    }

    /// A complete request head: a new transaction, and its body reader.
    fn request_head(
        &mut self,
        cx: &mut ParseContext<'_>,
        head: &parser::Head<'_, '_>,
        first: PacketTime,
        last: PacketTime,
    ) {
        let StartLine::Request { method, target, version } = head.start_line else { return };
        let kind = if version == HttpVersion::Http09 {
            RequestKind::Simple
        } else if method.eq_ignore_ascii_case("HEAD") {
            RequestKind::Head
        } else if method.eq_ignore_ascii_case("CONNECT") {
            RequestKind::Connect
        } else {
            RequestKind::Normal
        };
        if self.txs.len() >= MAX_PENDING || self.pending_heap() > MAX_PENDING_BYTES {
            self.evict(cx);
        }
        self.depth = self.depth.saturating_add(1);
        let depth = self.depth;
        let mut tx = Transaction::new(depth, kind);
        tx.request_first = Some(first);
        tx.request_last = Some(last);
        fill_request(&mut tx.record, method, target, version, head.headers, cx.emit.wants(RecordType::Http));
        name_software(&mut self.software[0], tx.record.user_agent.as_bytes());
        if cx.emit.wants(RecordType::Credentials) {
            tx.auth = head
                .headers
                .iter()
                .filter(|h| h.name.eq_ignore_ascii_case("authorization"))
                .find_map(|h| parser::authorization(h.value));
        }
        tx.heap = record_heap(&tx.record);
        let (framing, malformed) = parser::request_framing(head.headers);
        if malformed {
            cx.error();
        }
        if kind == RequestKind::Connect || parser::header(head.headers, "upgrade").is_some() {
            self.await_switch = Some(depth);
        }
        let framing = match framing {
            Framing::Length(n) => Some(BodyFraming::Length(n)),
            Framing::Chunked => Some(BodyFraming::Chunked(Chunk::Size)),
            _ => None,
        };
        match framing {
            Some(framing) => {
                let start = file_start(Direction::ToServer, depth, head.headers, target, None, framing);
                self.dirs[0].mode = Mode::Body(Box::new(BodyReader::new(Direction::ToServer, depth, framing, start)));
            }
            None => tx.request_done = true,
        }
        self.txs.push_back(tx);
    }

    /// A complete response head: an interim one is noted; a final one
    /// fills its transaction and starts its body (or switches protocols).
    fn response_head(
        &mut self,
        cx: &mut ParseContext<'_>,
        head: &parser::Head<'_, '_>,
        first: PacketTime,
        last: PacketTime,
    ) {
        let StartLine::Response { version, code, reason } = head.start_line else { return };
        self.skip_lost_response(cx, first);
        self.response_seen = true;
        let t = self.response_target();
        let Some(tx) = self.txs.get_mut(t) else { return };
        tx.response_first.get_or_insert(first);
        tx.response_last = Some(last);
        if (100..200).contains(&code) && code != 101 {
            tx.record.info_code = u32::from(code);
            tx.record.info_msg = parser::lossy(reason);
            tx.response = ResponseState::Interim;
            return;
        }
        fill_response(&mut tx.record, version, code, reason, head.headers, cx.emit.wants(RecordType::Http));
        name_software(&mut self.software[1], tx.record.server.as_bytes());
        tx.heap = record_heap(&tx.record);
        let depth = tx.depth;
        let (framing, malformed) = parser::response_framing(tx.kind.method(), code, head.headers);
        if malformed {
            cx.error();
        }
        if self.await_switch == Some(depth) {
            self.await_switch = None;
        }
        let framing = match framing {
            Framing::Switch => {
                self.switched = true;
                None
            }
            Framing::Tunnel => {
                self.switched = true;
                self.tunnel = Some(InnerTls::default());
                None
            }
            Framing::None | Framing::Length(0) => None,
            Framing::Length(n) => Some(BodyFraming::Length(n)),
            Framing::Chunked => Some(BodyFraming::Chunked(Chunk::Size)),
            Framing::UntilClose => Some(BodyFraming::UntilClose),
        };
        match framing {
            Some(framing) => {
                tx.response = ResponseState::Body;
                let uri = tx.record.request_uri.as_bytes();
                let start = file_start(Direction::ToClient, depth, head.headers, uri, Some(code), framing);
                self.dirs[1].mode = Mode::Body(Box::new(BodyReader::new(Direction::ToClient, depth, framing, start)));
            }
            None => {
                tx.response = ResponseState::Done;
                self.emit_ready(cx);
            }
        }
    }

    /// The response to a simple request starts at `data[at]`: raw bytes
    /// until the connection closes.
    fn start_simple_response(&mut self, at: PacketTime) {
        let t = self.response_target();
        let Some(tx) = self.txs.get_mut(t) else { return };
        tx.response_first.get_or_insert(at);
        tx.response_last = Some(at);
        tx.record.response_version = HttpVersion::Http09.as_str().into();
        tx.response = ResponseState::Body;
        let uri = tx.record.request_uri.as_bytes();
        let framing = BodyFraming::UntilClose;
        let start = file_start(Direction::ToClient, tx.depth, &[], uri, None, framing);
        self.dirs[1].mode = Mode::Body(Box::new(BodyReader::new(Direction::ToClient, tx.depth, framing, start)));
    }

    /// Reads at a head position `data[at..]`.
    fn head(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8], at: usize) -> HeadStep {
        let d = dir.index();
        let mut i = at;
        if dir == Direction::ToClient && self.next_response_kind() == Some(RequestKind::Simple) {
            // A simple response has no head, but servers often answer with
            // a full response anyway.
            match super::probe(dir, &data[i..]) {
                Probe::Yes => {}
                Probe::NeedMore => return HeadStep::Wait(i),
                Probe::No => {
                    self.start_simple_response(cx.time_at(i));
                    return HeadStep::Consumed(0);
                }
            }
        }
        // Empty lines between messages are ignored (RFC 9112 section 2.2),
        // and NUL bytes: the garbage byte of a TCP keep-alive probe (a NUL
        // in practice) is stream data when the connection was picked up
        // mid-stream, before the next request (pcapplusplus-many-protocols.pcap,
        // frame 33 then the GET of frame 1286).
        while let Some(b'\r' | b'\n' | 0) = data.get(i) {
            i += 1;
        }
        let rest = &data[i..];
        if rest.is_empty() {
            return HeadStep::Wait(i);
        }
        if dir == Direction::ToServer && self.await_switch.is_some() {
            match parser::message_start(dir, rest) {
                Probe::Yes => {}
                _ if rest.len() < MAX_HEAD_BYTES => return HeadStep::Wait(i),
                _ => self.await_switch = None,
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match parser::parse_head(dir, rest, self.dirs[d].head_scanned, &mut headers) {
            Ok(HeadStatus::Partial { scanned }) => {
                self.dirs[d].head_scanned = scanned;
                HeadStep::Wait(i)
            }
            Err(_) => {
                cx.error();
                // The server's first bytes are no response head: the
                // connection was picked up (or its start lost) in the
                // middle of a response, whose head is lost.
                if dir == Direction::ToClient && !self.response_seen {
                    self.response_head_lost = true;
                }
                self.dirs[d].head_scanned = 0;
                self.dirs[d].mode = Mode::Resync { start: ResyncStart::Refused };
                HeadStep::Consumed(i - at)
            }
            Ok(HeadStatus::Complete(head)) => {
                self.dirs[d].head_scanned = 0;
                self.dirs[d].resync_bytes = 0;
                let first = cx.time_at(i + head.start);
                let last = cx.time_at(i + head.len - 1);
                match dir {
                    Direction::ToServer => self.request_head(cx, &head, first, last),
                    Direction::ToClient => self.response_head(cx, &head, first, last),
                }
                HeadStep::Consumed(i + head.len - at)
            }
        }
    }

    /// The bytes of a CONNECT tunnel from `data[i..]`: TLS's if the
    /// direction starts with TLS, else nothing more is read.
    fn tunnel(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8], i: usize) -> Parsed {
        let Some(tls) = self.tunnel.as_mut() else { return Parsed::Done };
        let d = dir.index();
        if !self.tunnel_tls[d] {
            let rest = data.get(i..).unwrap_or_default();
            if rest.is_empty() {
                return Parsed::Continue { consumed: i, needed: 1 };
            }
            match (crate::protocols::tls::PROTOCOL.probe)(dir, rest) {
                Probe::Yes => self.tunnel_tls[d] = true,
                Probe::NeedMore => return Parsed::Continue { consumed: i, needed: 1 },
                Probe::No => return Parsed::Done,
            }
        }
        tls.parse(cx, dir, data, i)
    }

    fn parse_dir(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        let d = dir.index();
        let mut i = 0;
        loop {
            if self.switched {
                return self.tunnel(cx, dir, data, i);
            }
            match std::mem::replace(&mut self.dirs[d].mode, Mode::Head) {
                Mode::Closed => {
                    self.dirs[d].mode = Mode::Closed;
                    return Parsed::Done;
                }
                Mode::Head => match self.head(cx, dir, data, i) {
                    HeadStep::Consumed(n) => i += n,
                    HeadStep::Wait(at) => return Parsed::Continue { consumed: at, needed: 1 },
                },
                Mode::Body(mut reader) => {
                    let (n, step) = reader.process(cx, &data[i..], i, &mut self.files_opened);
                    i += n;
                    match step {
                        BodyStep::More(needed) => {
                            self.dirs[d].mode = Mode::Body(reader);
                            return Parsed::Continue { consumed: i, needed };
                        }
                        BodyStep::Ended => self.end_body(cx, *reader, true),
                        BodyStep::Broken => {
                            cx.error();
                            self.end_body(cx, *reader, false);
                            self.dirs[d].mode = Mode::Resync { start: ResyncStart::Line };
                        }
                    }
                }
                Mode::Resync { start } => {
                    // Packet starts in data[i..] (offsets): those of the
                    // runs of bytes after i, and i itself as `start` says.
                    let first_run = cx.times.first().map_or(cx.now, |&(_, t)| t);
                    let line_start = match start {
                        ResyncStart::Line => true,
                        ResyncStart::Refused => false,
                        ResyncStart::After(frame) => i == 0 && first_run.frame != frame,
                    };
                    let packet_starts = cx.times.iter().filter(|&&(at, _)| at > i).map(|&(at, _)| at - i);
                    let (skipped, mode) = match parser::resync_scan(dir, &data[i..], line_start, packet_starts) {
                        Resync::Found(p) => (p, Mode::Head),
                        Resync::NeedMore(p) => (p, Mode::Resync { start: ResyncStart::Line }),
                        Resync::NotFound { line_start: true } => {
                            (data.len() - i, Mode::Resync { start: ResyncStart::Line })
                        }
                        Resync::NotFound { line_start: false } => {
                            let last = cx.time_at(data.len().saturating_sub(1)).frame;
                            (data.len() - i, Mode::Resync { start: ResyncStart::After(last) })
                        }
                    };
                    i += skipped;
                    let state = &mut self.dirs[d];
                    state.resync_bytes += skipped as u64;
                    if state.resync_bytes > MAX_RESYNC_BYTES {
                        cx.error();
                        state.mode = Mode::Closed;
                        return Parsed::Done;
                    }
                    let found = matches!(mode, Mode::Head);
                    state.mode = mode;
                    if !found {
                        let needed = usize::from(i < data.len());
                        return Parsed::Continue { consumed: i, needed };
                    }
                }
            }
        }
    }
}

impl StreamParser for Http {
    fn facts(&self, facts: &mut ConnectionExtras) {
        if let Some(tls) = &self.tunnel {
            tls.facts(facts);
        }
        facts.client_software.clone_from(&self.software[0]);
        facts.server_software.clone_from(&self.software[1]);
    }

    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        self.parse_dir(cx, dir, data)
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        if self.switched || len == 0 {
            if let (Some(tls), true) = (self.tunnel.as_mut(), self.tunnel_tls[dir.index()]) {
                tls.parser().gap(cx, dir, len);
            }
            return;
        }
        let d = dir.index();
        self.dirs[d].head_scanned = 0;
        // Bytes missing where a response head was due: that response's head
        // is lost (see `skip_lost_response`).
        let head_lost = |http: &mut Http| http.response_head_lost |= dir == Direction::ToClient;
        let mode = match std::mem::replace(&mut self.dirs[d].mode, Mode::Closed) {
            Mode::Closed => Mode::Closed,
            Mode::Head | Mode::Resync { .. } => {
                head_lost(self);
                Mode::Resync { start: ResyncStart::Line }
            }
            Mode::Body(mut reader) => match reader.gap(cx, len, &mut self.files_opened) {
                GapStep::Continue => Mode::Body(reader),
                GapStep::Ended { leftover } => {
                    self.end_body(cx, *reader, true);
                    if leftover > 0 {
                        head_lost(self);
                        Mode::Resync { start: ResyncStart::Line }
                    } else {
                        Mode::Head
                    }
                }
                GapStep::Broken => {
                    self.end_body(cx, *reader, false);
                    Mode::Resync { start: ResyncStart::Line }
                }
            },
        };
        self.dirs[d].mode = mode;
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]) {
        let d = dir.index();
        let consumed = match self.parse_dir(cx, dir, rest) {
            Parsed::Continue { consumed, .. } => consumed.min(rest.len()),
            Parsed::Done => rest.len(),
        };
        let left = &rest[consumed..];
        if let (Some(tls), true) = (self.tunnel.as_mut(), self.switched && self.tunnel_tls[d]) {
            tls.parser().end(cx, dir, left);
        }
        match std::mem::replace(&mut self.dirs[d].mode, Mode::Closed) {
            Mode::Head if self.switched => {}
            Mode::Head => {
                if dir == Direction::ToClient
                    && !left.is_empty()
                    && self.next_response_kind() == Some(RequestKind::Simple)
                {
                    // A simple response shorter than a status line's start.
                    self.start_simple_response(cx.time_at(consumed));
                    if let Mode::Body(mut reader) = std::mem::replace(&mut self.dirs[d].mode, Mode::Closed) {
                        reader.process(cx, left, consumed, &mut self.files_opened);
                        self.end_body(cx, *reader, true);
                    }
                } else if left.iter().any(|&b| b != b'\r' && b != b'\n') {
                    // A head cut by the end of the direction.
                    cx.error();
                }
            }
            Mode::Body(reader) => {
                let complete = reader.framing == BodyFraming::UntilClose;
                self.end_body(cx, *reader, complete);
            }
            Mode::Resync { .. } | Mode::Closed => {}
        }
        self.dirs[d].mode = Mode::Closed;
    }

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        if let Some(tls) = self.tunnel.as_mut() {
            tls.parser().finish(cx);
        }
        for d in 0..2 {
            if let Mode::Body(reader) = std::mem::replace(&mut self.dirs[d].mode, Mode::Closed) {
                self.end_body(cx, *reader, false);
            }
        }
        while let Some(mut tx) = self.txs.pop_front() {
            if matches!(tx.response, ResponseState::Waiting | ResponseState::Interim) {
                tx.record.missing_response = true;
            }
            emit_transaction(cx, tx);
        }
        self.evicted.clear();
    }

    fn memory(&self) -> usize {
        let readers: usize = self
            .dirs
            .iter()
            .map(|d| match &d.mode {
                Mode::Body(reader) => reader.memory(),
                _ => 0,
            })
            .sum();
        self.pending_heap()
            + readers
            + self.txs.capacity() * std::mem::size_of::<Transaction>()
            + self.evicted.capacity() * std::mem::size_of::<Evicted>()
            + self.tunnel.as_ref().map_or(0, InnerTls::memory)
    }
}

/// Stamps and emits a transaction's record.
fn emit_transaction(cx: &mut ParseContext<'_>, tx: Transaction) {
    if let Some(auth) = &tx.auth {
        emit_credentials(cx, &tx, auth);
    }
    if !cx.emit.wants(RecordType::Http) {
        return;
    }
    let mut rec = tx.record;
    rec.trans_depth = tx.depth;
    let t = |p: Option<PacketTime>| p.unwrap_or_default();
    rec.request_first_timestamp_ns = t(tx.request_first).timestamp_ns;
    rec.request_first_frame = t(tx.request_first).frame;
    rec.request_last_timestamp_ns = t(tx.request_last).timestamp_ns;
    rec.request_last_frame = t(tx.request_last).frame;
    rec.response_first_timestamp_ns = t(tx.response_first).timestamp_ns;
    rec.response_first_frame = t(tx.response_first).frame;
    rec.response_last_timestamp_ns = t(tx.response_last).timestamp_ns;
    rec.response_last_frame = t(tx.response_last).frame;
    let at = tx.request_first.or(tx.response_first).unwrap_or(cx.now);
    rec.set_conn(cx.conn, at, Direction::ToServer);
    cx.emit.emit(RecordType::Http, &rec);
}

/// The Credentials record of a request's `Authorization` (Basic, or
/// Digest with its response digest as the password and its parameters as
/// notes): success when the final response is 2xx or 3xx, failure on 401
/// or 403, unknown otherwise (no response).
fn emit_credentials(cx: &mut ParseContext<'_>, tx: &Transaction, auth: &parser::HttpAuth) {
    let success = match tx.record.status_code {
        200..=399 => Some(true),
        401 | 403 => Some(false),
        _ => None,
    };
    let password = cx.secret(auth.password.clone());
    let mut r = netcap_records::Credentials {
        protocol: "HTTP".into(),
        user: auth.user.clone(),
        password,
        success,
        notes: auth.notes.clone(),
        ..Default::default()
    };
    let at = tx.request_first.unwrap_or(cx.now);
    r.set_conn(cx.conn, at, Direction::ToServer);
    cx.emit.emit(RecordType::Credentials, &r);
}

/// Heap bytes of a record's strings and lists.
fn record_heap(rec: &HttpRecord) -> usize {
    let strings =
        |v: &Vec<String>| v.capacity() * std::mem::size_of::<String>() + v.iter().map(String::capacity).sum::<usize>();
    let headers = |v: &Vec<HttpHeader>| {
        v.capacity() * std::mem::size_of::<HttpHeader>()
            + v.iter().map(|h| h.name.capacity() + h.value.capacity()).sum::<usize>()
    };
    [
        &rec.method,
        &rec.request_uri,
        &rec.version,
        &rec.status_msg,
        &rec.host,
        &rec.user_agent,
        &rec.referrer,
        &rec.server,
        &rec.origin,
        &rec.response_version,
        &rec.info_msg,
        &rec.request_content_type,
        &rec.response_content_type,
        &rec.cookie,
        &rec.username,
        &rec.response_transfer_encoding,
        &rec.response_content_encoding,
    ]
    .iter()
    .map(|s| s.capacity())
    .sum::<usize>()
        + strings(&rec.set_cookies)
        + strings(&rec.proxied)
        + headers(&rec.request_headers)
        + headers(&rec.response_headers)
}

/// Sets `field` from a header's value unless an earlier header set it.
fn first(field: &mut String, value: &[u8]) {
    if field.is_empty() {
        *field = parser::lossy(value);
    }
}

/// A header line for the record's lists (name and value cut to their
/// bounds).
fn logged(h: &Header<'_>) -> HttpHeader {
    HttpHeader {
        name: parser::truncated(h.name.to_string(), MAX_HEADER_NAME),
        value: parser::truncated(parser::lossy(h.value), MAX_HEADER_VALUE),
    }
}

/// Fills the request part of a record; `lists`: fill the header list.
fn fill_request(
    rec: &mut HttpRecord,
    method: &str,
    target: &[u8],
    version: HttpVersion,
    headers: &[Header<'_>],
    lists: bool,
) {
    rec.method = method.to_string();
    rec.request_uri = parser::lossy(target);
    rec.version = version.as_str().into();
    for h in headers {
        if lists && rec.request_headers.len() < MAX_LOGGED_HEADERS {
            rec.request_headers.push(logged(h));
        }
        let name = h.name;
        if name.eq_ignore_ascii_case("host") {
            first(&mut rec.host, h.value);
        } else if name.eq_ignore_ascii_case("user-agent") {
            first(&mut rec.user_agent, h.value);
        } else if name.eq_ignore_ascii_case("referer") {
            first(&mut rec.referrer, h.value);
        } else if name.eq_ignore_ascii_case("origin") {
            first(&mut rec.origin, h.value);
        } else if name.eq_ignore_ascii_case("content-type") {
            first(&mut rec.request_content_type, h.value);
        } else if name.eq_ignore_ascii_case("cookie") {
            first(&mut rec.cookie, h.value);
        } else if name.eq_ignore_ascii_case("authorization") {
            if rec.username.is_empty()
                && let Some(user) = parser::basic_auth_username(h.value)
            {
                rec.username = user;
            }
        } else if let Some(proxy) = PROXY_HEADERS.iter().find(|p| name.eq_ignore_ascii_case(p)) {
            let entry = format!("{proxy} -> {}", parser::lossy(h.value));
            if !rec.proxied.contains(&entry) {
                rec.proxied.push(entry);
            }
        }
    }
}

/// Fills the final-response part of a record; `lists`: fill the header
/// list.
fn fill_response(
    rec: &mut HttpRecord,
    version: HttpVersion,
    code: u16,
    reason: &[u8],
    headers: &[Header<'_>],
    lists: bool,
) {
    rec.status_code = u32::from(code);
    rec.status_msg = parser::lossy(reason);
    rec.response_version = version.as_str().into();
    for h in headers {
        if lists && rec.response_headers.len() < MAX_LOGGED_HEADERS {
            rec.response_headers.push(logged(h));
        }
        let name = h.name;
        if name.eq_ignore_ascii_case("server") {
            first(&mut rec.server, h.value);
        } else if name.eq_ignore_ascii_case("content-type") {
            first(&mut rec.response_content_type, h.value);
        } else if name.eq_ignore_ascii_case("set-cookie") {
            rec.set_cookies.push(parser::lossy(h.value));
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            first(&mut rec.response_transfer_encoding, h.value);
        } else if name.eq_ignore_ascii_case("content-encoding") {
            first(&mut rec.response_content_encoding, h.value);
        }
    }
}

/// What a body's file is opened with. `uri`: the request target (file name
/// fallback); `code`: the response status (a 206's Content-Range total).
pub(super) fn file_start(
    dir: Direction,
    depth: u32,
    headers: &[Header<'_>],
    uri: &[u8],
    code: Option<u16>,
    framing: BodyFraming,
) -> FileStart {
    let filename = parser::header(headers, "content-disposition")
        .and_then(parser::content_disposition_filename)
        .or_else(|| parser::uri_filename(uri))
        .unwrap_or_default();
    let range_total = if code == Some(206) {
        parser::header(headers, "content-range").and_then(parser::content_range_total)
    } else {
        None
    };
    let total_bytes = range_total.or(match framing {
        BodyFraming::Length(n) => Some(n),
        _ => None,
    });
    FileStart {
        source: "HTTP",
        direction: Some(dir),
        trans_depth: depth,
        index: 0,
        filename,
        declared_mime_type: parser::header(headers, "content-type").map(parser::media_type).unwrap_or_default(),
        total_bytes,
        content_encoding: parser::header(headers, "content-encoding").map(parser::lossy).unwrap_or_default(),
    }
}
