//! File handling (content decoding, sniffing, hashing) over arbitrary
//! content and codings. Checks inside the entry (decoders given back,
//! hashes only of complete files).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::files::fuzz_entry(data);
});
