//! The column policy: plain rules in TOML, each with its description, and name matching on name tokens.

use std::{fmt, path::Path};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use toml::Spanned;

use crate::columns::profile::Dtype;

/// The built-in policy text, the one `ColumnPolicy::builtin` parses.
pub const BUILTIN_POLICY: &str = include_str!("default_policy.toml");

const BUILTIN_NAME: &str = "<built-in policy>";

/// A policy file that cannot be used: it names the file, the line and the field at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy {file}")]
    Read {
        /// The policy file.
        file: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, misses a field, or a field holds a value the policy does not allow.
    #[error("{file}:{line}: field `{field}`: {message}")]
    Invalid {
        /// The policy file.
        file: String,
        /// The 1-based line of the offending field.
        line: usize,
        /// The offending field (its key, or the table it belongs to).
        field: String,
        /// What is wrong with it.
        message: String,
    },
}

/// What the inspection of values decides, when no value judge is configured, for text that is neither
/// identifiers nor recognised personal information. The built-in policy says `Reject`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnrecognizedText {
    /// Treat it as a non-personal description.
    Pass,
    /// Fail closed: it may be personal information the inspectors do not know (the built-in default).
    Reject,
}

/// One personal-information category: name fragments that mark its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiCategory {
    /// Category name (`contact`).
    pub name: String,
    /// Why columns of this category are personal, in plain English.
    pub description: String,
    /// Fragments as name tokens (`postal_code` is `["postal", "code"]`).
    fragments: Vec<Vec<String>>,
    /// Fragments that, covering a match, make it not personal (`file_name` for the fragment `name`).
    except: Vec<Vec<String>>,
}

/// A name fragment found in a column name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMatch {
    /// The category whose fragment matched.
    pub category: String,
    /// The fragment, its tokens joined by `_`.
    pub fragment: String,
    /// The category's description.
    pub description: String,
}

/// `inspection.description_fraction` when a policy file leaves it out.
const DEFAULT_DESCRIPTION_FRACTION: f64 = 0.9;

/// The thresholds of value inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionRules {
    /// How many non-null values per column the profiler keeps as a random sample.
    pub sample_size: usize,
    /// The fraction of sampled values carrying one kind of personal information that rejects a column.
    pub reject_fraction: f64,
    /// The fraction of sampled values with one machine-generated shape that passes a column as identifiers.
    pub identifier_fraction: f64,
    /// The fraction of sampled values that must be prose for text with no personal information and nothing
    /// that could name a person to pass as a non-personal description.
    pub description_fraction: f64,
    /// Integer columns whose sampled values mostly have at least this many digits are inspected like text.
    pub long_integer_digits: usize,
    /// What text with no recognised shape gets when no judge is configured.
    pub unrecognized_text: UnrecognizedText,
    /// How many sampled values a value judge is shown.
    pub judge_sample: usize,
}

/// A column policy: which dtypes pass, what is high-cardinality, which names are personal, how values are
/// inspected. Parsed from TOML (`ColumnPolicy::from_toml`) or the built-in default (`ColumnPolicy::builtin`).
#[derive(Debug, Clone)]
pub struct ColumnPolicy {
    hash: String,
    /// The policy's own description.
    pub description: String,
    /// Dtypes that pass unless the name says otherwise.
    pub pass_dtypes: Vec<Dtype>,
    /// Description of the dtype rule.
    pub pass_description: String,
    /// Text is high-cardinality when distinct / non-null values exceeds this.
    pub high_text_ratio: f64,
    /// Below this many non-null values, text is inspected whatever its distinct ratio.
    pub min_rows: u64,
    /// Description of the cardinality rule.
    pub cardinality_description: String,
    /// Value inspection thresholds.
    pub inspection: InspectionRules,
    /// Description of the inspection rule.
    pub inspection_description: String,
    /// The personal-information categories, in file order.
    pub categories: Vec<PiiCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: Spanned<u32>,
    description: Spanned<String>,
    pass: RawPass,
    cardinality: RawCardinality,
    inspection: RawInspection,
    #[serde(default)]
    pii: Vec<RawCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPass {
    description: Spanned<String>,
    dtypes: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCardinality {
    description: Spanned<String>,
    high_text_ratio: Spanned<f64>,
    min_rows: Spanned<u64>,
    #[serde(default)]
    min_rows_description: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInspection {
    description: Spanned<String>,
    sample_size: Spanned<u64>,
    reject_fraction: Spanned<f64>,
    #[serde(default)]
    reject_fraction_description: Option<Spanned<String>>,
    identifier_fraction: Spanned<f64>,
    #[serde(default)]
    identifier_fraction_description: Option<Spanned<String>>,
    /// Optional, so policy files written before it keep parsing; the built-in value applies when absent.
    #[serde(default)]
    description_fraction: Option<Spanned<f64>>,
    #[serde(default)]
    description_fraction_description: Option<Spanned<String>>,
    long_integer_digits: Spanned<u64>,
    #[serde(default)]
    long_integer_digits_description: Option<Spanned<String>>,
    unrecognized_text: Spanned<String>,
    #[serde(default)]
    unrecognized_text_description: Option<Spanned<String>>,
    judge_sample: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    category: Spanned<String>,
    description: Spanned<String>,
    fragments: Vec<Spanned<String>>,
    #[serde(default)]
    except: Vec<Spanned<String>>,
}

struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, offset: usize, field: &str, message: impl Into<String>) -> PolicyError {
        PolicyError::Invalid {
            file: self.file.to_owned(),
            line: line_of(self.text, offset),
            field: field.to_owned(),
            message: message.into(),
        }
    }

    fn described(&self, s: &Spanned<String>, field: &str) -> Result<String, PolicyError> {
        let text = s.get_ref().trim();
        if text.is_empty() {
            return Err(self.err(
                s.span().start,
                field,
                "a rule's description must say in plain English what it does",
            ));
        }
        Ok(text.to_owned())
    }

    fn ratio(&self, v: &Spanned<f64>, field: &str) -> Result<f64, PolicyError> {
        let x = *v.get_ref();
        if !(0.0..=1.0).contains(&x) {
            return Err(self.err(v.span().start, field, format!("{x} is not a fraction between 0 and 1")));
        }
        Ok(x)
    }

    fn fragment(&self, s: &Spanned<String>, field: &str) -> Result<Vec<String>, PolicyError> {
        let tokens = name_tokens(s.get_ref());
        if tokens.is_empty() {
            return Err(self.err(
                s.span().start,
                field,
                format!("fragment {:?} has no name tokens", s.get_ref()),
            ));
        }
        Ok(tokens)
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|&&b| b == b'\n').count() + 1
}

/// The field a TOML error is about, qualified by its table (`cardinality.min_rows`): the field a "missing",
/// "unknown" or "duplicate field" message names, else the key on the offending line.
fn field_of(message: &str, text: &str, offset: usize) -> String {
    let named = ["missing field", "unknown field", "duplicate field"]
        .iter()
        .any(|p| message.starts_with(p))
        .then(|| message.split('`').nth(1))
        .flatten();
    // Spans are byte offsets at token starts; `get` keeps a malformed one from panicking on a char boundary.
    let before = text.get(..offset).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text.get(line_start..).unwrap_or("").split('\n').next().unwrap_or("").trim();
    // The table: the header on the offending line, else the last header above it.
    let header = if line.starts_with('[') {
        Some(line)
    } else {
        before.lines().rev().map(str::trim).find(|l| l.starts_with('['))
    };
    let table = header.map_or("", |h| h.trim_matches(|c| c == '[' || c == ']').trim());
    let key = match named {
        Some(n) => n,
        None if line.starts_with('[') => "",
        None => line.split('=').next().unwrap_or("").trim(),
    };
    match (table, key) {
        ("", "") => "(document)".to_owned(),
        ("", k) => k.to_owned(),
        (t, "") => t.to_owned(),
        (t, k) => format!("{t}.{k}"),
    }
}

impl ColumnPolicy {
    /// The built-in policy (the rules of issue 7: numeric, boolean, date and low-cardinality text pass;
    /// personal name fragments reject; text above 3% distinct is inspected by value).
    pub fn builtin() -> Self {
        Self::from_toml(BUILTIN_POLICY, BUILTIN_NAME)
            .expect("the built-in policy is valid; a unit test parses it")
    }

    /// Reads a policy file.
    pub fn from_path(path: &Path) -> Result<Self, PolicyError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Read { file: file.clone(), source })?;
        Self::from_toml(&text, &file)
    }

    /// Parses policy TOML; `file` names the source in errors.
    pub fn from_toml(text: &str, file: &str) -> Result<Self, PolicyError> {
        let ctx = Ctx { file, text };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let message = e.message().trim().to_owned();
            ctx.err(offset, &field_of(&message, text, offset), message)
        })?;
        if *raw.version.get_ref() != 1 {
            return Err(ctx.err(raw.version.span().start, "version", "this build reads policy version 1"));
        }
        let description = ctx.described(&raw.description, "description")?;

        let pass_description = ctx.described(&raw.pass.description, "pass.description")?;
        let mut pass_dtypes = Vec::new();
        for d in &raw.pass.dtypes {
            let dtype = Dtype::from_name(d.get_ref()).ok_or_else(|| {
                ctx.err(
                    d.span().start,
                    "pass.dtypes",
                    format!("unknown dtype {:?} (known: {})", d.get_ref(), Dtype::NAMES.join(", ")),
                )
            })?;
            pass_dtypes.push(dtype);
        }

        let c = &raw.cardinality;
        let cardinality_description = ctx.described(&c.description, "cardinality.description")?;
        if let Some(d) = &c.min_rows_description {
            ctx.described(d, "cardinality.min_rows_description")?;
        }
        let high_text_ratio = ctx.ratio(&c.high_text_ratio, "cardinality.high_text_ratio")?;

        let i = &raw.inspection;
        let inspection_description = ctx.described(&i.description, "inspection.description")?;
        for (d, field) in [
            (&i.reject_fraction_description, "inspection.reject_fraction_description"),
            (&i.identifier_fraction_description, "inspection.identifier_fraction_description"),
            (&i.description_fraction_description, "inspection.description_fraction_description"),
            (&i.long_integer_digits_description, "inspection.long_integer_digits_description"),
            (&i.unrecognized_text_description, "inspection.unrecognized_text_description"),
        ] {
            if let Some(d) = d {
                ctx.described(d, field)?;
            }
        }
        let sample_size = *i.sample_size.get_ref();
        if !(1..=1_000_000).contains(&sample_size) {
            return Err(ctx.err(
                i.sample_size.span().start,
                "inspection.sample_size",
                format!("{sample_size} is not in 1..=1000000"),
            ));
        }
        let digits = *i.long_integer_digits.get_ref();
        if !(1..=64).contains(&digits) {
            return Err(ctx.err(
                i.long_integer_digits.span().start,
                "inspection.long_integer_digits",
                format!("{digits} is not in 1..=64"),
            ));
        }
        let unrecognized_text = match i.unrecognized_text.get_ref().as_str() {
            "pass" => UnrecognizedText::Pass,
            "reject" => UnrecognizedText::Reject,
            other => {
                return Err(ctx.err(
                    i.unrecognized_text.span().start,
                    "inspection.unrecognized_text",
                    format!("{other:?} is neither \"pass\" nor \"reject\""),
                ));
            }
        };
        let judge_sample = *i.judge_sample.get_ref();
        if !(1..=1000).contains(&judge_sample) {
            return Err(ctx.err(
                i.judge_sample.span().start,
                "inspection.judge_sample",
                format!("{judge_sample} is not in 1..=1000"),
            ));
        }
        let inspection = InspectionRules {
            sample_size: sample_size as usize,
            reject_fraction: ctx.ratio(&i.reject_fraction, "inspection.reject_fraction")?,
            identifier_fraction: ctx.ratio(&i.identifier_fraction, "inspection.identifier_fraction")?,
            description_fraction: match &i.description_fraction {
                Some(f) => ctx.ratio(f, "inspection.description_fraction")?,
                None => DEFAULT_DESCRIPTION_FRACTION,
            },
            long_integer_digits: digits as usize,
            unrecognized_text,
            judge_sample: judge_sample as usize,
        };

        let mut categories: Vec<PiiCategory> = Vec::new();
        for cat in &raw.pii {
            let name = cat.category.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(ctx.err(cat.category.span().start, "pii.category", "a category needs a name"));
            }
            if categories.iter().any(|c| c.name == name) {
                return Err(ctx.err(
                    cat.category.span().start,
                    "pii.category",
                    format!("category {name:?} is defined twice"),
                ));
            }
            let description = ctx.described(&cat.description, "pii.description")?;
            if cat.fragments.is_empty() {
                return Err(ctx.err(
                    cat.category.span().start,
                    "pii.fragments",
                    format!("category {name:?} lists no fragments"),
                ));
            }
            let fragments =
                cat.fragments.iter().map(|f| ctx.fragment(f, "pii.fragments")).collect::<Result<_, _>>()?;
            let except =
                cat.except.iter().map(|f| ctx.fragment(f, "pii.except")).collect::<Result<_, _>>()?;
            categories.push(PiiCategory { name, description, fragments, except });
        }

        let hash = format!("sha256:{}", agentry_types::encode_hex(&Sha256::digest(text.as_bytes())));
        Ok(Self {
            hash,
            description,
            pass_dtypes,
            pass_description,
            high_text_ratio,
            min_rows: *c.min_rows.get_ref(),
            cardinality_description,
            inspection,
            inspection_description,
            categories,
        })
    }

    /// `sha256:<hex>` of the policy text, recorded with every audited decision.
    pub fn hash(&self) -> &str {
        &self.hash
    }

    /// The personal-information fragment a column name matches, if any: fragments match whole name tokens
    /// in sequence, and the longest match wins (`ip_address` is identity, not contact).
    pub fn match_name(&self, column: &str) -> Option<NameMatch> {
        let tokens = name_tokens(column);
        let mut best: Option<(usize, &PiiCategory, &Vec<String>)> = None;
        for cat in &self.categories {
            for frag in &cat.fragments {
                let Some(at) = find_seq(&tokens, frag) else { continue };
                let excepted = cat.except.iter().any(|ex| covers(&tokens, ex, at, frag.len()));
                if excepted {
                    continue;
                }
                if best.is_none_or(|(len, _, _)| frag.len() > len) {
                    best = Some((frag.len(), cat, frag));
                }
            }
        }
        best.map(|(_, cat, frag)| NameMatch {
            category: cat.name.clone(),
            fragment: frag.join("_"),
            description: cat.description.clone(),
        })
    }
}

impl fmt::Display for NameMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` ({})", self.fragment, self.category)
    }
}

fn find_seq(tokens: &[String], frag: &[String]) -> Option<usize> {
    if frag.is_empty() || frag.len() > tokens.len() {
        return None;
    }
    (0..=tokens.len() - frag.len()).find(|&i| tokens[i..i + frag.len()] == *frag)
}

/// Whether an occurrence of `ex` in `tokens` covers the match `at..at + len`.
fn covers(tokens: &[String], ex: &[String], at: usize, len: usize) -> bool {
    if ex.len() > tokens.len() {
        return false;
    }
    (0..=tokens.len() - ex.len())
        .any(|i| tokens[i..i + ex.len()] == *ex && i <= at && at + len <= i + ex.len())
}

/// Splits a column name into lowercase tokens at snake, kebab, dot and space separators and at camel-case
/// and letter/digit boundaries: `customerEmail` is `["customer", "email"]`, `IPAddress` is `["ip", "address"]`.
pub fn name_tokens(name: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            flush(&mut cur, &mut out);
            continue;
        }
        if let Some(&prev) = i.checked_sub(1).and_then(|j| chars.get(j)) {
            let next = chars.get(i + 1).copied();
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase))
                || (prev.is_ascii_digit() != c.is_ascii_digit() && prev.is_alphanumeric());
            if boundary {
                flush(&mut cur, &mut out);
            }
        }
        // A lowercase mapping can expand into a combining mark (`İ` is `i` + U+0307), which is not part of
        // a name token: keep only the alphanumeric characters of the mapping.
        cur.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
    }
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut String, out: &mut Vec<String>) {
    if !cur.is_empty() {
        out.push(std::mem::take(cur));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(column: &str, expected: Option<&str>) {
        let got =
            ColumnPolicy::builtin().match_name(column).map(|m| format!("{}:{}", m.category, m.fragment));
        assert_eq!(got.as_deref(), expected, "{column}");
    }

    #[test]
    fn builtin_parses() {
        let p = ColumnPolicy::builtin();
        assert_eq!(p.categories.len(), 4);
        assert_eq!(p.high_text_ratio, 0.03);
        assert_eq!(p.inspection.unrecognized_text, UnrecognizedText::Reject);
        assert!(p.hash().starts_with("sha256:"));
    }

    #[test]
    fn builtin_fragments_are_the_issues_lists() {
        // Issue 7's lists, word for word, in its order.
        let expected: [(&str, &[&str]); 4] = [
            ("names", &["name", "full_name", "first_name", "last_name", "username"]),
            ("contact", &["email", "phone", "mobile", "address", "city", "zip", "postal_code"]),
            ("financial", &["card_number", "iban", "account_number", "routing_number", "cvv", "pan"]),
            (
                "identity",
                &[
                    "ssn",
                    "passport",
                    "national_id",
                    "tax_id",
                    "dob",
                    "date_of_birth",
                    "ip_address",
                    "device_id",
                ],
            ),
        ];
        let p = ColumnPolicy::builtin();
        let got: Vec<(String, Vec<String>)> = p
            .categories
            .iter()
            .map(|c| (c.name.clone(), c.fragments.iter().map(|f| f.join("_")).collect()))
            .collect();
        let want: Vec<(String, Vec<String>)> = expected
            .iter()
            .map(|(c, fs)| ((*c).to_owned(), fs.iter().map(|f| (*f).to_owned()).collect()))
            .collect();
        assert_eq!(got, want);
        assert!(p.categories.iter().all(|c| c.except.is_empty()));
    }

    #[test]
    fn user_ref_is_not_a_name() {
        check("user_ref", None);
    }
    #[test]
    fn customer_email_is_email() {
        check("customer_email", Some("contact:email"));
    }
    #[test]
    fn zip_not_inside_a_token() {
        check("unzipped_bytes", None);
    }
    #[test]
    fn zip_code() {
        check("zip_code", Some("contact:zip"));
    }
    #[test]
    fn camel_case() {
        check("customerEmail", Some("contact:email"));
    }
    #[test]
    fn acronym() {
        check("IPAddress", Some("identity:ip_address"));
    }
    #[test]
    fn kebab() {
        check("date-of-birth", Some("identity:date_of_birth"));
    }
    #[test]
    fn longest_wins() {
        check("ip_address", Some("identity:ip_address"));
    }
    #[test]
    fn full_name() {
        check("full_name", Some("names:full_name"));
    }
    #[test]
    fn username_is_one_token() {
        check("username", Some("names:username"));
    }
    #[test]
    fn no_match_in_company() {
        check("company", None);
    }
    #[test]
    fn pan_whole_token() {
        check("pan", Some("financial:pan"));
        check("expand_ratio", None);
    }
    #[test]
    fn kyc_status() {
        check("kyc_status", None);
    }

    #[test]
    fn tokens() {
        assert_eq!(name_tokens("transaction_volume_30d"), ["transaction", "volume", "30", "d"]);
        assert_eq!(name_tokens("HTTPServerName"), ["http", "server", "name"]);
    }

    #[test]
    fn lowercase_expansion_keeps_tokens_alphanumeric() {
        // `İ` (U+0130) lowercases to `i` followed by the combining dot U+0307.
        assert_eq!(name_tokens("İ"), ["i"]);
        assert_eq!(name_tokens("İlEmail"), ["il", "email"]);
        assert_eq!(name_tokens("customer_EMAİL"), ["customer", "email"]);
        check("customer_EMAİL", Some("contact:email"));
        check("İP_ADDRESS", Some("identity:ip_address"));
    }

    #[test]
    fn except_covers_match() {
        let text = BUILTIN_POLICY.replace(
            "fragments = [\"name\", \"full_name\", \"first_name\", \"last_name\", \"username\"]",
            "fragments = [\"name\", \"full_name\", \"first_name\", \"last_name\", \"username\"]\nexcept = [\"file_name\"]",
        );
        let p = ColumnPolicy::from_toml(&text, "p.toml").expect("valid");
        assert!(p.match_name("file_name").is_none());
        assert!(p.match_name("owner_name").is_some());
        assert_ne!(p.hash(), ColumnPolicy::builtin().hash());
    }

    fn check_err(text: &str, line: usize, field: &str) {
        match ColumnPolicy::from_toml(text, "p.toml") {
            Err(PolicyError::Invalid { file, line: l, field: f, .. }) => {
                assert_eq!((file.as_str(), l, f.as_str()), ("p.toml", line, field), "{text}");
            }
            other => panic!("expected an invalid-policy error, got {other:?}"),
        }
    }

    fn line_number(needle: &str) -> usize {
        BUILTIN_POLICY.lines().position(|l| l.contains(needle)).expect("needle in policy") + 1
    }

    #[test]
    fn bad_ratio_names_line_and_field() {
        let text = BUILTIN_POLICY.replace("high_text_ratio = 0.03", "high_text_ratio = 3.0");
        check_err(&text, line_number("high_text_ratio"), "cardinality.high_text_ratio");
    }

    #[test]
    fn empty_description_rejected() {
        let text = BUILTIN_POLICY.replace(
            "description = \"Contact details reach a person directly or locate where they live.\"",
            "description = \"  \"",
        );
        check_err(&text, line_number("Contact details"), "pii.description");
    }

    #[test]
    fn unknown_dtype() {
        let text = BUILTIN_POLICY.replace("\"timestamp\"]", "\"timestmp\"]");
        check_err(&text, line_number("dtypes = "), "pass.dtypes");
    }

    #[test]
    fn unknown_field() {
        let text = BUILTIN_POLICY.replace("min_rows = 100", "min_rows = 100\nmin_rowz = 5");
        check_err(&text, line_number("min_rows = 100") + 1, "cardinality.min_rowz");
    }

    #[test]
    fn missing_description_named() {
        let text = BUILTIN_POLICY
            .replace("description = \"Account and card numbers give access to a person's money.\"\n", "");
        match ColumnPolicy::from_toml(&text, "p.toml") {
            Err(PolicyError::Invalid { field, .. }) => assert_eq!(field, "pii.description"),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_type_names_field() {
        let text = BUILTIN_POLICY.replace("min_rows = 100", "min_rows = \"many\"");
        match ColumnPolicy::from_toml(&text, "p.toml") {
            Err(PolicyError::Invalid { line, field, .. }) => {
                assert_eq!((line, field.as_str()), (line_number("min_rows = 100"), "cardinality.min_rows"));
            }
            other => panic!("expected an error, got {other:?}"),
        }
    }
}
