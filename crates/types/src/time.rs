use std::{fmt, str::FromStr};

use crate::error::ParseError;

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// An instant in UTC, in microseconds since the Unix epoch.
///
/// The text form is RFC 3339 (`2026-11-24T13:49:54.123Z`); parsing accepts any offset (`+02:00`), a space
/// instead of `T`, and up to nine fractional digits (digits past microseconds are dropped). `Display`
/// prints UTC with `Z` and milliseconds, or microseconds when they are not whole milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The Unix epoch.
    pub const UNIX_EPOCH: Self = Self(0);

    /// An instant given in microseconds since the Unix epoch.
    pub const fn from_unix_micros(micros: i64) -> Self {
        Self(micros)
    }

    /// An instant given in milliseconds since the Unix epoch (saturating).
    pub const fn from_unix_millis(millis: i64) -> Self {
        Self(millis.saturating_mul(1000))
    }

    /// An instant given in whole seconds since the Unix epoch (saturating).
    pub const fn from_unix_seconds(seconds: i64) -> Self {
        Self(seconds.saturating_mul(MICROS_PER_SECOND))
    }

    /// Microseconds since the Unix epoch.
    pub const fn unix_micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded toward negative infinity.
    pub const fn unix_seconds(self) -> i64 {
        self.0.div_euclid(MICROS_PER_SECOND)
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        match since {
            Ok(d) => Self(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
            Err(e) => Self(-i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX)),
        }
    }

    /// The UTC calendar date as `(year, month, day)`.
    pub const fn date(self) -> (i64, u32, u32) {
        civil_from_days(self.unix_seconds().div_euclid(SECONDS_PER_DAY))
    }
}

// Howard Hinnant's days_from_civil / civil_from_days, proleptic Gregorian calendar.
const fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + if m <= 2 { 1 } else { 0 }, m, d)
}

const fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.unix_seconds();
        let micros = self.0.rem_euclid(MICROS_PER_SECOND);
        let (y, mo, d) = civil_from_days(secs.div_euclid(SECONDS_PER_DAY));
        let tod = secs.rem_euclid(SECONDS_PER_DAY);
        write!(f, "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}", tod / 3600, tod / 60 % 60, tod % 60)?;
        if micros % 1000 == 0 { write!(f, ".{:03}Z", micros / 1000) } else { write!(f, ".{micros:06}Z") }
    }
}

fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0')))
}

impl FromStr for Timestamp {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason| ParseError::Timestamp { text: s.to_owned(), reason };
        let b = s.as_bytes();
        let field = |at, n| digits(b, at, n).ok_or_else(|| bad("expected YYYY-MM-DDTHH:MM:SS"));
        let (year, month, day) = (field(0, 4)?, field(5, 2)?, field(8, 2)?);
        let (hour, minute, second) = (field(11, 2)?, field(14, 2)?, field(17, 2)?);
        if b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
        }
        let month = u32::try_from(month).map_err(|_| bad("month out of range"))?;
        let day = u32::try_from(day).map_err(|_| bad("day out of range"))?;
        if !(1..=12).contains(&month) {
            return Err(bad("month out of range"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(bad("day out of range for the month"));
        }
        // A leap second (:60) is taken as the last microsecond of its minute's 59th second.
        if hour > 23 || minute > 59 || second > 60 {
            return Err(bad("time of day out of range"));
        }
        let mut at = 19;
        let mut micros = 0i64;
        if b.get(at) == Some(&b'.') {
            at += 1;
            let start = at;
            while b.get(at).is_some_and(u8::is_ascii_digit) {
                at += 1;
            }
            let frac = &s[start..at];
            if frac.is_empty() || frac.len() > 9 {
                return Err(bad("fraction of a second must have 1 to 9 digits"));
            }
            let kept = &frac.as_bytes()[..frac.len().min(6)];
            micros = kept.iter().fold(0i64, |acc, &c| acc * 10 + i64::from(c - b'0'));
            micros *= 10i64.pow(6 - kept.len() as u32);
        }
        let offset_seconds = match &b[at..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let (oh, om) = (field(at + 1, 2)?, field(at + 4, 2)?);
                if oh > 23 || om > 59 {
                    return Err(bad("offset out of range"));
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'-' { -o } else { o }
            }
            [] => return Err(bad("missing UTC offset (Z or +HH:MM)")),
            _ => return Err(bad("invalid UTC offset: expected Z or +HH:MM")),
        };
        let (second, micros) = if second == 60 { (59, 999_999) } else { (second, micros) };
        let days = days_from_civil(year, month, day);
        let secs = days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second - offset_seconds;
        Ok(Self(secs * MICROS_PER_SECOND + micros))
    }
}

#[cfg(feature = "serde")]
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: Option<&str>) {
        let parsed = text.parse::<Timestamp>();
        assert_eq!(
            parsed.as_ref().ok().map(ToString::to_string).as_deref(),
            expected,
            "{text:?}: {parsed:?}"
        );
    }

    #[test]
    fn epoch() {
        check("1970-01-01T00:00:00Z", Some("1970-01-01T00:00:00.000Z"));
        assert_eq!("1970-01-01T00:00:00Z".parse::<Timestamp>(), Ok(Timestamp::UNIX_EPOCH));
    }
    #[test]
    fn claude_code_form() {
        check("2025-06-01T12:34:56.789Z", Some("2025-06-01T12:34:56.789Z"));
        assert_eq!(
            "2025-06-01T12:34:56.789Z".parse::<Timestamp>().unwrap().unix_micros(),
            1_748_781_296_789_000
        );
    }
    #[test]
    fn micros_kept() {
        check("2025-06-01T12:34:56.123456Z", Some("2025-06-01T12:34:56.123456Z"));
    }
    #[test]
    fn nanos_dropped() {
        check("2025-06-01T12:34:56.123456789Z", Some("2025-06-01T12:34:56.123456Z"));
    }
    #[test]
    fn offsets() {
        check("2025-06-01T14:34:56+02:00", Some("2025-06-01T12:34:56.000Z"));
        check("2025-06-01T00:30:00-01:00", Some("2025-06-01T01:30:00.000Z"));
    }
    #[test]
    fn space_separator() {
        check("2024-02-29 23:59:59Z", Some("2024-02-29T23:59:59.000Z"));
    }
    #[test]
    fn before_epoch() {
        check("1969-12-31T23:59:59.5Z", Some("1969-12-31T23:59:59.500Z"));
    }
    #[test]
    fn invalid_dates() {
        check("2023-02-29T00:00:00Z", None);
        check("2024-13-01T00:00:00Z", None);
        check("2024-04-31T00:00:00Z", None);
        check("2024-04-00T00:00:00Z", None);
    }
    #[test]
    fn invalid_times() {
        check("2024-04-01T24:00:00Z", None);
        check("2024-04-01T00:60:00Z", None);
        check("2024-04-01T00:00:00", None);
        check("2024-04-01T00:00:00.Z", None);
        check("2024-04-01T00:00:00+2:00", None);
        check("2024-04-01T00:00:00Zjunk", None);
    }
    #[test]
    fn garbage_does_not_panic() {
        check("", None);
        check("2024", None);
        check("2024-04-01Té0:00:00Z", None);
        check("éééééééééééééééééééé", None);
    }
    #[test]
    fn date_of() {
        assert_eq!("2026-11-24T13:49:54Z".parse::<Timestamp>().unwrap().date(), (2026, 11, 24));
    }
}
