//! A bounded classification of decode-failure reasons, for counting.
//!
//! An `Error` record keeps the full reason text ("Not enough data to decode
//! 'IPv4 header'. 20 byte(s) would be required, but only 9 ..."); counters
//! need a small fixed set of values instead. The class is read from the text
//! so that the counts a capture keeps and the counts read back from `Error`
//! records (`netcap export` over record files) are the same function of the
//! same string.

/// Why a layer failed to decode, coarsely.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ErrorReason {
    /// The capture holds fewer bytes than the header needs (snaplen, a
    /// damaged packet, a length field pointing past the data).
    Truncated,
    /// A length field contradicts the header it is in (an IPv4 IHL or TCP
    /// data offset below the minimum, a total length shorter than the header).
    BadLength,
    /// An IP version nibble that is not the one the layer expects.
    BadVersion,
    /// A limit netcap sets was exceeded (e.g. too many stacked VLAN tags).
    LimitExceeded,
    /// Any other invalid content.
    Malformed,
}

impl ErrorReason {
    pub const ALL: [ErrorReason; 5] = [
        ErrorReason::Truncated,
        ErrorReason::BadLength,
        ErrorReason::BadVersion,
        ErrorReason::LimitExceeded,
        ErrorReason::Malformed,
    ];

    /// Lower-case name, used as a metric label value.
    pub fn name(self) -> &'static str {
        match self {
            ErrorReason::Truncated => "truncated",
            ErrorReason::BadLength => "bad_length",
            ErrorReason::BadVersion => "bad_version",
            ErrorReason::LimitExceeded => "limit_exceeded",
            ErrorReason::Malformed => "malformed",
        }
    }

    /// The class of a reason text as the decoder writes it. The checks go
    /// from the most specific: etherparse's length errors mention the length
    /// field they went by, but are truncations.
    pub fn classify(reason: &str) -> ErrorReason {
        let has = |needle: &str| contains_ignore_case(reason, needle);
        if has("not enough data")
            || has("truncated")
            || has(" needs ")
            || has("no ipv4 header")
            || has("no ipv6 header")
            || has("empty ")
        {
            ErrorReason::Truncated
        } else if has("version") {
            ErrorReason::BadVersion
        } else if has("more than") {
            ErrorReason::LimitExceeded
        } else if has("length") || has("too small") || has("too big") || has("smaller than") || has("offset") {
            ErrorReason::BadLength
        } else {
            ErrorReason::Malformed
        }
    }
}

impl std::fmt::Display for ErrorReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// ASCII case-insensitive substring test; `needle` is lower case.
fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    n.is_empty() || h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::ErrorReason::{self, *};

    /// The texts the decoder writes, from its own messages and etherparse's.
    #[test]
    fn every_reason_text_has_its_class() {
        let cases = [
            (
                "Ethernet 2 Header Error: Not enough data to decode 'Ethernet 2 header'. 14 byte(s) would be \
                 required, but only 9 byte(s) are available based on the slice length.",
                Truncated,
            ),
            (
                "IPv4 Header Error: Not enough data to decode 'IPv4 header'. 20 byte(s) would be required, but \
                 only 9 byte(s) are available based on the length calculated from the IPv4 header 'total length' \
                 field.",
                Truncated,
            ),
            ("Linux SLL header needs 16 bytes, 3 captured", Truncated),
            ("ICMP header needs 4 bytes, 2 captured", Truncated),
            ("PPP header truncated", Truncated),
            ("no IPv4 header", Truncated),
            ("empty raw IP packet", Truncated),
            ("raw IP packet with version 5", BadVersion),
            (
                "IPv4 Header Error: Encountered '6' as IP version number in the IPv4 header (must be '4' in an \
                 IPv4 header).",
                BadVersion,
            ),
            ("more than 8 stacked VLAN tags", LimitExceeded),
            ("total length 12 is smaller than the 20-byte header", BadLength),
            (
                "IPv4 Header Error: The 'internet header length' value '2' present in the IPv4 header is smaller \
                 than the minimum size of an IPv4 header. The minimum allowed value is '5'.",
                BadLength,
            ),
            (
                "TCP Header Error: 'data offset' too small (1). The 'data offset' must be at least 5 so the data \
                 is not overlapping with the TCP header itself.",
                BadLength,
            ),
            (
                "IP Authentication Header Error: Payload Length too small (0). The payload length must be at \
                 least 1.",
                BadLength,
            ),
            (
                "IPv6 Extension Header Error: Encountered an IPv6 hop-by-hop header not directly after the IPv6 \
                 header. This is not allowed according to RFC 8200.",
                Malformed,
            ),
            ("Hardware address size is expected to be 6 but is 21", Malformed),
            ("", Malformed),
        ];
        for (text, class) in cases {
            assert_eq!(ErrorReason::classify(text), class, "{text}");
        }
    }

    #[test]
    fn names_are_distinct_label_values() {
        let mut names: Vec<_> = ErrorReason::ALL.iter().map(|r| r.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorReason::ALL.len());
        assert!(names.iter().all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
        assert_eq!(ErrorReason::ALL.iter().position(|r| *r == ErrorReason::Malformed), Some(4));
    }

    #[test]
    fn classification_ignores_case_and_survives_any_text() {
        assert_eq!(ErrorReason::classify("NOT ENOUGH DATA"), Truncated);
        assert_eq!(ErrorReason::classify("ünïcödé … \u{0}"), Malformed);
    }
}
