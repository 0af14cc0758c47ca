//! The HTTP stream parser (netcap_session::protocols::http) over arbitrary
//! steps of a connection: data in either direction, gaps, ends. Checks
//! inside the entry: no panic, bounded unconsumed rest.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::http::fuzz_entry(data);
});
