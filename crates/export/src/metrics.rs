//! The metric families netcap exposes, and how records and capture counts
//! update them. docs/metrics.md lists every family; a test checks that the
//! list and this file agree.

use crate::app::{self, AppFacts};
use crate::topn::BoundedCounterVec;
use netcap_capture::TrafficCell;
use netcap_decoder::{ErrorReason, Layer};
use netcap_records::{RecordType, SpotStat, TerminationReason};
use prometheus::local::{LocalHistogram, LocalIntCounter};
use prometheus::{
    Encoder, Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use prost::encoding::decode_varint;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Server names with a series of their own unless `-top-n` says otherwise.
pub const DEFAULT_TOP_N: usize = 10;
/// Largest `-top-n`: every place is a series, and Prometheus keeps them all;
/// 500 keeps the worst case under 2,000 series (docs/metrics.md).
pub const MAX_TOP_N: usize = 500;
/// A server name gets a series of its own once it has been seen this many
/// times (while places are free): one-off names never take a place.
pub const SERVER_NAME_MIN_HITS: u64 = 2;

/// Flow durations, seconds: from a lone packet (0) through the default idle
/// (120 s) and active (30 min) timeouts to a day of a long-lived tunnel.
pub const DURATION_BUCKETS: &[f64] =
    &[0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0, 86400.0];
/// Flow sizes, bytes on the wire: a single small packet (64) to 1 GiB, by 4.
pub const SIZE_BUCKETS: &[f64] = &[
    64.0,
    256.0,
    1024.0,
    4096.0,
    16384.0,
    65536.0,
    262144.0,
    1048576.0,
    4194304.0,
    16777216.0,
    67108864.0,
    268435456.0,
    1073741824.0,
];
/// Packets per flow: 1 (scans, lone datagrams) to a million, by 4.
pub const PACKET_BUCKETS: &[f64] =
    &[1.0, 2.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0];

/// Transport label values of flows: the same as the packets' `transport`
/// label (without "none": every flow has an IP protocol).
const FLOW_TRANSPORTS: [&str; 5] = ["tcp", "udp", "icmpv4", "icmpv6", "other"];

fn flow_transport_index(ip_protocol: u32) -> usize {
    match ip_protocol {
        6 => 0,
        17 => 1,
        1 => 2,
        58 => 3,
        _ => 4,
    }
}

/// Transport label of flows, from the IP protocol number.
pub fn flow_transport(ip_protocol: u32) -> &'static str {
    FLOW_TRANSPORTS[flow_transport_index(ip_protocol)]
}

/// `reason` label of ended flows: the TerminationReason name without its
/// prefix, lower case ("fin", "idle_timeout", ...); "other" for values this
/// schema does not know (a newer writer's record files).
pub fn termination_reason(value: i32) -> &'static str {
    match TerminationReason::try_from(value) {
        Ok(TerminationReason::Unspecified) => "unspecified",
        Ok(TerminationReason::Fin) => "fin",
        Ok(TerminationReason::Rst) => "rst",
        Ok(TerminationReason::IdleTimeout) => "idle_timeout",
        Ok(TerminationReason::ActiveTimeout) => "active_timeout",
        Ok(TerminationReason::EndOfCapture) => "end_of_capture",
        Ok(TerminationReason::Evicted) => "evicted",
        Err(_) => "other",
    }
}

/// `stat` label of SPOT metrics: netspot's name of a statistic netcap
/// computes, "other" for any other name (record files are input too).
pub fn spot_stat_label(name: &str) -> &'static str {
    netcap_spot::Stat::from_name(name).map_or("other", |s| s.name())
}

/// `layer` label of decode errors: a [`Layer`] name, "other" for names this
/// build does not know (Error records of a newer writer).
pub fn layer_label(name: &str) -> &'static str {
    Layer::ALL.iter().find(|l| l.name() == name).map_or("other", |l| l.name())
}

/// The fields of a `Connection` record the flow metrics need. Tags are
/// those of proto/flow.proto (a test checks them against the schema).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionFacts {
    pub duration_ns: i64,
    pub termination_reason: i32,
    pub ip_protocol: u32,
    pub packets: u64,
    pub bytes: u64,
}

/// A record (Connection, DNS, TLS hello, HTTP) that does not parse as
/// protobuf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("record does not decode")]
pub struct BadRecord;

/// One field of an encoded record.
#[derive(Clone, Copy)]
pub(crate) enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Calls `each` with every field's number and value, stopping after field
/// `stop_after` when the record is known to be in field-number order.
pub(crate) fn scan<'a>(
    mut buf: &'a [u8],
    stop_after: Option<u64>,
    mut each: impl FnMut(u64, Field<'a>),
) -> Result<(), BadRecord> {
    while !buf.is_empty() {
        let key = decode_varint(&mut buf).map_err(|_| BadRecord)?;
        let tag = key >> 3;
        if stop_after.is_some_and(|last| tag > last) {
            break;
        }
        let field = match key & 7 {
            0 => Field::Varint(decode_varint(&mut buf).map_err(|_| BadRecord)?),
            1 => {
                buf = buf.get(8..).ok_or(BadRecord)?;
                Field::Fixed
            }
            2 => {
                let len = decode_varint(&mut buf).map_err(|_| BadRecord)?;
                let len = usize::try_from(len).map_err(|_| BadRecord)?;
                let bytes = buf.get(..len).ok_or(BadRecord)?;
                buf = &buf[len..];
                Field::Bytes(bytes)
            }
            5 => {
                buf = buf.get(4..).ok_or(BadRecord)?;
                Field::Fixed
            }
            _ => return Err(BadRecord),
        };
        each(tag, field);
    }
    Ok(())
}

impl ConnectionFacts {
    /// Reads the five fields from an encoded record and skips the others
    /// (about sixty, with strings, addresses and sequences) by wire type.
    /// Values are truncated to the field types as protobuf does.
    pub fn decode(buf: &[u8]) -> Result<Self, BadRecord> {
        Self::scan(buf, false)
    }

    /// [`ConnectionFacts::decode`] for records encoded by prost (the capture
    /// pipeline's own): prost writes fields in field-number order, so the
    /// scan stops after field 19, before the bulk of the record. This runs
    /// once per connection on the capture's writer thread.
    pub fn decode_ordered(buf: &[u8]) -> Result<Self, BadRecord> {
        Self::scan(buf, true)
    }

    fn scan(buf: &[u8], ordered: bool) -> Result<Self, BadRecord> {
        let mut facts = ConnectionFacts::default();
        scan(buf, ordered.then_some(19), |tag, field| {
            if let Field::Varint(v) = field {
                match tag {
                    4 => facts.duration_ns = v as i64,
                    5 => facts.termination_reason = v as i32,
                    10 => facts.ip_protocol = v as u32,
                    18 => facts.packets = v,
                    19 => facts.bytes = v,
                    _ => {}
                }
            }
        })?;
        Ok(facts)
    }
}

/// Every netcap metric family, registered in one registry (with the process
/// collector on Linux). Cloning shares the metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    packets: IntCounterVec,
    captured_bytes: IntCounterVec,
    wire_bytes: IntCounterVec,
    records: IntCounterVec,
    decode_errors: IntCounterVec,
    flows_active: IntGauge,
    flows_ended: IntCounterVec,
    flow_duration: HistogramVec,
    flow_size: HistogramVec,
    flow_packets: HistogramVec,
    spot_value: GaugeVec,
    spot_excess: GaugeVec,
    spot_anomaly: GaugeVec,
    spot_alerts: IntCounterVec,
    input_complete: IntGauge,
    dns_queries: IntCounterVec,
    dns_responses: IntCounterVec,
    tls_client_hellos: IntCounterVec,
    tls_server_hellos: IntCounterVec,
    /// Shared by the recorders of these metrics (one in practice).
    server_names: Arc<Mutex<BoundedCounterVec>>,
    http_requests: IntCounterVec,
    http_responses: IntCounterVec,
}

fn counter_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<IntCounterVec> {
    let vec = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(vec.clone()))?;
    Ok(vec)
}

fn gauge_vec(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> prometheus::Result<GaugeVec> {
    let vec = GaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(vec.clone()))?;
    Ok(vec)
}

fn histogram_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    buckets: &[f64],
    labels: &[&str],
) -> prometheus::Result<HistogramVec> {
    let vec = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets.to_vec()), labels)?;
    registry.register(Box::new(vec.clone()))?;
    Ok(vec)
}

fn int_gauge(registry: &Registry, name: &str, help: &str) -> prometheus::Result<IntGauge> {
    let gauge = IntGauge::new(name, help)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

impl Metrics {
    /// Registers every family. `version` is the binary's version string,
    /// "0.1.0" or "0.1.0 (commit)", for `netcap_build_info`.
    pub fn new(version: &str) -> prometheus::Result<Self> {
        Self::with_top_n(version, DEFAULT_TOP_N)
    }

    /// [`Metrics::new`] with `top_n` TLS server names counted under their
    /// own label value (the rest under "other").
    pub fn with_top_n(version: &str, top_n: usize) -> prometheus::Result<Self> {
        let r = Registry::new();
        let traffic = ["link", "network", "transport"];
        let metrics = Metrics {
            packets: counter_vec(
                &r,
                "netcap_packets_total",
                "Packets read, by link type and the innermost network and transport layer that decoded.",
                &traffic,
            )?,
            captured_bytes: counter_vec(
                &r,
                "netcap_captured_bytes_total",
                "Bytes of the packets as captured (snaplen-limited), by protocol as netcap_packets_total.",
                &traffic,
            )?,
            wire_bytes: counter_vec(
                &r,
                "netcap_wire_bytes_total",
                "Bytes of the packets on the wire, by protocol as netcap_packets_total.",
                &traffic,
            )?,
            records: counter_vec(
                &r,
                "netcap_records_total",
                "Audit records produced (written by capture), per record type.",
                &["type"],
            )?,
            decode_errors: counter_vec(
                &r,
                "netcap_decode_errors_total",
                "Layers that failed to decode, per layer and reason class.",
                &["layer", "reason"],
            )?,
            flows_active: int_gauge(&r, "netcap_flows_active", "Connections tracked now (not yet ended).")?,
            flows_ended: counter_vec(
                &r,
                "netcap_flows_ended_total",
                "Connections ended (Connection records), per termination reason.",
                &["reason"],
            )?,
            flow_duration: histogram_vec(
                &r,
                "netcap_flow_duration_seconds",
                "Duration of ended connections (last packet minus first), in capture time.",
                DURATION_BUCKETS,
                &["transport"],
            )?,
            flow_size: histogram_vec(
                &r,
                "netcap_flow_size_bytes",
                "Bytes on the wire of ended connections, both directions.",
                SIZE_BUCKETS,
                &["transport"],
            )?,
            flow_packets: histogram_vec(
                &r,
                "netcap_flow_packets",
                "Packets of ended connections, both directions.",
                PACKET_BUCKETS,
                &["transport"],
            )?,
            spot_value: gauge_vec(
                &r,
                "netcap_spot_value",
                "Value of a SPOT statistic in the last closed tick (NaN when undefined).",
                &["stat"],
            )?,
            spot_excess: gauge_vec(
                &r,
                "netcap_spot_excess_threshold",
                "SPOT excess threshold the last value was judged against (NaN while calibrating).",
                &["stat"],
            )?,
            spot_anomaly: gauge_vec(
                &r,
                "netcap_spot_anomaly_threshold",
                "SPOT anomaly threshold the last value was judged against (NaN while calibrating).",
                &["stat"],
            )?,
            spot_alerts: counter_vec(
                &r,
                "netcap_spot_alerts_total",
                "SPOT anomalies (alerts) raised, per statistic.",
                &["stat"],
            )?,
            input_complete: int_gauge(
                &r,
                "netcap_input_complete",
                "1 once a capture or record file input has been read to its end, else 0.",
            )?,
            dns_queries: counter_vec(
                &r,
                "netcap_dns_queries_total",
                "Questions of DNS queries (DNS records with QR clear), per question type.",
                &["qtype"],
            )?,
            dns_responses: counter_vec(
                &r,
                "netcap_dns_responses_total",
                "DNS responses (DNS records with QR set), per response code.",
                &["rcode"],
            )?,
            tls_client_hellos: counter_vec(
                &r,
                "netcap_tls_client_hellos_total",
                "TLS ClientHellos (TLSClientHello records), per highest version offered.",
                &["version"],
            )?,
            tls_server_hellos: counter_vec(
                &r,
                "netcap_tls_server_hellos_total",
                "TLS ServerHellos (TLSServerHello records), per version chosen.",
                &["version"],
            )?,
            server_names: Arc::new(Mutex::new(BoundedCounterVec::register(
                &r,
                "netcap_tls_server_names_total",
                "TLS ClientHellos with a server name, per lower-cased name: the top N names, the rest as other.",
                "server_name",
                top_n,
                SERVER_NAME_MIN_HITS,
            )?)),
            http_requests: counter_vec(
                &r,
                "netcap_http_requests_total",
                "HTTP request heads (HTTP records of requests), per method.",
                &["method"],
            )?,
            http_responses: counter_vec(
                &r,
                "netcap_http_responses_total",
                "HTTP response heads (HTTP records of responses), per status class.",
                &["class"],
            )?,
            registry: r,
        };
        let build = IntGaugeVec::new(
            Opts::new("netcap_build_info", "Always 1; the labels say which netcap build is running."),
            &["version", "revision"],
        )?;
        let (semver, revision) = match version.split_once(" (") {
            Some((v, rest)) => (v, rest.trim_end_matches(')')),
            None => (version, ""),
        };
        build.with_label_values(&[semver, revision]).set(1);
        metrics.registry.register(Box::new(build))?;
        #[cfg(target_os = "linux")]
        metrics.registry.register(Box::new(prometheus::process_collector::ProcessCollector::for_self()))?;
        Ok(metrics)
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The exposition in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 << 10);
        // Encoding into a Vec fails only on a malformed family, which the
        // registry refuses at registration.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        out
    }

    pub fn set_input_complete(&self, complete: bool) {
        self.input_complete.set(i64::from(complete));
    }

    pub fn set_active_flows(&self, flows: u64) {
        self.flows_active.set(i64::try_from(flows).unwrap_or(i64::MAX));
    }
}

/// Updates [`Metrics`] from one thread, keeping the series handles it has
/// used so that a hot update is an atomic add, not a label lookup. Flow
/// metrics (one update per connection) accumulate locally until
/// [`Recorder::flush`].
pub struct Recorder {
    metrics: Metrics,
    traffic: HashMap<(&'static str, &'static str, &'static str), [IntCounter; 3]>,
    records: Vec<Option<IntCounter>>,
    /// By TerminationReason value; the last slot for unknown values.
    ended: [Option<LocalIntCounter>; 8],
    /// By [`flow_transport_index`].
    flow: [Option<[LocalHistogram; 3]>; FLOW_TRANSPORTS.len()],
    spot: HashMap<&'static str, SpotSeries>,
    /// Application counters by label index (the last slot: "other").
    dns_queries: Vec<Option<IntCounter>>,
    dns_responses: Vec<Option<IntCounter>>,
    tls_client_hellos: Vec<Option<IntCounter>>,
    tls_server_hellos: Vec<Option<IntCounter>>,
    http_requests: Vec<Option<IntCounter>>,
    http_responses: Vec<Option<IntCounter>>,
    /// Lower-cased server name (reused).
    server_name: String,
}

struct SpotSeries {
    value: Gauge,
    excess: Gauge,
    anomaly: Gauge,
    alerts: IntCounter,
}

impl Recorder {
    pub fn new(metrics: Metrics) -> Self {
        Recorder {
            metrics,
            traffic: HashMap::new(),
            records: vec![None; RecordType::count()],
            ended: Default::default(),
            flow: Default::default(),
            spot: HashMap::new(),
            dns_queries: vec![None; app::DNS_TYPES.len() + 1],
            dns_responses: vec![None; app::DNS_RCODES.len() + 1],
            tls_client_hellos: vec![None; app::TLS_VERSIONS.len() + 1],
            tls_server_hellos: vec![None; app::TLS_VERSIONS.len() + 1],
            http_requests: vec![None; app::HTTP_METHODS.len() + 1],
            http_responses: vec![None; app::HTTP_CLASSES.len() + 1],
            server_name: String::new(),
        }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Packets of one (link, network, transport) class.
    pub fn traffic(&mut self, class: (&'static str, &'static str, &'static str), cell: TrafficCell) {
        let m = &self.metrics;
        let series = self.traffic.entry(class).or_insert_with(|| {
            let labels = [class.0, class.1, class.2];
            [
                m.packets.with_label_values(&labels),
                m.captured_bytes.with_label_values(&labels),
                m.wire_bytes.with_label_values(&labels),
            ]
        });
        series[0].inc_by(cell.packets);
        series[1].inc_by(cell.captured_bytes);
        series[2].inc_by(cell.wire_bytes);
    }

    pub fn records(&mut self, record_type: RecordType, records: u64) {
        let m = &self.metrics;
        if let Some(slot) = self.records.get_mut(record_type.index()) {
            slot.get_or_insert_with(|| m.records.with_label_values(&[record_type.name()])).inc_by(records);
        }
    }

    pub fn decode_errors(&mut self, layer: &str, reason: ErrorReason, errors: u64) {
        if errors > 0 {
            self.metrics.decode_errors.with_label_values(&[layer, reason.name()]).inc_by(errors);
        }
    }

    /// One ended connection (a Connection record).
    pub fn connection(&mut self, c: &ConnectionFacts) {
        let m = &self.metrics;
        let slot = usize::try_from(c.termination_reason).map_or(7, |r| r.min(7));
        let reason = termination_reason(c.termination_reason);
        self.ended[slot].get_or_insert_with(|| m.flows_ended.with_label_values(&[reason]).local()).inc();
        let index = flow_transport_index(c.ip_protocol);
        let transport = FLOW_TRANSPORTS[index];
        let [duration, size, packets] = self.flow[index].get_or_insert_with(|| {
            [
                m.flow_duration.with_label_values(&[transport]).local(),
                m.flow_size.with_label_values(&[transport]).local(),
                m.flow_packets.with_label_values(&[transport]).local(),
            ]
        });
        duration.observe(c.duration_ns.max(0) as f64 * 1e-9);
        size.observe(c.bytes as f64);
        packets.observe(c.packets as f64);
    }

    /// Hands the flow metrics counted since the last flush to the registry
    /// (until then a scrape does not see them).
    pub fn flush(&mut self) {
        for counter in self.ended.iter().flatten() {
            counter.flush();
        }
        for histograms in self.flow.iter().flatten() {
            for h in histograms {
                h.flush();
            }
        }
    }

    /// One application record (DNS, TLS hello, HTTP head).
    pub fn app(&mut self, facts: &AppFacts<'_>) -> Result<(), BadRecord> {
        fn inc(slots: &mut [Option<IntCounter>], i: usize, family: &IntCounterVec, label: &'static str) {
            if let Some(slot) = slots.get_mut(i) {
                slot.get_or_insert_with(|| family.with_label_values(&[label])).inc();
            }
        }
        let m = &self.metrics;
        match *facts {
            AppFacts::Dns { response: true, rcode, .. } => {
                let i = app::dns_rcode_index(rcode);
                inc(&mut self.dns_responses, i, &m.dns_responses, app::label(app::DNS_RCODES, i));
            }
            AppFacts::Dns { response: false, questions, .. } => {
                let slots = &mut self.dns_queries;
                questions.for_each_type(|qtype| {
                    let i = app::dns_type_index(qtype);
                    inc(slots, i, &m.dns_queries, app::label(app::DNS_TYPES, i));
                })?;
            }
            AppFacts::ClientHello { version, sni } => {
                let i = app::tls_version_index(version);
                inc(&mut self.tls_client_hellos, i, &m.tls_client_hellos, app::label(app::TLS_VERSIONS, i));
                if !sni.is_empty() {
                    self.server_name.clear();
                    self.server_name.push_str(&String::from_utf8_lossy(sni));
                    self.server_name.make_ascii_lowercase();
                    if let Ok(mut names) = m.server_names.lock() {
                        names.inc(&self.server_name);
                    }
                }
            }
            AppFacts::ServerHello { version } => {
                let i = app::tls_version_index(version);
                inc(&mut self.tls_server_hellos, i, &m.tls_server_hellos, app::label(app::TLS_VERSIONS, i));
            }
            AppFacts::Http { method, status } => {
                if let Some(method) = method {
                    let i = app::http_method_index(method);
                    inc(&mut self.http_requests, i, &m.http_requests, app::http_method_label(i));
                }
                if let Some(status) = status {
                    let i = app::http_class_index(status);
                    inc(&mut self.http_responses, i, &m.http_responses, app::http_class_label(i));
                }
            }
        }
        Ok(())
    }

    /// One statistic of one closed tick (a SpotStat record).
    pub fn spot_stat(&mut self, s: &SpotStat) {
        let m = &self.metrics;
        let stat = spot_stat_label(&s.stat);
        let series = self.spot.entry(stat).or_insert_with(|| SpotSeries {
            value: m.spot_value.with_label_values(&[stat]),
            excess: m.spot_excess.with_label_values(&[stat]),
            anomaly: m.spot_anomaly.with_label_values(&[stat]),
            alerts: m.spot_alerts.with_label_values(&[stat]),
        });
        series.value.set(s.value);
        series.excess.set(s.excess_threshold);
        series.anomaly.set(s.anomaly_threshold);
        // Codes ±2: an anomaly on the upper or lower tail (proto/spot.proto).
        if s.code.abs() == 2 {
            series.alerts.inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    fn exposition(metrics: &Metrics) -> String {
        String::from_utf8(metrics.encode()).unwrap()
    }

    #[test]
    fn connection_facts_tags_match_the_schema() {
        crate::assert_field_numbers(
            RecordType::Connection,
            &[("duration_ns", 4), ("termination_reason", 5), ("ip_protocol", 10), ("packets", 18), ("bytes", 19)],
        );
    }

    #[test]
    fn connection_facts_read_full_records() {
        let full = netcap_records::Connection {
            timestamp_ns: -5,
            duration_ns: 2_500_000_000,
            termination_reason: TerminationReason::Rst as i32,
            ip_protocol: 6,
            packets: 12,
            bytes: u64::MAX,
            community_id: "1:abc".into(),
            src_ip: vec![10, 0, 0, 1],
            payload_bytes_mean: 3.5,
            client_window_scale: Some(7),
            payload_size_sequence: vec![-1, 2, 3],
            interarrival_sequence_ns: vec![1 << 40],
            ..Default::default()
        };
        let encoded = full.encode_to_vec();
        let facts = ConnectionFacts::decode(&encoded).unwrap();
        assert_eq!(ConnectionFacts::decode_ordered(&encoded), Ok(facts));
        assert_eq!(
            facts,
            ConnectionFacts {
                duration_ns: 2_500_000_000,
                termination_reason: TerminationReason::Rst as i32,
                ip_protocol: 6,
                packets: 12,
                bytes: u64::MAX
            }
        );
        assert_eq!(ConnectionFacts::decode(&[]), Ok(ConnectionFacts::default()));
        // Cut anywhere: an error or the fields before the cut, never a panic.
        for cut in 0..encoded.len() {
            let _ = ConnectionFacts::decode(&encoded[..cut]);
        }
        assert_eq!(ConnectionFacts::decode(&[0x0b]), Err(BadRecord), "wire type 3 is not used by proto3");
        assert_eq!(ConnectionFacts::decode(&[0x12, 0x05, 1]), Err(BadRecord), "length past the end");
    }

    /// docs/metrics.md lists every family, and nothing else.
    #[test]
    fn the_documentation_lists_every_family() {
        let metrics = Metrics::new("0.1.0").unwrap();
        let mut r = Recorder::new(metrics.clone());
        r.traffic(("raw", "ipv6", "udp"), TrafficCell { packets: 1, captured_bytes: 1, wire_bytes: 1 });
        r.records(RecordType::Udp, 1);
        r.decode_errors("udp", ErrorReason::Truncated, 1);
        r.connection(&ConnectionFacts::default());
        r.flush();
        r.spot_stat(&SpotStat { stat: "PPS".into(), ..Default::default() });
        let query = netcap_records::Dns {
            questions: vec![netcap_records::DnsQuestion { r#type: 1, ..Default::default() }],
            ..Default::default()
        }
        .encode_to_vec();
        let response = netcap_records::Dns { response: true, ..Default::default() }.encode_to_vec();
        for (t, record) in [(RecordType::Dns, &query), (RecordType::Dns, &response)] {
            r.app(&AppFacts::decode(t, record, true).unwrap().unwrap()).unwrap();
        }
        r.app(&AppFacts::ClientHello { version: 0x0303, sni: b"a.example" }).unwrap();
        r.app(&AppFacts::ServerHello { version: 0x0303 }).unwrap();
        r.app(&AppFacts::Http { method: Some(b"GET"), status: Some(200) }).unwrap();
        let exposed: std::collections::BTreeSet<String> =
            metrics.registry().gather().iter().map(|f| f.name().to_string()).collect();
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/metrics.md")).unwrap();
        // Names in the first column of the metrics table.
        let documented: std::collections::BTreeSet<String> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once(" |").map(|(names, _)| names.to_string()))
            .flat_map(|names| names.split(", ").map(|n| n.trim_matches('`').to_string()).collect::<Vec<_>>())
            .filter(|n| n.starts_with("netcap_") || n.starts_with("process_"))
            .collect();
        #[cfg(target_os = "linux")]
        assert_eq!(documented, exposed);
        for name in &exposed {
            assert!(name.starts_with("netcap_") || name.starts_with("process_"), "{name}");
        }
    }

    #[test]
    fn every_termination_reason_has_a_label() {
        let mut seen = Vec::new();
        for value in 0..=6 {
            let label = termination_reason(value);
            let name = TerminationReason::try_from(value).unwrap().as_str_name();
            assert_eq!(format!("TERMINATION_REASON_{}", label.to_ascii_uppercase()), name);
            seen.push(label);
        }
        assert!(TerminationReason::try_from(7).is_err(), "a new reason needs a label");
        assert_eq!(termination_reason(7), "other");
        assert_eq!(termination_reason(-3), "other");
        seen.dedup();
        assert_eq!(seen.len(), 7);
    }

    #[test]
    fn labels_from_record_files_are_bounded() {
        assert_eq!(spot_stat_label("r_syn"), "R_SYN");
        assert_eq!(spot_stat_label("PPS"), "PPS");
        assert_eq!(spot_stat_label("'; DROP TABLE"), "other");
        assert_eq!(layer_label("ipv4"), "ipv4");
        assert_eq!(layer_label("quantum"), "other");
        assert_eq!(flow_transport(6), "tcp");
        assert_eq!(flow_transport(132), "other");
    }

    #[test]
    fn recorder_updates_the_exposition() {
        let metrics = Metrics::new("1.2.3 (abcdef)").unwrap();
        let mut r = Recorder::new(metrics.clone());
        r.traffic(("ethernet", "ipv4", "tcp"), TrafficCell { packets: 3, captured_bytes: 180, wire_bytes: 300 });
        r.traffic(("ethernet", "ipv4", "tcp"), TrafficCell { packets: 1, captured_bytes: 60, wire_bytes: 100 });
        r.records(RecordType::Tcp, 4);
        r.decode_errors("tcp", ErrorReason::Truncated, 2);
        r.decode_errors("udp", ErrorReason::Malformed, 0);
        r.connection(&ConnectionFacts {
            duration_ns: 1_500_000_000,
            termination_reason: 1,
            ip_protocol: 6,
            packets: 4,
            bytes: 400,
        });
        r.spot_stat(&SpotStat {
            stat: "PPS".into(),
            value: 12.5,
            code: 2,
            excess_threshold: 10.0,
            anomaly_threshold: 12.0,
            ..Default::default()
        });
        r.spot_stat(&SpotStat {
            stat: "PPS".into(),
            value: f64::NAN,
            code: 6,
            excess_threshold: 10.0,
            anomaly_threshold: 12.0,
            ..Default::default()
        });
        metrics.set_active_flows(7);
        metrics.set_input_complete(true);
        let before = exposition(&metrics);
        assert!(before.lines().any(|l| l == r#"netcap_flows_ended_total{reason="fin"} 0"#), "wait for a flush");
        r.flush();
        r.flush();
        let text = exposition(&metrics);
        for line in [
            r#"netcap_packets_total{link="ethernet",network="ipv4",transport="tcp"} 4"#,
            r#"netcap_captured_bytes_total{link="ethernet",network="ipv4",transport="tcp"} 240"#,
            r#"netcap_wire_bytes_total{link="ethernet",network="ipv4",transport="tcp"} 400"#,
            r#"netcap_records_total{type="TCP"} 4"#,
            r#"netcap_decode_errors_total{layer="tcp",reason="truncated"} 2"#,
            r#"netcap_flows_ended_total{reason="fin"} 1"#,
            r#"netcap_flow_duration_seconds_bucket{transport="tcp",le="1"} 0"#,
            r#"netcap_flow_duration_seconds_bucket{transport="tcp",le="5"} 1"#,
            r#"netcap_flow_duration_seconds_sum{transport="tcp"} 1.5"#,
            r#"netcap_flow_size_bytes_bucket{transport="tcp",le="1024"} 1"#,
            r#"netcap_flow_packets_bucket{transport="tcp",le="4"} 1"#,
            r#"netcap_flows_active 7"#,
            r#"netcap_spot_value{stat="PPS"} NaN"#,
            r#"netcap_spot_anomaly_threshold{stat="PPS"} 12"#,
            r#"netcap_spot_alerts_total{stat="PPS"} 1"#,
            r#"netcap_input_complete 1"#,
            r#"netcap_build_info{revision="abcdef",version="1.2.3"} 1"#,
        ] {
            assert!(text.lines().any(|l| l == line), "missing {line} in\n{text}");
        }
        assert!(!text.contains(r#"layer="udp""#), "no series for zero counts");
        #[cfg(target_os = "linux")]
        assert!(text.contains("process_resident_memory_bytes") && text.contains("process_start_time_seconds"));
    }
}
