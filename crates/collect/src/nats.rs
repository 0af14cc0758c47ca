//! NATS JetStream: publishing batches (`collect -nats`, `agent -nats`) and
//! consuming them as one of several collectors (`collect -from-nats`).
//!
//! Stream `NETCAP` holds subjects `netcap.>`; a batch is published to
//! `netcap.<agent>.<Type>` with its wire-format body as payload and
//! `Nats-Msg-Id: <agent>/<session>/<seq>`, so JetStream drops a republished
//! batch within the duplicate window. Collectors share the durable pull
//! consumer `netcap-collectors` (a consumer group: each message goes to one
//! of them) and acknowledge a message only after its batch is on stable
//! storage.

use crate::store::{Store, Written};
use crate::validate::Validator;
use crate::{Counters, log};
use async_nats::jetstream::{self, consumer, context::Publish, stream};
use futures_util::StreamExt;
use netcap_records::RecordType;
use netcap_wire::{Message, SessionId};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// Name of the JetStream stream.
pub const STREAM: &str = "NETCAP";
/// Durable consumer shared by the collectors that write files.
pub const CONSUMER: &str = "netcap-collectors";
/// How long JetStream remembers message ids to drop duplicates.
const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);
/// A collector that neither acks nor extends a message within this time
/// is considered gone, and the message goes to another collector.
const ACK_WAIT: Duration = Duration::from_secs(30);

/// Connects and makes sure the stream exists.
pub async fn connect(url: &str) -> Result<(jetstream::Context, stream::Stream), String> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|e| format!("NATS {url}: {e}"))?;
    let js = jetstream::new(client);
    let stream = js
        .get_or_create_stream(stream::Config {
            name: STREAM.into(),
            subjects: vec!["netcap.>".into()],
            duplicate_window: DUPLICATE_WINDOW,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("NATS {url}: stream {STREAM}: {e}"))?;
    Ok((js, stream))
}

/// Publishes batches; cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    js: jetstream::Context,
}

impl Publisher {
    pub async fn connect(url: &str) -> Result<Self, String> {
        Ok(Publisher { js: connect(url).await?.0 })
    }

    /// Sends one batch body; the returned future resolves once JetStream
    /// has stored it.
    pub async fn publish(
        &self,
        agent: &str,
        record_type: RecordType,
        session: &SessionId,
        seq: u64,
        body: Vec<u8>,
    ) -> Result<jetstream::context::PublishAckFuture, String> {
        let message = Publish::build().payload(body.into()).message_id(netcap_wire::nats_msg_id(agent, session, seq));
        self.js.send_publish(netcap_wire::nats_subject(agent, record_type), message).await.map_err(|e| e.to_string())
    }

    /// Waits for JetStream's acknowledgement of a publish.
    pub async fn confirm(
        ack: jetstream::context::PublishAckFuture,
        records: u64,
        counters: &Counters,
    ) -> Result<(), String> {
        let ack = ack.await.map_err(|e| format!("NATS did not store a batch: {e}"))?;
        if ack.duplicate {
            counters.duplicates.fetch_add(1, Relaxed);
        } else {
            counters.batches.fetch_add(1, Relaxed);
            counters.records.fetch_add(records, Relaxed);
        }
        Ok(())
    }
}

/// Runs as one collector of the consumer group until `stop` is set:
/// fetches batches, checks them, writes them to `store`, syncs, acks.
pub async fn consume(url: &str, store: Arc<Store>, counters: Arc<Counters>, stop: Arc<AtomicBool>) -> Result<(), String> {
    let (_, stream) = connect(url).await?;
    let consumer: consumer::Consumer<consumer::pull::Config> = stream
        .get_or_create_consumer(
            CONSUMER,
            consumer::pull::Config {
                durable_name: Some(CONSUMER.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                max_ack_pending: 4096,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| format!("NATS consumer {CONSUMER}: {e}"))?;
    log(&format!("consuming {STREAM} as part of consumer group {CONSUMER} at {url}"));
    let mut validator = Validator::new().map_err(|e| e.to_string())?;
    while !stop.load(Relaxed) {
        let mut batch = match consumer.fetch().max_messages(256).expires(Duration::from_millis(500)).messages().await {
            Ok(batch) => batch,
            Err(e) => {
                log(&format!("NATS fetch failed: {e}"));
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut messages = Vec::new();
        while let Some(message) = batch.next().await {
            match message {
                Ok(m) => messages.push(m),
                Err(e) => {
                    log(&format!("NATS fetch failed: {e}"));
                    break;
                }
            }
        }
        if messages.is_empty() {
            continue;
        }
        let store = store.clone();
        let counters_w = counters.clone();
        let (messages, result) = tokio::task::block_in_place(|| {
            let result = write_messages(&messages, &store, &mut validator, &counters_w);
            (messages, result)
        });
        if let Err(e) = result {
            // Not acked: JetStream redelivers them after ACK_WAIT.
            log(&format!("cannot store batches from NATS: {e}"));
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        }
        for message in &messages {
            if let Err(e) = message.ack().await {
                log(&format!("NATS ack failed (the batch will be redelivered and dropped as a duplicate): {e}"));
            }
        }
    }
    Ok(())
}

/// Writes and syncs a fetched group; invalid messages are counted, logged
/// and acknowledged (dropped), since redelivering them cannot help.
fn write_messages(
    messages: &[jetstream::Message],
    store: &Store,
    validator: &mut Validator,
    counters: &Counters,
) -> Result<(), String> {
    let mut touched = Vec::new();
    for message in messages {
        let subject = message.subject.as_str();
        let mut tokens = subject.split('.');
        let agent = match (tokens.next(), tokens.next(), tokens.next(), tokens.next()) {
            (Some("netcap"), Some(agent), Some(_), None) if netcap_wire::valid_agent_name(agent) => agent,
            _ => {
                counters.protocol_errors.fetch_add(1, Relaxed);
                log(&format!("NATS message on subject {subject:?} dropped: not netcap.<agent>.<Type>"));
                continue;
            }
        };
        let batch = match Message::decode(&message.payload) {
            Ok(Message::Batch(batch)) => batch,
            Ok(_) | Err(_) => {
                counters.protocol_errors.fetch_add(1, Relaxed);
                log(&format!("NATS message on {subject} dropped: not a netcap batch"));
                continue;
            }
        };
        if subject.rsplit('.').next() != Some(batch.record_type.name()) {
            counters.rejected.fetch_add(1, Relaxed);
            log(&format!("NATS message on {subject} dropped: it holds {} records", batch.record_type.name()));
            continue;
        }
        if let Err(e) = validator.check(&batch) {
            counters.rejected.fetch_add(1, Relaxed);
            log(&format!("NATS batch {} of {agent} rejected: {e}", batch.seq));
            continue;
        }
        let Ok(header) = batch.decode_header() else { continue };
        let dir = store.agent(agent).map_err(|e| e.to_string())?;
        let mut guard = dir.lock().unwrap_or_else(|e| e.into_inner());
        match guard.write(&batch, &header).map_err(|e| e.to_string())? {
            Written::Stored => {
                counters.batches.fetch_add(1, Relaxed);
                counters.records.fetch_add(batch.records, Relaxed);
            }
            Written::Duplicate => {
                counters.duplicates.fetch_add(1, Relaxed);
            }
        }
        drop(guard);
        if !touched.iter().any(|d: &Arc<std::sync::Mutex<crate::store::AgentDir>>| Arc::ptr_eq(d, &dir)) {
            touched.push(dir);
        }
    }
    for dir in touched {
        dir.lock().unwrap_or_else(|e| e.into_inner()).sync().map_err(|e| e.to_string())?;
    }
    Ok(())
}
