//! Names for numeric codes: which fields hold a registry's code (a DNS
//! type, a TLS cipher suite, ...) and the name each code has, so that dump
//! prints `A`, `NOERROR` and `TLS_AES_128_GCM_SHA256` where the record holds
//! 1, 0 and 4865. Codes a registry does not name stay numbers. `-numeric`
//! turns all of this off (docs/dump.md).

use std::borrow::Cow;

/// A registry of code names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Registry {
    /// DNS RR TYPEs (IANA "Resource Record (RR) TYPEs").
    DnsType,
    /// DNS CLASSes.
    DnsClass,
    /// DNS header RCODEs (4 bits; RFC 1035, 2136).
    DnsRcode,
    /// DNS OpCodes.
    DnsOpcode,
    /// TLS and DTLS protocol versions, spelt as Zeek's ssl.log spells them.
    TlsVersion,
    /// TLS cipher suites (IANA names, from tls-parser's table).
    TlsCipher,
    /// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
    IpProtocol,
}

/// The registry whose codes the field `field` of message `message` holds.
/// A name list rather than a schema annotation: the proto files stay plain
/// for every protobuf toolchain.
pub(crate) fn registry(message: &str, field: &str) -> Option<Registry> {
    use Registry::*;
    // NetBIOS Name Service shares DNS's layout but not its opcodes and
    // rcodes: its numbers are left alone.
    const DNS_FAMILY: [&str; 3] = ["DNS", "MDNS", "LLMNR"];
    const TLS_HELLOS: [&str; 5] =
        ["TLSClientHello", "TLSServerHello", "DTLSClientHello", "DTLSServerHello", "QUICInitial"];
    Some(match (message, field) {
        ("DNSQuestion" | "DNSResourceRecord", "type") => DnsType,
        ("DNSQuestion" | "DNSResourceRecord", "class") => DnsClass,
        (m, "rcode") if DNS_FAMILY.contains(&m) => DnsRcode,
        (m, "opcode") if DNS_FAMILY.contains(&m) => DnsOpcode,
        // QUIC's own `version` is a QUIC version, not a TLS one.
        ("QUICInitial", "version") => return None,
        (m, "record_version" | "version" | "selected_version" | "supported_versions") if TLS_HELLOS.contains(&m) => {
            TlsVersion
        }
        (m, "cipher_suite" | "cipher_suites") if TLS_HELLOS.contains(&m) => TlsCipher,
        ("Connection", "tls_version") => TlsVersion,
        ("Connection", "tls_cipher") => TlsCipher,
        ("Connection" | "Flow", "ip_protocol") | ("IPv4", "protocol") => IpProtocol,
        _ => return None,
    })
}

impl Registry {
    /// The name of `code`, if the registry has one.
    pub(crate) fn name(self, code: u64) -> Option<Cow<'static, str>> {
        let code32 = u32::try_from(code).ok()?;
        let table: &[(u32, &str)] = match self {
            Registry::DnsType => DNS_TYPES,
            Registry::DnsClass => DNS_CLASSES,
            Registry::DnsRcode => DNS_RCODES,
            Registry::DnsOpcode => DNS_OPCODES,
            Registry::IpProtocol => IP_PROTOCOLS,
            Registry::TlsVersion => return tls_version(code32),
            Registry::TlsCipher => return tls_cipher(code32),
        };
        table.binary_search_by_key(&code32, |(c, _)| *c).ok().and_then(|i| table.get(i)).map(|(_, n)| Cow::Borrowed(*n))
    }
}

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa.
fn is_grease(code: u32) -> bool {
    code <= 0xffff && code & 0x0f0f == 0x0a0a && (code >> 8) == (code & 0xff)
}

fn tls_version(code: u32) -> Option<Cow<'static, str>> {
    Some(Cow::Borrowed(match code {
        0x0002 => "SSLv2",
        0x0300 => "SSLv3",
        0x0301 => "TLSv10",
        0x0302 => "TLSv11",
        0x0303 => "TLSv12",
        0x0304 => "TLSv13",
        0xfeff => "DTLSv10",
        0xfefd => "DTLSv12",
        0xfefc => "DTLSv13",
        // TLS 1.3 drafts, as Zeek names them.
        0x7f00..=0x7fff => return Some(Cow::Owned(format!("TLSv13-draft{}", code & 0xff))),
        c if is_grease(c) => "GREASE",
        _ => return None,
    }))
}

fn tls_cipher(code: u32) -> Option<Cow<'static, str>> {
    if is_grease(code) {
        return Some(Cow::Borrowed("GREASE"));
    }
    let id = u16::try_from(code).ok()?;
    tls_parser::TlsCipherSuite::from_id(id).map(|suite| Cow::Borrowed(suite.name))
}

/// Sorted by code.
const DNS_TYPES: &[(u32, &str)] = &[
    (1, "A"),
    (2, "NS"),
    (3, "MD"),
    (4, "MF"),
    (5, "CNAME"),
    (6, "SOA"),
    (7, "MB"),
    (8, "MG"),
    (9, "MR"),
    (10, "NULL"),
    (11, "WKS"),
    (12, "PTR"),
    (13, "HINFO"),
    (14, "MINFO"),
    (15, "MX"),
    (16, "TXT"),
    (17, "RP"),
    (18, "AFSDB"),
    (19, "X25"),
    (20, "ISDN"),
    (21, "RT"),
    (22, "NSAP"),
    (23, "NSAP-PTR"),
    (24, "SIG"),
    (25, "KEY"),
    (26, "PX"),
    (27, "GPOS"),
    (28, "AAAA"),
    (29, "LOC"),
    (30, "NXT"),
    (31, "EID"),
    (32, "NIMLOC"),
    (33, "SRV"),
    (34, "ATMA"),
    (35, "NAPTR"),
    (36, "KX"),
    (37, "CERT"),
    (38, "A6"),
    (39, "DNAME"),
    (40, "SINK"),
    (41, "OPT"),
    (42, "APL"),
    (43, "DS"),
    (44, "SSHFP"),
    (45, "IPSECKEY"),
    (46, "RRSIG"),
    (47, "NSEC"),
    (48, "DNSKEY"),
    (49, "DHCID"),
    (50, "NSEC3"),
    (51, "NSEC3PARAM"),
    (52, "TLSA"),
    (53, "SMIMEA"),
    (55, "HIP"),
    (56, "NINFO"),
    (57, "RKEY"),
    (58, "TALINK"),
    (59, "CDS"),
    (60, "CDNSKEY"),
    (61, "OPENPGPKEY"),
    (62, "CSYNC"),
    (63, "ZONEMD"),
    (64, "SVCB"),
    (65, "HTTPS"),
    (99, "SPF"),
    (100, "UINFO"),
    (101, "UID"),
    (102, "GID"),
    (103, "UNSPEC"),
    (104, "NID"),
    (105, "L32"),
    (106, "L64"),
    (107, "LP"),
    (108, "EUI48"),
    (109, "EUI64"),
    (249, "TKEY"),
    (250, "TSIG"),
    (251, "IXFR"),
    (252, "AXFR"),
    (253, "MAILB"),
    (254, "MAILA"),
    (255, "ANY"),
    (256, "URI"),
    (257, "CAA"),
    (258, "AVC"),
    (259, "DOA"),
    (260, "AMTRELAY"),
    (32768, "TA"),
    (32769, "DLV"),
];

const DNS_CLASSES: &[(u32, &str)] = &[(1, "IN"), (3, "CH"), (4, "HS"), (254, "NONE"), (255, "ANY")];

const DNS_RCODES: &[(u32, &str)] = &[
    (0, "NOERROR"),
    (1, "FORMERR"),
    (2, "SERVFAIL"),
    (3, "NXDOMAIN"),
    (4, "NOTIMP"),
    (5, "REFUSED"),
    (6, "YXDOMAIN"),
    (7, "YXRRSET"),
    (8, "NXRRSET"),
    (9, "NOTAUTH"),
    (10, "NOTZONE"),
    (11, "DSOTYPENI"),
];

const DNS_OPCODES: &[(u32, &str)] =
    &[(0, "QUERY"), (1, "IQUERY"), (2, "STATUS"), (4, "NOTIFY"), (5, "UPDATE"), (6, "DSO")];

const IP_PROTOCOLS: &[(u32, &str)] = &[
    (1, "ICMP"),
    (2, "IGMP"),
    (4, "IPv4"),
    (6, "TCP"),
    (8, "EGP"),
    (17, "UDP"),
    (41, "IPv6"),
    (46, "RSVP"),
    (47, "GRE"),
    (50, "ESP"),
    (51, "AH"),
    (58, "ICMPv6"),
    (88, "EIGRP"),
    (89, "OSPF"),
    (103, "PIM"),
    (112, "VRRP"),
    (115, "L2TP"),
    (132, "SCTP"),
    (136, "UDPLite"),
    (137, "MPLS-in-IP"),
];

/// A proto enum value's name without the enum's name in front
/// (`TERMINATION_REASON_FIN` of `TerminationReason` is `FIN`), as protobuf
/// style prefixes every value with it.
pub(crate) fn short_enum_name<'a>(enum_name: &str, value_name: &'a str) -> &'a str {
    let mut prefix = String::with_capacity(enum_name.len() + 8);
    let mut previous_lower = false;
    for c in enum_name.chars() {
        if c.is_ascii_uppercase() && previous_lower {
            prefix.push('_');
        }
        prefix.push(c.to_ascii_uppercase());
        previous_lower = c.is_ascii_lowercase();
    }
    prefix.push('_');
    match value_name.strip_prefix(prefix.as_str()) {
        // A name that would start with a digit keeps its prefix.
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_alphabetic()) => rest,
        _ => value_name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for table in [DNS_TYPES, DNS_CLASSES, DNS_RCODES, DNS_OPCODES, IP_PROTOCOLS] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }

    #[test]
    fn codes_have_their_registry_names() {
        let name = |r: Registry, c: u64| r.name(c).map(|n| n.into_owned());
        assert_eq!(name(Registry::DnsType, 1).as_deref(), Some("A"));
        assert_eq!(name(Registry::DnsType, 28).as_deref(), Some("AAAA"));
        assert_eq!(name(Registry::DnsType, 65).as_deref(), Some("HTTPS"));
        assert_eq!(name(Registry::DnsType, 54), None);
        assert_eq!(name(Registry::DnsType, u64::MAX), None);
        assert_eq!(name(Registry::DnsRcode, 3).as_deref(), Some("NXDOMAIN"));
        assert_eq!(name(Registry::DnsClass, 1).as_deref(), Some("IN"));
        assert_eq!(name(Registry::TlsVersion, 0x0303).as_deref(), Some("TLSv12"));
        assert_eq!(name(Registry::TlsVersion, 0x7f17).as_deref(), Some("TLSv13-draft23"));
        assert_eq!(name(Registry::TlsVersion, 0x2a2a).as_deref(), Some("GREASE"));
        assert_eq!(name(Registry::TlsCipher, 0x1301).as_deref(), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(name(Registry::TlsCipher, 49199).as_deref(), Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"));
        assert_eq!(name(Registry::TlsCipher, 0xfafa).as_deref(), Some("GREASE"));
        assert_eq!(name(Registry::TlsCipher, 0x0a0b), None);
        assert_eq!(name(Registry::IpProtocol, 58).as_deref(), Some("ICMPv6"));
    }

    #[test]
    fn fields_map_to_registries() {
        assert_eq!(registry("DNSQuestion", "type"), Some(Registry::DnsType));
        assert_eq!(registry("MDNS", "rcode"), Some(Registry::DnsRcode));
        assert_eq!(registry("NetBIOSNameService", "rcode"), None);
        assert_eq!(registry("TLSServerHello", "cipher_suite"), Some(Registry::TlsCipher));
        assert_eq!(registry("TLSClientHello", "supported_versions"), Some(Registry::TlsVersion));
        assert_eq!(registry("QUICInitial", "version"), None);
        assert_eq!(registry("QUICInitial", "supported_versions"), Some(Registry::TlsVersion));
        assert_eq!(registry("TCP", "window"), None);
    }

    #[test]
    fn enum_value_names_lose_the_enum_prefix() {
        assert_eq!(short_enum_name("TerminationReason", "TERMINATION_REASON_FIN"), "FIN");
        assert_eq!(short_enum_name("TerminationReason", "TERMINATION_REASON_IDLE_TIMEOUT"), "IDLE_TIMEOUT");
        assert_eq!(short_enum_name("Direction", "DIRECTION_CLIENT_TO_SERVER"), "CLIENT_TO_SERVER");
        assert_eq!(short_enum_name("Direction", "OTHER"), "OTHER");
        assert_eq!(short_enum_name("Version", "VERSION_1"), "VERSION_1");
    }
}
