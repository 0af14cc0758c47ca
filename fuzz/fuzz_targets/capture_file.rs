//! A whole capture file (pcap or pcapng, any byte order) through
//! `netcap_capture::read_packets` and the decoder.
//!
//! Checks, besides "does not panic": frames are numbered 1, 2, 3, ... in
//! callback order and the returned count matches; every record of every
//! packet decodes back and names that packet's frame and timestamp; error
//! counters equal the number of `Error` records.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::{Decoder, RecordBuffers};
use netcap_fuzz::{check_error_count, check_records, config_all};

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(config_all());
    let mut out = RecordBuffers::new();
    let mut calls = 0u64;
    let result = netcap_capture::read_packets("fuzz", data, |meta, bytes| {
        calls += 1;
        assert_eq!(meta.frame, calls, "frames are not numbered in order");
        let before = decoder.stats().clone();
        out.clear();
        decoder.decode(meta, bytes, &mut out);
        check_records(&out, meta);
        check_error_count(&before, decoder.stats(), &out);
    });
    match result {
        Ok((packets, damage)) => {
            assert_eq!(packets, calls, "read_packets miscounts packets");
            // Formatting the error must not panic either (it subtracts 1 from the frame).
            if let Some(e) = damage {
                let _ = e.to_string();
            }
        }
        Err(e) => {
            assert_eq!(calls, 0, "read_packets failed after delivering packets");
            let _ = e.to_string();
        }
    }
});
