//! NATS JetStream layout shared by agents and collectors: one stream,
//! `NETCAP`, holding subjects `netcap.<agent>.<Type>`; each message is one
//! batch body (the wire format's batch message, without length prefix) with
//! `Nats-Msg-Id: <agent>/<session>/<seq>`, so JetStream drops a batch
//! published twice within the duplicate window, and a collector of the group
//! learns the agent's name from it.

use crate::{SessionId, session_hex};
use async_nats::jetstream::{self, stream};
use std::time::Duration;

/// Name of the JetStream stream.
pub const STREAM: &str = "NETCAP";
/// Subjects of the stream.
pub const SUBJECTS: &str = "netcap.>";
/// How long JetStream remembers message ids to drop republished batches: an
/// agent or front collector resends what was not acknowledged after a
/// reconnect, which takes seconds, not minutes.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(600);

/// The stream's configuration when netcap creates it. Work-queue retention:
/// a batch is deleted once a collector of the group has stored it, so the
/// stream holds only what is in transit. Operators who want other consumers
/// too create the stream themselves beforehand (any retention, same name and
/// subjects); netcap then uses it as it is.
pub fn stream_config() -> stream::Config {
    stream::Config {
        name: STREAM.into(),
        subjects: vec![SUBJECTS.into()],
        duplicate_window: DUPLICATE_WINDOW,
        retention: stream::RetentionPolicy::WorkQueue,
        storage: stream::StorageType::File,
        ..Default::default()
    }
}

/// Why talking to NATS JetStream failed.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error("NATS {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error("NATS {url}: stream {STREAM}: {source}")]
    Stream {
        url: String,
        #[source]
        source: jetstream::context::CreateStreamError,
    },
    #[error("NATS publish: {0}")]
    Publish(#[source] jetstream::context::PublishError),
    /// JetStream's acknowledgement of a publish says it failed.
    #[error("NATS did not store a batch: {0}")]
    NotStored(#[source] jetstream::context::PublishError),
}

/// Connects to `url` and makes sure the stream exists.
pub async fn connect(url: &str) -> Result<(jetstream::Context, stream::Stream), NatsError> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(5))
        .connect(url)
        .await
        .map_err(|source| NatsError::Connect { url: url.to_owned(), source })?;
    let js = jetstream::new(client);
    let stream = js
        .get_or_create_stream(stream_config())
        .await
        .map_err(|source| NatsError::Stream { url: url.to_owned(), source })?;
    Ok((js, stream))
}

/// NATS subject of a batch: `netcap.<agent>.<Type>`. A `.` in an agent name
/// would add a subject token, so it becomes `_` here; the exact name travels
/// in the message id.
pub fn subject(agent: &str, record_type: netcap_records::RecordType) -> String {
    format!("netcap.{}.{}", agent.replace('.', "_"), record_type.name())
}

/// NATS message id of a batch: `<agent>/<session hex>/<seq>`.
pub fn msg_id(agent: &str, session: &SessionId, seq: u64) -> String {
    format!("{agent}/{}/{seq}", session_hex(session))
}

/// Agent, session and sequence number of a message id made by [`msg_id`].
pub fn parse_msg_id(id: &str) -> Option<(&str, SessionId, u64)> {
    let mut parts = id.rsplitn(3, '/');
    let seq = parts.next()?.parse().ok()?;
    let session = crate::parse_session_hex(parts.next()?)?;
    let agent = parts.next()?;
    crate::valid_agent_name(agent).then_some((agent, session, seq))
}

/// Publishes one batch body; the returned future resolves once JetStream
/// has stored it (or recognised it as a duplicate).
pub async fn publish(
    js: &jetstream::Context,
    agent: &str,
    record_type: netcap_records::RecordType,
    session: &SessionId,
    seq: u64,
    body: bytes::Bytes,
) -> Result<jetstream::context::PublishAckFuture, NatsError> {
    let message = jetstream::message::PublishMessage::build().payload(body).message_id(msg_id(agent, session, seq));
    js.send_publish(subject(agent, record_type), message).await.map_err(NatsError::Publish)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::RecordType;

    #[test]
    fn subjects_and_ids() {
        assert_eq!(subject("s.1", RecordType::Ipv4), "netcap.s_1.IPv4");
        let id = msg_id("s.1", &[0xab; 16], 5);
        assert_eq!(id, format!("s.1/{}/5", "ab".repeat(16)));
        assert_eq!(parse_msg_id(&id), Some(("s.1", [0xab; 16], 5)));
        for bad in ["", "x", "a/b/c", "../00000000000000000000000000000000/1", "a/00/1"] {
            assert_eq!(parse_msg_id(bad), None, "{bad}");
        }
    }
}
