//! CSV imports of targets.
//!
//! The header row names the columns, matched without regard to case: `destination` (or
//! `destination_0`, or `phone_number`) is required; `destination_1` .. `destination_4`,
//! `name`, `detail` and `timezone` (an IANA zone) are read as such; every other column is kept, under its header, in
//! the target's `data` (`email`, `company`, `appointment_date`, ...). A row whose `name` or
//! `detail` passes [`MAX_TEXT`] bytes, or whose `data` passes `MAX_DATA` bytes serialised, is
//! refused and reported like any other bad row.

use super::error::ApiError;
use super::fields::text;
use super::limits::MAX_TEXT;
use super::target_rows::{bounded_data, cell_address, Import};
#[cfg(test)]
use super::target_rows::{too_many, Rows, MAX_ROWS};
use crate::domain::outplan::SLOTS;
use crate::domain::Address;
use serde_json::{Map, Value};

/// Names the first destination column may have.
const FIRST_COLUMN: [&str; 3] = ["destination", "destination_0", "phone_number"];

/// Which column holds what.
pub(super) struct Columns {
    /// Index and header of each destination slot's column.
    pub(super) slots: [Option<(usize, String)>; SLOTS],
    name: Option<usize>,
    detail: Option<usize>,
    timezone: Option<usize>,
    /// The other columns: index and header (the key in `data`).
    data: Vec<(usize, String)>,
}

impl Columns {
    pub(super) fn from_headers(headers: &csv::StringRecord) -> Result<Columns, ApiError> {
        let mut columns = Columns {
            slots: Default::default(),
            name: None,
            detail: None,
            timezone: None,
            data: Vec::new(),
        };
        for (i, header) in headers.iter().enumerate() {
            let header = header.trim();
            let key = header.to_ascii_lowercase();
            let slot = match key.as_str() {
                k if FIRST_COLUMN.contains(&k) => Some(0),
                "destination_1" => Some(1),
                "destination_2" => Some(2),
                "destination_3" => Some(3),
                "destination_4" => Some(4),
                _ => None,
            };
            match (slot, key.as_str()) {
                (Some(s), _) if columns.slots[s].is_none() => {
                    columns.slots[s] = Some((i, header.to_string()));
                }
                (None, "name") if columns.name.is_none() => columns.name = Some(i),
                (None, "detail") if columns.detail.is_none() => columns.detail = Some(i),
                (None, "timezone") if columns.timezone.is_none() => columns.timezone = Some(i),
                _ if !header.is_empty() => columns.data.push((i, header.to_string())),
                _ => {}
            }
        }
        if columns.slots[0].is_none() {
            return Err(ApiError::invalid(
                "destination",
                "the CSV header needs a destination or phone_number column",
            ));
        }
        Ok(columns)
    }
}

impl Import {
    /// A CSV file held whole, read as an import reads it as it arrives (see
    /// [`CsvRecords`]), at most [`MAX_ROWS`] rows.
    #[cfg(test)]
    pub fn csv_rows(&self, body: &[u8]) -> Result<Rows, ApiError> {
        use super::target_csv_stream::{CsvRecords, CsvRow};
        let import = Import {
            outdial_id: self.outdial_id,
            region: self.region,
            now: self.now.clone(),
        };
        let mut records = CsvRecords::new(import, body)?;
        let mut rows: Rows = (Vec::new(), Vec::new());
        while let Some(row) = records.next_row()? {
            if records.rows() > MAX_ROWS {
                return Err(too_many(records.rows()));
            }
            match row {
                CsvRow::Target(t) => rows.0.push(*t),
                CsvRow::Invalid(bad) => rows.1.push(bad),
            }
        }
        Ok(rows)
    }

    pub(super) fn csv_row(
        &self,
        columns: &Columns,
        record: &csv::StringRecord,
    ) -> Result<crate::store::NewTarget, String> {
        let mut slots: [Option<Address>; SLOTS] = Default::default();
        for (slot, column) in slots.iter_mut().zip(&columns.slots) {
            if let Some((i, header)) = column {
                *slot = cell_address(header, &cell(record, Some(*i)), self.region)
                    .map_err(|e| e.to_string())?;
            }
        }
        let [first, d1, d2, d3, d4] = slots;
        let first = first.ok_or_else(|| {
            let header = columns.slots[0]
                .as_ref()
                .map_or("destination", |c| c.1.as_str());
            format!("{header}: required")
        })?;
        let data: Map<String, Value> = columns
            .data
            .iter()
            .map(|(i, key)| (key.clone(), Value::String(cell(record, Some(*i)))))
            .collect();
        let data = bounded_data(data).map_err(|e| e.to_string())?;
        let name = cell(record, columns.name);
        let detail = cell(record, columns.detail);
        text("name", &name, MAX_TEXT).map_err(|e| e.to_string())?;
        text("detail", &detail, MAX_TEXT).map_err(|e| e.to_string())?;
        let timezone = cell(record, columns.timezone);
        let timezone = match timezone.trim() {
            "" => None,
            t => Some(super::target_rows::zone("timezone", t).map_err(|e| e.to_string())?),
        };
        Ok(self.target(name, detail, data, first, [d1, d2, d3, d4], timezone))
    }
}

/// The text of a column of a record (`""` when the row is short).
pub(super) fn cell(record: &csv::StringRecord, column: Option<usize>) -> String {
    column
        .and_then(|i| record.get(i))
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn import() -> Import {
        Import {
            outdial_id: Uuid::nil(),
            region: crate::domain::phone::region("US").expect("US"),
            now: "2024-01-01 00:00:00.000000".into(),
        }
    }

    const SEED: &str = "phone_number,name,email,company,deal_stage,notes
+15551234567,John Doe,john@example.com,Acme Corp,proposal,VIP customer
5559876543,Jane Smith,jane@example.com,Beta Inc,discovery,Follow up on quote
(555) 555-0100,Bob Wilson,,Gamma LLC,lead,New lead from website
";

    #[test]
    fn the_seed_csv_imports_all_three_with_extra_columns_in_data() {
        let (ok, bad) = import().csv_rows(SEED.as_bytes()).expect("valid CSV");
        assert!(bad.is_empty(), "{bad:?}");
        let numbers: Vec<&str> = ok.iter().map(|t| t.dedupe.as_str()).collect();
        assert_eq!(numbers, ["+15551234567", "+15559876543", "+15555550100"]);
        let jane = &ok[1].target;
        assert_eq!(jane.name, "Jane Smith");
        assert_eq!(
            Value::Object(jane.data.clone()),
            json!({"email": "jane@example.com", "company": "Beta Inc",
                   "deal_stage": "discovery", "notes": "Follow up on quote"})
        );
    }

    #[test]
    fn bad_rows_are_reported_by_line_and_column() {
        let csv = "\u{feff}Destination,Destination_1,Name\n12345,,A\n+15551234567,sip:b@127.0.0.1,B\n,,C\n";
        let (ok, bad) = import().csv_rows(csv.as_bytes()).expect("valid CSV");
        assert_eq!(ok.len(), 1);
        assert_eq!(
            ok[0].target.destinations.present(),
            [true, true, false, false, false]
        );
        assert_eq!(bad.len(), 2);
        assert_eq!((bad[0].row, bad[0].value.as_str()), (2, "12345"));
        assert_eq!(
            bad[0].reason,
            "Destination: \"12345\" has an impossible length for its country"
        );
        assert_eq!(
            (bad[1].row, bad[1].reason.as_str()),
            (4, "Destination: required")
        );
    }

    #[test]
    fn a_timezone_column_sets_the_zones_and_a_bad_one_refuses_the_row() {
        let csv =
            "phone_number,timezone\n+13125550100,\n+13125550101,Asia/Tokyo\n+13125550102,Nowhere\n";
        let (ok, bad) = import().csv_rows(csv.as_bytes()).expect("valid CSV");
        assert_eq!(ok[0].target.zones, vec![chrono_tz::America::Chicago]);
        assert_eq!(ok[1].target.zones, vec![chrono_tz::Asia::Tokyo]);
        assert_eq!(ok[1].target.timezone, "Asia/Tokyo");
        assert!(ok[1].target.data.is_empty());
        assert_eq!(
            (bad[0].row, bad[0].reason.starts_with("timezone:")),
            (4, true)
        );
    }

    #[test]
    fn a_csv_without_a_number_column_is_refused() {
        let e = import()
            .csv_rows(b"name,email\nA,a@example.com\n")
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            e,
            Err("destination: the CSV header needs a destination or phone_number column".into())
        );
    }
}
