//! The IRC line, DCC and stream parsers (netcap_session::protocols::irc)
//! over arbitrary bytes and segments of both directions.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_session::protocols::irc::fuzz_entry(data);
});
