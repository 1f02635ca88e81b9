//! Predictive pacing, pure: from what a campaign has measured (answer rate, time to answer,
//! talk time, the abandon window) and what its agents and calls are doing at `now`, how many
//! calls not yet connected to an agent it should have in progress.
//!
//! The model: a new dial is worth placing when, should it be answered, it would find an agent
//! within the safe-harbour time but for a small chance. Over each second `t` in which it may
//! be answered (the measured times to answer), the callees answered before it (those waiting
//! now, the ringing calls that will still answer given how long they have rung, the other
//! new dials) are set against the agents free by `t` plus the safe harbour: agents free now
//! count whole, an agent on a call frees up when its talk ends (the measured talk times,
//! given how long it has talked) and its wrap-up is over, an agent in wrap-up when its
//! wrap-up is over. Each of them is a yes-or-no chance, so the shortfall is taken as normal,
//! and its chance is averaged over when the dial may be answered. The dials placed are the
//! most whose last one stays within the allowed chance, `Φ(-reserve)`.
//!
//! An integral controller sets the reserve (in standard deviations) from the abandoned calls
//! themselves: every abandoned call raises it, every answered call that found an agent lowers
//! it a little, so that the abandon rate settles on the cap whatever the shift's answer rate
//! and talk times (the taper below keeps it under). The cap is also enforced over the rolling
//! window (30 days by default): with room under it for at least one more abandoned call and a
//! margin it dials as predicted; the closer the window's rate comes to the cap, the larger
//! the reserve (up to one standard deviation more), and when one more abandoned call would
//! reach the cap it falls back to progressive (one call per available agent), as it does
//! before it has measured enough to predict.
//!
//! Times are milliseconds on the caller's clock (a campaign's own start, a simulated shift).

use std::collections::VecDeque;

/// Milliseconds on the caller's clock.
pub type Ms = u64;

/// Samples kept of each measured duration.
const SAMPLES: usize = 400;
/// Attempts whose outcome (answered or not) make the answer rate.
const OUTCOMES: usize = 400;
/// Fewest answered attempts, attempts and talks measured before predicting.
const MIN_ANSWERS: usize = 10;
const MIN_ATTEMPTS: usize = 30;
const MIN_TALKS: usize = 5;
/// Horizons looked at, one a second, up to the longest measured time to answer (at most).
const MAX_HORIZON_S: u64 = 60;
/// The taper runs over this many abandoned calls the window can still take (beyond the one
/// that must always be left): with fewer left, the reserve grows.
const TAPER_CALLS: f64 = 3.0;
/// At the end of the taper, this much more is kept in reserve (standard deviations).
const TAPER_SAFETY: f64 = 1.0;
/// The abandon rate the controller aims at, as a share of the cap: the cap itself, so that
/// the allowance is spent evenly over the window rather than kept; the taper and the fallback
/// to progressive keep the window's rate under the cap.
const TARGET_SHARE: f64 = 1.0;
/// How far one abandoned call moves the reserve (standard deviations); each answered call
/// not abandoned moves it back by the target's share of that.
const CONTROL_GAIN: f64 = 0.03;
/// The controller's bounds on the reserve (standard deviations).
const MIN_RESERVE: f64 = -1.0;
const MAX_RESERVE: f64 = 4.0;
/// Most new dials one decision places.
const MAX_NEW_DIALS: u32 = 1024;

/// How predictive pacing behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictiveSettings {
    /// An answered call with no agent within this long is abandoned (safe harbour).
    pub harbour_ms: Ms,
    /// The abandon rate is measured over answered calls of this rolling window.
    pub abandon_window_ms: Ms,
    /// Most abandoned calls allowed, in percent of answered calls over the window.
    pub abandon_rate_cap: f64,
    /// The queue's wrap-up time after each call.
    pub wrap_up_ms: Ms,
    /// How many standard deviations of the agents freeing up are kept in reserve.
    pub safety: f64,
    /// Calls that have rung at least this long may be taken back (cancelled before they
    /// answer) when the agents predicted free do not cover them; the dial decision then
    /// counts on it for answers after this time (`None`: calls are never taken back).
    pub min_ring_ms: Option<Ms>,
}

impl Default for PredictiveSettings {
    fn default() -> Self {
        PredictiveSettings {
            harbour_ms: 2000,
            abandon_window_ms: 30 * 24 * 3_600_000,
            abandon_rate_cap: 3.0,
            wrap_up_ms: 0,
            safety: DEFAULT_SAFETY,
            min_ring_ms: None,
        }
    }
}

/// The least time a call rings before pacing may take it back, by default: US rules (TCPA)
/// ask for 15 s or four rings before a dialer gives up on a call.
pub const DEFAULT_MIN_RING_MS: Ms = 15_000;

/// The reserve predictive pacing starts from, in standard deviations: the value that gives the
/// simulator's shift its occupancy under the cap with the take-back (see docs/performance.md).
pub const DEFAULT_SAFETY: f64 = 1.5;

/// How much more reserve a campaign that takes back no ringing call starts from: with no late
/// correction, every dial's risk runs to its answer (2 standard deviations from the default).
pub const NO_TAKE_BACK_SAFETY: f64 = 0.5;

/// The reserve the controller starts from: `safety`, and more without the take-back.
fn start_reserve(settings: &PredictiveSettings) -> f64 {
    match settings.min_ring_ms {
        Some(_) => settings.safety,
        None => settings.safety + NO_TAKE_BACK_SAFETY,
    }
}

/// What an agent is doing, as the pacing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentPhase {
    /// Free for a call (or being rung for a call already answered, which counts as waiting).
    Available,
    /// Talking to a callee.
    OnCall,
    /// In wrap-up after a call.
    WrapUp,
    /// Away, offline: not expected to take calls.
    Away,
}

/// An agent's phase and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentView {
    /// What it does.
    pub phase: AgentPhase,
    /// Since when.
    pub since: Ms,
}

/// A bounded set of recent durations, kept sorted too for their distribution.
#[derive(Debug, Clone, Default)]
struct Samples {
    recent: VecDeque<Ms>,
    sorted: Vec<Ms>,
}

impl Samples {
    fn push(&mut self, v: Ms) {
        if self.recent.len() == SAMPLES {
            if let Some(old) = self.recent.pop_front() {
                if let Ok(i) = self.sorted.binary_search(&old) {
                    self.sorted.remove(i);
                }
            }
        }
        self.recent.push_back(v);
        let i = self.sorted.partition_point(|&x| x <= v);
        self.sorted.insert(i, v);
    }

    fn len(&self) -> usize {
        self.sorted.len()
    }

    /// The fraction of samples at most `x`.
    fn cdf(&self, x: Ms) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        self.sorted.partition_point(|&s| s <= x) as f64 / self.sorted.len() as f64
    }

    fn mean(&self) -> f64 {
        if self.sorted.is_empty() {
            return 0.0;
        }
        self.sorted.iter().sum::<u64>() as f64 / self.sorted.len() as f64
    }

    fn max(&self) -> Ms {
        self.sorted.last().copied().unwrap_or(0)
    }

    /// The chance that a duration already past `elapsed` ends within `more`: the measured
    /// distribution, or, past nearly all samples, an exponential tail of the same mean.
    fn ends_within(&self, elapsed: Ms, more: Ms) -> f64 {
        let survive = 1.0 - self.cdf(elapsed);
        if survive < 0.05 {
            let mean = self.mean().max(1000.0);
            return 1.0 - (-(more as f64) / mean).exp();
        }
        (self.cdf(elapsed + more) - self.cdf(elapsed)) / survive
    }
}

/// Answered calls of a rolling window and how many of them were abandoned, counted per
/// minute, so that a 30-day window costs a few hundred kilobytes at most.
#[derive(Debug, Clone, Default)]
struct Window {
    /// (minute since the clock's origin, answered, abandoned), oldest first.
    minutes: VecDeque<(u64, u32, u32)>,
    answered: usize,
    abandoned: usize,
}

impl Window {
    fn add(&mut self, minute: u64, answered: u32, abandoned: u32) {
        match self.minutes.back_mut() {
            Some((m, a, b)) if *m == minute => {
                *a += answered;
                *b += abandoned;
            }
            // Minutes arrive in order but for restored ones, which come first.
            _ => self.minutes.push_back((minute, answered, abandoned)),
        }
        self.answered += answered as usize;
        self.abandoned += abandoned as usize;
    }

    /// Forgets the minutes wholly older than `window` before `now`.
    fn expire(&mut self, now: Ms, window: Ms) {
        while let Some(&(minute, answered, abandoned)) = self.minutes.front() {
            if now.saturating_sub((minute + 1) * 60_000) <= window {
                break;
            }
            self.minutes.pop_front();
            self.answered -= answered as usize;
            self.abandoned -= abandoned as usize;
        }
    }
}

/// Answered calls the abandon-rate controller remembers (its sums fade by this many).
const CONTROL_MEMORY: f64 = 2000.0;

/// What a campaign has measured of its own calls.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    /// Dial to answer, of answered attempts.
    answer_ms: Samples,
    /// Dial to end, of attempts never answered.
    unanswered_ms: Samples,
    /// Whether each recent attempt was answered (1 or 0; a call taken back before it
    /// answered counts its chance of answering then, as measured).
    outcomes: VecDeque<f64>,
    /// Connect to hang-up of calls an agent talked.
    talk_ms: Samples,
    /// Answered calls of the abandon window.
    window: Window,
    /// The controller's fading sums of answered and abandoned calls.
    control: (f64, f64),
}

impl Measures {
    fn outcome(&mut self, answered: f64) {
        if self.outcomes.len() == OUTCOMES {
            self.outcomes.pop_front();
        }
        self.outcomes.push_back(answered);
    }

    /// An attempt was answered `ring_ms` after its dial.
    pub fn answered(&mut self, ring_ms: Ms) {
        self.answer_ms.push(ring_ms);
        self.outcome(1.0);
    }

    /// An attempt ended unanswered `ring_ms` after its dial.
    pub fn unanswered(&mut self, ring_ms: Ms) {
        self.unanswered_ms.push(ring_ms);
        self.outcome(0.0);
    }

    /// An attempt was taken back (cancelled) `ring_ms` after its dial, before it answered:
    /// whether it would have answered is not known, so it counts as its chance of answering
    /// after ringing that long, and adds no ring time to either distribution.
    pub fn taken_back(&mut self, ring_ms: Ms) {
        let rate = self.answer_rate();
        let later = rate * (1.0 - self.answer_ms.cdf(ring_ms));
        let ringing = later + (1.0 - rate) * (1.0 - self.unanswered_ms.cdf(ring_ms));
        self.outcome(if ringing > 1e-9 { later / ringing } else { 0.0 });
    }

    /// An answered call ended its stay with the pacing at `now`: connected to an agent in
    /// time, or abandoned (no agent within the safe-harbour time).
    pub fn served(&mut self, now: Ms, abandoned: bool) {
        self.restore(now, 1, u32::from(abandoned));
    }

    /// `answered` answered calls, `abandoned` of them abandoned, in the minute of `at`: what
    /// a restarted campaign reads back from its stored attempts, oldest first, before its
    /// first dial (the abandon window and the controller pick up where they were).
    pub fn restore(&mut self, at: Ms, answered: u32, abandoned: u32) {
        self.window.add(at / 60_000, answered, abandoned);
        let fade = (1.0 - 1.0 / CONTROL_MEMORY).powi(answered as i32);
        let (a, b) = self.control;
        self.control = (
            a * fade + f64::from(answered),
            b * fade + f64::from(abandoned),
        );
    }

    /// A call an agent talked ended after `talk_ms`.
    pub fn talked(&mut self, talk_ms: Ms) {
        self.talk_ms.push(talk_ms);
    }

    /// Forgets answered calls of minutes older than the window.
    pub fn expire(&mut self, now: Ms, window: Ms) {
        self.window.expire(now, window);
    }

    /// Answered and abandoned calls in the window (as of the last [`Measures::expire`]).
    pub fn window(&self) -> (usize, usize) {
        (self.window.answered, self.window.abandoned)
    }

    /// The abandon rate over the window, percent (`None`: no answered call in it).
    pub fn abandon_rate(&self) -> Option<f64> {
        let (answered, abandoned) = self.window();
        (answered > 0).then(|| 100.0 * abandoned as f64 / answered as f64)
    }

    /// The measured answer rate, 0 to 1.
    pub fn answer_rate(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        self.outcomes.iter().sum::<f64>() / self.outcomes.len() as f64
    }

    /// Whether enough has been measured to predict.
    pub fn enough(&self) -> bool {
        self.answer_ms.len() >= MIN_ANSWERS
            && self.outcomes.len() >= MIN_ATTEMPTS
            && self.talk_ms.len() >= MIN_TALKS
    }

    /// The reserve the abandon-rate controller asks for, in standard deviations: `safety`
    /// when the recent abandon rate is on `target` (a fraction), more when above it, less
    /// when below. An integral controller: every answered call moves it by its own error.
    fn reserve(&self, safety: f64, target: f64) -> f64 {
        let (answered, abandoned) = self.control;
        let error = abandoned - target * answered;
        (safety + CONTROL_GAIN * error).clamp(MIN_RESERVE, MAX_RESERVE)
    }
}

/// The campaign's calls and agents at one instant.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// Now.
    pub now: Ms,
    /// The queue's agents.
    pub agents: &'a [AgentView],
    /// When each call still ringing was dialed.
    pub ringing: &'a [Ms],
    /// Answered calls not yet connected to an agent.
    pub waiting: u32,
}

/// How the answer was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pace {
    /// Not enough measured yet: one call per available agent.
    Measuring,
    /// One more abandoned call would put the window's abandon rate at or over the cap: one
    /// call per available agent.
    AbandonRateCap,
    /// Between predicted and progressive, nearing the cap.
    Tapered,
    /// As predicted.
    Predicted,
}

/// What predictive pacing wants now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decision {
    /// Calls not yet connected to an agent to have in progress (ringing, and answered and
    /// waiting, together).
    pub calls: u32,
    /// How it was reached.
    pub pace: Pace,
}

/// How many calls not yet connected to an agent to have in progress now.
pub fn calls_to_have(settings: &PredictiveSettings, m: &Measures, s: &Situation) -> Decision {
    let available = s
        .agents
        .iter()
        .filter(|a| a.phase == AgentPhase::Available)
        .count() as u32;
    let progressive = |pace| Decision {
        calls: available,
        pace,
    };
    if !m.enough() {
        return progressive(Pace::Measuring);
    }
    let Some((reserve, pace)) = reserve_now(settings, m) else {
        return progressive(Pace::AbandonRateCap);
    };
    let calls = predicted_calls(settings, reserve, m, s).max(f64::from(available));
    Decision {
        calls: calls.floor() as u32,
        pace,
    }
}

/// The reserve (standard deviations) the controller and the taper ask for now, and whether
/// tapered; `None` when one more abandoned call would put the window at or over the cap.
fn reserve_now(settings: &PredictiveSettings, m: &Measures) -> Option<(f64, Pace)> {
    // Abandoned calls the window can still take under the cap; with less than one, none.
    let (answered, abandoned) = m.window();
    let cap = settings.abandon_rate_cap;
    let allowance = cap / 100.0 * answered as f64 - abandoned as f64;
    if cap <= 0.0 || allowance < 1.0 {
        return None;
    }
    // With few left, more is kept in reserve.
    let room = ((allowance - 1.0) / TAPER_CALLS).min(1.0);
    let reserve = m.reserve(start_reserve(settings), cap * TARGET_SHARE / 100.0)
        + TAPER_SAFETY * (1.0 - room);
    let pace = if room >= 1.0 {
        Pace::Predicted
    } else {
        Pace::Tapered
    };
    Some((reserve, pace))
}

/// Which calls still ringing to take back now (cancel before they answer), as indices into
/// `s.ringing`: of those that have rung at least the minimum ring time, the ones that, should
/// they answer over the rest of their answer window, would find no agent within the safe
/// harbour but for more than the chance the reserve allows (`Φ(-reserve)`, the same as a new
/// dial's). Each is weighed as a new dial is: against the callees answered before it (waiting
/// now, the other calls ringing and not taken back, each by its chance of answering given how
/// long it has rung) and the agents free by then (each by its chance of freeing up). The worst
/// is taken back first, then the others weighed again without it. None before enough is
/// measured; when one more abandoned call would reach the cap, with the taper's whole reserve.
pub fn calls_to_take_back(
    settings: &PredictiveSettings,
    m: &Measures,
    s: &Situation,
) -> Vec<usize> {
    let Some(min_ring) = settings.min_ring_ms else {
        return Vec::new();
    };
    let rate = m.answer_rate();
    if !m.enough() || rate <= 0.0 {
        return Vec::new();
    }
    let eligible: Vec<usize> = (0..s.ringing.len())
        .filter(|&i| s.now.saturating_sub(s.ringing[i]) >= min_ring)
        .collect();
    if eligible.is_empty() {
        return Vec::new();
    }
    let reserve = match reserve_now(settings, m) {
        Some((reserve, _)) => reserve,
        None => {
            m.reserve(start_reserve(settings), settings.abandon_rate_cap / 100.0) + TAPER_SAFETY
        }
    };
    let allowed = normal_cdf(-reserve);
    let horizon_s = m.answer_ms.max().div_ceil(1000).clamp(1, MAX_HORIZON_S) as usize;
    let frees: Vec<(f64, f64)> = (1..=horizon_s as u64)
        .map(|t| agents_free_by(settings, m, s, t * 1000 + settings.harbour_ms))
        .collect();
    // Each call's chance of having answered by each horizon.
    let by: Vec<Vec<f64>> = s
        .ringing
        .iter()
        .map(|&dialed| {
            let elapsed = s.now.saturating_sub(dialed);
            (1..=horizon_s as u64)
                .map(|t| answers_within(m, rate, elapsed, t * 1000))
                .collect()
        })
        .collect();
    let mut kept = vec![true; s.ringing.len()];
    let mut taken = Vec::new();
    for _ in 0..eligible.len() {
        let mut sums = vec![(f64::from(s.waiting), 0.0); horizon_s];
        for (p, _) in by.iter().zip(&kept).filter(|(_, k)| **k) {
            for (sum, &q) in sums.iter_mut().zip(p) {
                sum.0 += q;
                sum.1 += q * (1.0 - q);
            }
        }
        let chance = |i: usize| {
            let p = &by[i];
            let total = p[horizon_s - 1];
            if total <= 1e-9 {
                return 0.0;
            }
            let mut before = 0.0;
            let mut abandoned = 0.0;
            for (t, &q) in p.iter().enumerate() {
                let (answers, answers_var) = (sums[t].0 - q, sums[t].1 - q * (1.0 - q));
                let (free, free_var) = frees[t];
                let var = (answers_var + free_var).max(0.25);
                abandoned += (q - before) * normal_cdf((answers - free + 0.5) / var.sqrt());
                before = q;
            }
            abandoned / total
        };
        let worst = eligible
            .iter()
            .copied()
            .filter(|&i| kept[i])
            .map(|i| (i, chance(i)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match worst {
            Some((i, c)) if c > allowed => {
                kept[i] = false;
                taken.push(i);
            }
            _ => break,
        }
    }
    taken
}

/// One horizon of the prediction: of a callee answering `t` seconds from now.
struct Horizon {
    /// Callees answered by then (waiting now, ringing calls answering) less the agents free
    /// by then plus the safe harbour: expected value and variance.
    gap: f64,
    var: f64,
    /// A new dial's chance to be answered by then.
    per_dial: f64,
    /// A new dial's chance to be answered in the second before.
    weight: f64,
}

/// The calls to have in progress if the measures hold: those in progress now and the most
/// new dials such that the last of them, if answered, finds an agent within the safe harbour
/// but for the chance a reserve of `reserve` standard deviations leaves (`Φ(-reserve)`).
/// That chance is averaged over when it may be answered; at each instant it is the chance
/// that the callees answered before it (waiting, ringing, the other new dials: each a
/// yes-or-no chance) take every agent freeing up by then (each a yes-or-no chance too).
fn predicted_calls(
    settings: &PredictiveSettings,
    reserve: f64,
    m: &Measures,
    s: &Situation,
) -> f64 {
    let rate = m.answer_rate();
    let in_progress = s.ringing.len() as f64 + f64::from(s.waiting);
    if rate <= 0.0 {
        return in_progress;
    }
    let horizon_s = m.answer_ms.max().div_ceil(1000).clamp(1, MAX_HORIZON_S);
    // Answers after the minimum ring time are taken back unless an agent is predicted for
    // them: a new dial's risk is weighed over its answers before it.
    let counted_until = settings.min_ring_ms.unwrap_or(Ms::MAX);
    let mut horizons = Vec::with_capacity(horizon_s as usize);
    let mut before = 0.0;
    let mut counted = 0.0;
    for t_s in 1..=horizon_s {
        let t = t_s * 1000;
        let (frees, frees_var) = agents_free_by(settings, m, s, t + settings.harbour_ms);
        let (mut answers, mut answers_var) = (f64::from(s.waiting), 0.0);
        for &dialed in s.ringing {
            let p = answers_within(m, rate, s.now.saturating_sub(dialed), t);
            answers += p;
            answers_var += p * (1.0 - p);
        }
        let cdf = m.answer_ms.cdf(t);
        let weight = if t <= counted_until {
            cdf - before
        } else {
            0.0
        };
        horizons.push(Horizon {
            gap: answers - frees,
            var: answers_var + frees_var,
            per_dial: rate * cdf,
            weight,
        });
        before = cdf;
        counted += weight;
    }
    if counted <= 0.0 {
        return in_progress;
    }
    let allowed = normal_cdf(-reserve);
    let abandoned = |n: f64| {
        horizons
            .iter()
            .map(|h| {
                let mean = h.gap + n * h.per_dial;
                let var = h.var + n * h.per_dial * (1.0 - h.per_dial);
                h.weight * normal_cdf((mean + 0.5) / var.max(0.25).sqrt())
            })
            .sum::<f64>()
            / counted
    };
    if abandoned(0.0) > allowed {
        return in_progress;
    }
    // The chance grows with the dials: the largest count within it, by doubling and halving.
    let (mut lo, mut hi) = (0u32, 1u32);
    while hi < MAX_NEW_DIALS && abandoned(f64::from(hi)) <= allowed {
        lo = hi;
        hi *= 2;
    }
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if abandoned(f64::from(mid)) <= allowed {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    in_progress + f64::from(lo)
}

/// The standard normal distribution function, `Φ(x)` (to about 1e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// Agents expected free within `within` from now, and the variance of that count.
fn agents_free_by(
    settings: &PredictiveSettings,
    m: &Measures,
    s: &Situation,
    within: Ms,
) -> (f64, f64) {
    let wrap = settings.wrap_up_ms;
    s.agents
        .iter()
        .map(|a| {
            let elapsed = s.now.saturating_sub(a.since);
            match a.phase {
                AgentPhase::Available => 1.0,
                AgentPhase::Away => 0.0,
                AgentPhase::WrapUp => f64::from(u8::from(wrap.saturating_sub(elapsed) <= within)),
                AgentPhase::OnCall if within > wrap => {
                    m.talk_ms.ends_within(elapsed, within - wrap)
                }
                AgentPhase::OnCall => 0.0,
            }
        })
        .fold((0.0, 0.0), |(mean, var), p| (mean + p, var + p * (1.0 - p)))
}

/// The chance that a call ringing for `elapsed` is answered within `more`.
fn answers_within(m: &Measures, rate: f64, elapsed: Ms, more: Ms) -> f64 {
    let answered_later = rate * (1.0 - m.answer_ms.cdf(elapsed));
    let unanswered_still = (1.0 - rate) * (1.0 - m.unanswered_ms.cdf(elapsed));
    let ringing = answered_later + unanswered_still;
    if ringing <= 1e-9 || answered_later <= 0.0 {
        return 0.0;
    }
    rate * (m.answer_ms.cdf(elapsed + more) - m.answer_ms.cdf(elapsed)) / ringing
}

#[cfg(test)]
#[path = "predictive_tests.rs"]
mod tests;
