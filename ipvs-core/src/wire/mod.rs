//! The IPVS generic-netlink wire format: commands, messages, attributes, framing, and the
//! conversions between them and the typed [model](crate::model).
//!
//! This layer does no I/O. Encoding builds bytes from values; decoding never panics on any
//! input: malformed bytes give a [`DecodeError`].
//!
//! ```
//! use ipvs::wire::{self, IpvsCmd, IpvsMessage};
//! use ipvs::{Scheduler, Service, ServiceId};
//! let svc = Service::new(ServiceId::tcp("192.0.2.1".parse().unwrap(), 80), Scheduler::Rr);
//! let msg = IpvsMessage::new_service(&svc);
//! let mut bytes = Vec::new();
//! wire::frame::encode(&msg, 0x1c, 1, wire::frame::REQUEST_ACK, &mut bytes);
//! let frames = wire::frame::decode_all(&bytes).unwrap();
//! assert_eq!(frames[0].seq, 1);
//! assert_eq!(frames[0].message().unwrap().cmd, IpvsCmd::NewService);
//! ```

pub mod attrs;
pub(crate) mod convert;
pub mod frame;

pub use attrs::{DaemonAttr, DestAttr, IpvsAttr, ServiceAttr, StatsAttr};
pub use convert::{
    daemon_from_attrs, destination_from_attrs, service_from_attrs, service_id_from_attrs, stats_from_attrs,
};
pub use netlink_packet_core::DecodeError;

use netlink_packet_core::{Emitable, NlasIterator, ParseableParametrized};
use netlink_packet_generic::{GenlFamily, GenlHeader};

/// The generic netlink family name.
pub const FAMILY_NAME: &str = "IPVS";
/// The family's version.
pub const FAMILY_VERSION: u8 = 1;

/// IPVS generic netlink commands (`IPVS_CMD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpvsCmd {
    /// Add a service (1).
    NewService,
    /// Edit a service (2).
    SetService,
    /// Delete a service (3).
    DelService,
    /// Get one service or dump all (4); replies are `NewService`.
    GetService,
    /// Add a destination (5).
    NewDest,
    /// Edit a destination (6).
    SetDest,
    /// Delete a destination (7).
    DelDest,
    /// Dump a service's destinations (8); replies are `NewDest`.
    GetDest,
    /// Start a sync daemon (9); also the reply to `GetDaemon`.
    NewDaemon,
    /// Stop a sync daemon (10).
    DelDaemon,
    /// Dump the sync daemons (11).
    GetDaemon,
    /// Set timeouts (12); also the reply to `GetConfig`.
    SetConfig,
    /// Get timeouts (13).
    GetConfig,
    /// The reply to `GetInfo` (14).
    SetInfo,
    /// Get version and table size (15).
    GetInfo,
    /// Zero counters of one or all services (16).
    Zero,
    /// Delete every service (17).
    Flush,
    /// A command number this library does not know.
    Other(u8),
}

impl IpvsCmd {
    /// The command number.
    pub fn number(self) -> u8 {
        use IpvsCmd::*;
        match self {
            NewService => 1,
            SetService => 2,
            DelService => 3,
            GetService => 4,
            NewDest => 5,
            SetDest => 6,
            DelDest => 7,
            GetDest => 8,
            NewDaemon => 9,
            DelDaemon => 10,
            GetDaemon => 11,
            SetConfig => 12,
            GetConfig => 13,
            SetInfo => 14,
            GetInfo => 15,
            Zero => 16,
            Flush => 17,
            Other(n) => n,
        }
    }

    /// The command with this number.
    pub fn from_number(n: u8) -> Self {
        use IpvsCmd::*;
        match n {
            1 => NewService,
            2 => SetService,
            3 => DelService,
            4 => GetService,
            5 => NewDest,
            6 => SetDest,
            7 => DelDest,
            8 => GetDest,
            9 => NewDaemon,
            10 => DelDaemon,
            11 => GetDaemon,
            12 => SetConfig,
            13 => GetConfig,
            14 => SetInfo,
            15 => GetInfo,
            16 => Zero,
            17 => Flush,
            n => Other(n),
        }
    }

    /// Whether this command's top-level attributes are the info attributes.
    fn uses_info_attrs(self) -> bool {
        matches!(self, IpvsCmd::SetInfo | IpvsCmd::GetInfo)
    }
}

/// One IPVS generic netlink message: a command and its attributes.
///
/// The request constructors (`new_service`, `del_dest`, ...) live in this type so every
/// request the client sends is built in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// The command.
    pub cmd: IpvsCmd,
    /// Top-level attributes.
    pub attrs: Vec<IpvsAttr>,
}

impl IpvsMessage {
    /// A message with no attributes.
    pub fn bare(cmd: IpvsCmd) -> Self {
        IpvsMessage { cmd, attrs: Vec::new() }
    }

    /// The first nested service, if any.
    pub fn service(&self) -> Option<&[ServiceAttr]> {
        self.attrs.iter().find_map(|a| match a {
            IpvsAttr::Service(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    /// The first nested destination, if any.
    pub fn dest(&self) -> Option<&[DestAttr]> {
        self.attrs.iter().find_map(|a| match a {
            IpvsAttr::Dest(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    /// The first nested daemon, if any.
    pub fn daemon(&self) -> Option<&[DaemonAttr]> {
        self.attrs.iter().find_map(|a| match a {
            IpvsAttr::Daemon(s) => Some(s.as_slice()),
            _ => None,
        })
    }

    /// Parses a message body (after the generic netlink header) for command `cmd`.
    pub fn parse_body(cmd: IpvsCmd, body: &[u8]) -> Result<Self, DecodeError> {
        let info = cmd.uses_info_attrs();
        let mut attrs = Vec::new();
        for nla in NlasIterator::new(body) {
            attrs.push(IpvsAttr::parse(&nla?, info)?);
        }
        Ok(IpvsMessage { cmd, attrs })
    }
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        FAMILY_NAME
    }

    fn command(&self) -> u8 {
        self.cmd.number()
    }

    fn version(&self) -> u8 {
        FAMILY_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.attrs.iter().map(|a| a.buffer_len()).sum()
    }

    fn emit(&self, buffer: &mut [u8]) {
        self.attrs.as_slice().emit(buffer)
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        IpvsMessage::parse_body(IpvsCmd::from_number(header.cmd), buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_numbers_round_trip() {
        for n in 0..=255u8 {
            assert_eq!(IpvsCmd::from_number(n).number(), n);
        }
        assert_eq!(IpvsCmd::Flush.number(), 17);
        assert_eq!(IpvsCmd::GetDest.number(), 8);
    }

    #[test]
    fn info_attributes_share_numbers_with_service_and_dest() {
        let body = [8, 0, 1, 0, 0x01, 0x02, 0x01, 0x00, 8, 0, 2, 0, 0, 0x10, 0, 0];
        let m = IpvsMessage::parse_body(IpvsCmd::SetInfo, &body).unwrap();
        assert_eq!(m.attrs, vec![IpvsAttr::InfoVersion(0x010201), IpvsAttr::InfoConnTabSize(4096)]);
        // The same bytes in a service message are (malformed) nested attributes.
        assert!(IpvsMessage::parse_body(IpvsCmd::NewService, &body).is_err());
    }
}
