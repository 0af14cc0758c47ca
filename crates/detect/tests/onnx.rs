//! ONNX parity: netcap's scores equal onnxruntime's (Python) on the
//! committed feature rows within 1e-5, for a scikit-learn random forest
//! with its MinMaxScaler inside the graph and gradient-boosted trees (both
//! walked by netcap's own tree code), a small MLP whose scaler is a
//! separate file and a Keras model exported with tf2onnx (both run in
//! tract). scripts/onnx_models.py made the models and
//! the expected scores (testdata/detect/).

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

/// onnxruntime's scores: columns rf, mlp, gb, keras.
fn expected() -> Vec<[f64; 4]> {
    let text = std::fs::read_to_string(testdata("expected_scores.csv")).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("rf,mlp,gb,keras"));
    lines
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|c| c.parse().unwrap()).collect();
            [v[0], v[1], v[2], v[3]]
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
    let gb = FlowModel::load(&testdata("gb.onnx")).unwrap();
    // tf2onnx's graph: one float output [N, 1], the sigmoid of class 1.
    let keras = FlowModel::load_with_scaler(&testdata("keras.onnx"), Some(&testdata("mlp_scaler.json"))).unwrap();
    // The tree ensembles are walked by netcap, the networks run in tract.
    assert_eq!(
        [rf.engine(), gb.engine(), mlp.engine(), keras.engine()],
        ["onnx trees", "onnx trees", "onnx tract", "onnx tract"]
    );
    // The networks' graphs have a symbolic batch dimension: all rows in
    // few runs.
    assert!(rf.batched() && mlp.batched() && gb.batched() && keras.batched());
    let models = [("forest", &rf), ("MLP", &mlp), ("gradient boosting", &gb), ("Keras", &keras)];
    for (m, (what, model)) in models.iter().enumerate() {
        let scores = model.score_rows(&rows);
        let mut worst = 0.0f64;
        for (i, (row, want)) in rows.iter().zip(&want).enumerate() {
            let (got, want) = (scores[i], want[m]);
            // A batch scores each row exactly as that row alone.
            let alone = model.score(row);
            assert_eq!(got.to_bits(), alone.to_bits(), "row {i}: {what} batched {got}, alone {alone}");
            assert!((got - want).abs() <= 1e-5, "row {i}: {what} {got}, onnxruntime {want}");
            worst = worst.max((got - want).abs());
        }
        eprintln!("largest difference from onnxruntime: {what} {worst:e}");
    }
    // The forest's, the boosted trees' and the Keras model's scores take
    // many values: the parity is not of 0s and 1s.
    for m in [0, 2, 3] {
        let mut distinct: Vec<u64> = want.iter().map(|w| w[m].to_bits()).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert!(distinct.len() > 100, "column {m}: {}", distinct.len());
    }
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

/// A model of testdata with its input's batch dimension changed to `batch`.
fn with_batch(dir: &std::path::Path, model: &str, batch: pb::tensor_shape_proto::dimension::Value) -> PathBuf {
    use prost::Message;
    let bytes = std::fs::read(testdata(model)).unwrap();
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
    let gb = FlowModel::load(&testdata("gb.onnx")).unwrap();
    for model in [&rf, &mlp, &gb] {
        let whole = model.score_rows(&rows);
        for size in [1, 2, 7, 64] {
            let chunked: Vec<f64> = rows.chunks(size).flat_map(|c| model.score_rows(c)).collect();
            assert_eq!(chunked, whole, "{} in batches of {size}", model.name);
        }
        assert!(model.score_rows(&[]).is_empty());
    }
    // More rows than one run takes (MAX_BATCH_ROWS): several runs, in order.
    let many: Vec<[f64; FEATURE_COUNT]> = rows.iter().cycle().take(2500).copied().collect();
    for model in [&rf, &mlp] {
        let scores = model.score_rows(&many);
        assert_eq!(scores.len(), 2500);
        assert_eq!(&scores[..rows.len()], &model.score_rows(&rows)[..]);
        assert_eq!(scores[2499], model.score(&many[2499]));
    }
}

#[test]
fn a_model_with_a_fixed_batch_dimension_runs_row_by_row() {
    use pb::tensor_shape_proto::dimension::Value;
    let dir = tempfile::tempdir().unwrap();
    let rows = rows();
    let scaler = testdata("mlp_scaler.json");
    let mlp = FlowModel::load_with_scaler(&testdata("mlp.onnx"), Some(&scaler)).unwrap();
    let fixed =
        FlowModel::load_with_scaler(&with_batch(dir.path(), "mlp.onnx", Value::DimValue(1)), Some(&scaler)).unwrap();
    assert!(!fixed.batched());
    let want: Vec<f64> = rows.iter().map(|r| mlp.score(r)).collect();
    // tract optimises the two plans differently (its matrix kernels): the
    // last bits of a float32 may differ.
    let close = |got: Vec<f64>| got.iter().zip(&want).all(|(g, w)| (g - w).abs() <= 1e-6);
    assert!(close(fixed.score_rows(&rows)));
    // A named symbolic dimension ("batch") is batched like an unnamed one.
    let named = FlowModel::load_with_scaler(
        &with_batch(dir.path(), "mlp.onnx", Value::DimParam("batch".into())),
        Some(&scaler),
    )
    .unwrap();
    assert!(named.batched());
    assert!(close(named.score_rows(&rows)));
    // A tree ensemble with a fixed batch dimension is walked by netcap.
    let rf = FlowModel::load(&testdata("rf.onnx")).unwrap();
    let fixed_rf = FlowModel::load(&with_batch(dir.path(), "rf.onnx", Value::DimValue(1))).unwrap();
    assert_eq!(fixed_rf.engine(), "onnx trees");
    assert_eq!(fixed_rf.score_rows(&rows), rf.score_rows(&rows));
}

#[test]
fn an_onnx_forest_with_a_broken_tree_is_refused() {
    // rf.onnx with its first branch pointing at a node its tree lacks:
    // refused when it loads, with the reason (tract is never asked).
    use prost::Message;
    let bytes = std::fs::read(testdata("rf.onnx")).unwrap();
    let mut proto = pb::ModelProto::decode(bytes.as_slice()).unwrap();
    let graph = proto.graph.as_mut().unwrap();
    let trees = graph.node.iter_mut().find(|n| n.op_type == "TreeEnsembleClassifier").unwrap();
    let true_ids = trees.attribute.iter_mut().find(|a| a.name == "nodes_truenodeids").unwrap();
    true_ids.ints[0] = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.onnx");
    std::fs::write(&path, proto.encode_to_vec()).unwrap();
    let e = FlowModel::load(&path).unwrap_err().to_string();
    assert!(
        e.contains("broken.onnx") && e.contains("tree ensemble is invalid: node 0 of tree 0 points at no node 100000"),
        "{e}"
    );
}
