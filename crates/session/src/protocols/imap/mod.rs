//! IMAP from reassembled streams (RFC 9051, 3501): one `IMAP` record per
//! tagged command with its completion (`tag OK|NO|BAD text`), and a
//! `Credentials` record per login (LOGIN, AUTHENTICATE PLAIN).
//!
//! Both directions are lines that may carry literals: a line ending in
//! `{n}` (or `{n+}`) is followed by n raw bytes and then the rest of the
//! logical line. The parser reads logical lines, keeping a literal's bytes
//! in the line up to [`MAX_LINE`] bytes in all and skipping the rest
//! (message bodies in FETCH responses), so a literal's contents are never
//! taken for protocol lines. A command completes when a tagged response
//! with its tag arrives; untagged (`*`) and continuation (`+`) responses
//! complete nothing. The client's answers to AUTHENTICATE challenges belong
//! to that command. STARTTLS answered OK ends IMAP parsing; what follows in
//! both directions goes to the TLS parser ([`InnerTls`]).
//!
//! Commands still waiting when the connection ends are written without a
//! status. After a gap a direction skips to the next line end (a literal
//! cut by the gap is lost with it) and waiting commands are written without
//! a status.
//!
//! # Messages
//!
//! A server literal that carries a message, the value of a FETCH item
//! `BODY[]`, `BODY[HEADER]`, `BODY[HEADER.FIELDS (...)]` (also with
//! `<origin>`), `RFC822`, `RFC822.HEADER` or `BINARY[]`, becomes a `Mail`
//! record (with `File` records for its attachments,
//! [`crate::protocols::mail`]), kept up to
//! [`crate::protocols::mail::MAX_MESSAGE`] bytes; one cut by a gap or the
//! connection's end is written `truncated`. Part sections (`BODY[1.2]`,
//! `BODY[TEXT]`) are not messages.
//!
//! # Credentials
//!
//! LOGIN's two arguments (atoms, quoted strings or literals) and
//! AUTHENTICATE PLAIN (initial response or the next line: base64
//! `authzid\0user\0password`), with `success` from the tagged status.
//! `-no-secrets` writes a password as `<hidden>`.
//!
//! # Bounds
//!
//! A logical line is kept up to [`MAX_LINE`] bytes (the rest, literals
//! included, is skipped and, outside literals, counted as an error); at
//! most [`MAX_WAITING`] commands wait (beyond, the oldest is written
//! without a status).

#[cfg(test)]
mod tests;

use crate::emit::ConnRecord;
use crate::protocols::mail::{MailCounters, MailSource, MessageBuffer, mail_records};
use crate::protocols::{
    Direction, InnerTls, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy, name_software, sasl_plain,
};
use crate::{ConnectionExtras, PacketTime};
use netcap_records::{Credentials, Imap as ImapRecord, RecordType};
use std::collections::VecDeque;

pub static PROTOCOL: Protocol = Protocol {
    name: "IMAP",
    // (and the TLS after STARTTLS)
    record_types: &[
        RecordType::Imap,
        RecordType::Credentials,
        RecordType::Mail,
        RecordType::File,
        RecordType::Tlsclienthello,
        RecordType::Tlsserverhello,
        RecordType::Tlscertificate,
    ],
    tcp_ports: &[143],
    probe,
    port_probe: Some(port_probe),
    new_parser: || Box::new(Imap::default()),
    fills_connection: true,
};

/// The server's greeting `* OK` naming IMAP, or a client's first command
/// that only IMAP has (`<tag> CAPABILITY`, LOGIN, AUTHENTICATE, STARTTLS).
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    let Some(end) = data.iter().position(|&b| b == b'\n') else {
        return if data.len() < 512 { Probe::NeedMore } else { Probe::No };
    };
    let line = &data[..end];
    match dir {
        Direction::ToClient => {
            let greeting = line.starts_with(b"* OK") || line.starts_with(b"* PREAUTH");
            if greeting && line.windows(4).any(|w| w.eq_ignore_ascii_case(b"IMAP")) { Probe::Yes } else { Probe::No }
        }
        Direction::ToServer => {
            let mut words = line.split(|&b| b == b' ');
            let tag = words.next().unwrap_or_default();
            let command = words.next().unwrap_or_default();
            let command = command.strip_suffix(b"\r").unwrap_or(command);
            let imap_only = [&b"CAPABILITY"[..], b"LOGIN", b"AUTHENTICATE", b"STARTTLS"];
            if !tag.is_empty()
                && tag.iter().all(u8::is_ascii_alphanumeric)
                && imap_only.iter().any(|c| c.eq_ignore_ascii_case(command))
            {
                Probe::Yes
            } else {
                Probe::No
            }
        }
    }
}

/// On port 143: any untagged greeting.
pub fn port_probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToClient if data.len() < 2 => Probe::NeedMore,
        Direction::ToClient if data.starts_with(b"* ") => Probe::Yes,
        _ => probe(dir, data),
    }
}

/// Longest logical line kept, literals included.
pub const MAX_LINE: usize = 8192;
/// Commands waiting for their completion at most.
pub const MAX_WAITING: usize = 64;

const AUTH_PLAIN: &str = "AUTHENTICATE PLAIN";

#[derive(Debug, Clone)]
struct Command {
    at: PacketTime,
    tag: String,
    user: String,
    command: String,
    arg: String,
}

/// A direction's logical line in the making.
#[derive(Debug, Default)]
struct LineReader {
    line: Vec<u8>,
    /// Bytes of a literal still to come.
    literal: u64,
    /// The packet of the logical line's first byte.
    start: Option<PacketTime>,
    /// Skipping to the next line end (after a gap).
    skipping: bool,
}

/// The IMAP parser of one connection.
#[derive(Debug, Default)]
pub struct Imap {
    readers: [LineReader; 2],
    waiting: VecDeque<Command>,
    user: String,
    /// A login whose status has not come: (tag, time, user, password, notes).
    login: Option<(String, PacketTime, String, String, &'static str)>,
    /// AUTHENTICATE PLAIN waiting for its base64 line: (tag, time).
    plain_pending: Option<(String, PacketTime)>,
    /// IMAP is over (after STARTTLS).
    done: bool,
    /// TLS after an accepted STARTTLS.
    tls: Option<InnerTls>,
    /// The server's first line (its greeting, `* OK ...`).
    greeting: Vec<String>,
    /// The server literal being read is a message (kept in `message`).
    message_literal: bool,
    message: MessageBuffer,
    counters: MailCounters,
}

/// Whether a server line that announces a literal (`head`, the text before
/// `{n}`) is a FETCH response whose literal is a whole message or its
/// header.
fn message_literal(head: &[u8]) -> bool {
    if !head.starts_with(b"* ") {
        return false;
    }
    let head = lossy(head).to_ascii_uppercase();
    if !head.contains(" FETCH ") {
        return false;
    }
    let item = head.trim_end();
    // `BODY[]<0>`: the partial's origin does not change what it is.
    let item = match item.strip_suffix('>').and_then(|i| i.rsplit_once('<')) {
        Some((before, _)) => before,
        None => item,
    };
    if item.ends_with(" RFC822") || item.ends_with(" RFC822.HEADER") || item.ends_with("(RFC822") {
        return true;
    }
    let Some(body) = item.strip_suffix(']') else { return false };
    let Some(open) = body.rfind(['[']) else { return false };
    let before = &body[..open];
    if !(before.ends_with("BODY") || before.ends_with("BINARY")) {
        return false;
    }
    let section = &body[open + 1..];
    section.is_empty() || section.starts_with("HEADER")
}

/// The literal length a line announces at its end (`{12}` or `{12+}`).
fn literal_length(line: &[u8]) -> Option<u64> {
    let body = line.strip_suffix(b"}")?;
    let open = body.iter().rposition(|&b| b == b'{')?;
    let digits = &body[open + 1..];
    let digits = digits.strip_suffix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 12 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Splits IMAP astrings: atoms, "quoted" strings (with `\` escapes) and
/// literal contents (which the line reader placed inline, quoted).
fn astrings(text: &str, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while out.len() < n {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let Some(&first) = chars.peek() else { break };
        let mut word = String::new();
        if first == '"' {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            word.push(escaped);
                        }
                    }
                    '"' => break,
                    c => word.push(c),
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ' ' {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        out.push(word);
    }
    out
}

impl Imap {
    fn command_line(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, line: &[u8]) {
        let text = lossy(line);
        if let Some((tag, started)) = self.plain_pending.take() {
            // The answer to AUTHENTICATE PLAIN's challenge ("*" cancels).
            if let Some((user, password)) = sasl_plain(&text) {
                self.user = user.clone();
                self.login = Some((tag, started, user, password, AUTH_PLAIN));
            }
            return;
        }
        let mut parts = text.splitn(3, ' ');
        let tag = parts.next().unwrap_or_default().to_owned();
        let command = parts.next().unwrap_or_default().to_ascii_uppercase();
        let arg = parts.next().unwrap_or_default().to_owned();
        if tag.is_empty() || command.is_empty() {
            return;
        }
        match command.as_str() {
            "LOGIN" => {
                let words = astrings(&arg, 2);
                if let [user, password] = words.as_slice() {
                    self.user = user.clone();
                    self.login = Some((tag.clone(), at, user.clone(), password.clone(), ""));
                }
            }
            "AUTHENTICATE" => {
                let mut words = arg.split_whitespace();
                if words.next().is_some_and(|m| m.eq_ignore_ascii_case("PLAIN")) {
                    match words.next().and_then(sasl_plain) {
                        Some((user, password)) => {
                            self.user = user.clone();
                            self.login = Some((tag.clone(), at, user, password, AUTH_PLAIN));
                        }
                        None => self.plain_pending = Some((tag.clone(), at)),
                    }
                }
            }
            _ => {}
        }
        if self.waiting.len() >= MAX_WAITING {
            cx.error();
            if let Some(oldest) = self.waiting.pop_front() {
                self.emit(cx, oldest, "", "");
            }
        }
        let arg = if command == "LOGIN" && !cx.emit.secrets() {
            match astrings(&arg, 1).first() {
                Some(user) => format!("{user} {}", crate::protocols::HIDDEN),
                None => arg,
            }
        } else {
            arg
        };
        self.waiting.push_back(Command { at, tag, user: self.user.clone(), command, arg });
    }

    fn response_line(&mut self, cx: &mut ParseContext<'_>, line: &[u8]) {
        if (line.starts_with(b"* OK") || line.starts_with(b"* PREAUTH")) && self.greeting.is_empty() {
            name_software(&mut self.greeting, line);
        }
        let text = lossy(line);
        let mut parts = text.splitn(3, ' ');
        let tag = parts.next().unwrap_or_default();
        if tag == "*" || tag == "+" || tag.is_empty() {
            return;
        }
        let status = parts.next().unwrap_or_default().to_ascii_uppercase();
        if !matches!(status.as_str(), "OK" | "NO" | "BAD") {
            return;
        }
        let message = parts.next().unwrap_or_default().to_owned();
        let Some(index) = self.waiting.iter().position(|c| c.tag == tag) else { return };
        // Commands before it that never completed are written without one.
        for _ in 0..index {
            if let Some(command) = self.waiting.pop_front() {
                self.emit(cx, command, "", "");
            }
        }
        let Some(command) = self.waiting.pop_front() else { return };
        if self.login.as_ref().is_some_and(|l| l.0 == tag) {
            self.flush_login(cx, Some(status == "OK"));
        }
        if command.command == "STARTTLS" && status == "OK" {
            self.done = true;
            self.tls = Some(InnerTls::default());
        }
        self.emit(cx, command, &status, &message);
    }

    fn flush_login(&mut self, cx: &mut ParseContext<'_>, success: Option<bool>) {
        let Some((_, at, user, password, notes)) = self.login.take() else { return };
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let password = cx.secret(password);
        let mut r =
            Credentials { protocol: "IMAP".into(), user, password, success, notes: notes.into(), ..Default::default() };
        r.set_conn(cx.conn, at, Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    fn emit(&mut self, cx: &mut ParseContext<'_>, command: Command, status: &str, message: &str) {
        if !cx.emit.wants(RecordType::Imap) {
            return;
        }
        let mut r = ImapRecord {
            tag: command.tag,
            user: command.user,
            command: command.command,
            arg: command.arg,
            status: status.to_owned(),
            status_msg: message.to_owned(),
            ..Default::default()
        };
        r.set_conn(cx.conn, command.at, Direction::ToServer);
        cx.emit.emit(RecordType::Imap, &r);
    }

    /// Writes the Mail record of the message literal read so far.
    fn end_message(&mut self, cx: &mut ParseContext<'_>, cut: bool) {
        self.message_literal = false;
        let Some(at) = self.message.at else { return };
        let source =
            MailSource { protocol: "IMAP", command: "FETCH", direction: Direction::ToClient, at, trans_depth: 0 };
        let truncated = self.message.truncated || cut;
        mail_records(cx, source, self.message.bytes(), truncated, &mut self.counters);
        self.message.reset();
    }

    fn logical_line(&mut self, cx: &mut ParseContext<'_>, dir: Direction) {
        let reader = &mut self.readers[dir.index()];
        let line = std::mem::take(&mut reader.line);
        let at = reader.start.take().unwrap_or(cx.now);
        match dir {
            Direction::ToServer => self.command_line(cx, at, &line),
            Direction::ToClient => self.response_line(cx, &line),
        }
    }
}

impl StreamParser for Imap {
    fn facts(&self, facts: &mut ConnectionExtras) {
        if let Some(tls) = &self.tls {
            tls.facts(facts);
        }
        facts.server_software.clone_from(&self.greeting);
    }

    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        if self.done {
            return InnerTls::after(&mut self.tls, cx, dir, data, 0);
        }
        let d = dir.index();
        let mut at = 0;
        while at < data.len() {
            let reader = &mut self.readers[d];
            if reader.literal > 0 {
                let take = (data.len() - at).min(usize::try_from(reader.literal).unwrap_or(usize::MAX));
                if dir == Direction::ToClient && self.message_literal {
                    if !self.message.push(&data[at..at + take], &mut cx.memory_room) {
                        cx.error();
                    }
                } else {
                    let room = MAX_LINE.saturating_sub(reader.line.len()).min(take);
                    reader.line.extend_from_slice(&data[at..at + room]);
                }
                reader.literal -= take as u64;
                at += take;
                if reader.literal == 0 {
                    reader.line.push(b'"');
                    if dir == Direction::ToClient && self.message_literal {
                        self.end_message(cx, false);
                    }
                }
                continue;
            }
            let Some(end) = data[at..].iter().position(|&b| b == b'\n') else {
                // The rest waits for its line end (bounded).
                if data.len() - at > MAX_LINE {
                    cx.error();
                    reader.skipping = true;
                    return Parsed::Continue { consumed: data.len(), needed: 0 };
                }
                return Parsed::Continue { consumed: at, needed: 1 };
            };
            let part = &data[at..at + end];
            let part = part.strip_suffix(b"\r").unwrap_or(part);
            let time = cx.time_at(at);
            at += end + 1;
            if std::mem::take(&mut reader.skipping) {
                reader.line.clear();
                reader.start = None;
                continue;
            }
            reader.start.get_or_insert(time);
            match literal_length(part) {
                Some(n) => {
                    let head = &part[..part.iter().rposition(|&b| b == b'{').unwrap_or(part.len())];
                    let room = MAX_LINE.saturating_sub(reader.line.len()).min(head.len());
                    reader.line.extend_from_slice(&head[..room]);
                    reader.line.push(b'"');
                    reader.literal = n;
                    if n == 0 {
                        reader.line.push(b'"');
                    } else if dir == Direction::ToClient && message_literal(head) {
                        self.message_literal = true;
                        // The literal starts after this line.
                        self.message.start(cx.time_at(at.min(data.len().saturating_sub(1))));
                    }
                }
                None => {
                    let room = MAX_LINE.saturating_sub(reader.line.len()).min(part.len());
                    if room < part.len() {
                        cx.error();
                    }
                    reader.line.extend_from_slice(&part[..room]);
                    self.logical_line(cx, dir);
                    if self.done {
                        return InnerTls::after(&mut self.tls, cx, dir, data, at);
                    }
                }
            }
        }
        Parsed::Continue { consumed: at, needed: 1 }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        if let Some(tls) = self.tls.as_mut() {
            return tls.parser().gap(cx, dir, len);
        }
        let reader = &mut self.readers[dir.index()];
        reader.skipping = true;
        reader.literal = 0;
        cx.error();
        if dir == Direction::ToClient {
            self.end_message(cx, true);
        }
        while let Some(command) = self.waiting.pop_front() {
            self.emit(cx, command, "", "");
        }
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().end(cx, dir, rest);
        }
    }

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().finish(cx);
        }
        self.end_message(cx, true);
        while let Some(command) = self.waiting.pop_front() {
            self.emit(cx, command, "", "");
        }
        self.flush_login(cx, None);
    }

    fn memory(&self) -> usize {
        self.readers.iter().map(|r| r.line.capacity()).sum::<usize>()
            + self.message.memory()
            + self
                .waiting
                .iter()
                .map(|c| c.tag.capacity() + c.user.capacity() + c.command.capacity() + c.arg.capacity() + 64)
                .sum::<usize>()
            + self.tls.as_ref().map_or(0, InnerTls::memory)
    }
}

/// Runs the parser on arbitrary bytes for fuzzing
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    crate::protocols::fuzz_two_way(&mut Imap::default(), data);
}
