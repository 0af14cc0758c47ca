//! The text format: one `key=value` line per record.

use super::{Context, Sink, output};
use crate::DumpError;
use crate::render::{StrStyle, text_field};
use prost_reflect::DynamicMessage;
use std::io::Write;

pub(crate) struct TextSink<'a, W: Write> {
    out: W,
    cx: &'a Context,
    line: Vec<u8>,
}

impl<'a, W: Write> TextSink<'a, W> {
    pub(crate) fn new(out: W, cx: &'a Context) -> Self {
        TextSink { out, cx, line: Vec::with_capacity(512) }
    }
}

impl<W: Write> Sink for TextSink<'_, W> {
    fn record(&mut self, msg: &DynamicMessage) -> Result<(), DumpError> {
        self.line.clear();
        self.line.extend_from_slice(self.cx.type_name.as_bytes());
        for column in &self.cx.columns {
            // Defaults are noise on a log line; but a field the user selected
            // by name is shown even when default, unless absent.
            let shown = if self.cx.selected { !column.is_absent(msg) } else { msg.has_field(&column.field) };
            if !shown {
                continue;
            }
            self.line.push(b' ');
            self.line.extend_from_slice(column.label.as_bytes());
            self.line.push(b'=');
            text_field(
                &mut self.line,
                column.time,
                &column.value(msg),
                &column.kind,
                column.show,
                StrStyle::Quoted,
                true,
                &self.cx.layout,
            );
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line).map_err(output)
    }

    fn finish(&mut self) -> Result<(), DumpError> {
        self.out.flush().map_err(output)
    }
}
