//! Legacy-era sessions (the `stateful` option): ids minted on `initialize`, looked up on every
//! later request, ended by `DELETE`. Each session owns a watch sender whose drop ends the
//! session's standalone GET streams, so `DELETE` closes them at once.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::watch;

#[derive(Default)]
pub struct Sessions {
    live: Mutex<HashMap<String, watch::Sender<()>>>,
}

impl Sessions {
    // A panic elsewhere must not turn every later request into one too.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, watch::Sender<()>>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Mints a new session id.
    pub fn create(&self) -> String {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let (sender, _) = watch::channel(());
        self.lock().insert(id.clone(), sender);
        id
    }

    pub fn contains(&self, id: &str) -> bool {
        self.lock().contains_key(id)
    }

    /// A receiver that reports an error once the session ends.
    pub fn subscribe(&self, id: &str) -> Option<watch::Receiver<()>> {
        self.lock().get(id).map(watch::Sender::subscribe)
    }

    /// Ends a session; `false` when it did not exist.
    pub fn remove(&self, id: &str) -> bool {
        self.lock().remove(id).is_some()
    }
}
