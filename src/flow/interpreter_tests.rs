//! Tests of the interpreter: each action, then whole flows.

use super::*;
use serde_json::json;

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn action(n: u128, kind: &str, option: Value) -> Action {
    Action {
        id: if n == 0 { Uuid::nil() } else { id(n) },
        next_id: Uuid::nil(),
        kind: kind.into(),
        option,
    }
}

fn runner(actions: Vec<Action>) -> Runner {
    let mut v = Variables::new();
    v.set("name", "Ada");
    v.set(DIGITS, "");
    Runner::new(actions, v)
}

fn talk(text: &str) -> Command {
    Command::Talk {
        text: text.into(),
        language: "en-US".into(),
        gender: "female".into(),
        interruptible: false,
    }
}

fn results(r: &Runner) -> Vec<(String, RunResult)> {
    r.outcome()
        .actions
        .iter()
        .map(|a| (a.kind.clone(), a.result))
        .collect()
}

#[test]
fn an_empty_flow_is_done_at_once() {
    let mut r = runner(vec![]);
    assert_eq!(r.next(Input::Started), Command::Done);
    assert!(r.is_over());
    assert_eq!(r.next(Input::Completed), Command::Done);
}

#[test]
fn answer_is_a_no_op_and_talk_substitutes_and_waits() {
    let mut r = runner(vec![
        action(0, "answer", Value::Null),
        action(
            0,
            "talk",
            json!({"text": "Hello {{name}}", "language": "fr-FR", "gender": "male"}),
        ),
    ]);
    assert_eq!(
        r.next(Input::Started),
        Command::Talk {
            text: "Hello Ada".into(),
            language: "fr-FR".into(),
            gender: "male".into(),
            interruptible: false
        }
    );
    assert_eq!(r.outcome().actions[1].result, RunResult::Unfinished);
    assert_eq!(r.next(Input::Completed), Command::Done);
    assert_eq!(
        results(&r),
        [
            ("answer".into(), RunResult::Ok),
            ("talk".into(), RunResult::Ok)
        ]
    );
}

#[test]
fn play_substitutes_its_urls() {
    let mut r = runner(vec![action(
        0,
        "play",
        json!({"stream_urls": ["https://x/{{name}}.wav"], "digits_handle": "next"}),
    )]);
    assert_eq!(
        r.next(Input::Started),
        Command::Play {
            urls: vec!["https://x/Ada.wav".into()],
            interruptible: true
        }
    );
    assert_eq!(r.next(Input::Completed), Command::Done);
}

#[test]
fn digits_receive_collects_up_to_its_length_and_sets_the_digits_variable() {
    let mut r = runner(vec![
        action(
            0,
            "digits_receive",
            json!({"duration": 3000, "length": 2, "key": "#"}),
        ),
        action(
            0,
            "talk",
            json!({"text": "You said ${voipbin.call.digits}"}),
        ),
    ]);
    assert_eq!(
        r.next(Input::Started),
        Command::CollectDigits {
            max_len: 2,
            terminators: "#".into(),
            timeout_ms: 3000
        }
    );
    assert_eq!(r.next(Input::DigitPressed('4')), Command::Wait);
    assert_eq!(r.next(Input::DigitPressed('2')), talk("You said 42"));
    let outcome = r.outcome();
    assert_eq!(outcome.digits, "42");
    assert_eq!(outcome.actions[0].value.as_deref(), Some("42"));
    assert_eq!(
        outcome.variables.get(DIGITS).map(String::as_str),
        Some("42")
    );
}

#[test]
fn digits_stop_at_a_terminator_and_at_the_timeout() {
    let mut r = runner(vec![
        action(0, "digits_receive", json!({"key": "#*"})),
        action(0, "digits_receive", json!({"length": 3})),
    ]);
    let first = r.next(Input::Started);
    assert_eq!(
        first,
        Command::CollectDigits {
            max_len: 0,
            terminators: "#*".into(),
            timeout_ms: DEFAULT_DIGITS_TIMEOUT_MS
        }
    );
    let second = r.next(Input::Digits {
        digits: "12#".into(),
    });
    assert!(matches!(second, Command::CollectDigits { max_len: 3, .. }));
    assert_eq!(r.outcome().actions[0].value.as_deref(), Some("12"));
    // The timeout: what was pressed so far.
    assert_eq!(r.next(Input::DigitPressed('7')), Command::Wait);
    assert_eq!(r.next(Input::Completed), Command::Done);
    assert_eq!(r.outcome().digits, "7");
}

#[test]
fn a_key_pressed_during_an_interruptible_prompt_stops_it_and_counts_toward_the_digits() {
    let mut r = runner(vec![
        action(
            0,
            "talk",
            json!({"text": "Press 1", "digits_handle": "next"}),
        ),
        action(0, "talk", json!({"text": "or 2"})),
        action(0, "digits_receive", json!({"length": 1})),
    ]);
    assert!(matches!(
        r.next(Input::Started),
        Command::Talk {
            interruptible: true,
            ..
        }
    ));
    // The first prompt stops; the second cannot be interrupted.
    assert_eq!(r.next(Input::DigitPressed('1')), talk("or 2"));
    assert_eq!(r.next(Input::DigitPressed('9')), Command::Wait);
    // The key pressed first already completes the collection.
    assert_eq!(r.next(Input::Completed), Command::Done);
    let outcome = r.outcome();
    assert_eq!(outcome.digits, "1");
    assert_eq!(outcome.actions[0].result, RunResult::Interrupted);
    assert_eq!(outcome.actions[2].result, RunResult::Ok);
}

#[test]
fn branch_jumps_on_the_digits_by_default_and_on_a_named_variable() {
    let flow = |variable: Value| {
        vec![
            action(0, "variable_set", json!({"key": "lang", "value": "es"})),
            action(
                0,
                "branch",
                json!({"variable": variable, "target_ids": {"es": id(9)}}),
            ),
            action(0, "talk", json!({"text": "fell through"})),
            action(9, "talk", json!({"text": "hola"})),
        ]
    };
    let mut r = runner(flow(json!("lang")));
    assert_eq!(r.next(Input::Started), talk("hola"));
    assert_eq!(r.outcome().actions[1].target_id, Some(id(9)));
    // Without `variable`, the branch reads the (empty) digits: no match, no default.
    let mut r = runner(flow(Value::Null));
    assert_eq!(r.next(Input::Started), talk("fell through"));
    assert_eq!(r.outcome().actions[1].result, RunResult::FellThrough);
}

#[test]
fn goto_jumps_loop_count_times_then_falls_through() {
    let mut r = runner(vec![
        action(1, "talk", json!({"text": "again"})),
        action(0, "goto", json!({"target_id": id(1), "loop_count": 2})),
        action(0, "hangup", json!({"reason": "tried"})),
    ]);
    for _ in 0..3 {
        assert_eq!(r.next(Input::Completed), talk("again"));
    }
    assert_eq!(
        r.next(Input::Completed),
        Command::Hangup {
            reason: "tried".into()
        }
    );
    let kinds: Vec<_> = results(&r).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kinds,
        ["talk", "goto", "talk", "goto", "talk", "goto", "hangup"]
    );
    assert_eq!(r.outcome().actions[5].result, RunResult::FellThrough);
}

#[test]
fn next_id_is_followed() {
    let mut first = action(0, "answer", Value::Null);
    first.next_id = id(3);
    let mut r = runner(vec![
        first,
        action(0, "talk", json!({"text": "skipped"})),
        action(3, "talk", json!({"text": "reached"})),
    ]);
    assert_eq!(r.next(Input::Started), talk("reached"));
}

#[test]
fn variable_set_sleep_and_digits_send() {
    let mut r = runner(vec![
        action(
            0,
            "variable_set",
            json!({"key": "pin", "value": "12{{name}}"}),
        ),
        action(0, "sleep", json!({"duration": 1500})),
        action(
            0,
            "digits_send",
            json!({"digits": "${pin}#", "duration": 100, "interval": 50}),
        ),
    ]);
    assert_eq!(r.next(Input::Started), Command::Sleep { ms: 1500 });
    assert_eq!(
        r.next(Input::Completed),
        Command::SendDigits {
            digits: "12Ada#".into(),
            duration_ms: 100,
            interval_ms: 50
        }
    );
    assert_eq!(r.next(Input::Completed), Command::Done);
    assert_eq!(
        r.outcome().variables.get("pin").map(String::as_str),
        Some("12Ada")
    );
}

#[test]
fn hangup_ends_the_flow_with_its_reason() {
    let mut r = runner(vec![
        action(0, "hangup", Value::Null),
        action(0, "talk", json!({"text": "never"})),
    ]);
    let hangup = Command::Hangup {
        reason: "normal".into(),
    };
    assert_eq!(r.next(Input::Started), hangup);
    assert_eq!(r.next(Input::Completed), hangup);
    assert_eq!(r.outcome().actions.len(), 1);
}

#[test]
fn opt_out_is_recorded_and_the_flow_goes_on() {
    let mut r = runner(vec![
        action(0, "opt_out", Value::Null),
        action(0, "talk", json!({"text": "You will not be called again."})),
    ]);
    assert_eq!(
        r.next(Input::Started),
        talk("You will not be called again.")
    );
    assert_eq!(r.next(Input::Completed), Command::Done);
    assert_eq!(
        results(&r),
        [
            ("opt_out".to_string(), RunResult::Ok),
            ("talk".to_string(), RunResult::Ok)
        ]
    );
    assert!(crate::flow::opted_out(&r.outcome().to_value()));
}

#[test]
fn webhook_failures_are_recorded_and_the_flow_goes_on() {
    let mut r = runner(vec![
        action(
            0,
            "webhook_send",
            json!({"sync": true, "uri": "http://h/{{name}}", "method": "put", "data": {"who": "{{name}}"}}),
        ),
        action(
            0,
            "webhook_send",
            json!({"uri": "http://h", "data_type": "text/plain", "data": "hi ${name}"}),
        ),
        action(0, "webhook_send", json!({"sync": true, "uri": "http://h"})),
    ]);
    assert_eq!(
        r.next(Input::Started),
        Command::Webhook {
            uri: "http://h/Ada".into(),
            method: "PUT".into(),
            content_type: "application/json".into(),
            body: r#"{"who":"Ada"}"#.into(),
            wait: true
        }
    );
    let second = r.next(Input::WebhookResult { status: Some(503) });
    assert!(matches!(second, Command::Webhook { wait: false, ref body, .. } if body == "hi Ada"));
    assert!(matches!(r.next(Input::Completed), Command::Webhook { .. }));
    assert_eq!(
        r.next(Input::Failed {
            reason: "connection refused".into()
        }),
        Command::Done
    );
    let outcome = r.outcome();
    assert_eq!(outcome.actions[0].result, RunResult::Failed);
    assert_eq!(outcome.actions[0].status, Some(503));
    assert_eq!(outcome.actions[1].result, RunResult::Ok);
    assert_eq!(
        outcome.actions[2].reason.as_deref(),
        Some("connection refused")
    );
}

#[test]
fn actions_not_run_yet_are_skipped() {
    let mut r = runner(
        ["connect"]
            .iter()
            .map(|k| action(0, k, Value::Null))
            .collect(),
    );
    assert_eq!(r.next(Input::Started), Command::Done);
    assert!(results(&r)
        .iter()
        .all(|(_, result)| *result == RunResult::Skipped));
    assert_eq!(r.outcome().actions.len(), 1);
}

fn machine(cause: &str) -> Input {
    Input::MachineDetected {
        verdict: amd::Verdict::Machine,
        cause: cause.into(),
    }
}

#[test]
fn amd_detects_with_asterisks_defaults_and_its_options() {
    let mut r = runner(vec![action(
        0,
        "amd",
        json!({"machine_handle": "continue"}),
    )]);
    assert_eq!(
        r.next(Input::Started),
        Command::DetectMachine {
            settings: amd::Settings::default()
        }
    );
    let mut r = runner(vec![action(
        0,
        "amd",
        json!({"initial_silence": 3000, "maximum_number_of_words": 4, "silence_threshold": 512,
               "beep_wait": true}),
    )]);
    assert_eq!(
        r.next(Input::Started),
        Command::DetectMachine {
            settings: amd::Settings {
                initial_silence: 3000,
                maximum_number_of_words: 4,
                silence_threshold: 512,
                beep_wait: Some(amd::BeepWait {
                    timeout: DEFAULT_BEEP_TIMEOUT_MS
                }),
                ..amd::Settings::default()
            }
        }
    );
}

#[test]
fn amd_sets_its_variables_and_a_branch_reads_them() {
    let flow = vec![
        action(0, "amd", json!({"machine_handle": "continue"})),
        action(
            0,
            "branch",
            json!({"variable": "amd.result", "target_ids": {"machine": id(2).to_string()}}),
        ),
        action(0, "talk", json!({"text": "Hello {{name}}"})),
        action(
            2,
            "talk",
            json!({"text": "Please call us back. ${amd.cause}"}),
        ),
    ];
    let mut r = runner(flow.clone());
    r.next(Input::Started);
    // A key pressed meanwhile does not end the detection.
    assert_eq!(r.next(Input::DigitPressed('5')), Command::Wait);
    assert_eq!(
        r.next(machine("MAXWORDS-3-2")),
        talk("Please call us back. MAXWORDS-3-2")
    );
    let outcome = r.outcome();
    assert_eq!(outcome.actions[0].value.as_deref(), Some("machine"));
    assert_eq!(outcome.actions[0].reason.as_deref(), Some("MAXWORDS-3-2"));
    assert_eq!(outcome.variables["amd.result"], "machine");
    assert_eq!(
        crate::flow::amd_result(&outcome.to_value()),
        Some("machine")
    );

    let mut r = runner(flow);
    r.next(Input::Started);
    let human = Input::MachineDetected {
        verdict: amd::Verdict::Human,
        cause: "HUMAN-800-800".into(),
    };
    assert_eq!(r.next(human), talk("Hello Ada"));
    assert_eq!(r.variables().get("amd.cause"), Some("HUMAN-800-800"));
}

#[test]
fn amd_hangs_up_on_a_machine_only_when_told_to() {
    let flow = |handle: &str| {
        vec![
            action(0, "amd", json!({"machine_handle": handle})),
            action(0, "talk", json!({"text": "Hello {{name}}"})),
        ]
    };
    let mut r = runner(flow("hangup"));
    r.next(Input::Started);
    assert_eq!(
        r.next(machine("LONGGREETING-1500-1500")),
        Command::Hangup {
            reason: MACHINE_HANGUP.into()
        }
    );
    assert!(r.is_over());
    assert_eq!(results(&r), [("amd".into(), RunResult::Ok)]);

    let mut r = runner(flow("hangup"));
    r.next(Input::Started);
    let unsure = Input::MachineDetected {
        verdict: amd::Verdict::NotSure,
        cause: "TOOLONG-5000".into(),
    };
    assert_eq!(r.next(unsure), talk("Hello Ada"));

    let mut r = runner(flow("continue"));
    r.next(Input::Started);
    assert_eq!(r.next(machine("MAXWORDS-3-2")), talk("Hello Ada"));
}

#[test]
fn connect_to_an_agent_waits_for_the_bridge_and_other_destinations_are_skipped() {
    let agent = id(7);
    let flow = vec![
        action(
            1,
            "connect",
            json!({"destinations": [{"type": "tel", "target": "+15551234567"},
                                    {"type": "agent", "target": agent.to_string()}]}),
        ),
        action(
            2,
            "connect",
            json!({"destinations": [{"type": "tel", "target": "+15551234567"}]}),
        ),
        action(3, "hangup", Value::Null),
    ];
    let mut r = runner(flow);
    assert_eq!(r.next(Input::Started), Command::Connect { agent_id: agent });
    // The agent did not answer: the flow goes on, and the next connect has no agent.
    let next = r.next(Input::Failed {
        reason: "agent did not answer".into(),
    });
    assert!(matches!(next, Command::Hangup { .. }), "{next:?}");
    let got = results(&r);
    assert_eq!(got[0], ("connect".to_string(), RunResult::Failed));
    assert_eq!(got[1], ("connect".to_string(), RunResult::Skipped));
}

#[test]
fn queue_join_waits_for_the_queue_and_the_bridge_ends_the_flow() {
    let queue = id(9);
    let flow = vec![
        action(1, "queue_join", json!({"queue_id": queue.to_string()})),
        action(2, "talk", json!({"text": "never heard"})),
    ];
    let mut r = runner(flow.clone());
    assert_eq!(
        r.next(Input::Started),
        Command::QueueJoin { queue_id: queue }
    );
    assert_eq!(r.next(Input::DigitPressed('1')), Command::Wait);
    assert_eq!(r.next(Input::Completed), Command::Done);
    assert!(r.is_over());
    assert_eq!(results(&r), [("queue_join".to_string(), RunResult::Ok)]);

    // A call that could not join goes on with the flow.
    let mut r = runner(flow);
    r.next(Input::Started);
    let next = r.next(Input::Failed {
        reason: "no such queue".into(),
    });
    assert!(matches!(next, Command::Talk { .. }), "{next:?}");
    assert_eq!(
        results(&r)[0],
        ("queue_join".to_string(), RunResult::Failed)
    );
}

#[test]
fn a_flow_that_loops_forever_is_hung_up_after_the_step_guard() {
    let mut r = runner(vec![action(1, "goto", json!({"target_id": id(1)}))]);
    assert_eq!(
        r.next(Input::Started),
        Command::Hangup {
            reason: format!("flow ran {MAX_STEPS} actions")
        }
    );
    assert_eq!(r.outcome().actions.len(), MAX_STEPS);
}

/// The appointment reminder of `docs/flows.md`.
fn reminder() -> Vec<Action> {
    let mut confirmed = action(3, "talk", json!({"text": "Your appointment is confirmed."}));
    confirmed.next_id = id(6);
    let mut cancelled = action(4, "talk", json!({"text": "Your appointment is cancelled."}));
    cancelled.next_id = id(6);
    let mut retry = action(5, "goto", json!({"target_id": id(1), "loop_count": 2}));
    retry.next_id = id(6);
    vec![
        action(
            1,
            "talk",
            json!({"text": "Hello {{name}}, press 1 to confirm, 2 to cancel.", "digits_handle": "next"}),
        ),
        action(2, "digits_receive", json!({"duration": 5000, "length": 1})),
        action(
            0,
            "branch",
            json!({"target_ids": {"1": id(3), "2": id(4)}, "default_target_id": id(5)}),
        ),
        confirmed,
        cancelled,
        retry,
        action(6, "hangup", Value::Null),
    ]
}

const PROMPT: &str = "Hello Ada, press 1 to confirm, 2 to cancel.";

#[test]
fn the_reminder_confirms_on_1() {
    let mut r = runner(reminder());
    assert!(matches!(r.next(Input::Started), Command::Talk { ref text, .. } if text == PROMPT));
    assert!(matches!(
        r.next(Input::Completed),
        Command::CollectDigits { max_len: 1, .. }
    ));
    assert_eq!(
        r.next(Input::Digits { digits: "1".into() }),
        talk("Your appointment is confirmed.")
    );
    assert!(matches!(r.next(Input::Completed), Command::Hangup { .. }));
    let outcome = r.outcome();
    assert_eq!(outcome.digits, "1");
    let value = outcome.to_value();
    assert_eq!(value["digits"], "1");
    assert_eq!(value["actions"][2]["target_id"], json!(id(3)));
}

#[test]
fn the_reminder_cancels_on_2_pressed_during_the_prompt() {
    let mut r = runner(reminder());
    r.next(Input::Started);
    assert_eq!(
        r.next(Input::DigitPressed('2')),
        talk("Your appointment is cancelled.")
    );
    assert_eq!(r.outcome().digits, "2");
}

#[test]
fn the_reminder_asks_three_times_then_hangs_up() {
    let mut r = runner(reminder());
    r.next(Input::Started);
    for round in 0..3 {
        assert!(matches!(
            r.next(Input::Completed),
            Command::CollectDigits { .. }
        ));
        // A wrong key, or none at all.
        let input = if round == 0 {
            Input::Digits { digits: "7".into() }
        } else {
            Input::Completed
        };
        let next = r.next(input);
        if round < 2 {
            assert!(matches!(next, Command::Talk { ref text, .. } if text == PROMPT));
        } else {
            assert_eq!(
                next,
                Command::Hangup {
                    reason: "normal".into()
                }
            );
        }
    }
    let gotos: Vec<_> = r
        .outcome()
        .actions
        .into_iter()
        .filter(|a| a.kind == "goto")
        .map(|a| a.result)
        .collect();
    assert_eq!(
        gotos,
        [RunResult::Jumped, RunResult::Jumped, RunResult::FellThrough]
    );
}

#[test]
fn recording_start_arms_the_recording_of_the_bridge_and_recording_stop_disarms_it() {
    let queue = id(9);
    let mut r = runner(vec![
        action(
            0,
            "recording_start",
            json!({"format": "wav", "duration": 30}),
        ),
        action(0, "queue_join", json!({"queue_id": queue.to_string()})),
    ]);
    assert_eq!(r.recording(), None);
    assert_eq!(
        r.next(Input::Started),
        Command::QueueJoin { queue_id: queue }
    );
    assert_eq!(
        r.recording(),
        Some(RecordingAsked {
            max_ms: Some(30_000)
        })
    );
    assert_eq!(results(&r)[0], ("recording_start".into(), RunResult::Ok));

    let mut r = runner(vec![
        action(0, "recording_start", Value::Null),
        action(0, "recording_stop", Value::Null),
        action(0, "queue_join", json!({"queue_id": queue.to_string()})),
    ]);
    assert_eq!(
        r.next(Input::Started),
        Command::QueueJoin { queue_id: queue }
    );
    assert_eq!(
        r.recording(),
        None,
        "stopped before the bridge: nothing recorded"
    );
    assert_eq!(
        results(&r)[..2],
        [
            ("recording_start".into(), RunResult::Ok),
            ("recording_stop".into(), RunResult::Ok)
        ]
    );
}
