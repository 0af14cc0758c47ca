//! IPsec Authentication Header (RFC 4302) and ESP (RFC 4303).

use crate::wire::{Result, be32, bytes, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

pub const IP_AH: u8 = 51;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthHeader<'a> {
    pub next_header: u8,
    /// Length in bytes.
    pub length: usize,
    pub spi: u32,
    pub sequence: u32,
    pub icv: &'a [u8],
}

pub fn parse_ah(data: &[u8]) -> Result<AuthHeader<'_>> {
    const SHORT: &str = "authentication header truncated";
    let length = (usize::from(u8_at(data, 1, SHORT)?) + 2) * 4;
    Ok(AuthHeader {
        next_header: u8_at(data, 0, SHORT)?,
        length,
        spi: be32(data, 4, SHORT)?,
        sequence: be32(data, 8, SHORT)?,
        icv: bytes(data, 12, length.saturating_sub(12), SHORT)?,
    })
}

/// The AH at `offset` (data runs to the end of the IP payload).
pub(crate) fn ah(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse_ah(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Ah, offset, e),
    };
    emit!(cx, RecordType::Ipsecah, net.ah, addressed, |r| {
        r.next_header = u32::from(h.next_header);
        r.length = h.length as u32;
        r.spi = h.spi;
        r.sequence = h.sequence;
        crate::set_bytes(&mut r.icv, h.icv);
    });
}

/// ESP's clear-text header: SPI and sequence number.
pub fn parse_esp(data: &[u8]) -> Result<(u32, u32)> {
    const SHORT: &str = "ESP header truncated";
    Ok((be32(data, 0, SHORT)?, be32(data, 4, SHORT)?))
}

pub(crate) fn esp(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let (spi, sequence) = match parse_esp(data) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Esp, offset, e),
    };
    emit!(cx, RecordType::Ipsecesp, net.esp, addressed, |r| {
        r.spi = spi;
        r.sequence = sequence;
        r.payload_length = (data.len() - 8) as u32;
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn ah_lengths() {
        let data = [6, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        let h = super::parse_ah(&data).unwrap();
        assert_eq!((h.next_header, h.length, h.spi, h.sequence, h.icv.len()), (6, 24, 256, 9, 12));
        assert!(super::parse_ah(&data[..20]).is_err());
        assert_eq!(super::parse_esp(&[0, 0, 0, 1, 0, 0, 0, 2]), Ok((1, 2)));
    }
}
