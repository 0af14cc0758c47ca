//! The pure link-layer parsers of netcap_decoder::l2 on arbitrary bytes:
//! no panic, no hang. The first byte chooses the parser (modulo 8); the
//! whole-packet path (dispatch, records, tunnels) is covered by decode_packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::l2::{cdp, dot11, eapol, llc, lldp, mpls, pppoe};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else { return };
    match selector % 8 {
        0 => {
            let _ = cdp::parse(data);
            cdp::tlvs(data).for_each(drop);
        }
        1 => {
            if let Ok(rt) = dot11::parse_radiotap(data) {
                assert!(rt.length <= data.len(), "radiotap length {} past {} bytes", rt.length, data.len());
            }
        }
        2 => {
            if let Ok(h) = dot11::parse(data) {
                let _ = dot11::management_body(h.subtype, data.get(h.header_len..).unwrap_or_default());
            }
        }
        3 => {
            let _ = eapol::parse(data);
            let _ = eapol::parse_key(data);
            let _ = eapol::parse_eap(data);
        }
        4 => {
            let _ = llc::parse(data);
            let _ = llc::parse_snap(data);
            let _ = llc::parse_bpdu(data);
        }
        5 => lldp::tlvs(data).take(1024).for_each(drop),
        6 => {
            let empty = mpls::Label { label: 0, traffic_class: 0, bottom: false, ttl: 0 };
            let mut labels = [empty; mpls::MAX_LABELS];
            if let Ok(n) = mpls::parse(data, &mut labels) {
                assert!(n <= data.len());
            }
        }
        _ => {
            let _ = pppoe::parse(data);
            pppoe::tags(data).take(1024).for_each(drop);
        }
    }
});
