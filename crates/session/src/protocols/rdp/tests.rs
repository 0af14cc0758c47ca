use super::*;
use crate::protocols::{TestHarness, follow_raw as follow};

/// zeek-rdp-x509.pcap's first three TPKTs (`tshark -q -z
/// follow,tcp,raw,0`, the server's line indented): Connection Request
/// with "Cookie: mstshash=JOHN-PC  " and RDP_NEG_REQ 0 (standard RDP
/// security), Connection Confirm selecting it, and the MCS Connect
/// Initial. tshark: rdp.client.name JOHN-PC-LAPTOP, rdp.client.build 9600,
/// rdp.desktop.width 1920, height 1080, rdp.keyboardLayout 1033, rdp.name
/// rdpdr,rdpsnd,cliprdr,drdynvc.
const STREAM: &str = include_str!("fixtures/zeek-rdp-x509.follow");

fn run(chunk: usize) -> Vec<RdpRecord> {
    let mut h = TestHarness::default();
    let mut p = Rdp::default();
    let mut pending: [Vec<u8>; 2] = Default::default();
    let mut done = [false; 2];
    for (to_server, bytes) in follow(STREAM) {
        let dir = if to_server { Direction::ToServer } else { Direction::ToClient };
        if !done[dir.index()] {
            done[dir.index()] = h.feed(&mut p, dir, &bytes, chunk, &mut pending[dir.index()]);
        }
    }
    p.finish(&mut h.cx());
    h.emit.decoded(RecordType::Rdp)
}

#[test]
fn negotiation_and_client_data_at_every_segmentation() {
    let rdp = run(usize::MAX);
    assert_eq!(rdp.len(), 1);
    let r = &rdp[0];
    assert_eq!(r.cookie, "mstshash=JOHN-PC  ");
    assert_eq!(r.requested_protocols, ["RDP"]);
    assert_eq!((r.security_protocol.as_str(), r.result.as_str()), ("RDP", "Success"));
    assert_eq!((r.client_name.as_str(), r.client_build, r.keyboard_layout), ("JOHN-PC-LAPTOP", 9600, 1033));
    assert_eq!((r.desktop_width, r.desktop_height), (1920, 1080));
    assert_eq!(r.client_channels, ["rdpdr", "rdpsnd", "cliprdr", "drdynvc"]);
    for chunk in [1, 2, 3, 7, 50] {
        assert_eq!(run(chunk), rdp, "{chunk}-byte pieces");
    }
}

#[test]
fn failures_names_and_probes() {
    // zeek-rdp-no-cookie-mstshash: RDP_NEG_REQ 0x0b, confirm 8 (HYBRID_EX).
    assert_eq!(protocol_names(0x0b), ["SSL", "HYBRID", "HYBRID_EX"]);
    assert_eq!(selected_name(8), "HYBRID_EX");
    assert_eq!(connection_confirm(&[0x0e, 0xd0, 0, 0, 0x12, 0x34, 0, 3, 0, 8, 0, 5, 0, 0, 0]), Some(Err(5)));
    assert_eq!(failure_name(5), "HYBRID_REQUIRED_BY_SERVER");
    let stream = follow(STREAM);
    assert_eq!(probe(Direction::ToServer, &stream[0].1), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, &stream[1].1), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, &stream[0].1), Probe::No);
    assert_eq!(probe(Direction::ToServer, &[3, 0]), Probe::NeedMore);
    assert_eq!(probe(Direction::ToServer, b"GET /"), Probe::No);
}

#[test]
fn garbage_and_truncations_do_not_panic() {
    let stream = follow(STREAM);
    let pdu = &stream[2].1;
    for cut in 0..pdu.len() {
        let _ = client_data(&pdu[..cut]);
        let _ = connection_request(&pdu[..cut.min(60)]);
    }
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        for (_, bytes) in &stream {
            data.extend_from_slice(bytes);
        }
        data.extend(std::iter::repeat_n(seed, 64));
        fuzz_entry(&data);
    }
    let mut h = TestHarness::default();
    let mut p = Rdp::default();
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, b"\x05\x00\x00\x10"), Parsed::Done);
    assert_eq!(p.parse(&mut h.cx(), Direction::ToClient, b"\x03\x00\x00\x02"), Parsed::Done);
}
