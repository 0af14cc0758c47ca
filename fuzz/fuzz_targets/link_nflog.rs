//! The nflog link-layer parser (netcap_decoder::l2::nflog) over arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_decoder::l2::nflog::fuzz_entry(data);
});
