//! The SOCKS message parsers and stream parser
//! (netcap_session::protocols::socks) over arbitrary bytes and segments.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::socks::fuzz_entry(data);
});
