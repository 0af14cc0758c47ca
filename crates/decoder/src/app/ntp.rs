//! NTP (UDP port 123, RFC 5905 and RFC 1305) with ntp-parser (rusticata).
//! Control (mode 6) and private (mode 7) messages have a different layout:
//! their first byte's fields are recorded and the rest left alone.

use super::{AppRecord, Flow, emit};
use crate::{Layer, PacketContext};
use netcap_records::{Ntp, RecordType};
use ntp_parser::parse_ntpv3;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NtpError {
    #[error("NTP packet of {0} bytes is shorter than the 48-byte header")]
    Short(usize),
    #[error("NTP header does not parse")]
    Invalid,
}

/// The 48-byte header fields, plus what follows it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub leap_indicator: u8,
    pub version: u8,
    pub mode: u8,
    pub stratum: u8,
    pub poll: i8,
    pub precision: i8,
    pub root_delay: u32,
    pub root_dispersion: u32,
    pub reference_id: u32,
    pub reference_timestamp: u64,
    pub origin_timestamp: u64,
    pub receive_timestamp: u64,
    pub transmit_timestamp: u64,
    pub key_id: u32,
    pub trailer_length: usize,
}

pub fn parse(p: &[u8]) -> Result<Header, NtpError> {
    let first = *p.first().ok_or(NtpError::Short(0))?;
    let (li, version, mode) = (first >> 6, (first >> 3) & 7, first & 7);
    if mode == 6 || mode == 7 {
        return Ok(Header { leap_indicator: li, version, mode, ..Header::default() });
    }
    if p.len() < 48 {
        return Err(NtpError::Short(p.len()));
    }
    let trailer_length = p.len() - 48;
    let key_id = if trailer_length == 20 || trailer_length == 24 { super::be32(p, 48).unwrap_or(0) } else { 0 };
    // The 48-byte header has one layout in every version (v1 to v4): read
    // it with ntp-parser's v3 parser. (Its v4 parser also reads extension
    // fields, which no record keeps, and rejects some that are valid.)
    let (_, n) = parse_ntpv3(p).map_err(|_| NtpError::Invalid)?;
    Ok(Header {
        leap_indicator: n.li,
        version: n.version,
        mode: n.mode.0,
        stratum: n.stratum,
        poll: n.poll,
        precision: n.precision,
        root_delay: n.root_delay,
        root_dispersion: n.root_dispersion,
        reference_id: n.ref_id,
        reference_timestamp: n.ts_ref,
        origin_timestamp: n.ts_orig,
        receive_timestamp: n.ts_recv,
        transmit_timestamp: n.ts_xmit,
        key_id,
        trailer_length,
    })
}

fn fill(r: &mut Ntp, h: &Header) {
    r.leap_indicator = u32::from(h.leap_indicator);
    r.version = u32::from(h.version);
    r.mode = u32::from(h.mode);
    r.stratum = u32::from(h.stratum);
    r.poll = i32::from(h.poll);
    r.precision = i32::from(h.precision);
    r.root_delay = h.root_delay;
    r.root_dispersion = h.root_dispersion;
    r.reference_id.clear();
    r.reference_ip.clear();
    let id = h.reference_id.to_be_bytes();
    if h.mode == 6 || h.mode == 7 {
        // No reference ID in control and private messages.
    } else if h.stratum <= 1 {
        // A four-character ASCII code ("GPS", "LOCL", kiss codes).
        for &c in id.iter().take_while(|&&c| c != 0) {
            r.reference_id.push(if c.is_ascii_graphic() { c as char } else { '.' });
        }
    } else {
        r.reference_ip.extend_from_slice(&id);
    }
    r.reference_timestamp = h.reference_timestamp;
    r.origin_timestamp = h.origin_timestamp;
    r.receive_timestamp = h.receive_timestamp;
    r.transmit_timestamp = h.transmit_timestamp;
    r.key_id = h.key_id;
    r.trailer_length = h.trailer_length as u32;
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Ntp) {
        return;
    }
    match parse(payload) {
        Ok(h) => emit!(cx, flow, RecordType::Ntp, ntp, |r| fill(r, &h)),
        Err(e) => super::parse_error(cx, Layer::Ntp, flow, e),
    }
}
