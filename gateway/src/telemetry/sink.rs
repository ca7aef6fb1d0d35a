//! The handle plugins use to hand log lines to the telemetry actor without waiting for it.
//! A full queue never blocks a request: the line is counted as dropped.

use std::path::PathBuf;
use std::sync::Arc;

use actix::prelude::*;

use super::http_log::HttpLogTarget;
use super::names;

/// Where a line goes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    /// file-log: append the line to this file.
    File(PathBuf),
    /// http-log: queue the record for this endpoint (one queue per configuration).
    Http(Arc<HttpLogTarget>),
}

impl Target {
    pub fn kind(&self) -> &'static str {
        match self {
            Target::File(_) => "file-log",
            Target::Http(_) => "http-log",
        }
    }
}

/// One serialized log record for one sink.
#[derive(Message)]
#[rtype(result = "()")]
pub struct LogLine {
    pub target: Target,
    pub line: Arc<str>,
}

/// Cloneable, thread-safe sender to the telemetry actor.
#[derive(Clone)]
pub struct LogSender {
    recipient: Recipient<LogLine>,
}

impl LogSender {
    pub fn new(recipient: Recipient<LogLine>) -> Self {
        LogSender { recipient }
    }

    pub fn send(&self, target: Target, line: Arc<str>) {
        let kind = target.kind();
        let result = self
            .recipient
            .try_send(LogLine { target, line })
            .map_err(|e| match e {
                SendError::Full(_) => "queue_full",
                SendError::Closed(_) => "sink_closed",
            });
        if let Err(reason) = result {
            metrics::counter!(names::LOG_RECORDS_DROPPED, "sink" => kind, "reason" => reason)
                .increment(1);
        }
    }
}
