//! The labelled tables: CSV rows as `netcap dump -csv` writes them plus the
//! three label columns, or Parquet with a column type per field.
//!
//! CSV quoting is dump's (the `csv` crate's `Necessary` style): a cell is
//! quoted only if it holds a comma, a quote or a line break, and quotes in
//! it are doubled. A test checks the rows against the `csv` crate.
//!
//! Parquet types: integers as their width and sign, `float`/`double`,
//! `bool`, strings and enum names as UTF-8, addresses as their text, other
//! `bytes` as binary, Unix-nanosecond time fields as timestamps (ns, UTC),
//! repeated numbers and bools as lists (64-bit elements), enum lists as
//! lists of names; messages, maps and repeated strings as their CSV cell
//! text (docs/dump.md). Proto3 `optional` fields are nullable (null when
//! absent); nothing else is.

use arrow_array::builder::{BinaryBuilder, BooleanBuilder, ListBuilder, StringBuilder};
use arrow_array::types::{
    Float32Type, Float64Type, Int32Type, Int64Type, TimestampNanosecondType, UInt32Type, UInt64Type,
};
use arrow_array::{ArrayRef, PrimitiveArray, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use netcap_dump::CsvColumns;
use prost_reflect::Kind;
use std::sync::Arc;

/// Names of the columns added to dump's.
pub const LABEL_COLUMNS: [&str; 3] = ["label", "label_source", "label_detail"];

/// Appends one CSV cell, quoted if it must be.
pub fn push_csv_cell(row: &mut Vec<u8>, cell: &[u8]) {
    if cell.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        row.push(b'"');
        for &b in cell {
            if b == b'"' {
                row.push(b'"');
            }
            row.push(b);
        }
        row.push(b'"');
    } else {
        row.extend_from_slice(cell);
    }
}

/// Which columns' cells may need quoting: strings, and messages and maps
/// (rendered as text). Numbers, bools, enum names, addresses and hex bytes
/// never hold a comma, quote or line break, so their cells are copied
/// without a look (the look was a tenth of `netcap label`'s time).
pub fn quoting_columns(columns: &CsvColumns) -> Vec<bool> {
    (0..columns.len())
        .map(|i| {
            let field = columns.field(i);
            field.is_map() || matches!(field.kind(), Kind::String | Kind::Message(_))
        })
        .collect()
}

/// Appends a CSV row: `cells`, then the label columns, then `\n`. Cells
/// of columns whose `quoting` entry is false are written as they are (see
/// [`quoting_columns`]); cells without an entry are checked.
pub fn push_csv_row(row: &mut Vec<u8>, cells: &[Vec<u8>], quoting: &[bool], labels: [&str; 3]) {
    for (i, cell) in cells.iter().enumerate() {
        if quoting.get(i).copied().unwrap_or(true) {
            push_csv_cell(row, cell);
        } else {
            row.extend_from_slice(cell);
        }
        row.push(b',');
    }
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            row.push(b',');
        }
        push_csv_cell(row, label.as_bytes());
    }
    row.push(b'\n');
}

/// The CSV header line.
pub fn csv_header(columns: &CsvColumns) -> Vec<u8> {
    let mut row = Vec::new();
    let names: Vec<Vec<u8>> = (0..columns.len()).map(|i| columns.field(i).name().as_bytes().to_vec()).collect();
    push_csv_row(&mut row, &names, &[], LABEL_COLUMNS);
    row
}

/// How a column's text becomes Arrow values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ColKind {
    I32,
    I64,
    U32,
    U64,
    F32,
    F64,
    Bool,
    Str,
    Binary,
    Time,
    ListI64,
    ListU64,
    ListF64,
    ListBool,
    ListStr,
}

impl ColKind {
    fn of(columns: &CsvColumns, i: usize) -> ColKind {
        let field = columns.field(i);
        let kind = field.kind();
        if field.is_map() {
            return ColKind::Str;
        }
        if field.is_list() {
            return match kind {
                Kind::Int32 | Kind::Int64 | Kind::Sint32 | Kind::Sint64 | Kind::Sfixed32 | Kind::Sfixed64 => {
                    ColKind::ListI64
                }
                Kind::Uint32 | Kind::Uint64 | Kind::Fixed32 | Kind::Fixed64 => ColKind::ListU64,
                Kind::Float | Kind::Double => ColKind::ListF64,
                Kind::Bool => ColKind::ListBool,
                Kind::Enum(_) => ColKind::ListStr,
                _ => ColKind::Str,
            };
        }
        if columns.is_time(i) {
            return ColKind::Time;
        }
        match kind {
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => ColKind::I32,
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => ColKind::I64,
            Kind::Uint32 | Kind::Fixed32 => ColKind::U32,
            Kind::Uint64 | Kind::Fixed64 => ColKind::U64,
            Kind::Float => ColKind::F32,
            Kind::Double => ColKind::F64,
            Kind::Bool => ColKind::Bool,
            Kind::Bytes if !columns.is_address(i) => ColKind::Binary,
            _ => ColKind::Str,
        }
    }

    fn data_type(self) -> DataType {
        let list = |t: DataType| DataType::List(Arc::new(Field::new("item", t, true)));
        match self {
            ColKind::I32 => DataType::Int32,
            ColKind::I64 => DataType::Int64,
            ColKind::U32 => DataType::UInt32,
            ColKind::U64 => DataType::UInt64,
            ColKind::F32 => DataType::Float32,
            ColKind::F64 => DataType::Float64,
            ColKind::Bool => DataType::Boolean,
            ColKind::Str => DataType::Utf8,
            ColKind::Binary => DataType::Binary,
            ColKind::Time => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
            ColKind::ListI64 => list(DataType::Int64),
            ColKind::ListU64 => list(DataType::UInt64),
            ColKind::ListF64 => list(DataType::Float64),
            ColKind::ListBool => list(DataType::Boolean),
            ColKind::ListStr => list(DataType::Utf8),
        }
    }
}

/// The Arrow schema of a record type's labelled table and the conversion
/// of its cells.
pub struct ArrowTable {
    kinds: Vec<ColKind>,
    schema: SchemaRef,
}

fn text(cell: &[u8]) -> &str {
    std::str::from_utf8(cell).unwrap_or("")
}

impl ArrowTable {
    pub fn new(columns: &CsvColumns) -> ArrowTable {
        let kinds: Vec<ColKind> = (0..columns.len()).map(|i| ColKind::of(columns, i)).collect();
        let mut fields: Vec<Field> = kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let field = columns.field(i);
                let nullable = field.supports_presence() && !field.is_list() && *kind != ColKind::Str;
                Field::new(field.name(), kind.data_type(), nullable)
            })
            .collect();
        fields.extend(LABEL_COLUMNS.iter().map(|name| Field::new(*name, DataType::Utf8, false)));
        ArrowTable { kinds, schema: Arc::new(Schema::new(fields)) }
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// A batch from the cells of its rows, column by column: the record
    /// type's columns, then the three label columns.
    pub fn batch(&self, cells: &[CellColumn]) -> Result<RecordBatch, String> {
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.kinds.len() + 3);
        let kinds = self.kinds.iter().copied().chain([ColKind::Str; LABEL_COLUMNS.len()]);
        if cells.len() != self.kinds.len() + LABEL_COLUMNS.len() {
            return Err(format!("{} columns of cells for {} columns", cells.len(), self.kinds.len() + 3));
        }
        for (kind, column) in kinds.zip(cells) {
            arrays.push(self.array(kind, column));
        }
        RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| e.to_string())
    }

    fn array(&self, kind: ColKind, column: &CellColumn) -> ArrayRef {
        fn parsed<T: std::str::FromStr>(column: &CellColumn) -> impl Iterator<Item = Option<T>> + '_ {
            column.iter().map(|c| text(c).parse().ok())
        }
        fn lists<T: std::str::FromStr>(column: &CellColumn) -> impl Iterator<Item = Option<Vec<Option<T>>>> + '_ {
            column.iter().map(|c| {
                let t = text(c);
                Some(if t.is_empty() { Vec::new() } else { t.split('|').map(|v| v.parse().ok()).collect() })
            })
        }
        use arrow_array::ListArray;
        match kind {
            ColKind::I32 => Arc::new(parsed::<i32>(column).collect::<PrimitiveArray<Int32Type>>()),
            ColKind::I64 => Arc::new(parsed::<i64>(column).collect::<PrimitiveArray<Int64Type>>()),
            ColKind::U32 => Arc::new(parsed::<u32>(column).collect::<PrimitiveArray<UInt32Type>>()),
            ColKind::U64 => Arc::new(parsed::<u64>(column).collect::<PrimitiveArray<UInt64Type>>()),
            ColKind::F32 => Arc::new(parsed::<f32>(column).collect::<PrimitiveArray<Float32Type>>()),
            ColKind::F64 => Arc::new(parsed::<f64>(column).collect::<PrimitiveArray<Float64Type>>()),
            ColKind::Time => Arc::new(
                parsed::<i64>(column).collect::<PrimitiveArray<TimestampNanosecondType>>().with_timezone("UTC"),
            ),
            ColKind::Bool => {
                let mut b = BooleanBuilder::with_capacity(column.len());
                for c in column.iter() {
                    match text(c) {
                        "true" => b.append_value(true),
                        "false" => b.append_value(false),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            ColKind::Str => {
                let mut b = StringBuilder::with_capacity(column.len(), column.data.len());
                for c in column.iter() {
                    b.append_value(String::from_utf8_lossy(c));
                }
                Arc::new(b.finish())
            }
            ColKind::Binary => {
                let mut b = BinaryBuilder::new();
                for c in column.iter() {
                    b.append_value(unhex(c));
                }
                Arc::new(b.finish())
            }
            ColKind::ListI64 => Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(lists::<i64>(column))),
            ColKind::ListU64 => Arc::new(ListArray::from_iter_primitive::<UInt64Type, _, _>(lists::<u64>(column))),
            ColKind::ListF64 => Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(lists::<f64>(column))),
            ColKind::ListBool => {
                let mut b = ListBuilder::new(BooleanBuilder::new());
                for c in column.iter() {
                    let t = text(c);
                    if !t.is_empty() {
                        for v in t.split('|') {
                            b.values().append_value(v == "true");
                        }
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }
            ColKind::ListStr => {
                let mut b = ListBuilder::new(StringBuilder::new());
                for c in column.iter() {
                    let t = text(c);
                    if !t.is_empty() {
                        for v in t.split('|') {
                            b.values().append_value(v);
                        }
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }
        }
    }
}

/// The cells of one column of a chunk's rows, their texts back to back.
#[derive(Debug, Default)]
pub struct CellColumn {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl CellColumn {
    /// Room for `rows` cells.
    pub fn with_capacity(rows: usize) -> CellColumn {
        CellColumn { data: Vec::with_capacity(rows * 8), ends: Vec::with_capacity(rows) }
    }

    pub fn push(&mut self, cell: &[u8]) {
        self.data.extend_from_slice(cell);
        self.ends.push(self.data.len());
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The cells in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let cell = self.data.get(start..end).unwrap_or_default();
            start = end;
            cell
        })
    }
}

/// Lower-case hex (as dump writes bytes) back to bytes.
fn unhex(cell: &[u8]) -> Vec<u8> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        _ => 0,
    };
    cell.chunks_exact(2).map(|p| digit(p[0]) << 4 | digit(p[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_quoted_as_the_csv_crate_quotes_them() {
        let cells: Vec<Vec<u8>> = ["plain", "", "a,b", "say \"hi\"", "two\nlines", "cr\r", "é|;{}"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        let labels = ["DoS, Hulk", "attacks", "attacks:a\"b"];
        let mut row = Vec::new();
        push_csv_row(&mut row, &cells, &[], labels);
        let mut expected = csv::Writer::from_writer(Vec::new());
        let mut all: Vec<&[u8]> = cells.iter().map(Vec::as_slice).collect();
        all.extend(labels.iter().map(|l| l.as_bytes()));
        expected.write_record(&all).unwrap();
        assert_eq!(String::from_utf8(row).unwrap(), String::from_utf8(expected.into_inner().unwrap()).unwrap());
    }

    #[test]
    fn only_text_columns_are_looked_at_for_quoting() {
        let columns = CsvColumns::new(netcap_records::RecordType::Connection.descriptor().unwrap());
        let quoting = quoting_columns(&columns);
        let named = |name: &str| (0..columns.len()).find(|&i| columns.field(i).name() == name).unwrap();
        for name in ["community_id", "conn_state", "application_protocol"] {
            assert!(quoting[named(name)], "{name}");
        }
        for name in ["timestamp_ns", "src_ip", "src_mac", "packets", "payload_bytes_mean", "payload_size_sequence"] {
            assert!(!quoting[named(name)], "{name}");
        }
        // Unchecked cells are copied as they are; checked ones quoted.
        let mut row = Vec::new();
        let cells = [b"1.5".to_vec(), b"a,b".to_vec()];
        push_csv_row(&mut row, &cells, &[false, true], ["x", "", ""]);
        assert_eq!(row, b"1.5,\"a,b\",x,,\n");
    }

    #[test]
    fn hex_round_trips() {
        assert_eq!(unhex(b"00ab0fff"), [0x00, 0xab, 0x0f, 0xff]);
        assert_eq!(unhex(b""), Vec::<u8>::new());
    }
}
