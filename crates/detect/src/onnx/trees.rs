//! ONNX tree ensembles scored by netcap's own tree walk.
//!
//! Why: tract runs `TreeEnsembleClassifier` about 50 times slower than
//! netcap's forests (it builds an error value at every leaf it reaches),
//! which made an ONNX forest cost 20-60 % of a capture. Tree ensembles are
//! also the models flow detection uses most. So when a graph is only a tree
//! ensemble, with the element-wise preprocessing scikit-learn pipelines put
//! in front of it, netcap reads the trees from the graph and walks them
//! itself; every other graph runs in tract.
//!
//! What is recognised, walking back from the chosen output:
//!
//! - after the ensemble: `Identity` and `Cast` to float;
//! - the ensemble: one `TreeEnsembleClassifier` (ai.onnx.ml), its
//!   `probabilities` output (the second);
//! - before it, back to the graph's input: `Identity`, `Cast` to float,
//!   `Mul`, `Add`, `Sub`, `Div` with a float initializer of one value or
//!   one per feature (skl2onnx writes a `MinMaxScaler` as `Mul` then
//!   `Add`), and `Scaler` (ai.onnx.ml).
//!
//! Arithmetic follows onnxruntime, the reference the parity test checks:
//! features are float32, the preprocessing is float32, each tree adds its
//! leaf's class weights to float32 class scores in tree order, then the
//! base values and the post transform (NONE, LOGISTIC, SOFTMAX,
//! SOFTMAX_ZERO) as onnxruntime's `TreeAggregatorClassifier` applies them,
//! including its binary case (weights for one class only: scikit-learn's
//! gradient boosting). What onnxruntime leaves vague (two classes with two
//! base values, PROBIT, the `*_as_tensor` attributes) is left to tract.
//!
//! A tree ensemble that is recognised but malformed (a child or a class
//! weight pointing at no node, a cycle, a feature beyond the 36, a tree
//! split over two runs of the node list) is refused with the reason, before
//! any packet is read: tract would loop or fail on it too.

use crate::features::FEATURE_COUNT;
use std::collections::HashMap;
use tract_onnx::pb;

/// Why a graph is not scored natively: `Unsupported` sends it to tract,
/// `Invalid` refuses the model.
#[derive(Debug, PartialEq)]
pub(crate) enum NotNative {
    Unsupported(String),
    Invalid(String),
}

fn unsupported<T>(why: impl Into<String>) -> Result<T, NotNative> {
    Err(NotNative::Unsupported(why.into()))
}

fn invalid<T>(why: impl Into<String>) -> Result<T, NotNative> {
    Err(NotNative::Invalid(why.into()))
}

/// An element-wise step before the trees (float32, as onnxruntime).
#[derive(Debug, Clone)]
enum Step {
    Mul(Box<[f32; FEATURE_COUNT]>),
    Add(Box<[f32; FEATURE_COUNT]>),
    /// `x - c`, or `c - x` when `reversed`.
    Sub(Box<[f32; FEATURE_COUNT]>, bool),
    /// `x / c`, or `c / x` when `reversed`.
    Div(Box<[f32; FEATURE_COUNT]>, bool),
    /// ai.onnx.ml Scaler: `(x - offset) * scale`.
    Scaler(Box<[f32; FEATURE_COUNT]>, Box<[f32; FEATURE_COUNT]>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Leq,
    Lt,
    Gte,
    Gt,
    Eq,
    Neq,
    Leaf,
}

#[derive(Debug, Clone, Copy)]
struct Node {
    mode: Mode,
    missing_tracks_true: bool,
    feature: u16,
    threshold: f32,
    /// Indices into `TreeEnsemble::nodes` (branches).
    if_true: u32,
    if_false: u32,
    /// Range of `TreeEnsemble::weights` (leaves).
    weights_start: u32,
    weights_end: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum PostTransform {
    None,
    Logistic,
    Softmax,
    SoftmaxZero,
}

/// A `TreeEnsembleClassifier` graph, ready to score rows.
#[derive(Debug, Clone)]
pub(crate) struct TreeEnsemble {
    steps: Vec<Step>,
    nodes: Vec<Node>,
    roots: Vec<u32>,
    /// (class index, weight) of the leaves, grouped by leaf.
    weights: Vec<(u32, f32)>,
    classes: usize,
    base_values: Vec<f32>,
    post: PostTransform,
    /// onnxruntime's binary case: two classes, weights for one of them.
    binary_case: bool,
    weights_all_positive: bool,
    /// The column of the probabilities that is the score.
    column: usize,
}

fn attribute<'a>(node: &'a pb::NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn ints<'a>(node: &'a pb::NodeProto, name: &str) -> &'a [i64] {
    attribute(node, name).map_or(&[], |a| a.ints.as_slice())
}

fn floats<'a>(node: &'a pb::NodeProto, name: &str) -> &'a [f32] {
    attribute(node, name).map_or(&[], |a| a.floats.as_slice())
}

const ONNX_FLOAT: i64 = 1;
const ML_DOMAIN: &str = "ai.onnx.ml";

/// A float initializer of one value or one per feature, as 36 values.
fn constant_row(graph: &pb::GraphProto, name: &str) -> Result<Box<[f32; FEATURE_COUNT]>, NotNative> {
    let Some(t) = graph.initializer.iter().find(|t| t.name == name) else {
        return unsupported(format!("{name:?} is not an initializer"));
    };
    if i64::from(t.data_type) != ONNX_FLOAT {
        return unsupported(format!("initializer {name:?} is not float"));
    }
    let values: Vec<f32> = if !t.float_data.is_empty() {
        t.float_data.clone()
    } else {
        t.raw_data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
    };
    // [36], [1, 36], [], [1], [1, 1]: one row; anything else broadcasts
    // differently than element-wise over the features.
    let shape_ok = t.dims.iter().rev().skip(1).all(|&d| d == 1)
        && t.dims.last().is_none_or(|&d| d == 1 || d == FEATURE_COUNT as i64);
    let mut row = Box::new([0.0f32; FEATURE_COUNT]);
    match values.len() {
        1 if shape_ok => row.fill(values[0]),
        FEATURE_COUNT if shape_ok => row.copy_from_slice(&values),
        n => return unsupported(format!("initializer {name:?} has {n} values, shape {:?}", t.dims)),
    }
    Ok(row)
}

/// Scaler's `offset` or `scale`: one value or one per feature.
fn scaler_row(node: &pb::NodeProto, name: &str) -> Result<Box<[f32; FEATURE_COUNT]>, NotNative> {
    let values = floats(node, name);
    let mut row = Box::new([0.0f32; FEATURE_COUNT]);
    match values.len() {
        1 => row.fill(values[0]),
        FEATURE_COUNT => row.copy_from_slice(values),
        n => return unsupported(format!("Scaler {name} has {n} values")),
    }
    Ok(row)
}

fn is_float_cast(node: &pb::NodeProto) -> bool {
    node.op_type == "Cast" && attribute(node, "to").is_some_and(|a| a.i == ONNX_FLOAT)
}

impl TreeEnsemble {
    /// Recognises a graph that is a tree ensemble from `input` to
    /// `output`, whose score is column `column` of that output.
    pub(crate) fn from_graph(
        graph: &pb::GraphProto,
        input: &str,
        output: &str,
        column: usize,
    ) -> Result<TreeEnsemble, NotNative> {
        let mut producer: HashMap<&str, &pb::NodeProto> = HashMap::new();
        for node in &graph.node {
            for out in &node.output {
                producer.insert(out.as_str(), node);
            }
        }
        // Back from the output to the ensemble.
        let mut value = output;
        let ensemble = loop {
            let Some(node) = producer.get(value) else {
                return unsupported(format!("{value:?} comes from no node"));
            };
            match node.op_type.as_str() {
                "Identity" => {}
                "Cast" if is_float_cast(node) => {}
                "TreeEnsembleClassifier" if node.domain == ML_DOMAIN => {
                    if node.output.get(1).map(String::as_str) != Some(value) {
                        return unsupported("the score is not the ensemble's probabilities");
                    }
                    break *node;
                }
                other => return unsupported(format!("{other} after the trees")),
            }
            value = node.input.first().map_or("", String::as_str);
        };
        // Back from the ensemble to the graph's input.
        let mut steps = Vec::new();
        let mut value = ensemble.input.first().map_or("", String::as_str);
        while value != input {
            let Some(node) = producer.get(value) else {
                return unsupported(format!("{value:?} comes from no node"));
            };
            let op = node.op_type.as_str();
            match (op, node.input.as_slice()) {
                ("Identity", [from]) => value = from,
                ("Cast", [from]) if is_float_cast(node) => value = from,
                ("Scaler", [from]) if node.domain == ML_DOMAIN => {
                    steps.push(Step::Scaler(scaler_row(node, "offset")?, scaler_row(node, "scale")?));
                    value = from;
                }
                ("Mul" | "Add" | "Sub" | "Div", [a, b]) => {
                    // One side comes from the input, the other is a constant.
                    let (from, constant, reversed) = match constant_row(graph, b) {
                        Ok(c) => (a, c, false),
                        Err(_) => (b, constant_row(graph, a)?, true),
                    };
                    steps.push(match op {
                        "Mul" => Step::Mul(constant),
                        "Add" => Step::Add(constant),
                        "Sub" => Step::Sub(constant, reversed),
                        _ => Step::Div(constant, reversed),
                    });
                    value = from;
                }
                _ => return unsupported(format!("{op} before the trees")),
            }
        }
        steps.reverse();
        let mut trees = TreeEnsemble::from_node(ensemble, column)?;
        trees.steps = steps;
        Ok(trees)
    }

    fn from_node(node: &pb::NodeProto, column: usize) -> Result<TreeEnsemble, NotNative> {
        for tensor_form in ["nodes_values_as_tensor", "class_weights_as_tensor", "base_values_as_tensor"] {
            if attribute(node, tensor_form).is_some() {
                return unsupported(format!("{tensor_form} is not read natively"));
            }
        }
        let post = match attribute(node, "post_transform").map_or(&b"NONE"[..], |a| a.s.as_slice()) {
            b"NONE" => PostTransform::None,
            b"LOGISTIC" => PostTransform::Logistic,
            b"SOFTMAX" => PostTransform::Softmax,
            b"SOFTMAX_ZERO" => PostTransform::SoftmaxZero,
            other => return unsupported(format!("post_transform {}", String::from_utf8_lossy(other))),
        };
        let classes = match (ints(node, "classlabels_int64s").len(), attribute(node, "classlabels_strings")) {
            (0, Some(a)) => a.strings.len(),
            (n, _) => n,
        };
        if classes < 2 || column >= classes {
            return invalid(format!("{classes} class labels; the score is column {column}"));
        }
        let base_values = floats(node, "base_values").to_vec();
        if !base_values.is_empty() && base_values.len() != classes && !(classes == 2 && base_values.len() == 1) {
            return invalid(format!("{} base values for {classes} classes", base_values.len()));
        }
        if classes == 2 && base_values.len() == 2 {
            return unsupported("two classes with two base values");
        }

        let tree_ids = ints(node, "nodes_treeids");
        let node_ids = ints(node, "nodes_nodeids");
        let features = ints(node, "nodes_featureids");
        let values = floats(node, "nodes_values");
        let modes = attribute(node, "nodes_modes").map_or(&[][..], |a| a.strings.as_slice());
        let true_ids = ints(node, "nodes_truenodeids");
        let false_ids = ints(node, "nodes_falsenodeids");
        let missing = ints(node, "nodes_missing_value_tracks_true");
        let n = tree_ids.len();
        if n == 0 {
            return invalid("no tree nodes");
        }
        for (name, len) in [
            ("nodes_nodeids", node_ids.len()),
            ("nodes_featureids", features.len()),
            ("nodes_values", values.len()),
            ("nodes_modes", modes.len()),
            ("nodes_truenodeids", true_ids.len()),
            ("nodes_falsenodeids", false_ids.len()),
        ] {
            if len != n {
                return invalid(format!("{name} has {len} values for {n} nodes"));
            }
        }
        if !missing.is_empty() && missing.len() != n {
            return invalid(format!("nodes_missing_value_tracks_true has {} values for {n} nodes", missing.len()));
        }
        if n > u32::MAX as usize / 2 {
            return invalid("too many nodes");
        }
        let mut index: HashMap<(i64, i64), u32> = HashMap::with_capacity(n);
        for (i, key) in tree_ids.iter().zip(node_ids).enumerate() {
            if index.insert((*key.0, *key.1), i as u32).is_some() {
                return invalid(format!("tree {} has node {} twice", key.0, key.1));
            }
        }
        // Trees start where the tree id changes (as onnxruntime reads them).
        let mut roots = Vec::new();
        let mut seen_trees = std::collections::HashSet::new();
        for i in 0..n {
            if i == 0 || tree_ids[i] != tree_ids[i - 1] {
                if !seen_trees.insert(tree_ids[i]) {
                    return invalid(format!("the nodes of tree {} are not together", tree_ids[i]));
                }
                roots.push(i as u32);
            }
        }
        let child = |i: usize, id: i64| {
            index.get(&(tree_ids[i], id)).copied().ok_or_else(|| {
                NotNative::Invalid(format!("node {} of tree {} points at no node {id}", node_ids[i], tree_ids[i]))
            })
        };
        let mut nodes = Vec::with_capacity(n);
        for i in 0..n {
            let mode = match modes[i].as_slice() {
                b"BRANCH_LEQ" => Mode::Leq,
                b"BRANCH_LT" => Mode::Lt,
                b"BRANCH_GTE" => Mode::Gte,
                b"BRANCH_GT" => Mode::Gt,
                b"BRANCH_EQ" => Mode::Eq,
                b"BRANCH_NEQ" => Mode::Neq,
                b"LEAF" => Mode::Leaf,
                other => return invalid(format!("node mode {}", String::from_utf8_lossy(other))),
            };
            let (feature, if_true, if_false) = if mode == Mode::Leaf {
                (0, 0, 0)
            } else {
                let feature = usize::try_from(features[i]).ok().filter(|&f| f < FEATURE_COUNT).ok_or_else(|| {
                    NotNative::Invalid(format!(
                        "node {} of tree {} splits on feature {}",
                        node_ids[i], tree_ids[i], features[i]
                    ))
                })?;
                (feature as u16, child(i, true_ids[i])?, child(i, false_ids[i])?)
            };
            nodes.push(Node {
                mode,
                missing_tracks_true: missing.get(i).is_some_and(|&m| m != 0),
                feature,
                threshold: values[i],
                if_true,
                if_false,
                weights_start: 0,
                weights_end: 0,
            });
        }

        // Class weights, grouped by leaf.
        let w_trees = ints(node, "class_treeids");
        let w_nodes = ints(node, "class_nodeids");
        let w_classes = ints(node, "class_ids");
        let w_values = floats(node, "class_weights");
        let m = w_trees.len();
        if w_nodes.len() != m || w_classes.len() != m || w_values.len() != m {
            return invalid("class_treeids, class_nodeids, class_ids and class_weights differ in length");
        }
        let mut per_leaf: Vec<(u32, u32, f32)> = Vec::with_capacity(m);
        for k in 0..m {
            let Some(&leaf) = index.get(&(w_trees[k], w_nodes[k])) else {
                return invalid(format!("a class weight points at no node {} in tree {}", w_nodes[k], w_trees[k]));
            };
            if nodes[leaf as usize].mode != Mode::Leaf {
                return invalid(format!("a class weight is on node {} of tree {}, not a leaf", w_nodes[k], w_trees[k]));
            }
            let class = usize::try_from(w_classes[k])
                .ok()
                .filter(|&c| c < classes)
                .ok_or_else(|| NotNative::Invalid(format!("class id {} of {classes} classes", w_classes[k])))?;
            per_leaf.push((leaf, class as u32, w_values[k]));
        }
        // Stable: a leaf's weights keep their order in the file.
        per_leaf.sort_by_key(|&(leaf, _, _)| leaf);
        let mut weights = Vec::with_capacity(m);
        for (leaf, class, w) in per_leaf {
            let node = &mut nodes[leaf as usize];
            if node.weights_end == 0 {
                node.weights_start = weights.len() as u32;
            }
            weights.push((class, w));
            node.weights_end = weights.len() as u32;
        }
        let mut weighted_classes: Vec<u32> = weights.iter().map(|w| w.0).collect();
        weighted_classes.sort_unstable();
        weighted_classes.dedup();
        let binary_case = classes == 2 && weighted_classes.len() == 1;
        let weights_all_positive = weights.iter().all(|w| w.1 >= 0.0);

        let ensemble = TreeEnsemble {
            steps: Vec::new(),
            nodes,
            roots,
            weights,
            classes,
            base_values,
            post,
            binary_case,
            weights_all_positive,
            column,
        };
        ensemble.check_acyclic()?;
        // Two classes outside the binary case: onnxruntime writes one
        // column when class 1 got no weight; netcap wants both. Every leaf
        // must then weigh class 1.
        if classes == 2 && !binary_case {
            let leaves_without =
                ensemble.nodes.iter().filter(|n| n.mode == Mode::Leaf).any(|n| {
                    !ensemble.weights[n.weights_start as usize..n.weights_end as usize].iter().any(|w| w.0 == 1)
                });
            if leaves_without {
                return unsupported("a leaf without a weight for class 1");
            }
        }
        Ok(ensemble)
    }

    /// Every tree is a tree: walking from its root never meets a node twice
    /// (so a walk ends within the number of nodes).
    fn check_acyclic(&self) -> Result<(), NotNative> {
        let mut seen = vec![false; self.nodes.len()];
        let mut stack = Vec::new();
        for &root in &self.roots {
            stack.push(root);
            while let Some(i) = stack.pop() {
                let i = i as usize;
                if std::mem::replace(&mut seen[i], true) {
                    return invalid("a tree reaches one of its nodes twice (a cycle or a shared node)");
                }
                let node = &self.nodes[i];
                if node.mode != Mode::Leaf {
                    stack.push(node.if_true);
                    stack.push(node.if_false);
                }
            }
        }
        Ok(())
    }

    /// The row after the graph's element-wise steps, in float32.
    fn prepare(&self, row: &[f64; FEATURE_COUNT]) -> [f32; FEATURE_COUNT] {
        let mut x = row.map(|v| v as f32);
        for step in &self.steps {
            for (j, v) in x.iter_mut().enumerate() {
                *v = match step {
                    Step::Mul(c) => *v * c[j],
                    Step::Add(c) => *v + c[j],
                    Step::Sub(c, false) => *v - c[j],
                    Step::Sub(c, true) => c[j] - *v,
                    Step::Div(c, false) => *v / c[j],
                    Step::Div(c, true) => c[j] / *v,
                    Step::Scaler(offset, scale) => (*v - offset[j]) * scale[j],
                };
            }
        }
        x
    }

    /// The leaf the tree at `root` reaches for `x`.
    fn leaf(&self, root: u32, x: &[f32; FEATURE_COUNT]) -> &Node {
        let mut node = &self.nodes[root as usize];
        loop {
            let v = x[usize::from(node.feature)];
            let t = node.threshold;
            let go_true = match node.mode {
                Mode::Leaf => return node,
                Mode::Leq => v <= t,
                Mode::Lt => v < t,
                Mode::Gte => v >= t,
                Mode::Gt => v > t,
                Mode::Eq => v == t,
                Mode::Neq => v != t,
            } || (node.missing_tracks_true && v.is_nan());
            node = &self.nodes[if go_true { node.if_true } else { node.if_false } as usize];
        }
    }

    /// The score of one (unscaled by netcap; the graph's own steps are
    /// applied) row: column `column` of the class probabilities.
    pub(crate) fn score(&self, row: &[f64; FEATURE_COUNT]) -> f64 {
        let x = self.prepare(row);
        // Class scores and whether any leaf weighed each (onnxruntime's
        // `has_score`); two classes fit on the stack, more are rare.
        let mut scores = vec![0.0f32; self.classes];
        let mut has = vec![false; self.classes];
        for &root in &self.roots {
            let leaf = self.leaf(root, &x);
            for &(class, w) in &self.weights[leaf.weights_start as usize..leaf.weights_end as usize] {
                scores[class as usize] += w;
                has[class as usize] = true;
            }
        }
        f64::from(self.finish(scores, &has))
    }

    /// onnxruntime's `TreeAggregatorClassifier::FinalizeScores` and
    /// `write_scores`, for the cases [`TreeEnsemble::from_node`] admits.
    fn finish(&self, mut scores: Vec<f32>, has: &[bool]) -> f32 {
        if self.classes > 2 {
            for (s, b) in scores.iter_mut().zip(&self.base_values) {
                *s += b;
            }
            self.transform(&mut scores);
            return scores[self.column];
        }
        if let [base] = self.base_values.as_slice() {
            scores[0] += base;
        }
        if has[1] {
            self.transform(&mut scores);
            return scores[self.column];
        }
        // One score (class 0's); the other column is derived from it.
        let s = scores[0];
        let (first, second) = if !self.binary_case {
            // Not reached: from_node requires a weight for class 1 in every
            // leaf outside the binary case.
            (s, 0.0)
        } else if self.weights_all_positive {
            (1.0 - s, s)
        } else if self.post == PostTransform::Logistic {
            (logistic(-s), logistic(s))
        } else {
            (-s, s)
        };
        if self.column == 0 { first } else { second }
    }

    fn transform(&self, scores: &mut [f32]) {
        match self.post {
            PostTransform::None => {}
            PostTransform::Logistic => scores.iter_mut().for_each(|s| *s = logistic(*s)),
            PostTransform::Softmax => softmax(scores, false),
            PostTransform::SoftmaxZero => softmax(scores, true),
        }
    }
}

/// onnxruntime's `ComputeLogistic` (float32, symmetric in the sign).
fn logistic(v: f32) -> f32 {
    let p = 1.0 / (1.0 + (-v.abs()).exp());
    if v < 0.0 { 1.0 - p } else { p }
}

/// onnxruntime's `ComputeSoftmax` and `ComputeSoftmaxZero` (which leaves
/// scores of about zero out of the exponentials).
fn softmax(values: &mut [f32], skip_zero: bool) {
    let max = values.iter().copied().fold(-f32::MAX, f32::max);
    let exp_neg_max = (-max).exp();
    let mut sum = 0.0f32;
    for v in values.iter_mut() {
        if skip_zero && (-0.000_000_1..=0.000_000_1).contains(v) {
            *v *= exp_neg_max;
        } else {
            *v = (*v - max).exp();
            sum += *v;
        }
    }
    for v in values.iter_mut() {
        *v /= sum;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr_ints(name: &str, v: &[i64]) -> pb::AttributeProto {
        pb::AttributeProto { name: name.into(), ints: v.to_vec(), ..Default::default() }
    }
    fn attr_floats(name: &str, v: &[f32]) -> pb::AttributeProto {
        pb::AttributeProto { name: name.into(), floats: v.to_vec(), ..Default::default() }
    }
    fn attr_strings(name: &str, v: &[&str]) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.into(),
            strings: v.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..Default::default()
        }
    }

    /// One stump on feature 2 at 0.5 (LEQ): left leaf weighs class 1 with
    /// 0.25, right 0.75 (and class 0 the rest), a second stump on
    /// feature 0 at 10.
    fn forest_node(true_ids: &[i64]) -> pb::NodeProto {
        pb::NodeProto {
            op_type: "TreeEnsembleClassifier".into(),
            domain: ML_DOMAIN.into(),
            input: vec!["x".into()],
            output: vec!["label".into(), "probabilities".into()],
            attribute: vec![
                attr_ints("nodes_treeids", &[0, 0, 0, 1, 1, 1]),
                attr_ints("nodes_nodeids", &[0, 1, 2, 0, 1, 2]),
                attr_ints("nodes_featureids", &[2, 0, 0, 0, 0, 0]),
                attr_floats("nodes_values", &[0.5, 0.0, 0.0, 10.0, 0.0, 0.0]),
                attr_strings("nodes_modes", &["BRANCH_LEQ", "LEAF", "LEAF", "BRANCH_LT", "LEAF", "LEAF"]),
                attr_ints("nodes_truenodeids", true_ids),
                attr_ints("nodes_falsenodeids", &[2, 0, 0, 2, 0, 0]),
                attr_ints("nodes_missing_value_tracks_true", &[1, 0, 0, 0, 0, 0]),
                attr_ints("class_treeids", &[0, 0, 0, 0, 1, 1, 1, 1]),
                attr_ints("class_nodeids", &[1, 1, 2, 2, 1, 1, 2, 2]),
                attr_ints("class_ids", &[0, 1, 0, 1, 0, 1, 0, 1]),
                attr_floats("class_weights", &[0.375, 0.125, 0.125, 0.375, 0.5, 0.0, 0.25, 0.25]),
                attr_ints("classlabels_int64s", &[0, 1]),
                pb::AttributeProto { name: "post_transform".into(), s: b"NONE".to_vec(), ..Default::default() },
            ],
            ..Default::default()
        }
    }

    fn graph(nodes: Vec<pb::NodeProto>) -> pb::GraphProto {
        pb::GraphProto { node: nodes, ..Default::default() }
    }

    #[test]
    fn a_small_forest_scores_as_its_trees_say() {
        let g = graph(vec![forest_node(&[1, 0, 0, 1, 0, 0])]);
        let t = TreeEnsemble::from_graph(&g, "x", "probabilities", 1).unwrap();
        assert_eq!(t.roots.len(), 2);
        let mut row = [0.0; FEATURE_COUNT];
        // feature 2 = 0 (left: 0.125), feature 0 = 0 < 10 (left: 0.0).
        assert_eq!(t.score(&row), 0.125);
        row[2] = 0.75;
        row[0] = 10.0;
        assert_eq!(t.score(&row), 0.375 + 0.25);
        // NaN follows the true branch where the node says so.
        row[2] = f64::NAN;
        assert_eq!(t.score(&row), 0.125 + 0.25);
    }

    #[test]
    fn preprocessing_steps_before_the_trees_are_applied() {
        let init = |name: &str, v: f32| pb::TensorProto {
            name: name.into(),
            data_type: 1,
            dims: vec![1, 36],
            float_data: vec![v; 36],
            ..Default::default()
        };
        let op = |op: &str, a: &str, b: &str, out: &str| pb::NodeProto {
            op_type: op.into(),
            input: vec![a.into(), b.into()],
            output: vec![out.into()],
            ..Default::default()
        };
        let mut trees = forest_node(&[1, 0, 0, 1, 0, 0]);
        trees.input = vec!["scaled".into()];
        let mut g = graph(vec![op("Mul", "input", "half", "m"), op("Add", "m", "one", "scaled"), trees]);
        g.initializer = vec![init("half", 0.5), init("one", 1.0)];
        let t = TreeEnsemble::from_graph(&g, "input", "probabilities", 1).unwrap();
        let mut row = [0.0; FEATURE_COUNT];
        row[2] = -1.5; // -1.5 * 0.5 + 1 = 0.25 <= 0.5: left
        row[0] = 19.0; // 19 * 0.5 + 1 = 10.5, not < 10: right
        assert_eq!(t.score(&row), 0.125 + 0.25);
        // An operation tract must run instead.
        let mut g2 = g.clone();
        g2.node[0].op_type = "Relu".into();
        assert!(matches!(TreeEnsemble::from_graph(&g2, "input", "probabilities", 1), Err(NotNative::Unsupported(_))));
    }

    #[test]
    fn malformed_trees_are_refused() {
        // Node 1 of tree 0 points back at the root: a cycle.
        let mut cyclic = forest_node(&[1, 0, 0, 1, 0, 0]);
        cyclic.attribute[4] =
            attr_strings("nodes_modes", &["BRANCH_LEQ", "BRANCH_LEQ", "LEAF", "BRANCH_LT", "LEAF", "LEAF"]);
        cyclic.attribute[6] = attr_ints("nodes_falsenodeids", &[2, 0, 0, 2, 0, 0]);
        // (its class weights then sit on a branch: refused as well)
        let e = TreeEnsemble::from_graph(&graph(vec![cyclic]), "x", "probabilities", 1).unwrap_err();
        assert!(matches!(e, NotNative::Invalid(_)), "{e:?}");
        // A child that does not exist.
        let e = TreeEnsemble::from_graph(&graph(vec![forest_node(&[7, 0, 0, 1, 0, 0])]), "x", "probabilities", 1)
            .unwrap_err();
        assert_eq!(e, NotNative::Invalid("node 0 of tree 0 points at no node 7".into()));
        // A feature beyond the 36.
        let mut wide = forest_node(&[1, 0, 0, 1, 0, 0]);
        wide.attribute[2] = attr_ints("nodes_featureids", &[36, 0, 0, 0, 0, 0]);
        let e = TreeEnsemble::from_graph(&graph(vec![wide]), "x", "probabilities", 1).unwrap_err();
        assert!(matches!(e, NotNative::Invalid(ref m) if m.contains("feature 36")), "{e:?}");
    }

    #[test]
    fn a_pure_cycle_is_found_before_any_walk() {
        // Two branch nodes pointing at each other, no leaf reachable.
        let node = pb::NodeProto {
            op_type: "TreeEnsembleClassifier".into(),
            domain: ML_DOMAIN.into(),
            input: vec!["x".into()],
            output: vec!["label".into(), "probabilities".into()],
            attribute: vec![
                attr_ints("nodes_treeids", &[0, 0]),
                attr_ints("nodes_nodeids", &[0, 1]),
                attr_ints("nodes_featureids", &[0, 0]),
                attr_floats("nodes_values", &[0.0, 0.0]),
                attr_strings("nodes_modes", &["BRANCH_LEQ", "BRANCH_LEQ"]),
                attr_ints("nodes_truenodeids", &[1, 0]),
                attr_ints("nodes_falsenodeids", &[1, 0]),
                attr_ints("classlabels_int64s", &[0, 1]),
            ],
            ..Default::default()
        };
        let e = TreeEnsemble::from_graph(&graph(vec![node]), "x", "probabilities", 1).unwrap_err();
        assert!(matches!(e, NotNative::Invalid(ref m) if m.contains("twice")), "{e:?}");
    }

    #[test]
    fn logistic_and_softmax_match_onnxruntime_formulas() {
        assert_eq!(logistic(0.0), 0.5);
        assert!((logistic(2.0) - 0.880_797).abs() < 1e-6);
        assert!((logistic(-2.0) - 0.119_203).abs() < 1e-6);
        let mut v = [1.0f32, 2.0, 3.0];
        softmax(&mut v, false);
        assert!((v[2] - 0.665_240_9).abs() < 1e-6);
        let mut z = [0.0f32, 1.0];
        softmax(&mut z, true);
        // The zero stays out of the sum: 0 * e^-1 / e^0.
        assert_eq!(z, [0.0, 1.0]);
    }
}
