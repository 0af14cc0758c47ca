//! The TLS listener: one task per agent connection, one blocking worker per
//! connection that checks, writes and syncs batches and sends the acks.

use crate::nats::Publisher;
use crate::store::{Store, Written};
use crate::{Counters, log};
use bytes::Bytes;
use netcap_wire::validate::Validator;
use netcap_wire::{Message, SessionId};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// An agent pings every 15 s when it has nothing to send.
const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Batches a worker writes before one fsync and one ack.
const GROUP: usize = 256;
/// Bytes of received batches one connection may have waiting to be stored.
const BUDGET: usize = 64 << 20;
/// Connections served at once; more wait in the kernel's backlog.
const MAX_CONNECTIONS: usize = 4096;

/// Where accepted batches go.
#[derive(Clone)]
pub enum Backend {
    Files(Arc<Store>),
    Nats(Arc<Publisher>),
}

/// Why an agent's message was refused; its text goes back to the agent.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("{0}")]
    Read(#[source] std::io::Error),
    #[error("message cut short: {0}")]
    CutShort(#[source] std::io::Error),
    #[error(transparent)]
    Wire(#[from] netcap_wire::WireError),
    #[error("unexpected message")]
    Unexpected,
}

/// Reads a message's length prefix, checked before anything is allocated;
/// `None` at a clean end of stream.
async fn read_len<R: AsyncRead + Unpin>(reader: &mut R) -> Result<Option<usize>, MessageError> {
    let mut len = [0u8; 4];
    match reader.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(MessageError::Read(e)),
    }
    Ok(Some(netcap_wire::check_len(u32::from_be_bytes(len))?))
}

/// Reads a message body of `len` bytes into `buf`.
async fn read_body<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>, len: usize) -> Result<(), MessageError> {
    buf.clear();
    buf.resize(len, 0);
    reader.read_exact(buf).await.map(|_| ()).map_err(MessageError::CutShort)
}

/// Reads one length-prefixed message body into `buf`; `None` at a clean
/// end of stream before a new message.
async fn read_message<R: AsyncRead + Unpin>(reader: &mut R, buf: &mut Vec<u8>) -> Result<Option<()>, MessageError> {
    let Some(len) = read_len(reader).await? else { return Ok(None) };
    read_body(reader, buf, len).await.map(Some)
}

/// A batch on its way to the worker, holding its share of the connection's
/// memory budget.
struct Received {
    body: Vec<u8>,
    _budget: OwnedSemaphorePermit,
}

pub async fn serve(listener: TcpListener, acceptor: TlsAcceptor, backend: Backend, counters: Arc<Counters>) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                log(&format!("accept failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let (acceptor, backend, counters) = (acceptor.clone(), backend.clone(), counters.clone());
        tokio::spawn(async move {
            connection(stream, peer, acceptor, backend, counters).await;
            drop(permit);
        });
    }
}

async fn connection(
    stream: TcpStream,
    peer: std::net::SocketAddr,
    acceptor: TlsAcceptor,
    backend: Backend,
    counters: Arc<Counters>,
) {
    let _ = stream.set_nodelay(true);
    let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            counters.tls_rejected.fetch_add(1, Relaxed);
            log(&format!("rejected connection from {peer}: TLS: {e}"));
            return;
        }
        Err(_) => {
            counters.tls_rejected.fetch_add(1, Relaxed);
            log(&format!("rejected connection from {peer}: TLS handshake timed out"));
            return;
        }
    };
    let identity = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|certs| certs.first())
        .ok_or_else(|| "no client certificate".to_string())
        .and_then(|cert| netcap_wire::tls::certificate_identity(cert).map_err(|e| e.to_string()));
    let agent = match identity {
        Ok(agent) => agent,
        Err(e) => {
            counters.tls_rejected.fetch_add(1, Relaxed);
            log(&format!("rejected connection from {peer}: {e}"));
            return;
        }
    };
    let (mut reader, mut writer) = tokio::io::split(tls);
    let mut buf = Vec::new();
    let protocol_error = |reason: String| {
        counters.protocol_errors.fetch_add(1, Relaxed);
        log(&format!("agent {agent} ({peer}): {reason}; connection closed"));
        reason
    };
    match tokio::time::timeout(HANDSHAKE_TIMEOUT, read_message(&mut reader, &mut buf)).await {
        Ok(Ok(Some(()))) => match Message::decode(&buf) {
            Ok(Message::Hello { .. }) => {}
            Ok(_) => return refuse(&mut writer, protocol_error("expected a hello".into())).await,
            Err(e) => return refuse(&mut writer, protocol_error(e.to_string())).await,
        },
        Ok(Ok(None)) => return,
        Ok(Err(e)) => return refuse(&mut writer, protocol_error(e.to_string())).await,
        Err(_) => return refuse(&mut writer, protocol_error("no hello within 10 s".into())).await,
    }
    if writer.write_all(&netcap_wire::welcome()).await.is_err() {
        return;
    }
    counters.connections.fetch_add(1, Relaxed);
    log(&format!("agent {agent} connected from {peer}"));

    let (batch_tx, batch_rx) = mpsc::channel::<Received>(GROUP);
    let (reply_tx, mut reply_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let error_tx = reply_tx.clone();
    let worker = match &backend {
        Backend::Files(store) => {
            let (store, counters, agent) = (store.clone(), counters.clone(), agent.clone());
            tokio::task::spawn_blocking(move || file_worker(&agent, &store, batch_rx, reply_tx, &counters))
        }
        Backend::Nats(publisher) => {
            let (publisher, counters, agent) = (Arc::clone(publisher), counters.clone(), agent.clone());
            tokio::spawn(async move { nats_worker(&agent, publisher, batch_rx, reply_tx, &counters).await })
        }
    };
    let replies = tokio::spawn(async move {
        while let Some(reply) = reply_rx.recv().await {
            if writer.write_all(&reply).await.is_err() {
                break;
            }
        }
        let _ = writer.shutdown().await;
    });

    // Bytes of batches received and not yet stored, per connection: a
    // sender cannot make the collector hold more than this (plus the
    // message being read) however fast it sends.
    let budget = Arc::new(Semaphore::new(BUDGET));
    loop {
        let len = match tokio::time::timeout(IDLE_TIMEOUT, read_len(&mut reader)).await {
            Ok(Ok(Some(len))) => len,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                let _ = error_tx.send(netcap_wire::error(&protocol_error(e.to_string())));
                break;
            }
            Err(_) => {
                log(&format!("agent {agent} ({peer}): silent for {} s; connection closed", IDLE_TIMEOUT.as_secs()));
                break;
            }
        };
        // check_len bounds len far below BUDGET and u32::MAX.
        let Ok(permit) = budget.clone().acquire_many_owned(len as u32).await else { break };
        match tokio::time::timeout(IDLE_TIMEOUT, read_body(&mut reader, &mut buf, len)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = error_tx.send(netcap_wire::error(&protocol_error(e.to_string())));
                break;
            }
            Err(_) => {
                log(&format!(
                    "agent {agent} ({peer}): message stalled for {} s; connection closed",
                    IDLE_TIMEOUT.as_secs()
                ));
                break;
            }
        }
        if netcap_wire::batch_position(&buf).is_some() {
            let body = std::mem::take(&mut buf);
            if batch_tx.send(Received { body, _budget: permit }).await.is_err() {
                break; // the worker stopped (write error or rejected stream)
            }
            continue;
        }
        match Message::decode(&buf) {
            Ok(Message::Ping) => {}
            Ok(other) => {
                let _ = error_tx.send(netcap_wire::error(&protocol_error(format!("unexpected message {other:?}"))));
                break;
            }
            Err(e) => {
                let _ = error_tx.send(netcap_wire::error(&protocol_error(e.to_string())));
                break;
            }
        }
    }
    drop(batch_tx);
    drop(error_tx);
    let _ = worker.await;
    let _ = replies.await;
    log(&format!("agent {agent} ({peer}) disconnected"));
}

async fn refuse<W: AsyncWrite + Unpin>(writer: &mut W, reason: String) {
    let _ = tokio::time::timeout(Duration::from_secs(2), writer.write_all(&netcap_wire::error(&reason))).await;
    let _ = writer.shutdown().await;
}

/// What to do with one received body: store it (checked), or tell the agent
/// it was rejected.
enum Checked {
    Good(Vec<u8>),
    Rejected { session: SessionId, seq: u64, reason: String },
}

fn check(validator: &mut Validator, body: Vec<u8>) -> Result<Checked, MessageError> {
    match Message::decode(&body)? {
        Message::Batch(batch) => match validator.check(&batch) {
            Ok(()) => Ok(Checked::Good(body)),
            Err(e) => Ok(Checked::Rejected { session: batch.session, seq: batch.seq, reason: e.to_string() }),
        },
        _ => Err(MessageError::Unexpected),
    }
}

fn file_worker(
    agent: &str,
    store: &Store,
    mut batches: mpsc::Receiver<Received>,
    replies: mpsc::UnboundedSender<Vec<u8>>,
    counters: &Counters,
) {
    let fail = |reason: String| {
        log(&format!("agent {agent}: {reason}; connection closed"));
        let _ = replies.send(netcap_wire::error(&reason));
    };
    let dir = match store.agent(agent) {
        Ok(dir) => dir,
        Err(e) => return fail(e.to_string()),
    };
    let mut validator = match Validator::new() {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    let mut group = Vec::with_capacity(GROUP);
    while let Some(first) = batches.blocking_recv() {
        group.clear();
        group.push(first);
        while group.len() < GROUP {
            match batches.try_recv() {
                Ok(body) => group.push(body),
                Err(_) => break,
            }
        }
        // Check outside the lock: it is the CPU-heavy part.
        let mut checked = Vec::with_capacity(group.len());
        let mut budget = Vec::with_capacity(group.len());
        for Received { body, _budget: permit } in group.drain(..) {
            budget.push(permit);
            match check(&mut validator, body) {
                Ok(c) => checked.push(c),
                Err(e) => {
                    counters.protocol_errors.fetch_add(1, Relaxed);
                    return fail(e.to_string());
                }
            }
        }
        let mut last: Option<(SessionId, u64)> = None;
        let mut dir = dir.lock().unwrap_or_else(|e| e.into_inner());
        for c in &checked {
            match c {
                Checked::Good(body) => {
                    let Ok(Message::Batch(batch)) = Message::decode(body) else { continue };
                    let Ok(header) = batch.decode_header() else { continue };
                    match dir.write(&batch, &header) {
                        Ok(Written::Stored) => {
                            counters.batches.fetch_add(1, Relaxed);
                            counters.records.fetch_add(batch.records, Relaxed);
                        }
                        Ok(Written::Duplicate) => {
                            counters.duplicates.fetch_add(1, Relaxed);
                        }
                        Err(e) => return fail(format!("cannot store batch: {e}")),
                    }
                    last = Some((batch.session, batch.seq));
                }
                Checked::Rejected { session, seq, reason } => {
                    // Acks are cumulative: make what came before durable
                    // and acknowledged first.
                    if let Err(e) = dir.sync() {
                        return fail(format!("cannot sync: {e}"));
                    }
                    if let Some((s, q)) = last.take() {
                        let _ = replies.send(netcap_wire::ack(&s, q));
                    }
                    counters.rejected.fetch_add(1, Relaxed);
                    log(&format!("agent {agent}: batch {seq} rejected: {reason}"));
                    let _ = replies.send(netcap_wire::rejected(session, *seq, reason));
                }
            }
        }
        if let Err(e) = dir.sync() {
            return fail(format!("cannot sync: {e}"));
        }
        drop(dir);
        if let Some((s, q)) = last {
            let _ = replies.send(netcap_wire::ack(&s, q));
        }
    }
}

async fn nats_worker(
    agent: &str,
    publisher: Arc<Publisher>,
    mut batches: mpsc::Receiver<Received>,
    replies: mpsc::UnboundedSender<Vec<u8>>,
    counters: &Counters,
) {
    let fail = |reason: String| {
        log(&format!("agent {agent}: {reason}; connection closed"));
        let _ = replies.send(netcap_wire::error(&reason));
    };
    let mut validator = match Validator::new() {
        Ok(v) => v,
        Err(e) => return fail(e.to_string()),
    };
    let mut group = Vec::with_capacity(GROUP);
    while let Some(first) = batches.recv().await {
        group.clear();
        group.push(first);
        while group.len() < GROUP {
            match batches.try_recv() {
                Ok(body) => group.push(body),
                Err(_) => break,
            }
        }
        let mut pending = Vec::new();
        let mut last = None;
        let mut budget = Vec::with_capacity(group.len());
        for Received { body, _budget: permit } in group.drain(..) {
            budget.push(permit);
            match check(&mut validator, body) {
                Ok(Checked::Good(body)) => {
                    let Ok(Message::Batch(batch)) = Message::decode(&body) else { continue };
                    let (session, seq, records, record_type) =
                        (batch.session, batch.seq, batch.records, batch.record_type);
                    match publisher.publish(agent, record_type, &session, seq, Bytes::from(body)).await {
                        Ok(ack) => pending.push((ack, records)),
                        Err(e) => return fail(format!("NATS publish failed: {e}")),
                    }
                    last = Some((session, seq));
                }
                Ok(Checked::Rejected { session, seq, reason }) => {
                    for (ack, records) in pending.drain(..) {
                        if let Err(e) = Publisher::confirm(ack, records, counters).await {
                            return fail(e.to_string());
                        }
                    }
                    if let Some((s, q)) = last.take() {
                        let _ = replies.send(netcap_wire::ack(&s, q));
                    }
                    counters.rejected.fetch_add(1, Relaxed);
                    log(&format!("agent {agent}: batch {seq} rejected: {reason}"));
                    let _ = replies.send(netcap_wire::rejected(&session, seq, &reason));
                }
                Err(e) => {
                    counters.protocol_errors.fetch_add(1, Relaxed);
                    return fail(e.to_string());
                }
            }
        }
        for (ack, records) in pending.drain(..) {
            if let Err(e) = Publisher::confirm(ack, records, counters).await {
                return fail(e.to_string());
            }
        }
        if let Some((s, q)) = last {
            let _ = replies.send(netcap_wire::ack(&s, q));
        }
    }
}
