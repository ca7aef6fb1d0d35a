//! File types → runtime model: the only way into [`Config`]. Checks what the types cannot
//! (URLs, paths, regexes, exclusive fields), resolves every reference by name or id, gives every
//! entity an id (derived from its natural key when the file has none) and timestamps, and runs
//! each plugin's config through its schema. Errors name the path in the file's own structure
//! (`services[0].routes[1].paths[0]`).

mod consumers;
mod plugins;
mod registry;
mod routes;
mod services;

use std::sync::Arc;

use uuid::Uuid;

use super::error::ConfigError;
use super::file::{DeckFile, PluginFile, RouteFile, FORMAT_VERSIONS};
use super::model::{Config, ConsumerGroup};
use registry::Registry;

/// Validates a parsed decK file. `now` (epoch seconds) stamps entities that carry no
/// `created_at`/`updated_at` of their own.
pub fn validate(file: &DeckFile, now: i64) -> Result<Config, ConfigError> {
    check_format_version(&file.format_version)?;
    let mut builder = Builder::new(now);
    services::add(&mut builder, &file.services)?;
    routes::add(&mut builder, &file.routes)?;
    consumers::add(&mut builder, file)?;
    plugins::add(&mut builder, &file.plugins)?;
    Ok(builder.finish())
}

fn check_format_version(version: &str) -> Result<(), ConfigError> {
    if FORMAT_VERSIONS.contains(&version) {
        return Ok(());
    }
    let message = format!(
        "unsupported format version {version:?} (expected one of {})",
        FORMAT_VERSIONS.join(", ")
    );
    Err(ConfigError::new("_format_version", message))
}

/// A route found nested in a service, validated once all services are known.
struct NestedRoute<'a> {
    path: String,
    route: &'a RouteFile,
    service: Uuid,
}

/// A plugin found anywhere in the file, with the scope its nesting implies.
struct PendingPlugin<'a> {
    path: String,
    plugin: &'a PluginFile,
    scope: Scope,
    /// The entity kind it is nested in (`service`, `route`, `consumer`), if any.
    nested_in: Option<&'static str>,
}

/// The entities a plugin applies to; all `None` is global.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
struct Scope {
    service: Option<Uuid>,
    route: Option<Uuid>,
    consumer: Option<Uuid>,
}

/// The model under construction, with the identity registries of every kind.
struct Builder<'a> {
    now: i64,
    config: Config,
    groups: Vec<ConsumerGroup>,
    services: Registry,
    routes: Registry,
    consumers: Registry,
    custom_ids: Registry,
    consumer_groups: Registry,
    credentials: Registry,
    plugins: Registry,
    nested_routes: Vec<NestedRoute<'a>>,
    pending_plugins: Vec<PendingPlugin<'a>>,
}

impl<'a> Builder<'a> {
    fn new(now: i64) -> Builder<'a> {
        Builder {
            now,
            config: Config::default(),
            groups: Vec::new(),
            services: Registry::new("service"),
            routes: Registry::new("route"),
            consumers: Registry::new("consumer").naming("username"),
            custom_ids: Registry::new("consumer").naming("custom_id"),
            consumer_groups: Registry::new("consumer group"),
            credentials: Registry::new("keyauth_credential").naming("key"),
            plugins: Registry::new("plugin"),
            nested_routes: Vec::new(),
            pending_plugins: Vec::new(),
        }
    }

    /// `created_at`/`updated_at`: the file's, else `now`.
    fn stamps(&self, created: Option<i64>, updated: Option<i64>) -> (i64, i64) {
        (created.unwrap_or(self.now), updated.unwrap_or(self.now))
    }

    /// Queues the plugins nested in an entity (validated once every entity is known).
    fn nest_plugins(
        &mut self,
        parent: &str,
        plugins: &'a [PluginFile],
        scope: Scope,
        kind: &'static str,
    ) {
        for (i, plugin) in plugins.iter().enumerate() {
            self.pending_plugins.push(PendingPlugin {
                path: format!("{parent}.plugins[{i}]"),
                plugin,
                scope,
                nested_in: Some(kind),
            });
        }
    }

    fn finish(mut self) -> Config {
        self.config.consumer_groups = self.groups.into_iter().map(Arc::new).collect();
        self.config
    }
}
