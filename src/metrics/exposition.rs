//! The Prometheus text exposition format (version 0.0.4): `# HELP` and `# TYPE` lines, then
//! one sample a line, label values escaped.

use std::fmt::Write as _;

/// The `Content-Type` of the text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (resets when the process starts).
    Counter,
    /// Goes up and down.
    Gauge,
    /// Observations by bucket, with their sum and count.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// A sample's labels, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(&'static str, String)>);

impl Labels {
    /// No label.
    pub fn none() -> Labels {
        Labels::default()
    }

    /// One label.
    pub fn one(name: &'static str, value: impl Into<String>) -> Labels {
        Labels(vec![(name, value.into())])
    }

    /// These labels and one more.
    pub fn with(&self, name: &'static str, value: impl Into<String>) -> Labels {
        let mut more = self.0.clone();
        more.push((name, value.into()));
        Labels(more)
    }
}

/// Builds one exposition.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    /// Starts a family: its help and type lines.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.out, "# HELP {name} {help}");
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.as_str());
    }

    /// One sample.
    pub fn sample(&mut self, name: &str, labels: &Labels, value: f64) {
        self.out.push_str(name);
        if !labels.0.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.0.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push_str(k);
                self.out.push_str("=\"");
                escape_into(&mut self.out, v);
                self.out.push('"');
            }
            self.out.push('}');
        }
        self.out.push(' ');
        if value.is_nan() {
            self.out.push_str("NaN");
        } else if value.is_infinite() {
            self.out.push_str(if value > 0.0 { "+Inf" } else { "-Inf" });
        } else {
            let _ = write!(self.out, "{value}");
        }
        self.out.push('\n');
    }

    /// A family of one sample.
    pub fn single(&mut self, name: &str, kind: Kind, help: &str, value: f64) {
        self.family(name, kind, help);
        self.sample(name, &Labels::none(), value);
    }

    /// The text.
    pub fn finish(self) -> String {
        self.out
    }
}

/// A label value with `\`, `"` and newlines escaped.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_have_help_and_type_and_label_values_are_escaped() {
        let mut w = Writer::default();
        w.family("ringmaster_x_total", Kind::Counter, "Things.\nCounted.");
        w.sample(
            "ringmaster_x_total",
            &Labels::one("route", "a\"b\\c\nd").with("method", "GET"),
            3.0,
        );
        w.single("ringmaster_y", Kind::Gauge, "A level.", 0.25);
        assert_eq!(
            w.finish(),
            "# HELP ringmaster_x_total Things.\\nCounted.\n# TYPE ringmaster_x_total counter\n\
             ringmaster_x_total{route=\"a\\\"b\\\\c\\nd\",method=\"GET\"} 3\n\
             # HELP ringmaster_y A level.\n# TYPE ringmaster_y gauge\nringmaster_y 0.25\n"
        );
    }
}
