//! The session stage: every piece of state that spans packets, on threads
//! of its own, flow-affine and lock-free (crates/session; docs/streams.md).
//!
//! The [`SHARDS`] shards (each a connection table with its analyzers: TCP
//! reassembly and stream protocols, QUIC Initials) are split among the
//! session threads (shard `s` belongs to thread `s % threads`). A decode
//! worker, once it has a batch's packet summaries, computes each packet's
//! flow key and shard and hands every session thread its share of the
//! batch ([`SessionRouter`]), with the batch itself (shared, not copied) for
//! the payloads; both directions of a conversation hash to one shard, so one
//! thread owns each connection and no table is ever shared. A session
//! thread takes the batches in sequence order (workers finish them in any
//! order), feeds its shards, expires them at the batch's last packet time,
//! and encodes what ended. The writer merges the threads' shares of each
//! batch: Connection and Flow records by the ended connections' sort key,
//! the analyzers' records by their order keys, so every file is the same
//! whatever the number of workers or session threads: the shard count is
//! fixed and the keys are unique. At the end of the input every thread ends
//! its shards' open connections and compresses their records itself, shard
//! by shard (a short capture can end hundreds of thousands at once); the
//! writer writes those frames in shard order.

use crate::CaptureError;
use crate::batch::Batch;
use crate::derived::SessionOptions;
use crate::pipeline::{EncodedFrame, FrameSettings, KeepContent, ToWriter};
use crossbeam_channel::{Receiver, Sender};
use netcap_decoder::community_id::CommunityId;
use netcap_decoder::{PacketSummary, TransportKind};
use netcap_flow::{EndedConnection, FlowCounters, FlowKey, FlowPacket, SHARDS, packet_key, shard_of_key};
use netcap_records::{FrameCompressor, RecordType};
use netcap_session::{
    EmittedRecords, Emitter, FtpDataEvent, MatchConfig, Matcher, OrderKey, QuicCounters, SessionPacket, Shard,
    StreamCounters,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A packet with its flow key, as a session thread needs it: its flow
/// summary, and for TCP and UDP its sequence numbers and where its payload
/// is in the batch.
pub(crate) struct KeyedPacket {
    packet: FlowPacket,
    key: FlowKey,
    tcp_seq: u32,
    tcp_ack: u32,
    /// The packet's index in its batch, and its payload's offset and length
    /// in the packet (length 0: no payload the analyzers need).
    index: u32,
    payload_offset: u32,
    payload_length: u32,
    shard: u8,
    from_a: bool,
    reassembled: bool,
    fragment: bool,
}

const _: () = assert!(std::mem::size_of::<KeyedPacket>() == 112);

/// One session thread's share of a batch.
pub(crate) struct SessionPart {
    seq: u64,
    /// The batch's last packet time (the latest timestamp of any packet in
    /// it): every table expires to it, whether or not it had packets.
    now_ns: Option<i64>,
    /// Packets of the batch that belong to no flow (not IP); counted by the
    /// first thread only.
    ignored: u64,
    packets: Vec<KeyedPacket>,
    /// The batch, for the payloads (when the analyzers read payloads).
    batch: Option<Arc<Batch>>,
}

/// The worker side: routes a batch's packets to the session threads.
#[derive(Clone)]
pub(crate) struct SessionRouter {
    threads: Vec<Sender<SessionPart>>,
    /// Packet vectors the session threads are done with: reused, so that no
    /// batch allocates (and page-faults in) fresh memory.
    recycled: Receiver<Vec<KeyedPacket>>,
    /// Whether analyzers read payloads (TCP streams, QUIC).
    payloads: bool,
}

impl SessionRouter {
    /// Whether the session threads need the batch itself (its payloads).
    pub fn needs_batch(&self) -> bool {
        self.payloads
    }

    /// Sends every session thread its part of batch `seq` (`batch`: the
    /// batch the summaries describe, when [`SessionRouter::needs_batch`]).
    /// Fails when a session thread has gone (it failed, or the capture is
    /// stopping).
    pub fn route(&self, seq: u64, summaries: &[PacketSummary], batch: Option<Arc<Batch>>) -> Result<(), ()> {
        let n = self.threads.len();
        let mut parts: Vec<SessionPart> = (0..n)
            .map(|_| {
                let packets = self.recycled.try_recv().unwrap_or_default();
                SessionPart { seq, now_ns: None, ignored: 0, packets, batch: batch.clone() }
            })
            .collect();
        let mut now_ns: Option<i64> = None;
        let mut ignored = 0;
        for (index, s) in summaries.iter().enumerate() {
            if !s.reassembled {
                now_ns = Some(now_ns.map_or(s.timestamp_ns, |t| t.max(s.timestamp_ns)));
            }
            let Some((key, from_a)) = packet_key(s) else {
                ignored += u64::from(!s.reassembled);
                continue;
            };
            if s.reassembled && !self.payloads {
                continue;
            }
            let with_payload =
                self.payloads && matches!(s.transport, TransportKind::Tcp | TransportKind::Udp) && !s.fragment;
            let shard = shard_of_key(&key, SHARDS);
            if let Some(part) = parts.get_mut(shard % n) {
                part.packets.push(KeyedPacket {
                    packet: FlowPacket::from(s),
                    key,
                    tcp_seq: s.tcp_seq,
                    tcp_ack: s.tcp_ack,
                    index: index as u32,
                    payload_offset: s.payload_offset,
                    payload_length: if with_payload { s.payload_length } else { 0 },
                    shard: shard as u8,
                    from_a,
                    reassembled: s.reassembled,
                    fragment: s.fragment,
                });
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

/// What one session thread produced.
pub(crate) enum SessionOutput {
    /// Its share of one batch's ended connections and analyzer records, to
    /// be merged with the other threads' shares.
    /// `active`: connections its tables track after the batch.
    Batch { seq: u64, entries: Vec<Entry>, connections: Vec<u8>, flows: Vec<u8>, records: EmittedRecords, active: u64 },
    /// One shard's connections still open at the end of the input, with
    /// the records their end produced, ready to write, and the FTP data
    /// events their end produced, for the writer's matcher.
    Final { shard: usize, frames: Vec<EncodedFrame>, ftp_data: Vec<(OrderKey, FtpDataEvent)> },
    /// The thread's counters, after its last output.
    Counters(Box<SessionCounters>),
}

/// What the session stage did, summed over its threads.
#[derive(Debug, Clone, Default)]
pub struct SessionCounters {
    pub flows: FlowCounters,
    /// TCP reassembly and stream protocols, when on.
    pub streams: Option<StreamCounters>,
    /// QUIC Initials, when followed.
    pub quic: Option<QuicCounters>,
}

impl SessionCounters {
    pub fn merge(&mut self, o: &SessionCounters) {
        self.flows.merge(&o.flows);
        if let Some(s) = &o.streams {
            self.streams.get_or_insert_with(Default::default).merge(s);
        }
        if let Some(q) = &o.quic {
            self.quic.get_or_insert_with(Default::default).merge(q);
        }
    }
}

/// Starts the session threads in `scope`; returns the router workers use
/// and the threads' handles.
pub(crate) fn spawn<'scope, 'env>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    threads: usize,
    options: &'env SessionOptions,
    to_writer: &Sender<ToWriter>,
    queue: usize,
    settings: &FrameSettings,
    enabled: &[bool],
) -> (SessionRouter, Vec<std::thread::ScopedJoinHandle<'scope, ()>>) {
    let threads = threads.clamp(1, SHARDS);
    let mut senders = Vec::with_capacity(threads);
    let mut handles = Vec::with_capacity(threads);
    // Room for every part in flight: the queues, and one being filled per
    // worker and one being tracked per thread.
    let (recycle_tx, recycled) = crossbeam_channel::bounded(threads * (queue + 2) + 4 * threads);
    for id in 0..threads {
        let (tx, rx) = crossbeam_channel::bounded::<SessionPart>(queue);
        senders.push(tx);
        let (to_writer, recycle, settings) = (to_writer.clone(), recycle_tx.clone(), settings.clone());
        let enabled = enabled.to_vec();
        handles.push(crate::pipeline::spawn_named(scope, format!("netcap-session{id}"), move || {
            session_thread(id, threads, rx, to_writer, recycle, options, &settings, enabled)
        }));
    }
    let payloads = options.session.streams.is_some() || options.session.quic;
    (SessionRouter { threads: senders, recycled, payloads }, handles)
}

/// Takes this thread's parts in sequence order until the workers are done,
/// then ends everything still open.
#[allow(clippy::too_many_arguments)]
fn session_thread(
    id: usize,
    threads: usize,
    parts: Receiver<SessionPart>,
    to_writer: Sender<ToWriter>,
    recycle: Sender<Vec<KeyedPacket>>,
    options: &SessionOptions,
    settings: &FrameSettings,
    enabled: Vec<bool>,
) {
    let mut tracker = ShardGroup::new(id, threads, options, enabled);
    let mut waiting = BTreeMap::new();
    let mut next = 0u64;
    for part in parts {
        waiting.insert(part.seq, part);
        while let Some(mut part) = waiting.remove(&next) {
            let output = tracker.batch(&part);
            part.packets.clear();
            let _ = recycle.try_send(std::mem::take(&mut part.packets));
            // The batch goes when the last thread is done with it.
            drop(part);
            if to_writer.send(ToWriter::Session(output)).is_err() {
                return;
            }
            next += 1;
        }
    }
    // A gap means a worker stopped early; the pipeline reports why.
    if !waiting.is_empty() {
        return;
    }
    let Ok(mut flow_compressor) = FrameCompressor::new(settings.flow_level()) else { return };
    let Ok(mut compressor) = FrameCompressor::new(settings.level) else { return };
    for shard in 0..SHARDS {
        match tracker.finish_shard(shard, &mut flow_compressor, &mut compressor, &settings.keep) {
            Ok(Some((frames, ftp_data))) => {
                if to_writer.send(ToWriter::Session(SessionOutput::Final { shard, frames, ftp_data })).is_err() {
                    return;
                }
            }
            Ok(None) => {}
            // Without this shard's final output the writer reports the
            // session stage as incomplete.
            Err(_) => return,
        }
    }
    let _ = to_writer.send(ToWriter::Session(SessionOutput::Counters(Box::new(tracker.counters()))));
}

/// The shards one session thread owns.
struct ShardGroup {
    /// Indexed by shard; `None` for shards of other threads.
    shards: Vec<Option<Shard>>,
    ended: Vec<EndedConnection>,
    /// Where the analyzers' records go (one for the thread's shards: the
    /// records' order keys make the merge independent of it).
    emitter: Emitter,
    /// Record buffers of the end-of-input frames, reused shard after shard
    /// (fresh ones of a few MB each cost page faults).
    chunk: Chunk,
    ignored: u64,
    encoder: RecordEncoder,
}

impl ShardGroup {
    fn new(id: usize, threads: usize, options: &SessionOptions, enabled: Vec<bool>) -> Self {
        let shards = (0..SHARDS).map(|s| (s % threads == id).then(|| Shard::new(&options.session, s))).collect();
        ShardGroup {
            shards,
            ended: Vec::new(),
            emitter: match &options.session.streams {
                Some(streams) if !streams.secrets => Emitter::new(enabled).without_secrets(),
                _ => Emitter::new(enabled),
            },
            chunk: Chunk::default(),
            ignored: 0,
            encoder: RecordEncoder::new(options),
        }
    }

    fn batch(&mut self, part: &SessionPart) -> SessionOutput {
        self.ignored += part.ignored;
        for p in &part.packets {
            let Some(Some(shard)) = self.shards.get_mut(usize::from(p.shard)) else { continue };
            let payload = match (&part.batch, p.payload_length) {
                (Some(batch), len) if len > 0 => {
                    let start = p.payload_offset as usize;
                    batch.packet(p.index as usize).and_then(|b| b.get(start..start + len as usize)).unwrap_or_default()
                }
                _ => &[],
            };
            let packet = SessionPacket {
                packet: p.packet,
                key: p.key,
                from_a: p.from_a,
                tcp_seq: p.tcp_seq,
                tcp_ack: p.tcp_ack,
                payload,
                reassembled: p.reassembled,
                fragment: p.fragment,
            };
            shard.observe(&packet, &mut self.emitter, &mut self.ended);
        }
        if let Some(now) = part.now_ns {
            for shard in self.shards.iter_mut().flatten() {
                shard.expire(now, &mut self.emitter, &mut self.ended);
            }
        }
        let active = self.shards.iter().flatten().map(|t| t.len() as u64).sum();
        let (seq, entries, connections, flows) = self.encoder.encode(part.seq, &mut self.ended);
        SessionOutput::Batch { seq, entries, connections, flows, records: self.emitter.take(), active }
    }

    /// Ends the open connections of `shard` (`None` if this thread does not
    /// own it) and compresses their records and what their end emitted;
    /// the FTP data events go to the writer as they are.
    fn finish_shard(
        &mut self,
        shard: usize,
        flow_compressor: &mut FrameCompressor,
        compressor: &mut FrameCompressor,
        keep: &KeepContent,
    ) -> Result<Option<FinalShard>, CaptureError> {
        let Some(Some(s)) = self.shards.get_mut(shard) else { return Ok(None) };
        s.finish(&mut self.emitter, &mut self.ended);
        self.ended.sort_by_key(|e| e.sort_key());
        let mut frames = Vec::new();
        for group in self.ended.chunks(CONNECTIONS_PER_FRAME) {
            self.chunk.make_room_for(group.len());
            self.encoder.encode_into(group, &mut self.chunk);
            frames.extend(self.chunk.compress(flow_compressor, keep)?);
        }
        self.ended.clear();
        let mut records = self.emitter.take();
        let ftp_data = std::mem::take(&mut records.ftp_data);
        frames.extend(record_frames(&[&records], compressor, keep)?);
        Ok(Some((frames, ftp_data)))
    }

    fn counters(&self) -> SessionCounters {
        let mut counters = SessionCounters {
            flows: FlowCounters { ignored: self.ignored, packets: self.ignored, ..FlowCounters::default() },
            ..SessionCounters::default()
        };
        for shard in self.shards.iter().flatten() {
            counters.merge(&SessionCounters {
                flows: shard.flow_counters().clone(),
                streams: shard.stream_counters(),
                quic: shard.quic_counters(),
            });
        }
        counters
    }
}

/// A shard's end-of-input frames and FTP data events.
type FinalShard = (Vec<EncodedFrame>, Vec<(OrderKey, FtpDataEvent)>);

/// The analyzers' records of several threads' shares, merged per record
/// type by order key and compressed into one frame per type.
fn record_frames(
    shares: &[&EmittedRecords],
    compressor: &mut FrameCompressor,
    keep: &KeepContent,
) -> Result<Vec<EncodedFrame>, CaptureError> {
    let mut frames = Vec::new();
    let mut content = Vec::new();
    for record_type in RecordType::all() {
        let mut entries: Vec<(netcap_session::OrderKey, &[u8])> = Vec::new();
        for share in shares {
            if let Some(buffer) = share.of(record_type) {
                for e in &buffer.entries {
                    if let Some(bytes) = buffer.bytes.get(e.start as usize..e.end as usize) {
                        entries.push((e.key, bytes));
                    }
                }
            }
        }
        if entries.is_empty() {
            continue;
        }
        entries.sort_unstable_by_key(|(key, _)| *key);
        content.clear();
        for (_, bytes) in &entries {
            content.extend_from_slice(bytes);
        }
        frames.push(keep.frame(compressor, record_type, entries.len() as u64, &content)?);
    }
    Ok(frames)
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
    fn new(options: &SessionOptions) -> Self {
        RecordEncoder {
            connections: options.connections,
            flows: options.flow_records,
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

    /// The records of the connections a batch ended: (seq, entries,
    /// Connection bytes, Flow bytes).
    fn encode(&mut self, seq: u64, ended: &mut Vec<EndedConnection>) -> (u64, Vec<Entry>, Vec<u8>, Vec<u8>) {
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
        (seq, entries, connections, flows)
    }

    fn encode_into(&mut self, ended: &[EndedConnection], chunk: &mut Chunk) {
        for e in ended {
            let flow_records = self.encode_one(e, &mut chunk.connections, &mut chunk.flows);
            chunk.n_conn += u64::from(self.connections);
            chunk.n_flow += u64::from(flow_records);
        }
    }
}

/// The writer side: collects the session threads' outputs and, once every
/// thread has reported a batch, writes its records in key order.
pub(crate) struct SessionMerge {
    threads: usize,
    next: u64,
    waiting: BTreeMap<u64, Vec<BatchShare>>,
    /// Frames of the connections open at the end of the input, by shard,
    /// until they are written.
    finals: BTreeMap<usize, FinalShard>,
    /// The next shard whose end-of-input frames are to be written.
    next_final: usize,
    reported: usize,
    counters: SessionCounters,
    /// Connections tracked after the last batch merged.
    active: u64,
    keep: KeepContent,
    /// Record buffers of the merged frames, reused batch after batch.
    chunk: Chunk,
    /// For the analyzers' records.
    compressor: FrameCompressor,
    /// FTP data connections matched to their commands (with the stream
    /// layer): the shards' events in batch and key order, then the end of
    /// the input's in shard order, so the same for any number of threads.
    matcher: Option<Matcher>,
    /// Encoded File records of the matcher, reused.
    encoded: Vec<u8>,
}

/// One thread's share of a batch.
struct BatchShare {
    entries: Vec<Entry>,
    connections: Vec<u8>,
    flows: Vec<u8>,
    records: EmittedRecords,
    active: u64,
}

impl SessionMerge {
    /// `ftp_data`: match FTP data connections (the stream layer runs).
    pub fn new(threads: usize, settings: &FrameSettings, ftp_data: Option<MatchConfig>) -> Result<Self, CaptureError> {
        Ok(SessionMerge {
            matcher: ftp_data.map(Matcher::new),
            encoded: Vec::new(),
            keep: settings.keep.clone(),
            compressor: FrameCompressor::new(settings.level)?,
            threads: threads.clamp(1, SHARDS),
            next: 0,
            waiting: BTreeMap::new(),
            finals: BTreeMap::new(),
            next_final: 0,
            reported: 0,
            counters: SessionCounters::default(),
            active: 0,
            chunk: Chunk::default(),
        })
    }

    /// Takes one thread's output.
    pub fn add(&mut self, output: SessionOutput) {
        match output {
            SessionOutput::Batch { seq, entries, connections, flows, records, active } => {
                self.waiting.entry(seq).or_default().push(BatchShare { entries, connections, flows, records, active });
            }
            SessionOutput::Final { shard, frames, ftp_data } => {
                self.finals.insert(shard, (frames, ftp_data));
            }
            SessionOutput::Counters(c) => {
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
            let mut shares = self.waiting.remove(&self.next).unwrap_or_default();
            self.active = shares.iter().map(|s| s.active).sum();
            frames.extend(merge(&shares, &mut self.chunk, compressor, &self.keep)?);
            let records: Vec<&EmittedRecords> = shares.iter().map(|s| &s.records).collect();
            frames.extend(record_frames(&records, &mut self.compressor, &self.keep)?);
            let events = shares.iter_mut().flat_map(|s| std::mem::take(&mut s.records.ftp_data)).collect();
            frames.extend(self.match_ftp_data(events)?);
            self.next += 1;
        }
        frames.extend(self.ready_finals()?);
        Ok(frames)
    }

    /// Runs FTP data events through the matcher in key order; the File
    /// records they complete, as a frame.
    fn match_ftp_data(
        &mut self,
        mut events: Vec<(OrderKey, FtpDataEvent)>,
    ) -> Result<Option<EncodedFrame>, CaptureError> {
        let Some(matcher) = self.matcher.as_mut() else { return Ok(None) };
        if events.is_empty() {
            return Ok(None);
        }
        // Keys are unique within a batch (and within a shard's end).
        events.sort_unstable_by_key(|(key, _)| *key);
        let mut files = Vec::new();
        for (_, event) in events {
            matcher.event(event, &mut files);
        }
        if files.is_empty() {
            return Ok(None);
        }
        self.encoded.clear();
        for file in &files {
            // Encoding into a Vec cannot fail.
            let _ = prost::Message::encode_length_delimited(file, &mut self.encoded);
        }
        Ok(Some(self.keep.frame(&mut self.compressor, RecordType::File, files.len() as u64, &self.encoded)?))
    }

    /// The end-of-input frames of the shards that are next in order, as
    /// they arrive: writing them while the session threads still compress
    /// later shards keeps the writer from doing it all after them. Shard
    /// `s` belongs to thread `s % threads`, and each thread's outputs
    /// arrive in the order it sent them, so once shards 0 to `threads - 1`
    /// are in, every thread has sent its last batch; with no batch left
    /// waiting, all of them are written.
    fn ready_finals(&mut self) -> Result<Vec<EncodedFrame>, CaptureError> {
        let every_thread_done = (0..self.threads).all(|s| s < self.next_final || self.finals.contains_key(&s));
        let mut frames = Vec::new();
        if every_thread_done && self.waiting.is_empty() {
            while let Some((shard, ftp_data)) = self.finals.remove(&self.next_final) {
                frames.extend(shard);
                frames.extend(self.match_ftp_data(ftp_data)?);
                self.next_final += 1;
            }
        }
        Ok(frames)
    }

    /// After the last batch: what is left to write, or an error if a
    /// session thread stopped before the end.
    pub fn finish(&mut self, compressor: &mut FrameCompressor) -> Result<Vec<EncodedFrame>, CaptureError> {
        let frames = self.ready(u64::MAX, compressor)?;
        if !self.waiting.is_empty() || self.reported != self.threads || self.next_final != SHARDS {
            return Err(CaptureError::Worker(format!("the session stage stopped before batch {}", self.next)));
        }
        if let Some(matcher) = self.matcher.as_mut() {
            matcher.finish();
            // The matcher's files are the capture's files too.
            if let Some(streams) = self.counters.streams.as_mut() {
                let m = &matcher.counters;
                streams.ftp_data.merge(m);
                streams.files.files += m.files;
                streams.files.extracted += m.extracted;
                streams.files.extract_errors += m.extract_errors;
                streams.files.truncated += m.truncated;
            }
        }
        Ok(frames)
    }

    pub fn counters(&self) -> &SessionCounters {
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
