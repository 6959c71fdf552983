//! Destination attributes.

use netlink_packet_core::{
    emit_u16, emit_u16_be, emit_u32, parse_u16, parse_u16_be, parse_u32, parse_u8, DecodeError, DefaultNla, Nla,
    NlaBuffer, Parseable,
};

use super::consts::*;
use super::{emit_list, list_len, parse_addr, parse_stats, StatsAttr};

/// Destination attributes (`IPVS_DEST_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestAttr {
    /// Address, 16 bytes.
    Addr([u8; 16]),
    /// Port (network byte order on the wire).
    Port(u16),
    /// Forwarding method (`IP_VS_CONN_F_*`, low 3 bits).
    FwdMethod(u32),
    /// Weight (the kernel reads it as a signed int).
    Weight(u32),
    /// Upper threshold.
    UpperThreshold(u32),
    /// Lower threshold.
    LowerThreshold(u32),
    /// Active connections (replies).
    ActiveConns(u32),
    /// Inactive connections (replies).
    InactiveConns(u32),
    /// Persistent connections (replies).
    PersistConns(u32),
    /// 32-bit statistics (replies).
    Stats(Vec<StatsAttr>),
    /// Address family of the destination.
    AddrFamily(u16),
    /// 64-bit statistics (replies).
    Stats64(Vec<StatsAttr>),
    /// Tunnel type.
    TunType(u8),
    /// Tunnel port (network byte order on the wire).
    TunPort(u16),
    /// Tunnel flags.
    TunFlags(u16),
    /// Anything else, kept as found.
    Other(DefaultNla),
}

impl Nla for DestAttr {
    fn value_len(&self) -> usize {
        use DestAttr::*;
        match self {
            Addr(_) => 16,
            Port(_) | AddrFamily(_) | TunPort(_) | TunFlags(_) => 2,
            TunType(_) => 1,
            FwdMethod(_) | Weight(_) | UpperThreshold(_) | LowerThreshold(_) | ActiveConns(_) | InactiveConns(_)
            | PersistConns(_) => 4,
            Stats(l) | Stats64(l) => list_len(l),
            Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        use DestAttr::*;
        match self {
            Addr(_) => IPVS_DEST_ATTR_ADDR,
            Port(_) => IPVS_DEST_ATTR_PORT,
            FwdMethod(_) => IPVS_DEST_ATTR_FWD_METHOD,
            Weight(_) => IPVS_DEST_ATTR_WEIGHT,
            UpperThreshold(_) => IPVS_DEST_ATTR_U_THRESH,
            LowerThreshold(_) => IPVS_DEST_ATTR_L_THRESH,
            ActiveConns(_) => IPVS_DEST_ATTR_ACTIVE_CONNS,
            InactiveConns(_) => IPVS_DEST_ATTR_INACT_CONNS,
            PersistConns(_) => IPVS_DEST_ATTR_PERSIST_CONNS,
            Stats(_) => IPVS_DEST_ATTR_STATS,
            AddrFamily(_) => IPVS_DEST_ATTR_ADDR_FAMILY,
            Stats64(_) => IPVS_DEST_ATTR_STATS64,
            TunType(_) => IPVS_DEST_ATTR_TUN_TYPE,
            TunPort(_) => IPVS_DEST_ATTR_TUN_PORT,
            TunFlags(_) => IPVS_DEST_ATTR_TUN_FLAGS,
            Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        use DestAttr::*;
        let _ = match self {
            Addr(a) => {
                buffer[..16].copy_from_slice(a);
                Ok(())
            }
            Port(v) | TunPort(v) => emit_u16_be(buffer, *v),
            AddrFamily(v) | TunFlags(v) => emit_u16(buffer, *v),
            TunType(v) => {
                buffer[0] = *v;
                Ok(())
            }
            FwdMethod(v) | Weight(v) | UpperThreshold(v) | LowerThreshold(v) | ActiveConns(v) | InactiveConns(v)
            | PersistConns(v) => emit_u32(buffer, *v),
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

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for DestAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        use DestAttr::*;
        let v = buf.value();
        Ok(match buf.kind() {
            IPVS_DEST_ATTR_ADDR => Addr(parse_addr(v)?),
            IPVS_DEST_ATTR_PORT => Port(parse_u16_be(v)?),
            IPVS_DEST_ATTR_FWD_METHOD => FwdMethod(parse_u32(v)?),
            IPVS_DEST_ATTR_WEIGHT => Weight(parse_u32(v)?),
            IPVS_DEST_ATTR_U_THRESH => UpperThreshold(parse_u32(v)?),
            IPVS_DEST_ATTR_L_THRESH => LowerThreshold(parse_u32(v)?),
            IPVS_DEST_ATTR_ACTIVE_CONNS => ActiveConns(parse_u32(v)?),
            IPVS_DEST_ATTR_INACT_CONNS => InactiveConns(parse_u32(v)?),
            IPVS_DEST_ATTR_PERSIST_CONNS => PersistConns(parse_u32(v)?),
            IPVS_DEST_ATTR_STATS => Stats(parse_stats(v)?),
            IPVS_DEST_ATTR_ADDR_FAMILY => AddrFamily(parse_u16(v)?),
            IPVS_DEST_ATTR_STATS64 => Stats64(parse_stats(v)?),
            IPVS_DEST_ATTR_TUN_TYPE => TunType(parse_u8(v)?),
            IPVS_DEST_ATTR_TUN_PORT => TunPort(parse_u16_be(v)?),
            IPVS_DEST_ATTR_TUN_FLAGS => TunFlags(parse_u16(v)?),
            _ => Other(DefaultNla::parse(buf)?),
        })
    }
}
