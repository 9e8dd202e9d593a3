//! Deterministic test tables for the column policy: the seed article's two runs and adversarial columns.

/// SplitMix64: the same seed gives the same tables on every machine.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    pub(crate) fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carlos", "Diana", "Emma", "Fatima", "George", "Hannah", "James", "Maria", "Noah",
    "Olivia", "Priya", "Samuel", "Wei", "Yuki",
];
const LAST: &[&str] = &[
    "Anderson", "Brown", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones", "Kowalski",
    "Lopez", "Moreau", "Nguyen", "Okafor", "Patel",
];
const DOMAINS: &[&str] = &["example.com", "mail.example.org", "example.net"];

fn uuid(rng: &mut Rng) -> String {
    let a = rng.next_u64();
    let b = rng.next_u64();
    let h = format!("{a:016x}{b:016x}");
    format!("{}-{}-4{}-a{}-{}", &h[..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
}

fn person(rng: &mut Rng) -> (String, String) {
    let first = rng.pick(FIRST);
    let last = rng.pick(LAST);
    let email =
        format!("{}.{}{}@{}", first.to_lowercase(), last.to_lowercase(), rng.below(100), rng.pick(DOMAINS));
    (format!("{first} {last}"), email)
}

fn phone(rng: &mut Rng) -> String {
    format!("+1 {} 555 {:04}", 200 + rng.below(700), rng.below(10_000))
}

/// A 16-digit Visa-style number with a valid Luhn check digit.
fn card(rng: &mut Rng) -> String {
    let mut digits: Vec<u8> = vec![4];
    for _ in 0..14 {
        digits.push(rng.below(10) as u8);
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    digits.push(((10 - sum % 10) % 10) as u8);
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// A German-style IBAN (`DE` + check digits + 18 digits) with valid mod-97 check digits.
fn iban(rng: &mut Rng) -> String {
    let bban: String = (0..18).map(|_| char::from(b'0' + rng.below(10) as u8)).collect();
    // Check digits: 98 - (BBAN ‖ "DE00" as digits) mod 97; D = 13, E = 14.
    let numeric = format!("{bban}131400");
    let rem = numeric.bytes().fold(0u32, |r, b| (r * 10 + u32::from(b - b'0')) % 97);
    format!("DE{:02}{bban}", 98 - rem)
}

fn ssn(rng: &mut Rng) -> String {
    format!("{:03}-{:02}-{:04}", 100 + rng.below(500), 10 + rng.below(89), 1000 + rng.below(9000))
}

fn csv_escape(s: &str) -> String {
    if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

fn to_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = header.join(",");
    out.push('\n');
    for r in rows {
        out.push_str(&r.iter().map(|v| csv_escape(v)).collect::<Vec<_>>().join(","));
        out.push('\n');
    }
    out
}

/// Rows per generated table: above the policy's 100-row guard, small enough to commit.
pub(crate) const ROWS: usize = 400;

/// Run 1 of the seed article: id, full_name, email, transaction_volume_30d, kyc_status.
pub(crate) fn run1_csv() -> String {
    let mut rng = Rng::new(1);
    let header = ["id", "full_name", "email", "transaction_volume_30d", "kyc_status"];
    let rows: Vec<Vec<String>> = (1..=ROWS)
        .map(|id| {
            let (name, email) = person(&mut rng);
            vec![
                id.to_string(),
                name,
                email,
                format!("{}.{:02}", rng.below(50_000), rng.below(100)),
                rng.pick(&["verified", "pending", "rejected"]).to_owned(),
            ]
        })
        .collect();
    to_csv(&header, &rows)
}

/// Run 2: the schema grew by fraud_risk_score, outstanding_balance_usd, risk_tier, user_ref and phone_number.
pub(crate) fn run2_csv() -> String {
    let mut rng = Rng::new(2);
    let header = [
        "id",
        "full_name",
        "email",
        "transaction_volume_30d",
        "kyc_status",
        "fraud_risk_score",
        "outstanding_balance_usd",
        "risk_tier",
        "user_ref",
        "phone_number",
    ];
    let rows: Vec<Vec<String>> = (1..=ROWS)
        .map(|id| {
            let (name, email) = person(&mut rng);
            vec![
                id.to_string(),
                name,
                email,
                format!("{}.{:02}", rng.below(50_000), rng.below(100)),
                rng.pick(&["verified", "pending", "rejected"]).to_owned(),
                format!("0.{:03}", rng.below(1000)),
                format!("{}.{:02}", rng.below(10_000), rng.below(100)),
                rng.pick(&["low", "medium", "high"]).to_owned(),
                uuid(&mut rng),
                phone(&mut rng),
            ]
        })
        .collect();
    to_csv(&header, &rows)
}

/// Innocent names over personal values, and high-cardinality machine values that must pass.
pub(crate) fn adversarial_csv() -> String {
    let mut rng = Rng::new(3);
    let header = [
        "id",
        "memo",
        "ref_a",
        "misc_number",
        "payload",
        "contact",
        "origin",
        "bank_ref",
        "tax_ref",
        "location",
        "order_code",
        "tracking_token",
        "comment",
        "unzipped_bytes",
    ];
    let comments = [
        "shipment delayed at hub",
        "package scanned at depot",
        "label reprinted after damage",
        "customs check passed for lot",
        "pallet moved to bay",
    ];
    let streets = ["Baker Street", "Main St", "Elm Avenue", "Harbor Road"];
    let rows: Vec<Vec<String>> = (1..=ROWS)
        .map(|id| {
            let (name, email) = person(&mut rng);
            vec![
                id.to_string(),
                format!("follow up with {email} about invoice {}", rng.below(100_000)),
                phone(&mut rng),
                card(&mut rng),
                {
                    let c = card(&mut rng);
                    format!("{} {} {} {}", &c[..4], &c[4..8], &c[8..12], &c[12..])
                },
                name,
                format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254)),
                iban(&mut rng),
                ssn(&mut rng),
                format!("{} {}", 1 + rng.below(9999), rng.pick(&streets)),
                format!("ORD-{}-{:06}", 2020 + rng.below(6), rng.below(1_000_000)),
                format!("{:016x}", rng.next_u64()),
                format!("{} {}", rng.pick(&comments), rng.below(500)),
                (1_000 + rng.below(1_000_000)).to_string(),
            ]
        })
        .collect();
    to_csv(&header, &rows)
}

/// A North American number without separators: a real area code, an exchange of 200 to 999, a line.
fn bare_us(rng: &mut Rng) -> u64 {
    let area: u64 = rng
        .pick(&["201", "212", "305", "312", "415", "512", "617", "702", "808", "917"])
        .parse()
        .expect("digits");
    area * 10_000_000 + (200 + rng.below(800)) * 10_000 + rng.below(10_000)
}

/// Phone numbers written without separators under innocent names, and digit columns that must pass:
/// Unix times in seconds and milliseconds, sequential and random 10-digit ids, dated order codes, zero-padded
/// codes.
pub(crate) fn bare_phones_csv() -> String {
    let mut rng = Rng::new(4);
    let header = [
        "id",
        "ref_b",
        "ref_c",
        "ref_d",
        "ref_e",
        "created_unix",
        "created_ms",
        "seq_ref",
        "random_ref",
        "order_no",
        "padded_code",
    ];
    let rows: Vec<Vec<String>> = (1..=ROWS as u64)
        .map(|id| {
            vec![
                id.to_string(),
                // UK national numbers: trunk prefix 0, then a London (20) or mobile (7) number.
                match rng.below(2) {
                    0 => format!("020{:08}", rng.below(100_000_000)),
                    _ => format!("07{:09}", 100_000_000 + rng.below(900_000_000)),
                },
                bare_us(&mut rng).to_string(),
                format!("1{}", bare_us(&mut rng)),
                format!("0044{}{:09}", 1 + rng.below(9), rng.below(1_000_000_000)),
                (1_700_000_000 + rng.below(40_000_000)).to_string(),
                (1_700_000_000_000 + rng.below(40_000_000_000)).to_string(),
                (7_345_210_000 + id).to_string(),
                (2_000_000_000 + rng.below(8_000_000_000)).to_string(),
                format!("2024{:02}{:02}{:02}", 1 + rng.below(12), 1 + rng.below(28), rng.below(100)),
                format!("{:011}", rng.below(1_000_000)),
            ]
        })
        .collect();
    to_csv(&header, &rows)
}

/// The same table as `csv`, as JSON Lines with typed values (numbers unquoted).
pub(crate) fn csv_to_jsonl(csv_text: &str) -> String {
    let mut lines = csv_text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut rdr = csv::ReaderBuilder::new().from_reader(csv_text.as_bytes());
    let mut out = String::new();
    for rec in rdr.records() {
        let rec = rec.expect("generated CSV is valid");
        // Written by hand: serde_json's map would sort the keys, and column order matters here.
        let fields: Vec<String> = header
            .iter()
            .zip(rec.iter())
            .map(|(k, v)| {
                let value = match v.parse::<serde_json::Number>() {
                    Ok(n) if !v.starts_with('0') || v == "0" || v.starts_with("0.") => {
                        serde_json::Value::Number(n)
                    }
                    _ => serde_json::Value::String(v.to_owned()),
                };
                format!("{}:{value}", serde_json::Value::String((*k).to_owned()))
            })
            .collect();
        out.push('{');
        out.push_str(&fields.join(","));
        out.push('}');
        out.push('\n');
    }
    out
}
