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

use crate::features::{FEATURE_COUNT, Features};
use prost::Message;
use std::sync::Arc;
use tract_onnx::pb;
use tract_onnx::prelude::*;

/// A loaded ONNX model ready to score one row at a time.
#[derive(Clone)]
pub struct OnnxModel {
    plan: Arc<TypedRunnableModel>,
    output: usize,
    column: usize,
    /// Whether the output needs no further sigmoid (it is a probability).
    pub output_name: String,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel").field("output", &self.output_name).field("column", &self.column).finish()
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
        match dims(input).as_deref() {
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
        let plan = tract_onnx::onnx()
            .model_for_proto_model(&proto)
            .and_then(|m| m.with_input_fact(0, f32::fact([1, FEATURE_COUNT]).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| format!("the ONNX model does not load: {e:#}"))?;
        let model = OnnxModel { plan, output, column, output_name: info.name.clone() };
        let probe = model.try_score(&[0.0; FEATURE_COUNT]).map_err(|e| format!("the ONNX model does not run: {e}"))?;
        if !probe.is_finite() {
            return Err(format!("the ONNX model scores a row of zeros {probe}"));
        }
        Ok(model)
    }

    fn try_score(&self, x: &Features) -> Result<f64, String> {
        let row: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let input = Tensor::from_shape::<f32>(&[1, FEATURE_COUNT], &row).map_err(|e| e.to_string())?;
        let outputs = self.plan.run(tvec!(input.into_tvalue())).map_err(|e| format!("{e:#}"))?;
        let out = outputs.get(self.output).ok_or("the model gave fewer outputs than it declares")?;
        let values = out.to_plain_array_view::<f32>().map_err(|e| e.to_string())?;
        values.iter().nth(self.column).map(|&v| f64::from(v)).ok_or_else(|| "the output is empty".to_string())
    }

    /// The model's score of `x` (already scaled); 0 if the model fails on
    /// it (counted nowhere: a model that loaded and ran on zeros does not
    /// fail on other values of the same shape).
    pub fn score(&self, x: &Features) -> f64 {
        self.try_score(x).unwrap_or(0.0)
    }
}
