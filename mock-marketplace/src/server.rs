//! Running the mock: [`spawn`] / [`spawn_on`] start it on a dedicated thread with its own actix
//! `System`, so callers on a plain tokio runtime, an actix runtime or in `#[tokio::test]` /
//! `#[actix_rt::test]` all work the same; [`app_config`] embeds it in another actix App instead.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpRequest, HttpServer};
use tokio::sync::oneshot;

use crate::recorder::RecordedRequest;
use crate::{routes, MockState, Options};

/// Registers the mock on every path of an App or scope (`App::new().configure(app_config(&s))`).
pub fn app_config(state: &MockState) -> impl Fn(&mut web::ServiceConfig) + Clone + Send + 'static {
    let state = state.clone();
    move |config: &mut web::ServiceConfig| {
        let state = state.clone();
        config.route(
            "/{tail:.*}",
            web::route().to(move |req: HttpRequest, payload: web::Payload| {
                routes::entry(state.clone(), req, payload)
            }),
        );
    }
}

/// Starts a mock on `127.0.0.1:0`.
pub async fn spawn(options: Options) -> io::Result<MockHandle> {
    spawn_on(SocketAddr::from(([127, 0, 0, 1], 0)), options).await
}

/// Starts a mock on a fixed address (port 0 picks a free one).
pub async fn spawn_on(addr: SocketAddr, options: Options) -> io::Result<MockHandle> {
    let listener = TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let state = MockState::new(options);
    let (started, handle) = oneshot::channel();
    let thread_state = state.clone();
    std::thread::Builder::new()
        .name(format!("mock-marketplace-{}", addr.port()))
        .spawn(move || run(listener, thread_state, started))?;
    let server = handle
        .await
        .map_err(|_| io::Error::other("mock-marketplace server thread exited early"))??;
    Ok(MockHandle {
        addr,
        state,
        server,
    })
}

/// The server thread: its own System, one worker, no signal handling (the test owns signals).
fn run(
    listener: TcpListener,
    state: MockState,
    started: oneshot::Sender<io::Result<ServerHandle>>,
) {
    actix_rt::System::new().block_on(async move {
        let config = app_config(&state);
        let server = HttpServer::new(move || App::new().configure(config.clone()))
            .workers(1)
            // SSE events go out as written (no Nagle wait for the previous one's ACK).
            .tcp_nodelay(true)
            .disable_signals()
            .shutdown_timeout(1)
            .listen(listener);
        let server = match server {
            Ok(server) => server.run(),
            Err(error) => {
                let _ = started.send(Err(error));
                return;
            }
        };
        let _ = started.send(Ok(server.handle()));
        if let Err(error) = server.await {
            tracing::warn!(%error, "mock-marketplace server failed");
        }
    });
}

/// A running mock. Dropping it stops the server too.
pub struct MockHandle {
    addr: SocketAddr,
    state: MockState,
    server: ServerHandle,
}

impl MockHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (REST root, and an MCP endpoint too).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://127.0.0.1:PORT/mcp`.
    pub fn mcp_url(&self) -> String {
        format!("{}/mcp", self.url())
    }

    pub fn state(&self) -> &MockState {
        &self.state
    }

    /// Every request received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests()
    }

    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Stops the server and waits until it has stopped (open streams are cut).
    pub async fn stop(self) {
        self.server.stop(false).await;
    }

    /// Waits up to `timeout` for at least `count` recorded requests, then returns them all.
    pub async fn wait_for_requests(&self, count: usize, timeout: Duration) -> Vec<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let requests = self.requests();
            if requests.len() >= count || tokio::time::Instant::now() >= deadline {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for MockHandle {
    fn drop(&mut self) {
        // The stop command is sent eagerly; the returned future only waits for completion.
        drop(self.server.stop(false));
    }
}
