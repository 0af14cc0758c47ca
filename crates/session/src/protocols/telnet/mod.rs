//! Telnet from reassembled streams (RFC 854, 855 and the option RFCs): one
//! `Telnet` record per connection, and a `Credentials` record per login
//! seen at the server's prompts.
//!
//! Each direction is a byte stream with commands inside: `IAC` (255)
//! followed by a command byte; `IAC WILL|WONT|DO|DONT option` negotiates an
//! option, `IAC SB option ... IAC SE` carries a subnegotiation, and `IAC
//! IAC` is a data byte 255. A small state machine per direction strips the
//! commands byte by byte, so how the stream is cut into segments never
//! changes the result. What is left is data: the server's output and the
//! client's keystrokes (one per segment in character mode, whole lines in
//! line mode).
//!
//! # Login heuristic
//!
//! Telnet has no login message: the server prints prompts, the client types
//! answers. So:
//!
//! - The server's current output line (since its last line end, the last
//!   [`MAX_SERVER_LINE`] bytes of it) is checked whenever a `:` arrives:
//!   when it ends (case-insensitively) in `login:`, `login as:`,
//!   `username:`, `user name:` or `user:`, the client's next line is a
//!   login name; when it ends in `password:` or `passcode:`, the client's
//!   next line is a password. The prompt holds once the client types; if
//!   the server goes on printing on that line first, it was not a prompt
//!   ("Last login: Mon ..."). Echoed keystrokes after the prompt do not
//!   undo it.
//! - The client's keystrokes are collected into lines: backspace (8 and
//!   127) removes the last character, Ctrl-U clears the line, CR (with LF
//!   or NUL after it) or LF ends it.
//! - After a password, the server's answer decides: a line saying
//!   `incorrect`, `failed`, `denied`, `invalid` or `bad password`, or a new
//!   login prompt, is a failure; a line with `last login` or `welcome`, or a
//!   shell prompt (a line ending in `$`, `#`, `>` or `%` followed by a
//!   space), is a success; a prompt for a login name or password that ends
//!   the connection unanswered is a failure. Nothing conclusive leaves
//!   `success` unknown.
//!
//! A `Credentials` record (protocol "Telnet", `notes` naming the
//! heuristic) is written once the outcome is known, when another login
//! starts, or when the connection ends. A name without a password (a login
//! that needs none) is written with an empty password. Lines that are
//! neither names nor passwords are the record's `commands`.
//!
//! # Bounds
//!
//! A subnegotiation keeps at most [`MAX_SUBNEGOTIATION`] bytes, a client
//! line [`MAX_LINE`] bytes, the banner [`MAX_BANNER`] bytes, the record at
//! most [`MAX_COMMANDS`] commands (more are counted in `commands_dropped`),
//! [`MAX_OPTIONS`] options per list and [`MAX_ENVIRONMENT`] environment
//! variables. After a gap, the direction's command state and the current
//! line are reset (an error is counted).

#[cfg(test)]
mod tests;

use crate::PacketTime;
use crate::emit::ConnRecord;
use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser, lossy};
use netcap_records::{Credentials, RecordType, Telnet as TelnetRecord};

pub static PROTOCOL: Protocol = Protocol {
    name: "Telnet",
    record_types: &[RecordType::Telnet, RecordType::Credentials],
    tcp_ports: &[23],
    probe,
    port_probe: Some(port_probe),
    new_parser: || Box::new(Telnet::default()),
    fills_connection: false,
};

const IAC: u8 = 255;
const SE: u8 = 240;
const SB: u8 = 250;
const WILL: u8 = 251;
const WONT: u8 = 252;
const DO: u8 = 253;
const DONT: u8 = 254;

const TERMINAL_TYPE: u8 = 24;
const NAWS: u8 = 31;
const TERMINAL_SPEED: u8 = 32;
const X_DISPLAY: u8 = 35;
const OLD_ENVIRON: u8 = 36;
const NEW_ENVIRON: u8 = 39;

/// Longest client line kept.
pub const MAX_LINE: usize = 1024;
/// Server line bytes kept for prompt detection.
pub const MAX_SERVER_LINE: usize = 256;
/// Subnegotiation bytes kept (the rest of a longer one is skipped).
pub const MAX_SUBNEGOTIATION: usize = 512;
/// Banner bytes kept.
pub const MAX_BANNER: usize = 1024;
/// Commands kept in the record.
pub const MAX_COMMANDS: usize = 256;
/// Options kept per list.
pub const MAX_OPTIONS: usize = 64;
/// Environment variables kept.
pub const MAX_ENVIRONMENT: usize = 32;

const HEURISTIC: &str = "login prompt heuristic";

/// Telnet's first bytes are nearly always option negotiation: `IAC` and
/// WILL, WONT, DO, DONT or SB.
pub fn probe(_dir: Direction, data: &[u8]) -> Probe {
    match data {
        [] | [IAC] => Probe::NeedMore,
        [IAC, command, ..] if (SB..=DONT).contains(command) => Probe::Yes,
        _ => Probe::No,
    }
}

/// On port 23 anything is Telnet (some servers print their prompt without
/// negotiating).
pub fn port_probe(_dir: Direction, data: &[u8]) -> Probe {
    if data.is_empty() { Probe::NeedMore } else { Probe::Yes }
}

/// Name of a Telnet option (IANA's registry), or its number.
pub fn option_name(option: u8) -> String {
    let name = match option {
        0 => "TRANSMIT-BINARY",
        1 => "ECHO",
        2 => "RECONNECTION",
        3 => "SUPPRESS-GO-AHEAD",
        4 => "APPROX-MESSAGE-SIZE",
        5 => "STATUS",
        6 => "TIMING-MARK",
        7 => "RCTE",
        8 => "OUTPUT-LINE-WIDTH",
        9 => "OUTPUT-PAGE-SIZE",
        10 => "NAOCRD",
        11 => "NAOHTS",
        12 => "NAOHTD",
        13 => "NAOFFD",
        14 => "NAOVTS",
        15 => "NAOVTD",
        16 => "NAOLFD",
        17 => "EXTEND-ASCII",
        18 => "LOGOUT",
        19 => "BM",
        20 => "DET",
        21 => "SUPDUP",
        22 => "SUPDUP-OUTPUT",
        23 => "SEND-LOCATION",
        24 => "TERMINAL-TYPE",
        25 => "END-OF-RECORD",
        26 => "TUID",
        27 => "OUTMRK",
        28 => "TTYLOC",
        29 => "3270-REGIME",
        30 => "X.3-PAD",
        31 => "NAWS",
        32 => "TERMINAL-SPEED",
        33 => "TOGGLE-FLOW-CONTROL",
        34 => "LINEMODE",
        35 => "X-DISPLAY-LOCATION",
        36 => "ENVIRON",
        37 => "AUTHENTICATION",
        38 => "ENCRYPT",
        39 => "NEW-ENVIRON",
        40 => "TN3270E",
        41 => "XAUTH",
        42 => "CHARSET",
        43 => "RSP",
        44 => "COM-PORT-OPTION",
        45 => "SUPPRESS-LOCAL-ECHO",
        46 => "START-TLS",
        47 => "KERMIT",
        48 => "SEND-URL",
        49 => "FORWARD-X",
        255 => "EXOPL",
        n => return n.to_string(),
    };
    name.to_owned()
}

/// Where a direction's command state machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Command {
    /// Data bytes.
    #[default]
    Data,
    /// After IAC.
    Iac,
    /// After IAC WILL/WONT/DO/DONT: the option byte comes.
    Negotiation(u8),
    /// After IAC SB: the option byte comes.
    SbOption,
    /// Inside a subnegotiation of an option.
    Sb(u8),
    /// IAC inside a subnegotiation.
    SbIac(u8),
}

/// What the client's next line is, by the server's last prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Expect {
    #[default]
    Command,
    User,
    Password,
}

/// A login being typed: (packet of its name or password, name, password).
#[derive(Debug, Clone, Default)]
struct Login {
    at: Option<PacketTime>,
    user: String,
    password: Option<String>,
}

/// The Telnet parser of one connection.
#[derive(Debug, Default)]
pub struct Telnet {
    record: TelnetRecord,
    first: Option<PacketTime>,
    command: [Command; 2],
    subnegotiation: Vec<u8>,
    /// Client keystrokes since the last line end.
    line: Vec<u8>,
    /// The packet of the line's first byte.
    line_at: Option<PacketTime>,
    /// The last client byte was CR (a following LF or NUL belongs to it).
    after_cr: bool,
    /// The server's output since its last line end (the last bytes).
    server_line: Vec<u8>,
    /// A login prompt was seen: the banner is complete.
    prompted: bool,
    expect: Expect,
    /// A prompt the server printed, confirmed once the client types (and
    /// dropped if the server goes on printing on its line first: "Last
    /// login: ..." is not a prompt).
    prompt: Option<Expect>,
    login: Option<Login>,
    /// A password was typed: the server's answer decides the login.
    awaiting_outcome: bool,
    /// Time of the byte being handled.
    now: Option<PacketTime>,
}

impl Telnet {
    fn option_list(&mut self, dir: Direction, verb: u8) -> Option<&mut Vec<String>> {
        let r = &mut self.record;
        match (dir, verb) {
            (Direction::ToServer, WILL) => Some(&mut r.client_will),
            (Direction::ToServer, DO) => Some(&mut r.client_do),
            (Direction::ToClient, WILL) => Some(&mut r.server_will),
            (Direction::ToClient, DO) => Some(&mut r.server_do),
            _ => None,
        }
    }

    fn negotiation(&mut self, dir: Direction, verb: u8, option: u8) {
        let Some(list) = self.option_list(dir, verb) else { return };
        let name = option_name(option);
        if list.len() < MAX_OPTIONS && !list.contains(&name) {
            list.push(name);
        }
    }

    /// A complete subnegotiation of `option` (its bytes after the option).
    fn subnegotiation(&mut self, dir: Direction, option: u8) {
        // IS (0) from the client carries what it announces.
        let data = std::mem::take(&mut self.subnegotiation);
        if dir == Direction::ToServer {
            match (option, data.as_slice()) {
                (TERMINAL_TYPE, [0, name @ ..]) => self.record.terminal_type = lossy(name),
                (TERMINAL_SPEED, [0, speed @ ..]) => self.record.terminal_speed = lossy(speed),
                (X_DISPLAY, [0, display @ ..]) => self.record.x_display = lossy(display),
                (NAWS, [w0, w1, h0, h1]) => {
                    self.record.window_width = u32::from(u16::from_be_bytes([*w0, *w1]));
                    self.record.window_height = u32::from(u16::from_be_bytes([*h0, *h1]));
                }
                (NEW_ENVIRON | OLD_ENVIRON, [0 | 2, vars @ ..]) => self.environment(vars),
                _ => {}
            }
        }
        self.subnegotiation = data;
        self.subnegotiation.clear();
    }

    /// ENVIRON / NEW-ENVIRON variables (RFC 1572): VAR (0) or USERVAR (3)
    /// name, VALUE (1) value; ESC (2) quotes the next byte.
    fn environment(&mut self, vars: &[u8]) {
        let mut name = Vec::new();
        let mut value: Option<Vec<u8>> = None;
        let mut entries = Vec::new();
        let mut escaped = false;
        let mut started = false;
        for &b in vars {
            if escaped {
                escaped = false;
                value.as_mut().unwrap_or(&mut name).push(b);
                continue;
            }
            match b {
                0 | 3 => {
                    if started {
                        entries.push((std::mem::take(&mut name), value.take()));
                    }
                    started = true;
                }
                1 => value = Some(Vec::new()),
                2 => escaped = true,
                _ => value.as_mut().unwrap_or(&mut name).push(b),
            }
        }
        if started {
            entries.push((name, value));
        }
        for (name, value) in entries {
            if self.record.environment.len() >= MAX_ENVIRONMENT {
                break;
            }
            let value = value.map(|v| lossy(&v)).unwrap_or_default();
            self.record.environment.push(format!("{}={value}", lossy(&name)));
        }
    }

    /// One data byte of the server.
    fn server_byte(&mut self, cx: &mut ParseContext<'_>, b: u8) {
        self.record.server_bytes += 1;
        match b {
            b'\n' => {
                let line = std::mem::take(&mut self.server_line);
                self.server_line_end(cx, &line);
                self.server_line = line;
                self.server_line.clear();
                return;
            }
            b'\r' | 0 => return,
            _ => {}
        }
        if self.server_line.len() >= MAX_SERVER_LINE {
            // Keep the line's end: prompts are short.
            self.server_line.drain(..MAX_SERVER_LINE / 2);
        }
        self.server_line.push(b);
        match b {
            b':' => self.check_prompt(),
            _ if self.prompt.is_some() && !b.is_ascii_whitespace() => self.prompt = None,
            b' ' if self.awaiting_outcome => {
                let trimmed = self.server_line.trim_ascii_end();
                if trimmed.len() < self.server_line.len() && trimmed.last().is_some_and(|c| b"$#>%".contains(c)) {
                    self.outcome(cx, Some(true));
                }
            }
            _ => {}
        }
    }

    fn server_line_end(&mut self, cx: &mut ParseContext<'_>, line: &[u8]) {
        let trimmed = line.trim_ascii();
        if !self.prompted && !trimmed.is_empty() && self.record.banner.len() < MAX_BANNER {
            let text = lossy(trimmed);
            let room = MAX_BANNER - self.record.banner.len();
            if !self.record.banner.is_empty() {
                self.record.banner.push('\n');
            }
            let mut cut = text.len().min(room);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.record.banner.push_str(&text[..cut]);
        }
        if self.awaiting_outcome && !trimmed.is_empty() {
            let lower = trimmed.to_ascii_lowercase();
            let has = |word: &str| lower.windows(word.len()).any(|w| w == word.as_bytes());
            if ["incorrect", "failed", "failure", "denied", "invalid", "bad password"].iter().any(|w| has(w)) {
                self.outcome(cx, Some(false));
            } else if has("last login") || has("welcome") {
                self.outcome(cx, Some(true));
            }
        }
    }

    /// The server's line ends in `:`: is it a prompt?
    fn check_prompt(&mut self) {
        let line = self.server_line.trim_ascii_end();
        let ends = |suffix: &[u8]| {
            line.len() >= suffix.len() && line[line.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        };
        if [&b"login:"[..], b"login as:", b"username:", b"user name:", b"user:"].iter().any(|s| ends(s)) {
            self.prompt = Some(Expect::User);
        } else if [&b"password:"[..], b"passcode:"].iter().any(|s| ends(s)) {
            self.prompt = Some(Expect::Password);
        }
    }

    /// The client typed after a prompt: the prompt holds.
    fn confirm_prompt(&mut self, cx: &mut ParseContext<'_>) {
        let Some(prompt) = self.prompt.take() else { return };
        self.prompted = true;
        if self.awaiting_outcome {
            // Asked again: the previous login failed.
            self.outcome(cx, Some(false));
        } else if prompt == Expect::User {
            self.flush_login(cx, None);
        }
        self.expect = prompt;
        // Keystrokes typed before the prompt are not part of the answer.
        self.line.clear();
    }

    /// One data byte of the client.
    fn client_byte(&mut self, cx: &mut ParseContext<'_>, b: u8) {
        self.record.client_bytes += 1;
        if std::mem::take(&mut self.after_cr) && (b == b'\n' || b == 0) {
            return;
        }
        self.confirm_prompt(cx);
        match b {
            b'\r' => {
                self.after_cr = true;
                self.client_line_end(cx);
            }
            b'\n' => self.client_line_end(cx),
            8 | 127 => {
                self.line.pop();
            }
            // Ctrl-U: kill the line.
            0x15 => self.line.clear(),
            b'\t' | 0x20.. => {
                if self.line.is_empty() {
                    self.line_at = self.now;
                }
                if self.line.len() < MAX_LINE {
                    self.line.push(b);
                }
            }
            _ => {}
        }
    }

    fn client_line_end(&mut self, cx: &mut ParseContext<'_>) {
        let at = self.line_at.take().or(self.now).unwrap_or(cx.now);
        let line = lossy(&self.line);
        self.line.clear();
        match std::mem::take(&mut self.expect) {
            Expect::User => {
                self.flush_login(cx, None);
                self.record.user = line.clone();
                self.record.login_attempts += 1;
                self.login = Some(Login { at: Some(at), user: line, password: None });
            }
            Expect::Password => {
                let mut login = match self.login.take() {
                    Some(login) if login.password.is_none() => login,
                    Some(login) => {
                        // A second password for the same name: another
                        // login.
                        let user = login.user.clone();
                        self.login = Some(login);
                        self.flush_login(cx, None);
                        self.record.login_attempts += 1;
                        Login { at: Some(at), user, password: None }
                    }
                    None => {
                        // A password prompt without a name (devices that
                        // ask only for a password).
                        self.record.login_attempts += 1;
                        Login { at: Some(at), user: String::new(), password: None }
                    }
                };
                login.password = Some(line);
                self.login = Some(login);
                self.awaiting_outcome = true;
            }
            Expect::Command => {
                if line.trim().is_empty() {
                    return;
                }
                if self.record.commands.len() < MAX_COMMANDS {
                    self.record.commands.push(line);
                } else {
                    self.record.commands_dropped += 1;
                }
            }
        }
    }

    /// The server answered the login.
    fn outcome(&mut self, cx: &mut ParseContext<'_>, success: Option<bool>) {
        self.awaiting_outcome = false;
        if success.is_some() {
            self.record.login_success = success;
        }
        self.flush_login(cx, success);
    }

    fn flush_login(&mut self, cx: &mut ParseContext<'_>, success: Option<bool>) {
        let Some(login) = self.login.take() else { return };
        self.awaiting_outcome = false;
        if !cx.emit.wants(RecordType::Credentials) {
            return;
        }
        let password = cx.secret(login.password.unwrap_or_default());
        let mut r = Credentials {
            protocol: "Telnet".into(),
            user: login.user,
            password,
            success,
            notes: HEURISTIC.into(),
            ..Default::default()
        };
        r.set_conn(cx.conn, login.at.unwrap_or(cx.now), Direction::ToServer);
        cx.emit.emit(RecordType::Credentials, &r);
    }

    fn byte(&mut self, cx: &mut ParseContext<'_>, dir: Direction, b: u8) {
        let d = dir.index();
        self.command[d] = match (self.command[d], b) {
            (Command::Data, IAC) => Command::Iac,
            (Command::Data, b) => {
                match dir {
                    Direction::ToServer => self.client_byte(cx, b),
                    Direction::ToClient => self.server_byte(cx, b),
                }
                Command::Data
            }
            (Command::Iac, IAC) => {
                // An escaped data byte 255.
                match dir {
                    Direction::ToServer => self.client_byte(cx, IAC),
                    Direction::ToClient => self.server_byte(cx, IAC),
                }
                Command::Data
            }
            (Command::Iac, WILL | WONT | DO | DONT) => Command::Negotiation(b),
            (Command::Iac, SB) => Command::SbOption,
            // NOP, data mark, break, interrupt, AYT, erase, GA, stray SE.
            (Command::Iac, _) => Command::Data,
            (Command::Negotiation(verb), option) => {
                self.negotiation(dir, verb, option);
                Command::Data
            }
            (Command::SbOption, option) => {
                self.subnegotiation.clear();
                Command::Sb(option)
            }
            (Command::Sb(option), IAC) => Command::SbIac(option),
            (Command::Sb(option), b) => {
                if self.subnegotiation.len() < MAX_SUBNEGOTIATION {
                    self.subnegotiation.push(b);
                }
                Command::Sb(option)
            }
            (Command::SbIac(option), SE) => {
                self.subnegotiation(dir, option);
                Command::Data
            }
            (Command::SbIac(option), IAC) => {
                if self.subnegotiation.len() < MAX_SUBNEGOTIATION {
                    self.subnegotiation.push(IAC);
                }
                Command::Sb(option)
            }
            // IAC and another command inside SB: a malformed end; take it
            // as the end of the subnegotiation.
            (Command::SbIac(option), _) => {
                self.subnegotiation(dir, option);
                Command::Data
            }
        };
    }

    /// The record as it stands (tests).
    #[cfg(test)]
    fn record(&self) -> &TelnetRecord {
        &self.record
    }
}

impl StreamParser for Telnet {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        if self.first.is_none() && !data.is_empty() {
            self.first = Some(cx.time_at(0));
        }
        let single_time = cx.times.len() <= 1;
        self.now = Some(cx.time_at(0));
        for (i, &b) in data.iter().enumerate() {
            if !single_time {
                self.now = Some(cx.time_at(i));
            }
            self.byte(cx, dir, b);
        }
        Parsed::Continue { consumed: data.len(), needed: 0 }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, _len: u64) {
        cx.error();
        self.command[dir.index()] = Command::Data;
        self.subnegotiation.clear();
        match dir {
            Direction::ToServer => {
                self.line.clear();
                self.after_cr = false;
            }
            Direction::ToClient => self.server_line.clear(),
        }
    }

    fn end(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _rest: &[u8]) {}

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        if !self.line.is_empty() {
            // A last line without its line end.
            self.client_line_end(cx);
        }
        if self.awaiting_outcome && self.prompt.is_some() {
            // Prompted again and the client gave up: a failure.
            self.outcome(cx, Some(false));
        }
        self.flush_login(cx, None);
        if !cx.emit.wants(RecordType::Telnet) {
            return;
        }
        let mut r = std::mem::take(&mut self.record);
        r.set_conn(cx.conn, self.first.unwrap_or(cx.conn.first), Direction::ToServer);
        cx.emit.emit(RecordType::Telnet, &r);
    }

    fn memory(&self) -> usize {
        let r = &self.record;
        self.subnegotiation.capacity()
            + self.line.capacity()
            + self.server_line.capacity()
            + r.banner.capacity()
            + r.commands.iter().map(|c| c.capacity() + 24).sum::<usize>()
            + r.environment.iter().map(|c| c.capacity() + 24).sum::<usize>()
            + (r.client_will.len() + r.client_do.len() + r.server_will.len() + r.server_do.len()) * 48
    }
}

/// Runs the parser on arbitrary bytes for fuzzing
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    crate::protocols::fuzz_two_way(&mut Telnet::default(), data);
}
