//! Alert probabilities are numbers (docs/spot.md, "Output"): over every
//! input stream of the reference vectors (testdata/spot-vectors, including
//! the degenerate constant and Bernoulli streams whose fits fail or have
//! σ = 0), with both tails, with and without drift, discarding or keeping
//! anomalies, every excess and anomaly carries a probability in [0, 1], and
//! every other code "no probability" (NaN). The JSON line and the alert
//! line carry the record's probability.

use netcap_spot::detector::code;
use netcap_spot::{Detector, DetectorParams, Side, Stat, StatResult, TickResult};
use std::path::PathBuf;

fn inputs() -> Vec<(String, Vec<f64>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/spot-vectors");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("input-") && n.ends_with(".txt"))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    names
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(dir.join(&name)).unwrap();
            let values = text.lines().map(|l| l.trim().parse::<f64>().unwrap()).collect();
            (name, values)
        })
        .collect()
}

fn params() -> Vec<DetectorParams> {
    let mut all = Vec::new();
    for side in [Side::Upper, Side::Lower, Side::Both] {
        for depth in [0, 50] {
            for keep_anomalies in [false, true] {
                for (n_init, max_excess, q, level) in [(1000, 200, 5e-4, 0.98), (20, 5, 1e-2, 0.9)] {
                    all.push(DetectorParams { q, level, max_excess, side, n_init, depth, keep_anomalies });
                }
            }
        }
    }
    all
}

#[test]
fn probabilities_are_never_nan_across_the_vectors() {
    let mut judged = 0;
    let mut anomalies = 0;
    let mut degenerate = 0;
    for (name, values) in inputs() {
        for p in params() {
            let mut det = Detector::new(p).unwrap();
            // A spike after the stream, so that even the constant streams
            // end with something beyond their thresholds.
            for (i, &x) in values.iter().chain([1e6, -1e6].iter()).enumerate() {
                let r = det.step(x);
                match r.code {
                    code::EXCESS_UP | code::EXCESS_LOW | code::ANOMALY_UP | code::ANOMALY_LOW => {
                        assert!((0.0..=1.0).contains(&r.probability), "{name} {p:?} step {i}: {r:?}");
                        judged += 1;
                        anomalies += usize::from(r.is_anomaly());
                        let tail = if r.code > 0 { det.upper() } else { det.lower() };
                        degenerate += usize::from(tail.is_some_and(|s| s.probability(x - r.drift).is_nan()));
                    }
                    _ => assert!(r.probability.is_nan(), "{name} {p:?} step {i}: no probability expected: {r:?}"),
                }
            }
        }
    }
    assert!(judged > 100_000 && anomalies > 1000, "{judged} {anomalies}");
    // The raw GPD formula has no answer for some of them: the case this
    // test is about.
    assert!(degenerate > 0, "the degenerate streams must exercise the fallback");
}

/// A constant calibration batch fits no tail (NaN thresholds); the excesses
/// that follow sit on the excess threshold (σ = 0). The spike that ends up
/// beyond the anomaly threshold gets probability 0, not NaN, in the record,
/// the JSON line and the alert line.
#[test]
fn degenerate_fit_alert_has_a_probability_everywhere() {
    let params = DetectorParams { n_init: 100, depth: 0, ..DetectorParams::default() };
    let mut det = Detector::new(params).unwrap();
    for _ in 0..99 {
        assert_eq!(det.step(1.0).code, code::INIT);
    }
    let fit = det.step(1.0);
    assert_eq!(fit.code, code::CALIBRATION);
    assert!(fit.up.anomaly.is_nan(), "no strict excess: no fit: {fit:?}");
    let first = det.step(1.0);
    assert_eq!((first.code, first.probability), (code::EXCESS_UP, 0.0), "s = 0 excesses / 100");
    let second = det.step(1.0);
    assert_eq!((second.code, second.probability), (code::EXCESS_UP, 1.0 / 101.0));
    let spike = det.step(5.0);
    assert_eq!(spike.code, code::ANOMALY_UP, "{spike:?}");
    assert_eq!(spike.probability, 0.0, "beyond a tail of zero scale");

    let tick = TickResult {
        start_ns: 1_000_000_000,
        tick_ns: 1_000_000_000,
        first_frame: 1,
        packets: 5,
        stats: vec![StatResult { stat: Stat::Pps, value: 5.0, result: spike }],
    };
    let record = netcap_spot::spot_stat_record(&tick, &tick.stats[0]);
    assert_eq!((record.code, record.probability), (2, 0.0));
    let line = netcap_spot::jsonl_line(&tick);
    assert!(line.contains(r#""alert":{"probability":0}"#), "{line}");
    assert!(!line.contains("NaN"), "{line}");
    let alert = netcap_spot::alert_line(&tick, &tick.stats[0], 0, 0);
    assert!(alert.contains(" probability:0 "), "{alert}");
}
