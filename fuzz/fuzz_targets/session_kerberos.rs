//! The Kerberos-over-TCP framing and message parser
//! (netcap_session::protocols::kerberos) over arbitrary segments of both
//! directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::kerberos::fuzz_entry(data);
});
