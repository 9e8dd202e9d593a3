use std::{
    fmt,
    iter::Sum,
    ops::{Add, AddAssign, Neg, Sub, SubAssign},
    str::FromStr,
};

use crate::error::ParseError;

const PICOS_PER_DOLLAR: i128 = 1_000_000_000_000;
const PICOS_PER_CENT: i128 = PICOS_PER_DOLLAR / 100;
const FRACTION_DIGITS: usize = 12;

/// An exact amount of US dollars, counted in picodollars (10⁻¹² USD).
///
/// Per-token prices are tiny (a cache read of $0.30 per million tokens is $0.0000003 a token), so a
/// picodollar keeps every published price and its multipliers exact, and an `i128` still holds more money
/// than exists. Never an `f64`: sums of reported costs must agree to the last digit.
///
/// `Display` prints the exact decimal with at least two fractional digits (`0.675`, `1.25`, `3.00`);
/// [`Usd::round_cents`] rounds half away from zero to whole cents for presentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Usd(i128);

impl Usd {
    /// Zero dollars.
    pub const ZERO: Self = Self(0);

    /// An amount given in picodollars (10⁻¹² USD).
    pub const fn from_picos(picos: i128) -> Self {
        Self(picos)
    }

    /// An amount given in microdollars (10⁻⁶ USD).
    pub const fn from_micros(micros: i64) -> Self {
        Self(micros as i128 * 1_000_000)
    }

    /// An amount given in whole cents.
    pub const fn from_cents(cents: i64) -> Self {
        Self(cents as i128 * PICOS_PER_CENT)
    }

    /// The amount in picodollars.
    pub const fn picos(self) -> i128 {
        self.0
    }

    /// Adds, or `None` on overflow.
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Multiplies by a whole number (a count of tokens, of requests), or `None` on overflow.
    pub const fn checked_mul(self, n: u64) -> Option<Self> {
        match self.0.checked_mul(n as i128) {
            Some(v) => Some(Self(v)),
            None => None,
        }
    }

    /// Whether the amount is below zero.
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// The amount rounded to whole cents, halves away from zero (`0.675` becomes `0.68`, `-0.005` becomes `-0.01`).
    pub const fn round_cents(self) -> Self {
        let rem = self.0 % PICOS_PER_CENT;
        let base = self.0 - rem;
        let adjust = if rem.abs() * 2 >= PICOS_PER_CENT { PICOS_PER_CENT * rem.signum() } else { 0 };
        Self(base + adjust)
    }

    /// The amount as an `f64`, for plots and ratios only: never for reported totals.
    pub fn to_f64_lossy(self) -> f64 {
        self.0 as f64 / PICOS_PER_DOLLAR as f64
    }
}

impl Add for Usd {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        Self(self.0 + other.0)
    }
}

impl AddAssign for Usd {
    fn add_assign(&mut self, other: Self) {
        self.0 += other.0;
    }
}

impl Sub for Usd {
    type Output = Self;

    fn sub(self, other: Self) -> Self {
        Self(self.0 - other.0)
    }
}

impl SubAssign for Usd {
    fn sub_assign(&mut self, other: Self) {
        self.0 -= other.0;
    }
}

impl Neg for Usd {
    type Output = Self;

    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl Sum for Usd {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl<'a> Sum<&'a Usd> for Usd {
    fn sum<I: Iterator<Item = &'a Usd>>(iter: I) -> Self {
        iter.copied().sum()
    }
}

impl fmt::Display for Usd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let whole = abs / PICOS_PER_DOLLAR as u128;
        let frac = abs % PICOS_PER_DOLLAR as u128;
        let digits = format!("{frac:012}");
        let trimmed = digits.trim_end_matches('0');
        let shown = if trimmed.len() < 2 { &digits[..2] } else { trimmed };
        write!(f, "{sign}{whole}.{shown}")
    }
}

impl FromStr for Usd {
    type Err = ParseError;

    /// Parses an exact decimal amount in dollars: `1.25`, `-0.000003`, `$5`, `0.675`.
    /// At most 12 fractional digits; no exponent, no separators.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| ParseError::Money { text: s.to_owned(), reason };
        let (negative, rest) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let rest = rest.strip_prefix('$').unwrap_or(rest);
        let (whole, frac) = match rest.split_once('.') {
            Some((w, f)) => (w, f),
            None => (rest, ""),
        };
        if whole.is_empty() && frac.is_empty() {
            return Err(bad("no digits"));
        }
        if !whole.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit()) {
            return Err(bad("expected digits with an optional sign, `$` and decimal point"));
        }
        if frac.len() > FRACTION_DIGITS {
            return Err(bad("more than 12 fractional digits (finer than a picodollar)"));
        }
        let overflow = || bad("amount too large");
        // Whole dollars up to u64::MAX (1.8e19) are plenty; u64 arithmetic keeps the hot loop cheap.
        let mut whole_value: u64 = 0;
        for c in whole.bytes() {
            whole_value = whole_value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(c - b'0')))
                .ok_or_else(overflow)?;
        }
        let mut frac_value: u64 = 0;
        for c in frac.bytes() {
            frac_value = frac_value * 10 + u64::from(c - b'0');
        }
        frac_value *= 10u64.pow((FRACTION_DIGITS - frac.len()) as u32);
        let picos = i128::from(whole_value) * PICOS_PER_DOLLAR + i128::from(frac_value);
        Ok(Self(if negative { -picos } else { picos }))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Usd {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Usd {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<&str>) {
        let parsed = text.parse::<Usd>();
        assert_eq!(
            parsed.as_ref().ok().map(ToString::to_string).as_deref(),
            expected,
            "{text:?}: {parsed:?}"
        );
    }

    fn round(text: &str, expected: &str) {
        assert_eq!(text.parse::<Usd>().unwrap().round_cents().to_string(), expected, "{text:?}");
    }

    #[test]
    fn whole() {
        check("5", Some("5.00"));
    }
    #[test]
    fn dollar_sign() {
        check("$1.25", Some("1.25"));
    }
    #[test]
    fn exact_fraction() {
        check("0.675", Some("0.675"));
    }
    #[test]
    fn smallest() {
        check("0.000000000001", Some("0.000000000001"));
    }
    #[test]
    fn negative() {
        check("-0.3", Some("-0.30"));
    }
    #[test]
    fn leading_point() {
        check(".5", Some("0.50"));
    }
    #[test]
    fn too_precise() {
        check("0.0000000000001", None);
    }
    #[test]
    fn garbage() {
        check("1e3", None);
        check("", None);
        check("-", None);
        check(".", None);
        check("1.2.3", None);
        check("--1", None);
        check("١", None);
    }
    #[test]
    fn overflow() {
        check(&"9".repeat(40), None);
    }
    #[test]
    fn rounds_half_up() {
        round("0.675", "0.68");
        round("0.674999", "0.67");
        round("1.225", "1.23");
        round("0.005", "0.01");
    }
    #[test]
    fn rounds_negative_away_from_zero() {
        round("-0.005", "-0.01");
        round("-0.004", "0.00");
    }
    #[test]
    fn arithmetic_is_exact() {
        let a: Usd = "0.1".parse().unwrap();
        let b: Usd = "0.2".parse().unwrap();
        assert_eq!((a + b).to_string(), "0.30");
        assert_eq!(Usd::from_micros(3).checked_mul(1_000_000), Some("3".parse().unwrap()));
        assert_eq!(Usd::from_cents(125), "1.25".parse().unwrap());
    }
}
