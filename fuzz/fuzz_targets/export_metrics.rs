//! What `netcap export` reads from records it did not write itself:
//! arbitrary bytes as an encoded Connection (the partial decoder of the
//! flow metrics), and arbitrary strings as decode-error reasons and as label
//! values through the top-N limiter.
//!
//! The partial decoder must not panic and, wherever prost decodes the bytes
//! as a full `Connection` and it succeeds too, must read the same five
//! fields; its early-stopping variant must read them from prost's own
//! re-encoding of the record. The limiter must never hand out more than N labels of its own,
//! and every label it returns must be a sanitized value or "other".
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_decoder::ErrorReason;
use netcap_export::metrics::ConnectionFacts;
use netcap_export::topn::{MAX_VALUE_BYTES, OTHER, TopN, sanitize};
use netcap_records::Connection;
use prost::Message;
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let same = |facts: ConnectionFacts, full: &Connection| {
        assert_eq!(facts.duration_ns, full.duration_ns);
        assert_eq!(facts.termination_reason, full.termination_reason);
        assert_eq!(facts.ip_protocol, full.ip_protocol);
        assert_eq!(facts.packets, full.packets);
        assert_eq!(facts.bytes, full.bytes);
    };
    let _ = ConnectionFacts::decode_ordered(data);
    if let Ok(full) = Connection::decode(data) {
        if let Ok(facts) = ConnectionFacts::decode(data) {
            same(facts, &full);
        }
        // prost writes fields in order: the early-stopping scan of the
        // capture's own records must read the same as the full one.
        let canonical = full.encode_to_vec();
        same(ConnectionFacts::decode_ordered(&canonical).expect("prost's own encoding"), &full);
    }

    // The first byte sizes the limiter; the rest are NUL-separated values.
    let Some((&n, rest)) = data.split_first() else { return };
    let (n, min_hits) = (usize::from(n % 8), u64::from(n % 3) + 1);
    let mut top = TopN::new(n, min_hits);
    let mut labels = HashSet::new();
    for value in rest.split(|&b| b == 0) {
        let value = String::from_utf8_lossy(value);
        let _ = ErrorReason::classify(&value);
        let label = top.observe(&value).to_string();
        assert!(label == OTHER || label == sanitize(&value), "{label:?} for {value:?}");
        assert!(label.len() <= MAX_VALUE_BYTES.max(OTHER.len()));
        assert!(!label.chars().any(char::is_control));
        labels.insert(label);
    }
    assert!(top.promoted().count() <= n);
    assert!(labels.iter().filter(|l| l.as_str() != OTHER).count() <= n);
});
