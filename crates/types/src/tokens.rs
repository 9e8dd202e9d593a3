use std::{fmt, iter::Sum, ops::Add, str::FromStr};

use crate::error::ParseError;

/// A count of tokens, as a provider's usage report gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize), serde(transparent))]
pub struct TokenCount(pub u64);

impl TokenCount {
    /// No tokens.
    pub const ZERO: Self = Self(0);

    /// The count as a plain integer.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// Adds two counts, saturating at `u64::MAX` instead of overflowing.
    pub const fn saturating_add(self, other: Self) -> Self {
        Self(self.0.saturating_add(other.0))
    }
}

impl Add for TokenCount {
    type Output = Self;

    fn add(self, other: Self) -> Self {
        self.saturating_add(other)
    }
}

impl Sum for TokenCount {
    fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
        iter.fold(Self::ZERO, Add::add)
    }
}

impl From<u64> for TokenCount {
    fn from(n: u64) -> Self {
        Self(n)
    }
}

impl fmt::Display for TokenCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for TokenCount {
    type Err = ParseError;

    /// Parses a decimal count; `_` and `,` are accepted as digit separators (`100_000`, `100,000`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| ParseError::Number { what: "token count", text: s.to_owned(), reason };
        let digits: String = s.trim().chars().filter(|c| !matches!(c, '_' | ',')).collect();
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad("expected a non-negative decimal integer"));
        }
        digits.parse().map(Self).map_err(|_| bad("does not fit in 64 bits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<u64>) {
        assert_eq!(text.parse::<TokenCount>().ok().map(TokenCount::get), expected, "{text:?}");
    }

    #[test]
    fn plain() {
        check("100000", Some(100_000));
    }
    #[test]
    fn separators() {
        check("100_000", Some(100_000));
        check("1,000,000", Some(1_000_000));
    }
    #[test]
    fn negative() {
        check("-5", None);
    }
    #[test]
    fn empty() {
        check("", None);
        check("_", None);
    }
    #[test]
    fn overflow() {
        check("18446744073709551616", None);
    }
    #[test]
    fn fraction() {
        check("1.5", None);
    }
    #[test]
    fn sum_saturates() {
        let total: TokenCount = [TokenCount(u64::MAX), TokenCount(1)].into_iter().sum();
        assert_eq!(total, TokenCount(u64::MAX));
    }
}
