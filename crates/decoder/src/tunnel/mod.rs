//! Tunnels: GRE (with ERSPAN), VXLAN, Geneve and Teredo. Each writes its own
//! record, then decodes the packet it carries with the same decoders, inside
//! [`PacketContext::inner`](crate::PacketContext), so that the inner records
//! carry a `Tunnel`. IP-in-IP is dispatched from the IP protocol number, MPLS
//! and PPPoE from the EtherType (crate::l2).

pub mod geneve;
pub mod gre;
pub mod vxlan;

use crate::{PacketContext, network};

/// Reused tunnel records.
#[derive(Default)]
pub(crate) struct Scratch {
    pub gre: netcap_records::Gre,
    pub erspan: netcap_records::Erspan,
    pub vxlan: netcap_records::Vxlan,
    pub geneve: netcap_records::Geneve,
}

pub const PORT_VXLAN: u16 = 4789;
pub const PORT_VXLAN_GPE: u16 = 4790;
pub const PORT_GENEVE: u16 = 6081;
/// GRE-in-UDP (RFC 8086).
pub const PORT_GRE_IN_UDP: u16 = 4754;
pub const PORT_TEREDO: u16 = 3544;

/// Protocols found by UDP port: the UDP payload starts at `offset` and runs
/// to the end of `data`. False if the ports are none of them.
pub(crate) fn by_udp_port(cx: &mut PacketContext<'_>, data: &[u8], offset: usize, src: u16, dst: u16) -> bool {
    let either = |port: u16| src == port || dst == port;
    if either(PORT_VXLAN) {
        vxlan::decode(cx, data, offset, false);
    } else if either(PORT_VXLAN_GPE) {
        vxlan::decode(cx, data, offset, true);
    } else if either(PORT_GENEVE) {
        geneve::decode(cx, data, offset);
    } else if either(crate::net::bfd::PORT_CONTROL) || either(crate::net::bfd::PORT_MULTIHOP) {
        crate::net::bfd::decode(cx, data.get(offset..).unwrap_or_default(), offset);
    } else if either(PORT_GRE_IN_UDP) {
        gre::decode(cx, data, offset);
    } else if either(PORT_TEREDO) {
        teredo(cx, data, offset);
    } else {
        return false;
    }
    true
}

/// Teredo (RFC 4380): IPv6 in UDP, after optional authentication and
/// origin-indication headers. Only payloads that are IPv6 are decoded.
fn teredo(cx: &mut PacketContext<'_>, data: &[u8], mut offset: usize) {
    let be16 = |at: usize| data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    // Authentication indicator: 0x0001, id length, auth length, id, auth, nonce (8), confirmation (1).
    if be16(offset) == Some(1) {
        let (Some(&id_len), Some(&auth_len)) = (data.get(offset + 2), data.get(offset + 3)) else {
            return;
        };
        offset += 4 + usize::from(id_len) + usize::from(auth_len) + 9;
    }
    // Origin indication: 0x0000, port and address (8 bytes in all).
    if be16(offset) == Some(0) {
        offset += 8;
    }
    let is_ipv6 = data.get(offset).is_some_and(|b| b >> 4 == 6) && data.len() >= offset + 40;
    if is_ipv6 {
        cx.inner("teredo", 0, offset, |cx| network::ipv6(cx, data, offset));
    }
}
