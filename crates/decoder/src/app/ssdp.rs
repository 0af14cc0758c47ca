//! SSDP (UDP port 1900): HTTP-over-UDP requests (M-SEARCH, NOTIFY) and
//! responses, read with the SIP module's start-line and header reader.

use super::sip::{StartLine, TextMessage, headers, parse_text};
use super::{AppRecord, Flow, emit, set_lossy};
use crate::{Layer, PacketContext};
use netcap_records::{RecordType, Ssdp};

pub use super::sip::TextError;

pub fn parse(p: &[u8]) -> Result<TextMessage<'_>, TextError> {
    parse_text(p, "HTTP/1.1")
}

fn fill(r: &mut Ssdp, m: &TextMessage<'_>) {
    r.method.clear();
    r.request_uri.clear();
    r.status_code = 0;
    match m.start {
        StartLine::Request { method, uri } => {
            set_lossy(&mut r.method, method);
            set_lossy(&mut r.request_uri, uri);
        }
        StartLine::Response { status, .. } => r.status_code = u32::from(status),
    }
    for s in [
        &mut r.host,
        &mut r.st,
        &mut r.nt,
        &mut r.nts,
        &mut r.usn,
        &mut r.location,
        &mut r.server,
        &mut r.user_agent,
        &mut r.man,
        &mut r.cache_control,
    ] {
        s.clear();
    }
    r.mx = 0;
    for (name, value) in headers(m.headers) {
        let dst = match name.to_ascii_uppercase().as_slice() {
            b"HOST" => &mut r.host,
            b"ST" => &mut r.st,
            b"NT" => &mut r.nt,
            b"NTS" => &mut r.nts,
            b"USN" => &mut r.usn,
            b"LOCATION" => &mut r.location,
            b"SERVER" => &mut r.server,
            b"USER-AGENT" => &mut r.user_agent,
            b"MAN" => &mut r.man,
            b"CACHE-CONTROL" => &mut r.cache_control,
            b"MX" => {
                r.mx = std::str::from_utf8(value).ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
                continue;
            }
            _ => continue,
        };
        set_lossy(dst, value);
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Ssdp) {
        return;
    }
    match parse(payload) {
        Ok(m) => emit!(cx, flow, RecordType::Ssdp, ssdp, |r| fill(r, &m)),
        Err(e) => super::parse_error(cx, Layer::Ssdp, flow, e),
    }
}
