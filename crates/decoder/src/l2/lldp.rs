//! Link Layer Discovery Protocol (IEEE 802.1AB).

use crate::wire::{Malformed, Result, be16, write_hex, write_text};
use crate::{Layer, PacketContext, emit};
use netcap_records::{Lldptlv, RecordType};

/// TLVs as (type, value) up to the End of LLDPDU TLV.
pub fn tlvs(data: &[u8]) -> impl Iterator<Item = Result<(u8, &[u8])>> + '_ {
    let mut rest = data;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        let Ok(head) = be16(rest, 0, "") else {
            done = true;
            return (!rest.is_empty()).then_some(Err(Malformed("LLDP TLV header truncated")));
        };
        let kind = (head >> 9) as u8;
        let len = usize::from(head & 0x1ff);
        let Some(value) = rest.get(2..2 + len) else {
            done = true;
            return Some(Err(Malformed("LLDP TLV truncated")));
        };
        rest = &rest[2 + len..];
        done = kind == 0;
        Some(Ok((kind, value)))
    })
}

/// Where an ID goes: an ID of the MAC subtype to `mac`, of the network
/// address subtype to `ip` (without the IANA family byte), any other to
/// `text` (as text when printable, else hex).
struct IdFields<'a> {
    text: &'a mut String,
    mac: &'a mut Vec<u8>,
    ip: &'a mut Vec<u8>,
}

fn write_id(f: IdFields<'_>, subtype: u8, value: &[u8], mac_subtype: u8, address_subtype: u8) {
    f.text.clear();
    f.mac.clear();
    f.ip.clear();
    if subtype == mac_subtype && value.len() == 6 {
        f.mac.extend_from_slice(value);
    } else if subtype == address_subtype && value.len() > 1 {
        f.ip.extend_from_slice(&value[1..]);
    } else if value.iter().all(|b| (0x20..0x7f).contains(b)) {
        write_text(f.text, value);
    } else {
        write_hex(f.text, value);
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let payload = data.get(offset..).unwrap_or_default();
    let mut error = None;
    emit!(cx, RecordType::Lldp, l2.lldp, |r| {
        r.chassis_id_subtype = 0;
        r.chassis_id.clear();
        r.chassis_mac.clear();
        r.chassis_ip.clear();
        r.port_id_subtype = 0;
        r.port_id.clear();
        r.port_mac.clear();
        r.port_ip.clear();
        r.ttl = 0;
        r.port_description.clear();
        r.system_name.clear();
        r.system_description.clear();
        r.capabilities = 0;
        r.enabled_capabilities = 0;
        r.management_ips.clear();
        r.other_tlvs.clear();
        for tlv in tlvs(payload) {
            let (kind, value) = match tlv {
                Ok(t) => t,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            };
            let sub = value.first().copied().unwrap_or(0);
            let rest = value.get(1..).unwrap_or_default();
            match kind {
                0 => {}
                1 => {
                    r.chassis_id_subtype = u32::from(sub);
                    let f = IdFields { text: &mut r.chassis_id, mac: &mut r.chassis_mac, ip: &mut r.chassis_ip };
                    write_id(f, sub, rest, 4, 5);
                }
                2 => {
                    r.port_id_subtype = u32::from(sub);
                    let f = IdFields { text: &mut r.port_id, mac: &mut r.port_mac, ip: &mut r.port_ip };
                    write_id(f, sub, rest, 3, 4);
                }
                3 => r.ttl = u32::from(be16(value, 0, "").unwrap_or(0)),
                4 => write_text(&mut r.port_description, value),
                5 => write_text(&mut r.system_name, value),
                6 => write_text(&mut r.system_description, value),
                7 => {
                    r.capabilities = u32::from(be16(value, 0, "").unwrap_or(0));
                    r.enabled_capabilities = u32::from(be16(value, 2, "").unwrap_or(0));
                }
                8 => {
                    // Address string length (subtype included), subtype, address.
                    let len = usize::from(sub);
                    if let Some(addr) = value.get(2..1 + len.max(1)) {
                        r.management_ips.push(addr.to_vec());
                    }
                }
                _ => r.other_tlvs.push(Lldptlv { r#type: u32::from(kind), value: value.to_vec() }),
            }
        }
    });
    if !cx.wants(RecordType::Lldp) {
        error = tlvs(payload).find_map(|t| t.err());
    }
    if let Some(e) = error {
        cx.error(Layer::Lldp, offset, e);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tlvs_stop_at_end_and_report_truncation() {
        let data = [0x02, 0x07, 0x04, 0, 1, 2, 3, 4, 5, 0x06, 0x02, 0, 120, 0, 0, 0xff];
        let t: Vec<_> = super::tlvs(&data).collect();
        assert_eq!(t.len(), 3);
        assert_eq!(t[1], Ok((3, &[0u8, 120][..])));
        assert!(super::tlvs(&[0x02, 0x09, 1]).next().unwrap().is_err());
    }

    #[test]
    fn ids_by_subtype() {
        use super::{IdFields, write_id};
        let (mut text, mut mac, mut ip) = (String::new(), Vec::new(), Vec::new());
        // Chassis ID, network address subtype: IANA family 1, then 10.0.0.1.
        write_id(IdFields { text: &mut text, mac: &mut mac, ip: &mut ip }, 5, &[1, 10, 0, 0, 1], 4, 5);
        assert_eq!((text.as_str(), &mac[..], &ip[..]), ("", &[][..], &[10, 0, 0, 1][..]));
        write_id(IdFields { text: &mut text, mac: &mut mac, ip: &mut ip }, 3, &[0, 1, 2, 3, 4, 5], 3, 4);
        assert_eq!((text.as_str(), &mac[..], &ip[..]), ("", &[0, 1, 2, 3, 4, 5][..], &[][..]));
        write_id(IdFields { text: &mut text, mac: &mut mac, ip: &mut ip }, 5, b"Gi0/1", 3, 4);
        assert_eq!((text.as_str(), mac.len(), ip.len()), ("Gi0/1", 0, 0));
        write_id(IdFields { text: &mut text, mac: &mut mac, ip: &mut ip }, 7, &[0xff, 0], 3, 4);
        assert_eq!(text, "ff00");
    }
}
