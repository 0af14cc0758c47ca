//! Community ID on arbitrary tuples: no panic, and the ID of a flow is the
//! same in both directions (for the protocols whose ports are reordered).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::community_id::CommunityId;

fuzz_target!(|data: &[u8]| {
    if data.len() < 9 {
        return;
    }
    let proto = data[0];
    let (src, dst, transport) = if data[1] & 1 == 0 {
        (&data[1..5], &data[5..9], &data[9..])
    } else if data.len() >= 33 {
        (&data[1..17], &data[17..33], &data[33..])
    } else {
        return;
    };
    let mut c = CommunityId::default();
    let mut a = String::new();
    c.write(&mut a, src, dst, proto, Some(transport));
    assert!(a.is_empty() || (a.len() == 30 && a.starts_with("1:")));
    if matches!(proto, 6 | 17 | 132) && transport.len() >= 4 {
        let mut swapped = transport.to_vec();
        swapped[..2].copy_from_slice(&transport[2..4]);
        swapped[2..4].copy_from_slice(&transport[..2]);
        let mut b = String::new();
        c.write(&mut b, dst, src, proto, Some(&swapped));
        assert_eq!(a, b);
    }
});
