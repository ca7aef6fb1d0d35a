//! The REST API over real HTTP, at the root and under `/marketplace`: every endpoint, the
//! `/{userId}/orders` alias, the 404s and the OpenAPI document.

mod common;

use mock_marketplace::{spawn, MockHandle, Options};
use serde_json::{json, Value};

const PREFIXES: [&str; 2] = ["", "/marketplace"];

async fn get(mock: &MockHandle, path: &str) -> (u16, Value) {
    let response = common::client()
        .get(format!("{}{path}", mock.url()))
        .send()
        .await
        .expect("GET");
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/json"),
        "{path}: {content_type}"
    );
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn every_endpoint_under_both_prefixes() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    for prefix in PREFIXES {
        let root = if prefix.is_empty() { "/" } else { prefix };
        assert_eq!(
            get(&mock, root).await,
            (200, json!({"name": "Sample Users API"}))
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/users")).await,
            (200, common::users())
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/users/e5f6g7h8")).await,
            (200, json!({"id": "e5f6g7h8", "fullName": "Bob Smith"}))
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/orders")).await,
            (200, Value::Array(common::orders()))
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/users/u1v2w3x4/orders")).await,
            (200, Value::Array(common::orders_of("u1v2w3x4")))
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/y5z6a7b8/orders")).await,
            (200, Value::Array(common::orders_of("y5z6a7b8")))
        );
    }
}

#[tokio::test]
async fn orders_of_every_user_match_the_table() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let mut seen = 0;
    for (user, names) in common::SPEC_ORDERS {
        let (status, body) = get(&mock, &format!("/marketplace/users/{user}/orders")).await;
        assert_eq!(status, 200);
        let got: Vec<&str> = body
            .as_array()
            .expect("array")
            .iter()
            .filter_map(|order| order["name"].as_str())
            .collect();
        assert_eq!(got, names, "{user}");
        seen += got.len();
    }
    assert_eq!(seen, 27);
}

#[tokio::test]
async fn not_found_answers() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    let user_not_found = (404, json!({"error": "User not found"}));
    let not_found = (404, json!({"error": "Not found"}));
    for prefix in PREFIXES {
        assert_eq!(
            get(&mock, &format!("{prefix}/users/nobody")).await,
            user_not_found
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/users/nobody/orders")).await,
            user_not_found
        );
        // The alias exists only for known users.
        assert_eq!(
            get(&mock, &format!("{prefix}/nobody/orders")).await,
            not_found
        );
        assert_eq!(
            get(&mock, &format!("{prefix}/nothing/here/at/all")).await,
            not_found
        );
    }
}

#[tokio::test]
async fn trailing_slashes_queries_and_methods() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    assert_eq!(get(&mock, "/users/").await, (200, common::users()));
    assert_eq!(get(&mock, "/marketplace/?x=1").await.0, 200);
    assert_eq!(get(&mock, "/users?limit=1").await, (200, common::users()));
    let put = common::client()
        .put(format!("{}/users", mock.url()))
        .send()
        .await
        .expect("PUT");
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET, HEAD");
}

#[tokio::test]
async fn openapi_document() {
    let mock = spawn(Options::default()).await.expect("mock starts");
    for prefix in PREFIXES {
        let (status, document) = get(&mock, &format!("{prefix}/openapi")).await;
        assert_eq!(status, 200);
        assert!(document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.0")));
        assert_eq!(document["info"]["title"], "Sample Users API");
        let paths = document["paths"].as_object().expect("paths");
        for path in ["/users", "/users/{id}", "/orders", "/users/{userId}/orders"] {
            assert!(paths[path]["get"]["operationId"].is_string(), "{path}");
        }
        insta::assert_json_snapshot!("openapi", document);
    }
}

/// The delay option holds REST answers back too.
#[tokio::test]
async fn delay_applies_to_rest() {
    let delay = std::time::Duration::from_millis(300);
    let mock = spawn(Options {
        delay: Some(delay),
        ..Options::default()
    })
    .await
    .expect("mock");
    let started = std::time::Instant::now();
    assert_eq!(get(&mock, "/users").await.0, 200);
    assert!(started.elapsed() >= delay);
}

/// The mock embedded in another actix App, in-process.
#[actix_rt::test]
async fn embedded_in_an_actix_app() {
    use actix_web::{test, web, App};
    let state = mock_marketplace::MockState::new(Options::default());
    let app = test::init_service(
        App::new().service(web::scope("/embedded").configure(mock_marketplace::app_config(&state))),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/embedded/marketplace/users/a1b2c3d4")
        .to_request();
    let body: Value = test::call_and_read_body_json(&app, request).await;
    assert_eq!(body, json!({"id": "a1b2c3d4", "fullName": "Alice Johnson"}));
    assert_eq!(
        state.requests()[0].path,
        "/embedded/marketplace/users/a1b2c3d4"
    );
}
