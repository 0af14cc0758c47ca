//! ICMPv6 echo request and reply (RFC 4443 section 4) as a record of their
//! own, with identifier, sequence number and data; the ICMPv6 record of the
//! same message is written by the transport decoder.

use crate::{PacketContext, emit};
use netcap_records::RecordType;

pub const ECHO_REQUEST: u8 = 128;
pub const ECHO_REPLY: u8 = 129;

/// The echo message in `data` (ICMPv6 header included), if it is one.
pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8]) {
    let (Some(&kind), Some(&code), Some(id_seq)) = (data.first(), data.get(1), data.get(4..8)) else { return };
    if kind != ECHO_REQUEST && kind != ECHO_REPLY {
        return;
    }
    let body = &data[8..];
    let keep = cx.config.payloads;
    let reassembled = cx.meta.reassembled;
    emit!(cx, RecordType::Icmpv6echo, net.echo, addressed, |r| {
        r.r#type = u32::from(kind);
        r.code = u32::from(code);
        r.identifier = u32::from(u16::from_be_bytes([id_seq[0], id_seq[1]]));
        r.sequence = u32::from(u16::from_be_bytes([id_seq[2], id_seq[3]]));
        r.data_length = body.len() as u32;
        crate::set_payload(&mut r.data, body, keep);
        r.reassembled = reassembled;
    });
}
