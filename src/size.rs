//! Sizes in flags: `512MB`, `2GiB`.

use anyhow::bail;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("512MB").unwrap(), 512_000_000);
        assert_eq!(parse_size("2GiB").unwrap(), 2 << 30);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert!(parse_size("lots").is_err());
    }
}
