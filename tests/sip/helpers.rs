//! What the SIPp tests share: free ports, SIPp as a background child (bounded by `-m` and
//! coreutils `timeout`, stopped on drop, its logs in a temporary directory), and
//! `ringmaster call` runs with their JSON line parsed.

use serde::Deserialize;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The destination every test dials.
pub const DESTINATION: &str = "+15551234567";

/// Longest a SIPp instance may live, whatever happens to the test.
const SIPP_LIMIT_SECS: &str = "90";
/// Longest one `ringmaster call` may run.
const CALL_LIMIT_SECS: &str = "40";

#[path = "../support/ports.rs"]
mod ports;
pub use ports::free_port;

/// Ports for baresip: SIP, and the first of two for RTP (see [`ports::sip_and_rtp`]).
pub fn baresip_ports() -> (u16, u16) {
    ports::sip_and_rtp()
}

/// UDP or TCP between ringmaster and SIPp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// SIPp `-t u1`.
    Udp,
    /// SIPp `-t t1`.
    Tcp,
}

impl Transport {
    fn sipp_mode(self) -> &'static str {
        match self {
            Transport::Udp => "u1",
            Transport::Tcp => "t1",
        }
    }

    fn uri_params(self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
        }
    }
}

fn scenario_path(scenario: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sip-test/scenarios")
        .join(scenario)
}

/// Fails the test when SIPp is missing: `sip-test/test-all` installs it.
fn require_sipp() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        let ok = Command::new("sipp")
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(
            ok,
            "SIPp is not installed: run sip-test/test-all (it installs the Debian package sip-tester)"
        );
    });
}

/// How to start one SIPp.
pub struct SippBuilder {
    scenario: &'static str,
    transport: Transport,
    calls: u32,
    lost: Option<u32>,
    sets: Vec<(String, String)>,
    args: Vec<String>,
}

/// SIPp playing `scenario` (a file of `sip-test/scenarios/`) over `transport`.
pub fn sipp(scenario: &'static str, transport: Transport) -> SippBuilder {
    SippBuilder {
        scenario,
        transport,
        calls: 1,
        lost: None,
        sets: Vec::new(),
        args: Vec::new(),
    }
}

impl SippBuilder {
    /// `-set name value`.
    pub fn set(mut self, name: &str, value: &str) -> Self {
        self.sets.push((name.into(), value.into()));
        self
    }

    /// Further command-line arguments, e.g. `-au user` or, last, the remote address that
    /// makes SIPp a client.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }

    /// `-m calls`: SIPp exits after this many calls (default 1).
    pub fn calls(mut self, calls: u32) -> Self {
        self.calls = calls;
        self
    }

    /// `-lost percent`: SIPp drops this share of the messages it sends or receives.
    pub fn lost(mut self, percent: u32) -> Self {
        self.lost = Some(percent);
        self
    }

    /// Starts SIPp and waits until its SIP port is bound.
    pub fn start(self) -> Sipp {
        require_sipp();
        let path = scenario_path(self.scenario);
        assert!(path.is_file(), "no scenario {}", path.display());
        let dir = tempfile::Builder::new()
            .prefix("ringmaster-sipp-")
            .tempdir()
            .expect("temporary directory for SIPp's logs");
        let port = free_port();
        let control = free_port();
        let stderr = fs::File::create(dir.path().join("stderr.txt")).expect("SIPp stderr file");
        let mut cmd = Command::new("timeout");
        cmd.args(["-k", "2", SIPP_LIMIT_SECS, "sipp", "-sf"])
            .arg(&path)
            .args(["-i", "127.0.0.1", "-p", &port.to_string()])
            .args(["-cp", &control.to_string()])
            .args(["-m", &self.calls.to_string()])
            .args(["-t", self.transport.sipp_mode()])
            .args(["-nostdin", "-trace_msg", "-trace_err"])
            .args(["-trace_stat", "-stf", "stats.csv", "-fd", "1"]);
        if let Some(lost) = self.lost {
            cmd.args(["-lost", &lost.to_string()]);
        }
        for (name, value) in &self.sets {
            cmd.args(["-set", name, value]);
        }
        cmd.args(&self.args);
        let child = cmd
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("start SIPp through coreutils timeout");
        let mut sipp = Sipp {
            child: Some(child),
            dir,
            port,
            transport: self.transport,
            scenario: self.scenario,
        };
        sipp.wait_bound();
        sipp
    }
}

/// A running SIPp; stopped (SIGTERM, then SIGKILL) when dropped before it ends.
pub struct Sipp {
    child: Option<Child>,
    dir: tempfile::TempDir,
    port: u16,
    transport: Transport,
    scenario: &'static str,
}

impl Sipp {
    /// The trunk URI pointing at this SIPp: `sip:127.0.0.1:PORT[;transport=tcp]`.
    pub fn trunk(&self) -> String {
        format!("sip:127.0.0.1:{}{}", self.port, self.transport.uri_params())
    }

    /// The SIP port SIPp listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_bound(&mut self) {
        let child = self.child.as_mut().expect("SIPp started");
        let tcp = self.transport == Transport::Tcp;
        match ports::wait_bound(child, self.port, tcp, Duration::ZERO) {
            ports::Start::Bound => {}
            ports::Start::Exited(status) => panic!(
                "SIPp ({}) exited at start with {status}:\n{}\n{}",
                self.scenario,
                self.read("stderr.txt"),
                self.read_suffix("_errors.log")
            ),
            ports::Start::TimedOut => panic!(
                "SIPp ({}) did not bind port {} within 10 s",
                self.scenario, self.port
            ),
        }
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.dir.path().join(name)).unwrap_or_default()
    }

    fn read_suffix(&self, suffix: &str) -> String {
        let Ok(entries) = fs::read_dir(self.dir.path()) else {
            return String::new();
        };
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(suffix))
            .map(|e| fs::read_to_string(e.path()).unwrap_or_default())
            .collect()
    }

    /// Waits (at most `within`) for SIPp to end by itself and collects what it logged.
    pub fn finish(mut self, within: Duration) -> SippRun {
        let mut child = self.child.take().expect("SIPp not finished yet");
        let deadline = Instant::now() + within;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for SIPp") {
                break status;
            }
            if Instant::now() >= deadline {
                self.child = Some(child);
                panic!(
                    "SIPp ({}) still running after {within:?}; messages so far:\n{}",
                    self.scenario,
                    self.read_suffix("_messages.log")
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let log = self.read_suffix("_messages.log");
        SippRun {
            scenario: self.scenario,
            status,
            lost_sent: log.matches(" lost (while sending)").count(),
            messages: parse_messages(&log),
            errors: self.read_suffix("_errors.log") + &self.read("stderr.txt"),
            stats: parse_stats(&self.read("stats.csv")),
        }
    }
}

impl Drop for Sipp {
    fn drop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        // SIGTERM to `timeout` reaches SIPp too; SIGKILL would orphan SIPp.
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// One SIP message SIPp logged.
#[derive(Debug, Clone)]
pub struct Logged {
    /// True for what SIPp received (what ringmaster sent).
    pub received: bool,
    /// Received, then dropped by SIPp (`-lost`) as if it had never arrived.
    pub dropped: bool,
    /// The whole message.
    pub text: String,
}

impl Logged {
    /// The start line.
    pub fn start_line(&self) -> &str {
        self.text.lines().next().unwrap_or_default()
    }

    /// The value of the first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.text.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// The line SIPp writes before each message it logs.
const SEPARATOR: &str = "-----------------------------------------------";

fn parse_messages(log: &str) -> Vec<Logged> {
    let mut out = Vec::new();
    // A message that `-lost` dropped is a note ("UDP message voluntary lost (while sending).")
    // with no line break before the next separator: each separator starts a line here, and
    // the notes are left out of the messages' text.
    let log = format!("\n{}", log.replace(SEPARATOR, &format!("\n{SEPARATOR}")));
    for block in log.split(&format!("\n{SEPARATOR}")) {
        let mut lines = block.lines().skip(1); // the rest of the dashes line: its timestamp
        let Some(what) = lines.next() else { continue };
        let received = what.contains("message received");
        if !received && !what.contains("message sent") {
            continue;
        }
        let lines: Vec<&str> = lines.collect();
        // The note of a received message dropped follows that message.
        let dropped = received && lines.iter().any(|l| l.contains(" lost (recv)"));
        let text: String = lines
            .into_iter()
            .filter(|l| !is_loss_note(l))
            .skip_while(|l| l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("\r\n")
            .trim_end()
            .to_string();
        if !text.is_empty() {
            out.push(Logged {
                received,
                dropped,
                text,
            });
        }
    }
    out
}

/// SIPp's note of a message `-lost` dropped, sent or received.
fn is_loss_note(line: &str) -> bool {
    line.contains(" message ")
        && (line.contains(" lost (recv)") || line.contains(" lost (while sending)"))
}

fn parse_stats(csv: &str) -> HashMap<String, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let Some(header) = lines.next() else {
        return HashMap::new();
    };
    let Some(last) = lines.next_back() else {
        return HashMap::new();
    };
    header
        .split(';')
        .zip(last.split(';'))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What one SIPp run left behind.
pub struct SippRun {
    scenario: &'static str,
    /// SIPp's exit status (0: every call went through the scenario).
    pub status: ExitStatus,
    /// Every message SIPp sent or received, in order (with those `-lost` dropped on receipt).
    pub messages: Vec<Logged>,
    /// Messages SIPp dropped instead of sending them (`-lost`).
    pub lost_sent: usize,
    /// SIPp's error log and standard error.
    pub errors: String,
    stats: HashMap<String, String>,
}

impl SippRun {
    /// Asserts that SIPp exited 0: every call followed its scenario to the end.
    pub fn assert_success(&self) {
        assert!(
            self.status.success(),
            "SIPp ({}) exited with {}:\n{}\n--- messages ---\n{}",
            self.scenario,
            self.status,
            self.errors,
            self.messages
                .iter()
                .map(|m| format!(
                    "{} {}",
                    if m.received { "<-" } else { "->" },
                    m.start_line()
                ))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// The messages SIPp received whose start line begins with `start` ("ACK", "INVITE", ...).
    pub fn received(&self, start: &str) -> Vec<&Logged> {
        self.messages
            .iter()
            .filter(|m| m.received && m.start_line().starts_with(start))
            .collect()
    }

    /// The messages SIPp sent whose start line begins with `start` ("SIP/2.0 407", ...).
    pub fn sent(&self, start: &str) -> Vec<&Logged> {
        self.messages
            .iter()
            .filter(|m| !m.received && m.start_line().starts_with(start))
            .collect()
    }

    /// A cumulative counter of SIPp's statistics file, e.g. `Retransmissions(C)`.
    pub fn stat(&self, name: &str) -> u64 {
        self.stats
            .get(name)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("SIPp statistic {name} missing: {:?}", self.stats))
    }
}

/// The JSON line `ringmaster call` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct Report {
    pub disposition: String,
    pub sip_code: Option<u16>,
    pub reason: String,
    pub call_id: String,
    pub setup_ms: u64,
    pub talk_ms: u64,
    pub hangup_by: Option<String>,
    pub destination: String,
    pub trunk: String,
}

/// One run of the `ringmaster` binary.
pub struct Run {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Run {
    /// Asserts exit status 0 and one JSON object on stdout, and parses it.
    pub fn report(&self) -> Report {
        assert!(
            self.status.success(),
            "ringmaster exited with {}:\nstdout: {}\nstderr: {}",
            self.status,
            self.stdout,
            self.stderr
        );
        let lines: Vec<&str> = self.stdout.lines().collect();
        assert_eq!(lines.len(), 1, "one JSON line expected: {:?}", self.stdout);
        serde_json::from_str(lines[0])
            .unwrap_or_else(|e| panic!("not a call report ({e}): {}", lines[0]))
    }
}

/// Runs the `ringmaster` binary (bounded by coreutils `timeout`) with a clean environment:
/// no `RINGMASTER_*` override leaks in from the caller's.
pub fn ringmaster(args: &[&str]) -> Run {
    let mut cmd = Command::new("timeout");
    cmd.args(["-k", "2", CALL_LIMIT_SECS, env!("CARGO_BIN_EXE_ringmaster")])
        .args(args)
        .stdin(Stdio::null());
    for (name, _) in std::env::vars() {
        if name.starts_with("RINGMASTER_") {
            cmd.env_remove(name);
        }
    }
    let started = Instant::now();
    let out = cmd.output().expect("run ringmaster");
    Run {
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}

/// `ringmaster call DESTINATION --trunk <sipp> extra...`, expected to succeed.
pub fn call(sipp: &Sipp, extra: &[&str]) -> Report {
    let trunk = sipp.trunk();
    let mut args = vec!["call", DESTINATION, "--trunk", trunk.as_str()];
    args.extend_from_slice(extra);
    let report = ringmaster(&args).report();
    assert_eq!(report.destination, DESTINATION);
    assert_eq!(report.trunk, trunk);
    assert!(!report.call_id.is_empty(), "empty Call-ID: {report:?}");
    report
}
