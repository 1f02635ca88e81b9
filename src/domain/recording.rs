//! A recording of a bridged call (`/recordings`): a two-channel WAV, the callee on channel 1
//! and the agent on channel 2, with what the API shows of it.

use serde::Serialize;
use uuid::Uuid;

/// Where a recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordingStatus {
    /// The file is being written.
    Recording,
    /// Stopped (by `recording_stop`, its `duration`, or the end of the bridge); complete.
    Finished,
    /// Stopped by an error (a full disk): the call went on; `reason` says what happened and
    /// the file holds what was written before.
    Failed,
}

impl RecordingStatus {
    /// The stored and shown name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordingStatus::Recording => "recording",
            RecordingStatus::Finished => "finished",
            RecordingStatus::Failed => "failed",
        }
    }

    /// The status a stored name means.
    pub fn parse(s: &str) -> Option<RecordingStatus> {
        match s {
            "recording" => Some(RecordingStatus::Recording),
            "finished" => Some(RecordingStatus::Finished),
            "failed" => Some(RecordingStatus::Failed),
            _ => None,
        }
    }
}

/// One recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Recording {
    /// Its id (the file is `<id>.wav`).
    pub id: Uuid,
    /// The tenant.
    pub customer_id: Uuid,
    /// The campaign whose call it is (nil: none).
    pub campaign_id: Uuid,
    /// The attempt whose call it is (nil: none).
    pub campaigncall_id: Uuid,
    /// The queue that bridged the call (nil: a `connect` to one agent).
    pub queue_id: Uuid,
    /// The agent on channel 2.
    pub agent_id: Uuid,
    /// `wav`.
    pub format: String,
    /// Where it stands.
    pub status: RecordingStatus,
    /// Why it failed (empty otherwise).
    pub reason: String,
    /// Channels in the file: 2 (callee, agent).
    pub channels: u16,
    /// Length of the audio, ms.
    pub duration_ms: u64,
    /// Size of the file, bytes.
    pub size: u64,
    /// When it started.
    pub tm_start: String,
    /// When it ended (`NEVER` while recording).
    pub tm_end: String,
    /// Created.
    pub tm_create: String,
    /// Last changed.
    pub tm_update: String,
    /// Deleted (`NEVER` while it exists).
    pub tm_delete: String,
    /// Where the file is on the node (not shown).
    #[serde(skip)]
    pub path: String,
}

/// Which recordings a list wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingFilter {
    /// Of this campaign only.
    pub campaign: Option<Uuid>,
    /// Of this attempt only.
    pub campaigncall: Option<Uuid>,
}

/// A flow's `recording_start` as it stands when the call reaches an agent: the bridge is
/// recorded from the moment it is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecordRequest {
    /// The campaign whose call it is (nil: none).
    pub campaign_id: Uuid,
    /// Stop after this long (`duration`, seconds in the action; `None`: with the bridge).
    pub max_ms: Option<u64>,
}
