//! Replay at the capture's own pace: packets are handed on when the wall
//! clock has advanced as far past the first packet as their timestamps,
//! minus the silences that were shortened: a gap between consecutive
//! packets longer than [`Replay::max_gap`] (capture time) is replayed as
//! `max_gap`, so that a capture whose clock jumps by years does not stall.

use std::time::{Duration, Instant};

/// How to replay a capture (docs/metrics.md, "-replay").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Replay {
    /// This many times faster than captured (1.0: the capture's own pace);
    /// values that are not positive and finite mean 1.0.
    pub speed: f64,
    /// Gaps between consecutive packets longer than this (capture time,
    /// before `speed` applies) are shortened to it; `None` replays every
    /// gap in full.
    pub max_gap: Option<Duration>,
}

impl Replay {
    /// `-max-gap`'s default.
    pub const DEFAULT_MAX_GAP: Duration = Duration::from_secs(5);

    /// At `speed`, with the default gap limit.
    pub fn at_speed(speed: f64) -> Replay {
        Replay { speed, max_gap: Some(Self::DEFAULT_MAX_GAP) }
    }
}

/// What a replay's pacing did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayStats {
    /// Gaps between consecutive packets longer than the limit.
    pub gaps_shortened: u64,
    /// Capture time not waited for: the sum over those gaps of what
    /// exceeded the limit (saturates at `u64::MAX` ns, 584 years).
    pub skipped: Duration,
}

impl ReplayStats {
    /// The end-of-capture summary's line (without indentation), e.g.
    /// `replay: 1 gap longer than 1s shortened to it, 1826d 0h 0m 59s (157766399s) of capture time skipped`.
    pub fn summary_line(&self, max_gap: Option<Duration>) -> String {
        match max_gap {
            None => "replay: every gap replayed in full (-max-gap 0)".to_string(),
            Some(gap) if self.gaps_shortened == 0 => {
                format!("replay: no gap longer than {}, nothing skipped", human_duration(gap))
            }
            Some(gap) => format!(
                "replay: {} longer than {} shortened to it, {} of capture time skipped",
                if self.gaps_shortened == 1 { "1 gap".to_string() } else { format!("{} gaps", self.gaps_shortened) },
                human_duration(gap),
                human_duration(self.skipped)
            ),
        }
    }
}

/// `250ms`-style short durations, `1.5s`, and from a minute on
/// `1826d 0h 0m 59s (157766399s)`.
pub fn human_duration(d: Duration) -> String {
    let seconds = |d: Duration| {
        let text = format!("{}.{:03}", d.as_secs(), d.subsec_millis());
        format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
    };
    let secs = d.as_secs();
    if secs == 0 && d.subsec_millis() > 0 {
        return format!("{}ms", d.subsec_millis());
    }
    if secs < 60 {
        return seconds(d);
    }
    let rest = Duration::new(secs % 60, d.subsec_nanos());
    let (m, h, days) = (secs / 60 % 60, secs / 3600 % 24, secs / 86_400);
    let parts = if days > 0 {
        format!("{days}d {h}h {m}m {}", seconds(rest))
    } else if h > 0 {
        format!("{h}h {m}m {}", seconds(rest))
    } else {
        format!("{m}m {}", seconds(rest))
    };
    format!("{parts} ({})", seconds(d))
}

/// Waits shorter than this are not worth a sleep (and a batch cut): the
/// packet goes out up to this late.
const SLACK: Duration = Duration::from_millis(1);
/// Longest single sleep, so a stop request is seen quickly.
const SLICE: Duration = Duration::from_millis(100);

pub(crate) struct Pacer {
    /// Wall seconds per capture second.
    scale: f64,
    /// Longest gap replayed in full, capture ns.
    max_gap_ns: Option<i128>,
    /// First packet's timestamp and when it was handed on.
    origin: Option<(i64, Instant)>,
    /// Newest timestamp so far: the next packet's gap is measured from it
    /// (a packet from the past is due at once and shortens nothing).
    newest_ns: i64,
    /// Capture time skipped so far, ns (i128: cannot overflow on i64
    /// timestamps).
    skipped_ns: i128,
    gaps_shortened: u64,
}

impl Pacer {
    pub fn new(replay: Replay) -> Self {
        let speed = if replay.speed.is_finite() && replay.speed > 0.0 { replay.speed } else { 1.0 };
        Pacer {
            scale: 1.0 / speed,
            max_gap_ns: replay.max_gap.map(|gap| gap.as_nanos().min(i128::MAX as u128) as i128),
            origin: None,
            newest_ns: 0,
            skipped_ns: 0,
            gaps_shortened: 0,
        }
    }

    /// When a packet with this timestamp is due, if that is later than now
    /// (plus slack): the first packet's wall time plus the capture time
    /// since the first packet, less the skipped silences, divided by the
    /// speed. Timestamps before the first packet's are due at once, as are
    /// packets of a capture whose clock went backwards. A pure function of
    /// the timestamps and `now`, so that tests need no clock.
    pub fn due(&mut self, timestamp_ns: i64, now: Instant) -> Option<Instant> {
        let (first_ns, started) = match self.origin {
            Some(origin) => origin,
            None => {
                self.newest_ns = timestamp_ns;
                *self.origin.insert((timestamp_ns, now))
            }
        };
        let gap = i128::from(timestamp_ns) - i128::from(self.newest_ns);
        if let Some(max) = self.max_gap_ns
            && gap > max
        {
            self.skipped_ns += gap - max;
            self.gaps_shortened += 1;
        }
        self.newest_ns = self.newest_ns.max(timestamp_ns);
        let offset_ns = i128::from(timestamp_ns) - i128::from(first_ns) - self.skipped_ns;
        if offset_ns <= 0 {
            return None;
        }
        let offset = Duration::try_from_secs_f64(offset_ns as f64 * 1e-9 * self.scale).ok()?;
        let due = started.checked_add(offset)?;
        (due > now + SLACK).then_some(due)
    }

    /// What the pacing skipped so far.
    pub fn stats(&self) -> ReplayStats {
        ReplayStats {
            gaps_shortened: self.gaps_shortened,
            skipped: Duration::from_nanos(u64::try_from(self.skipped_ns).unwrap_or(u64::MAX)),
        }
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
        let mut pacer = Pacer::new(Replay::at_speed(1.0));
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
        let mut pacer = Pacer::new(Replay::at_speed(10.0));
        pacer.due(0, start);
        assert_eq!(pacer.due(1_000_000_000, start), Some(start + Duration::from_millis(100)));
        for bad in [0.0, -2.0, f64::NAN, f64::INFINITY] {
            let mut pacer = Pacer::new(Replay::at_speed(bad));
            pacer.due(0, start);
            assert_eq!(pacer.due(1_000_000_000, start), Some(start + Duration::from_secs(1)), "{bad}");
        }
    }

    #[test]
    fn absurd_gaps_do_not_overflow() {
        let start = Instant::now();
        let mut pacer = Pacer::new(Replay { speed: 1e-300, max_gap: None });
        pacer.due(i64::MIN, start);
        // Far beyond what Instant holds: not a panic; the packet goes now.
        assert_eq!(pacer.due(i64::MAX, start), None);
        // With the gap limit, the whole range is one shortened gap.
        let mut pacer = Pacer::new(Replay { speed: 1.0, max_gap: Some(Duration::MAX) });
        pacer.due(i64::MIN, start);
        assert_eq!(pacer.stats(), ReplayStats::default(), "no i64 gap exceeds Duration::MAX");
        let mut pacer = Pacer::new(Replay::at_speed(1.0));
        pacer.due(i64::MIN, start);
        assert_eq!(pacer.due(i64::MAX, start), Some(start + Duration::from_secs(5)));
        let skipped = Duration::from_nanos(u64::MAX) - Duration::from_secs(5);
        assert_eq!(pacer.stats(), ReplayStats { gaps_shortened: 1, skipped });
    }

    const YEAR_NS: i64 = 365 * 86_400 * 1_000_000_000;

    /// A capture that jumps from 2010 to 2015: the second packet is due
    /// `max_gap` after the first, not five years later.
    #[test]
    fn long_gaps_are_shortened_to_max_gap() {
        let start = Instant::now();
        let t2010 = 1_262_304_000_000_000_000;
        let mut pacer = Pacer::new(Replay { speed: 1.0, max_gap: Some(Duration::from_secs(1)) });
        assert_eq!(pacer.due(t2010, start), None);
        assert_eq!(pacer.due(t2010 + 5 * YEAR_NS, start), Some(start + Duration::from_secs(1)));
        // The next packets keep their spacing after the jump.
        assert_eq!(pacer.due(t2010 + 5 * YEAR_NS + 500_000_000, start), Some(start + Duration::from_millis(1500)));
        let skipped = Duration::from_nanos(5 * YEAR_NS as u64) - Duration::from_secs(1);
        assert_eq!(pacer.stats(), ReplayStats { gaps_shortened: 1, skipped });
    }

    #[test]
    fn shortened_gaps_add_up() {
        let start = Instant::now();
        let mut pacer = Pacer::new(Replay::at_speed(1.0));
        let s = 1_000_000_000;
        let due: Vec<_> = [0, 10 * s, 10 * s + s / 2, 30 * s, 35 * s, 40 * s + 1]
            .into_iter()
            .map(|t| pacer.due(t, start).map(|d| d - start))
            .collect();
        let ms = |n| Some(Duration::from_millis(n));
        // 10 s → 5 s; 19.5 s → 5 s; exactly 5 s: replayed in full;
        // 5 s + 1 ns → 5 s.
        assert_eq!(due, [None, ms(5000), ms(5500), ms(10_500), ms(15_500), ms(20_500)]);
        let skipped = Duration::from_secs(5) + Duration::from_millis(14_500) + Duration::from_nanos(1);
        assert_eq!(pacer.stats(), ReplayStats { gaps_shortened: 3, skipped });
    }

    #[test]
    fn gaps_are_capture_time_and_speed_applies_after() {
        let start = Instant::now();
        let mut pacer = Pacer::new(Replay { speed: 10.0, max_gap: Some(Duration::from_secs(5)) });
        pacer.due(0, start);
        // 100 s of capture time → 5 s → 0.5 s of wall time at 10x.
        assert_eq!(pacer.due(100_000_000_000, start), Some(start + Duration::from_millis(500)));
        // Without a limit, every gap is waited for in full.
        let mut pacer = Pacer::new(Replay { speed: 1.0, max_gap: None });
        pacer.due(0, start);
        assert_eq!(pacer.due(100_000_000_000, start), Some(start + Duration::from_secs(100)));
        assert_eq!(pacer.stats(), ReplayStats::default());
    }

    #[test]
    fn summary_lines() {
        let stats =
            ReplayStats { gaps_shortened: 1, skipped: Duration::from_nanos(5 * YEAR_NS as u64 - 1_000_000_000) };
        assert_eq!(
            stats.summary_line(Some(Duration::from_secs(1))),
            "replay: 1 gap longer than 1s shortened to it, 1824d 23h 59m 59s (157679999s) of capture time skipped"
        );
        let stats = ReplayStats { gaps_shortened: 3, skipped: Duration::from_millis(14_500) };
        assert_eq!(
            stats.summary_line(Some(Duration::from_millis(500))),
            "replay: 3 gaps longer than 500ms shortened to it, 14.5s of capture time skipped"
        );
        assert_eq!(
            ReplayStats::default().summary_line(Some(Replay::DEFAULT_MAX_GAP)),
            "replay: no gap longer than 5s, nothing skipped"
        );
        assert_eq!(ReplayStats::default().summary_line(None), "replay: every gap replayed in full (-max-gap 0)");
        assert_eq!(human_duration(Duration::from_secs(3725)), "1h 2m 5s (3725s)");
        assert_eq!(human_duration(Duration::from_millis(61_250)), "1m 1.25s (61.25s)");
        assert_eq!(human_duration(Duration::ZERO), "0s");
    }

    #[test]
    fn a_clock_going_backwards_shortens_nothing() {
        let start = Instant::now();
        let s = 1_000_000_000;
        let mut pacer = Pacer::new(Replay::at_speed(1.0));
        pacer.due(0, start);
        assert_eq!(pacer.due(100 * s, start), Some(start + Duration::from_secs(5)));
        assert_eq!(pacer.due(50 * s, start), None, "from the past: at once");
        // Measured from the newest timestamp (100 s), not from 50 s.
        assert_eq!(pacer.due(101 * s, start), Some(start + Duration::from_secs(6)));
        assert_eq!(pacer.stats().gaps_shortened, 1);
        assert_eq!(pacer.stats().skipped, Duration::from_secs(95));
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
