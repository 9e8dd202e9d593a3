use agentry_types::Usd;

const MILLION: i128 = 1_000_000;

/// The cost of `tokens` at a price given in dollars per million tokens, exact to the picodollar.
///
/// Published prices are whole picodollars per token in every row we know, so the division is exact;
/// a price finer than that (a fraction of a picodollar per token) is rounded half up once, on the product.
pub fn cost_of(tokens: u64, per_mtok: Usd) -> Usd {
    let product = per_mtok.picos() * tokens as i128;
    Usd::from_picos(div_round_half_up(product, MILLION))
}

/// `num / den` rounded half away from zero, for `den > 0`.
pub(crate) fn div_round_half_up(num: i128, den: i128) -> i128 {
    let q = num / den;
    let r = num % den;
    if r.abs() * 2 >= den { q + num.signum() } else { q }
}

/// An amount rounded half up (away from zero) to `decimals` fractional digits, for display.
///
/// `round_to(0.3375, 3)` is `0.338`: the article's 50K row, which float rounding can get wrong.
pub fn round_to(amount: Usd, decimals: u32) -> Usd {
    let decimals = decimals.min(12);
    let unit = 10i128.pow(12 - decimals);
    Usd::from_picos(div_round_half_up(amount.picos(), unit) * unit)
}

/// An amount as text with exactly `decimals` fractional digits, rounded half up.
pub fn format_usd(amount: Usd, decimals: u32) -> String {
    let decimals = decimals.min(12);
    let rounded = round_to(amount, decimals);
    let text = rounded.to_string();
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    if decimals == 0 {
        return whole.to_owned();
    }
    let mut frac = frac.to_owned();
    frac.truncate(decimals as usize);
    while frac.len() < decimals as usize {
        frac.push('0');
    }
    format!("{whole}.{frac}")
}

/// Parses a non-negative decimal number (`0.000003`, `3e-06`, `12`) scaled by `10^shift` into picodollars,
/// exactly. Used for LiteLLM's per-token prices (shift 6 gives dollars per million tokens).
pub(crate) fn parse_decimal_scaled(text: &str, shift: i32) -> Option<Usd> {
    let text = text.trim();
    let (mantissa, exp) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let (whole, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = format!("{whole}{frac}");
    let digits = digits.trim_start_matches('0');
    let mut value: i128 = if digits.is_empty() { 0 } else { digits.parse().ok()? };
    // value * 10^(exp + shift + 12 - frac.len()) picodollars.
    let power = exp + shift + 12 - frac.len() as i32;
    if power >= 0 {
        value = value.checked_mul(10i128.checked_pow(power as u32)?)?;
    } else {
        let den = 10i128.checked_pow((-power) as u32)?;
        value = div_round_half_up(value, den);
    }
    Some(Usd::from_picos(value))
}

/// `a / b` as a float, for ratios of prices (multipliers): exact inputs, one rounding.
pub(crate) fn ratio(a: Usd, b: Usd) -> f64 {
    a.picos() as f64 / b.picos() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(s: &str) -> Usd {
        s.parse().expect("test amount")
    }

    fn check_round(amount: &str, decimals: u32, expected: &str) {
        assert_eq!(format_usd(usd(amount), decimals), expected, "{amount} to {decimals}");
    }

    fn check_scaled(text: &str, shift: i32, expected: Option<&str>) {
        assert_eq!(parse_decimal_scaled(text, shift), expected.map(usd), "{text} << {shift}");
    }

    #[test]
    fn article_half_up() {
        check_round("0.3375", 3, "0.338");
        check_round("0.4625", 3, "0.463");
        check_round("0.6125", 3, "0.613");
        check_round("0.7625", 3, "0.763");
        check_round("1.225", 2, "1.23");
        check_round("5", 2, "5.00");
        check_round("0.004", 0, "0");
    }
    #[test]
    fn cost_is_exact() {
        assert_eq!(cost_of(100_000, usd("6.25")), usd("0.625"));
        assert_eq!(cost_of(100_000, usd("0.5")), usd("0.05"));
        assert_eq!(cost_of(1, usd("0.000001")), Usd::from_picos(1));
        assert_eq!(cost_of(1, usd("0.0000001")), Usd::ZERO);
        assert_eq!(cost_of(3, usd("0.0000005")), Usd::from_picos(2));
    }
    #[test]
    fn litellm_numbers() {
        check_scaled("0.000003", 6, Some("3"));
        check_scaled("3e-06", 6, Some("3"));
        check_scaled("3.75e-06", 6, Some("3.75"));
        check_scaled("1.5e-07", 6, Some("0.15"));
        check_scaled("0", 6, Some("0"));
        check_scaled("abc", 6, None);
        check_scaled("-1", 6, None);
        check_scaled("", 6, None);
    }
}
