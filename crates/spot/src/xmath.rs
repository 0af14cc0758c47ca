//! Deterministic `ln` and `exp` kernels.
//!
//! The reference implementation of SPOT (libspot v2) does not call libm: it
//! evaluates logarithms and exponentials with short continued fractions. The
//! GPD fit is sensitive to the last bits of these functions (whether a
//! Grimshaw root bracket holds a sign change at x = ±2e-8 is decided by
//! rounding noise), so netcap evaluates them the same way. This makes every
//! threshold bit-identical to the reference runs, and identical on every
//! platform, which the system libm behind `f64::ln` does not guarantee.
//!
//! The formulas are the classical ones: Gauss's continued fraction of
//! ln(1+x) = 2x / (2+x − x²/(3(2+x) − 4x²/(5(2+x) − …))), truncated at depth
//! 11, and the continued fraction of exp(z) = 1 + 2z/(2 − z + z²/(6 + z²/(10 +
//! …))), truncated at depth 6, with the usual range reductions by powers of
//! two. Their evaluation order below is what makes results bit-exact; do not
//! "simplify" it. Accuracy: about 1e-16 relative for ln outside [0.25, 0.5),
//! where the reference skips the range reduction and the error reaches 7e-11
//! absolute; exp within 1e-14 relative.

/// ln 2 rounded to the nearest double.
const LOG2: f64 = core::f64::consts::LN_2;

/// Splits `x` into a mantissa in [0.5, 1) and a power of two; zero, infinities
/// and NaN come back unchanged with exponent 0 (C99 `frexp`).
pub(crate) fn frexp(x: f64) -> (f64, i32) {
    let bits = x.to_bits();
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        if x == 0.0 {
            return (x, 0);
        }
        // Subnormal: scale into the normal range first.
        let (m, e) = frexp(x * f64::from_bits(0x43f0_0000_0000_0000)); // 2^64
        return (m, e - 64);
    }
    if biased == 0x7ff {
        return (x, 0);
    }
    let m = f64::from_bits((bits & 0x800f_ffff_ffff_ffff) | 0x3fe0_0000_0000_0000);
    (m, biased - 0x3fe)
}

/// `x · 2^n`, exact unless the result overflows or underflows (C99 `scalbn`).
pub(crate) fn ldexp(x: f64, mut n: i32) -> f64 {
    let mut y = x;
    if n > 1023 {
        y *= f64::from_bits(0x7fe0_0000_0000_0000); // 2^1023
        n -= 1023;
        if n > 1023 {
            y *= f64::from_bits(0x7fe0_0000_0000_0000);
            n = (n - 1023).min(1023);
        }
    } else if n < -1022 {
        // 2^-1022 · 2^53: keeps one rounding only for subnormal results.
        let step = f64::from_bits(0x0010_0000_0000_0000) * f64::from_bits(0x4340_0000_0000_0000);
        y *= step;
        n += 1022 - 53;
        if n < -1022 {
            y *= step;
            n = (n + 1022 - 53).max(-1022);
        }
    }
    y * f64::from_bits(((0x3ff + n) as u64) << 52)
}

/// ln(z) for z near 1 by the continued fraction of ln(1+x), x = z − 1.
fn log_cf(z: f64) -> f64 {
    let x = z - 1.0;
    let x2 = x * x;
    let a1 = x + 2.0;
    let a2 = a1 + a1;
    // a[m] = (2m+1)(2+x), built by repeated addition as the reference does.
    let mut a = [0.0f64; 11];
    a[0] = a1;
    a[1] = a1 + a2;
    for m in 2..11 {
        a[m] = a[m - 1] + a2;
    }
    let mut d = a[10];
    for m in (0..10).rev() {
        let k = (m + 1) as f64;
        d = ((-(k * k)) * x2) / d + a[m];
    }
    (2.0 * x) / d
}

/// Natural logarithm: NaN for negative or NaN input, −∞ at 0, NaN at +∞.
pub fn xlog(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    let (m, e) = frexp(x);
    if e == 0 || e == -1 { log_cf(x) } else { log_cf(m) + LOG2 * f64::from(e) }
}

/// exp(z) for |z| ≤ ln 2 by a continued fraction.
fn exp_cf(z: f64) -> f64 {
    let z2 = z * z;
    let e4 = (7.0 * z2) / 11.0 + 252.0;
    let e3 = (140.0 * z2) / e4 + 140.0;
    let e2 = (60.0 * z2) / e3 + 60.0;
    let e1 = (12.0 * z2) / e2 + 12.0;
    let e0 = (((2.0 * z2) / e1) - z) + 2.0;
    (2.0 * z) / e0 + 1.0
}

/// Exponential. Unlike the reference, ±∞ give ∞ and 0 (the reference's
/// conversion of ∞ to an integer is undefined behaviour in C).
pub fn xexp(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        return 1.0 / xexp(-x);
    }
    if x > 1e4 {
        // Far beyond the largest double (e^709.8); also keeps the integer
        // conversion below in range.
        return f64::INFINITY;
    }
    if x > LOG2 {
        let k = (x / LOG2) as u32;
        let r = x - LOG2 * f64::from(k);
        ldexp(exp_cf(r), k as i32)
    } else {
        exp_cf(x)
    }
}

/// a^b as exp(b · ln a).
pub fn xpow(a: f64, b: f64) -> f64 {
    xexp(b * xlog(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frexp_matches_definition() {
        assert_eq!(frexp(8.0), (0.5, 4));
        assert_eq!(frexp(0.75), (0.75, 0));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        let (m, e) = frexp(f64::MIN_POSITIVE / 4.0);
        assert_eq!((m, e), (0.5, -1023));
        assert_eq!(frexp(0.0), (0.0, 0));
        assert!(frexp(f64::NAN).0.is_nan());
    }

    #[test]
    fn ldexp_is_exact_scaling() {
        assert_eq!(ldexp(1.5, 3), 12.0);
        assert_eq!(ldexp(1.0, -1074), f64::from_bits(1));
        assert_eq!(ldexp(1.0, 1024), f64::INFINITY);
        assert_eq!(ldexp(1.0, 1023), f64::from_bits(0x7fe0_0000_0000_0000));
    }

    #[test]
    fn kernels_are_accurate() {
        // Worst on [0.25, 0.5), where the reference applies the continued
        // fraction without range reduction: about 7e-11 absolute near 0.25.
        let mut worst: f64 = 0.0;
        for i in 1..20000 {
            let x = i as f64 * 0.0001;
            worst = worst.max((xlog(x) - f64::ln(x)).abs());
        }
        assert!(worst < 1e-10, "{worst}");
        for &x in &[1e-300, 1e-10, 0.5, 0.99, 1.0, 1.01, 2.0, 10.0, 12345.678, 1e300] {
            let rel = (xlog(x) - f64::ln(x)).abs() / f64::ln(x).abs().max(1e-300);
            assert!(rel < 1e-14 || (xlog(x) - f64::ln(x)).abs() < 1e-15, "ln {x}: {} vs {}", xlog(x), f64::ln(x));
        }
        for &x in &[-700.0, -20.0, -1.0, -1e-9, 0.0, 0.2, 0.69, 1.0, 5.5, 100.0, 700.0] {
            let rel = (xexp(x) - f64::exp(x)).abs() / f64::exp(x);
            assert!(rel < 1e-13, "exp {x}: {} vs {}", xexp(x), f64::exp(x));
        }
        assert!(xlog(-1.0).is_nan());
        assert_eq!(xlog(0.0), f64::NEG_INFINITY);
        assert!(xlog(f64::INFINITY).is_nan());
        assert_eq!(xexp(f64::INFINITY), f64::INFINITY);
        assert_eq!(xexp(f64::NEG_INFINITY), 0.0);
        assert!((xpow(2.0, 10.0) - 1024.0).abs() < 1e-10);
    }
}
