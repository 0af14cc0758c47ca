//! SPOT/DSPOT anomaly detection on per-tick traffic statistics.
//!
//! * [`spot`]: one SPOT instance (one tail of one stream), libspot-v2
//!   compatible arithmetic;
//! * [`detector`]: a stream detector over SPOT: calibration on the first
//!   `n_init` values, upper, lower or both tails, DSPOT drift with `depth`;
//! * [`stats`]: per-tick traffic counters fed from decoded packets, merged
//!   across workers, and the engine that turns closed ticks into statistics
//!   judged by one detector each;
//! * [`config`]: which statistics, and their SPOT parameters (TOML, flags);
//! * [`output`]: `SpotStat` records, netspot v3 JSON lines, alert lines.

pub mod config;
pub mod detector;
pub mod output;
pub mod spot;
pub mod stats;
mod xmath;

pub use config::{ConfigError, SpotConfig, Stat, StatParams};
pub use detector::{Detector, DetectorParams, Side, StepResult, Thresholds};
pub use output::{
    JsonlWriter, alert_line, calibration_lines, fit_line, jsonl_line, spot_stat_record, spot_stat_records,
};
pub use spot::{Code, Spot, SpotError, SpotParams};
pub use stats::{
    Calibration, CalibrationReport, StatResult, StatsEngine, TickAccumulator, TickCounters, TickResult, tick_of,
};
