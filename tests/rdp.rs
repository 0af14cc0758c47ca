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

use crate::util::*;
use netcap_records::{Connection, Rdp, RecordType, Socks};

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
