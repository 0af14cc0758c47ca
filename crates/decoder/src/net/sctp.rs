//! SCTP common header and chunk headers (RFC 9260).

use crate::wire::{Malformed, Result, be16, be32, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::{RecordType, SctpChunk};

const DATA: u8 = 0;
const INIT: u8 = 1;
const INIT_ACK: u8 = 2;
const SACK: u8 = 3;

/// Chunks of an SCTP packet (after the 12-byte common header).
pub fn chunks(data: &[u8], out: &mut Vec<SctpChunk>) -> Result<()> {
    const SHORT: &str = "SCTP chunk truncated";
    let mut at = 12;
    while at < data.len() {
        let kind = u8_at(data, at, SHORT)?;
        let flags = u8_at(data, at + 1, SHORT)?;
        let len = usize::from(be16(data, at + 2, SHORT)?);
        if len < 4 {
            return Err(Malformed("SCTP chunk length below 4"));
        }
        let value = crate::wire::bytes(data, at + 4, len - 4, SHORT)?;
        let mut c =
            SctpChunk { r#type: u32::from(kind), flags: u32::from(flags), length: len as u32, ..Default::default() };
        match kind {
            DATA => {
                c.tsn = be32(value, 0, SHORT)?;
                c.stream_id = u32::from(be16(value, 4, SHORT)?);
                c.stream_sequence = u32::from(be16(value, 6, SHORT)?);
                c.payload_protocol_id = be32(value, 8, SHORT)?;
            }
            INIT | INIT_ACK | SACK => c.tsn = be32(value, 0, SHORT)?,
            _ => {}
        }
        out.push(c);
        // Chunks are padded to 4 bytes.
        at += len.next_multiple_of(4);
    }
    Ok(())
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    const SHORT: &str = "SCTP common header truncated";
    if data.len() < 12 {
        return cx.error(Layer::Sctp, offset, Malformed(SHORT));
    }
    let mut result = Ok(());
    emit!(cx, RecordType::Sctp, net.sctp, addressed, |r| {
        r.src_port = u32::from(u16::from_be_bytes([data[0], data[1]]));
        r.dst_port = u32::from(u16::from_be_bytes([data[2], data[3]]));
        r.verification_tag = u32::from_be_bytes([data[4], data[5], data[6], data[7]]);
        r.checksum = u32::from_be_bytes([data[8], data[9], data[10], data[11]]);
        r.chunks.clear();
        result = chunks(data, &mut r.chunks);
    });
    if let Err(e) = result {
        cx.error(Layer::Sctp, offset, e);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn data_chunk() {
        let mut p = vec![0, 1, 0, 2, 0, 0, 0, 9, 0, 0, 0, 0];
        p.extend_from_slice(&[0, 3, 0, 17, 0, 0, 0, 5, 0, 1, 0, 2, 0, 0, 0, 46, b'x', 0, 0, 0]);
        let mut out = Vec::new();
        super::chunks(&p, &mut out).unwrap();
        assert_eq!((out[0].tsn, out[0].stream_id, out[0].payload_protocol_id, out[0].length), (5, 1, 46, 17));
        assert!(super::chunks(&p[..20], &mut Vec::new()).is_err());
    }
}
