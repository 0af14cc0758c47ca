//! A stream detector over SPOT: calibration, tails, and DSPOT drift.
//!
//! [`Detector::step`] takes the values of one stream in order:
//!
//! 1. With `depth > 0` (DSPOT), the first `depth` values only fill the drift
//!    window ([`code::DRIFT_WINDOW`]); afterwards each value is judged relative
//!    to the drift, the mean of the last `depth` values that were not
//!    anomalies. Anomalies never enter the window, so an attack does not
//!    drag the normal level up (gospot, the engine of netspot v2, does let
//!    them in by accident; netcap follows the paper).
//! 2. The next `n_init` (de-trended) values are the calibration batch
//!    ([`code::INIT`]); the last of them triggers the fit
//!    ([`code::CALIBRATION`]).
//! 3. Every later value is [`code::NORMAL`], an excess or an anomaly on the
//!    upper (positive codes) or lower (negative codes) tail.
//!
//! NaN values are skipped ([`code::SKIPPED`]): they change nothing.

use crate::spot::{Code, Spot, SpotError, SpotParams};

/// Result codes of [`Detector::step`]. For the upper tail they are libspot
/// v2's (0 normal, 1 excess, 2 anomaly); the lower tail has the same
/// magnitudes, negated. 3 to 5 are gospot's numbers for the same phases.
pub mod code {
    /// Inside the excess thresholds.
    pub const NORMAL: i32 = 0;
    /// Beyond the upper excess threshold: the upper tail was refitted.
    pub const EXCESS_UP: i32 = 1;
    /// Beyond the upper anomaly threshold.
    pub const ANOMALY_UP: i32 = 2;
    /// Below the lower excess threshold: the lower tail was refitted.
    pub const EXCESS_LOW: i32 = -1;
    /// Below the lower anomaly threshold.
    pub const ANOMALY_LOW: i32 = -2;
    /// Collected into the calibration batch.
    pub const INIT: i32 = 3;
    /// Last value of the calibration batch: the model is now fitted.
    pub const CALIBRATION: i32 = 4;
    /// DSPOT only: collected into the drift window, not judged.
    pub const DRIFT_WINDOW: i32 = 5;
    /// The value was NaN (undefined for this tick): not judged, not learnt.
    pub const SKIPPED: i32 = 6;

    /// Short name of a code, for logs.
    pub fn name(code: i32) -> &'static str {
        match code {
            NORMAL => "normal",
            EXCESS_UP => "excess-up",
            ANOMALY_UP => "anomaly-up",
            EXCESS_LOW => "excess-low",
            ANOMALY_LOW => "anomaly-low",
            INIT => "init",
            CALIBRATION => "calibration",
            DRIFT_WINDOW => "drift-window",
            SKIPPED => "skipped",
            _ => "unknown",
        }
    }
}

/// Which tail(s) to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    /// Large values (the default).
    #[default]
    Upper,
    /// Small values.
    Lower,
    /// Both, with one SPOT instance per tail.
    Both,
}

impl Side {
    pub fn has_upper(self) -> bool {
        self != Side::Lower
    }
    pub fn has_lower(self) -> bool {
        self != Side::Upper
    }
}

/// Parameters of a [`Detector`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorParams {
    /// Probability of an anomaly (per tail).
    pub q: f64,
    /// Quantile of the calibration batch taken as the excess threshold.
    pub level: f64,
    /// Excesses kept for the tail fit.
    pub max_excess: usize,
    pub side: Side,
    /// Values in the calibration batch (≥ 1; the excess threshold needs at
    /// least 5, and a sensible fit a few hundred).
    pub n_init: usize,
    /// DSPOT window length; 0 disables drift.
    pub depth: usize,
    /// Feed anomalies into the model too (they are still reported).
    pub keep_anomalies: bool,
}

impl Default for DetectorParams {
    /// netcap's defaults (docs/spot.md): netspot v3's q, level, max_excess
    /// and tail, netspot v2's n_init and depth.
    fn default() -> Self {
        DetectorParams {
            q: 5e-4,
            level: 0.98,
            max_excess: 1000,
            side: Side::Upper,
            n_init: 1000,
            depth: 50,
            keep_anomalies: false,
        }
    }
}

/// Excess and anomaly thresholds of one tail, in the stream's units (drift
/// included). NaN when the tail is not watched or not yet calibrated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub excess: f64,
    pub anomaly: f64,
}

impl Thresholds {
    pub const NAN: Thresholds = Thresholds { excess: f64::NAN, anomaly: f64::NAN };
}

/// What [`Detector::step`] made of a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepResult {
    /// One of [`code`].
    pub code: i32,
    /// The tail(s) the detector watches.
    pub side: Side,
    /// The drift the value was judged against (0 without DSPOT).
    pub drift: f64,
    /// Upper-tail thresholds the value was judged against (for the
    /// calibration value: the fresh ones).
    pub up: Thresholds,
    /// Lower-tail thresholds, likewise.
    pub low: Thresholds,
    /// For excesses and anomalies: the model's probability (before this
    /// value was learnt) of a value at least this extreme on its tail
    /// ([`Spot::tail_probability`]): always a number in [0, 1], also with a
    /// degenerate fit. NaN ("no probability") for every other code: the
    /// value was not judged against a tail (drift window, calibration
    /// batch, NaN value) or stayed inside the excess thresholds.
    pub probability: f64,
}

impl StepResult {
    pub fn is_anomaly(&self) -> bool {
        self.code == code::ANOMALY_UP || self.code == code::ANOMALY_LOW
    }

    /// The thresholds of the tail this result concerns: the lower tail for
    /// negative codes or a lower-only detector, the upper tail otherwise.
    pub fn thresholds(&self) -> Thresholds {
        if self.code < 0 || self.side == Side::Lower { self.low } else { self.up }
    }
}

/// Mean of the last `depth` accepted values.
#[derive(Debug, Clone)]
struct DriftWindow {
    data: Vec<f64>,
    depth: usize,
    next: usize,
    /// Running sum, updated as `m − old + new` (the order matters for
    /// bit-exact comparisons with netspot's drift).
    sum: f64,
}

impl DriftWindow {
    fn is_full(&self) -> bool {
        self.data.len() == self.depth
    }

    fn push(&mut self, x: f64) {
        if self.is_full() {
            let old = self.data[self.next];
            self.sum -= old;
            self.data[self.next] = x;
            self.next = (self.next + 1) % self.depth;
        } else {
            self.data.push(x);
        }
        self.sum += x;
    }

    fn mean(&self) -> f64 {
        if self.data.is_empty() { 0.0 } else { self.sum / self.data.len() as f64 }
    }
}

/// SPOT over a stream: see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Detector {
    params: DetectorParams,
    up: Option<Spot>,
    low: Option<Spot>,
    init: Vec<f64>,
    fitted: bool,
    window: Option<DriftWindow>,
}

impl Detector {
    /// Validates the parameters (the same rules as [`Spot::new`], and
    /// n_init ≥ 1).
    pub fn new(params: DetectorParams) -> Result<Detector, SpotError> {
        let spot = |low| {
            Spot::new(SpotParams {
                q: params.q,
                level: params.level,
                max_excess: params.max_excess,
                low,
                discard_anomalies: !params.keep_anomalies,
            })
        };
        let up = if params.side.has_upper() { Some(spot(false)?) } else { None };
        let low = if params.side.has_lower() { Some(spot(true)?) } else { None };
        if params.n_init == 0 {
            return Err(SpotError::NInit);
        }
        let window = (params.depth > 0).then(|| DriftWindow {
            data: Vec::with_capacity(params.depth),
            depth: params.depth,
            next: 0,
            sum: 0.0,
        });
        Ok(Detector { params, up, low, init: Vec::with_capacity(params.n_init), fitted: false, window })
    }

    pub fn params(&self) -> &DetectorParams {
        &self.params
    }

    /// Current drift (mean of the window; 0 without DSPOT).
    pub fn drift(&self) -> f64 {
        self.window.as_ref().map_or(0.0, DriftWindow::mean)
    }

    /// True once the calibration batch has been fitted.
    pub fn is_calibrated(&self) -> bool {
        self.fitted
    }

    /// Defined (non-NaN) values the detector takes before it judges any:
    /// `depth` for the drift window, then `n_init` for the calibration
    /// batch.
    pub fn values_needed(&self) -> usize {
        self.params.depth.saturating_add(self.params.n_init)
    }

    /// Defined values taken towards calibration so far: at most
    /// [`Detector::values_needed`], which it equals once calibrated.
    pub fn values_learnt(&self) -> usize {
        if self.fitted {
            return self.values_needed();
        }
        self.window.as_ref().map_or(0, |w| w.data.len()) + self.init.len()
    }

    /// The upper-tail SPOT instance, if watched (thresholds without drift).
    pub fn upper(&self) -> Option<&Spot> {
        self.up.as_ref()
    }

    /// The lower-tail SPOT instance, if watched (thresholds without drift).
    pub fn lower(&self) -> Option<&Spot> {
        self.low.as_ref()
    }

    /// Current thresholds of both tails, drift included.
    pub fn thresholds(&self) -> (Thresholds, Thresholds) {
        let drift = self.drift();
        let th = |spot: &Option<Spot>| match spot {
            Some(s) if self.fitted => {
                Thresholds { excess: drift + s.excess_threshold(), anomaly: drift + s.anomaly_threshold() }
            }
            _ => Thresholds::NAN,
        };
        (th(&self.up), th(&self.low))
    }

    /// The model's probability of a value at least as extreme as `x` on the
    /// tail `x` lies towards (upper if above the upper excess threshold,
    /// lower if below the lower one), as [`Spot::tail_probability`]
    /// defines it; NaN inside both excess thresholds and before
    /// calibration.
    pub fn probability(&self, x: f64) -> f64 {
        if !self.fitted {
            return f64::NAN;
        }
        let y = x - self.drift();
        if let Some(up) = &self.up
            && y >= up.excess_threshold()
        {
            return up.tail_probability(y);
        }
        if let Some(low) = &self.low
            && y <= low.excess_threshold()
        {
            return low.tail_probability(y);
        }
        f64::NAN
    }

    /// Judges one value and learns from it.
    pub fn step(&mut self, x: f64) -> StepResult {
        let (up, low) = self.thresholds();
        let mut result = StepResult {
            code: code::SKIPPED,
            side: self.params.side,
            drift: self.drift(),
            up,
            low,
            probability: f64::NAN,
        };
        if x.is_nan() {
            return result;
        }
        if let Some(window) = &mut self.window
            && !window.is_full()
        {
            window.push(x);
            result.code = code::DRIFT_WINDOW;
            return result;
        }
        let y = x - result.drift;
        if !self.fitted {
            self.init.push(y);
            self.learn_drift(x);
            if self.init.len() < self.params.n_init {
                result.code = code::INIT;
                return result;
            }
            for spot in [&mut self.up, &mut self.low].into_iter().flatten() {
                // A failed fit leaves NaN thresholds that the following
                // excesses repair, as in libspot; nothing to report here.
                let _ = spot.fit(&self.init);
            }
            self.fitted = true;
            self.init = Vec::new();
            (result.up, result.low) = self.thresholds();
            result.code = code::CALIBRATION;
            return result;
        }

        let anomaly = match (&self.up, &self.low) {
            (Some(s), _) if s.is_beyond_anomaly_threshold(y) => Some((code::ANOMALY_UP, s.tail_probability(y))),
            (_, Some(s)) if s.is_beyond_anomaly_threshold(y) => Some((code::ANOMALY_LOW, s.tail_probability(y))),
            _ => None,
        };
        if let Some((c, p)) = anomaly {
            result.code = c;
            result.probability = p;
            if !self.params.keep_anomalies {
                return result;
            }
        }
        let p_up = self.up.as_ref().map(|s| s.tail_probability(y));
        let p_low = self.low.as_ref().map(|s| s.tail_probability(y));
        let step_up = self.up.as_mut().map(|s| s.step(y));
        let step_low = self.low.as_mut().map(|s| s.step(y));
        self.learn_drift(x);
        if anomaly.is_none() {
            if step_up == Some(Ok(Code::Excess)) {
                result.code = code::EXCESS_UP;
                result.probability = p_up.unwrap_or(f64::NAN);
            } else if step_low == Some(Ok(Code::Excess)) {
                result.code = code::EXCESS_LOW;
                result.probability = p_low.unwrap_or(f64::NAN);
            } else {
                result.code = code::NORMAL;
            }
        }
        result
    }

    fn learn_drift(&mut self, x: f64) {
        if let Some(window) = &mut self.window {
            window.push(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_and_codes() {
        let params = DetectorParams { n_init: 100, depth: 10, q: 1e-3, level: 0.9, ..Default::default() };
        let mut det = Detector::new(params).unwrap();
        let mut codes = Vec::new();
        for i in 0..200 {
            codes.push(det.step(((i * 37) % 17) as f64).code);
        }
        assert!(codes[..10].iter().all(|&c| c == code::DRIFT_WINDOW));
        assert!(codes[10..109].iter().all(|&c| c == code::INIT));
        assert_eq!(codes[109], code::CALIBRATION);
        assert!(codes[110..].iter().all(|&c| c == code::NORMAL || c == code::EXCESS_UP));
        let r = det.step(1000.0);
        assert_eq!(r.code, code::ANOMALY_UP);
        assert!(r.probability < 1e-3, "{r:?}");
        assert!(1000.0 > r.up.anomaly);
        assert_eq!(det.step(f64::NAN).code, code::SKIPPED);
    }

    #[test]
    fn calibration_progress_counts_defined_values() {
        let params = DetectorParams { n_init: 20, depth: 5, q: 1e-3, level: 0.9, ..Default::default() };
        let mut det = Detector::new(params).unwrap();
        assert_eq!((det.values_learnt(), det.values_needed()), (0, 25));
        for i in 0..10 {
            det.step(i as f64);
            det.step(f64::NAN);
        }
        assert_eq!(det.values_learnt(), 10, "5 in the window, 5 in the batch; NaN does not count");
        for i in 0..14 {
            det.step(i as f64);
        }
        assert_eq!((det.values_learnt(), det.is_calibrated()), (24, false));
        assert_eq!(det.step(3.0).code, code::CALIBRATION);
        assert_eq!((det.values_learnt(), det.is_calibrated()), (25, true));
        det.step(4.0);
        assert_eq!(det.values_learnt(), 25);
    }

    #[test]
    fn anomalies_stay_out_of_the_drift() {
        let params = DetectorParams { n_init: 50, depth: 5, q: 1e-3, level: 0.9, ..Default::default() };
        let mut det = Detector::new(params).unwrap();
        for i in 0..100 {
            det.step(10.0 + (i % 3) as f64);
        }
        let drift = det.drift();
        assert_eq!(det.step(1e6).code, code::ANOMALY_UP);
        assert_eq!(det.drift(), drift);
        let params = DetectorParams { keep_anomalies: true, ..params };
        let mut det = Detector::new(params).unwrap();
        for i in 0..100 {
            det.step(10.0 + (i % 3) as f64);
        }
        assert_eq!(det.step(1e6).code, code::ANOMALY_UP);
        assert!(det.drift() > 1e5);
    }

    #[test]
    fn lower_tail_codes_are_negative() {
        let params =
            DetectorParams { n_init: 100, depth: 0, q: 1e-3, level: 0.9, side: Side::Both, ..Default::default() };
        let mut det = Detector::new(params).unwrap();
        for i in 0..300 {
            det.step(((i * 37) % 101) as f64);
        }
        let r = det.step(-1000.0);
        assert_eq!(r.code, code::ANOMALY_LOW);
        assert_eq!(r.thresholds(), r.low);
        assert!(-1000.0 < r.low.anomaly);
        assert_eq!(det.step(1000.0).code, code::ANOMALY_UP);
    }
}
