//! The tshark oracle for the link, network and tunnel record types (LLDP,
//! GRE, ICMPv6NDP, ...), for tunnelled packets and for reassembled datagrams.
//!
//! For every suite of [`SUITES`], `netcap capture` runs on each capture that
//! has an expectation file testdata/expected-net/<suite>/<capture>.tsv
//! (written by scripts/tshark-expected-net), and every frame where tshark
//! shows the suite's protocol is compared field by field with netcap's
//! records of that frame: every occurrence of a tshark field, in order,
//! against the named netcap field of every record of the frame, in order.
//! Frames where only one side has the protocol count as disagreements.

use crate::util::{capture, testdata};
use netcap_records::{RecordReader, RecordType};
use prost_reflect::{DynamicMessage, ReflectMessage, Value};
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;

/// How a tshark value maps onto netcap's.
#[derive(Clone, Copy, Debug)]
enum Norm {
    /// Integers (decimal or 0x hex), booleans, addresses, text: compared as such.
    Auto,
    /// tshark counts 8-byte units (or 1/8 of netcap's value).
    Times8,
    /// Only the first tshark occurrence (tshark repeats the field per antenna, ...).
    First,
    /// tshark prints seconds; netcap keeps the wire's 1/256 s.
    Times256,
    /// tshark prints the bytes of a text field as hex.
    HexText,
    /// tshark's value with these bits only (GRE: netcap leaves out the version).
    Mask(i128),
}

/// Which of a frame's netcap records a suite compares.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Filter {
    /// All of them.
    All,
    /// Records decoded from inside a tunnel; tshark's occurrences for the
    /// outer records (as many as netcap has outer records) are skipped, and
    /// occurrences after the tunnelled ones (packets quoted by ICMP errors)
    /// are ignored.
    Tunnelled,
    /// Records of reassembled datagrams.
    Reassembled,
}

struct Check {
    tshark: &'static str,
    /// netcap field path: `a.b` reads `b` of each message of list `a`;
    /// `a[t=3].b` only of those whose `t` is 3; `x|y` the first alternative
    /// that has values.
    netcap: &'static str,
    norm: Norm,
    /// Not compared in frames where tshark has this field (`field`), or has
    /// it with this value (`field=value`): tshark fills it from another
    /// header or from conversation state there.
    skip_if: &'static str,
}

const fn c(tshark: &'static str, netcap: &'static str) -> Check {
    Check { tshark, netcap, norm: Norm::Auto, skip_if: "" }
}

const fn cn(tshark: &'static str, netcap: &'static str, norm: Norm) -> Check {
    Check { tshark, netcap, norm, skip_if: "" }
}

const fn cs(tshark: &'static str, netcap: &'static str, skip_if: &'static str) -> Check {
    Check { tshark, netcap, norm: Norm::Auto, skip_if }
}

/// Whether a check is left out of a frame (see [`Check::skip_if`]).
fn skipped(check: &Check, row: &Row) -> bool {
    if check.skip_if.is_empty() {
        return false;
    }
    match check.skip_if.split_once('=') {
        Some((field, value)) => row.fields.get(field).is_some_and(|occ| occ.iter().any(|v| canon(v) == canon(value))),
        None => row.fields.contains_key(check.skip_if),
    }
}

struct Suite {
    /// Directory under testdata/expected-net.
    dir: &'static str,
    record: RecordType,
    /// The frame has the record when this tshark field is present (and, if
    /// given, one of its occurrences is one of these values).
    key: &'static str,
    key_values: &'static [i64],
    filter: Filter,
    /// Layer name of the Error records that say netcap found this suite's
    /// header malformed ("" for the record type's name, lower-cased).
    error_layer: &'static str,
    checks: &'static [Check],
}

/// Share of compared frames that must agree, per suite, in percent.
const MIN_AGREEMENT: f64 = 99.0;

#[rustfmt::skip]
const SUITES: &[Suite] = &[
    Suite { dir: "gre", record: RecordType::Gre, key: "gre.proto", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        cn("gre.flags_and_version", "flags", Norm::Mask(0xfff8)), c("gre.proto", "protocol"), c("gre.key", "key"),
        c("gre.sequence_number", "sequence"), c("gre.ack_number", "acknowledgement"), c("gre.checksum", "checksum"),
    ]},
    Suite { dir: "erspan", record: RecordType::Erspan, key: "erspan.version", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("erspan.version", "version"), c("erspan.vlan", "vlan"), c("erspan.cos", "cos"),
        c("erspan.spanid", "session_id"), c("erspan.index", "index"), c("erspan.timestamp", "timestamp"),
    ]},
    Suite { dir: "vxlan", record: RecordType::Vxlan, key: "vxlan.vni", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("vxlan.vni", "vni"),
    ]},
    Suite { dir: "geneve", record: RecordType::Geneve, key: "geneve.vni", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("geneve.version", "version"), c("geneve.vni", "vni"), c("geneve.proto_type", "protocol"),
        c("geneve.flags.oam", "oam"), c("geneve.flags.critical", "critical"),
        c("geneve.option.class", "options.class"), c("geneve.option.type", "options.type"),
    ]},
    Suite { dir: "mpls", record: RecordType::Mpls, key: "mpls.label", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("mpls.label", "label"), c("mpls.exp", "traffic_class"), c("mpls.bottom", "bottom_of_stack"), c("mpls.ttl", "ttl"),
    ]},
    Suite { dir: "pppoe", record: RecordType::Pppoe, key: "pppoe.code", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("pppoe.version", "version"), c("pppoe.type", "type"), c("pppoe.code", "code"),
        c("pppoe.session_id", "session_id"), c("pppoe.payload_length", "length"), cn("ppp.protocol", "ppp_protocol", Norm::First),
    ]},
    Suite { dir: "igmp", record: RecordType::Igmp, key: "igmp.type", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("igmp.version", "version"), c("igmp.type", "type"), c("igmp.max_resp", "max_response_time"),
        c("igmp.checksum", "checksum"), c("igmp.maddr", "group_ip|group_records.multicast_ip"),
        c("igmp.s", "suppress"), c("igmp.qrv", "robustness"), c("igmp.qqic", "query_interval"),
        c("igmp.saddr", "source_ips|group_records.source_ips"), c("igmp.record_type", "group_records.type"),
        c("igmp.aux_data_len", "group_records.aux_data_length"), cn("ip.src", "src_ip", Norm::First),
    ]},
    Suite { dir: "ndp", record: RecordType::Icmpv6ndp, key: "icmpv6.type", key_values: &[133, 134, 135, 136, 137],
            filter: Filter::All, error_layer: "", checks: &[
        cn("icmpv6.type", "type", Norm::First), cn("icmpv6.code", "code", Norm::First),
        c("icmpv6.nd.ra.cur_hop_limit", "hop_limit"), c("icmpv6.nd.ra.flag", "flags"),
        c("icmpv6.nd.ra.router_lifetime", "router_lifetime"), c("icmpv6.nd.ra.reachable_time", "reachable_time"),
        c("icmpv6.nd.ra.retrans_timer", "retrans_timer"), c("icmpv6.nd.ns.target_address", "target_ip"),
        c("icmpv6.nd.na.target_address", "target_ip"), c("icmpv6.nd.na.flag.r", "router"),
        c("icmpv6.nd.na.flag.s", "solicited"), c("icmpv6.nd.na.flag.o", "override"),
        c("icmpv6.opt.type", "options.type"), cn("icmpv6.opt.length", "options.length", Norm::Times8),
        c("icmpv6.opt.linkaddr", "options.link_layer_mac"), c("icmpv6.opt.prefix", "options[type=3].prefix_ip"),
        c("icmpv6.opt.prefix.length", "options[type=3].prefix_length"),
        c("icmpv6.opt.prefix.flag", "options[type=3].prefix_flags"),
        c("icmpv6.opt.prefix.valid_lifetime", "options[type=3].valid_lifetime"),
        c("icmpv6.opt.prefix.preferred_lifetime", "options[type=3].preferred_lifetime"),
        c("icmpv6.opt.mtu", "options[type=5].mtu"), cn("ipv6.src", "src_ip", Norm::First),
    ]},
    Suite { dir: "ndp", record: RecordType::Mld, key: "icmpv6.type", key_values: &[130, 131, 132, 143],
            filter: Filter::All, error_layer: "", checks: &[
        cn("icmpv6.type", "type", Norm::First), c("icmpv6.mld.maximum_response_delay", "max_response_delay"),
        c("icmpv6.mld.multicast_address", "multicast_ip"), c("icmpv6.mld.flag.s", "suppress"),
        c("icmpv6.mld.flag.qrv", "robustness"), c("icmpv6.mld.qqi", "query_interval"),
        c("icmpv6.mldr.mar.record_type", "address_records.type"),
        c("icmpv6.mldr.mar.multicast_address", "address_records.multicast_ip"),
    ]},
    Suite { dir: "ipsec", record: RecordType::Ipsecah, key: "ah.spi", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("ah.spi", "spi"), c("ah.sequence", "sequence"), c("ah.next_header", "next_header"),
    ]},
    Suite { dir: "ipsec", record: RecordType::Ipsecesp, key: "esp.spi", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("esp.spi", "spi"), c("esp.sequence", "sequence"),
    ]},
    Suite { dir: "ospf", record: RecordType::Ospf, key: "ospf.version", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("ospf.version", "version"), c("ospf.msg", "type"), c("ospf.packet_length", "length"),
        c("ospf.srcrouter", "router_id_ip"), c("ospf.area_id", "area_id_ip"), c("ospf.checksum", "checksum"),
        c("ospf.auth.type", "auth_type"), c("ospf.hello.network_mask", "network_mask_ip"),
        c("ospf.hello.hello_interval", "hello_interval"), c("ospf.hello.router_priority", "router_priority"),
        c("ospf.hello.router_dead_interval", "dead_interval"), c("ospf.hello.designated_router", "designated_router_ip"),
        c("ospf.hello.backup_designated_router", "backup_designated_router_ip"),
        c("ospf.hello.active_neighbor", "neighbor_ips"),
    ]},
    Suite { dir: "sctp", record: RecordType::Sctp, key: "sctp.srcport", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("sctp.srcport", "src_port"), c("sctp.dstport", "dst_port"), c("sctp.verification_tag", "verification_tag"),
        c("sctp.checksum", "checksum"), c("sctp.chunk_type", "chunks.type"), c("sctp.chunk_flags", "chunks.flags"),
        c("sctp.chunk_length", "chunks.length"), c("sctp.data_tsn", "chunks[type=0].tsn"),
        c("sctp.data_sid", "chunks[type=0].stream_id"), c("sctp.data_ssn", "chunks[type=0].stream_sequence"),
        c("sctp.data_payload_proto_id", "chunks[type=0].payload_protocol_id"),
    ]},
    Suite { dir: "llc", record: RecordType::Llc, key: "llc.dsap", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("llc.dsap", "dsap"), c("llc.ssap", "ssap"), c("llc.control", "control"),
    ]},
    Suite { dir: "llc", record: RecordType::Snap, key: "llc.oui", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("llc.oui", "oui"), c("llc.pid", "protocol_id"),
    ]},
    Suite { dir: "stp", record: RecordType::Stp, key: "stp.protocol", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("stp.protocol", "protocol_id"), c("stp.version", "version"), c("stp.type", "bpdu_type"),
        c("stp.flags", "flags"), c("stp.root.prio", "root_priority"), c("stp.root.ext", "root_system_id_extension"),
        c("stp.root.hw", "root_mac"), c("stp.root.cost", "root_path_cost"),
        c("stp.bridge.prio", "bridge_priority"), c("stp.bridge.ext", "bridge_system_id_extension"),
        c("stp.bridge.hw", "bridge_mac"),
        c("stp.port", "port_id"), cn("stp.msg_age", "message_age", Norm::Times256),
        cn("stp.max_age", "max_age", Norm::Times256), cn("stp.hello", "hello_time", Norm::Times256),
        cn("stp.forward", "forward_delay", Norm::Times256),
    ]},
    Suite { dir: "lldp", record: RecordType::Lldp, key: "lldp.time_to_live", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("lldp.chassis.subtype", "chassis_id_subtype"), c("lldp.chassis.id.mac", "chassis_mac"),
        c("lldp.port.subtype", "port_id_subtype"), c("lldp.time_to_live", "ttl"),
        c("lldp.port.desc", "port_description"), c("lldp.tlv.system.name", "system_name"),
    ]},
    Suite { dir: "cdp", record: RecordType::Cdp, key: "cdp.version", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("cdp.version", "version"), c("cdp.ttl", "ttl"), c("cdp.checksum", "checksum"), c("cdp.deviceid", "device_id"),
        c("cdp.portid", "port_id"), c("cdp.platform", "platform"),
        c("cdp.native_vlan", "native_vlan"), c("cdp.duplex", "duplex"), c("cdp.tlv.type", "tlv_types"),
    ]},
    Suite { dir: "dot11", record: RecordType::Dot11, key: "wlan.fc.type", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("wlan.fc.type", "type"), c("wlan.fc.subtype", "subtype"), c("wlan.flags", "flags"),
        c("wlan.duration", "duration_id"), c("wlan.seq", "sequence_number"), c("wlan.frag", "fragment_number"),
        cn("wlan.ssid", "ssid", Norm::HexText), c("wlan.fixed.beacon", "beacon_interval"),
        c("wlan.fixed.capabilities", "capabilities"), c("radiotap.channel.freq", "channel_frequency"),
        cn("radiotap.dbm_antsignal", "signal_dbm", Norm::First), cn("radiotap.dbm_antnoise", "noise_dbm", Norm::First),
    ]},
    Suite { dir: "ipv6ext", record: RecordType::Ipv6hopbyhop, key: "ipv6.hopopts.nxt", key_values: &[], filter: Filter::All, error_layer: "ipv6", checks: &[
        c("ipv6.hopopts.nxt", "next_header"), c("ipv6.hopopts.len_oct", "length"),
        cs("ipv6.opt.type", "options.type", "ipv6.dstopts.nxt"), c("ipv6.opt.router_alert", "router_alert"),
    ]},
    Suite { dir: "ipv6ext", record: RecordType::Ipv6destination, key: "ipv6.dstopts.nxt", key_values: &[], filter: Filter::All, error_layer: "ipv6", checks: &[
        c("ipv6.dstopts.nxt", "next_header"), c("ipv6.dstopts.len_oct", "length"),
        cs("ipv6.opt.type", "options.type", "ipv6.hopopts.nxt"), c("ipv6.opt.mipv6.home_address", "home_ip"),
    ]},
    Suite { dir: "ipv6ext", record: RecordType::Ipv6routing, key: "ipv6.routing.nxt", key_values: &[], filter: Filter::All, error_layer: "ipv6", checks: &[
        c("ipv6.routing.nxt", "next_header"), c("ipv6.routing.len_oct", "length"), c("ipv6.routing.type", "routing_type"),
        c("ipv6.routing.segleft", "segments_left"), c("ipv6.routing.src.addr", "address_ips"),
        c("ipv6.routing.mipv6.home_address", "address_ips"), c("ipv6.routing.srh.addr", "address_ips"),
        c("ipv6.routing.srh.last_entry", "last_entry"), c("ipv6.routing.srh.flags", "flags"), c("ipv6.routing.srh.tag", "tag"),
    ]},
    Suite { dir: "ipv6ext", record: RecordType::Ipv6fragment, key: "ipv6.fraghdr.nxt", key_values: &[], filter: Filter::All, error_layer: "ipv6", checks: &[
        c("ipv6.fraghdr.nxt", "next_header"), cn("ipv6.fraghdr.offset", "fragment_offset", Norm::Times8),
        c("ipv6.fraghdr.more", "more_fragments"), c("ipv6.fraghdr.ident", "identification"),
    ]},
    Suite { dir: "icmpv6echo", record: RecordType::Icmpv6echo, key: "icmpv6.type", key_values: &[128, 129], filter: Filter::All, error_layer: "", checks: &[
        c("icmpv6.type", "type"), c("icmpv6.code", "code"), c("icmpv6.echo.identifier", "identifier"),
        c("icmpv6.echo.sequence_number", "sequence"),
    ]},
    Suite { dir: "enip", record: RecordType::Enip, key: "enip.command", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("enip.command", "command"), c("enip.length", "length"), c("enip.session", "session_handle"),
        c("enip.status", "status"), c("enip.context", "sender_context"), c("enip.options", "options"),
        c("enip.cpf.typeid", "item_types"), c("enip.rs.version", "protocol_version"), c("enip.lir.vendor", "identity.vendor_id"),
        c("enip.lir.devtype", "identity.device_type"), c("enip.lir.prodcode", "identity.product_code"),
        c("enip.lir.serial", "identity.serial_number"), c("enip.lir.name", "identity.product_name"),
        c("enip.sinaddr", "identity.ip"), c("enip.sinport", "identity.port"),
        c("enip.lsr.servicename", "services"),
    ]},
    Suite { dir: "cip", record: RecordType::Cip, key: "cip.sc", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("cip.sc", "service"), cs("cip.class", "class_id", "cip.rr=1"), cs("cip.instance", "instance_id", "cip.rr=1"),
        cs("cip.attribute", "attribute_id", "cip.rr=1"), cs("cip.symbol", "symbol", "cip.rr=1"),
        c("cip.genstat", "general_status"), c("cip.addstat", "additional_status"),
    ]},
    Suite { dir: "radius", record: RecordType::Radius, key: "radius.code", key_values: &[], filter: Filter::All, error_layer: "", checks: &[
        c("radius.code", "code"), c("radius.id", "identifier"), c("radius.length", "length"),
        c("radius.authenticator", "authenticator"), c("radius.User_Name", "user_name"), c("radius.NAS_IP_Address", "nas_ip"),
        c("radius.NAS_Port", "nas_port"), c("radius.Service_Type", "service_type"), c("radius.Framed_IP_Address", "framed_ip"),
        c("radius.Calling_Station_Id", "calling_station_id"), c("radius.Called_Station_Id", "called_station_id"),
        c("radius.NAS_Identifier", "nas_identifier"), c("radius.Acct_Status_Type", "acct_status_type"),
        c("radius.Acct_Session_Id", "acct_session_id"),
    ]},
    Suite { dir: "inner", record: RecordType::Ipv4, key: "ip.src", key_values: &[], filter: Filter::Tunnelled, error_layer: "", checks: &[
        c("ip.src", "src_ip"), c("ip.dst", "dst_ip"),
    ]},
    Suite { dir: "inner", record: RecordType::Ipv6, key: "ipv6.src", key_values: &[], filter: Filter::Tunnelled, error_layer: "", checks: &[
        c("ipv6.src", "src_ip"), c("ipv6.dst", "dst_ip"),
    ]},
    Suite { dir: "inner", record: RecordType::Tcp, key: "tcp.srcport", key_values: &[], filter: Filter::Tunnelled, error_layer: "", checks: &[
        c("tcp.srcport", "src_port"), c("tcp.dstport", "dst_port"),
    ]},
    Suite { dir: "inner", record: RecordType::Udp, key: "udp.srcport", key_values: &[], filter: Filter::Tunnelled, error_layer: "", checks: &[
        c("udp.srcport", "src_port"), c("udp.dstport", "dst_port"),
    ]},
    Suite { dir: "inner", record: RecordType::Ethernet, key: "eth.src", key_values: &[], filter: Filter::Tunnelled, error_layer: "", checks: &[
        c("eth.src", "src_mac"), c("eth.dst", "dst_mac"),
    ]},
    Suite { dir: "reassembly", record: RecordType::Udp, key: "_reassembled_udp", key_values: &[], filter: Filter::Reassembled, error_layer: "", checks: &[
        cn("udp.srcport", "src_port", Norm::First), cn("udp.dstport", "dst_port", Norm::First),
        cn("udp.length", "length", Norm::First),
    ]},
    Suite { dir: "reassembly", record: RecordType::Tcp, key: "_reassembled_tcp", key_values: &[], filter: Filter::Reassembled, error_layer: "", checks: &[
        cn("tcp.srcport", "src_port", Norm::First), cn("tcp.dstport", "dst_port", Norm::First),
        cn("tcp.seq_raw", "seq", Norm::First), cn("tcp.len", "payload_length", Norm::First),
    ]},
];

/// Canonical text of a value: integers in decimal, booleans as 1/0,
/// addresses parsed, anything else lower-cased.
fn canon(s: &str) -> String {
    let t = s.trim();
    match t {
        "True" | "true" => return "1".into(),
        "False" | "false" => return "0".into(),
        _ => {}
    }
    if let Some(hex) = t.strip_prefix("0x")
        && let Ok(v) = i128::from_str_radix(hex, 16)
    {
        return v.to_string();
    }
    if let Ok(v) = t.parse::<i128>() {
        return v.to_string();
    }
    if let Ok(ip) = t.parse::<IpAddr>() {
        return ip.to_string();
    }
    // Link-layer addresses: colon-separated hex pairs as plain hex.
    if t.len() > 2 && t.split(':').all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_hexdigit())) {
        return t.replace(':', "").to_lowercase();
    }
    t.to_lowercase()
}

/// Text of a value; `bytes` fields named like addresses (docs/dump.md) as
/// addresses, MACs colon-separated, other bytes as plain hex.
fn value_text(name: &str, v: &Value) -> Option<String> {
    Some(match v {
        Value::Bytes(b) => {
            let address = name == "ip" || name.ends_with("_ip") || name.ends_with("_ips");
            if let (true, Ok(v4)) = (address, <[u8; 4]>::try_from(&b[..])) {
                std::net::Ipv4Addr::from(v4).to_string()
            } else if let (true, Ok(v6)) = (address, <[u8; 16]>::try_from(&b[..])) {
                std::net::Ipv6Addr::from(v6).to_string()
            } else if name.ends_with("_mac") {
                // Colon-separated like tshark's MACs, which `canon` reads as hex.
                b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":")
            } else {
                // Plain hex, like tshark's bytes fields.
                b.iter().map(|x| format!("{x:02x}")).collect()
            }
        }
        Value::Bool(b) => u8::from(*b).to_string(),
        Value::I32(x) => x.to_string(),
        Value::I64(x) => x.to_string(),
        Value::U32(x) => x.to_string(),
        Value::U64(x) => x.to_string(),
        Value::String(s) => s.clone(),
        Value::EnumNumber(x) => x.to_string(),
        _ => return None,
    })
}

/// Values of a field path in one message (see [`Check::netcap`]).
fn path_values(msg: &DynamicMessage, path: &str, out: &mut Vec<String>) {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let (name, filter) = match head.split_once('[') {
        Some((n, f)) => {
            let f = f.trim_end_matches(']');
            let (k, v) = f.split_once('=').expect("filter is field=value");
            (n, Some((k, v)))
        }
        None => (head, None),
    };
    let Some(field) = msg.descriptor().get_field_by_name(name) else {
        panic!("{} has no field {name}", msg.descriptor().name())
    };
    if field.supports_presence() && !field.is_list() && !msg.has_field(&field) {
        return;
    }
    let value = msg.get_field(&field);
    let items: Vec<Value> = match value.as_list() {
        Some(list) => list.to_vec(),
        None => vec![value.into_owned()],
    };
    for item in items {
        match (&item, rest) {
            (Value::Message(m), Some(r)) => {
                if let Some((k, v)) = filter {
                    let mut got = Vec::new();
                    path_values(m, k, &mut got);
                    if got.first().map(String::as_str) != Some(v) {
                        continue;
                    }
                }
                path_values(m, r, out);
            }
            (v, _) => {
                if let Some(t) = value_text(name, v).filter(|t| !t.is_empty()) {
                    out.push(t);
                }
            }
        }
    }
}

fn netcap_values(records: &[&DynamicMessage], path: &str, norm: Norm) -> Vec<String> {
    for alternative in path.split('|') {
        let mut out = Vec::new();
        for r in records {
            path_values(r, alternative, &mut out);
        }
        if let Norm::HexText = norm {
            out = out.iter().map(|v| v.bytes().map(|b| format!("{b:02x}")).collect()).collect();
        }
        if !out.is_empty() {
            return out.iter().map(|v| canon(v)).collect();
        }
    }
    Vec::new()
}

fn tshark_values(occurrences: &[&str], norm: Norm) -> Vec<String> {
    let scale = |v: &str, k: f64| v.parse::<f64>().map(|f| ((f * k).round() as i64).to_string()).unwrap_or_default();
    match norm {
        Norm::First => occurrences.first().map(|v| canon(v)).into_iter().collect(),
        Norm::Times8 => occurrences.iter().map(|v| scale(v, 8.0)).collect(),
        Norm::Times256 => occurrences.iter().map(|v| scale(v, 256.0)).collect(),
        Norm::Mask(m) => occurrences
            .iter()
            .map(|v| canon(v).parse::<i128>().map(|x| (x & m).to_string()).unwrap_or_default())
            .collect(),
        _ => occurrences.iter().map(|v| canon(v)).collect(),
    }
}

struct Row<'a> {
    frame: u64,
    fields: HashMap<&'a str, Vec<&'a str>>,
}

fn parse_tsv(text: &str) -> Vec<Row<'_>> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<&str> = lines.next().expect("header row").split('\t').collect();
    lines
        .map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            let mut fields = HashMap::new();
            for (name, value) in header.iter().zip(&cols) {
                if !value.is_empty() {
                    fields.insert(*name, value.split('|').collect());
                }
            }
            Row { frame: cols[0].parse().expect("frame number"), fields }
        })
        .collect()
}

fn read_records(dir: &Path, record_type: RecordType) -> Vec<DynamicMessage> {
    let path = dir.join(record_type.file_name());
    if !path.exists() {
        return Vec::new();
    }
    let desc = record_type.descriptor().unwrap().clone();
    let mut reader = RecordReader::open(&path).unwrap();
    let mut out = Vec::new();
    while let Some(bytes) = reader.next_raw().unwrap() {
        out.push(DynamicMessage::decode(desc.clone(), bytes).unwrap());
    }
    out
}

fn u64_field(msg: &DynamicMessage, name: &str) -> u64 {
    msg.get_field_by_name(name).and_then(|v| v.as_u64()).unwrap_or(0)
}

fn is_tunnelled(msg: &DynamicMessage) -> bool {
    msg.descriptor().get_field_by_name("tunnel").is_some_and(|f| msg.has_field(&f))
}

fn is_reassembled(msg: &DynamicMessage) -> bool {
    msg.get_field_by_name("reassembled").and_then(|v| v.as_bool()).unwrap_or(false)
}

/// Does tshark's row have the suite's protocol?
fn row_has(suite: &Suite, row: &Row) -> bool {
    let frag = row.fields.contains_key("ip.fragment.count") || row.fields.contains_key("ipv6.fragment.count");
    match suite.key {
        "_reassembled_udp" => frag && row.fields.contains_key("udp.srcport"),
        "_reassembled_tcp" => frag && row.fields.contains_key("tcp.srcport"),
        key => row.fields.get(key).is_some_and(|occ| {
            suite.key_values.is_empty()
                || occ.iter().any(|v| suite.key_values.iter().any(|k| canon(v) == k.to_string()))
        }),
    }
}

#[derive(Default)]
struct Tally {
    compared: u64,
    agreed: u64,
    /// Frames counted as agreeing because netcap flagged the header as
    /// malformed with an Error record (tshark shows what it can of it).
    malformed: u64,
    problems: Vec<String>,
}

/// Frames where netcap wrote an `Error` record for a layer, by layer name.
type Errors = std::collections::HashSet<(u64, String)>;

fn read_errors(dir: &Path) -> Errors {
    read_records(dir, RecordType::Error)
        .iter()
        .map(|e| {
            let layer = e.get_field_by_name("layer").and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
            (u64_field(e, "frame"), layer)
        })
        .collect()
}

fn compare_capture(
    suite: &Suite,
    name: &str,
    rows: &[Row],
    records: &[DynamicMessage],
    errors: &Errors,
    tally: &mut Tally,
) {
    let mut by_frame: BTreeMap<u64, (Vec<&DynamicMessage>, usize)> = BTreeMap::new();
    for r in records {
        let entry = by_frame.entry(u64_field(r, "frame")).or_default();
        let selected = match suite.filter {
            Filter::All => true,
            Filter::Tunnelled => is_tunnelled(r),
            Filter::Reassembled => is_reassembled(r),
        };
        if selected {
            entry.0.push(r);
        } else if !is_tunnelled(r) {
            entry.1 += 1;
        }
    }
    let mut seen = std::collections::HashSet::new();
    for row in rows {
        if !row_has(suite, row) {
            continue;
        }
        seen.insert(row.frame);
        let (mine, outer) = by_frame.get(&row.frame).map(|(m, o)| (m.as_slice(), *o)).unwrap_or((&[], 0));
        if suite.filter == Filter::Tunnelled && mine.is_empty() {
            // Only frames with tunnelled records are this suite's business;
            // the outer oracle covers the rest.
            continue;
        }
        tally.compared += 1;
        let mut ok = true;
        // tshark shows what it can of a malformed header; netcap rejects it
        // (or keeps what comes before the damage) and says so with an Error
        // record for the layer.
        let layer =
            if suite.error_layer.is_empty() { suite.record.name().to_lowercase() } else { suite.error_layer.into() };
        if errors.contains(&(row.frame, layer)) && (mine.is_empty() || !suite.error_layer.is_empty()) {
            tally.agreed += 1;
            tally.malformed += 1;
            continue;
        }
        if mine.is_empty() {
            ok = false;
            tally.problems.push(format!("{name} frame {}: tshark has {}, netcap no record", row.frame, suite.key));
        }
        for check in suite.checks.iter().filter(|_| !mine.is_empty()) {
            let Some(occ) = row.fields.get(check.tshark) else { continue };
            if skipped(check, row) {
                continue;
            }
            let mut expected = tshark_values(occ, check.norm);
            let got = netcap_values(mine, check.netcap, check.norm);
            if suite.filter == Filter::Tunnelled {
                expected = expected.into_iter().skip(outer).take(got.len()).collect();
            }
            if expected != got {
                ok = false;
                tally.problems.push(format!(
                    "{name} frame {} {}: tshark {} {expected:?} | netcap {} {got:?}",
                    row.frame,
                    suite.record.name(),
                    check.tshark,
                    check.netcap
                ));
            }
        }
        if ok {
            tally.agreed += 1;
        }
    }
    // Records tshark does not show (not for tunnelled records: tshark may
    // stop dissecting inner packets it does not know).
    if suite.filter != Filter::Tunnelled {
        for (frame, (mine, _)) in &by_frame {
            if !mine.is_empty() && !seen.contains(frame) {
                tally.compared += 1;
                tally.problems.push(format!("{name} frame {frame}: netcap has {} record(s), tshark none", mine.len()));
            }
        }
    }
}

#[test]
fn net_records_agree_with_tshark() {
    // A corpus run points these at other captures and expectations (see
    // docs/conformance.md); by default testdata is used.
    let expected_root =
        std::env::var_os("NETCAP_NET_EXPECTED").map(std::path::PathBuf::from).unwrap_or(testdata("expected-net"));
    let extra_pcaps = std::env::var_os("NETCAP_NET_PCAPS").map(std::path::PathBuf::from);
    let mut failures = Vec::new();
    let mut summary = Vec::new();
    let mut outputs: HashMap<String, tempfile::TempDir> = HashMap::new();
    for suite in SUITES {
        let dir = expected_root.join(suite.dir);
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        let mut tally = Tally::default();
        let mut files: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.path()).collect();
        files.sort();
        for tsv in files {
            let capture_name = tsv.file_name().unwrap().to_str().unwrap().trim_end_matches(".tsv").to_string();
            let pcap = ["pcaps-net", "pcaps"]
                .iter()
                .map(|d| testdata(&format!("{d}/{capture_name}")))
                .chain(extra_pcaps.iter().map(|d| d.join(&capture_name)))
                .find(|p| p.exists())
                .unwrap_or_else(|| panic!("no capture for {}", tsv.display()));
            let out = outputs.entry(capture_name.clone()).or_insert_with(|| {
                let out = tempfile::tempdir().unwrap();
                capture(&pcap, out.path(), &["-workers", "1", "-errors"]);
                out
            });
            let text = std::fs::read_to_string(&tsv).unwrap();
            let rows = parse_tsv(&text);
            let records = read_records(out.path(), suite.record);
            let errors = read_errors(out.path());
            compare_capture(suite, &capture_name, &rows, &records, &errors, &mut tally);
        }
        let percent = if tally.compared == 0 { 100.0 } else { 100.0 * tally.agreed as f64 / tally.compared as f64 };
        summary.push(format!(
            "{} ({}): {}/{} frames agree ({percent:.1}%{})",
            suite.record.name(),
            suite.dir,
            tally.agreed,
            tally.compared,
            if tally.malformed > 0 {
                format!(", {} of them malformed and flagged", tally.malformed)
            } else {
                String::new()
            }
        ));
        for p in tally.problems.iter().take(200) {
            eprintln!("  {p}");
        }
        if tally.compared == 0 || percent < MIN_AGREEMENT {
            failures.push(format!(
                "{} ({}): {percent:.1}% of {} frames",
                suite.record.name(),
                suite.dir,
                tally.compared
            ));
        }
    }
    eprintln!("{}", summary.join("\n"));
    assert!(failures.is_empty(), "below {MIN_AGREEMENT}% agreement or nothing compared: {failures:?}");
}

#[test]
fn tunnelled_records_name_their_tunnel_and_reassembled_ones_are_marked() {
    use crate::util::records;
    use netcap_records as r;
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-net/zeek-vxlan.pcap"), out.path(), &[]);
    let icmp: Vec<r::Icmpv4> = records(out.path(), RecordType::Icmpv4);
    let t = icmp[0].tunnel.as_ref().expect("inner ICMP carries its tunnel");
    assert_eq!((icmp[0].frame, &icmp[0].src_ip[..], &icmp[0].dst_ip[..]), (3, &[10, 0, 0, 1][..], &[10, 0, 0, 2][..]));
    assert_eq!(
        (t.kind.as_str(), &t.outer_src_ip[..], &t.outer_dst_ip[..]),
        ("vxlan", &[192, 168, 56, 11][..], &[192, 168, 56, 12][..])
    );
    assert_eq!((t.id, t.depth), (123, 1));
    // The outer UDP record has no tunnel; the VXLAN record names the VNI.
    let udp: Vec<r::Udp> = records(out.path(), RecordType::Udp);
    assert!(udp.iter().filter(|u| u.dst_port == 4789).all(|u| u.tunnel.is_none()));
    let vxlan: Vec<r::Vxlan> = records(out.path(), RecordType::Vxlan);
    assert_eq!((vxlan[0].vni, vxlan[0].flags), (123, 8));

    // MPLS, PPPoE and ERSPAN in arkime's synthetic capture.
    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-net/arkime-arkime_synthetic.pcap"), out.path(), &[]);
    let ipv4: Vec<r::Ipv4> = records(out.path(), RecordType::Ipv4);
    let kinds: std::collections::BTreeSet<&str> =
        ipv4.iter().filter_map(|p| p.tunnel.as_ref()).map(|t| t.kind.as_str()).collect();
    for kind in ["mpls", "pppoe", "gre", "vxlan", "geneve", "ipip"] {
        assert!(kinds.contains(kind), "no IPv4 record inside {kind}: {kinds:?}");
    }
    let mpls: Vec<r::Mpls> = records(out.path(), RecordType::Mpls);
    let inner = ipv4.iter().find(|p| p.frame == mpls[0].frame && p.tunnel.is_some()).unwrap();
    assert_eq!(inner.tunnel.as_ref().unwrap().id, mpls[0].label);
    assert!(inner.tunnel.as_ref().unwrap().outer_src_ip.is_empty(), "MPLS over Ethernet has no outer IP");

    // IPv6 fragments of a DNS answer: one UDP record for the whole datagram.
    let out = tempfile::tempdir().unwrap();
    let run = capture(&testdata("pcaps-net/zeek-ipv6-fragmented-dns.pcap"), out.path(), &["-quiet=false"]);
    let udp: Vec<r::Udp> = records(out.path(), RecordType::Udp);
    let whole: Vec<_> = udp.iter().filter(|u| u.reassembled).collect();
    assert_eq!(whole.len(), 1);
    assert_eq!(whole[0].payload_length + 8, whole[0].length);
    assert!(whole[0].length > 1400, "the datagram is longer than any fragment: {}", whole[0].length);
    let summary = String::from_utf8_lossy(&run.stderr);
    assert!(summary.contains("datagrams reassembled"), "{summary}");
}

/// The record types added for breadth, with values read off their captures
/// (tshark shows the same; the suites above compare every frame).
#[test]
fn extension_header_echo_enip_cip_and_radius_records_hold_their_values() {
    use crate::util::records;
    use netcap_records as r;
    use std::net::Ipv6Addr;
    let v6 = |b: &[u8]| Ipv6Addr::from(<[u8; 16]>::try_from(b).unwrap()).to_string();

    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-ipv6-hbh-routing0.pcap"), out.path(), &[]);
    let hbh: Vec<r::IPv6HopByHop> = records(out.path(), RecordType::Ipv6hopbyhop);
    assert_eq!((hbh[0].frame, hbh[0].next_header, hbh[0].length), (1, 43, 8));
    assert_eq!((hbh[0].options[0].r#type, hbh[0].options[0].length), (1, 4));
    let routing: Vec<r::IPv6Routing> = records(out.path(), RecordType::Ipv6routing);
    assert_eq!((routing[0].routing_type, routing[0].segments_left, routing[0].length), (0, 2, 40));
    let hops: Vec<String> = routing[0].address_ips.iter().map(|a| v6(a)).collect();
    assert_eq!(hops, ["2001:78:1:32::1", "2001:78:1:32::2"]);

    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-ipv6-fragmented-dns.pcap"), out.path(), &[]);
    let frags: Vec<r::IPv6Fragment> = records(out.path(), RecordType::Ipv6fragment);
    let f = frags.iter().find(|f| f.frame == 4).unwrap();
    assert_eq!((f.next_header, f.fragment_offset, f.more_fragments, f.identification), (17, 2896, false, 1));

    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps/zeek-icmp6-ping.pcap"), out.path(), &[]);
    let echo: Vec<r::IcmPv6Echo> = records(out.path(), RecordType::Icmpv6echo);
    assert_eq!((echo[0].r#type, echo[0].identifier, echo[0].sequence, echo[0].data_length), (128, 1, 3, 32));
    assert_eq!((echo[1].r#type, echo[1].identifier, echo[1].sequence), (129, 1, 3));
    assert_eq!(echo[0].community_id, echo[1].community_id, "request and reply share the flow");

    let out = tempfile::tempdir().unwrap();
    capture(&testdata("pcaps-net/arkime-arkime_synthetic.pcap"), out.path(), &[]);
    let enip: Vec<r::Enip> = records(out.path(), RecordType::Enip);
    let id = enip.iter().find_map(|e| e.identity.as_ref().filter(|_| e.frame == 635)).unwrap();
    assert_eq!((id.vendor_id, id.device_type, id.product_code, id.serial_number), (1, 12, 89, 0xcafe_babe));
    assert_eq!((id.product_name.as_str(), &id.ip[..], id.port), ("1756-EN2T/B", &[10, 40, 1, 10][..], 44818));
    let register = enip.iter().find(|e| e.frame == 631).unwrap();
    assert_eq!((register.command, register.response, register.session_handle), (0x65, true, 0x1234_5678));
    let cip: Vec<r::Cip> = records(out.path(), RecordType::Cip);
    let forward_open = cip.iter().find(|c| c.frame == 641).unwrap();
    assert_eq!((forward_open.service, forward_open.class_id, forward_open.instance_id), (0x54, Some(6), Some(1)));
    let reply = cip.iter().find(|c| c.frame == 643).unwrap();
    assert_eq!((reply.response, reply.service, reply.general_status), (true, 0x54, Some(0)));
    let tags: Vec<u32> = cip.iter().filter(|c| c.frame == 647).map(|c| c.service).collect();
    assert_eq!(tags, [0x4c, 0x4d, 0x52], "three encapsulated requests in one segment");
    let radius: Vec<r::Radius> = records(out.path(), RecordType::Radius);
    let accept = radius.iter().find(|r| r.frame == 487).unwrap();
    assert_eq!((accept.code, accept.identifier, accept.service_type), (2, 5, Some(2)));
    assert_eq!(accept.framed_ip, [10, 20, 30, 40]);
    let request = radius.iter().find(|r| r.frame == 252).unwrap();
    assert_eq!((request.code, request.user_name.as_str()), (1, "testuser"));
}
