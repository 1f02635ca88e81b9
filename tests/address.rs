//! Addresses over real SIP: `ringmaster serve` dials a SIPp trunk for a campaign whose targets
//! are a SIP URI and a number, with a SIP URI as caller id, and SIPp's message log shows what
//! reached the carrier.

// Shared with tests/campaign.rs, which uses the rest of it.
#[allow(dead_code)]
#[path = "campaign/helpers.rs"]
mod helpers;

use helpers::{sipp_scenario, Server};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The INVITEs SIPp logged as received, each as its lines.
fn invites(log: &str) -> Vec<Vec<String>> {
    let log = format!("\n{log}");
    log.split("\n-----------------------------------------------")
        .filter_map(|block| {
            let mut lines = block.lines().skip(1); // the rest of the dashes line: a timestamp
            if !lines.next()?.contains("message received") {
                return None;
            }
            let message: Vec<String> = lines
                .skip_while(|l| l.trim().is_empty())
                .map(|l| l.trim_end().to_string())
                .collect();
            message.first()?.starts_with("INVITE ").then_some(message)
        })
        .collect()
}

fn header<'a>(message: &'a [String], name: &str) -> Option<&'a str> {
    message.iter().skip(1).find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

#[test]
fn a_sip_uri_target_is_the_request_uri_and_an_injected_source_never_reaches_the_carrier() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("messages.log");
    let log_arg = log.display().to_string();
    let (sipp, trunk) = sipp_scenario(
        dir.path(),
        "uas_by_number.xml",
        &["-trace_msg", "-message_file", &log_arg],
    );
    let s = Server::start(dir.path(), trunk, 50);

    // The source that put a P-Asserted-Identity into the INVITE is refused when written.
    let injected = json!({"name": "injected", "source": {
        "type": "sip",
        "target": "evil\r\nP-Asserted-Identity: <sip:+18005551212@x>",
    }});
    let (status, body) = s.call("POST", "/v1.0/outplans", Some(injected));
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "source.target: contains a control character"
    );

    let plan = s.ok(
        "POST",
        "/v1.0/outplans",
        Some(
            json!({"name": "by uri", "dial_timeout": 3000, "max_try_count_0": 1,
                    "source": {"type": "sip", "target": "sip:desk@clinic.example.com",
                               "target_name": "The \"Clinic\""}}),
        ),
    );
    let outdial = s.ok("POST", "/v1.0/outdials", Some(json!({"name": "uris"})));
    let outdial_id = outdial["id"].as_str().expect("outdial id");
    let alice = format!("sip:alice@127.0.0.1:{}", trunk.port());
    for destination in [
        json!({"type": "sip", "target": alice}),
        json!({"type": "tel", "target": "+15550110001"}),
    ] {
        s.ok(
            "POST",
            &format!("/v1.0/outdials/{outdial_id}/targets"),
            Some(json!({"destination_0": destination})),
        );
    }
    let campaign = s.ok(
        "POST",
        "/v1.0/campaigns",
        Some(json!({"name": "uris", "type": "call", "end_handle": "stop",
                    "actions": [{"type": "hangup"}],
                    "outplan_id": plan["id"], "outdial_id": outdial_id})),
    );
    let id = campaign["id"].as_str().expect("campaign id");
    s.ok(
        "PUT",
        &format!("/v1.0/campaigns/{id}/status"),
        Some(json!({"status": "run"})),
    );
    let stats = s.wait_status(id, "finished", Duration::from_secs(30));
    assert_eq!(stats["succeeded"], 2, "{stats}");
    let calls = s.campaigncalls(id);
    let dialed: Vec<&Value> = calls.iter().map(|c| &c["destination"]["target"]).collect();
    assert!(dialed.contains(&&json!(alice)), "{dialed:?}");

    // SIPp writes its log as it goes; wait until both INVITEs are in it, then stop it.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        seen = invites(&std::fs::read_to_string(&log).unwrap_or_default());
        if seen.len() >= 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(sipp);
    let lines: Vec<&str> = seen.iter().map(|m| m[0].as_str()).collect();
    let port = trunk.port();
    assert!(
        lines.contains(&format!("INVITE {alice} SIP/2.0").as_str()),
        "the SIP URI is the Request-URI as given: {lines:?}"
    );
    assert!(
        lines.contains(&format!("INVITE sip:+15550110001@127.0.0.1:{port} SIP/2.0").as_str()),
        "a number is dialed at the trunk: {lines:?}"
    );
    for invite in &seen {
        let from = header(invite, "From").expect("From");
        assert!(
            from.starts_with(r#""The \"Clinic\"" <sip:desk@clinic.example.com>;tag="#),
            "{from}"
        );
        assert_eq!(
            header(invite, "P-Asserted-Identity"),
            None,
            "the trunk asserts no identity: {invite:?}"
        );
    }
}

/// Addresses stored before they were checked: migration 0006 clears the ones holding a control
/// character, so that they read again (the typed reading refuses them).
#[tokio::test]
async fn migration_0006_clears_stored_sources_with_control_characters() {
    use ringmaster::domain::time::NEVER;
    use ringmaster::domain::{Address, Outplan};
    use ringmaster::store::{Docs, SqliteStore};
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("old.db").display());
    let store = SqliteStore::open(&url).await.expect("open store");
    let plan: Outplan = serde_json::from_value(json!({
        "id": uuid::Uuid::new_v4(), "customer_id": uuid::Uuid::new_v4(), "name": "old",
        "detail": "", "source": {"type": "tel", "target": "+15551234567"},
        "dial_timeout": 30000, "try_interval": 60000, "max_try_count_0": 1,
        "max_try_count_1": 0, "max_try_count_2": 0, "max_try_count_3": 0, "max_try_count_4": 0,
        "retry_dispositions": ["busy"], "backoff": 1.0,
        "tm_create": NEVER, "tm_update": NEVER, "tm_delete": NEVER,
    }))
    .expect("an outplan");
    Docs(&store).put(&plan).await.expect("put");
    let pool = sqlx::SqlitePool::connect(&url).await.expect("connect");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE version = 6")
            .fetch_one(&pool)
            .await
            .expect("migrations table");
    assert_eq!(applied, 1, "opening the store applies 0006");
    // What an older version stored for an injecting source.
    sqlx::query(
        "UPDATE documents SET body = json_set(body, '$.source.type', 'sip', \
         '$.source.target', 'evil' || char(13, 10) || 'P-Asserted-Identity: <sip:x@y>')",
    )
    .execute(&pool)
    .await
    .expect("store the old form");
    assert!(Docs(&store).get::<Outplan>(None, plan.id).await.is_err());
    let migration =
        include_str!("../migrations/sqlite/0006_addresses_without_control_characters.sql");
    sqlx::raw_sql(migration)
        .execute(&pool)
        .await
        .expect("migration 0006");
    let read = Docs(&store)
        .get::<Outplan>(None, plan.id)
        .await
        .expect("reads again")
        .expect("still there");
    assert_eq!(read.source, Address::default());
}
