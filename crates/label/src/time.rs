//! Times of ground truth: instants with explicit offsets or zones, civil
//! times in a zone the user names, and the zone names themselves.
//!
//! Every instant becomes Unix nanoseconds (as records hold them). IANA zone
//! names resolve against the zone database compiled into the binary (jiff's
//! bundled copy), so a schedule means the same on every machine. A civil
//! time that a zone's clock shows twice (the hour repeated when summer time
//! ends) or never (the hour skipped) is resolved as jiff's "compatible" rule
//! says: the earlier of two, the later across a gap, as RFC 5545 does.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::{SignedDuration, Timestamp, ZonedDateTime};

/// Nanoseconds per second.
pub const NS_PER_SEC: i64 = 1_000_000_000;

/// A time zone given with `-tz` or in a schedule: an IANA name
/// (`America/Halifax`), `UTC`/`Z`, or a fixed offset (`+02:00`, `-0300`,
/// `+05`).
pub fn parse_zone(text: &str) -> Result<TimeZone, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("utc") || text == "Z" || text == "z" {
        return Ok(TimeZone::UTC);
    }
    if let Some(offset) = parse_offset(text) {
        return offset.map(TimeZone::fixed);
    }
    TimeZone::get(text).map_err(|_| {
        format!(
            "unknown time zone {text:?} (give an IANA name such as Europe/Berlin, UTC, or an offset such as +02:00)"
        )
    })
}

/// `±HH`, `±HHMM` or `±HH:MM`; `None` if `text` is not shaped like one.
fn parse_offset(text: &str) -> Option<Result<Offset, String>> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || rest.matches(':').count() > 1 {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.parse::<i32>().ok()?, 0),
        4 => (digits[..2].parse::<i32>().ok()?, digits[2..].parse::<i32>().ok()?),
        _ => return None,
    };
    if hours > 23 || minutes > 59 {
        return Some(Err(format!("offset {text:?} is out of range")));
    }
    Some(Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).map_err(|e| format!("offset {text:?}: {e}")))
}

/// Unix nanoseconds of a jiff timestamp, if they fit an i64 (years 1678
/// to 2262).
fn unix_ns(ts: Timestamp) -> Result<i64, String> {
    i64::try_from(ts.as_nanosecond()).map_err(|_| format!("{ts} is outside the years 1678-2262"))
}

/// An instant with an explicit time zone: RFC 3339 / ISO 8601 with an
/// offset (`2017-07-05T14:34:37.123456+0000`, `...Z`, `...-03:00`), an
/// RFC 9557 zone annotation (`2017-07-05T11:34:37[America/Halifax]`), or
/// Unix seconds (`1499265277.5`). A civil time without either takes
/// `zone` if given, else it is an error: a time zone is never guessed.
pub fn parse_instant(text: &str, zone: Option<&TimeZone>) -> Result<i64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty time".into());
    }
    if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') && text.bytes().filter(|&b| b == b'.').count() <= 1 {
        return parse_unix_seconds(text);
    }
    if text.contains('[') {
        return text
            .parse::<ZonedDateTime>()
            .map_err(|e| format!("invalid time {text:?}: {e}"))
            .and_then(|z| unix_ns(z.timestamp()));
    }
    match text.parse::<Timestamp>() {
        Ok(ts) => unix_ns(ts),
        Err(with_offset) => {
            // Suricata writes offsets without a colon (+0000), which
            // RFC 3339 does not allow; strptime reads them.
            if let Ok(ts) = jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%.f%z", text).and_then(|t| t.to_timestamp()) {
                return unix_ns(ts);
            }
            let Ok(civil) = text.parse::<DateTime>() else {
                return Err(format!("invalid time {text:?}: {with_offset}"));
            };
            civil_in_zone(civil, zone, text)
        }
    }
}

/// A civil time in `zone`, or an error saying a zone is needed.
pub fn civil_in_zone(civil: DateTime, zone: Option<&TimeZone>, text: &str) -> Result<i64, String> {
    let Some(zone) = zone else {
        return Err(format!(
            "time {text:?} has no time zone: add an offset (e.g. {text}+02:00 or {text}Z) or give the zone (-tz, or timezone: in a schedule)"
        ));
    };
    zone.to_timestamp(civil).map_err(|e| format!("time {text:?} in {}: {e}", zone_name(zone))).and_then(unix_ns)
}

fn parse_unix_seconds(text: &str) -> Result<i64, String> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let seconds: i64 = whole.parse().map_err(|_| format!("invalid Unix time {text:?}"))?;
    let mut nanos: i64 = 0;
    for (i, digit) in fraction.bytes().enumerate() {
        if i < 9 {
            nanos = nanos * 10 + i64::from(digit - b'0');
        }
    }
    for _ in fraction.len()..9 {
        nanos *= 10;
    }
    seconds
        .checked_mul(NS_PER_SEC)
        .and_then(|ns| ns.checked_add(nanos))
        .ok_or_else(|| format!("Unix time {text:?} is out of range"))
}

/// Suricata fast.log's `MM/DD/YYYY-HH:MM:SS.ffffff`, a civil time of the
/// sensor's clock, in `zone`.
pub fn parse_fast_log_time(text: &str, zone: &TimeZone) -> Result<i64, String> {
    let civil = jiff::fmt::strtime::parse("%m/%d/%Y-%H:%M:%S%.f", text)
        .and_then(|t| t.to_datetime())
        .map_err(|_| format!("invalid fast.log time {text:?} (expected MM/DD/YYYY-HH:MM:SS.ffffff)"))?;
    civil_in_zone(civil, Some(zone), text)
}

/// A timestamp of a CIC-IDS-style flow label file and its resolution:
/// `DD/MM/YYYY HH:MM:SS` or `DD/MM/YYYY H:MM` (day first, as those files
/// write it), or any form [`parse_instant`] reads. The resolution is what
/// the text leaves open (60 s for minutes, 1 s for seconds, 0 otherwise),
/// so that a window covers the whole minute the file means.
pub fn parse_flow_file_time(text: &str, zone: Option<&TimeZone>) -> Result<(i64, i64), String> {
    let text = text.trim();
    for (format, resolution) in
        [("%d/%m/%Y %H:%M:%S", NS_PER_SEC), ("%d/%m/%Y %H:%M", 60 * NS_PER_SEC), ("%d/%m/%Y %I:%M:%S %p", NS_PER_SEC)]
    {
        if let Ok(civil) = jiff::fmt::strtime::parse(format, text).and_then(|t| t.to_datetime()) {
            return civil_in_zone(civil, zone, text).map(|ns| (ns, resolution));
        }
    }
    parse_instant(text, zone).map(|ns| (ns, 0))
}

/// `-slack` and similar durations: `1s`, `500ms`, `2m`, `1.5s`, `0`.
pub fn parse_duration(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if text == "0" {
        return Ok(0);
    }
    let duration: SignedDuration =
        text.parse().map_err(|_| format!("invalid duration {text:?} (examples: 1s, 500ms, 2m, 1.5s)"))?;
    if duration.is_negative() {
        return Err(format!("duration {text:?} is negative"));
    }
    i64::try_from(duration.as_nanos()).map_err(|_| format!("duration {text:?} is too long"))
}

/// A zone's name for messages: the IANA name, or its offset.
pub fn zone_name(zone: &TimeZone) -> String {
    zone.iana_name().map_or_else(|| format!("{:?}", zone), str::to_owned)
}

/// RFC 3339 UTC text of Unix nanoseconds, for the summary.
pub fn rfc3339(ns: i64) -> String {
    Timestamp::from_nanosecond(i128::from(ns)).map_or_else(|_| ns.to_string(), |ts| ts.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_499_265_277_123_456_000; // 2017-07-05T14:34:37.123456Z

    #[test]
    fn instants_with_offsets_and_zones() {
        assert_eq!(parse_instant("2017-07-05T14:34:37.123456+0000", None), Ok(T));
        assert_eq!(parse_instant("2017-07-05T14:34:37.123456Z", None), Ok(T));
        assert_eq!(parse_instant("2017-07-05T16:34:37.123456+02:00", None), Ok(T));
        assert_eq!(parse_instant("2017-07-05T11:34:37.123456-0300", None), Ok(T));
        // Halifax was on ADT (-03:00) in July.
        assert_eq!(parse_instant("2017-07-05T11:34:37.123456[America/Halifax]", None), Ok(T));
        assert_eq!(parse_instant("1499265277.123456", None), Ok(T));
        assert_eq!(parse_instant("1499265277", None), Ok(T - 123_456_000));
        let halifax = parse_zone("America/Halifax").unwrap();
        assert_eq!(parse_instant("2017-07-05T11:34:37.123456", Some(&halifax)), Ok(T));
        assert_eq!(parse_instant("2017-07-05 11:34:37.123456", Some(&halifax)), Ok(T));
        let err = parse_instant("2017-07-05T11:34:37", None).unwrap_err();
        assert!(err.contains("has no time zone"), "{err}");
        assert!(parse_instant("yesterday", None).is_err());
        assert!(parse_instant("", None).is_err());
        assert!(parse_instant("2017-07-05T11:34:37[Mars/Olympus]", None).is_err());
    }

    #[test]
    fn zones_by_name_and_offset() {
        let ts = Timestamp::from_second(1_499_265_277).unwrap();
        let offset = |z: &TimeZone| z.to_offset(ts).seconds();
        assert_eq!(offset(&parse_zone("UTC").unwrap()), 0);
        assert_eq!(offset(&parse_zone("+02:00").unwrap()), 7200);
        assert_eq!(offset(&parse_zone("-0330").unwrap()), -(3 * 3600 + 1800));
        assert_eq!(offset(&parse_zone("+05").unwrap()), 5 * 3600);
        assert_eq!(offset(&parse_zone("Europe/Berlin").unwrap()), 7200);
        let err = parse_zone("Europe/Atlantis").unwrap_err();
        assert!(err.contains("unknown time zone \"Europe/Atlantis\""), "{err}");
        assert!(parse_zone("+25:00").is_err());
    }

    #[test]
    fn fast_log_and_flow_file_times() {
        assert_eq!(parse_fast_log_time("07/05/2017-14:34:37.123456", &TimeZone::UTC), Ok(T));
        let berlin = parse_zone("Europe/Berlin").unwrap();
        assert_eq!(parse_fast_log_time("07/05/2017-16:34:37.123456", &berlin), Ok(T));
        assert!(parse_fast_log_time("2017-07-05 14:34", &TimeZone::UTC).is_err());
        let utc = Some(&TimeZone::UTC);
        let minute = T / NS_PER_SEC / 60 * 60 * NS_PER_SEC;
        assert_eq!(parse_flow_file_time("5/7/2017 14:34", utc), Ok((minute, 60 * NS_PER_SEC)));
        assert_eq!(parse_flow_file_time("05/07/2017 14:34:37", utc), Ok((T / NS_PER_SEC * NS_PER_SEC, NS_PER_SEC)));
        assert_eq!(parse_flow_file_time("05/07/2017 02:34:37 PM", utc), Ok((T / NS_PER_SEC * NS_PER_SEC, NS_PER_SEC)));
        assert!(parse_flow_file_time("5/7/2017 14:34", None).unwrap_err().contains("no time zone"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s"), Ok(NS_PER_SEC));
        assert_eq!(parse_duration("500ms"), Ok(NS_PER_SEC / 2));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("2m"), Ok(120 * NS_PER_SEC));
        assert_eq!(parse_duration("0"), Ok(0));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
