//! What drives an [`super::Instance`] and what it asks for: [`Event`], [`Action`], and its
//! [`State`] and [`Stats`].

use std::net::IpAddr;

use super::error::DropCounters;
use super::packet::Advert;

/// Where an instance stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Not started, or shut down.
    Initialize,
    /// Watching the master.
    Backup,
    /// Owning the virtual addresses and advertising.
    Master,
    /// Down because of a fault (keepalived's FAULT): no adverts sent or heeded.
    Fault,
}

/// What happens to an instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Start (from Initialize; ignored otherwise).
    Startup,
    /// Stop: a master announces priority 0 and gives the addresses up.
    Shutdown,
    /// Time passed: fire whatever timers are due.
    Timer,
    /// An advertisement whose IP header the caller checked ([`super::validate::check_ip`]);
    /// [`super::Instance::receive`] does all of it from raw bytes. Still checked against the
    /// configuration here.
    Advert {
        /// The IP source address (the sender's primary address).
        source: IpAddr,
        /// The parsed advertisement.
        advert: Advert,
    },
    /// New effective priority from tracking (base plus weights). Clamped to 1..=254; ignored
    /// by an owner, whose priority stays 255 (as keepalived does).
    Priority(u8),
    /// A fault appeared (interface down, tracked object with weight 0 failed).
    Fault,
    /// The faults are gone.
    FaultCleared,
}

/// Which notify script to run (keepalived `notify_master`, `notify_backup`, `notify_fault`,
/// `notify_stop`; `notify` with the state name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Notify {
    /// Became master.
    Master,
    /// Became backup.
    Backup,
    /// Entered fault.
    Fault,
    /// Stopped.
    Stop,
}

/// Role of the IPVS connection sync daemon tied to this instance (keepalived
/// `lvs_sync_daemon`): master when master, backup otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SyncRole {
    /// Run the sync daemon as master (send connection state).
    Master,
    /// Run it as backup (receive connection state).
    Backup,
    /// Stop it.
    Stop,
}

/// What the caller must do, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send this advertisement to [`super::InstanceConfig::destinations`] from the primary address,
    /// TTL/hop limit 255 (bytes: [`super::emit`] or [`super::ip::emit_ipv4`]).
    SendAdvert(Advert),
    /// Add the virtual addresses (becoming master).
    AddAddresses,
    /// Remove the virtual addresses (becoming backup, fault, stop, or at start-up).
    RemoveAddresses,
    /// Gratuitous ARP (IPv4) or unsolicited neighbour advertisement with the router flag
    /// (IPv6) for every virtual address, `repeat` times.
    Announce {
        /// How many per address.
        repeat: u32,
    },
    /// Run the notify scripts for this transition.
    Notify(Notify),
    /// Switch the IPVS sync daemon (only emitted when the role changes).
    SyncDaemon(SyncRole),
}

/// Counters of an instance.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Adverts sent (priority 0 included).
    pub adverts_sent: u64,
    /// Valid adverts processed in Backup or Master.
    pub adverts_received: u64,
    /// Priority 0 adverts sent.
    pub priority_zero_sent: u64,
    /// Priority 0 adverts received.
    pub priority_zero_received: u64,
    /// Dropped adverts by reason.
    pub drops: DropCounters,
    /// Valid adverts received while in Initialize or Fault, hence ignored.
    pub ignored: u64,
    /// Lower-priority adverts a preempting backup discarded.
    pub lower_priority_discarded: u64,
    /// Accepted adverts whose address list differed from ours.
    pub address_mismatches: u64,
    /// Accepted v3 adverts whose interval differed from ours.
    pub interval_mismatches: u64,
    /// Transitions to master.
    pub became_master: u64,
    /// Transitions out of master.
    pub released_master: u64,
    /// State transitions of any kind.
    pub transitions: u64,
    /// Changes of effective priority.
    pub priority_changes: u64,
}
