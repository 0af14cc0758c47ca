//! Ground truth as the labeller uses it: IDS alerts (points in time on a
//! conversation) and attack windows (spans of time between parties).

use crate::net::{Net, PortSet};
use std::net::IpAddr;
use std::path::PathBuf;

/// Where a match came from; the `label_source` column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    Eve,
    Fast,
    Attacks,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Eve => "eve",
            Source::Fast => "fast",
            Source::Attacks => "attacks",
        }
    }
}

/// Severity given to alerts that state none: after every real one
/// (Suricata's range is 1 to 255, 1 the most severe).
pub const NO_SEVERITY: u32 = u32::MAX;

/// One IDS alert.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    pub source: Source,
    /// Index into [`GroundTruth::files`].
    pub file: usize,
    /// Line in that file, from 1.
    pub line: u64,
    /// The alert's time, Unix ns.
    pub time_ns: i64,
    pub gid: u32,
    pub signature_id: u64,
    pub rev: u32,
    pub signature: String,
    pub category: String,
    /// Suricata's severity (eve) or priority (fast.log): 1 is the most
    /// severe; [`NO_SEVERITY`] if the alert gives none.
    pub severity: u32,
    pub flow_id: Option<u64>,
    pub community_id: Option<String>,
    pub proto: Option<u8>,
    pub src: Option<(IpAddr, u16)>,
    pub dst: Option<(IpAddr, u16)>,
}

/// One attack of a schedule: a time window and the parties.
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    pub file: usize,
    /// Line (flow label files) or entry number (YAML schedules), from 1.
    pub line: u64,
    pub name: String,
    pub category: String,
    pub start_ns: i64,
    pub end_ns: i64,
    pub attackers: Vec<Net>,
    pub victims: Vec<Net>,
    /// Addresses all of whose traffic in the window counts, on either side.
    pub ips: Vec<Net>,
    pub proto: Option<u8>,
    /// The victims' (service) ports; for `ips`, a port on either side.
    pub ports: Option<PortSet>,
    pub attacker_ports: Option<PortSet>,
    /// Every connection of a victim in the window counts, whoever the peer.
    pub all_victim_traffic: bool,
}

/// Everything read from the ground-truth files.
#[derive(Debug, Default)]
pub struct GroundTruth {
    pub files: Vec<PathBuf>,
    pub alerts: Vec<Alert>,
    pub windows: Vec<Window>,
    /// Alerts whose community ID came from their flow's eve `flow` event.
    pub ids_from_flow_events: u64,
}
