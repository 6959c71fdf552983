//! A transport that injects failures into another one: refused requests, timeouts before or
//! after a request took effect (a lost acknowledgement), truncated dumps, I/O errors. It is
//! the test device every layer above the transport is tested on for what the kernel and the
//! socket can do to it.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::{BatchOutcome, Transport};
use crate::error::{Errno, ErrorKind};
use crate::wire::{IpvsCmd, IpvsMessage};

/// A failure to inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// The kernel refuses the request with this errno; nothing changes. In a batch, only this
    /// request fails.
    Refuse(Errno),
    /// The call times out before the request reaches the kernel: nothing changes (in a batch,
    /// the requests before it took effect, it and the ones after did not).
    TimeoutBefore,
    /// The request takes effect but its acknowledgement is lost: the call times out (in a
    /// batch, every request took effect and the call times out).
    LoseAck,
    /// The socket fails with this errno before the request is sent: nothing changes (in a
    /// batch, as for `TimeoutBefore`).
    Io(Errno),
    /// A dump returns only its first `n` entries, as if the transport had missed the rest.
    TruncateDump(usize),
}

/// Which messages a fault applies to.
pub enum When {
    /// The `n`th message the transport carries, counting from 1 (every request, dump and
    /// batch member counts).
    Nth(u64),
    /// Every message of this command.
    Command(IpvsCmd),
    /// Every message a predicate accepts.
    Matching(Box<dyn Fn(&IpvsMessage) -> bool + Send + Sync>),
}

impl fmt::Debug for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            When::Nth(n) => write!(f, "Nth({n})"),
            When::Command(c) => write!(f, "Command({c:?})"),
            When::Matching(_) => f.write_str("Matching(..)"),
        }
    }
}

#[derive(Debug)]
struct Rule {
    when: When,
    fault: Fault,
    /// How many more times it fires (None: every time).
    left: Option<u64>,
}

/// The faults a [`FaultTransport`] injects: rules checked in order, the first that matches a
/// message fires.
#[derive(Debug, Default)]
pub struct Faults {
    rules: Vec<Rule>,
}

impl Faults {
    /// No faults.
    pub fn none() -> Self {
        Faults::default()
    }

    /// Injects `fault` once, on the first message `when` matches.
    pub fn once(mut self, when: When, fault: Fault) -> Self {
        self.rules.push(Rule { when, fault, left: Some(1) });
        self
    }

    /// Injects `fault` `times` times.
    pub fn times(mut self, when: When, fault: Fault, times: u64) -> Self {
        self.rules.push(Rule { when, fault, left: Some(times) });
        self
    }

    /// Injects `fault` on every message `when` matches.
    pub fn always(mut self, when: When, fault: Fault) -> Self {
        self.rules.push(Rule { when, fault, left: None });
        self
    }
}

/// Wraps a transport and injects [`Faults`] into what it carries.
///
/// ```
/// use std::sync::Arc;
/// use ipvs::transport::{Fault, FaultTransport, Faults, MockTransport, When};
/// use ipvs::wire::IpvsCmd;
/// use ipvs::{Client, Errno, ErrorKind, Scheduler, Service, ServiceId};
/// let faults = Faults::none().once(When::Command(IpvsCmd::NewService), Fault::LoseAck);
/// let t = Arc::new(FaultTransport::new(MockTransport::new(), faults));
/// let client = Client::with_transport(t.clone());
/// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
/// // The acknowledgement was lost: the call times out, yet the service was added.
/// assert!(matches!(client.add_service(&svc).unwrap_err().kind(), ErrorKind::TimedOut));
/// assert_eq!(client.services()?.len(), 1);
/// assert_eq!(t.injected(), 1);
/// # Ok::<(), ipvs::Error>(())
/// ```
#[derive(Debug)]
pub struct FaultTransport<T> {
    inner: T,
    faults: Mutex<Faults>,
    seen: AtomicU64,
    injected: AtomicU64,
}

impl<T: Transport> FaultTransport<T> {
    /// Wraps `inner` with `faults`.
    pub fn new(inner: T, faults: Faults) -> Self {
        FaultTransport { inner, faults: Mutex::new(faults), seen: AtomicU64::new(0), injected: AtomicU64::new(0) }
    }

    /// The wrapped transport.
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// Replaces the faults still to inject.
    pub fn set_faults(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// How many faults fired so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::Relaxed)
    }

    /// How many messages were carried (or refused) so far.
    pub fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }

    /// The fault for the next message, if one fires.
    fn fault_for(&self, msg: &IpvsMessage) -> Option<Fault> {
        let n = self.seen.fetch_add(1, Ordering::Relaxed) + 1;
        let mut faults = self.faults.lock().unwrap_or_else(|p| p.into_inner());
        for rule in faults.rules.iter_mut() {
            if rule.left == Some(0) {
                continue;
            }
            let hit = match &rule.when {
                When::Nth(k) => *k == n,
                When::Command(c) => *c == msg.cmd,
                When::Matching(p) => p(msg),
            };
            if hit {
                if let Some(left) = rule.left.as_mut() {
                    *left -= 1;
                }
                self.injected.fetch_add(1, Ordering::Relaxed);
                return Some(rule.fault);
            }
        }
        None
    }
}

impl<T: Transport> Transport for FaultTransport<T> {
    fn request(&self, msg: &IpvsMessage) -> Result<Option<IpvsMessage>, ErrorKind> {
        match self.fault_for(msg) {
            None | Some(Fault::TruncateDump(_)) => self.inner.request(msg),
            Some(Fault::Refuse(e)) => Err(ErrorKind::Kernel(e)),
            Some(Fault::TimeoutBefore) => Err(ErrorKind::TimedOut),
            Some(Fault::Io(e)) => Err(ErrorKind::Io(e.into())),
            Some(Fault::LoseAck) => {
                let _ = self.inner.request(msg);
                Err(ErrorKind::TimedOut)
            }
        }
    }

    fn dump(&self, msg: &IpvsMessage) -> Result<Vec<IpvsMessage>, ErrorKind> {
        match self.fault_for(msg) {
            None | Some(Fault::LoseAck) => self.inner.dump(msg),
            Some(Fault::Refuse(e)) => Err(ErrorKind::Kernel(e)),
            Some(Fault::TimeoutBefore) => Err(ErrorKind::TimedOut),
            Some(Fault::Io(e)) => Err(ErrorKind::Io(e.into())),
            Some(Fault::TruncateDump(n)) => {
                let mut all = self.inner.dump(msg)?;
                all.truncate(n);
                Ok(all)
            }
        }
    }

    fn batch(&self, msgs: &[IpvsMessage]) -> Result<Vec<BatchOutcome>, ErrorKind> {
        // Requests run in order; a refusal fails one request, a timeout or socket error ends
        // the call where it happens, a lost acknowledgement ends it after everything ran.
        let mut out = Vec::with_capacity(msgs.len());
        let mut run: Vec<&IpvsMessage> = Vec::new();
        let mut refused: Vec<(usize, Errno)> = Vec::new();
        let mut end = None;
        for (i, m) in msgs.iter().enumerate() {
            match self.fault_for(m) {
                None | Some(Fault::TruncateDump(_)) => run.push(m),
                Some(Fault::Refuse(e)) => refused.push((i, e)),
                Some(Fault::TimeoutBefore) => {
                    end = Some((ErrorKind::TimedOut, false));
                    break;
                }
                Some(Fault::Io(e)) => {
                    end = Some((ErrorKind::Io(e.into()), false));
                    break;
                }
                Some(Fault::LoseAck) => {
                    run.push(m);
                    end = Some((ErrorKind::TimedOut, true));
                }
            }
        }
        let owned: Vec<IpvsMessage> = run.into_iter().cloned().collect();
        let mut results = self.inner.batch(&owned)?.into_iter();
        if let Some((kind, _)) = end {
            return Err(kind);
        }
        let mut refused = refused.into_iter().peekable();
        for i in 0..msgs.len() {
            match refused.peek() {
                Some(&(at, e)) if at == i => {
                    refused.next();
                    out.push(Err(e));
                }
                _ => out.push(results.next().unwrap_or(Ok(()))),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Request, Scheduler, Service, ServiceId};
    use crate::transport::MockTransport;

    fn add(port: u16) -> IpvsMessage {
        IpvsMessage::from(&Request::AddService(Service::new(
            ServiceId::tcp([192, 0, 2, 1].into(), port),
            Scheduler::Rr,
        )))
    }

    fn count(t: &FaultTransport<MockTransport>) -> usize {
        t.inner().dump(&IpvsMessage::dump_services()).unwrap().len()
    }

    #[test]
    fn a_refused_batch_member_fails_alone() {
        let t =
            FaultTransport::new(MockTransport::new(), Faults::none().once(When::Nth(2), Fault::Refuse(Errno::ENOMEM)));
        let out = t.batch(&[add(1), add(2), add(3)]).unwrap();
        assert_eq!(out, vec![Ok(()), Err(Errno::ENOMEM), Ok(())]);
        assert_eq!(count(&t), 2);
    }

    #[test]
    fn a_timeout_mid_batch_keeps_what_ran_before_it() {
        let t = FaultTransport::new(MockTransport::new(), Faults::none().once(When::Nth(3), Fault::TimeoutBefore));
        assert!(matches!(t.batch(&[add(1), add(2), add(3), add(4)]), Err(ErrorKind::TimedOut)));
        assert_eq!(count(&t), 2);
    }

    #[test]
    fn a_lost_ack_mid_batch_ran_everything() {
        let t = FaultTransport::new(MockTransport::new(), Faults::none().once(When::Nth(2), Fault::LoseAck));
        assert!(matches!(t.batch(&[add(1), add(2), add(3)]), Err(ErrorKind::TimedOut)));
        assert_eq!(count(&t), 3);
    }

    #[test]
    fn truncated_dumps_and_repeated_faults() {
        let t = FaultTransport::new(
            MockTransport::new(),
            Faults::none().times(When::Command(IpvsCmd::GetService), Fault::TruncateDump(1), 2),
        );
        t.batch(&[add(1), add(2), add(3)]).unwrap();
        assert_eq!(t.dump(&IpvsMessage::dump_services()).unwrap().len(), 1);
        assert_eq!(t.dump(&IpvsMessage::dump_services()).unwrap().len(), 1);
        assert_eq!(t.dump(&IpvsMessage::dump_services()).unwrap().len(), 3);
        assert_eq!(t.injected(), 2);
    }
}
