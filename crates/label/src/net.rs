//! Addresses, networks, port sets, protocol names and the flow key that
//! joins ground truth to connections by endpoints.

use std::net::IpAddr;

/// An address or network (`10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Net {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Net {
    pub fn parse(text: &str) -> Result<Net, String> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| format!("invalid address {text:?}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => {
                p.parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("invalid prefix in {text:?}"))?
            }
        };
        Ok(Net { addr: mask(addr, prefix), prefix })
    }

    /// A single address (a /32 or /128).
    pub fn is_host(&self) -> bool {
        self.prefix == if self.addr.is_ipv4() { 32 } else { 128 }
    }

    pub fn contains(&self, addr: &IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(_), IpAddr::V4(_)) | (IpAddr::V6(_), IpAddr::V6(_)) => mask(*addr, self.prefix) == self.addr,
            _ => false,
        }
    }
}

impl std::fmt::Display for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_host() { write!(f, "{}", self.addr) } else { write!(f, "{}/{}", self.addr, self.prefix) }
    }
}

fn mask(addr: IpAddr, prefix: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let keep = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
            IpAddr::V4((bits & keep).into())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let keep = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix.min(128))) };
            IpAddr::V6((bits & keep).into())
        }
    }
}

/// Whether `addr` is in any of `nets`; an empty list holds every address.
pub fn in_nets(nets: &[Net], addr: &IpAddr) -> bool {
    nets.is_empty() || nets.iter().any(|n| n.contains(addr))
}

/// Ports and port ranges (`80`, `8000-8100`); `None` in a window means any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortSet(pub Vec<(u16, u16)>);

impl PortSet {
    /// One item: `80` or `8000-8100`.
    pub fn add(&mut self, text: &str) -> Result<(), String> {
        let text = text.trim();
        let port = |p: &str| p.trim().parse::<u16>().map_err(|_| format!("invalid port {text:?}"));
        let range = match text.split_once('-') {
            Some((lo, hi)) => (port(lo)?, port(hi)?),
            None => (port(text)?, port(text)?),
        };
        if range.0 > range.1 {
            return Err(format!("empty port range {text:?}"));
        }
        self.0.push(range);
        Ok(())
    }

    pub fn contains(&self, port: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&port))
    }

    /// The single port, if the set is one.
    pub fn single(&self) -> Option<u16> {
        match self.0.as_slice() {
            [(lo, hi)] if lo == hi => Some(*lo),
            _ => None,
        }
    }
}

impl std::fmt::Display for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (lo, hi)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            if lo == hi { write!(f, "{lo}")? } else { write!(f, "{lo}-{hi}")? }
        }
        Ok(())
    }
}

/// Whether `port` is allowed by an optional port set.
pub fn port_ok(ports: &Option<PortSet>, port: u16) -> bool {
    ports.as_ref().is_none_or(|p| p.contains(port))
}

/// IP protocol numbers by the names Suricata, IANA and people use for
/// them; a decimal number is taken as is.
pub fn protocol_number(name: &str) -> Option<u8> {
    let name = name.trim();
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    Some(match name.to_ascii_lowercase().as_str() {
        "icmp" => 1,
        "igmp" => 2,
        "ipip" | "ipv4" | "ip-in-ip" => 4,
        "tcp" => 6,
        "egp" => 8,
        "igp" => 9,
        "udp" => 17,
        "ipv6" => 41,
        "rsvp" => 46,
        "gre" => 47,
        "esp" | "ipv6-crypt" => 50,
        "ah" | "ipv6-auth" => 51,
        "ipv6-icmp" | "icmpv6" | "icmp6" => 58,
        "eigrp" => 88,
        "ospf" | "ospfigp" => 89,
        "etherip" => 97,
        "pim" => 103,
        "vrrp" => 112,
        "l2tp" => 115,
        "sctp" => 132,
        "udplite" | "udp-lite" => 136,
        "mpls-in-ip" => 137,
        _ => return None,
    })
}

/// Protocols whose records carry ports that name a conversation. For the
/// others (ICMP carries type and code there) endpoints are joined on
/// addresses alone.
pub fn has_ports(proto: u8) -> bool {
    matches!(proto, 6 | 17 | 132 | 136)
}

/// An address as records store it (4 or 16 bytes, network order).
pub fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

/// A conversation's endpoints in a canonical order (the lower (address,
/// port) first), so both directions give one key. `proto` is 0 when it is
/// not known (per-packet records are joined on endpoints only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub proto: u8,
    pub a: (IpAddr, u16),
    pub b: (IpAddr, u16),
}

impl FlowKey {
    /// The key of a conversation; ports are dropped for protocols without
    /// them (see [`has_ports`]).
    pub fn new(proto: u8, src: (IpAddr, u16), dst: (IpAddr, u16)) -> FlowKey {
        let (src, dst) = if proto == 0 || has_ports(proto) { (src, dst) } else { ((src.0, 0), (dst.0, 0)) };
        if src <= dst { FlowKey { proto, a: src, b: dst } } else { FlowKey { proto, a: dst, b: src } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_contain_their_addresses() {
        let net = Net::parse("192.168.10.0/24").unwrap();
        assert!(net.contains(&"192.168.10.50".parse().unwrap()));
        assert!(!net.contains(&"192.168.11.50".parse().unwrap()));
        assert!(!net.contains(&"::1".parse().unwrap()));
        assert!(!net.is_host());
        assert_eq!(Net::parse("10.1.2.3/8").unwrap().to_string(), "10.0.0.0/8");
        let host = Net::parse("2001:db8::1").unwrap();
        assert!(host.is_host() && host.contains(&"2001:db8::1".parse().unwrap()));
        assert!(Net::parse("0.0.0.0/0").unwrap().contains(&"8.8.8.8".parse().unwrap()));
        assert!(Net::parse("10.0.0.0/33").is_err());
        assert!(Net::parse("host").is_err());
    }

    #[test]
    fn port_sets_and_protocols() {
        let mut ports = PortSet::default();
        ports.add("80").unwrap();
        ports.add("8000-8100").unwrap();
        assert!(ports.contains(80) && ports.contains(8050) && !ports.contains(81));
        assert_eq!(ports.to_string(), "80,8000-8100");
        assert!(ports.add("90-80").is_err() && ports.add("70000").is_err());
        assert_eq!(protocol_number("TCP"), Some(6));
        assert_eq!(protocol_number("IPv6-ICMP"), Some(58));
        assert_eq!(protocol_number("047"), Some(47));
        assert_eq!(protocol_number("carrier-pigeon"), None);
    }

    #[test]
    fn flow_keys_ignore_direction_and_icmp_ports() {
        let a = ("10.0.0.1".parse().unwrap(), 40000);
        let b = ("10.0.0.2".parse().unwrap(), 80);
        assert_eq!(FlowKey::new(6, a, b), FlowKey::new(6, b, a));
        assert_ne!(FlowKey::new(6, a, b), FlowKey::new(17, a, b));
        assert_eq!(FlowKey::new(1, (a.0, 8), (b.0, 0)), FlowKey::new(1, (b.0, 0), (a.0, 0)));
    }
}
