//! Checks a batch before a collector stores it: collectors store agents'
//! frames verbatim, so a frame must be exactly one zstd frame whose records
//! decode as the batch's record type and number what the batch says.
//!
//! Records are checked against the schema on the protobuf wire format
//! (field wire types, lengths, UTF-8 strings, nested messages) instead of
//! being decoded into structs: this accepts and rejects what prost's
//! decoding would, at a fraction of the cost, for any record type.

use crate::{BatchRef, MAX_BATCH_CONTENT};
use netcap_records::RecordType;
use netcap_records::varint::decode as varint;
use prost_reflect::{Kind, MessageDescriptor};
use std::collections::HashMap;

/// Why a batch was rejected.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidBatch {
    #[error("frame is not exactly one zstd frame")]
    NotOneFrame,
    #[error("zstd frame does not declare its content size")]
    UnknownSize,
    #[error("zstd frame content of {0} bytes exceeds the limit")]
    TooLarge(u64),
    #[error("zstd frame does not decompress: {0}")]
    Decompress(String),
    #[error("record {0} does not decode: {1}")]
    Record(u64, &'static str),
    #[error("batch says {said} records, the frame holds {found}")]
    Count { said: u64, found: u64 },
    #[error("header: {0}")]
    Header(String),
}

/// What the wire format of a field must be.
#[derive(Clone, Copy)]
enum Rule {
    Varint,
    Fixed32,
    Fixed64,
    Bytes,
    Utf8,
    /// A nested message: index into [`Validator::messages`].
    Message(usize),
    /// A repeated scalar: packed (bytes of `unit`) or unpacked.
    Packed(Unit),
}

#[derive(Clone, Copy)]
enum Unit {
    Varint,
    Fixed32,
    Fixed64,
}

/// Field rules of one message, indexed by field number.
struct Rules {
    fields: Vec<Option<Rule>>,
}

/// Reusable batch checker (one per connection or worker).
pub struct Validator {
    decompressor: zstd::bulk::Decompressor<'static>,
    content: Vec<u8>,
    messages: Vec<Rules>,
    by_name: HashMap<String, usize>,
    roots: Vec<Option<usize>>,
}

const MAX_DEPTH: u32 = 32;
/// Longest record readers accept (netcap-records' reader limit, which it
/// does not export): a longer one would make the stored file unreadable.
const MAX_RECORD_LEN: u64 = 64 << 20;
const ZSTD_MAGIC: [u8; 4] = 0xFD2F_B528u32.to_le_bytes();

impl Validator {
    pub fn new() -> std::io::Result<Self> {
        let mut v = Validator {
            decompressor: zstd::bulk::Decompressor::new()?,
            content: Vec::new(),
            messages: Vec::new(),
            by_name: HashMap::new(),
            roots: Vec::new(),
        };
        for record_type in RecordType::all() {
            let root = record_type.descriptor().map(|d| v.rules_for(d));
            v.roots.push(root);
        }
        Ok(v)
    }

    fn rules_for(&mut self, desc: &MessageDescriptor) -> usize {
        if let Some(&i) = self.by_name.get(desc.full_name()) {
            return i;
        }
        let index = self.messages.len();
        self.by_name.insert(desc.full_name().to_string(), index);
        self.messages.push(Rules { fields: Vec::new() });
        let mut fields = Vec::new();
        for field in desc.fields() {
            let number = field.number() as usize;
            // Field numbers of the schema are small; anything above this
            // table is treated as an unknown field, which is legal.
            if number > 4096 {
                continue;
            }
            let scalar = |unit| if field.is_list() { Rule::Packed(unit) } else { scalar_rule(unit) };
            let rule = match field.kind() {
                Kind::Double | Kind::Fixed64 | Kind::Sfixed64 => scalar(Unit::Fixed64),
                Kind::Float | Kind::Fixed32 | Kind::Sfixed32 => scalar(Unit::Fixed32),
                Kind::Int32
                | Kind::Int64
                | Kind::Uint32
                | Kind::Uint64
                | Kind::Sint32
                | Kind::Sint64
                | Kind::Bool
                | Kind::Enum(_) => scalar(Unit::Varint),
                Kind::String => Rule::Utf8,
                Kind::Bytes => Rule::Bytes,
                Kind::Message(nested) => Rule::Message(self.rules_for(&nested)),
            };
            if fields.len() <= number {
                fields.resize(number + 1, None);
            }
            fields[number] = Some(rule);
        }
        self.messages[index].fields = fields;
        index
    }

    /// Checks `batch` completely; on success its frame may be stored.
    pub fn check(&mut self, batch: &BatchRef<'_>) -> Result<(), InvalidBatch> {
        batch.decode_header().map_err(|e| InvalidBatch::Header(e.to_string()))?;
        let frame = batch.frame;
        if frame.get(..4) != Some(&ZSTD_MAGIC[..]) {
            return Err(InvalidBatch::NotOneFrame);
        }
        match zstd::zstd_safe::find_frame_compressed_size(frame) {
            Ok(size) if size == frame.len() => {}
            _ => return Err(InvalidBatch::NotOneFrame),
        }
        let size = match zstd::zstd_safe::get_frame_content_size(frame) {
            Ok(Some(size)) => size,
            _ => return Err(InvalidBatch::UnknownSize),
        };
        if size > MAX_BATCH_CONTENT {
            return Err(InvalidBatch::TooLarge(size));
        }
        self.content.clear();
        self.content.reserve(size as usize);
        self.decompressor
            .decompress_to_buffer(frame, &mut self.content)
            .map_err(|e| InvalidBatch::Decompress(e.to_string()))?;
        let root =
            self.roots.get(batch.record_type.index()).copied().flatten().ok_or(InvalidBatch::Record(0, "no schema"))?;
        let mut rest = self.content.as_slice();
        let mut found = 0u64;
        while !rest.is_empty() {
            found += 1;
            let len = varint(&mut rest).ok_or(InvalidBatch::Record(found, "bad length prefix"))?;
            if len > MAX_RECORD_LEN {
                return Err(InvalidBatch::Record(found, "record longer than 64 MiB"));
            }
            let body = take(&mut rest, len).ok_or(InvalidBatch::Record(found, "length prefix beyond the frame"))?;
            self.message(root, body, 0).map_err(|reason| InvalidBatch::Record(found, reason))?;
        }
        if found != batch.records {
            return Err(InvalidBatch::Count { said: batch.records, found });
        }
        Ok(())
    }

    fn message(&self, index: usize, mut body: &[u8], depth: u32) -> Result<(), &'static str> {
        if depth > MAX_DEPTH {
            return Err("messages nested too deeply");
        }
        let rules = &self.messages[index];
        while !body.is_empty() {
            let key = varint(&mut body).ok_or("bad field key")?;
            let number = key >> 3;
            let wire = key & 7;
            if number == 0 || number > (1 << 29) - 1 {
                return Err("bad field number");
            }
            let rule = rules.fields.get(number as usize).copied().flatten();
            match wire {
                0 => {
                    varint(&mut body).ok_or("bad varint")?;
                    if !matches!(rule, None | Some(Rule::Varint) | Some(Rule::Packed(Unit::Varint))) {
                        return Err("wrong wire type for field");
                    }
                }
                1 => {
                    take(&mut body, 8).ok_or("truncated fixed64")?;
                    if !matches!(rule, None | Some(Rule::Fixed64) | Some(Rule::Packed(Unit::Fixed64))) {
                        return Err("wrong wire type for field");
                    }
                }
                5 => {
                    take(&mut body, 4).ok_or("truncated fixed32")?;
                    if !matches!(rule, None | Some(Rule::Fixed32) | Some(Rule::Packed(Unit::Fixed32))) {
                        return Err("wrong wire type for field");
                    }
                }
                2 => {
                    let len = varint(&mut body).ok_or("bad length")?;
                    let value = take(&mut body, len).ok_or("length beyond the record")?;
                    match rule {
                        None | Some(Rule::Bytes) => {}
                        Some(Rule::Utf8) => {
                            std::str::from_utf8(value).map_err(|_| "string is not UTF-8")?;
                        }
                        Some(Rule::Message(nested)) => self.message(nested, value, depth + 1)?,
                        Some(Rule::Packed(Unit::Varint)) => {
                            let mut v = value;
                            while !v.is_empty() {
                                varint(&mut v).ok_or("bad packed varint")?;
                            }
                        }
                        Some(Rule::Packed(Unit::Fixed32)) if value.len() % 4 == 0 => {}
                        Some(Rule::Packed(Unit::Fixed64)) if value.len() % 8 == 0 => {}
                        Some(_) => return Err("wrong wire type for field"),
                    }
                }
                _ => return Err("unsupported wire type"),
            }
        }
        Ok(())
    }
}

fn scalar_rule(unit: Unit) -> Rule {
    match unit {
        Unit::Varint => Rule::Varint,
        Unit::Fixed32 => Rule::Fixed32,
        Unit::Fixed64 => Rule::Fixed64,
    }
}

fn take<'a>(buf: &mut &'a [u8], len: u64) -> Option<&'a [u8]> {
    let len = usize::try_from(len).ok()?;
    if buf.len() < len {
        return None;
    }
    let (head, tail) = buf.split_at(len);
    *buf = tail;
    Some(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::{Error, FrameCompressor, Header, Ipv4, Ipv4Option, Tcp};
    use prost::Message;

    fn batch_of(records: &[u8], record_type: RecordType) -> (Vec<u8>, Vec<u8>) {
        let frame = FrameCompressor::new(1).unwrap().compress(records).unwrap();
        let header = Header { record_type: record_type as i32, ..Default::default() }.encode_to_vec();
        (header, frame)
    }

    fn check(records: &[u8], count: u64, record_type: RecordType) -> Result<(), InvalidBatch> {
        let (header, frame) = batch_of(records, record_type);
        let batch = BatchRef { session: [0; 16], seq: 1, record_type, records: count, header: &header, frame: &frame };
        Validator::new().unwrap().check(&batch)
    }

    #[test]
    fn real_records_pass_and_damaged_ones_fail() {
        let mut buf = Vec::new();
        for i in 0..10 {
            Tcp { frame: i, src_port: 80, src_ip: "10.0.0.1".into(), ..Default::default() }
                .encode_length_delimited(&mut buf)
                .unwrap();
        }
        let ip = Ipv4 { frame: 1, options: vec![Ipv4Option { r#type: 7, ..Default::default() }], ..Default::default() };
        let mut ip_buf = Vec::new();
        ip.encode_length_delimited(&mut ip_buf).unwrap();
        assert_eq!(check(&ip_buf, 1, RecordType::Ipv4), Ok(()));
        assert_eq!(check(&buf, 10, RecordType::Tcp), Ok(()));
        assert_eq!(check(&buf, 9, RecordType::Tcp), Err(InvalidBatch::Count { said: 9, found: 10 }));
        // A string field (Error.reason) with invalid UTF-8.
        let bad = Error { reason: "AAAA".into(), ..Default::default() };
        let mut bad_buf = Vec::new();
        bad.encode_length_delimited(&mut bad_buf).unwrap();
        assert_eq!(check(&bad_buf, 1, RecordType::Error), Ok(()));
        let pos = bad_buf.windows(4).position(|w| w == b"AAAA").unwrap();
        bad_buf[pos] = 0xff;
        assert_eq!(check(&bad_buf, 1, RecordType::Error), Err(InvalidBatch::Record(1, "string is not UTF-8")));
        // A fixed64 field (timestamp_ns) sent as a varint.
        let wrong_wire = [2u8, 0x08, 0x01];
        assert_eq!(check(&wrong_wire, 1, RecordType::Tcp), Err(InvalidBatch::Record(1, "wrong wire type for field")));
        // Garbage and truncation never panic.
        for cut in 0..buf.len() {
            let _ = check(&buf[..cut], 10, RecordType::Tcp);
        }
        let mut garbage = buf.clone();
        for (i, b) in garbage.iter_mut().enumerate() {
            *b = b.wrapping_mul(31).wrapping_add(i as u8);
        }
        assert!(check(&garbage, 10, RecordType::Tcp).is_err());
        // Two frames, or a frame with extra bytes, are not one frame.
        let (header, mut frame) = batch_of(&buf, RecordType::Tcp);
        frame.extend_from_slice(&frame.clone());
        let batch = BatchRef {
            session: [0; 16],
            seq: 1,
            record_type: RecordType::Tcp,
            records: 10,
            header: &header,
            frame: &frame,
        };
        assert_eq!(Validator::new().unwrap().check(&batch), Err(InvalidBatch::NotOneFrame));
    }

    #[test]
    fn varints_past_64_bits_are_refused_as_prost_refuses_them() {
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&mut &max[..]), Some(u64::MAX));
        let mut over = max;
        over[9] = 0x7f;
        assert_eq!(varint(&mut &over[..]), None);
        assert!(prost::encoding::decode_varint(&mut &over[..]).is_err());
    }

    /// The fuzz target's seeds hold batches the validator accepts, so that
    /// fuzzing starts from inputs that reach the storing checks.
    #[test]
    fn fuzz_seed_batches_are_valid() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/wire_frame");
        let mut batches = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let data = std::fs::read(entry.unwrap().path()).unwrap();
            let mut rest = data.as_slice();
            while let Some(prefix) = rest.get(..4) {
                let len = crate::check_len(u32::from_be_bytes(prefix.try_into().unwrap())).unwrap();
                let body = &rest[4..4 + len];
                rest = &rest[4 + len..];
                if let crate::Message::Batch(batch) = crate::Message::decode(body).unwrap() {
                    Validator::new().unwrap().check(&batch).unwrap();
                    batches += 1;
                }
            }
        }
        assert_eq!(batches, 3);
    }
}
