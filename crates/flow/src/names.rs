//! Protocol names for records: IP protocols, and application protocols by
//! well-known port until payload decoders say better.

const TCP: u8 = 6;
const UDP: u8 = 17;

/// (port, name) for TCP, sorted by port.
const TCP_PORTS: &[(u16, &str)] = &[
    (20, "FTP-DATA"),
    (21, "FTP"),
    (22, "SSH"),
    (23, "Telnet"),
    (25, "SMTP"),
    (53, "DNS"),
    (80, "HTTP"),
    (88, "Kerberos"),
    (110, "POP3"),
    (111, "SunRPC"),
    (119, "NNTP"),
    (135, "MSRPC"),
    (139, "NetBIOS-SSN"),
    (143, "IMAP"),
    (179, "BGP"),
    (389, "LDAP"),
    (443, "TLS"),
    (445, "SMB"),
    (465, "SMTPS"),
    (502, "Modbus"),
    (514, "RSH"),
    (587, "SMTP"),
    (636, "LDAPS"),
    (853, "DoT"),
    (873, "rsync"),
    (993, "IMAPS"),
    (995, "POP3S"),
    (1080, "SOCKS"),
    (1433, "MSSQL"),
    (1723, "PPTP"),
    (1883, "MQTT"),
    (2049, "NFS"),
    (3128, "HTTP-Proxy"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5060, "SIP"),
    (5222, "XMPP"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (6379, "Redis"),
    (6667, "IRC"),
    (8080, "HTTP"),
    (8443, "TLS"),
    (9200, "Elasticsearch"),
    (27017, "MongoDB"),
];

/// (port, name) for UDP, sorted by port.
const UDP_PORTS: &[(u16, &str)] = &[
    (53, "DNS"),
    (67, "DHCP"),
    (68, "DHCP"),
    (69, "TFTP"),
    (88, "Kerberos"),
    (123, "NTP"),
    (137, "NetBIOS-NS"),
    (138, "NetBIOS-DGM"),
    (161, "SNMP"),
    (162, "SNMP-Trap"),
    (443, "QUIC"),
    (500, "IKE"),
    (514, "Syslog"),
    (546, "DHCPv6"),
    (547, "DHCPv6"),
    (1194, "OpenVPN"),
    (1900, "SSDP"),
    (3478, "STUN"),
    (4500, "IKE"),
    (4789, "VXLAN"),
    (5060, "SIP"),
    (5353, "mDNS"),
    (5355, "LLMNR"),
    (6081, "Geneve"),
];

fn port_table(ip_protocol: u8) -> &'static [(u16, &'static str)] {
    match ip_protocol {
        TCP => TCP_PORTS,
        UDP => UDP_PORTS,
        _ => &[],
    }
}

/// The application protocol of a well-known port, if any.
pub fn port_name(ip_protocol: u8, port: u16) -> Option<&'static str> {
    let table = port_table(ip_protocol);
    table.binary_search_by_key(&port, |&(p, _)| p).ok().map(|i| table[i].1)
}

/// A port a server listens on: below 1024 or in the well-known table.
pub(crate) fn is_service_port(ip_protocol: u8, port: u16) -> bool {
    port < 1024 || port_name(ip_protocol, port).is_some()
}

/// Application protocol by the server's port, else the client's.
pub fn application_protocol(ip_protocol: u8, server_port: u16, client_port: u16) -> &'static str {
    port_name(ip_protocol, server_port).or_else(|| port_name(ip_protocol, client_port)).unwrap_or("")
}

/// Transport protocol name of an IP protocol number ("" if unknown).
pub fn transport_protocol(ip_protocol: u8, v6: bool) -> &'static str {
    match ip_protocol {
        1 if !v6 => "ICMPv4",
        58 if v6 => "ICMPv6",
        2 => "IGMP",
        4 => "IPIP",
        6 => "TCP",
        17 => "UDP",
        41 => "IPv6",
        47 => "GRE",
        50 => "ESP",
        51 => "AH",
        89 => "OSPF",
        103 => "PIM",
        112 => "VRRP",
        132 => "SCTP",
        136 => "UDPLite",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_looked_up() {
        for t in [TCP_PORTS, UDP_PORTS] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        }
        assert_eq!(port_name(TCP, 443), Some("TLS"));
        assert_eq!(port_name(UDP, 443), Some("QUIC"));
        assert_eq!(port_name(TCP, 4444), None);
        assert_eq!(application_protocol(UDP, 50000, 53), "DNS");
        assert!(is_service_port(TCP, 1023) && is_service_port(TCP, 8080) && !is_service_port(TCP, 50000));
    }
}
