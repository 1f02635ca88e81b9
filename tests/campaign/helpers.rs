//! Fixtures for campaign tests: a SIPp trunk, a `ringmaster serve` process on a fresh SQLite
//! file, and a minimal HTTP client for its REST API.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const TOKEN: &str = "campaign-test-token";

#[path = "../support/ports.rs"]
mod ports;
pub use ports::free_port;

/// Ports for baresip: SIP, and the first of two for RTP (see [`ports::sip_and_rtp`]).
#[allow(dead_code)] // used by the tests with baresip
pub fn baresip_ports() -> (u16, u16) {
    ports::sip_and_rtp()
}

/// A child process killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.0.try_wait() {
            return; // ended by itself (SIPp with -m)
        }
        // SIGTERM first: `timeout` passes it on to the SIPp it runs, and ringmaster stops
        // cleanly on it. SIGKILL if it has not ended in five seconds.
        let _ = Command::new("kill").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// SIPp playing the trunk with `uas_by_number.xml` (see the scenario for the number plan).
pub fn sipp_trunk(dir: &Path) -> (Proc, SocketAddr) {
    sipp_scenario(dir, "uas_by_number.xml", &[])
}

/// SIPp playing the trunk with one of `sip-test/scenarios/` (or a scenario file at an
/// absolute path), with extra arguments.
pub fn sipp_scenario(dir: &Path, scenario: &str, args: &[&str]) -> (Proc, SocketAddr) {
    start_sipp(dir, scenario, None, args)
}

/// [`sipp_scenario`] on a given port (to start a trunk again where it was).
#[allow(dead_code)] // not every test binary starts a trunk again
pub fn sipp_scenario_on(
    dir: &Path,
    scenario: &str,
    port: u16,
    args: &[&str],
) -> (Proc, SocketAddr) {
    start_sipp(dir, scenario, Some(port), args)
}

/// Starts SIPp in `dir` and waits until it has bound its SIP port and is still running a
/// moment later, or has ended by itself (a client done with its calls: the test judges
/// them). SIPp exits at start when one of its ports (SIP, control, audio, video) was taken
/// since it was checked; it is then started again on fresh ones (the SIP port kept when
/// given), at most five times. Its stderr is kept in `dir/sipp-PORT.stderr`.
fn start_sipp(dir: &Path, scenario: &str, port: Option<u16>, args: &[&str]) -> (Proc, SocketAddr) {
    // An absolute path replaces the directory.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sip-test/scenarios")
        .join(scenario);
    let mut exits = Vec::new();
    for _ in 0..5 {
        let sip = port.unwrap_or_else(free_port);
        let stderr_path = dir.join(format!("sipp-{sip}.stderr"));
        let stderr = std::fs::File::create(&stderr_path).expect("SIPp stderr file");
        let child = Command::new("timeout")
            .args(["300", "sipp", "-sf"])
            .arg(&path)
            .args(["-i", "127.0.0.1", "-nostdin", "-p"])
            .arg(sip.to_string())
            .arg("-cp")
            .arg(free_port().to_string())
            .arg("-mp")
            .arg(ports::sipp_media_port().to_string())
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start sipp (Debian package sip-tester)");
        let mut sipp = Proc(child);
        let at = SocketAddr::from(([127, 0, 0, 1], sip));
        let status = match ports::wait_bound(&mut sipp.0, sip, false, Duration::from_millis(100)) {
            ports::Start::Bound => return (sipp, at),
            ports::Start::Exited(status) => status,
            ports::Start::TimedOut => {
                panic!("SIPp ({scenario}) did not bind port {sip} within 10 s")
            }
        };
        let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        if !said.contains("Address already in use") {
            if !status.success() {
                // Shown with the test's output if it fails.
                eprintln!("SIPp ({scenario}) ended at start with {status}: {said}");
            }
            return (sipp, at);
        }
        exits.push(format!("port {sip}: {status}: {}", said.trim()));
        // A given port may still be held by the SIPp stopped before: give it a moment.
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!(
        "SIPp ({scenario}) found a port taken five times:\n{}",
        exits.join("\n")
    );
}

/// Settings added to sections of the test config (TOML lines).
#[derive(Default)]
pub struct Extra<'a> {
    /// `[sip]`.
    pub sip: &'a str,
    /// `[database]`.
    pub database: &'a str,
    /// `[[trunk]]`.
    pub trunk: &'a str,
}

/// A `ringmaster serve` process and where its API is.
pub struct Server {
    pub proc: Option<Proc>,
    pub api: SocketAddr,
    pub config: PathBuf,
}

impl Server {
    /// Writes a config for `trunk` under `dir` and starts serving.
    pub fn start(dir: &Path, trunk: SocketAddr, max_cps: u32) -> Server {
        Server::start_with(dir, trunk, max_cps, "")
    }

    /// [`start`](Self::start) with more `[[trunk]]` settings (TOML lines).
    pub fn start_with(dir: &Path, trunk: SocketAddr, max_cps: u32, trunk_extra: &str) -> Server {
        let extra = Extra {
            trunk: trunk_extra,
            ..Extra::default()
        };
        Server::start_extra(dir, trunk, max_cps, &extra)
    }

    /// [`start`](Self::start) with more settings in some sections.
    pub fn start_extra(dir: &Path, trunk: SocketAddr, max_cps: u32, extra: &Extra) -> Server {
        let api = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let config = dir.join("ringmaster.toml");
        let mut s = Server {
            proc: None,
            api,
            config,
        };
        s.configure(trunk, max_cps, extra);
        s.restart();
        s
    }

    /// Writes the config (the API keeps its address), for the next (re)start.
    pub fn configure(&self, trunk: SocketAddr, max_cps: u32, extra: &Extra) {
        let db = self.config.with_file_name("ringmaster.db");
        let Extra {
            sip,
            database,
            trunk: trunk_extra,
        } = extra;
        let api = self.api;
        // A test that needs the SIP port known gives its own `listen`.
        let listen = if sip.contains("listen =") {
            ""
        } else {
            "listen = \"127.0.0.1:0\"\n"
        };
        std::fs::write(
            &self.config,
            format!(
                "[sip]\n{listen}{sip}\n\n[api]\nlisten = \"{api}\"\n\n[database]\nurl = \"sqlite://{}\"\n{database}\n\n\
                 [[auth.tokens]]\ntoken = \"{TOKEN}\"\ncustomer_id = \"7a1b2c3d-4e5f-6789-abcd-ef0123456789\"\n\n\
                 [[trunk]]\nname = \"sipp\"\nuri = \"sip:{trunk}\"\nmax_cps = {max_cps}\nmax_concurrent = 200\nkeepalive_secs = 0\n{trunk_extra}",
                db.display()
            ),
        )
        .expect("write config");
    }

    /// Stops the process with SIGTERM (a clean stop) and waits for it.
    #[allow(dead_code)] // not every test binary stops a server
    pub fn stop(&mut self) {
        self.proc.take();
    }

    /// (Re)starts the process on the same config and database, waiting for the API.
    pub fn restart(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_ringmaster"))
            .arg("--config")
            .arg(&self.config)
            .arg("serve")
            .stdout(Stdio::null())
            // RINGMASTER_TEST_LOGS=1 shows the server's log (with RINGMASTER_LOG for the level).
            .stderr(if std::env::var_os("RINGMASTER_TEST_LOGS").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("start ringmaster serve");
        self.proc = Some(Proc(child));
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(self.api).is_err() {
            assert!(Instant::now() < deadline, "the API never came up");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the process with SIGKILL, as a crash would.
    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = Command::new("kill")
                .arg("-9")
                .arg(p.0.id().to_string())
                .status();
            let _ = p.0.wait();
            std::mem::forget(p);
        }
    }

    /// One API call; returns the status and the JSON body (Null when empty).
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path}{sep}token={TOKEN} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.api,
            body.len()
        );
        let mut stream = TcpStream::connect(self.api).expect("connect to the API");
        stream.write_all(request.as_bytes()).expect("send request");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read response");
        let status = response
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let body = response
            .split_once("\r\n\r\n")
            .map(|(_, b)| b)
            .unwrap_or("");
        let body = decode_chunked(body);
        (status, serde_json::from_str(&body).unwrap_or(Value::Null))
    }

    /// A call that must answer 2xx.
    /// Creates an agent from `body` (`POST /v1.0/agents`), sets it available; its id.
    #[allow(dead_code)] // used by the tests with agents
    pub fn available_agent(&self, body: Value) -> String {
        let agent = self.ok("POST", "/v1.0/agents", Some(body));
        let id = agent["id"].as_str().expect("an id").to_string();
        self.ok(
            "PUT",
            &format!("/v1.0/agents/{id}/status"),
            Some(serde_json::json!({"status": "available"})),
        );
        id
    }

    pub fn ok(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(method, path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path} answered {status}: {v}"
        );
        v
    }

    /// Waits until the campaign's status is `status`; returns its stats.
    pub fn wait_status(&self, campaign: &str, status: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let stats = self.ok("GET", &format!("/v1.0/campaigns/{campaign}/stats"), None);
            if stats["status"] == status {
                return stats;
            }
            assert!(
                Instant::now() < deadline,
                "campaign never reached {status}: {stats}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Every campaigncall of a campaign.
    pub fn campaigncalls(&self, campaign: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut token = String::new();
        loop {
            let page = self.ok(
                "GET",
                &format!(
                    "/v1.0/campaigns/{campaign}/campaigncalls?page_size=100&page_token={token}"
                ),
                None,
            );
            all.extend(page["result"].as_array().cloned().unwrap_or_default());
            token = page["next_page_token"].as_str().unwrap_or("").to_string();
            if token.is_empty() {
                return all;
            }
        }
    }
}

fn decode_chunked(body: &str) -> String {
    if !body.contains("\r\n")
        || body.trim_start().starts_with('{')
        || body.trim_start().starts_with('[')
    {
        return body.to_string();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

/// Creates an outplan, an outdial with `targets` (each a list of destination numbers) and a
/// campaign; returns (campaign id, outdial id, target ids in order).
pub fn campaign(
    s: &Server,
    outplan: Value,
    targets: &[&[&str]],
    extra: Value,
) -> (String, String, Vec<String>) {
    let outplan = s.ok("POST", "/v1.0/outplans", Some(outplan));
    let outdial = s.ok("POST", "/v1.0/outdials", Some(json!({"name": "test list"})));
    let outdial_id = outdial["id"].as_str().expect("outdial id").to_string();
    let mut ids = Vec::new();
    for numbers in targets {
        let mut t = json!({"name": "someone"});
        for (i, n) in numbers.iter().enumerate() {
            t[format!("destination_{i}")] = json!({"type": "tel", "target": n});
        }
        let created = s.ok(
            "POST",
            &format!("/v1.0/outdials/{outdial_id}/targets"),
            Some(t),
        );
        ids.push(created["id"].as_str().expect("target id").to_string());
    }
    let mut body = json!({
        "name": "test campaign",
        "type": "call",
        "end_handle": "stop",
        "actions": [{"type": "sleep", "option": {"duration": 200}}, {"type": "hangup"}],
        "outplan_id": outplan["id"],
        "outdial_id": outdial_id,
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    let c = s.ok("POST", "/v1.0/campaigns", Some(body));
    (
        c["id"].as_str().expect("campaign id").to_string(),
        outdial_id,
        ids,
    )
}

/// The SIP messages SIPp received so far, from its `-trace_msg` log in `dir`.
pub fn sipp_received(dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let text: String = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with("_messages.log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect();
    text.split("\n-----------------------------------------------")
        .filter_map(|entry| {
            let (header, message) = entry.split_once(" bytes :")?;
            header
                .contains("message received")
                .then(|| message.trim().to_string())
        })
        .collect()
}

/// The value of header `name` in a logged SIP message.
pub fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    message.lines().find_map(|l| {
        let (n, v) = l.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// A campaign's calls once `done` holds for them, or as they are after `within`.
#[allow(dead_code)] // not every test binary polls
pub fn wait_for_calls(
    server: &Server,
    campaign: &str,
    within: Duration,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + within;
    loop {
        let calls = server.campaigncalls(campaign);
        if done(&calls) || Instant::now() > deadline {
            return calls;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls `GET path` until `done` holds for the answer; the last answer.
#[allow(dead_code)] // not every test binary polls
pub fn wait_for(
    server: &Server,
    path: &str,
    within: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (_, v) = server.call("GET", path, None);
        if done(&v) || Instant::now() > deadline {
            return v;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
