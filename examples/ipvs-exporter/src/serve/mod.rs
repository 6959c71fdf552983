//! A small HTTP server for metrics and status pages, on hyper: GET only, one handler that
//! maps a path to a page, run off the async threads (pages read the kernel). A large page is
//! sent as it is written, in pieces, instead of made whole first, under the bounds of
//! [`limit`]: at most [`MAX_PAGES`] written at once, a client that takes nothing
//! cut off after [`STALLED`] (or [`CROWDED_STALL`] when a new request needs its slot), one
//! [`Reading`] shared by the pages that start together. Stops when the shutdown future
//! completes, letting open requests finish for up to 5 seconds.

mod body;
pub mod limit;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER as RETRY_AFTER_HEADER, VARY,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Notify;

use limit::Slots;
pub use limit::{Reading, CROWDED_STALL, FRESH, MAX_PAGES, RETRY_AFTER, STALLED};

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
    /// The whole text: for small pages (it takes no page slot).
    Text(String),
    /// The text as a writer makes it: run off the async threads, sent in pieces of
    /// [`PIECE`] bytes as they are written, at most four pieces ahead of the client. A page
    /// that ends within its first four pieces is sent with its length; a longer one has none:
    /// HTTP/1.1 clients get it chunked, HTTP/1.0 ones until the close.
    /// The writer runs in one of the server's [`MAX_PAGES`] page slots (a request that gets
    /// none is answered 503): do the costly work (reading the kernel) in it, not in
    /// [`Pages`], and share that reading with a [`Reading`].
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

/// The OpenMetrics text content type (what `/metrics` serves).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// What a server serves: the page at a path, or None (404). A request whose query has
/// `format=VALUE` is asked as `PATH?format=VALUE` first (the page in that form), then as
/// `PATH`; any other query is ignored.
pub type Pages = Arc<dyn Fn(&str) -> Option<Page> + Send + Sync>;

type Reply = Response<BoxBody<Bytes, std::io::Error>>;

fn plain(status: StatusCode, text: &str) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(text.to_owned())).map_err(|never| match never {}).boxed());
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    r
}

async fn handle(
    pages: Pages,
    slots: Arc<Slots>,
    cut: Arc<Notify>,
    req: Request<Incoming>,
) -> Result<Reply, std::convert::Infallible> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(plain(StatusCode::METHOD_NOT_ALLOWED, "GET only\n"));
    }
    let path = req.uri().path().to_owned();
    let gzip = accepts_gzip(req.headers());
    // A `format` in the query picks a form of the page: `PATH?format=VALUE` if `pages` has it.
    let format = req.uri().query().and_then(|q| q.split('&').find_map(|p| p.strip_prefix("format=")));
    let format = format.map(|f| format!("{path}?format={f}"));
    let find = move || format.and_then(|f| pages(&f)).or_else(|| pages(&path));
    let page = match tokio::task::spawn_blocking(find).await {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(plain(StatusCode::NOT_FOUND, "not found\n")),
        Err(e) => {
            tracing::error!(error = %e, "page handler failed");
            return Ok(plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"));
        }
    };
    let body = match page.body {
        Body::Text(t) => {
            let t = if gzip { gzipped(t.as_bytes()) } else { Bytes::from(t) };
            Full::new(t).map_err(|never| match never {}).boxed()
        }
        Body::Written(w) => match slots.take(cut) {
            Some(slot) => body::written(w, slot, gzip).await.boxed(),
            None => {
                let mut r = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("busy: {MAX_PAGES} pages are being written; retry in {} s\n", RETRY_AFTER.as_secs()),
                );
                r.headers_mut().insert(RETRY_AFTER_HEADER, HeaderValue::from(RETRY_AFTER.as_secs()));
                return Ok(r);
            }
        },
    };
    let mut r = Response::new(body);
    let headers = r.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(page.content_type));
    // Pages come gzip-compressed to a client that asks (a cache must key on the asking).
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok(r)
}

/// `text` as a gzip stream (a small page, made whole).
fn gzipped(text: &[u8]) -> Bytes {
    use std::io::Write as _;
    let mut z = flate2::write::GzEncoder::new(Vec::with_capacity(text.len() / 4 + 64), body::gzip_level());
    // Writing into a Vec does not fail.
    let done = z.write_all(text).and_then(|()| z.finish());
    Bytes::from(done.unwrap_or_default())
}

/// Whether a request's `Accept-Encoding` takes gzip: `gzip` (or `x-gzip`) with a weight
/// above 0, or `*` above 0 when gzip is not named (RFC 9110, section 12.5.3). No header, a
/// header that is not text, or a weight that is not a number: no.
///
/// ```
/// use hyper::header::{HeaderMap, HeaderValue, ACCEPT_ENCODING};
/// use ipvs_exporter::serve::accepts_gzip;
/// let asking = |v: &'static str| HeaderMap::from_iter([(ACCEPT_ENCODING, HeaderValue::from_static(v))]);
/// assert!(accepts_gzip(&asking("gzip")));
/// assert!(accepts_gzip(&asking("deflate, GZIP;q=0.5")));
/// assert!(accepts_gzip(&asking("*")));
/// assert!(!accepts_gzip(&asking("gzip;q=0, *")));
/// assert!(!accepts_gzip(&asking("identity")));
/// assert!(!accepts_gzip(&HeaderMap::new()));
/// ```
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut star = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(value) = value.to_str() else { continue };
        for coding in value.split(',') {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let weight = parts
                .find_map(|p| {
                    let (k, v) = p.split_once('=')?;
                    k.trim().eq_ignore_ascii_case("q").then(|| v.trim().parse::<f32>().unwrap_or(0.0))
                })
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
                return weight > 0.0;
            }
            if name == "*" {
                star = Some(weight > 0.0);
            }
        }
    }
    star.unwrap_or(false)
}

/// Serves `pages` on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, pages: Pages, shutdown: impl Future<Output = ()>) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let slots = Arc::new(Slots::default());
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let (pages, slots) = (pages.clone(), slots.clone());
                    // Closes this connection: a client that takes nothing of its page.
                    let cut = Arc::new(Notify::new());
                    let for_pages = cut.clone();
                    let conn = http1::Builder::new()
                        .timer(TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(
                            TokioIo::new(stream),
                            service_fn(move |r| handle(pages.clone(), slots.clone(), for_pages.clone(), r)),
                        );
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        tokio::select! {
                            ended = conn => if let Err(e) = ended {
                                tracing::debug!(%peer, error = %e, "connection ended with an error");
                            },
                            () = cut.notified() => tracing::debug!(%peer, "connection cut off"),
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
