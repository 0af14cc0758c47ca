//! VXLAN (RFC 7348, group policy extension draft-smith-vxlan-group-policy).

use crate::wire::{Result, be16, be24, u8_at};
use crate::{Layer, PacketContext, emit, link};
use netcap_records::RecordType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VxlanHeader {
    pub flags: u8,
    pub vni: u32,
    pub group_policy_id: u16,
}

pub const HEADER_LEN: usize = 8;

pub fn parse(data: &[u8]) -> Result<VxlanHeader> {
    const SHORT: &str = "VXLAN header truncated";
    let flags = u8_at(data, 0, SHORT)?;
    let vni = be24(data, 4, SHORT)?;
    // The G bit says bytes 2-3 are a group policy ID (not in VXLAN-GPE,
    // whose byte 3 is the next protocol).
    let group_policy_id = if flags & 0x80 != 0 && flags & 0x04 == 0 { be16(data, 2, SHORT)? } else { 0 };
    Ok(VxlanHeader { flags, vni, group_policy_id })
}

/// VXLAN (`gpe` false: Ethernet inside) or VXLAN-GPE (its next-protocol
/// byte says what is inside: 1 IPv4, 2 IPv6, 3 Ethernet).
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize, gpe: bool) {
    let h = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Vxlan, offset, e),
    };
    emit!(cx, RecordType::Vxlan, tunnels.vxlan, addressed, |r| {
        r.flags = u32::from(h.flags);
        r.vni = h.vni;
        r.group_policy_id = u32::from(h.group_policy_id);
    });
    let inner = offset + HEADER_LEN;
    let next = if gpe { data.get(offset + 3).copied().unwrap_or(0) } else { 3 };
    match next {
        1 => cx.inner("vxlan", h.vni, inner, |cx| crate::network::ipv4(cx, data, inner)),
        2 => cx.inner("vxlan", h.vni, inner, |cx| crate::network::ipv6(cx, data, inner)),
        3 => cx.inner("vxlan", h.vni, inner, |cx| link::ethernet(cx, data, inner)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn vni() {
        let h = super::parse(&[0x08, 0, 0, 0, 0, 0x12, 0x34, 0]).unwrap();
        assert_eq!((h.flags, h.vni, h.group_policy_id), (8, 0x1234, 0));
        assert!(super::parse(&[0x08, 0, 0]).is_err());
    }
}
