//! The kernel transport: a generic netlink socket speaking the IPVS family.

mod conn;
mod proof;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use netlink_sys::{protocols::NETLINK_GENERIC, Socket};

use super::{BatchOutcome, Transport};
use crate::error::{ErrorKind, InvalidInput};
use crate::netlink::{Deadline, RX_BUFFER};
use crate::netns::NetNamespace;
use crate::wire::IpvsMessage;
use conn::Conn;
use proof::{proven_listing, Witness, WITNESS_RX_LENGTHS};

/// The longest timeout a transport takes.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 3600);
/// The most dump retries a transport takes.
pub const MAX_DUMP_RETRIES: u32 = 1000;
/// The most sockets [`Transport::dumps`] spreads its dumps over.
pub const MAX_DUMP_SOCKETS: usize = 16;
/// Fewer dumps than this per extra socket are not worth a thread.
const DUMPS_PER_THREAD: usize = 32;

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
    /// None: as many as CPUs, found out when first needed (a one-request command never asks).
    dump_sockets: Option<usize>,
}

impl Default for NetlinkTransportBuilder {
    fn default() -> Self {
        NetlinkTransportBuilder {
            timeout: Duration::from_secs(30),
            dump_retries: 12,
            namespace: None,
            dump_sockets: None,
        }
    }
}

/// The default number of dump sockets: the CPUs this process may use, at most
/// [`MAX_DUMP_SOCKETS`].
fn default_dump_sockets() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, MAX_DUMP_SOCKETS)
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

    /// How many sockets (each with a thread) [`Transport::dumps`] spreads many dumps over
    /// (default: the number of CPUs, at most [`MAX_DUMP_SOCKETS`]; 1 makes them in turn).
    /// The extra sockets are opened on first use, in the transport's namespace.
    pub fn dump_sockets(mut self, sockets: usize) -> Self {
        self.dump_sockets = Some(sockets);
        self
    }

    fn check(&self) -> Result<(), InvalidInput> {
        if let Some(n) = self.dump_sockets.filter(|n| *n == 0 || *n > MAX_DUMP_SOCKETS) {
            return Err(InvalidInput::new("dump_sockets", n, format!("must be between 1 and {MAX_DUMP_SOCKETS}")));
        }
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
        // Sockets opened later (see `open_conns`) go where the first ones went: the named
        // namespace, else the opening thread's, whichever thread opens them.
        let namespace = match &self.namespace {
            Some(path) => Some(NetNamespace::open(path)?),
            None => NetNamespace::current().ok(),
        };
        // The main socket and two witnesses for dumps (see `proof`), all made now and in one
        // place so that they share a network namespace.
        let mut sockets = new_sockets(namespace.as_ref(), 3)?;
        let mut conn = Conn::open(sockets.remove(0), RX_BUFFER)?;
        conn.family = conn.resolve_family(deadline)?;
        let witnesses = sockets
            .into_iter()
            .zip(WITNESS_RX_LENGTHS)
            .map(|(socket, rx_len)| {
                let mut w = Conn::open(socket, rx_len)?;
                w.family = conn.family;
                Ok(w)
            })
            .collect::<Result<Vec<_>, ErrorKind>>()?;
        Ok(NetlinkTransport {
            family: conn.family,
            conn: Mutex::new(conn),
            witnesses: Mutex::new(witnesses),
            workers: Mutex::new(Vec::new()),
            namespace,
            dump_sockets: self.dump_sockets,
            dump_retries: self.dump_retries,
            timeout: self.timeout,
        })
    }
}

/// What a worker made of one dump: the messages, None when it must be made again with the
/// proof (several datagrams, or flagged interrupted), or the error that stops the call.
type WorkerDump = Result<Option<Vec<IpvsMessage>>, ErrorKind>;

/// `n` generic netlink sockets, in `namespace` or in the caller's.
fn new_sockets(namespace: Option<&NetNamespace>, n: usize) -> Result<Vec<Socket>, ErrorKind> {
    let make = || (0..n).map(|_| Socket::new(NETLINK_GENERIC).map_err(ErrorKind::from)).collect();
    match namespace {
        Some(ns) => ns.run(make),
        None => make(),
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
    family: u16,
    conn: Mutex<Conn>,
    /// Sockets whose dumps come in differently sized datagrams, to prove dumps consistent.
    witnesses: Mutex<Vec<Conn>>,
    /// The extra sockets of [`Transport::dumps`], opened on first use.
    workers: Mutex<Vec<Conn>>,
    namespace: Option<NetNamespace>,
    dump_sockets: Option<usize>,
    dump_retries: u32,
    timeout: Duration,
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
        self.family
    }

    /// `n` new sockets for the IPVS family, in the transport's namespace, whose receives ask
    /// for `rx_len` bytes.
    fn open_conns(&self, n: usize, rx_len: usize) -> Result<Vec<Conn>, ErrorKind> {
        new_sockets(self.namespace.as_ref(), n)?
            .into_iter()
            .map(|socket| {
                let mut c = Conn::open(socket, rx_len)?;
                c.family = self.family;
                Ok(c)
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Conn> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn deadline(&self) -> Deadline {
        Deadline::after(self.timeout)
    }
}

impl Transport for NetlinkTransport {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        let mut conn = self.lock();
        conn.request(msg, self.deadline())
    }

    /// A dump, proven consistent when it spans several datagrams (see the `proof` module):
    /// the result holds every entry that existed throughout the call exactly once. No proof
    /// within the retries: `DumpInterrupted`.
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        let deadline = self.deadline();
        let mut conn = self.lock();
        let mut witnesses = self.witnesses.lock().unwrap_or_else(|p| p.into_inner());
        self.dump_proven(&mut conn, &mut witnesses, msg, deadline)
    }

    /// Many dumps spread over several sockets, one thread each (see
    /// [`NetlinkTransportBuilder::dump_sockets`]). A dump that fits one datagram is atomic as
    /// it is; one that spans several is made again on the main socket, with the proof.
    fn dumps(&self, msgs: &[IpvsMessage]) -> Result<Vec<Vec<IpvsMessage>>, ErrorKind> {
        let threads = self.dump_sockets.unwrap_or_else(default_dump_sockets).min(msgs.len() / DUMPS_PER_THREAD).max(1);
        if threads == 1 {
            return msgs.iter().map(|m| self.dump(m)).collect();
        }
        let mut conn = self.lock();
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        if workers.len() < threads - 1 {
            let more = self.open_conns(threads - 1 - workers.len(), RX_BUFFER)?;
            workers.extend(more);
        }
        let next = AtomicUsize::new(0);
        let failed = AtomicBool::new(false);
        // Each socket takes the next dump until none is left: Ok(None) for a dump to make again.
        let work = |c: &mut Conn| -> Vec<(usize, WorkerDump)> {
            let mut out = Vec::new();
            while !failed.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(msg) = msgs.get(i) else { break };
                let r = c.dump_once(msg, self.deadline());
                let r = match r {
                    Ok((parts, false)) if parts.len() <= 1 => Ok(Some(parts.into_iter().flatten().collect())),
                    Ok(_) => Ok(None),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        Err(e)
                    }
                };
                out.push((i, r));
            }
            out
        };
        let work = &work;
        let done = std::thread::scope(|s| {
            let handles: Vec<_> = workers.iter_mut().take(threads - 1).map(|w| s.spawn(move || work(w))).collect();
            let mut done = work(&mut conn);
            for h in handles {
                // A worker that panicked leaves its dumps undone: they are made again below.
                done.extend(h.join().unwrap_or_default());
            }
            done
        });
        let mut out: Vec<Option<Vec<IpvsMessage>>> = vec![None; msgs.len()];
        for (i, r) in done {
            out[i] = r?;
        }
        let mut witnesses = self.witnesses.lock().unwrap_or_else(|p| p.into_inner());
        msgs.iter()
            .zip(out)
            .map(|(msg, got)| match got {
                Some(list) => Ok(list),
                None => self.dump_proven(&mut conn, &mut witnesses, msg, self.deadline()),
            })
            .collect()
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        if msgs.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.lock();
        conn.batch(msgs, self.deadline())
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
            // First a fresh socket: its first datagram is the kernel's smallest (it has
            // never received), the others as long as the main socket's, so its boundaries
            // fall between the main dump's at the cost of one more dump.
            let mut fresh = self.open_conns(1, RX_BUFFER)?;
            let mut seen = Vec::with_capacity(witnesses.len() + 1);
            for c in fresh.iter_mut() {
                seen.push(Witness::new(c.dump_once(msg, deadline)?.0));
                if let Some(list) = proven_listing(&parts, &seen) {
                    return Ok(list);
                }
            }
            // Then the witnesses with datagrams of their own lengths.
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

    #[test]
    fn a_namespace_of_another_kind_is_refused_with_the_field_named() {
        // A namespace of another kind passes the file check; entering it as a network
        // namespace is refused with the field named.
        let e = NetlinkTransport::builder().namespace("/proc/self/ns/mnt").open().unwrap_err();
        assert!(e.to_string().contains("not a network namespace"), "{e}");
    }
}
