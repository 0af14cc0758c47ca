//! FTP control connections from reassembled streams: one `FTP` record per
//! command with its final reply (Zeek's ftp.log), the data channel that
//! PORT, EPRT, PASV and EPSV announce, and a `Credentials` record per login
//! (USER and PASS in clear text).
//!
//! Both directions are lines (RFC 959): the client's `COMMAND [arg]`, the
//! server's replies `ddd text`, multi-line as `ddd-text` ... `ddd text`.
//! Replies answer commands in order: each final reply (2xx to 5xx) completes
//! the oldest command waiting; 1xx replies are preliminary (a transfer
//! starts) and the command keeps waiting for its final reply. A reply with
//! no command waiting (the 220 greeting) answers nothing.
//!
//! A command's record is written when its final reply arrives, stamped with
//! the command's packet; commands still waiting when the connection ends
//! are written with `reply_code` 0. After a gap, a direction skips to the
//! next line end and commands cut by the gap are dropped (counted as
//! errors).
//!
//! # Credentials
//!
//! A login is USER (its argument the user), optionally PASS (the password):
//! the record is written when the login's outcome is known (the final
//! reply to PASS, or to USER when the server needs no password: 230 means
//! success, other 2xx and 3xx are not an outcome, 4xx and 5xx failure), when
//! the next USER starts another login, or when the connection ends (success
//! unknown). Passwords are written as sent (they are what an analyst looks
//! for); with `-no-secrets` ([`crate::Emitter::without_secrets`]) a sent
//! password is written as [`crate::protocols::HIDDEN`], in the FTP record of
//! PASS too.
//!
//! # Bounds
//!
//! - A line is at most [`MAX_LINE`] bytes; a longer one is an error and cut.
//! - At most [`MAX_WAITING`] commands wait for replies; beyond, the oldest
//!   is written without a reply (counted as an error).
//! - A multi-line reply keeps its first line only.
//!
//! # Data connections
//!
//! Each data channel the server accepts and each transfer command that
//! uses one are reported to the writer, which matches them to the data
//! connections (on other shards) and writes their contents as `File`
//! records ([`data`]). A channel belongs to the next transfer command whose
//! replies come after it (replies come in command order, so pipelined
//! commands are paired right).

pub mod data;
#[cfg(test)]
mod tests;

use crate::emit::ConnRecord;
use crate::protocols::{
    Direction, InnerTls, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy, name_software,
};
use crate::{ConnectionExtras, PacketTime};
use data::FtpDataEvent;
use netcap_records::{Credentials, Ftp as FtpRecord, RecordType};
use std::collections::VecDeque;
use std::net::IpAddr;

pub static PROTOCOL: Protocol = Protocol {
    name: "FTP",
    // File: the contents of its data connections; TLS: after AUTH TLS.
    record_types: &[
        RecordType::Ftp,
        RecordType::Credentials,
        RecordType::File,
        RecordType::Tlsclienthello,
        RecordType::Tlsserverhello,
        RecordType::Tlscertificate,
    ],
    tcp_ports: &[21],
    probe,
    port_probe: Some(port_probe),
    new_parser: || Box::new(Ftp::default()),
    fills_connection: true,
};

/// FTP commands (RFC 959, 2228, 2389, 2428, 3659, 7151) that no other
/// cleartext protocol netcap knows uses: they decide FTP on any port.
const FTP_ONLY_COMMANDS: [&str; 37] = [
    "ABOR", "ACCT", "ALLO", "APPE", "CCC", "CDUP", "CWD", "EPRT", "EPSV", "FEAT", "HOST", "LANG", "MDTM", "MKD",
    "MLSD", "MLST", "MODE", "NLST", "OPTS", "PASV", "PBSZ", "PORT", "PROT", "PWD", "REIN", "REST", "RMD", "RNFR",
    "RNTO", "SITE", "SIZE", "SMNT", "STOR", "STOU", "STRU", "SYST", "TYPE",
];
/// FTP commands POP3, SMTP or IMAP also have: they decide FTP on FTP's
/// port only.
const SHARED_COMMANDS: [&str; 10] = ["AUTH", "DELE", "HELP", "LIST", "NOOP", "PASS", "QUIT", "RETR", "STAT", "USER"];

/// The client's first word, once it is whole.
fn first_word(data: &[u8]) -> Result<&[u8], Probe> {
    match data.iter().position(|&b| b == b' ' || b == b'\r' || b == b'\n') {
        Some(end) => Ok(&data[..end]),
        None if data.len() < 5 && data.iter().all(u8::is_ascii_alphabetic) => Err(Probe::NeedMore),
        None => Err(Probe::No),
    }
}

fn is_one_of(word: &[u8], commands: &[&str]) -> bool {
    commands.iter().any(|c| c.as_bytes().eq_ignore_ascii_case(word))
}

/// The client's first line is a command only FTP has, or the server's is a
/// 220 greeting that names FTP (the 220 code alone is SMTP's too).
/// Detection by the client's command also picks up connections seen
/// mid-stream (a control connection idle through a long transfer comes
/// back as a new one).
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => match first_word(data) {
            Ok(word) if is_one_of(word, &FTP_ONLY_COMMANDS) => Probe::Yes,
            Ok(_) => Probe::No,
            Err(verdict) => verdict,
        },
        Direction::ToClient => {
            if !data.starts_with(&b"220"[..data.len().min(3)]) {
                return Probe::No;
            }
            let Some(end) = data.iter().position(|&b| b == b'\n') else {
                return if data.len() < 512 { Probe::NeedMore } else { Probe::No };
            };
            let line = &data[..end];
            if line.windows(3).any(|w| w.eq_ignore_ascii_case(b"FTP")) { Probe::Yes } else { Probe::No }
        }
    }
}

/// On port 21: any FTP command, or any reply line (`ddd` and a space or
/// dash).
pub fn port_probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => match first_word(data) {
            Ok(word) if is_one_of(word, &FTP_ONLY_COMMANDS) || is_one_of(word, &SHARED_COMMANDS) => Probe::Yes,
            Ok(_) => Probe::No,
            Err(verdict) => verdict,
        },
        Direction::ToClient => match data.get(..4) {
            Some([a, b, c, sep]) if [a, b, c].iter().all(|d| d.is_ascii_digit()) && matches!(sep, b' ' | b'-') => {
                Probe::Yes
            }
            Some(_) => Probe::No,
            None if data.iter().take(3).all(u8::is_ascii_digit) => Probe::NeedMore,
            None => Probe::No,
        },
    }
}

/// Longest line kept (RFC 959 sets no limit; servers allow a few KiB).
pub const MAX_LINE: usize = 8192;
/// Commands waiting for replies at most.
pub const MAX_WAITING: usize = 64;

#[derive(Debug, Clone)]
struct Command {
    at: PacketTime,
    user: String,
    command: String,
    arg: String,
    /// Active mode: the address and port the server is to connect to.
    active: Option<(IpAddr, u16)>,
    /// Its position among the connection's commands (1: the first).
    depth: u32,
    /// A transfer command: the channel it uses, once its first reply came.
    channel: Option<Box<data::Channel>>,
    /// The size a preliminary reply announced.
    total_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default)]
struct Login {
    at: Option<PacketTime>,
    user: String,
    password: Option<String>,
}

/// The FTP parser of one connection.
#[derive(Debug, Default)]
pub struct Ftp {
    waiting: VecDeque<Command>,
    user: String,
    login: Login,
    /// Skipping to the next line end after a gap or an over-long line,
    /// per direction.
    skipping: [bool; 2],
    /// A multi-line reply's code, while its lines come.
    multiline: Option<u16>,
    /// The first line of the multi-line reply being read.
    multiline_text: String,
    /// The server's first reply line (its greeting).
    greeting: Vec<String>,
    /// Commands seen.
    commands: u32,
    /// The last data channel accepted, until a transfer command takes it.
    channel: Option<Box<data::Channel>>,
    /// TLS after AUTH answered 234 (RFC 4217): the rest of both directions.
    tls: Option<InnerTls>,
}

/// `h1,h2,h3,h4,p1,p2` (PORT's argument, PASV's reply).
fn parse_host_port(text: &str) -> Option<(IpAddr, u16)> {
    let numbers: Vec<u8> = text.split(',').map(|n| n.trim().parse::<u8>()).collect::<Result<_, _>>().ok()?;
    let [a, b, c, d, p1, p2] = numbers.as_slice() else { return None };
    Some((IpAddr::from([*a, *b, *c, *d]), u16::from(*p1) << 8 | u16::from(*p2)))
}

/// EPRT's argument: `|1|132.235.1.2|6275|` (RFC 2428; any delimiter).
fn parse_eprt(text: &str) -> Option<(IpAddr, u16)> {
    let delimiter = text.chars().next()?;
    let mut parts = text.split(delimiter).skip(1);
    let _family = parts.next()?;
    let ip: IpAddr = parts.next()?.parse().ok()?;
    let port: u16 = parts.next()?.parse().ok()?;
    Some((ip, port))
}

/// The address in a 227 reply: the six numbers in parentheses (or, as some
/// servers write it, after the text).
fn parse_227(text: &str) -> Option<(IpAddr, u16)> {
    let start = text.find(|c: char| c.is_ascii_digit())?;
    let digits: String = text[start..].chars().take_while(|c| c.is_ascii_digit() || *c == ',' || *c == ' ').collect();
    parse_host_port(digits.trim().trim_end_matches(','))
}

/// The port in a 229 reply: `(|||6446|)`.
fn parse_229(text: &str) -> Option<u16> {
    let open = text.find('(')?;
    let inner = &text[open + 1..];
    let close = inner.find(')')?;
    inner[..close].trim_matches(|c: char| !c.is_ascii_digit()).parse().ok()
}

/// The size in a preliminary reply to a transfer: `150 Opening BINARY mode
/// data connection for index.html (39 bytes).` (the last parenthesised
/// number followed by "bytes").
fn parse_size(text: &str) -> Option<u64> {
    let at = text.to_ascii_lowercase().rfind(" bytes)")?;
    let open = text[..at].rfind('(')?;
    text[open + 1..at].trim().parse().ok()
}

impl Ftp {
    fn command_line(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, line: &[u8]) {
        let text = lossy(line);
        let (command, arg) = match text.split_once(' ') {
            Some((c, a)) => (c.to_ascii_uppercase(), a.to_owned()),
            None => (text.to_ascii_uppercase(), String::new()),
        };
        if command.is_empty() {
            return;
        }
        match command.as_str() {
            "USER" => {
                self.finish_login(cx, None);
                self.user = arg.clone();
                self.login = Login { at: Some(at), user: arg.clone(), password: None };
            }
            "PASS" if self.login.at.is_some() => self.login.password = Some(arg.clone()),
            _ => {}
        }
        let active = match command.as_str() {
            "PORT" => parse_host_port(&arg),
            "EPRT" => parse_eprt(&arg),
            _ => None,
        };
        if self.waiting.len() >= MAX_WAITING {
            cx.error();
            if let Some(oldest) = self.waiting.pop_front() {
                self.emit(cx, oldest, None, None);
            }
        }
        self.commands = self.commands.saturating_add(1);
        self.waiting.push_back(Command {
            at,
            user: self.user.clone(),
            command,
            arg,
            active,
            depth: self.commands,
            channel: None,
            total_bytes: None,
        });
    }

    fn reply_line(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, line: &[u8]) {
        if line.starts_with(b"220") && self.greeting.is_empty() {
            name_software(&mut self.greeting, line);
        }
        let text = lossy(line);
        let code = text.get(..3).and_then(|c| c.parse::<u16>().ok()).filter(|c| (100..600).contains(c));
        let separator = text.as_bytes().get(3).copied();
        if let Some(open) = self.multiline {
            // Inside a multi-line reply: only `ddd ` with its code ends it.
            if code == Some(open) && separator != Some(b'-') {
                self.multiline = None;
                let first = std::mem::take(&mut self.multiline_text);
                self.reply(cx, at, open, &first);
            }
            return;
        }
        let Some(code) = code else {
            // Not a reply line (text between replies): ignored.
            return;
        };
        let rest = text.get(4..).unwrap_or("").to_owned();
        if separator == Some(b'-') {
            self.multiline = Some(code);
            self.multiline_text = rest;
            return;
        }
        self.reply(cx, at, code, &rest);
    }

    fn reply(&mut self, cx: &mut ParseContext<'_>, at: PacketTime, code: u16, text: &str) {
        if code < 200 {
            // A transfer starting: it takes the channel now (a later PASV's
            // reply cannot come before this one).
            if let Some(command) = self.waiting.front_mut()
                && data::is_transfer(&command.command)
            {
                if command.channel.is_none() {
                    command.channel = self.channel.take();
                }
                command.total_bytes = command.total_bytes.or(parse_size(text));
            }
            return;
        }
        let Some(mut command) = self.waiting.pop_front() else { return };
        if command.command == "AUTH" && code == 234 {
            self.tls = Some(InnerTls::default());
        }
        if data::is_transfer(&command.command) && command.channel.is_none() {
            command.channel = self.channel.take();
        }
        let channel = self.accepted_channel(cx, &command, at, code, text);
        if let Some(channel) = &channel
            && cx.files.active()
        {
            cx.emit.emit_ftp_data(FtpDataEvent::Channel(channel.clone()));
        }
        if channel.is_some() || matches!(command.command.as_str(), "PASV" | "EPSV" | "PORT" | "EPRT") {
            // Accepted, or refused: no other channel is open.
            self.channel.clone_from(&channel);
        }
        let is_login = matches!(command.command.as_str(), "USER" | "PASS");
        if is_login && self.login.at.is_some() {
            match code {
                230 => self.finish_login(cx, Some(true)),
                400..=599 => self.finish_login(cx, Some(false)),
                _ => {}
            }
        }
        self.emit(cx, command, Some((at, code, text)), channel.as_deref());
    }

    /// The data channel a reply to PASV, EPSV, PORT or EPRT accepts.
    fn accepted_channel(
        &self,
        cx: &ParseContext<'_>,
        command: &Command,
        at: PacketTime,
        code: u16,
        text: &str,
    ) -> Option<Box<data::Channel>> {
        let conn = cx.conn;
        let (passive, (address, port)) = match (command.command.as_str(), code) {
            ("PASV", 227) => (true, parse_227(text)?),
            ("EPSV", 229) => (true, (conn.server_ip, parse_229(text)?)),
            ("PORT" | "EPRT", 200..=299) => (false, command.active?),
            _ => return None,
        };
        Some(Box::new(data::Channel { control: conn.clone(), passive, address, port, command: command.at, reply: at }))
    }

    /// Reports a transfer command that used a channel, with its final
    /// reply (None: the connection ended first).
    fn report_transfer(cx: &mut ParseContext<'_>, command: &mut Command, reply: Option<(PacketTime, u16)>) {
        let Some(channel) = command.channel.take() else { return };
        if !cx.files.active() {
            return;
        }
        let transfer = data::Transfer {
            channel: *channel,
            command: command.command.clone(),
            arg: command.arg.clone(),
            trans_depth: command.depth,
            at: command.at,
            reply_code: reply.map_or(0, |(_, code)| code),
            reply: reply.map(|(at, _)| at),
            total_bytes: command.total_bytes,
        };
        cx.emit.emit_ftp_data(FtpDataEvent::Transfer(Box::new(transfer)));
    }

    /// Writes the login being made, if any.
    fn finish_login(&mut self, cx: &mut ParseContext<'_>, success: Option<bool>) {
        let login = std::mem::take(&mut self.login);
        let Some(at) = login.at else { return };
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let password = cx.secret(login.password.unwrap_or_default());
        let mut r = Credentials { protocol: "FTP".into(), user: login.user, password, success, ..Default::default() };
        r.set_conn(cx.conn, at, Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    /// Writes a command's FTP record (with the channel its reply accepted)
    /// and reports it if it is a transfer.
    fn emit(
        &mut self,
        cx: &mut ParseContext<'_>,
        mut command: Command,
        reply: Option<(PacketTime, u16, &str)>,
        channel: Option<&data::Channel>,
    ) {
        Self::report_transfer(cx, &mut command, reply.map(|(at, code, _)| (at, code)));
        if !cx.emit.wants(RecordType::Ftp) {
            return;
        }
        let arg = if command.command == "PASS" { cx.secret(command.arg) } else { command.arg };
        let mut r = FtpRecord { user: command.user, command: command.command, arg, ..Default::default() };
        if let Some((at, code, text)) = reply {
            r.reply_code = u32::from(code);
            r.reply_msg = text.to_owned();
            r.reply_timestamp_ns = at.timestamp_ns;
            r.reply_frame = at.frame;
        }
        if let Some(c) = channel {
            let orig = if c.passive { cx.conn.client_ip } else { cx.conn.server_ip };
            r.data_passive = Some(c.passive);
            r.data_orig_ip = ip_bytes(orig);
            r.data_resp_ip = ip_bytes(c.address);
            r.data_resp_port = u32::from(c.port);
        }
        r.set_conn(cx.conn, command.at, Direction::ToServer);
        cx.emit.emit(RecordType::Ftp, &r);
    }

    /// Splits `data` into lines, handing each to the direction's handler.
    fn lines(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
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
            match dir {
                Direction::ToServer => self.command_line(cx, time, line),
                Direction::ToClient => self.reply_line(cx, time, line),
            }
            if self.tls.is_some() {
                return InnerTls::after(&mut self.tls, cx, dir, data, at);
            }
        }
        if data.len() - at > MAX_LINE {
            // A line that does not end: skip to its end.
            cx.error();
            self.skipping[dir.index()] = true;
            return Parsed::Continue { consumed: data.len(), needed: 0 };
        }
        Parsed::Continue { consumed: at, needed: 1 }
    }
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

impl StreamParser for Ftp {
    fn facts(&self, facts: &mut ConnectionExtras) {
        if let Some(tls) = &self.tls {
            tls.facts(facts);
        }
        facts.server_software.clone_from(&self.greeting);
    }

    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        if self.tls.is_some() {
            return InnerTls::after(&mut self.tls, cx, dir, data, 0);
        }
        self.lines(cx, dir, data)
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        if let Some(tls) = self.tls.as_mut() {
            return tls.parser().gap(cx, dir, len);
        }
        self.skipping[dir.index()] = true;
        if dir == Direction::ToClient {
            self.multiline = None;
        }
        cx.error();
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]) {
        if let Some(tls) = self.tls.as_mut() {
            return tls.parser().end(cx, dir, rest);
        }
        // A last line without its line end.
        if !rest.is_empty() && !self.skipping[dir.index()] {
            let line = rest.strip_suffix(b"\r").unwrap_or(rest);
            let line = &line[..line.len().min(MAX_LINE)];
            let now = cx.now;
            match dir {
                Direction::ToServer => self.command_line(cx, now, line),
                Direction::ToClient => self.reply_line(cx, now, line),
            }
        }
    }

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().finish(cx);
        }
        while let Some(mut command) = self.waiting.pop_front() {
            if data::is_transfer(&command.command) && command.channel.is_none() {
                command.channel = self.channel.take();
            }
            self.emit(cx, command, None, None);
        }
        self.finish_login(cx, None);
    }

    fn memory(&self) -> usize {
        let channel = std::mem::size_of::<data::Channel>() + 64;
        self.waiting
            .iter()
            .map(|c| {
                c.user.capacity()
                    + c.command.capacity()
                    + c.arg.capacity()
                    + 64
                    + c.channel.as_ref().map_or(0, |_| channel)
            })
            .sum::<usize>()
            + self.user.capacity()
            + self.multiline_text.capacity()
            + self.channel.as_ref().map_or(0, |_| channel)
            + self.tls.as_ref().map_or(0, InnerTls::memory)
    }
}

/// Runs the parser on arbitrary bytes for fuzzing
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    crate::protocols::fuzz_two_way(&mut Ftp::default(), data);
}
