//! CSV cells straight from a record's protobuf bytes, for record types
//! whose columns are scalars or lists of scalars (Connection, Flow, TCP,
//! ...): decoding a `DynamicMessage` first costs about twenty times a
//! typed decode, which `netcap label` cannot afford on a million
//! connections a second.
//!
//! The walk renders with the same helpers as [`crate::render::csv_cell`]
//! and falls back to the `DynamicMessage` path for anything it does not
//! handle itself (message and map columns, lists of strings or bytes,
//! groups, malformed or unusual encodings), so its cells are always those
//! of the general path; a test compares the two on every record type.

use crate::address::{Address, push_address};
use crate::render::{push_display, push_hex};
use crate::schema::Column;
use netcap_records::varint::decode as decode_varint;
use prost::encoding::WireType;
use prost_reflect::{EnumDescriptor, Kind};

/// How the walk renders a column.
#[derive(Clone)]
pub(crate) enum Plan {
    /// A singular scalar; `optional` fields are empty unless present.
    Scalar { scalar: Scalar, optional: bool },
    /// A repeated numeric, bool or enum field (packed or not): `a|b|c`.
    List(Scalar),
    /// Anything else: the record goes the general way.
    General,
}

/// A scalar type and how its wire value is shown.
#[derive(Clone)]
pub(crate) enum Scalar {
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Bool,
    Enum(EnumDescriptor),
    Fixed32,
    Sfixed32,
    Float,
    Fixed64,
    Sfixed64,
    Double,
    String,
    Bytes(Option<Address>),
}

impl Scalar {
    fn of(kind: &Kind, address: Option<Address>) -> Option<Scalar> {
        Some(match kind {
            Kind::Int32 => Scalar::Int32,
            Kind::Int64 => Scalar::Int64,
            Kind::Uint32 => Scalar::Uint32,
            Kind::Uint64 => Scalar::Uint64,
            Kind::Sint32 => Scalar::Sint32,
            Kind::Sint64 => Scalar::Sint64,
            Kind::Bool => Scalar::Bool,
            Kind::Enum(e) => Scalar::Enum(e.clone()),
            Kind::Fixed32 => Scalar::Fixed32,
            Kind::Sfixed32 => Scalar::Sfixed32,
            Kind::Float => Scalar::Float,
            Kind::Fixed64 => Scalar::Fixed64,
            Kind::Sfixed64 => Scalar::Sfixed64,
            Kind::Double => Scalar::Double,
            Kind::String => Scalar::String,
            Kind::Bytes => Scalar::Bytes(address),
            Kind::Message(_) => return None,
        })
    }

    fn wire_type(&self) -> WireType {
        match self {
            Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => WireType::ThirtyTwoBit,
            Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => WireType::SixtyFourBit,
            Scalar::String | Scalar::Bytes(_) => WireType::LengthDelimited,
            _ => WireType::Varint,
        }
    }

    /// What an absent, non-optional field shows (its default value).
    fn push_default(&self, buf: &mut Vec<u8>) {
        match self {
            Scalar::Bool => buf.extend_from_slice(b"false"),
            Scalar::String | Scalar::Bytes(_) => {}
            Scalar::Enum(e) => push_enum(buf, e, 0),
            _ => buf.push(b'0'),
        }
    }
}

impl Plan {
    pub(crate) fn of(column: &Column) -> Plan {
        let field = &column.field;
        if field.is_map() {
            return Plan::General;
        }
        if column.show.registry.is_some()
            || column.show.naming != crate::schema::Naming::ProtoEnums
            || !column.path.is_empty()
        {
            return Plan::General;
        }
        let Some(scalar) = Scalar::of(&column.kind, column.show.address) else {
            return Plan::General;
        };
        if field.is_list() {
            return match scalar {
                Scalar::String | Scalar::Bytes(_) => Plan::General,
                scalar => Plan::List(scalar),
            };
        }
        Plan::Scalar { scalar, optional: field.supports_presence() }
    }
}

/// Field number to column, built once per record type.
pub(crate) struct Walk {
    /// `by_number[n]` is the column of field `n`, or `NONE`.
    by_number: Vec<u16>,
    plans: Vec<Plan>,
    /// Some column's field number is above [`MAX_TABLE_NUMBER`]: a field
    /// numbered that high may be one, and only the general path finds it.
    high_columns: bool,
    /// More columns than the table can number: every record goes the
    /// general way.
    disabled: bool,
}

const NONE: u16 = u16::MAX;
/// Field numbers above this are looked up in no table: the schema's are
/// far smaller, and an input's cannot size a table.
const MAX_TABLE_NUMBER: u32 = 4096;

impl Walk {
    pub(crate) fn new(columns: &[Column]) -> Walk {
        let plans: Vec<Plan> = columns.iter().map(Plan::of).collect();
        let max = columns.iter().map(|c| c.field.number()).filter(|&n| n <= MAX_TABLE_NUMBER).max().unwrap_or(0);
        let mut by_number = vec![NONE; max as usize + 1];
        for (i, column) in columns.iter().enumerate() {
            let n = column.field.number();
            if n <= MAX_TABLE_NUMBER && i < usize::from(NONE) {
                by_number[n as usize] = i as u16;
            }
        }
        let high_columns = columns.iter().any(|c| c.field.number() > MAX_TABLE_NUMBER);
        Walk { by_number, plans, high_columns, disabled: columns.len() >= usize::from(NONE) }
    }

    /// Renders the cells of the record in `bytes` (cells cleared first).
    /// Returns false, with the cells in an unspecified state, when the
    /// record needs the general path.
    pub(crate) fn cells(&self, mut bytes: &[u8], cells: &mut [Vec<u8>], seen: &mut Vec<bool>) -> bool {
        if self.disabled || cells.len() != self.plans.len() {
            return false;
        }
        seen.clear();
        seen.resize(self.plans.len(), false);
        for cell in cells.iter_mut() {
            cell.clear();
        }
        let buf = &mut bytes;
        while !buf.is_empty() {
            let Some(key) = decode_varint(buf) else { return false };
            if key > u64::from(u32::MAX) {
                return false;
            }
            let number = (key >> 3) as u32;
            let Ok(wire_type) = WireType::try_from(key & 7) else { return false };
            if number == 0 {
                return false;
            }
            let column = self.by_number.get(number as usize).copied().unwrap_or(NONE);
            if column == NONE {
                if self.high_columns && number > MAX_TABLE_NUMBER {
                    return false;
                }
                if !skip(buf, wire_type) {
                    return false;
                }
                continue;
            }
            let column = usize::from(column);
            let (Some(plan), Some(cell), Some(seen)) =
                (self.plans.get(column), cells.get_mut(column), seen.get_mut(column))
            else {
                return false;
            };
            match plan {
                Plan::General => return false,
                Plan::Scalar { scalar, .. } => {
                    if wire_type != scalar.wire_type() {
                        return false;
                    }
                    // The last occurrence wins, as in protobuf.
                    cell.clear();
                    if !push_value(buf, scalar, cell) {
                        return false;
                    }
                }
                Plan::List(scalar) => {
                    if wire_type == WireType::LengthDelimited && scalar.wire_type() != WireType::LengthDelimited {
                        let Some(mut packed) = take_length_delimited(buf) else { return false };
                        while !packed.is_empty() {
                            if *seen {
                                cell.push(b'|');
                            }
                            *seen = true;
                            if !push_value(&mut packed, scalar, cell) {
                                return false;
                            }
                        }
                        continue;
                    }
                    if wire_type != scalar.wire_type() {
                        return false;
                    }
                    if *seen {
                        cell.push(b'|');
                    }
                    if !push_value(buf, scalar, cell) {
                        return false;
                    }
                }
            }
            *seen = true;
        }
        // Absent lists, maps, messages and optional fields stay empty, as
        // the general path shows them; absent plain scalars show their
        // default.
        for ((plan, cell), seen) in self.plans.iter().zip(cells.iter_mut()).zip(seen.iter()) {
            if let (Plan::Scalar { scalar, optional: false }, false) = (plan, seen) {
                scalar.push_default(cell);
            }
        }
        true
    }
}

/// Reads one value of `scalar` from `buf` and appends its rendering.
/// False if the bytes do not hold one.
fn push_value(buf: &mut &[u8], scalar: &Scalar, cell: &mut Vec<u8>) -> bool {
    match scalar {
        Scalar::Fixed32 | Scalar::Sfixed32 | Scalar::Float => {
            let Some((word, rest)) = buf.split_first_chunk::<4>() else { return false };
            *buf = rest;
            match scalar {
                Scalar::Fixed32 => push_u64(cell, u64::from(u32::from_le_bytes(*word))),
                Scalar::Sfixed32 => push_i64(cell, i64::from(i32::from_le_bytes(*word))),
                _ => push_display(cell, f32::from_le_bytes(*word)),
            }
        }
        Scalar::Fixed64 | Scalar::Sfixed64 | Scalar::Double => {
            let Some((word, rest)) = buf.split_first_chunk::<8>() else { return false };
            *buf = rest;
            match scalar {
                Scalar::Fixed64 => push_u64(cell, u64::from_le_bytes(*word)),
                Scalar::Sfixed64 => push_i64(cell, i64::from_le_bytes(*word)),
                _ => push_f64(cell, f64::from_le_bytes(*word)),
            }
        }
        Scalar::String => {
            let Some(data) = take_length_delimited(buf) else { return false };
            // prost-reflect refuses strings that are not UTF-8: so does the
            // general path, which reports the error.
            if std::str::from_utf8(data).is_err() {
                return false;
            }
            cell.extend_from_slice(data);
        }
        Scalar::Bytes(address) => {
            let Some(data) = take_length_delimited(buf) else { return false };
            match address {
                Some(kind) => push_address(cell, *kind, data),
                None => push_hex(cell, data),
            }
        }
        _ => {
            let Some(v) = decode_varint(buf) else { return false };
            match scalar {
                Scalar::Int32 => push_i64(cell, i64::from(v as i32)),
                Scalar::Int64 => push_i64(cell, v as i64),
                Scalar::Uint32 => push_u64(cell, u64::from(v as u32)),
                Scalar::Uint64 => push_u64(cell, v),
                Scalar::Sint32 => {
                    let v = v as u32;
                    push_i64(cell, i64::from(((v >> 1) as i32) ^ (-((v & 1) as i32))));
                }
                Scalar::Sint64 => push_i64(cell, ((v >> 1) as i64) ^ (-((v & 1) as i64))),
                Scalar::Bool => cell.extend_from_slice(if v != 0 { b"true" } else { b"false" }),
                Scalar::Enum(e) => push_enum(cell, e, v as i32),
                // Handled above.
                _ => return false,
            }
        }
    }
    true
}

/// Appends `v` in decimal, as `Display` does, without the formatting
/// machinery (a third of the walk's time went there).
fn push_u64(cell: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    cell.extend_from_slice(&digits[at..]);
}

fn push_i64(cell: &mut Vec<u8>, v: i64) {
    if v < 0 {
        cell.push(b'-');
    }
    push_u64(cell, v.unsigned_abs());
}

/// Appends `v` as `Display` does; whole numbers (frequent: counts, zero
/// statistics) skip the shortest-digits search, which gives the same text
/// for them.
fn push_f64(cell: &mut Vec<u8>, v: f64) {
    // 2^53: every whole number below is exact, and Display prints it
    // without exponent or fraction.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if v.fract() == 0.0 && v.abs() < EXACT {
        if v.is_sign_negative() {
            cell.push(b'-');
        }
        push_u64(cell, v.abs() as u64);
    } else {
        push_display(cell, v);
    }
}

/// An enum value's name, or its number if the schema does not name it.
fn push_enum(cell: &mut Vec<u8>, desc: &EnumDescriptor, number: i32) {
    match desc.get_value(number) {
        Some(v) => cell.extend_from_slice(v.name().as_bytes()),
        None => push_display(cell, number),
    }
}

fn take_length_delimited<'a>(buf: &mut &'a [u8]) -> Option<&'a [u8]> {
    let len = decode_varint(buf)?;
    let len = usize::try_from(len).ok()?;
    if len > buf.len() {
        return None;
    }
    let (data, rest) = buf.split_at(len);
    *buf = rest;
    Some(data)
}

/// Steps over a field the schema does not have. Groups are left to the
/// general path.
fn skip(buf: &mut &[u8], wire_type: WireType) -> bool {
    match wire_type {
        WireType::Varint => decode_varint(buf).is_some(),
        WireType::SixtyFourBit => buf.split_off(..8).is_some(),
        WireType::ThirtyTwoBit => buf.split_off(..4).is_some(),
        WireType::LengthDelimited => take_length_delimited(buf).is_some(),
        WireType::StartGroup | WireType::EndGroup => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&mut Vec<u8>)) -> String {
        let mut buf = Vec::new();
        f(&mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn varints_read_as_prost_reads_them() {
        let mut cases: Vec<Vec<u8>> = vec![vec![], vec![0x80], vec![0xff; 11], vec![0xff; 10]];
        for v in [0, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX - 1, u64::MAX] {
            let mut bytes = Vec::new();
            prost::encoding::encode_varint(v, &mut bytes);
            bytes.push(0x2a);
            cases.push(bytes);
        }
        for last in [0x01, 0x02, 0x7f] {
            let mut bytes = vec![0x80; 9];
            bytes.push(last);
            cases.push(bytes);
        }
        for case in &cases {
            for cut in 0..=case.len() {
                let (mut ours, mut theirs) = (&case[..cut], &case[..cut]);
                let want = prost::encoding::decode_varint(&mut theirs).ok();
                assert_eq!(decode_varint(&mut ours), want, "{:x?}", &case[..cut]);
                if want.is_some() {
                    assert_eq!(ours, theirs, "{:x?}", &case[..cut]);
                }
            }
        }
    }

    #[test]
    fn numbers_read_as_display_writes_them() {
        for v in [0, 1, 9, 10, 99, 100, 12_345, u64::from(u32::MAX), u64::MAX] {
            assert_eq!(text(|b| push_u64(b, v)), v.to_string());
        }
        for v in [0, -1, 1, -10, i64::from(i32::MIN), i64::MIN, i64::MAX] {
            assert_eq!(text(|b| push_i64(b, v)), v.to_string());
        }
        let exact = 9_007_199_254_740_992.0;
        for v in [
            0.0,
            -0.0,
            1.0,
            -1.0,
            612.5,
            0.031,
            exact - 1.0,
            exact,
            -exact,
            1e300,
            -1e-300,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            f64::MAX,
        ] {
            assert_eq!(text(|b| push_f64(b, v)), v.to_string(), "{v:?}");
        }
    }
}
