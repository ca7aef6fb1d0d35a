//! The REST API, a port of the documents' `api.js`: `/`, `/users`, `/users/{id}`, `/orders`,
//! `/users/{userId}/orders`, the `/{userId}/orders` alias the documents name, and `/openapi`.
//! Paths arrive here already stripped of the optional `/marketplace` prefix.

use actix_web::http::{header, Method};
use actix_web::HttpResponse;
use serde_json::{json, Value};

use crate::{data, openapi};

/// Answers a REST request for `path` (prefix already removed).
pub fn handle(method: &Method, path: &str) -> HttpResponse {
    if method != Method::GET && method != Method::HEAD {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .json(json!({"error": "Method not allowed"}));
    }
    // Express routes are not strict about trailing slashes; neither are we.
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        [""] => ok(json!({"name": "Sample Users API"})),
        ["users"] => ok(Value::Array(data::users())),
        ["users", id] => match data::user(id) {
            Some(user) => ok(user),
            None => user_not_found(),
        },
        ["orders"] => ok(Value::Array(data::orders())),
        ["users", id, "orders"] => orders_of(id).unwrap_or_else(user_not_found),
        // The alias exists only for known users; anything else keeps the generic 404.
        [id, "orders"] => orders_of(id).unwrap_or_else(not_found),
        ["openapi"] => ok(openapi::document()),
        _ => not_found(),
    }
}

fn orders_of(user_id: &str) -> Option<HttpResponse> {
    data::user(user_id).map(|_| ok(Value::Array(data::orders_for(user_id))))
}

fn ok(body: Value) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

fn user_not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": "User not found"}))
}

/// The answer for any path the API does not have.
pub fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"error": "Not found"}))
}
