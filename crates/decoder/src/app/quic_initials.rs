//! QUIC client Initials followed across packets.
//!
//! A per-packet decoder sees one Initial at a time, but three things a
//! ClientHello needs are spread over packets: browsers with post-quantum key
//! shares split the ClientHello over two or more Initials; every Initial of a
//! connection is encrypted with keys from the client's *first* destination
//! connection ID, while later Initials carry the ID the server chose; and
//! after a HelloRetryRequest the second ClientHello continues the CRYPTO
//! stream at a non-zero offset. The session stage runs one tracker per flow
//! shard, on the shard's packets in capture order
//! ([`QuicInitials::push_datagram`]): when a packet completes a ClientHello,
//! it returns an [`Attachment`] for that packet (the key connection ID and
//! the whole ClientHello message) that [`quic::fill_initial`] uses when the
//! packet alone does not give the ClientHello.
//!
//! Only client Initials are followed: datagrams of at least 1200 bytes (RFC
//! 9000 section 14.1) whose Initial decrypts with client keys. A connection
//! is keyed by its UDP 4-tuple in the client's direction. Bounds: at most
//! [`MAX_FLOWS`] connections (the oldest is dropped beyond), [`MAX_STREAM`]
//! bytes of CRYPTO data each, and [`TIMEOUT_NS`] of packet time after the
//! first Initial.

use super::quic;
use crate::arrival::ArrivalOrder;
use std::collections::HashMap;

/// Connections followed at most.
pub const MAX_FLOWS: usize = 4096;
/// CRYPTO stream bytes kept per connection.
pub const MAX_STREAM: usize = 16 * 1024;
/// A connection's Initials are followed this long (packet time).
pub const TIMEOUT_NS: i64 = 10_000_000_000;

/// A client's 4-tuple (addresses in 16 bytes, IPv4 zero-padded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FlowKey {
    pub src: [u8; 16],
    pub dst: [u8; 16],
    pub src_port: u16,
    pub dst_port: u16,
    pub v6: bool,
}

#[derive(Debug, Default)]
struct Flow {
    /// Destination connection ID the Initial keys come from.
    key_dcid: Vec<u8>,
    version: u32,
    stream: Vec<u8>,
    /// Received ranges of `stream`, sorted and merged.
    have: Vec<(usize, usize)>,
    /// Stream offset up to which ClientHellos were reported.
    reported: usize,
    first_seen_ns: i64,
    serial: u64,
}

impl Flow {
    fn insert(&mut self, offset: usize, data: &[u8]) {
        let Some(end) = offset.checked_add(data.len()).filter(|&e| e <= MAX_STREAM) else { return };
        if self.stream.len() < end {
            self.stream.resize(end, 0);
        }
        self.stream[offset..end].copy_from_slice(data);
        crate::wire::add_range(&mut self.have, offset, end);
    }

    /// End of the received data contiguous from `at`.
    fn contiguous_end(&self, at: usize) -> usize {
        self.have.iter().find(|&&(s, e)| s <= at && at < e).map_or(at, |&(_, e)| e)
    }

    /// The next ClientHello message, if complete.
    fn next_client_hello(&self) -> Option<(usize, usize)> {
        let at = self.reported;
        let end = self.contiguous_end(at);
        let head = self.stream.get(at..at + 4).filter(|_| end >= at + 4)?;
        if head[0] != 1 {
            return None;
        }
        let len = 4 + (usize::from(head[1]) << 16 | usize::from(head[2]) << 8 | usize::from(head[3]));
        (end >= at + len).then_some((at, at + len))
    }
}

/// What [`QuicInitials`] tracks; mergeable counts for the capture summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuicInitialStats {
    /// Client Initials decrypted.
    pub initials: u64,
    /// ClientHellos that needed more than the packet that completed them.
    pub reassembled: u64,
    /// Connections dropped to stay within the bounds or after the timeout.
    pub dropped: u64,
}

/// Follows client Initials; see the module documentation.
pub struct QuicInitials {
    /// Connections followed at most.
    max_flows: usize,
    flows: HashMap<FlowKey, Flow>,
    /// `flows`' keys in arrival order, for eviction.
    order: ArrivalOrder<FlowKey>,
    serial: u64,
    last_sweep_ns: i64,
    stats: QuicInitialStats,
    plain: Vec<u8>,
    header: Vec<u8>,
    types: Vec<u32>,
    crypto: Vec<u8>,
    spans: Vec<(u64, usize, usize)>,
}

/// The side data of a packet whose ClientHello [`QuicInitials`] completed:
/// the connection ID its Initial keys come from, and the ClientHello
/// message (handshake header included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attachment<'a> {
    pub key_dcid: &'a [u8],
    pub client_hello: &'a [u8],
}

/// The UDP payload of an unfragmented IPv4 or IPv6 packet (no extension
/// headers), and its 4-tuple.
fn udp_payload(ip: &[u8]) -> Option<(FlowKey, &[u8])> {
    let mut key = FlowKey { src: [0; 16], dst: [0; 16], src_port: 0, dst_port: 0, v6: false };
    let udp = match ip.first()? >> 4 {
        4 => {
            let ihl = usize::from(ip[0] & 0x0f) * 4;
            let flags_offset = u16::from_be_bytes([*ip.get(6)?, *ip.get(7)?]);
            if ip.get(9) != Some(&17) || ihl < 20 || flags_offset & 0x3fff != 0 {
                return None;
            }
            let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
            key.src[..4].copy_from_slice(ip.get(12..16)?);
            key.dst[..4].copy_from_slice(ip.get(16..20)?);
            ip.get(ihl..total.max(ihl).min(ip.len()))?
        }
        6 => {
            if ip.get(6) != Some(&17) {
                return None;
            }
            key.v6 = true;
            key.src.copy_from_slice(ip.get(8..24)?);
            key.dst.copy_from_slice(ip.get(24..40)?);
            let len = usize::from(u16::from_be_bytes([*ip.get(4)?, *ip.get(5)?]));
            ip.get(40..(40 + len).min(ip.len()))?
        }
        _ => return None,
    };
    key.src_port = u16::from_be_bytes([*udp.first()?, *udp.get(1)?]);
    key.dst_port = u16::from_be_bytes([*udp.get(2)?, *udp.get(3)?]);
    Some((key, udp.get(8..)?))
}

impl Default for QuicInitials {
    fn default() -> Self {
        Self::with_capacity(MAX_FLOWS)
    }
}

impl QuicInitials {
    pub fn new() -> Self {
        Self::default()
    }

    /// A tracker of at most `max_flows` connections (at least 1).
    pub fn with_capacity(max_flows: usize) -> Self {
        QuicInitials {
            max_flows: max_flows.max(1),
            flows: HashMap::new(),
            order: ArrivalOrder::default(),
            serial: 0,
            last_sweep_ns: 0,
            stats: QuicInitialStats::default(),
            plain: Vec::new(),
            header: Vec::new(),
            types: Vec::new(),
            crypto: Vec::new(),
            spans: Vec::new(),
        }
    }

    pub fn stats(&self) -> &QuicInitialStats {
        &self.stats
    }

    /// Connections followed now.
    pub fn pending(&self) -> usize {
        self.flows.len()
    }

    /// Feeds one IP packet (from its IP header on): [`QuicInitials::push_datagram`]
    /// for its UDP payload (tests and fuzzing).
    pub fn push(&mut self, timestamp_ns: i64, ip: &[u8]) -> Option<Attachment<'_>> {
        let (key, payload) = udp_payload(ip)?;
        self.push_datagram(timestamp_ns, key, payload)
    }

    /// Feeds one UDP datagram's payload sent from `key.src` to `key.dst`.
    /// Returns the [`Attachment`] when this packet completes a ClientHello.
    pub fn push_datagram(&mut self, timestamp_ns: i64, key: FlowKey, payload: &[u8]) -> Option<Attachment<'_>> {
        if payload.len() < 1200 || !quic::looks_like_initial(payload) {
            return None;
        }
        let h = quic::parse(payload).ok()?;
        if timestamp_ns.saturating_sub(self.last_sweep_ns) >= 1_000_000_000 || timestamp_ns < self.last_sweep_ns {
            self.expire(timestamp_ns);
        }
        // The connection's key ID first, then (a new connection, or the
        // client's restart after a Retry) the packet's own.
        let known = self.flows.get(&key).filter(|f| f.version == h.version && f.key_dcid != h.dcid);
        let mut decrypted = false;
        if let Some(flow) = known {
            decrypted = quic::client_keys(h.version, &flow.key_dcid)
                .and_then(|k| quic::decrypt(payload, &h, &k, &mut self.plain, &mut self.header))
                .is_some();
        }
        let restart = !decrypted;
        if restart {
            let keys = quic::client_keys(h.version, h.dcid)?;
            quic::decrypt(payload, &h, &keys, &mut self.plain, &mut self.header)?;
        }
        self.stats.initials += 1;
        quic::frames(&self.plain, &mut self.types, &mut self.crypto, &mut self.spans, quic::is_gquic_tls(h.version));
        if restart && self.flows.get(&key).is_none_or(|f| f.key_dcid != h.dcid || f.version != h.version) {
            self.start(key, timestamp_ns, h.version, h.dcid);
        }
        let flow = self.flows.get_mut(&key)?;
        let mut own = 0;
        for &(offset, start, end) in &self.spans {
            if let (Ok(offset), Some(data)) = (usize::try_from(offset), self.plain.get(start..end)) {
                flow.insert(offset, data);
                own += data.len();
            }
        }
        let (start, end) = flow.next_client_hello()?;
        flow.reported = end;
        // More than this packet's CRYPTO bytes, an offset past 0, or keys
        // from another packet: the packet alone would not give it.
        if end - start > own || start > 0 || !restart {
            self.stats.reassembled += 1;
        }
        let flow = self.flows.get(&key)?;
        Some(Attachment { key_dcid: &flow.key_dcid, client_hello: flow.stream.get(start..end)? })
    }

    fn start(&mut self, key: FlowKey, now: i64, version: u32, dcid: &[u8]) {
        let flows = &self.flows;
        let live = |serial, key: &FlowKey| flows.get(key).is_some_and(|f| f.serial == serial);
        if !flows.contains_key(&key)
            && flows.len() >= self.max_flows
            && let Some(oldest) = self.order.oldest(None, live)
        {
            self.flows.remove(&oldest);
            self.stats.dropped += 1;
        }
        self.serial += 1;
        let flow = self.flows.entry(key).or_default();
        flow.key_dcid.clear();
        flow.key_dcid.extend_from_slice(dcid);
        flow.version = version;
        flow.stream.clear();
        flow.have.clear();
        flow.reported = 0;
        flow.first_seen_ns = now;
        flow.serial = self.serial;
        let flows = &self.flows;
        self.order
            .push(self.serial, key, flows.len(), |serial, key| flows.get(key).is_some_and(|f| f.serial == serial));
    }

    fn expire(&mut self, now: i64) {
        self.last_sweep_ns = now;
        let before = self.flows.len();
        self.flows.retain(|_, f| now.saturating_sub(f.first_seen_ns) <= TIMEOUT_NS);
        self.stats.dropped += (before - self.flows.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hellos_complete_across_inserts_and_in_sequence() {
        let mut f = Flow::default();
        // A 6-byte ClientHello (header + 2 bytes) in two pieces, then a second one.
        f.insert(3, &[2, 0xaa, 0xbb]);
        assert_eq!(f.next_client_hello(), None);
        f.insert(0, &[1, 0, 0]);
        assert_eq!(f.next_client_hello(), Some((0, 6)));
        f.reported = 6;
        f.insert(6, &[1, 0, 0, 0]);
        assert_eq!(f.next_client_hello(), Some((6, 10)));
        // Out of bounds data is ignored, never a panic.
        f.insert(MAX_STREAM - 1, &[0, 0]);
        f.insert(usize::MAX, &[0]);
    }

    #[test]
    fn only_large_udp_datagrams_are_looked_at() {
        let mut q = QuicInitials::new();
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        ip.extend_from_slice(&[0x1f, 0x90, 0x01, 0xbb, 0, 0, 0, 0]);
        ip.extend_from_slice(&[0xc0, 0, 0, 0, 1, 0, 0]);
        let total = ip.len() as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        assert!(q.push(0, &ip).is_none());
        assert_eq!(q.stats().initials, 0);
    }
}
