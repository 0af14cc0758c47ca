//! `netcap detect` and `capture -model`: score every connection with a
//! flow model as its record is written (docs/detect.md).

use crate::capture_cmd::{self, AnalysisArgs, LiveArgs};
use crate::{EXIT_DAMAGED_INPUT, usage_bail};
use anyhow::{Context, bail};
use clap::{ArgGroup, Args};
use netcap_capture::{BatchCounts, CaptureConfig, Input, Observer, RecordSink};
use netcap_detect::{AlertWriter, DetectCounters, DetectOptions, Detector, EventOutput, FlowModel, OutputFilter};
use netcap_records::{Connection, RecordReader, RecordType};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;

/// Detection settings `detect` and `capture -model` share.
#[derive(Args, Clone)]
pub struct DetectionArgs {
    /// Flow model: a model file from `netcap train` (JSON), or an ONNX model
    /// (scikit-learn through skl2onnx, Keras through tf2onnx). Every
    /// connection is scored when its record is written
    #[arg(long, value_name = "FILE")]
    pub model: Option<PathBuf>,
    /// Min-max scaler file (JSON) for an ONNX model whose graph does not
    /// scale its input (docs/detect.md)
    #[arg(long, value_name = "FILE")]
    pub scaler: Option<PathBuf>,
    /// A connection scoring at least this is an alert [default: the model's
    /// threshold]
    #[arg(long, value_name = "SCORE")]
    pub threshold: Option<f64>,
    /// Connections with fewer packets are not scored (NetWatcher skips flows under 3)
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub min_packets: u64,
    /// Event lines written: alerts, ok or all
    #[arg(long, value_name = "WHICH", default_value = "alerts")]
    pub output_filter: String,
    /// Write event lines to DIR/detector_events.log (rotated at 5 MB, 10
    /// kept) instead of standard output
    #[arg(long, value_name = "DIR")]
    pub events: Option<PathBuf>,
}

#[derive(Args)]
#[command(
    group(ArgGroup::new("source").required(true).args(["read", "iface", "dir"])),
    after_help = "Examples:\n  \
    netcap detect -read traffic.pcap -model model.json\n  \
    netcap detect -iface eth0 -model model.json -events /var/log/netcap -output-filter all\n  \
    netcap detect -dir records -model model.json -out alerts\n  \
    netcap detect -read traffic.pcap -model model.json -out records -metrics :7777\n\n\
    Event lines are NetWatcher's: 2025-01-07 17:47:33 [ALERT] 192.168.1.103:1090 -> 192.168.5.122:143 (TCP):\n\
    9 packets, 0 bytes, 959s 948ms, stamped with the connection's first packet (capture time, UTC).\n\
    With -out, the capture's record files and Alert.ncap.zst are written to DIR. docs/detect.md has the\n\
    features, the model format and a worked example."
)]
pub struct DetectArgs {
    /// Capture file to read (pcap or pcapng); - for stdin
    #[arg(long, value_name = "FILE")]
    read: Option<PathBuf>,
    /// Network interface to capture from live (libpcap)
    #[arg(long, value_name = "NAME")]
    iface: Option<String>,
    /// Directory of record files: score its Connection.ncap.zst
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Also write the capture's record files (and Alert.ncap.zst) into DIR
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    #[command(flatten)]
    detection: DetectionArgs,
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    live: LiveArgs,
    /// zstd compression level of record files (-7 to 19)
    #[arg(long, value_name = "LEVEL", default_value_t = capture_cmd::DEFAULT_COMPRESSION_LEVEL,
          value_parser = clap::value_parser!(i32).range(-7..=19))]
    compression: i32,
    /// Serve Prometheus metrics (the capture's and the detector's) at http://ADDR/metrics
    #[arg(long, value_name = "ADDR")]
    metrics: Option<String>,
    /// No progress bar and no summary
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true, value_name = "BOOL")]
    quiet: Option<bool>,
}

/// A loaded model and the detector's settings, checked before any packet
/// is read.
pub struct Prepared {
    model: FlowModel,
    options: DetectOptions,
    events: Option<PathBuf>,
}

impl DetectionArgs {
    /// Loads the model (if `-model` was given) and checks the flags.
    pub fn prepare(&self) -> anyhow::Result<Option<Prepared>> {
        let Some(path) = &self.model else {
            if self.threshold.is_some() || self.events.is_some() || self.scaler.is_some() {
                usage_bail!("-threshold, -scaler and -events need -model");
            }
            return Ok(None);
        };
        let model = FlowModel::load_with_scaler(path, self.scaler.as_deref())?;
        let threshold = self.threshold.unwrap_or(model.default_threshold);
        if !(0.0..=1.0).contains(&threshold) {
            bail!("-threshold must be between 0 and 1 (a probability), not {threshold}");
        }
        let Some(filter) = OutputFilter::parse(&self.output_filter) else {
            bail!("-output-filter takes alerts, ok or all, not {:?}", self.output_filter);
        };
        Ok(Some(Prepared {
            model,
            options: DetectOptions { threshold, min_packets: self.min_packets, filter },
            events: self.events.clone(),
        }))
    }
}

/// Prometheus counters of the detector, registered beside the capture's.
fn register_metrics(metrics: &netcap_export::Metrics) -> anyhow::Result<netcap_detect::VerdictHook> {
    let scored =
        prometheus::IntCounter::new("netcap_detect_flows_scored_total", "Connections scored by the flow model")?;
    let alerts = prometheus::IntCounter::new(
        "netcap_detect_alerts_total",
        "Scored connections at or above the detection threshold",
    )?;
    metrics.registry().register(Box::new(scored.clone()))?;
    metrics.registry().register(Box::new(alerts.clone()))?;
    Ok(Box::new(move |alert| {
        scored.inc();
        if alert {
            alerts.inc();
        }
    }))
}

impl Prepared {
    /// The detector: events to stdout or the rotating log, Alert records
    /// into `out` if given.
    fn detector(
        self,
        out: Option<&Path>,
        source: &str,
        metrics: Option<&netcap_export::Metrics>,
    ) -> anyhow::Result<Detector> {
        let events = match &self.events {
            Some(dir) => EventOutput::log(dir)?,
            None => EventOutput::Writer(Box::new(std::io::LineWriter::new(std::io::stdout()))),
        };
        let alerts = out.map(|dir| AlertWriter::create(dir, &crate::producer(), source)).transpose()?;
        let mut detector = Detector::new(self.model, self.options, events, alerts);
        if let Some(m) = metrics {
            detector = detector.with_hook(register_metrics(m)?);
        }
        Ok(detector)
    }
}

/// Connection frames queued for the scoring thread at most: the writer
/// waits beyond (bounded memory; a frame's content is at most a few MB).
const SCORING_QUEUE: usize = 64;

/// Hands the Connection records the capture writes to a scoring thread
/// (the writer thread only copies each frame's content once), and passes
/// every call on to an inner observer (metrics) if there is one.
pub struct DetectObserver<'a> {
    queue: Option<crossbeam_channel::Sender<Vec<u8>>>,
    scorer: Option<std::thread::JoinHandle<Detector>>,
    pub inner: Option<&'a mut dyn Observer>,
    /// Connection frames that came without their content.
    pub unread_frames: u64,
}

impl<'a> DetectObserver<'a> {
    /// Starts the scoring thread.
    pub fn start(mut detector: Detector, inner: Option<&'a mut dyn Observer>) -> anyhow::Result<Self> {
        let (queue, frames) = crossbeam_channel::bounded::<Vec<u8>>(SCORING_QUEUE);
        let scorer = std::thread::Builder::new()
            .name("netcap-detect".into())
            .spawn(move || {
                for content in frames {
                    detector.connections_in(&content);
                }
                detector
            })
            .context("starting the scoring thread")?;
        Ok(DetectObserver { queue: Some(queue), scorer: Some(scorer), inner, unread_frames: 0 })
    }

    /// Waits for the scoring thread to score what was queued.
    pub fn finish(mut self) -> anyhow::Result<Detector> {
        drop(self.queue.take());
        match self.scorer.take().map(|h| h.join()) {
            Some(Ok(detector)) => Ok(detector),
            _ => bail!("the scoring thread failed"),
        }
    }
}

impl Observer for DetectObserver<'_> {
    fn frame(&mut self, record_type: RecordType, records: u64, frame: &[u8], content: Option<&[u8]>) {
        if record_type == RecordType::Connection {
            match (content, &self.queue) {
                // A send fails only when the scoring thread is gone (it
                // panicked); finish() reports that.
                (Some(c), Some(queue)) => {
                    let _ = queue.send(c.to_vec());
                }
                _ => self.unread_frames += 1,
            }
        }
        if let Some(o) = self.inner.as_mut() {
            o.frame(record_type, records, frame, content);
        }
    }

    fn reads_content(&self, record_type: RecordType) -> bool {
        record_type == RecordType::Connection || self.inner.as_ref().is_some_and(|o| o.reads_content(record_type))
    }

    fn batch(&mut self, batch: &BatchCounts<'_>) {
        if let Some(o) = self.inner.as_mut() {
            o.batch(batch);
        }
    }

    fn active_flows(&mut self, active: u64) {
        if let Some(o) = self.inner.as_mut() {
            o.active_flows(active);
        }
    }
}

fn print_counters(c: &DetectCounters, model: &str) {
    eprintln!(
        "netcap: detect: {} connections scored with {model}, {} alerts, {} under -min-packets not scored{}",
        c.scored,
        c.alerts,
        c.skipped,
        if c.bad_records > 0 { format!(", {} damaged records", c.bad_records) } else { String::new() }
    );
}

/// Runs a capture with a detector on its Connection records. `out`: where
/// record files go (None: nowhere). Returns the capture's exit code.
pub fn run_capture(
    config: &CaptureConfig,
    prepared: Prepared,
    out: Option<&Path>,
    metrics_address: Option<std::net::SocketAddr>,
    top_n: usize,
    quiet: bool,
) -> anyhow::Result<ExitCode> {
    if !config.decode.is_enabled(RecordType::Connection) || config.session.as_ref().is_none_or(|s| !s.connections) {
        usage_bail!("-model scores Connection records: do not exclude them (-include/-exclude)");
    }
    let stop = capture_cmd::stop_on_signals()?;
    let mut sink: Box<dyn RecordSink> = match out {
        Some(dir) => Box::new(netcap_capture::DirectorySink::create(dir)?),
        None => Box::new(netcap_export::DiscardSink),
    };
    let source = config.input.describe();
    let (metrics, server) = match metrics_address {
        Some(address) => {
            let metrics = netcap_export::Metrics::with_top_n(env!("NETCAP_VERSION"), top_n)?;
            let server = netcap_export::MetricsServer::start(address, metrics.clone())?;
            eprintln!("netcap: serving metrics on http://{}/metrics", server.local_addr());
            (Some(metrics), Some(server))
        }
        None => (None, None),
    };
    let model_name = prepared.model.name.clone();
    let detector = prepared.detector(out, &source, metrics.as_ref())?;
    let mut metrics_observer = metrics.clone().map(netcap_export::MetricsObserver::new);
    let mut observer = DetectObserver::start(detector, metrics_observer.as_mut().map(|o| o as &mut dyn Observer))?;
    let summary = capture_cmd::run_with_progress(quiet, |progress| {
        netcap_capture::run_observed(config, Some(sink.as_mut()), &mut observer, progress, &stop)
    })?;
    if let Some(m) = &metrics {
        m.set_input_complete(!matches!(config.input, Input::Live(_)));
    }
    if let Some(s) = server {
        s.stop();
    }
    let unread_frames = observer.unread_frames;
    let counters = observer.finish()?.finish()?;
    if unread_frames > 0 {
        eprintln!("netcap: warning: detect: {unread_frames} Connection frames came without their records");
    }
    if !quiet {
        if out.is_some() {
            capture_cmd::print_summary(config, &summary, stop.load(Ordering::Relaxed));
        }
        print_counters(&counters, &model_name);
    }
    if let Some(damage) = &summary.input_error {
        eprintln!("netcap: warning: {damage}");
        return Ok(ExitCode::from(EXIT_DAMAGED_INPUT));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run(args: DetectArgs) -> anyhow::Result<ExitCode> {
    let quiet = args.quiet.unwrap_or(false);
    if let Some(out) = &args.out {
        capture_cmd::check_out_dir(out)?;
    }
    // The model first: a bad one is refused before any packet is read.
    let Some(prepared) = args.detection.prepare()? else { usage_bail!("netcap detect needs -model FILE") };
    if let Some(dir) = &args.dir {
        return run_records(dir, prepared, args.out.as_deref(), quiet);
    }
    let metrics_address = args.metrics.as_deref().map(capture_cmd::parse_listen_address).transpose()?;
    let mut config = capture_cmd::capture_config(
        args.read.as_deref(),
        args.iface.as_deref(),
        &args.live,
        &args.analysis,
        None,
        args.compression,
    )?;
    if let Some(out) = &args.out {
        config.out_dir = out.clone();
    }
    run_capture(&config, prepared, args.out.as_deref(), metrics_address, netcap_export::DEFAULT_TOP_N, quiet)
}

/// Connection records `detect -dir` scores in one batch.
const RECORDS_PER_BATCH: usize = 1024;

/// `detect -dir`: scores the Connection records of a record directory.
fn run_records(dir: &Path, prepared: Prepared, out: Option<&Path>, quiet: bool) -> anyhow::Result<ExitCode> {
    let path = dir.join(RecordType::Connection.file_name());
    let name = path.display().to_string();
    let file = std::fs::File::open(&path).with_context(|| format!("{name} (detect -dir reads Connection records)"))?;
    let mut reader = RecordReader::new(name.clone(), std::io::BufReader::new(file))?;
    if reader.record_type() != RecordType::Connection {
        bail!("{name}: holds {} records, not Connection", reader.record_type().name());
    }
    if let Some(out) = out {
        std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    }
    let model_name = prepared.model.name.clone();
    let mut detector = prepared.detector(out, &name, None)?;
    let mut damaged = false;
    // Scored in batches, as a capture's frames are (an ONNX model runs once
    // per batch).
    let mut batch: Vec<Connection> = Vec::with_capacity(RECORDS_PER_BATCH);
    loop {
        if batch.len() == RECORDS_PER_BATCH {
            detector.connections(&batch);
            batch.clear();
        }
        match reader.next::<Connection>() {
            Ok(Some(c)) => batch.push(c),
            Ok(None) => break,
            // The reader goes on after a damaged frame and returns None
            // after any other error: the loop ends either way.
            Err(e) => {
                if !damaged {
                    eprintln!("netcap: warning: {e}");
                }
                damaged = true;
            }
        }
    }
    detector.connections(&batch);
    let counters = detector.finish()?;
    if !quiet {
        print_counters(&counters, &model_name);
    }
    Ok(if damaged { ExitCode::from(EXIT_DAMAGED_INPUT) } else { ExitCode::SUCCESS })
}
