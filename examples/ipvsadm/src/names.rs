//! Name resolution as ipvsadm does it through the C library, from the files the C library
//! reads: `/etc/hosts` (host names) and `/etc/services` (port names). Lookups through DNS are
//! not made: the lab has no network, and a library should not block on a resolver.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use ipvs::rules::AddressNames;
use ipvs::Protocol;

/// The lookups ipvsadm makes. Every `Names` also names addresses in saved rules (`-S`).
pub trait Names {
    /// `gethostbyname` for an IPv4 address.
    fn host_to_v4(&self, name: &str) -> Option<Ipv4Addr>;
    /// `getservbyname(name, proto)`.
    fn service_to_port(&self, name: &str, protocol: Protocol) -> Option<u16>;
    /// `gethostbyaddr`: the host's name.
    fn addr_to_host(&self, addr: IpAddr) -> Option<String>;
    /// `getservbyport(port, proto)`: the service's name.
    fn port_to_service(&self, port: u16, protocol: Protocol) -> Option<String>;
}

/// The names ipvsadm shows in rules and listings, through [`Names`].
pub struct Shown<'a>(pub &'a dyn Names);

impl AddressNames for Shown<'_> {
    fn host(&self, addr: IpAddr) -> Option<String> {
        self.0.addr_to_host(addr)
    }
    fn service(&self, port: u16, protocol: Protocol) -> Option<String> {
        self.0.port_to_service(port, protocol)
    }
}

/// No names at all: everything stays numeric.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNames;

impl Names for NoNames {
    fn host_to_v4(&self, _: &str) -> Option<Ipv4Addr> {
        None
    }
    fn service_to_port(&self, _: &str, _: Protocol) -> Option<u16> {
        None
    }
    fn addr_to_host(&self, _: IpAddr) -> Option<String> {
        None
    }
    fn port_to_service(&self, _: u16, _: Protocol) -> Option<String> {
        None
    }
}

/// (address, canonical name, aliases) in file order.
type Hosts = Vec<(IpAddr, Vec<String>)>;
/// (port, protocol name, canonical name and aliases) in file order.
type Services = Vec<(u16, String, Vec<String>)>;

/// Names from the contents of a hosts file and a services file: the system's files are read
/// when a name is first needed (a numeric command line never reads them).
#[derive(Debug, Default, Clone)]
pub struct FileNames {
    hosts: OnceLock<Hosts>,
    services: OnceLock<Services>,
    /// Read the system's files on first use (else: empty until filled).
    system: bool,
}

/// The protocol's name in `/etc/services` (`tcp`, `udp`, `sctp`).
fn proto_name(protocol: Protocol) -> Option<String> {
    Protocol::known().any(|p| p == protocol).then(|| protocol.name())
}

impl FileNames {
    /// Reads `/etc/hosts` and `/etc/services` (a missing file means no names from it).
    pub fn system() -> FileNames {
        FileNames { system: true, ..FileNames::default() }
    }

    /// Parses the texts of a hosts file and a services file.
    pub fn from_texts(hosts: &str, services: &str) -> FileNames {
        let n = FileNames::default();
        let _ = n.hosts.set(parse_hosts(hosts));
        let _ = n.services.set(parse_services(services));
        n
    }

    fn hosts(&self) -> &Hosts {
        self.hosts.get_or_init(|| {
            if self.system {
                parse_hosts(&std::fs::read_to_string("/etc/hosts").unwrap_or_default())
            } else {
                Hosts::new()
            }
        })
    }

    fn services(&self) -> &Services {
        self.services.get_or_init(|| {
            if self.system {
                parse_services(&std::fs::read_to_string("/etc/services").unwrap_or_default())
            } else {
                Services::new()
            }
        })
    }
}

fn words(line: &str) -> Vec<String> {
    line.split('#').next().unwrap_or("").split_whitespace().map(str::to_owned).collect()
}

fn parse_hosts(text: &str) -> Hosts {
    text.lines()
        .filter_map(|l| {
            let w = words(l);
            let addr: IpAddr = w.first()?.parse().ok()?;
            (w.len() > 1).then(|| (addr, w[1..].to_vec()))
        })
        .collect()
}

fn parse_services(text: &str) -> Services {
    text.lines()
        .filter_map(|l| {
            let w = words(l);
            let (port, proto) = w.get(1)?.split_once('/')?;
            let mut names = vec![w[0].clone()];
            names.extend(w[2..].iter().cloned());
            Some((port.parse().ok()?, proto.to_owned(), names))
        })
        .collect()
}

impl Names for FileNames {
    fn host_to_v4(&self, name: &str) -> Option<Ipv4Addr> {
        self.hosts().iter().find_map(|(a, names)| match a {
            IpAddr::V4(v4) if names.iter().any(|n| n == name) => Some(*v4),
            _ => None,
        })
    }
    fn service_to_port(&self, name: &str, protocol: Protocol) -> Option<u16> {
        let proto = proto_name(protocol)?;
        self.services().iter().find(|(_, p, names)| *p == proto && names.iter().any(|n| n == name)).map(|s| s.0)
    }
    fn addr_to_host(&self, addr: IpAddr) -> Option<String> {
        self.hosts().iter().find(|(a, _)| *a == addr).map(|(_, names)| names[0].clone())
    }
    fn port_to_service(&self, port: u16, protocol: Protocol) -> Option<String> {
        let proto = proto_name(protocol)?;
        self.services().iter().find(|(p, pr, _)| *p == port && *pr == proto).map(|s| s.2[0].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_services_files() {
        let n = FileNames::from_texts(
            "127.0.0.1 localhost\n# c\n192.0.2.7 web7 www # x\n",
            "http 80/tcp www # WorldWideWeb\ndomain 53/udp\n",
        );
        assert_eq!(n.addr_to_host("192.0.2.7".parse().unwrap()).as_deref(), Some("web7"));
        assert_eq!(n.host_to_v4("www"), Some(Ipv4Addr::new(192, 0, 2, 7)));
        assert_eq!(n.port_to_service(80, Protocol::Tcp).as_deref(), Some("http"));
        assert_eq!(n.port_to_service(80, Protocol::Udp), None);
        assert_eq!(n.service_to_port("www", Protocol::Tcp), Some(80));
        assert_eq!(n.service_to_port("domain", Protocol::Udp), Some(53));
    }
}
