//! "No data for this long": the timeout between chunks of a streamed body (the client's request
//! body, the upstream's response body). The timer wheel is touched only when a read has to wait,
//! so a body that is already there when read costs no timer.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{Instant, Sleep};

pub struct IdleTimer {
    timeout: Duration,
    /// `timeout` after the last data (or after the start).
    deadline: Instant,
    /// Armed at the first read that waits, moved to `deadline` when data came since.
    timer: Option<Pin<Box<Sleep>>>,
}

impl IdleTimer {
    pub fn new(timeout: Duration) -> Self {
        IdleTimer {
            timeout,
            deadline: Instant::now() + timeout,
            timer: None,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Data arrived: the silence starts again.
    pub fn data(&mut self) {
        self.deadline = Instant::now() + self.timeout;
    }

    /// A read is waiting: ready once the silence has lasted `timeout`.
    pub fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        timer.as_mut().poll(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(timer: &mut IdleTimer) -> Poll<()> {
        let waker = futures_util::task::noop_waker();
        timer.poll_expired(&mut Context::from_waker(&waker))
    }

    #[tokio::test(start_paused = true)]
    async fn expires_after_the_silence_and_data_restarts_it() {
        let mut timer = IdleTimer::new(Duration::from_millis(100));
        assert_eq!(poll(&mut timer), Poll::Pending);
        tokio::time::advance(Duration::from_millis(60)).await;
        timer.data();
        tokio::time::advance(Duration::from_millis(60)).await;
        assert_eq!(
            poll(&mut timer),
            Poll::Pending,
            "data restarted the silence"
        );
        tokio::time::advance(Duration::from_millis(41)).await;
        assert_eq!(poll(&mut timer), Poll::Ready(()));
    }
}
