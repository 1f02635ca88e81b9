//! The event stream and webhooks against a real campaign over SIPp: every campaigncall
//! reaches the stream once, in order; a client reconnecting with `Last-Event-ID` gets what
//! it missed; a webhook endpoint that fails its first two requests gets every event after
//! retries, signed, with stable event ids; and a crash of the node in the middle loses none.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // the campaign tests use the rest
mod helpers;

use helpers::{campaign, free_port, sipp_trunk, Extra, Server, TOKEN};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// One SSE message.
#[derive(Debug, Clone)]
struct Sse {
    id: i64,
    event: String,
    data: Value,
}

/// Reads `/events` on a thread of its own until the server closes it (or ten minutes pass),
/// sending each message on.
fn open_stream(api: SocketAddr, query: &str, last_event_id: Option<i64>) -> mpsc::Receiver<Sse> {
    let (tx, rx) = mpsc::channel();
    let mut stream = TcpStream::connect(api).expect("connect to the API");
    let last = last_event_id
        .map(|id| format!("Last-Event-ID: {id}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET /v1.0/events?{query}&token={TOKEN} HTTP/1.1\r\nHost: {api}\r\nAccept: text/event-stream\r\n{last}\r\n"
    )
    .expect("send request");
    stream
        .set_read_timeout(Some(Duration::from_secs(600)))
        .expect("timeout");
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).expect("status line");
    assert!(line.starts_with("HTTP/1.1 200"), "{line}");
    loop {
        line.clear();
        reader.read_line(&mut line).expect("header");
        if line == "\r\n" {
            break;
        }
    }
    std::thread::spawn(move || {
        // The body is chunked: chunks of SSE text.
        let mut text = String::new();
        loop {
            let mut size = String::new();
            if reader.read_line(&mut size).unwrap_or(0) == 0 {
                return;
            }
            let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
                return;
            };
            if n == 0 {
                return;
            }
            let mut chunk = vec![0; n + 2];
            if reader.read_exact(&mut chunk).is_err() {
                return;
            }
            text.push_str(&String::from_utf8_lossy(&chunk[..n]));
            while let Some(end) = text.find("\n\n") {
                let message: String = text.drain(..end + 2).collect();
                let mut sse = Sse {
                    id: 0,
                    event: String::new(),
                    data: Value::Null,
                };
                for l in message.lines() {
                    if let Some(v) = l.strip_prefix("id: ") {
                        sse.id = v.parse().expect("numeric id");
                    } else if let Some(v) = l.strip_prefix("event: ") {
                        sse.event = v.to_string();
                    } else if let Some(v) = l.strip_prefix("data: ") {
                        sse.data = serde_json::from_str(v).expect("JSON data");
                    }
                }
                if !sse.event.is_empty() && tx.send(sse).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// What the webhook endpoint received.
#[derive(Debug, Clone)]
struct Received {
    event_id: i64,
    event_type: String,
    signature: String,
    body: String,
    answered: u16,
}

/// An HTTP endpoint on loopback that answers 500 to its first `failures` requests and 200
/// after, recording each; it stops once `stop` is set (or after ten minutes).
fn receiver(failures: usize, stop: Arc<AtomicBool>) -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the receiver");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(600);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            let Ok((stream, _)) = listener.accept() else {
                std::thread::sleep(Duration::from_millis(5));
                continue;
            };
            stream.set_nonblocking(false).expect("blocking");
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .expect("timeout");
            let mut reader = BufReader::new(stream);
            let mut headers = BTreeMap::new();
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                continue;
            }
            loop {
                line.clear();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
                }
            }
            let length: usize = headers
                .get("content-length")
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            if reader.read_exact(&mut body).is_err() {
                continue;
            }
            let mut log = seen.lock().expect("log");
            let answered = if log.len() < failures { 500 } else { 200 };
            log.push(Received {
                event_id: headers
                    .get("x-ringmaster-event-id")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(-1),
                event_type: headers
                    .get("x-ringmaster-event-type")
                    .cloned()
                    .unwrap_or_default(),
                signature: headers
                    .get("x-ringmaster-signature")
                    .cloned()
                    .unwrap_or_default(),
                body: String::from_utf8_lossy(&body).to_string(),
                answered,
            });
            drop(log);
            let reason = if answered == 200 {
                "OK"
            } else {
                "Internal Server Error"
            };
            let _ = reader.get_mut().write_all(
                format!("HTTP/1.1 {answered} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            );
        }
    });
    (addr, log)
}

/// Whether `signature` (`t=…,v1=…`) is HMAC-SHA256 of `"<t>.<body>"` under `secret`.
fn signed(secret: &str, signature: &str, body: &str) -> bool {
    let mut t = "";
    let mut v1 = "";
    for part in signature.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v,
            Some(("v1", v)) => v1 = v,
            _ => {}
        }
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.{body}").as_bytes());
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    !t.is_empty() && hex == v1
}

/// Takes messages from `rx` until `done` says so or `within` passes; returns them.
fn collect(rx: &mpsc::Receiver<Sse>, within: Duration, done: impl Fn(&[Sse]) -> bool) -> Vec<Sse> {
    let deadline = Instant::now() + within;
    let mut got = Vec::new();
    while !done(&got) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) => got.push(m),
            Err(_) => break,
        }
    }
    got
}

#[test]
fn a_campaign_s_calls_reach_the_stream_and_a_failing_webhook_once_each_across_a_crash() {
    const CALLS: usize = 30;
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_trunk(dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    let (hook_addr, received) = receiver(2, stop.clone());

    let mut s = Server {
        proc: None,
        api: SocketAddr::from(([127, 0, 0, 1], free_port())),
        config: dir.path().join("ringmaster.toml"),
    };
    s.configure(trunk, 10, &Extra::default());
    let mut config = std::fs::read_to_string(&s.config).expect("config");
    config.push_str(
        "\n[webhooks]\nfirst_retry_ms = 100\nmax_retry_ms = 400\npoll_ms = 50\n\n[events]\nheartbeat_secs = 1\n",
    );
    std::fs::write(&s.config, config).expect("write config");
    s.restart();

    let hook = s.ok(
        "POST",
        "/v1.0/webhooks",
        Some(
            json!({"name": "crm", "uri": format!("http://{hook_addr}/ringmaster"),
                    "event_types": ["campaigncall_created", "campaigncall_updated"]}),
        ),
    );
    let secret = hook["secret"].as_str().expect("secret").to_string();
    let hook_id = hook["id"].as_str().expect("id").to_string();

    let first = open_stream(s.api, "resource=campaigncall", None);
    let numbers: Vec<String> = (0..CALLS).map(|i| format!("+1555011{i:04}")).collect();
    let targets: Vec<Vec<&str>> = numbers.iter().map(|n| vec![n.as_str()]).collect();
    let targets: Vec<&[&str]> = targets.iter().map(Vec::as_slice).collect();
    let (campaign_id, _, _) = campaign(
        &s,
        json!({"name": "once", "dial_timeout": 5000, "try_interval": 200, "max_try_count_0": 1}),
        &targets,
        json!({"actions": [{"type": "sleep", "option": {"duration": 300}}, {"type": "hangup"}]}),
    );
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{campaign_id}/status"),
        Some(json!({"status": "run"})),
    );

    // A third of the calls in, the node is killed as a crash would, and started again.
    let before = collect(&first, Duration::from_secs(60), |got| {
        got.iter()
            .filter(|m| m.event == "campaigncall_created")
            .count()
            >= CALLS / 3
    });
    s.kill9();
    // What the first stream had read when the node died.
    let mut before = before;
    before.extend(collect(&first, Duration::from_secs(2), |_| false));
    let last_seen = before
        .last()
        .map(|m| m.id)
        .expect("events before the crash");
    s.restart();

    let after = open_stream(s.api, "resource=campaigncall", Some(last_seen));
    s.wait_status(&campaign_id, "finished", Duration::from_secs(120));
    let calls = s.campaigncalls(&campaign_id);
    assert!(calls.len() >= CALLS, "{} calls", calls.len());
    let done_ids: BTreeSet<String> = calls
        .iter()
        .map(|c| c["id"].as_str().expect("id").to_string())
        .collect();
    let after = collect(&after, Duration::from_secs(60), |got| {
        let ended: BTreeSet<&str> = before
            .iter()
            .chain(got)
            .filter(|m| m.data["data"]["status"] == "done")
            .filter_map(|m| m.data["resource_id"].as_str())
            .collect();
        ended.len() >= done_ids.len()
    });

    // The two connections together: every event once, ids growing, and each call's own
    // events in its order (created dialing, maybe progressing, then done).
    let stream: Vec<&Sse> = before.iter().chain(&after).collect();
    assert!(
        stream.windows(2).all(|w| w[0].id < w[1].id),
        "ids grow, none twice"
    );
    let mut per_call: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for m in &stream {
        assert_eq!(m.data["type"], m.event.as_str());
        assert_eq!(m.data["id"], m.id);
        let call = m.data["resource_id"]
            .as_str()
            .expect("resource id")
            .to_string();
        let status = m.data["data"]["status"]
            .as_str()
            .expect("status")
            .to_string();
        per_call
            .entry(call)
            .or_default()
            .push((m.event.clone(), status));
    }
    assert_eq!(
        per_call.keys().cloned().collect::<BTreeSet<_>>(),
        done_ids,
        "every campaigncall reached the stream"
    );
    for (call, events) in &per_call {
        assert_eq!(
            events.first(),
            Some(&("campaigncall_created".to_string(), "dialing".to_string())),
            "{call}: {events:?}"
        );
        assert_eq!(
            events.last().map(|e| e.1.as_str()),
            Some("done"),
            "{call}: {events:?}"
        );
        let statuses: Vec<&str> = events.iter().map(|e| e.1.as_str()).collect();
        let ordered = matches!(
            statuses.as_slice(),
            ["dialing", "done"] | ["dialing", "progressing", "done"]
        );
        assert!(ordered, "{call}: once each, in order: {events:?}");
    }
    // A fresh replay from the start holds exactly what the two connections were sent.
    let replay = open_stream(s.api, "resource=campaigncall", Some(0));
    let want = stream.len();
    let replay = collect(&replay, Duration::from_secs(30), |got| got.len() >= want);
    assert_eq!(
        replay.iter().map(|m| m.id).collect::<Vec<_>>(),
        stream.iter().map(|m| m.id).collect::<Vec<_>>(),
        "the stream lost nothing across the crash"
    );

    // The webhook: every event accepted (after the two 500s were retried), signed, each
    // event id naming the same body whenever it is sent again.
    let wanted: BTreeSet<i64> = stream.iter().map(|m| m.id).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let accepted: BTreeSet<i64> = received
            .lock()
            .expect("log")
            .iter()
            .filter(|r| r.answered == 200)
            .map(|r| r.event_id)
            .collect();
        if accepted == wanted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the webhook got {} of {} events",
            accepted.len(),
            wanted.len()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let log = received.lock().expect("log").clone();
    let mut bodies: BTreeMap<i64, &str> = BTreeMap::new();
    for r in &log {
        assert!(signed(&secret, &r.signature, &r.body), "signature of {r:?}");
        let body: Value = serde_json::from_str(&r.body).expect("JSON body");
        assert_eq!(body["id"], r.event_id);
        assert_eq!(body["type"], r.event_type.as_str());
        let first = bodies.entry(r.event_id).or_insert(r.body.as_str());
        assert_eq!(
            *first, r.body,
            "event {} is sent the same each time",
            r.event_id
        );
    }
    let failed: Vec<i64> = log
        .iter()
        .filter(|r| r.answered == 500)
        .map(|r| r.event_id)
        .collect();
    assert_eq!(failed.len(), 2);
    // After dropping copies by event id (the receiver's part of at-least-once), each event
    // was accepted once; copies are only possible for POSTs the crash cut short.
    let accepted = log.iter().filter(|r| r.answered == 200).count();
    assert!(
        accepted - wanted.len() <= 8,
        "{accepted} accepted for {} events",
        wanted.len()
    );

    // The delivery log shows the retried ones, delivered.
    let deliveries = s.ok(
        "GET",
        &format!("/v1.0/webhooks/{hook_id}/deliveries?page_size=100"),
        None,
    );
    let rows = deliveries["result"].as_array().expect("rows");
    assert!(!rows.is_empty());
    for id in failed {
        let row = rows
            .iter()
            .find(|d| d["event_id"] == id)
            .expect("the retried delivery in the log");
        assert_eq!(row["status"], "delivered", "{row}");
        assert!(row["attempts"].as_u64() >= Some(2), "{row}");
        assert_eq!(row["status_code"], 200);
        assert_eq!(row["error"], "");
    }
}
