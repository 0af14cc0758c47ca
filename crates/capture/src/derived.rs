//! Records derived from many packets rather than decoded from one: per-tick
//! traffic statistics with SPOT anomaly detection, and the session stage's
//! (flows, streams; its threads are in [`crate::session_stage`]). Workers turn each batch's packet summaries
//! into partial results; the ordered writer merges them in batch order, so
//! the derived records are the same whatever the number of workers.

use crate::CaptureError;
use crate::batch::Batch;
use crate::pipeline::{EncodedFrame, FrameSettings, KeepContent};
use crate::session_stage::{SessionCounters, SessionMerge, SessionOutput, SessionRouter};
use netcap_decoder::RecordBuffers;
use netcap_flow::FlowConfig;
use netcap_inventory::{Inventory, InventoryConfig, InventoryCounters};
use netcap_profile::{BatchProfile, BatchProfiler, ProfileConfig, ProfileCounters, Profiles};
use netcap_records::RecordType;
use netcap_session::SessionConfig;
use netcap_spot::{JsonlWriter, SpotConfig, StatsEngine, TickAccumulator, TickCounters, TickResult};
use prost::Message;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Receives netspot-style log lines as the capture runs: an `INFO Stat fit`
/// line when a statistic finishes calibrating, a `WARN Anomaly detected`
/// line for every anomaly (docs/spot.md, "Alerts on stderr").
pub type AlertFn = Arc<dyn Fn(&str) + Send + Sync>;

/// SPOT statistics of a capture (docs/spot.md).
#[derive(Clone)]
pub struct SpotOptions {
    pub config: SpotConfig,
    /// Also write netspot v3's JSON lines here.
    pub jsonl: Option<PathBuf>,
    /// Called with netspot's log lines: Stat fit and anomalies.
    pub alerts: Option<AlertFn>,
}

impl fmt::Debug for SpotOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpotOptions").field("config", &self.config).field("jsonl", &self.jsonl).finish_non_exhaustive()
    }
}

/// Host and device profiles of a capture (docs/profiles.md).
#[derive(Clone)]
pub struct ProfileOptions {
    pub config: ProfileConfig,
    /// Fills Host records' geolocation and AS fields (`-geoip`, `-asn`).
    pub geo: Option<Arc<dyn netcap_profile::GeoLookup>>,
}

impl fmt::Debug for ProfileOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProfileOptions").field("config", &self.config).field("geo", &self.geo.is_some()).finish()
    }
}

/// Software and Service records of a capture (docs/inventory.md), derived
/// from its Connection records.
#[derive(Debug, Clone)]
pub struct InventoryOptions {
    pub config: InventoryConfig,
    /// Live captures: write what changed this often (wall clock, ns).
    pub interval_ns: i64,
    /// Write the Connection records too (they are made for the inventory
    /// either way; without this they are read and dropped).
    pub write_connections: bool,
}

/// A worker's share of the derived records of one batch.
#[derive(Default)]
pub(crate) struct DerivedPart {
    spot_ticks: Vec<(i64, TickCounters)>,
    profile: Option<BatchProfile>,
}

/// The per-worker side: summaries in, partial results out.
pub(crate) struct WorkerDerive {
    spot: Option<TickAccumulator>,
    session: Option<SessionRouter>,
    profile: Option<BatchProfiler>,
}

impl WorkerDerive {
    pub fn new(spot: Option<&SpotOptions>, session: Option<SessionRouter>, profiles: bool) -> Self {
        WorkerDerive {
            spot: spot.map(|s| TickAccumulator::new(&s.config)),
            session,
            profile: profiles.then(BatchProfiler::new),
        }
    }

    /// Whether the session stage reads the batch's payloads (then the
    /// worker hands the batch over instead of recycling it).
    pub fn needs_batch(&self) -> bool {
        self.session.as_ref().is_some_and(SessionRouter::needs_batch)
    }

    /// Whether the decoder must produce packet summaries.
    pub fn needs_summaries(&self) -> bool {
        self.spot.is_some() || self.session.is_some() || self.profile.is_some()
    }

    /// Routes batch `seq`'s packets to the session threads (with the batch,
    /// when they read payloads) and returns its statistics and profile
    /// shares (`buffers`: the batch's decoded records and summaries). Fails
    /// when the session threads have gone.
    pub fn batch(&mut self, seq: u64, buffers: &RecordBuffers, batch: Option<Arc<Batch>>) -> Result<DerivedPart, ()> {
        let summaries = &buffers.summaries;
        let mut part = DerivedPart::default();
        if let Some(profiler) = &mut self.profile {
            part.profile = Some(profiler.batch(summaries, |t| Some(buffers.bytes(t))));
        }
        if let Some(router) = &self.session {
            router.route(seq, summaries, batch)?;
        }
        if let Some(acc) = &mut self.spot {
            for s in summaries.iter().filter(|s| !s.reassembled) {
                acc.add(s);
            }
            part.spot_ticks = acc.drain();
        }
        Ok(part)
    }
}

/// The writer's side: merges partial results in batch order and turns what
/// is complete into records.
pub(crate) struct WriterDerive {
    spot: Option<SpotStage>,
    session: Option<SessionMerge>,
    profile: Option<ProfileStage>,
    inventory: Option<InventoryStage>,
    compressor: netcap_records::FrameCompressor,
    /// For Connection and Flow frames ([`FrameSettings::flow_level`]).
    flow_compressor: netcap_records::FrameCompressor,
    encoded: Vec<u8>,
    keep: KeepContent,
}

/// The capture's profiles, and when to write them.
struct ProfileStage {
    profiles: Profiles,
    /// Live: write what changed every `interval_ns` (wall clock); files
    /// write everything at the end.
    live: bool,
    interval_ns: i64,
    next_write_ns: i64,
}

/// The capture's software and services, and when to write them.
struct InventoryStage {
    inventory: Inventory,
    live: bool,
    interval_ns: i64,
    next_write_ns: i64,
    write_connections: bool,
}

struct SpotStage {
    engine: StatsEngine,
    jsonl: Option<(PathBuf, JsonlWriter<std::io::BufWriter<std::fs::File>>)>,
    alerts: Option<AlertFn>,
    first_tick_ns: Option<i64>,
    alerts_raised: u64,
}

/// The session stage of a capture: flow tracking (docs/flows.md), TCP
/// streams and QUIC Initials (docs/streams.md).
#[derive(Debug, Clone)]
pub struct SessionOptions {
    pub session: SessionConfig,
    /// Write Connection records.
    pub connections: bool,
    /// Write Flow records.
    pub flow_records: bool,
}

impl SessionOptions {
    /// Flow tracking only (Connection and Flow records as asked).
    pub fn flows(config: FlowConfig, connections: bool, flow_records: bool) -> Self {
        SessionOptions {
            session: SessionConfig { flows: config, streams: None, quic: false },
            connections,
            flow_records,
        }
    }
}

impl WriterDerive {
    /// `session_threads`: the number of session threads whose outputs to
    /// merge, if the session stage runs; `ftp_data`: FTP data connections
    /// are matched (the stream layer runs).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        spot: Option<&SpotOptions>,
        session_threads: Option<usize>,
        ftp_data: Option<netcap_session::MatchConfig>,
        profiles: Option<&ProfileOptions>,
        inventory: Option<&InventoryOptions>,
        live: bool,
        settings: &FrameSettings,
    ) -> Result<Self, CaptureError> {
        let spot = match spot {
            None => None,
            Some(options) => {
                let engine = StatsEngine::new(&options.config).map_err(|e| CaptureError::Config(e.to_string()))?;
                let jsonl = match &options.jsonl {
                    None => None,
                    Some(path) => {
                        let file = std::fs::File::create(path)
                            .map_err(|source| CaptureError::OutputDir { path: path.clone(), source })?;
                        Some((path.clone(), JsonlWriter::new(std::io::BufWriter::new(file))))
                    }
                };
                Some(SpotStage { engine, jsonl, alerts: options.alerts.clone(), first_tick_ns: None, alerts_raised: 0 })
            }
        };
        let profile = profiles.map(|options| {
            let mut profiles = Profiles::new(options.config.clone());
            if let Some(geo) = &options.geo {
                profiles.set_geo(geo.clone());
            }
            let interval_ns = options.config.interval_ns.max(1);
            ProfileStage { profiles, live, interval_ns, next_write_ns: wall_clock_ns().saturating_add(interval_ns) }
        });
        let inventory = inventory.map(|options| {
            let interval_ns = options.interval_ns.max(1);
            InventoryStage {
                inventory: Inventory::new(options.config.clone()),
                live,
                interval_ns,
                next_write_ns: wall_clock_ns().saturating_add(interval_ns),
                write_connections: options.write_connections,
            }
        });
        Ok(WriterDerive {
            spot,
            session: session_threads.map(|threads| SessionMerge::new(threads, settings, ftp_data)).transpose()?,
            profile,
            inventory,
            compressor: netcap_records::FrameCompressor::new(settings.level)?,
            flow_compressor: netcap_records::FrameCompressor::new(settings.flow_level())?,
            encoded: Vec::new(),
            keep: settings.keep.clone(),
        })
    }

    /// Merges one batch's statistics and returns the frames of what it
    /// completed.
    pub fn batch(&mut self, part: DerivedPart) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut ticks = Vec::new();
        if let Some(spot) = &mut self.spot {
            for (tick, counters) in part.spot_ticks {
                ticks.extend(spot.engine.add(tick, counters));
            }
        }
        if let (Some(stage), Some(profile)) = (&mut self.profile, part.profile) {
            stage.profiles.merge(profile);
        }
        let mut frames = self.spot_frames(ticks)?;
        frames.extend(self.profile_frames_if_due()?);
        frames.extend(self.inventory_frames_if_due()?);
        Ok(frames)
    }

    /// Live captures: the Software and Service records of what changed,
    /// once the interval has passed since the last ones.
    fn inventory_frames_if_due(&mut self) -> Result<Vec<EncodedFrame>, CaptureError> {
        let Some(stage) = &mut self.inventory else { return Ok(Vec::new()) };
        let now = wall_clock_ns();
        if !stage.live || now < stage.next_write_ns {
            return Ok(Vec::new());
        }
        stage.next_write_ns = now.saturating_add(stage.interval_ns);
        self.inventory_frames(true)
    }

    /// The Software and Service frames of every entry (`changed_only`: of
    /// those that changed since they were last written).
    fn inventory_frames(&mut self, changed_only: bool) -> Result<Vec<EncodedFrame>, CaptureError> {
        let Some(stage) = &mut self.inventory else { return Ok(Vec::new()) };
        let (mut software, mut services) = (Vec::new(), Vec::new());
        let (n_software, n_services) = if changed_only {
            stage.inventory.write_changed(&mut software, &mut services)
        } else {
            stage.inventory.write_all(&mut software, &mut services)
        };
        self.frames_of([(RecordType::Software, n_software, software), (RecordType::Service, n_services, services)])
    }

    /// What the inventory did, when it runs.
    pub fn inventory_counters(&self) -> Option<InventoryCounters> {
        self.inventory.as_ref().map(|s| s.inventory.counters())
    }

    /// Shows the inventory the Connection records in `frames`; drops them
    /// when they were made for it alone, and their content when no one
    /// else reads it.
    fn inventory_connections(&mut self, frames: &mut Vec<EncodedFrame>) {
        let Some(stage) = &mut self.inventory else { return };
        for frame in frames.iter_mut().filter(|f| f.record_type == RecordType::Connection) {
            if let Some(content) = &frame.content {
                stage.inventory.observe_connections(content);
            }
            if !self.keep.observer_wants(RecordType::Connection) {
                frame.content = None;
            }
        }
        if !stage.write_connections {
            frames.retain(|f| f.record_type != RecordType::Connection);
        }
    }

    /// Live captures: the Host and DeviceProfile records of what changed,
    /// once the interval has passed since the last ones.
    fn profile_frames_if_due(&mut self) -> Result<Vec<EncodedFrame>, CaptureError> {
        let Some(stage) = &mut self.profile else { return Ok(Vec::new()) };
        let now = wall_clock_ns();
        if !stage.live || now < stage.next_write_ns {
            return Ok(Vec::new());
        }
        stage.next_write_ns = now.saturating_add(stage.interval_ns);
        self.profile_frames(true)
    }

    /// The Host and DeviceProfile frames of every profile (`changed_only`:
    /// of those that changed since they were last written).
    fn profile_frames(&mut self, changed_only: bool) -> Result<Vec<EncodedFrame>, CaptureError> {
        let Some(stage) = &mut self.profile else { return Ok(Vec::new()) };
        let (mut hosts, mut devices) = (Vec::new(), Vec::new());
        let (n_hosts, n_devices) = if changed_only {
            stage.profiles.write_changed(&mut hosts, &mut devices)
        } else {
            stage.profiles.write_all(&mut hosts, &mut devices)
        };
        self.frames_of([(RecordType::Host, n_hosts, hosts), (RecordType::Deviceprofile, n_devices, devices)])
    }

    /// Frames of the non-empty record lists among `lists` (type, records,
    /// their length-delimited bytes).
    fn frames_of<const N: usize>(
        &mut self,
        lists: [(RecordType, u64, Vec<u8>); N],
    ) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut frames = Vec::new();
        for (record_type, records, content) in lists {
            if records > 0 {
                frames.push(self.keep.frame(&mut self.compressor, record_type, records, &content)?);
            }
        }
        Ok(frames)
    }

    /// Shows the profiles the session stage's records in `frames` (TLS
    /// hellos, HTTP), whose content the frames kept for them; then drops
    /// the content the observer does not read.
    fn profile_session_records(&mut self, frames: &mut [EncodedFrame]) {
        let Some(stage) = &mut self.profile else { return };
        for frame in frames.iter_mut() {
            if !netcap_profile::SESSION_RECORD_TYPES.contains(&frame.record_type) {
                continue;
            }
            if let Some(content) = &frame.content {
                stage.profiles.observe_records(frame.record_type, content);
            }
            if !self.keep.observer_wants(frame.record_type) {
                frame.content = None;
            }
        }
    }

    /// What the profile tables did, when profiles are on.
    pub fn profile_counters(&self) -> Option<ProfileCounters> {
        self.profile.as_ref().map(|p| p.profiles.counters())
    }

    /// Takes one session thread's output.
    pub fn session(&mut self, output: SessionOutput) {
        if let Some(merge) = &mut self.session {
            merge.add(output);
        }
    }

    /// The session stage's frames (Connection, Flow, streams' records) of
    /// batches before `written` that every session thread has reported.
    pub fn session_frames(&mut self, written: u64) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut frames = match &mut self.session {
            Some(merge) => merge.ready(written, &mut self.flow_compressor)?,
            None => Vec::new(),
        };
        self.profile_session_records(&mut frames);
        self.inventory_connections(&mut frames);
        Ok(frames)
    }

    /// Connections tracked after the last batch whose records were written,
    /// when the session stage runs.
    pub fn active_flows(&self) -> Option<u64> {
        self.session.as_ref().map(SessionMerge::active)
    }

    pub fn session_counters(&self) -> Option<SessionCounters> {
        self.session.as_ref().map(|f| f.counters().clone())
    }

    /// Live captures: closes ticks that ended before `now_ns` (wall clock),
    /// even when no packet arrives.
    pub fn close_before(&mut self, now_ns: i64) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut ticks = Vec::new();
        if let Some(spot) = &mut self.spot {
            let tick = netcap_spot::tick_of(now_ns, spot.engine.tick_ns());
            ticks = spot.engine.close_before(tick);
        }
        let mut frames = self.spot_frames(ticks)?;
        frames.extend(self.profile_frames_if_due()?);
        frames.extend(self.inventory_frames_if_due()?);
        Ok(frames)
    }

    /// End of input: everything still open.
    pub fn finish(&mut self) -> Result<Vec<EncodedFrame>, CaptureError> {
        let ticks = match &mut self.spot {
            Some(spot) => spot.engine.finish(),
            None => Vec::new(),
        };
        let mut frames = self.spot_frames(ticks)?;
        if let Some(session) = &mut self.session {
            let mut session_frames = session.finish(&mut self.flow_compressor)?;
            self.profile_session_records(&mut session_frames);
            self.inventory_connections(&mut session_frames);
            frames.extend(session_frames);
        }
        // Files: every profile; live: what changed since the last interval.
        let live = self.profile.as_ref().is_some_and(|p| p.live);
        frames.extend(self.profile_frames(live)?);
        let live = self.inventory.as_ref().is_some_and(|s| s.live);
        frames.extend(self.inventory_frames(live)?);
        if let Some((path, jsonl)) = self.spot.as_mut().and_then(|s| s.jsonl.as_mut()) {
            jsonl.flush().map_err(|source| CaptureError::OutputDir { path: path.clone(), source })?;
        }
        Ok(frames)
    }

    /// Hands the profile and inventory tables to a thread of their own to
    /// be freed. Called once their counters are read: freeing a table of
    /// tens of thousands of hosts, each with its own lists, took a third of
    /// the writer's serial tail at the end of the 1 M-packet benchmark
    /// (docs/performance.md), and nothing waits for it. The thread is
    /// detached: if the process exits first, the OS takes the memory back.
    pub fn release_tables(&mut self) {
        let tables = (self.profile.take(), self.inventory.take());
        if tables.0.is_none() && tables.1.is_none() {
            return;
        }
        // Should the thread not start, the tables are freed here.
        let _ = std::thread::Builder::new().name("netcap-free".into()).spawn(move || drop(tables));
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> u64 {
        self.spot.as_ref().map_or(0, |s| s.alerts_raised)
    }

    /// How far each statistic got towards calibration, with statistics on.
    pub fn calibration(&self) -> Option<netcap_spot::CalibrationReport> {
        self.spot.as_ref().map(|s| s.engine.calibration())
    }

    fn spot_frames(&mut self, ticks: Vec<TickResult>) -> Result<Vec<EncodedFrame>, CaptureError> {
        let Some(spot) = &mut self.spot else { return Ok(Vec::new()) };
        if ticks.is_empty() {
            return Ok(Vec::new());
        }
        self.encoded.clear();
        let mut records = 0;
        for tick in &ticks {
            let first = *spot.first_tick_ns.get_or_insert(tick.start_ns);
            for record in netcap_spot::spot_stat_records(tick) {
                // Encoding into a Vec cannot fail.
                let _ = record.encode_length_delimited(&mut self.encoded);
                records += 1;
            }
            if let Some((path, jsonl)) = &mut spot.jsonl {
                jsonl.write_tick(tick).map_err(|source| CaptureError::OutputDir { path: path.clone(), source })?;
            }
            if let Some(log) = &spot.alerts {
                // netspot's order: the fits of a tick, then its anomalies.
                for s in &tick.stats {
                    if let Some(line) = netcap_spot::fit_line(tick, s, wall_clock_ns(), first) {
                        log(&line);
                    }
                }
            }
            for s in tick.anomalies() {
                spot.alerts_raised += 1;
                if let Some(alerts) = &spot.alerts {
                    alerts(&netcap_spot::alert_line(tick, s, wall_clock_ns(), first));
                }
            }
        }
        Ok(vec![self.keep.frame(&mut self.compressor, RecordType::Spotstat, records, &self.encoded)?])
    }
}

pub(crate) fn wall_clock_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)).unwrap_or(0)
}
