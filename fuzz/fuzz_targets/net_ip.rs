//! The pure network-layer parsers of netcap_decoder::net (IGMPv3 group
//! records, neighbour discovery options, MLDv2 records, IPsec AH and ESP,
//! SCTP chunks, VRRP, BFD, IPv6 extension-header options and routing
//! headers) on arbitrary bytes: no panic, no hang, bounded output. The first
//! byte chooses the parser (modulo 10).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::net::{bfd, igmp, ipsec, ipv6ext, ndp, sctp, vrrp};

fuzz_target!(|input: &[u8]| {
    let Some((&selector, data)) = input.split_first() else { return };
    match selector % 10 {
        0 => {
            let mut out = Vec::new();
            let _ = igmp::group_records(data, &mut out);
            assert!(out.len() <= data.len() / 8 + 1);
        }
        1 => {
            let mut out = Vec::new();
            let _ = ndp::options(data, &mut out);
            assert!(out.len() <= data.len() / 8);
        }
        2 => {
            let mut out = Vec::new();
            let _ = ndp::address_records(data, &mut out);
            assert!(out.len() <= data.len() / 20 + 1);
        }
        3 => {
            let _ = ipsec::parse_ah(data);
            let _ = ipsec::parse_esp(data);
        }
        4 => {
            let mut out = Vec::new();
            let _ = sctp::chunks(data, &mut out);
            assert!(out.len() <= data.len() / 4 + 1);
        }
        5 => {
            let _ = vrrp::parse(data, false);
            let _ = vrrp::parse(data, true);
        }
        6 => {
            let _ = bfd::parse(data);
        }
        7 | 8 => {
            // The same list twice: entries are reused, the result is the same.
            let mut out = Vec::new();
            let first = ipv6ext::options(data, &mut out).is_ok();
            let n = out.len();
            assert_eq!(ipv6ext::options(data, &mut out).is_ok(), first);
            assert_eq!(out.len(), n);
            assert!(n <= data.len());
        }
        _ => {
            if let Ok(r) = ipv6ext::routing(data) {
                assert_eq!(r.addresses.len() % 16, 0);
            }
        }
    }
});
