//! Scoring connections as they are written: event lines, Alert records and
//! counters.

use crate::events::{FlowEvent, RotatingLog, event_line, ip_from_bytes};
use crate::features::{Features, netwatcher_features};
use crate::model::FlowModel;
use netcap_records::{Alert, Connection, FrameCompressor, Header, RecordFileWriter, RecordType, WriteError};
use prost::Message;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Which event lines are written (NetWatcher's `--output-filter`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFilter {
    Alerts,
    Ok,
    All,
}

impl OutputFilter {
    /// `alerts`, `ok` or `all`.
    pub fn parse(text: &str) -> Option<OutputFilter> {
        match text.to_ascii_lowercase().as_str() {
            "alerts" | "alert" => Some(OutputFilter::Alerts),
            "ok" => Some(OutputFilter::Ok),
            "all" => Some(OutputFilter::All),
            _ => None,
        }
    }

    fn wants(self, alert: bool) -> bool {
        match self {
            OutputFilter::All => true,
            OutputFilter::Alerts => alert,
            OutputFilter::Ok => !alert,
        }
    }
}

/// How connections are judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectOptions {
    /// A connection scoring at least this is an alert.
    pub threshold: f64,
    /// Connections with fewer packets are not scored (NetWatcher: 3).
    pub min_packets: u64,
    pub filter: OutputFilter,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions { threshold: 0.5, min_packets: 3, filter: OutputFilter::Alerts }
    }
}

/// What a detector did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DetectCounters {
    /// Connections scored.
    pub scored: u64,
    /// Connections under `min_packets`, not scored.
    pub skipped: u64,
    /// Scored connections at or above the threshold.
    pub alerts: u64,
    /// Event lines written.
    pub events: u64,
    /// Connection records that did not decode (damaged frame content).
    pub bad_records: u64,
}

/// Detection that could not write its output.
#[derive(Debug, thiserror::Error)]
pub enum DetectError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// Where event lines go.
pub enum EventOutput {
    None,
    /// Standard output (or any writer), a line at a time.
    Writer(Box<dyn Write + Send>),
    /// `DIR/detector_events.log`, rotated.
    Log(RotatingLog),
}

impl EventOutput {
    /// The rotating log in `dir`.
    pub fn log(dir: &Path) -> Result<EventOutput, DetectError> {
        RotatingLog::open(dir)
            .map(EventOutput::Log)
            .map_err(|source| DetectError::Io { path: dir.join(crate::events::EVENT_LOG_NAME), source })
    }
}

/// Alerts gathered into frames of this many records.
const ALERTS_PER_FRAME: u64 = 256;

/// `Alert.ncap.zst` being written.
pub struct AlertWriter {
    file: RecordFileWriter,
    compressor: FrameCompressor,
    pending: Vec<u8>,
    pending_records: u64,
    records: u64,
}

impl AlertWriter {
    /// Creates `dir/Alert.ncap.zst` with a header naming `source`.
    pub fn create(dir: &Path, producer: &str, source: &str) -> Result<AlertWriter, DetectError> {
        let mut compressor = FrameCompressor::new(3)?;
        let header = Header {
            record_type: RecordType::Alert as i32,
            schema_version: netcap_records::SCHEMA_VERSION,
            producer: producer.to_string(),
            created_ns: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
            source: source.to_string(),
            message_type: "netcap.Alert".into(),
            ..Header::default()
        };
        let file = RecordFileWriter::create(&dir.join(RecordType::Alert.file_name()), &header, &mut compressor)?;
        Ok(AlertWriter { file, compressor, pending: Vec::new(), pending_records: 0, records: 0 })
    }

    fn push(&mut self, alert: &Alert) -> Result<(), DetectError> {
        netcap_records::encode_length_delimited(alert, &mut self.pending, 2);
        self.pending_records += 1;
        if self.pending_records >= ALERTS_PER_FRAME {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), DetectError> {
        self.file.write_records(&self.pending, &mut self.compressor)?;
        self.records += self.pending_records;
        self.pending.clear();
        self.pending_records = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<u64, DetectError> {
        self.flush()?;
        let n = self.records;
        self.file.finish(n)?;
        Ok(n)
    }
}

/// Called with each scored connection's verdict (true: alert), e.g. to
/// count it in Prometheus metrics.
pub type VerdictHook = Box<dyn FnMut(bool) + Send>;

/// Scores connections with a model.
pub struct Detector {
    model: FlowModel,
    options: DetectOptions,
    events: EventOutput,
    alerts: Option<AlertWriter>,
    hook: Option<VerdictHook>,
    counters: DetectCounters,
    /// The first output error; later output is skipped.
    error: Option<DetectError>,
    /// Buffers of a batch, kept between batches: decoded records, the
    /// feature rows of those scored and their indices.
    records: Vec<Connection>,
    rows: Vec<Features>,
    scored: Vec<usize>,
}

impl Detector {
    pub fn new(model: FlowModel, options: DetectOptions, events: EventOutput, alerts: Option<AlertWriter>) -> Self {
        Detector {
            model,
            options,
            events,
            alerts,
            hook: None,
            counters: DetectCounters::default(),
            error: None,
            records: Vec::new(),
            rows: Vec::new(),
            scored: Vec::new(),
        }
    }

    /// Calls `hook` with every verdict.
    pub fn with_hook(mut self, hook: VerdictHook) -> Self {
        self.hook = Some(hook);
        self
    }

    pub fn counters(&self) -> DetectCounters {
        self.counters
    }

    pub fn model(&self) -> &FlowModel {
        &self.model
    }

    /// Scores one connection; returns its score, or None when it has fewer
    /// packets than `min_packets`.
    pub fn connection(&mut self, c: &Connection) -> Option<f64> {
        if c.packets < self.options.min_packets {
            self.counters.skipped += 1;
            return None;
        }
        let features = netwatcher_features(c);
        let score = self.model.score(&features);
        self.verdict(c, &features, score);
        Some(score)
    }

    /// Scores connections as one batch (an ONNX model runs once for all of
    /// them, [`FlowModel::score_rows`]); the verdicts, event lines and
    /// Alert records come in the records' order, as from
    /// [`Detector::connection`] on each.
    pub fn connections(&mut self, records: &[Connection]) {
        let mut rows = std::mem::take(&mut self.rows);
        let mut scored = std::mem::take(&mut self.scored);
        rows.clear();
        scored.clear();
        for (i, c) in records.iter().enumerate() {
            if c.packets < self.options.min_packets {
                self.counters.skipped += 1;
            } else {
                rows.push(netwatcher_features(c));
                scored.push(i);
            }
        }
        let scores = self.model.score_rows(&rows);
        for ((&i, features), &score) in scored.iter().zip(&rows).zip(&scores) {
            self.verdict(&records[i], features, score);
        }
        self.rows = rows;
        self.scored = scored;
    }

    /// Counts, reports and records one scored connection.
    fn verdict(&mut self, c: &Connection, features: &Features, score: f64) {
        let alert = score >= self.options.threshold;
        self.counters.scored += 1;
        if alert {
            self.counters.alerts += 1;
        }
        if let Some(hook) = self.hook.as_mut() {
            hook(alert);
        }
        if self.error.is_some() {
            return;
        }
        if self.options.filter.wants(alert) && !matches!(self.events, EventOutput::None) {
            let line = event_line(&FlowEvent {
                alert,
                timestamp_ns: c.timestamp_ns,
                src: ip_from_bytes(&c.src_ip),
                src_port: c.src_port,
                dst: ip_from_bytes(&c.dst_ip),
                dst_port: c.dst_port,
                ip_protocol: c.ip_protocol,
                packets: c.packets,
                payload_bytes: c.payload_bytes,
                duration_ns: c.duration_ns,
            });
            let written = match &mut self.events {
                EventOutput::None => Ok(()),
                EventOutput::Writer(w) => writeln!(w, "{line}")
                    .map_err(|source| DetectError::Io { path: PathBuf::from("standard output"), source }),
                EventOutput::Log(log) => {
                    log.write_line(&line).map_err(|source| DetectError::Io { path: log.path().to_path_buf(), source })
                }
            };
            match written {
                Ok(()) => self.counters.events += 1,
                Err(e) => self.error = Some(e),
            }
        }
        if alert && let Some(writer) = self.alerts.as_mut() {
            let record = Alert {
                timestamp_ns: c.last_timestamp_ns,
                frame: c.frame,
                connection_timestamp_ns: c.timestamp_ns,
                src_ip: c.src_ip.clone(),
                dst_ip: c.dst_ip.clone(),
                src_port: c.src_port,
                dst_port: c.dst_port,
                ip_protocol: c.ip_protocol,
                community_id: c.community_id.clone(),
                score,
                threshold: self.options.threshold,
                model: self.model.name.clone(),
                features: features.to_vec(),
                packets: c.packets,
                payload_bytes: c.payload_bytes,
                duration_ns: c.duration_ns,
            };
            if let Err(e) = writer.push(&record) {
                self.error = Some(e);
            }
        }
    }

    /// Scores the length-delimited Connection records of a frame's content
    /// as one batch ([`Detector::connections`]). Content that stops
    /// decoding counts one damaged record; the records before it are
    /// scored.
    pub fn connections_in(&mut self, content: &[u8]) {
        let mut records = std::mem::take(&mut self.records);
        let mut n = 0;
        let mut rest = content;
        while !rest.is_empty() {
            if n == records.len() {
                records.push(Connection::default());
            }
            let record = &mut records[n];
            record.clear();
            if record.merge_length_delimited(&mut rest).is_err() {
                self.counters.bad_records += 1;
                break;
            }
            n += 1;
        }
        self.connections(&records[..n]);
        self.records = records;
    }

    /// Flushes the outputs; the counters, or the first output error.
    pub fn finish(mut self) -> Result<DetectCounters, DetectError> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if let EventOutput::Writer(w) = &mut self.events {
            w.flush().map_err(|source| DetectError::Io { path: PathBuf::from("standard output"), source })?;
        }
        if let Some(writer) = self.alerts.take() {
            writer.finish()?;
        }
        Ok(self.counters)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FEATURE_COUNT;
    use crate::forest::Tree;
    use crate::model::{MinMaxScaler, ModelFile};
    use std::sync::{Arc, Mutex};

    /// Score 0.9 for connections with more than 10 packets, else 0.1.
    fn model() -> FlowModel {
        let tree = Tree {
            feature: vec![1, -1, -1],
            threshold: vec![10.0, 0.0, 0.0],
            left: vec![1, 0, 0],
            right: vec![2, 0, 0],
            value: vec![0.0, 0.1, 0.9],
        };
        let scaler =
            MinMaxScaler { kind: "min_max".into(), min: vec![0.0; FEATURE_COUNT], max: vec![0.0; FEATURE_COUNT] };
        FlowModel::from_file(ModelFile::forest(scaler, vec![tree], 0.5, serde_json::Value::Null), "t.json").unwrap()
    }

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn conn(packets: u64, port: u32) -> Connection {
        Connection {
            timestamp_ns: 1_736_272_053_000_000_000,
            last_timestamp_ns: 1_736_272_054_000_000_000,
            frame: 7,
            ip_protocol: 6,
            src_ip: vec![10, 0, 0, 1],
            dst_ip: vec![10, 0, 0, 2],
            src_port: port,
            dst_port: 22,
            packets,
            payload_bytes: 5,
            duration_ns: 1_000_000_000,
            community_id: "1:x".into(),
            ..Connection::default()
        }
    }

    #[test]
    fn scores_filters_and_writes_alert_records() {
        let dir = tempfile::tempdir().unwrap();
        let out = Shared::default();
        let alerts = AlertWriter::create(dir.path(), "netcap test", "x.pcap").unwrap();
        let options = DetectOptions { threshold: 0.5, min_packets: 3, filter: OutputFilter::All };
        let verdicts = Arc::new(Mutex::new(Vec::new()));
        let v2 = verdicts.clone();
        let mut d = Detector::new(model(), options, EventOutput::Writer(Box::new(out.clone())), Some(alerts))
            .with_hook(Box::new(move |a| v2.lock().unwrap().push(a)));
        let mut content = Vec::new();
        for c in [conn(2, 1000), conn(20, 1001), conn(5, 1002)] {
            netcap_records::encode_length_delimited(&c, &mut content, 2);
        }
        d.connections_in(&content);
        let counters = d.finish().unwrap();
        assert_eq!(counters, DetectCounters { scored: 2, skipped: 1, alerts: 1, events: 2, bad_records: 0 });
        assert_eq!(*verdicts.lock().unwrap(), vec![true, false]);
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "2025-01-07 17:47:33 [ALERT] 10.0.0.1:1001 -> 10.0.0.2:22 (TCP): 20 packets, 5 bytes, 1s 0ms\n\
             2025-01-07 17:47:33 [OK] 10.0.0.1:1002 -> 10.0.0.2:22 (TCP): 5 packets, 5 bytes, 1s 0ms\n"
        );
        let file = std::fs::File::open(dir.path().join("Alert.ncap.zst")).unwrap();
        let mut reader = netcap_records::RecordReader::new("Alert.ncap.zst", file).unwrap();
        let mut alerts = Vec::new();
        while let Some(a) = reader.next::<Alert>().unwrap() {
            alerts.push(a);
        }
        assert_eq!(alerts.len(), 1);
        let a = &alerts[0];
        assert_eq!((a.src_port, a.dst_port, a.frame, a.score, a.threshold), (1001, 22, 7, 0.9, 0.5));
        assert_eq!(a.connection_timestamp_ns, 1_736_272_053_000_000_000);
        assert_eq!(a.timestamp_ns, 1_736_272_054_000_000_000);
        assert_eq!(a.community_id, "1:x");
        assert_eq!(a.model, "t.json (random_forest)");
        assert_eq!(a.features.len(), 36);
        assert_eq!(a.features[1], 20.0);
    }

    #[test]
    fn a_batch_judges_as_single_connections_do() {
        let conns = [conn(2, 1000), conn(20, 1001), conn(5, 1002), conn(30, 1003), conn(1, 1004)];
        let run = |batch: bool| {
            let out = Shared::default();
            let options = DetectOptions { threshold: 0.5, min_packets: 3, filter: OutputFilter::All };
            let mut d = Detector::new(model(), options, EventOutput::Writer(Box::new(out.clone())), None);
            if batch {
                d.connections(&conns);
            } else {
                for c in &conns {
                    d.connection(c);
                }
            }
            let counters = d.finish().unwrap();
            (counters, String::from_utf8(out.0.lock().unwrap().clone()).unwrap())
        };
        let (counters, text) = run(true);
        assert_eq!(counters, DetectCounters { scored: 3, skipped: 2, alerts: 2, events: 3, bad_records: 0 });
        assert_eq!(text.lines().count(), 3);
        assert!(text.lines().next().unwrap().contains(":1001 -> "), "{text}");
        assert_eq!((counters, text), run(false));
    }

    #[test]
    fn damaged_content_is_counted_not_fatal() {
        let mut d = Detector::new(model(), DetectOptions::default(), EventOutput::None, None);
        d.connections_in(&[0xff, 0xff, 0xff]);
        assert_eq!(d.counters().bad_records, 1);
        // The records before the damage are scored.
        let mut content = Vec::new();
        netcap_records::encode_length_delimited(&conn(20, 1001), &mut content, 2);
        content.extend_from_slice(&[0xff, 0xff, 0xff]);
        d.connections_in(&content);
        assert_eq!((d.counters().scored, d.counters().bad_records), (1, 2));
        assert_eq!(OutputFilter::parse("ALERTS"), Some(OutputFilter::Alerts));
        assert_eq!(OutputFilter::parse("none"), None);
    }
}
