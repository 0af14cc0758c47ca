//! Output of closed ticks: `SpotStat` records, netspot v3 JSON lines, and
//! alert log lines.

use crate::detector::{Side, Thresholds, code};
use crate::stats::{CalibrationReport, StatResult, TickResult};
use netcap_records::SpotStat;
use std::fmt::Write as _;
use std::io::{self, Write};

/// The `SpotStat` record of one statistic of a tick (proto/spot.proto).
pub fn spot_stat_record(tick: &TickResult, s: &StatResult) -> SpotStat {
    let r = &s.result;
    // The primary tail is the upper one unless only the lower is watched.
    let (primary, low) = match r.side {
        Side::Upper => (r.up, Thresholds::NAN),
        Side::Lower => (r.low, Thresholds::NAN),
        Side::Both => (r.up, r.low),
    };
    SpotStat {
        timestamp_ns: tick.start_ns,
        frame: tick.first_frame,
        tick_ns: tick.tick_ns,
        stat: s.stat.name().to_string(),
        value: s.value,
        code: r.code,
        excess_threshold: primary.excess,
        anomaly_threshold: primary.anomaly,
        low_excess_threshold: low.excess,
        low_anomaly_threshold: low.anomaly,
        probability: r.probability,
        drift: r.drift,
        packets: tick.packets,
    }
}

/// The records of every statistic of a tick, in the configuration's order.
pub fn spot_stat_records(tick: &TickResult) -> impl Iterator<Item = SpotStat> + '_ {
    tick.stats.iter().map(move |s| spot_stat_record(tick, s))
}

/// Formats a float as Go's `encoding/json` does (shortest round-trip digits;
/// exponent form below 1e-6 and from 1e21), with NaN and infinities as the
/// strings of netspot v3's schema: `"NaN"`, `"Inf"`, `"-Inf"`.
pub fn json_float(out: &mut String, x: f64) {
    if x.is_nan() {
        out.push_str("\"NaN\"");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "\"Inf\"" } else { "\"-Inf\"" });
    } else {
        go_float(out, x);
    }
}

/// Go's `strconv.FormatFloat(x, 'f' or 'e', -1, 64)` as encoding/json picks it.
fn go_float(out: &mut String, x: f64) {
    let abs = x.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        let s = format!("{x:e}");
        // Rust writes 1e-7 and 1.5e21; Go writes 1e-07 → (json) 1e-7, and
        // 1.5e+21.
        match s.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with('-') => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&s),
        }
    } else {
        let _ = write!(out, "{x}");
    }
}

/// RFC 3339 with nanoseconds, UTC, trailing zeros of the fraction dropped:
/// Go's `time.RFC3339Nano`, as encoding/json writes a `time.Time`.
pub fn rfc3339_nano(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = netcap_records::civil::civil_from_days(days);
    let mut s = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s.push('Z');
    s
}

/// One line of netspot v3's JSONL output for a tick (the "Netspot Record"
/// schema): `time` (tick start), `stats` (name → value, spot_result,
/// excess_threshold, anomaly_threshold, and `alert.probability` for an
/// anomaly), and `alerts` (names of the statistics in anomaly) when there are
/// any. Statistics are in name order, as Go writes a map. The thresholds are
/// those of the tail the result concerns (the lower one for negative codes
/// or a lower-tail-only statistic). No trailing newline.
pub fn jsonl_line(tick: &TickResult) -> String {
    let mut out = String::with_capacity(128 + 160 * tick.stats.len());
    out.push_str("{\"time\":\"");
    out.push_str(&rfc3339_nano(tick.start_ns));
    out.push_str("\",\"stats\":{");
    let mut sorted: Vec<&StatResult> = tick.stats.iter().collect();
    sorted.sort_by_key(|s| s.stat.name());
    for (i, s) in sorted.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let th = s.result.thresholds();
        let _ = write!(out, "\"{}\":{{\"value\":", s.stat.name());
        json_float(&mut out, s.value);
        let _ = write!(out, ",\"spot_result\":{},\"excess_threshold\":", s.result.code);
        json_float(&mut out, th.excess);
        out.push_str(",\"anomaly_threshold\":");
        json_float(&mut out, th.anomaly);
        if s.result.is_anomaly() {
            out.push_str(",\"alert\":{\"probability\":");
            json_float(&mut out, s.result.probability);
            out.push('}');
        }
        out.push('}');
    }
    out.push('}');
    let alerts: Vec<&&StatResult> = sorted.iter().filter(|s| s.result.is_anomaly()).collect();
    if !alerts.is_empty() {
        out.push_str(",\"alerts\":[");
        for (i, s) in alerts.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "\"{}\"", s.stat.name());
        }
        out.push(']');
    }
    out.push('}');
    out
}

/// Writes one JSON line per tick.
pub struct JsonlWriter<W: Write> {
    out: W,
}

impl<W: Write> JsonlWriter<W> {
    pub fn new(out: W) -> Self {
        JsonlWriter { out }
    }

    pub fn write_tick(&mut self, tick: &TickResult) -> io::Result<()> {
        let mut line = jsonl_line(tick);
        line.push('\n');
        self.out.write_all(line.as_bytes())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// `HH:MM:SS.mmm` (UTC) of a Unix time in ns.
fn clock(ns: i64) -> String {
    let ms = ns.div_euclid(1_000_000);
    let sod = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}.{:03}", sod / 3600, sod / 60 % 60, sod % 60, ms.rem_euclid(1000))
}

fn log_float(x: f64) -> String {
    let mut s = String::new();
    if x.is_finite() {
        go_float(&mut s, x);
    } else if x.is_nan() {
        s.push_str("NaN");
    } else {
        s.push_str(if x > 0.0 { "+Inf" } else { "-Inf" });
    }
    s
}

/// netspot's log line for an anomaly, e.g.
/// `10:38:19.906 WARN Anomaly detected probability:0.00037 source_time_ns:1175404101000000000 stat:APS threshold:58.97 timesince_ns:500000000000 value:58.99`.
///
/// `now_ns` is the wall clock of the log line (printed UTC); `source_time_ns`
/// is the tick start; `timesince_ns` is the time from `capture_start_ns`
/// (e.g. the first tick's start) to the tick start; `threshold` is the anomaly
/// threshold the value crossed.
pub fn alert_line(tick: &TickResult, s: &StatResult, now_ns: i64, capture_start_ns: i64) -> String {
    format!(
        "{} WARN Anomaly detected probability:{} source_time_ns:{} stat:{} threshold:{} timesince_ns:{} value:{}",
        clock(now_ns),
        log_float(s.result.probability),
        tick.start_ns,
        s.stat.name(),
        log_float(s.result.thresholds().anomaly),
        tick.start_ns.saturating_sub(capture_start_ns),
        log_float(s.value),
    )
}

/// netspot's log line when a statistic's calibration completes
/// (`code::CALIBRATION`), e.g. `10:38:19.904 INFO Stat fit source_time_ns:1175404101000000000 stat:BPS timesince_ns:500000000000`,
/// with the fields of [`alert_line`]; None for any other code.
pub fn fit_line(tick: &TickResult, s: &StatResult, now_ns: i64, capture_start_ns: i64) -> Option<String> {
    (s.result.code == code::CALIBRATION).then(|| {
        format!(
            "{} INFO Stat fit source_time_ns:{} stat:{} timesince_ns:{}",
            clock(now_ns),
            tick.start_ns,
            s.stat.name(),
            tick.start_ns.saturating_sub(capture_start_ns)
        )
    })
}

/// What the end-of-capture summary says about calibration: nothing when
/// every statistic finished calibrating; otherwise which did not, with the
/// ticks with a value each took and still misses (SPOT judges nothing
/// before `depth + n_init` of them), one line per statistic unless they all
/// got as far. The first line is a sentence; the statistic lines are
/// indented by two spaces.
pub fn calibration_lines(report: &CalibrationReport) -> Vec<String> {
    let pending: Vec<_> = report.stats.iter().filter(|c| !c.is_calibrated()).collect();
    let Some(first) = pending.first() else { return Vec::new() };
    let ticks = plural(report.ticks, "tick");
    let head = if pending.len() == report.stats.len() {
        format!("SPOT: no statistic finished calibrating in {ticks}, so none was judged")
    } else {
        format!(
            "SPOT: {} of {} statistics calibrated in {ticks}; not calibrated, so not judged",
            report.stats.len() - pending.len(),
            report.stats.len()
        )
    };
    if pending.iter().all(|c| (c.values, c.needed) == (first.values, first.needed)) {
        let which = if pending.len() == 1 { first.stat.name().to_string() } else { "each".to_string() };
        return vec![format!(
            "{head}: {which} had {} of the {} needed (depth + n_init), {} missing",
            plural(first.values, "tick with a value"),
            first.needed,
            first.missing()
        )];
    }
    let mut lines = vec![format!("{head} (ticks with a value of the depth + n_init needed):")];
    for c in pending {
        lines.push(format!("  {:<14} {} of {}, {} missing", c.stat.name(), c.values, c.needed, c.missing()));
    }
    lines
}

fn plural(n: u64, what: &str) -> String {
    match (n, what.split_once(' ')) {
        (1, _) => format!("1 {what}"),
        (_, Some((noun, rest))) => format!("{n} {noun}s {rest}"),
        (_, None) => format!("{n} {what}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Stat;
    use crate::detector::StepResult;

    fn result(code: i32, up: (f64, f64), probability: f64) -> StepResult {
        StepResult {
            code,
            side: Side::Upper,
            drift: 0.0,
            up: Thresholds { excess: up.0, anomaly: up.1 },
            low: Thresholds::NAN,
            probability,
        }
    }

    fn tick() -> TickResult {
        TickResult {
            start_ns: 1_175_404_101_500_000_000,
            tick_ns: 250_000_000,
            first_frame: 1234,
            packets: 584,
            stats: vec![
                StatResult { stat: Stat::Pps, value: 2336.0, result: result(0, (2400.5, 3100.25), f64::NAN) },
                StatResult {
                    stat: Stat::Aps,
                    value: 58.990582191780824,
                    result: result(2, (55.1, 58.972433165294696), 0.0003707745276524869),
                },
                StatResult { stat: Stat::Synfin, value: f64::NAN, result: result(6, (0.5, 0.75), f64::NAN) },
                StatResult { stat: Stat::Bps, value: 1e21, result: result(3, (f64::NAN, f64::NAN), f64::NAN) },
                StatResult { stat: Stat::Dpe, value: 1.5e-7, result: result(1, (1e-7, f64::INFINITY), 0.01) },
            ],
        }
    }

    #[test]
    fn golden_jsonl_line() {
        let expected = concat!(
            r#"{"time":"2007-04-01T05:08:21.5Z","stats":{"#,
            r#""APS":{"value":58.990582191780824,"spot_result":2,"excess_threshold":55.1,"anomaly_threshold":58.972433165294696,"alert":{"probability":0.0003707745276524869}},"#,
            r#""BPS":{"value":1e+21,"spot_result":3,"excess_threshold":"NaN","anomaly_threshold":"NaN"},"#,
            r#""DPE":{"value":1.5e-7,"spot_result":1,"excess_threshold":1e-7,"anomaly_threshold":"Inf"},"#,
            r#""PPS":{"value":2336,"spot_result":0,"excess_threshold":2400.5,"anomaly_threshold":3100.25},"#,
            r#""SYNFIN":{"value":"NaN","spot_result":6,"excess_threshold":0.5,"anomaly_threshold":0.75}},"#,
            r#""alerts":["APS"]}"#
        );
        assert_eq!(jsonl_line(&tick()), expected);
    }

    #[test]
    fn times() {
        assert_eq!(rfc3339_nano(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_nano(1_175_404_101_043_862_000), "2007-04-01T05:08:21.043862Z");
        assert_eq!(rfc3339_nano(951_782_400_000_000_001), "2000-02-29T00:00:00.000000001Z");
        assert_eq!(rfc3339_nano(-1_000_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn alert_and_fit_lines() {
        let t = tick();
        let line = alert_line(&t, &t.stats[1], 1_700_000_299_906_000_000, 1_175_403_601_000_000_000);
        assert_eq!(
            line,
            "22:18:19.906 WARN Anomaly detected probability:0.0003707745276524869 source_time_ns:1175404101500000000 \
             stat:APS threshold:58.972433165294696 timesince_ns:500500000000 value:58.990582191780824"
        );
        assert_eq!(fit_line(&t, &t.stats[1], 0, 0), None);
    }

    /// The "Stat fit" line is netspot's (seed 001, netspot v3's README):
    /// the same words and fields in the same order, digits aside.
    #[test]
    fn fit_line_is_netspots() {
        let netspot =
            "10:38:19.904 INFO Stat fit source_time_ns:1175404101043862000 stat:BPS timesince_ns:500162607000";
        let mut t = tick();
        t.stats[3].result.code = code::CALIBRATION;
        let line = fit_line(&t, &t.stats[3], 1_700_000_299_906_000_000, 1_175_403_601_000_000_000).unwrap();
        assert_eq!(
            line,
            "22:18:19.906 INFO Stat fit source_time_ns:1175404101500000000 stat:BPS timesince_ns:500500000000"
        );
        let shape = |s: &str| s.chars().map(|c| if c.is_ascii_digit() { '9' } else { c }).collect::<String>();
        assert_eq!(shape(&line), shape(netspot));
        // Every other code gives no line.
        for c in [0, 1, 2, -1, -2, 3, 5, 6] {
            t.stats[3].result.code = c;
            assert_eq!(fit_line(&t, &t.stats[3], 0, 0), None, "code {c}");
        }
    }

    #[test]
    fn calibration_summary() {
        use crate::stats::{Calibration, CalibrationReport};
        let cal = |stat, values| Calibration { stat, values, needed: 1050 };
        let all_done = CalibrationReport { ticks: 2000, stats: vec![cal(Stat::Pps, 1050), cal(Stat::Aps, 1050)] };
        assert!(calibration_lines(&all_done).is_empty());
        // ndpi-1kxun.pcap at 1 s ticks: 179 ticks, all with a value.
        let same = CalibrationReport { ticks: 179, stats: vec![cal(Stat::Pps, 179), cal(Stat::Bps, 179)] };
        assert_eq!(
            calibration_lines(&same),
            ["SPOT: no statistic finished calibrating in 179 ticks, so none was judged: \
              each had 179 ticks with a value of the 1050 needed (depth + n_init), 871 missing"]
        );
        let differ = CalibrationReport { ticks: 179, stats: vec![cal(Stat::Pps, 179), cal(Stat::Synfin, 1)] };
        assert_eq!(
            calibration_lines(&differ),
            [
                "SPOT: no statistic finished calibrating in 179 ticks, so none was judged \
                 (ticks with a value of the depth + n_init needed):",
                "  PPS            179 of 1050, 871 missing",
                "  SYNFIN         1 of 1050, 1049 missing",
            ]
        );
        let partly = CalibrationReport { ticks: 1, stats: vec![cal(Stat::Pps, 1050), cal(Stat::Synfin, 1)] };
        assert_eq!(
            calibration_lines(&partly),
            ["SPOT: 1 of 2 statistics calibrated in 1 tick; not calibrated, so not judged: \
              SYNFIN had 1 tick with a value of the 1050 needed (depth + n_init), 1049 missing"]
        );
    }

    #[test]
    fn record_fields() {
        let t = tick();
        let r = spot_stat_record(&t, &t.stats[1]);
        assert_eq!((r.timestamp_ns, r.frame, r.tick_ns, r.packets), (t.start_ns, 1234, 250_000_000, 584));
        assert_eq!((r.stat.as_str(), r.code), ("APS", 2));
        assert_eq!((r.excess_threshold, r.anomaly_threshold), (55.1, 58.972433165294696));
        assert!(r.low_excess_threshold.is_nan());
        assert_eq!(r.probability, 0.0003707745276524869);
    }
}
