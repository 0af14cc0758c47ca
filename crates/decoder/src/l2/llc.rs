//! IEEE 802.2 LLC, SNAP, and the spanning tree BPDUs they carry.

use crate::wire::{Result, be16, be24, be32, bytes, u8_at};
use crate::{Layer, PacketContext, emit, link};
use netcap_records::RecordType;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LlcHeader {
    pub dsap: u8,
    pub ssap: u8,
    pub control: u16,
    pub header_len: usize,
}

pub fn parse(data: &[u8]) -> Result<LlcHeader> {
    const SHORT: &str = "LLC header truncated";
    let dsap = u8_at(data, 0, SHORT)?;
    let ssap = u8_at(data, 1, SHORT)?;
    let first = u8_at(data, 2, SHORT)?;
    // Unnumbered frames have a 1-byte control field; I and S frames 2 bytes,
    // the first byte low (as Wireshark shows it).
    let (control, header_len) =
        if first & 3 == 3 { (u16::from(first), 3) } else { (u16::from_le_bytes([first, u8_at(data, 3, SHORT)?]), 4) };
    Ok(LlcHeader { dsap, ssap, control, header_len })
}

/// SNAP: OUI and protocol ID.
pub fn parse_snap(data: &[u8]) -> Result<(u32, u16)> {
    const SHORT: &str = "SNAP header truncated";
    Ok((be24(data, 0, SHORT)?, be16(data, 3, SHORT)?))
}

const SAP_STP: u8 = 0x42;
const SAP_SNAP: u8 = 0xaa;
const OUI_CISCO: u32 = 0x00000c;
const PID_CDP: u16 = 0x2000;
/// Cisco's per-VLAN spanning tree: a BPDU after SNAP.
const PID_PVST: u16 = 0x010b;

/// LLC at `offset` to the end of `data`, then SNAP, STP, CDP or the
/// EtherType SNAP names.
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let llc = match parse(data.get(offset..).unwrap_or_default()) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Llc, offset, e),
    };
    emit!(cx, RecordType::Llc, l2.llc, |r| {
        r.dsap = u32::from(llc.dsap);
        r.ssap = u32::from(llc.ssap);
        r.control = u32::from(llc.control);
    });
    let next = offset + llc.header_len;
    match (llc.dsap, llc.ssap) {
        (SAP_STP, SAP_STP) => stp(cx, data, next),
        (SAP_SNAP, SAP_SNAP) => {
            let (oui, pid) = match parse_snap(data.get(next..).unwrap_or_default()) {
                Ok(s) => s,
                Err(e) => return cx.error(Layer::Llc, next, e),
            };
            emit!(cx, RecordType::Snap, l2.snap, |r| {
                r.oui = oui;
                r.protocol_id = u32::from(pid);
            });
            let payload = next + 5;
            match (oui, pid) {
                (0, ether_type) => link::by_ether_type(cx, data, ether_type, payload),
                (OUI_CISCO, PID_CDP) => super::cdp::decode(cx, data, payload),
                (OUI_CISCO, PID_PVST) => stp(cx, data, payload),
                _ => {}
            }
        }
        _ => {}
    }
}

/// A spanning tree BPDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bpdu {
    pub protocol_id: u16,
    pub version: u8,
    pub bpdu_type: u8,
    /// Configuration and RST/MST BPDUs only (a topology change notification has none).
    pub config: Option<BpduConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BpduConfig {
    pub flags: u8,
    pub root_id: [u8; 8],
    pub root_path_cost: u32,
    pub bridge_id: [u8; 8],
    pub port_id: u16,
    pub message_age: u16,
    pub max_age: u16,
    pub hello_time: u16,
    pub forward_delay: u16,
}

const BPDU_TCN: u8 = 0x80;

pub fn parse_bpdu(data: &[u8]) -> Result<Bpdu> {
    const SHORT: &str = "BPDU truncated";
    let protocol_id = be16(data, 0, SHORT)?;
    let version = u8_at(data, 2, SHORT)?;
    let bpdu_type = u8_at(data, 3, SHORT)?;
    let config = if bpdu_type == BPDU_TCN {
        None
    } else {
        let id = |at| -> Result<[u8; 8]> { Ok(bytes(data, at, 8, SHORT)?.try_into().unwrap_or_default()) };
        Some(BpduConfig {
            flags: u8_at(data, 4, SHORT)?,
            root_id: id(5)?,
            root_path_cost: be32(data, 13, SHORT)?,
            bridge_id: id(17)?,
            port_id: be16(data, 25, SHORT)?,
            message_age: be16(data, 27, SHORT)?,
            max_age: be16(data, 29, SHORT)?,
            hello_time: be16(data, 31, SHORT)?,
            forward_delay: be16(data, 33, SHORT)?,
        })
    };
    Ok(Bpdu { protocol_id, version, bpdu_type, config })
}

/// Priority, system ID extension and MAC of an 8-byte bridge identifier.
fn bridge_id(id: &[u8; 8]) -> (u32, u32, &[u8]) {
    let word = u32::from(u16::from_be_bytes([id[0], id[1]]));
    (word & 0xf000, word & 0x0fff, &id[2..])
}

fn stp(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let bpdu = match parse_bpdu(data.get(offset..).unwrap_or_default()) {
        Ok(b) => b,
        Err(e) => return cx.error(Layer::Stp, offset, e),
    };
    emit!(cx, RecordType::Stp, l2.stp, |r| {
        r.protocol_id = u32::from(bpdu.protocol_id);
        r.version = u32::from(bpdu.version);
        r.bpdu_type = u32::from(bpdu.bpdu_type);
        let c = bpdu.config.unwrap_or(BpduConfig {
            flags: 0,
            root_id: [0; 8],
            root_path_cost: 0,
            bridge_id: [0; 8],
            port_id: 0,
            message_age: 0,
            max_age: 0,
            hello_time: 0,
            forward_delay: 0,
        });
        let (root_priority, root_extension, root_mac) = bridge_id(&c.root_id);
        r.root_priority = root_priority;
        r.root_system_id_extension = root_extension;
        let (bridge_priority, bridge_extension, bridge_mac) = bridge_id(&c.bridge_id);
        r.bridge_priority = bridge_priority;
        r.bridge_system_id_extension = bridge_extension;
        r.root_mac.clear();
        r.bridge_mac.clear();
        if bpdu.config.is_some() {
            r.root_mac.extend_from_slice(root_mac);
            r.bridge_mac.extend_from_slice(bridge_mac);
        }
        r.flags = u32::from(c.flags);
        r.root_path_cost = c.root_path_cost;
        r.port_id = u32::from(c.port_id);
        r.message_age = u32::from(c.message_age);
        r.max_age = u32::from(c.max_age);
        r.hello_time = u32::from(c.hello_time);
        r.forward_delay = u32::from(c.forward_delay);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llc_control_lengths() {
        assert_eq!(parse(&[0x42, 0x42, 0x03]).unwrap().header_len, 3);
        assert_eq!(parse(&[0xf0, 0xf0, 0x00, 0x01]).unwrap().control, 0x100);
        assert!(parse(&[0x42, 0x42]).is_err());
    }

    #[test]
    fn bridge_id_parts() {
        let id = [0x80, 0x01, 0, 0x11, 0x22, 0x33, 0x44, 0x55];
        assert_eq!(bridge_id(&id), (32768, 1, &id[2..]));
        assert!(parse_bpdu(&[0, 0, 0, 0x80]).unwrap().config.is_none());
        assert!(parse_bpdu(&[0, 0, 0, 0, 1]).is_err());
    }
}
