//! Starting the gateway: the actors, then the proxy, admin and status listeners. `start` runs
//! inside an actix system; `spawn` gives tests and the quickstart a gateway on its own thread.
//! `Gateway::stop` is the graceful shutdown: stop accepting, drain, flush the log records.

mod conn;
mod drain;
mod in_flight;
mod limits;
mod listener;
mod span;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;

use actix::Addr;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::KeepAlive;
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;

use self::in_flight::InFlight;
use self::limits::ClientLimits;
use crate::actors::config::{initial_snapshot, ConfigActor, SnapshotCell};
use crate::actors::telemetry::{Flush, TelemetryActor};
use crate::admin::{self, AdminState};
use crate::plugins::Deps;
use crate::proxy::handler::ProxyState;
use crate::settings::Settings;
use crate::telemetry::sink::{self, LogSender};

/// A running gateway: its bound addresses and the means to stop it.
pub struct Gateway {
    pub proxy_addrs: Vec<SocketAddr>,
    pub admin_addrs: Vec<SocketAddr>,
    pub status_addrs: Vec<SocketAddr>,
    pub snapshot: SnapshotCell,
    pub config_actor: Addr<ConfigActor>,
    pub telemetry: Addr<TelemetryActor>,
    servers: Vec<ServerHandle>,
    tasks: Vec<actix_rt::task::JoinHandle<std::io::Result<()>>>,
    in_flight: InFlight,
    drain: Duration,
}

impl Gateway {
    /// The graceful shutdown: every listener stops accepting at once; idle kept-alive
    /// connections are closed, requests and streams in flight get up to the drain timeout
    /// (`nginx_main_worker_shutdown_timeout`) to finish, their connections closing after their
    /// response; then queued log records are flushed (bounded by the drain timeout too).
    /// Answers whether the log records were all written or delivered in time.
    pub async fn stop(self) -> bool {
        let stops = self.servers.iter().map(|s| s.stop(true));
        futures_util::future::join_all(stops).await;
        for t in self.tasks {
            let _ = t.await;
        }
        // Requests cut by the drain timeout end on the worker threads as those stop: wait for
        // their log phases, so their records are in the flush too.
        if !self.in_flight.settled(Duration::from_secs(2)).await {
            tracing::warn!(
                requests = self.in_flight.count(),
                "shutdown: requests still ending; their log records may be missing"
            );
        }
        let flushed = self
            .telemetry
            .send(Flush {
                timeout: self.drain.max(Duration::from_secs(1)),
            })
            .await
            .unwrap_or(false);
        flushed
    }

    /// How long `stop` lets in-flight requests run.
    pub fn drain_timeout(&self) -> Duration {
        self.drain
    }

    /// Resolves when every listener has stopped (for example on SIGTERM).
    pub async fn wait(self) {
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

/// Starts the gateway in the current actix system.
pub async fn start(settings: &Settings) -> anyhow::Result<Gateway> {
    crate::telemetry::metrics::handle();
    let (sender, queue) = sink::queue(settings.telemetry_queue_size);
    let telemetry = TelemetryActor::start_supervised(queue);
    let deps = Deps {
        logs: LogSender::new(sender, telemetry.clone().recipient()),
    };
    let file: Option<PathBuf> = settings.declarative_config.clone();
    let initial = initial_snapshot(file.as_ref(), &deps).map_err(|e| match &file {
        Some(f) => anyhow::anyhow!("{}: {e}", f.display()),
        None => anyhow::anyhow!("{e}"),
    })?;
    let snapshot = initial.cell.clone();
    let config_actor =
        ConfigActor::new(file, &initial, deps, settings.poll_interval()).start_supervised();
    let workers = match settings.worker_processes {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };

    let mut servers = Vec::new();
    let mut tasks = Vec::new();
    let mut launch =
        |addrs: Vec<SocketAddr>, what: &str, built: BuildFn| -> anyhow::Result<Vec<SocketAddr>> {
            if addrs.is_empty() {
                return Ok(Vec::new());
            }
            let (server, bound) =
                built(&addrs).with_context(|| format!("binding the {what} listener {addrs:?}"))?;
            servers.push(server.handle());
            tasks.push(actix_rt::spawn(server));
            tracing::info!(listener = what, addrs = ?bound, "listening");
            Ok(bound)
        };

    let proxy_state = ProxyState {
        snapshot: snapshot.clone(),
    };
    let in_flight = InFlight::default();
    let limits = Arc::new(ClientLimits {
        body_timeout: settings.client_body_timeout(),
        max_body: settings.client_max_body_size(),
    });
    let http = HttpTimeouts::of(settings);
    let shared = listener::ProxyApp {
        state: proxy_state,
        limits,
        in_flight: in_flight.clone(),
    };
    let proxy_addrs = launch(
        settings.proxy_addrs(),
        "proxy",
        Box::new(move |addrs| listener::proxy(addrs, workers, http, shared)),
    )?;
    let admin_state = web::Data::new(AdminState {
        snapshot: snapshot.clone(),
        config: config_actor.clone(),
    });
    let admin_addrs = launch(
        settings.admin_addrs(),
        "admin",
        control_server(admin_state.clone(), admin::admin_routes, http),
    )?;
    let status_addrs = launch(
        settings.status_addrs(),
        "status",
        control_server(admin_state, admin::status_routes, http),
    )?;
    Ok(Gateway {
        proxy_addrs,
        admin_addrs,
        status_addrs,
        snapshot,
        config_actor,
        telemetry,
        servers,
        tasks,
        in_flight,
        drain: settings.shutdown_timeout(),
    })
}

/// The client-side timeouts actix applies itself, from the settings.
#[derive(Debug, Clone, Copy)]
struct HttpTimeouts {
    header: Duration,
    keep_alive: Duration,
    linger: Duration,
    drain: Duration,
}

impl HttpTimeouts {
    fn of(settings: &Settings) -> Self {
        HttpTimeouts {
            header: settings.client_header_timeout(),
            keep_alive: settings.keepalive_timeout(),
            linger: settings.lingering_timeout(),
            drain: settings.shutdown_timeout(),
        }
    }

    fn keep_alive(self) -> KeepAlive {
        if self.keep_alive.is_zero() {
            KeepAlive::Disabled
        } else {
            KeepAlive::Timeout(self.keep_alive)
        }
    }

    /// actix counts the drain in whole seconds: rounded up so a drain is never cut short.
    fn drain_secs(self) -> u64 {
        self.drain.as_secs() + u64::from(self.drain.subsec_nanos() > 0)
    }
}

/// A one-worker listener for the admin or status routes.
fn control_server(
    state: web::Data<AdminState>,
    routes: fn(&mut web::ServiceConfig),
    http: HttpTimeouts,
) -> BuildFn {
    Box::new(move |addrs| {
        let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(routes))
            .workers(1)
            .disable_signals()
            .client_request_timeout(http.header)
            .client_disconnect_timeout(http.linger)
            .keep_alive(http.keep_alive())
            .shutdown_timeout(http.drain_secs())
            .bind(addrs)?;
        let bound = server.addrs();
        Ok((server.run(), bound))
    })
}

/// Builds, binds and returns a server with the addresses it bound.
type BuildFn = Box<dyn FnOnce(&[SocketAddr]) -> std::io::Result<(Server, Vec<SocketAddr>)>>;

/// A gateway running on a thread of its own, with its own actix system.
pub struct GatewayHandle {
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    pub status: Option<SocketAddr>,
    stop: Option<actix_rt::System>,
    thread: Option<JoinHandle<()>>,
}

impl GatewayHandle {
    pub fn proxy_url(&self) -> String {
        format!("http://{}", self.proxy)
    }

    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin)
    }

    /// Stops the system and waits for the thread.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(system) = self.stop.take() {
            system.stop();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for GatewayHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Starts a gateway on its own thread and returns once it listens.
pub fn spawn(settings: Settings) -> anyhow::Result<GatewayHandle> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("gateway".into())
        .spawn(move || {
            let system = actix_rt::System::new();
            let started = system.block_on(start(&settings));
            match started {
                Ok(gw) => {
                    let first = |v: &[SocketAddr]| v.first().copied();
                    let _ = tx.send(Ok((
                        first(&gw.proxy_addrs),
                        first(&gw.admin_addrs),
                        first(&gw.status_addrs),
                        actix_rt::System::current(),
                    )));
                    // Runs until `System::stop`; the listeners run on this system's runtime.
                    let _ = system.run();
                    drop(gw);
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        })
        .context("starting the gateway thread")?;
    let (proxy, admin, status, system) = rx.recv().context("gateway thread ended")??;
    Ok(GatewayHandle {
        proxy: proxy.context("no proxy listener")?,
        admin: admin.context("no admin listener")?,
        status,
        stop: Some(system),
        thread: Some(thread),
    })
}
