//! IRC from reassembled streams (RFC 1459, 2812; CTCP DCC): one `IRC`
//! record per client command, one per DCC offer a server relays, and a
//! `Credentials` record per PASS (the server password) and OPER.
//!
//! Every line is `[:prefix] COMMAND params [:trailing]` ([`parse_line`]).
//! The record keeps the client's nick (its last NICK) and user name (its
//! USER); `value` is the first parameter and `addl` the others, as Zeek's
//! irc.log has them. A PRIVMSG or NOTICE whose text is a CTCP `DCC` request
//! (`\x01DCC SEND name ip port [size]\x01`) fills the `dcc_*` fields
//! ([`parse_dcc`]); the address is IPv4 as a decimal number or an IPv6
//! literal. STARTTLS answered 670 ends parsing (TLS follows).
//!
//! # Bounds
//!
//! Lines are cut at [`MAX_LINE`] bytes (RFC 2812 allows 512; an error is
//! counted), and a line without its end after that many bytes is skipped.
//! After a gap a direction skips to the next line end.

#[cfg(test)]
mod tests;

use crate::PacketTime;
use crate::emit::ConnRecord;
use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy};
use netcap_records::{Credentials, Irc as IrcRecord, RecordType};

pub static PROTOCOL: Protocol = Protocol {
    name: "IRC",
    record_types: &[RecordType::Irc, RecordType::Credentials],
    tcp_ports: &[6667],
    probe,
    port_probe: None,
    new_parser: || Box::new(Irc::default()),
    fills_connection: false,
};

/// Longest line kept.
pub const MAX_LINE: usize = 8192;

/// One IRC line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Line<'a> {
    pub prefix: &'a str,
    pub command: &'a str,
    /// Middle parameters, then the trailing one (without its colon).
    pub params: Vec<&'a str>,
}

/// Splits a line (without its CR LF) into prefix, command and parameters.
/// `None` for an empty line.
pub fn parse_line(line: &str) -> Option<Line<'_>> {
    let mut rest = line.trim_start_matches(' ');
    let mut prefix = "";
    if let Some(p) = rest.strip_prefix(':') {
        let (pre, after) = p.split_once(' ').unwrap_or((p, ""));
        prefix = pre;
        rest = after.trim_start_matches(' ');
    }
    let (command, mut rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if command.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches(' ');
        if rest.is_empty() {
            break;
        }
        if let Some(trailing) = rest.strip_prefix(':') {
            params.push(trailing);
            break;
        }
        let (param, after) = rest.split_once(' ').unwrap_or((rest, ""));
        params.push(param);
        rest = after;
    }
    Some(Line { prefix, command, params })
}

/// A CTCP DCC offer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dcc {
    pub kind: String,
    pub argument: String,
    pub ip: Vec<u8>,
    pub port: u16,
    pub size: u64,
}

/// The DCC offer in a PRIVMSG's or NOTICE's text (`\x01DCC type argument
/// address port [size]\x01`; a quoted argument may hold spaces).
pub fn parse_dcc(text: &str) -> Option<Dcc> {
    let inner = text.strip_prefix('\u{1}')?;
    let inner = inner.strip_suffix('\u{1}').unwrap_or(inner);
    let rest = inner.strip_prefix("DCC ")?;
    let (kind, rest) = rest.split_once(' ')?;
    let (argument, rest) = match rest.strip_prefix('"') {
        Some(quoted) => {
            let (name, after) = quoted.split_once('"')?;
            (name, after.trim_start())
        }
        None => rest.split_once(' ')?,
    };
    let mut words = rest.split_whitespace();
    let address = words.next()?;
    let port: u16 = words.next()?.parse().ok()?;
    let size = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let ip = match address.parse::<u32>() {
        Ok(n) => n.to_be_bytes().to_vec(),
        Err(_) => match address.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V4(a)) => a.octets().to_vec(),
            Ok(std::net::IpAddr::V6(a)) => a.octets().to_vec(),
            Err(_) => return None,
        },
    };
    Some(Dcc { kind: kind.to_ascii_uppercase(), argument: argument.to_owned(), ip, port, size })
}

/// Registration commands only IRC clients send first, or a server's
/// notice or numeric reply with a prefix.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    let Some(end) = data.iter().position(|&b| b == b'\n') else {
        return if data.len() < 512 && data.iter().all(|&b| b >= 0x20 || b == b'\r' || b == 1) {
            Probe::NeedMore
        } else {
            Probe::No
        };
    };
    let line = String::from_utf8_lossy(&data[..end]);
    let line = line.trim_end_matches('\r');
    let Some(l) = parse_line(line) else { return Probe::No };
    let yes = match dir {
        Direction::ToServer => match l.command.to_ascii_uppercase().as_str() {
            "NICK" => l.params.len() == 1 && !l.params[0].is_empty(),
            "USER" => l.params.len() == 4,
            "CAP" => l.params.first().is_some_and(|p| p.eq_ignore_ascii_case("LS")),
            "PASS" => {
                // PASS is FTP's and POP3's too: IRC's is followed by NICK,
                // USER or CAP.
                let next = &data[end + 1..];
                if next.len() < 5 {
                    return Probe::NeedMore;
                }
                [&b"NICK "[..], b"USER ", b"CAP L"].iter().any(|c| next[..5].eq_ignore_ascii_case(c))
            }
            _ => false,
        },
        Direction::ToClient => {
            !l.prefix.is_empty()
                && (l.command.eq_ignore_ascii_case("NOTICE")
                    || (l.command.len() == 3 && l.command.bytes().all(|b| b.is_ascii_digit())))
        }
    };
    if yes { Probe::Yes } else { Probe::No }
}

/// The IRC parser of one connection.
#[derive(Debug, Default)]
pub struct Irc {
    nick: String,
    user: String,
    /// PASS's password, written as a credential with the USER that follows.
    pass: Option<(PacketTime, String)>,
    skipping: [bool; 2],
    done: bool,
}

impl Irc {
    fn credential(&self, cx: &mut ParseContext<'_>, at: PacketTime, user: String, password: String, notes: &str) {
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let mut r = Credentials {
            protocol: "IRC".into(),
            user,
            password: cx.secret(password),
            notes: notes.into(),
            ..Default::default()
        };
        r.set_conn(cx.conn, at, Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    fn flush_pass(&mut self, cx: &mut ParseContext<'_>) {
        if let Some((at, password)) = self.pass.take() {
            let user = if self.user.is_empty() { self.nick.clone() } else { self.user.clone() };
            self.credential(cx, at, user, password, "PASS (server password)");
        }
    }

    fn line(&mut self, cx: &mut ParseContext<'_>, dir: Direction, at: PacketTime, text: &str) {
        let Some(l) = parse_line(text) else { return };
        let command = l.command.to_ascii_uppercase();
        let text_param = l.params.last().copied().unwrap_or("");
        let dcc = if matches!(command.as_str(), "PRIVMSG" | "NOTICE") { parse_dcc(text_param) } else { None };
        if dir == Direction::ToClient {
            // RPL_STARTTLS (670) is only ever the answer to STARTTLS (which
            // may reach the parser after it: the server's line decided
            // the protocol).
            if command == "670" {
                self.done = true;
            }
            if dcc.is_none() {
                return;
            }
        }
        let mut params: Vec<String> = l.params.iter().map(|p| p.to_string()).collect();
        if dir == Direction::ToServer {
            match command.as_str() {
                "NICK" => {
                    if let Some(nick) = params.first() {
                        self.nick.clone_from(nick);
                    }
                }
                "USER" => {
                    if let Some(user) = params.first() {
                        self.user.clone_from(user);
                    }
                    self.flush_pass(cx);
                }
                "PASS" => {
                    self.flush_pass(cx);
                    if let Some(password) = params.first_mut() {
                        self.pass = Some((at, password.clone()));
                        *password = cx.secret(std::mem::take(password));
                    }
                }
                "OPER" => {
                    if let [name, password, ..] = params.as_mut_slice() {
                        self.credential(cx, at, name.clone(), password.clone(), "OPER");
                        *password = cx.secret(std::mem::take(password));
                    }
                }
                _ => {}
            }
        }
        if !cx.emit.wants(RecordType::Irc) {
            return;
        }
        let value = if params.is_empty() { String::new() } else { params.remove(0) };
        let mut r = IrcRecord {
            nick: self.nick.clone(),
            user: self.user.clone(),
            command,
            value,
            addl: params.join(" "),
            prefix: l.prefix.to_owned(),
            ..Default::default()
        };
        if let Some(d) = dcc {
            r.dcc_type = d.kind;
            r.dcc_file_name = d.argument;
            r.dcc_file_size = d.size;
            r.dcc_ip = d.ip;
            r.dcc_port = u32::from(d.port);
        }
        r.set_conn(cx.conn, at, dir);
        cx.emit.emit(RecordType::Irc, &r);
    }
}

impl StreamParser for Irc {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        // After RPL_STARTTLS, TLS: the server's next bytes, and the
        // client's from its first TLS record on (its STARTTLS line may
        // come after the reply when the reply decided the protocol).
        let tls_from = |at: usize| self.done && (dir == Direction::ToClient || data.get(at) == Some(&0x16));
        if tls_from(0) {
            return Parsed::Done;
        }
        let mut at = 0;
        while let Some(end) = data[at..].iter().position(|&b| b == b'\n') {
            let line = &data[at..at + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let time = cx.time_at(at);
            at += end + 1;
            if std::mem::take(&mut self.skipping[dir.index()]) {
                continue;
            }
            let line = if line.len() > MAX_LINE {
                cx.error();
                &line[..MAX_LINE]
            } else {
                line
            };
            self.line(cx, dir, time, &lossy(line));
            if self.done && (dir == Direction::ToClient || data.get(at) == Some(&0x16)) {
                return Parsed::Done;
            }
        }
        if data.len() - at > MAX_LINE {
            cx.error();
            self.skipping[dir.index()] = true;
            return Parsed::Continue { consumed: data.len(), needed: 0 };
        }
        Parsed::Continue { consumed: at, needed: 1 }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, _len: u64) {
        cx.error();
        self.skipping[dir.index()] = true;
    }

    fn end(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _rest: &[u8]) {}

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        self.flush_pass(cx);
    }

    fn memory(&self) -> usize {
        self.nick.capacity() + self.user.capacity() + self.pass.as_ref().map_or(0, |(_, p)| p.capacity())
    }
}

/// Runs the line and DCC parsers on the bytes as text and the parser on
/// arbitrary segments of both directions ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = parse_line(&text);
    let _ = parse_dcc(&text);
    let _ = probe(Direction::ToServer, data);
    let _ = probe(Direction::ToClient, data);
    crate::protocols::fuzz_two_way(&mut Irc::default(), data);
}
