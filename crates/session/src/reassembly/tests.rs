use super::*;

/// What a direction delivered: its bytes, with '?' standing for gap bytes,
/// and the gaps.
#[derive(Default)]
struct Out {
    stream: Vec<u8>,
    gaps: Vec<(u64, u64)>,
    frames: Vec<u64>,
}

fn t(frame: u64) -> PacketTime {
    PacketTime { timestamp_ns: frame as i64 * 1000, frame }
}

struct Half {
    h: HalfStream,
    config: ReassemblyConfig,
    out: Out,
}

impl Half {
    fn new() -> Self {
        Half { h: HalfStream::new(), config: ReassemblyConfig::default(), out: Out::default() }
    }

    fn push(&mut self, frame: u64, seq: u32, flags: &str, payload: &[u8]) {
        let s = Segment {
            seq,
            syn: flags.contains('S'),
            fin: flags.contains('F'),
            rst: flags.contains('R'),
            payload,
            time: t(frame),
        };
        let out = &mut self.out;
        self.h.segment(&s, &self.config, usize::MAX, &mut |c| record(out, c));
    }

    fn end(&mut self, ack: Option<u32>) {
        let ack = ack.and_then(|a| self.h.ack_offset(a));
        let out = &mut self.out;
        self.h.end(ack, &mut |c| record(out, c));
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.out.stream).into_owned()
    }
}

fn record(out: &mut Out, c: Chunk<'_>) {
    match c {
        Chunk::Data { offset, bytes, time } => {
            assert_eq!(offset as usize, out.stream.len(), "in order");
            out.stream.extend_from_slice(bytes);
            out.frames.push(time.frame);
        }
        Chunk::Gap { offset, len } => {
            assert_eq!(offset as usize, out.stream.len());
            out.gaps.push((offset, len));
            out.stream.extend(std::iter::repeat_n(b'?', len as usize));
        }
    }
}

#[test]
fn in_order_after_syn() {
    let mut h = Half::new();
    h.push(1, 1000, "S", b"");
    h.push(3, 1001, "", b"hello ");
    h.push(4, 1007, "F", b"world");
    assert_eq!(h.text(), "hello world");
    assert!(h.h.finished());
    assert_eq!(h.out.frames, [3, 4]);
    h.end(None);
    assert_eq!(h.h.counters, HalfCounters { delivered_bytes: 11, ..Default::default() });
}

/// suricata-verify's Linux evasion capture: a RST and a FIN (with a bogus
/// timestamp) reach the client before the server's SYN-ACK. Neither ends
/// the direction: the SYN-ACK opens it and its data is delivered.
#[test]
fn fin_before_the_syn_does_not_end_the_direction() {
    let mut h = Half::new();
    h.push(2, 5001, "R", b"");
    h.push(3, 5001, "F", b"");
    assert!(!h.h.finished());
    h.push(5, 5000, "S", b"");
    h.push(9, 5001, "", b"HTTP/1.1 200 OK");
    assert_eq!(h.text(), "HTTP/1.1 200 OK");
    assert!(!h.h.finished());
}

#[test]
fn out_of_order_is_queued_until_the_hole_fills() {
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 7, "", b"cd");
    h.push(3, 5, "", b"ab");
    assert_eq!(h.text(), "", "hole at 1..5");
    assert_eq!(h.h.queued_bytes(), 4 + 2 * QUEUED_ENTRY_BYTES);
    h.push(4, 1, "", b"0123");
    assert_eq!(h.text(), "0123abcd");
    assert_eq!(h.out.frames, [4, 3, 2], "each run keeps its packet");
    assert_eq!(h.h.queued_bytes(), 0);
    assert_eq!(h.h.counters.retransmissions, 0);
}

#[test]
fn overlap_with_different_data_first_copy_wins() {
    // Queued bytes: the second copy overlaps the first with other bytes.
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 5, "", b"GOOD");
    h.push(3, 6, "", b"EVIL!");
    h.push(4, 1, "", b"1234");
    assert_eq!(h.text(), "1234GOODL!");
    assert_eq!(h.h.counters.overlaps_different_data, 1);
    assert_eq!(h.h.counters.retransmissions, 1);

    // Delivered bytes, repeated over the same range (suricata-verify's
    // tcp-overlap: GOOD then EVIL at the same sequence number).
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(5, 1, "", b"GOOD");
    h.push(6, 1, "", b"EVIL");
    h.push(7, 1, "", b"GOOD");
    assert_eq!(h.text(), "GOOD");
    assert_eq!(h.h.counters.retransmissions, 2);
    assert_eq!(h.h.counters.overlaps_different_data, 1, "the identical copy is a plain retransmission");

    // Partly repeated: the new tail is delivered, the repeat dropped.
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"abcd");
    h.push(3, 3, "", b"XXef");
    assert_eq!(h.text(), "abcdef");
    assert_eq!(h.h.counters.retransmissions, 1);
}

#[test]
fn sequence_numbers_wrap() {
    let mut h = Half::new();
    h.push(1, u32::MAX - 2, "S", b"");
    h.push(2, u32::MAX - 1, "", b"ab");
    h.push(4, 2, "", b"ef");
    h.push(3, 0, "", b"cd");
    h.push(5, 4, "F", b"g");
    assert_eq!(h.text(), "abcdefg");
    assert!(h.h.finished());
    assert_eq!(h.h.counters.retransmissions, 0);
}

#[test]
fn gaps_are_delivered_at_the_end_and_counted() {
    let mut h = Half::new();
    h.push(1, 100, "S", b"");
    h.push(2, 101, "", b"VERY");
    h.push(3, 109, "", b"DATA");
    assert_eq!(h.text(), "VERY");
    // Nothing from the peer: the hole is skipped.
    h.end(None);
    assert_eq!(h.text(), "VERY????DATA");
    assert_eq!(h.out.gaps, [(4, 4)]);
    assert_eq!(h.h.counters.missed_bytes, 4);
    assert!(h.h.is_closed());
    h.push(4, 105, "", b"late");
    assert_eq!(h.text(), "VERY????DATA", "ended: ignored");
}

#[test]
fn acknowledged_bytes_never_seen_are_missed() {
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"abc");
    // The peer acknowledged up to sequence number 11: 7 bytes went by unseen.
    h.end(Some(11));
    assert_eq!(h.h.counters.missed_bytes, 7);
    // With the FIN seen, its sequence number is not a byte.
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "F", b"abc");
    h.end(Some(5));
    assert_eq!(h.h.counters.missed_bytes, 0);
}

#[test]
fn syn_retransmission_and_syn_with_data() {
    let mut h = Half::new();
    h.push(1, 500, "S", b"");
    h.push(2, 500, "S", b"");
    h.push(3, 501, "", b"x");
    h.push(4, 900, "S", b"");
    h.push(5, 502, "", b"y");
    assert_eq!(h.text(), "xy", "a stray SYN after data changes nothing");

    // TCP Fast Open: the SYN carries data after its sequence number.
    let mut h = Half::new();
    h.push(1, 41, "S", b"GET");
    h.push(2, 45, "", b" /");
    assert_eq!(h.text(), "GET /");
}

#[test]
fn mid_stream_pickup_starts_at_the_first_data() {
    let mut h = Half::new();
    h.push(1, 7000, "", b"");
    assert!(!h.h.started(), "a pure ACK does not start the stream");
    h.push(2, 7000, "", b"middle ");
    h.push(3, 7007, "", b"end");
    assert_eq!(h.text(), "middle end");
    // Bytes before the pickup point are (apparently) retransmitted.
    h.push(4, 6990, "", b"0123456789");
    assert_eq!(h.text(), "middle end");
}

#[test]
fn depth_stops_reassembly() {
    let mut h = Half::new();
    h.config.depth = 6;
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"abcd");
    h.push(3, 5, "", b"efgh");
    h.push(4, 9, "", b"ijkl");
    assert_eq!(h.text(), "abcdef");
    assert_eq!(h.h.counters.depth_exceeded_bytes, 6);
}

#[test]
fn queue_bound_delivers_with_holes() {
    let mut h = Half::new();
    h.config.max_queued = 6 + 2 * QUEUED_ENTRY_BYTES;
    h.push(1, 0, "S", b"");
    h.push(2, 3, "", b"cd");
    h.push(3, 7, "", b"gh");
    assert_eq!(h.text(), "");
    // No room: what is queued goes out with its holes, then this.
    h.push(4, 11, "", b"klmn");
    assert_eq!(h.text(), "??cd??gh??klmn");
    assert_eq!(h.h.counters.queue_flushes, 1);
    assert_eq!(h.h.counters.missed_bytes, 6);
    assert_eq!(h.h.queued_bytes(), 0);
    // The shard's memory cap has the same effect.
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 3, "", b"cd");
    let out = &mut h.out;
    let s = Segment { seq: 7, syn: false, fin: false, rst: false, payload: b"gh", time: t(3) };
    h.h.segment(&s, &h.config, 3 + QUEUED_ENTRY_BYTES, &mut |c| record(out, c));
    assert_eq!(h.text(), "??cd??gh");
}

#[test]
fn skipping_keeps_counters_without_copies() {
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"abcd");
    h.h.set_keep_bytes(false);
    h.push(3, 9, "", b"ijkl");
    assert_eq!(h.h.queued_bytes(), QUEUED_ENTRY_BYTES, "a range only");
    h.push(4, 5, "", b"efgh");
    h.push(5, 5, "", b"efgh");
    assert_eq!(h.text(), "abcd", "nothing delivered after");
    assert_eq!(h.h.next_offset(), 12);
    assert_eq!(h.h.counters.retransmissions, 1);
    h.push(6, 20, "", b"z");
    h.end(None);
    assert_eq!(h.h.counters.missed_bytes, 7);
    assert_eq!(h.h.counters.delivered_bytes, 13);
}

/// Every order of a stream's segments, with duplicates, reassembles to the
/// same bytes.
#[test]
fn any_arrival_order_gives_the_same_stream() {
    let data: Vec<u8> = (0..60u8).collect();
    let cuts = [0usize, 7, 13, 20, 33, 41, 52, 60];
    let segments: Vec<(u32, &[u8])> = cuts.windows(2).map(|w| (1 + w[0] as u32, &data[w[0]..w[1]])).collect();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..200 {
        let mut order: Vec<usize> = (0..segments.len()).collect();
        for i in (1..order.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            order.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut h = Half::new();
        h.push(0, 0, "S", b"");
        for (n, &i) in order.iter().enumerate() {
            h.push(n as u64 + 1, segments[i].0, "", segments[i].1);
            if round % 3 == 0 {
                h.push(n as u64 + 1, segments[i].0, "", segments[i].1);
            }
        }
        assert_eq!(h.out.stream, data, "order {order:?}");
        assert_eq!(h.h.counters.overlaps_different_data, 0);
    }
}

#[test]
fn segments_far_beyond_the_window_are_dropped_unless_acknowledged() {
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"ab");
    h.push(3, 1 + (300 << 20), "", b"junk");
    h.push(4, 3, "", b"cd");
    h.end(None);
    assert_eq!(h.text(), "abcd");
    assert_eq!(h.h.counters.out_of_window, 1);
    assert_eq!(h.h.counters.missed_bytes, 0, "no phantom gap");
    // The peer acknowledged that far: the data was lost, not stray.
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"ab");
    h.push(3, 1 + (100 << 20), "", b"late");
    let out = &mut h.out;
    h.h.peer_ack(1 + (100 << 20) + 4, &mut |c| record(out, c));
    h.end(None);
    assert_eq!(h.h.counters.out_of_window, 0);
    assert_eq!(h.h.counters.missed_bytes, (100 << 20) - 2);
    assert!(h.text().ends_with("late"));
    // A sampled capture: the acknowledgment comes after the data.
    let mut h = Half::new();
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"ab");
    h.push(3, 1 + (400 << 20), "", b"far");
    let out = &mut h.out;
    h.h.peer_ack(1 + (400 << 20) + 3, &mut |c| record(out, c));
    assert!(h.text().ends_with("far"));
}

#[test]
fn holes_the_peer_did_not_acknowledge_end_the_stream() {
    // The peer acknowledged up to the hole: what follows it was never
    // received in order, and is not delivered.
    let mut h = Half::new();
    h.push(1, 100, "S", b"");
    h.push(2, 101, "", b"VERY");
    h.push(3, 109, "", b"DATA");
    h.end(Some(105));
    assert_eq!(h.text(), "VERY");
    assert_eq!(h.h.counters.missed_bytes, 8, "hole and undelivered data");
    // An acknowledgment past the hole that came before the data above it
    // skips nothing either (as tshark's follow).
    let mut h = Half::new();
    h.push(1, 100, "S", b"");
    h.push(2, 101, "", b"VERY");
    h.h.peer_ack(109, &mut |_| {});
    h.push(3, 109, "", b"DATA");
    h.end(Some(109));
    assert_eq!(h.text(), "VERY");
}

#[test]
fn an_acknowledgment_past_a_hole_skips_it_at_once() {
    let mut h = Half::new();
    h.push(1, 100, "S", b"");
    h.push(2, 101, "", b"VERY");
    h.push(3, 109, "", b"DATA");
    let out = &mut h.out;
    // Up to the hole: nothing to skip yet.
    h.h.peer_ack(105, &mut |c| record(out, c));
    assert_eq!(h.text(), "VERY");
    let out = &mut h.out;
    h.h.peer_ack(113, &mut |c| record(out, c));
    assert_eq!(h.text(), "VERY????DATA");
    assert_eq!(h.h.counters.missed_bytes, 4);
}

/// A segment that finds the queue full, behind queued data: the flush
/// delivers past it, and it is late (found by the fuzz entry).
#[test]
fn a_segment_behind_a_flushed_queue_is_not_delivered_backwards() {
    let mut h = Half::new();
    h.config.max_queued = 10 + 2 * QUEUED_ENTRY_BYTES;
    h.push(1, 0, "S", b"");
    h.push(2, 1, "", b"ab");
    h.push(3, 21, "", b"uvwxy");
    h.push(4, 31, "", b"56789");
    // Needs room the queue has not: the queue is flushed up to offset 35.
    h.push(5, 11, "", b"klmnopq");
    assert_eq!(h.text(), "ab??????????????????uvwxy?????56789");
    assert_eq!(h.h.next_offset(), 35);
    assert_eq!(h.h.counters.queue_flushes, 1);
    assert_eq!(h.h.counters.missed_bytes, 18 + 5);
}

/// A segment filling several holes between queued segments becomes several
/// entries: the queue bound counts them all (found by the session_reassembly
/// fuzz target; the input is its crashing artifact).
#[test]
fn a_segment_split_around_queued_ones_stays_within_the_queue_bound() {
    let input = [
        0x00, 0x00, 0x40, 0xc1, 0x71, 0x00, 0x00, 0x00, 0x40, 0x26, 0x00, 0x00, 0x26, 0x23, 0x23, 0x23, 0x23, 0x23,
        0x23, 0x23, 0x23, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x23, 0x40, 0x00, 0x23,
    ];
    fuzz_entry(&input);
    let mut h = Half::new();
    h.config.max_queued = 40 + 3 * QUEUED_ENTRY_BYTES;
    h.push(1, 0, "S", b"");
    h.push(2, 11, "", b"bbbbbbbbbb");
    h.push(3, 31, "", b"dddddddddd");
    // Offsets 2..52, out of order (0..2 missing): it would fill 2..10,
    // 20..30 and 40..52 around the two queued segments, three new entries,
    // more than the bound allows; the queue is given up.
    h.push(4, 3, "", &[b'x'; 50]);
    assert!(h.h.queued_bytes() <= h.config.max_queued);
    assert_eq!(h.h.counters.queue_flushes, 1);
}
