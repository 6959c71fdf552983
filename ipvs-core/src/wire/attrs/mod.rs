//! Netlink attributes of the IPVS family, one enum per attribute space.
//!
//! Each enum implements [`Nla`] (emit) and [`Parseable<NlaBuffer>`] (parse). Attributes this
//! library does not know are kept as [`DefaultNla`] in an `Other` variant, so nothing is lost
//! on a round trip. Parsing never panics: a value of the wrong size is a [`DecodeError`].

use netlink_packet_core::{
    emit_u32, emit_u64, parse_u32, parse_u64, DecodeError, DefaultNla, Emitable, Nla, NlaBuffer, NlasIterator,
    Parseable,
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

mod daemon;
mod dest;
mod service;

pub use daemon::DaemonAttr;
pub use dest::DestAttr;
pub use service::ServiceAttr;

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

pub(crate) fn list_len<T: Nla>(list: &[T]) -> usize {
    list.iter().map(|n| n.buffer_len()).sum()
}

/// Parses every attribute in `buf` with `T`'s parser.
pub(crate) fn parse_list<T>(buf: &[u8]) -> Result<Vec<T>, DecodeError>
where
    T: for<'a> Parseable<NlaBuffer<&'a [u8]>>,
{
    let mut out = Vec::with_capacity(count_attrs(buf));
    for nla in NlasIterator::new(buf) {
        out.push(T::parse(&nla?)?);
    }
    Ok(out)
}

/// Parses a statistics nest: [`parse_list`] for [`StatsAttr`], with the counters read in
/// place (building each through a `Result` costs several times the parse on large nests).
pub(crate) fn parse_stats(buf: &[u8]) -> Result<Vec<StatsAttr>, DecodeError> {
    let mut out = Vec::with_capacity(count_attrs(buf));
    for nla in NlasIterator::new(buf) {
        let nla = nla?;
        let k = nla.kind();
        if (IPVS_STATS_ATTR_CONNS..=IPVS_STATS_ATTR_OUTBPS).contains(&k) && !nla.nested_flag() {
            match *nla.value() {
                [a, b, c, d] => {
                    out.push(StatsAttr::U32(k, u32::from_ne_bytes([a, b, c, d])));
                    continue;
                }
                [a, b, c, d, e, f, g, h] => {
                    out.push(StatsAttr::U64(k, u64::from_ne_bytes([a, b, c, d, e, f, g, h])));
                    continue;
                }
                _ => {}
            }
        }
        out.push(StatsAttr::Other(DefaultNla::parse(&nla)?));
    }
    Ok(out)
}

/// How many attributes `buf` holds, by their length fields alone (a bad one ends the count;
/// the parser reports it): the capacity a list needs, so parsing allocates once.
pub(crate) fn count_attrs(mut buf: &[u8]) -> usize {
    let mut n = 0;
    while let [a, b, _, _, ..] = *buf {
        let len = usize::from(u16::from_ne_bytes([a, b]));
        if len < 4 {
            break;
        }
        n += 1;
        buf = buf.get((len + 3) & !3..).unwrap_or_default();
    }
    n
}

/// A 16-byte address attribute: IPv4 in the first 4 bytes. Shorter values are zero-padded
/// (as the kernel's `nla_memcpy` does); longer ones are an error.
pub(crate) fn parse_addr(v: &[u8]) -> Result<[u8; 16], DecodeError> {
    if v.len() > 16 {
        return Err(DecodeError::from(format!("address attribute of {} bytes (at most 16)", v.len())));
    }
    let mut a = [0u8; 16];
    a[..v.len()].copy_from_slice(v);
    Ok(a)
}

/// A NUL-terminated name; the kernel rejects names of 16 bytes or more.
pub(crate) fn emit_cstr(buffer: &mut [u8], s: &str) {
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

    proptest::proptest! {
        /// The fast statistics parser reads exactly what the generic one does, errors included.
        #[test]
        fn stats_parse_as_the_generic_parser_does(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let generic = parse_list::<StatsAttr>(&bytes);
            let fast = parse_stats(&bytes);
            proptest::prop_assert_eq!(generic.is_ok(), fast.is_ok());
            if let (Ok(g), Ok(f)) = (generic, fast) {
                proptest::prop_assert_eq!(g, f);
            }
        }
    }

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
