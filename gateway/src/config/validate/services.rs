//! Services: the `url` shorthand or its parts, Kong's defaults, and the routes and plugins
//! nested in them.

use std::sync::Arc;

use super::{Builder, NestedRoute, Scope};
use crate::config::error::ConfigError;
use crate::config::file::ServiceFile;
use crate::config::model::{Protocol, Service};
use crate::config::url;

pub(super) fn add<'a>(b: &mut Builder<'a>, services: &'a [ServiceFile]) -> Result<(), ConfigError> {
    for (i, file) in services.iter().enumerate() {
        let path = format!("services[{i}]");
        let service = build(b, file, &path)?;
        for (j, route) in file.routes.iter().enumerate() {
            b.nested_routes.push(NestedRoute {
                path: format!("{path}.routes[{j}]"),
                route,
                service: service.id,
            });
        }
        let scope = Scope {
            service: Some(service.id),
            ..Scope::default()
        };
        b.nest_plugins(&path, &file.plugins, scope, "service");
        b.config.services.push(Arc::new(service));
    }
    Ok(())
}

fn build(b: &mut Builder<'_>, file: &ServiceFile, path: &str) -> Result<Service, ConfigError> {
    let target = target(file, path)?;
    let key = match &file.name {
        Some(name) => name.clone(),
        None => target.key(),
    };
    let id = b.services.allocate(file.id, &key, path)?;
    if let Some(name) = &file.name {
        b.services.add_name(name, id, &format!("{path}.name"))?;
    }
    let (created_at, updated_at) = b.stamps(file.created_at, file.updated_at);
    Ok(Service {
        id,
        name: file.name.clone(),
        protocol: target.protocol,
        host: target.host,
        port: target.port,
        path: target.path,
        retries: file.retries,
        connect_timeout: file.connect_timeout,
        read_timeout: file.read_timeout,
        write_timeout: file.write_timeout,
        enabled: file.enabled,
        tags: file.tags.clone(),
        created_at,
        updated_at,
    })
}

/// Where a service sends requests.
struct Target {
    protocol: Protocol,
    host: String,
    port: u16,
    path: Option<String>,
}

impl Target {
    /// The natural key of a service without a name.
    fn key(&self) -> String {
        let path = self.path.as_deref().unwrap_or("");
        format!(
            "{}://{}:{}{path}",
            self.protocol.as_str(),
            self.host,
            self.port
        )
    }
}

/// The target from `url`, or from `protocol`/`host`/`port`/`path`; never both.
fn target(file: &ServiceFile, path: &str) -> Result<Target, ConfigError> {
    let target = match &file.url {
        Some(url) => from_url(file, url, path)?,
        None => from_parts(file, path)?,
    };
    if let Some(p) = &target.path {
        if !p.starts_with('/') {
            return Err(ConfigError::new(
                format!("{path}.path"),
                "must start with /",
            ));
        }
    }
    Ok(target)
}

fn from_url(file: &ServiceFile, url: &str, path: &str) -> Result<Target, ConfigError> {
    let given = [
        ("protocol", file.protocol.is_some()),
        ("host", file.host.is_some()),
        ("port", file.port.is_some()),
        ("path", file.path.is_some()),
    ];
    if let Some((field, _)) = given.iter().find(|(_, set)| *set) {
        return Err(ConfigError::new(
            format!("{path}.{field}"),
            "cannot be set together with url",
        ));
    }
    let url_path = format!("{path}.url");
    let parsed = url::parse(url).map_err(|m| ConfigError::new(&url_path, m))?;
    let protocol = protocol_named(&parsed.scheme).ok_or_else(|| {
        ConfigError::new(&url_path, format!("unknown protocol {:?}", parsed.scheme))
    })?;
    Ok(Target {
        protocol,
        host: parsed.host,
        port: parsed.port.unwrap_or(protocol.default_port()),
        path: parsed.path,
    })
}

fn from_parts(file: &ServiceFile, path: &str) -> Result<Target, ConfigError> {
    let host = match &file.host {
        Some(host) if !host.is_empty() => host.clone(),
        _ => {
            return Err(ConfigError::new(
                format!("{path}.host"),
                "required field missing (set url or host)",
            ))
        }
    };
    let protocol = file.protocol.map(Protocol::from).unwrap_or(Protocol::Http);
    Ok(Target {
        protocol,
        host,
        port: file.port.unwrap_or(protocol.default_port()),
        path: file.path.clone(),
    })
}

/// A protocol by its Kong name.
fn protocol_named(name: &str) -> Option<Protocol> {
    let all = [
        Protocol::Http,
        Protocol::Https,
        Protocol::Grpc,
        Protocol::Grpcs,
        Protocol::Tcp,
        Protocol::Tls,
        Protocol::Udp,
        Protocol::Ws,
        Protocol::Wss,
    ];
    all.into_iter().find(|p| p.as_str() == name)
}
