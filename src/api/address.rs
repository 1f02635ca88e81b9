//! Reading addresses from requests: an object `{type, target, ...}` or a bare string; `tel`
//! targets are normalised to E.164 with the server's default region. Every field is parsed
//! into the domain's typed [`Address`]; control characters and targets that do not parse are
//! refused naming the field (`source.target: contains a control character`).

use super::error::FieldError;
use crate::domain::address::{AddressError, AddressFields};
use crate::domain::phone::{self, PhoneError};
use crate::domain::sip_uri::has_control;
use crate::domain::{Address, AddressKind, SipUri};
use phonenumber::country::Id as Country;
use serde_json::Value;

/// Reads the address in field `field`. An object with type `tel`, or with no type, is a phone
/// number; a string is a SIP URI when it starts with `sip:`/`sips:`, else a phone number.
pub fn address(field: &str, value: &Value, region: Country) -> Result<Address, FieldError> {
    match value {
        Value::String(text) => from_text(field, text, region),
        Value::Object(_) => {
            let mut fields: AddressFields =
                serde_json::from_value(value.clone()).map_err(|e| FieldError::new(field, e))?;
            if fields.kind.is_empty() && !fields.target.is_empty() {
                fields.kind = "tel".into();
            }
            let a = Address::from_fields(fields, |t| phone::to_e164(t, region))
                .map_err(|e| subfield(field, e))?;
            if a.is_empty() {
                return Err(FieldError::new(format!("{field}.target"), "required"));
            }
            Ok(a)
        }
        _ => Err(FieldError::new(
            field,
            "must be an address object or a string",
        )),
    }
}

/// An [`AddressError`] as a problem with `field.<subfield>`.
fn subfield(field: &str, e: AddressError) -> FieldError {
    FieldError::new(format!("{field}.{}", e.field), e.problem)
}

/// Refuses an address a call campaign cannot dial: only `tel` and `sip` are dialed
/// (`agent` and `extension` wait for agents; `email` and the rest are not phones).
pub fn dialable(field: &str, a: &Address) -> Result<(), FieldError> {
    if a.is_empty() || a.dialable().is_some() {
        return Ok(());
    }
    let kind = a.kind.type_name();
    let problem = match a.kind {
        AddressKind::Agent(_) | AddressKind::Extension(_) => {
            format!("{kind} addresses cannot be dialed by a call campaign yet; use tel or sip")
        }
        _ => format!("{kind} addresses cannot be dialed; use tel or sip"),
    };
    Err(FieldError::new(format!("{field}.type"), problem))
}

/// Whether a value leaves an optional address unset: `null`, `""`, or an object without a
/// target (VoIPBIN sends `{"type": "", "target": ""}` for "none"). A value holding a control
/// character anywhere is never blank: it is read, and refused naming its field.
pub fn is_blank(value: &Value) -> bool {
    let control = match value {
        Value::String(s) => has_control(s),
        Value::Object(o) => o.values().any(|v| v.as_str().is_some_and(has_control)),
        _ => false,
    };
    if control {
        return false;
    }
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
    if has_control(text) {
        return Err(FieldError::new(field, "contains a control character"));
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, "required"));
    }
    let lower = text.to_ascii_lowercase();
    if lower.starts_with("sip:") || lower.starts_with("sips:") {
        let uri = SipUri::parse(text).map_err(|e| FieldError::new(field, e))?;
        return Ok(Address::sip(uri));
    }
    Ok(Address::tel(e164(field, text, region)?))
}

fn e164(field: &str, text: &str, region: Country) -> Result<phone::E164, FieldError> {
    phone::to_e164(text, region).map_err(|e| {
        let problem = match e {
            PhoneError::UnknownRegion(r) => format!("unknown default region {r:?}"),
            other => other.to_string(),
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

    fn target(a: &Address) -> String {
        a.kind.target()
    }

    #[test]
    fn tel_objects_and_strings_normalise_to_e164() {
        let a = address(
            "d",
            &json!({"type": "tel", "target": "(555) 555-0100"}),
            us(),
        );
        assert_eq!(a.map(|a| target(&a)), Ok("+15555550100".into()));
        let a = address("d", &json!({"target": "5559876543", "name": "Jane"}), us())
            .expect("untyped number");
        assert_eq!(
            (a.kind.type_name(), target(&a).as_str(), a.name.as_str()),
            ("tel", "+15559876543", "Jane")
        );
        assert_eq!(
            address("d", &json!("+15551234567"), us()).map(|a| target(&a)),
            Ok("+15551234567".into())
        );
    }

    #[test]
    fn sip_and_other_types_are_parsed_by_kind() {
        let a = address("d", &json!("sip:alice@127.0.0.1"), us()).expect("sip");
        assert_eq!(a.kind.type_name(), "sip");
        let id = uuid::Uuid::new_v4();
        let a = address("d", &json!({"type": "agent", "target": id}), us()).expect("agent");
        assert_eq!(a.kind, AddressKind::Agent(id));
        let e = address("d", &json!({"type": "agent", "target": "a-1"}), us());
        assert_eq!(e.map_err(|e| e.field), Err("d.target".into()));
        let e = address("d", &json!("sip:sip:alice@h"), us());
        assert_eq!(e.map_err(|e| e.field), Err("d".into()));
    }

    #[test]
    fn control_characters_are_refused_in_every_field() {
        let evil = "evil\r\nP-Asserted-Identity: <sip:+18005551212@x>";
        let e = address("source", &json!({"type": "sip", "target": evil}), us());
        assert_eq!(
            e.map_err(|e| e.to_string()),
            Err("source.target: contains a control character".into())
        );
        for field in ["type", "target_name", "name", "detail"] {
            let mut v = json!({"type": "tel", "target": "+15551234567"});
            v[field] = json!(evil);
            let e = address("source", &v, us()).map_err(|e| e.field);
            assert_eq!(e, Err(format!("source.{field}")));
        }
        let e = from_text("destination", "+1555\n1234567", us()).map_err(|e| e.to_string());
        assert_eq!(e, Err("destination: contains a control character".into()));
    }

    #[test]
    fn only_tel_and_sip_are_dialable() {
        for v in [json!("+15551234567"), json!("sip:alice@127.0.0.1:5080")] {
            let a = address("destination_0", &v, us()).expect("address");
            assert_eq!(dialable("destination_0", &a), Ok(()));
        }
        for (kind, target) in [("email", "jane@example.com"), ("extension", "2001")] {
            let a = address(
                "destination_0",
                &json!({"type": kind, "target": target}),
                us(),
            )
            .expect(kind);
            let e = dialable("destination_0", &a).map_err(|e| e.field);
            assert_eq!(e, Err("destination_0.type".into()), "{kind}");
        }
    }

    #[test]
    fn blank_values_leave_an_optional_address_unset() {
        assert!(is_blank(&json!("")));
        assert!(is_blank(&json!({"type": "", "target": ""})));
        assert!(is_blank(&json!({"type": "tel"})));
        assert!(!is_blank(&json!({"target": "+15551234567"})));
        assert!(!is_blank(&json!(5)));
        assert!(!is_blank(&json!("\r\n")));
        assert!(!is_blank(
            &json!({"type": "tel", "target": "", "name": "\n"})
        ));
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
