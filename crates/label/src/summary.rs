//! What a run did: records per label and type, alerts and windows matched
//! and not, conflicts, bounds that dropped something. Written as
//! `label-summary.json` and, shorter, to stderr.

use crate::time::rfc3339;
use crate::truth::{Alert, GroundTruth, Window};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Distinct label combinations of conflicting connections listed at most.
pub const MAX_CONFLICT_COMBINATIONS: usize = 1000;

#[derive(Debug, Default)]
pub struct Summary {
    /// Records per type, then per label.
    pub records: BTreeMap<String, BTreeMap<String, u64>>,
    /// The record type labelled directly (Connection, or Flow without it).
    pub connection_type: String,
    /// Per alert: connections it matched.
    pub alert_hits: Vec<u32>,
    /// Per window: connections it matched.
    pub window_hits: Vec<u32>,
    /// Connections with matches whose labels differ.
    pub conflicts: u64,
    pub conflict_combinations: BTreeMap<Vec<String>, u64>,
    pub conflict_combinations_dropped: u64,
    /// Attack-labelled connections relabelled as attempted.
    pub attempted: u64,
    /// Labelled connections the index for other record types could not
    /// hold (their records are labelled normal).
    pub labelled_connections_dropped: u64,
    /// Labelled frames the frame table could not hold.
    pub frames_dropped: u64,
    /// Per type: records whose bytes did not decode (left out).
    pub undecodable: BTreeMap<String, u64>,
    /// Read errors of damaged record files.
    pub damaged: Vec<String>,
    pub alerts_with_flow_event_ids: u64,
}

fn alert_json(truth: &GroundTruth, a: &Alert, reason: &str) -> Value {
    let endpoint = |e: Option<(std::net::IpAddr, u16)>| {
        e.map(|(ip, port)| if ip.is_ipv6() { format!("[{ip}]:{port}") } else { format!("{ip}:{port}") })
    };
    json!({
        "source": a.source.name(),
        "file": truth.files.get(a.file).map(|f| f.display().to_string()),
        "line": a.line,
        "time": rfc3339(a.time_ns),
        "gid": a.gid,
        "signature_id": a.signature_id,
        "rev": a.rev,
        "signature": a.signature,
        "category": a.category,
        "severity": (a.severity != crate::truth::NO_SEVERITY).then_some(a.severity),
        "flow_id": a.flow_id,
        "community_id": a.community_id,
        "proto": a.proto,
        "src": endpoint(a.src),
        "dst": endpoint(a.dst),
        "reason": reason,
    })
}

fn window_json(truth: &GroundTruth, w: &Window) -> Value {
    json!({
        "name": w.name,
        "category": w.category,
        "file": truth.files.get(w.file).map(|f| f.display().to_string()),
        "line": w.line,
        "start": rfc3339(w.start_ns),
        "end": rfc3339(w.end_ns),
    })
}

impl Summary {
    pub fn alerts_matched(&self) -> usize {
        self.alert_hits.iter().filter(|&&h| h > 0).count()
    }

    /// The summary as `label-summary.json` holds it.
    pub fn to_json(&self, truth: &GroundTruth, joinable: impl Fn(&Alert) -> bool) -> Value {
        let mut labels: BTreeMap<&str, u64> = BTreeMap::new();
        for per_label in self.records.values() {
            for (label, n) in per_label {
                *labels.entry(label).or_default() += n;
            }
        }
        let unmatched: Vec<Value> = truth
            .alerts
            .iter()
            .zip(&self.alert_hits)
            .filter(|(_, h)| **h == 0)
            .map(|(a, _)| {
                let reason = if joinable(a) { "no connection" } else { "no community ID, protocol or endpoints" };
                alert_json(truth, a, reason)
            })
            .collect();
        let without_traffic: Vec<Value> = truth
            .windows
            .iter()
            .zip(&self.window_hits)
            .filter(|(_, h)| **h == 0)
            .map(|(w, _)| window_json(truth, w))
            .collect();
        let combinations: Vec<Value> =
            self.conflict_combinations.iter().map(|(labels, n)| json!({"labels": labels, "connections": n})).collect();
        json!({
            "connection_type": self.connection_type,
            "records": self.records,
            "labels": labels,
            "alerts": {
                "total": truth.alerts.len(),
                "matched": self.alerts_matched(),
                "unmatched": unmatched.len(),
                "matching_several_connections": self.alert_hits.iter().filter(|&&h| h > 1).count(),
                "community_ids_from_flow_events": self.alerts_with_flow_event_ids,
                "unmatched_alerts": unmatched,
            },
            "windows": {
                "total": truth.windows.len(),
                "matched": self.window_hits.iter().filter(|&&h| h > 0).count(),
                "without_traffic": without_traffic,
            },
            "conflicts": {
                "connections": self.conflicts,
                "combinations": combinations,
                "combinations_not_listed": self.conflict_combinations_dropped,
            },
            "attempted": self.attempted,
            "dropped": {
                "labelled_connections": self.labelled_connections_dropped,
                "frames": self.frames_dropped,
            },
            "undecodable_records": self.undecodable,
            "damaged_inputs": self.damaged,
        })
    }

    /// A few lines for a person.
    pub fn text(&self, truth: &GroundTruth) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        for (record_type, per_label) in &self.records {
            let total: u64 = per_label.values().sum();
            let labels: Vec<String> = per_label.iter().map(|(l, n)| format!("{l} {n}")).collect();
            let _ = writeln!(out, "{record_type}: {total} records: {}", labels.join(", "));
        }
        let matched = self.alerts_matched();
        let _ = writeln!(
            out,
            "alerts: {} read, {matched} matched, {} unmatched, {} matched several connections",
            truth.alerts.len(),
            truth.alerts.len() - matched,
            self.alert_hits.iter().filter(|&&h| h > 1).count()
        );
        for (a, _) in truth.alerts.iter().zip(&self.alert_hits).filter(|(_, h)| **h == 0).take(10) {
            let file = truth.files.get(a.file).map(|f| f.display().to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "  unmatched: {file}:{} {} sid {} {}",
                a.line,
                rfc3339(a.time_ns),
                a.signature_id,
                a.signature
            );
        }
        let windows_without = self.window_hits.iter().filter(|&&h| h == 0).count();
        let _ = writeln!(out, "attack windows: {} read, {windows_without} without traffic", truth.windows.len());
        for (w, _) in truth.windows.iter().zip(&self.window_hits).filter(|(_, h)| **h == 0).take(10) {
            let _ = writeln!(out, "  without traffic: {} ({} to {})", w.name, rfc3339(w.start_ns), rfc3339(w.end_ns));
        }
        let _ = writeln!(out, "conflicting labels: {} connections; attempted: {}", self.conflicts, self.attempted);
        if self.labelled_connections_dropped > 0 || self.frames_dropped > 0 {
            let _ = writeln!(
                out,
                "bounds reached: {} labelled connections and {} frames not indexed (their other records are labelled normal)",
                self.labelled_connections_dropped, self.frames_dropped
            );
        }
        out
    }
}
