//! ONNX parity: netcap's scores (tract) equal onnxruntime's (Python) on the
//! committed feature rows within 1e-5, for a scikit-learn random forest
//! with its MinMaxScaler inside the graph and a small MLP whose scaler is a
//! separate file. scripts/onnx_models.py made the models and the expected
//! scores (testdata/detect/).

use netcap_detect::{FEATURE_COUNT, FlowModel};
use std::path::PathBuf;
use tract_onnx::pb;

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/detect").join(name)
}

/// The feature rows of features.csv (`dump -features netwatcher` columns
/// plus `label`).
fn rows() -> Vec<[f64; FEATURE_COUNT]> {
    let text = std::fs::read_to_string(testdata("features.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(&header[8..44], &netcap_detect::FEATURE_NAMES[..]);
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            let mut r = [0.0; FEATURE_COUNT];
            for (i, v) in cells[8..44].iter().enumerate() {
                r[i] = v.parse().unwrap();
            }
            r
        })
        .collect()
}

fn expected() -> Vec<(f64, f64)> {
    let text = std::fs::read_to_string(testdata("expected_scores.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let (a, b) = l.split_once(',').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect()
}

#[test]
fn onnx_scores_equal_onnxruntime() {
    let rows = rows();
    let want = expected();
    assert_eq!(rows.len(), want.len());
    assert!(rows.len() > 300);
    let rf = FlowModel::load(&testdata("rf.onnx")).unwrap();
    assert_eq!(rf.name, "rf.onnx (onnx)");
    let mlp = FlowModel::load_with_scaler(&testdata("mlp.onnx"), Some(&testdata("mlp_scaler.json"))).unwrap();
    // Both graphs have a symbolic batch dimension: all rows in few runs.
    assert!(rf.batched() && mlp.batched());
    let (rf_scores, mlp_scores) = (rf.score_rows(&rows), mlp.score_rows(&rows));
    let (mut worst_rf, mut worst_mlp) = (0.0f64, 0.0f64);
    for (i, (row, (rf_want, mlp_want))) in rows.iter().zip(&want).enumerate() {
        let (a, b) = (rf_scores[i], mlp_scores[i]);
        // A batch scores each row exactly as a run of that row alone.
        assert_eq!(a.to_bits(), rf.score(row).to_bits(), "row {i}: forest batched {a}, alone {}", rf.score(row));
        assert_eq!(b.to_bits(), mlp.score(row).to_bits(), "row {i}: MLP batched {b}, alone {}", mlp.score(row));
        assert!((a - rf_want).abs() <= 1e-5, "row {i}: forest {a}, onnxruntime {rf_want}");
        assert!((b - mlp_want).abs() <= 1e-5, "row {i}: MLP {b}, onnxruntime {mlp_want}");
        worst_rf = worst_rf.max((a - rf_want).abs());
        worst_mlp = worst_mlp.max((b - mlp_want).abs());
    }
    eprintln!("largest differences: forest {worst_rf:e}, MLP {worst_mlp:e}");
    // The forest's scores take many values: the parity is not of 0s and 1s.
    let mut distinct: Vec<u64> = want.iter().map(|w| w.0.to_bits()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() > 100, "{}", distinct.len());
}

#[test]
fn onnx_models_with_the_wrong_shape_or_scaler_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Without its scaler the MLP still loads (the graph cannot know).
    assert!(FlowModel::load(&testdata("mlp.onnx")).is_ok());
    // A scaler file of 35 features.
    let text = std::fs::read_to_string(testdata("mlp_scaler.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["min"].as_array_mut().unwrap().pop();
    let bad = dir.path().join("scaler.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let e = FlowModel::load_with_scaler(&testdata("mlp.onnx"), Some(&bad)).unwrap_err().to_string();
    assert!(e.contains("scaler has 35 minima"), "{e}");
    v["features"].as_array_mut().unwrap().pop();
    std::fs::write(&bad, v.to_string()).unwrap();
    let e = FlowModel::load_with_scaler(&testdata("mlp.onnx"), Some(&bad)).unwrap_err().to_string();
    assert!(e.contains("scaler has 35 features"), "{e}");
    // A JSON model takes no scaler file.
    let e = FlowModel::load_with_scaler(&testdata("mlp_scaler.json"), Some(&testdata("mlp_scaler.json")))
        .unwrap_err()
        .to_string();
    assert!(e.contains("has its own scaler"), "{e}");
    // A truncated ONNX file.
    let bytes = std::fs::read(testdata("rf.onnx")).unwrap();
    let cut = dir.path().join("cut.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let e = FlowModel::load(&cut).unwrap_err().to_string();
    assert!(e.contains("cut.onnx"), "{e}");
}

#[test]
fn onnx_model_of_35_features_is_refused() {
    // rf.onnx with its input declared [N, 35].
    use prost::Message;
    let bytes = std::fs::read(testdata("rf.onnx")).unwrap();
    let mut proto = pb::ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    let Some(pb::type_proto::Value::TensorType(t)) = graph.input[0].r#type.as_mut().unwrap().value.as_mut() else {
        panic!("tensor input")
    };
    t.shape.as_mut().unwrap().dim[1].value = Some(pb::tensor_shape_proto::dimension::Value::DimValue(35));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("35.onnx");
    std::fs::write(&path, proto.encode_to_vec()).unwrap();
    let e = FlowModel::load(&path).unwrap_err().to_string();
    assert!(e.contains("model takes 35 features; netcap computes 36"), "{e}");
}

/// rf.onnx with its input's batch dimension changed to `batch`.
fn rf_with_batch(dir: &std::path::Path, batch: pb::tensor_shape_proto::dimension::Value) -> PathBuf {
    use prost::Message;
    let bytes = std::fs::read(testdata("rf.onnx")).unwrap();
    let mut proto = pb::ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    let Some(pb::type_proto::Value::TensorType(t)) = graph.input[0].r#type.as_mut().unwrap().value.as_mut() else {
        panic!("tensor input")
    };
    t.shape.as_mut().unwrap().dim[0].value = Some(batch);
    let path = dir.join("batch.onnx");
    std::fs::write(&path, proto.encode_to_vec()).unwrap();
    path
}

#[test]
fn batches_of_any_size_score_as_single_rows() {
    let rows = rows();
    let rf = FlowModel::load(&testdata("rf.onnx")).unwrap();
    let mlp = FlowModel::load_with_scaler(&testdata("mlp.onnx"), Some(&testdata("mlp_scaler.json"))).unwrap();
    for model in [&rf, &mlp] {
        let whole = model.score_rows(&rows);
        for size in [1, 2, 7, 64] {
            let chunked: Vec<f64> = rows.chunks(size).flat_map(|c| model.score_rows(c)).collect();
            assert_eq!(chunked, whole, "{} in batches of {size}", model.name);
        }
        assert!(model.score_rows(&[]).is_empty());
    }
    // More rows than one run takes (MAX_BATCH_ROWS): several runs, in order.
    let many: Vec<[f64; FEATURE_COUNT]> = rows.iter().cycle().take(2500).copied().collect();
    let scores = rf.score_rows(&many);
    assert_eq!(scores.len(), 2500);
    assert_eq!(&scores[..rows.len()], &rf.score_rows(&rows)[..]);
    assert_eq!(scores[2499], rf.score(&many[2499]));
}

#[test]
fn a_model_with_a_fixed_batch_dimension_runs_row_by_row() {
    use pb::tensor_shape_proto::dimension::Value;
    let dir = tempfile::tempdir().unwrap();
    let rows = rows();
    let rf = FlowModel::load(&testdata("rf.onnx")).unwrap();
    let fixed = FlowModel::load(&rf_with_batch(dir.path(), Value::DimValue(1))).unwrap();
    assert!(!fixed.batched());
    let want: Vec<f64> = rows.iter().map(|r| rf.score(r)).collect();
    assert_eq!(fixed.score_rows(&rows), want);
    // A named symbolic dimension ("batch") is batched like an unnamed one.
    let named = FlowModel::load(&rf_with_batch(dir.path(), Value::DimParam("batch".into()))).unwrap();
    assert!(named.batched());
    assert_eq!(named.score_rows(&rows), want);
}
