//! Reload: a changed file is applied; a bad one is refused and the last good one keeps serving.

use std::time::Duration;

use mock_marketplace::Options;

use crate::common::{eventually, marketplace_yaml, Harness};

#[tokio::test]
async fn good_file_applied_bad_file_refused() {
    let h = Harness::marketplace(Options::default(), "").await;
    assert_eq!(
        h.http
            .get(h.url("/marketplace/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let added = format!(
        "{}      - name: shop\n        paths: [/shop]\n",
        marketplace_yaml()
    );
    h.rewrite_config(&added);
    eventually(Duration::from_secs(5), || async {
        let s = h.http.get(h.url("/shop/users")).send().await.ok()?.status();
        (s == 200).then_some(())
    })
    .await;

    // A half-written file: refused, the previous configuration keeps serving.
    h.rewrite_config("_format_version: \"3.0\"\nservices:\n  - name: broken\n    url: [");
    let metrics = eventually(Duration::from_secs(5), || async {
        let m = h.metrics().await;
        m.contains("kong_gateway_config_reload_failed 1")
            .then_some(m)
    })
    .await;
    assert!(metrics.contains("kong_gateway_config_version"), "{metrics}");
    assert_eq!(
        h.http
            .get(h.url("/shop/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // An unknown plugin: refused as a whole, nothing of it applied.
    let unknown = format!("{}plugins:\n  - name: no-such-plugin\n", marketplace_yaml());
    h.rewrite_config(&unknown);
    let res = h.http.post(h.admin("/config/reload")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("no-such-plugin"),
        "{body}"
    );
    assert_eq!(
        h.http
            .get(h.url("/shop/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Deleted: still serving, the error names the cause.
    std::fs::remove_file(&h.config_path).unwrap();
    let res = h.http.post(h.admin("/config/reload")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("No such file"),
        "{body}"
    );
    assert_eq!(
        h.http
            .get(h.url("/shop/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Fixed again: applied, gauge back to 0.
    h.rewrite_config(marketplace_yaml());
    eventually(Duration::from_secs(5), || async {
        let s = h.http.get(h.url("/shop/users")).send().await.ok()?.status();
        (s == 404).then_some(())
    })
    .await;
    assert!(h
        .metrics()
        .await
        .contains("kong_gateway_config_reload_failed 0"));
}
