//! FTP data connections matched to the commands that opened them: `File`
//! records of transfers (RETR, STOR, STOU, APPE) and listings (LIST, NLST,
//! MLSD), refusing what cannot be matched for sure.
//!
//! # Across threads
//!
//! A data connection hashes to another shard (so, often, another thread)
//! than its control connection: the shard that sees its bytes does not know
//! they are FTP data. So both sides report what they know, as events that
//! are not records ([`FtpDataEvent`], through
//! [`crate::Emitter::emit_ftp_data`]), and the capture's writer, which sees
//! every shard's events in one order that does not depend on the number of
//! threads (batch by batch, by order key; at the end of the input shard by
//! shard), matches them in a [`Matcher`]:
//!
//! - The control connection's parser reports each data channel the server
//!   accepted ([`Channel`]: the address of a 227 or 229 reply to PASV or
//!   EPSV, of a PORT or EPRT command answered 2xx) when its reply arrives,
//!   and each transfer command that used one ([`Transfer`]: command,
//!   argument, position, final reply) when its final reply arrives, or
//!   when the connection ends without one (reply 0).
//! - A TCP stream that could be FTP data ([`DataStream`]; `crate::tcp`
//!   decides which streams: a SYN from the client, a server port from 1024
//!   on, bytes in one direction only, whatever protocol its first bytes
//!   look like) is hashed, sniffed and extracted (into a temporary file)
//!   like any file while it runs, and reported when the connection ends.
//!
//! # Matching
//!
//! A data stream fits a channel when
//!
//! - its hosts are the control connection's and its server port is the
//!   announced one: passive (PASV, EPSV), it goes from the control
//!   connection's client to its server; active (PORT, EPRT), from the
//!   control connection's server to its client. The announced address
//!   itself is not required (a server behind NAT announces its private
//!   address; clients connect to the control connection's). A stream
//!   between other hosts is never matched: it would be a third-party
//!   transfer (FTP bounce, FXP); one that reaches the announced address and
//!   port from another host is counted as such;
//! - its first packet came after the command that announced the channel,
//!   and before the transfer's final reply (or, while the transfer is not
//!   known, before the reply that accepted the next channel of the same
//!   control connection: a server handles one transfer at a time);
//! - its bytes went the way the command says: RETR and the listings from
//!   the server to the client, STOR, STOU and APPE from the client to the
//!   server.
//!
//! A stream that fits exactly one channel whose transfer is known becomes
//! a `File` record. One that fits a channel whose transfer is not known yet
//! waits in it: the final reply (226) may come after the data connection
//! ended. A stream that fits several channels, or a channel that another
//! stream fits too before its transfer is known, is refused and counted as
//! ambiguous: the matcher never guesses. A channel that got its file is
//! done: a second data connection for the same transfer fits no channel.
//! A transfer refused before data flows (425, 450, 500-504, 530, 532, 550,
//! 553) takes its channel with it.
//!
//! # The File record
//!
//! `source` "FTP", `command` the transfer command, `filename` its argument
//! (as sent; data, never a path), `direction` server to client for RETR and
//! listings, client to server for uploads, `trans_depth` the command's
//! position among the control connection's commands (1 for the first);
//! endpoints and `community_id` are the control connection's (so File and
//! FTP records join on it), `data_community_id` the data connection's;
//! `file_id` is `F<data connection's first frame>-0`; times and frames are
//! of the first and last content packets; `total_bytes` the size a 1xx
//! reply announced (`(N bytes)`). The content is complete when the
//! sender's FIN was reached with nothing missing (stream mode ends a file
//! by closing the connection), nothing was cut by a bound, and the final
//! reply, if one came, was not an error (a 426 abort is incomplete).
//! Digests and `-files` extraction are as for HTTP files: complete content
//! as `DIR/<sha256>`, other content as `DIR/incomplete/<file_id>`; the
//! writer moves the content there once it is matched, and removes what no
//! command claimed.
//!
//! # Bounds
//!
//! At most [`MAX_EXPECTATIONS`] channels wait (with at most one stream
//! each) at once, about 1 KiB each with their control connection's
//! identity, their transfer and a waiting stream, plus the transfer's
//! argument (a line: at most 8 KiB; so 4 MiB usually, 36 MiB at worst):
//! beyond, the oldest is dropped (counted in
//! [`FtpDataCounters::evicted`]). A channel waits at most [`HOLD_OPEN_NS`]
//! of capture time while its transfer's final reply is unknown, and
//! [`HOLD_REPLIED_NS`] after it. Streams that fit no channel are dropped
//! at once, so non-FTP streams cost the writer nothing but a lookup.

use crate::emit::ConnRecord;
use crate::files::DetachedFile;
use crate::protocols::Direction;
use crate::{ConnInfo, PacketTime};
use std::collections::VecDeque;
use std::net::IpAddr;
use std::path::PathBuf;

/// Channels waiting for their data at most.
pub const MAX_EXPECTATIONS: usize = 4096;
/// How long (capture time) a channel waits while its transfer's final
/// reply is unknown: a long transfer whose control connection idled out.
pub const HOLD_OPEN_NS: i64 = 24 * 3600 * 1_000_000_000;
/// How long a channel waits after its transfer's final reply: its data
/// connection started before the reply, and ends (and is reported) within
/// the flow table's linger or idle timeout.
pub const HOLD_REPLIED_NS: i64 = 3600 * 1_000_000_000;

/// Commands whose data goes over a data connection.
pub fn is_transfer(command: &str) -> bool {
    matches!(command, "RETR" | "STOR" | "STOU" | "APPE" | "LIST" | "NLST" | "MLSD")
}

/// Commands whose data goes from the client to the server.
fn is_upload(command: &str) -> bool {
    matches!(command, "STOR" | "STOU" | "APPE")
}

/// Final replies that say the transfer never started (RFC 959 4.2): no data
/// connection carries its data.
fn never_started(code: u16) -> bool {
    matches!(code, 425 | 450 | 500..=504 | 530 | 532 | 550 | 553)
}

/// A data channel the server accepted on a control connection.
#[derive(Debug, Clone)]
pub struct Channel {
    /// The control connection.
    pub control: ConnInfo,
    /// PASV or EPSV (the client connects), else PORT or EPRT (the server
    /// connects).
    pub passive: bool,
    /// The announced address and port the data connection goes to.
    pub address: IpAddr,
    pub port: u16,
    /// The packet of the command that asked for it (PASV, EPSV, PORT,
    /// EPRT) and of the reply that accepted it.
    pub command: PacketTime,
    pub reply: PacketTime,
}

/// A transfer command that used a channel, with its outcome.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub channel: Channel,
    /// RETR, STOR, STOU, APPE, LIST, NLST or MLSD.
    pub command: String,
    pub arg: String,
    /// The command's position among its connection's commands (1: first).
    pub trans_depth: u32,
    /// The command's packet.
    pub at: PacketTime,
    /// The final reply's code and packet; 0 and None if none came.
    pub reply_code: u16,
    pub reply: Option<PacketTime>,
    /// The size a preliminary reply announced (`150 ... (39 bytes)`).
    pub total_bytes: Option<u64>,
}

/// A TCP stream with bytes in one direction only: its content as a file
/// waiting for its command.
#[derive(Debug)]
pub struct DataStream {
    /// The data connection.
    pub conn: ConnInfo,
    /// Which way its bytes went (in the data connection's terms).
    pub direction: Direction,
    pub file: DetachedFile,
}

/// What the shards tell the writer's [`Matcher`].
#[derive(Debug)]
pub enum FtpDataEvent {
    Channel(Box<Channel>),
    Transfer(Box<Transfer>),
    Stream(Box<DataStream>),
}

/// What the matcher did; summed into the capture's stream counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FtpDataCounters {
    /// One-way streams reported, and their content bytes (what following
    /// possible FTP data hashed, besides the first requests of streams that
    /// turned out to go both ways).
    pub streams: u64,
    pub stream_bytes: u64,
    /// Streams matched to their command: File records.
    pub files: u64,
    /// Streams that fit no channel (not FTP data, or their control
    /// connection was not seen).
    pub no_channel: u64,
    /// Streams refused because several channels fit, or a channel had
    /// another stream.
    pub ambiguous: u64,
    /// Streams refused because they reach an announced address and port
    /// from a host other than the control connection's.
    pub third_party: u64,
    /// Streams whose bytes went against their command's direction.
    pub wrong_direction: u64,
    /// Streams that waited in a channel whose transfer never came (or
    /// failed, or the channel was dropped).
    pub no_transfer: u64,
    /// Channels dropped without a stream (empty transfers and listings,
    /// data connections a protocol claimed, channels never used).
    pub channels_unused: u64,
    /// Channels dropped by [`MAX_EXPECTATIONS`].
    pub evicted: u64,
    /// Matched files whose content was moved under `-files`, or failed to.
    pub extracted: u64,
    pub extract_errors: u64,
    /// Matched files cut by `-file-max-size`.
    pub truncated: u64,
}

impl FtpDataCounters {
    pub fn merge(&mut self, o: &FtpDataCounters) {
        self.streams += o.streams;
        self.stream_bytes += o.stream_bytes;
        self.files += o.files;
        self.no_channel += o.no_channel;
        self.ambiguous += o.ambiguous;
        self.third_party += o.third_party;
        self.wrong_direction += o.wrong_direction;
        self.no_transfer += o.no_transfer;
        self.channels_unused += o.channels_unused;
        self.evicted += o.evicted;
        self.extracted += o.extracted;
        self.extract_errors += o.extract_errors;
        self.truncated += o.truncated;
    }
}

/// What the matcher needs of the capture's settings.
#[derive(Debug, Clone, Default)]
pub struct MatchConfig {
    /// `-files DIR`: matched content is moved here.
    pub extract_dir: Option<PathBuf>,
    /// File records are written.
    pub records: bool,
}

/// A channel waiting for its data.
struct Expectation {
    channel: Channel,
    transfer: Option<Box<Transfer>>,
    /// The frame of the reply that accepted the next channel of the same
    /// control connection.
    next_reply: Option<u64>,
    /// A stream that fits, waiting for the transfer.
    parked: Option<Box<DataStream>>,
    /// Two streams fit it before its transfer was known: it matches none.
    spoiled: bool,
    expires_ns: i64,
}

impl Expectation {
    fn new(channel: Channel) -> Self {
        let expires_ns = channel.reply.timestamp_ns.saturating_add(HOLD_OPEN_NS);
        Expectation { channel, transfer: None, next_reply: None, parked: None, spoiled: false, expires_ns }
    }

    /// The frame before which its data connection must have started, if
    /// known.
    fn window_end(&self) -> Option<u64> {
        self.transfer.as_ref().and_then(|t| t.reply.map(|r| r.frame)).or(self.next_reply)
    }
}

/// How a stream fits a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    Yes,
    No,
    /// It reaches the announced address and port, from another host.
    ThirdParty,
    /// It fits, but its bytes went against the command.
    WrongDirection,
}

fn same_control(a: &ConnInfo, b: &ConnInfo) -> bool {
    a.first.frame == b.first.frame && a.community_id == b.community_id
}

fn fit(e: &Expectation, s: &DataStream) -> Fit {
    let (c, d) = (&e.channel, &s.conn);
    if d.server_port != c.port {
        return Fit::No;
    }
    let ctrl = &c.control;
    let (orig, resp) = if c.passive { (ctrl.client_ip, ctrl.server_ip) } else { (ctrl.server_ip, ctrl.client_ip) };
    if d.client_ip != orig || d.server_ip != resp {
        return if d.server_ip == c.address { Fit::ThirdParty } else { Fit::No };
    }
    let start = d.first.frame;
    if start <= c.command.frame || e.window_end().is_some_and(|end| start >= end) {
        return Fit::No;
    }
    if let Some(t) = &e.transfer {
        // Passive: the data connection's client is the FTP client.
        let from_ftp_client = (s.direction == Direction::ToServer) == c.passive;
        if from_ftp_client != is_upload(&t.command) {
            return Fit::WrongDirection;
        }
    }
    Fit::Yes
}

/// Matches data streams to transfers, in the order the writer hands it
/// events; see the module documentation.
pub struct Matcher {
    config: MatchConfig,
    expectations: VecDeque<Expectation>,
    /// Latest capture time of any event.
    clock_ns: i64,
    /// When expired channels are next looked for.
    next_sweep_ns: i64,
    pub counters: FtpDataCounters,
}

/// How often (capture time) expired channels are looked for.
const SWEEP_NS: i64 = 60 * 1_000_000_000;

impl Matcher {
    pub fn new(config: MatchConfig) -> Self {
        Matcher {
            config,
            expectations: VecDeque::new(),
            clock_ns: i64::MIN,
            next_sweep_ns: i64::MIN,
            counters: FtpDataCounters::default(),
        }
    }

    /// Channels waiting now.
    pub fn waiting(&self) -> usize {
        self.expectations.len()
    }

    /// Takes one event; the File records it completes are appended to
    /// `out` (when File records are written).
    pub fn event(&mut self, event: FtpDataEvent, out: &mut Vec<netcap_records::File>) {
        match event {
            FtpDataEvent::Channel(c) => self.channel(*c),
            FtpDataEvent::Transfer(t) => self.transfer(t, out),
            FtpDataEvent::Stream(s) => self.stream(s, out),
        }
    }

    /// The end of the input: whatever still waits is dropped (streams
    /// parked in channels are counted, their extracted content removed).
    pub fn finish(&mut self) {
        while let Some(e) = self.expectations.pop_front() {
            self.retire(e);
        }
    }

    /// Moves the clock to `now_ns` and drops channels that waited too long.
    fn advance(&mut self, now_ns: i64) {
        self.clock_ns = self.clock_ns.max(now_ns);
        if self.clock_ns < self.next_sweep_ns {
            return;
        }
        self.next_sweep_ns = self.clock_ns.saturating_add(SWEEP_NS);
        let clock = self.clock_ns;
        let (kept, expired): (VecDeque<_>, VecDeque<_>) =
            std::mem::take(&mut self.expectations).into_iter().partition(|e| e.expires_ns >= clock);
        self.expectations = kept;
        for e in expired {
            self.retire(e);
        }
    }

    /// A channel dropped without its file.
    fn retire(&mut self, e: Expectation) {
        self.counters.channels_unused += 1;
        if e.parked.is_some() {
            self.counters.no_transfer += 1;
        }
    }

    fn push(&mut self, e: Expectation) {
        if self.expectations.len() >= MAX_EXPECTATIONS
            && let Some(oldest) = self.expectations.pop_front()
        {
            self.counters.evicted += 1;
            self.retire(oldest);
        }
        self.expectations.push_back(e);
    }

    fn channel(&mut self, c: Channel) {
        self.advance(c.reply.timestamp_ns);
        for e in self.expectations.iter_mut() {
            if e.next_reply.is_none() && same_control(&e.channel.control, &c.control) {
                e.next_reply = Some(c.reply.frame);
            }
        }
        self.push(Expectation::new(c));
    }

    fn transfer(&mut self, t: Box<Transfer>, out: &mut Vec<netcap_records::File>) {
        let time = t.reply.unwrap_or(t.at).timestamp_ns;
        self.advance(time);
        let found = self.expectations.iter().position(|e| {
            e.transfer.is_none()
                && same_control(&e.channel.control, &t.channel.control)
                && e.channel.command.frame == t.channel.command.frame
        });
        let index = match found {
            Some(i) => i,
            None => {
                // Its channel was dropped (or never reported): the transfer
                // brings it.
                self.push(Expectation::new(t.channel.clone()));
                self.expectations.len() - 1
            }
        };
        if never_started(t.reply_code) {
            if let Some(e) = self.expectations.remove(index)
                && e.parked.is_some()
            {
                self.counters.no_transfer += 1;
            }
            return;
        }
        let Some(e) = self.expectations.get_mut(index) else { return };
        e.expires_ns = match t.reply {
            Some(reply) => reply.timestamp_ns.saturating_add(HOLD_REPLIED_NS),
            None => time.saturating_add(HOLD_OPEN_NS),
        };
        e.transfer = Some(t);
        if let Some(stream) = e.parked.take() {
            match fit(e, &stream) {
                Fit::Yes => self.make_file(index, stream, out),
                Fit::WrongDirection => self.counters.wrong_direction += 1,
                // Outside the window the reply closed.
                Fit::No | Fit::ThirdParty => self.counters.no_channel += 1,
            }
        }
    }

    fn stream(&mut self, s: Box<DataStream>, out: &mut Vec<netcap_records::File>) {
        self.counters.streams += 1;
        self.counters.stream_bytes += s.file.seen_bytes;
        self.advance(s.file.last.timestamp_ns);
        let (mut fits, mut more) = (None, false);
        let (mut third_party, mut wrong_direction) = (false, false);
        for (i, e) in self.expectations.iter().enumerate() {
            match fit(e, &s) {
                Fit::Yes if fits.is_none() => fits = Some(i),
                Fit::Yes => more = true,
                Fit::ThirdParty => third_party = true,
                Fit::WrongDirection => wrong_direction = true,
                Fit::No => {}
            }
        }
        let Some(index) = fits else {
            let counter = if third_party {
                &mut self.counters.third_party
            } else if wrong_direction {
                &mut self.counters.wrong_direction
            } else {
                &mut self.counters.no_channel
            };
            *counter += 1;
            return;
        };
        let Some(e) = self.expectations.get_mut(index) else { return };
        if more || e.spoiled {
            self.counters.ambiguous += 1;
        } else if e.transfer.is_some() {
            self.make_file(index, s, out);
        } else if e.parked.take().is_some() {
            // Two streams for one channel: neither is taken.
            e.spoiled = true;
            self.counters.ambiguous += 2;
        } else {
            e.parked = Some(s);
        }
    }

    /// The File record of stream `s`, the data of expectation `index`.
    fn make_file(&mut self, index: usize, mut s: Box<DataStream>, out: &mut Vec<netcap_records::File>) {
        let Some(e) = self.expectations.get_mut(index) else { return };
        let Some(t) = e.transfer.as_deref() else { return };
        let reply_ok = t.reply_code == 0 || (200..300).contains(&t.reply_code);
        let complete = s.file.complete && reply_ok;
        let counters = &mut self.counters;
        counters.files += 1;
        counters.truncated += u64::from(s.file.truncated);
        let mut extracted = String::new();
        if let Some(dir) = self.config.extract_dir.as_deref()
            && s.file.has_extraction()
        {
            let (path, failed) = s.file.extract(dir, complete);
            counters.extracted += u64::from(!path.is_empty());
            counters.extract_errors += u64::from(failed);
            extracted = path;
        }
        if self.config.records {
            let f = &s.file;
            let mut r = netcap_records::File::default();
            r.set_conn(&e.channel.control, f.first, Direction::ToServer);
            r.file_id.clone_from(&f.id);
            r.source = "FTP".into();
            let direction = if is_upload(&t.command) { Direction::ToServer } else { Direction::ToClient };
            r.direction = direction.record() as i32;
            r.trans_depth = t.trans_depth;
            r.filename.clone_from(&t.arg);
            r.mime_type = f.mime_type.to_string();
            r.seen_bytes = f.seen_bytes;
            r.total_bytes = t.total_bytes;
            r.missing_bytes = f.missing_bytes;
            r.complete = complete;
            if complete {
                r.md5.clone_from(&f.md5);
                r.sha1.clone_from(&f.sha1);
                r.sha256.clone_from(&f.sha256);
            }
            r.extracted = extracted;
            r.truncated = f.truncated;
            r.last_timestamp_ns = f.last.timestamp_ns;
            r.last_frame = f.last.frame;
            r.encoded_bytes = f.encoded_bytes;
            r.command.clone_from(&t.command);
            r.data_community_id.clone_from(&s.conn.community_id);
            out.push(r);
        }
        // The channel is done.
        self.expectations.remove(index);
    }
}

/// Fuzzing entry: events made from arbitrary bytes, 6 per event (kind and
/// flags, a port of 4, a frame step, a reply code of 8, a control
/// connection of 3, an address of 3), for the matcher's bookkeeping (the
/// windows, parking, removal and eviction): no panic, at most
/// [`MAX_EXPECTATIONS`] waiting, every stream accounted for once.
pub fn fuzz_entry(data: &[u8]) {
    use crate::files::{FileConfig, FileStart, Files};
    const CODES: [u16; 8] = [0, 226, 150, 426, 550, 425, 250, 451];
    let ip = |n: u8| IpAddr::from([10, 0, 0, n % 3 + 1]);
    let mut files = Files::new(FileConfig::default(), 0);
    let mut m = Matcher::new(MatchConfig { extract_dir: None, records: true });
    let mut out = Vec::new();
    let mut frame = 1u64;
    let mut streams = 0;
    for step in data.chunks_exact(6) {
        let [kind, port, delta, code, control, address] = [step[0], step[1], step[2], step[3], step[4], step[5]];
        frame += u64::from(delta);
        let at = PacketTime { timestamp_ns: frame as i64 * 1_000_000, frame };
        let port = 50000 + u16::from(port % 4);
        let control = ConnInfo {
            client_ip: ip(control),
            client_port: 40000,
            server_ip: ip(control.wrapping_add(1)),
            server_port: 21,
            first: PacketTime { timestamp_ns: 0, frame: u64::from(control % 3) },
            community_id: format!("c{}", control % 3),
        };
        let channel = Channel {
            control: control.clone(),
            passive: kind & 0x10 != 0,
            address: ip(address),
            port,
            command: at,
            reply: PacketTime { frame: frame + 1, ..at },
        };
        let event = match kind % 3 {
            0 => FtpDataEvent::Channel(Box::new(channel)),
            1 => {
                let code = CODES[usize::from(code % 8)];
                let command = ["RETR", "STOR", "LIST", "APPE"][usize::from(kind >> 6)].to_string();
                let reply = (code != 0).then_some(PacketTime { frame: frame + u64::from(delta), ..at });
                FtpDataEvent::Transfer(Box::new(Transfer {
                    channel: Channel {
                        command: PacketTime { frame: frame.saturating_sub(u64::from(address)), ..at },
                        ..channel
                    },
                    command,
                    arg: String::new(),
                    trans_depth: 1,
                    at,
                    reply_code: code,
                    reply,
                    total_bytes: None,
                }))
            }
            _ => {
                streams += 1;
                let conn = ConnInfo {
                    client_ip: ip(address),
                    client_port: 41000,
                    server_ip: ip(code),
                    server_port: port,
                    first: at,
                    community_id: format!("d{frame}"),
                };
                let mut file = files.open(&conn, at, FileStart { source: "FTP", ..FileStart::default() });
                file.write(&mut files, at, step);
                let direction = if kind & 0x20 != 0 { Direction::ToServer } else { Direction::ToClient };
                let file = file.detach(&mut files, kind & 0x40 != 0);
                FtpDataEvent::Stream(Box::new(DataStream { conn, direction, file }))
            }
        };
        m.event(event, &mut out);
        assert!(m.waiting() <= MAX_EXPECTATIONS);
    }
    m.finish();
    let c = &m.counters;
    assert_eq!(c.streams, streams);
    let refused = c.no_channel + c.ambiguous + c.third_party + c.wrong_direction + c.no_transfer;
    // A spoiled channel counts both of its streams at once.
    assert!(c.files + refused >= streams && c.files + refused <= streams + c.ambiguous, "{c:?}");
    assert_eq!(out.len() as u64, c.files);
}

#[cfg(test)]
mod tests;
