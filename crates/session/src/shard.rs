//! One flow shard of the session stage: the connection table and the
//! analyzers that hang off its connections.

use crate::emit::{Emitter, OrderKey};
use crate::protocols::tcp_port_name;
use crate::quic::{QuicAnalyzer, QuicCounters};
use crate::tcp::{StreamConfig, StreamCounters, TcpPacket, TcpStreams};
use crate::{ConnectionExtras, PacketTime};
use netcap_decoder::TransportKind;
use netcap_flow::{EndedConnection, FlowConfig, FlowCounters, FlowKey, FlowPacket, FlowTable, Joined};

/// What the session stage does (capture flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    pub flows: FlowConfig,
    /// TCP reassembly and stream protocols (None: `-reassemble-tcp=false`).
    pub streams: Option<StreamConfig>,
    /// Follow QUIC client Initials (QUICInitial records wanted).
    pub quic: bool,
}

/// A packet as the session stage sees it: the flow summary, its key, and
/// for TCP and UDP its sequence numbers and payload.
#[derive(Debug, Clone, Copy)]
pub struct SessionPacket<'a> {
    pub packet: FlowPacket,
    pub key: FlowKey,
    /// The packet was sent by endpoint a of the key.
    pub from_a: bool,
    pub tcp_seq: u32,
    pub tcp_ack: u32,
    /// Transport payload as captured.
    pub payload: &'a [u8],
    /// A datagram reassembled from IP fragments: the flow table counted its
    /// fragments; only its payload is new.
    pub reassembled: bool,
    /// An IP fragment: its payload is part of a datagram (reassembled ones
    /// follow as `reassembled` packets).
    pub fragment: bool,
}

/// The analyzers every shard runs. Each sees the shard's packets in capture
/// order, hears when the connection table ends a connection, and emits
/// records through the shard's [`Emitter`] (whose order context the shard
/// sets).
pub trait Analyzer {
    /// One packet, after the table took it (`joined`: its connection).
    fn observe(&mut self, p: &SessionPacket<'_>, joined: &Joined, emit: &mut Emitter);
    /// The table ended a connection: finish its state, add to its record.
    fn connection_ended(&mut self, ended: &mut EndedConnection, emit: &mut Emitter);
    /// A batch boundary at capture time `now_ns`.
    fn expire(&mut self, _now_ns: i64, _emit: &mut Emitter) {}
}

impl Analyzer for TcpStreams {
    fn observe(&mut self, p: &SessionPacket<'_>, joined: &Joined, emit: &mut Emitter) {
        if p.packet.transport != TransportKind::Tcp || p.fragment {
            return;
        }
        let tcp = TcpPacket {
            key: p.key,
            flags: p.packet.tcp_flags,
            seq: p.tcp_seq,
            ack: p.tcp_ack,
            window: p.packet.tcp_window,
            payload: p.payload,
            time: PacketTime { timestamp_ns: p.packet.timestamp_ns, frame: p.packet.frame },
        };
        TcpStreams::observe(self, &tcp, joined, emit);
    }

    fn connection_ended(&mut self, ended: &mut EndedConnection, emit: &mut Emitter) {
        self.end(ended, emit);
    }
}

/// One shard: its connection table and analyzers.
pub struct Shard {
    flows: FlowTable,
    tcp: Option<TcpStreams>,
    quic: Option<QuicAnalyzer>,
}

impl Shard {
    /// Shard `shard` of [`netcap_flow::SHARDS`].
    pub fn new(config: &SessionConfig, shard: usize) -> Shard {
        Shard {
            flows: FlowTable::new(&config.flows),
            tcp: config.streams.as_ref().map(|s| TcpStreams::new(s, shard)),
            quic: config.quic.then(QuicAnalyzer::new),
        }
    }

    /// Connections tracked now.
    pub fn len(&self) -> usize {
        self.flows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flows.is_empty()
    }

    pub fn flow_counters(&self) -> &FlowCounters {
        self.flows.counters()
    }

    pub fn stream_counters(&self) -> Option<StreamCounters> {
        self.tcp.as_ref().map(TcpStreams::counters)
    }

    pub fn quic_counters(&self) -> Option<QuicCounters> {
        self.quic.as_ref().map(QuicAnalyzer::counters)
    }

    /// Bytes of stream state held now.
    pub fn stream_memory(&self) -> usize {
        self.tcp.as_ref().map_or(0, TcpStreams::memory)
    }

    /// One packet of the shard, in capture order; connections it ends are
    /// appended to `ended`, their records' extras filled.
    pub fn observe(&mut self, p: &SessionPacket<'_>, emit: &mut Emitter, ended: &mut Vec<EndedConnection>) {
        let frame = p.packet.frame;
        if p.reassembled
            && let Some(joined) = self.flows.find(&p.key, p.from_a)
        {
            emit.set_context(frame, joined.first_frame);
            self.analyzers(|a| a.observe(p, &joined, emit));
            return;
        }
        // A reassembled datagram whose connection the table does not have
        // (its first fragment was too short for the ports) joins the table
        // itself.
        let start = ended.len();
        let joined = self.flows.observe_keyed(&p.packet, p.key, p.from_a, ended);
        self.ended(&mut ended[start..], frame, emit);
        emit.set_context(frame, joined.first_frame);
        self.analyzers(|a| a.observe(p, &joined, emit));
    }

    /// A batch boundary: ends idle connections as of `now_ns`.
    pub fn expire(&mut self, now_ns: i64, emit: &mut Emitter, ended: &mut Vec<EndedConnection>) {
        let start = ended.len();
        self.flows.expire(now_ns, ended);
        self.ended(&mut ended[start..], OrderKey::AFTER_PACKETS, emit);
        emit.set_context(OrderKey::AFTER_PACKETS, 0);
        self.analyzers(|a| a.expire(now_ns, emit));
    }

    /// The end of the input: ends every connection.
    pub fn finish(&mut self, emit: &mut Emitter, ended: &mut Vec<EndedConnection>) {
        let start = ended.len();
        self.flows.finish(ended);
        self.ended(&mut ended[start..], OrderKey::AFTER_PACKETS, emit);
    }

    fn analyzers(&mut self, mut f: impl FnMut(&mut dyn Analyzer)) {
        if let Some(tcp) = self.tcp.as_mut() {
            f(tcp);
        }
        if let Some(quic) = self.quic.as_mut() {
            f(quic);
        }
    }

    /// Lets the analyzers finish connections the table ended (triggered by
    /// packet `trigger`), then names TCP applications by port where content
    /// decided nothing.
    fn ended(&mut self, ended: &mut [EndedConnection], trigger: u64, emit: &mut Emitter) {
        for e in ended {
            emit.set_context(trigger, e.first_frame());
            self.analyzers(|a| a.connection_ended(e, emit));
            if e.ip_protocol() == 6 {
                let by_port = tcp_port_name(e.server().1).or_else(|| tcp_port_name(e.client().1));
                let extras = e.extras.get_or_insert_with(|| Box::new(ConnectionExtras::default()));
                if extras.application_protocol.is_none() {
                    extras.application_protocol = by_port;
                }
            }
        }
    }
}
