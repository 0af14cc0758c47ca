//! The stateless part of the HTTP/1.x parser: heads (through `httparse`),
//! chunk-size and trailer lines, the body-framing decision, the resync
//! search, and the small header-value decoders (Basic credentials,
//! Content-Disposition, Content-Range, URI file names).
//!
//! Every function takes bytes and returns a verdict; nothing here keeps
//! state or allocates in proportion to its input beyond the strings it
//! returns (which are bounded by [`MAX_HEAD_BYTES`]).

use crate::protocols::{Direction, Probe};
use base64::Engine;
use httparse::Header;

/// A head (start line, header lines, blank line) longer than this is an
/// error: the bytes of a partial head are held until it completes, so this
/// bounds what a direction keeps.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Header lines per head at most; more is an error.
pub const MAX_HEADERS: usize = 128;
/// A chunk-size line (with extensions) longer than this is an error.
pub const MAX_CHUNK_LINE: usize = 4096;
/// A trailer line longer than this is an error.
pub const MAX_TRAILER_LINE: usize = 8192;
/// Trailer lines after the last chunk at most; more is an error.
pub const MAX_TRAILERS: u32 = MAX_HEADERS as u32;
/// A request line looked at while resynchronising is given up on (not a
/// message start) beyond this many bytes.
pub const MAX_RESYNC_LINE: usize = 8192;
/// Method tokens longer than this do not start a request.
const MAX_METHOD: usize = 32;

/// Request methods a resynchronisation point may start with (RFC 9110,
/// WebDAV, and a few common extensions). Normal parsing accepts any token.
pub const METHODS: &[&[u8]] = &[
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

/// HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// A simple request (RFC 1945: "GET /path", no version, no headers).
    Http09,
    Http10,
    Http11,
    /// A request line whose version is missing or malformed ("GET /",
    /// "GET / HTTP/1."), read leniently (see [`parse_head`]).
    Unknown,
}

impl HttpVersion {
    /// As written in records: "HTTP/0.9", "HTTP/1.0", "HTTP/1.1".
    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http09 => "HTTP/0.9",
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
            HttpVersion::Unknown => "",
        }
    }

    fn from_minor(minor: u8) -> Self {
        if minor == 0 { HttpVersion::Http10 } else { HttpVersion::Http11 }
    }
}

/// The first line of a head.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'b> {
    Request { method: &'b str, target: &'b [u8], version: HttpVersion },
    Response { version: HttpVersion, code: u16, reason: &'b [u8] },
}

/// A complete head.
#[derive(Debug)]
pub struct Head<'h, 'b> {
    pub start_line: StartLine<'b>,
    pub headers: &'h [Header<'b>],
    /// Offset of the start line (empty lines before it are skipped).
    pub start: usize,
    /// Bytes of the head, from the beginning of the buffer through the blank
    /// line (through the request line of a simple request).
    pub len: usize,
}

/// What [`parse_head`] found.
#[derive(Debug)]
pub enum HeadStatus<'h, 'b> {
    /// The head is incomplete so far. No head end starts before `scanned`:
    /// passing it back as `scan_from` with the same bytes and more skips
    /// the search over what was searched already.
    Partial {
        scanned: usize,
    },
    Complete(Head<'h, 'b>),
}

/// Why a head was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    #[error("head longer than {MAX_HEAD_BYTES} bytes")]
    TooLarge,
    #[error("more than {MAX_HEADERS} header lines")]
    TooManyHeaders,
    #[error("not a request or status line")]
    BadStartLine,
    #[error("malformed head: {0}")]
    Malformed(httparse::Error),
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_line_end(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// Whether `buf`, the beginning of a start line without its end, can still
/// become one: a method token and a space to the server, "HTTP/1." to the
/// client.
fn start_line_plausible(dir: Direction, buf: &[u8]) -> bool {
    match dir {
        Direction::ToServer => match buf.iter().position(|&b| b == b' ') {
            Some(n) => n > 0 && n <= MAX_METHOD && buf[..n].iter().all(|&b| is_tchar(b)),
            None => buf.len() <= MAX_METHOD && buf.iter().all(|&b| is_tchar(b)),
        },
        Direction::ToClient => {
            let prefix: &[u8] = b"HTTP/1.";
            let n = buf.len().min(prefix.len());
            buf[..n] == prefix[..n]
        }
    }
}

/// A simple request line (without its line end): "GET", one or more
/// spaces, a target without spaces, optional trailing spaces. A target
/// that ends in a version ("GET /HTTP/1.1": the space before it missing)
/// is no simple request: its client meant HTTP/1 and sends header lines,
/// which tshark and servers read as the request's (the request is then
/// read leniently, with its headers).
fn simple_request_target(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"GET ")?;
    let start = rest.iter().position(|&b| b != b' ')?;
    let rest = &rest[start..];
    let end = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let (target, tail) = rest.split_at(end);
    if target.ends_with(b"HTTP/1.0") || target.ends_with(b"HTTP/1.1") {
        return None;
    }
    (tail.iter().all(|&b| b == b' ') && target.iter().all(|&b| b > b' ' && b != 0x7f)).then_some(target)
}

/// A request line that `httparse` refuses but servers answer and tshark,
/// Zeek and libhtp read as a request: an upper-case method token, then a
/// target without spaces or control bytes, then a version that is missing
/// or malformed ("HTTP/1.", "HTTP/"); or a known method alone ("OPTIONS").
/// A version word must start with "HTTP/" and not name version 2 to 9 (the
/// HTTP/2 preface "PRI * HTTP/2.0" is not an HTTP/1 request). Words may
/// be separated by several spaces. Returns the method, the target (empty
/// when there is none) and the version ([`HttpVersion::Unknown`] unless the
/// version word is a valid one).
fn lenient_request_line(line: &[u8]) -> Option<(&str, &[u8], HttpVersion)> {
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let method = words.next()?;
    let method_ok = method.len() <= MAX_METHOD
        && method.iter().all(|&b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !method_ok {
        return None;
    }
    let target = words.next().unwrap_or_default();
    if (target.is_empty() && !METHODS.contains(&method)) || target.iter().any(|&b| b < b' ' || b == 0x7f) {
        return None;
    }
    let version = match words.next() {
        None => HttpVersion::Unknown,
        Some(b"HTTP/1.0") => HttpVersion::Http10,
        Some(b"HTTP/1.1") => HttpVersion::Http11,
        Some(v) if v.starts_with(b"HTTP/") && !matches!(v.get(5), Some(b'2'..=b'9')) => HttpVersion::Unknown,
        Some(_) => return None,
    };
    if words.next().is_some() {
        return None;
    }
    Some((std::str::from_utf8(method).ok()?, target, version))
}

/// Whether httparse accepts `line` (a request line with its line end) as a
/// request line.
fn request_line_valid(line: &[u8]) -> bool {
    let mut none = [];
    matches!(
        request_config().parse_request(&mut httparse::Request::new(&mut none), line),
        Ok(_) | Err(httparse::Error::TooManyHeaders)
    )
}

/// Offset just past the blank line that ends a head in `buf`, searching
/// line ends from `from` on; or `Err(n)`: no head end starts before `n`.
/// Bare LF line ends are accepted.
pub fn find_head_end(buf: &[u8], from: usize) -> Result<usize, usize> {
    let mut i = from.min(buf.len());
    while let Some(k) = buf[i..].iter().position(|&b| b == b'\n') {
        let lf = i + k;
        match buf.get(lf + 1) {
            Some(b'\n') => return Ok(lf + 2),
            Some(b'\r') => match buf.get(lf + 2) {
                Some(b'\n') => return Ok(lf + 3),
                Some(_) => {}
                None => return Err(lf),
            },
            Some(_) => {}
            None => return Err(lf),
        }
        i = lf + 1;
    }
    Err(buf.len())
}

/// The reason phrase of a status line: after the version, spaces, the code
/// and spaces, up to the line end.
fn reason_phrase(line: &[u8]) -> &[u8] {
    let line = match line.iter().position(|&b| is_line_end(b)) {
        Some(n) => &line[..n],
        None => line,
    };
    let mut rest = line.get(8..).unwrap_or_default();
    rest = &rest[rest.iter().position(|&b| b != b' ').unwrap_or(rest.len())..];
    rest = rest.get(3..).unwrap_or_default();
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    &rest[start..]
}

fn request_config() -> httparse::ParserConfig {
    let mut config = httparse::ParserConfig::default();
    config.allow_multiple_spaces_in_request_line_delimiters(true).ignore_invalid_headers_in_requests(true);
    config
}

fn response_config() -> httparse::ParserConfig {
    let mut config = httparse::ParserConfig::default();
    config
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .ignore_invalid_headers_in_responses(true);
    config
}

fn map_httparse(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        e => HeadError::Malformed(e),
    }
}

/// Parses the head at the start of `buf`: a request head (or a simple
/// HTTP/0.9 request line) to the server, a response head to the client.
/// Empty lines before the start line are skipped. `scan_from` is the
/// `scanned` of an earlier [`HeadStatus::Partial`] over the same bytes (0
/// otherwise). `headers` receives the header lines (its length bounds
/// their number: pass [`MAX_HEADERS`] of them). A request line httparse
/// refuses is read leniently where servers, tshark and Zeek still see a
/// request (`lenient_request_line`: a missing or malformed version, extra
/// spaces, a method alone); its header lines are parsed as usual.
///
/// The verdict does not depend on how the bytes were cut: a start line
/// that cannot become valid is refused as soon as it is seen; a head
/// without its end within [`MAX_HEAD_BYTES`] is refused once that many
/// bytes are there.
pub fn parse_head<'h, 'b>(
    dir: Direction,
    buf: &'b [u8],
    scan_from: usize,
    headers: &'h mut [Header<'b>],
) -> Result<HeadStatus<'h, 'b>, HeadError> {
    let start = buf.iter().position(|&b| !is_line_end(b)).unwrap_or(buf.len());
    let window = &buf[..buf.len().min(MAX_HEAD_BYTES)];
    if start >= window.len() {
        return if buf.len() >= MAX_HEAD_BYTES {
            Err(HeadError::TooLarge)
        } else {
            Ok(HeadStatus::Partial { scanned: 0 })
        };
    }
    let Some(first_lf) = window[start..].iter().position(|&b| b == b'\n').map(|k| start + k) else {
        if !start_line_plausible(dir, &buf[start..]) {
            return Err(HeadError::BadStartLine);
        }
        if buf.len() >= MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
        return Ok(HeadStatus::Partial { scanned: start });
    };
    let line = &buf[start..first_lf];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if dir == Direction::ToServer
        && let Some(target) = simple_request_target(line)
    {
        let start_line = StartLine::Request { method: "GET", target, version: HttpVersion::Http09 };
        return Ok(HeadStatus::Complete(Head { start_line, headers: &[], start, len: first_lf + 1 }));
    }
    let end = match find_head_end(window, scan_from.max(first_lf)) {
        Ok(end) => end,
        Err(scanned) => {
            // Check the start line now so that garbage is refused at its
            // first line end, not after MAX_HEAD_BYTES.
            let mut none = [];
            let verdict = match dir {
                Direction::ToServer => {
                    request_config().parse_request(&mut httparse::Request::new(&mut none), &buf[start..=first_lf])
                }
                Direction::ToClient => {
                    response_config().parse_response(&mut httparse::Response::new(&mut none), &buf[start..=first_lf])
                }
            };
            match verdict {
                Err(httparse::Error::TooManyHeaders) | Ok(_) => {}
                Err(_) if dir == Direction::ToServer && lenient_request_line(line).is_some() => {}
                Err(e) => return Err(map_httparse(e)),
            }
            if buf.len() >= MAX_HEAD_BYTES {
                return Err(HeadError::TooLarge);
            }
            return Ok(HeadStatus::Partial { scanned });
        }
    };
    let bytes = &buf[start..end];
    match dir {
        Direction::ToServer if !request_line_valid(&buf[start..=first_lf]) => {
            // httparse refuses the request line: read it leniently, and the
            // header lines after it as usual.
            let Some((method, target, version)) = lenient_request_line(line) else {
                return Err(HeadError::BadStartLine);
            };
            let headers = match httparse::parse_headers(&buf[first_lf + 1..end], headers) {
                Ok(httparse::Status::Complete((_, headers))) => headers,
                Ok(httparse::Status::Partial) => return Err(HeadError::Malformed(httparse::Error::NewLine)),
                Err(e) => return Err(map_httparse(e)),
            };
            let start_line = StartLine::Request { method, target, version };
            Ok(HeadStatus::Complete(Head { start_line, headers, start, len: end }))
        }
        Direction::ToServer => {
            let mut request = httparse::Request::new(headers);
            match request_config().parse_request(&mut request, bytes) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err(HeadError::Malformed(httparse::Error::NewLine)),
                Err(e) => return Err(map_httparse(e)),
            }
            let (Some(method), Some(path), Some(minor)) = (request.method, request.path, request.version) else {
                return Err(HeadError::BadStartLine);
            };
            let start_line =
                StartLine::Request { method, target: path.as_bytes(), version: HttpVersion::from_minor(minor) };
            Ok(HeadStatus::Complete(Head { start_line, headers: request.headers, start, len: end }))
        }
        Direction::ToClient => {
            let mut response = httparse::Response::new(headers);
            match response_config().parse_response(&mut response, bytes) {
                Ok(httparse::Status::Complete(_)) => {}
                Ok(httparse::Status::Partial) => return Err(HeadError::Malformed(httparse::Error::NewLine)),
                Err(e) => return Err(map_httparse(e)),
            }
            let (Some(minor), Some(code)) = (response.version, response.code) else {
                return Err(HeadError::BadStartLine);
            };
            let start_line =
                StartLine::Response { version: HttpVersion::from_minor(minor), code, reason: reason_phrase(bytes) };
            Ok(HeadStatus::Complete(Head { start_line, headers: response.headers, start, len: end }))
        }
    }
}

/// A chunk-size line or a trailer line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<T> {
    /// Its end has not arrived.
    Partial,
    /// The value and the line's length with its end.
    Complete(T, usize),
}

/// A malformed chunk-size or trailer line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("malformed chunk-size line")]
    BadChunkSize,
    #[error("line too long")]
    TooLong,
}

/// Parses a chunk-size line: 1 to 16 hex digits, optional spaces or tabs,
/// an optional extension (";" and anything up to the line end), CRLF or LF.
pub fn parse_chunk_line(buf: &[u8]) -> Result<Line<u64>, LineError> {
    let mut size: u64 = 0;
    let mut digits = 0;
    let mut i = 0;
    while let Some(&b) = buf.get(i) {
        let Some(d) = (b as char).to_digit(16) else { break };
        digits += 1;
        if digits > 16 {
            return Err(LineError::BadChunkSize);
        }
        size = (size << 4) | u64::from(d);
        i += 1;
    }
    if i == buf.len() {
        return if buf.len() > 16 { Err(LineError::BadChunkSize) } else { Ok(Line::Partial) };
    }
    if digits == 0 {
        return Err(LineError::BadChunkSize);
    }
    while let Some(b' ' | b'\t') = buf.get(i) {
        i += 1;
    }
    match buf.get(i) {
        None => {}
        Some(b';') => {}
        Some(b'\r') => match buf.get(i + 1) {
            None => {}
            Some(b'\n') => return Ok(Line::Complete(size, i + 2)),
            Some(_) => return Err(LineError::BadChunkSize),
        },
        Some(b'\n') => return Ok(Line::Complete(size, i + 1)),
        Some(_) => return Err(LineError::BadChunkSize),
    }
    match buf.iter().position(|&b| b == b'\n') {
        Some(lf) if lf < MAX_CHUNK_LINE => Ok(Line::Complete(size, lf + 1)),
        Some(_) => Err(LineError::TooLong),
        None if buf.len() >= MAX_CHUNK_LINE => Err(LineError::TooLong),
        None => Ok(Line::Partial),
    }
}

/// Parses a trailer line (or the blank line that ends the trailers):
/// whether it is blank, and its length with its end.
pub fn parse_trailer_line(buf: &[u8]) -> Result<Line<bool>, LineError> {
    match buf.iter().take(MAX_TRAILER_LINE).position(|&b| b == b'\n') {
        Some(lf) => Ok(Line::Complete(lf == 0 || (lf == 1 && buf[0] == b'\r'), lf + 1)),
        None if buf.len() >= MAX_TRAILER_LINE => Err(LineError::TooLong),
        None => Ok(Line::Partial),
    }
}

/// How a message's body is delimited (RFC 9112 section 6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// No body.
    None,
    /// Content-Length bytes.
    Length(u64),
    /// Chunked transfer coding.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
    /// A 2xx response to CONNECT: the connection becomes a tunnel.
    Tunnel,
    /// 101 Switching Protocols: another protocol follows the head.
    Switch,
}

/// The first value of header `name` (case-insensitive).
pub fn header<'b>(headers: &[Header<'b>], name: &str) -> Option<&'b [u8]> {
    headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value)
}

fn trim(value: &[u8]) -> &[u8] {
    let start = value.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(value.len());
    let end = value.iter().rposition(|b| !b.is_ascii_whitespace()).map_or(start, |e| e + 1);
    &value[start..end.max(start)]
}

/// Whether the Transfer-Encoding headers are present, and whether their
/// last coding is chunked.
fn transfer_encoding(headers: &[Header<'_>]) -> Option<bool> {
    let mut last: Option<&[u8]> = None;
    for h in headers.iter().filter(|h| h.name.eq_ignore_ascii_case("transfer-encoding")) {
        for coding in h.value.split(|&b| b == b',') {
            let coding = trim(coding);
            if !coding.is_empty() {
                last = Some(coding);
            }
        }
        last = last.or(Some(b""));
    }
    last.map(|c| c.eq_ignore_ascii_case(b"chunked"))
}

/// The Content-Length: `Ok(None)` without one, an error when a value is not
/// a number or values differ ("5, 5" is 5).
fn content_length(headers: &[Header<'_>]) -> Result<Option<u64>, ()> {
    let mut length = None;
    for h in headers.iter().filter(|h| h.name.eq_ignore_ascii_case("content-length")) {
        for v in h.value.split(|&b| b == b',') {
            let v = trim(v);
            if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
                return Err(());
            }
            let n = v.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
            if length.is_some_and(|l| l != n) {
                return Err(());
            }
            length = Some(n);
        }
    }
    Ok(length)
}

/// Framing of a request body, and whether its framing headers were
/// malformed (a Transfer-Encoding whose last coding is not chunked, an
/// invalid Content-Length): then there is taken to be no body.
pub fn request_framing(headers: &[Header<'_>]) -> (Framing, bool) {
    match transfer_encoding(headers) {
        Some(true) => return (Framing::Chunked, false),
        Some(false) => return (Framing::None, true),
        None => {}
    }
    match content_length(headers) {
        Ok(Some(0)) | Ok(None) => (Framing::None, false),
        Ok(Some(n)) => (Framing::Length(n), false),
        Err(()) => (Framing::None, true),
    }
}

/// Framing of a response body given its request's method (`None`: no
/// request), and whether its framing headers were malformed (an invalid
/// Content-Length: then the body runs until the connection closes).
/// 1xx responses other than 101 are interim: no body.
pub fn response_framing(request_method: Option<&str>, code: u16, headers: &[Header<'_>]) -> (Framing, bool) {
    let method = request_method.unwrap_or("");
    if code == 101 {
        return (Framing::Switch, false);
    }
    if method.eq_ignore_ascii_case("CONNECT") && (200..300).contains(&code) {
        return (Framing::Tunnel, false);
    }
    if method.eq_ignore_ascii_case("HEAD") || (100..200).contains(&code) || code == 204 || code == 304 {
        return (Framing::None, false);
    }
    match transfer_encoding(headers) {
        Some(true) => return (Framing::Chunked, false),
        Some(false) => return (Framing::UntilClose, false),
        None => {}
    }
    match content_length(headers) {
        Ok(Some(0)) => (Framing::None, false),
        Ok(Some(n)) => (Framing::Length(n), false),
        Ok(None) => (Framing::UntilClose, false),
        Err(()) => (Framing::UntilClose, true),
    }
}

/// Whether `buf`, at a line start, starts a message: a request line with a
/// known method (and version, or a simple request) to the server, a status
/// line to the client.
pub fn message_start(dir: Direction, buf: &[u8]) -> Probe {
    match dir {
        Direction::ToServer => {
            let Some(sp) = buf.iter().take(MAX_METHOD + 1).position(|&b| b == b' ') else {
                return if buf.len() <= MAX_METHOD && METHODS.iter().any(|m| m.starts_with(buf)) {
                    Probe::NeedMore
                } else {
                    Probe::No
                };
            };
            if !METHODS.contains(&&buf[..sp]) {
                return Probe::No;
            }
            let Some(lf) = buf.iter().take(MAX_RESYNC_LINE).position(|&b| b == b'\n') else {
                return if buf.len() >= MAX_RESYNC_LINE { Probe::No } else { Probe::NeedMore };
            };
            let line = &buf[..lf];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if simple_request_target(line).is_some() {
                return Probe::Yes;
            }
            let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
            match (words.next(), words.next(), words.next(), words.next()) {
                (Some(_), Some(target), Some(b"HTTP/1.0" | b"HTTP/1.1"), None)
                    if target.iter().all(|&b| b > b' ' && b != 0x7f) =>
                {
                    Probe::Yes
                }
                _ => Probe::No,
            }
        }
        Direction::ToClient => {
            // "HTTP/1.x ddd" then a space or the line end.
            let n = buf.len().min(13);
            for (i, &b) in buf[..n].iter().enumerate() {
                let ok = match i {
                    0..=6 => b == b"HTTP/1."[i],
                    7 => b == b'0' || b == b'1',
                    8 => b == b' ',
                    9..=11 => b.is_ascii_digit(),
                    _ => b == b' ' || is_line_end(b),
                };
                if !ok {
                    return Probe::No;
                }
            }
            if n < 13 { Probe::NeedMore } else { Probe::Yes }
        }
    }
}

/// Where a resynchronisation search over `buf` stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resync {
    /// A message starts at this offset.
    Found(usize),
    /// A line (or packet) starting at this offset may start a message: look
    /// again with more bytes (the offset is a line or packet start).
    NeedMore(usize),
    /// No message starts in `buf`; whether its end is a line start.
    NotFound { line_start: bool },
}

/// Searches `buf` for the first line start or packet start where a
/// message begins ([`message_start`]); `line_start`: whether `buf[0]`
/// starts a line; `packet_starts`: offsets in `buf` (ascending) where a
/// packet's bytes begin. Senders start a message in a new segment as a rule
/// (tshark looks for one at every segment's start), so after a gap a
/// response that follows a binary body (no line end before it) is found
/// there.
pub fn resync_scan(
    dir: Direction,
    buf: &[u8],
    line_start: bool,
    packet_starts: impl IntoIterator<Item = usize>,
) -> Resync {
    let mut packet_starts = packet_starts.into_iter().peekable();
    let mut pos = 0;
    let mut at_start = line_start;
    loop {
        while let Some(&start) = packet_starts.peek() {
            if start > pos {
                break;
            }
            at_start |= start == pos;
            packet_starts.next();
        }
        if at_start {
            match message_start(dir, &buf[pos..]) {
                Probe::Yes => return Resync::Found(pos),
                Probe::NeedMore => return Resync::NeedMore(pos),
                Probe::No => {}
            }
        }
        let next_line = buf[pos..].iter().position(|&b| b == b'\n').map(|k| pos + k + 1);
        let next_packet = packet_starts.peek().copied().filter(|&start| start < buf.len());
        pos = match (next_line, next_packet) {
            (Some(line), Some(packet)) => line.min(packet),
            (Some(next), None) | (None, Some(next)) => next,
            (None, None) => return Resync::NotFound { line_start: false },
        };
        at_start = next_line == Some(pos);
    }
}

pub use crate::protocols::lossy;

/// `s` cut to at most `max` bytes, at a character boundary.
pub fn truncated(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Percent-decoding; a "%" not followed by two hex digits stays as it is.
pub fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |k: usize| bytes.get(k).and_then(|&b| (b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The media type of a Content-Type value: parameters removed, trimmed.
pub fn media_type(value: &[u8]) -> String {
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    lossy(trim(&value[..end]))
}

/// Base64 as senders write it: standard alphabet, padding optional.
const BASE64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
);

/// The user name of an `Authorization: Basic` value (the decoded
/// credentials up to the first ":"); `None` for other schemes or invalid
/// base64.
pub fn basic_auth_username(value: &[u8]) -> Option<String> {
    basic_auth(value).map(|(user, _)| user)
}

/// User and password of an `Authorization: Basic` value (RFC 7617: the
/// decoded credentials split at the first ":"); `None` for other schemes
/// or invalid base64.
pub fn basic_auth(value: &[u8]) -> Option<(String, String)> {
    let value = trim(value);
    let sp = value.iter().position(|b| b.is_ascii_whitespace())?;
    if !value[..sp].eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let decoded = BASE64.decode(trim(&value[sp..])).ok()?;
    let end = decoded.iter().position(|&b| b == b':').unwrap_or(decoded.len());
    Some((lossy(&decoded[..end]), lossy(decoded.get(end + 1..).unwrap_or_default())))
}

/// A credential an `Authorization` header carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAuth {
    pub user: String,
    /// Basic: the password. Digest: the `response` digest (hash material,
    /// hidden like a password by `-no-secrets`).
    pub password: String,
    /// Empty for Basic; for Digest the other parameters a cracker needs
    /// (`Digest realm="..." uri="..." algorithm=MD5 qop=auth nc=...
    /// nonce="..." cnonce="..." opaque="..."`).
    pub notes: String,
}

/// The credential of an `Authorization` value: Basic (RFC 7617) or Digest
/// (RFC 7616); `None` for other schemes or values that do not parse.
pub fn authorization(value: &[u8]) -> Option<HttpAuth> {
    if let Some((user, password)) = basic_auth(value) {
        return Some(HttpAuth { user, password, notes: String::new() });
    }
    digest_auth(value)
}

/// Digest parameters kept in [`HttpAuth::notes`], in this order.
const DIGEST_NOTES: [&str; 7] = ["realm", "uri", "algorithm", "qop", "nc", "nonce", "cnonce"];

/// An `Authorization: Digest` value's user, response and parameters.
pub fn digest_auth(value: &[u8]) -> Option<HttpAuth> {
    let value = trim(value);
    let sp = value.iter().position(|b| b.is_ascii_whitespace())?;
    if !value[..sp].eq_ignore_ascii_case(b"digest") {
        return None;
    }
    let params = name_value_list(&value[sp..], b',');
    let get = |name: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes())).map(|(_, v)| v);
    let user = lossy(get("username")?);
    let password = get("response").map(|v| lossy(v)).unwrap_or_default();
    let mut notes = String::from("Digest");
    for name in DIGEST_NOTES.iter().chain(["opaque"].iter()) {
        if let Some(v) = get(name) {
            notes.push_str(&format!(" {name}=\"{}\"", lossy(v)));
        }
    }
    Some(HttpAuth { user, password, notes })
}

/// The parameters of a header value after its first ";" (name, value with
/// quotes and escapes undone).
fn parameters(value: &[u8]) -> Vec<(&[u8], Vec<u8>)> {
    match value.iter().position(|&b| b == b';') {
        Some(n) => name_value_list(&value[n + 1..], b';'),
        None => Vec::new(),
    }
}

/// `name=value` or `name="quoted value"` pairs separated by `sep` (`;`
/// for header parameters, `,` for RFC 9110 auth-params), at most
/// [`MAX_HEADERS`]; names without a value are left out.
fn name_value_list(value: &[u8], sep: u8) -> Vec<(&[u8], Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < value.len() && out.len() < MAX_HEADERS {
        while i < value.len() && (value[i] == sep || value[i].is_ascii_whitespace()) {
            i += 1;
        }
        let name_start = i;
        while i < value.len() && value[i] != b'=' && value[i] != sep {
            i += 1;
        }
        let name = trim(&value[name_start..i]);
        if value.get(i) != Some(&b'=') {
            continue;
        }
        i += 1;
        while i < value.len() && value[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut v = Vec::new();
        if value.get(i) == Some(&b'"') {
            i += 1;
            while i < value.len() && value[i] != b'"' {
                if value[i] == b'\\' && i + 1 < value.len() {
                    i += 1;
                }
                v.push(value[i]);
                i += 1;
            }
            i += 1;
            while i < value.len() && value[i] != sep {
                i += 1;
            }
        } else {
            let start = i;
            while i < value.len() && value[i] != sep {
                i += 1;
            }
            v.extend_from_slice(trim(&value[start..i]));
        }
        out.push((name, v));
    }
    out
}

/// The file name of a Content-Disposition value (RFC 6266): `filename*`
/// (RFC 8187/5987 `charset'language'percent-encoded`; UTF-8 and ISO-8859-1
/// decoded, other charsets lossily as UTF-8) before `filename`. Lossy.
pub fn content_disposition_filename(value: &[u8]) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for (name, v) in parameters(value) {
        if name.eq_ignore_ascii_case(b"filename*") && extended.is_none() {
            let mut parts = v.splitn(3, |&b| b == b'\'');
            if let (Some(charset), Some(_language), Some(encoded)) = (parts.next(), parts.next(), parts.next()) {
                let bytes = percent_decode(encoded);
                extended = Some(if charset.eq_ignore_ascii_case(b"iso-8859-1") {
                    bytes.iter().map(|&b| char::from(b)).collect()
                } else {
                    lossy(&bytes)
                });
            }
        } else if name.eq_ignore_ascii_case(b"filename") && plain.is_none() {
            plain = Some(lossy(&v));
        }
    }
    extended.filter(|s| !s.is_empty()).or(plain).filter(|s| !s.is_empty())
}

/// The last non-empty segment of a request target's path, percent-decoded
/// (lossy): "/a/b.txt?x" gives "b.txt"; absolute-form targets
/// ("http://host/path") use their path; authority-form and "*" give none.
pub fn uri_filename(target: &[u8]) -> Option<String> {
    let path = if target.starts_with(b"/") {
        target
    } else {
        let scheme_end = target.windows(3).position(|w| w == b"://")?;
        let after = &target[scheme_end + 3..];
        &after[after.iter().position(|&b| b == b'/')?..]
    };
    let end = path.iter().position(|&b| b == b'?' || b == b'#').unwrap_or(path.len());
    let segment = path[..end].split(|&b| b == b'/').rfind(|s| !s.is_empty())?;
    Some(lossy(&percent_decode(segment))).filter(|s| !s.is_empty())
}

/// The complete length of a Content-Range value ("bytes 0-99/1234" gives
/// 1234; an unknown length "*" gives none).
pub fn content_range_total(value: &[u8]) -> Option<u64> {
    let slash = value.iter().rposition(|&b| b == b'/')?;
    let total = trim(&value[slash + 1..]);
    if total.is_empty() || total.len() > 19 || !total.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(total.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Start line, header (name, value) pairs, start and length of a head.
    type Parsed<'b> = (StartLine<'b>, Vec<(String, String)>, usize, usize);

    fn head(dir: Direction, buf: &[u8]) -> Result<Parsed<'_>, HeadError> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match parse_head(dir, buf, 0, &mut headers)? {
            HeadStatus::Partial { .. } => panic!("partial"),
            HeadStatus::Complete(h) => Ok((
                h.start_line,
                h.headers.iter().map(|h| (h.name.to_string(), lossy(h.value))).collect(),
                h.start,
                h.len,
            )),
        }
    }

    fn is_partial(dir: Direction, buf: &[u8]) -> bool {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        matches!(parse_head(dir, buf, 0, &mut headers), Ok(HeadStatus::Partial { .. }))
    }

    #[test]
    fn request_head_every_prefix_is_partial_then_complete() {
        let req = b"\r\nGET /a%20b?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\n\r\nBODY";
        let (line, headers, start, len) = head(Direction::ToServer, req).unwrap();
        assert_eq!(line, StartLine::Request { method: "GET", target: b"/a%20b?x=1", version: HttpVersion::Http11 });
        assert_eq!(headers, [("Host".into(), "example.com".into()), ("X-Empty".into(), String::new())]);
        assert_eq!((start, len), (2, req.len() - 4));
        for n in 0..len {
            assert!(is_partial(Direction::ToServer, &req[..n]), "prefix {n}");
        }
    }

    #[test]
    fn response_head_with_bare_lf_and_raw_reason() {
        let resp = b"HTTP/1.0 404 Not \xffFound\nServer: x\n\n";
        let (line, headers, _, len) = head(Direction::ToClient, resp).unwrap();
        assert_eq!(line, StartLine::Response { version: HttpVersion::Http10, code: 404, reason: b"Not \xffFound" });
        assert_eq!(headers, [("Server".into(), "x".into())]);
        assert_eq!(len, resp.len());
        let (line, _, _, _) = head(Direction::ToClient, b"HTTP/1.1 204\r\n\r\n").unwrap();
        assert_eq!(line, StartLine::Response { version: HttpVersion::Http11, code: 204, reason: b"" });
    }

    #[test]
    fn simple_request() {
        let (line, headers, _, len) = head(Direction::ToServer, b"GET /old.html\r\nrest").unwrap();
        assert_eq!(line, StartLine::Request { method: "GET", target: b"/old.html", version: HttpVersion::Http09 });
        assert!(headers.is_empty());
        assert_eq!(len, 15);
        // A full request line is not a simple request.
        assert!(is_partial(Direction::ToServer, b"GET /old.html HTTP/1.0\r\n"));
    }

    /// Request lines of zeek-http-methods.pcap (zeek/zeek
    /// testing/btest/Traces/http/methods.pcap) that httparse refuses and
    /// Google's server answered (400, 405, 411); tshark 4.0 reads each as a
    /// request with the method, URI and Host shown here (`tshark -r
    /// zeek-http-methods.pcap -Y http.request -T fields -e
    /// http.request.method -e http.request.uri -e http.host`).
    #[test]
    fn request_lines_httparse_refuses_are_read_leniently() {
        let cases: &[(&[u8], &str, &[u8], HttpVersion)] = &[
            (b"OPTIONS HTTP/1.1\nHost: www.google.com\n\n", "OPTIONS", b"HTTP/1.1", HttpVersion::Unknown),
            (b"OPTIONS\nHost: www.google.com\n\n", "OPTIONS", b"", HttpVersion::Unknown),
            (b"GET / HTTP/1.\nHost: www.google.com\n\n", "GET", b"/", HttpVersion::Unknown),
            (b"CCM_POST / HTTP/1.\nHost: www.google.com\n\n", "CCM_POST", b"/", HttpVersion::Unknown),
            (b"CCM_POST /HTTP/1.1\nHost: www.google.com\n\n", "CCM_POST", b"/HTTP/1.1", HttpVersion::Unknown),
            // Not a simple request: the version lost its space.
            (b"GET /HTTP/1.1\nHost: www.google.com\n\n", "GET", b"/HTTP/1.1", HttpVersion::Unknown),
            (b"DELETE /  HTTP/1.1\r\nHost: www.google.com\r\n\r\n", "DELETE", b"/", HttpVersion::Http11),
            (b"HEAD / HTTP/\r\nHost: www.google.com\r\n\r\n", "HEAD", b"/", HttpVersion::Unknown),
        ];
        for &(req, method, target, version) in cases {
            let (line, headers, start, len) = head(Direction::ToServer, req).unwrap();
            assert_eq!(line, StartLine::Request { method, target, version }, "{}", lossy(req));
            assert_eq!(headers, [("Host".into(), "www.google.com".into())], "{}", lossy(req));
            assert_eq!((start, len), (0, req.len()));
            // Every cut is partial until the blank line: the verdict does
            // not depend on how the bytes arrive.
            for n in 0..len {
                assert!(is_partial(Direction::ToServer, &req[..n]), "{} prefix {n}", lossy(req));
            }
        }
        assert_eq!(HttpVersion::Unknown.as_str(), "");
        // Still refused: the HTTP/2 preface, a lone word that is no method,
        // a lower-case method without a version, a fourth word, control
        // bytes in the target, headers that do not parse.
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        for bad in [
            b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".as_slice(),
            b"HELLO\r\nHost: x\r\n\r\n",
            b"get /x\r\nHost: x\r\n\r\n",
            b"GET / HTTP/1. x\r\nHost: x\r\n\r\n",
            b"GET /\x01 HTTP/1.\r\nHost: x\r\n\r\n",
            b"OPTIONS\r\nnot a header\r\n\r\n",
        ] {
            assert!(parse_head(Direction::ToServer, bad, 0, &mut headers).is_err(), "{}", lossy(bad));
        }
        // The lenient line is for requests only.
        assert!(parse_head(Direction::ToClient, b"OPTIONS / HTTP/1.\r\n\r\n", 0, &mut headers).is_err());
    }

    #[test]
    fn malformed_and_oversized_heads() {
        fn parse(dir: Direction, buf: &[u8]) -> Result<Option<usize>, HeadError> {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match parse_head(dir, buf, 0, &mut headers) {
                Ok(HeadStatus::Partial { .. }) => Ok(None),
                Ok(HeadStatus::Complete(h)) => Ok(Some(h.len)),
                Err(e) => Err(e),
            }
        }
        // Garbage is refused before its first line end.
        assert_eq!(parse(Direction::ToServer, b"\x16\x03\x01\x02\x00"), Err(HeadError::BadStartLine));
        assert_eq!(parse(Direction::ToClient, b"HTTX"), Err(HeadError::BadStartLine));
        // A bad start line is refused at its line end.
        assert_eq!(
            parse(Direction::ToServer, b"GET /a HTTP/9.9\r\n"),
            Err(HeadError::Malformed(httparse::Error::Version))
        );
        assert!(matches!(parse(Direction::ToClient, b"HTTP/1.1 2x0 OK\r\n"), Err(HeadError::Malformed(_))));
        let big = [b"GET /".as_slice(), &vec![b'a'; MAX_HEAD_BYTES]].concat();
        assert_eq!(parse(Direction::ToServer, &big), Err(HeadError::TooLarge));
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(parse(Direction::ToServer, &many), Err(HeadError::TooManyHeaders));
        let mut long = b"GET / HTTP/1.1\r\n".to_vec();
        while long.len() < MAX_HEAD_BYTES {
            long.extend_from_slice(b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        assert_eq!(parse(Direction::ToServer, &long), Err(HeadError::TooLarge));
    }

    #[test]
    fn scan_hint_gives_the_same_result() {
        let req = b"POST /x HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n";
        let mut scanned = 0;
        for n in 1..req.len() {
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            match parse_head(Direction::ToServer, &req[..n], scanned, &mut headers).unwrap() {
                HeadStatus::Partial { scanned: s } => scanned = s,
                HeadStatus::Complete(_) => panic!("complete at {n}"),
            }
        }
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let HeadStatus::Complete(h) = parse_head(Direction::ToServer, req, scanned, &mut headers).unwrap() else {
            panic!()
        };
        assert_eq!((h.len, h.headers.len()), (req.len(), 2));
    }

    #[test]
    fn chunk_lines() {
        assert_eq!(parse_chunk_line(b"1a\r\nxx"), Ok(Line::Complete(26, 4)));
        assert_eq!(parse_chunk_line(b"8 \r\n"), Ok(Line::Complete(8, 4)));
        assert_eq!(parse_chunk_line(b"0 ; qwe3=asd3; zxc3=\"rt\"y3\r\n"), Ok(Line::Complete(0, 28)));
        assert_eq!(parse_chunk_line(b"FF\n"), Ok(Line::Complete(255, 3)));
        assert_eq!(parse_chunk_line(b"ffffffffffffffff\r\n"), Ok(Line::Complete(u64::MAX, 18)));
        for partial in [&b""[..], b"1", b"1a", b"1a\r", b"1a;ext"] {
            assert_eq!(parse_chunk_line(partial), Ok(Line::Partial), "{partial:?}");
        }
        for bad in [&b"\r\n"[..], b"x\r\n", b"1x\r\n", b"1\rx", b"10000000000000000\r\n"] {
            assert_eq!(parse_chunk_line(bad), Err(LineError::BadChunkSize), "{bad:?}");
        }
        let long = [b"1;".as_slice(), &vec![b'e'; MAX_CHUNK_LINE]].concat();
        assert_eq!(parse_chunk_line(&long), Err(LineError::TooLong));
        assert_eq!(parse_trailer_line(b"X: y\r\n"), Ok(Line::Complete(false, 6)));
        assert_eq!(parse_trailer_line(b"\r\n"), Ok(Line::Complete(true, 2)));
        assert_eq!(parse_trailer_line(b"\n"), Ok(Line::Complete(true, 1)));
        assert_eq!(parse_trailer_line(b"X: y"), Ok(Line::Partial));
    }

    fn hdrs<'a>(pairs: &[(&'a str, &'a [u8])]) -> Vec<Header<'a>> {
        pairs.iter().map(|&(name, value)| Header { name, value }).collect()
    }

    #[test]
    fn framing_follows_rfc9112_6_3() {
        let cl = hdrs(&[("Content-Length", b"10")]);
        let te = hdrs(&[("Content-Length", b"10"), ("Transfer-Encoding", b"gzip, Chunked")]);
        let te_not_last = hdrs(&[("Transfer-Encoding", b"chunked"), ("Transfer-Encoding", b"gzip")]);
        let bad_cl = hdrs(&[("Content-Length", b"10, 11")]);
        let same_cl = hdrs(&[("Content-Length", b"10, 10")]);
        assert_eq!(response_framing(Some("HEAD"), 200, &cl), (Framing::None, false));
        assert_eq!(response_framing(Some("GET"), 204, &cl), (Framing::None, false));
        assert_eq!(response_framing(Some("GET"), 304, &cl), (Framing::None, false));
        assert_eq!(response_framing(Some("GET"), 100, &cl), (Framing::None, false));
        assert_eq!(response_framing(Some("GET"), 101, &[]), (Framing::Switch, false));
        assert_eq!(response_framing(Some("CONNECT"), 200, &cl), (Framing::Tunnel, false));
        assert_eq!(response_framing(Some("CONNECT"), 407, &cl), (Framing::Length(10), false));
        assert_eq!(response_framing(Some("GET"), 200, &te), (Framing::Chunked, false));
        assert_eq!(response_framing(Some("GET"), 200, &te_not_last), (Framing::UntilClose, false));
        assert_eq!(response_framing(Some("GET"), 200, &cl), (Framing::Length(10), false));
        assert_eq!(response_framing(Some("GET"), 200, &same_cl), (Framing::Length(10), false));
        assert_eq!(response_framing(Some("GET"), 200, &bad_cl), (Framing::UntilClose, true));
        assert_eq!(response_framing(None, 200, &[]), (Framing::UntilClose, false));
        assert_eq!(request_framing(&te), (Framing::Chunked, false));
        assert_eq!(request_framing(&te_not_last), (Framing::None, true));
        assert_eq!(request_framing(&cl), (Framing::Length(10), false));
        assert_eq!(request_framing(&bad_cl), (Framing::None, true));
        assert_eq!(request_framing(&hdrs(&[("Content-Length", b"0")])), (Framing::None, false));
        assert_eq!(request_framing(&[]), (Framing::None, false));
    }

    #[test]
    fn message_starts_and_resync() {
        use Direction::*;
        assert_eq!(message_start(ToServer, b"GET / HTTP/1.1\r\n"), Probe::Yes);
        assert_eq!(message_start(ToServer, b"GET /x\r\n"), Probe::Yes);
        assert_eq!(message_start(ToServer, b"GET / HTTP/1.1"), Probe::NeedMore);
        assert_eq!(message_start(ToServer, b"GE"), Probe::NeedMore);
        assert_eq!(message_start(ToServer, b"FOO / HTTP/1.1\r\n"), Probe::No);
        assert_eq!(message_start(ToServer, b"GET a b c\r\n"), Probe::No);
        assert_eq!(message_start(ToClient, b"HTTP/1.1 200 OK"), Probe::Yes);
        assert_eq!(message_start(ToClient, b"HTTP/1.1 200\r\n"), Probe::Yes);
        assert_eq!(message_start(ToClient, b"HTTP/1.1 20"), Probe::NeedMore);
        assert_eq!(message_start(ToClient, b"HTTP/1.1 2x0 OK"), Probe::No);
        let data = b"xx HTTP/1.1 200 OK\r\nmore\nGET / HTTP/1.1\r\n";
        assert_eq!(resync_scan(ToServer, data, true, []), Resync::Found(25));
        assert_eq!(resync_scan(ToClient, data, true, []), Resync::NeedMore(data.len()));
        assert_eq!(resync_scan(ToClient, &data[..data.len() - 2], true, []), Resync::NotFound { line_start: false });
        assert_eq!(resync_scan(ToClient, b"HTTP/1.1 200 OK\r\n", false, []), Resync::NeedMore(17));
        assert_eq!(resync_scan(ToClient, b"HTTP/1.1 200 OK", false, []), Resync::NotFound { line_start: false });
        assert_eq!(resync_scan(ToClient, b"HTTP/1.1 200 OK\r\n", true, []), Resync::Found(0));
        assert_eq!(resync_scan(ToClient, b"zz\nHTTP/1", false, []), Resync::NeedMore(3));
        assert_eq!(resync_scan(ToClient, b"zz\n", false, []), Resync::NeedMore(3));
        // A packet start counts as a line start: a status line right after
        // a binary body (no line end before it) is found there, and only
        // there.
        let body_then_response = b"\xff\xd9HTTP/1.1 200 OK\r\n";
        assert_eq!(resync_scan(ToClient, body_then_response, false, []), Resync::NeedMore(body_then_response.len()));
        assert_eq!(resync_scan(ToClient, body_then_response, false, [2]), Resync::Found(2));
        assert_eq!(resync_scan(ToClient, body_then_response, false, [1, 2, 40]), Resync::Found(2));
        assert_eq!(resync_scan(ToClient, body_then_response, false, [0]), Resync::NeedMore(body_then_response.len()));
        assert_eq!(resync_scan(ToClient, b"\xff\xd9HTTP/1.1 2", false, [2]), Resync::NeedMore(2));
        assert_eq!(resync_scan(ToClient, b"\xffHTTX\nzz", false, [1, 5]), Resync::NotFound { line_start: false });
        assert_eq!(resync_scan(ToServer, b"ab\ncdGET / HTTP/1.1\r\n", false, [5]), Resync::Found(5));
    }

    #[test]
    fn header_value_decoders() {
        assert_eq!(basic_auth_username(b"Basic dXNlcnJycnI6cGFzc3dvcmRkZGRk"), Some("userrrrr".into()));
        assert_eq!(basic_auth_username(b"basic  YWxhZGRpbg"), Some("aladdin".into()));
        assert_eq!(basic_auth_username(b"Digest username=\"x\""), None);
        assert_eq!(basic_auth_username(b"Basic !!!"), None);
        assert_eq!(basic_auth(b"Basic dXNlcnJycnI6cGFzc3dvcmRkZGRk"), Some(("userrrrr".into(), "passworddddd".into())));
        assert_eq!(basic_auth(b"Basic YTpiOmM="), Some(("a".into(), "b:c".into())));
        assert_eq!(basic_auth(b"basic  YWxhZGRpbg"), Some(("aladdin".into(), String::new())));
    }

    #[test]
    fn digest_authorization_gives_user_response_and_parameters() {
        // RFC 7616 section 3.9.1's example (MD5).
        let value = br#"Digest username="Mufasa", realm="http-auth@example.org", uri="/dir/index.html", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", nc=00000001, cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ", qop=auth, response="8ca523f5e9506fed4657c9700eebdbec", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#;
        let auth = authorization(value).unwrap();
        assert_eq!((auth.user.as_str(), auth.password.as_str()), ("Mufasa", "8ca523f5e9506fed4657c9700eebdbec"));
        assert_eq!(
            auth.notes,
            r#"Digest realm="http-auth@example.org" uri="/dir/index.html" algorithm="MD5" qop="auth" nc="00000001" nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v" cnonce="f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ" opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS""#
        );
        // Escapes in quoted strings, no blanks after commas (as curl sends).
        let auth = authorization(br#"digest username="a\"b",response=abc"#).unwrap();
        assert_eq!((auth.user.as_str(), auth.password.as_str(), auth.notes.as_str()), ("a\"b", "abc", "Digest"));
        assert_eq!(authorization(b"Digest realm=\"x\""), None);
        assert_eq!(authorization(b"Bearer abc"), None);
        assert_eq!(
            authorization(b"Digest username=\"unterminated"),
            Some(HttpAuth { user: "unterminated".into(), password: String::new(), notes: "Digest".into() })
        );
        assert_eq!(basic_auth(b"Digest username=\"x\""), None);
        assert_eq!(
            content_disposition_filename(b"attachment; filename=\"a \\\"b\\\".txt\""),
            Some("a \"b\".txt".into())
        );
        assert_eq!(content_disposition_filename(b"attachment; filename=plain.bin"), Some("plain.bin".into()));
        assert_eq!(
            content_disposition_filename(
                b"attachment; filename=\"fallback.txt\"; filename*=UTF-8''%e2%82%ac%20rates.txt"
            ),
            Some("\u{20ac} rates.txt".into())
        );
        assert_eq!(content_disposition_filename(b"inline; filename*=iso-8859-1'en'%A3.txt"), Some("\u{a3}.txt".into()));
        assert_eq!(content_disposition_filename(b"form-data; name=\"f\"; filename=\"\""), None);
        assert_eq!(content_disposition_filename(b"attachment"), None);
        assert_eq!(uri_filename(b"/dir/file%20name.pdf?x=/y#z"), Some("file name.pdf".into()));
        assert_eq!(uri_filename(b"/dir/sub/"), Some("sub".into()));
        assert_eq!(uri_filename(b"/"), None);
        assert_eq!(uri_filename(b"http://host/a/b.gif"), Some("b.gif".into()));
        assert_eq!(uri_filename(b"http://host"), None);
        assert_eq!(uri_filename(b"host:443"), None);
        assert_eq!(content_range_total(b"bytes 0-99/1234"), Some(1234));
        assert_eq!(content_range_total(b"bytes 0-99/*"), None);
        assert_eq!(media_type(b" text/html ; charset=UTF-8"), "text/html");
        assert_eq!(percent_decode(b"%41%4g%"), b"A%4g%");
        assert_eq!(truncated("a\u{20ac}".into(), 2), "a");
    }
}
