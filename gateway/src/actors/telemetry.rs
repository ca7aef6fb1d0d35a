//! The telemetry actor: receives serialized log lines and writes them to their sinks, on its own
//! arbiter so slow disks never touch a request. Its mailbox is bounded; senders count what does
//! not fit (see `telemetry::sink`). Supervised: if it stops, it restarts with fresh handles.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use actix::prelude::*;

use crate::telemetry::names;
use crate::telemetry::sink::{LogLine, Target};

pub struct TelemetryActor {
    capacity: usize,
    files: HashMap<PathBuf, File>,
}

impl TelemetryActor {
    pub fn new(capacity: usize) -> Self {
        TelemetryActor {
            capacity: capacity.max(1),
            files: HashMap::new(),
        }
    }

    /// Starts it supervised on a dedicated arbiter (thread).
    pub fn start_supervised(capacity: usize) -> Addr<TelemetryActor> {
        let arbiter = Arbiter::new();
        Supervisor::start_in_arbiter(&arbiter.handle(), move |_| TelemetryActor::new(capacity))
    }

    fn write_file(&mut self, path: &Path, line: &str) -> std::io::Result<()> {
        if !self.files.contains_key(path) {
            let file = OpenOptions::new().create(true).append(true).open(path)?;
            self.files.insert(path.to_path_buf(), file);
        }
        let file = self.files.get_mut(path).expect("inserted above");
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let result = file.write_all(&buf);
        if result.is_err() {
            // Reopen next time: the file may have been rotated or its disk fixed.
            self.files.remove(path);
        }
        result
    }
}

impl Actor for TelemetryActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.set_mailbox_capacity(self.capacity);
        // Histogram storage is drained by upkeep; do it here, off the request path.
        ctx.run_interval(Duration::from_secs(5), |_, _| {
            crate::telemetry::metrics::handle().run_upkeep();
        });
    }
}

impl Supervised for TelemetryActor {
    fn restarting(&mut self, _ctx: &mut Self::Context) {
        self.files.clear();
    }
}

impl Handler<LogLine> for TelemetryActor {
    type Result = ();

    fn handle(&mut self, msg: LogLine, _ctx: &mut Self::Context) {
        let kind = msg.target.kind();
        let result = match &msg.target {
            Target::File(path) => self.write_file(path, &msg.line),
        };
        match result {
            Ok(()) => metrics::counter!(names::LOG_RECORDS_WRITTEN, "sink" => kind).increment(1),
            Err(e) => {
                tracing::warn!(sink = kind, error = %e, "log record not written");
                metrics::counter!(names::LOG_RECORDS_DROPPED, "sink" => kind, "reason" => "write_failed")
                    .increment(1);
            }
        }
    }
}
