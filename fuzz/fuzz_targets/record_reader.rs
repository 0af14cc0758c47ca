//! An arbitrary byte string as a `.ncap.zst` record file.
//!
//! Reads the header, then every record with `next_raw()` until the end or
//! the first error, decoding each as a DynamicMessage of the header's record
//! type (the decode may fail on garbage; it must not panic). A recoverable
//! error (one damaged frame) is skipped, as `dump` skips it; checks that
//! after any other error the reader only returns `Ok(None)`.
//!
//! zstd can expand a few bytes into many megabytes, so reading stops after
//! `MAX_RECORDS` records or `MAX_BYTES` decompressed record bytes to keep
//! every run short; both are far beyond what the seeds contain.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_records::RecordReader;
use prost_reflect::DynamicMessage;

const MAX_RECORDS: u64 = 100_000;
const MAX_BYTES: usize = 32 << 20;

fuzz_target!(|data: &[u8]| {
    let mut reader = match RecordReader::new("fuzz", data) {
        Ok(r) => r,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let desc = reader.record_type().descriptor().expect("the reader only accepts known record types").clone();
    let mut bytes = 0usize;
    loop {
        if reader.records_read() >= MAX_RECORDS || bytes >= MAX_BYTES {
            return;
        }
        match reader.next_raw() {
            Ok(Some(record)) => {
                bytes += record.len();
                if let Ok(message) = DynamicMessage::decode(desc.clone(), record) {
                    // Touch every field, as a dump would.
                    for (_field, value) in message.fields() {
                        let _ = format!("{value:?}");
                    }
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = e.to_string();
                if e.is_recoverable() {
                    continue;
                }
                assert!(matches!(reader.next_raw(), Ok(None)), "reader yields more after an error");
                break;
            }
        }
    }
    assert!(matches!(reader.next_raw(), Ok(None)), "reader yields more after its end");
});
