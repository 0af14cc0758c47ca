//! The FTP data matcher (netcap_session::protocols::ftp::data) over
//! arbitrary channel, transfer and stream events.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::ftp::data::fuzz_entry(data);
});
