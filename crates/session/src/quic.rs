//! QUIC Initials, one `QUICInitial` record per Initial packet (any UDP
//! port), with the ClientHello of client Initials decrypted; a ClientHello
//! spread over several Initials is put together by a tracker per shard
//! ([`netcap_decoder::app::quic_initials`]), so it lives with the rest of
//! the cross-packet state. Each shard's tracker follows at most
//! `MAX_FLOWS / SHARDS` connections.
//!
//! Records carry the packet's addresses and ports (src: its sender) and
//! the conversation's Community ID; unlike per-packet records they carry no
//! `tunnel`, and `reassembled` is set for an Initial reassembled from IP
//! fragments.

use crate::emit::Emitter;
use crate::shard::{Analyzer, SessionPacket};
use netcap_decoder::TransportKind;
use netcap_decoder::app::{quic, quic_initials, tls};
use netcap_decoder::community_id::CommunityId;
use netcap_flow::{EndedConnection, Joined};
use netcap_records::{QuicInitial, RecordType};

/// What the QUIC analyzers did; summed over shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuicCounters {
    /// Initial packets recorded.
    pub initials: u64,
    /// Initials whose header did not parse.
    pub errors: u64,
    pub tracker: quic_initials::QuicInitialStats,
}

impl QuicCounters {
    pub fn merge(&mut self, o: &QuicCounters) {
        self.initials += o.initials;
        self.errors += o.errors;
        self.tracker.initials += o.tracker.initials;
        self.tracker.reassembled += o.tracker.reassembled;
        self.tracker.dropped += o.tracker.dropped;
    }
}

/// The QUIC Initials of one shard.
pub struct QuicAnalyzer {
    tracker: quic_initials::QuicInitials,
    work: quic::Work,
    tls_work: tls::Work,
    record: QuicInitial,
    community_ids: CommunityId,
    initials: u64,
    errors: u64,
}

impl Default for QuicAnalyzer {
    fn default() -> Self {
        Self::new()
    }
}

impl QuicAnalyzer {
    pub fn new() -> Self {
        QuicAnalyzer {
            tracker: quic_initials::QuicInitials::with_capacity(quic_initials::MAX_FLOWS / netcap_flow::SHARDS),
            work: quic::Work::default(),
            tls_work: tls::Work::default(),
            record: QuicInitial::default(),
            community_ids: CommunityId::uncached(0),
            initials: 0,
            errors: 0,
        }
    }

    pub fn counters(&self) -> QuicCounters {
        QuicCounters { initials: self.initials, errors: self.errors, tracker: *self.tracker.stats() }
    }
}

impl Analyzer for QuicAnalyzer {
    fn observe(&mut self, p: &SessionPacket<'_>, _joined: &Joined, emit: &mut Emitter) {
        if p.packet.transport != TransportKind::Udp
            || p.fragment
            || !emit.wants(RecordType::Quicinitial)
            || !quic::looks_like_initial(p.payload)
        {
            return;
        }
        let k = &p.key;
        let (src, dst) = if p.from_a { (k.ip_a, k.ip_b) } else { (k.ip_b, k.ip_a) };
        let (src_port, dst_port) = (k.port(p.from_a), k.port(!p.from_a));
        let tuple = quic_initials::FlowKey { src, dst, src_port, dst_port, v6: k.v6 };
        let attachment = self.tracker.push_datagram(p.packet.timestamp_ns, tuple, p.payload);
        let r = &mut self.record;
        if quic::fill_initial(r, &mut self.work, &mut self.tls_work, p.payload, attachment).is_err() {
            self.errors += 1;
            return;
        }
        let len = if k.v6 { 16 } else { 4 };
        r.timestamp_ns = p.packet.timestamp_ns;
        r.frame = p.packet.frame;
        r.src_ip.clear();
        r.src_ip.extend_from_slice(&src[..len]);
        r.dst_ip.clear();
        r.dst_ip.extend_from_slice(&dst[..len]);
        r.src_port = u32::from(src_port);
        r.dst_port = u32::from(dst_port);
        self.community_ids.write_conversation(&mut r.community_id, &src[..len], &dst[..len], 17, src_port, dst_port);
        r.tunnel = None;
        r.reassembled = p.reassembled;
        emit.emit(RecordType::Quicinitial, &self.record);
        self.initials += 1;
    }

    fn connection_ended(&mut self, _ended: &mut EndedConnection, _emit: &mut Emitter) {}
}
