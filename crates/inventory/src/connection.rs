//! The fields of a Connection record the inventory reads, taken from its
//! protobuf bytes by field number (proto/flow.proto is the public schema:
//! its numbers do not change) without decoding the whole message, whose
//! ninety-odd fields and sequences the inventory does not need.

use netcap_records::varint;

/// What the inventory reads of one Connection record; absent fields are
/// zero or empty.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ConnView<'a> {
    pub timestamp_ns: i64,
    pub frame: u64,
    pub last_timestamp_ns: i64,
    pub transport: &'a [u8],
    pub application: &'a [u8],
    pub ip_protocol: u32,
    pub src_ip: &'a [u8],
    pub dst_ip: &'a [u8],
    pub src_port: u32,
    pub dst_port: u32,
    pub community_id: &'a [u8],
    pub client_packets: u64,
    pub client_bytes: u64,
    pub server_packets: u64,
    pub server_bytes: u64,
    pub server_payload_bytes: u64,
    pub history: &'a [u8],
    pub client_software: Strings<'a>,
    pub server_software: Strings<'a>,
}

/// The values of a repeated string field, the first [`Strings::MAX`] of
/// them (Connection records hold at most four software strings per side).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Strings<'a> {
    items: [&'a [u8]; Strings::MAX],
    len: usize,
}

impl<'a> Strings<'a> {
    pub const MAX: usize = 8;

    fn push(&mut self, value: &'a [u8]) {
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = value;
            self.len += 1;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        self.items.iter().take(self.len).copied()
    }
}

const VARINT: u64 = 0;
const FIXED64: u64 = 1;
const LEN: u64 = 2;
const FIXED32: u64 = 5;

/// Reads one record's message bytes (without its length prefix); `None`
/// if they are not a well-formed message.
pub(crate) fn view(mut bytes: &[u8]) -> Option<ConnView<'_>> {
    let mut v = ConnView::default();
    while !bytes.is_empty() {
        let key = varint::decode(&mut bytes)?;
        let (number, wire) = (key >> 3, key & 7);
        match wire {
            VARINT => {
                let value = varint::decode(&mut bytes)?;
                match number {
                    2 => v.frame = value,
                    3 => v.last_timestamp_ns = value as i64,
                    10 => v.ip_protocol = value as u32,
                    15 => v.src_port = value as u32,
                    16 => v.dst_port = value as u32,
                    20 => v.client_packets = value,
                    21 => v.client_bytes = value,
                    22 => v.server_packets = value,
                    23 => v.server_bytes = value,
                    26 => v.server_payload_bytes = value,
                    _ => {}
                }
            }
            FIXED64 => {
                let (word, rest) = bytes.split_first_chunk::<8>()?;
                if number == 1 {
                    v.timestamp_ns = i64::from_le_bytes(*word);
                }
                bytes = rest;
            }
            LEN => {
                let len = usize::try_from(varint::decode(&mut bytes)?).ok()?;
                let value = bytes.get(..len)?;
                bytes = bytes.get(len..)?;
                match number {
                    8 => v.transport = value,
                    9 => v.application = value,
                    13 => v.src_ip = value,
                    14 => v.dst_ip = value,
                    17 => v.community_id = value,
                    75 => v.history = value,
                    88 => v.client_software.push(value),
                    89 => v.server_software.push(value),
                    _ => {}
                }
            }
            FIXED32 => bytes = bytes.get(4..)?,
            _ => return None,
        }
    }
    Some(v)
}

/// Calls `f` with each record of a frame's content (length-delimited
/// Connection records), stopping at the first malformed one.
pub(crate) fn each(mut bytes: &[u8], mut f: impl FnMut(ConnView<'_>)) {
    while !bytes.is_empty() {
        let Some(len) = varint::decode(&mut bytes).and_then(|l| usize::try_from(l).ok()) else { return };
        let (Some(message), Some(rest)) = (bytes.get(..len), bytes.get(len..)) else { return };
        bytes = rest;
        match view(message) {
            Some(v) => f(v),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn reads_what_prost_wrote() {
        let c = netcap_records::Connection {
            timestamp_ns: -5,
            frame: 7,
            last_timestamp_ns: 1_700_000_000_123_456_789,
            transport_protocol: "TCP".into(),
            application_protocol: "SSH".into(),
            ip_protocol: 6,
            src_ip: vec![10, 0, 0, 1],
            dst_ip: vec![10, 0, 0, 2],
            src_port: 40000,
            dst_port: 22,
            community_id: "1:abc".into(),
            client_packets: 3,
            client_bytes: 300,
            server_packets: 4,
            server_bytes: 400,
            server_payload_bytes: 99,
            history: "ShAdDaFf".into(),
            client_software: vec!["SSH-2.0-OpenSSH_9.6".into()],
            server_software: vec!["Apache".into(), "nginx/1.2".into()],
            payload_size_sequence: vec![1, -2, 3],
            client_window_mean: 1.5,
            client_window_scale: Some(7),
            ..Default::default()
        };
        let mut bytes = Vec::new();
        c.encode_length_delimited(&mut bytes).unwrap();
        c.encode_length_delimited(&mut bytes).unwrap();
        let mut seen = Vec::new();
        each(&bytes, |v| seen.push(format!("{v:?}")));
        assert_eq!(seen.len(), 2);
        let encoded = c.encode_to_vec();
        let v = view(&encoded).unwrap();
        assert_eq!((v.timestamp_ns, v.frame, v.last_timestamp_ns), (-5, 7, 1_700_000_000_123_456_789));
        assert_eq!((v.transport, v.application, v.ip_protocol), (&b"TCP"[..], &b"SSH"[..], 6));
        assert_eq!((v.src_ip, v.dst_ip, v.src_port, v.dst_port), (&[10, 0, 0, 1][..], &[10, 0, 0, 2][..], 40000, 22));
        assert_eq!((v.client_packets, v.client_bytes, v.server_packets, v.server_bytes), (3, 300, 4, 400));
        assert_eq!((v.server_payload_bytes, v.history, v.community_id), (99, &b"ShAdDaFf"[..], &b"1:abc"[..]));
        assert_eq!(v.client_software.iter().collect::<Vec<_>>(), [&b"SSH-2.0-OpenSSH_9.6"[..]]);
        assert_eq!(v.server_software.iter().collect::<Vec<_>>(), [&b"Apache"[..], &b"nginx/1.2"[..]]);
    }

    #[test]
    fn malformed_bytes_are_refused_not_misread() {
        assert_eq!(view(&[0x0a, 5, 1]), None); // length beyond the end
        assert_eq!(view(&[0x0b]), None); // wire type 3
        assert_eq!(view(&[0x09, 1, 2]), None); // cut fixed64
        let mut n = 0;
        each(&[3, 0x0a, 9, 0], |_| n += 1);
        assert_eq!(n, 0);
    }
}
