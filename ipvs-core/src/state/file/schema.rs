//! The file schema: what a file holds, field by field, checked as it is read (so every error
//! has a position) and written with defaults left out.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::super::policy::DrainPolicy;
use super::super::table::Table;
use super::object::Object;
use crate::error::InvalidInput;
use crate::model::{
    Destination, Family, Forward, Netmask, PersistenceEngine, Protocol, Scheduler, Service, ServiceFlags, ServiceId,
    Timeouts, Tunnel, TunnelFlags,
};

fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Serialize)]
pub(in crate::state) struct FileTable {
    #[serde(skip_serializing_if = "Option::is_none")]
    timeouts: Option<FileTimeouts>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    services: Vec<FileService>,
}

/// What a file reads into: each service checked (with its destinations) as it is read, and
/// a service named twice refused where it stands, so every error has a position.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileTableIn {
    #[serde(default, deserialize_with = "super::object::optional")]
    timeouts: Option<FileTimeouts>,
    #[serde(default)]
    services: ServiceList,
}

/// A service, its drain policy and its destinations, checked.
#[derive(Deserialize)]
#[serde(try_from = "Object<FileService>")]
struct CheckedService {
    service: Service,
    drain: Option<DrainPolicy>,
    destinations: Vec<Destination>,
}

impl TryFrom<Object<FileService>> for CheckedService {
    type Error = String;
    fn try_from(Object(fs): Object<FileService>) -> Result<CheckedService, String> {
        let service = fs.service().map_err(|e| e.to_string())?;
        let drain = fs.drain().map_err(|e| e.to_string())?;
        let mut destinations: Vec<Destination> = Vec::with_capacity(fs.destinations.len());
        for (j, fd) in fs.destinations.iter().enumerate() {
            let d = fd.destination(&service.id).map_err(|e| format!("destinations[{j}]: {e}"))?;
            if destinations.iter().any(|x| x.socket_addr() == d.socket_addr()) {
                let e = InvalidInput::new("destination", d.socket_addr(), "named twice");
                return Err(format!("destinations[{j}]: {e}"));
            }
            destinations.push(d);
        }
        Ok(CheckedService { service, drain, destinations })
    }
}

#[derive(Default)]
struct ServiceList(Vec<CheckedService>);

impl<'de> Deserialize<'de> for ServiceList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ServiceList, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = ServiceList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of services")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ServiceList, A::Error> {
                let mut out: Vec<CheckedService> = Vec::new();
                let mut seen = std::collections::HashMap::new();
                while let Some(s) = seq.next_element::<CheckedService>()? {
                    if let Some(first) = seen.insert(s.service.id, out.len()) {
                        let why = format!("named twice: services[{first}] and services[{}]", out.len());
                        return Err(A::Error::custom(InvalidInput::new("service", s.service.id, why)));
                    }
                    out.push(s);
                }
                Ok(ServiceList(out))
            }
        }
        d.deserialize_seq(Visit)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTimeouts {
    #[serde(deserialize_with = "timeout")]
    tcp: u32,
    #[serde(deserialize_with = "timeout")]
    tcp_fin: u32,
    #[serde(deserialize_with = "timeout")]
    udp: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileService {
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::names::opt_file_name")]
    protocol: Option<Protocol>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<IpAddr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "fwmark")]
    fwmark: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::names::opt_file_name")]
    family: Option<Family>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::names::opt_file_name")]
    scheduler: Option<Scheduler>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "persistence")]
    persistence: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    netmask: Option<FileNetmask>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "super::names::opt_named")]
    persistence_engine: Option<PersistenceEngine>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    drain: Option<FileDrain>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_drain: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::object::list")]
    destinations: Vec<FileDestination>,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FileNetmask {
    Prefix(u8),
    Mask(String),
}

#[derive(Serialize, Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum FileDrain {
    Drain,
    Delete,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDestination {
    address: IpAddr,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forward")]
    forward: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "weight")]
    weight: Option<u32>,
    #[serde(default, skip_serializing_if = "is_default")]
    upper_threshold: u32,
    #[serde(default, skip_serializing_if = "is_default")]
    lower_threshold: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tunnel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tunnel_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tunnel_checksum: Option<String>,
}

// Field checks, so an error carries the position of its value.

fn checked<'de, D: Deserializer<'de>, T>(d: D, check: impl Fn(u64) -> Result<T, InvalidInput>) -> Result<T, D::Error> {
    let v = u64::deserialize(d)?;
    check(v).map_err(D::Error::custom)
}

fn range(field: &'static str, v: u64, min: u64, max: u64) -> Result<u32, InvalidInput> {
    if (min..=max).contains(&v) {
        Ok(v as u32)
    } else {
        Err(InvalidInput::new(field, v, format!("must be in {min}..={max}")))
    }
}

fn timeout<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    checked(d, |v| range("timeout", v, 1, u64::from(Timeouts::MAX)))
}

fn fwmark<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    checked(d, |v| range("fwmark", v, 1, u64::from(u32::MAX))).map(Some)
}

fn persistence<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    checked(d, |v| range("persistence", v, 1, u64::from(Service::MAX_PERSISTENCE))).map(Some)
}

fn weight<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let v = i64::deserialize(d)?;
    u64::try_from(v)
        .map_err(|_| InvalidInput::new("weight", v, format!("must be in 0..={}", Destination::MAX_WEIGHT)))
        .and_then(|v| range("weight", v, 0, u64::from(Destination::MAX_WEIGHT)))
        .map(Some)
        .map_err(D::Error::custom)
}

fn forward<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let s = String::deserialize(d)?;
    s.parse::<Forward>().map_err(D::Error::custom)?;
    Ok(Some(s))
}

// ----- conversions ------------------------------------------------------------------------

impl FileService {
    fn id(&self) -> Result<ServiceId, InvalidInput> {
        match (self.fwmark, self.protocol, self.address) {
            (Some(mark), None, None) => Ok(ServiceId::fwmark(mark, self.family.unwrap_or(Family::Inet))),
            (Some(mark), _, _) => {
                Err(InvalidInput::new("fwmark", mark, "a firewall-mark service has no protocol or address"))
            }
            (None, Some(protocol), Some(addr)) => {
                if let Some(f) = self.family.filter(|f| *f != Family::of(&addr)) {
                    return Err(InvalidInput::new("family", f.name(), format!("does not match address {addr}")));
                }
                Ok(ServiceId::Inet { protocol, addr, port: self.port.unwrap_or(0) })
            }
            _ => Err(InvalidInput::new("service", "", "needs protocol and address (and port), or fwmark")),
        }
    }

    fn service(&self) -> Result<Service, InvalidInput> {
        let id = self.id()?;
        if self.fwmark.is_some() && self.port.is_some() {
            return Err(InvalidInput::new("port", self.port.unwrap_or(0), "a firewall-mark service has no port"));
        }
        let mut s = Service::new(id, self.scheduler.clone().unwrap_or_default());
        if let Some(t) = self.persistence {
            s = s.with_persistence(t);
        }
        if let Some(m) = &self.netmask {
            let mask = match m {
                FileNetmask::Prefix(p) => Netmask::Prefix(*p),
                FileNetmask::Mask(text) => {
                    text.parse().map_err(|_| InvalidInput::new("netmask", text, "not a netmask"))?
                }
            };
            s = s.with_netmask(mask);
        }
        if let Some(pe) = &self.persistence_engine {
            s = s.with_persistence_engine(pe.clone());
        }
        for name in &self.flags {
            // Persistence has its own field; the other non-scheduler flag is one-packet.
            let flag = match ServiceFlags::from_other_flag_name(name) {
                Some(f) if f != ServiceFlags::PERSISTENT => f,
                _ => ServiceFlags::parse_scheduler_flag(name, &s.scheduler)?,
            };
            s = s.with_flags(flag);
        }
        s.validate()?;
        Ok(s)
    }

    fn drain(&self) -> Result<Option<DrainPolicy>, InvalidInput> {
        let max = self.max_drain.map(|m| (m > 0).then(|| Duration::from_secs(m)));
        match (self.drain, max) {
            (Some(FileDrain::Delete), Some(_)) => Err(InvalidInput::new(
                "max_drain",
                self.max_drain.unwrap_or(0),
                "a service that deletes at once does not drain",
            )),
            (Some(FileDrain::Delete), None) => Ok(Some(DrainPolicy::Delete)),
            (Some(FileDrain::Drain), max) => Ok(Some(DrainPolicy::Drain { max: max.flatten() })),
            (None, Some(max)) => Ok(Some(DrainPolicy::Drain { max })),
            (None, None) => Ok(None),
        }
    }
}

impl FileDestination {
    fn destination(&self, service: &ServiceId) -> Result<Destination, InvalidInput> {
        let svc_port = match service {
            ServiceId::Inet { port, .. } => *port,
            ServiceId::Fwmark { .. } => 0,
        };
        let forward = match self.forward.as_deref() {
            None => Forward::default(),
            Some(name) => name.parse::<Forward>()?,
        };
        let tunnel_given = self.tunnel.is_some() || self.tunnel_port.is_some() || self.tunnel_checksum.is_some();
        let forward = match forward {
            Forward::Tunnel(_) => {
                let kind = self.tunnel.as_deref().unwrap_or("ipip");
                let flags = match self.tunnel_checksum.as_deref() {
                    None => TunnelFlags::empty(),
                    Some(c) => TunnelFlags::from_checksum_name(c)
                        .ok_or_else(|| InvalidInput::new("tunnel_checksum", c, "expected nocsum, csum or remcsum"))?,
                };
                Forward::Tunnel(Tunnel::from_name(kind, self.tunnel_port.unwrap_or(0), flags)?)
            }
            other if tunnel_given => {
                return Err(InvalidInput::new("tunnel", other.name(), "tunnel settings need forward = \"tunnel\""))
            }
            other => other,
        };
        let mut d = Destination::new(SocketAddr::new(self.address, self.port.unwrap_or(svc_port)), forward);
        d.weight = self.weight.unwrap_or(Destination::DEFAULT_WEIGHT);
        d.upper_threshold = self.upper_threshold;
        d.lower_threshold = self.lower_threshold;
        d.validate_for(service)?;
        Ok(d)
    }
}

impl FileTableIn {
    pub(super) fn into_table(self) -> Result<Table, String> {
        let mut t = Table::new();
        if let Some(ft) = self.timeouts {
            t.set_timeouts(Some(Timeouts { tcp: ft.tcp, tcp_fin: ft.tcp_fin, udp: ft.udp }));
        }
        for (i, cs) in self.services.0.into_iter().enumerate() {
            let at = |e: InvalidInput| format!("services[{i}]: {e}");
            let id = cs.service.id;
            t.add_service(cs.service).map_err(at)?.set_drain(cs.drain);
            for d in cs.destinations {
                t.add_destination(&id, d).map_err(at)?;
            }
        }
        Ok(t)
    }
}

impl FileService {
    /// A service as the file writes it: defaults left out, no destinations or drain.
    fn of(s: &Service) -> FileService {
        let (protocol, address, port, fwmark, family) = match s.id {
            ServiceId::Inet { protocol, addr, port } => (Some(protocol), Some(addr), Some(port), None, None),
            ServiceId::Fwmark { mark, family } => {
                (None, None, None, Some(mark), (family != Family::Inet).then_some(family))
            }
        };
        let mut flags: Vec<String> =
            s.flags.difference(ServiceFlags::PERSISTENT).other_flag_names().into_iter().map(String::from).collect();
        flags.extend(s.flags.scheduler_flag_names(&s.scheduler));
        let netmask = (s.netmask != Netmask::full(s.id.family())).then(|| match s.netmask {
            Netmask::V4(m) => FileNetmask::Mask(m.to_string()),
            Netmask::Prefix(p) => FileNetmask::Prefix(p),
        });
        FileService {
            protocol,
            address,
            port,
            fwmark,
            family,
            scheduler: (s.scheduler != Scheduler::default()).then(|| s.scheduler.clone()),
            persistence: s.persistence_timeout(),
            netmask,
            persistence_engine: s.persistence_engine.clone(),
            flags,
            drain: None,
            max_drain: None,
            destinations: Vec::new(),
        }
    }
}

impl FileDestination {
    /// A destination as the file writes it; its port left out when it is `service_port`.
    fn of(d: &Destination, service_port: Option<u16>) -> FileDestination {
        let tunnel = d.forward.tunnel();
        FileDestination {
            address: d.addr,
            port: (Some(d.port) != service_port).then_some(d.port),
            forward: (d.forward != Forward::default()).then(|| d.forward.name()),
            weight: (d.weight != Destination::DEFAULT_WEIGHT).then_some(d.weight),
            upper_threshold: d.upper_threshold,
            lower_threshold: d.lower_threshold,
            tunnel: tunnel.filter(|t| *t != Tunnel::Ipip).map(|t| t.kind_name().to_owned()),
            tunnel_port: match tunnel {
                Some(Tunnel::Gue { port, .. }) => Some(port),
                _ => None,
            },
            tunnel_checksum: match tunnel {
                Some(Tunnel::Gue { flags, .. } | Tunnel::Gre { flags }) if !flags.is_empty() => {
                    Some(flags.checksum_name().to_owned())
                }
                _ => None,
            },
        }
    }
}

impl From<&Table> for FileTable {
    fn from(t: &Table) -> FileTable {
        let timeouts = t.timeouts().map(|x| FileTimeouts { tcp: x.tcp, tcp_fin: x.tcp_fin, udp: x.udp });
        let services = t
            .entries()
            .map(|e| {
                let s = e.service();
                let svc_port = match s.id {
                    ServiceId::Inet { port, .. } => port,
                    ServiceId::Fwmark { .. } => 0,
                };
                let (drain, max_drain) = match e.drain() {
                    None => (None, None),
                    Some(DrainPolicy::Delete) => (Some(FileDrain::Delete), None),
                    Some(DrainPolicy::Drain { max }) => (Some(FileDrain::Drain), Some(max.map_or(0, |m| m.as_secs()))),
                };
                FileService {
                    drain,
                    max_drain,
                    destinations: e
                        .destinations()
                        .map(|ds| FileDestination::of(&ds.destination, Some(svc_port)))
                        .collect(),
                    ..FileService::of(s)
                }
            })
            .collect();
        FileTable { timeouts, services }
    }
}

// ----- the parts on their own, in the same schema -------------------------------------------

impl Serialize for Service {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FileService::of(self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Service {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Service, D::Error> {
        let Object(f) = Object::<FileService>::deserialize(d)?;
        if !f.destinations.is_empty() || f.drain.is_some() || f.max_drain.is_some() {
            return Err(D::Error::custom(
                "a service on its own has no destinations or drain (those belong to a table)",
            ));
        }
        f.service().map_err(D::Error::custom)
    }
}

impl Serialize for Destination {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FileDestination::of(self, None).serialize(s)
    }
}

impl<'de> Deserialize<'de> for Destination {
    /// A destination on its own names its port (in a table it defaults to the service's).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Destination, D::Error> {
        let Object(f) = Object::<FileDestination>::deserialize(d)?;
        let port = f.port.ok_or_else(|| D::Error::custom("port: a destination on its own needs its port"))?;
        // Checked as part of a service on that port; then on its own.
        let any = ServiceId::tcp(f.address, port);
        let dest = f.destination(&any).map_err(D::Error::custom)?;
        dest.validate().map_err(D::Error::custom)?;
        Ok(dest)
    }
}

impl Serialize for Timeouts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        FileTimeouts { tcp: self.tcp, tcp_fin: self.tcp_fin, udp: self.udp }.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Timeouts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Timeouts, D::Error> {
        let Object(f) = Object::<FileTimeouts>::deserialize(d)?;
        Ok(Timeouts { tcp: f.tcp, tcp_fin: f.tcp_fin, udp: f.udp })
    }
}
