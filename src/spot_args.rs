//! netspot's per-statistic flags (`-spot-r_syn-q 1e-4`, `-spot-pps-low`)
//! exist for every statistic and parameter; rather than declare each one,
//! they are rewritten into the repeatable `--spot-param STAT:PARAM=VALUE`
//! before clap sees the command line.

use std::ffi::OsString;

/// Parameters that take a value, and the boolean ones that may stand alone.
const VALUED: [&str; 8] = ["q", "level", "max-excess", "max_excess", "side", "n-init", "n_init", "depth"];
const SWITCHES: [&str; 4] = ["low", "up", "keep-anomalies", "keep_anomalies"];

/// Rewrites every `-spot-<stat>-<param>[=value]` (one or two dashes).
pub fn rewrite(args: Vec<OsString>) -> Vec<OsString> {
    let mut out = Vec::with_capacity(args.len());
    let mut iter = args.into_iter().peekable();
    while let Some(arg) = iter.next() {
        let Some(text) = arg.to_str() else {
            out.push(arg);
            continue;
        };
        let Some((stat, param, value)) = split(text) else {
            out.push(arg);
            continue;
        };
        let value = match value {
            Some(v) => v.to_string(),
            None if SWITCHES.contains(&param) => "true".to_string(),
            None => match iter.next() {
                Some(v) => v.to_string_lossy().into_owned(),
                // Missing value: let clap report it on the flag.
                None => String::new(),
            },
        };
        out.push("--spot-param".into());
        out.push(format!("{stat}:{param}={value}").into());
    }
    out
}

/// `(stat, param, value)` of a per-statistic flag.
fn split(arg: &str) -> Option<(&str, &'static str, Option<&str>)> {
    let body = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-'))?.strip_prefix("spot-")?;
    let (name, value) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v)),
        None => (body, None),
    };
    VALUED.iter().chain(SWITCHES.iter()).find_map(|&param| {
        let stat = name.strip_suffix(param)?.strip_suffix('-')?;
        (!stat.is_empty()).then_some((stat, param, value))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(args: &[&str]) -> Vec<String> {
        rewrite(args.iter().map(OsString::from).collect()).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn per_stat_flags_become_spot_params() {
        assert_eq!(
            rewritten(&["capture", "-spot-r_syn-q", "1e-4", "--spot-pps-low", "-spot-aps-max-excess=500", "-spot"]),
            [
                "capture",
                "--spot-param",
                "r_syn:q=1e-4",
                "--spot-param",
                "pps:low=true",
                "--spot-param",
                "aps:max-excess=500",
                "-spot"
            ]
        );
        // Flags that only look similar are left alone.
        assert_eq!(rewritten(&["-spot-stats", "PPS", "-spot-jsonl", "x"]), ["-spot-stats", "PPS", "-spot-jsonl", "x"]);
    }
}
