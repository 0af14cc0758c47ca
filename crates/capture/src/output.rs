//! The record files of one capture run.

use crate::pipeline::EncodedBatch;
use crate::{CaptureConfig, CaptureError};
use netcap_records::{FrameCompressor, Header, RecordFileWriter, RecordType, SCHEMA_VERSION};
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

/// One lazily created file per record type: a type with no records gets no
/// file, and every file starts with its header.
pub(crate) struct Output {
    dir: PathBuf,
    files: Vec<Option<RecordFileWriter>>,
    counts: Vec<u64>,
    header: Header,
    compressor: FrameCompressor,
}

impl Output {
    pub fn create(config: &CaptureConfig) -> Result<Self, CaptureError> {
        let dir = config.out_dir.clone();
        let dir_error = |source| CaptureError::OutputDir { path: dir.clone(), source };
        std::fs::create_dir_all(&dir).map_err(dir_error)?;
        // Files of an earlier run would pass for this run's output.
        for record_type in RecordType::all() {
            let stale = dir.join(record_type.file_name());
            if stale.exists() {
                std::fs::remove_file(&stale).map_err(|source| CaptureError::OutputDir { path: stale, source })?;
            }
        }
        let created_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let header = Header {
            schema_version: SCHEMA_VERSION,
            producer: config.producer.clone(),
            created_ns,
            source: config.input.describe(),
            payloads: config.decode.payloads,
            ..Header::default()
        };
        Ok(Output {
            dir,
            files: RecordType::all().map(|_| None).collect(),
            counts: vec![0; RecordType::count()],
            header,
            compressor: FrameCompressor::new(3)?,
        })
    }

    pub fn write(&mut self, batch: &EncodedBatch) -> Result<(), CaptureError> {
        for frame in &batch.frames {
            let i = frame.record_type.index();
            let file = match &mut self.files[i] {
                Some(file) => file,
                slot => {
                    let mut header = self.header.clone();
                    header.record_type = frame.record_type as i32;
                    header.message_type =
                        frame.record_type.descriptor().map(|d| d.full_name().to_string()).unwrap_or_default();
                    header.link_types = batch.info.link_types.clone();
                    header.snaplen = batch.info.snaplen;
                    let path = self.dir.join(frame.record_type.file_name());
                    slot.insert(RecordFileWriter::create(&path, &header, &mut self.compressor)?)
                }
            };
            file.write_frame(&frame.frame)?;
            self.counts[i] += frame.records;
        }
        Ok(())
    }

    /// Closes every file with its end marker; returns the record counts and
    /// paths of the files written.
    pub fn finish(self) -> Result<(Vec<(RecordType, u64)>, Vec<PathBuf>), CaptureError> {
        let mut records = Vec::new();
        let mut paths = Vec::new();
        for (record_type, file) in RecordType::all().zip(self.files) {
            if let Some(file) = file {
                let count = self.counts[record_type.index()];
                paths.push(file.path().to_path_buf());
                file.finish(count)?;
                records.push((record_type, count));
            }
        }
        Ok((records, paths))
    }
}
