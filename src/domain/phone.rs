//! Phone numbers: normalisation to E.164 with a default region.
//!
//! A valid target is a *possible* number for its country (right length once normalised), not
//! necessarily an assigned one: fictional 555 numbers must import. So the check is
//! `phonenumber`'s parse plus a possible-length check, never `is_valid`.

use phonenumber::country::Id as Country;
use std::fmt;

/// A number in E.164 form: `+`, a country code and at most 15 digits in all
/// (`+15551234567`). Made only by [`to_e164`] or by [`E164::parse`] of text already in that form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct E164(String);

impl E164 {
    /// Accepts text already in E.164 form, nothing else (no spaces, no national numbers).
    pub fn parse(text: &str) -> Result<E164, PhoneError> {
        let digits = text
            .strip_prefix('+')
            .ok_or_else(|| PhoneError::Unparsable(text.to_string()))?;
        let well_formed = (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if well_formed {
            Ok(E164(text.to_string()))
        } else {
            Err(PhoneError::Unparsable(text.to_string()))
        }
    }

    /// The number as text, `+` included.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for E164 {
    type Err = PhoneError;

    fn from_str(text: &str) -> Result<E164, PhoneError> {
        E164::parse(text)
    }
}

impl fmt::Display for E164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a number was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The default region is not a two-letter country code we know.
    #[error("unknown region {0:?}")]
    UnknownRegion(String),
    /// The text does not parse as a phone number.
    #[error("{0:?} is not a phone number")]
    Unparsable(String),
    /// It parses but has an impossible length for its country.
    #[error("{0:?} has an impossible length for its country")]
    ImpossibleLength(String),
}

/// Parses a region code such as `US` or `gb`.
pub fn region(code: &str) -> Result<Country, PhoneError> {
    code.to_ascii_uppercase()
        .parse::<Country>()
        .map_err(|_| PhoneError::UnknownRegion(code.to_string()))
}

/// Normalises `text` (`+15551234567`, `5559876543`, `(555) 555-0100`, `+44 20 7946 0958`) to
/// E.164 (`+15559876543`), reading national numbers in `default_region`.
pub fn to_e164(text: &str, default_region: Country) -> Result<E164, PhoneError> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(PhoneError::Unparsable(text.to_string()));
    }
    let number = phonenumber::parse(Some(default_region), trimmed)
        .map_err(|_| PhoneError::Unparsable(text.to_string()))?;
    let national = number.national().value().to_string();
    // By calling code, not by region: a fictional number (555) matches no region's pattern,
    // but its length is still checked against every region sharing the code.
    let code = number.code().value();
    let possible = phonenumber::metadata::DATABASE
        .by_code(&code)
        .map(|metas| metas.iter().any(|m| possible_length(m, national.len())))
        .unwrap_or(false);
    if !possible {
        return Err(PhoneError::ImpossibleLength(text.to_string()));
    }
    E164::parse(&number.format().mode(phonenumber::Mode::E164).to_string())
}

fn possible_length(meta: &phonenumber::metadata::Metadata, len: usize) -> bool {
    // The general descriptor's list is often empty in the metadata: take the union of the
    // number types' lists.
    let d = meta.descriptors();
    [
        Some(d.general()),
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.personal_number(),
        d.voip(),
        d.pager(),
        d.uan(),
    ]
    .into_iter()
    .flatten()
    .any(|desc| {
        desc.possible_length()
            .iter()
            .any(|&l| usize::from(l) == len)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(text: &str) -> Result<String, PhoneError> {
        to_e164(text, region("US").expect("US is a region")).map(|n| n.to_string())
    }

    #[test]
    fn the_seed_numbers_normalise_to_e164() {
        assert_eq!(us("+15551234567").as_deref(), Ok("+15551234567"));
        assert_eq!(us("5559876543").as_deref(), Ok("+15559876543"));
        assert_eq!(us("(555) 555-0100").as_deref(), Ok("+15555550100"));
        assert_eq!(us("+44 20 7946 0958").as_deref(), Ok("+442079460958"));
    }

    #[test]
    fn short_long_and_lettered_numbers_are_refused() {
        assert!(us("12345").is_err());
        assert!(us("+12345").is_err());
        assert!(us("555123456789012").is_err());
        assert!(us("call me").is_err());
        assert!(us("").is_err());
    }

    #[test]
    fn only_text_already_in_e164_form_parses_as_e164() {
        assert_eq!(
            E164::parse("+15551234567").map(|n| n.to_string()),
            Ok("+15551234567".into())
        );
        for bad in [
            "15551234567",
            "+1 555",
            "+",
            "+0123",
            "+1234567890123456",
            "+1\r\n",
        ] {
            assert!(E164::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_unknown_region_is_an_error() {
        assert!(region("ZZ").is_err());
        assert!(region("gb").is_ok());
    }
}
