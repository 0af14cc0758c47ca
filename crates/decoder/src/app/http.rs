//! HTTP/1.x request and response heads at the start of a TCP segment, read
//! with httparse (hyper's parser). Per packet: a head cut by the end of the
//! segment gives what its complete lines say (marked partial); bodies and
//! heads that start inside a segment need stream reassembly.
//!
//! Dispatch is by content, on any TCP port, like TLS: a segment is looked at
//! only if it begins with "HTTP/1." or with a known method and a space (a
//! few byte comparisons). On the usual HTTP ports ([`PORTS`]) a segment that
//! starts like that and does not parse is a decode error of layer `http`; on
//! other ports it is taken for another text protocol (RTSP, SIP and ICAP use
//! the same methods) and left alone.

use super::{AppRecord, Flow, emit, set_lossy, set_str};
use crate::{Layer, PacketContext};
use netcap_records::{Http, RecordType};

/// Ports where a segment that looks like HTTP and fails to parse counts as
/// a decode error: HTTP, and the usual alternates and proxy ports.
pub const PORTS: [u16; 5] = [80, 8080, 8000, 8008, 3128];

/// Request methods recognised at the start of a segment: RFC 9110, PATCH,
/// WebDAV and CalDAV, and the UPnP/GENA ones.
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"HEAD",
    b"PUT",
    b"DELETE",
    b"OPTIONS",
    b"CONNECT",
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
    b"MKCALENDAR",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"ACL",
    b"PURGE",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"M-SEARCH",
];

/// Headers httparse reads into a stack array; a head with more is read
/// line by line instead.
const MAX_HEADERS: usize = 64;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HttpError {
    #[error("not an HTTP/1.x request or status line")]
    NotHttp,
    #[error("bad start line: {0}")]
    StartLine(httparse::Error),
}

/// The start line of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start<'a> {
    /// `version`: "HTTP/1.0", "HTTP/1.1", "HTTP/0.9" for a simple request
    /// (RFC 1945: "GET /path" and no version), "" if the segment ends first.
    Request {
        method: &'a str,
        uri: &'a [u8],
        version: &'static str,
    },
    Response {
        version: &'static str,
        status: u16,
        reason: &'a [u8],
    },
}

#[derive(Debug)]
enum Headers<'h, 'a> {
    /// A complete head, parsed by httparse.
    Parsed(&'h [httparse::Header<'a>]),
    /// The complete header lines after the start line (a partial head, one
    /// with more than [`MAX_HEADERS`] headers, or one httparse refuses past
    /// its start line).
    Lines(&'a [u8]),
}

/// A request or response head.
#[derive(Debug)]
pub struct Head<'h, 'a> {
    pub start: Start<'a>,
    headers: Headers<'h, 'a>,
    /// The head does not end in the segment (no empty line).
    pub partial: bool,
}

impl<'a> Head<'_, 'a> {
    /// (name, value) of every header read, in order.
    pub fn headers(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + '_ {
        let (parsed, lines): (&[httparse::Header<'a>], &'a [u8]) = match self.headers {
            Headers::Parsed(h) => (h, &[]),
            Headers::Lines(l) => (&[], l),
        };
        parsed.iter().map(|h| (h.name.as_bytes(), h.value)).chain(super::sip::headers(lines))
    }
}

/// Whether a segment starts like an HTTP/1.x head: "HTTP/1." or a known
/// method followed by a space. Cheap: most payloads fail on the first byte.
pub fn looks_like_head(p: &[u8]) -> bool {
    if !p.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    if p.starts_with(b"HTTP/1.") {
        return true;
    }
    let token_end = p.iter().take(12).position(|&c| c == b' ');
    token_end.is_some_and(|end| METHODS.contains(&&p[..end]))
}

fn is_response(p: &[u8]) -> bool {
    p.starts_with(b"HTTP/")
}

/// Parses the head at the start of `p`, using `slots` for httparse's
/// headers (a head with more is read line by line).
pub fn parse<'h, 'a>(p: &'a [u8], slots: &'h mut [httparse::Header<'a>]) -> Result<Head<'h, 'a>, HttpError> {
    let line = p.iter().position(|&c| c == b'\n').map_or(p, |i| &p[..=i]);
    let start = start_line(line)?;
    let config = lenient();
    if is_response(p) {
        let mut res = httparse::Response::new(slots);
        let status = config.parse_response(&mut res, p);
        Ok(head(p, start, status, res.headers))
    } else {
        let mut req = httparse::Request::new(slots);
        let status = config.parse_request(&mut req, p);
        Ok(head(p, start, status, req.headers))
    }
}

/// The start line alone (its line end included, if the segment has one):
/// httparse without header slots, so that an error is the start line's.
fn start_line(line: &[u8]) -> Result<Start<'_>, HttpError> {
    let config = lenient();
    let cut = !line.ends_with(b"\n");
    if is_response(line) {
        let mut res = httparse::Response::new(&mut []);
        let status = config.parse_response(&mut res, line);
        match (status, res.version, res.code, res.reason) {
            (Err(e), ..) => Err(HttpError::StartLine(e)),
            (Ok(_), Some(version), Some(status), Some(reason)) => {
                Ok(Start::Response { version: version_text(version), status, reason: reason.as_bytes() })
            }
            (Ok(_), ..) if cut => cut_status_line(line),
            (Ok(_), ..) => Err(HttpError::NotHttp),
        }
    } else {
        let mut req = httparse::Request::new(&mut []);
        let status = config.parse_request(&mut req, line);
        match (status, req.method, req.path, req.version) {
            (Err(e), ..) => simple_request(line).ok_or(HttpError::StartLine(e)),
            (Ok(_), Some(method), Some(uri), Some(version)) => {
                Ok(Start::Request { method, uri: uri.as_bytes(), version: version_text(version) })
            }
            (Ok(_), ..) if cut => cut_request_line(line),
            (Ok(_), ..) => Err(HttpError::NotHttp),
        }
    }
}

/// Accepts what real servers and clients send beyond the strict grammar.
fn lenient() -> httparse::ParserConfig {
    let mut config = httparse::ParserConfig::default();
    config
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_requests(true)
        .ignore_invalid_headers_in_responses(true);
    config
}

/// The head once its start line is known: httparse's headers if it read
/// the whole head, else the complete lines after the start line.
fn head<'h, 'a>(
    p: &'a [u8],
    start: Start<'a>,
    status: httparse::Result<usize>,
    parsed: &'h mut [httparse::Header<'a>],
) -> Head<'h, 'a> {
    if let Ok(httparse::Status::Complete(_)) = status {
        return Head { start, headers: Headers::Parsed(parsed), partial: false };
    }
    let after_start = p.iter().position(|&c| c == b'\n').map_or(p.len(), |i| i + 1);
    let last_line_end = p.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
    let lines = p.get(after_start..last_line_end.max(after_start)).unwrap_or_default();
    let ended = lines.starts_with(b"\r\n")
        || lines.starts_with(b"\n")
        || lines.windows(2).any(|w| w == b"\n\n")
        || lines.windows(3).any(|w| w == b"\n\r\n");
    Head { start, headers: Headers::Lines(lines), partial: !ended }
}

/// An HTTP/0.9 simple request: "GET", one space, a target without spaces,
/// the line end.
fn simple_request(line: &[u8]) -> Option<Start<'_>> {
    let line = line.strip_suffix(b"\n")?;
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let uri = line.strip_prefix(b"GET ")?;
    let printable = |c: &u8| c.is_ascii_graphic() || *c >= 0x80;
    (!uri.is_empty() && uri.iter().all(printable)).then_some(Start::Request { method: "GET", uri, version: "HTTP/0.9" })
}

/// A request line without its end: method, then as much of the target as
/// the segment holds.
fn cut_request_line(p: &[u8]) -> Result<Start<'_>, HttpError> {
    let space = p.iter().position(|&c| c == b' ').ok_or(HttpError::NotHttp)?;
    let method = std::str::from_utf8(&p[..space]).map_err(|_| HttpError::NotHttp)?;
    if !METHODS.contains(&method.as_bytes()) {
        return Err(HttpError::NotHttp);
    }
    let rest = p[space..].trim_ascii_start();
    let uri = rest.split(|&c| c == b' ').next().unwrap_or_default();
    let version = match rest.get(uri.len()..).map(<[u8]>::trim_ascii) {
        Some(b"HTTP/1.0") => "HTTP/1.0",
        Some(b"HTTP/1.1") => "HTTP/1.1",
        _ => "",
    };
    Ok(Start::Request { method, uri, version })
}

/// A status line without its end: "HTTP/1.x NNN" and what follows.
fn cut_status_line(p: &[u8]) -> Result<Start<'_>, HttpError> {
    let version = match p.get(..8) {
        Some(b"HTTP/1.0") => "HTTP/1.0",
        Some(b"HTTP/1.1") => "HTTP/1.1",
        _ => return Err(HttpError::NotHttp),
    };
    let rest = p[8..].trim_ascii_start();
    let digits = rest.get(..3).filter(|d| d.iter().all(u8::is_ascii_digit)).ok_or(HttpError::NotHttp)?;
    let status = digits.iter().fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    if rest.get(3).is_some_and(|&c| c != b' ') {
        return Err(HttpError::NotHttp);
    }
    let reason = rest.get(4..).unwrap_or_default();
    Ok(Start::Response { version, status, reason })
}

const VERSIONS: [&str; 2] = ["HTTP/1.0", "HTTP/1.1"];

fn version_text(minor: u8) -> &'static str {
    VERSIONS.get(usize::from(minor)).copied().unwrap_or("HTTP/1.1")
}

fn fill(r: &mut Http, h: &Head<'_, '_>) {
    r.method.clear();
    r.request_uri.clear();
    r.version.clear();
    r.reason.clear();
    r.status_code = 0;
    match h.start {
        Start::Request { method, uri, version } => {
            r.request = true;
            set_str(&mut r.method, method);
            set_lossy(&mut r.request_uri, uri);
            set_str(&mut r.version, version);
        }
        Start::Response { version, status, reason } => {
            r.request = false;
            set_str(&mut r.version, version);
            r.status_code = u32::from(status);
            set_lossy(&mut r.reason, reason);
        }
    }
    for s in [&mut r.host, &mut r.user_agent, &mut r.referer, &mut r.content_type, &mut r.server] {
        s.clear();
    }
    r.content_length = None;
    r.header_count = 0;
    r.partial = h.partial;
    let mut seen_length = false;
    for (name, value) in h.headers() {
        r.header_count += 1;
        let dst = if name.eq_ignore_ascii_case(b"host") {
            &mut r.host
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            &mut r.user_agent
        } else if name.eq_ignore_ascii_case(b"referer") {
            &mut r.referer
        } else if name.eq_ignore_ascii_case(b"content-type") {
            &mut r.content_type
        } else if name.eq_ignore_ascii_case(b"server") {
            &mut r.server
        } else {
            if name.eq_ignore_ascii_case(b"content-length") && !seen_length {
                seen_length = true;
                r.content_length = std::str::from_utf8(value).ok().and_then(|v| v.trim().parse().ok());
            }
            continue;
        };
        if dst.is_empty() {
            set_lossy(dst, value.trim_ascii());
        }
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Http) {
        return;
    }
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match parse(payload, &mut slots) {
        Ok(h) => emit!(cx, flow, RecordType::Http, http, |r| fill(r, &h)),
        Err(e) if PORTS.contains(&flow.dst_port) || PORTS.contains(&flow.src_port) => {
            super::parse_error(cx, Layer::Http, flow, e)
        }
        // Another protocol that shares HTTP's methods, on its own port.
        Err(_) => {}
    }
}

/// Parses a head and walks its headers (fuzz entry point): the number of
/// headers read.
pub fn parse_all(p: &[u8]) -> Option<usize> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let n = parse(p, &mut slots).ok().map(|h| h.headers().count());
    let few = parse(p, &mut []).ok().map(|h| h.headers().count());
    n.or(few)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(p: &[u8]) -> Http {
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let h = parse(p, &mut slots).unwrap();
        let mut r = Http::default();
        fill(&mut r, &h);
        r
    }

    #[test]
    fn complete_request_and_response() {
        let r = record(
            b"GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\n\
              Referer: http://a/\r\nAccept: */*\r\n\r\nbody",
        );
        assert!(r.request && !r.partial);
        assert_eq!(
            (r.method.as_str(), r.request_uri.as_str(), r.version.as_str()),
            ("GET", "/index.html?q=1", "HTTP/1.1")
        );
        assert_eq!(
            (r.host.as_str(), r.user_agent.as_str(), r.referer.as_str()),
            ("example.com", "curl/8.0", "http://a/")
        );
        assert_eq!((r.header_count, r.content_length, r.status_code), (4, None, 0));

        let r =
            record(b"HTTP/1.0 404 Not Found\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n");
        assert!(!r.request && !r.partial);
        assert_eq!((r.status_code, r.reason.as_str(), r.version.as_str()), (404, "Not Found", "HTTP/1.0"));
        assert_eq!((r.server.as_str(), r.content_type.as_str(), r.content_length), ("nginx", "text/html", Some(12)));
        assert!(r.method.is_empty() && r.request_uri.is_empty());
    }

    #[test]
    fn partial_heads_give_their_complete_lines() {
        let r = record(b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 99\r\nUser-Ag");
        assert!(r.request && r.partial);
        assert_eq!((r.method.as_str(), r.host.as_str(), r.content_length), ("POST", "h", Some(99)));
        assert_eq!((r.user_agent.as_str(), r.header_count), ("", 2));
        // Cut inside the request line: the method and the target so far.
        let r = record(b"GET /a/very/long/pa");
        assert_eq!(
            (r.method.as_str(), r.request_uri.as_str(), r.version.as_str(), r.partial),
            ("GET", "/a/very/long/pa", "", true)
        );
        let r = record(b"HTTP/1.1 200 O");
        assert_eq!((r.status_code, r.reason.as_str(), r.partial), (200, "O", true));
        // HTTP/0.9.
        let r = record(b"GET /bad.html\r\n");
        assert_eq!((r.method.as_str(), r.request_uri.as_str(), r.version.as_str()), ("GET", "/bad.html", "HTTP/0.9"));
        let r = record(b"HTTP/1.1 301 Moved\r\n");
        assert_eq!((r.status_code, r.header_count, r.partial), (301, 0, true));
    }

    #[test]
    fn many_headers_are_read_line_by_line() {
        let mut p = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..100 {
            p.extend_from_slice(format!("X-{i}: {i}\r\n").as_bytes());
        }
        p.extend_from_slice(b"Host: late\r\n\r\n");
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let h = parse(&p, &mut slots).unwrap();
        let mut r = Http::default();
        fill(&mut r, &h);
        assert_eq!((r.header_count, r.host.as_str(), r.partial), (101, "late", false));
    }

    #[test]
    fn detection_and_garbage() {
        assert!(looks_like_head(b"GET / HTTP/1.1\r\n"));
        assert!(looks_like_head(b"M-SEARCH * HTTP/1.1\r\n"));
        assert!(looks_like_head(b"HTTP/1.1 200 OK"));
        assert!(!looks_like_head(b"GETX / HTTP/1.1"));
        assert!(!looks_like_head(b"get / HTTP/1.1"));
        assert!(!looks_like_head(b"\x16\x03\x01"));
        assert!(!looks_like_head(b""));
        let mut slots = [httparse::EMPTY_HEADER; 4];
        for bad in [
            &b"HTTP/1.1 abc OK\r\n\r\n"[..],
            b"HTTP/2.0 200 OK\r\n\r\n",
            b"OPTIONS sip:a@b SIP/2.0\r\n\r\n",
            b"GET / HTTP/1.1 x\r\n\r\n",
            b"GET\r\n",
            b"GET /a b\r\n",
            b"POST /a\r\n",
            b"HTTP/1.1 20",
            b"HTTP/1.1 2000",
        ] {
            assert!(parse(bad, &mut slots).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        // Every cut of a head parses or fails, never panics.
        let full = b"HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello";
        for cut in 0..full.len() {
            let _ = parse_all(&full[..cut]);
        }
    }
}
