//! SOCKS 4, 4a (no RFC; the NEC and OpenSSH texts) and 5 (RFC 1928, with
//! username/password authentication, RFC 1929) from reassembled streams:
//! one `SOCKS` record per connection, a `Credentials` record per RFC 1929
//! login, and the tunnel after a successful CONNECT handed to the protocol
//! detected in it.
//!
//! The messages ([`ClientMessage`], [`ServerMessage`]) are parsed by pure
//! functions over bytes ([`parse_client`], [`parse_server`]). SOCKS 5's
//! client messages tell themselves apart by their first byte (5: greeting
//! or request; 1: RFC 1929 authentication), so a client that sends its
//! request before the proxy answered its greeting is read all the same.
//!
//! # The tunnel
//!
//! After a reply that grants a CONNECT, each direction's bytes are the
//! tunnelled connection's. They are probed like a new connection's (the
//! protocol whose port the client asked for first, with its port probe,
//! then the rest of [`crate::protocols::PROTOCOLS`]) and handed to that
//! protocol's parser, whose records are written as for a direct connection
//! (with the SOCKS connection's endpoints); the protocol's name is the
//! record's `tunnel_protocol`. Parse errors inside the tunnel count as
//! SOCKS errors. Bytes that no probe recognises (after [`PROBE_BYTES`]) end
//! parsing of that direction. A BIND's second reply is not waited for: its
//! tunnel is not followed.
//!
//! # Bounds
//!
//! A message is at most 4 + 1 + 255 + 2 bytes (SOCKS 5) or its user ID and
//! name are cut at [`MAX_FIELD`] bytes (SOCKS 4: a message without its NUL
//! within that many bytes is an error and ends parsing). A malformed
//! message, or a gap before the reply, ends parsing (an error is counted);
//! the record is still written.

#[cfg(test)]
mod tests;

use crate::emit::ConnRecord;
use crate::protocols::{Direction, PROTOCOLS, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy};
use crate::{ConnectionExtras, PacketTime};
use netcap_records::{Credentials, RecordType, Socks as SocksRecord};

pub static PROTOCOL: Protocol = Protocol {
    name: "SOCKS",
    record_types: &[RecordType::Socks, RecordType::Credentials],
    tcp_ports: &[1080],
    probe,
    port_probe: None,
    new_parser: || Box::new(Socks::default()),
    fills_connection: false,
};

/// Longest SOCKS 4 user ID or 4a name read.
pub const MAX_FIELD: usize = 255;
/// Tunnel bytes probed per direction before giving up.
pub const PROBE_BYTES: usize = 4096;

/// Why a message is not SOCKS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocksError {
    #[error("unknown SOCKS version {0}")]
    Version(u8),
    #[error("SOCKS 4 user ID or name without its NUL in {MAX_FIELD} bytes")]
    Unterminated,
    #[error("SOCKS 5 greeting offers no method")]
    NoMethods,
    #[error("unknown SOCKS 5 address type {0}")]
    AddressType(u8),
    #[error("unexpected SOCKS message starting with {0}")]
    Unexpected(u8),
}

/// An address of a request or reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    V4([u8; 4]),
    V6([u8; 16]),
    Name(String),
}

/// A message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// SOCKS 4 or 4a request (4a: `name` set, the address 0.0.0.x).
    V4Request { command: u8, port: u16, ip: [u8; 4], user: String, name: Option<String> },
    /// SOCKS 5 greeting: the methods offered.
    V5Greeting { methods: Vec<u8> },
    /// RFC 1929 username/password.
    V5Auth { user: String, password: String },
    /// SOCKS 5 request.
    V5Request { command: u8, address: Address, port: u16 },
}

/// A message from the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// SOCKS 4 reply (code 90 granted, 91-93 refused).
    V4Reply { code: u8, port: u16, ip: [u8; 4] },
    /// SOCKS 5 method selection (255: none acceptable).
    V5Method(u8),
    /// RFC 1929 status (0: success).
    V5AuthStatus(u8),
    /// SOCKS 5 reply (0 succeeded).
    V5Reply { code: u8, address: Address, port: u16 },
}

/// A parse result: the message and its length, or `None` when more bytes
/// are needed.
pub type Result<T> = std::result::Result<Option<(T, usize)>, SocksError>;

fn be16(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

/// A NUL-terminated field at `at`: (text, length with the NUL).
fn nul_field(data: &[u8], at: usize) -> std::result::Result<Option<(String, usize)>, SocksError> {
    let rest = data.get(at..).unwrap_or_default();
    match rest.iter().take(MAX_FIELD + 1).position(|&b| b == 0) {
        Some(end) => Ok(Some((lossy(&rest[..end]), end + 1))),
        None if rest.len() > MAX_FIELD => Err(SocksError::Unterminated),
        None => Ok(None),
    }
}

/// A SOCKS 5 address (ATYP at `at`) and port: (address, port, length).
fn address(data: &[u8], at: usize) -> std::result::Result<Option<(Address, u16, usize)>, SocksError> {
    let Some(&atyp) = data.get(at) else { return Ok(None) };
    let (address, len) = match atyp {
        1 => match data.get(at + 1..at + 5) {
            Some(b) => (Address::V4([b[0], b[1], b[2], b[3]]), 5),
            None => return Ok(None),
        },
        4 => match data.get(at + 1..at + 17).and_then(|b| <[u8; 16]>::try_from(b).ok()) {
            Some(b) => (Address::V6(b), 17),
            None => return Ok(None),
        },
        3 => {
            let Some(&n) = data.get(at + 1) else { return Ok(None) };
            let n = usize::from(n);
            match data.get(at + 2..at + 2 + n) {
                Some(name) => (Address::Name(lossy(name)), 2 + n),
                None => return Ok(None),
            }
        }
        other => return Err(SocksError::AddressType(other)),
    };
    match be16(data, at + len) {
        Some(port) => Ok(Some((address, port, len + 2))),
        None => Ok(None),
    }
}

/// What the client's next message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientExpect {
    /// A SOCKS 4 request or a SOCKS 5 greeting.
    #[default]
    First,
    /// After a SOCKS 5 greeting: an RFC 1929 login (first byte 1) or the
    /// request (5). `gssapi`: the proxy chose GSSAPI, whose tokens also
    /// start with 1 and are not read.
    V5Next { gssapi: bool },
}

/// Parses the client's next message.
pub fn parse_client(data: &[u8], expect: ClientExpect) -> Result<ClientMessage> {
    let Some(&first) = data.first() else { return Ok(None) };
    match (expect, first) {
        (ClientExpect::First, 4) => {
            let Some(b) = data.get(..8) else { return Ok(None) };
            let (command, port, ip) = (b[1], u16::from_be_bytes([b[2], b[3]]), [b[4], b[5], b[6], b[7]]);
            let Some((user, user_len)) = nul_field(data, 8)? else { return Ok(None) };
            let mut len = 8 + user_len;
            let mut name = None;
            if ip[..3] == [0, 0, 0] && ip[3] != 0 {
                // SOCKS 4a: the name follows.
                let Some((n, n_len)) = nul_field(data, len)? else { return Ok(None) };
                name = Some(n);
                len += n_len;
            }
            Ok(Some((ClientMessage::V4Request { command, port, ip, user, name }, len)))
        }
        (ClientExpect::First, 5) => {
            let Some(&n) = data.get(1) else { return Ok(None) };
            let n = usize::from(n);
            if n == 0 {
                return Err(SocksError::NoMethods);
            }
            match data.get(2..2 + n) {
                Some(methods) => Ok(Some((ClientMessage::V5Greeting { methods: methods.to_vec() }, 2 + n))),
                None => Ok(None),
            }
        }
        (ClientExpect::First, other) => Err(SocksError::Version(other)),
        (ClientExpect::V5Next { .. }, 5) => {
            let Some(&command) = data.get(1) else { return Ok(None) };
            let Some((address, port, len)) = address(data, 3)? else { return Ok(None) };
            Ok(Some((ClientMessage::V5Request { command, address, port }, 3 + len)))
        }
        (ClientExpect::V5Next { gssapi: false }, 1) => {
            let Some(&ulen) = data.get(1) else { return Ok(None) };
            let ulen = usize::from(ulen);
            let Some(&plen) = data.get(2 + ulen) else { return Ok(None) };
            let plen = usize::from(plen);
            let Some(password) = data.get(3 + ulen..3 + ulen + plen) else { return Ok(None) };
            let user = lossy(&data[2..2 + ulen]);
            Ok(Some((ClientMessage::V5Auth { user, password: lossy(password) }, 3 + ulen + plen)))
        }
        (ClientExpect::V5Next { .. }, other) => Err(SocksError::Unexpected(other)),
    }
}

/// What the proxy's next message is, by what came before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ServerExpect {
    /// SOCKS 4's reply.
    #[default]
    V4Reply,
    /// SOCKS 5's method selection.
    V5Method,
    /// An RFC 1929 status or the reply (told apart by the first byte).
    V5Next,
}

/// Parses the proxy's next message.
pub fn parse_server(data: &[u8], expect: ServerExpect) -> Result<ServerMessage> {
    match expect {
        ServerExpect::V4Reply => {
            let Some(b) = data.get(..8) else { return Ok(None) };
            let (code, port, ip) = (b[1], u16::from_be_bytes([b[2], b[3]]), [b[4], b[5], b[6], b[7]]);
            Ok(Some((ServerMessage::V4Reply { code, port, ip }, 8)))
        }
        ServerExpect::V5Method => match data {
            [5, method, ..] => Ok(Some((ServerMessage::V5Method(*method), 2))),
            [5] | [] => Ok(None),
            [other, ..] => Err(SocksError::Unexpected(*other)),
        },
        ServerExpect::V5Next => match data {
            [1, status, ..] => Ok(Some((ServerMessage::V5AuthStatus(*status), 2))),
            [5, code, _, ..] => match address(data, 3)? {
                Some((address, port, len)) => {
                    Ok(Some((ServerMessage::V5Reply { code: *code, address, port }, 3 + len)))
                }
                None => Ok(None),
            },
            [1] | [5] | [5, _] | [] => Ok(None),
            [other, ..] => Err(SocksError::Unexpected(*other)),
        },
    }
}

/// A client's first bytes: a SOCKS 4 request with its user ID's NUL, or a
/// SOCKS 5 greeting of 1-9 distinct known methods (alone, or followed by
/// the next message).
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    if dir == Direction::ToClient {
        return Probe::No;
    }
    match data {
        [] | [4 | 5] => Probe::NeedMore,
        [4, 1 | 2, ..] => match nul_field(data, 8) {
            _ if data.len() < 8 => Probe::NeedMore,
            Ok(Some(_)) => Probe::Yes,
            Ok(None) => Probe::NeedMore,
            Err(_) => Probe::No,
        },
        [5, n @ 1..=9, rest @ ..] => {
            let n = usize::from(*n);
            let Some(methods) = rest.get(..n) else { return Probe::NeedMore };
            let known = |m: &u8| *m <= 9 || *m >= 0x80 && *m != 0xFF;
            let distinct = methods.iter().enumerate().all(|(i, m)| !methods[..i].contains(m));
            let next_ok = matches!(rest.get(n), None | Some(1 | 5));
            if methods.iter().all(known) && distinct && next_ok { Probe::Yes } else { Probe::No }
        }
        _ => Probe::No,
    }
}

/// Zeek's wording of a reply code.
pub fn status_text(version: u32, code: u8) -> String {
    let text = match (version, code) {
        (4, 90) => "succeeded",
        (4, 91) => "general SOCKS server failure",
        (4, 92) => "request failed because client is not running identd",
        (4, 93) => "request failed because client's identd could not confirm the user ID string in the request",
        (5, 0) => "succeeded",
        (5, 1) => "general SOCKS server failure",
        (5, 2) => "connection not allowed by ruleset",
        (5, 3) => "Network unreachable",
        (5, 4) => "Host unreachable",
        (5, 5) => "Connection refused",
        (5, 6) => "TTL expired",
        (5, 7) => "Command not supported",
        (5, 8) => "Address type not supported",
        _ => return format!("unknown ({code})"),
    };
    text.to_owned()
}

/// Name of a request command.
pub fn command_name(version: u32, command: u8) -> String {
    match (version, command) {
        (_, 1) => "CONNECT".into(),
        (_, 2) => "BIND".into(),
        (5, 3) => "UDP ASSOCIATE".into(),
        (5, 0xF0) => "RESOLVE".into(),
        (5, 0xF1) => "RESOLVE_PTR".into(),
        (_, n) => n.to_string(),
    }
}

/// Name of a SOCKS 5 authentication method.
pub fn method_name(method: u8) -> String {
    match method {
        0 => "no authentication".into(),
        1 => "GSSAPI".into(),
        2 => "username/password".into(),
        0xFF => "no acceptable methods".into(),
        n => n.to_string(),
    }
}

fn set_address(host: &mut Vec<u8>, name: &mut String, address: &Address) {
    match address {
        Address::V4(ip) => *host = ip.to_vec(),
        Address::V6(ip) => *host = ip.to_vec(),
        Address::Name(n) => *name = n.clone(),
    }
}

/// The tunnel after a granted CONNECT.
#[derive(Default)]
enum Tunnel {
    /// No granted CONNECT (yet).
    #[default]
    Closed,
    /// Granted: the tunnel's first bytes are probed; `refused`: a direction
    /// whose bytes matched nothing.
    Open { refused: [bool; 2] },
    /// The parser of the tunnel's protocol.
    Following(Box<dyn StreamParser>),
    /// Nothing recognised in the tunnel (or the handshake failed).
    Unknown,
}

/// A message of either side.
enum Message {
    Client(ClientMessage),
    Server(ServerMessage),
}

/// The SOCKS parser of one connection.
#[derive(Default)]
pub struct Socks {
    record: SocksRecord,
    /// The request's (or first message's) packet.
    at: Option<PacketTime>,
    client_expect: ClientExpect,
    server_expect: ServerExpect,
    /// Each side's handshake is over (request sent; reply received, or an
    /// error).
    handshake_over: [bool; 2],
    /// The connection's record was written.
    written: bool,
    /// An RFC 1929 login waiting for its status.
    login: Option<(PacketTime, String, String)>,
    tunnel: Tunnel,
}

impl Socks {
    fn credential(cx: &mut ParseContext<'_>, at: PacketTime, user: String, password: String, success: Option<bool>) {
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let mut r = Credentials {
            protocol: "SOCKS".into(),
            user,
            password: cx.secret(password),
            success,
            notes: "RFC 1929 username/password".into(),
            ..Default::default()
        };
        r.set_conn(cx.conn, at, Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    fn client_message(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, message: ClientMessage) {
        if self.at.is_none() {
            self.at = Some(at);
        }
        let r = &mut self.record;
        match message {
            ClientMessage::V4Request { command, port, ip, user, name } => {
                r.version = 4;
                r.request_type = command_name(4, command);
                r.request_p = u32::from(port);
                match name {
                    Some(name) => r.request_name = name,
                    None => r.request_host = ip.to_vec(),
                }
                r.user = user;
                self.at = Some(at);
                self.server_expect = ServerExpect::V4Reply;
                self.handshake_over[0] = true;
            }
            ClientMessage::V5Greeting { methods } => {
                r.version = 5;
                r.auth_methods = methods.into_iter().map(method_name).collect();
                self.client_expect = ClientExpect::V5Next { gssapi: false };
                self.server_expect = ServerExpect::V5Method;
            }
            ClientMessage::V5Auth { user, password } => {
                r.user = user.clone();
                r.password = cx.secret(password.clone());
                self.login = Some((at, user, password));
            }
            ClientMessage::V5Request { command, address, port } => {
                r.request_type = command_name(5, command);
                set_address(&mut r.request_host, &mut r.request_name, &address);
                r.request_p = u32::from(port);
                self.at = Some(at);
                self.handshake_over[0] = true;
            }
        }
    }

    fn server_message(&mut self, cx: &mut ParseContext<'_>, message: ServerMessage) {
        let r = &mut self.record;
        let mut failed = false;
        match message {
            ServerMessage::V4Reply { code, port, ip } => {
                r.reply_code = Some(u32::from(code));
                r.status = status_text(4, code);
                r.bound_host = ip.to_vec();
                r.bound_p = u32::from(port);
                self.handshake_over[1] = true;
            }
            ServerMessage::V5Method(method) => {
                r.auth_method = method_name(method);
                self.server_expect = ServerExpect::V5Next;
                self.client_expect = ClientExpect::V5Next { gssapi: method == 1 };
                failed = method == 0xFF;
            }
            ServerMessage::V5AuthStatus(status) => {
                r.auth_success = Some(status == 0);
                if let Some((at, user, password)) = self.login.take() {
                    Self::credential(cx, at, user, password, Some(status == 0));
                }
                failed = status != 0;
            }
            ServerMessage::V5Reply { code, address, port } => {
                r.reply_code = Some(u32::from(code));
                r.status = status_text(5, code);
                set_address(&mut r.bound_host, &mut r.bound_name, &address);
                r.bound_p = u32::from(port);
                self.handshake_over[1] = true;
            }
        }
        if failed {
            // No request follows (or none is served).
            self.handshake_over = [true, true];
            self.tunnel = Tunnel::Unknown;
        } else if self.handshake_over[1] {
            let granted = matches!(self.record.reply_code, Some(0 | 90));
            self.tunnel = if granted && self.record.request_type == "CONNECT" {
                Tunnel::Open { refused: [false; 2] }
            } else {
                Tunnel::Unknown
            };
        }
    }

    /// Writes the connection's record (once).
    fn write(&mut self, cx: &mut ParseContext<'_>) {
        if self.written || self.record.version == 0 {
            return;
        }
        self.written = true;
        if let Some((at, user, password)) = self.login.take() {
            Self::credential(cx, at, user, password, None);
        }
        if !cx.emit.wants(RecordType::Socks) {
            return;
        }
        let mut r = std::mem::take(&mut self.record);
        r.set_conn(cx.conn, self.at.unwrap_or(cx.now), Direction::ToServer);
        cx.emit.emit(RecordType::Socks, &r);
    }

    /// The SOCKS messages of `dir` at the start of `data`: how many bytes
    /// they took.
    fn handshake(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> usize {
        let mut at = 0;
        while !self.handshake_over[dir.index()] {
            let rest = &data[at..];
            let parsed = match dir {
                Direction::ToServer => {
                    parse_client(rest, self.client_expect).map(|m| m.map(|(m, n)| (Message::Client(m), n)))
                }
                // The proxy spoke first: not an exchange this parser reads.
                Direction::ToClient if self.record.version == 0 => {
                    Err(SocksError::Unexpected(rest.first().copied().unwrap_or(0)))
                }
                Direction::ToClient => {
                    parse_server(rest, self.server_expect).map(|m| m.map(|(m, n)| (Message::Server(m), n)))
                }
            };
            match parsed {
                Ok(Some((message, n))) => {
                    let time = cx.time_at(at);
                    at += n;
                    match message {
                        Message::Client(m) => self.client_message(cx, time, m),
                        Message::Server(m) => self.server_message(cx, m),
                    }
                }
                Ok(None) => break,
                Err(_) => {
                    cx.error();
                    self.handshake_over = [true, true];
                    self.tunnel = Tunnel::Unknown;
                }
            }
        }
        at
    }

    /// Probes the tunnel's first bytes of `dir` (the protocol of the port
    /// asked for first); decides the tunnel's protocol on a match.
    fn probe_tunnel(&mut self, dir: Direction, data: &[u8]) {
        let Tunnel::Open { mut refused } = self.tunnel else { return };
        if refused[dir.index()] {
            // Held for the other direction's decision, within bounds.
            if data.len() > PROBE_BYTES {
                self.tunnel = Tunnel::Unknown;
            }
            return;
        }
        let port = self.record.request_p;
        let by_port = PROTOCOLS.iter().position(|p| p.tcp_ports.iter().any(|&q| u32::from(q) == port));
        let order = by_port.into_iter().chain((0..PROTOCOLS.len()).filter(|&i| Some(i) != by_port));
        let mut undecided = false;
        for i in order {
            let protocol = PROTOCOLS[i];
            if protocol.name == PROTOCOL.name {
                continue;
            }
            let probe = match protocol.port_probe {
                Some(port_probe) if Some(i) == by_port => port_probe,
                _ => protocol.probe,
            };
            match probe(dir, data) {
                Probe::Yes => {
                    self.record.tunnel_protocol = protocol.name.to_owned();
                    self.tunnel = Tunnel::Following((protocol.new_parser)());
                    return;
                }
                Probe::NeedMore => undecided = true,
                Probe::No => {}
            }
        }
        if !undecided || data.len() >= PROBE_BYTES {
            refused[dir.index()] = true;
        }
        self.tunnel = if refused == [true, true] { Tunnel::Unknown } else { Tunnel::Open { refused } };
    }

    /// Hands tunnel bytes (from `offset` of the bytes given to `parse`) to
    /// the tunnel's parser.
    fn follow(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8], offset: usize) -> Parsed {
        let Tunnel::Following(parser) = &mut self.tunnel else { return Parsed::Done };
        crate::protocols::parse_inner(parser.as_mut(), cx, dir, data, offset)
    }
}

impl StreamParser for Socks {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        let consumed = self.handshake(cx, dir, data);
        if !self.handshake_over[dir.index()] {
            return Parsed::Continue { consumed, needed: 1 };
        }
        let rest = &data[consumed..];
        if matches!(self.tunnel, Tunnel::Open { .. }) && !rest.is_empty() {
            self.probe_tunnel(dir, rest);
        }
        if !matches!(self.tunnel, Tunnel::Closed | Tunnel::Open { .. }) {
            // The tunnel is decided (or there is none): the record is
            // complete.
            self.write(cx);
        }
        match self.tunnel {
            // The request is read; tunnel bytes wait for the reply, and
            // for the probes.
            Tunnel::Closed | Tunnel::Open { .. } => Parsed::Continue { consumed, needed: 1 },
            Tunnel::Unknown => Parsed::Done,
            Tunnel::Following(..) if rest.is_empty() => Parsed::Continue { consumed, needed: 1 },
            Tunnel::Following(..) => self.follow(cx, dir, data, consumed),
        }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        if let Tunnel::Following(parser) = &mut self.tunnel {
            return parser.gap(cx, dir, len);
        }
        cx.error();
        // The handshake or the tunnel's start lost bytes: what came is
        // written, nothing more read.
        self.handshake_over = [true, true];
        self.tunnel = Tunnel::Unknown;
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]) {
        if !self.handshake_over[dir.index()] {
            return;
        }
        // Tunnel bytes held for the probes (or for the other direction's
        // decision) go to the tunnel's parser now.
        if matches!(self.tunnel, Tunnel::Open { .. }) && !rest.is_empty() {
            self.probe_tunnel(dir, rest);
        }
        let left = match self.follow(cx, dir, rest, 0) {
            Parsed::Continue { consumed, .. } => rest.get(consumed..).unwrap_or_default(),
            Parsed::Done => &[],
        };
        if let Tunnel::Following(parser) = &mut self.tunnel {
            parser.end(cx, dir, left);
        }
    }

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        self.write(cx);
        if let Tunnel::Following(parser) = &mut self.tunnel {
            parser.finish(cx);
        }
    }

    fn facts(&self, facts: &mut ConnectionExtras) {
        if let Tunnel::Following(parser) = &self.tunnel {
            parser.facts(facts);
        }
    }

    fn memory(&self) -> usize {
        let r = &self.record;
        let own = r.user.capacity()
            + r.password.capacity()
            + r.request_name.capacity()
            + r.bound_name.capacity()
            + r.auth_methods.len() * 48;
        own + match &self.tunnel {
            Tunnel::Following(parser) => parser.memory() + 256,
            _ => 0,
        }
    }
}

/// Runs the message parsers on the bytes as they are, and the parser on
/// arbitrary segments of both directions
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    for expect in [ClientExpect::First, ClientExpect::V5Next { gssapi: false }, ClientExpect::V5Next { gssapi: true }] {
        let _ = parse_client(data, expect);
    }
    for expect in [ServerExpect::V4Reply, ServerExpect::V5Method, ServerExpect::V5Next] {
        let _ = parse_server(data, expect);
    }
    let _ = probe(Direction::ToServer, data);
    crate::protocols::fuzz_two_way(&mut Socks::default(), data);
}
