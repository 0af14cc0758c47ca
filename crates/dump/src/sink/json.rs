//! JSON lines: one object per record, proto field names, defaults included.

use super::{Context, Sink, output};
use crate::address::{address_kind, address_string};
use crate::{DumpError, json_options};
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions, Value};
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
    /// The record type has address fields (at any depth).
    has_addresses: bool,
}

impl<'a, W: Write> JsonSink<'a, W> {
    pub(crate) fn new(out: W, cx: &'a Context) -> Self {
        let has_addresses = cx.columns.first().is_some_and(|c| has_address_fields(c.field.parent_message(), 0));
        JsonSink {
            out,
            cx,
            options: json_options(),
            object: Vec::with_capacity(1024),
            line: Vec::with_capacity(1024),
            has_addresses,
        }
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
        if self.has_addresses {
            // Proto3 JSON shows bytes as base64; addresses read better as text.
            let mut json: serde_json::Value = serde_json::from_slice(&self.object).map_err(DumpError::Json)?;
            addresses_as_text(&mut json, msg);
            self.object.clear();
            serde_json::to_writer(&mut self.object, &json).map_err(DumpError::Json)?;
        }
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

/// Whether a message type has address fields, itself or in nested messages.
fn has_address_fields(desc: &MessageDescriptor, depth: usize) -> bool {
    // Recursive schemas are cut off; netcap's records are shallow.
    depth < 8
        && desc.fields().any(|f| {
            address_kind(&f).is_some() || f.kind().as_message().is_some_and(|m| has_address_fields(m, depth + 1))
        })
}

/// Replaces the base64 of address fields in `json` (the serialisation of
/// `msg`) by their text.
fn addresses_as_text(json: &mut serde_json::Value, msg: &DynamicMessage) {
    use serde_json::Value as Json;
    let Some(object) = json.as_object_mut() else { return };
    for field in msg.descriptor().fields() {
        let Some(slot) = object.get_mut(field.name()) else { continue };
        let value = msg.get_field(&field);
        match (address_kind(&field), &*value, slot) {
            (Some(kind), Value::Bytes(bytes), slot) => *slot = Json::String(address_string(kind, bytes)),
            (Some(kind), Value::List(items), slot) => {
                *slot =
                    items.iter().filter_map(Value::as_bytes).map(|b| Json::String(address_string(kind, b))).collect()
            }
            (None, Value::Message(m), slot) => addresses_as_text(slot, m),
            (None, Value::List(items), Json::Array(slots)) => {
                for (item, slot) in items.iter().zip(slots.iter_mut()) {
                    if let Value::Message(m) = item {
                        addresses_as_text(slot, m);
                    }
                }
            }
            _ => {}
        }
    }
}
