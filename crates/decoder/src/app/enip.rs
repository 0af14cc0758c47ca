//! EtherNet/IP encapsulation (TCP and UDP port 44818) and the CIP messages
//! it carries (ODVA, The CIP Networks Library Vol. 1 chapter 2 and Vol. 2
//! chapter 2). Written here: no maintained crate parses them passively.
//! Encapsulation fields are little-endian; the socket address in identity
//! items is in network order.

use super::{AppRecord, Flow, emit};
use crate::wire::{Malformed, Result, bytes, u8_at};
use crate::{Layer, PacketContext};
use netcap_records::{Cip, Enip, EnipIdentity, RecordType};

pub const PORT: u16 = 44818;

const HEADER_LEN: usize = 24;

fn le16(b: &[u8], at: usize, what: &'static str) -> Result<u16> {
    crate::wire::array::<2>(b, at, what).map(u16::from_le_bytes)
}

fn le32(b: &[u8], at: usize, what: &'static str) -> Result<u32> {
    crate::wire::array::<4>(b, at, what).map(u32::from_le_bytes)
}

/// One encapsulation message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub command: u16,
    pub length: u16,
    pub session: u32,
    pub status: u32,
    pub context: &'a [u8],
    pub options: u32,
    /// The command-specific data (`length` bytes, or what the packet holds).
    pub data: &'a [u8],
}

/// Parses the message at the front of `p`; returns it and what follows it.
/// A message cut short by the segment's end keeps the bytes it has.
pub fn parse(p: &[u8]) -> Result<(Message<'_>, &[u8])> {
    const SHORT: &str = "EtherNet/IP header truncated";
    let length = le16(p, 2, SHORT)?;
    let end = (HEADER_LEN + usize::from(length)).min(p.len());
    let m = Message {
        command: le16(p, 0, SHORT)?,
        length,
        session: le32(p, 4, SHORT)?,
        status: le32(p, 8, SHORT)?,
        context: bytes(p, 12, 8, SHORT)?,
        options: le32(p, 20, SHORT)?,
        data: &p[HEADER_LEN..end],
    };
    Ok((m, &p[end..]))
}

pub const LIST_SERVICES: u16 = 0x0004;
pub const LIST_IDENTITY: u16 = 0x0063;
pub const REGISTER_SESSION: u16 = 0x0065;
pub const SEND_RR_DATA: u16 = 0x006f;
pub const SEND_UNIT_DATA: u16 = 0x0070;

const ITEM_IDENTITY: u16 = 0x000c;
const ITEM_CONNECTED_DATA: u16 = 0x00b1;
const ITEM_UNCONNECTED_DATA: u16 = 0x00b2;
const ITEM_SERVICES: u16 = 0x0100;

/// Common packet format items as (type ID, data).
pub fn items(cpf: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8])>> + '_ {
    const SHORT: &str = "EtherNet/IP item truncated";
    let count = le16(cpf, 0, SHORT);
    let mut rest = cpf.get(2..).unwrap_or_default();
    let mut left = count.as_ref().map_or(0, |c| *c);
    let mut failed = count.is_err();
    std::iter::from_fn(move || {
        if failed {
            failed = false;
            left = 0;
            return Some(Err(Malformed(SHORT)));
        }
        if left == 0 {
            return None;
        }
        left -= 1;
        let item = (|| {
            let kind = le16(rest, 0, SHORT)?;
            let len = usize::from(le16(rest, 2, SHORT)?);
            let data = bytes(rest, 4, len, SHORT)?;
            rest = &rest[4 + len..];
            Ok((kind, data))
        })();
        if item.is_err() {
            left = 0;
        }
        Some(item)
    })
}

/// Where a command's CPF items start in its data.
fn cpf_offset(command: u16) -> Option<usize> {
    match command {
        // Interface handle (4) and timeout (2).
        SEND_RR_DATA | SEND_UNIT_DATA => Some(6),
        LIST_SERVICES | LIST_IDENTITY | 0x0064 => Some(0),
        _ => None,
    }
}

/// The identity object of a ListIdentity reply item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Identity<'a> {
    pub address: &'a [u8],
    pub port: u16,
    pub vendor: u16,
    pub device_type: u16,
    pub product_code: u16,
    pub revision: (u8, u8),
    pub status: u16,
    pub serial: u32,
    pub name: &'a [u8],
    pub state: u8,
}

pub fn identity(item: &[u8]) -> Result<Identity<'_>> {
    const SHORT: &str = "EtherNet/IP identity truncated";
    // Encapsulation version (2), then a sockaddr_in in network order:
    // family (2), port (2), address (4), zero (8).
    let port = crate::wire::be16(item, 4, SHORT)?;
    let address = bytes(item, 6, 4, SHORT)?;
    let name_len = usize::from(u8_at(item, 32, SHORT)?);
    Ok(Identity {
        address,
        port,
        vendor: le16(item, 18, SHORT)?,
        device_type: le16(item, 20, SHORT)?,
        product_code: le16(item, 22, SHORT)?,
        revision: (u8_at(item, 24, SHORT)?, u8_at(item, 25, SHORT)?),
        status: le16(item, 26, SHORT)?,
        serial: le32(item, 28, SHORT)?,
        name: bytes(item, 33, name_len, SHORT)?,
        state: item.get(33 + name_len).copied().unwrap_or(0),
    })
}

/// A CIP message's header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CipMessage<'a> {
    pub response: bool,
    pub service: u8,
    pub class: Option<u32>,
    pub instance: Option<u32>,
    pub attribute: Option<u32>,
    pub member: Option<u32>,
    /// ANSI extended symbol segments.
    pub symbols: Vec<&'a [u8]>,
    pub general_status: u8,
    pub additional_status: Vec<u16>,
    pub data: &'a [u8],
}

/// Parses a CIP request or reply.
pub fn cip(m: &[u8]) -> Result<CipMessage<'_>> {
    const SHORT: &str = "CIP message truncated";
    let sc = u8_at(m, 0, SHORT)?;
    let mut msg = CipMessage { response: sc & 0x80 != 0, service: sc & 0x7f, ..CipMessage::default() };
    if msg.response {
        msg.general_status = u8_at(m, 2, SHORT)?;
        let words = usize::from(u8_at(m, 3, SHORT)?);
        let status = bytes(m, 4, words * 2, SHORT)?;
        msg.additional_status = status.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        msg.data = &m[4 + words * 2..];
    } else {
        let words = usize::from(u8_at(m, 1, SHORT)?);
        let path = bytes(m, 2, words * 2, SHORT)?;
        request_path(path, &mut msg)?;
        msg.data = &m[2 + words * 2..];
    }
    Ok(msg)
}

/// The logical and symbolic segments of a request path (EPATH, padded).
fn request_path<'a>(mut path: &'a [u8], msg: &mut CipMessage<'a>) -> Result<()> {
    const SHORT: &str = "CIP path segment truncated";
    while let Some(&seg) = path.first() {
        let (value, len) = match seg {
            // Logical segments: 8-bit value, 16-bit (pad byte first), 32-bit.
            0x20..=0x3f => match seg & 3 {
                0 => (u32::from(u8_at(path, 1, SHORT)?), 2),
                1 => (u32::from(le16(path, 2, SHORT)?), 4),
                2 => (le32(path, 2, SHORT)?, 6),
                _ => return Err(Malformed("CIP logical segment of a reserved format")),
            },
            // ANSI extended symbol: length, name, pad to even.
            0x91 => {
                let n = usize::from(u8_at(path, 1, SHORT)?);
                msg.symbols.push(bytes(path, 2, n, SHORT)?);
                (0, 2 + n + n % 2)
            }
            // Port segment: port (0x0f: a 16-bit port follows), link address
            // (one byte, or a size and that many bytes), padded to even.
            0x00..=0x1f => {
                let (mut at, link) = if seg & 0x10 != 0 { (2, usize::from(u8_at(path, 1, SHORT)?)) } else { (1, 1) };
                if seg & 0x0f == 0x0f {
                    at += 2;
                }
                let n = at + link;
                bytes(path, 0, n, SHORT)?;
                (0, n + n % 2)
            }
            // Anything else (network, data segments): the rest is not followed.
            _ => return Ok(()),
        };
        match seg & 0xfc {
            0x20 => msg.class = Some(value),
            0x24 => msg.instance = Some(value),
            0x28 => msg.member = Some(value),
            0x30 => msg.attribute = Some(value),
            _ => {}
        }
        path = path.get(len..).unwrap_or_default();
    }
    Ok(())
}

fn fill_enip(r: &mut Enip, m: &Message<'_>, tcp: bool, response: bool) -> Option<Malformed> {
    super::set_str(&mut r.transport, if tcp { "tcp" } else { "udp" });
    r.response = response;
    r.command = u32::from(m.command);
    r.length = u32::from(m.length);
    r.session_handle = m.session;
    r.status = m.status;
    crate::set_bytes(&mut r.sender_context, m.context);
    r.options = m.options;
    r.item_types.clear();
    r.protocol_version = None;
    r.interface_handle = None;
    r.timeout = None;
    r.identity = None;
    r.services.clear();
    match m.command {
        REGISTER_SESSION => r.protocol_version = le16(m.data, 0, "").ok().map(u32::from),
        SEND_RR_DATA | SEND_UNIT_DATA => {
            r.interface_handle = le32(m.data, 0, "").ok();
            r.timeout = le16(m.data, 4, "").ok().map(u32::from);
        }
        _ => {}
    }
    let cpf = cpf_offset(m.command).filter(|_| !m.data.is_empty())?;
    for item in items(m.data.get(cpf..).unwrap_or_default()) {
        let (kind, data) = match item {
            Ok(i) => i,
            Err(e) => return Some(e),
        };
        r.item_types.push(u32::from(kind));
        match kind {
            ITEM_IDENTITY => match identity(data) {
                Ok(id) => {
                    r.identity = Some(EnipIdentity {
                        vendor_id: u32::from(id.vendor),
                        device_type: u32::from(id.device_type),
                        product_code: u32::from(id.product_code),
                        revision_major: u32::from(id.revision.0),
                        revision_minor: u32::from(id.revision.1),
                        status: u32::from(id.status),
                        serial_number: id.serial,
                        product_name: String::from_utf8_lossy(id.name).into_owned(),
                        state: u32::from(id.state),
                        ip: id.address.to_vec(),
                        port: u32::from(id.port),
                    });
                }
                Err(e) => return Some(e),
            },
            // Version (2), flags (2), 16-byte NUL-padded name.
            ITEM_SERVICES => {
                let name = data.get(4..20).unwrap_or_default();
                let end = name.iter().position(|&c| c == 0).unwrap_or(name.len());
                r.services.push(String::from_utf8_lossy(&name[..end]).into_owned());
            }
            _ => {}
        }
    }
    None
}

fn fill_cip(r: &mut Cip, m: &CipMessage<'_>, sequence: Option<u16>) {
    r.response = m.response;
    r.service = u32::from(m.service);
    r.class_id = m.class;
    r.instance_id = m.instance;
    r.attribute_id = m.attribute;
    r.member_id = m.member;
    r.symbol.clear();
    for (i, s) in m.symbols.iter().enumerate() {
        if i > 0 {
            r.symbol.push('.');
        }
        r.symbol.push_str(&String::from_utf8_lossy(s));
    }
    r.general_status = m.response.then_some(u32::from(m.general_status));
    r.additional_status.clear();
    r.additional_status.extend(m.additional_status.iter().map(|&s| u32::from(s)));
    r.data_length = m.data.len() as u32;
    r.sequence_count = sequence.map(u32::from);
}

/// The CIP message of a SendRRData or SendUnitData data item, if any.
fn cip_item<'a>(m: &Message<'a>) -> Option<(&'a [u8], Option<u16>)> {
    let cpf = m.data.get(cpf_offset(m.command)?..)?;
    items(cpf).filter_map(|i| i.ok()).find_map(|(kind, data)| match kind {
        ITEM_UNCONNECTED_DATA => Some((data, None)),
        ITEM_CONNECTED_DATA => Some((data.get(2..)?, le16(data, 0, "").ok())),
        _ => None,
    })
}

/// Decodes the encapsulation messages of a payload.
pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8], tcp: bool) {
    let (want_enip, want_cip) = (cx.wants(RecordType::Enip), cx.wants(RecordType::Cip));
    if !want_enip && !want_cip {
        return;
    }
    let response = flow.src_port == PORT;
    let mut rest = payload;
    while !rest.is_empty() {
        let (m, tail) = match parse(rest) {
            Ok(x) => x,
            Err(e) => return super::parse_error(cx, Layer::Enip, flow, e),
        };
        rest = tail;
        if want_enip {
            let error;
            emit!(cx, flow, RecordType::Enip, enip, |r| error = fill_enip(r, &m, tcp, response));
            if let Some(e) = error {
                super::parse_error(cx, Layer::Enip, flow, e);
            }
        }
        if !want_cip || !matches!(m.command, SEND_RR_DATA | SEND_UNIT_DATA) || m.data.is_empty() {
            continue;
        }
        if let Some((bytes, sequence)) = cip_item(&m) {
            match cip(bytes) {
                Ok(c) => emit!(cx, flow, RecordType::Cip, cip, |r| fill_cip(r, &c, sequence)),
                Err(e) => super::parse_error(cx, Layer::Cip, flow, e),
            }
        }
    }
}

/// Walks every message, item and CIP message of a payload (fuzz entry point).
pub fn parse_all(payload: &[u8]) -> usize {
    let mut n = 0;
    let mut rest = payload;
    while let Ok((m, tail)) = parse(rest) {
        rest = tail;
        n += 1;
        if let Some(offset) = cpf_offset(m.command) {
            for (kind, data) in items(m.data.get(offset..).unwrap_or_default()).map_while(|i| i.ok()) {
                n += usize::from(kind == ITEM_IDENTITY && identity(data).is_ok());
            }
        }
        if let Some((bytes, _)) = cip_item(&m) {
            n += usize::from(cip(bytes).is_ok());
        }
        if rest.is_empty() {
            break;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(command: u16, data: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        h.extend_from_slice(&command.to_le_bytes());
        h.extend_from_slice(&(data.len() as u16).to_le_bytes());
        h.extend_from_slice(&0x1234_5678u32.to_le_bytes());
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(&[7; 8]);
        h.extend_from_slice(&[0; 4]);
        h.extend_from_slice(data);
        h
    }

    #[test]
    fn two_messages_in_a_segment() {
        let mut p = header(REGISTER_SESSION, &[1, 0, 0, 0]);
        p.extend(header(0x0066, &[]));
        let (m, rest) = parse(&p).unwrap();
        assert_eq!((m.command, m.session, m.data), (REGISTER_SESSION, 0x1234_5678, &[1u8, 0, 0, 0][..]));
        let (m, rest) = parse(rest).unwrap();
        assert_eq!((m.command, rest.len()), (0x0066, 0));
        assert!(parse(&p[..10]).is_err());
    }

    #[test]
    fn cip_request_path_and_reply_status() {
        // Get_Attribute_Single, class 0x01, instance 1, attribute 7.
        let req = [0x0e, 3, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07];
        let m = cip(&req).unwrap();
        assert_eq!((m.response, m.service, m.class, m.instance, m.attribute), (false, 0x0e, Some(1), Some(1), Some(7)));
        // Read Tag with a symbol "Tag1", then a 16-bit instance.
        let req = [0x4c, 5, 0x91, 4, b'T', b'a', b'g', b'1', 0x25, 0, 0x34, 0x12, 1, 0];
        let m = cip(&req).unwrap();
        assert_eq!((m.symbols, m.instance, m.data), (vec![&b"Tag1"[..]], Some(0x1234), &[1u8, 0][..]));
        // Reply with general status 4 and one additional status word.
        let rep = [0xcc, 0, 0x04, 1, 0x05, 0x00];
        let m = cip(&rep).unwrap();
        assert_eq!((m.response, m.service, m.general_status, m.additional_status), (true, 0x4c, 4, vec![5]));
        // A port segment (backplane, extended link address "1.2.3.4") first.
        let req = [0x0e, 8, 0x11, 7, b'1', b'.', b'2', b'.', b'3', b'.', b'4', 0, 0x20, 1, 0x24, 1, 0x30, 7];
        let m = cip(&req).unwrap();
        assert_eq!((m.class, m.instance, m.attribute), (Some(1), Some(1), Some(7)));
        assert!(cip(&[0x0e, 3, 0x20]).is_err());
        assert!(cip(&[0x0e, 1, 0x23, 0]).is_err());
    }

    #[test]
    fn items_stop_at_a_bad_length() {
        let cpf = [2, 0, 0, 0, 0, 0, 0xb2, 0, 9, 0, 1];
        let got: Vec<_> = items(&cpf).collect();
        assert_eq!(got.len(), 2);
        assert!(got[0].is_ok() && got[1].is_err());
        assert_eq!(items(&[1]).count(), 1);
    }
}
