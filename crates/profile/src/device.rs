//! One device's profile (a MAC address that sends frames on the local
//! link), with gateway detection.

use crate::TRACKED_DEVICE_IPS;
use crate::host::{Attr, Strings};
use std::net::IpAddr;

/// Distinct remote networks whose addresses a MAC must source to be taken
/// for a gateway.
pub(crate) const GATEWAY_REMOTE_NETWORKS: usize = 3;

#[derive(Debug, Clone)]
pub(crate) struct DeviceProfile {
    pub first_ns: i64,
    /// The frame number of its first packet (the smallest).
    pub first_frame: u64,
    pub last_ns: i64,
    pub packets: u64,
    pub bytes: u64,
    /// Source addresses, local and remote, until it is a gateway: then the
    /// local ones only.
    pub ips: Vec<IpAddr>,
    pub ip_count: u64,
    /// Remote networks (IPv4 /24, IPv6 /64) it sourced, until it is a
    /// gateway.
    pub remote_networks: Vec<u64>,
    pub gateway: bool,
    pub strings: Strings,
    pub dropped: u64,
    pub changed: bool,
}

impl DeviceProfile {
    pub fn new(now_ns: i64) -> Self {
        DeviceProfile {
            first_ns: now_ns,
            first_frame: u64::MAX,
            last_ns: now_ns,
            packets: 0,
            bytes: 0,
            ips: Vec::new(),
            ip_count: 0,
            remote_networks: Vec::new(),
            gateway: false,
            strings: Strings::default(),
            dropped: 0,
            changed: true,
        }
    }

    pub fn seen(&mut self, first_ns: i64, last_ns: i64, first_frame: u64) {
        self.first_frame = self.first_frame.min(first_frame);
        if self.packets == 0 {
            self.first_ns = first_ns;
            self.last_ns = last_ns;
        } else {
            self.first_ns = self.first_ns.min(first_ns);
            self.last_ns = self.last_ns.max(last_ns);
        }
    }

    /// Notes `ip` as a source address of its frames.
    pub fn add_source(&mut self, ip: IpAddr) {
        let local = is_local(&ip);
        if self.ips.contains(&ip) {
            return;
        }
        if !local {
            let network = network_of(&ip);
            if self.gateway {
                self.ip_count += 1;
                return;
            }
            if !self.remote_networks.contains(&network) {
                self.remote_networks.push(network);
            }
            if self.remote_networks.len() >= GATEWAY_REMOTE_NETWORKS {
                // A router: its remote addresses are other hosts'.
                self.gateway = true;
                self.remote_networks = Vec::new();
                self.ips.retain(is_local);
                self.ip_count += 1;
                return;
            }
        }
        self.ip_count += 1;
        if self.ips.len() < TRACKED_DEVICE_IPS {
            self.ips.push(ip);
        } else {
            self.dropped += 1;
        }
    }

    pub fn add_string(&mut self, attr: Attr, value: &str, budget: &mut usize) {
        if !self.strings.add(attr, value, budget) {
            self.dropped += 1;
        }
        self.changed = true;
    }

    pub fn heap_bytes(&self) -> usize {
        self.ips.capacity() * std::mem::size_of::<IpAddr>()
            + self.remote_networks.capacity() * 8
            + self.strings.heap_bytes()
    }
}

/// Addresses of the local link's ranges: private (RFC 1918), shared (RFC
/// 6598), link-local, loopback, unspecified and broadcast for IPv4;
/// unique-local, link-local, loopback and unspecified for IPv6.
pub(crate) fn is_local(ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_link_local()
                || a.is_loopback()
                || a.is_unspecified()
                || a.is_broadcast()
                || (o[0] == 100 && (o[1] & 0xc0) == 64)
        }
        IpAddr::V6(a) => {
            let first = a.segments()[0];
            (first & 0xfe00) == 0xfc00 || (first & 0xffc0) == 0xfe80 || a.is_loopback() || a.is_unspecified()
        }
    }
}

/// The /24 of an IPv4 address or the /64 of an IPv6 one, as a number (the
/// top bit tells the families apart).
fn network_of(ip: &IpAddr) -> u64 {
    match ip {
        IpAddr::V4(a) => u64::from(u32::from(*a) >> 8),
        IpAddr::V6(a) => (u128::from(*a) >> 64) as u64 | (1 << 63),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_host_keeps_its_addresses() {
        let mut d = DeviceProfile::new(0);
        for a in ["10.0.0.1", "fe80::1", "2001:db8::1", "2001:db8::2", "10.0.0.1", "198.51.100.7"] {
            d.add_source(ip(a));
        }
        assert!(!d.gateway);
        assert_eq!(
            d.ips,
            vec![ip("10.0.0.1"), ip("fe80::1"), ip("2001:db8::1"), ip("2001:db8::2"), ip("198.51.100.7")]
        );
        assert_eq!(d.ip_count, 5);
    }

    #[test]
    fn a_router_is_a_gateway_with_its_local_addresses_only() {
        let mut d = DeviceProfile::new(0);
        for a in ["10.0.0.138", "93.184.216.34", "93.184.216.35", "8.8.8.8", "1.1.1.1", "192.0.2.1", "fe80::1"] {
            d.add_source(ip(a));
        }
        assert!(d.gateway);
        assert_eq!(d.ips, vec![ip("10.0.0.138"), ip("fe80::1")]);
        assert_eq!(d.ip_count, 7);
    }

    #[test]
    fn local_ranges() {
        for a in ["10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "169.254.1.1", "fd00::1", "fe80::1", "0.0.0.0"]
        {
            assert!(is_local(&ip(a)), "{a}");
        }
        for a in ["8.8.8.8", "100.128.0.1", "2001:db8::1", "172.32.0.1"] {
            assert!(!is_local(&ip(a)), "{a}");
        }
    }
}
