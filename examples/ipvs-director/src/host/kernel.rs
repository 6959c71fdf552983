//! The real machine: rtnetlink for links and addresses, raw sockets for adverts and
//! announcements, the IPVS client for the table and the sync daemon, all in one network
//! namespace.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ipvs::Errno;
use ipvs_realserver::rtnl::Rtnl;
use tokio::sync::mpsc;

use super::net::{send_garp, send_na, AsyncReceiver, Receiver, Sender};
use super::{lock, Addr, Host, HostError, Incoming, Interface, Ipvs, LinkState, Vip};

/// The real machine, in the network namespace at `netns` (or the daemon's own).
///
/// Nothing is opened until used: the route socket on the first address or link asked for,
/// each advert socket (one per interface and source address) on the first advert, both
/// then kept. A `Kernel` over the in-memory IPVS kernel whose other methods are never
/// called works without root.
pub struct Kernel {
    ipvs: Arc<Ipvs>,
    netns: Option<PathBuf>,
    rtnl: Mutex<Option<Rtnl>>,
    senders: Mutex<HashMap<(u32, IpAddr), Arc<Sender>>>,
}

/// Socket work's own error, or the namespace's.
enum Failed {
    Io(io::Error),
    Namespace(HostError),
}

impl From<HostError> for Failed {
    fn from(e: HostError) -> Self {
        Failed::Namespace(e)
    }
}

impl Kernel {
    /// The machine whose IPVS table `ipvs` writes, its network in `netns` (None: the
    /// daemon's own namespace).
    pub fn new(ipvs: Arc<Ipvs>, netns: Option<PathBuf>) -> Kernel {
        Kernel { ipvs, netns, rtnl: Mutex::new(None), senders: Mutex::new(HashMap::new()) }
    }

    /// The network namespace (None: the daemon's own).
    pub fn netns(&self) -> Option<&Path> {
        self.netns.as_deref()
    }

    /// Socket work in the namespace.
    fn in_netns<T: Send>(&self, work: impl FnOnce() -> io::Result<T> + Send) -> io::Result<T> {
        ipvs_realserver::in_netns(self.netns(), || work().map_err(Failed::Io)).map_err(|f| match f {
            Failed::Io(e) => e,
            Failed::Namespace(e) => io::Error::other(e),
        })
    }

    /// Route socket work, on the socket opened (in the namespace) the first time and kept,
    /// opened again after it failed.
    fn rtnl<T>(&self, work: impl FnOnce(&mut Rtnl) -> Result<T, HostError>) -> Result<T, HostError> {
        let mut slot = lock(&self.rtnl);
        let rtnl = match slot.take() {
            Some(r) => r,
            None => ipvs_realserver::in_netns(self.netns(), Rtnl::open)?,
        };
        let result = work(slot.insert(rtnl));
        if matches!(result, Err(HostError::Socket(_) | HostError::Decode(_))) {
            *slot = None;
        }
        result
    }

    /// The advert socket from `source` on `iface`, opened the first time.
    fn sender(&self, iface: &Interface, source: IpAddr) -> io::Result<Arc<Sender>> {
        let key = (iface.index, source);
        if let Some(s) = lock(&self.senders).get(&key) {
            return Ok(s.clone());
        }
        let opened = Arc::new(self.in_netns(|| Sender::open(iface, source))?);
        Ok(lock(&self.senders).entry(key).or_insert(opened).clone())
    }
}

impl Host for Kernel {
    fn ipvs(&self) -> &Ipvs {
        &self.ipvs
    }

    fn addresses(&self) -> Result<Vec<Addr>, HostError> {
        self.rtnl(|r| r.addresses())
    }

    fn links(&self) -> Result<Vec<LinkState>, HostError> {
        let links = self.rtnl(|r| r.links())?;
        Ok(links
            .into_iter()
            .map(|l| LinkState { name: l.name, index: l.index, up: l.up && l.running, mac: l.mac })
            .collect())
    }

    fn add_address(&self, vip: &Vip) -> Result<bool, HostError> {
        match self.rtnl(|r| r.address(true, vip.iface.index, &vip.iface.name, vip.address, vip.prefix_len)) {
            Ok(()) => Ok(true),
            Err(e) if e.errno() == Some(Errno::EEXIST) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn remove_address(&self, vip: &Vip) -> Result<bool, HostError> {
        match self.rtnl(|r| r.address(false, vip.iface.index, &vip.iface.name, vip.address, vip.prefix_len)) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.errno(), Some(Errno::EADDRNOTAVAIL | Errno::ENOENT | Errno::ENODEV)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn open_receiver(
        &self,
        iface: &Interface,
        group: Option<IpAddr>,
        ipv6: bool,
    ) -> io::Result<mpsc::Receiver<Incoming>> {
        let runtime = tokio::runtime::Handle::try_current().map_err(io::Error::other)?;
        let receiver = self.in_netns(|| Receiver::open(iface, group, ipv6))?;
        let socket = {
            let _entered = runtime.enter();
            receiver.into_async()?
        };
        let (tx, rx) = mpsc::channel(64);
        runtime.spawn(forward(socket, tx));
        Ok(rx)
    }

    fn open_sender(&self, iface: &Interface, source: IpAddr) -> io::Result<()> {
        self.sender(iface, source).map(drop)
    }

    fn send_advert(&self, iface: &Interface, source: IpAddr, packet: &[u8], destination: IpAddr) -> io::Result<()> {
        self.sender(iface, source)?.send(iface, packet, destination)
    }

    fn send_garp(&self, iface: &Interface, addresses: &[Ipv4Addr], repeat: u32) -> io::Result<u32> {
        self.in_netns(|| send_garp(iface, addresses, repeat))
    }

    fn send_na(&self, iface: &Interface, addresses: &[Ipv6Addr], repeat: u32) -> io::Result<u32> {
        self.in_netns(|| send_na(iface, addresses, repeat))
    }
}

/// Hands what `socket` receives to `tx` until the channel is closed (the instance stopped)
/// or the socket cannot be waited on (then the channel closes: the instance stops); up to
/// 64 packets at each readiness.
async fn forward(socket: AsyncReceiver, tx: mpsc::Sender<Incoming>) {
    let mut buf = vec![0u8; 65536];
    loop {
        tokio::select! {
            () = tx.closed() => return,
            ready = socket.readable() => {
                if ready.is_err() {
                    return;
                }
                for _ in 0..64 {
                    let incoming = match socket.try_recv(&mut buf) {
                        Ok(Ok((meta, range))) => Ok(Ok((meta, buf.get(range).unwrap_or(&[]).to_vec()))),
                        Ok(Err(reason)) => Ok(Err(reason)),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) => Err(e),
                    };
                    let failed = incoming.is_err();
                    if tx.send(incoming).await.is_err() {
                        return;
                    }
                    if failed {
                        break;
                    }
                }
            }
        }
    }
}
