//! Turning field values into bytes, the same way for every record type.
//!
//! Everything here appends to a caller-owned `Vec<u8>` so that the sinks can
//! reuse one buffer per line or cell instead of allocating per field.

use crate::address::push_address;
use crate::schema::{Column, Layout, Naming, Show, is_time_field};
use prost_reflect::{DynamicMessage, FieldDescriptor, Kind, MapKey, ReflectMessage, Value};
use std::io::Write as _;

/// How a string value is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum StrStyle {
    /// As is: the CSV writer quotes the whole cell when needed.
    Raw,
    /// Inside a CSV composite: `\`, `|`, `;`, `{` and `}` are backslash-escaped
    /// so the composite can be split unambiguously.
    Escaped,
    /// Text format: double-quoted with escapes when the string is empty or
    /// would break `key=value` tokenizing.
    Quoted,
    /// Table cells: as is, unless a control character would break the layout
    /// (then quoted like [`StrStyle::Quoted`]).
    Table,
}

/// Appends `value`'s `Display` form.
pub(crate) fn push_display(buf: &mut Vec<u8>, value: impl std::fmt::Display) {
    // Writing into a Vec cannot fail.
    let _ = write!(buf, "{value}");
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as lower-case hex, two digits per byte.
pub(crate) fn push_hex(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.reserve(bytes.len() * 2);
    for &b in bytes {
        buf.push(HEX[usize::from(b >> 4)]);
        buf.push(HEX[usize::from(b & 0x0f)]);
    }
}

/// Appends Unix nanoseconds as RFC 3339 UTC with nine fraction digits, e.g.
/// `2013-05-12T03:17:46.543210123Z`. Negative values count back from 1970.
pub(crate) fn push_rfc3339(buf: &mut Vec<u8>, unix_ns: i64) {
    const NS_PER_SEC: i64 = 1_000_000_000;
    let secs = unix_ns.div_euclid(NS_PER_SEC);
    let nanos = unix_ns.rem_euclid(NS_PER_SEC);
    let days = secs.div_euclid(86_400);
    let second_of_day = secs.rem_euclid(86_400);
    let (year, month, day) = netcap_records::civil::civil_from_days(days);
    let _ = write!(
        buf,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{nanos:09}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
}

/// Appends a string in `style`.
fn push_str(buf: &mut Vec<u8>, s: &str, style: StrStyle) {
    match style {
        StrStyle::Raw => buf.extend_from_slice(s.as_bytes()),
        StrStyle::Escaped => {
            for &b in s.as_bytes() {
                if matches!(b, b'\\' | b'|' | b';' | b'{' | b'}') {
                    buf.push(b'\\');
                }
                buf.push(b);
            }
        }
        StrStyle::Quoted if !needs_quotes(s) => buf.extend_from_slice(s.as_bytes()),
        StrStyle::Table if !s.chars().any(char::is_control) => buf.extend_from_slice(s.as_bytes()),
        StrStyle::Quoted | StrStyle::Table => push_quoted(buf, s),
    }
}

/// Whether a text-format value must be quoted to stay one `key=value` token
/// that reads back unambiguously.
fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '"' | '\\' | '=' | ',' | '{' | '}' | '[' | ']'))
}

fn push_quoted(buf: &mut Vec<u8>, s: &str) {
    buf.push(b'"');
    for c in s.chars() {
        match c {
            '"' => buf.extend_from_slice(b"\\\""),
            '\\' => buf.extend_from_slice(b"\\\\"),
            '\n' => buf.extend_from_slice(b"\\n"),
            '\r' => buf.extend_from_slice(b"\\r"),
            '\t' => buf.extend_from_slice(b"\\t"),
            c if c.is_control() => push_display(buf, format_args!("\\u{{{:x}}}", u32::from(c))),
            c => {
                let mut utf8 = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }
    buf.push(b'"');
}

/// Appends a scalar (anything but a message, list or map). Returns false,
/// appending nothing, for composites.
fn push_scalar(buf: &mut Vec<u8>, value: &Value, kind: &Kind, show: Show, style: StrStyle) -> bool {
    if let Some(registry) = show.registry
        && let Some(code) = code_of(value)
        && let Some(name) = registry.name(code)
    {
        push_str(buf, &name, style);
        return true;
    }
    match value {
        Value::Bytes(b) if let Some(address) = show.address => push_address(buf, address, b),
        Value::Bool(true) => buf.extend_from_slice(b"true"),
        Value::Bool(false) => buf.extend_from_slice(b"false"),
        Value::I32(v) => push_display(buf, v),
        Value::I64(v) => push_display(buf, v),
        Value::U32(v) => push_display(buf, v),
        Value::U64(v) => push_display(buf, v),
        Value::F32(v) => push_display(buf, v),
        Value::F64(v) => push_display(buf, v),
        Value::String(s) => push_str(buf, s, style),
        Value::Bytes(b) => push_hex(buf, b),
        Value::EnumNumber(n) => match kind.as_enum().and_then(|e| e.get_value(*n)) {
            Some(_) if show.naming == Naming::Numeric => push_display(buf, n),
            Some(v) if show.naming == Naming::Names => {
                buf.extend_from_slice(crate::names::short_enum_name(v.parent_enum().name(), v.name()).as_bytes())
            }
            Some(v) => buf.extend_from_slice(v.name().as_bytes()),
            // A number this schema does not name (written by a newer one).
            None => push_display(buf, n),
        },
        Value::Message(_) | Value::List(_) | Value::Map(_) => return false,
    }
    true
}

/// The code an unsigned integer value holds.
fn code_of(value: &Value) -> Option<u64> {
    match value {
        Value::U32(v) => Some(u64::from(*v)),
        Value::U64(v) => Some(*v),
        _ => None,
    }
}

fn push_map_key(buf: &mut Vec<u8>, key: &MapKey, style: StrStyle) {
    match key {
        MapKey::Bool(v) => push_display(buf, v),
        MapKey::I32(v) => push_display(buf, v),
        MapKey::I64(v) => push_display(buf, v),
        MapKey::U32(v) => push_display(buf, v),
        MapKey::U64(v) => push_display(buf, v),
        MapKey::String(s) => push_str(buf, s, style),
    }
}

/// Map entries in key order, so output does not depend on hash order.
fn sorted_entries(map: &std::collections::HashMap<MapKey, Value>) -> Vec<(&MapKey, &Value)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

/// The value type of a map field's entries.
fn map_value_kind(kind: &Kind) -> Option<Kind> {
    kind.as_message().filter(|m| m.is_map_entry()).map(|m| m.map_entry_value_field().kind())
}

/// Whether a field's value is absent (as opposed to present and default):
/// only fields with presence (proto3 `optional`, messages) can be.
pub(crate) fn is_absent(msg: &DynamicMessage, field: &FieldDescriptor) -> bool {
    field.supports_presence() && !field.is_list() && !msg.has_field(field)
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::String(s) => s.is_empty(),
        Value::Bytes(b) => b.is_empty(),
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    }
}

// ---------------------------------------------------------------------------
// CSV / TSV cells (the stable contract in docs/dump.md).
// ---------------------------------------------------------------------------

/// Appends the CSV cell of `column` in `msg`.
pub(crate) fn csv_cell(buf: &mut Vec<u8>, msg: &DynamicMessage, column: &Column, layout: &Layout) {
    if column.is_absent(msg) {
        return;
    }
    let value = column.value(msg);
    if !push_scalar(buf, &value, &column.kind, column.show, StrStyle::Raw) {
        csv_composite(buf, &value, &column.kind, column.show, layout);
    }
}

/// A list (`a|b`), map (`k;v|k;v`) or message (`f1;f2;...`), unbraced.
fn csv_composite(buf: &mut Vec<u8>, value: &Value, kind: &Kind, show: Show, layout: &Layout) {
    match value {
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b'|');
                }
                match item {
                    // Top-level message elements stay unbraced: `|` and `;`
                    // cannot clash, and this is the common case (options).
                    Value::Message(m) => csv_message(buf, m, layout),
                    other => csv_nested(buf, other, kind, show, layout),
                }
            }
        }
        Value::Map(map) => {
            let value_kind = map_value_kind(kind);
            for (i, (key, value)) in sorted_entries(map).into_iter().enumerate() {
                if i > 0 {
                    buf.push(b'|');
                }
                push_map_key(buf, key, StrStyle::Escaped);
                buf.push(b';');
                if let Some(value_kind) = &value_kind {
                    csv_nested(buf, value, value_kind, layout.plain(), layout);
                }
            }
        }
        Value::Message(m) => csv_message(buf, m, layout),
        scalar => {
            push_scalar(buf, scalar, kind, show, StrStyle::Escaped);
        }
    }
}

/// Every field of a message in declaration order, `;`-separated, defaults
/// included so that the n-th item is always the n-th field.
fn csv_message(buf: &mut Vec<u8>, msg: &DynamicMessage, layout: &Layout) {
    let desc = msg.descriptor();
    for (i, field) in layout.fields(&desc).iter().enumerate() {
        if i > 0 {
            buf.push(b';');
        }
        if is_absent(msg, field) {
            continue;
        }
        csv_nested(buf, &msg.get_field(field), &field.kind(), layout.show(field), layout);
    }
}

/// A value inside a composite: scalars escaped, composites in braces.
fn csv_nested(buf: &mut Vec<u8>, value: &Value, kind: &Kind, show: Show, layout: &Layout) {
    if !push_scalar(buf, value, kind, show, StrStyle::Escaped) {
        buf.push(b'{');
        csv_composite(buf, value, kind, show, layout);
        buf.push(b'}');
    }
}

// ---------------------------------------------------------------------------
// Text and table values.
// ---------------------------------------------------------------------------

/// Appends a field's value for the text and table formats: time fields as
/// RFC 3339, lists comma-separated (bracketed unless `top`), messages as
/// `{name=value,...}` with default fields left out.
// One call per field of every record: a struct of these would be rebuilt
// for each.
#[allow(clippy::too_many_arguments)]
pub(crate) fn text_field(
    buf: &mut Vec<u8>,
    time: bool,
    value: &Value,
    kind: &Kind,
    show: Show,
    style: StrStyle,
    top: bool,
    layout: &Layout,
) {
    if let (Value::I64(ns), true) = (value, time) {
        push_rfc3339(buf, *ns);
        return;
    }
    match value {
        Value::List(items) => {
            if !top {
                buf.push(b'[');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                // Strings in a list are quoted when needed even in a table,
                // or their commas would be ambiguous.
                text_value(buf, item, kind, show, StrStyle::Quoted, layout);
            }
            if !top {
                buf.push(b']');
            }
        }
        other => text_value(buf, other, kind, show, style, layout),
    }
}

/// A single (non-list) value in text form.
fn text_value(buf: &mut Vec<u8>, value: &Value, kind: &Kind, show: Show, style: StrStyle, layout: &Layout) {
    if push_scalar(buf, value, kind, show, style) {
        return;
    }
    match value {
        Value::Message(m) => {
            buf.push(b'{');
            let desc = m.descriptor();
            let mut first = true;
            for field in layout.fields(&desc).iter() {
                if is_absent(m, field) {
                    continue;
                }
                // Nested messages are small and positional: a zero there
                // (IPv6 extension header type 0, hop-by-hop) is worth
                // showing, only empty strings, bytes and lists are noise.
                let value = m.get_field(field);
                if is_empty(&value) {
                    continue;
                }
                if !first {
                    buf.push(b',');
                }
                first = false;
                buf.extend_from_slice(crate::schema::label(field).as_bytes());
                buf.push(b'=');
                let kind = field.kind();
                text_field(
                    buf,
                    is_time_field(field),
                    &value,
                    &kind,
                    layout.show(field),
                    StrStyle::Quoted,
                    false,
                    layout,
                );
            }
            buf.push(b'}');
        }
        Value::Map(map) => {
            let value_kind = map_value_kind(kind);
            buf.push(b'{');
            for (i, (key, value)) in sorted_entries(map).into_iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                push_map_key(buf, key, StrStyle::Quoted);
                buf.push(b'=');
                if let Some(value_kind) = &value_kind {
                    text_value(buf, value, value_kind, layout.plain(), StrStyle::Quoted, layout);
                }
            }
            buf.push(b'}');
        }
        Value::List(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                text_value(buf, item, kind, show, StrStyle::Quoted, layout);
            }
            buf.push(b']');
        }
        _ => {}
    }
}

/// Appends the table cell of `column` in `msg`: empty if absent, else the
/// text-format value (defaults shown, since every row has every column).
pub(crate) fn table_cell(buf: &mut Vec<u8>, msg: &DynamicMessage, column: &Column, layout: &Layout) {
    if column.is_absent(msg) {
        return;
    }
    let value = column.value(msg);
    text_field(buf, column.time, &value, &column.kind, column.show, StrStyle::Table, true, layout);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(ns: i64) -> String {
        let mut buf = Vec::new();
        push_rfc3339(&mut buf, ns);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc(0), "1970-01-01T00:00:00.000000000Z");
        assert_eq!(rfc(1_368_328_666_543_210_123), "2013-05-12T03:17:46.543210123Z");
        assert_eq!(rfc(-1), "1969-12-31T23:59:59.999999999Z");
        // 2000-02-29 (leap day in a century leap year).
        assert_eq!(rfc(951_782_400_000_000_000), "2000-02-29T00:00:00.000000000Z");
        assert_eq!(rfc(4_102_444_799_000_000_001), "2099-12-31T23:59:59.000000001Z");
        // Extremes do not panic.
        rfc(i64::MIN);
        rfc(i64::MAX);
    }

    #[test]
    fn hex_is_lower_case() {
        let mut buf = Vec::new();
        push_hex(&mut buf, &[0x00, 0xab, 0x0f, 0xff]);
        assert_eq!(buf, b"00ab0fff");
    }

    #[test]
    fn strings_are_quoted_only_when_needed() {
        let q = |s: &str, style| {
            let mut buf = Vec::new();
            push_str(&mut buf, s, style);
            String::from_utf8(buf).unwrap()
        };
        assert_eq!(q("tcp", StrStyle::Quoted), "tcp");
        assert_eq!(q("fe80::1", StrStyle::Quoted), "fe80::1");
        assert_eq!(q("", StrStyle::Quoted), r#""""#);
        assert_eq!(q("a b=\"c\"\n", StrStyle::Quoted), r#""a b=\"c\"\n""#);
        assert_eq!(q("bell\u{7}", StrStyle::Quoted), r#""bell\u{7}""#);
        assert_eq!(q("a b", StrStyle::Table), "a b");
        assert_eq!(q("a\tb", StrStyle::Table), r#""a\tb""#);
        assert_eq!(q(r"a|b;c{d}\e", StrStyle::Escaped), r"a\|b\;c\{d\}\\e");
        assert_eq!(q("a|b \"", StrStyle::Raw), "a|b \"");
    }
}

/// The CSV composite grammar and text rendering on nestings that
/// netcap.proto does not use yet (messages in messages, maps, repeated
/// strings), so that a future record type gets the documented output.
#[cfg(test)]
mod nesting_tests {
    use super::*;
    use crate::schema::{Column, Layout};
    use prost_reflect::DescriptorPool;

    const PROTO: &str = r#"
syntax = "proto3";
package t;
message Leaf { bytes data = 1; bool flag = 2; }
message Inner { string name = 1; repeated uint32 vals = 2; optional uint32 opt = 3; Leaf leaf = 4; }
message Outer {
  repeated Inner items = 1;
  Inner single = 2;
  map<string, uint32> counts = 3;
  repeated string names = 4;
  int64 seen_time_ns = 5;
  int64 duration_ns = 6;
}
"#;

    fn outer() -> (DynamicMessage, Layout) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("t.proto"), PROTO).unwrap();
        let fds = protox::compile(["t.proto"], [dir.path()]).unwrap();
        let pool = DescriptorPool::from_file_descriptor_set(fds).unwrap();
        let outer = pool.get_message_by_name("t.Outer").unwrap();
        let inner = pool.get_message_by_name("t.Inner").unwrap();
        let leaf = pool.get_message_by_name("t.Leaf").unwrap();

        let mut l = DynamicMessage::new(leaf);
        l.set_field_by_name("data", Value::Bytes(vec![0xff].into()));
        l.set_field_by_name("flag", Value::Bool(true));
        let mut first = DynamicMessage::new(inner.clone());
        first.set_field_by_name("name", Value::String("a|b;c".into()));
        first.set_field_by_name("vals", Value::List(vec![Value::U32(1), Value::U32(2)]));
        first.set_field_by_name("opt", Value::U32(0));
        first.set_field_by_name("leaf", Value::Message(l));
        let second = DynamicMessage::new(inner);

        let mut m = DynamicMessage::new(outer.clone());
        m.set_field_by_name("items", Value::List(vec![Value::Message(first), Value::Message(second)]));
        m.set_field_by_name(
            "counts",
            Value::Map(
                [(MapKey::String("x".into()), Value::U32(1)), (MapKey::String("a;b".into()), Value::U32(2))].into(),
            ),
        );
        m.set_field_by_name(
            "names",
            Value::List(vec![Value::String("p".into()), Value::String("q|r".into()), Value::String("".into())]),
        );
        m.set_field_by_name("seen_time_ns", Value::I64(1_368_328_666_543_210_123));
        m.set_field_by_name("duration_ns", Value::I64(1500));
        (m, Layout::new(&outer, Naming::ProtoEnums))
    }

    fn columns(msg: &DynamicMessage, layout: &Layout) -> Vec<Column> {
        layout.fields(&msg.descriptor()).iter().cloned().map(|f| Column::new(f, layout)).collect()
    }

    #[test]
    fn csv_cells_follow_the_composite_grammar() {
        let (msg, layout) = outer();
        let cells: Vec<String> = columns(&msg, &layout)
            .iter()
            .map(|c| {
                let mut buf = Vec::new();
                csv_cell(&mut buf, &msg, c, &layout);
                String::from_utf8(buf).unwrap()
            })
            .collect();
        assert_eq!(
            cells,
            [r"a\|b\;c;{1|2};0;{ff;true}|;{};;", "", r"a\;b;2|x;1", r"p|q\|r|", "1368328666543210123", "1500"]
        );
    }

    #[test]
    fn text_values_nest_with_braces_and_brackets() {
        let (msg, layout) = outer();
        let texts: Vec<String> = columns(&msg, &layout)
            .iter()
            .map(|c| {
                let mut buf = Vec::new();
                text_field(
                    &mut buf,
                    c.time,
                    &msg.get_field(&c.field),
                    &c.kind,
                    c.show,
                    StrStyle::Quoted,
                    true,
                    &layout,
                );
                format!("{}={}", c.label, String::from_utf8(buf).unwrap())
            })
            .collect();
        assert_eq!(
            texts,
            [
                "items={name=a|b;c,vals=[1,2],opt=0,leaf={data=ff,flag=true}},{}",
                "single={}",
                "counts={a;b=2,x=1}",
                r#"names=p,q|r,"""#,
                "seen_time=2013-05-12T03:17:46.543210123Z",
                "duration_ns=1500",
            ]
        );
    }
}
