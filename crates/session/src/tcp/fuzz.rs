//! Fuzzing entry for the whole TCP path of a shard: flow table, reassembly,
//! content detection, the stream protocols' parsers and files.

use crate::emit::Emitter;
use crate::shard::{SessionConfig, SessionPacket, Shard};
use crate::tcp::{PROBE_BYTES, StreamConfig};
use netcap_decoder::{TransportKind, tcp_flag};
use netcap_flow::{FlowConfig, FlowKey, FlowPacket};

/// Runs arbitrary segments of up to four connections (client ports 1-4 to
/// port 80 or 443) through one shard with a small memory cap. Each step is
/// a 6-byte header then its payload: a control byte (bit 0: from the
/// server; bits 1-4: SYN, FIN, RST, ACK; bits 5-6: the connection; bit 7:
/// port 443), a 16-bit signed sequence offset from the direction's last
/// segment end, a 16-bit signed acknowledgment offset, and the payload
/// length. Checks: the shard's stream memory stays under its cap (plus one
/// segment and one probe buffer), and is zero once every connection ended.
pub fn fuzz_entry(data: &[u8]) {
    let cap = 16 * 1024;
    let config = StreamConfig { memcap: cap * netcap_flow::SHARDS, ..StreamConfig::default() };
    let session = SessionConfig { flows: FlowConfig::default(), streams: Some(config), quic: false };
    let mut shard = Shard::new(&session, 0);
    let mut emit = Emitter::all();
    let mut ended = Vec::new();
    // Per connection and direction: the next sequence number.
    let mut seqs = [[0x7fff_fff0u32, 0x1000u32]; 4];
    let mut rest = data;
    let mut frame = 0u64;
    while let [control, s0, s1, a0, a1, len, tail @ ..] = rest {
        let (payload, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        frame += 1;
        let from_server = control & 1 != 0;
        let conn = usize::from((control >> 5) & 3);
        let d = usize::from(from_server);
        let seq = seqs[conn][d].wrapping_add(i16::from_le_bytes([*s0, *s1]) as i32 as u32);
        let ack = seqs[conn][1 - d].wrapping_add(i16::from_le_bytes([*a0, *a1]) as i32 as u32);
        seqs[conn][d] = seq.wrapping_add(payload.len() as u32);
        let mut flags = 0;
        for (bit, flag) in [(2, tcp_flag::SYN), (4, tcp_flag::FIN), (8, tcp_flag::RST), (16, tcp_flag::ACK)] {
            if control & bit != 0 {
                flags |= flag;
            }
        }
        let server_port = if control & 0x80 != 0 { 443 } else { 80 };
        let mut ip_a = [0u8; 16];
        ip_a[..4].copy_from_slice(&[10, 0, 0, 1]);
        let mut ip_b = [0u8; 16];
        ip_b[..4].copy_from_slice(&[10, 0, 0, 2]);
        let key = FlowKey { ip_a, ip_b, port_a: 1 + conn as u16, port_b: server_port, ip_protocol: 6, v6: false };
        let packet = FlowPacket {
            timestamp_ns: frame as i64 * 1000,
            frame,
            wire_length: 54 + payload.len() as u32,
            payload: payload.len() as u32,
            src_mac: None,
            dst_mac: None,
            tcp_flags: flags,
            tcp_window: 1024,
            tcp_window_scale: None,
            transport: TransportKind::Tcp,
            icmp_type: 0,
        };
        let p = SessionPacket {
            packet,
            key,
            from_a: !from_server,
            tcp_seq: seq,
            tcp_ack: ack,
            payload,
            reassembled: false,
            fragment: false,
        };
        shard.observe(&p, &mut emit, &mut ended);
        assert!(shard.stream_memory() <= cap + PROBE_BYTES + 255, "{} bytes held", shard.stream_memory());
    }
    shard.finish(&mut emit, &mut ended);
    assert_eq!(shard.stream_memory(), 0, "memory left after every connection ended");
    assert!(ended.iter().all(|e| e.extras.is_some()));
}
