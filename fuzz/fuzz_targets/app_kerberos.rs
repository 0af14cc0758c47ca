//! The Kerberos message parser of netcap_decoder::app (kerberos-parser) on
//! arbitrary bytes, and the filling of a record: no panic, no hang.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::app;

fuzz_target!(|data: &[u8]| {
    app::kerberos::fuzz_entry(data);
});
