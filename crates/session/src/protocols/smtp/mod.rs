//! SMTP from reassembled streams (RFC 5321, 3030 CHUNKING, 2920 PIPELINING,
//! 4954 AUTH, 3207 STARTTLS): one `SMTP` record per mail transaction (Zeek's
//! smtp.log fields), a `Mail` record per message with `File` records for
//! its attachments ([`crate::protocols::mail`]), and a `Credentials` record
//! per AUTH PLAIN, LOGIN or CRAM-MD5 exchange.
//!
//! The client sends command lines; the server answers each with a reply
//! (`ddd-text` lines continued, `ddd text` the last), in order, so pipelined
//! commands are paired with their replies through a queue. DATA puts the
//! client's side into message mode at once (the message follows the 354
//! reply; a client that waits for it sends nothing in between): lines up to
//! a line holding a single `.`, with leading dots unstuffed. A DATA answered
//! with anything but 354 puts it back into command mode (the client's next
//! lines are commands). `BDAT n [LAST]` is followed by exactly n bytes of
//! message; the message ends with the chunk marked LAST. AUTH's SASL
//! exchange (`334` challenges and the client's base64 answers) belongs to
//! the AUTH command. STARTTLS answered 220 ends SMTP parsing and hands the
//! rest of both directions to the TLS parser ([`InnerTls`]): the
//! transaction record then says `tls`.
//!
//! # Transactions
//!
//! A transaction starts with MAIL (or RCPT, DATA, BDAT without one; or an
//! accepted STARTTLS) and is written when the server has answered the end
//! of its message, or when RSET, QUIT, the next MAIL or the connection's end
//! ends it. `last_reply` is the last reply seen in it; `trans_depth` counts
//! transactions from 1. Header fields come from the message's top-level
//! header ([`crate::protocols::mail::MailSummary`]).
//!
//! # Credentials
//!
//! AUTH PLAIN (`authzid\0user\0password`, initial response or next line),
//! AUTH LOGIN (base64 user and password lines, the user possibly as the
//! initial response) and AUTH CRAM-MD5 (user and HMAC digest: the password
//! field is the digest, notes say so), `success` from the final reply
//! (235). `-no-secrets` writes `<hidden>`.
//!
//! # Bounds
//!
//! Command and reply lines are kept up to [`MAX_LINE`] bytes (cut: an
//! error); message lines are not buffered (only the message, up to
//! [`crate::protocols::mail::MAX_MESSAGE`]). At most [`MAX_WAITING`]
//! commands wait for replies (beyond, the oldest is dropped: an error), a
//! transaction keeps [`MAX_RCPT`] recipients, and a connection has at most
//! [`MAX_TRANSACTIONS`] transactions recorded (later ones are counted as
//! errors, their messages still parsed into Mail records). After a gap in
//! command mode a direction skips to the next line end and waiting commands
//! are forgotten; a gap inside a message marks it truncated (message mode
//! goes on); a gap inside a BDAT chunk shortens it.

#[cfg(test)]
mod tests;

use crate::emit::ConnRecord;
use crate::protocols::mail::{MailCounters, MailSource, MailSummary, MessageBuffer, mail_records};
use crate::protocols::{
    Direction, InnerTls, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy, name_software, sasl_plain,
};
use crate::{ConnectionExtras, PacketTime};
use netcap_records::{Credentials, RecordType, Smtp as SmtpRecord};
use std::collections::VecDeque;

pub static PROTOCOL: Protocol = Protocol {
    name: "SMTP",
    // (and the TLS after STARTTLS)
    record_types: &[
        RecordType::Smtp,
        RecordType::Mail,
        RecordType::File,
        RecordType::Credentials,
        RecordType::Tlsclienthello,
        RecordType::Tlsserverhello,
        RecordType::Tlscertificate,
    ],
    tcp_ports: &[25, 587],
    probe,
    port_probe: Some(port_probe),
    new_parser: || Box::new(Smtp::default()),
    fills_connection: true,
};

/// The server's greeting `220` naming SMTP (or ESMTP) in its first line, or
/// the client's EHLO or HELO.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToClient => {
            if !data.starts_with(&b"220"[..data.len().min(3)]) {
                return Probe::No;
            }
            let Some(end) = data.iter().position(|&b| b == b'\n') else {
                return if data.len() < 512 { Probe::NeedMore } else { Probe::No };
            };
            let line = &data[..end];
            if line.len() > 3
                && matches!(line[3], b' ' | b'-')
                && line.windows(4).any(|w| w.eq_ignore_ascii_case(b"SMTP"))
            {
                Probe::Yes
            } else {
                Probe::No
            }
        }
        Direction::ToServer => client_hello(data),
    }
}

/// EHLO or HELO and a space.
fn client_hello(data: &[u8]) -> Probe {
    for command in [&b"EHLO "[..], b"HELO "] {
        let n = data.len().min(command.len());
        if data[..n].eq_ignore_ascii_case(&command[..n]) {
            return if n == command.len() { Probe::Yes } else { Probe::NeedMore };
        }
    }
    Probe::No
}

/// On ports 25 and 587: any `220` greeting line.
pub fn port_probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToClient => match data.get(..4) {
            Some([b'2', b'2', b'0', b' ' | b'-' | b'\r' | b'\n']) => Probe::Yes,
            Some(_) => Probe::No,
            None if data.starts_with(&b"220"[..data.len()]) => Probe::NeedMore,
            None => Probe::No,
        },
        Direction::ToServer => client_hello(data),
    }
}

/// Longest command or reply line kept.
pub const MAX_LINE: usize = 4096;
/// Commands waiting for replies at most.
pub const MAX_WAITING: usize = 256;
/// Recipients kept per transaction.
pub const MAX_RCPT: usize = 1024;
/// Transactions recorded per connection.
pub const MAX_TRANSACTIONS: u32 = 10_000;

const CRAM_MD5: &str = "AUTH CRAM-MD5: the password is the HMAC-MD5 digest of the challenge";

/// A command waiting for its reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waiting {
    Data,
    /// The end of a DATA message (its reply accepts or refuses it).
    DataEnd,
    Bdat {
        last: bool,
    },
    Auth,
    StartTls,
    Other,
}

/// What the client's bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ClientMode {
    #[default]
    Commands,
    /// DATA's message, `line_start`: the next byte starts a line.
    Data { line_start: bool },
    /// A BDAT chunk's bytes still to come.
    Bdat { remaining: u64, last: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mechanism {
    Plain,
    Login,
    CramMd5,
}

/// An AUTH exchange under way.
#[derive(Debug, Clone)]
struct Auth {
    at: PacketTime,
    mechanism: Mechanism,
    user: Option<String>,
    password: Option<String>,
}

#[derive(Debug, Clone, Default)]
struct Transaction {
    at: PacketTime,
    depth: u32,
    mail_from: String,
    rcpt_to: Vec<String>,
    summary: MailSummary,
    last_reply: String,
    tls: bool,
    message_bytes: u64,
    message_truncated: bool,
    bdat_chunks: u32,
}

/// The SMTP parser of one connection.
#[derive(Debug, Default)]
pub struct Smtp {
    greeted: bool,
    helo: String,
    /// The user of the last successful AUTH.
    user: String,
    waiting: VecDeque<Waiting>,
    client: ClientMode,
    message: MessageBuffer,
    /// BDAT chunks of the message being received.
    chunks: u32,
    transaction: Option<Transaction>,
    transactions: u32,
    counters: MailCounters,
    auth: Option<Auth>,
    /// The client's lines are SASL answers (an AUTH not answered finally).
    in_auth: bool,
    /// The current reply's text so far (continuation lines joined).
    reply: String,
    skipping: [bool; 2],
    /// SMTP is over: after STARTTLS (then `tls` parses what follows), or a
    /// direction the parser cannot follow.
    done: bool,
    /// TLS after a STARTTLS the server accepted.
    tls: Option<InnerTls>,
    /// The mail clients (User-Agent, X-Mailer) and the server's greeting,
    /// for the Connection record.
    software: [Vec<String>; 2],
}

/// The address in `FROM:<a@b> SIZE=1` or `TO:<a@b>`: what is inside the
/// first `<>`, else the first word after the colon.
fn path_address(arg: &str) -> String {
    let rest = arg.split_once(':').map_or(arg, |(_, r)| r).trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        return inner.split_once('>').map_or(inner, |(a, _)| a).to_owned();
    }
    rest.split_whitespace().next().unwrap_or_default().to_owned()
}

fn base64_text(text: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    Some(lossy(&bytes))
}

impl Smtp {
    fn transaction(&mut self, at: PacketTime) -> &mut Transaction {
        self.transaction.get_or_insert_with(|| {
            self.transactions = self.transactions.saturating_add(1);
            Transaction { at, depth: self.transactions, ..Default::default() }
        })
    }

    /// Writes the current transaction, if any.
    fn flush(&mut self, cx: &mut ParseContext<'_>) {
        let Some(t) = self.transaction.take() else { return };
        name_software(&mut self.software[0], t.summary.user_agent.as_bytes());
        if t.depth > MAX_TRANSACTIONS {
            cx.error();
            return;
        }
        if !cx.emit.wants(RecordType::Smtp) {
            return;
        }
        let s = t.summary;
        let mut r = SmtpRecord {
            trans_depth: t.depth,
            helo: self.helo.clone(),
            mail_from: t.mail_from,
            rcpt_to: t.rcpt_to,
            from: s.from,
            to: s.to,
            cc: s.cc,
            reply_to: s.reply_to,
            subject: s.subject,
            msg_id: s.msg_id,
            in_reply_to: s.in_reply_to,
            date: s.date,
            x_originating_ip: s.x_originating_ip,
            path: s.path,
            user_agent: s.user_agent,
            last_reply: t.last_reply,
            tls: t.tls,
            user: self.user.clone(),
            mail_id: s.mail_id,
            fuids: s.fuids,
            message_bytes: t.message_bytes,
            message_truncated: t.message_truncated,
            bdat_chunks: t.bdat_chunks,
            ..Default::default()
        };
        r.set_conn(cx.conn, t.at, Direction::ToServer);
        cx.emit.emit(RecordType::Smtp, &r);
    }

    fn wait(&mut self, cx: &mut ParseContext<'_>, what: Waiting) {
        if self.waiting.len() >= MAX_WAITING {
            cx.error();
            self.waiting.pop_front();
        }
        self.waiting.push_back(what);
    }

    /// Ends the message being received: its Mail and File records now, its
    /// fields into the transaction.
    fn end_message(&mut self, cx: &mut ParseContext<'_>, bdat: bool) {
        let Some(at) = self.message.at else { return };
        let truncated = self.message.truncated;
        let depth = self.transaction(at).depth;
        let source = MailSource {
            protocol: "SMTP",
            command: if bdat { "BDAT" } else { "DATA" },
            direction: Direction::ToServer,
            at,
            trans_depth: depth,
        };
        let summary = mail_records(cx, source, self.message.bytes(), truncated, &mut self.counters);
        let seen = self.message.seen;
        let chunks = std::mem::take(&mut self.chunks);
        let t = self.transaction(at);
        t.summary = summary;
        t.message_bytes = seen;
        t.message_truncated = truncated;
        t.bdat_chunks = if bdat { chunks } else { 0 };
        self.message.reset();
    }

    fn credential(&mut self, cx: &mut ParseContext<'_>, success: Option<bool>) {
        let Some(auth) = self.auth.take() else { return };
        let Some(user) = auth.user else { return };
        if success == Some(true) {
            self.user = user.clone();
        }
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let notes = match auth.mechanism {
            Mechanism::Plain => "AUTH PLAIN",
            Mechanism::Login => "AUTH LOGIN",
            Mechanism::CramMd5 => CRAM_MD5,
        };
        let mut r = Credentials {
            protocol: "SMTP".into(),
            user,
            password: cx.secret(auth.password.unwrap_or_default()),
            success,
            notes: notes.into(),
            ..Default::default()
        };
        r.set_conn(cx.conn, auth.at, Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    /// A client line while an AUTH exchange is under way.
    fn sasl_line(&mut self, text: &str) {
        let Some(auth) = self.auth.as_mut() else { return };
        if text.trim() == "*" {
            // Cancelled.
            self.auth = None;
            return;
        }
        match auth.mechanism {
            Mechanism::Plain => {
                if let Some((user, password)) = sasl_plain(text) {
                    auth.user = Some(user);
                    auth.password = Some(password);
                }
            }
            Mechanism::Login => {
                let value = base64_text(text).unwrap_or_default();
                if auth.user.is_none() {
                    auth.user = Some(value);
                } else if auth.password.is_none() {
                    auth.password = Some(value);
                }
            }
            Mechanism::CramMd5 => {
                let value = base64_text(text).unwrap_or_default();
                let (user, digest) = value.rsplit_once(' ').unwrap_or((&value, ""));
                auth.user = Some(user.to_owned());
                auth.password = Some(digest.to_owned());
            }
        }
    }

    fn command_line(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, line: &[u8]) {
        let text = lossy(line);
        if self.in_auth {
            self.sasl_line(&text);
            return;
        }
        let (verb, arg) = match text.split_once(' ') {
            Some((v, a)) => (v.to_ascii_uppercase(), a.trim()),
            None => (text.trim().to_ascii_uppercase(), ""),
        };
        if verb.is_empty() {
            return;
        }
        let mut what = Waiting::Other;
        match verb.as_str() {
            "HELO" | "EHLO" => self.helo = arg.to_owned(),
            "MAIL" => {
                self.flush(cx);
                self.transaction(at).mail_from = path_address(arg);
            }
            "RCPT" => {
                let t = self.transaction(at);
                if t.rcpt_to.len() < MAX_RCPT {
                    t.rcpt_to.push(path_address(arg));
                } else {
                    cx.error();
                }
            }
            "DATA" => {
                self.transaction(at);
                self.client = ClientMode::Data { line_start: true };
                what = Waiting::Data;
            }
            "BDAT" => {
                let mut words = arg.split_whitespace();
                let size = words.next().and_then(|n| n.parse::<u64>().ok());
                let last = words.next().is_some_and(|w| w.eq_ignore_ascii_case("LAST"));
                match size {
                    Some(size) => {
                        self.transaction(at);
                        self.chunks = self.chunks.saturating_add(1);
                        self.client = ClientMode::Bdat { remaining: size, last };
                        what = Waiting::Bdat { last };
                        // The chunk's data starts right after this line.
                        self.message.start(at);
                        if size == 0 && last {
                            self.client = ClientMode::Commands;
                            self.end_message(cx, true);
                        }
                    }
                    None => cx.error(),
                }
            }
            "RSET" | "QUIT" => self.flush(cx),
            "STARTTLS" => what = Waiting::StartTls,
            "AUTH" => {
                let mut words = arg.split_whitespace();
                let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
                let initial = words.next();
                let mechanism = match mechanism.as_str() {
                    "PLAIN" => Some(Mechanism::Plain),
                    "LOGIN" => Some(Mechanism::Login),
                    "CRAM-MD5" => Some(Mechanism::CramMd5),
                    _ => None,
                };
                self.auth = mechanism.map(|mechanism| Auth { at, mechanism, user: None, password: None });
                if let Some(initial) = initial.filter(|i| *i != "=") {
                    self.sasl_line(initial);
                }
                // Lines up to AUTH's final reply are SASL answers.
                self.in_auth = true;
                what = Waiting::Auth;
            }
            _ => {}
        }
        self.wait(cx, what);
    }

    fn reply_line(&mut self, cx: &mut ParseContext<'_>, line: &[u8]) {
        let code = match line.get(..3) {
            Some(digits) if digits.iter().all(u8::is_ascii_digit) => {
                u16::from(digits[0] - b'0') * 100 + u16::from(digits[1] - b'0') * 10 + u16::from(digits[2] - b'0')
            }
            _ => return,
        };
        let text = lossy(line);
        if line.get(3) == Some(&b'-') {
            if self.reply.is_empty() {
                self.reply = text;
            }
            return;
        }
        // The last line of the reply is what Zeek's last_reply shows.
        let first = std::mem::take(&mut self.reply);
        if !self.greeted {
            self.greeted = true;
            // The greeting's first line names the server.
            let greeting = if first.is_empty() { line } else { first.as_bytes() };
            name_software(&mut self.software[1], greeting);
            return;
        }
        if let Some(t) = self.transaction.as_mut() {
            t.last_reply = text.clone();
        }
        let Some(&what) = self.waiting.front() else { return };
        if what == Waiting::Auth && code == 334 {
            // A SASL challenge: the AUTH goes on.
            return;
        }
        self.waiting.pop_front();
        match what {
            // Refused: the client's next lines are commands.
            Waiting::Data
                if code != 354 && matches!(self.client, ClientMode::Data { .. }) && self.message.seen == 0 =>
            {
                self.client = ClientMode::Commands;
                self.message.reset();
            }
            Waiting::DataEnd | Waiting::Bdat { last: true } => self.flush(cx),
            Waiting::Auth => {
                self.in_auth = false;
                self.credential(cx, Some((200..300).contains(&code)));
            }
            Waiting::StartTls if code == 220 => {
                let t = self.transaction(cx.now);
                t.tls = true;
                t.last_reply = text;
                self.flush(cx);
                self.done = true;
                self.tls = Some(InnerTls::default());
            }
            _ => {}
        }
    }

    /// Message bytes of DATA from `data[at..]`; returns the new offset, as
    /// `Err` when the rest from there must wait for more bytes (a line
    /// start that may be the end marker).
    fn data_bytes(&mut self, cx: &mut ParseContext<'_>, data: &[u8], mut at: usize) -> Result<usize, usize> {
        while at < data.len() {
            let ClientMode::Data { line_start } = self.client else { return Ok(at) };
            let rest = &data[at..];
            if line_start {
                if rest.starts_with(b".\r\n") || rest.starts_with(b".\n") {
                    at += if rest[1] == b'\r' { 3 } else { 2 };
                    self.client = ClientMode::Commands;
                    self.end_message(cx, false);
                    self.wait(cx, Waiting::DataEnd);
                    return Ok(at);
                }
                if rest == b"." || rest == b".\r" {
                    return Err(at);
                }
                self.message.start(cx.time_at(at));
                if rest[0] == b'.' {
                    at += 1;
                    self.client = ClientMode::Data { line_start: false };
                    continue;
                }
            }
            let (piece, line_start) = match rest.iter().position(|&b| b == b'\n') {
                Some(end) => (&rest[..=end], true),
                None => (rest, false),
            };
            self.message.start(cx.time_at(at));
            if !self.message.push(piece, &mut cx.memory_room) {
                cx.error();
            }
            at += piece.len();
            self.client = ClientMode::Data { line_start };
        }
        Ok(at)
    }

    fn bdat_bytes(&mut self, cx: &mut ParseContext<'_>, data: &[u8], at: usize) -> usize {
        let ClientMode::Bdat { remaining, last } = self.client else { return at };
        let take = usize::try_from(remaining).unwrap_or(usize::MAX).min(data.len() - at);
        if take > 0 {
            self.message.start(cx.time_at(at));
            if !self.message.push(&data[at..at + take], &mut cx.memory_room) {
                cx.error();
            }
        }
        let remaining = remaining - take as u64;
        self.client = ClientMode::Bdat { remaining, last };
        if remaining == 0 {
            self.client = ClientMode::Commands;
            if last {
                self.end_message(cx, true);
            }
        }
        at + take
    }

    fn client_bytes(&mut self, cx: &mut ParseContext<'_>, data: &[u8]) -> Parsed {
        let mut at = 0;
        while at < data.len() {
            match self.client {
                ClientMode::Data { .. } => match self.data_bytes(cx, data, at) {
                    Ok(next) => at = next,
                    Err(wait) => return Parsed::Continue { consumed: wait, needed: 1 },
                },
                ClientMode::Bdat { .. } => at = self.bdat_bytes(cx, data, at),
                ClientMode::Commands => {
                    let Some(end) = data[at..].iter().position(|&b| b == b'\n') else {
                        if data.len() - at > MAX_LINE {
                            cx.error();
                            self.skipping[0] = true;
                            return Parsed::Continue { consumed: data.len(), needed: 0 };
                        }
                        return Parsed::Continue { consumed: at, needed: 1 };
                    };
                    let line = &data[at..at + end];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let time = cx.time_at(at);
                    at += end + 1;
                    if std::mem::take(&mut self.skipping[0]) {
                        continue;
                    }
                    let line = if line.len() > MAX_LINE {
                        cx.error();
                        &line[..MAX_LINE]
                    } else {
                        line
                    };
                    self.command_line(cx, time, line);
                }
            }
            if self.done {
                return InnerTls::after(&mut self.tls, cx, Direction::ToServer, data, at);
            }
        }
        Parsed::Continue { consumed: at, needed: 1 }
    }

    fn server_bytes(&mut self, cx: &mut ParseContext<'_>, data: &[u8]) -> Parsed {
        let mut at = 0;
        while let Some(end) = data[at..].iter().position(|&b| b == b'\n') {
            let line = &data[at..at + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            at += end + 1;
            if std::mem::take(&mut self.skipping[1]) {
                continue;
            }
            let line = if line.len() > MAX_LINE {
                cx.error();
                &line[..MAX_LINE]
            } else {
                line
            };
            self.reply_line(cx, line);
            if self.done {
                return InnerTls::after(&mut self.tls, cx, Direction::ToClient, data, at);
            }
        }
        if data.len() - at > MAX_LINE {
            cx.error();
            self.skipping[1] = true;
            return Parsed::Continue { consumed: data.len(), needed: 0 };
        }
        Parsed::Continue { consumed: at, needed: 1 }
    }
}

impl StreamParser for Smtp {
    fn facts(&self, facts: &mut ConnectionExtras) {
        if let Some(tls) = &self.tls {
            tls.facts(facts);
        }
        facts.client_software.clone_from(&self.software[0]);
        facts.server_software.clone_from(&self.software[1]);
    }

    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        if self.done {
            return InnerTls::after(&mut self.tls, cx, dir, data, 0);
        }
        match dir {
            Direction::ToServer => self.client_bytes(cx, data),
            Direction::ToClient => self.server_bytes(cx, data),
        }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        if let Some(tls) = self.tls.as_mut() {
            return tls.parser().gap(cx, dir, len);
        }
        cx.error();
        match dir {
            Direction::ToServer => match self.client {
                ClientMode::Data { .. } => {
                    // The message misses bytes; its end marker is still
                    // looked for at the next line start.
                    self.message.truncated = true;
                    self.message.seen += len;
                    self.client = ClientMode::Data { line_start: false };
                }
                ClientMode::Bdat { remaining, last } if len < remaining => {
                    self.message.truncated = true;
                    self.message.seen += len;
                    self.client = ClientMode::Bdat { remaining: remaining - len, last };
                }
                ClientMode::Bdat { last, .. } => {
                    // The chunk ended inside the gap, and commands with it.
                    self.message.truncated = true;
                    self.client = ClientMode::Commands;
                    self.skipping[0] = true;
                    if last {
                        self.end_message(cx, true);
                    }
                }
                ClientMode::Commands => self.skipping[0] = true,
            },
            Direction::ToClient => {
                // The pairing of commands and replies is lost.
                self.skipping[1] = true;
                self.waiting.clear();
                self.reply.clear();
                if self.in_auth {
                    self.in_auth = false;
                    self.credential(cx, None);
                }
            }
        }
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().end(cx, dir, rest);
        }
        if dir == Direction::ToServer && !self.done {
            // A message whose end never came (the connection ended in it).
            if matches!(self.client, ClientMode::Data { .. } | ClientMode::Bdat { .. }) {
                if matches!(self.client, ClientMode::Data { .. }) && !rest.is_empty() {
                    self.message.start(cx.now);
                    self.message.push(rest, &mut cx.memory_room);
                }
                if self.message.active() {
                    self.message.truncated = true;
                    let bdat = matches!(self.client, ClientMode::Bdat { .. });
                    self.end_message(cx, bdat);
                }
                self.client = ClientMode::Commands;
            }
        }
    }

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().finish(cx);
        }
        if self.message.active() {
            self.message.truncated = true;
            let bdat = matches!(self.client, ClientMode::Bdat { .. }) || self.chunks > 0;
            self.end_message(cx, bdat);
        }
        self.credential(cx, None);
        self.flush(cx);
    }

    fn memory(&self) -> usize {
        let t = self
            .transaction
            .as_ref()
            .map_or(0, |t| t.rcpt_to.iter().map(|r| r.capacity() + 24).sum::<usize>() + t.mail_from.capacity() + 256);
        self.message.memory()
            + self.waiting.capacity()
            + self.helo.capacity()
            + self.reply.capacity()
            + t
            + self.tls.as_ref().map_or(0, InnerTls::memory)
    }
}

/// Runs the parser on arbitrary bytes for fuzzing
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    crate::protocols::fuzz_two_way(&mut Smtp::default(), data);
}
