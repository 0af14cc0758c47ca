//! SNMP v1, v2c and v3 (UDP ports 161 and 162) with snmp-parser (rusticata).

use super::{AppRecord, Flow, emit, push_hex, set_lossy, set_str};
use crate::{Layer, PacketContext};
use netcap_records::{RecordType, Snmp};
use snmp_parser::{NetworkAddress, ScopedPduData, SecurityParameters, SnmpGenericMessage, SnmpPdu};

pub use snmp_parser::parse_snmp_generic_message as parse;

fn fill_pdu(r: &mut Snmp, pdu: &SnmpPdu<'_>) {
    r.pdu_type = pdu.pdu_type().0 as i32;
    match pdu {
        SnmpPdu::Generic(p) => {
            r.request_id = i64::from(p.req_id);
            r.error_status = p.err.0;
            r.error_index = p.err_index;
        }
        SnmpPdu::Bulk(p) => {
            r.request_id = i64::from(p.req_id);
            // GetBulk reuses the error fields for non-repeaters and max-repetitions.
            r.error_status = p.non_repeaters;
            r.error_index = p.max_repetitions;
        }
        SnmpPdu::TrapV1(t) => {
            r.enterprise = t.enterprise.to_id_string();
            match t.agent_addr {
                NetworkAddress::IPv4(a) => crate::set_bytes(&mut r.agent_ip, &a.octets()),
            }
            r.generic_trap = u32::from(t.generic_trap.0);
            r.specific_trap = t.specific_trap;
        }
    }
    for v in pdu.vars_iter() {
        r.oids.push(v.oid.to_id_string());
    }
}

fn fill(r: &mut Snmp, msg: &SnmpGenericMessage<'_>) {
    r.community.clear();
    r.pdu_type = -1;
    r.request_id = 0;
    r.error_status = 0;
    r.error_index = 0;
    r.oids.clear();
    r.enterprise.clear();
    r.agent_ip.clear();
    r.generic_trap = 0;
    r.specific_trap = 0;
    r.msg_id = 0;
    r.msg_flags = 0;
    r.security_model = 0;
    r.user_name.clear();
    r.engine_id.clear();
    r.encrypted = false;
    match msg {
        SnmpGenericMessage::V1(m) | SnmpGenericMessage::V2(m) => {
            r.version = m.version;
            set_str(&mut r.community, &m.community);
            fill_pdu(r, &m.pdu);
        }
        SnmpGenericMessage::V3(m) => {
            r.version = m.version;
            r.msg_id = m.header_data.msg_id;
            r.msg_flags = u32::from(m.header_data.msg_flags);
            r.security_model = m.header_data.msg_security_model.0;
            if let SecurityParameters::USM(usm) = &m.security_params {
                set_lossy(&mut r.user_name, usm.msg_user_name.as_bytes());
                push_hex(&mut r.engine_id, usm.msg_authoritative_engine_id);
            }
            match &m.data {
                ScopedPduData::Plaintext(scoped) => fill_pdu(r, &scoped.data),
                ScopedPduData::Encrypted(_) => r.encrypted = true,
            }
        }
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Snmp) {
        return;
    }
    match parse(payload) {
        Ok((_, msg)) => emit!(cx, flow, RecordType::Snmp, snmp, |r| fill(r, &msg)),
        Err(e) => super::parse_error(cx, Layer::Snmp, flow, format_args!("{e:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An SNMPv1 GetRequest for sysObjectID.0, community "public", request
    /// ID 38 (the classic example of RFC 1157 encodings).
    #[test]
    fn v1_get_request() {
        let bytes = [
            0x30, 0x26, 0x02, 0x01, 0x00, 0x04, 0x06, b'p', b'u', b'b', b'l', b'i', b'c', 0xa0, 0x19, 0x02, 0x01, 0x26,
            0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01,
            0x02, 0x00, 0x05, 0x00,
        ];
        let (_, msg) = parse(&bytes).unwrap();
        let mut r = Snmp::default();
        fill(&mut r, &msg);
        assert_eq!((r.version, r.community.as_str(), r.pdu_type, r.request_id), (0, "public", 0, 38));
        assert_eq!(r.oids, ["1.3.6.1.2.1.1.2.0"]);
        assert!(parse(&bytes[..20]).is_err());
    }
}
