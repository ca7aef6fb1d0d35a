//! Consumers, consumer groups (membership from either side) and key-auth credentials.

use std::sync::Arc;

use uuid::Uuid;

use super::{Builder, Scope};
use crate::config::error::ConfigError;
use crate::config::file::{ConsumerFile, ConsumerGroupFile, DeckFile, KeyAuthFile};
use crate::config::model::{Consumer, ConsumerGroup, KeyAuthCredential};

pub(super) fn add<'a>(b: &mut Builder<'a>, file: &'a DeckFile) -> Result<(), ConfigError> {
    for (i, group) in file.consumer_groups.iter().enumerate() {
        add_group(b, group, &format!("consumer_groups[{i}]"))?;
    }
    for (i, consumer) in file.consumers.iter().enumerate() {
        add_consumer(b, consumer, &format!("consumers[{i}]"))?;
    }
    for (i, group) in file.consumer_groups.iter().enumerate() {
        for (j, member) in group.consumers.iter().enumerate() {
            let consumer = b
                .consumers
                .resolve(member, &format!("consumer_groups[{i}].consumers[{j}]"))?;
            join(&mut b.groups[i], consumer);
        }
    }
    for (i, credential) in file.keyauth_credentials.iter().enumerate() {
        let path = format!("keyauth_credentials[{i}]");
        let Some(reference) = &credential.consumer else {
            return Err(ConfigError::new(
                format!("{path}.consumer"),
                "required field missing",
            ));
        };
        let consumer = b
            .consumers
            .resolve(reference, &format!("{path}.consumer"))?;
        add_credential(b, credential, consumer, &path)?;
    }
    Ok(())
}

fn add_group(b: &mut Builder<'_>, file: &ConsumerGroupFile, path: &str) -> Result<(), ConfigError> {
    if !file.plugins.is_empty() {
        let message = "consumer-group-scoped plugins are not supported";
        return Err(ConfigError::new(format!("{path}.plugins"), message));
    }
    let id = b.consumer_groups.allocate(file.id, &file.name, path)?;
    b.consumer_groups
        .add_name(&file.name, id, &format!("{path}.name"))?;
    let (created_at, updated_at) = b.stamps(file.created_at, file.updated_at);
    b.groups.push(ConsumerGroup {
        id,
        name: file.name.clone(),
        consumers: Vec::new(),
        tags: file.tags.clone(),
        created_at,
        updated_at,
    });
    Ok(())
}

fn add_consumer<'a>(
    b: &mut Builder<'a>,
    file: &'a ConsumerFile,
    path: &str,
) -> Result<(), ConfigError> {
    let id = consumer_id(b, file, path)?;
    for (j, reference) in file.groups.iter().enumerate() {
        let group = b
            .consumer_groups
            .resolve(reference, &format!("{path}.groups[{j}]"))?;
        if let Some(group) = b.groups.iter_mut().find(|g| g.id == group) {
            join(group, id);
        }
    }
    for (j, credential) in file.keyauth_credentials.iter().enumerate() {
        let at = format!("{path}.keyauth_credentials[{j}]");
        if credential.consumer.is_some() {
            let message = "cannot be set on a credential nested in a consumer";
            return Err(ConfigError::new(format!("{at}.consumer"), message));
        }
        add_credential(b, credential, id, &at)?;
    }
    let scope = Scope {
        consumer: Some(id),
        ..Scope::default()
    };
    b.nest_plugins(path, &file.plugins, scope, "consumer");
    let (created_at, updated_at) = b.stamps(file.created_at, file.updated_at);
    b.config.consumers.push(Arc::new(Consumer {
        id,
        username: file.username.clone(),
        custom_id: file.custom_id.clone(),
        tags: file.tags.clone(),
        created_at,
        updated_at,
    }));
    Ok(())
}

/// The consumer's id; `username` and `custom_id` are unique, and one of them is required.
fn consumer_id(b: &mut Builder<'_>, file: &ConsumerFile, path: &str) -> Result<Uuid, ConfigError> {
    let key = match (&file.username, &file.custom_id) {
        (Some(username), _) => username.clone(),
        (None, Some(custom_id)) => format!("custom_id:{custom_id}"),
        (None, None) => {
            let message = "required field missing (set username or custom_id)";
            return Err(ConfigError::new(format!("{path}.username"), message));
        }
    };
    let id = b.consumers.allocate(file.id, &key, path)?;
    if let Some(username) = &file.username {
        b.consumers
            .add_name(username, id, &format!("{path}.username"))?;
    }
    if let Some(custom_id) = &file.custom_id {
        b.custom_ids
            .add_name(custom_id, id, &format!("{path}.custom_id"))?;
    }
    Ok(id)
}

fn add_credential(
    b: &mut Builder<'_>,
    file: &KeyAuthFile,
    consumer: Uuid,
    path: &str,
) -> Result<(), ConfigError> {
    if file.key.is_empty() {
        return Err(ConfigError::new(
            format!("{path}.key"),
            "length must be at least 1",
        ));
    }
    let id = b.credentials.allocate(file.id, &file.key, path)?;
    b.credentials
        .add_name(&file.key, id, &format!("{path}.key"))?;
    b.config
        .keyauth_credentials
        .push(Arc::new(KeyAuthCredential {
            id,
            key: file.key.clone(),
            consumer,
            tags: file.tags.clone(),
            created_at: file.created_at.unwrap_or(b.now),
        }));
    Ok(())
}

fn join(group: &mut ConsumerGroup, consumer: Uuid) {
    if !group.consumers.contains(&consumer) {
        group.consumers.push(consumer);
    }
}
