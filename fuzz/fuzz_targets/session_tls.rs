//! The TLS stream parser (netcap_session::protocols::tls) over arbitrary
//! steps of a connection. Checks inside the entry.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::tls::fuzz_entry(data);
});
