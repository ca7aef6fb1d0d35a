//! Deserialization helpers shared by the file types and the plugin schemas: reading YAML or JSON
//! text into a JSON value, treating `null` as "not set", and turning serde's errors into
//! [`ConfigError`]s whose path names the bad field and whose message names the expected type.

use serde::de::DeserializeOwned;
use serde_norway::Value;

use super::error::ConfigError;

/// The path used for problems with the document as a whole (syntax errors, an empty file).
pub const DOCUMENT: &str = "document";

/// Parses YAML or JSON text (YAML is a superset; JSON-looking text goes to the JSON parser for
/// its better messages) into a YAML value, applying YAML merge keys (`<<`). The YAML value is
/// the intermediate form because its deserializer, unlike `serde_json::Value`'s, never accepts
/// a list where an object is expected.
pub fn parse_document(text: &str) -> Result<Value, ConfigError> {
    let syntax = |e: &dyn std::fmt::Display| ConfigError::new(DOCUMENT, e.to_string());
    let mut document: Value = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| syntax(&e))?
    } else {
        serde_norway::from_str(text).map_err(|e| syntax(&e))?
    };
    document.apply_merge().map_err(|e| syntax(&e))?;
    if document.is_null() {
        return Err(ConfigError::new(DOCUMENT, "the configuration is empty"));
    }
    Ok(document)
}

/// A JSON value as the intermediate form (for plugin configs held as JSON).
pub fn from_json(value: &serde_json::Value) -> Result<Value, ConfigError> {
    serde_norway::to_value(value).map_err(|e| ConfigError::new("", e.to_string()))
}

/// Removes every `null` member of every mapping, recursively: in a configuration `null` means
/// "not set", so the field takes its default (or is reported missing when it is required).
pub fn strip_nulls(value: &mut Value) {
    match value {
        Value::Mapping(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Sequence(items) => items.iter_mut().for_each(strip_nulls),
        Value::Tagged(tagged) => strip_nulls(&mut tagged.value),
        _ => {}
    }
}

/// Deserializes `value` into `T`; errors carry `prefix` joined with the path inside `value`
/// (an empty path when the value itself is wrong and `prefix` is empty).
pub fn from_value<T: DeserializeOwned>(value: Value, prefix: &str) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let inner = err.path().to_string();
        let inner = if inner == "." { String::new() } else { inner };
        serde_error(&join_path(prefix, &inner), &err.inner().to_string())
    })
}

/// Joins a field path to a prefix: `plugins[0].config` + `mode`, `services[0]` + `[1]`.
pub fn join_path(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (_, true) => prefix.to_string(),
        _ if rest.starts_with('[') => format!("{prefix}{rest}"),
        _ => format!("{prefix}.{rest}"),
    }
}

/// Builds the error for one serde message at `path`, rewording the messages users meet most.
fn serde_error(path: &str, message: &str) -> ConfigError {
    if let Some(field) = missing_field(message) {
        return ConfigError::new(join_path(path, field), "required field missing");
    }
    ConfigError::new(path, reword(message))
}

/// `missing field `mode`` → `mode`.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

/// `invalid type: string "x", expected u64` → `expected an integer`; unknown shapes are kept.
fn reword(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((_, expected)) = rest.rsplit_once(", expected ") {
            return format!("expected {}", describe(expected));
        }
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        if let Some((_, expected)) = rest.rsplit_once(", expected ") {
            if let Some(range) = integer_range(expected) {
                return format!("expected {range}");
            }
        }
    }
    if let Some(reason) = message.strip_prefix("UUID parsing failed: ") {
        return format!("invalid UUID: {reason}");
    }
    message.to_string()
}

/// A user-facing name for serde's description of an expected type.
fn describe(expected: &str) -> String {
    let name = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" => {
            "an integer"
        }
        "f32" | "f64" | "a JSON number" => "a number",
        "a boolean" => "a boolean",
        "a string" | "a borrowed string" | "a character" => "a string",
        "a sequence" => "a list",
        "a map" => "an object",
        other if other.starts_with("struct ") => "an object",
        other => return other.to_string(),
    };
    name.to_string()
}

/// The accepted range of an unsigned integer type, for out-of-range values.
fn integer_range(expected: &str) -> Option<String> {
    let max = match expected {
        "u8" => u8::MAX as u64,
        "u16" => u16::MAX as u64,
        "u32" => u32::MAX as u64,
        "u64" | "usize" => return Some("a non-negative integer".to_string()),
        _ => return None,
    };
    Some(format!("an integer between 0 and {max}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Probe {
        size: u64,
        port: Option<u16>,
        flag: Option<bool>,
        list: Option<Vec<String>>,
    }

    fn error(json: serde_json::Value) -> String {
        let value = from_json(&json).unwrap();
        from_value::<Probe>(value, "x.config")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn rewords_type_errors() {
        let e = error(serde_json::json!({"size": "big"}));
        assert_eq!(e, "x.config.size: expected an integer");
        let e = error(serde_json::json!({"size": 1, "flag": "yes"}));
        assert_eq!(e, "x.config.flag: expected a boolean");
        let e = error(serde_json::json!({"size": 1, "list": "a"}));
        assert_eq!(e, "x.config.list: expected a list");
        let e = error(serde_json::json!({"size": 1, "list": [1]}));
        assert_eq!(e, "x.config.list[0]: expected a string");
        let e = error(serde_json::json!({"size": 1, "port": 70000}));
        assert_eq!(e, "x.config.port: expected an integer between 0 and 65535");
        let e = error(serde_json::json!({"size": -1}));
        assert_eq!(e, "x.config.size: expected a non-negative integer");
        let e = error(serde_json::json!("text"));
        assert_eq!(e, "x.config: expected an object");
        let e = error(serde_json::json!([1, 2]));
        assert_eq!(e, "x.config: expected an object");
    }

    #[test]
    fn missing_and_unknown_fields_name_the_field() {
        let e = error(serde_json::json!({}));
        assert_eq!(e, "x.config.size: required field missing");
        let e = error(serde_json::json!({"size": 1, "sise": 2}));
        assert!(e.starts_with("x.config.sise: unknown field `sise`"), "{e}");
    }

    #[test]
    fn nulls_are_unset() {
        let mut v = from_json(&serde_json::json!({"a": null, "b": [{"c": null, "d": 1}]})).unwrap();
        strip_nulls(&mut v);
        assert_eq!(v, from_json(&serde_json::json!({"b": [{"d": 1}]})).unwrap());
    }

    #[test]
    fn parses_yaml_json_and_merge_keys() {
        let json = |v: serde_json::Value| from_json(&v).unwrap();
        let v = parse_document("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n").unwrap();
        assert_eq!(v["other"], json(serde_json::json!({"x": 1, "y": 2})));
        let v = parse_document("{\"a\": [1]}").unwrap();
        assert_eq!(v, json(serde_json::json!({"a": [1]})));
        assert_eq!(parse_document("  \n").unwrap_err().path, DOCUMENT);
        assert!(parse_document("a: [").unwrap_err().message.contains("line"));
    }
}
