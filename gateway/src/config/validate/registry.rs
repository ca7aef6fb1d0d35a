//! Identity bookkeeping for one entity kind: ids (given or derived), unique names, and the
//! resolution of references by name or id. Duplicate errors name where the first one was.

use std::collections::HashMap;

use uuid::Uuid;

use crate::config::error::ConfigError;
use crate::config::file::{EntityRef, RefObject};
use crate::config::model::derived_id;

/// The ids and names of one entity kind, each with the path of the entity that took it.
#[derive(Debug)]
pub struct Registry {
    kind: &'static str,
    /// What the unique name is called in messages (`name`, `username`, `key`).
    name_word: &'static str,
    ids: HashMap<Uuid, String>,
    names: HashMap<String, (Uuid, String)>,
}

impl Registry {
    /// `kind` is both the word in messages and the derivation namespace (`service`, `route`, …).
    pub fn new(kind: &'static str) -> Registry {
        Registry {
            kind,
            name_word: "name",
            ids: HashMap::new(),
            names: HashMap::new(),
        }
    }

    /// Calls the unique name `word` in messages (`duplicate consumer username "alice"`).
    pub fn naming(mut self, word: &'static str) -> Registry {
        self.name_word = word;
        self
    }

    /// The entity's id: the one given (which must be unused) or one derived from `key`, made
    /// unique by a `#n` suffix when identical entities would otherwise share it.
    pub fn allocate(
        &mut self,
        given: Option<Uuid>,
        key: &str,
        path: &str,
    ) -> Result<Uuid, ConfigError> {
        let id = match given {
            Some(id) => {
                if let Some(first) = self.ids.get(&id) {
                    let message = format!("duplicate {} id \"{id}\" (first at {first})", self.kind);
                    return Err(ConfigError::new(format!("{path}.id"), message));
                }
                id
            }
            None => self.derive(key),
        };
        self.ids.insert(id, path.to_string());
        Ok(id)
    }

    fn derive(&self, key: &str) -> Uuid {
        let mut id = derived_id(self.kind, key);
        let mut n = 2;
        while self.ids.contains_key(&id) {
            id = derived_id(self.kind, &format!("{key}#{n}"));
            n += 1;
        }
        id
    }

    /// Records a unique name (`path` is the name field's path).
    pub fn add_name(&mut self, name: &str, id: Uuid, path: &str) -> Result<(), ConfigError> {
        if let Some((_, first)) = self.names.get(name) {
            let message = format!(
                "duplicate {} {} {name:?} (first at {first})",
                self.kind, self.name_word
            );
            return Err(ConfigError::new(path, message));
        }
        self.names.insert(name.to_string(), (id, path.to_string()));
        Ok(())
    }

    /// Resolves a reference written at `path`: a string is an id or a name, an object gives one.
    pub fn resolve(&self, reference: &EntityRef, path: &str) -> Result<Uuid, ConfigError> {
        match reference {
            EntityRef::NameOrId(text) => self.by_name_or_id(text, path),
            EntityRef::Object(object) => self.by_object(object, path),
        }
    }

    fn by_name_or_id(&self, text: &str, path: &str) -> Result<Uuid, ConfigError> {
        let as_id = Uuid::parse_str(text)
            .ok()
            .filter(|id| self.ids.contains_key(id));
        if let Some(id) = as_id.or_else(|| self.by_name(text)) {
            return Ok(id);
        }
        let message = match Uuid::parse_str(text) {
            Ok(_) => format!("no {} with id or name {text:?}", self.kind),
            Err(_) => format!("no {} named {text:?}", self.kind),
        };
        Err(ConfigError::new(path, message))
    }

    fn by_object(&self, object: &RefObject, path: &str) -> Result<Uuid, ConfigError> {
        if let Some(text) = &object.id {
            let id = Uuid::parse_str(text)
                .ok()
                .filter(|id| self.ids.contains_key(id));
            let message = format!("no {} with id {text:?}", self.kind);
            return id.ok_or_else(|| ConfigError::new(path, message));
        }
        match object.name.as_ref().or(object.username.as_ref()) {
            Some(name) => self
                .by_name(name)
                .ok_or_else(|| ConfigError::new(path, format!("no {} named {name:?}", self.kind))),
            None => Err(ConfigError::new(path, "expected `id` or `name`")),
        }
    }

    fn by_name(&self, name: &str) -> Option<Uuid> {
        self.names.get(name).map(|(id, _)| *id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(id: Option<&str>, name: Option<&str>) -> EntityRef {
        EntityRef::Object(RefObject {
            id: id.map(str::to_string),
            name: name.map(str::to_string),
            username: None,
        })
    }

    #[test]
    fn resolves_by_name_and_id() {
        let mut services = Registry::new("service");
        let id = services.allocate(None, "svc", "services[0]").unwrap();
        services.add_name("svc", id, "services[0].name").unwrap();
        let by_id = EntityRef::NameOrId(id.to_string());
        assert_eq!(services.resolve(&by_id, "p").unwrap(), id);
        assert_eq!(
            services
                .resolve(&EntityRef::NameOrId("svc".into()), "p")
                .unwrap(),
            id
        );
        assert_eq!(
            services
                .resolve(&object(Some(&id.to_string()), None), "p")
                .unwrap(),
            id
        );
        assert_eq!(
            services.resolve(&object(None, Some("svc")), "p").unwrap(),
            id
        );
    }

    #[test]
    fn unknown_references_and_duplicates_are_errors() {
        let mut services = Registry::new("service");
        let id = services.allocate(None, "svc", "services[0]").unwrap();
        services.add_name("svc", id, "services[0].name").unwrap();
        let err = services.resolve(&EntityRef::NameOrId("x".into()), "routes[0].service");
        assert_eq!(
            err.unwrap_err().to_string(),
            "routes[0].service: no service named \"x\""
        );
        let err = services
            .add_name("svc", id, "services[1].name")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "services[1].name: duplicate service name \"svc\" (first at services[0].name)"
        );
        let err = services.allocate(Some(id), "", "services[1]").unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("services[1].id: duplicate service id \"{id}\" (first at services[0])")
        );
    }

    #[test]
    fn derived_ids_are_stable_and_distinct() {
        let mut a = Registry::new("route");
        let first = a.allocate(None, "same", "routes[0]").unwrap();
        let second = a.allocate(None, "same", "routes[1]").unwrap();
        assert_ne!(first, second);
        assert_eq!(first, derived_id("route", "same"));
    }
}
