//! QUIC Initial packets (RFC 9000 section 17.2.2), decrypted as RFC 9001
//! section 5 describes (v1; RFC 9369 for v2; the draft salts for drafts
//! 23-32): keys from HKDF-SHA256 over the destination connection ID, header
//! protection with AES-128-ECB, payload with AES-128-GCM. The CRYPTO frames
//! of a client Initial are put together and the TLS ClientHello decoded
//! (SNI, ALPN, JA4 with the "q" prefix).
//!
//! Written here (no well-kept crate does passive Initial decryption) on the
//! RustCrypto primitives. Server Initials are keyed by the client's original
//! connection ID, which is not followed: they give header fields only. The
//! session stage (crates/session/src/quic.rs) calls [`fill_initial`] for
//! every Initial, with what its tracker ([`super::quic_initials`]) put
//! together across a connection's Initials.

use super::tls;
use aes::Aes128;
use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes_gcm::Aes128Gcm;
use aes_gcm::aead::AeadInOut;
use hkdf::Hkdf;
use sha2::Sha256;

pub const VERSION_1: u32 = 0x0000_0001;
pub const VERSION_2: u32 = 0x6b33_43cf;

const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f,
    0x0a,
];
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e,
    0xd9,
];
/// Drafts 29 to 32.
const SALT_DRAFT29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8,
    0x99,
];
/// Google QUIC T050 and T051 (IETF packet format with TLS 1.3), as
/// Wireshark decrypts them.
const SALT_T050: [u8; 20] = [
    0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83,
    0x10,
];
const SALT_T051: [u8; 20] = [
    0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03,
    0x3d,
];
/// Drafts 23 to 28.
const SALT_DRAFT23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5,
    0x02,
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum QuicError {
    #[error("truncated Initial header at offset {0}")]
    Truncated(usize),
    #[error("connection ID of {0} bytes (at most 20)")]
    LongConnectionId(usize),
}

/// Salt and label style of a version whose Initials we can decrypt.
fn version_keys(version: u32) -> Option<(&'static [u8; 20], bool)> {
    match version {
        VERSION_1 => Some((&SALT_V1, false)),
        VERSION_2 => Some((&SALT_V2, true)),
        0xff00_001d..=0xff00_0020 => Some((&SALT_DRAFT29, false)),
        0xff00_0017..=0xff00_001c => Some((&SALT_DRAFT23, false)),
        // Facebook's mvfst versions use the draft-27 salt.
        0xface_b002 | 0xface_b00e => Some((&SALT_DRAFT23, false)),
        // "T050", "T051".
        0x5430_3530 => Some((&SALT_T050, false)),
        0x5430_3531 => Some((&SALT_T051, false)),
        _ => None,
    }
}

/// Google QUIC versions with the IETF packet format and TLS ("T050", "T051").
pub fn is_gquic_tls(version: u32) -> bool {
    matches!(version, 0x5430_3530 | 0x5430_3531)
}

/// Packet type bits of an Initial for this version (v2 renumbered them).
fn initial_type(version: u32) -> u8 {
    if version == VERSION_2 { 1 } else { 0 }
}

/// Cheap check: a long-header packet of a known version with Initial type.
/// The fixed bit (0x40) is not checked: peers may grease it (RFC 9287).
pub fn looks_like_initial(p: &[u8]) -> bool {
    if p.len() < 7 || p[0] & 0x80 == 0 {
        return false;
    }
    let version = u32::from_be_bytes([p[1], p[2], p[3], p[4]]);
    version_keys(version).is_some() && (p[0] >> 4) & 3 == initial_type(version)
}

/// The header of an Initial packet, before header protection is removed.
#[derive(Debug, Clone, Copy)]
pub struct Initial<'a> {
    pub version: u32,
    pub dcid: &'a [u8],
    pub scid: &'a [u8],
    pub token_length: u64,
    /// Length field: packet number and payload.
    pub length: u64,
    /// Offset of the (protected) packet number.
    pub pn_offset: usize,
}

fn varint(b: &[u8], at: usize) -> Option<(u64, usize)> {
    let first = *b.get(at)?;
    let len = 1usize << (first >> 6);
    let bytes = b.get(at..at + len)?;
    let mut v = u64::from(first & 0x3f);
    for &x in &bytes[1..] {
        v = (v << 8) | u64::from(x);
    }
    Some((v, at + len))
}

/// Parses the long header of an Initial packet.
pub fn parse(p: &[u8]) -> Result<Initial<'_>, QuicError> {
    let t = QuicError::Truncated;
    let version = super::be32(p, 1).ok_or(t(1))?;
    let dcid_len = usize::from(*p.get(5).ok_or(t(5))?);
    if dcid_len > 20 {
        return Err(QuicError::LongConnectionId(dcid_len));
    }
    let dcid = p.get(6..6 + dcid_len).ok_or(t(6))?;
    let at = 6 + dcid_len;
    let scid_len = usize::from(*p.get(at).ok_or(t(at))?);
    if scid_len > 20 {
        return Err(QuicError::LongConnectionId(scid_len));
    }
    let scid = p.get(at + 1..at + 1 + scid_len).ok_or(t(at + 1))?;
    let at = at + 1 + scid_len;
    let (token_length, at) = varint(p, at).ok_or(t(at))?;
    let at = usize::try_from(token_length).ok().and_then(|n| at.checked_add(n)).ok_or(t(at))?;
    let (length, pn_offset) = varint(p, at).ok_or(t(at))?;
    Ok(Initial { version, dcid, scid, token_length, length, pn_offset })
}

/// HKDF-Expand-Label of TLS 1.3 with an empty context.
fn expand_label(secret: &[u8], label: &[u8], out: &mut [u8]) -> bool {
    let Ok(hk) = Hkdf::<Sha256>::from_prk(secret) else {
        return false;
    };
    let mut info = [0u8; 64];
    let full_len = 6 + label.len();
    info[..2].copy_from_slice(&(out.len() as u16).to_be_bytes());
    info[2] = full_len as u8;
    info[3..9].copy_from_slice(b"tls13 ");
    info[9..9 + label.len()].copy_from_slice(label);
    info[9 + label.len()] = 0;
    hk.expand(&info[..10 + label.len()], out).is_ok()
}

/// Client Initial keys: AEAD key, IV, header protection key.
pub struct Keys {
    key: [u8; 16],
    iv: [u8; 12],
    hp: [u8; 16],
}

pub fn client_keys(version: u32, dcid: &[u8]) -> Option<Keys> {
    let (salt, v2) = version_keys(version)?;
    let (initial, _) = Hkdf::<Sha256>::extract(Some(salt), dcid);
    let mut client = [0u8; 32];
    if !expand_label(&initial, b"client in", &mut client) {
        return None;
    }
    let mut keys = Keys { key: [0; 16], iv: [0; 12], hp: [0; 16] };
    let (lk, li, lh): (&[u8], &[u8], &[u8]) =
        if v2 { (b"quicv2 key", b"quicv2 iv", b"quicv2 hp") } else { (b"quic key", b"quic iv", b"quic hp") };
    let ok = expand_label(&client, lk, &mut keys.key)
        && expand_label(&client, li, &mut keys.iv)
        && expand_label(&client, lh, &mut keys.hp);
    ok.then_some(keys)
}

/// Removes header protection and decrypts the payload into `out`; returns
/// the packet number. `None` if the packet is short or the tag does not
/// verify (a server Initial, or not QUIC).
pub fn decrypt(p: &[u8], h: &Initial<'_>, keys: &Keys, out: &mut Vec<u8>, header: &mut Vec<u8>) -> Option<u64> {
    let end = h.pn_offset.checked_add(usize::try_from(h.length).ok()?)?;
    if end > p.len() || h.length < 20 {
        return None;
    }
    let sample = p.get(h.pn_offset + 4..h.pn_offset + 20)?;
    let hp = Aes128::new_from_slice(&keys.hp).ok()?;
    let mut mask = aes::Block::default();
    mask.copy_from_slice(sample);
    hp.encrypt_block(&mut mask);
    let first = p[0] ^ (mask[0] & 0x0f);
    let pn_len = usize::from(first & 3) + 1;
    // The header with protection removed is the AEAD's associated data (it
    // holds the token, so it has no small bound).
    let header_len = h.pn_offset + pn_len;
    header.clear();
    header.extend_from_slice(p.get(..header_len)?);
    let header_bytes = header.as_mut_slice();
    header_bytes[0] = first;
    let mut pn = 0u64;
    for i in 0..pn_len {
        header_bytes[h.pn_offset + i] ^= mask[1 + i];
        pn = (pn << 8) | u64::from(header_bytes[h.pn_offset + i]);
    }
    let body = p.get(header_len..end)?;
    let (ciphertext, tag) = body.split_at(body.len().checked_sub(16)?);
    let mut nonce = keys.iv;
    for (i, b) in pn.to_be_bytes().iter().enumerate() {
        nonce[4 + i] ^= b;
    }
    let aead = Aes128Gcm::new_from_slice(&keys.key).ok()?;
    out.clear();
    out.extend_from_slice(ciphertext);
    let tag = aes_gcm::Tag::try_from(tag).ok()?;
    aead.decrypt_inout_detached(&nonce.into(), header_bytes, out.as_mut_slice().into(), &tag).ok()?;
    Some(pn)
}

/// Frame types of a decrypted payload, and the CRYPTO data put together
/// from offset 0 as far as it is contiguous. Google QUIC T05x
/// (`stream_crypto`) numbers the CRYPTO frame 0x08, IETF's first STREAM type.
pub fn frames(
    payload: &[u8],
    types: &mut Vec<u32>,
    crypto: &mut Vec<u8>,
    spans: &mut Vec<(u64, usize, usize)>,
    stream_crypto: bool,
) {
    types.clear();
    crypto.clear();
    spans.clear();
    let mut at = 0;
    while at < payload.len() {
        let Some((kind, next)) = varint(payload, at) else { break };
        if types.last() != Some(&0) || kind != 0 {
            types.push(kind as u32);
        }
        at = next;
        match kind {
            0x00 | 0x01 => {}
            // ACK (with ECN counts for 0x03).
            0x02 | 0x03 => {
                let mut fields = 4;
                let mut ok = true;
                let mut ranges = 0;
                for i in 0..fields {
                    match varint(payload, at) {
                        Some((v, n)) => {
                            if i == 2 {
                                ranges = v;
                            }
                            at = n;
                        }
                        None => ok = false,
                    }
                }
                fields = usize::try_from(ranges.saturating_mul(2)).unwrap_or(usize::MAX).min(payload.len());
                if kind == 0x03 {
                    fields += 3;
                }
                for _ in 0..fields {
                    match varint(payload, at) {
                        Some((_, n)) => at = n,
                        None => ok = false,
                    }
                }
                if !ok {
                    break;
                }
            }
            // CRYPTO; Google's T05x number it 0x08.
            0x06 | 0x08 if kind == 0x06 || stream_crypto => {
                let Some((offset, n)) = varint(payload, at) else { break };
                let Some((len, n)) = varint(payload, n) else { break };
                let Some(end) = usize::try_from(len).ok().and_then(|l| n.checked_add(l)) else { break };
                if end > payload.len() {
                    break;
                }
                spans.push((offset, n, end));
                at = end;
            }
            // CONNECTION_CLOSE: error code, (frame type,) reason phrase.
            0x1c | 0x1d => {
                let Some((_, n)) = varint(payload, at) else { break };
                let mut n = n;
                if kind == 0x1c {
                    let Some((_, m)) = varint(payload, n) else { break };
                    n = m;
                }
                let Some((len, m)) = varint(payload, n) else { break };
                at = m.saturating_add(usize::try_from(len).unwrap_or(usize::MAX));
            }
            // Anything else is not allowed in an Initial: stop.
            _ => break,
        }
    }
    // Put the CRYPTO data together from offset 0.
    spans.sort_unstable_by_key(|s| s.0);
    for &(offset, start, end) in spans.iter() {
        let have = crypto.len() as u64;
        if offset > have {
            break;
        }
        let skip = usize::try_from(have - offset).unwrap_or(usize::MAX);
        if let Some(data) = payload.get(start..end).and_then(|d| d.get(skip..)) {
            crypto.extend_from_slice(data);
        }
    }
}

/// Reusable buffers of the decryption.
#[derive(Default)]
pub struct Work {
    plain: Vec<u8>,
    header: Vec<u8>,
    crypto: Vec<u8>,
    spans: Vec<(u64, usize, usize)>,
}

/// Fills a QUICInitial record's QUIC fields (everything but its packet
/// stamp) from one datagram's Initial: its header, and for a client
/// Initial the decrypted frames and the ClientHello they complete.
/// `attachment`: what the session stage's tracker put together across
/// Initials for this packet (the connection's key ID, and a ClientHello
/// spread over several Initials), used when the packet alone does not give
/// them.
pub fn fill_initial(
    r: &mut netcap_records::QuicInitial,
    work: &mut Work,
    tls_work: &mut tls::Work,
    payload: &[u8],
    attachment: Option<super::quic_initials::Attachment<'_>>,
) -> Result<(), QuicError> {
    let h = parse(payload)?;
    r.version = h.version;
    crate::set_bytes(&mut r.dcid, h.dcid);
    crate::set_bytes(&mut r.scid, h.scid);
    r.token_length = u32::try_from(h.token_length).unwrap_or(u32::MAX);
    r.length = u32::try_from(h.length).unwrap_or(u32::MAX);
    r.decrypted = false;
    r.packet_number = 0;
    r.frame_types.clear();
    r.client_hello = false;
    r.sni.clear();
    r.alpn.clear();
    r.cipher_suites.clear();
    r.extensions.clear();
    r.supported_groups.clear();
    r.supported_versions.clear();
    r.ja4.clear();
    r.ja4_r.clear();
    r.ja3.clear();
    r.ja3_hash.clear();
    r.client_hello_reassembled = false;
    let mut pn =
        client_keys(h.version, h.dcid).and_then(|k| decrypt(payload, &h, &k, &mut work.plain, &mut work.header));
    if let Some(a) = attachment.filter(|a| pn.is_none() && a.key_dcid != h.dcid) {
        pn = client_keys(h.version, a.key_dcid)
            .and_then(|k| decrypt(payload, &h, &k, &mut work.plain, &mut work.header));
    }
    if let Some(pn) = pn {
        r.decrypted = true;
        r.packet_number = pn;
        frames(&work.plain, &mut r.frame_types, &mut work.crypto, &mut work.spans, is_gquic_tls(h.version));
        let c = &work.crypto;
        if c.first() == Some(&1) && c.len() >= 4 {
            let len = u32::from_be_bytes([0, c[1], c[2], c[3]]) as usize;
            if let Some(message) = c.get(..4 + len) {
                tls::quic_client_hello(r, tls_work, message);
            }
        }
    }
    // The ClientHello the tracker put together for this packet.
    if let Some(a) = attachment.filter(|_| !r.client_hello) {
        r.client_hello_reassembled = tls::quic_client_hello(r, tls_work, a.client_hello);
    }
    Ok(())
}

/// Parses and (for client Initials) decrypts a datagram: the fuzz entry point.
pub fn parse_all(p: &[u8]) -> Option<usize> {
    let h = parse(p).ok()?;
    let keys = client_keys(h.version, h.dcid)?;
    let (mut plain, mut header) = (Vec::new(), Vec::new());
    decrypt(p, &h, &keys, &mut plain, &mut header)?;
    let (mut types, mut crypto, mut spans) = (Vec::new(), Vec::new(), Vec::new());
    frames(&plain, &mut types, &mut crypto, &mut spans, is_gquic_tls(h.version));
    Some(types.len() + crypto.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::push_hex;

    /// RFC 9001 appendix A.1: keys for DCID 0x8394c8f03e515708.
    #[test]
    fn rfc9001_client_keys() {
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let k = client_keys(VERSION_1, &dcid).unwrap();
        let mut s = String::new();
        push_hex(&mut s, &k.key);
        assert_eq!(s, "1f369613dd76d5467730efcbe3b1a22d");
        s.clear();
        push_hex(&mut s, &k.iv);
        assert_eq!(s, "fa044b2f42a3fd3b46fb255c");
        s.clear();
        push_hex(&mut s, &k.hp);
        assert_eq!(s, "9f50449e04a0e810283a1e9933adedd2");
    }

    /// RFC 9369 appendix A.1: v2 keys for the same DCID.
    #[test]
    fn rfc9369_client_keys() {
        let dcid = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];
        let k = client_keys(VERSION_2, &dcid).unwrap();
        let mut s = String::new();
        push_hex(&mut s, &k.key);
        assert_eq!(s, "8b1a0bc121284290a29e0971b5cd045d");
    }
}
