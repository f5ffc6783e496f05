//! How values are written for people: amounts with digit grouping (never rounded, the scale
//! they were signed with kept), money with its currency, ISO dates and readable UTC times.
//! The explorer, its CSV downloads' neighbours and the CLI's text all write through these, so
//! that one amount never reads two ways.
//!
//! Machine outputs (JSON, CSV) keep the signed text of an amount (`125000.00`): a program
//! parses it without knowing our grouping. Only text for people is grouped.

use aidledger_spec::text::Date;
use rust_decimal::Decimal;

use crate::money::date_of_day;

/// The digit-group separator: a comma, as IATI's publishers and most readers of English write
/// amounts. One separator for every page, so that a reader never meets `1.000,00` beside
/// `1,000.00`.
pub const GROUP_SEPARATOR: char = ',';
/// Digits per group.
const GROUP_DIGITS: usize = 3;
/// Bytes of an ISO 4217 currency code.
const CURRENCY_CODE_BYTES: usize = 3;
/// Milliseconds in a day, a minute, a second.
const MS_PER_DAY: u64 = 86_400_000;
const MS_PER_MINUTE: u64 = 60_000;
const MS_PER_SECOND: u64 = 1_000;

/// An amount's text with its integer digits grouped: `1234567.50` → `1,234,567.50`,
/// `-1000` → `-1,000`. Every digit is kept: the text is regrouped, not reparsed, so nothing
/// is rounded and the scale is the one the amount was written with. A text that is not a
/// plain decimal (`1e5`, empty, letters) is returned unchanged: the caller shows what was
/// signed rather than nothing.
pub fn group_digits(amount: &str) -> String {
    let (sign, unsigned) = match amount.strip_prefix(['-', '+']) {
        Some(rest) => (&amount[..1], rest),
        None => ("", amount),
    };
    let (integer, fraction) = match unsigned.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (unsigned, None),
    };
    let plain = !integer.is_empty()
        && integer.bytes().all(|byte| byte.is_ascii_digit())
        && fraction.is_none_or(|digits| digits.bytes().all(|byte| byte.is_ascii_digit()));
    if !plain {
        return amount.to_owned();
    }
    let mut out = String::with_capacity(amount.len() + integer.len() / GROUP_DIGITS);
    out.push_str(sign);
    for (index, digit) in integer.chars().enumerate() {
        if index > 0 && (integer.len() - index) % GROUP_DIGITS == 0 {
            out.push(GROUP_SEPARATOR);
        }
        out.push(digit);
    }
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// Every plain number of a text grouped and every amount followed by a currency code written as
/// [`money`] writes it, the other words as they are:
/// `short 5000.00 GBP; over 1000 USD` → `short GBP 5,000.00; over USD 1,000`. For the money
/// model's texts (`LinkStatus::text`, findings, sums), which machines read as the model writes
/// them and people as every other amount on the pages.
pub fn group_numbers(text: &str) -> String {
    let words: Vec<&str> = text.split(' ').collect();
    let mut out = Vec::with_capacity(words.len());
    let mut at = 0;
    while let Some(word) = words.get(at) {
        match words.get(at + 1).and_then(|next| currency_code(next)) {
            Some((code, after)) if is_plain_decimal(word) => {
                out.push(format!("{}{after}", money(word, code)));
                at += 2;
            }
            _ => {
                out.push(group_digits(word));
                at += 1;
            }
        }
    }
    out.join(" ")
}

/// A word that is a currency code (three capital letters), perhaps followed by punctuation
/// (`GBP;`, `EUR),`): the code and the punctuation.
fn currency_code(word: &str) -> Option<(&str, &str)> {
    let (code, after) = word.split_at_checked(CURRENCY_CODE_BYTES)?;
    let is_code = code.bytes().all(|byte| byte.is_ascii_uppercase());
    let is_punctuation = after.bytes().all(|byte| byte.is_ascii_punctuation());
    (is_code && is_punctuation).then_some((code, after))
}

/// Whether `text` is a plain decimal that [`group_digits`] groups.
fn is_plain_decimal(text: &str) -> bool {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, "0"));
    !integer.is_empty()
        && !fraction.is_empty()
        && integer.bytes().all(|byte| byte.is_ascii_digit())
        && fraction.bytes().all(|byte| byte.is_ascii_digit())
}

/// A decimal amount grouped: its `Display` text (which keeps the scale: `5000.00`), grouped.
pub fn amount(value: &Decimal) -> String {
    group_digits(&value.to_string())
}

/// Money as people read it: the currency code, then the grouped amount (`GBP 125,000.00`).
/// The code comes first, as in IATI's own tables: it reads the same in every language and
/// never needs a symbol we might not know.
pub fn money(amount_text: &str, currency: &str) -> String {
    let grouped = group_digits(amount_text);
    let mut out = String::with_capacity(currency.len() + 1 + grouped.len());
    out.push_str(currency);
    out.push(' ');
    out.push_str(&grouped);
    out
}

/// A date in ISO 8601 (`2026-11-02`), as `Date`'s `Display` writes it.
pub fn date(date: &Date) -> String {
    let mut out = String::with_capacity(ISO_DATE_BYTES);
    push_date(&mut out, date);
    out
}

/// Bytes of `YYYY-MM-DD`.
const ISO_DATE_BYTES: usize = 10;
/// Bytes of `YYYY-MM-DD hh:mm:ss UTC`.
const UTC_TIME_BYTES: usize = 23;

/// Appends `date` as `YYYY-MM-DD` digit by digit (a record page writes several dates and
/// times; `format!` with padded numbers cost it more than the rest of their writing).
fn push_date(out: &mut String, date: &Date) {
    push_padded(out, u64::from(date.year), 4);
    out.push('-');
    push_padded(out, u64::from(date.month), 2);
    out.push('-');
    push_padded(out, u64::from(date.day), 2);
}

/// Most decimal digits of a `u64`, and so the widest padding [`push_padded`] writes.
const U64_DIGITS_MAX: usize = 20;

/// Appends `value`'s decimal digits, zeros before them up to `width` digits (`{:0width$}` for
/// a width of at most [`U64_DIGITS_MAX`]; the callers pad to 2 and 4).
fn push_padded(out: &mut String, value: u64, width: usize) {
    debug_assert!(width <= U64_DIGITS_MAX, "padding wider than a u64's digits");
    let mut digits = [b'0'; U64_DIGITS_MAX];
    let mut rest = value;
    let mut at = digits.len();
    loop {
        at -= 1;
        // A digit: below 10.
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    let start = at.min(digits.len().saturating_sub(width));
    for &digit in &digits[start..] {
        out.push(char::from(digit));
    }
}

/// A time given in milliseconds since 1970 as a readable UTC time:
/// `2026-11-02 14:30:22 UTC`. Times beyond the years a [`Date`] holds are written as the raw
/// count, said to be one, rather than as a wrong date.
pub fn utc_time(ms: u64) -> String {
    let days = ms / MS_PER_DAY;
    let in_day = ms % MS_PER_DAY;
    let date = i64::try_from(days).ok().and_then(date_of_day);
    match date {
        Some(date) => {
            let hours = in_day / (60 * MS_PER_MINUTE);
            let minutes = in_day / MS_PER_MINUTE % 60;
            let seconds = in_day / MS_PER_SECOND % 60;
            let mut out = String::with_capacity(UTC_TIME_BYTES);
            push_date(&mut out, &date);
            out.push(' ');
            push_padded(&mut out, hours, 2);
            out.push(':');
            push_padded(&mut out, minutes, 2);
            out.push(':');
            push_padded(&mut out, seconds, 2);
            out.push_str(" UTC");
            out
        }
        None => format!("{ms} ms since 1970"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_every_digit_and_the_scale() {
        assert_eq!(group_digits("125000.00"), "125,000.00");
        assert_eq!(group_digits("1234567.5"), "1,234,567.5");
        assert_eq!(group_digits("999"), "999");
        assert_eq!(group_digits("1000"), "1,000");
        assert_eq!(group_digits("-1425000.00"), "-1,425,000.00");
        assert_eq!(group_digits("0.0000001"), "0.0000001");
        assert_eq!(
            group_digits("79228162514264337593543950335"),
            "79,228,162,514,264,337,593,543,950,335"
        );
    }

    #[test]
    fn text_that_is_not_a_plain_decimal_is_shown_as_signed() {
        for odd in ["", "-", "1e5", "12,000", "abc", ".5", "1.2.3", "١٢٣"] {
            assert_eq!(group_digits(odd), odd);
        }
    }

    #[test]
    fn money_in_a_text_reads_currency_first_and_grouped() {
        assert_eq!(
            group_numbers("short 5000.00 GBP; over 1000 USD"),
            "short GBP 5,000.00; over USD 1,000"
        );
        assert_eq!(
            group_numbers("partly-disbursed (remaining 1600000.00 GBP): committed 2000000 GBP, disbursed 400000.00 GBP"),
            "partly-disbursed (remaining GBP 1,600,000.00): committed GBP 2,000,000, disbursed GBP 400,000.00"
        );
        assert_eq!(group_numbers("400000.00 GBP"), "GBP 400,000.00");
        // Numbers that are not money are grouped only; words that only look like codes stay.
        assert_eq!(
            group_numbers("12000 records of GB-GOV-1"),
            "12,000 records of GB-GOV-1"
        );
        assert_eq!(group_numbers("1e5 GBP and 10 Gbp"), "1e5 GBP and 10 Gbp");
        assert_eq!(group_numbers("7 NGOs"), "7 NGOs");
        assert_eq!(group_numbers(""), "");
    }

    #[test]
    fn a_decimal_keeps_its_scale_when_grouped() {
        let short = Decimal::from_str_exact("125000.00").unwrap()
            - Decimal::from_str_exact("120000.00").unwrap();
        assert_eq!(amount(&short), "5,000.00");
        assert_eq!(money("125000.00", "GBP"), "GBP 125,000.00");
        assert_eq!(
            group_numbers("currency-differs (provider 1000.00 EUR, receiver 1100.00 USD)"),
            "currency-differs (provider EUR 1,000.00, receiver USD 1,100.00)"
        );
    }

    #[test]
    fn times_read_as_utc_and_dates_as_iso() {
        assert_eq!(utc_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_time(1_796_583_022_875), "2026-12-06 18:50:22 UTC");
        assert_eq!(utc_time(u64::MAX), format!("{} ms since 1970", u64::MAX));
        let day = Date {
            year: 2026,
            month: 11,
            day: 2,
        };
        assert_eq!(date(&day), "2026-11-02");
    }

    #[test]
    fn dates_and_times_read_as_display_and_format_write_them() {
        for (year, month, day) in [(1, 1, 1), (999, 9, 9), (2026, 12, 31), (9999, 10, 10)] {
            let day = Date { year, month, day };
            assert_eq!(date(&day), day.to_string());
        }
        for ms in [
            1,
            59_999,
            3_599_999,
            86_399_999,
            1_700_000_000_123,
            253_402_300_799_000,
        ] {
            let days = i64::try_from(ms / MS_PER_DAY).unwrap();
            let in_day = ms % MS_PER_DAY;
            let expected = format!(
                "{} {:02}:{:02}:{:02} UTC",
                date_of_day(days).unwrap(),
                in_day / 3_600_000,
                in_day / 60_000 % 60,
                in_day / 1_000 % 60
            );
            assert_eq!(utc_time(ms), expected);
        }
        for (value, width, written) in [(0, 2, "00"), (7, 4, "0007"), (12345, 2, "12345")] {
            let mut out = String::new();
            push_padded(&mut out, value, width);
            assert_eq!(out, written);
        }
        let mut out = String::new();
        push_padded(&mut out, u64::MAX, 4);
        assert_eq!(out, u64::MAX.to_string());
    }

    #[test]
    fn digit_writing_equals_format_reference_everywhere() {
        // Every year, month and day a `Date` can hold (invalid ones too), as `Display` writes.
        for year in 0..=u16::MAX {
            let day = Date {
                year,
                month: 1,
                day: 1,
            };
            assert_eq!(date(&day), day.to_string());
        }
        for month in 0..=u8::MAX {
            for day_of_month in 0..=u8::MAX {
                let day = Date {
                    year: 2024,
                    month,
                    day: day_of_month,
                };
                assert_eq!(date(&day), day.to_string());
            }
        }
        let reference = |ms: u64| {
            let days = ms / MS_PER_DAY;
            let in_day = ms % MS_PER_DAY;
            match i64::try_from(days).ok().and_then(date_of_day) {
                Some(date) => format!(
                    "{date} {:02}:{:02}:{:02} UTC",
                    in_day / (60 * MS_PER_MINUTE),
                    in_day / MS_PER_MINUTE % 60,
                    in_day / MS_PER_SECOND % 60
                ),
                None => format!("{ms} ms since 1970"),
            }
        };
        // Every second boundary of a few days (a leap day among them), the last day a `Date`
        // holds and the first it does not, and spread values over all of u64.
        let mut samples = vec![0, 1, u64::MAX, u64::MAX - 1];
        for day in [0_u64, 1, 11_016, 19_782, 2_932_896, 2_932_897] {
            for second in (0..86_400).step_by(7) {
                samples.push(day * MS_PER_DAY + second * MS_PER_SECOND);
                samples.push(day * MS_PER_DAY + second * MS_PER_SECOND + 999);
            }
        }
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            samples.push(state);
            samples.push(state % 400_000_000_000_000);
        }
        for ms in samples {
            assert_eq!(utc_time(ms), reference(ms), "{ms}");
        }
        for amount in [
            "",
            "0",
            "-0.5",
            "-1234567.891",
            "1e5",
            "12345678901234567890.123456789",
        ] {
            for currency in ["", "GBP", "X<Y"] {
                assert_eq!(
                    money(amount, currency),
                    format!("{currency} {}", group_digits(amount))
                );
            }
        }
    }
}
