//! The sockets of a VRRP instance on the real machine ([`super::Kernel`]), through safe
//! APIs (socket2, nix): a raw socket that receives adverts on the instance's interface, one
//! that sends them from the primary address with TTL / hop limit 255, and the announcements
//! of a new master (gratuitous ARP on an `AF_PACKET` socket, unsolicited neighbour
//! advertisements on an ICMPv6 socket).

use std::io::{self, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::ops::Range;
use std::os::fd::{AsRawFd, RawFd};

use ipvs_vrrp::{garp_frame, ip, unsolicited_na, AdvertError, IpMeta, IP_PROTOCOL, TTL};
use nix::sys::socket::{self as nixsock, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn6};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use super::Interface;

fn raw(family: IpAddr) -> io::Result<Socket> {
    let domain = if family.is_ipv4() { Domain::IPV4 } else { Domain::IPV6 };
    Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(IP_PROTOCOL))))
}

/// Receives VRRP packets on one interface (every VRID: the instance drops the others).
pub struct Receiver {
    socket: Socket,
    ipv6: bool,
}

impl Receiver {
    /// Opens the socket on `iface`, joined to `group` unless the instance is unicast.
    pub fn open(iface: &Interface, group: Option<IpAddr>, ipv6: bool) -> io::Result<Receiver> {
        let any = if ipv6 { IpAddr::V6(Ipv6Addr::UNSPECIFIED) } else { IpAddr::V4(Ipv4Addr::UNSPECIFIED) };
        let socket = raw(any)?;
        socket.bind_device(Some(iface.name.as_bytes()))?;
        match group {
            Some(IpAddr::V4(g)) => socket.join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(iface.index))?,
            Some(IpAddr::V6(g)) => socket.join_multicast_v6(&g, iface.index)?,
            None => {}
        }
        if ipv6 {
            socket.set_recv_hoplimit_v6(true)?;
            nixsock::setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from)?;
        }
        socket.set_nonblocking(true)?;
        Ok(Receiver { socket, ipv6 })
    }

    /// Hands the socket to the async runtime (call within it).
    pub fn into_async(self) -> io::Result<AsyncReceiver> {
        let socket = tokio::net::UdpSocket::from_std(std::net::UdpSocket::from(self.socket))?;
        Ok(AsyncReceiver { socket, ipv6: self.ipv6 })
    }
}

/// A [`Receiver`] registered with the async runtime. (A raw socket's file descriptor
/// held by tokio's `UdpSocket`, which only waits for readiness and reads datagrams: what a
/// raw socket gives.)
pub struct AsyncReceiver {
    socket: tokio::net::UdpSocket,
    ipv6: bool,
}

/// One received packet: its IP facts and where the VRRP payload lies in the buffer, or why
/// its IP layer is refused.
pub type Packet = Result<(IpMeta, Range<usize>), AdvertError>;

impl AsyncReceiver {
    /// Waits until a packet may be waiting.
    pub async fn readable(&self) -> io::Result<()> {
        self.socket.readable().await
    }

    /// Reads one packet into `buf`; `Err(WouldBlock)` when none is waiting.
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Packet> {
        let fd = self.socket.as_raw_fd();
        self.socket.try_io(tokio::io::Interest::READABLE, || read_packet(fd, self.ipv6, buf))
    }
}

fn read_packet(fd: RawFd, ipv6: bool, buf: &mut [u8]) -> io::Result<Packet> {
    if !ipv6 {
        let n = nixsock::recv(fd, buf, MsgFlags::MSG_DONTWAIT).map_err(io::Error::from)?;
        let bytes = buf.get(..n).unwrap_or(&[]);
        return Ok(ip::parse_ipv4(bytes).map(|(meta, payload)| {
            let start = usize::from(bytes[0] & 0x0f) * 4;
            (meta, start..start + payload.len())
        }));
    }
    let mut cmsg = vec![0u8; 128];
    let mut iov = [IoSliceMut::new(buf)];
    let msg = nixsock::recvmsg::<SockaddrIn6>(fd, &mut iov, Some(&mut cmsg), MsgFlags::MSG_DONTWAIT)
        .map_err(io::Error::from)?;
    let n = msg.bytes;
    let source = msg.address.map(|a| IpAddr::V6(a.ip()));
    let (mut dest, mut hops) = (None, None);
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            match c {
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    dest = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)))
                }
                ControlMessageOwned::Ipv6HopLimit(h) => hops = u8::try_from(h).ok(),
                _ => {}
            }
        }
    }
    Ok(match (source, dest, hops) {
        (Some(source), Some(destination), Some(ttl)) => Ok((IpMeta { source, destination, ttl }, 0..n)),
        _ => Err(AdvertError::IpHeader),
    })
}

/// Sends adverts from the primary address.
pub struct Sender {
    socket: Socket,
}

impl Sender {
    /// Opens the socket bound to `source` on `iface`, TTL / hop limit 255, no loopback of
    /// multicast.
    pub fn open(iface: &Interface, source: IpAddr) -> io::Result<Sender> {
        let socket = raw(source)?;
        socket.bind_device(Some(iface.name.as_bytes()))?;
        match source {
            IpAddr::V4(a) => {
                socket.bind(&SockAddr::from(SocketAddr::new(source, 0)))?;
                socket.set_ttl_v4(u32::from(TTL))?;
                socket.set_multicast_ttl_v4(u32::from(TTL))?;
                socket.set_multicast_if_v4(&a)?;
                socket.set_multicast_loop_v4(false)?;
                // keepalived sends with IPTOS_PREC_INTERNETCONTROL.
                socket.set_tos_v4(0xc0)?;
            }
            IpAddr::V6(a) => {
                let scope = if a.is_unicast_link_local() { iface.index } else { 0 };
                socket.bind(&SockAddr::from(SocketAddrV6::new(a, 0, 0, scope)))?;
                socket.set_unicast_hops_v6(u32::from(TTL))?;
                socket.set_multicast_hops_v6(u32::from(TTL))?;
                socket.set_multicast_if_v6(iface.index)?;
                socket.set_multicast_loop_v6(false)?;
            }
        }
        // Nothing is read from this socket; keep what it would queue small.
        socket.set_recv_buffer_size(1)?;
        socket.set_nonblocking(true)?;
        Ok(Sender { socket })
    }

    /// Sends one VRRP payload to `dest`.
    pub fn send(&self, iface: &Interface, payload: &[u8], dest: IpAddr) -> io::Result<()> {
        let to = match dest {
            IpAddr::V4(_) => SocketAddr::new(dest, 0),
            IpAddr::V6(a) => {
                let scope = if a.is_multicast() || a.is_unicast_link_local() { iface.index } else { 0 };
                SocketAddr::V6(SocketAddrV6::new(a, 0, 0, scope))
            }
        };
        self.socket.send_to(payload, &SockAddr::from(to)).map(drop)
    }
}

/// Sends `repeat` gratuitous ARP requests for each IPv4 address on `iface`.
pub fn send_garp(iface: &Interface, vips: &[Ipv4Addr], repeat: u32) -> io::Result<u32> {
    let Ok(mac) = <[u8; 6]>::try_from(iface.mac.as_slice()) else { return Ok(0) };
    // The interface's link-layer address as the kernel reports it (getifaddrs): an
    // AF_PACKET address naming the interface, without building one by hand.
    let to = nix::ifaddrs::getifaddrs()
        .map_err(io::Error::from)?
        .filter(|a| a.interface_name == iface.name)
        .find_map(|a| a.address.and_then(|s| s.as_link_addr().copied()))
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no link-layer address for {}", iface.name)))?;
    let fd =
        nixsock::socket(nixsock::AddressFamily::Packet, nixsock::SockType::Raw, nixsock::SockFlag::SOCK_CLOEXEC, None)
            .map_err(io::Error::from)?;
    let mut sent = 0;
    for vip in vips {
        let frame = garp_frame(&mac, *vip);
        for _ in 0..repeat {
            nixsock::sendto(fd.as_raw_fd(), &frame, &to, MsgFlags::empty()).map_err(io::Error::from)?;
            sent += 1;
        }
    }
    Ok(sent)
}

/// Sends `repeat` unsolicited neighbour advertisements for each IPv6 address, from it, to
/// all nodes (ff02::1) on `iface`.
pub fn send_na(iface: &Interface, vips: &[Ipv6Addr], repeat: u32) -> io::Result<u32> {
    let mut sent = 0;
    for vip in vips {
        let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6))?;
        socket.bind_device(Some(iface.name.as_bytes()))?;
        let scope = if vip.is_unicast_link_local() { iface.index } else { 0 };
        socket.bind(&SockAddr::from(SocketAddrV6::new(*vip, 0, 0, scope)))?;
        socket.set_multicast_hops_v6(u32::from(TTL))?;
        socket.set_multicast_if_v6(iface.index)?;
        let all_nodes = SocketAddrV6::new(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), 0, 0, iface.index);
        let msg = unsolicited_na(&iface.mac, *vip);
        for _ in 0..repeat {
            socket.send_to(&msg, &SockAddr::from(all_nodes))?;
            sent += 1;
        }
    }
    Ok(sent)
}
