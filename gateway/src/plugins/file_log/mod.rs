//! file-log (priority 9): appends each request's log record as one JSON line to `path`. The
//! write happens on the telemetry actor; the request only copies the line into its thread's
//! buffer for the file.

pub mod schema;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;

use super::context::Ctx;
use super::{Deps, Plugin};
use crate::config::ConfigError;
use crate::telemetry::record::Record;
use crate::telemetry::sink::LogSender;

#[derive(Debug, Deserialize)]
struct Settings {
    path: PathBuf,
}

pub struct FileLog {
    path: Arc<Path>,
    logs: LogSender,
}

impl FileLog {
    pub fn new(config: &Value, deps: &Deps) -> Result<Self, ConfigError> {
        let settings: Settings = super::settings(config)?;
        Ok(FileLog {
            path: settings.path.into(),
            logs: deps.logs.clone(),
        })
    }
}

impl Plugin for FileLog {
    fn name(&self) -> &'static str {
        "file-log"
    }

    fn priority(&self) -> i32 {
        9
    }

    fn log(&self, _ctx: &mut Ctx, record: &mut Record) {
        // The last plugin to read the record (the lowest priority of the log plugins): it is
        // written straight into the worker's buffer for the file unless another asked first.
        self.logs
            .send_file(&self.path, |out| record.append_line(out));
    }
}
