//! Stream protocols: the table that describes each one once, and the
//! interface between TCP reassembly and a protocol's parser.
//!
//! A protocol lives in one folder: a pure parser over bytes (no I/O, no
//! state beyond what it is given; fuzzed), its per-connection state (a
//! [`StreamParser`]) and the records it fills. Its line in [`PROTOCOLS`]
//! gives its name (the Connection's `application_protocol`, its error
//! counters, its port names), the record types it writes, its well-known
//! TCP ports and its content probe. Adding a protocol is one folder and one
//! line here.
//!
//! Reassembly hands each direction's bytes to the connection's parser in
//! order, as they arrive: a parser returns how much it consumed and how much
//! more it needs ([`Parsed`]); the unconsumed rest is kept (bounded) and
//! handed back, followed by the new bytes, once enough has arrived. Missing
//! bytes are reported as gaps ([`StreamParser::gap`]); a parser resumes
//! where its protocol allows (the next message that its probe recognises).

pub mod ftp;
pub mod http;
pub mod imap;
pub mod irc;
pub mod kerberos;
pub mod mail;
pub mod pop3;
pub mod rdp;
pub mod smtp;
pub mod socks;
pub mod ssh;
pub mod telnet;
pub mod tls;

use crate::emit::Emitter;
use crate::files::Files;
use crate::{ConnInfo, ConnectionExtras, PacketTime};
use netcap_records::RecordType;

/// Which way data flows in a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the client (the connection's initiator) to the server.
    ToServer,
    /// From the server to the client.
    ToClient,
}

impl Direction {
    /// 0 for [`Direction::ToServer`], 1 for [`Direction::ToClient`] (the
    /// index of per-direction arrays).
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    pub fn other(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    /// The record enum value of this direction.
    pub fn record(self) -> netcap_records::Direction {
        match self {
            Direction::ToServer => netcap_records::Direction::ClientToServer,
            Direction::ToClient => netcap_records::Direction::ServerToClient,
        }
    }
}

/// What a parser did with the bytes it was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parsed {
    /// It consumed the first `consumed` bytes (at most all of them). The
    /// rest is kept and handed back with the next bytes, once at least
    /// `needed` more have arrived (0: with whatever arrives next).
    Continue { consumed: usize, needed: usize },
    /// It wants nothing more of this direction (a TLS handshake done, a
    /// tunnel after CONNECT): the rest of the direction is skipped without
    /// copying. `end` and `finish` are still called.
    Done,
}

/// A content probe's verdict on the first bytes of a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The bytes start a message of this protocol.
    Yes,
    /// They do not.
    No,
    /// Too few bytes to tell: ask again with more.
    NeedMore,
}

/// One stream protocol: everything the layer needs to know about it.
pub struct Protocol {
    /// Name in records (Connection `application_protocol`), error counters
    /// and port names: "HTTP", "TLS".
    pub name: &'static str,
    /// Record types its parser writes.
    pub record_types: &'static [RecordType],
    /// Well-known TCP ports: their protocol is probed first, and names a
    /// connection whose content decided nothing.
    pub tcp_ports: &'static [u16],
    /// Decides from the first bytes of a direction whether they belong to
    /// this protocol. Cheap; called on the first data of every connection.
    pub probe: fn(Direction, &[u8]) -> Probe,
    /// A looser probe used instead of `probe` when the server's port is
    /// one of `tcp_ports` (FTP's USER is POP3's too: on port 21 it decides
    /// FTP, elsewhere only FTP's own commands do).
    pub port_probe: Option<fn(Direction, &[u8]) -> Probe>,
    /// A parser for one connection.
    pub new_parser: fn() -> Box<dyn StreamParser>,
    /// The parser adds to the Connection record (TLS: version, cipher,
    /// server name). A parser runs only when one of its record types, or
    /// the Connection record it fills, is wanted.
    pub fills_connection: bool,
}

/// Every stream protocol, in probing order (after the port's own).
pub static PROTOCOLS: &[&Protocol] = &[
    &http::PROTOCOL,
    &tls::PROTOCOL,
    &ssh::PROTOCOL,
    &ftp::PROTOCOL,
    &pop3::PROTOCOL,
    &imap::PROTOCOL,
    &smtp::PROTOCOL,
    &telnet::PROTOCOL,
    &socks::PROTOCOL,
    &kerberos::PROTOCOL,
    &irc::PROTOCOL,
    &rdp::PROTOCOL,
];

/// What `-no-secrets` writes in place of a password that was sent (Zeek's
/// ftp.log placeholder).
pub const HIDDEN: &str = "<hidden>";

/// Lossy UTF-8 of protocol bytes (commands, arguments, header values).
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Notes software a side names (its identification string, User-Agent,
/// Server header or greeting) for the Connection record's
/// `client_software` / `server_software`: lossy UTF-8 without surrounding
/// blanks, cut at a character boundary to [`netcap_flow::MAX_SOFTWARE_BYTES`];
/// distinct values only, at most [`netcap_flow::MAX_SOFTWARE_PER_SIDE`].
pub fn name_software(list: &mut Vec<String>, value: &[u8]) {
    let value = value.trim_ascii();
    if value.is_empty() || list.len() >= netcap_flow::MAX_SOFTWARE_PER_SIDE {
        return;
    }
    let text = String::from_utf8_lossy(value);
    let mut end = text.len().min(netcap_flow::MAX_SOFTWARE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let text = &text[..end];
    if !list.iter().any(|s| s == text) {
        list.push(text.to_string());
    }
}

/// User and password of a SASL PLAIN response (RFC 4616: base64 of
/// `authzid\0user\0password`); `None` if it is not one.
pub fn sasl_plain(base64_text: &str) -> Option<(String, String)> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD.decode(base64_text.trim()).ok()?;
    let mut parts = decoded.split(|&b| b == 0);
    let _authzid = parts.next()?;
    let user = parts.next()?;
    let password = parts.next()?;
    Some((lossy(user), lossy(password)))
}

/// The protocol of a name in [`PROTOCOLS`].
pub fn protocol_named(name: &str) -> Option<&'static Protocol> {
    PROTOCOLS.iter().copied().find(|p| p.name.eq_ignore_ascii_case(name))
}

/// Name of the stream protocol whose well-known TCP port is `port`.
pub fn tcp_port_name(port: u16) -> Option<&'static str> {
    PROTOCOLS.iter().find(|p| p.tcp_ports.contains(&port)).map(|p| p.name)
}

/// A parser's state for one connection (both directions).
///
/// Calls come in capture order. `parse` gets each direction's bytes in
/// stream order; after `gap(dir, n)` the next bytes of `dir` start `n`
/// bytes after the previous ones. `end(dir)` says a direction is over (FIN,
/// RST, or the connection ended) and hands over its unconsumed rest;
/// `finish` comes once, last, when the connection ends: emit whatever is
/// pending (a request without a response).
pub trait StreamParser: Send {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed;
    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64);
    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]);
    fn finish(&mut self, cx: &mut ParseContext<'_>);
    /// What the parser learned for the Connection record (TLS outcome).
    fn facts(&self, _facts: &mut ConnectionExtras) {}
    /// Heap bytes the parser holds beyond its own struct (buffered messages,
    /// open files), for the shard's memory cap.
    fn memory(&self) -> usize {
        0
    }
}

/// Per-protocol parse-error counts of a shard, indexed like [`PROTOCOLS`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProtocolErrors {
    pub errors: Vec<u64>,
}

impl ProtocolErrors {
    pub fn merge(&mut self, other: &ProtocolErrors) {
        if self.errors.len() < other.errors.len() {
            self.errors.resize(other.errors.len(), 0);
        }
        for (a, b) in self.errors.iter_mut().zip(&other.errors) {
            *a += b;
        }
    }
}

/// What a parser works with besides its bytes: the connection, where records
/// and files go, and the capture time of the bytes.
pub struct ParseContext<'a> {
    pub conn: &'a ConnInfo,
    pub emit: &'a mut Emitter,
    pub files: &'a mut Files,
    /// The packet being processed (the latest bytes came with it).
    pub now: PacketTime,
    /// For the bytes handed to `parse` (or `end`): (offset, packet) pairs in
    /// offset order, the packet each run of bytes starting at that offset
    /// came with. Empty means all came with `now`.
    pub times: &'a [(usize, PacketTime)],
    /// Index of the parser's protocol in [`PROTOCOLS`] (error counts).
    pub protocol: usize,
    pub errors: &'a mut ProtocolErrors,
    /// Bytes the parser may add to what it holds: the shard's stream memory
    /// cap less what its streams held before this packet (`usize::MAX`
    /// where no cap applies). Parsers that keep content (mail messages)
    /// keep no more than this.
    pub memory_room: usize,
}

impl ParseContext<'_> {
    /// The packet that carried byte `offset` of the bytes being parsed.
    pub fn time_at(&self, offset: usize) -> PacketTime {
        match self.times.partition_point(|&(start, _)| start <= offset) {
            0 => self.times.first().map_or(self.now, |&(_, t)| t),
            i => self.times[i - 1].1,
        }
    }

    /// A password as it may be written: as sent, or [`HIDDEN`] under
    /// `-no-secrets` (an empty one stays empty: nothing was sent).
    pub fn secret(&self, password: String) -> String {
        if self.emit.secrets() || password.is_empty() { password } else { HIDDEN.to_owned() }
    }

    /// Counts a parse error of this protocol (malformed message, a bound
    /// hit). The parser resumes where it can.
    pub fn error(&mut self) {
        if self.errors.errors.len() <= self.protocol {
            self.errors.errors.resize(PROTOCOLS.len().max(self.protocol + 1), 0);
        }
        self.errors.errors[self.protocol] += 1;
    }
}

/// Hands the bytes given to an outer parser's `parse`, from `offset` on,
/// to `inner`: a protocol spoken inside the connection after the outer
/// one's handshake (TLS after RDP's negotiation, a SOCKS tunnel's
/// protocol). The inner parser sees offsets and packet times starting at
/// `offset`; its verdict is returned in the outer parser's offsets.
pub fn parse_inner(
    inner: &mut dyn StreamParser,
    cx: &mut ParseContext<'_>,
    dir: Direction,
    data: &[u8],
    offset: usize,
) -> Parsed {
    let Some(rest) = data.get(offset..) else { return Parsed::Continue { consumed: data.len(), needed: 0 } };
    let shifted: Vec<(usize, PacketTime)>;
    let times = if offset == 0 || cx.times.is_empty() {
        cx.times
    } else {
        let first = cx.time_at(offset);
        shifted = std::iter::once((0, first))
            .chain(cx.times.iter().filter(|&&(start, _)| start > offset).map(|&(start, t)| (start - offset, t)))
            .collect();
        &shifted
    };
    let mut cx = ParseContext {
        conn: cx.conn,
        emit: &mut *cx.emit,
        files: &mut *cx.files,
        now: cx.now,
        times,
        protocol: cx.protocol,
        errors: &mut *cx.errors,
        memory_room: cx.memory_room,
    };
    match inner.parse(&mut cx, dir, rest) {
        Parsed::Continue { consumed, needed } => Parsed::Continue { consumed: offset + consumed, needed },
        Parsed::Done => Parsed::Done,
    }
}

/// TLS that follows another protocol's handshake in the same connection
/// (SMTP STARTTLS, RDP's negotiation): the TLS parser, fed what comes
/// after the switch.
pub struct InnerTls(Box<dyn StreamParser>);

impl std::fmt::Debug for InnerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InnerTls")
    }
}

impl Default for InnerTls {
    fn default() -> Self {
        InnerTls((tls::PROTOCOL.new_parser)())
    }
}

impl InnerTls {
    /// The parser, for its `gap`, `end`, `finish` and `facts`.
    pub fn parser(&mut self) -> &mut dyn StreamParser {
        self.0.as_mut()
    }

    /// Hands `data` from `offset` on to TLS ([`parse_inner`]).
    pub fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8], offset: usize) -> Parsed {
        parse_inner(self.0.as_mut(), cx, dir, data, offset)
    }

    pub fn facts(&self, facts: &mut ConnectionExtras) {
        self.0.facts(facts);
    }

    /// The bytes of a protocol that ended at `data[at..]`: TLS's if it
    /// switched to TLS (`tls`), else nothing more is read.
    pub fn after(
        tls: &mut Option<InnerTls>,
        cx: &mut ParseContext<'_>,
        dir: Direction,
        data: &[u8],
        at: usize,
    ) -> Parsed {
        match tls {
            Some(tls) => tls.parse(cx, dir, data, at),
            None => Parsed::Done,
        }
    }

    /// Heap bytes, the TLS parser's struct included.
    pub fn memory(&self) -> usize {
        std::mem::size_of_val(&*self.0) + self.0.memory()
    }
}

/// Bytes from hex text (whitespace ignored), for test fixtures.
#[cfg(test)]
pub(crate) fn unhex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    s.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

/// A `tshark -q -z follow,tcp,raw,N` printout's data lines, for test
/// fixtures: (from the client, bytes) per line (the server's lines are
/// indented by a tab).
#[cfg(test)]
pub(crate) fn follow_raw(text: &str) -> Vec<(bool, Vec<u8>)> {
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| (!l.starts_with('\t'), unhex(l))).collect()
}

/// A context for parser tests and fuzzing: a connection 10.0.0.1:40000 ->
/// 10.0.0.2:80 (first frame 1), every record type wanted, no file
/// extraction.
pub struct TestHarness {
    pub conn: ConnInfo,
    pub emit: Emitter,
    pub files: Files,
    pub errors: ProtocolErrors,
    pub now: PacketTime,
    /// The contexts' `memory_room` (`usize::MAX`: no cap).
    pub memory_room: usize,
}

impl Default for TestHarness {
    fn default() -> Self {
        TestHarness {
            conn: ConnInfo {
                client_ip: std::net::IpAddr::from([10, 0, 0, 1]),
                client_port: 40000,
                server_ip: std::net::IpAddr::from([10, 0, 0, 2]),
                server_port: 80,
                first: PacketTime { timestamp_ns: 1_000_000_000, frame: 1 },
                community_id: "1:test".into(),
            },
            emit: Emitter::all(),
            files: Files::new(crate::files::FileConfig::default(), 0),
            errors: ProtocolErrors::default(),
            now: PacketTime { timestamp_ns: 1_000_000_000, frame: 1 },
            memory_room: usize::MAX,
        }
    }
}

/// Runs a line-based parser (FTP, POP3, IMAP) on arbitrary bytes for
/// fuzzing: the first byte chooses the segment size (1 to 31) and how
/// segments alternate between directions; every seventh segment is lost to
/// a gap. Whatever the parser leaves is handed to `end`, then `finish`.
pub fn fuzz_two_way(parser: &mut dyn StreamParser, data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else { return };
    let mut h = TestHarness::default();
    let step = usize::from(seed % 31) + 1;
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (i, chunk) in rest.chunks(step).enumerate() {
        let dir = if (i + usize::from(seed >> 5)) % 2 == 0 { Direction::ToServer } else { Direction::ToClient };
        let buf = &mut pending[dir.index()];
        buf.extend_from_slice(chunk);
        if i % 7 == 6 {
            parser.gap(&mut h.cx(), dir, 10);
            buf.clear();
            continue;
        }
        match parser.parse(&mut h.cx(), dir, buf) {
            Parsed::Continue { consumed, .. } => {
                buf.drain(..consumed.min(buf.len()));
            }
            Parsed::Done => buf.clear(),
        }
    }
    for dir in [Direction::ToServer, Direction::ToClient] {
        let rest = std::mem::take(&mut pending[dir.index()]);
        parser.end(&mut h.cx(), dir, &rest);
    }
    parser.finish(&mut h.cx());
}

impl TestHarness {
    /// A parse context over the harness (all bytes came with `now`).
    pub fn cx(&mut self) -> ParseContext<'_> {
        ParseContext {
            conn: &self.conn,
            emit: &mut self.emit,
            files: &mut self.files,
            now: self.now,
            times: &[],
            protocol: 0,
            errors: &mut self.errors,
            memory_room: self.memory_room,
        }
    }

    /// Feeds `data` to `parser` the way reassembly does: keeps the
    /// unconsumed rest in `pending` and hands it back with the next bytes.
    /// `chunk` cuts `data` into pieces of at most that many bytes (every
    /// segmentation must give the same records). Unlike reassembly, it calls
    /// `parse` after every piece, whatever `needed` said: parsers must cope
    /// with being asked early. Returns true once the parser said
    /// [`Parsed::Done`].
    pub fn feed(
        &mut self,
        parser: &mut dyn StreamParser,
        dir: Direction,
        data: &[u8],
        chunk: usize,
        pending: &mut Vec<u8>,
    ) -> bool {
        let mut done = false;
        for piece in data.chunks(chunk.max(1)) {
            if done {
                break;
            }
            pending.extend_from_slice(piece);
            match parser.parse(&mut self.cx(), dir, pending) {
                Parsed::Continue { consumed, .. } => {
                    pending.drain(..consumed.min(pending.len()));
                }
                Parsed::Done => {
                    pending.clear();
                    done = true;
                }
            }
        }
        done
    }
}
