//! The mail-to-records function (netcap_session::protocols::mail) over an
//! arbitrary message, whole and cut.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::mail::fuzz_entry(data);
});
