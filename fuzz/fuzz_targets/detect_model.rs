#![no_main]
//! netcap detect: model files (JSON) loaded and scored, and Connection
//! frame content scored by a detector: nothing may panic, forest scores
//! stay probabilities, every decoded record is scored or skipped.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    netcap_detect::fuzz_entry(data);
});
