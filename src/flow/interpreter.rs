//! The flow interpreter: runs a list of actions on one call without doing any IO. It emits a
//! [`Command`] for the media layer (speak, play, collect digits, ...) and is resumed with an
//! [`Input`] saying how that command ended.
//!
//! ```text
//! let mut runner = Runner::new(actions, variables);
//! let mut command = runner.next(Input::Started);
//! loop {
//!     match command {
//!         Command::Done | Command::Hangup { .. } => break,   // hang up
//!         Command::Wait => {}                               // keep doing the last command
//!         other => { /* start `other` */ }
//!     }
//!     command = runner.next(/* how it ended, or a key press */);
//! }
//! store(runner.outcome());   // also when the callee hangs up first
//! ```

use super::command::{Command, Input};
use super::outcome::{ActionRun, FlowOutcome, RunResult, AMD_RESULT};
use super::variables::{Variables, DIGITS};
use crate::domain::Action;
use crate::media::amd::{self, Verdict};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use uuid::Uuid;

/// The reason an `amd` with `machine_handle: hangup` hangs up with.
pub const MACHINE_HANGUP: &str = "answering machine";
/// The flow variable an `amd` sets to its cause (Asterisk's `AMDCAUSE`, e.g. `MAXWORDS-3-2`).
pub const AMD_CAUSE: &str = "amd.cause";
/// Longest wait for a machine's beep unless `beep_timeout` says, ms.
pub const DEFAULT_BEEP_TIMEOUT_MS: u32 = 20_000;

/// Most actions one run may take: a guard against flows that loop forever.
pub const MAX_STEPS: usize = 1000;
/// How long `digits_receive` waits when its `duration` is not given, ms.
pub const DEFAULT_DIGITS_TIMEOUT_MS: u64 = 5000;
/// Tone length of `digits_send` when its `duration` is not given, ms.
pub const DEFAULT_TONE_MS: u32 = 250;
/// Gap between tones of `digits_send` when its `interval` is not given, ms.
pub const DEFAULT_TONE_GAP_MS: u32 = 100;

/// What the command in progress waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Waiting {
    /// A talk or play.
    Prompt { interruptible: bool },
    /// A digits_receive, with the digits so far.
    Digits {
        collected: String,
        length: usize,
        terminators: String,
    },
    /// A sleep or digits_send.
    Media,
    /// A webhook_send.
    Webhook,
    /// A queue_join.
    Queue,
    /// An amd: hang up on a machine or not.
    Amd { hangup_on_machine: bool },
}

/// What running one action leads to.
enum Step {
    /// On to the action after it.
    Next,
    /// On to the action with this id (nil or unknown: the flow ends).
    Jump(Uuid),
    /// The caller has something to do first.
    Wait(Command, Waiting),
    /// The flow is over.
    End(Command),
}

/// One run of a flow on one call.
#[derive(Debug, Clone)]
pub struct Runner {
    actions: Arc<[Action]>,
    index_of: HashMap<Uuid, usize>,
    /// The action in progress.
    pc: usize,
    waiting: Option<Waiting>,
    variables: Variables,
    /// Names the flow set, for the outcome.
    set: BTreeSet<String>,
    /// Jumps made by each `goto`, by index.
    loops: HashMap<usize, u64>,
    steps: usize,
    log: Vec<ActionRun>,
    /// Keys pressed since the last `digits_receive`.
    typed_ahead: String,
    digits: String,
    started: bool,
    end: Option<Command>,
    /// A `recording_start` not stopped since: the bridge to an agent is recorded.
    recording: Option<RecordingAsked>,
}

/// What a `recording_start` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingAsked {
    /// Stop after this long, ms (`duration`, given in seconds).
    pub max_ms: Option<u64>,
}

impl Runner {
    /// A run of `actions` over `variables` (see [`Variables::for_target`]).
    pub fn new(actions: impl Into<Arc<[Action]>>, variables: Variables) -> Runner {
        let actions = actions.into();
        let index_of = actions
            .iter()
            .enumerate()
            .filter(|(_, a)| !a.id.is_nil())
            .map(|(i, a)| (a.id, i))
            .collect();
        Runner {
            actions,
            index_of,
            pc: 0,
            waiting: None,
            variables,
            set: BTreeSet::new(),
            loops: HashMap::new(),
            steps: 0,
            log: Vec::new(),
            typed_ahead: String::new(),
            digits: String::new(),
            started: false,
            end: None,
            recording: None,
        }
    }

    /// Feeds what happened and answers what to do next. The first call starts the flow
    /// (pass `Input::Started`); once the flow is over, every call answers its last command.
    pub fn next(&mut self, input: Input) -> Command {
        if let Some(end) = &self.end {
            return end.clone();
        }
        if !self.started {
            self.started = true;
            return self.run(Some(0));
        }
        let Some(waiting) = self.waiting.take() else {
            return self.finish(Command::Done);
        };
        // The bridge to an agent ends the call, and the flow with it.
        let bridged = waiting == Waiting::Queue && input == Input::Completed;
        // So does a machine, when the amd action says to hang up on one.
        let machine_hangup = matches!(
            (&waiting, &input),
            (
                Waiting::Amd {
                    hangup_on_machine: true
                },
                Input::MachineDetected {
                    verdict: Verdict::Machine,
                    ..
                }
            )
        );
        match self.resume(waiting, input) {
            Some(still) => {
                self.waiting = Some(still);
                Command::Wait
            }
            None if bridged => self.finish(Command::Done),
            None if machine_hangup => self.finish(Command::Hangup {
                reason: MACHINE_HANGUP.into(),
            }),
            None => {
                let after = self.after(self.pc);
                self.run(after)
            }
        }
    }

    /// What the flow did so far (the action in progress, if any, is `unfinished`).
    pub fn outcome(&self) -> FlowOutcome {
        FlowOutcome {
            actions: self.log.clone(),
            digits: self.digits.clone(),
            variables: self
                .set
                .iter()
                .filter_map(|k| self.variables.get(k).map(|v| (k.clone(), v.to_string())))
                .collect(),
        }
    }

    /// The variables as they stand.
    pub fn variables(&self) -> &Variables {
        &self.variables
    }

    /// Whether the call is to be recorded once it is bridged to an agent: a `recording_start`
    /// ran and no `recording_stop` since.
    pub fn recording(&self) -> Option<RecordingAsked> {
        self.recording
    }

    /// Whether the flow is over.
    pub fn is_over(&self) -> bool {
        self.end.is_some()
    }

    /// Runs actions from `at` until one needs the caller.
    fn run(&mut self, mut at: Option<usize>) -> Command {
        loop {
            let Some(index) = at.filter(|&i| i < self.actions.len()) else {
                return self.finish(Command::Done);
            };
            if self.steps >= MAX_STEPS {
                let reason = format!("flow ran {MAX_STEPS} actions");
                return self.finish(Command::Hangup { reason });
            }
            self.steps += 1;
            self.pc = index;
            at = match self.step(index) {
                Step::Next => self.after(index),
                Step::Jump(id) => self.index_of.get(&id).copied(),
                Step::Wait(command, waiting) => {
                    self.waiting = Some(waiting);
                    return command;
                }
                Step::End(command) => return self.finish(command),
            };
        }
    }

    fn finish(&mut self, command: Command) -> Command {
        self.waiting = None;
        self.end = Some(command.clone());
        command
    }

    /// The action after `index`: its `next_id`, else the next in the list.
    fn after(&self, index: usize) -> Option<usize> {
        let next_id = self.actions.get(index)?.next_id;
        if next_id.is_nil() {
            Some(index + 1)
        } else {
            self.index_of.get(&next_id).copied()
        }
    }

    /// Records the start of action `index` and answers what it leads to.
    fn step(&mut self, index: usize) -> Step {
        let action = self.actions[index].clone();
        let o = Opts(&action.option);
        let mut run = ActionRun::new(action.id, &action.kind, RunResult::Ok);
        let step = match action.kind.as_str() {
            "answer" => Step::Next,
            "talk" => Step::Wait(
                Command::Talk {
                    text: self.variables.substitute(o.str("text").unwrap_or_default()),
                    language: o.str("language").unwrap_or("en-US").to_string(),
                    gender: o.str("gender").unwrap_or("female").to_string(),
                    interruptible: o.interruptible(),
                },
                Waiting::Prompt {
                    interruptible: o.interruptible(),
                },
            ),
            "play" => Step::Wait(
                Command::Play {
                    urls: o
                        .strings("stream_urls")
                        .iter()
                        .map(|u| self.variables.substitute(u))
                        .collect(),
                    interruptible: o.interruptible(),
                },
                Waiting::Prompt {
                    interruptible: o.interruptible(),
                },
            ),
            "digits_receive" => {
                let length = o.u64("length").unwrap_or(0) as usize;
                let terminators = o.str("key").unwrap_or_default().to_string();
                let collected = std::mem::take(&mut self.typed_ahead);
                if is_complete(&collected, length, &terminators) {
                    self.log.push(run);
                    self.end_digits(collected, length, &terminators);
                    return Step::Next;
                }
                Step::Wait(
                    Command::CollectDigits {
                        max_len: length.saturating_sub(collected.chars().count()),
                        terminators: terminators.clone(),
                        timeout_ms: o.u64("duration").unwrap_or(DEFAULT_DIGITS_TIMEOUT_MS),
                    },
                    Waiting::Digits {
                        collected,
                        length,
                        terminators,
                    },
                )
            }
            "digits_send" => Step::Wait(
                Command::SendDigits {
                    digits: self
                        .variables
                        .substitute(o.str("digits").unwrap_or_default()),
                    duration_ms: o.u32("duration").unwrap_or(DEFAULT_TONE_MS),
                    interval_ms: o.u32("interval").unwrap_or(DEFAULT_TONE_GAP_MS),
                },
                Waiting::Media,
            ),
            "sleep" => Step::Wait(
                Command::Sleep {
                    ms: o.u64("duration").unwrap_or(0),
                },
                Waiting::Media,
            ),
            "branch" => {
                let variable = o.str("variable").unwrap_or(DIGITS);
                let value = self.variables.get(variable).unwrap_or_default().to_string();
                let target =
                    o.0.get("target_ids")
                        .and_then(|t| t.get(&value))
                        .and_then(as_uuid)
                        .or_else(|| o.uuid("default_target_id"));
                run.value = Some(value);
                self.jump_or_fall(&mut run, target)
            }
            "goto" => {
                let jumps = self.loops.entry(index).or_insert(0);
                // No loop_count: jump every time (the step guard still ends a loop).
                let target = match o.u64("loop_count") {
                    Some(limit) if *jumps >= limit => None,
                    _ => o.uuid("target_id"),
                };
                if target.is_some() {
                    *jumps += 1;
                }
                self.jump_or_fall(&mut run, target)
            }
            "variable_set" => {
                let key = o.str("key").unwrap_or_default().to_string();
                let value = match o.0.get("value") {
                    Some(Value::String(s)) => self.variables.substitute(s),
                    None | Some(Value::Null) => String::new(),
                    Some(other) => other.to_string(),
                };
                self.variables.set(key.clone(), value.clone());
                self.set.insert(key);
                run.value = Some(value);
                Step::Next
            }
            // Recorded in the log; what it does (the number onto the default do-not-call list,
            // the disposition `opted_out`) is done when the attempt's end is written.
            "opt_out" => Step::Next,
            "queue_join" => match o.uuid("queue_id") {
                Some(queue_id) => Step::Wait(Command::QueueJoin { queue_id }, Waiting::Queue),
                None => {
                    run.result = RunResult::Failed;
                    run.reason = Some("no queue_id".into());
                    Step::Next
                }
            },
            // The call is recorded from its bridge to an agent: what the callee hears of the
            // flow before is not.
            "recording_start" => {
                self.recording = Some(RecordingAsked {
                    max_ms: o.u64("duration").filter(|&s| s > 0).map(|s| s * 1000),
                });
                Step::Next
            }
            "recording_stop" => {
                self.recording = None;
                Step::Next
            }
            "connect" => match connect_agent(&o) {
                Some(agent_id) => Step::Wait(Command::Connect { agent_id }, Waiting::Queue),
                None => {
                    run.result = RunResult::Skipped;
                    run.reason = Some("connect runs for an agent destination only".into());
                    Step::Next
                }
            },
            "amd" => Step::Wait(
                Command::DetectMachine {
                    settings: amd_settings(&o),
                },
                Waiting::Amd {
                    hangup_on_machine: o.str("machine_handle") == Some("hangup"),
                },
            ),
            "hangup" => {
                let reason = o.str("reason").unwrap_or("normal").to_string();
                run.reason = Some(reason.clone());
                Step::End(Command::Hangup { reason })
            }
            "webhook_send" => {
                let body = match o.0.get("data") {
                    None | Some(Value::Null) => String::new(),
                    Some(Value::String(s)) => self.variables.substitute(s),
                    Some(other) => self.variables.substitute_json(other).to_string(),
                };
                Step::Wait(
                    Command::Webhook {
                        uri: self.variables.substitute(o.str("uri").unwrap_or_default()),
                        method: o.str("method").unwrap_or("POST").to_uppercase(),
                        content_type: o.str("data_type").unwrap_or("application/json").to_string(),
                        body,
                        wait: o.bool("sync"),
                    },
                    Waiting::Webhook,
                )
            }
            _ => {
                run.result = RunResult::Skipped;
                run.reason = Some(format!("{} is not run yet", action.kind));
                Step::Next
            }
        };
        if matches!(step, Step::Wait(..)) {
            run.result = RunResult::Unfinished;
        }
        self.log.push(run);
        step
    }

    fn jump_or_fall(&mut self, run: &mut ActionRun, target: Option<Uuid>) -> Step {
        match target {
            Some(id) => {
                run.result = RunResult::Jumped;
                run.target_id = Some(id);
                Step::Jump(id)
            }
            None => {
                run.result = RunResult::FellThrough;
                Step::Next
            }
        }
    }

    /// Applies `input` to the command in progress: `Some` while it goes on.
    fn resume(&mut self, waiting: Waiting, input: Input) -> Option<Waiting> {
        match (waiting, input) {
            (
                Waiting::Digits {
                    mut collected,
                    length,
                    terminators,
                },
                input,
            ) => {
                let over = match &input {
                    Input::Digits { digits } => {
                        collected.push_str(digits);
                        true
                    }
                    Input::DigitPressed(key) => {
                        collected.push(*key);
                        is_complete(&collected, length, &terminators)
                    }
                    Input::Completed | Input::Failed { .. } => true,
                    Input::Started
                    | Input::WebhookResult { .. }
                    | Input::MachineDetected { .. } => false,
                };
                if !over {
                    return Some(Waiting::Digits {
                        collected,
                        length,
                        terminators,
                    });
                }
                self.end_digits(collected, length, &terminators);
                if let Input::Failed { reason } = input {
                    self.record(RunResult::Failed, Some(reason));
                }
                None
            }
            (waiting, Input::DigitPressed(key)) => {
                self.typed_ahead.push(key);
                self.interrupt(waiting)
            }
            (waiting, Input::Digits { digits }) => {
                self.typed_ahead.push_str(&digits);
                self.interrupt(waiting)
            }
            (_, Input::Completed) => {
                self.record(RunResult::Ok, None);
                None
            }
            (_, Input::Failed { reason }) => {
                self.record(RunResult::Failed, Some(reason));
                None
            }
            (Waiting::Webhook, Input::WebhookResult { status }) => {
                let ok = status.is_some_and(|s| (200..400).contains(&s));
                let reason = match status {
                    _ if ok => None,
                    Some(s) => Some(format!("answered {s}")),
                    None => Some("no answer".to_string()),
                };
                let result = if ok { RunResult::Ok } else { RunResult::Failed };
                self.record(result, reason);
                if let Some(run) = self.log.last_mut() {
                    run.status = status;
                }
                None
            }
            (Waiting::Amd { .. }, Input::MachineDetected { verdict, cause }) => {
                self.variables.set(AMD_RESULT, verdict.as_str());
                self.variables.set(AMD_CAUSE, cause.clone());
                self.set.insert(AMD_RESULT.to_string());
                self.set.insert(AMD_CAUSE.to_string());
                self.record(RunResult::Ok, Some(cause));
                if let Some(run) = self.log.last_mut() {
                    run.value = Some(verdict.as_str().to_string());
                }
                None
            }
            (
                waiting,
                Input::Started | Input::WebhookResult { .. } | Input::MachineDetected { .. },
            ) => Some(waiting),
        }
    }

    /// A key was pressed: an interruptible prompt stops, anything else goes on.
    fn interrupt(&mut self, waiting: Waiting) -> Option<Waiting> {
        match waiting {
            Waiting::Prompt {
                interruptible: true,
            } => {
                self.record(RunResult::Interrupted, None);
                None
            }
            other => Some(other),
        }
    }

    /// Ends a `digits_receive` with `collected`: the digits stop at a terminator or at
    /// `length`; keys after that are kept for the next one.
    fn end_digits(&mut self, collected: String, length: usize, terminators: &str) {
        let mut digits = String::new();
        let mut keys = collected.chars();
        for key in keys.by_ref() {
            if terminators.contains(key) {
                break;
            }
            digits.push(key);
            if length > 0 && digits.chars().count() >= length {
                break;
            }
        }
        self.typed_ahead = keys.collect::<String>() + &self.typed_ahead;
        self.variables.set(DIGITS, digits.clone());
        self.set.insert(DIGITS.to_string());
        self.record(RunResult::Ok, None);
        if let Some(run) = self.log.last_mut() {
            run.value = Some(digits.clone());
        }
        self.digits = digits;
    }

    /// Sets the result of the action in progress.
    fn record(&mut self, result: RunResult, reason: Option<String>) {
        if let Some(run) = self.log.last_mut() {
            run.result = result;
            if reason.is_some() {
                run.reason = reason;
            }
        }
    }
}

/// Whether `keys` end a collection of `length` digits (0: no limit) ended by `terminators`.
fn is_complete(keys: &str, length: usize, terminators: &str) -> bool {
    keys.chars().any(|k| terminators.contains(k)) || (length > 0 && keys.chars().count() >= length)
}

fn as_uuid(v: &Value) -> Option<Uuid> {
    v.as_str()
        .and_then(|s| Uuid::parse_str(s).ok())
        .filter(|id| !id.is_nil())
}

/// Reading an action's options (already validated: a wrong type reads as absent).
struct Opts<'a>(&'a Value);

impl Opts<'_> {
    fn str(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(Value::as_str)
    }

    fn u64(&self, key: &str) -> Option<u64> {
        let v = self.0.get(key)?;
        v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64))
    }

    fn u32(&self, key: &str) -> Option<u32> {
        self.u64(key).map(|n| n.min(u64::from(u32::MAX)) as u32)
    }

    fn bool(&self, key: &str) -> bool {
        self.0.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    fn uuid(&self, key: &str) -> Option<Uuid> {
        self.0.get(key).and_then(as_uuid)
    }

    fn strings(&self, key: &str) -> Vec<String> {
        self.0
            .get(key)
            .and_then(Value::as_array)
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `digits_handle`: `true`, or VoIPBIN's `"next"` (any word but `""`/`"none"`).
    fn interruptible(&self) -> bool {
        match self.0.get("digits_handle") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => !s.is_empty() && s != "none",
            _ => false,
        }
    }
}

/// The detector's parameters from an `amd` action's options (Asterisk's names, ms), each
/// defaulting to Asterisk's.
fn amd_settings(o: &Opts) -> amd::Settings {
    let d = amd::Settings::default();
    let ms = |key: &str, default: u32| o.u32(key).unwrap_or(default);
    amd::Settings {
        initial_silence: ms("initial_silence", d.initial_silence),
        greeting: ms("greeting", d.greeting),
        after_greeting_silence: ms("after_greeting_silence", d.after_greeting_silence),
        total_analysis_time: ms("total_analysis_time", d.total_analysis_time),
        min_word_length: ms("min_word_length", d.min_word_length),
        between_words_silence: ms("between_words_silence", d.between_words_silence),
        maximum_number_of_words: ms("maximum_number_of_words", d.maximum_number_of_words),
        maximum_word_length: ms("maximum_word_length", d.maximum_word_length),
        silence_threshold: o
            .u32("silence_threshold")
            .map_or(d.silence_threshold, |t| t.min(u32::from(u16::MAX)) as u16),
        beep_wait: o.bool("beep_wait").then(|| amd::BeepWait {
            timeout: ms("beep_timeout", DEFAULT_BEEP_TIMEOUT_MS),
        }),
    }
}

/// The agent a `connect` action's first `agent` destination names.
fn connect_agent(o: &Opts) -> Option<Uuid> {
    let destinations = o.0.get("destinations")?.as_array()?;
    destinations.iter().find_map(|d| {
        match serde_json::from_value::<crate::domain::Address>(d.clone())
            .ok()?
            .kind
        {
            crate::domain::AddressKind::Agent(id) => Some(id),
            _ => None,
        }
    })
}

#[cfg(test)]
#[path = "interpreter_tests.rs"]
mod tests;
