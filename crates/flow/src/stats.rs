//! Running statistics with fixed-size state.

/// Count, sum, sum of squares, min and max of small non-negative integers
/// (payload sizes, TCP windows). Integer sums make the mean and standard
/// deviation exact and let two accumulators merge (the connection's payload
/// statistics are its two directions' merged). Sums of squares saturate,
/// which takes over 4 billion maximum-size samples in one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IntStat {
    pub n: u64,
    pub sum: u64,
    pub sumsq: u64,
    pub min: u32,
    pub max: u32,
}

impl IntStat {
    pub fn add(&mut self, v: u32) {
        if self.n == 0 {
            self.min = v;
            self.max = v;
        } else {
            self.min = self.min.min(v);
            self.max = self.max.max(v);
        }
        self.n += 1;
        self.sum += u64::from(v);
        self.sumsq = self.sumsq.saturating_add(u64::from(v) * u64::from(v));
    }

    pub fn merged(&self, o: &IntStat) -> IntStat {
        match (self.n, o.n) {
            (0, _) => *o,
            (_, 0) => *self,
            _ => IntStat {
                n: self.n + o.n,
                sum: self.sum + o.sum,
                sumsq: self.sumsq.saturating_add(o.sumsq),
                min: self.min.min(o.min),
                max: self.max.max(o.max),
            },
        }
    }

    pub fn min(&self) -> f64 {
        if self.n == 0 { 0.0 } else { f64::from(self.min) }
    }

    pub fn max(&self) -> f64 {
        if self.n == 0 { 0.0 } else { f64::from(self.max) }
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum as f64 / self.n as f64 }
    }

    /// Population standard deviation, from exact integer moments.
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let n = u128::from(self.n);
        let s = u128::from(self.sum);
        let var_n2 = (n * u128::from(self.sumsq)).saturating_sub(s * s);
        (var_n2 as f64).sqrt() / self.n as f64
    }
}

/// Inter-arrival times in ns: Welford's running mean and variance (the
/// squares of nanosecond gaps do not fit integers cheaply), with min and max.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct GapStat {
    pub n: u64,
    pub mean: f64,
    pub m2: f64,
    pub min: u64,
    pub max: u64,
}

impl GapStat {
    pub fn add(&mut self, gap_ns: u64) {
        if self.n == 0 {
            self.min = gap_ns;
            self.max = gap_ns;
        } else {
            self.min = self.min.min(gap_ns);
            self.max = self.max.max(gap_ns);
        }
        self.n += 1;
        let x = gap_ns as f64;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    pub fn min_s(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.min as f64 / 1e9 }
    }

    pub fn max_s(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.max as f64 / 1e9 }
    }

    pub fn mean_s(&self) -> f64 {
        self.mean / 1e9
    }

    /// Population standard deviation, seconds.
    pub fn std_s(&self) -> f64 {
        if self.n < 2 { 0.0 } else { (self.m2.max(0.0) / self.n as f64).sqrt() / 1e9 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pop_std(v: &[f64]) -> f64 {
        let m = v.iter().sum::<f64>() / v.len() as f64;
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
    }

    #[test]
    fn int_stat_matches_direct_formulas() {
        let vals = [0u32, 1448, 1448, 517, 0, 31, 65535];
        let mut a = IntStat::default();
        let mut b = IntStat::default();
        for (i, &v) in vals.iter().enumerate() {
            if i % 2 == 0 { a.add(v) } else { b.add(v) }
        }
        let m = a.merged(&b);
        let f: Vec<f64> = vals.iter().map(|&v| f64::from(v)).collect();
        assert_eq!(m.n, 7);
        assert_eq!(m.min(), 0.0);
        assert_eq!(m.max(), 65535.0);
        assert!((m.mean() - f.iter().sum::<f64>() / 7.0).abs() < 1e-9);
        assert!((m.std() - pop_std(&f)).abs() < 1e-9);
        assert_eq!(IntStat::default().std(), 0.0);
        assert_eq!(IntStat::default().merged(&a), a);
    }

    #[test]
    fn gap_stat_matches_direct_formulas() {
        let gaps = [1_000u64, 250_000_000, 3, 7_000_000_000, 42];
        let mut g = GapStat::default();
        gaps.iter().for_each(|&x| g.add(x));
        let f: Vec<f64> = gaps.iter().map(|&x| x as f64 * 1e-9).collect();
        assert_eq!(g.min_s(), 3e-9);
        assert_eq!(g.max_s(), 7.0);
        assert!((g.mean_s() - f.iter().sum::<f64>() / 5.0).abs() < 1e-12);
        assert!((g.std_s() - pop_std(&f)).abs() < 1e-12);
    }
}
