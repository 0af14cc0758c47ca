//! JSON lines: one object per record, proto field names, defaults included.

use super::{Context, Sink, output};
use crate::{DumpError, json_options};
use prost_reflect::{DynamicMessage, SerializeOptions};
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::io::Write;

pub(crate) struct JsonSink<'a, W: Write> {
    out: W,
    cx: &'a Context,
    options: SerializeOptions,
    /// The whole message as JSON.
    object: Vec<u8>,
    /// The selected fields re-assembled in selection order.
    line: Vec<u8>,
}

impl<'a, W: Write> JsonSink<'a, W> {
    pub(crate) fn new(out: W, cx: &'a Context) -> Self {
        JsonSink { out, cx, options: json_options(), object: Vec::with_capacity(1024), line: Vec::with_capacity(1024) }
    }

    /// Rebuilds `self.object` with only the selected keys, in selection
    /// order. Going through prost-reflect's serializer (rather than a second
    /// JSON writer here) keeps every value's rendering identical to the
    /// unselected output.
    fn select(&mut self) -> Result<(), DumpError> {
        // Raw values keep prost-reflect's exact text, nested key order included.
        let all: BTreeMap<String, &RawValue> = serde_json::from_slice(&self.object).map_err(DumpError::Json)?;
        self.line.clear();
        self.line.push(b'{');
        let mut first = true;
        for column in &self.cx.columns {
            let name = column.field.name();
            // Absent optional fields are omitted, as without a selection.
            let Some(value) = all.get(name) else {
                continue;
            };
            if !first {
                self.line.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut self.line, name).map_err(DumpError::Json)?;
            self.line.push(b':');
            self.line.extend_from_slice(value.get().as_bytes());
        }
        self.line.push(b'}');
        std::mem::swap(&mut self.object, &mut self.line);
        Ok(())
    }
}

impl<W: Write> Sink for JsonSink<'_, W> {
    fn record(&mut self, msg: &DynamicMessage) -> Result<(), DumpError> {
        self.object.clear();
        let mut serializer = serde_json::Serializer::new(&mut self.object);
        msg.serialize_with_options(&mut serializer, &self.options).map_err(DumpError::Json)?;
        if self.cx.selected {
            self.select()?;
        }
        self.object.push(b'\n');
        self.out.write_all(&self.object).map_err(output)
    }

    fn finish(&mut self) -> Result<(), DumpError> {
        self.out.flush().map_err(output)
    }
}
