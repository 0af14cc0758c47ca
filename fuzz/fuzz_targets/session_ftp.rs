//! The FTP stream parser (netcap_session::protocols::ftp) over arbitrary
//! segments of both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::ftp::fuzz_entry(data);
});
