//! The TCP stream analyzer of a shard: per connection, two reassembled
//! directions ([`HalfStream`]), Zeek's history and state, and the stream
//! protocol decided by content, whose parser gets the bytes.
//!
//! Connections are the flow table's: a connection's state lives in the slot
//! the flow table gave it and ends when the flow table ends the connection,
//! so the records of both agree on what a connection is.
//!
//! Per direction the bytes go, in order, to (1) the `-streams` files, (2)
//! content detection while no protocol is decided (the first bytes of each
//! direction are probed: the protocols of the server's port first, then the
//! rest of the table; at most [`PROBE_BYTES`] per direction are held), then
//! (3) the protocol's parser, which returns what it consumed; its
//! unconsumed rest is kept (at most [`StreamConfig::max_pending`] bytes) and
//! handed back with later bytes. A direction nobody wants bytes of any more
//! (no protocol, parser done, no `-streams`) is only counted from then on:
//! no copies.
//!
//! A connection that began with the client's SYN, whose server port is from
//! 1024 on and whose bytes go one way only may be an FTP data connection:
//! its content is hashed, sniffed and extracted as a file while it runs
//! ([`MaybeFtpData`]), and summarised when it ends, for the writer to match to
//! its FTP command (`protocols::ftp::data`). This holds even when its
//! content decided a protocol (a file can start like a protocol's message:
//! an uploaded "STOR ..." is FTP to the probes): the protocol's parser runs
//! as usual, and the stream is still reported. The file is dropped (with
//! its temporary extraction) as soon as the other direction carries a
//! byte: request-response protocols cost the hashing of their first
//! request at most.
//!
//! Memory: each shard may hold [`StreamConfig::memcap`] / [`netcap_flow::SHARDS`]
//! bytes of queued out-of-order data, pending parser bytes, probe buffers,
//! parser state and stream-file buffers; when full, out-of-order data is
//! delivered at once with its holes as gaps instead of being queued, and a
//! parser's pending bytes beyond the cap are dropped as a gap (counted).

mod fuzz;
mod history;
pub mod streams_dir;

pub use fuzz::fuzz_entry;

pub use history::{Endpoint, History};

use crate::emit::Emitter;
use crate::files::{FileConfig, FileCounters, FileStart, Files, OpenFile};
use crate::protocols::ftp::data::{DataStream, FtpDataCounters, FtpDataEvent};
use crate::protocols::{Direction, PROTOCOLS, ParseContext, Parsed, Probe, ProtocolErrors, StreamParser};
use crate::reassembly::{Chunk, HalfCounters, HalfStream, ReassemblyConfig, Segment};
use crate::{ConnInfo, ConnectionExtras, PacketTime};
use netcap_decoder::community_id::CommunityId;
use netcap_decoder::tcp_flag;
use netcap_flow::{EndedConnection, FlowKey, Joined};
use netcap_records::RecordType;
use std::path::PathBuf;
use streams_dir::{StreamFileCounters, StreamFiles};

/// The fixed state of one followed connection (not counted in the memory
/// cap: at most one per flow-table connection, `-flow-max` of them), besides
/// its Community ID string (about 32 bytes).
pub const FIXED_CONN_BYTES: usize = std::mem::size_of::<TcpConn>() + std::mem::size_of::<Option<Box<TcpConn>>>();

/// Bytes of each direction held for content detection at most.
pub const PROBE_BYTES: usize = 4096;

/// Stream layer settings (capture flags; docs/streams.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamConfig {
    pub reassembly: ReassemblyConfig,
    /// Memory for stream state over all shards (`-tcp-memcap`).
    pub memcap: usize,
    /// A parser's unconsumed bytes per direction at most.
    pub max_pending: usize,
    /// `-streams DIR`.
    pub streams_dir: Option<PathBuf>,
    pub files: FileConfig,
    /// Community ID seed.
    pub community_id_seed: u16,
    /// Passwords are written in Credentials and FTP records (false:
    /// `-no-secrets`).
    pub secrets: bool,
}

impl Default for StreamConfig {
    /// 256 MiB of memory over all shards (Suricata's reassembly memcap
    /// default), 1 MiB of pending parser bytes per direction.
    fn default() -> Self {
        StreamConfig {
            reassembly: ReassemblyConfig::default(),
            memcap: 256 << 20,
            max_pending: 1 << 20,
            streams_dir: None,
            files: FileConfig::default(),
            community_id_seed: 0,
            secrets: true,
        }
    }
}

/// What the TCP stream analyzers did; summed over shards.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamCounters {
    /// TCP connections followed.
    pub connections: u64,
    /// Connections whose protocol content decided, per protocol (indexed
    /// like [`PROTOCOLS`]).
    pub detected: Vec<u64>,
    /// Summed over directions.
    pub reassembly: HalfCounters,
    /// Parser bytes dropped because a parser's pending bytes exceeded their
    /// bound or the memory cap.
    pub pending_dropped_bytes: u64,
    /// Times out-of-order data could not be queued for the memory cap.
    pub memcap_hits: u64,
    /// Most bytes one shard held at once (summed over shards: an upper
    /// bound of the true peak).
    pub peak_memory: u64,
    pub errors: ProtocolErrors,
    pub files: FileCounters,
    pub stream_files: StreamFileCounters,
    /// FTP data connections matched to their commands (by the writer's
    /// matcher; the shards only report).
    pub ftp_data: FtpDataCounters,
}

impl StreamCounters {
    pub fn merge(&mut self, o: &StreamCounters) {
        self.connections += o.connections;
        if self.detected.len() < o.detected.len() {
            self.detected.resize(o.detected.len(), 0);
        }
        for (a, b) in self.detected.iter_mut().zip(&o.detected) {
            *a += b;
        }
        let (a, b) = (&mut self.reassembly, &o.reassembly);
        a.retransmissions += b.retransmissions;
        a.overlaps_different_data += b.overlaps_different_data;
        a.missed_bytes += b.missed_bytes;
        a.depth_exceeded_bytes += b.depth_exceeded_bytes;
        a.queue_flushes += b.queue_flushes;
        a.out_of_window += b.out_of_window;
        a.delivered_bytes += b.delivered_bytes;
        self.pending_dropped_bytes += o.pending_dropped_bytes;
        self.memcap_hits += o.memcap_hits;
        self.peak_memory += o.peak_memory;
        self.errors.merge(&o.errors);
        self.files.merge(&o.files);
        self.stream_files.bytes += o.stream_files.bytes;
        self.stream_files.errors += o.stream_files.errors;
        self.ftp_data.merge(&o.ftp_data);
    }
}

/// One TCP segment as the analyzer needs it.
#[derive(Debug, Clone, Copy)]
pub struct TcpPacket<'a> {
    pub key: FlowKey,
    pub flags: u16,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub payload: &'a [u8],
    pub time: PacketTime,
}

/// Content detection state of a connection.
#[derive(Debug)]
enum Detect {
    /// No protocol yet; `refused[d]`: direction d's bytes matched none.
    Probing {
        refused: [bool; 2],
    },
    Decided(usize),
    /// Nothing matched: the bytes go nowhere but to `-streams`.
    Failed,
}

/// A parser's unconsumed bytes of one direction, with the packets they
/// came with.
#[derive(Debug, Default)]
struct Pending {
    bytes: Vec<u8>,
    times: Vec<(usize, PacketTime)>,
    /// More bytes the parser asked for before it is called again.
    waiting: usize,
}

impl Pending {
    fn clear(&mut self) {
        self.bytes.clear();
        self.times.clear();
        self.waiting = 0;
    }

    fn memory(&self) -> usize {
        self.bytes.capacity() + self.times.capacity() * std::mem::size_of::<(usize, PacketTime)>()
    }

    /// Drops the first `n` bytes, keeping the times of the rest.
    fn consume(&mut self, n: usize) {
        let n = n.min(self.bytes.len());
        self.bytes.drain(..n);
        let keep_from = self.times.partition_point(|&(at, _)| at <= n).saturating_sub(1);
        self.times.drain(..keep_from);
        for (at, _) in &mut self.times {
            *at = at.saturating_sub(n);
        }
        if self.bytes.is_empty() {
            self.times.clear();
        }
    }
}

/// Whether a connection may be an FTP data connection: a one-way stream
/// (whatever its content looks like).
enum MaybeFtpData {
    /// Not (any more).
    No,
    /// It may be; no byte yet.
    Waiting,
    /// Its bytes so far, all in direction `dir`.
    Carrying { dir: Direction, file: Box<OpenFile> },
}

/// The lowest server port of a connection followed as possible FTP data:
/// passive ports and the ports active clients listen on are unprivileged;
/// below are the services (and most mid-stream TLS) that must not cost a
/// hash.
pub const FTP_DATA_MIN_PORT: u16 = 1024;

/// Memory room a possible FTP data connection needs to be followed: its
/// file's sniffing buffer and, when extracting, its write buffer.
const FTP_DATA_ROOM: usize = crate::files::sniff::SNIFF_BYTES + crate::files::extract::WRITE_BUFFER;

/// Everything a connection's bytes go through after reassembly.
struct App {
    info: ConnInfo,
    detect: Detect,
    /// Bytes held while probing, per direction.
    probe: [Pending; 2],
    parser: Option<Box<dyn StreamParser>>,
    pending: [Pending; 2],
    /// The parser wants no more of a direction.
    done: [bool; 2],
    /// `end` was called for a direction.
    ended: [bool; 2],
    files: Option<StreamFiles>,
    ftp_data: MaybeFtpData,
}

/// The state of one TCP connection.
struct TcpConn {
    first_frame: u64,
    halves: [HalfStream; 2],
    history: History,
    /// The latest acknowledgment number each side sent (acknowledging the
    /// other direction).
    acks: [Option<u32>; 2],
    app: App,
}

/// What a connection's bytes need besides the connection: the shard's
/// shared parts.
struct Shared<'a> {
    emit: &'a mut Emitter,
    files: &'a mut Files,
    errors: &'a mut ProtocolErrors,
    config: &'a StreamConfig,
    counters: &'a mut StreamCounters,
    /// Memory the shard may still use.
    room: usize,
}

/// The TCP streams of one shard.
pub struct TcpStreams {
    config: StreamConfig,
    /// Per flow-table slot.
    conns: Vec<Option<Box<TcpConn>>>,
    memcap: usize,
    used: usize,
    files: Files,
    counters: StreamCounters,
    community_ids: CommunityId,
}

impl TcpStreams {
    /// The analyzer of shard `shard` (one of [`netcap_flow::SHARDS`]).
    pub fn new(config: &StreamConfig, shard: usize) -> Self {
        let counters = StreamCounters {
            detected: vec![0; PROTOCOLS.len()],
            errors: ProtocolErrors { errors: vec![0; PROTOCOLS.len()] },
            ..StreamCounters::default()
        };
        TcpStreams {
            memcap: (config.memcap / netcap_flow::SHARDS).max(1),
            files: Files::new(config.files.clone(), shard),
            config: config.clone(),
            conns: Vec::new(),
            used: 0,
            counters,
            community_ids: CommunityId::uncached(config.community_id_seed),
        }
    }

    /// Bytes of stream state held now.
    pub fn memory(&self) -> usize {
        self.used
    }

    /// Counts so far (files and errors included).
    pub fn counters(&self) -> StreamCounters {
        let mut c = self.counters.clone();
        c.files = self.files.counters.clone();
        c
    }

    /// One segment of the connection `joined` (the flow table's, after it
    /// took the packet).
    pub fn observe(&mut self, p: &TcpPacket<'_>, joined: &Joined, emit: &mut Emitter) {
        let slot = joined.slot as usize;
        if self.conns.len() <= slot {
            self.conns.resize_with(slot + 1, || None);
        }
        let fresh = self.conns[slot].as_ref().is_none_or(|c| c.first_frame != joined.first_frame);
        if fresh {
            let info = self.conn_info(&p.key, joined);
            // A client's SYN (not a mid-stream pickup) to an unprivileged
            // port, and files matter: maybe FTP data.
            let syn = p.flags & (tcp_flag::SYN | tcp_flag::ACK) == tcp_flag::SYN;
            let ftp_data = syn && !joined.flipped && info.server_port >= FTP_DATA_MIN_PORT && self.files.active();
            self.conns[slot] = Some(Box::new(TcpConn::new(info, joined, &self.config, ftp_data)));
            self.counters.connections += 1;
        }
        let room = self.memcap.saturating_sub(self.used);
        let Some(conn) = self.conns[slot].as_deref_mut() else { return };
        let before = conn.memory();
        // The error counts live in the counters: borrowed separately.
        let mut errors = std::mem::take(&mut self.counters.errors);
        let mut shared = Shared {
            emit,
            files: &mut self.files,
            errors: &mut errors,
            config: &self.config,
            counters: &mut self.counters,
            room,
        };
        let dir = if joined.from_client { Direction::ToServer } else { Direction::ToClient };
        conn.segment(dir, p, &mut shared);
        self.counters.errors = errors;
        let after = conn.memory();
        self.used = (self.used + after).saturating_sub(before);
        self.counters.peak_memory = self.counters.peak_memory.max(self.used as u64);
    }

    /// The flow table ended `ended`: finish its stream state and add what it
    /// knows to its record.
    pub fn end(&mut self, ended: &mut EndedConnection, emit: &mut Emitter) {
        let slot = ended.slot() as usize;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::take) else { return };
        if conn.first_frame != ended.first_frame() {
            // Not this connection's state (cannot happen: a slot's state is
            // replaced when its next connection's first packet arrives).
            self.conns[slot] = Some(conn);
            return;
        }
        let mut conn = conn;
        let before = conn.memory();
        let mut errors = std::mem::take(&mut self.counters.errors);
        let mut shared = Shared {
            emit,
            files: &mut self.files,
            errors: &mut errors,
            config: &self.config,
            counters: &mut self.counters,
            room: usize::MAX,
        };
        let extras = conn.finish(&mut shared);
        self.counters.errors = errors;
        self.used = self.used.saturating_sub(before);
        ended.extras = Some(Box::new(extras));
    }

    fn conn_info(&mut self, key: &FlowKey, joined: &Joined) -> ConnInfo {
        let client_a = joined.client_is_a;
        let (client_ip, client_port) = (key.ip(client_a), key.port(client_a));
        let (server_ip, server_port) = (key.ip(!client_a), key.port(!client_a));
        let mut community_id = String::new();
        let bytes = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V4(a) => a.octets().to_vec(),
            std::net::IpAddr::V6(a) => a.octets().to_vec(),
        };
        self.community_ids.write_conversation(
            &mut community_id,
            &bytes(client_ip),
            &bytes(server_ip),
            key.ip_protocol,
            client_port,
            server_port,
        );
        ConnInfo {
            client_ip,
            client_port,
            server_ip,
            server_port,
            first: PacketTime { timestamp_ns: joined.first_ts, frame: joined.first_frame },
            community_id,
        }
    }
}

impl TcpConn {
    fn new(info: ConnInfo, joined: &Joined, config: &StreamConfig, ftp_data: bool) -> TcpConn {
        TcpConn {
            first_frame: joined.first_frame,
            halves: [HalfStream::new(), HalfStream::new()],
            history: History::new(joined.flipped),
            acks: [None, None],
            app: App {
                info,
                detect: Detect::Probing { refused: [false, false] },
                probe: Default::default(),
                parser: None,
                pending: Default::default(),
                done: [false, false],
                ended: [false, false],
                files: config.streams_dir.as_ref().map(|_| StreamFiles::default()),
                ftp_data: if ftp_data { MaybeFtpData::Waiting } else { MaybeFtpData::No },
            },
        }
    }

    /// Bytes held beyond the connection's fixed state (which the flow
    /// table's bound on connections bounds; see [`FIXED_CONN_BYTES`]).
    fn memory(&self) -> usize {
        let a = &self.app;
        self.halves.iter().map(HalfStream::memory).sum::<usize>()
            + a.probe.iter().chain(&a.pending).map(Pending::memory).sum::<usize>()
            + a.parser.as_ref().map_or(0, |p| std::mem::size_of_val(&**p) + p.memory())
            + a.files.as_ref().map_or(0, StreamFiles::memory)
            + match &a.ftp_data {
                MaybeFtpData::Carrying { file, .. } => std::mem::size_of::<OpenFile>() + file.memory(),
                _ => 0,
            }
    }

    fn segment(&mut self, dir: Direction, p: &TcpPacket<'_>, shared: &mut Shared<'_>) {
        let d = dir.index();
        let before = self.halves[d].counters;
        self.history.packet(dir, p.flags, p.seq, p.payload.len(), p.window);
        if p.flags & tcp_flag::ACK != 0 {
            self.acks[d] = Some(match self.acks[d] {
                // Keep the furthest acknowledgment (serial number order).
                Some(old) if (p.ack.wrapping_sub(old) as i32) < 0 => old,
                _ => p.ack,
            });
            let other = dir.other();
            let (halves, app) = (&mut self.halves, &mut self.app);
            let before = halves[other.index()].counters.missed_bytes;
            halves[other.index()].peer_ack(p.ack, &mut |chunk| app.chunk(other, chunk, shared));
            if halves[other.index()].counters.missed_bytes > before {
                self.history.gap(other);
            }
        }
        let segment = Segment {
            seq: p.seq,
            syn: p.flags & tcp_flag::SYN != 0,
            fin: p.flags & tcp_flag::FIN != 0,
            rst: p.flags & tcp_flag::RST != 0,
            payload: p.payload,
            time: p.time,
        };
        let room = shared.room;
        let config = shared.config.reassembly;
        let (halves, app) = (&mut self.halves, &mut self.app);
        let half = &mut halves[d];
        half.segment(&segment, &config, room, &mut |chunk| app.chunk(dir, chunk, shared));
        let after = self.halves[d].counters;
        if after.retransmissions > before.retransmissions {
            self.history.retransmission(dir);
        }
        if after.missed_bytes > before.missed_bytes {
            self.history.gap(dir);
        }
        if after.queue_flushes > before.queue_flushes && room < config.max_queued {
            shared.counters.memcap_hits += 1;
        }
        let depth_reached = config.depth > 0 && self.halves[d].next_offset() >= config.depth;
        if (self.halves[d].finished() || depth_reached) && !self.app.ended[d] {
            self.app.end(dir, shared);
        }
        self.update_keep_bytes();
    }

    /// Tells reassembly which directions still need their bytes.
    fn update_keep_bytes(&mut self) {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let keep = self.app.wants_bytes(dir);
            self.halves[dir.index()].set_keep_bytes(keep);
        }
    }

    /// Ends the connection: every direction's remaining bytes (holes as
    /// gaps), the parser's last records, and the Connection record's extras.
    fn finish(&mut self, shared: &mut Shared<'_>) -> ConnectionExtras {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let d = dir.index();
            // An acknowledgment from before the stream's start still says the
            // peer was acknowledging: offset 0.
            let peer_ack = self.acks[dir.other().index()].map(|a| self.halves[d].ack_offset(a).unwrap_or(0));
            let before = self.halves[d].counters;
            let (halves, app) = (&mut self.halves, &mut self.app);
            halves[d].end(peer_ack, &mut |chunk| app.chunk(dir, chunk, shared));
            if halves[d].counters.missed_bytes > before.missed_bytes {
                self.history.gap(dir);
            }
            if !self.app.ended[d] {
                self.app.end(dir, shared);
            }
        }
        let mut extras = ConnectionExtras::default();
        if let (Some(parser), Detect::Decided(protocol)) = (self.app.parser.as_mut(), &self.app.detect) {
            let mut cx = ParseContext {
                conn: &self.app.info,
                emit: shared.emit,
                files: shared.files,
                now: PacketTime::default(),
                times: &[],
                protocol: *protocol,
                errors: shared.errors,
                memory_room: shared.room,
            };
            parser.finish(&mut cx);
            parser.facts(&mut extras);
        }
        if let (Some(files), Some(path)) = (self.app.files.as_mut(), shared.config.streams_dir.as_ref()) {
            files.finish(path, &self.app.info, &mut shared.counters.stream_files);
        }
        self.report_ftp_data(shared);
        if let Detect::Decided(i) = self.app.detect {
            extras.application_protocol = PROTOCOLS.get(i).map(|p| p.name);
        }
        extras.conn_state = self.history.conn_state();
        extras.history = self.history.as_str().to_owned();
        for (i, h) in self.halves.iter().enumerate() {
            let c = &h.counters;
            extras.missed_bytes[i] = c.missed_bytes;
            extras.retransmissions[i] = c.retransmissions;
            extras.depth_exceeded_bytes[i] = c.depth_exceeded_bytes;
            extras.overlaps_different_data += c.overlaps_different_data;
            let total = &mut shared.counters.reassembly;
            total.retransmissions += c.retransmissions;
            total.overlaps_different_data += c.overlaps_different_data;
            total.missed_bytes += c.missed_bytes;
            total.depth_exceeded_bytes += c.depth_exceeded_bytes;
            total.queue_flushes += c.queue_flushes;
            total.out_of_window += c.out_of_window;
            total.delivered_bytes += c.delivered_bytes;
        }
        extras
    }
}

impl TcpConn {
    /// At the connection's end: a one-way stream goes to the writer, to be
    /// matched to an FTP command.
    fn report_ftp_data(&mut self, shared: &mut Shared<'_>) {
        let MaybeFtpData::Carrying { dir, file } = std::mem::replace(&mut self.app.ftp_data, MaybeFtpData::No) else {
            return;
        };
        let mut file = *file;
        let half = &self.halves[dir.index()];
        // Acknowledged bytes never seen (no gap was reported for them).
        let unseen = half.counters.missed_bytes.saturating_sub(file.missing_bytes());
        file.gap(unseen);
        // Stream mode: the sender's FIN ends the file.
        let complete = half.finished() && half.counters.depth_exceeded_bytes == 0;
        let file = file.detach(shared.files, complete);
        let stream = DataStream { conn: self.app.info.clone(), direction: dir, file };
        shared.emit.emit_ftp_data(FtpDataEvent::Stream(Box::new(stream)));
    }
}

impl App {
    /// Whether anything still wants the bytes of `dir`.
    fn wants_bytes(&self, dir: Direction) -> bool {
        let d = dir.index();
        if self.files.is_some() || !matches!(self.ftp_data, MaybeFtpData::No) {
            // A possible FTP data connection hears of bytes either way.
            return true;
        }
        match self.detect {
            Detect::Probing { .. } => true,
            Detect::Decided(_) => !self.done[d] && !self.ended[d],
            Detect::Failed => false,
        }
    }

    /// One run of reassembled bytes (or a gap) of `dir`.
    fn chunk(&mut self, dir: Direction, chunk: Chunk<'_>, shared: &mut Shared<'_>) {
        match chunk {
            Chunk::Data { bytes, time, .. } => {
                if let (Some(files), Some(path)) = (self.files.as_mut(), shared.config.streams_dir.as_ref()) {
                    files.write(path, &self.info, dir, bytes, &mut shared.counters.stream_files);
                }
                match self.detect {
                    Detect::Probing { .. } => self.probe(dir, bytes, time, shared),
                    Detect::Decided(_) => self.feed(dir, bytes, time, shared),
                    Detect::Failed => {}
                }
                if !matches!(self.ftp_data, MaybeFtpData::No) {
                    self.ftp_data_bytes(dir, bytes, time, shared);
                }
            }
            Chunk::Gap { len, .. } => {
                match self.detect {
                    // A gap before a protocol was decided: detection starts
                    // over after it in that direction.
                    Detect::Probing { .. } => self.probe[dir.index()].clear(),
                    Detect::Decided(_) => self.gap(dir, len, shared),
                    Detect::Failed => {}
                }
                match &mut self.ftp_data {
                    MaybeFtpData::Carrying { dir: d, file } if *d == dir => file.gap(len),
                    // A file whose start is missing, or bytes both ways.
                    _ => self.ftp_data = MaybeFtpData::No,
                }
            }
        }
    }

    /// Bytes of a possible FTP data connection.
    fn ftp_data_bytes(&mut self, dir: Direction, bytes: &[u8], time: PacketTime, shared: &mut Shared<'_>) {
        match &mut self.ftp_data {
            MaybeFtpData::Carrying { dir: d, file } if *d == dir => file.write(shared.files, time, bytes),
            MaybeFtpData::Waiting if shared.room >= FTP_DATA_ROOM => {
                let start = FileStart { source: "FTP", ..FileStart::default() };
                let mut file = shared.files.open(&self.info, time, start);
                file.write(shared.files, time, bytes);
                self.ftp_data = MaybeFtpData::Carrying { dir, file: Box::new(file) };
            }
            // Bytes both ways (or no room): not FTP data; a temporary
            // extraction is removed with the file.
            _ => self.ftp_data = MaybeFtpData::No,
        }
    }

    /// Probes the first bytes of `dir`; decides the protocol on a match.
    /// The bytes are copied only when no protocol decides on them and more
    /// are needed, and only while the memory cap has room: past it,
    /// detection gives up (counted in `memcap_hits`).
    fn probe(&mut self, dir: Direction, bytes: &[u8], time: PacketTime, shared: &mut Shared<'_>) {
        let d = dir.index();
        let Detect::Probing { mut refused } = self.detect else { return };
        if refused[d] {
            // This direction matched nothing; the other may still decide.
            return self.hold(dir, bytes, time, shared);
        }
        let unbuffered = self.probe[d].bytes.is_empty();
        if !unbuffered {
            if self.probe[d].bytes.len() + bytes.len() > shared.room {
                return self.give_up_probing(shared);
            }
            let buffered = &mut self.probe[d];
            buffered.times.push((buffered.bytes.len(), time));
            buffered.bytes.extend_from_slice(bytes);
        }
        let data = if unbuffered { bytes } else { &self.probe[d].bytes[..] };
        let port = self.info.server_port;
        let by_port = PROTOCOLS.iter().position(|p| p.tcp_ports.contains(&port));
        let order = by_port.into_iter().chain((0..PROTOCOLS.len()).filter(|&i| Some(i) != by_port));
        let mut undecided = false;
        let mut decided = None;
        for i in order {
            let protocol = PROTOCOLS[i];
            let probe = match protocol.port_probe {
                Some(port_probe) if Some(i) == by_port => port_probe,
                _ => protocol.probe,
            };
            match probe(dir, data) {
                Probe::Yes => {
                    decided = Some(i);
                    break;
                }
                Probe::NeedMore => undecided = true,
                Probe::No => {}
            }
        }
        let probed = data.len();
        if let Some(i) = decided {
            return self.decide(i, dir, unbuffered.then_some((bytes, time)), shared);
        }
        if !undecided || probed >= PROBE_BYTES {
            refused[d] = true;
        }
        self.detect = if refused == [true, true] { Detect::Failed } else { Detect::Probing { refused } };
        if matches!(self.detect, Detect::Failed) {
            self.probe = Default::default();
        } else if unbuffered {
            // Kept: for more bytes of this direction, or for the other
            // direction's decision.
            if bytes.len() > shared.room {
                return self.give_up_probing(shared);
            }
            self.probe[d].times.push((0, time));
            self.probe[d].bytes.extend_from_slice(bytes);
        }
    }

    /// The memory cap leaves no room for probe bytes or a parser: the
    /// connection's protocol stays undecided by content (named by port).
    fn give_up_probing(&mut self, shared: &mut Shared<'_>) {
        shared.counters.memcap_hits += 1;
        self.detect = Detect::Failed;
        self.probe = Default::default();
    }

    /// Keeps bytes of a direction that matched nothing, in case the other
    /// direction decides the protocol (bounded by [`PROBE_BYTES`] and the
    /// memory cap).
    fn hold(&mut self, dir: Direction, bytes: &[u8], time: PacketTime, shared: &mut Shared<'_>) {
        let held = &mut self.probe[dir.index()];
        if held.bytes.len() + bytes.len() > PROBE_BYTES {
            self.detect = Detect::Failed;
            self.probe = Default::default();
            return;
        }
        if held.bytes.len() + bytes.len() > shared.room {
            return self.give_up_probing(shared);
        }
        held.times.push((held.bytes.len(), time));
        held.bytes.extend_from_slice(bytes);
    }

    /// Starts protocol `i`'s parser and hands it what probing held: the
    /// deciding direction's bytes first (`unbuffered`: the deciding bytes,
    /// when they were not copied into the probe buffer).
    fn decide(&mut self, i: usize, first: Direction, unbuffered: Option<(&[u8], PacketTime)>, shared: &mut Shared<'_>) {
        let protocol = PROTOCOLS[i];
        let wanted = protocol.record_types.iter().any(|&t| shared.emit.wants(t))
            || (protocol.fills_connection && shared.emit.wants(RecordType::Connection));
        if !wanted {
            // Named by content; nothing to parse for.
            self.detect = Detect::Decided(i);
            shared.counters.detected[i] += 1;
            self.done = [true, true];
            self.probe = Default::default();
            return;
        }
        let parser = (protocol.new_parser)();
        if std::mem::size_of_val(&*parser) > shared.room {
            return self.give_up_probing(shared);
        }
        self.detect = Detect::Decided(i);
        shared.counters.detected[i] += 1;
        self.parser = Some(parser);
        let held = std::mem::take(&mut self.probe);
        // The directions in the order their bytes came: a request the probe
        // did not recognise (an unknown method, a method alone) goes to the
        // parser before the response that decided the protocol.
        let first_frame = |dir: Direction| {
            held[dir.index()].times.first().map(|&(_, t)| t.frame).or(if dir == first {
                unbuffered.as_ref().map(|&(_, t)| t.frame)
            } else {
                None
            })
        };
        let (a, b) = (first_frame(first), first_frame(first.other()));
        let order = match (a, b) {
            (Some(a), Some(b)) if b < a => [first.other(), first],
            _ => [first, first.other()],
        };
        for dir in order {
            let h = &held[dir.index()];
            for (n, &(at, time)) in h.times.iter().enumerate() {
                let end = h.times.get(n + 1).map_or(h.bytes.len(), |&(next, _)| next);
                if let Some(bytes) = h.bytes.get(at..end) {
                    self.feed(dir, bytes, time, shared);
                }
            }
            if dir == first
                && let Some((bytes, time)) = unbuffered
            {
                self.feed(dir, bytes, time, shared);
            }
        }
    }

    /// Hands bytes of `dir` to the parser, with what it left unconsumed.
    fn feed(&mut self, dir: Direction, bytes: &[u8], time: PacketTime, shared: &mut Shared<'_>) {
        let d = dir.index();
        let protocol = match self.detect {
            Detect::Decided(i) => i,
            _ => return,
        };
        if self.done[d] || self.ended[d] {
            return;
        }
        let Some(parser) = self.parser.as_mut() else { return };
        let pending = &mut self.pending[d];
        let mut cx = ParseContext {
            conn: &self.info,
            emit: shared.emit,
            files: shared.files,
            now: time,
            times: &[],
            protocol,
            errors: shared.errors,
            memory_room: shared.room,
        };
        let (result, held) = if pending.bytes.is_empty() {
            (parser.parse(&mut cx, dir, bytes), bytes.len())
        } else {
            pending.times.push((pending.bytes.len(), time));
            pending.bytes.extend_from_slice(bytes);
            if pending.waiting > bytes.len() {
                pending.waiting -= bytes.len();
                return self.check_pending(dir, shared);
            }
            cx.times = &pending.times;
            (parser.parse(&mut cx, dir, &pending.bytes), pending.bytes.len())
        };
        match result {
            Parsed::Continue { consumed, needed } => {
                let consumed = consumed.min(held);
                if pending.bytes.is_empty() {
                    if consumed < bytes.len() {
                        pending.bytes.extend_from_slice(&bytes[consumed..]);
                        pending.times.push((0, time));
                    }
                } else {
                    pending.consume(consumed);
                }
                pending.waiting = needed;
                self.check_pending(dir, shared);
            }
            Parsed::Done => {
                pending.clear();
                pending.bytes = Vec::new();
                self.done[d] = true;
            }
        }
    }

    /// Drops a parser's pending bytes beyond their bound (or the memory
    /// cap) as a gap.
    fn check_pending(&mut self, dir: Direction, shared: &mut Shared<'_>) {
        let d = dir.index();
        let len = self.pending[d].bytes.len();
        if len > shared.config.max_pending || len > shared.room {
            shared.counters.pending_dropped_bytes += len as u64;
            self.pending[d].clear();
            self.pending[d].bytes = Vec::new();
            self.parser_gap(dir, len as u64, shared);
        }
    }

    /// A gap in `dir`: the parser's unconsumed rest before it is lost too.
    fn gap(&mut self, dir: Direction, len: u64, shared: &mut Shared<'_>) {
        let d = dir.index();
        if self.done[d] || self.ended[d] {
            return;
        }
        let lost = self.pending[d].bytes.len() as u64;
        self.pending[d].clear();
        self.parser_gap(dir, len + lost, shared);
    }

    fn parser_gap(&mut self, dir: Direction, len: u64, shared: &mut Shared<'_>) {
        let Detect::Decided(protocol) = self.detect else { return };
        let Some(parser) = self.parser.as_mut() else { return };
        let mut cx = ParseContext {
            conn: &self.info,
            emit: shared.emit,
            files: shared.files,
            now: PacketTime::default(),
            times: &[],
            protocol,
            errors: shared.errors,
            memory_room: shared.room,
        };
        parser.gap(&mut cx, dir, len);
    }

    /// `dir` is over (FIN delivered, depth reached, or the connection
    /// ended): the parser gets its unconsumed rest.
    fn end(&mut self, dir: Direction, shared: &mut Shared<'_>) {
        let d = dir.index();
        self.ended[d] = true;
        let Detect::Decided(protocol) = self.detect else { return };
        let Some(parser) = self.parser.as_mut() else { return };
        let pending = std::mem::take(&mut self.pending[d]);
        let now = pending.times.last().map_or(PacketTime::default(), |&(_, t)| t);
        let mut cx = ParseContext {
            conn: &self.info,
            emit: shared.emit,
            files: shared.files,
            now,
            times: &pending.times,
            protocol,
            errors: shared.errors,
            memory_room: shared.room,
        };
        parser.end(&mut cx, dir, &pending.bytes);
    }
}

#[cfg(test)]
mod tests;
