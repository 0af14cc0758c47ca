//! Decoder tests on hand-checked packets; whole captures are checked against
//! tshark in tests/oracle.rs.

use super::*;
use netcap_records::{Dot1q, Ethernet, Ipv4, Tcp, Udp};

fn decode_all(link_type: u32, data: &[u8], config: DecodeConfig) -> (RecordBuffers, DecodeStats) {
    let mut decoder = Decoder::new(config);
    let mut out = RecordBuffers::new();
    let meta = PacketMeta {
        frame: 7,
        timestamp_ns: 1_000_000_123,
        link_type,
        wire_length: data.len() as u32,
        reassembled: false,
    };
    decoder.decode(&meta, data, &mut out);
    (out, decoder.take_stats())
}

fn records<M: Message + Default>(out: &RecordBuffers, t: RecordType) -> Vec<M> {
    let mut bytes = out.bytes(t);
    let mut v = Vec::new();
    while !bytes.is_empty() {
        v.push(M::decode_length_delimited(&mut bytes).unwrap());
    }
    v
}

/// A TCP SYN from 192.168.1.2:54321 to 10.0.0.1:443 with MSS 1460, SACK
/// permitted, timestamps and window scale 7, behind a QinQ stack.
fn qinq_syn() -> Vec<u8> {
    let hex = concat!(
        "ffeeddccbbaa",
        "001122334455",
        "88a8",
        "a064",
        "8100",
        "0005",
        "0800",
        "4500003c1c4640004006",
        "0000",
        "c0a80102",
        "0a000001",
        "d43101bb",
        "00000064",
        "00000000",
        "a002",
        "faf0",
        "0000",
        "0000",
        "020405b4",
        "0402",
        "080a000003e800000000",
        "01",
        "030307"
    );
    hex_bytes(hex)
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn qinq_tcp_syn_fields() {
    let (out, stats) = decode_all(1, &qinq_syn(), DecodeConfig::new());
    assert_eq!(stats, DecodeStats::default());
    let eth: Vec<Ethernet> = records(&out, RecordType::Ethernet);
    assert_eq!(eth[0].src_mac, [0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    assert_eq!(eth[0].dst_mac, [0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa]);
    assert_eq!(eth[0].ether_type, 0x88a8);
    let tags: Vec<Dot1q> = records(&out, RecordType::Dot1q);
    assert_eq!(tags.len(), 2);
    assert_eq!((tags[0].index, tags[0].tpid, tags[0].priority, tags[0].vlan_id), (0, 0x88a8, 5, 100));
    assert_eq!((tags[1].index, tags[1].tpid, tags[1].vlan_id, tags[1].ether_type), (1, 0x8100, 5, 0x0800));
    let ip: Vec<Ipv4> = records(&out, RecordType::Ipv4);
    assert_eq!(ip[0].src_ip, [192, 168, 1, 2]);
    assert_eq!((ip[0].ttl, ip[0].flags, ip[0].total_length, ip[0].id), (64, 2, 60, 0x1c46));
    assert_eq!(ip[0].payload_length, 40);
    let tcp: Vec<Tcp> = records(&out, RecordType::Tcp);
    let t = &tcp[0];
    assert_eq!((t.src_port, t.dst_port, t.seq, t.ack), (54321, 443, 100, 0));
    assert_eq!((t.flags, t.syn, t.ack_flag, t.window, t.header_length), (0x002, true, false, 64240, 40));
    assert_eq!((t.mss, t.window_scale, t.sack_permitted), (Some(1460), Some(7), true));
    assert_eq!((t.ts_val, t.ts_ecr), (Some(1000), Some(0)));
    assert_eq!(t.option_kinds, vec![2, 4, 8, 1, 3]);
    assert_eq!((t.frame, t.timestamp_ns, &t.dst_ip[..]), (7, 1_000_000_123, &[10, 0, 0, 1][..]));
    assert!(t.payload.is_empty());
}

#[test]
fn every_truncation_is_counted_never_panics() {
    let packet = qinq_syn();
    let mut config = DecodeConfig::new();
    config.set(RecordType::Error, true);
    config.payloads = true;
    for cut in 0..packet.len() {
        let (out, stats) = decode_all(1, &packet[..cut], config.clone());
        let errors: u64 = stats.errors.iter().sum();
        // Cut inside a header: an error; cut inside TCP options: an error too.
        assert_eq!(errors, out.count(RecordType::Error), "cut {cut}");
        assert!(errors >= 1, "cut {cut} decoded without error");
        // Every error has one reason class, and it is the class of its text.
        for layer in Layer::ALL {
            let by_reason: u64 = stats.reasons[layer as usize].iter().sum();
            assert_eq!(by_reason, stats.errors_for(layer), "cut {cut}, {layer}");
        }
        for e in records::<netcap_records::Error>(&out, RecordType::Error) {
            let layer = Layer::ALL.into_iter().find(|l| l.name() == e.layer).unwrap();
            let class = ErrorReason::classify(&e.reason);
            assert!(stats.errors_for_reason(layer, class) >= 1, "cut {cut}: {e:?}");
            // A cut packet is a truncation, whatever the layer says.
            assert_eq!(class, ErrorReason::Truncated, "cut {cut}: {}", e.reason);
        }
    }
}

#[test]
fn excluded_types_are_not_written_but_lower_layers_still_decode() {
    let mut config = DecodeConfig::new();
    config.set(RecordType::Ethernet, false);
    config.set(RecordType::Ipv4, false);
    let (out, _) = decode_all(1, &qinq_syn(), config);
    assert_eq!(out.count(RecordType::Ethernet), 0);
    assert_eq!(out.count(RecordType::Ipv4), 0);
    assert_eq!(out.count(RecordType::Tcp), 1);
}

#[test]
fn link_types_reach_the_network_layer() {
    let syn = qinq_syn();
    let ip = &syn[22..];
    let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(ip);
    let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0];
    sll2.extend_from_slice(ip);
    let mut null_le = vec![2, 0, 0, 0];
    null_le.extend_from_slice(ip);
    let mut loop_be = vec![0, 0, 0, 2];
    loop_be.extend_from_slice(ip);
    let mut ppp = vec![0xff, 0x03, 0x00, 0x21];
    ppp.extend_from_slice(ip);
    for (lt, data) in
        [(101, ip.to_vec()), (228, ip.to_vec()), (113, sll), (276, sll2), (0, null_le), (108, loop_be), (9, ppp)]
    {
        let (out, stats) = decode_all(lt, &data, DecodeConfig::new());
        assert_eq!(out.count(RecordType::Tcp), 1, "link type {lt}");
        assert_eq!(stats, DecodeStats::default(), "link type {lt}");
    }
    let (out, stats) = decode_all(147, ip, DecodeConfig::new());
    assert_eq!(out.count(RecordType::Tcp), 0);
    assert_eq!(stats.unsupported_link_types.get(&147), Some(&1));
}

#[test]
fn udp_over_ipv6_with_hop_by_hop() {
    let hex = concat!(
        "6000000000100040",
        "20010db8000000000000000000000001",
        "20010db8000000000000000000000002",
        "1100000000000000",
        "003500350008abcd"
    );
    let data = hex_bytes(hex);
    let (out, stats) = decode_all(229, &data, DecodeConfig::new());
    assert_eq!(stats, DecodeStats::default());
    let ip: Vec<netcap_records::Ipv6> = records(&out, RecordType::Ipv6);
    assert_eq!(ip[0].src_ip, "2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().octets());
    assert_eq!((ip[0].next_header, ip[0].transport_protocol, ip[0].hop_limit), (0, 17, 64));
    assert_eq!(ip[0].extension_headers.len(), 1);
    assert_eq!((ip[0].extension_headers[0].r#type, ip[0].extension_headers[0].length), (0, 8));
    let udp: Vec<Udp> = records(&out, RecordType::Udp);
    assert_eq!((udp[0].src_port, udp[0].dst_port, udp[0].length, udp[0].checksum), (53, 53, 8, 0xabcd));
}

#[test]
fn ipv4_total_length_zero_is_tso_but_shorter_than_header_is_an_error() {
    let mut packet = qinq_syn();
    let ip = 22; // Ethernet (14) + two VLAN tags (8)
    let mut config = DecodeConfig::new();
    config.set(RecordType::Error, true);
    // Total length 0: written by TCP segmentation offload; decode what was captured.
    packet[ip + 2] = 0;
    packet[ip + 3] = 0;
    let (out, stats) = decode_all(1, &packet, config.clone());
    assert_eq!(out.count(RecordType::Tcp), 1);
    assert_eq!(stats.errors_for(Layer::Ipv4), 0);
    // Total length 10 < 20-byte header: the IPv4 record, an error, no TCP.
    packet[ip + 3] = 10;
    let (out, stats) = decode_all(1, &packet, config);
    assert_eq!((out.count(RecordType::Ipv4), out.count(RecordType::Tcp)), (1, 0));
    assert_eq!(stats.errors_for(Layer::Ipv4), 1);
    assert_eq!(stats.errors_for_reason(Layer::Ipv4, ErrorReason::BadLength), 1);
    let errors: Vec<netcap_records::Error> = records(&out, RecordType::Error);
    assert_eq!((errors[0].layer.as_str(), errors[0].offset), ("ipv4", ip as u32));
}

#[test]
fn rarp_is_decoded_as_arp() {
    let hex = concat!(
        "ffffffffffff",
        "001122334455",
        "8035",
        "0001",
        "0800",
        "06",
        "04",
        "0003",
        "001122334455",
        "00000000",
        "001122334455",
        "00000000"
    );
    let data = hex_bytes(hex);
    let (out, _) = decode_all(1, &data, DecodeConfig::new());
    let arp: Vec<netcap_records::Arp> = records(&out, RecordType::Arp);
    assert_eq!((arp[0].operation, &arp[0].src_hw_addr[..]), (3, &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55][..]));
}

#[test]
fn summary_of_a_tcp_syn_with_or_without_records() {
    for records_on in [true, false] {
        let mut config = DecodeConfig::new();
        config.summaries = true;
        if !records_on {
            for t in RecordType::all() {
                config.set(t, false);
            }
        }
        let (out, _) = decode_all(1, &qinq_syn(), config);
        let s = out.summaries[0];
        assert_eq!(out.summaries.len(), 1);
        assert_eq!((s.frame, s.timestamp_ns, s.wire_length, s.captured_length), (7, 1_000_000_123, 82, 82));
        assert_eq!(s.src_mac, Some([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
        assert_eq!(s.dst_mac, Some([0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa]));
        assert_eq!(s.network, NetworkKind::Ipv4);
        assert_eq!(s.src_ip, Some("192.168.1.2".parse().unwrap()));
        assert_eq!(s.dst_ip, Some("10.0.0.1".parse().unwrap()));
        assert_eq!((s.ip_protocol, s.ttl, s.ip_payload_length, s.fragment), (6, 64, 40, false));
        assert_eq!(s.ip_total_length, 60);
        assert_eq!(s.transport, TransportKind::Tcp);
        assert_eq!((s.src_port, s.dst_port, s.tcp_seq, s.tcp_ack), (54321, 443, 100, 0));
        assert_eq!((s.tcp_flags, s.tcp_window, s.tcp_window_scale), (tcp_flag::SYN, 64240, Some(7)));
        assert!(s.has_tcp_flag(tcp_flag::SYN) && !s.has_tcp_flag(tcp_flag::ACK));
        assert_eq!(s.payload_length, 0);
    }
}

#[test]
fn no_summaries_unless_asked() {
    let (out, _) = decode_all(1, &qinq_syn(), DecodeConfig::new());
    assert!(out.summaries.is_empty());
}

/// Link headers that nest without a tunnel (Ethernet in TEB, Cisco
/// MetaData, LLC/SNAP with OUI 0) are bounded: a frame of thousands of them
/// is one `link` error (limit exceeded), not a stack overflow.
#[test]
fn nested_link_headers_are_bounded() {
    let ethernet_in_teb = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x65, 0x58];
    let metadata = [0x01u8, 0x01, 0x00, 0x01, 0x00, 0x00, 0x89, 0x09];
    // An 802.3 length, then LLC (AA AA 03) and SNAP with OUI 0, whose
    // protocol is the next length: LLC again. The lengths bound this one to
    // about 190 levels (1500 bytes).
    let snap = [0x05u8, 0xdc, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
    let dst_src = [0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    for (name, first, repeated) in [
        ("teb", &ethernet_in_teb[..], &ethernet_in_teb[..]),
        ("metadata", &[0u8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x89, 0x09][..], &metadata[..]),
        ("snap", &dst_src[..], &snap[..]),
    ] {
        let mut frame = first.to_vec();
        while frame.len() + repeated.len() <= 65_535 {
            frame.extend_from_slice(repeated);
        }
        let (_, stats) = decode_all(crate::link::LINKTYPE_ETHERNET, &frame, DecodeConfig::new());
        assert_eq!(stats.errors_for(Layer::Link), 1, "{name}");
        assert_eq!(stats.errors_for_reason(Layer::Link, ErrorReason::LimitExceeded), 1, "{name}");
    }
}

/// NFLOG (239), PKTAP (258) and ARCNET (129) packets of the shared corpus
/// decode to the records tshark shows for them (`tshark -V` on frame 1 of
/// zeek-nflog-http.pcap, the one frame of tcpdump-LINKTYPE_PKTAP.pcap,
/// frames 1 and 3 of tcpdump-arcnet-rfc1051-arp-icmp-http.pcap).
#[test]
fn nflog_pktap_and_arcnet_reach_the_network_layer() {
    use crate::l2::nflog::tests::{NFLOG_SYN, hex};
    use crate::l2::pktap::tests::PKTAP_DNS;

    // NFLOG: IPv4 by family; TCP SYN 10.0.2.15:49762 -> 93.184.216.34:80.
    let nflog = hex(NFLOG_SYN);
    let (out, stats) = decode_all(239, &nflog, DecodeConfig::new());
    assert_eq!(stats, DecodeStats::default());
    assert_eq!(out.count(RecordType::Ethernet), 0);
    let ip: Vec<Ipv4> = records(&out, RecordType::Ipv4);
    assert_eq!((ip[0].src_ip.as_slice(), ip[0].dst_ip.as_slice()), (&[10, 0, 2, 15][..], &[93, 184, 216, 34][..]));
    assert_eq!((ip[0].total_length, ip[0].id, ip[0].ttl, ip[0].checksum), (60, 0xe8ef, 64, 0x0fe3));
    let tcp: Vec<Tcp> = records(&out, RecordType::Tcp);
    assert_eq!((tcp[0].src_port, tcp[0].dst_port, tcp[0].seq, tcp[0].syn), (49762, 80, 1060289233, true));
    assert_eq!((tcp[0].mss, tcp[0].window_scale), (Some(1460), Some(7)));
    // Frame 3: the same packet, decoded by PACKET_HDR's EtherType 0x0800.
    let mut by_ether_type = nflog.clone();
    by_ether_type[8..12].copy_from_slice(&[0x08, 0x00, 0x04, 0x00]);
    let (again, _) = decode_all(239, &by_ether_type, DecodeConfig::new());
    assert_eq!(again.bytes(RecordType::Tcp), out.bytes(RecordType::Tcp));

    // PKTAP: an Ethernet frame after the 108-byte header.
    let pktap = hex(PKTAP_DNS);
    let (out, stats) = decode_all(258, &pktap, DecodeConfig::new());
    assert_eq!(stats, DecodeStats::default());
    let eth: Vec<Ethernet> = records(&out, RecordType::Ethernet);
    assert_eq!(eth[0].src_mac, [0x70, 0x73, 0xcb, 0x0b, 0x26, 0x2a]);
    assert_eq!(eth[0].dst_mac, [0x00, 0x1e, 0x49, 0x1f, 0xf2, 0xc4]);
    assert_eq!((eth[0].ether_type, eth[0].captured_length, eth[0].wire_length), (0x0800, 74, 74));
    let udp: Vec<Udp> = records(&out, RecordType::Udp);
    assert_eq!((udp[0].src_port, udp[0].dst_port, udp[0].length, udp[0].checksum), (63538, 53, 40, 0x4814));
    let ip: Vec<Ipv4> = records(&out, RecordType::Ipv4);
    assert_eq!((ip[0].src_ip.as_slice(), ip[0].ttl, ip[0].id), (&[10, 32, 4, 27][..], 255, 0x2e03));
    // An inner link type netcap does not decode is a Link error (PKTAP
    // itself is supported: no unsupported link type is counted).
    let mut unknown_inner = pktap.clone();
    unknown_inner[8..12].copy_from_slice(&147u32.to_le_bytes());
    let (out, stats) = decode_all(258, &unknown_inner, DecodeConfig::new());
    assert_eq!(out.count(RecordType::Ethernet), 0);
    assert!(stats.unsupported_link_types.is_empty());
    assert_eq!(stats.errors_for(Layer::Link), 1);

    // ARCNET (Linux): RFC 1051 ARP with 1-byte hardware addresses.
    let arp = hex("be00ed08f10007080001040001be0a508301000a5083fe");
    let (out, stats) = decode_all(129, &arp, DecodeConfig::new());
    assert_eq!(stats, DecodeStats::default());
    let a: Vec<netcap_records::Arp> = records(&out, RecordType::Arp);
    assert_eq!((a[0].hw_type, a[0].proto_type, a[0].hw_size, a[0].proto_size, a[0].operation), (7, 0x0800, 1, 4, 1));
    assert_eq!((a[0].src_hw_addr.as_slice(), a[0].src_proto_addr.as_slice()), (&[0xbe][..], &[10, 80, 131, 1][..]));
    assert_eq!((a[0].dst_hw_addr.as_slice(), a[0].dst_proto_addr.as_slice()), (&[0x00][..], &[10, 80, 131, 254][..]));
    // ARCNET (Linux): RFC 1051 IP, an ICMP echo request.
    let icmp = hex(concat!(
        "be50ab08f0",
        "450000540000400040011f0a0a5083010a5083fe",
        "080042c8e3000000681f6e2c000010e808090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "202122232425262728292a2b2c2d2e2f3031323334353637",
    ));
    let (out, stats) = decode_all(129, &icmp, DecodeConfig::new());
    assert_eq!(stats, DecodeStats::default());
    let e: Vec<netcap_records::Icmpv4> = records(&out, RecordType::Icmpv4);
    assert_eq!((e[0].r#type, e[0].code, e[0].checksum, e[0].id, e[0].seq), (8, 0, 0x42c8, 0xe300, 0));
    // The same frame as BSD ARCNET lacks the offset bytes.
    let mut bsd = icmp.clone();
    bsd.drain(2..4);
    let (bsd_out, _) = decode_all(7, &bsd, DecodeConfig::new());
    assert_eq!(bsd_out.bytes(RecordType::Icmpv4), out.bytes(RecordType::Icmpv4));
}

/// An NFLOG attribute running past the packet is a Link error; past the
/// bytes a snaplen kept, a truncation, and the payload is decoded as far as
/// it goes (as tshark does).
#[test]
fn nflog_attribute_overruns() {
    use crate::l2::nflog::tests::{NFLOG_SYN, hex};
    let mut config = DecodeConfig::new();
    config.set(RecordType::Error, true);
    let (out, stats) = decode_all(239, &hex("020000000001010000000000"), config.clone());
    assert_eq!(stats.errors_for_reason(Layer::Link, ErrorReason::BadLength), 1);
    let e: Vec<netcap_records::Error> = records(&out, RecordType::Error);
    assert_eq!((e[0].layer.as_str(), e[0].reason.as_str()), ("link", "NFLOG attribute length runs past the packet"));

    let packet = hex(NFLOG_SYN);
    let cut = &packet[..88];
    let mut decoder = Decoder::new(config);
    let mut out = RecordBuffers::new();
    let meta = PacketMeta { frame: 1, timestamp_ns: 0, link_type: 239, wire_length: 108, reassembled: false };
    decoder.decode(&meta, cut, &mut out);
    let stats = decoder.take_stats();
    assert_eq!(stats.errors_for_reason(Layer::Link, ErrorReason::Truncated), 1);
    let ip: Vec<Ipv4> = records(&out, RecordType::Ipv4);
    assert_eq!((ip[0].total_length, ip[0].id), (60, 0xe8ef));
}

/// PKTAP hands its packet to any link type netcap decodes, at its offset:
/// macOS writes loopback (NULL) and raw IP (12) packets under PKTAP too.
#[test]
fn pktap_carries_other_link_types() {
    use crate::l2::nflog::tests::hex;
    use crate::l2::pktap::tests::PKTAP_DNS;
    let pktap = hex(PKTAP_DNS);
    let ip = &pktap[122..];
    let with_inner = |dlt: u32, link_header: &[u8]| {
        let mut p = pktap[..108].to_vec();
        p[8..12].copy_from_slice(&dlt.to_le_bytes());
        p.extend_from_slice(link_header);
        p.extend_from_slice(ip);
        p
    };
    let (ethernet, _) = decode_all(258, &pktap, DecodeConfig::new());
    for (dlt, header) in [(0u32, &[2u8, 0, 0, 0][..]), (12, &[][..]), (101, &[][..])] {
        let (out, stats) = decode_all(258, &with_inner(dlt, header), DecodeConfig::new());
        assert_eq!(stats, DecodeStats::default(), "DLT {dlt}");
        assert_eq!(out.count(RecordType::Ethernet), 0, "DLT {dlt}");
        assert_eq!(out.bytes(RecordType::Udp), ethernet.bytes(RecordType::Udp), "DLT {dlt}");
        assert_eq!(out.bytes(RecordType::Ipv4), ethernet.bytes(RecordType::Ipv4), "DLT {dlt}");
        assert_eq!(network_offset(258, &with_inner(dlt, header)), Some(108 + header.len()), "DLT {dlt}");
    }
    // PKTAP inside PKTAP is an error, not a recursion.
    let mut config = DecodeConfig::new();
    config.set(RecordType::Error, true);
    let (out, stats) = decode_all(258, &with_inner(258, &pktap), config);
    assert_eq!(stats.errors_for(Layer::Link), 1);
    assert_eq!(out.count(RecordType::Udp), 0);
}

/// The new link layers, cut at every byte: errors are counted, never a panic.
#[test]
fn nflog_pktap_and_arcnet_truncations_never_panic() {
    use crate::l2::nflog::tests::{NFLOG_SYN, hex};
    use crate::l2::pktap::tests::PKTAP_DNS;
    let mut config = DecodeConfig::new();
    config.set(RecordType::Error, true);
    let arcnet = hex("be00ed08f10007080001040001be0a508301000a5083fe");
    for (lt, packet) in [(239, hex(NFLOG_SYN)), (258, hex(PKTAP_DNS)), (129, arcnet.clone()), (7, arcnet)] {
        for cut in 0..=packet.len() {
            let (out, stats) = decode_all(lt, &packet[..cut], config.clone());
            let errors: u64 = stats.errors.iter().sum();
            assert_eq!(errors, out.count(RecordType::Error), "link type {lt}, cut {cut}");
            assert!(stats.unsupported_link_types.is_empty());
        }
    }
}

#[test]
fn network_offset_of_the_new_link_types() {
    use crate::l2::nflog::tests::{NFLOG_SYN, hex};
    use crate::l2::pktap::tests::PKTAP_DNS;
    assert_eq!(network_offset(239, &hex(NFLOG_SYN)), Some(48));
    assert_eq!(network_offset(258, &hex(PKTAP_DNS)), Some(122));
    assert_eq!(network_offset(129, &hex("be50ab08f0450000540000400040011f0a0a5083010a5083fe")), Some(5));
    // ARP under ARCNET has no IP header.
    assert_eq!(network_offset(129, &hex("be00ed08f10007080001040001be0a508301000a5083fe")), None);
}
