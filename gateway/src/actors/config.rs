//! The config actor owns the configuration. It loads the declarative file, validates it, builds a
//! snapshot and swaps it in; requests only ever load the current snapshot. It polls the file for
//! changes: load → validate → swap, and a bad file keeps the last good configuration serving, is
//! logged with its reason once, and raises the `kong_gateway_config_reload_failed` gauge.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use arc_swap::ArcSwap;

use crate::config::{self, Config, ConfigError};
use crate::plugins::chain::Deps;
use crate::proxy::snapshot::Snapshot;
use crate::telemetry::names;

/// The snapshot cell shared with every proxy worker.
pub type SnapshotCell = Arc<ArcSwap<Snapshot>>;

pub struct ConfigActor {
    file: Option<PathBuf>,
    cell: SnapshotCell,
    deps: Deps,
    poll: Duration,
    /// Hash of the last file content tried, applied or not, so a bad file is reported once.
    /// Forgotten when the file cannot be read, so the same content is looked at again.
    last_seen: Option<u64>,
    /// Hash of the file content the served configuration was built from.
    serving: Option<u64>,
    last_error: Option<String>,
}

/// The first configuration, built synchronously so a bad file at start-up stops the process.
pub struct Initial {
    pub cell: SnapshotCell,
    /// Hash of the file content it was built from, so the first poll does not rebuild it.
    digest: Option<u64>,
}

/// Reads the file once, builds the first snapshot, and remembers what it read.
pub fn initial_snapshot(file: Option<&PathBuf>, deps: &Deps) -> Result<Initial, ConfigError> {
    let (config, digest) = match file {
        Some(path) => {
            let bytes = config::read_file(path)?;
            (config::parse_bytes(&bytes)?, Some(hash(&bytes)))
        }
        None => (Config::default(), None),
    };
    let snapshot = Snapshot::build(config, 1, deps)?;
    metrics::gauge!(names::CONFIG_VERSION).set(1.0);
    metrics::gauge!(names::CONFIG_RELOAD_FAILED).set(0.0);
    Ok(Initial {
        cell: Arc::new(ArcSwap::from_pointee(snapshot)),
        digest,
    })
}

/// Ask for a check now; answers the version served afterwards, or why the file was refused.
#[derive(Message)]
#[rtype(result = "Result<u64, String>")]
pub struct Reload;

/// Why the declarative file is currently refused, if it is (for `/status`).
#[derive(Message)]
#[rtype(result = "Option<String>")]
pub struct LastError;

impl ConfigActor {
    pub fn new(file: Option<PathBuf>, initial: &Initial, deps: Deps, poll: Duration) -> Self {
        ConfigActor {
            file,
            cell: initial.cell.clone(),
            deps,
            poll,
            last_seen: initial.digest,
            serving: initial.digest,
            last_error: None,
        }
    }

    pub fn start_supervised(self) -> Addr<ConfigActor> {
        Supervisor::start(move |_| self)
    }

    /// Reads the file; applies it when its content changed since the last attempt.
    fn check(&mut self) -> Result<u64, String> {
        let Some(path) = self.file.clone() else {
            return Ok(self.cell.load().version);
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                let reason = format!("{}: {e}", path.display());
                self.last_seen = None;
                self.refused(reason.clone());
                return Err(reason);
            }
        };
        let digest = hash(&bytes);
        if self.last_seen == Some(digest) {
            return match &self.last_error {
                Some(reason) => Err(reason.clone()),
                None => Ok(self.cell.load().version),
            };
        }
        self.last_seen = Some(digest);
        if self.serving == Some(digest) {
            // Back to what is served (a file restored after a failed read or a bad edit).
            return Ok(self.recovered());
        }
        match self.apply(&bytes) {
            Ok(version) => {
                self.serving = Some(digest);
                Ok(version)
            }
            Err(e) => {
                let reason = format!("{}: {e}", path.display());
                self.refused(reason.clone());
                Err(reason)
            }
        }
    }

    fn apply(&mut self, bytes: &[u8]) -> Result<u64, ConfigError> {
        let config = config::parse_bytes(bytes)?;
        let version = self.cell.load().version + 1;
        let snapshot = Snapshot::build(config, version, &self.deps)?;
        self.cell.store(Arc::new(snapshot));
        self.last_error = None;
        metrics::gauge!(names::CONFIG_VERSION).set(version as f64);
        metrics::gauge!(names::CONFIG_RELOAD_FAILED).set(0.0);
        metrics::counter!(names::CONFIG_RELOADS, "result" => "applied").increment(1);
        tracing::info!(version, "declarative configuration applied");
        Ok(version)
    }

    /// The file is again the one being served: nothing to rebuild, the failure is over.
    fn recovered(&mut self) -> u64 {
        let version = self.cell.load().version;
        if self.last_error.take().is_some() {
            metrics::gauge!(names::CONFIG_RELOAD_FAILED).set(0.0);
            tracing::info!(
                version,
                "declarative configuration readable again and unchanged; still serving it"
            );
        }
        version
    }

    fn refused(&mut self, reason: String) {
        if self.last_error.as_deref() != Some(reason.as_str()) {
            tracing::error!(%reason, "declarative configuration refused; the previous one keeps serving");
            metrics::counter!(names::CONFIG_RELOADS, "result" => "rejected").increment(1);
        }
        metrics::gauge!(names::CONFIG_RELOAD_FAILED).set(1.0);
        self.last_error = Some(reason);
    }
}

impl Actor for ConfigActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if self.file.is_some() {
            ctx.run_interval(self.poll, |this, _| {
                let _ = this.check();
            });
        }
    }
}

impl Supervised for ConfigActor {}

impl Handler<Reload> for ConfigActor {
    type Result = Result<u64, String>;

    fn handle(&mut self, _: Reload, _ctx: &mut Self::Context) -> Self::Result {
        self.check()
    }
}

impl Handler<LastError> for ConfigActor {
    type Result = Option<String>;

    fn handle(&mut self, _: LastError, _ctx: &mut Self::Context) -> Self::Result {
        self.last_error.clone()
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}
