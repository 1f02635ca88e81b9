//! A CSV file of targets read row by row from any reader, so that an import of a million rows
//! holds one row at a time: the header is read first, then each record becomes a target or an
//! [`InvalidRow`] with its line. The columns are those of [`super::target_csv`].

use super::error::ApiError;
use super::target_csv::{cell, Columns};
use super::target_rows::{Import, InvalidRow};
use crate::store::NewTarget;
use std::io::Read;

/// What reading the next record gave.
pub enum CsvRow {
    /// A target to insert.
    Target(Box<NewTarget>),
    /// A row refused, with its line and reason.
    Invalid(InvalidRow),
}

/// The records of a CSV file of targets, one at a time.
pub struct CsvRecords<R: Read> {
    import: Import,
    reader: csv::Reader<R>,
    columns: Columns,
    record: csv::StringRecord,
    rows: usize,
}

impl<R: Read> CsvRecords<R> {
    /// Reads the header row (a leading UTF-8 byte order mark is skipped); 400 when it is
    /// unreadable or names no destination column.
    pub fn new(import: Import, input: R) -> Result<CsvRecords<R>, ApiError> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader.headers().map_err(|e| {
            ApiError::invalid("body", format!("unreadable CSV header: {}", reason(&e)))
        })?;
        let columns = Columns::from_headers(headers)?;
        Ok(CsvRecords {
            import,
            reader,
            columns,
            record: csv::StringRecord::new(),
            rows: 0,
        })
    }

    /// Records read so far (valid or not), the header not counted.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The next record, `None` at the end of the file. A failure to read the input itself
    /// (the body stopped arriving, or broke a bound) ends the file with an error; a record the
    /// CSV reader cannot make sense of is an invalid row.
    pub fn next_row(&mut self) -> Result<Option<CsvRow>, ApiError> {
        // The header is line 1, so the nth record (0-based) is at least on line n + 2.
        let fallback = self.rows + 2;
        match self.reader.read_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                self.rows += 1;
                let line = self
                    .record
                    .position()
                    .map_or(fallback, |p| p.line() as usize);
                Ok(Some(
                    match self.import.csv_row(&self.columns, &self.record) {
                        Ok(t) => CsvRow::Target(Box::new(t)),
                        Err(reason) => CsvRow::Invalid(InvalidRow {
                            row: line,
                            value: cell(&self.record, self.columns.slots[0].as_ref().map(|c| c.0)),
                            reason,
                        }),
                    },
                ))
            }
            Err(e) if matches!(e.kind(), csv::ErrorKind::Io(_)) => {
                Err(ApiError::invalid("body", reason(&e)))
            }
            Err(e) => {
                self.rows += 1;
                Ok(Some(CsvRow::Invalid(InvalidRow {
                    row: e.position().map_or(fallback, |p| p.line() as usize),
                    value: String::new(),
                    reason: format!("unreadable row: {e}"),
                })))
            }
        }
    }
}

/// The message of a CSV error: for a failed read, the reader's own message (it names the
/// bound or the broken body), else the CSV reader's.
fn reason(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Io(io) => io.to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn import() -> Import {
        Import {
            outdial_id: Uuid::nil(),
            region: crate::domain::phone::region("US").expect("US"),
            now: "2024-01-01 00:00:00.000000".into(),
        }
    }

    /// A reader that hands out its text a few bytes at a time, as a body arrives.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(3);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn rows_arriving_in_small_pieces_read_as_a_whole_file_does() {
        let csv = "phone_number,name\n+15551234567,\"Doe, John\"\n12345,Bad\n5559876543,Jane\n";
        let mut rows = CsvRecords::new(import(), Trickle(csv.as_bytes())).expect("header");
        let mut seen = Vec::new();
        while let Some(row) = rows.next_row().expect("readable") {
            seen.push(match row {
                CsvRow::Target(t) => format!("{} {}", t.dedupe, t.target.name),
                CsvRow::Invalid(bad) => format!("line {} {}", bad.row, bad.value),
            });
        }
        assert_eq!(
            seen,
            [
                "+15551234567 Doe, John",
                "line 3 12345",
                "+15559876543 Jane"
            ]
        );
        assert_eq!(rows.rows(), 3);
    }

    #[test]
    fn a_broken_input_ends_the_file_with_its_message() {
        struct Broken(bool);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if std::mem::replace(&mut self.0, true) {
                    return Err(std::io::Error::other("the body broke off"));
                }
                let head = b"phone_number\n+15551234567\n+1555";
                buf[..head.len()].copy_from_slice(head);
                Ok(head.len())
            }
        }
        let mut rows = CsvRecords::new(import(), Broken(false)).expect("header");
        assert!(matches!(rows.next_row(), Ok(Some(CsvRow::Target(_)))));
        let e = rows.next_row().map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(e, Err("body: the body broke off".into()));
    }
}
