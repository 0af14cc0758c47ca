//! The table format: aligned columns under a header line.
//!
//! Records stream, so column widths come from the header and the first
//! [`SAMPLE_ROWS`] rows and then stay fixed; a later, wider value is printed
//! whole and shifts the rest of its line. Widths are capped at
//! [`MAX_WIDTH`] so one long value (a payload) does not pad every row.

use super::{Context, Sink, TableFit, output};
use crate::DumpError;
use crate::defaults::{is_blank, is_empty};
use crate::render::table_cell;
use prost_reflect::DynamicMessage;
use std::io::Write;

/// Rows buffered before the column widths are fixed.
pub const SAMPLE_ROWS: usize = 1000;
/// Widest a column is padded to.
pub const MAX_WIDTH: usize = 40;
const GAP: &[u8] = b"  ";

pub(crate) struct TableSink<'a, W: Write> {
    out: W,
    cx: &'a Context,
    /// Rendered rows waiting for the widths (only until they are known).
    pending: Vec<Vec<Vec<u8>>>,
    widths: Option<Vec<usize>>,
    /// The columns shown, by index into the context's columns.
    visible: Vec<usize>,
    cells: Vec<Vec<u8>>,
    line: Vec<u8>,
}

impl<'a, W: Write> TableSink<'a, W> {
    pub(crate) fn new(out: W, cx: &'a Context) -> Self {
        TableSink {
            out,
            cx,
            pending: Vec::new(),
            widths: None,
            visible: (0..cx.columns.len()).collect(),
            cells: vec![Vec::new(); cx.columns.len()],
            line: Vec::with_capacity(512),
        }
    }

    /// Fixes the widths from the header and pending rows, then prints both.
    fn flush_pending(&mut self) -> Result<(), DumpError> {
        let mut widths: Vec<usize> = self.cx.columns.iter().map(|c| display_width(c.label.as_bytes())).collect();
        for row in &self.pending {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(display_width(cell).min(MAX_WIDTH));
            }
        }
        if let Some(fit) = self.cx.table_fit {
            self.visible = fitting_columns(&self.pending, &widths, fit);
        }
        let labels: Vec<&[u8]> = self.cx.columns.iter().map(|c| c.label.as_bytes()).collect();
        write_row(&mut self.line, &labels, &widths, &self.visible, self.cx);
        for row in std::mem::take(&mut self.pending) {
            write_row(&mut self.line, &row, &widths, &self.visible, self.cx);
        }
        self.widths = Some(widths);
        self.out.write_all(&self.line).map_err(output)?;
        self.line.clear();
        Ok(())
    }
}

impl<W: Write> Sink for TableSink<'_, W> {
    fn record(&mut self, msg: &DynamicMessage) -> Result<(), DumpError> {
        for (cell, column) in self.cells.iter_mut().zip(&self.cx.columns) {
            cell.clear();
            table_cell(cell, msg, column, &self.cx.layout);
        }
        match &self.widths {
            Some(widths) => {
                self.line.clear();
                write_row(&mut self.line, &self.cells, widths, &self.visible, self.cx);
                self.out.write_all(&self.line).map_err(output)
            }
            None => {
                self.pending.push(self.cells.clone());
                if self.pending.len() >= SAMPLE_ROWS {
                    self.flush_pending()?;
                }
                Ok(())
            }
        }
    }

    fn finish(&mut self) -> Result<(), DumpError> {
        if self.widths.is_none() {
            self.flush_pending()?;
        }
        self.out.flush().map_err(output)
    }
}

/// The columns a default table shows: those with something to say in the
/// sample, in order, as long as the line stays within the width (the first
/// column always).
fn fitting_columns(rows: &[Vec<Vec<u8>>], widths: &[usize], fit: TableFit) -> Vec<usize> {
    let says_something = |i: usize| {
        rows.iter().any(|row| row.get(i).is_some_and(|cell| !(is_empty(cell) || fit.hide_blank && is_blank(cell))))
    };
    let mut shown = Vec::new();
    let mut used = 0;
    for (i, width) in widths.iter().enumerate() {
        if !rows.is_empty() && !says_something(i) {
            continue;
        }
        let needed = if shown.is_empty() { *width } else { used + GAP.len() + width };
        if shown.is_empty() || fit.width.is_none_or(|limit| needed <= limit) {
            shown.push(i);
            used = needed;
        }
    }
    shown
}

/// Appends one padded line of the `visible` cells: numbers right-aligned,
/// the rest left-aligned, no trailing blanks.
fn write_row<C: AsRef<[u8]>>(line: &mut Vec<u8>, cells: &[C], widths: &[usize], visible: &[usize], cx: &Context) {
    let last = visible.len().saturating_sub(1);
    let shown = visible.iter().filter_map(|&i| Some((cells.get(i)?, widths.get(i)?, cx.columns.get(i)?)));
    for (i, (cell, width, column)) in shown.enumerate() {
        let cell = cell.as_ref();
        if i > 0 {
            line.extend_from_slice(GAP);
        }
        let pad = width.saturating_sub(display_width(cell));
        if column.numeric {
            line.resize(line.len() + pad, b' ');
            line.extend_from_slice(cell);
        } else {
            line.extend_from_slice(cell);
            if i != last {
                line.resize(line.len() + pad, b' ');
            }
        }
    }
    // A last column that is empty would otherwise leave the gap behind.
    while line.last() == Some(&b' ') {
        line.pop();
    }
    line.push(b'\n');
}

/// Characters in UTF-8 text: bytes that do not continue a character.
fn display_width(text: &[u8]) -> usize {
    text.iter().filter(|&&b| b & 0xc0 != 0x80).count()
}
