//! POP3 from reassembled streams (RFC 1939, 2449, 5034): one `POP3` record
//! per command with its response, and a `Credentials` record per login
//! (USER and PASS, APOP, AUTH PLAIN).
//!
//! The client sends `COMMAND [args]` lines; the server answers each with a
//! status line, `+OK text` or `-ERR text`, in order. After a `+OK`, the
//! responses to RETR, TOP, CAPA, and to LIST, UIDL and AUTH without an
//! argument, go on with lines up to a line holding a single `.` (lines
//! starting with `.` are byte-stuffed): the record counts those lines and
//! their bytes (`response_lines`, `response_bytes`). An AUTH exchange's
//! `+ challenge` lines and the client's answers belong to the AUTH command.
//! STLS answered `+OK` ends POP3 parsing; what follows in both directions
//! goes to the TLS parser ([`InnerTls`]).
//!
//! A command's record is written when its response (multi-line ones
//! included) is complete, stamped with the command's packet; commands still
//! waiting when the connection ends are written without a status.
//!
//! # Credentials
//!
//! USER then PASS (`success` from PASS's status), APOP (`password` is the
//! MD5 digest, `notes` says so) and AUTH PLAIN with an initial response or
//! in the following line (the base64 `authzid\0user\0password` decoded).
//! With `-no-secrets` a password is written as `<hidden>`.
//!
//! # Bounds
//!
//! Lines are cut at [`MAX_LINE`] bytes (an error); at most [`MAX_WAITING`]
//! commands wait for responses (beyond, the oldest is written without
//! one); after a gap a direction skips to the next line end and the
//! commands waiting are written without responses (their pairing is lost).
//! The messages RETR and TOP retrieve become `Mail` records (with `File`
//! records for their attachments, [`crate::protocols::mail`]), kept up to
//! [`crate::protocols::mail::MAX_MESSAGE`] bytes; lines longer than
//! [`MAX_LINE`] are cut (the message is then `truncated`), and a message cut
//! by a gap or the connection's end is written `truncated`.

#[cfg(test)]
mod tests;

use crate::emit::ConnRecord;
use crate::protocols::mail::{MailCounters, MailSource, MessageBuffer, mail_records};
use crate::protocols::{
    Direction, InnerTls, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy, name_software, sasl_plain,
};
use crate::{ConnectionExtras, PacketTime};
use netcap_records::{Credentials, Pop3 as Pop3Record, RecordType};
use std::collections::VecDeque;

pub static PROTOCOL: Protocol = Protocol {
    name: "POP3",
    // (and the TLS after STLS)
    record_types: &[
        RecordType::Pop3,
        RecordType::Credentials,
        RecordType::Mail,
        RecordType::File,
        RecordType::Tlsclienthello,
        RecordType::Tlsserverhello,
        RecordType::Tlscertificate,
    ],
    tcp_ports: &[110],
    probe,
    port_probe: None,
    new_parser: || Box::new(Pop3::default()),
    fills_connection: true,
};

/// The server's greeting: `+OK` and, to tell it from other `+OK` talkers,
/// POP (any case) in the line; or the client's CAPA, APOP or STLS, which
/// only POP3 sends first.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToClient => {
            if !data.starts_with(&b"+OK"[..data.len().min(3)]) {
                return Probe::No;
            }
            let Some(end) = data.iter().position(|&b| b == b'\n') else {
                return if data.len() < 512 { Probe::NeedMore } else { Probe::No };
            };
            if data[..end].windows(3).any(|w| w.eq_ignore_ascii_case(b"POP")) { Probe::Yes } else { Probe::No }
        }
        Direction::ToServer => {
            for command in [&b"CAPA\r"[..], b"APOP ", b"STLS\r"] {
                let n = data.len().min(command.len());
                if data[..n].eq_ignore_ascii_case(&command[..n]) {
                    return if n == command.len() { Probe::Yes } else { Probe::NeedMore };
                }
            }
            Probe::No
        }
    }
}

const APOP: &str = "APOP: the password is the MD5 digest of the greeting's timestamp and the secret";
const AUTH_PLAIN: &str = "AUTH PLAIN";

/// Longest line kept (RFC 2449: 512 bytes for commands; messages may have
/// longer lines).
pub const MAX_LINE: usize = 8192;
/// Commands waiting for responses at most.
pub const MAX_WAITING: usize = 64;

#[derive(Debug, Clone)]
struct Command {
    at: PacketTime,
    user: String,
    command: String,
    arg: String,
}

/// Where the server's side is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Reading {
    /// A status line (the greeting first).
    #[default]
    Status,
    /// The lines of a multi-line response, up to `.`.
    Lines,
}

/// The POP3 parser of one connection.
#[derive(Debug, Default)]
pub struct Pop3 {
    greeted: bool,
    waiting: VecDeque<Command>,
    user: String,
    /// A login not yet answered: (time, user, password, how it was sent).
    login: Option<(PacketTime, String, Option<String>, &'static str)>,
    /// AUTH PLAIN waiting for its base64 line.
    plain_pending: bool,
    reading: Reading,
    /// The command whose multi-line response is being read, its status
    /// text, lines and bytes.
    current: Option<(Command, String, u32, u64)>,
    skipping: [bool; 2],
    /// POP3 is over (after STLS).
    done: bool,
    /// TLS after an accepted STLS.
    tls: Option<InnerTls>,
    /// The server's greeting line.
    greeting: Vec<String>,
    /// The message a RETR or TOP response carries.
    message: MessageBuffer,
    counters: MailCounters,
}

/// Whether a `+OK` to `command` (with `arg`) goes on with lines.
fn multi_line(command: &str, arg: &str) -> bool {
    match command {
        "RETR" | "TOP" | "CAPA" => true,
        "LIST" | "UIDL" | "AUTH" => arg.is_empty(),
        _ => false,
    }
}

impl Pop3 {
    fn credential(
        &self,
        cx: &mut ParseContext<'_>,
        at: PacketTime,
        user: String,
        password: String,
        success: Option<bool>,
        notes: &str,
    ) {
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let mut r = Credentials {
            protocol: "POP3".into(),
            user,
            password: cx.secret(password),
            success,
            notes: notes.into(),
            ..Default::default()
        };
        r.set_conn(cx.conn, at, Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    fn command_line(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, line: &[u8]) {
        let text = lossy(line);
        if std::mem::take(&mut self.plain_pending) {
            // The client's answer to AUTH PLAIN's "+ " challenge.
            if let Some((user, password)) = sasl_plain(&text) {
                self.user = user.clone();
                self.login = Some((at, user, Some(password), AUTH_PLAIN));
            }
            return;
        }
        let (command, arg) = match text.split_once(' ') {
            Some((c, a)) => (c.to_ascii_uppercase(), a.to_owned()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        if command.is_empty() {
            return;
        }
        match command.as_str() {
            "USER" => {
                self.flush_login(cx, None);
                self.user = arg.clone();
                self.login = Some((at, arg.clone(), None, ""));
            }
            "PASS" => {
                if let Some((_, _, password, _)) = self.login.as_mut() {
                    *password = Some(arg.clone());
                }
            }
            "APOP" => {
                self.flush_login(cx, None);
                let (user, digest) = arg.split_once(' ').unwrap_or((&arg, ""));
                self.user = user.to_owned();
                self.login = Some((at, user.to_owned(), Some(digest.to_owned()), APOP));
            }
            "AUTH" => {
                let mut words = arg.split_whitespace();
                if words.next().is_some_and(|m| m.eq_ignore_ascii_case("PLAIN")) {
                    self.flush_login(cx, None);
                    match words.next() {
                        Some(initial) => {
                            if let Some((user, password)) = sasl_plain(initial) {
                                self.user = user.clone();
                                self.login = Some((at, user, Some(password), AUTH_PLAIN));
                            }
                        }
                        None => self.plain_pending = true,
                    }
                }
            }
            _ => {}
        }
        if self.waiting.len() >= MAX_WAITING {
            cx.error();
            if let Some(oldest) = self.waiting.pop_front() {
                self.emit(cx, oldest, None, "", 0, 0);
            }
        }
        // An AUTH PLAIN password is not an argument worth logging.
        let arg = if command == "PASS" { cx.secret(arg) } else { arg };
        self.waiting.push_back(Command { at, user: self.user.clone(), command, arg });
    }

    fn response_line(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, line: &[u8], cut: bool) {
        if self.reading == Reading::Lines {
            if line == b"." {
                self.reading = Reading::Status;
                self.end_message(cx, false);
                if let Some((command, status, lines, bytes)) = self.current.take() {
                    self.emit(cx, command, Some(true), &status, lines, bytes);
                }
            } else if let Some((command, _, lines, bytes)) = self.current.as_mut() {
                *lines += 1;
                *bytes += line.len() as u64 + 2;
                if matches!(command.command.as_str(), "RETR" | "TOP") {
                    // Byte-stuffing undone (RFC 1939 3).
                    let line = line.strip_prefix(b".").unwrap_or(line);
                    self.message.start(at);
                    if !self.message.push(line, &mut cx.memory_room) || !self.message.push(b"\r\n", &mut cx.memory_room)
                    {
                        cx.error();
                    }
                    self.message.truncated |= cut;
                }
            }
            return;
        }
        let text = lossy(line);
        let (ok, rest) = if let Some(rest) = text.strip_prefix("+OK") {
            (true, rest)
        } else if let Some(rest) = text.strip_prefix("-ERR") {
            (false, rest)
        } else if text.starts_with('+') {
            // A SASL challenge ("+ " base64): the AUTH goes on.
            return;
        } else {
            return;
        };
        let status = rest.trim_start().to_owned();
        if !self.greeted {
            self.greeted = true;
            name_software(&mut self.greeting, line);
            return;
        }
        let Some(command) = self.waiting.pop_front() else { return };
        match command.command.as_str() {
            "PASS" | "APOP" | "AUTH" => self.flush_login(cx, Some(ok)),
            "STLS" if ok => {
                self.done = true;
                self.tls = Some(InnerTls::default());
            }
            _ => {}
        }
        if ok && multi_line(&command.command, &command.arg) {
            self.reading = Reading::Lines;
            self.current = Some((command, status, 0, 0));
            return;
        }
        self.emit(cx, command, Some(ok), &status, 0, 0);
    }

    /// Writes the Mail record of the message being retrieved, if any.
    fn end_message(&mut self, cx: &mut ParseContext<'_>, cut: bool) {
        let Some(at) = self.message.at else { return };
        let command = match self.current.as_ref().map(|c| c.0.command.as_str()) {
            Some("TOP") => "TOP",
            _ => "RETR",
        };
        let source = MailSource { protocol: "POP3", command, direction: Direction::ToClient, at, trans_depth: 0 };
        let truncated = self.message.truncated || cut;
        mail_records(cx, source, self.message.bytes(), truncated, &mut self.counters);
        self.message.reset();
    }

    /// Writes the login being made, if a password (or digest) came.
    fn flush_login(&mut self, cx: &mut ParseContext<'_>, success: Option<bool>) {
        let Some((at, user, password, notes)) = self.login.take() else { return };
        match password {
            Some(password) => self.credential(cx, at, user, password, success, notes),
            // USER without PASS yet: a later PASS completes it.
            None if success.is_none() => self.credential(cx, at, user, String::new(), None, notes),
            None => self.login = Some((at, user, None, notes)),
        }
    }

    fn emit(
        &mut self,
        cx: &mut ParseContext<'_>,
        command: Command,
        ok: Option<bool>,
        status: &str,
        lines: u32,
        bytes: u64,
    ) {
        if !cx.emit.wants(RecordType::Pop3) {
            return;
        }
        let mut r = Pop3Record {
            user: command.user,
            command: command.command,
            arg: command.arg,
            success: ok,
            status_msg: status.to_owned(),
            response_lines: lines,
            response_bytes: bytes,
            ..Default::default()
        };
        r.set_conn(cx.conn, command.at, Direction::ToServer);
        cx.emit.emit(RecordType::Pop3, &r);
    }
}

impl StreamParser for Pop3 {
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
        let mut at = 0;
        while let Some(end) = data[at..].iter().position(|&b| b == b'\n') {
            let line = &data[at..at + end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let time = cx.time_at(at);
            at += end + 1;
            if std::mem::take(&mut self.skipping[dir.index()]) {
                continue;
            }
            let cut = line.len() > MAX_LINE;
            let line = if line.len() > MAX_LINE {
                // Message lines may be long: only commands and status
                // lines are errors when cut.
                if !(dir == Direction::ToClient && self.reading == Reading::Lines) {
                    cx.error();
                }
                &line[..MAX_LINE]
            } else {
                line
            };
            match dir {
                Direction::ToServer => self.command_line(cx, time, line),
                Direction::ToClient => self.response_line(cx, time, line, cut),
            }
            if self.done {
                return InnerTls::after(&mut self.tls, cx, dir, data, at);
            }
        }
        if data.len() - at > MAX_LINE {
            self.skipping[dir.index()] = true;
            return Parsed::Continue { consumed: data.len(), needed: 0 };
        }
        Parsed::Continue { consumed: at, needed: 1 }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        if let Some(tls) = self.tls.as_mut() {
            return tls.parser().gap(cx, dir, len);
        }
        self.skipping[dir.index()] = true;
        cx.error();
        // The pairing of commands and responses is lost.
        while let Some(command) = self.waiting.pop_front() {
            self.emit(cx, command, None, "", 0, 0);
        }
        self.end_message(cx, true);
        if let Some((command, status, lines, bytes)) = self.current.take() {
            self.emit(cx, command, Some(true), &status, lines, bytes);
        }
        self.reading = Reading::Status;
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
        if let Some((command, status, lines, bytes)) = self.current.take() {
            self.emit(cx, command, Some(true), &status, lines, bytes);
        }
        while let Some(command) = self.waiting.pop_front() {
            self.emit(cx, command, None, "", 0, 0);
        }
        self.flush_login(cx, None);
    }

    fn memory(&self) -> usize {
        self.waiting.iter().map(|c| c.user.capacity() + c.command.capacity() + c.arg.capacity() + 64).sum::<usize>()
            + self.user.capacity()
            + self.message.memory()
            + self.tls.as_ref().map_or(0, InnerTls::memory)
    }
}

/// Runs the parser on arbitrary bytes for fuzzing
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    crate::protocols::fuzz_two_way(&mut Pop3::default(), data);
}
