//! Turning request rows into targets: a VoIPBIN target object, an array of them, or a CSV file,
//! with numbers normalised to E.164 and the rows refused kept for the import report.
//!
//! A target's `data` may come as an object (kept) or, as VoIPBIN sends it, a string: a string
//! holding a JSON object is that object, any other non-empty string is kept as
//! `{"data": "<string>"}`. Either way it is at most [`MAX_DATA`] bytes once serialised.
//!
//! A target object takes only the fields in [`TARGET_FIELDS`]; any other refuses the row,
//! naming the field (the read-only `status` and `try_count_0` of an answer too).
//!
//! A target's zones, which its call window is read in, are worked out here, once: its
//! `timezone` (an IANA name) when given, else those of `destination_0`'s area code, national
//! prefix or country (see `campaign::zones`).

use super::address::{address, dialable, from_text, is_blank};
use super::error::{ApiError, FieldError};
use super::fields::{Fields, Known, Write};
use super::limits::MAX_DATA;
use crate::domain::outplan::SLOTS;
use crate::domain::{Address, AddressKind, Destinations, Target, TargetStatus, TryCounts};
use crate::store::NewTarget;
use phonenumber::country::Id as Country;
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// Most rows one request may import.
pub const MAX_ROWS: usize = 10_000;

/// The fields a target object may carry (VoIPBIN's `POST /outdials/{id}/targets`).
pub const TARGET_FIELDS: Known = Known {
    writable: &[
        "name",
        "detail",
        "data",
        "destination_0",
        "destination_1",
        "destination_2",
        "destination_3",
        "destination_4",
        "timezone",
    ],
    read_only: &[
        "zones",
        "id",
        "customer_id",
        "outdial_id",
        "status",
        "result",
        "try_count_0",
        "try_count_1",
        "try_count_2",
        "try_count_3",
        "try_count_4",
        "tm_create",
        "tm_update",
        "tm_delete",
    ],
};

/// A row that was not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct InvalidRow {
    /// The array index (JSON), or the line of the file with the header as line 1 (CSV).
    pub row: usize,
    /// The number as given.
    pub value: String,
    /// Why, naming the field or column.
    pub reason: String,
}

/// What a bulk import did.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    /// Targets created.
    pub created: usize,
    /// Rows refused (a CSV import lists the first thousand).
    pub skipped_invalid: Vec<InvalidRow>,
    /// How many rows were refused in all.
    pub skipped_invalid_total: usize,
    /// E.164 numbers already in the outdial, or repeated in the request (a CSV import lists
    /// the first thousand).
    pub skipped_duplicate: Vec<String>,
    /// How many rows were duplicates in all.
    pub skipped_duplicate_total: usize,
}

/// Rows parsed, and the ones refused.
pub type Rows = (Vec<NewTarget>, Vec<InvalidRow>);

/// Where imported targets go and how their numbers are read.
pub struct Import {
    /// The outdial.
    pub outdial_id: Uuid,
    /// The region national numbers are read in.
    pub region: Country,
    /// `tm_create` of the new targets.
    pub now: String,
}

impl Import {
    /// A new idle target; duplicates are found by its first destination.
    pub(super) fn target(
        &self,
        name: String,
        detail: String,
        data: Map<String, Value>,
        first: Address,
        rest: [Option<Address>; SLOTS - 1],
        timezone: Option<chrono_tz::Tz>,
    ) -> NewTarget {
        let zones = match (timezone, &first.kind) {
            (Some(zone), _) => vec![zone],
            (None, AddressKind::Tel(number)) => crate::campaign::zones::of_number(number),
            (None, _) => Vec::new(),
        };
        let dedupe = match &first.kind {
            AddressKind::Tel(number) => number.to_string(),
            other => format!("{}:{}", other.type_name(), other.target()),
        };
        let [d1, d2, d3, d4] = rest;
        NewTarget {
            target: Target {
                // Time-ordered: the targets of a large import are appended to the index of
                // ids rather than written all over it.
                id: Uuid::now_v7(),
                outdial_id: self.outdial_id,
                name,
                detail,
                data,
                status: TargetStatus::Idle,
                result: String::new(),
                destinations: Destinations::from_array([Some(first), d1, d2, d3, d4]),
                tries: TryCounts::default(),
                timezone: timezone.map(|z| z.name().to_string()).unwrap_or_default(),
                zones,
                tm_create: self.now.clone(),
                tm_update: crate::domain::time::NEVER.into(),
                tm_delete: crate::domain::time::NEVER.into(),
            },
            dedupe,
        }
    }

    /// One VoIPBIN target object: `{name, detail, data, destination_0 .. destination_4}`.
    pub fn json_target(&self, value: &Value) -> Result<NewTarget, FieldError> {
        let Value::Object(map) = value else {
            return Err(FieldError::new("target", "must be an object"));
        };
        let f = Fields::of(map.clone()).bounded()?;
        f.only(TARGET_FIELDS, Write::Create)?;
        let first = match f.raw("destination_0") {
            Some(v) if !is_blank(v) => destination("destination_0", v, self.region)?,
            _ => return Err(FieldError::new("destination_0", "required")),
        };
        let mut rest: [Option<Address>; SLOTS - 1] = Default::default();
        for (i, slot) in rest.iter_mut().enumerate() {
            let field = format!("destination_{}", i + 1);
            if let Some(v) = f.raw(&field).filter(|v| !is_blank(v)) {
                *slot = Some(destination(&field, v, self.region)?);
            }
        }
        let name = f.string("name")?.unwrap_or_default();
        let detail = f.string("detail")?.unwrap_or_default();
        let data = data_map(f.raw("data"))?;
        let timezone = match f.string("timezone")? {
            Some(t) if !t.is_empty() => Some(zone("timezone", &t)?),
            _ => None,
        };
        Ok(self.target(name, detail, data, first, rest, timezone))
    }

    /// A JSON array of target objects (at most [`MAX_ROWS`]).
    pub fn json_rows(&self, items: &[Value]) -> Result<Rows, ApiError> {
        if items.len() > MAX_ROWS {
            return Err(too_many(items.len()));
        }
        let mut rows = (Vec::with_capacity(items.len()), Vec::new());
        for (i, item) in items.iter().enumerate() {
            match self.json_target(item) {
                Ok(t) => rows.0.push(t),
                Err(e) => rows.1.push(InvalidRow {
                    row: i,
                    value: first_destination_text(item),
                    reason: e.to_string(),
                }),
            }
        }
        Ok(rows)
    }
}

/// A target's `timezone`: an IANA zone name.
pub fn zone(field: &str, text: &str) -> Result<chrono_tz::Tz, FieldError> {
    text.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        FieldError::new(
            field,
            format!("{text:?} is not an IANA time zone (e.g. America/New_York)"),
        )
    })
}

/// A destination slot: an address a call campaign can dial.
fn destination(field: &str, value: &Value, region: Country) -> Result<Address, FieldError> {
    let a = address(field, value, region)?;
    dialable(field, &a)?;
    Ok(a)
}

/// 400 for a request over [`MAX_ROWS`].
pub fn too_many(n: usize) -> ApiError {
    ApiError::invalid(
        "targets",
        format!("at most {MAX_ROWS} per request, got {n}; split the import"),
    )
}

/// `data` as an object (see the module docs for strings), at most [`MAX_DATA`] bytes.
fn data_map(value: Option<&Value>) -> Result<Map<String, Value>, FieldError> {
    let map = match value {
        None => return Ok(Map::new()),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(s)) if s.trim().is_empty() => return Ok(Map::new()),
        Some(Value::String(s)) if s.len() > MAX_DATA => return Err(data_too_large(s.len())),
        Some(Value::String(s)) => serde_json::from_str::<Map<String, Value>>(s)
            .unwrap_or_else(|_| Map::from_iter([("data".to_string(), Value::String(s.clone()))])),
        Some(_) => return Err(FieldError::new("data", "must be an object or a string")),
    };
    bounded_data(map)
}

/// `data` when its JSON text is at most [`MAX_DATA`] bytes.
pub fn bounded_data(map: Map<String, Value>) -> Result<Map<String, Value>, FieldError> {
    let size = serde_json::to_string(&map).map_or(usize::MAX, |s| s.len());
    if size > MAX_DATA {
        return Err(data_too_large(size));
    }
    Ok(map)
}

fn data_too_large(size: usize) -> FieldError {
    FieldError::new(
        "data",
        format!("larger than {MAX_DATA} bytes serialised ({size} bytes)"),
    )
}

/// The number a row gave, for the report.
fn first_destination_text(item: &Value) -> String {
    match item.get("destination_0") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Object(o)) => match o.get("target") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        },
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Reads a CSV cell as an optional address of column `column`.
pub fn cell_address(
    column: &str,
    text: &str,
    region: Country,
) -> Result<Option<Address>, FieldError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let a = from_text(column, text, region)?;
    dialable(column, &a)?;
    Ok(Some(a))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn import() -> Import {
        Import {
            outdial_id: Uuid::nil(),
            region: crate::domain::phone::region("US").expect("US"),
            now: "2024-01-01 00:00:00.000000".into(),
        }
    }

    #[test]
    fn a_voipbin_target_object_becomes_an_idle_target() {
        let t = import()
            .json_target(&json!({
                "name": "Jane",
                "detail": "VIP",
                "data": "{\"company\": \"Acme\"}",
                "destination_0": {"type": "tel", "target": "5559876543"},
                "destination_1": {"type": "tel", "target": "+15551234567"},
                "destination_2": {"type": "", "target": ""}
            }))
            .expect("valid");
        assert_eq!(t.dedupe, "+15559876543");
        assert_eq!(t.target.status, TargetStatus::Idle);
        assert_eq!(t.target.tries.total(), 0);
        assert_eq!(t.target.data.get("company"), Some(&json!("Acme")));
        assert_eq!(
            t.target.destinations.present(),
            [true, true, false, false, false]
        );
    }

    #[test]
    fn data_strings_that_are_not_json_objects_are_kept_under_data() {
        assert_eq!(
            data_map(Some(&json!("call after 5"))).map(Value::Object),
            Ok(json!({"data": "call after 5"}))
        );
        assert_eq!(data_map(Some(&json!(""))).map(Value::Object), Ok(json!({})));
        assert!(data_map(Some(&json!(7))).is_err());
    }

    #[test]
    fn bad_rows_are_reported_with_their_index_and_number() {
        let (ok, bad) = import()
            .json_rows(&[
                json!({"destination_0": {"type": "tel", "target": "+15551234567"}}),
                json!({"destination_0": {"type": "tel", "target": "12345"}}),
                json!({"name": "nobody"}),
            ])
            .expect("under the limit");
        assert_eq!(ok.len(), 1);
        assert_eq!(
            bad,
            vec![
                InvalidRow {
                    row: 1,
                    value: "12345".into(),
                    reason:
                        "destination_0.target: \"12345\" has an impossible length for its country"
                            .into(),
                },
                InvalidRow {
                    row: 2,
                    value: String::new(),
                    reason: "destination_0: required".into(),
                },
            ]
        );
    }

    #[test]
    fn data_and_unknown_fields_are_bounded() {
        let big = json!({"note": "x".repeat(MAX_DATA)});
        let e = import()
            .json_target(&json!({
                "destination_0": {"type": "tel", "target": "+15551234567"},
                "data": big
            }))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            e.as_ref()
                .is_err_and(|e| e.starts_with("data: larger than 16384 bytes serialised")),
            "{e:?}"
        );
        let e = import()
            .json_target(&json!({
                "destination_0": {"type": "tel", "target": "+15551234567"},
                "timezone": "America/New_York",
                "shoe_size": 42
            }))
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(e, Err("shoe_size: not supported".into()));
    }

    #[test]
    fn a_targets_zones_come_from_its_timezone_or_its_number() {
        let t = |v: Value| import().json_target(&v).map(|t| t.target.zones);
        assert_eq!(
            t(json!({"destination_0": {"type": "tel", "target": "+13125550100"}})),
            Ok(vec![chrono_tz::America::Chicago])
        );
        assert_eq!(
            t(
                json!({"destination_0": {"type": "tel", "target": "+13125550100"},
                     "timezone": "Europe/Paris"})
            ),
            Ok(vec![chrono_tz::Europe::Paris])
        );
        assert_eq!(
            t(
                json!({"destination_0": {"type": "tel", "target": "+13125550100"},
                     "timezone": "Mars/Olympus"})
            )
            .map_err(|e| e.to_string()),
            Err(
                "timezone: \"Mars/Olympus\" is not an IANA time zone (e.g. America/New_York)"
                    .into()
            )
        );
    }

    #[test]
    fn more_than_the_limit_is_refused_whole() {
        let items = vec![json!({}); MAX_ROWS + 1];
        let e = import()
            .json_rows(&items)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("targets: at most 10000 per request, got 10001; split the import".into())
        );
    }
}
