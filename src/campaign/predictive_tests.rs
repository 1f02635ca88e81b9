use super::*;

/// A campaign that measured 35 % answers after 4 to 20 s, unanswered calls ringing out at
/// 25 s, talks of 30 to 150 s, and `answered` answered calls in the window, `abandoned` of
/// them abandoned, all at time 0.
fn measured(answered: usize, abandoned: usize) -> Measures {
    let mut m = Measures::default();
    for i in 0..100u64 {
        if i % 20 < 7 {
            m.answered(4000 + (i * 4_567) % 16_000);
        } else {
            m.unanswered(25_000);
        }
    }
    for i in 0..50u64 {
        m.talked(30_000 + (i * 7_919) % 120_000);
    }
    for i in 0..answered {
        m.served(0, i < abandoned);
    }
    m
}

fn agents(available: usize, on_call: &[Ms]) -> Vec<AgentView> {
    let mut v = vec![
        AgentView {
            phase: AgentPhase::Available,
            since: 0,
        };
        available
    ];
    v.extend(on_call.iter().map(|&since| AgentView {
        phase: AgentPhase::OnCall,
        since,
    }));
    v
}

const NOW: Ms = 1_000_000;

#[test]
fn before_anything_is_measured_it_dials_one_call_per_available_agent() {
    let a = agents(5, &[0, 0]);
    let d = calls_to_have(
        &PredictiveSettings::default(),
        &Measures::default(),
        &Situation {
            now: NOW,
            agents: &a,
            ringing: &[],
            waiting: 0,
        },
    );
    assert_eq!(
        d,
        Decision {
            calls: 5,
            pace: Pace::Measuring
        }
    );
}

#[test]
fn with_room_under_the_cap_it_dials_more_calls_than_free_agents_at_a_35_percent_answer_rate() {
    let a = agents(10, &[]);
    let d = calls_to_have(
        &PredictiveSettings::default(),
        &measured(1000, 0),
        &Situation {
            now: NOW,
            agents: &a,
            ringing: &[],
            waiting: 0,
        },
    );
    assert_eq!(d.pace, Pace::Predicted);
    // About 10 / 0.35 ≈ 28 less the reserve.
    assert!((18..=29).contains(&d.calls), "{d:?}");
}

#[test]
fn agents_about_to_finish_their_calls_are_dialed_for() {
    let settings = PredictiveSettings::default();
    let m = measured(1000, 0);
    // Every agent talking: some for long (about to finish), some just started.
    let long = agents(0, &[NOW - 140_000; 10]);
    let fresh = agents(0, &[NOW - 1_000; 10]);
    let at = |a: &[AgentView]| {
        calls_to_have(
            &settings,
            &m,
            &Situation {
                now: NOW,
                agents: a,
                ringing: &[],
                waiting: 0,
            },
        )
        .calls
    };
    assert!(at(&long) > at(&fresh), "{} vs {}", at(&long), at(&fresh));
    assert!(at(&long) > 0);
}

#[test]
fn calls_already_ringing_or_waiting_leave_less_to_dial_and_stale_ringing_counts_for_little() {
    let settings = PredictiveSettings::default();
    let m = measured(1000, 0);
    let a = agents(10, &[]);
    let want = |ringing: &[Ms], waiting| {
        calls_to_have(
            &settings,
            &m,
            &Situation {
                now: NOW,
                agents: &a,
                ringing,
                waiting,
            },
        )
        .calls
    };
    let none = want(&[], 0);
    // Ten calls dialed just now: they stay counted in progress and make room for about as
    // many fewer new dials, so the total wanted moves little.
    let fresh = [NOW; 10];
    assert!(want(&fresh, 0).abs_diff(none) <= 3);
    // Ten answered callees waiting take ten agents: far fewer new calls.
    assert!(want(&[], 10) + 10 < none + 10 && want(&[], 10) < none);
    // Calls ringing past every measured answer time will not be answered: they count in
    // progress but take no agent, so the new dials are as if they were not there.
    let stale = [NOW - 22_000; 10];
    assert!(
        want(&stale, 0) >= none + 8,
        "{} vs {}",
        want(&stale, 0),
        none
    );
}

#[test]
fn nearing_the_cap_it_tapers_and_at_the_cap_it_falls_back_to_progressive() {
    let settings = PredictiveSettings::default();
    let a = agents(10, &[]);
    let at = |abandoned| {
        calls_to_have(
            &settings,
            &measured(1000, abandoned),
            &Situation {
                now: NOW,
                agents: &a,
                ringing: &[],
                waiting: 0,
            },
        )
    };
    // 1000 answered calls at 3 %: 30 abandoned calls allowed in the window.
    let free = at(5);
    let near = at(27);
    let over = at(30);
    assert_eq!(free.pace, Pace::Predicted);
    assert_eq!(near.pace, Pace::Tapered);
    assert!(near.calls < free.calls && near.calls > 10, "{near:?}");
    assert_eq!(
        over,
        Decision {
            calls: 10,
            pace: Pace::AbandonRateCap
        }
    );
    // Too few answers in the window to afford a single abandoned call under a 3 % cap.
    assert_eq!(at(0).pace, Pace::Predicted);
    assert_eq!(
        calls_to_have(
            &settings,
            &measured(20, 0),
            &Situation {
                now: NOW,
                agents: &a,
                ringing: &[],
                waiting: 0
            }
        )
        .pace,
        Pace::AbandonRateCap
    );
}

#[test]
fn the_window_rolls_on_the_given_clock_by_whole_minutes() {
    let mut m = Measures::default();
    m.served(0, true);
    m.served(1_000, false);
    m.served(61_000, false);
    assert_eq!(m.window(), (3, 1));
    // The first minute is kept until all of it is older than the window.
    m.expire(119_000, 60_000);
    assert_eq!(m.window(), (3, 1));
    m.expire(120_500, 60_000);
    assert_eq!(m.window(), (1, 0));
    assert_eq!(m.abandon_rate(), Some(0.0));
    m.expire(200_000, 60_000);
    assert_eq!(m.abandon_rate(), None);
}

#[test]
fn a_thirty_day_window_restored_minute_by_minute_counts_as_if_measured() {
    let day: Ms = 24 * 3_600_000;
    let mut restored = Measures::default();
    let mut live = Measures::default();
    for minute in 0..(31 * 24 * 60u64) {
        if minute % 7 == 0 {
            let at = minute * 60_000 + 5_000;
            restored.restore(at, 3, u32::from(minute % 91 == 0));
            for i in 0..3 {
                live.served(at + i, i == 0 && minute % 91 == 0);
            }
        }
    }
    let now = 31 * day;
    restored.expire(now, 30 * day);
    live.expire(now, 30 * day);
    assert_eq!(restored.window(), live.window());
    assert!(restored.window().0 > 15_000);
    // Within a minute the controller's order of events is lost, which moves it very little.
    assert!((restored.control.0 - live.control.0).abs() < 1e-3 * live.control.0);
    assert!((restored.control.1 - live.control.1).abs() < 1e-2 * live.control.1);
}

#[test]
fn abandoned_calls_raise_the_reserve_and_calls_served_lower_it() {
    let target = 0.025;
    let mut m = Measures::default();
    for i in 0..400 {
        m.served(i, false);
    }
    let calm = m.reserve(1.0, target);
    assert!(calm < 1.0, "{calm}");
    for i in 0..30 {
        m.served(400 + i, true);
    }
    let hot = m.reserve(1.0, target);
    assert!(hot > calm + 0.5, "{hot} vs {calm}");
    assert!(hot <= MAX_RESERVE);
}

#[test]
fn the_controller_aims_at_the_cap_itself() {
    // Answered calls abandoned at exactly the cap's rate leave the reserve where it started:
    // the allowance is spent, not kept.
    let settings = PredictiveSettings::default();
    let mut m = Measures::default();
    for i in 0..3000 {
        m.served(i, i % 100 < 3);
    }
    let target = settings.abandon_rate_cap * TARGET_SHARE / 100.0;
    let reserve = m.reserve(settings.safety, target);
    assert!((reserve - settings.safety).abs() < 0.05, "{reserve}");
}

#[test]
fn the_normal_distribution_function_is_right_to_many_places() {
    for (x, phi) in [
        (0.0, 0.5),
        (1.0, 0.841_344_75),
        (-1.0, 0.158_655_25),
        (1.96, 0.975_002_1),
        (-3.0, 0.001_349_9),
    ] {
        assert!((normal_cdf(x) - phi).abs() < 1e-6, "{x}: {}", normal_cdf(x));
    }
}

#[test]
fn wrap_up_delays_when_a_talking_agent_frees_up() {
    let m = measured(1000, 0);
    let a = agents(0, &[NOW - 100_000; 10]);
    let with_wrap = PredictiveSettings {
        wrap_up_ms: 30_000,
        ..PredictiveSettings::default()
    };
    let s = Situation {
        now: NOW,
        agents: &a,
        ringing: &[],
        waiting: 0,
    };
    assert!(
        calls_to_have(&with_wrap, &m, &s).calls
            < calls_to_have(&PredictiveSettings::default(), &m, &s).calls
    );
}

/// The default settings with calls taken back after 15 s of ringing.
fn taking_back() -> PredictiveSettings {
    PredictiveSettings {
        min_ring_ms: Some(DEFAULT_MIN_RING_MS),
        ..PredictiveSettings::default()
    }
}

fn take_back(settings: &PredictiveSettings, a: &[AgentView], ringing: &[Ms]) -> Vec<usize> {
    calls_to_take_back(
        settings,
        &measured(1000, 0),
        &Situation {
            now: NOW,
            agents: a,
            ringing,
            waiting: 0,
        },
    )
}

#[test]
fn with_every_agent_just_busy_calls_past_the_minimum_ring_are_taken_back_and_no_other() {
    // Every agent started a call a second ago: none is predicted free within 20 s.
    let busy = agents(0, &[NOW - 1_000; 10]);
    // Rung 16 s, 15 s exactly, 14.999 s, 5 s.
    let ringing = [NOW - 16_000, NOW - 15_000, NOW - 14_999, NOW - 5_000];
    let mut taken = take_back(&taking_back(), &busy, &ringing);
    taken.sort_unstable();
    assert_eq!(taken, vec![0, 1]);
    // Never, without a minimum ring time set.
    assert!(take_back(&PredictiveSettings::default(), &busy, &ringing).is_empty());
    // A longer minimum ring protects them all.
    let longer = PredictiveSettings {
        min_ring_ms: Some(17_000),
        ..taking_back()
    };
    assert!(take_back(&longer, &busy, &ringing).is_empty());
}

#[test]
fn calls_covered_by_free_agents_are_kept_and_only_the_surplus_is_taken_back() {
    let ringing = [NOW - 15_500; 12];
    // Ten agents free: every one of the twelve is covered.
    assert!(take_back(&taking_back(), &agents(10, &[]), &ringing).is_empty());
    // Two agents free against twelve calls each about one in seven to answer: some are kept,
    // the surplus is taken back.
    let two = agents(2, &[NOW - 1_000; 8]);
    let taken = take_back(&taking_back(), &two, &ringing);
    assert!(!taken.is_empty() && taken.len() < 12, "{taken:?}");
}

#[test]
fn before_enough_is_measured_nothing_is_taken_back() {
    let busy = agents(0, &[NOW - 1_000; 10]);
    let taken = calls_to_take_back(
        &taking_back(),
        &Measures::default(),
        &Situation {
            now: NOW,
            agents: &busy,
            ringing: &[NOW - 16_000],
            waiting: 0,
        },
    );
    assert!(taken.is_empty());
}

#[test]
fn counting_on_taking_back_late_answers_it_dials_harder() {
    let m = measured(1000, 0);
    let a = agents(10, &[NOW - 30_000; 10]);
    let want = |settings: &PredictiveSettings| {
        calls_to_have(
            settings,
            &m,
            &Situation {
                now: NOW,
                agents: &a,
                ringing: &[],
                waiting: 0,
            },
        )
        .calls
    };
    let (off, on) = (want(&PredictiveSettings::default()), want(&taking_back()));
    assert!(on > off, "{on} vs {off}");
}

#[test]
fn a_call_taken_back_counts_its_chance_of_answering_not_a_no_answer() {
    // 35 % answering over 4–20 s, the others ringing out at 25 s: a call that has rung 15 s
    // still answers with about 0.35 × 5/16 ÷ (0.35 × 5/16 + 0.65) ≈ 14 %.
    let mut m = measured(0, 0);
    let before = m.answer_rate();
    for _ in 0..100 {
        m.taken_back(15_000);
    }
    let after = m.answer_rate();
    // Half of the 200 outcomes now are the 100 taken back.
    assert!((before - 0.35).abs() < 0.01, "{before}");
    assert!(after > 0.2 && after < 0.26, "{after}");
}

#[test]
fn a_campaign_that_takes_back_no_call_starts_from_more_reserve() {
    let without = PredictiveSettings::default();
    assert_eq!(without.min_ring_ms, None);
    assert_eq!(
        start_reserve(&without),
        DEFAULT_SAFETY + NO_TAKE_BACK_SAFETY
    );
    let with = PredictiveSettings {
        min_ring_ms: Some(DEFAULT_MIN_RING_MS),
        ..PredictiveSettings::default()
    };
    assert_eq!(start_reserve(&with), DEFAULT_SAFETY);
    // Measured at rest (no answered call yet moves the controller), the reserve asked for is
    // the start's.
    let m = Measures::default();
    assert_eq!(m.reserve(start_reserve(&without), 0.03), 2.0);
}
