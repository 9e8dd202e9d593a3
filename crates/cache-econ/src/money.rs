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

/// Fractional bits below the picodollar kept while summing probability-weighted terms.
const GRID_BITS: u32 = 32;

/// An expected amount: the sum of `amount x weight` over `terms`, where a weight is a probability or an
/// expected count.
///
/// This is the one place where a probability meets money, and the one rounding: each weight is taken at its
/// exact binary value, the products are summed to 2^-32 of a picodollar (a single term exactly), and the sum
/// is rounded half up (away from zero) to the picodollar once.
/// `None` when a weight is negative or not finite, or a product does not fit.
pub fn expected_usd(terms: &[(Usd, f64)]) -> Option<Usd> {
    let mut sum: i128 = 0;
    for &(amount, weight) in terms {
        if !weight.is_finite() || weight < 0.0 {
            return None;
        }
        if weight == 0.0 {
            continue;
        }
        // weight = mantissa x 2^exp exactly; trailing zeros dropped so 0.5 multiplies by 1 and halves.
        let bits = weight.to_bits();
        let exp_bits = ((bits >> 52) & 0x7ff) as i32;
        let fraction = bits & ((1u64 << 52) - 1);
        let (mantissa, exp) =
            if exp_bits == 0 { (fraction, -1074) } else { (fraction | (1u64 << 52), exp_bits - 1075) };
        let zeros = mantissa.trailing_zeros();
        let (mantissa, exp) = (mantissa >> zeros, exp + zeros as i32);
        let product = amount.picos().unsigned_abs().checked_mul(u128::from(mantissa))?;
        // The product in units of 2^-GRID_BITS picodollars, truncated toward zero.
        let shift = exp + GRID_BITS as i32;
        let units = if shift >= 0 {
            // Keep the top bit clear so the value fits an i128.
            if product.leading_zeros() <= shift as u32 {
                return None;
            }
            product << shift
        } else {
            product.checked_shr(shift.unsigned_abs()).unwrap_or(0)
        };
        let units = i128::try_from(units).ok()?;
        sum = sum.checked_add(if amount.is_negative() { -units } else { units })?;
    }
    // Truncation never lifts a value over the half-way mark, so half up on the truncated sum is exact for a
    // single term (and for several unless their dropped bits add up to a unit just below it).
    Some(Usd::from_picos(div_round_half_up(sum, 1i128 << GRID_BITS)))
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
    fn check_expected(amount: &str, weight: f64, expected: Option<&str>) {
        assert_eq!(expected_usd(&[(usd(amount), weight)]), expected.map(usd), "{amount} x {weight}");
    }

    #[test]
    fn expected_values_round_once_half_up() {
        check_expected("0.05", 0.5, Some("0.025"));
        // 0.8 is 0.8000000000000000444 in binary: the excess is far below a picodollar.
        check_expected("0.05", 0.8, Some("0.04"));
        check_expected("0.625", 1.0 - 0.2, Some("0.5"));
        check_expected("0.05", 5.25, Some("0.2625"));
        check_expected("0.000000000001", 0.5, Some("0.000000000001"));
        check_expected("0.000000000003", 0.5, Some("0.000000000002"));
        check_expected("-0.000000000001", 0.5, Some("-0.000000000001"));
        check_expected("0.000000000001", 0.49999999999999994, Some("0"));
        check_expected("1", f64::from_bits(1), Some("0"));
        check_expected("1", 0.0, Some("0"));
        check_expected("1", -0.5, None);
        check_expected("1", f64::NAN, None);
        check_expected("1", f64::INFINITY, None);
        check_expected("1", 1e300, None);
        // Exact for the binary third (0.33333333333333331483...), which a billion dollars makes visible.
        check_expected("1000000000", 1.0 / 3.0, Some("333333333.333333314830"));
        assert_eq!(expected_usd(&[(Usd::from_picos(i128::MAX / 2), 4.0)]), None);
        assert_eq!(expected_usd(&[(Usd::from_picos(i128::MAX), 1.5)]), None);
        assert_eq!(expected_usd(&[]), Some(Usd::ZERO));
        // One rounding for the sum: a third of $0.05 and two thirds of $0.625 is 0.4333..., not the
        // 0.016666666667 + 0.416666666667 of two roundings.
        let sum = expected_usd(&[(usd("0.05"), 1.0 / 3.0), (usd("0.625"), 2.0 / 3.0)]);
        assert_eq!(sum, Some(usd("0.433333333333")));
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
