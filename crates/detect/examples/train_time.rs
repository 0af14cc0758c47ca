//! Training time of `netcap train` on synthetic labelled flows
//! (docs/detect.md, "Training time"):
//!
//! ```sh
//! cargo run -p netcap-detect --example train_time -- 100000            # perpetual, budget 0.5, 1 GB
//! cargo run -p netcap-detect --example train_time -- 100000 boosting 1.0 4   # budget 1.0, 4 GB
//! cargo run -p netcap-detect --example train_time -- 100000 forest 100
//! ```
//!
//! Rows of NetWatcher's 36 features drawn from a seeded generator: a
//! quarter are attacks. Benign flows have many packets, payload and
//! windows; attacks are of four kinds (scans: 1–2 packets with SYN and RST;
//! floods: SYN only; brute forces: tens of small payloads; slow: long, few
//! packets) with 5 % of labels flipped, so the classifier has structure
//! to learn and noise it cannot. The whole of `netcap train` runs (split,
//! scaler, classifier, held-out evaluation), without reading a table:
//! ROWS rows are trained on, a third as many more generated and held out.

use netcap_detect::rng::SplitMix64;
use netcap_detect::{Algorithm, BoostingParams, Dataset, FEATURE_COUNT, ForestParams, TrainOptions, train};

fn synthetic(n: usize) -> Dataset {
    let mut d = Dataset::default();
    let mut rng = SplitMix64::new(2026);
    let mut uniform = |lo: f64, hi: f64| lo + (hi - lo) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
    for i in 0..n {
        let kind = if i % 4 == 0 { 1 + i / 4 % 4 } else { 0 };
        let mut r = [0.0; FEATURE_COUNT];
        let packets = match kind {
            0 => uniform(3.0, 400.0).round(),
            1 => uniform(1.0, 2.9).round(),
            2 => uniform(1.0, 4.0).round(),
            3 => uniform(10.0, 60.0).round(),
            _ => uniform(3.0, 20.0).round(),
        };
        let payload_mean = match kind {
            0 => uniform(0.0, 1400.0),
            1 | 2 => 0.0,
            3 => uniform(8.0, 40.0),
            _ => uniform(10.0, 30.0),
        };
        r[0] = match kind {
            4 => uniform(60.0, 900.0),
            1 | 2 => uniform(0.0, 0.01),
            _ => uniform(0.001, 120.0),
        };
        r[1] = packets;
        r[2] = (packets * payload_mean * uniform(0.3, 1.0)).round();
        r[3] = 0.0;
        r[4] = (payload_mean * uniform(1.0, 2.0)).round();
        r[5] = payload_mean * uniform(0.0, 0.8);
        r[6] = if payload_mean > 0.0 { uniform(1.0, payload_mean.max(1.0)).round() } else { 0.0 };
        r[7] = payload_mean;
        r[8] = r[5] * uniform(0.5, 1.0);
        r[9] = uniform(0.0, 0.001);
        r[10] = r[0] / packets.max(1.0) * uniform(1.0, 3.0);
        r[11] = r[10] * uniform(0.1, 0.5);
        r[12] = if kind == 1 || kind == 2 { 1.0 } else { uniform(1.0, 2.9).floor() };
        r[13] = if kind == 0 || kind == 3 { uniform(0.0, 2.9).floor() } else { 0.0 };
        r[14] = if kind == 1 { 1.0 } else { uniform(0.0, 1.1).floor() };
        r[15] = (packets * uniform(0.5, 1.0)).round();
        r[16] = (packets * uniform(0.0, 0.5)).round();
        for (j, v) in r.iter_mut().enumerate().take(FEATURE_COUNT).skip(20) {
            let scale = if j % 8 == 4 { 128.0 } else { 65535.0 };
            *v = if kind == 2 && j >= 28 { 0.0 } else { uniform(0.0, scale).round() };
        }
        let noise = uniform(0.0, 1.0) < 0.05;
        let attack = (kind != 0) != noise;
        d.rows.push(r);
        d.classes.push(u8::from(attack));
        d.labels.push(if attack { "attack".into() } else { "normal".into() });
    }
    d
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let algorithm = match args.get(2).map(String::as_str).unwrap_or("boosting") {
        "forest" => {
            let trees = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(100);
            Algorithm::RandomForest(ForestParams { trees, ..ForestParams::default() })
        }
        _ => {
            let budget = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(BoostingParams::default().budget);
            let memory_limit_gb =
                args.get(4).and_then(|a| a.parse().ok()).unwrap_or(BoostingParams::default().memory_limit_gb);
            Algorithm::GradientBoosting(BoostingParams { budget, memory_limit_gb, threads: 0 })
        }
    };
    // `rows` rows to train on: a quarter more are generated and held out.
    let data = synthetic(rows * 4 / 3);
    let options = TrainOptions { algorithm, ..TrainOptions::default() };
    let started = std::time::Instant::now();
    let outcome = match train(&data, &options) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("train_time: {e}");
            std::process::exit(1);
        }
    };
    let total = started.elapsed().as_secs_f64();
    let training = &outcome.model.training;
    let largest = match &outcome.model.classifier {
        netcap_detect::model::Classifier::GradientBoosting(b) => b.trees.iter().map(|t| t.len()).max(),
        netcap_detect::model::Classifier::RandomForest { trees } => trees.iter().map(|t| t.len()).max(),
    };
    println!(
        "{} rows x {FEATURE_COUNT} features, {:?}: classifier {:.2} s, whole train {:.2} s; trees {}, nodes {}, \
         largest tree {} nodes",
        outcome.train_rows,
        options.algorithm,
        outcome.training_seconds,
        total,
        training["trees"],
        training.get("nodes").map_or("-".to_string(), |n| n.to_string()),
        largest.unwrap_or(0),
    );
    for w in &outcome.warnings {
        println!("warning: {w}");
    }
    if let Some(e) = &outcome.evaluation {
        print!("{}", e.report());
    }
}
