//! TCP reassembly of one direction of a connection: segments in, the
//! direction's bytes out, in order, once, with gaps made explicit.
//!
//! Sequence numbers are 32-bit and wrap; each is placed in the direction's
//! 64-bit stream (offset 0 is the first byte after the SYN, or the first
//! byte seen when the connection is picked up mid-stream) relative to the
//! next offset to deliver, by signed 32-bit distance, so wraparound needs no
//! special case as long as segments stay within 2 GiB of it.
//!
//! Policy, as Suricata and Zeek document theirs (docs/streams.md):
//! - In-order data is delivered straight from the packet (no copy).
//! - Out-of-order data is queued (copied), up to [`ReassemblyConfig::max_queued`]
//!   bytes ahead per direction and within the shard's memory cap; the queue is
//!   drained as the holes fill.
//! - Overlaps: first copy wins. A segment repeating bytes already delivered
//!   is a retransmission: its repeated part is dropped. Where the repeated
//!   bytes can be compared with the first copy they are: queued bytes
//!   always; delivered bytes when the retransmission covers exactly a range
//!   one of the last [`RECENT`] delivered segments covered (a 64-bit hash of
//!   each is kept, not the bytes). Overlaps whose bytes differ are counted
//!   (`overlaps_different_data`).
//! - Gaps: a hole is waited for until the peer acknowledges past it while
//!   data waits above it (the receiver got the bytes: the capture lost
//!   them); then it is skipped as a gap and what follows delivered at once,
//!   as tshark's follow and Zeek skip holes. When the connection ends, a
//!   direction whose peer acknowledged nothing at all (a one-sided capture:
//!   nothing says otherwise) has its holes skipped; otherwise data still
//!   waiting above a hole is not delivered (tshark's follow shows the same
//!   bytes). Holes and undelivered data count as `missed_bytes`, and so does
//!   data the peer acknowledged beyond the last byte seen (as Zeek counts
//!   it).
//! - Bounds: out-of-order data is held up to [`ReassemblyConfig::max_queued`]
//!   bytes per direction and within the shard's memory cap; beyond, holes
//!   are given up as gaps at once, the queued data delivered.
//! - Window: a hole larger than [`MAX_JUMP`] that no acknowledgment covers
//!   is never skipped: the data beyond it is out of any plausible window (a
//!   stray or crafted packet, not lost data) and is dropped and counted
//!   (`out_of_window`), so one bad sequence number cannot turn hundreds of
//!   megabytes into "missed" bytes.
//! - Depth: bytes beyond [`ReassemblyConfig::depth`] of a direction are not
//!   reassembled (counted in `depth_exceeded_bytes`).

use crate::PacketTime;
use std::collections::VecDeque;

/// What one queued segment costs besides its bytes.
pub const QUEUED_ENTRY_BYTES: usize = std::mem::size_of::<Queued>();

/// Delivered segments whose (range, hash) are kept to check retransmissions.
pub const RECENT: usize = 4;

/// How far ahead of the delivery point a segment may start without the
/// peer's acknowledgment vouching for it: larger than any TCP window seen in
/// practice (window scaling allows 1 GiB, stacks use a few MiB at most).
pub const MAX_JUMP: u64 = 64 << 20;

/// Bounds of one direction's reassembly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Stream bytes reassembled per direction at most; 0: no limit.
    pub depth: u64,
    /// Memory of queued out-of-order data per direction at most: the bytes
    /// plus [`QUEUED_ENTRY_BYTES`] per queued segment (so that a flood of
    /// tiny segments is bounded too, also once the bytes are only counted).
    /// A segment that would
    /// exceed it (or start further ahead than it) makes the queue deliver
    /// what it holds, holes as gaps, first.
    pub max_queued: usize,
}

impl Default for ReassemblyConfig {
    /// Depth 0 (the whole stream: in-order data costs no memory), 1 MiB of
    /// out-of-order data per direction (the largest TCP window a receiver
    /// advertises without window scaling is 64 KiB; with scaling, browsers
    /// and servers commonly go to a few MiB).
    fn default() -> Self {
        ReassemblyConfig { depth: 0, max_queued: 1 << 20 }
    }
}

/// What reassembly hands on, in stream order.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes starting at stream `offset`, carried by packet `time`.
    Data { offset: u64, bytes: &'a [u8], time: PacketTime },
    /// `len` bytes starting at `offset` are missing.
    Gap { offset: u64, len: u64 },
}

/// Counts of one direction (Connection record fields and the summary).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HalfCounters {
    /// Segments that repeated bytes already received (wholly or partly).
    pub retransmissions: u64,
    /// Overlaps whose bytes differed from the first copy.
    pub overlaps_different_data: u64,
    /// Bytes skipped as gaps, plus acknowledged bytes never seen.
    pub missed_bytes: u64,
    /// Bytes beyond the depth.
    pub depth_exceeded_bytes: u64,
    /// Times the queue had to deliver with holes to make room.
    pub queue_flushes: u64,
    /// Segments dropped as out of any plausible window.
    pub out_of_window: u64,
    /// Bytes delivered.
    pub delivered_bytes: u64,
}

/// An out-of-order segment waiting for the bytes before it. Without
/// [`HalfStream::set_keep_bytes`] only its range is kept.
#[derive(Debug)]
struct Queued {
    offset: u64,
    len: u32,
    data: Vec<u8>,
    time: PacketTime,
}

impl Queued {
    fn end(&self) -> u64 {
        self.offset + u64::from(self.len)
    }
}

/// Reassembly state of one direction.
#[derive(Debug, Default)]
pub struct HalfStream {
    /// Sequence number of stream offset 0; None until the direction starts.
    isn: Option<u32>,
    /// Next stream offset to deliver.
    next: u64,
    /// Stream offset of the FIN, once seen.
    fin: Option<u64>,
    /// Highest stream offset seen (end of the furthest segment).
    highest: u64,
    /// Highest stream offset the peer acknowledged.
    peer_acked: u64,
    /// Out-of-order segments, sorted by offset, not overlapping.
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    /// (offset, len, hash) of the last delivered segments, a ring.
    recent: [(u64, u32, u64); RECENT],
    recent_next: u8,
    /// The direction has ended (the connection did): later segments are
    /// ignored.
    closed: bool,
    /// Whether anyone wants the bytes: without, in-order data only advances
    /// the stream and out-of-order data is queued as ranges (no copies), so
    /// the counters stay right at no cost.
    skip_bytes: bool,
    pub counters: HalfCounters,
}

/// One segment of the direction.
#[derive(Debug, Clone, Copy)]
pub struct Segment<'a> {
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub payload: &'a [u8],
    pub time: PacketTime,
}

fn hash(bytes: &[u8]) -> u64 {
    use std::hash::BuildHasher;
    foldhash::fast::FixedState::with_seed(0x7463_7072_6561_7373).hash_one(bytes)
}

impl HalfStream {
    pub fn new() -> Self {
        HalfStream::default()
    }

    /// Whether the direction has started (a SYN or data was seen).
    pub fn started(&self) -> bool {
        self.isn.is_some()
    }

    /// Next stream offset to deliver.
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Memory of the out-of-order queue now: bytes held plus
    /// [`QUEUED_ENTRY_BYTES`] per queued segment.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Heap memory the direction holds: queued bytes and the queue's
    /// allocated entries.
    pub fn memory(&self) -> usize {
        // queued_bytes counts the entries in use (and their exactly sized
        // copies); add the queue's spare capacity.
        self.queued_bytes + (self.queue.capacity() - self.queue.len()) * QUEUED_ENTRY_BYTES
    }

    /// The FIN was seen and every byte before it delivered.
    pub fn finished(&self) -> bool {
        self.fin.is_some_and(|f| self.next >= f)
    }

    /// The stream offset of sequence number `seq` (relative to the next
    /// offset to deliver, by signed 32-bit distance); None before the
    /// stream's start.
    fn offset_of(&self, seq: u32) -> Option<u64> {
        let isn = self.isn?;
        let next_seq = isn.wrapping_add(self.next as u32);
        let distance = i64::from(seq.wrapping_sub(next_seq) as i32);
        u64::try_from(self.next as i64 + distance).ok()
    }

    /// The stream offset the peer's acknowledgment number `ack` stands for.
    pub fn ack_offset(&self, ack: u32) -> Option<u64> {
        self.offset_of(ack)
    }

    /// The peer acknowledged this direction up to sequence number `ack`.
    /// If data waits behind a hole the acknowledgment covers, the receiver
    /// got past the hole (the capture lost it): the hole is skipped as a gap
    /// and what follows delivered, now rather than at the connection's end.
    pub fn peer_ack(&mut self, ack: u32, out: &mut dyn FnMut(Chunk<'_>)) {
        let Some(offset) = self.offset_of(ack) else { return };
        if offset.wrapping_sub(self.next) >= 1 << 31 {
            // Behind the delivery point: says nothing new.
            return;
        }
        self.peer_acked = self.peer_acked.max(offset);
        if !self.closed && !self.queue.is_empty() {
            self.skip_holes(offset, false, out);
        }
    }

    /// Whether the bytes are delivered (the default) or only counted: once
    /// no parser or output wants a direction, it costs no copies. Final: a
    /// direction that stopped keeping bytes does not start again (its queue
    /// holds ranges without bytes).
    pub fn set_keep_bytes(&mut self, keep: bool) {
        if keep || self.skip_bytes {
            return;
        }
        self.skip_bytes = true;
        for q in &mut self.queue {
            q.data = Vec::new();
        }
        self.queued_bytes = self.queue.len() * QUEUED_ENTRY_BYTES;
    }

    /// Takes one segment of this direction, delivering what becomes
    /// contiguous to `out`. `room` is how many more bytes the shard's
    /// memory cap lets this direction queue.
    pub fn segment(&mut self, s: &Segment<'_>, config: &ReassemblyConfig, room: usize, out: &mut dyn FnMut(Chunk<'_>)) {
        if s.syn {
            // Data in a SYN starts one after its sequence number. A SYN
            // after data has flowed is a retransmitted or stray SYN.
            if self.isn.is_none() || (self.next == 0 && self.queue.is_empty()) {
                self.isn = Some(s.seq.wrapping_add(1));
            }
        } else if self.isn.is_none() {
            if s.payload.is_empty() {
                // A pure ACK, RST or FIN says nothing about where data
                // starts. A FIN without data before the direction's SYN is
                // not taken as its end either: a receiver in SYN-SENT drops
                // it (RFC 9293 3.10.7.3), and an injected one must not end
                // the direction before the SYN-ACK that really opens it
                // (suricata-verify's Linux evasion capture).
                return;
            }
            // Picked up mid-stream: the stream starts here.
            self.isn = Some(s.seq);
        }
        let data_seq = if s.syn { s.seq.wrapping_add(1) } else { s.seq };
        let Some(start) = self.offset_of(data_seq) else { return };
        let end = start + s.payload.len() as u64;
        self.highest = self.highest.max(end);
        if s.fin && self.fin.is_none() {
            self.fin = Some(end);
        }
        if !s.payload.is_empty() {
            self.data(start, s.payload, s.time, config, room, out);
        }
    }

    fn data(
        &mut self,
        start: u64,
        payload: &[u8],
        time: PacketTime,
        config: &ReassemblyConfig,
        room: usize,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        if self.closed {
            return;
        }
        let end = start + payload.len() as u64;
        if start < self.next {
            self.counters.retransmissions += 1;
            let repeated = (self.next.min(end) - start) as usize;
            self.check_retransmission(start, &payload[..repeated]);
            if end <= self.next {
                return;
            }
        }
        let skip = self.next.saturating_sub(start) as usize;
        let (start, payload) = (start + skip as u64, &payload[skip..]);
        // Beyond the depth nothing is reassembled.
        let (start, payload) = self.clip_to_depth(start, payload, config);
        if payload.is_empty() {
            return;
        }
        if start == self.next {
            self.deliver(start, payload, time, out);
            self.drain(out);
        } else {
            self.enqueue(start, payload, time, config, room, skip > 0, out);
        }
    }

    /// The part of `payload` (at `start`) within the depth; counts the rest.
    fn clip_to_depth<'p>(&mut self, start: u64, payload: &'p [u8], config: &ReassemblyConfig) -> (u64, &'p [u8]) {
        if config.depth == 0 {
            return (start, payload);
        }
        let end = start + payload.len() as u64;
        if end <= config.depth {
            return (start, payload);
        }
        let keep = config.depth.saturating_sub(start) as usize;
        self.counters.depth_exceeded_bytes += (payload.len() - keep.min(payload.len())) as u64;
        (start, &payload[..keep.min(payload.len())])
    }

    /// Compares repeated bytes with a recorded delivered segment of the
    /// same range, if there is one.
    fn check_retransmission(&mut self, start: u64, repeated: &[u8]) {
        let len = repeated.len() as u32;
        if let Some(&(_, _, h)) = self.recent.iter().find(|&&(o, l, _)| o == start && l == len && l > 0)
            && h != hash(repeated)
        {
            self.counters.overlaps_different_data += 1;
        }
    }

    /// Delivers `len` bytes at `offset` (`bytes`, unless skipping).
    fn deliver(&mut self, offset: u64, bytes: &[u8], time: PacketTime, out: &mut dyn FnMut(Chunk<'_>)) {
        self.deliver_range(offset, bytes.len() as u64, bytes, time, out);
    }

    fn deliver_range(&mut self, offset: u64, len: u64, bytes: &[u8], time: PacketTime, out: &mut dyn FnMut(Chunk<'_>)) {
        if !bytes.is_empty() {
            let slot = usize::from(self.recent_next) % RECENT;
            self.recent[slot] = (offset, bytes.len() as u32, hash(bytes));
            self.recent_next = ((slot + 1) % RECENT) as u8;
        }
        self.next = offset + len;
        self.counters.delivered_bytes += len;
        if !self.skip_bytes {
            out(Chunk::Data { offset, bytes, time });
        }
    }

    /// Delivers queued segments that have become contiguous.
    fn drain(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(first) = self.queue.front() {
            if first.offset > self.next {
                break;
            }
            let Some(q) = self.queue.pop_front() else { break };
            self.queued_bytes -= q.data.len() + QUEUED_ENTRY_BYTES;
            if q.end() <= self.next {
                continue;
            }
            let skip = self.next - q.offset;
            let bytes = q.data.get(skip as usize..).unwrap_or_default();
            self.deliver_range(self.next, u64::from(q.len) - skip, bytes, q.time, out);
        }
    }

    /// Queues an out-of-order segment, first copy winning over queued
    /// bytes. `counted`: the segment was already counted as a
    /// retransmission (it repeated delivered bytes).
    #[allow(clippy::too_many_arguments)]
    fn enqueue(
        &mut self,
        start: u64,
        payload: &[u8],
        time: PacketTime,
        config: &ReassemblyConfig,
        room: usize,
        counted: bool,
        out: &mut dyn FnMut(Chunk<'_>),
    ) {
        let end = start + payload.len() as u64;
        let limit = room.min(config.max_queued);
        // A segment becomes one entry per hole it fills between queued
        // ones: at most one more than the queued entries it overlaps.
        let first = self.queue.partition_point(|q| q.end() <= start);
        let overlapped = self.queue.iter().skip(first).take_while(|q| q.offset < end).count();
        let needs = if self.skip_bytes { 0 } else { payload.len() } + QUEUED_ENTRY_BYTES * (overlapped + 1);
        if self.queued_bytes + needs > limit {
            // No room to wait for holes: give them up as gaps now (those
            // that are plausible), then place this segment.
            self.counters.queue_flushes += 1;
            self.skip_holes(self.peer_acked, true, out);
            self.drop_queue();
            // The flush may have gone past this segment (queued data lay
            // beyond it): bytes behind the delivery point are late, already
            // given up as a gap.
            let skip = self.next.saturating_sub(start).min(payload.len() as u64);
            let (start, payload) = (start + skip, &payload[skip as usize..]);
            if payload.is_empty() {
                return;
            }
            if start > self.next {
                if start - self.next > MAX_JUMP && start > self.peer_acked {
                    self.counters.out_of_window += 1;
                    return;
                }
                self.gap(start - self.next, out);
            }
            self.deliver(start, payload, time, out);
            return;
        }
        // The parts of the new segment that no queued segment holds yet;
        // where they overlap, compare with the first copy.
        let mut overlapped = false;
        let mut cursor = start;
        let mut at = self.queue.partition_point(|q| q.end() <= start);
        while cursor < end {
            let next_queued = self.queue.get(at).filter(|q| q.offset < end).map(|q| (q.offset, q.end()));
            let piece_end = next_queued.map_or(end, |(o, _)| o.max(cursor));
            if piece_end > cursor {
                let bytes = &payload[(cursor - start) as usize..(piece_end - start) as usize];
                self.insert_at(at, cursor, bytes, time);
                at += 1;
                cursor = piece_end;
            }
            let Some((q_start, q_end)) = next_queued else { break };
            let (from, to) = (cursor.max(q_start), end.min(q_end));
            if to > from {
                overlapped = true;
                let q = &self.queue[at];
                if let Some(old) = q.data.get((from - q.offset) as usize..(to - q.offset) as usize) {
                    let new = &payload[(from - start) as usize..(to - start) as usize];
                    if new != old {
                        self.counters.overlaps_different_data += 1;
                    }
                }
            }
            cursor = cursor.max(q_end);
            at += 1;
        }
        if overlapped && !counted {
            self.counters.retransmissions += 1;
        }
    }

    fn insert_at(&mut self, at: usize, offset: u64, bytes: &[u8], time: PacketTime) {
        let data = if self.skip_bytes { Vec::new() } else { bytes.to_vec() };
        self.queued_bytes += data.len() + QUEUED_ENTRY_BYTES;
        self.queue.insert(at, Queued { offset, len: bytes.len() as u32, data, time });
    }

    fn gap(&mut self, len: u64, out: &mut dyn FnMut(Chunk<'_>)) {
        if !self.skip_bytes {
            out(Chunk::Gap { offset: self.next, len });
        }
        self.counters.missed_bytes += len;
        self.next += len;
    }

    /// Skips the holes in front of queued data that `acked` covers (with
    /// `force`, also those no larger than [`MAX_JUMP`]), delivering the data
    /// after each; stops at the first hole it may not skip.
    fn skip_holes(&mut self, acked: u64, force: bool, out: &mut dyn FnMut(Chunk<'_>)) {
        while let Some(first) = self.queue.front() {
            if first.offset > self.next {
                let hole = first.offset - self.next;
                if acked <= self.next && !(force && hole <= MAX_JUMP) {
                    break;
                }
                self.gap(hole, out);
            }
            self.drain(out);
        }
    }

    /// Drops what is still queued (behind a hole that stays), counting it.
    fn drop_queue(&mut self) {
        if let Some(last) = self.queue.back() {
            let first = self.queue.front().map_or(self.next, |q| q.offset);
            if first - self.next > MAX_JUMP && first > self.peer_acked {
                self.counters.out_of_window += 1;
            } else {
                self.counters.missed_bytes += last.end() - self.next;
            }
            self.queue.clear();
            self.queued_bytes = 0;
        }
    }

    /// Delivers everything queued that may be (holes as gaps, see
    /// [`HalfStream::end`]'s rule for a peer that acknowledged nothing);
    /// the queue is empty after.
    pub fn flush(&mut self, out: &mut dyn FnMut(Chunk<'_>)) {
        self.skip_holes(self.peer_acked, true, out);
        self.drop_queue();
    }

    /// Ends the direction: delivers what the queue may still deliver (see
    /// the module documentation), counts acknowledged bytes never seen
    /// (`peer_ack`: the highest stream offset the peer acknowledged, None if
    /// it acknowledged nothing), and closes it. Later segments are ignored.
    pub fn end(&mut self, peer_ack: Option<u64>, out: &mut dyn FnMut(Chunk<'_>)) {
        if self.closed {
            return;
        }
        if peer_ack.is_none() {
            self.skip_holes(self.peer_acked, true, out);
        }
        self.drop_queue();
        // A FIN takes one sequence number; data the peer acknowledged beyond
        // what was seen went by unseen.
        let seen_end = self.highest.max(self.next);
        let fin = u64::from(self.fin.is_some());
        if let Some(ack) = peer_ack
            && ack > seen_end + fin
            && ack - seen_end < 1 << 30
        {
            self.counters.missed_bytes += ack - seen_end - fin;
        }
        self.closed = true;
    }

    pub fn is_closed(&self) -> bool {
        self.closed
    }
}

/// Fuzzing entry: one direction fed arbitrary segments and peer
/// acknowledgments. Each step is 5 bytes: a control byte (bits 0-2: SYN,
/// FIN, RST; bit 3: a peer acknowledgment instead of a segment; bit 4:
/// from now on bytes are only counted), a 16-bit signed sequence offset
/// from the last segment's, a payload length, and the memory room the
/// shard gives (in 16-byte units). Checks: chunks are contiguous from offset 0 on, the queue stays
/// under its bound and is empty at the end, delivered bytes are counted.
pub fn fuzz_entry(data: &[u8]) {
    let config = ReassemblyConfig { depth: 0, max_queued: 512 };
    let mut half = HalfStream::new();
    let mut seq: u32 = u32::from_le_bytes([data.first().copied().unwrap_or(0), 0xff, 0xff, 0xff]);
    let mut next = None::<u64>;
    let mut delivered = 0u64;
    let mut check = |c: Chunk<'_>| {
        let (offset, len) = match c {
            Chunk::Data { offset, bytes, .. } => {
                delivered += bytes.len() as u64;
                (offset, bytes.len() as u64)
            }
            Chunk::Gap { offset, len } => (offset, len),
        };
        if let Some(n) = next {
            assert_eq!(offset, n, "chunks must be contiguous");
        }
        next = Some(offset + len);
    };
    let payload = [0xa5u8; 255];
    for (i, step) in data.chunks_exact(5).enumerate() {
        let control = step[0];
        let delta = i16::from_le_bytes([step[1], step[2]]);
        seq = seq.wrapping_add(delta as i32 as u32);
        let len = usize::from(step[3]);
        if control & 0x10 != 0 {
            // As the stream layer does: once nobody wants the bytes.
            half.set_keep_bytes(false);
        }
        if control & 0x08 != 0 {
            half.peer_ack(seq, &mut check);
        } else {
            let s = Segment {
                seq,
                syn: control & 1 != 0,
                fin: control & 2 != 0,
                rst: control & 4 != 0,
                payload: &payload[..len],
                time: PacketTime { timestamp_ns: i as i64, frame: i as u64 + 1 },
            };
            half.segment(&s, &config, usize::from(step[4]) * 16, &mut check);
        }
        assert!(half.queued_bytes() <= config.max_queued, "queue over its bound");
    }
    half.end(None, &mut check);
    assert!(delivered <= half.counters.delivered_bytes, "delivered bytes are counted");
    assert_eq!(half.queued_bytes(), 0);
}

#[cfg(test)]
mod tests;
