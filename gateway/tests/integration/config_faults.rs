//! Configuration faults on reload: a half-written file, an invalid one, one made unreadable,
//! one deleted. The last good configuration keeps serving, and the cause is named in the log,
//! in `/status` (`configuration_error`) and by the `kong_gateway_config_reload_failed` gauge.
//! The gauge is process-wide, so it is read from a gateway running as a child process.

use std::path::Path;
use std::time::Duration;

use mock_marketplace::Options;
use serde_json::Value;

use crate::common::{eventually, marketplace_yaml, Harness};
use crate::rig::{self, ChildGateway};

/// `configuration_error` of `/status` at `url`.
async fn configuration_error(http: &reqwest::Client, url: String) -> Option<String> {
    let status: Value = http.get(url).send().await.ok()?.json().await.ok()?;
    status["configuration_error"].as_str().map(str::to_string)
}

/// Makes `path` unreadable. `chmod 000` does not stop a privileged reader (tests may run as
/// root), so then the file is replaced by a directory, which nobody can read as a file.
/// Answers the words the error must contain.
fn make_unreadable(path: &Path) -> &'static str {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(path).is_err() {
        return "Permission denied";
    }
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::remove_file(path).unwrap();
    std::fs::create_dir(path).unwrap();
    "Is a directory"
}

fn make_readable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    if path.is_dir() {
        std::fs::remove_dir(path).unwrap();
    } else if path.exists() {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn the_same_file_restored_after_a_failed_read_clears_the_error() {
    let yaml = marketplace_yaml().replace("mcp-", "cfg-restore-");
    let h = Harness::start(Options::default(), &yaml).await;
    let text = std::fs::read_to_string(&h.config_path).unwrap();
    let status_url = || h.admin("/status");
    for what in ["deleted", "unreadable"] {
        let expected = if what == "deleted" {
            std::fs::remove_file(&h.config_path).unwrap();
            "No such file"
        } else {
            make_unreadable(&h.config_path)
        };
        let error = eventually(Duration::from_secs(10), || async {
            configuration_error(&h.http, status_url()).await
        })
        .await;
        assert!(error.contains(expected), "{what}: {error}");
        assert!(
            error.contains(&h.config_path.display().to_string()),
            "{what}: {error}"
        );
        assert_eq!(
            rig::status_of(&h, "/marketplace/users").await,
            200,
            "{what}"
        );
        // The very content that is served comes back: nothing to apply, the error is over.
        make_readable(&h.config_path, &text);
        eventually(Duration::from_secs(10), || async {
            configuration_error(&h.http, status_url())
                .await
                .is_none()
                .then_some(())
        })
        .await;
        let res = h.http.post(h.admin("/config/reload")).send().await.unwrap();
        assert_eq!(res.status(), 200, "{what}: the reload hook agrees");
        assert_eq!(
            rig::status_of(&h, "/marketplace/users").await,
            200,
            "{what}"
        );
    }
}

/// The value of an unlabelled gauge in a `/metrics` text.
fn gauge(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.trim().parse().ok())
}

struct Child {
    gw: ChildGateway,
    http: reqwest::Client,
}

impl Child {
    async fn get(&self, path: &str) -> u16 {
        self.http
            .get(self.gw.url(path))
            .timeout(Duration::from_secs(20))
            .send()
            .await
            .map_or(0, |r| r.status().as_u16())
    }

    async fn reload_failed(&self) -> Option<f64> {
        let text = self
            .http
            .get(self.gw.admin_url("/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        gauge(&text, "kong_gateway_config_reload_failed")
    }

    /// Waits until the file is refused for a reason containing `cause`: in `/status`, in
    /// the gauge and in the log.
    async fn refused(&mut self, what: &str, cause: &str) {
        let error = eventually(Duration::from_secs(10), || async {
            configuration_error(&self.http, self.gw.admin_url("/status"))
                .await
                .filter(|e| e.contains(cause))
        })
        .await;
        assert!(!error.is_empty(), "{what}");
        assert_eq!(self.reload_failed().await, Some(1.0), "{what}");
        let line = self.gw.wait_for_line(Duration::from_secs(10), |l| {
            l.contains("declarative configuration refused") && l.contains(cause)
        });
        assert!(line.is_some(), "{what}: no log line names {cause:?}");
        assert_eq!(
            self.get("/shop/users").await,
            200,
            "{what}: last good serves"
        );
    }

    /// Waits until `path` answers `status` (the new configuration serves), then checks that
    /// no trace of a failure is left.
    async fn applied(&self, what: &str, path: &str, status: u16) {
        eventually(Duration::from_secs(10), || async {
            (self.get(path).await == status).then_some(())
        })
        .await;
        assert_eq!(self.reload_failed().await, Some(0.0), "{what}");
        assert_eq!(
            configuration_error(&self.http, self.gw.admin_url("/status")).await,
            None,
            "{what}"
        );
    }
}

#[tokio::test]
async fn a_bad_reload_keeps_serving_and_names_the_cause() {
    let mock = mock_marketplace::spawn(Options::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kong.yaml");
    let good = marketplace_yaml().replace("{mock}", &mock.addr().to_string())
        + "      - name: shop\n        paths: [/shop]\n";
    std::fs::write(&path, &good).unwrap();
    let mut c = Child {
        gw: ChildGateway::start(&path, &[]),
        http: reqwest::Client::new(),
    };
    assert_eq!(c.get("/shop/users").await, 200);
    assert_eq!(c.reload_failed().await, Some(0.0));

    // Half-written in place (an editor or `cp` caught mid-way): a parse error, with where.
    let next = good.clone() + "      - name: store\n        paths: [/store]\n";
    let cut = next.len() - 12;
    std::fs::write(&path, &next[..cut]).unwrap();
    c.refused("half-written", "could not find expected ':' at line")
        .await;
    std::fs::write(&path, &next).unwrap();
    c.applied("completed", "/store/users", 200).await;

    // Valid YAML, invalid configuration: the error names the bad field's path.
    let invalid = next.replace(
        "paths: [/store]",
        "paths: [/store]\n        strip_path: maybe",
    );
    std::fs::write(&path, &invalid).unwrap();
    c.refused("invalid", "services[0].routes[2].strip_path")
        .await;

    // Unreadable.
    let cause = make_unreadable(&path);
    c.refused("unreadable", cause).await;

    // Deleted.
    make_readable(&path, &invalid);
    std::fs::remove_file(&path).unwrap();
    c.refused("deleted", "No such file").await;
    assert_eq!(c.get("/store/users").await, 200);

    // Fixed: applied, every trace of the failure gone.
    make_readable(&path, &good);
    c.applied("fixed", "/store/users", 404).await;
    assert_eq!(c.get("/shop/users").await, 200);
}
