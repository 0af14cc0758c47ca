//! SIP requests and responses (RFC 3261), UDP or TCP port 5060. No
//! maintained passive SIP parser exists as a crate (rsip, sipmsg and
//! parsip are unmaintained; httparse rejects "SIP/2.0"), so the start line
//! and headers are read here. Also used for SSDP's HTTP-over-UDP.

use super::{AppRecord, Flow, emit, set_lossy};
use crate::{Layer, PacketContext};
use netcap_records::{RecordType, Sip};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TextError {
    #[error("no start line")]
    NoStartLine,
    #[error("start line is neither a request nor a {0} status line")]
    BadStartLine(&'static str),
}

/// The start line of an HTTP-like message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    Request { method: &'a [u8], uri: &'a [u8] },
    Response { status: u16, reason: &'a [u8] },
}

/// An HTTP-like message: start line and the header block.
#[derive(Debug, Clone, Copy)]
pub struct TextMessage<'a> {
    pub start: StartLine<'a>,
    pub headers: &'a [u8],
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b.iter().position(|c| !c.is_ascii_whitespace()).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !c.is_ascii_whitespace()).map_or(start, |i| i + 1);
    &b[start..end.max(start)]
}

/// Parses the start line for protocol `version` ("SIP/2.0", "HTTP/1.1").
pub fn parse_text<'a>(p: &'a [u8], version: &'static str) -> Result<TextMessage<'a>, TextError> {
    let line_end = p.iter().position(|&c| c == b'\n').unwrap_or(p.len());
    let line = trim(&p[..line_end]);
    if line.is_empty() {
        return Err(TextError::NoStartLine);
    }
    let headers = p.get(line_end + 1..).unwrap_or_default();
    let prefix = &version.as_bytes()[..version.len() - 3]; // "SIP/" or "HTTP/"
    let mut parts = line.splitn(3, |&c| c == b' ');
    let first = parts.next().unwrap_or_default();
    let second = parts.next().unwrap_or_default();
    let third = parts.next().unwrap_or_default();
    if first.starts_with(prefix) {
        let status = std::str::from_utf8(second).ok().and_then(|s| s.parse().ok());
        let Some(status) = status.filter(|s| (100..1000).contains(s)) else {
            return Err(TextError::BadStartLine(version));
        };
        return Ok(TextMessage { start: StartLine::Response { status, reason: trim(third) }, headers });
    }
    let is_token = !first.is_empty() && first.iter().all(|c| c.is_ascii_uppercase() || *c == b'-' || *c == b'_');
    if is_token && !second.is_empty() && third.starts_with(prefix) {
        return Ok(TextMessage { start: StartLine::Request { method: first, uri: second }, headers });
    }
    Err(TextError::BadStartLine(version))
}

/// Header (name, value) pairs up to the empty line; folded lines are not
/// joined (rare, and obsolete since RFC 3261).
pub fn headers(h: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    let mut rest = h;
    std::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let end = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
            let line = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.is_empty() {
                rest = &[];
                return None;
            }
            if let Some(colon) = line.iter().position(|&c| c == b':') {
                return Some((trim(&line[..colon]), trim(&line[colon + 1..])));
            }
        }
    })
}

fn number(v: &[u8]) -> u32 {
    std::str::from_utf8(v).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0)
}

fn fill(r: &mut Sip, m: &TextMessage<'_>, tcp: bool) {
    r.transport.clear();
    r.transport.push_str(if tcp { "tcp" } else { "udp" });
    r.method.clear();
    r.request_uri.clear();
    r.reason.clear();
    r.status_code = 0;
    match m.start {
        StartLine::Request { method, uri } => {
            r.request = true;
            set_lossy(&mut r.method, method);
            set_lossy(&mut r.request_uri, uri);
        }
        StartLine::Response { status, reason } => {
            r.request = false;
            r.status_code = u32::from(status);
            set_lossy(&mut r.reason, reason);
        }
    }
    for s in [&mut r.call_id, &mut r.from, &mut r.to, &mut r.cseq, &mut r.contact, &mut r.user_agent, &mut r.server] {
        s.clear();
    }
    r.content_type.clear();
    r.via.clear();
    r.content_length = 0;
    r.max_forwards = 0;
    r.header_count = 0;
    for (name, value) in headers(m.headers) {
        r.header_count += 1;
        let set_first = |dst: &mut String| {
            if dst.is_empty() {
                set_lossy(dst, value);
            }
        };
        // Long and compact (RFC 3261 section 7.3.3) header names.
        let lower = |n: &[u8], long: &str, short: &str| {
            n.eq_ignore_ascii_case(long.as_bytes()) || n.eq_ignore_ascii_case(short.as_bytes())
        };
        if lower(name, "call-id", "i") {
            set_first(&mut r.call_id);
        } else if lower(name, "from", "f") {
            set_first(&mut r.from);
        } else if lower(name, "to", "t") {
            set_first(&mut r.to);
        } else if lower(name, "cseq", "cseq") {
            set_first(&mut r.cseq);
        } else if lower(name, "via", "v") {
            r.via.push(String::from_utf8_lossy(value).into_owned());
        } else if lower(name, "contact", "m") {
            set_first(&mut r.contact);
        } else if lower(name, "user-agent", "user-agent") {
            set_first(&mut r.user_agent);
        } else if lower(name, "server", "server") {
            set_first(&mut r.server);
        } else if lower(name, "content-type", "c") {
            set_first(&mut r.content_type);
        } else if lower(name, "content-length", "l") {
            r.content_length = number(value);
        } else if lower(name, "max-forwards", "max-forwards") {
            r.max_forwards = number(value);
        }
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8], tcp: bool) {
    if !cx.wants(RecordType::Sip) {
        return;
    }
    // Keep-alives (CRLF pings) carry no message.
    if payload.iter().all(|c| c.is_ascii_whitespace() || *c == 0) {
        return;
    }
    match parse_text(payload, "SIP/2.0") {
        Ok(m) => emit!(cx, flow, RecordType::Sip, sip, |r| fill(r, &m, tcp)),
        Err(e) => super::parse_error(cx, Layer::Sip, flow, e),
    }
}
