//! The in-memory kernel: [`MockTransport`] and its model of the tables.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{BatchOutcome, Transport};
use crate::error::ErrorKind;
use crate::model::{Scheduler, ServiceId, Stats};
use crate::wire::IpvsMessage;
use kernel::Kernel;

mod kernel;

/// How many round trips and messages a [`MockTransport`] has carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MockCounters {
    /// Calls of `request`, `dump` and `batch`: one round trip each.
    pub round_trips: u64,
    /// Messages carried (a batch counts each of its requests).
    pub messages: u64,
    /// Write requests carried (what changes the table, or tries to).
    pub writes: u64,
}

/// An in-memory IPVS kernel: a model of the kernel's IPVS tables, behind the same [`Transport`] seam as the
/// kernel. It interprets the same messages the kernel does, in the kernel's order of checks,
/// and answers the errno the kernel answers (Linux 6.1 `ip_vs_ctl.c`):
///
/// * identity: missing AF or fwmark/protocol+addr+port, or a missing mandatory attribute on
///   NEW/SET: `EINVAL`; AF not INET/INET6: `EAFNOSUPPORT`; a fwmark of 0 means the TCP service
///   on the unspecified address, port 0, as in the kernel;
/// * services: exists on NEW: `EEXIST`; missing on SET/DEL/GET/ZERO and on destination
///   commands: `ESRCH`; unknown scheduler or persistence engine: `ENOENT`; IPv6 prefix outside
///   1..=128: `EINVAL`; flags applied as `(old & !mask) | (new & mask)`, HASHED always set;
///   an empty persistence engine name means none;
/// * destinations: weight < 0 or lower threshold > upper: `ERANGE`; GUE with port 0: `EINVAL`;
///   exists on NEW: `EEXIST`; missing on SET/DEL: `ENOENT`; address not unicast (the one
///   check, [`is_destination_address`](crate::model::is_destination_address)): `EINVAL`;
///   family differing from the service without tunnelling, or while a sync daemon runs:
///   `EINVAL`; newest first in dumps; a GET_DEST dump of a missing service is empty;
/// * timeouts: above `INT_MAX / HZ` ([`HZ`](crate::model::HZ)) or negative as an int: `EINVAL`;
///   a persistence timeout is kept in ticks in 32 bits, so a larger one wraps as it does in
///   the kernel;
///   0 keeps the current value; defaults 900/120/300;
/// * daemons: missing state, interface or sync id, or a non-multicast group: `EINVAL`;
///   unknown interface: `ENODEV`; already running: `EEXIST`; stopping one not running: `ESRCH`;
///   defaults group 224.0.0.81, port 8848, ttl 1, max length MTU (1500) minus headers; a
///   daemon cannot start while mixed-family destinations exist: `EINVAL`;
/// * zero: of one service or, with no service, of everything; flush; info (1.2.1, 4096);
/// * schedulers: by default those of Debian bookworm's 6.1 kernel
///   ([`Scheduler::in_debian_6_1`](crate::Scheduler::in_debian_6_1)), and the engine `sip`;
/// * an unprivileged mock answers `EPERM` to everything, as the kernel does without
///   CAP_NET_ADMIN; unknown commands and operations without a handler: `EOPNOTSUPP`.
///
/// What it knowingly does not model: traffic, connections and rate estimation (counters stay
/// as set by [`MockTransport::set_stats`]); the kernel's hash-bucket order of services (the
/// mock lists address services in insertion order, then firewall-mark services); the
/// destination trash; which IPv4 addresses are local broadcast addresses of interfaces; that a
/// namespace whose loopback is down has no route, so the kernel refuses every destination there
/// (`EINVAL`).
///
/// ```
/// use std::sync::Arc;
/// use ipvs::transport::MockTransport;
/// use ipvs::{Client, Scheduler, Service, ServiceId};
/// let mock = Arc::new(MockTransport::builder().interfaces(["lo", "eth0"]).build());
/// let client = Client::with_transport(mock.clone());
/// client.add_service(&Service::new(ServiceId::udp("192.0.2.9".parse().unwrap(), 53), Scheduler::Rr)).unwrap();
/// assert_eq!(mock.counters().round_trips, 1);
/// ```
#[derive(Debug)]
pub struct MockTransport {
    kernel: Mutex<Kernel>,
    round_trips: AtomicU64,
    messages: AtomicU64,
    writes: AtomicU64,
}

/// Options for a [`MockTransport`].
///
/// ```
/// use ipvs::transport::MockTransport;
/// use ipvs::{Client, Errno, Scheduler, Service, ServiceId};
/// let mock = MockTransport::builder().schedulers(["rr"]).engines(Vec::<String>::new()).build();
/// let client = Client::with_transport(mock);
/// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// assert_eq!(client.add_service(&Service::new(id, Scheduler::Wrr)).unwrap_err().errno(), Errno::ENOENT);
/// ```
#[derive(Debug, Clone)]
pub struct MockTransportBuilder {
    interfaces: Vec<String>,
    schedulers: Vec<String>,
    engines: Vec<String>,
    privileged: bool,
}

impl MockTransportBuilder {
    /// Network interfaces the daemons may use (default: `lo`).
    pub fn interfaces<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.interfaces = names.into_iter().map(Into::into).collect();
        self
    }

    /// Schedulers the "kernel" has (default: Debian 6.1's, every known one but twos).
    pub fn schedulers<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.schedulers = names.into_iter().map(Into::into).collect();
        self
    }

    /// Persistence engines the "kernel" has (default: `sip`).
    pub fn engines<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Self {
        self.engines = names.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the caller has CAP_NET_ADMIN (default true); without it everything is `EPERM`.
    pub fn privileged(mut self, privileged: bool) -> Self {
        self.privileged = privileged;
        self
    }

    /// Builds the mock.
    pub fn build(self) -> MockTransport {
        MockTransport {
            kernel: Mutex::new(Kernel::new(self.interfaces, self.schedulers, self.engines, self.privileged)),
            round_trips: AtomicU64::new(0),
            messages: AtomicU64::new(0),
            writes: AtomicU64::new(0),
        }
    }
}

impl Default for MockTransport {
    fn default() -> Self {
        Self::new()
    }
}

impl MockTransport {
    /// An empty "kernel" with default options.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Options: interfaces, schedulers, engines, privilege.
    pub fn builder() -> MockTransportBuilder {
        MockTransportBuilder {
            interfaces: vec!["lo".into()],
            schedulers: Scheduler::in_debian_6_1()
                .filter(|s| *s != Scheduler::None)
                .map(|s| s.name().to_owned())
                .collect(),
            engines: vec!["sip".into()],
            privileged: true,
        }
    }

    /// Round trips and messages carried so far.
    pub fn counters(&self) -> MockCounters {
        MockCounters {
            round_trips: self.round_trips.load(Ordering::Relaxed),
            messages: self.messages.load(Ordering::Relaxed),
            writes: self.writes.load(Ordering::Relaxed),
        }
    }

    /// Resets the counters to zero.
    pub fn reset_counters(&self) {
        self.round_trips.store(0, Ordering::Relaxed);
        self.messages.store(0, Ordering::Relaxed);
        self.writes.store(0, Ordering::Relaxed);
    }

    /// How many services and destinations the model holds. Memory follows the live table:
    /// a deleted entry is freed.
    ///
    /// ```
    /// use ipvs::transport::MockTransport;
    /// use ipvs::{Client, Scheduler, Service, ServiceId};
    /// let mock = MockTransport::new();
    /// let client = Client::with_transport(&mock);
    /// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// client.add_service(&Service::new(id, Scheduler::Rr)).unwrap();
    /// client.delete_service(&id).unwrap();
    /// assert_eq!(mock.held(), (0, 0));
    /// ```
    pub fn held(&self) -> (usize, usize) {
        self.lock().held()
    }

    /// Sets the counters of a service (`dest: None`) or of one of its destinations, as traffic
    /// would. Returns false if there is no such service or destination.
    pub fn set_stats(&self, service: &ServiceId, dest: Option<SocketAddr>, stats: Stats) -> bool {
        let mut k = self.lock();
        let Some(ms) = k.service_mut(service) else { return false };
        match dest {
            None => {
                ms.stats = stats;
                true
            }
            Some(addr) => match ms.dests.get_mut(&addr) {
                Some(d) => {
                    d.status.stats = stats;
                    true
                }
                None => false,
            },
        }
    }

    /// Sets the connection counts of a destination. Returns false if it does not exist.
    pub fn set_connections(
        &self,
        service: &ServiceId,
        dest: SocketAddr,
        active: u32,
        inactive: u32,
        persistent: u32,
    ) -> bool {
        let mut k = self.lock();
        let Some(ms) = k.service_mut(service) else { return false };
        match ms.dests.get_mut(&dest) {
            Some(d) => {
                d.status.active_conns = active;
                d.status.inactive_conns = inactive;
                d.status.persistent_conns = persistent;
                true
            }
            None => false,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kernel> {
        self.kernel.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn count(&self, messages: usize, writes: usize) {
        self.round_trips.fetch_add(1, Ordering::Relaxed);
        self.messages.fetch_add(messages as u64, Ordering::Relaxed);
        self.writes.fetch_add(writes as u64, Ordering::Relaxed);
    }
}

impl Transport for MockTransport {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        self.count(1, usize::from(msg.cmd.is_write()));
        self.lock().doit(msg).map_err(ErrorKind::Kernel)
    }

    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        self.count(1, 0);
        self.lock().dumpit(msg).map_err(ErrorKind::Kernel)
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        for m in msgs {
            crate::wire::frame::check_sizes(m).map_err(|e| ErrorKind::Encode(e.to_string()))?;
        }
        self.count(msgs.len(), msgs.iter().filter(|m| m.cmd.is_write()).count());
        let mut k = self.lock();
        Ok(msgs.iter().map(|m| k.doit(m).map(|_| ())).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Client, Destination, Forward, Request, Service};

    /// The model used to keep a slot for every service ever added: a million add/delete
    /// cycles left an empty table holding 192 MB.
    #[test]
    fn deleted_entries_are_freed() {
        let mock = MockTransport::new();
        let c = Client::with_transport(&mock);
        for round in 0..2_000u32 {
            let id = ServiceId::tcp([192, 0, 2, 1 + (round % 200) as u8].into(), 80);
            c.add_service(&Service::new(id, Scheduler::Rr)).unwrap();
            for d in 1..=3u8 {
                let dest = Destination::new(SocketAddr::from(([198, 51, 100, d], 80)), Forward::Masquerade);
                c.execute(&Request::AddDestination { service: id, destination: dest }).unwrap();
            }
            c.delete_destination(&id, SocketAddr::from(([198, 51, 100, 2], 80))).unwrap();
            assert_eq!(mock.held(), (1, 2));
            c.delete_service(&id).unwrap();
            assert_eq!(mock.held(), (0, 0));
        }
        assert!(c.services().unwrap().is_empty());
    }
}
