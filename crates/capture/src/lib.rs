//! Capture: read packets from a file or an interface, decode them on all
//! cores, and write one `.ncap.zst` stream per record type.
//!
//! Data flows one way: a source thread cuts the packet stream into numbered
//! batches; workers decode and compress batches independently; the writer
//! puts the compressed frames into the files in batch order. Batch
//! boundaries depend only on the input, so the files are the same whatever
//! the number of workers.

mod batch;
mod bpf;
mod derived;
mod file_source;
mod live_source;
mod observe;
mod output;
mod pipeline;
mod replay;
mod session_stage;

use netcap_decoder::{DecodeConfig, DecodeStats};
use netcap_records::RecordType;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::Duration;

pub use batch::SourceInfo;
pub use derived::{AlertFn, InventoryOptions, ProfileOptions, SessionOptions, SpotOptions};
pub use file_source::{InputError, read_packets, read_packets_in_memory};
pub use live_source::LiveOptions;
pub use observe::{
    BatchCounts, LINK_CLASSES, NETWORK_CLASSES, Observer, TRANSPORT_CLASSES, TrafficCell, TrafficCounts, link_class,
};
pub use output::{DirectorySink, RecordSink};
pub use replay::{Replay, ReplayStats, human_duration};
pub use session_stage::SessionCounters;

/// Where packets come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// A pcap or pcapng file (format detected from its magic number).
    File(PathBuf),
    /// A pcap or pcapng stream on standard input.
    Stdin,
    /// A network interface, through libpcap.
    Live(LiveOptions),
}

impl Input {
    /// How the input is named in headers and messages.
    pub fn describe(&self) -> String {
        match self {
            Input::File(path) => path.display().to_string(),
            Input::Stdin => "-".into(),
            Input::Live(live) => format!("iface:{}", live.interface),
        }
    }
}

/// Everything a capture run needs.
#[derive(Debug, Clone)]
pub struct CaptureConfig {
    pub input: Input,
    /// Directory for the `<Type>.ncap.zst` files (created if missing).
    pub out_dir: PathBuf,
    pub decode: DecodeConfig,
    /// Decode threads.
    pub workers: usize,
    /// zstd level for record frames.
    pub compression_level: i32,
    /// Producer string for headers, e.g. "netcap 0.1.0".
    pub producer: String,
    /// Per-tick statistics with SPOT anomaly detection, if wanted.
    pub spot: Option<SpotOptions>,
    /// The session stage (Connection and Flow records, TCP streams, QUIC
    /// Initials), if any of its records are wanted.
    pub session: Option<SessionOptions>,
    /// Host and device profiles (Host and DeviceProfile records), if wanted.
    pub profiles: Option<ProfileOptions>,
    /// Software and Service records, if wanted (they need the session
    /// stage's Connection records).
    pub inventory: Option<InventoryOptions>,
    /// Replay a file or stream at the pace of its packets' timestamps (at
    /// [`Replay::speed`], long silences shortened to [`Replay::max_gap`]);
    /// `None` reads as fast as possible. Live captures have their own pace.
    pub replay: Option<Replay>,
    /// A BPF expression (libpcap syntax) packets of a file or stdin must
    /// match; the others are left out before decoding and counted. Live
    /// captures filter in the kernel ([`LiveOptions::bpf`]) instead.
    pub bpf: Option<String>,
}

/// Counters a progress display may read while the capture runs.
#[derive(Debug, Default)]
pub struct Progress {
    pub packets: AtomicU64,
    /// Bytes of the input consumed so far (file inputs).
    pub input_bytes: AtomicU64,
    /// Total input size if known (regular files), else 0.
    pub input_size: AtomicU64,
}

/// Lets the caller stop a capture early (SIGINT, SIGTERM): the pipeline
/// then drains, writes everything read so far and closes every file.
pub type StopFlag = Arc<AtomicBool>;

/// What a capture did.
#[derive(Debug, Default)]
pub struct CaptureSummary {
    pub packets: u64,
    /// Captured bytes of all packets.
    pub bytes: u64,
    /// Records written per type, for types that got any.
    pub records: Vec<(RecordType, u64)>,
    pub decode: DecodeStats,
    /// Files written, in record-type order.
    pub files: Vec<PathBuf>,
    pub elapsed: Duration,
    /// Set if the input ended in damage (truncated or corrupt); every packet
    /// before it was decoded and written.
    pub input_error: Option<InputError>,
    /// Packets of a file or stdin left out by [`CaptureConfig::bpf`].
    pub bpf_filtered: u64,
    /// Link types of the input the BPF expression does not compile for
    /// (their packets were all left out), with libpcap's reason.
    pub bpf_unfilterable: Vec<(u32, String)>,
    /// Packets libpcap reported as dropped (live captures).
    pub dropped: Option<u64>,
    /// SPOT alerts raised (with statistics on).
    pub spot_alerts: u64,
    /// How far each statistic got towards calibration (with statistics
    /// on): [`netcap_spot::calibration_lines`] says it for people.
    pub spot_calibration: Option<netcap_spot::CalibrationReport>,
    /// What pacing a replay did (with [`CaptureConfig::replay`]).
    pub replay: Option<ReplayStats>,
    /// What flow tracking did (when the session stage ran).
    pub flows: Option<netcap_flow::FlowCounters>,
    /// What TCP reassembly and the stream protocols did (when on).
    pub streams: Option<netcap_session::StreamCounters>,
    /// What QUIC Initial tracking did (when on).
    pub quic: Option<netcap_session::QuicCounters>,
    /// IP fragment reassembly counts.
    pub reassembly: netcap_decoder::reassembly::ReassemblyStats,
    /// What the profile tables did (when profiles were on).
    pub profiles: Option<netcap_profile::ProfileCounters>,
    /// What the inventory tables did (when Software or Service records
    /// were wanted).
    pub inventory: Option<netcap_inventory::InventoryCounters>,
}

/// A capture that could not run, or could not write its output.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error("{0}")]
    Live(String),
    #[error(transparent)]
    Write(#[from] netcap_records::WriteError),
    #[error("{path}: {source}")]
    OutputDir { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("worker thread failed: {0}")]
    Worker(String),
}

/// Runs a capture to the end of the input (or until `stop` is set), writing
/// record files into `config.out_dir`.
pub fn run(config: &CaptureConfig, progress: &Progress, stop: &StopFlag) -> Result<CaptureSummary, CaptureError> {
    pipeline::run(config, None, None, progress, stop)
}

/// Runs a capture like [`run`], handing the records to `sink` instead of
/// writing files (`config.out_dir` is not used).
pub fn run_with_sink(
    config: &CaptureConfig,
    sink: &mut dyn RecordSink,
    progress: &Progress,
    stop: &StopFlag,
) -> Result<CaptureSummary, CaptureError> {
    pipeline::run(config, Some(sink), None, progress, stop)
}

/// Runs a capture like [`run`] (record files in `config.out_dir`) or, with a
/// `sink`, like [`run_with_sink`], and shows `observer` every frame written
/// and every batch's counts, in order (metrics). The workers then also count
/// each batch's packets by protocol.
pub fn run_observed(
    config: &CaptureConfig,
    sink: Option<&mut dyn RecordSink>,
    observer: &mut dyn Observer,
    progress: &Progress,
    stop: &StopFlag,
) -> Result<CaptureSummary, CaptureError> {
    pipeline::run(config, sink, Some(observer), progress, stop)
}
