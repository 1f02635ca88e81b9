//! What each running campaign's last look at its limits found: how many targets it held
//! ready and, of those it did not dial, why. The API's `/eligibility` reads it; the campaign
//! actors write it once per tick that changes it.

use super::predictive::Pace;
use std::collections::HashMap;
use std::sync::Mutex;
use uuid::Uuid;

/// Why a campaign placed fewer calls than it had targets ready, at its last tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Held {
    /// It dialed every target it had ready.
    #[default]
    Nothing,
    /// The campaign's or the trunk's simultaneous calls (or free RTP ports) are all taken.
    Concurrency,
    /// The trunk's calls per second, or calls setting up at once, are spent.
    Cps,
    /// No agent is free.
    NoAgent,
    /// The trunk is down or asked for a pause.
    TrunkDown,
    /// The store cannot write: no attempt can be recorded.
    StoreUnwritable,
}

/// One campaign's last tick.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickReport {
    /// Targets ready in its hopper (due, window open).
    pub ready: u64,
    /// Of them, how many the tick dialed.
    pub placed: u64,
    /// Why the rest waited.
    pub held: Held,
    /// Calls in flight.
    pub in_flight: u64,
    /// How predictive pacing decided (`None`: not predictive).
    pub pace: Option<Pace>,
    /// Answered calls in the abandon window, and how many of them were abandoned.
    pub abandon_window: (u64, u64),
}

impl TickReport {
    /// Why a running campaign places no more calls than it does now, in a word (empty: it
    /// dialed every target it had ready): what `status_reason` says while it runs.
    pub fn reason(&self) -> &'static str {
        match (self.held, self.pace) {
            (Held::Nothing, _) => "",
            (Held::TrunkDown, _) => "trunk_down",
            (Held::StoreUnwritable, _) => "store_unwritable",
            (Held::NoAgent, Some(Pace::AbandonRateCap)) => "abandon_rate_cap",
            (Held::NoAgent, _) => "no_agent",
            (Held::Cps, _) => "cps",
            (Held::Concurrency, _) => "concurrency",
        }
    }
}

/// The last tick of every running campaign of the node.
#[derive(Debug, Default)]
pub struct CampaignBoard {
    ticks: Mutex<HashMap<Uuid, TickReport>>,
}

impl CampaignBoard {
    /// Records a campaign's tick.
    pub fn record(&self, campaign: Uuid, report: TickReport) {
        if let Ok(mut t) = self.ticks.lock() {
            t.insert(campaign, report);
        }
    }

    /// Forgets a campaign that stopped.
    pub fn remove(&self, campaign: Uuid) {
        if let Ok(mut t) = self.ticks.lock() {
            t.remove(&campaign);
        }
    }

    /// A running campaign's last tick.
    pub fn get(&self, campaign: Uuid) -> Option<TickReport> {
        self.ticks.lock().ok()?.get(&campaign).copied()
    }
}

/// Which limit held back a tick that placed `placed` of `input.ready` targets: the first one
/// (in the order agents, calls per second, concurrency) that allows no more than `placed`.
pub fn held_by(input: &super::pacing::PacingInput, placed: u32) -> Held {
    if placed >= input.ready {
        return Held::Nothing;
    }
    let headroom = |limit: u32, used: u32| limit.saturating_sub(used);
    if super::pacing::agent_headroom(input).is_some_and(|agents| agents <= placed) {
        return Held::NoAgent;
    }
    let setup_spent = input.trunk_max_setup > 0
        && headroom(input.trunk_max_setup, input.trunk_setting_up) <= placed;
    if input.tokens <= placed || setup_spent {
        return Held::Cps;
    }
    Held::Concurrency
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::pacing::PacingInput;

    #[test]
    fn the_limit_that_bound_is_named() {
        let open = PacingInput {
            ready: 10,
            trunk_max_concurrent: 100,
            tokens: 100,
            ..PacingInput::default()
        };
        assert_eq!(held_by(&open, 10), Held::Nothing);
        let cps = PacingInput { tokens: 2, ..open };
        assert_eq!(held_by(&cps, 2), Held::Cps);
        let busy = PacingInput {
            campaign_max_concurrent: 3,
            campaign_in_flight: 3,
            ..open
        };
        assert_eq!(held_by(&busy, 0), Held::Concurrency);
        let agents = PacingInput {
            agents: Some((1, 100)),
            campaign_in_flight: 1,
            ..open
        };
        assert_eq!(held_by(&agents, 0), Held::NoAgent);
    }

    #[test]
    fn the_reason_names_the_abandon_cap_before_the_agents_it_waits_for() {
        let report = |held, pace| TickReport {
            held,
            pace,
            ..TickReport::default()
        };
        assert_eq!(
            report(Held::Nothing, Some(Pace::AbandonRateCap)).reason(),
            ""
        );
        assert_eq!(
            report(Held::NoAgent, Some(Pace::AbandonRateCap)).reason(),
            "abandon_rate_cap"
        );
        assert_eq!(
            report(Held::NoAgent, Some(Pace::Predicted)).reason(),
            "no_agent"
        );
        assert_eq!(report(Held::NoAgent, None).reason(), "no_agent");
        assert_eq!(
            report(Held::TrunkDown, Some(Pace::AbandonRateCap)).reason(),
            "trunk_down"
        );
    }
}
