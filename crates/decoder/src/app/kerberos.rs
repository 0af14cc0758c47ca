//! Kerberos 5 (RFC 4120) messages with kerberos-parser (rusticata): one
//! `Kerberos` record per message. UDP port 88 is decoded here, a datagram
//! at a time; over TCP the session stage (crates/session, protocols/
//! kerberos) cuts the reassembled stream into messages and uses [`parse`]
//! and [`fill`] from here.

use super::{AppRecord, Flow, emit};
use crate::{Layer, PacketContext};
use kerberos_parser::krb5::{ApReq, KdcRep, KdcReq, KrbError, PrincipalName, Realm};
use kerberos_parser::krb5_parser::{parse_as_rep, parse_as_req, parse_tgs_rep, parse_tgs_req};
use kerberos_parser::{ErrorCode, krb5_constants::EncryptionType};
use netcap_records::{Kerberos, RecordType};
// kerberos-parser's ASN.1 types (der-parser 10, as x509-parser's).
use x509_parser::der_parser::asn1_rs::{BitString, FromDer, GeneralizedTime};

/// Kerberos's port (UDP and TCP).
pub const PORT: u16 = 88;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KerberosError {
    #[error("empty Kerberos message")]
    Empty,
    #[error("Kerberos message of unknown type (tag {0:#04x})")]
    UnknownType(u8),
    #[error("Kerberos {0} does not parse")]
    Invalid(&'static str),
}

/// What a record keeps of one message.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Message {
    /// RFC 4120's message type (10 AS-REQ ... 30 KRB-ERROR).
    pub msg_type: u32,
    pub client: String,
    pub service: String,
    pub realm: String,
    pub error_code: Option<i32>,
    pub error_text: String,
    pub from_ns: i64,
    pub till_ns: i64,
    pub cipher: String,
    pub request_ciphers: Vec<String>,
    pub forwardable: bool,
    pub renewable: bool,
    pub padata_types: Vec<i32>,
}

/// The name of a message type.
pub fn message_type_name(msg_type: u32) -> &'static str {
    match msg_type {
        10 => "AS-REQ",
        11 => "AS-REP",
        12 => "TGS-REQ",
        13 => "TGS-REP",
        14 => "AP-REQ",
        15 => "AP-REP",
        30 => "KRB-ERROR",
        _ => "",
    }
}

/// An encryption type's name (RFC 3961 and the IANA registry, as
/// kerberos-parser and Zeek spell them), or its number.
pub fn cipher_name(etype: EncryptionType) -> String {
    let name = format!("{etype:?}");
    if name.starts_with("EncryptionType(") { etype.0.to_string() } else { name }
}

/// An error code's RFC 4120 name, or its number.
pub fn error_name(code: i32) -> String {
    let name = format!("{:?}", ErrorCode(code));
    if name.starts_with("KDC_") || name.starts_with("KRB_") { name } else { code.to_string() }
}

fn principal(name: &PrincipalName) -> String {
    name.name_string.join("/")
}

/// Zeek's "name/REALM".
fn client(name: &PrincipalName, realm: &Realm) -> String {
    if realm.0.is_empty() { principal(name) } else { format!("{}/{}", principal(name), realm.0) }
}

/// Unix nanoseconds of a KerberosTime (always UTC, "Z").
fn unix_ns(t: &GeneralizedTime) -> i64 {
    let d = &t.0;
    let days = netcap_records::civil::days_from_civil(i64::from(d.year), i64::from(d.month), i64::from(d.day));
    let seconds = days * 86_400 + i64::from(d.hour) * 3_600 + i64::from(d.minute) * 60 + i64::from(d.second);
    seconds.saturating_mul(1_000_000_000) + i64::from(d.millisecond.unwrap_or(0)) * 1_000_000
}

/// KDCOptions bit `n` (bit 0 is the first bit of the string).
fn flag(options: &BitString<'_>, n: usize) -> bool {
    options.data.get(n / 8).is_some_and(|b| b & (0x80 >> (n % 8)) != 0)
}

fn from_request(req: &KdcReq<'_>) -> Message {
    let body = &req.req_body;
    Message {
        msg_type: req.msg_type.0,
        client: body.cname.as_ref().map(|c| client(c, &body.realm)).unwrap_or_default(),
        service: body.sname.as_ref().map(principal).unwrap_or_default(),
        realm: body.realm.0.clone(),
        from_ns: body.from.as_ref().map(unix_ns).unwrap_or(0),
        till_ns: unix_ns(&body.till),
        request_ciphers: body.etype.iter().map(|&e| cipher_name(e)).collect(),
        // RFC 4120 5.4.1: forwardable is bit 1, renewable bit 8.
        forwardable: flag(&body.kdc_options, 1),
        renewable: flag(&body.kdc_options, 8),
        padata_types: req.padata.iter().map(|p| p.padata_type.0).collect(),
        ..Message::default()
    }
}

fn from_reply(rep: &KdcRep<'_>) -> Message {
    Message {
        msg_type: rep.msg_type.0,
        client: client(&rep.cname, &rep.crealm),
        service: principal(&rep.ticket.sname),
        // The realm that issued the ticket (the client's may differ:
        // anonymous PKINIT's is WELLKNOWN:ANONYMOUS).
        realm: rep.ticket.realm.0.clone(),
        cipher: cipher_name(rep.ticket.enc_part.etype),
        padata_types: rep.padata.iter().map(|p| p.padata_type.0).collect(),
        ..Message::default()
    }
}

fn from_error(e: &KrbError<'_>) -> Message {
    let realm = e.crealm.as_ref().unwrap_or(&e.realm);
    Message {
        msg_type: e.msg_type.0,
        client: e.cname.as_ref().map(|c| client(c, realm)).unwrap_or_default(),
        service: principal(&e.sname),
        realm: e.realm.0.clone(),
        error_code: Some(e.error_code.0),
        error_text: e.etext.clone().unwrap_or_default(),
        ..Message::default()
    }
}

fn from_ap_request(ap: &ApReq<'_>) -> Message {
    Message {
        msg_type: ap.msg_type.0,
        service: principal(&ap.ticket.sname),
        realm: ap.ticket.realm.0.clone(),
        cipher: cipher_name(ap.ticket.enc_part.etype),
        ..Message::default()
    }
}

/// Parses one Kerberos message (its DER bytes, without TCP's length).
pub fn parse(data: &[u8]) -> Result<Message, KerberosError> {
    let &tag = data.first().ok_or(KerberosError::Empty)?;
    // [APPLICATION n], constructed: 0x60 | n (n < 31).
    match tag {
        0x6a => parse_as_req(data).map(|(_, r)| from_request(&r)).map_err(|_| KerberosError::Invalid("AS-REQ")),
        0x6c => parse_tgs_req(data).map(|(_, r)| from_request(&r)).map_err(|_| KerberosError::Invalid("TGS-REQ")),
        0x6b => parse_as_rep(data).map(|(_, r)| from_reply(&r)).map_err(|_| KerberosError::Invalid("AS-REP")),
        0x6d => parse_tgs_rep(data).map(|(_, r)| from_reply(&r)).map_err(|_| KerberosError::Invalid("TGS-REP")),
        0x7e => KrbError::from_der(data).map(|(_, e)| from_error(&e)).map_err(|_| KerberosError::Invalid("KRB-ERROR")),
        0x6e => ApReq::from_der(data).map(|(_, a)| from_ap_request(&a)).map_err(|_| KerberosError::Invalid("AP-REQ")),
        0x6f => {
            // AP-REP: only its encrypted part, nothing to keep but the type.
            kerberos_parser::krb5::ApRep::from_der(data)
                .map(|_| Message { msg_type: 15, ..Message::default() })
                .map_err(|_| KerberosError::Invalid("AP-REP"))
        }
        other => Err(KerberosError::UnknownType(other)),
    }
}

/// Whether `tag` starts a Kerberos message (AS-REQ ... KRB-ERROR).
pub fn is_message_tag(tag: u8) -> bool {
    matches!(tag, 0x6a..=0x6f | 0x7e)
}

/// Fills `r` from `m` (the flow fields are the caller's).
pub fn fill(r: &mut Kerberos, m: &Message, transport: &str) {
    r.msg_type = message_type_name(m.msg_type).to_owned();
    r.request_type = match m.msg_type {
        10 | 11 => "AS",
        12 | 13 => "TGS",
        _ => "",
    }
    .to_owned();
    r.client.clone_from(&m.client);
    r.service.clone_from(&m.service);
    r.realm.clone_from(&m.realm);
    r.success = match m.msg_type {
        11 | 13 => Some(true),
        30 => Some(false),
        _ => None,
    };
    r.error_code = m.error_code;
    r.error_msg = m.error_code.map(error_name).unwrap_or_default();
    r.error_text.clone_from(&m.error_text);
    r.from_ns = m.from_ns;
    r.till_ns = m.till_ns;
    r.cipher.clone_from(&m.cipher);
    r.request_ciphers.clone_from(&m.request_ciphers);
    r.forwardable = m.forwardable;
    r.renewable = m.renewable;
    r.padata_types.clone_from(&m.padata_types);
    transport.clone_into(&mut r.transport);
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Kerberos) {
        return;
    }
    match parse(payload) {
        Ok(m) => emit!(cx, flow, RecordType::Kerberos, kerberos, |r| fill(r, &m, "udp")),
        Err(e) => super::parse_error(cx, Layer::Kerberos, flow, e),
    }
}

/// Runs the parser on arbitrary bytes (fuzzing).
pub fn fuzz_entry(data: &[u8]) {
    if let Ok(m) = parse(data) {
        let mut r = Kerberos::default();
        fill(&mut r, &m, "udp");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        s.as_bytes().chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
    }

    #[test]
    fn names() {
        assert_eq!(cipher_name(EncryptionType(18)), "aes256-cts-hmac-sha1-96");
        assert_eq!(cipher_name(EncryptionType(999)), "999");
        assert_eq!(error_name(25), "KDC_ERR_PREAUTH_REQUIRED");
        assert_eq!(error_name(1000), "1000");
        assert_eq!(message_type_name(30), "KRB-ERROR");
    }

    /// arkime-krb5-udp.pcap's one datagram (`tshark -T fields -e
    /// udp.payload`); tshark: CNameString xxxxxxxx$, realm
    /// xx.xxx.xxxxx.NET, SNameString krbtgt,xx.xxx.xxxxx.NET, ENCTYPE
    /// 18,17,16,23, till Jun 18, 2016 22:14:15 UTC, kdc_options 40000000,
    /// padata_type 2,149.
    const AS_REQ: &str = "6a81f83081f5a103020105a20302010aa35c305a304ca103020102a24504433041a003020112a23a0438ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff300aa10402020095a2020400a4818a308187a00703050040000000a1163014a003020101a10d300b1b09787878787878787824a2121b1078782e7878782e78787878782e4e4554a3253023a003020102a11c301a1b066b72627467741b1078782e7878782e78787878782e4e4554a511180f32303136303631383232313431355aa70602042c2cf0b0a80e300c020112020111020110020117";

    #[test]
    fn an_as_request_field_by_field() {
        let m = parse(&unhex(AS_REQ)).unwrap();
        let mut r = Kerberos::default();
        fill(&mut r, &m, "udp");
        assert_eq!((r.msg_type.as_str(), r.request_type.as_str()), ("AS-REQ", "AS"));
        assert_eq!(r.client, "xxxxxxxx$/xx.xxx.xxxxx.NET");
        assert_eq!((r.service.as_str(), r.realm.as_str()), ("krbtgt/xx.xxx.xxxxx.NET", "xx.xxx.xxxxx.NET"));
        assert_eq!(
            r.request_ciphers,
            ["aes256-cts-hmac-sha1-96", "aes128-cts-hmac-sha1-96", "des3-cbc-sha1-kd", "rc4-hmac"]
        );
        assert_eq!(r.till_ns, 1_466_288_055_000_000_000);
        assert_eq!(r.from_ns, 0);
        assert!(r.forwardable && !r.renewable);
        assert_eq!(r.padata_types, [2, 149]);
        assert_eq!((r.success, r.error_code, r.transport.as_str()), (None, None, "udp"));
    }

    #[test]
    fn garbage_and_truncations_are_errors() {
        assert_eq!(parse(&[]), Err(KerberosError::Empty));
        assert_eq!(parse(&[0x30, 0]), Err(KerberosError::UnknownType(0x30)));
        assert_eq!(parse(&[0x6a, 0x03, 0x30, 0x01]), Err(KerberosError::Invalid("AS-REQ")));
        let whole = unhex(AS_REQ);
        for cut in 0..whole.len() {
            assert!(parse(&whole[..cut]).is_err(), "{cut}");
            let mut damaged = whole.clone();
            damaged[cut] ^= 0x55;
            fuzz_entry(&damaged);
        }
    }
}
