//! Reading a JSON request body field by field, so that every error names its field
//! (`"service_level: must be an integer between 0 and 1000"`) and `null` counts as absent.
//!
//! Each resource names the fields it takes ([`Known`]); any other field is a 400 naming it
//! (`"scheduled_at: not supported"`), so that a client never believes a setting was applied
//! when it was dropped. The read-only fields of an answer (`id`, `customer_id`, `tm_*`) may be
//! sent back in a `PUT` (a client that reads, edits and writes back a resource) and are ignored
//! there; in a `POST` they are refused, since the server sets them.
//!
//! Strings are bounded: the short ones read with [`Fields::string`] (names, details, ...) at
//! [`MAX_TEXT`] bytes, any string anywhere in a body (action texts, addresses) at
//! [`MAX_LONG_TEXT`]; a top-level `data` is bounded as a whole by its reader.

use super::error::{ApiError, FieldError};
use super::limits::{MAX_LONG_TEXT, MAX_TEXT};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::ops::RangeInclusive;
use uuid::Uuid;

/// The fields of a JSON object body.
#[derive(Debug, Clone, Default)]
pub struct Fields(Map<String, Value>);

/// Result of reading one field.
pub type FieldResult<T> = Result<T, FieldError>;

/// The read-only fields every configuration resource answers with.
pub const READ_ONLY: [&str; 5] = ["id", "customer_id", "tm_create", "tm_update", "tm_delete"];

/// The fields a resource's body may carry.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// Fields the request sets.
    pub writable: &'a [&'a str],
    /// Fields of the resource's answers that the server sets: ignored in an update, refused
    /// in a create.
    pub read_only: &'a [&'a str],
}

/// Whether a body creates a resource or updates one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `POST`: read-only fields are refused.
    Create,
    /// `PUT`: read-only fields are ignored.
    Update,
}

impl Fields {
    /// The fields of `body`, which must be an object whose strings are within bounds.
    pub fn from_body(body: Value) -> Result<Fields, ApiError> {
        match body {
            Value::Object(map) => Ok(Fields::of(map).bounded()?),
            _ => Err(ApiError::invalid("body", "must be a JSON object")),
        }
    }

    /// The fields of an object.
    pub fn of(map: Map<String, Value>) -> Fields {
        Fields(map)
    }

    /// Checks that no string anywhere in the fields is longer than [`MAX_LONG_TEXT`] bytes;
    /// a top-level `data` is left to its reader, which bounds it as a whole.
    pub fn bounded(self) -> FieldResult<Fields> {
        for (name, value) in self.0.iter().filter(|(name, _)| *name != "data") {
            long_string(name, value)?;
        }
        Ok(self)
    }

    /// Refuses any field outside `known`: fields the API does not know or does not support
    /// yet, and read-only fields in a create. The error names every such field.
    pub fn only(&self, known: Known<'_>, write: Write) -> FieldResult<()> {
        let mut unsupported = Vec::new();
        let mut read_only = Vec::new();
        for name in self.0.keys() {
            if known.writable.contains(&name.as_str()) {
                continue;
            }
            match (known.read_only.contains(&name.as_str()), write) {
                (true, Write::Update) => {}
                (true, Write::Create) => read_only.push(name.as_str()),
                (false, _) => unsupported.push(name.as_str()),
            }
        }
        if !unsupported.is_empty() {
            return Err(FieldError::new(unsupported.join(", "), "not supported"));
        }
        if !read_only.is_empty() {
            return Err(FieldError::new(
                read_only.join(", "),
                "read only: the server sets it",
            ));
        }
        Ok(())
    }

    /// Whether the field is present as `null` (a request to clear it).
    pub fn is_null(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(Value::is_null)
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

    /// A string field of at most [`MAX_TEXT`] bytes.
    pub fn string(&self, name: &str) -> FieldResult<Option<String>> {
        match self.raw(name) {
            None => Ok(None),
            Some(Value::String(s)) => text(name, s, MAX_TEXT).map(|s| Some(s.to_string())),
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

    /// A list of at most `max` UUID strings; an error names the item (`tag_ids[2]`).
    pub fn uuids(&self, name: &str, max: usize) -> FieldResult<Option<Vec<Uuid>>> {
        let Some(v) = self.raw(name) else {
            return Ok(None);
        };
        let Value::Array(items) = v else {
            return Err(FieldError::new(name, "must be an array of UUID strings"));
        };
        if items.len() > max {
            return Err(FieldError::new(name, format!("more than {max} items")));
        }
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .and_then(|s| Uuid::parse_str(s.trim()).ok())
                    .ok_or_else(|| FieldError::new(format!("{name}[{i}]"), "must be a UUID"))
            })
            .collect::<FieldResult<Vec<Uuid>>>()
            .map(Some)
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

/// `s` when it is at most `max` bytes long.
pub fn text<'s>(field: &str, s: &'s str, max: usize) -> FieldResult<&'s str> {
    if s.len() > max {
        return Err(FieldError::new(
            field,
            format!("longer than {max} bytes ({} bytes)", s.len()),
        ));
    }
    Ok(s)
}

/// Fails on the first string within `value` longer than [`MAX_LONG_TEXT`], naming its path
/// (`actions[0].option.text`).
fn long_string(path: &str, value: &Value) -> FieldResult<()> {
    match value {
        Value::String(s) => text(path, s, MAX_LONG_TEXT).map(|_| ()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| long_string(&format!("{path}[{i}]"), v)),
        Value::Object(map) => map
            .iter()
            .try_for_each(|(k, v)| long_string(&format!("{path}.{k}"), v)),
        _ => Ok(()),
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

    const KNOWN: Known = Known {
        writable: &["name", "detail"],
        read_only: &READ_ONLY,
    };

    #[test]
    fn unknown_fields_are_refused_by_name() {
        let f = fields(json!({"name": "x", "timezone": "UTC", "number_pool": []}));
        assert_eq!(
            f.only(KNOWN, Write::Create).map_err(|e| e.to_string()),
            Err("number_pool, timezone: not supported".into())
        );
        assert!(f.only(KNOWN, Write::Update).is_err());
    }

    #[test]
    fn read_only_fields_are_ignored_in_updates_and_refused_in_creates() {
        let f = fields(json!({"name": "x", "id": "1", "tm_create": "t"}));
        assert_eq!(f.only(KNOWN, Write::Update), Ok(()));
        assert_eq!(
            f.only(KNOWN, Write::Create).map_err(|e| e.to_string()),
            Err("id, tm_create: read only: the server sets it".into())
        );
    }

    #[test]
    fn long_strings_are_refused_with_their_path() {
        let long = "x".repeat(MAX_LONG_TEXT + 1);
        let e = Fields::from_body(json!({"actions": [{"option": {"text": long}}]}))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err(format!(
                "actions[0].option.text: longer than {MAX_LONG_TEXT} bytes ({} bytes)",
                MAX_LONG_TEXT + 1
            ))
        );
        let name = "n".repeat(MAX_TEXT + 1);
        let f = fields(json!({ "name": name, "data": "d".repeat(MAX_LONG_TEXT * 2) }));
        assert!(f.string("name").is_err());
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        let e = Fields::from_body(json!([1]))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(e, Err("body: must be a JSON object".into()));
    }
}
