//! Where a capture's records go: [`RecordSink`], and its file implementation.

use crate::CaptureError;
use netcap_records::{FrameCompressor, Header, RecordFileWriter, RecordType};
use std::path::{Path, PathBuf};

/// Receives the capture's records, already encoded: each call brings one
/// zstd frame of length-delimited records of one type (docs/format.md), in
/// the order the records must be stored. A record file writes them to disk;
/// an agent ships them to a collector.
pub trait RecordSink: Send {
    /// `header` describes the stream of `record_type` and is the same for
    /// every frame of that type; a sink writes it before the type's first
    /// frame.
    fn write_frame(
        &mut self,
        record_type: RecordType,
        header: &Header,
        records: u64,
        frame: &[u8],
    ) -> Result<(), CaptureError>;

    /// The capture has ended: `records` holds the total per type that got
    /// any. Returns the files written, if the sink writes files.
    fn finish(&mut self, records: &[(RecordType, u64)]) -> Result<Vec<PathBuf>, CaptureError>;
}

/// One lazily created file per record type in a directory: a type with no
/// records gets no file, and every file starts with its header.
pub struct DirectorySink {
    dir: PathBuf,
    files: Vec<Option<RecordFileWriter>>,
    compressor: FrameCompressor,
}

impl DirectorySink {
    /// Creates `dir` if needed and removes record files of an earlier run,
    /// which would otherwise pass for this run's output.
    pub fn create(dir: &Path) -> Result<Self, CaptureError> {
        let dir_error = |source| CaptureError::OutputDir { path: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(dir_error)?;
        for record_type in RecordType::all() {
            let stale = dir.join(record_type.file_name());
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(|source| CaptureError::OutputDir { path: stale, source })?;
            }
        }
        Ok(DirectorySink {
            dir: dir.to_path_buf(),
            files: RecordType::all().map(|_| None).collect(),
            compressor: FrameCompressor::new(3)?,
        })
    }
}

impl RecordSink for DirectorySink {
    fn write_frame(
        &mut self,
        record_type: RecordType,
        header: &Header,
        _records: u64,
        frame: &[u8],
    ) -> Result<(), CaptureError> {
        let file = match &mut self.files[record_type.index()] {
            Some(file) => file,
            slot => {
                let path = self.dir.join(record_type.file_name());
                slot.insert(RecordFileWriter::create(&path, header, &mut self.compressor)?)
            }
        };
        file.write_frame(frame)?;
        Ok(())
    }

    fn finish(&mut self, records: &[(RecordType, u64)]) -> Result<Vec<PathBuf>, CaptureError> {
        let mut finishing = Vec::new();
        for &(record_type, count) in records {
            if let Some(file) = self.files[record_type.index()].take() {
                finishing.push((file, count));
            }
        }
        let paths = finishing.iter().map(|(file, _)| file.path().to_path_buf()).collect();
        // Each file ends with a sync to disk: all at once, so that their
        // waits for the device overlap.
        std::thread::scope(|scope| {
            let syncs: Vec<_> =
                finishing.into_iter().map(|(file, count)| scope.spawn(move || file.finish(count))).collect();
            for sync in syncs {
                match sync.join() {
                    Ok(result) => result?,
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
            Ok::<_, CaptureError>(())
        })?;
        Ok(paths)
    }
}
