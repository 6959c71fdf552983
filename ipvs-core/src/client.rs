//! The client: typed IPVS operations over any [`Transport`].

use std::net::SocketAddr;
use std::path::Path;

use crate::error::{Errno, Error, ErrorKind, Operation};
use crate::model::{Daemon, DaemonState, Destination, Info, Service, ServiceId, Timeouts, Version};
use crate::transport::{BatchOutcome, MockTransport, NetlinkTransport, Transport};
use crate::wire::{daemon_from_attrs, destination_from_attrs, service_from_attrs, IpvsAttr, IpvsCmd, IpvsMessage};

/// Typed IPVS operations. `Send + Sync`; generic over the [`Transport`] (the kernel by
/// default, or [`MockTransport`]).
///
/// Every call validates its input first (nothing is sent if it is invalid) and returns an
/// [`Error`] naming the operation and the object.
///
/// ```
/// use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
/// let client = Client::mock(); // Client::new() talks to the kernel
/// let id = ServiceId::tcp("192.0.2.10".parse().unwrap(), 80);
/// client.add_service(&Service::new(id, Scheduler::Wrr))?;
/// for (n, weight) in [(1, 3), (2, 1)] {
///     let addr = format!("198.51.100.{n}:8080").parse().unwrap();
///     client.add_destination(&id, &Destination::new(addr, Forward::Masquerade).with_weight(weight))?;
/// }
/// let dests = client.destinations(&id)?;
/// assert_eq!(dests.len(), 2);
/// assert_eq!(dests.iter().map(|d| d.weight).sum::<u32>(), 4);
/// # Ok::<(), ipvs::Error>(())
/// ```
#[derive(Debug)]
pub struct Client<T: Transport = NetlinkTransport> {
    transport: T,
}

impl Client<NetlinkTransport> {
    /// A client of the kernel's IPVS in the caller's network namespace.
    ///
    /// ```no_run
    /// let client = ipvs::Client::new()?;
    /// for svc in client.services()? {
    ///     println!("{} {}", svc.id, svc.scheduler);
    /// }
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn new() -> Result<Self, Error> {
        NetlinkTransport::open().map(Self::with_transport).map_err(|k| Error::new(Operation::Connect, None, k))
    }

    /// A client of the kernel's IPVS in the network namespace at `path` (`/run/netns/NAME`,
    /// `/proc/PID/ns/net`). The caller's threads do not change namespace.
    ///
    /// ```no_run
    /// let lb = ipvs::Client::in_namespace("/run/netns/lb1")?;
    /// println!("{} services", lb.services()?.len());
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn in_namespace(path: impl AsRef<Path>) -> Result<Self, Error> {
        let path = path.as_ref();
        NetlinkTransport::builder()
            .namespace(path)
            .open()
            .map(Self::with_transport)
            .map_err(|k| Error::new(Operation::Connect, Some(path.display().to_string()), k))
    }
}

impl Client<MockTransport> {
    /// A client of an in-memory kernel model ([`MockTransport`]), for tests and examples.
    ///
    /// ```
    /// let client = ipvs::Client::mock();
    /// assert!(client.services().unwrap().is_empty());
    /// ```
    pub fn mock() -> Self {
        Self::with_transport(MockTransport::new())
    }
}

fn kernel_err(op: Operation, target: impl FnOnce() -> Option<String>) -> impl FnOnce(ErrorKind) -> Error {
    move |kind| Error::new(op, target(), kind)
}

fn decode_err(op: Operation, e: crate::wire::DecodeError) -> Error {
    Error::new(op, None, ErrorKind::Decode(e.to_string()))
}

fn dest_target(service: &ServiceId, dest: &SocketAddr) -> Option<String> {
    Some(format!("{service} -> {dest}"))
}

impl<T: Transport> Client<T> {
    /// A client over any transport.
    ///
    /// ```
    /// use ipvs::{transport::MockTransport, Client};
    /// let client = Client::with_transport(MockTransport::builder().privileged(false).build());
    /// assert_eq!(client.services().unwrap_err().errno(), Some(ipvs::Errno::EPERM));
    /// ```
    pub fn with_transport(transport: T) -> Self {
        Client { transport }
    }

    /// The transport (e.g. to read a mock's counters).
    pub fn transport(&self) -> &T {
        &self.transport
    }

    fn write(&self, op: Operation, target: impl Fn() -> Option<String>, msg: IpvsMessage) -> Result<(), Error> {
        self.transport.request(&msg).map(|_| ()).map_err(kernel_err(op, target))
    }

    /// Adds a virtual service.
    ///
    /// ```
    /// use ipvs::{Client, Errno, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
    /// client.add_service(&svc)?;
    /// assert_eq!(client.add_service(&svc).unwrap_err().errno(), Some(Errno::EEXIST));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn add_service(&self, service: &Service) -> Result<(), Error> {
        let target = || Some(service.id.to_string());
        service.validate().map_err(|e| Error::new(Operation::AddService, target(), e))?;
        self.write(Operation::AddService, target, IpvsMessage::new_service(service))
    }

    /// Replaces a service's settings (scheduler, flags, persistence, engine) with `service`'s.
    ///
    /// ```
    /// use ipvs::{Client, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// client.add_service(&Service::new(id, Scheduler::Rr))?;
    /// client.update_service(&Service::new(id, Scheduler::Sh).with_persistence(60))?;
    /// let now = client.service(&id)?;
    /// assert_eq!(now.scheduler, Scheduler::Sh);
    /// assert_eq!(now.persistence_timeout(), Some(60));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn update_service(&self, service: &Service) -> Result<(), Error> {
        let target = || Some(service.id.to_string());
        service.validate().map_err(|e| Error::new(Operation::UpdateService, target(), e))?;
        self.write(Operation::UpdateService, target, IpvsMessage::set_service(service))
    }

    /// Deletes a service and its destinations.
    ///
    /// ```
    /// use ipvs::{Client, Errno, Family, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::fwmark(5, Family::Inet);
    /// client.add_service(&Service::new(id, Scheduler::Lc))?;
    /// client.delete_service(&id)?;
    /// assert_eq!(client.delete_service(&id).unwrap_err().errno(), Some(Errno::ESRCH));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn delete_service(&self, id: &ServiceId) -> Result<(), Error> {
        let target = || Some(id.to_string());
        id.validate().map_err(|e| Error::new(Operation::DeleteService, target(), e))?;
        self.write(Operation::DeleteService, target, IpvsMessage::del_service(id))
    }

    /// Reads one service, with its statistics.
    ///
    /// ```
    /// use ipvs::{Client, Scheduler, Service, ServiceFlags, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::udp("2001:db8::53".parse().unwrap(), 53);
    /// client.add_service(&Service::new(id, Scheduler::Sed))?;
    /// let svc = client.service(&id)?;
    /// assert!(svc.flags.contains(ServiceFlags::HASHED)); // set by the kernel
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn service(&self, id: &ServiceId) -> Result<Service, Error> {
        let op = Operation::GetService;
        let target = || Some(id.to_string());
        id.validate().map_err(|e| Error::new(op, target(), e))?;
        let reply = self.transport.request(&IpvsMessage::get_service(id)).map_err(kernel_err(op, target))?;
        let attrs = reply
            .as_ref()
            .and_then(|m| m.service())
            .ok_or_else(|| Error::new(op, target(), ErrorKind::UnexpectedReply("no service in the reply".into())))?;
        service_from_attrs(attrs).map_err(|e| decode_err(op, e))
    }

    /// Lists every service, with statistics, in the kernel's order.
    ///
    /// ```
    /// use ipvs::{Client, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// for port in [80, 443] {
    ///     client.add_service(&Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), port), Scheduler::Wlc))?;
    /// }
    /// assert_eq!(client.services()?.len(), 2);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn services(&self) -> Result<Vec<Service>, Error> {
        let op = Operation::ListServices;
        let msgs = self.transport.dump(&IpvsMessage::dump_services()).map_err(kernel_err(op, || None))?;
        msgs.iter().filter_map(|m| m.service()).map(|a| service_from_attrs(a).map_err(|e| decode_err(op, e))).collect()
    }

    /// Adds a destination to a service.
    ///
    /// ```
    /// use ipvs::{Client, Destination, Errno, Forward, Scheduler, Service, ServiceId, Tunnel, TunnelFlags};
    /// let client = Client::mock();
    /// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// client.add_service(&Service::new(id, Scheduler::Rr))?;
    /// let gue = Forward::Tunnel(Tunnel::Gue { port: 6080, flags: TunnelFlags::CSUM });
    /// client.add_destination(&id, &Destination::new("198.51.100.2:80".parse().unwrap(), gue))?;
    /// // Bad input is rejected before anything is sent:
    /// let bad = Destination::new("198.51.100.3:80".parse().unwrap(), Forward::DirectRoute).with_thresholds(1, 2);
    /// let err = client.add_destination(&id, &bad).unwrap_err();
    /// assert_eq!(err.invalid_input().unwrap().field, "lower_threshold");
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn add_destination(&self, service: &ServiceId, dest: &Destination) -> Result<(), Error> {
        let target = || dest_target(service, &dest.socket_addr());
        let op = Operation::AddDestination;
        service.validate().and_then(|_| dest.validate_for(service)).map_err(|e| Error::new(op, target(), e))?;
        self.write(op, target, IpvsMessage::new_dest(service, dest))
    }

    /// Changes a destination's forwarding method, weight and thresholds.
    ///
    /// ```
    /// use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// client.add_service(&Service::new(id, Scheduler::Wrr))?;
    /// let d = Destination::new("198.51.100.2:80".parse().unwrap(), Forward::Masquerade);
    /// client.add_destination(&id, &d)?;
    /// client.update_destination(&id, &d.clone().with_weight(0))?; // drain
    /// assert_eq!(client.destinations(&id)?[0].weight, 0);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn update_destination(&self, service: &ServiceId, dest: &Destination) -> Result<(), Error> {
        let target = || dest_target(service, &dest.socket_addr());
        let op = Operation::UpdateDestination;
        service.validate().and_then(|_| dest.validate_for(service)).map_err(|e| Error::new(op, target(), e))?;
        self.write(op, target, IpvsMessage::set_dest(service, dest))
    }

    /// Removes a destination from a service.
    ///
    /// ```
    /// use ipvs::{Client, Destination, Errno, Forward, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// client.add_service(&Service::new(id, Scheduler::Rr))?;
    /// let addr = "198.51.100.2:80".parse().unwrap();
    /// client.add_destination(&id, &Destination::new(addr, Forward::DirectRoute))?;
    /// client.delete_destination(&id, addr)?;
    /// assert_eq!(client.delete_destination(&id, addr).unwrap_err().errno(), Some(Errno::ENOENT));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn delete_destination(&self, service: &ServiceId, dest: SocketAddr) -> Result<(), Error> {
        let target = || dest_target(service, &dest);
        let op = Operation::DeleteDestination;
        service.validate().map_err(|e| Error::new(op, target(), e))?;
        self.write(op, target, IpvsMessage::del_dest(service, &dest))
    }

    /// Lists a service's destinations (newest first, as the kernel does), with counters.
    /// A service that does not exist has no destinations.
    ///
    /// ```
    /// use ipvs::{Client, ServiceId};
    /// let client = Client::mock();
    /// assert!(client.destinations(&ServiceId::tcp("192.0.2.1".parse().unwrap(), 80))?.is_empty());
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn destinations(&self, service: &ServiceId) -> Result<Vec<Destination>, Error> {
        let op = Operation::ListDestinations;
        let target = || Some(service.to_string());
        service.validate().map_err(|e| Error::new(op, target(), e))?;
        let msgs = self.transport.dump(&IpvsMessage::dump_dests(service)).map_err(kernel_err(op, target))?;
        let family = service.family();
        msgs.iter()
            .filter_map(|m| m.dest())
            .map(|a| destination_from_attrs(a, family).map_err(|e| decode_err(op, e)))
            .collect()
    }

    /// Deletes every service.
    ///
    /// ```
    /// use ipvs::{Client, Family, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// client.add_service(&Service::new(ServiceId::fwmark(1, Family::Inet), Scheduler::Rr))?;
    /// client.flush()?;
    /// assert!(client.services()?.is_empty());
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn flush(&self) -> Result<(), Error> {
        self.write(Operation::Flush, || None, IpvsMessage::flush())
    }

    /// Zeroes the counters of one service (and its destinations), or of everything.
    ///
    /// ```
    /// use ipvs::{Client, Errno, ServiceId};
    /// let client = Client::mock();
    /// client.zero(None)?;
    /// let missing = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// assert_eq!(client.zero(Some(&missing)).unwrap_err().errno(), Some(Errno::ESRCH));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn zero(&self, service: Option<&ServiceId>) -> Result<(), Error> {
        let target = || service.map(|s| s.to_string());
        if let Some(s) = service {
            s.validate().map_err(|e| Error::new(Operation::Zero, target(), e))?;
        }
        self.write(Operation::Zero, target, IpvsMessage::zero(service))
    }

    /// Reads the connection timeouts.
    ///
    /// ```
    /// let t = ipvs::Client::mock().timeouts()?;
    /// assert_eq!((t.tcp, t.tcp_fin, t.udp), (900, 120, 300));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn timeouts(&self) -> Result<Timeouts, Error> {
        let op = Operation::GetTimeouts;
        let reply = self.transport.request(&IpvsMessage::get_config()).map_err(kernel_err(op, || None))?;
        let mut t = Timeouts::default();
        for a in reply.iter().flat_map(|m| &m.attrs) {
            match a {
                IpvsAttr::TimeoutTcp(v) => t.tcp = *v,
                IpvsAttr::TimeoutTcpFin(v) => t.tcp_fin = *v,
                IpvsAttr::TimeoutUdp(v) => t.udp = *v,
                _ => {}
            }
        }
        Ok(t)
    }

    /// Sets the connection timeouts; a 0 keeps the current value.
    ///
    /// ```
    /// use ipvs::{Client, Timeouts};
    /// let client = Client::mock();
    /// client.set_timeouts(&Timeouts { tcp: 600, tcp_fin: 0, udp: 0 })?;
    /// assert_eq!(client.timeouts()?, Timeouts { tcp: 600, tcp_fin: 120, udp: 300 });
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn set_timeouts(&self, timeouts: &Timeouts) -> Result<(), Error> {
        timeouts.validate().map_err(|e| Error::new(Operation::SetTimeouts, None, e))?;
        self.write(Operation::SetTimeouts, || None, IpvsMessage::set_config(timeouts))
    }

    /// Lists the running sync daemons (master first).
    ///
    /// ```
    /// assert!(ipvs::Client::mock().daemons()?.is_empty());
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn daemons(&self) -> Result<Vec<Daemon>, Error> {
        let op = Operation::ListDaemons;
        let msgs = self.transport.dump(&IpvsMessage::dump_daemons()).map_err(kernel_err(op, || None))?;
        msgs.iter().filter_map(|m| m.daemon()).map(|a| daemon_from_attrs(a).map_err(|e| decode_err(op, e))).collect()
    }

    /// Starts a connection-sync daemon.
    ///
    /// ```
    /// use ipvs::{Client, Daemon, DaemonState};
    /// let client = Client::mock();
    /// client.start_daemon(&Daemon::new(DaemonState::Master, "lo", 1))?;
    /// let running = client.daemons()?;
    /// assert_eq!(running[0].port, Some(8848)); // the kernel's default
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn start_daemon(&self, daemon: &Daemon) -> Result<(), Error> {
        let target = || Some(format!("{} on {}", daemon.state, daemon.interface));
        daemon.validate().map_err(|e| Error::new(Operation::StartDaemon, target(), e))?;
        self.write(Operation::StartDaemon, target, IpvsMessage::new_daemon(daemon))
    }

    /// Stops the sync daemon in `state`.
    ///
    /// ```
    /// use ipvs::{Client, DaemonState, Errno};
    /// let err = Client::mock().stop_daemon(DaemonState::Backup).unwrap_err();
    /// assert_eq!(err.errno(), Some(Errno::ESRCH));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    ///
    /// A master stopped before its kernel thread first ran makes the kernel answer `EINTR`
    /// although the daemon is gone; this call then checks the daemon list and succeeds if
    /// the daemon is no longer running.
    pub fn stop_daemon(&self, state: DaemonState) -> Result<(), Error> {
        let target = || Some(state.to_string());
        match self.transport.request(&IpvsMessage::del_daemon(state)) {
            Ok(_) => Ok(()),
            Err(ErrorKind::Kernel(Errno::EINTR)) if !self.daemons()?.iter().any(|d| d.state == state) => Ok(()),
            Err(kind) => Err(Error::new(Operation::StopDaemon, target(), kind)),
        }
    }

    /// The kernel's IPVS version and connection table size.
    ///
    /// ```
    /// assert_eq!(ipvs::Client::mock().info()?.conn_table_size, 4096);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn info(&self) -> Result<Info, Error> {
        let op = Operation::GetInfo;
        let reply = self.transport.request(&IpvsMessage::get_info()).map_err(kernel_err(op, || None))?;
        let (mut version, mut size) = (None, None);
        for a in reply.iter().flat_map(|m| &m.attrs) {
            match a {
                IpvsAttr::InfoVersion(v) => version = Some(*v),
                IpvsAttr::InfoConnTabSize(v) => size = Some(*v),
                _ => {}
            }
        }
        match (version, size) {
            (Some(v), Some(s)) => Ok(Info { version: Version(v), conn_table_size: s }),
            _ => Err(Error::new(op, None, ErrorKind::UnexpectedReply("info reply without version or size".into()))),
        }
    }

    /// Sends many write requests pipelined on one socket and returns, in order, whether each
    /// succeeded. Build the requests with [`IpvsMessage`]'s constructors.
    ///
    /// ```
    /// use ipvs::wire::IpvsMessage;
    /// use ipvs::{Client, Errno, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let svc = |port| Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), port), Scheduler::Rr);
    /// let out = client.batch(&[
    ///     IpvsMessage::new_service(&svc(80)),
    ///     IpvsMessage::new_service(&svc(80)),
    ///     IpvsMessage::new_service(&svc(443)),
    /// ])?;
    /// assert_eq!(out, vec![Ok(()), Err(Errno::EEXIST), Ok(())]);
    /// assert_eq!(client.transport().counters().round_trips, 1);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn batch(&self, requests: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, Error> {
        if let Some(bad) = requests.iter().find(|m| !is_write(m.cmd)) {
            return Err(Error::new(
                Operation::Batch,
                None,
                crate::error::InvalidInput::new("cmd", format!("{:?}", bad.cmd), "a batch carries write requests only"),
            ));
        }
        self.transport.batch(requests).map_err(kernel_err(Operation::Batch, || None))
    }
}

fn is_write(cmd: IpvsCmd) -> bool {
    use IpvsCmd::*;
    matches!(
        cmd,
        NewService
            | SetService
            | DelService
            | NewDest
            | SetDest
            | DelDest
            | NewDaemon
            | DelDaemon
            | SetConfig
            | Zero
            | Flush
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn clients_are_send_and_sync() {
        assert_send_sync::<Client>();
        assert_send_sync::<Client<MockTransport>>();
        assert_send_sync::<Client<Box<dyn Transport>>>();
    }

    #[test]
    fn invalid_input_sends_nothing() {
        let client = Client::mock();
        let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 0);
        let err = client.add_service(&Service::new(id, crate::Scheduler::Rr)).unwrap_err();
        assert_eq!(err.invalid_input().unwrap().field, "port");
        assert_eq!(client.transport().counters().round_trips, 0);
    }
}
