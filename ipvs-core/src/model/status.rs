//! What the kernel reports: a configured service or destination with its counters, rates and
//! connection counts.

use super::{Destination, Service};

/// Counters and rates of a service or destination (the kernel's 64-bit statistics). Counters
/// run from when the entry was added or last zeroed; rates are the kernel's estimates per
/// second, refreshed every 2 seconds.
///
/// ```
/// use ipvs::Stats;
/// let s = Stats { conns: 3, in_packets: 10, ..Stats::default() };
/// assert_eq!(s.conns, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub in_packets: u64,
    /// Outgoing packets.
    pub out_packets: u64,
    /// Incoming bytes.
    pub in_bytes: u64,
    /// Outgoing bytes.
    pub out_bytes: u64,
    /// Connections per second (rate estimate).
    pub cps: u64,
    /// Incoming packets per second.
    pub in_pps: u64,
    /// Outgoing packets per second.
    pub out_pps: u64,
    /// Incoming bytes per second.
    pub in_bps: u64,
    /// Outgoing bytes per second.
    pub out_bps: u64,
}

/// A service as the kernel reports it: its configuration and its statistics.
///
/// ```
/// use ipvs::{Client, Scheduler, Service, ServiceId};
/// let client = Client::mock();
/// let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
/// client.add_service(&svc)?;
/// let status = client.service(&svc.id)?;
/// assert_eq!(status.service, svc); // configuration compares as configuration
/// assert_eq!(status.stats.conns, 0);
/// # Ok::<(), ipvs::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    /// The configuration.
    pub service: Service,
    /// Counters and rates.
    pub stats: Stats,
}

/// A destination as the kernel reports it: its configuration, connection counts and
/// statistics.
///
/// ```
/// use ipvs::{Client, Destination, Forward, Scheduler, Service, ServiceId};
/// let client = Client::mock();
/// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// client.add_service(&Service::new(id, Scheduler::Rr))?;
/// let d = Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade);
/// client.add_destination(&id, &d)?;
/// let status = &client.destinations(&id)?[0];
/// assert_eq!(status.destination, d);
/// assert_eq!((status.active_conns, status.inactive_conns), (0, 0));
/// # Ok::<(), ipvs::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationStatus {
    /// The configuration.
    pub destination: Destination,
    /// Connections in an active state (TCP established).
    pub active_conns: u32,
    /// Other connections (TCP closing, UDP).
    pub inactive_conns: u32,
    /// Persistence templates pointing at this destination.
    pub persistent_conns: u32,
    /// Counters and rates.
    pub stats: Stats,
}

impl DestinationStatus {
    /// A destination with no connections and zero statistics.
    pub fn idle(destination: Destination) -> Self {
        DestinationStatus {
            destination,
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats::default(),
        }
    }

    /// Active plus inactive connections: what a drain waits for.
    pub fn connections(&self) -> u64 {
        u64::from(self.active_conns) + u64::from(self.inactive_conns)
    }
}
