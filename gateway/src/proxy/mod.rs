//! Routing and relaying requests to upstreams.

pub mod router;
