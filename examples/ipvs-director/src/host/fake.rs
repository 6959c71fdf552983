//! A machine in memory, for tests without root: it records each effect asked of it, in
//! order, as an [`Effect`]; its links and addresses are what the test sets (virtual
//! addresses added and removed change them, as on a kernel); adverts are fed to the
//! receivers opened on it; its IPVS client writes to the in-memory kernel
//! ([`ipvs::transport::MockTransport`]), where the table and the sync daemons are read back.
//!
//! ```
//! use std::sync::Arc;
//! use ipvs_director::host::{Effect, Fake, Host, Interface, LinkState, Vip};
//! let eth0 = LinkState { name: "eth0".into(), index: 2, up: true, mac: vec![2, 0, 0, 0, 0, 1] };
//! let host = Arc::new(Fake::new(vec![eth0.clone()], Vec::new()));
//! let vip = Vip { address: "192.0.2.100".parse()?, prefix_len: 24, iface: eth0.interface() };
//! assert!(host.add_address(&vip)?);
//! assert!(!host.add_address(&vip)?); // there already
//! assert!(host.address_is_local(vip.address));
//! assert_eq!(host.effects(), [Effect::AddAddress(vip.clone()), Effect::AddAddress(vip)]);
//! assert!(host.ipvs().daemons()?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::thread::{self, ThreadId};

use ipvs::transport::{MockTransport, Transport};
use ipvs_vrrp::{parse, IpMeta, PacketContext};
use tokio::sync::mpsc;

use super::{lock, Addr, Host, HostError, Incoming, Interface, Ipvs, LinkState, Vip};

/// One effect asked of a [`Fake`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// A virtual address added.
    AddAddress(Vip),
    /// A virtual address removed.
    RemoveAddress(Vip),
    /// An advert sent.
    Advert {
        /// The interface's name.
        iface: String,
        /// The source address.
        source: IpAddr,
        /// The destination address.
        destination: IpAddr,
        /// The VRRP payload.
        bytes: Vec<u8>,
    },
    /// Gratuitous ARP sent.
    Garp {
        /// The interface's name.
        iface: String,
        /// The addresses announced.
        addresses: Vec<Ipv4Addr>,
        /// How many for each.
        repeat: u32,
    },
    /// Unsolicited neighbour advertisements sent.
    Na {
        /// The interface's name.
        iface: String,
        /// The addresses announced.
        addresses: Vec<Ipv6Addr>,
        /// How many for each.
        repeat: u32,
    },
}

impl Effect {
    /// The priority of an advert sent (None: not an advert, or not a valid one).
    pub fn advert_priority(&self) -> Option<u8> {
        match self {
            Effect::Advert { source, destination, bytes, .. } => {
                parse(bytes, &PacketContext::new(*source, *destination)).ok().map(|a| a.priority())
            }
            _ => None,
        }
    }
}

/// A receiver opened on the fake: its interface, its family, where its packets go.
struct Opened {
    iface: String,
    ipv6: bool,
    tx: mpsc::Sender<Incoming>,
}

#[derive(Default)]
struct State {
    links: Vec<LinkState>,
    addresses: Vec<Addr>,
    /// Each effect and the thread it was asked on.
    effects: Vec<(Effect, ThreadId)>,
    receivers: Vec<Opened>,
}

/// A machine in memory (see the [module](self)).
pub struct Fake {
    ipvs: Ipvs,
    state: Mutex<State>,
}

impl Fake {
    /// A machine with these links and addresses; its in-memory IPVS kernel knows the links
    /// by name (for the sync daemon).
    pub fn new(links: Vec<LinkState>, addresses: Vec<Addr>) -> Fake {
        let mock = MockTransport::builder().interfaces(links.iter().map(|l| l.name.clone())).build();
        let transport: Arc<dyn Transport> = Arc::new(mock);
        Fake {
            ipvs: ipvs::Client::with_transport(transport),
            state: Mutex::new(State { links, addresses, ..State::default() }),
        }
    }

    /// Every effect so far, in order.
    pub fn effects(&self) -> Vec<Effect> {
        lock(&self.state).effects.iter().map(|(e, _)| e.clone()).collect()
    }

    /// How many of the effects so far were asked on `thread` (the event loop's, to check
    /// that none was).
    pub fn effects_on(&self, thread: ThreadId) -> usize {
        lock(&self.state).effects.iter().filter(|(_, t)| *t == thread).count()
    }

    /// Every effect so far, in order, forgotten.
    pub fn take_effects(&self) -> Vec<Effect> {
        std::mem::take(&mut lock(&self.state).effects).into_iter().map(|(e, _)| e).collect()
    }

    /// Sets link `name` up or down; false when there is no such link.
    pub fn set_link_up(&self, name: &str, up: bool) -> bool {
        let mut found = false;
        for l in lock(&self.state).links.iter_mut().filter(|l| l.name == name) {
            l.up = up;
            found = true;
        }
        found
    }

    /// Whether `address` is on an interface now.
    pub fn holds(&self, address: IpAddr) -> bool {
        lock(&self.state).addresses.iter().any(|a| a.ip == address)
    }

    /// A packet arriving on `iface` (from `meta.source` to `meta.destination`): handed to
    /// every receiver open there for its family, as the kernel does. How many took it.
    pub fn feed(&self, iface: &str, meta: IpMeta, payload: &[u8]) -> usize {
        let mut st = lock(&self.state);
        st.receivers.retain(|r| !r.tx.is_closed());
        st.receivers
            .iter()
            .filter(|r| r.iface == iface && r.ipv6 == meta.source.is_ipv6())
            .filter(|r| r.tx.try_send(Ok(Ok((meta, payload.to_vec())))).is_ok())
            .count()
    }

    fn record(&self, effect: Effect) {
        lock(&self.state).effects.push((effect, thread::current().id()));
    }
}

impl Host for Fake {
    fn ipvs(&self) -> &Ipvs {
        &self.ipvs
    }

    fn addresses(&self) -> Result<Vec<Addr>, HostError> {
        Ok(lock(&self.state).addresses.clone())
    }

    fn links(&self) -> Result<Vec<LinkState>, HostError> {
        Ok(lock(&self.state).links.clone())
    }

    fn add_address(&self, vip: &Vip) -> Result<bool, HostError> {
        self.record(Effect::AddAddress(vip.clone()));
        let mut st = lock(&self.state);
        if st.addresses.iter().any(|a| a.ip == vip.address && a.index == vip.iface.index) {
            return Ok(false);
        }
        st.addresses.push(Addr { index: vip.iface.index, ip: vip.address, prefix_len: vip.prefix_len });
        Ok(true)
    }

    fn remove_address(&self, vip: &Vip) -> Result<bool, HostError> {
        self.record(Effect::RemoveAddress(vip.clone()));
        let mut st = lock(&self.state);
        let before = st.addresses.len();
        st.addresses.retain(|a| !(a.ip == vip.address && a.index == vip.iface.index));
        Ok(st.addresses.len() != before)
    }

    fn open_receiver(
        &self,
        iface: &Interface,
        _group: Option<IpAddr>,
        ipv6: bool,
    ) -> io::Result<mpsc::Receiver<Incoming>> {
        let (tx, rx) = mpsc::channel(64);
        lock(&self.state).receivers.push(Opened { iface: iface.name.clone(), ipv6, tx });
        Ok(rx)
    }

    fn open_sender(&self, _iface: &Interface, _source: IpAddr) -> io::Result<()> {
        Ok(())
    }

    fn send_advert(&self, iface: &Interface, source: IpAddr, packet: &[u8], destination: IpAddr) -> io::Result<()> {
        self.record(Effect::Advert { iface: iface.name.clone(), source, destination, bytes: packet.to_vec() });
        Ok(())
    }

    fn send_garp(&self, iface: &Interface, addresses: &[Ipv4Addr], repeat: u32) -> io::Result<u32> {
        self.record(Effect::Garp { iface: iface.name.clone(), addresses: addresses.to_vec(), repeat });
        Ok(sent(addresses.len(), repeat))
    }

    fn send_na(&self, iface: &Interface, addresses: &[Ipv6Addr], repeat: u32) -> io::Result<u32> {
        self.record(Effect::Na { iface: iface.name.clone(), addresses: addresses.to_vec(), repeat });
        Ok(sent(addresses.len(), repeat))
    }
}

/// `repeat` announcements for each of `count` addresses.
fn sent(count: usize, repeat: u32) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX).saturating_mul(repeat)
}
