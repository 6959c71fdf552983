//! Between the file as written ([`RawConfig`]) and the configuration's types: combinations
//! of fields are checked here, each error naming the field's path.

use ipvs::{Forward, ServiceFlags, Tunnel, TunnelFlags};

use super::raw::*;
use crate::config::{
    Check, CheckKind, Config, ConnectOptions, DnsCheck, GroupEntry, HttpCheck, MiscCheck, OnFailure, RealServer,
    SmtpCheck, SorryServer, Timing, Url, ValidationError, VirtualServer, VirtualServerGroup, VirtualServerId,
};

type Errors = Vec<ValidationError>;

fn err(errors: &mut Errors, path: impl Into<String>, value: impl std::fmt::Display, reason: impl Into<String>) {
    errors.push(ValidationError::new(path, value, reason));
}

impl RawConfig {
    /// The configuration, or every combination of fields that does not hold together.
    pub(super) fn into_config(self) -> Result<Config, Errors> {
        let mut errors = Vec::new();
        let mut config = Config {
            global: self.global,
            vrrp_scripts: self.vrrp_scripts,
            vrrp_sync_groups: self.vrrp_sync_groups,
            vrrp_instances: self.vrrp_instances,
            ..Config::default()
        };
        for (i, g) in self.virtual_server_groups.into_iter().enumerate() {
            let path = format!("virtual_server_groups[{i}]");
            let mut entries = Vec::new();
            for (j, e) in g.entries.into_iter().enumerate() {
                if let Some(e) = group_entry(e, &format!("{path}.entries[{j}]"), &mut errors) {
                    entries.push(e);
                }
            }
            config.virtual_server_groups.push(VirtualServerGroup { name: g.name, entries });
        }
        for (i, vs) in self.virtual_servers.into_iter().enumerate() {
            if let Some(vs) = virtual_server(vs, &format!("virtual_servers[{i}]"), &mut errors) {
                config.virtual_servers.push(vs);
            }
        }
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(errors)
        }
    }
}

fn group_entry(e: RawGroupEntry, path: &str, errors: &mut Errors) -> Option<GroupEntry> {
    match (e.address, e.fwmark) {
        (Some(first), None) => {
            if e.family.is_some() {
                err(errors, format!("{path}.family"), "", "an address entry has the address's family");
                return None;
            }
            Some(GroupEntry::Addresses { first, last: e.last.unwrap_or(first), port: e.port.unwrap_or(0) })
        }
        (None, Some(mark)) => {
            if e.last.is_some() || e.port.is_some() {
                err(errors, format!("{path}.fwmark"), mark, "a mark entry has no last address or port");
                return None;
            }
            Some(GroupEntry::Fwmark { mark, family: e.family })
        }
        _ => {
            err(errors, path, "", "an entry needs an address (with last and port) or a fwmark");
            None
        }
    }
}

/// The forwarding method with its tunnel fields.
fn forward(
    forward: Option<Forward>,
    tunnel: Option<RawTunnel>,
    port: Option<u16>,
    checksum: Option<RawChecksum>,
    path: &str,
    errors: &mut Errors,
) -> Option<Option<Forward>> {
    let tunnel_given = tunnel.is_some() || port.is_some() || checksum.is_some();
    match forward {
        Some(Forward::Tunnel(_)) => {
            let kind = match tunnel.unwrap_or_default() {
                RawTunnel::Ipip => "ipip",
                RawTunnel::Gue => "gue",
                RawTunnel::Gre => "gre",
            };
            if kind == "gue" && port.is_none() {
                err(errors, format!("{path}.tunnel"), "gue", "a gue tunnel needs tunnel_port");
                return None;
            }
            let flags = match checksum {
                None | Some(RawChecksum::Nocsum) => TunnelFlags::empty(),
                Some(RawChecksum::Csum) => TunnelFlags::CSUM,
                Some(RawChecksum::Remcsum) => TunnelFlags::REMCSUM,
            };
            match Tunnel::from_name(kind, port.unwrap_or(0), flags) {
                Ok(t) => Some(Some(Forward::Tunnel(t))),
                Err(e) => {
                    err(errors, format!("{path}.{}", e.field), e.value, e.reason);
                    None
                }
            }
        }
        other if tunnel_given => {
            let name = other.map_or_else(|| "left out".to_owned(), |f| f.name());
            err(
                errors,
                format!("{path}.tunnel"),
                "",
                format!("tunnel settings need forward = \"tunnel\" (forward is {name})"),
            );
            None
        }
        other => Some(other),
    }
}

fn on_failure(
    p: Option<RawOnFailure>,
    max_drain: Option<std::time::Duration>,
    path: &str,
    errors: &mut Errors,
) -> Option<Option<OnFailure>> {
    match (p, max_drain) {
        (Some(RawOnFailure::Drain), max) => Some(Some(OnFailure::Drain { max })),
        (p, Some(m)) => {
            let name = if p.is_some() { "remove or inhibit" } else { "left out" };
            err(
                errors,
                format!("{path}.max_drain"),
                m.as_secs_f64(),
                format!("only with on_failure = \"drain\" (it is {name})"),
            );
            None
        }
        (Some(RawOnFailure::Remove), None) => Some(Some(OnFailure::Remove)),
        (Some(RawOnFailure::Inhibit), None) => Some(Some(OnFailure::Inhibit)),
        (None, None) => Some(None),
    }
}

fn virtual_server(r: RawVirtualServer, path: &str, errors: &mut Errors) -> Option<VirtualServer> {
    let before = errors.len();
    let id = match (r.address, r.fwmark, r.group) {
        (Some(address), None, None) => {
            if r.family.is_some() {
                err(errors, format!("{path}.family"), "", "an address virtual server has the address's family");
            }
            match r.protocol {
                Some(protocol) => Some(VirtualServerId::Address { protocol, address, port: r.port.unwrap_or(0) }),
                None => {
                    err(
                        errors,
                        format!("{path}.protocol"),
                        "",
                        "an address virtual server needs a protocol (keepalived would take UDP)",
                    );
                    None
                }
            }
        }
        (None, Some(mark), None) => {
            if let Some(p) = r.protocol {
                err(errors, format!("{path}.protocol"), p.name(), "a firewall-mark virtual server has no protocol");
            }
            if let Some(p) = r.port {
                err(errors, format!("{path}.port"), p, "a firewall-mark virtual server has no port");
            }
            Some(VirtualServerId::Fwmark { mark, family: r.family })
        }
        (None, None, Some(name)) => {
            if let Some(p) = r.port {
                err(errors, format!("{path}.port"), p, "a group's entries give the ports");
            }
            Some(VirtualServerId::Group { name, protocol: r.protocol, family: r.family })
        }
        _ => {
            err(
                errors,
                path,
                "",
                "a virtual server needs exactly one of address (with protocol and port), fwmark or group",
            );
            None
        }
    };
    let scheduler = r.scheduler.unwrap_or_default();
    let mut flags = ServiceFlags::empty();
    for (k, name) in r.flags.iter().enumerate() {
        // Persistence has its own field; the other non-scheduler flag is one-packet.
        let flag = match ServiceFlags::from_other_flag_name(name) {
            Some(f) if f != ServiceFlags::PERSISTENT => Ok(f),
            _ => ServiceFlags::parse_scheduler_flag(name, &scheduler),
        };
        match flag {
            Ok(f) => flags |= f,
            Err(e) => err(errors, format!("{path}.flags[{k}]"), name, e.reason),
        }
    }
    let fwd = forward(r.forward, r.tunnel, r.tunnel_port, r.tunnel_checksum, path, errors);
    let on_fail = on_failure(r.on_failure, r.max_drain, path, errors);
    let sorry = r.sorry_server.and_then(|s| {
        let p = format!("{path}.sorry_server");
        let f = forward(s.forward, s.tunnel, s.tunnel_port, s.tunnel_checksum, &p, errors)?;
        Some(SorryServer { address: s.address, port: s.port, forward: f, inhibit: s.inhibit })
    });
    let mut real_servers = Vec::new();
    for (j, rs) in r.real_servers.into_iter().enumerate() {
        if let Some(rs) = real_server(rs, &format!("{path}.real_servers[{j}]"), errors) {
            real_servers.push(rs);
        }
    }
    if errors.len() != before {
        return None;
    }
    let mut vs = VirtualServer::new(id?);
    vs.scheduler = scheduler;
    vs.flags = flags;
    vs.forward = fwd?;
    vs.persistence = r.persistence;
    vs.netmask = r.netmask;
    vs.persistence_engine = r.persistence_engine;
    vs.timing = Timing {
        delay_loop: r.delay_loop,
        connect_timeout: r.connect_timeout,
        retry: r.retry,
        delay_before_retry: r.delay_before_retry,
        warmup: r.warmup,
    };
    vs.on_failure = on_fail?;
    vs.alpha = r.alpha;
    vs.omega = r.omega;
    vs.quorum = r.quorum.unwrap_or(vs.quorum);
    vs.hysteresis = r.hysteresis.unwrap_or(vs.hysteresis);
    vs.quorum_up = r.quorum_up;
    vs.quorum_down = r.quorum_down;
    vs.weight = r.weight.unwrap_or(vs.weight);
    vs.virtualhost = r.virtualhost;
    vs.ha_suspend = r.ha_suspend;
    vs.sorry_server = sorry;
    vs.real_servers = real_servers;
    Some(vs)
}

fn real_server(r: RawRealServer, path: &str, errors: &mut Errors) -> Option<RealServer> {
    let before = errors.len();
    let fwd = forward(r.forward, r.tunnel, r.tunnel_port, r.tunnel_checksum, path, errors);
    let on_fail = on_failure(r.on_failure, r.max_drain, path, errors);
    let mut checks = Vec::new();
    let lists = [
        ("tcp_check", r.tcp_check),
        ("http_get", r.http_get),
        ("ssl_get", r.ssl_get),
        ("dns_check", r.dns_check),
        ("misc_check", r.misc_check),
        ("smtp_check", r.smtp_check),
    ];
    for (key, list) in lists {
        for (k, c) in list.into_iter().enumerate() {
            if let Some(c) = check(key, c, &format!("{path}.{key}[{k}]"), errors) {
                checks.push(c);
            }
        }
    }
    if errors.len() != before {
        return None;
    }
    let mut rs = RealServer::new(r.address, r.port);
    rs.weight = r.weight;
    rs.forward = fwd?;
    rs.upper_threshold = r.upper_threshold;
    rs.lower_threshold = r.lower_threshold;
    rs.on_failure = on_fail?;
    rs.alpha = r.alpha;
    rs.timing = Timing {
        delay_loop: r.delay_loop,
        connect_timeout: r.connect_timeout,
        retry: r.retry,
        delay_before_retry: r.delay_before_retry,
        warmup: r.warmup,
    };
    rs.notify_up = r.notify_up;
    rs.notify_down = r.notify_down;
    rs.virtualhost = r.virtualhost;
    rs.checks = checks;
    Some(rs)
}

/// Refuses the fields a kind of check does not have.
fn no_fields(present: &[(&str, bool)], key: &str, path: &str, errors: &mut Errors) {
    for (field, given) in present {
        if *given {
            err(errors, format!("{path}.{field}"), "", format!("not a setting of {key}"));
        }
    }
}

fn check(key: &str, c: RawCheck, path: &str, errors: &mut Errors) -> Option<Check> {
    let before = errors.len();
    let http = [
        ("url", !c.url.is_empty()),
        ("virtualhost", c.virtualhost.is_some()),
        ("http_protocol", c.http_protocol.is_some()),
        ("enable_sni", c.enable_sni.is_some()),
        ("fast_recovery", c.fast_recovery.is_some()),
    ];
    let dns = [("type", c.query_type.is_some()), ("name", c.name.is_some())];
    let misc = [
        ("misc_path", c.misc_path.is_some()),
        ("misc_timeout", c.misc_timeout.is_some()),
        ("misc_dynamic", c.misc_dynamic.is_some()),
    ];
    let smtp = [("helo_name", c.helo_name.is_some())];
    let connect = [
        ("connect_ip", c.connect_ip.is_some()),
        ("connect_port", c.connect_port.is_some()),
        ("bindto", c.bindto.is_some()),
        ("bind_port", c.bind_port.is_some()),
        ("bind_if", c.bind_if.is_some()),
        ("fwmark", c.fwmark.is_some()),
        ("connect_timeout", c.connect_timeout.is_some()),
    ];
    let mut others: Vec<(&str, bool)> = Vec::new();
    if !matches!(key, "http_get" | "ssl_get") {
        others.extend(http);
    }
    if key != "dns_check" {
        others.extend(dns);
    }
    if key != "misc_check" {
        others.extend(misc);
    } else {
        others.extend(connect);
    }
    if key != "smtp_check" {
        others.extend(smtp);
    }
    if key == "http_get" {
        others.push(("enable_sni", c.enable_sni.is_some()));
    }
    no_fields(&others, key, path, errors);
    let kind = match key {
        "tcp_check" => CheckKind::Tcp,
        "http_get" | "ssl_get" => {
            let h = HttpCheck {
                urls: c
                    .url
                    .into_iter()
                    .map(|u| Url {
                        path: u.path,
                        digest: u.digest,
                        status_codes: u.status_code.unwrap_or_default(),
                        virtualhost: u.virtualhost,
                    })
                    .collect(),
                virtualhost: c.virtualhost,
                protocol: c.http_protocol.map(|p| p.0).unwrap_or_default(),
                enable_sni: c.enable_sni.unwrap_or(false),
                fast_recovery: c.fast_recovery.unwrap_or(false),
            };
            if key == "http_get" {
                CheckKind::Http(h)
            } else {
                CheckKind::Https(h)
            }
        }
        "dns_check" => {
            let d = DnsCheck::default();
            CheckKind::Dns(DnsCheck {
                query_type: c.query_type.map_or(d.query_type, |t| t.0),
                name: c.name.unwrap_or(d.name),
            })
        }
        "misc_check" => match c.misc_path {
            Some(command) => CheckKind::Misc(MiscCheck {
                command,
                timeout: c.misc_timeout,
                dynamic: c.misc_dynamic.unwrap_or(false),
            }),
            None => {
                err(errors, format!("{path}.misc_path"), "", "a misc_check needs misc_path");
                return None;
            }
        },
        _ => CheckKind::Smtp(SmtpCheck { helo_name: c.helo_name }),
    };
    if errors.len() != before {
        return None;
    }
    Some(Check {
        kind,
        connect: ConnectOptions {
            ip: c.connect_ip,
            port: c.connect_port,
            bind_ip: c.bindto,
            bind_port: c.bind_port,
            bind_if: c.bind_if,
            fwmark: c.fwmark,
        },
        timing: Timing {
            delay_loop: c.delay_loop,
            connect_timeout: c.connect_timeout,
            retry: c.retry,
            delay_before_retry: c.delay_before_retry,
            warmup: c.warmup,
        },
        alpha: c.alpha,
        log_all_failures: c.log_all_failures,
    })
}
