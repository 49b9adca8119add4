//! `bc -l`'s functions: s (sine), c (cosine), a (arctangent), l (natural
//! logarithm), e (exponential) and j (Bessel's J). Each is computed in
//! fixed point with guard digits beyond `scale`, then cut to `scale`
//! digits, as GNU's library cuts its result.

use num_bigint::BigInt;
use num_traits::{One, Signed, ToPrimitive, Zero};

use super::number::{MAX_DIGITS, Num, pow10};

const GUARD: u32 = 12;

/// `x` as an integer scaled by 10^`w` (cut, if it has more digits).
fn fixed(x: &Num, w: u32) -> BigInt {
    x.rescale(w).v
}

fn mul(a: &BigInt, b: &BigInt, unit: &BigInt) -> BigInt {
    a * b / unit
}

fn div(a: &BigInt, b: &BigInt, unit: &BigInt) -> BigInt {
    a * unit / b
}

/// Decimal digits of the integer part of |x|.
fn int_digits(x: &Num) -> u32 {
    let t = x.trunc();
    if t.is_zero() { 0 } else { t.magnitude().to_string().len() as u32 }
}

/// e^y for 0 <= y < 1 (fixed point at `unit`).
fn exp_series(y: &BigInt, unit: &BigInt) -> BigInt {
    let mut sum = unit.clone();
    let mut term = unit.clone();
    let mut n = 1u32;
    loop {
        term = mul(&term, y, unit) / n;
        if term.is_zero() {
            return sum;
        }
        sum += &term;
        n += 1;
    }
}

/// An argument whose answer would pass `MAX_DIGITS` digits.
pub(crate) const TOO_LARGE: &str = "argument too large (runbox's bc keeps numbers to 10 million digits)";

pub(crate) fn exp(x: &Num, scale: u32) -> Result<Num, &'static str> {
    let a = x.abs();
    // e^a has about 0.4343·a integer digits.
    let whole = a.trunc().to_f64().unwrap_or(f64::MAX);
    let estimate = (whole * std::f64::consts::LOG10_E).ceil();
    if estimate + f64::from(scale) > MAX_DIGITS as f64 {
        return Err(TOO_LARGE);
    }
    let digits = estimate as u32 + 1;
    let halvings = a.trunc().bits() as u32 + 1;
    let w = scale + digits + GUARD + halvings / 3;
    let unit = pow10(w);
    let y = fixed(&a, w) >> halvings;
    let mut s = exp_series(&y, &unit);
    for _ in 0..halvings {
        s = mul(&s, &s, &unit);
    }
    if x.is_negative() {
        s = &unit * &unit / s;
    }
    Ok(Num { v: s, scale: w }.rescale(scale))
}

/// atanh(z) for |z| < 1.
fn atanh_series(z: &BigInt, unit: &BigInt) -> BigInt {
    let z2 = mul(z, z, unit);
    let mut power = z.clone();
    let mut sum = BigInt::zero();
    let mut n = 1u32;
    loop {
        let term = &power / n;
        if term.is_zero() {
            return sum;
        }
        sum += term;
        power = mul(&power, &z2, unit);
        n += 2;
    }
}

pub(crate) fn ln(x: &Num, scale: u32) -> Num {
    if !x.is_negative() && !x.is_zero() {
        let bits = x.trunc().bits().max(1) + u64::from(x.scale) * 4;
        let w = scale + GUARD + bits.to_string().len() as u32;
        let unit = pow10(w);
        let mut m = fixed(x, w);
        // m = x / 2^k, within [0.5, 1.5).
        // A first shift by the difference in bits, then a step or two.
        let mut k: i64 = m.bits() as i64 - unit.bits() as i64;
        if k > 0 {
            m >>= k as u64;
        } else {
            m <<= k.unsigned_abs();
        }
        let upper = &unit * 3 / 2;
        let lower = &unit / 2;
        while m >= upper {
            m >>= 1;
            k += 1;
        }
        while m < lower {
            m <<= 1;
            k -= 1;
        }
        let z = div(&(&m - &unit), &(&m + &unit), &unit);
        let mut sum = atanh_series(&z, &unit) * 2;
        if k != 0 {
            let ln2 = atanh_series(&(&unit / 3), &unit) * 2;
            sum += ln2 * k;
        }
        return Num { v: sum, scale: w }.rescale(scale);
    }
    // GNU's library answers a non-positive argument with 1 - 10^scale.
    Num { v: (BigInt::one() - pow10(scale)) * pow10(scale), scale }
}

/// atan(y) for |y| <= 1 by its series, after halving the angle twice.
fn atan_small(y: &BigInt, unit: &BigInt) -> BigInt {
    let mut y = y.clone();
    for _ in 0..2 {
        let root = (unit * unit + &y * &y).sqrt();
        y = div(&y, &(unit + root), unit);
    }
    let y2 = mul(&y, &y, unit);
    let mut power = y;
    let mut sum = BigInt::zero();
    let mut n = 1u32;
    let mut positive = true;
    loop {
        let term = &power / n;
        if term.is_zero() {
            return sum * 4;
        }
        if positive {
            sum += term;
        } else {
            sum -= term;
        }
        positive = !positive;
        power = mul(&power, &y2, unit);
        n += 2;
    }
}

fn pi(unit: &BigInt) -> BigInt {
    let fifth = atan_small(&(unit / 5), unit);
    let part = atan_small(&(unit / 239), unit);
    fifth * 16 - part * 4
}

pub(crate) fn atan(x: &Num, scale: u32) -> Num {
    let w = scale + GUARD;
    let unit = pow10(w);
    let a = fixed(&x.abs(), w);
    let mut result =
        if a > unit { pi(&unit) / 2 - atan_small(&div(&unit, &a, &unit), &unit) } else { atan_small(&a, &unit) };
    if x.is_negative() {
        result = -result;
    }
    Num { v: result, scale: w }.rescale(scale)
}

/// x reduced to (-pi, pi], at `unit`.
fn reduce(x: &Num, w: u32) -> (BigInt, BigInt) {
    let extra = int_digits(x);
    let wide = pow10(w + extra);
    let two_pi = pi(&wide) * 2;
    let xv = fixed(x, w + extra);
    let half = &two_pi / 2;
    let shifted: BigInt = &xv + &half;
    let turns = num_integer::Integer::div_floor(&shifted, &two_pi);
    let t = (xv - turns * two_pi) / pow10(extra);
    (t, pow10(w))
}

/// sin (`cosine` false) or cos of t by their series.
fn trig_series(t: &BigInt, unit: &BigInt, cosine: bool) -> BigInt {
    let t2 = mul(t, t, unit);
    let (mut term, mut n) = if cosine { (unit.clone(), 0u32) } else { (t.clone(), 1u32) };
    let mut sum = term.clone();
    loop {
        term = -mul(&term, &t2, unit) / (u64::from(n + 1) * u64::from(n + 2));
        if term.is_zero() {
            return sum;
        }
        sum += &term;
        n += 2;
    }
}

pub(crate) fn sin(x: &Num, scale: u32) -> Num {
    let w = scale + GUARD;
    let (t, unit) = reduce(x, w);
    Num { v: trig_series(&t, &unit, false), scale: w }.rescale(scale)
}

pub(crate) fn cos(x: &Num, scale: u32) -> Num {
    let w = scale + GUARD;
    let (t, unit) = reduce(x, w);
    Num { v: trig_series(&t, &unit, true), scale: w }.rescale(scale)
}

/// Bessel's J of integer order `n`.
pub(crate) fn bessel(n: &BigInt, x: &Num, scale: u32) -> Result<Num, &'static str> {
    let order = n.abs().to_u32().unwrap_or(u32::MAX);
    let whole = x.abs().trunc().to_f64().unwrap_or(f64::MAX);
    let cancelled = (whole * 0.87).ceil();
    if order > 1_000_000 || cancelled + f64::from(scale) > MAX_DIGITS as f64 {
        return Err(TOO_LARGE);
    }
    let w = scale + GUARD + cancelled as u32;
    let unit = pow10(w);
    let half = fixed(x, w) / 2;
    let quarter = mul(&half, &half, &unit);
    // (x/2)^n / n!
    let mut term = unit.clone();
    for k in 1..=order {
        term = mul(&term, &half, &unit) / k;
    }
    let mut sum = term.clone();
    let mut k = 0u32;
    loop {
        k += 1;
        term = -mul(&term, &quarter, &unit) / (u64::from(k) * u64::from(order + k));
        if term.is_zero() {
            break;
        }
        sum += &term;
    }
    if n.is_negative() && order % 2 == 1 {
        sum = -sum;
    }
    Ok(Num { v: sum, scale: w }.rescale(scale))
}
