//! End-to-end tests of the netcap binary: one integration-test binary, one
//! module per subject.

mod util;

mod app_oracle;
mod capture;
mod distributed;
mod dump;
mod export;
mod integrity;
mod label;
mod live;
mod malformed;
mod net_oracle;
mod oracle;
mod query;
mod stream_oracle;
