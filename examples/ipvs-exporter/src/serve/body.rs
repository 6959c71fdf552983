//! A written page on its way: its writer on a blocking thread, its body handing the pieces
//! to hyper, both holding the page's slot.

use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

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

/// The writer's side: collects text into pieces of [`PIECE`] bytes and hands each on when
/// full, waiting while four are ahead of the client; fails once the reply is gone (the
/// client left, or was cut off for taking nothing), which stops the writer.
struct PieceWriter {
    to: tokio::sync::mpsc::Sender<Piece>,
    runtime: tokio::runtime::Handle,
    piece: String,
    slot: Arc<Slot>,
}

impl PieceWriter {
    fn send(&mut self, piece: Piece) -> fmt::Result {
        self.slot.state.queued();
        self.runtime.block_on(self.to.send(piece)).map_err(|_| fmt::Error)
    }

    fn hand_on(&mut self) -> fmt::Result {
        let piece = std::mem::replace(&mut self.piece, String::with_capacity(PIECE + 4096));
        self.send(Piece::Text(Bytes::from(piece)))
    }
}

impl fmt::Write for PieceWriter {
    fn write_str(&mut self, mut s: &str) -> fmt::Result {
        // A long text is cut into pieces (at character boundaries), never held as one.
        while self.piece.len() + s.len() > PIECE {
            let mut at = PIECE.saturating_sub(self.piece.len());
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            let (now, rest) = s.split_at(at);
            self.piece.push_str(now);
            self.hand_on()?;
            s = rest;
        }
        self.piece.push_str(s);
        if self.piece.len() >= PIECE {
            self.hand_on()?;
        }
        Ok(())
    }
}

/// Runs `write` on a blocking thread under `slot`; the body it makes, as it makes it, once
/// the page has ended or four pieces are ready.
pub(crate) async fn written(write: Writer, slot: Arc<Slot>) -> Pieces {
    let (to, mut from) = tokio::sync::mpsc::channel(4);
    let runtime = tokio::runtime::Handle::current();
    let for_writer = slot.clone();
    tokio::task::spawn_blocking(move || {
        let mut w = PieceWriter { to, runtime, piece: String::with_capacity(PIECE + 4096), slot: for_writer };
        let done = write(&mut w)
            .and_then(|()| if w.piece.is_empty() { Ok(()) } else { w.hand_on() })
            .and_then(|()| w.send(Piece::End));
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
