//! SSH from reassembled streams: one `SSH` record per connection with the
//! identification strings, the key exchange's algorithm lists and what they
//! negotiate, HASSH and HASSHServer, the host key's fingerprint and a guess
//! at the authentication outcome (Zeek's ssh.log).
//!
//! Each direction starts with lines: the identification string
//! `SSH-protoversion-softwareversion [comments]` (RFC 4253 4.2), which a
//! server may precede with other lines. SSH 2 then sends binary packets
//! (`uint32 packet_length, byte padding_length, payload, padding`) in clear
//! until that direction's NEWKEYS; everything after it is encrypted. The
//! parser reads KEXINIT (message 20), the key exchange reply that carries
//! the server's host key (31 for Diffie-Hellman, ECDH and the hybrid
//! post-quantum exchanges, 33 for group exchange) and NEWKEYS (21). SSH 1
//! (a side announcing 1.x other than 1.99) is recorded by its
//! identification strings only.
//!
//! # Authentication (`auth_success`, `auth_attempts`)
//!
//! Encrypted, so guessed from the sizes of the server's encrypted segments
//! after the client has sent encrypted data, as Zeek guesses them: the
//! first is the SERVICE_ACCEPT; a later one 16 bytes smaller is a
//! USERAUTH_SUCCESS (its decrypted payload is 1 byte, padded to the cipher
//! block, where SERVICE_ACCEPT's is 17 bytes); the first other size
//! (after at most one message more than 256 bytes larger, a login banner)
//! is a USERAUTH_FAILURE, and each later segment of that size one more
//! failed attempt. A success ends the guessing. No guess is made after a
//! gap, for SSH 1, or when one segment holds several SSH packets. The
//! heuristic assumes one SSH packet per TCP segment and a block cipher or
//! AEAD whose sizes follow the payload; it can be wrong (documented in
//! docs/streams.md).
//!
//! # Bounds
//!
//! - A line (identification string or pre-banner line) is at most
//!   [`MAX_LINE`] bytes, and at most [`MAX_PRE_BANNER_LINES`] lines come
//!   before the identification string; beyond, the direction is given up.
//! - A binary packet is at most [`MAX_PACKET`] bytes; a longer one, or one
//!   whose padding does not fit, is an error and the direction is given up
//!   (binary packets have no marker to resynchronise on).
//! - A name list is kept up to [`MAX_NAME_LIST`] bytes (a longer one is an
//!   error and cut).

#[cfg(test)]
mod tests;

use crate::ConnectionExtras;
use crate::emit::ConnRecord;
use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser, TestHarness, name_software};
use base64::Engine;
use md5::{Digest, Md5};
use netcap_records::{RecordType, Ssh as SshRecord};
use sha2::Sha256;

pub static PROTOCOL: Protocol = Protocol {
    name: "SSH",
    record_types: &[RecordType::Ssh],
    tcp_ports: &[22, 2222],
    probe,
    port_probe: None,
    new_parser: || Box::new(Ssh::default()),
    fills_connection: true,
};

const PREFIX: &[u8] = b"SSH-";

/// A direction that starts with `SSH-` (the other direction may start
/// with pre-banner lines: it decides through this one).
pub fn probe(_dir: Direction, data: &[u8]) -> Probe {
    if data.len() < PREFIX.len() {
        return if PREFIX.starts_with(data) { Probe::NeedMore } else { Probe::No };
    }
    if data.starts_with(PREFIX) { Probe::Yes } else { Probe::No }
}

/// Longest line kept: RFC 4253 allows 255 bytes with CR LF.
pub const MAX_LINE: usize = 1024;
/// Lines a side may send before its identification string.
pub const MAX_PRE_BANNER_LINES: u32 = 64;
/// Largest binary packet (RFC 4253 6.1 requires 35000; key exchange
/// replies of hybrid post-quantum exchanges are a few kilobytes).
pub const MAX_PACKET: usize = 256 * 1024;
/// Longest name list kept.
pub const MAX_NAME_LIST: usize = 4096;

const MSG_KEXINIT: u8 = 20;
const MSG_NEWKEYS: u8 = 21;
const MSG_KEX_REPLY: u8 = 31;
const MSG_KEX_DH_GEX_REPLY: u8 = 33;

/// Where a direction's parsing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    /// Lines until the identification string.
    #[default]
    Banner,
    /// Binary packets in clear.
    Packets,
    /// After NEWKEYS: only segment sizes matter.
    Encrypted,
    /// Given up (SSH 1, an error, a gap before encryption).
    Lost,
}

/// A KEXINIT's name lists, in message order: kex, server host key, then
/// encryption, MAC and compression client to server and server to client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct KexInit {
    lists: [String; 8],
}

const KEX: usize = 0;
const HOST_KEY: usize = 1;
const ENC_C2S: usize = 2;
const ENC_S2C: usize = 3;
const MAC_C2S: usize = 4;
const MAC_S2C: usize = 5;
const CMP_C2S: usize = 6;
const CMP_S2C: usize = 7;

#[derive(Debug, Clone, Default)]
struct Side {
    mode: Mode,
    pre_banner_lines: u32,
    ident: String,
    kexinit: Option<KexInit>,
}

/// The authentication guess (see the module documentation).
#[derive(Debug, Clone, Default)]
struct AuthGuess {
    client_encrypted: bool,
    service_accept: usize,
    failure: usize,
    skipped_banner: bool,
    attempts: u32,
    decision: Option<bool>,
    /// A gap or several packets in a segment: no guess.
    unusable: bool,
}

/// The SSH parser of one connection.
#[derive(Debug, Default)]
pub struct Ssh {
    sides: [Side; 2],
    host_key: String,
    auth: AuthGuess,
    emitted: bool,
}

/// SSH major version an identification string announces: 2 for 2.0 and
/// 1.99 (both), 1 for other 1.x, 0 if unknown.
fn version_of(ident: &str) -> u32 {
    let Some(rest) = ident.strip_prefix("SSH-") else { return 0 };
    let proto = rest.split('-').next().unwrap_or("");
    match proto {
        "2.0" | "1.99" => 2,
        p if p.starts_with("1.") => 1,
        _ => 0,
    }
}

/// The first name of `client` that `server` also lists (RFC 4253 7.1).
fn negotiate(client: &str, server: &str) -> String {
    client.split(',').find(|c| !c.is_empty() && server.split(',').any(|s| s == *c)).unwrap_or("").to_owned()
}

fn md5_hex(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    let mut out = String::with_capacity(32);
    for b in digest {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 15)]));
    }
    out
}

/// Reads an SSH `string` (uint32 length, bytes) at the start of `data`:
/// the bytes and the rest.
fn ssh_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_be_bytes(data.get(..4)?.try_into().ok()?) as usize;
    let body = data.get(4..4usize.checked_add(len)?)?;
    Some((body, &data[4 + len..]))
}

/// Parses a KEXINIT payload (after the message number): a 16-byte cookie,
/// then ten name lists (the two language lists are not kept). `None` if
/// it is cut short.
fn parse_kexinit(payload: &[u8]) -> Option<(KexInit, bool)> {
    let mut rest = payload.get(16..)?;
    let mut kex = KexInit::default();
    let mut cut = false;
    for list in kex.lists.iter_mut() {
        let (body, after) = ssh_string(rest)?;
        let kept = &body[..body.len().min(MAX_NAME_LIST)];
        cut |= kept.len() < body.len();
        *list = String::from_utf8_lossy(kept).into_owned();
        rest = after;
    }
    Some((kex, cut))
}

/// A host key blob starts with its key type (`ssh-ed25519`,
/// `ecdsa-sha2-nistp256`, `rsa-sha2-512`, ...): a short printable name.
/// This tells a host key from a group exchange's prime.
fn looks_like_host_key(blob: &[u8]) -> bool {
    match ssh_string(blob) {
        Some((name, _)) => {
            (3..=64).contains(&name.len()) && name.iter().all(|b| b.is_ascii_alphanumeric() || b"-@._".contains(b))
        }
        None => false,
    }
}

impl Ssh {
    fn side(&mut self, dir: Direction) -> &mut Side {
        &mut self.sides[dir.index()]
    }

    /// Both identification strings speak SSH 2 (or one is not known yet).
    fn speaks_ssh2(&self) -> bool {
        self.sides.iter().all(|s| s.ident.is_empty() || version_of(&s.ident) == 2)
    }

    fn lines(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8], at: &mut usize) -> Option<Parsed> {
        while self.side(dir).mode == Mode::Banner {
            let rest = data.get(*at..).unwrap_or_default();
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                if rest.len() > MAX_LINE {
                    cx.error();
                    self.side(dir).mode = Mode::Lost;
                    return Some(Parsed::Done);
                }
                return Some(Parsed::Continue { consumed: *at, needed: 1 });
            };
            let line = &rest[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            *at += end + 1;
            if line.len() > MAX_LINE {
                cx.error();
                self.side(dir).mode = Mode::Lost;
                return Some(Parsed::Done);
            }
            let side = self.side(dir);
            if line.starts_with(PREFIX) {
                side.ident = String::from_utf8_lossy(line).into_owned();
                side.mode = if version_of(&side.ident) == 2 { Mode::Packets } else { Mode::Lost };
                if side.mode == Mode::Lost {
                    return Some(Parsed::Done);
                }
            } else {
                side.pre_banner_lines += 1;
                if side.pre_banner_lines > MAX_PRE_BANNER_LINES {
                    cx.error();
                    side.mode = Mode::Lost;
                    return Some(Parsed::Done);
                }
            }
        }
        None
    }

    fn packets(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8], at: &mut usize) -> Option<Parsed> {
        while self.side(dir).mode == Mode::Packets {
            let rest = data.get(*at..).unwrap_or_default();
            let Some(header) = rest.get(..5) else {
                return Some(Parsed::Continue { consumed: *at, needed: 5 - rest.len() });
            };
            let packet_length = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
            let padding = usize::from(header[4]);
            if !(5..=MAX_PACKET).contains(&packet_length) || padding + 1 > packet_length {
                cx.error();
                self.side(dir).mode = Mode::Lost;
                return Some(Parsed::Done);
            }
            let total = 4 + packet_length;
            if rest.len() < total {
                return Some(Parsed::Continue { consumed: *at, needed: total - rest.len() });
            }
            let payload = &rest[5..5 + packet_length - padding - 1];
            *at += total;
            self.message(cx, dir, payload);
            if self.side(dir).mode == Mode::Encrypted && *at < data.len() {
                // The first encrypted packet came in the segment of NEWKEYS.
                self.auth.unusable |= dir == Direction::ToClient;
                self.encrypted(dir, data.len() - *at);
                *at = data.len();
            }
        }
        None
    }

    fn message(&mut self, cx: &mut ParseContext<'_>, dir: Direction, payload: &[u8]) {
        match payload.split_first() {
            Some((&MSG_KEXINIT, body)) => {
                if self.side(dir).kexinit.is_some() {
                    return;
                }
                match parse_kexinit(body) {
                    Some((kex, cut)) => {
                        if cut {
                            cx.error();
                        }
                        self.side(dir).kexinit = Some(kex);
                    }
                    None => cx.error(),
                }
            }
            Some((&MSG_NEWKEYS, _)) => self.side(dir).mode = Mode::Encrypted,
            // From either side: in reverse SSH the connection's initiator
            // is the SSH server (the blob check tells a host key from a
            // group exchange's prime in message 31).
            Some((&(MSG_KEX_REPLY | MSG_KEX_DH_GEX_REPLY), body)) => {
                if !self.host_key.is_empty() {
                    return;
                }
                if let Some((blob, _)) = ssh_string(body)
                    && looks_like_host_key(blob)
                {
                    let digest = Sha256::digest(blob);
                    self.host_key =
                        format!("SHA256:{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest));
                }
            }
            _ => {}
        }
    }

    /// One encrypted segment of `len` bytes from `dir` (the authentication
    /// guess; see the module documentation).
    fn encrypted(&mut self, dir: Direction, len: usize) {
        let ssh2 = self.speaks_ssh2();
        let a = &mut self.auth;
        if a.decision.is_some() || a.unusable || !ssh2 {
            return;
        }
        if dir == Direction::ToServer {
            a.client_encrypted = true;
            return;
        }
        if !a.client_encrypted {
            return;
        }
        if a.service_accept == 0 {
            a.service_accept = len;
            return;
        }
        if len + 16 == a.service_accept {
            a.attempts += 1;
            a.decision = Some(true);
            return;
        }
        if a.failure == 0 {
            if !a.skipped_banner && len > a.service_accept + 256 {
                a.skipped_banner = true;
                return;
            }
            a.failure = len;
            return;
        }
        if len == a.failure {
            a.attempts += 1;
        }
    }

    /// The record, once, if either side said anything.
    fn emit(&mut self, cx: &mut ParseContext<'_>) {
        if self.emitted || self.sides.iter().all(|s| s.ident.is_empty() && s.kexinit.is_none()) {
            return;
        }
        self.emitted = true;
        if !cx.emit.wants(RecordType::Ssh) {
            return;
        }
        let [client, server] = &self.sides;
        let versions = [version_of(&client.ident), version_of(&server.ident)];
        let version = match versions {
            [0, v] | [v, 0] => v,
            [a, b] => a.min(b),
        };
        let mut r = SshRecord {
            version,
            client: client.ident.clone(),
            server: server.ident.clone(),
            host_key: self.host_key.clone(),
            auth_attempts: self.auth.attempts,
            auth_success: self.auth.decision,
            ..Default::default()
        };
        if let Some(c) = &client.kexinit {
            r.hassh_algorithms =
                [&c.lists[KEX], &c.lists[ENC_C2S], &c.lists[MAC_C2S], &c.lists[CMP_C2S]].map(String::as_str).join(";");
            r.hassh = md5_hex(&r.hassh_algorithms);
            r.cshka = c.lists[HOST_KEY].clone();
        }
        if let Some(s) = &server.kexinit {
            r.hassh_server_algorithms =
                [&s.lists[KEX], &s.lists[ENC_S2C], &s.lists[MAC_S2C], &s.lists[CMP_S2C]].map(String::as_str).join(";");
            r.hassh_server = md5_hex(&r.hassh_server_algorithms);
            r.sshka = s.lists[HOST_KEY].clone();
        }
        if let (Some(c), Some(s)) = (&client.kexinit, &server.kexinit) {
            r.kex_alg = negotiate(&c.lists[KEX], &s.lists[KEX]);
            r.host_key_alg = negotiate(&c.lists[HOST_KEY], &s.lists[HOST_KEY]);
            r.cipher_alg = negotiate(&c.lists[ENC_C2S], &s.lists[ENC_C2S]);
            r.mac_alg = negotiate(&c.lists[MAC_C2S], &s.lists[MAC_C2S]);
            r.compression_alg = negotiate(&c.lists[CMP_C2S], &s.lists[CMP_C2S]);
        }
        r.set_conn(cx.conn, cx.conn.first, Direction::ToServer);
        cx.emit.emit(RecordType::Ssh, &r);
    }
}

impl StreamParser for Ssh {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        let mut at = 0;
        if let Some(result) = self.lines(cx, dir, data, &mut at) {
            return result;
        }
        if let Some(result) = self.packets(cx, dir, data, &mut at) {
            return result;
        }
        match self.side(dir).mode {
            Mode::Encrypted => {
                if at < data.len() {
                    // Several segments in one call: sizes are no longer
                    // those of single packets.
                    if !cx.times.is_empty() {
                        self.auth.unusable = true;
                    }
                    self.encrypted(dir, data.len() - at);
                }
                if self.auth.decision.is_some() || self.auth.unusable {
                    Parsed::Done
                } else {
                    Parsed::Continue { consumed: data.len(), needed: 0 }
                }
            }
            _ => Parsed::Done,
        }
    }

    fn gap(&mut self, _cx: &mut ParseContext<'_>, dir: Direction, _len: u64) {
        // Binary packets have no marker to find again, and segment sizes
        // after a gap say nothing.
        self.auth.unusable = true;
        let side = self.side(dir);
        if side.mode != Mode::Encrypted {
            side.mode = Mode::Lost;
        }
    }

    fn end(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _rest: &[u8]) {}

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        self.emit(cx);
    }

    fn facts(&self, facts: &mut ConnectionExtras) {
        let [client, server] = &self.sides;
        name_software(&mut facts.client_software, client.ident.as_bytes());
        name_software(&mut facts.server_software, server.ident.as_bytes());
    }

    fn memory(&self) -> usize {
        self.sides
            .iter()
            .map(|s| s.ident.capacity() + s.kexinit.as_ref().map_or(0, |k| k.lists.iter().map(String::capacity).sum()))
            .sum::<usize>()
            + self.host_key.capacity()
    }
}

/// Runs the parser on arbitrary bytes for fuzzing: the first byte chooses
/// where the input is cut into segments and which direction each goes.
pub fn fuzz_entry(data: &[u8]) {
    let Some((&seed, rest)) = data.split_first() else { return };
    let mut h = TestHarness::default();
    let mut p = Ssh::default();
    let step = usize::from(seed % 61) + 1;
    let mut pending: [Vec<u8>; 2] = Default::default();
    for (i, chunk) in rest.chunks(step).enumerate() {
        let dir = if (i + usize::from(seed >> 6)) % 3 == 0 { Direction::ToClient } else { Direction::ToServer };
        let buf = &mut pending[dir.index()];
        buf.extend_from_slice(chunk);
        let mut cx = h.cx();
        match p.parse(&mut cx, dir, buf) {
            Parsed::Continue { consumed, .. } => {
                buf.drain(..consumed.min(buf.len()));
            }
            Parsed::Done => buf.clear(),
        }
    }
    let mut cx = h.cx();
    p.finish(&mut cx);
}
