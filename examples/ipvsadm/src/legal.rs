//! ipvsadm's legality tables: which options each command takes, and which tunnel options
//! each tunnel type takes, with the messages of their checks.

use crate::Exit;

/// An option bit, in ipvsadm's order (the order of its messages' checks). Each variant is
/// the option [`Opt::name`] names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
#[allow(missing_docs)]
pub enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    OnePacket,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

const OPTS: usize = 34;

/// Option names in messages, by bit.
const OPT_NAMES: [&str; OPTS] = [
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

impl Opt {
    /// The option's name in ipvsadm's messages (`service-address`, `weight`, ...).
    pub fn name(self) -> &'static str {
        OPT_NAMES[self as usize]
    }
}

/// The set of options an invocation gave.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub struct Options(u64);

impl Options {
    /// Whether `o` was given.
    pub fn has(self, o: Opt) -> bool {
        self.0 & (1 << o as u8) != 0
    }

    /// Adds an option; ipvsadm refuses one given twice.
    pub(crate) fn set(&mut self, o: Opt) -> Result<(), Exit> {
        if self.has(o) {
            return Err(Exit::fail(format!("multiple '{}' options specified", o.name())));
        }
        self.0 |= 1 << o as u8;
        Ok(())
    }

    /// Whether any of `opts` was given.
    pub fn any(self, opts: &[Opt]) -> bool {
        opts.iter().any(|o| self.has(*o))
    }
}

/// The commands, in ipvsadm's order (the rows of its legality table).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[repr(u8)]
pub(crate) enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
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

/// Which options each command takes: '+' required, 'x' illegal, '1' at most one of these,
/// ' ' optional. Rows in `Cmd` order, columns in `Opt` order.
const LEGAL: [&[u8; OPTS]; 14] = [
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

/// Checks `opts` against the rules of one row; `what` names the row in messages.
fn check_row(row: &[u8], columns: &[usize], opts: Options, what: &str) -> Result<(), Exit> {
    let mut first_of_one: Option<usize> = None;
    for (j, &col) in columns.iter().enumerate() {
        let set = opts.0 & (1 << col) != 0;
        match (row[j], set) {
            (b'+', false) => {
                return Err(Exit::fail(format!("You need to supply the '{}' option for the {what}", OPT_NAMES[col])))
            }
            (b'x', true) => return Err(Exit::fail(format!("Illegal '{}' option with the {what}", OPT_NAMES[col]))),
            (b'1', true) => match first_of_one {
                None => first_of_one = Some(col),
                Some(first) => {
                    return Err(Exit::fail(format!(
                        "The option '{}' conflicts with the '{}' option in the {what}",
                        OPT_NAMES[col], OPT_NAMES[first]
                    )))
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// ipvsadm's `generic_opt_check` for a command.
pub(crate) fn check_command(cmd: Cmd, opts: Options) -> Result<(), Exit> {
    let columns: Vec<usize> = (0..OPTS).collect();
    check_row(LEGAL[cmd as usize], &columns, opts, &format!("'{}' command", CMD_NAMES[cmd as usize]))
}

/// Tunnel type x (port, nocsum, csum, remcsum).
const TUN_LEGAL: [&[u8; 4]; 3] = [b"xxxx", b"+111", b"x11x"];
const TUN_OPTS: [Opt; 4] = [Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];

/// ipvsadm's tunnel option check for tunnel type `kind` (0 ipip, 1 gue, 2 gre).
pub(crate) fn check_tunnel(kind: usize, opts: Options) -> Result<(), Exit> {
    let k = kind.min(2);
    let columns: Vec<usize> = TUN_OPTS.iter().map(|o| *o as usize).collect();
    check_row(TUN_LEGAL[k], &columns, opts, &format!("'{}' tunnel type", ipvs::Tunnel::name_of_kind(k as u8)))
}
