//! A small HTTP server for metrics and status pages, on hyper: GET only, one handler that
//! maps a path to a page, run off the async threads (pages read the kernel). Stops when the
//! shutdown future completes, letting open requests finish for up to 5 seconds.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// A page: its content type and body.
#[derive(Debug, Clone)]
pub struct Page {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: String,
}

/// The OpenMetrics text content type (what `/metrics` serves).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a server serves: the page at a path, or None (404).
pub type Pages = Arc<dyn Fn(&str) -> Option<Page> + Send + Sync>;

async fn handle(pages: Pages, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, ct: &'static str, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = status;
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET only\n".into()));
    }
    let path = req.uri().path().to_owned();
    let page = tokio::task::spawn_blocking(move || pages(&path)).await;
    Ok(match page {
        Ok(Some(p)) => reply(StatusCode::OK, p.content_type, p.body),
        Ok(None) => reply(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found\n".into()),
        Err(e) => {
            tracing::error!(error = %e, "page handler failed");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", "internal error\n".into())
        }
    })
}

/// Serves `pages` on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, pages: Pages, shutdown: impl Future<Output = ()>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let pages = pages.clone();
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(TokioIo::new(stream), service_fn(move |r| handle(pages.clone(), r)));
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of descriptors and the like: say so, wait a little, go on.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => tracing::warn!("connections still open after 5 s; closing"),
    }
}

/// How a daemon writes its logs (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line.
    Json,
}

/// Sends the daemon's `tracing` events to standard error in `format`, at the level `RUST_LOG`
/// asks for (default `info`), coloured only on a terminal. Once per process.
///
/// ```
/// use ipvs_exporter::serve::{init_logs, LogFormat};
/// init_logs(LogFormat::Text);
/// tracing::info!("logging to standard error");
/// ```
pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    match format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
}
