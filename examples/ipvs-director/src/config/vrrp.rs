//! VRRP configuration: instances, sync groups and tracking scripts (`vrrp_instance`,
//! `vrrp_sync_group`, `vrrp_script`).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::serde_util::{is_false, named, opt_secs, secs};
use super::{defaults, Script, ValueError};

/// The state an instance starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum VrrpState {
    /// Starts as master (`state MASTER`).
    Master,
    /// Starts as backup (`state BACKUP`).
    Backup,
}

/// A VRRP instance: one virtual router on one interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpInstance {
    /// The instance's name.
    pub name: String,
    /// The initial state (`state`); left out, MASTER when the priority is 255.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<VrrpState>,
    /// The interface adverts go out of (`interface`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interface: Option<String>,
    /// The virtual router id, 1..=255 (`virtual_router_id`).
    pub virtual_router_id: u8,
    /// Priority, 1..=255, 255 for the address owner (`priority`); left out, 255 for state
    /// MASTER, else 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<u8>,
    /// Advert interval (`advert_int`; default 1 s): whole seconds up to 255 for VRRPv2,
    /// hundredths up to 40.95 s for VRRPv3.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub advert_int: Option<Duration>,
    /// A higher priority does not take over from a running master (`nopreempt`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nopreempt: bool,
    /// Wait this long before preempting after start (`preempt_delay`, at most 1000 s).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub preempt_delay: Option<Duration>,
    /// Source address of unicast adverts (`unicast_src_ip`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unicast_src_ip: Option<IpAddr>,
    /// Unicast peers; none means multicast (`unicast_peer`).
    #[serde(default, rename = "unicast_peer", skip_serializing_if = "Vec::is_empty")]
    pub unicast_peers: Vec<IpAddr>,
    /// The virtual addresses (`virtual_ipaddress`; at least one).
    #[serde(default, rename = "virtual_ipaddress")]
    pub virtual_ipaddresses: Vec<VirtualIp>,
    /// Interfaces whose state changes the priority or faults the instance
    /// (`track_interface`).
    #[serde(default, rename = "track_interface", skip_serializing_if = "Vec::is_empty")]
    pub track_interfaces: Vec<TrackInterface>,
    /// Scripts whose result changes the priority or faults the instance (`track_script`).
    #[serde(default, rename = "track_script", skip_serializing_if = "Vec::is_empty")]
    pub track_scripts: Vec<TrackScript>,
    /// Run on becoming master (`notify_master`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_master: Option<Script>,
    /// Run on becoming backup (`notify_backup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_backup: Option<Script>,
    /// Run on a fault (`notify_fault`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_fault: Option<Script>,
    /// Simple password authentication, VRRPv2 only, at most 8 bytes
    /// (`authentication { auth_type PASS; auth_pass ... }`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_pass: Option<String>,
    /// VRRP version 2 or 3 (`version`; else `global.vrrp_version`, else 2; 3 for IPv6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
}

impl VrrpInstance {
    /// The priority, default applied.
    pub fn effective_priority(&self) -> u8 {
        match (self.priority, self.state) {
            (Some(p), _) => p,
            (None, Some(VrrpState::Master)) => defaults::VRRP_OWNER_PRIORITY,
            (None, _) => defaults::VRRP_PRIORITY,
        }
    }

    /// The initial state, default applied.
    pub fn effective_state(&self) -> VrrpState {
        match self.state {
            Some(s) => s,
            None if self.effective_priority() == defaults::VRRP_OWNER_PRIORITY => VrrpState::Master,
            None => VrrpState::Backup,
        }
    }

    /// Whether the instance is IPv6 (by its first virtual address).
    pub fn is_ipv6(&self) -> bool {
        self.virtual_ipaddresses.first().is_some_and(|v| v.address.addr.is_ipv6())
    }

    /// The version, defaults applied (`global` is `global.vrrp_version`).
    pub fn effective_version(&self, global: Option<u8>) -> u8 {
        match self.version {
            Some(v) => v,
            None if self.is_ipv6() => 3,
            None => global.unwrap_or(defaults::VRRP_VERSION),
        }
    }

    /// The advert interval, default applied.
    pub fn effective_advert_int(&self) -> Duration {
        self.advert_int.unwrap_or(defaults::VRRP_ADVERT_INT)
    }
}

/// An address with a prefix length, written `192.0.2.10/24` (the length may be left out:
/// a host address).
///
/// ```
/// use ipvs_director::config::IpPrefix;
/// let p: IpPrefix = "192.0.2.10/24".parse().unwrap();
/// assert_eq!((p.len, p.to_string().as_str()), (24, "192.0.2.10/24"));
/// assert_eq!("2001:db8::1".parse::<IpPrefix>().unwrap().len, 128);
/// assert!("192.0.2.10/33".parse::<IpPrefix>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpPrefix {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length.
    pub len: u8,
}

impl FromStr for IpPrefix {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let (a, l) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = a.parse().map_err(|_| ValueError::Address(a.to_owned()))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let len = match l {
            None => max,
            Some(l) => {
                l.parse::<u8>().ok().filter(|n| *n <= max).ok_or_else(|| ValueError::PrefixLength(l.to_owned()))?
            }
        };
        Ok(IpPrefix { addr, len })
    }
}

impl fmt::Display for IpPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// A virtual address of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VirtualIp {
    /// The address and prefix length.
    #[serde(with = "named")]
    pub address: IpPrefix,
    /// The interface it goes on (`dev`; default the instance's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// Its label (`label`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A tracked interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackInterface {
    /// The interface.
    pub name: String,
    /// Added to the priority while up (−253..=253); 0 (the default): down faults the
    /// instance.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub weight: i32,
    /// The weight applies while down instead (`reverse`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
}

fn is_zero_i32(v: &i32) -> bool {
    *v == 0
}

/// A tracked script of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackScript {
    /// The name of a [`VrrpScript`].
    pub script: String,
    /// Overrides the script's weight (−253..=253).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
    /// With `weight`: it applies while the script fails instead.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
}

/// Instances that change state together (`vrrp_sync_group`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpSyncGroup {
    /// The group's name.
    pub name: String,
    /// Its instances' names (`group`).
    pub group: Vec<String>,
    /// Run when the group becomes master.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_master: Option<Script>,
    /// Run when the group becomes backup.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_backup: Option<Script>,
    /// Run when the group faults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify_fault: Option<Script>,
}

/// A script run periodically whose result instances track (`vrrp_script`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VrrpScript {
    /// The script's name (what `track_script` names).
    pub name: String,
    /// The command (`script`), with its user (`user`).
    pub script: Script,
    /// Time between runs (`interval`; default 1 s).
    #[serde(default = "script_interval", with = "secs")]
    pub interval: Duration,
    /// How long a run may take (`timeout`; default the interval).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_secs")]
    pub timeout: Option<Duration>,
    /// Added to the priority while it succeeds (−253..=253); 0 (the default): failure
    /// faults the instance.
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    pub weight: i32,
    /// The weight applies while it fails instead (`weight N reverse`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub reverse: bool,
    /// Successes in a row that make it good (`rise`; default 1).
    #[serde(default = "rise_fall", skip_serializing_if = "is_one")]
    pub rise: u32,
    /// Failures in a row that make it bad (`fall`; default 1).
    #[serde(default = "rise_fall", skip_serializing_if = "is_one")]
    pub fall: u32,
    /// Start as failed (`init_fail`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub init_fail: bool,
}

fn script_interval() -> Duration {
    defaults::VRRP_SCRIPT_INTERVAL
}

fn rise_fall() -> u32 {
    defaults::VRRP_SCRIPT_RISE_FALL
}

fn is_one(v: &u32) -> bool {
    *v == 1
}

impl VrrpScript {
    /// A script with keepalived's defaults.
    pub fn new(name: impl Into<String>, script: Script) -> VrrpScript {
        VrrpScript {
            name: name.into(),
            script,
            interval: defaults::VRRP_SCRIPT_INTERVAL,
            timeout: None,
            weight: 0,
            reverse: false,
            rise: defaults::VRRP_SCRIPT_RISE_FALL,
            fall: defaults::VRRP_SCRIPT_RISE_FALL,
            init_fail: false,
        }
    }

    /// The timeout, default applied.
    pub fn effective_timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.interval)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_defaults() {
        let mut i: VrrpInstance = toml::from_str(
            "name = \"VI_1\"\nvirtual_router_id = 51\nvirtual_ipaddress = [{ address = \"192.0.2.100/24\" }]\n",
        )
        .unwrap();
        assert_eq!(i.effective_priority(), 100);
        assert_eq!(i.effective_state(), VrrpState::Backup);
        assert_eq!(i.effective_version(None), 2);
        assert_eq!(i.effective_version(Some(3)), 3);
        assert_eq!(i.effective_advert_int(), Duration::from_secs(1));
        i.state = Some(VrrpState::Master);
        assert_eq!(i.effective_priority(), 255);
        i.state = None;
        i.priority = Some(255);
        assert_eq!(i.effective_state(), VrrpState::Master);
        i.virtual_ipaddresses[0].address = "2001:db8::1/64".parse().unwrap();
        assert_eq!(i.effective_version(Some(2)), 3);
        let back: VrrpInstance = toml::from_str(&toml::to_string(&i).unwrap()).unwrap();
        assert_eq!(back, i);
    }

    #[test]
    fn script_defaults() {
        let s: VrrpScript = toml::from_str("name = \"chk\"\nscript = \"/bin/true\"\n").unwrap();
        assert_eq!(s, VrrpScript::new("chk", Script::new(["/bin/true"])));
        assert_eq!(s.effective_timeout(), Duration::from_secs(1));
        assert!(toml::from_str::<VrrpScript>("name = \"c\"\nscript = \"x\"\nrisee = 2\n").is_err());
    }
}
