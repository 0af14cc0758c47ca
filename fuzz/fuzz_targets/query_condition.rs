//! An arbitrary string as a `netcap query` condition.
//!
//! Parsing must not panic or recurse without bound. A parsed condition must
//! print in a canonical form that parses back to the same condition (app
//! values with quotes or backslashes excepted: the printed form escapes
//! them, the language has no escapes), and evaluate without panicking. An
//! error's position must lie within the query and its pointer must render.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_query::{Condition, Fields, Test};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match Condition::parse(text) {
        Ok(condition) => {
            let fields = Fields { sip: "10.0.0.1".parse().ok(), dip: "2001:db8::1".parse().ok(), ..Fields::default() };
            let _ = condition.matches(&fields);
            let _ = condition.matches(&Fields::default());
            let printed = condition.to_string();
            if !has_escaped_app(&condition) {
                let again = Condition::parse(&printed).unwrap_or_else(|e| panic!("{printed:?} does not parse: {e}"));
                assert_eq!(again, condition, "{printed:?}");
            }
        }
        Err(e) => {
            assert!(e.position <= text.len(), "{e}");
            let _ = e.pointer(text);
            let _ = e.to_string();
        }
    }
});

fn has_escaped_app(condition: &Condition) -> bool {
    match condition {
        Condition::Test(Test::App { value, .. }) => format!("{value:?}") != format!("\"{value}\""),
        Condition::Test(_) => false,
        Condition::Not(inner) => has_escaped_app(inner),
        Condition::And(all) | Condition::Or(all) => all.iter().any(has_escaped_app),
    }
}
