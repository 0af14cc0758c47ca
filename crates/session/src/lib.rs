//! The session stage: every piece of state that spans packets, kept per
//! flow shard.
//!
//! Packets reach this stage after decoding, on flow-affine shard threads
//! (crates/capture's session stage): both directions of a conversation hash
//! to the same one of [`netcap_flow::SHARDS`] shards, and a shard sees its
//! packets in capture order. A [`Shard`] holds the connection table
//! ([`netcap_flow::FlowTable`]) and the analyzers that hang off it:
//!
//! - TCP reassembly per direction ([`reassembly`]), feeding the stream
//!   protocols of the protocol table ([`protocols::PROTOCOLS`]): HTTP/1.x
//!   transactions, TLS handshakes, and the files they carry ([`files`]);
//! - QUIC client Initials followed across datagrams ([`quic`]).
//!
//! Analyzers share one small interface ([`Analyzer`]): observe a packet's
//! summary and payload, hear that a connection ended, expire, finish. Their
//! records go to an [`Emitter`] that tags each with an order key, so the
//! capture's writer can merge the shards' records into the same order
//! whatever the number of threads (docs/streams.md).

pub mod emit;
pub mod files;
pub mod protocols;
pub mod quic;
pub mod reassembly;
mod shard;
pub mod tcp;

pub use emit::{ConnRecord, EmittedRecords, Emitter, OrderKey};
pub use protocols::ftp::data::{FtpDataCounters, FtpDataEvent, MatchConfig, Matcher};
pub use protocols::{Direction, PROTOCOLS, ParseContext, Parsed, Probe, Protocol, StreamParser};
pub use quic::QuicCounters;
pub use shard::{Analyzer, SessionConfig, SessionPacket, Shard};
pub use tcp::{StreamConfig, StreamCounters};

use std::net::IpAddr;

/// When and where (frame) a packet was captured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketTime {
    pub timestamp_ns: i64,
    pub frame: u64,
}

/// What records of a connection carry about it: its endpoints, its first
/// packet and its Community ID.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub client_ip: IpAddr,
    pub client_port: u16,
    pub server_ip: IpAddr,
    pub server_port: u16,
    /// The connection's first packet (the Connection record's `frame`).
    pub first: PacketTime,
    /// Community ID v1 of the conversation, client to server.
    pub community_id: String,
}

impl ConnInfo {
    /// Sender and receiver of data flowing in `dir`: (ip, port) pairs.
    pub fn endpoints(&self, dir: Direction) -> ((IpAddr, u16), (IpAddr, u16)) {
        let client = (self.client_ip, self.client_port);
        let server = (self.server_ip, self.server_port);
        match dir {
            Direction::ToServer => (client, server),
            Direction::ToClient => (server, client),
        }
    }
}

/// What the session stage learned about a connection, for its Connection
/// record: stream parsers fill the application-level part
/// ([`StreamParser::facts`]), TCP reassembly the rest.
pub use netcap_flow::ConnectionExtras;
