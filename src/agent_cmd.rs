//! `netcap agent`: capture and ship record batches to a collector (mutual
//! TLS) or to NATS JetStream.

use crate::capture_cmd::{
    AnalysisArgs, DEFAULT_COMPRESSION_LEVEL, LiveArgs, capture_config, print_summary, run_with_progress,
    stop_on_signals,
};
use crate::size::parse_size;
use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use netcap_agent::{AgentSink, MEMORY_QUEUE, Queue, Target};
use netcap_capture::Input;
use netcap_wire::tls::TlsFiles;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

/// The capture flags (`netcap capture`'s, but -out and -metrics) and where
/// to send the records.
#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["read", "iface"])))]
pub struct AgentArgs {
    /// Capture file to read (pcap or pcapng, detected by content); - for stdin
    #[arg(long, value_name = "FILE")]
    read: Option<PathBuf>,
    /// Network interface to capture from live (libpcap)
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    #[command(flatten)]
    analysis: AnalysisArgs,
    /// Include payload bytes in records
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    payload: Option<bool>,
    #[command(flatten)]
    live: LiveArgs,
    /// zstd compression level of the record batches (-7 to 19; negative levels are faster)
    #[arg(long, value_name = "LEVEL", default_value_t = DEFAULT_COMPRESSION_LEVEL,
          value_parser = clap::value_parser!(i32).range(-7..=19))]
    compression: i32,
    /// No progress bar and no summary
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    quiet: Option<bool>,
    /// Collector address, HOST:PORT
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "nats", conflicts_with = "nats")]
    addr: Option<String>,
    /// Name the collector's certificate must carry [default: the host of -addr]
    #[arg(long, value_name = "NAME")]
    server_name: Option<String>,
    /// Directory with ca.pem and this agent's <name>.pem/<name>.key (as made by collect -gen-certs)
    #[arg(long, value_name = "DIR")]
    certs: Option<PathBuf>,
    /// CA certificate the collector's certificate must chain to [default: DIR/ca.pem]
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// This agent's certificate; its common name is the agent's identity
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// This agent's private key
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Agent name: picks <name>.pem/<name>.key in -certs, and names the agent in NATS subjects
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Publish to NATS JetStream at URL instead of a collector (subjects netcap.<agent>.<Type>)
    #[arg(long, value_name = "URL")]
    nats: Option<String>,
    /// Spool batches here while the collector is unreachable (kept across restarts)
    #[arg(long, value_name = "DIR")]
    spool_dir: Option<PathBuf>,
    /// Largest spool size, e.g. 512MB, 2GiB
    #[arg(long, value_name = "SIZE", default_value = "1GiB")]
    spool_max: String,
    /// Send at most this many records per second (replay pace; 0 = as fast as possible)
    #[arg(long, value_name = "RECORDS", default_value_t = 0)]
    rate: u64,
    /// Testing: unacknowledged bytes kept in memory before the spool is used [default: 64MiB]
    #[arg(long, value_name = "SIZE", hide = true)]
    memory_max: Option<String>,
    /// Testing: a full spool drops batches as with -iface, instead of pausing the reading of -read
    #[arg(long, hide = true)]
    drop_when_full: bool,
}

fn tls_files(args: &AgentArgs) -> anyhow::Result<TlsFiles> {
    let from_dir = |file: &str| args.certs.as_ref().map(|d| d.join(file));
    let name = args.name.as_deref();
    let cert = args.cert.clone().or_else(|| name.and_then(|n| from_dir(&format!("{n}.pem"))));
    let key = args.key.clone().or_else(|| name.and_then(|n| from_dir(&format!("{n}.key"))));
    let ca = args.ca.clone().or_else(|| from_dir("ca.pem"));
    match (ca, cert, key) {
        (Some(ca), Some(cert), Some(key)) => Ok(TlsFiles { ca, cert, key }),
        _ => crate::usage_bail!("the agent needs its certificate: -certs DIR -name NAME, or -ca, -cert and -key"),
    }
}

pub fn run(args: AgentArgs) -> anyhow::Result<ExitCode> {
    // The output directory is not used: records go to the sink.
    let config = capture_config(
        args.read.as_deref(),
        args.iface.as_deref(),
        &args.live,
        &args.analysis,
        args.payload,
        args.compression,
    )?;
    let quiet = args.quiet.unwrap_or(false);
    let target = match (&args.nats, &args.addr) {
        (Some(url), _) => {
            let agent = match (&args.name, &args.cert) {
                (Some(name), _) => name.clone(),
                (None, Some(cert)) => netcap_wire::tls::file_identity(cert)?,
                (None, None) => crate::usage_bail!("-nats needs -name or -cert to name the agent"),
            };
            if !netcap_wire::valid_agent_name(&agent) {
                bail!("invalid agent name {agent:?}");
            }
            Target::Nats { url: url.clone(), agent }
        }
        (None, Some(addr)) => {
            let tls = tls_files(&args)?;
            netcap_wire::tls::client_config(&tls)?;
            let host = addr.rsplit_once(':').map_or(addr.as_str(), |(h, _)| h).trim_matches(['[', ']']);
            Target::Collector {
                addr: addr.clone(),
                server_name: args.server_name.clone().unwrap_or_else(|| host.to_string()),
                tls,
            }
        }
        (None, None) => crate::usage_bail!("one of -addr or -nats is required"),
    };
    let spool_max = parse_size(&args.spool_max).context("-spool-max")?;
    let memory_max = match &args.memory_max {
        Some(size) => parse_size(size).context("-memory-max")?,
        None => MEMORY_QUEUE,
    };
    // A file can wait for the collector; a live interface cannot.
    let block_when_full = !matches!(config.input, Input::Live(_)) && !args.drop_when_full;
    let queue =
        Arc::new(Queue::new(memory_max, args.spool_dir.as_deref().map(|dir| (dir, spool_max)), block_when_full)?);
    let stop = stop_on_signals()?;
    let mut sink = AgentSink::new(queue.clone(), args.rate).map_err(|e| anyhow::anyhow!("random session id: {e}"))?;

    let (summary, sent) = std::thread::scope(|scope| {
        let sender = scope.spawn(|| {
            let result = netcap_agent::run_sender(&target, queue.clone(), stop.clone());
            // The sender has stopped (signal, or failure): a capture paused
            // on a full queue must not wait for it any more.
            if result.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            queue.close();
            result
        });
        let summary =
            run_with_progress(quiet, |progress| netcap_capture::run_with_sink(&config, &mut sink, progress, &stop));
        // The capture is over (or failed): let the sender finish.
        queue.close();
        if summary.is_ok() && queue.pending() && !stop.load(Ordering::Relaxed) {
            eprintln!("netcap agent: end of input; waiting until the collector has acknowledged every batch");
        }
        (summary, sender.join())
    });
    let summary = summary?;
    match sent {
        Ok(result) => result.map_err(|e| anyhow::anyhow!(e))?,
        Err(_) => bail!("the sender thread panicked"),
    }
    let (kept, lost) = queue.persist();
    let stats = queue.stats();
    if !quiet {
        print_summary(&config, &summary, stop.load(Ordering::Relaxed));
        eprintln!(
            "  session {}: {} batches made, {} records acknowledged by the collector in {} batches",
            netcap_wire::session_hex(&sink.session()),
            stats.queued_batches,
            stats.acked_records,
            stats.acked_batches,
        );
    }
    if stats.rejected_batches > 0 {
        eprintln!("netcap agent: WARNING: the collector rejected {} batches", stats.rejected_batches);
    }
    let left = queue.spooled_bytes();
    if left > 0 {
        eprintln!(
            "netcap agent: {left} bytes of unacknowledged batches left in the spool for the next run ({kept} batches just written from memory)"
        );
    }
    if stats.dropped_batches > 0 || lost > 0 {
        eprintln!(
            "netcap agent: WARNING: {} batches ({} records) were DROPPED because the queue was full, {lost} unacknowledged batches lost at exit",
            stats.dropped_batches, stats.dropped_records
        );
        return Ok(ExitCode::from(crate::EXIT_FAILURE));
    }
    if let Some(damage) = &summary.input_error {
        eprintln!("netcap: warning: {damage}");
        return Ok(ExitCode::from(crate::EXIT_DAMAGED_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}
