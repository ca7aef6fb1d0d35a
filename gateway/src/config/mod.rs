//! Configuration: decK files → validated runtime model.
//!
//! Text goes through decK's `${{ env "DECK_X" }}` substitution (`env`), is parsed as YAML or
//! JSON (`de`) into the file types (`file`), and is validated into the model (`validate`,
//! `model`), which is the only form the rest of the gateway sees.

pub(crate) mod de;
pub mod env;
pub mod error;
pub mod file;
pub mod model;
pub mod url;
pub mod validate;

use std::fmt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub use error::ConfigError;
pub use model::Config;

/// Parses and validates a decK document. `env` answers `${{ env "DECK_X" }}` look-ups and
/// `now` (epoch seconds) stamps entities without timestamps, so the result is reproducible.
pub fn parse_str(
    text: &str,
    env: &dyn Fn(&str) -> Option<String>,
    now: i64,
) -> Result<Config, ConfigError> {
    let text = env::substitute(text, env)?;
    let document = de::parse_document(&text)?;
    let file = file::DeckFile::from_value(document)?;
    validate::validate(&file, now)
}

/// Reads, parses and validates a decK file with the process environment and the current time.
pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
    parse_bytes(&read_file(path)?)
}

/// A file's bytes; an unreadable file is an error whose path is the file's.
pub fn read_file(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|e| {
        ConfigError::new(
            path.display().to_string(),
            format!("cannot read the file: {e}"),
        )
    })
}

/// Parses and validates a file's bytes with the process environment and the current time.
pub fn parse_bytes(bytes: &[u8]) -> Result<Config, ConfigError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| ConfigError::new("document", format!("not UTF-8: {e}")))?;
    parse_str(text, &|name| std::env::var(name).ok(), unix_now())
}

/// Checks a file without serving it (`gateway --validate FILE`): what it would configure.
pub fn validate_file(path: &Path) -> Result<Summary, ConfigError> {
    load_file(path).map(|config| Summary::of(&config))
}

/// The current time in epoch seconds.
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// How many entities of each kind a configuration has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub services: usize,
    pub routes: usize,
    pub plugins: usize,
    pub consumers: usize,
    pub consumer_groups: usize,
    pub keyauth_credentials: usize,
}

impl Summary {
    pub fn of(config: &Config) -> Summary {
        Summary {
            services: config.services.len(),
            routes: config.routes.len(),
            plugins: config.plugins.len(),
            consumers: config.consumers.len(),
            consumer_groups: config.consumer_groups.len(),
            keyauth_credentials: config.keyauth_credentials.len(),
        }
    }
}

impl fmt::Display for Summary {
    /// `1 services, 1 routes, 1 plugins, 0 consumers, 0 consumer groups, 0 key-auth credentials`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} services, {} routes, {} plugins, {} consumers, {} consumer groups, {} key-auth credentials",
            self.services, self.routes, self.plugins, self.consumers, self.consumer_groups, self.keyauth_credentials
        )
    }
}
