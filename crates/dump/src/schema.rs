//! What the schema descriptors tell dump: columns, their order and labels,
//! which fields are times, and the field listing.

use crate::DumpError;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::{self, Write};

/// One output column: a top-level field of the record message.
pub(crate) struct Column {
    pub(crate) field: FieldDescriptor,
    /// Cached because `FieldDescriptor::kind` clones descriptor handles.
    pub(crate) kind: Kind,
    /// Name shown by the text and table formats (`timestamp` for
    /// `timestamp_ns`, since those formats show it as a date).
    pub(crate) label: String,
    /// Shown as RFC 3339 by the text and table formats.
    pub(crate) time: bool,
    /// Right-aligned in tables.
    pub(crate) numeric: bool,
    /// Bytes shown as IP or MAC addresses.
    pub(crate) address: Option<crate::address::Address>,
}

impl Column {
    pub(crate) fn new(field: FieldDescriptor) -> Self {
        let kind = field.kind();
        let time = is_time_field(&field);
        let numeric = !field.is_list()
            && !field.is_map()
            && !time
            && matches!(
                kind,
                Kind::Double
                    | Kind::Float
                    | Kind::Int32
                    | Kind::Int64
                    | Kind::Uint32
                    | Kind::Uint64
                    | Kind::Sint32
                    | Kind::Sint64
                    | Kind::Fixed32
                    | Kind::Fixed64
                    | Kind::Sfixed32
                    | Kind::Sfixed64
            );
        let address = crate::address::address_kind(&field);
        Column { label: label(&field).into_owned(), field, kind, time, numeric, address }
    }
}

/// Whether a field holds a Unix time in nanoseconds, shown as RFC 3339 by the
/// text and table formats: a signed 64-bit integer named `timestamp_ns` or
/// `created_ns`, or ending in `_time_ns` or `_timestamp_ns` (docs/dump.md).
/// A name list rather than every `*_ns` so that durations stay numbers.
pub(crate) fn is_time_field(field: &FieldDescriptor) -> bool {
    let name = field.name();
    matches!(field.kind(), Kind::Int64 | Kind::Sint64 | Kind::Sfixed64)
        && !field.is_list()
        && (name == "timestamp_ns"
            || name == "created_ns"
            || name.ends_with("_time_ns")
            || name.ends_with("_timestamp_ns"))
}

/// The name the text and table formats show: time fields lose `_ns`.
pub(crate) fn label(field: &FieldDescriptor) -> Cow<'_, str> {
    let name = field.name();
    match name.strip_suffix("_ns") {
        Some(stem) if is_time_field(field) => Cow::Borrowed(stem),
        _ => Cow::Borrowed(name),
    }
}

/// Fields in declaration order for every message reachable from a record
/// type. prost-reflect iterates fields by number; the contract is
/// declaration order, and computing it once keeps it off the per-record path.
pub(crate) struct Layout {
    fields: HashMap<String, Vec<FieldDescriptor>>,
}

impl Layout {
    pub(crate) fn new(root: &MessageDescriptor) -> Self {
        let mut layout = Layout { fields: HashMap::new() };
        layout.add(root);
        layout
    }

    fn add(&mut self, desc: &MessageDescriptor) {
        if self.fields.contains_key(desc.full_name()) {
            return;
        }
        let fields = declaration_order(desc);
        self.fields.insert(desc.full_name().to_owned(), fields.clone());
        for field in &fields {
            if let Kind::Message(child) = field.kind() {
                self.add(&child);
            }
        }
    }

    /// Fields of `desc` in declaration order.
    pub(crate) fn fields(&self, desc: &MessageDescriptor) -> Cow<'_, [FieldDescriptor]> {
        match self.fields.get(desc.full_name()) {
            Some(fields) => Cow::Borrowed(fields),
            // Only reachable messages are rendered, but stay correct anyway.
            None => Cow::Owned(declaration_order(desc)),
        }
    }
}

fn declaration_order(desc: &MessageDescriptor) -> Vec<FieldDescriptor> {
    desc.descriptor_proto().field.iter().filter_map(|f| desc.get_field(f.number() as u32)).collect()
}

/// The columns to print: every field, or the selected ones in the given
/// order. A selected name is a proto field name or a text label (`timestamp`).
pub(crate) fn columns(
    desc: &MessageDescriptor,
    layout: &Layout,
    select: Option<&[String]>,
) -> Result<Vec<Column>, DumpError> {
    let all = layout.fields(desc);
    let Some(select) = select else {
        return Ok(all.iter().cloned().map(Column::new).collect());
    };
    if select.is_empty() {
        return Err(DumpError::EmptySelection);
    }
    select
        .iter()
        .map(|name| {
            let name = name.trim();
            all.iter()
                .find(|f| f.name() == name)
                .or_else(|| all.iter().find(|f| label(f) == name))
                .cloned()
                .map(Column::new)
                .ok_or_else(|| DumpError::UnknownField {
                    name: name.to_owned(),
                    record_type: desc.name().to_owned(),
                    valid: all.iter().map(|f| f.name().to_owned()).collect(),
                })
        })
        .collect()
}

/// Proto-style type of a field: `uint32`, `optional uint32`,
/// `repeated IPv4Option`, `map<string, uint32>`.
pub(crate) fn type_name(field: &FieldDescriptor) -> String {
    if field.is_map()
        && let Some(entry) = field.kind().as_message()
    {
        return format!(
            "map<{}, {}>",
            kind_name(&entry.map_entry_key_field().kind()),
            kind_name(&entry.map_entry_value_field().kind())
        );
    }
    let kind = kind_name(&field.kind());
    if field.is_list() {
        format!("repeated {kind}")
    } else if field.field_descriptor_proto().proto3_optional() {
        format!("optional {kind}")
    } else {
        kind.into_owned()
    }
}

fn kind_name(kind: &Kind) -> Cow<'static, str> {
    Cow::Borrowed(match kind {
        Kind::Double => "double",
        Kind::Float => "float",
        Kind::Int32 => "int32",
        Kind::Int64 => "int64",
        Kind::Uint32 => "uint32",
        Kind::Uint64 => "uint64",
        Kind::Sint32 => "sint32",
        Kind::Sint64 => "sint64",
        Kind::Fixed32 => "fixed32",
        Kind::Fixed64 => "fixed64",
        Kind::Sfixed32 => "sfixed32",
        Kind::Sfixed64 => "sfixed64",
        Kind::Bool => "bool",
        Kind::String => "string",
        Kind::Bytes => "bytes",
        Kind::Message(m) => return Cow::Owned(m.name().to_owned()),
        Kind::Enum(e) => return Cow::Owned(e.name().to_owned()),
    })
}

/// The field's leading proto comment on one line, if the descriptors kept
/// source info.
pub(crate) fn comment(field: &FieldDescriptor) -> Option<String> {
    let file = field.parent_file();
    let info = file.file_descriptor_proto().source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == field.path())?;
    let text = location.leading_comments.as_deref()?;
    let words: Vec<&str> = text.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Writes one line per field: name, type and comment in aligned columns.
pub(crate) fn write_field_list(out: &mut dyn Write, desc: &MessageDescriptor, layout: &Layout) -> io::Result<()> {
    let rows: Vec<(String, String, String)> = layout
        .fields(desc)
        .iter()
        .map(|f| (f.name().to_owned(), type_name(f), comment(f).unwrap_or_default()))
        .collect();
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let type_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0);
    for (name, ty, comment) in &rows {
        let line = format!("{name:name_width$}  {ty:type_width$}  {comment}");
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
