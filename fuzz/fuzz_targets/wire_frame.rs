//! An arbitrary byte string as what an authenticated agent sends a
//! collector: length-prefixed messages, cut and decoded as the collector
//! does (`check_len`, `Message::decode`), batches checked by the
//! collector's `Validator`.
//!
//! Checks besides "no panic": a decoded batch encodes back to the same
//! body and `batch_position` agrees with it; and a batch the validator
//! accepts is stored safely: its header and frame, written as a collector
//! writes a file (header frame, batch frame, end marker), read back with
//! `RecordReader` to exactly `records` records, each of which decodes as
//! the batch's record type (what `netcap dump` does).
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_records::RecordReader;
use netcap_wire::validate::Validator;
use netcap_wire::{Message, batch_body, batch_position, check_len};
use prost::Message as _;
use prost_reflect::DynamicMessage;
use std::cell::RefCell;

thread_local! {
    // Building the validator's rules walks the whole schema: once per process.
    static VALIDATOR: RefCell<Validator> = RefCell::new(Validator::new().expect("zstd decompressor"));
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Some(prefix) = rest.get(..4) {
        let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let Ok(len) = check_len(len) else { return };
        let Some(body) = rest.get(4..4 + len) else { return };
        rest = &rest[4 + len..];
        let batch = match Message::decode(body) {
            Ok(Message::Batch(batch)) => batch,
            Ok(other) => {
                let _ = format!("{other:?}");
                continue;
            }
            Err(e) => {
                let _ = e.to_string();
                continue;
            }
        };
        assert_eq!(batch_position(body), Some((batch.session, batch.seq)));
        let again = batch_body(&batch.session, batch.seq, batch.record_type, batch.records, batch.header, batch.frame);
        assert_eq!(again, body, "a batch encodes back to what was decoded");
        let accepted = VALIDATOR.with(|v| v.borrow_mut().check(&batch));
        if accepted.is_err() {
            continue;
        }
        let header = batch.decode_header().expect("the validator checked the header");
        let mut file = zstd::bulk::compress(&header.encode_length_delimited_to_vec(), 1).expect("compress");
        file.extend_from_slice(batch.frame);
        file.extend_from_slice(&0x184D_2A5Eu32.to_le_bytes());
        file.extend_from_slice(&16u32.to_le_bytes());
        file.extend_from_slice(b"NCAPEND\0");
        file.extend_from_slice(&batch.records.to_le_bytes());
        let mut reader = RecordReader::new("fuzz", file.as_slice()).expect("a stored batch makes a readable file");
        let desc = batch.record_type.descriptor().expect("decoded batches have known types").clone();
        while let Some(record) = reader.next_raw().expect("a stored batch reads to its end marker") {
            DynamicMessage::decode(desc.clone(), record).expect("an accepted record decodes");
        }
        assert_eq!(reader.records_read(), batch.records);
    }
});
