//! Which statistics to compute, and SPOT's parameters for each.
//!
//! A [`SpotConfig`] starts from the defaults, can be loaded from TOML
//! ([`SpotConfig::from_toml_str`]) and takes per-parameter overrides as
//! key/value strings ([`SpotConfig::set`]), which is how command-line flags
//! such as `-spot-r_syn-q 1e-5` map onto it. The TOML format:
//!
//! ```toml
//! tick = "1s"                     # tick length: ns, us, ms, s, m or h
//! stats = ["PPS", "R_SYN"]        # or "all"; default: netspot v3's six
//! max_empty_ticks = 3600
//!
//! [spot]                          # defaults for every statistic
//! q = 5e-4
//! level = 0.98
//! max_excess = 1000
//! side = "up"                     # "up", "low" or "both"; `low = true` = "low"
//! n_init = 1000
//! depth = 50                      # DSPOT window; 0 = plain SPOT
//! keep_anomalies = false
//!
//! [spot.R_SYN]                    # overrides for one statistic
//! q = 1e-5
//! ```

use crate::detector::{DetectorParams, Side};
use crate::spot::SpotError;
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;

/// The statistics netcap computes per tick (definitions in docs/spot.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stat {
    /// Packets per second.
    Pps,
    /// Wire bytes per second.
    Bps,
    /// Average wire size of a packet.
    Aps,
    /// Entropy (bits) of TCP/UDP destination ports.
    Dpe,
    /// TCP packets with ACK / IP packets.
    Rack,
    /// SYN / (SYN + FIN) over TCP packets.
    Synfin,
    /// netspot v2: bytes per IPv4 packet (IPv4 total length).
    AvgPktSize,
    /// netspot v2: IPv4 TCP ACK packets / IPv4 packets.
    RAck,
    /// netspot v2: IPv4 TCP SYN packets / IPv4 packets.
    RSyn,
    /// netspot v2: ICMPv4 / IPv4 packets.
    RIcmp,
    /// netspot v2: IPv4 packets / packets.
    RIp,
    /// netspot v2: ARP packets / packets.
    RArp,
    /// netspot v2: distinct IPv4 destinations / distinct IPv4 sources.
    RDstSrc,
    /// netspot v2: distinct TCP destination ports / source ports (IPv4).
    RDstSrcPort,
    /// netspot v2: IPv4 packets per millisecond of capture time.
    Traffic,
}

impl Stat {
    pub const ALL: [Stat; 15] = [
        Stat::Pps,
        Stat::Bps,
        Stat::Aps,
        Stat::Dpe,
        Stat::Rack,
        Stat::Synfin,
        Stat::AvgPktSize,
        Stat::RAck,
        Stat::RSyn,
        Stat::RIcmp,
        Stat::RIp,
        Stat::RArp,
        Stat::RDstSrc,
        Stat::RDstSrcPort,
        Stat::Traffic,
    ];

    /// What `-spot` alone enables: netspot v3's statistics.
    pub const DEFAULT: [Stat; 6] = [Stat::Pps, Stat::Bps, Stat::Aps, Stat::Dpe, Stat::Rack, Stat::Synfin];

    /// The name used in records, JSON and configuration (netspot's).
    pub fn name(self) -> &'static str {
        match self {
            Stat::Pps => "PPS",
            Stat::Bps => "BPS",
            Stat::Aps => "APS",
            Stat::Dpe => "DPE",
            Stat::Rack => "RACK",
            Stat::Synfin => "SYNFIN",
            Stat::AvgPktSize => "AVG_PKT_SIZE",
            Stat::RAck => "R_ACK",
            Stat::RSyn => "R_SYN",
            Stat::RIcmp => "R_ICMP",
            Stat::RIp => "R_IP",
            Stat::RArp => "R_ARP",
            Stat::RDstSrc => "R_DST_SRC",
            Stat::RDstSrcPort => "R_DST_SRC_PORT",
            Stat::Traffic => "TRAFFIC",
        }
    }

    /// Case-insensitive; `-` may stand for `_` (`r-syn`, `R_SYN`).
    pub fn from_name(name: &str) -> Option<Stat> {
        let wanted = name.trim().to_ascii_uppercase().replace('-', "_");
        Stat::ALL.into_iter().find(|s| s.name() == wanted)
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// SPOT parameters of one statistic (or the defaults of all).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatParams {
    pub q: f64,
    pub level: f64,
    pub max_excess: usize,
    pub side: Side,
    pub n_init: usize,
    pub depth: usize,
    pub keep_anomalies: bool,
}

impl Default for StatParams {
    /// netspot v3's documented q, level, max_excess and tail; netspot v2's
    /// n_init and depth; anomalies kept out of the model.
    fn default() -> Self {
        let d = DetectorParams::default();
        StatParams {
            q: d.q,
            level: d.level,
            max_excess: d.max_excess,
            side: d.side,
            n_init: d.n_init,
            depth: d.depth,
            keep_anomalies: d.keep_anomalies,
        }
    }
}

/// The parameter names [`SpotConfig::set`] takes.
pub const PARAMS: [&str; 9] = ["q", "level", "max_excess", "side", "low", "up", "n_init", "depth", "keep_anomalies"];

/// A configuration problem, with where it is.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("unknown statistic {name:?} (known: {known})")]
    UnknownStat { name: String, known: String },
    #[error("unknown SPOT parameter {key:?} (known: {known})", known = PARAMS.join(", "))]
    UnknownParam { key: String },
    #[error("unknown configuration key {key:?}")]
    UnknownKey { key: String },
    #[error("{key}: {value:?} is not {expected}")]
    BadValue { key: String, value: String, expected: &'static str },
    #[error("tick {0:?}: expected a positive duration such as 1s, 250ms, 2m")]
    BadTick(String),
    #[error("no statistic enabled")]
    NoStats,
    #[error("SPOT parameters of {stat}: {source}")]
    Spot { stat: Stat, source: SpotError },
    #[error("TOML: {0}")]
    Toml(String),
}

/// Statistics and SPOT parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct SpotConfig {
    /// Enabled statistics, in output order, without duplicates.
    pub stats: Vec<Stat>,
    /// Tick length in nanoseconds (capture time).
    pub tick_ns: i64,
    /// Longest run of empty ticks reported; a longer gap produces none.
    pub max_empty_ticks: u64,
    /// Parameters of every statistic without overrides.
    pub defaults: StatParams,
    /// Per-statistic parameters, complete (defaults + overrides), for the
    /// statistics that have overrides.
    pub per_stat: BTreeMap<Stat, StatParams>,
    /// Overridden (statistic, key) pairs, so that changing a default later
    /// does not overwrite an explicit per-statistic value.
    overridden: BTreeMap<Stat, Vec<&'static str>>,
}

impl Default for SpotConfig {
    /// netspot's defaults, but the ACK ratios (RACK, R_ACK) watch their
    /// lower tail: they are bounded by 1 and sit at 1 in most ticks of
    /// normal traffic, so their upper tail has no room for an excess and
    /// SPOT degenerates on the tie (docs/spot.md); what a flood of SYNs,
    /// UDP or ICMP does to them is a drop.
    fn default() -> Self {
        let mut config = SpotConfig {
            stats: Stat::DEFAULT.to_vec(),
            tick_ns: 1_000_000_000,
            max_empty_ticks: 3600,
            defaults: StatParams::default(),
            per_stat: BTreeMap::new(),
            overridden: BTreeMap::new(),
        };
        for stat in [Stat::Rack, Stat::RAck] {
            // A valid key and value: cannot fail.
            let _ = config.set(Some(stat), "side", "low");
        }
        config
    }
}

impl SpotConfig {
    /// The parameters of `stat`.
    pub fn params(&self, stat: Stat) -> StatParams {
        self.per_stat.get(&stat).copied().unwrap_or(self.defaults)
    }

    /// The detector parameters of `stat`.
    pub fn detector_params(&self, stat: Stat) -> DetectorParams {
        let p = self.params(stat);
        DetectorParams {
            q: p.q,
            level: p.level,
            max_excess: p.max_excess,
            side: p.side,
            n_init: p.n_init,
            depth: p.depth,
            keep_anomalies: p.keep_anomalies,
        }
    }

    /// Enables exactly these statistics (names as in [`Stat::from_name`];
    /// `all` enables every one).
    pub fn set_stats<S: AsRef<str>>(&mut self, names: &[S]) -> Result<(), ConfigError> {
        let mut stats = Vec::new();
        for name in names {
            let name = name.as_ref();
            if name.trim().eq_ignore_ascii_case("all") {
                stats = Stat::ALL.to_vec();
                continue;
            }
            let stat = Stat::from_name(name).ok_or_else(|| unknown_stat(name))?;
            if !stats.contains(&stat) {
                stats.push(stat);
            }
        }
        if stats.is_empty() {
            return Err(ConfigError::NoStats);
        }
        self.stats = stats;
        Ok(())
    }

    /// Sets the tick length from a duration such as `1s`, `250ms`, `2m` or a
    /// bare number of seconds.
    pub fn set_tick(&mut self, text: &str) -> Result<(), ConfigError> {
        self.tick_ns = parse_duration_ns(text).ok_or_else(|| ConfigError::BadTick(text.to_string()))?;
        Ok(())
    }

    /// Sets one SPOT parameter (one of [`PARAMS`], `-` allowed for `_`), for
    /// one statistic or, with `stat = None`, for every statistic that does
    /// not override it. Values are text, as on a command line.
    pub fn set(&mut self, stat: Option<Stat>, key: &str, value: &str) -> Result<(), ConfigError> {
        let key_norm = key.trim().to_ascii_lowercase().replace('-', "_");
        let Some(&key) = PARAMS.iter().find(|k| **k == key_norm) else {
            return Err(ConfigError::UnknownParam { key: key.to_string() });
        };
        let full_key = match stat {
            Some(s) => format!("spot.{s}.{key}"),
            None => format!("spot.{key}"),
        };
        let bad = |expected| ConfigError::BadValue { key: full_key.clone(), value: value.to_string(), expected };
        let apply = |p: &mut StatParams| -> Result<(), ConfigError> {
            let v = value.trim();
            match key {
                "q" => p.q = parse_positive_f64(v).ok_or_else(|| bad("a number > 0"))?,
                "level" => p.level = parse_positive_f64(v).ok_or_else(|| bad("a number > 0"))?,
                "max_excess" => p.max_excess = parse_positive_usize(v).ok_or_else(|| bad("an integer > 0"))?,
                "n_init" => p.n_init = parse_positive_usize(v).ok_or_else(|| bad("an integer > 0"))?,
                "depth" => p.depth = v.parse().map_err(|_| bad("an integer >= 0"))?,
                "keep_anomalies" => p.keep_anomalies = parse_bool(v).ok_or_else(|| bad("true or false"))?,
                "side" => {
                    p.side = match v.to_ascii_lowercase().as_str() {
                        "up" | "upper" | "high" => Side::Upper,
                        "low" | "lower" | "down" => Side::Lower,
                        "both" => Side::Both,
                        _ => return Err(bad("up, low or both")),
                    }
                }
                // netspot v3's `-low`: watch low values instead of high ones.
                "low" => {
                    p.side = if parse_bool(v).ok_or_else(|| bad("true or false"))? { Side::Lower } else { Side::Upper }
                }
                // netspot v2's `up` next to `low`/`down`.
                "up" => {
                    let up = parse_bool(v).ok_or_else(|| bad("true or false"))?;
                    p.side = match (up, p.side.has_lower()) {
                        (true, true) => Side::Both,
                        (true, false) => Side::Upper,
                        (false, _) => Side::Lower,
                    }
                }
                _ => unreachable!("checked against PARAMS"),
            }
            Ok(())
        };
        match stat {
            Some(stat) => {
                let mut p = self.params(stat);
                apply(&mut p)?;
                self.per_stat.insert(stat, p);
                let keys = self.overridden.entry(stat).or_default();
                let canonical = if matches!(key, "low" | "up") { "side" } else { key };
                if !keys.contains(&canonical) {
                    keys.push(canonical);
                }
            }
            None => {
                apply(&mut self.defaults)?;
                // Carry the new default into statistics that did not
                // override this parameter.
                for (s, p) in self.per_stat.iter_mut() {
                    let keys = self.overridden.get(s).map(Vec::as_slice).unwrap_or(&[]);
                    let mut merged = self.defaults;
                    copy_overrides(&mut merged, p, keys);
                    *p = merged;
                }
            }
        }
        Ok(())
    }

    /// Checks every enabled statistic's parameters as SPOT will.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.stats.is_empty() {
            return Err(ConfigError::NoStats);
        }
        if self.tick_ns <= 0 {
            return Err(ConfigError::BadTick(format!("{}ns", self.tick_ns)));
        }
        for &stat in &self.stats {
            crate::detector::Detector::new(self.detector_params(stat))
                .map_err(|source| ConfigError::Spot { stat, source })?;
        }
        Ok(())
    }

    /// Parses a TOML configuration (format in the module documentation) over
    /// the defaults.
    pub fn from_toml_str(text: &str) -> Result<SpotConfig, ConfigError> {
        let mut config = SpotConfig::default();
        config.apply_toml_str(text)?;
        Ok(config)
    }

    /// Applies a TOML configuration over this one (e.g. a file first, then
    /// command-line flags with [`SpotConfig::set`]).
    pub fn apply_toml_str(&mut self, text: &str) -> Result<(), ConfigError> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| ConfigError::Toml(e.to_string()))?;
        // Defaults first, so that per-statistic tables override them.
        let mut per_stat = Vec::new();
        for (key, value) in &table {
            match key.as_str() {
                "tick" => {
                    let text = match value {
                        toml::Value::String(s) => s.clone(),
                        toml::Value::Integer(_) | toml::Value::Float(_) => value_text(value),
                        _ => return Err(ConfigError::BadTick(value_text(value))),
                    };
                    self.set_tick(&text)?;
                }
                "stats" => {
                    let names: Vec<String> = match value {
                        toml::Value::String(s) => s.split(',').map(str::to_string).collect(),
                        toml::Value::Array(a) => a.iter().map(value_text).collect(),
                        _ => {
                            return Err(ConfigError::BadValue {
                                key: "stats".into(),
                                value: value_text(value),
                                expected: "a list of statistic names",
                            });
                        }
                    };
                    self.set_stats(&names)?;
                }
                "max_empty_ticks" => {
                    self.max_empty_ticks = value.as_integer().and_then(|i| u64::try_from(i).ok()).ok_or_else(|| {
                        ConfigError::BadValue {
                            key: key.clone(),
                            value: value_text(value),
                            expected: "an integer >= 0",
                        }
                    })?;
                }
                "spot" => {
                    let Some(spot) = value.as_table() else {
                        return Err(ConfigError::BadValue {
                            key: key.clone(),
                            value: value_text(value),
                            expected: "a table",
                        });
                    };
                    for (k, v) in spot {
                        if let Some(t) = v.as_table() {
                            let stat = Stat::from_name(k).ok_or_else(|| unknown_stat(k))?;
                            per_stat.push((stat, t));
                        } else {
                            self.set(None, k, &value_text(v))?;
                        }
                    }
                }
                _ => return Err(ConfigError::UnknownKey { key: key.clone() }),
            }
        }
        for (stat, t) in per_stat {
            for (k, v) in t {
                self.set(Some(stat), k, &value_text(v))?;
            }
        }
        Ok(())
    }
}

fn copy_overrides(into: &mut StatParams, from: &StatParams, keys: &[&str]) {
    for &k in keys {
        match k {
            "q" => into.q = from.q,
            "level" => into.level = from.level,
            "max_excess" => into.max_excess = from.max_excess,
            "side" => into.side = from.side,
            "n_init" => into.n_init = from.n_init,
            "depth" => into.depth = from.depth,
            "keep_anomalies" => into.keep_anomalies = from.keep_anomalies,
            _ => {}
        }
    }
}

fn unknown_stat(name: &str) -> ConfigError {
    ConfigError::UnknownStat {
        name: name.to_string(),
        known: Stat::ALL.iter().map(|s| s.name()).collect::<Vec<_>>().join(", "),
    }
}

/// A scalar's text, as a command line would give it; tables and arrays
/// come out as a word that no parameter accepts.
fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => format!("{d:?}"),
        toml::Value::Array(_) => "(array)".to_string(),
        toml::Value::Table(_) => "(table)".to_string(),
    }
}

fn parse_positive_f64(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().filter(|x| *x > 0.0 && x.is_finite())
}

fn parse_positive_usize(v: &str) -> Option<usize> {
    v.parse::<usize>().ok().filter(|x| *x > 0)
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `1s`, `250ms`, `2m`, `1h`, `500us`, `100ns`, or a bare number of seconds
/// (fractions allowed: `0.5s`).
pub fn parse_duration_ns(text: &str) -> Option<i64> {
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let scale = match unit {
        "" | "s" => 1e9,
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    let x: f64 = num.trim().parse().ok()?;
    let ns = (x * scale).round();
    (1.0..9.2e18).contains(&ns).then_some(ns as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_spot_md() {
        let c = SpotConfig::default();
        assert_eq!(c.stats, Stat::DEFAULT);
        assert_eq!(c.tick_ns, 1_000_000_000);
        let p = c.params(Stat::RSyn);
        assert_eq!((p.q, p.level, p.max_excess, p.side, p.n_init, p.depth), (5e-4, 0.98, 1000, Side::Upper, 1000, 50));
        assert!(!p.keep_anomalies);
        c.validate().unwrap();
    }

    #[test]
    fn toml_and_overrides() {
        let mut c = SpotConfig::from_toml_str(
            r#"
            tick = "250ms"
            stats = ["pps", "R_SYN", "r-dst-src"]
            [spot]
            q = 1e-4
            depth = 0
            [spot.R_SYN]
            q = 1e-5
            low = true
            "#,
        )
        .unwrap();
        assert_eq!(c.tick_ns, 250_000_000);
        assert_eq!(c.stats, vec![Stat::Pps, Stat::RSyn, Stat::RDstSrc]);
        assert_eq!(c.params(Stat::Pps).q, 1e-4);
        assert_eq!(c.params(Stat::RSyn).q, 1e-5);
        assert_eq!(c.params(Stat::RSyn).side, Side::Lower);
        assert_eq!(c.params(Stat::RSyn).depth, 0);
        // A later default does not undo a per-statistic value.
        c.set(None, "q", "2e-4").unwrap();
        c.set(None, "n-init", "500").unwrap();
        assert_eq!(c.params(Stat::RSyn).q, 1e-5);
        assert_eq!(c.params(Stat::RSyn).n_init, 500);
        assert_eq!(c.params(Stat::Pps).q, 2e-4);
        c.set(Some(Stat::Pps), "side", "both").unwrap();
        assert_eq!(c.params(Stat::Pps).side, Side::Both);
        c.validate().unwrap();
    }

    #[test]
    fn errors_are_typed() {
        assert!(matches!(SpotConfig::from_toml_str("stats = [\"NOPE\"]"), Err(ConfigError::UnknownStat { .. })));
        assert!(matches!(SpotConfig::from_toml_str("[spot]\nqq = 1"), Err(ConfigError::UnknownParam { .. })));
        assert!(matches!(SpotConfig::from_toml_str("[spot]\nq = -1"), Err(ConfigError::BadValue { .. })));
        assert!(matches!(SpotConfig::from_toml_str("tick = \"1 fortnight\""), Err(ConfigError::BadTick(_))));
        assert!(matches!(SpotConfig::from_toml_str("x = 1"), Err(ConfigError::UnknownKey { .. })));
        assert!(matches!(SpotConfig::from_toml_str("q = "), Err(ConfigError::Toml(_))));
        let mut c = SpotConfig::default();
        c.set(Some(Stat::Pps), "q", "0.5").unwrap();
        assert!(matches!(c.validate(), Err(ConfigError::Spot { stat: Stat::Pps, source: SpotError::Q { .. } })));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_ns("1s"), Some(1_000_000_000));
        assert_eq!(parse_duration_ns("250ms"), Some(250_000_000));
        assert_eq!(parse_duration_ns("0.5"), Some(500_000_000));
        assert_eq!(parse_duration_ns("2m"), Some(120_000_000_000));
        assert_eq!(parse_duration_ns("0s"), None);
        assert_eq!(parse_duration_ns("-1s"), None);
    }
}
