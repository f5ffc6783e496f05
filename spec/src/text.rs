//! Field rules shared by every structure: organisation ids, bounded texts, calendar dates.

use crate::limits::{ORG_ID_BYTES_MAX, SHORT_TEXT_BYTES_MAX};

/// A field that breaks a rule of the format; `field` names it as FORMAT.md does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    /// The field, as a dotted path (`body.value.amount`).
    pub field: String,
    /// What is wrong with it.
    pub problem: String,
}

impl FieldError {
    /// A new field error.
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            problem: problem.into(),
        }
    }

    /// The same error with `prefix` before its field: `value.amount` within `body` is
    /// `body.value.amount`.
    pub fn within(mut self, prefix: &str) -> Self {
        self.field = format!("{prefix}.{}", self.field);
        self
    }
}

/// An organisation id: 1 to 128 bytes of printable ASCII without spaces (IATI org ids fit).
pub fn check_org_id(field: &str, id: &str) -> Result<(), FieldError> {
    if id.is_empty() || id.len() > ORG_ID_BYTES_MAX {
        return Err(FieldError::new(
            field,
            format!("organisation id must be 1 to {ORG_ID_BYTES_MAX} bytes"),
        ));
    }
    if !id.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(FieldError::new(
            field,
            format!("organisation id {id:?} may hold only printable ASCII without spaces"),
        ));
    }
    Ok(())
}

/// A text of at most `max` bytes with no control characters other than tab, newline and return.
pub fn check_text(field: &str, text: &str, max: usize) -> Result<(), FieldError> {
    if text.len() > max {
        return Err(FieldError::new(
            field,
            format!("{} bytes, more than the {max} allowed", text.len()),
        ));
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(FieldError::new(field, "contains a control character"));
    }
    Ok(())
}

/// A short text that must not be empty.
pub fn check_required(field: &str, text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    check_text(field, text, SHORT_TEXT_BYTES_MAX)
}

/// A language tag: 2 to 35 ASCII letters, digits and hyphens (BCP 47 shape, not checked against a registry).
pub fn check_language(field: &str, tag: &str) -> Result<(), FieldError> {
    let shaped = (2..=35).contains(&tag.len())
        && tag
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-');
    if !shaped {
        return Err(FieldError::new(
            field,
            format!("{tag:?} is not a language tag such as \"en\" or \"fr\""),
        ));
    }
    Ok(())
}

/// A calendar date (proleptic Gregorian), as the IATI `iso-date`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, bincode::Encode, bincode::Decode,
)]
pub struct Date {
    /// Year, 1 to 9999.
    pub year: u16,
    /// Month, 1 to 12.
    pub month: u8,
    /// Day of the month, 1 to the month's length.
    pub day: u8,
}

impl Date {
    /// Reads `YYYY-MM-DD` (a trailing time or zone, as some IATI files carry, is refused here;
    /// importers cut it first and say so).
    pub fn parse(text: &str) -> Result<Date, FieldError> {
        let bad = || FieldError::new("date", format!("{text:?} is not a date YYYY-MM-DD"));
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let number = |range: std::ops::Range<usize>| -> Result<u16, FieldError> {
            let part = &text[range];
            if !part.bytes().all(|byte| byte.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let date = Date {
            year: number(0..4)?,
            month: u8::try_from(number(5..7)?).map_err(|_| bad())?,
            day: u8::try_from(number(8..10)?).map_err(|_| bad())?,
        };
        date.check("date")?;
        Ok(date)
    }

    /// Checks that the date exists in the calendar.
    pub fn check(&self, field: &str) -> Result<(), FieldError> {
        let leap = self.year % 4 == 0 && (self.year % 100 != 0 || self.year % 400 == 0);
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        if !(1..=9999).contains(&self.year) || days == 0 || self.day == 0 || self.day > days {
            return Err(FieldError::new(
                field,
                format!("{self} is not a calendar date"),
            ));
        }
        Ok(())
    }
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_calendar() {
        assert_eq!(
            Date::parse("2024-02-29").map(|d| d.to_string()).as_deref(),
            Ok("2024-02-29")
        );
        for text in [
            "2023-02-29",
            "2020-13-01",
            "2020-00-10",
            "0000-01-01",
            "2020-1-01",
            "2020-06-22T00:00:00",
        ] {
            assert!(Date::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn org_ids_are_printable_ascii() {
        assert!(check_org_id("author", "CH-FDJP-f7f0b51e-7432-4c0c-a6c0-7df1101d7983").is_ok());
        assert!(check_org_id("author", "").is_err());
        assert!(check_org_id("author", "GB GOV").is_err());
        assert!(check_org_id("author", "é").is_err());
    }
}
