//! The dialer when something breaks, against SIPp as the trunk and a real SQLite file: a
//! store that cannot write stops the dialing and loses nothing; a dead trunk pauses the
//! campaigns dialing through it without using up their targets' tries.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // the campaign tests use the rest
mod helpers;

use helpers::{sipp_scenario, sipp_scenario_on, Extra, Server};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

/// A campaign over `n` answering numbers whose calls hang up after `hold_ms`; returns its id.
fn campaign(s: &Server, n: usize, max_tries: u32, hold_ms: u64) -> String {
    let outplan = s.ok(
        "POST",
        "/v1.0/outplans",
        Some(
            json!({"name": "once", "dial_timeout": 5000, "try_interval": 200,
                    "max_try_count_0": max_tries}),
        ),
    );
    let outdial = s.ok("POST", "/v1.0/outdials", Some(json!({"name": "list"})));
    let outdial_id = outdial["id"].as_str().expect("outdial id");
    let targets: Vec<Value> = (0..n)
        .map(|i| json!({"destination_0": format!("+1555011{i:04}")}))
        .collect();
    s.ok(
        "POST",
        &format!("/v1.0/outdials/{outdial_id}/targets"),
        Some(Value::Array(targets)),
    );
    let c = s.ok(
        "POST",
        "/v1.0/campaigns",
        Some(json!({
            "name": "faults", "type": "call", "end_handle": "stop",
            "outplan_id": outplan["id"], "outdial_id": outdial_id,
            "actions": [{"type": "sleep", "option": {"duration": hold_ms}}, {"type": "hangup"}],
        })),
    );
    c["id"].as_str().expect("campaign id").to_string()
}

fn run(s: &Server, id: &str) {
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
}

/// Polls `what` every 100 ms until it returns `Some`, for at most `within`.
fn wait_for<T>(within: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The Call-IDs of the INVITEs SIPp received, from its message logs (`-trace_msg`) in `dir`.
fn invites_seen(dir: &Path) -> HashSet<String> {
    let mut ids = HashSet::new();
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if !name.ends_with("_messages.log") {
            continue;
        }
        let log = std::fs::read_to_string(entry.path()).unwrap_or_default();
        let mut in_invite = false;
        for line in log.lines() {
            if line.starts_with("INVITE sip:") {
                in_invite = true;
            } else if in_invite && line.to_ascii_lowercase().starts_with("call-id:") {
                ids.insert(line[8..].trim().to_string());
                in_invite = false;
            }
        }
    }
    ids
}

/// Runs SQL statements on the database file from another connection, as an operator would;
/// returns the last one's first value, if it returns rows.
fn sql(db: &Path, statements: &[&str]) -> Option<i64> {
    use sqlx::{ConnectOptions, Row};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .busy_timeout(Duration::from_secs(10))
            .connect()
            .await
            .expect("open the database");
        let mut last = None;
        for statement in statements {
            last = sqlx::query(statement)
                .fetch_optional(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{statement}: {e}"))
                .and_then(|row| row.try_get::<i64, _>(0).ok());
        }
        last
    })
}

#[test]
fn a_full_database_stops_the_dialing_at_once_loses_nothing_and_resumes_when_there_is_room() {
    const MIB: u64 = 1 << 20;
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("ringmaster.db");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let mut s = Server::start(dir.path(), trunk, 1000);
    let n = 3000;
    let id = campaign(&s, n, 1, 0);
    s.stop();
    // The database is capped with room for a part of the campaign's attempts only, and holds
    // a filler table an operator can drop to make room.
    // The pages in use (free pages inside the file are used again before it grows).
    let size = sql(
        &db,
        &["SELECT (page_count - freelist_count) * page_size \
           FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()"],
    )
    .expect("size") as u64;
    // Half a MiB of room, then a filler of 28 MiB or more, enough for the rest of the
    // campaign with its events (each attempt records three, with the campaigncall as JSON).
    let cap = size / MIB + 30;
    let filler = cap * MIB - MIB / 2 - size;
    sql(
        &db,
        &[
            "CREATE TABLE filler (b BLOB)",
            &format!("INSERT INTO filler VALUES (zeroblob({filler}))"),
        ],
    );
    let capped = format!("max_size_mb = {cap}");
    s.configure(
        trunk,
        1000,
        &Extra {
            database: &capped,
            ..Extra::default()
        },
    );
    s.restart();
    run(&s, &id);

    let health = wait_for(Duration::from_secs(60), "the store to fail", || {
        let (code, body) = s.call("GET", "/health", None);
        (code == 503).then_some(body)
    });
    assert_eq!(health["store"]["writable"], false, "{health}");
    let reason = health["store"]["failure"]["reason"].as_str().unwrap_or("");
    assert!(reason.contains("full"), "{health}");
    let shown = s.ok("GET", &format!("/v1.0/campaigns/{id}"), None);
    assert_eq!(
        (shown["status"].as_str(), shown["paused"].as_bool()),
        (Some("run"), Some(true))
    );
    let why = shown["paused_reason"].as_str().unwrap_or("");
    assert!(why.contains("store cannot write"), "{shown}");
    // A write of the API either fits or says why it cannot be made.
    let (code, body) = s.call(
        "POST",
        "/v1.0/outplans",
        Some(json!({"name": "while full"})),
    );
    assert!(
        code == 200
            || (code == 503
                && body["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("cannot write"))),
        "{code} {body}"
    );
    // No new call is placed, and every INVITE the trunk got has its recorded attempt.
    std::thread::sleep(Duration::from_secs(2));
    let stats = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
    let attempts = stats["attempts"].as_u64().expect("attempts");
    assert!(
        attempts > 0 && (attempts as usize) < n,
        "filled part way: {stats}"
    );
    assert_eq!(
        invites_seen(dir.path()).len() as u64,
        attempts,
        "one recorded attempt per INVITE"
    );
    std::thread::sleep(Duration::from_secs(1));
    let later = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
    assert_eq!(
        later["attempts"], stats["attempts"],
        "nothing dialed while full"
    );

    // Room again: the writer notices by itself, writes what it kept, and dialing resumes.
    sql(&db, &["DROP TABLE filler"]);
    let done = s.wait_status(&id, "finished", Duration::from_secs(120));
    let (code, _) = s.call("GET", "/health", None);
    assert_eq!(code, 200);
    // Nothing of the failure is left holding a lock: the API writes again.
    s.ok("POST", "/v1.0/outplans", Some(json!({"name": "after"})));
    assert_eq!(
        done["attempts"].as_u64(),
        Some(n as u64),
        "each target once: {done}"
    );
    assert_eq!(invites_seen(dir.path()).len(), n, "each target dialed once");
    assert_eq!(done["succeeded"].as_u64(), Some(n as u64), "{done}");
}

#[test]
fn a_dead_trunk_pauses_the_campaign_without_using_up_tries_and_it_resumes_when_the_trunk_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args: [&str; 0] = [];
    let (sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &args);
    // T1 of 50 ms: an INVITE nobody answers fails after 3.2 s (timer B) instead of 32 s.
    let fast = Extra {
        sip: "t1_ms = 50",
        ..Extra::default()
    };
    let s = Server::start_extra(dir.path(), trunk, 20, &fast);
    let n = 40;
    let id = campaign(&s, n, 1, 300);
    run(&s, &id);
    std::thread::sleep(Duration::from_millis(700));
    drop(sipp);

    let shown = wait_for(Duration::from_secs(30), "the campaign to pause", || {
        let c = s.ok("GET", &format!("/v1.0/campaigns/{id}"), None);
        (c["paused"] == true).then_some(c)
    });
    let reason = shown["paused_reason"].as_str().unwrap_or_default();
    assert!(reason.starts_with("trunk down"), "{shown}");
    let (code, health) = s.call("GET", "/health", None);
    assert_eq!(code, 200, "a trunk down is not a store failure: {health}");
    assert_eq!(health["trunks"][0]["state"], "down", "{health}");
    let before = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
    std::thread::sleep(Duration::from_secs(3));
    let after = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
    assert_eq!(
        before["attempts"], after["attempts"],
        "no call placed while down"
    );
    // A call the trunk had taken (a 100 or 180 came back) when it died counts as a try; a
    // call it never answered does not.
    let rang = |st: &Value| st["dispositions"]["no_answer"].as_u64().unwrap_or(0);
    assert_eq!(after["failed"].as_u64(), Some(rang(&after)), "{after}");

    let _sipp = sipp_scenario_on(dir.path(), "uas_by_number.xml", trunk.port(), &args);
    let done = s.wait_status(&id, "finished", Duration::from_secs(60));
    let failed: Vec<String> = s
        .campaigncalls(&id)
        .iter()
        .filter(|c| c["disposition"] == "failed")
        .map(|c| {
            format!(
                "{} {} {}",
                c["outdial_target_id"], c["tm_update"], c["reason"]
            )
        })
        .collect();
    assert_eq!(
        (done["succeeded"].as_u64(), done["failed"].as_u64()),
        (Some(n as u64 - rang(&done)), Some(rang(&done))),
        "every target reached once the trunk answered again: {done} {failed:#?}"
    );
    let health = s.ok("GET", "/health", None);
    assert_eq!(health["trunks"][0]["state"], "up", "{health}");
}

/// Whether this process may make a mount namespace of its own (as root may).
fn can_unshare_mounts() -> bool {
    std::process::Command::new("unshare")
        .args(["-m", "true"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn a_database_that_cannot_be_written_is_refused_at_start_and_nothing_more_is_dialed() {
    // A read-only file does not stop root, who may write it anyway; a read-only mount does.
    if !can_unshare_mounts() {
        eprintln!("skipped: no mount namespace here to mount the database read-only");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (_sipp, trunk) = sipp_scenario(dir.path(), "uas_by_number.xml", &["-trace_msg"]);
    let mut s = Server::start(dir.path(), trunk, 20);
    let n = 120;
    let id = campaign(&s, n, 1, 200);
    run(&s, &id);
    wait_for(Duration::from_secs(30), "a part of the campaign", || {
        let stats = s.ok("GET", &format!("/v1.0/campaigns/{id}/stats"), None);
        (stats["attempts"].as_u64() >= Some(20)).then_some(())
    });
    // A crash mid-campaign, then a start on the same database, mounted read-only (its
    // directory bound onto itself read-only, in a mount namespace of the server's own).
    s.kill9();
    // SIPp writes each message to its log as it takes it: a moment for the last ones.
    std::thread::sleep(Duration::from_secs(1));
    let dialed = invites_seen(dir.path()).len();
    let started = std::process::Command::new("timeout")
        .args(["-k", "5", "30", "unshare", "-m", "sh", "-c"])
        .arg(
            "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" && \
             exec \"$1\" --config \"$2\" serve",
        )
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_ringmaster"))
        .arg(&s.config)
        .output()
        .expect("start on a read-only mount");
    let said = String::from_utf8_lossy(&started.stderr);
    assert_eq!(started.status.code(), Some(2), "{said}");
    // Either SQLite cannot open it, or it opens it read-only (it can read the file and the
    // `-shm` the crash left) and the first write is refused: closing the attempts the crash
    // left open.
    let db = dir.path().join("ringmaster.db");
    assert!(
        (said.contains("cannot open the database sqlite://")
            || said.contains("cannot recover after the last run in sqlite://"))
            && said.contains(&db.display().to_string())
            && said.contains("must be able to write"),
        "{said}"
    );
    // The refused node has exited; what it could have sent is logged by now, as above.
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(
        invites_seen(dir.path()).len(),
        dialed,
        "nothing dialed from a database that cannot record it"
    );

    // Writable again: the campaign goes on from where the crash left it, each target once.
    s.restart();
    let done = s.wait_status(&id, "finished", Duration::from_secs(60));
    assert_eq!(done["attempts"].as_u64(), Some(n as u64), "{done}");
    assert_eq!(invites_seen(dir.path()).len(), n, "each target dialed once");
}
