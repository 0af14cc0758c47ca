//! ONNX flow models run with tract (pure Rust; no downloaded runtime):
//! scikit-learn models exported with skl2onnx (zipmap off, so that the
//! class probabilities are a float tensor named `probabilities`), Keras
//! models exported with tf2onnx (one float output, the sigmoid of class 1).
//!
//! The graph's first input takes the 36 features as float32 `[N, 36]`
//! (NetWatcher casts its feature vectors to float32 too). The score is
//! column 1 of a `[N, 2]` output or column 0 of a `[N, 1]` one. The shape
//! is checked when the model loads, and the model is run once on a row of
//! zeros, so a wrong model is refused before any packet is read.
//!
//! Tree ensembles (scikit-learn forests and gradient boosting through
//! skl2onnx) are scored by netcap's own tree walk instead ([`trees`]):
//! tract evaluates them tens of times slower.
//!
//! Batches: tract's cost is mostly per run (a run walks the whole graph
//! and allocates its state), so rows are scored many per run
//! ([`OnnxModel::score_rows`]). When the graph's batch dimension is
//! symbolic (skl2onnx and tf2onnx export `[None, 36]`), the plan is built
//! for a symbolic `N` and takes up to [`MAX_BATCH_ROWS`] rows a run. A model
//! exported with a fixed batch dimension, or whose graph tract cannot
//! optimise for a symbolic one, is run one row at a time.

mod trees;

use crate::features::{FEATURE_COUNT, Features};
use prost::Message;
use std::sync::Arc;
use tract_onnx::pb;
use tract_onnx::prelude::*;
use trees::{NotNative, TreeEnsemble};

/// Rows scored in one run at most: bounds the memory of the graph's
/// intermediate tensors (an MLP's hidden layers are `[rows, width]`).
pub const MAX_BATCH_ROWS: usize = 1024;

/// A loaded ONNX model ready to score rows.
#[derive(Clone)]
pub struct OnnxModel {
    engine: Engine,
    /// The graph output the score is read from.
    pub output_name: String,
}

#[derive(Clone)]
enum Engine {
    /// A tree ensemble walked by netcap ([`trees`]).
    Trees(Arc<TreeEnsemble>),
    Tract {
        plan: Arc<TypedRunnableModel>,
        /// Whether `plan` takes any number of rows (a symbolic batch
        /// dimension); else exactly one.
        batched: bool,
        output: usize,
        column: usize,
    },
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("OnnxModel");
        d.field("output", &self.output_name).field("engine", &self.engine_name());
        if let Engine::Tract { column, batched, .. } = &self.engine {
            d.field("column", column).field("batched", batched);
        }
        d.finish()
    }
}

/// Shape of a value in the graph: concrete dimensions, None for symbolic.
fn dims(v: &pb::ValueInfoProto) -> Option<Vec<Option<i64>>> {
    let pb::type_proto::Value::TensorType(t) = v.r#type.as_ref()?.value.as_ref()?;
    let shape = t.shape.as_ref()?;
    Some(
        shape
            .dim
            .iter()
            .map(|d| match &d.value {
                Some(pb::tensor_shape_proto::dimension::Value::DimValue(n)) => Some(*n),
                _ => None,
            })
            .collect(),
    )
}

/// ONNX element type of a float tensor.
const ONNX_FLOAT: i32 = 1;

fn elem_type(v: &pb::ValueInfoProto) -> Option<i32> {
    let pb::type_proto::Value::TensorType(t) = v.r#type.as_ref()?.value.as_ref()?;
    Some(t.elem_type)
}

impl OnnxModel {
    /// Parses, checks and prepares an ONNX model from its bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<OnnxModel, String> {
        let proto = pb::ModelProto::decode(bytes).map_err(|e| format!("not an ONNX model: {e}"))?;
        let graph = proto.graph.as_ref().ok_or("the ONNX model has no graph")?;
        // Inputs that initializers feed are weights, not model inputs.
        let inputs: Vec<&pb::ValueInfoProto> =
            graph.input.iter().filter(|i| !graph.initializer.iter().any(|t| t.name == i.name)).collect();
        let [input] = inputs.as_slice() else {
            return Err(format!("the ONNX model has {} inputs; netcap gives one, the 36 features", inputs.len()));
        };
        if elem_type(input) != Some(ONNX_FLOAT) {
            return Err(format!("input {:?} is not a float32 tensor", input.name));
        }
        let input_dims = dims(input);
        match input_dims.as_deref() {
            Some([_, Some(n)]) if *n != FEATURE_COUNT as i64 => {
                return Err(format!("model takes {n} features; netcap computes {FEATURE_COUNT}"));
            }
            Some([_, _]) => {}
            Some(other) => {
                return Err(format!(
                    "input {:?} has {} dimensions; expected [N, {FEATURE_COUNT}]",
                    input.name,
                    other.len()
                ));
            }
            None => return Err(format!("input {:?} has no shape", input.name)),
        }
        let floats: Vec<(usize, &pb::ValueInfoProto)> =
            graph.output.iter().enumerate().filter(|(_, o)| elem_type(o) == Some(ONNX_FLOAT)).collect();
        let (output, info) = floats
            .iter()
            .find(|(_, o)| o.name == "probabilities")
            .or_else(|| if floats.len() == 1 { floats.first() } else { None })
            .copied()
            .ok_or_else(|| {
                let names: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
                format!(
                    "no output named \"probabilities\" and not exactly one float output (outputs: {names:?}); \
                     export scikit-learn models with skl2onnx and options {{zipmap: False}}"
                )
            })?;
        let column = match dims(info).as_deref() {
            Some([_, Some(2)]) => 1,
            Some([_, Some(1)]) | Some([_]) => 0,
            other => {
                return Err(format!(
                    "output {:?} has shape {other:?}; expected [N, 2] class probabilities or [N, 1] scores",
                    info.name
                ));
            }
        };
        let name = info.name.clone();
        match TreeEnsemble::from_graph(graph, &input.name, &name, column) {
            Ok(trees) => {
                let model = OnnxModel { engine: Engine::Trees(Arc::new(trees)), output_name: name };
                model.probe()?;
                return Ok(model);
            }
            Err(NotNative::Invalid(reason)) => {
                return Err(format!("the ONNX model's tree ensemble is invalid: {reason}"));
            }
            Err(NotNative::Unsupported(_)) => {}
        }
        // A batch dimension the graph fixes (e.g. 1) is kept: such a model
        // is run a row at a time.
        let symbolic_batch = matches!(input_dims.as_deref(), Some([None, _]));
        let single = |proto: &pb::ModelProto| {
            tract_onnx::onnx()
                .model_for_proto_model(proto)
                .and_then(|m| m.with_input_fact(0, f32::fact([1, FEATURE_COUNT]).into()))
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .map_err(|e| format!("the ONNX model does not load: {e:#}"))
        };
        let batched_plan = if symbolic_batch {
            tract_onnx::onnx()
                .model_for_proto_model(&proto)
                .and_then(|m| {
                    let n = m.sym("N");
                    m.with_input_fact(0, f32::fact(&[TDim::from(n), TDim::from(FEATURE_COUNT as i64)]).into())
                })
                .and_then(|m| m.into_optimized())
                .and_then(|m| m.into_runnable())
                .ok()
        } else {
            None
        };
        if let Some(plan) = batched_plan {
            let engine = Engine::Tract { plan, batched: true, output, column };
            let model = OnnxModel { engine, output_name: name.clone() };
            // The batched plan must give one score per row, and the same
            // scores as a run of one row: else rows go one at a time.
            if model.probe().is_ok() {
                return Ok(model);
            }
        }
        let engine = Engine::Tract { plan: single(&proto)?, batched: false, output, column };
        let model = OnnxModel { engine, output_name: name };
        model.probe()?;
        Ok(model)
    }

    /// What scores the model: "trees" (netcap's walk of a tree ensemble)
    /// or "tract".
    pub fn engine_name(&self) -> &'static str {
        match self.engine {
            Engine::Trees(_) => "trees",
            Engine::Tract { .. } => "tract",
        }
    }

    /// Whether the model scores many rows per run (a tree ensemble scores
    /// rows one by one at no cost per run: counted as batched).
    pub fn batched(&self) -> bool {
        match self.engine {
            Engine::Trees(_) => true,
            Engine::Tract { batched, .. } => batched,
        }
    }

    /// Runs the model on rows of zeros (one row, and three in one run when
    /// batched): the run works and its scores are finite.
    fn probe(&self) -> Result<(), String> {
        let zeros = [0.0; FEATURE_COUNT];
        let probe = self.try_score(&zeros).map_err(|e| format!("the ONNX model does not run: {e}"))?;
        if !probe.is_finite() {
            return Err(format!("the ONNX model scores a row of zeros {probe}"));
        }
        if let Engine::Tract { batched: true, .. } = self.engine {
            let batch = self.try_score_batch(&[zeros; 3]).map_err(|e| format!("the ONNX model does not run: {e}"))?;
            if batch.iter().any(|s| s.to_bits() != probe.to_bits()) {
                return Err(format!("the ONNX model scores rows of zeros {batch:?} in a batch, {probe} alone"));
            }
        }
        Ok(())
    }

    /// Scores of `rows` from one run (`rows` at most [`MAX_BATCH_ROWS`]).
    fn try_score_batch(&self, rows: &[Features]) -> Result<Vec<f64>, String> {
        let (plan, output, column) = match &self.engine {
            Engine::Trees(trees) => return Ok(rows.iter().map(|r| trees.score(r)).collect()),
            Engine::Tract { plan, output, column, .. } => (plan, *output, *column),
        };
        let n = rows.len();
        let flat: Vec<f32> = rows.iter().flat_map(|r| r.iter().map(|&v| v as f32)).collect();
        let input = Tensor::from_shape::<f32>(&[n, FEATURE_COUNT], &flat).map_err(|e| e.to_string())?;
        let outputs = plan.run(tvec!(input.into_tvalue())).map_err(|e| format!("{e:#}"))?;
        let out = outputs.get(output).ok_or("the model gave fewer outputs than it declares")?;
        let values = out.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
        // [N, k] or [N]: k values per row in row order.
        if values.shape().first() != Some(&n) || !values.len().is_multiple_of(n.max(1)) {
            return Err(format!("the output has shape {:?} for {n} rows", values.shape()));
        }
        let per_row = values.len() / n.max(1);
        if per_row <= column {
            return Err(format!("the output has shape {:?}, no column {column}", values.shape()));
        }
        Ok(values.iter().skip(column).step_by(per_row).map(|&v| f64::from(v)).collect())
    }

    fn try_score(&self, x: &Features) -> Result<f64, String> {
        let (plan, output, column) = match &self.engine {
            Engine::Trees(trees) => return Ok(trees.score(x)),
            Engine::Tract { plan, output, column, .. } => (plan, *output, *column),
        };
        let row: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let input = Tensor::from_shape::<f32>(&[1, FEATURE_COUNT], &row).map_err(|e| e.to_string())?;
        let outputs = plan.run(tvec!(input.into_tvalue())).map_err(|e| format!("{e:#}"))?;
        let out = outputs.get(output).ok_or("the model gave fewer outputs than it declares")?;
        let values = out.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
        values.iter().nth(column).map(|&v| f64::from(v)).ok_or_else(|| "the output is empty".to_string())
    }

    /// The model's score of `x` (already scaled); 0 if the model fails on
    /// it (counted nowhere: a model that loaded and ran on zeros does not
    /// fail on other values of the same shape).
    pub fn score(&self, x: &Features) -> f64 {
        self.try_score(x).unwrap_or(0.0)
    }

    /// The scores of `rows` (already scaled), in order: many rows per run
    /// when the model is batched, else one. A failed run scores its rows
    /// one at a time, and a row that fails alone 0, as [`OnnxModel::score`].
    pub fn score_rows(&self, rows: &[Features]) -> Vec<f64> {
        if !self.batched() {
            return rows.iter().map(|r| self.score(r)).collect();
        }
        let mut scores = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(MAX_BATCH_ROWS) {
            match self.try_score_batch(chunk) {
                Ok(s) if s.len() == chunk.len() => scores.extend(s),
                _ => scores.extend(chunk.iter().map(|r| self.score(r))),
            }
        }
        scores
    }
}

/// Fuzz entry: ONNX bytes whose tree ensemble (graph input to an output
/// named `probabilities`, or the first) netcap may walk; when recognised,
/// `rows` are scored (the walk must end). Whether it was recognised.
pub(crate) fn fuzz_trees(bytes: &[u8], rows: &[Features]) -> bool {
    let Ok(proto) = pb::ModelProto::decode(bytes) else { return false };
    let Some(graph) = proto.graph.as_ref() else { return false };
    let (Some(input), Some(output)) =
        (graph.input.first(), graph.output.iter().find(|o| o.name == "probabilities").or(graph.output.first()))
    else {
        return false;
    };
    let Ok(trees) = TreeEnsemble::from_graph(graph, &input.name, &output.name, 1) else { return false };
    for row in rows {
        let _ = trees.score(row);
    }
    true
}
