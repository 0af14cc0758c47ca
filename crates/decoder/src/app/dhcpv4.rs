//! DHCPv4 / BOOTP (UDP ports 67 and 68, RFC 2131 and 2132).
//!
//! Parsed here over the bytes: dhcproto (the maintained crate) keeps
//! options in a map, which loses their wire order, and the option order
//! and option 55 are what DHCP fingerprints are made of.

use super::{AppRecord, Flow, emit, push_hex, set_lossy};
use crate::{Layer, PacketContext};
use netcap_records::{DhcPv4, RecordType};
use std::fmt::Write as _;

const MAGIC: [u8; 4] = [99, 130, 83, 99];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DhcpError {
    #[error("DHCP message of {0} bytes is shorter than the 236-byte BOOTP header")]
    Short(usize),
    #[error("op {0} is neither BOOTREQUEST nor BOOTREPLY")]
    Op(u8),
}

/// The fixed BOOTP header and the options area.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub bytes: &'a [u8],
    /// Options after the magic cookie (empty for plain BOOTP).
    pub options: &'a [u8],
}

pub fn parse(p: &[u8]) -> Result<Message<'_>, DhcpError> {
    if p.len() < 236 {
        return Err(DhcpError::Short(p.len()));
    }
    if !matches!(p[0], 1 | 2) {
        return Err(DhcpError::Op(p[0]));
    }
    let options = if p.get(236..240) == Some(&MAGIC[..]) { &p[240..] } else { &[][..] };
    Ok(Message { bytes: p, options })
}

/// Options as (code, data), pad skipped, stopping at end or at a length
/// that runs past the packet.
pub fn options(mut o: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        loop {
            let (&code, rest) = o.split_first()?;
            match code {
                0 => o = rest,
                255 => return None,
                _ => {
                    let (&len, rest) = rest.split_first()?;
                    let data = rest.get(..usize::from(len))?;
                    o = &rest[usize::from(len)..];
                    return Some((code, data));
                }
            }
        }
    })
}

/// An IPv4 address option (empty if shorter than 4 bytes).
fn ipv4(dst: &mut Vec<u8>, b: &[u8]) {
    dst.clear();
    if let Some(a) = b.get(..4) {
        dst.extend_from_slice(a);
    }
}

fn cstr(dst: &mut String, b: &[u8]) {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    set_lossy(dst, &b[..end]);
}

fn fill(r: &mut DhcPv4, m: &Message<'_>) {
    let b = m.bytes;
    r.op = u32::from(b[0]);
    r.hardware_type = u32::from(b[1]);
    r.hardware_length = u32::from(b[2]);
    r.hops = u32::from(b[3]);
    r.xid = super::be32(b, 4).unwrap_or(0);
    r.secs = u32::from(super::be16(b, 8).unwrap_or(0));
    r.flags = u32::from(super::be16(b, 10).unwrap_or(0));
    ipv4(&mut r.client_ip, &b[12..16]);
    ipv4(&mut r.your_ip, &b[16..20]);
    ipv4(&mut r.server_ip, &b[20..24]);
    ipv4(&mut r.relay_ip, &b[24..28]);
    let hlen = usize::from(b[2]).min(16);
    crate::set_bytes(&mut r.client_mac, &b[28..28 + hlen]);
    cstr(&mut r.server_name, &b[44..108]);
    cstr(&mut r.boot_file, &b[108..236]);
    r.message_type = 0;
    r.options.clear();
    r.parameter_request_list.clear();
    r.fingerprint.clear();
    r.requested_ip.clear();
    r.server_id_ip.clear();
    r.subnet_mask_ip.clear();
    r.router_ip.clear();
    r.lease_time = 0;
    r.hostname.clear();
    r.domain_name.clear();
    r.vendor_class.clear();
    r.client_id.clear();
    r.dns_server_ips.clear();
    r.max_message_size = 0;
    r.client_fqdn.clear();
    for (code, data) in options(m.options) {
        r.options.push(u32::from(code));
        match code {
            53 => r.message_type = u32::from(data.first().copied().unwrap_or(0)),
            55 => {
                for (i, &c) in data.iter().enumerate() {
                    r.parameter_request_list.push(u32::from(c));
                    if i > 0 {
                        r.fingerprint.push(',');
                    }
                    let _ = write!(r.fingerprint, "{c}");
                }
            }
            50 => ipv4(&mut r.requested_ip, data),
            54 => ipv4(&mut r.server_id_ip, data),
            1 => ipv4(&mut r.subnet_mask_ip, data),
            3 => ipv4(&mut r.router_ip, data),
            51 => r.lease_time = super::be32(data, 0).unwrap_or(0),
            12 => set_lossy(&mut r.hostname, data),
            15 => cstr(&mut r.domain_name, data),
            60 => set_lossy(&mut r.vendor_class, data),
            61 => push_hex(&mut r.client_id, data),
            6 => {
                crate::wire::set_bytes_list(&mut r.dns_server_ips, data.chunks_exact(4));
            }
            57 => r.max_message_size = u32::from(super::be16(data, 0).unwrap_or(0)),
            // Client FQDN: flags, two RCODE bytes, then the name (ASCII or wire format).
            81 => {
                let name = data.get(3..).unwrap_or_default();
                if data.first().is_some_and(|f| f & 0x04 != 0) {
                    let mut s = String::new();
                    if super::dns::write_name(&mut s, name, 0).is_ok() {
                        r.client_fqdn = s;
                    }
                } else {
                    set_lossy(&mut r.client_fqdn, name);
                }
            }
            _ => {}
        }
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Dhcpv4) {
        return;
    }
    match parse(payload) {
        Ok(m) => emit!(cx, flow, RecordType::Dhcpv4, dhcpv4, |r| fill(r, &m)),
        Err(e) => super::parse_error(cx, Layer::Dhcpv4, flow, e),
    }
}
