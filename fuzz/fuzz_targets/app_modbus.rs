//! The modbus parser of netcap_decoder::app on arbitrary bytes: no panic, no hang.
//! The whole-packet path (dispatch, records) is covered by decode_packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::app;

fuzz_target!(|data: &[u8]| {
    let _ = app::modbus::parse(data, true);
    let _ = app::modbus::parse(data, false);
});
