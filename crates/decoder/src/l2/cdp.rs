//! Cisco Discovery Protocol (after LLC/SNAP with Cisco's OUI and PID 0x2000).

use crate::wire::{Malformed, Result, be16, be32, u8_at, write_text};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CdpHeader<'a> {
    pub version: u8,
    pub ttl: u8,
    pub checksum: u16,
    pub tlvs: &'a [u8],
}

pub fn parse(data: &[u8]) -> Result<CdpHeader<'_>> {
    const SHORT: &str = "CDP header truncated";
    Ok(CdpHeader {
        version: u8_at(data, 0, SHORT)?,
        ttl: u8_at(data, 1, SHORT)?,
        checksum: be16(data, 2, SHORT)?,
        tlvs: &data[4..],
    })
}

/// TLVs as (type, value); the length field counts the 4-byte TLV header.
pub fn tlvs(data: &[u8]) -> impl Iterator<Item = Result<(u16, &[u8])>> + '_ {
    let mut rest = data;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let parsed = (|| {
            let kind = be16(rest, 0, "CDP TLV header truncated")?;
            let len = usize::from(be16(rest, 2, "CDP TLV header truncated")?);
            let value = rest.get(4..len.max(4)).ok_or(Malformed("CDP TLV truncated"))?;
            if len < 4 {
                return Err(Malformed("CDP TLV length below 4"));
            }
            Ok((kind, value, len))
        })();
        match parsed {
            Ok((kind, value, len)) => {
                rest = &rest[len..];
                Some(Ok((kind, value)))
            }
            Err(e) => {
                rest = &[];
                Some(Err(e))
            }
        }
    })
}

/// Addresses of an Addresses TLV, as on the wire (4 bytes for IPv4).
fn addresses(value: &[u8], out: &mut Vec<Vec<u8>>) -> Result<()> {
    const SHORT: &str = "CDP address truncated";
    let count = be32(value, 0, SHORT)?;
    let mut at = 4;
    for _ in 0..count.min(64) {
        let proto_len = usize::from(u8_at(value, at + 1, SHORT)?);
        at += 2 + proto_len;
        let len = usize::from(be16(value, at, SHORT)?);
        let addr = crate::wire::bytes(value, at + 2, len, SHORT)?;
        out.push(addr.to_vec());
        at += 2 + len;
    }
    Ok(())
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Cdp, offset, e),
    };
    let mut error = None;
    emit!(cx, RecordType::Cdp, l2.cdp, |r| {
        r.version = u32::from(h.version);
        r.ttl = u32::from(h.ttl);
        r.checksum = u32::from(h.checksum);
        r.device_id.clear();
        r.device_ips.clear();
        r.port_id.clear();
        r.capabilities = 0;
        r.software_version.clear();
        r.platform.clear();
        r.vtp_domain.clear();
        r.native_vlan = 0;
        r.duplex = None;
        r.tlv_types.clear();
        for tlv in tlvs(h.tlvs) {
            let (kind, value) = match tlv {
                Ok(t) => t,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            r.tlv_types.push(u32::from(kind));
            match kind {
                0x01 => write_text(&mut r.device_id, value),
                0x02 => {
                    if let Err(e) = addresses(value, &mut r.device_ips) {
                        error = Some(e);
                    }
                }
                0x03 => write_text(&mut r.port_id, value),
                0x04 => r.capabilities = be32(value, 0, "").unwrap_or(0),
                0x05 => write_text(&mut r.software_version, value),
                0x06 => write_text(&mut r.platform, value),
                0x09 => write_text(&mut r.vtp_domain, value),
                0x0a => r.native_vlan = u32::from(be16(value, 0, "").unwrap_or(0)),
                0x0b => r.duplex = value.first().map(|&d| u32::from(d)),
                _ => {}
            }
        }
    });
    if let Some(e) = error {
        cx.error(Layer::Cdp, offset, e);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tlvs_and_truncation() {
        let data = [0, 1, 0, 6, b'r', b'1', 0, 0x0a, 0, 6, 0, 10];
        let t: Vec<_> = super::tlvs(&data).collect();
        assert_eq!(t, vec![Ok((1, &b"r1"[..])), Ok((10, &[0u8, 10][..]))]);
        assert!(super::tlvs(&[0, 1, 0, 9, 1]).next().unwrap().is_err());
        assert!(super::tlvs(&[0, 1, 0, 2]).next().unwrap().is_err());
    }
}
