//! Flow tracking: Connection records (bidirectional, the initiator is the
//! client) and Flow records (one direction) from the decoder's
//! [`PacketSummary`]s.
//!
//! State is bounded and sharded. [`shard_of`] maps a packet to one of
//! [`SHARDS`] logical shards by a symmetric hash of its 5-tuple, so both
//! directions of a conversation reach the same shard; each shard is one
//! [`FlowTable`] fed its packets in capture order, which needs no lock and
//! gives the same records for any number of threads. Timeouts run on packet
//! time, so reading a file gives the same result at any speed. See
//! docs/flows.md for the definitions.
//!
//! ```
//! use netcap_flow::{FlowConfig, FlowTable, SHARDS, shard_of};
//! # let batch: Vec<netcap_decoder::PacketSummary> = Vec::new();
//! let config = FlowConfig::default();
//! let mut tables: Vec<FlowTable> = (0..SHARDS).map(|_| FlowTable::new(&config)).collect();
//! let mut ended = Vec::new();
//! for s in &batch {
//!     if let Some(shard) = shard_of(s, SHARDS) {
//!         tables[shard].observe(s, &mut ended);
//!     }
//! }
//! if let Some(last) = batch.last() {
//!     tables.iter_mut().for_each(|t| t.expire(last.timestamp_ns, &mut ended));
//! }
//! ended.sort_by_key(|e| e.sort_key());
//! let (mut connection, mut flow) = (Default::default(), Default::default());
//! for e in &ended {
//!     e.fill_connection(&mut connection);
//!     for from_client in [true, false] {
//!         if e.fill_flow(from_client, &mut flow) { /* write flow */ }
//!     }
//! }
//! ```

mod conn;
mod encode;
mod key;
mod names;
mod record;
mod stats;
mod table;

pub use conn::FlowPacket;
pub use key::{FlowKey, SHARDS, packet_key, shard_of, shard_of_key};
pub use names::{application_protocol, port_name, transport_protocol};
pub use netcap_decoder::PacketSummary;
pub use netcap_records::TerminationReason;
pub use table::FlowTable;

use std::time::Duration;

/// Flow tracking settings. Defaults: see [`FlowConfig::default`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConfig {
    /// A connection with no packet for this long (capture time) ends.
    pub idle_timeout: Duration,
    /// A connection older than this is cut into consecutive records.
    pub active_timeout: Duration,
    /// After a RST, or FIN from both sides, packets of the connection
    /// arriving within this much time of its last one still count in it
    /// (final ACKs, retransmitted FINs); then it is emitted. A SYN ends the
    /// linger at once and starts a new connection.
    pub close_linger: Duration,
    /// Connections tracked at most, over all shards (each of the
    /// [`SHARDS`] tables holds `max_flows / SHARDS`). When a table is full
    /// its oldest idle connection is evicted.
    pub max_flows: usize,
    /// Keep the first N packets' sizes, gaps and windows in the records.
    pub sequences: usize,
}

impl Default for FlowConfig {
    /// Idle timeout 120 s (CICFlowMeter's flow timeout; Zeek uses 60 s for
    /// UDP and ICMP and 300 s for TCP), active timeout 30 min (NetFlow and
    /// IPFIX exporters' usual default), close linger 5 s (Zeek's
    /// tcp_close_delay and tcp_reset_delay), 262,144 flows (about
    /// 160 MB at most, see [`FlowConfig::memory_bound_bytes`]), no sequences.
    fn default() -> Self {
        FlowConfig {
            idle_timeout: Duration::from_secs(120),
            active_timeout: Duration::from_secs(30 * 60),
            close_linger: Duration::from_secs(5),
            max_flows: 1 << 18,
            sequences: 0,
        }
    }
}

impl FlowConfig {
    /// Connections one shard's table holds at most.
    pub fn table_capacity(&self) -> usize {
        (self.max_flows / SHARDS).max(1)
    }

    /// Bytes the [`SHARDS`] tables can hold at most: per tracked connection
    /// its fixed-size state, its hash-table share and, with sequences, 16
    /// bytes per kept packet. Ended connections waiting to be written are the
    /// caller's.
    pub fn memory_bound_bytes(&self) -> usize {
        let per_connection = table::bytes_per_connection() + self.sequences * std::mem::size_of::<conn::SeqEntry>();
        SHARDS * self.table_capacity() * per_connection
    }
}

/// What the flow tables did; summed over shards with [`FlowCounters::merge`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowCounters {
    /// Packets observed.
    pub packets: u64,
    /// Packets that belong to no flow (not IP).
    pub ignored: u64,
    /// Connection records started.
    pub created: u64,
    /// Connection records ended, indexed by [`TerminationReason`] value.
    pub ended: [u64; 7],
    /// Connections evicted to stay within the bound (also counted in
    /// `ended[Evicted]`).
    pub evicted: u64,
    /// Connections tracked now.
    pub current: u64,
    /// Most connections tracked at once (per table; summed over shards it is
    /// an upper bound of the true peak).
    pub peak: u64,
}

impl FlowCounters {
    pub fn merge(&mut self, o: &FlowCounters) {
        self.packets += o.packets;
        self.ignored += o.ignored;
        self.created += o.created;
        for (a, b) in self.ended.iter_mut().zip(o.ended) {
            *a += b;
        }
        self.evicted += o.evicted;
        self.current += o.current;
        self.peak += o.peak;
    }

    pub fn ended_by(&self, reason: TerminationReason) -> u64 {
        self.ended.get(reason as usize).copied().unwrap_or(0)
    }
}

/// What the session stage adds to a connection's record: TCP reassembly's
/// counts and state, and what stream protocols learned (fields of the same
/// names in the Connection record). Empty for connections the session stage
/// did not follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectionExtras {
    /// Stream protocol decided by content (a protocol table name); the
    /// record falls back to the server port's name without one.
    pub application_protocol: Option<&'static str>,
    /// Zeek's conn_state; empty: computed from the packet counts (UDP,
    /// ICMP and other protocols).
    pub conn_state: &'static str,
    /// Zeek's history; empty: computed from the packet counts.
    pub history: String,
    /// Per direction, client first.
    pub missed_bytes: [u64; 2],
    pub retransmissions: [u64; 2],
    pub depth_exceeded_bytes: [u64; 2],
    pub overlaps_different_data: u64,
    pub tls_version: u32,
    pub tls_cipher: u32,
    pub tls_server_name: String,
    pub tls_established: bool,
    pub tls_resumed: bool,
    /// The software each side named (SSH identification, HTTP User-Agents
    /// and Servers, a server's greeting): distinct values, at most
    /// [`MAX_SOFTWARE_PER_SIDE`], each at most [`MAX_SOFTWARE_BYTES`].
    pub client_software: Vec<String>,
    pub server_software: Vec<String>,
}

/// Longest software string kept in a Connection record (longer ones are
/// cut at a character boundary).
pub const MAX_SOFTWARE_BYTES: usize = 255;
/// Software strings kept per side of a connection.
pub const MAX_SOFTWARE_PER_SIDE: usize = 4;

/// A connection that has ended: turn it into records with
/// [`EndedConnection::fill_connection`] and [`EndedConnection::fill_flow`].
#[derive(Debug, Clone)]
pub struct EndedConnection {
    conn: conn::Conn,
    reason: TerminationReason,
    /// The table slot the connection had (the session stage keeps its
    /// per-connection state by slot).
    slot: u32,
    /// What the session stage adds (boxed: most connections have none, and
    /// ended connections are moved around in vectors).
    pub extras: Option<Box<ConnectionExtras>>,
}

/// The connection a packet joined ([`FlowTable::observe_keyed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    /// Its table slot: unique among the table's open connections (a slot is
    /// reused once its connection has ended).
    pub slot: u32,
    /// Its first packet's frame and time.
    pub first_frame: u64,
    pub first_ts: i64,
    /// The packet was sent by the connection's client.
    pub from_client: bool,
    /// Endpoint `a` of the key is the client.
    pub client_is_a: bool,
    /// The connection's first packet was sent by its server (the client was
    /// decided from a later SYN, or from ports): Zeek's '^'.
    pub flipped: bool,
}

#[cfg(test)]
mod tests;
