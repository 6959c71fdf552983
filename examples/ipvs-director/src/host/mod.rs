//! The machine the director acts on, behind one trait: every effect on it (virtual addresses
//! added and removed, adverts, gratuitous ARP and neighbour advertisements sent, links and
//! addresses read, the IPVS table and sync daemon written) is a method of [`Host`].
//!
//! * [`Kernel`]: the real machine (rtnetlink, raw sockets, the IPVS client), in the network
//!   namespace the daemon was given or its own;
//! * [`Fake`]: a machine in memory that records each effect as an [`Effect`], for tests
//!   without root;
//! * [`net`]: the sockets [`Kernel`] uses.
//!
//! A leaf module: it imports nothing from the rest of the crate, and the daemon and
//! failover both build on it (the shared [`Ipvs`] client and [`lock`] live here).

pub mod fake;
mod kernel;
pub mod net;

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex, MutexGuard};

use ipvs_vrrp::{AdvertError, IpMeta};
use tokio::sync::mpsc;

pub use fake::{Effect, Fake};
pub use ipvs_realserver::rtnl::Addr;
pub use kernel::Kernel;

/// The client every part shares.
pub type Ipvs = ipvs::Client<Arc<dyn ipvs::transport::Transport>>;

/// Why the machine refused or could not be asked (the kernel's errno kept, when it refused).
pub type HostError = ipvs_realserver::Error;

/// A lock whose holder panicked is still usable: the state it guards stays consistent
/// (every writer finishes its change before releasing it).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The interface an instance runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Its name.
    pub name: String,
    /// Its index.
    pub index: u32,
    /// Its hardware address (6 bytes on Ethernet; empty on links without one).
    pub mac: Vec<u8>,
}

/// A virtual address and the interface it goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vip {
    /// The address.
    pub address: IpAddr,
    /// Its prefix length.
    pub prefix_len: u8,
    /// The interface.
    pub iface: Interface,
}

/// One link as tracking sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkState {
    /// Its name.
    pub name: String,
    /// Its index.
    pub index: u32,
    /// Administratively up and running (with a carrier).
    pub up: bool,
    /// Its hardware address (empty when it has none).
    pub mac: Vec<u8>,
}

impl LinkState {
    /// The interface this link is.
    pub fn interface(&self) -> Interface {
        Interface { name: self.name.clone(), index: self.index, mac: self.mac.clone() }
    }
}

/// What an instance's receiver hands over: a packet's IP facts and its VRRP payload, or why
/// its IP layer is refused; an error reading the socket.
pub type Incoming = io::Result<Result<(IpMeta, Vec<u8>), AdvertError>>;

/// Every effect on the machine.
///
/// Every method but [`Host::ipvs`] may block (a netlink round trip, a namespace entered, a
/// socket opened), and so may the IPVS client's calls: callers on the event loop run them
/// off it, with `tokio::task::spawn_blocking`. [`Host::open_receiver`] must be called
/// within the async runtime (on it or on one of its blocking threads): the receiver may
/// need it.
pub trait Host: Send + Sync + 'static {
    /// The IPVS client: every write to the table and to the sync daemon.
    fn ipvs(&self) -> &Ipvs;

    /// Every address of every interface.
    fn addresses(&self) -> Result<Vec<Addr>, HostError>;

    /// Whether `address` is on an interface of the machine: what `ha_suspend` asks before a
    /// check runs (true when the addresses cannot be read).
    fn address_is_local(&self, address: IpAddr) -> bool {
        self.addresses().map(|list| list.iter().any(|a| a.ip == address)).unwrap_or(true)
    }

    /// Every link, up (and running) or not.
    fn links(&self) -> Result<Vec<LinkState>, HostError>;

    /// Adds a virtual address: `Ok(true)` when added, `Ok(false)` when it was there already.
    fn add_address(&self, vip: &Vip) -> Result<bool, HostError>;

    /// Removes a virtual address: `Ok(true)` when removed, `Ok(false)` when it was not there
    /// (or its interface is gone).
    fn remove_address(&self, vip: &Vip) -> Result<bool, HostError>;

    /// Starts receiving VRRP packets on `iface` (joined to `group` unless unicast), IPv6
    /// ones when `ipv6`; the channel closes when the receiving stops.
    fn open_receiver(
        &self,
        iface: &Interface,
        group: Option<IpAddr>,
        ipv6: bool,
    ) -> io::Result<mpsc::Receiver<Incoming>>;

    /// Makes ready to send adverts from `source` on `iface` (then [`Host::send_advert`]
    /// cannot fail for want of a socket).
    fn open_sender(&self, iface: &Interface, source: IpAddr) -> io::Result<()>;

    /// Sends one VRRP payload from `source` on `iface` to `destination`, TTL / hop limit 255.
    fn send_advert(&self, iface: &Interface, source: IpAddr, packet: &[u8], destination: IpAddr) -> io::Result<()>;

    /// Sends `repeat` gratuitous ARP requests for each address on `iface`; how many were sent.
    fn send_garp(&self, iface: &Interface, addresses: &[Ipv4Addr], repeat: u32) -> io::Result<u32>;

    /// Sends `repeat` unsolicited neighbour advertisements for each address on `iface`; how
    /// many were sent.
    fn send_na(&self, iface: &Interface, addresses: &[Ipv6Addr], repeat: u32) -> io::Result<u32>;
}
