//! A sequence of IP packets through the QUIC Initial tracker (the session
//! stage's, per shard), and each packet through the decoder.
//!
//! Input: a list of packets, each a 2-byte little-endian length then that
//! many bytes of a raw IP packet. Seeds are client Initials of real
//! captures (their AEAD tags hold, so the CRYPTO reassembly is reached).
//!
//! Checks, besides "does not panic": the tracker stays within its bounds;
//! an attachment holds a whole ClientHello message (type 1, length as
//! declared) and a connection ID of at most 20 bytes; decoding a packet
//! gives records that decode back.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::app::quic_initials::{MAX_FLOWS, QuicInitials};
use netcap_decoder::{Decoder, PacketMeta, RecordBuffers};
use netcap_fuzz::{check_records, config_all};

fuzz_target!(|input: &[u8]| {
    let mut tracker = QuicInitials::new();
    let mut decoder = Decoder::new(config_all());
    let mut rest = input;
    let mut frame = 0;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let packet = &rest[2..(2 + len).min(rest.len())];
        rest = &rest[(2 + len).min(rest.len())..];
        frame += 1;
        if let Some(a) = tracker.push(frame as i64 * 1_000_000, packet) {
            assert!(a.key_dcid.len() <= 20);
            let ch = a.client_hello;
            assert_eq!(ch.first(), Some(&1), "not a ClientHello");
            let declared = usize::from(ch[1]) << 16 | usize::from(ch[2]) << 8 | usize::from(ch[3]);
            assert_eq!(ch.len(), 4 + declared, "ClientHello of the wrong length");
        }
        assert!(tracker.pending() <= MAX_FLOWS);
        let meta =
            PacketMeta { frame, timestamp_ns: 0, link_type: 101, wire_length: packet.len() as u32, reassembled: false };
        let mut out = RecordBuffers::new();
        decoder.decode(&meta, packet, &mut out);
        check_records(&out, &meta);
    }
});
