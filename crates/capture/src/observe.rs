//! Watching a capture while it runs (metrics): per-batch traffic counts
//! taken by the workers, and callbacks on the writer thread in batch order.

use crate::batch::Batch;
use netcap_decoder::{DecodeStats, LINKTYPE_NAMES, NetworkKind, PacketSummary, TransportKind};
use netcap_records::RecordType;

/// Watches a capture: called on the writer thread, in the order records are
/// written, so what it sees matches the record files exactly. It must be
/// quick: the writer waits for it.
pub trait Observer: Send {
    /// One zstd frame of `records` records of `record_type` was written (the
    /// same bytes [`crate::RecordSink::write_frame`] got). `content` is the
    /// frame's decompressed content (its length-delimited records) for the
    /// types [`Observer::reads_content`] asked for.
    fn frame(&mut self, record_type: RecordType, records: u64, frame: &[u8], content: Option<&[u8]>) {
        let _ = (record_type, records, frame, content);
    }

    /// Whether [`Observer::frame`] reads the records of `record_type`. Their
    /// frames then travel with the bytes they were compressed from, so that
    /// the observer need not decompress them again on the writer thread.
    /// Asked once, before the capture starts.
    fn reads_content(&self, record_type: RecordType) -> bool {
        let _ = record_type;
        false
    }

    /// One batch of packets is done: its records (and the derived records
    /// it completed) have been passed to [`Observer::frame`].
    fn batch(&mut self, batch: &BatchCounts<'_>) {
        let _ = batch;
    }

    /// Connections tracked after the last batch every flow thread has
    /// reported, when flows are tracked; called whenever that may have
    /// changed. Flow tracking runs beside the writer, so a batch's count
    /// comes after its [`Observer::batch`], and a stalled input still ends up
    /// showing the connections open after its last packet.
    fn active_flows(&mut self, active: u64) {
        let _ = active;
    }
}

/// What one batch added.
#[derive(Debug)]
pub struct BatchCounts<'b> {
    /// Packets and captured bytes, as in [`crate::CaptureSummary`].
    pub packets: u64,
    pub bytes: u64,
    /// The same packets by protocol.
    pub traffic: &'b TrafficCounts,
    /// Decode errors of the batch.
    pub decode: &'b DecodeStats,
}

/// Link layer classes: the supported link types by their names in
/// [`LINKTYPE_NAMES`], lower case (LINKTYPE_RAW and the BSD raw numbers
/// share "raw"), then one class for every other link type, so the set is
/// fixed whatever the input says.
pub const LINK_CLASSES: &[&str] = &[
    "ethernet",
    "linux_sll",
    "linux_sll2",
    "raw",
    "ipv4",
    "ipv6",
    "null",
    "loop",
    "ppp",
    "ppp_hdlc",
    "ieee802_11",
    "ieee802_11_radiotap",
    "arcnet_bsd",
    "arcnet_linux",
    "nflog",
    "pktap",
    "unsupported",
];

/// Network layer classes, indexed like [`NetworkKind`]'s variants.
pub const NETWORK_CLASSES: &[&str] = &["none", "arp", "ipv4", "ipv6"];
/// Transport layer classes, indexed like [`TransportKind`]'s variants.
pub const TRANSPORT_CLASSES: &[&str] = &["none", "tcp", "udp", "icmpv4", "icmpv6", "other"];

const LINKS: usize = LINK_CLASSES.len();
const NETWORKS: usize = NETWORK_CLASSES.len();
const TRANSPORTS: usize = TRANSPORT_CLASSES.len();
const CELLS: usize = LINKS * NETWORKS * TRANSPORTS;

/// Packets and bytes of one (link, network, transport) class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TrafficCell {
    pub packets: u64,
    /// Bytes captured (what [`crate::CaptureSummary::bytes`] sums).
    pub captured_bytes: u64,
    /// Bytes on the wire.
    pub wire_bytes: u64,
}

/// Packets by link, network and transport class. A packet's network and
/// transport classes are the innermost layers that decoded (for tunnels,
/// the inner packet), "none" where a layer is missing or failed to decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrafficCounts {
    cells: Box<[TrafficCell; CELLS]>,
}

impl Default for TrafficCounts {
    fn default() -> Self {
        TrafficCounts { cells: Box::new([TrafficCell::default(); CELLS]) }
    }
}

impl TrafficCounts {
    fn cell(link: usize, network: usize, transport: usize) -> usize {
        (link * NETWORKS + network) * TRANSPORTS + transport
    }

    /// Counts one packet.
    #[inline]
    pub fn add(&mut self, link: usize, summary: &PacketSummary) {
        let network = network_index(summary.network);
        let transport = transport_index(summary.transport);
        let cell = &mut self.cells[Self::cell(link.min(LINKS - 1), network, transport)];
        cell.packets += 1;
        cell.captured_bytes += u64::from(summary.captured_length);
        cell.wire_bytes += u64::from(summary.wire_length);
    }

    pub fn merge(&mut self, other: &TrafficCounts) {
        for (a, b) in self.cells.iter_mut().zip(other.cells.iter()) {
            a.packets += b.packets;
            a.captured_bytes += b.captured_bytes;
            a.wire_bytes += b.wire_bytes;
        }
    }

    /// Classes that saw packets: (link, network, transport) names and counts.
    pub fn iter(&self) -> impl Iterator<Item = ((&'static str, &'static str, &'static str), TrafficCell)> + '_ {
        self.cells.iter().enumerate().filter(|(_, c)| c.packets > 0).map(|(i, c)| {
            let (link, rest) = (i / (NETWORKS * TRANSPORTS), i % (NETWORKS * TRANSPORTS));
            ((LINK_CLASSES[link], NETWORK_CLASSES[rest / TRANSPORTS], TRANSPORT_CLASSES[rest % TRANSPORTS]), *c)
        })
    }

    pub fn packets(&self) -> u64 {
        self.cells.iter().map(|c| c.packets).sum()
    }

    pub fn clear(&mut self) {
        self.cells.fill(TrafficCell::default());
    }
}

fn network_index(kind: NetworkKind) -> usize {
    match kind {
        NetworkKind::None => 0,
        NetworkKind::Arp => 1,
        NetworkKind::Ipv4 => 2,
        NetworkKind::Ipv6 => 3,
    }
}

fn transport_index(kind: TransportKind) -> usize {
    match kind {
        TransportKind::None => 0,
        TransportKind::Tcp => 1,
        TransportKind::Udp => 2,
        TransportKind::Icmpv4 => 3,
        TransportKind::Icmpv6 => 4,
        TransportKind::Other => 5,
    }
}

/// Index in [`LINK_CLASSES`] of a LINKTYPE (the last, "unsupported", for
/// link types the decoder does not know).
pub fn link_class(link_type: u32) -> usize {
    LINKTYPE_NAMES
        .iter()
        .find(|(lt, _)| *lt == link_type)
        .and_then(|(_, name)| LINK_CLASSES.iter().position(|c| c.eq_ignore_ascii_case(name)))
        .unwrap_or(LINKS - 1)
}

/// [`link_class`] of every LINKTYPE below [`LinkClasses::TABLE`], by table
/// lookup (once per packet); larger ones are all unsupported.
pub(crate) struct LinkClasses {
    table: Vec<u8>,
}

impl LinkClasses {
    const TABLE: usize = 512;

    pub fn new() -> Self {
        LinkClasses { table: (0..Self::TABLE as u32).map(|lt| link_class(lt) as u8).collect() }
    }

    #[inline]
    pub fn of(&self, link_type: u32) -> usize {
        self.table.get(link_type as usize).map_or(LINKS - 1, |&c| usize::from(c))
    }

    /// Counts a decoded batch: its captured packets in order, with one
    /// summary each. Datagrams reassembled from fragments are not captured
    /// packets and have no summary of their own (their fragments have).
    pub fn count(&self, batch: &Batch, summaries: &[PacketSummary], out: &mut TrafficCounts) {
        let captured = batch.iter().filter(|(meta, _)| !meta.reassembled);
        for ((meta, _), summary) in captured.zip(summaries.iter().filter(|s| !s.reassembled)) {
            out.add(self.of(meta.link_type), summary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_supported_link_type_has_its_class() {
        let classes = LinkClasses::new();
        for &(link_type, name) in LINKTYPE_NAMES {
            assert_eq!(LINK_CLASSES[classes.of(link_type)], name.to_ascii_lowercase(), "LINKTYPE {link_type}");
            assert_eq!(link_class(link_type), classes.of(link_type));
        }
        for unsupported in [2, 147, 511, 512, 276_000, u32::MAX] {
            assert_eq!(LINK_CLASSES[classes.of(unsupported)], "unsupported", "LINKTYPE {unsupported}");
        }
        // Every class but the catch-all names a supported link type.
        for class in &LINK_CLASSES[..LINKS - 1] {
            assert!(LINKTYPE_NAMES.iter().any(|(_, n)| n.eq_ignore_ascii_case(class)), "{class}");
        }
    }

    #[test]
    fn cells_count_packets_and_bytes_by_class() {
        let mut counts = TrafficCounts::default();
        let tcp = PacketSummary {
            network: NetworkKind::Ipv6,
            transport: TransportKind::Tcp,
            captured_length: 60,
            wire_length: 1500,
            ..Default::default()
        };
        let garbage = PacketSummary { captured_length: 3, wire_length: 3, ..Default::default() };
        counts.add(0, &tcp);
        counts.add(0, &tcp);
        counts.add(LINKS - 1, &garbage);
        let mut other = TrafficCounts::default();
        other.add(0, &tcp);
        counts.merge(&other);
        let cells: Vec<_> = counts.iter().collect();
        assert_eq!(
            cells,
            vec![
                (("ethernet", "ipv6", "tcp"), TrafficCell { packets: 3, captured_bytes: 180, wire_bytes: 4500 }),
                (("unsupported", "none", "none"), TrafficCell { packets: 1, captured_bytes: 3, wire_bytes: 3 }),
            ]
        );
        assert_eq!(counts.packets(), 4);
        counts.clear();
        assert_eq!(counts.packets(), 0);
    }

    /// Records what a capture shows its observer.
    #[derive(Default)]
    struct Seen {
        traffic: TrafficCounts,
        records: std::collections::BTreeMap<RecordType, u64>,
        errors: u64,
        error_reasons: u64,
        batches: u64,
        packets: u64,
        active_flows: Option<u64>,
        content_records: std::collections::BTreeMap<RecordType, u64>,
    }

    impl Observer for Seen {
        fn frame(&mut self, record_type: RecordType, records: u64, frame: &[u8], content: Option<&[u8]>) {
            assert!(!frame.is_empty());
            *self.records.entry(record_type).or_default() += records;
            assert_eq!(content.is_some(), self.reads_content(record_type), "{record_type:?}");
            if let Some(content) = content {
                // The frame's own content, whole records.
                assert_eq!(zstd::decode_all(frame).unwrap(), content);
                let mut rest = content;
                let mut n = 0;
                while !rest.is_empty() {
                    let len = prost::encoding::decode_varint(&mut rest).unwrap() as usize;
                    rest = &rest[len..];
                    n += 1;
                }
                assert_eq!(n, records);
                *self.content_records.entry(record_type).or_default() += records;
            }
        }
        fn reads_content(&self, record_type: RecordType) -> bool {
            matches!(record_type, RecordType::Connection | RecordType::Flow | RecordType::Ipv4)
        }
        fn batch(&mut self, batch: &BatchCounts<'_>) {
            self.batches += 1;
            self.packets += batch.packets;
            assert_eq!(batch.traffic.packets(), batch.packets);
            self.traffic.merge(batch.traffic);
            self.errors += batch.decode.errors.iter().sum::<u64>();
            self.error_reasons += batch.decode.reasons.iter().flatten().sum::<u64>();
        }
        fn active_flows(&mut self, active: u64) {
            self.active_flows = Some(active);
        }
    }

    /// A capture under testdata/ (path relative to it).
    fn pcap(name: &str) -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(name)
    }

    fn observed(name: &str, workers: usize, replay: Option<crate::Replay>) -> (crate::CaptureSummary, Seen) {
        let mut config = crate::CaptureConfig {
            input: crate::Input::File(pcap(name)),
            out_dir: std::path::PathBuf::new(),
            decode: netcap_decoder::DecodeConfig::new(),
            workers,
            compression_level: 1,
            producer: "test".into(),
            spot: None,
            session: Some(crate::SessionOptions::flows(Default::default(), true, true)),
            profiles: None,
            inventory: None,
            replay,
            bpf: None,
        };
        config.decode.set(RecordType::Error, true);
        let mut sink = Discard;
        let mut seen = Seen::default();
        let stop = crate::StopFlag::default();
        let summary =
            crate::run_observed(&config, Some(&mut sink), &mut seen, &crate::Progress::default(), &stop).unwrap();
        (summary, seen)
    }

    struct Discard;
    impl crate::RecordSink for Discard {
        fn write_frame(
            &mut self,
            _: RecordType,
            _: &netcap_records::Header,
            _: u64,
            _: &[u8],
        ) -> Result<(), crate::CaptureError> {
            Ok(())
        }
        fn finish(&mut self, _: &[(RecordType, u64)]) -> Result<Vec<std::path::PathBuf>, crate::CaptureError> {
            Ok(Vec::new())
        }
    }

    #[test]
    fn the_observer_sees_what_the_summary_reports() {
        for workers in [1, 3] {
            // IP fragments, a truncated TCP header, TLS, DNS and HTTP
            // (testdata/metrics/README.md).
            let (summary, seen) = observed("metrics/scrape-mix.pcap", workers, None);
            assert_eq!(summary.packets, 392);
            assert_eq!(seen.packets, summary.packets);
            assert_eq!(seen.traffic.packets(), summary.packets);
            let captured: u64 = seen.traffic.iter().map(|(_, c)| c.captured_bytes).sum();
            assert_eq!(captured, summary.bytes);
            let records: Vec<_> = seen.records.iter().map(|(t, n)| (*t, *n)).collect();
            assert_eq!(records, summary.records);
            let errors: u64 = summary.decode.errors.iter().sum();
            assert_eq!((seen.errors, seen.error_reasons), (errors, errors));
            // The SMTP connection's SYN, cut by the snaplen inside its TCP
            // options.
            assert_eq!(errors, 1);
            // 1.6 s of capture in one batch: nothing ends before the end of
            // the capture (the close linger is 5 s), so every connection
            // written is still tracked after the batch.
            let connections = summary.records.iter().find(|(t, _)| *t == RecordType::Connection).map(|(_, n)| *n);
            assert_eq!(connections, Some(6));
            assert_eq!(seen.active_flows, connections, "every connection still open after the last batch");
            // Every frame of the types it reads came with its content: the
            // workers' (IPv4), the flow merge's and the end of capture's.
            for t in [RecordType::Ipv4, RecordType::Connection, RecordType::Flow] {
                assert_eq!(seen.content_records.get(&t), seen.records.get(&t), "{t:?}");
                assert!(seen.records.get(&t).is_some_and(|&n| n > 0), "{t:?}");
            }
            let classes: Vec<_> = seen.traffic.iter().map(|(class, c)| (class, c.packets)).collect();
            // tshark (reassembly off): 302 fragments after the first, with no
            // transport header ("other"); 8 first fragments, with 8 bytes of
            // TCP header, and the truncated SYN, with no header that decodes
            // ("none"); 79 whole TCP packets and 2 UDP.
            assert_eq!(
                classes,
                vec![
                    (("ethernet", "ipv4", "none"), 9),
                    (("ethernet", "ipv4", "tcp"), 79),
                    (("ethernet", "ipv4", "udp"), 2),
                    (("ethernet", "ipv4", "other"), 302)
                ]
            );
        }
    }

    #[test]
    fn replay_takes_the_capture_time_and_counts_the_same() {
        // 14.37 s of capture time at 20x: about 0.72 s.
        let name = "pcaps/zeek-tcp-reassembly.pcap";
        let (fast, fast_seen) = observed(name, 2, None);
        let started = std::time::Instant::now();
        let (paced, paced_seen) = observed(name, 2, Some(crate::Replay { speed: 20.0, max_gap: None }));
        let elapsed = started.elapsed();
        assert!(elapsed >= std::time::Duration::from_millis(700), "{elapsed:?}");
        assert!(elapsed < std::time::Duration::from_secs(5), "{elapsed:?}");
        assert_eq!((paced.packets, paced.bytes, &paced.records), (fast.packets, fast.bytes, &fast.records));
        assert_eq!(paced_seen.traffic, fast_seen.traffic);
        assert!(paced_seen.batches > fast_seen.batches, "paced packets go out in small batches");
        assert_eq!(paced.replay, Some(crate::ReplayStats::default()));
        assert_eq!(fast.replay, None);
    }
}
