//! Suricata fast.log (Netcap's labeller reads this format):
//!
//! ```text
//! 07/05/2017-14:34:37.123456  [**] [1:2016683:6] ET TROJAN Sakurel [**] [Classification: A Network Trojan was detected] [Priority: 1] {TCP} 192.168.10.5:49162 -> 198.51.100.1:80
//! ```
//!
//! Times are the sensor's civil time without a zone: taken in the zone
//! given (UTC unless `-tz` says otherwise). fast.log has no community ID, so
//! its alerts join by protocol and endpoints. IPv6 addresses are written by
//! Suricata in full (eight groups), the port after a ninth colon; `[addr]:port`
//! is read too.

use crate::error::LabelError;
use crate::lines::for_each_line;
use crate::net::protocol_number;
use crate::time::parse_fast_log_time;
use crate::truth::{Alert, GroundTruth, NO_SEVERITY, Source};
use jiff::tz::TimeZone;
use std::io::Read;
use std::net::IpAddr;
use std::path::Path;

/// Parses one line; `Ok(None)` for a blank line.
pub fn parse_line(text: &str, zone: &TimeZone, file: usize, line: u64) -> Result<Option<Alert>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (time, rest) = text.split_once(char::is_whitespace).ok_or("not a fast.log alert line")?;
    let time_ns = parse_fast_log_time(time, zone)?;
    let rest = rest.trim_start();
    // Inline (IPS) mode puts an action before the first [**].
    let rest = rest.strip_prefix("[Drop]").or_else(|| rest.strip_prefix("[wDrop]")).unwrap_or(rest).trim_start();
    let rest = rest.strip_prefix("[**]").ok_or("expected [**] after the time")?.trim_start();
    let rest = rest.strip_prefix('[').ok_or("expected [gid:sid:rev]")?;
    let (ids, rest) = rest.split_once(']').ok_or("expected [gid:sid:rev]")?;
    let mut parts = ids.split(':');
    let mut number = |what: &str| -> Result<u64, String> {
        parts.next().and_then(|p| p.trim().parse().ok()).ok_or_else(|| format!("invalid {what} in [{ids}]"))
    };
    let gid = u32::try_from(number("gid")?).map_err(|_| format!("invalid gid in [{ids}]"))?;
    let signature_id = number("signature id")?;
    let rev = u32::try_from(number("rev")?).map_err(|_| format!("invalid rev in [{ids}]"))?;
    let (signature, rest) = rest.split_once("[**]").ok_or("expected [**] after the signature")?;
    let mut rest = rest.trim_start();
    let mut category = String::new();
    let mut severity = NO_SEVERITY;
    if let Some(after) = rest.strip_prefix("[Classification:") {
        let (value, after) = after.split_once(']').ok_or("unterminated [Classification: ...]")?;
        let value = value.trim();
        if value != "(null)" {
            category = value.to_owned();
        }
        rest = after.trim_start();
    }
    if let Some(after) = rest.strip_prefix("[Priority:") {
        let (value, after) = after.split_once(']').ok_or("unterminated [Priority: ...]")?;
        severity = value.trim().parse().map_err(|_| format!("invalid priority {:?}", value.trim()))?;
        rest = after.trim_start();
    }
    let rest = rest.strip_prefix('{').ok_or("expected {PROTOCOL}")?;
    let (proto_name, rest) = rest.split_once('}').ok_or("expected {PROTOCOL}")?;
    let proto = protocol_number(proto_name).ok_or_else(|| format!("unknown protocol {proto_name:?}"))?;
    let (src, dst) = rest.split_once("->").ok_or("expected SRC -> DST")?;
    Ok(Some(Alert {
        source: Source::Fast,
        file,
        line,
        time_ns,
        gid,
        signature_id,
        rev,
        signature: signature.trim().to_owned(),
        category,
        severity,
        flow_id: None,
        community_id: None,
        proto: Some(proto),
        src: Some(endpoint(src)?),
        dst: Some(endpoint(dst)?),
    }))
}

/// `1.2.3.4:80`, `1.2.3.4`, `2001:0db8:0000:0000:0000:0000:0000:0001:80`
/// (Suricata's full IPv6 form), `[2001:db8::1]:80`.
fn endpoint(text: &str) -> Result<(IpAddr, u16), String> {
    let text = text.trim();
    let bad = || format!("invalid endpoint {text:?}");
    let port = |p: &str| p.parse::<u16>().map_err(|_| bad());
    if let Some(rest) = text.strip_prefix('[') {
        let (addr, after) = rest.split_once(']').ok_or_else(bad)?;
        let addr = addr.parse().map_err(|_| bad())?;
        return match after.strip_prefix(':') {
            Some(p) => Ok((addr, port(p)?)),
            None if after.is_empty() => Ok((addr, 0)),
            None => Err(bad()),
        };
    }
    let colons = text.matches(':').count();
    if colons == 1 || colons == 8 {
        let (addr, p) = text.rsplit_once(':').ok_or_else(bad)?;
        return Ok((addr.parse().map_err(|_| bad())?, port(p)?));
    }
    // An address without a port (or an IPv6 form Suricata does not write).
    Ok((text.parse().map_err(|_| bad())?, 0))
}

/// Reads a fast.log file into `truth`, its times in `zone`.
pub fn read<R: Read>(path: &Path, input: R, zone: &TimeZone, truth: &mut GroundTruth) -> Result<(), LabelError> {
    let file = truth.files.len();
    truth.files.push(path.to_owned());
    for_each_line(path, input, true, |line, text| {
        if let Some(alert) = parse_line(text, zone, file, line).map_err(|m| LabelError::input(path, line, m))? {
            truth.alerts.push(alert);
        }
        Ok(())
    })
}

/// Fuzzing entry point: parses arbitrary bytes as fast.log lines.
pub fn fuzz_entry(data: &[u8]) {
    let mut truth = GroundTruth::default();
    let _ = read(Path::new("fuzz"), data, &TimeZone::UTC, &mut truth);
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "07/05/2017-14:34:37.123456  [**] [1:2016683:6] ET TROJAN Sakurel [Checkin] [**] [Classification: A Network Trojan was detected] [Priority: 1] {TCP} 192.168.10.5:49162 -> 198.51.100.1:80";

    #[test]
    fn alert_fields() {
        let alert = parse_line(LINE, &TimeZone::UTC, 2, 9).unwrap().unwrap();
        assert_eq!(alert.source, Source::Fast);
        assert_eq!((alert.file, alert.line), (2, 9));
        assert_eq!(alert.time_ns, 1_499_265_277_123_456_000);
        assert_eq!((alert.gid, alert.signature_id, alert.rev), (1, 2016683, 6));
        assert_eq!(alert.signature, "ET TROJAN Sakurel [Checkin]");
        assert_eq!(alert.category, "A Network Trojan was detected");
        assert_eq!(alert.severity, 1);
        assert_eq!(alert.proto, Some(6));
        assert_eq!(alert.src, Some(("192.168.10.5".parse().unwrap(), 49162)));
        assert_eq!(alert.dst, Some(("198.51.100.1".parse().unwrap(), 80)));
        assert_eq!(alert.community_id, None);
    }

    #[test]
    fn variants_suricata_writes() {
        let v6 = "07/05/2017-14:34:37.123456  [Drop] [**] [1:2:3] msg [**] [Classification: (null)] [Priority: 3] {IPv6-ICMP} fe80:0000:0000:0000:0000:0000:0000:0001:135 -> ff02:0000:0000:0000:0000:0000:0000:0001:0";
        let alert = parse_line(v6, &TimeZone::UTC, 0, 1).unwrap().unwrap();
        assert_eq!(alert.category, "");
        assert_eq!(alert.proto, Some(58));
        assert_eq!(alert.src, Some(("fe80::1".parse().unwrap(), 135)));
        assert_eq!(alert.dst, Some(("ff02::1".parse().unwrap(), 0)));
        let no_class = "07/05/2017-14:34:37.123456  [**] [1:2:3] msg [**] {UDP} [2001:db8::1]:53 -> 10.0.0.1:5353";
        let alert = parse_line(no_class, &TimeZone::UTC, 0, 1).unwrap().unwrap();
        assert_eq!(alert.severity, NO_SEVERITY);
        assert_eq!(alert.src, Some(("2001:db8::1".parse().unwrap(), 53)));
        let berlin = crate::time::parse_zone("Europe/Berlin").unwrap();
        let alert = parse_line(LINE, &berlin, 0, 1).unwrap().unwrap();
        assert_eq!(alert.time_ns, 1_499_265_277_123_456_000 - 7200 * 1_000_000_000);
    }

    #[test]
    fn malformed_lines_name_the_problem() {
        let err = |text: &str| parse_line(text, &TimeZone::UTC, 0, 1).unwrap_err();
        assert!(err("hello world").contains("invalid fast.log time"));
        assert_eq!(err(&LINE.replace("[1:2016683:6]", "[1:x:6]")), "invalid signature id in [1:x:6]");
        assert!(err(&LINE.replace("{TCP}", "{XTP}")).contains("unknown protocol"));
        assert!(err(&LINE.replace(" -> ", " to ")).contains("SRC -> DST"));
        assert!(err(&LINE.replace(":80", ":80000")).contains("invalid endpoint"));
        let mut truth = GroundTruth::default();
        let text = format!("{LINE}\n\ngarbage here\n");
        let e = read(Path::new("fast.log"), text.as_bytes(), &TimeZone::UTC, &mut truth).unwrap_err();
        assert!(e.to_string().starts_with("fast.log:3: "), "{e}");
    }

    #[test]
    fn every_cut_parses_or_fails_cleanly() {
        for cut in 0..=LINE.len() {
            let _ = parse_line(&LINE[..cut], &TimeZone::UTC, 0, 1);
        }
        fuzz_entry(b"07/05/2017-14:34:37.1 [**] [1:1:1] \xff [**] {TCP} 1.2.3.4:1 -> 5.6.7.8:2\n");
    }
}
