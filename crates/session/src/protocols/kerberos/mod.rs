//! Kerberos over TCP (RFC 4120 7.2.2) from reassembled streams: each
//! message is a 4-byte big-endian length (its top bit reserved, 0) and the
//! message's DER bytes; each is a `Kerberos` record, parsed and filled by
//! the datagram decoder's functions ([`netcap_decoder::app::kerberos`]),
//! so UDP and TCP give the same fields (`transport` says which).
//!
//! # Bounds
//!
//! A message longer than [`MAX_MESSAGE`] is skipped (counted as an error;
//! its bytes are consumed as they come, not kept). A length with the
//! reserved bit set, or a message that does not parse, is an error and
//! ends parsing of that direction, as does a gap (the next length cannot
//! be found).

#[cfg(test)]
mod tests;

use crate::emit::ConnRecord;
use crate::protocols::{Direction, ParseContext, Parsed, Probe, Protocol, StreamParser};
use netcap_decoder::app::kerberos::{self as krb, is_message_tag};
use netcap_records::{Kerberos as KerberosRecord, RecordType};

pub static PROTOCOL: Protocol = Protocol {
    name: "Kerberos",
    record_types: &[RecordType::Kerberos],
    tcp_ports: &[krb::PORT],
    probe,
    port_probe: None,
    new_parser: || Box::new(Kerberos::default()),
    fills_connection: false,
};

/// Longest message parsed (PKINIT and PAC-carrying tickets are a few KiB).
pub const MAX_MESSAGE: usize = 256 * 1024;

/// The DER length at `at`: (length, bytes of the length).
fn der_length(data: &[u8], at: usize) -> Option<Option<(usize, usize)>> {
    let Some(&first) = data.get(at) else { return Some(None) };
    if first < 0x80 {
        return Some(Some((usize::from(first), 1)));
    }
    let n = usize::from(first & 0x7f);
    if n == 0 || n > 4 {
        return None;
    }
    let Some(bytes) = data.get(at + 1..at + 1 + n) else { return Some(None) };
    Some(Some((bytes.iter().fold(0usize, |v, &b| (v << 8) | usize::from(b)), 1 + n)))
}

/// A 4-byte length, then a Kerberos message tag (a request from the
/// client, a reply or error from the server) whose DER length fills the
/// record exactly.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    if data.len() < 6 {
        // Not enough for the length, the tag and the first length byte;
        // what there is must still fit.
        return match data {
            [0, ..] | [] => Probe::NeedMore,
            _ => Probe::No,
        };
    }
    let record = u32::from_be_bytes([data[0], data[1], data[2], data[3]]) as usize;
    let tag = data[4];
    let expected = match dir {
        Direction::ToServer => matches!(tag, 0x6a | 0x6c),
        Direction::ToClient => matches!(tag, 0x6b | 0x6d | 0x7e),
    };
    if !expected || !(2..=MAX_MESSAGE).contains(&record) {
        return Probe::No;
    }
    match der_length(data, 5) {
        Some(Some((len, n))) if 1 + n + len == record => Probe::Yes,
        Some(None) => Probe::NeedMore,
        _ => Probe::No,
    }
}

/// The Kerberos-over-TCP parser of one connection.
#[derive(Debug, Default)]
pub struct Kerberos {
    /// Bytes of an oversized message still to skip, per direction.
    skip: [usize; 2],
    /// A direction that lost its framing (a gap).
    lost: [bool; 2],
    record: KerberosRecord,
}

impl Kerberos {
    fn message(&mut self, cx: &mut ParseContext<'_>, dir: Direction, at: usize, bytes: &[u8]) -> bool {
        match krb::parse(bytes) {
            Ok(m) => {
                if cx.emit.wants(RecordType::Kerberos) {
                    krb::fill(&mut self.record, &m, "tcp");
                    let time = cx.time_at(at);
                    self.record.set_conn(cx.conn, time, dir);
                    cx.emit.emit(RecordType::Kerberos, &self.record);
                }
                true
            }
            Err(_) => {
                cx.error();
                false
            }
        }
    }
}

impl StreamParser for Kerberos {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        let d = dir.index();
        if self.lost[d] {
            return Parsed::Done;
        }
        let mut at = 0;
        if self.skip[d] > 0 {
            let n = self.skip[d].min(data.len());
            self.skip[d] -= n;
            at = n;
        }
        loop {
            let rest = &data[at..];
            let Some(head) = rest.get(..4) else {
                return Parsed::Continue { consumed: at, needed: 4 - rest.len() };
            };
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
            if len & 0x8000_0000 != 0 {
                // The reserved bit: an extension this parser cannot read.
                cx.error();
                return Parsed::Done;
            }
            let len = len as usize;
            if len > MAX_MESSAGE {
                cx.error();
                let n = len.min(rest.len() - 4);
                self.skip[d] = len - n;
                at += 4 + n;
                continue;
            }
            let Some(message) = rest.get(4..4 + len) else {
                return Parsed::Continue { consumed: at, needed: 4 + len - rest.len() };
            };
            if !message.first().is_some_and(|&t| is_message_tag(t)) {
                cx.error();
                return Parsed::Done;
            }
            if !self.message(cx, dir, at, message) {
                return Parsed::Done;
            }
            at += 4 + len;
        }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, _len: u64) {
        cx.error();
        // Where the next message starts is lost.
        self.lost[dir.index()] = true;
    }

    fn end(&mut self, _cx: &mut ParseContext<'_>, _dir: Direction, _rest: &[u8]) {}

    fn finish(&mut self, _cx: &mut ParseContext<'_>) {}

    fn memory(&self) -> usize {
        let r = &self.record;
        r.client.capacity() + r.service.capacity() + r.realm.capacity() + r.request_ciphers.len() * 32
    }
}

/// Runs the parser on arbitrary bytes for fuzzing
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    let _ = probe(Direction::ToServer, data);
    let _ = probe(Direction::ToClient, data);
    crate::protocols::fuzz_two_way(&mut Kerberos::default(), data);
}
