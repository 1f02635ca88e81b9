//! Prometheus metrics of the node, served at `GET /metrics` (see `docs/operations.md`).
//!
//! ```text
//! mod.rs         Metrics: the process-wide counters and histograms, and the exposition
//! attempts.rs    ended attempts by campaign and disposition
//! histogram.rs   a lock-free histogram of durations
//! rate.rs        attempts per second over the last few seconds
//! http.rs        API request durations by route pattern
//! exposition.rs  the text format
//! ```
//!
//! What is counted as it happens is kept here in relaxed atomics, reached through [`global`]
//! with one line at each place that counts (an attempt's end once it is durable, a group
//! commit, an RTP session's end, an API request). What the node knows now (trunks, agents,
//! queues, calls in progress) is read at each scrape from where it already lives and handed
//! to [`Metrics::render`] as [`LiveFigures`]. This module depends on nothing but `domain/`.

pub mod attempts;
pub mod exposition;
pub mod histogram;
pub mod http;
pub mod rate;

use attempts::AttemptCounters;
pub use attempts::AttemptTally;
use exposition::{Kind, Labels, Writer};
use histogram::{ms, us, Histogram};
use rate::RateWindow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

/// INVITE → final response: from a quick refusal to a long ring.
static SETUP_BOUNDS: [u64; 13] = [
    ms(10),
    ms(25),
    ms(50),
    ms(100),
    ms(250),
    ms(500),
    ms(1000),
    ms(2500),
    ms(5000),
    ms(10_000),
    ms(20_000),
    ms(30_000),
    ms(60_000),
];

/// Time in a queue, until an agent answered or the callee left.
static WAIT_BOUNDS: [u64; 12] = [
    ms(500),
    ms(1000),
    ms(2000),
    ms(5000),
    ms(10_000),
    ms(20_000),
    ms(30_000),
    ms(60_000),
    ms(120_000),
    ms(300_000),
    ms(600_000),
    ms(1_800_000),
];

/// One group commit.
static COMMIT_BOUNDS: [u64; 12] = [
    us(500),
    ms(1),
    ms(2) + us(500),
    ms(5),
    ms(10),
    ms(25),
    ms(50),
    ms(100),
    ms(250),
    ms(500),
    ms(1000),
    ms(5000),
];

/// A leg's RFC 3550 interarrival jitter at the end of its call.
static JITTER_BOUNDS: [u64; 9] = [
    ms(1),
    ms(2) + us(500),
    ms(5),
    ms(10),
    ms(20),
    ms(40),
    ms(80),
    ms(160),
    ms(320),
];

/// How a call's wait in a queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueWaitEnd {
    /// An agent answered.
    Answered,
    /// The callee hung up or waited past the queue's wait timeout.
    Abandoned,
}

impl QueueWaitEnd {
    fn as_str(self) -> &'static str {
        match self {
            QueueWaitEnd::Answered => "answered",
            QueueWaitEnd::Abandoned => "abandoned",
        }
    }
}

/// What one RTP stream (a media session, one leg of a relay) did, added at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RtpTotals {
    /// Packets sent.
    pub sent: u64,
    /// Packets received and accepted.
    pub received: u64,
    /// Packets the far end sent that never arrived (from sequence gaps), when known.
    pub lost: u64,
    /// The far end's interarrival jitter at the end, in microseconds, when measured.
    pub jitter_us: Option<u64>,
}

/// The node's metrics counted as things happen.
#[derive(Debug)]
pub struct Metrics {
    started: SystemTime,
    origin: Instant,
    attempts: AttemptCounters,
    attempt_rate: RateWindow,
    call_setup: Histogram,
    queue_wait: [Histogram; 2],
    store_commit: Histogram,
    http: http::HttpDurations,
    rtp_sent: AtomicU64,
    rtp_received: AtomicU64,
    rtp_lost: AtomicU64,
    rtp_jitter: Histogram,
}

static GLOBAL: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &GLOBAL
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Empty metrics, the process start taken as now.
    pub fn new() -> Metrics {
        Metrics {
            started: SystemTime::now(),
            origin: Instant::now(),
            attempts: AttemptCounters::default(),
            attempt_rate: RateWindow::default(),
            call_setup: Histogram::new(&SETUP_BOUNDS),
            queue_wait: [Histogram::new(&WAIT_BOUNDS), Histogram::new(&WAIT_BOUNDS)],
            store_commit: Histogram::new(&COMMIT_BOUNDS),
            http: http::HttpDurations::default(),
            rtp_sent: AtomicU64::new(0),
            rtp_received: AtomicU64::new(0),
            rtp_lost: AtomicU64::new(0),
            rtp_jitter: Histogram::new(&JITTER_BOUNDS),
        }
    }

    fn second(&self, now: Instant) -> u64 {
        now.saturating_duration_since(self.origin).as_secs()
    }

    /// A batch of ended attempts is durable: they count.
    pub fn attempts_recorded(&self, tally: &AttemptTally) {
        let n = self.attempts.add(tally);
        if n > 0 {
            self.attempt_rate.add(self.second(Instant::now()), n);
        }
    }

    /// An attempt's INVITE got its final response `setup` after it was sent.
    pub fn call_setup(&self, setup: Duration) {
        self.call_setup.observe(setup);
    }

    /// A call's wait in a queue ended.
    pub fn queue_wait(&self, end: QueueWaitEnd, waited: Duration) {
        self.queue_wait[end as usize].observe(waited);
    }

    /// A group commit took `took`.
    pub fn store_commit(&self, took: Duration) {
        self.store_commit.observe(took);
    }

    /// An API request was answered.
    pub fn http_request(&self, route: Option<&str>, method: &str, status: u16, took: Duration) {
        self.http.observe(route, method, status, took);
    }

    /// An RTP stream ended.
    pub fn rtp(&self, totals: RtpTotals) {
        self.rtp_sent.fetch_add(totals.sent, Ordering::Relaxed);
        self.rtp_received
            .fetch_add(totals.received, Ordering::Relaxed);
        self.rtp_lost.fetch_add(totals.lost, Ordering::Relaxed);
        if let Some(j) = totals.jitter_us {
            self.rtp_jitter.observe(Duration::from_micros(j));
        }
    }

    /// The exposition: what was counted, and `live` read at the scrape.
    pub fn render(&self, live: &LiveFigures) -> String {
        let mut w = Writer::default();
        self.attempts.write(&mut w);
        w.single(
            "ringmaster_attempts_per_second",
            Kind::Gauge,
            "Attempts ended per second over the last 5 whole seconds (rate(ringmaster_attempts_total[1m]) is the Prometheus way).",
            self.attempt_rate.per_second(self.second(Instant::now())),
        );
        w.single(
            "ringmaster_calls_in_progress",
            Kind::Gauge,
            "Calls in flight through the trunks: from their INVITE until their attempt ends.",
            f64::from(live.calls_in_progress),
        );
        let setup = "ringmaster_call_setup_seconds";
        w.family(
            setup,
            Kind::Histogram,
            "Attempts' setup time: INVITE sent to its final response.",
        );
        self.call_setup
            .snapshot()
            .write(&mut w, setup, &Labels::none());
        let wait = "ringmaster_queue_wait_seconds";
        w.family(
            wait,
            Kind::Histogram,
            "Calls' wait in a queue, by how it ended (an agent answered, or the callee abandoned).",
        );
        for end in [QueueWaitEnd::Answered, QueueWaitEnd::Abandoned] {
            let labels = Labels::one("outcome", end.as_str());
            self.queue_wait[end as usize]
                .snapshot()
                .write(&mut w, wait, &labels);
        }
        w.family(
            "ringmaster_queue_waiting",
            Kind::Gauge,
            "Calls waiting for an agent now, by queue.",
        );
        for (queue, n) in &live.queues_waiting {
            w.sample(
                "ringmaster_queue_waiting",
                &Labels::one("queue_id", queue.to_string()),
                *n as f64,
            );
        }
        w.family(
            "ringmaster_agents",
            Kind::Gauge,
            "Agents known to the node now, by state.",
        );
        for (state, n) in &live.agents {
            w.sample(
                "ringmaster_agents",
                &Labels::one("state", *state),
                *n as f64,
            );
        }
        w.family(
            "ringmaster_trunk_up",
            Kind::Gauge,
            "Whether a trunk takes calls (1) or is down (0).",
        );
        for (trunk, up) in &live.trunks_up {
            w.sample(
                "ringmaster_trunk_up",
                &Labels::one("trunk", trunk.clone()),
                f64::from(u8::from(*up)),
            );
        }
        w.single(
            "ringmaster_store_writable",
            Kind::Gauge,
            "Whether the store's last commit succeeded (0: no call is placed).",
            f64::from(u8::from(live.store_writable)),
        );
        let commit = "ringmaster_store_commit_seconds";
        w.family(
            commit,
            Kind::Histogram,
            "Group commits of the store writer: one transaction of every queued write.",
        );
        self.store_commit
            .snapshot()
            .write(&mut w, commit, &Labels::none());
        let counters = [
            ("ringmaster_rtp_packets_sent_total", "RTP packets sent, added when each call's media or relay leg ends.", &self.rtp_sent),
            ("ringmaster_rtp_packets_received_total", "RTP packets received and accepted, added when each call's media or relay leg ends.", &self.rtp_received),
            ("ringmaster_rtp_packets_lost_total", "RTP packets the far ends sent that never arrived (sequence gaps), added when each leg ends.", &self.rtp_lost),
        ];
        for (name, help, v) in counters {
            w.single(name, Kind::Counter, help, v.load(Ordering::Relaxed) as f64);
        }
        let jitter = "ringmaster_rtp_jitter_seconds";
        w.family(
            jitter,
            Kind::Histogram,
            "RFC 3550 interarrival jitter of each far end, at the end of its call.",
        );
        self.rtp_jitter
            .snapshot()
            .write(&mut w, jitter, &Labels::none());
        self.http.write(&mut w);
        let start = self
            .started
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        w.single(
            "process_start_time_seconds",
            Kind::Gauge,
            "Start time of the process since the Unix epoch, in seconds.",
            start.floor(),
        );
        if let Some((cpu, rss)) = process_usage() {
            w.single(
                "process_cpu_seconds_total",
                Kind::Counter,
                "User and system CPU time spent, in seconds.",
                cpu,
            );
            w.single(
                "process_resident_memory_bytes",
                Kind::Gauge,
                "Resident memory size, in bytes.",
                rss,
            );
        }
        w.finish()
    }
}

/// What the node knows now, read at each scrape.
#[derive(Debug, Clone, Default)]
pub struct LiveFigures {
    /// Calls in flight over every trunk.
    pub calls_in_progress: u32,
    /// Each trunk's name and whether it takes calls.
    pub trunks_up: Vec<(String, bool)>,
    /// Agents by state (every state, zeros included).
    pub agents: Vec<(&'static str, u64)>,
    /// Calls waiting, by queue.
    pub queues_waiting: Vec<(Uuid, usize)>,
    /// Whether the store can write.
    pub store_writable: bool,
}

/// CPU seconds and resident bytes of this process, from `/proc` (Linux).
fn process_usage() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces: fields are counted after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    let rss_pages: f64 = fields.get(21)?.parse().ok()?;
    // SAFETY: sysconf reads a constant of the system and has no preconditions.
    let (ticks, page) = unsafe {
        (
            libc::sysconf(libc::_SC_CLK_TCK),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if ticks <= 0 || page <= 0 {
        return None;
    }
    Some(((utime + stime) / ticks as f64, rss_pages * page as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_named_by_convention_and_has_help_and_type() {
        let m = Metrics::new();
        m.attempts_recorded(&AttemptTally::of(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            [crate::domain::Disposition::Busy].into_iter(),
        ));
        m.call_setup(Duration::from_millis(120));
        m.queue_wait(QueueWaitEnd::Abandoned, Duration::from_secs(4));
        m.rtp(RtpTotals {
            sent: 50,
            received: 48,
            lost: 2,
            jitter_us: Some(1500),
        });
        let live = LiveFigures {
            calls_in_progress: 3,
            trunks_up: vec![("main".into(), true)],
            agents: vec![("available", 1)],
            queues_waiting: vec![(Uuid::from_u128(9), 2)],
            store_writable: true,
        };
        let text = m.render(&live);
        let mut typed = std::collections::HashMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("name and type");
                typed.insert(name.to_string(), kind.to_string());
                continue;
            }
            if line.starts_with('#') {
                continue;
            }
            let name = line.split(['{', ' ']).next().expect("a name");
            assert!(
                name.starts_with("ringmaster_") || name.starts_with("process_"),
                "{line}"
            );
            assert!(
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{line}"
            );
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| {
                    name.strip_suffix(s)
                        .filter(|f| typed.get(*f).map(String::as_str) == Some("histogram"))
                })
                .unwrap_or(name);
            let kind = typed
                .get(family)
                .unwrap_or_else(|| panic!("no TYPE before {line}"));
            if kind == "counter" {
                assert!(family.ends_with("_total"), "{line}");
            }
        }
        assert!(
            text.contains("ringmaster_rtp_packets_lost_total 2\n"),
            "{text}"
        );
        assert!(text.contains("ringmaster_calls_in_progress 3\n"), "{text}");
        assert!(
            text.contains("ringmaster_queue_wait_seconds_count{outcome=\"abandoned\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("ringmaster_rtp_jitter_seconds_bucket{le=\"0.0025\"} 1\n"),
            "{text}"
        );
    }
}
