//! The agent–collector protocol (docs/distributed.md, "Wire protocol").
//!
//! After the TLS handshake both sides exchange length-prefixed messages: a
//! 4-byte big-endian body length (at most [`MAX_MESSAGE_LEN`], checked before
//! any allocation), then the body, whose first byte is the message kind. A
//! [`Batch`] carries one zstd frame of length-delimited records of one type,
//! exactly as `netcap capture` writes it to a file, with the stream header,
//! the record count and its place in the agent's stream: a random session id
//! per agent run and a sequence number that grows by one per batch. The
//! collector answers with cumulative [`Message::Ack`]s once batches are on
//! stable storage, so an agent knows what it may forget, and a batch resent
//! after a reconnect is recognised by `(session, seq)`.
//!
//! This is its own crate because both the agent and the collector need it,
//! and neither should depend on the other's I/O machinery; it is also small
//! enough to fuzz as a whole.

#[cfg(feature = "tls")]
pub mod certs;
#[cfg(feature = "nats")]
pub mod nats;
#[cfg(feature = "tls")]
pub mod tls;
pub mod validate;

use netcap_records::{Header, RecordType};
use prost::Message as _;

/// Protocol version spoken by this build.
pub const PROTOCOL_VERSION: u16 = 1;
/// First bytes of an agent's hello.
pub const MAGIC: &[u8; 4] = b"NCAP";
/// Longest message body accepted. A capture frame holds at most 4096
/// packets or 4 MiB of packet data, compressed; 32 MiB leaves room for
/// payload-heavy batches while bounding what a peer can make us allocate.
pub const MAX_MESSAGE_LEN: u32 = 32 << 20;
/// Longest decompressed batch accepted (zstd frames declare their size).
pub const MAX_BATCH_CONTENT: u64 = 256 << 20;
/// Longest encoded header accepted inside a batch.
pub const MAX_HEADER_LEN: u32 = 64 << 10;

/// Identifies one run of an agent: batches are numbered within it.
pub type SessionId = [u8; 16];

const KIND_HELLO: u8 = 1;
const KIND_WELCOME: u8 = 2;
const KIND_BATCH: u8 = 3;
const KIND_ACK: u8 = 4;
const KIND_ERROR: u8 = 5;
const KIND_PING: u8 = 6;
const KIND_REJECTED: u8 = 7;

/// Bytes of a batch body before the header: kind, session, seq, type,
/// record count, header length.
const BATCH_FIXED: usize = 1 + 16 + 8 + 4 + 8 + 4;

/// A protocol violation; the connection that sent it is closed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("message of {0} bytes exceeds the limit of {MAX_MESSAGE_LEN}")]
    TooLong(u32),
    #[error("empty message")]
    Empty,
    #[error("unknown message kind {0}")]
    UnknownKind(u8),
    #[error("{0} message is truncated")]
    Truncated(&'static str),
    #[error("{0} message has {1} trailing bytes")]
    Trailing(&'static str, usize),
    #[error("not a netcap agent (bad magic)")]
    BadMagic,
    #[error("unsupported protocol version {0} (this build speaks {PROTOCOL_VERSION})")]
    Version(u16),
    #[error("batch names unknown record type {0}")]
    RecordType(i32),
    #[error("batch header of {0} bytes exceeds the limit of {MAX_HEADER_LEN}")]
    HeaderTooLong(u32),
    #[error("batch header does not decode: {0}")]
    Header(String),
    #[error("batch header is for record type {header}, the batch for {batch}")]
    HeaderMismatch { header: i32, batch: i32 },
    #[error("error message is not UTF-8")]
    Utf8,
}

/// Checks a length prefix before anything is allocated for the body.
pub fn check_len(len: u32) -> Result<usize, WireError> {
    if len == 0 {
        return Err(WireError::Empty);
    }
    if len > MAX_MESSAGE_LEN {
        return Err(WireError::TooLong(len));
    }
    Ok(len as usize)
}

/// One decoded message, borrowing from the received body.
#[derive(Debug, PartialEq)]
pub enum Message<'a> {
    /// Agent → collector, first message: magic and version.
    Hello {
        version: u16,
    },
    /// Collector → agent: the hello was accepted.
    Welcome {
        version: u16,
    },
    Batch(BatchRef<'a>),
    /// Collector → agent: every batch sent on this connection up to and
    /// including `(session, seq)` is on stable storage.
    Ack {
        session: SessionId,
        seq: u64,
    },
    /// Either way: why the sender is closing the connection.
    Error(&'a str),
    /// Agent → collector on an idle connection, so that silence means a
    /// dead peer.
    Ping,
    /// Collector → agent: this batch was not stored because it is invalid
    /// (its records do not decode); everything before it is acknowledged.
    Rejected {
        session: SessionId,
        seq: u64,
        reason: &'a str,
    },
}

/// A batch as received: the frame is not decompressed here.
#[derive(Debug, PartialEq)]
pub struct BatchRef<'a> {
    pub session: SessionId,
    pub seq: u64,
    pub record_type: RecordType,
    pub records: u64,
    /// The stream's header (encoded protobuf, no length prefix).
    pub header: &'a [u8],
    /// One zstd frame of length-delimited records.
    pub frame: &'a [u8],
}

impl BatchRef<'_> {
    /// The decoded header, checked to be for the batch's record type.
    pub fn decode_header(&self) -> Result<Header, WireError> {
        let header = Header::decode(self.header).map_err(|e| WireError::Header(e.to_string()))?;
        if header.record_type != self.record_type as i32 {
            return Err(WireError::HeaderMismatch { header: header.record_type, batch: self.record_type as i32 });
        }
        Ok(header)
    }
}

/// Reads fixed-size fields off the front of a body.
struct Cursor<'a> {
    rest: &'a [u8],
    what: &'static str,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if self.rest.len() < n {
            return Err(WireError::Truncated(self.what));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes(self.array()?))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, WireError> {
        Ok(u64::from_be_bytes(self.array()?))
    }
    fn end(self) -> Result<(), WireError> {
        if self.rest.is_empty() { Ok(()) } else { Err(WireError::Trailing(self.what, self.rest.len())) }
    }
}

impl<'a> Message<'a> {
    /// Decodes a message body (without its length prefix).
    pub fn decode(body: &'a [u8]) -> Result<Self, WireError> {
        let (&kind, rest) = body.split_first().ok_or(WireError::Empty)?;
        let name = match kind {
            KIND_HELLO => "hello",
            KIND_WELCOME => "welcome",
            KIND_BATCH => "batch",
            KIND_ACK => "ack",
            KIND_ERROR => "error",
            KIND_PING => "ping",
            KIND_REJECTED => "rejected",
            other => return Err(WireError::UnknownKind(other)),
        };
        let mut c = Cursor { rest, what: name };
        let message = match kind {
            KIND_HELLO => {
                if &c.array::<4>()? != MAGIC {
                    return Err(WireError::BadMagic);
                }
                let version = c.u16()?;
                if version != PROTOCOL_VERSION {
                    return Err(WireError::Version(version));
                }
                Message::Hello { version }
            }
            KIND_WELCOME => Message::Welcome { version: c.u16()? },
            KIND_BATCH => {
                let session = c.array()?;
                let seq = c.u64()?;
                let type_number = c.u32()? as i32;
                let record_type = match RecordType::try_from(type_number) {
                    Ok(t) if t != RecordType::Unspecified && t.descriptor().is_some() => t,
                    _ => return Err(WireError::RecordType(type_number)),
                };
                let records = c.u64()?;
                let header_len = c.u32()?;
                if header_len > MAX_HEADER_LEN {
                    return Err(WireError::HeaderTooLong(header_len));
                }
                let header = c.take(header_len as usize)?;
                let frame = std::mem::take(&mut c.rest);
                return Ok(Message::Batch(BatchRef { session, seq, record_type, records, header, frame }));
            }
            KIND_ACK => Message::Ack { session: c.array()?, seq: c.u64()? },
            KIND_REJECTED => {
                let (session, seq) = (c.array()?, c.u64()?);
                let reason = std::str::from_utf8(std::mem::take(&mut c.rest)).map_err(|_| WireError::Utf8)?;
                return Ok(Message::Rejected { session, seq, reason });
            }
            KIND_ERROR => {
                let text = std::str::from_utf8(std::mem::take(&mut c.rest)).map_err(|_| WireError::Utf8)?;
                return Ok(Message::Error(text));
            }
            _ => Message::Ping,
        };
        c.end()?;
        Ok(message)
    }
}

/// Appends `body` to `out` with its length prefix.
fn framed(out: &mut Vec<u8>, body: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0; 4]);
    body(out);
    let len = (out.len() - start - 4) as u32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// Encodes a hello, with its length prefix.
pub fn hello() -> Vec<u8> {
    let mut out = Vec::new();
    framed(&mut out, |b| {
        b.push(KIND_HELLO);
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    });
    out
}

/// Encodes a welcome, with its length prefix.
pub fn welcome() -> Vec<u8> {
    let mut out = Vec::new();
    framed(&mut out, |b| {
        b.push(KIND_WELCOME);
        b.extend_from_slice(&PROTOCOL_VERSION.to_be_bytes());
    });
    out
}

/// Encodes an acknowledgement, with its length prefix.
pub fn ack(session: &SessionId, seq: u64) -> Vec<u8> {
    let mut out = Vec::new();
    framed(&mut out, |b| {
        b.push(KIND_ACK);
        b.extend_from_slice(session);
        b.extend_from_slice(&seq.to_be_bytes());
    });
    out
}

/// Encodes an error, with its length prefix.
pub fn error(reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut end = reason.len().min(4096);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    framed(&mut out, |b| {
        b.push(KIND_ERROR);
        b.extend_from_slice(&reason.as_bytes()[..end]);
    });
    out
}

/// Encodes a rejection notice, with its length prefix.
pub fn rejected(session: &SessionId, seq: u64, reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut end = reason.len().min(4096);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    framed(&mut out, |b| {
        b.push(KIND_REJECTED);
        b.extend_from_slice(session);
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&reason.as_bytes()[..end]);
    });
    out
}

/// Encodes a ping, with its length prefix.
pub fn ping() -> Vec<u8> {
    vec![0, 0, 0, 1, KIND_PING]
}

/// Encodes a batch body (no length prefix), the unit an agent keeps until it
/// is acknowledged and publishes to NATS.
pub fn batch_body(
    session: &SessionId,
    seq: u64,
    record_type: RecordType,
    records: u64,
    header: &[u8],
    frame: &[u8],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(BATCH_FIXED + header.len() + frame.len());
    b.push(KIND_BATCH);
    b.extend_from_slice(session);
    b.extend_from_slice(&seq.to_be_bytes());
    b.extend_from_slice(&(record_type as i32 as u32).to_be_bytes());
    b.extend_from_slice(&records.to_be_bytes());
    b.extend_from_slice(&(header.len() as u32).to_be_bytes());
    b.extend_from_slice(header);
    b.extend_from_slice(frame);
    b
}

/// Session and sequence number of an encoded batch body, without decoding
/// the rest (for the agent's queue).
pub fn batch_position(body: &[u8]) -> Option<(SessionId, u64)> {
    if body.first() != Some(&KIND_BATCH) || body.len() < BATCH_FIXED {
        return None;
    }
    let session: SessionId = body.get(1..17)?.try_into().ok()?;
    let seq = u64::from_be_bytes(body.get(17..25)?.try_into().ok()?);
    Some((session, seq))
}

/// Session id as 32 lowercase hex digits (file names, NATS message ids).
pub fn session_hex(session: &SessionId) -> String {
    session.iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses [`session_hex`]'s output.
pub fn parse_session_hex(text: &str) -> Option<SessionId> {
    if text.len() != 32 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Whether `name` may be an agent identity: it becomes a directory name and
/// part of NATS subjects and keys, so letters, digits, `.`, `_` and `-`
/// only, not starting or ending with `.`, at most 64 bytes.
pub fn valid_agent_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && !name.ends_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(framed: &[u8]) -> &[u8] {
        let len = u32::from_be_bytes(framed[..4].try_into().unwrap());
        assert_eq!(len as usize, framed.len() - 4);
        &framed[4..]
    }

    #[test]
    fn messages_round_trip() {
        assert_eq!(Message::decode(body(&hello())).unwrap(), Message::Hello { version: PROTOCOL_VERSION });
        assert_eq!(Message::decode(body(&welcome())).unwrap(), Message::Welcome { version: PROTOCOL_VERSION });
        let s = [7u8; 16];
        assert_eq!(Message::decode(body(&ack(&s, 42))).unwrap(), Message::Ack { session: s, seq: 42 });
        assert_eq!(Message::decode(body(&error("nope"))).unwrap(), Message::Error("nope"));
        assert_eq!(Message::decode(body(&ping())).unwrap(), Message::Ping);
        assert_eq!(
            Message::decode(body(&rejected(&s, 3, "bad"))).unwrap(),
            Message::Rejected { session: s, seq: 3, reason: "bad" }
        );
        let header = Header { record_type: RecordType::Tcp as i32, ..Default::default() }.encode_to_vec();
        let b = batch_body(&s, 9, RecordType::Tcp, 3, &header, b"frame");
        assert_eq!(batch_position(&b), Some((s, 9)));
        let Message::Batch(batch) = Message::decode(&b).unwrap() else { panic!() };
        assert_eq!((batch.seq, batch.record_type, batch.records, batch.frame), (9, RecordType::Tcp, 3, &b"frame"[..]));
        assert_eq!(batch.decode_header().unwrap().record_type, RecordType::Tcp as i32);
        let udp = batch_body(&s, 9, RecordType::Udp, 3, &header, b"frame");
        let Message::Batch(batch) = Message::decode(&udp).unwrap() else { panic!() };
        assert!(matches!(batch.decode_header(), Err(WireError::HeaderMismatch { .. })));
    }

    #[test]
    fn bad_messages_are_errors() {
        assert_eq!(check_len(0), Err(WireError::Empty));
        assert_eq!(check_len(MAX_MESSAGE_LEN + 1), Err(WireError::TooLong(MAX_MESSAGE_LEN + 1)));
        assert_eq!(Message::decode(&[99]), Err(WireError::UnknownKind(99)));
        assert_eq!(Message::decode(&[KIND_HELLO, b'X', b'C', b'A', b'P', 0, 1]), Err(WireError::BadMagic));
        assert_eq!(Message::decode(&[KIND_HELLO, b'N', b'C', b'A', b'P', 0, 9]), Err(WireError::Version(9)));
        assert_eq!(Message::decode(&[KIND_ACK, 1, 2]), Err(WireError::Truncated("ack")));
        let mut b = batch_body(&[0; 16], 1, RecordType::Tcp, 1, b"", b"");
        b[25..29].copy_from_slice(&12345u32.to_be_bytes());
        assert_eq!(Message::decode(&b), Err(WireError::RecordType(12345)));
        // Every prefix of every message decodes or fails, never panics.
        let all = [hello(), welcome(), ack(&[1; 16], 1), error("x"), ping()];
        for m in &all {
            for cut in 0..m.len() {
                let _ = Message::decode(&m[4..cut.max(4)]);
            }
        }
        let b = batch_body(&[0; 16], 1, RecordType::Tcp, 1, b"\x08\x01", b"zz");
        for cut in 0..b.len() {
            let _ = Message::decode(&b[..cut]);
        }
    }

    #[test]
    fn names_and_ids() {
        assert!(valid_agent_name("sensor-01.dc1"));
        for bad in ["", ".hidden", "end.", "a/b", "a..b", "x y", "ü", &"a".repeat(65)] {
            assert!(!valid_agent_name(bad), "{bad}");
        }
        let s = [0xab; 16];
        assert_eq!(parse_session_hex(&session_hex(&s)), Some(s));
        assert_eq!(parse_session_hex("zz"), None);
    }
}
