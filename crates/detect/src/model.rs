//! Model files: what `netcap train` writes and `netcap detect` loads.
//!
//! A model file is one JSON object (docs/detect.md, "Model file format"):
//!
//! ```json
//! {"format": "netcap-flow-model", "version": 1, "feature_set": "netwatcher",
//!  "features": ["duration_s", ...36 names],
//!  "scaler": {"kind": "min_max", "min": [36 numbers], "max": [36 numbers]},
//!  "threshold": 0.5,
//!  "classifier": {"kind": "gradient_boosting", "base_score": -0.4, "folds": 5,
//!    "trees": [{"split_feature": [..], "split_value": [..], "left": [..],
//!    "right": [..], "missing": [..], "leaf_weights": [[..], ...]}, ...]},
//!  "training": {...}}
//! ```
//!
//! or a `random_forest` classifier (`{"kind": "random_forest", "trees":
//! [{"feature": [..], "threshold": [..], "left": [..], "right": [..],
//! "value": [..]}, ...]}`), which earlier netcaps wrote and which still
//! loads and scores as it did.
//!
//! `training` is information only (rows, parameters, evaluation). Loading
//! checks everything a scorer relies on, so a bad file is refused before
//! any packet is read.

use crate::boosting::BoostedTrees;
use crate::features::{FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET, Features};
use crate::forest::{Tree, predict_forest};
use crate::onnx::OnnxModel;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `format` of a model file.
pub const MODEL_FORMAT: &str = "netcap-flow-model";
/// The model file version this build writes and reads.
pub const MODEL_VERSION: u32 = 1;
/// Model files larger than this are refused (a forest of 100 trees of
/// depth 20 on 100 000 flows takes a few MB).
pub const MAX_MODEL_BYTES: u64 = 512 << 20;

/// A model file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("model {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("model {path}: {reason}")]
    Parse { path: PathBuf, reason: String },
    #[error("model {path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

/// Min-max scaling to [0, 1] per feature, as scikit-learn's MinMaxScaler
/// (NetWatcher's scaler): `(x - min) / (max - min)`, and `x - min` where
/// the training range was empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MinMaxScaler {
    pub kind: String,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
}

impl MinMaxScaler {
    /// Fits the scaler to `rows`.
    pub fn fit(rows: &[Features]) -> MinMaxScaler {
        let mut min = vec![f64::INFINITY; FEATURE_COUNT];
        let mut max = vec![f64::NEG_INFINITY; FEATURE_COUNT];
        for r in rows {
            for (i, &v) in r.iter().enumerate() {
                min[i] = min[i].min(v);
                max[i] = max[i].max(v);
            }
        }
        for i in 0..FEATURE_COUNT {
            if !min[i].is_finite() || !max[i].is_finite() {
                (min[i], max[i]) = (0.0, 0.0);
            }
        }
        MinMaxScaler { kind: "min_max".into(), min, max }
    }

    /// Scales `x` in place.
    pub fn transform(&self, x: &mut Features) {
        for ((v, &lo), &hi) in x.iter_mut().zip(&self.min).zip(&self.max) {
            let range = hi - lo;
            *v = if range > 0.0 { (*v - lo) / range } else { *v - lo };
        }
    }

    fn validate(&self) -> Result<(), String> {
        if self.kind != "min_max" {
            return Err(format!("scaler kind {:?} is not min_max", self.kind));
        }
        if self.min.len() != FEATURE_COUNT || self.max.len() != FEATURE_COUNT {
            return Err(format!(
                "scaler has {} minima and {} maxima for {FEATURE_COUNT} features",
                self.min.len(),
                self.max.len()
            ));
        }
        if self.min.iter().chain(&self.max).any(|v| !v.is_finite()) {
            return Err("scaler has a bound that is not a finite number".into());
        }
        if self.min.iter().zip(&self.max).any(|(lo, hi)| lo > hi) {
            return Err("scaler has a minimum above its maximum".into());
        }
        Ok(())
    }
}

/// The classifier of a model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Classifier {
    /// perpetual's gradient-boosted trees (`netcap train`'s default).
    GradientBoosting(BoostedTrees),
    /// netcap's random forest (`netcap train -algorithm forest`).
    RandomForest { trees: Vec<Tree> },
}

impl Classifier {
    /// The `kind` in the model file.
    pub fn kind(&self) -> &'static str {
        match self {
            Classifier::GradientBoosting(_) => "gradient_boosting",
            Classifier::RandomForest { .. } => "random_forest",
        }
    }
}

/// A model file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelFile {
    pub format: String,
    pub version: u32,
    pub feature_set: String,
    pub features: Vec<String>,
    pub scaler: Option<MinMaxScaler>,
    /// The threshold `netcap train` evaluated at; `detect -threshold`
    /// overrides it.
    pub threshold: f64,
    pub classifier: Classifier,
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub training: serde_json::Value,
}

impl ModelFile {
    /// A model file of the current format for a trained forest.
    pub fn forest(scaler: MinMaxScaler, trees: Vec<Tree>, threshold: f64, training: serde_json::Value) -> Self {
        ModelFile::new(scaler, Classifier::RandomForest { trees }, threshold, training)
    }

    /// A model file of the current format for a trained classifier.
    pub fn new(scaler: MinMaxScaler, classifier: Classifier, threshold: f64, training: serde_json::Value) -> Self {
        ModelFile {
            format: MODEL_FORMAT.into(),
            version: MODEL_VERSION,
            feature_set: FEATURE_SET.into(),
            features: FEATURE_NAMES.iter().map(|s| s.to_string()).collect(),
            scaler: Some(scaler),
            threshold,
            classifier,
            training,
        }
    }

    /// Checks what scoring relies on.
    pub fn validate(&self) -> Result<(), String> {
        if self.format != MODEL_FORMAT {
            return Err(format!("format is {:?}, not {MODEL_FORMAT:?}", self.format));
        }
        if self.version != MODEL_VERSION {
            return Err(format!("version {} (this netcap reads version {MODEL_VERSION})", self.version));
        }
        if self.feature_set != FEATURE_SET {
            return Err(format!("feature set {:?} (this netcap computes {FEATURE_SET:?})", self.feature_set));
        }
        if self.features.len() != FEATURE_COUNT {
            return Err(format!("model takes {} features; netcap computes {FEATURE_COUNT}", self.features.len()));
        }
        if let Some((i, (got, want))) =
            self.features.iter().zip(FEATURE_NAMES).enumerate().find(|(_, (got, want))| got != want)
        {
            return Err(format!("feature {i} is {got:?}, expected {want:?}"));
        }
        if let Some(s) = &self.scaler {
            s.validate()?;
        }
        if !(0.0..=1.0).contains(&self.threshold) {
            return Err(format!("threshold {} is not in [0, 1]", self.threshold));
        }
        match &self.classifier {
            Classifier::RandomForest { trees } => {
                if trees.is_empty() {
                    return Err("the random forest has no trees".into());
                }
                for (i, t) in trees.iter().enumerate() {
                    t.validate(FEATURE_COUNT).map_err(|e| format!("tree {i}: {e}"))?;
                }
            }
            Classifier::GradientBoosting(b) => b.validate(FEATURE_COUNT)?,
        }
        Ok(())
    }

    /// Writes the file (JSON).
    pub fn save(&self, path: &Path) -> Result<(), ModelError> {
        let io = |source| ModelError::Io { path: path.to_path_buf(), source };
        let text = serde_json::to_string(self).map_err(|e| io(std::io::Error::other(e)))?;
        std::fs::write(path, text).map_err(io)
    }
}

/// A loaded, checked model ready to score.
#[derive(Debug, Clone)]
pub struct FlowModel {
    /// File name and kind, for events and Alert records.
    pub name: String,
    pub default_threshold: f64,
    scaler: Option<MinMaxScaler>,
    scorer: Scorer,
}

#[derive(Debug, Clone)]
enum Scorer {
    Forest(Vec<Tree>),
    Boosting(BoostedTrees),
    Onnx(Box<OnnxModel>),
}

/// A scaler file for ONNX models whose graph does not scale: netcap's
/// min-max scaler as JSON, `{"kind": "min_max", "features": [36 names,
/// optional], "min": [36], "max": [36]}` (scripts/onnx_models.py writes
/// one from scikit-learn's MinMaxScaler: `data_min_`, `data_max_`).
#[derive(Debug, Clone, Deserialize)]
struct ScalerFile {
    kind: String,
    #[serde(default)]
    features: Option<Vec<String>>,
    min: Vec<f64>,
    max: Vec<f64>,
}

fn read_limited(path: &Path) -> Result<Vec<u8>, ModelError> {
    let io = |source| ModelError::Io { path: path.to_path_buf(), source };
    let len = std::fs::metadata(path).map_err(io)?.len();
    if len > MAX_MODEL_BYTES {
        return Err(ModelError::Invalid {
            path: path.to_path_buf(),
            reason: format!("{len} bytes, more than the {MAX_MODEL_BYTES} a model file may have"),
        });
    }
    std::fs::read(path).map_err(io)
}

/// Reads and checks a scaler file.
pub fn load_scaler(path: &Path) -> Result<MinMaxScaler, ModelError> {
    let bytes = read_limited(path)?;
    let invalid = |reason: String| ModelError::Invalid { path: path.to_path_buf(), reason };
    let file: ScalerFile = serde_json::from_slice(&bytes).map_err(|e| ModelError::Parse {
        path: path.to_path_buf(),
        reason: format!("not a scaler file (JSON): {e}"),
    })?;
    if let Some(names) = &file.features {
        if names.len() != FEATURE_COUNT {
            return Err(invalid(format!("scaler has {} features; netcap computes {FEATURE_COUNT}", names.len())));
        }
        if let Some((i, (got, want))) = names.iter().zip(FEATURE_NAMES).enumerate().find(|(_, (g, w))| g != w) {
            return Err(invalid(format!("scaler feature {i} is {got:?}, expected {want:?}")));
        }
    }
    let scaler = MinMaxScaler { kind: file.kind, min: file.min, max: file.max };
    scaler.validate().map_err(invalid)?;
    Ok(scaler)
}

impl FlowModel {
    /// Loads and checks a model file: netcap's JSON model (from `netcap
    /// train`), or an ONNX model. `scaler`: a scaler file for an ONNX
    /// model whose graph does not scale its input (a JSON model has its
    /// own scaler).
    pub fn load_with_scaler(path: &Path, scaler: Option<&Path>) -> Result<FlowModel, ModelError> {
        let bytes = read_limited(path)?;
        let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
        let invalid = |reason: String| ModelError::Invalid { path: path.to_path_buf(), reason };
        let json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if json {
            if scaler.is_some() {
                return Err(invalid("a netcap model file has its own scaler: leave out the scaler file".into()));
            }
            let file: ModelFile = serde_json::from_slice(&bytes).map_err(|e| ModelError::Parse {
                path: path.to_path_buf(),
                reason: format!("not a netcap model file (JSON): {e}"),
            })?;
            return FlowModel::from_file(file, &name).map_err(invalid);
        }
        let onnx = OnnxModel::from_bytes(&bytes).map_err(|reason| {
            if reason.starts_with("not an ONNX model") {
                ModelError::Parse {
                    path: path.to_path_buf(),
                    reason: format!("not a netcap model file (JSON) nor an ONNX model: {reason}"),
                }
            } else {
                invalid(reason)
            }
        })?;
        let scaler = scaler.map(load_scaler).transpose()?;
        Ok(FlowModel {
            name: format!("{name} (onnx)"),
            default_threshold: 0.5,
            scaler,
            scorer: Scorer::Onnx(Box::new(onnx)),
        })
    }

    /// [`FlowModel::load_with_scaler`] without a scaler file.
    pub fn load(path: &Path) -> Result<FlowModel, ModelError> {
        FlowModel::load_with_scaler(path, None)
    }

    /// A model from a file's content, checked.
    pub fn from_file(file: ModelFile, name: &str) -> Result<FlowModel, String> {
        file.validate()?;
        let kind = file.classifier.kind();
        let scorer = match file.classifier {
            Classifier::RandomForest { trees } => Scorer::Forest(trees),
            Classifier::GradientBoosting(b) => Scorer::Boosting(b),
        };
        Ok(FlowModel {
            name: format!("{name} ({kind})"),
            default_threshold: file.threshold,
            scaler: file.scaler,
            scorer,
        })
    }

    /// The probability of class 1 (attack) of a flow with features `x`
    /// (unscaled: the model's scaler is applied here).
    pub fn score(&self, x: &Features) -> f64 {
        let mut scaled = *x;
        if let Some(s) = &self.scaler {
            s.transform(&mut scaled);
        }
        match &self.scorer {
            Scorer::Forest(trees) => predict_forest(trees, &scaled),
            Scorer::Boosting(b) => b.score(&scaled),
            Scorer::Onnx(m) => m.score(&scaled),
        }
    }

    /// The scores of many flows, in order: [`FlowModel::score`] of each
    /// row. An ONNX model scores them in as few runs as it can (its cost is
    /// mostly per run); netcap's trees one by one.
    pub fn score_rows(&self, rows: &[Features]) -> Vec<f64> {
        match &self.scorer {
            Scorer::Forest(_) | Scorer::Boosting(_) => rows.iter().map(|r| self.score(r)).collect(),
            Scorer::Onnx(m) => {
                let scaled: Vec<Features> = match &self.scaler {
                    Some(s) => rows
                        .iter()
                        .map(|r| {
                            let mut x = *r;
                            s.transform(&mut x);
                            x
                        })
                        .collect(),
                    None => rows.to_vec(),
                };
                m.score_rows(&scaled)
            }
        }
    }

    /// What scores the model: "forest", "gradient boosting" (netcap's model
    /// files), "onnx trees" (an ONNX tree ensemble walked by netcap) or
    /// "onnx tract".
    pub fn engine(&self) -> &'static str {
        match &self.scorer {
            Scorer::Forest(_) => "forest",
            Scorer::Boosting(_) => "gradient boosting",
            Scorer::Onnx(m) if m.engine_name() == "trees" => "onnx trees",
            Scorer::Onnx(_) => "onnx tract",
        }
    }

    /// Whether an ONNX model scores many rows per run (always true for
    /// netcap's own models, which have no runs).
    pub fn batched(&self) -> bool {
        match &self.scorer {
            Scorer::Forest(_) | Scorer::Boosting(_) => true,
            Scorer::Onnx(m) => m.batched(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ModelFile {
        let tree = Tree {
            feature: vec![1, -1, -1],
            threshold: vec![0.5, 0.0, 0.0],
            left: vec![1, 0, 0],
            right: vec![2, 0, 0],
            value: vec![0.0, 0.25, 0.75],
        };
        let mut rows = vec![[0.0; FEATURE_COUNT]; 2];
        rows[1][1] = 10.0;
        ModelFile::forest(MinMaxScaler::fit(&rows), vec![tree], 0.5, serde_json::Value::Null)
    }

    #[test]
    fn scaler_matches_min_max_definition() {
        let mut rows = vec![[1.0; FEATURE_COUNT]; 3];
        rows[1][0] = 3.0;
        rows[2][0] = 5.0;
        let s = MinMaxScaler::fit(&rows);
        assert_eq!((s.min[0], s.max[0]), (1.0, 5.0));
        let mut x = [2.0; FEATURE_COUNT];
        s.transform(&mut x);
        assert_eq!(x[0], 0.25);
        // An empty range subtracts the minimum only.
        assert_eq!(x[1], 1.0);
    }

    #[test]
    fn save_load_and_score() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        tiny().save(&path).unwrap();
        let m = FlowModel::load(&path).unwrap();
        assert_eq!(m.name, "m.json (random_forest)");
        let mut x = [0.0; FEATURE_COUNT];
        assert_eq!(m.score(&x), 0.25);
        x[1] = 8.0;
        assert_eq!(m.score(&x), 0.75);
    }

    #[test]
    fn a_gradient_boosting_file_round_trips_and_scores() {
        use crate::boosting::{BoostedTree, BoostedTrees};
        let tree = BoostedTree {
            split_feature: vec![1, -1, -1],
            split_value: vec![0.5, 0.0, 0.0],
            left: vec![1, 0, 0],
            right: vec![2, 0, 0],
            missing: vec![2, 0, 0],
            leaf_weights: vec![vec![], vec![-1.0, -2.0], vec![1.5, 0.5]],
        };
        let mut rows = vec![[0.0; FEATURE_COUNT]; 2];
        rows[1][1] = 10.0;
        let trees = BoostedTrees { base_score: 0.25, folds: 2, trees: vec![tree.clone(), tree] };
        let file = ModelFile::new(
            MinMaxScaler::fit(&rows),
            Classifier::GradientBoosting(trees),
            0.5,
            serde_json::json!({"rows": 2}),
        );
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.json");
        file.save(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(r#""classifier":{"kind":"gradient_boosting","base_score":0.25,"folds":2,"trees":[{"#));
        let back: ModelFile = serde_json::from_str(&text).unwrap();
        assert_eq!(back, file);
        let m = FlowModel::load(&path).unwrap();
        assert_eq!(m.name, "b.json (gradient_boosting)");
        let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
        let mut x = [0.0; FEATURE_COUNT];
        // Scaled 0 < 0.5: left leaf twice.
        assert_eq!(m.score(&x), (sigmoid(0.25 - 1.0 - 1.0) + sigmoid(0.25 - 2.0 - 2.0)) / 2.0);
        x[1] = 9.0;
        assert_eq!(m.score(&x), (sigmoid(0.25 + 1.5 + 1.5) + sigmoid(0.25 + 0.5 + 0.5)) / 2.0);
        x[1] = f64::NAN;
        assert_eq!(m.score(&x), (sigmoid(0.25 + 1.5 + 1.5) + sigmoid(0.25 + 0.5 + 0.5)) / 2.0);
        assert_eq!(m.score_rows(&[x, [0.0; FEATURE_COUNT]])[1], m.score(&[0.0; FEATURE_COUNT]));
    }

    /// A model file as the netcap before gradient boosting wrote it (the
    /// fuzz seed, a random forest) loads and scores as that netcap did.
    #[test]
    fn earlier_random_forest_files_still_load_and_score() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/detect_model/model");
        let bytes = std::fs::read(path).unwrap();
        let file: ModelFile = serde_json::from_slice(&bytes[1..]).unwrap();
        let Classifier::RandomForest { trees } = &file.classifier else { panic!("not a forest") };
        let (trees, scaler) = (trees.clone(), file.scaler.clone().unwrap());
        let m = FlowModel::from_file(file, "seed").unwrap();
        assert_eq!(m.name, "seed (random_forest)");
        let mut rng = crate::rng::SplitMix64::new(3);
        for _ in 0..1000 {
            let mut x = [0.0; FEATURE_COUNT];
            for v in x.iter_mut() {
                *v = rng.below(1 << 20) as f64 / 64.0;
            }
            let mut scaled = x;
            scaler.transform(&mut scaled);
            assert_eq!(m.score(&x).to_bits(), predict_forest(&trees, &scaled).to_bits());
        }
    }

    #[test]
    fn bad_files_are_refused_with_a_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.json");
        let err = |f: &ModelFile| {
            f.save(&path).unwrap();
            FlowModel::load(&path).unwrap_err().to_string()
        };
        let mut f = tiny();
        f.features.pop();
        assert!(err(&f).contains("model takes 35 features; netcap computes 36"), "{}", err(&f));
        let mut f = tiny();
        f.features.swap(0, 1);
        assert!(err(&f).contains("feature 0 is \"packets_count\""), "{}", err(&f));
        let mut f = tiny();
        f.version = 2;
        assert!(err(&f).contains("version 2"));
        let mut f = tiny();
        if let Some(s) = f.scaler.as_mut() {
            s.min.truncate(3);
        }
        assert!(err(&f).contains("scaler has 3 minima"));
        let mut f = tiny();
        let Classifier::RandomForest { trees } = &mut f.classifier else { unreachable!() };
        trees[0].left[0] = 0;
        assert!(err(&f).contains("tree 0: node 0 has child 0"), "{}", err(&f));
        std::fs::write(&path, b"{\"format\": \"netcap-flow-model\"").unwrap();
        assert!(FlowModel::load(&path).unwrap_err().to_string().contains("not a netcap model file"));
        std::fs::write(&path, b"\x00\x01garbage").unwrap();
        assert!(FlowModel::load(&path).unwrap_err().to_string().contains("not a netcap model file"));
        let missing = FlowModel::load(&dir.path().join("none.json")).unwrap_err().to_string();
        assert!(missing.contains("none.json"), "{missing}");
    }
}
