//! Geneve (RFC 8926).

use crate::wire::{Malformed, Result, be16, be24, u8_at};
use crate::{Layer, PacketContext, emit, link};
use netcap_records::{GeneveOption, RecordType};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneveHeader<'a> {
    pub version: u8,
    pub oam: bool,
    pub critical: bool,
    pub protocol: u16,
    pub vni: u32,
    /// The option bytes.
    pub options: &'a [u8],
}

impl GeneveHeader<'_> {
    pub fn header_len(&self) -> usize {
        8 + self.options.len()
    }

    /// (class, type, data length) of each option; stops at a truncated one.
    pub fn option_iter(&self) -> impl Iterator<Item = (u16, u8, usize)> + '_ {
        let mut rest = self.options;
        std::iter::from_fn(move || {
            let class = be16(rest, 0, "").ok()?;
            let kind = u8_at(rest, 2, "").ok()?;
            let len = usize::from(u8_at(rest, 3, "").ok()? & 0x1f) * 4;
            rest = rest.get(4 + len..)?;
            Some((class, kind, len))
        })
    }
}

pub fn parse(data: &[u8]) -> Result<GeneveHeader<'_>> {
    const SHORT: &str = "Geneve header truncated";
    let b0 = u8_at(data, 0, SHORT)?;
    let b1 = u8_at(data, 1, SHORT)?;
    let version = b0 >> 6;
    if version != 0 {
        return Err(Malformed("Geneve version other than 0"));
    }
    let options_len = usize::from(b0 & 0x3f) * 4;
    let options = data.get(8..8 + options_len).ok_or(Malformed("Geneve options truncated"))?;
    Ok(GeneveHeader {
        version,
        oam: b1 & 0x80 != 0,
        critical: b1 & 0x40 != 0,
        protocol: be16(data, 2, SHORT)?,
        vni: be24(data, 4, SHORT)?,
        options,
    })
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Geneve, offset, e),
    };
    emit!(cx, RecordType::Geneve, tunnels.geneve, addressed, |r| {
        r.version = u32::from(h.version);
        r.options_length = h.options.len() as u32;
        r.oam = h.oam;
        r.critical = h.critical;
        r.protocol = u32::from(h.protocol);
        r.vni = h.vni;
        r.options.clear();
        r.options.extend(h.option_iter().map(|(class, kind, len)| GeneveOption {
            class: u32::from(class),
            r#type: u32::from(kind),
            length: len as u32,
        }));
    });
    let inner = offset + h.header_len();
    cx.inner("geneve", h.vni, inner, |cx| link::by_ether_type(cx, data, h.protocol, inner));
}

#[cfg(test)]
mod tests {
    #[test]
    fn options_and_vni() {
        let data = [0x02, 0x40, 0x65, 0x58, 0, 0, 7, 0, 0x01, 0x02, 0x03, 0x01, 1, 2, 3, 4];
        let h = super::parse(&data).unwrap();
        assert_eq!((h.vni, h.protocol, h.critical, h.header_len()), (7, 0x6558, true, 16));
        assert_eq!(h.option_iter().collect::<Vec<_>>(), vec![(0x0102, 3, 4)]);
        assert!(super::parse(&data[..12]).is_err());
    }
}
