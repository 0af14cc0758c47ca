//! Machine-learning flow detection (docs/detect.md): NetWatcher's 36 flow
//! features from Connection records ([`features`]), gradient-boosted trees
//! (perpetual) or a random forest trained on `netcap label`'s output
//! ([`train`], [`boosting`], [`forest`]), a documented model
//! file ([`model`]), and a detector that scores connections as they are
//! written, writing NetWatcher's event lines and Alert records
//! ([`detector`], [`events`]).

pub mod boosting;
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

pub use boosting::{BoostedTrees, BoostingParams};
pub use dataset::{Dataset, DatasetError, read_labelled};
pub use detector::{
    AlertWriter, DetectCounters, DetectError, DetectOptions, Detector, EventOutput, OutputFilter, VerdictHook,
};
pub use eval::Evaluation;
pub use features::{FEATURE_COUNT, FEATURE_NAMES, Features, netwatcher_features};
pub use forest::ForestParams;
pub use model::{FlowModel, ModelError, ModelFile};
pub use train::{Algorithm, TrainError, TrainOptions, TrainOutcome, train};

/// Fuzz entry (fuzz/fuzz_targets/detect_model.rs): must never panic. The
/// first byte chooses what the rest is:
///
/// - even with bit 2 clear (0, 2, 8, ...): a netcap model file (JSON). If
///   it loads, it scores a row of ones, a row of zeros and rows read from
///   the input's own bytes (any f64, NaN and infinities included); a score
///   must be in [0, 1] (forest and gradient-boosted trees alike).
/// - even with bit 2 set (4, 6, 12, ...): an ONNX model whose tree
///   ensemble netcap walks itself (`onnx/trees.rs`). If it is recognised,
///   it scores the same rows; the walk must end (the trees were checked
///   for cycles).
/// - odd: Connection frame content (length-delimited Connection records,
///   possibly damaged), scored by a [`Detector`] with a small fixed forest,
///   every event line written: the 36 features, the event line and the
///   counters of any record value. Every record decoded before the first
///   damaged one is either scored or skipped.
pub fn fuzz_entry(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 && mode & 4 != 0 {
        onnx::fuzz_trees(rest, &fuzz_rows(rest));
    } else if mode % 2 == 0 {
        fuzz_model_file(rest);
    } else {
        fuzz_connections(mode, rest);
    }
}

/// A row of ones, a row of zeros and rows read from `data`'s bytes.
fn fuzz_rows(data: &[u8]) -> Vec<Features> {
    let mut rows = vec![[1.0; FEATURE_COUNT], [0.0; FEATURE_COUNT]];
    for chunk in data.chunks(8 * FEATURE_COUNT).take(4) {
        let mut row = [0.0; FEATURE_COUNT];
        for (v, b) in row.iter_mut().zip(chunk.chunks(8)) {
            let mut bytes = [0u8; 8];
            bytes[..b.len()].copy_from_slice(b);
            *v = f64::from_le_bytes(bytes);
        }
        rows.push(row);
    }
    rows
}

fn fuzz_model_file(data: &[u8]) {
    let Ok(file) = serde_json::from_slice::<ModelFile>(data) else { return };
    let Ok(model) = FlowModel::from_file(file, "fuzz") else { return };
    for row in &fuzz_rows(data) {
        let score = model.score(row);
        assert!((0.0..=1.0).contains(&score), "score {score}");
    }
}

fn fuzz_connections(mode: u8, content: &[u8]) {
    use prost::Message;
    let tree = forest::Tree {
        feature: vec![1, -1, -1],
        threshold: vec![10.0, 0.0, 0.0],
        left: vec![1, 0, 0],
        right: vec![2, 0, 0],
        value: vec![0.0, 0.1, 0.9],
    };
    let scaler = model::MinMaxScaler::fit(&[[0.0; FEATURE_COUNT], [100.0; FEATURE_COUNT]]);
    let file = ModelFile::forest(scaler, vec![tree], 0.5, serde_json::Value::Null);
    let Ok(model) = FlowModel::from_file(file, "fuzz") else { panic!("the fixed forest does not load") };
    let options = DetectOptions { threshold: 0.5, min_packets: u64::from(mode >> 4), filter: OutputFilter::All };
    let mut detector = Detector::new(model, options, EventOutput::Writer(Box::new(std::io::sink())), None);
    detector.connections_in(content);
    let counters = detector.counters();
    // The records before the first damaged one, decoded independently.
    let mut decoded = 0u64;
    let mut rest = content;
    while !rest.is_empty() {
        match netcap_records::Connection::decode_length_delimited(&mut rest) {
            Ok(c) => {
                decoded += 1;
                let _ = features::netwatcher_features(&c);
            }
            Err(_) => break,
        }
    }
    assert_eq!(counters.scored + counters.skipped, decoded, "{counters:?}");
    assert_eq!(counters.events, counters.scored, "{counters:?}");
    assert!(counters.alerts <= counters.scored);
    assert!(counters.bad_records <= 1);
    assert!(detector.finish().is_ok());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/detect_model").join(name);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn fuzz_entry_takes_its_seeds_and_pseudo_random_input() {
        let (forest, boosting, connections) = (seed("model"), seed("model_boosting"), seed("connections"));
        let onnx = seed("onnx_trees");
        // The ONNX seed is a tree ensemble netcap walks (gb.onnx).
        assert!(onnx::fuzz_trees(&onnx[1..], &fuzz_rows(&onnx[1..])));
        // The seeds reach the paths they are for: the models load (a
        // random forest and gradient-boosted trees), and the content holds
        // three whole records.
        for (model, kind) in [(&forest, "random_forest"), (&boosting, "gradient_boosting")] {
            let file: ModelFile = serde_json::from_slice(&model[1..]).unwrap();
            assert_eq!(file.classifier.kind(), kind);
            FlowModel::from_file(file, "seed").unwrap();
            fuzz_entry(model);
        }
        fuzz_entry(&connections);
        let mut rng = rng::SplitMix64::new(7);
        for i in 0..768 {
            // Seeds with bytes flipped, cut short, and random bytes.
            let mut input = [&forest, &boosting, &connections, &onnx][i % 4].clone();
            for _ in 0..1 + rng.below(8) {
                let at = 1 + rng.below(input.len() - 1);
                input[at] = rng.next_u64() as u8;
            }
            input.truncate(1 + rng.below(input.len()));
            fuzz_entry(&input);
            let random: Vec<u8> = (0..rng.below(300)).map(|_| rng.next_u64() as u8).collect();
            fuzz_entry(&random);
        }
    }
}
