//! The admin and status listeners: node information, `/status`, `/metrics`, and a reload hook.

use actix::Addr;
use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::actors::config::{ConfigActor, LastError, Reload, SnapshotCell};
use crate::telemetry::metrics;

pub struct AdminState {
    pub snapshot: SnapshotCell,
    pub config: Addr<ConfigActor>,
}

/// Routes served on the admin listener.
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(node_info))
        .route("/status", web::get().to(status))
        .route("/metrics", web::get().to(render_metrics))
        .route("/config/reload", web::post().to(reload));
}

/// Routes served on the status listener (a read-only subset).
pub fn status_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/status", web::get().to(status))
        .route("/status/ready", web::get().to(ready))
        .route("/metrics", web::get().to(render_metrics));
}

async fn node_info(state: web::Data<AdminState>) -> HttpResponse {
    let snap = state.snapshot.load();
    HttpResponse::Ok().json(json!({
        "tagline": "Welcome to the MCP gateway",
        "version": env!("CARGO_PKG_VERSION"),
        "configuration": { "database": "off", "version": snap.version },
        "plugins": { "available_on_server": crate::plugins::AVAILABLE },
    }))
}

/// Kong's `/status`, plus `configuration_error`: why the declarative file is refused while the
/// last good configuration serves (`null` when it is not).
async fn status(state: web::Data<AdminState>) -> HttpResponse {
    let error = state.config.send(LastError).await.unwrap_or(None);
    let snap = state.snapshot.load();
    HttpResponse::Ok().json(json!({
        "database": { "reachable": true },
        "configuration_version": snap.version,
        "configuration_error": error,
        "server": { "entities": {
            "services": snap.config.services.len(),
            "routes": snap.config.routes.len(),
            "plugins": snap.config.plugins.len(),
            "consumers": snap.config.consumers.len(),
        }},
    }))
}

async fn ready() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "message": "ready" }))
}

async fn render_metrics() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(metrics::render())
}

/// Checks the declarative file now instead of waiting for the next poll.
async fn reload(state: web::Data<AdminState>) -> HttpResponse {
    match state.config.send(Reload).await {
        Ok(Ok(version)) => HttpResponse::Ok().json(json!({ "version": version })),
        Ok(Err(reason)) => HttpResponse::BadRequest().json(json!({
            "code": 14, "name": "invalid declarative configuration", "message": reason,
        })),
        Err(e) => HttpResponse::ServiceUnavailable().json(json!({ "message": e.to_string() })),
    }
}
