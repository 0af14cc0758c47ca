//! Checks shared by the fuzz targets (see docs/fuzzing.md).
//!
//! Everything here panics on a broken invariant, which libFuzzer reports as
//! a crash: a record that does not decode, a count that does not add up, a
//! record that names the wrong frame.

use netcap_decoder::{DecodeConfig, DecodeStats, PacketMeta, RecordBuffers};
use netcap_records::RecordType;
use prost::Message;
use prost_reflect::DynamicMessage;

/// Every record type, `Error` included, with payloads: the widest output.
pub fn config_all() -> DecodeConfig {
    let mut cfg = DecodeConfig::new();
    for t in RecordType::all() {
        cfg.set(t, true);
    }
    cfg.payloads = true;
    cfg
}

/// Decodes one message as the typed record `M` and checks that prost
/// re-encodes it to the same bytes (prost's encoding is canonical, so the
/// bytes the decoder wrote must round-trip exactly).
fn typed<M: Message + Default>(t: RecordType, msg: &[u8]) {
    let m = M::decode(msg).unwrap_or_else(|e| panic!("{} record does not decode as its type: {e}", t.name()));
    assert_eq!(m.encode_to_vec(), msg, "{} record does not round-trip through prost", t.name());
}

fn typed_by_record_type(t: RecordType, msg: &[u8]) {
    use netcap_records as r;
    match t {
        RecordType::Ethernet => typed::<r::Ethernet>(t, msg),
        RecordType::Arp => typed::<r::Arp>(t, msg),
        RecordType::Dot1q => typed::<r::Dot1q>(t, msg),
        RecordType::Ipv4 => typed::<r::Ipv4>(t, msg),
        RecordType::Ipv6 => typed::<r::Ipv6>(t, msg),
        RecordType::Tcp => typed::<r::Tcp>(t, msg),
        RecordType::Udp => typed::<r::Udp>(t, msg),
        RecordType::Icmpv4 => typed::<r::Icmpv4>(t, msg),
        RecordType::Icmpv6 => typed::<r::Icmpv6>(t, msg),
        RecordType::Error => typed::<r::Error>(t, msg),
        RecordType::Llc => typed::<r::Llc>(t, msg),
        RecordType::Snap => typed::<r::Snap>(t, msg),
        RecordType::Stp => typed::<r::Stp>(t, msg),
        RecordType::Lldp => typed::<r::Lldp>(t, msg),
        RecordType::Cdp => typed::<r::Cdp>(t, msg),
        RecordType::Eap => typed::<r::Eap>(t, msg),
        RecordType::Eapol => typed::<r::Eapol>(t, msg),
        RecordType::Dot11 => typed::<r::Dot11>(t, msg),
        RecordType::Mpls => typed::<r::Mpls>(t, msg),
        RecordType::Pppoe => typed::<r::Pppoe>(t, msg),
        RecordType::Igmp => typed::<r::Igmp>(t, msg),
        RecordType::Icmpv6ndp => typed::<r::Icmpv6Ndp>(t, msg),
        RecordType::Mld => typed::<r::Mld>(t, msg),
        RecordType::Ipsecah => typed::<r::IpSecAh>(t, msg),
        RecordType::Ipsecesp => typed::<r::IpSecEsp>(t, msg),
        RecordType::Ospf => typed::<r::Ospf>(t, msg),
        RecordType::Vrrp => typed::<r::Vrrp>(t, msg),
        RecordType::Bfd => typed::<r::Bfd>(t, msg),
        RecordType::Gre => typed::<r::Gre>(t, msg),
        RecordType::Erspan => typed::<r::Erspan>(t, msg),
        RecordType::Vxlan => typed::<r::Vxlan>(t, msg),
        RecordType::Geneve => typed::<r::Geneve>(t, msg),
        RecordType::Sctp => typed::<r::Sctp>(t, msg),
        RecordType::Ipv6hopbyhop => typed::<r::IPv6HopByHop>(t, msg),
        RecordType::Ipv6destination => typed::<r::IPv6Destination>(t, msg),
        RecordType::Ipv6routing => typed::<r::IPv6Routing>(t, msg),
        RecordType::Ipv6fragment => typed::<r::IPv6Fragment>(t, msg),
        RecordType::Icmpv6echo => typed::<r::IcmPv6Echo>(t, msg),
        RecordType::Dns => typed::<r::Dns>(t, msg),
        RecordType::Mdns => typed::<r::Mdns>(t, msg),
        RecordType::Llmnr => typed::<r::Llmnr>(t, msg),
        RecordType::Netbiosnameservice => typed::<r::NetBiosNameService>(t, msg),
        RecordType::Dhcpv4 => typed::<r::DhcPv4>(t, msg),
        RecordType::Dhcpv6 => typed::<r::DhcPv6>(t, msg),
        RecordType::Ntp => typed::<r::Ntp>(t, msg),
        RecordType::Snmp => typed::<r::Snmp>(t, msg),
        RecordType::Sip => typed::<r::Sip>(t, msg),
        RecordType::Modbus => typed::<r::Modbus>(t, msg),
        RecordType::Tlsclienthello => typed::<r::TlsClientHello>(t, msg),
        RecordType::Tlsserverhello => typed::<r::TlsServerHello>(t, msg),
        RecordType::Tlscertificate => typed::<r::TlsCertificate>(t, msg),
        RecordType::Dtlsclienthello => typed::<r::DtlsClientHello>(t, msg),
        RecordType::Dtlsserverhello => typed::<r::DtlsServerHello>(t, msg),
        RecordType::Quicinitial => typed::<r::QuicInitial>(t, msg),
        RecordType::Syslog => typed::<r::Syslog>(t, msg),
        RecordType::Ssdp => typed::<r::Ssdp>(t, msg),
        RecordType::Enip => typed::<r::Enip>(t, msg),
        RecordType::Cip => typed::<r::Cip>(t, msg),
        RecordType::Radius => typed::<r::Radius>(t, msg),
        RecordType::Http => typed::<r::Http>(t, msg),
        // A record type added later is still checked through its descriptor.
        _ => {}
    }
}

/// Decodes every record in `out` back, as its typed message and generically
/// through the schema descriptor, and checks that each names `meta`'s frame
/// and time and that the per-type counts match the messages found.
pub fn check_records(out: &RecordBuffers, meta: &PacketMeta) {
    for t in RecordType::all() {
        let desc = t.descriptor().expect("every record type has a descriptor");
        let mut buf = out.bytes(t);
        let mut n = 0u64;
        while !buf.is_empty() {
            let len = prost::decode_length_delimiter(&mut buf)
                .unwrap_or_else(|e| panic!("{} buffer: bad length prefix: {e}", t.name()));
            assert!(len <= buf.len(), "{} buffer: message of {len} bytes, {} left", t.name(), buf.len());
            let (msg, rest) = buf.split_at(len);
            buf = rest;
            n += 1;

            typed_by_record_type(t, msg);
            let dynamic = DynamicMessage::decode(desc.clone(), msg)
                .unwrap_or_else(|e| panic!("{} record does not decode via its descriptor: {e}", t.name()));
            let frame = dynamic.get_field_by_name("frame").and_then(|v| v.as_u64());
            assert_eq!(frame, Some(meta.frame), "{} record names the wrong frame", t.name());
            let ts = dynamic.get_field_by_name("timestamp_ns").and_then(|v| v.as_i64());
            assert_eq!(ts, Some(meta.timestamp_ns), "{} record has the wrong timestamp", t.name());
        }
        assert_eq!(n, out.count(t), "{}: count() disagrees with the messages in bytes()", t.name());
    }
}

/// Every counted decode error is also an `Error` record when `Error` is enabled.
pub fn check_error_count(before: &DecodeStats, after: &DecodeStats, out: &RecordBuffers) {
    let counted: u64 = after.errors.iter().sum::<u64>() - before.errors.iter().sum::<u64>();
    assert_eq!(counted, out.count(RecordType::Error), "error counters and Error records disagree");
}
