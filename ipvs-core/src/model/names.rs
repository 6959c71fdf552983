//! The one names table: how the kernel numbers protocols, schedulers, forwarding methods,
//! tunnel types and service flags, and how each is spelled in files and Python (`name`), in
//! listings (`label`) and in the ipvsadm rule format (`rule`). Every parser and renderer in the
//! workspace goes through the methods of the model types, which read these tables; nothing
//! else spells these names or numbers.

use super::{Family, Protocol, Scheduler, ServiceFlags, TunnelFlags};

/// A transport protocol: IP protocol number, name, listing label, rule-format option.
pub(crate) struct ProtocolRow {
    pub protocol: Protocol,
    pub number: u16,
    pub name: &'static str,
    pub label: &'static str,
    pub rule: &'static str,
}

pub(crate) const PROTOCOLS: [ProtocolRow; 3] = [
    ProtocolRow { protocol: Protocol::Tcp, number: 6, name: "tcp", label: "TCP", rule: "-t" },
    ProtocolRow { protocol: Protocol::Udp, number: 17, name: "udp", label: "UDP", rule: "-u" },
    ProtocolRow { protocol: Protocol::Sctp, number: 132, name: "sctp", label: "SCTP", rule: "--sctp-service" },
];

/// An address family: `AF_*` number, name, label.
pub(crate) struct FamilyRow {
    pub family: Family,
    pub number: u16,
    pub name: &'static str,
    pub label: &'static str,
}

pub(crate) const FAMILIES: [FamilyRow; 2] = [
    FamilyRow { family: Family::Inet, number: 2, name: "inet", label: "IPv4" },
    FamilyRow { family: Family::Inet6, number: 10, name: "inet6", label: "IPv6" },
];

/// A scheduler: its kernel name (module `ip_vs_<name>`), what it does, and whether Debian
/// bookworm's 6.1 kernel (the lab's) has it.
pub(crate) struct SchedulerRow {
    pub scheduler: Scheduler,
    pub name: &'static str,
    pub description: &'static str,
    pub in_debian_6_1: bool,
}

pub(crate) const SCHEDULERS: [SchedulerRow; 15] = [
    SchedulerRow { scheduler: Scheduler::Rr, name: "rr", description: "round robin", in_debian_6_1: true },
    SchedulerRow { scheduler: Scheduler::Wrr, name: "wrr", description: "weighted round robin", in_debian_6_1: true },
    SchedulerRow { scheduler: Scheduler::Lc, name: "lc", description: "least connections", in_debian_6_1: true },
    SchedulerRow {
        scheduler: Scheduler::Wlc,
        name: "wlc",
        description: "weighted least connections",
        in_debian_6_1: true,
    },
    SchedulerRow {
        scheduler: Scheduler::Lblc,
        name: "lblc",
        description: "locality-based least connections",
        in_debian_6_1: true,
    },
    SchedulerRow {
        scheduler: Scheduler::Lblcr,
        name: "lblcr",
        description: "locality-based least connections with replication",
        in_debian_6_1: true,
    },
    SchedulerRow { scheduler: Scheduler::Dh, name: "dh", description: "destination hashing", in_debian_6_1: true },
    SchedulerRow { scheduler: Scheduler::Sh, name: "sh", description: "source hashing", in_debian_6_1: true },
    SchedulerRow {
        scheduler: Scheduler::Sed,
        name: "sed",
        description: "shortest expected delay",
        in_debian_6_1: true,
    },
    SchedulerRow { scheduler: Scheduler::Nq, name: "nq", description: "never queue", in_debian_6_1: true },
    SchedulerRow { scheduler: Scheduler::Fo, name: "fo", description: "weighted failover", in_debian_6_1: true },
    SchedulerRow { scheduler: Scheduler::Ovf, name: "ovf", description: "weighted overflow", in_debian_6_1: true },
    SchedulerRow { scheduler: Scheduler::Mh, name: "mh", description: "maglev hashing", in_debian_6_1: true },
    SchedulerRow {
        scheduler: Scheduler::Twos,
        name: "twos",
        description: "weighted random twos choice",
        in_debian_6_1: false,
    },
    SchedulerRow { scheduler: Scheduler::None, name: "none", description: "no scheduler", in_debian_6_1: true },
];

/// A forwarding method: the kernel's `IP_VS_CONN_F_*` number, name, ipvsadm's listing label and
/// rule-format switch (`None`: the rule format cannot express it).
pub(crate) struct ForwardRow {
    pub name: &'static str,
    pub label: &'static str,
    pub rule: Option<&'static str>,
}

pub(crate) const FORWARDS: [ForwardRow; 5] = [
    ForwardRow { name: "nat", label: "Masq", rule: Some("-m") },
    ForwardRow { name: "local", label: "Local", rule: Some("-g") },
    ForwardRow { name: "tunnel", label: "Tunnel", rule: Some("-i") },
    ForwardRow { name: "dr", label: "Route", rule: Some("-g") },
    ForwardRow { name: "bypass", label: "Bypass", rule: None },
];

/// Tunnel encapsulations: `IP_VS_CONN_F_TUNNEL_TYPE_*` number and name.
pub(crate) const TUNNEL_TYPES: [(u8, &str); 3] = [(0, "ipip"), (1, "gue"), (2, "gre")];

/// Tunnel checksum modes: flags and name (the rule format spells them `--tun-<name>`).
pub(crate) const TUNNEL_CHECKSUMS: [(TunnelFlags, &str); 3] =
    [(TunnelFlags::empty(), "nocsum"), (TunnelFlags::CSUM, "csum"), (TunnelFlags::REMCSUM, "remcsum")];

/// Scheduler flags: the bit, its generic name, and the schedulers that give it a name of their
/// own (`<scheduler>-<suffix>`).
pub(crate) struct SchedFlagRow {
    pub flag: ServiceFlags,
    pub generic: &'static str,
    pub suffix: Option<&'static str>,
    pub schedulers: &'static [&'static str],
}

pub(crate) const SCHED_FLAGS: [SchedFlagRow; 3] = [
    SchedFlagRow { flag: ServiceFlags::SCHED1, generic: "flag-1", suffix: Some("fallback"), schedulers: &["sh", "mh"] },
    SchedFlagRow { flag: ServiceFlags::SCHED2, generic: "flag-2", suffix: Some("port"), schedulers: &["sh", "mh"] },
    SchedFlagRow { flag: ServiceFlags::SCHED3, generic: "flag-3", suffix: None, schedulers: &[] },
];

/// Service flags that are not scheduler flags, with their names (files, Python) and their
/// ipvsadm listing label / rule switch.
pub(crate) const SERVICE_FLAGS: [(ServiceFlags, &str, &str, &str); 2] = [
    (ServiceFlags::PERSISTENT, "persistent", "persistent", "-p"),
    (ServiceFlags::ONE_PACKET, "one-packet", "ops", "-o"),
];
