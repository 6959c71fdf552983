//! Parsing: one rule line into a typed [`Request`].
//!
//! The grammar is ipvsadm's command line for table writes, with its meaning and defaults, read
//! strictly: options as separate words (`-w 2`, `--weight 2` or `--weight=2`), numeric
//! addresses, each option at most once and only where the command takes it. Short options
//! are not bundled (`-Ln` is a listing, not a rule).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::error::InvalidInput;
use crate::model::{
    Daemon, DaemonState, Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Request, Scheduler,
    Service, ServiceFlags, ServiceId, Timeouts, Tunnel, TunnelFlags,
};

/// The rule format's defaults, as ipvsadm has them.
pub mod defaults {
    use crate::model::{Forward, Scheduler};

    /// The scheduler of `-A`/`-E` without `-s`.
    pub const SCHEDULER: Scheduler = Scheduler::Wlc;
    /// The persistence timeout of `-p` without a value, in seconds.
    pub const PERSISTENCE: u32 = 360;
    /// The forwarding method of `-a`/`-e` without `-g`, `-i` or `-m`.
    pub const FORWARD: Forward = Forward::DirectRoute;
    /// The weight of `-a`/`-e` without `-w`.
    pub const WEIGHT: u32 = 1;
    /// The interface of `--start-daemon` without `--mcast-interface`.
    pub const DAEMON_INTERFACE: &str = "eth0";
}

/// The commands of the format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Command {
    AddService,
    EditService,
    DeleteService,
    Clear,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    StartDaemon,
    StopDaemon,
}

const COMMANDS: [(&str, &str, Command); 11] = [
    ("-A", "--add-service", Command::AddService),
    ("-E", "--edit-service", Command::EditService),
    ("-D", "--delete-service", Command::DeleteService),
    ("-C", "--clear", Command::Clear),
    ("-Z", "--zero", Command::Zero),
    ("-a", "--add-server", Command::AddServer),
    ("-e", "--edit-server", Command::EditServer),
    ("-d", "--delete-server", Command::DeleteServer),
    ("", "--set", Command::Set),
    ("", "--start-daemon", Command::StartDaemon),
    ("", "--stop-daemon", Command::StopDaemon),
];

/// The options, each with the field name errors use.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Opt {
    Tcp,
    Udp,
    Sctp,
    Fwmark,
    Ipv6,
    Scheduler,
    Persistent,
    Netmask,
    Pe,
    Ops,
    SchedFlags,
    Server,
    Gatewaying,
    Ipip,
    Masquerading,
    Weight,
    Upper,
    Lower,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    McastInterface,
    SyncId,
    SyncMaxlen,
    McastGroup,
    McastPort,
    McastTtl,
}

/// (short, long, takes a value, option, field)
const OPTIONS: [(&str, &str, bool, Opt, &str); 29] = [
    ("-t", "--tcp-service", true, Opt::Tcp, "service"),
    ("-u", "--udp-service", true, Opt::Udp, "service"),
    ("", "--sctp-service", true, Opt::Sctp, "service"),
    ("-f", "--fwmark-service", true, Opt::Fwmark, "fwmark"),
    ("-6", "--ipv6", false, Opt::Ipv6, "ipv6"),
    ("-s", "--scheduler", true, Opt::Scheduler, "scheduler"),
    ("-p", "--persistent", false, Opt::Persistent, "persistence"),
    ("-M", "--netmask", true, Opt::Netmask, "netmask"),
    ("", "--pe", true, Opt::Pe, "persistence_engine"),
    ("-o", "--ops", false, Opt::Ops, "flags"),
    ("-b", "--sched-flags", true, Opt::SchedFlags, "scheduler_flags"),
    ("-r", "--real-server", true, Opt::Server, "destination"),
    ("-g", "--gatewaying", false, Opt::Gatewaying, "forward"),
    ("-i", "--ipip", false, Opt::Ipip, "forward"),
    ("-m", "--masquerading", false, Opt::Masquerading, "forward"),
    ("-w", "--weight", true, Opt::Weight, "weight"),
    ("-x", "--u-threshold", true, Opt::Upper, "upper_threshold"),
    ("-y", "--l-threshold", true, Opt::Lower, "lower_threshold"),
    ("", "--tun-type", true, Opt::TunType, "tunnel_type"),
    ("", "--tun-port", true, Opt::TunPort, "tunnel_port"),
    ("", "--tun-nocsum", false, Opt::TunNocsum, "tunnel_checksum"),
    ("", "--tun-csum", false, Opt::TunCsum, "tunnel_checksum"),
    ("", "--tun-remcsum", false, Opt::TunRemcsum, "tunnel_checksum"),
    ("", "--mcast-interface", true, Opt::McastInterface, "interface"),
    ("", "--syncid", true, Opt::SyncId, "sync_id"),
    ("", "--sync-maxlen", true, Opt::SyncMaxlen, "max_len"),
    ("", "--mcast-group", true, Opt::McastGroup, "group"),
    ("", "--mcast-port", true, Opt::McastPort, "port"),
    ("", "--mcast-ttl", true, Opt::McastTtl, "ttl"),
];

fn field(o: Opt) -> &'static str {
    OPTIONS.iter().find(|r| r.3 == o).map_or("option", |r| r.4)
}

/// Which options a command takes.
fn allowed(cmd: Command, o: Opt) -> bool {
    use Opt::*;
    let service = matches!(o, Tcp | Udp | Sctp | Fwmark | Ipv6);
    match cmd {
        Command::AddService | Command::EditService => {
            service || matches!(o, Scheduler | Persistent | Netmask | Pe | Ops | SchedFlags)
        }
        Command::DeleteService | Command::Zero => service,
        Command::AddServer | Command::EditServer => {
            service
                || matches!(
                    o,
                    Server
                        | Gatewaying
                        | Ipip
                        | Masquerading
                        | Weight
                        | Upper
                        | Lower
                        | TunType
                        | TunPort
                        | TunNocsum
                        | TunCsum
                        | TunRemcsum
                )
        }
        Command::DeleteServer => service || o == Server,
        Command::StartDaemon => matches!(o, McastInterface | SyncId | SyncMaxlen | McastGroup | McastPort | McastTtl),
        Command::Clear | Command::Set | Command::StopDaemon => false,
    }
}

fn bad(field: &'static str, value: impl std::fmt::Display, reason: impl Into<String>) -> InvalidInput {
    InvalidInput::new(field, value, reason)
}

fn number<T: TryFrom<u64>>(field: &'static str, v: &str, min: u64, max: u64) -> Result<T, InvalidInput> {
    let range = || format!("expected a number in {min}..={max}");
    let n: u64 = v.parse().map_err(|_| bad(field, v, range()))?;
    if !(min..=max).contains(&n) {
        return Err(bad(field, v, range()));
    }
    T::try_from(n).map_err(|_| bad(field, v, range()))
}

/// `addr:port`, `[v6]:port`, or (`port_optional`) a bare address.
fn address_port(field: &'static str, v: &str, port_optional: bool) -> Result<(IpAddr, Option<u16>), InvalidInput> {
    let (host, port) = if let Some(rest) = v.strip_prefix('[') {
        let (h, p) = rest.split_once(']').ok_or_else(|| bad(field, v, "expected [IPv6]:port"))?;
        match p.strip_prefix(':') {
            Some(p) => (h, Some(p)),
            None if p.is_empty() => (h, None),
            None => return Err(bad(field, v, "expected [IPv6]:port")),
        }
    } else if v.parse::<Ipv6Addr>().is_ok() {
        (v, None)
    } else {
        match v.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (v, None),
        }
    };
    let addr: IpAddr = host.parse().map_err(|_| bad(field, v, "expected a numeric IPv4 or IPv6 address"))?;
    let port = port.map(|p| number::<u16>(field, p, 0, 65535)).transpose()?;
    if port.is_none() && !port_optional {
        return Err(bad(field, v, "expected address:port"));
    }
    Ok((addr, port))
}

/// What a line's options said, before they become a request.
#[derive(Default)]
struct Given<'a> {
    seen: Vec<Opt>,
    protocol: Option<Protocol>,
    vip: Option<(IpAddr, u16)>,
    fwmark: Option<u32>,
    v6: bool,
    values: Vec<(Opt, &'a str)>,
    set: Vec<&'a str>,
    daemon_state: Option<&'a str>,
}

impl<'a> Given<'a> {
    fn value(&self, o: Opt) -> Option<&'a str> {
        self.values.iter().find(|(k, _)| *k == o).map(|(_, v)| *v)
    }
    fn has(&self, o: Opt) -> bool {
        self.seen.contains(&o)
    }
}

fn scan<'a>(words: &[&'a str]) -> Result<Option<(Command, Given<'a>)>, InvalidInput> {
    let mut words = words.iter().copied().filter(|w| *w != "ipvsadm").peekable();
    let Some(first) = words.next() else { return Ok(None) };
    let cmd = COMMANDS.iter().find(|(s, l, _)| (!s.is_empty() && *s == first) || *l == first).map(|c| c.2).ok_or_else(
        || bad("command", first, "expected -A, -E, -D, -C, -Z, -a, -e, -d, --set, --start-daemon or --stop-daemon"),
    )?;
    let mut g = Given::default();
    while let Some(word) = words.next() {
        if cmd == Command::Set && !word.starts_with('-') {
            g.set.push(word);
            continue;
        }
        if matches!(cmd, Command::StartDaemon | Command::StopDaemon)
            && g.daemon_state.is_none()
            && !word.starts_with('-')
        {
            g.daemon_state = Some(word);
            continue;
        }
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v)),
            _ => (word, None),
        };
        let &(_, _, takes, opt, field) = OPTIONS
            .iter()
            .find(|(s, l, ..)| (!s.is_empty() && *s == name) || *l == name)
            .ok_or_else(|| bad("option", word, "unknown option"))?;
        if !allowed(cmd, opt) {
            return Err(bad(field, word, format!("not an option of {first}")));
        }
        // The service options are one choice; the forwarding switches too.
        let group = |o: Opt| match o {
            Opt::Tcp | Opt::Udp | Opt::Sctp | Opt::Fwmark => 1,
            Opt::Gatewaying | Opt::Ipip | Opt::Masquerading => 2,
            Opt::TunNocsum | Opt::TunCsum | Opt::TunRemcsum => 3,
            _ => 0,
        };
        if g.seen.iter().any(|s| *s == opt || (group(opt) != 0 && group(*s) == group(opt))) {
            return Err(bad(field, word, "given twice"));
        }
        g.seen.push(opt);
        let value = if takes {
            match inline {
                Some(v) => Some(v),
                None => Some(words.next().ok_or_else(|| bad(field, word, "needs a value"))?),
            }
        } else if opt == Opt::Persistent {
            // `-p` takes an optional value: the next word, unless it is an option.
            match inline {
                Some(v) => Some(v),
                None => words.next_if(|w| !w.starts_with('-')),
            }
        } else {
            if inline.is_some() {
                return Err(bad(field, word, "takes no value"));
            }
            None
        };
        let Some(v) = value else { continue };
        match opt {
            Opt::Tcp | Opt::Udp | Opt::Sctp => {
                g.protocol = Some(match opt {
                    Opt::Tcp => Protocol::Tcp,
                    Opt::Udp => Protocol::Udp,
                    _ => Protocol::Sctp,
                });
                let (addr, port) = address_port("service", v, false)?;
                g.vip = Some((addr, port.unwrap_or(0)));
            }
            Opt::Fwmark => g.fwmark = Some(number("fwmark", v, 1, u64::from(u32::MAX))?),
            _ => g.values.push((opt, v)),
        }
    }
    g.v6 = g.has(Opt::Ipv6);
    if g.v6 && g.fwmark.is_none() {
        return Err(bad("ipv6", "-6", "-6 goes with a firewall-mark service (-f)"));
    }
    Ok(Some((cmd, g)))
}

fn service_id(g: &Given<'_>) -> Result<ServiceId, InvalidInput> {
    match (g.vip, g.fwmark) {
        (Some((addr, port)), None) => Ok(ServiceId::Inet { protocol: g.protocol.unwrap_or(Protocol::Tcp), addr, port }),
        (None, Some(mark)) => Ok(ServiceId::fwmark(mark, if g.v6 { Family::Inet6 } else { Family::Inet })),
        _ => Err(bad("service", "", "a service address is needed (-t, -u, --sctp-service or -f)")),
    }
}

fn service(g: &Given<'_>) -> Result<Service, InvalidInput> {
    let id = service_id(g)?;
    let scheduler = match g.value(Opt::Scheduler) {
        Some(s) => s.parse::<Scheduler>()?,
        None => defaults::SCHEDULER,
    };
    let mut svc = Service::new(id, scheduler);
    if g.has(Opt::Persistent) {
        let timeout = match g.value(Opt::Persistent) {
            Some(v) => number("persistence", v, 1, u64::from(Service::MAX_PERSISTENCE))?,
            None => defaults::PERSISTENCE,
        };
        svc = svc.with_persistence(timeout);
    }
    if let Some(m) = g.value(Opt::Netmask) {
        let mask = match id.family() {
            Family::Inet => {
                Netmask::V4(m.parse::<Ipv4Addr>().map_err(|_| bad("netmask", m, "expected a dotted netmask"))?)
            }
            Family::Inet6 => Netmask::Prefix(number("netmask", m, 1, 128)?),
        };
        svc = svc.with_netmask(mask);
    }
    if let Some(pe) = g.value(Opt::Pe) {
        svc = svc.with_persistence_engine(pe.parse::<PersistenceEngine>()?);
    }
    if g.has(Opt::Ops) {
        svc = svc.with_flags(ServiceFlags::ONE_PACKET);
    }
    if let Some(flags) = g.value(Opt::SchedFlags) {
        for name in flags.split(',').filter(|n| !n.is_empty()) {
            let flag = ServiceFlags::parse_scheduler_flag(name, &svc.scheduler)?;
            svc = svc.with_flags(flag);
        }
    }
    svc.validate()?;
    Ok(svc)
}

fn destination(g: &Given<'_>, id: &ServiceId) -> Result<Destination, InvalidInput> {
    let server = g.value(Opt::Server).ok_or_else(|| bad("destination", "", "a real server is needed (-r)"))?;
    let (addr, port) = address_port("destination", server, true)?;
    let checksum = if g.has(Opt::TunCsum) {
        TunnelFlags::CSUM
    } else if g.has(Opt::TunRemcsum) {
        TunnelFlags::REMCSUM
    } else {
        TunnelFlags::empty()
    };
    let tunnel_opts = [Opt::TunType, Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];
    let forward = if g.has(Opt::Masquerading) {
        Forward::Masquerade
    } else if g.has(Opt::Ipip) {
        let kind = g.value(Opt::TunType).unwrap_or("ipip");
        let port = g.value(Opt::TunPort).map(|p| number("tunnel_port", p, 1, 65535)).transpose()?.unwrap_or(0);
        Forward::Tunnel(Tunnel::from_name(kind, port, checksum)?)
    } else if g.has(Opt::Gatewaying) {
        Forward::DirectRoute
    } else {
        defaults::FORWARD
    };
    if !matches!(forward, Forward::Tunnel(_)) {
        if let Some(o) = tunnel_opts.iter().find(|o| g.has(**o)) {
            return Err(bad(field(*o), "", "tunnel options need tunnel forwarding (-i)"));
        }
    }
    // As ipvsadm: a server without a port takes the service's; direct routing and tunnels
    // cannot change the port, so they always take the service's.
    let svc_port = match id {
        ServiceId::Inet { port, .. } => Some(*port),
        ServiceId::Fwmark { .. } => None,
    };
    let port = match (svc_port, &forward) {
        (Some(p), Forward::DirectRoute | Forward::Tunnel(_)) => p,
        (sp, _) => port.or(sp).unwrap_or(0),
    };
    let mut d = Destination::new(SocketAddr::new(addr, port), forward);
    if let Some(w) = g.value(Opt::Weight) {
        d.weight = number("weight", w, 0, u64::from(Destination::MAX_WEIGHT))?;
    } else {
        d.weight = defaults::WEIGHT;
    }
    if let Some(v) = g.value(Opt::Upper) {
        d.upper_threshold = number("upper_threshold", v, 0, u64::from(u32::MAX))?;
    }
    if let Some(v) = g.value(Opt::Lower) {
        d.lower_threshold = number("lower_threshold", v, 0, u64::from(u32::MAX))?;
    }
    d.validate_for(id)?;
    Ok(d)
}

fn daemon(g: &Given<'_>, state: DaemonState) -> Result<Daemon, InvalidInput> {
    let ifname = g.value(Opt::McastInterface).unwrap_or(defaults::DAEMON_INTERFACE);
    let sync_id = g.value(Opt::SyncId).map(|v| number("sync_id", v, 0, 255)).transpose()?.unwrap_or(0);
    let mut d = Daemon::new(state, ifname, sync_id);
    d.max_len = g.value(Opt::SyncMaxlen).map(|v| number("max_len", v, 1, 65535)).transpose()?;
    d.group = g
        .value(Opt::McastGroup)
        .map(|v| v.parse::<IpAddr>().map_err(|_| bad("group", v, "expected a multicast address")))
        .transpose()?;
    d.port = g.value(Opt::McastPort).map(|v| number("port", v, 1, 65535)).transpose()?;
    d.ttl = g.value(Opt::McastTtl).map(|v| number("ttl", v, 1, 255)).transpose()?;
    d.validate()?;
    Ok(d)
}

/// Parses one rule line into the request it means. Blank lines and `#` comments mean
/// nothing (`Ok(None)`); a word `ipvsadm` is skipped wherever it stands, as `ipvsadm -R`
/// does.
///
/// ```
/// use ipvs::rules::parse_line;
/// use ipvs::{Forward, Request};
/// let r = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m -w 3").unwrap().unwrap();
/// let Request::AddDestination { destination, .. } = r else { panic!() };
/// assert_eq!((destination.forward, destination.weight, destination.port), (Forward::Masquerade, 3, 8080));
/// let err = parse_line("-a -t 192.0.2.1:80 -r 198.51.100.1 -w heavy").unwrap_err();
/// assert_eq!((err.field, err.value.as_str()), ("weight", "heavy"));
/// ```
pub fn parse_line(line: &str) -> Result<Option<Request>, InvalidInput> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let words: Vec<&str> = line.split_ascii_whitespace().collect();
    let Some((cmd, g)) = scan(&words)? else { return Ok(None) };
    if cmd != Command::Set && !g.set.is_empty() {
        return Err(bad("argument", g.set[0], "unexpected argument"));
    }
    let needs_service =
        !matches!(cmd, Command::Clear | Command::Zero | Command::Set | Command::StartDaemon | Command::StopDaemon);
    if needs_service && g.vip.is_none() && g.fwmark.is_none() {
        return Err(bad("service", line, "a service address is needed (-t, -u, --sctp-service or -f)"));
    }
    let state = || -> Result<DaemonState, InvalidInput> {
        g.daemon_state.ok_or_else(|| bad("state", "", "expected master or backup"))?.parse()
    };
    Ok(Some(match cmd {
        Command::AddService => Request::AddService(service(&g)?),
        Command::EditService => Request::UpdateService(service(&g)?),
        Command::DeleteService => Request::DeleteService(service_id(&g)?),
        Command::Clear => Request::Flush,
        Command::Zero if g.vip.is_none() && g.fwmark.is_none() => Request::Zero(None),
        Command::Zero => Request::Zero(Some(service_id(&g)?)),
        Command::AddServer => {
            let id = service_id(&g)?;
            Request::AddDestination { destination: destination(&g, &id)?, service: id }
        }
        Command::EditServer => {
            let id = service_id(&g)?;
            Request::UpdateDestination { destination: destination(&g, &id)?, service: id }
        }
        Command::DeleteServer => {
            let id = service_id(&g)?;
            let server = g.value(Opt::Server).ok_or_else(|| bad("destination", "", "a real server is needed (-r)"))?;
            let (addr, port) = address_port("destination", server, true)?;
            let svc_port = match id {
                ServiceId::Inet { port, .. } => port,
                ServiceId::Fwmark { .. } => 0,
            };
            Request::DeleteDestination { service: id, destination: SocketAddr::new(addr, port.unwrap_or(svc_port)) }
        }
        Command::Set => {
            let [tcp, tcp_fin, udp] = g.set[..] else {
                return Err(bad("timeouts", g.set.join(" "), "--set takes three timeouts: tcp tcpfin udp"));
            };
            let t = |f, v| number(f, v, 0, u64::from(Timeouts::MAX));
            Request::SetTimeouts(Timeouts { tcp: t("tcp", tcp)?, tcp_fin: t("tcp_fin", tcp_fin)?, udp: t("udp", udp)? })
        }
        Command::StartDaemon => Request::StartDaemon(daemon(&g, state()?)?),
        Command::StopDaemon => Request::StopDaemon(state()?),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Request {
        parse_line(line).unwrap_or_else(|e| panic!("{line}: {e}")).unwrap()
    }

    fn err(line: &str) -> InvalidInput {
        parse_line(line).err().unwrap_or_else(|| panic!("{line}: parsed"))
    }

    #[test]
    fn services_with_every_setting() {
        let Request::AddService(s) =
            one("-A -t 192.0.2.1:80 -s sh -p 300 -M 255.255.255.0 --pe sip -b sh-port,sh-fallback")
        else {
            panic!()
        };
        assert_eq!(s.scheduler, Scheduler::Sh);
        assert_eq!(s.persistence_timeout(), Some(300));
        assert_eq!(s.netmask, Netmask::V4(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(s.persistence_engine, Some(PersistenceEngine::Sip));
        assert!(s.flags.contains(ServiceFlags::SH_PORT | ServiceFlags::SH_FALLBACK));
        let Request::AddService(s) = one("ipvsadm -A -f 7 -6 -p -o") else { panic!() };
        assert_eq!(s.id, ServiceId::fwmark(7, Family::Inet6));
        assert_eq!(s.scheduler, defaults::SCHEDULER);
        assert_eq!(s.persistence_timeout(), Some(defaults::PERSISTENCE));
        let Request::UpdateService(s) = one("--edit-service --udp-service=[2001:db8::1]:53 --scheduler=rr -M 64 -p 10")
        else {
            panic!()
        };
        assert_eq!(s.netmask, Netmask::Prefix(64));
        assert_eq!(
            one("-D --sctp-service 192.0.2.9:3868"),
            Request::DeleteService(ServiceId::sctp("192.0.2.9".parse().unwrap(), 3868))
        );
    }

    #[test]
    fn destinations_take_ipvsadms_defaults() {
        let Request::AddDestination { service, destination: d } = one("-a -t 192.0.2.1:80 -r 198.51.100.1") else {
            panic!()
        };
        assert_eq!(service, ServiceId::tcp("192.0.2.1".parse().unwrap(), 80));
        assert_eq!((d.forward, d.weight, d.port), (defaults::FORWARD, defaults::WEIGHT, 80));
        // Direct routing and tunnels keep the service's port whatever is given.
        let Request::AddDestination { destination: d, .. } = one("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -g") else {
            panic!()
        };
        assert_eq!(d.port, 80);
        let Request::UpdateDestination { destination: d, .. } =
            one("-e -t 192.0.2.1:80 -r [2001:db8::2] -i --tun-type gue --tun-port 6080 --tun-csum -w 0 -x 10 -y 2")
        else {
            panic!()
        };
        assert_eq!(d.forward, Forward::Tunnel(Tunnel::Gue { port: 6080, flags: TunnelFlags::CSUM }));
        assert_eq!((d.weight, d.upper_threshold, d.lower_threshold), (0, 10, 2));
        assert_eq!(
            one("-d -t 192.0.2.1:80 -r 198.51.100.1"),
            Request::DeleteDestination {
                service: ServiceId::tcp("192.0.2.1".parse().unwrap(), 80),
                destination: "198.51.100.1:80".parse().unwrap()
            }
        );
    }

    #[test]
    fn global_commands() {
        assert_eq!(one("-C"), Request::Flush);
        assert_eq!(one("-Z"), Request::Zero(None));
        assert_eq!(one("--set 900 120 300"), Request::SetTimeouts(Timeouts { tcp: 900, tcp_fin: 120, udp: 300 }));
        let Request::StartDaemon(d) =
            one("--start-daemon backup --mcast-interface lo --syncid 7 --mcast-group 239.0.0.1")
        else {
            panic!()
        };
        assert_eq!((d.state, d.interface.as_str(), d.sync_id), (DaemonState::Backup, "lo", 7));
        assert_eq!(one("--stop-daemon master"), Request::StopDaemon(DaemonState::Master));
        assert_eq!(parse_line("  # a comment").unwrap(), None);
        assert_eq!(parse_line("").unwrap(), None);
    }

    #[test]
    fn errors_name_the_field_and_value() {
        let cases: &[(&str, &str, &str)] = &[
            ("-L -n", "command", "-L"),
            ("-A -t 192.0.2.1:80 -w 2", "weight", "-w"),
            ("-A -t 192.0.2.1:80 -s rr -s wrr", "scheduler", "-s"),
            ("-A -t 192.0.2.1", "service", "192.0.2.1"),
            ("-A -t host.example:80", "service", "host.example:80"),
            ("-A -t 192.0.2.1:80 -p 0", "persistence", "0"),
            ("-A -t 192.0.2.1:0", "port", "0"),
            ("-A -t 192.0.2.1:80 -b sh-port", "scheduler_flags", "sh-port"),
            ("-A -t 192.0.2.1:80 -s a-name-longer-than-15", "scheduler", "a-name-longer-than-15"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -w -1", "weight", "-1"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -w 2147483648", "weight", "2147483648"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -m -g", "forward", "-g"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -m --tun-type gre", "tunnel_type", ""),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type vxlan", "tunnel_type", "vxlan"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue", "tunnel_port", "0"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -x 1 -y 2", "lower_threshold", "2"),
            ("-a -t 192.0.2.1:80 -r 224.0.0.1", "address", "224.0.0.1"),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -w", "weight", "-w"),
            ("-a -t 192.0.2.1:80", "destination", ""),
            ("-A -u 192.0.2.1:53 -6", "ipv6", "-6"),
            ("-A -t 192.0.2.1:80 extra", "option", "extra"),
            ("-C -t 192.0.2.1:80", "service", "-t"),
            ("--set 1 2", "timeouts", "1 2"),
            ("--start-daemon leader", "state", "leader"),
            ("--start-daemon master --mcast-group 192.0.2.1", "group", "192.0.2.1"),
        ];
        for &(line, field, value) in cases {
            let e = err(line);
            assert_eq!((e.field, e.value.as_str()), (field, value), "{line}: {e}");
        }
    }
}
