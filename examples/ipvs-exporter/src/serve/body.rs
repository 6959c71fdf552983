//! A written page on its way: its writer on a blocking thread, its body handing the pieces
//! to hyper, both holding the page's slot.

use std::collections::VecDeque;
use std::fmt;
use std::io::Write as _;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use flate2::write::GzEncoder;
use flate2::Compression;
use hyper::body::{Bytes, Frame};

use super::limit::Slot;
use super::{Writer, PIECE};

/// What a writer hands on: a piece of text, or the word that the page is complete. A page
/// whose writer stops without that word (it failed, or its client is gone) is cut off: the
/// reply ends with an error, which aborts the connection.
enum Piece {
    Text(Bytes),
    End,
}

/// A [`super::Body::Written`] page on its way: the pieces its writer has sent. A page that
/// ends within its first four pieces has its length (hyper sends `Content-Length`); a longer
/// one has none (chunked for HTTP/1.1, until the close for HTTP/1.0).
pub(crate) struct Pieces {
    from: tokio::sync::mpsc::Receiver<Piece>,
    /// Pieces received before the reply started (to learn whether the page is short).
    ahead: VecDeque<Option<Piece>>,
    length: Option<u64>,
    ended: bool,
    slot: Arc<Slot>,
}

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        let piece = match this.ahead.pop_front() {
            Some(p) => p,
            None => match this.from.poll_recv(cx) {
                Poll::Ready(p) => p,
                Poll::Pending => return Poll::Pending,
            },
        };
        if piece.is_some() {
            this.slot.state.taken();
        }
        Poll::Ready(match piece {
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

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.length.map_or_else(hyper::body::SizeHint::default, hyper::body::SizeHint::with_exact)
    }
}

/// The writer's side: collects the page into pieces of about [`PIECE`] bytes (text, or the
/// gzip stream of it) and hands each on when full, waiting while four are ahead of the
/// client; fails once the reply is gone (the client left, or was cut off for taking
/// nothing), which stops the writer.
struct PieceWriter {
    to: tokio::sync::mpsc::Sender<Piece>,
    runtime: tokio::runtime::Handle,
    out: Out,
    slot: Arc<Slot>,
}

/// What a piece is made of: the text itself, or its gzip stream (`Content-Encoding: gzip`).
enum Out {
    Text(String),
    Gzip(Box<GzEncoder<Vec<u8>>>),
}

fn piece_buffer() -> Vec<u8> {
    Vec::with_capacity(PIECE + 4096)
}

impl PieceWriter {
    fn send(&mut self, piece: Piece) -> fmt::Result {
        self.slot.state.queued();
        self.runtime.block_on(self.to.send(piece)).map_err(|_| fmt::Error)
    }

    /// Hands on what has been collected (the gzip stream's bytes so far, for a gzip page).
    fn hand_on(&mut self) -> fmt::Result {
        let piece = match &mut self.out {
            Out::Text(t) => Bytes::from(std::mem::replace(t, String::with_capacity(PIECE + 4096))),
            Out::Gzip(z) => Bytes::from(std::mem::replace(z.get_mut(), piece_buffer())),
        };
        self.send(Piece::Text(piece))
    }

    /// Ends the page: what is left (for gzip, the end of the stream), then the word that the
    /// page is complete.
    fn finish(&mut self) -> fmt::Result {
        let left = match &mut self.out {
            Out::Text(t) => !t.is_empty(),
            Out::Gzip(z) => {
                z.try_finish().map_err(|_| fmt::Error)?;
                !z.get_ref().is_empty()
            }
        };
        if left {
            self.hand_on()?;
        }
        self.send(Piece::End)
    }
}

impl fmt::Write for PieceWriter {
    fn write_str(&mut self, mut s: &str) -> fmt::Result {
        // A long text is cut into pieces (at character boundaries), never held as one.
        loop {
            let full = match &mut self.out {
                Out::Text(t) => {
                    if t.len() + s.len() <= PIECE {
                        t.push_str(s);
                        s = "";
                    } else {
                        let mut at = PIECE.saturating_sub(t.len());
                        while !s.is_char_boundary(at) {
                            at -= 1;
                        }
                        let (now, rest) = s.split_at(at);
                        t.push_str(now);
                        s = rest;
                    }
                    t.len() >= PIECE
                }
                Out::Gzip(z) => {
                    let mut at = s.len().min(PIECE);
                    while !s.is_char_boundary(at) {
                        at -= 1;
                    }
                    let (now, rest) = s.split_at(at);
                    z.write_all(now.as_bytes()).map_err(|_| fmt::Error)?;
                    s = rest;
                    z.get_ref().len() >= PIECE
                }
            };
            if full {
                self.hand_on()?;
            }
            if s.is_empty() {
                return Ok(());
            }
        }
    }
}

/// Gzip as the pages use it: the fastest level (a scrape is read once, at once; most of
/// the size goes at level 1 and the page is not held up).
pub(crate) fn gzip_level() -> Compression {
    Compression::fast()
}

/// Runs `write` on a blocking thread under `slot`; the body it makes (gzip-compressed if
/// `gzip`), as it makes it, once the page has ended or four pieces are ready.
pub(crate) async fn written(write: Writer, slot: Arc<Slot>, gzip: bool) -> Pieces {
    let (to, mut from) = tokio::sync::mpsc::channel(4);
    let runtime = tokio::runtime::Handle::current();
    let for_writer = slot.clone();
    tokio::task::spawn_blocking(move || {
        let out = if gzip {
            Out::Gzip(Box::new(GzEncoder::new(piece_buffer(), gzip_level())))
        } else {
            Out::Text(String::with_capacity(PIECE + 4096))
        };
        let mut w = PieceWriter { to, runtime, out, slot: for_writer };
        let done = write(&mut w).and_then(|()| w.finish());
        if done.is_err() && !w.to.is_closed() {
            tracing::warn!("writing the page failed; the reply is cut off");
        }
    });
    let mut ahead = VecDeque::new();
    let mut length = None;
    let mut bytes = 0;
    while ahead.len() < 4 {
        let piece = from.recv().await;
        match &piece {
            Some(Piece::Text(b)) => bytes += b.len() as u64,
            Some(Piece::End) => length = Some(bytes),
            None => {}
        }
        let last = !matches!(piece, Some(Piece::Text(_)));
        ahead.push_back(piece);
        if last {
            break;
        }
    }
    Pieces { from, ahead, length, ended: false, slot }
}
