//! JSON lines: one object per record, proto field names, defaults included.

use super::{Context, Sink, output};
use crate::address::address_string;
use crate::names::short_enum_name;
use crate::schema::{Layout, Naming};
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
    /// Some values are rewritten after serialisation: addresses, code and
    /// enum names (at any depth).
    rewrites: bool,
}

impl<'a, W: Write> JsonSink<'a, W> {
    pub(crate) fn new(out: W, cx: &'a Context) -> Self {
        let layout = &cx.layout;
        let rewrites = cx.columns.first().is_some_and(|c| needs_rewrite(c.field.parent_message(), layout, 0));
        let options = json_options().use_enum_numbers(layout.naming == Naming::Numeric);
        JsonSink { out, cx, options, object: Vec::with_capacity(1024), line: Vec::with_capacity(1024), rewrites }
    }

    /// Rebuilds `self.object` with only the selected keys, in selection
    /// order. Going through prost-reflect's serializer (rather than a second
    /// JSON writer here) keeps every value's rendering identical to the
    /// unselected output.
    fn select(&mut self) -> Result<(), DumpError> {
        let nested = self.cx.columns.iter().any(|c| !c.path.is_empty());
        // Raw values keep prost-reflect's exact text, nested key order included.
        let all: BTreeMap<String, &RawValue> = serde_json::from_slice(&self.object).map_err(DumpError::Json)?;
        self.line.clear();
        self.line.push(b'{');
        let mut first = true;
        for column in &self.cx.columns {
            let name = column.field.name();
            let picked;
            let value: &str = if column.path.is_empty() {
                // Absent optional fields are omitted, as without a selection.
                let Some(value) = all.get(name) else {
                    continue;
                };
                value.get()
            } else {
                debug_assert!(nested);
                let Some(root) = all.get(column.path[0].name()) else {
                    continue;
                };
                let root: serde_json::Value = serde_json::from_str(root.get()).map_err(DumpError::Json)?;
                let names: Vec<&str> = column.path[1..].iter().map(|f| f.name()).chain([name]).collect();
                let many = column.field.is_list() || column.path.iter().any(|f| f.is_list());
                picked = serde_json::to_string(&pick(&root, &names, many)).map_err(DumpError::Json)?;
                &picked
            };
            if !first {
                self.line.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut self.line, &column.name).map_err(DumpError::Json)?;
            self.line.push(b':');
            self.line.extend_from_slice(value.as_bytes());
        }
        self.line.push(b'}');
        std::mem::swap(&mut self.object, &mut self.line);
        Ok(())
    }
}

/// The values at `names` under `value`: every element of an array on the
/// way contributes; a list when `many`, else the single value (null if
/// missing).
fn pick(value: &serde_json::Value, names: &[&str], many: bool) -> serde_json::Value {
    fn collect<'v>(value: &'v serde_json::Value, names: &[&str], out: &mut Vec<&'v serde_json::Value>) {
        match (value, names.split_first()) {
            (serde_json::Value::Array(items), _) => items.iter().for_each(|item| collect(item, names, out)),
            (_, None) => out.push(value),
            (serde_json::Value::Object(map), Some((first, rest))) => {
                if let Some(child) = map.get(*first) {
                    collect(child, rest, out);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    collect(value, names, &mut found);
    if many {
        serde_json::Value::Array(found.into_iter().cloned().collect())
    } else {
        found.first().map(|v| (*v).clone()).unwrap_or(serde_json::Value::Null)
    }
}

impl<W: Write> Sink for JsonSink<'_, W> {
    fn record(&mut self, msg: &DynamicMessage) -> Result<(), DumpError> {
        self.object.clear();
        let mut serializer = serde_json::Serializer::new(&mut self.object);
        msg.serialize_with_options(&mut serializer, &self.options).map_err(DumpError::Json)?;
        if self.rewrites {
            let mut json: serde_json::Value = serde_json::from_slice(&self.object).map_err(DumpError::Json)?;
            rewrite(&mut json, msg, &self.cx.layout);
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

/// Whether a message type has fields whose JSON is rewritten: addresses,
/// and with names on, codes and enums; itself or in nested messages.
fn needs_rewrite(desc: &MessageDescriptor, layout: &Layout, depth: usize) -> bool {
    // Recursive schemas are cut off; netcap's records are shallow.
    depth < 8
        && desc.fields().any(|f| {
            let show = layout.show(&f);
            show.address.is_some()
                || show.registry.is_some()
                || (layout.naming == Naming::Names && f.kind().as_enum().is_some())
                || f.kind().as_message().is_some_and(|m| needs_rewrite(m, layout, depth + 1))
        })
}

/// Rewrites values of `json` (the serialisation of `msg`): the base64 of
/// addresses becomes their text (proto3 JSON shows bytes as base64), codes
/// become their names, enum names lose their prefix.
fn rewrite(json: &mut serde_json::Value, msg: &DynamicMessage, layout: &Layout) {
    use serde_json::Value as Json;
    let Some(object) = json.as_object_mut() else { return };
    for field in msg.descriptor().fields() {
        let Some(slot) = object.get_mut(field.name()) else { continue };
        let value = msg.get_field(&field);
        let show = layout.show(&field);
        let rename = |v: &Value| -> Option<Json> {
            let code = match v {
                Value::U32(c) => u64::from(*c),
                Value::U64(c) => *c,
                _ => return None,
            };
            show.registry.and_then(|r| r.name(code)).map(|n| Json::String(n.into_owned()))
        };
        match (&*value, slot) {
            (Value::Bytes(bytes), slot) if let Some(kind) = show.address => {
                *slot = Json::String(address_string(kind, bytes))
            }
            (Value::List(items), slot) if let Some(kind) = show.address => {
                *slot =
                    items.iter().filter_map(Value::as_bytes).map(|b| Json::String(address_string(kind, b))).collect()
            }
            (Value::List(items), Json::Array(slots)) if show.registry.is_some() => {
                for (item, slot) in items.iter().zip(slots.iter_mut()) {
                    if let Some(name) = rename(item) {
                        *slot = name;
                    }
                }
            }
            (scalar, slot) if show.registry.is_some() => {
                if let Some(name) = rename(scalar) {
                    *slot = name;
                }
            }
            (Value::EnumNumber(_) | Value::List(_), slot)
                if layout.naming == Naming::Names && field.kind().as_enum().is_some() =>
            {
                let enum_name = field.kind().as_enum().map(|e| e.name().to_owned()).unwrap_or_default();
                shorten_enum_names(slot, &enum_name);
            }
            (Value::Message(m), slot) => rewrite(slot, m, layout),
            (Value::List(items), Json::Array(slots)) => {
                for (item, slot) in items.iter().zip(slots.iter_mut()) {
                    if let Value::Message(m) = item {
                        rewrite(slot, m, layout);
                    }
                }
            }
            _ => {}
        }
    }
}

/// `TERMINATION_REASON_FIN` to `FIN` in a JSON string or array of them.
fn shorten_enum_names(slot: &mut serde_json::Value, enum_name: &str) {
    match slot {
        serde_json::Value::String(name) => {
            let short = short_enum_name(enum_name, name).to_owned();
            *name = short;
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|item| shorten_enum_names(item, enum_name)),
        _ => {}
    }
}
