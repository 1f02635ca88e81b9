//! Human output: API objects as aligned columns.

use serde_json::Value;

/// A cell of `item` at a JSON pointer-like dotted path (`destination.target`).
pub fn cell(item: &Value, path: &str) -> String {
    let mut v = item;
    for key in path.split('.') {
        v = &v[key];
    }
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `items` as a table of the given columns (header in capitals), one line per item.
pub fn render(items: &[Value], columns: &[&str]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| columns.iter().map(|c| cell(item, c)).collect())
        .collect();
    let header: Vec<String> = columns.iter().map(|c| c.to_ascii_uppercase()).collect();
    let widths: Vec<usize> = (0..columns.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .chain([header[i].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, w)| format!("{text:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// One object as `key: value` lines, in the given order.
pub fn render_one(item: &Value, fields: &[&str]) -> String {
    let width = fields.iter().map(|f| f.len()).max().unwrap_or(0);
    fields
        .iter()
        .map(|f| format!("{f:<width$}  {}\n", cell(item, f)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn columns_line_up_and_nested_fields_are_read() {
        let items = [
            json!({"id": "a1", "destination": {"target": "+15551234567"}, "sip_code": 200}),
            json!({"id": "b", "destination": {"target": "+1"}, "sip_code": null}),
        ];
        assert_eq!(
            render(&items, &["id", "destination.target", "sip_code"]),
            "ID  DESTINATION.TARGET  SIP_CODE\na1  +15551234567        200\nb   +1\n"
        );
        assert_eq!(
            render_one(&items[0], &["id", "sip_code"]),
            "id        a1\nsip_code  200\n"
        );
    }
}
