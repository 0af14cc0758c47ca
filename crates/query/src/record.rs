//! Decodes only the fields of an encoded `Connection` that queries use.
//!
//! A full `prost` decode builds every string of the record (MACs, protocol
//! names, community ID) and reads 60-odd fields; a query needs 15 of them,
//! borrowed. Walking the wire format and skipping the rest keeps a query over
//! a million records within the time zstd needs to decompress them.

use netcap_records::varint::{self, Varint};

/// The fields of a `Connection` record a query reads; strings borrow from
/// the encoded record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnectionView<'a> {
    pub timestamp_ns: i64,
    pub last_timestamp_ns: i64,
    pub duration_ns: i64,
    pub application_protocol: &'a str,
    pub ip_protocol: u32,
    /// Addresses as stored: 4 or 16 bytes, network order.
    pub src_ip: &'a [u8],
    pub dst_ip: &'a [u8],
    pub src_port: u32,
    pub dst_port: u32,
    pub packets: u64,
    pub bytes: u64,
    pub client_packets: u64,
    pub client_bytes: u64,
    pub server_packets: u64,
    pub server_bytes: u64,
}

/// Why an encoded record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("record does not decode: {reason} at byte {offset}")]
pub struct DecodeError {
    pub offset: usize,
    pub reason: &'static str,
}

/// An address field as an IP address, if it has an address's length.
pub fn ip_of(bytes: &[u8]) -> Option<std::net::IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(std::net::IpAddr::from),
        _ => None,
    }
}

/// The highest field number a query reads (`server_bytes`).
const LAST_QUERY_FIELD: u64 = 23;

impl<'a> ConnectionView<'a> {
    /// Reads the query fields of one encoded `netcap.Connection`. Field
    /// numbers are those of proto/flow.proto (a unit test checks them against
    /// the schema); unknown and unused fields are skipped by wire type.
    pub fn decode(buf: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_fields(buf, false)
    }

    /// [`ConnectionView::decode`] for records whose fields are in ascending
    /// number order, as netcap (prost) writes them: the walk stops at the
    /// first field past the last one a query reads, instead of stepping over
    /// the ~45 statistics fields. Protobuf allows any order, so this is only
    /// for files whose header names netcap as their producer.
    pub fn decode_ascending(buf: &'a [u8]) -> Result<Self, DecodeError> {
        Self::decode_as_written(buf).map_or_else(|| Self::decode_fields(buf, true), Ok)
    }

    /// The walk for a record exactly as prost writes a `Connection`: fields
    /// in ascending order, each at most once, with the wire types of
    /// proto/flow.proto, up to field 23. Each field is then one byte
    /// comparison that goes the same way record after record, where the
    /// general walk dispatches on every key it reads and mispredicts about
    /// once a field. An absent field is its default, as in protobuf.
    /// `None` at the first surprise (a field out of order, repeated or with
    /// another wire type, any damage): the general walk then decides.
    #[inline]
    fn decode_as_written(buf: &'a [u8]) -> Option<Self> {
        let mut w = Walk { buf, at: 0 };
        let timestamp_ns = w.fixed64(1)?;
        w.varint(2)?;
        let last_timestamp_ns = w.varint(3)?;
        let duration_ns = w.varint(4)?;
        w.varint(5)?;
        w.bytes(6)?;
        w.bytes(7)?;
        w.bytes(8)?;
        let application_protocol = w.bytes(9)?;
        let ip_protocol = w.varint(10)?;
        w.bytes(11)?;
        w.bytes(12)?;
        let src_ip = w.bytes(13)?;
        let dst_ip = w.bytes(14)?;
        let src_port = w.varint(15)?;
        let dst_port = w.varint(16)?;
        w.bytes(17)?;
        let packets = w.varint(18)?;
        let bytes = w.varint(19)?;
        let client_packets = w.varint(20)?;
        let client_bytes = w.varint(21)?;
        let server_packets = w.varint(22)?;
        let server_bytes = w.varint(23)?;
        // What follows must be a later field (or nothing).
        if w.at < buf.len() {
            let mut at = w.at;
            if varint(buf, &mut at).ok()? >> 3 <= LAST_QUERY_FIELD {
                return None;
            }
        }
        Some(ConnectionView {
            timestamp_ns,
            last_timestamp_ns: last_timestamp_ns as i64,
            duration_ns: duration_ns as i64,
            application_protocol: std::str::from_utf8(application_protocol).ok()?,
            // uint32 fields keep the low 32 bits, as protobuf does.
            ip_protocol: ip_protocol as u32,
            src_ip,
            dst_ip,
            src_port: src_port as u32,
            dst_port: dst_port as u32,
            packets,
            bytes,
            client_packets,
            client_bytes,
            server_packets,
            server_bytes,
        })
    }

    fn decode_fields(buf: &'a [u8], ascending: bool) -> Result<Self, DecodeError> {
        // Varint values by field number: storing one is an indexed write,
        // where a `match` on the field number was an indirect jump that
        // cost more than the rest of the walk.
        let mut varints = [0u64; LAST_QUERY_FIELD as usize + 1];
        let mut timestamp_ns = None;
        let mut view = ConnectionView::default();
        let mut at = 0;
        while at < buf.len() {
            let key = varint(buf, &mut at)?;
            let field = key >> 3;
            if ascending && field > LAST_QUERY_FIELD {
                break;
            }
            match key & 7 {
                0 => {
                    let v = varint(buf, &mut at)?;
                    if let Some(slot) = usize::try_from(field).ok().and_then(|f| varints.get_mut(f)) {
                        *slot = v;
                        if field == 1 {
                            timestamp_ns = None;
                        }
                    }
                }
                1 => {
                    let start = at;
                    at = skip(buf, at, 8)?;
                    // timestamp_ns is sfixed64.
                    if field == 1 {
                        let mut le = [0u8; 8];
                        le.copy_from_slice(&buf[start..at]);
                        timestamp_ns = Some(i64::from_le_bytes(le));
                    }
                }
                5 => at = skip(buf, at, 4)?,
                2 => {
                    let len = varint(buf, &mut at)?;
                    let start = at;
                    let len =
                        usize::try_from(len).map_err(|_| DecodeError { offset: start, reason: "length overflows" })?;
                    at = skip(buf, at, len)?;
                    let bytes = &buf[start..at];
                    match field {
                        9 => {
                            view.application_protocol = std::str::from_utf8(bytes)
                                .map_err(|_| DecodeError { offset: start, reason: "invalid UTF-8" })?
                        }
                        13 => view.src_ip = bytes,
                        14 => view.dst_ip = bytes,
                        _ => {}
                    }
                }
                _ => return Err(DecodeError { offset: at, reason: "unsupported wire type" }),
            }
            if field == 0 {
                return Err(DecodeError { offset: at, reason: "field number 0" });
            }
        }
        // The last occurrence of a field wins, whatever its encoding.
        view.timestamp_ns = timestamp_ns.unwrap_or(varints[1] as i64);
        view.last_timestamp_ns = varints[3] as i64;
        view.duration_ns = varints[4] as i64;
        // uint32 fields keep the low 32 bits, as protobuf does.
        view.ip_protocol = varints[10] as u32;
        view.src_port = varints[15] as u32;
        view.dst_port = varints[16] as u32;
        view.packets = varints[18];
        view.bytes = varints[19];
        view.client_packets = varints[20];
        view.client_bytes = varints[21];
        view.server_packets = varints[22];
        view.server_bytes = varints[23];
        Ok(view)
    }
}

/// A cursor for [`ConnectionView::decode_as_written`]: each method reads
/// field `field` if it comes next with its declared wire type, else
/// returns the default and stays; `None` for damage.
struct Walk<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Walk<'a> {
    /// Steps over the key of `field` with `wire_type` if it comes next, in
    /// its shortest encoding (the only one prost writes; any other is a
    /// surprise for the caller to notice).
    #[inline(always)]
    fn key(&mut self, field: u64, wire_type: u64) -> bool {
        let key = field << 3 | wire_type;
        let found = if key < 0x80 {
            self.buf.get(self.at) == Some(&(key as u8))
        } else {
            self.buf.get(self.at..self.at + 2) == Some(&[key as u8 | 0x80, (key >> 7) as u8][..])
        };
        if found {
            self.at += if key < 0x80 { 1 } else { 2 };
        }
        found
    }

    #[inline(always)]
    fn varint(&mut self, field: u64) -> Option<u64> {
        if !self.key(field, 0) {
            return Some(0);
        }
        varint(self.buf, &mut self.at).ok()
    }

    #[inline(always)]
    fn fixed64(&mut self, field: u64) -> Option<i64> {
        if !self.key(field, 1) {
            return Some(0);
        }
        let bytes = self.buf.get(self.at..self.at + 8)?;
        self.at += 8;
        Some(i64::from_le_bytes(bytes.try_into().ok()?))
    }

    #[inline(always)]
    fn bytes(&mut self, field: u64) -> Option<&'a [u8]> {
        if !self.key(field, 2) {
            return Some(&[]);
        }
        let len = usize::try_from(varint(self.buf, &mut self.at).ok()?).ok()?;
        let end = self.at.checked_add(len)?;
        let bytes = self.buf.get(self.at..end)?;
        self.at = end;
        Some(bytes)
    }
}

fn skip(buf: &[u8], at: usize, len: usize) -> Result<usize, DecodeError> {
    at.checked_add(len)
        .filter(|end| *end <= buf.len())
        .ok_or(DecodeError { offset: at, reason: "field runs past the end" })
}

/// Reads a varint (netcap_records' shared reader, inlined into the walks),
/// with the error the walks report.
#[inline(always)]
fn varint(buf: &[u8], at: &mut usize) -> Result<u64, DecodeError> {
    match varint::read(buf.get(*at..).unwrap_or_default()) {
        Varint::Value { value, len } => {
            *at += len;
            Ok(value)
        }
        Varint::Incomplete => Err(DecodeError { offset: *at, reason: "truncated varint" }),
        Varint::Invalid => Err(DecodeError { offset: *at, reason: "varint past 64 bits" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::{Connection, DESCRIPTOR_POOL};
    use prost::Message;

    #[test]
    fn field_numbers_match_the_schema() {
        let desc = DESCRIPTOR_POOL.get_message_by_name("netcap.Connection").unwrap();
        let numbers = [
            ("timestamp_ns", 1),
            ("last_timestamp_ns", 3),
            ("duration_ns", 4),
            ("application_protocol", 9),
            ("ip_protocol", 10),
            ("src_ip", 13),
            ("dst_ip", 14),
            ("src_port", 15),
            ("dst_port", 16),
            ("packets", 18),
            ("bytes", 19),
            ("client_packets", 20),
            ("client_bytes", 21),
            ("server_packets", 22),
            ("server_bytes", 23),
        ];
        for (name, number) in numbers {
            assert_eq!(desc.get_field_by_name(name).map(|f| f.number()), Some(number), "{name}");
        }
    }

    const SIP: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const DIP: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

    fn sample() -> Connection {
        Connection {
            timestamp_ns: 1_700_000_000_123_456_789,
            frame: 7,
            last_timestamp_ns: 1_700_000_003_000_000_000,
            duration_ns: 2_876_543_211,
            link_protocol: "Ethernet".into(),
            network_protocol: "IPv6".into(),
            transport_protocol: "TCP".into(),
            application_protocol: "TLS".into(),
            ip_protocol: 6,
            src_mac: vec![0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
            src_ip: SIP.to_vec(),
            dst_ip: DIP.to_vec(),
            src_port: 51234,
            dst_port: 443,
            community_id: "1:abc=".into(),
            packets: 12,
            bytes: 9000,
            client_packets: 5,
            client_bytes: 1000,
            server_packets: 7,
            server_bytes: 8000,
            payload_bytes_mean: 1.5,
            client_window_scale: Some(7),
            payload_size_sequence: vec![100, -200, 300],
            interarrival_sequence_ns: vec![0, 5, -1],
            ..Default::default()
        }
    }

    #[test]
    fn ascending_walk_reads_the_same_fields() {
        let bytes = sample().encode_to_vec();
        assert_eq!(ConnectionView::decode_ascending(&bytes).unwrap(), ConnectionView::decode(&bytes).unwrap());
        assert!(ConnectionView::decode_as_written(&bytes).is_some(), "prost's layout takes the fast walk");
    }

    /// splitmix64, for reproducible random records.
    fn random(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Records with every field present or absent (zero, empty), values of
    /// every varint length, then damaged and reordered: the fast walk
    /// either reads what the general walk reads or leaves the record to it.
    #[test]
    fn fast_walk_agrees_with_the_general_walk() {
        let mut state = 1;
        for round in 0..3000 {
            let mut value = |bits: u32| {
                let v = random(&mut state);
                if v.is_multiple_of(3) { 0 } else { random(&mut state) >> (64 - bits.min(64)) }
            };
            let bits = 1 + (round % 64) as u32;
            let c = Connection {
                timestamp_ns: value(64) as i64,
                frame: value(bits),
                last_timestamp_ns: value(64) as i64,
                duration_ns: value(bits) as i64,
                termination_reason: value(2) as i32,
                link_protocol: if value(1) == 0 { String::new() } else { "Ethernet".into() },
                application_protocol: ["", "TLS", "ünï"][value(8) as usize % 3].into(),
                ip_protocol: value(9) as u32,
                src_mac: vec![0x3c; value(3) as usize],
                src_ip: vec![10; [0, 4, 16, 3][value(8) as usize % 4]],
                dst_ip: vec![0x20; [0, 4, 16][value(8) as usize % 3]],
                src_port: value(bits.min(32)) as u32,
                dst_port: value(16) as u32,
                community_id: if value(1) == 0 { String::new() } else { "1:abc=".into() },
                packets: value(bits),
                bytes: value(bits),
                client_packets: value(bits),
                client_bytes: value(64),
                server_packets: value(bits),
                server_bytes: value(bits),
                payload_bytes_mean: 1.5,
                client_window_scale: Some(7),
                ..Default::default()
            };
            let bytes = c.encode_to_vec();
            let general = ConnectionView::decode_fields(&bytes, true).unwrap();
            assert_eq!(ConnectionView::decode_as_written(&bytes), Some(general), "round {round}");
            assert_eq!(ConnectionView::decode_ascending(&bytes), Ok(general));
            assert_eq!(ConnectionView::decode(&bytes), Ok(general));
            // Cut anywhere, a field repeated, two fields swapped: the same
            // answer (value or error) as the general walk.
            let cut = &bytes[..random(&mut state) as usize % (bytes.len() + 1)];
            let mut repeated = bytes.clone();
            repeated.extend_from_slice(&bytes[..bytes.len().min(12)]);
            let mut swapped = Connection { dst_port: c.dst_port, ..Default::default() }.encode_to_vec();
            swapped.extend_from_slice(&Connection { src_port: 9, ..Default::default() }.encode_to_vec());
            swapped.extend_from_slice(&bytes);
            for variant in [cut, &repeated[..], &swapped[..]] {
                let fast = ConnectionView::decode_ascending(variant);
                assert_eq!(fast, ConnectionView::decode_fields(variant, true), "round {round}");
                if let Some(view) = ConnectionView::decode_as_written(variant) {
                    assert_eq!(Ok(view), fast);
                }
            }
        }
        // A key in a longer encoding than prost's, a field with another
        // wire type: left to the general walk, which reads them.
        let long_key = [0x80 | (10 << 3), 0x00, 6];
        assert_eq!(ConnectionView::decode_as_written(&long_key), None);
        assert_eq!(ConnectionView::decode_ascending(&long_key).unwrap().ip_protocol, 6);
        let fixed_port = [15 << 3 | 5, 1, 0, 0, 0, 16 << 3 | 0x80, 1, 80];
        assert_eq!(ConnectionView::decode_as_written(&fixed_port), None);
        let view = ConnectionView::decode_ascending(&fixed_port).unwrap();
        assert_eq!((view.src_port, view.dst_port), (0, 80));
    }

    #[test]
    fn varints_of_every_length() {
        fn encode(mut v: u64, out: &mut Vec<u8>) {
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
        }
        let mut state = 5;
        let mut values: Vec<u64> = (0..64).flat_map(|b| [1u64 << b, (1u64 << b) - 1, (1u64 << b) + 1]).collect();
        values.extend((0..2000).map(|i| random(&mut state) >> (i % 64)));
        values.push(u64::MAX);
        for v in values {
            for padding in [0, 1, 9, 20] {
                let mut buf = Vec::new();
                encode(v, &mut buf);
                let len = buf.len();
                buf.extend(std::iter::repeat_n(0xff, padding));
                let mut at = 0;
                assert_eq!(varint(&buf, &mut at), Ok(v), "{v:#x} with {padding} bytes after");
                assert_eq!(at, len);
            }
        }
        // Ten bytes of which the tenth carries more than bit 63: refused, as
        // prost refuses it (whether eight more bytes follow or not);
        // eleven bytes: an error; truncated: an error, wherever the buffer
        // ends.
        let past_64 = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
        assert!(prost::encoding::decode_varint(&mut &past_64[..]).is_err());
        for padding in [0, 8] {
            let mut buf = past_64.to_vec();
            buf.extend(std::iter::repeat_n(0, padding));
            assert!(varint(&buf, &mut 0).is_err(), "{padding}");
            let mut max = buf.clone();
            max[9] = 0x01;
            let mut at = 0;
            assert_eq!(varint(&max, &mut at), Ok(u64::MAX));
            assert_eq!(at, 10);
        }
        assert!(varint(&[0xff; 11], &mut 0).is_err());
        for len in 0..12 {
            assert!(varint(&vec![0x80; len], &mut 0).is_err(), "{len}");
            let mut padded = vec![0x80; len];
            padded.extend([0x80; 12]);
            assert!(varint(&padded, &mut 0).is_err(), "{len}");
        }
    }

    #[test]
    fn reads_what_prost_wrote() {
        let c = sample();
        let bytes = c.encode_to_vec();
        let v = ConnectionView::decode(&bytes).unwrap();
        assert_eq!(
            v,
            ConnectionView {
                timestamp_ns: c.timestamp_ns,
                last_timestamp_ns: c.last_timestamp_ns,
                duration_ns: c.duration_ns,
                application_protocol: "TLS",
                ip_protocol: 6,
                src_ip: &SIP,
                dst_ip: &DIP,
                src_port: 51234,
                dst_port: 443,
                packets: 12,
                bytes: 9000,
                client_packets: 5,
                client_bytes: 1000,
                server_packets: 7,
                server_bytes: 8000,
            }
        );
        assert_eq!(ConnectionView::decode(&[]).unwrap(), ConnectionView::default());
        let negative = Connection { timestamp_ns: -5, ..Default::default() }.encode_to_vec();
        assert_eq!(ConnectionView::decode(&negative).unwrap().timestamp_ns, -5);
    }

    #[test]
    fn damaged_records_are_errors() {
        let bytes = sample().encode_to_vec();
        // Every truncation either decodes (a cut at a field boundary) or
        // fails; none panics.
        for end in 0..bytes.len() {
            let _ = ConnectionView::decode(&bytes[..end]);
        }
        assert!(ConnectionView::decode(&[0x0b]).is_err(), "wire type 3 (groups)");
        assert!(ConnectionView::decode(&[0x4a, 0x02, 0xff, 0xfe]).is_err(), "application_protocol not UTF-8");
        assert!(ConnectionView::decode(&[0x6a, 0x05, b'a']).is_err(), "length past the end");
        assert!(ConnectionView::decode(&[0x08; 11]).is_err());
        assert!(
            ConnectionView::decode(&[0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).is_err()
        );
        assert!(ConnectionView::decode(&[0x00, 0x01]).is_err(), "field 0");
    }
}
