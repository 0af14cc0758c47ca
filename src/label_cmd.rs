//! `netcap label`: labelled tables from record files and ground truth.

use crate::EXIT_DAMAGED_INPUT;
use anyhow::{anyhow, bail};
use clap::Args;
use netcap_label::time::{parse_duration, parse_zone};
use netcap_label::{JoinOptions, LabelBy, Options};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
#[command(
    group = clap::ArgGroup::new("truth").required(true).multiple(true).args(["eve", "fast", "attacks"]),
    after_help = "Examples:\n  \
    netcap label -dir records -out labelled -eve eve.json\n  \
    netcap label -dir records -out labelled -eve eve.json -attacks schedule.yaml -parquet\n  \
    netcap label -dir records -out labelled -fast fast.log -tz Europe/Berlin -slack 2s -attempted\n\n\
    Matching: an alert joins a Connection (or Flow) record by community ID, else by protocol and\n\
    endpoints in either orientation, and its time must lie within the connection's first and last\n\
    packet widened by -slack. An attack window joins connections overlapping it in time between an\n\
    attacker and a victim (either direction), with a victim on either side if all_victim_traffic, or\n\
    with an ips address on either side; protocol and ports are enforced where given. Other record\n\
    types take the label of their connection (community ID or endpoints, and time); records without\n\
    addresses the label of their frame.\n\n\
    Precedence: alerts before windows (-prefer attacks: windows first); the most severe alert (lowest\n\
    severity), then the earliest; windows by start. Every match is listed in label_detail.\n\n\
    Times: eve.json and YAML schedules need explicit zones (offsets, [Zone], Unix seconds, or the\n\
    schedule's timezone:); fast.log is read in -tz, else UTC; flow label files (.csv) need -tz.\n\n\
    Writes OUT/<Type>_labeled.csv (dump's CSV columns plus label, label_source, label_detail) for every\n\
    record type in DIR, in record order, and OUT/label-summary.json (records per label, unmatched\n\
    alerts, windows without traffic, conflicts). Input errors name the file and line; nothing is\n\
    written then. Exit status 3: a record file is damaged (every readable record was labelled).\n\
    docs/label.md has the rules, formats and a worked example."
)]
pub struct LabelArgs {
    /// Directory of record files (*.ncap.zst), as netcap capture -out writes them
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Output directory (created if missing)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Suricata eve.json (alert events; flow events give community IDs); repeatable
    #[arg(long, value_name = "FILE")]
    eve: Vec<PathBuf>,
    /// Suricata fast.log (times in UTC unless -tz); repeatable
    #[arg(long, value_name = "FILE")]
    fast: Vec<PathBuf>,
    /// Attack schedule: YAML, or a CIC-IDS-style flow label file (.csv, needs -tz); repeatable
    #[arg(long, value_name = "FILE")]
    attacks: Vec<PathBuf>,
    /// How far an alert may lie outside its connection's first and last packet
    #[arg(long, value_name = "DURATION", default_value = "1s")]
    slack: String,
    /// Zone of times written without one (fast.log, flow label files): IANA name or offset
    #[arg(long, value_name = "ZONE")]
    tz: Option<String>,
    /// Which ground truth wins when both match: alerts or attacks
    #[arg(long, value_name = "SOURCE", default_value = "alerts")]
    prefer: String,
    /// Label of records that match nothing
    #[arg(long, value_name = "LABEL", default_value = "normal")]
    normal: String,
    /// Label attack connections without payload or completed handshake '<label> - Attempted'
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    attempted: Option<bool>,
    /// Label text: category (alert classtype, attack category) or name (signature, attack name)
    #[arg(long = "label-by", value_name = "WHAT", default_value = "category")]
    label_by: String,
    /// Write OUT/<Type>_labeled.parquet instead of CSV
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    parquet: Option<bool>,
    /// Labelling threads [default: the number of cores]
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// No summary on stderr
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    quiet: Option<bool>,
}

pub fn run(args: LabelArgs) -> anyhow::Result<ExitCode> {
    let slack_ns = parse_duration(&args.slack).map_err(|e| anyhow!("-slack: {e}"))?;
    let zone = args.tz.as_deref().map(parse_zone).transpose().map_err(|e| anyhow!("-tz: {e}"))?;
    let prefer_attacks = match args.prefer.to_ascii_lowercase().as_str() {
        "alerts" | "alert" | "eve" | "fast" => false,
        "attacks" | "attack" | "schedule" => true,
        other => bail!("-prefer takes alerts or attacks, not {other:?}"),
    };
    let label_by = match args.label_by.to_ascii_lowercase().as_str() {
        "category" => LabelBy::Category,
        "name" => LabelBy::Name,
        other => bail!("-label-by takes category or name, not {other:?}"),
    };
    if let Some(workers) = args.workers {
        crate::capture_cmd::check_workers(workers)?;
    }
    let defaults = Options::default();
    let options = Options {
        dir: args.dir,
        out: args.out,
        eve: args.eve,
        fast: args.fast,
        attacks: args.attacks,
        zone,
        join: JoinOptions { slack_ns, prefer_attacks, label_by, attempted: args.attempted.unwrap_or(false) },
        normal: args.normal,
        parquet: args.parquet.unwrap_or(false),
        workers: args.workers.unwrap_or(defaults.workers),
    };
    let outcome = netcap_label::label(&options)?;
    if !args.quiet.unwrap_or(false) {
        eprint!("{}", outcome.summary_text);
        eprintln!("wrote {} files to {}", outcome.written.len(), options.out.display());
    }
    if outcome.damaged {
        for warning in &outcome.summary.damaged {
            eprintln!("netcap: warning: {warning}");
        }
        return Ok(ExitCode::from(EXIT_DAMAGED_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}
