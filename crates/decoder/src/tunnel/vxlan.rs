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
    // The G bit says bytes 2-3 are a group policy ID.
    let group_policy_id = if flags & 0x80 != 0 { be16(data, 2, SHORT)? } else { 0 };
    Ok(VxlanHeader { flags, vni, group_policy_id })
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
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
    cx.inner("vxlan", h.vni, inner, |cx| link::ethernet(cx, data, inner));
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
