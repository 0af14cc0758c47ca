//! The tunnel header parsers of netcap_decoder::tunnel (GRE, ERSPAN, VXLAN,
//! Geneve) on arbitrary bytes: no panic, no hang. The first byte chooses
//! the parser (modulo 4); decapsulation itself is covered by decode_packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::tunnel::{geneve, gre, vxlan};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else { return };
    match selector % 4 {
        0 => {
            let _ = gre::parse(data);
        }
        1 => {
            let _ = gre::parse_erspan(data);
        }
        2 => {
            let _ = vxlan::parse(data);
        }
        _ => {
            let _ = geneve::parse(data);
        }
    }
});
