//! Community ID v1 flow hashes (<https://github.com/corelight/community-id-spec>),
//! the flow identifier Zeek, Suricata, Arkime and Wireshark share, so records
//! join with those tools' logs.
//!
//! `"1:" + base64(SHA1(seed ‖ saddr ‖ daddr ‖ proto ‖ 0 ‖ sport ‖ dport))`
//! with the endpoints in a canonical order. SHA-1 costs a few hundred
//! nanoseconds, far more than decoding a header, and consecutive packets
//! mostly belong to few flows, so results are kept in a small direct-mapped
//! cache keyed by the canonical tuple.

use base64::Engine as _;
use sha1::{Digest, Sha1};

const IP_ICMPV4: u8 = 1;
const IP_TCP: u8 = 6;
const IP_UDP: u8 = 17;
const IP_ICMPV6: u8 = 58;
const IP_SCTP: u8 = 132;

/// Length of a v1 ID: "1:" and 28 base64 characters.
const ID_LEN: usize = 30;
const CACHE_SLOTS: usize = 4096;

/// A flow tuple in canonical order, as hashed.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
struct Key {
    /// Source then destination address (4 or 16 bytes each).
    addrs: [u8; 32],
    addr_len: u8,
    proto: u8,
    ports: Option<(u16, u16)>,
}

#[derive(Clone, Default)]
struct Slot {
    key: Key,
    /// The ID as text, its buffer reused when the slot is refilled.
    id: String,
}

/// Computes Community IDs with a per-decoder cache.
pub struct CommunityId {
    seed: u16,
    /// Whether results are cached ([`CommunityId::uncached`]).
    cached: bool,
    slots: Vec<Option<Slot>>,
}

impl Default for CommunityId {
    fn default() -> Self {
        Self::new(0)
    }
}

impl CommunityId {
    pub fn new(seed: u16) -> Self {
        // The cache is allocated on first use: decoders are cheap to make.
        CommunityId { seed, cached: true, slots: Vec::new() }
    }

    /// Without the cache, for callers that compute each tuple's ID once
    /// (per connection rather than per packet): the cache (4096 slots,
    /// 256 KiB) would never hit and would cost every session shard that
    /// memory.
    pub fn uncached(seed: u16) -> Self {
        CommunityId { seed, cached: false, slots: Vec::new() }
    }

    /// Writes the Community ID of a packet into `out` (cleared first).
    /// `transport` is the IP payload (its first bytes give ports or ICMP
    /// type and code); `None` for a packet whose transport header is not
    /// present, like a non-first fragment, which is hashed without ports as
    /// the spec says (Wireshark does the same for IPv4 fragments).
    pub fn write(&mut self, out: &mut String, src: &[u8], dst: &[u8], proto: u8, transport: Option<&[u8]>) {
        let (ports, one_way) = transport.map_or((None, false), |t| flow_ports(proto, t));
        self.write_tuple(out, src, dst, proto, ports, one_way);
    }

    /// Writes the Community ID of a conversation given by its ports (TCP,
    /// UDP, SCTP) or ICMP type and code (`sport`, `dport`: the type and code
    /// of the `src` side's first message), as the flow records hold them.
    pub fn write_conversation(&mut self, out: &mut String, src: &[u8], dst: &[u8], proto: u8, sport: u16, dport: u16) {
        let (ports, one_way) = match proto {
            IP_TCP | IP_UDP | IP_SCTP => (Some((sport, dport)), false),
            IP_ICMPV4 | IP_ICMPV6 => {
                let (kind, code) = (sport as u8, dport as u8);
                flow_ports(proto, &[kind, code])
            }
            _ => (None, false),
        };
        self.write_tuple(out, src, dst, proto, ports, one_way);
    }

    fn write_tuple(
        &mut self,
        out: &mut String,
        src: &[u8],
        dst: &[u8],
        proto: u8,
        ports: Option<(u16, u16)>,
        one_way: bool,
    ) {
        out.clear();
        if src.len() != dst.len() || (src.len() != 4 && src.len() != 16) {
            return;
        }
        let (mut s, mut d, mut p) = (src, dst, ports);
        let ordered = one_way || s < d || (s == d && matches!(p, Some((sp, dp)) if sp < dp));
        if !ordered {
            std::mem::swap(&mut s, &mut d);
            p = p.map(|(a, b)| (b, a));
        }
        let mut key = Key { addr_len: s.len() as u8, proto, ports: p, ..Key::default() };
        key.addrs[..s.len()].copy_from_slice(s);
        key.addrs[16..16 + d.len()].copy_from_slice(d);
        if !self.cached {
            let id = hash(self.seed, s, d, proto, p);
            // The ID is ASCII by construction.
            out.push_str(std::str::from_utf8(&id).unwrap_or_default());
            return;
        }
        if self.slots.is_empty() {
            self.slots.resize(CACHE_SLOTS, None);
        }
        let slot = &mut self.slots[slot_of(&key)];
        let hit = slot.as_ref().is_some_and(|hit| hit.key == key);
        let slot = slot.get_or_insert_with(Slot::default);
        if !hit {
            let id = hash(self.seed, s, d, proto, p);
            slot.key = key;
            slot.id.clear();
            // The ID is ASCII by construction.
            slot.id.push_str(std::str::from_utf8(&id).unwrap_or_default());
        }
        out.push_str(&slot.id);
    }
}

/// Ports of the flow, or ICMP type and code mapped as the spec says; the
/// flag is true for one-way ICMP messages, which are never reordered.
fn flow_ports(proto: u8, transport: &[u8]) -> (Option<(u16, u16)>, bool) {
    let be16 = |b: &[u8], i: usize| b.get(i..i + 2).map(|x| u16::from_be_bytes([x[0], x[1]]));
    match proto {
        IP_TCP | IP_UDP | IP_SCTP => match (be16(transport, 0), be16(transport, 2)) {
            (Some(s), Some(d)) => (Some((s, d)), false),
            _ => (None, false),
        },
        IP_ICMPV4 | IP_ICMPV6 => {
            let (Some(&kind), Some(&code)) = (transport.first(), transport.get(1)) else {
                return (None, false);
            };
            let counterpart = if proto == IP_ICMPV4 { icmpv4_counterpart(kind) } else { icmpv6_counterpart(kind) };
            match counterpart {
                Some(c) => (Some((u16::from(kind), u16::from(c))), false),
                None => (Some((u16::from(kind), u16::from(code))), true),
            }
        }
        _ => (None, false),
    }
}

/// Request/response pairs of ICMPv4: echo, router, timestamp, information,
/// address mask.
fn icmpv4_counterpart(kind: u8) -> Option<u8> {
    Some(match kind {
        8 => 0,
        0 => 8,
        10 => 9,
        9 => 10,
        13 => 14,
        14 => 13,
        15 => 16,
        16 => 15,
        17 => 18,
        18 => 17,
        _ => return None,
    })
}

/// Request/response pairs of ICMPv6: echo, MLD, router and neighbor
/// discovery, node information, home agent address discovery.
fn icmpv6_counterpart(kind: u8) -> Option<u8> {
    Some(match kind {
        128 => 129,
        129 => 128,
        130 => 131,
        131 => 130,
        133 => 134,
        134 => 133,
        135 => 136,
        136 => 135,
        139 => 140,
        140 => 139,
        144 => 145,
        145 => 144,
        _ => return None,
    })
}

fn slot_of(key: &Key) -> usize {
    // Multiply-rotate over the tuple's 64-bit words: a few instructions, and
    // good enough to spread flows over the slots.
    let (sp, dp) = key.ports.unwrap_or_default();
    let mut h = (u64::from(key.proto) << 32 | u64::from(sp) << 16 | u64::from(dp)) ^ 0x9e37_79b9_7f4a_7c15;
    for word in key.addrs.chunks_exact(8) {
        let word = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        h = (h ^ word).wrapping_mul(0x0000_0100_0000_01b3).rotate_left(29);
    }
    (h as usize) % CACHE_SLOTS
}

fn hash(seed: u16, src: &[u8], dst: &[u8], proto: u8, ports: Option<(u16, u16)>) -> [u8; ID_LEN] {
    let mut sha = Sha1::new();
    sha.update(seed.to_be_bytes());
    sha.update(src);
    sha.update(dst);
    sha.update([proto, 0]);
    if let Some((s, d)) = ports {
        sha.update(s.to_be_bytes());
        sha.update(d.to_be_bytes());
    }
    let digest = sha.finalize();
    let mut id = [0u8; ID_LEN];
    id[..2].copy_from_slice(b"1:");
    // 20 digest bytes are 28 base64 characters, which is what the buffer holds.
    let _ = base64::engine::general_purpose::STANDARD.encode_slice(digest.as_slice(), &mut id[2..]);
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(src: &[u8], dst: &[u8], proto: u8, transport: &[u8]) -> String {
        let mut c = CommunityId::default();
        let mut out = String::new();
        c.write(&mut out, src, dst, proto, Some(transport));
        out
    }

    // Values from the spec's baseline (community-id-spec baseline_deflt.json)
    // and tshark's communityid on cidspec-*.pcap.
    #[test]
    fn tcp_both_directions() {
        let a = [128, 232, 110, 120];
        let b = [66, 35, 250, 204];
        let fwd = id(&a, &b, IP_TCP, &[0x88, 0x27, 0x00, 0x50]); // 34855 -> 80
        let rev = id(&b, &a, IP_TCP, &[0x00, 0x50, 0x88, 0x27]);
        assert_eq!(fwd, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
        assert_eq!(fwd, rev);
    }

    #[test]
    fn icmp_echo_pairs_and_one_way() {
        let a = [192, 168, 0, 89];
        let b = [192, 168, 0, 1];
        let req = id(&a, &b, IP_ICMPV4, &[8, 0]);
        let rep = id(&b, &a, IP_ICMPV4, &[0, 0]);
        assert_eq!(req, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
        assert_eq!(req, rep);
        // Destination unreachable has no counterpart: never reordered.
        assert_ne!(id(&a, &b, IP_ICMPV4, &[3, 1]), id(&b, &a, IP_ICMPV4, &[3, 1]));
    }

    #[test]
    fn cache_returns_same_and_fragments_hash_without_ports() {
        let mut c = CommunityId::default();
        let (mut x, mut y) = (String::new(), String::new());
        c.write(&mut x, &[1, 2, 3, 4], &[5, 6, 7, 8], IP_UDP, Some(&[0, 53, 4, 0]));
        c.write(&mut y, &[5, 6, 7, 8], &[1, 2, 3, 4], IP_UDP, Some(&[4, 0, 0, 53]));
        assert_eq!(x, y);
        // Without a transport header (a non-first fragment): no ports.
        c.write(&mut x, &[10, 0, 2, 102], &[10, 0, 1, 101], IP_TCP, None);
        // tshark (communityid, reassembly off): frame 2 of
        // peafowl-tcp_resegment-http_ip_fragmented.pcap.
        assert_eq!(x, "1:G0vEerelnacuouyBhSTnwJ+hLow=");
    }

    #[test]
    fn uncached_ids_equal_cached_ones() {
        let (mut cached, mut uncached) = (CommunityId::new(0), CommunityId::uncached(0));
        let (mut x, mut y) = (String::from("stale"), String::from("stale"));
        cached.write_conversation(&mut x, &[128, 232, 110, 120], &[66, 35, 250, 204], IP_TCP, 34855, 80);
        uncached.write_conversation(&mut y, &[128, 232, 110, 120], &[66, 35, 250, 204], IP_TCP, 34855, 80);
        assert_eq!((x.as_str(), y.as_str()), ("1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="));
        assert!(uncached.slots.is_empty(), "no cache allocated");
    }
}
