//! Exact money arithmetic on atomic token amounts.
//!
//! Amounts arrive as decimal strings of up to 78 digits (uint256). Converting to USD is only a
//! shift of the decimal point by the token's decimals, so we do it on the digit string itself:
//! exact for every uint256, with no float and no 96-bit `Decimal` overflow (PROTOCOL §4.3).

/// 2^256 - 1, the largest amount an EVM token transfer can carry.
const UINT256_MAX: &str = "115792089237316195423570985008687907853269984665640564039457584007913129639935";

/// Why a string is not a valid atomic amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not only ASCII digits (decimals, exponents, hex, signs, whitespace, empty).
    NotInteger,
    /// Larger than uint256.
    TooLarge,
    /// Zero: nothing can be paid.
    Zero,
}

/// Checks an atomic amount and returns it without leading zeros.
pub fn parse_amount(text: &str) -> Result<&str, AmountError> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AmountError::NotInteger);
    }
    let trimmed = text.trim_start_matches('0');
    if trimmed.is_empty() {
        return Err(AmountError::Zero);
    }
    let too_large = trimmed.len() > UINT256_MAX.len() || (trimmed.len() == UINT256_MAX.len() && trimmed > UINT256_MAX);
    if too_large {
        return Err(AmountError::TooLarge);
    }
    Ok(trimmed)
}

/// `digits / 10^decimals` as an exact decimal string without trailing zeros, e.g.
/// `("1000", 6)` → `"0.001"`, `("2500000", 6)` → `"2.5"`. `digits` must be ASCII digits.
pub fn atomic_to_decimal(digits: &str, decimals: u8) -> String {
    let digits = digits.trim_start_matches('0');
    let scale = usize::from(decimals);
    let (int_part, frac_part) = if digits.len() > scale {
        let split = digits.len() - scale;
        (&digits[..split], digits[split..].to_string())
    } else {
        ("0", format!("{}{}", "0".repeat(scale - digits.len()), digits))
    };
    let frac = frac_part.trim_end_matches('0');
    if frac.is_empty() { int_part.to_string() } else { format!("{int_part}.{frac}") }
}

/// A decimal USD string (as produced by [`atomic_to_decimal`] or typed by a user, e.g. `"0.25"`)
/// as whole micro-dollars, rounded **up** so a sub-micro price never sorts or filters as free.
/// `None` when the text is not a plain non-negative decimal or exceeds `i64`.
pub fn usd_to_micros(usd: &str) -> Option<i64> {
    let (int_part, frac_part) = usd.split_once('.').unwrap_or((usd, ""));
    let int_ok = !int_part.is_empty() && int_part.bytes().all(|b| b.is_ascii_digit());
    if !int_ok || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int_value: i64 = int_part
        .trim_start_matches('0')
        .parse::<i64>()
        .or_else(|e| if int_part.trim_start_matches('0').is_empty() { Ok(0) } else { Err(e) })
        .ok()?;
    let (micro_digits, rest) = frac_part.split_at(frac_part.len().min(6));
    let mut micros: i64 = format!("{micro_digits:0<6}").parse().ok()?;
    if rest.bytes().any(|b| b != b'0') {
        micros += 1;
    }
    int_value.checked_mul(1_000_000)?.checked_add(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_strict_integers_within_uint256() {
        assert_eq!(parse_amount("10000"), Ok("10000"));
        assert_eq!(parse_amount("007"), Ok("7"));
        for bad in ["", "0.5", "1e6", "0x10", "-1", "+1", " 1", "1 ", "１"] {
            assert_eq!(parse_amount(bad), Err(AmountError::NotInteger), "{bad:?}");
        }
        assert_eq!(parse_amount("0"), Err(AmountError::Zero));
        assert_eq!(parse_amount("000"), Err(AmountError::Zero));
        assert_eq!(parse_amount(UINT256_MAX), Ok(UINT256_MAX));
        let over = "115792089237316195423570985008687907853269984665640564039457584007913129639936";
        assert_eq!(parse_amount(over), Err(AmountError::TooLarge));
        assert_eq!(parse_amount(&"9".repeat(79)), Err(AmountError::TooLarge));
    }

    #[test]
    fn decimal_shift_is_exact() {
        assert_eq!(atomic_to_decimal("1000", 6), "0.001");
        assert_eq!(atomic_to_decimal("10000", 6), "0.01");
        assert_eq!(atomic_to_decimal("2500000", 6), "2.5");
        assert_eq!(atomic_to_decimal("1000000", 6), "1");
        assert_eq!(atomic_to_decimal("1", 18), "0.000000000000000001");
        assert_eq!(atomic_to_decimal("1230000000000000000", 18), "1.23");
        assert_eq!(atomic_to_decimal("5", 0), "5");
        assert_eq!(
            atomic_to_decimal(UINT256_MAX, 6),
            "115792089237316195423570985008687907853269984665640564039457584007913129.639935"
        );
    }

    #[test]
    fn micros_round_up_and_reject_junk() {
        assert_eq!(usd_to_micros("0.001"), Some(1_000));
        assert_eq!(usd_to_micros("2.5"), Some(2_500_000));
        assert_eq!(usd_to_micros("0"), Some(0));
        assert_eq!(usd_to_micros("0.000000000000000001"), Some(1));
        assert_eq!(usd_to_micros("1.0000001"), Some(1_000_001));
        assert_eq!(usd_to_micros("10."), Some(10_000_000));
        for bad in ["", ".5", "-1", "1e3", "abc", "1.2.3", "99999999999999999999"] {
            assert_eq!(usd_to_micros(bad), None, "{bad:?}");
        }
    }
}
