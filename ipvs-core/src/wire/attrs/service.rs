//! Service attributes.

use std::borrow::Cow;

use netlink_packet_core::{
    emit_u16, emit_u16_be, emit_u32, parse_u16, parse_u16_be, parse_u32, DecodeError, DefaultNla, Nla, NlaBuffer,
    Parseable,
};

use crate::model::{PersistenceEngine, Scheduler};

use super::consts::*;
use super::{emit_cstr, emit_list, list_len, parse_addr, parse_stats, StatsAttr};

/// Service attributes (`IPVS_SVC_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ServiceAttr {
    /// Address family (`AF_INET`, `AF_INET6`).
    Af(u16),
    /// IP protocol number.
    Protocol(u16),
    /// Virtual address, 16 bytes (IPv4 in the first 4).
    Addr([u8; 16]),
    /// Virtual port (sent in network byte order).
    Port(u16),
    /// Firewall mark.
    Fwmark(u32),
    /// Scheduler name (a kernel scheduler's name is borrowed from the names table).
    SchedName(Cow<'static, str>),
    /// Flags and the mask of flags to change.
    Flags {
        /// New flag values.
        flags: u32,
        /// Which flags to change.
        mask: u32,
    },
    /// Persistence timeout, seconds.
    Timeout(u32),
    /// Netmask: IPv4 mask bytes read as a native u32, or IPv6 prefix length.
    Netmask(u32),
    /// 32-bit statistics (replies).
    Stats(Vec<StatsAttr>),
    /// Persistence engine name.
    PeName(Cow<'static, str>),
    /// 64-bit statistics (replies).
    Stats64(Vec<StatsAttr>),
    /// Anything else, kept as found.
    Other(DefaultNla),
}

impl Nla for ServiceAttr {
    fn value_len(&self) -> usize {
        use ServiceAttr::*;
        match self {
            Af(_) | Protocol(_) | Port(_) => 2,
            Addr(_) => 16,
            Fwmark(_) | Timeout(_) | Netmask(_) => 4,
            SchedName(s) | PeName(s) => s.len() + 1,
            Flags { .. } => 8,
            Stats(l) | Stats64(l) => list_len(l),
            Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use ServiceAttr::*;
        match self {
            Af(_) => IPVS_SVC_ATTR_AF,
            Protocol(_) => IPVS_SVC_ATTR_PROTOCOL,
            Addr(_) => IPVS_SVC_ATTR_ADDR,
            Port(_) => IPVS_SVC_ATTR_PORT,
            Fwmark(_) => IPVS_SVC_ATTR_FWMARK,
            SchedName(_) => IPVS_SVC_ATTR_SCHED_NAME,
            Flags { .. } => IPVS_SVC_ATTR_FLAGS,
            Timeout(_) => IPVS_SVC_ATTR_TIMEOUT,
            Netmask(_) => IPVS_SVC_ATTR_NETMASK,
            Stats(_) => IPVS_SVC_ATTR_STATS,
            PeName(_) => IPVS_SVC_ATTR_PE_NAME,
            Stats64(_) => IPVS_SVC_ATTR_STATS64,
            Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use ServiceAttr::*;
        let _ = match self {
            Af(v) | Protocol(v) => emit_u16(buffer, *v),
            Port(v) => emit_u16_be(buffer, *v),
            Addr(a) => {
                buffer[..16].copy_from_slice(a);
                Ok(())
            }
            Fwmark(v) | Timeout(v) | Netmask(v) => emit_u32(buffer, *v),
            SchedName(s) | PeName(s) => {
                emit_cstr(buffer, s);
                Ok(())
            }
            Flags { flags, mask } => {
                emit_u32(&mut buffer[..4], *flags).and_then(|_| emit_u32(&mut buffer[4..8], *mask))
            }
            Stats(l) | Stats64(l) => {
                emit_list(l, buffer);
                Ok(())
            }
            Other(n) => {
                n.emit_value(buffer);
                Ok(())
            }
        };
    }
}

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for ServiceAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        use ServiceAttr::*;
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_SVC_ATTR_AF => Af(parse_u16(v)?),
            IPVS_SVC_ATTR_PROTOCOL => Protocol(parse_u16(v)?),
            IPVS_SVC_ATTR_ADDR => Addr(parse_addr(v)?),
            IPVS_SVC_ATTR_PORT => Port(parse_u16_be(v)?),
            IPVS_SVC_ATTR_FWMARK => Fwmark(parse_u32(v)?),
            IPVS_SVC_ATTR_SCHED_NAME => SchedName(parse_name(v, Scheduler::static_name)?),
            IPVS_SVC_ATTR_FLAGS => {
                if v.len() != 8 {
                    return Err(DecodeError::from(format!("service flags of {} bytes (expected 8)", v.len())));
                }
                Flags { flags: parse_u32(&v[..4])?, mask: parse_u32(&v[4..])? }
            }
            IPVS_SVC_ATTR_TIMEOUT => Timeout(parse_u32(v)?),
            IPVS_SVC_ATTR_NETMASK => Netmask(parse_u32(v)?),
            IPVS_SVC_ATTR_STATS => Stats(parse_stats(v)?),
            IPVS_SVC_ATTR_PE_NAME => PeName(parse_name(v, |n| PersistenceEngine::from_name(n).static_name())?),
            IPVS_SVC_ATTR_STATS64 => Stats64(parse_stats(v)?),
            _ => Other(DefaultNla::parse(buf)?),
        })
    }
}

/// A name attribute (NUL-terminated, as the kernel sends it): borrowed from the names table
/// when `known` knows it, so the common case allocates nothing.
fn parse_name(v: &[u8], known: impl Fn(&str) -> Option<&'static str>) -> Result<Cow<'static, str>, DecodeError> {
    let v = v.strip_suffix(&[0]).unwrap_or(v);
    let name = std::str::from_utf8(v).map_err(|e| DecodeError::from(format!("name attribute: {e}")))?;
    Ok(known(name).map_or_else(|| Cow::Owned(name.to_owned()), Cow::Borrowed))
}
