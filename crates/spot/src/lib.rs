//! SPOT/DSPOT anomaly detection on per-tick traffic statistics.
//!
//! * [`spot`]: one SPOT instance (one tail of one stream), libspot-v2
//!   compatible arithmetic;
//! * [`detector`]: a stream detector over SPOT: calibration on the first
//!   `n_init` values, upper, lower or both tails, DSPOT drift with `depth`.

pub mod detector;
pub mod spot;
mod xmath;

pub use detector::{Detector, DetectorParams, Side, StepResult};
pub use spot::{Code, Spot, SpotError, SpotParams};
