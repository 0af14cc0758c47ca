//! ICMPv6 neighbour discovery (RFC 4861) and multicast listener discovery
//! (MLDv1 RFC 2710, MLDv2 RFC 3810). The ICMPv6 record of the same message
//! is written by the transport decoder; these add the message bodies.

use crate::wire::{Malformed, Result, be16, be32, bytes, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::{MldAddressRecord, NdpOption, RecordType};

pub const ROUTER_SOLICITATION: u8 = 133;
pub const ROUTER_ADVERTISEMENT: u8 = 134;
pub const NEIGHBOR_SOLICITATION: u8 = 135;
pub const NEIGHBOR_ADVERTISEMENT: u8 = 136;
pub const REDIRECT: u8 = 137;
pub const MLD_QUERY: u8 = 130;
pub const MLD_REPORT: u8 = 131;
pub const MLD_DONE: u8 = 132;
pub const MLD_V2_REPORT: u8 = 143;

/// The ICMPv6 message in `data` (header included).
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let Some(&kind) = data.first() else { return };
    let result = match kind {
        ROUTER_SOLICITATION..=REDIRECT => ndp(cx, data),
        MLD_QUERY | MLD_REPORT | MLD_DONE | MLD_V2_REPORT => mld(cx, data),
        _ => return,
    };
    if let Err(e) = result {
        let layer = if (ROUTER_SOLICITATION..=REDIRECT).contains(&kind) { Layer::Ndp } else { Layer::Mld };
        cx.error(layer, offset, e);
    }
}

/// Where a message type's options start.
fn options_offset(kind: u8) -> usize {
    match kind {
        ROUTER_SOLICITATION => 8,
        ROUTER_ADVERTISEMENT => 16,
        REDIRECT => 40,
        _ => 24,
    }
}

fn ndp(cx: &mut PacketContext<'_>, data: &[u8]) -> Result<()> {
    const SHORT: &str = "neighbour discovery message truncated";
    let kind = data[0];
    if data.len() < options_offset(kind) {
        return Err(Malformed(SHORT));
    }
    let mut result = Ok(());
    emit!(cx, RecordType::Icmpv6ndp, net.ndp, addressed, |r| {
        r.r#type = u32::from(kind);
        r.code = u32::from(u8_at(data, 1, SHORT).unwrap_or(0));
        r.hop_limit = 0;
        r.flags = 0;
        r.router_lifetime = 0;
        r.reachable_time = 0;
        r.retrans_timer = 0;
        r.router = false;
        r.solicited = false;
        r.r#override = false;
        r.target_ip.clear();
        r.destination_ip.clear();
        match kind {
            ROUTER_ADVERTISEMENT => {
                r.hop_limit = u32::from(data[4]);
                r.flags = u32::from(data[5]);
                r.router_lifetime = u32::from(u16::from_be_bytes([data[6], data[7]]));
                r.reachable_time = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
                r.retrans_timer = u32::from_be_bytes([data[12], data[13], data[14], data[15]]);
            }
            NEIGHBOR_SOLICITATION | NEIGHBOR_ADVERTISEMENT | REDIRECT => {
                r.router = data[4] & 0x80 != 0 && kind == NEIGHBOR_ADVERTISEMENT;
                r.solicited = data[4] & 0x40 != 0 && kind == NEIGHBOR_ADVERTISEMENT;
                r.r#override = data[4] & 0x20 != 0 && kind == NEIGHBOR_ADVERTISEMENT;
                r.target_ip.extend_from_slice(&data[8..24]);
                if kind == REDIRECT {
                    r.destination_ip.extend_from_slice(&data[24..40]);
                }
            }
            _ => {}
        }
        r.options.clear();
        result = options(&data[options_offset(kind)..], &mut r.options);
    });
    result
}

/// Parses neighbour discovery options into `out`.
pub fn options(mut data: &[u8], out: &mut Vec<NdpOption>) -> Result<()> {
    const SHORT: &str = "neighbour discovery option truncated";
    while !data.is_empty() {
        let kind = u8_at(data, 0, SHORT)?;
        let len = usize::from(u8_at(data, 1, SHORT)?) * 8;
        if len == 0 {
            return Err(Malformed("neighbour discovery option of length 0"));
        }
        let option = bytes(data, 0, len, SHORT)?;
        let mut o = NdpOption { r#type: u32::from(kind), length: len as u32, ..Default::default() };
        match kind {
            1 | 2 => {
                let addr = &option[2..];
                // Ethernet addresses fill 6 of the 6 bytes available.
                o.link_layer_mac = (if len == 8 { &addr[..6] } else { addr }).to_vec();
            }
            3 if len >= 32 => {
                o.prefix_length = u32::from(option[2]);
                o.prefix_flags = u32::from(option[3]);
                o.valid_lifetime = be32(option, 4, SHORT)?;
                o.preferred_lifetime = be32(option, 8, SHORT)?;
                o.prefix_ip = option[16..32].to_vec();
            }
            5 => o.mtu = be32(option, 4, SHORT)?,
            25 => {
                o.valid_lifetime = be32(option, 4, SHORT)?;
                o.dns_server_ips.extend(option[8..].chunks_exact(16).map(<[u8]>::to_vec));
            }
            _ => {}
        }
        out.push(o);
        data = &data[len..];
    }
    Ok(())
}

fn mld(cx: &mut PacketContext<'_>, data: &[u8]) -> Result<()> {
    const SHORT: &str = "MLD message truncated";
    let kind = data[0];
    let min = if kind == MLD_V2_REPORT { 8 } else { 24 };
    if data.len() < min {
        return Err(Malformed(SHORT));
    }
    let mut result = Ok(());
    emit!(cx, RecordType::Mld, net.mld, addressed, |r| {
        r.r#type = u32::from(kind);
        r.code = u32::from(data[1]);
        r.version = if kind == MLD_V2_REPORT || (kind == MLD_QUERY && data.len() >= 28) { 2 } else { 1 };
        r.max_response_delay = 0;
        r.multicast_ip.clear();
        r.suppress = false;
        r.robustness = 0;
        r.query_interval = 0;
        r.source_ips.clear();
        r.address_records.clear();
        result = (|| {
            if kind == MLD_V2_REPORT {
                return address_records(data, &mut r.address_records);
            }
            r.max_response_delay = u32::from(be16(data, 4, SHORT)?);
            r.multicast_ip.extend_from_slice(&data[8..24]);
            if r.version == 2 {
                let flags = data[24];
                r.suppress = flags & 0x08 != 0;
                r.robustness = u32::from(flags & 7);
                r.query_interval = u32::from(data[25]);
                let n = usize::from(be16(data, 26, SHORT)?);
                super::addresses(data, 28, n, 16, &mut r.source_ips).map_err(|_| Malformed(SHORT))?;
            }
            Ok(())
        })();
    });
    result
}

/// The multicast address records of an MLDv2 report.
pub fn address_records(data: &[u8], out: &mut Vec<MldAddressRecord>) -> Result<()> {
    const SHORT: &str = "MLDv2 address record truncated";
    let n = be16(data, 6, SHORT)?;
    let mut at = 8;
    for _ in 0..n {
        let kind = u8_at(data, at, SHORT)?;
        let aux = u8_at(data, at + 1, SHORT)?;
        let sources = usize::from(be16(data, at + 2, SHORT)?);
        let group = bytes(data, at + 4, 16, SHORT)?;
        let mut record = MldAddressRecord {
            r#type: u32::from(kind),
            aux_data_length: u32::from(aux),
            multicast_ip: group.to_vec(),
            source_ips: Vec::new(),
        };
        // A record cut short is kept with its header (as Wireshark shows it).
        let complete = super::addresses(data, at + 20, sources, 16, &mut record.source_ips);
        out.push(record);
        complete.map_err(|_| Malformed(SHORT))?;
        at += 20 + sources * 16 + usize::from(aux) * 4;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_and_link_layer_options() {
        let mut data = vec![1, 1, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 3, 4, 64, 0xc0, 0, 0, 1, 0, 0, 0, 0, 10, 0, 0, 0, 0];
        data.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        let mut out = Vec::new();
        options(&data, &mut out).unwrap();
        assert_eq!(out[0].link_layer_mac, [0, 0x11, 0x22, 0x33, 0x44, 0x55]);
        let prefix: [u8; 16] = out[1].prefix_ip.as_slice().try_into().unwrap();
        assert_eq!(std::net::Ipv6Addr::from(prefix).to_string(), "2001:db8::");
        assert_eq!((out[1].prefix_length, out[1].prefix_flags), (64, 0xc0));
        assert_eq!((out[1].valid_lifetime, out[1].preferred_lifetime), (256, 10));
        assert!(options(&[1, 0, 0, 0], &mut Vec::new()).is_err());
        assert!(options(&data[..20], &mut Vec::new()).is_err());
    }
}
