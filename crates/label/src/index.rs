//! Ground truth indexed by key and time, so that a connection meets only
//! the alerts of its own conversation and the windows of its own addresses
//! (never a scan of all alerts per record).
//!
//! Alerts are keyed by community ID, or, without one, by protocol and
//! endpoints in canonical order; each key holds its alerts sorted by time,
//! found by binary search. Windows between one attacker and one victim
//! with protocol and ports given are keyed like alerts; other windows whose
//! parties are single addresses are keyed by those addresses; the rest
//! (networks, or any party) are in one list sorted by start. Every list
//! knows its longest window, which bounds how far back a search starts.

use crate::net::{FlowKey, Net};
use crate::truth::{Alert, Window};
use foldhash::fast::FixedState;
use std::collections::HashMap;
use std::net::IpAddr;

type Map<K, V> = HashMap<K, V, FixedState>;

/// Spans `[start, end]` with an index each, sorted by start.
#[derive(Debug, Default)]
pub struct TimeList {
    entries: Vec<(i64, i64, u32)>,
    longest: i64,
}

impl TimeList {
    fn push(&mut self, start: i64, end: i64, index: u32) {
        self.entries.push((start, end, index));
        self.longest = self.longest.max(end.saturating_sub(start));
    }

    fn finish(&mut self) {
        self.entries.sort_unstable();
    }

    /// Calls `each` with the index of every span that meets `[lo, hi]`,
    /// in order of start.
    pub fn meeting(&self, lo: i64, hi: i64, mut each: impl FnMut(u32)) {
        let from = lo.saturating_sub(self.longest);
        let first = self.entries.partition_point(|e| e.0 < from);
        for &(start, end, index) in &self.entries[first..] {
            if start > hi {
                break;
            }
            if end >= lo {
                each(index);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Alerts by community ID and by flow key.
#[derive(Debug, Default)]
pub struct AlertIndex {
    pub by_community_id: Map<Box<str>, TimeList>,
    pub by_flow: Map<FlowKey, TimeList>,
    /// Alerts with neither a community ID nor protocol and endpoints: they
    /// can match nothing.
    pub unjoinable: Vec<u32>,
}

impl AlertIndex {
    pub fn new(alerts: &[Alert]) -> AlertIndex {
        let mut index = AlertIndex::default();
        for (i, alert) in alerts.iter().enumerate() {
            let i = i as u32;
            if let Some(id) = &alert.community_id {
                index.by_community_id.entry(id.as_str().into()).or_default().push(alert.time_ns, alert.time_ns, i);
            } else if let (Some(proto), Some(src), Some(dst)) = (alert.proto, alert.src, alert.dst) {
                index.by_flow.entry(FlowKey::new(proto, src, dst)).or_default().push(alert.time_ns, alert.time_ns, i);
            } else {
                index.unjoinable.push(i);
            }
        }
        index.by_community_id.values_mut().for_each(TimeList::finish);
        index.by_flow.values_mut().for_each(TimeList::finish);
        index
    }
}

/// Windows by flow key, by address, and the rest.
#[derive(Debug, Default)]
pub struct WindowIndex {
    pub by_flow: Map<FlowKey, TimeList>,
    pub by_address: Map<IpAddr, TimeList>,
    pub unanchored: TimeList,
}

/// The addresses one of which every matching connection has, if they are
/// all single hosts.
fn hosts(nets: &[Net]) -> Option<Vec<IpAddr>> {
    (!nets.is_empty() && nets.iter().all(Net::is_host)).then(|| nets.iter().map(|n| n.addr).collect())
}

impl WindowIndex {
    pub fn new(windows: &[Window]) -> WindowIndex {
        let mut index = WindowIndex::default();
        for (i, w) in windows.iter().enumerate() {
            let i = i as u32;
            if let Some(key) = flow_key(w) {
                index.by_flow.entry(key).or_default().push(w.start_ns, w.end_ns, i);
                continue;
            }
            match anchors(w) {
                Some(mut addresses) => {
                    addresses.sort_unstable();
                    addresses.dedup();
                    for addr in addresses {
                        index.by_address.entry(addr).or_default().push(w.start_ns, w.end_ns, i);
                    }
                }
                None => index.unanchored.push(w.start_ns, w.end_ns, i),
            }
        }
        index.by_flow.values_mut().for_each(TimeList::finish);
        index.by_address.values_mut().for_each(TimeList::finish);
        index.unanchored.finish();
        index
    }
}

/// The key of a window that names exactly one conversation: one attacker
/// and one victim address, the protocol, and one port each where the
/// protocol has ports.
fn flow_key(w: &Window) -> Option<FlowKey> {
    if !w.ips.is_empty() || w.all_victim_traffic {
        return None;
    }
    let ([attacker], [victim]) = (w.attackers.as_slice(), w.victims.as_slice()) else { return None };
    if !attacker.is_host() || !victim.is_host() {
        return None;
    }
    let proto = w.proto?;
    if crate::net::has_ports(proto) {
        let victim_port = w.ports.as_ref()?.single()?;
        let attacker_port = w.attacker_ports.as_ref()?.single()?;
        Some(FlowKey::new(proto, (attacker.addr, attacker_port), (victim.addr, victim_port)))
    } else {
        Some(FlowKey::new(proto, (attacker.addr, 0), (victim.addr, 0)))
    }
}

/// Addresses at least one of which is an endpoint of every connection the
/// window matches (see `join::window_matches`), or `None` if some part of
/// the window matches networks or any address.
fn anchors(w: &Window) -> Option<Vec<IpAddr>> {
    let mut out = Vec::new();
    if !w.attackers.is_empty() || !w.victims.is_empty() {
        out.extend(hosts(&w.victims).or_else(|| hosts(&w.attackers))?);
    }
    if w.all_victim_traffic {
        out.extend(hosts(&w.victims)?);
    }
    if !w.ips.is_empty() {
        out.extend(hosts(&w.ips)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_lists_find_what_meets_a_span() {
        let mut list = TimeList::default();
        for (i, (s, e)) in [(10, 20), (0, 100), (30, 30), (40, 45)].into_iter().enumerate() {
            list.push(s, e, i as u32);
        }
        list.finish();
        let meeting = |lo, hi| {
            let mut out = Vec::new();
            list.meeting(lo, hi, |i| out.push(i));
            out
        };
        assert_eq!(meeting(15, 15), [1, 0]);
        assert_eq!(meeting(21, 29), [1]);
        assert_eq!(meeting(30, 30), [1, 2]);
        assert_eq!(meeting(46, 99), [1]);
        assert_eq!(meeting(101, 200), Vec::<u32>::new());
        assert_eq!(meeting(-5, -1), Vec::<u32>::new());
    }
}
