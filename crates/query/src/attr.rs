//! Group-by attributes, IP protocol names, and the number formats of the
//! condition language.

use std::fmt;

/// An attribute results can be grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    /// Client (initiator) address.
    Sip,
    /// Server address.
    Dip,
    /// Client port (ICMP: type).
    Sport,
    /// Server port (ICMP: code).
    Dport,
    /// IP protocol.
    Proto,
    /// Application protocol (`Connection.application_protocol`).
    App,
}

/// Error in a list of group-by attributes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeError {
    #[error("unknown attribute {0:?} (known: sip, dip, sport, dport, proto, app; presets: {PRESETS})")]
    Unknown(String),
    #[error("no attributes to group by")]
    Empty,
}

const PRESETS: &str = "talk_conv, talk_src, talk_dst, apps_port, agg_talk_port, raw";

impl Attribute {
    pub const ALL: [Attribute; 6] =
        [Attribute::Sip, Attribute::Dip, Attribute::Sport, Attribute::Dport, Attribute::Proto, Attribute::App];

    /// Column name.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Sip => "sip",
            Attribute::Dip => "dip",
            Attribute::Sport => "sport",
            Attribute::Dport => "dport",
            Attribute::Proto => "proto",
            Attribute::App => "app",
        }
    }

    /// Parses a comma-separated list of attributes and goProbe's presets
    /// (`talk_conv` = sip,dip; `apps_port` = dport,proto; ...), keeping the
    /// first occurrence of each attribute in the order given.
    pub fn parse_list(list: &str) -> Result<Vec<Attribute>, AttributeError> {
        let mut out = Vec::new();
        for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            use Attribute::*;
            let attrs: &[Attribute] = match name.to_ascii_lowercase().as_str() {
                "sip" | "src" | "src_ip" => &[Sip],
                "dip" | "dst" | "dst_ip" => &[Dip],
                "sport" | "src_port" => &[Sport],
                "dport" | "dst_port" => &[Dport],
                "proto" | "protocol" | "ip_protocol" => &[Proto],
                "app" | "application" | "application_protocol" => &[App],
                "talk_conv" => &[Sip, Dip],
                "talk_src" => &[Sip],
                "talk_dst" => &[Dip],
                "apps_port" => &[Dport, Proto],
                "agg_talk_port" => &[Sip, Dip, Dport, Proto],
                "raw" => &[Sip, Dip, Sport, Dport, Proto, App],
                _ => return Err(AttributeError::Unknown(name.to_string())),
            };
            for attr in attrs {
                if !out.contains(attr) {
                    out.push(*attr);
                }
            }
        }
        if out.is_empty() {
            return Err(AttributeError::Empty);
        }
        Ok(out)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// IANA protocol numbers by the names people type.
const PROTOCOLS: &[(&str, u8)] = &[
    ("icmp", 1),
    ("igmp", 2),
    ("ipip", 4),
    ("tcp", 6),
    ("egp", 8),
    ("udp", 17),
    ("ipv6", 41),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("icmp6", 58),
    ("eigrp", 88),
    ("ospf", 89),
    ("pim", 103),
    ("vrrp", 112),
    ("l2tp", 115),
    ("sctp", 132),
    ("udplite", 136),
];

/// A protocol number from a decimal number or a name, ignoring case.
pub fn ip_protocol_number(text: &str) -> Option<u8> {
    if let Ok(n) = text.parse::<u8>() {
        return Some(n);
    }
    PROTOCOLS.iter().find(|(name, _)| name.eq_ignore_ascii_case(text)).map(|(_, n)| *n)
}

/// Display name of an IP protocol: the usual upper-case name where there is
/// one, else the number.
pub fn ip_protocol_name(number: u8) -> std::borrow::Cow<'static, str> {
    match number {
        1 => "ICMP".into(),
        2 => "IGMP".into(),
        4 => "IPIP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        41 => "IPv6".into(),
        47 => "GRE".into(),
        50 => "ESP".into(),
        51 => "AH".into(),
        58 => "ICMPv6".into(),
        89 => "OSPF".into(),
        103 => "PIM".into(),
        112 => "VRRP".into(),
        132 => "SCTP".into(),
        n => n.to_string().into(),
    }
}

/// A count with an optional decimal suffix: `1500`, `1.5k`, `2M`, `1G`,
/// `3T` (powers of 1000).
pub fn parse_count(text: &str) -> Result<u64, String> {
    let reason = || "expected a whole number, optionally with a suffix k, M, G or T (powers of 1000)".to_string();
    let (number, scale) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let scale: u64 = match c {
                'k' | 'K' => 1_000,
                'm' | 'M' => 1_000_000,
                'g' | 'G' => 1_000_000_000,
                't' | 'T' => 1_000_000_000_000,
                _ => return Err(reason()),
            };
            (&text[..i], scale)
        }
        _ => (text, 1),
    };
    scaled(number, scale).ok_or_else(reason)
}

/// A duration in nanoseconds: a number with a unit `ns`, `us`, `ms`, `s`,
/// `m`, `h` or `d`; a bare number is seconds.
pub fn parse_duration_ns(text: &str) -> Result<u64, String> {
    let split = text.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale: u64 = match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err("expected a number with a unit ns, us, ms, s, m, h or d (seconds if none)".into()),
    };
    scaled(number, scale).ok_or_else(|| "expected a non-negative number with an optional unit".into())
}

/// `number × scale` for a non-negative decimal number, if the result is a
/// whole number that fits.
fn scaled(number: &str, scale: u64) -> Option<u64> {
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let mut value = whole.checked_mul(scale)?;
    // Exact decimal arithmetic, so that "1.5k" is 1500 and not 1499.
    let mut unit = scale;
    for digit in fraction.bytes() {
        if digit == b'.' {
            return None;
        }
        if !unit.is_multiple_of(10) {
            // Finer than the unit: accepted only if zero.
            if digit != b'0' {
                return None;
            }
            continue;
        }
        unit /= 10;
        value = value.checked_add(u64::from(digit - b'0') * unit)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_presets() {
        use Attribute::*;
        assert_eq!(Attribute::parse_list("sip,dport").unwrap(), vec![Sip, Dport]);
        assert_eq!(Attribute::parse_list(" DIP , sip ,dip").unwrap(), vec![Dip, Sip]);
        assert_eq!(Attribute::parse_list("talk_conv").unwrap(), vec![Sip, Dip]);
        assert_eq!(Attribute::parse_list("apps_port,app").unwrap(), vec![Dport, Proto, App]);
        assert_eq!(Attribute::parse_list("raw").unwrap(), Attribute::ALL.to_vec());
        assert_eq!(Attribute::parse_list("sip,bogus"), Err(AttributeError::Unknown("bogus".into())));
        assert_eq!(Attribute::parse_list(" , "), Err(AttributeError::Empty));
    }

    #[test]
    fn protocols() {
        assert_eq!(ip_protocol_number("TCP"), Some(6));
        assert_eq!(ip_protocol_number("255"), Some(255));
        assert_eq!(ip_protocol_number("256"), None);
        assert_eq!(ip_protocol_number("ICMPv6"), Some(58));
        assert_eq!(ip_protocol_name(17), "UDP");
        assert_eq!(ip_protocol_name(200), "200");
    }

    #[test]
    fn counts_and_durations() {
        assert_eq!(parse_count("1500"), Ok(1500));
        assert_eq!(parse_count("1.5k"), Ok(1500));
        assert_eq!(parse_count("2M"), Ok(2_000_000));
        assert_eq!(parse_count(".5G"), Ok(500_000_000));
        assert!(parse_count("1.5").is_err());
        assert_eq!(parse_count("1.0"), Ok(1));
        assert!(parse_count("k").is_err() && parse_count("1x").is_err() && parse_count("-1").is_err());
        assert!(parse_count("99999999999T").is_err());
        assert!(parse_count("1.2.3").is_err() && parse_count(".").is_err());
        assert_eq!(parse_duration_ns("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration_ns("250ms"), Ok(250_000_000));
        assert_eq!(parse_duration_ns("2m"), Ok(120_000_000_000));
        assert_eq!(parse_duration_ns("3"), Ok(3_000_000_000));
        assert!(parse_duration_ns("1.5ns").is_err());
        assert!(parse_duration_ns("1w").is_err() && parse_duration_ns("s").is_err());
    }
}
