//! Records through worker threads and back in order: one thread reads and
//! decompresses the record files into chunks, workers label and render
//! chunks, and the caller consumes the results in record order. Channels
//! are bounded, so at most `3 × workers + 2` chunks (of at most
//! [`CHUNK_RECORDS`] records or [`CHUNK_BYTES`] bytes) are in memory.

use crate::error::LabelError;
use crossbeam_channel::bounded;
use netcap_records::{ReadError, RecordReader};
use std::collections::BTreeMap;
use std::path::PathBuf;

pub const CHUNK_RECORDS: usize = 4096;
pub const CHUNK_BYTES: usize = 4 << 20;

/// Consecutive records of one file.
pub struct Chunk {
    /// Index of the file in the list given to [`run`].
    pub file: usize,
    /// Number of the chunk's first record in its file, from 1.
    pub first_record: u64,
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Chunk {
    /// An empty chunk with room for a full one (reserved at once rather
    /// than grown by copying).
    fn new(file: usize, first_record: u64) -> Chunk {
        Chunk { file, first_record, data: Vec::with_capacity(CHUNK_BYTES), ends: Vec::with_capacity(CHUNK_RECORDS) }
    }

    /// The encoded records.
    pub fn records(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let record = self.data.get(start..end).unwrap_or_default();
            start = end;
            record
        })
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Bytes of the encoded records.
    pub fn bytes(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }
}

/// Reads `files` in order, has `work` done on every chunk on `workers`
/// threads (each with its own state from `state`), and hands the results
/// to `consume` in order. Returns the read errors of damaged files (every
/// complete record before the damage was processed); an error of
/// `consume` stops everything and is returned.
pub fn run<S, O>(
    files: &[PathBuf],
    workers: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, &Chunk) -> O + Sync,
    mut consume: impl FnMut(O) -> Result<(), LabelError>,
) -> Result<Vec<ReadError>, LabelError>
where
    O: Send,
{
    let workers = workers.max(1);
    let (chunk_tx, chunk_rx) = bounded::<(u64, Chunk)>(workers * 2);
    let (out_tx, out_rx) = bounded::<(u64, O)>(workers * 2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_chunks(files, chunk_tx));
        for _ in 0..workers {
            let (chunk_rx, out_tx) = (chunk_rx.clone(), out_tx.clone());
            let (state, work) = (&state, &work);
            scope.spawn(move || {
                let mut state = state();
                for (seq, chunk) in chunk_rx {
                    if out_tx.send((seq, work(&mut state, &chunk))).is_err() {
                        return;
                    }
                }
            });
        }
        drop((chunk_rx, out_tx));
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut failed = None;
        for (seq, out) in &out_rx {
            pending.insert(seq, out);
            while let Some(out) = pending.remove(&next) {
                next += 1;
                if let Err(e) = consume(out) {
                    failed = Some(e);
                    break;
                }
            }
            if failed.is_some() {
                break;
            }
        }
        // Workers and the reader see closed channels and stop.
        drop(out_rx);
        let read = reader.join().unwrap_or_else(|_| Err(LabelError::Options("the reader thread failed".into())));
        match failed {
            Some(e) => Err(e),
            None => read,
        }
    })
}

fn read_chunks(files: &[PathBuf], tx: crossbeam_channel::Sender<(u64, Chunk)>) -> Result<Vec<ReadError>, LabelError> {
    let mut damaged = Vec::new();
    let mut seq = 0u64;
    for (file, path) in files.iter().enumerate() {
        let mut reader = RecordReader::open(path)?;
        let mut chunk = Chunk::new(file, 1);
        let mut record = 0u64;
        loop {
            match reader.next_raw() {
                Ok(Some(bytes)) => {
                    record += 1;
                    chunk.data.extend_from_slice(bytes);
                    chunk.ends.push(chunk.data.len());
                    if chunk.ends.len() >= CHUNK_RECORDS || chunk.data.len() >= CHUNK_BYTES {
                        let next = Chunk::new(file, record + 1);
                        if tx.send((seq, std::mem::replace(&mut chunk, next))).is_err() {
                            return Ok(damaged);
                        }
                        seq += 1;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    // A damaged frame is skipped: read on after it.
                    let read_on = e.is_recoverable();
                    damaged.push(e);
                    if !read_on {
                        break;
                    }
                }
            }
        }
        if !chunk.is_empty() {
            if tx.send((seq, chunk)).is_err() {
                return Ok(damaged);
            }
            seq += 1;
        }
    }
    Ok(damaged)
}
