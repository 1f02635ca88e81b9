//! One ringmaster node: the store, the SIP endpoint, the dialing engine and the REST API,
//! started together from [`Settings`] (what `ringmaster serve` and `ringmaster demo` run).

use crate::campaign::engine::{self, Engine, EngineControl, StatusChanged};
use crate::campaign::Deps;
use crate::config::Settings;
use crate::domain::CampaignStatus;
use crate::health::NodeHealth;
use crate::sip::transport::{self, EndpointHandle, TransportConfig};
use crate::store::sqlite::SqliteLimits;
use crate::store::writer::Writer;
use crate::store::{SqliteStore, Store};
use crate::trunk::Trunk;
use crate::trunk::TrunkGate;
use actix::prelude::*;
use anyhow::Context as _;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// A running node.
pub struct Node {
    /// Where the REST API listens.
    pub api: SocketAddr,
    /// Where SIP (UDP) listens.
    pub sip: SocketAddr,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The engine.
    pub engine: Addr<Engine>,
    /// The API server (stop it to shut down).
    pub server: actix_web::dev::ServerHandle,
}

/// A store's error at start, after `what`, with what to check when the database cannot be
/// opened or written.
fn store_error(e: crate::store::StoreError, what: &str) -> anyhow::Error {
    let hint = if e.cannot_open() || e.cannot_write() {
        " (ringmaster must be able to write the file and its directory, where SQLite keeps its \
         -wal and -shm files)"
    } else {
        ""
    };
    anyhow::Error::new(e).context(format!("{what}{hint}"))
}

/// Starts a node inside the current actix system. `api` is an already-bound listener.
pub async fn start(settings: &Settings, api: std::net::TcpListener) -> anyhow::Result<Node> {
    crate::keep_freed_memory();
    if !crate::no_huge_pages() {
        tracing::debug!("transparent huge pages could not be disabled for the process");
    }
    let limits = SqliteLimits {
        max_bytes: settings.database.max_size_mb.saturating_mul(1 << 20),
        abandon_lockout_ms: settings
            .dialing
            .abandon_lockout_hours
            .saturating_mul(3_600_000),
    };
    let url = &settings.database.url;
    let store: Arc<dyn Store> = Arc::new(
        SqliteStore::open_with(url, limits)
            .await
            .map_err(|e| store_error(e, &format!("cannot open the database {url}")))?,
    );
    let recovered = engine::recover(store.as_ref())
        .await
        .map_err(|e| store_error(e, &format!("cannot recover after the last run in {url}")))?;
    let mut resolved = Vec::new();
    for t in &settings.trunk {
        let trunk = Trunk::resolve(t.clone())
            .await
            .with_context(|| format!("trunk {:?}", t.name))?;
        resolved.push(trunk);
    }
    // The endpoint knows the trunks by IP: their requests are served without limits.
    let endpoint = start_sip(settings, resolved.iter().map(|t| t.peer.ip()).collect()).await?;
    engine::end_dialogs(endpoint.clone(), recovered.dialogs);
    // Agents' `tel` addresses are called through the first trunk.
    let agent_trunk = resolved.first().cloned();
    let writer = Writer::start(store.clone())?;
    let events: Arc<dyn crate::domain::EventSink> = Arc::new(writer.clone());
    let now = std::time::Instant::now();
    let mut trunks = BTreeMap::new();
    for trunk in resolved {
        let name = trunk.config.name.clone();
        let gate = Arc::new(TrunkGate::new(trunk, now));
        gate.events.set(events.clone());
        actix::spawn(crate::trunk::keepalive::run(endpoint.clone(), gate.clone()));
        trunks.insert(name, gate);
    }
    let open_files = crate::media::ports::raise_open_files_limit();
    tracing::debug!(open_files, "open-file limit");
    let ports = crate::media::ports::PortPool::with_idle_sockets(
        settings.media.port_range()?,
        settings.media.idle_sockets(),
    );
    // Ends by itself once the pool is dropped.
    drop(ports.spawn_idle_sweeper());
    let health = Arc::new(NodeHealth {
        store: writer.health().clone(),
        trunks,
        default_trunk: settings
            .trunk
            .first()
            .map(|t| t.name.clone())
            .unwrap_or_default(),
    });
    let agents = Arc::new(crate::agent::AgentBoard::default());
    agents.events.set(events.clone());
    let directory = crate::agent::AgentDirectory::start(
        store.clone(),
        endpoint.clone(),
        agents.clone(),
        settings.sip.realm.clone(),
    )
    .await
    .context("cannot load the agents")?;
    let queue_board = Arc::new(crate::queue::QueueBoard::default());
    queue_board.events.set(events.clone());
    let queues = Arc::new(crate::queue::QueueRegistry::new(crate::queue::QueueParts {
        store: store.clone(),
        endpoint: endpoint.clone(),
        agents: agents.clone(),
        directory: directory.clone(),
        board: queue_board.clone(),
        ports: ports.clone(),
        relay: settings.media.relay(),
        trunk: agent_trunk,
        prompts_dir: settings.media.prompts_dir.clone(),
        cache_dir: settings.media.tts_cache_dir.clone(),
    }));
    let clock = crate::campaign::Clock::offset_by(settings.campaign.clock_offset_s);
    if settings.campaign.clock_offset_s != 0 {
        tracing::warn!(
            offset_s = settings.campaign.clock_offset_s,
            "call windows and schedules read a clock moved by [campaign] clock_offset_s"
        );
    }
    let board = Arc::new(crate::campaign::board::CampaignBoard::default());
    let deps = Arc::new(Deps {
        store: store.clone(),
        writer,
        endpoint: endpoint.clone(),
        health: health.clone(),
        queues: Some(queues),
        agents: Some(agents.clone()),
        dialing: settings.dialing.clone(),
        media: Arc::new(crate::call::actor::MediaDeps {
            ports,
            session: settings.media.session(),
            cache_dir: settings.media.tts_cache_dir.clone(),
            prompts_dir: settings.media.prompts_dir.clone(),
        }),
        call_arbiters: call_arbiters(),
        next_arbiter: Default::default(),
        clock,
        board: board.clone(),
    });
    let engine = Engine::new(deps).start();
    for id in recovered.campaigns {
        tracing::info!(campaign = %id, "resuming campaign");
        engine.do_send(StatusChanged {
            id,
            status: CampaignStatus::Run,
        });
    }
    for id in recovered.scheduled {
        engine.do_send(StatusChanged {
            id,
            status: CampaignStatus::Scheduled,
        });
    }
    let api_addr = api.local_addr()?;
    let state = crate::api::ApiState {
        store: store.clone(),
        control: Arc::new(EngineControl(engine.clone())),
        tokens: settings
            .auth
            .tokens
            .iter()
            .map(|t| (t.token.clone(), t.customer_id))
            .collect(),
        default_region: settings.api.default_region.clone(),
        trunks: settings.trunk.iter().map(|t| t.name.clone()).collect(),
        health,
        limits: settings.api.limits(),
        live: crate::api::Live {
            agents,
            queues: queue_board,
            agent_changes: Arc::new(directory),
            campaigns: board,
            clock,
        },
        realm: settings.sip.realm.clone(),
        events: settings.events.clone(),
        metrics_token: settings.api.metrics_token.clone().filter(|t| !t.is_empty()),
    };
    actix::spawn(crate::events::retention::run(
        store.clone(),
        settings.events.clone(),
    ));
    actix::spawn(crate::events::delivery::run(
        store.clone(),
        settings.webhooks.clone(),
    ));
    let server = crate::api::serve(api, state).await?;
    let handle = server.handle();
    actix::spawn(async move {
        if let Err(e) = server.await {
            tracing::error!(error = %e, "API server failed");
        }
    });
    Ok(Node {
        api: api_addr,
        sip: endpoint.udp_addr(),
        store,
        engine,
        server: handle,
    })
}

/// Arbiters (threads with their own event loop) for call actors, so that calls are not all
/// handled on the thread of the campaign actors and the API: one per two cores. A call actor
/// mostly hands messages between the SIP thread, its campaign and the store, which have
/// threads of their own; more call threads than that only add switches between them.
fn call_arbiters() -> Vec<actix::ArbiterHandle> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (0..(cores / 2).max(1))
        .map(|_| {
            let arbiter = actix::Arbiter::new();
            let handle = arbiter.handle();
            // The arbiter lives as long as the process, like the node.
            std::mem::forget(arbiter);
            handle
        })
        .collect()
}

/// Starts the SIP endpoint on a thread of its own, so that SIP timers and retransmissions
/// never wait behind actors or the API.
async fn start_sip(
    settings: &Settings,
    trunks: Vec<std::net::IpAddr>,
) -> anyhow::Result<EndpointHandle> {
    let config = TransportConfig {
        udp_bind: settings.sip.listen,
        tcp_bind: settings.sip.tcp_listen,
        advertise: settings.sip.advertise,
        udp_buffer_bytes: settings.sip.udp_buffer_bytes,
        timers: settings.sip.timers(),
        trunks,
        limits: settings.sip.limits(),
        registrar: settings.sip.registrar()?,
        ..TransportConfig::default()
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("sip".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(anyhow::anyhow!("cannot start the SIP runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                match transport::start(config).await {
                    Ok(handle) => {
                        let _ = tx.send(Ok(handle));
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(anyhow::anyhow!("cannot open the SIP socket: {e}")));
                    }
                }
            });
        })?;
    rx.await.context("the SIP thread stopped")?
}
