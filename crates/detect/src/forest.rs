//! A random forest of CART trees (Breiman 2001) for two classes: bootstrap
//! samples, a random subset of features at each split, Gini impurity,
//! thresholds halfway between neighbouring values (as scikit-learn), and
//! the score of a flow the mean over trees of its leaf's fraction of class
//! 1 (scikit-learn's `predict_proba`). Training is deterministic for a
//! seed: each tree has its own generator, and trees are trained in
//! parallel but kept in index order.

use crate::features::FEATURE_COUNT;
use crate::rng::SplitMix64;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How a forest is trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForestParams {
    pub trees: usize,
    /// Depth of a tree at most (the root is depth 0).
    pub max_depth: usize,
    /// Features tried at each split (scikit-learn's default for
    /// classification: the square root of the feature count, 6 of 36).
    pub max_features: usize,
    /// Samples a leaf holds at least.
    pub min_samples_leaf: usize,
}

impl Default for ForestParams {
    fn default() -> Self {
        ForestParams { trees: 100, max_depth: 20, max_features: 6, min_samples_leaf: 1 }
    }
}

/// One tree as parallel arrays, node 0 the root. A node with `feature`
/// -1 is a leaf whose `value` is its fraction of class 1; otherwise a flow
/// goes to `left` when its feature is at most `threshold`, else `right`.
/// Children come after their parent (validation checks it), so walking a
/// tree always ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Tree {
    pub feature: Vec<i32>,
    pub threshold: Vec<f64>,
    pub left: Vec<u32>,
    pub right: Vec<u32>,
    pub value: Vec<f64>,
}

impl Tree {
    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.feature.len()
    }

    pub fn is_empty(&self) -> bool {
        self.feature.is_empty()
    }

    /// Checks the shape: arrays of one length, at least one node, features
    /// within `features`, children after their parent and inside the tree,
    /// finite thresholds, leaf values in [0, 1]. The walk in
    /// [`Tree::predict`] relies on it.
    pub fn validate(&self, features: usize) -> Result<(), String> {
        let n = self.feature.len();
        if n == 0 {
            return Err("a tree has no nodes".into());
        }
        if [self.threshold.len(), self.left.len(), self.right.len(), self.value.len()].iter().any(|&l| l != n) {
            return Err("a tree's node arrays differ in length".into());
        }
        for i in 0..n {
            let f = self.feature[i];
            if f < 0 {
                let v = self.value[i];
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!("leaf {i} has value {v}, not a probability"));
                }
                continue;
            }
            if f as usize >= features {
                return Err(format!("node {i} splits on feature {f} of {features}"));
            }
            if !self.threshold[i].is_finite() {
                return Err(format!("node {i} has threshold {}", self.threshold[i]));
            }
            for child in [self.left[i], self.right[i]] {
                if child as usize <= i || child as usize >= n {
                    return Err(format!("node {i} has child {child} (nodes: {n})"));
                }
            }
        }
        Ok(())
    }

    /// The leaf value of `x`. The tree must have passed [`Tree::validate`]
    /// (a malformed tree answers 0 rather than looping or panicking).
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut node = 0usize;
        for _ in 0..self.feature.len() {
            let Some(&f) = self.feature.get(node) else { return 0.0 };
            if f < 0 {
                return self.value.get(node).copied().unwrap_or(0.0);
            }
            let v = x.get(f as usize).copied().unwrap_or(0.0);
            let t = self.threshold.get(node).copied().unwrap_or(0.0);
            let next = if v <= t { self.left.get(node) } else { self.right.get(node) };
            node = next.map_or(usize::MAX, |&c| c as usize);
        }
        0.0
    }
}

/// Trains a forest on `rows` (scaled features) and `labels` (0 or 1); the
/// same `seed` gives the same trees.
pub fn train_forest(rows: &[[f64; FEATURE_COUNT]], labels: &[u8], p: &ForestParams, seed: u64) -> Vec<Tree> {
    let n = rows.len().min(labels.len());
    if n == 0 {
        return Vec::new();
    }
    (0..p.trees)
        .into_par_iter()
        .map(|t| {
            let mut rng = SplitMix64::new(seed ^ (t as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let mut sample: Vec<u32> = (0..n).map(|_| rng.below(n) as u32).collect();
            build_tree(rows, labels, &mut sample, p, &mut rng)
        })
        .collect()
}

/// The mean leaf value over trees: the forest's probability of class 1.
pub fn predict_forest(trees: &[Tree], x: &[f64]) -> f64 {
    if trees.is_empty() {
        return 0.0;
    }
    trees.iter().map(|t| t.predict(x)).sum::<f64>() / trees.len() as f64
}

fn build_tree(
    rows: &[[f64; FEATURE_COUNT]],
    labels: &[u8],
    sample: &mut [u32],
    p: &ForestParams,
    rng: &mut SplitMix64,
) -> Tree {
    let mut tree = Tree::default();
    let push_node = |tree: &mut Tree| {
        tree.feature.push(-1);
        tree.threshold.push(0.0);
        tree.left.push(0);
        tree.right.push(0);
        tree.value.push(0.0);
        (tree.feature.len() - 1) as u32
    };
    push_node(&mut tree);
    // (node, start, end, depth) of nodes still to build.
    let mut stack = vec![(0u32, 0usize, sample.len(), 0usize)];
    let mut order: Vec<usize> = (0..FEATURE_COUNT).collect();
    let mut sorted: Vec<(f64, u8)> = Vec::with_capacity(sample.len());
    let max_features = p.max_features.clamp(1, FEATURE_COUNT);
    let min_leaf = p.min_samples_leaf.max(1);
    while let Some((node, start, end, depth)) = stack.pop() {
        let part = &mut sample[start..end];
        let count = part.len();
        let positives = part.iter().filter(|&&i| labels[i as usize] == 1).count();
        let node_i = node as usize;
        tree.value[node_i] = if count == 0 { 0.0 } else { positives as f64 / count as f64 };
        if positives == 0 || positives == count || depth >= p.max_depth || count < 2 * min_leaf {
            continue;
        }
        rng.shuffle(&mut order);
        // Best split: least weighted Gini impurity (in units of 2/n).
        let mut best: Option<(f64, usize, f64)> = None;
        for &f in order.iter().take(max_features) {
            sorted.clear();
            sorted.extend(part.iter().map(|&i| (rows[i as usize][f], labels[i as usize])));
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (mut left_n, mut left_pos) = (0usize, 0usize);
            for k in 0..count - 1 {
                left_n += 1;
                left_pos += usize::from(sorted[k].1);
                let (a, b) = (sorted[k].0, sorted[k + 1].0);
                if a >= b || left_n < min_leaf || count - left_n < min_leaf {
                    continue;
                }
                let (right_n, right_pos) = (count - left_n, positives - left_pos);
                let impurity = (left_pos * (left_n - left_pos)) as f64 / left_n as f64
                    + (right_pos * (right_n - right_pos)) as f64 / right_n as f64;
                if best.is_none_or(|(b_imp, _, _)| impurity < b_imp) {
                    let mut threshold = a / 2.0 + b / 2.0;
                    if threshold >= b || !threshold.is_finite() {
                        threshold = a;
                    }
                    best = Some((impurity, f, threshold));
                }
            }
        }
        let Some((_, f, threshold)) = best else { continue };
        // Partition: left part first.
        let mut split = 0;
        for k in 0..count {
            if rows[part[k] as usize][f] <= threshold {
                part.swap(k, split);
                split += 1;
            }
        }
        let left = push_node(&mut tree);
        let right = push_node(&mut tree);
        tree.feature[node_i] = f as i32;
        tree.threshold[node_i] = threshold;
        tree.left[node_i] = left;
        tree.right[node_i] = right;
        stack.push((right, start + split, end, depth + 1));
        stack.push((left, start, start + split, depth + 1));
    }
    tree
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(a: f64, b: f64) -> [f64; FEATURE_COUNT] {
        let mut r = [0.0; FEATURE_COUNT];
        r[0] = a;
        r[5] = b;
        r
    }

    #[test]
    fn learns_a_threshold_and_is_deterministic() {
        let mut rows = Vec::new();
        let mut labels = Vec::new();
        for i in 0..200 {
            let a = f64::from(i) / 200.0;
            rows.push(row(a, f64::from(i % 7)));
            labels.push(u8::from(a > 0.6));
        }
        let p = ForestParams { trees: 20, max_features: 36, ..ForestParams::default() };
        let forest = train_forest(&rows, &labels, &p, 1);
        assert_eq!(forest.len(), 20);
        for t in &forest {
            t.validate(FEATURE_COUNT).unwrap();
        }
        assert!(predict_forest(&forest, &row(0.9, 0.0)) > 0.9);
        assert!(predict_forest(&forest, &row(0.1, 0.0)) < 0.1);
        assert_eq!(forest, train_forest(&rows, &labels, &p, 1));
        let other = train_forest(&rows, &labels, &p, 2);
        assert_ne!(forest, other);
    }

    #[test]
    fn a_pure_sample_is_one_leaf() {
        let rows = vec![row(1.0, 2.0); 10];
        let forest = train_forest(&rows, &[0; 10], &ForestParams { trees: 3, ..ForestParams::default() }, 1);
        assert!(forest.iter().all(|t| t.len() == 1 && t.value[0] == 0.0));
        assert!(train_forest(&[], &[], &ForestParams::default(), 1).is_empty());
    }

    #[test]
    fn validate_refuses_malformed_trees() {
        let good = Tree {
            feature: vec![0, -1, -1],
            threshold: vec![0.5, 0.0, 0.0],
            left: vec![1, 0, 0],
            right: vec![2, 0, 0],
            value: vec![0.0, 0.0, 1.0],
        };
        good.validate(36).unwrap();
        assert_eq!(good.predict(&row(0.7, 0.0)), 1.0);
        let mut cycle = good.clone();
        cycle.left[0] = 0;
        assert!(cycle.validate(36).is_err());
        assert_eq!(cycle.predict(&row(0.1, 0.0)), 0.0);
        let mut far = good.clone();
        far.right[0] = 9;
        assert!(far.validate(36).is_err());
        let mut feature = good.clone();
        feature.feature[0] = 36;
        assert!(feature.validate(36).is_err());
        let mut value = good.clone();
        value.value[2] = 1.5;
        assert!(value.validate(36).is_err());
        let mut short = good;
        short.value.pop();
        assert!(short.validate(36).is_err());
        assert!(Tree::default().validate(36).is_err());
    }
}
