//! baresip, a real softphone, registers with the registrar of an endpoint on 127.0.0.1: with
//! the right password its contact is bound (and unbound when it quits), with a wrong one it
//! gets 403 and nothing is bound. baresip runs from a temporary directory on its own ports,
//! quits by itself after `-t` seconds and is stopped when the test ends.

use crate::helpers::baresip_ports;
use ringmaster::sip::auth::Algorithm;
use ringmaster::sip::registrar::{Credential, RegistrarConfig, Registration};
use ringmaster::sip::transport::{self, EndpointHandle, TransportConfig};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio::sync::broadcast;
use uuid::Uuid;

const AGENT: Uuid = Uuid::from_u128(0xba7e);
/// baresip quits by itself after this many seconds whatever happens.
const BARESIP_LIMIT_SECS: &str = "30";

/// A running baresip; SIGTERM (it then un-REGISTERs) and, failing that, SIGKILL on drop.
struct Baresip {
    child: Child,
    dir: tempfile::TempDir,
}

impl Baresip {
    /// Starts baresip registering `agent1` with `password` at `registrar` (UDP).
    fn start(registrar: std::net::SocketAddr, password: &str) -> Baresip {
        let installed = Command::new("baresip")
            .arg("-h")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        assert!(
            installed,
            "baresip is not installed: run sip-test/test-all (it installs the Debian package baresip-core)"
        );
        let dir = tempfile::Builder::new()
            .prefix("ringmaster-baresip-")
            .tempdir()
            .expect("temporary directory for baresip");
        let (sip, rtp) = baresip_ports();
        let config = format!(
            "sip_listen 127.0.0.1:{sip}\nnet_interface 127.0.0.1\nrtp_ports {rtp}-{}\n\
             module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule_tmp account.so\n\
             statmode_default off\n",
            rtp + 1
        );
        std::fs::write(dir.path().join("config"), config).expect("baresip config");
        let account = format!(
            "<sip:agent1@{registrar}>;auth_user=agent1;auth_pass={password};regint=60;answermode=auto;audio_codecs=pcmu\n"
        );
        std::fs::write(dir.path().join("accounts"), account).expect("baresip accounts");
        let log = std::fs::File::create(dir.path().join("baresip.log")).expect("log file");
        let child = Command::new("baresip")
            .arg("-f")
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

    /// One SIGTERM: baresip un-REGISTERs and exits.
    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }

    fn exited_within(&mut self, within: Duration) -> bool {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if self.child.try_wait().ok().flatten().is_some() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        self.terminate();
        if !self.exited_within(Duration::from_secs(3)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An endpoint challenging with MD5 alone where `agent1` may register with `secret`.
/// baresip 1.0.0 (libre 1.1.0) gives up on a SHA-256 challenge ("Register: Function not
/// implemented") even when an MD5 one follows.
async fn registrar() -> EndpointHandle {
    let endpoint = transport::start(TransportConfig {
        udp_bind: "127.0.0.1:0".parse().expect("addr"),
        registrar: RegistrarConfig {
            algorithms: vec![Algorithm::Md5],
            ..RegistrarConfig::default()
        },
        ..TransportConfig::default()
    })
    .await
    .expect("endpoint");
    let realm = TransportConfig::default().registrar.realm;
    endpoint
        .set_credential(Credential::from_password(AGENT, "agent1", &realm, "secret"))
        .await
        .expect("credential set");
    endpoint
}

async fn next_change(
    rx: &mut broadcast::Receiver<Registration>,
    within: Duration,
) -> Option<Registration> {
    tokio::time::timeout(within, rx.recv()).await.ok()?.ok()
}

#[test]
fn baresip_registers_with_the_right_password_and_unregisters_when_it_quits() {
    runtime().block_on(async {
        let endpoint = registrar().await;
        let mut rx = endpoint.registrations();
        let mut phone = Baresip::start(endpoint.udp_addr(), "secret");
        let Some(bound) = next_change(&mut rx, Duration::from_secs(10)).await else {
            panic!("baresip did not register:\n{}", phone.log());
        };
        assert_eq!((bound.owner, bound.contacts.len()), (AGENT, 1), "{bound:?}");
        let contacts = endpoint.bindings("agent1").await.expect("bindings");
        assert_eq!(contacts.len(), 1);
        // baresip's contact user is the account's with a suffix of its own.
        assert!(
            contacts[0].contact.as_str().starts_with("sip:agent1"),
            "{contacts:?}"
        );
        assert_eq!(contacts[0].flow.ip().to_string(), "127.0.0.1");
        phone.terminate();
        let unbound = next_change(&mut rx, Duration::from_secs(10)).await;
        assert!(
            unbound.as_ref().is_some_and(|c| c.contacts.is_empty()),
            "baresip's un-REGISTER: {unbound:?}\n{}",
            phone.log()
        );
        assert!(phone.exited_within(Duration::from_secs(5)));
        assert!(phone.log().contains("200 OK"), "{}", phone.log());
        endpoint.shutdown().await;
    });
}

#[test]
fn baresip_with_a_wrong_password_is_forbidden_and_not_bound() {
    runtime().block_on(async {
        let endpoint = registrar().await;
        let mut rx = endpoint.registrations();
        let phone = Baresip::start(endpoint.udp_addr(), "wrong");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !phone.log().contains("403 Forbidden") && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(phone.log().contains("403 Forbidden"), "{}", phone.log());
        assert!(next_change(&mut rx, Duration::from_millis(300))
            .await
            .is_none());
        assert!(endpoint
            .bindings("agent1")
            .await
            .expect("bindings")
            .is_empty());
        assert!(endpoint.stats().await.expect("stats").refused_in >= 1);
        drop(phone);
        endpoint.shutdown().await;
    });
}
