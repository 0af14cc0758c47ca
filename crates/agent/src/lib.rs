//! The agent: runs a capture and ships its record batches to a collector
//! over mutual TLS (acknowledged, resent after reconnects, spooled while the
//! collector is unreachable), or publishes them to NATS JetStream.
//!
//! The capture hands [`AgentSink`] exactly the zstd frames `netcap capture`
//! would write to files; each becomes one batch (docs/distributed.md).

mod queue;

use netcap_capture::{CaptureError, RecordSink};
use netcap_records::{Header, RecordType};
use netcap_wire::{Message, SessionId};
use prost::Message as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

pub use queue::{Queue, QueueStats};

/// Unacknowledged bytes kept in memory before the spool is used.
pub const MEMORY_QUEUE: u64 = 64 << 20;
/// Unacknowledged bytes in flight on one connection.
const WINDOW: u64 = 16 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const PING_INTERVAL: Duration = Duration::from_secs(15);
/// A collector that acknowledges nothing for this long while batches are
/// in flight is considered gone: reconnect.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Where batches go.
#[derive(Debug, Clone)]
pub enum Target {
    Collector { addr: String, server_name: String, tls: netcap_wire::tls::TlsFiles },
    Nats { url: String, agent: String },
}

/// Turns the capture's frames into numbered batches in the queue.
pub struct AgentSink {
    queue: Arc<Queue>,
    session: SessionId,
    next_seq: u64,
    headers: Vec<Option<Vec<u8>>>,
    /// Records per second, 0 for no limit.
    rate: u64,
    started: Instant,
    records: u64,
}

impl AgentSink {
    pub fn new(queue: Arc<Queue>, rate: u64) -> Result<Self, getrandom::Error> {
        let mut session = [0u8; 16];
        getrandom::fill(&mut session)?;
        Ok(AgentSink {
            queue,
            session,
            next_seq: 0,
            headers: RecordType::all().map(|_| None).collect(),
            rate,
            started: Instant::now(),
            records: 0,
        })
    }

    pub fn session(&self) -> SessionId {
        self.session
    }
}

impl RecordSink for AgentSink {
    fn write_frame(
        &mut self,
        record_type: RecordType,
        header: &Header,
        records: u64,
        frame: &[u8],
    ) -> Result<(), CaptureError> {
        let header = self.headers[record_type.index()].get_or_insert_with(|| header.encode_to_vec());
        let body = netcap_wire::batch_body(&self.session, self.next_seq, record_type, records, header, frame);
        self.next_seq += 1;
        self.queue.push(body, records);
        self.records += records;
        if self.rate > 0 {
            // Pace: the capture pipeline waits for its sink, so sleeping
            // here slows the whole replay down to the rate.
            let due = Duration::from_secs_f64(self.records as f64 / self.rate as f64);
            if let Some(wait) = due.checked_sub(self.started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        Ok(())
    }

    fn finish(&mut self, _records: &[(RecordType, u64)]) -> Result<Vec<PathBuf>, CaptureError> {
        self.queue.close();
        Ok(Vec::new())
    }
}

/// Why the sender stopped, or why one connection to the collector (or
/// NATS) ended; connection errors are retried and logged.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("cannot start the sender's runtime: {0}")]
    Runtime(std::io::Error),
    #[error("TLS configuration: {0}")]
    TlsConfig(#[from] netcap_wire::tls::TlsError),
    #[error("invalid collector name {name:?}: {source}")]
    ServerName { name: String, source: rustls::pki_types::InvalidDnsNameError },
    #[error("connect timed out")]
    ConnectTimeout,
    #[error("cannot connect: {0}")]
    Connect(std::io::Error),
    #[error("TLS handshake timed out")]
    HandshakeTimeout,
    #[error("TLS: {0}")]
    Handshake(std::io::Error),
    #[error("connection lost: {0}")]
    ConnectionLost(std::io::Error),
    #[error("{0}")]
    Protocol(#[from] netcap_wire::WireError),
    #[error("no welcome from the collector")]
    NoWelcome,
    #[error("collector refused: {0}")]
    Refused(String),
    #[error("collector closed the connection: {0}")]
    Closed(String),
    #[error("unexpected message {0}")]
    Unexpected(String),
    #[error("no acknowledgement for {} s", .0.as_secs())]
    NoAck(Duration),
    #[error(transparent)]
    Nats(#[from] netcap_wire::nats::NatsError),
    #[error("no acknowledgement from JetStream")]
    NoJetStreamAck,
}

fn log(message: &str) {
    eprintln!("netcap agent: {message}");
}

/// Runs the sender until the queue is closed and empty, or `stop` is set.
pub fn run_sender(target: &Target, queue: Arc<Queue>, stop: Arc<AtomicBool>) -> Result<(), AgentError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(AgentError::Runtime)?;
    let result = rt.block_on(async {
        match target {
            Target::Collector { addr, server_name, tls } => {
                let config = netcap_wire::tls::client_config(tls)?;
                let name = rustls::pki_types::ServerName::try_from(server_name.clone())
                    .map_err(|source| AgentError::ServerName { name: server_name.clone(), source })?;
                collector_loop(addr, name, tokio_rustls::TlsConnector::from(config), &queue, &stop).await;
                Ok(())
            }
            Target::Nats { url, agent } => nats_loop(url, agent, &queue, &stop).await,
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    result
}

async fn collector_loop(
    addr: &str,
    name: rustls::pki_types::ServerName<'static>,
    connector: tokio_rustls::TlsConnector,
    queue: &Queue,
    stop: &AtomicBool,
) {
    let mut backoff = Duration::from_millis(100);
    let mut failures = 0u64;
    while !stop.load(Relaxed) && !queue.done() {
        let connected = Instant::now();
        match session(addr, name.clone(), &connector, queue, stop).await {
            Ok(()) => return,
            Err(e) => {
                failures += 1;
                // Loud on the first failure, then now and then.
                if failures == 1 || failures.is_power_of_two() {
                    log(&format!(
                        "collector {addr}: {e}; retrying (attempt {failures}, unacknowledged batches are kept{})",
                        if queue.pending() { " and spooled when memory is full" } else { "" }
                    ));
                }
            }
        }
        if connected.elapsed() > Duration::from_secs(30) {
            backoff = Duration::from_millis(100);
        }
        let until = Instant::now() + backoff;
        while Instant::now() < until && !stop.load(Relaxed) {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn read_message<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> Result<(), AgentError> {
    let mut len = [0u8; 4];
    reader.read_exact(&mut len).await.map_err(AgentError::ConnectionLost)?;
    let len = netcap_wire::check_len(u32::from_be_bytes(len))?;
    buf.clear();
    buf.resize(len, 0);
    reader.read_exact(buf).await.map_err(AgentError::ConnectionLost)?;
    Ok(())
}

/// One connection: hello, then send batches and take acks until done.
async fn session(
    addr: &str,
    name: rustls::pki_types::ServerName<'static>,
    connector: &tokio_rustls::TlsConnector,
    queue: &Queue,
    stop: &AtomicBool,
) -> Result<(), AgentError> {
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::TcpStream::connect(addr))
        .await
        .map_err(|_| AgentError::ConnectTimeout)?
        .map_err(AgentError::Connect)?;
    let _ = tcp.set_nodelay(true);
    let tls = tokio::time::timeout(CONNECT_TIMEOUT, connector.connect(name, tcp))
        .await
        .map_err(|_| AgentError::HandshakeTimeout)?
        .map_err(AgentError::Handshake)?;
    let (mut reader, mut writer) = tokio::io::split(tls);
    writer.write_all(&netcap_wire::hello()).await.map_err(AgentError::ConnectionLost)?;
    let mut buf = Vec::new();
    tokio::time::timeout(CONNECT_TIMEOUT, read_message(&mut reader, &mut buf))
        .await
        .map_err(|_| AgentError::NoWelcome)??;
    match Message::decode(&buf)? {
        Message::Welcome { .. } => {}
        Message::Error(reason) => return Err(AgentError::Refused(reason.to_string())),
        other => return Err(AgentError::Unexpected(format!("{other:?}"))),
    }
    queue.restart();
    log(&format!("connected to collector {addr}"));

    let last_ack = std::sync::Mutex::new(Instant::now());
    let acks = async {
        let mut buf = Vec::new();
        loop {
            read_message(&mut reader, &mut buf).await?;
            *last_ack.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
            match Message::decode(&buf)? {
                Message::Ack { session, seq } => queue.ack(&session, seq, false),
                Message::Rejected { session, seq, reason } => {
                    log(&format!("WARNING: the collector rejected batch {seq}: {reason}"));
                    queue.ack(&session, seq, true);
                }
                Message::Error(reason) => {
                    return Err::<(), AgentError>(AgentError::Closed(reason.to_string()));
                }
                other => return Err(AgentError::Unexpected(format!("{other:?}"))),
            }
            queue.ready.notify_one();
        }
    };
    let sends = async {
        let mut last_send = Instant::now();
        let mut framed = Vec::new();
        loop {
            if stop.load(Relaxed) {
                return Ok(());
            }
            if queue.done() {
                let _ = writer.shutdown().await;
                return Ok(());
            }
            let mut wrote = false;
            while let Some(body) = queue.next_to_send(WINDOW) {
                framed.clear();
                framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
                framed.extend_from_slice(&body);
                writer.write_all(&framed).await.map_err(AgentError::ConnectionLost)?;
                wrote = true;
            }
            if wrote {
                writer.flush().await.map_err(AgentError::ConnectionLost)?;
                last_send = Instant::now();
            }
            if last_send.elapsed() >= PING_INTERVAL {
                writer.write_all(&netcap_wire::ping()).await.map_err(AgentError::ConnectionLost)?;
                writer.flush().await.map_err(AgentError::ConnectionLost)?;
                last_send = Instant::now();
            }
            let waited = last_ack.lock().unwrap_or_else(|e| e.into_inner()).elapsed();
            if queue.pending() && waited > ACK_TIMEOUT && last_send.elapsed() < waited {
                return Err(AgentError::NoAck(ACK_TIMEOUT));
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), queue.ready.notified()).await;
        }
    };
    tokio::select! {
        result = acks => result,
        result = sends => result,
    }
}

async fn nats_loop(url: &str, agent: &str, queue: &Queue, stop: &AtomicBool) -> Result<(), AgentError> {
    let mut backoff = Duration::from_millis(100);
    while !stop.load(Relaxed) && !queue.done() {
        match nats_session(url, agent, queue, stop).await {
            Ok(()) => return Ok(()),
            Err(e) => log(&format!("NATS {url}: {e}; retrying")),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    Ok(())
}

async fn nats_session(url: &str, agent: &str, queue: &Queue, stop: &AtomicBool) -> Result<(), AgentError> {
    let (js, _) = netcap_wire::nats::connect(url).await.map_err(AgentError::Nats)?;
    queue.restart();
    log(&format!("publishing to NATS {url} as {agent}"));
    let mut in_flight = std::collections::VecDeque::new();
    loop {
        if stop.load(Relaxed) || queue.done() {
            return Ok(());
        }
        while in_flight.len() < 256 {
            let Some(body) = queue.next_to_send(WINDOW) else { break };
            let Ok(Message::Batch(batch)) = Message::decode(&body) else { continue };
            let (session, seq, record_type) = (batch.session, batch.seq, batch.record_type);
            let ack = netcap_wire::nats::publish(&js, agent, record_type, &session, seq, body.clone())
                .await
                .map_err(AgentError::Nats)?;
            in_flight.push_back((session, seq, ack));
        }
        match in_flight.pop_front() {
            Some((session, seq, ack)) => {
                tokio::time::timeout(ACK_TIMEOUT, ack)
                    .await
                    .map_err(|_| AgentError::NoJetStreamAck)?
                    .map_err(|e| AgentError::Nats(netcap_wire::nats::NatsError::NotStored(e)))?;
                queue.ack(&session, seq, false);
            }
            None => {
                let _ = tokio::time::timeout(Duration::from_millis(200), queue.ready.notified()).await;
            }
        }
    }
}
