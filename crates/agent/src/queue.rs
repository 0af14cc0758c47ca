//! The agent's outbox: batches not yet acknowledged, oldest first, in
//! memory up to a bound and then in a bounded on-disk spool.
//!
//! Order is kept across both tiers (a new batch goes to the spool while the
//! spool holds anything), because the collector recognises resent batches by
//! sequence number and must see each session's batches in order.

use bytes::Bytes;
use netcap_wire::{MAX_MESSAGE_LEN, SessionId, batch_position};
use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Spool segments are cut at this size.
const SEGMENT_BYTES: u64 = 16 << 20;
/// First segment number; earlier numbers are for batches put back in front.
const FIRST_SEGMENT: u64 = 1 << 32;

#[derive(Clone)]
pub struct Item {
    pub body: Bytes,
    pub records: u64,
}

/// Counters shown in the agent's summary.
#[derive(Debug, Default, Clone)]
pub struct QueueStats {
    pub queued_batches: u64,
    pub acked_batches: u64,
    pub acked_records: u64,
    pub rejected_batches: u64,
    pub dropped_batches: u64,
    pub dropped_records: u64,
    pub spooled_batches: u64,
}

struct Spool {
    dir: PathBuf,
    max: u64,
    /// Segment numbers on disk, oldest first, with their unread sizes.
    segments: VecDeque<(u64, u64)>,
    bytes: u64,
    /// Read position in the oldest segment.
    read_offset: u64,
    writer: Option<(u64, File)>,
}

impl Spool {
    fn open(dir: &Path, max: u64) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut segments = Vec::new();
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(n) =
                name.strip_prefix("spool-").and_then(|n| n.strip_suffix(".seg")).and_then(|n| n.parse().ok())
            {
                segments.push((n, entry.metadata()?.len()));
            }
        }
        segments.sort_unstable();
        let bytes = segments.iter().map(|s| s.1).sum();
        Ok(Spool { dir: dir.into(), max, segments: segments.into(), bytes, read_offset: 0, writer: None })
    }

    fn path(&self, n: u64) -> PathBuf {
        self.dir.join(format!("spool-{n:020}.seg"))
    }

    fn is_empty(&self) -> bool {
        self.segments.is_empty()
    }

    fn append(&mut self, body: &[u8]) -> std::io::Result<()> {
        let len = body.len() as u64 + 4;
        let need_new = match (&self.writer, self.segments.back()) {
            (Some((n, _)), Some((last, size))) => n != last || *size >= SEGMENT_BYTES,
            _ => true,
        };
        if need_new {
            let n = self.segments.back().map_or(FIRST_SEGMENT, |s| s.0 + 1).max(FIRST_SEGMENT);
            let file = OpenOptions::new().create(true).append(true).open(self.path(n))?;
            self.segments.push_back((n, 0));
            self.writer = Some((n, file));
        }
        if let Some((_, file)) = self.writer.as_mut() {
            let mut framed = Vec::with_capacity(body.len() + 4);
            framed.extend_from_slice(&(body.len() as u32).to_be_bytes());
            framed.extend_from_slice(body);
            file.write_all(&framed)?;
        }
        if let Some(last) = self.segments.back_mut() {
            last.1 += len;
        }
        self.bytes += len;
        Ok(())
    }

    /// Writes `items` as a segment before every other (agent shutdown with
    /// unacknowledged batches in memory).
    fn prepend(&mut self, items: &[Item]) -> std::io::Result<()> {
        if items.is_empty() {
            return Ok(());
        }
        let n = self.segments.front().map_or(FIRST_SEGMENT, |s| s.0).saturating_sub(1);
        let mut data = Vec::new();
        for item in items {
            data.extend_from_slice(&(item.body.len() as u32).to_be_bytes());
            data.extend_from_slice(&item.body);
        }
        let mut file = File::create(self.path(n))?;
        file.write_all(&data)?;
        file.sync_all()?;
        // The oldest segment may have been partly read into memory: those
        // batches are in `items` now, so it restarts where reading stopped.
        if self.read_offset > 0
            && let Some(&(front, _)) = self.segments.front()
        {
            let path = self.path(front);
            let rest = std::fs::read(&path)?.split_off(self.read_offset as usize);
            std::fs::write(&path, &rest)?;
            self.read_offset = 0;
        }
        self.segments.push_front((n, data.len() as u64));
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Takes the oldest spooled batch; damaged segment tails are skipped.
    fn pop(&mut self) -> Option<Item> {
        loop {
            let &(n, size) = self.segments.front()?;
            let is_writing = self.writer.as_ref().is_some_and(|(w, _)| *w == n);
            match self.read_at(n) {
                Some(body) => {
                    let len = body.len() as u64 + 4;
                    self.read_offset += len;
                    self.bytes = self.bytes.saturating_sub(len);
                    if let Some(front) = self.segments.front_mut() {
                        front.1 = front.1.saturating_sub(len);
                    }
                    let records = body.get(29..37).and_then(|b| b.try_into().ok()).map_or(0, u64::from_be_bytes);
                    return Some(Item { body: body.into(), records });
                }
                None => {
                    if is_writing {
                        self.writer = None;
                    }
                    self.bytes = self.bytes.saturating_sub(size);
                    self.segments.pop_front();
                    self.read_offset = 0;
                    let _ = std::fs::remove_file(self.path(n));
                }
            }
        }
    }

    fn read_at(&self, n: u64) -> Option<Vec<u8>> {
        let mut file = File::open(self.path(n)).ok()?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(self.read_offset)).ok()?;
        let mut len = [0u8; 4];
        file.read_exact(&mut len).ok()?;
        let len = u32::from_be_bytes(len);
        if len == 0 || len > MAX_MESSAGE_LEN {
            return None;
        }
        let mut body = vec![0u8; len as usize];
        file.read_exact(&mut body).ok()?;
        batch_position(&body)?;
        Some(body)
    }
}

struct State {
    /// Unacknowledged batches in memory, oldest first; the first `sent`
    /// were sent on the current connection.
    mem: VecDeque<Item>,
    mem_bytes: u64,
    sent: usize,
    spool: Option<Spool>,
    closed: bool,
    stats: QueueStats,
    warned_drop: bool,
}

/// Shared between the capture thread (producer) and the network task.
pub struct Queue {
    state: Mutex<State>,
    memory_max: u64,
    block_when_full: bool,
    /// Wakes the sender: new batch, or closed.
    pub ready: Notify,
    /// Wakes a blocked producer or a waiting `drain`.
    room: Condvar,
}

impl Queue {
    pub fn new(memory_max: u64, spool: Option<(&Path, u64)>, block_when_full: bool) -> std::io::Result<Self> {
        let spool = spool.map(|(dir, max)| Spool::open(dir, max)).transpose()?;
        if let Some(s) = &spool
            && !s.is_empty()
        {
            eprintln!(
                "netcap agent: {} bytes of batches spooled by an earlier run in {} will be sent first",
                s.bytes,
                s.dir.display()
            );
        }
        Ok(Queue {
            state: Mutex::new(State {
                mem: VecDeque::new(),
                mem_bytes: 0,
                sent: 0,
                spool,
                closed: false,
                stats: QueueStats::default(),
                warned_drop: false,
            }),
            memory_max,
            block_when_full,
            ready: Notify::new(),
            room: Condvar::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a batch; blocks while memory and spool are full if the queue
    /// was made to, else drops it (counted, and said loudly).
    pub fn push(&self, body: Vec<u8>, records: u64) {
        let len = body.len() as u64;
        let mut state = self.lock();
        state.stats.queued_batches += 1;
        loop {
            let spool_empty = state.spool.as_ref().is_none_or(|s| s.is_empty());
            if spool_empty && (state.mem_bytes + len <= self.memory_max || state.mem.is_empty()) {
                state.mem_bytes += len;
                state.mem.push_back(Item { body: body.into(), records });
                drop(state);
                self.ready.notify_one();
                return;
            }
            if let Some(spool) = state.spool.as_mut()
                && spool.bytes + len + 4 <= spool.max
            {
                match spool.append(&body) {
                    Ok(()) => {
                        state.stats.spooled_batches += 1;
                        drop(state);
                        self.ready.notify_one();
                        return;
                    }
                    Err(e) => eprintln!("netcap agent: WARNING: cannot write to the spool: {e}"),
                }
            }
            if !self.block_when_full || state.closed {
                state.stats.dropped_batches += 1;
                state.stats.dropped_records += records;
                if !state.warned_drop || state.stats.dropped_batches.is_power_of_two() {
                    state.warned_drop = true;
                    eprintln!(
                        "netcap agent: WARNING: the collector is not keeping up and the {} is full: DROPPING records ({} batches, {} records dropped so far)",
                        if state.spool.is_some() { "spool" } else { "memory queue (no -spool-dir)" },
                        state.stats.dropped_batches,
                        state.stats.dropped_records
                    );
                }
                return;
            }
            state = self.room.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// No more batches will come.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_one();
        self.room.notify_all();
    }

    /// A new connection: everything unacknowledged is sent again.
    pub fn restart(&self) {
        self.lock().sent = 0;
    }

    /// The next batch to send on this connection, if any (with at most
    /// `window` bytes unacknowledged in flight).
    pub fn next_to_send(&self, window: u64) -> Option<Bytes> {
        let mut state = self.lock();
        let state = &mut *state;
        // Refill memory from the spool, in order, while there is room.
        while state.mem_bytes < self.memory_max / 2 {
            let Some(item) = state.spool.as_mut().and_then(|s| s.pop()) else { break };
            state.mem_bytes += item.body.len() as u64;
            state.mem.push_back(item);
            self.room.notify_all();
        }
        let in_flight: u64 = state.mem.iter().take(state.sent).map(|i| i.body.len() as u64).sum();
        if in_flight >= window && state.sent > 0 {
            return None;
        }
        let item = state.mem.get(state.sent)?;
        state.sent += 1;
        Some(item.body.clone())
    }

    /// Everything up to and including `(session, seq)` is stored.
    pub fn ack(&self, session: &SessionId, seq: u64, rejected: bool) {
        let mut state = self.lock();
        while state.sent > 0 {
            let Some(item) = state.mem.pop_front() else { break };
            state.sent -= 1;
            state.mem_bytes -= item.body.len() as u64;
            let position = batch_position(&item.body);
            let last = position == Some((*session, seq));
            if last && rejected {
                state.stats.rejected_batches += 1;
            } else {
                state.stats.acked_batches += 1;
                state.stats.acked_records += item.records;
            }
            if last {
                break;
            }
        }
        drop(state);
        self.room.notify_all();
    }

    /// True once closed and everything is acknowledged.
    pub fn done(&self) -> bool {
        let state = self.lock();
        state.closed && state.mem.is_empty() && state.spool.as_ref().is_none_or(|s| s.is_empty())
    }

    /// Whether anything is waiting to be sent or acknowledged.
    pub fn pending(&self) -> bool {
        let state = self.lock();
        !state.mem.is_empty() || state.spool.as_ref().is_some_and(|s| !s.is_empty())
    }

    pub fn stats(&self) -> QueueStats {
        self.lock().stats.clone()
    }

    /// At shutdown: puts unacknowledged batches still in memory back into the
    /// spool (in front), so that a later run sends them. Returns how many
    /// batches are kept on disk, or lost when there is no spool.
    pub fn persist(&self) -> (u64, u64) {
        let mut state = self.lock();
        let items: Vec<Item> = state.mem.drain(..).collect();
        state.mem_bytes = 0;
        state.sent = 0;
        let count = items.len() as u64;
        match state.spool.as_mut() {
            Some(spool) => match spool.prepend(&items) {
                Ok(()) => (count, 0),
                Err(e) => {
                    eprintln!("netcap agent: WARNING: cannot write unacknowledged batches to the spool: {e}");
                    (0, count)
                }
            },
            None => (0, count),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::RecordType;

    fn body(seq: u64) -> Vec<u8> {
        netcap_wire::batch_body(&[1; 16], seq, RecordType::Tcp, 1, b"", &[0u8; 100])
    }

    #[test]
    fn order_is_kept_across_memory_and_spool() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::new(350, Some((dir.path(), 10_000)), false).unwrap();
        for seq in 0..20 {
            q.push(body(seq), 1);
        }
        assert!(q.stats().spooled_batches > 0);
        let mut seen = Vec::new();
        while let Some(b) = q.next_to_send(u64::MAX) {
            let (s, seq) = batch_position(&b).unwrap();
            seen.push(seq);
            q.ack(&s, seq, false);
        }
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
        // Full spool: later batches are dropped and counted.
        let q = Queue::new(150, Some((dir.path(), 300)), false).unwrap();
        for seq in 0..10 {
            q.push(body(seq), 2);
        }
        assert!(q.stats().dropped_batches >= 6);
        assert_eq!(q.stats().dropped_records, q.stats().dropped_batches * 2);
    }

    #[test]
    fn unacknowledged_batches_survive_in_the_spool() {
        let dir = tempfile::tempdir().unwrap();
        let q = Queue::new(1 << 20, Some((dir.path(), 1 << 20)), false).unwrap();
        for seq in 0..5 {
            q.push(body(seq), 1);
        }
        let first = q.next_to_send(u64::MAX).unwrap();
        let (s, seq) = batch_position(&first).unwrap();
        q.ack(&s, seq, false);
        q.next_to_send(u64::MAX).unwrap(); // sent, never acknowledged
        assert_eq!(q.persist(), (4, 0));
        drop(q);
        let q = Queue::new(1 << 20, Some((dir.path(), 1 << 20)), false).unwrap();
        let mut seen = Vec::new();
        while let Some(b) = q.next_to_send(u64::MAX) {
            seen.push(batch_position(&b).unwrap().1);
        }
        assert_eq!(seen, vec![1, 2, 3, 4]);
    }
}
