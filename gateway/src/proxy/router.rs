//! Kong's router: request → route → service, and the upstream path.

use std::sync::Arc;

use crate::config::model::{Config, Route, Service};

/// The routes of one configuration, compiled for matching.
pub struct Router {
    _routes: Vec<Arc<Route>>,
}

/// The outcome of a match.
pub struct RouteMatch<'a> {
    pub route: &'a Arc<Route>,
    /// `None` when the route has no service (Kong answers 503).
    pub service: Option<&'a Arc<Service>>,
    /// The part of the request path the route's path matched (the stripped prefix when
    /// `strip_path` is true), used for `X-Forwarded-Prefix`.
    pub matched_path: String,
    /// The path (without query) to send upstream, per `path_handling`.
    pub upstream_path: String,
}

impl Router {
    pub fn new(config: &Config) -> Router {
        Router {
            _routes: config.routes.clone(),
        }
    }
}
