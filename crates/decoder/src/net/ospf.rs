//! OSPFv2 (RFC 2328) and OSPFv3 (RFC 5340): the common header and the
//! hello and link-state update bodies.

use crate::set_bytes;
use crate::wire::{Malformed, Result, be16, be24, be32, bytes, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

const HELLO: u8 = 1;
const LS_UPDATE: u8 = 4;

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    if let Err(e) = fill(cx, data) {
        cx.error(Layer::Ospf, offset, e);
    }
}

fn fill(cx: &mut PacketContext<'_>, data: &[u8]) -> Result<()> {
    const SHORT: &str = "OSPF packet truncated";
    let version = u8_at(data, 0, SHORT)?;
    let header_len = match version {
        2 => 24,
        3 => 16,
        _ => return Err(Malformed("OSPF version other than 2 or 3")),
    };
    bytes(data, 0, header_len, SHORT)?;
    let kind = data[1];
    let length = usize::from(be16(data, 2, SHORT)?);
    let body = data.get(header_len..length.clamp(header_len, data.len())).unwrap_or_default();
    let mut result = Ok(());
    emit!(cx, RecordType::Ospf, net.ospf, addressed, |r| {
        r.version = u32::from(version);
        r.r#type = u32::from(kind);
        r.length = length as u32;
        set_bytes(&mut r.router_id_ip, &data[4..8]);
        set_bytes(&mut r.area_id_ip, &data[8..12]);
        r.checksum = u32::from(u16::from_be_bytes([data[12], data[13]]));
        r.auth_type = if version == 2 { u32::from(u16::from_be_bytes([data[14], data[15]])) } else { 0 };
        r.instance_id = if version == 3 { u32::from(data[14]) } else { 0 };
        r.network_mask_ip.clear();
        r.hello_interval = 0;
        r.options = 0;
        r.router_priority = 0;
        r.dead_interval = 0;
        r.designated_router_ip.clear();
        r.backup_designated_router_ip.clear();
        r.neighbor_ips.clear();
        r.lsa_count = 0;
        result = (|| {
            match (kind, version) {
                (HELLO, 2) => {
                    set_bytes(&mut r.network_mask_ip, bytes(body, 0, 4, SHORT)?);
                    r.hello_interval = u32::from(be16(body, 4, SHORT)?);
                    r.options = u32::from(u8_at(body, 6, SHORT)?);
                    r.router_priority = u32::from(u8_at(body, 7, SHORT)?);
                    r.dead_interval = be32(body, 8, SHORT)?;
                    set_bytes(&mut r.designated_router_ip, bytes(body, 12, 4, SHORT)?);
                    set_bytes(&mut r.backup_designated_router_ip, bytes(body, 16, 4, SHORT)?);
                    let n = body.len().saturating_sub(20) / 4;
                    super::addresses(body, 20, n, 4, &mut r.neighbor_ips)?;
                }
                (HELLO, 3) => {
                    r.router_priority = u32::from(u8_at(body, 4, SHORT)?);
                    r.options = be24(body, 5, SHORT)?;
                    r.hello_interval = u32::from(be16(body, 8, SHORT)?);
                    r.dead_interval = u32::from(be16(body, 10, SHORT)?);
                    set_bytes(&mut r.designated_router_ip, bytes(body, 12, 4, SHORT)?);
                    set_bytes(&mut r.backup_designated_router_ip, bytes(body, 16, 4, SHORT)?);
                    let n = body.len().saturating_sub(20) / 4;
                    super::addresses(body, 20, n, 4, &mut r.neighbor_ips)?;
                }
                (LS_UPDATE, _) => r.lsa_count = be32(body, 0, SHORT)?,
                _ => {}
            }
            Ok(())
        })();
    });
    result
}
