//! Recording a queue's bridges: a call that joined with a flow's `recording_start` standing is
//! recorded from the moment it is bridged (callee on channel 1, agent on channel 2), and each
//! recording's row follows it in the store: `recording` when it starts, `finished` or
//! `failed` (with the reason, a full disk for example: the call goes on) when the relay
//! reports its end.

use super::QueueActor;
use crate::domain::time::{now_string, NEVER};
use crate::domain::{RecordRequest, Recording, RecordingStatus};
use crate::media::recording::{RecordingOutcome, CHANNELS, HEADER_LEN};
use crate::media::relay::RelayHandle;
use crate::store::Store;
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

impl QueueActor {
    /// Starts recording the bridge of `call` to `agent` through `relay`.
    pub(super) fn start_recording(
        &mut self,
        call: Uuid,
        agent: Uuid,
        relay: &RelayHandle,
        request: RecordRequest,
        ctx: &mut Context<Self>,
    ) {
        let Ok(id) = relay.start_recording() else {
            return;
        };
        let now = now_string();
        let path = self.parts.relay.recordings_dir.join(format!("{id}.wav"));
        let row = Recording {
            id,
            customer_id: self.queue.customer_id,
            campaign_id: request.campaign_id,
            campaigncall_id: call,
            // A `connect` has a queue of its own that nobody can look up.
            queue_id: if self.only.is_some() {
                Uuid::nil()
            } else {
                self.queue.id
            },
            agent_id: agent,
            format: "wav".into(),
            status: RecordingStatus::Recording,
            reason: String::new(),
            channels: CHANNELS,
            duration_ms: 0,
            size: 0,
            tm_start: now.clone(),
            tm_end: NEVER.into(),
            tm_create: now.clone(),
            tm_update: now,
            tm_delete: NEVER.into(),
            path: path.to_string_lossy().into_owned(),
        };
        tracing::info!(%call, %agent, recording = %id, "recording the bridge");
        write(self.parts.store.clone(), row.clone(), None);
        self.recordings.insert(id, row);
        if let Some(ms) = request.max_ms {
            let relay = relay.clone();
            ctx.run_later(Duration::from_millis(ms), move |act, _| {
                if act.recordings.contains_key(&id) {
                    let _ = relay.stop_recording();
                }
            });
        }
    }

    /// The relay reported how a recording ended.
    pub(super) fn recording_ended(&mut self, outcome: RecordingOutcome) {
        let id = match &outcome {
            RecordingOutcome::Finished { id, .. } | RecordingOutcome::Failed { id, .. } => *id,
        };
        let Some(row) = self.recordings.remove(&id) else {
            return;
        };
        write(self.parts.store.clone(), row, Some(outcome));
    }
}

/// The row a recording has once it ended as `outcome`, whose file is `size` bytes (pure).
pub fn ended(mut row: Recording, outcome: &RecordingOutcome, size: u64, now: String) -> Recording {
    match outcome {
        RecordingOutcome::Finished { frames, .. } => {
            row.status = RecordingStatus::Finished;
            row.duration_ms = frames * 1000 / u64::from(crate::media::recording::RATE);
        }
        RecordingOutcome::Failed { error, .. } => {
            row.status = RecordingStatus::Failed;
            row.reason = error.to_string();
            let frame = u64::from(CHANNELS) * 2;
            let frames = size.saturating_sub(HEADER_LEN as u64) / frame;
            row.duration_ms = frames * 1000 / u64::from(crate::media::recording::RATE);
        }
    }
    row.size = size;
    row.tm_end = now.clone();
    row.tm_update = now;
    row
}

/// Stores `row`, as it is or (with `outcome`) as it ended, off the actor.
fn write(store: Arc<dyn Store>, row: Recording, outcome: Option<RecordingOutcome>) {
    actix::spawn(async move {
        let row = match outcome {
            None => row,
            Some(outcome) => {
                let size = tokio::fs::metadata(&row.path)
                    .await
                    .map(|m| m.len())
                    .unwrap_or(0);
                if let RecordingOutcome::Failed { error, .. } = &outcome {
                    tracing::warn!(recording = %row.id, %error, "recording failed; the call goes on");
                }
                ended(row, &outcome, size, now_string())
            }
        };
        if let Err(e) = store.put_recording(&row).await {
            tracing::error!(recording = %row.id, error = %e, "cannot store the recording");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::recording::RecordingError;
    use std::path::PathBuf;

    fn row() -> Recording {
        Recording {
            id: Uuid::from_u128(1),
            customer_id: Uuid::from_u128(2),
            campaign_id: Uuid::nil(),
            campaigncall_id: Uuid::from_u128(3),
            queue_id: Uuid::nil(),
            agent_id: Uuid::from_u128(4),
            format: "wav".into(),
            status: RecordingStatus::Recording,
            reason: String::new(),
            channels: 2,
            duration_ms: 0,
            size: 0,
            tm_start: "s".into(),
            tm_end: NEVER.into(),
            tm_create: "s".into(),
            tm_update: "s".into(),
            tm_delete: NEVER.into(),
            path: "x.wav".into(),
        }
    }

    #[test]
    fn a_finished_recording_has_the_length_of_its_frames() {
        let outcome = RecordingOutcome::Finished {
            id: Uuid::from_u128(1),
            path: PathBuf::from("x.wav"),
            frames: 16_000,
        };
        let r = ended(row(), &outcome, 44 + 64_000, "e".into());
        assert_eq!(r.status, RecordingStatus::Finished);
        assert_eq!(r.duration_ms, 2000);
        assert_eq!(r.size, 64_044);
        assert_eq!(r.tm_end, "e");
        assert!(r.reason.is_empty());
    }

    #[test]
    fn a_full_disk_fails_the_recording_with_its_reason_and_what_was_written() {
        let full = std::io::Error::from_raw_os_error(28);
        let outcome = RecordingOutcome::Failed {
            id: Uuid::from_u128(1),
            path: PathBuf::from("x.wav"),
            error: RecordingError::Write(Arc::new(full)),
        };
        let r = ended(row(), &outcome, 44 + 32_000, "e".into());
        assert_eq!(r.status, RecordingStatus::Failed);
        assert!(
            r.reason.contains("cannot write the recording"),
            "{}",
            r.reason
        );
        assert_eq!(r.duration_ms, 1000);
    }
}
