//! Rendering: a table as the lines `ipvsadm -S` prints, byte for byte.

use std::fmt::Write;
use std::net::IpAddr;

use super::order;
use crate::model::{
    Destination, Family, Forward, Netmask, Protocol, Request, Service, ServiceFlags, ServiceId, Tunnel,
};

/// How addresses and ports are written in rules: numerically (what `ipvsadm -Sn` prints, the
/// default), or by name where a name is known (`ipvsadm -S`).
pub trait AddressNames {
    /// The host name of an address.
    fn host(&self, addr: IpAddr) -> Option<String>;
    /// The service name of a port of `protocol`.
    fn service(&self, port: u16, protocol: Protocol) -> Option<String>;
}

/// Every address and port as a number.
#[derive(Debug, Default, Clone, Copy)]
pub struct Numeric;

impl AddressNames for Numeric {
    fn host(&self, _: IpAddr) -> Option<String> {
        None
    }
    fn service(&self, _: u16, _: Protocol) -> Option<String> {
        None
    }
}

/// `addr:port` or `[v6]:port`, by name where `names` knows one; a port of a firewall-mark
/// service (`protocol` None) is never named.
pub fn address_port(addr: IpAddr, port: u16, protocol: Option<Protocol>, names: &dyn AddressNames) -> String {
    let host = names.host(addr).unwrap_or_else(|| addr.to_string());
    let port = protocol.and_then(|p| names.service(port, p)).unwrap_or_else(|| port.to_string());
    match addr {
        IpAddr::V4(_) => format!("{host}:{port}"),
        IpAddr::V6(_) => format!("[{host}]:{port}"),
    }
}

fn protocol_of(id: &ServiceId) -> Option<Protocol> {
    match id {
        ServiceId::Inet { protocol, .. } => Some(*protocol),
        ServiceId::Fwmark { .. } => None,
    }
}

/// The words that name a service: `-t 192.0.2.1:80`, `-f 7 -6`.
pub fn service_address(id: &ServiceId, names: &dyn AddressNames) -> String {
    match *id {
        ServiceId::Fwmark { mark, family: Family::Inet6 } => format!("-f {mark} -6"),
        ServiceId::Fwmark { mark, .. } => format!("-f {mark}"),
        ServiceId::Inet { protocol, addr, port } => {
            let option = protocol.rule_option().unwrap_or("--xxx-service");
            format!("{option} {}", address_port(addr, port, Some(protocol), names))
        }
    }
}

/// The persistence mask ipvsadm prints: none for a full one (/32, /128).
fn shown_mask(s: &Service) -> Option<String> {
    match (s.id.family(), s.netmask) {
        (Family::Inet, Netmask::V4(m)) if m != std::net::Ipv4Addr::BROADCAST => Some(m.to_string()),
        (Family::Inet6, Netmask::Prefix(p)) if p != 128 => Some(p.to_string()),
        _ => None,
    }
}

/// A service's rule line, without the newline:
/// `-A -t 192.0.2.1:80 -s wrr -p 300 -M 255.255.255.0 --pe sip -o -b sh-port`.
pub fn service_line(s: &Service, names: &dyn AddressNames) -> String {
    let mut out = format!("-A {} -s {}", service_address(&s.id, names), s.scheduler.name());
    if s.is_persistent() {
        let _ = write!(out, " -p {}", s.timeout);
        if let Some(mask) = shown_mask(s) {
            let _ = write!(out, " -M {mask}");
        }
    }
    if let Some(pe) = &s.persistence_engine {
        let _ = write!(out, " --pe {}", pe.name());
    }
    if s.flags.contains(ServiceFlags::ONE_PACKET) {
        let _ = write!(out, " {}", ServiceFlags::ONE_PACKET.rule_switch().unwrap_or_default());
    }
    if s.flags.intersects(ServiceFlags::SCHEDULER_FLAGS) {
        let _ = write!(out, " -b {}", scheduler_flags_shown(s));
    }
    out
}

/// The scheduler flags as ipvsadm shows them: a scheduler that names its flags (sh, mh) shows
/// only those it names (so `sh` with only flag 3 shows nothing: `-b ` with an empty list, as
/// ipvsadm 1.31 prints it); any other shows `flag-1`..`flag-3`.
pub fn scheduler_flags_shown(s: &Service) -> String {
    let names = s.flags.scheduler_flag_names(&s.scheduler);
    let own = ServiceFlags::SCHEDULER_FLAGS.scheduler_flag_names(&s.scheduler).iter().any(|n| !n.starts_with("flag-"));
    let shown: Vec<&str> = names.iter().map(String::as_str).filter(|n| !own || !n.starts_with("flag-")).collect();
    shown.join(",")
}

/// A destination's rule line, without the newline:
/// `-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2`. Thresholds are not part of ipvsadm's
/// saved rules. A method the format cannot express (bypass) is written as ipvsadm writes
/// it, `(null)`, which [`parse`](super::parse) refuses.
pub fn destination_line(service: &ServiceId, d: &Destination, names: &dyn AddressNames) -> String {
    let dest = address_port(d.addr, d.port, protocol_of(service), names);
    let switch = d.forward.rule_switch().unwrap_or("(null)");
    let mut out = format!("-a {} -r {dest} {switch} -w {}", service_address(service, names), d.weight);
    if let Forward::Tunnel(t) = d.forward {
        if !matches!(t, Tunnel::Other { .. }) {
            let _ = write!(out, " --tun-type {}", t.kind_name());
        }
        match t {
            Tunnel::Gue { port, flags } => {
                let _ = write!(out, " --tun-port {port} --tun-{}", flags.checksum_name());
            }
            Tunnel::Gre { flags } => {
                let _ = write!(out, " --tun-{}", flags.checksum_name());
            }
            _ => {}
        }
    }
    out
}

/// Any request as the ipvsadm command line that sends it (without `ipvsadm` and the newline):
/// what an operator would type. Destinations carry their thresholds (`-x`, `-y`) when set.
///
/// ```
/// use ipvs::rules::{request_line, Numeric};
/// use ipvs::{Destination, Forward, Request, ServiceId, Timeouts};
/// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// let d = Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade).with_thresholds(100, 10);
/// let r = Request::UpdateDestination { service: id, destination: d };
/// assert_eq!(request_line(&r, &Numeric), "-e -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 1 -x 100 -y 10");
/// assert_eq!(request_line(&Request::DeleteService(id), &Numeric), "-D -t 192.0.2.1:80");
/// let t = Request::SetTimeouts(Timeouts { tcp: 900, tcp_fin: 120, udp: 300 });
/// assert_eq!(request_line(&t, &Numeric), "--set 900 120 300");
/// ```
pub fn request_line(r: &Request, names: &dyn AddressNames) -> String {
    let dest = |cmd: &str, service: &ServiceId, d: &Destination| {
        let mut line = format!("{cmd}{}", &destination_line(service, d, names)[2..]);
        if d.upper_threshold != 0 || d.lower_threshold != 0 {
            let _ = write!(line, " -x {} -y {}", d.upper_threshold, d.lower_threshold);
        }
        line
    };
    match r {
        Request::AddService(s) => service_line(s, names),
        Request::UpdateService(s) => format!("-E{}", &service_line(s, names)[2..]),
        Request::DeleteService(id) => format!("-D {}", service_address(id, names)),
        Request::AddDestination { service, destination } => dest("-a", service, destination),
        Request::UpdateDestination { service, destination } => dest("-e", service, destination),
        Request::DeleteDestination { service, destination } => format!(
            "-d {} -r {}",
            service_address(service, names),
            address_port(destination.ip(), destination.port(), protocol_of(service), names)
        ),
        Request::Zero(None) => "-Z".to_owned(),
        Request::Zero(Some(id)) => format!("-Z {}", service_address(id, names)),
        Request::Flush => "-C".to_owned(),
        Request::SetTimeouts(t) => format!("--set {} {} {}", t.tcp, t.tcp_fin, t.udp),
        Request::StartDaemon(d) => {
            let mut line =
                format!("--start-daemon {} --mcast-interface {} --syncid {}", d.state, d.interface, d.sync_id);
            if let Some(v) = d.max_len {
                let _ = write!(line, " --sync-maxlen {v}");
            }
            if let Some(g) = d.group {
                let _ = write!(line, " --mcast-group {g}");
            }
            if let Some(v) = d.port {
                let _ = write!(line, " --mcast-port {v}");
            }
            if let Some(v) = d.ttl {
                let _ = write!(line, " --mcast-ttl {v}");
            }
            line
        }
        Request::StopDaemon(s) => format!("--stop-daemon {s}"),
    }
}

/// The rule lines of a table, in ipvsadm's order: what `ipvsadm -Sn` prints for it.
///
/// ```
/// use ipvs::{rules, Destination, Forward, Scheduler, Service, ServiceId};
/// let id = ServiceId::tcp("192.0.2.1".parse().unwrap(), 80);
/// let svc = Service::new(id, Scheduler::Wrr);
/// let dests = [Destination::new("198.51.100.1:80".parse().unwrap(), Forward::Masquerade).with_weight(2)];
/// assert_eq!(
///     rules::render([(&svc, &dests[..])]),
///     "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n"
/// );
/// ```
pub fn render<'a>(table: impl IntoIterator<Item = (&'a Service, &'a [Destination])>) -> String {
    render_with(table, &Numeric)
}

/// [`render`] with names for addresses and ports (what `ipvsadm -S` prints).
pub fn render_with<'a>(
    table: impl IntoIterator<Item = (&'a Service, &'a [Destination])>,
    names: &dyn AddressNames,
) -> String {
    let mut entries: Vec<(&Service, &[Destination])> = table.into_iter().collect();
    order::sort_by_service(&mut entries, |e| &e.0.id);
    let mut out = String::new();
    for (svc, dests) in entries {
        out.push_str(&service_line(svc, names));
        out.push('\n');
        let mut dests = dests.to_vec();
        order::sort_destinations(&mut dests);
        for d in &dests {
            out.push_str(&destination_line(&svc.id, d, names));
            out.push('\n');
        }
    }
    out
}
