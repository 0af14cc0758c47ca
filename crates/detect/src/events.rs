//! NetWatcher's event lines and its rotating event log.
//!
//! A line is `<time> [ALERT] <src>:<sport> -> <dst>:<dport> (<PROTO>): <n>
//! packets, <b> bytes, <duration>` ([`event_line`]), as NetWatcher's
//! `pretty_print_flow` writes it, except that the time is the connection's
//! first packet in capture time, UTC (NetWatcher stamps the wall clock at
//! classification, local time; its own TODO says the flow start is meant).

use netcap_records::civil::civil_from_days;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Log size beyond which the event log rotates (NetWatcher: 5 MB).
pub const ROTATE_BYTES: u64 = 5 * 1024 * 1024;
/// Rotated event logs kept (NetWatcher: 10).
pub const KEEP_ROTATED: usize = 10;
/// Name of the event log in `-events DIR`.
pub const EVENT_LOG_NAME: &str = "detector_events.log";

/// What one event line says.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowEvent {
    pub alert: bool,
    pub timestamp_ns: i64,
    pub src: Option<IpAddr>,
    pub src_port: u32,
    pub dst: Option<IpAddr>,
    pub dst_port: u32,
    pub ip_protocol: u32,
    pub packets: u64,
    pub payload_bytes: u64,
    pub duration_ns: i64,
}

/// `YYYY-MM-DD HH:MM:SS` of a Unix ns time, UTC.
pub fn format_time(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// NetWatcher's duration text: `N ms` under a second (rounded), else `Ss
/// Mms` (milliseconds of the fraction rounded). Python's round() rounds
/// halves to even, and so does this.
pub fn format_duration(ns: i64) -> String {
    let s = ns.max(0) as f64 / 1e9;
    if s < 1.0 {
        format!("{} ms", (s * 1000.0).round_ties_even() as i64)
    } else {
        let whole = s.trunc();
        format!("{}s {}ms", whole as i64, ((s - whole) * 1000.0).round_ties_even() as i64)
    }
}

/// NetWatcher's protocol names (its `Protocol` enum), else the number.
pub fn protocol_name(p: u32) -> String {
    match p {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "IPv6_ICMP".into(),
        other => other.to_string(),
    }
}

fn endpoint(out: &mut String, ip: Option<IpAddr>, port: u32) {
    // Writing into a String cannot fail.
    let _ = match ip {
        Some(ip) => write!(out, "{ip}:{port}"),
        None => write!(out, "?:{port}"),
    };
}

/// One event line, without the newline.
pub fn event_line(e: &FlowEvent) -> String {
    let mut s = String::with_capacity(120);
    s.push_str(&format_time(e.timestamp_ns));
    s.push_str(if e.alert { " [ALERT] " } else { " [OK] " });
    endpoint(&mut s, e.src, e.src_port);
    s.push_str(" -> ");
    endpoint(&mut s, e.dst, e.dst_port);
    let _ = write!(
        s,
        " ({}): {} packets, {} bytes, {}",
        protocol_name(e.ip_protocol),
        e.packets,
        e.payload_bytes,
        format_duration(e.duration_ns)
    );
    s
}

/// An address from a record's bytes (4 or 16), if it is one.
pub fn ip_from_bytes(b: &[u8]) -> Option<IpAddr> {
    match b.len() {
        4 => <[u8; 4]>::try_from(b).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(b).ok().map(IpAddr::from),
        _ => None,
    }
}

/// `DIR/detector_events.log`, rotated when a line would take it past
/// [`ROTATE_BYTES`]: the log becomes `.1`, `.1` becomes `.2` and so on,
/// keeping [`KEEP_ROTATED`] (the oldest is removed). The disk use is so
/// bounded by 11 files of 5 MB.
pub struct RotatingLog {
    path: PathBuf,
    file: File,
    size: u64,
    /// Rotations done.
    pub rotations: u64,
}

impl RotatingLog {
    /// Opens (appends to) `dir/detector_events.log`, creating the directory.
    pub fn open(dir: &Path) -> std::io::Result<RotatingLog> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(EVENT_LOG_NAME);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(RotatingLog { path, file, size, rotations: 0 })
    }

    /// Path of the current log.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn rotated(&self, n: usize) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(format!(".{n}"));
        PathBuf::from(name)
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        self.file.flush()?;
        let _ = std::fs::remove_file(self.rotated(KEEP_ROTATED));
        for n in (1..KEEP_ROTATED).rev() {
            let from = self.rotated(n);
            if from.exists() {
                std::fs::rename(&from, self.rotated(n + 1))?;
            }
        }
        std::fs::rename(&self.path, self.rotated(1))?;
        self.file = OpenOptions::new().create(true).append(true).open(&self.path)?;
        self.size = 0;
        self.rotations += 1;
        Ok(())
    }

    /// Appends one line (a newline is added).
    pub fn write_line(&mut self, line: &str) -> std::io::Result<()> {
        let len = line.len() as u64 + 1;
        if self.size > 0 && self.size + len > ROTATE_BYTES {
            self.rotate()?;
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        self.file.write_all(&buf)?;
        self.size += len;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netwatcher_line_format() {
        // NetWatcher's README example: 9 packets, 0 bytes, 959.948 s.
        let e = FlowEvent {
            alert: true,
            timestamp_ns: 1_736_272_053_000_000_000,
            src: "192.168.1.103".parse().ok(),
            src_port: 1090,
            dst: "192.168.5.122".parse().ok(),
            dst_port: 143,
            ip_protocol: 6,
            packets: 9,
            payload_bytes: 0,
            duration_ns: 959_948_000_000,
        };
        assert_eq!(
            event_line(&e),
            "2025-01-07 17:47:33 [ALERT] 192.168.1.103:1090 -> 192.168.5.122:143 (TCP): 9 packets, 0 bytes, 959s 948ms"
        );
        let ok = FlowEvent { alert: false, ip_protocol: 17, duration_ns: 2_500_000, ..e.clone() };
        assert!(
            event_line(&ok).ends_with("[OK] 192.168.1.103:1090 -> 192.168.5.122:143 (UDP): 9 packets, 0 bytes, 2 ms")
        );
        let v6 = FlowEvent { src: "2001:db8::1".parse().ok(), ip_protocol: 58, ..e };
        assert!(event_line(&v6).contains("2001:db8::1:1090 -> "), "{}", event_line(&v6));
        assert!(event_line(&v6).contains("(IPv6_ICMP)"));
    }

    #[test]
    fn durations_round_like_python() {
        assert_eq!(format_duration(0), "0 ms");
        assert_eq!(format_duration(999_400_000), "999 ms");
        assert_eq!(format_duration(1_000_000_000), "1s 0ms");
        assert_eq!(format_duration(61_250_000_000), "61s 250ms");
        assert_eq!(format_duration(-5), "0 ms");
        assert_eq!(format_time(0), "1970-01-01 00:00:00");
        assert_eq!(format_time(-1), "1969-12-31 23:59:59");
    }

    #[test]
    fn log_rotates_and_keeps_ten() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = RotatingLog::open(dir.path()).unwrap();
        let line = "x".repeat(1024 * 1024 - 1);
        for _ in 0..(5 * 13) {
            log.write_line(&line).unwrap();
        }
        assert_eq!(log.rotations, 12);
        let mut names: Vec<String> =
            std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names.len(), 11, "{names:?}");
        assert!(names.contains(&"detector_events.log.10".to_string()));
        for n in &names {
            let len = std::fs::metadata(dir.path().join(n)).unwrap().len();
            assert!(len <= ROTATE_BYTES, "{n} {len}");
        }
    }
}
