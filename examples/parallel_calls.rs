//! Load runner for the SIP layer alone: places many calls in parallel through one endpoint
//! against a far end (SIPp's `uas_load` scenario), paced at a fixed rate, and prints one JSON
//! line with the figures. Used by `sip-test/load-sip`; bounded in count and time.
//!
//! `cargo run --release --example parallel_calls -- <trunk-uri> <calls> <rate/s> <max-concurrent> [hold-ms]`

use ringmaster::call::CallOutcome;
use ringmaster::domain::{Dialable, Disposition, E164};
use ringmaster::sip::endpoint::CallEvent;
use ringmaster::sip::transport::{self, TransportConfig};
use ringmaster::trunk::{Trunk, TrunkConfig};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 4 {
        anyhow::bail!(
            "usage: parallel_calls <trunk-uri> <calls> <rate/s> <max-concurrent> [hold-ms]"
        );
    }
    let (uri, calls, rate, max_concurrent) = (
        args[0].clone(),
        args[1].parse::<usize>()?,
        args[2].parse::<f64>()?,
        args[3].parse::<usize>()?,
    );
    let hold = Duration::from_millis(args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(0));
    let trunk = Trunk::resolve(TrunkConfig {
        name: "load".into(),
        uri,
        username: None,
        password: None,
        caller_id: "loadtest".into(),
        caller_name: None,
        asserted_identity: false,
        max_cps: rate as u32,
        max_concurrent: max_concurrent as u32,
        max_setup: 0,
        keepalive_secs: 0,
    })
    .await?;
    let endpoint = transport::start(TransportConfig::default()).await?;
    let sdp = ringmaster::sdp::offer("127.0.0.1".parse()?, 40000, 1).into_bytes();
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<Disposition>(calls.max(1));
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate);
    let deadline = started + Duration::from_secs(300);
    for i in 0..calls {
        let due = started + interval.mul_f64(i as f64);
        tokio::time::sleep_until(due.into()).await;
        while in_flight.load(Ordering::Relaxed) >= max_concurrent {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        if Instant::now() > deadline {
            break;
        }
        let n = in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        peak.fetch_max(n, Ordering::Relaxed);
        let number = format!("+1555{:07}", i).parse::<E164>()?;
        let spec = trunk.call_spec(
            &Dialable::Number(number),
            Duration::from_secs(30),
            Some(sdp.clone()),
        );
        let (endpoint, done_tx, in_flight) = (endpoint.clone(), done_tx.clone(), in_flight.clone());
        tokio::spawn(async move {
            let mut placed = endpoint.dial(spec);
            let outcome = loop {
                match placed.events.recv().await {
                    Some(CallEvent::Answered { .. }) => {
                        if !hold.is_zero() {
                            tokio::time::sleep(hold).await;
                        }
                        let _ = endpoint.hangup(placed.handle).await;
                    }
                    Some(CallEvent::Ended(end)) => break CallOutcome::from_leg(end).disposition,
                    Some(_) => {}
                    None => break Disposition::Failed,
                }
            };
            in_flight.fetch_sub(1, Ordering::Relaxed);
            let _ = done_tx.send(outcome).await;
        });
    }
    drop(done_tx);
    let mut tally: BTreeMap<&'static str, usize> = BTreeMap::new();
    while let Some(d) = done_rx.recv().await {
        *tally.entry(d.as_str()).or_default() += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let total: usize = tally.values().sum();
    let stats = endpoint.stats().await?;
    let answered = tally.get("answered").copied().unwrap_or(0) as u64;
    println!(
        "{}",
        serde_json::json!({
            "calls": total,
            "elapsed_s": (elapsed * 100.0).round() / 100.0,
            "calls_per_s": (total as f64 / elapsed).round(),
            "peak_concurrent": peak.load(Ordering::Relaxed),
            "dispositions": tally,
            "sip_messages_in": stats.messages_in,
            "sip_messages_out": stats.messages_out,
            // An answered call sends INVITE, ACK and BYE once each when nothing is lost:
            // whatever ringmaster sent beyond that is retransmissions (and ACKs repeated for
            // retransmitted 200s).
            "retransmissions_out": stats.messages_out.saturating_sub(3 * answered),
            "malformed_in": stats.malformed_in,
        })
    );
    Ok(())
}
