//! IPv6 extension headers as records of their own (RFC 8200 section 4):
//! hop-by-hop options, destination options, routing and fragment headers.
//! The IPv6 record lists the chain; these give each header's contents. The
//! chain was walked with bounds checks already (crate::network), so each
//! header's bytes are complete here.

use crate::wire::{Malformed, Result, be16, be32, bytes, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::{IPv6Option as Ipv6Option, RecordType};

pub const HOP_BY_HOP: u8 = 0;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const DESTINATION: u8 = 60;

/// Options of a hop-by-hop or destination options header, and the values
/// of the options with fields of their own.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options<'a> {
    pub router_alert: Option<u16>,
    pub jumbo_payload_length: Option<u32>,
    pub home_address: Option<&'a [u8]>,
}

const OPT_PAD1: u8 = 0;
const OPT_ROUTER_ALERT: u8 = 5;
const OPT_JUMBO: u8 = 0xc2;
const OPT_HOME_ADDRESS: u8 = 0xc9;

/// Parses the options after a header's 2-byte start into `out` (reusing
/// its entries) and returns the values of the options it knows.
pub fn options<'a>(mut body: &'a [u8], out: &mut Vec<Ipv6Option>) -> Result<Options<'a>> {
    let mut known = Options::default();
    let mut n = 0;
    let mut result = Ok(());
    while let Some(&kind) = body.first() {
        let (data, len) = if kind == OPT_PAD1 {
            (&[][..], 1)
        } else {
            let Ok(len) = u8_at(body, 1, "") else {
                result = Err(Malformed("IPv6 option length truncated"));
                break;
            };
            let Ok(data) = bytes(body, 2, usize::from(len), "") else {
                // Kept with the bytes the header has, as Wireshark shows it.
                push_option(out, &mut n, kind, body.get(2..).unwrap_or_default());
                result = Err(Malformed("IPv6 option runs past its header"));
                break;
            };
            (data, 2 + usize::from(len))
        };
        // The home address option's length is 16 (RFC 6275 section 6.3);
        // with another length the rest of the header cannot be trusted.
        if kind == OPT_HOME_ADDRESS && data.len() != 16 {
            push_option(out, &mut n, kind, data);
            result = Err(Malformed("IPv6 home address option of a length other than 16"));
            break;
        }
        match (kind, data.len()) {
            (OPT_ROUTER_ALERT, 2) => known.router_alert = be16(data, 0, "").ok(),
            (OPT_JUMBO, 4) => known.jumbo_payload_length = be32(data, 0, "").ok(),
            (OPT_HOME_ADDRESS, 16) => known.home_address = Some(data),
            _ => {}
        }
        push_option(out, &mut n, kind, data);
        body = &body[len..];
    }
    out.truncate(n);
    result.map(|_| known)
}

/// Sets entry `n` of `out` (reusing it if there) and counts it.
fn push_option(out: &mut Vec<Ipv6Option>, n: &mut usize, kind: u8, data: &[u8]) {
    if *n == out.len() {
        out.push(Ipv6Option::default());
    }
    let o = &mut out[*n];
    o.r#type = u32::from(kind);
    o.length = data.len() as u32;
    crate::set_bytes(&mut o.data, data);
    *n += 1;
}

/// A routing header's type-specific part.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Routing<'a> {
    pub routing_type: u8,
    pub segments_left: u8,
    /// Addresses listed: the route (type 0), home address (type 2), segment
    /// list (type 4).
    pub addresses: &'a [u8],
    pub last_entry: u8,
    pub flags: u8,
    pub tag: u16,
}

pub fn routing(header: &[u8]) -> Result<Routing<'_>> {
    const SHORT: &str = "IPv6 routing header truncated";
    let routing_type = u8_at(header, 2, SHORT)?;
    let mut r = Routing { routing_type, segments_left: u8_at(header, 3, SHORT)?, ..Routing::default() };
    let rest = header.get(8..).unwrap_or_default();
    match routing_type {
        0 | 2 => r.addresses = &rest[..rest.len() / 16 * 16],
        4 => {
            r.last_entry = u8_at(header, 4, SHORT)?;
            r.flags = u8_at(header, 5, SHORT)?;
            r.tag = be16(header, 6, SHORT)?;
            // The segment list is last_entry + 1 addresses; TLVs may follow.
            let n = (usize::from(r.last_entry) + 1).min(rest.len() / 16);
            r.addresses = &rest[..n * 16];
        }
        _ => {}
    }
    Ok(r)
}

/// Writes the record of one extension header (`kind`, its bytes `header`
/// at `offset` in the frame).
pub(crate) fn decode(cx: &mut PacketContext<'_>, kind: u8, header: &[u8], offset: usize) {
    let next_header = u32::from(header.first().copied().unwrap_or(0));
    let mut error = None;
    match kind {
        HOP_BY_HOP => emit!(cx, RecordType::Ipv6hopbyhop, net.hop_by_hop, addressed, |r| {
            r.next_header = next_header;
            r.length = header.len() as u32;
            let parsed = options(header.get(2..).unwrap_or_default(), &mut r.options);
            let known = parsed.as_ref().ok();
            r.router_alert = known.and_then(|k| k.router_alert).map(u32::from);
            r.jumbo_payload_length = known.and_then(|k| k.jumbo_payload_length);
            error = parsed.err();
        }),
        DESTINATION => emit!(cx, RecordType::Ipv6destination, net.destination, addressed, |r| {
            r.next_header = next_header;
            r.length = header.len() as u32;
            let parsed = options(header.get(2..).unwrap_or_default(), &mut r.options);
            r.home_ip.clear();
            if let Some(home) = parsed.as_ref().ok().and_then(|k| k.home_address) {
                r.home_ip.extend_from_slice(home);
            }
            error = parsed.err();
        }),
        ROUTING => {
            let parsed = match routing(header) {
                Ok(p) => p,
                Err(e) => return cx.error(Layer::Ipv6, offset, e),
            };
            emit!(cx, RecordType::Ipv6routing, net.routing, addressed, |r| {
                r.next_header = next_header;
                r.length = header.len() as u32;
                r.routing_type = u32::from(parsed.routing_type);
                r.segments_left = u32::from(parsed.segments_left);
                crate::wire::set_bytes_list(&mut r.address_ips, parsed.addresses.chunks_exact(16));
                r.last_entry = u32::from(parsed.last_entry);
                r.flags = u32::from(parsed.flags);
                r.tag = u32::from(parsed.tag);
            });
        }
        FRAGMENT => {
            let (Ok(word), Ok(id)) = (be16(header, 2, ""), be32(header, 4, "")) else {
                return cx.error(Layer::Ipv6, offset, Malformed("IPv6 fragment header truncated"));
            };
            emit!(cx, RecordType::Ipv6fragment, net.fragment, addressed, |r| {
                r.next_header = next_header;
                r.fragment_offset = u32::from(word & 0xfff8);
                r.more_fragments = word & 1 != 0;
                r.identification = id;
            });
        }
        _ => {}
    }
    if let Some(e) = error {
        cx.error(Layer::Ipv6, offset, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_options() {
        // Router alert (MLD), then Pad1 and PadN.
        let body = [5, 2, 0, 0, 0, 1, 0];
        let mut out = vec![Ipv6Option { r#type: 9, length: 9, data: vec![9; 9] }; 5];
        let known = options(&body, &mut out).unwrap();
        assert_eq!(known.router_alert, Some(0));
        assert_eq!(out.iter().map(|o| (o.r#type, o.length)).collect::<Vec<_>>(), [(5, 2), (0, 0), (1, 0)]);
        assert!(options(&[1, 4, 0], &mut out).is_err());
        assert!(options(&[1], &mut out).is_err());
    }

    #[test]
    fn routing_types() {
        let mut h = vec![6, 4, 4, 1, 1, 0, 0, 7];
        h.extend_from_slice(&[0x20; 16]);
        h.extend_from_slice(&[0x30; 16]);
        let r = routing(&h).unwrap();
        assert_eq!((r.routing_type, r.segments_left, r.last_entry, r.tag), (4, 1, 1, 7));
        assert_eq!(r.addresses.len(), 32);
        assert_eq!(routing(&h[..24]).unwrap().addresses.len(), 16);
        assert!(routing(&h[..3]).is_err());
    }
}
