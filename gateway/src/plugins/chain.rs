//! The plugin trait with Kong's phases, and the per-route chains built from configuration.
//!
//! One instance of a plugin name runs for a request: the most specific wins (route+service >
//! route > service > global). Different plugins run by priority, highest first, so key-auth
//! (1250) authenticates before ai-mcp-proxy (820) and log plugins (≤ 13) see every section.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::HttpResponse;
use bytes::Bytes;
use futures_util::future::LocalBoxFuture;
use uuid::Uuid;

use super::context::{Ctx, ProxyRequest};
use crate::config::model::{Config, Plugin as PluginEntity, Route};
use crate::config::ConfigError;
use crate::telemetry::record::Record;
use crate::telemetry::sink::LogSender;

/// A plugin instance. Every phase defaults to doing nothing.
pub trait Plugin: Send + Sync + 'static {
    fn name(&self) -> &'static str;

    /// Kong's priority: higher runs first.
    fn priority(&self) -> i32;

    /// Names of request headers and query arguments that carry this plugin's credentials: the
    /// log record shows them `REDACTED`.
    fn secret_names(&self) -> &[String] {
        &[]
    }

    /// Before the upstream is called; `Err` answers the client at once.
    fn access<'a>(&'a self, _ctx: &'a mut Ctx, _req: &'a mut ProxyRequest) -> Access<'a> {
        Access::Done(Ok(()))
    }

    /// When the upstream's response head arrived (`ctx.status`, `ctx.response_headers`).
    fn header_filter(&self, _ctx: &mut Ctx) {}

    /// For each response chunk as it arrives from the upstream (observing only; a plugin that
    /// must change the body installs a [`BodyRewrite`] in `ctx.rewrite` during `header_filter`).
    fn body_filter(&self, _ctx: &mut Ctx, _chunk: &Bytes) {}

    /// After the response ended (or was cut): add to the log record or emit it. The request's
    /// facts (id, client address, upstream URI, response headers) are read from `record`,
    /// which holds them by then; `ctx` keeps the plugins' own state.
    fn log(&self, _ctx: &mut Ctx, _record: &mut Record) {}
}

/// What an access phase answers: decided at once (most requests, no allocation), or a future
/// to wait for (a plugin reading the request body).
pub enum Access<'a> {
    Done(Result<(), HttpResponse>),
    Wait(LocalBoxFuture<'a, Result<(), HttpResponse>>),
}

impl Access<'_> {
    pub async fn outcome(self) -> Result<(), HttpResponse> {
        match self {
            Access::Done(result) => result,
            Access::Wait(future) => future.await,
        }
    }
}

/// A response body a plugin must read, and may change, before the client sees any of it. The
/// relay holds the response head back and feeds the upstream body in until the rewrite answers;
/// from then on the rest of the body is relayed as it comes. Only requests that need it pay for
/// the hold (the MCP plugin installs one for a `tools/list` under an ACL).
pub trait BodyRewrite {
    /// Whether the response head waits for the rewrite (`false`: the head goes out at once and
    /// the rewrite sees each chunk as it streams, answering `Pass`).
    fn holds_head(&self) -> bool {
        true
    }
    /// One upstream chunk (already shown to every `body_filter`).
    fn feed(&mut self, ctx: &mut Ctx, chunk: &Bytes) -> Rewrite;
    /// The upstream body ended while held.
    fn end(&mut self, ctx: &mut Ctx) -> Rewrite;
}

pub enum Rewrite {
    /// Keep holding: more of the body is needed.
    Hold,
    /// Send the response now: these bytes first, then the rest of the upstream body unchanged.
    Release(Bytes),
    /// Send these bytes now and keep feeding the rewrite every later chunk (a rewrite of the
    /// whole stream, such as one event at a time).
    Pass(Bytes),
    /// Answer this instead; the upstream response is dropped.
    Replace(HttpResponse),
}

/// What building a plugin may need besides its configuration.
#[derive(Clone)]
pub struct Deps {
    pub logs: LogSender,
}

/// The plugins that run for one route, in priority order.
#[derive(Default)]
pub struct Chain {
    pub plugins: Vec<Arc<dyn Plugin>>,
    /// The plugins' [`Plugin::secret_names`] (none when they have none): what the route's
    /// records redact, in the request's headers and query.
    pub secret_names: Option<Arc<[String]>>,
}

impl Chain {
    /// [`Chain::secret_names`], as a list.
    pub fn secrets(&self) -> &[String] {
        self.secret_names.as_deref().unwrap_or(&[])
    }
}

/// Builds every enabled plugin once, then the chain of each route.
pub fn build_chains(
    config: &Config,
    deps: &Deps,
) -> Result<foldhash::HashMap<Uuid, Arc<Chain>>, ConfigError> {
    let mut built: Vec<(&PluginEntity, Arc<dyn Plugin>)> = Vec::new();
    for (i, entity) in config.plugins.iter().enumerate() {
        if !entity.enabled || entity.consumer.is_some() {
            continue;
        }
        let plugin = super::instantiate(entity, config, deps)
            .map_err(|e| ConfigError::new(format!("plugins[{i}].{}", e.path), e.message))?;
        built.push((entity, plugin));
    }
    Ok(config
        .routes
        .iter()
        .map(|route| (route.id, Arc::new(chain_for(route, &built))))
        .collect())
}

fn chain_for(route: &Route, built: &[(&PluginEntity, Arc<dyn Plugin>)]) -> Chain {
    let mut best: HashMap<&str, (u8, &Arc<dyn Plugin>)> = HashMap::new();
    for (entity, plugin) in built {
        let Some(rank) = specificity(entity, route) else {
            continue;
        };
        let slot = best.entry(entity.name.as_str()).or_insert((rank, plugin));
        if rank > slot.0 {
            *slot = (rank, plugin);
        }
    }
    let mut plugins: Vec<Arc<dyn Plugin>> = best.into_values().map(|(_, p)| p.clone()).collect();
    plugins.sort_by_key(|p| (std::cmp::Reverse(p.priority()), p.name()));
    let secret_names: Vec<String> = plugins
        .iter()
        .flat_map(|p| p.secret_names().iter().cloned())
        .collect();
    let secret_names = (!secret_names.is_empty()).then(|| secret_names.into());
    Chain {
        plugins,
        secret_names,
    }
}

/// How specific a plugin is for a route, or `None` when it does not apply to it.
fn specificity(entity: &PluginEntity, route: &Route) -> Option<u8> {
    match (entity.route, entity.service) {
        (Some(r), Some(s)) => (r == route.id && Some(s) == route.service).then_some(3),
        (Some(r), None) => (r == route.id).then_some(2),
        (None, Some(s)) => (Some(s) == route.service).then_some(1),
        (None, None) => Some(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plugin that only says which configured instance it is.
    struct Tagged(&'static str, i32);

    impl Plugin for Tagged {
        fn name(&self) -> &'static str {
            self.0
        }
        fn priority(&self) -> i32 {
            self.1
        }
    }

    const YAML: &str = r#"_format_version: "3.0"
services:
  - name: s1
    host: a.test
    routes:
      - { name: r1, paths: [/r1] }
      - { name: r2, paths: [/r2] }
  - name: s2
    host: b.test
    routes:
      - { name: r3, paths: [/r3] }
routes:
  - { name: r4, paths: [/r4] }
plugins:
  - { name: file-log, config: { path: /tmp/global } }
  - { name: file-log, service: s1, config: { path: /tmp/service } }
  - { name: file-log, route: r2, config: { path: /tmp/route } }
  - { name: file-log, route: r1, service: s1, config: { path: /tmp/route-service } }
  - { name: key-auth, service: s2 }
"#;

    fn chains() -> (Config, HashMap<String, Vec<&'static str>>) {
        let config = crate::config::parse_str(YAML, &|_| None, 0).unwrap();
        let labels = ["global", "service", "route", "route+service", "key-auth@s2"];
        let built: Vec<(&PluginEntity, Arc<dyn Plugin>)> = config
            .plugins
            .iter()
            .zip(labels)
            .map(|(e, _)| {
                let name = if e.name == "key-auth" {
                    "key-auth"
                } else {
                    "file-log"
                };
                let prio = if name == "key-auth" { 1250 } else { 9 };
                let p: Arc<dyn Plugin> = Arc::new(Tagged(name, prio));
                (e.as_ref(), p)
            })
            .collect();
        let mut out = HashMap::new();
        for route in &config.routes {
            let chain = chain_for(route, &built);
            let tags = chain
                .plugins
                .iter()
                .map(|p| {
                    let idx = built.iter().position(|(_, b)| Arc::ptr_eq(b, p)).unwrap();
                    labels[idx]
                })
                .collect();
            out.insert(route.name.clone().unwrap(), tags);
        }
        (config, out)
    }

    #[test]
    fn most_specific_instance_wins_and_priority_orders() {
        let (_, chains) = chains();
        assert_eq!(chains["r1"], ["route+service"]);
        assert_eq!(chains["r2"], ["route"]);
        assert_eq!(
            chains["r3"],
            ["key-auth@s2", "global"],
            "key-auth (1250) before file-log (9)"
        );
        assert_eq!(chains["r4"], ["global"]);
    }
}
