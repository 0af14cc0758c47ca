//! Traffic statistics per tick, and the engine that runs SPOT on them.
//!
//! Data flow, built for the capture pipeline (N workers, ordered writer):
//!
//! 1. Each worker owns a [`TickAccumulator`] and feeds it every decoded
//!    [`PacketSummary`] ([`TickAccumulator::add`]). The accumulator keeps one
//!    [`TickCounters`] per tick its packets fall in; a packet's tick depends
//!    only on its timestamp (ticks are aligned on multiples of the tick
//!    length since the Unix epoch), never on which worker saw it.
//! 2. At the end of a batch the worker hands its counters over
//!    ([`TickAccumulator::drain`]) together with the batch.
//! 3. The single consumer of batches, in batch order, gives them to the
//!    [`StatsEngine`] ([`StatsEngine::add`]), which merges counters of the
//!    same tick exactly: counts add up, distinct-address and port sets are
//!    unions. So the merged counters, hence every value and every SPOT
//!    decision, are the same for any number of workers.
//! 4. Ticks close in order: on capture time when reading files
//!    ([`StatsEngine::add`] returns the ticks older than the newest tick
//!    seen), on the wall clock for live capture ([`StatsEngine::close_before`]
//!    with the tick of "now"), and at the end ([`StatsEngine::finish`]).
//!    Closing a tick computes its statistics and steps one SPOT detector per
//!    statistic.
//!
//! Ticks without packets between two ticks with packets are closed too, with
//! the values the definitions give for no traffic (PPS 0, APS NaN, …), as
//! netspot's ticker does on a live interface. A NaN value is reported and not
//! fed to SPOT. A gap longer than [`crate::config::SpotConfig::max_empty_ticks`]
//! (a capture paused for hours, or a bogus timestamp) produces no ticks at all.
//!
//! Packets that arrive for a tick already closed (capture files are not
//! always in time order) are counted in the oldest tick still open: netspot
//! does the same, counting packets into the period being filled.

use crate::config::{SpotConfig, Stat};
use crate::detector::{Detector, StepResult};
use netcap_decoder::{NetworkKind, PacketSummary, TransportKind, tcp_flag};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

/// A fast hasher for small integer keys (addresses, ports). Set contents,
/// never iteration order, reach the statistics, so the hash function does
/// not affect results.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

impl Hasher for IntHasher {
    fn finish(&self) -> u64 {
        // Fibonacci hashing spreads consecutive keys over the high bits,
        // which hashbrown uses for its control bytes.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(26)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u16(&mut self, n: u16) {
        self.0 ^= u64::from(n);
    }
    fn write_u32(&mut self, n: u32) {
        self.0 ^= u64::from(n);
    }
}

type IntBuild = BuildHasherDefault<IntHasher>;

/// An exact set of 16-bit ports.
#[derive(Clone)]
pub struct PortSet(Box<[u64; 1024]>);

impl Default for PortSet {
    fn default() -> Self {
        PortSet(Box::new([0; 1024]))
    }
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PortSet({} ports)", self.len())
    }
}

impl PortSet {
    fn insert(&mut self, port: u16) {
        self.0[usize::from(port >> 6)] |= 1 << (port & 63);
    }
    fn len(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.count_ones())).sum()
    }
    fn union(&mut self, other: &PortSet) {
        for (a, b) in self.0.iter_mut().zip(other.0.iter()) {
            *a |= *b;
        }
    }
    fn clear(&mut self) {
        self.0.fill(0);
    }
}

/// Which costly counters the enabled statistics need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Needs {
    /// Distinct IPv4 source/destination addresses (R_DST_SRC).
    pub addresses: bool,
    /// Distinct TCP source/destination ports over IPv4 (R_DST_SRC_PORT).
    pub ports: bool,
    /// Destination port histogram (DPE).
    pub port_histogram: bool,
}

impl Needs {
    pub fn of(stats: &[Stat]) -> Needs {
        Needs {
            addresses: stats.contains(&Stat::RDstSrc),
            ports: stats.contains(&Stat::RDstSrcPort),
            port_histogram: stats.contains(&Stat::Dpe),
        }
    }
}

/// Counters of one tick (or of one worker's share of a tick). Mergeable
/// exactly: see [`TickCounters::merge`].
#[derive(Debug, Clone, Default)]
pub struct TickCounters {
    needs: Needs,
    /// Every packet.
    pub packets: u64,
    /// Σ wire length of every packet.
    pub wire_bytes: u64,
    /// Smallest frame number seen (0: none).
    pub first_frame: u64,
    /// Latest capture timestamp seen.
    pub last_timestamp_ns: Option<i64>,
    // netcap's statistics: IPv4 and IPv6.
    /// IPv4 and IPv6 packets.
    pub ip: u64,
    /// TCP packets with ACK / SYN / FIN set (any IP version).
    pub tcp_ack: u64,
    pub tcp_syn: u64,
    pub tcp_fin: u64,
    /// Destination ports of TCP and UDP packets, with their packet counts.
    pub dst_ports: HashMap<u16, u64, IntBuild>,
    // netspot v2's statistics: IPv4 only.
    /// IPv4 packets, and Σ of their total length fields.
    pub ipv4: u64,
    pub ipv4_bytes: u64,
    pub icmpv4: u64,
    pub arp: u64,
    /// IPv4 TCP packets with SYN / ACK set (SYN-ACK counts for both).
    pub ipv4_syn: u64,
    pub ipv4_ack: u64,
    pub ipv4_src: HashSet<u32, IntBuild>,
    pub ipv4_dst: HashSet<u32, IntBuild>,
    /// TCP ports over IPv4.
    pub tcp4_src_ports: PortSet,
    pub tcp4_dst_ports: PortSet,
}

impl TickCounters {
    pub fn new(needs: Needs) -> TickCounters {
        TickCounters { needs, ..TickCounters::default() }
    }

    /// Counts one packet.
    #[inline]
    pub fn add(&mut self, p: &PacketSummary) {
        self.packets += 1;
        self.wire_bytes += u64::from(p.wire_length);
        if self.first_frame == 0 || p.frame < self.first_frame {
            self.first_frame = p.frame;
        }
        self.last_timestamp_ns = Some(self.last_timestamp_ns.map_or(p.timestamp_ns, |t| t.max(p.timestamp_ns)));
        let ipv4 = p.network == NetworkKind::Ipv4;
        match p.network {
            NetworkKind::Ipv4 | NetworkKind::Ipv6 => self.ip += 1,
            NetworkKind::Arp => self.arp += 1,
            NetworkKind::None => {}
        }
        if ipv4 {
            self.ipv4 += 1;
            self.ipv4_bytes += u64::from(p.ip_total_length);
            if self.needs.addresses {
                if let Some(IpAddr::V4(a)) = p.src_ip {
                    self.ipv4_src.insert(u32::from(a));
                }
                if let Some(IpAddr::V4(a)) = p.dst_ip {
                    self.ipv4_dst.insert(u32::from(a));
                }
            }
        }
        match p.transport {
            TransportKind::Tcp => {
                let flags = p.tcp_flags;
                let (syn, ack, fin) =
                    (flags & tcp_flag::SYN != 0, flags & tcp_flag::ACK != 0, flags & tcp_flag::FIN != 0);
                self.tcp_syn += u64::from(syn);
                self.tcp_ack += u64::from(ack);
                self.tcp_fin += u64::from(fin);
                if ipv4 {
                    self.ipv4_syn += u64::from(syn);
                    self.ipv4_ack += u64::from(ack);
                    if self.needs.ports {
                        self.tcp4_src_ports.insert(p.src_port);
                        self.tcp4_dst_ports.insert(p.dst_port);
                    }
                }
                if self.needs.port_histogram {
                    *self.dst_ports.entry(p.dst_port).or_insert(0) += 1;
                }
            }
            TransportKind::Udp if self.needs.port_histogram => {
                *self.dst_ports.entry(p.dst_port).or_insert(0) += 1;
            }
            TransportKind::Icmpv4 if ipv4 => self.icmpv4 += 1,
            _ => {}
        }
    }

    /// Adds `other`'s packets: the result is the same as if every packet of
    /// both had been added to one counter, in any order.
    pub fn merge(&mut self, other: &TickCounters) {
        self.packets += other.packets;
        self.wire_bytes += other.wire_bytes;
        if other.first_frame != 0 && (self.first_frame == 0 || other.first_frame < self.first_frame) {
            self.first_frame = other.first_frame;
        }
        self.last_timestamp_ns = match (self.last_timestamp_ns, other.last_timestamp_ns) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.ip += other.ip;
        self.tcp_ack += other.tcp_ack;
        self.tcp_syn += other.tcp_syn;
        self.tcp_fin += other.tcp_fin;
        for (&port, &n) in &other.dst_ports {
            *self.dst_ports.entry(port).or_insert(0) += n;
        }
        self.ipv4 += other.ipv4;
        self.ipv4_bytes += other.ipv4_bytes;
        self.icmpv4 += other.icmpv4;
        self.arp += other.arp;
        self.ipv4_syn += other.ipv4_syn;
        self.ipv4_ack += other.ipv4_ack;
        self.ipv4_src.extend(other.ipv4_src.iter().copied());
        self.ipv4_dst.extend(other.ipv4_dst.iter().copied());
        if other.needs.ports {
            self.tcp4_src_ports.union(&other.tcp4_src_ports);
            self.tcp4_dst_ports.union(&other.tcp4_dst_ports);
        }
        self.needs = Needs {
            addresses: self.needs.addresses | other.needs.addresses,
            ports: self.needs.ports | other.needs.ports,
            port_histogram: self.needs.port_histogram | other.needs.port_histogram,
        };
    }

    /// Back to zero, keeping the allocations.
    pub fn clear(&mut self) {
        self.packets = 0;
        self.wire_bytes = 0;
        self.first_frame = 0;
        self.last_timestamp_ns = None;
        self.ip = 0;
        self.tcp_ack = 0;
        self.tcp_syn = 0;
        self.tcp_fin = 0;
        self.dst_ports.clear();
        self.ipv4 = 0;
        self.ipv4_bytes = 0;
        self.icmpv4 = 0;
        self.arp = 0;
        self.ipv4_syn = 0;
        self.ipv4_ack = 0;
        self.ipv4_src.clear();
        self.ipv4_dst.clear();
        if self.needs.ports {
            self.tcp4_src_ports.clear();
            self.tcp4_dst_ports.clear();
        }
    }

    /// Shannon entropy (bits) of the destination-port distribution, summed
    /// in port order so that the value does not depend on hash order.
    fn dst_port_entropy(&self) -> f64 {
        let mut counts: Vec<(u16, u64)> = self.dst_ports.iter().map(|(&p, &n)| (p, n)).collect();
        counts.sort_unstable();
        let total: u64 = counts.iter().map(|&(_, n)| n).sum();
        if total == 0 {
            return 0.0;
        }
        let total = total as f64;
        let mut h = 0.0;
        for &(_, n) in &counts {
            let p = n as f64 / total;
            h -= p * p.log2();
        }
        // A single port gives −0.0; report 0.
        h + 0.0
    }
}

/// One worker's counters, per tick, for the packets of one batch (or any
/// run of packets).
#[derive(Debug)]
pub struct TickAccumulator {
    tick_ns: i64,
    needs: Needs,
    ticks: Vec<(i64, TickCounters)>,
    /// Cleared counters to reuse (their allocations are kept).
    spare: Vec<TickCounters>,
}

impl TickAccumulator {
    pub fn new(config: &SpotConfig) -> TickAccumulator {
        TickAccumulator {
            tick_ns: config.tick_ns,
            needs: Needs::of(&config.stats),
            ticks: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// Counts one packet into its tick.
    #[inline]
    pub fn add(&mut self, p: &PacketSummary) {
        let tick = tick_of(p.timestamp_ns, self.tick_ns);
        // Packets come mostly in time order: the current tick is the last.
        let i = match self.ticks.iter().rposition(|(t, _)| *t == tick) {
            Some(i) => i,
            None => {
                let counters = self.spare.pop().unwrap_or_else(|| TickCounters::new(self.needs));
                self.ticks.push((tick, counters));
                self.ticks.len() - 1
            }
        };
        self.ticks[i].1.add(p);
    }

    /// The counters gathered since the last drain, as (tick index, counters).
    pub fn drain(&mut self) -> Vec<(i64, TickCounters)> {
        std::mem::take(&mut self.ticks)
    }

    /// Gives back counters (e.g. returned by [`StatsEngine::recycle`]) for
    /// reuse, so that a warm worker allocates nothing per batch.
    pub fn recycle(&mut self, mut counters: TickCounters) {
        counters.clear();
        self.spare.push(counters);
    }
}

/// Index of the tick holding `timestamp_ns`: ticks are aligned on multiples
/// of the tick length since the Unix epoch.
pub fn tick_of(timestamp_ns: i64, tick_ns: i64) -> i64 {
    timestamp_ns.div_euclid(tick_ns)
}

/// One statistic of one closed tick.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatResult {
    pub stat: Stat,
    pub value: f64,
    pub result: StepResult,
}

/// Everything computed for one closed tick.
#[derive(Debug, Clone, PartialEq)]
pub struct TickResult {
    /// Start of the tick, Unix ns.
    pub start_ns: i64,
    pub tick_ns: i64,
    /// Smallest frame number of the tick's packets; 0 for an empty tick.
    pub first_frame: u64,
    pub packets: u64,
    /// One per enabled statistic, in the configuration's order.
    pub stats: Vec<StatResult>,
}

impl TickResult {
    /// The statistics that raised an alert in this tick.
    pub fn anomalies(&self) -> impl Iterator<Item = &StatResult> {
        self.stats.iter().filter(|s| s.result.is_anomaly())
    }
}

/// The per-tick SPOT engine: see the [module documentation](self).
#[derive(Debug)]
pub struct StatsEngine {
    tick_ns: i64,
    max_empty_ticks: u64,
    detectors: Vec<(Stat, Detector)>,
    open: BTreeMap<i64, TickCounters>,
    /// Next tick to close; None before the first packet.
    next: Option<i64>,
    /// Newest tick seen, for closing on capture time.
    newest: Option<i64>,
    /// TRAFFIC's memory: the last packet time of the previous tick.
    traffic_last_ns: Option<i64>,
    source_time_ns: Option<i64>,
    recycled: Vec<TickCounters>,
    needs: Needs,
    /// Ticks skipped over because a gap was too long.
    skipped_ticks: u64,
    /// Ticks closed (judged), empty ones included.
    closed_ticks: u64,
}

/// How far one statistic got towards calibration (SPOT judges nothing
/// before it): see [`StatsEngine::calibration`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    pub stat: Stat,
    /// Ticks with a defined (non-NaN) value taken towards calibration: the
    /// drift window, then the calibration batch. At most `needed`.
    pub values: u64,
    /// Ticks with a value the statistic needs: `depth + n_init`.
    pub needed: u64,
}

impl Calibration {
    /// True once the statistic's model is fitted.
    pub fn is_calibrated(&self) -> bool {
        self.values >= self.needed
    }

    /// Ticks with a value still missing before the statistic is judged.
    pub fn missing(&self) -> u64 {
        self.needed.saturating_sub(self.values)
    }
}

/// The calibration state of every statistic at some point of a capture
/// (typically its end): see [`crate::output::calibration_lines`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalibrationReport {
    /// Ticks closed so far (empty ticks included).
    pub ticks: u64,
    /// One per enabled statistic, in the configuration's order.
    pub stats: Vec<Calibration>,
}

impl StatsEngine {
    pub fn new(config: &SpotConfig) -> Result<StatsEngine, crate::config::ConfigError> {
        config.validate()?;
        let mut detectors = Vec::with_capacity(config.stats.len());
        for &stat in &config.stats {
            let params = config.detector_params(stat);
            let det = Detector::new(params).map_err(|e| crate::config::ConfigError::Spot { stat, source: e })?;
            detectors.push((stat, det));
        }
        Ok(StatsEngine {
            tick_ns: config.tick_ns,
            max_empty_ticks: config.max_empty_ticks,
            detectors,
            open: BTreeMap::new(),
            next: None,
            newest: None,
            traffic_last_ns: None,
            source_time_ns: None,
            recycled: Vec::new(),
            needs: Needs::of(&config.stats),
            skipped_ticks: 0,
            closed_ticks: 0,
        })
    }

    pub fn tick_ns(&self) -> i64 {
        self.tick_ns
    }

    /// The statistics' detectors, in the configuration's order.
    pub fn detectors(&self) -> &[(Stat, Detector)] {
        &self.detectors
    }

    /// Empty ticks not reported because their gap exceeded the limit.
    pub fn skipped_ticks(&self) -> u64 {
        self.skipped_ticks
    }

    /// Ticks closed so far (judged, or taken towards calibration), empty
    /// ones included.
    pub fn closed_ticks(&self) -> u64 {
        self.closed_ticks
    }

    /// How far each statistic got towards calibration.
    pub fn calibration(&self) -> CalibrationReport {
        CalibrationReport {
            ticks: self.closed_ticks,
            stats: self
                .detectors
                .iter()
                .map(|(stat, det)| Calibration {
                    stat: *stat,
                    values: det.values_learnt() as u64,
                    needed: det.values_needed() as u64,
                })
                .collect(),
        }
    }

    /// Merges a worker's counters for `tick`, without closing anything (for
    /// live capture, where ticks close on the wall clock).
    pub fn merge(&mut self, tick: i64, counters: TickCounters) {
        let tick = match self.next {
            // Late packets count in the oldest tick still open.
            Some(next) if tick < next => self.open.keys().next().copied().unwrap_or(next),
            _ => tick,
        };
        if self.next.is_none() {
            self.next = Some(tick);
        }
        self.newest = Some(self.newest.map_or(tick, |n| n.max(tick)));
        match self.open.get_mut(&tick) {
            Some(c) => {
                c.merge(&counters);
                self.recycled.push(counters);
            }
            None => {
                self.open.insert(tick, counters);
            }
        }
    }

    /// Merges a worker's counters and closes, on capture time, every tick
    /// older than the newest tick seen so far.
    pub fn add(&mut self, tick: i64, counters: TickCounters) -> Vec<TickResult> {
        self.merge(tick, counters);
        match self.newest {
            Some(newest) => self.close_before(newest),
            None => Vec::new(),
        }
    }

    /// Closes every tick before `tick` (exclusive), in order, including empty
    /// ones since the last closed tick.
    pub fn close_before(&mut self, tick: i64) -> Vec<TickResult> {
        let mut out = Vec::new();
        let Some(mut next) = self.next else { return out };
        while next < tick {
            // Skip long runs of empty ticks.
            if !self.open.contains_key(&next) {
                let resume = self.open.keys().next().copied().unwrap_or(tick).min(tick);
                let gap = (resume - next) as u64;
                if gap > self.max_empty_ticks {
                    self.skipped_ticks += gap;
                    next = resume;
                    continue;
                }
            }
            let counters = self.open.remove(&next);
            out.push(self.close(next, counters.as_ref()));
            if let Some(c) = counters {
                self.recycled.push(c);
            }
            next += 1;
        }
        self.next = Some(next);
        out
    }

    /// Closes every tick still open (end of input).
    pub fn finish(&mut self) -> Vec<TickResult> {
        match self.open.keys().next_back() {
            Some(&last) => self.close_before(last + 1),
            None => Vec::new(),
        }
    }

    /// Counters the engine is done with, to hand back to workers
    /// ([`TickAccumulator::recycle`]); optional.
    pub fn recycle(&mut self) -> Vec<TickCounters> {
        std::mem::take(&mut self.recycled)
    }

    /// Which costly counters the enabled statistics need.
    pub fn needs(&self) -> Needs {
        self.needs
    }

    fn close(&mut self, tick: i64, counters: Option<&TickCounters>) -> TickResult {
        let empty = TickCounters::default();
        let c = counters.unwrap_or(&empty);
        if let Some(t) = c.last_timestamp_ns {
            self.source_time_ns = Some(self.source_time_ns.map_or(t, |s| s.max(t)));
        }
        let traffic = self.traffic(c);
        self.closed_ticks += 1;
        let secs = self.tick_ns as f64 / 1e9;
        let mut stats = Vec::with_capacity(self.detectors.len());
        for (stat, det) in &mut self.detectors {
            let value = match stat {
                Stat::Traffic => traffic,
                _ => stat_value(*stat, c, secs),
            };
            stats.push(StatResult { stat: *stat, value, result: det.step(value) });
        }
        TickResult {
            start_ns: tick.saturating_mul(self.tick_ns),
            tick_ns: self.tick_ns,
            first_frame: c.first_frame,
            packets: c.packets,
            stats,
        }
    }

    /// netspot's TRAFFIC: IPv4 packets per millisecond between the last
    /// packets of consecutive ticks; NaN the first time.
    fn traffic(&mut self, c: &TickCounters) -> f64 {
        let Some(now) = self.source_time_ns else { return f64::NAN };
        let Some(last) = self.traffic_last_ns.replace(now) else { return f64::NAN };
        let delta = now - last;
        if delta == 0 || c.ipv4 == 0 { 0.0 } else { 1e6 * c.ipv4 as f64 / delta as f64 }
    }
}

/// `num / den` with netspot's conventions: 0 when the numerator is 0, NaN
/// when only the denominator is.
fn ratio(num: u64, den: u64) -> f64 {
    if num == 0 {
        0.0
    } else if den == 0 {
        f64::NAN
    } else {
        num as f64 / den as f64
    }
}

/// The value of one statistic (TRAFFIC aside: it needs the previous tick)
/// for the counters of one tick of `secs` seconds. See docs/spot.md.
pub fn stat_value(stat: Stat, c: &TickCounters, secs: f64) -> f64 {
    match stat {
        Stat::Pps => c.packets as f64 / secs,
        Stat::Bps => c.wire_bytes as f64 / secs,
        Stat::Aps => {
            if c.packets == 0 {
                f64::NAN
            } else {
                c.wire_bytes as f64 / c.packets as f64
            }
        }
        Stat::Dpe => c.dst_port_entropy(),
        Stat::Rack => {
            if c.ip == 0 {
                f64::NAN
            } else {
                c.tcp_ack as f64 / c.ip as f64
            }
        }
        Stat::Synfin => {
            let n = c.tcp_syn + c.tcp_fin;
            if n == 0 { f64::NAN } else { c.tcp_syn as f64 / n as f64 }
        }
        Stat::AvgPktSize => ratio(c.ipv4_bytes, c.ipv4),
        Stat::RAck => {
            if c.ipv4_ack == 0 || c.ipv4 == 0 {
                0.0
            } else {
                c.ipv4_ack as f64 / c.ipv4 as f64
            }
        }
        Stat::RSyn => {
            if c.ipv4_syn == 0 || c.ipv4 == 0 {
                0.0
            } else {
                c.ipv4_syn as f64 / c.ipv4 as f64
            }
        }
        Stat::RIcmp => ratio(c.icmpv4, c.ipv4),
        Stat::RIp => ratio(c.ipv4, c.packets),
        Stat::RArp => ratio(c.arp, c.packets),
        Stat::RDstSrc => ratio(c.ipv4_dst.len() as u64, c.ipv4_src.len() as u64),
        Stat::RDstSrcPort => ratio(c.tcp4_dst_ports.len(), c.tcp4_src_ports.len()),
        Stat::Traffic => f64::NAN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tick with `packets` packets and nothing else (APS is then defined
    /// exactly when there are packets).
    fn counters(packets: u64) -> TickCounters {
        TickCounters { packets, wire_bytes: 60 * packets, first_frame: 1, ..TickCounters::default() }
    }

    #[test]
    fn calibration_report_counts_ticks_with_a_value() {
        let mut config = SpotConfig::default();
        config.set_stats(&["PPS", "APS"]).unwrap();
        config.set(None, "n_init", "10").unwrap();
        config.set(None, "depth", "2").unwrap();
        let mut engine = StatsEngine::new(&config).unwrap();
        assert_eq!(engine.calibration().ticks, 0);
        // Ticks 0..5 with packets, 5..7 empty (APS NaN), then tick 7 open.
        for tick in [0, 1, 2, 3, 4, 7] {
            engine.add(tick, counters(3));
        }
        let report = engine.calibration();
        assert_eq!(report.ticks, 7);
        assert_eq!(
            report.stats,
            [
                Calibration { stat: Stat::Pps, values: 7, needed: 12 },
                Calibration { stat: Stat::Aps, values: 5, needed: 12 },
            ]
        );
        assert_eq!((report.stats[1].missing(), report.stats[1].is_calibrated()), (7, false));
        for tick in 8..14 {
            engine.add(tick, counters(1));
        }
        engine.finish();
        let report = engine.calibration();
        assert_eq!(report.ticks, 14);
        assert!(report.stats[0].is_calibrated());
        assert_eq!((report.stats[1].values, report.stats[1].missing()), (12, 0));
        assert_eq!(engine.closed_ticks(), 14);
    }
}
