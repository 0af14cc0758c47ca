//! Theory anchors: on long i.i.d. streams, with anomalies kept in the model
//! (so the tail is not truncated by discarded values), SPOT's final anomaly
//! threshold must land within 2% of the true (1 − q) quantile, for q = 1e-3
//! and q = 1e-4.
//!
//! With anomalies kept, the model does not depend on q, so one run per stream
//! gives both: the final anomaly threshold (run with q = 1e-4) and the
//! model's quantile at 1e-3 (what a run with q = 1e-3 ends with).
//!
//! Parameters: level 0.995 and max_excess 5000, so that the tail model holds
//! the whole tail of the million values (about 5000 excesses). With the
//! defaults (level 0.98, max_excess 1000) the model only sees the last 1000
//! excesses, i.e. the last ~50 000 values, and its 1e-4 quantile has a
//! standard deviation of 2.5% (exponential) to 4% (Gaussian) from stream to
//! stream (the reference's anchors.csv, 200 000 values, max_excess 1000,
//! keep): no single stream could be held to 2%. Measured with this test's
//! generator, seeds 1–3: every error within 0.8% (seed 1: Gaussian −0.56% at
//! 1e-4, +0.35% at 1e-3; exponential +0.64%, +0.16%). `ANCHOR_SEEDS`,
//! `ANCHOR_LEVEL` and `ANCHOR_MAX_EXCESS` override the settings.

use netcap_spot::{Spot, SpotParams};

/// SplitMix64: small, seedable, good enough for test streams.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }
    /// Standard normal by the Box–Muller transform (one value per pair).
    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const N: usize = 1_000_000;

fn run(mut next: impl FnMut() -> f64, max_excess: usize) -> (f64, f64) {
    let level: f64 = std::env::var("ANCHOR_LEVEL").ok().and_then(|v| v.parse().ok()).unwrap_or(0.995);
    let params = SpotParams { q: 1e-4, level, max_excess, low: false, discard_anomalies: false };
    let mut spot = Spot::new(params).unwrap();
    let init: Vec<f64> = (0..1000).map(|_| next()).collect();
    spot.fit(&init).unwrap();
    for _ in 1000..N {
        spot.step(next()).unwrap();
    }
    (spot.quantile(1e-3), spot.anomaly_threshold())
}

fn check(name: &str, (z3, z4): (f64, f64), (true3, true4): (f64, f64)) -> bool {
    let (e3, e4) = ((z3 - true3) / true3, (z4 - true4) / true4);
    eprintln!(
        "{name}: z(1e-3) = {z3:.5} (true {true3:.5}, {:+.2}%), z(1e-4) = {z4:.5} (true {true4:.5}, {:+.2}%)",
        100.0 * e3,
        100.0 * e4
    );
    e3.abs() <= 0.02 && e4.abs() <= 0.02
}

#[test]
fn final_threshold_is_near_the_true_quantile() {
    let max_excess: usize = std::env::var("ANCHOR_MAX_EXCESS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let seeds: Vec<u64> = std::env::var("ANCHOR_SEEDS")
        .ok()
        .map(|v| v.split(',').filter_map(|s| s.parse().ok()).collect())
        .unwrap_or_else(|| vec![1]);
    let mut ok = true;
    for seed in seeds {
        let mut rng = Rng(seed);
        ok &= check(
            &format!("N(0,1) seed {seed}"),
            run(|| rng.gauss(), max_excess),
            (3.090232306167813, 3.719016485455709),
        );
        let mut rng = Rng(seed);
        ok &= check(&format!("Exp(1) seed {seed}"), run(|| rng.exponential(), max_excess), (1e3f64.ln(), 1e4f64.ln()));
    }
    assert!(ok);
}
