//! Syslog over UDP (port 514): RFC 5424 and the BSD format of RFC 3164,
//! read here (no maintained passive parser for both framings exists).

use super::{AppRecord, Flow, emit, set_lossy};
use crate::{Layer, PacketContext};
use netcap_records::{RecordType, Syslog};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SyslogError {
    #[error("no <PRI> at the start of the message")]
    NoPriority,
}

/// A syslog message's parts, borrowed from the payload.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    pub priority: u32,
    pub version: u32,
    pub timestamp: &'a [u8],
    pub hostname: &'a [u8],
    pub app_name: &'a [u8],
    pub proc_id: &'a [u8],
    pub msg_id: &'a [u8],
    pub message: &'a [u8],
}

fn word(b: &[u8]) -> (&[u8], &[u8]) {
    let end = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    (&b[..end], b.get(end + 1..).unwrap_or_default())
}

fn nil(b: &[u8]) -> &[u8] {
    if b == b"-" { &[] } else { b }
}

pub fn parse(p: &[u8]) -> Result<Message<'_>, SyslogError> {
    let rest = p.strip_prefix(b"<").ok_or(SyslogError::NoPriority)?;
    let close = rest.iter().take(4).position(|&c| c == b'>').ok_or(SyslogError::NoPriority)?;
    let priority: u32 = std::str::from_utf8(&rest[..close])
        .ok()
        .and_then(|s| s.parse().ok())
        .filter(|&p| p <= 191)
        .ok_or(SyslogError::NoPriority)?;
    let rest = &rest[close + 1..];
    let mut m = Message { priority, ..Message::default() };
    // RFC 5424: "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG".
    if let [v @ b'1'..=b'9', b' ', ..] = rest {
        m.version = u32::from(v - b'0');
        let (_, r) = word(rest);
        let (ts, r) = word(r);
        let (host, r) = word(r);
        let (app, r) = word(r);
        let (proc_id, r) = word(r);
        let (msg_id, r) = word(r);
        m.timestamp = nil(ts);
        m.hostname = nil(host);
        m.app_name = nil(app);
        m.proc_id = nil(proc_id);
        m.msg_id = nil(msg_id);
        m.message = r;
        return Ok(m);
    }
    // RFC 3164: "<PRI>Mmm dd hh:mm:ss HOST TAG[pid]: MSG"; every part optional in practice.
    let is_bsd_time = rest.len() >= 15
        && rest[..3].iter().all(u8::is_ascii_alphabetic)
        && rest[3] == b' '
        && rest[9] == b':'
        && rest[12] == b':';
    let mut r = rest;
    if is_bsd_time {
        m.timestamp = &rest[..15];
        r = rest.get(16..).unwrap_or_default();
        let (host, after) = word(r);
        if !host.ends_with(b":") && !host.contains(&b'[') {
            m.hostname = host;
            r = after;
        }
    }
    let tag_end = r.iter().take(48).position(|&c| c == b':' || c == b'[' || c == b' ');
    if let Some(i) = tag_end.filter(|&i| i > 0 && r[i] != b' ') {
        m.app_name = &r[..i];
        let mut after = &r[i..];
        if after.first() == Some(&b'[')
            && let Some(j) = after.iter().position(|&c| c == b']')
        {
            m.proc_id = &after[1..j];
            after = &after[j + 1..];
        }
        r = after.strip_prefix(b":").unwrap_or(after);
        r = r.strip_prefix(b" ").unwrap_or(r);
    }
    m.message = r;
    Ok(m)
}

fn fill(r: &mut Syslog, m: &Message<'_>) {
    r.priority = m.priority;
    r.facility = m.priority / 8;
    r.severity = m.priority % 8;
    r.version = m.version;
    set_lossy(&mut r.timestamp, m.timestamp);
    set_lossy(&mut r.hostname, m.hostname);
    set_lossy(&mut r.app_name, m.app_name);
    set_lossy(&mut r.proc_id, m.proc_id);
    set_lossy(&mut r.msg_id, m.msg_id);
    let msg = m.message.strip_suffix(b"\n").unwrap_or(m.message);
    let msg = msg.strip_suffix(b"\0").unwrap_or(msg);
    set_lossy(&mut r.message, msg);
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Syslog) {
        return;
    }
    match parse(payload) {
        Ok(m) => emit!(cx, flow, RecordType::Syslog, syslog, |r| fill(r, &m)),
        Err(e) => super::parse_error(cx, Layer::Syslog, flow, e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc5424_and_bsd() {
        let m = parse(b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed").unwrap();
        assert_eq!((m.priority, m.version, m.hostname, m.app_name), (34, 1, &b"mymachine.example.com"[..], &b"su"[..]));
        assert_eq!(m.msg_id, b"ID47");
        let m = parse(b"<13>Feb  5 17:32:18 10.0.0.99 sshd[123]: Accepted publickey").unwrap();
        assert_eq!((m.hostname, m.app_name, m.proc_id), (&b"10.0.0.99"[..], &b"sshd"[..], &b"123"[..]));
        assert_eq!(m.message, b"Accepted publickey");
        assert_eq!(parse(b"no pri"), Err(SyslogError::NoPriority));
    }
}
