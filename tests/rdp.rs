//! RDP records against tshark 4.0.
//!
//! Expected values: `tshark -r <capture> -Y "rdp.rt_cookie ||
//! rdp.negReq.requestedProtocols || rdp.negReq.selectedProtocol" -T fields
//! -e tcp.srcport -e rdp.rt_cookie -e rdp.negReq.requestedProtocols -e
//! rdp.negReq.selectedProtocol` and `-Y rdp.client.name -T fields -e
//! rdp.client.name -e rdp.client.build -e rdp.desktop.width -e
//! rdp.desktop.height -e rdp.keyboardLayout -e rdp.name`:
//!
//! - zeek-rdp-x509: 54990, Cookie: mstshash=JOHN-PC  , requested 0,
//!   selected 0; JOHN-PC-LAPTOP, 9600, 1920, 1080, 1033,
//!   rdpdr,rdpsnd,cliprdr,drdynvc.
//! - sv-RDP-003: 13178, Cookie: mstshash=A70067 (no negotiation request);
//!   ISD2-KM84178, 2600, 1152, 864, 1033, rdpdr,cliprdr,rdpsnd.
//! - zeek-rdp-no-cookie-mstshash: 50204, no cookie, requested 0x0b,
//!   selected 0x08 (HYBRID_EX; CredSSP follows, so no client data).
//! - arkime-socks5-rdp (through SOCKS 5, in testdata/pcaps-socks): 2276,
//!   Cookie: mstshash=XXX (tshark -d tcp.port==42356,socks), requested 0.
//!
//! TLS after the confirm: tshark 4.0 leaves it as "TPKT Continuation";
//! with `--disable-protocol tpkt -d tcp.port==3389,tls -Y
//! "tls.handshake.type==1 || tls.handshake.type==2" -T fields -e
//! tcp.srcport -e tls.handshake.extensions_server_name -e
//! tls.handshake.ja3 -e tls.handshake.ja3s -e tls.handshake.ciphersuite`
//! (and the SHA-1 of each `tls.handshake.certificate`):
//!
//! - zeek-rdp-no-cookie-mstshash: ClientHello from 50204, no SNI, JA3
//!   c12f54a3f91dc7bafd92cb59fe009a35; ServerHello JA3S
//!   ba1b42efc7dc57bb43bf81de59791c1b, cipher 0x009d; certificate
//!   a19f39ecaa2c05a4e32403d0a718f34ed53cc526.
//! - zeek-rdp-to-ssl: two connections (49206, 49207; selected HYBRID), each
//!   SNI 192.168.1.150, JA3 eaef0d8d3d689b3adc0c46bc5b6fc95e, JA3S
//!   18e962e106761869a61045bed0e81c2c, cipher 0x002f, certificate
//!   00abbc7a0dca04571cb2ab4bb0dc652775f9e20c.

use crate::util::*;
use netcap_records::{Connection, Rdp, RecordType, Socks, TlsCertificate, TlsClientHello, TlsServerHello};

fn captured(path: &str) -> (Vec<Rdp>, Vec<Connection>) {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata(path), out.path(), &[]);
    (records(out.path(), RecordType::Rdp), records(out.path(), RecordType::Connection))
}

#[test]
fn negotiation_and_client_core_data() {
    let (rdp, connections) = captured("pcaps-rdp/zeek-rdp-x509.pcap");
    assert_eq!(rdp.len(), 1);
    let r = &rdp[0];
    assert_eq!((r.src_port, r.cookie.as_str()), (54990, "mstshash=JOHN-PC  "));
    assert_eq!(
        (r.requested_protocols.clone(), r.security_protocol.as_str(), r.result.as_str()),
        (vec!["RDP".to_owned()], "RDP", "Success")
    );
    assert_eq!(
        (r.client_name.as_str(), r.client_build, r.desktop_width, r.desktop_height, r.keyboard_layout),
        ("JOHN-PC-LAPTOP", 9600, 1920, 1080, 1033)
    );
    assert_eq!(r.client_channels, ["rdpdr", "rdpsnd", "cliprdr", "drdynvc"]);
    assert_eq!(connections[0].application_protocol, "RDP");

    let (rdp, _) = captured("pcaps-rdp/sv-RDP-003.pcap");
    let r = &rdp[0];
    assert_eq!((r.src_port, r.cookie.as_str(), r.security_protocol.as_str()), (13178, "mstshash=A70067", "RDP"));
    assert!(r.requested_protocols.is_empty());
    assert_eq!(
        (r.client_name.as_str(), r.client_build, r.desktop_width, r.desktop_height, r.keyboard_layout),
        ("ISD2-KM84178", 2600, 1152, 864, 1033)
    );
    assert_eq!(r.client_channels, ["rdpdr", "cliprdr", "rdpsnd"]);

    let (rdp, _) = captured("pcaps-rdp/zeek-rdp-no-cookie-mstshash.pcap");
    let r = &rdp[0];
    assert_eq!((r.src_port, r.cookie.as_str()), (50204, ""));
    assert_eq!(r.requested_protocols, ["SSL", "HYBRID", "HYBRID_EX"]);
    assert_eq!((r.security_protocol.as_str(), r.client_name.as_str()), ("HYBRID_EX", ""));
}

#[test]
fn rdp_through_a_socks_tunnel() {
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-socks/arkime-socks5-rdp.pcap"), out.path(), &[]);
    let socks: Vec<Socks> = records(out.path(), RecordType::Socks);
    let rdp: Vec<Rdp> = records(out.path(), RecordType::Rdp);
    assert_eq!(socks[0].tunnel_protocol, "RDP");
    assert_eq!((rdp.len(), rdp[0].cookie.as_str(), rdp[0].src_port), (1, "mstshash=XXX", 2276));
}

/// TLS after a confirm that selected HYBRID or HYBRID_EX is parsed: the
/// hellos, the server's certificate and the Connection's TLS fields, as
/// tshark decodes them when told the stream is TLS.
#[test]
fn tls_after_the_negotiation() {
    for (path, sni, ja3, ja3s, cipher, sha1, ports) in [
        (
            "pcaps-rdp/zeek-rdp-no-cookie-mstshash.pcap",
            "",
            "c12f54a3f91dc7bafd92cb59fe009a35",
            "ba1b42efc7dc57bb43bf81de59791c1b",
            0x9d,
            "a19f39ecaa2c05a4e32403d0a718f34ed53cc526",
            vec![50204],
        ),
        (
            "pcaps-rdp/zeek-rdp-to-ssl.pcap",
            "192.168.1.150",
            "eaef0d8d3d689b3adc0c46bc5b6fc95e",
            "18e962e106761869a61045bed0e81c2c",
            0x2f,
            "00abbc7a0dca04571cb2ab4bb0dc652775f9e20c",
            vec![49206, 49207],
        ),
    ] {
        let out = tempfile::tempdir().unwrap();
        capture(&testdata(path), out.path(), &[]);
        let hellos: Vec<TlsClientHello> = records(out.path(), RecordType::Tlsclienthello);
        let mut from: Vec<u32> = hellos.iter().map(|h| h.src_port).collect();
        from.sort_unstable();
        assert_eq!(from, ports, "{path}");
        for h in &hellos {
            assert_eq!((h.sni.as_str(), h.ja3_hash.as_str()), (sni, ja3), "{path}");
        }
        let servers: Vec<TlsServerHello> = records(out.path(), RecordType::Tlsserverhello);
        assert_eq!(servers.len(), ports.len(), "{path}");
        for s in &servers {
            assert_eq!((s.ja3s_hash.as_str(), s.cipher_suite), (ja3s, cipher), "{path}");
        }
        let certs: Vec<TlsCertificate> = records(out.path(), RecordType::Tlscertificate);
        assert_eq!(certs.len(), ports.len(), "{path}");
        assert!(certs.iter().all(|c| c.sha1 == sha1), "{path}");
        let connections: Vec<Connection> = records(out.path(), RecordType::Connection);
        for port in &ports {
            let c = connections.iter().find(|c| c.src_port == *port).unwrap();
            assert_eq!((c.application_protocol.as_str(), c.tls_cipher), ("RDP", cipher), "{path} {port}");
        }
        let rdp: Vec<Rdp> = records(out.path(), RecordType::Rdp);
        assert_eq!(rdp.len(), ports.len(), "{path}");
    }
}
