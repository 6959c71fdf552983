//! ipvsadm 1.31's option table and popt's scanning rules: bundled short options (`-Ln`),
//! `--long=value`, `-p` with an optional value, arguments anywhere (collected as leftovers),
//! and `--` ending the options.

/// Whether an option takes a value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Arg {
    None,
    Required,
    Optional,
}

/// Every option ipvsadm knows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tag {
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    Tcp,
    Udp,
    Sctp,
    Fwmark,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    McastInterface,
    SyncId,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
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

/// (long name, short name, argument, tag), in ipvsadm's table order.
const TABLE: &[(&str, u8, Arg, Tag)] = &[
    ("add-service", b'A', Arg::None, Tag::AddService),
    ("edit-service", b'E', Arg::None, Tag::EditService),
    ("delete-service", b'D', Arg::None, Tag::DeleteService),
    ("clear", b'C', Arg::None, Tag::Clear),
    ("list", b'L', Arg::None, Tag::List),
    ("list", b'l', Arg::None, Tag::List),
    ("zero", b'Z', Arg::None, Tag::Zero),
    ("add-server", b'a', Arg::None, Tag::AddServer),
    ("edit-server", b'e', Arg::None, Tag::EditServer),
    ("delete-server", b'd', Arg::None, Tag::DeleteServer),
    ("set", 0, Arg::None, Tag::Set),
    ("help", b'h', Arg::None, Tag::Help),
    ("version", b'v', Arg::None, Tag::Version),
    ("restore", b'R', Arg::None, Tag::Restore),
    ("save", b'S', Arg::None, Tag::Save),
    ("start-daemon", 0, Arg::Required, Tag::StartDaemon),
    ("stop-daemon", 0, Arg::Required, Tag::StopDaemon),
    ("tcp-service", b't', Arg::Required, Tag::Tcp),
    ("udp-service", b'u', Arg::Required, Tag::Udp),
    ("sctp-service", 0, Arg::Required, Tag::Sctp),
    ("fwmark-service", b'f', Arg::Required, Tag::Fwmark),
    ("scheduler", b's', Arg::Required, Tag::Scheduler),
    ("persistent", b'p', Arg::Optional, Tag::Persistent),
    ("netmask", b'M', Arg::Required, Tag::Netmask),
    ("real-server", b'r', Arg::Required, Tag::RealServer),
    ("masquerading", b'm', Arg::None, Tag::Masquerading),
    ("ipip", b'i', Arg::None, Tag::Ipip),
    ("gatewaying", b'g', Arg::None, Tag::Gatewaying),
    ("weight", b'w', Arg::Required, Tag::Weight),
    ("u-threshold", b'x', Arg::Required, Tag::UThreshold),
    ("l-threshold", b'y', Arg::Required, Tag::LThreshold),
    ("numeric", b'n', Arg::None, Tag::Numeric),
    ("connection", b'c', Arg::None, Tag::Connection),
    ("mcast-interface", 0, Arg::Required, Tag::McastInterface),
    ("syncid", 0, Arg::Required, Tag::SyncId),
    ("timeout", 0, Arg::None, Tag::Timeout),
    ("daemon", 0, Arg::None, Tag::Daemon),
    ("stats", 0, Arg::None, Tag::Stats),
    ("rate", 0, Arg::None, Tag::Rate),
    ("thresholds", 0, Arg::None, Tag::Thresholds),
    ("persistent-conn", 0, Arg::None, Tag::PersistentConn),
    ("nosort", 0, Arg::None, Tag::NoSort),
    ("sort", 0, Arg::None, Tag::Sort),
    ("exact", b'X', Arg::None, Tag::Exact),
    ("ipv6", b'6', Arg::None, Tag::Ipv6),
    ("ops", b'o', Arg::None, Tag::Ops),
    ("pe", 0, Arg::Required, Tag::Pe),
    ("sched-flags", b'b', Arg::Required, Tag::SchedFlags),
    ("mcast-group", 0, Arg::Required, Tag::McastGroup),
    ("mcast-port", 0, Arg::Required, Tag::McastPort),
    ("mcast-ttl", 0, Arg::Required, Tag::McastTtl),
    ("sync-maxlen", 0, Arg::Required, Tag::SyncMaxlen),
    ("tun-info", 0, Arg::None, Tag::TunInfo),
    ("tun-type", 0, Arg::Required, Tag::TunType),
    ("tun-port", 0, Arg::Required, Tag::TunPort),
    ("tun-nocsum", 0, Arg::None, Tag::TunNocsum),
    ("tun-csum", 0, Arg::None, Tag::TunCsum),
    ("tun-remcsum", 0, Arg::None, Tag::TunRemcsum),
];

/// popt's failures: the offending argument and popt's text for the error.
pub struct PoptError {
    pub arg: String,
    pub text: &'static str,
}

/// popt's option scanner over `argv[1..]`, with leftover arguments collected.
pub struct Popt<'a> {
    argv: &'a [String],
    next: usize,
    /// The argv index of a bundle of short options being read, and the position in it.
    bundle: Option<(usize, usize)>,
    pub leftovers: Vec<String>,
    rest_are_args: bool,
}

impl<'a> Popt<'a> {
    pub fn new(argv: &'a [String]) -> Self {
        Popt { argv, next: 1, bundle: None, leftovers: Vec::new(), rest_are_args: false }
    }

    /// The word the scanner read last (for messages).
    pub fn last_word(&self) -> String {
        self.argv.get(self.next.saturating_sub(1)).cloned().unwrap_or_default()
    }

    /// The next option: its tag and argument; None at the end.
    pub fn next_opt(&mut self) -> Option<Result<(Tag, Option<String>), PoptError>> {
        loop {
            if let Some((at, pos)) = self.bundle {
                match self.bundled(at, pos) {
                    Some(r) => return Some(r),
                    None => continue,
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
                return Some(self.long(&word, long));
            }
            self.bundle = Some((self.next - 1, 1));
        }
    }

    /// The option at `pos` in the bundle at `argv[at]`; None when the bundle is used up.
    fn bundled(&mut self, at: usize, pos: usize) -> Option<Result<(Tag, Option<String>), PoptError>> {
        let word = &self.argv[at];
        let Some(&c) = word.as_bytes().get(pos) else {
            self.bundle = None;
            return None;
        };
        let Some(&(_, _, arg, tag)) = TABLE.iter().find(|o| o.1 == c && c != 0) else {
            self.bundle = None;
            return Some(Err(PoptError { arg: word.clone(), text: "unknown option" }));
        };
        // A short option is one byte; the rest of the word starts after it (at a character
        // boundary, since option letters are ASCII).
        let rest = word.get(pos + 1..).unwrap_or_default();
        Some(match arg {
            Arg::None => {
                self.bundle = Some((at, pos + 1));
                Ok((tag, None))
            }
            Arg::Required | Arg::Optional if !rest.is_empty() => {
                self.bundle = None;
                Ok((tag, Some(rest.to_owned())))
            }
            Arg::Required => {
                self.bundle = None;
                match self.argv.get(self.next) {
                    Some(v) => {
                        self.next += 1;
                        Ok((tag, Some(v.clone())))
                    }
                    None => Err(PoptError { arg: word.clone(), text: "missing argument" }),
                }
            }
            Arg::Optional => {
                self.bundle = None;
                Ok((tag, self.optional_value()))
            }
        })
    }

    fn long(&mut self, word: &str, long: &str) -> Result<(Tag, Option<String>), PoptError> {
        let (name, value) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (long, None),
        };
        let Some(&(_, _, arg, tag)) = TABLE.iter().find(|o| o.0 == name) else {
            return Err(PoptError { arg: word.to_owned(), text: "unknown option" });
        };
        match (arg, value) {
            (Arg::None, Some(_)) => Err(PoptError { arg: word.to_owned(), text: "option does not take an argument" }),
            (Arg::None, None) => Ok((tag, None)),
            (_, Some(v)) => Ok((tag, Some(v))),
            (Arg::Required, None) => match self.argv.get(self.next) {
                Some(v) => {
                    self.next += 1;
                    Ok((tag, Some(v.clone())))
                }
                None => Err(PoptError { arg: word.to_owned(), text: "missing argument" }),
            },
            (Arg::Optional, None) => Ok((tag, self.optional_value())),
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
