//! One packet through the decoder, every record type on, payloads on.
//!
//! Input: 2 bytes (little-endian u16) choose a link type from `LINK_TYPES`
//! (modulo its length), the rest is the captured packet.
//!
//! Checks, besides "does not panic":
//! - every record produced decodes back (typed prost message and generic
//!   DynamicMessage), round-trips byte for byte, and names frame 1 / time 0;
//! - per-layer error counters equal the number of `Error` records;
//! - unsupported link types produce no records and are counted;
//! - decoding is pure: a decoder that first decoded the same bytes under
//!   another link type produces exactly the same records (no state leaks
//!   through the reused scratch records).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::{Decoder, PacketMeta, RecordBuffers, is_supported_link_type};
use netcap_fuzz::{check_error_count, check_records, config_all};
use netcap_records::RecordType;

/// Supported link types (ETHERNET, NULL, PPP, RAW, LOOP, LINUX_SLL, IPV4,
/// IPV6, LINUX_SLL2, PPP_HDLC, the BSD RAW aliases 12 and 14, IEEE802_11,
/// IEEE802_11_RADIOTAP) and one unsupported one (147, LINKTYPE_USER0).
const LINK_TYPES: [u32; 15] = [1, 0, 9, 101, 108, 113, 228, 229, 276, 50, 12, 14, 105, 127, 147];

fuzz_target!(|input: &[u8]| {
    if input.len() < 2 {
        return;
    }
    let selector = usize::from(u16::from_le_bytes([input[0], input[1]])) % LINK_TYPES.len();
    let link_type = LINK_TYPES[selector];
    let data = &input[2..];
    let meta = PacketMeta { frame: 1, timestamp_ns: 0, link_type, wire_length: data.len() as u32, reassembled: false };

    let mut decoder = Decoder::new(config_all());
    let mut out = RecordBuffers::new();
    decoder.decode(&meta, data, &mut out);
    check_records(&out, &meta);
    check_error_count(&Default::default(), decoder.stats(), &out);

    let produced: u64 = RecordType::all().map(|t| out.count(t)).sum();
    if is_supported_link_type(link_type) {
        assert!(decoder.stats().unsupported_link_types.is_empty());
    } else {
        assert_eq!(produced, 0, "unsupported link type {link_type} produced records");
        assert_eq!(decoder.stats().unsupported_link_types.get(&link_type), Some(&1));
    }

    // Purity: warm a second decoder on the same bytes under the next link
    // type of the table, then decode the packet again.
    let other = LINK_TYPES[(selector + 1) % LINK_TYPES.len()];
    let mut warm = Decoder::new(config_all());
    let mut scratch = RecordBuffers::new();
    let other_meta = PacketMeta { frame: 2, timestamp_ns: 7, link_type: other, ..meta };
    warm.decode(&other_meta, data, &mut scratch);
    check_records(&scratch, &other_meta);
    let before = warm.stats().clone();
    let mut again = RecordBuffers::new();
    warm.decode(&meta, data, &mut again);
    check_error_count(&before, warm.stats(), &again);
    for t in RecordType::all() {
        assert_eq!(out.bytes(t), again.bytes(t), "{} records depend on the previous packet", t.name());
    }
});
