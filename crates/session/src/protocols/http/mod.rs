//! HTTP/1.x transactions from reassembled streams.
//!
//! STUB: the probe and the table line are final; the parser is in progress.

use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser};
use netcap_records::RecordType;

pub static PROTOCOL: Protocol = Protocol {
    name: "HTTP",
    record_types: &[RecordType::Http, RecordType::File],
    tcp_ports: &[80, 8080, 8000, 8008, 3128],
    probe,
    new_parser: || Box::new(Http::default()),
};

/// Request methods a request line may start with (RFC 9110, WebDAV, and a
/// few common extensions).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"SUBSCRIBE",
];

/// A request line (a known method and a space) to the server, a status line
/// ("HTTP/1.") to the client.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => {
            let word = data.iter().take(10).position(|&b| b == b' ');
            match word {
                Some(n) if METHODS.contains(&&data[..n]) => Probe::Yes,
                Some(_) => Probe::No,
                None if data.len() >= 10 => Probe::No,
                None if METHODS.iter().any(|m| m.starts_with(data)) => Probe::NeedMore,
                None => Probe::No,
            }
        }
        Direction::ToClient => {
            let prefix: &[u8] = b"HTTP/1.";
            let n = data.len().min(prefix.len());
            if data[..n] != prefix[..n] {
                Probe::No
            } else if n < prefix.len() {
                Probe::NeedMore
            } else {
                Probe::Yes
            }
        }
    }
}

#[derive(Default)]
struct Http {}

impl StreamParser for Http {
    fn parse(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, data: &[u8]) -> Parsed {
        Parsed::Continue { consumed: data.len(), needed: 0 }
    }
    fn gap(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _len: u64) {}
    fn end(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _rest: &[u8]) {}
    fn finish(&mut self, _cx: &mut ParseContext<'_>) {}
}
