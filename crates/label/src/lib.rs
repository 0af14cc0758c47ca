//! `netcap label`: labelled datasets from netcap records and ground truth.
//!
//! Connections (Connection records, or Flow records when a capture has no
//! Connection records) are joined with IDS alerts (Suricata eve.json and
//! fast.log) and attack schedules (YAML, CIC-IDS-style flow label CSV) by
//! community ID or endpoints, and by time; every other record type takes
//! the label of its connection (by community ID or endpoints, and time),
//! and records without addresses (Ethernet, ...) the label of the packet
//! with their frame number. Each record type becomes
//! `OUT/<Type>_labeled.csv` (dump's CSV columns plus `label`,
//! `label_source`, `label_detail`) or `.parquet`, in record order, with a
//! summary in `OUT/label-summary.json`. docs/label.md has the rules.
//!
//! ```no_run
//! use netcap_label::{Options, label};
//! let options = Options {
//!     dir: "records".into(),
//!     out: "labelled".into(),
//!     eve: vec!["eve.json".into()],
//!     ..Options::default()
//! };
//! let outcome = label(&options)?;
//! eprint!("{}", outcome.summary_text);
//! # Ok::<(), netcap_label::LabelError>(())
//! ```

mod error;
pub mod eve;
pub mod fastlog;
pub mod index;
pub mod join;
mod lines;
pub mod net;
pub mod output;
pub mod pipeline;
pub mod schedule;
pub mod summary;
pub mod time;
pub mod truth;
pub mod wire;

pub use error::LabelError;
pub use join::{JoinOptions, LabelBy};
pub use summary::Summary;
pub use truth::GroundTruth;

use crate::join::{Conn, Joiner, Labelled, Match};
use crate::net::{FlowKey, ip_from_bytes};
use crate::output::{ArrowTable, CellColumn, LABEL_COLUMNS, csv_header, push_csv_row};
use crate::pipeline::Chunk;
use crate::wire::{JoinLayout, Joined};
use arrow_array::RecordBatch;
use foldhash::fast::FixedState;
use jiff::tz::TimeZone;
use netcap_dump::{CellScratch, CsvColumns};
use netcap_records::{FILE_EXTENSION, RecordReader, RecordType};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

type Map<K, V> = HashMap<K, V, FixedState>;

/// Labelled connections the index for other record types holds at most
/// (about 100 bytes each); records of connections beyond are labelled
/// normal and counted in the summary (`dropped.labelled_connections`).
pub const MAX_LABELLED_CONNECTIONS: usize = 16 << 20;
/// Labelled frames remembered for records without addresses (about 40
/// bytes each); beyond, such records are labelled normal and counted
/// (`dropped.frames`).
pub const MAX_LABELLED_FRAMES: usize = 32 << 20;
/// Record types that aggregate many packets (a frame number there is not a
/// packet's): they are not labelled by frame.
pub const AGGREGATE_TYPES: [&str; 1] = ["SpotStat"];
/// Name of the summary file in the output directory.
pub const SUMMARY_FILE: &str = "label-summary.json";

/// What to label, with what, and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// Directory of record files (`*.ncap.zst`).
    pub dir: PathBuf,
    /// Output directory (created if missing).
    pub out: PathBuf,
    pub eve: Vec<PathBuf>,
    pub fast: Vec<PathBuf>,
    pub attacks: Vec<PathBuf>,
    /// Zone of times without one (fast.log, flow label files); fast.log
    /// defaults to UTC.
    pub zone: Option<TimeZone>,
    pub join: JoinOptions,
    /// Label of records that match nothing.
    pub normal: String,
    /// Parquet instead of CSV.
    pub parquet: bool,
    /// Labelling threads.
    pub workers: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dir: PathBuf::new(),
            out: PathBuf::new(),
            eve: Vec::new(),
            fast: Vec::new(),
            attacks: Vec::new(),
            zone: None,
            join: JoinOptions::default(),
            normal: "normal".into(),
            parquet: false,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    pub summary: Summary,
    /// The summary for a person (what `netcap label` prints on stderr).
    pub summary_text: String,
    /// Files written, in OUT.
    pub written: Vec<PathBuf>,
    /// Some input was damaged (truncated record files, records that do not
    /// decode): every readable record was labelled.
    pub damaged: bool,
}

/// Reads every ground-truth file of `options`.
pub fn read_ground_truth(options: &Options) -> Result<GroundTruth, LabelError> {
    let mut truth = GroundTruth::default();
    for path in &options.eve {
        eve::read(path, || File::open(path), &mut truth)?;
    }
    let utc = TimeZone::UTC;
    for path in &options.fast {
        let input = File::open(path).map_err(|e| LabelError::io(path, e))?;
        fastlog::read(path, input, options.zone.as_ref().unwrap_or(&utc), &mut truth)?;
    }
    for path in &options.attacks {
        schedule::read(path, options.zone.as_ref(), &mut truth)?;
    }
    if truth.alerts.len() >= u32::MAX as usize || truth.windows.len() >= u32::MAX as usize {
        return Err(LabelError::Options("more than 4 billion alerts or windows".into()));
    }
    Ok(truth)
}

/// Record files of DIR by type, in schema order, each type's files by name.
fn discover(dir: &Path) -> Result<Vec<(RecordType, Vec<PathBuf>)>, LabelError> {
    let entries = std::fs::read_dir(dir).map_err(|e| LabelError::io(dir, e))?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| LabelError::io(dir, e))?;
        let path = entry.path();
        if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(FILE_EXTENSION)) && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    let mut by_type: BTreeMap<usize, (RecordType, Vec<PathBuf>)> = BTreeMap::new();
    for path in paths {
        let record_type = RecordReader::open(&path)?.record_type();
        by_type.entry(record_type.index()).or_insert_with(|| (record_type, Vec::new())).1.push(path);
    }
    Ok(by_type.into_values().collect())
}

/// A label as written: label, source, detail. Id 0 is the normal label.
struct Labels {
    rows: Vec<[String; 3]>,
    ids: Map<[String; 3], u32>,
}

impl Labels {
    fn new(normal: &str) -> Labels {
        let normal = [normal.to_owned(), String::new(), String::new()];
        let mut ids = Map::default();
        ids.insert(normal.clone(), 0);
        Labels { rows: vec![normal], ids }
    }

    fn intern(&mut self, row: [String; 3]) -> u32 {
        if let Some(&id) = self.ids.get(&row) {
            return id;
        }
        let id = self.rows.len() as u32;
        self.rows.push(row.clone());
        self.ids.insert(row, id);
        id
    }

    fn get(&self, id: u32) -> [&str; 3] {
        let row = self.rows.get(id as usize).unwrap_or(&self.rows[0]);
        [&row[0], &row[1], &row[2]]
    }
}

/// A labelled connection's span.
#[derive(Clone, Copy)]
struct Span {
    first: i64,
    last: i64,
    label: u32,
}

/// Labelled connections by community ID and by endpoints, for the other
/// record types. Bounded by [`MAX_LABELLED_CONNECTIONS`].
#[derive(Default)]
struct ConnIndex {
    by_community_id: Map<Box<str>, Vec<Span>>,
    by_endpoints: Map<FlowKey, Vec<Span>>,
    entries: usize,
    dropped: u64,
}

impl ConnIndex {
    fn add(&mut self, community_id: Option<&str>, endpoints: Option<FlowKey>, span: Span) {
        if self.entries >= MAX_LABELLED_CONNECTIONS {
            self.dropped += 1;
            return;
        }
        self.entries += 1;
        if let Some(id) = community_id {
            self.by_community_id.entry(id.into()).or_default().push(span);
        }
        if let Some(key) = endpoints {
            self.by_endpoints.entry(key).or_default().push(span);
        }
    }

    /// The label of the labelled connection a record belongs to, or 0.
    fn lookup(&self, j: &Joined<'_>) -> u32 {
        let spans = if !j.community_id.is_empty() {
            self.by_community_id.get(j.community_id)
        } else {
            match (ip_from_bytes(j.src_ip), ip_from_bytes(j.dst_ip)) {
                (Some(src), Some(dst)) => self.by_endpoints.get(&FlowKey::new(0, (src, j.src_port), (dst, j.dst_port))),
                _ => None,
            }
        };
        spans
            .and_then(|spans| spans.iter().find(|s| s.first <= j.time_ns && j.time_ns <= s.last))
            .map_or(0, |s| s.label)
    }
}

/// How the records of one type are read and written.
#[derive(Clone, Copy)]
struct Shape<'a> {
    columns: &'a CsvColumns,
    /// Parquet output, or CSV if `None`.
    table: Option<&'a ArrowTable>,
    layout: &'a JoinLayout,
    quoting: &'a [bool],
}

impl<'a> Shape<'a> {
    /// An empty row buffer for `chunk`.
    fn rows(&self, chunk: &Chunk) -> RowBuf<'a> {
        RowBuf::new(self.table.is_some(), self.columns.len(), self.quoting, chunk.len(), chunk.bytes())
    }
}

/// Rows of a chunk, in the output's form.
enum Rows {
    Csv(Vec<u8>),
    Batch(RecordBatch),
}

/// Rows being built by a worker.
struct RowBuf<'q> {
    csv: Vec<u8>,
    /// Columns whose cells may need quoting ([`output::quoting_columns`]).
    quoting: &'q [bool],
    /// Parquet: the cells of each column, then the three label columns
    /// (texts back to back: no allocation per cell).
    columns: Vec<CellColumn>,
}

impl<'q> RowBuf<'q> {
    /// Rows for `records` records of `bytes` protobuf bytes: CSV text is
    /// reserved at once (about 1.2 times the protobuf for Connection
    /// records), not grown by copying.
    fn new(parquet: bool, columns: usize, quoting: &'q [bool], records: usize, bytes: usize) -> RowBuf<'q> {
        let csv = if parquet { Vec::new() } else { Vec::with_capacity(bytes + bytes / 2 + records * 64) };
        RowBuf {
            csv,
            quoting,
            columns: if parquet {
                (0..columns + LABEL_COLUMNS.len()).map(|_| CellColumn::with_capacity(records)).collect()
            } else {
                Vec::new()
            },
        }
    }

    fn push(&mut self, cells: &[Vec<u8>], label: [&str; 3], parquet: bool) {
        if parquet {
            let cells = cells.iter().map(Vec::as_slice).chain(label.iter().map(|l| l.as_bytes()));
            for (column, cell) in self.columns.iter_mut().zip(cells) {
                column.push(cell);
            }
        } else {
            push_csv_row(&mut self.csv, cells, self.quoting, label);
        }
    }

    fn finish(self, table: Option<&ArrowTable>) -> Result<Rows, String> {
        match table {
            Some(table) => table.batch(&self.columns).map(Rows::Batch),
            None => Ok(Rows::Csv(self.csv)),
        }
    }
}

/// One record type's output file, being written in the temporary directory.
enum TableWriter {
    Csv(BufWriter<File>),
    Parquet(Box<parquet::arrow::ArrowWriter<File>>),
}

impl TableWriter {
    fn create(path: &Path, columns: &CsvColumns, table: Option<&ArrowTable>) -> Result<TableWriter, LabelError> {
        let file = File::create(path).map_err(|e| LabelError::output(path, e))?;
        match table {
            None => {
                let mut out = BufWriter::with_capacity(1 << 20, file);
                out.write_all(&csv_header(columns)).map_err(|e| LabelError::output(path, e))?;
                Ok(TableWriter::Csv(out))
            }
            Some(table) => {
                use parquet::basic::{Compression, ZstdLevel};
                use parquet::file::properties::WriterProperties;
                use parquet::schema::types::ColumnPath;
                // Dictionaries only where values repeat (labels); elsewhere
                // they cost a hash per value for little gain.
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::try_new(1).unwrap_or_default()))
                    .set_dictionary_enabled(false)
                    .set_column_dictionary_enabled(ColumnPath::from("label"), true)
                    .set_column_dictionary_enabled(ColumnPath::from("label_source"), true)
                    .build();
                let writer = parquet::arrow::ArrowWriter::try_new(file, table.schema(), Some(props))
                    .map_err(|e| LabelError::output(path, e))?;
                Ok(TableWriter::Parquet(Box::new(writer)))
            }
        }
    }

    fn write(&mut self, rows: Rows, path: &Path) -> Result<(), LabelError> {
        match (self, rows) {
            (TableWriter::Csv(out), Rows::Csv(bytes)) => out.write_all(&bytes).map_err(|e| LabelError::output(path, e)),
            (TableWriter::Parquet(out), Rows::Batch(batch)) => {
                out.write(&batch).map_err(|e| LabelError::output(path, e))
            }
            _ => Err(LabelError::output(path, "rows of the wrong format")),
        }
    }

    fn finish(self, path: &Path) -> Result<(), LabelError> {
        match self {
            TableWriter::Csv(out) => {
                let file = out.into_inner().map_err(|e| LabelError::output(path, e.error()))?;
                file.sync_all().map_err(|e| LabelError::output(path, e))
            }
            TableWriter::Parquet(out) => {
                let file = out.into_inner().map_err(|e| LabelError::output(path, e))?;
                file.sync_all().map_err(|e| LabelError::output(path, e))
            }
        }
    }
}

/// Per-worker scratch space.
struct Scratch {
    cells: Vec<Vec<u8>>,
    cell_scratch: CellScratch,
    matches: Vec<Match>,
    labelled: Labelled,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            cells: Vec::new(),
            cell_scratch: CellScratch::default(),
            matches: Vec::new(),
            labelled: Labelled::default(),
        }
    }
}

/// A labelled connection as a worker reports it: community ID, endpoints,
/// span and label (label, source, detail), for [`ConnIndex`].
type LabelledConn = (Option<Box<str>>, Option<FlowKey>, Span, [String; 3]);

/// What a worker reports for a chunk of connections.
struct ConnChunk {
    rows: Result<Rows, String>,
    normal: u64,
    labelled: Vec<LabelledConn>,
    alerts: Vec<u32>,
    windows: Vec<u32>,
    conflicts: Vec<Vec<String>>,
    attempted: u64,
    undecodable: Vec<(usize, u64)>,
}

/// What a worker reports for a chunk of other records.
struct RecordChunk {
    rows: Result<Rows, String>,
    /// Records per label id.
    counts: Vec<(u32, u64)>,
    frames: Vec<(u64, u32)>,
    undecodable: Vec<(usize, u64)>,
}

/// How the records of a type find their label.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Join {
    /// By community ID or endpoints and time, through labelled connections.
    Connection,
    /// By frame number, through labelled packets.
    Frame,
    /// Not at all (aggregates).
    None,
}

/// Labels the records in `options.dir` with the ground truth of `options`
/// and writes the tables and the summary into `options.out`. On error
/// nothing is left in OUT (outputs are written to a temporary directory
/// there and moved in at the end).
pub fn label(options: &Options) -> Result<Outcome, LabelError> {
    if options.eve.is_empty() && options.fast.is_empty() && options.attacks.is_empty() {
        return Err(LabelError::Options("no ground truth: give -eve, -fast or -attacks".into()));
    }
    if options.normal.trim().is_empty() {
        return Err(LabelError::Options("-normal must not be empty".into()));
    }
    let truth = read_ground_truth(options)?;
    let inputs = discover(&options.dir)?;
    let connection_type = [RecordType::Connection, RecordType::Flow]
        .into_iter()
        .find(|t| inputs.iter().any(|(r, _)| r == t))
        .ok_or_else(|| LabelError::File {
            file: options.dir.clone(),
            message: "no Connection or Flow records to label (netcap capture writes them unless told not to)".into(),
        })?;
    let created = !options.out.exists();
    std::fs::create_dir_all(&options.out).map_err(|e| LabelError::io(&options.out, e))?;
    let result = label_into(options, &truth, &inputs, connection_type);
    if result.is_err() && created {
        // Only what this run made, and only if it is empty.
        let _ = std::fs::remove_dir(&options.out);
    }
    result
}

fn label_into(
    options: &Options,
    truth: &GroundTruth,
    inputs: &[(RecordType, Vec<PathBuf>)],
    connection_type: RecordType,
) -> Result<Outcome, LabelError> {
    let tmp = tempfile::Builder::new()
        .prefix(".label-")
        .tempdir_in(&options.out)
        .map_err(|e| LabelError::output(&options.out, e))?;
    let joiner = Joiner::new(truth, options.join.clone());
    let mut summary = Summary {
        connection_type: connection_type.name().to_owned(),
        alert_hits: vec![0; truth.alerts.len()],
        window_hits: vec![0; truth.windows.len()],
        alerts_with_flow_event_ids: truth.ids_from_flow_events,
        ..Summary::default()
    };
    let mut labels = Labels::new(&options.normal);
    let mut conns = ConnIndex::default();
    let mut frames: Map<u64, u32> = Map::default();
    let mut written = Vec::new();
    let extension = if options.parquet { "parquet" } else { "csv" };
    let mut order: Vec<&(RecordType, Vec<PathBuf>)> = inputs.iter().filter(|(t, _)| *t == connection_type).collect();
    order.extend(inputs.iter().filter(|(t, _)| *t != connection_type));
    // Types joined by frame come last, once labelled frames are known.
    order.sort_by_key(|(t, _)| {
        if *t == connection_type {
            0
        } else if join_of(*t) == Join::Frame {
            2
        } else {
            1
        }
    });
    for (record_type, files) in order {
        let desc = record_type.descriptor().ok_or_else(|| LabelError::File {
            file: files.first().cloned().unwrap_or_default(),
            message: "no schema for this record type".into(),
        })?;
        let columns = CsvColumns::new(desc);
        let table = options.parquet.then(|| ArrowTable::new(&columns));
        let layout = JoinLayout::new(desc);
        let quoting = output::quoting_columns(&columns);
        let shape = Shape { columns: &columns, table: table.as_ref(), layout: &layout, quoting: &quoting };
        let name = format!("{}_labeled.{extension}", record_type.name());
        let path = tmp.path().join(&name);
        let mut writer = TableWriter::create(&path, &columns, table.as_ref())?;
        let type_name = record_type.name().to_owned();
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        let mut undecodable: Vec<(usize, u64)> = Vec::new();
        let damaged = if *record_type == connection_type {
            let work = |s: &mut Scratch, chunk: &Chunk| label_connections(chunk, s, &shape, &joiner, &options.normal);
            pipeline::run(files, options.workers, Scratch::new, work, |out: ConnChunk| {
                writer.write(out.rows.map_err(|e| LabelError::output(&path, e))?, &path)?;
                *counts.entry(options.normal.clone()).or_default() += out.normal;
                for (community_id, endpoints, span, label) in out.labelled {
                    *counts.entry(label[0].clone()).or_default() += 1;
                    let id = labels.intern(label);
                    conns.add(community_id.as_deref(), endpoints, Span { label: id, ..span });
                }
                for a in out.alerts {
                    if let Some(h) = summary.alert_hits.get_mut(a as usize) {
                        *h = h.saturating_add(1);
                    }
                }
                for w in out.windows {
                    if let Some(h) = summary.window_hits.get_mut(w as usize) {
                        *h = h.saturating_add(1);
                    }
                }
                summary.conflicts += out.conflicts.len() as u64;
                for combination in out.conflicts {
                    let known = summary.conflict_combinations.len();
                    match summary.conflict_combinations.get_mut(&combination) {
                        Some(n) => *n += 1,
                        None if known < summary::MAX_CONFLICT_COMBINATIONS => {
                            summary.conflict_combinations.insert(combination, 1);
                        }
                        None => summary.conflict_combinations_dropped += 1,
                    }
                }
                summary.attempted += out.attempted;
                undecodable.extend(out.undecodable);
                Ok(())
            })?
        } else {
            let join = join_of(*record_type);
            let (conns_ref, frames_ref, labels_ref) = (&conns, &frames, &labels);
            let work = |s: &mut Scratch, chunk: &Chunk| {
                label_records(chunk, s, &shape, join, conns_ref, frames_ref, labels_ref)
            };
            let mut frame_updates: Vec<(u64, u32)> = Vec::new();
            let mut per_id: Map<u32, u64> = Map::default();
            let damaged = pipeline::run(files, options.workers, Scratch::new, work, |out: RecordChunk| {
                writer.write(out.rows.map_err(|e| LabelError::output(&path, e))?, &path)?;
                for (id, n) in out.counts {
                    *per_id.entry(id).or_default() += n;
                }
                frame_updates.extend(out.frames);
                undecodable.extend(out.undecodable);
                Ok(())
            })?;
            for (id, n) in per_id {
                *counts.entry(labels.get(id)[0].to_owned()).or_default() += n;
            }
            for (frame, id) in frame_updates {
                if frames.len() < MAX_LABELLED_FRAMES || frames.contains_key(&frame) {
                    frames.entry(frame).or_insert(id);
                } else {
                    summary.frames_dropped += 1;
                }
            }
            damaged
        };
        writer.finish(&path)?;
        for e in damaged {
            summary.damaged.push(e.to_string());
        }
        for (file, record) in &undecodable {
            let file = files.get(*file).map(|f| f.display().to_string()).unwrap_or_default();
            summary.damaged.push(format!("{file}: record {record} does not decode as {type_name}; left out"));
        }
        if !undecodable.is_empty() {
            summary.undecodable.insert(type_name.clone(), undecodable.len() as u64);
        }
        summary.records.insert(type_name, counts);
        written.push(name);
    }
    summary.labelled_connections_dropped = conns.dropped;
    let joinable =
        |a: &truth::Alert| a.community_id.is_some() || (a.proto.is_some() && a.src.is_some() && a.dst.is_some());
    let json = summary.to_json(truth, joinable);
    let summary_path = tmp.path().join(SUMMARY_FILE);
    let text = serde_json::to_string_pretty(&json).map_err(|e| LabelError::output(&summary_path, e))?;
    std::fs::write(&summary_path, text + "\n").map_err(|e| LabelError::output(&summary_path, e))?;
    written.push(SUMMARY_FILE.to_owned());
    // Everything is written: move it in.
    let mut moved = Vec::new();
    for name in &written {
        let to = options.out.join(name);
        std::fs::rename(tmp.path().join(name), &to).map_err(|e| LabelError::output(&to, e))?;
        moved.push(to);
    }
    let damaged = !summary.damaged.is_empty();
    let summary_text = summary.text(truth);
    Ok(Outcome { summary, summary_text, written: moved, damaged })
}

fn join_of(record_type: RecordType) -> Join {
    let Some(desc) = record_type.descriptor() else { return Join::None };
    let layout = JoinLayout::new(desc);
    if layout.has_community_id || layout.has_addresses {
        Join::Connection
    } else if AGGREGATE_TYPES.contains(&record_type.name()) {
        Join::None
    } else {
        Join::Frame
    }
}

fn label_connections(
    chunk: &Chunk,
    s: &mut Scratch,
    shape: &Shape<'_>,
    joiner: &Joiner<'_>,
    normal: &str,
) -> ConnChunk {
    let Shape { columns, table, layout, .. } = *shape;
    let parquet = table.is_some();
    let mut rows = shape.rows(chunk);
    let mut out = ConnChunk {
        rows: Ok(Rows::Csv(Vec::new())),
        normal: 0,
        labelled: Vec::new(),
        alerts: Vec::new(),
        windows: Vec::new(),
        conflicts: Vec::new(),
        attempted: 0,
        undecodable: Vec::new(),
    };
    for (k, bytes) in chunk.records().enumerate() {
        let record = chunk.first_record + k as u64;
        let Some(joined) = layout.read(bytes) else {
            out.undecodable.push((chunk.file, record));
            continue;
        };
        if columns.cells_from_bytes(bytes, &mut s.cells, &mut s.cell_scratch).is_err() {
            out.undecodable.push((chunk.file, record));
            continue;
        }
        let conn = Conn::from_joined(&joined);
        joiner.matches(&conn, &mut s.matches);
        if !joiner.label(&conn, &s.matches, &mut s.labelled) {
            out.normal += 1;
            rows.push(&s.cells, [normal, "", ""], parquet);
            continue;
        }
        let l = &s.labelled;
        rows.push(&s.cells, [&l.label, l.source, &l.detail], parquet);
        for m in &s.matches {
            match *m {
                Match::Alert(i) => out.alerts.push(i),
                Match::Window(i) => out.windows.push(i),
            }
        }
        if l.conflict {
            out.conflicts.push(l.labels.clone());
        }
        out.attempted += u64::from(l.attempted);
        let endpoints = match (conn.src, conn.dst) {
            (Some(src), Some(dst)) => Some(FlowKey::new(0, src, dst)),
            _ => None,
        };
        let community_id = (!joined.community_id.is_empty()).then(|| joined.community_id.into());
        out.labelled.push((
            community_id,
            endpoints,
            Span { first: conn.first_ns, last: conn.last_ns, label: 0 },
            [l.label.clone(), l.source.to_owned(), l.detail.clone()],
        ));
    }
    out.rows = rows.finish(table);
    out
}

fn label_records(
    chunk: &Chunk,
    s: &mut Scratch,
    shape: &Shape<'_>,
    join: Join,
    conns: &ConnIndex,
    frames: &Map<u64, u32>,
    labels: &Labels,
) -> RecordChunk {
    let Shape { columns, table, layout, .. } = *shape;
    let parquet = table.is_some();
    let mut rows = shape.rows(chunk);
    let mut counts: Map<u32, u64> = Map::default();
    let mut out = RecordChunk {
        rows: Ok(Rows::Csv(Vec::new())),
        counts: Vec::new(),
        frames: Vec::new(),
        undecodable: Vec::new(),
    };
    for (k, bytes) in chunk.records().enumerate() {
        let record = chunk.first_record + k as u64;
        let Some(joined) = layout.read(bytes) else {
            out.undecodable.push((chunk.file, record));
            continue;
        };
        if columns.cells_from_bytes(bytes, &mut s.cells, &mut s.cell_scratch).is_err() {
            out.undecodable.push((chunk.file, record));
            continue;
        }
        let id = match join {
            Join::Connection => conns.lookup(&joined),
            Join::Frame => frames.get(&joined.frame).copied().unwrap_or(0),
            Join::None => 0,
        };
        if id != 0 && join == Join::Connection && joined.frame != 0 {
            out.frames.push((joined.frame, id));
        }
        *counts.entry(id).or_default() += 1;
        rows.push(&s.cells, labels.get(id), parquet);
    }
    out.counts = counts.into_iter().collect();
    out.rows = rows.finish(table);
    out
}

/// Fuzzing entry point for every ground-truth parser and the join-field
/// reader.
pub fn fuzz_entry(data: &[u8]) {
    eve::fuzz_entry(data);
    fastlog::fuzz_entry(data);
    schedule::fuzz_entry(data);
    wire::fuzz_entry(data);
}
