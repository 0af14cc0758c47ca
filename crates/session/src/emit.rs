//! Where the session stage's records go: encoded at once into per-type
//! buffers, each tagged with an [`OrderKey`] that makes the merged output
//! independent of which thread produced what.
//!
//! A record's key is (trigger, connection, n): the frame of the packet whose
//! processing emitted it (or [`OrderKey::AFTER_PACKETS`] for records a batch
//! boundary's expiry or the end of input emitted), the first frame of its
//! connection (unique per connection record), and its position among the
//! records that packet emitted for that connection. Keys are unique within a
//! batch and do not depend on thread scheduling, so sorting the shards'
//! records of a batch by key gives one order for any number of threads.

use crate::ConnInfo;
use crate::PacketTime;
use crate::protocols::Direction;
use crate::protocols::ftp::data::FtpDataEvent;
use netcap_records::RecordType;
use std::net::IpAddr;

/// The merge order of a record; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct OrderKey {
    pub trigger: u64,
    pub connection: u64,
    pub n: u32,
}

impl OrderKey {
    /// Trigger of records emitted after a batch's packets: by expiry at the
    /// batch boundary, or at the end of the input.
    pub const AFTER_PACKETS: u64 = u64::MAX;
}

/// One record in an [`EmittedRecords`] buffer: its key and byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub key: OrderKey,
    pub start: u32,
    pub end: u32,
}

/// Encoded records of one type, in emission order.
#[derive(Debug, Default)]
pub struct TypeBuffer {
    /// Length-delimited records.
    pub bytes: Vec<u8>,
    pub entries: Vec<Entry>,
}

/// What an emitter collected: one buffer per record type, indexed like
/// [`RecordType::all`], and the events the writer matches across shards.
#[derive(Debug, Default)]
pub struct EmittedRecords {
    pub types: Vec<TypeBuffer>,
    /// FTP data channels, transfers and one-way streams, for the
    /// writer's [`crate::protocols::ftp::data::Matcher`]: not records.
    pub ftp_data: Vec<(OrderKey, FtpDataEvent)>,
}

impl EmittedRecords {
    pub fn is_empty(&self) -> bool {
        self.types.iter().all(|t| t.entries.is_empty()) && self.ftp_data.is_empty()
    }

    /// Records of all types.
    pub fn len(&self) -> usize {
        self.types.iter().map(|t| t.entries.len()).sum()
    }

    /// The buffer of one record type, if it has records.
    pub fn of(&self, record_type: RecordType) -> Option<&TypeBuffer> {
        self.types.get(record_type.index()).filter(|t| !t.entries.is_empty())
    }
}

/// Collects the records of a shard (or a thread's shards) between two
/// hand-overs to the writer.
pub struct Emitter {
    enabled: Vec<bool>,
    /// Passwords are written (`-no-secrets` turns this off).
    secrets: bool,
    out: EmittedRecords,
    trigger: u64,
    connection: u64,
    n: u32,
}

impl Emitter {
    /// An emitter that keeps records of the types `enabled` says (indexed
    /// like [`RecordType::all`]).
    pub fn new(enabled: Vec<bool>) -> Self {
        let types = RecordType::all().map(|_| TypeBuffer::default()).collect();
        Emitter {
            enabled,
            secrets: true,
            out: EmittedRecords { types, ftp_data: Vec::new() },
            trigger: 0,
            connection: 0,
            n: 0,
        }
    }

    /// Leaves passwords out of the records (`-no-secrets`): parsers write
    /// that a password was sent, not what it was.
    pub fn without_secrets(mut self) -> Self {
        self.secrets = false;
        self
    }

    /// Whether passwords and other secrets are written.
    #[inline]
    pub fn secrets(&self) -> bool {
        self.secrets
    }

    /// An emitter that keeps every record type (tests, fuzzing).
    pub fn all() -> Self {
        Emitter::new(vec![true; RecordType::count()])
    }

    /// Whether records of `record_type` are written: parsers skip the work
    /// of filling records nobody wants.
    #[inline]
    pub fn wants(&self, record_type: RecordType) -> bool {
        self.enabled.get(record_type.index()).copied().unwrap_or(false)
    }

    /// Sets the order context: records emitted from now on were triggered
    /// by the packet of frame `trigger` (or [`OrderKey::AFTER_PACKETS`]) and
    /// belong to the connection whose first frame is `connection`.
    pub fn set_context(&mut self, trigger: u64, connection: u64) {
        if (trigger, connection) != (self.trigger, self.connection) {
            self.trigger = trigger;
            self.connection = connection;
            self.n = 0;
        }
    }

    /// Encodes `record` as a record of `record_type` (if that type is
    /// wanted) under the current order context.
    pub fn emit(&mut self, record_type: RecordType, record: &impl prost::Message) {
        if !self.wants(record_type) {
            return;
        }
        let Some(buffer) = self.out.types.get_mut(record_type.index()) else { return };
        let start = buffer.bytes.len();
        // Encoding into a Vec cannot fail.
        let _ = record.encode_length_delimited(&mut buffer.bytes);
        let key = OrderKey { trigger: self.trigger, connection: self.connection, n: self.n };
        self.n = self.n.wrapping_add(1);
        buffer.entries.push(Entry { key, start: start as u32, end: buffer.bytes.len() as u32 });
    }

    /// Hands an FTP data event to the writer's matcher, under the current
    /// order context (keys shared with the records: unique in a batch).
    pub fn emit_ftp_data(&mut self, event: FtpDataEvent) {
        let key = OrderKey { trigger: self.trigger, connection: self.connection, n: self.n };
        self.n = self.n.wrapping_add(1);
        self.out.ftp_data.push((key, event));
    }

    /// FTP data events emitted so far (tests).
    pub fn ftp_data(&self) -> &[(OrderKey, FtpDataEvent)] {
        &self.out.ftp_data
    }

    /// Records emitted since the last call.
    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    /// Takes the records collected so far (the emitter starts empty again).
    pub fn take(&mut self) -> EmittedRecords {
        let types = RecordType::all().map(|_| TypeBuffer::default()).collect();
        std::mem::replace(&mut self.out, EmittedRecords { types, ftp_data: Vec::new() })
    }

    /// Decodes every record of `record_type` emitted so far (tests).
    pub fn decoded<M: prost::Message + Default>(&self, record_type: RecordType) -> Vec<M> {
        let mut out = Vec::new();
        if let Some(buffer) = self.out.types.get(record_type.index()) {
            for e in &buffer.entries {
                let mut bytes = &buffer.bytes[e.start as usize..e.end as usize];
                if let Ok(m) = M::decode_length_delimited(&mut bytes) {
                    out.push(m);
                }
            }
        }
        out
    }
}

/// Records that carry their connection's endpoints, time, frame and
/// Community ID.
pub trait ConnRecord {
    /// Stamps the record with the packet `at` and the connection's
    /// endpoints: `src` is the sender of data flowing in `dir` (for
    /// records of both directions, such as HTTP transactions and files,
    /// pass [`Direction::ToServer`]: src is the client).
    fn set_conn(&mut self, conn: &ConnInfo, at: PacketTime, dir: Direction);
}

fn set_ip(dst: &mut Vec<u8>, ip: IpAddr) {
    dst.clear();
    match ip {
        IpAddr::V4(a) => dst.extend_from_slice(&a.octets()),
        IpAddr::V6(a) => dst.extend_from_slice(&a.octets()),
    }
}

macro_rules! conn_records {
    ($($record:ty),*) => {
        $(impl ConnRecord for $record {
            fn set_conn(&mut self, conn: &ConnInfo, at: PacketTime, dir: Direction) {
                let ((src_ip, src_port), (dst_ip, dst_port)) = conn.endpoints(dir);
                self.timestamp_ns = at.timestamp_ns;
                self.frame = at.frame;
                set_ip(&mut self.src_ip, src_ip);
                set_ip(&mut self.dst_ip, dst_ip);
                self.src_port = u32::from(src_port);
                self.dst_port = u32::from(dst_port);
                self.community_id.clear();
                self.community_id.push_str(&conn.community_id);
            }
        })*
    };
}

use netcap_records as r;
conn_records!(
    r::Http,
    r::File,
    r::TlsClientHello,
    r::TlsServerHello,
    r::TlsCertificate,
    r::QuicInitial,
    r::Ssh,
    r::Ftp,
    r::Credentials,
    r::Pop3,
    r::Imap,
    r::Smtp,
    r::Mail,
    r::Telnet,
    r::Socks,
    r::Kerberos,
    r::Irc,
    r::Rdp
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_restart_per_context_and_skip_unwanted_types() {
        let mut enabled = vec![false; RecordType::count()];
        enabled[RecordType::Http.index()] = true;
        let mut e = Emitter::new(enabled);
        e.set_context(10, 3);
        e.emit(RecordType::Http, &r::Http { trans_depth: 1, ..Default::default() });
        e.emit(RecordType::File, &r::File::default());
        e.emit(RecordType::Http, &r::Http { trans_depth: 2, ..Default::default() });
        e.set_context(OrderKey::AFTER_PACKETS, 3);
        e.emit(RecordType::Http, &r::Http { trans_depth: 3, ..Default::default() });
        let http: Vec<r::Http> = e.decoded(RecordType::Http);
        assert_eq!(http.iter().map(|h| h.trans_depth).collect::<Vec<_>>(), [1, 2, 3]);
        let out = e.take();
        assert!(out.of(RecordType::File).is_none());
        let keys: Vec<_> = out.of(RecordType::Http).unwrap().entries.iter().map(|e| e.key).collect();
        assert_eq!(
            keys,
            [
                OrderKey { trigger: 10, connection: 3, n: 0 },
                OrderKey { trigger: 10, connection: 3, n: 1 },
                OrderKey { trigger: u64::MAX, connection: 3, n: 0 }
            ]
        );
        assert!(e.is_empty());
    }
}
