//! Recordings: listed (paged, filtered by campaign and campaigncall), read, their WAV served
//! and deleted by their customer only; one under way is neither served nor deleted.

use crate::helpers::{spawn_app, TestApp, TOKEN_A};
use ringmaster::domain::time::{now_string, NEVER};
use ringmaster::domain::{Recording, RecordingStatus};
use ringmaster::store::Store;
use uuid::Uuid;

/// Stores a recording of customer A whose file is `path`.
async fn stored(
    app: &TestApp,
    campaign: Uuid,
    call: Uuid,
    status: RecordingStatus,
    path: &std::path::Path,
) -> Recording {
    let now = now_string();
    let r = Recording {
        id: Uuid::new_v4(),
        customer_id: app.customer_a,
        campaign_id: campaign,
        campaigncall_id: call,
        queue_id: Uuid::new_v4(),
        agent_id: Uuid::new_v4(),
        format: "wav".into(),
        status,
        reason: String::new(),
        channels: 2,
        duration_ms: 1000,
        size: 44 + 32_000,
        tm_start: now.clone(),
        tm_end: if status == RecordingStatus::Recording {
            NEVER.into()
        } else {
            now.clone()
        },
        tm_create: now.clone(),
        tm_update: now,
        tm_delete: NEVER.into(),
        path: path.to_string_lossy().into_owned(),
    };
    app.store.put_recording(&r).await.expect("stored");
    r
}

#[tokio::test]
async fn recordings_are_listed_filtered_read_served_and_deleted_by_their_customer_only() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (campaign, other_campaign) = (Uuid::new_v4(), Uuid::new_v4());
    let (call1, call2) = (Uuid::new_v4(), Uuid::new_v4());
    let wav: Vec<u8> = ringmaster::media::recording::header(8)
        .iter()
        .copied()
        .chain([1, 0, 2, 0, 3, 0, 4, 0])
        .collect();
    let file1 = dir.path().join("one.wav");
    std::fs::write(&file1, &wav).expect("file");
    let first = stored(&app, campaign, call1, RecordingStatus::Finished, &file1).await;
    let second = stored(
        &app,
        campaign,
        call2,
        RecordingStatus::Finished,
        &dir.path().join("two.wav"),
    )
    .await;
    let live = stored(
        &app,
        other_campaign,
        Uuid::new_v4(),
        RecordingStatus::Recording,
        &dir.path().join("three.wav"),
    )
    .await;
    let a = app.a();

    // Newest first, paged.
    let page = a.get("/recordings?page_size=2").await.ok();
    let ids: Vec<&str> = page["result"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert_eq!(ids, [live.id.to_string(), second.id.to_string()]);
    let token = page["next_page_token"].as_str().expect("a token");
    assert!(!token.is_empty());
    let rest = a
        .get(&format!("/recordings?page_size=2&page_token={token}"))
        .await
        .ok();
    assert_eq!(rest["result"][0]["id"], first.id.to_string());
    assert_eq!(rest["next_page_token"], "");

    // Filters.
    let of_campaign = a
        .get(&format!("/recordings?campaign_id={campaign}"))
        .await
        .ok();
    assert_eq!(of_campaign["result"].as_array().map(Vec::len), Some(2));
    let of_call = a
        .get(&format!("/recordings?campaigncall_id={call1}"))
        .await
        .ok();
    assert_eq!(of_call["result"].as_array().map(Vec::len), Some(1));
    assert_eq!(of_call["result"][0]["id"], first.id.to_string());
    a.get("/recordings?campaign_id=nope")
        .await
        .invalid("campaign_id");

    // One, its metadata; the node's path is not shown.
    let one = a.get(&format!("/recordings/{}", first.id)).await.ok();
    assert_eq!(one["campaigncall_id"], call1.to_string());
    assert_eq!(one["agent_id"], first.agent_id.to_string());
    assert_eq!(one["status"], "finished");
    assert_eq!(one["format"], "wav");
    assert_eq!(one["channels"], 2);
    assert_eq!(one["duration_ms"], 1000);
    assert_eq!(one["size"], 32_044);
    assert!(one.get("path").is_none(), "{one}");

    // The file.
    let url = format!(
        "{}?token={TOKEN_A}",
        app.url(&format!("/recordings/{}/file", first.id))
    );
    let response = app.client.get(&url).send().await.expect("file request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("audio/wav")
    );
    assert_eq!(response.bytes().await.expect("body").as_ref(), &wav[..]);
    // A file gone from the disk is not found; one under way is not served yet.
    assert_eq!(
        a.get(&format!("/recordings/{}/file", second.id))
            .await
            .status,
        404
    );
    assert_eq!(
        a.get(&format!("/recordings/{}/file", live.id)).await.status,
        409
    );

    // Another customer sees none of it.
    let b = app.b();
    assert_eq!(
        b.get("/recordings").await.ok()["result"],
        serde_json::json!([])
    );
    assert_eq!(
        b.get(&format!("/recordings/{}", first.id)).await.status,
        404
    );
    assert_eq!(
        b.get(&format!("/recordings/{}/file", first.id))
            .await
            .status,
        404
    );
    assert_eq!(
        b.delete(&format!("/recordings/{}", first.id)).await.status,
        404
    );

    // Deleted: the file goes, the recording is no longer listed.
    assert_eq!(
        a.delete(&format!("/recordings/{}", live.id)).await.status,
        409
    );
    let deleted = a.delete(&format!("/recordings/{}", first.id)).await.ok();
    assert_ne!(deleted["tm_delete"], NEVER);
    assert!(!file1.exists());
    assert_eq!(
        a.get(&format!("/recordings/{}", first.id)).await.status,
        404
    );
    let all = a.get("/recordings").await.ok();
    assert_eq!(all["result"].as_array().map(Vec::len), Some(2));
}
