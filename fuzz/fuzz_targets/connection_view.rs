//! Arbitrary bytes as an encoded Connection record, through `netcap
//! query`'s partial decoder.
//!
//! The partial decoder must not panic, and wherever prost decodes the bytes
//! as a full `Connection` and the partial decoder succeeds too, both must
//! read the same values (a differential check of the field numbers and wire
//! handling). The fast walk for netcap's own files (`decode_ascending`) must
//! read prost's re-encoding of the record the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_query::ConnectionView;
use netcap_records::Connection;
use prost::Message;

fuzz_target!(|data: &[u8]| {
    // The walk for netcap's own files must not panic on anything either.
    let _ = ConnectionView::decode_ascending(data);
    let view = ConnectionView::decode(data);
    let Ok(full) = Connection::decode(data) else { return };
    if let Ok(view) = view {
        assert_same(&view, &full);
    }
    // prost's own encoding of what it decoded is the layout netcap writes:
    // the fast walk must read it, and read the same values.
    let written = full.encode_to_vec();
    let fast = ConnectionView::decode_ascending(&written).expect("a record as prost writes it reads");
    assert_same(&fast, &full);
});

fn assert_same(view: &ConnectionView<'_>, full: &Connection) {
    assert_eq!(view.timestamp_ns, full.timestamp_ns);
    assert_eq!(view.last_timestamp_ns, full.last_timestamp_ns);
    assert_eq!(view.duration_ns, full.duration_ns);
    assert_eq!(view.application_protocol, full.application_protocol);
    assert_eq!(view.ip_protocol, full.ip_protocol);
    assert_eq!(view.src_ip, full.src_ip);
    assert_eq!(view.dst_ip, full.dst_ip);
    assert_eq!(view.src_port, full.src_port);
    assert_eq!(view.dst_port, full.dst_port);
    assert_eq!(view.packets, full.packets);
    assert_eq!(view.bytes, full.bytes);
    assert_eq!(view.client_packets, full.client_packets);
    assert_eq!(view.client_bytes, full.client_bytes);
    assert_eq!(view.server_packets, full.server_packets);
    assert_eq!(view.server_bytes, full.server_bytes);
}
