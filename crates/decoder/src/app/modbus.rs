//! Modbus/TCP (TCP port 502) with sawp-modbus (CCCS; Suricata's parser):
//! tolerant, built for passive monitoring. One record per ADU.

use super::{AppRecord, Flow, emit};
use crate::{Layer, PacketContext};
use netcap_records::{Modbus, RecordType};
use sawp::parser::{Direction, Parse};
use sawp_modbus::{Data, Message, Read, Write};

pub const PORT: u16 = 502;

/// Parses one ADU from the front of `p`; returns it and the rest.
pub fn parse(p: &[u8], to_server: bool) -> Result<(&[u8], Option<Message>), sawp::error::Error> {
    let direction = if to_server { Direction::ToServer } else { Direction::ToClient };
    sawp_modbus::Modbus::default().parse(p, direction)
}

fn registers(dst: &mut Vec<u32>, bytes: &[u8]) {
    dst.extend(bytes.chunks_exact(2).map(|c| u32::from(u16::from_be_bytes([c[0], c[1]]))));
}

/// The MBAP header and function byte, read from the ADU itself: sawp leaves
/// them zero in messages it flags as invalid (a length over 254, say),
/// and they are what an analyst needs most then.
fn fill(r: &mut Modbus, m: &Message, adu: &[u8], response: bool) {
    let byte = |i: usize| adu.get(i).copied().unwrap_or(0);
    r.transaction_id = u32::from(super::be16(adu, 0).unwrap_or(m.transaction_id));
    r.protocol_id = u32::from(super::be16(adu, 2).unwrap_or(m.protocol_id));
    r.length = u32::from(super::be16(adu, 4).unwrap_or(m.length));
    r.unit_id = u32::from(byte(6));
    r.response = response;
    r.function_code = u32::from(byte(7) & 0x7f);
    r.exception = byte(7) & 0x80 != 0;
    r.exception_code = 0;
    r.address = 0;
    r.quantity = 0;
    r.byte_count = 0;
    r.registers.clear();
    // The unit ID and function code are counted in the MBAP length.
    r.data_length = r.length.saturating_sub(2);
    match &m.data {
        Data::Exception(e) => {
            r.exception = true;
            r.exception_code = u32::from(e.raw);
        }
        Data::Read(Read::Request { address, quantity }) => {
            r.address = u32::from(*address);
            r.quantity = u32::from(*quantity);
        }
        Data::Read(Read::Response(bytes)) => {
            r.byte_count = bytes.len() as u32;
            // Registers for the register functions; coils and inputs are bit fields.
            if matches!(m.function.raw & 0x7f, 3 | 4 | 23) {
                registers(&mut r.registers, bytes);
            }
        }
        Data::Write(w) => write(r, w),
        Data::ReadWrite { read, write: w } => {
            if let Read::Request { address, quantity } = read {
                r.address = u32::from(*address);
                r.quantity = u32::from(*quantity);
            }
            if let Write::MultReq { data, .. } = w {
                r.byte_count = data.len() as u32;
                registers(&mut r.registers, data);
            }
        }
        _ => {}
    }
}

fn write(r: &mut Modbus, w: &Write) {
    match w {
        Write::MultReq { address, quantity, data } => {
            r.address = u32::from(*address);
            r.quantity = u32::from(*quantity);
            r.byte_count = data.len() as u32;
            registers(&mut r.registers, data);
        }
        Write::Mask { address, .. } => r.address = u32::from(*address),
        Write::Other { address, data } => {
            r.address = u32::from(*address);
            r.registers.push(u32::from(*data));
        }
    }
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, flow: Flow, payload: &[u8]) {
    if !cx.wants(RecordType::Modbus) {
        return;
    }
    let response = flow.src_port == PORT;
    let mut rest = payload;
    while !rest.is_empty() {
        match parse(rest, !response) {
            Ok((tail, Some(m))) => {
                emit!(cx, flow, RecordType::Modbus, modbus, |r| fill(r, &m, rest, response));
                if tail.len() >= rest.len() {
                    break;
                }
                rest = tail;
            }
            // More bytes needed: the ADU continues in the next segment.
            Ok((_, None)) => break,
            Err(e) if matches!(e.kind, sawp::error::ErrorKind::Incomplete(_)) => break,
            Err(e) => {
                super::parse_error(cx, Layer::Modbus, flow, format_args!("{e:?}"));
                break;
            }
        }
    }
}
