//! Prometheus metrics of netcap: what a capture reads, decodes and derives,
//! served at `/metrics` for a Prometheus server to scrape (docs/metrics.md
//! lists every metric).
//!
//! - [`Metrics`] owns the registry and every metric family; a [`Recorder`]
//!   updates them from one thread.
//! - [`MetricsObserver`] watches a running capture (`netcap capture
//!   -metrics`, `netcap export -read x.pcap`, `-iface`): it takes the
//!   per-batch counts the capture workers already keep and the frames the
//!   writer writes, decoding only the few derived records it needs.
//! - [`records`] counts the same metrics from record files.
//! - [`MetricsServer`] serves the exposition over HTTP/1 (hyper).
//! - [`topn`] bounds label values that traffic controls.
//!
//! **Why the `prometheus` crate** (tikv's, not `prometheus-client`): its
//! process collector reports CPU, memory, file descriptors and start time on
//! Linux in the names every Prometheus dashboard knows (`process_*`);
//! `prometheus-client` has none and would need a second crate for it. Its
//! global default registry is not used: [`Metrics`] has its own registry,
//! so tests and several exporters in one process stay apart.
//!
//! **Label bounds.** Every label takes values from a fixed set: link,
//! network and transport classes, record types, decoder layers, error
//! reason classes, termination reasons, SPOT statistic names, each with a
//! catch-all where input could say anything else. No label carries an
//! address, a port or a name seen on the wire, except through a [`topn`]
//! limiter.

pub mod app;
pub mod metrics;
pub mod observer;
pub mod records;
pub mod server;
pub mod topn;

pub use metrics::{DEFAULT_TOP_N, MAX_TOP_N, Metrics, Recorder};
pub use observer::{DiscardSink, MetricsObserver};
pub use server::{Limits, MetricsServer, ServerError};

/// The partial decoders read fields by number: each test names the numbers
/// it relies on, and this checks them against the schema.
#[cfg(test)]
pub(crate) fn assert_field_numbers(t: netcap_records::RecordType, fields: &[(&str, u64)]) {
    let d = t.descriptor().unwrap();
    for (name, number) in fields {
        assert_eq!(d.get_field_by_name(name).map(|f| u64::from(f.number())), Some(*number), "{} {name}", t.name());
    }
}
