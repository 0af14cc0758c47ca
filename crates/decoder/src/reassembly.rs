//! IPv4 and IPv6 fragment reassembly.
//!
//! Decoding is stateless, so reassembly runs before it, in packet order, on
//! the capture's source thread: every packet goes through
//! [`Reassembler::push`], which costs a few byte checks for packets that are
//! not fragments. When a fragment completes a datagram, `push` returns the
//! whole datagram as a raw IP packet (its header says: not fragmented), which
//! the pipeline decodes right after the fragment with
//! [`PacketMeta::reassembled`](crate::PacketMeta) set.
//!
//! Bounds: at most `max_datagrams` datagrams and `max_bytes` bytes of
//! fragment data are pending; a datagram that would exceed either evicts the
//! oldest pending one. A datagram whose first fragment is older than
//! `timeout_ns` (in packet time) is dropped. A datagram is at most 65535
//! bytes after its header.
//!
//! Overlap policy: **first wins**. Bytes already received are kept; a later
//! fragment only fills the gaps it covers (as Linux and Suricata's default
//! "BSD-right" policies differ here, this is the simplest one that cannot be
//! used to rewrite data already seen). Every fragment that overlaps data
//! already received is counted in [`ReassemblyStats::overlaps`].
//! Inconsistent fragments (a second, different end; data past the end; a
//! non-final fragment whose length is not a multiple of 8; a fragment cut
//! short by the capture) are counted as `invalid` and dropped; an
//! inconsistent end drops the whole datagram.

use crate::arrival::ArrivalOrder;
use crate::link::network_offset;
use std::collections::HashMap;

/// Limits of a [`Reassembler`].
#[derive(Debug, Clone, Copy)]
pub struct ReassemblyConfig {
    pub max_datagrams: usize,
    pub max_bytes: usize,
    pub timeout_ns: i64,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig { max_datagrams: 4096, max_bytes: 64 << 20, timeout_ns: 60_000_000_000 }
    }
}

/// What reassembly saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Fragments seen (IPv4 and IPv6).
    pub fragments: u64,
    /// Datagrams completed and handed to the decoder.
    pub reassembled: u64,
    /// Fragments that overlapped data already received (first wins).
    pub overlaps: u64,
    /// Fragments dropped as inconsistent or cut short.
    pub invalid: u64,
    /// Datagrams dropped incomplete after the timeout.
    pub timeouts: u64,
    /// Datagrams dropped incomplete to stay within the memory bounds.
    pub evicted: u64,
}

impl ReassemblyStats {
    pub fn merge(&mut self, o: &ReassemblyStats) {
        self.fragments += o.fragments;
        self.reassembled += o.reassembled;
        self.overlaps += o.overlaps;
        self.invalid += o.invalid;
        self.timeouts += o.timeouts;
        self.evicted += o.evicted;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
    /// IPv4 protocol (0 for IPv6, whose key is addresses and identification).
    protocol: u8,
    v6: bool,
}

#[derive(Debug, Default)]
struct Pending {
    first_seen_ns: i64,
    /// Arrival order, for eviction.
    serial: u64,
    /// Header of the first fragment (IPv4 header, or IPv6 header and the
    /// unfragmentable extension headers); empty until it arrives.
    header: Vec<u8>,
    /// Offset in `header` of the next-header byte that names the fragment
    /// header (IPv6).
    next_header_at: usize,
    /// The fragment header's next header (IPv6).
    next_header: u8,
    data: Vec<u8>,
    /// Received byte ranges, sorted and merged.
    have: Vec<(usize, usize)>,
    /// Length of the datagram's payload, once the last fragment arrived.
    end: Option<usize>,
}

impl Pending {
    /// Copies the parts of `bytes` at `offset` not received yet; true if it
    /// overlapped received data.
    fn insert(&mut self, offset: usize, bytes: &[u8]) -> bool {
        let end = offset + bytes.len();
        if self.data.len() < end {
            self.data.resize(end, 0);
        }
        let mut overlapped = false;
        let mut at = offset;
        for &(s, e) in &self.have {
            if e <= at || s >= end {
                continue;
            }
            overlapped = true;
            if s > at {
                self.data[at..s].copy_from_slice(&bytes[at - offset..s - offset]);
            }
            at = at.max(e);
            if at >= end {
                break;
            }
        }
        if at < end {
            self.data[at..end].copy_from_slice(&bytes[at - offset..]);
        }
        crate::wire::add_range(&mut self.have, offset, end);
        overlapped
    }

    fn complete(&self) -> bool {
        !self.header.is_empty() && self.end.is_some_and(|end| self.have.first() == Some(&(0, end)))
    }
}

/// Largest reassembled payload: the IPv4 total length and IPv6 payload
/// length fields are 16 bits.
const MAX_DATAGRAM: usize = 65535;

/// Reassembles IP fragments; see the module documentation.
#[derive(Debug, Default)]
pub struct Reassembler {
    config: ReassemblyConfig,
    pending: HashMap<Key, Pending>,
    /// `pending`'s keys in arrival order, for eviction.
    order: ArrivalOrder<Key>,
    bytes: usize,
    serial: u64,
    last_sweep_ns: i64,
    stats: ReassemblyStats,
    out: Vec<u8>,
}

/// A fragment found in a packet.
struct Fragment<'a> {
    key: Key,
    offset: usize,
    more: bool,
    payload: &'a [u8],
    /// The header to rebuild the datagram with (first fragment only).
    header: &'a [u8],
    next_header_at: usize,
    next_header: u8,
}

enum Parsed<'a> {
    NotFragment,
    Invalid,
    Fragment(Fragment<'a>),
}

impl Reassembler {
    pub fn new(config: ReassemblyConfig) -> Self {
        Reassembler { config, ..Default::default() }
    }

    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// Number of datagrams pending.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }

    /// Feeds one captured packet. Returns the reassembled datagram (a raw
    /// IPv4 or IPv6 packet, LINKTYPE_RAW) when this packet completed one.
    pub fn push(&mut self, link_type: u32, timestamp_ns: i64, frame: &[u8]) -> Option<&[u8]> {
        let ip = &frame[network_offset(link_type, frame)?..];
        self.push_ip(timestamp_ns, ip)
    }

    /// [`Reassembler::push`] for a packet whose IP header was found already
    /// ([`network_offset`]).
    pub fn push_ip(&mut self, timestamp_ns: i64, ip: &[u8]) -> Option<&[u8]> {
        let fragment = match parse(ip) {
            Parsed::NotFragment => return None,
            Parsed::Invalid => {
                self.stats.fragments += 1;
                self.stats.invalid += 1;
                return None;
            }
            Parsed::Fragment(f) => f,
        };
        self.stats.fragments += 1;
        if timestamp_ns.saturating_sub(self.last_sweep_ns) >= 1_000_000_000 || timestamp_ns < self.last_sweep_ns {
            self.expire(timestamp_ns);
        }
        self.add(timestamp_ns, fragment)
    }

    fn expire(&mut self, now: i64) {
        self.last_sweep_ns = now;
        let timeout = self.config.timeout_ns;
        let before = self.pending.len();
        let mut freed = 0;
        self.pending.retain(|_, p| {
            let keep = now.saturating_sub(p.first_seen_ns) <= timeout;
            if !keep {
                freed += p.data.len();
            }
            keep
        });
        self.bytes -= freed;
        self.stats.timeouts += (before - self.pending.len()) as u64;
    }

    /// Evicts the oldest pending datagram but `except`; false if there is
    /// none.
    fn evict_oldest(&mut self, except: Option<&Key>) -> bool {
        let pending = &self.pending;
        let oldest = self.order.oldest(except, |serial, key| pending.get(key).is_some_and(|p| p.serial == serial));
        match oldest.and_then(|key| self.pending.remove(&key)) {
            Some(p) => {
                self.bytes -= p.data.len();
                self.stats.evicted += 1;
                true
            }
            None => false,
        }
    }

    fn add(&mut self, now: i64, f: Fragment<'_>) -> Option<&[u8]> {
        let end = f.offset + f.payload.len();
        if end > MAX_DATAGRAM - f.header.len().min(MAX_DATAGRAM) || (f.more && !f.payload.len().is_multiple_of(8)) {
            self.stats.invalid += 1;
            return None;
        }
        if !self.pending.contains_key(&f.key) {
            while self.pending.len() >= self.config.max_datagrams.max(1) {
                if !self.evict_oldest(None) {
                    break;
                }
            }
            self.serial += 1;
            self.pending.insert(f.key, Pending { first_seen_ns: now, serial: self.serial, ..Default::default() });
            let pending = &self.pending;
            self.order.push(self.serial, f.key, pending.len(), |serial, key| {
                pending.get(key).is_some_and(|p| p.serial == serial)
            });
        }
        // Never evict the datagram being added.
        while self.bytes + end > self.config.max_bytes && self.pending.len() > 1 {
            if !self.evict_oldest(Some(&f.key)) {
                break;
            }
        }
        let p = self.pending.get_mut(&f.key)?;
        // A fragment past a known end, or a second end elsewhere, makes the
        // datagram inconsistent.
        let inconsistent = match (p.end, f.more) {
            (Some(e), true) => end > e,
            (Some(e), false) => end != e,
            (None, false) => p.have.last().is_some_and(|&(_, e)| e > end),
            (None, true) => false,
        };
        if inconsistent {
            self.stats.invalid += 1;
            if let Some(p) = self.pending.remove(&f.key) {
                self.bytes -= p.data.len();
            }
            return None;
        }
        if !f.more {
            p.end = Some(end);
        }
        if f.offset == 0 && p.header.is_empty() {
            p.header.extend_from_slice(f.header);
            p.next_header_at = f.next_header_at;
            p.next_header = f.next_header;
        }
        let before = p.data.len();
        if p.insert(f.offset, f.payload) {
            self.stats.overlaps += 1;
        }
        self.bytes += p.data.len() - before;
        if !p.complete() {
            return None;
        }
        let p = self.pending.remove(&f.key)?;
        self.bytes -= p.data.len();
        self.stats.reassembled += 1;
        build(&mut self.out, &p, f.key.v6);
        Some(&self.out)
    }
}

/// Writes the reassembled datagram: the first fragment's header, marked
/// unfragmented with the new length, then the data.
fn build(out: &mut Vec<u8>, p: &Pending, v6: bool) {
    out.clear();
    out.extend_from_slice(&p.header);
    out.extend_from_slice(&p.data);
    if v6 {
        let payload_len = (out.len() - 40) as u16;
        out[4..6].copy_from_slice(&payload_len.to_be_bytes());
        out[p.next_header_at] = p.next_header;
    } else {
        let total = out.len() as u16;
        out[2..4].copy_from_slice(&total.to_be_bytes());
        // Keep DF, clear MF and the offset.
        out[6] &= 0x40;
        out[7] = 0;
        let header_len = p.header.len();
        out[10] = 0;
        out[11] = 0;
        let mut sum: u32 = out[..header_len].chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))).sum();
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        out[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    }
}

/// Finds the fragment in an IP packet, with a few byte checks for packets
/// that are not fragments.
fn parse(ip: &[u8]) -> Parsed<'_> {
    match ip.first().map(|b| b >> 4) {
        Some(4) => parse_v4(ip),
        Some(6) => parse_v6(ip),
        _ => Parsed::NotFragment,
    }
}

fn parse_v4(ip: &[u8]) -> Parsed<'_> {
    if ip.len() < 20 {
        return Parsed::NotFragment;
    }
    let flags_offset = u16::from_be_bytes([ip[6], ip[7]]);
    if flags_offset & 0x3fff == 0 {
        return Parsed::NotFragment;
    }
    let header_len = usize::from(ip[0] & 0xf) * 4;
    let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
    if header_len < 20 || total < header_len || ip.len() < total {
        // Cut short by the capture, or nonsense lengths: nothing to reassemble.
        return Parsed::Invalid;
    }
    let mut key = Key { src: [0; 16], dst: [0; 16], id: 0, protocol: ip[9], v6: false };
    key.src[..4].copy_from_slice(&ip[12..16]);
    key.dst[..4].copy_from_slice(&ip[16..20]);
    key.id = u32::from(u16::from_be_bytes([ip[4], ip[5]]));
    Parsed::Fragment(Fragment {
        key,
        offset: usize::from(flags_offset & 0x1fff) * 8,
        more: flags_offset & 0x2000 != 0,
        payload: &ip[header_len..total],
        header: &ip[..header_len],
        next_header_at: 0,
        next_header: 0,
    })
}

fn parse_v6(ip: &[u8]) -> Parsed<'_> {
    const FRAGMENT: u8 = 44;
    if ip.len() < 40 {
        return Parsed::NotFragment;
    }
    let mut next = ip[6];
    let mut next_at = 6;
    let mut at = 40;
    // Hop-by-hop, routing and destination options may precede the fragment header.
    for _ in 0..8 {
        match next {
            FRAGMENT => break,
            0 | 43 | 60 => {
                let (Some(&n), Some(&len)) = (ip.get(at), ip.get(at + 1)) else { return Parsed::NotFragment };
                next = n;
                next_at = at;
                at += (usize::from(len) + 1) * 8;
            }
            _ => return Parsed::NotFragment,
        }
    }
    if next != FRAGMENT {
        return Parsed::NotFragment;
    }
    let Some(f) = ip.get(at..at + 8) else { return Parsed::NotFragment };
    let offset_word = u16::from_be_bytes([f[2], f[3]]);
    let (offset, more) = (usize::from(offset_word >> 3) * 8, offset_word & 1 != 0);
    // An atomic fragment (RFC 6946) is a whole datagram: decoded as it is.
    if offset == 0 && !more {
        return Parsed::NotFragment;
    }
    let end = 40 + usize::from(u16::from_be_bytes([ip[4], ip[5]]));
    if ip.len() < end || end < at + 8 {
        return Parsed::Invalid;
    }
    let mut key = Key { src: [0; 16], dst: [0; 16], id: 0, protocol: 0, v6: true };
    key.src.copy_from_slice(&ip[8..24]);
    key.dst.copy_from_slice(&ip[24..40]);
    key.id = u32::from_be_bytes([f[4], f[5], f[6], f[7]]);
    Parsed::Fragment(Fragment {
        key,
        offset,
        more,
        payload: &ip[at + 8..end],
        header: &ip[..at],
        next_header_at: next_at,
        next_header: f[0],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: u32 = 101;

    fn v4_fragment(id: u16, offset: usize, more: bool, payload: &[u8]) -> Vec<u8> {
        let total = 20 + payload.len();
        let flags_offset = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
        let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8];
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(&flags_offset.to_be_bytes());
        p.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn two_fragments_in_any_order() {
        let data: Vec<u8> = (0..24).collect();
        for order in [[0, 1], [1, 0]] {
            let mut r = Reassembler::new(ReassemblyConfig::default());
            let frags = [v4_fragment(7, 0, true, &data[..16]), v4_fragment(7, 16, false, &data[16..])];
            assert!(r.push(RAW, 0, &frags[order[0]]).is_none());
            let whole = r.push(RAW, 1, &frags[order[1]]).unwrap().to_vec();
            assert_eq!(&whole[20..], &data[..]);
            assert_eq!(u16::from_be_bytes([whole[2], whole[3]]), 44);
            assert_eq!(u16::from_be_bytes([whole[6], whole[7]]), 0);
            assert_eq!(r.pending(), 0);
            assert_eq!(r.stats().reassembled, 1);
        }
    }

    #[test]
    fn overlaps_keep_the_first_data() {
        let mut r = Reassembler::new(ReassemblyConfig::default());
        assert!(r.push(RAW, 0, &v4_fragment(1, 0, true, &[1; 16])).is_none());
        assert!(r.push(RAW, 0, &v4_fragment(1, 8, true, &[2; 16])).is_none());
        let whole = r.push(RAW, 0, &v4_fragment(1, 24, false, &[3; 4])).unwrap();
        assert_eq!(&whole[20..], &[[1u8; 16].as_slice(), &[2; 8], &[3; 4]].concat()[..]);
        assert_eq!(r.stats().overlaps, 1);
    }

    #[test]
    fn bounds_and_timeouts() {
        let mut r = Reassembler::new(ReassemblyConfig { max_datagrams: 2, max_bytes: 1 << 20, timeout_ns: 10 });
        for id in 0..3 {
            r.push(RAW, 0, &v4_fragment(id, 0, true, &[0; 8]));
        }
        assert_eq!((r.pending(), r.stats().evicted), (2, 1));
        r.push(RAW, 2_000_000_000, &v4_fragment(9, 0, true, &[0; 8]));
        assert_eq!((r.pending(), r.stats().timeouts), (1, 2));
        // Inconsistent ends drop the datagram.
        r.push(RAW, 2_000_000_000, &v4_fragment(9, 8, false, &[0; 8]));
        assert_eq!(r.stats().reassembled, 1);
        r.push(RAW, 2_000_000_000, &v4_fragment(5, 8, false, &[0; 8]));
        r.push(RAW, 2_000_000_000, &v4_fragment(5, 16, false, &[0; 8]));
        assert_eq!(r.stats().invalid, 1);
        // Not fragments: untouched.
        assert!(r.push(RAW, 0, &v4_fragment(5, 0, false, &[0; 8])).is_none());
        assert!(r.push(1, 0, &[0; 10]).is_none());
    }
}
