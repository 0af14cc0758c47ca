//! Group keys and the hash table that sums connections per group.
//!
//! A top-talker query over a million connections has hundreds of thousands
//! of groups, and the sums no longer fit in the caches: adding a connection
//! costs a memory access, not the arithmetic. The table is built for that:
//! the probe sequence is a short array of 8-byte slots (an index and 32 bits
//! of hash), which stays in cache, while the groups themselves sit densely
//! in insertion order, so creating a group appends instead of touching a
//! random cache line, and reading all groups back is a sequential scan.

use crate::engine::Counters;
use foldhash::fast::RandomState;
use std::cmp::Ordering;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;

/// Group key in fixed binary form, so that keying a record copies bytes and
/// parses nothing: addresses are parsed only for the rows shown. Attributes
/// not grouped by stay zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Key {
    /// Addresses as stored, IPv4 in the first four bytes.
    pub sip: [u8; 16],
    pub dip: [u8; 16],
    /// Application number (0 is ""), see `engine::Apps`.
    pub app: u32,
    pub sport: u16,
    pub dport: u16,
    pub proto: u8,
    /// Address families ([`NO_ADDRESS`], [`IPV4`], [`IPV6`]): `sip` in
    /// bits 0-1, `dip` in bits 2-3.
    pub families: u8,
}

/// Family codes, ordered as `Option<IpAddr>` orders: none (not grouped by,
/// or not an address's length), IPv4, IPv6.
pub(crate) const NO_ADDRESS: u8 = 0;
pub(crate) const IPV4: u8 = 1;
pub(crate) const IPV6: u8 = 2;

/// An address field in key form: its bytes and family code.
#[inline]
pub(crate) fn key_address(bytes: &[u8]) -> ([u8; 16], u8) {
    let mut out = [0u8; 16];
    match bytes.len() {
        4 => {
            out[..4].copy_from_slice(bytes);
            (out, IPV4)
        }
        16 => {
            out.copy_from_slice(bytes);
            (out, IPV6)
        }
        _ => (out, NO_ADDRESS),
    }
}

/// The address a key holds, for a row that is shown.
pub(crate) fn address(bytes: &[u8; 16], family: u8) -> Option<IpAddr> {
    match family {
        IPV4 => Some(IpAddr::from([bytes[0], bytes[1], bytes[2], bytes[3]])),
        IPV6 => Some(IpAddr::from(*bytes)),
        _ => None,
    }
}

impl Key {
    /// All threads of a query hash with its one hasher, which is what puts
    /// a group in the same partition on every thread.
    #[inline]
    pub fn hash(&self, state: &RandomState) -> u64 {
        let mut h = state.build_hasher();
        h.write_u128(u128::from_le_bytes(self.sip));
        h.write_u128(u128::from_le_bytes(self.dip));
        h.write_u64(
            u64::from(self.sport)
                | u64::from(self.dport) << 16
                | u64::from(self.proto) << 32
                | u64::from(self.families) << 40,
        );
        h.write_u32(self.app);
        h.finish()
    }

    /// The order of rows' labels (sip, dip, sport, dport, proto, app; as
    /// `Row::cmp_labels`) without building rows: family codes order as
    /// `Option<IpAddr>` does, zero-padded IPv4 bytes as `Ipv4Addr` does.
    pub fn cmp_labels(&self, other: &Key, apps: &[Box<str>]) -> Ordering {
        let name = |id: u32| apps.get(id as usize).map_or("", |a| a);
        (self.families & 3, &self.sip, self.families >> 2, &self.dip, self.sport, self.dport, self.proto)
            .cmp(&(
                other.families & 3,
                &other.sip,
                other.families >> 2,
                &other.dip,
                other.sport,
                other.dport,
                other.proto,
            ))
            .then_with(|| name(self.app).cmp(name(other.app)))
    }
}

/// Number of hash partitions. Every thread keeps one table per partition,
/// and a group lands in the same partition on every thread, so merging the
/// threads' tables is one independent job per partition, spread over the
/// cores, instead of folding one huge table into another on one core. 64
/// keeps the jobs small and balanced for up to a few dozen cores.
pub(crate) const PARTITIONS: usize = 64;

/// The partition of a hash: its top bits (tables use the low 32).
#[inline]
pub(crate) fn partition(hash: u64) -> usize {
    (hash >> (64 - PARTITIONS.trailing_zeros())) as usize
}

/// One group and its sums.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Group {
    pub key: Key,
    /// Low 32 bits of the key's hash (fits in what would be padding), so
    /// that merging tables does not hash again.
    tag: u32,
    pub counters: Counters,
}

/// A probe slot: 32 bits of hash, and the group's position plus one (0: an
/// empty slot).
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    tag: u32,
    index: u32,
}

/// Sums per group: open addressing with linear probing over `slots` (a
/// power of two long, at most half full), groups in insertion order.
#[derive(Debug, Default)]
pub(crate) struct GroupTable {
    slots: Vec<Slot>,
    groups: Vec<Group>,
}

/// A table with more groups than a slot can number (4 billion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

impl GroupTable {
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Adds `counters` to `key`'s group (`hash` from [`Key::hash`]),
    /// creating it if needed.
    #[inline]
    pub fn add(&mut self, hash: u64, key: &Key, counters: &Counters) -> Result<(), Full> {
        self.add_tagged(hash as u32, key, counters)
    }

    /// Loads the slot a lookup of `hash` starts at, and returns something
    /// from it so that the load happens (see `Partial::flush`).
    #[inline]
    pub fn touch(&self, hash: u64) -> u32 {
        let mask = self.slots.len().wrapping_sub(1);
        self.slots.get(hash as u32 as usize & mask).map_or(0, |slot| slot.index)
    }

    #[inline]
    fn add_tagged(&mut self, tag: u32, key: &Key, counters: &Counters) -> Result<(), Full> {
        if (self.groups.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut at = tag as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot.index == 0 {
                let index = u32::try_from(self.groups.len() + 1).map_err(|_| Full)?;
                self.slots[at] = Slot { tag, index };
                self.groups.push(Group { key: *key, tag, counters: *counters });
                return Ok(());
            }
            if slot.tag == tag
                && let Some(group) = self.groups.get_mut(slot.index as usize - 1)
                && group.key == *key
            {
                group.counters.add(counters);
                return Ok(());
            }
            at = (at + 1) & mask;
        }
    }

    /// Doubles the slots; groups stay where they are.
    #[cold]
    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(16);
        let mask = capacity - 1;
        let mut slots = vec![Slot::default(); capacity];
        for slot in self.slots.iter().filter(|s| s.index != 0) {
            let mut at = slot.tag as usize & mask;
            while slots[at].index != 0 {
                at = (at + 1) & mask;
            }
            slots[at] = *slot;
        }
        self.slots = slots;
    }

    /// Adds every group of `other`.
    pub fn absorb(&mut self, other: GroupTable) -> Result<(), Full> {
        for group in other.groups {
            self.add_tagged(group.tag, &group.key, &group.counters)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u32) -> Key {
        let mut sip = [0; 16];
        sip[..4].copy_from_slice(&n.to_be_bytes());
        Key { sip, families: IPV4, ..Key::default() }
    }

    fn one(bytes: u64) -> Counters {
        Counters { bytes_in: bytes, connections: 1, ..Counters::default() }
    }

    #[test]
    fn sums_per_key_through_growth_and_collisions() {
        let state = RandomState::default();
        let mut table = GroupTable::default();
        for round in 1..=3u64 {
            for n in 0..10_000u32 {
                // Every fourth key with a colliding tag: equal tags must
                // still compare keys.
                let hash = if n % 4 == 0 { 7 } else { key(n).hash(&state) };
                table.add(hash, &key(n), &one(round)).unwrap();
            }
        }
        assert_eq!(table.len(), 10_000);
        for (n, group) in table.groups().iter().enumerate() {
            assert_eq!(group.key, key(n as u32), "insertion order");
            assert_eq!((group.counters.bytes_in, group.counters.connections), (6, 3));
        }
        let mut other = GroupTable::default();
        for n in 5_000..15_000u32 {
            other.add(key(n).hash(&state), &key(n), &one(10)).unwrap();
        }
        // Tags differ from the first table's for the colliding keys: the
        // merged table must still find them by key, as long as the tags it
        // was given are consistent.
        let mut merged = GroupTable::default();
        for n in 0..10_000u32 {
            merged.add(key(n).hash(&state), &key(n), &one(6)).unwrap();
        }
        merged.absorb(other).unwrap();
        assert_eq!(merged.len(), 15_000);
        let bytes: u64 = merged.groups().iter().map(|g| g.counters.bytes_in).sum();
        assert_eq!(bytes, 10_000 * 6 + 10_000 * 10);
        let overlap = merged.groups().iter().filter(|g| g.counters.connections == 2).count();
        assert_eq!(overlap, 5_000);
    }

    #[test]
    fn keys_order_as_rows_do() {
        let v4 = |b: [u8; 4]| key_address(&b);
        let v6 = |b: [u8; 16]| key_address(&b);
        let mut addresses = vec![
            key_address(&[]),
            key_address(&[1, 2, 3]),
            v4([0, 0, 0, 0]),
            v4([9, 0, 0, 1]),
            v4([10, 0, 0, 0]),
            v4([255, 255, 255, 255]),
            v6([0; 16]),
            v6([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1]),
            v6([0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ];
        addresses.dedup();
        for (a, fa) in &addresses {
            for (b, fb) in &addresses {
                let ka = Key { sip: *a, families: *fa, ..Key::default() };
                let kb = Key { sip: *b, families: *fb, ..Key::default() };
                assert_eq!(ka.cmp_labels(&kb, &[]), address(a, *fa).cmp(&address(b, *fb)), "{a:?} {b:?}");
                let ka = Key { dip: *a, families: fa << 2, ..Key::default() };
                let kb = Key { dip: *b, families: fb << 2, ..Key::default() };
                assert_eq!(ka.cmp_labels(&kb, &[]), address(a, *fa).cmp(&address(b, *fb)), "{a:?} {b:?}");
            }
        }
        let apps: Vec<Box<str>> = vec!["".into(), "TLS".into(), "DNS".into()];
        let k = |app| Key { app, ..Key::default() };
        assert_eq!(k(1).cmp_labels(&k(2), &apps), Ordering::Greater, "by name, not number");
        assert_eq!(k(0).cmp_labels(&k(2), &apps), Ordering::Less);
        assert_eq!(k(9).cmp_labels(&k(0), &apps), Ordering::Equal, "unknown numbers read as \"\"");
    }

    #[test]
    fn partitions_cover_the_range() {
        assert_eq!(partition(0), 0);
        assert_eq!(partition(u64::MAX), PARTITIONS - 1);
        let state = RandomState::default();
        let mut seen = [0usize; PARTITIONS];
        for n in 0..64_000u32 {
            seen[partition(key(n).hash(&state))] += 1;
        }
        assert!(seen.iter().all(|n| (700..1300).contains(n)), "{seen:?}");
    }
}
