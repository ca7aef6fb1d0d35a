//! Plugins: known names, scope references, one instance per name and scope, the config run
//! through the plugin's schema, and what this gateway supports of `ai-mcp-proxy`.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use super::{Builder, PendingPlugin, Scope};
use crate::config::de::join_path;
use crate::config::error::ConfigError;
use crate::config::file::PluginFile;
use crate::config::model::Plugin;
use crate::plugins::ai_mcp_proxy::schema as mcp;
use crate::plugins::schema::{normalize, KNOWN_PLUGINS};

/// Adds every plugin: those nested in services, routes and consumers, then the top-level ones.
pub(super) fn add<'a>(b: &mut Builder<'a>, plugins: &'a [PluginFile]) -> Result<(), ConfigError> {
    for (i, plugin) in plugins.iter().enumerate() {
        b.pending_plugins.push(PendingPlugin {
            path: format!("plugins[{i}]"),
            plugin,
            scope: Scope::default(),
            nested_in: None,
        });
    }
    let mut taken: HashMap<(String, Scope), String> = HashMap::new();
    let mut instance_names: HashMap<String, String> = HashMap::new();
    for pending in std::mem::take(&mut b.pending_plugins) {
        let plugin = build(b, &pending)?;
        let slot = (plugin.name.clone(), scope_of(&plugin));
        if let Some(first) = taken.insert(slot, pending.path.clone()) {
            let message = format!(
                "plugin {:?} is already configured for this scope at {first}",
                plugin.name
            );
            return Err(ConfigError::new(pending.path, message));
        }
        if let Some(name) = &plugin.instance_name {
            if let Some(first) = instance_names.insert(name.clone(), pending.path.clone()) {
                let message = format!("duplicate instance_name {name:?} (first at {first})");
                return Err(ConfigError::new(
                    format!("{}.instance_name", pending.path),
                    message,
                ));
            }
        }
        b.config.plugins.push(Arc::new(plugin));
    }
    Ok(())
}

fn scope_of(plugin: &Plugin) -> Scope {
    Scope {
        service: plugin.service,
        route: plugin.route,
        consumer: plugin.consumer,
    }
}

fn build(b: &mut Builder<'_>, pending: &PendingPlugin<'_>) -> Result<Plugin, ConfigError> {
    let (file, path) = (pending.plugin, pending.path.as_str());
    if !KNOWN_PLUGINS.contains(&file.name.as_str()) {
        let message = format!("unknown plugin {:?}", file.name);
        return Err(ConfigError::new(format!("{path}.name"), message));
    }
    let scope = scope(b, pending)?;
    let config = config(file, path, &scope)?;
    let key = natural_key(file, &scope);
    let id = b.plugins.allocate(file.id, &key, path)?;
    let (created_at, updated_at) = b.stamps(file.created_at, file.updated_at);
    Ok(Plugin {
        id,
        name: file.name.clone(),
        instance_name: file.instance_name.clone(),
        config,
        service: scope.service,
        route: scope.route,
        consumer: scope.consumer,
        enabled: file.enabled,
        protocols: file.protocols.iter().map(|p| (*p).into()).collect(),
        tags: file.tags.clone(),
        created_at,
        updated_at,
    })
}

/// The nesting's scope plus the plugin's own references (which may not repeat the nesting).
fn scope(b: &Builder<'_>, pending: &PendingPlugin<'_>) -> Result<Scope, ConfigError> {
    let (file, path) = (pending.plugin, pending.path.as_str());
    let mut scope = pending.scope;
    let refs = [
        ("service", &file.service, &b.services, &mut scope.service),
        ("route", &file.route, &b.routes, &mut scope.route),
        (
            "consumer",
            &file.consumer,
            &b.consumers,
            &mut scope.consumer,
        ),
    ];
    for (kind, reference, registry, slot) in refs {
        let Some(reference) = reference else { continue };
        let at = format!("{path}.{kind}");
        if pending.nested_in == Some(kind) {
            let message = format!("cannot be set on a plugin nested in a {kind}");
            return Err(ConfigError::new(at, message));
        }
        *slot = Some(registry.resolve(reference, &at)?);
    }
    Ok(scope)
}

/// The normalized config, with `ai-mcp-proxy`'s extra rules applied.
fn config(file: &PluginFile, path: &str, scope: &Scope) -> Result<Value, ConfigError> {
    let config_path = format!("{path}.config");
    if file.name == mcp::NAME && scope.consumer.is_some() {
        let at = match file.consumer {
            Some(_) => format!("{path}.consumer"),
            None => path.to_string(),
        };
        return Err(ConfigError::new(
            at,
            "ai-mcp-proxy cannot be consumer-scoped",
        ));
    }
    let config = file.config.clone().unwrap_or(Value::Null);
    let config = normalize(&file.name, &config)
        .map_err(|e| ConfigError::new(join_path(&config_path, &e.path), e.message))?;
    if file.name == mcp::NAME {
        check_mcp(&config, &config_path)?;
    }
    Ok(config)
}

/// What this gateway can run: passthrough-listener, whose tools name upstream tools.
fn check_mcp(config: &Value, path: &str) -> Result<(), ConfigError> {
    let mode = config["mode"].as_str().unwrap_or_default();
    if mode != mcp::Mode::PassthroughListener.as_str() {
        let message = format!("mode {mode:?} is not supported yet (only passthrough-listener)");
        return Err(ConfigError::new(format!("{path}.mode"), message));
    }
    let tools = config["tools"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    match tools
        .iter()
        .position(|t| t.get("name").is_none_or(Value::is_null))
    {
        Some(i) => Err(ConfigError::new(
            format!("{path}.tools[{i}].name"),
            "required field missing (in passthrough-listener mode, the upstream tool's name)",
        )),
        None => Ok(()),
    }
}

/// Name, scope and instance name: what identifies a plugin without an id.
fn natural_key(file: &PluginFile, scope: &Scope) -> String {
    let id = |u: Option<Uuid>| u.map(|u| u.to_string()).unwrap_or_default();
    let instance = file.instance_name.as_deref().unwrap_or("");
    format!(
        "{}|{}|{}|{}|{instance}",
        file.name,
        id(scope.service),
        id(scope.route),
        id(scope.consumer)
    )
}
