//! Software and services on the network (docs/inventory.md): `Software`
//! records (a product and version a host announced: SSH identification
//! strings, HTTP User-Agent and Server headers, FTP, SMTP, POP3 and IMAP
//! greetings) and `Service` records (a server address and port that
//! answered clients, with its protocols, banner and traffic), in the manner
//! of Zeek's software.log and known_services.log.
//!
//! Both are derived from Connection records, which carry each side's first
//! software string (`client_software`, `server_software`, filled by the
//! stream protocols' parsers) besides the endpoints and counts: the ordered
//! writer shows the inventory every Connection frame in batch order, so
//! the records are the same whatever the number of workers. The tables are
//! bounded ([`InventoryConfig::max_entries`] each); beyond, the least
//! recently seen entries are evicted, an eighth at a time, and counted.

mod connection;
pub mod version;

use connection::ConnView;
use hashbrown::HashMap;
use netcap_records::{RecordType, Service as ServiceRecord, Software as SoftwareRecord};
use prost::Message;
use std::net::IpAddr;

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Software and services tracked at most, each, by default.
pub const DEFAULT_MAX_ENTRIES: usize = 65_536;

/// Distinct client addresses counted exactly per service.
pub const TRACKED_CLIENTS: usize = 64;

/// Application protocols listed per service at most.
pub const MAX_SERVICE_NAMES: usize = 8;

/// Record types the inventory writes.
pub const RECORD_TYPES: [RecordType; 2] = [RecordType::Software, RecordType::Service];

/// How the inventory is kept.
#[derive(Debug, Clone)]
pub struct InventoryConfig {
    /// Software entries tracked at most, and services tracked at most.
    pub max_entries: usize,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig { max_entries: DEFAULT_MAX_ENTRIES }
    }
}

/// What the inventory did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InventoryCounters {
    /// Entries tracked now.
    pub software: u64,
    pub services: u64,
    /// Entries evicted to stay within the bound (their counts so far are
    /// lost; one seen again starts anew).
    pub software_evicted: u64,
    pub services_evicted: u64,
    /// Connection records read, and those that were not well-formed.
    pub connections: u64,
    pub malformed: u64,
    /// Records written.
    pub software_records: u64,
    pub service_records: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ServiceKey {
    host: IpAddr,
    port: u16,
    protocol: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct SoftwareKey {
    host: IpAddr,
    port: u16,
    software_type: &'static str,
    name: String,
    version: String,
}

#[derive(Debug, Clone, Default)]
struct ServiceEntry {
    first_ns: i64,
    frame: u64,
    last_ns: i64,
    names: Vec<&'static str>,
    banner: String,
    product: String,
    version: String,
    connections: u64,
    client_packets: u64,
    client_bytes: u64,
    server_packets: u64,
    server_bytes: u64,
    clients: Vec<IpAddr>,
    community_id: String,
    changed: bool,
}

#[derive(Debug, Clone, Default)]
struct SoftwareEntry {
    first_ns: i64,
    frame: u64,
    last_ns: i64,
    parsed: version::Parsed,
    unparsed: String,
    source: &'static str,
    connections: u64,
    community_id: String,
    changed: bool,
}

trait Entry {
    fn last_seen(&self) -> i64;
}

impl Entry for ServiceEntry {
    fn last_seen(&self) -> i64 {
        self.last_ns
    }
}

impl Entry for SoftwareEntry {
    fn last_seen(&self) -> i64 {
        self.last_ns
    }
}

/// Makes room for one more key: evicts the least recently seen eighth of a
/// full table (ties broken by key, so eviction is deterministic).
fn make_room<K: Clone + Eq + std::hash::Hash + Ord, V: Entry>(
    map: &mut Map<K, V>,
    key: &K,
    max: usize,
    evicted: &mut u64,
) {
    if map.len() < max || map.contains_key(key) {
        return;
    }
    let mut order: Vec<(i64, K)> = map.iter().map(|(k, v)| (v.last_seen(), k.clone())).collect();
    let n = (max / 8).max(1).min(order.len());
    if n == 0 {
        return;
    }
    order.select_nth_unstable(n - 1);
    for (_, k) in order.iter().take(n) {
        map.remove(k);
    }
    *evicted += n as u64;
}

/// Application protocol names kept as `&'static str` (the stream protocol
/// table's names and port names are few): the known ones map to
/// themselves, anything else to "other".
fn static_name(name: &[u8]) -> &'static str {
    const NAMES: &[&str] = &[
        "HTTP",
        "TLS",
        "SSH",
        "FTP",
        "POP3",
        "IMAP",
        "SMTP",
        "SOCKS",
        "RDP",
        "Kerberos",
        "Telnet",
        "IRC",
        "DNS",
        "QUIC",
        "NTP",
        "SNMP",
        "SIP",
        "DHCP",
        "Modbus",
        "MQTT",
        "SMB",
        "LDAP",
        "MySQL",
        "PostgreSQL",
        "Redis",
    ];
    NAMES.iter().copied().find(|n| n.as_bytes().eq_ignore_ascii_case(name)).unwrap_or("other")
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The software type and source of a side's string, by the connection's
/// application protocol (Zeek's software types).
fn software_kind(application: &[u8], server: bool) -> Option<(&'static str, &'static str)> {
    let app = static_name(application);
    Some(match (app, server) {
        ("SSH", false) => ("SSH::CLIENT", "ssh-identification"),
        ("SSH", true) => ("SSH::SERVER", "ssh-identification"),
        ("HTTP", false) => ("HTTP::BROWSER", "http-user-agent"),
        ("HTTP", true) => ("HTTP::SERVER", "http-server"),
        ("FTP", true) => ("FTP::SERVER", "ftp-banner"),
        ("SMTP", true) => ("SMTP::MAIL_SERVER", "smtp-banner"),
        ("SMTP", false) => ("SMTP::MAIL_CLIENT", "mail-user-agent"),
        ("POP3", true) => ("POP3::SERVER", "pop3-banner"),
        ("IMAP", true) => ("IMAP::SERVER", "imap-banner"),
        _ => return None,
    })
}

fn parse_software(application: &[u8], text: &str, server: bool) -> Option<version::Parsed> {
    match (static_name(application), server) {
        ("SSH", _) => version::ssh(text),
        ("HTTP", _) => version::http(text),
        ("SMTP", false) => version::mail_client(text),
        _ => version::greeting(text),
    }
}

/// Whether the connection's server answered: a TCP server that sent its
/// SYN-ACK (`h` in Zeek's history) or payload, a UDP or SCTP server that
/// sent anything.
fn server_answered(v: &ConnView<'_>) -> bool {
    match v.ip_protocol {
        6 => v.history.contains(&b'h') || v.server_payload_bytes > 0,
        17 | 132 => v.server_packets > 0,
        _ => false,
    }
}

/// Software and services of a capture so far, within the configured bound.
pub struct Inventory {
    config: InventoryConfig,
    services: Map<ServiceKey, ServiceEntry>,
    software: Map<SoftwareKey, SoftwareEntry>,
    counters: InventoryCounters,
}

impl Inventory {
    pub fn new(config: InventoryConfig) -> Self {
        Inventory { config, services: Map::default(), software: Map::default(), counters: InventoryCounters::default() }
    }

    /// Reads a frame's content of length-delimited Connection records.
    pub fn observe_connections(&mut self, bytes: &[u8]) {
        let mut n = 0u64;
        connection::each(bytes, |v| {
            n += 1;
            self.connection(&v);
        });
        self.counters.connections += n;
        // `each` stops at the first malformed record: the rest is unread.
        if n == 0 && !bytes.is_empty() {
            self.counters.malformed += 1;
        }
    }

    fn connection(&mut self, v: &ConnView<'_>) {
        let (Some(client), Some(server)) = (ip_of(v.src_ip), ip_of(v.dst_ip)) else { return };
        let Ok(port) = u16::try_from(v.dst_port) else { return };
        let protocol = v.ip_protocol as u8;
        if server_answered(v) && port != 0 {
            self.service(v, ServiceKey { host: server, port, protocol }, client);
        }
        let sides = [(client, 0, v.client_software, false), (server, port, v.server_software, true)];
        for (host, host_port, text, is_server) in
            sides.iter().flat_map(|(host, p, list, is_server)| list.iter().map(move |t| (*host, *p, t, *is_server)))
        {
            if text.is_empty() {
                continue;
            }
            let Some((software_type, source)) = software_kind(v.application, is_server) else { continue };
            let text = lossy(text);
            let Some(parsed) = parse_software(v.application, &text, is_server) else { continue };
            let key = SoftwareKey {
                host,
                port: host_port,
                software_type,
                name: parsed.name.clone(),
                version: parsed.version.clone(),
            };
            make_room(&mut self.software, &key, self.config.max_entries, &mut self.counters.software_evicted);
            let e = self.software.entry(key).or_insert_with(|| SoftwareEntry {
                first_ns: v.timestamp_ns,
                frame: v.frame,
                last_ns: v.last_timestamp_ns,
                parsed,
                unparsed: text,
                source,
                community_id: lossy(v.community_id),
                ..SoftwareEntry::default()
            });
            e.connections += 1;
            if v.timestamp_ns < e.first_ns {
                (e.first_ns, e.frame) = (v.timestamp_ns, v.frame);
            }
            e.last_ns = e.last_ns.max(v.last_timestamp_ns);
            e.changed = true;
        }
    }

    fn service(&mut self, v: &ConnView<'_>, key: ServiceKey, client: IpAddr) {
        make_room(&mut self.services, &key, self.config.max_entries, &mut self.counters.services_evicted);
        let e = self.services.entry(key).or_insert_with(|| ServiceEntry {
            first_ns: v.timestamp_ns,
            frame: v.frame,
            last_ns: v.last_timestamp_ns,
            community_id: lossy(v.community_id),
            ..ServiceEntry::default()
        });
        e.connections += 1;
        if v.timestamp_ns < e.first_ns {
            (e.first_ns, e.frame) = (v.timestamp_ns, v.frame);
        }
        e.last_ns = e.last_ns.max(v.last_timestamp_ns);
        e.client_packets += v.client_packets;
        e.client_bytes += v.client_bytes;
        e.server_packets += v.server_packets;
        e.server_bytes += v.server_bytes;
        if !v.application.is_empty() {
            let name = static_name(v.application);
            if !e.names.contains(&name) && e.names.len() < MAX_SERVICE_NAMES {
                e.names.push(name);
            }
        }
        if let Some(first) = v.server_software.iter().next()
            && e.banner.is_empty()
        {
            e.banner = lossy(first);
            if let Some(p) = parse_software(v.application, &e.banner, true) {
                (e.product, e.version) = (p.name, p.version);
            }
        }
        if e.clients.len() < TRACKED_CLIENTS && !e.clients.contains(&client) {
            e.clients.push(client);
        }
        e.changed = true;
    }

    /// Appends the Software and Service records of every entry, as
    /// length-delimited records, in key order; returns how many of each.
    pub fn write_all(&mut self, software: &mut Vec<u8>, services: &mut Vec<u8>) -> (u64, u64) {
        self.write(software, services, false)
    }

    /// Like [`Inventory::write_all`], for the entries that changed since
    /// they were last written (live captures).
    pub fn write_changed(&mut self, software: &mut Vec<u8>, services: &mut Vec<u8>) -> (u64, u64) {
        self.write(software, services, true)
    }

    fn write(&mut self, software_out: &mut Vec<u8>, services_out: &mut Vec<u8>, changed_only: bool) -> (u64, u64) {
        let mut keys: Vec<&SoftwareKey> =
            self.software.iter().filter(|(_, e)| e.changed || !changed_only).map(|(k, _)| k).collect();
        keys.sort_unstable();
        let n_software = keys.len() as u64;
        for key in keys {
            let Some(e) = self.software.get(key) else { continue };
            let p = &e.parsed;
            let record = SoftwareRecord {
                timestamp_ns: e.first_ns,
                frame: e.frame,
                last_seen_ns: e.last_ns,
                ip: ip_bytes(key.host),
                host_p: u32::from(key.port),
                software_type: key.software_type.to_string(),
                name: p.name.clone(),
                version: p.version.clone(),
                version_major: p.major,
                version_minor: p.minor,
                version_minor2: p.minor2,
                version_minor3: p.minor3,
                version_addl: p.addl.clone(),
                unparsed_version: e.unparsed.clone(),
                source: e.source.to_string(),
                connections: e.connections,
                community_id: e.community_id.clone(),
            };
            // Encoding into a Vec cannot fail.
            let _ = record.encode_length_delimited(software_out);
        }
        let mut keys: Vec<&ServiceKey> =
            self.services.iter().filter(|(_, e)| e.changed || !changed_only).map(|(k, _)| k).collect();
        keys.sort_unstable();
        let n_services = keys.len() as u64;
        for key in keys {
            let Some(e) = self.services.get(key) else { continue };
            let mut names: Vec<String> = e.names.iter().map(|n| n.to_string()).collect();
            names.sort_unstable();
            let record = ServiceRecord {
                timestamp_ns: e.first_ns,
                frame: e.frame,
                last_seen_ns: e.last_ns,
                ip: ip_bytes(key.host),
                port_num: u32::from(key.port),
                port_proto: transport_name(key.protocol),
                service: names,
                banner: e.banner.clone(),
                product: e.product.clone(),
                version: e.version.clone(),
                connections: e.connections,
                client_packets: e.client_packets,
                client_bytes: e.client_bytes,
                server_packets: e.server_packets,
                server_bytes: e.server_bytes,
                clients: e.clients.len() as u64,
                community_id: e.community_id.clone(),
            };
            let _ = record.encode_length_delimited(services_out);
        }
        for e in self.software.values_mut() {
            e.changed = false;
        }
        for e in self.services.values_mut() {
            e.changed = false;
        }
        self.counters.software_records += n_software;
        self.counters.service_records += n_services;
        (n_software, n_services)
    }

    pub fn counters(&self) -> InventoryCounters {
        InventoryCounters {
            software: self.software.len() as u64,
            services: self.services.len() as u64,
            ..self.counters.clone()
        }
    }
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn transport_name(protocol: u8) -> String {
    match protocol {
        6 => "tcp".into(),
        17 => "udp".into(),
        132 => "sctp".into(),
        n => n.to_string(),
    }
}

/// Exercises the inventory on arbitrary bytes as Connection frame content,
/// for fuzzing: nothing may panic.
pub fn fuzz_entry(data: &[u8]) {
    let mut inventory = Inventory::new(InventoryConfig { max_entries: 4 });
    inventory.observe_connections(data);
    if let Some(v) = connection::view(data) {
        inventory.connection(&v);
    }
    let text = String::from_utf8_lossy(data);
    let _ = (version::ssh(&text), version::http(&text), version::greeting(&text));
    let (mut a, mut b) = (Vec::new(), Vec::new());
    inventory.write_all(&mut a, &mut b);
}

#[cfg(test)]
mod tests;
