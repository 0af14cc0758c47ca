//! End-to-end tests: real record files in, exact text out.

use super::*;
use netcap_records::{
    Error as ErrorRecord, FrameCompressor, Header, IPv4, IPv4Option, IPv6, IPv6ExtensionHeader, RecordFileWriter, Tcp,
};
use prost::Message;

const T0: i64 = 1_368_328_666_543_210_123;

/// A record file holding `batches` (one zstd frame each); `finish` writes
/// the end marker, as an uninterrupted writer does.
/// An IP address as records store it: network-order bytes.
fn ip(text: &str) -> Vec<u8> {
    match text.parse::<std::net::IpAddr>().unwrap() {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn file_bytes<M: Message>(record_type: RecordType, batches: &[&[M]], finish: bool) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(record_type.file_name());
    let mut compressor = FrameCompressor::new(1).unwrap();
    let header = Header {
        record_type: record_type as i32,
        schema_version: 1,
        producer: "netcap 0.1.0".into(),
        created_ns: 1_368_328_666_000_000_000,
        source: "trace.pcap".into(),
        link_types: vec![1],
        snaplen: 65535,
        payloads: true,
        message_type: format!("netcap.{}", record_type.name()),
    };
    let mut w = RecordFileWriter::create(&path, &header, &mut compressor).unwrap();
    let mut count = 0;
    for batch in batches {
        let mut buf = Vec::new();
        for r in *batch {
            r.encode_length_delimited(&mut buf).unwrap();
            count += 1;
        }
        w.write_records(&buf, &mut compressor).unwrap();
    }
    if finish {
        w.finish(count).unwrap();
    } else {
        drop(w);
    }
    std::fs::read(&path).unwrap()
}

fn run_bytes(bytes: &[u8], opts: &DumpOptions) -> (String, Result<DumpSummary, DumpError>) {
    let reader = RecordReader::new("test", bytes).unwrap();
    let mut out = Vec::new();
    let result = dump(reader, opts, &mut out);
    (String::from_utf8(out).unwrap(), result)
}

/// Dumps a finished file and expects success.
fn run<M: Message>(record_type: RecordType, records: &[M], opts: &DumpOptions) -> String {
    let bytes = file_bytes(record_type, &[records], true);
    let (out, result) = run_bytes(&bytes, opts);
    let summary = result.unwrap();
    assert_eq!(summary.records, records.len() as u64);
    assert_eq!(summary.record_type, record_type);
    out
}

fn opts(format: Format) -> DumpOptions {
    DumpOptions { format, ..Default::default() }
}

fn select(format: Format, fields: &[&str]) -> DumpOptions {
    DumpOptions { format, select: Some(fields.iter().map(|s| s.to_string()).collect()), ..Default::default() }
}

fn syn() -> Tcp {
    Tcp {
        timestamp_ns: T0,
        frame: 1,
        src_ip: ip("10.0.0.1"),
        dst_ip: ip("10.0.0.2"),
        src_port: 51000,
        dst_port: 80,
        seq: 1000,
        header_length: 40,
        flags: 0x002,
        syn: true,
        window: 64240,
        checksum: 0xabcd,
        option_kinds: vec![2, 4, 8, 1, 3],
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        ts_val: Some(12345),
        // Present and zero: must not look absent.
        ts_ecr: Some(0),
        payload_length: 2,
        payload: vec![0xde, 0xad],
        ..Default::default()
    }
}

fn ack() -> Tcp {
    Tcp {
        timestamp_ns: T0 + 100_000_000,
        frame: 2,
        src_ip: ip("10.0.0.2"),
        dst_ip: ip("10.0.0.1"),
        src_port: 80,
        dst_port: 51000,
        seq: 5000,
        ack: 1001,
        header_length: 20,
        flags: 0x010,
        ack_flag: true,
        window: 1024,
        ..Default::default()
    }
}

fn ipv4_with_options() -> IPv4 {
    IPv4 {
        timestamp_ns: T0,
        frame: 7,
        src_ip: ip("192.168.1.1"),
        dst_ip: ip("192.168.1.2"),
        version: 4,
        header_length: 32,
        total_length: 52,
        ttl: 64,
        protocol: 6,
        options: vec![
            IPv4Option { r#type: 131, length: 7, data: vec![0x04, 0x0a, 0x00, 0x00, 0x01] },
            IPv4Option { r#type: 1, length: 1, data: vec![] },
        ],
        payload_length: 20,
        ..Default::default()
    }
}

fn ipv6_with_extensions() -> IPv6 {
    IPv6 {
        timestamp_ns: T0,
        frame: 9,
        src_ip: ip("fe80::1"),
        dst_ip: ip("ff02::1"),
        version: 6,
        payload_length: 24,
        next_header: 0,
        hop_limit: 1,
        extension_headers: vec![
            IPv6ExtensionHeader { r#type: 0, length: 8, next_header: 44, ..Default::default() },
            IPv6ExtensionHeader { r#type: 44, length: 8, next_header: 58, ..Default::default() },
        ],
        transport_protocol: 58,
        fragmented: true,
        fragment_id: 0x1234,
        ..Default::default()
    }
}

const TCP_HEADER: &str = "timestamp_ns,frame,src_ip,dst_ip,src_port,dst_port,seq,ack,\
header_length,flags,fin,syn,rst,psh,ack_flag,urg,ece,cwr,ns,window,checksum,urgent_pointer,\
option_kinds,mss,window_scale,sack_permitted,sack_blocks,ts_val,ts_ecr,payload_length,payload,tunnel,reassembled,community_id";

#[test]
fn text_skips_defaults_and_renders_times_lists_and_bytes() {
    let out = run(RecordType::Tcp, &[syn(), ack()], &opts(Format::Text));
    assert_eq!(
        out,
        "TCP timestamp=2013-05-12T03:17:46.543210123Z frame=1 src_ip=10.0.0.1 dst_ip=10.0.0.2 \
src_port=51000 dst_port=80 seq=1000 header_length=40 flags=2 syn=true window=64240 \
checksum=43981 option_kinds=2,4,8,1,3 mss=1460 window_scale=7 sack_permitted=true \
ts_val=12345 ts_ecr=0 payload_length=2 payload=dead\n\
TCP timestamp=2013-05-12T03:17:46.643210123Z frame=2 src_ip=10.0.0.2 dst_ip=10.0.0.1 \
src_port=80 dst_port=51000 seq=5000 ack=1001 header_length=20 flags=16 ack_flag=true \
window=1024\n"
    );
}

#[test]
fn text_renders_nested_messages() {
    let out = run(RecordType::Ipv4, &[ipv4_with_options()], &opts(Format::Text));
    assert_eq!(
        out,
        "IPv4 timestamp=2013-05-12T03:17:46.543210123Z frame=7 src_ip=192.168.1.1 \
dst_ip=192.168.1.2 version=4 header_length=32 total_length=52 ttl=64 protocol=TCP \
options={type=131,length=7,data=040a000001},{type=1,length=1} payload_length=20\n"
    );
    let out = run(RecordType::Ipv6, &[ipv6_with_extensions()], &opts(Format::Text));
    assert_eq!(
        out,
        "IPv6 timestamp=2013-05-12T03:17:46.543210123Z frame=9 src_ip=fe80::1 dst_ip=ff02::1 \
version=6 payload_length=24 hop_limit=1 \
extension_headers={type=0,length=8,next_header=44,routing_type=0,segments_left=0},\
{type=44,length=8,next_header=58,routing_type=0,segments_left=0} \
transport_protocol=58 fragmented=true fragment_id=4660\n"
    );
}

#[test]
fn text_quotes_strings_that_would_break_tokens() {
    let e = ErrorRecord {
        timestamp_ns: T0,
        frame: 3,
        layer: "ipv4".into(),
        offset: 14,
        reason: "bad \"length\", 12 < 20".into(),
    };
    let out = run(RecordType::Error, &[e], &opts(Format::Text));
    assert_eq!(
        out,
        "Error timestamp=2013-05-12T03:17:46.543210123Z frame=3 layer=ipv4 offset=14 \
reason=\"bad \\\"length\\\", 12 < 20\"\n"
    );
}

#[test]
fn text_with_selection_shows_selected_defaults_but_not_absent_optionals() {
    let out = run(RecordType::Tcp, &[syn(), ack()], &select(Format::Text, &["frame", "fin", "mss"]));
    assert_eq!(out, "TCP frame=1 fin=false mss=1460\nTCP frame=2 fin=false\n");
}

#[test]
fn csv_renders_every_field_with_the_documented_rules() {
    let out = run(RecordType::Tcp, &[syn(), ack()], &opts(Format::Csv));
    assert_eq!(
        out,
        format!(
            "{TCP_HEADER}\n\
1368328666543210123,1,10.0.0.1,10.0.0.2,51000,80,1000,0,40,2,false,true,false,false,false,\
false,false,false,false,64240,43981,0,2|4|8|1|3,1460,7,true,,12345,0,2,dead,,false,\n\
1368328666643210123,2,10.0.0.2,10.0.0.1,80,51000,5000,1001,20,16,false,false,false,false,true,\
false,false,false,false,1024,0,0,,,,false,,,,0,,,false,\n"
        )
    );
}

#[test]
fn csv_renders_repeated_messages_field_by_field() {
    let out =
        run(RecordType::Ipv4, &[ipv4_with_options(), IPv4::default()], &select(Format::Csv, &["frame", "options"]));
    assert_eq!(out, "frame,options\n7,131;7;040a000001|1;1;\n0,\n");
    let out = run(
        RecordType::Ipv6,
        &[ipv6_with_extensions()],
        &select(Format::Csv, &["extension_headers", "fragmented", "more_fragments"]),
    );
    assert_eq!(out, "extension_headers,fragmented,more_fragments\n0;8;44;0;0;{}|44;8;58;0;0;{},true,false\n");
}

#[test]
fn csv_quotes_cells_with_separators_and_quotes() {
    let e =
        ErrorRecord { frame: 3, layer: "ipv4".into(), reason: "bad \"length\", 12 < 20".into(), ..Default::default() };
    let out = run(RecordType::Error, &[e], &opts(Format::Csv));
    assert_eq!(out, "timestamp_ns,frame,layer,offset,reason\n0,3,ipv4,0,\"bad \"\"length\"\", 12 < 20\"\n");
}

#[test]
fn tsv_and_custom_separators() {
    let fields = ["frame", "src_ip", "option_kinds", "mss"];
    let out = run(RecordType::Tcp, &[syn(), ack()], &select(Format::Tsv, &fields));
    assert_eq!(out, "frame\tsrc_ip\toption_kinds\tmss\n1\t10.0.0.1\t2|4|8|1|3\t1460\n2\t10.0.0.2\t\t\n");
    let mut o = select(Format::Csv, &fields);
    o.separator = Some(b';');
    let out = run(RecordType::Tcp, &[syn()], &o);
    assert_eq!(out, "frame;src_ip;option_kinds;mss\n1;10.0.0.1;2|4|8|1|3;1460\n");
    o.separator = Some(b'"');
    let bytes = file_bytes(RecordType::Tcp, &[&[syn()]], true);
    let (_, result) = run_bytes(&bytes, &o);
    assert!(matches!(result, Err(DumpError::BadSeparator('"'))));
}

#[test]
fn selection_orders_columns_and_accepts_the_timestamp_label() {
    let out = run(RecordType::Tcp, &[syn()], &select(Format::Csv, &["dst_port", "frame", "timestamp", "src_ip"]));
    assert_eq!(out, "dst_port,frame,timestamp_ns,src_ip\n80,1,1368328666543210123,10.0.0.1\n");
}

#[test]
fn unknown_field_lists_the_valid_ones() {
    let bytes = file_bytes(RecordType::Ipv6, &[&[ipv6_with_extensions()]], true);
    let (out, result) = run_bytes(&bytes, &select(Format::Csv, &["frame", "bogus"]));
    assert_eq!(out, "");
    let err = result.unwrap_err();
    assert!(matches!(&err, DumpError::UnknownField { name, .. } if name == "bogus"));
    assert_eq!(
        err.to_string(),
        "IPv6 has no field \"bogus\"; its fields are: timestamp_ns, frame, src_ip, dst_ip, \
version, traffic_class, flow_label, payload_length, next_header, hop_limit, \
extension_headers, transport_protocol, fragmented, fragment_offset, more_fragments, \
fragment_id, payload, tunnel, community_id"
    );
    let (_, result) = run_bytes(&bytes, &select(Format::Csv, &[]));
    assert!(matches!(result, Err(DumpError::EmptySelection)));
}

#[test]
fn json_lines_use_proto_names_numbers_and_include_defaults() {
    let out = run(RecordType::Tcp, &[syn(), ack()], &opts(Format::Json));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines[1],
        r#"{"timestamp_ns":1368328666643210123,"frame":2,"src_ip":"10.0.0.2","dst_ip":"10.0.0.1","src_port":80,"dst_port":51000,"seq":5000,"ack":1001,"header_length":20,"flags":16,"fin":false,"syn":false,"rst":false,"psh":false,"ack_flag":true,"urg":false,"ece":false,"cwr":false,"ns":false,"window":1024,"checksum":0,"urgent_pointer":0,"option_kinds":[],"sack_permitted":false,"sack_blocks":[],"payload_length":0,"payload":"","reassembled":false,"community_id":""}"#
    );
    let first: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(first["timestamp_ns"], serde_json::json!(T0));
    assert_eq!(first["mss"], 1460);
    assert_eq!(first["ts_ecr"], 0);
    assert_eq!(first["option_kinds"], serde_json::json!([2, 4, 8, 1, 3]));
    // proto3 JSON mapping: bytes are base64.
    assert_eq!(first["payload"], "3q0=");
}

#[test]
fn json_nested_and_selected() {
    let out = run(RecordType::Ipv4, &[ipv4_with_options()], &select(Format::Json, &["options", "frame"]));
    assert_eq!(
        out,
        "{\"options\":[{\"type\":131,\"length\":7,\"data\":\"BAoAAAE=\"},\
{\"type\":1,\"length\":1,\"data\":\"\"}],\"frame\":7}\n"
    );
    // Selected but absent optional fields are left out, as without a selection.
    let out = run(RecordType::Tcp, &[ack()], &select(Format::Json, &["mss", "frame"]));
    assert_eq!(out, "{\"frame\":2}\n");
}

#[test]
fn table_aligns_columns_and_right_aligns_numbers() {
    let out = run(
        RecordType::Tcp,
        &[syn(), ack()],
        &select(Format::Table, &["timestamp", "frame", "src_ip", "src_port", "option_kinds", "mss", "syn"]),
    );
    assert_eq!(
        out,
        "\
timestamp                       frame  src_ip    src_port  option_kinds   mss  syn
2013-05-12T03:17:46.543210123Z      1  10.0.0.1     51000  2,4,8,1,3     1460  true
2013-05-12T03:17:46.643210123Z      2  10.0.0.2        80                      false
"
    );
    let out = run(RecordType::Ipv4, &[ipv4_with_options()], &select(Format::Table, &["options", "frame"]));
    assert_eq!(
        out,
        "\
options                                   frame
{type=131,length=7,data=040a000001},{type=1,length=1}      7
"
    );
}

#[test]
fn table_with_no_records_prints_the_header() {
    let out = run::<Tcp>(RecordType::Tcp, &[], &select(Format::Table, &["frame", "src_ip"]));
    assert_eq!(out, "frame  src_ip\n");
}

#[test]
fn table_widths_are_fixed_after_the_sample() {
    let mut records: Vec<Tcp> = (0..TABLE_SAMPLE_ROWS as u64)
        .map(|i| Tcp { frame: i + 1, src_ip: ip("10.0.0.1"), ..Default::default() })
        .collect();
    records.push(Tcp { frame: 1_000_000, src_ip: ip("2001:db8::1"), ..Default::default() });
    let out = run(RecordType::Tcp, &records, &select(Format::Table, &["src_ip", "frame"]));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), TABLE_SAMPLE_ROWS + 2);
    assert_eq!(lines[0], "src_ip    frame");
    assert_eq!(lines[1], "10.0.0.1      1");
    // Wider than the sampled widths: printed whole, shifting the line.
    assert_eq!(lines[TABLE_SAMPLE_ROWS + 1], "2001:db8::1  1000000");
}

#[test]
fn list_fields_shows_names_types_and_comments() {
    let bytes = file_bytes::<Tcp>(RecordType::Tcp, &[], true);
    let (out, result) = run_bytes(&bytes, &DumpOptions { list_fields: true, ..Default::default() });
    result.unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 34);
    // TCP's timestamp_ns has no comment in the proto.
    assert_eq!(lines[0], "timestamp_ns    sfixed64");
    assert_eq!(lines[2], "src_ip          bytes");
    assert_eq!(
        lines[22],
        "option_kinds    repeated uint32   Kinds of the options in order of appearance (0 EOL, 1 NOP, 2 MSS, ...)."
    );
    assert_eq!(lines[23], "mss             optional uint32   Maximum segment size option, if present.");
    let bytes = file_bytes::<IPv4>(RecordType::Ipv4, &[], true);
    let (out, _) = run_bytes(&bytes, &DumpOptions { list_fields: true, ..Default::default() });
    assert!(out.contains("\noptions          repeated IPv4Option\n"), "{out}");
}

#[test]
fn header_only_prints_every_header_field() {
    let bytes = file_bytes::<Tcp>(RecordType::Tcp, &[&[syn()]], true);
    let header_opts = |format| DumpOptions { format, header_only: true, ..Default::default() };
    let (out, result) = run_bytes(&bytes, &header_opts(Format::Text));
    assert_eq!(result.unwrap().records, 0);
    assert_eq!(
        out,
        "record_type: TCP
schema_version: 1
producer: \"netcap 0.1.0\"
created_ns: 1368328666000000000 (2013-05-12T03:17:46.000000000Z)
source: trace.pcap
link_types: 1
snaplen: 65535
payloads: true
message_type: netcap.TCP
"
    );
    let (out, _) = run_bytes(&bytes, &header_opts(Format::Json));
    assert_eq!(
        out,
        "{\"record_type\":\"RECORD_TYPE_TCP\",\"schema_version\":1,\"producer\":\"netcap 0.1.0\",\
\"created_ns\":1368328666000000000,\"source\":\"trace.pcap\",\"link_types\":[1],\
\"snaplen\":65535,\"payloads\":true,\"message_type\":\"netcap.TCP\"}\n"
    );
}

#[test]
fn every_record_type_dumps_in_every_format() {
    for record_type in RecordType::all() {
        // A default record of each type, built from the schema alone.
        let desc = record_type.descriptor().unwrap().clone();
        let mut msg = DynamicMessage::new(desc.clone());
        msg.set_field_by_name("frame", prost_reflect::Value::U64(1));
        let bytes = file_bytes(record_type, &[&[msg]], true);
        for format in Format::ALL {
            let (out, result) = run_bytes(&bytes, &opts(format));
            assert_eq!(result.unwrap().records, 1, "{record_type:?} {format}");
            assert!(!out.is_empty(), "{record_type:?} {format}");
        }
    }
}

#[test]
fn unfinished_file_prints_all_records_then_the_error() {
    let bytes = file_bytes(RecordType::Tcp, &[&[syn()], &[ack()]], false);
    let (out, result) = run_bytes(&bytes, &select(Format::Csv, &["frame"]));
    assert_eq!(out, "frame\n1\n2\n");
    let err = result.unwrap_err();
    assert!(
        matches!(&err, DumpError::Damaged { errors, more: 0 } if matches!(errors[..], [ReadError::Unfinished { complete: 2, .. }])),
        "{err}"
    );
}

#[test]
fn truncated_file_prints_complete_records_then_the_error() {
    let first: Vec<Tcp> = (1..=3).map(|frame| Tcp { frame, ..ack() }).collect();
    let second: Vec<Tcp> = (4..=6).map(|frame| Tcp { frame, ..ack() }).collect();
    let bytes = file_bytes(RecordType::Tcp, &[&first, &second], true);
    // Cut inside the last frame (before its checksum and the end marker).
    let cut = &bytes[..bytes.len() - 30];
    for format in Format::ALL {
        let (out, result) = run_bytes(cut, &select(format, &["frame"]));
        let err = result.unwrap_err();
        assert!(matches!(err, DumpError::Damaged { .. }), "{format}: {err}");
        assert!(err.to_string().starts_with("test: "), "{err}");
        let expected_lines = match format {
            Format::Text => vec!["TCP frame=1", "TCP frame=2", "TCP frame=3"],
            Format::Json => vec![r#"{"frame":1}"#, r#"{"frame":2}"#, r#"{"frame":3}"#],
            _ => vec!["frame", "1", "2", "3"],
        };
        // The reader yields the first frame's records; whatever of the
        // second frame it could decode before the cut may follow.
        let lines: Vec<&str> = out.lines().map(str::trim).collect();
        assert!(lines.len() >= expected_lines.len(), "{format}: {out}");
        assert_eq!(lines[..expected_lines.len()], expected_lines[..], "{format}");
        assert!(lines.len() < expected_lines.len() + 3, "{format}: {out}");
    }
}

#[test]
fn undecodable_record_stops_after_the_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("TCP.ncap.zst");
    let mut compressor = FrameCompressor::new(1).unwrap();
    let header = Header { record_type: RecordType::Tcp as i32, ..Default::default() };
    let mut w = RecordFileWriter::create(&path, &header, &mut compressor).unwrap();
    let mut buf = syn().encode_length_delimited_to_vec();
    // Field 3 (src_ip, a string) with a varint wire type.
    buf.extend_from_slice(&[2, 0x18, 0x01]);
    w.write_records(&buf, &mut compressor).unwrap();
    w.finish(2).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let (out, result) = run_bytes(&bytes, &select(Format::Text, &["frame"]));
    assert_eq!(out, "TCP frame=1\n");
    let err = result.unwrap_err();
    assert!(matches!(err, DumpError::Decode { record: 2, .. }), "{err}");
    assert!(err.to_string().starts_with("record 2 does not decode as netcap.TCP: "), "{err}");
}

/// A pipe whose reader has gone away after `budget` bytes.
struct ClosedPipe {
    budget: usize,
}

impl Write for ClosedPipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.budget == 0 {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let n = buf.len().min(self.budget);
        self.budget -= n;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn broken_pipe_is_an_output_error_in_every_format() {
    let records: Vec<Tcp> = (1..=3000).map(|frame| Tcp { frame, ..syn() }).collect();
    let finished = file_bytes(RecordType::Tcp, &[&records], true);
    let unfinished = file_bytes(RecordType::Tcp, &[&records], false);
    for bytes in [&finished, &unfinished] {
        for format in Format::ALL {
            for budget in [0, 100, 100_000] {
                let reader = RecordReader::new("test", bytes.as_slice()).unwrap();
                let mut pipe = ClosedPipe { budget };
                let err = dump(reader, &opts(format), &mut pipe).unwrap_err();
                // Output errors win over the unfinished file's read error.
                assert!(err.is_broken_pipe(), "{format} {budget}: {err}");
            }
        }
    }
    let reader = RecordReader::new("test", finished.as_slice()).unwrap();
    let header_only = DumpOptions { header_only: true, ..Default::default() };
    let err = dump(reader, &header_only, &mut ClosedPipe { budget: 0 }).unwrap_err();
    assert!(err.is_broken_pipe(), "{err}");
}

#[test]
fn formats_parse_by_name() {
    for format in Format::ALL {
        assert_eq!(format.name().parse::<Format>().unwrap(), format);
    }
    assert_eq!("CSV".parse::<Format>().unwrap(), Format::Csv);
    assert!("xml".parse::<Format>().is_err());
}

/// Deterministic pseudo-random numbers for the generated records.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A value of `kind` with edge cases mixed in (extremes, NaN, unknown enum
/// numbers, strings with separators, odd address lengths).
fn random_value(rng: &mut Rng, kind: &prost_reflect::Kind, depth: u32) -> prost_reflect::Value {
    use prost_reflect::{Kind, Value};
    let wide = |rng: &mut Rng| match rng.below(4) {
        0 => 0,
        1 => rng.next(),
        2 => u64::MAX,
        _ => rng.below(300),
    };
    match kind {
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(wide(rng) as i32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(wide(rng) as i64),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(wide(rng) as u32),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(wide(rng)),
        Kind::Float => {
            Value::F32([0.0, -0.0, 1.5, f32::NAN, f32::INFINITY, 1e-30, 3.402_823_5e38][rng.below(7) as usize])
        }
        Kind::Double => Value::F64(
            [
                0.0,
                -0.0,
                612.5,
                0.031,
                f64::NAN,
                f64::NEG_INFINITY,
                1e-300,
                1.234_567_890_123e21,
                rng.next() as f64 / 7.0,
            ][rng.below(9) as usize],
        ),
        Kind::Bool => Value::Bool(rng.below(2) == 1),
        Kind::String => {
            Value::String(["", "tcp", "a,b", "q\"x", "l\nm", "é|;{}\\", "x y"][rng.below(7) as usize].into())
        }
        Kind::Bytes => {
            let len = [0, 2, 4, 6, 16, 17][rng.below(6) as usize];
            Value::Bytes((0..len).map(|_| rng.next() as u8).collect::<Vec<u8>>().into())
        }
        Kind::Enum(e) => {
            let values: Vec<i32> = e.values().map(|v| v.number()).collect();
            match rng.below(5) {
                0 => Value::EnumNumber(1000 + rng.below(5) as i32),
                _ => Value::EnumNumber(values[rng.below(values.len() as u64) as usize]),
            }
        }
        Kind::Message(m) => Value::Message(random_message(rng, m, depth + 1)),
    }
}

/// A message with a random subset of its fields set (lists of 0 to 3).
fn random_message(rng: &mut Rng, desc: &MessageDescriptor, depth: u32) -> DynamicMessage {
    use prost_reflect::{MapKey, Value};
    let mut msg = DynamicMessage::new(desc.clone());
    if depth > 3 {
        return msg;
    }
    for field in desc.fields() {
        if rng.below(4) == 0 {
            continue;
        }
        let kind = field.kind();
        let value = if field.is_map() {
            let entry = kind.as_message().unwrap().clone();
            let mut map = std::collections::HashMap::new();
            for _ in 0..rng.below(3) {
                let key = match random_value(rng, &entry.map_entry_key_field().kind(), depth) {
                    Value::String(s) => MapKey::String(s),
                    Value::I32(v) => MapKey::I32(v),
                    Value::I64(v) => MapKey::I64(v),
                    Value::U32(v) => MapKey::U32(v),
                    Value::U64(v) => MapKey::U64(v),
                    Value::Bool(v) => MapKey::Bool(v),
                    _ => continue,
                };
                map.insert(key, random_value(rng, &entry.map_entry_value_field().kind(), depth));
            }
            Value::Map(map)
        } else if field.is_list() {
            Value::List((0..rng.below(4)).map(|_| random_value(rng, &kind, depth)).collect())
        } else {
            random_value(rng, &kind, depth)
        };
        msg.set_field(&field, value);
    }
    msg
}

/// The general path: decode, then one cell per column.
fn general_cells(columns: &CsvColumns, desc: &MessageDescriptor, bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let msg = DynamicMessage::decode(desc.clone(), bytes).ok()?;
    Some(
        (0..columns.len())
            .map(|i| {
                let mut cell = Vec::new();
                columns.cell(i, &msg, &mut cell);
                cell
            })
            .collect(),
    )
}

#[test]
fn cells_from_bytes_match_the_general_path_for_every_record_type() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut cells = Vec::new();
    let mut scratch = CellScratch::default();
    for record_type in RecordType::all() {
        let desc = record_type.descriptor().unwrap().clone();
        let columns = CsvColumns::new(&desc);
        for round in 0..300 {
            let msg = if round == 0 { DynamicMessage::new(desc.clone()) } else { random_message(&mut rng, &desc, 0) };
            let bytes = msg.encode_to_vec();
            let expected = general_cells(&columns, &desc, &bytes).unwrap();
            columns.cells_from_bytes(&bytes, &mut cells, &mut scratch).unwrap();
            assert_eq!(cells, expected, "{} round {round}", desc.name());
            // Damaged copies: both paths fail, or both give the same cells.
            for _ in 0..4 {
                let mut damaged = bytes.clone();
                match rng.below(3) {
                    0 => damaged.truncate(rng.below(bytes.len() as u64 + 1) as usize),
                    1 if !damaged.is_empty() => {
                        let at = rng.below(damaged.len() as u64) as usize;
                        damaged[at] = rng.next() as u8;
                    }
                    _ => damaged.extend((0..rng.below(6)).map(|_| rng.next() as u8)),
                }
                let general = general_cells(&columns, &desc, &damaged);
                let fast = columns.cells_from_bytes(&damaged, &mut cells, &mut scratch).ok().map(|()| cells.clone());
                assert_eq!(fast, general, "{} round {round} damaged {damaged:?}", desc.name());
            }
        }
    }
}

#[test]
fn cells_from_bytes_read_unpacked_lists_and_repeated_scalars_as_protobuf_does() {
    let desc = RecordType::Tcp.descriptor().unwrap().clone();
    let columns = CsvColumns::new(&desc);
    let number = |name: &str| desc.get_field_by_name(name).unwrap().number();
    use prost::encoding::{WireType, encode_key, encode_varint};
    // option_kinds 2 and 4 unpacked, then a packed 8, 1; frame twice (the
    // last wins); an unknown field 1000 (varint) in between.
    let (kinds, frame) = (number("option_kinds"), number("frame"));
    let mut bytes = Vec::new();
    let varint_field = |n: u32, v: u64, bytes: &mut Vec<u8>| {
        encode_key(n, WireType::Varint, bytes);
        encode_varint(v, bytes);
    };
    varint_field(kinds, 2, &mut bytes);
    varint_field(frame, 7, &mut bytes);
    varint_field(kinds, 4, &mut bytes);
    varint_field(1000, 5, &mut bytes);
    encode_key(kinds, WireType::LengthDelimited, &mut bytes);
    bytes.extend_from_slice(&[2, 8, 1]);
    varint_field(frame, 9, &mut bytes);
    let expected = general_cells(&columns, &desc, &bytes).unwrap();
    let mut cells = Vec::new();
    columns.cells_from_bytes(&bytes, &mut cells, &mut CellScratch::default()).unwrap();
    assert_eq!(cells, expected);
    let cell = |name: &str| {
        let i = (0..columns.len()).find(|&i| columns.field(i).name() == name).unwrap();
        String::from_utf8(cells[i].clone()).unwrap()
    };
    assert_eq!(cell("option_kinds"), "2|4|8|1");
    assert_eq!(cell("frame"), "9");
    assert_eq!(cell("mss"), "");
    assert_eq!(cell("syn"), "false");
}

#[test]
fn csv_columns_give_dumps_csv() {
    let records = [syn(), ack()];
    let text = run(RecordType::Tcp, &records, &opts(Format::Csv));
    let desc = RecordType::Tcp.descriptor().unwrap().clone();
    let columns = CsvColumns::new(&desc);
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record((0..columns.len()).map(|i| columns.field(i).name())).unwrap();
    let mut cells = Vec::new();
    for r in &records {
        columns.cells_from_bytes(&r.encode_to_vec(), &mut cells, &mut CellScratch::default()).unwrap();
        out.write_record(&cells).unwrap();
    }
    assert_eq!(String::from_utf8(out.into_inner().unwrap()).unwrap(), text);
}
