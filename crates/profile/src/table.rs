//! The writer's side: the bounded host and device tables, batches merged
//! into them in batch order, and their records.

use crate::batch::{BatchProfile, ConvKey, ConvStats, Observation, SAW_SYN, SAW_SYN_ACK, Target};
use crate::device::DeviceProfile;
use crate::host::{Attr, HostProfile, ip_bytes};
use crate::{
    DEVICE_BYTES_BOUND, FIRST_CONVERSATIONS, HOST_BYTES_BOUND, ProfileConfig, STRING_BUDGET_PER_PROFILE, observe,
    vendor,
};
use netcap_decoder::community_id::CommunityId;
use netcap_records as r;
use netcap_records::RecordType;
use prost::Message;
use std::hash::Hash;
use std::net::IpAddr;

type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

/// What the profile tables did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileCounters {
    /// Hosts and devices tracked now.
    pub hosts: u64,
    pub devices: u64,
    /// Hosts and devices evicted to stay within `-profile-max` (their
    /// counts so far are lost; one seen again starts anew).
    pub hosts_evicted: u64,
    pub devices_evicted: u64,
    /// Names and other values from records about hosts or devices that
    /// were not tracked and for which the tables had no room.
    pub observations_dropped: u64,
    /// Records written.
    pub host_records: u64,
    pub device_records: u64,
}

/// Below this many Host records to write, one thread encodes them all.
const PARALLEL_ENCODE_MIN_HOSTS: usize = 4096;
/// Threads that encode Host records at most.
const MAX_ENCODE_THREADS: usize = 4;

/// A source of geolocation and AS data for Host records (`-geoip`,
/// `-asn`).
pub trait GeoLookup: Send + Sync {
    /// Fills the record's `country`, `city`, `asn` and `as_org` for its
    /// address, as far as the databases know it.
    fn fill(&self, ip: IpAddr, host: &mut r::Host);
}

/// Every host and device of a capture so far, within the configured bound.
pub struct Profiles {
    config: ProfileConfig,
    hosts: Map<IpAddr, HostProfile>,
    devices: Map<[u8; 6], DeviceProfile>,
    counters: ProfileCounters,
    /// The latest packet time merged.
    now_ns: i64,
    /// Bytes the strings of all profiles may still take.
    string_budget: usize,
    geo: Option<std::sync::Arc<dyn GeoLookup>>,
    observations: Vec<Observation>,
    community_ids: CommunityId,
    community_id: String,
}

impl Profiles {
    pub fn new(config: ProfileConfig) -> Self {
        Profiles {
            config: ProfileConfig { max_profiles: config.max_profiles.max(1), ..config },
            hosts: Map::default(),
            devices: Map::default(),
            counters: ProfileCounters::default(),
            now_ns: i64::MIN,
            string_budget: config.max_profiles.max(1).saturating_mul(STRING_BUDGET_PER_PROFILE),
            geo: None,
            observations: Vec::new(),
            community_ids: CommunityId::new(0),
            community_id: String::new(),
        }
    }

    /// Fills Host records' geolocation and AS fields from `geo`.
    pub fn set_geo(&mut self, geo: std::sync::Arc<dyn GeoLookup>) {
        self.geo = Some(geo);
    }

    /// Merges the next batch's share (batches must come in batch order for
    /// the records to be the same for any number of workers).
    pub fn merge(&mut self, part: BatchProfile) {
        for (key, stats) in &part.convs {
            self.now_ns = self.now_ns.max(stats.last_ns);
            self.conversation(key, stats);
        }
        for o in part.observations {
            self.observe(o);
        }
    }

    /// Takes the session stage's records of one of the
    /// [`crate::SESSION_RECORD_TYPES`] (length-delimited, as in a frame).
    pub fn observe_records(&mut self, record_type: RecordType, bytes: &[u8]) {
        let mut list = std::mem::take(&mut self.observations);
        observe::session_records(record_type, bytes, &mut list);
        for o in list.drain(..) {
            self.observe(o);
        }
        self.observations = list;
    }

    fn conversation(&mut self, key: &ConvKey, s: &ConvStats) {
        let max = self.config.max_profiles;
        if let Some(mac) = key.src_mac {
            let evicted = &mut self.counters.devices_evicted;
            let d = entry(&mut self.devices, mac, max, s.first_ns, evicted, &mut self.string_budget);
            d.seen(s.first_ns, s.last_ns, s.first_frame);
            d.packets += s.packets;
            d.bytes += s.bytes;
            if let Some(src) = key.src {
                d.add_source(src);
            }
            d.changed = true;
        }
        let (Some(src), Some(dst)) = (key.src, key.dst) else { return };
        self.first_conversations(key, src, dst, s.first_ns);
        let served = s.has_ports.then(|| server_port(key, s));
        let evicted = &mut self.counters.hosts_evicted;
        let budget = &mut self.string_budget;
        let h = entry(&mut self.hosts, src, max, s.first_ns, evicted, budget);
        h.seen(s.first_ns, s.last_ns, s.first_frame);
        h.packets_sent += s.packets;
        h.bytes_sent += s.bytes;
        h.dropped += h.contacted.add(dst, s.packets, s.bytes);
        h.add_transport(key.protocol);
        if let Some(mac) = key.src_mac {
            h.add_mac(mac);
        }
        match served {
            Some((true, port)) => h.dropped += h.served.add(port, s.packets, s.bytes),
            Some((false, port)) => h.dropped += h.contacted_ports.add(port, s.packets, s.bytes),
            None => {}
        }
        h.changed = true;
        let h = entry(&mut self.hosts, dst, max, s.first_ns, evicted, budget);
        h.seen(s.first_ns, s.last_ns, s.first_frame);
        h.packets_received += s.packets;
        h.bytes_received += s.bytes;
        h.dropped += h.contacted_by.add(src, s.packets, s.bytes);
        h.add_transport(key.protocol);
        match served {
            Some((true, port)) => h.dropped += h.contacted_ports.add(port, s.packets, s.bytes),
            Some((false, port)) => h.dropped += h.served.add(port, s.packets, s.bytes),
            None => {}
        }
        h.changed = true;
    }

    /// Notes the conversation's Community ID for hosts that have fewer than
    /// [`FIRST_CONVERSATIONS`] (not ICMP: its conversations are told by
    /// type and code, which the batches do not keep).
    fn first_conversations(&mut self, key: &ConvKey, src: IpAddr, dst: IpAddr, now_ns: i64) {
        if matches!(key.protocol, 1 | 58) {
            return;
        }
        let needs = |ip: &IpAddr| self.hosts.get(ip).is_none_or(|h| h.community_ids.len() < FIRST_CONVERSATIONS);
        if !needs(&src) && !needs(&dst) {
            return;
        }
        let (a, b) = (ip_bytes(&src), ip_bytes(&dst));
        self.community_ids.write_conversation(&mut self.community_id, &a, &b, key.protocol, key.src_port, key.dst_port);
        if self.community_id.is_empty() {
            return;
        }
        let max = self.config.max_profiles;
        for ip in [src, dst] {
            let h = entry(&mut self.hosts, ip, max, now_ns, &mut self.counters.hosts_evicted, &mut self.string_budget);
            if h.community_ids.len() < FIRST_CONVERSATIONS && !h.community_ids.iter().any(|c| **c == *self.community_id)
            {
                h.community_ids.push(self.community_id.as_str().into());
            }
        }
    }

    fn observe(&mut self, o: Observation) {
        let full_hosts = self.hosts.len() >= self.config.max_profiles;
        let full_devices = self.devices.len() >= self.config.max_profiles;
        match o.target {
            Target::Host(ip) => {
                if full_hosts && !self.hosts.contains_key(&ip) {
                    self.counters.observations_dropped += 1;
                    return;
                }
                let h = self.hosts.entry(ip).or_insert_with(|| HostProfile::new(self.now_ns));
                h.add_string(o.attr, &o.value, &mut self.string_budget);
            }
            Target::Device(mac) => {
                if full_devices && !self.devices.contains_key(&mac) {
                    self.counters.observations_dropped += 1;
                    return;
                }
                let d = self.devices.entry(mac).or_insert_with(|| DeviceProfile::new(self.now_ns));
                d.add_string(o.attr, &o.value, &mut self.string_budget);
            }
        }
    }

    /// Encodes a Host record for every host that had traffic and a
    /// DeviceProfile record for every device that sent frames, sorted by
    /// address (length-delimited, appended to the two buffers); returns how
    /// many of each.
    pub fn write_all(&mut self, hosts: &mut Vec<u8>, devices: &mut Vec<u8>) -> (u64, u64) {
        self.write(hosts, devices, false)
    }

    /// Like [`Profiles::write_all`], for the hosts and devices that changed
    /// since they were last written (live captures).
    pub fn write_changed(&mut self, hosts: &mut Vec<u8>, devices: &mut Vec<u8>) -> (u64, u64) {
        self.write(hosts, devices, true)
    }

    fn write(&mut self, hosts_out: &mut Vec<u8>, devices_out: &mut Vec<u8>, changed_only: bool) -> (u64, u64) {
        let mut ips: Vec<IpAddr> = self
            .hosts
            .iter()
            .filter(|(_, h)| h.has_traffic() && (h.changed || !changed_only))
            .map(|(ip, _)| *ip)
            .collect();
        ips.sort_unstable();
        self.encode_hosts(&ips, hosts_out);
        for ip in &ips {
            if let Some(h) = self.hosts.get_mut(ip) {
                h.changed = false;
            }
        }
        let mut macs: Vec<[u8; 6]> = self
            .devices
            .iter()
            .filter(|(_, d)| d.packets > 0 && (d.changed || !changed_only))
            .map(|(mac, _)| *mac)
            .collect();
        macs.sort_unstable();
        for mac in &macs {
            if let Some(d) = self.devices.get_mut(mac) {
                let _ = device_record(*mac, d).encode_length_delimited(devices_out);
                d.changed = false;
            }
        }
        self.counters.host_records += ips.len() as u64;
        self.counters.device_records += macs.len() as u64;
        (ips.len() as u64, macs.len() as u64)
    }

    /// Appends the Host records of `ips` (in their order) to `out`. At the
    /// end of a file capture this runs alone on the writer while the other
    /// threads are done: a large table is encoded in slices on scoped
    /// threads, the slices appended in order (the bytes do not depend on
    /// how many threads ran).
    fn encode_hosts(&self, ips: &[IpAddr], out: &mut Vec<u8>) {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_ENCODE_THREADS);
        if threads < 2 || ips.len() < PARALLEL_ENCODE_MIN_HOSTS {
            self.encode_host_slice(ips, out);
            return;
        }
        let part = |slice: &[IpAddr]| {
            let mut part = Vec::new();
            self.encode_host_slice(slice, &mut part);
            part
        };
        let parts: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let handles: Vec<_> = ips
                .chunks(ips.len().div_ceil(threads))
                .map(|slice| {
                    let spawned = std::thread::Builder::new()
                        .name("netcap-profiles".into())
                        .spawn_scoped(scope, move || part(slice));
                    (slice, spawned)
                })
                .collect();
            handles
                .into_iter()
                .map(|(slice, spawned)| match spawned {
                    Ok(h) => h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    // No thread to be had: encode the slice here.
                    Err(_) => part(slice),
                })
                .collect()
        });
        out.reserve(parts.iter().map(Vec::len).sum());
        for part in parts {
            out.extend_from_slice(&part);
        }
    }

    fn encode_host_slice(&self, ips: &[IpAddr], out: &mut Vec<u8>) {
        for ip in ips {
            let Some(h) = self.hosts.get(ip) else { continue };
            let mut record = self.host_record(*ip, h);
            if let Some(geo) = &self.geo {
                geo.fill(*ip, &mut record);
            }
            // Encoding into a Vec cannot fail.
            let _ = record.encode_length_delimited(out);
        }
    }

    fn host_record(&self, ip: IpAddr, h: &HostProfile) -> r::Host {
        let peers = |list: Vec<crate::host::Traffic<IpAddr>>| {
            list.iter().map(|t| r::HostPeer { ip: ip_bytes(&t.key), packets: t.packets, bytes: t.bytes }).collect()
        };
        let ports = |list: Vec<crate::host::Traffic<crate::host::PortKey>>| {
            list.iter()
                .map(|t| r::HostPort {
                    protocol: u32::from(t.key.0),
                    port: u32::from(t.key.1),
                    packets: t.packets,
                    bytes: t.bytes,
                })
                .collect()
        };
        // DHCP names of the devices that sourced it (not of gateways).
        let mut dhcp_hostnames = Vec::new();
        let mut dhcp_vendor_classes = Vec::new();
        for mac in &h.macs {
            if let Some(d) = self.devices.get(mac).filter(|d| !d.gateway) {
                dhcp_hostnames.extend(d.strings.of(Attr::DhcpHostname));
                dhcp_vendor_classes.extend(d.strings.of(Attr::DhcpVendorClass));
            }
        }
        for list in [&mut dhcp_hostnames, &mut dhcp_vendor_classes] {
            list.sort_unstable();
            list.dedup();
        }
        let mut macs = h.macs.clone();
        macs.sort_unstable();
        r::Host {
            timestamp_ns: h.first_ns,
            frame: h.first_frame,
            ip: ip_bytes(&ip),
            last_seen_ns: h.last_ns,
            packets_sent: h.packets_sent,
            bytes_sent: h.bytes_sent,
            packets_received: h.packets_received,
            bytes_received: h.bytes_received,
            peers_contacted: h.contacted.distinct,
            peers_contacted_by: h.contacted_by.distinct,
            top_contacted: peers(h.contacted.top(self.config.top_n)),
            top_contacted_by: peers(h.contacted_by.top(self.config.top_n)),
            ports_served: ports(h.served.top(usize::MAX)),
            ports_contacted: ports(h.contacted_ports.top(usize::MAX)),
            transport_protocols: h.transport_names(),
            application_protocols: h.strings.of(Attr::App),
            dns_names: h.strings.of(Attr::DnsName),
            dns_queries: h.strings.of(Attr::DnsQuery),
            sni_requested: h.strings.of(Attr::SniRequested),
            sni_served: h.strings.of(Attr::SniServed),
            ja3: h.strings.of(Attr::Ja3),
            ja4: h.strings.of(Attr::Ja4),
            ja3s: h.strings.of(Attr::Ja3s),
            user_agents: h.strings.of(Attr::UserAgent),
            http_servers: h.strings.of(Attr::HttpServer),
            dhcp_hostnames,
            dhcp_vendor_classes,
            source_macs: macs.iter().map(|m| m.to_vec()).collect(),
            community_ids: h.community_ids.iter().map(|c| c.to_string()).collect(),
            dropped_values: h.dropped,
            ..r::Host::default()
        }
    }

    /// What the tables did so far.
    pub fn counters(&self) -> ProfileCounters {
        ProfileCounters { hosts: self.hosts.len() as u64, devices: self.devices.len() as u64, ..self.counters.clone() }
    }

    /// The most memory the tables can take: `-profile-max` hosts and as many
    /// devices at their bounds ([`HOST_BYTES_BOUND`],
    /// [`DEVICE_BYTES_BOUND`]), and the strings' budget
    /// ([`STRING_BUDGET_PER_PROFILE`] per `-profile-max`).
    pub fn memory_bound_bytes(&self) -> usize {
        self.config.max_profiles * (HOST_BYTES_BOUND + DEVICE_BYTES_BOUND + STRING_BUDGET_PER_PROFILE)
    }

    /// The memory the tables take now, as far as it can be counted: the
    /// hash tables' slots and every profile's heap parts.
    pub fn memory_bytes(&self) -> usize {
        let host_slot = std::mem::size_of::<(IpAddr, HostProfile)>() + 1;
        let device_slot = std::mem::size_of::<([u8; 6], DeviceProfile)>() + 1;
        self.hosts.capacity() * host_slot
            + self.hosts.values().map(HostProfile::heap_bytes).sum::<usize>()
            + self.devices.capacity() * device_slot
            + self.devices.values().map(DeviceProfile::heap_bytes).sum::<usize>()
    }
}

/// The server side of a conversation direction's ports: (whether the
/// source serves, (protocol, the served port)). A TCP SYN tells (its
/// destination serves), as does a SYN-ACK (its source serves); without
/// one, a port below 1024 facing one above is the service, then a port
/// below the dynamic range (49152) facing one in it, then the lower port
/// (the destination's if they are equal).
fn server_port(key: &ConvKey, s: &ConvStats) -> (bool, (u8, u16)) {
    let (sp, dp) = (key.src_port, key.dst_port);
    let src_serves = if s.handshake & SAW_SYN_ACK != 0 {
        true
    } else if s.handshake & SAW_SYN != 0 {
        false
    } else if (sp < 1024) != (dp < 1024) {
        sp < 1024
    } else if (sp >= 49152) != (dp >= 49152) {
        dp >= 49152
    } else {
        sp < dp
    };
    (src_serves, (key.protocol, if src_serves { sp } else { dp }))
}

/// The entry of `key`, made if missing; a full table first evicts its
/// least recently seen eighth (at least one entry; ties broken by key, so
/// the choice is the same on every run), whose strings give their bytes
/// back to `string_budget`.
fn entry<'m, K: Copy + Eq + Hash + Ord, V: Profile>(
    map: &'m mut Map<K, V>,
    key: K,
    max: usize,
    now_ns: i64,
    evicted: &mut u64,
    string_budget: &mut usize,
) -> &'m mut V {
    if map.len() >= max && !map.contains_key(&key) {
        let mut order: Vec<(i64, K)> = map.iter().map(|(k, v)| (v.last_seen(), *k)).collect();
        let n = (max / 8).max(1).min(order.len());
        if n > 0 {
            order.select_nth_unstable(n - 1);
            for (_, k) in order.iter().take(n) {
                if let Some(v) = map.remove(k) {
                    *string_budget += v.string_cost();
                }
            }
            *evicted += n as u64;
        }
    }
    map.entry(key).or_insert_with(|| V::new_at(now_ns))
}

/// What eviction needs of hosts and devices.
trait Profile {
    fn new_at(now_ns: i64) -> Self;
    fn last_seen(&self) -> i64;
    fn string_cost(&self) -> usize;
}

impl Profile for HostProfile {
    fn new_at(now_ns: i64) -> Self {
        HostProfile::new(now_ns)
    }
    fn last_seen(&self) -> i64 {
        self.last_ns
    }
    fn string_cost(&self) -> usize {
        self.strings.cost()
    }
}

impl Profile for DeviceProfile {
    fn new_at(now_ns: i64) -> Self {
        DeviceProfile::new(now_ns)
    }
    fn last_seen(&self) -> i64 {
        self.last_ns
    }
    fn string_cost(&self) -> usize {
        self.strings.cost()
    }
}

fn device_record(mac: [u8; 6], d: &DeviceProfile) -> r::DeviceProfile {
    let mut ips = d.ips.clone();
    ips.sort_unstable();
    r::DeviceProfile {
        timestamp_ns: d.first_ns,
        frame: d.first_frame,
        mac: mac.to_vec(),
        vendor: vendor::vendor(mac).unwrap_or_default().to_string(),
        last_seen_ns: d.last_ns,
        packets: d.packets,
        bytes: d.bytes,
        source_ips: ips.iter().map(ip_bytes).collect(),
        ip_count: d.ip_count,
        gateway: d.gateway,
        dhcp_fingerprints: d.strings.of(Attr::DhcpFingerprint),
        dhcp_hostnames: d.strings.of(Attr::DhcpHostname),
        dhcp_vendor_classes: d.strings.of(Attr::DhcpVendorClass),
        mdns_names: d.strings.of(Attr::MdnsName),
        llmnr_names: d.strings.of(Attr::LlmnrName),
        netbios_names: d.strings.of(Attr::NetbiosName),
        ssdp_servers: d.strings.of(Attr::SsdpServer),
        dropped_values: d.dropped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::batch::{BatchProfiler, ConvKey, ConvStats};
    use netcap_decoder::{NetworkKind, PacketSummary, TransportKind, tcp_flag};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn packet(frame: u64, ts: i64, src: &str, dst: &str, sport: u16, dport: u16, len: u32) -> PacketSummary {
        PacketSummary {
            frame,
            timestamp_ns: ts,
            wire_length: len,
            captured_length: len,
            src_mac: Some([0, 0x1b, 0x21, 0, 0, if src.starts_with("10.") { 1 } else { 2 }]),
            network: NetworkKind::Ipv4,
            src_ip: Some(ip(src)),
            dst_ip: Some(ip(dst)),
            ip_protocol: 6,
            transport: TransportKind::Tcp,
            src_port: sport,
            dst_port: dport,
            ..PacketSummary::default()
        }
    }

    fn hosts_of(profiles: &mut Profiles) -> Vec<r::Host> {
        let (mut hosts, mut devices) = (Vec::new(), Vec::new());
        profiles.write_all(&mut hosts, &mut devices);
        let mut out = Vec::new();
        let mut bytes = hosts.as_slice();
        while !bytes.is_empty() {
            out.push(r::Host::decode_length_delimited(&mut bytes).unwrap());
        }
        out
    }

    /// A table large enough to be encoded on several threads gives the
    /// bytes one thread gives, in address order.
    #[test]
    fn hosts_encoded_in_slices_equal_one_pass() {
        let n = PARALLEL_ENCODE_MIN_HOSTS as u32 + 1000;
        let batch: Vec<PacketSummary> = (0..n)
            .map(|i| {
                let [_, b, c, d] = i.to_be_bytes();
                packet(u64::from(i) + 1, i64::from(i), &format!("10.{b}.{c}.{d}"), "192.0.2.1", 40000, 443, 60 + i % 7)
            })
            .collect();
        let mut profiles = Profiles::new(ProfileConfig::default());
        profiles.merge(BatchProfiler::new().batch(&batch, |_| None));
        let (mut sliced, mut devices) = (Vec::new(), Vec::new());
        let (hosts, _) = profiles.write_all(&mut sliced, &mut devices);
        assert_eq!(hosts, u64::from(n) + 1);
        let mut ips: Vec<IpAddr> = profiles.hosts.keys().copied().collect();
        ips.sort_unstable();
        let mut one_pass = Vec::new();
        profiles.encode_host_slice(&ips, &mut one_pass);
        assert_eq!(sliced, one_pass);
        let first = r::Host::decode_length_delimited(&mut sliced.as_slice()).unwrap();
        assert_eq!(first.ip, vec![10, 0, 0, 0]);
    }

    #[test]
    fn hosts_count_what_they_sent_and_received() {
        let mut syn = packet(1, 100, "10.0.0.2", "192.0.2.1", 40000, 443, 74);
        syn.tcp_flags = tcp_flag::SYN;
        let mut syn_ack = packet(2, 200, "192.0.2.1", "10.0.0.2", 443, 40000, 74);
        syn_ack.tcp_flags = tcp_flag::SYN | tcp_flag::ACK;
        let batches = [
            vec![syn, syn_ack, packet(3, 300, "10.0.0.2", "192.0.2.1", 40000, 443, 1000)],
            vec![
                packet(4, 400, "192.0.2.1", "10.0.0.2", 443, 40000, 60),
                packet(5, 500, "10.0.0.2", "192.0.2.9", 5353, 53, 80),
            ],
        ];
        let mut profiles = Profiles::new(ProfileConfig::default());
        let mut profiler = BatchProfiler::new();
        for batch in &batches {
            profiles.merge(profiler.batch(batch, |_| None));
        }
        let hosts = hosts_of(&mut profiles);
        assert_eq!(hosts.len(), 3);
        let client = &hosts[0];
        assert_eq!(client.ip, vec![10, 0, 0, 2]);
        assert_eq!((client.timestamp_ns, client.frame, client.last_seen_ns), (100, 1, 500));
        assert_eq!(
            (client.packets_sent, client.bytes_sent, client.packets_received, client.bytes_received),
            (3, 1154, 2, 134)
        );
        assert_eq!((client.peers_contacted, client.peers_contacted_by), (2, 1));
        assert_eq!(client.top_contacted[0], r::HostPeer { ip: vec![192, 0, 2, 1], packets: 2, bytes: 1074 });
        assert!(client.ports_served.is_empty());
        assert_eq!(
            client.ports_contacted,
            vec![
                r::HostPort { protocol: 6, port: 443, packets: 4, bytes: 1208 },
                r::HostPort { protocol: 6, port: 53, packets: 1, bytes: 80 },
            ]
        );
        assert_eq!(client.transport_protocols, vec!["tcp"]);
        assert_eq!(client.source_macs, vec![vec![0, 0x1b, 0x21, 0, 0, 1]]);
        let server = &hosts[1];
        assert_eq!(server.ip, vec![192, 0, 2, 1]);
        assert_eq!(server.ports_served, vec![r::HostPort { protocol: 6, port: 443, packets: 4, bytes: 1208 }]);
        assert_eq!((server.packets_sent, server.bytes_sent), (2, 134));
    }

    /// The per-profile bounds hold for full lists: the fixed parts, every
    /// list at its cap (caps are powers of two, which vectors reach
    /// exactly), and the hash table slots (a table just grown is 7/16
    /// full: under 3 slots per entry), strings aside.
    #[test]
    fn profile_bounds_cover_full_profiles() {
        use crate::host::{PortKey, Traffic};
        use crate::{TRACKED_DEVICE_IPS, TRACKED_MACS, TRACKED_PEERS, TRACKED_PORTS};
        for cap in [TRACKED_PEERS, TRACKED_PORTS, TRACKED_MACS, FIRST_CONVERSATIONS, TRACKED_DEVICE_IPS] {
            assert!(cap.is_power_of_two());
        }
        let host = 3 * (std::mem::size_of::<(IpAddr, HostProfile)>() + 1)
            + 2 * TRACKED_PEERS * std::mem::size_of::<Traffic<IpAddr>>()
            + 2 * TRACKED_PORTS * std::mem::size_of::<Traffic<PortKey>>()
            + TRACKED_MACS * 6
            + FIRST_CONVERSATIONS * (std::mem::size_of::<Box<str>>() + 64 + 16);
        assert!(host <= HOST_BYTES_BOUND, "{host}");
        let device = 3 * (std::mem::size_of::<([u8; 6], DeviceProfile)>() + 1)
            + TRACKED_DEVICE_IPS * std::mem::size_of::<IpAddr>()
            + 4 * 8;
        assert!(device <= DEVICE_BYTES_BOUND, "{device}");
    }

    #[test]
    fn server_ports() {
        let key = |sp, dp| ConvKey { src_mac: None, src: None, dst: None, protocol: 17, src_port: sp, dst_port: dp };
        let stats = |handshake| ConvStats {
            first_index: 0,
            first_frame: 1,
            first_ns: 0,
            last_ns: 0,
            packets: 1,
            bytes: 1,
            handshake,
            has_ports: true,
        };
        assert_eq!(server_port(&key(50000, 53), &stats(0)), (false, (17, 53)));
        assert_eq!(server_port(&key(53, 50000), &stats(0)), (true, (17, 53)));
        assert_eq!(server_port(&key(1025, 8080), &stats(0)), (true, (17, 1025)));
        assert_eq!(server_port(&key(8080, 50000), &stats(0)), (true, (17, 8080)));
        assert_eq!(server_port(&key(137, 137), &stats(0)), (false, (17, 137)));
        assert_eq!(server_port(&key(1025, 8080), &stats(SAW_SYN)), (false, (17, 8080)));
        assert_eq!(server_port(&key(8080, 1025), &stats(SAW_SYN_ACK)), (true, (17, 8080)));
    }

    /// A batch of `n` packets from `n` distinct addresses (starting at
    /// `first`) to one server.
    fn flood_batch(profiler: &mut BatchProfiler, first: u32, n: u32, ts: i64) -> BatchProfile {
        let summaries: Vec<PacketSummary> = (first..first + n)
            .map(|i| {
                let mut p = packet(u64::from(i), ts, "10.0.0.1", "192.0.2.1", 1024, 80, 60);
                p.src_ip = Some(IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + i)));
                p.src_mac = Some([2, 0, 0, 0, (i >> 8) as u8, i as u8]);
                p
            })
            .collect();
        profiler.batch(&summaries, |_| None)
    }

    #[test]
    fn a_flood_of_addresses_stays_within_the_bound() {
        let max = 1000;
        let mut profiles = Profiles::new(ProfileConfig { max_profiles: max, ..ProfileConfig::default() });
        let mut profiler = BatchProfiler::new();
        let (batches, per_batch) = (200u32, 1000u32);
        for b in 0..batches {
            profiles.merge(flood_batch(&mut profiler, b * per_batch, per_batch, i64::from(b)));
            assert!(profiles.hosts.len() <= max);
            assert!(profiles.devices.len() <= max);
            assert!(profiles.memory_bytes() <= profiles.memory_bound_bytes());
        }
        let c = profiles.counters();
        // 200 000 senders and the server: all but the table's last are gone.
        assert_eq!(c.hosts + c.hosts_evicted, u64::from(batches * per_batch) + 1);
        assert!(c.hosts_evicted > 0 && c.devices_evicted > 0);
        let hosts = hosts_of(&mut profiles);
        assert_eq!(hosts.len() as u64, c.hosts);
        // The most recent senders are kept.
        let last = IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + batches * per_batch - 1));
        assert!(hosts.iter().any(|h| h.ip == ip_bytes(&last)));
    }

    #[test]
    fn evictions_are_the_same_on_every_run() {
        let run = || {
            let mut profiles = Profiles::new(ProfileConfig { max_profiles: 100, ..ProfileConfig::default() });
            let mut profiler = BatchProfiler::new();
            for b in 0..20 {
                // Timestamps tie within a batch: ties are broken by address.
                profiles.merge(flood_batch(&mut profiler, b * 37, 50, i64::from(b)));
            }
            hosts_of(&mut profiles)
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn names_of_untracked_hosts_need_room() {
        let mut profiles = Profiles::new(ProfileConfig { max_profiles: 2, ..ProfileConfig::default() });
        let name =
            |ip: IpAddr| Observation { target: Target::Host(ip), attr: Attr::DnsName, value: "x.example".into() };
        profiles.observe(name(ip("192.0.2.1")));
        profiles.observe(name(ip("192.0.2.2")));
        profiles.observe(name(ip("192.0.2.3")));
        assert_eq!(profiles.counters().observations_dropped, 1);
        // Hosts named only by records get no record.
        assert!(hosts_of(&mut profiles).is_empty());
    }

    #[test]
    fn live_writes_only_what_changed() {
        let mut profiles = Profiles::new(ProfileConfig::default());
        let mut profiler = BatchProfiler::new();
        profiles.merge(profiler.batch(&[packet(1, 1, "10.0.0.2", "192.0.2.1", 40000, 443, 60)], |_| None));
        let (mut h, mut d) = (Vec::new(), Vec::new());
        assert_eq!(profiles.write_changed(&mut h, &mut d), (2, 1));
        assert_eq!(profiles.write_changed(&mut h, &mut d), (0, 0));
        profiles.merge(profiler.batch(&[packet(2, 2, "192.0.2.1", "192.0.2.7", 443, 40000, 60)], |_| None));
        assert_eq!(profiles.write_changed(&mut h, &mut d), (2, 1));
        assert_eq!(profiles.write_all(&mut h, &mut d), (3, 2));
        assert_eq!(profiles.counters().host_records, 7);
    }
}
