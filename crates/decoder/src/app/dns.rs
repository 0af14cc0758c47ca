//! DNS (RFC 1035, EDNS RFC 6891) over UDP and TCP, and the protocols that
//! share its message format: mDNS (RFC 6762), LLMNR (RFC 4795) and the
//! NetBIOS name service (RFC 1002).
//!
//! The parser is written here rather than taken from a crate: simple-dns
//! (the zero-copy candidate) rejects a whole message over one odd record,
//! drops the EDNS DNSSEC-OK bit and the raw RDATA, and allocates per name;
//! hickory-proto allocates owned names for everything. A passive decoder
//! needs the opposite: tolerate what it can, keep the bytes, allocate
//! nothing. [`Message`] is a validated view over the bytes; names and
//! RDATA are rendered straight into the caller's strings.

use super::{AppRecord, Flow, be16, be32, push_hex};
use crate::{Layer, PacketContext};
use netcap_records::{DnsQuestion, DnsResourceRecord, RecordType};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Which protocol a DNS-format message belongs to (chosen by port).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Variant {
    Dns,
    Mdns,
    Llmnr,
    Nbns,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DnsError {
    #[error("DNS message shorter than its 12-byte header ({0} bytes)")]
    ShortHeader(usize),
    #[error("truncated {0} at offset {1}")]
    Truncated(&'static str, usize),
    #[error("name at offset {0}: compression loop or name longer than 255 bytes")]
    BadName(usize),
    #[error("name at offset {0}: label type 0x{1:02x} is not supported")]
    LabelType(usize, u8),
}

/// The fixed header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
    pub questions: u16,
    pub answers: u16,
    pub authorities: u16,
    pub additionals: u16,
}

/// Which section an entry comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Question,
    Answer,
    Authority,
    Additional,
}

/// A question or resource record; names are offsets into the message.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub section: Section,
    pub name_at: usize,
    pub rtype: u16,
    pub class: u16,
    /// 0 for questions.
    pub ttl: u32,
    /// RDATA (empty for questions).
    pub rdata: &'a [u8],
    /// Offset of the RDATA in the message (names inside it may point back).
    pub rdata_at: usize,
}

/// A DNS message: its header and the bytes, validated lazily by [`Message::entries`].
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub header: Header,
    pub bytes: &'a [u8],
}

/// Parses a message's header; the sections are read by [`Message::entries`].
pub fn parse(bytes: &[u8]) -> Result<Message<'_>, DnsError> {
    if bytes.len() < 12 {
        return Err(DnsError::ShortHeader(bytes.len()));
    }
    let h = |i| be16(bytes, i).unwrap_or(0);
    let header =
        Header { id: h(0), flags: h(2), questions: h(4), answers: h(6), authorities: h(8), additionals: h(10) };
    Ok(Message { header, bytes })
}

/// The message inside a DNS-over-TCP segment: `Ok(None)` if the 2-byte
/// length prefix says the message continues in later segments.
pub fn parse_tcp(segment: &[u8]) -> Result<Option<Message<'_>>, DnsError> {
    let Some(len) = be16(segment, 0) else {
        return Ok(None);
    };
    match segment.get(2..2 + usize::from(len)) {
        Some(msg) => parse(msg).map(Some),
        None => Ok(None),
    }
}

impl<'a> Message<'a> {
    /// Every question and record in order; an error ends the walk.
    pub fn entries(&self) -> impl Iterator<Item = Result<Entry<'a>, DnsError>> + 'a {
        let bytes = self.bytes;
        let h = self.header;
        let sections = [
            (Section::Question, h.questions),
            (Section::Answer, h.answers),
            (Section::Authority, h.authorities),
            (Section::Additional, h.additionals),
        ];
        let mut pos = 12;
        let mut section = 0;
        let mut left = sections[0].1;
        let mut failed = false;
        std::iter::from_fn(move || {
            if failed {
                return None;
            }
            while left == 0 {
                section += 1;
                left = sections.get(section)?.1;
            }
            left -= 1;
            let kind = sections[section].0;
            let result = read_entry(bytes, pos, kind);
            match result {
                Ok((entry, next)) => {
                    pos = next;
                    Some(Ok(entry))
                }
                Err(e) => {
                    failed = true;
                    Some(Err(e))
                }
            }
        })
    }
}

fn read_entry(bytes: &[u8], pos: usize, section: Section) -> Result<(Entry<'_>, usize), DnsError> {
    let name_at = pos;
    let pos = skip_name(bytes, pos)?;
    let rtype = be16(bytes, pos).ok_or(DnsError::Truncated("record type", pos))?;
    let class = be16(bytes, pos + 2).ok_or(DnsError::Truncated("record class", pos))?;
    if section == Section::Question {
        let entry = Entry { section, name_at, rtype, class, ttl: 0, rdata: &[], rdata_at: pos + 4 };
        return Ok((entry, pos + 4));
    }
    let ttl = be32(bytes, pos + 4).ok_or(DnsError::Truncated("record TTL", pos))?;
    let len = be16(bytes, pos + 8).ok_or(DnsError::Truncated("RDATA length", pos))?;
    let rdata_at = pos + 10;
    let rdata = bytes.get(rdata_at..rdata_at + usize::from(len)).ok_or(DnsError::Truncated("RDATA", rdata_at))?;
    Ok((Entry { section, name_at, rtype, class, ttl, rdata, rdata_at }, rdata_at + usize::from(len)))
}

/// Offset after the (possibly compressed) name at `pos`.
fn skip_name(bytes: &[u8], mut pos: usize) -> Result<usize, DnsError> {
    loop {
        let len = *bytes.get(pos).ok_or(DnsError::Truncated("name", pos))?;
        match len >> 6 {
            0 if len == 0 => return Ok(pos + 1),
            0 => pos += 1 + usize::from(len),
            3 => {
                bytes.get(pos + 1).ok_or(DnsError::Truncated("name pointer", pos))?;
                return Ok(pos + 2);
            }
            _ => return Err(DnsError::LabelType(pos, len)),
        }
    }
}

/// Appends the name at `pos` in dotted form (no trailing dot; "<Root>" for
/// the root, as Wireshark shows it). Non-printable bytes are written as
/// `\DDD` (RFC 1035 presentation format).
pub fn write_name(dst: &mut String, bytes: &[u8], mut pos: usize) -> Result<(), DnsError> {
    let start_len = dst.len();
    let start = pos;
    let mut jumps = 0;
    let mut total = 0usize;
    loop {
        let len = *bytes.get(pos).ok_or(DnsError::Truncated("name", pos))?;
        match len >> 6 {
            0 if len == 0 => break,
            0 => {
                let label = bytes.get(pos + 1..pos + 1 + usize::from(len)).ok_or(DnsError::Truncated("label", pos))?;
                total += label.len() + 1;
                if total > 255 {
                    return Err(DnsError::BadName(start));
                }
                if dst.len() > start_len {
                    dst.push('.');
                }
                match std::str::from_utf8(label) {
                    // Internationalised names sent as UTF-8 (mDNS, LLMNR) stay readable.
                    Ok(text) if !text.chars().any(char::is_control) && !label.is_ascii() => dst.push_str(text),
                    _ => {
                        for &c in label {
                            if c.is_ascii_graphic() || c == b' ' {
                                dst.push(c as char);
                            } else {
                                let _ = write!(dst, "\\{c:03}");
                            }
                        }
                    }
                }
                pos += 1 + usize::from(len);
            }
            3 => {
                let low = *bytes.get(pos + 1).ok_or(DnsError::Truncated("name pointer", pos))?;
                jumps += 1;
                // A name has at most 127 labels; more jumps is a loop.
                if jumps > 127 {
                    return Err(DnsError::BadName(start));
                }
                pos = usize::from(u16::from_be_bytes([len & 0x3f, low]));
            }
            _ => return Err(DnsError::LabelType(pos, len)),
        }
    }
    if dst.len() == start_len {
        dst.push_str("<Root>");
    }
    Ok(())
}

/// Appends the RDATA of a record as text (see proto/application.proto).
pub fn write_rdata(dst: &mut String, bytes: &[u8], e: &Entry<'_>) -> Result<(), DnsError> {
    let r = e.rdata;
    match (e.rtype, r.len()) {
        (1, 4) => {
            let _ = write!(dst, "{}", Ipv4Addr::new(r[0], r[1], r[2], r[3]));
        }
        (28, 16) => {
            let mut a = [0u8; 16];
            a.copy_from_slice(r);
            let _ = write!(dst, "{}", Ipv6Addr::from(a));
        }
        // NS, CNAME, PTR, DNAME
        (2 | 5 | 12 | 39, _) if !r.is_empty() => write_name(dst, bytes, e.rdata_at)?,
        (15, n) if n >= 3 => {
            let _ = write!(dst, "{} ", u16::from_be_bytes([r[0], r[1]]));
            write_name(dst, bytes, e.rdata_at + 2)?;
        }
        (33, n) if n >= 7 => {
            let _ = write!(
                dst,
                "{} {} {} ",
                u16::from_be_bytes([r[0], r[1]]),
                u16::from_be_bytes([r[2], r[3]]),
                u16::from_be_bytes([r[4], r[5]])
            );
            write_name(dst, bytes, e.rdata_at + 6)?;
        }
        (6, _) if !r.is_empty() => {
            write_name(dst, bytes, e.rdata_at)?;
            dst.push(' ');
            let rname = skip_name(bytes, e.rdata_at)?;
            write_name(dst, bytes, rname)?;
            let numbers = skip_name(bytes, rname)?;
            for i in 0..5 {
                let v = be32(bytes, numbers + 4 * i).ok_or(DnsError::Truncated("SOA", numbers))?;
                let _ = write!(dst, " {v}");
            }
        }
        // TXT and HINFO: character strings.
        (16 | 13, _) => {
            let mut rest = r;
            while let Some((&len, tail)) = rest.split_first() {
                let s = tail.get(..usize::from(len)).ok_or(DnsError::Truncated("character string", e.rdata_at))?;
                if !dst.is_empty() && !dst.ends_with(' ') {
                    dst.push(' ');
                }
                dst.push('"');
                dst.push_str(&String::from_utf8_lossy(s));
                dst.push('"');
                rest = &tail[usize::from(len)..];
            }
        }
        _ => push_hex(dst, r),
    }
    Ok(())
}

/// Decodes the NetBIOS first-level encoding of a name ("FHEPFCELEHFCEPFFFACACACACACACAAA"
/// is "WORKGROUP<00>") as Wireshark shows it; any other label is copied.
pub fn write_netbios_name(dst: &mut String, bytes: &[u8], pos: usize) -> Result<(), DnsError> {
    let first = bytes.get(pos).copied().unwrap_or(0);
    let label = bytes.get(pos + 1..pos + 33).filter(|_| first == 32);
    let Some(label) = label.filter(|l| l.iter().all(|c| (b'A'..=b'P').contains(c))) else {
        return write_name(dst, bytes, pos);
    };
    let mut name = [0u8; 16];
    for (i, pair) in label.chunks_exact(2).enumerate() {
        name[i] = ((pair[0] - b'A') << 4) | (pair[1] - b'A');
    }
    let text = &name[..15];
    let end = text.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    for &c in &text[..end] {
        if c.is_ascii_graphic() || c == b' ' {
            dst.push(c as char);
        } else {
            dst.push('.');
        }
    }
    let _ = write!(dst, "<{:02x}>", name[15]);
    // A scope ID follows as ordinary labels.
    if bytes.get(pos + 33).is_some_and(|&l| l != 0) {
        dst.push('.');
        write_name(dst, bytes, pos + 33)?;
    }
    Ok(())
}

/// Entries the record lists gave back, lent out again when a later message
/// has more: a response's answers and the next query's none would otherwise
/// drop and re-allocate their strings on every packet.
#[derive(Default)]
pub(crate) struct Spares {
    questions: Vec<DnsQuestion>,
    records: Vec<DnsResourceRecord>,
}

/// Most entries kept spare per kind.
const MAX_SPARES: usize = 64;

/// Entry `i` of `v`, taken from `spare` if the list has to grow.
fn slot_from<'a, T: Default>(v: &'a mut Vec<T>, i: usize, spare: &mut Vec<T>) -> &'a mut T {
    if i == v.len() {
        v.push(spare.pop().unwrap_or_default());
    }
    &mut v[i]
}

/// Shortens `v` to `n` entries, keeping the rest spare.
fn shorten<T>(v: &mut Vec<T>, n: usize, spare: &mut Vec<T>) {
    if v.len() > n {
        let room = MAX_SPARES.saturating_sub(spare.len());
        let end = v.len().min(n + room);
        spare.extend(v.drain(n..end));
        v.truncate(n);
    }
}

const TYPE_OPT: u16 = 41;

/// The fields all DNS-format records share; a macro fills each record type.
macro_rules! fill_dns {
    ($r:expr, $msg:expr, $tcp:expr, $netbios:expr, $spares:expr) => {{
        let r = $r;
        let msg: &Message<'_> = $msg;
        let h = msg.header;
        r.transport.clear();
        r.transport.push_str(if $tcp { "tcp" } else { "udp" });
        r.id = u32::from(h.id);
        r.flags = u32::from(h.flags);
        r.response = h.flags & 0x8000 != 0;
        r.opcode = u32::from((h.flags >> 11) & 0xf);
        r.authoritative = h.flags & 0x0400 != 0;
        r.truncated = h.flags & 0x0200 != 0;
        r.recursion_desired = h.flags & 0x0100 != 0;
        r.recursion_available = h.flags & 0x0080 != 0;
        r.authenticated_data = h.flags & 0x0020 != 0;
        r.checking_disabled = h.flags & 0x0010 != 0;
        r.rcode = u32::from(h.flags & 0xf);
        r.question_count = u32::from(h.questions);
        r.answer_count = u32::from(h.answers);
        r.authority_count = u32::from(h.authorities);
        r.additional_count = u32::from(h.additionals);
        let sections = fill_sections(
            msg,
            $netbios,
            &mut r.questions,
            [&mut r.answers, &mut r.authorities, &mut r.additionals],
            &mut r.edns_option_codes,
            $spares,
        );
        let edns = sections.as_ref().ok().copied().flatten();
        r.edns = edns.is_some();
        let e = edns.unwrap_or_default();
        r.edns_udp_size = e.udp_size;
        r.edns_extended_rcode = e.extended_rcode;
        r.edns_version = e.version;
        r.edns_dnssec_ok = e.dnssec_ok;
        sections.map(|_| ())
    }};
}

#[derive(Default, Clone, Copy)]
struct Edns {
    udp_size: u32,
    extended_rcode: u32,
    version: u32,
    dnssec_ok: bool,
}

/// Fills the question and record lists; returns the EDNS OPT values if an
/// OPT record was present. On a parse error the lists hold what came before.
fn fill_sections(
    msg: &Message<'_>,
    netbios: bool,
    questions: &mut Vec<DnsQuestion>,
    records: [&mut Vec<DnsResourceRecord>; 3],
    edns_codes: &mut Vec<u32>,
    spares: &mut Spares,
) -> Result<Option<Edns>, DnsError> {
    let [answers, authorities, additionals] = records;
    let mut counts = [0usize; 4];
    let mut edns = None;
    edns_codes.clear();
    let write_owner = |dst: &mut String, at: usize| {
        dst.clear();
        if netbios { write_netbios_name(dst, msg.bytes, at) } else { write_name(dst, msg.bytes, at) }
    };
    let mut result = Ok(());
    for entry in msg.entries() {
        let e = match entry {
            Ok(e) => e,
            Err(err) => {
                result = Err(err);
                break;
            }
        };
        // mDNS uses the top bit of the class (unicast response / cache flush).
        let (class, top_bit) = (u32::from(e.class & 0x7fff), e.class & 0x8000 != 0);
        let list = match e.section {
            Section::Question => {
                let q = slot_from(questions, counts[0], &mut spares.questions);
                counts[0] += 1;
                q.r#type = u32::from(e.rtype);
                q.class = class;
                q.unicast_response = top_bit;
                if let Err(err) = write_owner(&mut q.name, e.name_at) {
                    result = Err(err);
                    break;
                }
                continue;
            }
            Section::Additional if e.rtype == TYPE_OPT => {
                edns = Some(Edns {
                    udp_size: u32::from(e.class),
                    extended_rcode: e.ttl >> 24,
                    version: (e.ttl >> 16) & 0xff,
                    dnssec_ok: e.ttl & 0x8000 != 0,
                });
                let mut opts = e.rdata;
                while let (Some(code), Some(len)) = (be16(opts, 0), be16(opts, 2)) {
                    edns_codes.push(u32::from(code));
                    opts = opts.get(4 + usize::from(len)..).unwrap_or_default();
                }
                continue;
            }
            Section::Answer => (answers as &mut Vec<_>, 1),
            Section::Authority => (authorities as &mut Vec<_>, 2),
            Section::Additional => (additionals as &mut Vec<_>, 3),
        };
        let (list, n): (&mut Vec<DnsResourceRecord>, usize) = list;
        let rr = slot_from(list, counts[n], &mut spares.records);
        counts[n] += 1;
        rr.r#type = u32::from(e.rtype);
        rr.class = class;
        rr.cache_flush = top_bit;
        rr.ttl = e.ttl;
        rr.data_length = e.rdata.len() as u32;
        rr.data.clear();
        rr.ip.clear();
        let written = write_owner(&mut rr.name, e.name_at).and_then(|_| {
            if netbios {
                write_netbios_rdata(&mut rr.data, &e);
                Ok(())
            } else if matches!((e.rtype, e.rdata.len()), (1, 4) | (28, 16)) {
                // A and AAAA: the address as bytes, like every address.
                rr.ip.extend_from_slice(e.rdata);
                Ok(())
            } else {
                write_rdata(&mut rr.data, msg.bytes, &e)
            }
        });
        if let Err(err) = written {
            result = Err(err);
            break;
        }
    }
    shorten(questions, counts[0], &mut spares.questions);
    shorten(answers, counts[1], &mut spares.records);
    shorten(authorities, counts[2], &mut spares.records);
    shorten(additionals, counts[3], &mut spares.records);
    result.map(|_| edns)
}

/// NB records (type 32) hold (flags, IPv4) pairs: the addresses,
/// comma-separated; other NetBIOS RDATA as hex.
fn write_netbios_rdata(dst: &mut String, e: &Entry<'_>) {
    if e.rtype == 32 && e.rdata.len().is_multiple_of(6) && !e.rdata.is_empty() {
        for (i, nb) in e.rdata.chunks_exact(6).enumerate() {
            if i > 0 {
                dst.push(',');
            }
            let _ = write!(dst, "{}", Ipv4Addr::new(nb[2], nb[3], nb[4], nb[5]));
        }
    } else {
        push_hex(dst, e.rdata);
    }
}

/// Fills and writes the record in `$field` of the app scratch, lending it
/// the scratch's spare list entries.
macro_rules! dns_record {
    ($cx:expr, $flow:expr, $record_type:expr, $field:ident, $status:ident, $msg:expr, $tcp:expr, $netbios:expr) => {{
        let (stamp, app, out) = super::stamp_and_records!($cx, $flow);
        let r = &mut app.$field;
        r.set_flow(&stamp);
        $status = fill_dns!(r, &$msg, $tcp, $netbios, &mut app.dns_spares);
        out.push($record_type, &app.$field);
    }};
}

/// Decodes one DNS-format payload into the record of `variant`.
pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8], variant: Variant, tcp: bool) {
    let (record_type, layer) = match variant {
        Variant::Dns => (RecordType::Dns, Layer::Dns),
        Variant::Mdns => (RecordType::Mdns, Layer::Mdns),
        Variant::Llmnr => (RecordType::Llmnr, Layer::Llmnr),
        Variant::Nbns => (RecordType::Netbiosnameservice, Layer::Nbns),
    };
    if !cx.wants(record_type) {
        return;
    }
    let parsed = if tcp { parse_tcp(payload) } else { parse(payload).map(Some) };
    let msg = match parsed {
        Ok(Some(m)) => m,
        Ok(None) => return,
        Err(e) => return super::parse_error(cx, layer, flow, e),
    };
    let status;
    match variant {
        Variant::Dns => dns_record!(cx, flow, record_type, dns, status, msg, tcp, false),
        Variant::Mdns => dns_record!(cx, flow, record_type, mdns, status, msg, tcp, false),
        Variant::Llmnr => dns_record!(cx, flow, record_type, llmnr, status, msg, tcp, false),
        Variant::Nbns => dns_record!(cx, flow, record_type, nbns, status, msg, tcp, true),
    }
    // A damaged body still gives a record with what came before the damage.
    if let Err(e) = status {
        super::parse_error(cx, layer, flow, e);
    }
}

/// Walks a whole message, rendering everything (the fuzz entry point).
pub fn parse_all(bytes: &[u8]) -> Result<usize, DnsError> {
    let msg = parse(bytes)?;
    let mut s = String::new();
    let mut n = 0;
    for e in msg.entries() {
        let e = e?;
        s.clear();
        write_name(&mut s, bytes, e.name_at)?;
        write_netbios_name(&mut s, bytes, e.name_at)?;
        write_rdata(&mut s, bytes, &e)?;
        n += 1;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compressed_names_and_loops() {
        // Header, then "a.b" at 12, then a pointer to 12, then a self-loop at 19.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(b"\x01a\x01b\x00\xc0\x0c\xc0\x13");
        let mut s = String::new();
        write_name(&mut s, &m, 17).unwrap();
        assert_eq!(s, "a.b");
        s.clear();
        assert_eq!(write_name(&mut s, &m, 19), Err(DnsError::BadName(19)));
    }

    #[test]
    fn netbios_name() {
        let mut m = vec![0u8; 12];
        m.push(32);
        m.extend_from_slice(b"FHEPFCELEHFCEPFFFACACACACACACABN");
        m.push(0);
        let mut s = String::new();
        write_netbios_name(&mut s, &m, 12).unwrap();
        assert_eq!(s, "WORKGROUP<1d>");
    }

    #[test]
    fn tcp_length_prefix() {
        assert!(parse_tcp(&[0, 40, 1, 2]).unwrap().is_none());
        assert!(matches!(parse_tcp(&[0, 3, 1, 2, 3]), Err(DnsError::ShortHeader(3))));
    }
}
