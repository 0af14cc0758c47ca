//! 802.1X: EAP over LAN (EAPOL, including EAPOL-Key) and EAP (RFC 3748).

use crate::wire::{Result, be16, be64, bytes, u8_at, write_text};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EapolHeader<'a> {
    pub version: u8,
    pub kind: u8,
    pub length: u16,
    /// The body, cut to `length`.
    pub body: &'a [u8],
}

pub fn parse(data: &[u8]) -> Result<EapolHeader<'_>> {
    const SHORT: &str = "EAPOL header truncated";
    let length = be16(data, 2, SHORT)?;
    let rest = &data[4..];
    Ok(EapolHeader {
        version: u8_at(data, 0, SHORT)?,
        kind: u8_at(data, 1, SHORT)?,
        length,
        body: rest.get(..usize::from(length)).unwrap_or(rest),
    })
}

/// An EAPOL-Key descriptor (RSN or WPA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EapolKey<'a> {
    pub descriptor_type: u8,
    pub key_info: u16,
    pub key_length: u16,
    pub replay_counter: u64,
    pub nonce: &'a [u8],
    pub mic: &'a [u8],
    pub key_data_length: u16,
}

pub fn parse_key(body: &[u8]) -> Result<EapolKey<'_>> {
    const SHORT: &str = "EAPOL-Key descriptor truncated";
    Ok(EapolKey {
        descriptor_type: u8_at(body, 0, SHORT)?,
        key_info: be16(body, 1, SHORT)?,
        key_length: be16(body, 3, SHORT)?,
        replay_counter: be64(body, 5, SHORT)?,
        nonce: bytes(body, 13, 32, SHORT)?,
        // Then IV (16), RSC (8), reserved (8), MIC (16), key data length (2).
        mic: bytes(body, 77, 16, SHORT)?,
        key_data_length: be16(body, 93, SHORT)?,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EapPacket<'a> {
    pub code: u8,
    pub id: u8,
    pub length: u16,
    /// Method type of requests and responses.
    pub kind: Option<u8>,
    /// Type data, cut to `length`.
    pub data: &'a [u8],
}

pub fn parse_eap(data: &[u8]) -> Result<EapPacket<'_>> {
    const SHORT: &str = "EAP header truncated";
    let code = u8_at(data, 0, SHORT)?;
    let length = be16(data, 2, SHORT)?;
    let end = usize::from(length).clamp(4, data.len());
    let kind = if matches!(code, 1 | 2) { Some(u8_at(data, 4, "EAP type missing")?) } else { None };
    Ok(EapPacket { code, id: u8_at(data, 1, SHORT)?, length, kind, data: data.get(5..end).unwrap_or_default() })
}

const TYPE_EAP: u8 = 0;
const TYPE_KEY: u8 = 3;

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Eapol, offset, e),
    };
    let key = if h.kind == TYPE_KEY {
        match parse_key(h.body) {
            Ok(k) => Some(k),
            Err(e) => return cx.error(Layer::Eapol, offset + 4, e),
        }
    } else {
        None
    };
    emit!(cx, RecordType::Eapol, l2.eapol, |r| {
        r.version = u32::from(h.version);
        r.r#type = u32::from(h.kind);
        r.length = u32::from(h.length);
        r.key_descriptor_type = key.map_or(0, |k| u32::from(k.descriptor_type));
        r.key_info = key.map_or(0, |k| u32::from(k.key_info));
        r.key_length = key.map_or(0, |k| u32::from(k.key_length));
        r.replay_counter = key.map_or(0, |k| k.replay_counter);
        crate::set_bytes(&mut r.key_nonce, key.map_or(&[][..], |k| k.nonce));
        crate::set_bytes(&mut r.key_mic, key.map_or(&[][..], |k| k.mic));
        r.key_data_length = key.map_or(0, |k| u32::from(k.key_data_length));
    });
    if h.kind == TYPE_EAP {
        eap(cx, h.body, offset + 4);
    }
}

fn eap(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let p = match parse_eap(data) {
        Ok(p) => p,
        Err(e) => return cx.error(Layer::Eapol, offset, e),
    };
    emit!(cx, RecordType::Eap, l2.eap, |r| {
        r.code = u32::from(p.code);
        r.id = u32::from(p.id);
        r.length = u32::from(p.length);
        r.r#type = p.kind.map_or(0, u32::from);
        r.identity.clear();
        if p.kind == Some(1) {
            write_text(&mut r.identity, p.data);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eap_identity_response() {
        let p = parse_eap(&[2, 7, 0, 9, 1, b'u', b's', b'e', b'r', 0xff]).unwrap();
        assert_eq!((p.code, p.id, p.kind, p.data), (2, 7, Some(1), &b"user"[..]));
        assert_eq!(parse_eap(&[3, 7, 0, 4]).unwrap().kind, None);
        assert!(parse_eap(&[1, 7, 0, 5]).is_err());
        assert!(parse_key(&[2, 0, 0x8a]).is_err());
    }
}
