//! Times for `-first` and `-last`, in the forms goProbe's goQuery accepts
//! where they make sense, without a date crate.

use netcap_records::civil::{civil_from_days, days_from_civil};

const NS: i64 = 1_000_000_000;

/// A time value that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid time {0:?}: use Unix seconds (1456428575), RFC 3339 (2016-02-25T19:29:35Z), \
     2016-02-25 19:29[:35] (UTC unless an offset such as +01:00 follows), 25.02.2016 19:29[:35], \
     a date, or a time relative to now such as -1h30m or -7d"
)]
pub struct TimeError(pub String);

/// Parses a time into Unix nanoseconds. Relative times (`-90s`, `-1h30m`,
/// `-7d`, `now`) count back from `now_ns`.
pub fn parse_time(text: &str, now_ns: i64) -> Result<i64, TimeError> {
    let err = || TimeError(text.to_string());
    let t = text.trim();
    if t.eq_ignore_ascii_case("now") {
        return Ok(now_ns);
    }
    if let Some(relative) = t.strip_prefix('-') {
        return relative_ns(relative).and_then(|ns| now_ns.checked_sub(ns)).ok_or_else(err);
    }
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && t.matches('.').count() <= 1 {
        return decimal_seconds_ns(t).ok_or_else(err);
    }
    absolute(t).ok_or_else(err)
}

/// `1h30m`, `7d`, `90s`, `2d3h` (units d, h, m, s, ms).
fn relative_ns(text: &str) -> Option<i64> {
    if text.is_empty() {
        return None;
    }
    let mut total: i64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "d" => 86_400 * NS,
            "h" => 3_600 * NS,
            "m" => 60 * NS,
            "s" => NS,
            "ms" => 1_000_000,
            _ => return None,
        };
        rest = &rest[unit_len..];
        total = total.checked_add(n.checked_mul(scale)?)?;
    }
    Some(total)
}

fn decimal_seconds_ns(text: &str) -> Option<i64> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || fraction.len() > 9 || fraction.contains('.') {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let mut nanos: i64 = 0;
    for (i, digit) in fraction.bytes().enumerate() {
        nanos += i64::from(digit - b'0') * 10i64.pow(8 - i as u32);
    }
    whole.checked_mul(NS)?.checked_add(nanos)
}

/// `YYYY-MM-DD[( |T)HH:MM[:SS[.frac]]][Z|±HH:MM]` or
/// `DD.MM.YYYY[ HH:MM[:SS]]`.
fn absolute(text: &str) -> Option<i64> {
    let (date, rest) = match text.find(['T', 't', ' ']) {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let (year, month, day) = if date.contains('.') {
        let mut parts = date.split('.');
        let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (number(y, 4)?, number(m, 2)?, number(d, 2)?)
    } else {
        let mut parts = date.split('-');
        let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        (number(y, 4)?, number(m, 2)?, number(d, 2)?)
    };
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut seconds = days_from_civil(year, month, day) * 86_400;
    let mut nanos = 0;
    if let Some(rest) = rest {
        let rest = rest.trim();
        // Offset: Z, or +HH:MM / -HH:MM after the time of day.
        let (clock, offset) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
            (clock.trim_end(), 0)
        } else if let Some(i) = rest.rfind(['+', '-']) {
            let sign = if rest.as_bytes()[i] == b'-' { -1 } else { 1 };
            let zone = &rest[i + 1..];
            let (h, m) = match zone.split_once(':') {
                Some(hm) => hm,
                None if zone.len() == 4 && zone.is_ascii() => zone.split_at(2),
                None => (zone, "00"),
            };
            let (h, m) = (number(h, 2)?, number(m, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            (rest[..i].trim_end(), sign * (h * 3600 + m * 60))
        } else {
            (rest, 0)
        };
        let mut parts = clock.split(':');
        let hour = number(parts.next()?, 2)?;
        let minute = number(parts.next()?, 2)?;
        let second = match parts.next() {
            Some(s) => {
                let (s, fraction) = s.split_once('.').unwrap_or((s, ""));
                if !fraction.is_empty() {
                    nanos = decimal_seconds_ns(&format!("0.{fraction}"))?;
                }
                number(s, 2)?
            }
            None => 0,
        };
        if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        seconds += hour * 3600 + minute * 60 + second - offset;
    }
    seconds.checked_mul(NS)?.checked_add(nanos)
}

/// A decimal number of exactly `digits` digits (or 1-2 digits when 2 are
/// expected, as in `1.3.2016`).
fn number(text: &str, digits: usize) -> Option<i64> {
    let ok = if digits == 2 { (1..=2).contains(&text.len()) } else { text.len() == digits };
    if !ok || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats Unix nanoseconds as `YYYY-MM-DD HH:MM:SS` UTC, as goQuery's
/// summary shows times.
pub fn format_time(unix_ns: i64) -> String {
    let secs = unix_ns.div_euclid(NS);
    let days = secs.div_euclid(86_400);
    let second_of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Formats Unix nanoseconds as RFC 3339 UTC with nine fraction digits.
pub fn format_rfc3339(unix_ns: i64) -> String {
    let nanos = unix_ns.rem_euclid(NS);
    format!("{}.{nanos:09}Z", format_time(unix_ns).replace(' ', "T"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_456_428_575 * NS; // 2016-02-25 19:29:35 UTC

    #[test]
    fn absolute_forms() {
        for text in [
            "1456428575",
            "2016-02-25T19:29:35Z",
            "2016-02-25 19:29:35",
            "2016-02-25 19:29:35 Z",
            "2016-02-25T20:29:35+01:00",
            "2016-02-25 17:29:35-02:00",
            "2016-02-25T20:29:35+0100",
            "25.02.2016 19:29:35",
        ] {
            assert_eq!(parse_time(text, 0), Ok(T), "{text}");
        }
        assert_eq!(parse_time("2016-02-25 19:29", 0), Ok(T - 35 * NS));
        assert_eq!(parse_time("25.02.2016 19:29", 0), Ok(T - 35 * NS));
        assert_eq!(parse_time("2016-02-25", 0), Ok(T - (19 * 3600 + 29 * 60 + 35) * NS));
        assert_eq!(parse_time("1.3.2016", 0), parse_time("2016-03-01", 0));
        assert_eq!(parse_time("1456428575.5", 0), Ok(T + NS / 2));
        assert_eq!(parse_time("2016-02-25T19:29:35.000000001Z", 0), Ok(T + 1));
        assert_eq!(parse_time("2016-02-29", 0), Ok(1_456_704_000 * NS));
        assert_eq!(parse_time("1969-12-31T23:59:59Z", 0), Ok(-NS));
        for bad in [
            "",
            "2016-02-30",
            "2015-02-29",
            "2016-13-01",
            "2016-02-25 24:00",
            "yesterday",
            "2016-02-25 19:29:35:1",
            "1.2.3.4",
            "-",
            "-5x",
            "-h",
            "2016-02-25T19:29:35+25:00",
            "1.2.3",
        ] {
            assert!(parse_time(bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn relative_forms() {
        assert_eq!(parse_time("now", T), Ok(T));
        assert_eq!(parse_time("-1h30m", T), Ok(T - 5400 * NS));
        assert_eq!(parse_time("-7d", T), Ok(T - 7 * 86_400 * NS));
        assert_eq!(parse_time("-90s", T), Ok(T - 90 * NS));
        assert_eq!(parse_time("-1500ms", T), Ok(T - 1_500_000_000));
    }

    #[test]
    fn formatting_round_trips() {
        assert_eq!(format_time(T), "2016-02-25 19:29:35");
        assert_eq!(format_rfc3339(T + 5), "2016-02-25T19:29:35.000000005Z");
        assert_eq!(format_time(-NS), "1969-12-31 23:59:59");
        for days in [-800_000, -1, 0, 59, 60, 365, 10_957, 20_000, 800_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
