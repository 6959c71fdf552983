//! The client: typed IPVS operations over any [`Transport`]. Its public functions take and
//! return model types only.

use std::net::SocketAddr;
use std::path::Path;

use crate::error::{Errno, Error, ErrorKind, InvalidInput, Operation};
use crate::model::{
    Daemon, DaemonState, Destination, DestinationStatus, Info, Request, Service, ServiceId, ServiceStatus, Timeouts,
};
use crate::transport::{MockTransport, NetlinkTransport, Transport};
use crate::wire::IpvsMessage;

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
/// assert_eq!(dests.iter().map(|d| d.destination.weight).sum::<u32>(), 4);
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
    /// for status in client.services()? {
    ///     println!("{} {}", status.service.id, status.service.scheduler);
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

fn decode_err(op: Operation, target: Option<String>, e: crate::wire::DecodeError) -> Error {
    Error::new(op, target, ErrorKind::Decode(e.to_string()))
}

impl<T: Transport> Client<T> {
    /// A client over any transport. To look at a transport while a client uses it (a mock's
    /// counters), share it: `Client::with_transport(Arc::clone(&mock))` or `&mock`.
    ///
    /// ```
    /// use ipvs::{transport::MockTransport, Client, Errno};
    /// let mock = MockTransport::builder().privileged(false).build();
    /// let client = Client::with_transport(&mock);
    /// assert_eq!(client.services().unwrap_err().errno(), Errno::EPERM);
    /// assert_eq!(mock.counters().round_trips, 1);
    /// ```
    pub fn with_transport(transport: T) -> Self {
        Client { transport }
    }

    /// Validates and sends one write.
    fn write(
        &self,
        op: Operation,
        target: impl Fn() -> Option<String>,
        check: Result<(), InvalidInput>,
        msg: impl FnOnce() -> IpvsMessage,
    ) -> Result<(), Error> {
        check.map_err(|e| Error::new(op, target(), e))?;
        self.transport.request(&msg()).map(|_| ()).map_err(|k| Error::new(op, target(), k))
    }

    /// Sends one write request, validated first.
    ///
    /// ```
    /// use ipvs::{Client, Request, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
    /// client.execute(&Request::AddService(svc))?;
    /// client.execute(&Request::Flush)?;
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn execute(&self, request: &Request) -> Result<(), Error> {
        if let Request::StopDaemon(state) = request {
            return self.stop_daemon(*state);
        }
        self.write(request.operation(), || request.target(), request.validate(), || IpvsMessage::from(request))
    }

    /// Adds a virtual service.
    ///
    /// ```
    /// use ipvs::{Client, Errno, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
    /// client.add_service(&svc)?;
    /// assert_eq!(client.add_service(&svc).unwrap_err().errno(), Errno::EEXIST);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn add_service(&self, service: &Service) -> Result<(), Error> {
        let target = || Some(service.id.to_string());
        self.write(Operation::AddService, target, service.validate(), || IpvsMessage::add_service(service))
    }

    /// Replaces a service's settings (scheduler, flags, persistence, engine) with `service`'s.
    ///
    /// ```
    /// use ipvs::{Client, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// client.add_service(&Service::new(id, Scheduler::Rr))?;
    /// client.update_service(&Service::new(id, Scheduler::Sh).with_persistence(60))?;
    /// let now = client.service(&id)?.service;
    /// assert_eq!(now.scheduler, Scheduler::Sh);
    /// assert_eq!(now.persistence_timeout(), Some(60));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn update_service(&self, service: &Service) -> Result<(), Error> {
        let target = || Some(service.id.to_string());
        self.write(Operation::UpdateService, target, service.validate(), || IpvsMessage::update_service(service))
    }

    /// Deletes a service and its destinations.
    ///
    /// ```
    /// use ipvs::{Client, Errno, Family, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let id = ServiceId::fwmark(5, Family::Inet);
    /// client.add_service(&Service::new(id, Scheduler::Lc))?;
    /// client.delete_service(&id)?;
    /// assert_eq!(client.delete_service(&id).unwrap_err().errno(), Errno::ESRCH);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn delete_service(&self, id: &ServiceId) -> Result<(), Error> {
        let target = || Some(id.to_string());
        self.write(Operation::DeleteService, target, id.validate(), || IpvsMessage::delete_service(id))
    }

    /// Reads one service, with its statistics.
    ///
    /// ```
    /// use ipvs::{Client, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let svc = Service::new(ServiceId::udp("2001:db8::53".parse().unwrap(), 53), Scheduler::Sed);
    /// client.add_service(&svc)?;
    /// assert_eq!(client.service(&svc.id)?.service, svc);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn service(&self, id: &ServiceId) -> Result<ServiceStatus, Error> {
        let op = Operation::GetService;
        let target = || Some(id.to_string());
        id.validate().map_err(|e| Error::new(op, target(), e))?;
        let reply = self.transport.request(&IpvsMessage::get_service(id)).map_err(|k| Error::new(op, target(), k))?;
        let reply = reply
            .ok_or_else(|| Error::new(op, target(), ErrorKind::UnexpectedReply("no service in the reply".into())))?;
        reply.to_service_status().map_err(|e| decode_err(op, target(), e))
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
    pub fn services(&self) -> Result<Vec<ServiceStatus>, Error> {
        let op = Operation::ListServices;
        let msgs = self.transport.dump(&IpvsMessage::dump_services()).map_err(|k| Error::new(op, None, k))?;
        msgs.iter().map(|m| m.to_service_status().map_err(|e| decode_err(op, None, e))).collect()
    }

    /// Adds a destination to a service.
    ///
    /// ```
    /// use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId, Tunnel, TunnelFlags};
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
        let target = || Some(format!("{service} -> {}", dest.socket_addr()));
        let check = service.validate().and_then(|_| dest.validate_for(service));
        self.write(Operation::AddDestination, target, check, || IpvsMessage::add_destination(service, dest))
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
    /// assert_eq!(client.destinations(&id)?[0].destination.weight, 0);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn update_destination(&self, service: &ServiceId, dest: &Destination) -> Result<(), Error> {
        let target = || Some(format!("{service} -> {}", dest.socket_addr()));
        let check = service.validate().and_then(|_| dest.validate_for(service));
        self.write(Operation::UpdateDestination, target, check, || IpvsMessage::update_destination(service, dest))
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
    /// assert_eq!(client.delete_destination(&id, addr).unwrap_err().errno(), Errno::ENOENT);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn delete_destination(&self, service: &ServiceId, dest: SocketAddr) -> Result<(), Error> {
        let target = || Some(format!("{service} -> {dest}"));
        self.write(Operation::DeleteDestination, target, service.validate(), || {
            IpvsMessage::delete_destination(service, &dest)
        })
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
    pub fn destinations(&self, service: &ServiceId) -> Result<Vec<DestinationStatus>, Error> {
        let op = Operation::ListDestinations;
        let target = || Some(service.to_string());
        service.validate().map_err(|e| Error::new(op, target(), e))?;
        let msgs =
            self.transport.dump(&IpvsMessage::dump_destinations(service)).map_err(|k| Error::new(op, target(), k))?;
        let family = service.family();
        msgs.iter().map(|m| m.to_destination_status(family).map_err(|e| decode_err(op, target(), e))).collect()
    }

    /// The destinations of each of `services`, in their order: [`Client::destinations`] for
    /// many services at once, which a transport may make in parallel (the kernel transport
    /// spreads them over several sockets).
    ///
    /// ```
    /// use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
    /// let client = Client::mock();
    /// let (a, b) = (ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), ServiceId::tcp("192.0.2.2".parse().unwrap(), 80));
    /// client.add_service(&Service::new(a, Scheduler::Rr))?;
    /// client.add_destination(&a, &Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade))?;
    /// let each = client.destinations_of(&[a, b])?;
    /// assert_eq!((each[0].len(), each[1].len()), (1, 0));
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn destinations_of(&self, services: &[ServiceId]) -> Result<Vec<Vec<DestinationStatus>>, Error> {
        let op = Operation::ListDestinations;
        for s in services {
            s.validate().map_err(|e| Error::new(op, Some(s.to_string()), e))?;
        }
        let requests: Vec<IpvsMessage> = services.iter().map(IpvsMessage::dump_destinations).collect();
        let dumps = self.transport.dumps(&requests).map_err(|k| Error::new(op, None, k))?;
        if dumps.len() != services.len() {
            let k = ErrorKind::UnexpectedReply(format!("{} dumps for {} requests", dumps.len(), services.len()));
            return Err(Error::new(op, None, k));
        }
        services
            .iter()
            .zip(dumps)
            .map(|(s, msgs)| {
                let family = s.family();
                msgs.iter()
                    .map(|m| m.to_destination_status(family).map_err(|e| decode_err(op, Some(s.to_string()), e)))
                    .collect()
            })
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
        self.write(Operation::Flush, || None, Ok(()), IpvsMessage::flush)
    }

    /// Zeroes the counters of one service (and its destinations), or of everything.
    ///
    /// ```
    /// use ipvs::{Client, Errno, ServiceId};
    /// let client = Client::mock();
    /// client.zero(None)?;
    /// let missing = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
    /// assert_eq!(client.zero(Some(&missing)).unwrap_err().errno(), Errno::ESRCH);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn zero(&self, service: Option<&ServiceId>) -> Result<(), Error> {
        let target = || service.map(|s| s.to_string());
        let check = service.map_or(Ok(()), |s| s.validate());
        self.write(Operation::Zero, target, check, || IpvsMessage::zero(service))
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
        let reply = self.transport.request(&IpvsMessage::get_timeouts()).map_err(|k| Error::new(op, None, k))?;
        reply
            .map(|m| m.to_timeouts())
            .ok_or_else(|| Error::new(op, None, ErrorKind::UnexpectedReply("no timeouts in the reply".into())))
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
        self.write(Operation::SetTimeouts, || None, timeouts.validate(), || IpvsMessage::set_timeouts(timeouts))
    }

    /// Lists the running sync daemons (master first).
    ///
    /// ```
    /// assert!(ipvs::Client::mock().daemons()?.is_empty());
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn daemons(&self) -> Result<Vec<Daemon>, Error> {
        let op = Operation::ListDaemons;
        let msgs = self.transport.dump(&IpvsMessage::dump_daemons()).map_err(|k| Error::new(op, None, k))?;
        msgs.iter().map(|m| m.to_daemon().map_err(|e| decode_err(op, None, e))).collect()
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
        self.write(Operation::StartDaemon, target, daemon.validate(), || IpvsMessage::start_daemon(daemon))
    }

    /// Stops the sync daemon in `state`.
    ///
    /// ```
    /// use ipvs::{Client, DaemonState, Errno};
    /// let err = Client::mock().stop_daemon(DaemonState::Backup).unwrap_err();
    /// assert_eq!(err.errno(), Errno::ESRCH);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    ///
    /// A master stopped before its kernel thread first ran makes the kernel answer `EINTR`
    /// although the daemon is gone; this call then checks the daemon list and succeeds if
    /// the daemon is no longer running.
    pub fn stop_daemon(&self, state: DaemonState) -> Result<(), Error> {
        let target = || Some(state.to_string());
        match self.transport.request(&IpvsMessage::stop_daemon(state)) {
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
        let reply = self.transport.request(&IpvsMessage::get_info()).map_err(|k| Error::new(op, None, k))?;
        let reply =
            reply.ok_or_else(|| Error::new(op, None, ErrorKind::UnexpectedReply("no info in the reply".into())))?;
        reply.to_info().map_err(|e| decode_err(op, None, e))
    }

    /// Sends many write requests pipelined on one socket and returns, in order, the outcome of
    /// each: its error names its request (operation and target). Every request is validated
    /// first; if one is invalid, nothing is sent and that request's error is returned. The
    /// outer `Err` means the batch as a whole could not be carried out (invalid input, I/O, a
    /// timeout): which of its requests took effect is then unknown, and a re-read tells.
    /// Sync daemons are started and stopped one by one (the kernel may answer them late).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use ipvs::transport::MockTransport;
    /// use ipvs::{Client, Errno, Request, Scheduler, Service, ServiceId};
    /// let mock = Arc::new(MockTransport::new());
    /// let client = Client::with_transport(mock.clone());
    /// let svc = |port| Request::AddService(Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), port), Scheduler::Rr));
    /// let out = client.batch(&[svc(80), svc(80), svc(443)])?;
    /// assert!(out[0].is_ok() && out[2].is_ok());
    /// let err = out[1].as_ref().unwrap_err();
    /// assert_eq!(err.errno(), Errno::EEXIST);
    /// assert_eq!(err.to_string(), "add_service TCP 192.0.2.1:80: File exists (EEXIST)");
    /// assert_eq!(mock.counters().round_trips, 1);
    /// # Ok::<(), ipvs::Error>(())
    /// ```
    pub fn batch(&self, requests: &[Request]) -> Result<Vec<Result<(), Error>>, Error> {
        for r in requests {
            r.validate().map_err(|e| Error::new(r.operation(), r.target(), e))?;
        }
        let mut out = Vec::with_capacity(requests.len());
        let mut start = 0;
        while start < requests.len() {
            // Runs of table writes go in one pipelined batch; daemon commands one by one.
            let daemon = |r: &Request| matches!(r, Request::StartDaemon(_) | Request::StopDaemon(_));
            if daemon(&requests[start]) {
                out.push(self.execute(&requests[start]));
                start += 1;
                continue;
            }
            let end = requests[start..].iter().position(daemon).map_or(requests.len(), |p| start + p);
            let run = &requests[start..end];
            let msgs: Vec<IpvsMessage> = run.iter().map(IpvsMessage::from).collect();
            let outcomes = self.transport.batch(&msgs).map_err(|k| Error::new(Operation::Batch, None, k))?;
            for (r, o) in run.iter().zip(outcomes) {
                out.push(o.map_err(|e| Error::new(r.operation(), r.target(), e)));
            }
            start = end;
        }
        Ok(out)
    }
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
        assert_send_sync::<Client<&MockTransport>>();
    }

    #[test]
    fn invalid_input_sends_nothing() {
        let mock = MockTransport::new();
        let client = Client::with_transport(&mock);
        let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 0);
        let err = client.add_service(&Service::new(id, crate::Scheduler::Rr)).unwrap_err();
        assert_eq!(err.invalid_input().unwrap().field, "port");
        assert_eq!(err.errno(), Errno::EINVAL);
        assert_eq!(err.kernel_errno(), None);
        let bad = Request::AddService(Service::new(id, crate::Scheduler::Rr));
        let err = client.batch(&[Request::Flush, bad]).unwrap_err();
        assert_eq!(err.operation(), Operation::AddService);
        assert_eq!(mock.counters().round_trips, 0);
    }
}
