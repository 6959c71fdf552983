//! The native file as written: every field checked for its type and spelling as it is read
//! (so those errors have a position); combinations are checked when converted.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use ipvs::{Family, Forward, Netmask, PersistenceEngine, Protocol, Scheduler};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::serde_util::{is_false, is_zero, named, opt_named, opt_secs};
use crate::config::{
    DnsType, Global, HttpProtocol, Md5Digest, Script, StatusCodes, VrrpInstance, VrrpScript, VrrpSyncGroup,
};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default, skip_serializing_if = "Global::is_default")]
    pub global: Global,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_server_groups: Vec<RawGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub virtual_servers: Vec<RawVirtualServer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vrrp_scripts: Vec<VrrpScript>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vrrp_sync_groups: Vec<VrrpSyncGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vrrp_instances: Vec<VrrpInstance>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroup {
    pub name: String,
    #[serde(default)]
    pub entries: Vec<RawGroupEntry>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawGroupEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_family")]
    pub family: Option<Family>,
}

/// The forwarding fields of real, sorry and virtual servers, as in the desired-state file.
#[derive(Debug, Default, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawTunnel {
    #[default]
    Ipip,
    Gue,
    Gre,
}

#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawChecksum {
    Nocsum,
    Csum,
    Remcsum,
}

#[derive(Debug, Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawOnFailure {
    Remove,
    Inhibit,
    Drain,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVirtualServer {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_protocol")]
    pub protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_family")]
    pub family: Option<Family>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_scheduler")]
    pub scheduler: Option<Scheduler>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_forward")]
    pub forward: Option<Forward>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<RawTunnel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_checksum: Option<RawChecksum>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub persistence: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_netmask")]
    pub netmask: Option<Netmask>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_named")]
    pub persistence_engine: Option<PersistenceEngine>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub delay_loop: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub connect_timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub delay_before_retry: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub warmup: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<RawOnFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub max_drain: Option<Duration>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub alpha: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    pub omega: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hysteresis: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_up: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quorum_down: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub ha_suspend: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorry_server: Option<RawSorryServer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub real_servers: Vec<RawRealServer>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSorryServer {
    pub address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_forward")]
    pub forward: Option<Forward>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<RawTunnel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_checksum: Option<RawChecksum>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub inhibit: bool,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRealServer {
    pub address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_forward")]
    pub forward: Option<Forward>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<RawTunnel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_checksum: Option<RawChecksum>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub upper_threshold: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub lower_threshold: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<RawOnFailure>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub max_drain: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub delay_loop: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub connect_timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub delay_before_retry: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub warmup: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_up: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_down: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tcp_check: Vec<RawCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http_get: Vec<RawCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ssl_get: Vec<RawCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns_check: Vec<RawCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub misc_check: Vec<RawCheck>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub smtp_check: Vec<RawCheck>,
}

/// Every field any check kind has; conversion refuses those its kind does not have.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ip: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bindto: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bind_if: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub delay_loop: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub connect_timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub delay_before_retry: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub warmup: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alpha: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_all_failures: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub url: Vec<RawUrl>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_named")]
    pub http_protocol: Option<HttpProtocolName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_sni: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fast_recovery: Option<bool>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none", with = "opt_named")]
    pub query_type: Option<DnsTypeName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misc_path: Option<Script>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub misc_timeout: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub misc_dynamic: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helo_name: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawUrl {
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_named")]
    pub digest: Option<Md5Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_status")]
    pub status_code: Option<StatusCodes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub virtualhost: Option<String>,
}

/// Names with a `Display` for the writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HttpProtocolName(pub HttpProtocol);

impl fmt::Display for HttpProtocolName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl std::str::FromStr for HttpProtocolName {
    type Err = crate::config::ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(HttpProtocolName)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct DnsTypeName(pub DnsType);

impl fmt::Display for DnsTypeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.name())
    }
}

impl std::str::FromStr for DnsTypeName {
    type Err = crate::config::ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(DnsTypeName)
    }
}

/// The family by its file name (`inet`, `inet6`).
pub(crate) mod opt_family {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<Family>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => s.serialize_str(f.name()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Family>, D::Error> {
        named::deserialize(d).map(Some)
    }
}

/// `tcp`, `udp`, `sctp` (any case when read).
mod opt_protocol {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<Protocol>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(p) => s.serialize_str(&p.name()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Protocol>, D::Error> {
        opt_named::deserialize(d)
    }
}

/// Only the kernel's own schedulers: a misspelt name is an error here, not at run time.
mod opt_scheduler {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<Scheduler>, s: S) -> Result<S::Ok, S::Error> {
        opt_named::serialize(v, s)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Scheduler>, D::Error> {
        let s = String::deserialize(d)?;
        crate::config::parse_scheduler(&s).map(Some).map_err(de::Error::custom)
    }
}

/// `nat`, `dr` or `tunnel` (the library's names; local and bypass are not for a director).
mod opt_forward {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<Forward>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(f) => s.serialize_str(&f.name()),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Forward>, D::Error> {
        let s = String::deserialize(d)?;
        match s.parse::<Forward>() {
            Ok(f @ (Forward::Masquerade | Forward::DirectRoute | Forward::Tunnel(_))) if s == f.name() => Ok(Some(f)),
            _ => Err(de::Error::custom(format!("unknown forwarding method {s:?} (expected nat, dr or tunnel)"))),
        }
    }
}

/// A dotted IPv4 netmask (a string) or an IPv6 prefix length (an integer).
mod opt_netmask {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<Netmask>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(Netmask::V4(m)) => s.collect_str(m),
            Some(Netmask::Prefix(p)) => s.serialize_u8(*p),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Netmask>, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Netmask;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a dotted IPv4 netmask or an IPv6 prefix length")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Netmask, E> {
                u8::try_from(v)
                    .ok()
                    .filter(|p| (1..=128).contains(p))
                    .map(Netmask::Prefix)
                    .ok_or_else(|| E::custom(format!("prefix length {v} is not within 1..=128")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Netmask, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(-1))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Netmask, E> {
                v.parse::<std::net::Ipv4Addr>()
                    .map(Netmask::V4)
                    .map_err(|_| E::custom(format!("{v:?} is not a dotted IPv4 netmask")))
            }
        }
        d.deserialize_any(V).map(Some)
    }
}

/// Status codes as an array of codes (integers) and ranges (`"300-399"`), or one string
/// of them (`"200 300-399"`).
mod opt_status {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<StatusCodes>, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let Some(codes) = v else { return s.serialize_none() };
        let mut seq = s.serialize_seq(Some(codes.ranges().len()))?;
        for &(lo, hi) in codes.ranges() {
            if lo == hi {
                seq.serialize_element(&lo)?;
            } else {
                seq.serialize_element(&format!("{lo}-{hi}"))?;
            }
        }
        seq.end()
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StatusCodes>, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StatusCodes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("status codes: an array of codes and \"low-high\" ranges")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<StatusCodes, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<StatusCodes, A::Error> {
                let mut ranges = Vec::new();
                while let Some(item) = seq.next_element::<CodeOrRange>()? {
                    ranges.push(item.0);
                }
                StatusCodes::new(ranges).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V).map(Some)
    }

    struct CodeOrRange((u16, u16));

    impl<'de> Deserialize<'de> for CodeOrRange {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl Visitor<'_> for V {
                type Value = CodeOrRange;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("a status code or a \"low-high\" range")
                }
                fn visit_i64<E: de::Error>(self, v: i64) -> Result<CodeOrRange, E> {
                    let c = u16::try_from(v).map_err(|_| E::custom(format!("invalid status code {v}")))?;
                    Ok(CodeOrRange((c, c)))
                }
                fn visit_u64<E: de::Error>(self, v: u64) -> Result<CodeOrRange, E> {
                    self.visit_i64(i64::try_from(v).unwrap_or(-1))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<CodeOrRange, E> {
                    StatusCodes::parse_range(v).map(CodeOrRange).map_err(E::custom)
                }
            }
            d.deserialize_any(V)
        }
    }
}
