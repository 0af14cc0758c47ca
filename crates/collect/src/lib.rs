//! The collector: accepts record batches from many agents over mutual TLS
//! and writes `<out>/<agent>/<Type>.ncap.zst`, or publishes them to NATS
//! JetStream; or, as one of several collectors, consumes them from
//! JetStream and writes the files (docs/distributed.md).

pub mod nats;
pub mod server;
pub mod store;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

pub use store::{Rotation, Store};

/// What the collector did; shown on exit.
#[derive(Debug, Default)]
pub struct Counters {
    /// Agent connections that passed TLS and the hello.
    pub connections: AtomicU64,
    /// Connections refused: no or bad client certificate, failed handshake.
    pub tls_rejected: AtomicU64,
    /// Connections closed for garbage, oversized or malformed messages.
    pub protocol_errors: AtomicU64,
    /// Batches stored (or published).
    pub batches: AtomicU64,
    /// Records in those batches.
    pub records: AtomicU64,
    /// Batches received again after a reconnect and not stored twice.
    pub duplicates: AtomicU64,
    /// Batches whose records did not decode: not stored.
    pub rejected: AtomicU64,
}

impl Counters {
    pub fn summary(&self) -> String {
        format!(
            "{} records in {} batches stored, {} duplicate batches ignored, {} batches rejected; {} agent connections, {} refused at TLS, {} closed for protocol errors",
            self.records.load(Relaxed),
            self.batches.load(Relaxed),
            self.duplicates.load(Relaxed),
            self.rejected.load(Relaxed),
            self.connections.load(Relaxed),
            self.tls_rejected.load(Relaxed),
            self.protocol_errors.load(Relaxed),
        )
    }
}

/// Collector messages go to stderr, one line each.
pub fn log(message: &str) {
    eprintln!("netcap collect: {message}");
}

/// A collector that cannot run.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Tls(#[from] netcap_wire::tls::TlsError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Nats(#[from] nats::NatsError),
    #[error("cannot start the collector's runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no output: give -out or -nats")]
    NoOutput,
}

/// Settings of `netcap collect`.
#[derive(Debug, Clone)]
pub struct CollectConfig {
    pub listen: String,
    pub tls: netcap_wire::tls::TlsFiles,
    pub out: PathBuf,
    pub rotation: Rotation,
    /// Publish to this NATS server instead of writing files.
    pub nats: Option<String>,
}

fn runtime() -> Result<tokio::runtime::Runtime, CollectError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(CollectError::Runtime)
}

async fn wait_for(stop: &AtomicBool) {
    while !stop.load(Relaxed) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs the TLS collector until `stop` is set; `on_listen` gets the bound
/// address (port 0 picks a free one).
pub fn run(
    config: &CollectConfig,
    stop: Arc<AtomicBool>,
    on_listen: impl FnOnce(SocketAddr),
) -> Result<Arc<Counters>, CollectError> {
    let tls = netcap_wire::tls::server_config(&config.tls)?;
    let store = match config.nats {
        None => {
            let store = Store::open(&config.out, config.rotation)?;
            // Only a NATS collector's log needs to know what recovery found.
            store.forget_recovered();
            Some(Arc::new(store))
        }
        Some(_) => None,
    };
    let counters = Arc::new(Counters::default());
    let rt = runtime()?;
    rt.block_on(async {
        let backend = match (&config.nats, &store) {
            (Some(url), _) => server::Backend::Nats(Arc::new(nats::Publisher::connect(url).await?)),
            (None, Some(store)) => server::Backend::Files(store.clone()),
            (None, None) => return Err(CollectError::NoOutput),
        };
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|source| CollectError::Listen { address: config.listen.clone(), source })?;
        let addr =
            listener.local_addr().map_err(|source| CollectError::Listen { address: config.listen.clone(), source })?;
        on_listen(addr);
        let serve =
            tokio::spawn(server::serve(listener, tokio_rustls::TlsAcceptor::from(tls), backend, counters.clone()));
        if let Some(store) = store.clone() {
            let rotate_stop = stop.clone();
            tokio::spawn(async move {
                while !rotate_stop.load(Relaxed) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    let store = store.clone();
                    if let Ok(Err(e)) = tokio::task::spawn_blocking(move || store.rotate_due()).await {
                        log(&format!("rotation failed: {e}"));
                    }
                }
            });
        }
        wait_for(&stop).await;
        serve.abort();
        Ok(())
    })?;
    // Connections are dropped with the runtime; what they wrote but did not
    // acknowledge is kept and the agents resend it (and it is dropped as a
    // duplicate) after reconnecting.
    rt.shutdown_timeout(Duration::from_secs(2));
    if let Some(store) = store {
        store.close()?;
    }
    Ok(counters)
}

/// Runs as one collector of the NATS consumer group until `stop` is set.
pub fn run_from_nats(
    url: &str,
    out: &std::path::Path,
    rotation: Rotation,
    ack_wait: Duration,
    stop: Arc<AtomicBool>,
) -> Result<Arc<Counters>, CollectError> {
    let store = Arc::new(Store::open(out, rotation)?);
    let counters = Arc::new(Counters::default());
    let rt = runtime()?;
    // Rotation runs in the consumer's loop: it must not rotate a file while
    // the write-ahead log still holds batches appended to it.
    let result = rt.block_on(nats::consume(url, ack_wait, store.clone(), counters.clone(), stop.clone()));
    rt.shutdown_timeout(Duration::from_secs(2));
    store.close()?;
    result?;
    Ok(counters)
}
