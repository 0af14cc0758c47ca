//! The POP3 stream parser (netcap_session::protocols::pop3) over arbitrary
//! segments of both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::pop3::fuzz_entry(data);
});
