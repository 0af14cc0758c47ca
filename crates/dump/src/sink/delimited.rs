//! CSV and TSV: a header line of field names, then one row per record.

use super::{Context, Sink, output};
use crate::DumpError;
use crate::render::csv_cell;
use prost_reflect::DynamicMessage;
use std::io::{self, Write};

pub(crate) struct DelimitedSink<'a, W: Write> {
    out: csv::Writer<W>,
    cx: &'a Context,
    /// One reusable buffer per column.
    cells: Vec<Vec<u8>>,
}

impl<'a, W: Write> DelimitedSink<'a, W> {
    /// Writes the header line at once, so even a file without records gives
    /// a well-formed (empty) table.
    pub(crate) fn new(out: W, separator: u8, cx: &'a Context) -> Result<Self, DumpError> {
        let out = csv::WriterBuilder::new()
            .delimiter(separator)
            .quote_style(csv::QuoteStyle::Necessary)
            .buffer_capacity(64 << 10)
            .from_writer(out);
        let mut sink = DelimitedSink { out, cx, cells: vec![Vec::new(); cx.columns.len()] };
        sink.out.write_record(cx.columns.iter().map(|c| c.name.as_str())).map_err(csv_error)?;
        Ok(sink)
    }
}

impl<W: Write> Sink for DelimitedSink<'_, W> {
    fn record(&mut self, msg: &DynamicMessage) -> Result<(), DumpError> {
        for (cell, column) in self.cells.iter_mut().zip(&self.cx.columns) {
            cell.clear();
            csv_cell(cell, msg, column, &self.cx.layout);
        }
        self.out.write_record(&self.cells).map_err(csv_error)
    }

    fn finish(&mut self) -> Result<(), DumpError> {
        self.out.flush().map_err(output)
    }
}

/// Keeps the io::Error itself (csv's own conversion would hide its kind,
/// and callers look for BrokenPipe).
fn csv_error(e: csv::Error) -> DumpError {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => output(e),
        other => output(io::Error::other(format!("csv: {other:?}"))),
    }
}
