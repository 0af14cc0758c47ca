//! The tshark oracle: netcap's L2–L4 records must agree with Wireshark.
//!
//! `oracle_testdata` runs `netcap capture` on every capture in
//! testdata/pcaps/ and compares the records, field by field, with the tshark
//! output committed in testdata/expected/ (regenerate it with
//! scripts/tshark-expected; CI has no tshark). `conformance_corpus` (ignored
//! by default) does the same live, with tshark, over a whole capture corpus.
//! docs/conformance.md explains how to run both and what the known
//! disagreements are.
//!
//! netcap decodes the outermost stack only: link layer, VLAN tags, ARP or
//! IPv4/IPv6 (with IPv6 extension headers), then TCP/UDP/ICMPv4/ICMPv6. So
//! tshark's `frame.protocols` is walked to find which dissected layers form
//! that outer stack; only those are compared, and netcap must not emit a
//! record for any other layer (a tunnel's inner packet, the packet quoted in
//! an ICMP error, a non-first fragment's payload).
//!
//! The comparison is table driven: [`CHECKS`] maps a tshark field (or a value
//! derived from tshark's fields, named `_...`) to a record type, a netcap
//! field and a normaliser. Records are read reflectively with prost-reflect,
//! so a check is one line.

use netcap_records::{RecordReader, RecordType};
use prost_reflect::ReflectMessage;
use prost_reflect::{DynamicMessage, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Per layer and capture (testdata) or per layer overall (corpus), the share
/// of compared frames on which netcap and tshark must agree, in percent.
const MIN_AGREEMENT: f64 = 99.5;

/// Arguments after `capture -read <pcap> -out <dir>`. tshark's expectations
/// are made with IP reassembly off (scripts/tshark-expected), so netcap
/// decodes each fragment on its own too; tests/net_oracle.rs compares the
/// records of reassembled datagrams.
const NETCAP_ARGS: &[&str] = &["-workers", "2", "-errors", "-quiet", "-reassemble=false"];

// ---------------------------------------------------------------------------
// Layers and the comparison table
// ---------------------------------------------------------------------------

/// A layer of netcap's outer stack: one record type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Layer {
    Ethernet,
    Dot1q,
    Arp,
    Ipv4,
    Ipv6,
    Tcp,
    Udp,
    Icmpv4,
    Icmpv6,
}

use Layer::*;

const LAYERS: [Layer; 9] = [Ethernet, Dot1q, Arp, Ipv4, Ipv6, Tcp, Udp, Icmpv4, Icmpv6];

impl Layer {
    fn record_type(self) -> RecordType {
        match self {
            Ethernet => RecordType::Ethernet,
            Dot1q => RecordType::Dot1q,
            Arp => RecordType::Arp,
            Ipv4 => RecordType::Ipv4,
            Ipv6 => RecordType::Ipv6,
            Tcp => RecordType::Tcp,
            Udp => RecordType::Udp,
            Icmpv4 => RecordType::Icmpv4,
            Icmpv6 => RecordType::Icmpv6,
        }
    }

    fn name(self) -> &'static str {
        self.record_type().name()
    }
}

/// How a tshark value is turned into the value netcap must have.
#[derive(Clone, Copy, Debug)]
enum Norm {
    /// Decimal or 0x-hex integer.
    Int,
    /// `ip.flags`: the 3-bit field (tshark 4.x), or the flags byte (older
    /// versions print e.g. 0x40 for DF), as the 3-bit field.
    IpFlags,
    /// A fragment offset in 8-byte units, as bytes.
    Times8,
    /// MAC address, compared case-insensitively.
    Mac,
    /// IPv4 or IPv6 address, compared as parsed addresses.
    Ip,
    /// 0/1 or True/False.
    Bool,
    /// `frame.time_epoch` (seconds with a fraction) as Unix nanoseconds.
    TimeNs,
    /// Comma-separated integers (every occurrence of a field).
    IntList,
    /// TCP option kinds; both sides are cut after the first End of Option
    /// List (tshark lists every padding byte after it as another EOL).
    OptionKinds,
    /// IPv4 option types; both sides are cut before the first End of Option
    /// List (netcap lists the EOL as an option, tshark 4.0 does not).
    IpOptionTypes,
}

/// What netcap must hold when tshark shows no value for the field in the
/// layer (and the layer occurs only once in the frame, so absence is
/// certain). `Skip` means the field is not compared then.
#[derive(Clone, Copy, Debug)]
enum Absent {
    Skip,
    /// A proto3 `optional` field that is not set.
    NotSet,
    Zero,
    False,
    Empty,
}

/// One row of the comparison table.
struct Check {
    layer: Layer,
    /// tshark field, or a derived value (see [`derived`]) when it starts with '_'.
    tshark: &'static str,
    /// netcap field; `a.b` reads field `b` of every message in list `a`.
    netcap: &'static str,
    norm: Norm,
    absent: Absent,
}

const fn c(layer: Layer, tshark: &'static str, netcap: &'static str, norm: Norm, absent: Absent) -> Check {
    Check { layer, tshark, netcap, norm, absent }
}

use Absent::{Empty, False, NotSet, Skip, Zero};
use Norm::{Bool, Int, IntList, IpFlags, IpOptionTypes, Mac, OptionKinds, TimeNs, Times8};

/// Every compared field. `frame.time_epoch → timestamp_ns` is added to every
/// layer (see [`checks_for`]).
#[rustfmt::skip]
const CHECKS: &[Check] = &[
    c(Ethernet, "eth.src", "src_mac", Mac, Skip),
    c(Ethernet, "eth.dst", "dst_mac", Mac, Skip),
    c(Ethernet, "_eth.type", "ether_type", Int, Skip),
    c(Ethernet, "_eth.cap_len", "captured_length", Int, Skip),
    c(Ethernet, "_eth.len", "wire_length", Int, Skip),

    c(Dot1q, "_vlan.index", "index", Int, Skip),
    c(Dot1q, "_vlan.tpid", "tpid", Int, Skip),
    c(Dot1q, "_vlan.id", "vlan_id", Int, Skip),
    c(Dot1q, "_vlan.priority", "priority", Int, Skip),
    c(Dot1q, "_vlan.dei", "drop_eligible", Bool, Skip),
    c(Dot1q, "_vlan.etype", "ether_type", Int, Skip),

    c(Arp, "arp.hw.type", "hw_type", Int, Skip),
    c(Arp, "arp.proto.type", "proto_type", Int, Skip),
    c(Arp, "arp.hw.size", "hw_size", Int, Skip),
    c(Arp, "arp.proto.size", "proto_size", Int, Skip),
    c(Arp, "arp.opcode", "operation", Int, Skip),
    c(Arp, "arp.src.hw_mac", "src_hw_addr", Mac, Skip),
    c(Arp, "arp.src.proto_ipv4", "src_proto_addr", Norm::Ip, Skip),
    c(Arp, "arp.dst.hw_mac", "dst_hw_addr", Mac, Skip),
    c(Arp, "arp.dst.proto_ipv4", "dst_proto_addr", Norm::Ip, Skip),

    c(Ipv4, "ip.version", "version", Int, Skip),
    c(Ipv4, "ip.hdr_len", "header_length", Int, Skip),
    c(Ipv4, "ip.dsfield.dscp", "dscp", Int, Skip),
    c(Ipv4, "ip.dsfield.ecn", "ecn", Int, Skip),
    c(Ipv4, "ip.len", "total_length", Int, Skip),
    c(Ipv4, "ip.id", "id", Int, Skip),
    c(Ipv4, "ip.flags", "flags", IpFlags, Skip),
    c(Ipv4, "ip.frag_offset", "fragment_offset", Times8, Skip),
    c(Ipv4, "ip.ttl", "ttl", Int, Skip),
    c(Ipv4, "ip.proto", "protocol", Int, Skip),
    c(Ipv4, "ip.checksum", "checksum", Int, Skip),
    c(Ipv4, "ip.src", "src_ip", Norm::Ip, Skip),
    c(Ipv4, "ip.dst", "dst_ip", Norm::Ip, Skip),
    c(Ipv4, "ip.opt.type", "options.type", IpOptionTypes, Empty),

    c(Ipv6, "ipv6.version", "version", Int, Skip),
    c(Ipv6, "ipv6.tclass", "traffic_class", Int, Skip),
    c(Ipv6, "ipv6.flow", "flow_label", Int, Skip),
    c(Ipv6, "ipv6.plen", "payload_length", Int, Skip),
    c(Ipv6, "ipv6.nxt", "next_header", Int, Skip),
    c(Ipv6, "ipv6.hlim", "hop_limit", Int, Skip),
    c(Ipv6, "ipv6.src", "src_ip", Norm::Ip, Skip),
    c(Ipv6, "ipv6.dst", "dst_ip", Norm::Ip, Skip),
    c(Ipv6, "_ipv6.ext", "extension_headers.type", IntList, Skip),
    c(Ipv6, "_ipv6.ext_len", "extension_headers.length", IntList, Skip),
    c(Ipv6, "_ipv6.ext_nxt", "extension_headers.next_header", IntList, Skip),
    c(Ipv6, "_ipv6.transport", "transport_protocol", Int, Skip),
    c(Ipv6, "_ipv6.fragmented", "fragmented", Bool, Skip),
    c(Ipv6, "ipv6.fraghdr.offset", "fragment_offset", Times8, Zero),
    c(Ipv6, "ipv6.fraghdr.more", "more_fragments", Bool, False),
    c(Ipv6, "ipv6.fraghdr.ident", "fragment_id", Int, Zero),

    c(Tcp, "_l3.src", "src_ip", Norm::Ip, Skip),
    c(Tcp, "_l3.dst", "dst_ip", Norm::Ip, Skip),
    c(Tcp, "tcp.srcport", "src_port", Int, Skip),
    c(Tcp, "tcp.dstport", "dst_port", Int, Skip),
    c(Tcp, "tcp.seq_raw", "seq", Int, Skip),
    c(Tcp, "tcp.ack_raw", "ack", Int, Skip),
    c(Tcp, "tcp.hdr_len", "header_length", Int, Skip),
    c(Tcp, "tcp.flags", "flags", Int, Skip),
    c(Tcp, "_tcp.fin", "fin", Bool, Skip),
    c(Tcp, "_tcp.syn", "syn", Bool, Skip),
    c(Tcp, "_tcp.rst", "rst", Bool, Skip),
    c(Tcp, "_tcp.psh", "psh", Bool, Skip),
    c(Tcp, "_tcp.ack", "ack_flag", Bool, Skip),
    c(Tcp, "_tcp.urg", "urg", Bool, Skip),
    c(Tcp, "_tcp.ece", "ece", Bool, Skip),
    c(Tcp, "_tcp.cwr", "cwr", Bool, Skip),
    c(Tcp, "_tcp.ns", "ns", Bool, Skip),
    c(Tcp, "tcp.window_size_value", "window", Int, Skip),
    c(Tcp, "tcp.checksum", "checksum", Int, Skip),
    c(Tcp, "tcp.urgent_pointer", "urgent_pointer", Int, Skip),
    c(Tcp, "tcp.option_kind", "option_kinds", OptionKinds, Empty),
    c(Tcp, "tcp.options.mss_val", "mss", Int, NotSet),
    c(Tcp, "tcp.options.wscale.shift", "window_scale", Int, NotSet),
    c(Tcp, "_tcp.sack_perm", "sack_permitted", Bool, Skip),
    c(Tcp, "_tcp.sack", "sack_blocks", IntList, Skip),
    c(Tcp, "tcp.options.timestamp.tsval", "ts_val", Int, NotSet),
    c(Tcp, "tcp.options.timestamp.tsecr", "ts_ecr", Int, NotSet),
    c(Tcp, "_tcp.len", "payload_length", Int, Skip),

    c(Udp, "_l3.src", "src_ip", Norm::Ip, Skip),
    c(Udp, "_l3.dst", "dst_ip", Norm::Ip, Skip),
    c(Udp, "udp.srcport", "src_port", Int, Skip),
    c(Udp, "udp.dstport", "dst_port", Int, Skip),
    c(Udp, "udp.length", "length", Int, Skip),
    c(Udp, "udp.checksum", "checksum", Int, Skip),

    c(Icmpv4, "_l3.src", "src_ip", Norm::Ip, Skip),
    c(Icmpv4, "_l3.dst", "dst_ip", Norm::Ip, Skip),
    c(Icmpv4, "icmp.type", "type", Int, Skip),
    c(Icmpv4, "icmp.code", "code", Int, Skip),
    c(Icmpv4, "icmp.checksum", "checksum", Int, Skip),
    c(Icmpv4, "_icmp.ident", "id", Int, Skip),
    c(Icmpv4, "_icmp.seq", "seq", Int, Skip),

    c(Icmpv6, "_l3.src", "src_ip", Norm::Ip, Skip),
    c(Icmpv6, "_l3.dst", "dst_ip", Norm::Ip, Skip),
    c(Icmpv6, "icmpv6.type", "type", Int, Skip),
    c(Icmpv6, "icmpv6.code", "code", Int, Skip),
    c(Icmpv6, "icmpv6.checksum", "checksum", Int, Skip),
    c(Icmpv6, "_icmpv6.ident", "id", Int, Skip),
    c(Icmpv6, "_icmpv6.seq", "seq", Int, Skip),
];

/// Checks of every layer.
const COMMON: &[Check] = &[c(Ethernet, "frame.time_epoch", "timestamp_ns", TimeNs, Skip)];

fn checks_for(layer: Layer) -> impl Iterator<Item = &'static Check> {
    CHECKS.iter().filter(move |c| c.layer == layer).chain(COMMON.iter())
}

/// Disagreements that were analysed and accepted as intended behaviour
/// (document each in docs/conformance.md): capture file name, netcap frame,
/// layer, netcap field (or "(record)"), and why. They are printed, and the
/// layer counts as agreeing on that frame if nothing else differs.
const ACCEPTED: &[(&str, u64, Layer, &str, &str)] = &[];

fn accepted_reason(capture: &str, d: &Disagreement) -> Option<&'static str> {
    ACCEPTED
        .iter()
        .find(|(c, frame, layer, field, _)| {
            *c == capture && *frame == d.frame && *layer == d.layer && *field == d.field
        })
        .map(|(.., why)| *why)
}

/// frame.protocols names of IPv6 extension headers, with their protocol numbers.
const IPV6_EXTENSIONS: &[(&str, i128)] =
    &[("ipv6.hopopts", 0), ("ipv6.routing", 43), ("ipv6.fraghdr", 44), ("ipv6.dstopts", 60), ("ah", 51)];

// ---------------------------------------------------------------------------
// tshark's side: the expected TSV and the outer stack of each frame
// ---------------------------------------------------------------------------

/// One frame of tshark output.
struct Row {
    /// tshark's frame.number.
    frame: u64,
    /// The packet's 1-based index among the packets of the capture (netcap's
    /// `frame`), or `None` for a record that is not a packet: Wireshark also
    /// numbers pcapng custom blocks as frames.
    packet: Option<u64>,
    protocols: String,
    tokens: Vec<String>,
    /// Every occurrence of every field, in dissection order.
    fields: HashMap<String, Vec<String>>,
}

impl Row {
    fn occurrences(&self, field: &str) -> &[String] {
        self.fields.get(field).map(Vec::as_slice).unwrap_or(&[])
    }

    fn nth(&self, field: &str, n: usize) -> Option<&str> {
        self.occurrences(field).get(n).map(String::as_str)
    }

    fn first(&self, field: &str) -> Option<&str> {
        self.nth(field, 0)
    }

    /// How many times `token` occurs in frame.protocols before position `index`.
    fn count_before(&self, token: &str, index: usize) -> usize {
        self.tokens[..index].iter().filter(|t| *t == token).count()
    }

    fn count(&self, token: &str) -> usize {
        self.count_before(token, self.tokens.len())
    }
}

/// Parses the output of scripts/tshark-expected: '#' comment lines, a header
/// row of field names, then one tab-separated row per frame.
fn parse_tsv(text: &str) -> Result<Vec<Row>, String> {
    let mut lines = text.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<&str> = lines.next().ok_or("no header row")?.split('\t').collect();
    let frame_col = header.iter().position(|h| *h == "frame.number").ok_or("no frame.number column")?;
    let proto_col = header.iter().position(|h| *h == "frame.protocols").ok_or("no frame.protocols column")?;
    let encap_col = header.iter().position(|h| *h == "frame.encap_type");
    let mut rows = Vec::new();
    for line in lines {
        let cols: Vec<&str> = line.split('\t').collect();
        let frame =
            cols.get(frame_col).and_then(|f| f.parse().ok()).ok_or_else(|| format!("bad frame.number in {line:?}"))?;
        let protocols = cols.get(proto_col).copied().unwrap_or("").to_string();
        let tokens = protocols.split(':').filter(|t| !t.is_empty()).map(String::from).collect();
        // netcap numbers frames as Wireshark does (custom blocks count), so
        // a packet's frame is tshark's frame.number.
        let packet = match encap_col {
            Some(c) if cols.get(c).is_none_or(|v| v.is_empty()) => None,
            _ => Some(frame),
        };
        let mut fields = HashMap::new();
        for (name, value) in header.iter().zip(cols.iter()) {
            if !value.is_empty() && *name != "frame.protocols" {
                fields.insert(name.to_string(), value.split(',').map(String::from).collect());
            }
        }
        rows.push(Row { frame, packet, protocols, tokens, fields });
    }
    Ok(rows)
}

/// Which of tshark's dissected layers make up netcap's outer stack: indices
/// into `Row::tokens`.
#[derive(Default)]
struct Stack {
    /// First token when the frame starts with a link layer outside netcap's
    /// contract (802.11, ...): nothing is compared.
    unsupported: Option<String>,
    /// The frame starts with a PKTAP header (frame lengths include it).
    pktap: bool,
    eth: Option<usize>,
    tags: Vec<usize>,
    l3: Option<(Layer, usize)>,
    ext: Vec<usize>,
    l4: Option<(Layer, usize)>,
}

impl Stack {
    fn of(tokens: &[String]) -> Stack {
        let mut s = Stack::default();
        let tok = |i: usize| tokens.get(i).map(String::as_str);
        let mut i = 0;
        while tok(i) == Some("pkt_comment") {
            i += 1;
        }
        // PKTAP: a metadata header, then a packet of the link type it names.
        if tok(i) == Some("pktap") {
            s.pktap = true;
            i += 1;
            if tok(i) == Some("pcap_pktdata") {
                i += 1;
            }
        }
        match tok(i) {
            None => return s,
            Some("eth") => {
                s.eth = Some(i);
                i += 1;
            }
            Some("sll" | "null" | "raw" | "ppp" | "nflog" | "arcnet") => i += 1,
            Some("ppp_hdlc") => {
                i += 1;
                if tok(i) == Some("ppp") {
                    i += 1;
                }
            }
            // LINKTYPE_IPV4 / LINKTYPE_IPV6: no link header.
            Some("ip" | "ipv6") => {}
            Some(other) => {
                s.unsupported = Some(other.to_string());
                return s;
            }
        }
        while let Some(t) = tok(i) {
            match t {
                // Cisco MetaData (a security group tag between EtherTypes)
                // has no record: netcap reads through it to what follows.
                "ethertype" | "cmd" => {}
                "vlan" | "ieee8021ad" => s.tags.push(i),
                _ => break,
            }
            i += 1;
        }
        match tok(i) {
            Some("arp") => s.l3 = Some((Arp, i)),
            Some("ip") => {
                s.l3 = Some((Ipv4, i));
                s.l4 = match tok(i + 1) {
                    Some("tcp") => Some((Tcp, i + 1)),
                    Some("udp") => Some((Udp, i + 1)),
                    Some("icmp") => Some((Icmpv4, i + 1)),
                    _ => None,
                };
            }
            Some("ipv6") => {
                s.l3 = Some((Ipv6, i));
                let mut j = i + 1;
                while let Some(t) = tok(j) {
                    if IPV6_EXTENSIONS.iter().any(|(name, _)| *name == t) {
                        s.ext.push(j);
                    } else if !t.starts_with("ipv6.routing.") {
                        break;
                    }
                    j += 1;
                }
                s.l4 = match tok(j) {
                    Some("tcp") => Some((Tcp, j)),
                    Some("udp") => Some((Udp, j)),
                    Some("icmpv6") => Some((Icmpv6, j)),
                    _ => None,
                };
            }
            _ => {}
        }
        s
    }

    fn outer_indices(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.eth.into_iter().collect();
        v.extend(&self.tags);
        v.extend(self.l3.map(|(_, i)| i));
        v.extend(&self.ext);
        v.extend(self.l4.map(|(_, i)| i));
        v
    }

    fn has(&self, layer: Layer) -> bool {
        match layer {
            Ethernet => self.eth.is_some(),
            Dot1q => !self.tags.is_empty(),
            Arp | Ipv4 | Ipv6 => self.l3.is_some_and(|(l, _)| l == layer),
            Tcp | Udp | Icmpv4 | Icmpv6 => self.l4.is_some_and(|(l, _)| l == layer),
        }
    }
}

/// tshark's value for one check in one layer instance.
#[derive(Clone, Debug)]
enum TVal {
    Val(String),
    /// tshark shows no such field in the outer layer.
    Missing,
    /// Cannot tell which occurrence belongs to the outer layer: not compared.
    Unknown,
}

use TVal::{Missing, Unknown, Val};

/// The frame.protocols token of the layer a tshark field belongs to.
fn owner_token(field: &str) -> &str {
    for (ext, _) in IPV6_EXTENSIONS {
        if field.strip_prefix(ext).is_some_and(|rest| rest.starts_with('.')) {
            return ext;
        }
    }
    let head = field.split('.').next().unwrap_or(field);
    match head {
        "ieee8021ah" => "ieee8021ad",
        other => other,
    }
}

/// The value of a plain tshark field for netcap's outer layer. The outer
/// layer is dissected first, so the first occurrence is its value when the
/// layer always has the field; a field the outer layer may lack is only
/// trusted when every instance of its protocol in the frame is outer.
fn field_value(row: &Row, outer: &[usize], field: &str, check: &Check) -> TVal {
    let occ = row.occurrences(field);
    let token = owner_token(field);
    if token == "frame" {
        return occ.first().map_or(Missing, |v| Val(v.clone()));
    }
    let n_outer = outer.iter().filter(|&&i| row.tokens[i] == token).count();
    let n_total = row.count(token);
    if n_outer == 0 || occ.is_empty() {
        return Missing;
    }
    let list = matches!(check.norm, IntList | OptionKinds | IpOptionTypes);
    if n_total == n_outer {
        return Val(if list { occ.join(",") } else { occ[0].clone() });
    }
    match check.absent {
        Skip if !list => Val(occ[0].clone()),
        _ => Unknown,
    }
}

fn bool_str(b: bool) -> TVal {
    Val(if b { "1" } else { "0" }.into())
}

fn opt_val(v: Option<&str>) -> TVal {
    v.map_or(Missing, |s| Val(s.to_string()))
}

/// Values derived from several tshark fields, named `_...` in [`CHECKS`].
fn derived(row: &Row, stack: &Stack, outer: &[usize], name: &str) -> TVal {
    let single = |token: &str| {
        let n_outer = outer.iter().filter(|&&i| row.tokens[i] == token).count();
        n_outer > 0 && n_outer == row.count(token)
    };
    match name {
        "_eth.cap_len" | "_eth.len" => {
            // The Ethernet frame's lengths: the frame's, less a PKTAP header.
            let field = if name == "_eth.cap_len" { "frame.cap_len" } else { "frame.len" };
            let Some(len) = row.first(field).and_then(parse_int) else { return Missing };
            if !stack.pktap {
                return Val(len.to_string());
            }
            match row.first("pktap.hdrlen").and_then(parse_int) {
                Some(header) => Val((len - header).to_string()),
                None => Unknown,
            }
        }
        "_eth.type" => {
            let Some(eth) = stack.eth else { return Missing };
            let n = row.count_before("eth", eth);
            if row.tokens.get(eth + 1).map(String::as_str) == Some("ethertype") {
                opt_val(row.nth("eth.type", n))
            } else if single("eth") {
                opt_val(row.first("eth.len"))
            } else {
                Unknown
            }
        }
        "_l3.src" | "_l3.dst" => {
            let field = match (stack.l3, name) {
                (Some((Ipv4, _)), "_l3.src") => "ip.src",
                (Some((Ipv4, _)), _) => "ip.dst",
                (Some((Ipv6, _)), "_l3.src") => "ipv6.src",
                (Some((Ipv6, _)), _) => "ipv6.dst",
                _ => return Missing,
            };
            opt_val(row.first(field))
        }
        "_ipv6.ext" | "_ipv6.ext_len" | "_ipv6.ext_nxt" | "_ipv6.fragmented" | "_ipv6.transport" => {
            let Some(chain) = ext_chain(row, stack) else { return Unknown };
            let list = |f: fn(&(i128, i128, i128)) -> i128| {
                Val(chain.headers.iter().map(|h| f(h).to_string()).collect::<Vec<_>>().join(","))
            };
            match name {
                "_ipv6.ext" => list(|h| h.0),
                "_ipv6.ext_len" => list(|h| h.1),
                "_ipv6.ext_nxt" => list(|h| h.2),
                "_ipv6.fragmented" => bool_str(chain.headers.iter().any(|h| h.0 == 44)),
                _ => Val(chain.transport.to_string()),
            }
        }
        "_tcp.fin" | "_tcp.syn" | "_tcp.rst" | "_tcp.psh" | "_tcp.ack" | "_tcp.urg" | "_tcp.ece" | "_tcp.cwr"
        | "_tcp.ns" => {
            let bit = match name {
                "_tcp.fin" => 0x001,
                "_tcp.syn" => 0x002,
                "_tcp.rst" => 0x004,
                "_tcp.psh" => 0x008,
                "_tcp.ack" => 0x010,
                "_tcp.urg" => 0x020,
                "_tcp.ece" => 0x040,
                "_tcp.cwr" => 0x080,
                _ => 0x100,
            };
            match row.first("tcp.flags").and_then(parse_int) {
                Some(flags) => bool_str(flags & bit != 0),
                None => Missing,
            }
        }
        "_tcp.sack_perm" => {
            if !single("tcp") {
                return Unknown;
            }
            bool_str(row.occurrences("tcp.option_kind").iter().any(|k| k == "4"))
        }
        "_tcp.sack" => {
            if !single("tcp") {
                return Unknown;
            }
            let le = row.occurrences("tcp.options.sack_le");
            let re = row.occurrences("tcp.options.sack_re");
            if le.len() != re.len() {
                return Unknown;
            }
            Val(le.iter().zip(re).flat_map(|(l, r)| [l.as_str(), r.as_str()]).collect::<Vec<_>>().join(","))
        }
        "_tcp.len" => {
            // tcp.len comes from the IP length; netcap counts the payload
            // bytes captured. They agree when nothing was cut off.
            if row.first("frame.len") != row.first("frame.cap_len") {
                return Unknown;
            }
            opt_val(row.first("tcp.len"))
        }
        "_icmp.ident" | "_icmp.seq" => {
            // netcap fills id/seq for echo, timestamp and information
            // messages only (proto/netcap.proto); tshark also shows an
            // identifier for e.g. RFC 8335 extended echo.
            let Some(t) = row.first("icmp.type").and_then(parse_int) else { return Missing };
            if matches!(t, 0 | 8 | 13 | 14 | 15 | 16) {
                opt_val(row.first(if name == "_icmp.ident" { "icmp.ident" } else { "icmp.seq" }))
            } else {
                Val("0".into())
            }
        }
        "_icmpv6.ident" | "_icmpv6.seq" => {
            let Some(t) = row.first("icmpv6.type").and_then(parse_int) else { return Missing };
            if matches!(t, 128 | 129) {
                opt_val(row.first(if name == "_icmpv6.ident" {
                    "icmpv6.echo.identifier"
                } else {
                    "icmpv6.echo.sequence_number"
                }))
            } else {
                Val("0".into())
            }
        }
        other => panic!("no derived tshark value {other}"),
    }
}

/// The outer IPv6 extension headers as (type, length in bytes, next header),
/// and the protocol after the last of them.
struct ExtChain {
    headers: Vec<(i128, i128, i128)>,
    transport: i128,
    /// A header tshark dissected overruns the payload length.
    cut: bool,
}

/// Extension headers must lie within the IPv6 payload length (RFC 8200).
/// tshark dissects a header that overruns it anyway; netcap stops before it
/// (with an Error record) and names it as the transport protocol. The chain
/// is cut there on tshark's side too.
fn ext_chain(row: &Row, stack: &Stack) -> Option<ExtChain> {
    let plen = row.first("ipv6.plen").and_then(parse_int)?;
    let mut next = row.first("ipv6.nxt").and_then(parse_int)?;
    let mut used = 0;
    let mut headers = Vec::new();
    let mut cut = false;
    for &j in &stack.ext {
        let token = row.tokens[j].as_str();
        let n = row.count_before(token, j);
        let ty = IPV6_EXTENSIONS.iter().find(|(t, _)| *t == token)?.1;
        let (len, nxt) = match token {
            "ipv6.fraghdr" => (8, row.nth("ipv6.fraghdr.nxt", n)),
            "ah" => ((row.nth("ah.length", n).and_then(parse_int)? + 2) * 4, row.nth("ah.next_header", n)),
            _ => (row.nth(&format!("{token}.len_oct"), n).and_then(parse_int)?, row.nth(&format!("{token}.nxt"), n)),
        };
        // A payload length of 0 means a jumbogram: no bound.
        if plen != 0 && used + len > plen {
            cut = true;
            break;
        }
        let nxt = nxt.and_then(parse_int)?;
        used += len;
        headers.push((ty, len, nxt));
        next = nxt;
    }
    Some(ExtChain { headers, transport: next, cut })
}

/// tshark stopped inside a well-framed IPv6 extension header (a malformed
/// option makes it give up) although the header names a transport netcap
/// decodes and the packet is not a later fragment: whether netcap's
/// transport record is right cannot be told from tshark.
fn ipv6_transport_undecided(row: &Row, stack: &Stack) -> bool {
    let (Some((Ipv6, _)), None, Some(&last)) = (stack.l3, stack.l4, stack.ext.last()) else { return false };
    if row.tokens.get(last + 1).is_some_and(|t| t != "_ws.malformed") {
        return false;
    }
    let Some(chain) = ext_chain(row, stack) else { return false };
    let later_fragment = stack.ext.iter().any(|&j| {
        row.tokens[j] == "ipv6.fraghdr"
            && row.nth("ipv6.fraghdr.offset", row.count_before("ipv6.fraghdr", j)).and_then(parse_int) != Some(0)
    });
    !chain.cut && !later_fragment && matches!(chain.transport, 6 | 17 | 58)
}

/// tshark shows the layer but not all of its header (a bogus header length,
/// or the capture or the IP payload ends inside it): the last field tshark
/// shows for a complete header is missing.
fn partial_header(row: &Row, stack: &Stack, layer: Layer) -> bool {
    if let (Ethernet, Some(eth)) = (layer, stack.eth) {
        let n = row.count_before("eth", eth);
        return row.nth("eth.type", n).is_none() && row.nth("eth.len", n).is_none();
    }
    let (index, field) = match (layer, stack.l3, stack.l4) {
        (Arp, Some((_, j)), _) => (j, "arp.opcode"),
        (Ipv4, Some((_, j)), _) => (j, "ip.dst"),
        (Ipv6, Some((_, j)), _) => (j, "ipv6.dst"),
        (Tcp, _, Some((_, j))) => (j, "tcp.urgent_pointer"),
        (Udp, _, Some((_, j))) => (j, "udp.checksum"),
        (Icmpv4, _, Some((_, j))) => (j, "icmp.checksum"),
        (Icmpv6, _, Some((_, j))) => (j, "icmpv6.checksum"),
        _ => return false,
    };
    let token = row.tokens[index].as_str();
    row.nth(field, row.count_before(token, index)).is_none()
}

type Instance = BTreeMap<&'static str, TVal>;

/// tshark's view of `layer` in one frame: one instance per record netcap
/// must write (one per VLAN tag, else at most one).
fn instances(row: &Row, stack: &Stack, layer: Layer) -> Vec<Instance> {
    if !stack.has(layer) {
        return Vec::new();
    }
    let outer = stack.outer_indices();
    if layer == Dot1q {
        return vlan_instances(row, stack);
    }
    let mut inst = Instance::new();
    for check in checks_for(layer) {
        let v = if check.tshark.starts_with('_') {
            derived(row, stack, &outer, check.tshark)
        } else {
            field_value(row, &outer, check.tshark, check)
        };
        inst.insert(check.tshark, v);
    }
    vec![inst]
}

/// One instance per outer VLAN tag, outermost first. 802.1Q tags are
/// dissected by "vlan", 802.1ad service tags by "ieee8021ad"; the n-th tag of
/// a kind takes the n-th occurrence of that kind's fields.
fn vlan_instances(row: &Row, stack: &Stack) -> Vec<Instance> {
    let mut out: Vec<Instance> = Vec::new();
    for (k, &j) in stack.tags.iter().enumerate() {
        let token = row.tokens[j].as_str();
        let n = row.count_before(token, j);
        let typed = row.tokens.get(j + 1).map(String::as_str) == Some("ethertype");
        let (id, prio, dei, etype) = if token == "vlan" {
            // A tag followed by an 802.3 length has vlan.len instead of vlan.etype.
            let prior_typed = stack.tags[..k]
                .iter()
                .filter(|&&p| row.tokens[p] == "vlan" && row.tokens.get(p + 1).map(String::as_str) == Some("ethertype"))
                .count();
            let prior_vlan = row.count_before("vlan", j);
            let etype =
                if typed { row.nth("vlan.etype", prior_typed) } else { row.nth("vlan.len", prior_vlan - prior_typed) };
            (row.nth("vlan.id", n), row.nth("vlan.priority", n), row.nth("vlan.dei", n), etype)
        } else {
            (
                row.nth("ieee8021ad.id", n),
                row.nth("ieee8021ad.priority", n),
                row.nth("ieee8021ad.dei", n),
                if typed { row.nth("ieee8021ah.etype", n) } else { None },
            )
        };
        let tpid = if k == 0 {
            match stack.eth {
                Some(eth) if row.tokens.get(eth + 1).map(String::as_str) == Some("ethertype") => {
                    opt_val(row.nth("eth.type", row.count_before("eth", eth)))
                }
                _ => Unknown,
            }
        } else {
            out[k - 1].get("_vlan.etype").cloned().unwrap_or(Unknown)
        };
        let mut inst = Instance::new();
        inst.insert("_vlan.index", Val(k.to_string()));
        inst.insert("_vlan.tpid", tpid);
        inst.insert("_vlan.id", opt_val(id));
        inst.insert("_vlan.priority", opt_val(prio));
        inst.insert("_vlan.dei", opt_val(dei));
        inst.insert("_vlan.etype", opt_val(etype));
        inst.insert("frame.time_epoch", opt_val(row.first("frame.time_epoch")));
        out.push(inst);
    }
    out
}

// ---------------------------------------------------------------------------
// Values and normalisation
// ---------------------------------------------------------------------------

/// A comparable value, from either side.
#[derive(Clone, Debug, PartialEq)]
enum NVal {
    Absent,
    Int(i128),
    Bool(bool),
    Str(String),
    List(Vec<NVal>),
}

impl fmt::Display for NVal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NVal::Absent => write!(f, "(not set)"),
            NVal::Int(i) if *i > 9 => write!(f, "{i} ({i:#x})"),
            NVal::Int(i) => write!(f, "{i}"),
            NVal::Bool(b) => write!(f, "{b}"),
            NVal::Str(s) => write!(f, "{s}"),
            NVal::List(items) => {
                write!(f, "[")?;
                for (n, item) in items.iter().enumerate() {
                    if n > 0 {
                        write!(f, ",")?;
                    }
                    match item {
                        NVal::Int(i) => write!(f, "{i}")?,
                        other => write!(f, "{other}")?,
                    }
                }
                write!(f, "]")
            }
        }
    }
}

fn parse_int(s: &str) -> Option<i128> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => i128::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

fn parse_time_ns(s: &str) -> Option<i128> {
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    // tshark prints the nanoseconds with "%09d"; a capture whose sub-second
    // field is out of range (1e9 ns or more) gets more than 9 digits.
    let mut frac = frac.to_string();
    while frac.len() < 9 {
        frac.push('0');
    }
    let ns = secs.parse::<i128>().ok()? * 1_000_000_000 + frac.parse::<i128>().ok()?;
    Some(if neg { -ns } else { ns })
}

fn cut_before_eol(mut items: Vec<NVal>) -> Vec<NVal> {
    if let Some(eol) = items.iter().position(|i| *i == NVal::Int(0)) {
        items.truncate(eol);
    }
    items
}

fn cut_after_eol(items: Vec<NVal>) -> Vec<NVal> {
    let mut out = Vec::new();
    for item in items {
        let eol = item == NVal::Int(0);
        out.push(item);
        if eol {
            break;
        }
    }
    out
}

/// The value netcap must have, from tshark's text.
fn expected(norm: Norm, s: &str) -> Result<NVal, String> {
    let bad = || format!("unparseable tshark value {s:?}");
    Ok(match norm {
        Norm::Int => NVal::Int(parse_int(s).ok_or_else(bad)?),
        Norm::IpFlags => {
            let v = parse_int(s).ok_or_else(bad)?;
            NVal::Int(if v > 7 { v >> 5 } else { v })
        }
        Norm::Times8 => NVal::Int(parse_int(s).ok_or_else(bad)? * 8),
        Norm::Mac => NVal::Str(s.to_ascii_lowercase()),
        Norm::Ip => NVal::Str(s.parse::<IpAddr>().map_err(|_| bad())?.to_string()),
        Norm::Bool => NVal::Bool(match s {
            "1" | "True" | "true" => true,
            "0" | "False" | "false" => false,
            _ => return Err(bad()),
        }),
        Norm::TimeNs => NVal::Int(parse_time_ns(s).ok_or_else(bad)?),
        Norm::IntList | Norm::OptionKinds | Norm::IpOptionTypes => {
            let items = s
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| parse_int(p).map(NVal::Int).ok_or_else(bad))
                .collect::<Result<Vec<_>, _>>()?;
            NVal::List(match norm {
                Norm::OptionKinds => cut_after_eol(items),
                Norm::IpOptionTypes => cut_before_eol(items),
                _ => items,
            })
        }
    })
}

/// netcap's value in the same canonical form.
fn canonical(norm: Norm, v: NVal) -> NVal {
    match (norm, v) {
        (Norm::Mac, NVal::Str(s)) => NVal::Str(s.to_ascii_lowercase()),
        (Norm::Ip, NVal::Str(s)) => NVal::Str(s.parse::<IpAddr>().map(|a| a.to_string()).unwrap_or(s)),
        (Norm::OptionKinds, NVal::List(items)) => NVal::List(cut_after_eol(items)),
        (Norm::IpOptionTypes, NVal::List(items)) => NVal::List(cut_before_eol(items)),
        (_, v) => v,
    }
}

fn absent_value(absent: Absent) -> Option<NVal> {
    match absent {
        Skip => None,
        NotSet => Some(NVal::Absent),
        Zero => Some(NVal::Int(0)),
        False => Some(NVal::Bool(false)),
        Empty => Some(NVal::List(Vec::new())),
    }
}

fn scalar(v: &Value) -> NVal {
    match v {
        Value::Bool(b) => NVal::Bool(*b),
        Value::I32(i) => NVal::Int((*i).into()),
        Value::I64(i) => NVal::Int((*i).into()),
        Value::U32(i) => NVal::Int((*i).into()),
        Value::U64(i) => NVal::Int((*i).into()),
        Value::EnumNumber(i) => NVal::Int((*i).into()),
        Value::String(s) => NVal::Str(s.clone()),
        Value::Bytes(b) => NVal::Str(b.iter().map(|x| format!("{x:02x}")).collect()),
        other => NVal::Str(format!("{other:?}")),
    }
}

/// Reads `path` (`field` or `list.field`) from a record.
fn netcap_value(msg: &DynamicMessage, path: &str) -> NVal {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let desc = msg.descriptor();
    let field = desc
        .get_field_by_name(head)
        .unwrap_or_else(|| panic!("netcap.{} has no field {head} (fix the oracle's CHECKS table)", desc.name()));
    let value = msg.get_field(&field);
    let is_address = |name: &str| name.ends_with("_ip") || name.ends_with("_proto_addr");
    let is_mac = |name: &str| name.ends_with("_mac") || name.ends_with("_hw_addr");
    let item = |v: &Value| match (v, rest) {
        (Value::Message(m), Some(r)) => netcap_value(m, r),
        // Addresses are bytes in records; compare them as text.
        (Value::Bytes(b), _) if is_address(head) && (b.len() == 4 || b.len() == 16) => NVal::Str(if b.len() == 4 {
            IpAddr::from(<[u8; 4]>::try_from(&b[..]).unwrap_or_default()).to_string()
        } else {
            IpAddr::from(<[u8; 16]>::try_from(&b[..]).unwrap_or_default()).to_string()
        }),
        (Value::Bytes(b), _) if is_mac(head) || is_address(head) => {
            NVal::Str(b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(":"))
        }
        (v, _) => scalar(v),
    };
    if field.is_list() {
        NVal::List(value.as_list().unwrap_or(&[]).iter().map(item).collect())
    } else if field.supports_presence() && !msg.has_field(&field) {
        NVal::Absent
    } else {
        item(&value)
    }
}

// ---------------------------------------------------------------------------
// netcap's side
// ---------------------------------------------------------------------------

/// Records of one capture, by layer and frame.
struct NetcapRecords {
    by_layer: HashMap<Layer, BTreeMap<u64, Vec<DynamicMessage>>>,
    /// Error records by frame, as "layer@offset: reason".
    errors: BTreeMap<u64, Vec<String>>,
}

fn run_netcap(pcap: &Path, out: &Path) -> Result<(), String> {
    let output = Command::new(env!("CARGO_BIN_EXE_netcap"))
        .arg("capture")
        .arg("-read")
        .arg(pcap)
        .arg("-out")
        .arg(out)
        .args(NETCAP_ARGS)
        .output()
        .map_err(|e| format!("cannot run netcap: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`netcap capture -read {} -out {} {}` exited with {}: {}",
            pcap.display(),
            out.display(),
            NETCAP_ARGS.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn read_records(dir: &Path, record_type: RecordType) -> Result<Vec<DynamicMessage>, String> {
    let path = dir.join(record_type.file_name());
    if !path.exists() {
        return Ok(Vec::new());
    }
    let desc = record_type.descriptor().expect("record type has a descriptor").clone();
    let mut reader = RecordReader::open(&path).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(bytes) = reader.next_raw().map_err(|e| e.to_string())? {
        out.push(DynamicMessage::decode(desc.clone(), bytes).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    Ok(out)
}

fn frame_of(msg: &DynamicMessage) -> u64 {
    match netcap_value(msg, "frame") {
        NVal::Int(f) => f as u64,
        _ => 0,
    }
}

fn load_netcap(dir: &Path) -> Result<NetcapRecords, String> {
    let mut by_layer = HashMap::new();
    for layer in LAYERS {
        let mut frames: BTreeMap<u64, Vec<DynamicMessage>> = BTreeMap::new();
        for msg in read_records(dir, layer.record_type())? {
            // Records of tunnelled packets and reassembled datagrams are
            // compared by tests/net_oracle.rs.
            let tunnelled = msg.descriptor().get_field_by_name("tunnel").is_some_and(|f| msg.has_field(&f));
            let reassembled = msg.get_field_by_name("reassembled").and_then(|v| v.as_bool()).unwrap_or(false);
            if tunnelled || reassembled {
                continue;
            }
            frames.entry(frame_of(&msg)).or_default().push(msg);
        }
        if layer == Dot1q {
            for tags in frames.values_mut() {
                tags.sort_by_key(|m| match netcap_value(m, "index") {
                    NVal::Int(i) => i,
                    _ => 0,
                });
            }
        }
        by_layer.insert(layer, frames);
    }
    let mut errors: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for msg in read_records(dir, RecordType::Error)? {
        let text = format!(
            "{}@{}: {}",
            netcap_value(&msg, "layer"),
            netcap_value(&msg, "offset"),
            netcap_value(&msg, "reason")
        );
        errors.entry(frame_of(&msg)).or_default().push(text);
    }
    Ok(NetcapRecords { by_layer, errors })
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct Disagreement {
    /// netcap's frame (the packet index).
    frame: u64,
    /// tshark's frame.number, when it differs.
    tshark_frame: Option<u64>,
    layer: Layer,
    field: String,
    tshark: String,
    netcap: String,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tshark_frame = self.tshark_frame.map(|n| format!(" (tshark frame {n})")).unwrap_or_default();
        write!(
            f,
            "frame {}{tshark_frame} {}.{}: tshark {} | netcap {}",
            self.frame,
            self.layer.name(),
            self.field,
            self.tshark,
            self.netcap
        )
    }
}

#[derive(Clone, Copy, Debug, Default)]
struct Stats {
    compared: u64,
    agreed: u64,
}

impl Stats {
    fn percent(&self) -> f64 {
        if self.compared == 0 { 100.0 } else { 100.0 * self.agreed as f64 / self.compared as f64 }
    }

    fn add(&mut self, other: Stats) {
        self.compared += other.compared;
        self.agreed += other.agreed;
    }
}

#[derive(Default)]
struct Report {
    name: String,
    frames: u64,
    /// Field values compared (records × fields).
    values: u64,
    /// Values compared per netcap field where tshark showed the field (not
    /// just its absence): which checks the captures exercise.
    coverage: BTreeMap<(Layer, &'static str), u64>,
    stats: BTreeMap<Layer, Stats>,
    disagreements: Vec<Disagreement>,
    /// Frames and layers not compared, by reason.
    skipped: BTreeMap<String, u64>,
    /// Layers counted as agreeing by a rule rather than by field values, by rule.
    accepted: BTreeMap<String, u64>,
    /// Disagreements listed in [`ACCEPTED`].
    known: Vec<String>,
}

impl Report {
    fn failing_layers(&self) -> Vec<Layer> {
        self.stats.iter().filter(|(_, s)| s.percent() < MIN_AGREEMENT).map(|(l, _)| *l).collect()
    }

    fn summary(&self) -> String {
        let mut parts = Vec::new();
        for (layer, s) in &self.stats {
            if s.compared > 0 {
                parts.push(format!("{} {}/{}", layer.name(), s.agreed, s.compared));
            }
        }
        for (reason, n) in &self.skipped {
            parts.push(format!("not compared {n} ({reason})"));
        }
        for (rule, n) in &self.accepted {
            parts.push(format!("agreeing by rule {n} ({rule})"));
        }
        format!("{}: {} frames, {} values; {}", self.name, self.frames, self.values, parts.join(", "))
    }
}

/// Compares netcap's records with tshark's rows, frame by frame and layer by layer.
fn compare(name: &str, rows: &[Row], netcap: &NetcapRecords) -> Report {
    let mut report = Report { name: name.to_string(), frames: rows.len() as u64, ..Default::default() };
    let empty = BTreeMap::new();
    let mut skipped_frames = std::collections::HashSet::new();
    let tshark_frames: std::collections::HashSet<u64> = rows.iter().filter_map(|r| r.packet).collect();
    for row in rows {
        let Some(packet) = row.packet else {
            *report.skipped.entry("pcapng custom block: a frame for tshark, not a packet".into()).or_default() += 1;
            continue;
        };
        let stack = Stack::of(&row.tokens);
        if let Some(link) = &stack.unsupported {
            *report.skipped.entry(format!("link {link} outside netcap's contract")).or_default() += 1;
            skipped_frames.insert(packet);
            continue;
        }
        for layer in LAYERS {
            let records = netcap.by_layer.get(&layer).unwrap_or(&empty).get(&packet);
            let records: &[DynamicMessage] = records.map(Vec::as_slice).unwrap_or(&[]);
            let expected = instances(row, &stack, layer);
            if expected.is_empty() && records.is_empty() {
                continue;
            }
            if !expected.is_empty() && records.is_empty() && partial_header(row, &stack, layer) {
                let stats = report.stats.entry(layer).or_default();
                stats.compared += 1;
                stats.agreed += 1;
                let rule = format!("{}: tshark shows a partial header, netcap writes no record", layer.name());
                *report.accepted.entry(rule).or_default() += 1;
                continue;
            }
            if expected.is_empty()
                && !records.is_empty()
                && matches!(layer, Tcp | Udp | Icmpv6)
                && ipv6_transport_undecided(row, &stack)
            {
                let reason = format!("{}: tshark stops inside an IPv6 extension header", layer.name());
                *report.skipped.entry(reason).or_default() += 1;
                continue;
            }
            let stats = report.stats.entry(layer).or_default();
            stats.compared += 1;
            let before = report.disagreements.len();
            compare_layer(row, layer, &expected, records, netcap, &mut report);
            // Move analysed and accepted disagreements aside.
            let new = report.disagreements.split_off(before);
            for d in new {
                match accepted_reason(name, &d) {
                    Some(why) => report.known.push(format!("{d} — accepted: {why}")),
                    None => report.disagreements.push(d),
                }
            }
            let stats = report.stats.entry(layer).or_default();
            if report.disagreements.len() == before {
                stats.agreed += 1;
            }
        }
    }
    // Records for frames tshark does not have at all.
    for layer in LAYERS {
        for (frame, records) in netcap.by_layer.get(&layer).unwrap_or(&empty) {
            if tshark_frames.contains(frame) || skipped_frames.contains(frame) {
                continue;
            }
            report.stats.entry(layer).or_default().compared += 1;
            report.disagreements.push(Disagreement {
                frame: *frame,
                tshark_frame: None,
                layer,
                field: "(record)".into(),
                tshark: "no such frame".into(),
                netcap: format!("{} record(s)", records.len()),
            });
        }
    }
    report
}

fn compare_layer(
    row: &Row,
    layer: Layer,
    wanted: &[Instance],
    records: &[DynamicMessage],
    netcap: &NetcapRecords,
    report: &mut Report,
) {
    let out = &mut report.disagreements;
    let mut values = 0;
    let mut coverage: Vec<&'static str> = Vec::new();
    let packet = row.packet.unwrap_or(row.frame);
    let mut push = |field: String, tshark: String, netcap: String| {
        out.push(Disagreement {
            frame: packet,
            tshark_frame: (packet != row.frame).then_some(row.frame),
            layer,
            field,
            tshark,
            netcap,
        })
    };
    if wanted.len() != records.len() {
        let errors = netcap.errors.get(&packet).map(|e| e.join("; "));
        let netcap_side = match (records.len(), errors) {
            (0, Some(e)) => format!("no record; Error: {e}"),
            (0, None) => "no record".to_string(),
            (n, _) => format!("{n} record(s)"),
        };
        let tshark_side = if wanted.is_empty() {
            format!("no {} layer netcap should decode ({})", layer.name(), row.protocols)
        } else {
            format!("{} record(s) ({})", wanted.len(), row.protocols)
        };
        push("(record)".into(), tshark_side, netcap_side);
        return;
    }
    for (inst, msg) in wanted.iter().zip(records) {
        for check in checks_for(layer) {
            let Some(tval) = inst.get(check.tshark) else { continue };
            let want = match tval {
                Val(s) => match expected(check.norm, s) {
                    Ok(v) => v,
                    Err(e) => {
                        push(check.netcap.into(), e, "-".into());
                        continue;
                    }
                },
                Missing => match absent_value(check.absent) {
                    Some(v) => v,
                    None => continue,
                },
                Unknown => continue,
            };
            let got = canonical(check.norm, netcap_value(msg, check.netcap));
            values += 1;
            if matches!(tval, Val(_)) {
                coverage.push(check.netcap);
            }
            if got != want {
                let shown = match tval {
                    Val(s) => format!("{want} [{} = {s}]", check.tshark),
                    _ => format!("{want} [no {}]", check.tshark),
                };
                push(check.netcap.into(), shown, got.to_string());
            }
        }
    }
    report.values += values;
    for field in coverage {
        *report.coverage.entry((layer, field)).or_default() += 1;
    }
}

/// Runs netcap on `pcap` and compares it with tshark's TSV output.
fn check_capture(pcap: &Path, tsv: &str) -> Result<Report, String> {
    let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
    let rows = parse_tsv(tsv).map_err(|e| format!("{name}: bad tshark TSV: {e}"))?;
    let out = tempfile::tempdir().map_err(|e| e.to_string())?;
    run_netcap(pcap, out.path())?;
    let records = load_netcap(out.path()).map_err(|e| format!("{name}: {e}"))?;
    Ok(compare(&name, &rows, &records))
}

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// netcap agrees with the committed tshark expectations on every capture in
/// testdata/pcaps, layer by layer.
#[test]
fn oracle_testdata() {
    let pcap_dir = repo_path("testdata/pcaps");
    let expected_dir = repo_path("testdata/expected");
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(&pcap_dir)
        .expect("testdata/pcaps exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    pcaps.sort();
    assert!(!pcaps.is_empty(), "no captures in {}", pcap_dir.display());

    let mut failures = Vec::new();
    let mut totals: BTreeMap<Layer, Stats> = BTreeMap::new();
    let mut coverage: BTreeMap<(Layer, &'static str), u64> = BTreeMap::new();
    for pcap in &pcaps {
        let name = pcap.file_name().unwrap().to_string_lossy().into_owned();
        let tsv_path = expected_dir.join(format!("{name}.tsv"));
        let Ok(tsv) = std::fs::read_to_string(&tsv_path) else {
            failures.push(format!("{name}: no {} (run scripts/tshark-expected)", tsv_path.display()));
            continue;
        };
        let report = match check_capture(pcap, &tsv) {
            Ok(r) => r,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        println!("{}", report.summary());
        for d in &report.disagreements {
            println!("    {d}");
        }
        for k in &report.known {
            println!("    {k}");
        }
        for (layer, s) in &report.stats {
            totals.entry(*layer).or_default().add(*s);
        }
        for (k, n) in &report.coverage {
            *coverage.entry(*k).or_default() += n;
        }
        for layer in report.failing_layers() {
            let s = report.stats[&layer];
            failures.push(format!(
                "{name}: {} agreement {:.2}% ({}/{}) < {MIN_AGREEMENT}%",
                layer.name(),
                s.percent(),
                s.agreed,
                s.compared
            ));
        }
    }
    for entry in std::fs::read_dir(&expected_dir).expect("testdata/expected exists") {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(capture) = name.strip_suffix(".tsv")
            && !pcap_dir.join(capture).exists()
        {
            failures.push(format!("{name}: expectation without a capture in testdata/pcaps"));
        }
    }
    println!("\n{}\n{}", coverage_table(&coverage), layer_table(&totals));
    assert!(
        failures.is_empty(),
        "netcap disagrees with tshark (every disagreement is printed above):\n  {}",
        failures.join("\n  ")
    );
}

/// Live conformance run over a capture corpus with tshark. Ignored by
/// default; see docs/conformance.md:
///
/// ```text
/// NETCAP_CONFORMANCE_DIR=../shared/pcaps cargo test --release --test integration \
///     conformance_corpus -- --ignored --nocapture
/// ```
#[test]
#[ignore = "needs tshark and NETCAP_CONFORMANCE_DIR (a capture corpus)"]
fn conformance_corpus() {
    let Some(dir) = std::env::var_os("NETCAP_CONFORMANCE_DIR") else {
        eprintln!("NETCAP_CONFORMANCE_DIR is not set: nothing to do");
        return;
    };
    let dir = PathBuf::from(dir);
    let tshark = std::env::var("TSHARK").unwrap_or_else(|_| "tshark".into());
    assert!(
        Command::new(&tshark).arg("--version").output().is_ok_and(|o| o.status.success()),
        "NETCAP_CONFORMANCE_DIR is set but {tshark} does not run; put tshark on PATH"
    );
    let mut files = Vec::new();
    for sub in ["protocols", "linktypes", "format"] {
        walk(&dir.join(sub), &mut files);
    }
    files.sort();
    assert!(!files.is_empty(), "no captures under {}/{{protocols,linktypes,format}}", dir.display());

    // Two workers: tshark and netcap of one capture run while another is compared.
    let queue = std::sync::Mutex::new(files.iter());
    let results = std::sync::Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 4));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(file) = queue.lock().unwrap().next() else { break };
                    let result = corpus_one(file);
                    results.lock().unwrap().push((file.clone(), result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap();
    results.sort_by(|a, b| a.0.cmp(&b.0));

    let mut totals: BTreeMap<Layer, Stats> = BTreeMap::new();
    let mut coverage: BTreeMap<(Layer, &'static str), u64> = BTreeMap::new();
    let mut reports = Vec::new();
    let mut unreadable = Vec::new();
    let mut netcap_failures = Vec::new();
    for (file, result) in results {
        let rel = file.strip_prefix(&dir).unwrap_or(&file).display().to_string();
        match result {
            Corpus::Unreadable(e) => unreadable.push(format!("{rel}: {e}")),
            Corpus::Failed(e) => netcap_failures.push(format!("{rel}: {e}")),
            Corpus::Compared(mut report) => {
                report.name = rel;
                for (layer, s) in &report.stats {
                    totals.entry(*layer).or_default().add(*s);
                }
                for (k, n) in &report.coverage {
                    *coverage.entry(*k).or_default() += n;
                }
                reports.push(report);
            }
        }
    }

    println!("\n== Captures tshark cannot read (skipped): {}", unreadable.len());
    for u in &unreadable {
        println!("    {u}");
    }
    let mut skipped: BTreeMap<String, u64> = BTreeMap::new();
    for r in &reports {
        for (reason, n) in &r.skipped {
            *skipped.entry(reason.clone()).or_default() += n;
        }
    }
    println!("\n== Frames not compared");
    for (reason, n) in &skipped {
        println!("    {n:>6}  {reason}");
    }
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for r in &reports {
        for (rule, n) in &r.accepted {
            *by_rule.entry(rule.clone()).or_default() += n;
        }
    }
    println!("\n== Agreeing by rule");
    for (rule, n) in &by_rule {
        println!("    {n:>6}  {rule}");
    }
    let known: Vec<String> =
        reports.iter().flat_map(|r| r.known.iter().map(move |k| format!("{} {k}", r.name))).collect();
    if !known.is_empty() {
        println!("\n== Accepted disagreements (ACCEPTED)");
        for k in &known {
            println!("    {k}");
        }
    }

    // Disagreement classes: (layer, field) with counts and examples.
    let mut classes: BTreeMap<(Layer, String), (u64, Vec<String>)> = BTreeMap::new();
    for r in &reports {
        for d in &r.disagreements {
            let e = classes.entry((d.layer, d.field.clone())).or_default();
            e.0 += 1;
            if e.1.len() < 5 {
                e.1.push(format!("{} {d}", r.name));
            }
        }
    }
    println!("\n== Disagreements by field");
    for ((layer, field), (n, examples)) in &classes {
        println!("  {}.{field}: {n}", layer.name());
        for e in examples {
            println!("      {e}");
        }
    }

    let mut worst: Vec<&Report> = reports.iter().filter(|r| !r.disagreements.is_empty()).collect();
    worst.sort_by(|a, b| {
        let min = |r: &Report| r.stats.values().map(Stats::percent).fold(100.0, f64::min);
        min(a).total_cmp(&min(b)).then(b.disagreements.len().cmp(&a.disagreements.len()))
    });
    println!("\n== Worst captures");
    for r in worst.iter().take(15) {
        println!("  {}", r.summary());
        for d in r.disagreements.iter().take(10) {
            println!("      {d}");
        }
        if r.disagreements.len() > 10 {
            println!("      ... {} more", r.disagreements.len() - 10);
        }
    }

    println!("\n== Values compared per field (where tshark shows the field)\n{}", coverage_table(&coverage));
    println!(
        "\n== Agreement over {} captures ({} compared, {} unreadable by tshark)\n{}",
        files.len(),
        reports.len(),
        unreadable.len(),
        layer_table(&totals)
    );

    let mut failures = netcap_failures.clone();
    for (layer, s) in &totals {
        if s.percent() < MIN_AGREEMENT {
            failures.push(format!("{}: overall agreement {:.3}% < {MIN_AGREEMENT}%", layer.name(), s.percent()));
        }
    }
    assert!(failures.is_empty(), "conformance failures:\n  {}", failures.join("\n  "));
}

enum Corpus {
    Unreadable(String),
    Failed(String),
    Compared(Report),
}

fn corpus_one(file: &Path) -> Corpus {
    let script = repo_path("scripts/tshark-expected");
    let output = match Command::new("python3").arg(&script).arg("--stdout").arg(file).output() {
        Ok(o) => o,
        Err(e) => return Corpus::Unreadable(format!("cannot run {}: {e}", script.display())),
    };
    if !output.status.success() {
        return Corpus::Unreadable(String::from_utf8_lossy(&output.stderr).trim().to_string());
    }
    let tsv = String::from_utf8_lossy(&output.stdout);
    match check_capture(file, &tsv) {
        Ok(r) => Corpus::Compared(r),
        Err(e) => Corpus::Failed(e),
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.is_file() {
            out.push(path);
        }
    }
}

/// Values compared per check, so that a check no capture exercises shows up.
fn coverage_table(coverage: &BTreeMap<(Layer, &'static str), u64>) -> String {
    let mut s = String::from("values compared per field (tshark shows the field):\n");
    for layer in LAYERS {
        let parts: Vec<String> = checks_for(layer)
            .map(|c| format!("{}={}", c.netcap, coverage.get(&(layer, c.netcap)).copied().unwrap_or(0)))
            .collect();
        s += &format!("  {:<9} {}\n", layer.name(), parts.join(" "));
    }
    s
}

fn layer_table(totals: &BTreeMap<Layer, Stats>) -> String {
    let mut s = format!("{:<10} {:>10} {:>10} {:>9}\n", "layer", "compared", "agreeing", "%");
    for layer in LAYERS {
        let t = totals.get(&layer).copied().unwrap_or_default();
        s += &format!("{:<10} {:>10} {:>10} {:>8.3}%\n", layer.name(), t.compared, t.agreed, t.percent());
    }
    s
}

// ---------------------------------------------------------------------------
// Unit tests of the oracle itself (no netcap needed)
// ---------------------------------------------------------------------------

fn row(protocols: &str, fields: &[(&str, &str)]) -> Row {
    Row {
        frame: 1,
        packet: Some(1),
        protocols: protocols.to_string(),
        tokens: protocols.split(':').map(String::from).collect(),
        fields: fields.iter().map(|(k, v)| (k.to_string(), v.split(',').map(String::from).collect())).collect(),
    }
}

#[test]
fn oracle_outer_stack_stops_at_tunnels_and_icmp_payloads() {
    let s = Stack::of(&row("eth:ethertype:ip:icmp:ip:udp", &[]).tokens);
    assert!(s.has(Ethernet) && s.has(Ipv4) && s.has(Icmpv4) && !s.has(Udp));
    let s = Stack::of(&row("eth:ethertype:ip:gre:ip:tcp", &[]).tokens);
    assert!(s.has(Ipv4) && !s.has(Tcp));
    let s = Stack::of(&row("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp", &[]).tokens);
    assert!(s.has(Udp) && !s.has(Icmpv4));
    let s = Stack::of(&row("eth:ethertype:ipv6:ip:tcp", &[]).tokens);
    assert!(s.has(Ipv6) && !s.has(Ipv4) && !s.has(Tcp));
    let s = Stack::of(&row("ppp:ipv6:ipv6.fraghdr:tcp", &[]).tokens);
    assert!(s.has(Ipv6) && s.has(Tcp) && s.ext.len() == 1);
    let s = Stack::of(&row("eth:ethertype:vlan:ethertype:ipv6:ip:gre:ppp:ip:udp", &[]).tokens);
    assert!(s.has(Dot1q) && s.has(Ipv6) && !s.has(Ipv4) && !s.has(Udp));
    let s = Stack::of(&row("eth:ethertype:pppoes:ppp:ip:tcp", &[]).tokens);
    assert!(s.has(Ethernet) && !s.has(Ipv4));
    let s = Stack::of(&row("radiotap:wlan_radio:wlan:llc:ip:udp", &[]).tokens);
    assert!(s.unsupported.is_some());
    let s = Stack::of(&row("nflog:ip:tcp", &[]).tokens);
    assert!(s.has(Ipv4) && s.has(Tcp) && !s.has(Ethernet) && !s.pktap);
    let s = Stack::of(&row("arcnet:arp", &[]).tokens);
    assert!(s.has(Arp) && s.unsupported.is_none());
    let s = Stack::of(&row("pktap:pcap_pktdata:eth:ethertype:ip:udp:dns", &[]).tokens);
    assert!(s.pktap && s.has(Ethernet) && s.has(Ipv4) && s.has(Udp));
    let s = Stack::of(&row("pktap", &[]).tokens);
    assert!(s.pktap && !s.has(Ethernet) && s.unsupported.is_none());
    let s = Stack::of(&row("eth:ethertype:cmd:ethertype:ip:icmp", &[]).tokens);
    assert!(s.has(Ethernet) && s.has(Ipv4) && s.has(Icmpv4) && s.tags.is_empty());
    let s = Stack::of(&row("ip:udp", &[]).tokens);
    assert!(s.has(Ipv4) && s.has(Udp) && !s.has(Ethernet));
}

#[test]
fn oracle_vlan_tags_map_to_their_own_fields() {
    let r = row(
        "eth:ethertype:ieee8021ad:ethertype:vlan:ethertype:arp",
        &[
            ("eth.type", "0x88a8"),
            ("ieee8021ad.id", "200"),
            ("ieee8021ad.priority", "0"),
            ("ieee8021ad.dei", "0"),
            ("ieee8021ah.etype", "0x8100"),
            ("vlan.id", "2001"),
            ("vlan.priority", "3"),
            ("vlan.dei", "1"),
            ("vlan.etype", "0x0806"),
        ],
    );
    let s = Stack::of(&r.tokens);
    let tags = instances(&r, &s, Dot1q);
    assert_eq!(tags.len(), 2);
    let get = |k: usize, f: &str| match &tags[k][f] {
        Val(v) => v.clone(),
        other => format!("{other:?}"),
    };
    assert_eq!(get(0, "_vlan.tpid"), "0x88a8");
    assert_eq!(get(0, "_vlan.id"), "200");
    assert_eq!(get(0, "_vlan.etype"), "0x8100");
    assert_eq!(get(1, "_vlan.tpid"), "0x8100");
    assert_eq!(get(1, "_vlan.id"), "2001");
    assert_eq!(get(1, "_vlan.dei"), "1");
    assert_eq!(get(1, "_vlan.etype"), "0x0806");
}

#[test]
fn oracle_conditional_fields_are_not_taken_from_inner_layers() {
    // The quoted packet has options, the outer one does not.
    let r = row(
        "eth:ethertype:ip:icmp:ip:udp",
        &[("ip.src", "10.0.0.1,10.0.0.2"), ("ip.opt.type", "148"), ("icmp.type", "3")],
    );
    let s = Stack::of(&r.tokens);
    let inst = &instances(&r, &s, Ipv4)[0];
    assert!(matches!(&inst["ip.src"], Val(v) if v == "10.0.0.1"));
    assert!(matches!(&inst["ip.opt.type"], Unknown));
    let icmp = &instances(&r, &s, Icmpv4)[0];
    assert!(matches!(&icmp["_icmp.ident"], Val(v) if v == "0"));
}

#[test]
fn oracle_ethernet_lengths_leave_out_a_pktap_header() {
    let fields = [("frame.len", "182"), ("frame.cap_len", "182"), ("eth.type", "0x0800"), ("pktap.hdrlen", "108")];
    let r = row("pktap:pcap_pktdata:eth:ethertype:ip:udp:dns", &fields);
    let s = Stack::of(&r.tokens);
    let eth = &instances(&r, &s, Ethernet)[0];
    assert!(matches!(&eth["_eth.cap_len"], Val(v) if v == "74"));
    assert!(matches!(&eth["_eth.len"], Val(v) if v == "74"));
    let r = row("eth:ethertype:ip:udp", &fields[..3]);
    let eth = &instances(&r, &Stack::of(&r.tokens), Ethernet)[0];
    assert!(matches!(&eth["_eth.len"], Val(v) if v == "182"));
}

#[test]
fn oracle_normalisers() {
    assert_eq!(expected(Norm::IpFlags, "0x02"), Ok(NVal::Int(2)));
    assert_eq!(expected(Norm::IpFlags, "0x40"), Ok(NVal::Int(2)));
    assert_eq!(expected(Norm::Times8, "185"), Ok(NVal::Int(1480)));
    assert_eq!(expected(Norm::Int, "0x0018"), Ok(NVal::Int(0x18)));
    assert_eq!(expected(Norm::TimeNs, "1575842394.599412000"), Ok(NVal::Int(1_575_842_394_599_412_000)));
    assert_eq!(expected(Norm::TimeNs, "1418145370.1000000000"), Ok(NVal::Int(1_418_145_371_000_000_000)));
    assert_eq!(expected(Norm::IpOptionTypes, "130,0,1"), Ok(NVal::List(vec![NVal::Int(130)])));
    assert_eq!(expected(Norm::OptionKinds, "5,0,0"), Ok(NVal::List(vec![NVal::Int(5), NVal::Int(0)])));
    assert_eq!(expected(Norm::Ip, "2001:db8:0:0::1"), Ok(NVal::Str("2001:db8::1".into())));
    assert_eq!(canonical(Norm::Mac, NVal::Str("AA:bb:CC:00:11:22".into())), NVal::Str("aa:bb:cc:00:11:22".into()));
}
