//! `netcap export`: Prometheus metrics of a live capture, a capture file or
//! record files, served at http://ADDRESS/metrics (docs/metrics.md).

use crate::EXIT_DAMAGED_INPUT;
use crate::capture_cmd::{
    AnalysisArgs, LiveArgs, check_top_n, parse_duration, parse_listen_address, print_summary, run_with_progress,
    stop_on_signals,
};
use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use netcap_capture::{Input, Replay, StopFlag};
use netcap_export::records::{count_record_files, find_record_files, is_record_file};
use netcap_export::{DiscardSink, Metrics, MetricsObserver, MetricsServer, Recorder};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// Frames are compressed by the pipeline and then discarded (the metrics
/// read the few record types they need from the uncompressed bytes): the
/// fastest zstd level will do.
const EXPORT_COMPRESSION_LEVEL: i32 = -7;

#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).multiple(true).args(["read", "dir", "iface"])))]
pub struct ExportArgs {
    /// A capture file (pcap or pcapng; - for stdin), or record files
    /// (<Type>.ncap.zst; repeatable)
    #[arg(long, value_name = "FILE")]
    read: Vec<PathBuf>,
    /// Directory of record files: every *.ncap.zst in it (repeatable)
    #[arg(long, value_name = "DIR")]
    dir: Vec<PathBuf>,
    /// Network interface to capture from live (libpcap)
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    /// Where to serve the metrics: http://ADDR/metrics (HOST:PORT, or :PORT
    /// for every interface)
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7777")]
    address: String,
    /// Read a capture file at the pace its packets were captured
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    replay: Option<bool>,
    /// With -replay: this many times faster than captured (e.g. 10, 0.5)
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    replay_speed: f64,
    /// With -replay: silences between packets longer than this (capture
    /// time, e.g. 500ms, 5s, 1m) are shortened to it; 0 replays every gap
    /// in full [default: 5s]
    #[arg(long, value_name = "DURATION")]
    max_gap: Option<String>,
    /// TLS server names that get a series of their own in
    /// netcap_tls_server_names_total (the most frequent; the rest are
    /// counted as "other"), at most 500
    #[arg(long, value_name = "N", default_value_t = netcap_export::DEFAULT_TOP_N)]
    top_n: usize,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// No progress bar and no summary
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    quiet: Option<bool>,
}

enum Source {
    Capture(Input),
    RecordFiles(Vec<PathBuf>),
}

pub fn run(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let source = source(&args)?;
    let replay = args.replay.unwrap_or(false);
    if replay && !matches!(source, Source::Capture(Input::File(_) | Input::Stdin)) {
        crate::usage_bail!("-replay needs a capture file (-read x.pcap)");
    }
    if !(args.replay_speed.is_finite() && args.replay_speed > 0.0) {
        bail!("-replay-speed must be a positive number");
    }
    let max_gap = match &args.max_gap {
        None => Some(Replay::DEFAULT_MAX_GAP),
        Some(_) if !replay => bail!("-max-gap only applies with -replay"),
        Some(text) => match parse_duration(text) {
            Some(gap) if gap.is_zero() => None,
            Some(gap) => Some(gap),
            None => bail!("-max-gap {text:?}: expected a duration such as 500ms, 5s or 1m (0: no limit)"),
        },
    };
    let quiet = args.quiet.unwrap_or(false);
    let address = parse_listen_address(&args.address)?;
    check_top_n(args.top_n)?;
    let metrics = Metrics::with_top_n(env!("NETCAP_VERSION"), args.top_n)?;
    let stop = stop_on_signals()?;
    // Listen before reading anything: a busy port fails at once, and the
    // first scrape can come while the input is still being read.
    let server = MetricsServer::start(address, metrics.clone())?;
    eprintln!("netcap: serving metrics on http://{}/metrics", server.local_addr());

    let damaged = match source {
        Source::Capture(input) => {
            let live = matches!(input, Input::Live(_));
            let mut config = args.analysis.capture_config(input, false)?;
            config.compression_level = EXPORT_COMPRESSION_LEVEL;
            config.replay = replay.then_some(Replay { speed: args.replay_speed, max_gap });
            if !live && !args.live.bpf.is_empty() {
                config.bpf = Some(args.live.bpf.clone());
            }
            let mut observer = MetricsObserver::new(metrics.clone());
            let summary = run_with_progress(quiet, |progress| {
                netcap_capture::run_observed(&config, Some(&mut DiscardSink), &mut observer, progress, &stop)
            })?;
            if !live {
                metrics.set_active_flows(0);
            }
            if observer.bad_frames() > 0 {
                eprintln!("netcap: warning: {} record frames could not be read for metrics", observer.bad_frames());
            }
            if !quiet {
                print_summary(&config, &summary, stop.load(Ordering::Relaxed));
            }
            if let Some(damage) = &summary.input_error {
                eprintln!("netcap: warning: {damage}");
            }
            summary.input_error.is_some()
        }
        Source::RecordFiles(files) => {
            if !args.live.bpf.is_empty() {
                crate::usage_bail!("-bpf filters packets: it does not apply to record files");
            }
            let mut recorder = Recorder::new(metrics.clone());
            let outcome = count_record_files(&files, &mut recorder, &stop)?;
            if !quiet {
                eprintln!(
                    "netcap: {} {} records ({} packets) from {} record files",
                    if outcome.stopped { "stopped after" } else { "read" },
                    outcome.records,
                    outcome.packets,
                    outcome.files
                );
            }
            for damage in &outcome.damaged {
                eprintln!("netcap: warning: {damage}");
            }
            !outcome.damaged.is_empty()
        }
    };

    if !stop.load(Ordering::Relaxed) {
        metrics.set_input_complete(true);
        if !quiet {
            eprintln!("netcap: input done; serving the final metrics until interrupted");
        }
        wait_for(&stop);
    }
    server.stop();
    Ok(if damaged { ExitCode::from(EXIT_DAMAGED_INPUT) } else { ExitCode::SUCCESS })
}

/// What to read: one capture (file, stdin or interface), or record files.
fn source(args: &ExportArgs) -> anyhow::Result<Source> {
    if let Some(interface) = &args.iface {
        if !args.read.is_empty() || !args.dir.is_empty() {
            crate::usage_bail!("-iface cannot be combined with -read or -dir");
        }
        return Ok(Source::Capture(args.live.input(interface)));
    }
    let (records, captures): (Vec<&PathBuf>, Vec<&PathBuf>) =
        args.read.iter().partition(|p| p.as_os_str() != "-" && is_record_file(p));
    match captures.as_slice() {
        [] => {}
        [capture] if records.is_empty() && args.dir.is_empty() => {
            return Ok(Source::Capture(if capture.as_os_str() == "-" {
                Input::Stdin
            } else {
                Input::File(capture.to_path_buf())
            }));
        }
        _ => crate::usage_bail!("-read takes one capture file, or record files (*.ncap.zst) and -dir, not both"),
    }
    let records: Vec<PathBuf> = records.into_iter().cloned().collect();
    let files = find_record_files(&records, &args.dir).context("finding record files")?;
    Ok(Source::RecordFiles(files))
}

fn wait_for(stop: &StopFlag) {
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
    }
}
