//! How many dials a campaign may start now: pure, asked on every tick.

/// What limits a campaign's dialing at one instant.
#[derive(Debug, Clone, Copy, Default)]
pub struct PacingInput {
    /// Targets ready to dial in the hopper.
    pub ready: u32,
    /// The campaign's attempts in flight.
    pub campaign_in_flight: u32,
    /// The campaign's own concurrency limit (0: none).
    pub campaign_max_concurrent: u32,
    /// Attempts in flight through the trunk, all campaigns together.
    pub trunk_in_flight: u32,
    /// The trunk's concurrency limit.
    pub trunk_max_concurrent: u32,
    /// Calls through the trunk whose INVITE has had no response yet, all campaigns together.
    pub trunk_setting_up: u32,
    /// The trunk's limit on those (0: none).
    pub trunk_max_setup: u32,
    /// Tokens in the trunk's calls-per-second bucket.
    pub tokens: u32,
    /// Of `campaign_in_flight`, the calls already connected to an agent: they no longer
    /// count against the agents' pacing (an agent talking is not waiting for a call).
    pub campaign_connected: u32,
    /// For a campaign with a queue in `power` or `progressive` mode: available agents and
    /// the service level (percent): `available × service_level / 100` calls not yet connected
    /// to an agent may be in progress.
    pub agents: Option<(u32, u32)>,
    /// For a campaign in `predictive` mode: how many calls not yet connected to an agent the
    /// predictor wants in progress.
    pub predicted: Option<u32>,
    /// Free RTP ports: each attempt holds one from its INVITE's offer to its end (`None`: no
    /// media).
    pub media_ports: Option<u32>,
}

/// How many dials to start now: the least of what every limit allows.
pub fn dials_to_place(input: &PacingInput) -> u32 {
    let headroom = |limit: u32, used: u32| limit.saturating_sub(used);
    let mut n = input
        .ready
        .min(input.tokens)
        .min(headroom(input.trunk_max_concurrent, input.trunk_in_flight));
    if input.trunk_max_setup > 0 {
        n = n.min(headroom(input.trunk_max_setup, input.trunk_setting_up));
    }
    if input.campaign_max_concurrent > 0 {
        n = n.min(headroom(
            input.campaign_max_concurrent,
            input.campaign_in_flight,
        ));
    }
    if let Some(ports) = input.media_ports {
        n = n.min(ports);
    }
    if let Some(agents) = agent_headroom(input) {
        n = n.min(agents);
    }
    n
}

/// How many more calls the agents' pacing allows (`None`: the campaign is not paced against
/// agents). Calls already connected to an agent do not count.
pub fn agent_headroom(input: &PacingInput) -> Option<u32> {
    let headroom = |limit: u32, used: u32| limit.saturating_sub(used);
    let not_connected = input
        .campaign_in_flight
        .saturating_sub(input.campaign_connected);
    let by_ratio = input.agents.map(|(available, service_level)| {
        let allowed = (u64::from(available) * u64::from(service_level) / 100) as u32;
        headroom(allowed, not_connected)
    });
    let by_prediction = input
        .predicted
        .map(|wanted| headroom(wanted, not_connected));
    match (by_ratio, by_prediction) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open() -> PacingInput {
        PacingInput {
            ready: 1000,
            campaign_in_flight: 0,
            campaign_max_concurrent: 0,
            trunk_in_flight: 0,
            trunk_max_concurrent: 1000,
            trunk_setting_up: 0,
            trunk_max_setup: 0,
            tokens: 1000,
            campaign_connected: 0,
            agents: None,
            predicted: None,
            media_ports: None,
        }
    }

    #[test]
    fn the_tightest_limit_wins() {
        assert_eq!(dials_to_place(&PacingInput { ready: 3, ..open() }), 3);
        assert_eq!(
            dials_to_place(&PacingInput {
                tokens: 7,
                ..open()
            }),
            7
        );
        let trunk_busy = PacingInput {
            trunk_in_flight: 995,
            ..open()
        };
        assert_eq!(dials_to_place(&trunk_busy), 5);
        let campaign_cap = PacingInput {
            campaign_max_concurrent: 10,
            campaign_in_flight: 4,
            ..open()
        };
        assert_eq!(dials_to_place(&campaign_cap), 6);
        let over = PacingInput {
            trunk_in_flight: 2000,
            ..open()
        };
        assert_eq!(dials_to_place(&over), 0);
        let trunk_slow = PacingInput {
            trunk_max_setup: 100,
            trunk_setting_up: 97,
            ..open()
        };
        assert_eq!(dials_to_place(&trunk_slow), 3);
        let no_setup_limit = PacingInput {
            trunk_setting_up: 5000,
            ..open()
        };
        assert_eq!(dials_to_place(&no_setup_limit), 1000);
        let ports_short = PacingInput {
            media_ports: Some(2),
            ..open()
        };
        assert_eq!(dials_to_place(&ports_short), 2);
    }

    #[test]
    fn a_queue_campaign_dials_service_level_percent_of_available_agents() {
        let progressive = PacingInput {
            agents: Some((4, 100)),
            campaign_in_flight: 1,
            ..open()
        };
        assert_eq!(dials_to_place(&progressive), 3);
        let power = PacingInput {
            agents: Some((4, 200)),
            campaign_in_flight: 1,
            ..open()
        };
        assert_eq!(dials_to_place(&power), 7);
        let no_agents = PacingInput {
            agents: Some((0, 200)),
            ..open()
        };
        assert_eq!(dials_to_place(&no_agents), 0);
    }

    #[test]
    fn calls_connected_to_agents_do_not_starve_the_agents_still_free() {
        // 10 agents, 8 of them talking to this campaign's callees, 2 available: counting every
        // call in flight (VoIPBIN's rule) leaves no room at 100 %, so the 2 free agents wait
        // for ever; counting only the calls not yet connected dials 2.
        let busy = PacingInput {
            agents: Some((2, 100)),
            campaign_in_flight: 8,
            campaign_connected: 8,
            ..open()
        };
        assert_eq!(dials_to_place(&busy), 2);
        let power = PacingInput {
            agents: Some((2, 250)),
            campaign_in_flight: 9,
            campaign_connected: 8,
            ..open()
        };
        assert_eq!(dials_to_place(&power), 4);
    }

    #[test]
    fn predictive_dials_up_to_what_the_predictor_wants_in_progress() {
        let p = PacingInput {
            predicted: Some(12),
            campaign_in_flight: 15,
            campaign_connected: 7,
            ..open()
        };
        assert_eq!(dials_to_place(&p), 4);
        let over = PacingInput {
            predicted: Some(3),
            campaign_in_flight: 5,
            ..open()
        };
        assert_eq!(dials_to_place(&over), 0);
    }
}
