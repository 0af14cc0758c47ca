//! Replay at the capture's own pace: packets are handed on when the wall
//! clock has advanced as far past the first packet as their timestamps.

use std::time::{Duration, Instant};

/// Waits shorter than this are not worth a sleep (and a batch cut): the
/// packet goes out up to this late.
const SLACK: Duration = Duration::from_millis(1);
/// Longest single sleep, so a stop request is seen quickly.
const SLICE: Duration = Duration::from_millis(100);

pub(crate) struct Pacer {
    /// Wall seconds per capture second.
    scale: f64,
    /// First packet's timestamp and when it was handed on.
    origin: Option<(i64, Instant)>,
}

impl Pacer {
    /// `speed` times faster than captured; values that are not positive and
    /// finite mean the capture's own pace.
    pub fn new(speed: f64) -> Self {
        let speed = if speed.is_finite() && speed > 0.0 { speed } else { 1.0 };
        Pacer { scale: 1.0 / speed, origin: None }
    }

    /// When a packet with this timestamp is due, if that is later than now
    /// (plus slack). Timestamps before the first packet's are due at once,
    /// as are packets of a capture whose clock went backwards.
    pub fn due(&mut self, timestamp_ns: i64, now: Instant) -> Option<Instant> {
        let (first_ns, started) = *self.origin.get_or_insert((timestamp_ns, now));
        let offset_ns = timestamp_ns.saturating_sub(first_ns);
        if offset_ns <= 0 {
            return None;
        }
        let offset = Duration::try_from_secs_f64(offset_ns as f64 * 1e-9 * self.scale).ok()?;
        let due = started.checked_add(offset)?;
        (due > now + SLACK).then_some(due)
    }

    /// Sleeps until `due`, in slices, returning early once `stopped` says so.
    pub fn wait_until(due: Instant, stopped: impl Fn() -> bool) {
        loop {
            let now = Instant::now();
            if now >= due || stopped() {
                return;
            }
            std::thread::sleep((due - now).min(SLICE));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_are_due_at_their_offset_from_the_first() {
        let start = Instant::now();
        let mut pacer = Pacer::new(1.0);
        assert_eq!(pacer.due(5_000_000_000, start), None, "the first packet goes at once");
        assert_eq!(pacer.due(5_000_500_000, start), None, "within the slack");
        assert_eq!(pacer.due(5_250_000_000, start), Some(start + Duration::from_millis(250)));
        assert_eq!(pacer.due(4_000_000_000, start), None, "an earlier timestamp is due at once");
        // Later calls measure from the same origin.
        let later = start + Duration::from_millis(300);
        assert_eq!(pacer.due(5_250_000_000, later), None);
        assert_eq!(pacer.due(7_000_000_000, later), Some(start + Duration::from_secs(2)));
    }

    #[test]
    fn speed_scales_the_wait() {
        let start = Instant::now();
        let mut pacer = Pacer::new(10.0);
        pacer.due(0, start);
        assert_eq!(pacer.due(1_000_000_000, start), Some(start + Duration::from_millis(100)));
        for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
            let mut pacer = Pacer::new(bad);
            pacer.due(0, start);
            assert_eq!(pacer.due(1_000_000_000, start), Some(start + Duration::from_secs(1)), "{bad}");
        }
    }

    #[test]
    fn absurd_gaps_do_not_overflow() {
        let start = Instant::now();
        let mut pacer = Pacer::new(1e-300);
        pacer.due(i64::MIN, start);
        // Far beyond what Instant holds: not a panic; the packet goes now.
        assert_eq!(pacer.due(i64::MAX, start), None);
    }

    #[test]
    fn waiting_ends_on_stop() {
        let start = Instant::now();
        Pacer::wait_until(start + Duration::from_secs(60), || true);
        assert!(start.elapsed() < Duration::from_secs(1));
        Pacer::wait_until(start + Duration::from_millis(20), || false);
        assert!(start.elapsed() >= Duration::from_millis(20));
    }
}
