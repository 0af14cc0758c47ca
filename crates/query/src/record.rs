//! Decodes only the fields of an encoded `Connection` that queries use.
//!
//! A full `prost` decode builds every string of the record (MACs, protocol
//! names, community ID) and reads 60-odd fields; a query needs 15 of them,
//! borrowed. Walking the wire format and skipping the rest keeps a query over
//! a million records within the time zstd needs to decompress them.

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
        Self::decode_fields(buf, true)
    }

    fn decode_fields(buf: &'a [u8], ascending: bool) -> Result<Self, DecodeError> {
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
                    match field {
                        1 => view.timestamp_ns = v as i64,
                        3 => view.last_timestamp_ns = v as i64,
                        4 => view.duration_ns = v as i64,
                        // uint32 fields keep the low 32 bits, as protobuf does.
                        10 => view.ip_protocol = v as u32,
                        15 => view.src_port = v as u32,
                        16 => view.dst_port = v as u32,
                        18 => view.packets = v,
                        19 => view.bytes = v,
                        20 => view.client_packets = v,
                        21 => view.client_bytes = v,
                        22 => view.server_packets = v,
                        23 => view.server_bytes = v,
                        _ => {}
                    }
                }
                1 => {
                    let start = at;
                    at = skip(buf, at, 8)?;
                    // timestamp_ns is sfixed64.
                    if field == 1 {
                        let mut le = [0u8; 8];
                        le.copy_from_slice(&buf[start..at]);
                        view.timestamp_ns = i64::from_le_bytes(le);
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
                    let text = || {
                        std::str::from_utf8(bytes).map_err(|_| DecodeError { offset: start, reason: "invalid UTF-8" })
                    };
                    match field {
                        9 => view.application_protocol = text()?,
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
        Ok(view)
    }
}

fn skip(buf: &[u8], at: usize, len: usize) -> Result<usize, DecodeError> {
    at.checked_add(len)
        .filter(|end| *end <= buf.len())
        .ok_or(DecodeError { offset: at, reason: "field runs past the end" })
}

#[inline]
fn varint(buf: &[u8], at: &mut usize) -> Result<u64, DecodeError> {
    let start = *at;
    // Keys are one or two bytes (fields below 2048), and so are many values.
    match buf.get(start..start + 2) {
        Some(&[b0, _]) if b0 < 0x80 => {
            *at += 1;
            return Ok(u64::from(b0));
        }
        Some(&[b0, b1]) if b1 < 0x80 => {
            *at += 2;
            return Ok(u64::from(b0 & 0x7f) | u64::from(b1) << 7);
        }
        _ => {}
    }
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let Some(&byte) = buf.get(*at) else {
            return Err(DecodeError { offset: start, reason: "truncated varint" });
        };
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err(DecodeError { offset: start, reason: "varint longer than 10 bytes" })
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
