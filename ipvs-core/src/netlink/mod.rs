//! One netlink socket loop for every protocol: the building block under the IPVS transport,
//! and under rtnetlink (`NETLINK_ROUTE`) and other generic netlink families.
//!
//! A [`Connection`] is a bound, connected netlink socket of any protocol with what every
//! exchange needs: sequence numbers, sending, receiving within a [`Deadline`] (the socket is
//! never left blocking past it), multipart (dump) replies, acknowledgements and the kernel's
//! errno. Messages are apart from the connection: any type netlink-packet-core can frame
//! (`NetlinkSerializable + NetlinkDeserializable`, e.g. netlink-packet-route's
//! `RouteNetlinkMessage`), or a [`GenericMessage`] for a generic netlink family whose id
//! [`Connection::resolve_family`] looks up with the controller.
//!
//! ```no_run
//! use std::time::Duration;
//! use ipvs::netlink::{Connection, Deadline, GenericMessage, NETLINK_GENERIC};
//! let mut conn = Connection::open(NETLINK_GENERIC)?;
//! let deadline = Deadline::after(Duration::from_secs(5));
//! let fou = conn.resolve_family("fou", deadline)?;
//! // FOU_CMD_GET, version 1, as a dump: one message per receive port.
//! let ports: Vec<GenericMessage> = conn.dump(GenericMessage::new(fou, 3, 1), deadline)?;
//! println!("{} fou ports", ports.len());
//! # Ok::<(), ipvs::ErrorKind>(())
//! ```

mod generic;

use std::io;
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

use netlink_packet_core::{
    NetlinkBuffer, NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
    NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_sys::{Socket, SocketAddr};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{setsockopt, sockopt, MsgFlags};

use crate::error::{Errno, ErrorKind};
use crate::wire::frame::{self, Payload};

pub use generic::GenericMessage;
pub use netlink_sys::protocols::{NETLINK_GENERIC, NETLINK_ROUTE};

/// The length every receive asks for unless told otherwise: kernel dump parts are at most
/// 32 KiB, single messages rarely more.
pub const RX_BUFFER: usize = 256 * 1024;
/// The receive buffer a connection asks for (best effort; forcing it needs CAP_NET_ADMIN).
const SOCKET_RCVBUF: usize = 4 * 1024 * 1024;
/// The longest wait a deadline stands for: later ones are cut to it.
const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);

/// When a call must be over.
///
/// ```
/// use std::time::Duration;
/// let d = ipvs::netlink::Deadline::after(Duration::from_secs(1));
/// assert!(d.remaining().is_ok());
/// assert!(ipvs::netlink::Deadline::after(Duration::ZERO).remaining().is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Deadline(Instant);

impl Deadline {
    /// `timeout` from now (at most a day).
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(Instant::now() + timeout.min(LONGEST_WAIT))
    }

    /// What is left of it, or `TimedOut` when it has passed.
    pub fn remaining(self) -> Result<Duration, ErrorKind> {
        self.0.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or(ErrorKind::TimedOut)
    }
}

/// One netlink socket of any protocol, bound and connected to the kernel.
///
/// Replies are matched to requests by sequence number; what belongs to earlier (timed-out)
/// requests, or to other sockets, is skipped. Acknowledgements carry only the failed
/// request's header (`NETLINK_CAP_ACK`).
#[derive(Debug)]
pub struct Connection {
    socket: Socket,
    port: u32,
    seq: u32,
    rx: Vec<u8>,
    /// The length every receive asks for. The kernel sizes the datagrams of later dump parts
    /// by the largest length a socket has asked for (at most 32 KiB).
    rx_len: usize,
    tx: Vec<u8>,
}

impl Connection {
    /// A socket of `protocol` ([`NETLINK_ROUTE`], [`NETLINK_GENERIC`], ...) in the calling
    /// thread's network namespace, whose receives ask for [`RX_BUFFER`] bytes.
    pub fn open(protocol: isize) -> Result<Connection, ErrorKind> {
        Connection::with_socket(Socket::new(protocol)?, RX_BUFFER)
    }

    /// Binds and connects `socket` (made elsewhere, e.g. in another namespace) and sets its
    /// options; its receives ask for `rx_len` bytes.
    pub fn with_socket(mut socket: Socket, rx_len: usize) -> Result<Connection, ErrorKind> {
        let local = socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Acknowledgements carry only the failed request's header, not the whole request.
        let _ = socket.set_cap_ack(true);
        if setsockopt(&socket, sockopt::RcvBufForce, &SOCKET_RCVBUF).is_err() {
            let _ = setsockopt(&socket, sockopt::RcvBuf, &SOCKET_RCVBUF);
        }
        Ok(Connection {
            socket,
            port: local.port_number(),
            seq: std::process::id().wrapping_mul(7919),
            rx: Vec::with_capacity(rx_len),
            rx_len,
            tx: Vec::new(),
        })
    }

    /// The socket's port id (frames addressed elsewhere are not its).
    pub fn port(&self) -> u32 {
        self.port
    }

    /// The socket.
    pub fn socket(&self) -> &Socket {
        &self.socket
    }

    /// The next sequence number (never 0).
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.seq = 1;
        }
        self.seq
    }

    /// The first of `count` contiguous sequence numbers that the next `count` calls of
    /// [`next_seq`](Self::next_seq) will return (restarting low if they would wrap).
    pub(crate) fn reserve_seqs(&mut self, count: u32) -> u32 {
        if self.seq.checked_add(count.saturating_add(2)).is_none() {
            self.seq = 0;
        }
        self.seq.wrapping_add(1)
    }

    /// The send buffer: requests are appended to it, then [`flush`](Self::flush)ed together.
    pub(crate) fn tx_mut(&mut self) -> &mut Vec<u8> {
        &mut self.tx
    }

    /// Sends what the send buffer holds (in one `sendmsg` when it fits) and empties it.
    pub(crate) fn flush(&mut self) -> Result<(), ErrorKind> {
        let mut sent = 0;
        while sent < self.tx.len() {
            match self.socket.send(&self.tx[sent..], 0) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.tx.clear();
                    return Err(e.into());
                }
            }
        }
        self.tx.clear();
        Ok(())
    }

    /// Receives one datagram. `None` when `deadline` is None (non-blocking) and nothing is
    /// queued. A datagram longer than the buffer is an error (MSG_TRUNC tells its real
    /// length).
    ///
    /// The kernel answers most requests while it handles the send, so the answer is almost
    /// always queued already: one non-blocking receive takes it, and only an empty queue
    /// costs a wait (`poll` for what is left of the deadline). No socket timeout is set, so
    /// none needs resetting.
    pub fn recv_datagram(&mut self, deadline: Option<Deadline>) -> Result<Option<&[u8]>, ErrorKind> {
        let flags = (MsgFlags::MSG_TRUNC | MsgFlags::MSG_DONTWAIT).bits();
        loop {
            self.rx.clear();
            self.rx.reserve_exact(self.rx_len);
            match self.socket.recv(&mut self.rx, flags) {
                Ok(n) if n > self.rx.len() => {
                    return Err(ErrorKind::Decode(format!("datagram of {n} bytes truncated to {}", self.rx.len())))
                }
                Ok(_) => return Ok(Some(&self.rx)),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let Some(d) = deadline else { return Ok(None) };
                    self.wait_readable(d)?;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Waits until the socket has something to read, at most until `deadline`.
    fn wait_readable(&self, deadline: Deadline) -> Result<(), ErrorKind> {
        loop {
            let left = deadline.remaining()?;
            // poll takes milliseconds: round up, so a wait never ends early and spins.
            let ms = u16::try_from(left.as_millis().saturating_add(1)).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(self.socket.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(0) => continue, // the deadline check above ends it
                Ok(_) => return Ok(()),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(io::Error::from(e).into()),
            }
        }
    }

    /// Sends `msg` with `flags` (`NLM_F_REQUEST` is added) and returns its sequence number.
    pub fn send<M: NetlinkSerializable>(&mut self, msg: M, flags: u16) -> Result<u32, ErrorKind> {
        let seq = self.next_seq();
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags;
        header.sequence_number = seq;
        let mut packet = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        packet.finalize();
        let start = self.tx.len();
        self.tx.resize(start + packet.buffer_len(), 0);
        packet.serialize(&mut self.tx[start..]);
        self.flush()?;
        Ok(seq)
    }

    /// The messages answering request `seq`, until its acknowledgement, its error or the
    /// end of its dump, at most until `deadline`.
    pub fn receive<M: NetlinkDeserializable>(&mut self, seq: u32, deadline: Deadline) -> Result<Vec<M>, ErrorKind> {
        let mut out = Vec::new();
        loop {
            let port = self.port;
            let data = self.recv_datagram(Some(deadline))?.unwrap_or_default();
            let mut rest = data;
            while !rest.is_empty() {
                let len = NetlinkBuffer::new_checked(rest)?.length() as usize;
                let msg = NetlinkMessage::<M>::deserialize(&rest[..len])?;
                rest = &rest[((len + 3) & !3).min(rest.len())..];
                if msg.header.sequence_number != seq || (msg.header.port_number != port && msg.header.port_number != 0)
                {
                    continue;
                }
                match msg.payload {
                    NetlinkPayload::InnerMessage(m) => out.push(m),
                    NetlinkPayload::Error(e) => match e.code {
                        None => return Ok(out),
                        Some(code) => return Err(ErrorKind::Kernel(Errno(code.get().saturating_abs()))),
                    },
                    NetlinkPayload::Done(d) if d.code == 0 => return Ok(out),
                    NetlinkPayload::Done(d) => return Err(ErrorKind::Kernel(Errno(d.code.saturating_abs()))),
                    NetlinkPayload::Overrun(_) => {
                        return Err(ErrorKind::Io(io::Error::from_raw_os_error(Errno::ENOBUFS.0)))
                    }
                    _ => {}
                }
            }
        }
    }

    /// A request that wants an acknowledgement (`flags` such as `NLM_F_CREATE` are added):
    /// the messages it answered with, or the kernel's errno.
    pub fn request<M>(&mut self, msg: M, flags: u16, deadline: Deadline) -> Result<Vec<M>, ErrorKind>
    where
        M: NetlinkSerializable + NetlinkDeserializable,
    {
        let seq = self.send(msg, NLM_F_ACK | flags)?;
        self.receive(seq, deadline)
    }

    /// A dump: every message of every part, in order.
    pub fn dump<M>(&mut self, msg: M, deadline: Deadline) -> Result<Vec<M>, ErrorKind>
    where
        M: NetlinkSerializable + NetlinkDeserializable,
    {
        let seq = self.send(msg, NLM_F_DUMP)?;
        self.receive(seq, deadline)
    }

    /// The id of the generic netlink family `name`, asked of the controller (which loads the
    /// family's module if it can). A family the kernel does not have: `Kernel(ENOENT)`.
    pub fn resolve_family(&mut self, name: &str, deadline: Deadline) -> Result<u16, ErrorKind> {
        let seq = self.next_seq();
        frame::encode_get_family(name, seq, frame::REQUEST_ACK, &mut self.tx).map_err(|e| {
            self.tx.clear();
            ErrorKind::Encode(e.to_string())
        })?;
        self.flush()?;
        let mut family = None;
        loop {
            let port = self.port;
            let frames = frame::decode_all(self.recv_datagram(Some(deadline))?.unwrap_or_default())?;
            for f in frames {
                if f.seq != seq || (f.port != port && f.port != 0) {
                    continue;
                }
                match f.payload {
                    Payload::Ctrl(ctrl) => family = ctrl.family_id.or(family),
                    Payload::Ack | Payload::Done(_) => {
                        return family.ok_or_else(|| ErrorKind::UnexpectedReply("no family id".into()))
                    }
                    Payload::Error(e) => return Err(ErrorKind::Kernel(e)),
                    _ => {}
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A datagram longer than the receive buffer is an error that says so (the kernel tells
    /// its real length with MSG_TRUNC), not a silently cut reply.
    #[test]
    fn a_datagram_longer_than_the_buffer_is_reported() {
        let mut conn = Connection::with_socket(Socket::new(NETLINK_GENERIC).unwrap(), 64).unwrap();
        // The controller's description of itself is a few hundred bytes.
        frame::encode_get_family("nlctrl", 1, frame::REQUEST_ACK, conn.tx_mut()).unwrap();
        conn.flush().unwrap();
        let r = conn.recv_datagram(Some(Deadline::after(Duration::from_secs(5)))).map(|d| d.map(<[u8]>::len));
        match r {
            Err(ErrorKind::Decode(m)) => assert!(m.contains("truncated to 64"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    /// The controller resolves itself, and a family that does not exist is ENOENT.
    #[test]
    fn families_are_resolved_by_the_controller() {
        let mut conn = Connection::open(NETLINK_GENERIC).unwrap();
        let deadline = Deadline::after(Duration::from_secs(5));
        assert_eq!(conn.resolve_family("nlctrl", deadline).unwrap(), frame::GENL_ID_CTRL);
        let e = conn.resolve_family("no-such-family", deadline).unwrap_err();
        assert!(matches!(e, ErrorKind::Kernel(Errno::ENOENT)), "{e:?}");
    }

    /// A dump of generic messages through the controller: every family, nlctrl among them.
    #[test]
    fn a_generic_dump_collects_every_part() {
        let mut conn = Connection::open(NETLINK_GENERIC).unwrap();
        let deadline = Deadline::after(Duration::from_secs(5));
        // CTRL_CMD_GETFAMILY, version 2, dumped.
        let all: Vec<GenericMessage> = conn.dump(GenericMessage::new(frame::GENL_ID_CTRL, 3, 2), deadline).unwrap();
        // CTRL_ATTR_FAMILY_NAME is attribute 2.
        assert!(all.iter().any(|m| m.attr(2) == Some(&b"nlctrl\0"[..])), "{all:?}");
    }
}
