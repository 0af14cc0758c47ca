//! docs/records.md, rendered from the schema's descriptors and comments, so
//! the documentation of the record types cannot drift from proto/. A test
//! fails when the committed file differs; `NETCAP_UPDATE_DOCS=1 cargo test
//! -p netcap-records` rewrites it.

use crate::{DESCRIPTOR_POOL, RecordType};
use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};
use std::fmt::Write as _;

/// The comment attached to a schema element (by its descriptor path),
/// joined into one line.
fn comment(file: &prost_reflect::FileDescriptor, path: &[i32]) -> String {
    let proto = file.file_descriptor_proto();
    let Some(info) = &proto.source_code_info else {
        return String::new();
    };
    let Some(location) = info.location.iter().find(|l| l.path == path) else {
        return String::new();
    };
    let text = location.leading_comments.as_deref().or(location.trailing_comments.as_deref()).unwrap_or("");
    text.split_whitespace().collect::<Vec<_>>().join(" ").replace('|', "\\|")
}

fn type_name(f: &FieldDescriptor) -> String {
    let base = match f.kind() {
        Kind::Message(m) => format!("[{}](#{})", m.name(), m.name().to_lowercase()),
        Kind::Enum(e) => e.name().to_owned(),
        Kind::Double => "double".into(),
        Kind::Float => "float".into(),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => "int32".into(),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => "int64".into(),
        Kind::Uint32 | Kind::Fixed32 => "uint32".into(),
        Kind::Uint64 | Kind::Fixed64 => "uint64".into(),
        Kind::Bool => "bool".into(),
        Kind::String => "string".into(),
        Kind::Bytes => "bytes".into(),
    };
    if f.is_list() {
        format!("repeated {base}")
    } else if f.cardinality() == Cardinality::Optional && f.supports_presence() && f.containing_oneof().is_none() {
        match f.kind() {
            Kind::Message(_) => base,
            _ => format!("optional {base}"),
        }
    } else {
        base
    }
}

/// Meanings of the fields every record repeats, for fields whose own
/// comment is elided in the schema (to keep the files readable).
fn common_meaning(name: &str) -> &'static str {
    match name {
        "timestamp_ns" => "Capture time of the packet, Unix time in nanoseconds.",
        "frame" => "1-based index of the packet in its source (Wireshark's frame.number).",
        "src_ip" => "Source IP address of the packet.",
        "dst_ip" => "Destination IP address of the packet.",
        "src_port" => "Source port.",
        "dst_port" => "Destination port.",
        "community_id" => "Community ID v1 of the packet's flow (seed 0).",
        "tunnel" => "Set when the packet was decapsulated from a tunnel.",
        "reassembled" => "True for a record of a datagram reassembled from IP fragments.",
        _ => "",
    }
}

/// Messages that repeat another's fields and document them there.
fn documented_in(message: &str) -> &[&'static str] {
    match message {
        "MDNS" | "LLMNR" | "NetBIOSNameService" => &["DNS"],
        "DTLSClientHello" => &["TLSClientHello"],
        "DTLSServerHello" => &["TLSServerHello"],
        "QUICInitial" => &["TLSClientHello"],
        "ICMPv6" => &["ICMPv4"],
        "TCP" | "UDP" | "ICMPv4" => &["IPv4"],
        "IPv6" => &["IPv4"],
        _ => &[],
    }
}

fn field_meaning(m: &MessageDescriptor, f: &FieldDescriptor) -> String {
    let meaning = comment(&m.parent_file(), f.path());
    if !meaning.is_empty() {
        return meaning;
    }
    for other in documented_in(m.name()) {
        let Some(o) = DESCRIPTOR_POOL.get_message_by_name(&format!("netcap.{other}")) else { continue };
        if let Some(of) = o.get_field_by_name(f.name()) {
            let meaning = comment(&o.parent_file(), of.path());
            if !meaning.is_empty() {
                return meaning;
            }
        }
    }
    common_meaning(f.name()).to_owned()
}

/// Fields in the order the schema declares them, whose comments describe
/// groups of fields in that order (a field added to a group later has a
/// higher number), not by number.
fn declared_fields(m: &MessageDescriptor) -> Vec<FieldDescriptor> {
    m.descriptor_proto().field.iter().filter_map(|f| m.get_field(u32::try_from(f.number()).ok()?)).collect()
}

fn message_table(out: &mut String, m: &MessageDescriptor) {
    let _ = writeln!(out, "| # | field | type | meaning |");
    let _ = writeln!(out, "| ---: | --- | --- | --- |");
    for f in declared_fields(m) {
        let meaning = field_meaning(m, &f);
        let _ = writeln!(out, "| {} | `{}` | {} | {} |", f.number(), f.name(), type_name(&f), meaning);
    }
    let _ = writeln!(out);
}

/// What holds for every record type; the tables below only say what a field means.
const CONVENTIONS: &str = "## Conventions

- **Time and frame.** Every record has `timestamp_ns` (capture time, Unix \
nanoseconds) and `frame` (Wireshark's frame number), so the records of one \
packet join across files and back to the capture.
- **Addresses** are `bytes` in network order: 4 bytes for IPv4, 16 for \
IPv6, 6 for a MAC. `netcap dump` prints them as text by field name: `ip`, \
`*_ip`, `*_ips` and `*_proto_addr` are IP addresses; `mac`, `*_mac`, \
`*_macs` and `*_hw_addr` are MAC addresses (docs/dump.md).
- **Community ID.** Records from layer 3 up have `community_id`, the \
Community ID v1 (seed 0) of the packet's flow, as Zeek, Suricata, Arkime \
and Wireshark compute it.
- **Tunnels.** The records of a packet decapsulated from GRE, ERSPAN, \
VXLAN, Geneve, MPLS, PPPoE, IP-in-IP or Teredo have a `tunnel`: its kind, \
the addresses of the outer IP packet, the tunnel's identifier (VNI, key, \
label, session) and the nesting depth. Records of the outermost packet have \
none.
- **IP fragments.** With reassembly on (the default; `capture \
-reassemble=false` turns it off), fragments are reassembled in packet order \
before decoding. The link and IP records (`Ethernet`, `IPv4`, `IPv6`, \
`IPSecAH`, ...) are written for every fragment as captured. Transport and \
application records (`TCP`, `UDP`, `ICMPv4`, `ICMPv6`, `SCTP`, `IGMP`, \
`DNS`, ...) are written once per datagram, from the reassembled datagram, \
with `reassembled` true and the frame number of the fragment that completed \
it; a first fragment gives none of them, so nothing is counted twice. A \
datagram that never completes (missing fragment, timeout, memory bound) \
gives no transport records. Flows and statistics count the captured \
fragments, with the ports of the first fragment. With reassembly off, every \
fragment is decoded on its own: a first fragment gives the transport \
records its bytes hold, later fragments none. Overlapping fragments: the \
first data received wins (crates/decoder/src/reassembly.rs).

";

/// What a record type is: its message's comment in the schema, on one line.
pub fn record_description(record_type: RecordType) -> String {
    record_type.descriptor().map(|m| comment(&m.parent_file(), m.path())).unwrap_or_default().replace("\\|", "|")
}

/// The Markdown of docs/records.md.
pub fn records_markdown() -> String {
    let mut out = String::new();
    out.push_str("# Record types\n\n");
    out.push_str(
        "Generated from the schema in `proto/` by `crates/records/src/docs.rs`; do not edit. \
         Regenerate with `NETCAP_UPDATE_DOCS=1 cargo test -p netcap-records docs`.\n\n",
    );
    out.push_str(
        "Each record type is written to its own `<Type>.ncap.zst` file (docs/format.md). \
         Field numbers are the protobuf field numbers.\n\n",
    );
    out.push_str(CONVENTIONS);
    out.push_str("| record type | number | file | what |\n| --- | ---: | --- | --- |\n");
    let mut nested = Vec::new();
    for t in RecordType::all() {
        let m = t.descriptor().expect("record type has a message");
        let what = comment(&m.parent_file(), m.path());
        let _ = writeln!(
            out,
            "| [{}](#{}) | {} | `{}` | {} |",
            m.name(),
            m.name().to_lowercase(),
            t as i32,
            t.file_name(),
            what
        );
    }
    out.push('\n');
    for t in RecordType::all() {
        let m = t.descriptor().expect("record type has a message");
        let _ = writeln!(out, "## {}\n", m.name());
        let what = comment(&m.parent_file(), m.path());
        if !what.is_empty() {
            let _ = writeln!(out, "{what}\n");
        }
        message_table(&mut out, m);
        for f in m.fields() {
            if let Kind::Message(inner) = f.kind()
                && !nested.iter().any(|n: &MessageDescriptor| n.full_name() == inner.full_name())
            {
                nested.push(inner);
            }
        }
    }
    if !nested.is_empty() {
        out.push_str("## Nested messages\n\n");
        for m in nested {
            let _ = writeln!(out, "### {}\n", m.name());
            let what = comment(&m.parent_file(), m.path());
            if !what.is_empty() {
                let _ = writeln!(out, "{what}\n");
            }
            message_table(&mut out, &m);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn docs_records_md_is_current() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/records.md");
        let fresh = records_markdown();
        if std::env::var_os("NETCAP_UPDATE_DOCS").is_some() {
            std::fs::write(&path, &fresh).expect("docs/records.md is writable");
            return;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "docs/records.md is out of date with proto/: run NETCAP_UPDATE_DOCS=1 cargo test -p netcap-records docs"
        );
    }

    #[test]
    fn every_record_type_is_listed() {
        let md = records_markdown();
        for t in RecordType::all() {
            assert!(md.contains(&format!("## {}\n", t.name())), "{}", t.name());
            for f in t.descriptor().unwrap().fields() {
                assert!(md.contains(&format!("`{}`", f.name())), "{}.{}", t.name(), f.name());
            }
        }
    }
}
