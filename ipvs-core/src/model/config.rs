//! Global settings: connection timeouts, sync daemons, and the kernel's IPVS info.

use std::fmt;
use std::net::IpAddr;

use super::{check_name, HZ};
use crate::error::InvalidInput;

/// Connection timeouts in seconds. In a request, 0 keeps the current value.
///
/// ```
/// use ipvs::Timeouts;
/// let t = Timeouts { tcp: 900, tcp_fin: 120, udp: 300 };
/// t.validate().unwrap();
/// assert!(Timeouts { tcp: u32::MAX, ..t }.validate().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after a FIN.
    pub tcp_fin: u32,
    /// UDP "connections".
    pub udp: u32,
}

impl Timeouts {
    /// The kernel keeps timeouts in ticks in an `int`: the largest it accepts is
    /// `INT_MAX / HZ` seconds.
    pub const MAX: u32 = i32::MAX as u32 / HZ;

    /// Checks each timeout is within [`Timeouts::MAX`].
    pub fn validate(&self) -> Result<(), InvalidInput> {
        for (field, v) in [("tcp", self.tcp), ("tcp_fin", self.tcp_fin), ("udp", self.udp)] {
            if v > Self::MAX {
                return Err(InvalidInput::new(field, v, format!("a timeout must be at most {} seconds", Self::MAX)));
            }
        }
        Ok(())
    }
}

/// The role of a connection-sync daemon.
///
/// ```
/// use ipvs::DaemonState;
/// assert_eq!("backup".parse::<DaemonState>().unwrap(), DaemonState::Backup);
/// assert_eq!(DaemonState::Master.number(), 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DaemonState {
    /// Sends connection state to backups.
    Master,
    /// Receives connection state from a master.
    Backup,
}

impl DaemonState {
    /// The kernel's `IP_VS_STATE_*` number.
    pub fn number(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
        }
    }

    /// The state for a kernel number.
    pub fn from_number(n: u32) -> Option<Self> {
        match n {
            1 => Some(DaemonState::Master),
            2 => Some(DaemonState::Backup),
            _ => None,
        }
    }
}

impl fmt::Display for DaemonState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DaemonState::Master => "master",
            DaemonState::Backup => "backup",
        })
    }
}

impl std::str::FromStr for DaemonState {
    type Err = InvalidInput;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "master" => Ok(DaemonState::Master),
            "backup" => Ok(DaemonState::Backup),
            _ => Err(InvalidInput::new("state", s, "expected master or backup")),
        }
    }
}

/// A connection-synchronisation daemon. `None` fields take the kernel's defaults when
/// starting (group 224.0.0.81, port 8848, ttl 1); the kernel reports them all.
///
/// ```
/// use ipvs::{Daemon, DaemonState};
/// let d = Daemon::new(DaemonState::Master, "eth0", 7).with_group("239.1.2.3".parse().unwrap());
/// d.validate().unwrap();
/// assert!(Daemon::new(DaemonState::Backup, "an-interface-name-too-long", 1).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Daemon {
    /// Master or backup.
    pub state: DaemonState,
    /// The multicast interface.
    pub interface: String,
    /// Sync id (0..=255): a backup only accepts messages with its own id.
    pub sync_id: u8,
    /// Largest sync message payload.
    pub max_len: Option<u16>,
    /// Multicast group (IPv4 or IPv6).
    pub group: Option<IpAddr>,
    /// UDP port.
    pub port: Option<u16>,
    /// Multicast TTL.
    pub ttl: Option<u8>,
}

impl Daemon {
    /// A daemon with the kernel's defaults for the optional settings.
    pub fn new(state: DaemonState, interface: impl Into<String>, sync_id: u8) -> Self {
        Daemon { state, interface: interface.into(), sync_id, max_len: None, group: None, port: None, ttl: None }
    }

    /// Sets the multicast group.
    pub fn with_group(mut self, group: IpAddr) -> Self {
        self.group = Some(group);
        self
    }

    /// Sets the UDP port.
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// Sets the multicast TTL.
    pub fn with_ttl(mut self, ttl: u8) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Sets the largest sync message payload.
    pub fn with_max_len(mut self, max_len: u16) -> Self {
        self.max_len = Some(max_len);
        self
    }

    /// Checks what the kernel would reject. An optional setting given as 0 is refused: leave it
    /// `None` for the kernel's default.
    pub fn validate(&self) -> Result<(), InvalidInput> {
        check_name("interface", &self.interface)?;
        for (field, zero) in
            [("max_len", self.max_len == Some(0)), ("port", self.port == Some(0)), ("ttl", self.ttl == Some(0))]
        {
            if zero {
                return Err(InvalidInput::new(field, 0, "must not be 0 (leave it unset for the kernel's default)"));
            }
        }
        if let Some(g) = self.group {
            if !g.is_multicast() {
                return Err(InvalidInput::new("group", g, "the sync group must be a multicast address"));
            }
        }
        Ok(())
    }
}

/// The IPVS version as the kernel reports it (0x010201 is 1.2.1).
///
/// ```
/// use ipvs::Version;
/// assert_eq!(Version(0x010201).to_string(), "1.2.1");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Version(pub u32);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", (self.0 >> 16) & 0xff, (self.0 >> 8) & 0xff, self.0 & 0xff)
    }
}

/// What the kernel says of its IPVS.
///
/// ```
/// let info = ipvs::Client::mock().info().unwrap();
/// assert_eq!(info.version.to_string(), "1.2.1");
/// assert_eq!(info.conn_table_size, 4096);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// IPVS version.
    pub version: Version,
    /// Size of the connection hash table.
    pub conn_table_size: u32,
}
