//! Running a parsed ipvsadm command against a client: what ipvsadm sends, what it prints,
//! its error texts and exit statuses. Requests go to the transport as ipvsadm sends them,
//! so the kernel (or the mock) judges them, as it does for ipvsadm.

use std::io::BufRead;
use std::net::{Ipv4Addr, SocketAddr};

use super::args::{self, Cmd, Invocation, O_CONNECTION, O_DAEMON, O_PERSISTENTCONN, O_RATE, O_SERVICE};
use super::args::{O_STATS, O_THRESHOLDS, O_TIMEOUT};
use super::names::Names;
use super::render;
use crate::error::Operation;
use crate::transport::Transport;
use crate::wire::IpvsMessage;
use crate::{
    Client, Daemon, DaemonState, Destination, Errno, Error, ErrorKind, Forward, Netmask, PersistenceEngine, Protocol,
    Scheduler, Service, ServiceFlags, ServiceId, Timeouts, Tunnel, TunnelFlags,
};

/// What one run printed and its status, accumulated over the lines of `-R`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Output {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status.
    pub code: i32,
}

/// ipvsadm's text for a failed operation (`ipvs_strerror`).
pub fn error_text(op: Operation, errno: Errno) -> String {
    use Operation as O;
    let specific = match (op, errno) {
        (O::AddService, Errno::EEXIST) => Some("Service already exists"),
        (O::AddService | O::UpdateService, Errno::ENOENT) => Some("Scheduler or persistence engine not found"),
        (O::UpdateService | O::DeleteService | O::Zero, Errno::ESRCH) => Some("No such service"),
        (O::AddDestination | O::UpdateDestination | O::DeleteDestination, Errno::ESRCH) => Some("Service not defined"),
        (O::AddDestination, Errno::EEXIST) => Some("Destination already exists"),
        (O::UpdateDestination | O::DeleteDestination, Errno::ENOENT) => Some("No such destination"),
        (O::StartDaemon, Errno::EEXIST) => Some("Daemon has already run"),
        (O::StopDaemon, Errno::ESRCH) => Some("No daemon is running"),
        (O::ListServices | O::ListDestinations | O::GetService, Errno::ESRCH) => Some("No such service"),
        _ => None,
    };
    if let Some(t) = specific {
        return t.to_owned();
    }
    match errno {
        Errno::EPERM => "Permission denied (you must be root)".into(),
        Errno::EINVAL => "Invalid operation.  Possibly wrong module version, address not unicast, ...".into(),
        Errno::ENOPROTOOPT => "Protocol not available".into(),
        Errno::ENOMEM => "Memory allocation problem".into(),
        Errno::EOPNOTSUPP => "Operation not supported with IPv6".into(),
        Errno::EAFNOSUPPORT => "Operation not supported with specified address family".into(),
        Errno::EMSGSIZE => "Module is wrong version".into(),
        e => e.description(),
    }
}

fn errno_of(e: &ErrorKind) -> Errno {
    match e {
        ErrorKind::Kernel(n) => *n,
        ErrorKind::Io(io) => Errno(io.raw_os_error().unwrap_or(Errno::EIO.0)),
        ErrorKind::TimedOut => Errno::ETIMEDOUT,
        _ => Errno::EINVAL,
    }
}

fn service_id(inv: &Invocation) -> ServiceId {
    let s = &inv.svc;
    if s.fwmark != 0 {
        ServiceId::fwmark(s.fwmark, if s.v6 { crate::Family::Inet6 } else { crate::Family::Inet })
    } else {
        ServiceId::Inet { protocol: Protocol::from_number(u16::from(s.protocol)), addr: s.addr, port: s.port }
    }
}

/// The service exactly as ipvsadm sends it.
fn service(inv: &Invocation) -> Service {
    let s = &inv.svc;
    let id = service_id(inv);
    let mut svc = Service::new(id, Scheduler::from_name(&s.sched));
    svc.flags = ServiceFlags::from_bits_retain(s.flags);
    svc.timeout = s.timeout;
    svc.netmask = if id.family() == crate::Family::Inet6 {
        Netmask::Prefix(s.netmask.min(255) as u8)
    } else {
        Netmask::V4(Ipv4Addr::from(s.netmask))
    };
    svc.persistence_engine = (!s.pe.is_empty()).then(|| PersistenceEngine::from_name(&s.pe));
    svc
}

/// The destination exactly as ipvsadm sends it.
fn destination(inv: &Invocation) -> Destination {
    let d = &inv.dest;
    let flags = TunnelFlags::from_bits_retain(d.tun_flags);
    let forward = match d.fwd {
        0 => Forward::Masquerade,
        1 => Forward::Local,
        2 => Forward::Tunnel(match d.tun_type {
            0 => Tunnel::Ipip,
            1 => Tunnel::Gue { port: d.tun_port, flags },
            2 => Tunnel::Gre { flags },
            k => Tunnel::Other { kind: k, port: d.tun_port, flags },
        }),
        3 => Forward::DirectRoute,
        n => Forward::Other(n),
    };
    let mut dest = Destination::new(SocketAddr::new(d.addr, d.port), forward);
    dest.weight = d.weight;
    dest.upper_threshold = d.u_threshold;
    dest.lower_threshold = d.l_threshold;
    dest
}

fn daemon(inv: &Invocation) -> Daemon {
    let d = &inv.daemon;
    let state = if d.state == 2 { DaemonState::Backup } else { DaemonState::Master };
    let mut out = Daemon::new(state, d.ifname.clone(), d.syncid);
    out.max_len = (d.maxlen != 0).then_some(d.maxlen);
    out.group = d.group;
    out.port = (d.port != 0).then_some(d.port);
    out.ttl = (d.ttl != 0).then_some(d.ttl);
    out
}

/// The request a table-writing command sends, with the operation its errors are named by;
/// None for commands that read, or drive daemons (those are not pipelined).
fn write_request(inv: &Invocation) -> Option<(Operation, IpvsMessage)> {
    Some(match inv.cmd {
        Cmd::Flush => (Operation::Flush, IpvsMessage::flush()),
        Cmd::Add => (Operation::AddService, IpvsMessage::new_service(&service(inv))),
        Cmd::Edit => (Operation::UpdateService, IpvsMessage::set_service(&service(inv))),
        Cmd::Del => (Operation::DeleteService, IpvsMessage::del_service(&service_id(inv))),
        Cmd::Zero => (
            Operation::Zero,
            if inv.has(O_SERVICE) { IpvsMessage::zero(Some(&service_id(inv))) } else { IpvsMessage::zero(None) },
        ),
        Cmd::AddDest => (Operation::AddDestination, IpvsMessage::new_dest(&service_id(inv), &destination(inv))),
        Cmd::EditDest => (Operation::UpdateDestination, IpvsMessage::set_dest(&service_id(inv), &destination(inv))),
        Cmd::DelDest => {
            let d = destination(inv);
            (Operation::DeleteDestination, IpvsMessage::del_dest(&service_id(inv), &SocketAddr::new(d.addr, d.port)))
        }
        Cmd::Timeout => {
            let (tcp, tcp_fin, udp) = inv.timeouts;
            (Operation::SetTimeouts, IpvsMessage::set_config(&Timeouts { tcp, tcp_fin, udp }))
        }
        _ => return None,
    })
}

/// Sends one write request as ipvsadm would; the errno on failure.
fn send<T: Transport>(client: &Client<T>, msg: IpvsMessage) -> Result<(), Errno> {
    client.transport().request(&msg).map(|_| ()).map_err(|e| errno_of(&e))
}

fn list_error(out: &mut Output, e: Error) {
    out.stderr.push_str(&error_text(e.operation(), e.errno().unwrap_or(errno_of(e.kind()))));
    out.stderr.push('\n');
    out.code = 1;
}

/// Lists the whole table (or rules, with `format.rule`).
fn list_all<T: Transport>(client: &Client<T>, f: &args::Format, names: &dyn Names, out: &mut Output) -> bool {
    if !f.rule {
        match client.info() {
            Ok(info) => out.stdout.push_str(&render::header(&info)),
            Err(e) => {
                list_error(out, e);
                return false;
            }
        }
    }
    let mut services = match client.services() {
        Ok(s) => s,
        Err(e) => {
            list_error(out, e);
            return false;
        }
    };
    if !f.nosort {
        render::sort_services(&mut services);
    }
    out.stdout.push_str(&render::title(f));
    for s in &services {
        match client.destinations(&s.id) {
            Ok(d) => render::service_entry(&mut out.stdout, s, &d, f, names),
            Err(e) => {
                list_error(out, e);
                return false;
            }
        }
    }
    true
}

/// Runs one parsed command. `Err` is an exit that ends the whole run (`fail`, `exit`).
fn execute<T: Transport>(
    client: &Client<T>,
    inv: &Invocation,
    names: &dyn Names,
    stdin: Option<&mut dyn BufRead>,
    program: &str,
    out: &mut Output,
) -> Result<i32, ()> {
    let op_result = match inv.cmd {
        Cmd::List => {
            let conflict = (inv.options & ((1 << O_CONNECTION) | (1 << O_TIMEOUT) | (1 << O_DAEMON)) != 0
                && inv.options & ((1 << O_STATS) | (1 << O_RATE) | (1 << O_THRESHOLDS)) != 0)
                || (inv.options & ((1 << O_TIMEOUT) | (1 << O_DAEMON)) != 0 && inv.has(O_PERSISTENTCONN));
            if conflict {
                out.stderr.push_str("options conflicts in the list command\n");
                out.code = 2;
                return Err(());
            }
            if inv.has(O_CONNECTION) {
                // The connection table is read from /proc/net/ip_vs_conn.
                match std::fs::read_to_string("/proc/net/ip_vs_conn") {
                    Ok(text) => out.stdout.push_str(&super::conns::render(&text, &inv.format, names)),
                    Err(_) => {
                        out.stderr.push_str("/proc/net/ip_vs_conn: No such file or directory\n");
                    }
                }
                return Ok(0);
            } else if inv.has(O_SERVICE) {
                match client.service(&service_id(inv)) {
                    Ok(s) => match client.destinations(&s.id) {
                        Ok(d) => {
                            out.stdout.push_str(&render::title(&inv.format));
                            render::service_entry(&mut out.stdout, &s, &d, &inv.format, names);
                        }
                        Err(e) => {
                            list_error(out, e);
                            return Err(());
                        }
                    },
                    Err(e) => {
                        list_error(out, e);
                        return Err(());
                    }
                }
            } else if inv.has(O_TIMEOUT) {
                match client.timeouts() {
                    Ok(t) => out.stdout.push_str(&render::timeouts(&t)),
                    Err(_) => {
                        out.code = 1;
                        return Err(());
                    }
                }
            } else if inv.has(O_DAEMON) {
                match client.daemons() {
                    Ok(d) => out.stdout.push_str(&render::daemons(&d)),
                    Err(_) => {
                        out.code = 1;
                        return Err(());
                    }
                }
            } else if !list_all(client, &inv.format, names, out) {
                return Err(());
            }
            return Ok(0);
        }
        Cmd::Save => {
            let mut f = inv.format;
            f.rule = true;
            if !list_all(client, &f, names, out) {
                return Err(());
            }
            return Ok(0);
        }
        Cmd::Restore => {
            let Some(input) = stdin else {
                out.stderr.push_str(&format!("Try `{program} -h' or '{program} --help' for more information.\n"));
                out.code = 255;
                return Err(());
            };
            return restore(client, input, names, program, out);
        }
        Cmd::Flush
        | Cmd::Add
        | Cmd::Edit
        | Cmd::Del
        | Cmd::Zero
        | Cmd::AddDest
        | Cmd::EditDest
        | Cmd::DelDest
        | Cmd::Timeout => match write_request(inv) {
            Some((op, msg)) => (op, send(client, msg)),
            None => return Ok(0),
        },
        Cmd::StartDaemon => (Operation::StartDaemon, client.start_daemon(&daemon(inv)).map_err(|e| errno_of(e.kind()))),
        Cmd::StopDaemon => {
            let state = if inv.daemon.state == 2 { DaemonState::Backup } else { DaemonState::Master };
            (Operation::StopDaemon, client.stop_daemon(state).map_err(|e| errno_of(e.kind())))
        }
    };
    match op_result {
        (_, Ok(())) => Ok(0),
        (op, Err(errno)) => {
            out.stderr.push_str(&error_text(op, errno));
            out.stderr.push('\n');
            Ok(255)
        }
    }
}

/// `-R`: ipvsadm's rule reader. Words are split on blanks; the word `ipvsadm` is dropped
/// wherever it stands; a line with words is run as a command line. Kernel failures are
/// reported and reading goes on; the status is the last command's. A command-line error ends
/// the run, as it ends ipvsadm.
///
/// Unlike ipvsadm, consecutive table writes are pipelined on the socket (`Client::batch`):
/// the same requests in the same order, with each failure reported in order, without a round
/// trip per line.
fn restore<T: Transport>(
    client: &Client<T>,
    input: &mut dyn BufRead,
    names: &dyn Names,
    program: &str,
    out: &mut Output,
) -> Result<i32, ()> {
    let mut result = 0;
    let mut line = String::new();
    let mut pending: Vec<(Operation, IpvsMessage)> = Vec::new();
    loop {
        line.clear();
        let eof = !matches!(input.read_line(&mut line), Ok(n) if n > 0);
        let mut argv = vec![program.to_owned()];
        argv.extend(
            line.split([' ', '\t', '\r', '\n']).filter(|w| !w.is_empty() && *w != "ipvsadm").map(str::to_owned),
        );
        let inv = if argv.len() > 1 { Some(args::parse(&argv, names)) } else { None };
        let batchable = matches!(&inv, Some(Ok(i)) if write_request(i).is_some());
        if !batchable || pending.len() >= RESTORE_BATCH {
            if let Some(code) = flush_batch(client, &mut pending, out) {
                result = code;
            }
        }
        match inv {
            None if eof => break,
            None => continue,
            Some(Err(exit)) => {
                out.stdout.push_str(&exit.stdout);
                out.stderr.push_str(&exit.stderr);
                out.code = exit.code;
                return Err(());
            }
            Some(Ok(inv)) => match write_request(&inv) {
                Some(req) => pending.push(req),
                // A restore inside a restore would read the same input forever.
                None => result = execute(client, &inv, names, None, program, out)?,
            },
        }
        if eof {
            if let Some(code) = flush_batch(client, &mut pending, out) {
                result = code;
            }
            break;
        }
    }
    Ok(result)
}

/// Requests pipelined per batch by `-R`.
const RESTORE_BATCH: usize = 4096;

/// Sends the pending writes as one batch and reports each failure in order; the status of
/// the last one (None if nothing was pending).
fn flush_batch<T: Transport>(
    client: &Client<T>,
    pending: &mut Vec<(Operation, IpvsMessage)>,
    out: &mut Output,
) -> Option<i32> {
    if pending.is_empty() {
        return None;
    }
    let msgs: Vec<IpvsMessage> = pending.iter().map(|(_, m)| m.clone()).collect();
    let outcomes = match client.transport().batch(&msgs) {
        Ok(o) => o,
        Err(e) => vec![Err(errno_of(&e)); msgs.len()],
    };
    let mut last = 0;
    for ((op, _), outcome) in pending.iter().zip(outcomes) {
        last = match outcome {
            Ok(()) => 0,
            Err(errno) => {
                out.stderr.push_str(&error_text(*op, errno));
                out.stderr.push('\n');
                255
            }
        };
    }
    pending.clear();
    Some(last)
}

/// Runs ipvsadm's command line `argv` (with `argv[0]`) against `client`, reading `-R` rules
/// from `stdin`, and returns what it printed and its exit status.
///
/// ```
/// use ipvs::ipvsadm::{run, NoNames};
/// let client = ipvs::Client::mock();
/// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert_eq!(run(&client, &argv("ipvsadm -A -t 192.0.2.1:80 -s rr"), &mut &b""[..], &NoNames).code, 0);
/// let out = run(&client, &argv("ipvsadm -A -t 192.0.2.1:80 -s rr"), &mut &b""[..], &NoNames);
/// assert_eq!((out.stderr.as_str(), out.code), ("Service already exists\n", 255));
/// let out = run(&client, &argv("ipvsadm -Sn"), &mut &b""[..], &NoNames);
/// assert_eq!(out.stdout, "-A -t 192.0.2.1:80 -s rr\n");
/// ```
pub fn run<T: Transport>(client: &Client<T>, argv: &[String], stdin: &mut dyn BufRead, names: &dyn Names) -> Output {
    let mut out = Output::default();
    let program = argv.first().cloned().unwrap_or_else(|| "ipvsadm".into());
    if argv.len() <= 1 {
        list_all(client, &args::Format::default(), names, &mut out);
        return out;
    }
    match args::parse(argv, names) {
        Err(exit) => Output { stdout: exit.stdout, stderr: exit.stderr, code: exit.code },
        Ok(inv) => {
            if let Ok(code) = execute(client, &inv, names, Some(stdin), &program, &mut out) {
                out.code = code;
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::names::NoNames;
    use super::*;

    fn sh(client: &Client<crate::transport::MockTransport>, line: &str, stdin: &str) -> Output {
        let argv: Vec<String> = std::iter::once("ipvsadm").chain(line.split_whitespace()).map(String::from).collect();
        run(client, &argv, &mut stdin.as_bytes(), &NoNames)
    }

    #[test]
    fn every_kernel_error_text() {
        use Operation as O;
        let cases = [
            (O::AddService, Errno::EEXIST, "Service already exists"),
            (O::AddService, Errno::ENOENT, "Scheduler or persistence engine not found"),
            (O::UpdateService, Errno::ENOENT, "Scheduler or persistence engine not found"),
            (O::UpdateService, Errno::ESRCH, "No such service"),
            (O::DeleteService, Errno::ESRCH, "No such service"),
            (O::Zero, Errno::ESRCH, "No such service"),
            (O::AddDestination, Errno::ESRCH, "Service not defined"),
            (O::AddDestination, Errno::EEXIST, "Destination already exists"),
            (O::UpdateDestination, Errno::ESRCH, "Service not defined"),
            (O::UpdateDestination, Errno::ENOENT, "No such destination"),
            (O::DeleteDestination, Errno::ENOENT, "No such destination"),
            (O::StartDaemon, Errno::EEXIST, "Daemon has already run"),
            (O::StopDaemon, Errno::ESRCH, "No daemon is running"),
            (O::ListServices, Errno::ESRCH, "No such service"),
            (O::Flush, Errno::EPERM, "Permission denied (you must be root)"),
            (
                O::AddDestination,
                Errno::EINVAL,
                "Invalid operation.  Possibly wrong module version, address not unicast, ...",
            ),
            (O::Flush, Errno::ENOPROTOOPT, "Protocol not available"),
            (O::Flush, Errno::ENOMEM, "Memory allocation problem"),
            (O::Flush, Errno::EOPNOTSUPP, "Operation not supported with IPv6"),
            (O::Flush, Errno::EAFNOSUPPORT, "Operation not supported with specified address family"),
            (O::Flush, Errno::EMSGSIZE, "Module is wrong version"),
            (O::AddService, Errno::ERANGE, "Numerical result out of range"),
            (O::StartDaemon, Errno::ENODEV, "No such device"),
        ];
        for (op, errno, text) in cases {
            assert_eq!(error_text(op, errno), text, "{op:?} {errno:?}");
        }
    }

    #[test]
    fn restore_then_list() {
        let c = Client::mock();
        let r = sh(&c, "-R", "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        let l = sh(&c, "-Ln", "");
        assert_eq!(
            l.stdout,
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
             TCP  192.0.2.1:80 wrr\n  -> 198.51.100.1:80              Masq    2      0          0         \n"
        );
        assert_eq!(
            sh(&c, "-Sn", "").stdout,
            "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n"
        );
    }

    #[test]
    fn list_option_conflicts_and_kernel_messages() {
        let c = Client::mock();
        assert_eq!(sh(&c, "-Lc --stats", "").stderr, "options conflicts in the list command\n");
        let r = sh(&c, "-D -t 192.0.2.9:80", "");
        assert_eq!((r.stderr.as_str(), r.code), ("No such service\n", 255));
        let r = sh(&c, "-a -t 192.0.2.9:80 -r 198.51.100.1", "");
        assert_eq!(r.stderr, "Service not defined\n");
        let r = sh(&c, "-A -t 192.0.2.9:80 -s nosuch", "");
        assert_eq!(r.stderr, "Scheduler or persistence engine not found\n");
        let r = sh(&c, "-Ln -t 192.0.2.9:80", "");
        assert_eq!((r.stderr.as_str(), r.code), ("No such service\n", 1));
    }

    #[test]
    fn restore_goes_on_past_kernel_errors_and_stops_at_syntax_errors() {
        let c = Client::mock();
        let r = sh(&c, "-R", "-A -t 192.0.2.1:80\n-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80\n");
        assert_eq!((r.stderr.as_str(), r.code), ("Service already exists\n", 0));
        let r = sh(&c, "-R", "-A -t 192.0.2.3:80\n-A -t 192.0.2.4:0\n-A -t 192.0.2.5:80\n");
        assert_eq!((r.stderr.as_str(), r.code), ("Zero port specified for non-persistent service\n", 2));
        assert_eq!(c.services().unwrap().len(), 3);
    }
}
