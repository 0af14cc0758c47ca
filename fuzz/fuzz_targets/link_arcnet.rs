//! The arcnet link-layer parser (netcap_decoder::l2::arcnet) over arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_decoder::l2::arcnet::fuzz_entry(data);
});
