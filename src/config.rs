//! Settings: a TOML file (`config/ringmaster.toml` documents every key) with `RINGMASTER_*`
//! environment overrides: `RINGMASTER_SIP_LISTEN=0.0.0.0:5070` sets `[sip] listen`.

use crate::campaign::{CampaignSettings, DialingSettings};
use crate::trunk::TrunkConfig;
use serde::Deserialize;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// Everything ringmaster can be told at start.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The SIP endpoint.
    #[serde(default)]
    pub sip: SipSettings,
    /// Trunks, by name.
    #[serde(default)]
    pub trunk: Vec<TrunkConfig>,
    /// The REST API.
    #[serde(default)]
    pub api: ApiSettings,
    /// The database.
    #[serde(default)]
    pub database: DatabaseSettings,
    /// API tokens.
    #[serde(default)]
    pub auth: AuthSettings,
    /// RTP, prompts and text to speech.
    #[serde(default)]
    pub media: MediaSettings,
    /// How logs are written.
    #[serde(default)]
    pub log: LogSettings,
    /// Campaigns.
    #[serde(default)]
    pub campaign: CampaignSettings,
    /// Dial modes: the safe harbour, the abandon lock-out and window.
    #[serde(default)]
    pub dialing: DialingSettings,
    /// The event stream's retention and replay.
    #[serde(default)]
    pub events: crate::events::EventSettings,
    /// Webhook deliveries.
    #[serde(default)]
    pub webhooks: crate::events::WebhookSettings,
}

/// `[log]`: how logs are written to stderr (`RINGMASTER_LOG` sets which, e.g. `info`).
#[derive(Debug, Clone, Copy, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `text` (one line per event) or `json` (one JSON object per line).
    pub format: LogFormat,
}

/// The shape of log lines.
#[derive(Debug, Clone, Copy, Deserialize, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines; coloured only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per event, for log collectors.
    Json,
}

/// Shortest API token accepted on an API that listens beyond loopback.
pub const MIN_TOKEN_LEN: usize = 16;

/// The token of the sample configuration.
pub const SAMPLE_TOKEN: &str = "change-me";

/// `[media]`: RTP sockets and prompt sources.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaSettings {
    /// UDP ports for RTP, `low-high` (even ports are used).
    pub rtp_ports: String,
    /// A call whose far end sends no RTP for this long is ended.
    pub rtp_timeout_ms: u64,
    /// Symmetric RTP: the far end's first packet from its SDP's IP may name the port we
    /// hear it on and answer to. Off: only the SDP's address and port.
    pub rtp_latching: bool,
    /// RTP sockets kept open between calls are closed after this long unused.
    pub rtp_idle_socket_ms: u64,
    /// At most this many RTP sockets are kept open between calls.
    pub rtp_idle_sockets_max: usize,
    /// Where synthesised speech and downloaded prompts are cached.
    pub tts_cache_dir: PathBuf,
    /// Where `play` looks for prompt files given as relative paths.
    pub prompts_dir: PathBuf,
    /// Where call recordings are written, one `<uuid>.wav` each.
    pub recordings_dir: PathBuf,
}

impl Default for MediaSettings {
    fn default() -> Self {
        MediaSettings {
            rtp_ports: "20000-30000".into(),
            rtp_timeout_ms: 30_000,
            rtp_latching: false,
            rtp_idle_socket_ms: 30_000,
            rtp_idle_sockets_max: 4096,
            tts_cache_dir: std::env::temp_dir().join("ringmaster-tts"),
            prompts_dir: PathBuf::from("prompts"),
            recordings_dir: PathBuf::from("recordings"),
        }
    }
}

impl MediaSettings {
    /// The RTP port range.
    pub fn port_range(&self) -> Result<crate::media::ports::PortRange, ConfigError> {
        self.rtp_ports
            .parse()
            .map_err(|e: crate::media::ports::PortError| ConfigError::Invalid(e.to_string()))
    }

    /// What each media session is configured with.
    pub fn session(&self) -> crate::media::SessionConfig {
        crate::media::SessionConfig {
            rtp_timeout: std::time::Duration::from_millis(self.rtp_timeout_ms),
            latching: self.rtp_latching,
        }
    }

    /// What each relay between a callee and an agent is configured with.
    pub fn relay(&self) -> crate::media::RelayConfig {
        crate::media::RelayConfig {
            rtp_timeout: std::time::Duration::from_millis(self.rtp_timeout_ms),
            latching: self.rtp_latching,
            recordings_dir: self.recordings_dir.clone(),
        }
    }

    /// How many RTP sockets the port pool keeps open between calls, and for how long.
    pub fn idle_sockets(&self) -> crate::media::ports::IdleSockets {
        crate::media::ports::IdleSockets {
            max: self.rtp_idle_sockets_max,
            idle: std::time::Duration::from_millis(self.rtp_idle_socket_ms),
        }
    }
}

/// `[api]`: the REST control endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ApiSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Region used to read national phone numbers (`5559876543` in `US` is `+15559876543`).
    pub default_region: String,
    /// Largest JSON body of an ordinary request, in bytes (413 above).
    pub json_body_bytes: usize,
    /// Largest body of one JSON target import, in bytes (413 above).
    pub import_body_bytes: usize,
    /// Most rows of one CSV target import (`text/csv` or `multipart/form-data`).
    pub import_csv_rows: usize,
    /// Largest body of one CSV target import, in bytes (413 above).
    pub import_csv_bytes: usize,
    /// Target imports handled at once; more are answered 503 with `Retry-After`.
    pub concurrent_imports: usize,
    /// A list page ends early (with a `next_page_token`) once its items pass this many bytes.
    pub page_bytes: usize,
    /// The token `GET /metrics` asks for (bearer header or `?token=`); unset or empty: none.
    pub metrics_token: Option<String>,
}

impl Default for ApiSettings {
    fn default() -> Self {
        let limits = crate::api::ApiLimits::default();
        ApiSettings {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            default_region: "US".into(),
            json_body_bytes: limits.json_body_bytes,
            import_body_bytes: limits.import_body_bytes,
            import_csv_rows: limits.import_csv_rows,
            import_csv_bytes: limits.import_csv_bytes,
            concurrent_imports: limits.concurrent_imports,
            page_bytes: limits.page_bytes,
            metrics_token: None,
        }
    }
}

impl ApiSettings {
    /// The API's bounds.
    pub fn limits(&self) -> crate::api::ApiLimits {
        crate::api::ApiLimits {
            json_body_bytes: self.json_body_bytes,
            import_body_bytes: self.import_body_bytes,
            import_csv_rows: self.import_csv_rows,
            import_csv_bytes: self.import_csv_bytes,
            concurrent_imports: self.concurrent_imports,
            page_bytes: self.page_bytes,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://path` (created and migrated on start).
    pub url: String,
    /// Most MiB the database may grow to (0: no cap but the disk). Past it a commit fails as on
    /// a full disk: the dialing stops until there is room again.
    pub max_size_mb: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        DatabaseSettings {
            url: "sqlite://ringmaster.db".into(),
            max_size_mb: 0,
        }
    }
}

/// `[auth]`: who may use the API.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct AuthSettings {
    /// `[[auth.tokens]]` entries.
    pub tokens: Vec<TokenSettings>,
}

/// One `[[auth.tokens]]`: a token and the customer (tenant) it acts for.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSettings {
    /// The secret sent as `?token=` or `Authorization: Bearer`.
    pub token: String,
    /// The tenant.
    pub customer_id: uuid::Uuid,
}

/// `[sip]`: sockets and timers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipSettings {
    /// UDP address to listen on.
    pub listen: SocketAddr,
    /// TCP address to listen on (none: TCP only for outgoing connections).
    pub tcp_listen: Option<SocketAddr>,
    /// IP to advertise in Via/Contact when listening on a wildcard address.
    pub advertise: Option<IpAddr>,
    /// RFC 3261 T1 in milliseconds.
    pub t1_ms: u64,
    /// RFC 3261 T2 in milliseconds.
    pub t2_ms: u64,
    /// RFC 3261 T4 in milliseconds.
    pub t4_ms: u64,
    /// UDP socket receive/send buffer in bytes.
    pub udp_buffer_bytes: usize,
    /// Server transactions kept at once; past it, requests from outside our dialogs and
    /// trunks are answered 503 without a transaction.
    pub max_server_transactions: usize,
    /// Requests per second one source IP (not a trunk) may send outside our dialogs; more
    /// are dropped unanswered (0: no limit).
    pub source_rate: u32,
    /// How many such requests a quiet source may send at once.
    pub source_burst: u32,
    /// Sources whose rate is tracked apart; sources beyond share one allowance.
    pub max_sources: usize,
    /// Unwanted traffic is logged as one line of counts per this many seconds.
    pub unwanted_log_secs: u64,
    /// The realm of the registrar's digest challenges. Agents' passwords are stored hashed
    /// with it, so changing it requires setting every agent's password again.
    pub realm: String,
    /// Shorter registrations are refused 423 Interval Too Brief.
    pub register_min_expires: u32,
    /// Longer registrations are granted this many seconds.
    pub register_max_expires: u32,
    /// How long a digest nonce stays fresh, in seconds.
    pub register_nonce_s: u64,
    /// Failed REGISTER authentications from one source IP within `register_failure_window_s`
    /// that lock the source out (0: never).
    pub register_max_failures: u32,
    /// The window failures are counted in, in seconds.
    pub register_failure_window_s: u64,
    /// How long a locked-out source is answered 403 unchecked, in seconds.
    pub register_lockout_s: u64,
    /// Registered contacts are sent OPTIONS this often, in seconds (0: never).
    pub qualify_interval_s: u64,
    /// The digest algorithms the registrar challenges with, in order ("SHA-256", "MD5").
    pub register_algorithms: Vec<String>,
}

impl Default for SipSettings {
    fn default() -> Self {
        let limits = crate::sip::endpoint::Limits::default();
        let registrar = crate::sip::registrar::RegistrarConfig::default();
        SipSettings {
            listen: SocketAddr::from(([0, 0, 0, 0], 5060)),
            tcp_listen: None,
            advertise: None,
            t1_ms: 500,
            t2_ms: 4000,
            t4_ms: 5000,
            udp_buffer_bytes: 4 * 1024 * 1024,
            max_server_transactions: limits.max_server_transactions,
            source_rate: limits.source_rate,
            source_burst: limits.source_burst,
            max_sources: limits.max_sources,
            unwanted_log_secs: limits.unwanted_log_interval.as_secs(),
            realm: registrar.realm,
            register_min_expires: registrar.min_expires,
            register_max_expires: registrar.max_expires,
            register_nonce_s: registrar.nonce_lifetime.as_secs(),
            register_max_failures: registrar.max_failures,
            register_failure_window_s: registrar.failure_window.as_secs(),
            register_lockout_s: registrar.lockout.as_secs(),
            qualify_interval_s: registrar.qualify_interval.as_secs(),
            register_algorithms: registrar
                .algorithms
                .iter()
                .map(|a| a.as_str().to_string())
                .collect(),
        }
    }
}

impl SipSettings {
    /// The transaction timers these settings describe.
    pub fn timers(&self) -> crate::sip::transaction::TimerConfig {
        use std::time::Duration;
        crate::sip::transaction::TimerConfig {
            t1: Duration::from_millis(self.t1_ms),
            t2: Duration::from_millis(self.t2_ms),
            t4: Duration::from_millis(self.t4_ms),
        }
    }

    /// The bounds on requests from outside our dialogs and trunks these settings describe.
    pub fn limits(&self) -> crate::sip::endpoint::Limits {
        crate::sip::endpoint::Limits {
            max_server_transactions: self.max_server_transactions,
            source_rate: self.source_rate,
            source_burst: self.source_burst,
            max_sources: self.max_sources,
            unwanted_log_interval: std::time::Duration::from_secs(self.unwanted_log_secs),
        }
    }

    /// What the registrar enforces, as these settings describe it.
    pub fn registrar(&self) -> Result<crate::sip::registrar::RegistrarConfig, ConfigError> {
        use std::time::Duration;
        let realm_ok = !self.realm.is_empty()
            && self
                .realm
                .chars()
                .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\');
        if !realm_ok {
            return Err(ConfigError::Invalid(format!(
                "[sip] realm {:?}: printable ASCII without quotes, backslashes or spaces",
                self.realm
            )));
        }
        if self.register_min_expires > self.register_max_expires {
            return Err(ConfigError::Invalid(
                "[sip] register_min_expires is above register_max_expires".into(),
            ));
        }
        let mut algorithms = Vec::new();
        for name in &self.register_algorithms {
            let alg = crate::sip::digest_server::OFFERED
                .into_iter()
                .find(|a| a.as_str().eq_ignore_ascii_case(name))
                .ok_or_else(|| {
                    ConfigError::Invalid(format!(
                        "[sip] register_algorithms: {name:?} is not SHA-256 or MD5"
                    ))
                })?;
            if !algorithms.contains(&alg) {
                algorithms.push(alg);
            }
        }
        if algorithms.is_empty() {
            return Err(ConfigError::Invalid(
                "[sip] register_algorithms is empty".into(),
            ));
        }
        Ok(crate::sip::registrar::RegistrarConfig {
            algorithms,
            realm: self.realm.clone(),
            min_expires: self.register_min_expires,
            max_expires: self.register_max_expires,
            nonce_lifetime: Duration::from_secs(self.register_nonce_s.max(1)),
            max_failures: self.register_max_failures,
            failure_window: Duration::from_secs(self.register_failure_window_s),
            lockout: Duration::from_secs(self.register_lockout_s),
            qualify_interval: Duration::from_secs(self.qualify_interval_s),
        })
    }
}

/// Why settings could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file or an override is not valid.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

impl Settings {
    /// Loads `path` (or defaults when `None`), then applies `RINGMASTER_*` overrides from the
    /// process environment.
    pub fn load(path: Option<&Path>) -> Result<Settings, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                path: p.display().to_string(),
                source,
            })?,
            None => String::new(),
        };
        Settings::from_toml(&text, std::env::vars())
    }

    /// Parses TOML text and applies `RINGMASTER_<SECTION>_<KEY>` overrides.
    pub fn from_toml(
        text: &str,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Settings, ConfigError> {
        let mut root: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))?;
        for (name, value) in env {
            let Some(rest) = name.strip_prefix("RINGMASTER_") else {
                continue;
            };
            let rest = rest.to_ascii_lowercase();
            let Some((section, key)) = rest.split_once('_') else {
                continue;
            };
            if !matches!(
                section,
                "sip" | "api" | "database" | "media" | "log" | "campaign" | "dialing"
            ) {
                continue;
            }
            let parsed = format!("v = {value}")
                .parse::<toml::Table>()
                .ok()
                .and_then(|mut t| t.remove("v"))
                .unwrap_or(toml::Value::String(value));
            let table = root
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match table {
                toml::Value::Table(t) => {
                    t.insert(key.to_string(), parsed);
                }
                _ => return Err(ConfigError::Invalid(format!("[{section}] is not a table"))),
            }
        }
        toml::Value::Table(root)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Invalid(e.to_string()))
    }

    /// The trunk called `name`.
    pub fn trunk(&self, name: &str) -> Option<&TrunkConfig> {
        self.trunk.iter().find(|t| t.name == name)
    }

    /// Refuses an API reachable beyond loopback with a guessable token: the sample token, or
    /// any shorter than [`MIN_TOKEN_LEN`] characters.
    pub fn check_tokens_for_listen(&self) -> Result<(), ConfigError> {
        if self.api.listen.ip().is_loopback() {
            return Ok(());
        }
        let weak = self
            .auth
            .tokens
            .iter()
            .find(|t| t.token == SAMPLE_TOKEN || t.token.chars().count() < MIN_TOKEN_LEN);
        match weak {
            None => Ok(()),
            Some(t) => Err(ConfigError::Invalid(format!(
                "[[auth.tokens]] token {:?} (customer {}) is {} and the API listens on {}, \
                 beyond loopback: set a random token of at least {MIN_TOKEN_LEN} characters \
                 (e.g. `openssl rand -hex 24`), or listen on 127.0.0.1",
                t.token,
                t.customer_id,
                if t.token == SAMPLE_TOKEN {
                    "the sample token"
                } else {
                    "too short"
                },
                self.api.listen
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_win_over_the_file() {
        let text = "[sip]\nlisten = \"127.0.0.1:5060\"\nt1_ms = 500\n\n[[trunk]]\nname = \"carrier\"\nuri = \"sip:127.0.0.1:5080\"\n";
        let env = vec![
            (
                "RINGMASTER_SIP_LISTEN".to_string(),
                "127.0.0.1:5070".to_string(),
            ),
            ("RINGMASTER_SIP_T1_MS".to_string(), "250".to_string()),
            ("UNRELATED".to_string(), "x".to_string()),
        ];
        let s = Settings::from_toml(text, env).unwrap();
        assert_eq!(s.sip.listen, "127.0.0.1:5070".parse().unwrap());
        assert_eq!(s.sip.t1_ms, 250);
        assert_eq!(s.trunk("carrier").unwrap().uri, "sip:127.0.0.1:5080");
    }

    #[test]
    fn the_documented_example_file_parses() {
        let s = Settings::from_toml(include_str!("../config/ringmaster.toml"), Vec::new()).unwrap();
        assert_eq!(s.media.rtp_ports, "20000-30000");
        assert_eq!(s.media.rtp_timeout_ms, 30_000);
    }

    #[test]
    fn media_settings_have_defaults_and_overrides() {
        let s = Settings::from_toml("", Vec::new()).unwrap();
        assert_eq!(s.media.rtp_ports, "20000-30000");
        assert_eq!(s.media.rtp_timeout_ms, 30_000);
        assert!(!s.media.session().latching, "symmetric RTP is opt-in");
        assert_eq!(s.media.idle_sockets().max, 4096);
        assert_eq!(
            s.media.idle_sockets().idle,
            std::time::Duration::from_secs(30)
        );
        assert!(s.media.tts_cache_dir.ends_with("ringmaster-tts"));
        assert_eq!(s.media.prompts_dir, PathBuf::from("prompts"));
        assert!(s.media.port_range().is_ok());
        let env = vec![(
            "RINGMASTER_MEDIA_RTP_TIMEOUT_MS".to_string(),
            "5000".to_string(),
        )];
        let s = Settings::from_toml("[media]\nrtp_ports = \"40000-40100\"\n", env).unwrap();
        assert_eq!(s.media.rtp_timeout_ms, 5000);
        assert_eq!(
            s.media.session().rtp_timeout,
            std::time::Duration::from_secs(5)
        );
        let bad = Settings::from_toml("[media]\nrtp_ports = \"9-3\"\n", Vec::new()).unwrap();
        assert!(bad.media.port_range().is_err());
    }

    #[test]
    fn weak_tokens_are_refused_beyond_loopback_only() {
        let with = |listen: &str, token: &str| {
            let text = format!(
                "[api]\nlisten = \"{listen}\"\n[[auth.tokens]]\ntoken = \"{token}\"\ncustomer_id = \"7a1b2c3d-4e5f-6789-abcd-ef0123456789\"\n"
            );
            Settings::from_toml(&text, Vec::new())
                .unwrap()
                .check_tokens_for_listen()
                .map_err(|e| e.to_string())
        };
        assert!(with("127.0.0.1:8080", "change-me").is_ok());
        assert!(with("[::1]:8080", "short").is_ok());
        let e = with("0.0.0.0:8080", "change-me").unwrap_err();
        assert!(
            e.contains("token \"change-me\"") && e.contains("the sample token"),
            "{e}"
        );
        assert!(with("0.0.0.0:8080", "0123456789abcde")
            .unwrap_err()
            .contains("too short"));
        assert!(with("0.0.0.0:8080", "0123456789abcdef").is_ok());
    }

    #[test]
    fn the_log_format_is_text_unless_told_json() {
        let s = Settings::from_toml("", Vec::new()).unwrap();
        assert_eq!(s.log.format, LogFormat::Text);
        let env = vec![("RINGMASTER_LOG_FORMAT".to_string(), "json".to_string())];
        let s = Settings::from_toml("[log]\nformat = \"text\"\n", env).unwrap();
        assert_eq!(s.log.format, LogFormat::Json);
        assert!(Settings::from_toml("[log]\nformat = \"xml\"\n", Vec::new()).is_err());
    }

    #[test]
    fn flood_limits_have_defaults_and_overrides() {
        let s = Settings::from_toml("", Vec::new()).unwrap();
        assert_eq!(s.sip.limits(), crate::sip::endpoint::Limits::default());
        let text = "[sip]\nmax_server_transactions = 500\nsource_rate = 0\n";
        let env = vec![(
            "RINGMASTER_SIP_UNWANTED_LOG_SECS".to_string(),
            "60".to_string(),
        )];
        let limits = Settings::from_toml(text, env).unwrap().sip.limits();
        assert_eq!(limits.max_server_transactions, 500);
        assert_eq!(limits.source_rate, 0);
        assert_eq!(limits.source_burst, 100);
        assert_eq!(
            limits.unwanted_log_interval,
            std::time::Duration::from_secs(60)
        );
    }

    #[test]
    fn registrar_settings_have_defaults_overrides_and_checks() {
        let shipped = include_str!("../config/ringmaster.toml");
        let s = Settings::from_toml(shipped, Vec::new()).unwrap();
        assert_eq!(
            s.sip.registrar().unwrap(),
            crate::sip::registrar::RegistrarConfig::default()
        );
        let text = "[sip]\nrealm = \"agents.example\"\nregister_min_expires = 120\n";
        let env = vec![(
            "RINGMASTER_SIP_QUALIFY_INTERVAL_S".to_string(),
            "0".to_string(),
        )];
        let r = Settings::from_toml(text, env)
            .unwrap()
            .sip
            .registrar()
            .unwrap();
        assert_eq!(r.realm, "agents.example");
        assert_eq!(r.min_expires, 120);
        assert!(r.qualify_interval.is_zero());
        let bad = Settings::from_toml("[sip]\nrealm = \"a \\\"b\"\n", Vec::new()).unwrap();
        assert!(bad.sip.registrar().is_err());
        let md5 = Settings::from_toml("[sip]\nregister_algorithms = [\"md5\"]\n", Vec::new());
        let md5 = md5.unwrap().sip.registrar().unwrap();
        assert_eq!(md5.algorithms, vec![crate::sip::auth::Algorithm::Md5]);
        let bad = Settings::from_toml("[sip]\nregister_algorithms = [\"SHA-512\"]\n", Vec::new());
        assert!(bad.unwrap().sip.registrar().is_err());
        let bad = Settings::from_toml("[sip]\nregister_min_expires = 7200\n", Vec::new()).unwrap();
        assert!(bad.sip.registrar().is_err());
    }

    #[test]
    fn unknown_keys_are_reported_by_name() {
        let err = Settings::from_toml("[sip]\nlisten_port = 5\n", Vec::new()).unwrap_err();
        assert!(err.to_string().contains("listen_port"), "{err}");
    }
}
