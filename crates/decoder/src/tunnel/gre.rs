//! GRE (RFC 2784, key and sequence RFC 2890, source routes RFC 1701,
//! enhanced GRE of PPTP RFC 2637) and the ERSPAN headers it may carry.

use crate::link::{self, ETHERTYPE_TEB};
use crate::wire::{Malformed, Result, be16, be32, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

/// A parsed GRE header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GreHeader {
    /// Flag bits of the first word (version bits masked out).
    pub flags: u16,
    pub version: u8,
    /// EtherType of the payload.
    pub protocol: u16,
    pub checksum: Option<u16>,
    pub key: Option<u32>,
    pub sequence: Option<u32>,
    pub acknowledgement: Option<u32>,
    /// Bytes of the header, optional fields and source routes included.
    pub header_len: usize,
}

const FLAG_CHECKSUM: u16 = 0x8000;
const FLAG_ROUTING: u16 = 0x4000;
const FLAG_KEY: u16 = 0x2000;
const FLAG_SEQUENCE: u16 = 0x1000;
/// Version 1 only: acknowledgement number present.
const FLAG_ACK: u16 = 0x0080;

pub const ETHERTYPE_ERSPAN_II: u16 = 0x88be;
pub const ETHERTYPE_ERSPAN_III: u16 = 0x22eb;
pub const ETHERTYPE_PPP: u16 = 0x880b;
pub const ETHERTYPE_CDP: u16 = 0x2000;

/// Parses a GRE header at the start of `data`.
pub fn parse(data: &[u8]) -> Result<GreHeader> {
    const SHORT: &str = "GRE header truncated";
    let word = be16(data, 0, SHORT)?;
    let protocol = be16(data, 2, SHORT)?;
    let version = (word & 7) as u8;
    let flags = word & 0xfff8;
    if version > 1 {
        return Err(Malformed("GRE version other than 0 or 1"));
    }
    let mut at = 4;
    let mut h = GreHeader {
        flags,
        version,
        protocol,
        checksum: None,
        key: None,
        sequence: None,
        acknowledgement: None,
        header_len: 0,
    };
    if flags & (FLAG_CHECKSUM | FLAG_ROUTING) != 0 {
        h.checksum = Some(be16(data, at, SHORT)?).filter(|_| flags & FLAG_CHECKSUM != 0);
        at += 4;
    }
    if flags & FLAG_KEY != 0 {
        h.key = Some(be32(data, at, SHORT)?);
        at += 4;
    } else if version == 1 {
        return Err(Malformed("enhanced GRE without the key field"));
    }
    if flags & FLAG_SEQUENCE != 0 {
        h.sequence = Some(be32(data, at, SHORT)?);
        at += 4;
    }
    if version == 1 && flags & FLAG_ACK != 0 {
        h.acknowledgement = Some(be32(data, at, SHORT)?);
        at += 4;
    }
    if version == 0 && flags & FLAG_ROUTING != 0 {
        // Source route entries up to a null one: family, offset, length, data.
        loop {
            let family = be16(data, at, "GRE source route truncated")?;
            let len = usize::from(u8_at(data, at + 3, "GRE source route truncated")?);
            at += 4 + len;
            if family == 0 && len == 0 {
                break;
            }
            if at > data.len() {
                return Err(Malformed("GRE source route truncated"));
            }
        }
    }
    h.header_len = at;
    Ok(h)
}

/// A parsed ERSPAN type II or III header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErspanHeader {
    /// 1 = type II, 2 = type III.
    pub version: u8,
    pub vlan: u16,
    pub cos: u8,
    /// Type II: encapsulation type; type III: BSO bits.
    pub encapsulation: u8,
    pub truncated: bool,
    pub session_id: u16,
    /// Type II: port index.
    pub index: u32,
    /// Type III: timestamp.
    pub timestamp: u32,
    pub header_len: usize,
}

/// Parses an ERSPAN header (type II after EtherType 0x88be, type III after 0x22eb).
pub fn parse_erspan(data: &[u8]) -> Result<ErspanHeader> {
    const SHORT: &str = "ERSPAN header truncated";
    let w0 = be16(data, 0, SHORT)?;
    let w1 = be16(data, 2, SHORT)?;
    let version = (w0 >> 12) as u8;
    let mut h = ErspanHeader {
        version,
        vlan: w0 & 0x0fff,
        cos: (w1 >> 13) as u8,
        encapsulation: ((w1 >> 11) & 3) as u8,
        truncated: w1 & 0x0400 != 0,
        session_id: w1 & 0x03ff,
        index: 0,
        timestamp: 0,
        header_len: 8,
    };
    match version {
        1 => h.index = be32(data, 4, SHORT)? & 0x000f_ffff,
        2 => {
            h.timestamp = be32(data, 4, SHORT)?;
            let last = be16(data, 10, SHORT)?;
            h.header_len = 12;
            // Optional platform-specific subheader.
            if last & 1 != 0 {
                h.header_len += 8;
                if data.len() < h.header_len {
                    return Err(Malformed(SHORT));
                }
            }
        }
        _ => return Err(Malformed("unknown ERSPAN version")),
    }
    Ok(h)
}

/// GRE at `offset` (over IP, or in UDP), then what it carries.
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let gre = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Gre, offset, e),
    };
    emit!(cx, RecordType::Gre, tunnels.gre, addressed, |r| {
        r.flags = u32::from(gre.flags);
        r.version = u32::from(gre.version);
        r.protocol = u32::from(gre.protocol);
        r.checksum = gre.checksum.map(u32::from);
        r.key = gre.key;
        r.sequence = gre.sequence;
        r.acknowledgement = gre.acknowledgement;
    });
    let inner = offset + gre.header_len;
    let key = if gre.version == 0 { gre.key.unwrap_or(0) } else { gre.key.unwrap_or(0) & 0xffff };
    match gre.protocol {
        // ERSPAN type I (no sequence number) has no header of its own.
        ETHERTYPE_ERSPAN_II if gre.sequence.is_none() => {
            cx.inner("erspan", 0, inner, |cx| link::ethernet(cx, data, inner))
        }
        ETHERTYPE_ERSPAN_II | ETHERTYPE_ERSPAN_III => erspan(cx, data, inner),
        ETHERTYPE_PPP => cx.inner("gre", key, inner, |cx| link::ppp(cx, data, inner)),
        ETHERTYPE_TEB => cx.inner("gre", key, inner, |cx| link::ethernet(cx, data, inner)),
        // Cisco sends CDP over GRE tunnels with the SNAP protocol ID as type.
        ETHERTYPE_CDP => crate::l2::cdp::decode(cx, data, inner),
        // Over GRE, Cisco MetaData puts the EtherType first (as Wireshark reads it).
        link::ETHERTYPE_CISCO_METADATA => {
            if let Some(t) = data.get(inner..inner + 2) {
                let protocol = u16::from_be_bytes([t[0], t[1]]);
                cx.inner("gre", key, inner, |cx| link::by_ether_type(cx, data, protocol, inner + 8));
            }
        }
        // An empty payload is a keepalive or a PPTP acknowledgement; below
        // 0x0600 the type is no EtherType.
        protocol if inner >= data.len() || protocol < 0x0600 => {}
        protocol => cx.inner("gre", key, inner, |cx| link::by_ether_type(cx, data, protocol, inner)),
    }
}

fn erspan(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse_erspan(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Erspan, offset, e),
    };
    emit!(cx, RecordType::Erspan, tunnels.erspan, addressed, |r| {
        r.version = u32::from(h.version);
        r.vlan = u32::from(h.vlan);
        r.cos = u32::from(h.cos);
        r.encapsulation = u32::from(h.encapsulation);
        r.truncated = h.truncated;
        r.session_id = u32::from(h.session_id);
        r.index = h.index;
        r.timestamp = h.timestamp;
    });
    let inner = offset + h.header_len;
    cx.inner("erspan", u32::from(h.session_id), inner, |cx| link::ethernet(cx, data, inner));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gre_with_key_and_sequence() {
        let h = parse(&[0x30, 0x00, 0x08, 0x00, 0, 0, 0, 42, 0, 0, 1, 0]).unwrap();
        assert_eq!((h.key, h.sequence, h.protocol, h.header_len), (Some(42), Some(256), 0x0800, 12));
        assert!(parse(&[0x30, 0x00, 0x08, 0x00, 0, 0]).is_err());
        // Enhanced GRE (PPTP) with sequence and acknowledgement.
        let h = parse(&[0x30, 0x81, 0x88, 0x0b, 0, 0x10, 0, 5, 0, 0, 0, 1, 0, 0, 0, 2]).unwrap();
        assert_eq!((h.version, h.key, h.sequence, h.acknowledgement), (1, Some(0x10_0005), Some(1), Some(2)));
    }

    #[test]
    fn gre_source_routes_end_at_a_null_entry() {
        let h = parse(&[0x40, 0, 0x08, 0, 0, 0, 0, 0, 0, 2, 0, 4, 1, 2, 3, 4, 0, 0, 0, 0]).unwrap();
        assert_eq!(h.header_len, 20);
        assert!(parse(&[0x40, 0, 0x08, 0, 0, 0, 0, 0, 0, 2, 0, 200]).is_err());
    }
}
