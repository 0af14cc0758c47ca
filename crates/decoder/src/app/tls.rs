//! TLS and DTLS handshakes: ClientHello and ServerHello with their JA3, JA3S
//! and JA4 fingerprints, and X.509 certificates.
//!
//! One filling code per record whatever carried the message: DTLS datagrams
//! are decoded here per packet; TLS over TCP is parsed from the reassembled
//! stream by the session stage (netcap-session's TLS stream parser), which
//! calls [`fill_client_hello`], [`fill_server_hello`] and
//! [`fill_certificate`]; QUIC's CRYPTO frames come through
//! [`quic_client_hello`].
//!
//! Records and handshake messages are parsed with tls-parser (rusticata);
//! extensions are walked here, since fingerprints need every extension type
//! in wire order, GREASE and unknown ones included. JA4 is implemented from
//! FoxIO's specification text (technical_details/JA4.md, BSD-3 part of
//! JA4+); no FoxIO code is used. JA4S and the other JA4+ fingerprints are
//! under the FoxIO licence and left out.

use super::{AppRecord, Flow, push_hex, set_lossy};
use crate::{Layer, PacketContext};
use md5::Md5;
use netcap_records::RecordType;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tls_parser::{
    DTLSMessage, DTLSMessageHandshakeBody, TlsMessage, TlsMessageHandshake, parse_dtls_plaintext_record,
    parse_tls_handshake_client_hello, parse_tls_message_handshake, parse_tls_raw_record,
};

const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;

const EXT_SNI: u16 = 0;
const EXT_GROUPS: u16 = 10;
const EXT_POINT_FORMATS: u16 = 11;
const EXT_SIG_ALGS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_VERSIONS: u16 = 43;

/// A DTLS handshake record (DTLS 1.0, 1.2, 1.3, and OpenSSL's pre-RFC 0x0100).
pub(crate) fn looks_like_dtls(p: &[u8]) -> bool {
    p.len() >= 25
        && p[0] == HANDSHAKE
        && matches!((p[1], p[2]), (0xfe, 0xff | 0xfd | 0xfc) | (0x01, 0x00))
        && matches!(p[13], CLIENT_HELLO | SERVER_HELLO)
}

/// GREASE values (RFC 8701): 0x?a?a with equal bytes.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

/// What a hello's extensions say, collected into reusable buffers.
#[derive(Default, Debug)]
pub struct Extensions {
    pub types: Vec<u16>,
    pub sni: String,
    pub alpn: Vec<String>,
    pub groups: Vec<u16>,
    pub point_formats: Vec<u8>,
    pub sig_algs: Vec<u16>,
    pub versions: Vec<u16>,
}

impl Extensions {
    fn clear(&mut self) {
        self.types.clear();
        self.sni.clear();
        self.groups.clear();
        self.point_formats.clear();
        self.sig_algs.clear();
        self.versions.clear();
    }
}

/// Walks the extensions block of a hello. Malformed extension bodies are
/// skipped (their type is still listed); a block that ends mid-header stops
/// the walk.
pub fn parse_extensions(mut ext: &[u8], server: bool, out: &mut Extensions) {
    out.clear();
    // The ALPN strings are overwritten in place, not dropped and made anew.
    let mut alpn = 0;
    while ext.len() >= 4 {
        let kind = u16::from_be_bytes([ext[0], ext[1]]);
        let len = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
        let data = ext.get(4..4 + len).unwrap_or(&ext[4..]);
        out.types.push(kind);
        match kind {
            EXT_SNI => {
                // server_name_list: u16 length, then (type u8, u16 length, name).
                if let (Some(&0), Some(n)) = (data.get(2), super::be16(data, 3))
                    && let Some(name) = data.get(5..5 + usize::from(n))
                {
                    set_lossy(&mut out.sni, name);
                }
            }
            EXT_ALPN => {
                let mut list = data.get(2..).unwrap_or_default();
                while let Some((&n, rest)) = list.split_first() {
                    let Some(name) = rest.get(..usize::from(n)) else { break };
                    if alpn == out.alpn.len() {
                        out.alpn.push(String::new());
                    }
                    set_lossy(&mut out.alpn[alpn], name);
                    alpn += 1;
                    list = &rest[usize::from(n)..];
                }
            }
            EXT_GROUPS => u16_list(data.get(2..), &mut out.groups),
            EXT_SIG_ALGS => u16_list(data.get(2..), &mut out.sig_algs),
            EXT_POINT_FORMATS => out.point_formats.extend(data.get(1..).unwrap_or_default()),
            EXT_VERSIONS if server => u16_list(Some(data), &mut out.versions),
            EXT_VERSIONS => u16_list(data.get(1..), &mut out.versions),
            _ => {}
        }
        ext = ext.get(4 + len..).unwrap_or_default();
    }
    out.alpn.truncate(alpn);
}

fn u16_list(data: Option<&[u8]>, out: &mut Vec<u16>) {
    if let Some(d) = data {
        out.extend(d.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])));
    }
}

/// Scratch buffers for fingerprints, reused across packets.
#[derive(Default)]
pub struct Work {
    pub ext: Extensions,
    sorted: Vec<u16>,
    sorted2: Vec<u16>,
    text: String,
    digests: Digests,
}

/// Slots of [`Digests`]: a client sends the same hello (so the same JA3 and
/// JA4 strings) on every connection, and a network has few distinct clients.
const DIGEST_SLOTS: usize = 64;

/// The MD5 (JA3, JA3S) and truncated SHA-256 (JA4) hex digests of recent
/// fingerprint strings, direct-mapped by a cheap hash of the string: hashing
/// costs far more than decoding the hello.
#[derive(Default)]
pub struct Digests {
    slots: Vec<Option<(u8, String, String)>>,
}

impl Digests {
    /// Appends the hex digest of `text` (`kind` 0: MD5, 1: SHA-256's first 6 bytes).
    fn push(&mut self, out: &mut String, kind: u8, text: &str) {
        let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ u64::from(kind);
        for chunk in text.as_bytes().chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
        }
        if self.slots.is_empty() {
            self.slots.resize(DIGEST_SLOTS, None);
        }
        let slot = &mut self.slots[(h as usize) % DIGEST_SLOTS];
        let hit = matches!(slot, Some((k, t, _)) if *k == kind && t == text);
        let (k, t, digest) = slot.get_or_insert_with(Default::default);
        if !hit {
            *k = kind;
            t.clear();
            t.push_str(text);
            digest.clear();
            if kind == 0 {
                push_hex(digest, Md5::digest(text.as_bytes()).as_slice());
            } else {
                push_hex(digest, &Sha256::digest(text.as_bytes())[..6]);
            }
        }
        out.push_str(digest);
    }
}

/// JA3: "version,ciphers,extensions,groups,point formats", GREASE removed.
pub fn ja3(out: &mut String, version: u16, ciphers: &[u16], ext: &Extensions) {
    out.clear();
    push_dec(out, version);
    out.push(',');
    join_dec(out, ciphers.iter().copied().filter(|&c| !is_grease(c)));
    out.push(',');
    join_dec(out, ext.types.iter().copied().filter(|&c| !is_grease(c)));
    out.push(',');
    join_dec(out, ext.groups.iter().copied().filter(|&c| !is_grease(c)));
    out.push(',');
    join_dec(out, ext.point_formats.iter().map(|&p| u16::from(p)));
}

/// JA3S: "version,cipher,extensions".
pub fn ja3s(out: &mut String, version: u16, cipher: u16, ext: &Extensions) {
    out.clear();
    push_dec(out, version);
    out.push(',');
    push_dec(out, cipher);
    out.push(',');
    join_dec(out, ext.types.iter().copied().filter(|&c| !is_grease(c)));
}

fn join_dec(out: &mut String, values: impl Iterator<Item = u16>) {
    for (i, v) in values.enumerate() {
        if i > 0 {
            out.push('-');
        }
        push_dec(out, v);
    }
}

fn join_hex(out: &mut String, values: &[u16]) {
    for (i, &v) in values.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        const HEX: &[u8; 16] = b"0123456789abcdef";
        for shift in [12, 8, 4, 0] {
            out.push(char::from(HEX[usize::from((v >> shift) & 0xf)]));
        }
    }
}

/// Appends `v` in decimal (fingerprints format thousands of numbers; this
/// is several times cheaper than `write!`).
fn push_dec(out: &mut String, v: u16) {
    let mut digits = [0u8; 5];
    let mut n = v;
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[at..] {
        out.push(char::from(d));
    }
}

/// MD5 as lower-case hex.
pub fn md5_hex(out: &mut String, text: &str, digests: &mut Digests) {
    out.clear();
    digests.push(out, 0, text);
}

/// Transport letter of JA4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ja4Transport {
    Tcp,
    Quic,
    Dtls,
}

/// JA4 and JA4_r of a ClientHello (FoxIO JA4 specification).
// Its parts come from the hello, its extensions and two work buffers.
#[allow(clippy::too_many_arguments)]
pub fn ja4(
    ja4: &mut String,
    ja4_r: &mut String,
    transport: Ja4Transport,
    legacy_version: u16,
    ciphers: &[u16],
    ext: &Extensions,
    work: &mut (Vec<u16>, String),
    digests: &mut Digests,
) {
    let (sorted, text) = work;
    ja4.clear();
    ja4_r.clear();
    // a: transport, version, SNI, counts, ALPN.
    ja4.push(match transport {
        Ja4Transport::Tcp => 't',
        Ja4Transport::Quic => 'q',
        Ja4Transport::Dtls => 'd',
    });
    let version = ext.versions.iter().copied().filter(|&v| !is_grease(v)).max().unwrap_or(legacy_version);
    ja4.push_str(match version {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    });
    ja4.push(if ext.types.contains(&EXT_SNI) { 'd' } else { 'i' });
    let cipher_count = ciphers.iter().filter(|&&c| !is_grease(c)).count().min(99);
    let ext_count = ext.types.iter().filter(|&&c| !is_grease(c)).count().min(99);
    for count in [cipher_count, ext_count] {
        ja4.push(char::from(b'0' + (count / 10) as u8));
        ja4.push(char::from(b'0' + (count % 10) as u8));
    }
    match ext.alpn.first().map(|a| a.as_bytes()).filter(|a| !a.is_empty()) {
        None => ja4.push_str("00"),
        Some(a) => {
            let (first, last) = (a[0], a[a.len() - 1]);
            if first.is_ascii_alphanumeric() && last.is_ascii_alphanumeric() {
                ja4.push(first as char);
                ja4.push(last as char);
            } else {
                // Non-alphanumeric: first and last characters of the hex form.
                const HEX: &[u8; 16] = b"0123456789abcdef";
                ja4.push(HEX[usize::from(first >> 4)] as char);
                ja4.push(HEX[usize::from(last & 15)] as char);
            }
        }
    }
    ja4_r.push_str(ja4);
    // b: sorted ciphers.
    sorted.clear();
    sorted.extend(ciphers.iter().copied().filter(|&c| !is_grease(c)));
    sorted.sort_unstable();
    text.clear();
    join_hex(text, sorted);
    ja4.push('_');
    ja4_r.push('_');
    ja4_r.push_str(text);
    if sorted.is_empty() {
        ja4.push_str("000000000000");
    } else {
        digests.push(ja4, 1, text);
    }
    // c: sorted extensions without SNI and ALPN, then signature algorithms in order.
    sorted.clear();
    sorted.extend(ext.types.iter().copied().filter(|&c| !is_grease(c) && c != EXT_SNI && c != EXT_ALPN));
    sorted.sort_unstable();
    let no_extensions = sorted.is_empty();
    text.clear();
    join_hex(text, sorted);
    sorted.clear();
    sorted.extend(ext.sig_algs.iter().copied().filter(|&c| !is_grease(c)));
    if !sorted.is_empty() {
        text.push('_');
        join_hex(text, sorted);
    }
    ja4.push('_');
    ja4_r.push('_');
    ja4_r.push_str(text);
    if no_extensions {
        ja4.push_str("000000000000");
    } else {
        digests.push(ja4, 1, text);
    }
}

/// A ServerHello's fields. Parsed here: tls-parser drops the extensions of
/// SSL 3.0 hellos and gives TLS 1.3 draft hellos another shape, and JA3S
/// needs the extension list of both.
#[derive(Debug, Clone, Copy)]
pub struct ServerHello<'a> {
    pub version: tls_parser::TlsVersion,
    pub random: &'a [u8],
    pub session_id: Option<&'a [u8]>,
    pub cipher: tls_parser::TlsCipherSuiteID,
    pub compression: tls_parser::TlsCompressionID,
    pub ext: Option<&'a [u8]>,
}

/// Parses a ServerHello body (after the 4-byte handshake header).
pub fn parse_server_hello(b: &[u8]) -> Option<ServerHello<'_>> {
    let version = super::be16(b, 0)?;
    let random = b.get(2..34)?;
    // TLS 1.3 drafts before 22 have no session ID and no compression
    // method; some draft servers put 0x0304 in the version (RFC 8446 servers
    // put 0x0303 there and 0x0304 in supported_versions).
    let draft = (0x7f00..0x7f16).contains(&version) || version == 0x0304;
    let (session_id, at) = if draft {
        (None, 34)
    } else {
        let n = usize::from(*b.get(34)?);
        (Some(b.get(35..35 + n)?), 35 + n)
    };
    let cipher = super::be16(b, at)?;
    let (compression, at) = if draft { (0, at + 2) } else { (*b.get(at + 2)?, at + 3) };
    let ext = super::be16(b, at).and_then(|n| b.get(at + 2..at + 2 + usize::from(n)));
    Some(ServerHello {
        version: tls_parser::TlsVersion(version),
        random,
        session_id,
        cipher: tls_parser::TlsCipherSuiteID(cipher),
        compression: tls_parser::TlsCompressionID(compression),
        ext,
    })
}

/// Fills a ClientHello record (TLS, DTLS) from the hello's parts.
macro_rules! fill_client_hello {
    ($r:expr, $work:expr, $transport:expr, $record_version:expr, $ch:expr) => {{
        let r = $r;
        let work: &mut Work = $work;
        let ch = $ch;
        r.record_version = u32::from($record_version);
        r.version = u32::from(ch.version.0);
        crate::set_bytes(&mut r.random, ch.random);
        crate::set_bytes(&mut r.session_id, ch.session_id.unwrap_or_default());
        r.cipher_suites.clear();
        r.cipher_suites.extend(ch.ciphers.iter().map(|c| u32::from(c.0)));
        r.compression_methods.clear();
        r.compression_methods.extend(ch.comp.iter().map(|c| u32::from(c.0)));
        parse_extensions(ch.ext.unwrap_or_default(), false, &mut work.ext);
        let ext = &work.ext;
        r.extensions.clear();
        r.extensions.extend(ext.types.iter().map(|&t| u32::from(t)));
        r.sni.clear();
        r.sni.push_str(&ext.sni);
        r.alpn.clone_from(&ext.alpn);
        r.supported_groups.clear();
        r.supported_groups.extend(ext.groups.iter().map(|&t| u32::from(t)));
        r.ec_point_formats.clear();
        r.ec_point_formats.extend(ext.point_formats.iter().map(|&t| u32::from(t)));
        r.signature_algorithms.clear();
        r.signature_algorithms.extend(ext.sig_algs.iter().map(|&t| u32::from(t)));
        r.supported_versions.clear();
        r.supported_versions.extend(ext.versions.iter().map(|&t| u32::from(t)));
        work.sorted.clear();
        work.sorted.extend(ch.ciphers.iter().map(|c| c.0));
        let ciphers = std::mem::take(&mut work.sorted);
        ja3(&mut r.ja3, ch.version.0, &ciphers, ext);
        md5_hex(&mut r.ja3_hash, &r.ja3, &mut work.digests);
        let mut buffers = (std::mem::take(&mut work.sorted2), std::mem::take(&mut work.text));
        ja4(&mut r.ja4, &mut r.ja4_r, $transport, ch.version.0, &ciphers, ext, &mut buffers, &mut work.digests);
        (work.sorted2, work.text) = buffers;
        work.sorted = ciphers;
    }};
}

macro_rules! fill_server_hello {
    ($r:expr, $work:expr, $record_version:expr, $sh:expr) => {{
        let r = $r;
        let work: &mut Work = $work;
        let sh = $sh;
        r.record_version = u32::from($record_version);
        r.version = u32::from(sh.version.0);
        crate::set_bytes(&mut r.random, sh.random);
        crate::set_bytes(&mut r.session_id, sh.session_id.unwrap_or_default());
        r.cipher_suite = u32::from(sh.cipher.0);
        r.compression_method = u32::from(sh.compression.0);
        parse_extensions(sh.ext.unwrap_or_default(), true, &mut work.ext);
        let ext = &work.ext;
        r.extensions.clear();
        r.extensions.extend(ext.types.iter().map(|&t| u32::from(t)));
        r.selected_version = ext.versions.first().map_or(0, |&v| u32::from(v));
        r.alpn.clear();
        r.alpn.push_str(ext.alpn.first().map_or("", String::as_str));
        ja3s(&mut r.ja3s, sh.version.0, sh.cipher.0, ext);
        md5_hex(&mut r.ja3s_hash, &r.ja3s, &mut work.digests);
    }};
}

/// Fills the hello fields of a TLS ClientHello record (over TCP: JA4 'd'
/// becomes 't') from a ClientHello handshake message body (after the 4-byte
/// handshake header) that came in a record of `record_version`. The
/// connection fields (time, endpoints) are left to the caller. False if the
/// body is not a ClientHello (the record is then partly overwritten).
pub fn fill_client_hello(
    r: &mut netcap_records::TlsClientHello,
    work: &mut Work,
    record_version: u16,
    body: &[u8],
) -> bool {
    let Ok((_, ch)) = parse_tls_handshake_client_hello(body) else { return false };
    fill_client_hello!(&mut *r, work, Ja4Transport::Tcp, record_version, &ch);
    r.handshake_length = body.len() as u32;
    true
}

/// Fills the hello fields of a TLS ServerHello record from a ServerHello
/// handshake message body (after the 4-byte handshake header). False if the
/// body is too short for a ServerHello.
pub fn fill_server_hello(
    r: &mut netcap_records::TlsServerHello,
    work: &mut Work,
    record_version: u16,
    body: &[u8],
) -> bool {
    let Some(sh) = parse_server_hello(body) else { return false };
    fill_server_hello!(&mut *r, work, record_version, sh);
    true
}

/// An SSL 2.0 ClientHello (RFC 6101 appendix E, the SSLv2-compatible hello
/// of SSL 3.0 and TLS clients): the message after the SSLv2 record header.
#[derive(Debug, Clone, Copy)]
pub struct Sslv2ClientHello<'a> {
    /// 0x0002 for SSL 2.0, 0x0300.. for a client offering SSL 3.0 or TLS.
    pub version: u16,
    /// Cipher specs, 3 bytes each (0x00XXYY: the TLS suite XXYY).
    pub cipher_specs: &'a [u8],
    pub session_id: &'a [u8],
    pub challenge: &'a [u8],
}

/// Parses an SSLv2 ClientHello message (type 1, version, three lengths,
/// then cipher specs, session id and challenge).
pub fn parse_sslv2_client_hello(m: &[u8]) -> Option<Sslv2ClientHello<'_>> {
    if *m.first()? != CLIENT_HELLO {
        return None;
    }
    let version = super::be16(m, 1)?;
    let specs = usize::from(super::be16(m, 3)?);
    let session = usize::from(super::be16(m, 5)?);
    let challenge = usize::from(super::be16(m, 7)?);
    if specs % 3 != 0 {
        return None;
    }
    let cipher_specs = m.get(9..9 + specs)?;
    let session_id = m.get(9 + specs..9 + specs + session)?;
    let challenge = m.get(9 + specs + session..9 + specs + session + challenge)?;
    Some(Sslv2ClientHello { version, cipher_specs, session_id, challenge })
}

/// Fills a ClientHello record from an SSLv2 ClientHello message: version,
/// cipher specs as 24-bit values, session id, the challenge as the random.
/// It has no extensions and no fingerprints (Wireshark computes no JA3 for
/// it either); `record_version` is 0 (no TLS record layer).
pub fn fill_sslv2_client_hello(r: &mut netcap_records::TlsClientHello, message: &[u8]) -> bool {
    let Some(ch) = parse_sslv2_client_hello(message) else { return false };
    r.record_version = 0;
    r.version = u32::from(ch.version);
    crate::set_bytes(&mut r.random, ch.challenge);
    crate::set_bytes(&mut r.session_id, ch.session_id);
    r.cipher_suites.clear();
    r.cipher_suites.extend(ch.cipher_specs.chunks_exact(3).map(|c| u32::from_be_bytes([0, c[0], c[1], c[2]])));
    r.handshake_length = message.len() as u32;
    r.compression_methods.clear();
    r.extensions.clear();
    r.sni.clear();
    r.alpn.clear();
    r.supported_groups.clear();
    r.ec_point_formats.clear();
    r.signature_algorithms.clear();
    r.supported_versions.clear();
    r.ja3.clear();
    r.ja3_hash.clear();
    r.ja4.clear();
    r.ja4_r.clear();
    true
}

/// An SSL 2.0 ServerHello (the server speaks SSL 2.0 only).
#[derive(Debug, Clone, Copy)]
pub struct Sslv2ServerHello<'a> {
    pub session_id_hit: bool,
    pub version: u16,
    /// The server's certificate (DER), if any.
    pub certificate: &'a [u8],
    pub cipher_specs: &'a [u8],
    pub connection_id: &'a [u8],
}

/// Parses an SSLv2 ServerHello message (type 4).
pub fn parse_sslv2_server_hello(m: &[u8]) -> Option<Sslv2ServerHello<'_>> {
    if *m.first()? != 4 {
        return None;
    }
    let session_id_hit = *m.get(1)? != 0;
    let version = super::be16(m, 3)?;
    let cert = usize::from(super::be16(m, 5)?);
    let specs = usize::from(super::be16(m, 7)?);
    let conn = usize::from(super::be16(m, 9)?);
    let certificate = m.get(11..11 + cert)?;
    let cipher_specs = m.get(11 + cert..11 + cert + specs)?;
    let connection_id = m.get(11 + cert + specs..11 + cert + specs + conn)?;
    Some(Sslv2ServerHello { session_id_hit, version, certificate, cipher_specs, connection_id })
}

/// Fills a ServerHello record from an SSLv2 ServerHello: version, the first
/// of the server's cipher specs as the suite (as Zeek reports it), the
/// connection id as the random. No extensions, no JA3S.
pub fn fill_sslv2_server_hello(r: &mut netcap_records::TlsServerHello, message: &[u8]) -> bool {
    let Some(sh) = parse_sslv2_server_hello(message) else { return false };
    r.record_version = 0;
    r.version = u32::from(sh.version);
    crate::set_bytes(&mut r.random, sh.connection_id);
    r.session_id.clear();
    r.cipher_suite = sh.cipher_specs.get(..3).map_or(0, |c| u32::from_be_bytes([0, c[0], c[1], c[2]]));
    r.compression_method = 0;
    r.extensions.clear();
    r.selected_version = 0;
    r.alpn.clear();
    r.ja3s.clear();
    r.ja3s_hash.clear();
    true
}

/// What [`fill_certificate`] could read of a certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateFill {
    /// x509-parser parsed it: every field is filled.
    Parsed,
    /// x509-parser rejected it (a date out of range, a malformed
    /// extension...): the record has the index, length, digests and the
    /// serial read by a minimal DER walk ([`raw_serial`]), which Wireshark
    /// still shows. Emit it and count a parse error.
    Partial,
    /// Not even the serial could be read: nothing worth a record.
    Unreadable,
}

/// Fills a certificate record from a DER certificate at position `index`
/// of its chain: every certificate field (`client` is set false: the caller
/// knows whose chain it is), none of the connection fields.
///
/// Conventions: `self_signed` means self-issued (the issuer name equals the
/// subject name byte for byte; the signature is not checked). `subject_cn`
/// and `issuer_cn` are the first commonName attribute of the name. Key
/// types and sizes follow OpenSSL's names and `EVP_PKEY_get_bits` (so do
/// Zeek's x509.log `key_type`, `key_length` and `curve`): RSA and DSA the
/// modulus (p) bits, EC the named curve's size, Ed25519 256, Ed448 456,
/// X25519 253, X448 448, ML-DSA the public key's bits (10496 for
/// ML-DSA-44); `key_curve` is OpenSSL's short name of the named curve
/// ("prime256v1", "secp384r1", "brainpoolP256r1"), else the curve's OID.
/// An unknown key algorithm gives its OID as `key_type` and 0 bits.
pub fn fill_certificate(r: &mut netcap_records::TlsCertificate, der: &[u8], index: u32) -> CertificateFill {
    r.index = index;
    r.length = der.len() as u32;
    r.sha1.clear();
    push_hex(&mut r.sha1, Sha1::digest(der).as_slice());
    r.sha256.clear();
    push_hex(&mut r.sha256, Sha256::digest(der).as_slice());
    r.client = false;
    clear_certificate_fields(r);
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => {
            read_certificate(r, &cert);
            CertificateFill::Parsed
        }
        Err(_) => match raw_serial(der) {
            Some(serial) => {
                push_hex(&mut r.serial, serial);
                CertificateFill::Partial
            }
            None => CertificateFill::Unreadable,
        },
    }
}

/// Parses a DER certificate with x509-parser into a record's certificate
/// fields (digests, index and connection fields left empty).
pub fn parse_certificate(
    der: &[u8],
) -> Result<netcap_records::TlsCertificate, x509_parser::nom::Err<x509_parser::error::X509Error>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)?;
    let mut r = netcap_records::TlsCertificate::default();
    read_certificate(&mut r, &cert);
    Ok(r)
}

fn clear_certificate_fields(r: &mut netcap_records::TlsCertificate) {
    r.version = 0;
    r.subject.clear();
    r.issuer.clear();
    r.serial.clear();
    r.not_before = 0;
    r.not_after = 0;
    r.san_dns.clear();
    r.san_ip.clear();
    r.san_email.clear();
    r.san_uri.clear();
    r.signature_algorithm.clear();
    r.public_key_algorithm.clear();
    r.key_type.clear();
    r.key_bits = 0;
    r.key_curve.clear();
    r.is_ca = false;
    r.self_signed = false;
    r.subject_cn.clear();
    r.issuer_cn.clear();
}

fn read_certificate(r: &mut netcap_records::TlsCertificate, cert: &x509_parser::certificate::X509Certificate<'_>) {
    use std::fmt::Write as _;
    use x509_parser::extensions::GeneralName;
    r.version = cert.version().0 + 1;
    let _ = write!(r.subject, "{}", cert.subject());
    let _ = write!(r.issuer, "{}", cert.issuer());
    common_name(cert.subject(), &mut r.subject_cn);
    common_name(cert.issuer(), &mut r.issuer_cn);
    r.self_signed = cert.subject().as_raw() == cert.issuer().as_raw();
    push_hex(&mut r.serial, cert.raw_serial());
    r.not_before = cert.validity().not_before.timestamp();
    r.not_after = cert.validity().not_after.timestamp();
    r.signature_algorithm = cert.signature_algorithm.algorithm.to_id_string();
    r.public_key_algorithm = cert.public_key().algorithm.algorithm.to_id_string();
    if let Ok(Some(bc)) = cert.basic_constraints() {
        r.is_ca = bc.value.ca;
    }
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(dns) => r.san_dns.push((*dns).to_owned()),
                GeneralName::RFC822Name(mail) => r.san_email.push((*mail).to_owned()),
                GeneralName::URI(uri) => r.san_uri.push((*uri).to_owned()),
                GeneralName::IPAddress(ip) => r.san_ip.push(ip_text(ip)),
                _ => {}
            }
        }
    }
    public_key(r, cert.public_key());
}

/// An iPAddress general name as text: IPv4 dotted, IPv6 in RFC 5952 form;
/// any other length (not an address) in hex.
fn ip_text(ip: &[u8]) -> String {
    if let Ok(v4) = <[u8; 4]>::try_from(ip) {
        std::net::Ipv4Addr::from(v4).to_string()
    } else if let Ok(v6) = <[u8; 16]>::try_from(ip) {
        std::net::Ipv6Addr::from(v6).to_string()
    } else {
        let mut s = String::new();
        push_hex(&mut s, ip);
        s
    }
}

/// The first commonName of a name, as text (UTF-8, PrintableString and
/// IA5String as they are, BMPString decoded, anything else lossy).
fn common_name(name: &x509_parser::x509::X509Name<'_>, out: &mut String) {
    out.clear();
    let Some(cn) = name.iter_common_name().next() else { return };
    match cn.as_str() {
        Ok(s) => out.push_str(s),
        Err(_) if cn.attr_value().tag() == x509_parser::der_parser::asn1_rs::Tag::BmpString => {
            let units = cn.as_slice().chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            out.extend(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)));
        }
        Err(_) => out.push_str(&String::from_utf8_lossy(cn.as_slice())),
    }
}

/// Key algorithms by OID: OpenSSL's name and, for keys of one size, their
/// bits as `EVP_PKEY_get_bits` gives them (0: read from the key).
const KEY_TYPES: &[(&str, &str, u32)] = &[
    ("1.2.840.113549.1.1.1", "RSA", 0),
    ("1.2.840.113549.1.1.10", "RSA-PSS", 0),
    ("1.2.840.10045.2.1", "EC", 0),
    ("1.2.840.10040.4.1", "DSA", 0),
    ("1.2.840.113549.1.3.1", "DH", 0),
    ("1.3.101.110", "X25519", 253),
    ("1.3.101.111", "X448", 448),
    ("1.3.101.112", "Ed25519", 256),
    ("1.3.101.113", "Ed448", 456),
    ("2.16.840.1.101.3.4.3.17", "ML-DSA-44", 0),
    ("2.16.840.1.101.3.4.3.18", "ML-DSA-65", 0),
    ("2.16.840.1.101.3.4.3.19", "ML-DSA-87", 0),
];

/// Named curves by OID: OpenSSL's short name and the size in bits.
const CURVES: &[(&str, &str, u32)] = &[
    ("1.2.840.10045.3.1.7", "prime256v1", 256),
    ("1.3.132.0.34", "secp384r1", 384),
    ("1.3.132.0.35", "secp521r1", 521),
    ("1.3.132.0.10", "secp256k1", 256),
    ("1.3.132.0.33", "secp224r1", 224),
    ("1.2.840.10045.3.1.1", "prime192v1", 192),
    ("1.3.36.3.3.2.8.1.1.7", "brainpoolP256r1", 256),
    ("1.3.36.3.3.2.8.1.1.11", "brainpoolP384r1", 384),
    ("1.3.36.3.3.2.8.1.1.13", "brainpoolP512r1", 512),
    ("1.2.156.10197.1.301", "SM2", 256),
];

/// Key type, size and curve of a subject public key.
fn public_key(r: &mut netcap_records::TlsCertificate, spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>) {
    use x509_parser::public_key::PublicKey;
    let oid = spki.algorithm.algorithm.to_id_string();
    let Some(&(_, name, fixed_bits)) = KEY_TYPES.iter().find(|(o, _, _)| *o == oid) else {
        r.key_type = oid;
        return;
    };
    r.key_type.push_str(name);
    let key = &spki.subject_public_key.data;
    r.key_bits = match name {
        "RSA" | "RSA-PSS" => match spki.parsed() {
            Ok(PublicKey::RSA(rsa)) => integer_bits(rsa.modulus),
            _ => 0,
        },
        // Dss-Parms / DomainParameters: SEQUENCE { INTEGER p, ... }.
        "DSA" | "DH" => spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| der_tlv(p.data))
            .filter(|(tag, _, _)| *tag == 0x02)
            .map_or(0, |(_, p, _)| integer_bits(p)),
        "EC" => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| x509_parser::der_parser::oid::Oid::try_from(p.clone()).ok())
                .map(|o| o.to_id_string());
            match curve.as_deref().and_then(|c| CURVES.iter().find(|(o, _, _)| *o == c)) {
                Some(&(_, short, bits)) => {
                    r.key_curve.push_str(short);
                    bits
                }
                None => {
                    // Explicit parameters or an unknown curve: its OID, and
                    // the size of an uncompressed point's coordinate.
                    r.key_curve.push_str(curve.as_deref().unwrap_or(""));
                    match key.as_ref() {
                        [4, rest @ ..] => (rest.len() * 4) as u32,
                        [2 | 3, rest @ ..] => (rest.len() * 8) as u32,
                        _ => 0,
                    }
                }
            }
        }
        _ if fixed_bits > 0 => fixed_bits,
        _ => (key.len() * 8) as u32,
    };
}

/// Bits of a big-endian unsigned integer (leading zero bytes and bits not counted).
fn integer_bits(n: &[u8]) -> u32 {
    let n = match n.iter().position(|&b| b != 0) {
        Some(first) => &n[first..],
        None => return 0,
    };
    (n.len() as u32 - 1) * 8 + (8 - n[0].leading_zeros())
}

/// Tag, content and what follows of the DER TLV at the start of `b`
/// (definite lengths up to 4 bytes).
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *b.first()?;
    let first = *b.get(1)?;
    let (len, at) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = b.get(2..2 + n)?.iter().fold(0usize, |acc, &x| (acc << 8) | usize::from(x));
        (len, 2 + n)
    };
    let end = at.checked_add(len)?;
    Some((tag, b.get(at..end)?, b.get(end..)?))
}

/// The serial number's content bytes, read with a minimal DER walk
/// (Certificate and TBSCertificate sequences, optional [0] version, then the
/// INTEGER): for certificates x509-parser rejects, such as dates out of
/// range, which Wireshark still shows.
pub fn raw_serial(der: &[u8]) -> Option<&[u8]> {
    let (0x30, cert, _) = der_tlv(der)? else { return None };
    let (0x30, tbs, _) = der_tlv(cert)? else { return None };
    let (tag, content, rest) = der_tlv(tbs)?;
    let (tag, content) = if tag == 0xa0 { der_tlv(rest).map(|(t, c, _)| (t, c))? } else { (tag, content) };
    (tag == 0x02).then_some(content)
}

/// Emits the certificate records of a DTLS Certificate message.
fn dtls_certificates(cx: &mut PacketContext<'_>, flow: Flow, chain: &[tls_parser::RawCertificate<'_>]) {
    for (index, raw) in chain.iter().enumerate() {
        let (stamp, app, out) = super::stamp_and_records!(cx, flow);
        let r = &mut app.certificate;
        r.set_flow(&stamp);
        let fill = fill_certificate(r, raw.data, index as u32);
        if fill != CertificateFill::Unreadable {
            out.push(RecordType::Tlscertificate, &app.certificate);
        }
        if fill != CertificateFill::Parsed {
            super::parse_error(cx, Layer::Dtls, flow, format_args!("certificate {index}: not X.509"));
        }
    }
}

/// Decodes the DTLS records of a UDP datagram.
pub(crate) fn decode_dtls(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    let mut rest = payload;
    while rest.len() >= 13 {
        let record = match parse_dtls_plaintext_record(rest) {
            Ok((tail, record)) => {
                rest = tail;
                record
            }
            Err(e) => {
                if rest.len() == payload.len() {
                    super::parse_error(cx, Layer::Dtls, flow, e);
                }
                return;
            }
        };
        let record_version = record.header.version.0;
        for message in &record.messages {
            let DTLSMessage::Handshake(h) = message else { continue };
            match &h.body {
                DTLSMessageHandshakeBody::ClientHello(ch) if cx.wants(RecordType::Dtlsclienthello) => {
                    let (stamp, app, out) = super::stamp_and_records!(cx, flow);
                    let r = &mut app.dtls_client_hello;
                    r.set_flow(&stamp);
                    fill_client_hello!(&mut *r, &mut app.tls_work, Ja4Transport::Dtls, record_version, ch);
                    r.handshake_length = h.length;
                    crate::set_bytes(&mut r.cookie, ch.cookie);
                    out.push(RecordType::Dtlsclienthello, &app.dtls_client_hello);
                }
                DTLSMessageHandshakeBody::ServerHello(sh) if cx.wants(RecordType::Dtlsserverhello) => {
                    let (stamp, app, out) = super::stamp_and_records!(cx, flow);
                    let r = &mut app.dtls_server_hello;
                    r.set_flow(&stamp);
                    fill_server_hello!(&mut *r, &mut app.tls_work, record_version, sh);
                    out.push(RecordType::Dtlsserverhello, &app.dtls_server_hello);
                }
                DTLSMessageHandshakeBody::Certificate(c) if cx.wants(RecordType::Tlscertificate) => {
                    dtls_certificates(cx, flow, &c.cert_chain);
                }
                _ => {}
            }
        }
    }
}

/// A ClientHello handshake message (type, length, body) from QUIC CRYPTO
/// frames: fills `r`'s hello fields; false if it is not a ClientHello.
pub(crate) fn quic_client_hello(r: &mut netcap_records::QuicInitial, work: &mut Work, message: &[u8]) -> bool {
    let Ok((_, TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)))) = parse_tls_message_handshake(message)
    else {
        return false;
    };
    r.client_hello = true;
    r.cipher_suites.clear();
    r.cipher_suites.extend(ch.ciphers.iter().map(|c| u32::from(c.0)));
    parse_extensions(ch.ext.unwrap_or_default(), false, &mut work.ext);
    let ext = &work.ext;
    r.extensions.clear();
    r.extensions.extend(ext.types.iter().map(|&t| u32::from(t)));
    r.sni.clear();
    r.sni.push_str(&ext.sni);
    r.alpn.clone_from(&ext.alpn);
    r.supported_groups.clear();
    r.supported_groups.extend(ext.groups.iter().map(|&t| u32::from(t)));
    r.supported_versions.clear();
    r.supported_versions.extend(ext.versions.iter().map(|&t| u32::from(t)));
    work.sorted.clear();
    work.sorted.extend(ch.ciphers.iter().map(|c| c.0));
    let ciphers = std::mem::take(&mut work.sorted);
    ja3(&mut r.ja3, ch.version.0, &ciphers, ext);
    md5_hex(&mut r.ja3_hash, &r.ja3, &mut work.digests);
    let mut buffers = (std::mem::take(&mut work.sorted2), std::mem::take(&mut work.text));
    ja4(&mut r.ja4, &mut r.ja4_r, Ja4Transport::Quic, ch.version.0, &ciphers, ext, &mut buffers, &mut work.digests);
    (work.sorted2, work.text) = buffers;
    work.sorted = ciphers;
    true
}

/// Parses every TLS record and handshake message of a payload (fuzz entry point).
pub fn parse_all(payload: &[u8]) -> usize {
    let mut ext = Extensions::default();
    let mut n = 0;
    let mut rest = payload;
    while let Ok((tail, record)) = parse_tls_raw_record(rest) {
        rest = tail;
        let mut data = record.data;
        while let Ok((tail, msg)) = parse_tls_message_handshake(data) {
            data = tail;
            n += 1;
            match msg {
                TlsMessage::Handshake(TlsMessageHandshake::ClientHello(ch)) => {
                    parse_extensions(ch.ext.unwrap_or_default(), false, &mut ext)
                }
                TlsMessage::Handshake(TlsMessageHandshake::ServerHello(sh)) => {
                    parse_extensions(sh.ext.unwrap_or_default(), true, &mut ext)
                }
                TlsMessage::Handshake(TlsMessageHandshake::Certificate(c)) => {
                    for raw in &c.cert_chain {
                        let _ = parse_certificate(raw.data);
                    }
                }
                _ => {}
            }
        }
    }
    if let Ok((_, record)) = parse_dtls_plaintext_record(payload) {
        n += record.messages.len();
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// `openssl req -x509` P-256 CA: O=netcap test, CN=netcap test CA,
    /// serial 0x0102, basicConstraints critical CA:TRUE, SAN DNS:ca.example,
    /// IP:192.0.2.1, IP:2001:db8::1, email:ca@example.com,
    /// URI:https://example.com/ca. Digests by sha1sum/sha256sum, dates by
    /// `openssl x509 -dates`.
    const CA_DER: &str = "308201fa308201a0a00302010202020102300a06082a8648ce3d040302302f31143012060355040a0c0b6e65746361702074\
        6573743117301506035504030c0e6e65746361702074657374204341301e170d3236313230373036323531335a170d333631\
        3230343036323531335a302f31143012060355040a0c0b6e657463617020746573743117301506035504030c0e6e65746361\
        7020746573742043413059301306072a8648ce3d020106082a8648ce3d03010703420004141d5d048c67c8c089c6138c4b56\
        968a657cb7226416d413f15ac935d28550c51a29731669d5cc50d5723b440510206cf3df22fb63ab73ce11022c3b3ff41417\
        a381ab3081a8301d0603551d0e04160414f33b11034af9e545849ede725cec56b7a16c379d301f0603551d23041830168014\
        f33b11034af9e545849ede725cec56b7a16c379d300f0603551d130101ff040530030101ff30550603551d11044e304c820a\
        63612e6578616d706c658704c0000201871020010db8000000000000000000000001810e6361406578616d706c652e636f6d\
        861668747470733a2f2f6578616d706c652e636f6d2f6361300a06082a8648ce3d0403020348003045022100a6aee2ac25d4\
        aee4dd82aec8c8409466e44e34784e51ba81058c3442c11acb6202202302564c70c8e01e645ab74e5b178a02a5f30c0c5b14\
        fbc91e578edfb4e80cda";

    /// An Ed25519 leaf issued by [`CA_DER`]: CN=leaf.example, serial 7,
    /// basicConstraints CA:FALSE, SAN DNS:leaf.example, IP:10.1.2.3.
    const LEAF_DER: &str = "3082017130820118a003020102020107300a06082a8648ce3d040302302f31143012060355040a0c0b6e6574636170207465\
        73743117301506035504030c0e6e65746361702074657374204341301e170d3236313230373036323531335a170d32373132\
        30373036323531335a30173115301306035504030c0c6c6561662e6578616d706c65302a300506032b6570032100d124aa94\
        129f4c0d2e3a3583574625e65875ea9a756605fc2aad95e87b5673eea36c306a301d0603551d1104163014820c6c6561662e\
        6578616d706c6587040a01020330090603551d1304023000301d0603551d0e041604149e52f38ea74ee5612570371cf4f72f\
        86275224e8301f0603551d23041830168014f33b11034af9e545849ede725cec56b7a16c379d300a06082a8648ce3d040302\
        034700304402207c92dc2dc8f4ee68285c6527462176ac84672605d1df1468c07c4be48a26e08302202655ea3f001fbecfea\
        1da5699fc8d53b9397a33d8b1e3f8126d5445517e61eee";

    #[test]
    fn certificate_fields_of_an_ec_ca() {
        let der = unhex(CA_DER);
        let mut r =
            netcap_records::TlsCertificate { client: true, san_dns: vec!["stale".into()], ..Default::default() };
        assert_eq!(fill_certificate(&mut r, &der, 2), CertificateFill::Parsed);
        assert_eq!(r.index, 2);
        assert_eq!(r.length, 510);
        assert_eq!(r.sha1, "02136fb4ccaf828f9ed2a51952ea1469866203f6");
        assert_eq!(r.sha256, "3243b5c5e38f5ce578c5de51251c4acc001bfe5ac23b9460f2fb9e4df1ab3fd5");
        assert_eq!(r.version, 3);
        assert_eq!(r.serial, "0102");
        assert_eq!(r.subject, "O=netcap test, CN=netcap test CA");
        assert_eq!(r.issuer, r.subject);
        assert_eq!(r.subject_cn, "netcap test CA");
        assert_eq!(r.issuer_cn, "netcap test CA");
        assert_eq!((r.not_before, r.not_after), (1_796_624_713, 2_111_984_713));
        assert_eq!(r.san_dns, ["ca.example"]);
        assert_eq!(r.san_ip, ["192.0.2.1", "2001:db8::1"]);
        assert_eq!(r.san_email, ["ca@example.com"]);
        assert_eq!(r.san_uri, ["https://example.com/ca"]);
        assert_eq!(r.signature_algorithm, "1.2.840.10045.4.3.2");
        assert_eq!(r.public_key_algorithm, "1.2.840.10045.2.1");
        assert_eq!((r.key_type.as_str(), r.key_bits, r.key_curve.as_str()), ("EC", 256, "prime256v1"));
        assert!(r.is_ca);
        assert!(r.self_signed);
        assert!(!r.client);
    }

    #[test]
    fn certificate_fields_of_an_ed25519_leaf_reuse_the_record() {
        let mut r = netcap_records::TlsCertificate::default();
        fill_certificate(&mut r, &unhex(CA_DER), 1);
        assert_eq!(fill_certificate(&mut r, &unhex(LEAF_DER), 0), CertificateFill::Parsed);
        assert_eq!(r.index, 0);
        assert_eq!(r.length, 373);
        assert_eq!(r.sha1, "d05aeb6f6659e5363dd57189d9555b90982f9726");
        assert_eq!(r.sha256, "c722cfb9b26cdf7898f14cd983c947305444d891c87a1b90b908643bb077641d");
        assert_eq!(r.serial, "07");
        assert_eq!(r.subject, "CN=leaf.example");
        assert_eq!(r.issuer, "O=netcap test, CN=netcap test CA");
        assert_eq!((r.subject_cn.as_str(), r.issuer_cn.as_str()), ("leaf.example", "netcap test CA"));
        assert_eq!((r.not_before, r.not_after), (1_796_624_713, 1_828_160_713));
        assert_eq!(r.san_dns, ["leaf.example"]);
        assert_eq!(r.san_ip, ["10.1.2.3"]);
        assert!(r.san_email.is_empty() && r.san_uri.is_empty());
        assert_eq!((r.key_type.as_str(), r.key_bits, r.key_curve.as_str()), ("Ed25519", 256, ""));
        assert_eq!(r.public_key_algorithm, "1.3.101.112");
        assert!(!r.is_ca);
        assert!(!r.self_signed);
    }

    #[test]
    fn rejected_certificates_keep_serial_and_digests() {
        let mut der = unhex(CA_DER);
        // The first UTCTime of the validity becomes an OCTET STRING:
        // x509-parser rejects the certificate, the serial is still read.
        let at = der.windows(2).position(|w| w == [0x17, 0x0d]).unwrap();
        der[at] = 0x04;
        let mut r = netcap_records::TlsCertificate::default();
        fill_certificate(&mut r, &unhex(CA_DER), 0);
        assert_eq!(fill_certificate(&mut r, &der, 1), CertificateFill::Partial);
        assert_eq!(r.serial, "0102");
        assert_eq!(r.length, 510);
        assert_eq!(r.sha1.len(), 40);
        assert_eq!(r.sha256.len(), 64);
        assert!(r.subject.is_empty() && r.san_ip.is_empty() && r.key_type.is_empty() && !r.is_ca);
        assert_eq!(fill_certificate(&mut r, b"not a certificate", 0), CertificateFill::Unreadable);
    }

    #[test]
    fn key_sizes_of_integers() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(integer_bits(&[0x01, 0xff]), 9);
        assert_eq!(integer_bits(&[0, 0]), 0);
        assert_eq!(integer_bits(&[]), 0);
        assert_eq!(ip_text(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), "fe80::1");
        assert_eq!(ip_text(&[10, 0, 0, 0, 255, 0, 0, 0]), "0a000000ff000000");
    }

    /// A ClientHello body (python-built): TLS 1.2 legacy version, random
    /// 0x11 * 32, session id 00..1f, suites 1301 c02f 002f, null
    /// compression, extensions SNI example.com, groups x25519 secp256r1,
    /// point formats [0], signature algorithms 0403 0804, ALPN h2
    /// http/1.1, supported versions 1.3 1.2.
    const CLIENT_HELLO: &str = "0303111111111111111111111111111111111111111111111111111111111111111120000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00061301c02f002f0100004900000010000e00000b6578616d706c652e636f6d000a00060004001d0017000b00020100000d00060004040308040010000e000c02683208687474702f312e31002b00050403040303";

    #[test]
    fn client_hello_of_tcp() {
        let body = unhex(CLIENT_HELLO);
        let mut r = netcap_records::TlsClientHello::default();
        let mut work = Work::default();
        assert!(fill_client_hello(&mut r, &mut work, 0x0301, &body));
        assert_eq!(r.record_version, 0x0301);
        assert_eq!(r.version, 0x0303);
        assert_eq!(r.random, [0x11; 32]);
        assert_eq!(r.session_id, (0..32).collect::<Vec<u8>>());
        assert_eq!(r.cipher_suites, [0x1301, 0xc02f, 0x002f]);
        assert_eq!(r.compression_methods, [0]);
        assert_eq!(r.extensions, [0, 10, 11, 13, 16, 43]);
        assert_eq!(r.sni, "example.com");
        assert_eq!(r.alpn, ["h2", "http/1.1"]);
        assert_eq!(r.supported_groups, [0x1d, 0x17]);
        assert_eq!(r.ec_point_formats, [0]);
        assert_eq!(r.signature_algorithms, [0x0403, 0x0804]);
        assert_eq!(r.supported_versions, [0x0304, 0x0303]);
        // JA3 and its MD5 (python hashlib); JA4 computed by hand from the
        // FoxIO specification: t, 13 (highest supported version), d (SNI),
        // 03 suites, 06 extensions, h2; SHA-256 prefixes of
        // "002f,1301,c02f" and "000a,000b,000d,002b_0403,0804".
        assert_eq!(r.ja3, "771,4865-49199-47,0-10-11-13-16-43,29-23,0");
        assert_eq!(r.ja3_hash, "6bfe35123df20afcf42aa008b0081ebf");
        assert_eq!(r.ja4, "t13d0306h2_54093f43ad55_fb71836bce29");
        assert_eq!(r.ja4_r, "t13d0306h2_002f,1301,c02f_000a,000b,000d,002b_0403,0804");
        assert_eq!(r.handshake_length, 152);
        assert!(!fill_client_hello(&mut r, &mut work, 0x0301, &body[..30]));
    }

    #[test]
    fn server_hello_of_tcp() {
        let body = unhex(
            "0303222222222222222222222222222222222222222222222222222222222222222220000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fc02f000005ff01000100",
        );
        let mut r = netcap_records::TlsServerHello::default();
        let mut work = Work::default();
        assert!(fill_server_hello(&mut r, &mut work, 0x0303, &body));
        assert_eq!((r.record_version, r.version, r.cipher_suite), (0x0303, 0x0303, 0xc02f));
        assert_eq!(r.session_id, (0..32).collect::<Vec<u8>>());
        assert_eq!(r.extensions, [0xff01]);
        assert_eq!(r.selected_version, 0);
        assert_eq!(r.ja3s, "771,49199,65281");
        assert_eq!(r.ja3s_hash, "fbe78c619e7ea20046131294ad087f05");
        assert!(!fill_server_hello(&mut r, &mut work, 0x0303, &body[..40]));
        // A TLS 1.3 draft server (draft 14: 0x0304 in the version, no session
        // id, no compression): TLS_AES_128_GCM_SHA256, supported_versions.
        let draft = unhex("0304333333333333333333333333333333333333333333333333333333333333333313010006002b00020304");
        let sh = parse_server_hello(&draft).unwrap();
        assert_eq!((sh.session_id, sh.cipher.0, sh.ext.map(<[u8]>::len)), (None, 0x1301, Some(6)));
    }

    #[test]
    fn sslv2_hellos() {
        // The SSL 2.0 ClientHello of Zeek's ssl-v2.pcap frame 4, after the
        // 2-byte record header; tshark: version 0x0002, 7 cipher specs
        // 0x0700c0 ... 0x020080, no session id, 16-byte challenge.
        let m = unhex("0100020015000000100700c00500800300800100800600400400800200801c30e2b12f4c04525476f280c07abee5");
        let mut r = netcap_records::TlsClientHello { ja3: "stale".into(), ..Default::default() };
        assert!(fill_sslv2_client_hello(&mut r, &m));
        assert_eq!(r.version, 2);
        assert_eq!(r.cipher_suites, [0x0700c0, 0x050080, 0x030080, 0x010080, 0x060040, 0x040080, 0x020080]);
        assert!(r.session_id.is_empty());
        assert_eq!(r.random, unhex("1c30e2b12f4c04525476f280c07abee5"));
        assert_eq!(r.handshake_length, 46);
        assert!(r.ja3.is_empty());
        assert!(!fill_sslv2_client_hello(&mut r, &m[..20]));
        // A ServerHello: no session hit, X.509 certificate type, version 2,
        // a 3-byte certificate, two cipher specs, a 16-byte connection id.
        let sh = unhex("04000100020003000600103082070700c0010080000102030405060708090a0b0c0d0e0f");
        let h = parse_sslv2_server_hello(&sh).unwrap();
        assert_eq!((h.session_id_hit, h.version, h.certificate), (false, 2, &[0x30, 0x82, 0x07][..]));
        let mut r = netcap_records::TlsServerHello::default();
        assert!(fill_sslv2_server_hello(&mut r, &sh));
        assert_eq!((r.version, r.cipher_suite, r.random.len()), (2, 0x0700c0, 16));
        assert!(parse_sslv2_server_hello(&sh[..12]).is_none());
    }

    #[test]
    fn raw_serial_with_and_without_version() {
        // Certificate { TBSCertificate { [0] { INTEGER 2 }, INTEGER 0x1234abcd } }
        let v3 = [0x30, 0x0d, 0x30, 0x0b, 0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x04, 0x12, 0x34, 0xab, 0xcd];
        assert_eq!(raw_serial(&v3), Some(&[0x12, 0x34, 0xab, 0xcd][..]));
        let v1 = [0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x07];
        assert_eq!(raw_serial(&v1), Some(&[0x07][..]));
        assert_eq!(raw_serial(&v3[..8]), None);
        assert_eq!(raw_serial(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), None);
    }

    #[test]
    fn fingerprint_numbers_and_digest_cache() {
        let mut s = String::new();
        for v in [0, 7, 10, 771, 65535] {
            push_dec(&mut s, v);
            s.push(' ');
        }
        assert_eq!(s, "0 7 10 771 65535 ");
        s.clear();
        join_hex(&mut s, &[0x0a0a, 0x1301, 0x00ff]);
        assert_eq!(s, "0a0a,1301,00ff");
        let mut d = Digests::default();
        let (mut a, mut b) = (String::new(), String::new());
        d.push(&mut a, 0, "771,4865,0");
        d.push(&mut b, 0, "771,4865,0");
        assert_eq!(a, b);
        assert_eq!(a.len(), 32);
        b.clear();
        // Same text, other digest kind: not taken from the cache.
        d.push(&mut b, 1, "771,4865,0");
        assert_eq!(b.len(), 12);
        assert_ne!(a[..12], b);
    }
}
