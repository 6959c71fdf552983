//! One generic netlink socket: sequence numbers, sending, receiving within a deadline, and
//! the exchanges (a request, a dump, a pipelined batch) the transport is made of.

use std::io;

use netlink_sys::Socket;

use super::super::BatchOutcome;
use crate::error::{Errno, ErrorKind};
use crate::netlink::{Connection, Deadline};
use crate::wire::frame::{self, Frame, Payload};
use crate::wire::{IpvsCmd, IpvsMessage, FAMILY_NAME};

/// Requests per sendmsg in a batch: small enough that the error reports of a chunk in which
/// every request fails fit the socket's receive buffer.
const BATCH_CHUNK: usize = 128;

/// A [`Connection`] speaking the IPVS family: its exchanges (a request, a dump, a pipelined
/// batch) decode replies with the IPVS codec.
#[derive(Debug)]
pub(super) struct Conn {
    link: Connection,
    pub(super) family: u16,
}

impl Conn {
    /// A bound, connected socket with its options set; the family is still unresolved.
    pub(super) fn open(socket: Socket, rx_len: usize) -> Result<Conn, ErrorKind> {
        Ok(Conn { link: Connection::with_socket(socket, rx_len)?, family: 0 })
    }

    fn next_seq(&mut self) -> u32 {
        self.link.next_seq()
    }

    fn encode(&mut self, msg: &IpvsMessage, seq: u32, flags: u16) -> Result<(), ErrorKind> {
        let family = self.family;
        let tx = self.link.tx_mut();
        frame::encode(msg, family, seq, flags, tx).map_err(|e| {
            tx.clear();
            ErrorKind::Encode(e.to_string())
        })
    }

    fn send_tx(&mut self) -> Result<(), ErrorKind> {
        self.link.flush()
    }

    /// Receives one datagram and decodes it: the frames addressed to this socket. `None`
    /// when `deadline` is None (non-blocking) and nothing is queued (see
    /// [`Connection::recv_datagram`]).
    pub(super) fn recv(&mut self, deadline: Option<Deadline>) -> Result<Option<Vec<Frame>>, ErrorKind> {
        let port = self.link.port();
        let Some(data) = self.link.recv_datagram(deadline)? else { return Ok(None) };
        let frames = frame::decode_all(data)?;
        Ok(Some(frames.into_iter().filter(|f| f.port == port || f.port == 0).collect()))
    }

    pub(super) fn resolve_family(&mut self, deadline: Deadline) -> Result<u16, ErrorKind> {
        match self.link.resolve_family(FAMILY_NAME, deadline) {
            Err(ErrorKind::Kernel(Errno::ENOENT)) => Err(ErrorKind::NotSupported),
            r => r,
        }
    }

    pub(super) fn request(&mut self, msg: &IpvsMessage, deadline: Deadline) -> Result<Option<IpvsMessage>, ErrorKind> {
        let seq = self.next_seq();
        self.encode(msg, seq, frame::REQUEST_ACK)?;
        // Daemon commands end in kthread_stop(), which can return -EINTR, and netlink sends
        // no acknowledgement at all for -EINTR. A barrier request right behind tells us the
        // command was handled: its answer arriving first means the kernel swallowed -EINTR.
        let barrier = if matches!(msg.cmd, IpvsCmd::NewDaemon | IpvsCmd::DelDaemon) {
            let b = self.next_seq();
            self.encode(&IpvsMessage::get_info(), b, frame::REQUEST_ACK)?;
            Some(b)
        } else {
            None
        };
        self.send_tx()?;
        self.collect_reply(seq, barrier, deadline)
    }

    /// Waits for the answer to request `seq` (and the `barrier` behind it, if any), skipping
    /// whatever else arrives, until `deadline`.
    fn collect_reply(
        &mut self,
        seq: u32,
        barrier: Option<u32>,
        deadline: Deadline,
    ) -> Result<Option<IpvsMessage>, ErrorKind> {
        let mut reply = None;
        loop {
            for f in self.recv(Some(deadline))?.unwrap_or_default() {
                if Some(f.seq) == barrier && matches!(f.payload, Payload::Ack | Payload::Error(_)) {
                    return Err(ErrorKind::Kernel(Errno::EINTR));
                }
                if f.seq != seq {
                    continue;
                }
                match f.payload {
                    Payload::Ipvs(m) => reply = Some(m),
                    Payload::Ack | Payload::Done(0) => return Ok(reply),
                    Payload::Error(e) => return Err(ErrorKind::Kernel(e)),
                    Payload::Done(code) => return Err(ErrorKind::Kernel(Errno(code.saturating_neg()))),
                    Payload::Overrun => return Err(ErrorKind::Io(io::Error::from_raw_os_error(Errno::ENOBUFS.0))),
                    _ => {}
                }
            }
        }
    }

    /// One dump attempt: the messages of each datagram in order, and whether the kernel
    /// flagged the dump interrupted.
    pub(super) fn dump_once(
        &mut self,
        msg: &IpvsMessage,
        deadline: Deadline,
    ) -> Result<(Vec<Vec<IpvsMessage>>, bool), ErrorKind> {
        let seq = self.next_seq();
        self.encode(msg, seq, frame::DUMP)?;
        self.send_tx()?;
        let (mut parts, mut interrupted) = (Vec::new(), false);
        loop {
            let mut part = Vec::new();
            for f in self.recv(Some(deadline))?.unwrap_or_default() {
                if f.seq != seq {
                    continue;
                }
                interrupted |= f.interrupted();
                match f.payload {
                    Payload::Ipvs(m) => part.push(m),
                    Payload::Done(0) | Payload::Ack => {
                        parts.push(part);
                        parts.retain(|p| !p.is_empty());
                        return Ok((parts, interrupted));
                    }
                    Payload::Done(code) => return Err(ErrorKind::Kernel(Errno(code.saturating_neg()))),
                    Payload::Error(e) => return Err(ErrorKind::Kernel(e)),
                    Payload::Overrun => return Err(ErrorKind::Io(io::Error::from_raw_os_error(Errno::ENOBUFS.0))),
                    _ => {}
                }
            }
            parts.push(part);
        }
    }

    /// Records the error reports of a batch whose sequence numbers start at `first`.
    fn note_batch_errors(frames: Vec<Frame>, first: u32, out: &mut [BatchOutcome]) {
        for f in frames {
            if let Payload::Error(e) = f.payload {
                let i = f.seq.wrapping_sub(first) as usize;
                if let Some(slot) = out.get_mut(i) {
                    *slot = Err(e);
                }
            }
        }
    }

    pub(super) fn batch(&mut self, msgs: &[IpvsMessage], deadline: Deadline) -> Result<Vec<BatchOutcome>, ErrorKind> {
        // Every message is encoded before anything is sent: one that cannot be is refused
        // with the batch untouched.
        for m in msgs {
            frame::check_sizes(m).map_err(|e| ErrorKind::Encode(e.to_string()))?;
        }
        let mut out = vec![Ok(()); msgs.len()];
        // Sequence numbers of a batch must be contiguous; restart low if they would wrap.
        let first = self.link.reserve_seqs(u32::try_from(msgs.len()).unwrap_or(u32::MAX));
        for chunk in msgs.chunks(BATCH_CHUNK) {
            for m in chunk {
                let seq = self.next_seq();
                // No per-request ACK: the kernel reports only failures, in order.
                self.encode(m, seq, frame::REQUEST)?;
            }
            self.send_tx()?;
            // The kernel handled the chunk during send: collect its error reports now, so
            // the receive buffer never holds more than one chunk's worth.
            while let Some(frames) = self.recv(None)? {
                Self::note_batch_errors(frames, first, &mut out);
            }
            deadline.remaining()?;
        }
        // A barrier: its acknowledgement comes after every report of the batch.
        let barrier = self.next_seq();
        self.encode(&IpvsMessage::get_info(), barrier, frame::REQUEST_ACK)?;
        self.send_tx()?;
        loop {
            let frames = self.recv(Some(deadline))?.unwrap_or_default();
            let done = frames.iter().any(|f| f.seq == barrier && matches!(f.payload, Payload::Ack | Payload::Error(_)));
            Self::note_batch_errors(frames, first, &mut out);
            if done {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_sys::protocols::NETLINK_GENERIC;
    use nix::sys::socket::MsgFlags;
    use std::time::{Duration, Instant};

    /// A stream of datagrams that are not the answer (here: the kernel's answers to other
    /// requests, as stale replies to timed-out calls are) cannot keep a call waiting past its
    /// deadline; the receive timeout used to apply per datagram.
    #[test]
    fn a_call_ends_at_its_deadline_whatever_arrives_meanwhile() {
        use std::os::fd::AsFd;
        let timeout = Duration::from_millis(300);
        let mut conn = Conn::open(Socket::new(NETLINK_GENERIC).unwrap(), super::super::RX_BUFFER).unwrap();
        // Requests sent through a duplicate of the socket are answered to the socket.
        let fd = nix::unistd::dup(conn.link.socket().as_fd()).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flood = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let until = Instant::now() + Duration::from_secs(10);
                let mut sent = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < until {
                    let mut req = Vec::new();
                    frame::encode_get_family("nlctrl", 1000 + sent, frame::REQUEST_ACK, &mut req).unwrap();
                    if nix::sys::socket::send(std::os::fd::AsRawFd::as_raw_fd(&fd), &req, MsgFlags::empty()).is_ok() {
                        sent += 1;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                sent
            })
        };
        let start = Instant::now();
        let r = conn.collect_reply(777, None, Deadline::after(timeout));
        let waited = start.elapsed();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let sent = flood.join().unwrap();
        assert!(matches!(r, Err(ErrorKind::TimedOut)), "{r:?}");
        assert!(sent > 10, "the flood did not run ({sent} requests)");
        // Bounded by the deadline (plus scheduling slack), not by the flood's 10 s.
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    }
}
