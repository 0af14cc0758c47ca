//! Arrival order of the entries of a bounded map, to evict the oldest in
//! constant amortized time. The trackers that use it (IP reassembly, QUIC
//! Initials) found their oldest entry by scanning the whole map, which a
//! flood of fragments or Initials with fresh keys turned into thousands of
//! comparisons per packet once the map was full.
//!
//! Entries are queued with the serial number the map stores beside them.
//! An entry removed from the map (completed, expired, evicted) stays queued
//! until it reaches the front or the queue is compacted; a queued serial
//! that differs from the map's means the key was removed and added again.

use std::collections::VecDeque;

#[derive(Debug)]
pub(crate) struct ArrivalOrder<K> {
    queue: VecDeque<(u64, K)>,
}

impl<K> Default for ArrivalOrder<K> {
    fn default() -> Self {
        ArrivalOrder { queue: VecDeque::new() }
    }
}

impl<K: Copy + PartialEq> ArrivalOrder<K> {
    /// Queues `key`, added to the map with `serial`. `live` says whether a
    /// queued (serial, key) is still in the map; it drops the dead entries
    /// when they outnumber the map's (`map_len`), so the queue stays within
    /// twice the map's bound.
    pub fn push(&mut self, serial: u64, key: K, map_len: usize, live: impl Fn(u64, &K) -> bool) {
        self.queue.push_back((serial, key));
        if self.queue.len() > 2 * map_len + 16 {
            self.queue.retain(|(serial, key)| live(*serial, key));
        }
    }

    /// The oldest key still in the map other than `except`; dead entries in
    /// front of it are dropped.
    pub fn oldest(&mut self, except: Option<&K>, live: impl Fn(u64, &K) -> bool) -> Option<K> {
        while let Some((serial, key)) = self.queue.front() {
            if live(*serial, key) {
                break;
            }
            self.queue.pop_front();
        }
        self.queue.iter().find(|(serial, key)| Some(key) != except && live(*serial, key)).map(|&(_, key)| key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn live(map: &HashMap<u32, u64>) -> impl Fn(u64, &u32) -> bool + '_ {
        move |s, k| map.get(k) == Some(&s)
    }

    #[test]
    fn oldest_live_key_first_and_queue_bounded() {
        let mut map: HashMap<u32, u64> = HashMap::new();
        let mut order = ArrivalOrder::default();
        for (serial, key) in [(1, 10), (2, 20), (3, 30)] {
            map.insert(key, serial);
            order.push(serial, key, map.len(), live(&map));
        }
        assert_eq!(order.oldest(None, live(&map)), Some(10));
        assert_eq!(order.oldest(Some(&10), live(&map)), Some(20));
        // 10 completes; 20 is removed and added again, so it is now newest.
        map.remove(&10);
        map.insert(20, 4);
        order.push(4, 20, map.len(), live(&map));
        assert_eq!(order.oldest(None, live(&map)), Some(30));
        map.remove(&30);
        assert_eq!(order.oldest(None, live(&map)), Some(20));
        // Many short-lived keys: the queue stays near the map's size.
        for serial in 5..10_000u64 {
            let key = serial as u32 + 100;
            map.insert(key, serial);
            order.push(serial, key, map.len(), live(&map));
            map.remove(&key);
        }
        assert!(order.queue.len() <= 2 * map.len() + 17, "{}", order.queue.len());
        assert_eq!(order.oldest(None, live(&map)), Some(20));
    }
}
