//! Sync daemon attributes.

use netlink_packet_core::{
    emit_u16, emit_u32, parse_string, parse_u16, parse_u32, parse_u8, DecodeError, DefaultNla, Nla, NlaBuffer,
    Parseable,
};

use super::consts::*;
use super::emit_cstr;

/// Sync daemon attributes (`IPVS_DAEMON_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonAttr {
    /// Master (1) or backup (2).
    State(u32),
    /// Multicast interface name.
    McastIfn(String),
    /// Sync id.
    SyncId(u32),
    /// Largest sync message.
    SyncMaxlen(u16),
    /// IPv4 multicast group (address bytes).
    McastGroup([u8; 4]),
    /// IPv6 multicast group.
    McastGroup6([u8; 16]),
    /// UDP port (host byte order).
    McastPort(u16),
    /// Multicast TTL.
    McastTtl(u8),
    /// Anything else, kept as found.
    Other(DefaultNla),
}

impl Nla for DaemonAttr {
    fn value_len(&self) -> usize {
        use DaemonAttr::*;
        match self {
            State(_) | SyncId(_) | McastGroup(_) => 4,
            McastIfn(s) => s.len() + 1,
            SyncMaxlen(_) | McastPort(_) => 2,
            McastGroup6(_) => 16,
            McastTtl(_) => 1,
            Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DaemonAttr::*;
        match self {
            State(_) => IPVS_DAEMON_ATTR_STATE,
            McastIfn(_) => IPVS_DAEMON_ATTR_MCAST_IFN,
            SyncId(_) => IPVS_DAEMON_ATTR_SYNC_ID,
            SyncMaxlen(_) => IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            McastGroup(_) => IPVS_DAEMON_ATTR_MCAST_GROUP,
            McastGroup6(_) => IPVS_DAEMON_ATTR_MCAST_GROUP6,
            McastPort(_) => IPVS_DAEMON_ATTR_MCAST_PORT,
            McastTtl(_) => IPVS_DAEMON_ATTR_MCAST_TTL,
            Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DaemonAttr::*;
        let _ = match self {
            State(v) | SyncId(v) => emit_u32(buffer, *v),
            McastIfn(s) => {
                emit_cstr(buffer, s);
                Ok(())
            }
            SyncMaxlen(v) | McastPort(v) => emit_u16(buffer, *v),
            McastGroup(a) => {
                buffer[..4].copy_from_slice(a);
                Ok(())
            }
            McastGroup6(a) => {
                buffer[..16].copy_from_slice(a);
                Ok(())
            }
            McastTtl(v) => {
                buffer[0] = *v;
                Ok(())
            }
            Other(n) => {
                n.emit_value(buffer);
                Ok(())
            }
        };
    }
}

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for DaemonAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        use DaemonAttr::*;
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_DAEMON_ATTR_STATE => State(parse_u32(v)?),
            IPVS_DAEMON_ATTR_MCAST_IFN => McastIfn(parse_string(v)?),
            IPVS_DAEMON_ATTR_SYNC_ID => SyncId(parse_u32(v)?),
            IPVS_DAEMON_ATTR_SYNC_MAXLEN => SyncMaxlen(parse_u16(v)?),
            IPVS_DAEMON_ATTR_MCAST_GROUP => {
                let a: [u8; 4] =
                    v.try_into().map_err(|_| DecodeError::from(format!("IPv4 group of {} bytes", v.len())))?;
                McastGroup(a)
            }
            IPVS_DAEMON_ATTR_MCAST_GROUP6 => {
                let a: [u8; 16] =
                    v.try_into().map_err(|_| DecodeError::from(format!("IPv6 group of {} bytes", v.len())))?;
                McastGroup6(a)
            }
            IPVS_DAEMON_ATTR_MCAST_PORT => McastPort(parse_u16(v)?),
            IPVS_DAEMON_ATTR_MCAST_TTL => McastTtl(parse_u8(v)?),
            _ => Other(DefaultNla::parse(buf)?),
        })
    }
}
