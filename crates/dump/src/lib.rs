//! Printing netcap record files: the library behind `netcap dump`.
//!
//! One code path serves every record type: each record is decoded into a
//! [`prost_reflect::DynamicMessage`] with the descriptor of the header's
//! record type, and the formats walk the descriptor's fields. A message type
//! added to `proto/netcap.proto` therefore needs no code here.
//!
//! The formats and the CSV rendering rules are a documented contract:
//! see `docs/dump.md`.
//!
//! ```no_run
//! use netcap_dump::{DumpError, DumpOptions, Format, dump};
//! use netcap_records::RecordReader;
//!
//! let reader = RecordReader::open("TCP.ncap.zst".as_ref())?;
//! let opts = DumpOptions { format: Format::Csv, ..Default::default() };
//! match dump(reader, &opts, &mut std::io::stdout().lock()) {
//!     Err(e) if e.is_broken_pipe() => {} // `| head` closed the pipe
//!     other => { other?; }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod address;
mod defaults;
mod fast;
mod header;
mod names;
mod render;
mod schema;
mod sink;

use netcap_records::{ReadError, RecordReader, RecordType};
use prost_reflect::{DynamicMessage, MessageDescriptor, SerializeOptions};
use schema::Layout;
pub use schema::Naming;
use sink::{Context, DelimitedSink, JsonSink, Sink, TableFit, TableSink, TextSink};
use std::fmt;
use std::io::{self, BufWriter, Read, Write};
use std::str::FromStr;

pub use sink::{MAX_WIDTH as TABLE_MAX_WIDTH, SAMPLE_ROWS as TABLE_SAMPLE_ROWS};

/// The CSV columns of a record type and their cells, exactly as `dump`'s
/// CSV format writes them (docs/dump.md), for tools that write their own
/// tables of records with extra columns (`netcap label`).
pub struct CsvColumns {
    desc: MessageDescriptor,
    columns: Vec<schema::Column>,
    layout: Layout,
    walk: fast::Walk,
}

impl CsvColumns {
    /// Every top-level field of `desc`, in declaration order.
    pub fn new(desc: &MessageDescriptor) -> Self {
        let layout = Layout::new(desc, Naming::ProtoEnums);
        let columns: Vec<schema::Column> =
            layout.fields(desc).iter().cloned().map(|f| schema::Column::new(f, &layout)).collect();
        let walk = fast::Walk::new(&columns);
        CsvColumns { desc: desc.clone(), columns, layout, walk }
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True if the message has no fields.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// The field behind column `i` (its name is the column's header).
    /// Panics if `i` is not below [`CsvColumns::len`].
    pub fn field(&self, i: usize) -> &prost_reflect::FieldDescriptor {
        &self.columns[i].field
    }

    /// Whether column `i` holds addresses (`bytes` shown as IP or MAC text).
    pub fn is_address(&self, i: usize) -> bool {
        self.columns[i].show.address.is_some()
    }

    /// Whether column `i` holds a Unix time in nanoseconds (docs/dump.md).
    pub fn is_time(&self, i: usize) -> bool {
        self.columns[i].time
    }

    /// Appends the CSV cell of column `i` of `msg` to `buf` (unquoted: the
    /// CSV writer quotes).
    pub fn cell(&self, i: usize, msg: &DynamicMessage, buf: &mut Vec<u8>) {
        render::csv_cell(buf, msg, &self.columns[i], &self.layout);
    }

    /// Renders every cell of the record encoded in `bytes` into `cells`
    /// (resized to [`CsvColumns::len`], each cleared first): the cells of
    /// [`CsvColumns::cell`] on the decoded record, without decoding a
    /// `DynamicMessage` when the record's fields are scalars or lists of
    /// scalars. `scratch` is reused between calls. Fails where decoding
    /// fails.
    pub fn cells_from_bytes(
        &self,
        bytes: &[u8],
        cells: &mut Vec<Vec<u8>>,
        scratch: &mut CellScratch,
    ) -> Result<(), prost::DecodeError> {
        cells.resize_with(self.columns.len(), Vec::new);
        if self.walk.cells(bytes, cells, &mut scratch.seen) {
            return Ok(());
        }
        let msg = DynamicMessage::decode(self.desc.clone(), bytes)?;
        for (i, cell) in cells.iter_mut().enumerate() {
            cell.clear();
            self.cell(i, &msg, cell);
        }
        Ok(())
    }
}

/// Reusable state of [`CsvColumns::cells_from_bytes`].
#[derive(Default)]
pub struct CellScratch {
    seen: Vec<bool>,
}

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Format {
    /// One `Type key=value ...` line per record, default fields left out.
    #[default]
    Text,
    /// Comma-separated values with a header line.
    Csv,
    /// Tab-separated values with a header line.
    Tsv,
    /// One JSON object per line.
    Json,
    /// Aligned columns with a header line.
    Table,
}

impl Format {
    /// Every format, in the order of [`Format::name`]s shown to users.
    pub const ALL: [Format; 5] = [Format::Text, Format::Csv, Format::Tsv, Format::Json, Format::Table];

    /// Lower-case name, as accepted by [`FromStr`].
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Table => "table",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A format name that is not one of [`Format::ALL`].
#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?} (expected text, csv, tsv, json or table)")]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::ALL.into_iter().find(|f| f.name().eq_ignore_ascii_case(s)).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// What to print and how.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DumpOptions {
    pub format: Format,
    /// Only these fields, in this order (proto field names; `timestamp` is
    /// accepted for `timestamp_ns`). `None` prints every field.
    pub select: Option<Vec<String>>,
    /// Field separator for CSV and TSV instead of `,` or tab.
    pub separator: Option<u8>,
    /// Print the record type's fields (name, type, comment) instead of records.
    pub list_fields: bool,
    /// Print the file's header instead of records. Wins over `list_fields`.
    pub header_only: bool,
    /// Codes and enum values by name (the default) or as numbers.
    pub naming: Naming,
    /// The table format without a selection: every column, rather than the
    /// record type's default set that fits [`DumpOptions::width`].
    pub all_columns: bool,
    /// Characters a table line may take (the terminal's width); `None` for
    /// no limit.
    pub width: Option<usize>,
}

/// What a successful dump did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DumpSummary {
    pub record_type: RecordType,
    /// Records printed.
    pub records: u64,
}

/// Why a dump stopped. Output that was already produced has been flushed.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The input is unreadable, truncated or corrupt; every complete record
    /// before the problem was printed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// The input is damaged: the records of every undamaged frame were
    /// printed, none of a damaged one. `errors` lists the damage in file
    /// order (at most [`MAX_DAMAGE_REPORTS`]; `more` counts the rest).
    #[error("{}{}", errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"),
        if *more > 0 { format!("\n... and {more} more damaged frames") } else { String::new() })]
    Damaged { errors: Vec<ReadError>, more: u64 },
    /// A record's bytes do not decode as its type's message.
    #[error("record {record} does not decode as {message}: {source}")]
    Decode { record: u64, message: String, source: prost::DecodeError },
    /// Writing the output failed; see [`DumpError::is_broken_pipe`].
    #[error("writing output: {0}")]
    Output(io::Error),
    #[error("{record_type} has no field {name:?}; its fields are: {}", valid.join(", "))]
    UnknownField { name: String, record_type: String, valid: Vec<String> },
    #[error("no fields selected")]
    EmptySelection,
    #[error("{0:?} cannot separate fields (it is a quote or line break)")]
    BadSeparator(char),
    /// The header names a record type this build's schema does not describe.
    #[error("no schema for record type {0}")]
    NoSchema(i32),
    #[error("JSON encoding failed: {0}")]
    Json(serde_json::Error),
}

impl DumpError {
    /// True if the reader of the output went away (`netcap dump | head`),
    /// which a command line tool should treat as a quiet, successful end.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, DumpError::Output(e) if e.kind() == io::ErrorKind::BrokenPipe)
    }
}

/// Damage reports kept by [`dump`]; a file damaged all over is summed up.
pub const MAX_DAMAGE_REPORTS: usize = 100;

/// Output buffer; dump buffers itself, so callers can pass stdout as is.
const OUTPUT_BUFFER: usize = 64 << 10;

/// Prints `reader`'s records (or its header, or its field list) to `out`.
///
/// `out` need not be buffered: dump buffers internally and flushes before
/// returning, on errors too. A read or decode error is returned after every
/// record before it was written; an output error ([`DumpError::Output`])
/// stops at once.
pub fn dump<R: Read>(
    mut reader: RecordReader<R>,
    opts: &DumpOptions,
    out: &mut dyn Write,
) -> Result<DumpSummary, DumpError> {
    let record_type = reader.record_type();
    let mut summary = DumpSummary { record_type, records: 0 };
    if opts.header_only {
        header::write_header(out, reader.header(), opts.format)?;
        out.flush().map_err(DumpError::Output)?;
        return Ok(summary);
    }
    let desc = record_type.descriptor().ok_or(DumpError::NoSchema(reader.header().record_type))?.clone();
    let layout = Layout::new(&desc, opts.naming);
    if opts.list_fields {
        schema::write_field_list(out, &desc, &layout).map_err(DumpError::Output)?;
        out.flush().map_err(DumpError::Output)?;
        return Ok(summary);
    }
    // A table without a selection shows the type's default columns that fit.
    let fitted = opts.format == Format::Table && opts.select.is_none() && !opts.all_columns;
    let defaults = fitted.then(|| defaults::table_columns(record_type.name())).flatten();
    let columns = match defaults {
        Some(names) => {
            let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
            schema::columns(&desc, &layout, Some(&names))?
        }
        None => schema::columns(&desc, &layout, opts.select.as_deref())?,
    };
    let cx = Context {
        type_name: record_type.name(),
        columns,
        selected: opts.select.is_some(),
        layout,
        table_fit: fitted.then_some(TableFit { width: opts.width, hide_blank: defaults.is_none() }),
    };
    let mut sink: Box<dyn Sink + '_> = match opts.format {
        Format::Text => Box::new(TextSink::new(buffered(out), &cx)),
        Format::Json => Box::new(JsonSink::new(buffered(out), &cx)),
        Format::Table => Box::new(TableSink::new(buffered(out), &cx)),
        // The csv writer has its own buffer.
        Format::Csv => Box::new(DelimitedSink::new(&mut *out, separator(opts.separator, b',')?, &cx)?),
        Format::Tsv => Box::new(DelimitedSink::new(&mut *out, separator(opts.separator, b'\t')?, &cx)?),
    };
    let pumped = pump(&mut reader, &desc, sink.as_mut(), &mut summary.records);
    // Flush what was printed before reporting a read error; an output error
    // wins, since the caller treats it (BrokenPipe) specially.
    let finished = sink.finish();
    match (pumped, finished) {
        (Err(e @ DumpError::Output(_)), _) => Err(e),
        (_, Err(e)) => Err(e),
        (Err(e), Ok(())) => Err(e),
        (Ok(()), Ok(())) => Ok(summary),
    }
}

fn buffered(out: &mut dyn Write) -> BufWriter<&mut dyn Write> {
    BufWriter::with_capacity(OUTPUT_BUFFER, out)
}

/// Feeds every record to the sink, counting them in `records`. A damaged
/// frame is skipped (the reader never returns its records) and reading goes
/// on; the damage is returned at the end.
fn pump<R: Read>(
    reader: &mut RecordReader<R>,
    desc: &MessageDescriptor,
    sink: &mut dyn Sink,
    records: &mut u64,
) -> Result<(), DumpError> {
    let mut errors = Vec::new();
    let mut more = 0u64;
    loop {
        let bytes = match reader.next_raw() {
            Ok(Some(bytes)) => bytes,
            Ok(None) => break,
            Err(e) => {
                let recoverable = e.is_recoverable();
                if errors.len() < MAX_DAMAGE_REPORTS {
                    errors.push(e);
                } else {
                    more += 1;
                }
                if recoverable {
                    continue;
                }
                break;
            }
        };
        let msg = DynamicMessage::decode(desc.clone(), bytes).map_err(|source| DumpError::Decode {
            record: *records + 1,
            message: desc.full_name().to_owned(),
            source,
        })?;
        sink.record(&msg)?;
        *records += 1;
    }
    if errors.is_empty() { Ok(()) } else { Err(DumpError::Damaged { errors, more }) }
}

fn separator(requested: Option<u8>, default: u8) -> Result<u8, DumpError> {
    match requested.unwrap_or(default) {
        b @ (b'"' | b'\n' | b'\r') => Err(DumpError::BadSeparator(char::from(b))),
        b => Ok(b),
    }
}

/// JSON rendering shared by records and headers: proto field names, 64-bit
/// integers as numbers, enums by name, default fields included.
pub(crate) fn json_options() -> SerializeOptions {
    SerializeOptions::new()
        .use_proto_field_name(true)
        .stringify_64_bit_integers(false)
        .use_enum_numbers(false)
        .skip_default_fields(false)
}

#[cfg(test)]
mod tests;
