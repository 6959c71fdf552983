//! A whole IPVS configuration: services with their destinations, and the timeouts.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;

use super::policy::DrainPolicy;
use crate::error::InvalidInput;
use crate::model::{Destination, DestinationStatus, Request, Service, ServiceId, ServiceStatus, Stats, Timeouts};
use crate::rules;

/// A whole IPVS configuration: services with their destinations (configuration; where the
/// table was read from the kernel, status alongside), and the connection timeouts.
///
/// Equality and hashing compare configuration only: a table read from the kernel equals the
/// desired table it was made from, whatever traffic did.
///
/// ```
/// use ipvs::state::Table;
/// use ipvs::{Destination, Forward, Scheduler, Service, ServiceId};
/// let mut t = Table::new();
/// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// t.add_service(Service::new(id, Scheduler::Wrr))?;
/// t.add_destination(&id, Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade))?;
/// assert_eq!(t.len(), 1);
/// assert_eq!(t.to_rules(), "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1\n");
/// assert!(t.add_service(Service::new(id, Scheduler::Rr)).is_err()); // named twice
/// # Ok::<(), ipvs::InvalidInput>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct Table {
    entries: BTreeMap<ServiceId, Entry>,
    timeouts: Option<Timeouts>,
}

/// One service of a [`Table`] with its destinations.
#[derive(Debug, Clone)]
pub struct Entry {
    service: Service,
    stats: Stats,
    destinations: BTreeMap<SocketAddr, DestinationStatus>,
    drain: Option<DrainPolicy>,
}

impl Entry {
    fn new(service: Service, stats: Stats) -> Entry {
        Entry { service, stats, destinations: BTreeMap::new(), drain: None }
    }

    /// The service's configuration.
    pub fn service(&self) -> &Service {
        &self.service
    }

    /// The service's statistics (zero for a table not read from the kernel).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The service with its statistics.
    pub fn status(&self) -> ServiceStatus {
        ServiceStatus { service: self.service.clone(), stats: self.stats }
    }

    /// The destinations, in address order, with their status (idle for a table not read from
    /// the kernel).
    pub fn destinations(&self) -> impl ExactSizeIterator<Item = &DestinationStatus> + '_ {
        self.destinations.values()
    }

    /// One destination.
    pub fn destination(&self, addr: &SocketAddr) -> Option<&DestinationStatus> {
        self.destinations.get(addr)
    }

    /// How this service's destinations leave it, if the desired state says (otherwise the
    /// plan's policy decides).
    pub fn drain(&self) -> Option<DrainPolicy> {
        self.drain
    }

    /// Sets how this service's destinations leave it.
    pub fn set_drain(&mut self, drain: Option<DrainPolicy>) {
        self.drain = drain;
    }

    /// Adds a destination, validated for this service; a destination named twice is an error.
    pub fn add_destination(&mut self, destination: Destination) -> Result<(), InvalidInput> {
        destination.validate_for(&self.service.id)?;
        let addr = destination.socket_addr();
        if self.destinations.contains_key(&addr) {
            return Err(InvalidInput::new("destination", addr, format!("named twice in service {}", self.service.id)));
        }
        self.destinations.insert(addr, DestinationStatus::idle(destination));
        Ok(())
    }

    /// Removes a destination; whether there was one.
    pub fn remove_destination(&mut self, addr: &SocketAddr) -> bool {
        self.destinations.remove(addr).is_some()
    }

    fn same_configuration(&self, other: &Entry) -> bool {
        self.service == other.service
            && self.destinations.len() == other.destinations.len()
            && self.destinations.values().zip(other.destinations.values()).all(|(a, b)| a.destination == b.destination)
    }
}

impl Table {
    /// An empty table.
    pub fn new() -> Table {
        Table::default()
    }

    /// Adds a service, validated; a service named twice is an error.
    pub fn add_service(&mut self, service: Service) -> Result<&mut Entry, InvalidInput> {
        service.validate()?;
        if self.entries.contains_key(&service.id) {
            return Err(InvalidInput::new("service", service.id, "named twice"));
        }
        let id = service.id;
        Ok(self.entries.entry(id).or_insert(Entry::new(service, Stats::default())))
    }

    /// Adds a destination to a service of the table.
    pub fn add_destination(&mut self, service: &ServiceId, destination: Destination) -> Result<(), InvalidInput> {
        self.entries
            .get_mut(service)
            .ok_or_else(|| InvalidInput::new("service", service, "not in the table"))?
            .add_destination(destination)
    }

    /// Puts a service as the kernel reports it, with its destinations, into the table (no
    /// validation: the kernel's table is what it is). Replaces a service of the same identity.
    pub fn insert_status(&mut self, service: ServiceStatus, destinations: impl IntoIterator<Item = DestinationStatus>) {
        let mut e = Entry::new(service.service, service.stats);
        for d in destinations {
            e.destinations.insert(d.destination.socket_addr(), d);
        }
        self.entries.insert(e.service.id, e);
    }

    /// Puts an entry (a service with its destinations, as another table has it) into the
    /// table, replacing one of the same identity.
    pub(crate) fn insert_entry(&mut self, e: Entry) {
        self.entries.insert(e.service.id, e);
    }

    /// Removes a service; whether there was one.
    pub fn remove_service(&mut self, id: &ServiceId) -> bool {
        self.entries.remove(id).is_some()
    }

    /// One service.
    pub fn entry(&self, id: &ServiceId) -> Option<&Entry> {
        self.entries.get(id)
    }

    /// One service, to change.
    pub fn entry_mut(&mut self, id: &ServiceId) -> Option<&mut Entry> {
        self.entries.get_mut(id)
    }

    /// The services, in identity order.
    pub fn entries(&self) -> impl ExactSizeIterator<Item = &Entry> + '_ {
        self.entries.values()
    }

    /// Whether the table has this service.
    pub fn contains(&self, id: &ServiceId) -> bool {
        self.entries.contains_key(id)
    }

    /// How many services.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many destinations over all services.
    pub fn destination_count(&self) -> usize {
        self.entries.values().map(|e| e.destinations.len()).sum()
    }

    /// The connection timeouts, if the table sets (or, read from the kernel, has) them.
    pub fn timeouts(&self) -> Option<Timeouts> {
        self.timeouts
    }

    /// Sets the connection timeouts (None: the table does not manage them).
    pub fn set_timeouts(&mut self, timeouts: Option<Timeouts>) {
        self.timeouts = timeouts;
    }

    /// Checks every service and destination as the client would before sending them.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        if let Some(t) = &self.timeouts {
            t.validate()?;
            if t.tcp == 0 || t.tcp_fin == 0 || t.udp == 0 {
                return Err(InvalidInput::new(
                    "timeouts",
                    format!("{} {} {}", t.tcp, t.tcp_fin, t.udp),
                    "a table gives every timeout a value (0 is not one)",
                ));
            }
        }
        for e in self.entries.values() {
            e.service.validate()?;
            for d in e.destinations.values() {
                d.destination.validate_for(&e.service.id)?;
            }
        }
        Ok(())
    }

    /// The requests that build this table from an empty one: each service, then its
    /// destinations (and the timeouts first, if the table sets them).
    pub fn requests(&self) -> Vec<Request> {
        let mut out = Vec::with_capacity(self.len() + self.destination_count() + 1);
        if let Some(t) = self.timeouts {
            out.push(Request::SetTimeouts(t));
        }
        for e in self.entries.values() {
            out.push(Request::AddService(e.service.clone()));
            for d in e.destinations.values() {
                out.push(Request::AddDestination { service: e.service.id, destination: d.destination.clone() });
            }
        }
        out
    }

    /// The table as ipvsadm rules that `ipvsadm -R` and [`Table::from_rules`] read back as
    /// the same table: [`requests`](Table::requests) as command lines. Unlike `ipvsadm -S`
    /// (which [`rules::render`] reproduces) nothing is lost: thresholds are kept (`-x`, `-y`)
    /// and timeouts are a `--set` line.
    pub fn to_rules(&self) -> String {
        let mut out = String::new();
        for r in self.requests() {
            out.push_str(&rules::request_line(&r, &rules::Numeric));
            out.push('\n');
        }
        out
    }

    /// A table from ipvsadm rules: `-A` and `-a` lines (what `ipvsadm -S` saves), and `--set`
    /// for the timeouts. Any other command is an error naming its line: a saved table holds
    /// no deletions or edits.
    ///
    /// ```
    /// use ipvs::state::Table;
    /// let t = Table::from_rules("-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m\n")?;
    /// assert_eq!(t.destination_count(), 1);
    /// assert!(Table::from_rules("-D -t 192.0.2.1:80\n").is_err());
    /// # Ok::<(), ipvs::rules::RuleError>(())
    /// ```
    pub fn from_rules(text: &str) -> Result<Table, rules::RuleError> {
        let mut t = Table::new();
        for (line, r) in rules::parse(text)? {
            let err = |error| rules::RuleError { line, error };
            match r {
                Request::AddService(s) => {
                    t.add_service(s).map_err(err)?;
                }
                Request::AddDestination { service, destination } => {
                    t.add_destination(&service, destination).map_err(err)?
                }
                Request::SetTimeouts(timeouts) => t.timeouts = Some(timeouts),
                other => {
                    return Err(err(InvalidInput::new(
                        "command",
                        other.operation(),
                        "a table holds services (-A), destinations (-a) and timeouts (--set)",
                    )))
                }
            }
        }
        Ok(t)
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Table) -> bool {
        self.timeouts == other.timeouts
            && self.entries.len() == other.entries.len()
            && self.entries.values().zip(other.entries.values()).all(|(a, b)| a.same_configuration(b))
    }
}

impl Eq for Table {}

impl Hash for Table {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.timeouts.hash(state);
        for e in self.entries.values() {
            e.service.hash(state);
            for d in e.destinations.values() {
                d.destination.hash(state);
            }
        }
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Entry) -> bool {
        self.same_configuration(other)
    }
}

impl Eq for Entry {}
