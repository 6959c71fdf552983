//! Netlink attributes of the IPVS family, one enum per attribute space.
//!
//! Each enum implements [`Nla`] (emit) and [`Parseable<NlaBuffer>`] (parse). Attributes this
//! library does not know are kept as [`DefaultNla`] in an `Other` variant, so nothing is lost
//! on a round trip. Parsing never panics: a value of the wrong size is a [`DecodeError`].

use netlink_packet_core::{
    emit_u16, emit_u16_be, emit_u32, emit_u64, parse_string, parse_u16, parse_u16_be, parse_u32, parse_u64, parse_u8,
    DecodeError, DefaultNla, Emitable, Nla, NlaBuffer, NlasIterator, Parseable,
};

/// Attribute numbers from `include/uapi/linux/ip_vs.h`.
#[allow(missing_docs)]
pub(crate) mod consts {
    pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
    pub const IPVS_CMD_ATTR_DEST: u16 = 2;
    pub const IPVS_CMD_ATTR_DAEMON: u16 = 3;
    pub const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
    pub const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
    pub const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;

    pub const IPVS_SVC_ATTR_AF: u16 = 1;
    pub const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
    pub const IPVS_SVC_ATTR_ADDR: u16 = 3;
    pub const IPVS_SVC_ATTR_PORT: u16 = 4;
    pub const IPVS_SVC_ATTR_FWMARK: u16 = 5;
    pub const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
    pub const IPVS_SVC_ATTR_FLAGS: u16 = 7;
    pub const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
    pub const IPVS_SVC_ATTR_NETMASK: u16 = 9;
    pub const IPVS_SVC_ATTR_STATS: u16 = 10;
    pub const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
    pub const IPVS_SVC_ATTR_STATS64: u16 = 12;

    pub const IPVS_DEST_ATTR_ADDR: u16 = 1;
    pub const IPVS_DEST_ATTR_PORT: u16 = 2;
    pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
    pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
    pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
    pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
    pub const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
    pub const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
    pub const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
    pub const IPVS_DEST_ATTR_STATS: u16 = 10;
    pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
    pub const IPVS_DEST_ATTR_STATS64: u16 = 12;
    pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
    pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
    pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;

    pub const IPVS_DAEMON_ATTR_STATE: u16 = 1;
    pub const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
    pub const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
    pub const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
    pub const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
    pub const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
    pub const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
    pub const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;

    pub const IPVS_STATS_ATTR_CONNS: u16 = 1;
    pub const IPVS_STATS_ATTR_INPKTS: u16 = 2;
    pub const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
    pub const IPVS_STATS_ATTR_INBYTES: u16 = 4;
    pub const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
    pub const IPVS_STATS_ATTR_CPS: u16 = 6;
    pub const IPVS_STATS_ATTR_INPPS: u16 = 7;
    pub const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
    pub const IPVS_STATS_ATTR_INBPS: u16 = 9;
    pub const IPVS_STATS_ATTR_OUTBPS: u16 = 10;

    pub const IPVS_INFO_ATTR_VERSION: u16 = 1;
    pub const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;
}
use consts::*;

/// Emits a list of attributes into exactly the sum of their `buffer_len()` bytes. Each
/// attribute's type field is written whole, flags included: netlink-packet-core's emission
/// drops the byte-order flag of an attribute that also has the nested flag (its
/// `set_nested_flag` re-reads the masked type), which would change a kept unknown attribute.
pub(crate) fn emit_list<T: Nla>(list: &[T], buffer: &mut [u8]) {
    let mut at = 0;
    for a in list {
        let len = a.buffer_len();
        let slot = &mut buffer[at..at + len];
        a.emit(slot);
        slot[2..4].copy_from_slice(&a.kind().to_ne_bytes());
        at += len;
    }
}

fn list_len<T: Nla>(list: &[T]) -> usize {
    list.iter().map(|n| n.buffer_len()).sum()
}

/// Parses every attribute in `buf` with `T`'s parser.
pub(crate) fn parse_list<T>(buf: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut out = Vec::new();
    for nla in NlasIterator::new(buf) {
        out.push(T::parse(&nla?)?);
    }
    Ok(out)
}

/// A 16-byte address attribute: IPv4 in the first 4 bytes. Shorter values are zero-padded
/// (as the kernel's `nla_memcpy` does); longer ones are an error.
fn parse_addr(v: &[u8]) -> Result<[u8; 16], DecodeError> {
    if v.len() > 16 {
        return Err(DecodeError::from(format!("address attribute of {} bytes (at most 16)", v.len())));
    }
    let mut a = [0u8; 16];
    a[..v.len()].copy_from_slice(v);
    Ok(a)
}

/// A NUL-terminated name; the kernel rejects names of 16 bytes or more.
fn emit_cstr(buffer: &mut [u8], s: &str) {
    buffer[..s.len()].copy_from_slice(s.as_bytes());
    buffer[s.len()] = 0;
}

/// Top-level attributes of an IPVS message (`IPVS_CMD_ATTR_*`), and the info attributes
/// (`IPVS_INFO_ATTR_*`) that share their numbers in GET_INFO replies.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IpvsAttr {
    /// A nested service.
    Service(Vec<ServiceAttr>),
    /// A nested destination.
    Dest(Vec<DestAttr>),
    /// A nested sync daemon.
    Daemon(Vec<DaemonAttr>),
    /// TCP timeout, seconds.
    TimeoutTcp(u32),
    /// TCP FIN timeout, seconds.
    TimeoutTcpFin(u32),
    /// UDP timeout, seconds.
    TimeoutUdp(u32),
    /// IPVS version (info replies only).
    InfoVersion(u32),
    /// Connection table size (info replies only).
    InfoConnTabSize(u32),
    /// Anything else, kept as found.
    Other(DefaultNla),
}

impl Nla for IpvsAttr {
    fn value_len(&self) -> usize {
        match self {
            IpvsAttr::Service(l) => list_len(l),
            IpvsAttr::Dest(l) => list_len(l),
            IpvsAttr::Daemon(l) => list_len(l),
            IpvsAttr::TimeoutTcp(_)
            | IpvsAttr::TimeoutTcpFin(_)
            | IpvsAttr::TimeoutUdp(_)
            | IpvsAttr::InfoVersion(_)
            | IpvsAttr::InfoConnTabSize(_) => 4,
            IpvsAttr::Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            IpvsAttr::Service(_) => IPVS_CMD_ATTR_SERVICE,
            IpvsAttr::Dest(_) => IPVS_CMD_ATTR_DEST,
            IpvsAttr::Daemon(_) => IPVS_CMD_ATTR_DAEMON,
            IpvsAttr::TimeoutTcp(_) => IPVS_CMD_ATTR_TIMEOUT_TCP,
            IpvsAttr::TimeoutTcpFin(_) => IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            IpvsAttr::TimeoutUdp(_) => IPVS_CMD_ATTR_TIMEOUT_UDP,
            IpvsAttr::InfoVersion(_) => IPVS_INFO_ATTR_VERSION,
            IpvsAttr::InfoConnTabSize(_) => IPVS_INFO_ATTR_CONN_TAB_SIZE,
            IpvsAttr::Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        match self {
            IpvsAttr::Service(l) => emit_list(l, buffer),
            IpvsAttr::Dest(l) => emit_list(l, buffer),
            IpvsAttr::Daemon(l) => emit_list(l, buffer),
            IpvsAttr::TimeoutTcp(v)
            | IpvsAttr::TimeoutTcpFin(v)
            | IpvsAttr::TimeoutUdp(v)
            | IpvsAttr::InfoVersion(v)
            | IpvsAttr::InfoConnTabSize(v) => {
                let _ = emit_u32(buffer, *v);
            }
            IpvsAttr::Other(n) => n.emit_value(buffer),
        }
    }
}

impl IpvsAttr {
    /// Parses a top-level attribute; `info` selects the info attribute space (GET_INFO and
    /// its reply), where numbers 1 and 2 mean version and table size.
    pub fn parse(buf: &NlaBuffer<&[u8]>, info: bool) -> Result<Self, DecodeError> {
        let v = buf.value();
        Ok(match (buf.kind(), info) {
            (IPVS_INFO_ATTR_VERSION, true) => IpvsAttr::InfoVersion(parse_u32(v)?),
            (IPVS_INFO_ATTR_CONN_TAB_SIZE, true) => IpvsAttr::InfoConnTabSize(parse_u32(v)?),
            (IPVS_CMD_ATTR_SERVICE, false) => IpvsAttr::Service(parse_list(v)?),
            (IPVS_CMD_ATTR_DEST, false) => IpvsAttr::Dest(parse_list(v)?),
            (IPVS_CMD_ATTR_DAEMON, false) => IpvsAttr::Daemon(parse_list(v)?),
            (IPVS_CMD_ATTR_TIMEOUT_TCP, false) => IpvsAttr::TimeoutTcp(parse_u32(v)?),
            (IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, false) => IpvsAttr::TimeoutTcpFin(parse_u32(v)?),
            (IPVS_CMD_ATTR_TIMEOUT_UDP, false) => IpvsAttr::TimeoutUdp(parse_u32(v)?),
            _ => IpvsAttr::Other(DefaultNla::parse(buf)?),
        })
    }
}

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
    /// Scheduler name.
    SchedName(String),
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
    PeName(String),
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
            IPVS_SVC_ATTR_SCHED_NAME => SchedName(parse_string(v)?),
            IPVS_SVC_ATTR_FLAGS => {
                if v.len() != 8 {
                    return Err(DecodeError::from(format!("service flags of {} bytes (expected 8)", v.len())));
                }
                Flags { flags: parse_u32(&v[..4])?, mask: parse_u32(&v[4..])? }
            }
            IPVS_SVC_ATTR_TIMEOUT => Timeout(parse_u32(v)?),
            IPVS_SVC_ATTR_NETMASK => Netmask(parse_u32(v)?),
            IPVS_SVC_ATTR_STATS => Stats(parse_list(v)?),
            IPVS_SVC_ATTR_PE_NAME => PeName(parse_string(v)?),
            IPVS_SVC_ATTR_STATS64 => Stats64(parse_list(v)?),
            _ => Other(DefaultNla::parse(buf)?),
        })
    }
}

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
            IPVS_DEST_ATTR_STATS => Stats(parse_list(v)?),
            IPVS_DEST_ATTR_ADDR_FAMILY => AddrFamily(parse_u16(v)?),
            IPVS_DEST_ATTR_STATS64 => Stats64(parse_list(v)?),
            IPVS_DEST_ATTR_TUN_TYPE => TunType(parse_u8(v)?),
            IPVS_DEST_ATTR_TUN_PORT => TunPort(parse_u16_be(v)?),
            IPVS_DEST_ATTR_TUN_FLAGS => TunFlags(parse_u16(v)?),
            _ => Other(DefaultNla::parse(buf)?),
        })
    }
}

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

/// One statistics counter (`IPVS_STATS_ATTR_*`) with the width it has on the wire:
/// in `STATS` the byte counters are 64-bit and the rest 32-bit; in `STATS64` all are 64-bit.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatsAttr {
    /// A 32-bit counter: (attribute number 1..=10, value).
    U32(u16, u32),
    /// A 64-bit counter: (attribute number 1..=10, value).
    U64(u16, u64),
    /// Anything else (the PAD attribute included), kept as found.
    Other(DefaultNla),
}

impl Nla for StatsAttr {
    fn value_len(&self) -> usize {
        match self {
            StatsAttr::U32(..) => 4,
            StatsAttr::U64(..) => 8,
            StatsAttr::Other(n) => n.value_len(),
        }
    }

    fn kind(&self) -> u16 {
        match self {
            StatsAttr::U32(k, _) | StatsAttr::U64(k, _) => *k,
            StatsAttr::Other(n) => n.kind(),
        }
    }

    fn emit_value(&self, buffer: &mut [u8]) {
        let _ = match self {
            StatsAttr::U32(_, v) => emit_u32(buffer, *v),
            StatsAttr::U64(_, v) => emit_u64(buffer, *v),
            StatsAttr::Other(n) => {
                n.emit_value(buffer);
                Ok(())
            }
        };
    }
}

impl<'a> Parseable<NlaBuffer<&'a [u8]>> for StatsAttr {
    fn parse(buf: &NlaBuffer<&'a [u8]>) -> Result<Self, DecodeError> {
        let v = buf.value();
        let k = buf.kind();
        if (IPVS_STATS_ATTR_CONNS..=IPVS_STATS_ATTR_OUTBPS).contains(&k) && !buf.nested_flag() {
            match v.len() {
                4 => return Ok(StatsAttr::U32(k, parse_u32(v)?)),
                8 => return Ok(StatsAttr::U64(k, parse_u64(v)?)),
                _ => {}
            }
        }
        Ok(StatsAttr::Other(DefaultNla::parse(buf)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emit<T: Nla>(a: &T) -> Vec<u8> {
        let mut b = vec![0xAAu8; a.buffer_len()];
        a.emit(&mut b);
        b
    }

    fn parse_one<T: for<'a> Parseable<NlaBuffer<&'a [u8]>>>(b: &[u8]) -> T {
        let nla = NlaBuffer::new_checked(b).unwrap();
        T::parse(&nla).unwrap()
    }

    #[test]
    fn service_port_is_network_order() {
        let a = ServiceAttr::Port(80);
        assert_eq!(emit(&a), [6, 0, 4, 0, 0, 80, 0, 0]);
        assert_eq!(parse_one::<ServiceAttr>(&emit(&a)), a);
    }

    #[test]
    fn sched_name_is_nul_terminated_and_padded() {
        let a = ServiceAttr::SchedName("wlc".into());
        assert_eq!(emit(&a), [8, 0, 6, 0, b'w', b'l', b'c', 0]);
        let a = ServiceAttr::SchedName("lblcr".into());
        assert_eq!(emit(&a), [10, 0, 6, 0, b'l', b'b', b'l', b'c', b'r', 0, 0, 0]);
        assert_eq!(parse_one::<ServiceAttr>(&emit(&a)), a);
    }

    #[test]
    fn flags_are_flags_then_mask() {
        let a = ServiceAttr::Flags { flags: 0x1, mask: 0xffff_ffff };
        assert_eq!(emit(&a), [12, 0, 7, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(parse_one::<ServiceAttr>(&emit(&a)), a);
    }

    #[test]
    fn short_address_is_zero_padded_long_is_error() {
        let b = [8, 0, 3, 0, 192, 0, 2, 1];
        assert_eq!(parse_one::<ServiceAttr>(&b), ServiceAttr::Addr([192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
        let mut long = vec![24, 0, 3, 0];
        long.extend([1u8; 20]);
        assert!(ServiceAttr::parse(&NlaBuffer::new_checked(&long[..]).unwrap()).is_err());
    }

    #[test]
    fn dest_attrs_bytes() {
        assert_eq!(emit(&DestAttr::TunType(1)), [5, 0, 13, 0, 1, 0, 0, 0]);
        assert_eq!(emit(&DestAttr::TunPort(6080)), [6, 0, 14, 0, 0x17, 0xc0, 0, 0]);
        assert_eq!(emit(&DestAttr::Weight(7)), [8, 0, 4, 0, 7, 0, 0, 0]);
        assert_eq!(emit(&DestAttr::AddrFamily(10)), [6, 0, 11, 0, 10, 0, 0, 0]);
    }

    #[test]
    fn daemon_attrs_bytes() {
        assert_eq!(emit(&DaemonAttr::McastPort(8848)), [6, 0, 7, 0, 0x90, 0x22, 0, 0]);
        assert_eq!(emit(&DaemonAttr::McastGroup([224, 0, 0, 81])), [8, 0, 5, 0, 224, 0, 0, 81]);
        assert_eq!(emit(&DaemonAttr::McastTtl(3)), [5, 0, 8, 0, 3, 0, 0, 0]);
    }

    #[test]
    fn stats_width_follows_length() {
        let b32 = [8, 0, 1, 0, 5, 0, 0, 0];
        assert_eq!(parse_one::<StatsAttr>(&b32), StatsAttr::U32(1, 5));
        let b64 = [12, 0, 4, 0, 1, 0, 0, 0, 1, 0, 0, 0];
        assert_eq!(parse_one::<StatsAttr>(&b64), StatsAttr::U64(4, 0x1_0000_0001));
        // PAD and odd widths are kept, not misread.
        let pad = [4, 0, 11, 0];
        assert!(matches!(parse_one::<StatsAttr>(&pad), StatsAttr::Other(_)));
        let odd = [6, 0, 2, 0, 1, 2, 0, 0];
        assert!(matches!(parse_one::<StatsAttr>(&odd), StatsAttr::Other(_)));
    }

    #[test]
    fn unknown_attributes_are_kept() {
        let b = [8, 0, 99, 0, 1, 2, 3, 4];
        let a = parse_one::<ServiceAttr>(&b);
        assert_eq!(a, ServiceAttr::Other(DefaultNla::new(99, vec![1, 2, 3, 4])));
        assert_eq!(emit(&a), b);
        let d = parse_one::<DestAttr>(&b);
        assert_eq!(emit(&d), b);
        let m = parse_one::<DaemonAttr>(&b);
        assert_eq!(emit(&m), b);
    }

    #[test]
    fn unknown_attributes_keep_both_flags_through_a_round_trip() {
        // Type 0x3ffd with the nested and the byte-order flags.
        let b = [8, 0, 0xfd, 0xff, 1, 2, 3, 4];
        let d = parse_one::<DestAttr>(&b);
        let mut out = vec![0u8; d.buffer_len()];
        emit_list(std::slice::from_ref(&d), &mut out);
        assert_eq!(out, b);
    }

    #[test]
    fn wrong_sizes_are_errors_not_panics() {
        for kind in 1u16..=15 {
            for len in 0usize..=20 {
                let mut b = vec![0u8; 4 + len];
                b[0..2].copy_from_slice(&((4 + len) as u16).to_ne_bytes());
                b[2..4].copy_from_slice(&kind.to_ne_bytes());
                let nla = NlaBuffer::new_checked(&b[..]).unwrap();
                let _ = ServiceAttr::parse(&nla);
                let _ = DestAttr::parse(&nla);
                let _ = DaemonAttr::parse(&nla);
                let _ = StatsAttr::parse(&nla);
                let _ = IpvsAttr::parse(&nla, false);
                let _ = IpvsAttr::parse(&nla, true);
            }
        }
    }
}
