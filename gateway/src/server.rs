//! Starting the gateway: the actors, then the proxy, admin and status listeners. `start` runs
//! inside an actix system; `spawn` gives tests and the quickstart a gateway on its own thread.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread::JoinHandle;

use actix::Addr;
use actix_web::dev::{Server, ServerHandle};
use actix_web::{web, App, HttpServer};
use anyhow::Context as _;
use tracing_actix_web::TracingLogger;

use crate::actors::config::{initial_snapshot, ConfigActor, SnapshotCell};
use crate::actors::telemetry::TelemetryActor;
use crate::admin::{self, AdminState};
use crate::plugins::Deps;
use crate::proxy::handler::{self, ProxyState};
use crate::proxy::upstream::Upstreams;
use crate::settings::Settings;
use crate::telemetry::sink::LogSender;

/// A running gateway: its bound addresses and the means to stop it.
pub struct Gateway {
    pub proxy_addrs: Vec<SocketAddr>,
    pub admin_addrs: Vec<SocketAddr>,
    pub status_addrs: Vec<SocketAddr>,
    pub snapshot: SnapshotCell,
    pub config_actor: Addr<ConfigActor>,
    servers: Vec<ServerHandle>,
    tasks: Vec<actix_rt::task::JoinHandle<std::io::Result<()>>>,
}

impl Gateway {
    /// Stops accepting, lets in-flight requests finish (actix's graceful shutdown), then returns.
    pub async fn stop(self) {
        for s in &self.servers {
            s.stop(true).await;
        }
        for t in self.tasks {
            let _ = t.await;
        }
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
    let telemetry = TelemetryActor::start_supervised(settings.telemetry_queue_size);
    let deps = Deps {
        logs: LogSender::new(telemetry.recipient()),
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

    let proxy_state = web::Data::new(ProxyState {
        snapshot: snapshot.clone(),
    });
    let proxy_addrs = launch(
        settings.proxy_addrs(),
        "proxy",
        Box::new(move |addrs| {
            let server = HttpServer::new(move || {
                App::new()
                    .app_data(proxy_state.clone())
                    .app_data(web::Data::new(Upstreams::default()))
                    .wrap(TracingLogger::default())
                    .default_service(web::to(handler::handle))
            })
            .workers(workers)
            .disable_signals()
            .shutdown_timeout(30)
            .bind(addrs)?;
            let bound = server.addrs();
            Ok((server.run(), bound))
        }),
    )?;
    let admin_state = web::Data::new(AdminState {
        snapshot: snapshot.clone(),
        config: config_actor.clone(),
    });
    let admin_addrs = launch(
        settings.admin_addrs(),
        "admin",
        control_server(admin_state.clone(), admin::admin_routes),
    )?;
    let status_addrs = launch(
        settings.status_addrs(),
        "status",
        control_server(admin_state, admin::status_routes),
    )?;
    Ok(Gateway {
        proxy_addrs,
        admin_addrs,
        status_addrs,
        snapshot,
        config_actor,
        servers,
        tasks,
    })
}

/// A one-worker listener for the admin or status routes.
fn control_server(state: web::Data<AdminState>, routes: fn(&mut web::ServiceConfig)) -> BuildFn {
    Box::new(move |addrs| {
        let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(routes))
            .workers(1)
            .disable_signals()
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
