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
    netcap detect -read other.pcap -model model.json\n\n\
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
    #[arg(long, value_name = "SCORE", default_value_t = 0.5)]
    threshold: f64,
}

pub fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if args.max_depth == 0 || args.max_features == 0 || !(1..=36).contains(&args.max_features) {
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
        threshold: args.threshold,
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
