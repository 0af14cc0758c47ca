//! `netcap dump`: placeholder until the dump crate lands in this session.
use clap::Args;
use std::process::ExitCode;
#[derive(Args)]
pub struct DumpArgs {
    /// Record file to read; - for stdin
    #[arg(long, value_name = "FILE")]
    read: std::path::PathBuf,
    /// CSV
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    csv: Option<bool>,
    /// JSON
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    json: Option<bool>,
}
pub fn run(_args: DumpArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not yet")
}
