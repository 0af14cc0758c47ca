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
    /// Segments are cut at this size: small enough that a spool being read
    /// while it is written frees its disk space in steps well below `max`.
    segment_bytes: u64,
    /// Segment numbers on disk, oldest first, with their sizes on disk.
    segments: VecDeque<(u64, u64)>,
    /// Bytes on disk, what `max` bounds: batches already read stay on disk
    /// until their whole segment has been read and is removed.
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
        Ok(Spool {
            dir: dir.into(),
            max,
            segment_bytes: SEGMENT_BYTES.min(max / 8).max(1),
            segments: segments.into(),
            bytes,
            read_offset: 0,
            writer: None,
        })
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
            (Some((n, _)), Some((last, size))) => n != last || *size >= self.segment_bytes,
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
            if let Err(e) = file.write_all(&framed) {
                // A partial batch may be on disk: cut it off, so that the
                // segment stays whole and the next batch goes after the last
                // good one (a full disk must not leave a new segment file per
                // batch). If even that fails, count what is there and write
                // the next batch to a new segment (reading stops at the torn
                // one).
                let good = self.segments.back().map_or(0, |last| last.1);
                if file.set_len(good).is_err() {
                    let written = file.metadata().map_or(0, |m| m.len());
                    self.writer = None;
                    if let Some(last) = self.segments.back_mut() {
                        self.bytes += written.saturating_sub(last.1);
                        last.1 = last.1.max(written);
                    }
                }
                return Err(e);
            }
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
            // Shorter than what was read (changed behind our back): nothing left.
            let data = std::fs::read(&path)?;
            let rest =
                usize::try_from(self.read_offset).ok().and_then(|at| data.get(at..)).unwrap_or_default().to_vec();
            std::fs::write(&path, &rest)?;
            if let Some(front) = self.segments.front_mut() {
                self.bytes = self.bytes.saturating_sub(front.1.saturating_sub(rest.len() as u64));
                front.1 = rest.len() as u64;
            }
            self.read_offset = 0;
        }
        self.segments.push_front((n, data.len() as u64));
        self.bytes += data.len() as u64;
        Ok(())
    }

    /// Takes the oldest spooled batch; damaged segment tails are skipped.
    /// A segment is removed once read to its end.
    fn pop(&mut self) -> Option<Item> {
        loop {
            let &(n, size) = self.segments.front()?;
            let body = if self.read_offset < size { self.read_at(n) } else { None };
            let Some(body) = body else {
                // The end of the segment, or a torn batch (agent killed
                // while writing): nothing after it in this segment.
                self.remove_front();
                continue;
            };
            self.read_offset += body.len() as u64 + 4;
            if self.read_offset >= size {
                self.remove_front();
            }
            let records = body.get(29..37).and_then(|b| b.try_into().ok()).map_or(0, u64::from_be_bytes);
            return Some(Item { body: body.into(), records });
        }
    }

    fn remove_front(&mut self) {
        let Some((n, size)) = self.segments.pop_front() else { return };
        if self.writer.as_ref().is_some_and(|(w, _)| *w == n) {
            self.writer = None;
        }
        self.bytes = self.bytes.saturating_sub(size);
        self.read_offset = 0;
        let _ = std::fs::remove_file(self.path(n));
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
    /// Times the spool started to be used, and the capture was paused
    /// (logged the first time and then at every power of two).
    spool_episodes: u64,
    pauses: u64,
    /// Failed spool writes (logged the first time and then at every power
    /// of two: a full disk fails every batch).
    spool_errors: u64,
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
                spool_episodes: 0,
                pauses: 0,
                spool_errors: 0,
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
    /// was made to, else drops it (counted, and said loudly). Once closed
    /// (the sender has stopped) nothing blocks or is dropped any more: the
    /// batches still coming out of the capture are kept for [`Queue::persist`].
    pub fn push(&self, body: Vec<u8>, records: u64) {
        let len = body.len() as u64;
        let mut state = self.lock();
        state.stats.queued_batches += 1;
        let mut waited = false;
        loop {
            let state_ref = &mut *state;
            let spool_empty = state_ref.spool.as_ref().is_none_or(|s| s.is_empty());
            if spool_empty
                && (state_ref.mem_bytes + len <= self.memory_max || state_ref.mem.is_empty() || state_ref.closed)
            {
                state_ref.mem_bytes += len;
                state_ref.mem.push_back(Item { body: body.into(), records });
                drop(state);
                self.ready.notify_one();
                return;
            }
            if let Some(spool) = state_ref.spool.as_mut()
                && (spool.bytes + len + 4 <= spool.max || state_ref.closed)
            {
                let was_empty = spool.is_empty();
                match spool.append(&body) {
                    Ok(()) => {
                        state_ref.stats.spooled_batches += 1;
                        if was_empty {
                            state_ref.spool_episodes += 1;
                            if state_ref.spool_episodes.is_power_of_two() {
                                eprintln!(
                                    "netcap agent: {} bytes unacknowledged in memory: spooling batches to {} (occurrence {})",
                                    state_ref.mem_bytes,
                                    spool.dir.display(),
                                    state_ref.spool_episodes
                                );
                            }
                        }
                        drop(state);
                        self.ready.notify_one();
                        return;
                    }
                    Err(e) => {
                        state_ref.spool_errors += 1;
                        if state_ref.spool_errors.is_power_of_two() {
                            eprintln!(
                                "netcap agent: WARNING: cannot write to the spool: {e} (failure {})",
                                state_ref.spool_errors
                            );
                        }
                    }
                }
            }
            // Closed: the sender has gone and will not make room.
            if !self.block_when_full || state_ref.closed {
                let stats = &mut state_ref.stats;
                stats.dropped_batches += 1;
                stats.dropped_records += records;
                if !state_ref.warned_drop || stats.dropped_batches.is_power_of_two() {
                    state_ref.warned_drop = true;
                    eprintln!(
                        "netcap agent: WARNING: the collector is not taking batches (unreachable or too slow) and the {} is full: DROPPING records ({} batches, {} records dropped so far)",
                        if state_ref.spool.is_some() { "spool" } else { "memory queue (no -spool-dir)" },
                        stats.dropped_batches,
                        stats.dropped_records
                    );
                }
                return;
            }
            // A pause is counted once, however often the push wakes up.
            if !waited {
                state_ref.pauses += 1;
                if state_ref.pauses.is_power_of_two() {
                    let full = match &state_ref.spool {
                        Some(spool) => format!("spool ({} of {} bytes used)", spool.bytes, spool.max),
                        None => format!("memory queue ({} bytes, no -spool-dir)", state_ref.mem_bytes),
                    };
                    eprintln!(
                        "netcap agent: the {full} is full: pausing the capture until the collector takes batches (occurrence {})",
                        state_ref.pauses
                    );
                }
            }
            waited = true;
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

    /// Bytes the spool holds on disk.
    pub fn spooled_bytes(&self) -> u64 {
        self.lock().spool.as_ref().map_or(0, |s| s.bytes)
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
    use std::sync::Arc;

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

    fn dir_bytes(dir: &Path) -> u64 {
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().metadata().unwrap().len()).sum()
    }

    #[test]
    fn the_spool_stays_within_its_bound_on_disk_while_it_is_read_and_written() {
        let dir = tempfile::tempdir().unwrap();
        let max = 2000;
        let q = Queue::new(350, Some((dir.path(), max)), false).unwrap();
        let mut next = 0;
        while q.stats().spooled_batches < 8 {
            q.push(body(next), 1);
            next += 1;
        }
        // The collector takes one batch for every new one: the spool never
        // empties, and batches read from it must not pile up on disk.
        let mut seen = Vec::new();
        for _ in 0..200 {
            let b = q.next_to_send(u64::MAX).unwrap();
            let (s, seq) = batch_position(&b).unwrap();
            seen.push(seq);
            q.ack(&s, seq, false);
            q.push(body(next), 1);
            next += 1;
            assert!(dir_bytes(dir.path()) <= max, "{} bytes on disk", dir_bytes(dir.path()));
        }
        assert_eq!(q.stats().dropped_batches, 0);
        while let Some(b) = q.next_to_send(u64::MAX) {
            let (s, seq) = batch_position(&b).unwrap();
            seen.push(seq);
            q.ack(&s, seq, false);
        }
        assert_eq!(seen, (0..next).collect::<Vec<_>>());
        // Read to the end: every segment is gone.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn closing_releases_a_paused_producer_and_keeps_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let q = Arc::new(Queue::new(150, Some((dir.path(), 300)), true).unwrap());
        for seq in 0..3 {
            q.push(body(seq), 1);
        }
        let producer = {
            let q = q.clone();
            std::thread::spawn(move || q.push(body(3), 1))
        };
        std::thread::sleep(std::time::Duration::from_millis(100));
        assert!(!producer.is_finished(), "a full queue pauses the producer");
        q.close();
        producer.join().unwrap();
        assert_eq!(q.stats().dropped_batches, 0);
        assert_eq!(q.persist(), (1, 0));
        drop(q);
        let q = Queue::new(1 << 20, Some((dir.path(), 1 << 20)), false).unwrap();
        let mut seen = Vec::new();
        while let Some(b) = q.next_to_send(u64::MAX) {
            seen.push(batch_position(&b).unwrap().1);
        }
        assert_eq!(seen, vec![0, 1, 2, 3]);
    }
}
