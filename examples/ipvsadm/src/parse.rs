//! One ipvsadm command line into a typed [`Invocation`]: popt's scan, each option's handling
//! as ipvsadm 1.31 does it (its defaults, checks and messages), then the legality checks.
//!
//! While options are read, the parser keeps ipvsadm's own working state (its order effects
//! are part of its behaviour: `-6` after `-f`, a netmask read before the address family is
//! known); the result is built from the model's types.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipvs::{
    Daemon, DaemonState, Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Request, Scheduler,
    Service, ServiceFlags, ServiceId, Timeouts, Tunnel, TunnelFlags,
};

use crate::cnum::number;
use crate::legal::{check_command, check_tunnel, Cmd, Opt, Options};
use crate::names::Names;
use crate::options::option;
use crate::popt::{Popt, Tag};
use crate::Exit;

/// ipvsadm's defaults: those of its rule format (`ipvs::rules::defaults`), and its own limits.
pub mod defaults {
    pub use ipvs::rules::defaults::*;
    /// The largest timeout ipvsadm takes, persistence and `--set` (`INT_MAX / 1000`).
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
pub(crate) struct Draft {
    pub(crate) cmd: Cmd,
    pub(crate) options: Options,
    pub(crate) format: Format,
    pub(crate) v6: bool,
    pub(crate) protocol: Protocol,
    pub(crate) addr: IpAddr,
    pub(crate) port: u16,
    pub(crate) fwmark: u32,
    pub(crate) scheduler: String,
    pub(crate) flags: ServiceFlags,
    pub(crate) timeout: u32,
    /// The mask as ipvsadm keeps it for both families: an IPv4 mask or a prefix length.
    pub(crate) netmask: u32,
    pub(crate) pe: String,
    pub(crate) sched_flags: String,
    pub(crate) dest_addr: IpAddr,
    pub(crate) dest_port: u16,
    pub(crate) forward: Forward,
    pub(crate) weight: u32,
    pub(crate) upper: u32,
    pub(crate) lower: u32,
    pub(crate) tun_kind: usize,
    pub(crate) tun_port: u16,
    pub(crate) tun_flags: TunnelFlags,
    pub(crate) daemon_state: DaemonState,
    pub(crate) ifname: String,
    pub(crate) sync_id: u8,
    pub(crate) max_len: Option<u16>,
    pub(crate) group: Option<IpAddr>,
    pub(crate) mcast_port: Option<u16>,
    pub(crate) ttl: Option<u8>,
    pub(crate) timeouts: Timeouts,
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
            // ipvsadm's checks (legal.rs) allow a port only for GUE and checksum options
            // only for GUE and GRE, so these parts make a known tunnel.
            Forward::Tunnel(_) => {
                Forward::Tunnel(Tunnel::from_parts(self.tun_kind as u8, self.tun_port, self.tun_flags))
            }
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
    let sched = if d.scheduler.is_empty() { defaults::SCHEDULER } else { Scheduler::from_name(&d.scheduler) };
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
            d.scheduler = defaults::SCHEDULER.name().into();
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
