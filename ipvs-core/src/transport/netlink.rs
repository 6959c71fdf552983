//! The kernel transport: a generic netlink socket speaking the IPVS family.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use netlink_packet_generic::ctrl::{nlas::GenlCtrlAttrs, GenlCtrl, GenlCtrlCmd};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::{TimeVal, TimeValLike};

use super::{BatchOutcome, Transport};
use crate::error::{Errno, ErrorKind};
use crate::wire::frame::{self, Frame, Payload};
use crate::wire::{IpvsCmd, IpvsMessage, FAMILY_NAME};

/// Receive buffer for one datagram: kernel dump parts are at most 32 KiB.
const RX_BUFFER: usize = 256 * 1024;
/// Requests per sendmsg in a batch: small enough that the error reports of a chunk in which
/// every request fails fit the socket's receive buffer.
const BATCH_CHUNK: usize = 128;
/// The receive buffer the transport asks for (best effort; forcing it needs CAP_NET_ADMIN).
const SOCKET_RCVBUF: usize = 4 * 1024 * 1024;

/// Options for opening a [`NetlinkTransport`].
///
/// ```no_run
/// use std::time::Duration;
/// use ipvs::transport::NetlinkTransport;
/// let t = NetlinkTransport::builder()
///     .timeout(Duration::from_secs(5))
///     .dump_retries(3)
///     .namespace("/run/netns/lb1")
///     .open()?;
/// # Ok::<(), ipvs::ErrorKind>(())
/// ```
#[derive(Debug, Clone)]
pub struct NetlinkTransportBuilder {
    timeout: Duration,
    dump_retries: u32,
    namespace: Option<PathBuf>,
}

impl Default for NetlinkTransportBuilder {
    fn default() -> Self {
        NetlinkTransportBuilder { timeout: Duration::from_secs(30), dump_retries: 12, namespace: None }
    }
}

impl NetlinkTransportBuilder {
    /// How long any single receive may wait before the call fails with `TimedOut` (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a multi-datagram dump whose consistency could not be proven is retried
    /// before `DumpInterrupted` (default 12; the waits between attempts grow by 0.5 ms each).
    pub fn dump_retries(mut self, retries: u32) -> Self {
        self.dump_retries = retries;
        self
    }

    /// Opens the socket inside the network namespace at `path` (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`). Only a short-lived helper thread enters the namespace; the
    /// caller's threads stay where they are.
    pub fn namespace(mut self, path: impl AsRef<Path>) -> Self {
        self.namespace = Some(path.as_ref().to_path_buf());
        self
    }

    /// Opens the socket and resolves the IPVS family (which also loads the `ip_vs` module).
    pub fn open(self) -> Result<NetlinkTransport, ErrorKind> {
        // The main socket and two witnesses for dumps (see `dump`), all made now and in one
        // place so that they share a network namespace.
        let mut sockets = match &self.namespace {
            None => new_sockets(3)?,
            Some(path) => sockets_in_namespace(path, 3)?,
        };
        let mut conn = Conn::open(sockets.remove(0), self.timeout, RX_BUFFER)?;
        conn.family = conn.resolve_family()?;
        let witnesses = sockets
            .into_iter()
            .zip(WITNESS_RX_LENGTHS)
            .map(|(socket, rx_len)| {
                let mut w = Conn::open(socket, self.timeout, rx_len)?;
                w.family = conn.family;
                Ok(w)
            })
            .collect::<Result<Vec<_>, ErrorKind>>()?;
        Ok(NetlinkTransport {
            conn: Mutex::new(conn),
            witnesses: Mutex::new(witnesses),
            dump_retries: self.dump_retries,
        })
    }
}

fn new_sockets(n: usize) -> Result<Vec<Socket>, ErrorKind> {
    (0..n).map(|_| Socket::new(NETLINK_GENERIC).map_err(ErrorKind::from)).collect()
}

fn sockets_in_namespace(path: &Path, n: usize) -> Result<Vec<Socket>, ErrorKind> {
    let ns = File::open(path)?;
    std::thread::scope(|s| {
        s.spawn(|| -> Result<Vec<Socket>, ErrorKind> {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            new_sockets(n)
        })
        .join()
        .unwrap_or_else(|_| Err(ErrorKind::Io(io::Error::other("namespace helper thread failed"))))
    })
}

/// A generic netlink socket bound to the IPVS family.
///
/// One socket, one family resolution; requests carry checked sequence numbers; replies that
/// belong to earlier (timed-out) requests are skipped. `Send + Sync`: calls are serialised.
///
/// ```no_run
/// use ipvs::transport::NetlinkTransport;
/// use ipvs::Client;
/// let client = Client::with_transport(NetlinkTransport::open()?);
/// println!("{}", client.info()?.version);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct NetlinkTransport {
    conn: Mutex<Conn>,
    /// Sockets whose dumps come in differently sized datagrams, to prove dumps consistent.
    witnesses: Mutex<Vec<Conn>>,
    dump_retries: u32,
}

#[derive(Debug)]
struct Conn {
    socket: Socket,
    port: u32,
    family: u16,
    seq: u32,
    rx: Vec<u8>,
    /// The length every receive asks for. The kernel sizes the datagrams of later dump parts
    /// by the largest length a socket has asked for (at most 32 KiB).
    rx_len: usize,
    tx: Vec<u8>,
}

impl NetlinkTransport {
    /// Opens a transport in the caller's network namespace with default options.
    pub fn open() -> Result<Self, ErrorKind> {
        Self::builder().open()
    }

    /// Options: timeout, dump retries, network namespace.
    pub fn builder() -> NetlinkTransportBuilder {
        NetlinkTransportBuilder::default()
    }

    /// The IPVS family id resolved for this socket.
    pub fn family_id(&self) -> u16 {
        self.lock().family
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Conn {
    /// A bound, connected socket with its options set; the family is still unresolved.
    fn open(mut socket: Socket, timeout: Duration, rx_len: usize) -> Result<Conn, ErrorKind> {
        let local = socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Acknowledgements carry only the failed request's header, not the whole request.
        let _ = socket.set_cap_ack(true);
        if setsockopt(&socket, sockopt::RcvBufForce, &SOCKET_RCVBUF).is_err() {
            let _ = setsockopt(&socket, sockopt::RcvBuf, &SOCKET_RCVBUF);
        }
        let ms = i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX).max(1);
        setsockopt(&socket, sockopt::ReceiveTimeout, &TimeVal::milliseconds(ms)).map_err(io::Error::from)?;
        Ok(Conn {
            socket,
            port: local.port_number(),
            family: 0,
            seq: std::process::id().wrapping_mul(7919),
            rx: Vec::with_capacity(rx_len),
            rx_len,
            tx: Vec::new(),
        })
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.seq = 1;
        }
        self.seq
    }

    fn send_tx(&mut self) -> Result<(), ErrorKind> {
        let mut sent = 0;
        while sent < self.tx.len() {
            match self.socket.send(&self.tx[sent..], 0) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e.into()),
            }
        }
        self.tx.clear();
        Ok(())
    }

    /// Receives one datagram and decodes it. `None` when `nonblocking` and nothing is queued.
    fn recv(&mut self, nonblocking: bool) -> Result<Option<Vec<Frame>>, ErrorKind> {
        let flags = libc_flags(nonblocking);
        loop {
            self.rx.clear();
            self.rx.reserve_exact(self.rx_len);
            match self.socket.recv(&mut self.rx, flags) {
                Ok(n) if n > self.rx.len() => {
                    return Err(ErrorKind::Decode(format!("datagram of {n} bytes truncated to {}", self.rx.len())))
                }
                Ok(_) => {
                    let frames = frame::decode_all(&self.rx)?;
                    return Ok(Some(frames.into_iter().filter(|f| f.port == self.port || f.port == 0).collect()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return if nonblocking { Ok(None) } else { Err(ErrorKind::TimedOut) };
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn resolve_family(&mut self) -> Result<u16, ErrorKind> {
        let seq = self.next_seq();
        let msg = GenlCtrl { cmd: GenlCtrlCmd::GetFamily, nlas: vec![GenlCtrlAttrs::FamilyName(FAMILY_NAME.into())] };
        frame::encode_ctrl(msg, seq, frame::REQUEST_ACK, &mut self.tx);
        self.send_tx()?;
        let mut family = None;
        loop {
            for f in self.recv(false)?.unwrap_or_default() {
                if f.seq != seq {
                    continue;
                }
                match f.payload {
                    Payload::Ctrl(ctrl) => {
                        family = ctrl.nlas.iter().find_map(|a| match a {
                            GenlCtrlAttrs::FamilyId(id) => Some(*id),
                            _ => None,
                        })
                    }
                    Payload::Ack | Payload::Done(_) => {
                        return family.ok_or_else(|| ErrorKind::UnexpectedReply("no family id".into()))
                    }
                    Payload::Error(Errno::ENOENT) => return Err(ErrorKind::NotSupported),
                    Payload::Error(e) => return Err(ErrorKind::Kernel(e)),
                    _ => {}
                }
            }
        }
    }

    fn request(&mut self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        let seq = self.next_seq();
        frame::encode(msg, self.family, seq, frame::REQUEST_ACK, &mut self.tx);
        // Daemon commands end in kthread_stop(), which can return -EINTR, and netlink sends
        // no acknowledgement at all for -EINTR. A barrier request right behind tells us the
        // command was handled: its answer arriving first means the kernel swallowed -EINTR.
        let barrier = matches!(msg.cmd, IpvsCmd::NewDaemon | IpvsCmd::DelDaemon).then(|| {
            let b = self.next_seq();
            frame::encode(&IpvsMessage::get_info(), self.family, b, frame::REQUEST_ACK, &mut self.tx);
            b
        });
        self.send_tx()?;
        let mut reply = None;
        loop {
            for f in self.recv(false)?.unwrap_or_default() {
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
                    Payload::Ctrl(_) | Payload::Noop => {}
                }
            }
        }
    }

    /// One dump attempt: the messages of each datagram in order, and whether the kernel
    /// flagged the dump interrupted.
    fn dump_once(&mut self, msg: &IpvsMessage) -> Result<(Vec<Vec<IpvsMessage>>, bool), ErrorKind> {
        let seq = self.next_seq();
        frame::encode(msg, self.family, seq, frame::DUMP, &mut self.tx);
        self.send_tx()?;
        let (mut parts, mut interrupted) = (Vec::new(), false);
        loop {
            let mut part = Vec::new();
            for f in self.recv(false)?.unwrap_or_default() {
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
                    Payload::Ctrl(_) | Payload::Noop => {}
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

    fn batch(&mut self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        let mut out = vec![Ok(()); msgs.len()];
        // Sequence numbers of a batch must be contiguous; restart low if they would wrap.
        if self.seq.checked_add(msgs.len() as u32 + 2).is_none() {
            self.seq = 0;
        }
        let first = self.seq.wrapping_add(1);
        for chunk in msgs.chunks(BATCH_CHUNK) {
            for m in chunk {
                let seq = self.next_seq();
                // No per-request ACK: the kernel reports only failures, in order.
                frame::encode(m, self.family, seq, frame::REQUEST, &mut self.tx);
            }
            self.send_tx()?;
            // The kernel handled the chunk during send: collect its error reports now, so
            // the receive buffer never holds more than one chunk's worth.
            while let Some(frames) = self.recv(true)? {
                Self::note_batch_errors(frames, first, &mut out);
            }
        }
        // A barrier: its acknowledgement comes after every report of the batch.
        let barrier = self.next_seq();
        frame::encode(&IpvsMessage::get_info(), self.family, barrier, frame::REQUEST_ACK, &mut self.tx);
        self.send_tx()?;
        loop {
            let frames = self.recv(false)?.unwrap_or_default();
            let done = frames.iter().any(|f| f.seq == barrier && matches!(f.payload, Payload::Ack | Payload::Error(_)));
            Self::note_batch_errors(frames, first, &mut out);
            if done {
                return Ok(out);
            }
        }
    }
}

/// Receive lengths of the witness sockets: the kernel sizes dump datagrams by them, and they
/// share no small common multiple with each other or with the main socket's 32 KiB.
const WITNESS_RX_LENGTHS: [usize; 2] = [9 * 1024 + 100, 13 * 1024 + 300];

/// One witness dump, indexed: where each entry sits (datagram, position), every occurrence
/// (a witness can repeat entries at its own boundaries).
struct Witness {
    parts: Vec<Vec<IpvsMessage>>,
    at: HashMap<Vec<u8>, Vec<(usize, usize)>>,
}

impl Witness {
    fn new(parts: Vec<Vec<IpvsMessage>>) -> Witness {
        let mut at: HashMap<Vec<u8>, Vec<(usize, usize)>> = HashMap::new();
        for (i, part) in parts.iter().enumerate() {
            for (j, m) in part.iter().enumerate() {
                at.entry(identity_key(m)).or_default().push((i, j));
            }
        }
        Witness { parts, at }
    }

    /// Bridges the boundary between two consecutive datagrams of a dump: an entry of
    /// `before` and a later one of `after` that this witness lists within one datagram.
    /// Returns the witness entries between them (a skipped entry would be among them).
    fn bridge(&self, before: &[(Vec<u8>, &IpvsMessage)], after: &[(Vec<u8>, &IpvsMessage)]) -> Option<&[IpvsMessage]> {
        let no_places = Vec::new();
        let places = |k: &Vec<u8>| self.at.get(k).unwrap_or(&no_places).iter().copied();
        for (k, _) in after {
            for (part, to) in places(k) {
                let from = before.iter().rev().find_map(|(b, _)| places(b).find(|&(p, j)| p == part && j < to));
                if let Some((_, from)) = from {
                    return self.parts[part].get(from + 1..to);
                }
            }
        }
        None
    }
}

/// The entries of a multi-datagram dump without repeats, if a witness bridges every boundary;
/// entries a witness saw inside a bridge that the dump lacks are added (they may have been
/// skipped, and they existed during the call).
fn proven_listing(parts: &[Vec<IpvsMessage>], witnesses: &[Witness]) -> Option<Vec<IpvsMessage>> {
    let mut seen = HashSet::new();
    let keyed: Vec<Vec<(Vec<u8>, &IpvsMessage)>> = parts
        .iter()
        .map(|part| part.iter().map(|m| (identity_key(m), m)).filter(|(k, _)| seen.insert(k.clone())).collect())
        .filter(|part: &Vec<_>| !part.is_empty())
        .collect();
    let mut out: Vec<IpvsMessage> = Vec::with_capacity(seen.len());
    for (i, part) in keyed.iter().enumerate() {
        if i > 0 {
            let between = witnesses.iter().find_map(|w| w.bridge(&keyed[i - 1], part))?;
            out.extend(between.iter().filter(|m| seen.insert(identity_key(m))).cloned());
        }
        out.extend(part.iter().map(|(_, m)| (*m).clone()));
    }
    // The kernel can also skip entries at the very end (its last, empty datagram starts past
    // them), where no boundary shows it: add what any witness lists after the dump's last entry.
    if let Some((last, _)) = keyed.last().and_then(|p| p.last()) {
        for w in witnesses {
            if let Some(&(part, at)) = w.at.get(last).and_then(|p| p.last()) {
                let tail = w.parts[part][at + 1..].iter().chain(w.parts[part + 1..].iter().flatten());
                out.extend(tail.filter(|m| seen.insert(identity_key(m))).cloned());
            }
        }
    }
    Some(out)
}

/// The bytes of the identifying attributes of a dumped service, destination or daemon.
fn identity_key(msg: &IpvsMessage) -> Vec<u8> {
    use crate::wire::{DaemonAttr, DestAttr, ServiceAttr};
    use netlink_packet_core::Emitable;
    let mut key = Vec::new();
    let mut put = |a: &dyn Fn(&mut [u8]), len: usize| {
        let at = key.len();
        key.resize(at + len, 0);
        a(&mut key[at..]);
    };
    if let Some(attrs) = msg.service() {
        for a in attrs.iter().filter(|a| {
            matches!(
                a,
                ServiceAttr::Af(_)
                    | ServiceAttr::Protocol(_)
                    | ServiceAttr::Addr(_)
                    | ServiceAttr::Port(_)
                    | ServiceAttr::Fwmark(_)
            )
        }) {
            put(&|b| a.emit(b), a.buffer_len());
        }
    } else if let Some(attrs) = msg.dest() {
        for a in attrs.iter().filter(|a| matches!(a, DestAttr::Addr(_) | DestAttr::Port(_) | DestAttr::AddrFamily(_))) {
            put(&|b| a.emit(b), a.buffer_len());
        }
    } else if let Some(attrs) = msg.daemon() {
        for a in attrs.iter().filter(|a| matches!(a, DaemonAttr::State(_))) {
            put(&|b| a.emit(b), a.buffer_len());
        }
    }
    key
}

fn libc_flags(nonblocking: bool) -> i32 {
    if nonblocking {
        nix::sys::socket::MsgFlags::MSG_DONTWAIT.bits()
    } else {
        0
    }
}

impl Transport for NetlinkTransport {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        self.lock().request(msg)
    }

    /// IPVS dumps resume by an index counted over every network namespace's entries and
    /// never set NLM_F_DUMP_INTR, so a dump of several datagrams repeats or skips entries at
    /// the datagram boundaries when any table changes meanwhile. A one-datagram dump is
    /// atomic. A longer one is checked against witness dumps taken on sockets whose datagrams
    /// are sized differently: each boundary of the first dump must be bridged by one (atomic)
    /// witness datagram that holds an entry from each side, and any entry the witness lists
    /// between those two is added. Repeated entries are dropped. So the result holds every
    /// entry that existed throughout the call exactly once; entries created or deleted during
    /// the call may or may not appear. No bridge within the retries: `DumpInterrupted`.
    ///
    /// Limits: the proof relies on entries keeping their order, which holds for every change
    /// but one: an entry deleted and created again under the same identity while the call
    /// runs moves, and if it bridges a boundary, an entry skipped there can go unnoticed. And
    /// entries skipped at the very end of a dump (the kernel's last, empty datagram starting
    /// past them) show at no boundary: they are recovered from the witness's own tail, which
    /// makes losing them need the same skip in both dumps, but is not a proof.
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        let mut conn = self.lock();
        let attempts = self.dump_retries.saturating_add(1);
        for attempt in 0..attempts {
            if attempt > 0 {
                std::thread::sleep(Duration::from_micros(500 * u64::from(attempt.min(20))));
            }
            let (parts, interrupted) = conn.dump_once(msg)?;
            if interrupted {
                continue;
            }
            if parts.len() <= 1 {
                return Ok(parts.into_iter().flatten().collect());
            }
            let mut witnesses = self.witnesses.lock().unwrap_or_else(|p| p.into_inner());
            let mut seen = Vec::with_capacity(witnesses.len());
            for witness in witnesses.iter_mut() {
                seen.push(Witness::new(witness.dump_once(msg)?.0));
                if let Some(list) = proven_listing(&parts, &seen) {
                    return Ok(list);
                }
            }
        }
        Err(ErrorKind::DumpInterrupted { attempts })
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        self.lock().batch(msgs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ServiceAttr;
    use crate::{Scheduler, Service, ServiceId};

    fn svc(n: u16) -> IpvsMessage {
        IpvsMessage::new_service(&Service::new(ServiceId::tcp([192, 0, 2, 1].into(), n), Scheduler::Rr))
    }
    fn dump(parts: &[&[u16]]) -> Vec<Vec<IpvsMessage>> {
        parts.iter().map(|p| p.iter().map(|&n| svc(n)).collect()).collect()
    }
    fn ports(list: &[IpvsMessage]) -> Vec<u16> {
        list.iter()
            .map(|m| {
                m.service()
                    .and_then(|a| a.iter().find_map(|a| if let ServiceAttr::Port(p) = a { Some(*p) } else { None }))
                    .unwrap()
            })
            .collect()
    }
    #[test]
    fn a_bridged_boundary_proves_the_dump() {
        let w = [Witness::new(dump(&[&[1, 2, 3], &[4, 5, 6]]))];
        let got = proven_listing(&dump(&[&[1, 2], &[3, 4, 5, 6]]), &w).unwrap();
        assert_eq!(ports(&got), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn a_skipped_entry_is_found_between_the_bridge_ends() {
        // 3 was skipped at the boundary; the witness lists it between 2 and 4.
        let w = [Witness::new(dump(&[&[1, 2, 3, 4], &[5, 6]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[4, 5, 6]]), &w).unwrap()), [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn repeats_are_dropped_and_bridges_skip_them() {
        let w = [Witness::new(dump(&[&[1, 2, 3, 4, 5]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2, 3], &[3, 4], &[4, 5]]), &w).unwrap()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn entries_skipped_at_the_end_are_taken_from_the_witness_tail() {
        let w = [Witness::new(dump(&[&[1, 2, 3], &[4, 5]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[3]]), &w).unwrap()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_boundary_the_witness_shares_is_not_proof() {
        let w = [Witness::new(dump(&[&[1, 2], &[4, 5]]))];
        assert!(proven_listing(&dump(&[&[1, 2], &[4, 5]]), &w).is_none());
        // A second witness with other boundaries bridges it.
        let w2 = [Witness::new(dump(&[&[1, 2], &[4, 5]])), Witness::new(dump(&[&[1], &[2, 3, 4, 5]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[4, 5]]), &w2).unwrap()), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn boundary_entries_gone_from_the_witness_fall_back_to_their_neighbours() {
        // 2 and 4 were deleted before the witness ran; 1 and 5 bridge instead.
        let w = [Witness::new(dump(&[&[1, 3, 5, 6]]))];
        assert_eq!(ports(&proven_listing(&dump(&[&[1, 2], &[4, 5, 6]]), &w).unwrap()), [1, 2, 3, 4, 5, 6]);
        // Nothing of one side in the witness: no proof.
        let w = [Witness::new(dump(&[&[5, 6]]))];
        assert!(proven_listing(&dump(&[&[1, 2], &[4, 5, 6]]), &w).is_none());
    }
}
