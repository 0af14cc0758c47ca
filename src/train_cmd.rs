//! `netcap train`: a flow model from `netcap label`'s Connection table.

use anyhow::{Context, bail};
use clap::Args;
use netcap_detect::{ForestParams, TrainOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    netcap label -dir records -out labelled -attacks schedule.yaml\n  \
    netcap train -read labelled -model model.json\n  \
    netcap detect -read other.pcap -model model.json\n  \
    netcap train -read labelled-other -model model.json -evaluate\n\n\
    Reads Connection_labeled.parquet (else .csv) from a directory, or the given file. Rows labelled\n\
    -normal are benign (class 0), every other label an attack (class 1). Features: NetWatcher's 36\n\
    (docs/detect.md), min-max scaled as NetWatcher does. A stratified, seeded part of each class is\n\
    held out; the evaluation on it is printed and stored in the model file.")]
pub struct TrainArgs {
    /// Labelled Connection table (netcap label's output directory, or its CSV or Parquet file)
    #[arg(long, value_name = "PATH")]
    read: PathBuf,
    /// Model file to write (JSON, docs/detect.md)
    #[arg(long, value_name = "FILE")]
    model: PathBuf,
    /// Label of benign rows
    #[arg(long, value_name = "LABEL", default_value = "normal")]
    normal: String,
    /// Trees in the random forest
    #[arg(long, value_name = "N", default_value_t = 100)]
    trees: usize,
    /// Depth of a tree at most
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_depth: usize,
    /// Features tried at each split
    #[arg(long, value_name = "N", default_value_t = 6)]
    max_features: usize,
    /// Rows a leaf holds at least
    #[arg(long, value_name = "N", default_value_t = 1)]
    min_samples_leaf: usize,
    /// Seed of the held-out split and the forest (same seed, same model)
    #[arg(long, value_name = "N", default_value_t = 1)]
    seed: u64,
    /// Fraction of each class held out for evaluation
    #[arg(long, value_name = "FRACTION", default_value_t = 0.25)]
    test_fraction: f64,
    /// Score at which a flow is an alert, for the evaluation and as the model's default
    /// [default: 0.5; with -evaluate, the model's]
    #[arg(long, value_name = "SCORE")]
    threshold: Option<f64>,
    /// Train nothing: evaluate the existing -model (JSON or ONNX) on every row of -read,
    /// scoring as netcap detect does (rows under -min-packets are not scored: benign)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    evaluate: Option<bool>,
    /// With -evaluate: connections with fewer packets are not scored
    #[arg(long, value_name = "N", default_value_t = 3)]
    min_packets: u64,
    /// With -evaluate: the scaler file of an ONNX model
    #[arg(long, value_name = "FILE")]
    scaler: Option<PathBuf>,
}

/// `-evaluate`: the model's evaluation on every row, as detect scores.
fn evaluate(args: &TrainArgs) -> anyhow::Result<ExitCode> {
    let model = netcap_detect::FlowModel::load_with_scaler(&args.model, args.scaler.as_deref())?;
    let threshold = args.threshold.unwrap_or(model.default_threshold);
    if !(0.0..=1.0).contains(&threshold) {
        bail!("-threshold must be between 0 and 1, not {threshold}");
    }
    let table = netcap_detect::dataset::labelled_table(&args.read);
    let data = netcap_detect::read_labelled(&args.read, &args.normal)?;
    // Every row scored in one batch (an ONNX model runs once per batch);
    // rows under -min-packets then count as benign, score 0.
    let mut scores = model.score_rows(&data.rows);
    for (s, r) in scores.iter_mut().zip(&data.rows) {
        if r[1] < args.min_packets as f64 {
            *s = 0.0;
        }
    }
    let e = netcap_detect::Evaluation::new(&scores, &data.classes, threshold);
    let attacks = data.classes.iter().filter(|&&c| c == 1).count();
    let unscored = data.rows.iter().filter(|r| r[1] < args.min_packets as f64).count();
    println!(
        "evaluated {} on {} flows ({attacks} attack) from {}; {unscored} under -min-packets {} not scored (benign)",
        model.name,
        data.rows.len(),
        table.display(),
        args.min_packets
    );
    print!("{}", e.report());
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if args.evaluate.unwrap_or(false) {
        return evaluate(&args);
    }
    if args.scaler.is_some() {
        bail!("-scaler goes with -evaluate (netcap's model files have their scaler)");
    }
    let threshold = args.threshold.unwrap_or(0.5);
    if args.max_depth == 0 || !(1..=36).contains(&args.max_features) {
        bail!("-max-depth must be at least 1 and -max-features between 1 and 36");
    }
    let table = netcap_detect::dataset::labelled_table(&args.read);
    let data = netcap_detect::read_labelled(&args.read, &args.normal)?;
    let options = TrainOptions {
        forest: ForestParams {
            trees: args.trees,
            max_depth: args.max_depth,
            max_features: args.max_features,
            min_samples_leaf: args.min_samples_leaf.max(1),
            seed: args.seed,
        },
        test_fraction: args.test_fraction,
        threshold,
    };
    let outcome = netcap_detect::train(&data, &options).with_context(|| table.display().to_string())?;
    println!(
        "trained a random forest of {} trees on {} flows ({} attack) from {}; held out {} ({} attack)",
        options.forest.trees,
        outcome.train_rows,
        outcome.train_attacks,
        table.display(),
        outcome.test_rows,
        outcome.test_attacks
    );
    match &outcome.evaluation {
        Some(e) => print!("held-out evaluation:\n{}", e.report()),
        None => println!("no rows held out (-test-fraction 0): no evaluation"),
    }
    outcome.model.save(&args.model)?;
    println!("wrote {}", args.model.display());
    Ok(ExitCode::SUCCESS)
}
