//! End-to-end tests of the netcap binary: one integration-test binary, one
//! module per subject.

mod util;

mod capture;
mod distributed;
mod dump;
mod export;
mod live;
mod malformed;
mod oracle;
mod query;
