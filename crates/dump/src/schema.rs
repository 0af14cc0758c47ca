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
    /// How its values are shown: addresses, code names.
    pub(crate) show: Show,
    /// The fields from the record down to `field`'s message, for a
    /// selected nested field (`questions.name`); empty for a top-level one.
    pub(crate) path: Vec<FieldDescriptor>,
    /// The dotted path of the column: its CSV header and JSON key.
    pub(crate) name: String,
}

/// How numeric codes and enum values are printed (docs/dump.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Naming {
    /// Codes by their registry names (`A`, `NOERROR`, `TLSv12`), proto enum
    /// values by their names without the enum's prefix (`FIN`): dump's
    /// default.
    #[default]
    Names,
    /// Every code and enum value as its number (`dump -numeric`).
    Numeric,
    /// Codes as numbers, enum values by their full proto names
    /// (`TERMINATION_REASON_FIN`): the stable cells of [`crate::CsvColumns`].
    ProtoEnums,
}

/// How one field's values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Show {
    /// Bytes shown as IP or MAC addresses.
    pub(crate) address: Option<crate::address::Address>,
    /// Numbers shown by their name in this registry, where it has one.
    pub(crate) registry: Option<crate::names::Registry>,
    pub(crate) naming: Naming,
}

impl Column {
    pub(crate) fn new(field: FieldDescriptor, layout: &Layout) -> Self {
        Column::nested(Vec::new(), field, layout)
    }

    /// A column of `field`, reached from the record through `path`.
    pub(crate) fn nested(path: Vec<FieldDescriptor>, field: FieldDescriptor, layout: &Layout) -> Self {
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
        let show = layout.show(&field);
        // A nested field collects one value per element of a repeated
        // message on its path: a list, shown left-aligned.
        let numeric = numeric && path.iter().all(|f| !f.is_list());
        let mut name = String::new();
        let mut shown_label = String::new();
        for parent in &path {
            name.push_str(parent.name());
            name.push('.');
        }
        shown_label.push_str(&name);
        name.push_str(field.name());
        shown_label.push_str(&label(&field));
        Column { label: shown_label, field, kind, time, numeric, show, path, name }
    }

    /// Whether a record leaves this column out (an absent optional field,
    /// or a nested one under an absent message).
    pub(crate) fn is_absent(&self, msg: &prost_reflect::DynamicMessage) -> bool {
        match self.path.first() {
            None => crate::render::is_absent(msg, &self.field),
            Some(first) => !first.is_list() && !msg.has_field(first),
        }
    }

    /// The column's value in `msg`: the field's value, or for a nested
    /// column the values of the field in every message on its path (a list
    /// when the path crosses a repeated message or the field is repeated).
    pub(crate) fn value<'m>(&self, msg: &'m prost_reflect::DynamicMessage) -> Cow<'m, prost_reflect::Value> {
        use prost_reflect::Value;
        if self.path.is_empty() {
            return msg.get_field(&self.field);
        }
        let mut messages: Vec<Cow<'_, prost_reflect::DynamicMessage>> = vec![Cow::Borrowed(msg)];
        for parent in &self.path {
            let mut next = Vec::new();
            for m in &messages {
                if !parent.is_list() && !m.has_field(parent) {
                    continue;
                }
                match m.get_field(parent).into_owned() {
                    Value::Message(child) => next.push(Cow::Owned(child)),
                    Value::List(items) => next.extend(items.into_iter().filter_map(|i| match i {
                        Value::Message(child) => Some(Cow::Owned(child)),
                        _ => None,
                    })),
                    _ => {}
                }
            }
            messages = next;
        }
        let single = !self.field.is_list() && self.path.iter().all(|f| !f.is_list());
        if single {
            return match messages.first() {
                Some(m) => Cow::Owned(m.get_field(&self.field).into_owned()),
                None => Cow::Owned(Value::List(Vec::new())),
            };
        }
        let mut values = Vec::new();
        for m in &messages {
            match m.get_field(&self.field).into_owned() {
                Value::List(items) => values.extend(items),
                value => values.push(value),
            }
        }
        Cow::Owned(Value::List(values))
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
    pub(crate) naming: Naming,
}

impl Layout {
    /// The layout of `root` with codes and enum values printed as `naming`
    /// says.
    pub(crate) fn new(root: &MessageDescriptor, naming: Naming) -> Self {
        let mut layout = Layout { fields: HashMap::new(), naming };
        layout.add(root);
        layout
    }

    /// How the values of `field` are shown.
    pub(crate) fn show(&self, field: &FieldDescriptor) -> Show {
        let registry = match self.naming {
            Naming::Names => crate::names::registry(field.parent_message().name(), field.name()),
            Naming::Numeric | Naming::ProtoEnums => None,
        };
        Show { address: crate::address::address_kind(field), registry, naming: self.naming }
    }

    /// How values with no field of their own (map values) are shown.
    pub(crate) fn plain(&self) -> Show {
        Show { naming: self.naming, ..Show::default() }
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
        return Ok(all.iter().cloned().map(|f| Column::new(f, layout)).collect());
    };
    if select.is_empty() {
        return Err(DumpError::EmptySelection);
    }
    select.iter().map(|name| selected_column(desc, layout, name.trim())).collect()
}

/// The column a selected name means: a field name or text label of the
/// record (`timestamp`), or a dotted path into its messages
/// (`questions.name`, `answers.ip`).
fn selected_column(desc: &MessageDescriptor, layout: &Layout, name: &str) -> Result<Column, DumpError> {
    let mut message = desc.clone();
    let mut path = Vec::new();
    let mut parts = name.split('.').peekable();
    while let Some(part) = parts.next() {
        let fields = layout.fields(&message);
        let Some(field) =
            fields.iter().find(|f| f.name() == part).or_else(|| fields.iter().find(|f| label(f) == part)).cloned()
        else {
            let prefix: String = path.iter().map(|f: &FieldDescriptor| format!("{}.", f.name())).collect();
            return Err(DumpError::UnknownField {
                name: name.to_owned(),
                record_type: desc.name().to_owned(),
                valid: fields.iter().map(|f| format!("{prefix}{}", f.name())).collect(),
            });
        };
        if parts.peek().is_none() {
            return Ok(Column::nested(path, field, layout));
        }
        let Kind::Message(child) = field.kind() else {
            return Err(DumpError::UnknownField {
                name: name.to_owned(),
                record_type: desc.name().to_owned(),
                valid: vec![format!("{} has no fields: it is a {}", field.name(), type_name(&field))],
            });
        };
        if field.is_map() {
            return Err(DumpError::UnknownField {
                name: name.to_owned(),
                record_type: desc.name().to_owned(),
                valid: vec![format!("{} is a map: select it whole", field.name())],
            });
        }
        path.push(field);
        message = child;
    }
    Err(DumpError::EmptySelection)
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
