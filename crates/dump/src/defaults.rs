//! The columns `dump -table` shows without `-select`: per record type, the
//! fields an analyst reads first (dotted paths reach into nested messages).
//! The table keeps those that fit the terminal, in this order; `-all` shows
//! every field. Types not listed get their non-empty fields in declaration
//! order, as many as fit.

/// The default columns of `record_type`, most important first.
pub(crate) fn table_columns(record_type: &str) -> Option<&'static [&'static str]> {
    Some(match record_type {
        "Flow" => &[
            "timestamp_ns",
            "src_ip",
            "src_port",
            "dst_ip",
            "dst_port",
            "transport_protocol",
            "application_protocol",
            "from_client",
            "packets",
            "bytes",
            "duration_ns",
            "termination_reason",
        ],
        "Connection" => &[
            "timestamp_ns",
            "src_ip",
            "src_port",
            "dst_ip",
            "dst_port",
            "transport_protocol",
            "application_protocol",
            "packets",
            "bytes",
            "duration_ns",
            "conn_state",
            "termination_reason",
            "history",
            "tls_server_name",
        ],
        "Ethernet" => &["timestamp_ns", "src_mac", "dst_mac", "ether_type", "wire_length"],
        "ARP" => &["timestamp_ns", "operation", "src_hw_addr", "src_proto_addr", "dst_hw_addr", "dst_proto_addr"],
        "IPv4" => &["timestamp_ns", "src_ip", "dst_ip", "protocol", "ttl", "total_length", "id", "flags"],
        "IPv6" => &["timestamp_ns", "src_ip", "dst_ip", "next_header", "hop_limit", "payload_length", "flow_label"],
        "TCP" => &[
            "timestamp_ns",
            "src_ip",
            "src_port",
            "dst_ip",
            "dst_port",
            "syn",
            "ack_flag",
            "fin",
            "rst",
            "psh",
            "seq",
            "ack",
            "window",
            "payload_length",
        ],
        "UDP" => &["timestamp_ns", "src_ip", "src_port", "dst_ip", "dst_port", "length", "payload_length"],
        "ICMPv4" | "ICMPv6" => &["timestamp_ns", "src_ip", "dst_ip", "type", "code", "id", "seq", "payload_length"],
        "DNS" | "MDNS" | "LLMNR" => &[
            "timestamp_ns",
            "src_ip",
            "dst_ip",
            "id",
            "response",
            "rcode",
            "questions.name",
            "questions.type",
            "answers.name",
            "answers.ip",
            "answers.data",
            "answers.ttl",
        ],
        "HTTP" => &[
            "timestamp_ns",
            "src_ip",
            "dst_ip",
            "dst_port",
            "method",
            "host",
            "request_uri",
            "status_code",
            "response_body_len",
            "resp_mime_types",
            "user_agent",
            "server",
        ],
        "TLSClientHello" => &[
            "timestamp_ns",
            "src_ip",
            "dst_ip",
            "dst_port",
            "sni",
            "version",
            "supported_versions",
            "alpn",
            "ja4",
            "ja3_hash",
        ],
        "TLSServerHello" => {
            &["timestamp_ns", "src_ip", "src_port", "dst_ip", "selected_version", "cipher_suite", "alpn", "ja3s_hash"]
        }
        "TLSCertificate" => &[
            "timestamp_ns",
            "src_ip",
            "dst_ip",
            "index",
            "subject_cn",
            "issuer_cn",
            "not_before",
            "not_after",
            "san_dns",
        ],
        "File" => &[
            "timestamp_ns",
            "src_ip",
            "dst_ip",
            "source",
            "filename",
            "mime_type",
            "total_bytes",
            "seen_bytes",
            "complete",
            "sha256",
        ],
        "QUICInitial" => &["timestamp_ns", "src_ip", "dst_ip", "dst_port", "version", "sni", "alpn", "ja4"],
        "DHCPv4" => &[
            "timestamp_ns",
            "src_ip",
            "dst_ip",
            "message_type",
            "client_mac",
            "your_ip",
            "requested_ip",
            "hostname",
            "vendor_class",
        ],
        "SIP" => &["timestamp_ns", "src_ip", "dst_ip", "method", "request_uri", "status_code", "from", "to", "call_id"],
        "SSDP" => {
            &["timestamp_ns", "src_ip", "dst_ip", "method", "status_code", "st", "nt", "usn", "location", "server"]
        }
        _ => return None,
    })
}

/// Whether a table cell is empty: nothing, or a list of empty strings
/// (`"",""`).
pub(crate) fn is_empty(cell: &[u8]) -> bool {
    cell.split(|&b| b == b',').all(|item| matches!(item, b"" | b"\"\""))
}

/// Whether a table cell says nothing (left out of generic default tables
/// when every sampled row has it): empty, zero, false, an empty list or
/// message, or a list of those.
pub(crate) fn is_blank(cell: &[u8]) -> bool {
    cell.split(|&b| b == b',').all(|item| matches!(item, b"" | b"0" | b"false" | b"[]" | b"{}" | b"\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcap_records::RecordType;

    /// Every default column names a field of its type (a schema change
    /// that renames one fails here, not silently in users' tables).
    #[test]
    fn default_columns_name_real_fields() {
        for record_type in RecordType::all() {
            let Some(columns) = table_columns(record_type.name()) else { continue };
            let Some(desc) = record_type.descriptor() else { continue };
            let layout = crate::schema::Layout::new(desc, crate::schema::Naming::Names);
            for column in columns {
                let select = [column.to_string()];
                assert!(
                    crate::schema::columns(desc, &layout, Some(&select)).is_ok(),
                    "{}: no field {column}",
                    record_type.name()
                );
            }
        }
    }
}
