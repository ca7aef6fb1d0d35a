//! The immutable snapshot a request reads: the configuration, its compiled router, the plugin
//! chain of every route, and the key-auth index. Built by the config actor, swapped atomically,
//! loaded once per request, never locked.

use std::collections::HashMap;
use std::sync::Arc;

use uuid::Uuid;

use super::router::Router;
use crate::config::model::{Config, KeyAuthCredential};
use crate::config::ConfigError;
use crate::plugins::chain::{build_chains, Chain, Deps};
use crate::telemetry::record::EntityJson;

pub struct Snapshot {
    /// Increases with every applied configuration.
    pub version: u64,
    pub config: Arc<Config>,
    pub router: Router,
    pub chains: foldhash::HashMap<Uuid, Arc<Chain>>,
    /// key-auth credentials by key.
    pub keys: HashMap<String, Arc<KeyAuthCredential>>,
    /// Routes and services as log records show them.
    pub entity_json: EntityJson,
}

impl Snapshot {
    pub fn build(config: Config, version: u64, deps: &Deps) -> Result<Snapshot, ConfigError> {
        let chains = build_chains(&config, deps)?;
        let keys = config
            .keyauth_credentials
            .iter()
            .map(|c| (c.key.clone(), c.clone()))
            .collect();
        Ok(Snapshot {
            version,
            router: Router::new(&config),
            entity_json: EntityJson::of(&config),
            config: Arc::new(config),
            chains,
            keys,
        })
    }

    pub fn chain(&self, route: Uuid) -> Arc<Chain> {
        self.chains.get(&route).cloned().unwrap_or_default()
    }
}
