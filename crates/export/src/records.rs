//! Metrics of record files (`netcap export -read X.ncap.zst`, `-dir DIR`):
//! the same families as for a capture, counted from the records themselves.
//!
//! The files of one directory are one capture. Their per-packet records
//! (Ethernet, ARP, IPv4, TCP, ..., Error) are joined by frame number, which
//! each file holds in increasing order, so every frame that left a record
//! is one packet with the same link/network/transport class the capture
//! pipeline gives it. Only the fields that classification needs are decoded.
//! What record files cannot say: packets that left no record at all (a
//! frame of an unsupported link type; a frame whose first layer failed when
//! `Error` records were off), the bytes of frames without an Ethernet record
//! (other link layers' records store no frame length), and the connections
//! open at a given moment.

use crate::app::{self, AppFacts};
use crate::metrics::{ConnectionFacts, Recorder, layer_label};
use netcap_capture::{TrafficCounts, link_class};
use netcap_decoder::{ErrorReason, NetworkKind, PacketSummary, TransportKind};
use netcap_records::{ReadError, RecordReader, RecordType, SpotStat};
use prost::Message;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// What reading record files did.
#[derive(Debug, Default)]
pub struct RecordFilesOutcome {
    pub files: usize,
    pub records: u64,
    /// Frames (packets) found by joining the per-packet records.
    pub packets: u64,
    /// Files that ended in damage: everything before it was counted.
    pub damaged: Vec<ReadError>,
    /// True if reading stopped early on request.
    pub stopped: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordFilesError {
    #[error("{path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error("{0}: no record files (*.ncap.zst) there")]
    Empty(PathBuf),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// The record files named by `-read` (files) and `-dir` (every `*.ncap.zst`
/// in each directory, not recursive), sorted and without duplicates.
pub fn find_record_files(reads: &[PathBuf], dirs: &[PathBuf]) -> Result<Vec<PathBuf>, RecordFilesError> {
    let mut files: Vec<PathBuf> = reads.to_vec();
    for dir in dirs {
        let entries = std::fs::read_dir(dir).map_err(|source| RecordFilesError::Dir { path: dir.clone(), source })?;
        let before = files.len();
        for entry in entries {
            let entry = entry.map_err(|source| RecordFilesError::Dir { path: dir.clone(), source })?;
            let path = entry.path();
            let is_record_file = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".ncap.zst"));
            if is_record_file && path.is_file() {
                files.push(path);
            }
        }
        if files.len() == before {
            return Err(RecordFilesError::Empty(dir.clone()));
        }
    }
    let mut keyed: Vec<(PathBuf, PathBuf)> =
        files.into_iter().map(|p| (std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone()), p)).collect();
    keyed.sort();
    keyed.dedup_by(|a, b| a.0 == b.0);
    Ok(keyed.into_iter().map(|(_, p)| p).collect())
}

/// Counts every record of `files` into `recorder`, one directory (capture)
/// at a time. A file that cannot be opened as a record file is an error
/// before anything is counted; damage inside a file is reported in the
/// outcome and the rest is still counted.
pub fn count_record_files(
    files: &[PathBuf],
    recorder: &mut Recorder,
    stop: &AtomicBool,
) -> Result<RecordFilesOutcome, RecordFilesError> {
    // Open everything first: a bad file must fail before any count moves.
    let mut captures: BTreeMap<PathBuf, Vec<RecordReader<File>>> = BTreeMap::new();
    for path in files {
        let reader = RecordReader::open(path)?;
        let dir = path.parent().map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.to_path_buf()));
        captures.entry(dir.unwrap_or_default()).or_default().push(reader);
    }
    let mut outcome = RecordFilesOutcome { files: files.len(), ..Default::default() };
    for readers in captures.into_values() {
        count_capture(readers, recorder, stop, &mut outcome);
        if outcome.stopped {
            break;
        }
    }
    Ok(outcome)
}

/// Per-packet record types, joined by frame.
fn is_per_packet(t: RecordType) -> bool {
    matches!(
        t,
        RecordType::Ethernet
            | RecordType::Dot1q
            | RecordType::Arp
            | RecordType::Ipv4
            | RecordType::Ipv6
            | RecordType::Tcp
            | RecordType::Udp
            | RecordType::Icmpv4
            | RecordType::Icmpv6
            | RecordType::Error
    )
}

/// Frames counted between two hand-overs of the local counts to the
/// metrics, so a scrape during a long read sees progress.
const FLUSH_EVERY: u64 = 16_384;

fn count_capture(
    readers: Vec<RecordReader<File>>,
    recorder: &mut Recorder,
    stop: &AtomicBool,
    outcome: &mut RecordFilesOutcome,
) {
    // Link class of frames without an Ethernet record: the capture's first
    // non-Ethernet link type (headers list the source's interfaces).
    let link_types: Vec<u32> = readers.first().map(|r| r.header().link_types.clone()).unwrap_or_default();
    let other_link = link_types.iter().copied().find(|&lt| lt != 1).map_or(0, link_class);
    let (per_packet, derived): (Vec<_>, Vec<_>) = readers.into_iter().partition(|r| is_per_packet(r.record_type()));

    let mut cursors: Vec<Cursor> = per_packet.into_iter().map(Cursor::new).collect();
    for cursor in &mut cursors {
        cursor.advance(outcome);
    }
    let mut traffic = TrafficCounts::default();
    let mut pending = 0u64;
    while let Some(frame) = cursors.iter().filter_map(|c| c.head.as_ref().map(|h| h.frame)).min() {
        let mut packet = Packet::default();
        for cursor in &mut cursors {
            while cursor.head.as_ref().is_some_and(|h| h.frame == frame) {
                if let Some(head) = cursor.head.take() {
                    packet.add(&head.facts, recorder);
                }
                cursor.advance(outcome);
            }
        }
        let (link, summary) = packet.classify(other_link);
        traffic.add(link, &summary);
        outcome.packets += 1;
        pending += 1;
        if pending >= FLUSH_EVERY {
            flush(&mut traffic, &mut cursors, recorder, outcome);
            pending = 0;
            if stop.load(Ordering::Relaxed) {
                outcome.stopped = true;
                return;
            }
        }
    }
    flush(&mut traffic, &mut cursors, recorder, outcome);

    for mut reader in derived {
        let record_type = reader.record_type();
        let mut count = 0u64;
        loop {
            let record = match reader.next_raw() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(e) => {
                    // A damaged frame is skipped: read on after it.
                    let read_on = e.is_recoverable();
                    outcome.damaged.push(e);
                    if read_on {
                        continue;
                    }
                    break;
                }
            };
            count += 1;
            match record_type {
                RecordType::Connection => {
                    if let Ok(facts) = ConnectionFacts::decode(record) {
                        recorder.connection(&facts);
                    }
                }
                RecordType::Spotstat => {
                    if let Ok(stat) = SpotStat::decode(record) {
                        recorder.spot_stat(&stat);
                    }
                }
                // As in `MetricsObserver::frame`, without assuming field order.
                t if app::is_app_record(t) => {
                    if let Ok(Some(facts)) = AppFacts::decode(t, record, false) {
                        let _ = recorder.app(&facts);
                    }
                }
                _ => {}
            }
            if count.is_multiple_of(FLUSH_EVERY) {
                recorder.records(record_type, FLUSH_EVERY);
                recorder.flush();
                if stop.load(Ordering::Relaxed) {
                    outcome.records += count;
                    outcome.stopped = true;
                    return;
                }
            }
        }
        recorder.records(record_type, count % FLUSH_EVERY);
        recorder.flush();
        outcome.records += count;
    }
}

fn flush(
    traffic: &mut TrafficCounts,
    cursors: &mut [Cursor],
    recorder: &mut Recorder,
    outcome: &mut RecordFilesOutcome,
) {
    recorder.flush();
    for (class, cell) in traffic.iter() {
        recorder.traffic(class, cell);
    }
    traffic.clear();
    for cursor in cursors {
        recorder.records(cursor.record_type, cursor.unflushed);
        outcome.records += cursor.unflushed;
        cursor.unflushed = 0;
    }
}

/// One per-packet record file, read ahead by one record.
struct Cursor {
    reader: RecordReader<File>,
    record_type: RecordType,
    head: Option<Head>,
    /// Records read and not yet added to the metrics.
    unflushed: u64,
}

struct Head {
    frame: u64,
    facts: Facts,
}

impl Cursor {
    fn new(reader: RecordReader<File>) -> Self {
        let record_type = reader.record_type();
        Cursor { reader, record_type, head: None, unflushed: 0 }
    }

    /// Reads the next record into `head` (None at the end or on damage).
    fn advance(&mut self, outcome: &mut RecordFilesOutcome) {
        self.head = None;
        loop {
            match self.reader.next_raw() {
                Ok(Some(bytes)) => {
                    self.unflushed += 1;
                    // A record that does not decode still was a record, but
                    // it says nothing about a packet.
                    if let Ok(head) = Facts::decode(self.record_type, bytes) {
                        self.head = Some(head);
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => {
                    // A damaged frame is skipped: read on after it.
                    let read_on = e.is_recoverable();
                    outcome.damaged.push(e);
                    if !read_on {
                        return;
                    }
                }
            }
        }
    }
}

/// The fields of per-packet records that classify their packet. Tags are
/// those of proto/netcap.proto (a test checks them).
#[derive(Clone, Copy, PartialEq, Message)]
struct FrameField {
    #[prost(uint64, tag = "2")]
    frame: u64,
}

#[derive(Clone, Copy, PartialEq, Message)]
struct EthernetFields {
    #[prost(uint64, tag = "2")]
    frame: u64,
    #[prost(uint32, tag = "6")]
    captured_length: u32,
    #[prost(uint32, tag = "7")]
    wire_length: u32,
}

#[derive(Clone, Copy, PartialEq, Message)]
struct Ipv4Fields {
    #[prost(uint64, tag = "2")]
    frame: u64,
    #[prost(uint32, tag = "12")]
    fragment_offset: u32,
    #[prost(uint32, tag = "14")]
    protocol: u32,
}

#[derive(Clone, Copy, PartialEq, Message)]
struct Ipv6Fields {
    #[prost(uint64, tag = "2")]
    frame: u64,
    #[prost(uint32, tag = "12")]
    transport_protocol: u32,
    #[prost(uint32, tag = "14")]
    fragment_offset: u32,
}

/// The frame and `reassembled` flag of a transport record.
trait TransportFields: Message + Default {
    fn frame_and_reassembled(&self) -> (u64, bool);
}

macro_rules! transport_fields {
    ($name:ident, $tag:literal) => {
        #[derive(Clone, Copy, PartialEq, Message)]
        struct $name {
            #[prost(uint64, tag = "2")]
            frame: u64,
            #[prost(bool, tag = $tag)]
            reassembled: bool,
        }

        impl TransportFields for $name {
            fn frame_and_reassembled(&self) -> (u64, bool) {
                (self.frame, self.reassembled)
            }
        }
    };
}

transport_fields!(TcpFields, "33");
transport_fields!(UdpFields, "12");
transport_fields!(IcmpFields, "13");

fn transport<T: TransportFields>(bytes: &[u8], kind: TransportKind) -> Result<Head, prost::DecodeError> {
    let (frame, reassembled) = T::decode(bytes)?.frame_and_reassembled();
    Ok(Head { frame, facts: if reassembled { Facts::Other } else { Facts::Transport(kind) } })
}

#[derive(Clone, PartialEq, Message)]
struct ErrorFields {
    #[prost(uint64, tag = "2")]
    frame: u64,
    #[prost(string, tag = "3")]
    layer: String,
    #[prost(string, tag = "5")]
    reason: String,
}

enum Facts {
    Ethernet {
        captured: u32,
        wire: u32,
    },
    Arp,
    Ip {
        v6: bool,
        protocol: u32,
        later_fragment: bool,
    },
    Transport(TransportKind),
    Error {
        layer: &'static str,
        reason: ErrorReason,
    },
    /// Dot1Q tags, and records that did not decode.
    Other,
}

impl Facts {
    fn decode(record_type: RecordType, bytes: &[u8]) -> Result<Head, prost::DecodeError> {
        let frame_only = |facts| FrameField::decode(bytes).map(|f| Head { frame: f.frame, facts });
        match record_type {
            RecordType::Ethernet => EthernetFields::decode(bytes).map(|e| Head {
                frame: e.frame,
                facts: Facts::Ethernet { captured: e.captured_length, wire: e.wire_length },
            }),
            RecordType::Ipv4 => Ipv4Fields::decode(bytes).map(|ip| Head {
                frame: ip.frame,
                facts: Facts::Ip { v6: false, protocol: ip.protocol, later_fragment: ip.fragment_offset != 0 },
            }),
            RecordType::Ipv6 => Ipv6Fields::decode(bytes).map(|ip| Head {
                frame: ip.frame,
                facts: Facts::Ip { v6: true, protocol: ip.transport_protocol, later_fragment: ip.fragment_offset != 0 },
            }),
            RecordType::Error => ErrorFields::decode(bytes).map(|e| Head {
                frame: e.frame,
                facts: Facts::Error { layer: layer_label(&e.layer), reason: ErrorReason::classify(&e.reason) },
            }),
            RecordType::Arp => frame_only(Facts::Arp),
            // A transport record of a datagram reassembled from fragments
            // says nothing about the packet whose frame number it bears
            // (the last fragment's, which the capture counts as "other").
            RecordType::Tcp => transport::<TcpFields>(bytes, TransportKind::Tcp),
            RecordType::Udp => transport::<UdpFields>(bytes, TransportKind::Udp),
            RecordType::Icmpv4 => transport::<IcmpFields>(bytes, TransportKind::Icmpv4),
            RecordType::Icmpv6 => transport::<IcmpFields>(bytes, TransportKind::Icmpv6),
            _ => frame_only(Facts::Other),
        }
    }
}

/// What the records of one frame say about its packet.
#[derive(Default)]
struct Packet {
    ethernet: Option<(u32, u32)>,
    arp: bool,
    ip: Option<(bool, u32, bool)>,
    transport: Option<TransportKind>,
}

impl Packet {
    fn add(&mut self, facts: &Facts, recorder: &mut Recorder) {
        match *facts {
            // The outermost Ethernet header (the largest frame) is the packet's.
            Facts::Ethernet { captured, wire } => {
                let (c, w) = self.ethernet.unwrap_or_default();
                self.ethernet = Some((c.max(captured), w.max(wire)));
            }
            Facts::Arp => self.arp = true,
            Facts::Ip { v6, protocol, later_fragment } => self.ip = Some((v6, protocol, later_fragment)),
            Facts::Transport(kind) => self.transport = Some(kind),
            Facts::Error { layer, reason } => recorder.decode_errors(layer, reason, 1),
            Facts::Other => {}
        }
    }

    /// Link class index and a summary with the classes and lengths the
    /// capture pipeline would have given the packet.
    fn classify(&self, other_link: usize) -> (usize, PacketSummary) {
        let mut s = PacketSummary::default();
        let link = match self.ethernet {
            Some((captured, wire)) => {
                s.captured_length = captured;
                s.wire_length = wire;
                link_class(1)
            }
            None => other_link,
        };
        s.network = match self.ip {
            Some((false, ..)) => NetworkKind::Ipv4,
            Some((true, ..)) => NetworkKind::Ipv6,
            None if self.arp => NetworkKind::Arp,
            None => NetworkKind::None,
        };
        s.transport = match (self.transport, self.ip) {
            (Some(kind), _) => kind,
            // As the decoder: later fragments and protocols it has no
            // decoder for are "other"; a known protocol without its record
            // failed to decode.
            (None, Some((_, _, true))) => TransportKind::Other,
            (None, Some((false, 6 | 17 | 1, _))) | (None, Some((true, 6 | 17 | 58, _))) => TransportKind::None,
            (None, Some(_)) => TransportKind::Other,
            (None, None) => TransportKind::None,
        };
        (link, s)
    }
}

/// True if `path` looks like a record file rather than a capture: its name,
/// or the zstd magic number at its start.
pub fn is_record_file(path: &Path) -> bool {
    if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".ncap.zst")) {
        return true;
    }
    let mut magic = [0u8; 4];
    File::open(path).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic)).is_ok()
        && magic == [0x28, 0xb5, 0x2f, 0xfd]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_tags_match_the_schema() {
        let check = crate::assert_field_numbers;
        for t in RecordType::all().filter(|t| is_per_packet(*t)) {
            check(t, &[("frame", 2)]);
        }
        check(RecordType::Ethernet, &[("captured_length", 6), ("wire_length", 7)]);
        check(RecordType::Ipv4, &[("fragment_offset", 12), ("protocol", 14)]);
        check(RecordType::Ipv6, &[("transport_protocol", 12), ("fragment_offset", 14)]);
        check(RecordType::Error, &[("layer", 3), ("reason", 5)]);
        check(RecordType::Tcp, &[("reassembled", 33)]);
        check(RecordType::Udp, &[("reassembled", 12)]);
        check(RecordType::Icmpv4, &[("reassembled", 13)]);
        check(RecordType::Icmpv6, &[("reassembled", 13)]);
    }

    #[test]
    fn packets_are_classified_like_the_decoder_does() {
        let classify = |p: Packet| {
            let (link, s) = p.classify(link_class(101));
            (netcap_capture::LINK_CLASSES[link], s.network, s.transport, s.captured_length)
        };
        let eth = Some((60, 64));
        assert_eq!(
            classify(Packet {
                ethernet: eth,
                ip: Some((false, 6, false)),
                transport: Some(TransportKind::Tcp),
                ..Default::default()
            }),
            ("ethernet", NetworkKind::Ipv4, TransportKind::Tcp, 60)
        );
        assert_eq!(
            classify(Packet { ip: Some((true, 47, false)), ..Default::default() }),
            ("raw", NetworkKind::Ipv6, TransportKind::Other, 0)
        );
        assert_eq!(
            classify(Packet { ethernet: eth, ip: Some((false, 17, true)), ..Default::default() }),
            ("ethernet", NetworkKind::Ipv4, TransportKind::Other, 60)
        );
        // ICMPv4 over IPv6 has no decoder: "other"; TCP without its record failed.
        assert_eq!(classify(Packet { ip: Some((true, 1, false)), ..Default::default() }).2, TransportKind::Other);
        assert_eq!(classify(Packet { ip: Some((true, 6, false)), ..Default::default() }).2, TransportKind::None);
        assert_eq!(
            classify(Packet { ethernet: eth, arp: true, ..Default::default() }),
            ("ethernet", NetworkKind::Arp, TransportKind::None, 60)
        );
    }

    #[test]
    fn record_files_are_told_from_captures() {
        let dir = tempfile::tempdir().unwrap();
        let named = dir.path().join("TCP.ncap.zst");
        std::fs::write(&named, b"").unwrap();
        let magic = dir.path().join("renamed");
        std::fs::write(&magic, [0x28, 0xb5, 0x2f, 0xfd, 0]).unwrap();
        let pcap = dir.path().join("x.pcap");
        std::fs::write(&pcap, [0xd4, 0xc3, 0xb2, 0xa1, 2, 0]).unwrap();
        assert!(is_record_file(&named) && is_record_file(&magic));
        assert!(!is_record_file(&pcap) && !is_record_file(&dir.path().join("missing")));
        // -dir finds the record files only; duplicates collapse.
        let found = find_record_files(std::slice::from_ref(&named), &[dir.path().to_path_buf()]).unwrap();
        assert_eq!(found, vec![named]);
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(find_record_files(&[], &[empty.path().to_path_buf()]), Err(RecordFilesError::Empty(_))));
    }
}
