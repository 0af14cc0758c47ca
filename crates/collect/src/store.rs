//! The collector's files: `<out>/<agent>/<Type>.ncap.zst` being written,
//! `<Type>.NNNNNN.ncap.zst` once rotated, and which batches are stored.
//!
//! Each batch goes to its type's live file as the agent's zstd frame followed
//! by a 48-byte zstd *skippable* frame, the batch marker (session, sequence
//! number, record count), in one `write`. Readers skip the marker like any
//! skippable frame; the collector uses the markers as its write-ahead log:
//! after a crash it truncates a live file to its last complete marker, learns
//! from the markers which batches it holds, closes the file with netcap's end
//! marker and renames it to the next rotated name. Batches of rotated files
//! are remembered in `.sessions` (next expected sequence number per session),
//! written before every rename. Acknowledgements are sent only after
//! [`AgentDir::sync`], so an acknowledged batch survives SIGKILL and power
//! loss, and a batch resent after a reconnect is stored once.

use netcap_records::{FILE_EXTENSION, FrameCompressor, Header, RecordType};
use netcap_wire::{BatchRef, SessionId, parse_session_hex, session_hex};
use prost::Message;
use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Skippable-frame magic of batch markers (netcap's end marker uses 0x184D2A5E).
const MARKER_MAGIC: u32 = 0x184D_2A5B;
const MARKER_TAG: &[u8; 8] = b"NCAPBAT\0";
const MARKER_LEN: usize = 48;
const END_MAGIC: u32 = 0x184D_2A5E;
const END_TAG: &[u8; 8] = b"NCAPEND\0";
/// Sessions remembered per agent (each agent run is one session).
const MAX_SESSIONS: usize = 4096;
const STATE_FILE: &str = ".sessions";
const LOCK_FILE: &str = ".lock";

/// When live files are closed and renamed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rotation {
    pub max_bytes: Option<u64>,
    pub max_age: Option<Duration>,
}

/// A file operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    Compress(#[from] netcap_records::WriteError),
    #[error("the collector is shutting down")]
    Closed,
    #[error("{0} is in use by another collector")]
    Locked(PathBuf),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

fn marker(session: &SessionId, seq: u64, records: u64) -> [u8; MARKER_LEN] {
    let mut m = [0u8; MARKER_LEN];
    m[0..4].copy_from_slice(&MARKER_MAGIC.to_le_bytes());
    m[4..8].copy_from_slice(&40u32.to_le_bytes());
    m[8..16].copy_from_slice(MARKER_TAG);
    m[16..32].copy_from_slice(session);
    m[32..40].copy_from_slice(&seq.to_le_bytes());
    m[40..48].copy_from_slice(&records.to_le_bytes());
    m
}

fn end_marker(records: u64) -> [u8; 24] {
    let mut m = [0u8; 24];
    m[0..4].copy_from_slice(&END_MAGIC.to_le_bytes());
    m[4..8].copy_from_slice(&16u32.to_le_bytes());
    m[8..16].copy_from_slice(END_TAG);
    m[16..24].copy_from_slice(&records.to_le_bytes());
    m
}

/// A batch marker read back: session, sequence number, records.
fn parse_marker(frame: &[u8]) -> Option<(SessionId, u64, u64)> {
    if frame.len() != MARKER_LEN || frame[0..4] != MARKER_MAGIC.to_le_bytes() || &frame[8..16] != MARKER_TAG {
        return None;
    }
    let session = frame[16..32].try_into().ok()?;
    let seq = u64::from_le_bytes(frame[32..40].try_into().ok()?);
    let records = u64::from_le_bytes(frame[40..48].try_into().ok()?);
    Some((session, seq, records))
}

fn is_end_marker(frame: &[u8]) -> bool {
    frame.len() == 24 && frame[0..4] == END_MAGIC.to_le_bytes() && &frame[8..16] == END_TAG
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))
}

/// Every agent directory under the output directory.
pub struct Store {
    root: PathBuf,
    rotation: Rotation,
    agents: Mutex<HashMap<String, Arc<Mutex<AgentDir>>>>,
    /// Held (locked) while the store is open: two collectors writing one
    /// directory would interleave their batches and their recoveries.
    _lock: File,
}

impl Store {
    /// Opens `root` and recovers every agent directory in it, so that all
    /// files are complete and readable before the first agent connects.
    pub fn open(root: &Path, rotation: Rotation) -> Result<Self, StoreError> {
        std::fs::create_dir_all(root).map_err(io(root))?;
        let lock_path = root.join(LOCK_FILE);
        let lock =
            OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io(&lock_path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(StoreError::Locked(root.to_path_buf())),
            Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path)(e)),
        }
        let store = Store { root: root.to_path_buf(), rotation, agents: Mutex::new(HashMap::new()), _lock: lock };
        for entry in std::fs::read_dir(root).map_err(io(root))? {
            let entry = entry.map_err(io(root))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().map_err(io(root))?.is_dir() && netcap_wire::valid_agent_name(&name) {
                store.agent(&name)?;
            }
        }
        Ok(store)
    }

    /// The directory of agent `name` (a valid agent name), opened and
    /// recovered on first use.
    pub fn agent(&self, name: &str) -> Result<Arc<Mutex<AgentDir>>, StoreError> {
        let mut agents = self.agents.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(dir) = agents.get(name) {
            return Ok(dir.clone());
        }
        let dir = Arc::new(Mutex::new(AgentDir::open(&self.root.join(name), self.rotation)?));
        agents.insert(name.to_string(), dir.clone());
        Ok(dir)
    }

    /// The output directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn all(&self) -> Vec<Arc<Mutex<AgentDir>>> {
        self.agents.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Forgets what recovery found in every agent directory.
    pub fn forget_recovered(&self) {
        for dir in self.all() {
            dir.lock().unwrap_or_else(|e| e.into_inner()).forget_recovered();
        }
    }

    /// Rotates files that reached their size limit.
    pub fn rotate_full(&self) -> Result<(), StoreError> {
        for dir in self.all() {
            dir.lock().unwrap_or_else(|e| e.into_inner()).rotate_full()?;
        }
        Ok(())
    }

    /// Rotates files that reached their age limit.
    pub fn rotate_due(&self) -> Result<(), StoreError> {
        for dir in self.all() {
            dir.lock().unwrap_or_else(|e| e.into_inner()).rotate_due()?;
        }
        Ok(())
    }

    /// Closes every live file (end marker, rename) and refuses later writes.
    pub fn close(&self) -> Result<(), StoreError> {
        let mut first_error = None;
        for dir in self.all() {
            if let Err(e) = dir.lock().unwrap_or_else(|e| e.into_inner()).close() {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

struct LiveFile {
    path: PathBuf,
    file: File,
    bytes: u64,
    records: u64,
    opened: Instant,
    unsynced: bool,
}

struct Session {
    next: u64,
    touched: u64,
}

/// What [`AgentDir::write`] did with a batch.
#[derive(Debug, PartialEq, Eq)]
pub enum Written {
    Stored,
    /// The batch was stored before (a resend after a reconnect).
    Duplicate,
}

/// One agent's directory.
pub struct AgentDir {
    dir: PathBuf,
    rotation: Rotation,
    live: Vec<Option<LiveFile>>,
    /// Next rotated-file number per record type.
    numbers: Vec<u64>,
    sessions: HashMap<SessionId, Session>,
    /// Batches found in live files recovered at opening (for the NATS
    /// collector's write-ahead log, which may hold some of them).
    recovered: HashSet<(SessionId, u64)>,
    clock: u64,
    new_entries: bool,
    buf: Vec<u8>,
    compressor: FrameCompressor,
    closed: bool,
}

impl AgentDir {
    /// Opens (creating) an agent directory and recovers its live files.
    pub fn open(dir: &Path, rotation: Rotation) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let mut agent = AgentDir {
            dir: dir.to_path_buf(),
            rotation,
            live: RecordType::all().map(|_| None).collect(),
            numbers: vec![1; RecordType::count()],
            sessions: HashMap::new(),
            recovered: HashSet::new(),
            clock: 0,
            new_entries: false,
            buf: Vec::new(),
            compressor: FrameCompressor::new(3)?,
            closed: false,
        };
        agent.load_state()?;
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let name = entry.map_err(io(dir))?.file_name().to_string_lossy().into_owned();
            let Some(stem) = name.strip_suffix(FILE_EXTENSION) else { continue };
            if let Some((type_name, number)) = stem.rsplit_once('.')
                && let (Some(t), Ok(n)) = (RecordType::from_name(type_name), number.parse::<u64>())
            {
                let next = &mut agent.numbers[t.index()];
                *next = (*next).max(n + 1);
            }
        }
        let mut recovered = false;
        for record_type in RecordType::all() {
            let path = dir.join(record_type.file_name());
            if path.exists() {
                agent.recover(&path, record_type)?;
                recovered = true;
            }
        }
        if recovered {
            agent.save_state()?;
            sync_dir(dir)?;
        }
        Ok(agent)
    }

    fn load_state(&mut self) -> Result<(), StoreError> {
        let path = self.dir.join(STATE_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io(&path)(e)),
        };
        for line in text.lines() {
            let mut parts = line.split_whitespace();
            if let (Some(session), Some(next)) = (parts.next(), parts.next())
                && let (Some(session), Ok(next)) = (parse_session_hex(session), next.parse())
            {
                self.clock += 1;
                self.sessions.insert(session, Session { next, touched: self.clock });
            }
        }
        Ok(())
    }

    /// Writes `.sessions` atomically (temporary file, fsync, rename).
    fn save_state(&mut self) -> Result<(), StoreError> {
        if self.sessions.len() > MAX_SESSIONS {
            let mut by_age: Vec<_> = self.sessions.iter().map(|(s, v)| (v.touched, *s)).collect();
            by_age.sort_unstable();
            for (_, session) in &by_age[..by_age.len() - MAX_SESSIONS] {
                self.sessions.remove(session);
            }
        }
        let mut text = String::new();
        for (session, state) in &self.sessions {
            text.push_str(&format!("{} {}\n", session_hex(session), state.next));
        }
        let tmp = self.dir.join(".sessions.tmp");
        let mut file = File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(text.as_bytes()).and_then(|_| file.sync_data()).map_err(io(&tmp))?;
        let path = self.dir.join(STATE_FILE);
        std::fs::rename(&tmp, &path).map_err(io(&path))?;
        sync_dir(&self.dir)
    }

    fn note(&mut self, session: SessionId, seq: u64) {
        self.clock += 1;
        let state = self.sessions.entry(session).or_insert(Session { next: 0, touched: 0 });
        state.next = state.next.max(seq + 1);
        state.touched = self.clock;
    }

    /// Brings a live file left by an earlier run to a clean end: cut after
    /// its last complete batch, end marker, rename to the next rotated name.
    fn recover(&mut self, path: &Path, record_type: RecordType) -> Result<(), StoreError> {
        let data = std::fs::read(path).map_err(io(path))?;
        let mut pos = 0usize;
        let mut header_end = None;
        let mut good_end = None;
        let mut records = 0u64;
        let mut finished = false;
        while pos < data.len() {
            let rest = &data[pos..];
            let size = match zstd::zstd_safe::find_frame_compressed_size(rest) {
                Ok(size) if size > 0 && size <= rest.len() => size,
                _ => break,
            };
            let frame = &rest[..size];
            if header_end.is_none() {
                header_end = Some(pos + size);
            } else if let Some((session, seq, count)) = parse_marker(frame) {
                self.note(session, seq);
                self.recovered.insert((session, seq));
                records += count;
                good_end = Some(pos + size);
            } else if is_end_marker(frame) {
                finished = true;
                break;
            }
            pos += size;
        }
        let Some(keep) = good_end else {
            // Only a header, or not even that: no batch was ever stored.
            return std::fs::remove_file(path).map_err(io(path));
        };
        if !finished {
            let file = OpenOptions::new().write(true).open(path).map_err(io(path))?;
            file.set_len(keep as u64).map_err(io(path))?;
            let mut file = OpenOptions::new().append(true).open(path).map_err(io(path))?;
            file.write_all(&end_marker(records)).and_then(|_| file.sync_data()).map_err(io(path))?;
            eprintln!(
                "netcap collect: recovered {}: {records} records in complete batches{}",
                path.display(),
                if keep < data.len() {
                    format!(", {} bytes of an incomplete batch cut", data.len() - keep)
                } else {
                    String::new()
                }
            );
        }
        let i = record_type.index();
        let rotated = self.rotated_path(record_type, self.numbers[i]);
        self.numbers[i] += 1;
        std::fs::rename(path, &rotated).map_err(io(&rotated))
    }

    fn rotated_path(&self, record_type: RecordType, number: u64) -> PathBuf {
        self.dir.join(format!("{}.{number:06}{FILE_EXTENSION}", record_type.name()))
    }

    /// Stores a batch (checked by the caller) unless it was stored before;
    /// rotates the file when it is full. Batches of a session must come in
    /// order (as on an agent's connection): one stored before another with a
    /// higher sequence number is taken for a duplicate. Durable only after
    /// [`AgentDir::sync`].
    pub fn write(&mut self, batch: &BatchRef<'_>, header: &Header) -> Result<Written, StoreError> {
        if self.sessions.get(&batch.session).is_some_and(|s| batch.seq < s.next) {
            return Ok(Written::Duplicate);
        }
        self.append(batch, header)?;
        self.rotate_full()?;
        Ok(Written::Stored)
    }

    /// Whether the batch was in a live file recovered when the directory
    /// was opened.
    pub fn was_recovered(&self, session: &SessionId, seq: u64) -> bool {
        self.recovered.contains(&(*session, seq))
    }

    /// Forgets what recovery found (see [`AgentDir::was_recovered`]).
    pub fn forget_recovered(&mut self) {
        self.recovered = HashSet::new();
    }

    /// Appends a batch to its type's live file without looking for
    /// duplicates or rotating: the caller knows it is new.
    pub fn append(&mut self, batch: &BatchRef<'_>, header: &Header) -> Result<(), StoreError> {
        if self.closed {
            return Err(StoreError::Closed);
        }
        let i = batch.record_type.index();
        if self.live[i].is_none() {
            let path = self.dir.join(batch.record_type.file_name());
            if path.exists() {
                self.recover(&path, batch.record_type)?;
            }
            let mut file = File::create(&path).map_err(io(&path))?;
            let frame = self.compressor.compress(&header.encode_length_delimited_to_vec())?;
            file.write_all(&frame).map_err(io(&path))?;
            self.new_entries = true;
            self.live[i] = Some(LiveFile {
                path,
                file,
                bytes: frame.len() as u64,
                records: 0,
                opened: Instant::now(),
                unsynced: true,
            });
        }
        self.buf.clear();
        self.buf.extend_from_slice(batch.frame);
        self.buf.extend_from_slice(&marker(&batch.session, batch.seq, batch.records));
        let Some(live) = self.live[i].as_mut() else { return Err(StoreError::Closed) };
        // One write per batch: a crash leaves whole batches and at most one
        // partial one, which recovery cuts off.
        live.file.write_all(&self.buf).map_err(io(&live.path))?;
        live.bytes += self.buf.len() as u64;
        live.records += batch.records;
        live.unsynced = true;
        self.note(batch.session, batch.seq);
        Ok(())
    }

    /// Rotates the live files that reached the size limit.
    pub fn rotate_full(&mut self) -> Result<(), StoreError> {
        let Some(max) = self.rotation.max_bytes else { return Ok(()) };
        for i in 0..self.live.len() {
            if self.live[i].as_ref().is_some_and(|l| l.bytes >= max) {
                self.rotate(i)?;
            }
        }
        Ok(())
    }

    /// Puts everything written so far on stable storage.
    pub fn sync(&mut self) -> Result<(), StoreError> {
        for live in self.live.iter_mut().flatten() {
            if live.unsynced {
                live.file.sync_data().map_err(io(&live.path))?;
                live.unsynced = false;
            }
        }
        if self.new_entries {
            sync_dir(&self.dir)?;
            self.new_entries = false;
        }
        Ok(())
    }

    fn rotate(&mut self, i: usize) -> Result<(), StoreError> {
        let Some(mut live) = self.live[i].take() else { return Ok(()) };
        live.file.write_all(&end_marker(live.records)).and_then(|_| live.file.sync_data()).map_err(io(&live.path))?;
        // Remember the file's batches before its live name disappears.
        self.save_state()?;
        let record_type = RecordType::all().nth(i).unwrap_or(RecordType::Unspecified);
        let rotated = self.rotated_path(record_type, self.numbers[i]);
        self.numbers[i] += 1;
        std::fs::rename(&live.path, &rotated).map_err(io(&rotated))?;
        sync_dir(&self.dir)
    }

    /// Rotates the live files that reached the age limit.
    pub fn rotate_due(&mut self) -> Result<(), StoreError> {
        let Some(max_age) = self.rotation.max_age else { return Ok(()) };
        for i in 0..self.live.len() {
            if self.live[i].as_ref().is_some_and(|l| l.opened.elapsed() >= max_age) {
                self.rotate(i)?;
            }
        }
        Ok(())
    }

    /// Closes every live file; later writes fail with [`StoreError::Closed`].
    pub fn close(&mut self) -> Result<(), StoreError> {
        self.closed = true;
        for i in 0..self.live.len() {
            self.rotate(i)?;
        }
        self.save_state()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::{RecordReader, Tcp};

    fn batch_parts(seq: u64, n: u64) -> (Vec<u8>, Vec<u8>) {
        let mut records = Vec::new();
        for i in 0..n {
            Tcp { frame: seq * 100 + i, ..Default::default() }.encode_length_delimited(&mut records).unwrap();
        }
        let frame = FrameCompressor::new(1).unwrap().compress(&records).unwrap();
        let header = Header { record_type: RecordType::Tcp as i32, ..Default::default() };
        (header.encode_to_vec(), frame)
    }

    fn write(dir: &mut AgentDir, session: SessionId, seq: u64) -> Written {
        let (header, frame) = batch_parts(seq, 3);
        let batch = BatchRef { session, seq, record_type: RecordType::Tcp, records: 3, header: &header, frame: &frame };
        dir.write(&batch, &Header::decode(header.as_slice()).unwrap()).unwrap()
    }

    fn frames_in(dir: &Path) -> Vec<u64> {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".ncap.zst"))
            .collect();
        files.sort();
        let mut frames = Vec::new();
        for f in files {
            let mut r = RecordReader::open(&f).unwrap();
            while let Some(t) = r.next::<Tcp>().unwrap() {
                frames.push(t.frame);
            }
        }
        frames
    }

    #[test]
    fn duplicates_crashes_and_rotation() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a1");
        let s = [1u8; 16];
        let mut agent = AgentDir::open(&dir, Rotation { max_bytes: Some(400), max_age: None }).unwrap();
        for seq in 0..5 {
            assert_eq!(write(&mut agent, s, seq), Written::Stored);
        }
        assert_eq!(write(&mut agent, s, 3), Written::Duplicate);
        agent.sync().unwrap();
        // Simulate a crash: the live file stays as it is, with a torn batch.
        let live = dir.join("TCP.ncap.zst");
        drop(agent);
        let mut f = OpenOptions::new().append(true).open(&live).unwrap();
        f.write_all(&batch_parts(9, 3).1[..10]).unwrap();
        let mut agent = AgentDir::open(&dir, Rotation::default()).unwrap();
        assert!(!live.exists());
        for seq in 0..5 {
            assert_eq!(write(&mut agent, s, seq), Written::Duplicate, "seq {seq}");
        }
        assert_eq!(write(&mut agent, s, 5), Written::Stored);
        agent.close().unwrap();
        let expected: Vec<u64> = (0..6).flat_map(|seq| (0..3).map(move |i| seq * 100 + i)).collect();
        assert_eq!(frames_in(&dir), expected);
        let agent = AgentDir::open(&dir, Rotation::default()).unwrap();
        assert_eq!(agent.sessions[&s].next, 6);
    }
}
