//! PPP over Ethernet (RFC 2516): discovery stage tags and session frames.

use crate::wire::{Malformed, Result, be16, u8_at};
use crate::{Layer, PacketContext, emit, link};
use netcap_records::RecordType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PppoeHeader<'a> {
    pub version: u8,
    pub kind: u8,
    pub code: u8,
    pub session_id: u16,
    pub length: u16,
    /// The payload (tags, or the PPP frame), cut to `length`.
    pub payload: &'a [u8],
}

pub fn parse(data: &[u8]) -> Result<PppoeHeader<'_>> {
    const SHORT: &str = "PPPoE header truncated";
    let vt = u8_at(data, 0, SHORT)?;
    let length = be16(data, 4, SHORT)?;
    let rest = &data[6..];
    Ok(PppoeHeader {
        version: vt >> 4,
        kind: vt & 0xf,
        code: u8_at(data, 1, SHORT)?,
        session_id: be16(data, 2, SHORT)?,
        length,
        payload: rest.get(..usize::from(length)).unwrap_or(rest),
    })
}

/// Discovery tags as (type, value); stops at End-Of-List or a truncated tag.
pub fn tags(payload: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8])>> + '_ {
    let mut rest = payload;
    std::iter::from_fn(move || {
        if rest.len() < 4 {
            return None;
        }
        let kind = u16::from_be_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let Some(value) = rest.get(4..4 + len) else {
            rest = &[];
            return Some(Err(Malformed("PPPoE tag truncated")));
        };
        rest = &rest[4 + len..];
        if kind == 0 {
            rest = &[];
        }
        Some(Ok((kind, value)))
    })
}

const SESSION: u16 = 0x8864;

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize, ether_type: u16) {
    let h = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Pppoe, offset, e),
    };
    let session = ether_type == SESSION;
    let ppp = if session { link::ppp_protocol(h.payload, 0) } else { None };
    let mut bad_tag = None;
    emit!(cx, RecordType::Pppoe, l2.pppoe, |r| {
        r.version = u32::from(h.version);
        r.r#type = u32::from(h.kind);
        r.code = u32::from(h.code);
        r.session_id = u32::from(h.session_id);
        r.length = u32::from(h.length);
        r.ppp_protocol = ppp.map_or(0, |(p, _)| u32::from(p));
        r.service_name.clear();
        r.ac_name.clear();
        r.tag_types.clear();
        if !session {
            for tag in tags(h.payload) {
                match tag {
                    Ok((kind, value)) => {
                        r.tag_types.push(u32::from(kind));
                        match kind {
                            0x0101 => crate::wire::write_text(&mut r.service_name, value),
                            0x0102 => crate::wire::write_text(&mut r.ac_name, value),
                            _ => {}
                        }
                    }
                    Err(e) => bad_tag = Some(e),
                }
            }
        }
    });
    if let Some(e) = bad_tag {
        return cx.error(Layer::Pppoe, offset + 6, e);
    }
    if let Some((protocol, len)) = ppp {
        let inner = offset + 6 + len;
        let end = (offset + 6 + h.payload.len()).min(data.len());
        let data = &data[..end];
        if matches!(protocol, link::PPP_IPV4 | link::PPP_IPV6) {
            cx.inner("pppoe", u32::from(h.session_id), inner, |cx| link::ppp_payload(cx, data, protocol, inner));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_tags() {
        let data = [0x11, 0x09, 0, 0, 0, 12, 0x01, 0x01, 0, 0, 0x01, 0x02, 0, 4, b'a', b'c', b'-', b'1'];
        let h = parse(&data).unwrap();
        assert_eq!((h.version, h.kind, h.code, h.length), (1, 1, 9, 12));
        let t: Vec<_> = tags(h.payload).map(|t| t.unwrap()).collect();
        assert_eq!(t, vec![(0x0101, &b""[..]), (0x0102, &b"ac-1"[..])]);
    }
}
