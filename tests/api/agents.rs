//! Agents: CRUD by their customer only, the write-only password, unique usernames, strict
//! fields, the status sub-resource and the live state and contacts the node reports.

use crate::helpers::{spawn_app, TestApp};
use ringmaster::domain::time::NEVER;
use serde_json::{json, Value};
use uuid::Uuid;

const PASSWORD: &str = "correct horse battery staple";
/// MD5("alice:ringmaster:correct horse battery staple").
const MD5_HA1: &str = "aa9db98a801760930fb557fc92a19292";
/// SHA-256 of the same.
const SHA256_HA1: &str = "93dcb93a30f953dc514d2ddbf64836e8bdd94c6b691012fd153b7a2e18188af0";

/// Fails if the password, or anything derived from it, shows anywhere in `body`.
fn assert_no_secret(body: &Value) {
    let text = body.to_string();
    for secret in [PASSWORD, "password_hashes", "ha1", MD5_HA1, SHA256_HA1] {
        assert!(!text.contains(secret), "{secret:?} in {text}");
    }
}

async fn create_alice(app: &TestApp) -> Value {
    app.a()
        .post(
            "/agents",
            &json!({
                "username": "alice",
                "password": PASSWORD,
                "name": "Alice",
                "detail": "day shift",
                "ring_method": "linear",
                "permission": 1,
                "tag_ids": ["d7450dda-21e0-4611-b09a-8d771c50a5e6"],
                "addresses": [{"type": "tel", "target": "(555) 555-0100"}, "sip:alice@example.com"]
            }),
        )
        .await
        .ok()
}

#[tokio::test]
async fn an_agent_is_created_read_listed_updated_and_deleted_by_its_customer_only() {
    let app = spawn_app().await;
    let a = app.a();
    let agent = create_alice(&app).await;
    assert_no_secret(&agent);
    let id = agent["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(agent["username"], "alice");
    assert_eq!(agent["ring_method"], "linear");
    assert_eq!(agent["permission"], 1);
    assert_eq!(agent["customer_id"], json!(app.customer_a));
    assert_eq!(agent["addresses"][0]["target"], "+15555550100");
    assert_eq!(agent["addresses"][1]["type"], "sip");
    assert_eq!(agent["status"], "offline", "no softphone registered");
    assert_eq!(agent["contacts"], json!([]));
    assert_eq!(agent["tm_update"], NEVER);

    let got = a.get(&format!("/agents/{id}")).await.ok();
    assert_no_secret(&got);
    assert_eq!(got["name"], "Alice");
    let listed = a.get("/agents").await.ok();
    assert_no_secret(&listed);
    assert_eq!(listed["result"][0]["id"], id.as_str());
    assert_eq!(app.b().get(&format!("/agents/{id}")).await.status, 404);
    assert_eq!(app.b().get("/agents").await.ok()["result"], json!([]));
    assert_eq!(
        app.b()
            .put(&format!("/agents/{id}"), &json!({"name": "x"}))
            .await
            .status,
        404
    );
    assert_eq!(app.b().delete(&format!("/agents/{id}")).await.status, 404);

    // A read answer sent back with one change: the live fields are ignored.
    let mut edited = got.clone();
    edited["name"] = json!("Alice B.");
    let updated = a.put(&format!("/agents/{id}"), &edited).await.ok();
    assert_no_secret(&updated);
    assert_eq!(updated["name"], "Alice B.");
    assert_ne!(updated["tm_update"], NEVER);
    let updated = a
        .put(
            &format!("/agents/{id}"),
            &json!({"password": "another one"}),
        )
        .await
        .ok();
    assert_no_secret(&updated);

    let deleted = a.delete(&format!("/agents/{id}")).await.ok();
    assert_no_secret(&deleted);
    assert_ne!(deleted["tm_delete"], NEVER);
    assert_eq!(a.get(&format!("/agents/{id}")).await.status, 404);
}

#[tokio::test]
async fn the_password_is_stored_only_as_digest_hashes() {
    let app = spawn_app().await;
    let agent = create_alice(&app).await;
    let stored = ringmaster::store::Docs(app.store.as_ref())
        .agent_by_username("alice")
        .await
        .expect("store read")
        .expect("alice stored");
    assert_eq!(
        stored.id.to_string(),
        agent["id"].as_str().unwrap_or_default()
    );
    let hashes = &stored.password_hashes;
    assert_eq!(hashes.realm, "ringmaster");
    assert_eq!(hashes.ha1_md5, MD5_HA1);
    assert_eq!(hashes.ha1_sha256, SHA256_HA1);
    let body = serde_json::to_string(&stored).unwrap_or_default();
    assert!(!body.contains(PASSWORD));
}

#[tokio::test]
async fn a_username_is_taken_once_on_the_node_until_its_agent_is_deleted() {
    let app = spawn_app().await;
    let first = create_alice(&app).await;
    let body = json!({"username": "alice", "password": "x"});
    for caller in [app.a(), app.b()] {
        let dup = caller.post("/agents", &body).await;
        assert_eq!(dup.status, 409, "{}", dup.body);
        assert!(
            dup.message().starts_with("username: alice is taken"),
            "{}",
            dup.body
        );
    }
    let bob = app
        .a()
        .post("/agents", &json!({"username": "bob", "password": "x"}))
        .await
        .ok();
    let bob_id = bob["id"].as_str().unwrap_or_default();
    let rename = app
        .a()
        .put(
            &format!("/agents/{bob_id}"),
            &json!({"username": "alice", "password": "y"}),
        )
        .await;
    assert_eq!(rename.status, 409, "{}", rename.body);
    let first_id = first["id"].as_str().unwrap_or_default();
    app.a().delete(&format!("/agents/{first_id}")).await.ok();
    app.b().post("/agents", &body).await.ok();
}

#[tokio::test]
async fn bad_agent_fields_are_refused_naming_them() {
    let app = spawn_app().await;
    let a = app.a();
    let cases = [
        (json!({"password": "x"}), "username: required"),
        (json!({"username": "carol"}), "password: required"),
        (
            json!({"username": "carol", "password": ""}),
            "password: must not be empty",
        ),
        (
            json!({"username": "carol", "password": 5}),
            "password: must be a string",
        ),
        (json!({"username": "a b", "password": "x"}), "username: "),
        (json!({"username": "a@b", "password": "x"}), "username: "),
        (
            json!({"username": "x".repeat(65), "password": "x"}),
            "username: longer than 64",
        ),
        (
            json!({"username": 7, "password": "x"}),
            "username: must be a string",
        ),
        (
            json!({"username": "carol", "password": "x", "ring_method": "hunt"}),
            "ring_method: ",
        ),
        (
            json!({"username": "carol", "password": "x", "tag_ids": ["nope"]}),
            "tag_ids[0]: must be a UUID",
        ),
        (
            json!({"username": "carol", "password": "x", "tag_ids": "nope"}),
            "tag_ids: ",
        ),
        (
            json!({"username": "carol", "password": "x", "permission": -1}),
            "permission: ",
        ),
        (
            json!({"username": "carol", "password": "x", "addresses": [{"type": "email", "target": "a@example.com"}]}),
            "addresses[0].type: email addresses cannot reach an agent",
        ),
        (
            json!({"username": "carol", "password": "x", "addresses": ["sip:evil\r\n@x"]}),
            "addresses[0]: ",
        ),
        (
            json!({"username": "carol", "password": "x", "skills": ["x"], "queue": 1}),
            "queue, skills: not supported",
        ),
        (
            json!({"username": "carol", "password": "x", "status": "available"}),
            "status: read only",
        ),
    ];
    for (body, prefix) in cases {
        a.post("/agents", &body).await.invalid(prefix);
    }
    let agent = create_alice(&app).await;
    let id = agent["id"].as_str().unwrap_or_default();
    a.put(&format!("/agents/{id}"), &json!({"username": "alice2"}))
        .await
        .invalid("password: required with a new username");
}

#[tokio::test]
async fn the_status_is_set_available_or_away_only() {
    let app = spawn_app().await;
    let agent = create_alice(&app).await;
    let id = agent["id"].as_str().unwrap_or_default();
    let path = format!("/agents/{id}/status");
    for status in ["available", "away"] {
        let answer = app.a().put(&path, &json!({"status": status})).await.ok();
        assert_eq!(
            answer["status"], "offline",
            "live state: nothing registered"
        );
    }
    for bad in [json!({"status": "busy"}), json!({"status": 1}), json!({})] {
        app.a().put(&path, &bad).await.invalid("status: ");
    }
    app.a()
        .put(&path, &json!({"status": "away", "name": "x"}))
        .await
        .invalid("name: not supported");
    assert_eq!(
        app.b().put(&path, &json!({"status": "away"})).await.status,
        404
    );
    let missing = format!("/agents/{}/status", Uuid::new_v4());
    assert_eq!(
        app.a()
            .put(&missing, &json!({"status": "away"}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn the_answers_show_the_live_state_and_contacts_the_node_reports() {
    use ringmaster::agent::{AgentLive, AgentState, Contact};
    let app = spawn_app().await;
    let agent = create_alice(&app).await;
    let id = Uuid::parse_str(agent["id"].as_str().unwrap_or_default()).unwrap_or_default();
    app.agents.set(
        id,
        AgentLive {
            state: AgentState::Busy,
            contacts: vec![Contact {
                uri: ringmaster::domain::SipUri::parse("sip:alice@127.0.0.1:5062")
                    .expect("a SIP URI"),
                expires_at: "2026-01-01 00:00:00.000000".into(),
                user_agent: "baresip".into(),
                flow: std::net::SocketAddr::from(([127, 0, 0, 1], 5062)),
                transport: ringmaster::sip::uri::TransportKind::Udp,
            }],
            ..AgentLive::offline()
        },
    );
    let got = app.a().get(&format!("/agents/{id}")).await.ok();
    assert_eq!(got["status"], "busy");
    assert_eq!(got["contacts"][0]["uri"], "sip:alice@127.0.0.1:5062");
    let listed = app.a().get("/agents").await.ok();
    assert_eq!(listed["result"][0]["status"], "busy");
}

#[tokio::test]
async fn the_store_refuses_a_second_live_agent_with_the_same_username() {
    // The guard behind the API's check, for two writes that pass it at once.
    let app = spawn_app().await;
    create_alice(&app).await;
    let docs = ringmaster::store::Docs(app.store.as_ref());
    let mut twin = docs
        .agent_by_username("alice")
        .await
        .expect("store read")
        .expect("alice stored");
    twin.id = Uuid::new_v4();
    let err = docs.put(&twin).await.expect_err("a second alice");
    assert!(err.is_duplicate(), "{err}");
    twin.tm_delete = "2026-01-01 00:00:00.000000".into();
    docs.put(&twin)
        .await
        .expect("a deleted twin takes no username");
}

#[tokio::test]
async fn the_voipbin_sub_resources_set_one_field_each() {
    let app = spawn_app().await;
    let a = app.a();
    let agent = create_alice(&app).await;
    let id = agent["id"].as_str().unwrap_or_default();
    let tag = Uuid::new_v4();
    let set = |field: &str| format!("/agents/{id}/{field}");
    let got = a
        .put(&set("tag_ids"), &json!({"tag_ids": [tag]}))
        .await
        .ok();
    assert_eq!(got["tag_ids"], json!([tag]));
    let got = a
        .put(&set("permission"), &json!({"permission": 32}))
        .await
        .ok();
    assert_eq!(got["permission"], 32);
    let got = a
        .put(
            &set("addresses"),
            &json!({"addresses": [{"type": "tel", "target": "+15559876543"}]}),
        )
        .await
        .ok();
    assert_eq!(got["addresses"][0]["target"], "+15559876543");
    let got = a
        .put(
            &set("password"),
            &json!({"password": "new_secure_password"}),
        )
        .await
        .ok();
    assert_no_secret(&got);
    assert_eq!(got["name"], "Alice", "the other fields stay");
    a.put(&set("permission"), &json!({"permission": 1, "name": "x"}))
        .await
        .invalid("name: not supported");
    a.put(&set("password"), &json!({}))
        .await
        .invalid("password: required");
    a.put(&set("tag_ids"), &json!({"tag_ids": ["x"]}))
        .await
        .invalid("tag_ids[0]: must be a UUID");
    assert_eq!(
        app.b()
            .put(&set("permission"), &json!({"permission": 1}))
            .await
            .status,
        404
    );
    let stored = ringmaster::store::Docs(app.store.as_ref())
        .agent_by_username("alice")
        .await
        .expect("store read")
        .expect("alice stored");
    assert_ne!(
        stored.password_hashes.ha1_md5, MD5_HA1,
        "the new password's hash"
    );
}
