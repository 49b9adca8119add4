//! bc's numbers: a decimal value `v / 10^scale` of any length, with the
//! scale rules of POSIX bc (GNU's): a sum keeps the larger scale, a product
//! at most `max(scale, sa, sb)` digits, a quotient `scale` digits, each cut
//! off (truncated toward zero), never rounded.

use std::cmp::Ordering;

use num_bigint::{BigInt, Sign};
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

#[derive(Clone, Debug, Default)]
pub(crate) struct Num {
    pub(crate) v: BigInt,
    pub(crate) scale: u32,
}

pub(crate) fn pow10(n: u32) -> BigInt {
    num_traits::pow(BigInt::from(10u8), n as usize)
}

/// The most digits a value may have: beyond, a raise is refused, as GNU's
/// refuses an exponent beyond a long ("exponent too large in raise").
pub(crate) const MAX_DIGITS: u64 = 10_000_000;

impl Num {
    pub(crate) fn int(n: i64) -> Num {
        Num { v: BigInt::from(n), scale: 0 }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.v.is_zero()
    }

    pub(crate) fn is_negative(&self) -> bool {
        self.v.sign() == Sign::Minus
    }

    /// The value with `scale` digits after the point: more are cut off.
    pub(crate) fn rescale(&self, scale: u32) -> Num {
        match scale.cmp(&self.scale) {
            Ordering::Equal => self.clone(),
            Ordering::Greater => Num { v: &self.v * pow10(scale - self.scale), scale },
            Ordering::Less => Num { v: &self.v / pow10(self.scale - scale), scale },
        }
    }

    pub(crate) fn add(&self, other: &Num) -> Num {
        let scale = self.scale.max(other.scale);
        Num { v: self.rescale(scale).v + other.rescale(scale).v, scale }
    }

    pub(crate) fn sub(&self, other: &Num) -> Num {
        let scale = self.scale.max(other.scale);
        Num { v: self.rescale(scale).v - other.rescale(scale).v, scale }
    }

    pub(crate) fn abs(&self) -> Num {
        Num { v: self.v.abs(), scale: self.scale }
    }

    pub(crate) fn neg(&self) -> Num {
        Num { v: -&self.v, scale: self.scale }
    }

    /// The exact product.
    pub(crate) fn mul_exact(&self, other: &Num) -> Num {
        Num { v: &self.v * &other.v, scale: self.scale + other.scale }
    }

    pub(crate) fn mul(&self, other: &Num, scale: u32) -> Num {
        let full = self.scale + other.scale;
        self.mul_exact(other).rescale(full.min(scale.max(self.scale).max(other.scale)))
    }

    /// `self / other` with `scale` digits; `None` when `other` is zero.
    pub(crate) fn div(&self, other: &Num, scale: u32) -> Option<Num> {
        if other.is_zero() {
            return None;
        }
        let numerator = &self.v * pow10(scale + other.scale);
        let denominator = &other.v * pow10(self.scale);
        Some(Num { v: numerator / denominator, scale })
    }

    /// `self - (self / other) * other`, the quotient taken to `scale` digits.
    pub(crate) fn rem(&self, other: &Num, scale: u32) -> Option<Num> {
        let quotient = self.div(other, scale)?;
        let result = self.sub(&quotient.mul_exact(other));
        Some(result.rescale(self.scale.max(scale + other.scale)))
    }

    /// `self ^ exponent` (an integer); `Err` names why it cannot be made.
    pub(crate) fn pow(&self, exponent: &BigInt, scale: u32) -> Result<Num, &'static str> {
        let Some(e) = exponent.to_i64() else { return Err("exponent too large in raise") };
        if e == 0 {
            return Ok(Num::int(1));
        }
        let magnitude = e.unsigned_abs();
        let digits = self.v.magnitude().bits().max(1) as f64 * std::f64::consts::LOG10_2;
        if self.v.magnitude() > &One::one() && digits * magnitude as f64 > MAX_DIGITS as f64 {
            return Err("exponent too large in raise");
        }
        let Ok(small) = u32::try_from(magnitude) else {
            // |self| <= 1: 0, 1 or a fraction whose powers vanish.
            if self.is_zero() {
                return if e < 0 { Err("Divide by zero") } else { Ok(Num::int(0)) };
            }
            return Err("exponent too large in raise");
        };
        let exact_scale = u64::from(self.scale) * u64::from(small);
        if exact_scale > MAX_DIGITS {
            return Err("exponent too large in raise");
        }
        let exact = Num { v: num_traits::pow(self.v.clone(), small as usize), scale: exact_scale as u32 };
        if e < 0 {
            Num::int(1).div(&exact, scale).ok_or("Divide by zero")
        } else {
            let keep = exact.scale.min(scale.max(self.scale));
            Ok(exact.rescale(keep))
        }
    }

    /// The square root with `max(scale, self.scale)` digits.
    pub(crate) fn sqrt(&self, scale: u32) -> Option<Num> {
        if self.is_negative() {
            return None;
        }
        let keep = scale.max(self.scale);
        let radicand = &self.v * pow10(2 * keep - self.scale);
        Some(Num { v: radicand.sqrt(), scale: keep })
    }

    /// The integer part, cut toward zero.
    pub(crate) fn trunc(&self) -> BigInt {
        &self.v / pow10(self.scale)
    }

    pub(crate) fn cmp(&self, other: &Num) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.rescale(scale).v.cmp(&other.rescale(scale).v)
    }

    /// bc's `length`: the significant digits (the scale's, at least).
    pub(crate) fn length(&self) -> u64 {
        if self.is_zero() {
            return u64::from(self.scale.max(1));
        }
        let digits = self.v.magnitude().to_string().len() as u64;
        digits.max(u64::from(self.scale))
    }

    /// A literal in `ibase`: digits 0-9 and A-Z; a single digit is its own
    /// value whatever the base (so `ibase=A` means ten).
    pub(crate) fn parse(text: &str, ibase: u32) -> Num {
        let digit = |c: u8| match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            _ => u32::from(c - b'A') + 10,
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        if whole.len() == 1 && fraction.is_empty() {
            return Num::int(i64::from(digit(whole.as_bytes()[0])));
        }
        if ibase == 10 {
            let digits = format!("{whole}{fraction}");
            let v = if digits.is_empty() { BigInt::zero() } else { digits.parse().unwrap_or_default() };
            return Num { v, scale: fraction.len() as u32 };
        }
        let base = BigInt::from(ibase);
        let mut v = BigInt::zero();
        for c in whole.bytes() {
            v = v * &base + digit(c);
        }
        let scale = fraction.len() as u32;
        if scale == 0 {
            return Num { v, scale: 0 };
        }
        let mut numerator = BigInt::zero();
        for c in fraction.bytes() {
            numerator = numerator * &base + digit(c);
        }
        let denominator = num_traits::pow(base, fraction.len());
        let fraction = Num { v: numerator * pow10(scale) / denominator, scale };
        Num { v, scale: 0 }.add(&fraction)
    }

    /// The value as bc prints it in `obase`.
    pub(crate) fn format(&self, obase: u64) -> String {
        if self.is_zero() {
            return "0".into();
        }
        let mut out = String::new();
        if self.is_negative() {
            out.push('-');
        }
        let magnitude = self.v.abs();
        let unit = pow10(self.scale);
        let (whole, fraction) = magnitude.div_rem(&unit);
        if obase == 10 {
            if !whole.is_zero() {
                out.push_str(&whole.to_string());
            }
            if self.scale > 0 {
                let text = fraction.to_string();
                out.push('.');
                out.extend(std::iter::repeat_n('0', self.scale as usize - text.len()));
                out.push_str(&text);
            }
            return out;
        }
        // A digit above 15 prints as its decimal value, padded to the width
        // of the largest digit, after a space.
        let wide = obase > 16;
        let width = (obase - 1).to_string().len();
        let push_digit = |out: &mut String, d: u64, space: bool| {
            if wide {
                if space {
                    out.push(' ');
                }
                out.push_str(&format!("{d:0width$}"));
            } else {
                out.push(char::from_digit(d as u32, 16).unwrap_or('?').to_ascii_uppercase());
            }
        };
        let base = BigInt::from(obase);
        if !whole.is_zero() {
            let mut digits = Vec::new();
            let mut rest = whole;
            while !rest.is_zero() {
                let (q, r) = rest.div_rem(&base);
                digits.push(r.to_u64().unwrap_or(0));
                rest = q;
            }
            for d in digits.iter().rev() {
                push_digit(&mut out, *d, true);
            }
        }
        if self.scale > 0 {
            out.push('.');
            // As many digits as it takes for obase^k to reach 10^scale.
            let mut power = BigInt::one();
            let mut rest = fraction;
            let mut first = true;
            while power < unit {
                rest *= &base;
                let (d, r) = rest.div_rem(&unit);
                push_digit(&mut out, d.to_u64().unwrap_or(0), !first);
                first = false;
                rest = r;
                power *= &base;
            }
        }
        out
    }
}
