//! NATS JetStream: publishing agents' batches (`collect -nats`), and
//! consuming them as one of several collectors (`collect -from-nats`).
//!
//! The collectors share the durable pull consumer `netcap-collectors`: each
//! message goes to one of them, and comes again (possibly to another) if it
//! is not acknowledged within [`DEFAULT_ACK_WAIT`]. Files must hold every batch
//! once, although collectors write to separate disks and may die at any
//! moment, so every batch is *claimed* before it is stored: a key
//! `<agent>/<session>/<seq>` created in the JetStream key-value bucket
//! `NETCAP_CLAIMS` with the collector's id as value. Creating a key is atomic
//! in JetStream, so exactly one collector wins; only the winner stores the
//! batch, and every collector acknowledges the message. Per fetched group:
//!
//! 1. valid batches go to the write-ahead log (`<out>/.nats-wal`), synced;
//! 2. each is claimed;
//! 3. the won ones are appended to their files, synced;
//! 4. the log is emptied, then files that are due are rotated;
//! 5. the messages are acknowledged.
//!
//! A collector killed anywhere in between, when it starts again, recovers
//! its live files and replays its log: a batch it holds a claim on goes to
//! the files unless a recovered file already has it. So a batch claimed by a
//! collector is always either in its files or in its log, and a collector
//! that sees another's claim can drop the message safely.

use crate::store::Store;
use crate::{Counters, log};
use async_nats::jetstream::{self, consumer, kv, stream};
use bytes::Bytes;
use futures_util::StreamExt;
use netcap_records::RecordType;
use netcap_wire::validate::Validator;
use netcap_wire::{BatchRef, Message, SessionId};
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// Durable consumer shared by the collectors that write files.
pub const CONSUMER: &str = "netcap-collectors";
/// Key-value bucket of batch claims.
pub const CLAIMS: &str = "NETCAP_CLAIMS";
/// A collector that does not acknowledge a message within this time is
/// considered gone, and the message goes to another collector (set when the
/// group's consumer is created).
pub const DEFAULT_ACK_WAIT: Duration = Duration::from_secs(30);
/// How long claims are kept. A claim must outlive every redelivery of its
/// message (seconds: the acknowledgement follows the claim at once, and a
/// lost one brings the message back after the ack wait) and the downtime of
/// a collector that died with the batch in its log: replayed after the claim
/// expired, the batch is claimed anew, which may store it twice if another
/// collector had won it. An hour of claims is about 100 bytes per batch.
const CLAIM_TTL: Duration = Duration::from_secs(3600);
/// Messages fetched at once (one log sync, one file sync per group).
const FETCH: usize = 256;
const WAL_FILE: &str = ".nats-wal";
const ID_FILE: &str = ".collector-id";

/// A source error of async-nats (each call has its own error type) or of
/// the store.
type Source = Box<dyn std::error::Error + Send + Sync>;

/// Why the collector's NATS side failed.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    /// Connecting, the stream, publishing.
    #[error(transparent)]
    Wire(#[from] netcap_wire::nats::NatsError),
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("random collector id: {0}")]
    Random(getrandom::Error),
    #[error("claim {key} vanished")]
    ClaimVanished { key: String },
    #[error("{action} claim {key}: {source}")]
    Claim {
        action: &'static str,
        key: String,
        #[source]
        source: Source,
    },
    #[error("NATS bucket {CLAIMS}: {0}")]
    Bucket(#[source] Source),
    #[error("NATS consumer {CONSUMER}: {0}")]
    Consumer(#[source] Source),
    /// Appending, syncing or rotating record files.
    #[error("{0}")]
    Store(#[source] Source),
}

/// Publishes batches for the TLS collector (`collect -nats`); cheap to clone.
#[derive(Clone)]
pub struct Publisher {
    js: jetstream::Context,
}

impl Publisher {
    pub async fn connect(url: &str) -> Result<Self, NatsError> {
        Ok(Publisher { js: netcap_wire::nats::connect(url).await?.0 })
    }

    /// Sends one batch body; the returned future resolves once JetStream
    /// has stored it.
    pub async fn publish(
        &self,
        agent: &str,
        record_type: RecordType,
        session: &SessionId,
        seq: u64,
        body: Bytes,
    ) -> Result<jetstream::context::PublishAckFuture, NatsError> {
        Ok(netcap_wire::nats::publish(&self.js, agent, record_type, session, seq, body).await?)
    }

    /// Waits for JetStream's acknowledgement of a publish.
    pub async fn confirm(
        ack: jetstream::context::PublishAckFuture,
        records: u64,
        counters: &Counters,
    ) -> Result<(), NatsError> {
        let ack = ack.await.map_err(netcap_wire::nats::NatsError::NotStored)?;
        if ack.duplicate {
            counters.duplicates.fetch_add(1, Relaxed);
        } else {
            counters.batches.fetch_add(1, Relaxed);
            counters.records.fetch_add(records, Relaxed);
        }
        Ok(())
    }
}

/// This collector's id in claims: random, made once per output directory.
fn collector_id(root: &Path) -> Result<Bytes, NatsError> {
    let path = root.join(ID_FILE);
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(Bytes::from(id.trim().to_string())),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => return Err(NatsError::File { path, source }),
    }
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(NatsError::Random)?;
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host: String = host.trim().chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').take(32).collect();
    let id = format!("{host}-{}", netcap_wire::session_hex(&random));
    let tmp = root.join(".collector-id.tmp");
    std::fs::write(&tmp, &id)
        .and_then(|_| File::open(&tmp)?.sync_all())
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(|source| NatsError::File { path: path.clone(), source })?;
    Ok(Bytes::from(id))
}

/// The write-ahead log: batches fetched but not yet in their files.
struct Wal {
    path: PathBuf,
    file: File,
    buf: Vec<u8>,
}

impl Wal {
    fn open(root: &Path) -> Result<Self, NatsError> {
        let path = root.join(WAL_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|source| NatsError::File { path: path.clone(), source })?;
        Ok(Wal { path, file, buf: Vec::new() })
    }

    fn error(&self, source: std::io::Error) -> NatsError {
        NatsError::File { path: self.path.clone(), source }
    }

    /// Entries left by an earlier run: (agent, batch body). A torn last
    /// entry (killed while writing) is ignored: its batch was never claimed.
    fn entries(&mut self) -> Result<Vec<(String, Vec<u8>)>, NatsError> {
        let mut data = Vec::new();
        File::open(&self.path).and_then(|mut f| f.read_to_end(&mut data)).map_err(|e| self.error(e))?;
        let mut entries = Vec::new();
        let mut rest = data.as_slice();
        let take = |rest: &mut &[u8]| -> Option<Vec<u8>> {
            let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
            let item = rest.get(4..4 + len)?.to_vec();
            *rest = &rest[4 + len..];
            Some(item)
        };
        while !rest.is_empty() {
            let (Some(agent), Some(body)) = (take(&mut rest), take(&mut rest)) else { break };
            let Ok(agent) = String::from_utf8(agent) else { break };
            entries.push((agent, body));
        }
        Ok(entries)
    }

    /// Appends a group of batches and puts them on stable storage.
    fn write(&mut self, batches: &[Fetched]) -> Result<(), NatsError> {
        self.buf.clear();
        for b in batches {
            self.buf.extend_from_slice(&(b.agent.len() as u32).to_be_bytes());
            self.buf.extend_from_slice(b.agent.as_bytes());
            self.buf.extend_from_slice(&(b.body.len() as u32).to_be_bytes());
            self.buf.extend_from_slice(&b.body);
        }
        self.file.write_all(&self.buf).and_then(|_| self.file.sync_data()).map_err(|e| self.error(e))
    }

    fn clear(&mut self) -> Result<(), NatsError> {
        self.file.set_len(0).and_then(|_| self.file.sync_data()).map_err(|e| self.error(e))
    }
}

/// A valid batch taken from a message.
struct Fetched {
    agent: String,
    body: Bytes,
}

impl Fetched {
    fn batch(&self) -> Option<BatchRef<'_>> {
        match Message::decode(&self.body) {
            Ok(Message::Batch(batch)) => Some(batch),
            _ => None,
        }
    }
}

/// Outcome of claiming a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Claim {
    /// This collector created the claim now: it stores the batch.
    Won,
    /// This collector claimed it before: the batch is in its files, or in
    /// its log.
    Mine,
    /// Another collector claimed it.
    Theirs,
}

async fn claim(claims: &kv::Store, me: &Bytes, key: &str) -> Result<Claim, NatsError> {
    match claims.create(key, me.clone()).await {
        Ok(_) => Ok(Claim::Won),
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => match claims.get(key).await {
            Ok(Some(owner)) if owner == *me => Ok(Claim::Mine),
            Ok(Some(_)) => Ok(Claim::Theirs),
            // Expired or purged between the two calls: try again.
            Ok(None) => Err(NatsError::ClaimVanished { key: key.to_owned() }),
            Err(e) => Err(NatsError::Claim { action: "reading", key: key.to_owned(), source: Box::new(e) }),
        },
        Err(e) => Err(NatsError::Claim { action: "creating", key: key.to_owned(), source: Box::new(e) }),
    }
}

/// This collector as a member of the group: its claims and its log.
struct Member {
    claims: kv::Store,
    me: Bytes,
    wal: Wal,
}

impl Member {
    fn new(claims: kv::Store, store: &Store) -> Result<Self, NatsError> {
        Ok(Member { claims, me: collector_id(store.root())?, wal: Wal::open(store.root())? })
    }

    /// Stores what an earlier run logged and may not have stored; false if
    /// `stop` came first.
    async fn replay(&mut self, store: &Store, counters: &Counters, stop: &AtomicBool) -> Result<bool, NatsError> {
        let left: Vec<Fetched> = self
            .wal
            .entries()?
            .into_iter()
            .filter(|(agent, _)| netcap_wire::valid_agent_name(agent))
            .map(|(agent, body)| Fetched { agent, body: body.into() })
            .filter(|f| f.batch().is_some())
            .collect();
        if !left.is_empty() {
            log(&format!("replaying {} batches from the write-ahead log", left.len()));
            let Some(results) = claim_all(&self.claims, &self.me, &left, stop).await else { return Ok(false) };
            tokio::task::block_in_place(|| store_claimed(store, &left, &results, true, counters))?;
        }
        store.forget_recovered();
        self.wal.clear()?;
        Ok(true)
    }

    /// Steps 1 to 4 for a fetched group of valid batches; false if `stop`
    /// came while claiming (the log keeps the group).
    async fn take(
        &mut self,
        batches: &[Fetched],
        store: &Store,
        counters: &Counters,
        stop: &AtomicBool,
    ) -> Result<bool, NatsError> {
        if batches.is_empty() {
            return Ok(true);
        }
        tokio::task::block_in_place(|| self.wal.write(batches))?;
        let Some(results) = claim_all(&self.claims, &self.me, batches, stop).await else { return Ok(false) };
        tokio::task::block_in_place(|| -> Result<(), NatsError> {
            store_claimed(store, batches, &results, false, counters)?;
            self.wal.clear()?;
            store.rotate_full().map_err(|e| NatsError::Store(Box::new(e)))
        })?;
        Ok(true)
    }
}

/// Claims every batch of a group, retrying failures until they all have an
/// answer; `None` if `stop` is set first (the log keeps them).
async fn claim_all(claims: &kv::Store, me: &Bytes, batches: &[Fetched], stop: &AtomicBool) -> Option<Vec<Claim>> {
    let keys: Vec<String> = batches
        .iter()
        .map(|b| match b.batch() {
            Some(batch) => netcap_wire::nats::msg_id(&b.agent, &batch.session, batch.seq),
            None => String::new(),
        })
        .collect();
    let mut results: Vec<Option<Claim>> = vec![None; batches.len()];
    let mut backoff = Duration::from_millis(100);
    loop {
        let pending: Vec<usize> = (0..keys.len()).filter(|&i| results[i].is_none()).collect();
        let answers = futures_util::stream::iter(pending.iter().map(|&i| claim(claims, me, &keys[i])))
            .buffered(64)
            .collect::<Vec<_>>()
            .await;
        let mut failed = None;
        for (&i, answer) in pending.iter().zip(answers) {
            match answer {
                Ok(c) => results[i] = Some(c),
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            None => return Some(results.into_iter().map(|c| c.unwrap_or(Claim::Theirs)).collect()),
            Some(e) => log(&format!("{e}; retrying")),
        }
        if stop.load(Relaxed) {
            return None;
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Appends the batches whose claim says so, then syncs the touched
/// directories. `replay`: batches from the log of an earlier run, for which
/// an own claim means "store unless recovery found it in a file".
fn store_claimed(
    store: &Store,
    batches: &[Fetched],
    claims: &[Claim],
    replay: bool,
    counters: &Counters,
) -> Result<(), NatsError> {
    let mut touched: Vec<Arc<std::sync::Mutex<crate::store::AgentDir>>> = Vec::new();
    for (fetched, claim) in batches.iter().zip(claims) {
        let Some(batch) = fetched.batch() else { continue };
        let dir = store.agent(&fetched.agent).map_err(|e| NatsError::Store(Box::new(e)))?;
        let mut guard = dir.lock().unwrap_or_else(|e| e.into_inner());
        let store_it = match claim {
            Claim::Won => true,
            Claim::Mine => replay && !guard.was_recovered(&batch.session, batch.seq),
            Claim::Theirs => false,
        };
        if !store_it {
            counters.duplicates.fetch_add(1, Relaxed);
            continue;
        }
        let header = batch.decode_header().map_err(|e| NatsError::Store(Box::new(e)))?;
        guard.append(&batch, &header).map_err(|e| NatsError::Store(Box::new(e)))?;
        counters.batches.fetch_add(1, Relaxed);
        counters.records.fetch_add(batch.records, Relaxed);
        drop(guard);
        if !touched.iter().any(|d| Arc::ptr_eq(d, &dir)) {
            touched.push(dir);
        }
    }
    for dir in touched {
        dir.lock().unwrap_or_else(|e| e.into_inner()).sync().map_err(|e| NatsError::Store(Box::new(e)))?;
    }
    Ok(())
}

/// Checks a fetched message: a batch of a valid agent, on the subject its
/// id names, whose records decode. Invalid messages are counted and logged.
fn check_message(message: &jetstream::Message, validator: &mut Validator, counters: &Counters) -> Option<Fetched> {
    let subject = message.subject.as_str();
    let id = message
        .headers
        .as_ref()
        .and_then(|h| h.get(async_nats::header::NATS_MESSAGE_ID))
        .map(|v| v.as_str().to_string())
        .unwrap_or_default();
    let Some((agent, session, seq)) = netcap_wire::nats::parse_msg_id(&id) else {
        counters.protocol_errors.fetch_add(1, Relaxed);
        log(&format!("NATS message on {subject} dropped: no netcap message id ({id:?})"));
        return None;
    };
    let batch = match Message::decode(&message.payload) {
        Ok(Message::Batch(batch)) => batch,
        Ok(_) | Err(_) => {
            counters.protocol_errors.fetch_add(1, Relaxed);
            log(&format!("NATS message {id} on {subject} dropped: not a netcap batch"));
            return None;
        }
    };
    if (batch.session, batch.seq) != (session, seq) || subject != netcap_wire::nats::subject(agent, batch.record_type) {
        counters.rejected.fetch_add(1, Relaxed);
        log(&format!("NATS message {id} on {subject} dropped: its batch is not what subject and id say"));
        return None;
    }
    if let Err(e) = validator.check(&batch) {
        counters.rejected.fetch_add(1, Relaxed);
        log(&format!("NATS batch {id} rejected: {e}"));
        return None;
    }
    Some(Fetched { agent: agent.to_string(), body: message.payload.clone() })
}

/// The bucket of claims, created if missing. async-nats's `create_key_value`
/// first reads the account's JetStream information, which it cannot parse
/// from Debian 12's nats-server 2.9; so the bucket's stream is created here
/// with the settings `create_key_value` would use.
async fn claims_bucket(js: &jetstream::Context) -> Result<kv::Store, NatsError> {
    let config = stream::Config {
        name: format!("KV_{CLAIMS}"),
        description: Some("netcap: which collector stores each batch".into()),
        subjects: vec![format!("$KV.{CLAIMS}.>")],
        max_messages_per_subject: 1,
        max_age: CLAIM_TTL,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: stream::DiscardPolicy::New,
        num_replicas: 1,
        ..Default::default()
    };
    js.get_or_create_stream(config).await.map_err(|e| NatsError::Bucket(Box::new(e)))?;
    js.get_key_value(CLAIMS).await.map_err(|e| NatsError::Bucket(Box::new(e)))
}

/// Runs as one collector of the consumer group until `stop` is set.
pub async fn consume(
    url: &str,
    ack_wait: Duration,
    store: Arc<Store>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) -> Result<(), NatsError> {
    let (js, stream) = netcap_wire::nats::connect(url).await?;
    let claims = claims_bucket(&js).await?;
    let mut group = Member::new(claims, &store)?;
    if !group.replay(&store, &counters, &stop).await? {
        return Ok(());
    }

    let consumer: consumer::Consumer<consumer::pull::Config> = stream
        .get_or_create_consumer(
            CONSUMER,
            consumer::pull::Config {
                durable_name: Some(CONSUMER.into()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait,
                max_ack_pending: 16 * FETCH as i64,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| NatsError::Consumer(Box::new(e)))?;
    log(&format!("consuming stream {} as one of consumer group {CONSUMER} at {url}", netcap_wire::nats::STREAM));
    let mut validator = Validator::new().map_err(|e| NatsError::Store(Box::new(e)))?;
    while !stop.load(Relaxed) {
        if let Err(e) = tokio::task::block_in_place(|| store.rotate_due()) {
            log(&format!("rotation failed: {e}"));
        }
        let mut fetched =
            match consumer.fetch().max_messages(FETCH).expires(Duration::from_millis(500)).messages().await {
                Ok(fetched) => fetched,
                Err(e) => {
                    log(&format!("NATS fetch failed: {e}"));
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
        let mut messages = Vec::new();
        while let Some(message) = fetched.next().await {
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
        let batches: Vec<Fetched> =
            messages.iter().filter_map(|m| check_message(m, &mut validator, &counters)).collect();
        if !group.take(&batches, &store, &counters, &stop).await? {
            return Ok(());
        }
        for message in &messages {
            if let Err(e) = message.ack().await {
                log(&format!("NATS ack failed (the batch comes again and is dropped as a duplicate): {e}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Rotation;
    use netcap_records::{FrameCompressor, Header, RecordReader, Tcp};
    use prost::Message as _;
    use std::process::{Child, Command, Stdio};

    /// nats-server with JetStream on a free loopback port, killed on drop.
    struct Server(Child, String);

    impl Server {
        fn start(dir: &Path) -> Server {
            // CI installs nats-server (scripts/deps): missing is a failure.
            let path = std::env::var_os("PATH").unwrap_or_default();
            let binary = std::env::split_paths(&path)
                .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
                .map(|dir| dir.join("nats-server"))
                .find(|p| p.is_file())
                .expect("nats-server is not installed: run scripts/deps");
            let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
            let child = Command::new(binary)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let until = std::time::Instant::now() + Duration::from_secs(10);
            while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(std::time::Instant::now() < until, "nats-server did not start");
                std::thread::sleep(Duration::from_millis(20));
            }
            Server(child, format!("nats://127.0.0.1:{port}"))
        }
    }

    impl Drop for Server {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    fn batch(seq: u64) -> Fetched {
        let mut records = Vec::new();
        for i in 0..3 {
            Tcp { frame: seq * 10 + i, ..Default::default() }.encode_length_delimited(&mut records).unwrap();
        }
        let frame = FrameCompressor::new(1).unwrap().compress(&records).unwrap();
        let header = Header { record_type: RecordType::Tcp as i32, ..Default::default() }.encode_to_vec();
        let body = netcap_wire::batch_body(&[7; 16], seq, RecordType::Tcp, 3, &header, &frame);
        Fetched { agent: "s1".into(), body: body.into() }
    }

    fn frames(dir: &Path) -> Vec<u64> {
        let mut files: Vec<_> =
            std::fs::read_dir(dir).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
        files.retain(|p: &PathBuf| p.to_string_lossy().ends_with(".ncap.zst"));
        files.sort();
        let mut out = Vec::new();
        for file in files {
            let mut reader = RecordReader::open(&file).unwrap();
            while let Some(tcp) = reader.next::<Tcp>().unwrap() {
                out.push(tcp.frame);
            }
        }
        out
    }

    /// Collector A logs five batches, claims four and dies having stored two
    /// of them; B, given batches 1 to 4 again, leaves 1 to 3 to A and wins 4;
    /// A's replay stores 2 and 3 and leaves 4 to B; a redelivery to A is a
    /// duplicate.
    #[test]
    fn claims_and_the_log_store_each_batch_once_across_a_crash() {
        let tmp = tempfile::tempdir().unwrap();
        let server = Server::start(&tmp.path().join("js"));
        let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        let (a_dir, b_dir) = (tmp.path().join("a"), tmp.path().join("b"));
        let stop = AtomicBool::new(false);
        let counters = Counters::default();
        let batches: Vec<Fetched> = (0..5).map(batch).collect();
        rt.block_on(async {
            let (js, _) = netcap_wire::nats::connect(&server.1).await.unwrap();
            let claims = claims_bucket(&js).await.unwrap();
            {
                let store = Store::open(&a_dir, Rotation::default()).unwrap();
                let mut a = Member::new(claims.clone(), &store).unwrap();
                assert!(a.replay(&store, &counters, &stop).await.unwrap());
                a.wal.write(&batches).unwrap();
                let won = claim_all(&a.claims, &a.me, &batches[..4], &stop).await.unwrap();
                assert_eq!(won, vec![Claim::Won; 4]);
                tokio::task::block_in_place(|| {
                    store_claimed(&store, &batches[..2], &won[..2], false, &counters).unwrap()
                });
                // Killed here: no clear, no close.
            }
            {
                let store = Store::open(&b_dir, Rotation::default()).unwrap();
                let mut b = Member::new(claims.clone(), &store).unwrap();
                assert!(b.take(&batches[1..], &store, &counters, &stop).await.unwrap());
                store.close().unwrap();
            }
            assert_eq!(frames(&b_dir.join("s1")), vec![40, 41, 42]);
            let store = Store::open(&a_dir, Rotation::default()).unwrap();
            let mut a = Member::new(claims, &store).unwrap();
            assert!(a.replay(&store, &counters, &stop).await.unwrap());
            assert!(a.take(&batches[3..], &store, &counters, &stop).await.unwrap());
            store.close().unwrap();
        });
        let want: Vec<u64> = (0..4).flat_map(|seq| (0..3).map(move |i| seq * 10 + i)).collect();
        assert_eq!(frames(&a_dir.join("s1")), want);
        assert!(Store::open(&a_dir, Rotation::default()).is_ok());
    }
}
