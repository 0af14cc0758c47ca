//! One host's profile: counters, bounded lists, and its Host record.

use crate::{
    MAX_STRING_BYTES, MAX_STRING_VALUES, MAX_VALUE_BYTES, STRING_OVERHEAD_BYTES, TRACKED_MACS, TRACKED_PEERS,
    TRACKED_PORTS,
};
use std::net::IpAddr;

/// What a string kept in a profile is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Attr {
    // Hosts.
    App,
    DnsName,
    DnsQuery,
    SniRequested,
    SniServed,
    Ja3,
    Ja4,
    Ja3s,
    UserAgent,
    HttpServer,
    // Devices.
    DhcpFingerprint,
    DhcpHostname,
    DhcpVendorClass,
    MdnsName,
    LlmnrName,
    NetbiosName,
    SsdpServer,
}

/// Strings of a profile (names, fingerprints), each kept once, within
/// [`MAX_STRING_BYTES`] and [`MAX_STRING_VALUES`], and within the table's
/// budget.
#[derive(Debug, Default, Clone)]
pub(crate) struct Strings {
    values: Vec<(Attr, Box<str>)>,
    bytes: usize,
}

impl Strings {
    /// Adds `value` as `attr`, taking its cost ([`Strings::cost`]) from
    /// `budget`; returns false if it was left out (no room). Empty values
    /// are ignored; values longer than [`MAX_VALUE_BYTES`] are cut at a
    /// character boundary.
    pub fn add(&mut self, attr: Attr, value: &str, budget: &mut usize) -> bool {
        let value = truncate(value.trim(), MAX_VALUE_BYTES);
        if value.is_empty() || self.values.iter().any(|(a, v)| *a == attr && &**v == value) {
            return true;
        }
        let cost = value.len() + STRING_OVERHEAD_BYTES;
        if self.bytes + value.len() > MAX_STRING_BYTES || self.values.len() >= MAX_STRING_VALUES || *budget < cost {
            return false;
        }
        *budget -= cost;
        self.bytes += value.len();
        self.values.push((attr, value.into()));
        true
    }

    /// What the strings took from the table's budget.
    pub fn cost(&self) -> usize {
        self.bytes + self.values.len() * STRING_OVERHEAD_BYTES
    }

    /// The values of `attr`, sorted.
    pub fn of(&self, attr: Attr) -> Vec<String> {
        let mut out: Vec<String> = self.values.iter().filter(|(a, _)| *a == attr).map(|(_, v)| v.to_string()).collect();
        out.sort_unstable();
        out
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes + self.values.capacity() * std::mem::size_of::<(Attr, Box<str>)>()
    }
}

fn truncate(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    &value[..end]
}

/// Traffic with one peer, or on one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Traffic<K> {
    pub key: K,
    pub packets: u64,
    pub bytes: u64,
}

/// A bounded list of traffic by key (peers, ports): at most `CAP` keys;
/// when full, a new key replaces the one with the fewest bytes if it has
/// more, and is dropped otherwise.
#[derive(Debug, Clone)]
pub(crate) struct TopList<K, const CAP: usize> {
    pub list: Vec<Traffic<K>>,
    /// Keys added (a key dropped and seen again counts again).
    pub distinct: u64,
}

impl<K, const CAP: usize> Default for TopList<K, CAP> {
    fn default() -> Self {
        TopList { list: Vec::new(), distinct: 0 }
    }
}

impl<K: Copy + Eq + Ord, const CAP: usize> TopList<K, CAP> {
    /// Adds traffic for `key`; returns the number of values dropped (0 or 1).
    pub fn add(&mut self, key: K, packets: u64, bytes: u64) -> u64 {
        if let Some(t) = self.list.iter_mut().find(|t| t.key == key) {
            t.packets += packets;
            t.bytes += bytes;
            return 0;
        }
        self.distinct += 1;
        if self.list.len() < CAP {
            self.list.push(Traffic { key, packets, bytes });
            return 0;
        }
        // Full: the smallest (fewest bytes, then the largest key) goes if
        // the new one is bigger.
        let smallest =
            self.list.iter().enumerate().min_by(|(_, a), (_, b)| a.bytes.cmp(&b.bytes).then_with(|| b.key.cmp(&a.key)));
        if let Some((i, t)) = smallest
            && t.bytes < bytes
            && let Some(slot) = self.list.get_mut(i)
        {
            *slot = Traffic { key, packets, bytes };
        }
        1
    }

    /// The `n` largest by bytes (ties: smaller key first).
    pub fn top(&self, n: usize) -> Vec<Traffic<K>> {
        let mut out = self.list.clone();
        out.sort_unstable_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.key.cmp(&b.key)));
        out.truncate(n);
        out
    }

    pub fn heap_bytes(&self) -> usize {
        self.list.capacity() * std::mem::size_of::<Traffic<K>>()
    }
}

/// A port of a host: (IP protocol, port).
pub(crate) type PortKey = (u8, u16);

/// One host's profile.
#[derive(Debug, Clone)]
pub(crate) struct HostProfile {
    pub first_ns: i64,
    /// The frame number of its first packet (the smallest).
    pub first_frame: u64,
    pub last_ns: i64,
    pub packets_sent: u64,
    pub bytes_sent: u64,
    pub packets_received: u64,
    pub bytes_received: u64,
    pub contacted: TopList<IpAddr, TRACKED_PEERS>,
    pub contacted_by: TopList<IpAddr, TRACKED_PEERS>,
    pub served: TopList<PortKey, TRACKED_PORTS>,
    pub contacted_ports: TopList<PortKey, TRACKED_PORTS>,
    /// IP protocols of its packets (a bit per protocol number).
    pub transports: [u64; 4],
    pub macs: Vec<[u8; 6]>,
    /// Community IDs of its first conversations (at most
    /// [`crate::FIRST_CONVERSATIONS`]).
    pub community_ids: Vec<Box<str>>,
    pub strings: Strings,
    pub dropped: u64,
    /// Changed since its last record (live captures).
    pub changed: bool,
}

impl HostProfile {
    pub fn new(now_ns: i64) -> Self {
        HostProfile {
            first_ns: now_ns,
            first_frame: u64::MAX,
            last_ns: now_ns,
            packets_sent: 0,
            bytes_sent: 0,
            packets_received: 0,
            bytes_received: 0,
            contacted: TopList::default(),
            contacted_by: TopList::default(),
            served: TopList::default(),
            contacted_ports: TopList::default(),
            transports: [0; 4],
            macs: Vec::new(),
            community_ids: Vec::new(),
            strings: Strings::default(),
            dropped: 0,
            changed: true,
        }
    }

    /// Whether the host sent or received any packet (hosts named only in
    /// records, such as DNS answers, get no record).
    pub fn has_traffic(&self) -> bool {
        self.packets_sent + self.packets_received > 0
    }

    /// Widens the seen interval to `[first, last]`.
    pub fn seen(&mut self, first_ns: i64, last_ns: i64, first_frame: u64) {
        self.first_frame = self.first_frame.min(first_frame);
        if !self.has_traffic() {
            // Created by a record: the interval starts with its traffic.
            self.first_ns = first_ns;
            self.last_ns = last_ns;
        } else {
            self.first_ns = self.first_ns.min(first_ns);
            self.last_ns = self.last_ns.max(last_ns);
        }
    }

    pub fn add_transport(&mut self, protocol: u8) {
        if let Some(word) = self.transports.get_mut(usize::from(protocol / 64)) {
            *word |= 1 << (protocol % 64);
        }
    }

    pub fn add_mac(&mut self, mac: [u8; 6]) {
        if self.macs.contains(&mac) {
            return;
        }
        if self.macs.len() < TRACKED_MACS {
            self.macs.push(mac);
        } else {
            self.dropped += 1;
        }
    }

    pub fn add_string(&mut self, attr: Attr, value: &str, budget: &mut usize) {
        if !self.strings.add(attr, value, budget) {
            self.dropped += 1;
        }
        self.changed = true;
    }

    /// Heap bytes the profile holds (for the memory bound's tests).
    pub fn heap_bytes(&self) -> usize {
        self.contacted.heap_bytes()
            + self.contacted_by.heap_bytes()
            + self.served.heap_bytes()
            + self.contacted_ports.heap_bytes()
            + self.macs.capacity() * 6
            + self.community_ids.iter().map(|c| c.len() + 16).sum::<usize>()
            + self.strings.heap_bytes()
    }

    /// The transport protocols as names, in protocol-number order.
    pub fn transport_names(&self) -> Vec<String> {
        (0..=255u8)
            .filter(|p| self.transports.get(usize::from(p / 64)).is_some_and(|w| w & (1 << (p % 64)) != 0))
            .map(|p| match p {
                1 => "icmp".to_string(),
                6 => "tcp".to_string(),
                17 => "udp".to_string(),
                58 => "ipv6-icmp".to_string(),
                132 => "sctp".to_string(),
                other => other.to_string(),
            })
            .collect()
    }
}

pub(crate) fn ip_bytes(ip: &IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_list_keeps_the_largest_within_its_bound() {
        let mut list: TopList<u32, 3> = TopList::default();
        assert_eq!(list.add(1, 1, 10), 0);
        assert_eq!(list.add(2, 1, 20), 0);
        assert_eq!(list.add(3, 1, 30), 0);
        assert_eq!(list.add(1, 1, 5), 0);
        // Full: 4 (40 bytes) replaces the smallest (1, 15 bytes).
        assert_eq!(list.add(4, 1, 40), 1);
        // 5 (1 byte) is smaller than every one: dropped.
        assert_eq!(list.add(5, 1, 1), 1);
        assert_eq!(list.distinct, 5);
        let top: Vec<_> = list.top(10).iter().map(|t| (t.key, t.packets, t.bytes)).collect();
        assert_eq!(top, vec![(4, 1, 40), (3, 1, 30), (2, 1, 20)]);
        assert_eq!(list.top(1).len(), 1);
    }

    #[test]
    fn strings_are_kept_once_within_their_bound() {
        let mut budget = 10_000;
        let mut s = Strings::default();
        assert!(s.add(Attr::DnsName, "b.example", &mut budget));
        assert!(s.add(Attr::DnsName, "a.example", &mut budget));
        assert!(s.add(Attr::DnsName, "a.example", &mut budget));
        assert!(s.add(Attr::DnsQuery, "a.example", &mut budget));
        assert!(s.add(Attr::DnsQuery, "  ", &mut budget));
        assert_eq!(s.of(Attr::DnsName), vec!["a.example", "b.example"]);
        assert_eq!(s.of(Attr::DnsQuery), vec!["a.example"]);
        assert_eq!(budget, 10_000 - 3 * (9 + STRING_OVERHEAD_BYTES));
        assert_eq!(s.cost(), 3 * (9 + STRING_OVERHEAD_BYTES));
        let long = "é".repeat(200);
        assert!(s.add(Attr::UserAgent, &long, &mut budget));
        assert_eq!(s.of(Attr::UserAgent)[0].len(), 254);
        // The profile's own bound.
        let mut budget = usize::MAX;
        let mut full = Strings::default();
        let added = (0..1000).filter(|i| full.add(Attr::DnsName, &format!("{i:0>100}"), &mut budget)).count();
        assert_eq!(added, MAX_STRING_BYTES / 100);
        let mut many = Strings::default();
        let added = (0..1000).filter(|i| many.add(Attr::DnsName, &i.to_string(), &mut budget)).count();
        assert_eq!(added, MAX_STRING_VALUES);
        // The table's budget.
        let mut budget = 2 * (10 + STRING_OVERHEAD_BYTES) + 5;
        let mut s = Strings::default();
        let added = (0..10).filter(|i| s.add(Attr::DnsName, &format!("{i:0>10}"), &mut budget)).count();
        assert_eq!((added, budget), (2, 5));
    }

    #[test]
    fn transport_names() {
        let mut h = HostProfile::new(0);
        for p in [17, 6, 58, 1, 132, 255, 47] {
            h.add_transport(p);
        }
        assert_eq!(h.transport_names(), vec!["icmp", "tcp", "udp", "47", "ipv6-icmp", "sctp", "255"]);
    }
}
