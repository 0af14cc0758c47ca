//! The fields a join needs, read from a record's protobuf bytes by field
//! number (found by name in the record type's descriptor), so that every
//! record type with these fields is labelled the same way, including types
//! added to the schema later, without decoding whole messages.

use netcap_records::varint::decode as varint;
use prost::encoding::WireType;
use prost_reflect::{Kind, MessageDescriptor};

/// What a field's bytes hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    Varint,
    ZigZag,
    Fixed64,
    Fixed32,
    Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Time,
    Last,
    Frame,
    Proto,
    SrcIp,
    DstIp,
    SrcPort,
    DstPort,
    CommunityId,
    PayloadBytes,
    ConnState,
    SynCount,
    AckCount,
}

const SLOTS: [(Slot, &str); 13] = [
    (Slot::Time, "timestamp_ns"),
    (Slot::Last, "last_timestamp_ns"),
    (Slot::Frame, "frame"),
    (Slot::Proto, "ip_protocol"),
    (Slot::SrcIp, "src_ip"),
    (Slot::DstIp, "dst_ip"),
    (Slot::SrcPort, "src_port"),
    (Slot::DstPort, "dst_port"),
    (Slot::CommunityId, "community_id"),
    (Slot::PayloadBytes, "payload_bytes"),
    (Slot::ConnState, "conn_state"),
    (Slot::SynCount, "syn_count"),
    (Slot::AckCount, "ack_count"),
];

/// Entry of [`JoinLayout`]'s table for fields a join does not read.
const NOT_JOINED: u8 = u8::MAX;
/// Join fields numbered above this are found by search, not in the table.
const MAX_TABLE_NUMBER: u32 = 4096;

/// Where a record type keeps the join fields.
#[derive(Clone, Debug)]
pub struct JoinLayout {
    /// `(field number, slot, coding)`, sorted by number.
    fields: Vec<(u32, Slot, Coding)>,
    /// `by_number[n]` is the index in `fields` of field `n`, or
    /// [`NOT_JOINED`]: one load per field of a record instead of a search
    /// (a linear search over the slots was a tenth of `netcap label`'s
    /// time on Connection records, which have about ninety fields).
    by_number: Vec<u8>,
    pub has_community_id: bool,
    pub has_addresses: bool,
    pub has_last: bool,
}

/// The join fields of one record; absent fields are zero or empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Joined<'a> {
    pub time_ns: i64,
    pub last_ns: Option<i64>,
    pub frame: u64,
    pub proto: Option<u8>,
    pub src_ip: &'a [u8],
    pub dst_ip: &'a [u8],
    pub src_port: u16,
    pub dst_port: u16,
    pub community_id: &'a str,
    pub payload_bytes: Option<u64>,
    pub conn_state: &'a str,
    pub syn_count: Option<u64>,
    pub ack_count: Option<u64>,
}

impl JoinLayout {
    pub fn new(desc: &MessageDescriptor) -> JoinLayout {
        let mut fields = Vec::new();
        for (slot, name) in SLOTS {
            let Some(field) = desc.get_field_by_name(name) else { continue };
            if field.is_list() || field.is_map() {
                continue;
            }
            let coding = match field.kind() {
                Kind::Int32 | Kind::Int64 | Kind::Uint32 | Kind::Uint64 => Coding::Varint,
                Kind::Sint32 | Kind::Sint64 => Coding::ZigZag,
                Kind::Fixed64 | Kind::Sfixed64 => Coding::Fixed64,
                Kind::Fixed32 | Kind::Sfixed32 => Coding::Fixed32,
                Kind::String | Kind::Bytes => Coding::Bytes,
                _ => continue,
            };
            let wanted = match slot {
                Slot::SrcIp | Slot::DstIp | Slot::CommunityId | Slot::ConnState => coding == Coding::Bytes,
                _ => coding != Coding::Bytes,
            };
            if wanted {
                fields.push((field.number(), slot, coding));
            }
        }
        fields.sort_by_key(|f| f.0);
        let has = |s: Slot| fields.iter().any(|f| f.1 == s);
        // Numbers come from the schema (small); one above the table is
        // looked up by search.
        let max = fields.iter().map(|f| f.0).filter(|&n| n <= MAX_TABLE_NUMBER).max().map_or(0, |n| n as usize + 1);
        let mut by_number = vec![NOT_JOINED; max];
        for (i, field) in fields.iter().enumerate() {
            if let Some(entry) = by_number.get_mut(field.0 as usize) {
                *entry = i as u8;
            }
        }
        JoinLayout {
            has_community_id: has(Slot::CommunityId),
            has_addresses: has(Slot::SrcIp) && has(Slot::DstIp),
            has_last: has(Slot::Last),
            fields,
            by_number,
        }
    }

    /// Reads the join fields of the record in `bytes`. `None` if the
    /// bytes are not a well-formed protobuf message.
    pub fn read<'a>(&self, mut bytes: &'a [u8]) -> Option<Joined<'a>> {
        let mut out = Joined::default();
        let buf = &mut bytes;
        while !buf.is_empty() {
            let key = varint(buf)?;
            let number = u32::try_from(key >> 3).ok()?;
            let wire_type = WireType::try_from(key & 7).ok()?;
            let found = match self.by_number.get(number as usize) {
                Some(&NOT_JOINED) => None,
                Some(&i) => self.fields.get(usize::from(i)),
                None if number > MAX_TABLE_NUMBER => self.fields.iter().find(|f| f.0 == number),
                None => None,
            };
            let Some(&(_, slot, coding)) = found else {
                skip(buf, wire_type)?;
                continue;
            };
            let expected = match coding {
                Coding::Varint | Coding::ZigZag => WireType::Varint,
                Coding::Fixed64 => WireType::SixtyFourBit,
                Coding::Fixed32 => WireType::ThirtyTwoBit,
                Coding::Bytes => WireType::LengthDelimited,
            };
            if wire_type != expected {
                return None;
            }
            if coding == Coding::Bytes {
                let data = take(buf)?;
                match slot {
                    Slot::SrcIp => out.src_ip = data,
                    Slot::DstIp => out.dst_ip = data,
                    Slot::CommunityId => out.community_id = std::str::from_utf8(data).ok()?,
                    Slot::ConnState => out.conn_state = std::str::from_utf8(data).ok()?,
                    _ => {}
                }
                continue;
            }
            let value: i64 = match coding {
                Coding::Varint => varint(buf)? as i64,
                Coding::ZigZag => {
                    let v = varint(buf)?;
                    ((v >> 1) as i64) ^ (-((v & 1) as i64))
                }
                Coding::Fixed64 => i64::from_le_bytes(*buf.split_off(..8)?.first_chunk::<8>()?),
                Coding::Fixed32 => i64::from(i32::from_le_bytes(*buf.split_off(..4)?.first_chunk::<4>()?)),
                Coding::Bytes => 0,
            };
            match slot {
                Slot::Time => out.time_ns = value,
                Slot::Last => out.last_ns = Some(value),
                Slot::Frame => out.frame = value as u64,
                Slot::Proto => out.proto = u8::try_from(value).ok(),
                Slot::SrcPort => out.src_port = u16::try_from(value).unwrap_or(0),
                Slot::DstPort => out.dst_port = u16::try_from(value).unwrap_or(0),
                Slot::PayloadBytes => out.payload_bytes = Some(value as u64),
                Slot::SynCount => out.syn_count = Some(value as u64),
                Slot::AckCount => out.ack_count = Some(value as u64),
                _ => {}
            }
        }
        // proto3 leaves zero values out: a record type with these fields has
        // them, zero or not.
        for &(_, slot, _) in &self.fields {
            match slot {
                Slot::Last if out.last_ns.is_none() => out.last_ns = Some(0),
                Slot::Proto if out.proto.is_none() => out.proto = Some(0),
                Slot::PayloadBytes if out.payload_bytes.is_none() => out.payload_bytes = Some(0),
                Slot::SynCount if out.syn_count.is_none() => out.syn_count = Some(0),
                Slot::AckCount if out.ack_count.is_none() => out.ack_count = Some(0),
                _ => {}
            }
        }
        Some(out)
    }
}

fn take<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = usize::try_from(varint(buf)?).ok()?;
    buf.split_off(..len)
}

fn skip(buf: &mut &[u8], wire_type: WireType) -> Option<()> {
    match wire_type {
        WireType::Varint => varint(buf).map(|_| ()),
        WireType::SixtyFourBit => buf.split_off(..8).map(|_| ()),
        WireType::ThirtyTwoBit => buf.split_off(..4).map(|_| ()),
        WireType::LengthDelimited => take(buf).map(|_| ()),
        WireType::StartGroup | WireType::EndGroup => None,
    }
}

/// Fuzzing entry point: reads the join fields of arbitrary bytes as every
/// record type.
pub fn fuzz_entry(data: &[u8]) {
    for record_type in netcap_records::RecordType::all() {
        if let Some(desc) = record_type.descriptor() {
            let _ = JoinLayout::new(desc).read(data);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::{Connection, RecordType, Tcp};
    use prost::Message;

    #[test]
    fn varints_read_as_prost_reads_them() {
        let mut cases: Vec<Vec<u8>> = vec![vec![], vec![0x80], vec![0xff; 11], vec![0xff; 10]];
        for v in [0, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut bytes = Vec::new();
            prost::encoding::encode_varint(v, &mut bytes);
            bytes.push(0x2a);
            cases.push(bytes);
        }
        // Ten bytes, the last 0x01, 0x02 (prost refuses) and 0x7f.
        for last in [0x01, 0x02, 0x7f] {
            let mut bytes = vec![0x80; 9];
            bytes.push(last);
            cases.push(bytes);
        }
        for case in &cases {
            for cut in 0..=case.len() {
                let (mut ours, mut theirs) = (&case[..cut], &case[..cut]);
                let want = prost::encoding::decode_varint(&mut theirs).ok();
                assert_eq!(varint(&mut ours), want, "{:x?}", &case[..cut]);
                if want.is_some() {
                    assert_eq!(ours, theirs, "{:x?}", &case[..cut]);
                }
            }
        }
    }

    #[test]
    fn reads_the_join_fields_of_any_record_type() {
        let c = Connection {
            timestamp_ns: -5,
            last_timestamp_ns: 1_700_000_000_000_000_000,
            frame: 7,
            ip_protocol: 17,
            src_ip: vec![10, 0, 0, 1],
            dst_ip: vec![10, 0, 0, 2],
            src_port: 5353,
            dst_port: 53,
            community_id: "1:abc=".into(),
            payload_bytes: 0,
            conn_state: "S0".into(),
            syn_count: 1,
            ..Default::default()
        };
        let layout = JoinLayout::new(RecordType::Connection.descriptor().unwrap());
        assert!(layout.has_community_id && layout.has_addresses && layout.has_last);
        let bytes = c.encode_to_vec();
        let j = layout.read(&bytes).unwrap();
        assert_eq!(j.time_ns, -5);
        assert_eq!(j.last_ns, Some(1_700_000_000_000_000_000));
        assert_eq!((j.frame, j.proto, j.src_port, j.dst_port), (7, Some(17), 5353, 53));
        assert_eq!((j.src_ip, j.dst_ip), (&[10, 0, 0, 1][..], &[10, 0, 0, 2][..]));
        assert_eq!((j.community_id, j.conn_state), ("1:abc=", "S0"));
        assert_eq!((j.payload_bytes, j.syn_count, j.ack_count), (Some(0), Some(1), Some(0)));

        let t = Tcp { timestamp_ns: 9, frame: 3, src_port: 80, community_id: "1:x=".into(), ..Default::default() };
        let layout = JoinLayout::new(RecordType::Tcp.descriptor().unwrap());
        assert!(!layout.has_last);
        let bytes = t.encode_to_vec();
        let j = layout.read(&bytes).unwrap();
        assert_eq!((j.time_ns, j.frame, j.src_port, j.community_id), (9, 3, 80, "1:x="));
        assert_eq!((j.last_ns, j.proto, j.payload_bytes), (None, None, None));
        // Cut anywhere: a clean answer, never a panic.
        for cut in 0..bytes.len() {
            let _ = layout.read(&bytes[..cut]);
        }
        let ethernet = JoinLayout::new(RecordType::Ethernet.descriptor().unwrap());
        assert!(!ethernet.has_community_id && !ethernet.has_addresses);
        fuzz_entry(&[0xff, 0xff, 0x01, 0x12, 0x03]);
    }
}
