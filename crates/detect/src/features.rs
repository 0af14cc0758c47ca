//! NetWatcher's 36 flow features, computed from a Connection record.
//!
//! NetWatcher (github.com/NocturnalShadow/net-watcher, `src/flow_features.py`)
//! feeds its models 20 features of the whole flow, then 8 window features of
//! the backward direction (`bwd_`, server to client) and the same 8 of the
//! forward one (`fwd_`, client to server). Names and order here are exactly
//! its `flow_numeric_features`. Where netcap's record differs from
//! NetWatcher's definition the difference is said at [`netwatcher_features`]
//! and in docs/detect.md.

use netcap_records::Connection;

/// Number of NetWatcher features.
pub const FEATURE_COUNT: usize = 36;

/// Name of the feature set in model files.
pub const FEATURE_SET: &str = "netwatcher";

/// NetWatcher's feature names, in its model input order.
pub const FEATURE_NAMES: [&str; FEATURE_COUNT] = [
    "duration_s",
    "packets_count",
    "payload_bytes_total",
    "payload_bytes_min",
    "payload_bytes_max",
    "payload_bytes_std",
    "payload_bytes_min_nonzero",
    "payload_bytes_avg_nonzero",
    "payload_bytes_std_nonzero",
    "interarrival_time_s_min",
    "interarrival_time_s_max",
    "interarrival_time_s_std",
    "syn_count",
    "fin_count",
    "rst_count",
    "ack_count",
    "psh_count",
    "urg_count",
    "ece_count",
    "cwr_count",
    "bwd_window_size_min",
    "bwd_window_size_max",
    "bwd_window_size_avg",
    "bwd_window_size_std",
    "bwd_window_scaling_factor",
    "bwd_initial_window_size",
    "bwd_zero_window_count",
    "bwd_zero_window_update_count",
    "fwd_window_size_min",
    "fwd_window_size_max",
    "fwd_window_size_avg",
    "fwd_window_size_std",
    "fwd_window_scaling_factor",
    "fwd_initial_window_size",
    "fwd_zero_window_count",
    "fwd_zero_window_update_count",
];

/// One flow's features, in [`FEATURE_NAMES`] order.
pub type Features = [f64; FEATURE_COUNT];

/// Largest window-scale shift honoured (RFC 7323 section 2.3: a larger
/// shift is used as 14). NetWatcher raises 2 to any shift.
pub const MAX_WINDOW_SHIFT: u32 = 14;

/// The sample standard deviation (n - 1 in the denominator, Python's
/// `statistics.stdev`) from the population one over `n` values; 0 for
/// fewer than two values, as NetWatcher has it.
pub fn sample_std(population_std: f64, n: u64) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let n = n as f64;
    population_std * (n / (n - 1.0)).sqrt()
}

/// The multiplier NetWatcher applies to a side's windows: 2^shift of the
/// window-scale option of the side's SYN, 1 without one.
pub fn window_factor(scale: Option<u32>) -> f64 {
    match scale {
        Some(shift) => f64::from(1u32 << shift.min(MAX_WINDOW_SHIFT)),
        None => 1.0,
    }
}

/// One direction's window features: min, max, avg, std (sample), scaling
/// factor, initial window, zero windows, zero-window updates.
struct SideWindows {
    min: u32,
    max: u32,
    mean: f64,
    population_std: f64,
    samples: u64,
    scale: Option<u32>,
    initial: u32,
    zero: u64,
    zero_updates: u64,
}

impl SideWindows {
    fn write(&self, tcp: bool, out: &mut [f64]) {
        if !tcp {
            // NetWatcher's non-TCP flows: every window feature 0, the
            // scaling factor too.
            out.fill(0.0);
            return;
        }
        let f = window_factor(self.scale);
        let values = [
            f64::from(self.min) * f,
            f64::from(self.max) * f,
            self.mean * f,
            sample_std(self.population_std, self.samples) * f,
            f,
            f64::from(self.initial),
            self.zero as f64,
            self.zero_updates as f64,
        ];
        for (o, v) in out.iter_mut().zip(values) {
            *o = v;
        }
    }
}

/// NetWatcher's 36 features of a connection, in [`FEATURE_NAMES`] order.
///
/// The forward direction is the connection's client (NetWatcher: the
/// sender of the flow's first packet; the same whenever netcap saw the
/// handshake or the client spoke first). Differences from NetWatcher, all
/// from the Connection record's definitions (docs/flows.md):
/// - window samples are segments with ACK set and RST clear (NetWatcher
///   also counts RST+ACK segments);
/// - `*_initial_window_size` is the window of the side's first segment
///   (NetWatcher: of its SYN, 0 without one; the same when the handshake
///   was seen);
/// - the scaling factor multiplies every window sample of the side
///   (NetWatcher: those after the SYN, which is every one when the SYN is
///   the side's first segment), with the shift capped at 14;
/// - inter-arrival times are between packets in arrival order, 0 where
///   capture time went backwards (NetWatcher sorts the packets first);
/// - flow boundaries are netcap's (both FINs, RST, timeouts), not
///   NetWatcher's (first FIN, 100 packets).
pub fn netwatcher_features(c: &Connection) -> Features {
    let mut out = [0.0; FEATURE_COUNT];
    let tcp = c.ip_protocol == 6;
    let head = [
        c.duration_ns.max(0) as f64 / 1e9,
        c.packets as f64,
        c.payload_bytes as f64,
        f64::from(c.payload_bytes_min),
        f64::from(c.payload_bytes_max),
        sample_std(c.payload_bytes_std, c.packets),
        f64::from(c.payload_bytes_min_nonzero),
        c.payload_bytes_mean_nonzero,
        sample_std(c.payload_bytes_std_nonzero, c.payload_packets_nonzero),
        c.interarrival_min_ns as f64 / 1e9,
        c.interarrival_max_ns as f64 / 1e9,
        sample_std(c.interarrival_std_s, c.packets.saturating_sub(1)),
    ];
    out[..12].copy_from_slice(&head);
    let flags =
        [c.syn_count, c.fin_count, c.rst_count, c.ack_count, c.psh_count, c.urg_count, c.ece_count, c.cwr_count];
    for (o, n) in out[12..20].iter_mut().zip(flags) {
        *o = if tcp { n as f64 } else { 0.0 };
    }
    let server = SideWindows {
        min: c.server_window_min,
        max: c.server_window_max,
        mean: c.server_window_mean,
        population_std: c.server_window_std,
        samples: c.server_window_samples,
        scale: c.server_window_scale,
        initial: c.server_initial_window,
        zero: c.server_zero_window_count,
        zero_updates: c.server_zero_window_update_count,
    };
    let client = SideWindows {
        min: c.client_window_min,
        max: c.client_window_max,
        mean: c.client_window_mean,
        population_std: c.client_window_std,
        samples: c.client_window_samples,
        scale: c.client_window_scale,
        initial: c.client_initial_window,
        zero: c.client_zero_window_count,
        zero_updates: c.client_zero_window_update_count,
    };
    server.write(tcp, &mut out[20..28]);
    client.write(tcp, &mut out[28..36]);
    out
}

/// Writes the CSV header line of the features (names in order).
pub fn csv_header() -> String {
    FEATURE_NAMES.join(",")
}

/// One CSV line of features (no newline): shortest round-trip decimal
/// forms, integers without a fraction.
pub fn csv_line(features: &Features, out: &mut String) {
    use std::fmt::Write;
    out.clear();
    for (i, v) in features.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        // Writing into a String cannot fail.
        let _ = write!(out, "{v}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdev(v: &[f64]) -> f64 {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt()
    }

    fn pstdev(v: &[f64]) -> f64 {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n).sqrt()
    }

    #[test]
    fn names_are_netwatchers_order() {
        assert_eq!(FEATURE_NAMES.len(), 36);
        assert_eq!(FEATURE_NAMES[0], "duration_s");
        assert_eq!(FEATURE_NAMES[19], "cwr_count");
        assert_eq!(FEATURE_NAMES[20], "bwd_window_size_min");
        assert_eq!(FEATURE_NAMES[35], "fwd_zero_window_update_count");
        let mut sorted = FEATURE_NAMES.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 36);
    }

    #[test]
    fn sample_std_converts_population_std() {
        let v = [0.0, 1448.0, 1448.0, 517.0, 31.0];
        assert!((sample_std(pstdev(&v), 5) - stdev(&v)).abs() < 1e-9);
        assert_eq!(sample_std(3.0, 1), 0.0);
        assert_eq!(sample_std(0.0, 0), 0.0);
    }

    #[test]
    fn window_factor_caps_the_shift() {
        assert_eq!(window_factor(None), 1.0);
        assert_eq!(window_factor(Some(0)), 1.0);
        assert_eq!(window_factor(Some(7)), 128.0);
        assert_eq!(window_factor(Some(14)), 16384.0);
        assert_eq!(window_factor(Some(200)), 16384.0);
    }

    #[test]
    fn tcp_connection_features_field_by_field() {
        let c = Connection {
            ip_protocol: 6,
            duration_ns: 1_500_000_000,
            packets: 5,
            payload_bytes: 1000,
            payload_bytes_min: 0,
            payload_bytes_max: 600,
            payload_bytes_std: 2.0,
            payload_bytes_min_nonzero: 400,
            payload_bytes_mean_nonzero: 500.0,
            payload_bytes_std_nonzero: 100.0,
            payload_packets_nonzero: 2,
            interarrival_min_ns: 1_000,
            interarrival_max_ns: 1_000_000_000,
            interarrival_std_s: 0.5,
            syn_count: 2,
            fin_count: 2,
            rst_count: 0,
            ack_count: 4,
            psh_count: 1,
            urg_count: 0,
            ece_count: 0,
            cwr_count: 0,
            client_window_min: 500,
            client_window_max: 501,
            client_window_mean: 500.5,
            client_window_std: 0.5,
            client_window_samples: 2,
            client_window_scale: Some(7),
            client_initial_window: 64240,
            client_zero_window_count: 0,
            client_zero_window_update_count: 0,
            server_window_min: 0,
            server_window_max: 65535,
            server_window_mean: 32767.5,
            server_window_std: 32767.5,
            server_window_samples: 2,
            server_window_scale: None,
            server_initial_window: 65535,
            server_zero_window_count: 1,
            server_zero_window_update_count: 0,
            ..Connection::default()
        };
        let f = netwatcher_features(&c);
        let want_head = [1.5, 5.0, 1000.0, 0.0, 600.0, 2.0 * (5.0f64 / 4.0).sqrt(), 400.0, 500.0];
        for (i, w) in want_head.iter().enumerate() {
            assert!((f[i] - w).abs() < 1e-12, "{} {} {}", FEATURE_NAMES[i], f[i], w);
        }
        assert!((f[8] - 100.0 * 2f64.sqrt()).abs() < 1e-9);
        assert_eq!(f[9], 1e-6);
        assert_eq!(f[10], 1.0);
        assert!((f[11] - 0.5 * (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(&f[12..20], &[2.0, 2.0, 0.0, 4.0, 1.0, 0.0, 0.0, 0.0]);
        // bwd = server, unscaled (no option): factor 1.
        assert_eq!(&f[20..23], &[0.0, 65535.0, 32767.5]);
        assert!((f[23] - 32767.5 * 2f64.sqrt()).abs() < 1e-9);
        assert_eq!(&f[24..28], &[1.0, 65535.0, 1.0, 0.0]);
        // fwd = client, scaled by 2^7.
        assert_eq!(&f[28..31], &[64000.0, 64128.0, 64064.0]);
        assert!((f[31] - 0.5 * 2f64.sqrt() * 128.0).abs() < 1e-9);
        assert_eq!(&f[32..36], &[128.0, 64240.0, 0.0, 0.0]);
    }

    #[test]
    fn udp_connection_has_zero_tcp_features() {
        let c = Connection {
            ip_protocol: 17,
            packets: 2,
            payload_bytes: 100,
            syn_count: 3,
            client_initial_window: 9,
            ..Connection::default()
        };
        let f = netwatcher_features(&c);
        assert_eq!(f[1], 2.0);
        assert!(f[12..].iter().all(|&v| v == 0.0));
    }

    #[test]
    fn csv_line_prints_round_trip_numbers() {
        let mut f = [0.0; FEATURE_COUNT];
        f[0] = 0.1;
        f[1] = 3.0;
        let mut line = String::new();
        csv_line(&f, &mut line);
        assert!(line.starts_with("0.1,3,0,"), "{line}");
        assert_eq!(line.split(',').count(), 36);
        assert_eq!(csv_header().split(',').count(), 36);
    }
}
