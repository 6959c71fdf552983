//! One write to the kernel's IPVS tables, as a typed value.

use std::fmt;
use std::net::SocketAddr;

use super::{Daemon, DaemonState, Destination, Service, ServiceId, Timeouts};
use crate::error::{InvalidInput, Operation};

/// One write request: what [`Client::batch`](crate::Client::batch) takes, what a plan is made
/// of, and what a line of the ipvsadm rule format means.
///
/// ```
/// use ipvs::{Operation, Request, Scheduler, Service, ServiceId};
/// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// let add = Request::AddService(Service::new(id, Scheduler::Rr));
/// assert_eq!(add.operation(), Operation::AddService);
/// assert_eq!(add.to_string(), "add_service TCP 192.0.2.1:80");
/// add.validate().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Request {
    /// Add a virtual service.
    AddService(Service),
    /// Replace a service's settings.
    UpdateService(Service),
    /// Delete a service and its destinations.
    DeleteService(ServiceId),
    /// Add a destination to a service.
    AddDestination {
        /// The service.
        service: ServiceId,
        /// The destination.
        destination: Destination,
    },
    /// Replace a destination's settings.
    UpdateDestination {
        /// The service.
        service: ServiceId,
        /// The destination, with its new settings.
        destination: Destination,
    },
    /// Remove a destination.
    DeleteDestination {
        /// The service.
        service: ServiceId,
        /// The destination's address and port.
        destination: SocketAddr,
    },
    /// Zero the counters of one service, or of everything.
    Zero(Option<ServiceId>),
    /// Delete every service.
    Flush,
    /// Set the connection timeouts (0 keeps a value).
    SetTimeouts(Timeouts),
    /// Start a connection-sync daemon.
    StartDaemon(Daemon),
    /// Stop the sync daemon in this state.
    StopDaemon(DaemonState),
}

impl Request {
    /// The operation, as the client names it.
    pub fn operation(&self) -> Operation {
        match self {
            Request::AddService(_) => Operation::AddService,
            Request::UpdateService(_) => Operation::UpdateService,
            Request::DeleteService(_) => Operation::DeleteService,
            Request::AddDestination { .. } => Operation::AddDestination,
            Request::UpdateDestination { .. } => Operation::UpdateDestination,
            Request::DeleteDestination { .. } => Operation::DeleteDestination,
            Request::Zero(_) => Operation::Zero,
            Request::Flush => Operation::Flush,
            Request::SetTimeouts(_) => Operation::SetTimeouts,
            Request::StartDaemon(_) => Operation::StartDaemon,
            Request::StopDaemon(_) => Operation::StopDaemon,
        }
    }

    /// The object it acts on, as errors name it (`TCP 192.0.2.1:80`,
    /// `TCP 192.0.2.1:80 -> 198.51.100.1:80`, `master on eth0`).
    pub fn target(&self) -> Option<String> {
        match self {
            Request::AddService(s) | Request::UpdateService(s) => Some(s.id.to_string()),
            Request::DeleteService(id) | Request::Zero(Some(id)) => Some(id.to_string()),
            Request::AddDestination { service, destination } | Request::UpdateDestination { service, destination } => {
                Some(format!("{service} -> {}", destination.socket_addr()))
            }
            Request::DeleteDestination { service, destination } => Some(format!("{service} -> {destination}")),
            Request::StartDaemon(d) => Some(format!("{} on {}", d.state, d.interface)),
            Request::StopDaemon(state) => Some(state.to_string()),
            Request::Zero(None) | Request::Flush | Request::SetTimeouts(_) => None,
        }
    }

    /// The service it acts on, if any.
    pub fn service_id(&self) -> Option<&ServiceId> {
        match self {
            Request::AddService(s) | Request::UpdateService(s) => Some(&s.id),
            Request::DeleteService(id) | Request::Zero(Some(id)) => Some(id),
            Request::AddDestination { service, .. }
            | Request::UpdateDestination { service, .. }
            | Request::DeleteDestination { service, .. } => Some(service),
            _ => None,
        }
    }

    /// Checks everything that can be checked before sending: what the kernel would reject.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        match self {
            Request::AddService(s) | Request::UpdateService(s) => s.validate(),
            Request::DeleteService(id) | Request::Zero(Some(id)) => id.validate(),
            Request::AddDestination { service, destination } | Request::UpdateDestination { service, destination } => {
                service.validate().and_then(|_| destination.validate_for(service))
            }
            Request::DeleteDestination { service, .. } => service.validate(),
            Request::SetTimeouts(t) => t.validate(),
            Request::StartDaemon(d) => d.validate(),
            Request::Zero(None) | Request::Flush | Request::StopDaemon(_) => Ok(()),
        }
    }
}

impl fmt::Display for Request {
    /// The operation and its target: `add_destination TCP 192.0.2.1:80 -> 198.51.100.1:80`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.target() {
            Some(t) => write!(f, "{} {t}", self.operation()),
            None => write!(f, "{}", self.operation()),
        }
    }
}
