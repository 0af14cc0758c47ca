//! IGMP versions 1 (RFC 1112), 2 (RFC 2236) and 3 (RFC 3376).

use crate::wire::{Malformed, Result, be16, bytes, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::{IgmpGroupRecord, RecordType};

pub const QUERY: u8 = 0x11;
pub const V1_REPORT: u8 = 0x12;
pub const V2_REPORT: u8 = 0x16;
pub const V2_LEAVE: u8 = 0x17;
pub const V3_REPORT: u8 = 0x22;

/// The version of a message as Wireshark infers it: queries by length and
/// max response time, other types by their type.
pub fn version(kind: u8, max_response: u8, len: usize) -> u32 {
    match kind {
        QUERY if len >= 12 => 3,
        QUERY if max_response == 0 => 1,
        QUERY => 2,
        V1_REPORT => 1,
        V2_REPORT | V2_LEAVE => 2,
        V3_REPORT => 3,
        _ => 0,
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    if data.len() < 8 {
        return cx.error(Layer::Igmp, offset, Malformed("IGMP message shorter than 8 bytes"));
    }
    let kind = data[0];
    let max_response = data[1];
    // Types 0xfc-0xff to 224.0.0.25 are RGMP (RFC 3488), not IGMP.
    if kind >= 0xfc && cx.scratch.dst_ip == [224, 0, 0, 25] {
        return;
    }
    let version = version(kind, max_response, data.len());
    let mut error = None;
    emit!(cx, RecordType::Igmp, net.igmp, addressed, |r| {
        r.version = version;
        r.r#type = u32::from(kind);
        r.max_response_time = if version == 3 { decode_code(max_response) } else { u32::from(max_response) };
        r.checksum = u32::from(u16::from_be_bytes([data[2], data[3]]));
        r.group_ip.clear();
        r.suppress = false;
        r.robustness = 0;
        r.query_interval = 0;
        r.source_ips.clear();
        r.group_records.clear();
        if kind != V3_REPORT {
            r.group_ip.extend_from_slice(&data[4..8]);
        }
        let result = match (kind, version) {
            (QUERY, 3) => (|| -> Result<()> {
                let flags = u8_at(data, 8, "")?;
                r.suppress = flags & 0x08 != 0;
                r.robustness = u32::from(flags & 7);
                r.query_interval = decode_code(u8_at(data, 9, "")?);
                let n = usize::from(be16(data, 10, "")?);
                super::addresses(data, 12, n, 4, &mut r.source_ips)
            })()
            .map_err(|_| Malformed("IGMPv3 query truncated")),
            (V3_REPORT, _) => group_records(data, &mut r.group_records),
            _ => Ok(()),
        };
        error = result.err();
    });
    if let Some(e) = error {
        cx.error(Layer::Igmp, offset, e);
    }
}

/// IGMPv3's max response and querier's query interval codes: values from
/// 128 up are a floating-point form (RFC 3376 section 4.1.1).
pub fn decode_code(code: u8) -> u32 {
    if code < 128 {
        return u32::from(code);
    }
    let exp = u32::from((code >> 4) & 7);
    let mant = u32::from(code & 0xf);
    (mant | 0x10) << (exp + 3)
}

/// The group records of an IGMPv3 report.
pub fn group_records(data: &[u8], out: &mut Vec<IgmpGroupRecord>) -> Result<()> {
    const SHORT: &str = "IGMPv3 group record truncated";
    let n = be16(data, 6, SHORT)?;
    let mut at = 8;
    for _ in 0..n {
        let kind = u8_at(data, at, SHORT)?;
        let aux = u8_at(data, at + 1, SHORT)?;
        let sources = usize::from(be16(data, at + 2, SHORT)?);
        let group = bytes(data, at + 4, 4, SHORT)?;
        let mut record = IgmpGroupRecord {
            r#type: u32::from(kind),
            aux_data_length: u32::from(aux),
            multicast_ip: group.to_vec(),
            source_ips: Vec::new(),
        };
        // A record cut short is kept with its header (as Wireshark shows it).
        let complete = super::addresses(data, at + 8, sources, 4, &mut record.source_ips);
        out.push(record);
        complete.map_err(|_| Malformed(SHORT))?;
        at += 8 + sources * 4 + usize::from(aux) * 4;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(version(QUERY, 0, 8), 1);
        assert_eq!(version(QUERY, 100, 8), 2);
        assert_eq!(version(QUERY, 100, 12), 3);
        let mut out = Vec::new();
        let report = [0x22, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 1, 239, 1, 1, 1, 10, 0, 0, 1];
        group_records(&report, &mut out).unwrap();
        assert_eq!(out[0].multicast_ip, [239, 1, 1, 1]);
        assert_eq!(out[0].source_ips, vec![vec![10, 0, 0, 1]]);
        out.clear();
        assert!(group_records(&report[..18], &mut out).is_err());
    }
}
