//! The tls parser of netcap_decoder::app on arbitrary bytes: no panic, no hang.
//! The whole-packet path (dispatch, records) is covered by decode_packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::app;

fuzz_target!(|data: &[u8]| {
    let _ = app::tls::parse_all(data);
    let mut e = app::tls::Extensions::default();
    app::tls::parse_extensions(data, false, &mut e);
    app::tls::parse_extensions(data, true, &mut e);
    let _ = app::tls::parse_certificate(data);
});
