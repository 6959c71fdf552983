//! The kernel transport: a generic netlink socket speaking the IPVS family.

mod proof;

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};
use nix::sys::socket::{setsockopt, sockopt, MsgFlags};
use nix::sys::time::{TimeVal, TimeValLike};

use super::{BatchOutcome, Transport};
use crate::error::{Errno, ErrorKind, InvalidInput};
use crate::wire::frame::{self, Frame, Payload};
use crate::wire::{IpvsCmd, IpvsMessage, FAMILY_NAME};
use proof::{proven_listing, Witness, WITNESS_RX_LENGTHS};

/// Receive buffer for one datagram: kernel dump parts are at most 32 KiB.
const RX_BUFFER: usize = 256 * 1024;
/// Requests per sendmsg in a batch: small enough that the error reports of a chunk in which
/// every request fails fit the socket's receive buffer.
const BATCH_CHUNK: usize = 128;
/// The receive buffer the transport asks for (best effort; forcing it needs CAP_NET_ADMIN).
const SOCKET_RCVBUF: usize = 4 * 1024 * 1024;
/// The longest timeout a transport takes.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The most dump retries a transport takes.
pub const MAX_DUMP_RETRIES: u32 = 1000;
/// `statfs` magic of the namespace filesystem (`NSFS_MAGIC`).
const NSFS_MAGIC: i64 = 0x6e73_6673;

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
    /// How long one call (a request, a dump with its proof, a batch) may take before it fails
    /// with `TimedOut` (default 30 s; 1 ms ..= [`MAX_TIMEOUT`], else `open` refuses it).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times a multi-datagram dump whose consistency could not be proven is retried
    /// before `DumpInterrupted` (default 12, at most [`MAX_DUMP_RETRIES`]; the waits between
    /// attempts grow by 0.5 ms each, up to 10 ms). The call's timeout bounds them too.
    pub fn dump_retries(mut self, retries: u32) -> Self {
        self.dump_retries = retries;
        self
    }

    /// Opens the socket inside the network namespace at `path` (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`). Only a short-lived helper thread enters the namespace; the
    /// caller's threads stay where they are. The file is opened without blocking (a FIFO
    /// cannot hang the call) and must be a network namespace.
    pub fn namespace(mut self, path: impl AsRef<Path>) -> Self {
        self.namespace = Some(path.as_ref().to_path_buf());
        self
    }

    fn check(&self) -> Result<(), InvalidInput> {
        if self.timeout < Duration::from_millis(1) || self.timeout > MAX_TIMEOUT {
            return Err(InvalidInput::new(
                "timeout",
                format!("{:?}", self.timeout),
                format!("must be between 1 ms and {} s", MAX_TIMEOUT.as_secs()),
            ));
        }
        if self.dump_retries > MAX_DUMP_RETRIES {
            return Err(InvalidInput::new(
                "dump_retries",
                self.dump_retries,
                format!("must be at most {MAX_DUMP_RETRIES}"),
            ));
        }
        Ok(())
    }

    /// Opens the socket and resolves the IPVS family (which also loads the `ip_vs` module).
    pub fn open(self) -> Result<NetlinkTransport, ErrorKind> {
        self.check()?;
        let deadline = Deadline::after(self.timeout);
        // The main socket and two witnesses for dumps (see `proof`), all made now and in one
        // place so that they share a network namespace.
        let mut sockets = match &self.namespace {
            None => new_sockets(3)?,
            Some(path) => sockets_in_namespace(path, 3)?,
        };
        let mut conn = Conn::open(sockets.remove(0), self.timeout, RX_BUFFER)?;
        conn.family = conn.resolve_family(deadline)?;
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
            timeout: self.timeout,
        })
    }
}

fn new_sockets(n: usize) -> Result<Vec<Socket>, ErrorKind> {
    (0..n).map(|_| Socket::new(NETLINK_GENERIC).map_err(ErrorKind::from)).collect()
}

/// Opens a namespace file without blocking and checks that it is one.
fn open_namespace(path: &Path) -> Result<File, ErrorKind> {
    let shown = || path.display().to_string();
    if path.as_os_str().as_encoded_bytes().contains(&0) {
        return Err(InvalidInput::new("netns", shown().escape_default(), "a path cannot contain a NUL byte").into());
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_CLOEXEC.bits())
        .open(path)?;
    let fs = nix::sys::statfs::fstatfs(&file).map_err(io::Error::from)?;
    if fs.filesystem_type().0 as i64 != NSFS_MAGIC {
        return Err(InvalidInput::new(
            "netns",
            shown(),
            "not a namespace (expected /run/netns/NAME or /proc/PID/ns/net)",
        )
        .into());
    }
    Ok(file)
}

fn sockets_in_namespace(path: &Path, n: usize) -> Result<Vec<Socket>, ErrorKind> {
    let ns = open_namespace(path)?;
    std::thread::scope(|s| {
        s.spawn(|| -> Result<Vec<Socket>, ErrorKind> {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| match e {
                nix::errno::Errno::EINVAL => {
                    ErrorKind::Invalid(InvalidInput::new("netns", path.display(), "not a network namespace"))
                }
                e => ErrorKind::Io(io::Error::from(e)),
            })?;
            new_sockets(n)
        })
        .join()
        .unwrap_or_else(|_| Err(ErrorKind::Io(io::Error::other("namespace helper thread failed"))))
    })
}

/// When a call must be over.
#[derive(Debug, Clone, Copy)]
struct Deadline(Instant);

impl Deadline {
    fn after(timeout: Duration) -> Deadline {
        // `timeout` is at most MAX_TIMEOUT (checked when opening), so this cannot overflow.
        Deadline(Instant::now() + timeout)
    }

    fn remaining(self) -> Result<Duration, ErrorKind> {
        self.0.checked_duration_since(Instant::now()).filter(|d| !d.is_zero()).ok_or(ErrorKind::TimedOut)
    }
}

/// A generic netlink socket bound to the IPVS family.
///
/// One socket, one family resolution; requests carry checked sequence numbers; replies that
/// belong to earlier (timed-out) requests are skipped. Every call has an overall deadline
/// (the builder's timeout). `Send + Sync`: calls are serialised.
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
    timeout: Duration,
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
    /// The receive timeout currently set on the socket.
    rcvtimeo: Duration,
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

    fn deadline(&self) -> Deadline {
        Deadline::after(self.timeout)
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
        let mut conn = Conn {
            socket,
            port: local.port_number(),
            family: 0,
            seq: std::process::id().wrapping_mul(7919),
            rx: Vec::with_capacity(rx_len),
            rx_len,
            tx: Vec::new(),
            rcvtimeo: Duration::ZERO,
        };
        conn.set_rcvtimeo(timeout)?;
        Ok(conn)
    }

    fn set_rcvtimeo(&mut self, t: Duration) -> Result<(), ErrorKind> {
        let ms = i64::try_from(t.as_millis()).unwrap_or(i64::MAX).max(1);
        setsockopt(&self.socket, sockopt::ReceiveTimeout, &TimeVal::milliseconds(ms)).map_err(io::Error::from)?;
        self.rcvtimeo = t;
        Ok(())
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        if self.seq == 0 {
            self.seq = 1;
        }
        self.seq
    }

    fn encode(&mut self, msg: &IpvsMessage, seq: u32, flags: u16) -> Result<(), ErrorKind> {
        let family = self.family;
        frame::encode(msg, family, seq, flags, &mut self.tx).map_err(|e| {
            self.tx.clear();
            ErrorKind::Encode(e.to_string())
        })
    }

    fn send_tx(&mut self) -> Result<(), ErrorKind> {
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

    /// Receives one datagram and decodes it: the frames addressed to this socket. `None`
    /// when `deadline` is None (non-blocking) and nothing is queued. A datagram longer than
    /// the buffer is an error (MSG_TRUNC tells its real length).
    fn recv(&mut self, deadline: Option<Deadline>) -> Result<Option<Vec<Frame>>, ErrorKind> {
        let mut flags = MsgFlags::MSG_TRUNC;
        match deadline {
            None => flags |= MsgFlags::MSG_DONTWAIT,
            Some(d) => {
                let left = d.remaining()?;
                // Shorten the socket's timeout when the call has less time left than it.
                if left < self.rcvtimeo {
                    self.set_rcvtimeo(left)?;
                }
            }
        }
        loop {
            self.rx.clear();
            self.rx.reserve_exact(self.rx_len);
            match self.socket.recv(&mut self.rx, flags.bits()) {
                Ok(n) if n > self.rx.len() => {
                    return Err(ErrorKind::Decode(format!("datagram of {n} bytes truncated to {}", self.rx.len())))
                }
                Ok(_) => {
                    let frames = frame::decode_all(&self.rx)?;
                    return Ok(Some(frames.into_iter().filter(|f| f.port == self.port || f.port == 0).collect()));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                    if let Some(d) = deadline {
                        d.remaining()?;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return if deadline.is_none() { Ok(None) } else { Err(ErrorKind::TimedOut) };
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Restores the socket's full timeout after a call that shortened it.
    fn reset_rcvtimeo(&mut self, timeout: Duration) {
        if self.rcvtimeo != timeout {
            let _ = self.set_rcvtimeo(timeout);
        }
    }

    fn resolve_family(&mut self, deadline: Deadline) -> Result<u16, ErrorKind> {
        let seq = self.next_seq();
        frame::encode_get_family(FAMILY_NAME, seq, frame::REQUEST_ACK, &mut self.tx)
            .map_err(|e| ErrorKind::Encode(e.to_string()))?;
        self.send_tx()?;
        let mut family = None;
        loop {
            for f in self.recv(Some(deadline))?.unwrap_or_default() {
                if f.seq != seq {
                    continue;
                }
                match f.payload {
                    Payload::Ctrl(ctrl) => family = ctrl.family_id.or(family),
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

    fn request(&mut self, msg: &IpvsMessage, deadline: Deadline) -> Result<Option<IpvsMessage>, ErrorKind> {
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
    fn dump_once(&mut self, msg: &IpvsMessage, deadline: Deadline) -> Result<(Vec<Vec<IpvsMessage>>, bool), ErrorKind> {
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

    fn batch(&mut self, msgs: &[IpvsMessage], deadline: Deadline) -> Result<Vec<BatchOutcome>, ErrorKind> {
        // Every message is encoded before anything is sent: one that cannot be is refused
        // with the batch untouched.
        for m in msgs {
            frame::check_sizes(m).map_err(|e| ErrorKind::Encode(e.to_string()))?;
        }
        let mut out = vec![Ok(()); msgs.len()];
        // Sequence numbers of a batch must be contiguous; restart low if they would wrap.
        let count = u32::try_from(msgs.len()).unwrap_or(u32::MAX);
        if self.seq.checked_add(count.saturating_add(2)).is_none() {
            self.seq = 0;
        }
        let first = self.seq.wrapping_add(1);
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

impl Transport for NetlinkTransport {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        let mut conn = self.lock();
        let r = conn.request(msg, self.deadline());
        conn.reset_rcvtimeo(self.timeout);
        r
    }

    /// A dump, proven consistent when it spans several datagrams (see the `proof` module):
    /// the result holds every entry that existed throughout the call exactly once. No proof
    /// within the retries: `DumpInterrupted`.
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        let deadline = self.deadline();
        let mut conn = self.lock();
        let mut witnesses = self.witnesses.lock().unwrap_or_else(|p| p.into_inner());
        let r = self.dump_proven(&mut conn, &mut witnesses, msg, deadline);
        conn.reset_rcvtimeo(self.timeout);
        for w in witnesses.iter_mut() {
            w.reset_rcvtimeo(self.timeout);
        }
        r
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.lock();
        let r = conn.batch(msgs, self.deadline());
        conn.reset_rcvtimeo(self.timeout);
        r
    }
}

impl NetlinkTransport {
    fn dump_proven(
        &self,
        conn: &mut Conn,
        witnesses: &mut [Conn],
        msg: &IpvsMessage,
        deadline: Deadline,
    ) -> Result<Vec<IpvsMessage>, ErrorKind> {
        let attempts = self.dump_retries.saturating_add(1);
        for attempt in 0..attempts {
            if attempt > 0 {
                let pause = Duration::from_micros(500 * u64::from(attempt.min(20)));
                std::thread::sleep(pause.min(deadline.remaining()?));
            }
            let (parts, interrupted) = conn.dump_once(msg, deadline)?;
            if interrupted {
                continue;
            }
            if parts.len() <= 1 {
                return Ok(parts.into_iter().flatten().collect());
            }
            let mut seen = Vec::with_capacity(witnesses.len());
            for witness in witnesses.iter_mut() {
                seen.push(Witness::new(witness.dump_once(msg, deadline)?.0));
                if let Some(list) = proven_listing(&parts, &seen) {
                    return Ok(list);
                }
            }
        }
        Err(ErrorKind::DumpInterrupted { attempts })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_refuses_unbounded_or_zero_timeouts_and_endless_retries() {
        for t in [Duration::MAX, Duration::ZERO, MAX_TIMEOUT + Duration::from_secs(1)] {
            let e = NetlinkTransport::builder().timeout(t).check().unwrap_err();
            assert_eq!(e.field, "timeout");
        }
        NetlinkTransport::builder().timeout(MAX_TIMEOUT).check().unwrap();
        assert_eq!(NetlinkTransport::builder().dump_retries(u32::MAX).check().unwrap_err().field, "dump_retries");
        assert!(matches!(
            NetlinkTransport::builder().timeout(Duration::MAX).open(),
            Err(ErrorKind::Invalid(InvalidInput { field: "timeout", .. }))
        ));
    }

    /// A stream of datagrams that are not the answer (here: the kernel's answers to other
    /// requests, as stale replies to timed-out calls are) cannot keep a call waiting past its
    /// deadline; the receive timeout used to apply per datagram.
    #[test]
    fn a_call_ends_at_its_deadline_whatever_arrives_meanwhile() {
        use std::os::fd::AsFd;
        let timeout = Duration::from_millis(300);
        let mut conn = Conn::open(Socket::new(NETLINK_GENERIC).unwrap(), timeout, RX_BUFFER).unwrap();
        // Requests sent through a duplicate of the socket are answered to the socket.
        let fd = nix::unistd::dup(conn.socket.as_fd()).unwrap();
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

    #[test]
    fn namespace_paths_are_checked_without_blocking() {
        let dir = std::env::temp_dir().join(format!("ipvs-ns-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
        // A FIFO with no writer would block a plain open() forever.
        let start = Instant::now();
        let e = open_namespace(&fifo).unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(5));
        assert!(matches!(&e, ErrorKind::Invalid(i) if i.field == "netns"), "{e}");
        let e = open_namespace(Path::new("/etc/hostname")).unwrap_err();
        assert!(matches!(&e, ErrorKind::Invalid(i) if i.field == "netns"), "{e}");
        let e = open_namespace(Path::new("a\0b")).unwrap_err();
        assert!(matches!(&e, ErrorKind::Invalid(i) if i.field == "netns"), "{e}");
        assert!(matches!(open_namespace(Path::new("/no/such/netns")), Err(ErrorKind::Io(_))));
        // The caller's own namespace file is a namespace.
        open_namespace(Path::new("/proc/self/ns/net")).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
