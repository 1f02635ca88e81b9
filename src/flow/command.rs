//! What the interpreter and the call driving it say to each other: the [`Command`]s a flow
//! emits for the media layer, and the [`Input`]s it is resumed with.

/// What the caller should do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Speak `text` (variables already substituted); resume with `Completed`.
    Talk {
        /// What to say.
        text: String,
        /// BCP 47 language, `en-US` unless the action says.
        language: String,
        /// `female` unless the action says.
        gender: String,
        /// A key press stops the prompt (`digits_handle`): resume with `DigitPressed`.
        interruptible: bool,
    },
    /// Play the audio at `urls`, in order; resume with `Completed`.
    Play {
        /// Where the audio is.
        urls: Vec<String>,
        /// A key press stops the prompt: resume with `DigitPressed`.
        interruptible: bool,
    },
    /// Collect DTMF; resume with `Digits` (or `DigitPressed` for each key, then `Completed`
    /// at the timeout).
    CollectDigits {
        /// Digits still wanted (0: no limit).
        max_len: usize,
        /// Keys that end the collection (not part of the digits).
        terminators: String,
        /// Give up after this long.
        timeout_ms: u64,
    },
    /// Send DTMF; resume with `Completed`.
    SendDigits {
        /// The keys.
        digits: String,
        /// Tone length.
        duration_ms: u32,
        /// Gap between tones.
        interval_ms: u32,
    },
    /// Wait; resume with `Completed`.
    Sleep {
        /// How long.
        ms: u64,
    },
    /// Send an HTTP request; resume with `WebhookResult` when `wait`, else at once with
    /// `Completed`.
    Webhook {
        /// Where (variables substituted).
        uri: String,
        /// `POST` unless the action says.
        method: String,
        /// The `Content-Type` of `body`.
        content_type: String,
        /// The body (variables substituted).
        body: String,
        /// Whether the flow waits for the answer (`sync`).
        wait: bool,
    },
    /// Hand the call to a queue (`queue_join`); resume with `Completed` once an agent's
    /// bridge is over (the flow then ends with the call), or `Failed` when the call could not
    /// join or left the queue unserved.
    QueueJoin {
        /// The queue.
        queue_id: uuid::Uuid,
    },
    /// Bridge the call to one agent (`connect` to an `agent` destination): ring it, and on
    /// its answer relay the call to it. Resume with `Completed` once the bridge is over (the
    /// flow then ends with the call), or `Failed` when the agent could not be reached (not
    /// available, declined, rang out): the flow goes on.
    Connect {
        /// The agent.
        agent_id: uuid::Uuid,
    },
    /// Analyse the callee's audio for an answering machine (`amd`); resume with
    /// `MachineDetected`.
    DetectMachine {
        /// The detector's parameters.
        settings: crate::media::amd::Settings,
    },
    /// Hang up now; the flow is over.
    Hangup {
        /// Why.
        reason: String,
    },
    /// Nothing new: keep doing the last command (a key was pressed during a prompt that
    /// cannot be interrupted, or during a sleep; it is kept for the next `digits_receive`).
    Wait,
    /// The flow ran its last action: hang up.
    Done,
}

/// How the last command ended, or what happened meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// The call was answered: the first input, which starts the flow.
    Started,
    /// The last command finished (for `CollectDigits`: the timeout).
    Completed,
    /// `CollectDigits` ended with these digits.
    Digits {
        /// The keys pressed.
        digits: String,
    },
    /// A key was pressed while a prompt, a sleep or a collection was under way. It counts
    /// toward the next `digits_receive`, and ends an interruptible prompt: the caller stops
    /// playing it and reports no `Completed` for it (that would end the next command).
    DigitPressed(char),
    /// A `Webhook` with `wait` was answered with this status (`None`: no answer).
    WebhookResult {
        /// The HTTP status.
        status: Option<u16>,
    },
    /// `DetectMachine` decided.
    MachineDetected {
        /// Who answered.
        verdict: crate::media::amd::Verdict,
        /// Why (Asterisk's `AMDCAUSE`, e.g. `MAXWORDS-3-2`).
        cause: String,
    },
    /// The last command could not be done; the flow records it and goes on.
    Failed {
        /// Why.
        reason: String,
    },
}
