//! One direction of TCP reassembly over arbitrary segments and
//! acknowledgments: chunks contiguous, queue bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::reassembly::fuzz_entry(data);
});
