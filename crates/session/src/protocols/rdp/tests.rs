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

/// zeek-rdp-to-ssl.pcap's first connection (`tshark -q -z
/// follow,tcp,raw,0`): RDP_NEG_REQ for SSL, HYBRID and HYBRID_EX, a
/// confirm selecting HYBRID, then TLS 1.0 in both directions. tshark
/// (`--disable-protocol tpkt -d tcp.port==3389,tls`): SNI 192.168.1.150,
/// JA3 eaef0d8d3d689b3adc0c46bc5b6fc95e, ServerHello 0x0301 with cipher
/// 0x002f and JA3S 18e962e106761869a61045bed0e81c2c, one certificate of
/// SHA-1 00abbc7a0dca04571cb2ab4bb0dc652775f9e20c.
const TO_TLS: &str = include_str!("fixtures/zeek-rdp-to-ssl.follow");

#[test]
fn tls_after_the_confirm_goes_to_the_tls_parser() {
    use netcap_records::{TlsCertificate, TlsClientHello, TlsServerHello};
    for chunk in [usize::MAX, 1, 5, 64] {
        let mut h = TestHarness::default();
        let mut p = Rdp::default();
        let mut pending: [Vec<u8>; 2] = Default::default();
        let mut done = [false; 2];
        for (to_server, bytes) in follow(TO_TLS) {
            let dir = if to_server { Direction::ToServer } else { Direction::ToClient };
            if !done[dir.index()] {
                done[dir.index()] = h.feed(&mut p, dir, &bytes, chunk, &mut pending[dir.index()]);
            }
        }
        p.finish(&mut h.cx());
        assert_eq!(h.errors.errors.iter().sum::<u64>(), 0, "{chunk}-byte pieces");
        let rdp: Vec<RdpRecord> = h.emit.decoded(RecordType::Rdp);
        assert_eq!((rdp.len(), rdp[0].security_protocol.as_str()), (1, "HYBRID"));
        let hellos: Vec<TlsClientHello> = h.emit.decoded(RecordType::Tlsclienthello);
        assert_eq!(hellos.len(), 1, "{chunk}-byte pieces");
        assert_eq!(
            (hellos[0].sni.as_str(), hellos[0].ja3_hash.as_str()),
            ("192.168.1.150", "eaef0d8d3d689b3adc0c46bc5b6fc95e")
        );
        let servers: Vec<TlsServerHello> = h.emit.decoded(RecordType::Tlsserverhello);
        assert_eq!(servers.len(), 1);
        assert_eq!(
            (servers[0].cipher_suite, servers[0].ja3s_hash.as_str()),
            (0x2f, "18e962e106761869a61045bed0e81c2c")
        );
        let certs: Vec<TlsCertificate> = h.emit.decoded(RecordType::Tlscertificate);
        let sha1: Vec<&str> = certs.iter().map(|c| c.sha1.as_str()).collect();
        assert_eq!(sha1, ["00abbc7a0dca04571cb2ab4bb0dc652775f9e20c"]);
        // The Connection record learns the TLS outcome.
        let mut facts = crate::ConnectionExtras::default();
        p.facts(&mut facts);
        assert_eq!((facts.tls_version, facts.tls_cipher), (0x0301, 0x2f));
    }
}
