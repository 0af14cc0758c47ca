//! The RDP connection-setup parsers (netcap_session::protocols::rdp) over
//! arbitrary bytes and segments of both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::rdp::fuzz_entry(data);
});
