//! RADIUS (RFC 2865 authentication, RFC 2866 accounting, RFC 5176 dynamic
//! authorization; UDP ports 1812, 1813, 1645, 1646, 3799). The format is a
//! fixed 20-byte header and type-length-value attributes: written here, as
//! the crates for it are client/server implementations. User-Password and
//! the other hidden attributes are never recorded.

use super::{AppRecord, Flow, emit};
use crate::wire::{Malformed, Result, be16, be32, bytes, u8_at};
use crate::{Layer, PacketContext};
use netcap_records::{Radius, RecordType};

pub const PORTS: [u16; 5] = [1812, 1813, 1645, 1646, 3799];

/// The header; `attributes` is the attribute area the length field covers
/// (or what the packet holds of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    pub code: u8,
    pub identifier: u8,
    pub length: u16,
    pub authenticator: &'a [u8],
    pub attributes: &'a [u8],
}

pub fn parse(p: &[u8]) -> Result<Packet<'_>> {
    const SHORT: &str = "RADIUS header truncated";
    let length = be16(p, 2, SHORT)?;
    if length < 20 {
        return Err(Malformed("RADIUS length below 20"));
    }
    let end = usize::from(length).min(p.len());
    Ok(Packet {
        code: u8_at(p, 0, SHORT)?,
        identifier: u8_at(p, 1, SHORT)?,
        length,
        authenticator: bytes(p, 4, 16, SHORT)?,
        attributes: p.get(20..end).unwrap_or_default(),
    })
}

/// Attributes as (type, value); a length below 2 or past the end is an
/// error and ends the walk.
pub fn attributes(area: &[u8]) -> impl Iterator<Item = Result<(u8, &[u8])>> + '_ {
    let mut rest = area;
    std::iter::from_fn(move || {
        let (&kind, tail) = rest.split_first()?;
        let len = tail.first().map_or(0, |&l| usize::from(l));
        let Some(value) = rest.get(2..len).filter(|_| len >= 2) else {
            rest = &[];
            return Some(Err(Malformed("RADIUS attribute length out of bounds")));
        };
        rest = &rest[len..];
        Some(Ok((kind, value)))
    })
}

fn text(dst: &mut String, value: &[u8]) {
    super::set_lossy(dst, value);
}

fn fill(r: &mut Radius, p: &Packet<'_>) -> Option<Malformed> {
    r.code = u32::from(p.code);
    r.identifier = u32::from(p.identifier);
    r.length = u32::from(p.length);
    crate::set_bytes(&mut r.authenticator, p.authenticator);
    r.attribute_types.clear();
    r.user_name.clear();
    r.nas_ip.clear();
    r.nas_port = None;
    r.service_type = None;
    r.framed_ip.clear();
    r.reply_message.clear();
    r.called_station_id.clear();
    r.calling_station_id.clear();
    r.nas_identifier.clear();
    r.acct_status_type = None;
    r.acct_session_id.clear();
    r.nas_port_type = None;
    r.vendor_ids.clear();
    r.eap_messages = 0;
    let int = |v: &[u8]| be32(v, 0, "").ok().filter(|_| v.len() == 4);
    for attribute in attributes(p.attributes) {
        let (kind, value) = match attribute {
            Ok(a) => a,
            Err(e) => return Some(e),
        };
        r.attribute_types.push(u32::from(kind));
        match kind {
            1 => text(&mut r.user_name, value),
            4 if value.len() == 4 => crate::set_bytes(&mut r.nas_ip, value),
            5 => r.nas_port = int(value),
            6 => r.service_type = int(value),
            8 if value.len() == 4 => crate::set_bytes(&mut r.framed_ip, value),
            18 => text(&mut r.reply_message, value),
            26 => r.vendor_ids.extend(int(value.get(..4).unwrap_or_default())),
            30 => text(&mut r.called_station_id, value),
            31 => text(&mut r.calling_station_id, value),
            32 => text(&mut r.nas_identifier, value),
            40 => r.acct_status_type = int(value),
            44 => text(&mut r.acct_session_id, value),
            61 => r.nas_port_type = int(value),
            79 => r.eap_messages += 1,
            95 if value.len() == 16 => crate::set_bytes(&mut r.nas_ip, value),
            _ => {}
        }
    }
    None
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Radius) {
        return;
    }
    let p = match parse(payload) {
        Ok(p) => p,
        Err(e) => return super::parse_error(cx, Layer::Radius, flow, e),
    };
    // A damaged attribute list still gives the record, with what came before.
    let error;
    emit!(cx, flow, RecordType::Radius, radius, |r| error = fill(r, &p));
    if let Some(e) = error {
        super::parse_error(cx, Layer::Radius, flow, e);
    }
}

/// Parses a packet and walks its attributes (fuzz entry point).
pub fn parse_all(payload: &[u8]) -> Option<usize> {
    let p = parse(payload).ok()?;
    Some(attributes(p.attributes).take_while(|a| a.is_ok()).count())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_attributes() {
        let mut p = vec![1, 7, 0, 0];
        p.extend_from_slice(&[0xab; 16]);
        p.extend_from_slice(&[1, 6, b'a', b'l', b'i', b'Y']);
        p.extend_from_slice(&[4, 6, 10, 0, 0, 1]);
        p.extend_from_slice(&[26, 8, 0, 0, 0x01, 0x37, 1, 2]);
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let h = parse(&p).unwrap();
        assert_eq!((h.code, h.identifier, h.attributes.len()), (1, 7, 20));
        let mut r = Radius::default();
        assert!(fill(&mut r, &h).is_none());
        assert_eq!((r.user_name.as_str(), &r.nas_ip[..], &r.vendor_ids[..]), ("aliY", &[10, 0, 0, 1][..], &[311][..]));
        assert_eq!(r.attribute_types, [1, 4, 26]);
        // A zero-length attribute ends the walk with an error.
        let bad = [1u8, 0, 9];
        let got: Vec<_> = attributes(&bad).collect();
        assert_eq!(got.len(), 1);
        assert!(got[0].is_err());
        assert!(parse(&p[..10]).is_err());
        assert!(parse(&[1, 1, 0, 5]).is_err());
    }
}
