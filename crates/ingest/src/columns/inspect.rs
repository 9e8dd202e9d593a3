//! Deterministic value inspectors: what kind of personal information, or what machine-generated shape, a
//! sampled value carries.

use std::{
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
    sync::LazyLock,
};

use regex::Regex;
use serde::Serialize;

/// What an inspector recognised in a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    /// An email address.
    Email,
    /// A phone number (a `+` country prefix or separators, 10 to 15 digits).
    Phone,
    /// A payment card number (13 to 19 digits passing the Luhn check).
    PaymentCard,
    /// An IBAN (country, check digits passing ISO 7064 mod 97-10).
    Iban,
    /// A US social security number (`AAA-GG-SSSS`, with the ranges never issued excluded).
    Ssn,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A street address (house number, words, a street suffix).
    StreetAddress,
    /// A person's name (capitalised words with a common given name).
    PersonName,
    /// A UUID (`8-4-4-4-12` hex).
    Uuid,
    /// A hex token of at least 8 characters.
    HexId,
    /// A base64 or base64url token of at least 16 characters mixing letters and digits.
    Base64Id,
    /// A short code: up to 32 characters of letters, digits and `-_./:#`, with a digit, no spaces.
    ShortCode,
}

impl ValueKind {
    /// Whether the kind is personal information (rejects a column) rather than a machine shape.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Self::Email
                | Self::Phone
                | Self::PaymentCard
                | Self::Iban
                | Self::Ssn
                | Self::IpAddress
                | Self::StreetAddress
                | Self::PersonName
        )
    }

    /// Plural noun phrase for reasons ("email addresses").
    pub fn plural(self) -> &'static str {
        match self {
            Self::Email => "email addresses",
            Self::Phone => "phone numbers",
            Self::PaymentCard => "payment card numbers (Luhn-valid)",
            Self::Iban => "IBANs (mod-97 valid)",
            Self::Ssn => "social security numbers",
            Self::IpAddress => "IP addresses",
            Self::StreetAddress => "street addresses",
            Self::PersonName => "person names",
            Self::Uuid => "UUIDs",
            Self::HexId => "hex identifiers",
            Self::Base64Id => "base64 identifiers",
            Self::ShortCode => "short codes",
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.plural())
    }
}

/// How many sampled values carried each kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Inspection {
    /// Values inspected.
    pub sampled: usize,
    /// Values containing each kind of personal information, largest count first.
    pub personal: Vec<(ValueKind, usize)>,
    /// Values whose whole text has each machine shape, largest count first.
    pub shapes: Vec<(ValueKind, usize)>,
    /// Among 13 to 19 digit runs, how many failed the Luhn check: many failures mean random numbers.
    pub card_candidates: usize,
    /// Values that are phone numbers written without separators (`4155550134`, `02079460958`); a bare digit
    /// string is ambiguous alone, so these reject a column only when they are at least 90% of the sample and
    /// sparse over their numeric range (a dense run is identifiers).
    pub bare_phones: usize,
    /// Values that read as prose (three or more words, mostly letters), the shape of a description or a note.
    pub prose: usize,
    /// Values holding something that could name a person: a capitalized common given name, or two capitalized
    /// words in a row. Prose passes as a non-personal description only when no sampled value has one.
    pub name_like: usize,
}

/// The fraction of sampled values that must be bare phone numbers for a column to read as phone numbers:
/// uniformly random 10-digit numbers have a North American phone structure about 70 to 80% of the time,
/// so a lower bar would take random identifiers for phone numbers.
pub(crate) const BARE_PHONE_FRACTION: f64 = 0.9;

/// Bare phone numbers as dense as this (distinct values over the numeric range they span) are a run of
/// identifiers, not phone numbers: a column of 100,000 numbers within one area code (10^7 numbers) is as
/// dense as 0.01, numbers over several area codes far sparser, while sequential ids approach 1.
pub(crate) const BARE_PHONE_ID_DENSITY: f64 = 0.01;

/// Country codes (without `+`) and the lengths of the national numbers that follow them, for digit strings
/// written in international form without the plus: the United Kingdom, France, Germany, Australia, India,
/// Japan, China, Spain, Italy, the Netherlands, Brazil and Mexico. North America (`1`) is checked apart.
const COUNTRY_CODES: &[(&str, std::ops::RangeInclusive<usize>)] = &[
    ("44", 10..=10),
    ("33", 9..=9),
    ("49", 10..=11),
    ("61", 9..=9),
    ("91", 10..=10),
    ("81", 9..=10),
    ("86", 11..=11),
    ("34", 9..=9),
    ("39", 9..=10),
    ("31", 9..=9),
    ("55", 10..=11),
    ("52", 10..=10),
];

/// A ten-digit North American number: area code and exchange start with 2 to 9, the area code is not a
/// service code (`N11`), and the number does not start with a `YYYYMMDD` date (order codes like
/// `2024010512` have a valid area code and exchange).
fn nanp(d: &[u8]) -> bool {
    d.len() == 10
        && (b'2'..=b'9').contains(&d[0])
        && (b'2'..=b'9').contains(&d[3])
        && !(d[1] == b'1' && d[2] == b'1')
        && !yyyymmdd(&d[..8])
}

fn yyyymmdd(d: &[u8]) -> bool {
    let n = |r: std::ops::Range<usize>| d[r].iter().fold(0u32, |a, b| a * 10 + u32::from(b - b'0'));
    let (year, month, day) = (n(0..4), n(4..6), n(6..8));
    (1900..=2099).contains(&year) && (1..=12).contains(&month) && (1..=31).contains(&day)
}

/// Whether a whole value is a phone number written without separators, only digits:
/// - ten digits: a North American number (`nanp`), or a national number after the trunk prefix `0`
///   (`0` then 1 to 9: `0612345678`);
/// - eleven digits: `1` then a North American number, or trunk prefix `0` then 1 to 9 (`02079460958`);
/// - twelve to fifteen digits: the international call prefix `00` then a country code (1 to 9);
/// - a listed country code then a national number of that country's length, starting 1 to 9.
///
/// Unix times in seconds (`1700000000`) start with 1, which no ten-digit form here does; zero-padded
/// identifiers (`00000012345`) fail the trunk and international rules.
pub(crate) fn bare_phone(value: &str) -> bool {
    let d = value.trim().as_bytes();
    if !(10..=15).contains(&d.len()) || !d.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let nonzero = |b: u8| (b'1'..=b'9').contains(&b);
    let trunk = d[0] == b'0' && nonzero(d[1]);
    match d.len() {
        10 => nanp(d) || trunk,
        11 if d[0] == b'1' => nanp(&d[1..]),
        11 if trunk => true,
        _ if d[0] == b'0' && d[1] == b'0' => d.len() >= 12 && nonzero(d[2]),
        n => COUNTRY_CODES.iter().any(|(cc, national)| {
            d.starts_with(cc.as_bytes()) && national.contains(&(n - cc.len())) && nonzero(d[cc.len()])
        }),
    }
}

/// When most sampled values are bare phone numbers, whether they are instead a dense run of identifiers:
/// `distinct` (the column's distinct count) over the numeric range the bare values span, at least
/// `BARE_PHONE_ID_DENSITY`. Returns the density either way, for the reason.
pub(crate) fn bare_phone_density(values: &[String], distinct: u64) -> Option<f64> {
    let nums = values.iter().filter(|v| bare_phone(v)).filter_map(|v| v.trim().parse::<u64>().ok());
    let (lo, hi) = nums.fold(None, |acc: Option<(u64, u64)>, x| match acc {
        None => Some((x, x)),
        Some((lo, hi)) => Some((lo.min(x), hi.max(x))),
    })?;
    Some(distinct as f64 / ((hi - lo) as f64 + 1.0))
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        static $name: LazyLock<Regex> =
            LazyLock::new(|| Regex::new($pat).expect("a literal pattern compiles"));
    };
}

re!(EMAIL, r"(?i)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}");
re!(DIGIT_RUN, r"\+?\(?\d[\d ().-]*\d");
re!(SSN, r"\b(\d{3})-(\d{2})-(\d{4})\b");
re!(IBAN, r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b");
re!(IPV4, r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b");
re!(IPV6, r"[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*");
re!(
    STREET,
    r"(?i)\b\d{1,5}\s+(?:[a-z]+\s+){1,4}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|way|place|pl|terrace|square|sq)\b"
);

/// Luhn (mod 10) check over ASCII digits.
pub fn luhn_valid(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut x = u32::from(d - b'0');
        if i % 2 == 1 {
            x *= 2;
            if x > 9 {
                x -= 9;
            }
        }
        sum += x;
    }
    sum.is_multiple_of(10)
}

/// IBAN check: move the first four characters to the end, letters to 10..35, remainder mod 97 must be 1.
pub fn iban_valid(iban: &str) -> bool {
    let s: Vec<u8> = iban.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !(15..=34).contains(&s.len()) || !s.iter().all(u8::is_ascii_alphanumeric) {
        return false;
    }
    let mut rem = 0u32;
    for &b in s[4..].iter().chain(&s[..4]) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            _ => return false,
        };
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn ssn_valid(area: &str, group: &str, serial: &str) -> bool {
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000"
}

/// The digit runs of a value that stand alone (not glued to letters, as in `ORD-2024-000123`).
fn standalone_runs(value: &str) -> impl Iterator<Item = (usize, &str)> {
    DIGIT_RUN.find_iter(value).filter_map(move |m| {
        let before = value[..m.start()].chars().next_back();
        let after = value[m.end()..].chars().next();
        let glued =
            |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '/');
        (!glued(before) && !glued(after)).then_some((m.start(), m.as_str()))
    })
}

fn looks_like_date(run: &str) -> bool {
    let b = run.as_bytes();
    let d = |i: usize| b.get(i).is_some_and(u8::is_ascii_digit);
    (b.len() >= 10 && (0..4).all(d) && b[4] == b'-' && d(5) && d(6) && b[7] == b'-')
        || (b.len() >= 10 && d(0) && d(1) && b[2] == b'/' && d(3) && d(4) && b[5] == b'/')
}

fn phone_in(run: &str) -> bool {
    let digits = run.bytes().filter(u8::is_ascii_digit).count();
    if !(10..=15).contains(&digits) || looks_like_date(run) {
        return false;
    }
    let plus = run.starts_with('+');
    let seps: Vec<u8> = run.bytes().filter(|b| matches!(b, b' ' | b'-' | b'(' | b')' | b'.')).collect();
    // A single dot is a decimal number, not a phone number.
    if !plus && (seps.is_empty() || seps == b".") {
        return false;
    }
    true
}

/// 13 to 19 digits with at most single space or dash separators.
fn card_digits(run: &str) -> Option<Vec<u8>> {
    if run.contains("  ") || run.contains("--") || run.starts_with('+') || run.contains(['(', ')', '.']) {
        return None;
    }
    let digits: Vec<u8> = run.bytes().filter(u8::is_ascii_digit).collect();
    (13..=19).contains(&digits.len()).then_some(digits)
}

/// Common given names, used by the person-name heuristic (lowercase).
const GIVEN_NAMES: &[&str] = &[
    "aaron",
    "adam",
    "ahmed",
    "aisha",
    "alex",
    "alexander",
    "alice",
    "amanda",
    "amelia",
    "amy",
    "ana",
    "andrea",
    "andrew",
    "angela",
    "anna",
    "anne",
    "anthony",
    "antonio",
    "ava",
    "barbara",
    "ben",
    "benjamin",
    "betty",
    "bob",
    "brian",
    "carlos",
    "carol",
    "catherine",
    "charles",
    "charlotte",
    "chen",
    "chris",
    "christopher",
    "claire",
    "daniel",
    "david",
    "deborah",
    "dennis",
    "diana",
    "donald",
    "dorothy",
    "edward",
    "elena",
    "elizabeth",
    "ella",
    "emily",
    "emma",
    "eric",
    "fatima",
    "frank",
    "gary",
    "george",
    "grace",
    "hannah",
    "harry",
    "helen",
    "henry",
    "hiroshi",
    "isabella",
    "jack",
    "jacob",
    "james",
    "jane",
    "jason",
    "jennifer",
    "jessica",
    "joan",
    "john",
    "jonathan",
    "jose",
    "joseph",
    "joshua",
    "juan",
    "julia",
    "karen",
    "kate",
    "kevin",
    "kimberly",
    "laura",
    "li",
    "linda",
    "lisa",
    "lucas",
    "lucy",
    "luis",
    "maria",
    "mark",
    "mary",
    "matthew",
    "mei",
    "melissa",
    "michael",
    "michelle",
    "mohammed",
    "muhammad",
    "nancy",
    "nicholas",
    "noah",
    "olivia",
    "oliver",
    "patricia",
    "paul",
    "peter",
    "priya",
    "rachel",
    "raj",
    "rebecca",
    "richard",
    "robert",
    "ronald",
    "ryan",
    "samuel",
    "sandra",
    "sarah",
    "sophia",
    "stephen",
    "steven",
    "susan",
    "thomas",
    "timothy",
    "tom",
    "wei",
    "william",
    "yuki",
    "zoe",
];

fn is_name_word(w: &str) -> bool {
    let mut chars = w.chars();
    let Some(first) = chars.next() else { return false };
    first.is_uppercase()
        && w.chars().count() >= 2
        && w.chars().all(|c| c.is_alphabetic() || c == '\'' || c == '-')
        && w.chars().skip(1).any(char::is_lowercase)
}

fn is_initial(w: &str) -> bool {
    let b = w.as_bytes();
    b.len() == 2 && b[0].is_ascii_uppercase() && b[1] == b'.'
}

fn given(w: &str) -> bool {
    let w = w.to_lowercase();
    GIVEN_NAMES.contains(&w.as_str())
}

/// "First [M.] Last" or "Last, First" with a common given name, 2 to 4 words.
fn person_name(value: &str) -> bool {
    let v = value.trim();
    if let Some((last, first)) = v.split_once(", ") {
        let firsts: Vec<&str> = first.split(' ').collect();
        return is_name_word(last)
            && !firsts.is_empty()
            && firsts.iter().all(|w| is_name_word(w) || is_initial(w))
            && given(firsts[0]);
    }
    let words: Vec<&str> = v.split(' ').collect();
    (2..=4).contains(&words.len())
        && is_name_word(words[0])
        && is_name_word(words[words.len() - 1])
        && words.iter().all(|w| is_name_word(w) || is_initial(w))
        && given(words[0])
}

/// The words of `value` with surrounding punctuation trimmed.
fn bare_words(value: &str) -> impl Iterator<Item = &str> {
    value.split_whitespace().map(|w| w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-'))
}

/// Three or more words, at least half of the non-space characters letters: a description or a note.
fn prose(value: &str) -> bool {
    let non_space = value.chars().filter(|c| !c.is_whitespace()).count();
    let letters = value.chars().filter(|c| c.is_alphabetic()).count();
    value.split_whitespace().nth(2).is_some() && letters * 2 >= non_space
}

/// Whether `value` holds something that could name a person: a capitalized common given name anywhere (even
/// first: notes start with who called), or two capitalized words in a row (`Ivan Petrov`, also `Office Chair`:
/// the check errs towards holding text back).
fn name_like(value: &str) -> bool {
    let mut previous_capitalized = false;
    for w in bare_words(value) {
        let capitalized = is_name_word(w);
        if capitalized && (previous_capitalized || given(w)) {
            return true;
        }
        previous_capitalized = capitalized;
    }
    false
}

/// The personal-information kinds a value contains.
pub fn personal_kinds(value: &str) -> Vec<ValueKind> {
    let mut out = Vec::new();
    if value.contains('@') && EMAIL.is_match(value) {
        out.push(ValueKind::Email);
    }
    let has_digit = value.bytes().any(|b| b.is_ascii_digit());
    if has_digit {
        let mut phone = false;
        let mut card = false;
        // Digits inside a valid IBAN belong to the IBAN, not to a phone or card number.
        let ibans: Vec<(usize, usize)> =
            IBAN.find_iter(value).filter(|m| iban_valid(m.as_str())).map(|m| (m.start(), m.end())).collect();
        for (start, run) in standalone_runs(value) {
            if ibans.iter().any(|&(s, e)| start >= s && start < e) {
                continue;
            }
            if let Some(d) = card_digits(run)
                && luhn_valid(&d)
                && !d.iter().all(|&x| x == d[0])
            {
                card = true;
                continue;
            }
            phone |= phone_in(run);
        }
        if card {
            out.push(ValueKind::PaymentCard);
        }
        if phone {
            out.push(ValueKind::Phone);
        }
        if SSN.captures_iter(value).any(|c| ssn_valid(&c[1], &c[2], &c[3])) {
            out.push(ValueKind::Ssn);
        }
        if !ibans.is_empty() {
            out.push(ValueKind::Iban);
        }
        if STREET.is_match(value) {
            out.push(ValueKind::StreetAddress);
        }
    }
    let ip = (has_digit && IPV4.find_iter(value).any(|m| m.as_str().parse::<Ipv4Addr>().is_ok()))
        || (value.contains(':')
            && IPV6.find_iter(value).any(|m| {
                let s = m.as_str().trim_end_matches('.');
                s.matches(':').count() >= 2 && s.parse::<Ipv6Addr>().is_ok()
            }));
    if ip {
        out.push(ValueKind::IpAddress);
    }
    if person_name(value) {
        out.push(ValueKind::PersonName);
    }
    out
}

/// Whether a 13 to 19 digit run of the value exists (Luhn-valid or not).
fn has_card_candidate(value: &str) -> bool {
    standalone_runs(value).any(|(_, r)| card_digits(r).is_some())
}

/// The machine-generated shape of a whole value, if it has one.
pub fn shape(value: &str) -> Option<ValueKind> {
    let v = value.trim();
    let b = v.as_bytes();
    if b.is_empty() || b.iter().any(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let hex = |s: &[u8]| s.iter().all(u8::is_ascii_hexdigit);
    if b.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| b[i] == b'-')
        && b.iter().enumerate().all(|(i, c)| [8, 13, 18, 23].contains(&i) || c.is_ascii_hexdigit())
    {
        return Some(ValueKind::Uuid);
    }
    let digit = b.iter().any(u8::is_ascii_digit);
    if b.len() >= 8 && hex(b) && b.iter().any(u8::is_ascii_alphabetic) && digit {
        return Some(ValueKind::HexId);
    }
    if b.len() <= 32 && digit && b.iter().all(|c| c.is_ascii_alphanumeric() || b"-_./:#".contains(c)) {
        return Some(ValueKind::ShortCode);
    }
    let body = v.trim_end_matches('=');
    if body.len() >= 16
        && digit
        && body.bytes().any(|c| c.is_ascii_alphabetic())
        && body.bytes().all(|c| c.is_ascii_alphanumeric() || b"+/-_".contains(&c))
    {
        return Some(ValueKind::Base64Id);
    }
    None
}

/// Inspects sampled values: counts, per kind, the values carrying each kind of personal information and the
/// values having each machine shape. Luhn-valid card runs count only when most card-length runs are valid
/// (random 16-digit numbers pass Luhn one time in ten).
pub fn inspect(values: &[String]) -> Inspection {
    let mut personal: Vec<(ValueKind, usize)> = Vec::new();
    let mut shapes: Vec<(ValueKind, usize)> = Vec::new();
    let mut card_candidates = 0;
    let mut bare_phones = 0;
    let mut prose_values = 0;
    let mut name_like_values = 0;
    let bump = |list: &mut Vec<(ValueKind, usize)>, k: ValueKind| match list.iter_mut().find(|(x, _)| *x == k)
    {
        Some((_, n)) => *n += 1,
        None => list.push((k, 1)),
    };
    for v in values {
        for k in personal_kinds(v) {
            bump(&mut personal, k);
        }
        if has_card_candidate(v) {
            card_candidates += 1;
        }
        if let Some(s) = shape(v) {
            bump(&mut shapes, s);
        }
        if bare_phone(v) {
            bare_phones += 1;
        }
        prose_values += usize::from(prose(v));
        name_like_values += usize::from(name_like(v));
    }
    if let Some(pos) = personal.iter().position(|(k, _)| *k == ValueKind::PaymentCard)
        && personal[pos].1 * 2 < card_candidates
    {
        personal.remove(pos);
    }
    personal.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    shapes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Inspection {
        sampled: values.len(),
        personal,
        shapes,
        card_candidates,
        bare_phones,
        prose: prose_values,
        name_like: name_like_values,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: &str, expected: &[ValueKind]) {
        assert_eq!(personal_kinds(value), expected, "{value:?}");
    }

    use ValueKind::*;

    fn check_prose(value: &str, is_prose: bool, names: bool) {
        assert_eq!((prose(value), name_like(value)), (is_prose, names), "{value:?}");
    }

    #[test]
    fn descriptions_and_names_in_text() {
        check_prose("shipment delayed at hub 412", true, false);
        check_prose("Stainless water bottle with a 750 ml capacity, model 312", true, false);
        check_prose("Customer asked to call back tomorrow (ticket 55120)", true, false);
        check_prose("Called Ivan Petrov about the refund", true, true);
        check_prose("John called about the refund", true, true);
        check_prose("left with neighbour, per Maria", true, true);
        check_prose("Ergonomic Office Chair in grey", true, true);
        // The documented limit: an uncommon first name written in lowercase is not seen.
        check_prose("asked olga to call back", true, false);
        check_prose("ORD-2024-001234", false, false);
        check_prose("hub 412", false, false);
        check_prose("12 34 56 78", false, false);
    }

    #[test]
    fn email() {
        check("jane.doe+x@example.co.uk", &[Email]);
        check("write to bob@mail.example.org today", &[Email]);
        check("a@b", &[]);
    }
    #[test]
    fn phone() {
        check("+1 415 555 0134", &[Phone]);
        check("(415) 555-0134", &[Phone]);
        check("+44 20 7946 0958", &[Phone]);
        check("415.555.0134", &[Phone]);
    }
    #[test]
    fn not_phone() {
        check("ORD-2024-000123", &[]);
        check("2024-01-05 10:22:33", &[]);
        check("12345678.90", &[]);
        check("4155550134", &[]);
    }
    fn bare(value: &str, expected: bool) {
        assert_eq!(bare_phone(value), expected, "{value:?}");
    }

    #[test]
    fn bare_phones() {
        bare("4155550134", true);
        bare("14155550134", true);
        bare("02079460958", true);
        bare("0612345678", true);
        bare("00442079460958", true);
        bare("442079460958", true);
        bare("33612345678", true);
    }
    #[test]
    fn not_bare_phones() {
        // Unix seconds, milliseconds, zero-padded ids, N11 and 0/1 exchanges, dated order codes, short codes.
        bare("1700000000", false);
        bare("1712345678901", false);
        bare("00000012345", false);
        bare("4110000000", false);
        bare("4151550134", false);
        bare("2024010512", false);
        bare("02139", false);
        bare("415-555-0134", false);
        bare("0044207946095812345", false);
        bare("440079460958", false);
    }
    #[test]
    fn dense_bare_phones_are_ids() {
        let seq: Vec<String> = (0..400).map(|i| (7_345_210_000u64 + i).to_string()).collect();
        assert!(bare_phone_density(&seq, 400).is_some_and(|d| d >= BARE_PHONE_ID_DENSITY));
        let spread: Vec<String> = (0..400).map(|i| (2_125_550_000u64 + i * 17_000_003).to_string()).collect();
        assert!(bare_phone_density(&spread, 400).is_some_and(|d| d < BARE_PHONE_ID_DENSITY));
        assert_eq!(bare_phone_density(&["abc".to_owned()], 1), None);
    }
    #[test]
    fn card() {
        check("4111 1111 1111 1111", &[PaymentCard]);
        check("4111111111111111", &[PaymentCard]);
        check("5500-0000-0000-0004", &[PaymentCard]);
        check("4111111111111112", &[]);
    }
    #[test]
    fn iban() {
        check("GB82 WEST 1234 5698 7654 32", &[Iban]);
        check("DE89370400440532013000", &[Iban]);
        check("DE89370400440532013001", &[]);
    }
    #[test]
    fn ssn() {
        check("123-45-6789", &[Ssn]);
        check("666-45-6789", &[]);
        check("123-00-6789", &[]);
    }
    #[test]
    fn ip() {
        check("10.0.0.1", &[IpAddress]);
        check("from 2001:db8::8a2e:370:7334 at", &[IpAddress]);
        check("999.1.1.1", &[]);
        check("10:22:33", &[]);
        check("1.2.3", &[]);
    }
    #[test]
    fn street() {
        check("221 Baker Street", &[StreetAddress]);
        check("1600 Pennsylvania Ave", &[StreetAddress]);
    }
    #[test]
    fn names() {
        check("Jane Doe", &[PersonName]);
        check("Doe, Jane", &[PersonName]);
        check("Mary J. O'Brien-Smith", &[PersonName]);
        check("Late Payment", &[]);
        check("jane doe", &[]);
    }
    #[test]
    fn shapes() {
        assert_eq!(shape("3f2b8c1e-9d4a-4e7b-8f6a-1c2d3e4f5a6b"), Some(Uuid));
        assert_eq!(shape("deadbeef01"), Some(HexId));
        assert_eq!(shape("ORD-7F3K-0042"), Some(ShortCode));
        assert_eq!(shape("cus_9fK2aLx"), Some(ShortCode));
        assert_eq!(shape("aGVsbG8gd29ybGQgMTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3A="), Some(Base64Id));
        assert_eq!(shape("hello world"), None);
        assert_eq!(shape("status"), None);
    }
    #[test]
    fn luhn_and_random_numbers() {
        // Ten random-looking 16-digit numbers of which one happens to pass Luhn: not a card column.
        let mut values: Vec<String> =
            (0..9).map(|i| format!("{}", 1_234_567_890_123_450u64 + i * 7 + 1)).collect();
        values.retain(|v| !luhn_valid(v.as_bytes()));
        values.push("4111111111111111".to_owned());
        let ins = inspect(&values);
        assert!(ins.personal.iter().all(|(k, _)| *k != PaymentCard), "{ins:?}");
    }
}
