//! IEEE 802.11 frames (LINKTYPE 105), optionally behind a radiotap header
//! (LINKTYPE 127). Data frames that are not protected continue into LLC.

use crate::wire::{Malformed, Result, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

/// The radiotap values netcap records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Radiotap {
    pub length: usize,
    /// First "present" word.
    pub present: u32,
    pub flags: Option<u8>,
    /// 500 kb/s units.
    pub rate: Option<u8>,
    pub channel_frequency: Option<u16>,
    pub signal_dbm: Option<i8>,
    pub noise_dbm: Option<i8>,
}

/// Radiotap flag: the 802.11 frame ends with its 4-byte FCS.
pub const FLAG_FCS: u8 = 0x10;

/// Parses a radiotap header. Only fields 0-6 of the first namespace are
/// read (they come first, with known sizes); later ones are skipped by the
/// header's length.
pub fn parse_radiotap(data: &[u8]) -> Result<Radiotap> {
    const SHORT: &str = "radiotap header truncated";
    let le16 = |at: usize| -> Result<u16> { Ok(u16::from_le_bytes(crate::wire::array(data, at, SHORT)?)) };
    let le32 = |at: usize| -> Result<u32> { Ok(u32::from_le_bytes(crate::wire::array(data, at, SHORT)?)) };
    if u8_at(data, 0, SHORT)? != 0 {
        return Err(Malformed("radiotap version other than 0"));
    }
    let length = usize::from(le16(2)?);
    let present = le32(4)?;
    if length < 8 || length > data.len() {
        return Err(Malformed("radiotap length out of range"));
    }
    let header = &data[..length];
    // Extended present words follow while bit 31 is set.
    let mut at = 8;
    let mut word = present;
    while word & 0x8000_0000 != 0 {
        word = le32(at)?;
        at += 4;
        if at > length {
            return Err(Malformed(SHORT));
        }
    }
    let mut r = Radiotap { length, present, ..Default::default() };
    // (bit, alignment, size) of fields 0-6.
    const FIELDS: [(u32, usize, usize); 7] =
        [(0, 8, 8), (1, 1, 1), (2, 1, 1), (3, 2, 4), (4, 1, 2), (5, 1, 1), (6, 1, 1)];
    for (bit, align, size) in FIELDS {
        if present & (1 << bit) == 0 {
            continue;
        }
        at = at.next_multiple_of(align);
        let field = header.get(at..at + size).ok_or(Malformed(SHORT))?;
        match bit {
            1 => r.flags = Some(field[0]),
            2 => r.rate = Some(field[0]),
            3 => r.channel_frequency = Some(u16::from_le_bytes([field[0], field[1]])),
            5 => r.signal_dbm = Some(field[0] as i8),
            6 => r.noise_dbm = Some(field[0] as i8),
            _ => {}
        }
        at += size;
    }
    Ok(r)
}

/// A parsed 802.11 MAC header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dot11Header<'a> {
    pub kind: u8,
    pub subtype: u8,
    pub flags: u8,
    pub duration_id: u16,
    pub addresses: [Option<&'a [u8]>; 4],
    /// Sequence control (sequence number << 4 | fragment), if present.
    pub sequence_control: Option<u16>,
    pub header_len: usize,
}

pub const TYPE_MANAGEMENT: u8 = 0;
pub const TYPE_CONTROL: u8 = 1;
pub const TYPE_DATA: u8 = 2;
const FLAG_PROTECTED: u8 = 0x40;
const FLAG_ORDER: u8 = 0x80;

pub fn parse(data: &[u8]) -> Result<Dot11Header<'_>> {
    const SHORT: &str = "802.11 header truncated";
    let fc0 = u8_at(data, 0, SHORT)?;
    let flags = u8_at(data, 1, SHORT)?;
    let duration_id = u16::from_le_bytes(crate::wire::array(data, 2, SHORT)?);
    let kind = (fc0 >> 2) & 3;
    let subtype = fc0 >> 4;
    let addr = |i: usize| crate::wire::bytes(data, 4 + 6 * i, 6, SHORT);
    let mut h =
        Dot11Header { kind, subtype, flags, duration_id, addresses: [None; 4], sequence_control: None, header_len: 0 };
    match kind {
        TYPE_CONTROL => {
            // ACK and CTS carry one address, control wrappers are not
            // decoded; the others carry two.
            h.addresses[0] = Some(addr(0)?);
            h.header_len = 10;
            if !matches!(subtype, 12 | 13 | 7) {
                h.addresses[1] = Some(addr(1)?);
                h.header_len = 16;
            }
        }
        TYPE_MANAGEMENT | TYPE_DATA => {
            for i in 0..3 {
                h.addresses[i] = Some(addr(i)?);
            }
            h.sequence_control = Some(u16::from_le_bytes(crate::wire::array(data, 22, SHORT)?));
            h.header_len = 24;
            if kind == TYPE_DATA {
                if flags & 3 == 3 {
                    h.addresses[3] = Some(addr(3)?);
                    h.header_len = 30;
                }
                let qos = subtype & 8 != 0;
                if qos {
                    h.header_len += 2;
                }
                if qos && flags & FLAG_ORDER != 0 {
                    h.header_len += 4;
                }
            } else if flags & FLAG_ORDER != 0 {
                h.header_len += 4;
            }
            if h.header_len > data.len() {
                return Err(Malformed(SHORT));
            }
        }
        _ => h.header_len = 4,
    }
    Ok(h)
}

/// Management subtypes whose body starts with fixed fields, then elements.
const SUBTYPE_ASSOCIATION_REQUEST: u8 = 0;
const SUBTYPE_ASSOCIATION_RESPONSE: u8 = 1;
const SUBTYPE_REASSOCIATION_REQUEST: u8 = 2;
const SUBTYPE_REASSOCIATION_RESPONSE: u8 = 3;
const SUBTYPE_PROBE_REQUEST: u8 = 4;
const SUBTYPE_PROBE_RESPONSE: u8 = 5;
const SUBTYPE_BEACON: u8 = 8;

/// (Beacon interval, capabilities) of the subtypes that have them, and the
/// SSID element of a management body.
pub type ManagementFields<'a> = (Option<(u16, u16)>, Option<&'a [u8]>);

/// The fixed fields and SSID of a management frame body, for subtypes that have them.
pub fn management_body(subtype: u8, body: &[u8]) -> Option<ManagementFields<'_>> {
    let le16 = |at: usize| body.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]));
    let (fixed, elements) = match subtype {
        SUBTYPE_BEACON | SUBTYPE_PROBE_RESPONSE => (Some((le16(8)?, le16(10)?)), body.get(12..)?),
        SUBTYPE_PROBE_REQUEST => (None, body),
        // Association request: capabilities, listen interval, elements;
        // reassociation request: the same plus the current AP's address.
        SUBTYPE_ASSOCIATION_REQUEST => (Some((0, le16(0)?)), body.get(4..)?),
        SUBTYPE_REASSOCIATION_REQUEST => (Some((0, le16(0)?)), body.get(10..)?),
        // (Re)association responses: capabilities, status, association ID.
        SUBTYPE_ASSOCIATION_RESPONSE | SUBTYPE_REASSOCIATION_RESPONSE => (Some((0, le16(0)?)), &[][..]),
        _ => return None,
    };
    let mut rest = elements;
    let mut ssid = None;
    while rest.len() >= 2 {
        let (id, len) = (rest[0], usize::from(rest[1]));
        let Some(value) = rest.get(2..2 + len) else { break };
        if id == 0 {
            ssid = Some(value);
            break;
        }
        rest = &rest[2 + len..];
    }
    Some((fixed, ssid))
}

/// An 802.11 frame at `offset` of `data`, after a radiotap header if
/// `radiotap`.
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize, radiotap: bool) {
    let captured = data.get(offset..).unwrap_or_default();
    let rt = if radiotap {
        match parse_radiotap(captured) {
            Ok(r) => Some(r),
            Err(e) => return cx.error(Layer::Dot11, offset, e),
        }
    } else {
        None
    };
    let start = offset + rt.map_or(0, |r| r.length);
    let mut frame = data.get(start..).unwrap_or_default();
    if rt.and_then(|r| r.flags).is_some_and(|f| f & FLAG_FCS != 0) {
        frame = &frame[..frame.len().saturating_sub(4)];
    }
    let h = match parse(frame) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Dot11, start, e),
    };
    let body = frame.get(h.header_len..).unwrap_or_default();
    let mgmt = if h.kind == TYPE_MANAGEMENT { management_body(h.subtype, body) } else { None };
    emit!(cx, RecordType::Dot11, l2.dot11, |r| {
        r.r#type = u32::from(h.kind);
        r.subtype = u32::from(h.subtype);
        r.flags = u32::from(h.flags);
        r.duration_id = u32::from(h.duration_id);
        for (dst, a) in [&mut r.address1_mac, &mut r.address2_mac, &mut r.address3_mac, &mut r.address4_mac]
            .into_iter()
            .zip(h.addresses)
        {
            dst.clear();
            if let Some(a) = a {
                dst.extend_from_slice(a);
            }
        }
        r.sequence_number = h.sequence_control.map_or(0, |s| u32::from(s >> 4));
        r.fragment_number = h.sequence_control.map_or(0, |s| u32::from(s & 0xf));
        r.ssid.clear();
        r.beacon_interval = 0;
        r.capabilities = 0;
        if let Some((fixed, ssid)) = mgmt {
            if let Some((interval, caps)) = fixed {
                r.beacon_interval = u32::from(interval);
                r.capabilities = u32::from(caps);
            }
            if let Some(ssid) = ssid {
                crate::wire::write_text(&mut r.ssid, ssid);
            }
        }
        r.channel_frequency = rt.and_then(|r| r.channel_frequency).map(u32::from);
        r.signal_dbm = rt.and_then(|r| r.signal_dbm).map(i32::from);
        r.noise_dbm = rt.and_then(|r| r.noise_dbm).map(i32::from);
        r.data_rate = rt.and_then(|r| r.rate).map(u32::from);
        r.radiotap_present = rt.map_or(0, |r| r.present);
    });
    // Null-function data frames (bit 2 of the subtype) carry nothing.
    let has_payload = h.kind == TYPE_DATA && h.subtype & 4 == 0 && h.flags & FLAG_PROTECTED == 0;
    if has_payload && !body.is_empty() {
        let end = start + frame.len();
        super::llc::decode(cx, &data[..end], start + h.header_len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn radiotap_alignment() {
        // present: TSFT, flags, rate, channel, signal; TSFT aligned at 8.
        let mut data = vec![0, 0, 0, 0, 0x2f, 0, 0, 0];
        data.extend_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 0x10, 0x02, 0x6c, 0x09, 0xa0, 0x00, 0xd8]);
        data[2] = data.len() as u8;
        let r = parse_radiotap(&data).unwrap();
        assert_eq!(r.flags, Some(0x10));
        assert_eq!(r.rate, Some(2));
        assert_eq!(r.channel_frequency, Some(2412));
        assert_eq!(r.signal_dbm, Some(-40));
        assert!(parse_radiotap(&data[..12]).is_err());
    }

    #[test]
    fn beacon_ssid() {
        let mut body = vec![0u8; 8];
        body.extend_from_slice(&[100, 0, 0x11, 0x04, 0, 4, b'h', b'o', b'm', b'e']);
        let (fixed, ssid) = management_body(SUBTYPE_BEACON, &body).unwrap();
        assert_eq!(fixed, Some((100, 0x0411)));
        assert_eq!(ssid, Some(&b"home"[..]));
    }
}
