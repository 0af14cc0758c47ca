//! `netcap util`: checks of record files, timestamp conversion, the list of
//! record types and of capture interfaces (Netcap's `util` tool).

use crate::EXIT_DAMAGED_INPUT;
use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use netcap_records::{FILE_EXTENSION, ReadError, RecordReader, RecordType, civil};
use prost_reflect::{DynamicMessage, Value};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Args)]
#[command(group(ArgGroup::new("action").required(true).args(["check", "ts2utc", "types", "interfaces"])))]
#[command(after_help = "Examples:\n  \
    netcap util -check records/            verify every record file under records/\n  \
    netcap util -ts2utc 1368328666543210123 \n  \
    netcap util -ts2utc 1368328666.543210\n  \
    netcap util -types\n\n\
    -check exits with status 3 if a file is damaged or truncated, 1 if one cannot be read at all.")]
pub struct UtilArgs {
    /// Verify record files: a file, or every *.ncap.zst under a directory (header, every frame's
    /// checksums, every record decodes as its type); prints counts and the first and last timestamp
    #[arg(long, value_name = "FILE|DIR")]
    check: Option<PathBuf>,
    /// Print a timestamp as UTC RFC 3339: nanoseconds since 1970 (an integer of 13 digits or more,
    /// as in timestamp_ns), or seconds with an optional fraction (1368328666.543210)
    #[arg(long, value_name = "TS", allow_hyphen_values = true)]
    ts2utc: Option<String>,
    /// List every record type by layer, with its field count and description
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    types: Option<bool>,
    /// List the interfaces a live capture (-iface) can use
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    interfaces: Option<bool>,
}

pub fn run(args: UtilArgs) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    if let Some(path) = &args.check {
        return check(path, &mut out);
    }
    if let Some(ts) = &args.ts2utc {
        let ns = parse_timestamp(ts)?;
        writeln!(out, "{}", rfc3339(ns))?;
    } else if args.types.unwrap_or(false) {
        write_types(&mut out)?;
    } else if args.interfaces.unwrap_or(false) {
        write_interfaces(&mut out)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Timestamps netcap writes: nanoseconds since 1970 (`timestamp_ns`) or
/// seconds with a fraction. An integer of 13 digits or more is taken for
/// nanoseconds (seconds that large are past the year 33000).
fn parse_timestamp(text: &str) -> anyhow::Result<i128> {
    let text = text.trim();
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
        bail!("{text:?} is not a timestamp (nanoseconds since 1970, or seconds.fraction)");
    }
    if fraction.len() > 9 {
        bail!("{text:?}: more than nine fraction digits (nanoseconds are the finest unit)");
    }
    let whole_value: i128 = if whole.is_empty() { 0 } else { whole.parse().context("timestamp out of range")? };
    let ns = if digits.contains('.') || whole.len() < 13 {
        let fraction_ns: i128 = format!("{fraction:0<9}").parse().unwrap_or(0);
        whole_value.checked_mul(1_000_000_000).and_then(|s| s.checked_add(fraction_ns))
    } else {
        Some(whole_value)
    };
    let ns = ns.filter(|ns| ns.unsigned_abs() <= i64::MAX as u128).context("timestamp out of range")?;
    Ok(if negative { -ns } else { ns })
}

/// RFC 3339 in UTC with nine fraction digits, as `dump` prints times.
fn rfc3339(ns: i128) -> String {
    let seconds = ns.div_euclid(1_000_000_000) as i64;
    let fraction = ns.rem_euclid(1_000_000_000);
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{fraction:09}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The layer a record type belongs to, from its family's number range
/// (proto/netcap.proto numbers record types by family).
fn layer(record_type: RecordType) -> &'static str {
    match record_type as i32 {
        1..=3 | 20..=29 => "link",
        6 | 7 | 42 => "transport",
        38..=41 => "tunnel",
        4 | 5 | 8 | 9 | 30..=47 => "network",
        10 => "errors",
        11..=19 => "flows",
        92 => "streams",
        70..=149 => "application",
        170..=179 => "detection",
        _ => "statistics",
    }
}

/// Layers in the order of the list.
const LAYERS: [&str; 10] =
    ["link", "network", "tunnel", "transport", "application", "streams", "flows", "statistics", "detection", "errors"];

fn write_types(out: &mut dyn Write) -> std::io::Result<()> {
    let width = RecordType::all().map(|t| t.name().len()).max().unwrap_or(0);
    for layer_name in LAYERS {
        let types: Vec<RecordType> = RecordType::all().filter(|t| layer(*t) == layer_name).collect();
        if types.is_empty() {
            continue;
        }
        writeln!(out, "{layer_name}:")?;
        for t in types {
            let fields = t.descriptor().map_or(0, |d| d.fields().len());
            writeln!(out, "  {:width$}  {fields:3} fields  {}", t.name(), netcap_records::record_description(t))?;
        }
    }
    Ok(())
}

fn write_interfaces(out: &mut dyn Write) -> anyhow::Result<()> {
    let devices = pcap::Device::list().context("listing capture interfaces (libpcap)")?;
    if devices.is_empty() {
        writeln!(out, "no interfaces (capturing may need root or CAP_NET_RAW)")?;
    }
    for device in devices {
        let addresses: Vec<String> = device.addresses.iter().map(|a| a.addr.to_string()).collect();
        let mut flags = Vec::new();
        if device.flags.is_up() {
            flags.push("up");
        }
        if device.flags.is_running() {
            flags.push("running");
        }
        if device.flags.is_loopback() {
            flags.push("loopback");
        }
        write!(out, "{}", device.name)?;
        if let Some(description) = device.desc.as_deref().filter(|d| !d.is_empty()) {
            write!(out, " ({description})")?;
        }
        if !flags.is_empty() {
            write!(out, " [{}]", flags.join(","))?;
        }
        if !addresses.is_empty() {
            write!(out, " {}", addresses.join(" "))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Deepest directory level `-check` descends to.
const MAX_DEPTH: usize = 16;

/// Record files under `dir` (sorted, recursively).
fn record_files(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| dir.display().to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if depth < MAX_DEPTH {
                record_files(&path, depth + 1, files)?;
            }
        } else if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(FILE_EXTENSION)) {
            files.push(path);
        }
    }
    Ok(())
}

/// What checking one file found.
#[derive(Default)]
struct FileCheck {
    records: u64,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
    stats: netcap_records::ReadStats,
    errors: Vec<ReadError>,
}

/// Reads every frame and decodes every record of `path`.
fn check_file(path: &Path) -> Result<(RecordType, FileCheck), ReadError> {
    let mut reader = RecordReader::open(path)?;
    let record_type = reader.record_type();
    let mut found = FileCheck::default();
    let desc = record_type.descriptor().cloned();
    let timestamp = desc.as_ref().and_then(|d| d.get_field_by_name("timestamp_ns"));
    loop {
        let record = match reader.next_raw() {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(e) => {
                let read_on = e.is_recoverable();
                found.errors.push(e);
                if read_on {
                    continue;
                }
                break;
            }
        };
        found.records += 1;
        let Some(desc) = &desc else { continue };
        match DynamicMessage::decode(desc.clone(), record) {
            Ok(message) => {
                if let Some(Value::I64(ns)) = timestamp.as_ref().map(|f| message.get_field(f).into_owned()) {
                    found.first_ns = Some(found.first_ns.map_or(ns, |first| first.min(ns)));
                    found.last_ns = Some(found.last_ns.map_or(ns, |last| last.max(ns)));
                }
            }
            Err(e) => found.errors.push(ReadError::Corrupt {
                file: path.display().to_string(),
                record: found.records,
                frame: 0,
                offset: 0,
                reason: format!("record does not decode as {}: {e}", desc.full_name()),
            }),
        }
    }
    found.stats = reader.stats();
    Ok((record_type, found))
}

fn time_or_dash(ns: Option<i64>) -> String {
    ns.map_or_else(|| "-".to_string(), |ns| rfc3339(i128::from(ns)))
}

/// Totals of one record type over the files checked.
#[derive(Default)]
struct TypeTotals {
    files: u64,
    records: u64,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
}

/// `util -check`: one line per file, the damage found, totals per record
/// type; exit status 3 on damage, 1 if a file cannot be read at all.
fn check(path: &Path, out: &mut dyn Write) -> anyhow::Result<ExitCode> {
    let files = if path.is_dir() {
        let mut files = Vec::new();
        record_files(path, 0, &mut files)?;
        if files.is_empty() {
            bail!("{}: no *{FILE_EXTENSION} files in it", path.display());
        }
        files
    } else {
        vec![path.to_path_buf()]
    };
    let (mut damaged, mut unreadable) = (0usize, 0usize);
    let mut totals: BTreeMap<&'static str, TypeTotals> = BTreeMap::new();
    for file in &files {
        let name = file.display();
        let (record_type, found) = match check_file(file) {
            Ok(checked) => checked,
            Err(e) => {
                writeln!(out, "{name}: {}", if e.is_damage() { "DAMAGED" } else { "FAILED" })?;
                eprintln!("netcap: {e}");
                if e.is_damage() {
                    damaged += 1;
                } else {
                    unreadable += 1;
                }
                continue;
            }
        };
        let stats = found.stats;
        let verdict = if found.errors.is_empty() { "ok" } else { "DAMAGED" };
        let mut checks = format!("{} frames", stats.verified_frames + stats.unverified_frames);
        if stats.checked_frames > 0 || stats.verified_frames > 0 {
            checks.push_str(&format!(
                " ({} with zstd checksum, {} with netcap check frame)",
                stats.verified_frames, stats.checked_frames
            ));
        }
        if stats.damaged_frames > 0 {
            checks.push_str(&format!(", {} damaged", stats.damaged_frames));
        }
        writeln!(
            out,
            "{name}: {verdict}: {} {} records, {checks}, first {} last {}",
            record_type.name(),
            found.records,
            time_or_dash(found.first_ns),
            time_or_dash(found.last_ns)
        )?;
        for e in &found.errors {
            eprintln!("netcap: {e}");
        }
        if !found.errors.is_empty() {
            damaged += 1;
        }
        let total = totals.entry(record_type.name()).or_default();
        total.files += 1;
        total.records += found.records;
        total.first_ns = match (total.first_ns, found.first_ns) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        total.last_ns = match (total.last_ns, found.last_ns) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    if files.len() > 1 {
        writeln!(out)?;
        let width = totals.keys().map(|k| k.len()).max().unwrap_or(4).max(4);
        writeln!(out, "{:width$}  {:>5}  {:>12}  {:30}  last", "type", "files", "records", "first")?;
        for (name, t) in &totals {
            writeln!(
                out,
                "{name:width$}  {:>5}  {:>12}  {:30}  {}",
                t.files,
                t.records,
                time_or_dash(t.first_ns),
                time_or_dash(t.last_ns)
            )?;
        }
    }
    let ok = files.len() - damaged - unreadable;
    writeln!(out, "{} files checked: {ok} ok, {damaged} damaged, {unreadable} unreadable", files.len())?;
    Ok(if unreadable > 0 {
        ExitCode::from(crate::EXIT_FAILURE)
    } else if damaged > 0 {
        ExitCode::from(EXIT_DAMAGED_INPUT)
    } else {
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_form_netcap_writes() {
        assert_eq!(rfc3339(parse_timestamp("1368328666543210123").unwrap()), "2013-05-12T03:17:46.543210123Z");
        assert_eq!(rfc3339(parse_timestamp("1368328666.543210").unwrap()), "2013-05-12T03:17:46.543210000Z");
        assert_eq!(rfc3339(parse_timestamp("1368328666").unwrap()), "2013-05-12T03:17:46.000000000Z");
        assert_eq!(rfc3339(parse_timestamp("0").unwrap()), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc3339(parse_timestamp(".5").unwrap()), "1970-01-01T00:00:00.500000000Z");
        assert_eq!(rfc3339(parse_timestamp("-1.5").unwrap()), "1969-12-31T23:59:58.500000000Z");
        assert_eq!(rfc3339(parse_timestamp("-1").unwrap()), "1969-12-31T23:59:59.000000000Z");
        assert_eq!(rfc3339(i128::from(i64::MAX)), "2262-04-11T23:47:16.854775807Z");
        for bad in ["", ".", "abc", "1.2.3", "1e9", "1.1234567891", "99999999999999999999999", "12:00"] {
            assert!(parse_timestamp(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_record_type_has_a_layer_in_the_list() {
        for t in RecordType::all() {
            assert!(LAYERS.contains(&layer(t)), "{t:?}");
        }
        assert_eq!(layer(RecordType::Tcp), "transport");
        assert_eq!(layer(RecordType::Dns), "application");
        assert_eq!(layer(RecordType::Ethernet), "link");
        assert_eq!(layer(RecordType::Ipv6), "network");
        assert_eq!(layer(RecordType::Spotstat), "statistics");
        assert_eq!(layer(RecordType::Alert), "detection");
    }
}
