//! Running a parsed command against a transport: what ipvsadm sends, what it prints, its
//! error texts and exit statuses. Writes go to the transport as ipvsadm sends them (no
//! validation of the library's own), so the kernel judges them, as it judges ipvsadm's.

use std::io::{BufRead, Read};

use ipvs::rules;
use ipvs::transport::Transport;
use ipvs::wire::IpvsMessage;
use ipvs::{Client, Errno, Error, Operation, Request};

use crate::legal::Opt;
use crate::listing;
use crate::names::{Names, Shown};
use crate::parse::{self, Command, Format, Invocation, Listing};

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

/// The longest `-R` line read, in bytes (the library's bound for rule lines).
pub const MAX_RESTORE_LINE: usize = rules::MAX_LINE;
/// Writes pipelined per batch by `-R`.
const RESTORE_BATCH: usize = 4096;

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

type Ipvs<'a> = Client<&'a dyn Transport>;

fn report(out: &mut Output, e: &Error, code: i32) {
    out.stderr.push_str(&error_text(e.operation(), e.errno()));
    out.stderr.push('\n');
    out.code = code;
}

/// Lists the whole table: as a listing, or (`rule`) as saved rules.
fn list_all(client: &Ipvs<'_>, f: &Format, rule: bool, names: &dyn Names, out: &mut Output) -> Result<(), ()> {
    if !rule {
        let info = client.info().map_err(|e| report(out, &e, 1))?;
        out.stdout.push_str(&listing::header(&info));
    }
    let mut services = client.services().map_err(|e| report(out, &e, 1))?;
    if !f.nosort {
        rules::order::sort_by_service(&mut services, |s| &s.service.id);
    }
    if !rule {
        out.stdout.push_str(&listing::title(f));
    }
    let shown = Shown(names);
    let numeric = rules::Numeric;
    let rule_names: &dyn rules::AddressNames = if f.numeric { &numeric } else { &shown };
    for s in &services {
        let mut dests = client.destinations(&s.service.id).map_err(|e| report(out, &e, 1))?;
        if !rule {
            listing::service_entry(&mut out.stdout, s, &dests, f, names);
            continue;
        }
        out.stdout.push_str(&rules::service_line(&s.service, rule_names));
        out.stdout.push('\n');
        if !f.nosort {
            rules::order::sort_by_destination(&mut dests, |d| &d.destination);
        }
        for d in &dests {
            out.stdout.push_str(&rules::destination_line(&s.service.id, &d.destination, rule_names));
            out.stdout.push('\n');
        }
    }
    Ok(())
}

fn list(client: &Ipvs<'_>, inv: &Invocation, what: &Listing, names: &dyn Names, out: &mut Output) -> Result<(), ()> {
    let o = inv.options;
    let conflict = (o.any(&[Opt::Connection, Opt::Timeout, Opt::Daemon])
        && o.any(&[Opt::Stats, Opt::Rate, Opt::Thresholds]))
        || (o.any(&[Opt::Timeout, Opt::Daemon]) && o.has(Opt::PersistentConn));
    if conflict {
        out.stderr.push_str("options conflicts in the list command\n");
        out.code = 2;
        return Err(());
    }
    match what {
        Listing::Connections => match std::fs::read_to_string("/proc/net/ip_vs_conn") {
            Ok(text) => out.stdout.push_str(&crate::conns::render(&text, &inv.format, names)),
            Err(_) => out.stderr.push_str("/proc/net/ip_vs_conn: No such file or directory\n"),
        },
        Listing::Service(id) => {
            let s = client.service(id).map_err(|e| report(out, &e, 1))?;
            let d = client.destinations(id).map_err(|e| report(out, &e, 1))?;
            out.stdout.push_str(&listing::title(&inv.format));
            listing::service_entry(&mut out.stdout, &s, &d, &inv.format, names);
        }
        Listing::Timeouts => {
            let t = client.timeouts().map_err(|_| out.code = 1)?;
            out.stdout.push_str(&listing::timeouts(&t));
        }
        Listing::Daemons => {
            let d = client.daemons().map_err(|_| out.code = 1)?;
            out.stdout.push_str(&listing::daemons(&d));
        }
        Listing::Table => list_all(client, &inv.format, false, names, out)?,
    }
    Ok(())
}

/// Sends one write as ipvsadm sends it; the status it ends with.
fn write(client: &Ipvs<'_>, transport: &dyn Transport, req: &Request, out: &mut Output) -> i32 {
    let result = match req {
        // The library's daemon calls know the kernel's late answers to daemon commands.
        Request::StartDaemon(d) => client.start_daemon(d),
        Request::StopDaemon(s) => client.stop_daemon(*s),
        _ => transport
            .request(&IpvsMessage::from(req))
            .map(|_| ())
            .map_err(|k| Error::new(req.operation(), req.target(), k)),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            report(out, &e, 255);
            255
        }
    }
}

/// Runs one parsed command. `Err` is an exit that ends the whole run.
fn execute(
    transport: &dyn Transport,
    inv: &Invocation,
    names: &dyn Names,
    stdin: Option<&mut dyn BufRead>,
    program: &str,
    out: &mut Output,
) -> Result<i32, ()> {
    let client: Ipvs<'_> = Client::with_transport(transport);
    match &inv.command {
        Command::List(what) => list(&client, inv, what, names, out).map(|_| 0),
        Command::Save => list_all(&client, &inv.format, true, names, out).map(|_| 0),
        Command::Restore => match stdin {
            Some(input) => restore(transport, input, names, program, out),
            None => {
                // A restore inside a restore would read the same input forever.
                out.stderr.push_str(&format!("Try `{program} -h' or '{program} --help' for more information.\n"));
                out.code = 255;
                Err(())
            }
        },
        Command::Write(req) => Ok(write(&client, transport, req, out)),
    }
}

/// Reads one line of at most [`MAX_RESTORE_LINE`] bytes (without its newline); None at the
/// end of the input.
fn read_line(input: &mut dyn BufRead, buf: &mut Vec<u8>) -> std::io::Result<Option<LineRead>> {
    buf.clear();
    let limit = (MAX_RESTORE_LINE + 2) as u64;
    let n = (&mut *input).take(limit).read_until(b'\n', buf)?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
    } else if n as u64 == limit {
        // Skip the rest of the over-long line so nothing of it is read as another line.
        let mut rest = Vec::new();
        loop {
            rest.clear();
            let m = (&mut *input).take(1 << 16).read_until(b'\n', &mut rest)?;
            if m == 0 || rest.last() == Some(&b'\n') {
                break;
            }
        }
        return Ok(Some(LineRead::TooLong));
    }
    Ok(Some(if buf.len() > MAX_RESTORE_LINE { LineRead::TooLong } else { LineRead::Line }))
}

enum LineRead {
    Line,
    TooLong,
}

/// `-R`: ipvsadm's rule reader. Words are split on blanks; the word `ipvsadm` is dropped
/// wherever it stands; a line with words is run as a command line. Kernel failures are
/// reported and reading goes on; the status is the last command's. A command-line error ends
/// the run, as it ends ipvsadm. Unlike ipvsadm, a line that cannot be read (longer than
/// [`MAX_RESTORE_LINE`], or a read error) also ends the run with a message and status 2,
/// never as if the input had ended. Bytes that are not UTF-8 are carried as they are (see
/// [`crate::bytes`]).
///
/// Consecutive table writes are pipelined on the socket: the same requests in the same order,
/// with each failure reported in order, without a round trip per line.
fn restore(
    transport: &dyn Transport,
    input: &mut dyn BufRead,
    names: &dyn Names,
    program: &str,
    out: &mut Output,
) -> Result<i32, ()> {
    let mut result = 0;
    let mut buf = Vec::new();
    let mut pending: Vec<Request> = Vec::new();
    let mut number = 0usize;
    loop {
        number += 1;
        let read = read_line(input, &mut buf);
        let line = match read {
            Ok(Some(LineRead::Line)) => crate::bytes::decode(&buf),
            Ok(None) => break,
            Ok(Some(LineRead::TooLong)) | Err(_) => {
                flush_batch(transport, &mut pending, out, &mut result);
                out.stderr.push_str(&match read {
                    Err(e) => format!("{program}: cannot read the rules on line {number}: {}\n", io_text(&e)),
                    _ => format!("{program}: line {number} is longer than {MAX_RESTORE_LINE} bytes\n"),
                });
                out.code = 2;
                return Err(());
            }
        };
        let mut argv = vec![program.to_owned()];
        argv.extend(line.split([' ', '\t', '\r']).filter(|w| !w.is_empty() && *w != "ipvsadm").map(str::to_owned));
        if argv.len() == 1 {
            continue;
        }
        match parse::parse(&argv, names) {
            Err(exit) => {
                flush_batch(transport, &mut pending, out, &mut result);
                out.stdout.push_str(&exit.stdout);
                out.stderr.push_str(&exit.stderr);
                out.code = exit.code;
                return Err(());
            }
            Ok(inv) => match inv.command {
                Command::Write(req) if !matches!(req, Request::StartDaemon(_) | Request::StopDaemon(_)) => {
                    pending.push(req);
                    if pending.len() >= RESTORE_BATCH {
                        flush_batch(transport, &mut pending, out, &mut result);
                    }
                }
                _ => {
                    flush_batch(transport, &mut pending, out, &mut result);
                    result = execute(transport, &inv, names, None, program, out)?;
                }
            },
        }
    }
    flush_batch(transport, &mut pending, out, &mut result);
    Ok(result)
}

fn io_text(e: &std::io::Error) -> String {
    match e.raw_os_error() {
        Some(n) => Errno(n).description(),
        None => e.to_string(),
    }
}

/// Sends the pending writes as one batch and reports each failure in order; `result` becomes
/// the status of the last one.
fn flush_batch(transport: &dyn Transport, pending: &mut Vec<Request>, out: &mut Output, result: &mut i32) {
    if pending.is_empty() {
        return;
    }
    let msgs: Vec<IpvsMessage> = pending.iter().map(IpvsMessage::from).collect();
    // A batch that fails as a whole (the socket) fails every request with its errno.
    let outcomes = match transport.batch(&msgs) {
        Ok(o) => o,
        Err(e) => vec![Err(e.errno()); msgs.len()],
    };
    for (req, outcome) in pending.iter().zip(outcomes) {
        *result = match outcome {
            Ok(()) => 0,
            Err(errno) => {
                out.stderr.push_str(&error_text(req.operation(), errno));
                out.stderr.push('\n');
                255
            }
        };
    }
    pending.clear();
}

/// Runs ipvsadm's command line `argv` (with `argv[0]`) against `transport`, reading `-R`
/// rules from `stdin`, and returns what it printed and its exit status.
///
/// ```
/// use ipvs::transport::MockTransport;
/// use ipvsadm_compat::{run, NoNames};
/// let kernel = MockTransport::new();
/// let argv = |s: &str| s.split(' ').map(String::from).collect::<Vec<_>>();
/// assert_eq!(run(&kernel, &argv("ipvsadm -A -t 192.0.2.1:80 -s rr"), &mut &b""[..], &NoNames).code, 0);
/// let out = run(&kernel, &argv("ipvsadm -A -t 192.0.2.1:80 -s rr"), &mut &b""[..], &NoNames);
/// assert_eq!((out.stderr.as_str(), out.code), ("Service already exists\n", 255));
/// let out = run(&kernel, &argv("ipvsadm -Sn"), &mut &b""[..], &NoNames);
/// assert_eq!(out.stdout, "-A -t 192.0.2.1:80 -s rr\n");
/// ```
pub fn run(transport: &dyn Transport, argv: &[String], stdin: &mut dyn BufRead, names: &dyn Names) -> Output {
    let mut out = Output::default();
    let program = argv.first().cloned().unwrap_or_else(|| "ipvsadm".into());
    if argv.len() <= 1 {
        let client: Ipvs<'_> = Client::with_transport(transport);
        let _ = list_all(&client, &Format::default(), false, names, &mut out);
        return out;
    }
    match parse::parse(argv, names) {
        Err(exit) => Output { stdout: exit.stdout, stderr: exit.stderr, code: exit.code },
        Ok(inv) => {
            if let Ok(code) = execute(transport, &inv, names, Some(stdin), &program, &mut out) {
                out.code = code;
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::NoNames;
    use ipvs::transport::MockTransport;

    fn sh(kernel: &MockTransport, line: &str, stdin: &[u8]) -> Output {
        let argv: Vec<String> = std::iter::once("ipvsadm").chain(line.split_whitespace()).map(String::from).collect();
        run(kernel, &argv, &mut &stdin[..], &NoNames)
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
        let k = MockTransport::new();
        let r = sh(&k, "-R", b"-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n");
        assert_eq!((r.code, r.stderr.as_str()), (0, ""));
        let l = sh(&k, "-Ln", b"");
        assert_eq!(
            l.stdout,
            "IP Virtual Server version 1.2.1 (size=4096)\n\
             Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
             TCP  192.0.2.1:80 wrr\n  -> 198.51.100.1:80              Masq    2      0          0         \n"
        );
        assert_eq!(
            sh(&k, "-Sn", b"").stdout,
            "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n"
        );
    }

    #[test]
    fn list_option_conflicts_and_kernel_messages() {
        let k = MockTransport::new();
        assert_eq!(sh(&k, "-Lc --stats", b"").stderr, "options conflicts in the list command\n");
        let r = sh(&k, "-D -t 192.0.2.9:80", b"");
        assert_eq!((r.stderr.as_str(), r.code), ("No such service\n", 255));
        let r = sh(&k, "-a -t 192.0.2.9:80 -r 198.51.100.1", b"");
        assert_eq!(r.stderr, "Service not defined\n");
        let r = sh(&k, "-A -t 192.0.2.9:80 -s nosuch", b"");
        assert_eq!(r.stderr, "Scheduler or persistence engine not found\n");
        let r = sh(&k, "-Ln -t 192.0.2.9:80", b"");
        assert_eq!((r.stderr.as_str(), r.code), ("No such service\n", 1));
        // The kernel judges what ipvsadm sends: thresholds out of order are its ERANGE.
        sh(&k, "-A -t 192.0.2.9:80", b"");
        let r = sh(&k, "-a -t 192.0.2.9:80 -r 198.51.100.1 -x 1 -y 2", b"");
        assert_eq!((r.stderr.as_str(), r.code), ("Numerical result out of range\n", 255));
    }

    #[test]
    fn restore_goes_on_past_kernel_errors_and_stops_at_syntax_errors() {
        let k = MockTransport::new();
        let r = sh(&k, "-R", b"-A -t 192.0.2.1:80\n-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80\n");
        assert_eq!((r.stderr.as_str(), r.code), ("Service already exists\n", 0));
        let r = sh(&k, "-R", b"-A -t 192.0.2.3:80\n-A -t 192.0.2.4:0\n-A -t 192.0.2.5:80\n");
        assert_eq!((r.stderr.as_str(), r.code), ("Zero port specified for non-persistent service\n", 2));
        assert_eq!(Client::with_transport(&k).services().unwrap().len(), 3);
    }

    #[test]
    fn restore_never_mistakes_bad_bytes_for_the_end() {
        // A line that is not UTF-8 is run (ipvsadm sends its bytes; the kernel knows no
        // such scheduler), and every line after it is run too.
        let k = MockTransport::new();
        let r = sh(&k, "-R", b"-A -t 192.0.2.1:80\n-A -t 192.0.2.2:80 -s w\xe9\n-A -t 192.0.2.3:80\n-Sn\n");
        assert_eq!(r.stderr, "Scheduler or persistence engine not found\n");
        assert_eq!(r.stdout, "-A -t 192.0.2.1:80 -s wlc\n-A -t 192.0.2.3:80 -s wlc\n");
        assert_eq!(r.code, 0);
        // A line too long to be a rule ends the run with a message and status 2; the lines
        // before it were applied.
        let mut input = b"-A -t 192.0.2.4:80\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_RESTORE_LINE + 10));
        input.extend(b"\n-A -t 192.0.2.5:80\n");
        let r = sh(&k, "-R", &input);
        assert_eq!(r.code, 2, "{r:?}");
        assert!(r.stderr.contains("line 2 is longer than 65536 bytes"), "{}", r.stderr);
        assert_eq!(Client::with_transport(&k).services().unwrap().len(), 3);
    }

    #[test]
    fn restore_reports_read_errors() {
        struct Broken;
        impl std::io::Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::from_raw_os_error(21))
            }
        }
        let k = MockTransport::new();
        let argv: Vec<String> = ["ipvsadm", "-R"].map(String::from).to_vec();
        let r = run(&k, &argv, &mut std::io::BufReader::new(Broken), &NoNames);
        assert_eq!((r.stderr.as_str(), r.code), ("ipvsadm: cannot read the rules on line 1: Is a directory\n", 2));
    }
}
