//! Settings for the whole director (`[global]`, keepalived's `global_defs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::serde_util::is_false;

/// Settings for the whole director.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Global {
    /// IPVS connection timeouts (`lvs_timeouts`); 0 or left out: the kernel's are kept.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_timeouts")]
    pub timeouts: Option<ipvs::Timeouts>,
    /// The user that runs scripts that name none (`script_user`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_user: Option<String>,
    /// The group of `script_user`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub script_group: Option<String>,
    /// Refuse scripts that a user other than root could change (`enable_script_security`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub enable_script_security: bool,
    /// Log every failed check attempt (`checker_log_all_failures`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub log_all_failures: bool,
    /// The default VRRP version of instances, 2 or 3 (`vrrp_version`; default 2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrrp_version: Option<u8>,
    /// The multicast group of IPv4 VRRP adverts (`vrrp_mcast_group4`; default 224.0.0.18).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrrp_mcast_group4: Option<Ipv4Addr>,
    /// The multicast group of IPv6 VRRP adverts (`vrrp_mcast_group6`; default ff02::12).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vrrp_mcast_group6: Option<Ipv6Addr>,
    /// The IPVS connection-sync daemon, following a VRRP instance (`lvs_sync_daemon`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_daemon: Option<SyncDaemon>,
}

impl Global {
    /// Whether every setting is left at its default.
    pub fn is_default(&self) -> bool {
        *self == Global::default()
    }

    /// The multicast group of VRRP adverts for the family (`ipv6`), if not the default.
    ///
    /// ```
    /// use ipvs_director::config::Config;
    ///
    /// let c = Config::from_toml("[global]\nvrrp_mcast_group4 = \"224.0.0.19\"\n").unwrap();
    /// assert_eq!(c.global.vrrp_mcast_group(false), Some("224.0.0.19".parse().unwrap()));
    /// assert_eq!(c.global.vrrp_mcast_group(true), None); // ff02::12, the default
    /// ```
    pub fn vrrp_mcast_group(&self, ipv6: bool) -> Option<IpAddr> {
        if ipv6 {
            self.vrrp_mcast_group6.map(IpAddr::V6)
        } else {
            self.vrrp_mcast_group4.map(IpAddr::V4)
        }
    }
}

/// The IPVS connection-sync daemon: master while the VRRP instance is master, backup
/// otherwise; with no instance, both the master and the backup daemon while the director
/// runs (keepalived 2.2.7's behaviour for `lvs_sync_daemon IFNAME` naming none).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncDaemon {
    /// The multicast interface.
    pub interface: String,
    /// The VRRP instance it follows; none: master and backup at once, always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// Sync id, 0..=255 (`id`; default the instance's virtual_router_id, or 0 with no
    /// instance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_id: Option<u8>,
    /// Largest sync message payload (`maxlen`, 1..=65507).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_len: Option<u16>,
    /// UDP port (`port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Multicast TTL (`ttl`, 1..=255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<u8>,
    /// Multicast group (`group`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<IpAddr>,
}

impl SyncDaemon {
    /// The daemon to run in `state`, for an instance with virtual router id `vrid` (0 for
    /// none).
    pub fn daemon(&self, state: ipvs::DaemonState, vrid: u8) -> ipvs::Daemon {
        ipvs::Daemon {
            state,
            interface: self.interface.clone(),
            sync_id: self.sync_id.unwrap_or(vrid),
            max_len: self.max_len,
            group: self.group,
            port: self.port,
            ttl: self.ttl,
        }
    }
}

mod opt_timeouts {
    use super::*;

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct FileTimeouts {
        #[serde(default, skip_serializing_if = "super::super::serde_util::is_zero")]
        tcp: u32,
        #[serde(default, skip_serializing_if = "super::super::serde_util::is_zero")]
        tcp_fin: u32,
        #[serde(default, skip_serializing_if = "super::super::serde_util::is_zero")]
        udp: u32,
    }

    pub fn serialize<S: Serializer>(t: &Option<ipvs::Timeouts>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => FileTimeouts { tcp: t.tcp, tcp_fin: t.tcp_fin, udp: t.udp }.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ipvs::Timeouts>, D::Error> {
        let f = FileTimeouts::deserialize(d)?;
        Ok(Some(ipvs::Timeouts { tcp: f.tcp, tcp_fin: f.tcp_fin, udp: f.udp }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_round_trips_and_sync_daemon_defaults_to_the_vrid() {
        let g: Global = toml::from_str(
            "timeouts = { tcp = 900, udp = 60 }\nscript_user = \"nobody\"\n\n[sync_daemon]\ninterface = \"eth1\"\ninstance = \"VI_1\"\n",
        )
        .unwrap();
        assert_eq!(g.timeouts, Some(ipvs::Timeouts { tcp: 900, tcp_fin: 0, udp: 60 }));
        assert_eq!(toml::from_str::<Global>(&toml::to_string(&g).unwrap()).unwrap(), g);
        let d = g.sync_daemon.as_ref().unwrap().daemon(ipvs::DaemonState::Master, 51);
        assert_eq!((d.sync_id, d.interface.as_str()), (51, "eth1"));
        assert!(Global::default().is_default());
    }
}
