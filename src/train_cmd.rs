//! `netcap train`: a flow model from `netcap label`'s Connection table.

use anyhow::{Context, bail};
use clap::Args;
use netcap_detect::{Algorithm, BoostingParams, ForestParams, TrainOptions};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    netcap label -dir records -out labelled -attacks schedule.yaml\n  \
    netcap train -read labelled -model model.json\n  \
    netcap train -read labelled -model model.json -budget 1.5\n  \
    netcap train -read labelled -model forest.json -algorithm forest -trees 100\n  \
    netcap detect -read other.pcap -model model.json\n  \
    netcap train -read labelled-other -model model.json -evaluate\n\n\
    Reads Connection_labeled.parquet (else .csv) from a directory, or the given file. Rows labelled\n\
    -normal are benign (class 0), every other label an attack (class 1). Features: NetWatcher's 36\n\
    (docs/detect.md), min-max scaled as NetWatcher does. A stratified, seeded part of each class is\n\
    held out; the evaluation on it is printed and stored in the model file.\n\n\
    -algorithm boosting (default): gradient-boosted trees trained by perpetual (objective LogLoss),\n\
    tuned by -budget alone. -algorithm forest: netcap's random forest (-trees, -max-depth,\n\
    -max-features, -min-samples-leaf). Either way the same -seed gives the same model file.")]
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
    /// Classifier: boosting (perpetual's gradient-boosted trees) or forest (netcap's random forest)
    #[arg(long, value_name = "NAME", default_value = "boosting")]
    algorithm: String,
    /// boosting: perpetual's budget (higher fits more closely, trains longer)
    /// [default: 0.5]
    #[arg(long, value_name = "B")]
    budget: Option<f32>,
    /// boosting: perpetual's memory limit in GB, which caps the nodes of a tree (fixed so that
    /// the model does not depend on the memory free) [default: 1]
    #[arg(long, value_name = "GB")]
    memory_limit: Option<f32>,
    /// boosting: threads perpetual trains with (0: one per core; the model is the same)
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// forest: trees in the random forest [default: 100]
    #[arg(long, value_name = "N")]
    trees: Option<usize>,
    /// forest: depth of a tree at most [default: 20]
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// forest: features tried at each split [default: 6]
    #[arg(long, value_name = "N")]
    max_features: Option<usize>,
    /// forest: rows a leaf holds at least [default: 1]
    #[arg(long, value_name = "N")]
    min_samples_leaf: Option<usize>,
    /// Seed of the held-out split and the classifier (same seed, same model)
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

/// The classifier and its parameters from the flags; a flag of the other
/// algorithm is refused rather than ignored.
fn algorithm(args: &TrainArgs) -> anyhow::Result<Algorithm> {
    let forest_flags = [
        ("-trees", args.trees.is_some()),
        ("-max-depth", args.max_depth.is_some()),
        ("-max-features", args.max_features.is_some()),
        ("-min-samples-leaf", args.min_samples_leaf.is_some()),
    ];
    let boosting_flags = [
        ("-budget", args.budget.is_some()),
        ("-memory-limit", args.memory_limit.is_some()),
        ("-threads", args.threads != 0),
    ];
    match args.algorithm.as_str() {
        "boosting" | "gradient_boosting" => {
            if let Some((flag, _)) = forest_flags.iter().find(|(_, set)| *set) {
                bail!("{flag} goes with -algorithm forest; gradient boosting takes -budget");
            }
            let defaults = BoostingParams::default();
            let params = BoostingParams {
                budget: args.budget.unwrap_or(defaults.budget),
                memory_limit_gb: args.memory_limit.unwrap_or(defaults.memory_limit_gb),
                threads: args.threads,
            };
            if !(params.budget > 0.0 && params.budget.is_finite()) {
                bail!("-budget must be a positive number, not {}", params.budget);
            }
            if !(params.memory_limit_gb > 0.0 && params.memory_limit_gb.is_finite()) {
                bail!("-memory-limit must be a positive number of GB, not {}", params.memory_limit_gb);
            }
            Ok(Algorithm::GradientBoosting(params))
        }
        "forest" | "random_forest" => {
            if let Some((flag, _)) = boosting_flags.iter().find(|(_, set)| *set) {
                bail!("{flag} goes with -algorithm boosting");
            }
            let defaults = ForestParams::default();
            let params = ForestParams {
                trees: args.trees.unwrap_or(defaults.trees),
                max_depth: args.max_depth.unwrap_or(defaults.max_depth),
                max_features: args.max_features.unwrap_or(defaults.max_features),
                min_samples_leaf: args.min_samples_leaf.unwrap_or(defaults.min_samples_leaf).max(1),
            };
            if params.max_depth == 0 || !(1..=36).contains(&params.max_features) {
                bail!("-max-depth must be at least 1 and -max-features between 1 and 36");
            }
            Ok(Algorithm::RandomForest(params))
        }
        other => bail!("-algorithm takes boosting or forest, not {other:?}"),
    }
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if args.evaluate.unwrap_or(false) {
        return evaluate(&args);
    }
    if args.scaler.is_some() {
        bail!("-scaler goes with -evaluate (netcap's model files have their scaler)");
    }
    let threshold = args.threshold.unwrap_or(0.5);
    let algorithm = algorithm(&args)?;
    let table = netcap_detect::dataset::labelled_table(&args.read);
    let data = netcap_detect::read_labelled(&args.read, &args.normal)?;
    let options = TrainOptions { algorithm, seed: args.seed, test_fraction: args.test_fraction, threshold };
    let outcome = netcap_detect::train(&data, &options).with_context(|| table.display().to_string())?;
    for warning in &outcome.warnings {
        eprintln!("netcap train: warning: {warning}");
    }
    let what = match &outcome.model.classifier {
        netcap_detect::model::Classifier::GradientBoosting(b) => {
            format!("gradient-boosted trees (perpetual, {} trees, {} nodes)", b.trees.len(), b.nodes())
        }
        netcap_detect::model::Classifier::RandomForest { trees } => {
            format!("a random forest of {} trees", trees.len())
        }
    };
    println!(
        "trained {what} in {:.1} s on {} flows ({} attack) from {}; held out {} ({} attack)",
        outcome.training_seconds,
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
