//! Machine-learning flow detection (docs/detect.md): NetWatcher's 36 flow
//! features from Connection records ([`features`]), a random forest trained
//! on `netcap label`'s output ([`train`], [`forest`]), a documented model
//! file ([`model`]), and a detector that scores connections as they are
//! written, writing NetWatcher's event lines and Alert records
//! ([`detector`], [`events`]).

pub mod dataset;
pub mod detector;
pub mod eval;
pub mod events;
pub mod features;
pub mod forest;
pub mod model;
pub mod onnx;
pub mod rng;
pub mod train;

pub use dataset::{Dataset, DatasetError, read_labelled};
pub use detector::{
    AlertWriter, DetectCounters, DetectError, DetectOptions, Detector, EventOutput, OutputFilter, VerdictHook,
};
pub use eval::Evaluation;
pub use features::{FEATURE_COUNT, FEATURE_NAMES, Features, netwatcher_features};
pub use forest::ForestParams;
pub use model::{FlowModel, ModelError, ModelFile};
pub use train::{TrainError, TrainOptions, TrainOutcome, train};

/// Fuzz entry: a model file's bytes, loaded and (if it loads) used to
/// score a flow; must never panic.
pub fn fuzz_entry(data: &[u8]) {
    if let Ok(file) = serde_json::from_slice::<ModelFile>(data)
        && let Ok(model) = FlowModel::from_file(file, "fuzz")
    {
        let _ = model.score(&[1.0; FEATURE_COUNT]);
    }
}
