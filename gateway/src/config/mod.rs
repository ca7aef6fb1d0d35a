//! Configuration: decK files → validated runtime model.

pub mod error;
pub mod model;

pub use error::ConfigError;
pub use model::Config;

// TEMPORARY stubs until the config layer lands.
pub fn load_file(path: &std::path::Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(path.display().to_string(), e.to_string()))?;
    parse_str(&text, &|k| std::env::var(k).ok(), 0)
}
pub fn parse_str(
    _text: &str,
    _env: &dyn Fn(&str) -> Option<String>,
    _now: i64,
) -> Result<Config, ConfigError> {
    Ok(Config::default())
}
pub fn validate_file(path: &std::path::Path) -> Result<String, ConfigError> {
    load_file(path).map(|_| String::new())
}
