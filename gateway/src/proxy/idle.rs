//! Bounded waits: the connection's head and keep-alive limits, the upstream's response head,
//! and "no data for this long" between chunks of a streamed body (the client's request body,
//! the upstream's response body).
//!
//! A proxy connection keeps one [`Clock`] for all of them. Its timer is never set later than
//! the nearest deadline still to come and is moved on when it fires early, so in the steady
//! state a request registers no timer at all: it reads the clock where a deadline starts. A
//! wait with no connection clock (none is offered) uses a clock of its own.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// The timer a connection's waits share. Every wait on it is polled from the connection's own
/// task (actix serves a connection's requests, and polls their bodies, in that task), which is
/// what lets one waker serve them all.
#[derive(Default)]
pub struct Clock {
    timer: RefCell<Option<Pin<Box<Sleep>>>>,
    /// The timer was last polled pending and not moved since: the task's wake-up is
    /// registered, there is nothing to renew.
    waiting: Cell<bool>,
    /// The shortest wait asked for so far: a later deadline is at least this far from now.
    shortest: Cell<Option<Duration>>,
}

impl Clock {
    /// Ready once `deadline` (`wait` after its start) has passed; otherwise the task is woken
    /// by then. The timer is moved earlier only when `deadline` is nearer than it; when it
    /// fires before `deadline` it is moved to the deadline or `shortest` from now, whichever
    /// comes first, so no later wait ever has to move it earlier.
    pub fn poll_until(&self, cx: &mut Context<'_>, deadline: Instant, wait: Duration) -> Poll<()> {
        let shortest = match self.shortest.get() {
            Some(s) if s <= wait => s,
            _ => {
                self.shortest.set(Some(wait));
                wait
            }
        };
        let mut slot = self.timer.borrow_mut();
        let timer = slot.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        } else if self.waiting.get() && !timer.is_elapsed() {
            return Poll::Pending;
        }
        while timer.as_mut().poll(cx).is_ready() {
            let now = Instant::now();
            if now >= deadline {
                self.waiting.set(false);
                return Poll::Ready(());
            }
            timer.as_mut().reset(deadline.min(now + shortest));
        }
        self.waiting.set(true);
        Poll::Pending
    }
}

/// A wait bounded by `timeout`, restarted by [`IdleTimer::data`] for "no data for this long".
/// The silence is counted from the first wait after the start or after data: the clock is
/// read only when a wait is actually pending, so a body that is already there when read costs
/// no clock read and no timer.
pub struct IdleTimer {
    timeout: Duration,
    /// `timeout` after the wait began; none until a wait is pending (again).
    deadline: Option<Instant>,
    /// The connection's, or one of its own when none is offered.
    clock: Rc<Clock>,
}

impl IdleTimer {
    pub fn new(timeout: Duration, clock: Option<Rc<Clock>>) -> Self {
        IdleTimer {
            timeout,
            deadline: None,
            clock: clock.unwrap_or_default(),
        }
    }

    /// A wait whose silence has been counted since `start` (a moment already read, so the
    /// first wait reads no clock).
    pub fn since(timeout: Duration, clock: Option<Rc<Clock>>, start: std::time::Instant) -> Self {
        IdleTimer {
            deadline: Some(Instant::from_std(start) + timeout),
            ..IdleTimer::new(timeout, clock)
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Data arrived: the silence starts again at the next wait.
    pub fn data(&mut self) {
        self.deadline = None;
    }

    /// A read is waiting: ready once the silence has lasted `timeout`.
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let timeout = self.timeout;
        let deadline = *self
            .deadline
            .get_or_insert_with(|| Instant::now() + timeout);
        self.clock.poll_until(cx, deadline, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(timer: &mut IdleTimer) -> Poll<()> {
        let waker = futures_util::task::noop_waker();
        timer.poll_expired(&mut Context::from_waker(&waker))
    }

    async fn expires_after_the_silence_and_data_restarts_it(clock: Option<Rc<Clock>>) {
        let mut timer = IdleTimer::new(Duration::from_millis(100), clock);
        assert_eq!(poll(&mut timer), Poll::Pending);
        tokio::time::advance(Duration::from_millis(60)).await;
        // Data, and the next read waits at once.
        timer.data();
        assert_eq!(poll(&mut timer), Poll::Pending);
        tokio::time::advance(Duration::from_millis(60)).await;
        assert_eq!(
            poll(&mut timer),
            Poll::Pending,
            "data restarted the silence"
        );
        tokio::time::advance(Duration::from_millis(41)).await;
        assert_eq!(poll(&mut timer), Poll::Ready(()));
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_since_a_moment_counts_from_it() {
        let start = Instant::now();
        tokio::time::advance(Duration::from_millis(60)).await;
        let mut timer = IdleTimer::since(Duration::from_millis(100), None, start.into_std());
        assert_eq!(poll(&mut timer), Poll::Pending);
        tokio::time::advance(Duration::from_millis(39)).await;
        assert_eq!(poll(&mut timer), Poll::Pending);
        tokio::time::advance(Duration::from_millis(1)).await;
        assert_eq!(
            poll(&mut timer),
            Poll::Ready(()),
            "100 ms after the start, not after the first wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_clock_of_its_own_expires_after_the_silence() {
        expires_after_the_silence_and_data_restarts_it(None).await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_clock_expires_after_the_silence() {
        expires_after_the_silence_and_data_restarts_it(Some(Rc::default())).await;
    }

    /// Counts wake-ups, to see when the shared timer fires.
    #[derive(Default)]
    struct Wakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn poll_with(
        clock: &Clock,
        waker: &std::task::Waker,
        deadline: Instant,
        wait: Duration,
    ) -> Poll<()> {
        clock.poll_until(&mut Context::from_waker(waker), deadline, wait)
    }

    #[tokio::test(start_paused = true)]
    async fn the_shared_timer_serves_the_nearest_deadline_and_moves_on_when_early() {
        let wakes = std::sync::Arc::new(Wakes::default());
        let waker = std::task::Waker::from(wakes.clone());
        let woken = || wakes.0.load(std::sync::atomic::Ordering::SeqCst);
        let clock = Clock::default();
        let ms = Duration::from_millis;
        let start = Instant::now();

        // A long wait, then a nearer one: the nearer one is served on time.
        assert!(poll_with(&clock, &waker, start + ms(1000), ms(1000)).is_pending());
        assert!(poll_with(&clock, &waker, start + ms(300), ms(300)).is_pending());
        tokio::time::advance(ms(299)).await;
        assert_eq!(woken(), 0);
        tokio::time::advance(ms(1)).await;
        tokio::task::yield_now().await;
        assert_eq!(woken(), 1, "woken at the nearer deadline");
        assert_eq!(
            poll_with(&clock, &waker, start + ms(300), ms(300)),
            Poll::Ready(())
        );

        // The nearer wait is gone; the long one, polled after the early wake, is still pending
        // and is woken again by its own deadline, never past it.
        assert!(poll_with(&clock, &waker, start + ms(1000), ms(1000)).is_pending());
        let mut now = ms(300);
        while woken() == 1 {
            tokio::time::advance(ms(10)).await;
            tokio::task::yield_now().await;
            now += ms(10);
            assert!(now <= ms(1000), "not woken by the deadline");
        }
        // Woken at most `shortest` (300 ms) after the early wake: the timer moved on.
        assert!(now <= ms(600), "woken at {now:?}");
        while poll_with(&clock, &waker, start + ms(1000), ms(1000)).is_pending() {
            let before = woken();
            while woken() == before {
                tokio::time::advance(ms(10)).await;
                tokio::task::yield_now().await;
                now += ms(10);
                assert!(now <= ms(1000), "not woken by the deadline");
            }
        }
        assert_eq!(now, ms(1000), "ready exactly at its deadline");
    }
}
