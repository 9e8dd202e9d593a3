//! Calendar days in a time zone: what `daily`, `weekly` and `monthly` group by and `--since`/`--until` take.

use std::{fmt, str::FromStr};

use agentry_types::Timestamp;

use crate::error::Error;

/// A time zone for grouping requests by day: UTC, the system's local zone, or an IANA name.
#[derive(Debug, Clone)]
pub struct Zone {
    tz: jiff::tz::TimeZone,
    name: String,
}

impl Zone {
    /// Coordinated Universal Time.
    pub fn utc() -> Self {
        Self { tz: jiff::tz::TimeZone::UTC, name: "UTC".to_owned() }
    }

    /// The system's zone (`TZ`, else `/etc/localtime`), or UTC when it cannot be found.
    pub fn local() -> Self {
        let tz = jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC);
        let name = tz.iana_name().unwrap_or("local").to_owned();
        Self { tz, name }
    }

    /// An IANA zone such as `Asia/Tokyo`, or `UTC`.
    pub fn named(name: &str) -> Result<Self, Error> {
        let tz = jiff::tz::TimeZone::get(name)
            .map_err(|_| Error::param("timezone", name, "not an IANA time zone name such as Europe/Paris"))?;
        Ok(Self { tz, name: name.to_owned() })
    }

    /// The zone's name (`local` when the system zone has none).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The instant `day` begins in this zone (its first moment, even across a daylight-saving change).
    pub fn start_of(&self, day: Day) -> Timestamp {
        day.0.to_zoned(self.tz.clone()).map_or(Timestamp::UNIX_EPOCH, |z| {
            z.start_of_day().map_or(Timestamp::UNIX_EPOCH, |s| {
                Timestamp::from_unix_micros(s.timestamp().as_microsecond())
            })
        })
    }

    /// The calendar day of an instant in this zone.
    pub fn day_of(&self, t: Timestamp) -> Day {
        let day = jiff::Timestamp::from_microsecond(t.unix_micros())
            .map_or(jiff::civil::Date::MIN, |ts| ts.to_zoned(self.tz.clone()).date());
        Day(day)
    }
}

/// A calendar day, written `YYYY-MM-DD`; parsed from that form or `YYYYMMDD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(jiff::civil::Date);

impl Day {
    /// The day from its parts, checked.
    pub fn new(year: i16, month: i8, day: i8) -> Result<Self, Error> {
        jiff::civil::Date::new(year, month, day)
            .map(Self)
            .map_err(|_| Error::param("date", format!("{year:04}-{month:02}-{day:02}"), "no such day"))
    }

    /// The first day of the week holding this day, for weeks starting on `start`.
    pub fn week_start(self, start: Weekday) -> Self {
        let back = (self.0.weekday().to_monday_zero_offset() - start.monday_offset()).rem_euclid(7);
        Self(self.0.checked_sub(jiff::Span::new().days(back)).unwrap_or(self.0))
    }

    /// `YYYY-MM`, the month's key.
    pub fn month_key(self) -> String {
        format!("{:04}-{:02}", self.0.year(), self.0.month())
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.0.year(), self.0.month(), self.0.day())
    }
}

impl FromStr for Day {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::param("date", s, "expected YYYY-MM-DD or YYYYMMDD");
        let digits: String = match s.len() {
            8 => s.to_owned(),
            10 if s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-' => s.replace('-', ""),
            _ => return Err(bad()),
        };
        if !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() != 8 {
            return Err(bad());
        }
        let num = |r: std::ops::Range<usize>| digits[r].parse::<i16>().map_err(|_| bad());
        let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
        Self::new(y, m as i8, d as i8).map_err(|_| bad())
    }
}

/// The day a week starts on (`--start-of-week`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    fn monday_offset(self) -> i8 {
        self as i8
    }
}

impl FromStr for Weekday {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "monday" | "mon" => Self::Monday,
            "tuesday" | "tue" => Self::Tuesday,
            "wednesday" | "wed" => Self::Wednesday,
            "thursday" | "thu" => Self::Thursday,
            "friday" | "fri" => Self::Friday,
            "saturday" | "sat" => Self::Saturday,
            "sunday" | "sun" => Self::Sunday,
            _ => {
                return Err(Error::param("start of week", s, "expected a day name such as sunday or monday"));
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_week(day: &str, start: Weekday, want: &str) {
        let d: Day = day.parse().expect("day");
        assert_eq!(d.week_start(start).to_string(), want, "{day} {start:?}");
    }

    #[test]
    fn weeks_start_on_the_given_day() {
        // 2026-11-29 is a Sunday.
        check_week("2026-11-29", Weekday::Sunday, "2026-11-29");
        check_week("2026-11-29", Weekday::Monday, "2026-11-23");
        check_week("2026-11-30", Weekday::Monday, "2026-11-30");
        check_week("2026-12-05", Weekday::Sunday, "2026-11-29");
        check_week("2026-12-01", Weekday::Wednesday, "2026-11-25");
    }

    #[test]
    fn days_parse_in_both_forms_and_reject_others() {
        assert_eq!("20261129".parse::<Day>().map(|d| d.to_string()).ok().as_deref(), Some("2026-11-29"));
        assert_eq!("2026-11-29".parse::<Day>().map(|d| d.month_key()).ok().as_deref(), Some("2026-11"));
        for bad in ["2026-13-01", "2026-02-30", "26-11-29", "2026/11/29", "2026-1-299", ""] {
            assert!(bad.parse::<Day>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_day_depends_on_the_zone() {
        let t = Timestamp::from_unix_seconds(1_796_080_200); // 2026-11-30T23:10:00Z
        assert_eq!(Zone::utc().day_of(t).to_string(), "2026-11-30");
        assert_eq!(
            Zone::named("Asia/Tokyo").map(|z| z.day_of(t).to_string()).ok().as_deref(),
            Some("2026-12-01")
        );
        assert!(Zone::named("Mars/Olympus").is_err());
    }
}
