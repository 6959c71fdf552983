//! One ipvsadm command line into a typed [`Invocation`]: popt's scan, each option's handling
//! as ipvsadm 1.31 does it (its defaults, checks and messages), then the legality checks.
//!
//! While options are read, the parser keeps ipvsadm's own working state (its order effects
//! are part of its behaviour: `-6` after `-f`, a netmask read before the address family is
//! known); the result is built from the model's types.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::{
    Daemon, DaemonState, Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Request, Scheduler,
    Service, ServiceFlags, ServiceId, Timeouts, Tunnel, TunnelFlags,
};

use crate::cnum::{atoi, inet_aton, number};
use crate::legal::{check_command, check_tunnel, Cmd, Opt, Options};
use crate::names::Names;
use crate::popt::{Popt, Tag};
use crate::Exit;

/// ipvsadm's defaults (its own, not the library's).
pub mod defaults {
    /// The scheduler of `-A` without `-s`.
    pub const SCHEDULER: &str = "wlc";
    /// The persistence timeout of `-p` without a value.
    pub const PERSISTENCE: u32 = 360;
    /// The sync daemon interface without `--mcast-interface`.
    pub const DAEMON_INTERFACE: &str = "eth0";
    /// The largest persistence timeout ipvsadm takes (`INT_MAX / 1000`).
    pub const MAX_TIMEOUT: i64 = (i32::MAX / 1000) as i64;
}

/// The listing format flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Format {
    /// -n
    pub numeric: bool,
    /// --stats
    pub stats: bool,
    /// --rate
    pub rate: bool,
    /// --thresholds
    pub thresholds: bool,
    /// --persistent-conn
    pub persistent_conn: bool,
    /// --nosort
    pub nosort: bool,
    /// -X / --exact
    pub exact: bool,
    /// --tun-info
    pub tun_info: bool,
}

/// What a listing (`-L`) shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// The whole table.
    Table,
    /// One service.
    Service(ServiceId),
    /// The connection table (`-c`).
    Connections,
    /// The timeouts (`--timeout`).
    Timeouts,
    /// The sync daemons (`--daemon`).
    Daemons,
}

/// What an invocation does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// A table write, sent as ipvsadm sends it.
    Write(Request),
    /// `-L`.
    List(Listing),
    /// `-S`.
    Save,
    /// `-R`.
    Restore,
}

/// One parsed ipvsadm command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// What to do.
    pub command: Command,
    /// The options given.
    pub options: Options,
    /// Listing format.
    pub format: Format,
}

/// What a parse gives: a command to run, or an early exit (help, version, errors).
pub type Parsed = Result<Invocation, Exit>;

/// ipvsadm's working state while it reads the options (its `ipvs_service_t`,
/// `ipvs_dest_t`, daemon and timeouts), in the model's types where they fit.
struct Draft {
    cmd: Cmd,
    options: Options,
    format: Format,
    v6: bool,
    protocol: Protocol,
    addr: IpAddr,
    port: u16,
    fwmark: u32,
    scheduler: String,
    flags: ServiceFlags,
    timeout: u32,
    /// The mask as ipvsadm keeps it for both families: an IPv4 mask or a prefix length.
    netmask: u32,
    pe: String,
    sched_flags: String,
    dest_addr: IpAddr,
    dest_port: u16,
    forward: Forward,
    weight: u32,
    upper: u32,
    lower: u32,
    tun_kind: usize,
    tun_port: u16,
    tun_flags: TunnelFlags,
    daemon_state: DaemonState,
    ifname: String,
    sync_id: u8,
    max_len: Option<u16>,
    group: Option<IpAddr>,
    mcast_port: Option<u16>,
    ttl: Option<u8>,
    timeouts: Timeouts,
}

impl Draft {
    fn new(cmd: Cmd) -> Draft {
        Draft {
            cmd,
            options: Options::default(),
            format: Format::default(),
            v6: false,
            protocol: Protocol::Other(0),
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwmark: 0,
            scheduler: String::new(),
            flags: ServiceFlags::empty(),
            timeout: 0,
            netmask: u32::MAX,
            pe: String::new(),
            sched_flags: String::new(),
            dest_addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            dest_port: 0,
            forward: Forward::DirectRoute,
            weight: 1,
            upper: 0,
            lower: 0,
            tun_kind: 0,
            tun_port: 0,
            tun_flags: TunnelFlags::empty(),
            daemon_state: DaemonState::Master,
            ifname: String::new(),
            sync_id: 0,
            max_len: None,
            group: None,
            mcast_port: None,
            ttl: None,
            timeouts: Timeouts::default(),
        }
    }

    fn service_id(&self) -> ServiceId {
        if self.fwmark != 0 {
            ServiceId::fwmark(self.fwmark, if self.v6 { Family::Inet6 } else { Family::Inet })
        } else {
            ServiceId::Inet { protocol: self.protocol, addr: self.addr, port: self.port }
        }
    }

    /// The service exactly as ipvsadm sends it.
    fn service(&self) -> Service {
        let id = self.service_id();
        let mut svc = Service::new(id, Scheduler::from_name(&self.scheduler));
        svc.flags = self.flags;
        svc.timeout = self.timeout;
        svc.netmask = match id.family() {
            Family::Inet6 => Netmask::Prefix(self.netmask.min(255) as u8),
            Family::Inet => Netmask::V4(Ipv4Addr::from(self.netmask)),
        };
        svc.persistence_engine = (!self.pe.is_empty()).then(|| PersistenceEngine::from_name(&self.pe));
        svc
    }

    /// The destination exactly as ipvsadm sends it.
    fn destination(&self) -> Destination {
        let forward = match self.forward {
            Forward::Tunnel(_) => Forward::Tunnel(match self.tun_kind {
                0 => Tunnel::Ipip,
                1 => Tunnel::Gue { port: self.tun_port, flags: self.tun_flags },
                _ => Tunnel::Gre { flags: self.tun_flags },
            }),
            other => other,
        };
        Destination::new(SocketAddr::new(self.dest_addr, self.dest_port), forward)
            .with_weight(self.weight)
            .with_thresholds(self.upper, self.lower)
    }

    fn daemon(&self) -> Daemon {
        let mut d = Daemon::new(self.daemon_state, self.ifname.clone(), self.sync_id);
        d.max_len = self.max_len;
        d.group = self.group;
        d.port = self.mcast_port;
        d.ttl = self.ttl;
        d
    }

    fn invocation(self) -> Invocation {
        let command = match self.cmd {
            Cmd::Add => Command::Write(Request::AddService(self.service())),
            Cmd::Edit => Command::Write(Request::UpdateService(self.service())),
            Cmd::Del => Command::Write(Request::DeleteService(self.service_id())),
            Cmd::Flush => Command::Write(Request::Flush),
            Cmd::Zero if self.options.has(Opt::Service) => Command::Write(Request::Zero(Some(self.service_id()))),
            Cmd::Zero => Command::Write(Request::Zero(None)),
            Cmd::AddDest => {
                Command::Write(Request::AddDestination { service: self.service_id(), destination: self.destination() })
            }
            Cmd::EditDest => Command::Write(Request::UpdateDestination {
                service: self.service_id(),
                destination: self.destination(),
            }),
            Cmd::DelDest => Command::Write(Request::DeleteDestination {
                service: self.service_id(),
                destination: SocketAddr::new(self.dest_addr, self.dest_port),
            }),
            Cmd::Timeout => Command::Write(Request::SetTimeouts(self.timeouts)),
            Cmd::StartDaemon => Command::Write(Request::StartDaemon(self.daemon())),
            Cmd::StopDaemon => Command::Write(Request::StopDaemon(self.daemon_state)),
            Cmd::Restore => Command::Restore,
            Cmd::Save => Command::Save,
            Cmd::List => Command::List(if self.options.has(Opt::Connection) {
                Listing::Connections
            } else if self.options.has(Opt::Service) {
                Listing::Service(self.service_id())
            } else if self.options.has(Opt::Timeout) {
                Listing::Timeouts
            } else if self.options.has(Opt::Daemon) {
                Listing::Daemons
            } else {
                Listing::Table
            }),
        };
        Invocation { command, options: self.options, format: self.format }
    }
}

fn try_help(program: &str) -> Exit {
    Exit {
        stdout: String::new(),
        stderr: format!("Try `{program} -h' or '{program} --help' for more information.\n"),
        code: 255,
    }
}

/// The command of the first option.
fn command(tag: Tag, value: Option<&str>, program: &str) -> Result<(Cmd, Option<DaemonState>), Exit> {
    Ok((
        match tag {
            Tag::AddService => Cmd::Add,
            Tag::EditService => Cmd::Edit,
            Tag::DeleteService => Cmd::Del,
            Tag::AddServer => Cmd::AddDest,
            Tag::EditServer => Cmd::EditDest,
            Tag::DeleteServer => Cmd::DelDest,
            Tag::Clear => Cmd::Flush,
            Tag::List => Cmd::List,
            Tag::Zero => Cmd::Zero,
            Tag::Set => Cmd::Timeout,
            Tag::Restore => Cmd::Restore,
            Tag::Save => Cmd::Save,
            Tag::StartDaemon | Tag::StopDaemon => {
                let start = tag == Tag::StartDaemon;
                let state = match value {
                    Some("master") => DaemonState::Master,
                    Some("backup") => DaemonState::Backup,
                    _ if start => return Err(Exit::fail("illegal start-daemon parameter specified")),
                    _ => return Err(Exit::fail("illegal start_daemon specified")),
                };
                return Ok((if start { Cmd::StartDaemon } else { Cmd::StopDaemon }, Some(state)));
            }
            Tag::Help => return Err(Exit { stdout: crate::text::usage(program), stderr: String::new(), code: 0 }),
            Tag::Version => return Err(Exit { stdout: crate::text::version(), stderr: String::new(), code: 0 }),
            _ => return Err(try_help(program)),
        },
        None,
    ))
}

/// `parse_service`: `address[:port]` into the draft's address and port; bit 1 address
/// set, bit 2 port set (0: unparsable).
fn parse_address(buf: &str, d: &mut Draft, names: &dyn Names) -> u32 {
    if buf.is_empty() || buf.bytes().all(|b| b.is_ascii_digit()) {
        return 0;
    }
    let (host, mut port) = if let Some(b) = buf.strip_prefix('[') {
        let Some((h, p)) = b.split_once(']') else { return 0 };
        let Some(p) = p.strip_prefix(':') else { return 0 };
        (h, Some(p))
    } else {
        (buf, None)
    };
    if let Ok(a6) = host.parse::<Ipv6Addr>() {
        d.addr = IpAddr::V6(a6);
        d.v6 = true;
        d.netmask = 128;
    } else {
        let host = match (port, host.rsplit_once(':')) {
            (None, Some((h, p))) => {
                port = Some(p);
                h
            }
            _ => host,
        };
        match inet_aton(host).or_else(|| names.host_to_v4(host)) {
            Some(a) => {
                d.addr = IpAddr::V4(a);
                d.v6 = false;
            }
            None => return 0,
        }
    }
    let mut result = 1;
    if let Some(p) = port {
        result |= 2;
        match number(p, 0, 65535).map(|n| n as u16).or_else(|| names.service_to_port(p, d.protocol)) {
            Some(n) => d.port = n,
            None => return 0,
        }
    }
    result
}

fn limited(a: &str, min: i64, max: i64, msg: &str) -> Result<i64, Exit> {
    number(a, min, max).ok_or_else(|| Exit::fail(msg))
}

/// One option (after the command): ipvsadm's handling of it.
fn option(d: &mut Draft, tag: Tag, arg: Option<String>, names: &dyn Names, popt: &Popt<'_>) -> Result<(), Exit> {
    let a = arg.clone().unwrap_or_default();
    match tag {
        Tag::Tcp | Tag::Udp | Tag::Sctp => {
            d.options.set(Opt::Service)?;
            d.protocol = match tag {
                Tag::Tcp => Protocol::Tcp,
                Tag::Udp => Protocol::Udp,
                _ => Protocol::Sctp,
            };
            if parse_address(&a, d, names) & 1 == 0 {
                return Err(Exit::fail("illegal virtual server address[:port] specified"));
            }
        }
        Tag::Fwmark => {
            d.options.set(Opt::Service)?;
            d.v6 = false;
            d.protocol = Protocol::Tcp;
            d.fwmark = number(&a, 1, i64::from(u32::MAX))
                .ok_or_else(|| Exit::fail(format!("invalid fwmark value `{a}' specified")))?
                as u32;
        }
        Tag::Scheduler => {
            d.options.set(Opt::Scheduler)?;
            d.scheduler = a.chars().take(ipvs::model::MAX_NAME_LEN).collect();
        }
        Tag::Persistent => {
            d.options.set(Opt::Persistent)?;
            d.flags |= ServiceFlags::PERSISTENT;
            d.timeout = match &arg {
                None => defaults::PERSISTENCE,
                Some(v) => number(v, 1, defaults::MAX_TIMEOUT)
                    .ok_or_else(|| Exit::fail(format!("invalid timeout value `{v}' specified")))?
                    as u32,
            };
        }
        Tag::Netmask => {
            d.options.set(Opt::Netmask)?;
            if !d.v6 {
                let m = inet_aton(&a)
                    .or_else(|| names.host_to_v4(&a))
                    .ok_or_else(|| Exit::fail("illegal virtual server persistent mask specified"))?;
                d.netmask = u32::from(m);
            } else {
                let n = atoi(&a);
                if !(1..=128).contains(&n) {
                    return Err(Exit::fail("illegal ipv6 netmask specified"));
                }
                d.netmask = n as u32;
            }
        }
        Tag::RealServer => {
            d.options.set(Opt::Server)?;
            // ipvsadm parses the server into a copy of the service, so the service's
            // protocol names its port, and its address and port are the fallback.
            let (addr, port, v6, mask) = (d.addr, d.port, d.v6, d.netmask);
            let parsed = parse_address(&a, d, names);
            (d.dest_addr, d.dest_port) = (d.addr, d.port);
            (d.addr, d.port, d.v6, d.netmask) = (addr, port, v6, mask);
            if parsed & 1 == 0 {
                return Err(Exit::fail("illegal real server address[:port] specified"));
            }
            if parsed == 1 {
                d.dest_port = d.port;
            }
        }
        Tag::Ipip | Tag::Gatewaying | Tag::Masquerading => {
            d.options.set(Opt::Forward)?;
            d.forward = match tag {
                Tag::Ipip => Forward::Tunnel(Tunnel::Ipip),
                Tag::Gatewaying => Forward::DirectRoute,
                _ => Forward::Masquerade,
            };
        }
        Tag::Weight => {
            d.options.set(Opt::Weight)?;
            d.weight = limited(&a, 0, i64::from(i32::MAX), "illegal weight specified")? as u32;
        }
        Tag::UThreshold => {
            d.options.set(Opt::UThreshold)?;
            d.upper = limited(&a, 0, i64::from(i32::MAX), "illegal u_threshold specified")? as u32;
        }
        Tag::LThreshold => {
            d.options.set(Opt::LThreshold)?;
            d.lower = limited(&a, 0, i64::from(i32::MAX), "illegal l_threshold specified")? as u32;
        }
        Tag::Connection => d.options.set(Opt::Connection)?,
        Tag::Numeric => {
            d.options.set(Opt::Numeric)?;
            d.format.numeric = true;
        }
        Tag::McastInterface => {
            d.options.set(Opt::Mcast)?;
            d.ifname = a.chars().take(ipvs::model::MAX_NAME_LEN).collect();
        }
        Tag::SyncId => {
            d.options.set(Opt::SyncId)?;
            d.sync_id = limited(&a, 0, 255, "illegal syncid specified")? as u8;
        }
        Tag::Timeout => d.options.set(Opt::Timeout)?,
        Tag::Daemon => d.options.set(Opt::Daemon)?,
        Tag::Stats => {
            d.options.set(Opt::Stats)?;
            d.format.stats = true;
        }
        Tag::Rate => {
            d.options.set(Opt::Rate)?;
            d.format.rate = true;
        }
        Tag::Thresholds => {
            d.options.set(Opt::Thresholds)?;
            d.format.thresholds = true;
        }
        Tag::PersistentConn => {
            d.options.set(Opt::PersistentConn)?;
            d.format.persistent_conn = true;
        }
        Tag::NoSort => {
            d.options.set(Opt::NoSort)?;
            d.format.nosort = true;
        }
        Tag::Sort => {}
        Tag::Exact => {
            d.options.set(Opt::Exact)?;
            d.format.exact = true;
        }
        Tag::Ipv6 => {
            if d.fwmark == 0 {
                return Err(Exit::fail("-6 used before -f\n"));
            }
            d.v6 = true;
            d.netmask = 128;
        }
        Tag::Ops => {
            d.options.set(Opt::OnePacket)?;
            d.flags |= ServiceFlags::ONE_PACKET;
        }
        Tag::Pe => {
            d.options.set(Opt::Pe)?;
            d.pe = a.chars().take(ipvs::model::MAX_NAME_LEN + 1).collect();
        }
        Tag::SchedFlags => {
            d.options.set(Opt::SchedFlags)?;
            d.sched_flags = a.chars().take(127).collect();
        }
        Tag::McastGroup => {
            d.options.set(Opt::McastGroup)?;
            let (ok, family) = if a.contains(':') {
                (a.parse::<Ipv6Addr>().ok().filter(|g| g.is_multicast()).map(IpAddr::V6), "IPv6")
            } else {
                (a.parse::<Ipv4Addr>().ok().filter(|g| g.is_multicast()).map(IpAddr::V4), "IPv4")
            };
            d.group = Some(ok.ok_or_else(|| Exit::fail(format!("invalid {family} mcast-group `{a}'")))?);
        }
        Tag::McastPort => {
            d.options.set(Opt::McastPort)?;
            d.mcast_port = Some(limited(&a, 1, 65535, "illegal mcast-port specified")? as u16);
        }
        Tag::McastTtl => {
            d.options.set(Opt::McastTtl)?;
            d.ttl = Some(limited(&a, 1, 255, "illegal mcast-ttl specified")? as u8);
        }
        Tag::SyncMaxlen => {
            d.options.set(Opt::SyncMaxlen)?;
            d.max_len = Some(limited(&a, 1, 65535 - 20 - 8, "illegal sync-maxlen specified")? as u16);
        }
        Tag::TunInfo => {
            d.options.set(Opt::TunInfo)?;
            d.format.tun_info = true;
        }
        Tag::TunType => {
            d.options.set(Opt::TunType)?;
            d.tun_kind = match a.as_str() {
                "ipip" => 0,
                "gue" => 1,
                "gre" => 2,
                _ => return Err(Exit::fail("illegal tunnel type specified")),
            };
        }
        Tag::TunPort => {
            d.options.set(Opt::TunPort)?;
            d.tun_port = limited(&a, 1, 65535, "illegal tunnel port specified")? as u16;
        }
        Tag::TunNocsum => d.options.set(Opt::TunNocsum)?,
        Tag::TunCsum => {
            d.options.set(Opt::TunCsum)?;
            d.tun_flags |= TunnelFlags::CSUM;
        }
        Tag::TunRemcsum => {
            d.options.set(Opt::TunRemcsum)?;
            d.tun_flags |= TunnelFlags::REMCSUM;
        }
        _ => return Err(Exit::fail(format!("invalid option `{}'", popt.last_word()))),
    }
    Ok(())
}

/// `--set`'s three timeouts, from the leftover arguments.
fn set_timeouts(d: &mut Draft, leftovers: &mut std::vec::IntoIter<String>) -> Result<(), Exit> {
    let (Some(a), Some(b), Some(c)) = (leftovers.next(), leftovers.next(), leftovers.next()) else {
        return Err(Exit::fail("--set option requires 3 timeout values"));
    };
    let t = |v: &str| {
        number(v, 0, defaults::MAX_TIMEOUT)
            .map(|n| n as u32)
            .ok_or_else(|| Exit::fail(format!("invalid timeout value `{v}' specified")))
    };
    d.timeouts = Timeouts { tcp: t(&a)?, tcp_fin: t(&b)?, udp: t(&c)? };
    Ok(())
}

/// `-b`: ipvsadm's scheduler flag names, checked against the scheduler (default wlc).
fn scheduler_flags(d: &Draft) -> Result<ServiceFlags, Exit> {
    let sched = Scheduler::from_name(if d.scheduler.is_empty() { defaults::SCHEDULER } else { &d.scheduler });
    let mut flags = ServiceFlags::empty();
    // strtok: empty pieces are skipped; no piece at all reads as one empty flag.
    let pieces: Vec<&str> = d.sched_flags.split(',').filter(|p| !p.is_empty()).collect();
    for flag in if pieces.is_empty() { vec![""] } else { pieces } {
        flags |= ServiceFlags::parse_scheduler_flag(flag, &sched).map_err(|e| {
            if e.reason.starts_with("unknown") {
                Exit::fail(format!("invalid scheduler flag `{flag}'"))
            } else {
                Exit::fail(format!("incompatible scheduler flag `{flag}'"))
            }
        })?;
    }
    Ok(flags)
}

/// The checks ipvsadm makes once every option is read.
fn finish(d: &mut Draft) -> Result<(), Exit> {
    if !d.sched_flags.is_empty() {
        d.flags -= ServiceFlags::SCHEDULER_FLAGS;
        d.flags |= scheduler_flags(d)?;
    }
    check_command(d.cmd, d.options)?;
    if matches!(d.cmd, Cmd::Add | Cmd::Edit) {
        if d.fwmark == 0 && d.port == 0 && !d.flags.contains(ServiceFlags::PERSISTENT) {
            return Err(Exit::fail("Zero port specified for non-persistent service"));
        }
        if d.flags.contains(ServiceFlags::ONE_PACKET) && d.fwmark == 0 && d.protocol != Protocol::Udp {
            return Err(Exit::fail("One-Packet Scheduling is only for UDP virtual services"));
        }
        if d.scheduler.is_empty() {
            d.scheduler = defaults::SCHEDULER.into();
        }
    }
    if d.cmd == Cmd::StartDaemon && d.ifname.is_empty() {
        d.ifname = defaults::DAEMON_INTERFACE.into();
    }
    if matches!(d.cmd, Cmd::AddDest | Cmd::EditDest) {
        if d.fwmark == 0 && matches!(d.forward, Forward::Tunnel(_) | Forward::DirectRoute) {
            d.dest_port = d.port;
        }
        if d.dest_addr.is_ipv6() != d.v6 && !matches!(d.forward, Forward::Tunnel(_)) {
            return Err(Exit::fail("Different address family is allowed only for tunneling servers"));
        }
        let tun_opts = [Opt::TunType, Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];
        if d.options.any(&tun_opts) && !matches!(d.forward, Forward::Tunnel(_)) {
            return Err(Exit::fail("Tunnel options conflict with forward method"));
        }
        check_tunnel(d.tun_kind, d.options)?;
    }
    Ok(())
}

/// Parses one ipvsadm command line (`argv[0]` is the program name).
///
/// ```
/// use ipvsadm_compat::{parse, Command, NoNames};
/// use ipvs::{Request, Scheduler};
/// let argv: Vec<String> = ["ipvsadm", "-A", "-t", "192.0.2.1:80"].map(String::from).to_vec();
/// let Command::Write(Request::AddService(svc)) = parse(&argv, &NoNames).unwrap().command else { panic!() };
/// assert_eq!(svc.scheduler, Scheduler::Wlc); // ipvsadm's default
/// let argv: Vec<String> = ["ipvsadm", "-A", "-t", "192.0.2.1:0"].map(String::from).to_vec();
/// assert_eq!(parse(&argv, &NoNames).unwrap_err().stderr, "Zero port specified for non-persistent service\n");
/// ```
pub fn parse(argv: &[String], names: &dyn Names) -> Parsed {
    let program = argv.first().map(String::as_str).unwrap_or("ipvsadm");
    let mut popt = Popt::new(argv);
    let Some(Ok((first, value))) = popt.next_opt() else { return Err(try_help(program)) };
    let (cmd, state) = command(first, value.as_deref(), program)?;
    let mut d = Draft::new(cmd);
    if let Some(s) = state {
        d.daemon_state = s;
    }
    while let Some(next) = popt.next_opt() {
        match next {
            Ok((tag, arg)) => option(&mut d, tag, arg, names, &popt)?,
            Err(e) => {
                return Err(Exit { stdout: String::new(), stderr: format!("{}: {}\n", e.arg, e.text), code: 255 })
            }
        }
    }
    let mut leftovers = std::mem::take(&mut popt.leftovers).into_iter();
    if cmd == Cmd::Timeout {
        set_timeouts(&mut d, &mut leftovers)?;
    }
    if let Some(extra) = leftovers.next() {
        return Err(Exit::fail(format!("unexpected argument {extra}")));
    }
    finish(&mut d)?;
    Ok(d.invocation())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NoNames;

    fn p(line: &str) -> Parsed {
        let argv: Vec<String> = std::iter::once("ipvsadm").chain(line.split_whitespace()).map(String::from).collect();
        parse(&argv, &NoNames)
    }

    fn write(line: &str) -> Request {
        match p(line).unwrap().command {
            Command::Write(r) => r,
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn bundled_short_options_and_defaults() {
        let inv = p("-Ln").unwrap();
        assert_eq!(inv.command, Command::List(Listing::Table));
        assert!(inv.format.numeric);
        let Request::AddService(svc) = write("-A -t 192.0.2.1:80") else { panic!() };
        assert_eq!((svc.scheduler, svc.id.to_string()), (Scheduler::Wlc, "TCP 192.0.2.1:80".to_string()));
        let Request::AddDestination { destination: d, .. } = write("-a -t 192.0.2.1:80 -r 198.51.100.1") else {
            panic!()
        };
        assert_eq!((d.forward, d.weight, d.port), (Forward::DirectRoute, 1, 80));
    }

    #[test]
    fn persistent_takes_an_optional_value() {
        let timeout = |line: &str| match write(line) {
            Request::AddService(s) => (s.timeout, s.scheduler),
            _ => panic!(),
        };
        assert_eq!(timeout("-A -t 192.0.2.1:0 -p"), (360, Scheduler::Wlc));
        assert_eq!(timeout("-A -t 192.0.2.1:0 -p 600 -s rr"), (600, Scheduler::Rr));
        assert_eq!(timeout("-A -t 192.0.2.1:0 -p -s rr"), (360, Scheduler::Rr));
    }

    #[test]
    fn order_effects_are_ipvsadms() {
        // -6 after -f makes the service IPv6 and its mask /128.
        let Request::AddService(s) = write("-A -f 5 -6 -s rr") else { panic!() };
        assert_eq!((s.id.family(), s.netmask), (Family::Inet6, Netmask::Prefix(128)));
        // A tunnel destination keeps the virtual port, a NAT one its own.
        let Request::AddDestination { destination: d, .. } = write("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -i") else {
            panic!()
        };
        assert_eq!(d.port, 80);
        let Request::AddDestination { destination: d, .. } = write("-a -t 192.0.2.1:80 -r 198.51.100.1:8080 -m") else {
            panic!()
        };
        assert_eq!(d.port, 8080);
    }

    #[test]
    fn messages_and_exit_codes() {
        assert_eq!(p("-A -t 192.0.2.1:0").unwrap_err(), Exit::fail("Zero port specified for non-persistent service"));
        assert_eq!(
            p("-A").unwrap_err(),
            Exit::fail("You need to supply the 'service-address' option for the 'add-service' command")
        );
        assert_eq!(p("-t 192.0.2.1:80").unwrap_err().code, 255);
        assert_eq!(
            p("-A -t 192.0.2.1:80 -r 1.2.3.4").unwrap_err().stderr,
            "Illegal 'real-server' option with the 'add-service' command\n"
        );
        assert_eq!(p("-A -t 192.0.2.1:80 -w 3000000000").unwrap_err().stderr, "illegal weight specified\n");
        assert_eq!(p("-L --frobnicate").unwrap_err().stderr, "--frobnicate: unknown option\n");
        assert_eq!(
            p("-A -t 192.0.2.1:80 -s rr -s wrr").unwrap_err().stderr,
            "multiple 'scheduler' options specified\n"
        );
    }

    #[test]
    fn every_command_line_message() {
        let cases: &[(&str, &str, i32)] = &[
            ("--set 1 2", "--set option requires 3 timeout values\n", 2),
            ("--set 1 2 x", "invalid timeout value `x' specified\n", 2),
            ("-A -6 -f 5", "-6 used before -f\n\n", 2),
            (
                "-a -t 192.0.2.1:80 -r [2001:db8::1]:80 -m",
                "Different address family is allowed only for tunneling servers\n",
                2,
            ),
            ("-A -t 192.0.2.1:80 -o", "One-Packet Scheduling is only for UDP virtual services\n", 2),
            (
                "-a -t 192.0.2.1:80 -r 198.51.100.1 -m --tun-type gre",
                "Tunnel options conflict with forward method\n",
                2,
            ),
            ("-A -u [2001:db8::1]:80 -p 1 -M 129", "illegal ipv6 netmask specified\n", 2),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -y x", "illegal l_threshold specified\n", 2),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -x -1", "illegal u_threshold specified\n", 2),
            ("--start-daemon master --mcast-port 0", "illegal mcast-port specified\n", 2),
            ("--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified\n", 2),
            ("--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified\n", 2),
            ("--start-daemon master --syncid 256", "illegal syncid specified\n", 2),
            ("--start-daemon primary", "illegal start-daemon parameter specified\n", 2),
            ("--stop-daemon primary", "illegal start_daemon specified\n", 2),
            ("--start-daemon master --mcast-group 198.51.100.1", "invalid IPv4 mcast-group `198.51.100.1'\n", 2),
            ("--start-daemon master --mcast-group ff02::zz", "invalid IPv6 mcast-group `ff02::zz'\n", 2),
            ("-a -t 192.0.2.1:80 -r nowhere.invalid", "illegal real server address[:port] specified\n", 2),
            ("-A -t 192.0.2.300:80", "illegal virtual server address[:port] specified\n", 2),
            ("-A -t 80", "illegal virtual server address[:port] specified\n", 2),
            ("-A -t 192.0.2.1:80 -p 1 -M 300.0.0.0", "illegal virtual server persistent mask specified\n", 2),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type vxlan", "illegal tunnel type specified\n", 2),
            ("-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue --tun-port 0", "illegal tunnel port specified\n", 2),
            (
                "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue",
                "You need to supply the 'tun-port' option for the 'gue' tunnel type\n",
                2,
            ),
            (
                "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type ipip --tun-csum",
                "Illegal 'tun-csum' option with the 'ipip' tunnel type\n",
                2,
            ),
            (
                "-a -t 192.0.2.1:80 -r 198.51.100.1 -i --tun-type gue --tun-port 1 --tun-csum --tun-nocsum",
                "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type\n",
                2,
            ),
            ("-A -t 192.0.2.1:80 -s sh -b mh-port", "incompatible scheduler flag `mh-port'\n", 2),
            ("-A -t 192.0.2.1:80 -b bogus", "invalid scheduler flag `bogus'\n", 2),
            ("-A -f 0", "invalid fwmark value `0' specified\n", 2),
            ("-A -t 192.0.2.1:80 -p 0", "invalid timeout value `0' specified\n", 2),
            ("-A -t 192.0.2.1:80 extra", "unexpected argument extra\n", 2),
            ("-A -D -t 192.0.2.1:80", "invalid option `-D'\n", 2),
            (
                "-L --timeout --daemon",
                "The option 'daemon' conflicts with the 'timeout' option in the 'list' command\n",
                2,
            ),
            ("-C -t 192.0.2.1:80", "Illegal 'service-address' option with the 'flush' command\n", 2),
            ("-A -t", "-t: missing argument\n", 255),
            ("-L -q", "-q: unknown option\n", 255),
            ("-t 192.0.2.1:80 -A", "Try `ipvsadm -h' or 'ipvsadm --help' for more information.\n", 255),
        ];
        for &(line, stderr, code) in cases {
            let e = p(line).err().unwrap_or_else(|| panic!("{line}: parsed"));
            assert_eq!((e.stderr.as_str(), e.code), (stderr, code), "{line}");
        }
    }
}
