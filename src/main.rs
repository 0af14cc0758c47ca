//! netcap: network traffic in, typed audit records out.
//!
//! A thin binary over the library crates: it parses flags (Go style and GNU
//! style), wires signals and progress, and maps outcomes to exit codes.

mod agent_cmd;
mod capture_cmd;
mod collect_cmd;
mod detect_cmd;
mod dump_cmd;
mod export_cmd;
mod goflags;
mod label_cmd;
mod query_cmd;
mod size;
mod spot_args;
mod train_cmd;
mod util_cmd;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Exit status when the job could not be done: a flag value that is not
/// valid (out of range, of the wrong form, or refused by the command), an
/// input that cannot be read, an output that cannot be written.
const EXIT_FAILURE: u8 = 1;
/// Exit status of a usage error: an unknown flag or subcommand, a missing
/// required flag, flags that exclude each other (clap's own status).
const EXIT_USAGE: u8 = 2;
/// Exit status when the input was damaged (truncated or corrupt): every
/// complete packet or record before the damage was processed.
const EXIT_DAMAGED_INPUT: u8 = 3;

/// A usage error found after parsing: flags that exclude or need each
/// other. Exits with [`EXIT_USAGE`], as clap's own usage errors do.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Returns early with a [`UsageError`] (`bail!` for flag combinations).
#[macro_export]
macro_rules! usage_bail {
    ($($arg:tt)*) => {
        return Err(anyhow::Error::new($crate::UsageError(format!($($arg)*))))
    };
}

/// Producer name and version written into every record file's header.
pub fn producer() -> String {
    format!("netcap {}", env!("NETCAP_VERSION"))
}

#[derive(Parser)]
#[command(
    name = "netcap",
    version = env!("NETCAP_VERSION"),
    about = "Turns network traffic into typed, structured audit records",
    long_about = "Turns network traffic into typed, structured audit records.\n\n\
        Flags work in Go style (-read x -csv, -csv=false) and GNU style (--read x --csv).",
    args_override_self = true,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decode packets from a capture file or an interface into record files
    Capture(capture_cmd::CaptureArgs),
    /// Print the records of a record file as text, CSV, TSV, JSON or a table
    Dump(dump_cmd::DumpArgs),
    /// Capture and stream record batches to a collector (mutual TLS) or NATS JetStream
    Agent(Box<agent_cmd::AgentArgs>),
    /// Receive agents' batches and write rotated record files (or NATS JetStream); -gen-certs makes certificates
    Collect(collect_cmd::CollectArgs),
    /// Top talkers: group Connection records, filter with conditions, rank by bytes or packets
    Query(query_cmd::QueryArgs),
    /// Serve Prometheus metrics of a live capture, a capture file or record files
    Export(export_cmd::ExportArgs),
    /// Label records with ground truth (Suricata eve.json, fast.log, attack schedules) into CSV or Parquet tables
    Label(label_cmd::LabelArgs),
    /// Train a flow model (random forest) on the labelled Connection table of netcap label
    Train(train_cmd::TrainArgs),
    /// Score every connection of a capture file, an interface or record files with a flow model
    Detect(Box<detect_cmd::DetectArgs>),
    /// Check record files (-check), convert timestamps (-ts2utc), list record types (-types) and interfaces (-interfaces)
    Util(util_cmd::UtilArgs),
}

fn main() -> ExitCode {
    // Errors made with anyhow capture a backtrace when RUST_BACKTRACE is
    // set, unless RUST_LIB_BACKTRACE says otherwise. netcap never prints
    // them (errors are shown as their chain of messages), and a library on
    // the hot path pays for them: tract makes and drops an error at every
    // leaf of an ONNX tree ensemble, so with RUST_BACKTRACE=1 scoring took
    // six times the CPU (docs/detect.md, "Speed"). Panics keep their
    // backtraces (RUST_BACKTRACE).
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first statement of main, before any thread starts, so
        // nothing reads the environment concurrently.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
    let args = goflags::rewrite(&Cli::command(), spot_args::rewrite(std::env::args_os().collect()));
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => return parse_error(&e),
    };
    let result = match cli.command {
        Command::Capture(args) => capture_cmd::run(args),
        Command::Dump(args) => dump_cmd::run(args),
        Command::Agent(args) => agent_cmd::run(*args),
        Command::Collect(args) => collect_cmd::run(args),
        Command::Query(args) => query_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Label(args) => label_cmd::run(args),
        Command::Train(args) => train_cmd::run(args),
        Command::Detect(args) => detect_cmd::run(*args),
        Command::Util(args) => util_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netcap: error: {}", error_chain(&e));
            if e.is::<UsageError>() {
                eprintln!("\nFor more information, try '--help'.");
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}

/// Prints a command-line parse error (or help or version, which clap reports
/// as errors) and returns its exit status: 0 for help and version,
/// [`EXIT_FAILURE`] for a flag value that is not valid, [`EXIT_USAGE`] for
/// everything else (`netcap` without a subcommand too) (docs: README's "Exit status").
fn parse_error(e: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    // Printing fails only when stderr or stdout is gone; nothing to report to.
    let _ = e.print();
    match e.kind() {
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::InvalidUtf8 => ExitCode::from(EXIT_FAILURE),
        // -help and -version (printed to stdout).
        _ if !e.use_stderr() => ExitCode::SUCCESS,
        _ => ExitCode::from(EXIT_USAGE),
    }
}

/// An error and its causes joined by `: `, leaving out a cause whose text
/// its wrapper already shows (many error types print their source in their
/// own message, so `{:#}` would print an OS error twice).
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if part.is_empty() || text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}

/// Splits comma-separated list values (`-include TCP,UDP -include DNS`).
fn split_list(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty())
}
