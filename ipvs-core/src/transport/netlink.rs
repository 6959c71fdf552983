//! The kernel transport: a generic netlink socket speaking the IPVS family.

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
        NetlinkTransportBuilder { timeout: Duration::from_secs(30), dump_retries: 10, namespace: None }
    }
}

impl NetlinkTransportBuilder {
    /// How long any single receive may wait before the call fails with `TimedOut` (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many times an inconsistent dump is retried before `DumpInterrupted` (default 10;
    /// the waits between attempts grow from 1 ms to 128 ms).
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
        let mut socket = match &self.namespace {
            None => Socket::new(NETLINK_GENERIC)?,
            Some(path) => socket_in_namespace(path)?,
        };
        let local = socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Acknowledgements carry only the failed request's header, not the whole request.
        let _ = socket.set_cap_ack(true);
        if setsockopt(&socket, sockopt::RcvBufForce, &SOCKET_RCVBUF).is_err() {
            let _ = setsockopt(&socket, sockopt::RcvBuf, &SOCKET_RCVBUF);
        }
        let ms = i64::try_from(self.timeout.as_millis()).unwrap_or(i64::MAX).max(1);
        setsockopt(&socket, sockopt::ReceiveTimeout, &TimeVal::milliseconds(ms)).map_err(io::Error::from)?;
        let mut conn = Conn {
            socket,
            port: local.port_number(),
            family: 0,
            seq: std::process::id().wrapping_mul(7919),
            rx: Vec::with_capacity(RX_BUFFER),
            tx: Vec::new(),
        };
        conn.family = conn.resolve_family()?;
        Ok(NetlinkTransport { conn: Mutex::new(conn), dump_retries: self.dump_retries })
    }
}

fn socket_in_namespace(path: &Path) -> Result<Socket, ErrorKind> {
    let ns = File::open(path)?;
    std::thread::scope(|s| {
        s.spawn(|| -> Result<Socket, ErrorKind> {
            nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET).map_err(io::Error::from)?;
            Ok(Socket::new(NETLINK_GENERIC)?)
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
    dump_retries: u32,
}

#[derive(Debug)]
struct Conn {
    socket: Socket,
    port: u32,
    family: u16,
    seq: u32,
    rx: Vec<u8>,
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
            self.rx.reserve(RX_BUFFER);
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

    /// One dump attempt: the messages, whether the kernel flagged it interrupted, and how
    /// many datagrams it took.
    fn dump_once(&mut self, msg: &IpvsMessage) -> Result<(Vec<IpvsMessage>, bool, usize), ErrorKind> {
        let seq = self.next_seq();
        frame::encode(msg, self.family, seq, frame::DUMP, &mut self.tx);
        self.send_tx()?;
        let (mut out, mut interrupted, mut parts) = (Vec::new(), false, 0);
        loop {
            parts += 1;
            for f in self.recv(false)?.unwrap_or_default() {
                if f.seq != seq {
                    continue;
                }
                interrupted |= f.interrupted();
                match f.payload {
                    Payload::Ipvs(m) => out.push(m),
                    Payload::Done(0) | Payload::Ack => return Ok((out, interrupted, parts)),
                    Payload::Done(code) => return Err(ErrorKind::Kernel(Errno(code.saturating_neg()))),
                    Payload::Error(e) => return Err(ErrorKind::Kernel(e)),
                    Payload::Overrun => return Err(ErrorKind::Io(io::Error::from_raw_os_error(Errno::ENOBUFS.0))),
                    Payload::Ctrl(_) | Payload::Noop => {}
                }
            }
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

    /// IPVS dumps resume by an index counted over every network namespace's services and
    /// never set NLM_F_DUMP_INTR, so a dump of several datagrams can repeat or skip entries
    /// when any table changes meanwhile. A one-datagram dump is atomic; a longer one is
    /// accepted only once two consecutive dumps agree on the identities they list, with no
    /// duplicates.
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        let mut conn = self.lock();
        let mut previous: Option<Vec<Vec<u8>>> = None;
        for attempt in 0..=self.dump_retries + 1 {
            if attempt >= 2 {
                std::thread::sleep(Duration::from_millis(1 << (attempt - 2).min(7)));
            }
            let (msgs, interrupted, parts) = conn.dump_once(msg)?;
            if interrupted {
                previous = None;
                continue;
            }
            let keys: Vec<Vec<u8>> = msgs.iter().map(identity_key).collect();
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if sorted.len() != keys.len() {
                previous = None;
                continue;
            }
            if parts <= 1 || previous.as_ref() == Some(&keys) {
                return Ok(msgs);
            }
            previous = Some(keys);
        }
        Err(ErrorKind::DumpInterrupted { attempts: self.dump_retries + 2 })
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        self.lock().batch(msgs)
    }
}
