//! `netcap dump`: print a record file in a human or machine format.

use crate::{EXIT_DAMAGED_INPUT, split_list};
use anyhow::{Context, bail};
use clap::Args;
use netcap_dump::{DumpError, DumpOptions, Format, Naming};
use netcap_records::RecordReader;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct DumpArgs {
    /// Record file to read (<Type>.ncap.zst); - for stdin
    #[arg(long, value_name = "FILE")]
    read: PathBuf,
    /// Comma-separated values with a header line
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    csv: Option<bool>,
    /// Tab-separated values with a header line
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    tsv: Option<bool>,
    /// One JSON object per line (protobuf field names)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    json: Option<bool>,
    /// Aligned columns
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    table: Option<bool>,
    /// List the record type's fields (columns) and exit
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    fields: Option<bool>,
    /// Print only these fields, in this order (comma-separated)
    #[arg(long, value_name = "FIELDS")]
    select: Vec<String>,
    /// Print the file's header and exit
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    header: Option<bool>,
    /// Field separator for -csv and -tsv (one character; \t for tab)
    #[arg(long, value_name = "CHAR")]
    sep: Option<String>,
    /// Codes and enum values as numbers (DNS type 1, not A; TLS cipher 4865,
    /// not TLS_AES_128_GCM_SHA256; termination reason 1, not FIN)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    numeric: Option<bool>,
    /// With -table and no -select: every column, not the record type's
    /// default set that fits the terminal
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    all: Option<bool>,
    /// Print a Connection file's flow features as CSV instead of its fields:
    /// netwatcher (NetWatcher's 36 model inputs, after the connection's
    /// timestamp, frame, endpoints and community ID; docs/detect.md)
    #[arg(long, value_name = "SET")]
    features: Option<String>,
}

pub fn run(args: DumpArgs) -> anyhow::Result<ExitCode> {
    let options = options(&args)?;
    let name = args.read.display().to_string();
    let input: Box<dyn Read> = if name == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(&args.read).with_context(|| name.clone())?)
    };
    let reader = match RecordReader::new(name.clone(), input) {
        Ok(reader) => reader,
        // A damaged or truncated header frame: damaged input.
        Err(e) if e.is_damage() => {
            eprintln!("netcap: error: {e}");
            return Ok(ExitCode::from(EXIT_DAMAGED_INPUT));
        }
        Err(e) => return Err(e.into()),
    };
    let mut stdout = std::io::stdout().lock();
    if let Some(set) = &args.features {
        return dump_features(reader, set, &mut stdout);
    }
    match netcap_dump::dump(reader, &options, &mut stdout) {
        Ok(_) => Ok(ExitCode::SUCCESS),
        // The reader of our output went away (`netcap dump ... | head`).
        Err(e) if e.is_broken_pipe() => Ok(ExitCode::SUCCESS),
        Err(DumpError::Read(e)) => {
            eprintln!("netcap: warning: {e}");
            Ok(ExitCode::from(EXIT_DAMAGED_INPUT))
        }
        // Damaged frames were skipped: every other record was printed.
        Err(DumpError::Damaged { errors, more }) => {
            for e in errors {
                eprintln!("netcap: warning: {e}");
            }
            if more > 0 {
                eprintln!("netcap: warning: {name}: {more} more damaged frames");
            }
            Ok(ExitCode::from(EXIT_DAMAGED_INPUT))
        }
        Err(e @ DumpError::Decode { .. }) => {
            eprintln!("netcap: warning: {name}: {e}");
            Ok(ExitCode::from(EXIT_DAMAGED_INPUT))
        }
        Err(e) => Err(e).with_context(|| name),
    }
}

fn options(args: &DumpArgs) -> anyhow::Result<DumpOptions> {
    let chosen: Vec<Format> =
        [(args.csv, Format::Csv), (args.tsv, Format::Tsv), (args.json, Format::Json), (args.table, Format::Table)]
            .into_iter()
            .filter(|(flag, _)| flag.unwrap_or(false))
            .map(|(_, format)| format)
            .collect();
    let format = match chosen.as_slice() {
        [] => Format::Text,
        [one] => *one,
        _ => crate::usage_bail!("choose one of -csv, -tsv, -json and -table"),
    };
    let separator = match args.sep.as_deref() {
        None => None,
        Some("\\t") => Some(b'\t'),
        Some(s) if s.len() == 1 => Some(s.as_bytes()[0]),
        Some(s) => bail!("-sep takes one ASCII character, not {s:?}"),
    };
    let select: Vec<String> = split_list(&args.select).map(str::to_string).collect();
    Ok(DumpOptions {
        format,
        select: (!select.is_empty()).then_some(select),
        separator,
        list_fields: args.fields.unwrap_or(false),
        header_only: args.header.unwrap_or(false),
        naming: if args.numeric.unwrap_or(false) { Naming::Numeric } else { Naming::Names },
        all_columns: args.all.unwrap_or(false),
        width: table_width(),
    })
}

/// The width a table may take: the terminal's, else `COLUMNS` if set, else
/// no limit (output into a file or pipe keeps every default column).
fn table_width() -> Option<usize> {
    if let Some((terminal_size::Width(width), _)) = terminal_size::terminal_size_of(std::io::stdout()) {
        return Some(usize::from(width));
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|w| *w > 0)
}

/// Columns `dump -features` prints before the features.
const FEATURE_KEY_COLUMNS: &str = "timestamp_ns,frame,src_ip,src_port,dst_ip,dst_port,ip_protocol,community_id";

/// `dump -features netwatcher`: one CSV line of NetWatcher features per
/// Connection record.
fn dump_features(
    mut reader: RecordReader<Box<dyn Read>>,
    set: &str,
    out: &mut dyn std::io::Write,
) -> anyhow::Result<ExitCode> {
    use netcap_records::{Connection, RecordType};
    if !set.eq_ignore_ascii_case(netcap_detect::features::FEATURE_SET) {
        bail!("-features takes netwatcher, not {set:?}");
    }
    if reader.record_type() != RecordType::Connection {
        bail!("-features needs a Connection file, not {}", reader.record_type().name());
    }
    let ip = |b: &[u8]| netcap_detect::events::ip_from_bytes(b).map(|a| a.to_string()).unwrap_or_default();
    let mut print = || -> std::io::Result<ExitCode> {
        writeln!(out, "{FEATURE_KEY_COLUMNS},{}", netcap_detect::features::csv_header())?;
        let mut line = String::new();
        let mut damaged = false;
        loop {
            match reader.next::<Connection>() {
                Ok(Some(c)) => {
                    netcap_detect::features::csv_line(&netcap_detect::netwatcher_features(&c), &mut line);
                    writeln!(
                        out,
                        "{},{},{},{},{},{},{},{},{line}",
                        c.timestamp_ns,
                        c.frame,
                        ip(&c.src_ip),
                        c.src_port,
                        ip(&c.dst_ip),
                        c.dst_port,
                        c.ip_protocol,
                        c.community_id
                    )?;
                }
                Ok(None) => break,
                // The reader goes on after a damaged frame and ends after
                // any other error.
                Err(e) => {
                    eprintln!("netcap: warning: {e}");
                    damaged = true;
                }
            }
        }
        out.flush()?;
        Ok(if damaged { ExitCode::from(EXIT_DAMAGED_INPUT) } else { ExitCode::SUCCESS })
    };
    match print() {
        Ok(code) => Ok(code),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}
