//! ipvsadm 1.31's command line: its option table, popt's parsing rules (bundled short
//! options, `--long=value`, `-p` with an optional value, arguments anywhere), its checks and
//! its messages.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::names::Names;

/// How an ipvsadm run ends early: what it prints and its exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Exit status (ipvsadm's `exit(-1)` is 255).
    pub code: i32,
}

impl Exit {
    /// ipvsadm's `fail(2, ...)`: the message and a newline on stderr, status 2.
    pub fn fail(msg: impl Into<String>) -> Exit {
        Exit { stdout: String::new(), stderr: msg.into() + "\n", code: 2 }
    }
    fn tryhelp(program: &str) -> Exit {
        Exit {
            stdout: String::new(),
            stderr: format!("Try `{program} -h' or '{program} --help' for more information.\n"),
            code: 255,
        }
    }
}

/// The command of an invocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmd {
    /// -A
    Add,
    /// -E
    Edit,
    /// -D
    Del,
    /// -C
    Flush,
    /// -L / -l
    List,
    /// -a
    AddDest,
    /// -d
    DelDest,
    /// -e
    EditDest,
    /// --set
    Timeout,
    /// --start-daemon
    StartDaemon,
    /// --stop-daemon
    StopDaemon,
    /// -R
    Restore,
    /// -S
    Save,
    /// -Z
    Zero,
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

impl Cmd {
    fn index(self) -> usize {
        self as usize
    }
}

// Option bits, in ipvsadm's order (the order of its messages' checks).
pub(crate) const O_NUMERIC: u32 = 0;
pub(crate) const O_CONNECTION: u32 = 1;
pub(crate) const O_SERVICE: u32 = 2;
pub(crate) const O_SCHEDULER: u32 = 3;
pub(crate) const O_PERSISTENT: u32 = 4;
pub(crate) const O_NETMASK: u32 = 5;
pub(crate) const O_SERVER: u32 = 6;
pub(crate) const O_FORWARD: u32 = 7;
pub(crate) const O_WEIGHT: u32 = 8;
pub(crate) const O_UTHRESHOLD: u32 = 9;
pub(crate) const O_LTHRESHOLD: u32 = 10;
pub(crate) const O_MCAST: u32 = 11;
pub(crate) const O_TIMEOUT: u32 = 12;
pub(crate) const O_DAEMON: u32 = 13;
pub(crate) const O_STATS: u32 = 14;
pub(crate) const O_RATE: u32 = 15;
pub(crate) const O_THRESHOLDS: u32 = 16;
pub(crate) const O_PERSISTENTCONN: u32 = 17;
pub(crate) const O_NOSORT: u32 = 18;
pub(crate) const O_SYNCID: u32 = 19;
pub(crate) const O_EXACT: u32 = 20;
pub(crate) const O_ONEPACKET: u32 = 21;
pub(crate) const O_PE: u32 = 22;
pub(crate) const O_SCHED_FLAGS: u32 = 23;
pub(crate) const O_MCAST_GROUP: u32 = 24;
pub(crate) const O_MCAST_PORT: u32 = 25;
pub(crate) const O_MCAST_TTL: u32 = 26;
pub(crate) const O_SYNC_MAXLEN: u32 = 27;
pub(crate) const O_TUN_INFO: u32 = 28;
pub(crate) const O_TUN_TYPE: u32 = 29;
pub(crate) const O_TUN_PORT: u32 = 30;
pub(crate) const O_TUN_NOCSUM: u32 = 31;
pub(crate) const O_TUN_CSUM: u32 = 32;
pub(crate) const O_TUN_REMCSUM: u32 = 33;

const OPT_NAMES: [&str; 34] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

/// Which options each command takes: '+' required, 'x' illegal, '1' at most one of these,
/// ' ' optional. Rows in `Cmd` order, columns in option-bit order.
const LEGAL: [&[u8; 34]; 14] = [
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    b"xx+   xxxxxxxxxxxxxxx   xxxxxxxxxx",
    b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b" 11xxxxxxxxx11       xxxxxxx xxxxx",
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xx+xxx+    xxxxxxxxxxxxxxxxxx     ",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xxxxxxxxxxx xxxxxxx xxxx    xxxxxx",
    b"xxxxxxxxxxxxxxxxxxx xxxxxxxxxxxxxx",
    b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    b"xx xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
];

/// The listing format flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Format {
    /// -n
    pub numeric: bool,
    /// -S
    pub rule: bool,
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

/// A service as ipvsadm builds it from the command line (its `ipvs_service_t`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawService {
    /// Address family: 4 or 6 (fwmark services: 4 unless -6).
    pub v6: bool,
    /// IP protocol number (6 tcp, 17 udp, 132 sctp).
    pub protocol: u8,
    /// Virtual address.
    pub addr: IpAddr,
    /// Virtual port.
    pub port: u16,
    /// Firewall mark (0: none).
    pub fwmark: u32,
    /// Scheduler name ("" until defaulted).
    pub sched: String,
    /// Service flags.
    pub flags: u32,
    /// Persistence timeout.
    pub timeout: u32,
    /// IPv4 netmask, or IPv6 prefix length.
    pub netmask: u32,
    /// Persistence engine name.
    pub pe: String,
}

/// A destination as ipvsadm builds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDest {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// IP_VS_CONN_F_* forwarding method.
    pub fwd: u32,
    /// Weight.
    pub weight: u32,
    /// Upper threshold.
    pub u_threshold: u32,
    /// Lower threshold.
    pub l_threshold: u32,
    /// Tunnel type (0 ipip, 1 gue, 2 gre).
    pub tun_type: u8,
    /// Tunnel port.
    pub tun_port: u16,
    /// Tunnel flags (0 nocsum, 1 csum, 2 remcsum).
    pub tun_flags: u16,
}

/// A sync daemon as ipvsadm builds it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawDaemon {
    /// 1 master, 2 backup.
    pub state: u32,
    /// --mcast-interface.
    pub ifname: String,
    /// --syncid.
    pub syncid: u8,
    /// --sync-maxlen (0: unset).
    pub maxlen: u16,
    /// --mcast-group.
    pub group: Option<IpAddr>,
    /// --mcast-port (0: unset).
    pub port: u16,
    /// --mcast-ttl (0: unset).
    pub ttl: u8,
}

/// One parsed ipvsadm command line.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The command.
    pub cmd: Cmd,
    /// Option bits given (see the `O_*` constants).
    pub options: u64,
    /// Listing format.
    pub format: Format,
    /// The service.
    pub svc: RawService,
    /// The destination.
    pub dest: RawDest,
    /// --set values.
    pub timeouts: (u32, u32, u32),
    /// The daemon.
    pub daemon: RawDaemon,
}

impl Invocation {
    /// Whether option bit `o` was given.
    pub fn has(&self, o: u32) -> bool {
        self.options & (1 << o) != 0
    }
}

/// What a parse gives: a command to run, or an early exit (help, version, errors).
pub type Parsed = Result<Invocation, Exit>;

#[derive(Clone, Copy, PartialEq)]
enum Arg {
    None,
    Required,
    Optional,
}

// Tags for options without a short name.
const T_SET: u32 = 128;
const T_START: u32 = 129;
const T_STOP: u32 = 130;
const T_MCAST_IF: u32 = 131;
const T_TIMEOUT: u32 = 132;
const T_DAEMON: u32 = 133;
const T_STATS: u32 = 134;
const T_RATE: u32 = 135;
const T_THRESHOLDS: u32 = 136;
const T_PCONN: u32 = 137;
const T_SORT: u32 = 138;
const T_NOSORT: u32 = 139;
const T_PE: u32 = 140;
const T_SCTP: u32 = 141;
const T_MGROUP: u32 = 142;
const T_MPORT: u32 = 143;
const T_MTTL: u32 = 144;
const T_MAXLEN: u32 = 145;
const T_TUN_INFO: u32 = 146;
const T_TUN_TYPE: u32 = 147;
const T_TUN_PORT: u32 = 148;
const T_NOCSUM: u32 = 149;
const T_CSUM: u32 = 150;
const T_REMCSUM: u32 = 151;
const T_SYNCID: u32 = b'I' as u32;

/// (long name, short name, argument, tag)
const TABLE: &[(&str, u8, Arg, u32)] = &[
    ("add-service", b'A', Arg::None, b'A' as u32),
    ("edit-service", b'E', Arg::None, b'E' as u32),
    ("delete-service", b'D', Arg::None, b'D' as u32),
    ("clear", b'C', Arg::None, b'C' as u32),
    ("list", b'L', Arg::None, b'L' as u32),
    ("list", b'l', Arg::None, b'l' as u32),
    ("zero", b'Z', Arg::None, b'Z' as u32),
    ("add-server", b'a', Arg::None, b'a' as u32),
    ("edit-server", b'e', Arg::None, b'e' as u32),
    ("delete-server", b'd', Arg::None, b'd' as u32),
    ("set", 0, Arg::None, T_SET),
    ("help", b'h', Arg::None, b'h' as u32),
    ("version", b'v', Arg::None, b'v' as u32),
    ("restore", b'R', Arg::None, b'R' as u32),
    ("save", b'S', Arg::None, b'S' as u32),
    ("start-daemon", 0, Arg::Required, T_START),
    ("stop-daemon", 0, Arg::Required, T_STOP),
    ("tcp-service", b't', Arg::Required, b't' as u32),
    ("udp-service", b'u', Arg::Required, b'u' as u32),
    ("sctp-service", 0, Arg::Required, T_SCTP),
    ("fwmark-service", b'f', Arg::Required, b'f' as u32),
    ("scheduler", b's', Arg::Required, b's' as u32),
    ("persistent", b'p', Arg::Optional, b'p' as u32),
    ("netmask", b'M', Arg::Required, b'M' as u32),
    ("real-server", b'r', Arg::Required, b'r' as u32),
    ("masquerading", b'm', Arg::None, b'm' as u32),
    ("ipip", b'i', Arg::None, b'i' as u32),
    ("gatewaying", b'g', Arg::None, b'g' as u32),
    ("weight", b'w', Arg::Required, b'w' as u32),
    ("u-threshold", b'x', Arg::Required, b'x' as u32),
    ("l-threshold", b'y', Arg::Required, b'y' as u32),
    ("numeric", b'n', Arg::None, b'n' as u32),
    ("connection", b'c', Arg::None, b'c' as u32),
    ("mcast-interface", 0, Arg::Required, T_MCAST_IF),
    ("syncid", 0, Arg::Required, T_SYNCID),
    ("timeout", 0, Arg::None, T_TIMEOUT),
    ("daemon", 0, Arg::None, T_DAEMON),
    ("stats", 0, Arg::None, T_STATS),
    ("rate", 0, Arg::None, T_RATE),
    ("thresholds", 0, Arg::None, T_THRESHOLDS),
    ("persistent-conn", 0, Arg::None, T_PCONN),
    ("nosort", 0, Arg::None, T_NOSORT),
    ("sort", 0, Arg::None, T_SORT),
    ("exact", b'X', Arg::None, b'X' as u32),
    ("ipv6", b'6', Arg::None, b'6' as u32),
    ("ops", b'o', Arg::None, b'o' as u32),
    ("pe", 0, Arg::Required, T_PE),
    ("sched-flags", b'b', Arg::Required, b'b' as u32),
    ("mcast-group", 0, Arg::Required, T_MGROUP),
    ("mcast-port", 0, Arg::Required, T_MPORT),
    ("mcast-ttl", 0, Arg::Required, T_MTTL),
    ("sync-maxlen", 0, Arg::Required, T_MAXLEN),
    ("tun-info", 0, Arg::None, T_TUN_INFO),
    ("tun-type", 0, Arg::Required, T_TUN_TYPE),
    ("tun-port", 0, Arg::Required, T_TUN_PORT),
    ("tun-nocsum", 0, Arg::None, T_NOCSUM),
    ("tun-csum", 0, Arg::None, T_CSUM),
    ("tun-remcsum", 0, Arg::None, T_REMCSUM),
];

/// popt's failures: the offending argument and popt's text for the error.
struct PoptError {
    arg: String,
    text: &'static str,
}

/// popt's option scanner over `argv[1..]`, with leftover arguments collected.
struct Popt<'a> {
    argv: &'a [String],
    next: usize,
    /// Remaining characters of a bundle of short options, and its argv index.
    bundle: Option<(usize, usize)>,
    leftovers: Vec<String>,
    rest_are_args: bool,
}

impl<'a> Popt<'a> {
    fn new(argv: &'a [String]) -> Self {
        Popt { argv, next: 1, bundle: None, leftovers: Vec::new(), rest_are_args: false }
    }

    /// The next option: its tag and argument; None at the end.
    fn next_opt(&mut self) -> Option<Result<(u32, Option<String>), PoptError>> {
        loop {
            if let Some((at, pos)) = self.bundle {
                let word = &self.argv[at];
                let Some(&c) = word.as_bytes().get(pos) else {
                    self.bundle = None;
                    continue;
                };
                let Some(&(_, _, arg, tag)) = TABLE.iter().find(|o| o.1 == c && c != 0) else {
                    self.bundle = None;
                    return Some(Err(PoptError { arg: word.clone(), text: "unknown option" }));
                };
                let rest = &word[pos + 1..];
                match arg {
                    Arg::None => {
                        self.bundle = Some((at, pos + 1));
                        return Some(Ok((tag, None)));
                    }
                    Arg::Required | Arg::Optional if !rest.is_empty() => {
                        self.bundle = None;
                        return Some(Ok((tag, Some(rest.to_owned()))));
                    }
                    Arg::Required => {
                        self.bundle = None;
                        return Some(match self.argv.get(self.next) {
                            Some(v) => {
                                self.next += 1;
                                Ok((tag, Some(v.clone())))
                            }
                            None => Err(PoptError { arg: word.clone(), text: "missing argument" }),
                        });
                    }
                    Arg::Optional => {
                        self.bundle = None;
                        return Some(Ok((tag, self.optional_value())));
                    }
                }
            }
            let word = self.argv.get(self.next)?.clone();
            self.next += 1;
            if self.rest_are_args || !word.starts_with('-') || word == "-" {
                self.leftovers.push(word);
                continue;
            }
            if word == "--" {
                self.rest_are_args = true;
                continue;
            }
            if let Some(long) = word.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v.to_owned())),
                    None => (long, None),
                };
                let Some(&(_, _, arg, tag)) = TABLE.iter().find(|o| o.0 == name) else {
                    return Some(Err(PoptError { arg: word.clone(), text: "unknown option" }));
                };
                return Some(match (arg, value) {
                    (Arg::None, Some(_)) => {
                        Err(PoptError { arg: word.clone(), text: "option does not take an argument" })
                    }
                    (Arg::None, None) => Ok((tag, None)),
                    (_, Some(v)) => Ok((tag, Some(v))),
                    (Arg::Required, None) => match self.argv.get(self.next) {
                        Some(v) => {
                            self.next += 1;
                            Ok((tag, Some(v.clone())))
                        }
                        None => Err(PoptError { arg: word.clone(), text: "missing argument" }),
                    },
                    (Arg::Optional, None) => Ok((tag, self.optional_value())),
                });
            }
            self.bundle = Some((self.next - 1, 1));
        }
    }

    /// An optional value: the next word, unless it looks like an option.
    fn optional_value(&mut self) -> Option<String> {
        match self.argv.get(self.next) {
            Some(v) if !v.starts_with('-') => {
                self.next += 1;
                Some(v.clone())
            }
            _ => None,
        }
    }
}

/// C's `strtol`-based `string_to_number`: the whole string a decimal in `min..=max`.
pub(crate) fn number(s: &str, min: i64, max: i64) -> Option<i64> {
    let t = s.trim_start();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = t.parse().ok()?;
    (min..=max).contains(&n).then_some(n)
}

/// `parse_service`: address[:port] into `svc`; bit 1 address set, bit 2 port set.
fn parse_service(buf: &str, svc: &mut RawService, names: &dyn Names) -> u32 {
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
        svc.addr = IpAddr::V6(a6);
        svc.v6 = true;
        svc.netmask = 128;
    } else {
        let host = if port.is_none() {
            match host.rsplit_once(':') {
                Some((h, p)) => {
                    port = Some(p);
                    h
                }
                None => host,
            }
        } else {
            host
        };
        match inet_aton(host).or_else(|| names.host_to_v4(host)) {
            Some(a) => {
                svc.addr = IpAddr::V4(a);
                svc.v6 = false;
            }
            None => return 0,
        }
    }
    let mut result = 1;
    if let Some(p) = port {
        result |= 2;
        match number(p, 0, 65535).map(|n| n as u16).or_else(|| names.service_to_port(p, svc.protocol)) {
            Some(n) => svc.port = n,
            None => return 0,
        }
    }
    result
}

/// `inet_aton`: dotted quads with 1 to 4 parts, each decimal, octal (0...) or hex (0x...).
pub(crate) fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(4);
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() && radix != 16 {
            return None;
        }
        let n = if digits.is_empty() { 0 } else { u64::from_str_radix(digits, radix).ok()? };
        nums.push(n);
    }
    let last = *nums.last()?;
    let head = &nums[..nums.len() - 1];
    if head.iter().any(|&n| n > 255) || last >= 1u64 << (8 * (4 - head.len())) {
        return None;
    }
    let mut v: u64 = 0;
    for (i, n) in head.iter().enumerate() {
        v |= n << (24 - 8 * i);
    }
    Some(Ipv4Addr::from((v | last) as u32))
}

fn legal_check(cmd: Cmd, options: u64) -> Result<(), Exit> {
    let row = LEGAL[cmd.index()];
    let (mut count, mut last) = (0, 0);
    for j in 0..34 {
        let set = options & (1 << j) != 0;
        let rule = row[j];
        if !set {
            if rule == b'+' {
                return Err(Exit::fail(format!(
                    "You need to supply the '{}' option for the '{}' command",
                    OPT_NAMES[j],
                    CMD_NAMES[cmd.index()]
                )));
            }
        } else {
            if rule == b'x' {
                return Err(Exit::fail(format!(
                    "Illegal '{}' option with the '{}' command",
                    OPT_NAMES[j],
                    CMD_NAMES[cmd.index()]
                )));
            }
            if rule == b'1' {
                count += 1;
                if count == 1 {
                    last = j;
                    continue;
                }
                return Err(Exit::fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{}' command",
                    OPT_NAMES[j],
                    OPT_NAMES[last],
                    CMD_NAMES[cmd.index()]
                )));
            }
        }
    }
    Ok(())
}

const TUN_NAMES: [&str; 3] = ["ipip", "gue", "gre"];
/// Tunnel type x (port, nocsum, csum, remcsum).
const TUN_LEGAL: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];
const TUN_OPTS: [u32; 4] = [O_TUN_PORT, O_TUN_NOCSUM, O_TUN_CSUM, O_TUN_REMCSUM];

fn tunnel_check(tun_type: u8, options: u64) -> Result<(), Exit> {
    let row = TUN_LEGAL[usize::from(tun_type).min(2)];
    let name = TUN_NAMES[usize::from(tun_type).min(2)];
    let (mut count, mut last) = (0, 0);
    for (j, &k) in TUN_OPTS.iter().enumerate() {
        let set = options & (1 << k) != 0;
        if !set {
            if row[j] == b'+' {
                return Err(Exit::fail(format!(
                    "You need to supply the '{}' option for the '{name}' tunnel type",
                    OPT_NAMES[k as usize]
                )));
            }
        } else {
            if row[j] == b'x' {
                return Err(Exit::fail(format!(
                    "Illegal '{}' option with the '{name}' tunnel type",
                    OPT_NAMES[k as usize]
                )));
            }
            if row[j] == b'1' {
                count += 1;
                if count == 1 {
                    last = k;
                    continue;
                }
                return Err(Exit::fail(format!(
                    "The option '{}' conflicts with the '{}' option in the '{name}' tunnel type",
                    OPT_NAMES[k as usize], OPT_NAMES[last as usize]
                )));
            }
        }
    }
    Ok(())
}

fn sched_flags(sched: &str, arg: &str) -> Result<u32, Exit> {
    let sched = if sched.is_empty() { "wlc" } else { sched };
    let mut flags = 0;
    // strtok: empty pieces are skipped; no piece at all reads as one empty flag.
    let pieces: Vec<&str> = arg.split(',').filter(|p| !p.is_empty()).collect();
    let pieces = if pieces.is_empty() { vec![""] } else { pieces };
    for flag in pieces {
        let (bit, needs) = match flag {
            "flag-1" => (0x8, None),
            "flag-2" => (0x10, None),
            "flag-3" => (0x20, None),
            "sh-fallback" => (0x8, Some("sh")),
            "sh-port" => (0x10, Some("sh")),
            "mh-fallback" => (0x8, Some("mh")),
            "mh-port" => (0x10, Some("mh")),
            _ => return Err(Exit::fail(format!("invalid scheduler flag `{flag}'"))),
        };
        flags |= bit;
        if needs.is_some_and(|s| s != sched) {
            return Err(Exit::fail(format!("incompatible scheduler flag `{flag}'")));
        }
    }
    Ok(flags)
}

/// Parses one ipvsadm command line (`argv[0]` is the program name). `reading_stdin` is set
/// for the lines of `-R`.
pub fn parse(argv: &[String], names: &dyn Names) -> Parsed {
    let program = argv.first().map(String::as_str).unwrap_or("ipvsadm");
    let mut popt = Popt::new(argv);
    let mut inv = Invocation {
        cmd: Cmd::List,
        options: 0,
        format: Format::default(),
        svc: RawService {
            v6: false,
            protocol: 0,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwmark: 0,
            sched: String::new(),
            flags: 0,
            timeout: 0,
            netmask: 0xffff_ffff,
            pe: String::new(),
        },
        dest: RawDest {
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwd: 3,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
        },
        timeouts: (0, 0, 0),
        daemon: RawDaemon::default(),
    };
    let first = match popt.next_opt() {
        Some(Ok(o)) => o,
        _ => return Err(Exit::tryhelp(program)),
    };
    inv.cmd = match first {
        (t, _) if t == b'A' as u32 => Cmd::Add,
        (t, _) if t == b'E' as u32 => Cmd::Edit,
        (t, _) if t == b'D' as u32 => Cmd::Del,
        (t, _) if t == b'a' as u32 => Cmd::AddDest,
        (t, _) if t == b'e' as u32 => Cmd::EditDest,
        (t, _) if t == b'd' as u32 => Cmd::DelDest,
        (t, _) if t == b'C' as u32 => Cmd::Flush,
        (t, _) if t == b'L' as u32 || t == b'l' as u32 => Cmd::List,
        (t, _) if t == b'Z' as u32 => Cmd::Zero,
        (T_SET, _) => Cmd::Timeout,
        (t, _) if t == b'R' as u32 => Cmd::Restore,
        (t, _) if t == b'S' as u32 => Cmd::Save,
        (T_START, v) | (T_STOP, v) => {
            let start = first.0 == T_START;
            inv.daemon.state = match v.as_deref() {
                Some("master") => 1,
                Some("backup") => 2,
                _ if start => return Err(Exit::fail("illegal start-daemon parameter specified")),
                _ => return Err(Exit::fail("illegal start_daemon specified")),
            };
            if start {
                Cmd::StartDaemon
            } else {
                Cmd::StopDaemon
            }
        }
        (t, _) if t == b'h' as u32 => {
            return Err(Exit { stdout: super::text::usage(program), stderr: String::new(), code: 0 })
        }
        (t, _) if t == b'v' as u32 => {
            return Err(Exit { stdout: super::text::version(), stderr: String::new(), code: 0 })
        }
        _ => return Err(Exit::tryhelp(program)),
    };
    let mut sched_flags_arg = String::new();
    let set = |options: &mut u64, o: u32| -> Result<(), Exit> {
        if *options & (1 << o) != 0 {
            return Err(Exit::fail(format!("multiple '{}' options specified", OPT_NAMES[o as usize])));
        }
        *options |= 1 << o;
        Ok(())
    };
    loop {
        let (tag, arg) = match popt.next_opt() {
            None => break,
            Some(Ok(o)) => o,
            Some(Err(e)) => {
                return Err(Exit { stdout: String::new(), stderr: format!("{}: {}\n", e.arg, e.text), code: 255 })
            }
        };
        let a = arg.clone().unwrap_or_default();
        match tag {
            t if t == b't' as u32 || t == b'u' as u32 || t == T_SCTP => {
                set(&mut inv.options, O_SERVICE)?;
                inv.svc.protocol = match t {
                    t if t == b't' as u32 => 6,
                    t if t == b'u' as u32 => 17,
                    _ => 132,
                };
                if parse_service(&a, &mut inv.svc, names) & 1 == 0 {
                    return Err(Exit::fail("illegal virtual server address[:port] specified"));
                }
            }
            t if t == b'f' as u32 => {
                set(&mut inv.options, O_SERVICE)?;
                inv.svc.v6 = false;
                inv.svc.protocol = 6;
                inv.svc.fwmark = match number(&a, 1, i64::from(u32::MAX)) {
                    Some(n) => n as u32,
                    None => return Err(Exit::fail(format!("invalid fwmark value `{a}' specified"))),
                };
            }
            t if t == b's' as u32 => {
                set(&mut inv.options, O_SCHEDULER)?;
                inv.svc.sched = a.chars().take(15).collect();
            }
            t if t == b'p' as u32 => {
                set(&mut inv.options, O_PERSISTENT)?;
                inv.svc.flags |= 0x1;
                inv.svc.timeout = match &arg {
                    None => 360,
                    Some(v) => match number(v, 1, i64::from(i32::MAX / 1000)) {
                        Some(n) => n as u32,
                        None => return Err(Exit::fail(format!("invalid timeout value `{v}' specified"))),
                    },
                };
            }
            t if t == b'M' as u32 => {
                set(&mut inv.options, O_NETMASK)?;
                if !inv.svc.v6 {
                    match inet_aton(&a).or_else(|| names.host_to_v4(&a)) {
                        Some(m) => inv.svc.netmask = u32::from(m),
                        None => return Err(Exit::fail("illegal virtual server persistent mask specified")),
                    }
                } else {
                    let n = atoi(&a);
                    if !(1..=128).contains(&n) {
                        return Err(Exit::fail("illegal ipv6 netmask specified"));
                    }
                    inv.svc.netmask = n as u32;
                }
            }
            t if t == b'r' as u32 => {
                set(&mut inv.options, O_SERVER)?;
                let mut t_dest = inv.svc.clone();
                let parsed = parse_service(&a, &mut t_dest, names);
                inv.dest.addr = t_dest.addr;
                inv.dest.port = t_dest.port;
                if parsed & 1 == 0 {
                    return Err(Exit::fail("illegal real server address[:port] specified"));
                }
                if parsed == 1 {
                    inv.dest.port = inv.svc.port;
                }
            }
            t if t == b'i' as u32 => {
                set(&mut inv.options, O_FORWARD)?;
                inv.dest.fwd = 2;
            }
            t if t == b'g' as u32 => {
                set(&mut inv.options, O_FORWARD)?;
                inv.dest.fwd = 3;
            }
            t if t == b'm' as u32 => {
                set(&mut inv.options, O_FORWARD)?;
                inv.dest.fwd = 0;
            }
            t if t == b'w' as u32 => {
                set(&mut inv.options, O_WEIGHT)?;
                inv.dest.weight =
                    number(&a, 0, i64::from(i32::MAX)).ok_or_else(|| Exit::fail("illegal weight specified"))? as u32;
            }
            t if t == b'x' as u32 => {
                set(&mut inv.options, O_UTHRESHOLD)?;
                inv.dest.u_threshold = number(&a, 0, i64::from(i32::MAX))
                    .ok_or_else(|| Exit::fail("illegal u_threshold specified"))?
                    as u32;
            }
            t if t == b'y' as u32 => {
                set(&mut inv.options, O_LTHRESHOLD)?;
                inv.dest.l_threshold = number(&a, 0, i64::from(i32::MAX))
                    .ok_or_else(|| Exit::fail("illegal l_threshold specified"))?
                    as u32;
            }
            t if t == b'c' as u32 => set(&mut inv.options, O_CONNECTION)?,
            t if t == b'n' as u32 => {
                set(&mut inv.options, O_NUMERIC)?;
                inv.format.numeric = true;
            }
            T_MCAST_IF => {
                set(&mut inv.options, O_MCAST)?;
                inv.daemon.ifname = a.chars().take(15).collect();
            }
            T_SYNCID => {
                set(&mut inv.options, O_SYNCID)?;
                inv.daemon.syncid = number(&a, 0, 255).ok_or_else(|| Exit::fail("illegal syncid specified"))? as u8;
            }
            T_TIMEOUT => set(&mut inv.options, O_TIMEOUT)?,
            T_DAEMON => set(&mut inv.options, O_DAEMON)?,
            T_STATS => {
                set(&mut inv.options, O_STATS)?;
                inv.format.stats = true;
            }
            T_RATE => {
                set(&mut inv.options, O_RATE)?;
                inv.format.rate = true;
            }
            T_THRESHOLDS => {
                set(&mut inv.options, O_THRESHOLDS)?;
                inv.format.thresholds = true;
            }
            T_PCONN => {
                set(&mut inv.options, O_PERSISTENTCONN)?;
                inv.format.persistent_conn = true;
            }
            T_NOSORT => {
                set(&mut inv.options, O_NOSORT)?;
                inv.format.nosort = true;
            }
            T_SORT => {}
            t if t == b'X' as u32 => {
                set(&mut inv.options, O_EXACT)?;
                inv.format.exact = true;
            }
            t if t == b'6' as u32 => {
                if inv.svc.fwmark != 0 {
                    inv.svc.v6 = true;
                    inv.svc.netmask = 128;
                } else {
                    return Err(Exit::fail("-6 used before -f\n"));
                }
            }
            t if t == b'o' as u32 => {
                set(&mut inv.options, O_ONEPACKET)?;
                inv.svc.flags |= 0x4;
            }
            T_PE => {
                set(&mut inv.options, O_PE)?;
                inv.svc.pe = a.chars().take(16).collect();
            }
            t if t == b'b' as u32 => {
                set(&mut inv.options, O_SCHED_FLAGS)?;
                sched_flags_arg = a.chars().take(127).collect();
            }
            T_MGROUP => {
                set(&mut inv.options, O_MCAST_GROUP)?;
                if a.contains(':') {
                    match a.parse::<Ipv6Addr>() {
                        Ok(g) if g.is_multicast() => inv.daemon.group = Some(IpAddr::V6(g)),
                        _ => return Err(Exit::fail(format!("invalid IPv6 mcast-group `{a}'"))),
                    }
                } else {
                    match a.parse::<Ipv4Addr>() {
                        Ok(g) if g.is_multicast() => inv.daemon.group = Some(IpAddr::V4(g)),
                        _ => return Err(Exit::fail(format!("invalid IPv4 mcast-group `{a}'"))),
                    }
                }
            }
            T_MPORT => {
                set(&mut inv.options, O_MCAST_PORT)?;
                inv.daemon.port =
                    number(&a, 1, 65535).ok_or_else(|| Exit::fail("illegal mcast-port specified"))? as u16;
            }
            T_MTTL => {
                set(&mut inv.options, O_MCAST_TTL)?;
                inv.daemon.ttl = number(&a, 1, 255).ok_or_else(|| Exit::fail("illegal mcast-ttl specified"))? as u8;
            }
            T_MAXLEN => {
                set(&mut inv.options, O_SYNC_MAXLEN)?;
                inv.daemon.maxlen =
                    number(&a, 1, 65535 - 20 - 8).ok_or_else(|| Exit::fail("illegal sync-maxlen specified"))? as u16;
            }
            T_TUN_INFO => {
                set(&mut inv.options, O_TUN_INFO)?;
                inv.format.tun_info = true;
            }
            T_TUN_TYPE => {
                set(&mut inv.options, O_TUN_TYPE)?;
                inv.dest.tun_type = match a.as_str() {
                    "ipip" => 0,
                    "gue" => 1,
                    "gre" => 2,
                    _ => return Err(Exit::fail("illegal tunnel type specified")),
                };
            }
            T_TUN_PORT => {
                set(&mut inv.options, O_TUN_PORT)?;
                inv.dest.tun_port =
                    number(&a, 1, 65535).ok_or_else(|| Exit::fail("illegal tunnel port specified"))? as u16;
            }
            T_NOCSUM => set(&mut inv.options, O_TUN_NOCSUM)?,
            T_CSUM => {
                set(&mut inv.options, O_TUN_CSUM)?;
                inv.dest.tun_flags |= 1;
            }
            T_REMCSUM => {
                set(&mut inv.options, O_TUN_REMCSUM)?;
                inv.dest.tun_flags |= 2;
            }
            _ => {
                let bad = popt.argv.get(popt.next.saturating_sub(1)).cloned().unwrap_or_default();
                return Err(Exit::fail(format!("invalid option `{bad}'")));
            }
        }
    }
    let mut leftovers = popt.leftovers.into_iter();
    if inv.cmd == Cmd::Timeout {
        match (leftovers.next(), leftovers.next(), leftovers.next()) {
            (Some(a), Some(b), Some(c)) => {
                let t = |v: &str| {
                    number(v, 0, i64::from(i32::MAX / 1000))
                        .map(|n| n as u32)
                        .ok_or_else(|| Exit::fail(format!("invalid timeout value `{v}' specified")))
                };
                inv.timeouts = (t(&a)?, t(&b)?, t(&c)?);
            }
            _ => return Err(Exit::fail("--set option requires 3 timeout values")),
        }
    }
    if let Some(extra) = leftovers.next() {
        return Err(Exit::fail(format!("unexpected argument {extra}")));
    }
    if !sched_flags_arg.is_empty() {
        inv.svc.flags &= !(0x8 | 0x10 | 0x20);
        inv.svc.flags |= sched_flags(&inv.svc.sched, &sched_flags_arg)?;
    }
    legal_check(inv.cmd, inv.options)?;
    if matches!(inv.cmd, Cmd::Add | Cmd::Edit) {
        if inv.svc.fwmark == 0 && inv.svc.port == 0 && inv.svc.flags & 0x1 == 0 {
            return Err(Exit::fail("Zero port specified for non-persistent service"));
        }
        if inv.svc.flags & 0x4 != 0 && inv.svc.fwmark == 0 && inv.svc.protocol != 17 {
            return Err(Exit::fail("One-Packet Scheduling is only for UDP virtual services"));
        }
        if inv.svc.sched.is_empty() {
            inv.svc.sched = "wlc".into();
        }
    }
    if inv.cmd == Cmd::StartDaemon && inv.daemon.ifname.is_empty() {
        inv.daemon.ifname = "eth0".into();
    }
    if matches!(inv.cmd, Cmd::AddDest | Cmd::EditDest) {
        if inv.svc.fwmark == 0 && matches!(inv.dest.fwd, 2 | 3) {
            inv.dest.port = inv.svc.port;
        }
        if inv.dest.addr.is_ipv6() != inv.svc.v6 && inv.dest.fwd != 2 {
            return Err(Exit::fail("Different address family is allowed only for tunneling servers"));
        }
        let tun_opts = [O_TUN_TYPE, O_TUN_PORT, O_TUN_NOCSUM, O_TUN_CSUM, O_TUN_REMCSUM];
        if tun_opts.iter().any(|&o| inv.has(o)) && inv.dest.fwd != 2 {
            return Err(Exit::fail("Tunnel options conflict with forward method"));
        }
        tunnel_check(inv.dest.tun_type, inv.options)?;
    }
    Ok(inv)
}

/// C's `atoi`: leading whitespace, optional sign, digits; anything else stops it.
fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).take(18).collect();
    let n: i64 = digits.parse().unwrap_or(0);
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::names::NoNames;
    use super::*;

    fn p(line: &str) -> Parsed {
        let argv: Vec<String> = std::iter::once("ipvsadm").chain(line.split_whitespace()).map(String::from).collect();
        parse(&argv, &NoNames)
    }

    #[test]
    fn bundled_short_options_and_defaults() {
        let inv = p("-Ln").unwrap();
        assert_eq!(inv.cmd, Cmd::List);
        assert!(inv.format.numeric);
        let inv = p("-A -t 192.0.2.1:80").unwrap();
        assert_eq!(inv.svc.sched, "wlc");
        assert_eq!(inv.svc.port, 80);
        let inv = p("-a -t 192.0.2.1:80 -r 198.51.100.1").unwrap();
        assert_eq!((inv.dest.fwd, inv.dest.weight, inv.dest.port), (3, 1, 80));
    }

    #[test]
    fn persistent_takes_an_optional_value() {
        assert_eq!(p("-A -t 192.0.2.1:0 -p").unwrap().svc.timeout, 360);
        assert_eq!(p("-A -t 192.0.2.1:0 -p 600 -s rr").unwrap().svc.timeout, 600);
        assert_eq!(p("-A -t 192.0.2.1:0 -p -s rr").unwrap().svc.sched, "rr");
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

    #[test]
    fn inet_aton_forms() {
        assert_eq!(inet_aton("10.1"), Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(inet_aton("0x7f.1"), Some(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(inet_aton("256.1.1.1"), None);
        assert_eq!(inet_aton("1.2.3.4.5"), None);
    }
}
