//! `netcap query`: goQuery-style top-talker tables over Connection records.

use crate::{EXIT_DAMAGED_INPUT, split_list};
use anyhow::{Context, anyhow, bail};
use clap::Args;
use netcap_query::render::{self, Summary};
use netcap_query::{Attribute, Condition, Query, SortBy, parse_time};
use netcap_records::RecordReader;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// goQuery shows 1000 rows unless told otherwise.
const DEFAULT_LIMIT: usize = 1000;

#[derive(Args)]
#[command(after_help = "Examples:\n  \
    netcap query -read records/Connection.ncap.zst sip,dip\n  \
    netcap query -dir records -group dport,proto -where 'dport < 1024 and not sip = 10.0.0.0/8' -n 10\n  \
    netcap query -dir records -c 'host = 192.0.2.7 | app = tls' -f '2016-02-25 19:00' -l -1h -json sip\n\n\
    Attributes: sip, dip, sport, dport, proto, app; presets talk_conv (sip,dip), talk_src, talk_dst,\n\
    apps_port (dport,proto), agg_talk_port (sip,dip,dport,proto), raw (all).\n\
    \"out\" is what the client (sip) sent, \"in\" what it received. docs/query.md has the condition grammar.")]
pub struct QueryArgs {
    /// Attributes to group by, comma-separated (as goQuery's positional argument)
    #[arg(value_name = "ATTRIBUTES")]
    attributes: Vec<String>,
    /// Connection record file; a directory reads every *.ncap.zst in it holding Connection records;
    /// - for stdin; repeat for more
    #[arg(long, value_name = "PATH")]
    read: Vec<PathBuf>,
    /// Directory of record files (every *.ncap.zst in it holding Connection records); repeatable
    #[arg(long, short = 'd', value_name = "DIR")]
    dir: Vec<PathBuf>,
    /// Attributes to group by, comma-separated [default: sip,dip]
    #[arg(long, value_name = "ATTRIBUTES")]
    group: Vec<String>,
    /// Condition, e.g. 'dport = 443 and not sip = 10.0.0.0/8'
    #[arg(long = "where", short = 'c', visible_alias = "condition", value_name = "CONDITION")]
    condition: Option<String>,
    /// Only connections active at or after this time (Unix seconds, RFC 3339, '2016-02-25 19:29', -1h, ...)
    #[arg(long, short = 'f', value_name = "TIME", allow_hyphen_values = true)]
    first: Option<String>,
    /// Only connections active at or before this time
    #[arg(long, short = 'l', value_name = "TIME", allow_hyphen_values = true)]
    last: Option<String>,
    /// Rank by bytes, packets or connections (sent and received)
    #[arg(long, short = 's', value_name = "BY", default_value = "bytes")]
    sort: String,
    /// Smallest first
    #[arg(long, short = 'a', num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    ascending: Option<bool>,
    /// Rows to show (0: all)
    #[arg(long, short = 'n', value_name = "N", default_value_t = DEFAULT_LIMIT)]
    limit: usize,
    /// Output format: table, csv or json
    #[arg(long, short = 'e', value_name = "FORMAT")]
    format: Option<String>,
    /// Comma-separated values with a header line
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    csv: Option<bool>,
    /// One JSON document
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    json: Option<bool>,
    /// goQuery's aligned table with totals (the default)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    table: Option<bool>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Json,
}

pub fn run(args: QueryArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let format = format(&args)?;
    let query = query(&args)?;
    let mut inputs: Vec<PathBuf> = args.read.clone();
    inputs.extend(args.dir.iter().cloned());
    if inputs.is_empty() {
        crate::usage_bail!("give Connection record files with -read or a directory with -dir");
    }
    let stdin = inputs.iter().any(|p| p.as_os_str() == "-");
    let (result, source) = if stdin {
        if inputs.len() > 1 {
            crate::usage_bail!("-read - (stdin) cannot be combined with other inputs");
        }
        let reader = RecordReader::new("-", io::stdin().lock())?;
        (netcap_query::run_readers(vec![("-".to_string(), reader)], &query)?, "stdin".to_string())
    } else {
        let files = netcap_query::collect_inputs(&inputs)?;
        let source = match files.as_slice() {
            [one] => one.display().to_string(),
            _ => {
                let given: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
                format!("{} ({} files)", given.join(", "), files.len())
            }
        };
        (netcap_query::run(&files, &query)?, source)
    };
    for warning in &result.warnings {
        eprintln!("netcap: warning: {warning}");
    }
    let summary =
        Summary { query: &query, condition: args.condition.as_deref(), source: &source, elapsed: started.elapsed() };
    let mut stdout = io::stdout().lock();
    let written = match format {
        Format::Table => render::table(&result, &summary, &mut stdout),
        Format::Csv => render::csv(&result, &mut stdout),
        Format::Json => render::json(&result, &summary, &mut stdout),
    }
    .and_then(|()| stdout.flush());
    match written {
        Ok(()) => {}
        // The reader of our output went away (`netcap query ... | head`).
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        Err(e) => return Err(e).context("writing the result"),
    }
    Ok(if result.warnings.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(EXIT_DAMAGED_INPUT) })
}

fn format(args: &QueryArgs) -> anyhow::Result<Format> {
    let mut chosen: Vec<Format> = [(args.csv, Format::Csv), (args.json, Format::Json), (args.table, Format::Table)]
        .into_iter()
        .filter(|(flag, _)| flag.unwrap_or(false))
        .map(|(_, format)| format)
        .collect();
    if let Some(name) = &args.format {
        chosen.push(match name.to_ascii_lowercase().as_str() {
            "table" | "txt" | "text" => Format::Table,
            "csv" => Format::Csv,
            "json" => Format::Json,
            other => bail!("-format takes table, csv or json, not {other:?}"),
        });
    }
    chosen.dedup();
    match chosen.as_slice() {
        [] => Ok(Format::Table),
        [one] => Ok(*one),
        _ => crate::usage_bail!("choose one of -table, -csv and -json"),
    }
}

fn query(args: &QueryArgs) -> anyhow::Result<Query> {
    let mut lists: Vec<String> = split_list(&args.group).map(str::to_string).collect();
    lists.extend(split_list(&args.attributes).map(str::to_string));
    let group = if lists.is_empty() {
        vec![Attribute::Sip, Attribute::Dip]
    } else {
        Attribute::parse_list(&lists.join(",")).context("attributes")?
    };
    let condition = match &args.condition {
        Some(text) => Some(
            Condition::parse(text)
                .map_err(|e| anyhow!("invalid condition: {e}\n  {}", e.pointer(text).replace('\n', "\n  ")))?,
        ),
        None => None,
    };
    let now_ns = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64);
    let time = |flag: &str, value: &Option<String>| -> anyhow::Result<Option<i64>> {
        value.as_deref().map(|v| parse_time(v, now_ns).with_context(|| format!("-{flag}"))).transpose()
    };
    let first_ns = time("first", &args.first)?;
    let last_ns = time("last", &args.last)?;
    if let (Some(first), Some(last)) = (first_ns, last_ns)
        && first > last
    {
        bail!("-first is after -last");
    }
    let sort = SortBy::parse(&args.sort)
        .ok_or_else(|| anyhow!("-sort takes bytes, packets or connections, not {:?}", args.sort))?;
    Ok(Query {
        group,
        condition,
        first_ns,
        last_ns,
        sort,
        ascending: args.ascending.unwrap_or(false),
        limit: (args.limit > 0).then_some(args.limit),
    })
}
