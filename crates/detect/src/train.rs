//! Training: a seeded, stratified held-out split, a min-max scaler fitted
//! on the training part, a classifier (perpetual's gradient-boosted trees,
//! or netcap's random forest), and its evaluation on the held-out part.

use crate::boosting::{BoostingError, BoostingParams, train_boosting};
use crate::dataset::Dataset;
use crate::eval::Evaluation;
use crate::features::Features;
use crate::forest::{ForestParams, train_forest};
use crate::model::{Classifier, FlowModel, MinMaxScaler, ModelFile};
use crate::rng::SplitMix64;

/// The classifier `netcap train` trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Algorithm {
    /// perpetual's `PerpetualBooster`, objective LogLoss (the default).
    GradientBoosting(BoostingParams),
    /// netcap's random forest.
    RandomForest(ForestParams),
}

impl Default for Algorithm {
    fn default() -> Self {
        Algorithm::GradientBoosting(BoostingParams::default())
    }
}

/// How `netcap train` trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainOptions {
    pub algorithm: Algorithm,
    /// Seed of the held-out split and of the classifier: the same seed
    /// gives the same model file.
    pub seed: u64,
    /// Fraction of each class held out for evaluation (0 to < 1).
    pub test_fraction: f64,
    /// Threshold the evaluation (and the model file's default) uses.
    pub threshold: f64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { algorithm: Algorithm::default(), seed: 1, test_fraction: 0.25, threshold: 0.5 }
    }
}

/// What training produced.
#[derive(Debug, Clone)]
pub struct TrainOutcome {
    pub model: ModelFile,
    /// Wall time of the classifier's training (not in the model file, so
    /// that the same seed gives the same file).
    pub training_seconds: f64,
    /// What the caller should tell the user (a memory limit above the
    /// memory free).
    pub warnings: Vec<String>,
    /// On the held-out rows (`None` when nothing was held out).
    pub evaluation: Option<Evaluation>,
    pub train_rows: usize,
    pub test_rows: usize,
    pub train_attacks: usize,
    pub test_attacks: usize,
}

/// Why training could not run.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("no labelled flows to train on")]
    Empty,
    #[error("the training flows are all of one class ({0}): a classifier needs normal and attack flows")]
    OneClass(&'static str),
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Boosting(#[from] BoostingError),
    #[error("the trained model does not load: {0}")]
    Model(String),
}

/// Row indices of the training and held-out parts: per class, a seeded
/// shuffle, the first `test_fraction` (rounded) held out. Both parts are
/// returned in row order.
pub fn split(classes: &[u8], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = SplitMix64::new(seed.wrapping_add(0x5EED));
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in [0u8, 1] {
        let mut idx: Vec<usize> = (0..classes.len()).filter(|&i| classes[i] == class).collect();
        rng.shuffle(&mut idx);
        let held = ((idx.len() as f64) * test_fraction).round() as usize;
        test.extend_from_slice(&idx[..held.min(idx.len())]);
        train.extend_from_slice(&idx[held.min(idx.len())..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// Trains a model on `data`.
pub fn train(data: &Dataset, options: &TrainOptions) -> Result<TrainOutcome, TrainError> {
    if !(0.0..1.0).contains(&options.test_fraction) {
        return Err(TrainError::Options(format!("the held-out fraction {} is not in [0, 1)", options.test_fraction)));
    }
    if !(0.0..=1.0).contains(&options.threshold) {
        return Err(TrainError::Options(format!("the threshold {} is not in [0, 1]", options.threshold)));
    }
    match options.algorithm {
        Algorithm::RandomForest(p) if p.trees == 0 => {
            return Err(TrainError::Options("a forest needs at least one tree".into()));
        }
        Algorithm::GradientBoosting(p) if !(p.budget > 0.0 && p.budget.is_finite()) => {
            return Err(TrainError::Options(format!("the budget {} is not a positive number", p.budget)));
        }
        Algorithm::GradientBoosting(p) if !(p.memory_limit_gb > 0.0 && p.memory_limit_gb.is_finite()) => {
            return Err(TrainError::Options(format!("the memory limit {} GB is not positive", p.memory_limit_gb)));
        }
        _ => {}
    }
    if data.rows.is_empty() {
        return Err(TrainError::Empty);
    }
    let (train_idx, test_idx) = split(&data.classes, options.test_fraction, options.seed);
    let train_attacks = train_idx.iter().filter(|&&i| data.classes[i] == 1).count();
    if train_attacks == 0 {
        return Err(TrainError::OneClass("normal"));
    }
    if train_attacks == train_idx.len() {
        return Err(TrainError::OneClass("attack"));
    }
    let raw: Vec<Features> = train_idx.iter().map(|&i| data.rows[i]).collect();
    let scaler = MinMaxScaler::fit(&raw);
    let scaled: Vec<Features> = raw
        .into_iter()
        .map(|mut r| {
            scaler.transform(&mut r);
            r
        })
        .collect();
    let labels: Vec<u8> = train_idx.iter().map(|&i| data.classes[i]).collect();
    let mut warnings = Vec::new();
    let started = std::time::Instant::now();
    let (classifier, mut training) = match options.algorithm {
        Algorithm::RandomForest(p) => {
            let trees = train_forest(&scaled, &labels, &p, options.seed);
            let info = serde_json::json!({
                "algorithm": "random_forest",
                "trees": p.trees,
                "max_depth": p.max_depth,
                "max_features": p.max_features,
                "min_samples_leaf": p.min_samples_leaf,
            });
            (Classifier::RandomForest { trees }, info)
        }
        Algorithm::GradientBoosting(p) => {
            let free = crate::boosting::free_memory_bytes();
            if (free as f64) < f64::from(p.memory_limit_gb) * 1e9 {
                warnings.push(format!(
                    "{:.2} GB of memory free, less than the memory limit of {} GB: perpetual caps the nodes \
                     of a tree by the memory free, so another machine may train another model from the same \
                     rows and seed",
                    free as f64 / 1e9,
                    p.memory_limit_gb
                ));
            }
            let (trees, _) = train_boosting(&scaled, &labels, &p, options.seed)?;
            let info = serde_json::json!({
                "algorithm": "gradient_boosting",
                "library": format!("perpetual {}", crate::boosting::PERPETUAL_VERSION),
                "objective": "LogLoss",
                "budget": p.budget,
                "memory_limit_gb": p.memory_limit_gb,
                "trees": trees.trees.len(),
                "nodes": trees.nodes(),
            });
            (Classifier::GradientBoosting(trees), info)
        }
    };
    let training_seconds = started.elapsed().as_secs_f64();
    // Scored as `netcap detect` scores: through the model file's checks
    // and scorer.
    let model = ModelFile::new(scaler, classifier, options.threshold, serde_json::Value::Null);
    let scorer = FlowModel::from_file(model.clone(), "trained").map_err(TrainError::Model)?;
    let evaluation = (!test_idx.is_empty()).then(|| {
        let scores: Vec<f64> = test_idx.iter().map(|&i| scorer.score(&data.rows[i])).collect();
        let test_labels: Vec<u8> = test_idx.iter().map(|&i| data.classes[i]).collect();
        Evaluation::new(&scores, &test_labels, options.threshold)
    });
    let common = serde_json::json!({
        "rows": train_idx.len(),
        "attack_rows": train_attacks,
        "held_out_rows": test_idx.len(),
        "seed": options.seed,
        "test_fraction": options.test_fraction,
        "evaluation": evaluation.map(|e| serde_json::json!({
            "auroc": e.auroc,
            "precision": e.precision(),
            "recall": e.recall(),
            "false_positive_rate": e.false_positive_rate(),
            "confusion": {"tp": e.true_positives, "fp": e.false_positives, "tn": e.true_negatives, "fn": e.false_negatives},
        })),
    });
    if let (Some(info), serde_json::Value::Object(common)) = (training.as_object_mut(), common) {
        info.extend(common);
    }
    Ok(TrainOutcome {
        model: ModelFile { training, ..model },
        training_seconds,
        warnings,
        evaluation,
        train_rows: train_idx.len(),
        test_rows: test_idx.len(),
        train_attacks,
        test_attacks: test_idx.iter().filter(|&&i| data.classes[i] == 1).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FEATURE_COUNT;

    fn synthetic(n: usize) -> Dataset {
        let mut d = Dataset::default();
        let mut rng = SplitMix64::new(9);
        for i in 0..n {
            let attack = i % 4 == 0;
            let mut r = [0.0; FEATURE_COUNT];
            // Attacks: few packets, no payload; benign: more of both.
            r[1] = if attack { 1.0 + rng.below(3) as f64 } else { 5.0 + rng.below(50) as f64 };
            r[2] = if attack { 0.0 } else { 100.0 + rng.below(5000) as f64 };
            r[12] = rng.below(3) as f64;
            d.rows.push(r);
            d.classes.push(u8::from(attack));
            d.labels.push(if attack { "Port Scan".into() } else { "normal".into() });
        }
        d
    }

    #[test]
    fn split_is_stratified_and_seeded() {
        let classes: Vec<u8> = (0..100).map(|i| u8::from(i % 5 == 0)).collect();
        let (train, test) = split(&classes, 0.25, 3);
        assert_eq!((train.len(), test.len()), (75, 25));
        assert_eq!(test.iter().filter(|&&i| classes[i] == 1).count(), 5);
        assert_eq!(split(&classes, 0.25, 3), (train.clone(), test.clone()));
        assert_ne!(split(&classes, 0.25, 4).1, test);
        let (all, none) = split(&classes, 0.0, 3);
        assert_eq!((all.len(), none.len()), (100, 0));
    }

    #[test]
    fn trains_a_forest_evaluates_and_round_trips() {
        let data = synthetic(400);
        let options = TrainOptions {
            algorithm: Algorithm::RandomForest(ForestParams { trees: 15, ..ForestParams::default() }),
            ..TrainOptions::default()
        };
        let out = train(&data, &options).unwrap();
        assert_eq!(out.model.classifier.kind(), "random_forest");
        assert_eq!((out.train_rows, out.test_rows), (300, 100));
        assert_eq!(out.test_attacks, 25);
        let e = out.evaluation.unwrap();
        assert_eq!(e.auroc, Some(1.0));
        assert_eq!(e.recall(), 1.0);
        assert_eq!(e.false_positive_rate(), 0.0);
        // Deterministic: the same options give the same file.
        let again = train(&data, &options).unwrap();
        assert_eq!(out.model, again.model);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        out.model.save(&path).unwrap();
        let loaded = FlowModel::load(&path).unwrap();
        assert!(loaded.score(&data.rows[0]) > 0.5);
        assert!(loaded.score(&data.rows[1]) < 0.5);
    }

    #[test]
    fn trains_gradient_boosting_by_default_deterministically() {
        let data = synthetic(2000);
        let out = train(&data, &TrainOptions::default()).unwrap();
        assert_eq!(out.model.classifier.kind(), "gradient_boosting");
        assert_eq!((out.train_rows, out.test_rows), (1500, 500));
        let e = out.evaluation.unwrap();
        assert_eq!(e.auroc, Some(1.0));
        assert_eq!((e.recall(), e.false_positive_rate()), (1.0, 0.0));
        assert_eq!(out.model.training["algorithm"], "gradient_boosting");
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
        out.model.save(&a).unwrap();
        train(&data, &TrainOptions::default()).unwrap().model.save(&b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "same seed, same file");
        let loaded = FlowModel::load(&a).unwrap();
        assert_eq!(loaded.name, "a.json (gradient_boosting)");
        assert!(loaded.score(&data.rows[0]) > 0.5);
        assert!(loaded.score(&data.rows[1]) < 0.5);
        let other = TrainOptions { seed: 2, ..TrainOptions::default() };
        assert_ne!(train(&data, &other).unwrap().model, out.model);
    }

    #[test]
    fn refuses_one_class_and_bad_options() {
        let mut d = synthetic(8);
        d.classes.iter_mut().for_each(|c| *c = 0);
        assert!(matches!(train(&d, &TrainOptions::default()), Err(TrainError::OneClass("normal"))));
        assert!(matches!(train(&Dataset::default(), &TrainOptions::default()), Err(TrainError::Empty)));
        let bad = TrainOptions { test_fraction: 1.0, ..TrainOptions::default() };
        assert!(matches!(train(&synthetic(8), &bad), Err(TrainError::Options(_))));
        for budget in [0.0, -1.0, f32::NAN] {
            let bad = TrainOptions {
                algorithm: Algorithm::GradientBoosting(BoostingParams { budget, ..BoostingParams::default() }),
                ..TrainOptions::default()
            };
            assert!(matches!(train(&synthetic(8), &bad), Err(TrainError::Options(_))));
        }
    }
}
