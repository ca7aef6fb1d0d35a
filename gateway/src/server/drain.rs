//! The server's graceful-shutdown signal as the connections of one worker see it. The HTTP layer
//! polls its connection's signal every time the connection is polled; actix's signal is a
//! watch channel whose every poll takes its waiters' lock. Here one task per worker waits on
//! that channel, and a connection's poll reads a flag: its waker is stored once and replaced
//! only when it changes.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use actix_server::GracefulShutdownSignal;

/// One worker's view of the signal; cloned into each of its connections.
#[derive(Clone)]
pub struct Drain(Rc<Shared>);

struct Shared {
    signal: GracefulShutdownSignal,
    /// The waiting task is spawned by the first connection's poll, inside the worker's runtime.
    waiting: Cell<bool>,
    fired: Cell<bool>,
    wakers: RefCell<Wakers>,
}

/// The connections' wakers; a closed connection's slot is reused.
#[derive(Default)]
struct Wakers {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Drain {
    pub fn new(signal: GracefulShutdownSignal) -> Self {
        Drain(Rc::new(Shared {
            signal,
            waiting: Cell::new(false),
            fired: Cell::new(false),
            wakers: RefCell::default(),
        }))
    }

    /// Resolves when the server starts a graceful shutdown.
    pub fn notified(&self) -> Notified {
        Notified {
            drain: self.0.clone(),
            slot: None,
        }
    }
}

/// A connection's wait for the signal.
pub struct Notified {
    drain: Rc<Shared>,
    slot: Option<usize>,
}

impl Future for Notified {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Notified { drain, slot } = &mut *self;
        if drain.fired.get() {
            return Poll::Ready(());
        }
        if !drain.waiting.replace(true) {
            let shared = drain.clone();
            actix_rt::spawn(async move {
                shared.signal.notified().await;
                shared.fired.set(true);
                let wakers = std::mem::take(&mut *shared.wakers.borrow_mut());
                for waker in wakers.slots.into_iter().flatten() {
                    waker.wake();
                }
            });
        }
        let mut wakers = drain.wakers.borrow_mut();
        match *slot {
            Some(at) => match &mut wakers.slots[at] {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                slot => *slot = Some(cx.waker().clone()),
            },
            None => {
                let waker = Some(cx.waker().clone());
                let at = match wakers.free.pop() {
                    Some(at) => {
                        wakers.slots[at] = waker;
                        at
                    }
                    None => {
                        wakers.slots.push(waker);
                        wakers.slots.len() - 1
                    }
                };
                *slot = Some(at);
            }
        }
        Poll::Pending
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        if let Some(at) = self.slot {
            let mut wakers = self.drain.wakers.borrow_mut();
            // After the signal the slots are gone; nothing to give back.
            if let Some(slot) = wakers.slots.get_mut(at) {
                *slot = None;
                wakers.free.push(at);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(n: &mut Notified) -> Poll<()> {
        Pin::new(n).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[actix_rt::test]
    async fn connections_that_come_and_go_reuse_their_slots() {
        let drain = Drain::new(actix_server::Server::build().graceful_shutdown_signal());
        let mut kept = drain.notified();
        assert!(poll(&mut kept).is_pending());
        for _ in 0..100 {
            let mut gone = drain.notified();
            assert!(poll(&mut gone).is_pending());
            // Polled again with the same waker: the stored one stays.
            assert!(poll(&mut gone).is_pending());
        }
        let wakers = drain.0.wakers.borrow();
        assert_eq!(
            wakers.slots.len(),
            2,
            "one slot per open connection, reused"
        );
        assert_eq!(wakers.slots.iter().flatten().count(), 1);
    }
}
