//! Printing a file's [`Header`].

use crate::render::{StrStyle, push_rfc3339};
use crate::schema::{Layout, Naming, is_time_field};
use crate::{DumpError, Format, json_options};
use netcap_records::{Header, RecordType};
use prost_reflect::{ReflectMessage, Value};
use std::io::Write;

/// Writes `header`: one JSON object for [`Format::Json`], else one
/// `name: value` line per field (all fields, defaults included), with the
/// record type by name and times both raw and as RFC 3339.
pub(crate) fn write_header(out: &mut dyn Write, header: &Header, format: Format) -> Result<(), DumpError> {
    let msg = header.transcode_to_dynamic();
    let mut buf = Vec::with_capacity(512);
    if format == Format::Json {
        let mut serializer = serde_json::Serializer::new(&mut buf);
        msg.serialize_with_options(&mut serializer, &json_options()).map_err(DumpError::Json)?;
        buf.push(b'\n');
        return out.write_all(&buf).map_err(DumpError::Output);
    }
    let desc = msg.descriptor();
    let layout = Layout::new(&desc, Naming::Names);
    for field in layout.fields(&desc).iter() {
        buf.extend_from_slice(field.name().as_bytes());
        buf.extend_from_slice(b": ");
        let value = msg.get_field(field);
        match &*value {
            Value::EnumNumber(n) if field.name() == "record_type" => {
                // The message name ("TCP") is what users pass to other
                // commands, not the enum constant.
                match RecordType::try_from(*n) {
                    Ok(t) if t != RecordType::Unspecified => buf.extend_from_slice(t.name().as_bytes()),
                    _ => {
                        let _ = write!(buf, "{n}");
                    }
                }
            }
            Value::I64(ns) if is_time_field(field) => {
                let _ = write!(buf, "{ns} (");
                push_rfc3339(&mut buf, *ns);
                buf.push(b')');
            }
            other => {
                let kind = field.kind();
                crate::render::text_field(
                    &mut buf,
                    false,
                    other,
                    &kind,
                    layout.show(field),
                    StrStyle::Quoted,
                    true,
                    &layout,
                );
            }
        }
        buf.push(b'\n');
    }
    out.write_all(&buf).map_err(DumpError::Output)
}
