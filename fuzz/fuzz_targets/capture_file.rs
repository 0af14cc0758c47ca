//! A whole capture file (pcap or pcapng, any byte order) through both of
//! netcap's capture parsers (the streaming one for stdin and pipes, the
//! in-memory one for mapped files) and the decoder.
//!
//! Checks, besides "does not panic": both parsers deliver the same packets
//! (metadata and bytes) and agree on whether the input is a capture and
//! whether it ends in damage; frame numbers increase (pcapng custom blocks
//! take numbers too, as in Wireshark); every record of every packet decodes
//! back and names that packet's frame and timestamp; error counters equal
//! the number of `Error` records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::{Decoder, PacketMeta, RecordBuffers};
use netcap_fuzz::{check_error_count, check_records, config_all};

type Packets = Vec<(u64, i64, u32, u32, Vec<u8>)>;

fn collect(
    read: impl FnOnce(
        &mut dyn FnMut(&PacketMeta, &[u8]),
    ) -> Result<(u64, Option<netcap_capture::InputError>), netcap_capture::InputError>,
) -> (Packets, Result<bool, ()>) {
    let mut packets = Packets::new();
    let result = read(&mut |meta, bytes| {
        packets.push((meta.frame, meta.timestamp_ns, meta.link_type, meta.wire_length, bytes.to_vec()));
    });
    let outcome = match result {
        Ok((count, damage)) => {
            assert_eq!(count as usize, packets.len(), "packet count differs from callbacks");
            if let Some(e) = &damage {
                let _ = e.to_string();
            }
            Ok(damage.is_some())
        }
        Err(e) => {
            assert!(packets.is_empty(), "failed after delivering packets");
            let _ = e.to_string();
            Err(())
        }
    };
    (packets, outcome)
}

fuzz_target!(|data: &[u8]| {
    let (streamed, stream_outcome) = collect(|f| netcap_capture::read_packets("fuzz", data, f));
    let (in_memory, memory_outcome) = collect(|f| netcap_capture::read_packets_in_memory("fuzz", data, f));
    assert_eq!(streamed, in_memory, "the two capture parsers deliver different packets");
    assert_eq!(stream_outcome, memory_outcome, "the two capture parsers disagree on the input");

    let mut decoder = Decoder::new(config_all());
    let mut out = RecordBuffers::new();
    let mut last_frame = 0;
    for (frame, timestamp_ns, link_type, wire_length, bytes) in &streamed {
        assert!(*frame > last_frame, "frames are not increasing");
        last_frame = *frame;
        let meta = PacketMeta {
            frame: *frame,
            timestamp_ns: *timestamp_ns,
            link_type: *link_type,
            wire_length: *wire_length,
            reassembled: false,
        };
        let before = decoder.stats().clone();
        out.clear();
        decoder.decode(&meta, bytes, &mut out);
        check_records(&out, &meta);
        check_error_count(&before, decoder.stats(), &out);
    }
});
