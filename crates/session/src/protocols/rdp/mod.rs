//! RDP connection setup from reassembled streams ([MS-RDPBCGR] 1.3.1.1):
//! one `RDP` record per connection, with Zeek's rdp.log fields.
//!
//! Both sides speak TPKT (RFC 1006: `03 00` and a big-endian length)
//! around X.224 (ISO 8073) TPDUs. The client's Connection Request (CR,
//! 0xE0) carries the cookie line and an RDP_NEG_REQ (the security
//! protocols it supports); the server's Connection Confirm (CC, 0xD0) an
//! RDP_NEG_RSP (the protocol chosen) or RDP_NEG_FAILURE. With standard RDP
//! security the client's next TPDU (Data, 0xF0) is the MCS Connect Initial
//! whose GCC user data holds the client's core data (TS_UD_CS_CORE, type
//! 0xC001: desktop size, keyboard layout, build, computer name) and network
//! data (TS_UD_CS_NET, 0xC003: channel names); those blocks are found by
//! their type and length inside the PDU ([`client_data`]). With SSL,
//! HYBRID (CredSSP) or RDSTLS, TLS follows the confirm in both directions:
//! it goes to the TLS parser, so the handshake gives TLSClientHello,
//! TLSServerHello and TLSCertificate records (the server's certificate)
//! and the Connection record its TLS fields, as for TLS on its own port.
//!
//! # Bounds
//!
//! A TPKT is at most 65535 bytes; parsing ends after the client's first
//! Data TPDU and the server's confirm. Anything that is not TPKT ends its
//! direction (an error).

#[cfg(test)]
mod tests;

use crate::ConnectionExtras;
use crate::PacketTime;
use crate::emit::ConnRecord;
use crate::protocols::{Direction, InnerTls, ParseContext, Parsed, Probe, Protocol, StreamParser};
use netcap_records::{Rdp as RdpRecord, RecordType};

pub static PROTOCOL: Protocol = Protocol {
    name: "RDP",
    // The TLS that follows an SSL, CredSSP or RDSTLS confirm is parsed here.
    record_types: &[
        RecordType::Rdp,
        RecordType::Tlsclienthello,
        RecordType::Tlsserverhello,
        RecordType::Tlscertificate,
    ],
    tcp_ports: &[3389],
    probe,
    port_probe: None,
    new_parser: || Box::new(Rdp::default()),
    fills_connection: true,
};

/// A TPKT header and an X.224 Connection Request from the client, or a
/// Connection Confirm from the server.
pub fn probe(dir: Direction, data: &[u8]) -> Probe {
    let code = match dir {
        Direction::ToServer => 0xE0,
        Direction::ToClient => 0xD0,
    };
    match data {
        [] | [3] | [3, 0] | [3, 0, _] | [3, 0, _, _] | [3, 0, _, _, _] => Probe::NeedMore,
        [3, 0, hi, lo, li, c, ..] => {
            let len = usize::from(u16::from_be_bytes([*hi, *lo]));
            if *c == code && usize::from(*li) + 5 == len && len >= 11 { Probe::Yes } else { Probe::No }
        }
        _ => Probe::No,
    }
}

/// Names of the RDP_NEG_REQ protocol flags.
pub fn protocol_names(flags: u32) -> Vec<String> {
    let mut names = Vec::new();
    if flags == 0 {
        names.push("RDP".to_owned());
    }
    for (bit, name) in [(1, "SSL"), (2, "HYBRID"), (4, "RDSTLS"), (8, "HYBRID_EX")] {
        if flags & bit != 0 {
            names.push(name.to_owned());
        }
    }
    names
}

/// Name of a selected protocol.
pub fn selected_name(protocol: u32) -> String {
    match protocol {
        0 => "RDP".into(),
        1 => "SSL".into(),
        2 => "HYBRID".into(),
        4 => "RDSTLS".into(),
        8 => "HYBRID_EX".into(),
        n => n.to_string(),
    }
}

/// Name of an RDP_NEG_FAILURE code.
pub fn failure_name(code: u32) -> String {
    match code {
        1 => "SSL_REQUIRED_BY_SERVER".into(),
        2 => "SSL_NOT_ALLOWED_BY_SERVER".into(),
        3 => "SSL_CERT_NOT_ON_SERVER".into(),
        4 => "INCONSISTENT_FLAGS".into(),
        5 => "HYBRID_REQUIRED_BY_SERVER".into(),
        6 => "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER".into(),
        n => n.to_string(),
    }
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// UTF-16LE text up to its NUL.
fn utf16(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).take_while(|&u| u != 0).collect();
    String::from_utf16_lossy(&units)
}

/// What a Connection Request says: (cookie, requested protocols flags).
pub fn connection_request(tpdu: &[u8]) -> (String, Option<u32>) {
    // LI, code, dst-ref (2), src-ref (2), class: 7 bytes, then the
    // variable part.
    let rest = tpdu.get(7..).unwrap_or_default();
    let mut cookie = String::new();
    let mut at = 0;
    if rest.starts_with(b"Cookie: ")
        && let Some(end) = rest.windows(2).position(|w| w == b"\r\n")
    {
        cookie = String::from_utf8_lossy(&rest[8..end]).into_owned();
        at = end + 2;
    }
    let neg = rest.get(at..).filter(|n| n.len() >= 8 && n[0] == 1).and_then(|n| le32(n, 4));
    (cookie, neg)
}

/// What a Connection Confirm says: Ok(selected protocol) or Err(failure
/// code); `None` without a negotiation response.
pub fn connection_confirm(tpdu: &[u8]) -> Option<Result<u32, u32>> {
    let neg = tpdu.get(7..).filter(|n| n.len() >= 8)?;
    let value = le32(neg, 4)?;
    match neg[0] {
        2 => Some(Ok(value)),
        3 => Some(Err(value)),
        _ => None,
    }
}

/// The client's core and network data in an MCS Connect Initial.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientData {
    pub desktop_width: u16,
    pub desktop_height: u16,
    pub keyboard_layout: u32,
    pub client_build: u32,
    pub client_name: String,
    pub color_depth: String,
    pub dig_product_id: String,
    pub channels: Vec<String>,
}

/// Finds TS_UD_CS_CORE (type 0xC001, its version 0x0008000n) and
/// TS_UD_CS_NET (0xC003) in the bytes of an MCS Connect Initial.
pub fn client_data(pdu: &[u8]) -> Option<ClientData> {
    let core_at = (0..pdu.len().saturating_sub(8)).find(|&i| {
        pdu[i] == 0x01 && pdu[i + 1] == 0xC0 && pdu[i + 6] == 0x08 && pdu[i + 7] == 0x00 && pdu[i + 5] == 0
    })?;
    let len = usize::from(le16(pdu, core_at + 2)?);
    let core = pdu.get(core_at..core_at + len.min(pdu.len() - core_at))?;
    let mut d = ClientData {
        desktop_width: le16(core, 8)?,
        desktop_height: le16(core, 10)?,
        keyboard_layout: le32(core, 16)?,
        client_build: le32(core, 20)?,
        client_name: utf16(core.get(24..56)?),
        ..ClientData::default()
    };
    // highColorDepth (optional, at 140), else colorDepth (at 12).
    d.color_depth = match le16(core, 140).or(le16(core, 12)) {
        Some(4) => "4bit".into(),
        Some(8) => "8bit".into(),
        Some(15) => "15bit".into(),
        Some(16) => "16bit".into(),
        Some(24) => "24bit".into(),
        Some(32) => "32bit".into(),
        Some(0xCA01) => "4bit".into(),
        Some(0xCA02) => "8bit".into(),
        Some(0xCA03) => "16bit".into(),
        Some(0xCA04) => "24bit".into(),
        Some(n) => n.to_string(),
        None => String::new(),
    };
    if let Some(id) = core.get(146..210) {
        d.dig_product_id = utf16(id);
    }
    let after = core_at + len.max(4);
    let net_at = (after..pdu.len().saturating_sub(8)).find(|&i| pdu[i] == 0x03 && pdu[i + 1] == 0xC0);
    if let Some(net_at) = net_at {
        let count = le32(pdu, net_at + 4).unwrap_or(0).min(31) as usize;
        for i in 0..count {
            let Some(name) = pdu.get(net_at + 8 + i * 12..net_at + 8 + i * 12 + 8) else { break };
            let name: Vec<u8> = name.iter().copied().take_while(|&b| b != 0).collect();
            d.channels.push(String::from_utf8_lossy(&name).into_owned());
        }
    }
    Some(d)
}

/// The RDP parser of one connection.
#[derive(Default)]
pub struct Rdp {
    record: RdpRecord,
    at: Option<PacketTime>,
    seen: bool,
    /// The TLS parser, once a confirm selected a protocol other than
    /// standard RDP security: the rest of both directions is TLS.
    tls: Option<InnerTls>,
}

impl Rdp {
    fn tpdu(&mut self, cx: &mut ParseContext<'_>, dir: Direction, at: usize, tpdu: &[u8]) -> bool {
        let code = tpdu.get(1).copied().unwrap_or(0) & 0xF0;
        match (dir, code) {
            (Direction::ToServer, 0xE0) => {
                self.seen = true;
                self.at = Some(cx.time_at(at));
                let (cookie, requested) = connection_request(tpdu);
                self.record.cookie = cookie;
                self.record.requested_protocols = requested.map(protocol_names).unwrap_or_default();
                false
            }
            (Direction::ToServer, 0xF0) => {
                // Data: the MCS Connect Initial after the 3-byte header.
                if let Some(d) = client_data(tpdu) {
                    let r = &mut self.record;
                    r.desktop_width = u32::from(d.desktop_width);
                    r.desktop_height = u32::from(d.desktop_height);
                    r.keyboard_layout = d.keyboard_layout;
                    r.client_build = d.client_build;
                    r.client_name = d.client_name;
                    r.requested_color_depth = d.color_depth;
                    r.client_dig_product_id = d.dig_product_id;
                    r.client_channels = d.channels;
                }
                true
            }
            (Direction::ToClient, 0xD0) => {
                self.seen = true;
                match connection_confirm(tpdu) {
                    Some(Ok(protocol)) => {
                        self.record.security_protocol = selected_name(protocol);
                        self.record.result = "Success".into();
                        if protocol != 0 {
                            self.tls = Some(InnerTls::default());
                        }
                    }
                    Some(Err(code)) => self.record.result = failure_name(code),
                    None => {
                        // An old server: standard RDP security.
                        self.record.security_protocol = "RDP".into();
                        self.record.result = "Success".into();
                    }
                }
                true
            }
            _ => {
                cx.error();
                true
            }
        }
    }
}

impl StreamParser for Rdp {
    fn parse(&mut self, cx: &mut ParseContext<'_>, dir: Direction, data: &[u8]) -> Parsed {
        let mut at = 0;
        loop {
            if let Some(tls) = self.tls.as_mut() {
                return tls.parse(cx, dir, data, at);
            }
            let rest = &data[at..];
            let Some(head) = rest.get(..4) else {
                return Parsed::Continue { consumed: at, needed: 4 - rest.len() };
            };
            if head[0] != 3 {
                cx.error();
                return Parsed::Done;
            }
            let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
            if len < 7 {
                cx.error();
                return Parsed::Done;
            }
            let Some(packet) = rest.get(..len) else {
                return Parsed::Continue { consumed: at, needed: len - rest.len() };
            };
            let done = self.tpdu(cx, dir, at, &packet[4..]);
            at += len;
            // After a confirm that selected TLS the loop hands the rest on.
            if done && self.tls.is_none() {
                return Parsed::Done;
            }
        }
    }

    fn gap(&mut self, cx: &mut ParseContext<'_>, dir: Direction, len: u64) {
        match self.tls.as_mut() {
            Some(tls) => tls.parser().gap(cx, dir, len),
            None => cx.error(),
        }
    }

    fn end(&mut self, cx: &mut ParseContext<'_>, dir: Direction, rest: &[u8]) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().end(cx, dir, rest);
        }
    }

    fn finish(&mut self, cx: &mut ParseContext<'_>) {
        if let Some(tls) = self.tls.as_mut() {
            tls.parser().finish(cx);
        }
        if !self.seen || !cx.emit.wants(RecordType::Rdp) {
            return;
        }
        let mut r = std::mem::take(&mut self.record);
        r.set_conn(cx.conn, self.at.unwrap_or(cx.now), Direction::ToServer);
        cx.emit.emit(RecordType::Rdp, &r);
    }

    fn facts(&self, facts: &mut ConnectionExtras) {
        if let Some(tls) = &self.tls {
            tls.facts(facts);
        }
    }

    fn memory(&self) -> usize {
        self.record.cookie.capacity()
            + self.record.client_name.capacity()
            + self.record.client_channels.len() * 32
            + self.tls.as_ref().map_or(0, InnerTls::memory)
    }
}

/// Runs the TPDU parsers on the bytes as they are and the parser on
/// arbitrary segments of both directions
/// ([`crate::protocols::fuzz_two_way`]).
pub fn fuzz_entry(data: &[u8]) {
    let _ = connection_request(data);
    let _ = connection_confirm(data);
    let _ = client_data(data);
    let _ = probe(Direction::ToServer, data);
    crate::protocols::fuzz_two_way(&mut Rdp::default(), data);
}
