//! TLS handshakes from reassembled streams.
//!
//! STUB: the probe and the table line are final; the parser is in progress.

use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser};
use netcap_records::RecordType;

pub static PROTOCOL: Protocol = Protocol {
    name: "TLS",
    record_types: &[RecordType::Tlsclienthello, RecordType::Tlsserverhello, RecordType::Tlscertificate],
    tcp_ports: &[443, 8443, 465, 993, 995, 636, 853, 989, 990, 992, 5061],
    probe,
    new_parser: || Box::new(Tls::default()),
};

/// A handshake record (content type 22) of SSL 3.0 to TLS 1.3.
pub fn probe(_dir: Direction, data: &[u8]) -> Probe {
    match data {
        [] | [22] | [22, 3] => Probe::NeedMore,
        [22, 3, minor, ..] if *minor <= 4 => Probe::Yes,
        _ => Probe::No,
    }
}

#[derive(Default)]
struct Tls {}

impl StreamParser for Tls {
    fn parse(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _data: &[u8]) -> Parsed {
        Parsed::Done
    }
    fn gap(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _len: u64) {}
    fn end(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _rest: &[u8]) {}
    fn finish(&mut self, _cx: &mut ParseContext<'_>) {}
}
