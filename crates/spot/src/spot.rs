//! SPOT: streaming peaks-over-threshold with a generalized Pareto tail
//! (Siffer, Fouque, Termier, Largouët, *Anomaly Detection in Streams with
//! Extreme Value Theory*, KDD 2017).
//!
//! One [`Spot`] watches one tail (upper or lower) of one stream:
//!
//! 1. [`Spot::fit`] calibrates on a batch: the excess threshold `t` is the
//!    `level` quantile of the batch, the values beyond it are the first
//!    excesses, a GPD is fitted to them and the anomaly threshold `z` is the
//!    value exceeded with probability `q`.
//! 2. [`Spot::step`] classifies each later value: beyond `z` it is an
//!    [`Code::Anomaly`] (kept out of the model unless anomalies are kept),
//!    beyond `t` an [`Code::Excess`] that refits the tail and moves `z`,
//!    otherwise [`Code::Normal`].
//!
//! The arithmetic follows libspot v2 (the reference C implementation) step by
//! step, so that the reference runs replay exactly: the P² quantile estimate
//! for `t` (with libspot's marker handling), a ring of at most `max_excess`
//! excesses, the method of moments and Grimshaw's profile likelihood in
//! competition (the higher likelihood wins), Brent's root search, and the
//! continued-fraction `ln`/`exp` of [`crate::xmath`]. One libspot bug is *not*
//! copied: when the excess store recomputes its running sums, libspot sets the
//! sum of squares to the square of one element; netcap sums all of them, so
//! the method of moments always sees the true variance.
//!
//! For drift ([DSPOT]) and calibration bookkeeping over a stream, see
//! [`crate::detector::Detector`].
//!
//! [DSPOT]: crate::detector

use crate::xmath::{xexp, xlog, xpow};
use thiserror::Error;

/// Parameters of one SPOT instance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpotParams {
    /// Probability of an anomaly: `z` is the (1 − q) quantile of the model
    /// (the q quantile for the lower tail). 0 < q < 1 − level.
    pub q: f64,
    /// Quantile of the calibration batch used as the excess threshold `t`
    /// (for the lower tail: the 1 − level quantile). 0 ≤ level < 1.
    pub level: f64,
    /// Number of most recent excesses the GPD is fitted to (≥ 1).
    pub max_excess: usize,
    /// Watch the lower tail (small values) instead of the upper one.
    pub low: bool,
    /// Keep anomalies out of the model (the default): a value beyond `z` is
    /// reported as [`Code::Anomaly`] and changes nothing. When false, no value
    /// is ever an anomaly: extreme values are excesses that refit the tail.
    pub discard_anomalies: bool,
}

impl Default for SpotParams {
    /// netspot v3's documented defaults: q = 5e-4, level = 0.98,
    /// max_excess = 1000, upper tail, anomalies kept out of the model.
    fn default() -> Self {
        SpotParams { q: 5e-4, level: 0.98, max_excess: 1000, low: false, discard_anomalies: true }
    }
}

/// Invalid parameters or input.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum SpotError {
    #[error("level {0} is out of [0, 1)")]
    Level(f64),
    #[error("q {q} is out of (0, 1 - level) = (0, {max})")]
    Q { q: f64, max: f64 },
    #[error("max_excess must be at least 1")]
    MaxExcess,
    #[error("n_init must be at least 1")]
    NInit,
    /// The calibration batch gave no excess threshold (NaN values in it).
    #[error("the calibration batch gives no excess threshold")]
    ExcessThresholdNaN,
    /// The calibration batch gave no anomaly threshold: typically no value of
    /// the batch lies strictly beyond the excess threshold (a constant
    /// stream). Stepping still works and the model recovers with excesses.
    #[error("the calibration batch gives no anomaly threshold (no strict excess)")]
    AnomalyThresholdNaN,
    #[error("the value is NaN")]
    NanInput,
}

/// What [`Spot::step`] made of a value (libspot v2's numbering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum Code {
    /// Inside the excess threshold.
    Normal = 0,
    /// Beyond the excess threshold (`x == t` included): the tail was refitted.
    Excess = 1,
    /// Beyond the anomaly threshold; the model is unchanged.
    Anomaly = 2,
}

/// A fixed-capacity ring of the latest excesses, with running sums.
///
/// Every loop runs over the storage array in index order (not in arrival
/// order): floating-point sums depend on the order, and this is the order of
/// the reference.
#[derive(Debug, Clone)]
struct Peaks {
    data: Vec<f64>,
    capacity: usize,
    cursor: usize,
    filled: bool,
    /// Σ y over the stored excesses.
    e: f64,
    /// Σ y² over the stored excesses.
    e2: f64,
    min: f64,
    max: f64,
}

impl Peaks {
    fn new(capacity: usize) -> Peaks {
        Peaks {
            data: Vec::with_capacity(capacity.min(1 << 16)),
            capacity,
            cursor: 0,
            filled: false,
            e: 0.0,
            e2: 0.0,
            min: f64::NAN,
            max: f64::NAN,
        }
    }

    fn size(&self) -> usize {
        if self.filled { self.capacity } else { self.cursor }
    }

    fn values(&self) -> &[f64] {
        &self.data[..self.size()]
    }

    fn push(&mut self, y: f64) {
        let erased = if self.filled { Some(self.data[self.cursor]) } else { None };
        if self.cursor == self.data.len() {
            self.data.push(y);
        } else {
            self.data[self.cursor] = y;
        }
        if self.cursor + 1 == self.capacity {
            self.cursor = 0;
            self.filled = true;
        } else {
            self.cursor += 1;
        }
        let size = self.size();
        self.e += y;
        self.e2 += y * y;
        if size == 1 || y < self.min {
            self.min = y;
        }
        if size == 1 || y > self.max {
            self.max = y;
        }
        if let Some(old) = erased {
            self.e -= old;
            self.e2 -= old * old;
            if old <= self.min || old >= self.max {
                // The evicted value may have been the minimum or maximum:
                // rescan, and refresh the sums while at it (this bounds the
                // drift of the running sums). libspot assigns e2 here the
                // square of the last element only; netcap does not.
                self.min = f64::NAN;
                self.max = f64::NAN;
                self.e = 0.0;
                self.e2 = 0.0;
                for &d in &self.data[..size] {
                    if self.min.is_nan() || d < self.min {
                        self.min = d;
                    }
                    if self.max.is_nan() || d > self.max {
                        self.max = d;
                    }
                    self.e += d;
                    self.e2 += d * d;
                }
            }
        }
    }

    fn mean(&self) -> f64 {
        self.e / self.size() as f64
    }
}

/// GPD log-likelihood of the stored excesses.
fn log_likelihood(peaks: &Peaks, gamma: f64, sigma: f64) -> f64 {
    let n = peaks.size() as f64;
    if gamma == 0.0 {
        return (-n * xlog(sigma)) - (peaks.e / sigma);
    }
    let mut r = -n * xlog(sigma);
    let c = 1.0 + 1.0 / gamma;
    let a = gamma / sigma;
    for &y in peaks.values() {
        r += -c * xlog(1.0 + a * y);
    }
    r
}

/// A fitted tail: shape γ, scale σ and the fit's log-likelihood.
#[derive(Debug, Clone, Copy)]
struct Fit {
    gamma: f64,
    sigma: f64,
    llh: f64,
}

/// Method of moments.
fn fit_mom(peaks: &Peaks) -> Fit {
    let n = peaks.size() as f64;
    let e = peaks.e / n;
    let v = peaks.e2 / n - e * e;
    let r = e * e / v;
    let gamma = 0.5 * (1.0 - r);
    let sigma = 0.5 * e * (1.0 + r);
    Fit { gamma, sigma, llh: log_likelihood(peaks, gamma, sigma) }
}

/// Brent's method (Numerical Recipes' `zbrent` structure) for a root of `f` in
/// [x1, x2]. An exact zero or a NaN at an end counts as bracketed.
fn brent(x1: f64, x2: f64, mut f: impl FnMut(f64) -> f64) -> Option<f64> {
    const EPS: f64 = 2e-8;
    const TOL: f64 = 2e-8;
    const MAX_ITERATIONS: usize = 200;
    let (mut a, mut b, mut c) = (x1, x2, x2);
    let (mut d, mut e) = (0.0f64, 0.0f64);
    let mut fa = f(a);
    let mut fb = f(b);
    if (fa > 0.0 && fb > 0.0) || (fa < 0.0 && fb < 0.0) {
        return None;
    }
    let mut fc = fb;
    for _ in 0..MAX_ITERATIONS {
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
            e = b - a;
            d = e;
        }
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol1 = 2.0 * EPS * b.abs() + 0.5 * TOL;
        let xm = 0.5 * (c - b);
        if xm.abs() <= tol1 || fb == 0.0 {
            return Some(b);
        }
        if e.abs() >= tol1 && fa.abs() > fb.abs() {
            let s = fb / fa;
            let (mut p, mut q);
            if a == c {
                p = 2.0 * xm * s;
                q = 1.0 - s;
            } else {
                q = fa / fc;
                let r = fb / fc;
                p = s * (2.0 * xm * q * (q - r) - (b - a) * (r - 1.0));
                q = (q - 1.0) * (r - 1.0) * (s - 1.0);
            }
            if p > 0.0 {
                q = -q;
            }
            p = p.abs();
            let min1 = 3.0 * xm * q - (tol1 * q).abs();
            let min2 = (e * q).abs();
            if 2.0 * p < if min1 < min2 { min1 } else { min2 } {
                e = d;
                d = p / q;
            } else {
                d = xm;
                e = d;
            }
        } else {
            d = xm;
            e = d;
        }
        a = b;
        fa = fb;
        if d.abs() > tol1 {
            b += d;
        } else {
            b += if xm >= 0.0 { tol1.abs() } else { -tol1.abs() };
        }
        fb = f(b);
    }
    None
}

/// NaN if either is NaN, else the smaller.
fn nan_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}

/// Grimshaw's profile maximum likelihood: the candidates are the
/// exponential tail (x* = 0) and the roots of w on each side of 0.
fn fit_grimshaw(peaks: &Peaks) -> Fit {
    let values = peaks.values();
    let n = values.len() as f64;
    let mean = peaks.mean();
    let (min, max) = (peaks.min, peaks.max);
    let w = |x: f64| {
        let (mut u, mut v) = (0.0, 0.0);
        for &y in values {
            let s = 1.0 + x * y;
            u += 1.0 / s;
            v += xlog(s);
        }
        (u / n) * (1.0 + v / n) - 1.0
    };
    let vbar = |x: f64| {
        let mut v = 0.0;
        for &y in values {
            v += xlog(1.0 + x * y);
        }
        1.0 + v / n
    };
    let eps = nan_min(2e-8, 0.5 / max);
    let left = brent(-1.0 / max + eps, -eps, w);
    let right = brent(eps, 2.0 * (mean - min) / (min * min), w);

    let mut best = Fit { gamma: 0.0, sigma: mean, llh: log_likelihood(peaks, 0.0, mean) };
    for root in [left, right].into_iter().flatten() {
        let gamma = vbar(root) - 1.0;
        let sigma = gamma / root;
        let llh = log_likelihood(peaks, gamma, sigma);
        if llh > best.llh {
            best = Fit { gamma, sigma, llh };
        }
    }
    best
}

/// One SPOT instance: one tail of one stream.
#[derive(Debug, Clone)]
pub struct Spot {
    params: SpotParams,
    /// +1 for the upper tail, −1 for the lower: values are mirrored so that
    /// the rest of the code only deals with an upper tail.
    ud: f64,
    t: f64,
    z: f64,
    /// Observations in the model: the calibration batch plus every value
    /// stepped that was not an anomaly.
    n: u64,
    /// Excesses ever seen (not capped by max_excess).
    nt: u64,
    gamma: f64,
    sigma: f64,
    peaks: Peaks,
}

impl Spot {
    /// A SPOT instance, not yet calibrated (thresholds are NaN).
    pub fn new(params: SpotParams) -> Result<Spot, SpotError> {
        if !(0.0..1.0).contains(&params.level) {
            return Err(SpotError::Level(params.level));
        }
        if !(params.q > 0.0 && params.q < 1.0 - params.level) {
            return Err(SpotError::Q { q: params.q, max: 1.0 - params.level });
        }
        if params.max_excess == 0 {
            return Err(SpotError::MaxExcess);
        }
        Ok(Spot {
            params,
            ud: if params.low { -1.0 } else { 1.0 },
            t: f64::NAN,
            z: f64::NAN,
            n: 0,
            nt: 0,
            gamma: f64::NAN,
            sigma: f64::NAN,
            peaks: Peaks::new(params.max_excess),
        })
    }

    /// Calibrates on a batch (typically the first n_init values of the
    /// stream). Every value counts as an observation; the values strictly
    /// beyond the excess threshold are the first excesses.
    ///
    /// On error the state is kept as computed (thresholds may be NaN); later
    /// steps still work and the model recovers as excesses arrive, as in
    /// libspot.
    pub fn fit(&mut self, data: &[f64]) -> Result<(), SpotError> {
        self.nt = 0;
        self.n = data.len() as u64;
        let p = if self.params.low { 1.0 - self.params.level } else { self.params.level };
        self.t = p2_quantile(p, data);
        if self.t.is_nan() {
            return Err(SpotError::ExcessThresholdNaN);
        }
        for &x in data {
            let y = self.ud * (x - self.t);
            if y > 0.0 {
                self.nt += 1;
                self.peaks.push(y);
            }
        }
        self.fit_tail();
        self.z = self.quantile(self.params.q);
        if self.z.is_nan() {
            return Err(SpotError::AnomalyThresholdNaN);
        }
        Ok(())
    }

    /// True if `x` lies beyond the anomaly threshold (strictly), i.e. would be
    /// an anomaly if anomalies are kept out of the model.
    pub fn is_beyond_anomaly_threshold(&self, x: f64) -> bool {
        self.ud * (x - self.z) > 0.0
    }

    /// Classifies one value and updates the model. NaN is rejected without
    /// any change.
    pub fn step(&mut self, x: f64) -> Result<Code, SpotError> {
        if x.is_nan() {
            return Err(SpotError::NanInput);
        }
        if self.params.discard_anomalies && self.is_beyond_anomaly_threshold(x) {
            return Ok(Code::Anomaly);
        }
        self.n += 1;
        let y = self.ud * (x - self.t);
        if y >= 0.0 {
            self.nt += 1;
            self.peaks.push(y);
            self.fit_tail();
            self.z = self.quantile(self.params.q);
            return Ok(Code::Excess);
        }
        Ok(Code::Normal)
    }

    fn fit_tail(&mut self) {
        let mom = fit_mom(&self.peaks);
        let grimshaw = fit_grimshaw(&self.peaks);
        let best = if mom.llh.is_nan() || grimshaw.llh > mom.llh { grimshaw } else { mom };
        self.gamma = best.gamma;
        self.sigma = best.sigma;
    }

    /// The value the model expects to be exceeded with probability `q`
    /// (for the lower tail: to be undershot): the anomaly threshold for
    /// another q, from the current tail.
    pub fn quantile(&self, q: f64) -> f64 {
        let s = self.nt as f64 / self.n as f64;
        let r = q / s;
        let delta = if self.gamma == 0.0 {
            -self.sigma * xlog(r)
        } else {
            (self.sigma / self.gamma) * (xpow(r, -self.gamma) - 1.0)
        };
        self.t + self.ud * delta
    }

    /// The model's probability of a value at least as extreme as `x`
    /// (P(X > x) for the upper tail, P(X < x) for the lower). Meaningful for
    /// values beyond the excess threshold; NaN beyond the end of a bounded
    /// tail (γ < 0) and before calibration.
    pub fn probability(&self, x: f64) -> f64 {
        let s = self.nt as f64 / self.n as f64;
        let d = self.ud * (x - self.t);
        if self.gamma == 0.0 {
            s * xexp(-d / self.sigma)
        } else {
            let r = d * (self.gamma / self.sigma);
            s * xpow(1.0 + r, -1.0 / self.gamma)
        }
    }

    /// The probability netcap reports for an excess or an anomaly at `x`:
    /// [`Spot::probability`] made total, so that once the instance is
    /// calibrated it is always a number in [0, 1], whatever the fit. With
    /// `s = Nt/n`, the frequency of excesses (the model's probability of
    /// reaching the excess threshold):
    ///
    /// * at or inside the excess threshold (an anomaly threshold below the
    ///   excess threshold can flag such a value): `s`;
    /// * no usable tail fit (γ or σ NaN or infinite, σ < 0: a fit on no or a
    ///   single excess): `s`, the bound the excess threshold gives;
    /// * a degenerate tail (σ = 0: every excess sat exactly on the
    ///   threshold, as in a constant stream): 0 beyond the threshold;
    /// * beyond the end of a bounded tail (γ < 0, `1 + γ·d/σ ≤ 0`), or so
    ///   far out that the kernels overflow: 0;
    /// * otherwise the GPD tail probability, `s · (1 + γ·d/σ)^(−1/γ)`
    ///   (`s · e^(−d/σ)` for γ = 0), clamped to [0, 1].
    ///
    /// NaN only before calibration (n = 0) or for a NaN `x`.
    pub fn tail_probability(&self, x: f64) -> f64 {
        if self.n == 0 || x.is_nan() {
            return f64::NAN;
        }
        let s = self.nt as f64 / self.n as f64;
        let d = self.ud * (x - self.t);
        // A NaN excess threshold (failed fit) makes d NaN: also s.
        if d.is_nan() || d <= 0.0 {
            return s;
        }
        if !(self.gamma.is_finite() && self.sigma.is_finite()) || self.sigma < 0.0 {
            return s;
        }
        if self.sigma == 0.0 || d.is_infinite() {
            return 0.0;
        }
        let p = self.probability(x);
        if p.is_nan() {
            let r = d * (self.gamma / self.sigma);
            return if r <= -1.0 || r.is_infinite() { 0.0 } else { s };
        }
        p.clamp(0.0, 1.0)
    }

    /// Excess threshold `t` (fixed at calibration); NaN before.
    pub fn excess_threshold(&self) -> f64 {
        self.t
    }

    /// Anomaly threshold `z`; NaN before calibration.
    pub fn anomaly_threshold(&self) -> f64 {
        self.z
    }

    /// Shape γ of the fitted GPD.
    pub fn gamma(&self) -> f64 {
        self.gamma
    }

    /// Scale σ of the fitted GPD.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// Observations in the model (calibration batch + non-anomalous steps).
    pub fn n(&self) -> u64 {
        self.n
    }

    /// Excesses seen since calibration (including the batch's).
    pub fn excesses(&self) -> u64 {
        self.nt
    }

    /// Excesses currently stored for the fit (≤ max_excess).
    pub fn stored_excesses(&self) -> usize {
        self.peaks.size()
    }

    pub fn params(&self) -> &SpotParams {
        &self.params
    }
}

/// The P² streaming estimate (Jain & Chlamtac, 1985) of the `p` quantile of
/// `data`, with libspot's marker handling: a new minimum or maximum only
/// moves the end marker; ties with the first marker move all positions.
/// Fewer than 5 values give 0.
fn p2_quantile(p: f64, data: &[f64]) -> f64 {
    let Some(first) = data.get(..5) else { return 0.0 };
    let mut h = [0.0f64; 5];
    h.copy_from_slice(first);
    h.sort_by(|a, b| a.total_cmp(b));
    let mut n = [0.0, 1.0, 2.0, 3.0, 4.0];
    let mut np = [0.0, 2.0 * p, 4.0 * p, 2.0 + 2.0 * p, 4.0];
    let dn = [0.0, p / 2.0, p, (p + 1.0) / 2.0, 1.0];
    for &x in &data[5..] {
        if x < h[0] {
            h[0] = x;
            continue;
        }
        if x > h[4] {
            h[4] = x;
            continue;
        }
        let mut k = 0;
        while k < 4 && x > h[k] {
            k += 1;
        }
        for pos in &mut n[k..] {
            *pos += 1.0;
        }
        for (target, inc) in np.iter_mut().zip(dn) {
            *target += inc;
        }
        for i in 1..4 {
            let d = np[i] - n[i];
            if (d >= 1.0 && n[i + 1] - n[i] > 1.0) || (d <= -1.0 && n[i - 1] - n[i] < -1.0) {
                let s = if d >= 0.0 { 1.0 } else { -1.0 };
                let mut hp = h[i]
                    + (s / (n[i + 1] - n[i - 1]))
                        * (((n[i] - n[i - 1]) + s) * (h[i + 1] - h[i]) / (n[i + 1] - n[i])
                            + ((n[i + 1] - n[i]) - s) * (h[i] - h[i - 1]) / (n[i] - n[i - 1]));
                if !(h[i - 1] < hp && hp < h[i + 1]) {
                    let j = if s > 0.0 { i + 1 } else { i - 1 };
                    hp = h[i] + (s * (h[j] - h[i])) / (n[j] - n[i]);
                }
                h[i] = hp;
                n[i] += s;
            }
        }
    }
    h[2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_bad_parameters() {
        let base = SpotParams::default();
        assert_eq!(Spot::new(SpotParams { level: 1.0, ..base }).unwrap_err(), SpotError::Level(1.0));
        assert!(matches!(Spot::new(SpotParams { q: 0.03, ..base }), Err(SpotError::Q { .. })));
        assert!(matches!(Spot::new(SpotParams { q: 0.0, ..base }), Err(SpotError::Q { .. })));
        assert_eq!(Spot::new(SpotParams { max_excess: 0, ..base }).unwrap_err(), SpotError::MaxExcess);
    }

    #[test]
    fn nan_changes_nothing() {
        let mut spot = Spot::new(SpotParams::default()).unwrap();
        let data: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64).collect();
        spot.fit(&data).unwrap();
        let (n, z) = (spot.n(), spot.anomaly_threshold());
        assert_eq!(spot.step(f64::NAN), Err(SpotError::NanInput));
        assert_eq!((spot.n(), spot.anomaly_threshold()), (n, z));
    }

    #[test]
    fn tail_probability_is_a_number_once_calibrated() {
        let params = SpotParams { q: 1e-3, level: 0.9, ..SpotParams::default() };
        let mut spot = Spot::new(params).unwrap();
        assert!(spot.tail_probability(1.0).is_nan(), "no model before calibration");
        // A healthy fit: the GPD tail probability, unchanged.
        let data: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64).collect();
        spot.fit(&data).unwrap();
        let x = spot.anomaly_threshold();
        assert_eq!(spot.tail_probability(x), spot.probability(x));
        assert!((spot.tail_probability(x) - 1e-3).abs() < 1e-9, "{}", spot.tail_probability(x));
        let s = spot.excesses() as f64 / spot.n() as f64;
        assert_eq!(spot.tail_probability(spot.excess_threshold()), s, "at the excess threshold");
        assert_eq!(spot.tail_probability(-1e9), s, "inside the excess threshold");
        assert_eq!(spot.tail_probability(f64::INFINITY), 0.0);
        assert!(spot.tail_probability(f64::NAN).is_nan());

        // A constant batch: no strict excess, no fit (NaN anomaly threshold).
        let mut constant = Spot::new(params).unwrap();
        assert_eq!(constant.fit(&[1.0; 100]), Err(SpotError::AnomalyThresholdNaN));
        assert!(constant.probability(5.0).is_nan(), "libspot's formula has no answer");
        assert_eq!(constant.tail_probability(5.0), 0.0, "s = 0 / 100");
        // Excesses exactly on the threshold: σ = 0.
        for _ in 0..10 {
            assert_eq!(constant.step(1.0), Ok(Code::Excess));
        }
        assert_eq!((constant.gamma(), constant.sigma()), (0.0, 0.0));
        assert!(constant.probability(1.0).is_nan());
        assert_eq!(constant.tail_probability(1.0), 10.0 / 110.0);
        assert_eq!(constant.tail_probability(1.5), 0.0);
    }

    #[test]
    fn tail_probability_beyond_a_bounded_tail_is_zero() {
        let params = SpotParams { q: 1e-3, level: 0.9, ..SpotParams::default() };
        for low in [false, true] {
            let mut spot = Spot::new(SpotParams { low, ..params }).unwrap();
            let data: Vec<f64> = (0..2000).map(|i| (i % 1000) as f64).collect();
            spot.fit(&data).unwrap();
            // A bounded tail (γ < 0), as Grimshaw's estimator can pick: it
            // ends 2σ beyond the excess threshold.
            (spot.gamma, spot.sigma) = (-0.5, 10.0);
            let t = spot.excess_threshold();
            let ud = if low { -1.0 } else { 1.0 };
            let inside = spot.tail_probability(t + ud * 10.0);
            assert!(inside > 0.0 && inside < spot.tail_probability(t), "{inside}");
            assert!(spot.probability(t + ud * 30.0).is_nan(), "libspot's formula: NaN beyond the end");
            assert_eq!(spot.tail_probability(t + ud * 30.0), 0.0);
            assert_eq!(spot.tail_probability(t + ud * 20.0), 0.0, "at the end");
            // No usable fit: the frequency of excesses.
            spot.gamma = f64::NAN;
            let s = spot.excesses() as f64 / spot.n() as f64;
            assert_eq!(spot.tail_probability(t + ud * 30.0), s);
        }
    }

    #[test]
    fn ring_keeps_the_latest_excesses() {
        let mut peaks = Peaks::new(3);
        for y in [5.0, 1.0, 2.0, 3.0, 4.0] {
            peaks.push(y);
        }
        assert_eq!(peaks.values(), &[3.0, 4.0, 2.0]);
        assert_eq!((peaks.min, peaks.max), (2.0, 4.0));
        assert_eq!(peaks.e, 9.0);
        assert_eq!(peaks.e2, 29.0);
    }

    #[test]
    fn p2_on_few_values() {
        assert_eq!(p2_quantile(0.5, &[1.0, 2.0]), 0.0);
        assert_eq!(p2_quantile(0.5, &[5.0, 1.0, 4.0, 2.0, 3.0]), 3.0);
    }
}
