//! Gradient-boosted trees: trained by perpetual's `PerpetualBooster`
//! (objective `LogLoss`), read out into netcap's own arrays so that the
//! model file documents them and `netcap detect` scores them without the
//! crate.
//!
//! perpetual (3.0) keeps, besides a leaf's weight, the leaf's weights of
//! its five internal folds, and its `predict_proba` is the mean over the
//! folds of the sigmoid of `base_score` plus the sum over trees of the
//! fold's leaf weight. [`BoostedTrees::score`] computes exactly that, in
//! the same order of operations, so a model file scores every row bit for
//! bit as the booster it came from (tested below on many rows).

use crate::features::FEATURE_COUNT;
use perpetual::PerpetualBooster;
use perpetual::objective::Objective;
use serde::{Deserialize, Serialize};

/// How perpetual trains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoostingParams {
    /// perpetual's one hyperparameter: higher fits more closely (more and
    /// deeper trees, a smaller step), at more training time.
    pub budget: f32,
    /// perpetual's memory limit, in GB. It bounds the number of nodes a
    /// tree may have (the histogram arena), which perpetual otherwise
    /// derives from the memory free when training starts: with a fixed
    /// limit the model depends on the data, the seed and this number only
    /// (as long as that much memory is free).
    pub memory_limit_gb: f32,
    /// Threads of perpetual's pool (0: rayon's default, the cores).
    pub threads: usize,
}

/// The perpetual release netcap trains with (Cargo.toml pins it).
pub const PERPETUAL_VERSION: &str = "3.0.0-rc.2";

/// perpetual's default budget.
pub const DEFAULT_BUDGET: f32 = 0.5;
/// The memory limit `netcap train` gives perpetual unless told otherwise.
pub const DEFAULT_MEMORY_LIMIT_GB: f32 = 1.0;
/// perpetual's folds per leaf (`Node::leaf_weights`).
const PERPETUAL_FOLDS: usize = 5;
/// A model file may give a leaf at most this many fold weights.
pub const MAX_FOLDS: usize = 16;

impl Default for BoostingParams {
    fn default() -> Self {
        BoostingParams { budget: DEFAULT_BUDGET, memory_limit_gb: DEFAULT_MEMORY_LIMIT_GB, threads: 0 }
    }
}

/// One tree as parallel arrays, node 0 the root. A node with
/// `split_feature` −1 is a leaf with `folds` weights in `leaf_weights`
/// (log-odds); a split node sends a flow whose scaled feature is NaN to
/// `missing`, one whose feature is `< split_value` to `left`, any other to
/// `right`, and has no leaf weights. Children come after their parent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct BoostedTree {
    pub split_feature: Vec<i32>,
    pub split_value: Vec<f64>,
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    pub missing: Vec<u32>,
    pub leaf_weights: Vec<Vec<f64>>,
}

/// A trained ensemble: the score of a flow is the mean over the `folds`
/// of `1 / (1 + e^−(base_score + Σ over trees of the leaf's fold weight))`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoostedTrees {
    pub base_score: f64,
    pub folds: usize,
    pub trees: Vec<BoostedTree>,
}

/// A weight's bound: perpetual's weights are `f32`, so a sum over even
/// millions of trees stays finite and a score is never NaN.
const MAX_WEIGHT: f64 = f32::MAX as f64;

impl BoostedTree {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.split_feature.len()
    }

    pub fn is_empty(&self) -> bool {
        self.split_feature.is_empty()
    }

    /// Checks the shape: arrays of one length, at least one node, features
    /// within `features`, children after their parent and inside the tree,
    /// split values not NaN, `folds` finite weights on each leaf and none
    /// on split nodes. [`BoostedTree::leaf`] relies on it.
    pub fn validate(&self, features: usize, folds: usize) -> Result<(), String> {
        let n = self.split_feature.len();
        if n == 0 {
            return Err("a tree has no nodes".into());
        }
        let lengths = [self.split_value.len(), self.left.len(), self.right.len(), self.missing.len()];
        if lengths.iter().chain([&self.leaf_weights.len()]).any(|&l| l != n) {
            return Err("a tree's node arrays differ in length".into());
        }
        for i in 0..n {
            let f = self.split_feature[i];
            let weights = &self.leaf_weights[i];
            if f < 0 {
                if weights.len() != folds {
                    return Err(format!("leaf {i} has {} weights, not {folds}", weights.len()));
                }
                if let Some(w) = weights.iter().find(|w| w.is_nan() || w.abs() > MAX_WEIGHT) {
                    return Err(format!("leaf {i} has weight {w}"));
                }
                continue;
            }
            if f as usize >= features {
                return Err(format!("node {i} splits on feature {f} of {features}"));
            }
            if self.split_value[i].is_nan() {
                return Err(format!("node {i} has split value NaN"));
            }
            if !weights.is_empty() {
                return Err(format!("split node {i} has leaf weights"));
            }
            for child in [self.left[i], self.right[i], self.missing[i]] {
                if child as usize <= i || child as usize >= n {
                    return Err(format!("node {i} has child {child} (nodes: {n})"));
                }
            }
        }
        Ok(())
    }

    /// The leaf's fold weights for `x`. The tree must have passed
    /// [`BoostedTree::validate`] (a malformed tree answers no weights
    /// rather than looping or panicking).
    pub fn leaf(&self, x: &[f64]) -> &[f64] {
        let mut node = 0usize;
        for _ in 0..self.split_feature.len() {
            let Some(&f) = self.split_feature.get(node) else { return &[] };
            if f < 0 {
                return self.leaf_weights.get(node).map_or(&[], Vec::as_slice);
            }
            let v = x.get(f as usize).copied().unwrap_or(f64::NAN);
            let next = if v.is_nan() {
                self.missing.get(node)
            } else if v < self.split_value.get(node).copied().unwrap_or(0.0) {
                self.left.get(node)
            } else {
                self.right.get(node)
            };
            node = next.map_or(usize::MAX, |&c| c as usize);
        }
        &[]
    }
}

impl BoostedTrees {
    /// Checks what [`BoostedTrees::score`] relies on.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        if !(1..=MAX_FOLDS).contains(&self.folds) {
            return Err(format!("{} folds (1 to {MAX_FOLDS})", self.folds));
        }
        if self.base_score.is_nan() || self.base_score.abs() > MAX_WEIGHT {
            return Err(format!("base score {}", self.base_score));
        }
        for (i, t) in self.trees.iter().enumerate() {
            t.validate(features, self.folds).map_err(|e| format!("tree {i}: {e}"))?;
        }
        Ok(())
    }

    /// The probability of class 1 of scaled features `x`: perpetual's
    /// `predict_proba`, operation for operation (per fold, `base_score`
    /// plus the trees' weights in tree order; the sigmoid `1 / (1 +
    /// exp(−v))` per fold; their sum in fold order divided by the folds).
    pub fn score(&self, x: &[f64]) -> f64 {
        let mut logits = [self.base_score; MAX_FOLDS];
        let folds = self.folds.clamp(1, MAX_FOLDS);
        for tree in &self.trees {
            for (logit, w) in logits[..folds].iter_mut().zip(tree.leaf(x)) {
                *logit += w;
            }
        }
        logits[..folds].iter().map(|&v| 1.0 / (1.0 + (-v).exp())).sum::<f64>() / folds as f64
    }

    /// Total nodes over the trees.
    pub fn nodes(&self) -> usize {
        self.trees.iter().map(BoostedTree::len).sum()
    }
}

/// Training with perpetual failed.
#[derive(Debug, thiserror::Error)]
pub enum BoostingError {
    #[error("perpetual: {0}")]
    Perpetual(#[from] perpetual::errors::PerpetualError),
    #[error("perpetual stopped with a panic: {0}")]
    Panic(String),
    #[error("perpetual's model cannot be read out: {0}")]
    Convert(String),
    #[error("could not start perpetual's threads: {0}")]
    Threads(String),
}

/// The booster `netcap train` configures: LogLoss, the budget, a fixed
/// memory limit, the seed, the thread count; everything else perpetual's
/// defaults (no timeout: a time limit would make the model depend on the
/// machine's speed).
pub fn booster(params: &BoostingParams, seed: u64) -> PerpetualBooster {
    PerpetualBooster::default()
        .set_objective(Objective::LogLoss)
        .set_budget(params.budget)
        .set_memory_limit(Some(params.memory_limit_gb))
        .set_num_threads((params.threads > 0).then_some(params.threads))
        .set_seed(seed)
}

/// The memory perpetual counts as free when it sizes its histogram arena
/// (the cgroup's free memory, else the system's available memory), in
/// bytes. Above the memory limit, it is not what caps the tree size.
pub fn free_memory_bytes() -> u64 {
    use sysinfo::{MemoryRefreshKind, RefreshKind, System};
    let sys = System::new_with_specifics(RefreshKind::nothing().with_memory(MemoryRefreshKind::everything()));
    match sys.cgroup_limits() {
        Some(limits) => limits.free_memory,
        None => sys.available_memory(),
    }
}

/// Rows as perpetual's column-major matrix data.
pub fn column_major(rows: &[[f64; FEATURE_COUNT]]) -> Vec<f64> {
    let mut data = Vec::with_capacity(rows.len() * FEATURE_COUNT);
    for f in 0..FEATURE_COUNT {
        data.extend(rows.iter().map(|r| r[f]));
    }
    data
}

/// Trains perpetual on `rows` (scaled features) and `labels` (0 or 1) and
/// reads its trees out. Returns the booster too (for tests and checks).
pub fn train_boosting(
    rows: &[[f64; FEATURE_COUNT]],
    labels: &[u8],
    params: &BoostingParams,
    seed: u64,
) -> Result<(BoostedTrees, PerpetualBooster), BoostingError> {
    let n = rows.len().min(labels.len());
    let data = column_major(&rows[..n]);
    let y: Vec<f64> = labels[..n].iter().map(|&c| f64::from(c)).collect();
    let mut model = booster(params, seed);
    // perpetual builds its own pool of `threads`; the caller's pool must
    // not matter, so with 0 threads perpetual takes the machine's cores.
    let fit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let matrix = perpetual::Matrix::new(&data, n, FEATURE_COUNT);
        model.fit(&matrix, &y, None, None)
    }));
    match fit {
        Ok(result) => result?,
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            return Err(BoostingError::Panic(text));
        }
    }
    let trees = from_perpetual(&model).map_err(BoostingError::Convert)?;
    Ok((trees, model))
}

/// perpetual's trees as netcap's arrays. Refuses what netcap does not
/// score: categorical splits, a calibrator, a regression head, another
/// objective.
pub fn from_perpetual(model: &PerpetualBooster) -> Result<BoostedTrees, String> {
    if !matches!(model.cfg.objective, Objective::LogLoss) {
        return Err("the objective is not LogLoss".into());
    }
    if model.regression_head.is_some() {
        return Err("the booster has a regression head".into());
    }
    if model.isotonic_calibrator.is_some() {
        return Err("the booster has a calibrator".into());
    }
    if !model.base_score.is_finite() {
        return Err(format!("base score {}", model.base_score));
    }
    let trees = model
        .get_prediction_trees()
        .iter()
        .enumerate()
        .map(|(i, t)| convert_tree(t).map_err(|e| format!("tree {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let out = BoostedTrees { base_score: model.base_score, folds: PERPETUAL_FOLDS, trees };
    out.validate(FEATURE_COUNT)?;
    Ok(out)
}

/// One perpetual tree (nodes in a map keyed by number, root 0) as arrays
/// in breadth-first order, so that children come after their parent.
fn convert_tree(tree: &perpetual::tree::Tree) -> Result<BoostedTree, String> {
    let mut out = BoostedTree::default();
    // perpetual number of each output node, in output order.
    let mut order: Vec<usize> = vec![0];
    let mut index_of = std::collections::HashMap::from([(0usize, 0u32)]);
    let mut next = 0usize;
    while next < order.len() {
        let num = order[next];
        next += 1;
        let node = tree.nodes.get(&num).ok_or_else(|| format!("node {num} is missing"))?;
        if node.is_leaf {
            // What perpetual's `predict_weights` takes for a leaf.
            let weights =
                node.leaf_weights.unwrap_or_else(|| node.stats.as_ref().map_or([node.weight_value; 5], |s| s.weights));
            out.split_feature.push(-1);
            out.split_value.push(0.0);
            out.left.push(0);
            out.right.push(0);
            out.missing.push(0);
            out.leaf_weights.push(weights.iter().map(|&w| f64::from(w)).collect());
            continue;
        }
        if node.left_cats.is_some() {
            return Err(format!("node {num} is a categorical split"));
        }
        let feature = i32::try_from(node.split_feature)
            .ok()
            .filter(|&f| (f as usize) < FEATURE_COUNT)
            .ok_or_else(|| format!("node {num} splits on feature {}", node.split_feature))?;
        let mut child_index = |child: usize| -> Result<u32, String> {
            if let Some(&i) = index_of.get(&child) {
                // Only the missing branch may share a child (the left or
                // right one, when missing values are imputed).
                return Ok(i);
            }
            let i = u32::try_from(order.len()).map_err(|_| "too many nodes".to_string())?;
            if order.len() >= tree.nodes.len() {
                return Err(format!("node {num}'s children are not a tree"));
            }
            index_of.insert(child, i);
            order.push(child);
            Ok(i)
        };
        let left = child_index(node.left_child)?;
        let right = child_index(node.right_child)?;
        let missing = child_index(node.missing_node)?;
        let own = out.split_feature.len() as u32;
        if [left, right, missing].iter().any(|&c| c <= own) || left == right {
            return Err(format!("node {num}'s children are not a tree"));
        }
        out.split_feature.push(feature);
        out.split_value.push(node.split_value);
        out.left.push(left);
        out.right.push(right);
        out.missing.push(missing);
        out.leaf_weights.push(Vec::new());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Rows whose class depends on three features with noise, some NaN.
    fn rows(n: usize, seed: u64) -> (Vec<[f64; FEATURE_COUNT]>, Vec<u8>) {
        let mut rng = SplitMix64::new(seed);
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for _ in 0..n {
            let mut r = [0.0; FEATURE_COUNT];
            for v in r.iter_mut() {
                *v = rng.below(1000) as f64 / 1000.0;
            }
            let noise = rng.below(100) < 8;
            let attack = (r[1] < 0.3 && r[2] > 0.5) || r[12] > 0.9;
            r[20] = r[20].round();
            labels.push(u8::from(attack != noise));
            rows.push(r);
        }
        (rows, labels)
    }

    fn matrix_scores(model: &PerpetualBooster, rows: &[[f64; FEATURE_COUNT]]) -> Vec<f64> {
        let data = column_major(rows);
        model.predict_proba(&perpetual::Matrix::new(&data, rows.len(), FEATURE_COUNT), true, false)
    }

    #[test]
    fn scores_equal_perpetuals_predict_proba_bit_for_bit() {
        let (train, labels) = rows(3000, 1);
        let params = BoostingParams { budget: 1.0, ..BoostingParams::default() };
        let (trees, model) = train_boosting(&train, &labels, &params, 3).unwrap();
        assert!(trees.trees.len() > 1, "{} trees", trees.trees.len());
        assert!(trees.trees.iter().any(|t| t.len() > 3));
        // Rows it never saw, out-of-range values, NaN and infinities.
        let (mut test, _) = rows(5000, 2);
        let mut rng = SplitMix64::new(5);
        for r in test.iter_mut().step_by(7) {
            let f = rng.below(FEATURE_COUNT);
            r[f] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -3.0, 7.5][rng.below(5)];
        }
        test.extend_from_slice(&train);
        let expected = matrix_scores(&model, &test);
        let mut differ = 0;
        for (r, e) in test.iter().zip(&expected) {
            let got = trees.score(r);
            differ += usize::from(got.to_bits() != e.to_bits());
        }
        assert_eq!(differ, 0, "{differ} of {} rows score otherwise than predict_proba", test.len());
        // The scores spread: the comparison is not of constants.
        let high = expected.iter().filter(|&&s| s > 0.5).count();
        assert!(high > 500 && high < expected.len() - 500, "{high}");
    }

    #[test]
    fn training_is_deterministic_for_a_seed_and_any_thread_count() {
        let (train, labels) = rows(2000, 4);
        let params = BoostingParams::default();
        let json = |p: &BoostingParams, seed| {
            serde_json::to_string(&train_boosting(&train, &labels, p, seed).unwrap().0).unwrap()
        };
        let one = json(&BoostingParams { threads: 1, ..params }, 1);
        assert_eq!(one, json(&BoostingParams { threads: 1, ..params }, 1));
        for threads in [2, 3, 8] {
            assert_eq!(one, json(&BoostingParams { threads, ..params }, 1), "{threads} threads");
        }
        assert_eq!(one, json(&params, 1), "the default thread count");
    }

    #[test]
    fn json_round_trip_keeps_every_bit() {
        let (train, labels) = rows(1500, 6);
        let (trees, _) = train_boosting(&train, &labels, &BoostingParams::default(), 1).unwrap();
        let back: BoostedTrees = serde_json::from_str(&serde_json::to_string(&trees).unwrap()).unwrap();
        assert_eq!(back, trees);
        for r in &train {
            assert_eq!(back.score(r).to_bits(), trees.score(r).to_bits());
        }
    }

    fn tiny() -> BoostedTree {
        BoostedTree {
            split_feature: vec![0, -1, -1],
            split_value: vec![0.5, 0.0, 0.0],
            left: vec![1, 0, 0],
            right: vec![2, 0, 0],
            missing: vec![2, 0, 0],
            leaf_weights: vec![vec![], vec![-1.0], vec![2.0]],
        }
    }

    #[test]
    fn walks_with_less_than_and_missing() {
        let t = tiny();
        t.validate(FEATURE_COUNT, 1).unwrap();
        let mut x = [0.0; FEATURE_COUNT];
        assert_eq!(t.leaf(&x), [-1.0]);
        x[0] = 0.5; // not < 0.5
        assert_eq!(t.leaf(&x), [2.0]);
        x[0] = f64::NAN;
        assert_eq!(t.leaf(&x), [2.0]);
        let m = BoostedTrees { base_score: 0.5, folds: 1, trees: vec![t] };
        x[0] = 0.1;
        assert_eq!(m.score(&x), 1.0 / (1.0 + (0.5f64).exp()));
    }

    #[test]
    fn validate_refuses_malformed_trees() {
        let bad = |f: &dyn Fn(&mut BoostedTree)| {
            let mut t = tiny();
            f(&mut t);
            t.validate(FEATURE_COUNT, 1).unwrap_err()
        };
        assert!(bad(&|t| t.left[0] = 0).contains("child 0"));
        assert!(bad(&|t| t.missing[0] = 3).contains("child 3"));
        assert!(bad(&|t| t.split_feature[0] = 36).contains("feature 36"));
        assert!(bad(&|t| t.split_value[0] = f64::NAN).contains("NaN"));
        assert!(bad(&|t| t.leaf_weights[1] = vec![1.0, 2.0]).contains("2 weights"));
        assert!(bad(&|t| t.leaf_weights[2] = vec![f64::INFINITY]).contains("weight inf"));
        assert!(bad(&|t| t.leaf_weights[0] = vec![1.0]).contains("split node 0"));
        assert!(
            bad(&|t| {
                t.missing.pop();
            })
            .contains("differ")
        );
        assert!(BoostedTree::default().validate(FEATURE_COUNT, 1).is_err());
        let m = BoostedTrees { base_score: f64::NAN, folds: 1, trees: vec![tiny()] };
        assert!(m.validate(FEATURE_COUNT).is_err());
        let m = BoostedTrees { base_score: 0.0, folds: 0, trees: vec![tiny()] };
        assert!(m.validate(FEATURE_COUNT).is_err());
        // A malformed tree scored anyway answers without looping.
        let mut cycle = tiny();
        cycle.left[0] = 0;
        assert!(cycle.leaf(&[0.0; FEATURE_COUNT]).is_empty());
    }
}
