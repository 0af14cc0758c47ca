#![no_main]
//! Connection frame content into the Software/Service inventory, and the
//! software-string parsers: nothing may panic.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_inventory::fuzz_entry(data);
});
