//! The http parser of netcap_decoder::app on arbitrary bytes: no panic, no hang.
//! The whole-packet path (dispatch, records) is covered by decode_packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::app;

fuzz_target!(|data: &[u8]| {
    let _ = app::http::looks_like_head(data);
    let _ = app::http::parse_all(data);
});
