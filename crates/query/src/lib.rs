//! Top-talker queries over netcap `Connection` records, in the manner of
//! goProbe's goQuery: filter connections with a condition
//! (`dport = 443 and not sip = 10.0.0.0/8`) and a time range, group them by
//! any of sip, dip, sport, dport, proto and app, and rank the groups by
//! bytes or packets, per direction.
//!
//! Directions: a connection's client (`sip`) is its initiator. "out" is what
//! the client sent (`client_packets`, `client_bytes`), "in" what it received
//! from the server (`server_packets`, `server_bytes`); docs/query.md.

mod attr;
mod condition;
mod engine;
mod frames;
mod groups;
mod record;
pub mod render;
mod time;

pub use attr::{Attribute, AttributeError, ip_protocol_name, ip_protocol_number};
pub use condition::{Condition, Fields, IpValue, Metric, Op, ParseError, ParseErrorKind, Side, Test};
pub use engine::{Counters, QueryError, QueryResult, Row, collect_inputs, run, run_readers, run_views};
pub use record::{ConnectionView, DecodeError};
pub use time::{TimeError, format_rfc3339, format_time, parse_time};

/// What to rank groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Bytes in both directions (goQuery's default).
    #[default]
    Bytes,
    /// Packets in both directions.
    Packets,
    /// Number of connections.
    Connections,
}

impl SortBy {
    pub fn parse(text: &str) -> Option<SortBy> {
        match text.to_ascii_lowercase().as_str() {
            "bytes" | "data" => Some(SortBy::Bytes),
            "packets" => Some(SortBy::Packets),
            "connections" | "conns" => Some(SortBy::Connections),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SortBy::Bytes => "bytes",
            SortBy::Packets => "packets",
            SortBy::Connections => "connections",
        }
    }
}

/// A query: what to keep, how to group, how to rank.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Attributes to group by, in column order (at least one).
    pub group: Vec<Attribute>,
    pub condition: Option<Condition>,
    /// Keep connections active at or after this time (Unix ns): those whose
    /// last packet is not before it.
    pub first_ns: Option<i64>,
    /// Keep connections active at or before this time (Unix ns): those whose
    /// first packet is not after it.
    pub last_ns: Option<i64>,
    pub sort: SortBy,
    /// Smallest first instead of largest first.
    pub ascending: bool,
    /// Rows to keep after sorting (`None`: all).
    pub limit: Option<usize>,
}
