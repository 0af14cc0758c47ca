//! A sequence of packets through the IP fragment reassembler, and every
//! datagram it completes through the decoder.
//!
//! Input: a list of packets, each a length byte then that many bytes. A
//! packet whose first byte is 0xff is instead a compact IPv4 fragment
//! description (id, offset in 8-byte units, flags, payload length, payload
//! byte), so that the fuzzer reaches overlapping and out-of-order fragments
//! easily; everything else is a raw IP packet (LINKTYPE_RAW).
//!
//! Checks, besides "does not panic": bounds hold (pending datagrams, counts);
//! a completed datagram is an IPv4 packet whose total length is its size, or
//! an IPv6 packet whose payload length is its size minus 40; decoding it
//! with `reassembled` set emits no IPv4/IPv6 record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::reassembly::{Reassembler, ReassemblyConfig};
use netcap_decoder::{Decoder, PacketMeta, RecordBuffers};
use netcap_fuzz::config_all;
use netcap_records::RecordType;

fn compact_fragment(d: &[u8]) -> Vec<u8> {
    let get = |i: usize| d.get(i).copied().unwrap_or(0);
    let len = usize::from(get(4) % 64) * 8 / 4;
    let total = 20 + len;
    let flags_offset = (u16::from(get(3) & 0x20) << 8) | u16::from(get(2));
    let mut p = vec![0x45, 0, (total >> 8) as u8, total as u8, 0, get(1)];
    p.extend_from_slice(&flags_offset.to_be_bytes());
    p.extend_from_slice(&[64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
    p.extend(std::iter::repeat_n(get(5), len));
    p
}

fuzz_target!(|input: &[u8]| {
    let config = ReassemblyConfig { max_datagrams: 8, max_bytes: 4096, timeout_ns: 5 };
    let mut reassembler = Reassembler::new(config);
    let mut decoder = Decoder::new(config_all());
    let mut out = RecordBuffers::new();
    let mut rest = input;
    let mut time = 0i64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (chunk, next) = tail.split_at(len);
        rest = next;
        time += 1;
        let packet = if chunk.first() == Some(&0xff) { compact_fragment(&chunk[1..]) } else { chunk.to_vec() };
        if let Some(datagram) = reassembler.push(101, time, &packet) {
            let datagram = datagram.to_vec();
            match datagram[0] >> 4 {
                4 => assert_eq!(usize::from(u16::from_be_bytes([datagram[2], datagram[3]])), datagram.len()),
                6 => assert_eq!(usize::from(u16::from_be_bytes([datagram[4], datagram[5]])) + 40, datagram.len()),
                v => panic!("reassembled a datagram of IP version {v}"),
            }
            let meta = PacketMeta {
                frame: 1,
                timestamp_ns: time,
                link_type: 101,
                wire_length: datagram.len() as u32,
                reassembled: true,
            };
            out.clear();
            decoder.decode(&meta, &datagram, &mut out);
            assert_eq!(out.count(RecordType::Ipv4) + out.count(RecordType::Ipv6), 0);
        }
        assert!(reassembler.pending() <= config.max_datagrams);
        let s = reassembler.stats();
        assert!(s.reassembled + s.invalid <= s.fragments);
    }
});
