//! [`MockState`]: everything one mock instance shares between its requests (options, recorder,
//! sessions, SSE event ids). Cheap to clone; clones share the same instance.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::mcp::Sessions;
use crate::recorder::{RecordedRequest, Recorder};
use crate::Options;

/// The shared state of one mock; hand it to [`crate::app_config`] to embed the mock in an App.
#[derive(Clone)]
pub struct MockState {
    inner: Arc<Inner>,
}

struct Inner {
    options: Options,
    recorder: Recorder,
    sessions: Sessions,
    next_event_id: AtomicU64,
}

impl MockState {
    pub fn new(options: Options) -> Self {
        Self {
            inner: Arc::new(Inner {
                options,
                recorder: Recorder::default(),
                sessions: Sessions::default(),
                next_event_id: AtomicU64::new(1),
            }),
        }
    }

    pub fn options(&self) -> &Options {
        &self.inner.options
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.recorder.snapshot()
    }

    pub fn clear_requests(&self) {
        self.inner.recorder.clear();
    }

    /// Stops (or resumes) recording; benchmarks turn it off so memory stays flat under load.
    pub fn set_recording(&self, on: bool) {
        self.inner.recorder.set_enabled(on);
    }

    pub(crate) fn recording(&self) -> bool {
        self.inner.recorder.enabled()
    }

    pub(crate) fn record(&self, request: RecordedRequest) {
        self.inner.recorder.push(request);
    }

    pub(crate) fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// SSE event ids are unique across all streams of this mock.
    pub(crate) fn next_event_id(&self) -> u64 {
        self.inner.next_event_id.fetch_add(1, Ordering::Relaxed)
    }
}
