//! DHCPv6 (UDP ports 546 and 547, RFC 8415), parsed here over the bytes
//! (a TLV format; dhcproto would allocate every option and drops the
//! order the record keeps).

use super::{AppRecord, Flow, emit, push_hex};
use crate::{Layer, PacketContext};
use netcap_records::{DhcPv6, RecordType};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Dhcpv6Error {
    #[error("DHCPv6 message of {0} bytes is too short")]
    Short(usize),
}

const RELAY_FORW: u8 = 12;
const RELAY_REPL: u8 = 13;

/// A DHCPv6 message: its type, transaction ID (0 for relays), relay
/// fields and options area.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub msg_type: u8,
    pub transaction_id: u32,
    pub relay: Option<(u8, [u8; 16], [u8; 16])>,
    pub options: &'a [u8],
}

pub fn parse(p: &[u8]) -> Result<Message<'_>, Dhcpv6Error> {
    let msg_type = *p.first().ok_or(Dhcpv6Error::Short(0))?;
    if msg_type == RELAY_FORW || msg_type == RELAY_REPL {
        if p.len() < 34 {
            return Err(Dhcpv6Error::Short(p.len()));
        }
        let mut link = [0u8; 16];
        let mut peer = [0u8; 16];
        link.copy_from_slice(&p[2..18]);
        peer.copy_from_slice(&p[18..34]);
        return Ok(Message { msg_type, transaction_id: 0, relay: Some((p[1], link, peer)), options: &p[34..] });
    }
    if p.len() < 4 {
        return Err(Dhcpv6Error::Short(p.len()));
    }
    Ok(Message { msg_type, transaction_id: u32::from_be_bytes([0, p[1], p[2], p[3]]), relay: None, options: &p[4..] })
}

/// Options as (code, data); stops at a length past the end.
pub fn options(mut o: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let code = super::be16(o, 0)?;
        let len = usize::from(super::be16(o, 2)?);
        let data = o.get(4..4 + len)?;
        o = &o[4 + len..];
        Some((code, data))
    })
}

fn fill_options(r: &mut DhcPv6, opts: &[u8], depth: u8) {
    for (code, data) in options(opts) {
        r.options.push(u32::from(code));
        match code {
            1 => push_hex(&mut r.client_duid, data),
            2 => push_hex(&mut r.server_duid, data),
            // IA_NA and IA_PD: IAID, T1, T2, then options (IA addresses, prefixes).
            3 | 25 => {
                r.iaids.push(super::be32(data, 0).unwrap_or(0));
                if depth < 4 {
                    fill_options(r, data.get(12..).unwrap_or_default(), depth + 1);
                }
            }
            // IA_TA: IAID, then options.
            4 => {
                r.iaids.push(super::be32(data, 0).unwrap_or(0));
                if depth < 4 {
                    fill_options(r, data.get(4..).unwrap_or_default(), depth + 1);
                }
            }
            5 => {
                if let Some(a) = data.get(..16) {
                    r.address_ips.push(a.to_vec());
                }
            }
            26 => {
                if let (Some(&len), Some(a)) = (data.get(8), data.get(9..25)) {
                    r.prefix_ips.push(a.to_vec());
                    r.prefix_lengths.push(u32::from(len));
                }
            }
            6 => r.requested_options.extend(data.chunks_exact(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))),
            8 => r.elapsed_time = u32::from(super::be16(data, 0).unwrap_or(0)),
            13 => r.status_code = u32::from(super::be16(data, 0).unwrap_or(0)),
            16 => r.vendor_class_enterprise = super::be32(data, 0).unwrap_or(0),
            23 => r.dns_server_ips.extend(data.chunks_exact(16).map(<[u8]>::to_vec)),
            39 => {
                r.client_fqdn.clear();
                let mut name = String::new();
                if super::dns::write_name(&mut name, data.get(1..).unwrap_or_default(), 0).is_ok() {
                    r.client_fqdn = name;
                }
            }
            // Relay message: the relayed message's options are recorded too.
            9 if depth < 4 => {
                if let Ok(inner) = parse(data) {
                    fill_options(r, inner.options, depth + 1);
                }
            }
            _ => {}
        }
    }
}

fn fill(r: &mut DhcPv6, m: &Message<'_>) {
    r.message_type = u32::from(m.msg_type);
    r.transaction_id = m.transaction_id;
    r.options.clear();
    r.client_duid.clear();
    r.server_duid.clear();
    r.requested_options.clear();
    r.iaids.clear();
    r.address_ips.clear();
    r.prefix_ips.clear();
    r.prefix_lengths.clear();
    r.dns_server_ips.clear();
    r.client_fqdn.clear();
    r.elapsed_time = 0;
    r.vendor_class_enterprise = 0;
    r.status_code = 0;
    r.link_ip.clear();
    r.peer_ip.clear();
    r.hop_count = 0;
    if let Some((hops, link, peer)) = m.relay {
        r.hop_count = u32::from(hops);
        r.link_ip.extend_from_slice(&link);
        r.peer_ip.extend_from_slice(&peer);
    }
    fill_options(r, m.options, 0);
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Dhcpv6) {
        return;
    }
    match parse(payload) {
        Ok(m) => emit!(cx, flow, RecordType::Dhcpv6, dhcpv6, |r| fill(r, &m)),
        Err(e) => super::parse_error(cx, Layer::Dhcpv6, flow, e),
    }
}
