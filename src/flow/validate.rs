//! Checks a list of actions before it is stored, so the interpreter never meets a malformed
//! one. Errors name the offending action and option: `actions[1].option.duration: required for
//! sleep`.

use crate::domain::Action;
use serde_json::{Map, Value};
use std::collections::HashSet;
use uuid::Uuid;

/// The action types VoIPBIN defines and campaigns may use, and ringmaster's `opt_out` (the
/// callee's number goes on the customer's default do-not-call list; no options).
pub const ACTION_TYPES: [&str; 17] = [
    "answer",
    "talk",
    "play",
    "digits_receive",
    "digits_send",
    "branch",
    "goto",
    "variable_set",
    "sleep",
    "hangup",
    "queue_join",
    "amd",
    "recording_start",
    "recording_stop",
    "webhook_send",
    "connect",
    "opt_out",
];

/// The fields of an action object.
const ACTION_KEYS: [&str; 4] = ["id", "next_id", "type", "option"];

/// The options of `amd`: VoIPBIN's, then Asterisk AMD's parameters (ms, a word count and an
/// amplitude) and the wait for a machine's beep.
const AMD_OPTIONS: [&str; 13] = [
    "machine_handle",
    "async",
    "initial_silence",
    "greeting",
    "after_greeting_silence",
    "total_analysis_time",
    "min_word_length",
    "between_words_silence",
    "maximum_number_of_words",
    "maximum_word_length",
    "silence_threshold",
    "beep_wait",
    "beep_timeout",
];

/// The numeric options of `amd` and their bounds.
const AMD_LIMITS: [(&str, u64, u64); 10] = [
    ("initial_silence", 0, 60_000),
    ("greeting", 0, 60_000),
    ("after_greeting_silence", 0, 60_000),
    ("total_analysis_time", 20, 60_000),
    ("min_word_length", 0, 60_000),
    ("between_words_silence", 0, 60_000),
    ("maximum_number_of_words", 1, 1000),
    ("maximum_word_length", 0, 60_000),
    ("silence_threshold", 1, 32_767),
    ("beep_timeout", 0, 600_000),
];

/// The options each action type takes (VoIPBIN's names); any other is refused.
fn known_options(kind: &str) -> &'static [&'static str] {
    match kind {
        "talk" => &["text", "gender", "language", "digits_handle", "async"],
        "play" => &["stream_urls", "digits_handle"],
        "digits_receive" => &["duration", "key", "length"],
        "digits_send" => &["digits", "duration", "interval"],
        "branch" => &["variable", "default_target_id", "target_ids"],
        "goto" => &["target_id", "loop_count"],
        "variable_set" => &["key", "value"],
        "sleep" => &["duration"],
        "hangup" => &["reason"],
        "queue_join" => &["queue_id"],
        "amd" => &AMD_OPTIONS,
        "recording_start" => &[
            "format",
            "end_of_silence",
            "end_of_key",
            "duration",
            "beep_start",
        ],
        "webhook_send" => &["sync", "uri", "method", "data_type", "data"],
        "connect" => &["source", "destinations", "early_media", "relay_reason"],
        // `answer`, `recording_stop` and `opt_out` take none.
        _ => &[],
    }
}

/// What is wrong with a list of actions, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {problem}")]
pub struct ActionError {
    /// Where, e.g. `actions[1].option.duration`.
    pub path: String,
    /// What, e.g. `required for sleep`.
    pub problem: String,
}

fn err(path: impl Into<String>, problem: impl Into<String>) -> ActionError {
    ActionError {
        path: path.into(),
        problem: problem.into(),
    }
}

fn no_action(id: Uuid) -> String {
    format!("no action has id {id}")
}

/// Parses the JSON value of the field `field` (`null` is an empty list) into actions and
/// validates them.
pub fn parse_actions(field: &str, value: &Value) -> Result<Vec<Action>, ActionError> {
    let items = match value {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items,
        _ => return Err(err(field, "must be an array of actions")),
    };
    let mut actions = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let at = format!("{field}[{i}]");
        let Some(object) = item.as_object() else {
            return Err(err(at, "must be an object"));
        };
        match object.get("type") {
            Some(Value::String(_)) => {}
            None | Some(Value::Null) => return Err(err(format!("{at}.type"), "required")),
            Some(_) => return Err(err(format!("{at}.type"), "must be a string")),
        }
        if let Some(key) = object.keys().find(|k| !ACTION_KEYS.contains(&k.as_str())) {
            return Err(err(
                format!("{at}.{key}"),
                format!("unknown field; an action has {}", ACTION_KEYS.join(", ")),
            ));
        }
        for key in ["id", "next_id"] {
            if let Some(v) = object.get(key).filter(|v| !v.is_null()) {
                if v.as_str().and_then(|s| Uuid::parse_str(s).ok()).is_none() {
                    return Err(err(format!("{at}.{key}"), "must be a UUID"));
                }
            }
        }
        let action: Action =
            serde_json::from_value(item.clone()).map_err(|e| err(&at, e.to_string()))?;
        actions.push(action);
    }
    validate_actions(field, &actions)?;
    Ok(actions)
}

/// Checks each action's type and options, and that jumps name an action of the list.
pub fn validate_actions(field: &str, actions: &[Action]) -> Result<(), ActionError> {
    let mut ids = HashSet::new();
    for (i, action) in actions.iter().enumerate() {
        if !action.id.is_nil() && !ids.insert(action.id) {
            return Err(err(format!("{field}[{i}].id"), "used by an earlier action"));
        }
    }
    for (i, action) in actions.iter().enumerate() {
        let at = format!("{field}[{i}]");
        if !ACTION_TYPES.contains(&action.kind.as_str()) {
            return Err(err(
                format!("{at}.type"),
                format!(
                    "unknown action type {:?}; expected one of {}",
                    action.kind,
                    ACTION_TYPES.join(", ")
                ),
            ));
        }
        let empty = Map::new();
        let option = match &action.option {
            Value::Null => &empty,
            Value::Object(o) => o,
            _ => return Err(err(format!("{at}.option"), "must be an object")),
        };
        let check = Options {
            at: format!("{at}.option"),
            kind: &action.kind,
            option,
            ids: &ids,
        };
        check.for_type()?;
        if !action.next_id.is_nil() && !ids.contains(&action.next_id) {
            return Err(err(format!("{at}.next_id"), no_action(action.next_id)));
        }
    }
    Ok(())
}

/// The options of one action under check.
struct Options<'a> {
    at: String,
    kind: &'a str,
    option: &'a Map<String, Value>,
    ids: &'a HashSet<Uuid>,
}

impl Options<'_> {
    fn for_type(&self) -> Result<(), ActionError> {
        let known = known_options(self.kind);
        if let Some(key) = self.option.keys().find(|k| !known.contains(&k.as_str())) {
            let expected = if known.is_empty() {
                format!("{} takes no options", self.kind)
            } else {
                format!("{} takes {}", self.kind, known.join(", "))
            };
            return Err(err(self.path(key), format!("unknown option; {expected}")));
        }
        // Prompts and detection run in turn with the flow; running them beside it is not
        // supported, and saying so beats ignoring it.
        if self.option.get("async") == Some(&Value::Bool(true)) {
            return Err(err(
                self.path("async"),
                format!(
                    "true is not supported: {} runs before the next action",
                    self.kind
                ),
            ));
        }
        match self.kind {
            "talk" => {
                self.text("text", true)?;
                self.text("language", false)?;
                self.text("gender", false)?;
                self.digits_handle()
            }
            "play" => {
                self.list("stream_urls", true)?;
                self.digits_handle()
            }
            "digits_receive" => {
                self.number("duration", false)?;
                self.number("length", false)?;
                self.text("key", false)
            }
            "digits_send" => {
                self.text("digits", true)?;
                self.number("duration", false)?;
                self.number("interval", false)
            }
            "branch" => {
                self.text("variable", false)?;
                self.jump("default_target_id", false)?;
                self.jump_map("target_ids")
            }
            "goto" => {
                self.jump("target_id", true)?;
                self.number("loop_count", false)
            }
            "variable_set" => self.text("key", true),
            "sleep" => self.number("duration", true),
            "queue_join" => self.uuid("queue_id").map(|_| ()),
            "amd" => {
                self.one_of("machine_handle", &["hangup", "continue"])?;
                self.boolean("beep_wait")?;
                AMD_LIMITS
                    .iter()
                    .try_for_each(|&(key, min, max)| self.within(key, min, max))
            }
            "hangup" => self.text("reason", false),
            "webhook_send" => {
                self.text("uri", true)?;
                self.text("method", false)?;
                self.text("data_type", false)?;
                self.boolean("sync")
            }
            "connect" => self.list("destinations", true),
            "recording_start" => {
                // Recordings are WAV files; `duration` is in seconds, as VoIPBIN has it.
                self.one_of("format", &["wav"])?;
                match self.get("duration") {
                    Some(v) if v.as_f64().is_none_or(|n| n < 0.0) => Err(err(
                        self.path("duration"),
                        "must be a number of seconds, not negative",
                    )),
                    _ => Ok(()),
                }?;
                self.number("end_of_silence", false)?;
                self.text("end_of_key", false)?;
                self.boolean("beep_start")
            }
            _ => Ok(()),
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.at)
    }

    fn missing(&self, key: &str) -> ActionError {
        err(self.path(key), format!("required for {}", self.kind))
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.option.get(key).filter(|v| !v.is_null())
    }

    fn text(&self, key: &str, required: bool) -> Result<(), ActionError> {
        match self.get(key) {
            None if required => Err(self.missing(key)),
            None => Ok(()),
            Some(Value::String(s)) if required && s.trim().is_empty() => Err(self.missing(key)),
            Some(Value::String(_)) => Ok(()),
            Some(_) => Err(err(self.path(key), "must be a string")),
        }
    }

    /// A non-negative number (durations are in ms).
    fn number(&self, key: &str, required: bool) -> Result<(), ActionError> {
        match self.get(key) {
            None if required => Err(self.missing(key)),
            None => Ok(()),
            Some(v) => match v.as_f64() {
                Some(n) if n >= 0.0 => Ok(()),
                Some(_) => Err(err(self.path(key), "must not be negative")),
                None if key == "duration" => Err(err(self.path(key), "must be a number of ms")),
                None => Err(err(self.path(key), "must be a number")),
            },
        }
    }

    /// An optional whole number within `min..=max`.
    fn within(&self, key: &str, min: u64, max: u64) -> Result<(), ActionError> {
        match self.get(key) {
            None => Ok(()),
            Some(v) => match v.as_u64() {
                Some(n) if (min..=max).contains(&n) => Ok(()),
                _ => Err(err(
                    self.path(key),
                    format!("must be a whole number from {min} to {max}"),
                )),
            },
        }
    }

    fn list(&self, key: &str, required: bool) -> Result<(), ActionError> {
        match self.get(key) {
            None if required => Err(self.missing(key)),
            None => Ok(()),
            Some(Value::Array(items)) if required && items.is_empty() => Err(err(
                self.path(key),
                format!("must not be empty for {}", self.kind),
            )),
            Some(Value::Array(items)) if key == "stream_urls" => {
                match items.iter().position(|v| !v.is_string()) {
                    Some(i) => Err(err(format!("{}[{i}]", self.path(key)), "must be a string")),
                    None => Ok(()),
                }
            }
            Some(Value::Array(_)) => Ok(()),
            Some(_) => Err(err(self.path(key), "must be an array")),
        }
    }

    fn one_of(&self, key: &str, allowed: &[&str]) -> Result<(), ActionError> {
        match self.get(key) {
            None => Ok(()),
            Some(Value::String(s)) if allowed.contains(&s.as_str()) => Ok(()),
            Some(_) => Err(err(
                self.path(key),
                format!("must be one of {}", allowed.join(", ")),
            )),
        }
    }

    fn boolean(&self, key: &str) -> Result<(), ActionError> {
        match self.get(key) {
            None | Some(Value::Bool(_)) => Ok(()),
            Some(_) => Err(err(self.path(key), "must be true or false")),
        }
    }

    /// `digits_handle`: `true`/`false`, or VoIPBIN's words (`"next"`).
    fn digits_handle(&self) -> Result<(), ActionError> {
        match self.get("digits_handle") {
            None | Some(Value::Bool(_)) | Some(Value::String(_)) => Ok(()),
            Some(_) => Err(err(
                self.path("digits_handle"),
                "must be true, false or \"next\"",
            )),
        }
    }

    fn uuid(&self, key: &str) -> Result<Option<Uuid>, ActionError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .map(Some)
                .ok_or_else(|| err(self.path(key), "must be a UUID")),
        }
    }

    /// An action id to jump to: must name an action of the list.
    fn jump(&self, key: &str, required: bool) -> Result<(), ActionError> {
        match self.uuid(key)? {
            None if required => Err(self.missing(key)),
            Some(id) if !self.ids.contains(&id) => Err(err(self.path(key), no_action(id))),
            _ => Ok(()),
        }
    }

    /// `{value: action_id}` of a branch.
    fn jump_map(&self, key: &str) -> Result<(), ActionError> {
        let Some(v) = self.get(key) else {
            return Ok(());
        };
        let Some(map) = v.as_object() else {
            return Err(err(self.path(key), "must be an object of action ids"));
        };
        for (value, target) in map {
            let path = format!("{}.{value}", self.path(key));
            let id = target
                .as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| err(&path, "must be a UUID"))?;
            if !self.ids.contains(&id) {
                return Err(err(path, no_action(id)));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problem(v: Value) -> String {
        match parse_actions("actions", &v) {
            Ok(_) => String::from("ok"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_seed_talk_action_parses() {
        let actions = parse_actions(
            "actions",
            &json!([{"type": "talk", "option": {"text": "Hello.", "language": "en-US"}}]),
        )
        .expect("valid");
        assert_eq!(actions.len(), 1);
        assert_eq!(actions[0].kind, "talk");
        assert!(actions[0].id.is_nil());
    }

    #[test]
    fn null_and_empty_lists_are_no_actions() {
        assert_eq!(parse_actions("actions", &Value::Null), Ok(Vec::new()));
        assert_eq!(parse_actions("actions", &json!([])), Ok(Vec::new()));
    }

    #[test]
    fn errors_name_the_action_and_its_option() {
        assert_eq!(
            problem(json!([{"type": "answer"}, {"type": "sleep"}])),
            "actions[1].option.duration: required for sleep"
        );
        assert_eq!(
            problem(json!([{"type": "sleep", "option": {"duration": "long"}}])),
            "actions[0].option.duration: must be a number of ms"
        );
        assert_eq!(
            problem(json!([{"type": "talk", "option": {"text": " "}}])),
            "actions[0].option.text: required for talk"
        );
        assert_eq!(
            problem(json!([{"option": {}}])),
            "actions[0].type: required"
        );
        assert_eq!(
            problem(json!({"type": "talk"})),
            "actions: must be an array of actions"
        );
        assert_eq!(
            problem(json!([{"type": "talk", "option": "hi"}])),
            "actions[0].option: must be an object"
        );
    }

    #[test]
    fn the_options_the_interpreter_reads_are_checked() {
        assert_eq!(
            problem(json!([{"type": "play", "option": {"stream_urls": ["a.wav", 3]}}])),
            "actions[0].option.stream_urls[1]: must be a string"
        );
        assert_eq!(
            problem(json!([{"type": "digits_send", "option": {"digits": "1", "interval": -1}}])),
            "actions[0].option.interval: must not be negative"
        );
        assert_eq!(
            problem(
                json!([{"type": "webhook_send", "option": {"uri": "http://h", "sync": "yes"}}])
            ),
            "actions[0].option.sync: must be true or false"
        );
        assert_eq!(
            problem(json!([{"type": "talk", "option": {"text": "hi", "digits_handle": 1}}])),
            "actions[0].option.digits_handle: must be true, false or \"next\""
        );
        assert_eq!(
            problem(
                json!([{"type": "goto", "option": {"target_id": "11111111-1111-1111-1111-111111111111"}}])
            ),
            "actions[0].option.target_id: no action has id 11111111-1111-1111-1111-111111111111"
        );
    }

    #[test]
    fn amd_takes_asterisks_parameters_within_bounds() {
        assert_eq!(
            problem(
                json!([{"type": "amd", "option": {"machine_handle": "hangup",
                "initial_silence": 2500, "greeting": 1500, "after_greeting_silence": 800,
                "total_analysis_time": 5000, "min_word_length": 100, "between_words_silence": 50,
                "maximum_number_of_words": 2, "maximum_word_length": 5000,
                "silence_threshold": 256, "beep_wait": true, "beep_timeout": 20000}}])
            ),
            "ok"
        );
        assert_eq!(
            problem(json!([{"type": "amd", "option": {"machine_handle": "voicemail"}}])),
            "actions[0].option.machine_handle: must be one of hangup, continue"
        );
        assert_eq!(
            problem(json!([{"type": "amd", "option": {"total_analysis_time": 0}}])),
            "actions[0].option.total_analysis_time: must be a whole number from 20 to 60000"
        );
        assert_eq!(
            problem(json!([{"type": "amd", "option": {"silence_threshold": "loud"}}])),
            "actions[0].option.silence_threshold: must be a whole number from 1 to 32767"
        );
        assert_eq!(
            problem(json!([{"type": "amd", "option": {"beep_wait": "yes"}}])),
            "actions[0].option.beep_wait: must be true or false"
        );
    }

    #[test]
    fn an_unknown_type_is_refused_with_the_known_ones() {
        let p = problem(json!([{"type": "dance"}]));
        assert!(
            p.starts_with("actions[0].type: unknown action type \"dance\""),
            "{p}"
        );
        assert!(p.contains("digits_receive"), "{p}");
    }

    #[test]
    fn jumps_must_name_an_action_of_the_list() {
        let id = "11111111-1111-1111-1111-111111111111";
        let other = "22222222-2222-2222-2222-222222222222";
        assert_eq!(
            problem(
                json!([{"id": id, "type": "answer"}, {"type": "goto", "option": {"target_id": id}}])
            ),
            "ok"
        );
        assert_eq!(
            problem(
                json!([{"id": id, "type": "answer"}, {"type": "goto", "option": {"target_id": other}}])
            ),
            format!("actions[1].option.target_id: no action has id {other}")
        );
        assert_eq!(
            problem(json!([{"type": "branch", "option": {"target_ids": {"1": other}}}])),
            format!("actions[0].option.target_ids.1: no action has id {other}")
        );
        assert_eq!(
            problem(json!([{"id": id, "type": "answer"}, {"id": id, "type": "hangup"}])),
            "actions[1].id: used by an earlier action"
        );
    }

    #[test]
    fn recording_start_takes_wav_and_a_duration_in_seconds() {
        assert_eq!(
            problem(
                json!([{"type": "recording_start", "option": {"format": "wav", "duration": 60, "beep_start": false}}])
            ),
            "ok"
        );
        assert_eq!(
            problem(json!([{"type": "recording_start", "option": {"format": "mp3"}}])),
            "actions[0].option.format: must be one of wav"
        );
        assert_eq!(
            problem(json!([{"type": "recording_start", "option": {"duration": -1}}])),
            "actions[0].option.duration: must be a number of seconds, not negative"
        );
    }

    #[test]
    fn every_known_type_with_its_required_options_passes() {
        let v = json!([
            {"type": "answer"},
            {"type": "talk", "option": {"text": "Hi {{name}}"}},
            {"type": "play", "option": {"stream_urls": ["file:///prompt.wav"]}},
            {"type": "digits_receive", "option": {"duration": 5000, "length": 1}},
            {"type": "digits_send", "option": {"digits": "123"}},
            {"type": "branch", "option": {"variable": "voipbin.call.digits"}},
            {"type": "variable_set", "option": {"key": "k", "value": "v"}},
            {"type": "sleep", "option": {"duration": 1000}},
            {"type": "queue_join"},
            {"type": "amd", "option": {"machine_handle": "hangup"}},
            {"type": "recording_start"},
            {"type": "recording_stop"},
            {"type": "webhook_send", "option": {"uri": "http://127.0.0.1/hook"}},
            {"type": "connect", "option": {"destinations": [{"type": "tel", "target": "+15551234567"}]}},
            {"type": "opt_out"},
            {"type": "hangup"}
        ]);
        assert_eq!(problem(v), "ok");
    }
}

#[cfg(test)]
mod unknown_field_tests {
    use super::*;
    use serde_json::json;

    fn problem(actions: Value) -> Option<String> {
        parse_actions("actions", &actions)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn unknown_fields_and_options_are_refused_naming_them() {
        assert_eq!(
            problem(json!([{"type": "talk", "option": {"text": "hi", "voice": "x"}}])),
            Some(
                "actions[0].option.voice: unknown option; talk takes text, gender, language, \
                 digits_handle, async"
                    .into()
            )
        );
        assert_eq!(
            problem(json!([{"type": "hangup", "timeout": 3}])),
            Some(
                "actions[0].timeout: unknown field; an action has id, next_id, type, option".into()
            )
        );
        assert_eq!(
            problem(json!([{"type": "answer", "option": {"early": true}}])),
            Some("actions[0].option.early: unknown option; answer takes no options".into())
        );
        assert_eq!(
            problem(json!([{"type": "opt_out", "option": {"list": "x"}}])),
            Some("actions[0].option.list: unknown option; opt_out takes no options".into())
        );
        assert_eq!(
            problem(
                json!([{"type": "amd", "option": {"machine_handle": "continue", "initialsilence": 2500}}])
            ),
            Some(format!(
                "actions[0].option.initialsilence: unknown option; amd takes {}",
                AMD_OPTIONS.join(", ")
            ))
        );
        assert_eq!(
            problem(json!([{"type": "talk", "option": {"text": "hi", "async": true}}])),
            Some(
                "actions[0].option.async: true is not supported: talk runs before the next \
                 action"
                    .into()
            )
        );
        // VoIPBIN's own bodies keep working.
        assert_eq!(
            problem(json!([{"id": "00000000-0000-0000-0000-000000000000",
                "next_id": "00000000-0000-0000-0000-000000000000", "type": "talk",
                "option": {"text": "Hello", "language": "en-US", "async": false}}])),
            None
        );
    }
}
