//! MPLS label stacks (RFC 3032) and what follows the bottom label.

use crate::wire::{Malformed, Result, be32};
use crate::{Layer, PacketContext, emit, link, network};
use netcap_records::RecordType;

/// One label stack entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub label: u32,
    pub traffic_class: u8,
    pub bottom: bool,
    pub ttl: u8,
}

/// Deepest label stack decoded.
pub const MAX_LABELS: usize = 16;

/// Parses the label stack at the start of `data`: the labels (into `out`,
/// up to [`MAX_LABELS`]) and the number of bytes they take.
pub fn parse(data: &[u8], out: &mut [Label; MAX_LABELS]) -> Result<usize> {
    for (i, slot) in out.iter_mut().enumerate() {
        let word = be32(data, i * 4, "MPLS label truncated")?;
        *slot = Label {
            label: word >> 12,
            traffic_class: ((word >> 9) & 7) as u8,
            bottom: word & 0x100 != 0,
            ttl: word as u8,
        };
        if slot.bottom {
            return Ok(i + 1);
        }
    }
    Err(Malformed("MPLS label stack deeper than 16 without bottom of stack"))
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let mut labels = [Label { label: 0, traffic_class: 0, bottom: false, ttl: 0 }; MAX_LABELS];
    let n = match parse(data.get(offset..).unwrap_or_default(), &mut labels) {
        Ok(n) => n,
        Err(e) => return cx.error(Layer::Mpls, offset, e),
    };
    for (i, l) in labels[..n].iter().enumerate() {
        emit!(cx, RecordType::Mpls, l2.mpls, |r| {
            r.index = i as u32;
            r.label = l.label;
            r.traffic_class = u32::from(l.traffic_class);
            r.bottom_of_stack = l.bottom;
            r.ttl = u32::from(l.ttl);
        });
    }
    let inner = offset + n * 4;
    let bottom = labels[n - 1].label;
    // No protocol field: the first nibble tells IPv4 and IPv6 apart; 0 is
    // the control word of an Ethernet pseudowire (RFC 4448).
    match data.get(inner).map(|b| b >> 4) {
        Some(4) => cx.inner("mpls", bottom, inner, |cx| network::ipv4(cx, data, inner)),
        Some(6) => cx.inner("mpls", bottom, inner, |cx| network::ipv6(cx, data, inner)),
        Some(0) if data.len() >= inner + 4 + 14 => {
            cx.inner("mpls", bottom, inner, |cx| link::ethernet(cx, data, inner + 4))
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_labels() {
        let mut out = [Label { label: 0, traffic_class: 0, bottom: false, ttl: 0 }; MAX_LABELS];
        let n = parse(&[0x00, 0x01, 0x0a, 0x40, 0x00, 0x02, 0x11, 0x3f, 0x45], &mut out).unwrap();
        assert_eq!(n, 2);
        assert_eq!(out[0], Label { label: 16, traffic_class: 5, bottom: false, ttl: 64 });
        assert_eq!(out[1], Label { label: 33, traffic_class: 0, bottom: true, ttl: 63 });
        assert!(parse(&[0, 1, 0x0a, 0x40], &mut out).is_err());
    }
}
