//! Labelling one connection: the join rules and the precedence of matches
//! (docs/label.md).
//!
//! * An alert with a community ID matches connections with that ID; one
//!   without matches connections of its protocol whose endpoints are its
//!   endpoints in either orientation. Either way its time must fall within
//!   the connection's first and last packet, widened by the slack.
//! * A window matches connections that overlap it in time, of its protocol
//!   (if given), from an attacker to a victim in either direction with the
//!   victim's port in `ports` and the attacker's in `attacker_ports` (if
//!   given; an empty party list means any address), or with a victim on
//!   either side when all of a victim's traffic counts, or with an `ips`
//!   address on either side (its port, or the other side's, in `ports`).
//! * Precedence: alerts before windows (or after, with `-prefer attacks`);
//!   among alerts the most severe (lowest severity number), then the
//!   earliest, then file order; among windows the earliest start, then file
//!   order. The first match gives the label; every match is in the detail.

use crate::index::{AlertIndex, WindowIndex};
use crate::net::{FlowKey, in_nets, ip_from_bytes, port_ok};
use crate::truth::{Alert, GroundTruth, Source, Window};
use crate::wire::Joined;
use std::net::IpAddr;

/// Which text of a match becomes the label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LabelBy {
    /// Alert category (classtype) or attack category; the signature or
    /// attack name when the category is empty.
    #[default]
    Category,
    /// Signature text or attack name.
    Name,
}

/// How connections are labelled.
#[derive(Clone, Debug)]
pub struct JoinOptions {
    /// How far outside a connection's first and last packet an alert may
    /// be, in ns.
    pub slack_ns: i64,
    /// Attack windows take precedence over alerts.
    pub prefer_attacks: bool,
    pub label_by: LabelBy,
    /// Attack-labelled connections without payload or without a completed
    /// TCP handshake get `<label> - Attempted`.
    pub attempted: bool,
}

impl Default for JoinOptions {
    fn default() -> Self {
        JoinOptions {
            slack_ns: crate::time::NS_PER_SEC,
            prefer_attacks: false,
            label_by: LabelBy::Category,
            attempted: false,
        }
    }
}

/// Suffix of attempted attacks' labels (as Engelen et al. relabelled
/// CIC-IDS2017).
pub const ATTEMPTED_SUFFIX: &str = " - Attempted";

/// One ground-truth item that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Match {
    Alert(u32),
    Window(u32),
}

/// The connection fields a join reads.
#[derive(Clone, Copy, Debug)]
pub struct Conn<'a> {
    pub first_ns: i64,
    pub last_ns: i64,
    pub proto: Option<u8>,
    pub src: Option<(IpAddr, u16)>,
    pub dst: Option<(IpAddr, u16)>,
    pub community_id: &'a str,
    pub payload_bytes: Option<u64>,
    pub conn_state: &'a str,
    pub syn_count: Option<u64>,
    pub ack_count: Option<u64>,
}

impl<'a> Conn<'a> {
    /// A connection (Connection or Flow record) from its join fields.
    pub fn from_joined(j: &Joined<'a>) -> Conn<'a> {
        let ip = |b: &[u8]| ip_from_bytes(b);
        Conn {
            first_ns: j.time_ns,
            last_ns: j.last_ns.unwrap_or(j.time_ns).max(j.time_ns),
            proto: j.proto,
            src: ip(j.src_ip).map(|a| (a, j.src_port)),
            dst: ip(j.dst_ip).map(|a| (a, j.dst_port)),
            community_id: j.community_id,
            payload_bytes: j.payload_bytes,
            conn_state: j.conn_state,
            syn_count: j.syn_count,
            ack_count: j.ack_count,
        }
    }
}

/// The label of a connection with matches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Labelled {
    pub label: String,
    pub source: &'static str,
    /// Every match, primary first: `eve:2016683|attacks:DoS Hulk`.
    pub detail: String,
    /// The labels of the matches differ.
    pub conflict: bool,
    /// Distinct labels of the matches, in precedence order, when they
    /// conflict.
    pub labels: Vec<String>,
    pub attempted: bool,
}

/// Ground truth, indexed, and the join options.
pub struct Joiner<'t> {
    truth: &'t GroundTruth,
    alerts: AlertIndex,
    windows: WindowIndex,
    options: JoinOptions,
}

impl<'t> Joiner<'t> {
    pub fn new(truth: &'t GroundTruth, options: JoinOptions) -> Joiner<'t> {
        Joiner { alerts: AlertIndex::new(&truth.alerts), windows: WindowIndex::new(&truth.windows), truth, options }
    }

    pub fn alert_index(&self) -> &AlertIndex {
        &self.alerts
    }

    /// Collects the matches of `conn` into `matches` (cleared first), in
    /// precedence order.
    pub fn matches(&self, conn: &Conn<'_>, matches: &mut Vec<Match>) {
        matches.clear();
        let (lo, hi) =
            (conn.first_ns.saturating_sub(self.options.slack_ns), conn.last_ns.saturating_add(self.options.slack_ns));
        if !conn.community_id.is_empty()
            && let Some(list) = self.alerts.by_community_id.get(conn.community_id)
        {
            list.meeting(lo, hi, |i| matches.push(Match::Alert(i)));
        }
        if let (Some(proto), Some(src), Some(dst)) = (conn.proto, conn.src, conn.dst) {
            if let Some(list) = self.alerts.by_flow.get(&FlowKey::new(proto, src, dst)) {
                list.meeting(lo, hi, |i| matches.push(Match::Alert(i)));
            }
            let windows_from = matches.len();
            let mut candidate = |i: u32| {
                let m = Match::Window(i);
                if !matches[windows_from..].contains(&m)
                    && self.truth.windows.get(i as usize).is_some_and(|w| window_matches(w, conn.proto, src, dst))
                {
                    matches.push(m);
                }
            };
            let (first, last) = (conn.first_ns, conn.last_ns);
            if let Some(list) = self.windows.by_flow.get(&FlowKey::new(proto, src, dst)) {
                list.meeting(first, last, &mut candidate);
            }
            for addr in [src.0, dst.0] {
                if let Some(list) = self.windows.by_address.get(&addr) {
                    list.meeting(first, last, &mut candidate);
                }
            }
            self.windows.unanchored.meeting(first, last, &mut candidate);
        }
        if matches.len() > 1 {
            matches.sort_by_cached_key(|m| self.rank(*m));
        }
    }

    /// Sort key of a match: group (alerts or windows first), then severity,
    /// time, file and line.
    fn rank(&self, m: Match) -> (u8, u32, i64, usize, u64, u32) {
        let alerts_group = u8::from(self.options.prefer_attacks);
        match m {
            Match::Alert(i) => match self.truth.alerts.get(i as usize) {
                Some(a) => (alerts_group, a.severity, a.time_ns, a.file, a.line, i),
                None => (2, 0, 0, 0, 0, i),
            },
            Match::Window(i) => match self.truth.windows.get(i as usize) {
                Some(w) => (1 - alerts_group, 0, w.start_ns, w.file, w.line, i),
                None => (2, 0, 0, 0, 0, i),
            },
        }
    }

    /// The label of a connection with `matches` (in precedence order).
    pub fn label(&self, conn: &Conn<'_>, matches: &[Match], out: &mut Labelled) -> bool {
        let Some(&primary) = matches.first() else { return false };
        out.label.clear();
        out.detail.clear();
        out.labels.clear();
        out.conflict = false;
        out.attempted = false;
        out.source = self.source(primary).name();
        out.label.push_str(self.text(primary));
        let mut items: Vec<String> = Vec::with_capacity(matches.len());
        for &m in matches {
            let text = self.text(m);
            if !out.labels.iter().any(|l| l == text) {
                out.labels.push(text.to_owned());
            }
            let mut item = String::new();
            self.push_detail(m, &mut item);
            // The same signature or attack twice is listed once.
            if !items.contains(&item) {
                items.push(item);
            }
        }
        out.detail = items.join("|");
        out.conflict = out.labels.len() > 1;
        if !out.conflict {
            out.labels.clear();
        }
        if self.options.attempted && attempted(conn) {
            out.attempted = true;
            out.label.push_str(ATTEMPTED_SUFFIX);
        }
        true
    }

    fn source(&self, m: Match) -> Source {
        match m {
            Match::Alert(i) => self.truth.alerts.get(i as usize).map_or(Source::Eve, |a| a.source),
            Match::Window(_) => Source::Attacks,
        }
    }

    /// The label text a match gives.
    pub fn text(&self, m: Match) -> &str {
        match m {
            Match::Alert(i) => self.truth.alerts.get(i as usize).map_or("", |a| alert_text(a, self.options.label_by)),
            Match::Window(i) => {
                self.truth.windows.get(i as usize).map_or("", |w| window_text(w, self.options.label_by))
            }
        }
    }

    fn push_detail(&self, m: Match, out: &mut String) {
        use std::fmt::Write;
        match m {
            Match::Alert(i) => {
                if let Some(a) = self.truth.alerts.get(i as usize) {
                    out.push_str(a.source.name());
                    out.push(':');
                    if a.gid != 1 {
                        let _ = write!(out, "{}:", a.gid);
                    }
                    let _ = write!(out, "{}", a.signature_id);
                }
            }
            Match::Window(i) => {
                if let Some(w) = self.truth.windows.get(i as usize) {
                    out.push_str("attacks:");
                    for c in w.name.chars() {
                        if matches!(c, '|' | '\\') {
                            out.push('\\');
                        }
                        out.push(c);
                    }
                }
            }
        }
    }
}

fn alert_text(a: &Alert, by: LabelBy) -> &str {
    let (first, second) = match by {
        LabelBy::Category => (&a.category, &a.signature),
        LabelBy::Name => (&a.signature, &a.category),
    };
    if !first.is_empty() { first } else { second }
}

fn window_text(w: &Window, by: LabelBy) -> &str {
    match by {
        LabelBy::Category if !w.category.is_empty() => &w.category,
        _ => &w.name,
    }
}

/// Whether a window matches a connection of `proto` between `src` and
/// `dst` (time is checked by the index).
pub fn window_matches(w: &Window, proto: Option<u8>, src: (IpAddr, u16), dst: (IpAddr, u16)) -> bool {
    if w.proto.is_some() && w.proto != proto {
        return false;
    }
    let ports_apply = proto.is_none_or(crate::net::has_ports);
    let victim_port_ok = |port: u16| !ports_apply || port_ok(&w.ports, port);
    let attacker_port_ok = |port: u16| !ports_apply || port_ok(&w.attacker_ports, port);
    let between = |attacker: (IpAddr, u16), victim: (IpAddr, u16)| {
        in_nets(&w.attackers, &attacker.0)
            && in_nets(&w.victims, &victim.0)
            && victim_port_ok(victim.1)
            && attacker_port_ok(attacker.1)
    };
    if (!w.attackers.is_empty() || !w.victims.is_empty()) && (between(src, dst) || between(dst, src)) {
        return true;
    }
    let victim_side = |side: (IpAddr, u16)| w.victims.iter().any(|n| n.contains(&side.0)) && victim_port_ok(side.1);
    if w.all_victim_traffic && (victim_side(src) || victim_side(dst)) {
        return true;
    }
    let on_ips = |side: &(IpAddr, u16)| w.ips.iter().any(|n| n.contains(&side.0));
    !w.ips.is_empty() && (on_ips(&src) || on_ips(&dst)) && (victim_port_ok(src.1) || victim_port_ok(dst.1))
}

/// An attack connection that did not get far: no payload, or a TCP
/// handshake that never completed. Zeek's conn_state says so where the
/// record has it (S0, REJ, RSTOS0, RSTRH, SH, SHR: no handshake; OTH, a
/// connection seen mid-stream, is not judged); else the SYN and ACK counts
/// (both sides' SYNs and the final ACK), when any SYN was seen.
pub fn attempted(conn: &Conn<'_>) -> bool {
    if conn.payload_bytes == Some(0) {
        return true;
    }
    if conn.proto != Some(6) {
        return false;
    }
    if !conn.conn_state.is_empty() {
        return matches!(conn.conn_state, "S0" | "REJ" | "RSTOS0" | "RSTRH" | "SH" | "SHR");
    }
    match (conn.syn_count, conn.ack_count) {
        (Some(syn), Some(ack)) if syn > 0 => syn < 2 || ack < 2,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::{Net, PortSet};
    use crate::truth::NO_SEVERITY;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn window(name: &str, start: i64, end: i64) -> Window {
        Window {
            file: 0,
            line: 1,
            name: name.into(),
            category: String::new(),
            start_ns: start,
            end_ns: end,
            attackers: vec![],
            victims: vec![],
            ips: vec![],
            proto: None,
            ports: None,
            attacker_ports: None,
            all_victim_traffic: false,
        }
    }

    fn alert(sid: u64, time: i64, severity: u32, id: Option<&str>) -> Alert {
        Alert {
            source: Source::Eve,
            file: 0,
            line: sid,
            time_ns: time,
            gid: 1,
            signature_id: sid,
            rev: 1,
            signature: format!("sig {sid}"),
            category: format!("cat {sid}"),
            severity,
            flow_id: None,
            community_id: id.map(str::to_owned),
            proto: Some(6),
            src: Some((ip("10.0.0.1"), 40000)),
            dst: Some((ip("10.0.0.2"), 80)),
        }
    }

    fn conn(first: i64, last: i64) -> Conn<'static> {
        Conn {
            first_ns: first,
            last_ns: last,
            proto: Some(6),
            src: Some((ip("10.0.0.2"), 80)),
            dst: Some((ip("10.0.0.1"), 40000)),
            community_id: "1:c=",
            payload_bytes: Some(100),
            conn_state: "SF",
            syn_count: Some(2),
            ack_count: Some(5),
        }
    }

    #[test]
    fn alerts_match_by_id_or_endpoints_within_the_slack_and_rank_by_severity() {
        let truth = GroundTruth {
            files: vec!["eve.json".into()],
            alerts: vec![
                alert(1, 1_000, 3, Some("1:c=")),
                alert(2, 5_000, 1, None),
                // Just outside the slack (100) on either side.
                alert(3, 899, 1, Some("1:c=")),
                alert(4, 10_101, 1, None),
                alert(5, 10_100, 2, Some("1:other=")),
                alert(6, 900, 3, None),
            ],
            ..Default::default()
        };
        let joiner = Joiner::new(&truth, JoinOptions { slack_ns: 100, ..Default::default() });
        let mut matches = Vec::new();
        joiner.matches(&conn(1_000, 10_000), &mut matches);
        assert_eq!(matches, [Match::Alert(1), Match::Alert(5), Match::Alert(0)]);
        let mut out = Labelled::default();
        assert!(joiner.label(&conn(1_000, 10_000), &matches, &mut out));
        assert_eq!(out.label, "cat 2");
        assert_eq!(out.source, "eve");
        assert_eq!(out.detail, "eve:2|eve:6|eve:1");
        assert!(out.conflict);
        assert_eq!(out.labels, ["cat 2", "cat 6", "cat 1"]);
    }

    #[test]
    fn windows_match_parties_ports_and_protocol() {
        let mut w = window("DoS", 0, 100);
        w.attackers = vec![Net::parse("10.0.0.1").unwrap()];
        w.victims = vec![Net::parse("10.0.0.0/24").unwrap()];
        let (a, v) = ((ip("10.0.0.1"), 40000), (ip("10.0.0.2"), 80));
        assert!(window_matches(&w, Some(6), a, v) && window_matches(&w, Some(6), v, a));
        w.proto = Some(17);
        assert!(!window_matches(&w, Some(6), a, v));
        w.proto = Some(6);
        let mut ports = PortSet::default();
        ports.add("443").unwrap();
        w.ports = Some(ports.clone());
        assert!(!window_matches(&w, Some(6), a, v));
        ports.add("80").unwrap();
        w.ports = Some(ports);
        assert!(window_matches(&w, Some(6), v, a));
        // A third party is not matched, unless all victim traffic counts.
        let third = (ip("192.0.2.9"), 5555);
        assert!(!window_matches(&w, Some(6), third, v));
        w.all_victim_traffic = true;
        assert!(window_matches(&w, Some(6), third, v));
        let mut s = window("Scan", 0, 100);
        s.ips = vec![Net::parse("192.0.2.9").unwrap()];
        assert!(window_matches(&s, Some(17), third, a) && window_matches(&s, Some(17), a, third));
        assert!(!window_matches(&s, Some(17), a, v));
    }

    #[test]
    fn overlapping_windows_and_precedence_of_sources() {
        let mut early = window("Early", 0, 5_000);
        early.ips = vec![Net::parse("10.0.0.0/8").unwrap()];
        early.category = "dos".into();
        let mut late = window("La|te", 2_000, 20_000);
        late.victims = vec![Net::parse("10.0.0.2").unwrap()];
        late.line = 2;
        let outside = window("Outside", 10_001, 20_000);
        let truth = GroundTruth {
            files: vec!["s.yaml".into(), "eve.json".into()],
            alerts: vec![Alert { file: 1, ..alert(7, 3_000, NO_SEVERITY, Some("1:c=")) }],
            windows: vec![late, outside, early],
            ..Default::default()
        };
        let mut matches = Vec::new();
        let mut out = Labelled::default();
        let joiner = Joiner::new(&truth, JoinOptions::default());
        joiner.matches(&conn(1_000, 10_000), &mut matches);
        assert_eq!(matches, [Match::Alert(0), Match::Window(2), Match::Window(0)]);
        joiner.label(&conn(1_000, 10_000), &matches, &mut out);
        assert_eq!(
            (out.label.as_str(), out.source, out.detail.as_str()),
            ("cat 7", "eve", r"eve:7|attacks:Early|attacks:La\|te")
        );
        let joiner =
            Joiner::new(&truth, JoinOptions { prefer_attacks: true, label_by: LabelBy::Name, ..Default::default() });
        joiner.matches(&conn(1_000, 10_000), &mut matches);
        assert_eq!(matches, [Match::Window(2), Match::Window(0), Match::Alert(0)]);
        joiner.label(&conn(1_000, 10_000), &matches, &mut out);
        assert_eq!((out.label.as_str(), out.source), ("Early", "attacks"));
        assert_eq!(out.labels, ["Early", "La|te", "sig 7"]);
    }

    #[test]
    fn attempted_connections() {
        let c = conn(0, 1);
        assert!(!attempted(&c));
        assert!(attempted(&Conn { payload_bytes: Some(0), ..c }));
        assert!(attempted(&Conn { conn_state: "S0", ..c }));
        assert!(attempted(&Conn { conn_state: "REJ", ..c }));
        assert!(!attempted(&Conn { conn_state: "OTH", ..c }));
        assert!(attempted(&Conn { conn_state: "", syn_count: Some(1), ..c }));
        assert!(!attempted(&Conn { conn_state: "", syn_count: Some(0), ..c }));
        assert!(!attempted(&Conn { conn_state: "", proto: Some(17), syn_count: Some(1), ..c }));
        let truth = GroundTruth { alerts: vec![alert(1, 0, 1, Some("1:c="))], ..Default::default() };
        let joiner = Joiner::new(&truth, JoinOptions { attempted: true, ..Default::default() });
        let mut matches = Vec::new();
        let mut out = Labelled::default();
        let c = Conn { conn_state: "S0", ..c };
        joiner.matches(&c, &mut matches);
        joiner.label(&c, &matches, &mut out);
        assert_eq!(out.label, "cat 1 - Attempted");
        assert!(out.attempted);
    }
}
