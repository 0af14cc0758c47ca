//! HTTP/1.x transactions from reassembled streams.
//!
//! [`parser`] is the stateless part (heads through `httparse`, chunk lines,
//! the framing decision, the resync search, header-value decoders); the
//! per-connection state ([`Http`], a [`StreamParser`]) pairs requests with
//! responses and writes one `HTTP` record per transaction and one file per
//! non-empty body (`crate::files`).
//!
//! # Messages and bodies
//!
//! Heads are parsed once complete (their bytes stay with reassembly until
//! then; the search for the blank line resumes where it stopped). Empty
//! lines between messages are skipped, and NUL bytes (a keep-alive probe's
//! byte on a connection picked up mid-stream). A request line `httparse` refuses
//! but servers answer (a missing or malformed version, extra spaces, a
//! method alone: "PUT /x", "GET / HTTP/1.", "OPTIONS") is read as tshark
//! and Zeek read it, with an empty `version`. Body framing follows RFC 9112
//! section 6.3: responses to HEAD and 1xx/204/304 responses have none;
//! a 2xx to CONNECT and a 101 end HTTP on the connection (after a 101 both
//! directions return [`Parsed::Done`]; a CONNECT tunnel whose bytes start
//! as TLS, an HTTPS proxy's, goes to the TLS parser); `Transfer-Encoding` whose last coding is
//! chunked wins over `Content-Length`; otherwise `Content-Length`; otherwise
//! a response body runs until the server's direction ends, a request has no
//! body. A request whose framing headers are malformed counts an error and
//! has no body; a response with a malformed `Content-Length` counts an error
//! and runs until close. A simple request ("GET /path", HTTP/0.9) has no
//! headers; its response is the raw bytes until close (unless it starts with
//! a status line). Bodies are streamed into their files as they arrive,
//! de-chunked here (never buffered whole); trailers are skipped.
//!
//! # Pairing
//!
//! Requests queue in order; a response head belongs to, in this order: the
//! transaction that had a 1xx (interim responses are noted as
//! `info_code`/`info_msg` and the final one is awaited), an evicted request
//! (see the bounds), the oldest request without a response, or else a new
//! transaction with `missing_request`. A record is emitted once both its
//! request (with its body) and its response (with its body) are done, so an
//! early response waits for the end of its upload; the bodies' File records
//! come first. At `finish`, requests without a final response are emitted
//! with `missing_response`. While a CONNECT or `Upgrade` request waits for
//! its response, the client's further bytes are held unparsed (they may be
//! the tunnel's) unless they start a request, up to [`MAX_HEAD_BYTES`].
//!
//! When a direction ends (`end`), a body running until close ends complete,
//! a Content-Length or chunked body ends incomplete, and a partial head is
//! dropped (an error). At `finish`, bodies still open end incomplete.
//!
//! # Records
//!
//! `timestamp_ns`/`frame` are the request's first packet (the response's
//! without a request); src is the client. The request's and response's
//! first/last packets are those of their first and last bytes (the
//! response's first is that of a 1xx when one came). Fields named after a
//! header take its first occurrence, as on the wire (lossy UTF-8);
//! `set_cookies` takes every Set-Cookie of the final response; `proxied`
//! the request's proxy headers (Zeek's list plus X-Real-IP and
//! True-Client-IP) as "UPPERCASE-NAME -> value", without repeats;
//! `username` the user of `Authorization: Basic`. Body lengths, sniffed MIME
//! types, file IDs and names come from the bodies' `FileOutcome`s; a body's
//! file name is its Content-Disposition's (`filename*` before `filename`),
//! else the last non-empty segment of the request target's path
//! (percent-decoded), and its declared size Content-Length (a 206's
//! Content-Range total). Header lists are filled only when HTTP records are
//! wanted.
//!
//! # Gaps and resynchronisation
//!
//! A gap inside a body of known length (Content-Length, or inside one
//! chunk's data, or a body running until close) is reported to the file
//! (`gap`) and to the record's missing bytes, and parsing goes on; a gap
//! past the end of a Content-Length body ends it there. A gap anywhere else
//! (a head, chunk framing, between messages) ends the message in progress
//! incomplete (a chunked body counts the whole gap as missing, since how
//! much of it was body is unknown) and the direction resynchronises; gaps
//! are not counted as errors. Resynchronising, a direction skips to the
//! first line start or packet start (a message after a binary body has no
//! line end before it; tshark looks at every segment's start) where a
//! message begins, a request line with a known method and an HTTP/1.x
//! version (or a simple request) to the server, a status line ("HTTP/1.x
//! ddd") to the client. The same search follows a malformed head (from
//! after its first byte) or malformed chunk framing. After
//! [`MAX_RESYNC_BYTES`] skipped without finding one, the direction gives up
//! (an error; the direction is Done). When the server's bytes went missing
//! where a response head was due (or its first bytes were the middle of a
//! response: a connection picked up mid-stream), that response is lost: the
//! next head found answers a later request if one was sent before the head
//! came, and the oldest waiting request is emitted with `missing_response`
//! (a client that does not pipeline sends its next request after the
//! previous response; tshark, which pairs by TCP acknowledgment, agrees).
//! Otherwise responses after lost requests pair with the next request in
//! the queue: pairing cannot be recovered. Reassembly is assumed to drop a
//! direction's unconsumed bytes at a gap.
//!
//! # Bounds
//!
//! - A head is at most [`MAX_HEAD_BYTES`] (64 KiB) with at most
//!   [`MAX_HEADERS`] (128) header lines; beyond, it is an error
//!   (`cx.error()`) and the direction resynchronises.
//! - Chunk-size lines at most [`MAX_CHUNK_LINE`] bytes, trailer lines
//!   [`MAX_TRAILER_LINE`], [`MAX_TRAILERS`] trailer lines: beyond, the body
//!   ends incomplete (an error).
//! - At most [`MAX_PENDING`] (64) transactions, and [`MAX_PENDING_BYTES`]
//!   of their strings, are held; a new request beyond either evicts the
//!   oldest request without a response: it is emitted at once with
//!   `missing_response` (an error counted) and remembered (depth and
//!   method, up to [`MAX_EVICTED`], the oldest forgotten beyond with another
//!   error) so that its response, when it comes, is emitted as a record with
//!   the same `trans_depth` and `missing_request` instead of shifting the
//!   pairing of the others.
//! - `request_headers`/`response_headers` keep every header line of the
//!   request and of the final response (at most [`MAX_HEADERS`] by the head
//!   bound), names cut to [`MAX_HEADER_NAME`] bytes and values to
//!   [`MAX_HEADER_VALUE`] bytes (at a character boundary); other fields take
//!   the first occurrence of their header, whole (bounded by the head).
//! - Nothing else grows with the input: [`StreamParser::memory`] reports the
//!   held transactions' strings, the open files and the queues.

pub mod parser;
mod state;

pub use parser::{
    MAX_CHUNK_LINE, MAX_HEAD_BYTES, MAX_HEADERS, MAX_RESYNC_LINE, MAX_TRAILER_LINE, MAX_TRAILERS, METHODS,
};
pub use state::{
    Http, MAX_EVICTED, MAX_HEADER_NAME, MAX_HEADER_VALUE, MAX_LOGGED_HEADERS, MAX_PENDING, MAX_PENDING_BYTES,
    MAX_RESYNC_BYTES,
};

use crate::protocols::{Direction, Parsed, Probe, Protocol, StreamParser, TestHarness};
use netcap_records::RecordType;

pub static PROTOCOL: Protocol = Protocol {
    name: "HTTP",
    // TLS: inside a CONNECT tunnel.
    record_types: &[
        RecordType::Http,
        RecordType::File,
        RecordType::Credentials,
        RecordType::Tlsclienthello,
        RecordType::Tlsserverhello,
        RecordType::Tlscertificate,
    ],
    tcp_ports: &[80, 8080, 8000, 8008, 3128],
    probe,
    port_probe: None,
    new_parser: || Box::new(Http::default()),
    fills_connection: true,
};

/// A request line (a known method and a space) to the server, a status line
/// ("HTTP/1.") to the client.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => {
            let word = data.iter().take(10).position(|&b| b == b' ');
            match word {
                Some(n) if parser::METHODS.contains(&&data[..n]) => Probe::Yes,
                Some(_) => Probe::No,
                None if data.len() >= 10 => Probe::No,
                None if parser::METHODS.iter().any(|m| m.starts_with(data)) => Probe::NeedMore,
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

/// Fuzzing entry: runs the parser of one connection over arbitrary bytes.
/// The input is a sequence of steps, each a control byte and a length byte
/// followed by that many bytes: bit 0 of the control byte is the direction,
/// bits 1-2 the step (data, data, a gap of length × 97 bytes, the end of the
/// direction with its unconsumed bytes). Every data piece is parsed at once
/// (as `TestHarness::feed` does); the unconsumed rest is kept and handed
/// back, and must stay bounded.
pub fn fuzz_entry(data: &[u8]) {
    let mut h = TestHarness::default();
    let mut parser = Http::default();
    let mut pending: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let mut done = [false; 2];
    let mut rest = data;
    while let [control, len, tail @ ..] = rest {
        let dir = if control & 1 == 0 { Direction::ToServer } else { Direction::ToClient };
        let d = dir.index();
        let (piece, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        if done[d] {
            continue;
        }
        match (control >> 1) & 3 {
            0 | 1 => {
                pending[d].extend_from_slice(piece);
                match parser.parse(&mut h.cx(), dir, &pending[d]) {
                    Parsed::Continue { consumed, .. } => {
                        pending[d].drain(..consumed.min(pending[d].len()));
                    }
                    Parsed::Done => {
                        pending[d].clear();
                        done[d] = true;
                    }
                }
                // A partial head, chunk line or held tunnel start at most,
                // plus the last piece.
                assert!(pending[d].len() <= MAX_HEAD_BYTES + 256, "unbounded rest: {}", pending[d].len());
            }
            2 => {
                pending[d].clear();
                parser.gap(&mut h.cx(), dir, u64::from(*len) * 97);
            }
            _ => {
                let left = std::mem::take(&mut pending[d]);
                parser.end(&mut h.cx(), dir, &left);
                done[d] = true;
            }
        }
    }
    parser.finish(&mut h.cx());
    assert!(parser.memory() < 64 << 20);
}

#[cfg(test)]
mod fixtures;
#[cfg(test)]
mod tests;
