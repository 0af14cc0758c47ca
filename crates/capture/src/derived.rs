//! Records derived from many packets rather than decoded from one: per-tick
//! traffic statistics with SPOT anomaly detection (and flows). Workers turn
//! each batch's packet summaries into partial results; the ordered writer
//! merges them in batch order, so the derived records are the same whatever
//! the number of workers.

use crate::CaptureError;
use crate::pipeline::EncodedFrame;
use netcap_decoder::PacketSummary;
use netcap_decoder::community_id::CommunityId;
use netcap_flow::{EndedConnection, FlowConfig, FlowTable, SHARDS, shard_of};
use netcap_records::RecordType;
use netcap_spot::{JsonlWriter, SpotConfig, StatsEngine, TickAccumulator, TickCounters, TickResult};
use prost::Message;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Receives netspot-style alert lines as anomalies are found.
pub type AlertFn = Arc<dyn Fn(&str) + Send + Sync>;

/// SPOT statistics of a capture (docs/spot.md).
#[derive(Clone)]
pub struct SpotOptions {
    pub config: SpotConfig,
    /// Also write netspot v3's JSON lines here.
    pub jsonl: Option<PathBuf>,
    /// Called with an alert line for every anomaly.
    pub alerts: Option<AlertFn>,
}

impl fmt::Debug for SpotOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpotOptions").field("config", &self.config).field("jsonl", &self.jsonl).finish_non_exhaustive()
    }
}

/// A worker's share of the derived records of one batch.
#[derive(Default)]
pub(crate) struct DerivedPart {
    spot_ticks: Vec<(i64, TickCounters)>,
    /// The batch's packet summaries, for flow tracking.
    summaries: Vec<PacketSummary>,
}

/// The per-worker side: summaries in, partial results out.
pub(crate) struct WorkerDerive {
    spot: Option<TickAccumulator>,
    flows: bool,
}

impl WorkerDerive {
    pub fn new(spot: Option<&SpotOptions>, flows: bool) -> Self {
        WorkerDerive { spot: spot.map(|s| TickAccumulator::new(&s.config)), flows }
    }

    /// Whether the decoder must produce packet summaries.
    pub fn needs_summaries(&self) -> bool {
        self.spot.is_some() || self.flows
    }

    pub fn batch(&mut self, summaries: &mut Vec<PacketSummary>) -> DerivedPart {
        let mut part = DerivedPart::default();
        if self.flows {
            part.summaries = summaries.clone();
        }
        if let Some(acc) = &mut self.spot {
            for s in summaries {
                acc.add(s);
            }
            part.spot_ticks = acc.drain();
        }
        part
    }
}

/// The writer's side: merges partial results in batch order and turns what
/// is complete into records.
pub(crate) struct WriterDerive {
    spot: Option<SpotStage>,
    flows: Option<FlowStage>,
    compressor: netcap_records::FrameCompressor,
    encoded: Vec<u8>,
}

struct SpotStage {
    engine: StatsEngine,
    jsonl: Option<(PathBuf, JsonlWriter<std::io::BufWriter<std::fs::File>>)>,
    alerts: Option<AlertFn>,
    first_tick_ns: Option<i64>,
    alerts_raised: u64,
}

/// Flow tracking: one table per shard of the symmetric flow hash, fed in
/// packet order. The shard count is fixed, so which connections end in which
/// batch (timeouts, evictions) does not depend on the number of workers.
struct FlowStage {
    tables: Vec<FlowTable>,
    ended: Vec<EndedConnection>,
    connection: netcap_records::Connection,
    flow: netcap_records::Flow,
    flow_bytes: Vec<u8>,
    connections: bool,
    flow_records: bool,
    /// Community IDs of the conversations, and the one being written.
    community_ids: CommunityId,
    community_id: String,
}

impl FlowStage {
    fn new(options: &FlowOptions) -> Self {
        FlowStage {
            tables: (0..SHARDS).map(|_| FlowTable::new(&options.config)).collect(),
            ended: Vec::new(),
            connection: Default::default(),
            flow: Default::default(),
            flow_bytes: Vec::new(),
            connections: options.connections,
            flow_records: options.flows,
            community_ids: CommunityId::new(0),
            community_id: String::new(),
        }
    }

    fn observe(&mut self, summaries: &[PacketSummary]) {
        let mut now = None;
        for s in summaries {
            if let Some(shard) = shard_of(s, SHARDS) {
                self.tables[shard].observe(s, &mut self.ended);
            }
            now = Some(now.map_or(s.timestamp_ns, |n: i64| n.max(s.timestamp_ns)));
        }
        if let Some(now) = now {
            for table in &mut self.tables {
                table.expire(now, &mut self.ended);
            }
        }
    }

    fn finish(&mut self) {
        for table in &mut self.tables {
            table.finish(&mut self.ended);
        }
    }

    /// Encodes what ended, in a deterministic order, as (Connection, Flow)
    /// record streams.
    fn encode(&mut self, connections: &mut Vec<u8>) -> (u64, u64) {
        self.ended.sort_by_key(|e| e.sort_key());
        let (mut n_conn, mut n_flow) = (0, 0);
        self.flow_bytes.clear();
        for e in self.ended.drain(..) {
            // The Community ID of the 5-tuple, client to server, as the
            // per-packet records of the conversation have it.
            let ((cip, cport), (sip, sport)) = (e.client(), e.server());
            let (cip, sip) = (ip_bytes(cip), ip_bytes(sip));
            self.community_ids.write_conversation(
                &mut self.community_id,
                cip.as_slice(),
                sip.as_slice(),
                e.ip_protocol(),
                cport,
                sport,
            );
            if self.connections {
                e.fill_connection(&mut self.connection);
                self.connection.community_id.clone_from(&self.community_id);
                // Encoding into a Vec cannot fail.
                let _ = self.connection.encode_length_delimited(connections);
                n_conn += 1;
            }
            if self.flow_records {
                for from_client in [true, false] {
                    if e.fill_flow(from_client, &mut self.flow) {
                        self.flow.community_id.clone_from(&self.community_id);
                        let _ = self.flow.encode_length_delimited(&mut self.flow_bytes);
                        n_flow += 1;
                    }
                }
            }
        }
        (n_conn, n_flow)
    }
}

/// Flow tracking settings of a capture (docs/flows.md).
#[derive(Debug, Clone)]
pub struct FlowOptions {
    pub config: FlowConfig,
    /// Write Connection records.
    pub connections: bool,
    /// Write Flow records.
    pub flows: bool,
}

impl WriterDerive {
    pub fn new(spot: Option<&SpotOptions>, flows: Option<&FlowOptions>, level: i32) -> Result<Self, CaptureError> {
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
        Ok(WriterDerive {
            spot,
            flows: flows.filter(|f| f.connections || f.flows).map(FlowStage::new),
            compressor: netcap_records::FrameCompressor::new(level)?,
            encoded: Vec::new(),
        })
    }

    /// Merges one batch's parts (one per worker that saw it: here exactly
    /// one) and returns the frames of what it completed.
    pub fn batch(&mut self, part: DerivedPart) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut ticks = Vec::new();
        if let Some(spot) = &mut self.spot {
            for (tick, counters) in part.spot_ticks {
                ticks.extend(spot.engine.add(tick, counters));
            }
        }
        let mut frames = self.spot_frames(ticks)?;
        if let Some(flows) = &mut self.flows {
            flows.observe(&part.summaries);
        }
        frames.extend(self.flow_frames()?);
        Ok(frames)
    }

    fn flow_frames(&mut self) -> Result<Vec<EncodedFrame>, CaptureError> {
        let Some(flows) = &mut self.flows else { return Ok(Vec::new()) };
        if flows.ended.is_empty() {
            return Ok(Vec::new());
        }
        self.encoded.clear();
        let (n_conn, n_flow) = flows.encode(&mut self.encoded);
        let mut frames = Vec::new();
        if n_conn > 0 {
            frames.push(EncodedFrame {
                record_type: RecordType::Connection,
                records: n_conn,
                frame: self.compressor.compress(&self.encoded)?,
            });
        }
        if n_flow > 0 {
            frames.push(EncodedFrame {
                record_type: RecordType::Flow,
                records: n_flow,
                frame: self.compressor.compress(&flows.flow_bytes)?,
            });
        }
        Ok(frames)
    }

    /// Live captures: closes ticks that ended before `now_ns` (wall clock),
    /// even when no packet arrives.
    pub fn close_before(&mut self, now_ns: i64) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut ticks = Vec::new();
        if let Some(spot) = &mut self.spot {
            let tick = netcap_spot::tick_of(now_ns, spot.engine.tick_ns());
            ticks = spot.engine.close_before(tick);
        }
        self.spot_frames(ticks)
    }

    /// End of input: everything still open.
    pub fn finish(&mut self) -> Result<Vec<EncodedFrame>, CaptureError> {
        let ticks = match &mut self.spot {
            Some(spot) => spot.engine.finish(),
            None => Vec::new(),
        };
        let mut frames = self.spot_frames(ticks)?;
        if let Some(flows) = &mut self.flows {
            flows.finish();
        }
        frames.extend(self.flow_frames()?);
        if let Some((path, jsonl)) = self.spot.as_mut().and_then(|s| s.jsonl.as_mut()) {
            jsonl.flush().map_err(|source| CaptureError::OutputDir { path: path.clone(), source })?;
        }
        Ok(frames)
    }

    /// Alerts raised so far.
    pub fn alerts(&self) -> u64 {
        self.spot.as_ref().map_or(0, |s| s.alerts_raised)
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
            for s in tick.anomalies() {
                spot.alerts_raised += 1;
                if let Some(alerts) = &spot.alerts {
                    alerts(&netcap_spot::alert_line(tick, s, wall_clock_ns(), first));
                }
            }
        }
        let frame = self.compressor.compress(&self.encoded)?;
        Ok(vec![EncodedFrame { record_type: RecordType::Spotstat, records, frame }])
    }
}

pub(crate) fn wall_clock_ns() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)).unwrap_or(0)
}

/// An address's bytes in network order (4 or 16).
fn ip_bytes(ip: std::net::IpAddr) -> IpBytes {
    match ip {
        std::net::IpAddr::V4(a) => IpBytes::V4(a.octets()),
        std::net::IpAddr::V6(a) => IpBytes::V6(a.octets()),
    }
}

enum IpBytes {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl IpBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            IpBytes::V4(b) => b,
            IpBytes::V6(b) => b,
        }
    }
}
