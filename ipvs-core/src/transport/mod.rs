//! The one seam between the client and the kernel.
//!
//! A [`Transport`] carries [`IpvsMessage`]s: single requests, dumps, and pipelined batches of
//! writes. [`NetlinkTransport`] talks to the kernel; [`MockTransport`] is an in-memory model
//! of the kernel's IPVS tables that enforces the kernel's rules and answers its errnos, so
//! everything above this seam can be tested without root; [`FaultTransport`] wraps either and
//! injects failures (errnos, timeouts, lost acknowledgements, truncated dumps, batches cut
//! short) to show what the layers above do with them.

mod fault;
mod mock;
mod netlink;

pub use fault::{Fault, FaultTransport, Faults, When};
pub use mock::{MockCounters, MockTransport, MockTransportBuilder};
pub use netlink::{NetlinkTransport, NetlinkTransportBuilder, MAX_DUMP_RETRIES, MAX_DUMP_SOCKETS, MAX_TIMEOUT};

use crate::error::{Errno, ErrorKind};
use crate::wire::IpvsMessage;

/// The outcome of one request of a [`Transport::batch`].
pub type BatchOutcome = Result<(), Errno>;

/// Carries IPVS requests to the kernel (or a model of it) and brings back the answers.
///
/// ```
/// use ipvs::transport::{MockTransport, Transport};
/// use ipvs::wire::IpvsMessage;
/// use ipvs::{Errno, Request, Scheduler, Service, ServiceId};
/// let t = MockTransport::new();
/// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
/// let add = IpvsMessage::from(&Request::AddService(svc));
/// let out = t.batch(&[add.clone(), add]).unwrap();
/// assert_eq!(out, vec![Ok(()), Err(Errno::EEXIST)]);
/// assert_eq!(t.dump(&IpvsMessage::dump_services()).unwrap().len(), 1);
/// ```
pub trait Transport: Send + Sync {
    /// Sends one request and waits for its acknowledgement: `Ok(Some(reply))` when the
    /// kernel answered with a message (GET_SERVICE, GET_INFO, GET_CONFIG), `Ok(None)` for a
    /// bare acknowledgement, `Err(ErrorKind::Kernel(errno))` when it refused.
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind>;

    /// Sends a dump request and returns every message of the dump. A dump the kernel flags as
    /// interrupted by concurrent changes is retried a bounded number of times.
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind>;

    /// Pipelines write requests and returns, in order, whether each succeeded. The `Err` of
    /// the outer result means the batch as a whole could not be carried out (I/O).
    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind>;

    /// Several dumps, each as [`dump`](Transport::dump) makes it (with its own timeout), their
    /// messages in the order of `msgs`; the first failure fails the call. The default makes
    /// them one after the other; [`NetlinkTransport`] spreads them over several sockets.
    fn dumps(&self, msgs: &[IpvsMessage]) -> Result<Vec<Vec<IpvsMessage>>, ErrorKind> {
        msgs.iter().map(|m| self.dump(m)).collect()
    }
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        (**self).request(msg)
    }
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        (**self).dump(msg)
    }
    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        (**self).batch(msgs)
    }
    fn dumps(&self, msgs: &[IpvsMessage]) -> Result<Vec<Vec<IpvsMessage>>, ErrorKind> {
        (**self).dumps(msgs)
    }
}

impl<T: Transport + ?Sized> Transport for &T {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        (**self).request(msg)
    }
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        (**self).dump(msg)
    }
    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        (**self).batch(msgs)
    }
    fn dumps(&self, msgs: &[IpvsMessage]) -> Result<Vec<Vec<IpvsMessage>>, ErrorKind> {
        (**self).dumps(msgs)
    }
}

impl<T: Transport + ?Sized> Transport for std::sync::Arc<T> {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        (**self).request(msg)
    }
    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        (**self).dump(msg)
    }
    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        (**self).batch(msgs)
    }
    fn dumps(&self, msgs: &[IpvsMessage]) -> Result<Vec<Vec<IpvsMessage>>, ErrorKind> {
        (**self).dumps(msgs)
    }
}
