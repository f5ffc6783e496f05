//! Exact decimal amounts as canonical ASCII strings, never floats.
//!
//! The wire form of an amount is its canonical text: `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, not
//! negative zero, at most [`AMOUNT_DIGITS_MAX`] significant digits and [`AMOUNT_SCALE_MAX`]
//! fraction digits. The scale the publisher wrote is kept (`136687.0` stays `136687.0`), so
//! text is reproduced exactly; comparisons of value are done by readers with a decimal type.

use crate::limits::{AMOUNT_DIGITS_MAX, AMOUNT_SCALE_MAX};

/// Why a text is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AmountError {
    /// Empty, or only a sign.
    #[error("amount {0:?} has no digits")]
    NoDigits(String),
    /// A character that is not a digit, sign or decimal point (exponents and separators are refused).
    #[error("amount {0:?} is not a plain decimal number (digits with at most one '.' and an optional leading '-' or '+'; no exponent, no thousands separators)")]
    NotDecimal(String),
    /// More digits than a 96-bit decimal holds.
    #[error("amount {0:?} has more than {AMOUNT_DIGITS_MAX} significant digits")]
    TooManyDigits(String),
    /// More fraction digits than allowed.
    #[error("amount {0:?} has more than {AMOUNT_SCALE_MAX} digits after the decimal point")]
    ScaleTooLarge(String),
    /// Text that reads as an amount but is not in canonical form (checked on the wire only).
    #[error("amount {0:?} is not canonical (leading zeros, '+', or negative zero)")]
    NotCanonical(String),
}

/// Reads a human or publisher-written amount and returns its canonical text.
///
/// Accepts surrounding whitespace, a leading `+`, leading zeros, `.5` and `5.`; refuses
/// exponents, thousands separators and anything else a float parser would guess at.
pub fn canonical_amount(input: &str) -> Result<String, AmountError> {
    let text = input.trim();
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if !all_digits(integer) || !fraction.is_none_or(all_digits) {
        return Err(AmountError::NotDecimal(input.to_owned()));
    }
    let fraction = fraction.unwrap_or("");
    if integer.is_empty() && fraction.is_empty() {
        return Err(AmountError::NoDigits(input.to_owned()));
    }
    if fraction.len() > AMOUNT_SCALE_MAX {
        return Err(AmountError::ScaleTooLarge(input.to_owned()));
    }
    let integer = integer.trim_start_matches('0');
    let significant = format!("{integer}{fraction}");
    if significant.trim_start_matches('0').len() > AMOUNT_DIGITS_MAX {
        return Err(AmountError::TooManyDigits(input.to_owned()));
    }
    let is_zero = significant.bytes().all(|byte| byte == b'0');
    let mut canonical = String::with_capacity(text.len() + 1);
    if negative && !is_zero {
        canonical.push('-');
    }
    canonical.push_str(if integer.is_empty() { "0" } else { integer });
    if !fraction.is_empty() {
        canonical.push('.');
        canonical.push_str(fraction);
    }
    Ok(canonical)
}

/// Checks that wire text is an amount in canonical form.
pub fn check_canonical_amount(text: &str) -> Result<(), AmountError> {
    let canonical = canonical_amount(text)?;
    if canonical != text {
        return Err(AmountError::NotCanonical(text.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(input: &str, expected: Result<&str, ()>) {
        let got = canonical_amount(input);
        match expected {
            Ok(text) => assert_eq!(got.as_deref(), Ok(text), "input {input:?}"),
            Err(()) => assert!(
                got.is_err(),
                "input {input:?} should be refused, got {got:?}"
            ),
        }
    }

    #[test]
    fn canonicalises_publisher_forms() {
        check(
            "1234567890123.123456789012",
            Ok("1234567890123.123456789012"),
        );
        check("-250.5", Ok("-250.5"));
        check(" 400000 ", Ok("400000"));
        check("+007.50", Ok("7.50"));
        check(".5", Ok("0.5"));
        check("5.", Ok("5"));
        check("-0.00", Ok("0.00"));
        check("136687.0", Ok("136687.0"));
    }

    #[test]
    fn refuses_what_a_float_parser_would_guess() {
        for input in [
            "", "-", ".", "1e5", "1,000", "NaN", "inf", "1.2.3", "--1", "0x10", "１",
        ] {
            check(input, Err(()));
        }
        check(&"9".repeat(29), Err(()));
        check(&format!("0.{}", "1".repeat(19)), Err(()));
    }

    #[test]
    fn wire_form_must_be_canonical() {
        assert!(check_canonical_amount("-250.5").is_ok());
        for text in ["007", "+1", "-0", " 1", ".5", "5."] {
            assert!(check_canonical_amount(text).is_err(), "{text:?}");
        }
    }
}
