//! TLS and DTLS handshakes: ClientHello and ServerHello with their JA3, JA3S
//! and JA4 fingerprints, and the certificates of a Certificate message that
//! is complete in the packet.
//!
//! Records and handshake messages are parsed with tls-parser (rusticata);
//! extensions are walked here, since fingerprints need every extension type
//! in wire order, GREASE and unknown ones included. JA4 is implemented from
//! FoxIO's specification text (technical_details/JA4.md, BSD-3 part of
//! JA4+); no FoxIO code is used. JA4S and the other JA4+ fingerprints are
//! under the FoxIO licence and left out.

use super::{AppRecord, Flow, emit, push_hex, set_lossy};
use crate::{Layer, PacketContext};
use md5::Md5;
use netcap_records::RecordType;
use sha1::Sha1;
use sha2::{Digest, Sha256};
use tls_parser::{
    DTLSMessage, DTLSMessageHandshakeBody, TlsMessage, TlsMessageHandshake, parse_dtls_plaintext_record,
    parse_tls_message_handshake, parse_tls_raw_record,
};

const HANDSHAKE: u8 = 22;
const CLIENT_HELLO: u8 = 1;
const SERVER_HELLO: u8 = 2;
const CERTIFICATE: u8 = 11;

const EXT_SNI: u16 = 0;
const EXT_GROUPS: u16 = 10;
const EXT_POINT_FORMATS: u16 = 11;
const EXT_SIG_ALGS: u16 = 13;
const EXT_ALPN: u16 = 16;
const EXT_VERSIONS: u16 = 43;

/// Cheap test run on every TCP payload: a handshake record of SSL 3.0 to
/// TLS 1.3 whose first message is a hello or a certificate.
pub(crate) fn looks_like_handshake(p: &[u8]) -> bool {
    p.len() >= 9
        && p[0] == HANDSHAKE
        && p[1] == 3
        && p[2] <= 4
        && matches!(p[5], CLIENT_HELLO | SERVER_HELLO | CERTIFICATE)
}

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
    // TLS 1.3 drafts before 22 have no session ID and no compression method.
    let draft = (0x7f00..0x7f16).contains(&version);
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

/// Decodes the TLS records at the start of a TCP segment.
pub(crate) fn decode_tcp(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    let mut rest = payload;
    while rest.len() >= 5 && (20..=23).contains(&rest[0]) {
        let record = match parse_tls_raw_record(rest) {
            Ok((tail, record)) => {
                rest = tail;
                record
            }
            // The record continues in the next segment: stream reassembly's job.
            Err(_) => return,
        };
        if record.hdr.record_type.0 != HANDSHAKE {
            continue;
        }
        handshake_messages(cx, flow, record.hdr.version.0, record.data);
    }
}

/// Decodes the complete handshake messages of one record's data.
fn handshake_messages(cx: &mut PacketContext<'_>, flow: Flow, record_version: u16, mut data: &[u8]) {
    while data.len() >= 4 {
        let len = u32::from_be_bytes([0, data[1], data[2], data[3]]) as usize;
        let Some(message) = data.get(..4 + len) else {
            // Fragmented across records, or an encrypted Finished: nothing for us.
            return;
        };
        let kind = data[0];
        data = &data[4 + len..];
        if !matches!(kind, CLIENT_HELLO | SERVER_HELLO | CERTIFICATE) {
            continue;
        }
        if kind == SERVER_HELLO {
            match parse_server_hello(&message[4..]) {
                Some(sh) if cx.wants(RecordType::Tlsserverhello) => {
                    let (stamp, app, out) = super::stamp_and_records!(cx, flow);
                    let r = &mut app.server_hello;
                    r.set_flow(&stamp);
                    fill_server_hello!(&mut *r, &mut app.tls_work, record_version, sh);
                    out.push(RecordType::Tlsserverhello, &app.server_hello);
                }
                Some(_) => {}
                None => super::parse_error(cx, Layer::Tls, flow, "truncated ServerHello"),
            }
            continue;
        }
        match parse_tls_message_handshake(message) {
            Ok((_, TlsMessage::Handshake(h))) => handshake(cx, flow, record_version, len as u32, &h),
            Ok(_) => {}
            Err(e) => super::parse_error(cx, Layer::Tls, flow, format_args!("handshake type {kind}: {e}")),
        }
    }
}

/// Emits the record of one parsed handshake message.
fn handshake(cx: &mut PacketContext<'_>, flow: Flow, record_version: u16, len: u32, h: &TlsMessageHandshake<'_>) {
    match h {
        TlsMessageHandshake::ClientHello(ch) if cx.wants(RecordType::Tlsclienthello) => {
            let (stamp, app, out) = super::stamp_and_records!(cx, flow);
            let r = &mut app.client_hello;
            r.set_flow(&stamp);
            fill_client_hello!(&mut *r, &mut app.tls_work, Ja4Transport::Tcp, record_version, ch);
            r.handshake_length = len;
            out.push(RecordType::Tlsclienthello, &app.client_hello);
        }
        TlsMessageHandshake::Certificate(c) if cx.wants(RecordType::Tlscertificate) => {
            for (index, raw) in c.cert_chain.iter().enumerate() {
                certificate(cx, flow, index, raw.data);
            }
        }
        _ => {}
    }
}

/// Parts of an X.509 certificate the record holds.
#[derive(Debug, Default)]
pub struct CertificateInfo {
    pub version: u32,
    pub subject: String,
    pub issuer: String,
    pub serial: String,
    pub not_before: i64,
    pub not_after: i64,
    pub san_dns: Vec<String>,
    pub signature_algorithm: String,
    pub public_key_algorithm: String,
}

/// Parses a DER certificate with x509-parser.
pub fn parse_certificate(der: &[u8]) -> Result<CertificateInfo, x509_parser::nom::Err<x509_parser::error::X509Error>> {
    use x509_parser::extensions::GeneralName;
    let (_, cert) = x509_parser::parse_x509_certificate(der)?;
    let mut info = CertificateInfo {
        version: cert.version().0 + 1,
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        not_before: cert.validity().not_before.timestamp(),
        not_after: cert.validity().not_after.timestamp(),
        signature_algorithm: cert.signature_algorithm.algorithm.to_id_string(),
        public_key_algorithm: cert.public_key().algorithm.algorithm.to_id_string(),
        ..CertificateInfo::default()
    };
    push_hex(&mut info.serial, cert.raw_serial());
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let GeneralName::DNSName(dns) = name {
                info.san_dns.push((*dns).to_string());
            }
        }
    }
    Ok(info)
}

/// The serial number's content bytes, read with a minimal DER walk
/// (Certificate and TBSCertificate sequences, optional [0] version, then the
/// INTEGER): for certificates x509-parser rejects, such as dates out of
/// range, which Wireshark still shows.
pub fn raw_serial(der: &[u8]) -> Option<&[u8]> {
    /// Tag, then the content of one TLV at the start of `b` and what follows it.
    fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
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
        let content = b.get(at..at.checked_add(len)?)?;
        Some((tag, content, &b[at + len..]))
    }
    let (0x30, cert, _) = tlv(der)? else { return None };
    let (0x30, tbs, _) = tlv(cert)? else { return None };
    let (tag, content, rest) = tlv(tbs)?;
    let (tag, content) = if tag == 0xa0 { tlv(rest).map(|(t, c, _)| (t, c))? } else { (tag, content) };
    (tag == 0x02).then_some(content)
}

fn certificate(cx: &mut PacketContext<'_>, flow: Flow, index: usize, der: &[u8]) {
    let info = match parse_certificate(der) {
        Ok(info) => info,
        Err(e) => {
            super::parse_error(cx, Layer::Tls, flow, format_args!("certificate {index}: {e}"));
            // Keep what identifies the certificate: serial, thumbprint, length.
            let Some(serial) = raw_serial(der) else { return };
            let mut info = CertificateInfo::default();
            push_hex(&mut info.serial, serial);
            info
        }
    };
    emit!(cx, flow, RecordType::Tlscertificate, certificate, |r: &mut netcap_records::TlsCertificate| {
        r.index = index as u32;
        r.version = info.version;
        r.subject = info.subject;
        r.issuer = info.issuer;
        r.serial = info.serial;
        r.not_before = info.not_before;
        r.not_after = info.not_after;
        r.san_dns = info.san_dns;
        r.signature_algorithm = info.signature_algorithm;
        r.public_key_algorithm = info.public_key_algorithm;
        r.sha1.clear();
        push_hex(&mut r.sha1, Sha1::digest(der).as_slice());
        r.length = der.len() as u32;
    });
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
                    for (index, raw) in c.cert_chain.iter().enumerate() {
                        certificate(cx, flow, index, raw.data);
                    }
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
