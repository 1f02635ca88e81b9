//! A real server per test: a fresh SQLite file in a temporary directory, two customers with a
//! token each, the API bound to 127.0.0.1:0, and a small client speaking to it over HTTP.

use ringmaster::agent::AgentBoard;
use ringmaster::api::{serve, ApiLimits, ApiState, Live};
use ringmaster::campaign::Control;
use ringmaster::domain::time::{now_string, NEVER};
use ringmaster::domain::{Address, CallStatus, CampaignStatus, Campaigncall};
use ringmaster::queue::QueueBoard;
use ringmaster::store::SqliteStore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use uuid::Uuid;

/// Token of customer A.
pub const TOKEN_A: &str = "token-customer-a";
/// Token of customer B.
pub const TOKEN_B: &str = "token-customer-b";
/// The token `GET /metrics` asks for in these tests.
pub const METRICS_TOKEN: &str = "metrics-scraper-token";
/// The one configured trunk.
pub const TRUNK: &str = "carrier";

/// A control that remembers what it was told.
#[derive(Default)]
pub struct RecordingControl(Mutex<Vec<(Uuid, CampaignStatus)>>);

impl RecordingControl {
    /// Everything told so far.
    pub fn told(&self) -> Vec<(Uuid, CampaignStatus)> {
        self.0.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Control for RecordingControl {
    fn status_changed(&self, campaign_id: Uuid, status: CampaignStatus) {
        if let Ok(mut v) = self.0.lock() {
            v.push((campaign_id, status));
        }
    }
}

/// The running API and what the tests reach behind it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub origin: String,
    /// Customer A's id.
    pub customer_a: Uuid,
    /// The store, to play the dialing engine.
    pub store: Arc<SqliteStore>,
    /// What the API told the engine.
    pub control: Arc<RecordingControl>,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The agents' live states the API answers, to play the agents' actors.
    pub agents: Arc<AgentBoard>,
    /// The queues' live calls the API answers, to play the queues' actors.
    pub queues: Arc<QueueBoard>,
    _dir: TempDir,
}

/// An answer: status and JSON body (`null` when the body is not JSON).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl Answer {
    /// The `message` of an error answer.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// Asserts a 200 and returns the body.
    pub fn ok(self) -> Value {
        assert_eq!(self.status, 200, "{}", self.body);
        self.body
    }

    /// Asserts a 400 whose message starts with `prefix` (the field it names).
    pub fn invalid(&self, prefix: &str) {
        assert_eq!(self.status, 400, "{}", self.body);
        assert!(
            self.message().starts_with(prefix),
            "message {:?} does not start with {prefix:?}",
            self.message()
        );
    }
}

/// Starts the API.
pub async fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("ringmaster.db").display());
    let store = Arc::new(SqliteStore::open(&url).await.expect("open store"));
    let control = Arc::new(RecordingControl::default());
    let customer_a = Uuid::new_v4();
    let agents = Arc::new(AgentBoard::default());
    let queues = Arc::new(QueueBoard::default());
    let state = ApiState {
        store: store.clone(),
        control: control.clone(),
        tokens: HashMap::from([
            (TOKEN_A.to_string(), customer_a),
            (TOKEN_B.to_string(), Uuid::new_v4()),
        ]),
        default_region: "US".into(),
        trunks: vec![TRUNK.into()],
        health: Default::default(),
        limits: ApiLimits {
            concurrent_imports: 1,
            ..ApiLimits::default()
        },
        live: Live {
            agents: agents.clone(),
            queues: queues.clone(),
            ..Live::default()
        },
        realm: ringmaster::agent::password::DEFAULT_REALM.into(),
        events: Default::default(),
        metrics_token: Some(METRICS_TOKEN.into()),
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    let port = listener.local_addr().expect("local address").port();
    let server = serve(listener, state).await.expect("serve");
    tokio::spawn(server);
    TestApp {
        origin: format!("http://127.0.0.1:{port}"),
        customer_a,
        store,
        control,
        client: reqwest::Client::new(),
        agents,
        queues,
        _dir: dir,
    }
}

impl TestApp {
    /// Requests as customer A.
    pub fn a(&self) -> Caller<'_> {
        Caller {
            app: self,
            token: TOKEN_A,
        }
    }

    /// Requests as customer B.
    pub fn b(&self) -> Caller<'_> {
        Caller {
            app: self,
            token: TOKEN_B,
        }
    }

    /// The URL of an API path, without a token.
    pub fn url(&self, path: &str) -> String {
        format!("{}/v1.0{path}", self.origin)
    }
}

/// Sends a request and reads the answer.
pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body read");
    Answer {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// One customer's requests, with `?token=`.
pub struct Caller<'a> {
    app: &'a TestApp,
    token: &'a str,
}

impl Caller<'_> {
    fn url(&self, path: &str) -> String {
        let sep = if path.contains('?') { '&' } else { '?' };
        format!("{}{sep}token={}", self.app.url(path), self.token)
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Answer {
        answer(self.app.client.get(self.url(path))).await
    }

    /// `POST` with a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Answer {
        answer(self.app.client.post(self.url(path)).json(body)).await
    }

    /// `POST` with a raw body and content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> Answer {
        let request = self
            .app
            .client
            .post(self.url(path))
            .header("Content-Type", content_type)
            .body(body.to_string());
        answer(request).await
    }

    /// `PUT` with a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Answer {
        answer(self.app.client.put(self.url(path)).json(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Answer {
        answer(self.app.client.delete(self.url(path))).await
    }

    /// Creates an outplan with defaults; returns its id.
    pub async fn outplan(&self) -> String {
        id_of(self.post("/outplans", &json!({"name": "plan"})).await)
    }

    /// Creates an outdial; returns its id.
    pub async fn outdial(&self) -> String {
        id_of(self.post("/outdials", &json!({"name": "list"})).await)
    }

    /// Creates a queue with defaults; returns its id.
    pub async fn queue(&self) -> String {
        id_of(self.post("/queues", &json!({"name": "queue"})).await)
    }

    /// Creates a call campaign over a new outplan and outdial; returns the campaign.
    pub async fn campaign(&self) -> Value {
        let (outplan, outdial) = (self.outplan().await, self.outdial().await);
        self.post(
            "/campaigns",
            &json!({"name": "c", "outplan_id": outplan, "outdial_id": outdial}),
        )
        .await
        .ok()
    }
}

impl Caller<'_> {
    /// Adds one target with this number to an outdial; returns the target.
    pub async fn target(&self, outdial: &str, number: &str) -> Value {
        self.post(
            &format!("/outdials/{outdial}/targets"),
            &json!({"destination_0": {"type": "tel", "target": number}}),
        )
        .await
        .ok()
    }

    /// A call campaign whose outdial holds one target, so that it can run.
    pub async fn runnable_campaign(&self) -> Value {
        let c = self.campaign().await;
        self.target(c["outdial_id"].as_str().unwrap_or_default(), "+15551234567")
            .await;
        c
    }
}

/// The `id` of a created resource.
pub fn id_of(answer: Answer) -> String {
    answer.ok()["id"].as_str().expect("an id").to_string()
}

/// An attempt of `campaign` on `target` (both as the API answers them) dialing `phone`, as
/// the dialing engine begins one, for tests that play the engine's writes.
pub fn dialing_call(customer: Uuid, campaign: &Value, target: &Value, phone: &str) -> Campaigncall {
    let uuid = |v: &Value| Uuid::parse_str(v.as_str().unwrap_or_default()).expect("a uuid");
    Campaigncall {
        id: Uuid::now_v7(),
        customer_id: customer,
        campaign_id: uuid(&campaign["id"]),
        outplan_id: uuid(&campaign["outplan_id"]),
        outdial_id: uuid(&campaign["outdial_id"]),
        outdial_target_id: uuid(&target["id"]),
        queue_id: Uuid::nil(),
        reference_type: "call".into(),
        reference_id: String::new(),
        sip_call_id: String::new(),
        status: CallStatus::Dialing,
        result: String::new(),
        source: Address::default(),
        caller_id: String::new(),
        destination: Address::tel(phone.parse().expect("E.164")),
        destination_index: 0,
        try_count: 1,
        disposition: None,
        sip_code: None,
        reason: String::new(),
        hangup_by: None,
        setup_ms: 0,
        talk_ms: 0,
        flow_result: None,
        agent_id: None,
        wait_ms: None,
        amd_result: None,
        tm_create: now_string(),
        tm_update: NEVER.into(),
        tm_delete: NEVER.into(),
    }
}
