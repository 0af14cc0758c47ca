//! `netcap capture`: flags, progress, signals and the end-of-run summary.

use crate::{EXIT_DAMAGED_INPUT, split_list};
use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};
use netcap_capture::{
    AlertFn, CaptureConfig, CaptureSummary, Input, InventoryOptions, LiveOptions, ProfileOptions, Progress,
    SessionOptions, SpotOptions, StopFlag,
};
use netcap_decoder::{DecodeConfig, Layer, link_type_name};
use netcap_flow::FlowConfig;
use netcap_profile::ProfileConfig;
use netcap_records::RecordType;
use netcap_session::{SessionConfig, StreamConfig};
use netcap_spot::{SpotConfig, Stat};
use std::io::IsTerminal;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// zstd level for record files. A capture must keep up with the traffic, so
/// the default is zstd's first fast level: 9% less CPU per packet than level
/// 1 for 5% larger files, still about 4x smaller than the raw protobuf
/// (docs/performance.md). Archives can use `-compression 3` or more.
pub const DEFAULT_COMPRESSION_LEVEL: i32 = -1;

#[derive(Args)]
#[command(group(ArgGroup::new("source").required(true).args(["read", "iface"])))]
pub struct CaptureArgs {
    /// Capture file to read (pcap or pcapng, detected by content); - for stdin
    #[arg(long, value_name = "FILE")]
    read: Option<PathBuf>,
    /// Network interface to capture from live (libpcap)
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    /// Directory for the <Type>.ncap.zst record files (created if missing;
    /// record files of an earlier run there are replaced)
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    #[command(flatten)]
    analysis: AnalysisArgs,
    /// Include payload bytes in records
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    payload: Option<bool>,
    #[command(flatten)]
    live: LiveArgs,
    /// zstd compression level of record files (-7 to 19; negative levels are faster;
    /// at negative levels Connection and Flow records use two steps faster)
    #[arg(long, value_name = "LEVEL", default_value_t = DEFAULT_COMPRESSION_LEVEL,
          value_parser = clap::value_parser!(i32).range(-7..=19))]
    compression: i32,
    /// No progress bar and no summary
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    quiet: Option<bool>,
    /// Serve Prometheus metrics of the capture at http://ADDR/metrics while it
    /// runs (docs/metrics.md), e.g. 127.0.0.1:7777, or :7777 for every interface
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// With -metrics: TLS server names that get a series of their own in
    /// netcap_tls_server_names_total (the rest are counted as "other"), at
    /// most 500
    #[arg(long, value_name = "N", default_value_t = netcap_export::DEFAULT_TOP_N)]
    top_n: usize,
    /// Flow detection: score every connection with -model (docs/detect.md)
    #[command(flatten)]
    detection: crate::detect_cmd::DetectionArgs,
}

/// How packets are decoded and analysed; `netcap export` takes the same
/// flags, so that it counts what `netcap capture` writes.
#[derive(Args)]
pub struct AnalysisArgs {
    /// Only write these record types (comma-separated, case-insensitive)
    #[arg(long, value_name = "TYPES")]
    include: Vec<String>,
    /// Do not write these record types (comma-separated, case-insensitive)
    #[arg(long, value_name = "TYPES")]
    exclude: Vec<String>,
    /// Decode threads [default: number of cores]
    #[arg(long, value_name = "N")]
    workers: Option<usize>,
    /// Write decode failures as records of type Error (they are always counted)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    errors: Option<bool>,
    /// Reassemble IPv4/IPv6 fragments: transport and application records come from the whole datagram
    /// [default: true]; false decodes each fragment on its own
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    reassemble: Option<bool>,
    /// Per-tick traffic statistics with SPOT anomaly detection (netspot v3's
    /// PPS, BPS, APS, DPE, RACK, SYNFIN), written to SpotStat.ncap.zst
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    spot: Option<bool>,
    /// SPOT on these statistics (comma-separated, e.g. PPS,R_SYN; implies -spot)
    #[arg(long, value_name = "STATS", value_delimiter = ',')]
    spot_stats: Vec<String>,
    /// SPOT on every statistic netcap computes (implies -spot)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    all_stats: Option<bool>,
    /// Statistics tick length in capture time, e.g. 1s, 500ms [default: 1s]
    #[arg(long, value_name = "DURATION")]
    tick: Option<String>,
    /// SPOT settings from a TOML file (docs/spot.md); flags override it
    #[arg(long, value_name = "FILE")]
    spot_config: Option<PathBuf>,
    /// SPOT calibration values per statistic [default: 1000]
    #[arg(long, value_name = "N")]
    n_init: Option<String>,
    /// DSPOT drift window, 0 for plain SPOT [default: 50]
    #[arg(long, value_name = "N")]
    depth: Option<String>,
    /// Also write netspot v3's JSON records, one line per tick, to FILE
    #[arg(long, value_name = "FILE")]
    spot_jsonl: Option<PathBuf>,
    /// Connections with no packet for this long end (capture time; e.g. 120s, 5m)
    #[arg(long, value_name = "DURATION", default_value = "120s")]
    flow_idle_timeout: String,
    /// Connections active longer than this are cut into consecutive records
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    flow_active_timeout: String,
    /// Most connections tracked at once; beyond, the oldest idle is evicted
    #[arg(long, value_name = "N", default_value_t = 1 << 18)]
    flow_max: usize,
    /// Keep the first N packets' sizes, inter-arrival times and windows in
    /// Connection and Flow records
    #[arg(long, value_name = "N", default_value_t = 0)]
    flow_sequences: usize,
    /// Reassemble TCP streams and decode the stream protocols (HTTP
    /// transactions, files, TLS handshakes) [default: true]; false turns the
    /// stream layer off (no HTTP, File or TLS records)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    reassemble_tcp: Option<bool>,
    /// Write each TCP direction's reassembled bytes into DIR, one file per
    /// direction (<first frame>-<client>.<port>-<server>.<port>.c2s|s2c)
    #[arg(long, value_name = "DIR")]
    streams: Option<PathBuf>,
    /// Extract the files streams carry (HTTP bodies) into DIR, named by their
    /// SHA-256 (incomplete ones under DIR/incomplete/)
    #[arg(long, value_name = "DIR")]
    files: Option<PathBuf>,
    /// Bytes of each TCP direction reassembled at most (e.g. 10MB); 0: all
    #[arg(long, value_name = "SIZE", default_value = "0")]
    tcp_depth: String,
    /// Memory for TCP stream state (out-of-order data, parser buffers), over
    /// all connections; when full, holes are given up as gaps
    #[arg(long, value_name = "SIZE", default_value = "256MiB")]
    tcp_memcap: String,
    /// Out-of-order data queued per TCP direction at most (bytes plus about
    /// 56 bytes per queued segment)
    #[arg(long, value_name = "SIZE", default_value = "1MiB")]
    tcp_max_queued: String,
    /// Decoded bytes per file at most (hashing and extraction stop beyond;
    /// the File record says truncated)
    #[arg(long, value_name = "SIZE", default_value = "100MiB")]
    file_max_size: String,
    /// Digests of file contents in File records: md5, sha1, sha256 (comma
    /// separated), all or none; SHA-256 is always computed with -files
    #[arg(long, value_name = "LIST", default_value = "sha1,sha256")]
    file_hashes: String,
    /// Leave passwords out of Credentials and FTP records (a sent password
    /// is written as <hidden>)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    no_secrets: Option<bool>,
    /// Hosts tracked at most in Host records, devices in DeviceProfile
    /// records, and software and services each in Software and Service
    /// records; beyond, the least recently seen are evicted (and counted)
    #[arg(long, value_name = "N", default_value_t = netcap_profile::DEFAULT_MAX_PROFILES)]
    profile_max: usize,
    /// Live captures: write the Host, DeviceProfile, Software and Service
    /// records of what changed this often (files: once, at the end)
    #[arg(long, value_name = "DURATION", default_value = "1m")]
    profile_interval: String,
    /// Peers listed per direction in each Host record (by bytes)
    #[arg(long, value_name = "N", default_value_t = netcap_profile::DEFAULT_TOP_N)]
    profile_top: usize,
    /// MaxMind City or Country database (e.g. GeoLite2-City.mmdb): country
    /// and city of each Host
    #[arg(long, value_name = "FILE")]
    geoip: Option<PathBuf>,
    /// MaxMind ASN database (e.g. GeoLite2-ASN.mmdb): autonomous system of
    /// each Host
    #[arg(long, value_name = "FILE")]
    asn: Option<PathBuf>,
    /// Per-statistic SPOT parameter STAT:PARAM=VALUE; netspot's
    /// -spot-<stat>-q, -level, -max-excess, -low, -up, -side, -depth,
    /// -n-init and -keep-anomalies flags are accepted as well
    #[arg(long, value_name = "STAT:PARAM=VALUE")]
    spot_param: Vec<String>,
}

/// Live capture settings (`-iface`).
#[derive(Args)]
pub struct LiveArgs {
    /// BPF filter (libpcap syntax), e.g. "tcp port 443": in the kernel for
    /// -iface, on every packet before decoding for -read
    #[arg(long, value_name = "EXPR", default_value = "")]
    pub bpf: String,
    /// Put the interface in promiscuous mode (live capture)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    promisc: Option<bool>,
    /// Bytes to capture per packet (live capture)
    #[arg(long, value_name = "BYTES", default_value_t = 262_144)]
    snaplen: u32,
}

pub fn run(args: CaptureArgs) -> anyhow::Result<ExitCode> {
    let mut config = capture_config(
        args.read.as_deref(),
        args.iface.as_deref(),
        &args.live,
        &args.analysis,
        args.payload,
        args.compression,
    )?;
    check_out_dir(&args.out)?;
    config.out_dir = args.out.clone();
    let quiet = args.quiet.unwrap_or(false);
    let metrics_address = args.metrics.as_deref().map(parse_listen_address).transpose()?;
    check_top_n(args.top_n)?;
    // The model is loaded and checked before any packet is read.
    if let Some(prepared) = args.detection.prepare()? {
        return crate::detect_cmd::run_capture(&config, prepared, Some(&args.out), metrics_address, args.top_n, quiet);
    }

    let stop = stop_on_signals()?;
    let summary = match metrics_address {
        None => run_with_progress(quiet, |progress| netcap_capture::run(&config, progress, &stop))?,
        Some(address) => {
            let metrics = netcap_export::Metrics::with_top_n(env!("NETCAP_VERSION"), args.top_n)?;
            let server = netcap_export::MetricsServer::start(address, metrics.clone())?;
            eprintln!("netcap: serving metrics on http://{}/metrics", server.local_addr());
            let mut observer = netcap_export::MetricsObserver::new(metrics.clone());
            let summary = run_with_progress(quiet, |progress| {
                netcap_capture::run_observed(&config, None, &mut observer, progress, &stop)
            })?;
            metrics.set_input_complete(!matches!(config.input, Input::Live(_)));
            server.stop();
            summary
        }
    };

    if !quiet {
        print_summary(&config, &summary, stop.load(Ordering::Relaxed));
    }
    if let Some(damage) = &summary.input_error {
        eprintln!("netcap: warning: {damage}");
        return Ok(ExitCode::from(EXIT_DAMAGED_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}

/// The capture `capture` and `agent` run: `-read` (a file, or - for stdin)
/// or `-iface`, the analysis and live flags, `-payload` and `-compression`.
/// Record files, if any, go to the current directory.
pub fn capture_config(
    read: Option<&Path>,
    iface: Option<&str>,
    live: &LiveArgs,
    analysis: &AnalysisArgs,
    payload: Option<bool>,
    compression: i32,
) -> anyhow::Result<CaptureConfig> {
    let input = match (read, iface) {
        (Some(path), _) if path.as_os_str() == "-" => Input::Stdin,
        (Some(path), _) => Input::File(path.to_path_buf()),
        (None, Some(interface)) => live.input(interface),
        (None, None) => crate::usage_bail!("one of -read or -iface is required"),
    };
    let live_input = matches!(input, Input::Live(_));
    let mut config = analysis.capture_config(input, payload.unwrap_or(false))?;
    config.compression_level = compression;
    // A file is filtered by libpcap's compiler too, as tcpdump -r does.
    if !live_input && !live.bpf.is_empty() {
        config.bpf = Some(live.bpf.clone());
    }
    Ok(config)
}

impl AnalysisArgs {
    /// The capture settings these flags give for `input` (record files go to
    /// the current directory, at the default compression level).
    pub fn capture_config(&self, input: Input, payloads: bool) -> anyhow::Result<CaptureConfig> {
        let decode = decode_config(self, payloads)?;
        let workers = match self.workers {
            Some(n) => check_workers(n)?,
            None => std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1).min(MAX_WORKERS),
        };
        if self.flow_max < netcap_flow::SHARDS {
            bail!(
                "-flow-max must be at least {shards}: the bound is shared by {shards} flow tables (docs/flows.md)",
                shards = netcap_flow::SHARDS
            );
        }
        Ok(CaptureConfig {
            input,
            out_dir: PathBuf::from("."),
            workers,
            compression_level: DEFAULT_COMPRESSION_LEVEL,
            producer: crate::producer(),
            spot: spot_options(self)?,
            session: session_options(self, &decode)?,
            profiles: profile_options(self, &decode)?,
            inventory: inventory_options(self, &decode)?,
            decode,
            replay: None,
            bpf: None,
        })
    }
}

impl LiveArgs {
    pub fn input(&self, interface: &str) -> Input {
        Input::Live(LiveOptions {
            interface: interface.to_string(),
            bpf: self.bpf.clone(),
            promiscuous: self.promisc.unwrap_or(true),
            snaplen: self.snaplen,
            ..LiveOptions::default()
        })
    }
}

/// A stop flag set by SIGINT or SIGTERM; a second signal while the first
/// is being handled ends the process (status 130).
pub fn stop_on_signals() -> anyhow::Result<StopFlag> {
    let stop: StopFlag = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, stop.clone())
            .context("installing signal handler")?;
        signal_hook::flag::register(signal, stop.clone()).context("installing signal handler")?;
    }
    Ok(stop)
}

/// Runs `capture` with a progress bar on a terminal (unless `quiet`).
pub fn run_with_progress(
    quiet: bool,
    capture: impl FnOnce(&Progress) -> Result<CaptureSummary, netcap_capture::CaptureError>,
) -> anyhow::Result<CaptureSummary> {
    let progress = Progress::default();
    let done = AtomicBool::new(false);
    let summary = std::thread::scope(|scope| {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| scope.spawn(|| show_progress(&progress, &done)));
        let result = capture(&progress);
        done.store(true, Ordering::Relaxed);
        if let Some(handle) = bar {
            let _ = handle.join();
        }
        result
    })?;
    Ok(summary)
}

/// Decode threads at most: each is an OS thread with its own queues, and
/// more threads than this only add contention on any machine netcap runs on.
pub const MAX_WORKERS: usize = 1024;

/// `-workers N` (capture, export, agent, label): 1 to [`MAX_WORKERS`].
pub fn check_workers(workers: usize) -> anyhow::Result<usize> {
    if !(1..=MAX_WORKERS).contains(&workers) {
        bail!("-workers must be between 1 and {MAX_WORKERS}, not {workers}");
    }
    Ok(workers)
}

/// `-out DIR`: a directory, or a path where one can be made; an existing
/// file is refused with a message that says so.
pub fn check_out_dir(out: &Path) -> anyhow::Result<()> {
    if out.exists() && !out.is_dir() {
        bail!("-out {}: is a file, not a directory", out.display());
    }
    Ok(())
}

/// `-top-n` of `capture -metrics` and `export`: at most
/// [`netcap_export::MAX_TOP_N`] places, each a series Prometheus keeps.
pub fn check_top_n(top_n: usize) -> anyhow::Result<()> {
    let max = netcap_export::MAX_TOP_N;
    if top_n > max {
        bail!("-top-n must be at most {max}: every name it lets through is a series Prometheus keeps");
    }
    Ok(())
}

/// An address to listen on: `HOST:PORT`, `[V6]:PORT`, or `:PORT` for every
/// interface (as Prometheus exporters write it).
pub fn parse_listen_address(text: &str) -> anyhow::Result<SocketAddr> {
    let with_host = match text.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => text.to_string(),
    };
    with_host
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .with_context(|| format!("{text:?}: expected an address to listen on, such as 127.0.0.1:7777 or :7777"))
}

/// The session stage runs when any of its records are wanted: Connection
/// or Flow records, the stream protocols' (with TCP reassembly on), or
/// QUICInitial; `-streams` and `-files` want the stream layer too.
fn session_options(args: &AnalysisArgs, decode: &DecodeConfig) -> anyhow::Result<Option<SessionOptions>> {
    // Software and Service records are derived from Connection records.
    let connections = decode.is_enabled(RecordType::Connection) || inventory_wanted(decode);
    let flows = decode.is_enabled(RecordType::Flow);
    let stream_records = netcap_session::PROTOCOLS.iter().flat_map(|p| p.record_types).any(|&t| decode.is_enabled(t));
    let reassemble_tcp = args.reassemble_tcp.unwrap_or(true);
    if !reassemble_tcp && (args.streams.is_some() || args.files.is_some()) {
        crate::usage_bail!("-streams and -files need TCP reassembly: drop -reassemble-tcp=false");
    }
    let streams_wanted =
        reassemble_tcp && (stream_records || connections || args.streams.is_some() || args.files.is_some());
    let quic = decode.is_enabled(RecordType::Quicinitial);
    if !connections && !flows && !streams_wanted && !quic {
        return Ok(None);
    }
    let size = |flag: &str, text: &str| -> anyhow::Result<u64> {
        crate::size::parse_size(text).with_context(|| format!("-{flag}"))
    };
    let streams = if streams_wanted {
        let mut config = StreamConfig::default();
        config.reassembly.depth = size("tcp-depth", &args.tcp_depth)?;
        config.memcap = usize::try_from(size("tcp-memcap", &args.tcp_memcap)?).unwrap_or(usize::MAX);
        config.reassembly.max_queued =
            usize::try_from(size("tcp-max-queued", &args.tcp_max_queued)?).unwrap_or(usize::MAX).max(1);
        config.files.max_bytes = size("file-max-size", &args.file_max_size)?;
        config.files.extract_dir = args.files.clone();
        config.files.hashes = netcap_session::files::FileHashes::parse(&args.file_hashes)
            .map_err(|e| anyhow::anyhow!("-file-hashes: {e}"))?;
        config.files.records = decode.is_enabled(RecordType::File);
        config.streams_dir = args.streams.clone();
        config.community_id_seed = decode.community_id_seed;
        config.secrets = !args.no_secrets.unwrap_or(false);
        for dir in [&args.streams, &args.files].into_iter().flatten() {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        Some(config)
    } else {
        None
    };
    let duration = |flag: &str, text: &str| -> anyhow::Result<Duration> {
        parse_duration(text).with_context(|| format!("-{flag} {text:?}: expected a duration such as 90s, 5m or 2h"))
    };
    let config = FlowConfig {
        idle_timeout: duration("flow-idle-timeout", &args.flow_idle_timeout)?,
        active_timeout: duration("flow-active-timeout", &args.flow_active_timeout)?,
        max_flows: args.flow_max.max(1),
        sequences: args.flow_sequences,
        ..FlowConfig::default()
    };
    Ok(Some(SessionOptions {
        session: SessionConfig { flows: config, streams, quic },
        connections,
        flow_records: flows,
    }))
}

fn inventory_wanted(decode: &DecodeConfig) -> bool {
    netcap_inventory::RECORD_TYPES.iter().any(|&t| decode.is_enabled(t))
}

/// `-profile-interval` in nanoseconds, after checking `-profile-max`
/// (both bound the profile and inventory stages).
fn profile_interval_ns(args: &AnalysisArgs) -> anyhow::Result<i64> {
    if args.profile_max == 0 {
        bail!("-profile-max must be at least 1");
    }
    let interval = parse_duration(&args.profile_interval).filter(|d| !d.is_zero()).with_context(|| {
        format!("-profile-interval {:?}: expected a duration such as 30s or 5m", args.profile_interval)
    })?;
    Ok(i64::try_from(interval.as_nanos()).unwrap_or(i64::MAX))
}

/// Software and services, when Software or Service records are wanted.
fn inventory_options(args: &AnalysisArgs, decode: &DecodeConfig) -> anyhow::Result<Option<InventoryOptions>> {
    if !inventory_wanted(decode) {
        return Ok(None);
    }
    let interval_ns = profile_interval_ns(args)?;
    Ok(Some(InventoryOptions {
        config: netcap_inventory::InventoryConfig { max_entries: args.profile_max },
        interval_ns,
        write_connections: decode.is_enabled(RecordType::Connection),
    }))
}

/// Host and device profiles, when Host or DeviceProfile records are wanted.
fn profile_options(args: &AnalysisArgs, decode: &DecodeConfig) -> anyhow::Result<Option<ProfileOptions>> {
    if !decode.is_enabled(RecordType::Host) && !decode.is_enabled(RecordType::Deviceprofile) {
        if args.geoip.is_some() || args.asn.is_some() {
            bail!("-geoip and -asn fill Host records: do not exclude them");
        }
        return Ok(None);
    }
    let interval_ns = profile_interval_ns(args)?;
    let config = ProfileConfig { max_profiles: args.profile_max, top_n: args.profile_top, interval_ns };
    let geo: Option<Arc<dyn netcap_profile::GeoLookup>> = if args.geoip.is_some() || args.asn.is_some() {
        Some(Arc::new(netcap_profile::MaxMind::open(args.geoip.as_deref(), args.asn.as_deref())?))
    } else {
        None
    };
    Ok(Some(ProfileOptions { config, geo }))
}

/// `90`, `90s`, `1.5m`, `2h`, `500ms`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(seconds).ok()
}

/// Resolves the SPOT flags: none of them means no statistics.
fn spot_options(args: &AnalysisArgs) -> anyhow::Result<Option<SpotOptions>> {
    let all = args.all_stats.unwrap_or(false);
    let wanted = args.spot.unwrap_or(false)
        || all
        || !args.spot_stats.is_empty()
        || args.spot_config.is_some()
        || args.spot_jsonl.is_some()
        || !args.spot_param.is_empty();
    if !wanted {
        return Ok(None);
    }
    let mut config = SpotConfig::default();
    if let Some(path) = &args.spot_config {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config.apply_toml_str(&text).with_context(|| format!("{}", path.display()))?;
    }
    if all {
        config.set_stats(&["all"])?;
    } else if !args.spot_stats.is_empty() {
        config.set_stats(&args.spot_stats)?;
    }
    if let Some(tick) = &args.tick {
        config.set_tick(tick)?;
    }
    if let Some(n) = &args.n_init {
        config.set(None, "n_init", n)?;
    }
    if let Some(depth) = &args.depth {
        config.set(None, "depth", depth)?;
    }
    for param in &args.spot_param {
        let (stat, rest) =
            param.split_once(':').with_context(|| format!("-spot-param {param:?}: expected STAT:PARAM=VALUE"))?;
        let (key, value) =
            rest.split_once('=').with_context(|| format!("-spot-param {param:?}: expected STAT:PARAM=VALUE"))?;
        let stat =
            Stat::from_name(stat).with_context(|| format!("unknown statistic {stat:?} in -spot-{stat}-{key}"))?;
        config.set(Some(stat), key, value)?;
    }
    config.validate()?;
    let alerts: AlertFn = Arc::new(|line: &str| eprintln!("{line}"));
    Ok(Some(SpotOptions { config, jsonl: args.spot_jsonl.clone(), alerts: Some(alerts) }))
}

/// Resolves -include, -exclude, -errors, -payload and -reassemble.
fn decode_config(args: &AnalysisArgs, payloads: bool) -> anyhow::Result<DecodeConfig> {
    let parse = |names: &[String]| -> anyhow::Result<Vec<RecordType>> {
        split_list(names)
            .map(|name| {
                RecordType::from_name(name).with_context(|| {
                    let valid: Vec<_> = RecordType::all().map(|t| t.name()).collect();
                    format!("unknown record type {name:?}; valid types: {}", valid.join(", "))
                })
            })
            .collect()
    };
    if !args.include.is_empty() && split_list(&args.include).next().is_none() {
        bail!("-include names no record type; leave it out to write every type");
    }
    let include = parse(&args.include)?;
    let exclude = parse(&args.exclude)?;
    let mut config = DecodeConfig::new();
    config.payloads = payloads;
    config.reassemble = args.reassemble.unwrap_or(true);
    for record_type in RecordType::all() {
        let wanted = if include.is_empty() {
            record_type != RecordType::Error || args.errors.unwrap_or(false)
        } else {
            include.contains(&record_type) || (record_type == RecordType::Error && args.errors.unwrap_or(false))
        };
        config.set(record_type, wanted && !exclude.contains(&record_type));
    }
    Ok(config)
}

fn show_progress(progress: &Progress, done: &AtomicBool) {
    let size = progress.input_size.load(Ordering::Relaxed);
    let bar = if size > 0 {
        ProgressBar::new(size).with_style(
            ProgressStyle::with_template("{bar:40.cyan/blue} {bytes}/{total_bytes} {msg} ({eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        )
    } else {
        ProgressBar::new_spinner()
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    while !done.load(Ordering::Relaxed) {
        bar.set_position(progress.input_bytes.load(Ordering::Relaxed));
        bar.set_message(format!("{} packets", progress.packets.load(Ordering::Relaxed)));
        std::thread::sleep(Duration::from_millis(100));
    }
    bar.finish_and_clear();
}

pub fn print_summary(config: &CaptureConfig, summary: &CaptureSummary, interrupted: bool) {
    let seconds = summary.elapsed.as_secs_f64();
    let rate = if seconds > 0.0 { summary.packets as f64 / seconds } else { 0.0 };
    eprintln!(
        "netcap: {} {} packets ({}) from {} in {:.2}s: {:.0} packets/s{}",
        if interrupted { "stopped after" } else { "decoded" },
        summary.packets,
        HumanBytes(summary.bytes),
        config.input.describe(),
        seconds,
        rate,
        summary.dropped.map(|d| format!(", {d} dropped by the kernel")).unwrap_or_default(),
    );
    if summary.records.is_empty() {
        eprintln!("  no records written");
    }
    if let Some(expression) = &config.bpf {
        eprintln!("  -bpf {expression:?}: {} packets left out", summary.bpf_filtered);
        for (link_type, reason) in &summary.bpf_unfilterable {
            eprintln!(
                "  -bpf does not apply to link type {} ({link_type}), its packets were left out: {reason}",
                link_type_name(*link_type)
            );
        }
    }
    // Columns as wide as the longest type name and count, so that names
    // such as TLSClientHello keep the table aligned.
    let name_width = summary.records.iter().map(|(t, _)| t.name().len()).max().unwrap_or(0).max(10);
    let count_width = summary.records.iter().map(|(_, c)| c.to_string().len()).max().unwrap_or(0).max(12);
    for (i, (record_type, count)) in summary.records.iter().enumerate() {
        let path = summary.files.get(i).map(|p| format!("  {}", p.display())).unwrap_or_default();
        eprintln!("  {:<name_width$} {:>count_width$} records{path}", record_type.name(), count);
    }
    let errors: Vec<String> = Layer::ALL
        .iter()
        .filter(|layer| summary.decode.errors_for(**layer) > 0)
        .map(|layer| format!("{layer} {}", summary.decode.errors_for(*layer)))
        .collect();
    if !errors.is_empty() {
        eprintln!("  decode errors: {}", errors.join(", "));
    }
    if config.spot.is_some() {
        eprintln!("  SPOT alerts: {}", summary.spot_alerts);
    }
    if let Some(report) = &summary.spot_calibration {
        for line in netcap_spot::calibration_lines(report) {
            eprintln!("  {line}");
        }
    }
    if let (Some(stats), Some(replay)) = (&summary.replay, &config.replay) {
        eprintln!("  {}", stats.summary_line(replay.max_gap));
    }
    if let Some(flows) = &summary.flows {
        let ended: Vec<String> = (1..=6)
            .filter_map(|n| netcap_records::TerminationReason::try_from(n).ok())
            .filter(|reason| flows.ended_by(*reason) > 0)
            .map(|reason| {
                let name = reason.as_str_name().trim_start_matches("TERMINATION_REASON_").to_lowercase();
                format!("{} {}", name.replace('_', " "), flows.ended_by(reason))
            })
            .collect();
        eprintln!(
            "  flows: {} connections ({}), at most {} tracked at once, {} evicted",
            flows.created,
            ended.join(", "),
            flows.peak,
            flows.evicted
        );
    }
    if let Some(streams) = &summary.streams {
        print_stream_summary(streams, config);
    }
    if let Some(p) = &summary.profiles {
        eprintln!(
            "  profiles: {} hosts, {} devices ({} hosts and {} devices evicted, {} names of untracked ones dropped)",
            p.host_records, p.device_records, p.hosts_evicted, p.devices_evicted, p.observations_dropped
        );
    }
    if let Some(i) = &summary.inventory {
        eprintln!(
            "  inventory: {} software, {} services ({} software and {} services evicted)",
            i.software_records, i.service_records, i.software_evicted, i.services_evicted
        );
    }
    if let Some(q) = &summary.quic
        && (q.initials > 0 || q.errors > 0)
    {
        eprintln!(
            "  QUIC Initials: {} ({} ClientHellos put together from several packets, {} connections dropped, {} undecodable)",
            q.initials, q.tracker.reassembled, q.tracker.dropped, q.errors
        );
    }
    let r = &summary.reassembly;
    if r.fragments > 0 {
        eprintln!(
            "  IP fragments: {} ({} datagrams reassembled, {} overlapping, {} invalid, {} timed out, {} evicted)",
            r.fragments, r.reassembled, r.overlaps, r.invalid, r.timeouts, r.evicted
        );
    }
    for (link_type, packets) in &summary.decode.unsupported_link_types {
        eprintln!(
            "  unsupported link type {} ({link_type}): {packets} packets not decoded",
            link_type_name(*link_type)
        );
    }
}

/// The stream layer's lines of the summary: what was reassembled, what was
/// lost and why, what hit a bound.
fn print_stream_summary(s: &netcap_session::StreamCounters, config: &CaptureConfig) {
    if s.connections == 0 {
        return;
    }
    let detected: Vec<String> = netcap_session::PROTOCOLS
        .iter()
        .zip(&s.detected)
        .filter(|(_, n)| **n > 0)
        .map(|(p, n)| format!("{} {n}", p.name))
        .collect();
    let r = &s.reassembly;
    eprintln!(
        "  TCP streams: {} connections{}, {} reassembled, {} missed, {} retransmissions, {} overlaps with different data",
        s.connections,
        if detected.is_empty() { String::new() } else { format!(" ({})", detected.join(", ")) },
        HumanBytes(r.delivered_bytes),
        HumanBytes(r.missed_bytes),
        r.retransmissions,
        r.overlaps_different_data,
    );
    let memcap = config.session.as_ref().and_then(|o| o.session.streams.as_ref()).map(|c| c.memcap as u64);
    let mut bounds = vec![format!(
        "peak memory {}{}",
        HumanBytes(s.peak_memory),
        memcap.map(|m| format!(" of {}", HumanBytes(m))).unwrap_or_default()
    )];
    if s.memcap_hits > 0 {
        bounds.push(format!("memory cap reached {} times", s.memcap_hits));
    }
    if r.queue_flushes > 0 {
        bounds.push(format!("{} out-of-order queues given up", r.queue_flushes));
    }
    if r.out_of_window > 0 {
        bounds.push(format!("{} segments out of window", r.out_of_window));
    }
    if r.depth_exceeded_bytes > 0 {
        bounds.push(format!("{} beyond -tcp-depth", HumanBytes(r.depth_exceeded_bytes)));
    }
    if s.pending_dropped_bytes > 0 {
        bounds.push(format!("{} of parser input dropped", HumanBytes(s.pending_dropped_bytes)));
    }
    let errors: Vec<String> = netcap_session::PROTOCOLS
        .iter()
        .zip(&s.errors.errors)
        .filter(|(_, n)| **n > 0)
        .map(|(p, n)| format!("{} {n}", p.name))
        .collect();
    if !errors.is_empty() {
        bounds.push(format!("parse errors: {}", errors.join(", ")));
    }
    eprintln!("  TCP stream bounds: {}", bounds.join(", "));
    let f = &s.files;
    if f.files > 0 {
        eprintln!(
            "  files: {} ({} extracted, {} truncated at -file-max-size, {} not decoded, {} with no decoder free, {} extraction errors)",
            f.files, f.extracted, f.truncated, f.decode_failed, f.decoders_busy, f.extract_errors
        );
    }
    let d = &s.ftp_data;
    if d.streams > 0 || d.files > 0 || d.channels_unused > 0 {
        eprintln!(
            "  FTP data: {} files from {} one-way streams ({}; {} ambiguous, {} third-party, {} against their command, {} without a transfer refused; {} fit no channel); {} channels without data, {} dropped at the bound",
            d.files,
            d.streams,
            HumanBytes(d.stream_bytes),
            d.ambiguous,
            d.third_party,
            d.wrong_direction,
            d.no_transfer,
            d.no_channel,
            d.channels_unused,
            d.evicted
        );
    }
    if s.stream_files.bytes > 0 || s.stream_files.errors > 0 {
        eprintln!("  -streams: {} written, {} write errors", HumanBytes(s.stream_files.bytes), s.stream_files.errors);
    }
}
