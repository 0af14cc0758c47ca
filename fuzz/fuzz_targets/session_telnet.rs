//! The Telnet stream parser (netcap_session::protocols::telnet) over arbitrary
//! segments of both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::telnet::fuzz_entry(data);
});
