//! Metrics of a running capture: a [`netcap_capture::Observer`] that counts
//! what the pipeline already knows (per-batch packet counts from the
//! workers, decode statistics, records per frame) and decodes only the few
//! records it needs (Connection, SpotStat, and a few fields of the DNS, TLS
//! hello and HTTP records).

use crate::app::{self, AppFacts};
use crate::metrics::{ConnectionFacts, Metrics, Recorder};
use netcap_capture::{BatchCounts, CaptureError, Observer, RecordSink};
use netcap_decoder::{ErrorReason, Layer};
use netcap_records::{Header, RecordType, SpotStat};
use prost::Message;
use std::path::PathBuf;

/// Feeds a capture's batches and frames into [`Metrics`].
pub struct MetricsObserver {
    recorder: Recorder,
    decompressor: Option<zstd::bulk::Decompressor<'static>>,
    decompressed: Vec<u8>,
    /// Frames that did not decompress or decode (cannot happen with the
    /// pipeline's own frames; counted rather than trusted).
    bad_frames: u64,
}

/// Largest frame content accepted, as a guard; the pipeline's frames hold
/// one batch of one type (a few MiB at most).
const MAX_FRAME_CONTENT: usize = 1 << 30;

impl MetricsObserver {
    pub fn new(metrics: Metrics) -> Self {
        MetricsObserver {
            recorder: Recorder::new(metrics),
            decompressor: zstd::bulk::Decompressor::new().ok(),
            decompressed: Vec::new(),
            bad_frames: 0,
        }
    }

    pub fn metrics(&self) -> &Metrics {
        self.recorder.metrics()
    }

    /// Frames that could not be read (0 unless something is badly wrong).
    pub fn bad_frames(&self) -> u64 {
        self.bad_frames
    }

    /// Decompresses one frame into `self.decompressed`.
    fn decompress(&mut self, frame: &[u8]) -> bool {
        let size = match zstd::zstd_safe::get_frame_content_size(frame) {
            Ok(Some(size)) if size <= MAX_FRAME_CONTENT as u64 => size as usize,
            _ => return false,
        };
        let Some(decompressor) = &mut self.decompressor else { return false };
        self.decompressed.clear();
        self.decompressed.reserve(size);
        decompressor.decompress_to_buffer(frame, &mut self.decompressed).is_ok()
    }

    /// Calls `each` with every length-delimited record of a frame: of its
    /// `content` when the pipeline kept it, else of the frame decompressed.
    fn records_of(&mut self, frame: &[u8], content: Option<&[u8]>, mut each: impl FnMut(&mut Recorder, &[u8]) -> bool) {
        let mut rest = match content {
            Some(content) => content,
            None if self.decompress(frame) => self.decompressed.as_slice(),
            None => {
                self.bad_frames += 1;
                return;
            }
        };
        while !rest.is_empty() {
            let Ok(len) = prost::encoding::decode_varint(&mut rest) else { break };
            let Some(record) = usize::try_from(len).ok().and_then(|len| rest.get(..len)) else { break };
            rest = &rest[record.len()..];
            if !each(&mut self.recorder, record) {
                self.bad_frames += 1;
                return;
            }
        }
        if !rest.is_empty() {
            self.bad_frames += 1;
        }
    }
}

impl Observer for MetricsObserver {
    fn frame(&mut self, record_type: RecordType, records: u64, frame: &[u8], content: Option<&[u8]>) {
        self.recorder.records(record_type, records);
        match record_type {
            RecordType::Connection => {
                self.records_of(frame, content, |r, bytes| match ConnectionFacts::decode_ordered(bytes) {
                    Ok(facts) => {
                        r.connection(&facts);
                        true
                    }
                    Err(_) => false,
                });
                self.recorder.flush();
            }
            RecordType::Spotstat => self.records_of(frame, content, |r, bytes| match SpotStat::decode(bytes) {
                Ok(stat) => {
                    r.spot_stat(&stat);
                    true
                }
                Err(_) => false,
            }),
            // DNS, TLS hellos, HTTP heads: a few fields each (crate::app).
            t if app::is_app_record(t) => {
                self.records_of(frame, content, |r, bytes| match AppFacts::decode(t, bytes, true) {
                    Ok(Some(facts)) => r.app(&facts).is_ok(),
                    Ok(None) => true,
                    Err(_) => false,
                })
            }
            _ => {}
        }
    }

    fn reads_content(&self, record_type: RecordType) -> bool {
        matches!(record_type, RecordType::Connection | RecordType::Spotstat) || app::is_app_record(record_type)
    }

    fn batch(&mut self, batch: &BatchCounts<'_>) {
        for (class, cell) in batch.traffic.iter() {
            self.recorder.traffic(class, cell);
        }
        for layer in Layer::ALL {
            if batch.decode.errors_for(layer) == 0 {
                continue;
            }
            for reason in ErrorReason::ALL {
                self.recorder.decode_errors(layer.name(), reason, batch.decode.errors_for_reason(layer, reason));
            }
        }
    }

    fn active_flows(&mut self, active: u64) {
        self.recorder.metrics().set_active_flows(active);
    }
}

/// A sink that keeps nothing: `netcap export` of a capture file or
/// interface wants the metrics, not the record files.
#[derive(Debug, Default)]
pub struct DiscardSink;

impl RecordSink for DiscardSink {
    fn write_frame(&mut self, _: RecordType, _: &Header, _: u64, _: &[u8]) -> Result<(), CaptureError> {
        Ok(())
    }

    fn finish(&mut self, _: &[(RecordType, u64)]) -> Result<Vec<PathBuf>, CaptureError> {
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_capture::TrafficCounts;
    use netcap_decoder::{DecodeStats, NetworkKind, PacketSummary, TransportKind};
    use netcap_records::{Connection, FrameCompressor};

    fn frame_of<M: Message>(records: &[M]) -> Vec<u8> {
        let mut raw = Vec::new();
        for r in records {
            r.encode_length_delimited(&mut raw).unwrap();
        }
        FrameCompressor::new(1).unwrap().compress(&raw).unwrap()
    }

    fn line_value(text: &str, prefix: &str) -> Option<f64> {
        text.lines().find_map(|l| l.strip_prefix(prefix)?.strip_prefix(' ')?.parse().ok())
    }

    #[test]
    fn frames_and_batches_become_metrics() {
        let metrics = Metrics::new("0.0.0").unwrap();
        let mut observer = MetricsObserver::new(metrics.clone());
        let conns = [
            Connection { termination_reason: 3, ip_protocol: 17, packets: 2, bytes: 200, ..Default::default() },
            Connection { termination_reason: 1, ip_protocol: 6, packets: 9, bytes: 900, ..Default::default() },
        ];
        observer.frame(RecordType::Connection, 2, &frame_of(&conns), None);
        let stats = [SpotStat { stat: "BPS".into(), value: 1e6, code: -2, ..Default::default() }];
        observer.frame(RecordType::Spotstat, 1, &frame_of(&stats), None);
        observer.frame(RecordType::Udp, 5, b"not even zstd: never opened for UDP", None);

        let mut traffic = TrafficCounts::default();
        let udp = PacketSummary {
            network: NetworkKind::Ipv4,
            transport: TransportKind::Udp,
            captured_length: 100,
            wire_length: 100,
            ..Default::default()
        };
        traffic.add(0, &udp);
        let mut decode = DecodeStats::default();
        decode.errors[Layer::Udp as usize] = 1;
        decode.reasons[Layer::Udp as usize][ErrorReason::Truncated as usize] = 1;
        observer.batch(&BatchCounts { packets: 1, bytes: 100, traffic: &traffic, decode: &decode });
        observer.active_flows(3);

        let text = String::from_utf8(metrics.encode()).unwrap();
        assert_eq!(observer.bad_frames(), 0);
        assert_eq!(line_value(&text, r#"netcap_records_total{type="Connection"}"#), Some(2.0));
        assert_eq!(line_value(&text, r#"netcap_records_total{type="UDP"}"#), Some(5.0));
        assert_eq!(line_value(&text, r#"netcap_flows_ended_total{reason="idle_timeout"}"#), Some(1.0));
        assert_eq!(line_value(&text, r#"netcap_flows_ended_total{reason="fin"}"#), Some(1.0));
        assert_eq!(line_value(&text, r#"netcap_flow_size_bytes_sum{transport="udp"}"#), Some(200.0));
        assert_eq!(line_value(&text, r#"netcap_spot_alerts_total{stat="BPS"}"#), Some(1.0));
        assert_eq!(line_value(&text, r#"netcap_spot_value{stat="BPS"}"#), Some(1e6));
        assert_eq!(
            line_value(&text, r#"netcap_packets_total{link="ethernet",network="ipv4",transport="udp"}"#),
            Some(1.0)
        );
        assert_eq!(line_value(&text, r#"netcap_decode_errors_total{layer="udp",reason="truncated"}"#), Some(1.0));
        assert_eq!(line_value(&text, "netcap_flows_active"), Some(3.0));
    }

    fn content_of<M: Message>(records: &[M]) -> Vec<u8> {
        let mut raw = Vec::new();
        for r in records {
            r.encode_length_delimited(&mut raw).unwrap();
        }
        raw
    }

    /// The capture pipeline hands over what it compressed: the observer
    /// reads that and counts the same as from the frame, which it does not
    /// open (here it is not even zstd).
    #[test]
    fn kept_content_counts_as_the_frame_would() {
        let conns = [
            Connection { termination_reason: 2, ip_protocol: 6, packets: 4, bytes: 400, ..Default::default() },
            Connection { termination_reason: 2, ip_protocol: 17, packets: 1, bytes: 60, ..Default::default() },
        ];
        let stats = [SpotStat { stat: "PPS".into(), value: 7.0, code: -2, ..Default::default() }];
        let (from_frames, from_content) = (Metrics::new("0.0.0").unwrap(), Metrics::new("0.0.0").unwrap());
        let mut a = MetricsObserver::new(from_frames.clone());
        a.frame(RecordType::Connection, 2, &frame_of(&conns), None);
        a.frame(RecordType::Spotstat, 1, &frame_of(&stats), None);
        let mut b = MetricsObserver::new(from_content.clone());
        assert!(b.reads_content(RecordType::Connection) && b.reads_content(RecordType::Dns));
        assert!(!b.reads_content(RecordType::Tcp));
        b.frame(RecordType::Connection, 2, b"not zstd", Some(&content_of(&conns)));
        b.frame(RecordType::Spotstat, 1, b"not zstd", Some(&content_of(&stats)));
        assert_eq!((a.bad_frames(), b.bad_frames()), (0, 0));
        let without_process = |m: &Metrics| {
            let text = String::from_utf8(m.encode()).unwrap();
            text.lines()
                .filter(|l| l.starts_with("netcap_") && !l.starts_with("netcap_build"))
                .map(String::from)
                .collect::<Vec<_>>()
        };
        let counted = without_process(&from_content);
        assert!(counted.iter().any(|l| l == r#"netcap_flows_ended_total{reason="rst"} 2"#), "{counted:?}");
        assert_eq!(without_process(&from_frames), counted);
    }

    #[test]
    fn damaged_frames_are_counted_not_trusted() {
        let metrics = Metrics::new("0.0.0").unwrap();
        let mut observer = MetricsObserver::new(metrics.clone());
        observer.frame(RecordType::Connection, 1, b"garbage", None);
        let mut raw = Vec::new();
        prost::encoding::encode_varint(1000, &mut raw);
        raw.extend_from_slice(b"short");
        let frame = FrameCompressor::new(1).unwrap().compress(&raw).unwrap();
        observer.frame(RecordType::Spotstat, 1, &frame, None);
        assert_eq!(observer.bad_frames(), 2);
        let text = String::from_utf8(metrics.encode()).unwrap();
        assert_eq!(line_value(&text, r#"netcap_records_total{type="Connection"}"#), Some(1.0));
        assert!(!text.contains("netcap_flows_ended_total{"));
    }
}
