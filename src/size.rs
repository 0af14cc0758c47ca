//! Sizes and durations in flags: `512MB`, `2GiB`, `90s`, `1h`.

use anyhow::bail;
use std::time::Duration;

/// Bytes: a number with an optional unit (B, KB, MB, GB, TB: powers of
/// 1000; KiB, MiB, GiB, TiB: powers of 1024), case-insensitive.
pub fn parse_size(text: &str) -> anyhow::Result<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let Ok(number) = number.parse::<u64>() else { bail!("{text:?} is not a size (e.g. 512MB, 2GiB)") };
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "m" | "mb" => 1_000_000,
        "g" | "gb" => 1_000_000_000,
        "t" | "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        _ => bail!("{text:?} is not a size (e.g. 512MB, 2GiB)"),
    };
    number.checked_mul(factor).ok_or_else(|| anyhow::anyhow!("{text:?} is too large"))
}

/// A duration: a number with a unit s, m, h or d.
pub fn parse_duration(text: &str) -> anyhow::Result<Duration> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let Ok(number) = number.parse::<u64>() else { bail!("{text:?} is not a duration (e.g. 90s, 15m, 1h)") };
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("{text:?} is not a duration (e.g. 90s, 15m, 1h)"),
    };
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("512MB").unwrap(), 512_000_000);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("lots").is_err());
        assert_eq!(parse_duration("15m").unwrap(), Duration::from_secs(900));
        assert!(parse_duration("15").is_err());
    }
}
