//! Addresses over HTTP: every field is parsed, control characters and kinds a call campaign
//! cannot dial are refused with a 400 naming the field, valid ones come back as they went in.

use crate::helpers::spawn_app;
use serde_json::{json, Value};

/// What tried to add a header to the INVITE.
const INJECTION: &str = "evil\r\nP-Asserted-Identity: <sip:+18005551212@x>";

const FIELDS: [&str; 5] = ["type", "target", "target_name", "name", "detail"];

/// A valid address of `kind` with `field` replaced by the injection.
fn injected(kind: &str, target: &str, field: &str) -> Value {
    let mut a = json!({"type": kind, "target": target, "target_name": "Clinic"});
    a[field] = json!(INJECTION);
    a
}

#[tokio::test]
async fn a_line_break_in_any_field_of_an_outplan_source_is_a_400_naming_it() {
    let app = spawn_app().await;
    let a = app.a();
    for (kind, target) in [("sip", "sip:desk@127.0.0.1"), ("tel", "+15551234567")] {
        for field in FIELDS {
            let body = json!({"name": "p", "source": injected(kind, target, field)});
            let answer = a.post("/outplans", &body).await;
            answer.invalid(&format!("source.{field}: contains a control character"));
        }
    }
    // Nothing was stored, and an outplan being edited keeps its source.
    let plans = a.get("/outplans").await.ok();
    assert_eq!(plans["result"], json!([]));
    let plan = a
        .post(
            "/outplans",
            &json!({"source": {"type": "tel", "target": "+15551230000"}}),
        )
        .await
        .ok();
    let path = format!("/outplans/{}", plan["id"].as_str().expect("id"));
    let body = json!({"source": {"type": "sip", "target": INJECTION}});
    a.put(&path, &body)
        .await
        .invalid("source.target: contains a control character");
    let bare = json!({"source": "sip:desk@127.0.0.1\r\nX-Evil: 1"});
    a.put(&path, &bare)
        .await
        .invalid("source: contains a control character");
    assert_eq!(a.get(&path).await.ok()["source"]["target"], "+15551230000");
}

#[tokio::test]
async fn an_outplan_source_must_be_a_number_or_a_sip_uri() {
    let app = spawn_app().await;
    let a = app.a();
    let cases = [
        (
            json!({"type": "email", "target": "a@example.com"}),
            "source.type: email addresses cannot be dialed",
        ),
        (
            json!({"type": "sip", "target": "sip:sip:desk@127.0.0.1"}),
            "source.target: ",
        ),
        (
            json!({"type": "sip", "target": "sip:desk@h?P-Asserted-Identity=x"}),
            "source.target: URI headers",
        ),
        (json!("sip:a b@h"), "source: "),
        (
            json!({"type": "fax", "target": "1"}),
            "source.type: unknown address type",
        ),
    ];
    for (source, want) in cases {
        a.post("/outplans", &json!({"source": source}))
            .await
            .invalid(want);
    }
    let plan = a
        .post(
            "/outplans",
            &json!({"source": {"type": "sip", "target": "sips:desk@clinic.example.com", "target_name": "The \"Clinic\""}}),
        )
        .await
        .ok();
    assert_eq!(
        plan["source"],
        json!({"type": "sip", "target": "sips:desk@clinic.example.com", "target_name": "The \"Clinic\"", "name": "", "detail": ""})
    );
}

#[tokio::test]
async fn a_line_break_in_any_field_of_a_destination_is_a_400_naming_it() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    for slot in ["destination_0", "destination_3"] {
        for field in FIELDS {
            let mut body = json!({"destination_0": "+15551234567"});
            body[slot] = injected("tel", "+15559876543", field);
            a.post(&path, &body)
                .await
                .invalid(&format!("{slot}.{field}: contains a control character"));
        }
    }
    let page = a.get(&path).await.ok();
    assert_eq!(page["result"], json!([]));
}

#[tokio::test]
async fn destinations_a_call_campaign_cannot_dial_are_refused_at_creation() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let agent = uuid::Uuid::new_v4().to_string();
    let cases = [
        (
            "email",
            "jane@example.com",
            "destination_0.type: email addresses cannot be dialed",
        ),
        (
            "agent",
            agent.as_str(),
            "destination_0.type: agent addresses cannot be dialed by a call campaign yet",
        ),
        (
            "extension",
            "2001",
            "destination_0.type: extension addresses cannot be dialed by a call campaign yet",
        ),
        (
            "conference",
            "c-1",
            "destination_0.type: conference addresses cannot be dialed",
        ),
    ];
    for (kind, target, want) in cases {
        let body = json!({"destination_0": {"type": kind, "target": target}});
        a.post(&path, &body).await.invalid(want);
    }
    // In a bulk import the row is reported, naming the field, and the others are created.
    let report = a
        .post(
            &path,
            &json!([
                {"destination_0": {"type": "email", "target": "jane@example.com"}},
                {"destination_0": {"type": "tel", "target": "+15551234567"}},
            ]),
        )
        .await
        .ok();
    assert_eq!(report["created"], 1);
    let reason = report["skipped_invalid"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.starts_with("destination_0.type: email"), "{reason}");
}

#[tokio::test]
async fn a_sip_destination_is_stored_and_answered_as_given() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let destination = json!({
        "type": "sip",
        "target": "sip:alice@127.0.0.1:5080",
        "target_name": "Alice",
        "name": "",
        "detail": "",
    });
    let target = a
        .post(&path, &json!({"destination_0": destination}))
        .await
        .ok();
    assert_eq!(target["destination_0"], destination);
    let id = target["id"].as_str().expect("id");
    let read = a.get(&format!("{path}/{id}")).await.ok();
    assert_eq!(read["destination_0"], destination);
    // The same URI as a bare string is a duplicate of it.
    let again = a
        .post(&path, &json!({"destination_0": "sip:alice@127.0.0.1:5080"}))
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    a.post(
        &path,
        &json!({"destination_0": "sip:sip:alice@127.0.0.1:5080"}),
    )
    .await
    .invalid("destination_0: ");
}

#[tokio::test]
async fn a_csv_cell_with_a_line_break_is_reported_naming_its_column() {
    let app = spawn_app().await;
    let a = app.a();
    let outdial = a.outdial().await;
    let path = format!("/outdials/{outdial}/targets");
    let csv = "phone_number,destination_1,name\n\
        +15551234567,\"sip:bob@127.0.0.1\r\nX-Evil: 1\",Bob\n\
        +15559876543,sip:carol@127.0.0.1:5090,Carol\n";
    let report = a.post_raw(&path, "text/csv", csv).await.ok();
    assert_eq!(report["created"], 1, "{report}");
    let reason = report["skipped_invalid"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(reason, "destination_1: contains a control character");
}
