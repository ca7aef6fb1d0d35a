//! Routing and relaying requests to upstreams.

pub mod path;
pub mod router;
