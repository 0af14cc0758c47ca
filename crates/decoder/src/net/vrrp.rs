//! VRRP advertisements, version 2 (RFC 3768) and 3 (RFC 5798).

use crate::wire::{Malformed, Result, be16, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VrrpHeader<'a> {
    pub version: u8,
    pub kind: u8,
    pub virtual_router_id: u8,
    pub priority: u8,
    pub address_count: u8,
    pub auth_type: u8,
    pub advertisement_interval: u16,
    pub checksum: u16,
    pub addresses: &'a [u8],
}

/// Parses a VRRP packet; `ipv6` decides the address size of version 3.
pub fn parse(data: &[u8], ipv6: bool) -> Result<VrrpHeader<'_>> {
    const SHORT: &str = "VRRP packet truncated";
    let vt = u8_at(data, 0, SHORT)?;
    let version = vt >> 4;
    let count = u8_at(data, 3, SHORT)?;
    let (auth_type, interval) = match version {
        2 => (u8_at(data, 4, SHORT)?, u16::from(u8_at(data, 5, SHORT)?)),
        3 => (0, be16(data, 4, SHORT)? & 0x0fff),
        _ => return Err(Malformed("VRRP version other than 2 or 3")),
    };
    let size = if ipv6 && version == 3 { 16 } else { 4 };
    Ok(VrrpHeader {
        version,
        kind: vt & 0xf,
        virtual_router_id: u8_at(data, 1, SHORT)?,
        priority: u8_at(data, 2, SHORT)?,
        address_count: count,
        auth_type,
        advertisement_interval: interval,
        checksum: be16(data, 6, SHORT)?,
        addresses: crate::wire::bytes(data, 8, usize::from(count) * size, "VRRP addresses truncated")?,
    })
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let ipv6 = cx.scratch.src_ip.len() == 16;
    let h = match parse(data, ipv6) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Vrrp, offset, e),
    };
    emit!(cx, RecordType::Vrrp, net.vrrp, addressed, |r| {
        r.version = u32::from(h.version);
        r.r#type = u32::from(h.kind);
        r.virtual_router_id = u32::from(h.virtual_router_id);
        r.priority = u32::from(h.priority);
        r.address_count = u32::from(h.address_count);
        r.auth_type = u32::from(h.auth_type);
        r.advertisement_interval = u32::from(h.advertisement_interval);
        r.checksum = u32::from(h.checksum);
        let size = if ipv6 && h.version == 3 { 16 } else { 4 };
        crate::wire::set_bytes_list(&mut r.virtual_ips, h.addresses.chunks_exact(size));
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn v2_and_v3() {
        let v2 = [0x21, 1, 100, 1, 0, 1, 0xab, 0xcd, 10, 0, 0, 1];
        let h = super::parse(&v2, false).unwrap();
        assert_eq!((h.version, h.virtual_router_id, h.priority, h.advertisement_interval), (2, 1, 100, 1));
        assert!(super::parse(&v2[..10], false).is_err());
        let v3 = [0x31, 2, 255, 1, 0, 100, 0, 0, 10, 0, 0, 1];
        assert_eq!(super::parse(&v3, false).unwrap().advertisement_interval, 100);
    }
}
