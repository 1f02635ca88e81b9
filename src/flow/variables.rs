//! The variables of one run of a flow, and their substitution into action options: both
//! VoIPBIN's `${name}` and the `{{name}}` of per-contact templates. A name no variable has is
//! left as written, so a typo shows in what the callee hears rather than vanishing.

use crate::domain::Target;
use serde_json::Value;
use std::collections::BTreeMap;
use uuid::Uuid;

/// The digits the last `digits_receive` collected; `branch` reads it by default.
pub const DIGITS: &str = "voipbin.call.digits";

/// Name → value, all strings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables(BTreeMap<String, String>);

/// What a call's variables are made of, kept as is until the call is answered (most attempts
/// never are, and their variables are never needed).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The target.
    pub target_id: Uuid,
    /// Its name.
    pub target_name: String,
    /// Its data columns.
    pub target_data: serde_json::Map<String, serde_json::Value>,
    /// The number dialed.
    pub destination: String,
    /// The attempt's campaigncall.
    pub campaigncall_id: Uuid,
    /// The campaign.
    pub campaign_id: Uuid,
    /// The caller id.
    pub source: String,
}

impl Variables {
    /// No variables.
    pub fn new() -> Variables {
        Variables::default()
    }

    /// The built-in variables of a call to `target` at `destination`:
    /// `voipbin.call.{digits,destination,source,id}`, `voipbin.campaign.id`,
    /// `voipbin.target.{id,name,destination}`, every key of the target's `data` both bare and
    /// as `voipbin.target.data.<key>`, and `name`, `phone`, `destination`. The built-ins win
    /// over a bare data key of the same name.
    pub fn for_target(
        target: &Target,
        destination: &str,
        campaigncall_id: Uuid,
        campaign_id: Uuid,
        source: &str,
    ) -> Variables {
        Variables::for_call(&CallContext {
            target_id: target.id,
            target_name: target.name.clone(),
            target_data: target.data.clone(),
            destination: destination.to_string(),
            campaigncall_id,
            campaign_id,
            source: source.to_string(),
        })
    }

    /// The variables a call's flow starts with (see [`Variables::for_target`]).
    pub fn for_call(c: &CallContext) -> Variables {
        let mut v = Variables::new();
        for (key, value) in &c.target_data {
            let text = data_text(value);
            v.set(format!("voipbin.target.data.{key}"), text.clone());
            v.set(key.clone(), text);
        }
        let destination = c.destination.as_str();
        let builtins = [
            (DIGITS, ""),
            ("voipbin.call.destination", destination),
            ("voipbin.call.source", &c.source),
            ("voipbin.call.id", &c.campaigncall_id.to_string()),
            ("voipbin.campaign.id", &c.campaign_id.to_string()),
            ("voipbin.target.id", &c.target_id.to_string()),
            ("voipbin.target.name", &c.target_name),
            ("voipbin.target.destination", destination),
            ("name", &c.target_name),
            ("phone", destination),
            ("destination", destination),
        ];
        for (key, value) in builtins {
            v.set(key, value);
        }
        v
    }

    /// Sets a variable.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.0.insert(name.into(), value.into());
    }

    /// A variable's value.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Every variable, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// `text` with every `${name}` and `{{name}}` of a known variable replaced by its value
    /// (spaces around the name are allowed: `{{ name }}`). Values are not substituted again.
    pub fn substitute(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find(['$', '{']) {
            out.push_str(&rest[..start]);
            let tail = &rest[start..];
            match self.placeholder(tail) {
                Some((value, used)) => {
                    out.push_str(value);
                    rest = &tail[used..];
                }
                None => {
                    // Not a placeholder: keep the character and go on after it.
                    let ch = tail.chars().next().map_or(1, char::len_utf8);
                    out.push_str(&tail[..ch]);
                    rest = &tail[ch..];
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The value of the known placeholder `tail` starts with, and its length.
    fn placeholder<'a>(&'a self, tail: &str) -> Option<(&'a str, usize)> {
        let (open, close) = if tail.starts_with("${") {
            ("${", "}")
        } else if tail.starts_with("{{") {
            ("{{", "}}")
        } else {
            return None;
        };
        let inner = &tail[open.len()..];
        let end = inner.find(close)?;
        let value = self.get(inner[..end].trim())?;
        Some((value, open.len() + end + close.len()))
    }

    /// A JSON value with the strings inside it (not the keys) substituted.
    pub fn substitute_json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.substitute(s)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.substitute_json(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), self.substitute_json(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

/// A target `data` value as a variable: strings as they are, `null` empty, anything else as
/// JSON text.
fn data_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Destinations, TargetStatus, TryCounts};
    use serde_json::json;

    fn vars(pairs: &[(&str, &str)]) -> Variables {
        let mut v = Variables::new();
        for (k, val) in pairs {
            v.set(*k, *val);
        }
        v
    }

    #[test]
    fn both_placeholder_forms_are_replaced() {
        let v = vars(&[("name", "Ada"), ("voipbin.call.digits", "1")]);
        assert_eq!(
            v.substitute("Hi {{name}}, you pressed ${voipbin.call.digits}. {{ name }}!"),
            "Hi Ada, you pressed 1. Ada!"
        );
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_left_as_written() {
        let v = vars(&[("name", "Ada")]);
        assert_eq!(
            v.substitute("{{nope}} ${nope} ${name"),
            "{{nope}} ${nope} ${name"
        );
        assert_eq!(v.substitute("$5 {x} {{{name}}}"), "$5 {x} {Ada}");
        assert_eq!(v.substitute("café {{name}}"), "café Ada");
    }

    #[test]
    fn values_are_not_substituted_twice() {
        let v = vars(&[("a", "{{b}}"), ("b", "x")]);
        assert_eq!(v.substitute("{{a}}"), "{{b}}");
    }

    #[test]
    fn json_strings_are_substituted_and_keys_kept() {
        let v = vars(&[("name", "Ada")]);
        assert_eq!(
            v.substitute_json(&json!({"{{name}}": ["{{name}}", 3]})),
            json!({"{{name}}": ["Ada", 3]})
        );
    }

    #[test]
    fn a_target_gives_the_builtins_and_its_data_both_ways() {
        let mut data = serde_json::Map::new();
        data.insert("company".into(), json!("Acme"));
        data.insert("balance".into(), json!(12.5));
        data.insert("phone".into(), json!("office"));
        let target = Target {
            id: Uuid::nil(),
            outdial_id: Uuid::nil(),
            name: "Ada".into(),
            detail: String::new(),
            data,
            status: TargetStatus::Idle,
            result: String::new(),
            destinations: Destinations::default(),
            tries: TryCounts::default(),
            timezone: String::new(),
            zones: Vec::new(),
            tm_create: String::new(),
            tm_update: String::new(),
            tm_delete: String::new(),
        };
        let call = Uuid::new_v4();
        let v = Variables::for_target(&target, "+15551234567", call, Uuid::nil(), "+15550000000");
        assert_eq!(v.get("company"), Some("Acme"));
        assert_eq!(v.get("voipbin.target.data.company"), Some("Acme"));
        assert_eq!(v.get("balance"), Some("12.5"));
        assert_eq!(v.get("phone"), Some("+15551234567"));
        assert_eq!(v.get("voipbin.target.data.phone"), Some("office"));
        assert_eq!(v.get("voipbin.call.id"), Some(call.to_string().as_str()));
        assert_eq!(v.get("voipbin.call.source"), Some("+15550000000"));
        assert_eq!(v.get("voipbin.target.destination"), Some("+15551234567"));
        assert_eq!(v.get(DIGITS), Some(""));
        assert_eq!(
            v.substitute("{{name}} at {{company}}"),
            "Ada at Acme".to_string()
        );
    }
}
