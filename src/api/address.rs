//! Reading addresses from requests: an object `{type, target, ...}` or a bare string; `tel`
//! targets are normalised to E.164 with the server's default region.

use super::error::FieldError;
use crate::domain::phone::{self, PhoneError};
use crate::domain::Address;
use phonenumber::country::Id as Country;
use serde_json::Value;

/// The address types VoIPBIN defines (`""` is unset).
pub const ADDRESS_TYPES: [&str; 9] = [
    "",
    "agent",
    "conference",
    "email",
    "extension",
    "line",
    "sip",
    "tel",
    "web_session",
];

/// Reads the address in field `field`. An object with type `tel`, or with no type, is a phone
/// number; a string is a SIP URI when it starts with `sip:`/`sips:`, else a phone number.
pub fn address(field: &str, value: &Value, region: Country) -> Result<Address, FieldError> {
    match value {
        Value::String(text) => from_text(field, text, region),
        Value::Object(_) => {
            let mut a: Address =
                serde_json::from_value(value.clone()).map_err(|e| FieldError::new(field, e))?;
            if !ADDRESS_TYPES.contains(&a.kind.as_str()) {
                return Err(FieldError::new(
                    format!("{field}.type"),
                    format!(
                        "unknown address type {:?}; expected one of {}",
                        a.kind,
                        ADDRESS_TYPES[1..].join(", ")
                    ),
                ));
            }
            let target = format!("{field}.target");
            if a.target.trim().is_empty() {
                return Err(FieldError::new(target, "required"));
            }
            if a.kind.is_empty() || a.kind == "tel" {
                a.kind = "tel".into();
                a.target = e164(&target, &a.target, region)?;
            }
            Ok(a)
        }
        _ => Err(FieldError::new(
            field,
            "must be an address object or a string",
        )),
    }
}

/// Whether a value leaves an optional address unset: `null`, `""`, or an object without a
/// target (VoIPBIN sends `{"type": "", "target": ""}` for "none").
pub fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Object(o) => o
            .get("target")
            .is_none_or(|t| t.as_str().is_some_and(|s| s.trim().is_empty())),
        _ => false,
    }
}

/// Reads an address written as text (a CSV cell, a bare JSON string).
pub fn from_text(field: &str, text: &str, region: Country) -> Result<Address, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        return Ok(Address {
            kind: "sip".into(),
            target: text.to_string(),
            ..Address::default()
        });
    }
    Ok(Address::tel(e164(field, text, region)?))
}

fn e164(field: &str, text: &str, region: Country) -> Result<String, FieldError> {
    phone::to_e164(text, region).map_err(|e| {
        let problem = match e {
            PhoneError::UnknownRegion(r) => format!("unknown default region {r:?}"),
            PhoneError::Unparsable(t) => format!("{t:?} is not a phone number"),
            PhoneError::ImpossibleLength(t) => {
                format!("{t:?} has an impossible length for its country")
            }
        };
        FieldError::new(field, problem)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn us() -> Country {
        phone::region("US").expect("US")
    }

    #[test]
    fn tel_objects_and_strings_normalise_to_e164() {
        let a = address(
            "d",
            &json!({"type": "tel", "target": "(555) 555-0100"}),
            us(),
        );
        assert_eq!(a.map(|a| a.target), Ok("+15555550100".into()));
        let a = address("d", &json!({"target": "5559876543", "name": "Jane"}), us())
            .expect("untyped number");
        assert_eq!(
            (a.kind.as_str(), a.target.as_str()),
            ("tel", "+15559876543")
        );
        assert_eq!(
            address("d", &json!("+15551234567"), us()).map(|a| a.target),
            Ok("+15551234567".into())
        );
    }

    #[test]
    fn sip_and_other_types_are_kept_as_given() {
        let a = address("d", &json!("sip:alice@127.0.0.1"), us()).expect("sip");
        assert_eq!(a.kind, "sip");
        let a = address("d", &json!({"type": "agent", "target": "a-1"}), us()).expect("agent");
        assert_eq!(a.target, "a-1");
    }

    #[test]
    fn blank_values_leave_an_optional_address_unset() {
        assert!(is_blank(&json!("")));
        assert!(is_blank(&json!({"type": "", "target": ""})));
        assert!(is_blank(&json!({"type": "tel"})));
        assert!(!is_blank(&json!({"target": "+15551234567"})));
        assert!(!is_blank(&json!(5)));
    }

    #[test]
    fn errors_name_the_subfield() {
        let e = address(
            "destination_0",
            &json!({"type": "tel", "target": "12345"}),
            us(),
        );
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("destination_0.target: \"12345\" has an impossible length for its country".into())
        );
        let e = address("source", &json!({"type": "fax", "target": "1"}), us());
        assert!(e.map_err(|e| e.field).expect_err("fax") == "source.type");
        let e = address("source", &json!(5), us()).map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("source: must be an address object or a string".into())
        );
    }
}
