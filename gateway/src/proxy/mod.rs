//! Routing and relaying requests to upstreams.

pub mod handler;
pub mod headers;
pub mod idle;
pub mod normalize;
pub mod path;
pub mod relay;
pub mod router;
pub mod snapshot;
pub mod upstream;
