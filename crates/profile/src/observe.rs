//! What records say about hosts and devices: names, fingerprints,
//! application protocols.

use crate::batch::{Observation, Target};
use crate::host::Attr;
use netcap_decoder::PacketSummary;
use netcap_records as r;
use netcap_records::RecordType;
use prost::Message;
use std::borrow::Cow;
use std::net::IpAddr;

/// An address from a record's 4 or 16 bytes.
pub(crate) fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// Decodes the length-delimited records in `bytes` one by one, stopping at
/// the first that does not decode.
fn each<M: Message + Default>(mut bytes: &[u8], mut f: impl FnMut(M)) {
    while !bytes.is_empty() {
        match M::decode_length_delimited(&mut bytes) {
            Ok(m) => f(m),
            Err(_) => return,
        }
    }
}

/// The source MAC of the packet with frame number `frame` in the batch.
fn mac_of(frame: u64, summaries: &[PacketSummary]) -> Option<[u8; 6]> {
    // Summaries are in frame order, but for the reassembled datagrams (which
    // follow the fragment that completed them, with its frame number).
    let i = summaries.partition_point(|s| s.frame < frame);
    match summaries.get(i) {
        Some(s) if s.frame == frame => s.src_mac,
        _ => summaries.iter().find(|s| s.frame == frame).and_then(|s| s.src_mac),
    }
}

struct Out<'o> {
    list: &'o mut Vec<Observation>,
}

impl Out<'_> {
    fn host(&mut self, ip: Option<IpAddr>, attr: Attr, value: &str) {
        if !value.is_empty() {
            self.host_value(ip, attr, Cow::Owned(value.to_owned()));
        }
    }

    fn host_value(&mut self, ip: Option<IpAddr>, attr: Attr, value: Cow<'static, str>) {
        if let Some(ip) = ip {
            self.list.push(Observation { target: Target::Host(ip), attr, value });
        }
    }

    fn device(&mut self, mac: Option<[u8; 6]>, attr: Attr, value: &str) {
        if let Some(mac) = mac
            && !value.is_empty()
        {
            self.list.push(Observation { target: Target::Device(mac), attr, value: Cow::Owned(value.to_owned()) });
        }
    }

    /// The application protocol for both ends of a record.
    fn app(&mut self, src: &[u8], dst: &[u8], name: &'static str) {
        self.host_value(ip_of(src), Attr::App, Cow::Borrowed(name));
        self.host_value(ip_of(dst), Attr::App, Cow::Borrowed(name));
    }
}

const TYPE_A: u32 = 1;
const TYPE_AAAA: u32 = 28;
const TYPE_NB: u32 = 32;

/// Observations from the packet decoders' records of one batch.
pub(crate) fn packet_records(
    record_type: RecordType,
    bytes: &[u8],
    summaries: &[PacketSummary],
    list: &mut Vec<Observation>,
) {
    let mut out = Out { list };
    match record_type {
        RecordType::Dns => each(bytes, |m: view::Dns| {
            out.app(&m.src_ip, &m.dst_ip, "dns");
            if m.response {
                // Names that resolved to an address: the owner names of the
                // answers' A and AAAA records.
                for a in m.answers.iter().filter(|a| a.r#type == TYPE_A || a.r#type == TYPE_AAAA) {
                    out.host(ip_of(&a.ip), Attr::DnsName, &a.name);
                }
            } else {
                for q in &m.questions {
                    out.host(ip_of(&m.src_ip), Attr::DnsQuery, &q.name);
                }
            }
        }),
        RecordType::Mdns => each(bytes, |m: r::Mdns| {
            out.app(&m.src_ip, &m.dst_ip, "mdns");
            if m.response {
                let mac = mac_of(m.frame, summaries);
                for a in m.answers.iter().filter(|a| a.r#type == TYPE_A || a.r#type == TYPE_AAAA) {
                    out.device(mac, Attr::MdnsName, &a.name);
                }
            }
        }),
        RecordType::Llmnr => each(bytes, |m: r::Llmnr| {
            out.app(&m.src_ip, &m.dst_ip, "llmnr");
            if m.response {
                let mac = mac_of(m.frame, summaries);
                for a in m.answers.iter().filter(|a| a.r#type == TYPE_A || a.r#type == TYPE_AAAA) {
                    out.device(mac, Attr::LlmnrName, &a.name);
                }
            }
        }),
        RecordType::Netbiosnameservice => each(bytes, |m: r::NetBiosNameService| {
            out.app(&m.src_ip, &m.dst_ip, "netbios-ns");
            let mac = mac_of(m.frame, summaries);
            if m.response {
                for a in m.answers.iter().filter(|a| a.r#type == TYPE_NB) {
                    out.device(mac, Attr::NetbiosName, &a.name);
                }
            } else if matches!(m.opcode, 5 | 8 | 9) {
                // Registration and refresh: the name the sender claims.
                for q in &m.questions {
                    out.device(mac, Attr::NetbiosName, &q.name);
                }
            }
        }),
        RecordType::Dhcpv4 => each(bytes, |m: r::DhcPv4| {
            out.app(&m.src_ip, &m.dst_ip, "dhcp");
            // Requests (BOOTREQUEST) describe the client.
            let client = <[u8; 6]>::try_from(m.client_mac.as_slice()).ok();
            if m.op == 1 {
                out.device(client, Attr::DhcpFingerprint, &m.fingerprint);
                out.device(client, Attr::DhcpHostname, &m.hostname);
                out.device(client, Attr::DhcpVendorClass, &m.vendor_class);
            }
        }),
        RecordType::Ssdp => each(bytes, |m: r::Ssdp| {
            out.app(&m.src_ip, &m.dst_ip, "ssdp");
            let mac = mac_of(m.frame, summaries);
            out.device(mac, Attr::SsdpServer, &m.server);
            out.device(mac, Attr::SsdpServer, &m.user_agent);
        }),
        _ => {}
    }
}

/// The fields profiles read of the most frequent records, decoded without
/// the rest: prost skips the other fields (no header lists, cipher suites
/// or extension lists are built only to be dropped). Tags are those of
/// proto/; the tests below check each view against its full record.
mod view {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Dns {
        #[prost(bytes = "vec", tag = "3")]
        pub src_ip: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        pub dst_ip: Vec<u8>,
        #[prost(bool, tag = "13")]
        pub response: bool,
        #[prost(message, repeated, tag = "26")]
        pub questions: Vec<Name>,
        #[prost(message, repeated, tag = "27")]
        pub answers: Vec<Answer>,
    }

    /// A DNSQuestion's name.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Name {
        #[prost(string, tag = "1")]
        pub name: String,
    }

    /// A DNSResourceRecord's owner name, type and address.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Answer {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(uint32, tag = "2")]
        pub r#type: u32,
        #[prost(bytes = "vec", tag = "6")]
        pub ip: Vec<u8>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TlsClientHello {
        #[prost(bytes = "vec", tag = "3")]
        pub src_ip: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        pub dst_ip: Vec<u8>,
        #[prost(string, tag = "17")]
        pub sni: String,
        #[prost(string, tag = "24")]
        pub ja3_hash: String,
        #[prost(string, tag = "25")]
        pub ja4: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct TlsServerHello {
        #[prost(bytes = "vec", tag = "3")]
        pub src_ip: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        pub dst_ip: Vec<u8>,
        #[prost(string, tag = "20")]
        pub ja3s_hash: String,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Http {
        #[prost(bytes = "vec", tag = "3")]
        pub src_ip: Vec<u8>,
        #[prost(bytes = "vec", tag = "4")]
        pub dst_ip: Vec<u8>,
        #[prost(string, tag = "17")]
        pub user_agent: String,
        #[prost(string, tag = "21")]
        pub server: String,
    }
}

/// Observations from the session stage's records (TLS hellos, HTTP).
pub(crate) fn session_records(record_type: RecordType, bytes: &[u8], list: &mut Vec<Observation>) {
    let mut out = Out { list };
    match record_type {
        RecordType::Tlsclienthello => each(bytes, |m: view::TlsClientHello| {
            out.app(&m.src_ip, &m.dst_ip, "tls");
            let (client, server) = (ip_of(&m.src_ip), ip_of(&m.dst_ip));
            out.host(client, Attr::SniRequested, &m.sni);
            out.host(server, Attr::SniServed, &m.sni);
            out.host(client, Attr::Ja3, &m.ja3_hash);
            out.host(client, Attr::Ja4, &m.ja4);
        }),
        RecordType::Tlsserverhello => each(bytes, |m: view::TlsServerHello| {
            out.app(&m.src_ip, &m.dst_ip, "tls");
            out.host(ip_of(&m.src_ip), Attr::Ja3s, &m.ja3s_hash);
        }),
        RecordType::Http => each(bytes, |m: view::Http| {
            // HTTP records run client to server.
            out.app(&m.src_ip, &m.dst_ip, "http");
            out.host(ip_of(&m.src_ip), Attr::UserAgent, &m.user_agent);
            out.host(ip_of(&m.dst_ip), Attr::HttpServer, &m.server);
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode<M: Message>(records: &[M]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in records {
            m.encode_length_delimited(&mut out).unwrap();
        }
        out
    }

    fn host(ip: &str, attr: Attr, value: &str) -> Observation {
        Observation { target: Target::Host(ip.parse().unwrap()), attr, value: value.to_owned().into() }
    }

    /// Each view reads the same values as its full record (the tags agree
    /// with proto/), whatever else the record holds.
    #[test]
    fn views_read_what_the_full_records_hold() {
        let full = r::Http {
            src_ip: vec![10, 0, 0, 2],
            dst_ip: vec![10, 0, 0, 1],
            method: "GET".into(),
            host: "h".into(),
            user_agent: "curl/8".into(),
            server: "nginx".into(),
            request_headers: vec![r::HttpHeader { name: "X".into(), value: "y".into() }],
            status_code: 200,
            ..Default::default()
        };
        let v = view::Http::decode(full.encode_to_vec().as_slice()).unwrap();
        assert_eq!(
            (v.src_ip, v.dst_ip, v.user_agent, v.server),
            (full.src_ip, full.dst_ip, full.user_agent, full.server)
        );

        let full = r::TlsClientHello {
            src_ip: vec![10, 0, 0, 2],
            dst_ip: vec![10, 0, 0, 1],
            sni: "example.org".into(),
            ja3_hash: "ja3".into(),
            ja4: "ja4".into(),
            ja3: "771,4865".into(),
            cipher_suites: vec![4865, 4866],
            ..Default::default()
        };
        let v = view::TlsClientHello::decode(full.encode_to_vec().as_slice()).unwrap();
        assert_eq!(
            (v.src_ip, v.dst_ip, v.sni, v.ja3_hash, v.ja4),
            (full.src_ip, full.dst_ip, full.sni, full.ja3_hash, full.ja4)
        );

        let full = r::TlsServerHello {
            src_ip: vec![10, 0, 0, 1],
            dst_ip: vec![10, 0, 0, 2],
            ja3s_hash: "ja3s".into(),
            ja3s: "771,4865,".into(),
            ..Default::default()
        };
        let v = view::TlsServerHello::decode(full.encode_to_vec().as_slice()).unwrap();
        assert_eq!((v.src_ip, v.dst_ip, v.ja3s_hash), (full.src_ip, full.dst_ip, full.ja3s_hash));

        let full = r::Dns {
            src_ip: vec![10, 0, 0, 1],
            dst_ip: vec![10, 0, 0, 2],
            id: 7,
            response: true,
            questions: vec![r::DnsQuestion { name: "q.example".into(), r#type: 1, ..Default::default() }],
            answers: vec![r::DnsResourceRecord {
                name: "a.example".into(),
                r#type: TYPE_A,
                ip: vec![192, 0, 2, 7],
                ttl: 60,
                ..Default::default()
            }],
            ..Default::default()
        };
        let v = view::Dns::decode(full.encode_to_vec().as_slice()).unwrap();
        assert_eq!((&v.src_ip, &v.dst_ip, v.response), (&full.src_ip, &full.dst_ip, full.response));
        assert_eq!(v.questions.iter().map(|q| q.name.as_str()).collect::<Vec<_>>(), ["q.example"]);
        assert_eq!(
            v.answers.iter().map(|a| (a.name.as_str(), a.r#type, a.ip.as_slice())).collect::<Vec<_>>(),
            [("a.example", TYPE_A, &[192u8, 0, 2, 7][..])]
        );
    }

    #[test]
    fn dns_answers_name_their_addresses_and_queries_their_askers() {
        let rr = |name: &str, t: u32, ip: &[u8]| r::DnsResourceRecord {
            name: name.into(),
            r#type: t,
            ip: ip.to_vec(),
            ..Default::default()
        };
        let records = encode(&[
            r::Dns {
                src_ip: vec![10, 0, 0, 2],
                dst_ip: vec![10, 0, 0, 1],
                questions: vec![r::DnsQuestion { name: "www.example".into(), r#type: 1, ..Default::default() }],
                ..Default::default()
            },
            r::Dns {
                src_ip: vec![10, 0, 0, 1],
                dst_ip: vec![10, 0, 0, 2],
                response: true,
                answers: vec![
                    rr("www.example", 5, &[]),
                    rr("cdn.example", TYPE_A, &[192, 0, 2, 7]),
                    rr("cdn.example", TYPE_AAAA, &[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
                ],
                additionals: vec![rr("ns.example", TYPE_A, &[192, 0, 2, 53])],
                ..Default::default()
            },
        ]);
        let mut list = Vec::new();
        packet_records(RecordType::Dns, &records, &[], &mut list);
        assert_eq!(
            list,
            vec![
                host("10.0.0.2", Attr::App, "dns"),
                host("10.0.0.1", Attr::App, "dns"),
                host("10.0.0.2", Attr::DnsQuery, "www.example"),
                host("10.0.0.1", Attr::App, "dns"),
                host("10.0.0.2", Attr::App, "dns"),
                host("192.0.2.7", Attr::DnsName, "cdn.example"),
                host("2001:db8::1", Attr::DnsName, "cdn.example"),
            ]
        );
        // Cut anywhere, the records that are whole still count, and nothing
        // panics.
        for cut in 0..records.len() {
            let mut list = Vec::new();
            packet_records(RecordType::Dns, &records[..cut], &[], &mut list);
            assert!(list.len() <= 7);
        }
    }

    #[test]
    fn dhcp_requests_describe_their_client_device() {
        let records = encode(&[
            r::DhcPv4 {
                op: 1,
                client_mac: vec![0, 0x0b, 0x82, 1, 0xfc, 0x42],
                fingerprint: "1,3,6,42".into(),
                hostname: "laptop".into(),
                vendor_class: "MSFT 5.0".into(),
                ..Default::default()
            },
            r::DhcPv4 {
                op: 2,
                client_mac: vec![0, 0x0b, 0x82, 1, 0xfc, 0x42],
                hostname: "other".into(),
                ..Default::default()
            },
        ]);
        let mut list = Vec::new();
        packet_records(RecordType::Dhcpv4, &records, &[], &mut list);
        let device = |attr, value: &str| Observation {
            target: Target::Device([0, 0x0b, 0x82, 1, 0xfc, 0x42]),
            attr,
            value: value.to_owned().into(),
        };
        assert_eq!(
            list,
            vec![
                device(Attr::DhcpFingerprint, "1,3,6,42"),
                device(Attr::DhcpHostname, "laptop"),
                device(Attr::DhcpVendorClass, "MSFT 5.0"),
            ]
        );
    }

    #[test]
    fn tls_and_http_name_clients_and_servers() {
        let hello = encode(&[r::TlsClientHello {
            src_ip: vec![10, 0, 0, 2],
            dst_ip: vec![192, 0, 2, 1],
            sni: "example.org".into(),
            ja3_hash: "abc".into(),
            ja4: "t13d".into(),
            ..Default::default()
        }]);
        let mut list = Vec::new();
        session_records(RecordType::Tlsclienthello, &hello, &mut list);
        assert!(list.contains(&host("10.0.0.2", Attr::SniRequested, "example.org")));
        assert!(list.contains(&host("192.0.2.1", Attr::SniServed, "example.org")));
        assert!(list.contains(&host("10.0.0.2", Attr::Ja3, "abc")));
        assert!(list.contains(&host("10.0.0.2", Attr::Ja4, "t13d")));
        let http = encode(&[r::Http {
            src_ip: vec![10, 0, 0, 2],
            dst_ip: vec![192, 0, 2, 1],
            user_agent: "curl/8".into(),
            server: "nginx".into(),
            ..Default::default()
        }]);
        let mut list = Vec::new();
        session_records(RecordType::Http, &http, &mut list);
        assert!(list.contains(&host("10.0.0.2", Attr::UserAgent, "curl/8")));
        assert!(list.contains(&host("192.0.2.1", Attr::HttpServer, "nginx")));
    }

    #[test]
    fn announced_names_go_to_the_sending_device() {
        let summaries = [
            PacketSummary { frame: 7, src_mac: Some([0, 0x1b, 0x21, 1, 2, 3]), ..PacketSummary::default() },
            PacketSummary { frame: 8, src_mac: Some([0, 0x1b, 0x21, 4, 5, 6]), ..PacketSummary::default() },
        ];
        let device = |mac: [u8; 6], attr, value: &str| Observation {
            target: Target::Device(mac),
            attr,
            value: value.to_owned().into(),
        };
        let (a, b) = ([0, 0x1b, 0x21, 1, 2, 3], [0, 0x1b, 0x21, 4, 5, 6]);
        let answer = |name: &str, t: u32| r::DnsResourceRecord { name: name.into(), r#type: t, ..Default::default() };
        let mdns = encode(&[
            r::Mdns {
                frame: 7,
                response: true,
                answers: vec![answer("printer.local", TYPE_A), answer("_ipp._tcp.local", 12)],
                ..Default::default()
            },
            r::Mdns {
                frame: 8,
                response: false,
                questions: vec![r::DnsQuestion { name: "x.local".into(), ..Default::default() }],
                ..Default::default()
            },
        ]);
        let llmnr = encode(&[r::Llmnr {
            frame: 8,
            response: true,
            answers: vec![answer("DESKTOP-1", TYPE_AAAA)],
            ..Default::default()
        }]);
        let nbns = encode(&[
            r::NetBiosNameService {
                frame: 7,
                opcode: 5,
                questions: vec![r::DnsQuestion { name: "WORKGROUP".into(), ..Default::default() }],
                ..Default::default()
            },
            r::NetBiosNameService {
                frame: 8,
                response: true,
                answers: vec![answer("FILESERVER", TYPE_NB)],
                ..Default::default()
            },
            r::NetBiosNameService {
                frame: 8,
                opcode: 0,
                questions: vec![r::DnsQuestion { name: "ASKED".into(), ..Default::default() }],
                ..Default::default()
            },
        ]);
        let ssdp =
            encode(&[r::Ssdp { frame: 7, server: "Linux/5.4 UPnP/1.0 MiniUPnPd/2.1".into(), ..Default::default() }]);
        let mut list = Vec::new();
        for (t, bytes) in [
            (RecordType::Mdns, &mdns),
            (RecordType::Llmnr, &llmnr),
            (RecordType::Netbiosnameservice, &nbns),
            (RecordType::Ssdp, &ssdp),
        ] {
            packet_records(t, bytes, &summaries, &mut list);
        }
        list.retain(|o| o.attr != Attr::App);
        assert_eq!(
            list,
            vec![
                device(a, Attr::MdnsName, "printer.local"),
                device(b, Attr::LlmnrName, "DESKTOP-1"),
                device(a, Attr::NetbiosName, "WORKGROUP"),
                device(b, Attr::NetbiosName, "FILESERVER"),
                device(a, Attr::SsdpServer, "Linux/5.4 UPnP/1.0 MiniUPnPd/2.1"),
            ]
        );
    }

    #[test]
    fn macs_of_frames() {
        use netcap_decoder::PacketSummary;
        let s = |frame, mac: u8| PacketSummary { frame, src_mac: Some([mac; 6]), ..PacketSummary::default() };
        let summaries = [s(1, 1), s(2, 2), s(4, 4), s(3, 3)];
        assert_eq!(mac_of(2, &summaries), Some([2; 6]));
        assert_eq!(mac_of(3, &summaries), Some([3; 6]));
        assert_eq!(mac_of(9, &summaries), None);
    }
}
