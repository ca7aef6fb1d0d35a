//! Configuration: decK files → validated runtime model.

pub mod error;
pub mod model;

pub use error::ConfigError;
pub use model::Config;
