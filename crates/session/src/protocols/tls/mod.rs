//! TLS handshakes from reassembled streams: ClientHello, ServerHello and
//! certificate records, and the handshake's outcome for the Connection.
//!
//! Each direction is a sequence of TLS records (5-byte header: content type,
//! version, length). Records may be split over segments and segments may hold
//! several records: a record is handled once it is whole (the parser says how
//! many bytes it still needs). Handshake messages (4-byte header: type,
//! 24-bit length) may span records and records may hold several messages:
//! they are reassembled per direction. A record's `timestamp_ns` and `frame`
//! are those of the packet that completed the message: the one carrying the
//! last byte of the TLS record in which the message ends (a record's content
//! is used once the record is whole), the frame at which Wireshark shows
//! it. The hello and certificate records are filled by netcap-decoder's TLS
//! code ([`netcap_decoder::app::tls`]), shared with DTLS and QUIC.
//!
//! Once a direction's records are encrypted, nothing more can be read from
//! it: the parser returns [`Parsed::Done`] at the header of the first
//! encrypted record (the Finished after a TLS 1.2 ChangeCipherSpec, the first
//! ApplicationData record of TLS 1.3, anything after an SSL 2.0
//! ClientMasterKey), so the rest of the connection costs nothing. TLS 1.3
//! certificates are encrypted: none are recorded for TLS 1.3.
//!
//! # Bounds
//!
//! - A record is at most 2^14 + 2048 bytes of content ([`MAX_RECORD`], the
//!   TLSCiphertext limit); another content type, a major version other than
//!   3 or a longer record is an error ([`ParseContext::error`]).
//! - A handshake message is reassembled up to [`MAX_MESSAGE`] bytes (64 KiB,
//!   its header included; certificate chains of ~20 KB are seen in the
//!   wild). A longer message is skipped and counted as an error.
//! - Resynchronisation (below) searches at most [`RESYNC_WINDOW`] bytes per
//!   attempt and gives the direction up after [`MAX_RESYNCS`] attempts.
//!
//! # Errors, gaps and resynchronisation
//!
//! If the first bytes of a direction are not a TLS record (nor an SSL 2.0
//! hello), the direction is given up. After a gap, or an invalid record
//! header once records were parsed, the parser looks for a plausible record
//! header in the following bytes: content type 20 to 24, version 3.0 to 3.4,
//! a length within bounds, and, when the bytes are there, another plausible
//! header right after that record. The bytes before it are skipped. A
//! handshake message cut by a gap is dropped (counted as an error).
//!
//! # The Connection's TLS fields ([`StreamParser::facts`])
//!
//! - `tls_version`: the ServerHello's supported_versions selection if
//!   present, else its version (0x0002 for SSL 2.0).
//! - `tls_cipher`: the ServerHello's cipher suite (SSL 2.0: the first cipher
//!   spec of the server's, as a 24-bit value).
//! - `tls_server_name`: the ClientHello's server_name.
//! - `tls_established` follows Zeek's ssl.log `established`: for SSL 3.0 to
//!   TLS 1.2, both sides sent ChangeCipherSpec and an encrypted record
//!   followed (the second Finished); for TLS 1.3 (the ServerHello selected
//!   it), both sides sent an ApplicationData record (the server's encrypted
//!   flight and the client's Finished; ChangeCipherSpec is ignored, as the
//!   RFC 8446 compatibility mode sends it meaninglessly; like Zeek, any
//!   version above TLS 1.2, drafts and vendor variants included, counts as
//!   TLS 1.3); for SSL 2.0, the client sent its ClientMasterKey. A fatal
//!   alert seen in clear before that prevents it.
//! - `tls_resumed`: for SSL 3.0 to TLS 1.2, the ServerHello echoes the
//!   ClientHello's non-empty session id, or the handshake is abbreviated
//!   (the server's ChangeCipherSpec comes without a ServerHelloDone before
//!   it, as in session ticket resumption); for TLS 1.3, the ServerHello
//!   selects a pre-shared key (extension 41).

#[cfg(test)]
mod tests;

use crate::ConnectionExtras;
use crate::emit::ConnRecord;
use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser, TestHarness};
use netcap_decoder::app::tls as dec;
use netcap_records::{RecordType, TlsCertificate, TlsClientHello, TlsServerHello};
use std::cell::RefCell;

pub static PROTOCOL: Protocol = Protocol {
    name: "TLS",
    record_types: &[RecordType::Tlsclienthello, RecordType::Tlsserverhello, RecordType::Tlscertificate],
    tcp_ports: &[443, 8443, 465, 993, 995, 636, 853, 989, 990, 992, 5061],
    probe,
    port_probe: None,
    new_parser: || Box::new(Tls::default()),
    fills_connection: true,
};

/// A handshake record (content type 22) of SSL 3.0 to TLS 1.3, or, to the
/// server, an SSL 2.0 ClientHello (2-byte record header, message type 1,
/// version 2.0 or 3.0 to 3.3).
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match data {
        [] | [22] | [22, 3] => Probe::NeedMore,
        [22, 3, minor, ..] if *minor <= 4 => Probe::Yes,
        [b0, ..] if *b0 >= 0x80 && dir == Direction::ToServer => match data.get(2..5) {
            None => match data.get(2) {
                None | Some(1) => Probe::NeedMore,
                Some(_) => Probe::No,
            },
            Some([1, 0, 2] | [1, 3, 0..=3]) => Probe::Yes,
            Some(_) => Probe::No,
        },
        _ => Probe::No,
    }
}

/// Largest record content: 2^14 bytes plus 2048 of encryption expansion
/// (RFC 5246 6.2.3); a longer record is an error.
pub const MAX_RECORD: usize = (1 << 14) + 2048;
/// Largest handshake message reassembled, its 4-byte header included.
pub const MAX_MESSAGE: usize = 64 * 1024;
/// Bytes searched for a record header per resynchronisation attempt.
pub const RESYNC_WINDOW: usize = 32 * 1024;
/// Resynchronisation attempts per direction before it is given up.
pub const MAX_RESYNCS: u32 = 4;

const CHANGE_CIPHER_SPEC: u8 = 20;
const ALERT: u8 = 21;
const HANDSHAKE: u8 = 22;
const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;

const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;
const SERVER_HELLO_DONE: u8 = 14;

const SSLV2_CLIENT_HELLO: u8 = 1;
const SSLV2_CLIENT_MASTER_KEY: u8 = 2;
const SSLV2_SERVER_HELLO: u8 = 4;

const EXT_PRE_SHARED_KEY: u16 = 41;
const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// Where a direction's parsing is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    /// At a record boundary.
    #[default]
    Records,
    /// Looking for a record header after a gap or an error, `searched`
    /// bytes so far in this attempt.
    Resync { searched: usize },
    /// Nothing more to read in this direction.
    Done,
}

/// One direction's state.
#[derive(Debug, Default)]
struct Side {
    mode: Mode,
    /// Records (or SSL 2.0 messages) parsed so far.
    records: u32,
    resyncs: u32,
    /// The start of a handshake message that continues in the next record
    /// (at most [`MAX_MESSAGE`] bytes).
    message: Vec<u8>,
    /// Bytes still to skip of a message longer than [`MAX_MESSAGE`].
    skip: usize,
    /// Sent ChangeCipherSpec (SSL 3.0 to TLS 1.2): its next records are
    /// encrypted.
    change_cipher_spec: bool,
    /// Sent an ApplicationData record.
    application_data: bool,
    /// The direction began with an SSL 2.0 record.
    sslv2: bool,
}

impl Side {
    fn stop(&mut self) -> Parsed {
        self.mode = Mode::Done;
        self.message = Vec::new();
        self.skip = 0;
        Parsed::Done
    }
}

/// A connection's TLS parser.
#[derive(Debug, Default)]
pub struct Tls {
    sides: [Side; 2],
    /// The ClientHello's session id (at most 32 bytes).
    client_session_id: Vec<u8>,
    server_name: String,
    /// Negotiated version and cipher suite (0: no ServerHello seen).
    version: u32,
    cipher: u32,
    /// The ServerHello selected TLS 1.3 (or one of its drafts).
    tls13: bool,
    server_hello_done: bool,
    fatal_alert: bool,
    established: bool,
    resumed: bool,
}

/// Records and fingerprint buffers reused across connections of a thread
/// (the fingerprint digest cache pays off across connections).
#[derive(Default)]
struct Scratch {
    work: dec::Work,
    client_hello: TlsClientHello,
    server_hello: TlsServerHello,
    certificate: TlsCertificate,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|s| f(&mut s.borrow_mut()))
}

fn be24(b: &[u8]) -> usize {
    match b {
        [a, b, c, ..] => usize::from(*a) << 16 | usize::from(*b) << 8 | usize::from(*c),
        _ => 0,
    }
}

/// A plausible SSL 3.0 to TLS 1.3 record header at the start of `b`:
/// Some(record length) if so, None if not; NeedMore-like cases (fewer than 5
/// bytes) are reported as `Err(())`.
fn header(b: &[u8]) -> Result<Option<usize>, ()> {
    let [kind, major, minor, hi, lo, ..] = *b else { return Err(()) };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let ok = (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(&kind) && major == 3 && minor <= 4 && len <= MAX_RECORD;
    Ok(ok.then_some(len))
}

/// Where a resynchronising search may start parsing records again in `b`:
/// Ok(offset of a plausible header), or Err(bytes that can be skipped now:
/// those that cannot start one, leaving a possible header's first bytes).
fn find_header(b: &[u8]) -> Result<usize, usize> {
    for at in 0..b.len() {
        match header(&b[at..]) {
            Err(()) => return Err(at),
            Ok(None) => {}
            Ok(Some(len)) => {
                // Confirm with the next header when it is there.
                let next = at + 5 + len;
                match b.get(next..).map(header) {
                    Some(Ok(None)) => {}
                    _ => return Ok(at),
                }
            }
        }
    }
    Err(b.len())
}

impl Tls {
    /// Parses one direction's bytes from a record boundary on.
    fn records(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        let d = dir.index();
        let mut at = 0;
        loop {
            match self.sides[d].mode {
                Mode::Done => return Parsed::Done,
                Mode::Resync { searched } => match find_header(&data[at..]) {
                    Ok(skip) => {
                        at += skip;
                        self.sides[d].mode = Mode::Records;
                    }
                    Err(skip) => {
                        let searched = searched + skip;
                        if searched > RESYNC_WINDOW {
                            cx.error();
                            return self.sides[d].stop();
                        }
                        self.sides[d].mode = Mode::Resync { searched };
                        let left = data.len() - (at + skip);
                        return Parsed::Continue { consumed: at + skip, needed: 5 - left.min(4) };
                    }
                },
                Mode::Records => {}
            }
            let rest = &data[at..];
            let Some(&first) = rest.first() else { return Parsed::Continue { consumed: at, needed: 5 } };
            let side = &self.sides[d];
            if first >= 0x80 && (side.records == 0 || side.sslv2) && side.resyncs == 0 {
                // SSL 2.0 record with a 2-byte header.
                let Some(&second) = rest.get(1) else { return Parsed::Continue { consumed: at, needed: 1 } };
                let len = usize::from(first & 0x7f) << 8 | usize::from(second);
                let Some(message) = rest.get(2..2 + len) else {
                    return Parsed::Continue { consumed: at, needed: 2 + len - rest.len() };
                };
                self.sides[d].sslv2 = true;
                self.sides[d].records += 1;
                if let Some(done) = self.sslv2(cx, dir, message, at + 2 + len - 1) {
                    return done;
                }
                at += 2 + len;
                continue;
            }
            let len = match header(rest) {
                Err(()) => return Parsed::Continue { consumed: at, needed: 5 - rest.len() },
                Ok(Some(len)) => len,
                Ok(None) => {
                    cx.error();
                    if self.sides[d].records == 0 && self.sides[d].resyncs == 0 {
                        // Not TLS from the start.
                        return self.sides[d].stop();
                    }
                    if !self.start_resync(cx, dir) {
                        return Parsed::Done;
                    }
                    at += 1;
                    continue;
                }
            };
            let kind = rest[0];
            let record_version = u16::from_be_bytes([rest[1], rest[2]]);
            // Encrypted from here on: the header is all we can use.
            if self.sides[d].change_cipher_spec || kind == APPLICATION_DATA {
                self.encrypted_record(dir, kind);
                return self.sides[d].stop();
            }
            let Some(body) = rest.get(5..5 + len) else {
                return Parsed::Continue { consumed: at, needed: 5 + len - rest.len() };
            };
            self.sides[d].records += 1;
            match kind {
                CHANGE_CIPHER_SPEC => self.change_cipher_spec(dir),
                // Level 2 is fatal; alerts in clear come before encryption.
                ALERT if body.chunks_exact(2).any(|a| a[0] == 2) && !self.established => self.fatal_alert = true,
                HANDSHAKE => self.handshake(cx, dir, record_version, body, at + 5 + len - 1),
                _ => {}
            }
            at += 5 + len;
        }
    }

    /// Enters resynchronisation after an error or a gap; false (and the
    /// direction given up) once it has been tried too often.
    fn start_resync(&mut self, cx: &mut ParseContext<'_>, dir: Direction) -> bool {
        let side = &mut self.sides[dir.index()];
        if side.mode == Mode::Done {
            return false;
        }
        if !side.message.is_empty() || side.skip > 0 {
            // A message cut short.
            cx.error();
            side.message.clear();
            side.skip = 0;
        }
        side.resyncs += 1;
        if side.resyncs > MAX_RESYNCS {
            cx.error();
            side.stop();
            return false;
        }
        side.mode = Mode::Resync { searched: 0 };
        true
    }

    fn change_cipher_spec(&mut self, dir: Direction) {
        // TLS 1.3 ignores it (RFC 8446 D.4 compatibility mode).
        if self.tls13 {
            return;
        }
        self.sides[dir.index()].change_cipher_spec = true;
        if dir == Direction::ToClient && self.version != 0 && !self.server_hello_done {
            // Abbreviated handshake: ServerHello, [NewSessionTicket], CCS.
            self.resumed = true;
        }
    }

    /// An encrypted record's header in `dir`.
    fn encrypted_record(&mut self, dir: Direction, kind: u8) {
        if kind == APPLICATION_DATA {
            self.sides[dir.index()].application_data = true;
        }
        let [client, server] = &self.sides;
        let both = if self.tls13 {
            client.application_data && server.application_data
        } else {
            // Zeek: an encrypted record once both sides switched.
            client.change_cipher_spec && server.change_cipher_spec
        };
        if both && !self.fatal_alert {
            self.established = true;
        }
    }

    /// One SSL 2.0 message whose last byte is at `last` in the data; Some
    /// when the direction is done.
    fn sslv2(&mut self, cx: &mut ParseContext<'_>, dir: Direction, message: &[u8], last: usize) -> Option<Parsed> {
        let d = dir.index();
        let at = cx.time_at(last);
        match (dir, message.first().copied()) {
            (Direction::ToServer, Some(SSLV2_CLIENT_HELLO)) if self.sides[d].records == 1 => {
                let Some(ch) = dec::parse_sslv2_client_hello(message) else {
                    cx.error();
                    return Some(self.sides[d].stop());
                };
                self.client_session_id.clear();
                self.client_session_id.extend_from_slice(ch.session_id.get(..32).unwrap_or(ch.session_id));
                if cx.emit.wants(RecordType::Tlsclienthello) {
                    with_scratch(|s| {
                        if dec::fill_sslv2_client_hello(&mut s.client_hello, message) {
                            s.client_hello.set_conn(cx.conn, at, dir);
                            cx.emit.emit(RecordType::Tlsclienthello, &s.client_hello);
                        }
                    });
                }
                None
            }
            (Direction::ToServer, Some(SSLV2_CLIENT_MASTER_KEY)) => {
                if !self.fatal_alert {
                    self.established = true;
                }
                Some(self.sides[d].stop())
            }
            (Direction::ToClient, Some(SSLV2_SERVER_HELLO)) if self.sides[d].records == 1 => {
                let Some(sh) = dec::parse_sslv2_server_hello(message) else {
                    cx.error();
                    return Some(self.sides[d].stop());
                };
                self.version = u32::from(sh.version);
                self.cipher = sh.cipher_specs.get(..3).map_or(0, |c| u32::from_be_bytes([0, c[0], c[1], c[2]]));
                self.resumed = sh.session_id_hit;
                if cx.emit.wants(RecordType::Tlsserverhello) {
                    with_scratch(|s| {
                        if dec::fill_sslv2_server_hello(&mut s.server_hello, message) {
                            s.server_hello.set_conn(cx.conn, at, dir);
                            cx.emit.emit(RecordType::Tlsserverhello, &s.server_hello);
                        }
                    });
                }
                if !sh.certificate.is_empty() {
                    emit_certificate(cx, dir, at, sh.certificate, 0);
                }
                // The rest is encrypted.
                Some(self.sides[d].stop())
            }
            _ => {
                // Anything else (an error message, encrypted records).
                Some(self.sides[d].stop())
            }
        }
    }

    /// The content of a handshake record whose last byte is at `last` in the
    /// data: the messages it completes are stamped with that byte's packet
    /// (a record is only used once whole; Wireshark shows them there too).
    fn handshake(
        &mut self,
        cx: &mut ParseContext<'_>,
        dir: Direction,
        record_version: u16,
        mut body: &[u8],
        last: usize,
    ) {
        let d = dir.index();
        // The rest of an oversize message.
        let skip = self.sides[d].skip.min(body.len());
        self.sides[d].skip -= skip;
        body = &body[skip..];
        // Complete the message begun in earlier records.
        if !self.sides[d].message.is_empty() {
            let mut message = std::mem::take(&mut self.sides[d].message);
            if message.len() < 4 {
                let n = (4 - message.len()).min(body.len());
                message.extend_from_slice(&body[..n]);
                body = &body[n..];
            }
            if message.len() >= 4 {
                let total = 4 + be24(&message[1..]);
                if total > MAX_MESSAGE {
                    cx.error();
                    let n = (total - message.len()).min(body.len());
                    self.sides[d].skip = total - message.len() - n;
                    body = &body[n..];
                    message.clear();
                } else {
                    let n = (total - message.len()).min(body.len());
                    message.reserve_exact(total - message.len());
                    message.extend_from_slice(&body[..n]);
                    body = &body[n..];
                    if message.len() == total {
                        self.message(cx, dir, record_version, &message, last);
                        message.clear();
                    }
                }
            }
            // Keep the buffer (and its capacity) unless the direction ended.
            if self.sides[d].mode != Mode::Done {
                self.sides[d].message = message;
            }
        }
        // Whole messages straight from the record, the start of the next one kept.
        while !body.is_empty() && self.sides[d].mode != Mode::Done {
            if body.len() < 4 {
                self.sides[d].message.extend_from_slice(body);
                return;
            }
            let total = 4 + be24(&body[1..]);
            if total > MAX_MESSAGE {
                cx.error();
                self.sides[d].skip = total.saturating_sub(body.len());
                return;
            }
            let Some(message) = body.get(..total) else {
                self.sides[d].message.reserve_exact(total);
                self.sides[d].message.extend_from_slice(body);
                return;
            };
            self.message(cx, dir, record_version, message, last);
            body = &body[total..];
        }
    }

    /// One whole handshake message, stamped with the packet of byte `last`.
    fn message(&mut self, cx: &mut ParseContext<'_>, dir: Direction, record_version: u16, message: &[u8], last: usize) {
        let body = message.get(4..).unwrap_or_default();
        match message.first().copied() {
            Some(CLIENT_HELLO) => self.client_hello(cx, dir, record_version, body, last),
            Some(SERVER_HELLO) => self.server_hello(cx, dir, record_version, body, last),
            Some(CERTIFICATE) if cx.emit.wants(RecordType::Tlscertificate) => certificates(cx, dir, body, last),
            Some(SERVER_HELLO_DONE) if dir == Direction::ToClient => self.server_hello_done = true,
            _ => {}
        }
    }

    fn client_hello(
        &mut self,
        cx: &mut ParseContext<'_>,
        dir: Direction,
        record_version: u16,
        body: &[u8],
        last: usize,
    ) {
        let Ok((_, ch)) = tls_parser::parse_tls_handshake_client_hello(body) else {
            cx.error();
            return;
        };
        self.client_session_id.clear();
        self.client_session_id.extend_from_slice(ch.session_id.unwrap_or_default());
        let wanted = cx.emit.wants(RecordType::Tlsclienthello);
        with_scratch(|s| {
            dec::parse_extensions(ch.ext.unwrap_or_default(), false, &mut s.work.ext);
            self.server_name.clone_from(&s.work.ext.sni);
            if wanted && dec::fill_client_hello(&mut s.client_hello, &mut s.work, record_version, body) {
                s.client_hello.set_conn(cx.conn, cx.time_at(last), dir);
                cx.emit.emit(RecordType::Tlsclienthello, &s.client_hello);
            }
        });
    }

    fn server_hello(
        &mut self,
        cx: &mut ParseContext<'_>,
        dir: Direction,
        record_version: u16,
        body: &[u8],
        last: usize,
    ) {
        let Some(sh) = dec::parse_server_hello(body) else {
            cx.error();
            return;
        };
        let mut version = u32::from(sh.version.0);
        let mut psk = false;
        let mut ext = sh.ext.unwrap_or_default();
        while let [t0, t1, l0, l1, rest @ ..] = ext {
            let len = usize::from(u16::from_be_bytes([*l0, *l1]));
            let data = rest.get(..len).unwrap_or(rest);
            match u16::from_be_bytes([*t0, *t1]) {
                EXT_SUPPORTED_VERSIONS => {
                    if let [v0, v1, ..] = data {
                        version = u32::from(u16::from_be_bytes([*v0, *v1]));
                    }
                }
                EXT_PRE_SHARED_KEY => psk = true,
                _ => {}
            }
            ext = rest.get(len..).unwrap_or_default();
        }
        self.version = version;
        self.cipher = u32::from(sh.cipher.0);
        // As Zeek: any version above TLS 1.2 (drafts, vendor variants such
        // as 0xfb1a) is TLS 1.3-like.
        self.tls13 = !matches!(version, 0x0002 | 0x0300..=0x0303);
        self.resumed = if self.tls13 {
            psk
        } else {
            let id = sh.session_id.unwrap_or_default();
            !id.is_empty() && id == self.client_session_id.as_slice()
        };
        if cx.emit.wants(RecordType::Tlsserverhello) {
            with_scratch(|s| {
                if dec::fill_server_hello(&mut s.server_hello, &mut s.work, record_version, body) {
                    s.server_hello.set_conn(cx.conn, cx.time_at(last), dir);
                    cx.emit.emit(RecordType::Tlsserverhello, &s.server_hello);
                }
            });
        }
    }
}

/// The certificates of a Certificate message body (SSL 3.0 to TLS 1.2: a
/// 24-bit list length, then 24-bit length and DER per certificate).
fn certificates(cx: &mut ParseContext<'_>, dir: Direction, body: &[u8], last: usize) {
    let at = cx.time_at(last);
    let list_len = be24(body);
    let mut list = body.get(3..3 + list_len).unwrap_or_else(|| body.get(3..).unwrap_or_default());
    if body.len() < 3 || list.len() != list_len {
        cx.error();
    }
    let mut index = 0;
    while list.len() >= 3 {
        let len = be24(list);
        let Some(der) = list.get(3..3 + len) else {
            cx.error();
            return;
        };
        emit_certificate(cx, dir, at, der, index);
        list = &list[3 + len..];
        index += 1;
    }
}

fn emit_certificate(cx: &mut ParseContext<'_>, dir: Direction, at: crate::PacketTime, der: &[u8], index: u32) {
    if !cx.emit.wants(RecordType::Tlscertificate) {
        return;
    }
    let fill = with_scratch(|s| {
        let r = &mut s.certificate;
        let fill = dec::fill_certificate(r, der, index);
        if fill != dec::CertificateFill::Unreadable {
            r.client = dir == Direction::ToServer;
            r.set_conn(cx.conn, at, dir);
            cx.emit.emit(RecordType::Tlscertificate, r);
        }
        fill
    });
    if fill != dec::CertificateFill::Parsed {
        cx.error();
    }
}

impl StreamParser for Tls {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        self.records(cx, dir, data)
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, _len: u64) {
        self.start_resync(cx, dir);
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, _rest: &[u8]) {
        let side = &mut self.sides[dir.index()];
        if side.mode != Mode::Done && (!side.message.is_empty() || side.skip > 0) {
            // A handshake message the direction ended in.
            cx.error();
        }
        side.stop();
    }

    fn finish(&mut self, _cx: &mut ParseContext<'_>) {}

    fn facts(&self, facts: &mut ConnectionExtras) {
        facts.tls_version = self.version;
        facts.tls_cipher = self.cipher;
        facts.tls_server_name.clone_from(&self.server_name);
        facts.tls_established = self.established;
        facts.tls_resumed = self.resumed;
    }

    fn memory(&self) -> usize {
        self.sides.iter().map(|s| s.message.capacity()).sum::<usize>()
            + self.client_session_id.capacity()
            + self.server_name.capacity()
    }
}

/// Fuzz entry point: `data` drives a connection. Its first byte seeds the
/// cut: the rest is fed in pieces of 1 to 64 bytes alternating by the seed's
/// bits between the directions, with an occasional gap, then both
/// directions end. Must not panic, hang or grow without bound.
pub fn fuzz_entry(data: &[u8]) {
    let Some((&seed, mut rest)) = data.split_first() else { return };
    let mut h = TestHarness::default();
    let mut parser = Tls::default();
    let mut pending = [Vec::new(), Vec::new()];
    let mut done = [false, false];
    let mut state = u32::from(seed) | 0x100;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let dir = if state >> 16 & 1 == 0 { Direction::ToServer } else { Direction::ToClient };
        let d = dir.index();
        let n = ((state >> 17) as usize % 64 + 1).min(rest.len());
        let (piece, tail) = rest.split_at(n);
        rest = tail;
        if done[d] {
            continue;
        }
        if state >> 24 & 0x3f == 0 {
            pending[d].clear();
            parser.gap(&mut h.cx(), dir, n as u64);
            continue;
        }
        pending[d].extend_from_slice(piece);
        match parser.parse(&mut h.cx(), dir, &pending[d]) {
            Parsed::Continue { consumed, .. } => {
                pending[d].drain(..consumed.min(pending[d].len()));
            }
            Parsed::Done => {
                pending[d].clear();
                done[d] = true;
            }
        }
        // Two message buffers and a server name of at most one message.
        assert!(parser.memory() <= 3 * MAX_MESSAGE + 1024);
    }
    for dir in [Direction::ToServer, Direction::ToClient] {
        parser.end(&mut h.cx(), dir, &pending[dir.index()]);
    }
    parser.finish(&mut h.cx());
    let mut facts = ConnectionExtras::default();
    parser.facts(&mut facts);
}
