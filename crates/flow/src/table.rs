//! A bounded table of the connections of one shard.
//!
//! Connections live in a slab; a hash table of slab indices finds them by
//! exact key. Two intrusive lists order the slots by last packet (in packet
//! order): open connections, and TCP connections that have closed and only
//! linger to absorb their last packets. Idle expiry and eviction take list
//! heads, so both are O(1) per connection ended; a packet costs one hash
//! lookup and a list move, and allocates nothing once the table is warm.

use crate::conn::{Conn, FlowPacket};
use crate::key::{FlowKey, packet_key};
use crate::{EndedConnection, FlowConfig, FlowCounters, Joined};
use hashbrown::HashTable;
use netcap_decoder::{PacketSummary, tcp_flag};
use netcap_records::TerminationReason;
use std::hash::BuildHasher;

const NIL: u32 = u32::MAX;
const OPEN: usize = 0;
const CLOSING: usize = 1;

/// The list links and the hash come first and the connection's key right
/// after them, so a lookup and a list move touch the slot's first cache line
/// only (the slab is one allocation of 64-byte aligned slots).
#[repr(C, align(64))]
struct Slot {
    hash: u64,
    prev: u32,
    next: u32,
    list: u8,
    conn: Conn,
}

// Ten cache lines: keep it so when the connection state changes.
const _: () = assert!(std::mem::size_of::<Slot>() == 640);

#[derive(Clone, Copy)]
struct List {
    head: u32,
    tail: u32,
}

/// The connections of one shard. Feed it the shard's packets in capture
/// order ([`FlowTable::observe`]), call [`FlowTable::expire`] at every
/// batch boundary and [`FlowTable::finish`] at the end; ended connections
/// are appended to the caller's vector.
pub struct FlowTable {
    idle_ns: i64,
    active_ns: i64,
    linger_ns: i64,
    capacity: usize,
    sequences: usize,
    hasher: foldhash::fast::RandomState,
    map: HashTable<u32>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    lists: [List; 2],
    counters: FlowCounters,
}

impl FlowTable {
    /// A table for one of [`crate::SHARDS`] shards: it holds at most
    /// [`FlowConfig::table_capacity`] connections.
    pub fn new(config: &FlowConfig) -> FlowTable {
        FlowTable::with_capacity(config, config.table_capacity())
    }

    /// A table holding at most `capacity` connections (at least 1).
    pub fn with_capacity(config: &FlowConfig, capacity: usize) -> FlowTable {
        let ns = |d: std::time::Duration| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX);
        let capacity = capacity.clamp(1, NIL as usize - 1);
        FlowTable {
            idle_ns: ns(config.idle_timeout).max(1),
            active_ns: ns(config.active_timeout).max(1),
            linger_ns: ns(config.close_linger),
            capacity,
            sequences: config.sequences,
            hasher: foldhash::fast::RandomState::default(),
            // Both reserved whole: no rehash or reallocation ever copies or
            // fragments them, and the slab's pages become resident only as
            // slots are used (the hash table's control bytes, one per
            // bucket, are written at once).
            map: HashTable::with_capacity(capacity),
            slots: Vec::with_capacity(capacity),
            free: Vec::new(),
            lists: [List { head: NIL, tail: NIL }; 2],
            counters: FlowCounters::default(),
        }
    }

    pub fn counters(&self) -> &FlowCounters {
        &self.counters
    }

    /// Connections tracked now.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Adds one packet (in capture order). May end connections: the
    /// packet's own after RST/FIN linger, idle gap or active timeout, or the
    /// oldest idle one when the table is full.
    pub fn observe(&mut self, s: &PacketSummary, ended: &mut Vec<EndedConnection>) {
        match packet_key(s) {
            Some((key, from_a)) => {
                self.observe_keyed(&FlowPacket::from(s), key, from_a, ended);
            }
            None => {
                self.counters.packets += 1;
                self.counters.ignored += 1;
            }
        }
    }

    /// [`FlowTable::observe`] for a packet whose [`packet_key`] the caller
    /// has computed already (to pick its shard), in the slimmer form the
    /// flow threads receive: the key is not computed twice. Returns the
    /// connection the packet joined.
    pub fn observe_keyed(
        &mut self,
        s: &FlowPacket,
        key: FlowKey,
        from_a: bool,
        ended: &mut Vec<EndedConnection>,
    ) -> Joined {
        self.counters.packets += 1;
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        let found = self.map.find(hash, |&i| slots[i as usize].conn.key == key).copied();
        let idx = match found {
            Some(idx) => {
                if let Some(reason) = self.restart_reason(idx, s) {
                    let slot = &mut self.slots[idx as usize];
                    let new = if reason == TerminationReason::ActiveTimeout {
                        slot.conn.continuation(s)
                    } else {
                        Conn::new(key, s, from_a)
                    };
                    let old = std::mem::replace(&mut slot.conn, new);
                    self.counters.created += 1;
                    self.end(old, reason, idx, ended);
                }
                self.unlink(idx);
                idx
            }
            None => self.create(key, hash, s, from_a, ended),
        };
        let slot = &mut self.slots[idx as usize];
        let from_client = slot.conn.is_from_client(from_a);
        slot.conn.add(s, from_client, self.sequences);
        let joined = Self::joined(idx, &slot.conn, from_a);
        let list = if slot.conn.closed.is_some() { CLOSING } else { OPEN };
        self.push_tail(list, idx);
        joined
    }

    /// The open connection of `key`, as a packet from endpoint a (`from_a`)
    /// would join it, without adding a packet (for a datagram reassembled
    /// from fragments the table has counted already).
    pub fn find(&self, key: &FlowKey, from_a: bool) -> Option<Joined> {
        let hash = self.hasher.hash_one(key);
        let slots = &self.slots;
        let idx = *self.map.find(hash, |&i| slots[i as usize].conn.key == *key)?;
        Some(Self::joined(idx, &self.slots[idx as usize].conn, from_a))
    }

    fn joined(idx: u32, c: &Conn, from_a: bool) -> Joined {
        let server = &c.sides[crate::conn::SERVER];
        Joined {
            slot: idx,
            first_frame: c.first_frame,
            first_ts: c.first_ts,
            from_client: c.is_from_client(from_a),
            client_is_a: c.client_is_a,
            flipped: server.packets() > 0 && server.first_frame == c.first_frame,
        }
    }

    /// Why the connection in `idx` must end before packet `s` joins it, if
    /// it must: `s` then starts a new record on the same 5-tuple.
    fn restart_reason(&self, idx: u32, s: &FlowPacket) -> Option<TerminationReason> {
        let slot = &self.slots[idx as usize];
        let c = &slot.conn;
        let since_last = s.timestamp_ns.saturating_sub(c.last_ts);
        if let Some(reason) = c.closed {
            // A SYN (not a SYN-ACK) opens a new connection on a closed 5-tuple.
            let syn = s.has_tcp_flag(tcp_flag::SYN) && !s.has_tcp_flag(tcp_flag::ACK);
            return (syn || since_last >= self.linger_ns).then_some(reason);
        }
        if since_last >= self.idle_ns {
            Some(TerminationReason::IdleTimeout)
        } else if s.timestamp_ns.saturating_sub(c.first_ts) >= self.active_ns {
            Some(TerminationReason::ActiveTimeout)
        } else {
            None
        }
    }

    /// A slot for a new connection, evicting one if the table is full.
    fn create(
        &mut self,
        key: FlowKey,
        hash: u64,
        s: &FlowPacket,
        from_a: bool,
        ended: &mut Vec<EndedConnection>,
    ) -> u32 {
        if self.map.len() >= self.capacity {
            self.evict(ended);
        }
        let conn = Conn::new(key, s, from_a);
        let slot = Slot { conn, hash, prev: NIL, next: NIL, list: OPEN as u8 };
        let idx = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = slot;
                i
            }
            None => {
                self.slots.push(slot);
                (self.slots.len() - 1) as u32
            }
        };
        let slots = &self.slots;
        self.map.insert_unique(hash, idx, |&i| slots[i as usize].hash);
        self.counters.created += 1;
        self.counters.current = self.map.len() as u64;
        self.counters.peak = self.counters.peak.max(self.counters.current);
        idx
    }

    /// Ends the oldest-idle connection: a closed one lingering if there is
    /// one (it has ended already), else the least recently seen open one.
    fn evict(&mut self, ended: &mut Vec<EndedConnection>) {
        if self.lists[CLOSING].head != NIL {
            let idx = self.lists[CLOSING].head;
            let conn = self.remove(idx);
            let reason = conn.closed.unwrap_or(TerminationReason::Fin);
            self.end(conn, reason, idx, ended);
        } else if self.lists[OPEN].head != NIL {
            let idx = self.lists[OPEN].head;
            let conn = self.remove(idx);
            self.counters.evicted += 1;
            self.end(conn, TerminationReason::Evicted, idx, ended);
        }
    }

    /// Ends connections idle for the idle timeout (open) or the close linger
    /// (closed), as of capture time `now_ns`. Call it on every shard at every
    /// batch boundary with the batch's last packet time, whether or not the
    /// shard had packets in the batch, so the result does not depend on
    /// threads.
    pub fn expire(&mut self, now_ns: i64, ended: &mut Vec<EndedConnection>) {
        for (list, timeout) in [(OPEN, self.idle_ns), (CLOSING, self.linger_ns)] {
            loop {
                let idx = self.lists[list].head;
                if idx == NIL || now_ns.saturating_sub(self.slots[idx as usize].conn.last_ts) < timeout {
                    break;
                }
                let conn = self.remove(idx);
                let reason = conn.closed.unwrap_or(TerminationReason::IdleTimeout);
                self.end(conn, reason, idx, ended);
            }
        }
    }

    /// Ends every connection: closed ones with their reason, open ones with
    /// end of capture. The table is empty afterwards.
    pub fn finish(&mut self, ended: &mut Vec<EndedConnection>) {
        for list in [CLOSING, OPEN] {
            while self.lists[list].head != NIL {
                let idx = self.lists[list].head;
                let conn = self.remove(idx);
                let reason = conn.closed.unwrap_or(TerminationReason::EndOfCapture);
                self.end(conn, reason, idx, ended);
            }
        }
    }

    fn end(&mut self, conn: Conn, reason: TerminationReason, slot: u32, ended: &mut Vec<EndedConnection>) {
        if let Some(n) = self.counters.ended.get_mut(reason as usize) {
            *n += 1;
        }
        ended.push(EndedConnection { conn, reason, slot, extras: None });
    }

    /// Takes a connection out of the table, freeing its slot.
    fn remove(&mut self, idx: u32) -> Conn {
        self.unlink(idx);
        let hash = self.slots[idx as usize].hash;
        if let Ok(entry) = self.map.find_entry(hash, |&i| i == idx) {
            entry.remove();
        }
        self.free.push(idx);
        self.counters.current = self.map.len() as u64;
        std::mem::take(&mut self.slots[idx as usize].conn)
    }

    fn unlink(&mut self, idx: u32) {
        let (prev, next, list) = {
            let s = &self.slots[idx as usize];
            (s.prev, s.next, usize::from(s.list))
        };
        match prev {
            NIL if self.lists[list].head == idx => self.lists[list].head = next,
            NIL => return, // not linked
            p => self.slots[p as usize].next = next,
        }
        match next {
            NIL => self.lists[list].tail = prev,
            n => self.slots[n as usize].prev = prev,
        }
        let s = &mut self.slots[idx as usize];
        s.prev = NIL;
        s.next = NIL;
    }

    fn push_tail(&mut self, list: usize, idx: u32) {
        let tail = self.lists[list].tail;
        {
            let s = &mut self.slots[idx as usize];
            s.prev = tail;
            s.next = NIL;
            s.list = list as u8;
        }
        match tail {
            NIL => self.lists[list].head = idx,
            t => self.slots[t as usize].next = idx,
        }
        self.lists[list].tail = idx;
    }
}

/// Bytes one tracked connection takes at most, sequences aside: its slot,
/// its share of the hash table (4-byte index + 1 control byte per bucket;
/// buckets are a power of two of at least 8/7 per entry, so under 16/7
/// per entry) and its free-list entry.
pub(crate) const fn bytes_per_connection() -> usize {
    std::mem::size_of::<Slot>() + 2 * (5usize * 8).div_ceil(7) + 4
}
