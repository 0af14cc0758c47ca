use super::*;
use netcap_records::Connection;

fn conn(client: [u8; 4], server: [u8; 4], port: u32, app: &str) -> Connection {
    Connection {
        timestamp_ns: 1_000,
        frame: 1,
        last_timestamp_ns: 2_000,
        transport_protocol: "TCP".into(),
        application_protocol: app.into(),
        ip_protocol: 6,
        src_ip: client.to_vec(),
        dst_ip: server.to_vec(),
        src_port: 40_000,
        dst_port: port,
        community_id: "1:first".into(),
        client_packets: 5,
        client_bytes: 500,
        server_packets: 4,
        server_bytes: 4000,
        server_payload_bytes: 100,
        history: "ShADadFf".into(),
        ..Default::default()
    }
}

fn frame(records: &[Connection]) -> Vec<u8> {
    let mut out = Vec::new();
    for r in records {
        r.encode_length_delimited(&mut out).unwrap();
    }
    out
}

fn decode<M: Message + Default>(mut bytes: &[u8]) -> Vec<M> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        out.push(M::decode_length_delimited(&mut bytes).unwrap());
    }
    out
}

fn write(inventory: &mut Inventory) -> (Vec<SoftwareRecord>, Vec<ServiceRecord>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (n_software, n_services) = inventory.write_all(&mut a, &mut b);
    let (software, services) = (decode::<SoftwareRecord>(&a), decode::<ServiceRecord>(&b));
    assert_eq!((n_software, n_services), (software.len() as u64, services.len() as u64));
    (software, services)
}

#[test]
fn ssh_connections_give_client_and_server_software_and_one_service() {
    let mut first = conn([10, 0, 0, 1], [10, 0, 0, 2], 22, "SSH");
    first.client_software = vec!["SSH-2.0-OpenSSH_9.6p1 Debian-2".into()];
    first.server_software = vec!["SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1".into()];
    let mut second = first.clone();
    (second.timestamp_ns, second.last_timestamp_ns, second.frame) = (5_000, 9_000, 20);
    second.src_ip = vec![10, 0, 0, 3];
    second.community_id = "1:second".into();
    let mut inventory = Inventory::new(InventoryConfig::default());
    inventory.observe_connections(&frame(&[first, second]));
    let (software, services) = write(&mut inventory);

    assert_eq!(services.len(), 1);
    let s = &services[0];
    assert_eq!((s.ip.as_slice(), s.port_num, s.port_proto.as_str()), (&[10, 0, 0, 2][..], 22, "tcp"));
    assert_eq!((s.timestamp_ns, s.frame, s.last_seen_ns), (1_000, 1, 9_000));
    assert_eq!(s.service, vec!["SSH".to_string()]);
    assert_eq!(s.banner, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1");
    assert_eq!((s.product.as_str(), s.version.as_str()), ("OpenSSH", "8.9p1"));
    assert_eq!(
        (s.connections, s.client_packets, s.client_bytes, s.server_packets, s.server_bytes),
        (2, 10, 1000, 8, 8000)
    );
    assert_eq!((s.clients, s.community_id.as_str()), (2, "1:first"));

    // Two clients running the same software are two hosts; the server is one.
    assert_eq!(software.len(), 3);
    let server = software.iter().find(|s| s.software_type == "SSH::SERVER").unwrap();
    assert_eq!((server.ip.as_slice(), server.host_p, server.connections), (&[10, 0, 0, 2][..], 22, 2));
    assert_eq!((server.name.as_str(), server.version.as_str()), ("OpenSSH", "8.9p1"));
    assert_eq!((server.version_major, server.version_minor, server.version_addl.as_str()), (8, 9, "p1"));
    assert_eq!(server.unparsed_version, "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1");
    assert_eq!(server.source, "ssh-identification");
    let clients: Vec<_> = software.iter().filter(|s| s.software_type == "SSH::CLIENT").collect();
    assert_eq!(clients.len(), 2);
    assert!(clients.iter().all(|c| c.host_p == 0 && c.name == "OpenSSH" && c.version == "9.6p1" && c.connections == 1));
    assert_eq!(clients[0].ip, vec![10, 0, 0, 1]);
}

#[test]
fn unanswered_connections_are_no_service() {
    let mut syn_only = conn([10, 0, 0, 1], [10, 0, 0, 2], 443, "");
    (syn_only.history, syn_only.server_packets, syn_only.server_payload_bytes) = ("S".into(), 0, 0);
    let mut rejected = syn_only.clone();
    (rejected.history, rejected.server_packets) = ("Sr".into(), 1);
    let mut udp_one_way = conn([10, 0, 0, 1], [10, 0, 0, 9], 53, "DNS");
    (udp_one_way.ip_protocol, udp_one_way.server_packets, udp_one_way.history) = (17, 0, String::new());
    let mut udp = udp_one_way.clone();
    udp.server_packets = 1;
    let mut inventory = Inventory::new(InventoryConfig::default());
    inventory.observe_connections(&frame(&[syn_only, rejected, udp_one_way, udp]));
    let (software, services) = write(&mut inventory);
    assert!(software.is_empty());
    assert_eq!(services.len(), 1);
    assert_eq!((services[0].port_num, services[0].port_proto.as_str(), services[0].connections), (53, "udp", 1));
    assert_eq!(services[0].service, vec!["DNS".to_string()]);
}

#[test]
fn http_and_greetings_name_their_software() {
    let mut http = conn([10, 0, 0, 1], [10, 0, 0, 2], 8080, "HTTP");
    http.client_software = vec!["curl/7.68.0".into()];
    http.server_software = vec!["Apache/2.4.41 (Ubuntu)".into()];
    let mut ftp = conn([10, 0, 0, 1], [10, 0, 0, 5], 21, "FTP");
    ftp.server_software = vec!["220 ProFTPD 1.3.5e Server (Debian)".into()];
    let mut anonymous_ftp = conn([10, 0, 0, 1], [10, 0, 0, 6], 21, "FTP");
    anonymous_ftp.server_software = vec!["220 Service ready".into()];
    let mut inventory = Inventory::new(InventoryConfig::default());
    inventory.observe_connections(&frame(&[http, ftp, anonymous_ftp]));
    let (software, services) = write(&mut inventory);
    let names: Vec<_> = software
        .iter()
        .map(|s| (s.software_type.as_str(), s.name.as_str(), s.version.as_str(), s.source.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("HTTP::BROWSER", "curl", "7.68.0", "http-user-agent"),
            ("HTTP::SERVER", "Apache", "2.4.41", "http-server"),
            ("FTP::SERVER", "ProFTPD", "1.3.5e", "ftp-banner"),
        ]
    );
    // A greeting naming no product is still the service's banner.
    let plain = services.iter().find(|s| s.ip == [10, 0, 0, 6]).unwrap();
    assert_eq!((plain.banner.as_str(), plain.product.as_str()), ("220 Service ready", ""));
}

#[test]
fn tables_stay_within_their_bound_and_count_evictions() {
    let mut inventory = Inventory::new(InventoryConfig { max_entries: 64 });
    let mut records = Vec::new();
    for i in 0..1000u32 {
        let mut c = conn([10, 0, 0, 1], [10, 1, (i >> 8) as u8, i as u8], 80, "HTTP");
        (c.timestamp_ns, c.last_timestamp_ns) = (i64::from(i), i64::from(i));
        c.server_software = vec![format!("srv/{i}")];
        records.push(c);
    }
    inventory.observe_connections(&frame(&records));
    let c = inventory.counters();
    assert!(c.services <= 64 && c.software <= 64, "{c:?}");
    assert_eq!(c.services + c.services_evicted, 1000);
    // The client's one browser-less software string is none; each server's is one entry.
    assert_eq!(c.software + c.software_evicted, 1000);
    assert_eq!(c.connections, 1000);
    // The newest are kept.
    let (_, services) = write(&mut inventory);
    assert!(services.iter().any(|s| s.ip == [10, 1, 3, 231]));
}

#[test]
fn live_writes_only_what_changed() {
    let mut inventory = Inventory::new(InventoryConfig::default());
    inventory.observe_connections(&frame(&[conn([10, 0, 0, 1], [10, 0, 0, 2], 80, "HTTP")]));
    let (mut a, mut b) = (Vec::new(), Vec::new());
    assert_eq!(inventory.write_changed(&mut a, &mut b), (0, 1));
    assert_eq!(inventory.write_changed(&mut a, &mut b), (0, 0));
    inventory.observe_connections(&frame(&[conn([10, 0, 0, 3], [10, 0, 0, 2], 80, "HTTP")]));
    assert_eq!(inventory.write_changed(&mut a, &mut b), (0, 1));
}

#[test]
fn fuzz_entry_takes_any_bytes() {
    let mut state = 0x9e37_79b9u32;
    for len in [0usize, 1, 2, 7, 33, 300, 4096] {
        let data: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as u8
            })
            .collect();
        fuzz_entry(&data);
    }
    let mut c = conn([1, 2, 3, 4], [5, 6, 7, 8], 22, "SSH");
    c.server_software = vec!["SSH-2.0-\u{fffd}_9".into()];
    fuzz_entry(&frame(&[c]));
}
