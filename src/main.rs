//! netcap: network traffic in, typed audit records out.
//!
//! A thin binary over the library crates: it parses flags (Go style and GNU
//! style), wires signals and progress, and maps outcomes to exit codes.

mod agent_cmd;
mod capture_cmd;
mod collect_cmd;
mod dump_cmd;
mod export_cmd;
mod goflags;
mod label_cmd;
mod query_cmd;
mod size;
mod spot_args;
mod util_cmd;

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

/// Exit status when the job could not be done (bad input file, bad flags
/// value, unwritable output).
const EXIT_FAILURE: u8 = 1;
/// Exit status when the input was damaged (truncated or corrupt): every
/// complete packet or record before the damage was processed.
const EXIT_DAMAGED_INPUT: u8 = 3;

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
    /// Check record files (-check), convert timestamps (-ts2utc), list record types (-types) and interfaces (-interfaces)
    Util(util_cmd::UtilArgs),
}

fn main() -> ExitCode {
    let args = goflags::rewrite(&Cli::command(), spot_args::rewrite(std::env::args_os().collect()));
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Capture(args) => capture_cmd::run(args),
        Command::Dump(args) => dump_cmd::run(args),
        Command::Agent(args) => agent_cmd::run(*args),
        Command::Collect(args) => collect_cmd::run(args),
        Command::Query(args) => query_cmd::run(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Label(args) => label_cmd::run(args),
        Command::Util(args) => util_cmd::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("netcap: error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Splits comma-separated list values (`-include TCP,UDP -include DNS`).
fn split_list(values: &[String]) -> impl Iterator<Item = &str> {
    values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|s| !s.is_empty())
}
