//! From the configuration's types to the file as written, defaults left out.

use ipvs::{Forward, ServiceFlags, Tunnel, TunnelFlags};

use super::raw::*;
use crate::config::{
    defaults, Check, CheckKind, Config, GroupEntry, OnFailure, RealServer, SorryServer, VirtualServer, VirtualServerId,
};

type ForwardFields = (Option<Forward>, Option<RawTunnel>, Option<u16>, Option<RawChecksum>);

fn forward_fields(f: Option<Forward>) -> ForwardFields {
    let Some(Forward::Tunnel(t)) = f else { return (f, None, None, None) };
    let tunnel = match t {
        Tunnel::Gue { .. } => Some(RawTunnel::Gue),
        Tunnel::Gre { .. } => Some(RawTunnel::Gre),
        _ => None,
    };
    let port = match t {
        Tunnel::Gue { port, .. } => Some(port),
        _ => None,
    };
    let flags = t.flags();
    let checksum = if flags.contains(TunnelFlags::REMCSUM) {
        Some(RawChecksum::Remcsum)
    } else if flags.contains(TunnelFlags::CSUM) {
        Some(RawChecksum::Csum)
    } else {
        None
    };
    (f, tunnel, port, checksum)
}

fn on_failure_fields(p: Option<OnFailure>) -> (Option<RawOnFailure>, Option<std::time::Duration>) {
    match p {
        None => (None, None),
        Some(OnFailure::Remove) => (Some(RawOnFailure::Remove), None),
        Some(OnFailure::Inhibit) => (Some(RawOnFailure::Inhibit), None),
        Some(OnFailure::Drain { max }) => (Some(RawOnFailure::Drain), max),
    }
}

impl From<&Config> for RawConfig {
    fn from(c: &Config) -> RawConfig {
        RawConfig {
            global: c.global.clone(),
            virtual_server_groups: c
                .virtual_server_groups
                .iter()
                .map(|g| RawGroup { name: g.name.clone(), entries: g.entries.iter().map(group_entry).collect() })
                .collect(),
            virtual_servers: c.virtual_servers.iter().map(virtual_server).collect(),
            vrrp_scripts: c.vrrp_scripts.clone(),
            vrrp_sync_groups: c.vrrp_sync_groups.clone(),
            vrrp_instances: c.vrrp_instances.clone(),
        }
    }
}

fn group_entry(e: &GroupEntry) -> RawGroupEntry {
    match e {
        GroupEntry::Addresses { first, last, port } => RawGroupEntry {
            address: Some(*first),
            last: (last != first).then_some(*last),
            port: (*port != 0).then_some(*port),
            ..RawGroupEntry::default()
        },
        GroupEntry::Fwmark { mark, family } => {
            RawGroupEntry { fwmark: Some(*mark), family: *family, ..RawGroupEntry::default() }
        }
    }
}

fn virtual_server(vs: &VirtualServer) -> RawVirtualServer {
    let mut r = RawVirtualServer::default();
    match &vs.id {
        VirtualServerId::Address { protocol, address, port } => {
            r.protocol = Some(*protocol);
            r.address = Some(*address);
            r.port = Some(*port);
        }
        VirtualServerId::Fwmark { mark, family } => {
            r.fwmark = Some(*mark);
            r.family = *family;
        }
        VirtualServerId::Group { name, protocol, family } => {
            r.group = Some(name.clone());
            r.protocol = *protocol;
            r.family = *family;
        }
    }
    r.scheduler = Some(vs.scheduler.clone());
    let mut flags: Vec<String> =
        vs.flags.intersection(ServiceFlags::ONE_PACKET).other_flag_names().into_iter().map(String::from).collect();
    flags.extend(vs.flags.scheduler_flag_names(&vs.scheduler));
    r.flags = flags;
    (r.forward, r.tunnel, r.tunnel_port, r.tunnel_checksum) = forward_fields(vs.forward);
    r.persistence = vs.persistence;
    r.netmask = vs.netmask;
    r.persistence_engine = vs.persistence_engine.clone();
    r.delay_loop = vs.timing.delay_loop;
    r.connect_timeout = vs.timing.connect_timeout;
    r.retry = vs.timing.retry;
    r.delay_before_retry = vs.timing.delay_before_retry;
    r.warmup = vs.timing.warmup;
    (r.on_failure, r.max_drain) = on_failure_fields(vs.on_failure);
    r.alpha = vs.alpha;
    r.omega = vs.omega;
    r.quorum = (vs.quorum != defaults::QUORUM).then_some(vs.quorum);
    r.hysteresis = (vs.hysteresis != defaults::HYSTERESIS).then_some(vs.hysteresis);
    r.quorum_up = vs.quorum_up.clone();
    r.quorum_down = vs.quorum_down.clone();
    r.weight = (vs.weight != defaults::WEIGHT).then_some(vs.weight);
    r.virtualhost = vs.virtualhost.clone();
    r.ha_suspend = vs.ha_suspend;
    r.sorry_server = vs.sorry_server.as_ref().map(sorry_server);
    r.real_servers = vs.real_servers.iter().map(real_server).collect();
    r
}

fn sorry_server(s: &SorryServer) -> RawSorryServer {
    let (forward, tunnel, tunnel_port, tunnel_checksum) = forward_fields(s.forward);
    RawSorryServer {
        address: s.address,
        port: s.port,
        forward,
        tunnel,
        tunnel_port,
        tunnel_checksum,
        inhibit: s.inhibit,
    }
}

fn real_server(rs: &RealServer) -> RawRealServer {
    let (forward, tunnel, tunnel_port, tunnel_checksum) = forward_fields(rs.forward);
    let (on_failure, max_drain) = on_failure_fields(rs.on_failure);
    let mut r = RawRealServer {
        address: rs.address,
        port: rs.port,
        weight: rs.weight,
        forward,
        tunnel,
        tunnel_port,
        tunnel_checksum,
        upper_threshold: rs.upper_threshold,
        lower_threshold: rs.lower_threshold,
        on_failure,
        max_drain,
        alpha: rs.alpha,
        delay_loop: rs.timing.delay_loop,
        connect_timeout: rs.timing.connect_timeout,
        retry: rs.timing.retry,
        delay_before_retry: rs.timing.delay_before_retry,
        warmup: rs.timing.warmup,
        notify_up: rs.notify_up.clone(),
        notify_down: rs.notify_down.clone(),
        virtualhost: rs.virtualhost.clone(),
        tcp_check: Vec::new(),
        http_get: Vec::new(),
        ssl_get: Vec::new(),
        dns_check: Vec::new(),
        misc_check: Vec::new(),
        smtp_check: Vec::new(),
    };
    for c in &rs.checks {
        let raw = check(c);
        match &c.kind {
            CheckKind::Tcp => r.tcp_check.push(raw),
            CheckKind::Http(_) => r.http_get.push(raw),
            CheckKind::Https(_) => r.ssl_get.push(raw),
            CheckKind::Dns(_) => r.dns_check.push(raw),
            CheckKind::Misc(_) => r.misc_check.push(raw),
            CheckKind::Smtp(_) => r.smtp_check.push(raw),
        }
    }
    r
}

fn check(c: &Check) -> RawCheck {
    let mut r = RawCheck {
        connect_ip: c.connect.ip,
        connect_port: c.connect.port,
        bindto: c.connect.bind_ip,
        bind_port: c.connect.bind_port,
        bind_if: c.connect.bind_if.clone(),
        fwmark: c.connect.fwmark,
        delay_loop: c.timing.delay_loop,
        connect_timeout: c.timing.connect_timeout,
        retry: c.timing.retry,
        delay_before_retry: c.timing.delay_before_retry,
        warmup: c.timing.warmup,
        alpha: c.alpha,
        log_all_failures: c.log_all_failures,
        ..RawCheck::default()
    };
    match &c.kind {
        CheckKind::Tcp => {}
        CheckKind::Http(h) | CheckKind::Https(h) => {
            r.url = h
                .urls
                .iter()
                .map(|u| RawUrl {
                    path: u.path.clone(),
                    digest: u.digest,
                    status_code: (u.status_codes != Default::default()).then(|| u.status_codes.clone()),
                    virtualhost: u.virtualhost.clone(),
                })
                .collect();
            r.virtualhost = h.virtualhost.clone();
            r.http_protocol = (h.protocol != Default::default()).then_some(HttpProtocolName(h.protocol));
            r.enable_sni = h.enable_sni.then_some(true);
            r.fast_recovery = h.fast_recovery.then_some(true);
        }
        CheckKind::Dns(d) => {
            r.query_type = (d.query_type != Default::default()).then_some(DnsTypeName(d.query_type));
            r.name = (d.name != ".").then(|| d.name.clone());
        }
        CheckKind::Misc(m) => {
            r.misc_path = Some(m.command.clone());
            r.misc_timeout = m.timeout;
            r.misc_dynamic = m.dynamic.then_some(true);
        }
        CheckKind::Smtp(s) => r.helo_name = s.helo_name.clone(),
    }
    r
}
