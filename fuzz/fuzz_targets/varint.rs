//! Arbitrary bytes through netcap's shared protobuf varint reader
//! (`netcap_records::varint`): every read must agree with prost's
//! `decode_varint` (value, length, refusal past 64 bits) and never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_records::varint::fuzz_entry(data);
});
