//! The capture pipeline: source → workers (decode, compress) → ordered writer.

use crate::batch::{Batch, SourceInfo};
use crate::derived::{DerivedPart, WorkerDerive, WriterDerive, wall_clock_ns};
use crate::file_source::{CheckedInput, CountingReader, InputError, StallSignal, StallingReader, check_input};
use crate::observe::{BatchCounts, LinkClasses, Observer, TrafficCounts};
use crate::output::{DirectorySink, RecordSink};
use crate::replay::Pacer;
use crate::session_stage::{self, SessionOutput};
use crate::{
    CaptureConfig, CaptureError, CaptureSummary, Input, LiveOptions, Progress, StopFlag, file_source, live_source,
};
use crossbeam_channel::{Receiver, Sender, bounded};
use netcap_decoder::network_offset;
use netcap_decoder::reassembly::{Reassembler, ReassemblyConfig};
use netcap_decoder::{DecodeConfig, DecodeStats, Decoder, PacketMeta, RecordBuffers};
use netcap_records::{FrameCompressor, Header, RecordType, SCHEMA_VERSION, WriteError};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// LINKTYPE of reassembled datagrams: raw IP.
const LINKTYPE_RAW: u32 = 101;

/// Records written per record type.
type RecordCounts = Vec<(RecordType, u64)>;

/// A batch decoded and compressed: one zstd frame per record type present.
pub(crate) struct EncodedBatch {
    pub seq: u64,
    pub packets: u64,
    pub bytes: u64,
    pub frames: Vec<EncodedFrame>,
    pub stats: DecodeStats,
    pub info: Arc<SourceInfo>,
    /// This batch's share of derived records (statistics).
    pub derived: DerivedPart,
    /// Packets by protocol, when the capture is observed.
    pub traffic: Option<TrafficCounts>,
}

/// What reaches the writer: decoded batches from the workers, and the
/// session threads' records.
pub(crate) enum ToWriter {
    /// Boxed: a batch's decode statistics take a few KiB.
    Batch(Box<EncodedBatch>),
    Session(SessionOutput),
}

pub(crate) struct EncodedFrame {
    pub record_type: RecordType,
    pub records: u64,
    pub frame: Vec<u8>,
    /// What `frame` was compressed from, kept for the observer's types.
    pub content: Option<Vec<u8>>,
}

/// How the stages make frames: the zstd level, and which record types keep
/// their content for the observer.
#[derive(Clone)]
pub(crate) struct FrameSettings {
    pub level: i32,
    pub keep: KeepContent,
}

impl FrameSettings {
    /// The zstd level of Connection and Flow frames: two steps faster than
    /// the packet records' when those are at a fast (negative) level. Flow
    /// records are dense (statistics as doubles, addresses, Community IDs)
    /// and compress poorly at any fast level: on the benchmark capture -3
    /// compresses them 25-30 % faster than -1 into 3-5 % larger files, and at
    /// the end of a capture their compression is most of what is left to
    /// do. Positive (archival) levels apply as given.
    pub fn flow_level(&self) -> i32 {
        if self.level < 0 { self.level.saturating_sub(2) } else { self.level }
    }
}

/// The record types whose frames keep their content: for the observer
/// ([`Observer::reads_content`]), and for the profiles (the session stage's
/// records they read, [`netcap_profile::SESSION_RECORD_TYPES`]); none
/// without either.
#[derive(Clone, Default)]
pub(crate) struct KeepContent {
    keep: Arc<[bool]>,
    observer: Arc<[bool]>,
}

impl KeepContent {
    fn of(observer: Option<&dyn Observer>, profiles: bool, inventory: bool) -> Self {
        let observer: Arc<[bool]> = match observer {
            None => Arc::from([]),
            Some(o) => RecordType::all().map(|t| o.reads_content(t)).collect(),
        };
        let keep = RecordType::all()
            .map(|t| {
                observer.get(t.index()).copied().unwrap_or(false)
                    || (profiles && netcap_profile::SESSION_RECORD_TYPES.contains(&t))
                    || (inventory && t == RecordType::Connection)
            })
            .collect();
        KeepContent { keep, observer }
    }

    pub fn wants(&self, record_type: RecordType) -> bool {
        self.keep.get(record_type.index()).copied().unwrap_or(false)
    }

    /// Whether the observer reads this type's content (the profiles' types
    /// lose theirs once read, unless it does).
    pub fn observer_wants(&self, record_type: RecordType) -> bool {
        self.observer.get(record_type.index()).copied().unwrap_or(false)
    }

    /// A frame of `records` records of `record_type` compressed from
    /// `content`, which it keeps if the observer reads that type.
    pub fn frame(
        &self,
        compressor: &mut FrameCompressor,
        record_type: RecordType,
        records: u64,
        content: &[u8],
    ) -> Result<EncodedFrame, WriteError> {
        let frame = compressor.compress(content)?;
        let content = self.wants(record_type).then(|| content.to_vec());
        Ok(EncodedFrame { record_type, records, frame, content })
    }
}

/// The source's end of the pipeline: collects packets into batches and
/// numbers them.
pub(crate) struct BatchSender<'p> {
    current: Batch,
    next_seq: u64,
    tx: Option<Sender<Batch>>,
    recycled: Receiver<Batch>,
    info: Arc<SourceInfo>,
    /// The mapped input file, whose packets batches reference in place.
    mapping: Option<Arc<memmap2::Mmap>>,
    stop: &'p AtomicBool,
    /// Set when a later stage has failed and stopped taking batches.
    broken: &'p AtomicBool,
    progress: &'p Progress,
    /// Replay: holds packets back until they are due.
    pacer: Option<Pacer>,
    /// IP fragment reassembly, in packet order (None when switched off):
    /// it must come before decoding (a datagram's transport header and
    /// payload need every fragment), and before flow sharding (only the
    /// first fragment has ports), so it runs here, not in the session stage.
    reassembler: Option<Reassembler>,
    /// `-bpf` on a file or stdin: packets it leaves out go no further.
    filter: Option<crate::bpf::OfflineFilter>,
}

impl file_source::PacketSink for BatchSender<'_> {
    fn packet(&mut self, meta: PacketMeta, data: &[u8]) {
        self.push(meta, data);
    }
    fn info(&self) -> &SourceInfo {
        &self.info
    }
    fn set_info(&mut self, info: SourceInfo) {
        self.info = Arc::new(info);
    }
    fn stopped(&self) -> bool {
        BatchSender::stopped(self)
    }
    fn input_stalled(&mut self) {
        self.flush();
    }
    fn set_mapping(&mut self, mapping: Arc<memmap2::Mmap>) {
        self.mapping = Some(mapping);
    }
}

impl BatchSender<'_> {
    pub fn push(&mut self, meta: PacketMeta, bytes: &[u8]) {
        if let Some(filter) = self.filter.as_mut()
            && !filter.matches(meta.link_type, bytes)
        {
            return;
        }
        if let Some(due) = self.pacer.as_mut().and_then(|p| p.due(meta.timestamp_ns, Instant::now())) {
            // What came before is due now: hand it on, then wait.
            self.flush();
            Pacer::wait_until(due, || self.stopped());
        }
        self.current.push(meta, bytes, self.mapping.as_ref());
        // IP reassembly looks at the IP packet right under the link layer.
        let ip = self.reassembler.is_some().then(|| network_offset(meta.link_type, bytes)).flatten();
        if let Some(ip) = ip.and_then(|offset| bytes.get(offset..)) {
            // A datagram completed by this fragment is decoded right after it.
            if let Some(datagram) = self.reassembler.as_mut().and_then(|r| r.push_ip(meta.timestamp_ns, ip)) {
                let whole = PacketMeta {
                    link_type: LINKTYPE_RAW,
                    wire_length: datagram.len() as u32,
                    reassembled: true,
                    ..meta
                };
                self.current.push(whole, datagram, None);
            }
        }
        self.progress.packets.fetch_add(1, Ordering::Relaxed);
        if self.current.is_full() {
            self.flush();
        }
    }

    /// Hands the current batch on, if it has packets.
    pub fn flush(&mut self) {
        if self.current.is_empty() {
            return;
        }
        let fresh = self.recycled.try_recv().unwrap_or_default();
        let mut batch = std::mem::replace(&mut self.current, fresh);
        batch.seq = self.next_seq;
        batch.info = self.info.clone();
        self.next_seq += 1;
        let sent = self.tx.as_ref().is_some_and(|tx| tx.send(batch).is_ok());
        if !sent {
            self.broken.store(true, Ordering::Relaxed);
        }
    }

    /// True once the capture should end: stop requested or pipeline broken.
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.broken.load(Ordering::Relaxed)
    }

    pub fn pending(&self) -> usize {
        self.current.len()
    }

    fn close(&mut self) {
        self.flush();
        self.tx = None;
    }
}

pub(crate) fn run(
    config: &CaptureConfig,
    sink: Option<&mut dyn RecordSink>,
    observer: Option<&mut dyn Observer>,
    progress: &Progress,
    stop: &StopFlag,
) -> Result<CaptureSummary, CaptureError> {
    let started = Instant::now();
    // Open the input first: a bad path or interface must fail before any
    // output file is touched.
    let opened = open_input(config, progress)?;
    let filter = match (&config.input, config.bpf.as_deref()) {
        (Input::Live(_), _) | (_, None) => None,
        (_, Some(expression)) => Some(crate::bpf::OfflineFilter::new(expression)?),
    };
    let mut directory;
    let sink: &mut dyn RecordSink = match sink {
        Some(sink) => sink,
        None => {
            directory = DirectorySink::create(&config.out_dir)?;
            &mut directory
        }
    };
    let count_traffic = observer.is_some();
    let profiles = config.profiles.as_ref();
    let settings = FrameSettings {
        level: config.compression_level,
        keep: KeepContent::of(observer.as_deref(), profiles.is_some(), config.inventory.is_some()),
    };
    let mut output = Output::new(config, sink, observer);
    let workers = config.workers.max(1);
    // As many session threads as decode threads: the session stage costs a
    // fraction of decoding, and its threads sleep while they wait.
    let session = config.session.as_ref();
    let session_threads = session.map(|_| workers);
    let live = matches!(config.input, Input::Live(_));
    // The inventory reads Connection records, wanted or not (unwanted ones
    // are dropped once read).
    let enabled: Vec<bool> = RecordType::all()
        .map(|t| config.decode.is_enabled(t) || (t == RecordType::Connection && config.inventory.is_some()))
        .collect();
    let ftp_data = session.and_then(|o| o.session.streams.as_ref()).map(|streams| netcap_session::MatchConfig {
        extract_dir: streams.files.extract_dir.clone(),
        records: enabled.get(RecordType::File.index()).copied().unwrap_or(false),
    });
    let writer_derive = WriterDerive::new(
        config.spot.as_ref(),
        session_threads,
        ftp_data,
        profiles,
        config.inventory.as_ref(),
        live,
        &settings,
    )?;
    let (batch_tx, batch_rx) = bounded::<Batch>(workers * 2);
    let (encoded_tx, encoded_rx) = bounded::<ToWriter>(workers * 4);
    let (recycle_tx, recycle_rx) = bounded::<Batch>(workers * 4);
    let broken = AtomicBool::new(false);

    let (source_result, worker_results, writer_result, reassembly, filter, replay) = std::thread::scope(|scope| {
        let (router, session_handles) = match session {
            Some(options) => {
                let (router, handles) =
                    session_stage::spawn(scope, workers, options, &encoded_tx, workers * 2, &settings, &enabled);
                (Some(router), handles)
            }
            None => (None, Vec::new()),
        };
        let worker_handles: Vec<_> = (0..workers)
            .map(|i| {
                let (rx, tx, recycle) = (batch_rx.clone(), encoded_tx.clone(), recycle_tx.clone());
                let decode = config.decode.clone();
                let broken = &broken;
                let derive = WorkerDerive::new(config.spot.as_ref(), router.clone(), profiles.is_some());
                let settings = settings.clone();
                spawn_named(scope, format!("netcap-decode{i}"), move || {
                    let result = worker(rx, tx, recycle, decode, derive, &settings, count_traffic);
                    // Its batches will never reach the writer: stop reading.
                    if result.is_err() {
                        broken.store(true, Ordering::Relaxed);
                    }
                    result
                })
            })
            .collect();
        // The workers hold the only senders to the session threads: once
        // they are done, the session threads finish.
        drop(router);
        drop((batch_rx, encoded_tx, recycle_tx));
        let (output, broken) = (&mut output, &broken);
        let writer_handle = spawn_named(scope, "netcap-writer".into(), move || {
            let result = write_in_order(encoded_rx, output, writer_derive, live);
            if result.is_err() {
                broken.store(true, Ordering::Relaxed);
            }
            result
        });

        let mut sender = BatchSender {
            current: Batch::default(),
            next_seq: 0,
            tx: Some(batch_tx),
            recycled: recycle_rx,
            info: Arc::new(SourceInfo::default()),
            mapping: None,
            stop,
            broken,
            progress,
            pacer: match config.input {
                Input::Live(_) => None,
                _ => config.replay.map(Pacer::new),
            },
            reassembler: config.decode.reassemble.then(|| Reassembler::new(ReassemblyConfig::default())),
            filter,
        };
        let source_result = read_input(opened, &config.input.describe(), &mut sender, progress);
        sender.close();
        let reassembly = sender.reassembler.as_ref().map(|r| *r.stats()).unwrap_or_default();
        let filter = sender.filter.take();
        let replay = sender.pacer.as_ref().map(Pacer::stats);
        let mut worker_results: Vec<_> = worker_handles.into_iter().map(|h| h.join()).collect();
        for handle in session_handles {
            if handle.join().is_err() {
                broken.store(true, Ordering::Relaxed);
                worker_results.push(Err(Box::new("the session stage panicked") as Box<dyn std::any::Any + Send>));
            }
        }
        (source_result, worker_results, writer_handle.join(), reassembly, filter, replay)
    });

    // A worker's failure explains a writer that missed its batches: report it first.
    for result in worker_results {
        match result {
            Ok(result) => result?,
            Err(_) => return Err(CaptureError::Worker("decoder panicked".into())),
        }
    }
    let mut totals = match writer_result {
        Ok(result) => result?,
        Err(_) => return Err(CaptureError::Worker("writer panicked".into())),
    };
    let (input_error, dropped) = source_result?;
    let (records, files) = output.finish()?;
    totals.records = records;
    totals.files = files;
    totals.input_error = input_error;
    totals.dropped = dropped;
    totals.reassembly = reassembly;
    if let Some(filter) = filter {
        totals.bpf_filtered = filter.filtered;
        totals.bpf_unfilterable = filter.unfilterable;
    }
    totals.replay = replay;
    totals.elapsed = started.elapsed();
    Ok(totals)
}

/// Starts a named thread in `scope`: names show in `top -H`, `perf` and
/// panic messages, which tells the pipeline's stages apart. Panics, as
/// `Scope::spawn` does, when the OS cannot start a thread.
pub(crate) fn spawn_named<'scope, 'env, T: Send + 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    name: String,
    f: impl FnOnce() -> T + Send + 'scope,
) -> std::thread::ScopedJoinHandle<'scope, T> {
    match std::thread::Builder::new().name(name).spawn_scoped(scope, f) {
        Ok(handle) => handle,
        Err(e) => panic!("cannot start a capture thread: {e}"),
    }
}

enum OpenedInput<'p> {
    /// A pcap or pcapng stream (file or stdin).
    Capture(CheckedInput<'p>),
    Live(pcap::Capture<pcap::Active>, LiveOptions),
}

/// Opens the input and checks its format, so that a bad path, a file of
/// another kind or an unusable interface fail before any output is made.
fn open_input<'p>(config: &CaptureConfig, progress: &'p Progress) -> Result<OpenedInput<'p>, CaptureError> {
    let name = config.input.describe();
    Ok(match &config.input {
        Input::File(path) => {
            let file = std::fs::File::open(path).map_err(|source| InputError::Open { name: name.clone(), source })?;
            if let Ok(meta) = file.metadata() {
                progress.input_size.store(meta.len(), Ordering::Relaxed);
            }
            match file_source::check_mapped(&name, &file)? {
                Some(mapped) => OpenedInput::Capture(mapped),
                // A FIFO or device: read like stdin.
                None => OpenedInput::Capture(stalling_input(&name, file, progress)?),
            }
        }
        Input::Stdin => OpenedInput::Capture(stalling_input(&name, std::io::stdin(), progress)?),
        Input::Live(options) => OpenedInput::Live(live_source::open(options)?, options.clone()),
    })
}

/// A stream read on its own thread, whose stalls hand pending packets on.
fn stalling_input<'p>(
    name: &str,
    input: impl std::io::Read + Send + 'static,
    progress: &'p Progress,
) -> Result<CheckedInput<'p>, CaptureError> {
    let stall = Arc::new(StallSignal::default());
    let reader = StallingReader::spawn(input, stall.clone());
    Ok(check_input(name, CountingReader { inner: reader, progress }, stall)?)
}

type SourceOutcome = (Option<InputError>, Option<u64>);

fn read_input(
    opened: OpenedInput<'_>,
    name: &str,
    sender: &mut BatchSender<'_>,
    progress: &Progress,
) -> Result<SourceOutcome, CaptureError> {
    match opened {
        OpenedInput::Capture(input) => Ok((file_source::read_capture(name, input, sender, progress)?, None)),
        OpenedInput::Live(capture, options) => Ok((None, live_source::read_live(capture, &options, sender)?)),
    }
}

/// Decodes and compresses batches until the source closes; with
/// `count_traffic`, also counts each batch's packets by protocol (from the
/// packet summaries: a few additions per packet, on this worker's own
/// counters).
fn worker(
    batches: Receiver<Batch>,
    encoded: Sender<ToWriter>,
    recycle: Sender<Batch>,
    mut decode: DecodeConfig,
    mut derive: WorkerDerive,
    settings: &FrameSettings,
    count_traffic: bool,
) -> Result<(), WriteError> {
    decode.summaries |= derive.needs_summaries() || count_traffic;
    let link_classes = count_traffic.then(LinkClasses::new);
    let mut decoder = Decoder::new(decode);
    let mut buffers = RecordBuffers::new();
    let mut compressor = FrameCompressor::new(settings.level)?;
    for batch in batches {
        buffers.clear();
        // Reassembled datagrams are decoded but are not captured packets.
        let (mut packets, mut bytes) = (0u64, 0u64);
        for (meta, data) in batch.iter() {
            decoder.decode(meta, data, &mut buffers);
            if !meta.reassembled {
                packets += 1;
                bytes += data.len() as u64;
            }
        }
        let traffic = link_classes.as_ref().map(|classes| {
            let mut counts = TrafficCounts::default();
            classes.count(&batch, &buffers.summaries, &mut counts);
            counts
        });
        let mut frames = Vec::new();
        for record_type in RecordType::all() {
            let records = buffers.count(record_type);
            if records > 0 {
                frames.push(settings.keep.frame(&mut compressor, record_type, records, buffers.bytes(record_type))?);
            }
        }
        let (seq, info) = (batch.seq, batch.info.clone());
        // The session stage reads payloads from the batch itself: it goes
        // there (and is freed when the last session thread is done) rather
        // than back to the source.
        let (shared, batch) = if derive.needs_batch() { (Some(Arc::new(batch)), None) } else { (None, Some(batch)) };
        let Ok(derived) = derive.batch(seq, &buffers, shared) else {
            // The session threads have gone: the capture is failing or stopping.
            break;
        };
        let result = EncodedBatch { seq, packets, bytes, frames, stats: decoder.take_stats(), info, derived, traffic };
        if let Some(mut batch) = batch {
            batch.clear();
            let _ = recycle.try_send(batch);
        }
        if encoded.send(ToWriter::Batch(Box::new(result))).is_err() {
            break;
        }
    }
    Ok(())
}

/// Writes batches in sequence order, whatever order workers finish them in,
/// followed by the derived records each batch completes.
fn write_in_order(
    encoded: Receiver<ToWriter>,
    output: &mut Output<'_, '_>,
    mut derive: WriterDerive,
    live: bool,
) -> Result<CaptureSummary, CaptureError> {
    let mut summary = CaptureSummary::default();
    let mut waiting = BTreeMap::new();
    let mut next = 0u64;
    let mut info = Arc::new(SourceInfo::default());
    loop {
        // A live capture's statistics ticks close on the wall clock, even
        // when no packets come.
        let batch = match encoded.recv_timeout(std::time::Duration::from_millis(500)) {
            Ok(ToWriter::Batch(batch)) => batch,
            Ok(ToWriter::Session(part)) => {
                derive.session(part);
                let frames = derive.session_frames(next)?;
                output.write(&frames, &info)?;
                output.active_flows(&derive);
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {
                if live {
                    let frames = derive.close_before(wall_clock_ns())?;
                    output.write(&frames, &info)?;
                }
                continue;
            }
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => break,
        };
        waiting.insert(batch.seq, batch);
        while let Some(batch) = waiting.remove(&next) {
            output.write(&batch.frames, &batch.info)?;
            summary.packets += batch.packets;
            summary.bytes += batch.bytes;
            summary.decode.merge(&batch.stats);
            info = batch.info.clone();
            let frames = derive.batch(batch.derived)?;
            output.write(&frames, &info)?;
            if let (Some(observer), Some(traffic)) = (output.observer.as_mut(), &batch.traffic) {
                observer.batch(&BatchCounts {
                    packets: batch.packets,
                    bytes: batch.bytes,
                    traffic,
                    decode: &batch.stats,
                });
            }
            next += 1;
            let frames = derive.session_frames(next)?;
            output.write(&frames, &info)?;
            output.active_flows(&derive);
        }
    }
    if !waiting.is_empty() {
        return Err(CaptureError::Worker(format!("batch {next} never arrived")));
    }
    let frames = derive.finish()?;
    output.write(&frames, &info)?;
    summary.spot_alerts = derive.alerts();
    summary.profiles = derive.profile_counters();
    summary.inventory = derive.inventory_counters();
    summary.spot_calibration = derive.calibration();
    if let Some(c) = derive.session_counters() {
        summary.flows = Some(c.flows);
        summary.streams = c.streams;
        summary.quic = c.quic;
    }
    derive.release_tables();
    Ok(summary)
}

/// The writer's view of the sink: builds each type's header from the run's
/// settings and the source's link types, and counts records per type.
struct Output<'s, 'o> {
    sink: &'s mut dyn RecordSink,
    observer: Option<&'o mut dyn Observer>,
    template: Header,
    headers: Vec<Option<Header>>,
    counts: Vec<u64>,
}

impl<'s, 'o> Output<'s, 'o> {
    fn new(config: &CaptureConfig, sink: &'s mut dyn RecordSink, observer: Option<&'o mut dyn Observer>) -> Self {
        let template = Header {
            schema_version: SCHEMA_VERSION,
            producer: config.producer.clone(),
            created_ns: wall_clock_ns(),
            source: config.input.describe(),
            payloads: config.decode.payloads,
            ..Header::default()
        };
        Output {
            sink,
            observer,
            template,
            headers: RecordType::all().map(|_| None).collect(),
            counts: vec![0; RecordType::count()],
        }
    }

    /// Shows the observer the connections tracked after the last batch the
    /// session threads have reported.
    fn active_flows(&mut self, derive: &WriterDerive) {
        if let (Some(observer), Some(active)) = (self.observer.as_mut(), derive.active_flows()) {
            observer.active_flows(active);
        }
    }

    fn write(&mut self, frames: &[EncodedFrame], info: &SourceInfo) -> Result<(), CaptureError> {
        for frame in frames.iter().filter(|f| f.records > 0) {
            self.write_frame(frame.record_type, frame.records, &frame.frame, frame.content.as_deref(), info)?;
        }
        Ok(())
    }

    fn write_frame(
        &mut self,
        record_type: RecordType,
        records: u64,
        frame: &[u8],
        content: Option<&[u8]>,
        info: &SourceInfo,
    ) -> Result<(), CaptureError> {
        let i = record_type.index();
        let header = self.headers[i].get_or_insert_with(|| {
            let mut header = self.template.clone();
            header.record_type = record_type as i32;
            header.message_type = record_type.descriptor().map(|d| d.full_name().to_string()).unwrap_or_default();
            header.link_types = info.link_types.clone();
            header.snaplen = info.snaplen;
            header
        });
        self.sink.write_frame(record_type, header, records, frame)?;
        if let Some(observer) = self.observer.as_mut() {
            observer.frame(record_type, records, frame, content);
        }
        self.counts[i] += records;
        Ok(())
    }

    /// Record counts per type that got any, and the files the sink wrote.
    fn finish(self) -> Result<(RecordCounts, Vec<std::path::PathBuf>), CaptureError> {
        let records: Vec<_> = RecordType::all()
            .filter(|t| self.headers[t.index()].is_some())
            .map(|t| (t, self.counts[t.index()]))
            .collect();
        let files = self.sink.finish(&records)?;
        Ok((records, files))
    }
}
