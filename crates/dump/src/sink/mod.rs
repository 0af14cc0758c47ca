//! One sink per output format; all of them see records as `DynamicMessage`s.

mod delimited;
mod json;
mod table;
mod text;

pub(crate) use delimited::DelimitedSink;
pub(crate) use json::JsonSink;
pub(crate) use table::TableSink;
pub use table::{MAX_WIDTH, SAMPLE_ROWS};
pub(crate) use text::TextSink;

use crate::DumpError;
use crate::schema::{Column, Layout};
use prost_reflect::DynamicMessage;

/// What every sink needs to know about the record type being dumped.
pub(crate) struct Context {
    /// Record type name that starts each text line ("TCP").
    pub(crate) type_name: &'static str,
    pub(crate) columns: Vec<Column>,
    /// Whether the columns come from an explicit selection.
    pub(crate) selected: bool,
    pub(crate) layout: Layout,
    /// The table format shows a default set of columns: those that fit.
    pub(crate) table_fit: Option<TableFit>,
}

/// How the table format picks the columns it shows from its sample rows.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableFit {
    /// Characters a line may take; `None`: any number.
    pub(crate) width: Option<usize>,
    /// Leave out columns with nothing to say (`0`, `false`, empty) in every
    /// sampled row, not only those empty in every row.
    pub(crate) hide_blank: bool,
}

pub(crate) trait Sink {
    fn record(&mut self, msg: &DynamicMessage) -> Result<(), DumpError>;
    /// Writes anything still held back and flushes the output.
    fn finish(&mut self) -> Result<(), DumpError>;
}

pub(crate) fn output(e: std::io::Error) -> DumpError {
    DumpError::Output(e)
}
