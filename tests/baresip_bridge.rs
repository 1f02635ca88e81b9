//! baresip, a real softphone, as a queue's agent of `ringmaster serve`, over real SIP on
//! 127.0.0.1: it registers with the agent's password (digest), auto-answers the call the queue
//! offers it, plays a 1 kHz tone (its `aufile` source) and records what it hears (`sndfile`).
//! The callee is SIPp echoing every RTP packet it receives (`-rtp_echo`), so the tone baresip
//! records has gone baresip → relay → callee → relay → baresip: audio crossed the bridge both
//! ways. The bridge is also recorded by ringmaster (`recording_start`), the callee's side on
//! channel 1 and baresip's on channel 2. With a wrong password baresip is refused and the
//! agent stays offline.
//!
//! baresip runs from a temporary directory on its own ports and quits by itself after `-t`
//! seconds; the test skips (saying why) when baresip is not installed.

#[path = "campaign/helpers.rs"]
#[allow(dead_code)] // shared with tests/campaign.rs, which uses the rest
mod helpers;

use helpers::{baresip_ports, campaign, free_port, sipp_scenario, wait_for, Extra, Server};
use serde_json::json;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const PASSWORD: &str = "a-long-secret";
/// baresip quits by itself after this many seconds whatever happens.
const BARESIP_LIMIT_SECS: &str = "60";
/// The tone baresip plays.
const AGENT_HZ: f64 = 1000.0;

/// A running baresip; one SIGTERM (it then un-REGISTERs) and, failing that, SIGKILL on drop.
struct Baresip {
    child: Child,
    dir: tempfile::TempDir,
}

impl Baresip {
    fn installed() -> bool {
        Command::new("baresip")
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    }

    /// Starts baresip registering `agent1` with `password` at `registrar` (UDP).
    fn start(registrar: SocketAddr, password: &str) -> Baresip {
        let dir = tempfile::Builder::new()
            .prefix("ringmaster-baresip-")
            .tempdir()
            .expect("temporary directory for baresip");
        let d = dir.path().display();
        let (sip, rtp) = baresip_ports();
        write_tone_wav(&dir.path().join("in.wav"), AGENT_HZ, 120);
        std::fs::create_dir_all(dir.path().join("rec")).expect("rec dir");
        let config = format!(
            "sip_listen 127.0.0.1:{sip}\nnet_interface 127.0.0.1\nrtp_ports {rtp}-{}\n\
             audio_source aufile,{d}/in.wav\nmodule_path /usr/lib/baresip/modules\n\
             module g711.so\nmodule aufile.so\nmodule sndfile.so\nsnd_path {d}/rec\n\
             module_tmp account.so\nstatmode_default off\n",
            rtp + 1
        );
        std::fs::write(dir.path().join("config"), config).expect("baresip config");
        let account = format!(
            "<sip:agent1@{registrar}>;auth_user=agent1;auth_pass={password};regint=60;\
             answermode=auto;audio_codecs=pcmu;audio_source=aufile,{d}/in.wav\n"
        );
        std::fs::write(dir.path().join("accounts"), account).expect("baresip accounts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log file");
        let child = Command::new("timeout")
            .args(["--foreground", "90", "baresip", "-f"])
            .arg(dir.path())
            .args(["-t", BARESIP_LIMIT_SECS])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start baresip");
        Baresip { child, dir }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("baresip.log")).unwrap_or_default()
    }

    /// Waits until the log holds `line`.
    fn wait_log(&self, line: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.log().contains(line) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// What baresip heard on its calls (`rec/dump-*-dec.wav`).
    fn heard(&self) -> Vec<std::path::PathBuf> {
        std::fs::read_dir(self.dir.path().join("rec"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.to_string_lossy().ends_with("-dec.wav"))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        // One SIGTERM to timeout --foreground, which passes it on to baresip.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A mono 16-bit 8 kHz WAV of `secs` of a `hz` tone (what baresip's aufile reads).
fn write_tone_wav(path: &std::path::Path, hz: f64, secs: u32) {
    let frames = 8000 * secs;
    let mut out = Vec::with_capacity(44 + 2 * frames as usize);
    let data = frames * 2;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for n in 0..frames {
        let s = (2.0 * std::f64::consts::PI * hz * f64::from(n) / 8000.0).sin() * 8000.0;
        out.extend_from_slice(&(s as i16).to_le_bytes());
    }
    std::fs::write(path, out).expect("tone WAV");
}

/// The 16-bit samples of channel `channel` of a WAV of `channels` (a 44-byte header).
fn samples(wav: &[u8], channels: usize, channel: usize) -> Vec<f64> {
    wav.get(44..)
        .unwrap_or_default()
        .chunks_exact(2 * channels)
        .map(|f| f64::from(i16::from_le_bytes([f[2 * channel], f[2 * channel + 1]])))
        .collect()
}

/// The power of `hz` in `x` relative to its whole power (Goertzel): near 1 for a pure tone.
fn tone_share(x: &[f64], hz: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let (mut s1, mut s2) = (0.0, 0.0);
    for &v in x {
        let s = v + 2.0 * w.cos() * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    let power = s1 * s1 + s2 * s2 - 2.0 * w.cos() * s1 * s2;
    let energy: f64 = x.iter().map(|v| v * v).sum();
    if energy == 0.0 {
        return 0.0;
    }
    2.0 * power / (x.len() as f64 * energy)
}

fn rms(x: &[f64]) -> f64 {
    (x.iter().map(|v| v * v).sum::<f64>() / (x.len().max(1) as f64)).sqrt()
}

#[test]
fn baresip_takes_a_queued_call_and_audio_crosses_the_bridge_both_ways() {
    if !Baresip::installed() {
        println!("skipped: baresip is not installed (the Debian package baresip-core provides it)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let recordings = dir.path().join("recordings");
    // The callee echoes what it hears.
    let (_callee, trunk) = sipp_scenario(dir.path(), "uas_answer_wait_bye.xml", &["-rtp_echo"]);
    let sip = SocketAddr::from(([127, 0, 0, 1], free_port()));
    // baresip 1.0.0 gives up on a SHA-256 challenge: MD5 only.
    let lines = format!(
        "listen = \"{sip}\"\nregister_algorithms = [\"MD5\"]\n\n[media]\nrecordings_dir = \"{}\"\n",
        recordings.display()
    );
    let server = Server::start_extra(
        dir.path(),
        trunk,
        10,
        &Extra {
            sip: &lines,
            ..Extra::default()
        },
    );
    let agent_id =
        server.available_agent(json!({"username": "agent1", "password": PASSWORD, "name": "Ann"}));

    // A wrong password: refused, the agent stays offline with no contact.
    {
        let wrong = Baresip::start(sip, "not-the-password");
        assert!(
            wrong.wait_log("403 Forbidden", Duration::from_secs(10)),
            "baresip is refused: {}",
            wrong.log()
        );
        let a = server.ok("GET", &format!("/v1.0/agents/{agent_id}"), None);
        assert_eq!(a["status"], "offline", "{a}");
        assert_eq!(a["contacts"], json!([]), "{a}");
    }

    let phone = Baresip::start(sip, PASSWORD);
    assert!(
        phone.wait_log("[1 binding]", Duration::from_secs(10)),
        "baresip registers: {}",
        phone.log()
    );
    let registered = wait_for(
        &server,
        &format!("/v1.0/agents/{agent_id}"),
        Duration::from_secs(10),
        |a| a["status"] == "available",
    );
    assert_eq!(registered["status"], "available", "{registered}");

    // The bridge lasts the queue's service timeout, then ringmaster hangs both legs up.
    let queue = server.ok(
        "POST",
        "/v1.0/queues",
        Some(json!({"name": "support", "wait_timeout": 10000, "service_timeout": 4000})),
    );
    let queue_id = queue["id"].as_str().expect("a queue id").to_string();
    let outplan = json!({"name": "once", "dial_timeout": 5000, "try_interval": 200,
                         "max_try_count_0": 1,
                         "source": {"type": "tel", "target": "+15551230000"}});
    let actions = json!([
        {"type": "recording_start"},
        {"type": "queue_join", "option": {"queue_id": queue_id}}
    ]);
    let (campaign_id, _, _) = campaign(
        &server,
        outplan,
        &[&["+15550110001"]],
        json!({ "actions": actions }),
    );
    server.ok(
        "PUT",
        &format!("/v1.0/campaigns/{campaign_id}/status"),
        Some(json!({"status": "run"})),
    );
    server.wait_status(&campaign_id, "finished", Duration::from_secs(60));
    let calls = server.campaigncalls(&campaign_id);
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["disposition"], "answered", "{}", calls[0]);
    assert_eq!(calls[0]["agent_id"], agent_id.as_str(), "{}", calls[0]);
    assert!(
        phone.wait_log("terminated", Duration::from_secs(10)),
        "baresip's call ended: {}",
        phone.log()
    );

    // What baresip heard: its own tone, back from the callee through the relay twice.
    std::thread::sleep(Duration::from_millis(500));
    let heard = phone.heard();
    assert_eq!(heard.len(), 1, "one call recorded by baresip: {heard:?}");
    let wav = std::fs::read(&heard[0]).expect("baresip's recording");
    let x = samples(&wav, 1, 0);
    assert!(
        x.len() >= 8000 * 2,
        "baresip heard 2 s or more: {} samples",
        x.len()
    );
    // The echo takes a moment to start: judge the last two seconds.
    let tail = &x[x.len() - 16_000..];
    assert!(rms(tail) > 500.0, "baresip hears audio: RMS {}", rms(tail));
    assert!(
        tone_share(tail, AGENT_HZ) > 0.5,
        "what baresip hears is its tone echoed by the callee: share {}",
        tone_share(tail, AGENT_HZ)
    );

    // ringmaster's recording: the callee's side (the echo) and baresip's, both non-silent.
    let listed = wait_for(
        &server,
        &format!("/v1.0/recordings?campaign_id={campaign_id}"),
        Duration::from_secs(10),
        |l| l["result"][0]["status"] == "finished",
    );
    let id = listed["result"][0]["id"]
        .as_str()
        .expect("a recording")
        .to_string();
    let wav = std::fs::read(recordings.join(format!("{id}.wav"))).expect("recording file");
    for channel in 0..2 {
        let x = samples(&wav, 2, channel);
        assert!(
            rms(&x) > 300.0,
            "channel {} carries audio: RMS {}",
            channel + 1,
            rms(&x)
        );
    }
}
