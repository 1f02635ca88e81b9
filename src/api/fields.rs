//! Reading a JSON request body field by field, so that every error names its field
//! (`"service_level: must be an integer between 0 and 1000"`), fields the API does not know are
//! ignored (VoIPBIN clients send extra ones), and `null` counts as absent.

use super::error::{ApiError, FieldError};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::ops::RangeInclusive;
use uuid::Uuid;

/// The fields of a JSON object body.
#[derive(Debug, Clone, Default)]
pub struct Fields(Map<String, Value>);

/// Result of reading one field.
pub type FieldResult<T> = Result<T, FieldError>;

impl Fields {
    /// The fields of `body`, which must be an object.
    pub fn from_body(body: Value) -> Result<Fields, ApiError> {
        match body {
            Value::Object(map) => Ok(Fields(map)),
            _ => Err(ApiError::invalid("body", "must be a JSON object")),
        }
    }

    /// The fields of an object.
    pub fn of(map: Map<String, Value>) -> Fields {
        Fields(map)
    }

    /// The raw value of a field, if present and not `null`.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// Fails unless the field is present.
    pub fn require(&self, name: &str) -> FieldResult<&Value> {
        self.raw(name)
            .ok_or_else(|| FieldError::new(name, "required"))
    }

    /// A string field.
    pub fn string(&self, name: &str) -> FieldResult<Option<String>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(FieldError::new(name, "must be a string")),
        }
    }

    /// An integer field within `range`; `what` completes "must be ..." in the error, e.g.
    /// `"a number of ms between 1000 and 600000"`.
    pub fn int(
        &self,
        name: &str,
        range: RangeInclusive<i64>,
        what: &str,
    ) -> FieldResult<Option<i64>> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        v.as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| FieldError::new(name, format!("must be {what}")))
    }

    /// A number field within `range`.
    pub fn float(&self, name: &str, range: RangeInclusive<f64>) -> FieldResult<Option<f64>> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        v.as_f64()
            .filter(|n| range.contains(n))
            .map(Some)
            .ok_or_else(|| {
                FieldError::new(
                    name,
                    format!(
                        "must be a number between {} and {}",
                        range.start(),
                        range.end()
                    ),
                )
            })
    }

    /// A UUID field; `""` reads as the nil UUID (which clears a reference).
    pub fn uuid(&self, name: &str) -> FieldResult<Option<Uuid>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(Uuid::nil())),
            Some(Value::String(s)) => Uuid::parse_str(s.trim())
                .map(Some)
                .map_err(|_| FieldError::new(name, format!("{s:?} is not a UUID"))),
            Some(_) => Err(FieldError::new(name, "must be a UUID string")),
        }
    }

    /// Any field serde can read (enums such as `type`, lists of dispositions, ...).
    pub fn parse<T: DeserializeOwned>(&self, name: &str) -> FieldResult<Option<T>> {
        match self.raw(name) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| FieldError::new(name, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(v: Value) -> Fields {
        Fields::from_body(v).expect("an object")
    }

    #[test]
    fn absent_and_null_fields_read_as_none() {
        let f = fields(json!({"a": null}));
        assert_eq!(f.string("a"), Ok(None));
        assert_eq!(f.int("b", 0..=1, "0 or 1"), Ok(None));
        assert_eq!(
            f.require("a").map(|_| ()),
            Err(FieldError::new("a", "required"))
        );
    }

    #[test]
    fn errors_name_the_field() {
        let f = fields(json!({"n": "x", "m": 5000, "u": "nope", "s": 3, "e": "sideways"}));
        assert_eq!(
            f.int("n", 0..=10, "an integer between 0 and 10")
                .map_err(|e| e.to_string()),
            Err("n: must be an integer between 0 and 10".into())
        );
        assert!(f.int("m", 0..=10, "small").is_err());
        assert_eq!(
            f.uuid("u").map_err(|e| e.to_string()),
            Err("u: \"nope\" is not a UUID".into())
        );
        assert_eq!(
            f.string("s").map_err(|e| e.to_string()),
            Err("s: must be a string".into())
        );
        let e = f
            .parse::<crate::domain::EndHandle>("e")
            .map_err(|e| e.to_string())
            .expect_err("not an end handle");
        assert!(e.starts_with("e: unknown variant `sideways`"), "{e}");
    }

    #[test]
    fn whole_floats_are_integers_and_empty_uuids_are_nil() {
        let f = fields(json!({"n": 30000.0, "u": ""}));
        assert_eq!(f.int("n", 0..=60000, "x"), Ok(Some(30000)));
        assert_eq!(f.uuid("u"), Ok(Some(Uuid::nil())));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        let e = Fields::from_body(json!([1]))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(e, Err("body: must be a JSON object".into()));
    }
}
