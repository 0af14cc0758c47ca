//! Flow tracking on threads of its own, flow-affine and lock-free.
//!
//! The [`SHARDS`] flow tables are split among the flow threads (shard `s`
//! belongs to thread `s % threads`). A decode worker, once it has a batch's
//! packet summaries, computes each packet's flow key and shard and hands
//! every flow thread its share of the batch ([`FlowRouter`]); both
//! directions of a conversation hash to one shard, so one thread owns each
//! connection and no table is ever shared. A flow thread takes the batches
//! in sequence order (workers finish them in any order), feeds its tables,
//! expires them at the batch's last packet time, and encodes what ended.
//! The writer merges the threads' shares of each batch by the ended
//! connections' sort key, so the Connection and Flow files are the same
//! whatever the number of workers or flow threads: the shard count is
//! fixed and the sort key is unique. At the end of the input every thread
//! ends its shards' open connections and compresses them itself, shard by
//! shard (a short capture can end hundreds of thousands at once); the
//! writer writes those frames in shard order.

use crate::CaptureError;
use crate::derived::FlowOptions;
use crate::pipeline::{EncodedFrame, FrameSettings, KeepContent, ToWriter};
use crossbeam_channel::{Receiver, Sender};
use netcap_decoder::PacketSummary;
use netcap_decoder::community_id::CommunityId;
use netcap_flow::{EndedConnection, FlowCounters, FlowKey, FlowPacket, FlowTable, SHARDS, packet_key, shard_of_key};
use netcap_records::{FrameCompressor, RecordType};
use std::collections::BTreeMap;

/// A packet with its flow key, as a flow thread needs it (88 bytes).
pub(crate) struct KeyedPacket {
    packet: FlowPacket,
    key: FlowKey,
    shard: u8,
    from_a: bool,
}

const _: () = assert!(std::mem::size_of::<KeyedPacket>() == 88);

/// One flow thread's share of a batch.
pub(crate) struct FlowPart {
    seq: u64,
    /// The batch's last packet time (the latest timestamp of any packet in
    /// it): every table expires to it, whether or not it had packets.
    now_ns: Option<i64>,
    /// Packets of the batch that belong to no flow (not IP); counted by the
    /// first thread only.
    ignored: u64,
    packets: Vec<KeyedPacket>,
}

/// The worker side: routes a batch's packets to the flow threads.
#[derive(Clone)]
pub(crate) struct FlowRouter {
    threads: Vec<Sender<FlowPart>>,
    /// Packet vectors the flow threads are done with: reused, so that no
    /// batch allocates (and page-faults in) fresh memory.
    recycled: Receiver<Vec<KeyedPacket>>,
}

impl FlowRouter {
    /// Sends every flow thread its part of batch `seq`. Fails when a flow
    /// thread has gone (it failed, or the capture is stopping).
    pub fn route(&self, seq: u64, summaries: &[PacketSummary]) -> Result<(), ()> {
        let n = self.threads.len();
        let mut parts: Vec<FlowPart> = (0..n)
            .map(|_| {
                let packets = self.recycled.try_recv().unwrap_or_default();
                FlowPart { seq, now_ns: None, ignored: 0, packets }
            })
            .collect();
        let mut now_ns: Option<i64> = None;
        let mut ignored = 0;
        for s in summaries {
            now_ns = Some(now_ns.map_or(s.timestamp_ns, |t| t.max(s.timestamp_ns)));
            let Some((key, from_a)) = packet_key(s) else {
                ignored += 1;
                continue;
            };
            let shard = shard_of_key(&key, SHARDS);
            if let Some(part) = parts.get_mut(shard % n) {
                part.packets.push(KeyedPacket { packet: FlowPacket::from(s), key, shard: shard as u8, from_a });
            }
        }
        for (i, (mut part, tx)) in parts.into_iter().zip(&self.threads).enumerate() {
            part.now_ns = now_ns;
            if i == 0 {
                part.ignored = ignored;
            }
            tx.send(part).map_err(|_| ())?;
        }
        Ok(())
    }
}

/// One ended connection of a flow thread's output: its records are the
/// byte ranges `connection` and `flows` of the output's buffers.
pub(crate) struct Entry {
    sort_key: (i64, u64),
    connection: (u32, u32),
    flows: (u32, u32),
    flow_records: u8,
}

/// What one flow thread produced.
pub(crate) enum FlowOutput {
    /// Its share of one batch's ended connections, to be merged with the
    /// other threads' shares.
    /// `active`: connections its tables track after the batch.
    Batch { seq: u64, entries: Vec<Entry>, connections: Vec<u8>, flows: Vec<u8>, active: u64 },
    /// One shard's connections still open at the end of the input, ready to
    /// write.
    Final { shard: usize, frames: Vec<EncodedFrame> },
    /// The thread's counters, after its last output.
    Counters(FlowCounters),
}

/// Starts the flow threads in `scope`; returns the router workers use and
/// the threads' handles.
pub(crate) fn spawn<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    threads: usize,
    options: &'env FlowOptions,
    to_writer: &Sender<ToWriter>,
    queue: usize,
    settings: &FrameSettings,
) -> (FlowRouter, Vec<std::thread::ScopedJoinHandle<'scope, ()>>) {
    let threads = threads.clamp(1, SHARDS);
    let mut senders = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads);
    // Room for every part in flight: the queues, and one being filled per
    // worker and one being tracked per thread.
    let (recycle_tx, recycled) = crossbeam_channel::bounded(threads * (queue + 2) + 4 * threads);
    for id in 0..threads {
        let (tx, rx) = crossbeam_channel::bounded::<FlowPart>(queue);
        senders.push(tx);
        let (to_writer, recycle, settings) = (to_writer.clone(), recycle_tx.clone(), settings.clone());
        handles.push(crate::pipeline::spawn_named(scope, format!("netcap-flow{id}"), move || {
            flow_thread(id, threads, rx, to_writer, recycle, options, &settings)
        }));
    }
    (FlowRouter { threads: senders, recycled }, handles)
}

/// Takes this thread's parts in sequence order until the workers are done,
/// then ends everything still open.
fn flow_thread(
    id: usize,
    threads: usize,
    parts: Receiver<FlowPart>,
    to_writer: Sender<ToWriter>,
    recycle: Sender<Vec<KeyedPacket>>,
    options: &FlowOptions,
    settings: &FrameSettings,
) {
    let mut tracker = ShardGroup::new(id, threads, options);
    let mut waiting = BTreeMap::new();
    let mut next = 0u64;
    for part in parts {
        waiting.insert(part.seq, part);
        while let Some(mut part) = waiting.remove(&next) {
            let output = tracker.batch(&part);
            part.packets.clear();
            let _ = recycle.try_send(part.packets);
            if to_writer.send(ToWriter::Flows(output)).is_err() {
                return;
            }
            next += 1;
        }
    }
    // A gap means a worker stopped early; the pipeline reports why.
    if !waiting.is_empty() {
        return;
    }
    let Ok(mut compressor) = FrameCompressor::new(settings.flow_level()) else { return };
    for shard in 0..SHARDS {
        match tracker.finish_shard(shard, &mut compressor, &settings.keep) {
            Ok(Some(frames)) => {
                if to_writer.send(ToWriter::Flows(FlowOutput::Final { shard, frames })).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            // Without this shard's final output the writer reports the
            // flows as incomplete.
            Err(_) => return,
        }
    }
    let _ = to_writer.send(ToWriter::Flows(FlowOutput::Counters(tracker.counters())));
}

/// The tables of the shards one flow thread owns.
struct ShardGroup {
    /// Indexed by shard; `None` for shards of other threads.
    tables: Vec<Option<FlowTable>>,
    ended: Vec<EndedConnection>,
    /// Record buffers of the end-of-input frames, reused shard after shard
    /// (fresh ones of a few MB each cost page faults).
    chunk: Chunk,
    ignored: u64,
    encoder: RecordEncoder,
}

impl ShardGroup {
    fn new(id: usize, threads: usize, options: &FlowOptions) -> Self {
        let tables = (0..SHARDS).map(|s| (s % threads == id).then(|| FlowTable::new(&options.config))).collect();
        ShardGroup {
            tables,
            ended: Vec::new(),
            chunk: Chunk::default(),
            ignored: 0,
            encoder: RecordEncoder::new(options),
        }
    }

    fn batch(&mut self, part: &FlowPart) -> FlowOutput {
        self.ignored += part.ignored;
        for p in &part.packets {
            if let Some(Some(table)) = self.tables.get_mut(usize::from(p.shard)) {
                table.observe_keyed(&p.packet, p.key, p.from_a, &mut self.ended);
            }
        }
        if let Some(now) = part.now_ns {
            for table in self.tables.iter_mut().flatten() {
                table.expire(now, &mut self.ended);
            }
        }
        let active = self.tables.iter().flatten().map(|t| t.len() as u64).sum();
        self.encoder.encode(part.seq, &mut self.ended, active)
    }

    /// Ends the open connections of `shard` (`None` if this thread does not
    /// own it) and compresses their records.
    fn finish_shard(
        &mut self,
        shard: usize,
        compressor: &mut FrameCompressor,
        keep: &KeepContent,
    ) -> Result<Option<Vec<EncodedFrame>>, CaptureError> {
        let Some(Some(table)) = self.tables.get_mut(shard) else { return Ok(None) };
        table.finish(&mut self.ended);
        self.ended.sort_by_key(|e| e.sort_key());
        let mut frames = Vec::new();
        for group in self.ended.chunks(CONNECTIONS_PER_FRAME) {
            self.chunk.make_room_for(group.len());
            self.encoder.encode_into(group, &mut self.chunk);
            frames.extend(self.chunk.compress(compressor, keep)?);
        }
        self.ended.clear();
        Ok(Some(frames))
    }

    fn counters(&self) -> FlowCounters {
        let mut counters = FlowCounters { ignored: self.ignored, packets: self.ignored, ..FlowCounters::default() };
        for table in self.tables.iter().flatten() {
            counters.merge(table.counters());
        }
        counters
    }
}

/// Turns ended connections into Connection and Flow record bytes.
struct RecordEncoder {
    connections: bool,
    flows: bool,
    /// Community IDs of the conversations (cached), and the one being written.
    community_ids: CommunityId,
    community_id: String,
}

impl RecordEncoder {
    fn new(options: &FlowOptions) -> Self {
        RecordEncoder {
            connections: options.connections,
            flows: options.flows,
            community_ids: CommunityId::new(0),
            community_id: String::new(),
        }
    }

    /// Appends the records of `e` to the two buffers; returns how many Flow
    /// records it wrote.
    fn encode_one(&mut self, e: &EndedConnection, connections: &mut Vec<u8>, flows: &mut Vec<u8>) -> u8 {
        // The Community ID of the 5-tuple, client to server, as the
        // per-packet records of the conversation have it.
        let ((cip, cport), (sip, sport)) = (e.client(), e.server());
        let (cip, sip) = (IpBytes::from(cip), IpBytes::from(sip));
        self.community_ids.write_conversation(
            &mut self.community_id,
            cip.as_slice(),
            sip.as_slice(),
            e.ip_protocol(),
            cport,
            sport,
        );
        if self.connections {
            e.encode_connection(&self.community_id, connections);
        }
        let mut flow_records = 0;
        if self.flows {
            for from_client in [true, false] {
                flow_records += u8::from(e.encode_flow(from_client, &self.community_id, flows));
            }
        }
        flow_records
    }

    fn encode(&mut self, seq: u64, ended: &mut Vec<EndedConnection>, active: u64) -> FlowOutput {
        let mut entries = Vec::with_capacity(ended.len());
        let Chunk { mut connections, mut flows, .. } = Chunk::with_room_for(ended.len());
        for e in ended.drain(..) {
            let (conn_start, flow_start) = (connections.len() as u32, flows.len() as u32);
            let flow_records = self.encode_one(&e, &mut connections, &mut flows);
            entries.push(Entry {
                sort_key: e.sort_key(),
                connection: (conn_start, connections.len() as u32),
                flows: (flow_start, flows.len() as u32),
                flow_records,
            });
        }
        FlowOutput::Batch { seq, entries, connections, flows, active }
    }

    fn encode_into(&mut self, ended: &[EndedConnection], chunk: &mut Chunk) {
        for e in ended {
            let flow_records = self.encode_one(e, &mut chunk.connections, &mut chunk.flows);
            chunk.n_conn += u64::from(self.connections);
            chunk.n_flow += u64::from(flow_records);
        }
    }
}

/// The writer side: collects the flow threads' outputs and, once every
/// thread has reported a batch, writes its records in sort-key order.
pub(crate) struct FlowMerge {
    threads: usize,
    next: u64,
    waiting: BTreeMap<u64, Vec<BatchShare>>,
    /// Frames of the connections open at the end of the input, by shard,
    /// until they are written.
    finals: BTreeMap<usize, Vec<EncodedFrame>>,
    /// The next shard whose end-of-input frames are to be written.
    next_final: usize,
    reported: usize,
    counters: FlowCounters,
    /// Connections tracked after the last batch merged.
    active: u64,
    keep: KeepContent,
    /// Record buffers of the merged frames, reused batch after batch.
    chunk: Chunk,
}

/// One thread's share of a batch.
struct BatchShare {
    entries: Vec<Entry>,
    connections: Vec<u8>,
    flows: Vec<u8>,
    active: u64,
}

impl FlowMerge {
    pub fn new(threads: usize, keep: KeepContent) -> Self {
        FlowMerge {
            keep,
            threads: threads.clamp(1, SHARDS),
            next: 0,
            waiting: BTreeMap::new(),
            finals: BTreeMap::new(),
            next_final: 0,
            reported: 0,
            counters: FlowCounters::default(),
            active: 0,
            chunk: Chunk::default(),
        }
    }

    /// Takes one thread's output.
    pub fn add(&mut self, output: FlowOutput) {
        match output {
            FlowOutput::Batch { seq, entries, connections, flows, active } => {
                self.waiting.entry(seq).or_default().push(BatchShare { entries, connections, flows, active });
            }
            FlowOutput::Final { shard, frames } => {
                self.finals.insert(shard, frames);
            }
            FlowOutput::Counters(c) => {
                self.counters.merge(&c);
                self.reported += 1;
            }
        }
    }

    /// The frames of every batch before `written` (batches whose packet
    /// records the writer has written, so the files' headers exist) that
    /// every thread has reported, then those of the connections open at the
    /// end of the input, once every batch's are written.
    pub fn ready(&mut self, written: u64, compressor: &mut FrameCompressor) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut frames = Vec::new();
        while self.next < written && self.waiting.get(&self.next).is_some_and(|o| o.len() == self.threads) {
            let shares = self.waiting.remove(&self.next).unwrap_or_default();
            self.active = shares.iter().map(|s| s.active).sum();
            frames.extend(merge(&shares, &mut self.chunk, compressor, &self.keep)?);
            self.next += 1;
        }
        frames.extend(self.ready_finals());
        Ok(frames)
    }

    /// The end-of-input frames of the shards that are next in order, as
    /// they arrive: writing them while the flow threads still compress
    /// later shards keeps the writer from doing it all after them. Shard
    /// `s` belongs to thread `s % threads`, and each thread's outputs
    /// arrive in the order it sent them, so once shards 0 to `threads - 1`
    /// are in, every thread has sent its last batch; with no batch left
    /// waiting, all of them are written.
    fn ready_finals(&mut self) -> Vec<EncodedFrame> {
        let every_thread_done = (0..self.threads).all(|s| s < self.next_final || self.finals.contains_key(&s));
        let mut frames = Vec::new();
        if every_thread_done && self.waiting.is_empty() {
            while let Some(shard) = self.finals.remove(&self.next_final) {
                frames.extend(shard);
                self.next_final += 1;
            }
        }
        frames
    }

    /// After the last batch: what is left to write, or an error if a flow
    /// thread stopped before the end.
    pub fn finish(&mut self, compressor: &mut FrameCompressor) -> Result<Vec<EncodedFrame>, CaptureError> {
        let frames = self.ready(u64::MAX, compressor)?;
        if !self.waiting.is_empty() || self.reported != self.threads || self.next_final != SHARDS {
            return Err(CaptureError::Worker(format!("flow tracking stopped before batch {}", self.next)));
        }
        Ok(frames)
    }

    pub fn counters(&self) -> &FlowCounters {
        &self.counters
    }

    /// Connections tracked after the last batch whose records were merged.
    pub fn active(&self) -> u64 {
        self.active
    }
}

/// The records of a batch's shares in sort-key order. Sort keys are unique
/// (a connection's first frame), so the order does not depend on which
/// thread produced what.
fn merge(
    shares: &[BatchShare],
    chunk: &mut Chunk,
    compressor: &mut FrameCompressor,
    keep: &KeepContent,
) -> Result<Vec<EncodedFrame>, CaptureError> {
    let mut order: Vec<(&(i64, u64), &BatchShare, &Entry)> =
        shares.iter().flat_map(|o| o.entries.iter().map(move |e| (&e.sort_key, o, e))).collect();
    if order.is_empty() {
        return Ok(Vec::new());
    }
    order.sort_unstable_by_key(|(key, _, _)| **key);
    let mut frames = Vec::new();
    for group in order.chunks(CONNECTIONS_PER_FRAME) {
        chunk.make_room_for(group.len());
        for (_, share, entry) in group {
            let (a, b) = (entry.connection.0 as usize, entry.connection.1 as usize);
            if let Some(bytes) = share.connections.get(a..b).filter(|b| !b.is_empty()) {
                chunk.connections.extend_from_slice(bytes);
                chunk.n_conn += 1;
            }
            let (a, b) = (entry.flows.0 as usize, entry.flows.1 as usize);
            if let Some(bytes) = share.flows.get(a..b) {
                chunk.flows.extend_from_slice(bytes);
                chunk.n_flow += u64::from(entry.flow_records);
            }
        }
        frames.extend(chunk.compress(compressor, keep)?);
    }
    Ok(frames)
}

/// Connection records per frame (and the Flow records of the same
/// connections): about 2 MB of records before compression.
const CONNECTIONS_PER_FRAME: usize = 4096;

/// Usual encoded sizes of a Connection and a Flow record (a little above
/// the average on the benchmark capture).
const CONNECTION_BYTES: usize = 320;
const FLOW_BYTES: usize = 256;

/// The records of one frame of each type, before compression.
#[derive(Default)]
struct Chunk {
    connections: Vec<u8>,
    n_conn: u64,
    flows: Vec<u8>,
    n_flow: u64,
}

impl Chunk {
    /// A chunk whose buffers take the records of `connections` connections
    /// of the usual size without growing (growing copies the buffer each
    /// time, and the tail of a capture encodes tens of thousands at once).
    fn with_room_for(connections: usize) -> Chunk {
        let mut chunk = Chunk::default();
        chunk.make_room_for(connections);
        chunk
    }

    fn make_room_for(&mut self, connections: usize) {
        self.connections.reserve(connections * CONNECTION_BYTES);
        self.flows.reserve(connections * 2 * FLOW_BYTES);
    }

    /// Compresses the records into frames and empties the chunk (its
    /// buffers stay for the next records, unless the observer takes them).
    fn compress(
        &mut self,
        compressor: &mut FrameCompressor,
        keep: &KeepContent,
    ) -> Result<Vec<EncodedFrame>, CaptureError> {
        let mut frames = Vec::with_capacity(2);
        for (record_type, records, content) in [
            (RecordType::Connection, &mut self.n_conn, &mut self.connections),
            (RecordType::Flow, &mut self.n_flow, &mut self.flows),
        ] {
            if *records > 0 {
                let frame = compressor.compress(content)?;
                // The chunk is done with its bytes: the observer gets them.
                let content = if keep.wants(record_type) { Some(std::mem::take(content)) } else { None };
                frames.push(EncodedFrame { record_type, records: *records, frame, content });
            }
            *records = 0;
            content.clear();
        }
        Ok(frames)
    }
}

/// An address's bytes in network order (4 or 16).
enum IpBytes {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl From<std::net::IpAddr> for IpBytes {
    fn from(ip: std::net::IpAddr) -> Self {
        match ip {
            std::net::IpAddr::V4(a) => IpBytes::V4(a.octets()),
            std::net::IpAddr::V6(a) => IpBytes::V6(a.octets()),
        }
    }
}

impl IpBytes {
    fn as_slice(&self) -> &[u8] {
        match self {
            IpBytes::V4(b) => b,
            IpBytes::V6(b) => b,
        }
    }
}
