#!/usr/bin/env python3
"""Exports the scikit-learn models netcap detect's ONNX parity test uses.

    target/py/bin/python scripts/onnx_models.py testdata/detect

Reads DIR/features.csv (the CSV `netcap dump -features netwatcher` prints,
plus a `label` column: 1 attack, 0 benign), trains

- a random forest inside a Pipeline with scikit-learn's MinMaxScaler (the
  scaler is part of the ONNX graph): DIR/rf.onnx;
- a small MLP (two hidden layers of 16) without the scaler, which is
  written beside it as netcap's scaler file: DIR/mlp.onnx and
  DIR/mlp_scaler.json;
- gradient-boosted trees (scikit-learn's GradientBoostingClassifier, no
  scaler): DIR/gb.onnx, a TreeEnsembleClassifier with one class's weights,
  a base value and a LOGISTIC post transform (onnxruntime's binary case);
- a Keras model like NetWatcher's DNNs (16 ReLU units, one sigmoid unit),
  exported with tf2onnx from a SavedModel: DIR/keras.onnx, one float
  output [N, 1]; it takes the MLP's scaler file;

exports both with skl2onnx (zipmap off: `probabilities` is a float tensor
[N, 2]), and writes onnxruntime's probability of class 1 for every row to
DIR/expected_scores.csv (columns rf, mlp, gb, keras; repr() of the float32
values). netcap's test (crates/detect, `onnx_scores_equal_onnxruntime`)
loads the models (the tree ensembles walked by netcap, the MLP in tract)
and checks its scores against these within 1e-5.

Needs scikit-learn, skl2onnx, onnxruntime, tensorflow-cpu and tf2onnx
(pip); CI does not: the models and expected scores are committed.
"""

import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnxruntime as ort
from skl2onnx import to_onnx
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

KEY_COLUMNS = 8  # timestamp_ns .. community_id before the 36 features


def load(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    names = header[KEY_COLUMNS:-1]
    assert len(names) == 36 and header[-1] == "label", header
    x = np.array([[float(v) for v in r[KEY_COLUMNS:-1]] for r in rows[1:]], dtype=np.float64)
    y = np.array([int(r[-1]) for r in rows[1:]], dtype=np.int64)
    return names, x, y


def probabilities(model_path, x):
    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outputs = [o.name for o in session.get_outputs()]
    if outputs == ["output_0"]:  # tf2onnx: the sigmoid of class 1, [N, 1]
        probs = session.run(outputs, {name: x})[0]
        assert probs.shape == (len(x), 1), probs.shape
        return probs[:, 0]
    probs = session.run(["probabilities"], {name: x})[0]
    assert "probabilities" in outputs and probs.shape == (len(x), 2), (outputs, probs.shape)
    return probs[:, 1]


def keras_model(path, scaled, y):
    """NetWatcher-like DNN in Keras, exported with tf2onnx (SavedModel
    route: tf2onnx's from_keras does not take Keras 3 models)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.keras.utils.set_random_seed(1)
    model = tf.keras.Sequential([
        tf.keras.Input(shape=(36,), name="features"),
        tf.keras.layers.Dense(16, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(scaled, y, epochs=200, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        saved = os.path.join(tmp, "saved")
        model.export(saved, verbose=False)
        subprocess.run([sys.executable, "-m", "tf2onnx.convert", "--saved-model", saved,
                        "--output", path, "--opset", "17"], check=True, capture_output=True)


def main(out_dir):
    names, x64, y = load(os.path.join(out_dir, "features.csv"))
    # The graph's input is float32, as netcap (and NetWatcher) feed it.
    x = x64.astype(np.float32)
    options = {"zipmap": False}

    # The forest learns the labels with 15 % of them flipped (seeded): its
    # leaves then hold fractions and its scores take many values, a
    # stronger parity check than the clean split the brute force allows.
    noisy = y ^ (np.random.default_rng(1).random(len(y)) < 0.15).astype(np.int64)
    rf = Pipeline([("scaler", MinMaxScaler()),
                   ("rf", RandomForestClassifier(n_estimators=20, max_depth=8, min_samples_leaf=3,
                                                 random_state=1))])
    rf.fit(x, noisy)
    onx = to_onnx(rf, x[:1], options={id(rf.steps[-1][1]): options}, target_opset={"": 17, "ai.onnx.ml": 3})
    rf_path = os.path.join(out_dir, "rf.onnx")
    with open(rf_path, "wb") as f:
        f.write(onx.SerializeToString())

    # The MLP's scaler is fitted on the float64 features (as netcap reads
    # them) and applied outside the graph, as netcap does with a scaler
    # file: (x - min) / (max - min) in float64, then float32.
    scaler = MinMaxScaler().fit(x64)
    lo, hi = scaler.data_min_, scaler.data_max_
    rng = np.where(hi - lo > 0, hi - lo, 1.0)
    scaled = ((x64 - lo) / rng).astype(np.float32)
    mlp = MLPClassifier(hidden_layer_sizes=(16, 16), max_iter=500, random_state=1)
    mlp.fit(scaled, y)
    onx = to_onnx(mlp, scaled[:1], options={id(mlp): options},
                  target_opset={"": 17, "ai.onnx.ml": 3})
    mlp_path = os.path.join(out_dir, "mlp.onnx")
    with open(mlp_path, "wb") as f:
        f.write(onx.SerializeToString())
    with open(os.path.join(out_dir, "mlp_scaler.json"), "w") as f:
        json.dump({"kind": "min_max", "features": names,
                   "min": [float(v) for v in scaler.data_min_],
                   "max": [float(v) for v in scaler.data_max_]}, f, indent=1)
        f.write("\n")

    # Gradient boosting on the same noisy labels: leaves of both signs.
    gb = GradientBoostingClassifier(n_estimators=30, max_depth=3, random_state=1)
    gb.fit(x, noisy)
    onx = to_onnx(gb, x[:1], options={id(gb): options}, target_opset={"": 17, "ai.onnx.ml": 3})
    gb_path = os.path.join(out_dir, "gb.onnx")
    with open(gb_path, "wb") as f:
        f.write(onx.SerializeToString())

    keras_path = os.path.join(out_dir, "keras.onnx")
    keras_model(keras_path, scaled, y)

    columns = {
        "rf": probabilities(rf_path, x),
        "mlp": probabilities(mlp_path, scaled),
        "gb": probabilities(gb_path, x),
        "keras": probabilities(keras_path, scaled),
    }
    with open(os.path.join(out_dir, "expected_scores.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(columns))
        for row in zip(*columns.values()):
            w.writerow([repr(float(v)) for v in row])
    print(f"{len(x)} rows ({int(y.sum())} attack); {', '.join(columns)} exported to {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "testdata/detect")
