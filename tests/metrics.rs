//! `GET /metrics` scraped while a campaign dials SIPp callees and after it finished: the
//! exposition is well formed, its attempts by disposition never run ahead of the campaign's
//! stats while it dials and equal them once it finished, and the live gauges, histograms and
//! RTP counters say what happened.

// Shared with tests/campaign.rs, which uses the rest of it.
#[allow(dead_code)]
#[path = "campaign/helpers.rs"]
mod helpers;

use helpers::{campaign, sipp_trunk, Server};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// One sample of the exposition.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A parsed exposition: samples, and each family's `# TYPE`.
#[derive(Debug, Default)]
struct Exposition {
    samples: Vec<Sample>,
    types: HashMap<String, String>,
}

impl Exposition {
    /// Parses the text format, checking it as it goes: every sample's family has `# HELP` and
    /// `# TYPE` lines before it, names are valid, counters end in `_total`.
    fn parse(text: &str) -> Exposition {
        let mut e = Exposition::default();
        let mut helped = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                let (name, help) = rest.split_once(' ').expect("HELP name and text");
                assert!(!help.trim().is_empty(), "empty HELP: {line}");
                helped.insert(name.to_string());
                continue;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("TYPE name and kind");
                assert!(helped.contains(name), "TYPE before HELP: {line}");
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(
                    e.types.insert(name.into(), kind.into()).is_none(),
                    "two TYPEs: {line}"
                );
                continue;
            }
            assert!(
                !line.starts_with('#') && !line.is_empty(),
                "stray line: {line:?}"
            );
            let sample = parse_sample(line);
            assert!(valid_name(&sample.name), "bad name: {line}");
            let family = e.family_of(&sample.name);
            let kind = e
                .types
                .get(&family)
                .unwrap_or_else(|| panic!("no TYPE for {line}"));
            assert!(
                sample.name.starts_with("ringmaster_") || sample.name.starts_with("process_"),
                "{line}"
            );
            if kind == "counter" {
                assert!(family.ends_with("_total"), "counter without _total: {line}");
            }
            if sample.name.ends_with("_seconds") || family.contains("_seconds") {
                assert!(sample.value >= 0.0, "{line}");
            }
            e.samples.push(sample);
        }
        e.check_histograms();
        e
    }

    fn family_of(&self, name: &str) -> String {
        for suffix in ["_bucket", "_sum", "_count"] {
            if let Some(f) = name.strip_suffix(suffix) {
                if self.types.get(f).map(String::as_str) == Some("histogram") {
                    return f.to_string();
                }
            }
        }
        name.to_string()
    }

    /// Buckets are cumulative, end with `+Inf`, and `+Inf` equals `_count`.
    fn check_histograms(&self) {
        let mut series: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
        for s in &self.samples {
            let Some(family) = s.name.strip_suffix("_bucket") else {
                continue;
            };
            let mut labels = s.labels.clone();
            let le = labels.remove("le").expect("a bucket has le");
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().expect("le is a number")
            };
            series
                .entry((family.to_string(), format!("{labels:?}")))
                .or_default()
                .push((le, s.value));
        }
        assert!(!series.is_empty(), "no histogram");
        for ((family, labels), buckets) in series {
            assert!(buckets
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
            let (last_le, last) = *buckets.last().expect("buckets");
            assert!(last_le.is_infinite(), "{family}{labels}: no +Inf bucket");
            let count = self
                .samples
                .iter()
                .find(|s| {
                    s.name == format!("{family}_count") && format!("{:?}", s.labels) == labels
                })
                .unwrap_or_else(|| panic!("{family}{labels}: no _count"));
            assert_eq!(count.value, last, "{family}{labels}");
        }
    }

    /// The samples named `name` whose labels include `want`.
    fn find(&self, name: &str, want: &[(&str, &str)]) -> Vec<&Sample> {
        self.samples
            .iter()
            .filter(|s| {
                s.name == name
                    && want
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .collect()
    }

    /// The one sample named `name` with `want`, or 0 when there is none.
    fn value(&self, name: &str, want: &[(&str, &str)]) -> f64 {
        self.find(name, want).iter().map(|s| s.value).sum()
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{k="v",...} value`, with `\"`, `\\` and `\n` escapes in values.
fn parse_sample(line: &str) -> Sample {
    let (head, value) = line.rsplit_once(' ').expect("name and value");
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("bad value: {line}")),
    };
    let Some((name, rest)) = head.split_once('{') else {
        return Sample {
            name: head.to_string(),
            labels: BTreeMap::new(),
            value,
        };
    };
    let body = rest.strip_suffix('}').expect("labels end with }");
    let mut labels = BTreeMap::new();
    let mut chars = body.chars().peekable();
    while chars.peek().is_some() {
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'), "label value quoted: {line}");
        let mut val = String::new();
        loop {
            match chars.next().expect("label value ends") {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => val.push('\n'),
                    Some(c) => val.push(c),
                    None => panic!("dangling escape: {line}"),
                },
                c => val.push(c),
            }
        }
        labels.insert(key, val);
        if chars.peek() == Some(&',') {
            chars.next();
        }
    }
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

/// `GET /metrics` over plain HTTP (no token is configured).
fn scrape(s: &Server) -> Exposition {
    let mut stream = TcpStream::connect(s.api).expect("connect");
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        s.api
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    let (head, body) = response.split_once("\r\n\r\n").expect("head and body");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    Exposition::parse(body)
}

/// The campaign's attempts by disposition in the exposition.
fn attempts(e: &Exposition, campaign: &str) -> BTreeMap<String, u64> {
    e.find("ringmaster_attempts_total", &[("campaign_id", campaign)])
        .iter()
        .filter(|s| s.value > 0.0)
        .map(|s| (s.labels["disposition"].clone(), s.value as u64))
        .collect()
}

/// The stats' dispositions, without `dnc` (recorded, never dialed).
fn stats_dispositions(stats: &Value) -> BTreeMap<String, u64> {
    stats["dispositions"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(d, _)| d.as_str() != "dnc")
                .map(|(d, n)| (d.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn metrics_scraped_during_and_after_a_campaign_agree_with_its_stats() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let s = Server::start(dir.path(), trunk, 12);
    // Answered, busy, ringing until the dial timeout, unknown.
    let numbers: Vec<String> = (0..40)
        .map(|i| format!("+155501{}{:04}", [1, 1, 2, 3, 4][i % 5], i))
        .collect();
    let targets: Vec<[&str; 1]> = numbers.iter().map(|n| [n.as_str()]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(|t| &t[..]).collect();
    let plan = json!({"name": "once", "dial_timeout": 1000, "max_try_count_0": 1,
                      "source": {"type": "tel", "target": "+15551230000"}});
    let (id, _, _) = campaign(&s, plan, &targets, json!({}));
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );

    let deadline = Instant::now() + Duration::from_secs(90);
    let (mut scrapes_while_dialing, mut highest_rate, mut most_in_progress) = (0, 0.0f64, 0.0f64);
    let stats = loop {
        // Metrics first, then stats: what the metrics counted was durable before the stats
        // read the store.
        let e = scrape(&s);
        let stats = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
        let counted = attempts(&e, &id);
        let recorded = stats_dispositions(&stats);
        for (d, n) in &counted {
            let stored = recorded.get(d).copied().unwrap_or(0);
            assert!(*n <= stored, "{d}: metrics {n} ahead of the stats {stored}");
        }
        if stats["status"] == "run" {
            if counted.values().sum::<u64>() > 0 {
                scrapes_while_dialing += 1;
            }
            highest_rate = highest_rate.max(e.value("ringmaster_attempts_per_second", &[]));
            most_in_progress = most_in_progress.max(e.value("ringmaster_calls_in_progress", &[]));
        }
        if stats["status"] == "finished" {
            break stats;
        }
        assert!(
            Instant::now() < deadline,
            "campaign never finished: {stats}"
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    assert!(
        scrapes_while_dialing >= 2,
        "scraped {scrapes_while_dialing} times while dialing"
    );
    assert!(highest_rate > 0.0, "attempts/s never above 0 while dialing");
    assert!(most_in_progress > 0.0, "no call ever in progress");

    let e = scrape(&s);
    let counted = attempts(&e, &id);
    assert_eq!(counted, stats_dispositions(&stats), "after the campaign");
    let want: BTreeMap<String, u64> = [
        ("answered", 16),
        ("busy", 8),
        ("no_answer", 8),
        ("invalid_number", 8),
    ]
    .into_iter()
    .map(|(d, n)| (d.to_string(), n))
    .collect();
    assert_eq!(counted, want);
    assert_eq!(
        counted.values().sum::<u64>(),
        stats["attempts"].as_u64().unwrap_or(0)
    );
    let mut labels = e.find("ringmaster_attempts_total", &[("campaign_id", &id)]);
    labels.retain(|s| s.labels["customer_id"] == "7a1b2c3d-4e5f-6789-abcd-ef0123456789");
    assert_eq!(
        labels.len(),
        12,
        "every disposition but dnc, zeros included"
    );

    // Every attempt had a final response: each one's setup time was observed.
    assert_eq!(e.value("ringmaster_call_setup_seconds_count", &[]), 40.0);
    let quick = e.value("ringmaster_call_setup_seconds_bucket", &[("le", "0.5")]);
    assert!(quick >= 32.0, "answers, busy and 404 come at once: {quick}");
    assert_eq!(e.value("ringmaster_calls_in_progress", &[]), 0.0);
    assert_eq!(e.value("ringmaster_trunk_up", &[("trunk", "sipp")]), 1.0);
    assert_eq!(e.value("ringmaster_store_writable", &[]), 1.0);
    assert!(e.value("ringmaster_store_commit_seconds_count", &[]) > 0.0);
    assert!(
        e.value("ringmaster_rtp_packets_sent_total", &[]) > 0.0,
        "the answered calls' media sent packets"
    );
    let stats_route = [
        ("route", "/v1.0/campaigns/{id}/stats"),
        ("method", "GET"),
        ("status", "200"),
    ];
    assert!(
        e.value(
            "ringmaster_http_request_duration_seconds_count",
            &stats_route
        ) > 0.0
    );
    assert!(e.value("process_start_time_seconds", &[]) > 1.7e9);
}
