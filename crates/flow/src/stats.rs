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

    pub fn min(&self) -> u32 {
        if self.n == 0 { 0 } else { self.min }
    }

    pub fn max(&self) -> u32 {
        if self.n == 0 { 0 } else { self.max }
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

/// Inter-arrival times in ns, with exact integer moments as [`IntStat`]:
/// two additions and a multiplication per packet, where Welford's running
/// mean took two conversions to floating point and a division (a tenth of
/// the per-packet cost of flow tracking). Squares of gaps need 128 bits;
/// the sums saturate, which takes over 10^19 ns of gaps in one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GapStat {
    pub n: u64,
    pub sum: u64,
    pub sumsq: Wide,
    pub min: u64,
    pub max: u64,
}

/// A u128 as two u64 words: 8-byte aligned, where a u128 field is aligned to
/// 16 and padded the connection state past ten cache lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Wide {
    lo: u64,
    hi: u64,
}

impl Wide {
    pub fn get(self) -> u128 {
        u128::from(self.hi) << 64 | u128::from(self.lo)
    }

    pub fn saturating_add(self, v: u128) -> Wide {
        Wide::from(self.get().saturating_add(v))
    }
}

impl From<u128> for Wide {
    fn from(v: u128) -> Self {
        Wide { lo: v as u64, hi: (v >> 64) as u64 }
    }
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
        self.sum = self.sum.saturating_add(gap_ns);
        self.sumsq = self.sumsq.saturating_add(u128::from(gap_ns) * u128::from(gap_ns));
    }

    pub fn min_ns(&self) -> u64 {
        if self.n == 0 { 0 } else { self.min }
    }

    pub fn max_ns(&self) -> u64 {
        if self.n == 0 { 0 } else { self.max }
    }

    pub fn mean_s(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.sum as f64 / self.n as f64 / 1e9 }
    }

    /// Population standard deviation, seconds: exact while n times the sum
    /// of squares fits 128 bits (gaps of minutes over millions of packets),
    /// else from the floating-point moments.
    pub fn std_s(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let (n, sum) = (u128::from(self.n), u128::from(self.sum));
        let sumsq = self.sumsq.get();
        let var_n2 = match n.checked_mul(sumsq) {
            Some(n_sumsq) => n_sumsq.saturating_sub(sum * sum) as f64,
            None => {
                let (n, sum) = (n as f64, sum as f64);
                (n * sumsq as f64 - sum * sum).max(0.0)
            }
        };
        var_n2.sqrt() / self.n as f64 / 1e9
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
        assert_eq!(m.min(), 0);
        assert_eq!(m.max(), 65535);
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
        assert_eq!(g.min_ns(), 3);
        assert_eq!(g.max_ns(), 7_000_000_000);
        assert!((g.mean_s() - f.iter().sum::<f64>() / 5.0).abs() < 1e-12);
        assert!((g.std_s() - pop_std(&f)).abs() < 1e-12);
        // 2^34 gaps of 2^28 ns among 2^40: n times the sum of squares
        // overflows 128 bits, and the floating-point moments take over.
        let big = GapStat { n: 1 << 40, sum: 1 << 62, sumsq: Wide::from(1 << 90), min: 0, max: 1 << 28 };
        let want = (2f64.powi(50) - 2f64.powi(44)).sqrt() / 1e9;
        assert!((big.std_s() - want).abs() / want < 1e-9, "{} != {want}", big.std_s());
    }
}
