//! A small HTTP server for metrics and status pages, on hyper: GET only, one handler that
//! maps a path to a page, run off the async threads (pages read the kernel). A large page is
//! sent as it is written, in pieces, instead of made whole first. Stops when the shutdown
//! future completes, letting open requests finish for up to 5 seconds.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Frame, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

/// A page: its content type and body.
#[derive(Debug)]
pub struct Page {
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Body,
}

/// Writes a page's text, piece by piece; an error ends the page (the reply is cut off, so
/// the client sees that it is incomplete).
pub type Writer = Box<dyn FnOnce(&mut dyn fmt::Write) -> fmt::Result + Send>;

/// A page's body.
///
/// ```
/// use ipvs_exporter::serve::{Body, Page};
/// let small = Page { content_type: "text/plain", body: "ok\n".to_owned().into() };
/// let large = Page {
///     content_type: "text/plain",
///     body: Body::Written(Box::new(|out: &mut dyn std::fmt::Write| {
///         (0..100_000).try_for_each(|i| writeln!(out, "line {i}"))
///     })),
/// };
/// assert!(matches!(small.body, Body::Text(_)) && matches!(large.body, Body::Written(_)));
/// ```
pub enum Body {
    /// The whole text.
    Text(String),
    /// The text as a writer makes it: run off the async threads, sent in pieces of
    /// [`PIECE`] bytes as they are written, at most four pieces ahead of the client. The
    /// reply has no length: HTTP/1.1 clients get it chunked, HTTP/1.0 ones until the close.
    Written(Writer),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Body::Text(t) => f.debug_tuple("Text").field(t).finish(),
            Body::Written(_) => f.write_str("Written(..)"),
        }
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::Text(text)
    }
}

/// The size of the pieces a written page is sent in.
pub const PIECE: usize = 256 * 1024;

/// What a writer hands on: a piece of text, or the word that the page is complete. A page
/// whose writer stops without that word (it failed, or gave up on a stalled client) is cut
/// off: the reply ends with an error, which aborts the connection.
enum Piece {
    Text(Bytes),
    End,
}

/// A [`Body::Written`] page on its way: the pieces its writer has sent.
struct Pieces {
    from: tokio::sync::mpsc::Receiver<Piece>,
    ended: bool,
}

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        this.from.poll_recv(cx).map(|piece| match piece {
            Some(Piece::Text(b)) => Some(Ok(Frame::data(b))),
            Some(Piece::End) => {
                this.ended = true;
                None
            }
            None => {
                this.ended = true;
                Some(Err(std::io::Error::other("the page was cut off")))
            }
        })
    }
}

/// How long a written page waits for its client to take a piece before giving up.
pub const STALLED: Duration = Duration::from_secs(60);

/// The writer's side: collects text into pieces and hands each on when full; fails once the
/// reply is gone (the client left) or the client has taken nothing for [`STALLED`], which
/// stops the writer.
struct PieceWriter {
    to: tokio::sync::mpsc::Sender<Piece>,
    runtime: tokio::runtime::Handle,
    piece: String,
    stalled: bool,
}

impl PieceWriter {
    fn send(&mut self, piece: Piece) -> fmt::Result {
        match self.runtime.block_on(self.to.send_timeout(piece, STALLED)) {
            Ok(()) => Ok(()),
            Err(tokio::sync::mpsc::error::SendTimeoutError::Timeout(_)) => {
                self.stalled = true;
                Err(fmt::Error)
            }
            Err(tokio::sync::mpsc::error::SendTimeoutError::Closed(_)) => Err(fmt::Error),
        }
    }

    fn hand_on(&mut self) -> fmt::Result {
        let piece = std::mem::replace(&mut self.piece, String::with_capacity(PIECE + 4096));
        self.send(Piece::Text(Bytes::from(piece)))
    }
}

impl fmt::Write for PieceWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.piece.push_str(s);
        if self.piece.len() >= PIECE {
            self.hand_on()?;
        }
        Ok(())
    }
}

/// Runs `write` on a blocking thread; the body it makes, as it makes it.
fn written(write: Writer) -> Pieces {
    let (to, from) = tokio::sync::mpsc::channel(4);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut w = PieceWriter { to, runtime, piece: String::with_capacity(PIECE + 4096), stalled: false };
        let done = write(&mut w)
            .and_then(|()| if w.piece.is_empty() { Ok(()) } else { w.hand_on() })
            .and_then(|()| w.send(Piece::End));
        if done.is_err() && !w.to.is_closed() {
            let why = if w.stalled { "the client took nothing for 60 s" } else { "writing the page failed" };
            tracing::warn!("{why}; the reply is cut off");
        }
    });
    Pieces { from, ended: false }
}

/// The OpenMetrics text content type (what `/metrics` serves).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a server serves: the page at a path, or None (404).
pub type Pages = Arc<dyn Fn(&str) -> Option<Page> + Send + Sync>;

type Reply = Response<BoxBody<Bytes, std::io::Error>>;

async fn handle(pages: Pages, req: Request<Incoming>) -> Result<Reply, std::convert::Infallible> {
    let reply = |status: StatusCode, ct: &'static str, body: Body| {
        let body = match body {
            Body::Text(t) => Full::new(Bytes::from(t)).map_err(|never| match never {}).boxed(),
            Body::Written(w) => written(w).boxed(),
        };
        let mut r = Response::new(body);
        *r.status_mut() = status;
        r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(ct));
        r
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET only\n".to_owned().into()));
    }
    let path = req.uri().path().to_owned();
    let page = tokio::task::spawn_blocking(move || pages(&path)).await;
    Ok(match page {
        Ok(Some(p)) => reply(StatusCode::OK, p.content_type, p.body),
        Ok(None) => reply(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", "not found\n".to_owned().into()),
        Err(e) => {
            tracing::error!(error = %e, "page handler failed");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "text/plain; charset=utf-8", "internal error\n".to_owned().into())
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
