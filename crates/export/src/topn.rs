//! Bounded label values for label sets that traffic controls (TLS server
//! names, DNS query names, HTTP hosts): at most N values get a series of
//! their own, everything else is counted under "other".
//!
//! Prometheus keeps every series it ever saw for the retention time, so a
//! label that takes arbitrary values (Netcap's exporter used IPs, ports and
//! DNS answers) grows the server without bound; a hostile sender can do it
//! on purpose. [`TopN`] caps the values; [`BoundedCounterVec`] applies it to
//! a counter family.
//!
//! **Which values get a series.** A counter series must never go down, so a
//! value that has its own series keeps it for the life of the process; "the
//! top N" therefore cannot be re-ranked at every scrape. Values compete for
//! the N places by frequency: candidates are counted in a Space-Saving
//! sketch (Metwally et al., 2005) of bounded size, and a value is promoted
//! once its guaranteed count reaches `min_hits` while places are free. A
//! value seen once among thousands of others never takes a place; a value
//! that keeps coming back does, even after the flood. Occurrences before the
//! promotion stay counted under "other", so the series always sum to the
//! number of occurrences.

use prometheus::{IntCounter, IntCounterVec, Opts, Registry};
use std::borrow::Cow;
use std::collections::HashMap;

/// Label value for everything without a series of its own.
pub const OTHER: &str = "other";
/// Label value standing for an empty value (Prometheus reads an empty label
/// value as no label at all).
pub const EMPTY: &str = "none";
/// Longest label value kept, in bytes; longer values are cut at a character
/// boundary (a DNS name has at most 253 characters).
pub const MAX_VALUE_BYTES: usize = 253;

/// Maps values to at most `n` label values of their own plus [`OTHER`].
#[derive(Debug)]
pub struct TopN {
    n: usize,
    min_hits: u64,
    promoted: HashMap<Box<str>, ()>,
    sketch: SpaceSaving,
}

impl TopN {
    /// At most `n` values get their own label; a value is promoted once it
    /// has been seen at least `min_hits` times for sure (1: the first `n`
    /// distinct values). The candidate sketch holds `max(8 n, 64)` values.
    pub fn new(n: usize, min_hits: u64) -> Self {
        TopN {
            n,
            min_hits: min_hits.max(1),
            promoted: HashMap::with_capacity(n),
            sketch: SpaceSaving::new((8 * n).max(64)),
        }
    }

    /// Counts one occurrence of `value` and returns the label value to count
    /// it under: the (sanitized) value itself, or [`OTHER`].
    pub fn observe<'s>(&'s mut self, value: &str) -> &'s str {
        let value = sanitize(value);
        if !self.promoted.contains_key(value.as_ref()) {
            if self.promoted.len() >= self.n || self.sketch.add(&value) < self.min_hits {
                return OTHER;
            }
            self.sketch.remove(&value);
            self.promoted.insert(value.as_ref().into(), ());
        }
        self.promoted.get_key_value(value.as_ref()).map_or(OTHER, |(k, ())| k)
    }

    /// Values that have a label of their own.
    pub fn promoted(&self) -> impl Iterator<Item = &str> {
        self.promoted.keys().map(|k| k.as_ref())
    }

    /// Places for values (`n`).
    pub fn capacity(&self) -> usize {
        self.n
    }
}

/// Makes a traffic-controlled string usable as a label value: control
/// characters become '?', the value is cut to [`MAX_VALUE_BYTES`], and an
/// empty value becomes [`EMPTY`].
pub fn sanitize(value: &str) -> Cow<'_, str> {
    if value.is_empty() {
        return Cow::Borrowed(EMPTY);
    }
    let mut end = value.len().min(MAX_VALUE_BYTES);
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    let cut = &value[..end];
    if cut.chars().any(char::is_control) {
        Cow::Owned(cut.chars().map(|c| if c.is_control() { '?' } else { c }).collect())
    } else {
        Cow::Borrowed(cut)
    }
}

/// Space-Saving: approximate counts of the most frequent values in bounded
/// memory. Each entry holds a count and the overestimate it may carry.
#[derive(Debug)]
struct SpaceSaving {
    capacity: usize,
    entries: HashMap<Box<str>, Entry>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    count: u64,
    error: u64,
}

impl SpaceSaving {
    fn new(capacity: usize) -> Self {
        SpaceSaving { capacity: capacity.max(1), entries: HashMap::with_capacity(capacity.max(1)) }
    }

    /// Counts `value`; returns its guaranteed count (count minus error).
    fn add(&mut self, value: &str) -> u64 {
        if let Some(e) = self.entries.get_mut(value) {
            e.count += 1;
            return e.count - e.error;
        }
        let mut entry = Entry { count: 1, error: 0 };
        if self.entries.len() >= self.capacity {
            // Replace the least counted: the newcomer inherits its count as
            // possible overestimate.
            let victim = self.entries.iter().min_by_key(|(_, e)| e.count).map(|(k, e)| (k.clone(), *e));
            if let Some((key, old)) = victim {
                self.entries.remove(&key);
                entry = Entry { count: old.count + 1, error: old.count };
            }
        }
        self.entries.insert(value.into(), entry);
        entry.count - entry.error
    }

    fn remove(&mut self, value: &str) {
        self.entries.remove(value);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

/// A counter family with one label whose values traffic controls, bounded
/// by a [`TopN`]: at most `n + 1` series.
pub struct BoundedCounterVec {
    vec: IntCounterVec,
    limiter: TopN,
    /// Series handles by label value, so a hit costs one hash lookup.
    handles: HashMap<Box<str>, IntCounter>,
}

impl BoundedCounterVec {
    /// Registers `name` (help `help`) with the one label `label` in
    /// `registry`.
    pub fn register(
        registry: &Registry,
        name: &str,
        help: &str,
        label: &str,
        n: usize,
        min_hits: u64,
    ) -> prometheus::Result<Self> {
        let vec = IntCounterVec::new(Opts::new(name, help), &[label])?;
        registry.register(Box::new(vec.clone()))?;
        Ok(BoundedCounterVec { vec, limiter: TopN::new(n, min_hits), handles: HashMap::new() })
    }

    /// Counts one occurrence of `value`.
    pub fn inc(&mut self, value: &str) {
        self.inc_by(value, 1);
    }

    /// Counts `hits` occurrences of `value` (as one observation of the
    /// limiter).
    pub fn inc_by(&mut self, value: &str, hits: u64) {
        let label = self.limiter.observe(value);
        if let Some(counter) = self.handles.get(label) {
            counter.inc_by(hits);
            return;
        }
        let counter = self.vec.with_label_values(&[label]);
        counter.inc_by(hits);
        self.handles.insert(label.into(), counter);
    }

    pub fn limiter(&self) -> &TopN {
        &self.limiter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequent_values_get_places_and_one_offs_do_not() {
        let mut top = TopN::new(3, 3);
        // A flood of one-off names, with three popular ones mixed in.
        let mut own = HashMap::<String, u64>::new();
        for i in 0..10_000 {
            let value = match i % 10 {
                0 => "a.example".to_string(),
                1 => "b.example".to_string(),
                2 => "c.example".to_string(),
                _ => format!("unique-{i}.example"),
            };
            let label = top.observe(&value).to_string();
            *own.entry(label).or_default() += 1;
        }
        let mut promoted: Vec<_> = top.promoted().collect();
        promoted.sort_unstable();
        assert_eq!(promoted, ["a.example", "b.example", "c.example"]);
        // Exact sum; the popular names lose only the hits before promotion.
        assert_eq!(own.values().sum::<u64>(), 10_000);
        assert_eq!(own.len(), 4, "{own:?}");
        for name in ["a.example", "b.example", "c.example"] {
            assert_eq!(own[name], 1000 - 2, "{name}");
        }
        assert_eq!(own[OTHER], 7000 + 6);
    }

    #[test]
    fn places_are_never_more_than_n_and_memory_stays_bounded() {
        let mut top = TopN::new(5, 2);
        let mut labels = std::collections::HashSet::new();
        for i in 0..200_000u64 {
            // Every value twice in a row: each would qualify if places were free.
            let value = format!("v{}", i / 2);
            labels.insert(top.observe(&value).to_string());
            assert!(top.sketch.len() <= 64);
        }
        assert_eq!(top.promoted().count(), 5);
        assert_eq!(labels.len(), 6, "five values and other");
        assert!(labels.contains(OTHER));
    }

    #[test]
    fn a_promoted_value_keeps_its_place() {
        let mut top = TopN::new(1, 1);
        assert_eq!(top.observe("first"), "first");
        for i in 0..1000 {
            assert_eq!(top.observe(&format!("x{i}")), OTHER);
            assert_eq!(top.observe(&format!("x{i}")), OTHER);
        }
        assert_eq!(top.observe("first"), "first");
    }

    #[test]
    fn a_late_heavy_hitter_still_gets_a_free_place() {
        let mut top = TopN::new(2, 4);
        for i in 0..5000 {
            top.observe(&format!("noise{i}"));
        }
        assert_eq!(top.promoted().count(), 0, "one-offs take no place");
        let labels: Vec<_> = (0..6).map(|_| top.observe("late.example").to_string()).collect();
        // Space-Saving may overestimate a newcomer, never its guaranteed count.
        assert_eq!(labels.iter().filter(|l| *l == "late.example").count(), 3, "{labels:?}");
    }

    #[test]
    fn zero_places_put_everything_in_other() {
        let mut top = TopN::new(0, 1);
        for v in ["a", "b", "a"] {
            assert_eq!(top.observe(v), OTHER);
        }
    }

    #[test]
    fn hostile_values_become_safe_label_values() {
        assert_eq!(sanitize(""), EMPTY);
        assert_eq!(sanitize("ok.example"), "ok.example");
        assert_eq!(sanitize("a\nb\u{0}c\u{7f}"), "a?b?c?");
        let long = "é".repeat(300);
        let cut = sanitize(&long);
        assert!(cut.len() <= MAX_VALUE_BYTES && cut.len() >= MAX_VALUE_BYTES - 1, "{}", cut.len());
        assert!(cut.chars().all(|c| c == 'é'));
        // Values equal after sanitizing share a place.
        let mut top = TopN::new(2, 1);
        assert_eq!(top.observe("a\nb"), "a?b");
        assert_eq!(top.observe("a\rb"), "a?b");
        assert_eq!(top.promoted().count(), 1);
    }

    #[test]
    fn bounded_counter_vec_exposes_at_most_n_plus_one_series() {
        let registry = Registry::new();
        let mut sni =
            BoundedCounterVec::register(&registry, "test_tls_server_names_total", "test", "server_name", 2, 1).unwrap();
        for i in 0..100 {
            sni.inc(&format!("host{}", i % 7));
        }
        sni.inc_by("host0", 10);
        let families = registry.gather();
        let metrics = families[0].get_metric();
        assert_eq!(metrics.len(), 3);
        let total: u64 = metrics.iter().map(|m| m.get_counter().get_value() as u64).sum();
        assert_eq!(total, 110);
        let value = |name: &str| {
            metrics.iter().find(|m| m.get_label()[0].value() == name).map(|m| m.get_counter().get_value() as u64)
        };
        assert_eq!(value("host0"), Some(15 + 10));
        assert_eq!(value("host1"), Some(15));
        assert_eq!(value(OTHER), Some(100 - 15 - 15));
        assert_eq!(sni.limiter().capacity(), 2);
    }
}
