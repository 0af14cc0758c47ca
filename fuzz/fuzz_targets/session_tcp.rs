//! Arbitrary segments of four connections through a whole shard (flow
//! table, reassembly, detection, HTTP and TLS parsers, files): memory under
//! the cap, nothing left when the connections end.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::tcp::fuzz_entry(data);
});
