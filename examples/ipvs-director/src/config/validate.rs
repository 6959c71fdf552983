//! Everything about the load-balancing part that can be checked before anything runs, each
//! problem named by its field path in the native file.

use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::net::IpAddr;

use ipvs::{Destination, Forward, InvalidInput, Scheduler, ServiceFlags, ServiceId};

use super::server::{MAX_GROUP_ADDRESSES, MAX_SERVICES};
use super::{
    defaults, Check, CheckKind, Config, GroupEntry, RealServer, ResolvedCheck, Script, Timing, ValidationError,
    ValidationErrors, VirtualServer, VirtualServerId,
};

/// Collected problems.
#[derive(Default)]
pub(crate) struct Problems(pub Vec<ValidationError>);

impl Problems {
    pub(crate) fn at(&mut self, path: impl Into<String>, value: impl Display, reason: impl Into<String>) {
        self.0.push(ValidationError::new(path, value, reason));
    }

    /// A library validation error of the object at `path`.
    fn invalid(&mut self, path: &str, e: InvalidInput) {
        let field = match e.field {
            "timeout" => "persistence",
            "tunnel_type" => "tunnel",
            other => other,
        };
        let p = format!("{path}.{field}");
        if !self.0.iter().any(|x| x.path == p && x.reason == e.reason) {
            self.at(p, e.value, e.reason);
        }
    }

    pub(crate) fn script(&mut self, path: &str, s: &Option<Script>) {
        if let Some(s) = s {
            if s.argv.first().is_none_or(|p| p.is_empty()) {
                self.at(path, "", "the command is empty");
            }
            for (field, v) in [("user", &s.user), ("group", &s.group)] {
                if v.as_deref() == Some("") {
                    self.at(format!("{path}.{field}"), "", "must not be empty");
                }
            }
            if s.group.is_some() && s.user.is_none() {
                self.at(format!("{path}.group"), s.group.as_deref().unwrap_or_default(), "a group needs a user");
            }
            self.account(path, s.user.as_deref(), s.group.as_deref());
        }
    }

    /// The user (`PATH.user`) and group (`PATH.group`) a script runs as, where given and not
    /// empty, must exist on this system.
    pub(crate) fn account(&mut self, path: &str, user: Option<&str>, group: Option<&str>) {
        for (field, name, problem) in [
            ("user", user, super::accounts::user_problem as fn(&str) -> Option<String>),
            ("group", group, super::accounts::group_problem),
        ] {
            if let Some(why) = name.filter(|n| !n.is_empty()).and_then(problem) {
                self.at(format!("{path}.{field}"), "", why);
            }
        }
    }

    pub(crate) fn text(&mut self, path: String, v: &Option<String>) {
        if v.as_deref() == Some("") {
            self.at(path, "", "must not be empty");
        }
    }

    /// Text a check sends in a request line or header (`virtualhost`, `helo_name`): not
    /// empty, and no control character ([`request_text`]).
    pub(crate) fn request_text(&mut self, path: String, v: &Option<String>) {
        self.text(path.clone(), v);
        if let Some(Err(why)) = v.as_deref().map(request_text) {
            self.at(path, format!("{:?}", v.as_deref().unwrap_or_default()), why.to_string());
        }
    }

    pub(crate) fn ifname(&mut self, path: String, v: &Option<String>) {
        if let Some(name) = v {
            if name.is_empty() || name.len() > ipvs::model::MAX_NAME_LEN || name.contains(['/', ' ', '\0']) {
                self.at(path, name, "not an interface name (1 to 15 bytes, no '/' or blank)");
            }
        }
    }
}

impl Config {
    /// Checks everything that can be checked before anything runs: addresses, ports and
    /// ranges; names that must exist; how fields combine (forwarding and ports, quorum and
    /// weights, versions and addresses...). Reports every problem found.
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut p = Problems::default();
        self.validate_groups(&mut p);
        // Counted before anything is expanded: past the limit, nothing is.
        if let Some((i, total)) = self.too_many_services() {
            p.at(
                format!("virtual_servers[{i}]"),
                "",
                format!(
                    "the configuration stands for {total} services, more than {MAX_SERVICES} services in all \
                     (reached at this virtual server; a group counts each address and mark)"
                ),
            );
            return Err(ValidationErrors(p.0));
        }
        let mut seen: HashMap<ServiceId, usize> = HashMap::new();
        for (i, vs) in self.virtual_servers.iter().enumerate() {
            let path = format!("virtual_servers[{i}]");
            self.validate_virtual_server(vs, &path, &mut p);
            // One problem per virtual server: a group can repeat thousands of services.
            let mut twice: Option<(ServiceId, String)> = None;
            for id in vs.service_ids(&self.virtual_server_groups) {
                match seen.get(&id) {
                    Some(&j) if j != i => {
                        twice = twice.or(Some((id, format!("the same service as virtual_servers[{j}]"))))
                    }
                    Some(_) => twice = twice.or(Some((id, "this virtual server names the service twice".into()))),
                    None => {
                        seen.insert(id, i);
                    }
                }
            }
            if let Some((id, why)) = twice {
                p.at(path.clone(), id, why);
            }
        }
        self.validate_vrrp(&mut p);
        if p.0.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(p.0))
        }
    }

    /// Past [`MAX_SERVICES`]: the virtual server that goes past it, and the total.
    fn too_many_services(&self) -> Option<(usize, u128)> {
        let counts = self.service_counts();
        let total = counts.iter().copied().fold(0, u128::saturating_add);
        if total <= MAX_SERVICES {
            return None;
        }
        let mut sum: u128 = 0;
        let at = counts.iter().position(|c| {
            sum = sum.saturating_add(*c);
            sum > MAX_SERVICES
        });
        Some((at.unwrap_or(0), total))
    }

    fn validate_groups(&self, p: &mut Problems) {
        let mut names = HashSet::new();
        for (i, g) in self.virtual_server_groups.iter().enumerate() {
            let path = format!("virtual_server_groups[{i}]");
            if g.name.is_empty() {
                p.at(format!("{path}.name"), "", "must not be empty");
            } else if !names.insert(g.name.as_str()) {
                p.at(format!("{path}.name"), &g.name, "a second group of this name");
            }
            if g.entries.is_empty() {
                p.at(format!("{path}.entries"), "", "a group needs at least one entry");
            }
            let mut total: u128 = 0;
            for (j, e) in g.entries.iter().enumerate() {
                let ep = format!("{path}.entries[{j}]");
                match e {
                    GroupEntry::Addresses { first, last, .. } => {
                        if !service_address(first) {
                            p.at(format!("{ep}.address"), first, "not a unicast address");
                        } else if first.is_ipv4() != last.is_ipv4() {
                            p.at(format!("{ep}.last"), last, "not of the first address's family");
                        } else if e.address_count() == 0 {
                            p.at(format!("{ep}.last"), last, format!("comes before {first}"));
                        }
                        total = total.saturating_add(e.address_count());
                    }
                    GroupEntry::Fwmark { mark: 0, .. } => p.at(format!("{ep}.fwmark"), 0, "a mark must not be 0"),
                    GroupEntry::Fwmark { .. } => {}
                }
            }
            if total > MAX_GROUP_ADDRESSES {
                p.at(format!("{path}.entries"), total, format!("more than {MAX_GROUP_ADDRESSES} addresses"));
            }
        }
    }

    fn validate_virtual_server(&self, vs: &VirtualServer, path: &str, p: &mut Problems) {
        let groups = &self.virtual_server_groups;
        match &vs.id {
            VirtualServerId::Address { address, .. } if !service_address(address) => {
                p.at(format!("{path}.address"), address, "not a unicast address");
            }
            VirtualServerId::Group { name, protocol, .. } => match groups.iter().find(|g| g.name == *name) {
                None => p.at(format!("{path}.group"), name, "no virtual_server_groups entry has this name"),
                Some(g) => {
                    let has_addresses = g.entries.iter().any(|e| matches!(e, GroupEntry::Addresses { .. }));
                    let has_marks = g.entries.iter().any(|e| matches!(e, GroupEntry::Fwmark { .. }));
                    if has_addresses && protocol.is_none() {
                        p.at(format!("{path}.protocol"), "", "the group has addresses: a protocol is needed");
                    }
                    if !has_addresses && protocol.is_some() {
                        p.at(format!("{path}.protocol"), "", "the group has only marks: they have no protocol");
                    }
                    if vs.ha_suspend && has_marks {
                        p.at(format!("{path}.ha_suspend"), "", "not for a group with marks (keepalived clears it)");
                    }
                }
            },
            VirtualServerId::Fwmark { .. } if vs.ha_suspend => {
                p.at(format!("{path}.ha_suspend"), "", "not for a firewall-mark service (keepalived clears it)");
            }
            _ => {}
        }
        if matches!(vs.scheduler, Scheduler::Other(_) | Scheduler::None) {
            if let Err(e) = super::parse_scheduler(vs.scheduler.name()) {
                p.at(format!("{path}.scheduler"), vs.scheduler.name(), e.to_string());
            }
        }
        if vs.flags.intersects(ServiceFlags::PERSISTENT | ServiceFlags::HASHED) {
            p.at(
                format!("{path}.flags"),
                format!("{:#x}", vs.flags.bits()),
                "persistent is set by persistence; hashed is the kernel's",
            );
        }
        if vs.netmask.is_some() && vs.persistence.is_none() {
            p.at(
                format!("{path}.netmask"),
                vs.netmask.map(|m| m.to_string()).unwrap_or_default(),
                "a netmask needs persistence",
            );
        }
        forward_allowed(p, &format!("{path}.forward"), vs.forward);
        for id in vs.service_ids(groups) {
            if let Err(e) = vs.service(id).validate() {
                p.invalid(path, e);
            }
        }
        timing(p, path, &vs.timing, true);
        if vs.quorum == 0 {
            p.at(format!("{path}.quorum"), 0, "must be at least 1");
        } else if u64::from(vs.quorum) > vs.total_weight() {
            p.at(
                format!("{path}.quorum"),
                vs.quorum,
                format!(
                    "exceeds the real servers' total weight ({}): quorum could never be reached",
                    vs.total_weight()
                ),
            );
        }
        if vs.quorum > 0 && vs.hysteresis >= vs.quorum {
            p.at(format!("{path}.hysteresis"), vs.hysteresis, format!("must be less than quorum ({})", vs.quorum));
        }
        if !(1..=Destination::MAX_WEIGHT).contains(&vs.weight) {
            p.at(format!("{path}.weight"), vs.weight, format!("must be in 1..={}", Destination::MAX_WEIGHT));
        }
        p.script(&format!("{path}.quorum_up"), &vs.quorum_up);
        p.script(&format!("{path}.quorum_down"), &vs.quorum_down);
        p.request_text(format!("{path}.virtualhost"), &vs.virtualhost);
        if vs.real_servers.is_empty() {
            p.at(
                format!("{path}.real_servers"),
                "",
                "a virtual server needs at least one real server (keepalived ignores one with none)",
            );
        }
        let ids = vs.service_ids(groups);
        if let Some(s) = &vs.sorry_server {
            let sp = format!("{path}.sorry_server");
            forward_allowed(p, &format!("{sp}.forward"), s.forward);
            self.port_rule(vs, &sp, vs.sorry_forward(s), s.port, p);
            for id in &ids {
                if let Some(d) = vs.sorry_destination(id) {
                    destination(&sp, id, &d, p);
                }
            }
            if let Some(rs) = vs.real_servers.iter().find(|rs| rs.address == s.address && rs.port == s.port) {
                if vs.on_failure_of(rs).keeps_destination() != s.inhibit {
                    p.at(
                        format!("{sp}.inhibit"),
                        s.inhibit,
                        "the sorry server is also a real server whose inhibit setting differs",
                    );
                }
            }
        }
        let mut seen: HashMap<(IpAddr, Option<u16>), usize> = HashMap::new();
        for (j, rs) in vs.real_servers.iter().enumerate() {
            let rp = format!("{path}.real_servers[{j}]");
            let port = if vs.forward_of(rs) == Forward::Masquerade { rs.port } else { None };
            if let Some(k) = seen.insert((rs.address, port), j) {
                p.at(format!("{rp}.address"), rs.address, format!("the same real server as real_servers[{k}]"));
            }
            for id in &ids {
                destination(&rp, id, &vs.destination(id, rs), p);
            }
            self.validate_real_server(vs, rs, &rp, p);
        }
    }

    /// Direct routing and tunnelling keep the virtual port: a port given must be it.
    fn port_rule(&self, vs: &VirtualServer, path: &str, fwd: Forward, port: Option<u16>, p: &mut Problems) {
        let pp = format!("{path}.port");
        match port {
            None => return,
            Some(0) => return p.at(pp, 0, "leave the port out rather than 0"),
            Some(_) if fwd == Forward::Masquerade => return,
            Some(_) => {}
        }
        let port = port.unwrap_or_default();
        let why = "with direct routing or tunnelling the destination keeps the virtual port; check another port with connect_port";
        for id in vs.service_ids(&self.virtual_server_groups) {
            match id {
                ServiceId::Inet { port: vport, .. } if vport != port => {
                    return p.at(pp, port, format!("differs from the virtual port {vport}: {why}"))
                }
                ServiceId::Fwmark { .. } => {
                    return p.at(pp, port, format!("a firewall-mark service has no port: {why}"))
                }
                _ => {}
            }
        }
    }

    fn validate_real_server(&self, vs: &VirtualServer, rs: &RealServer, path: &str, p: &mut Problems) {
        forward_allowed(p, &format!("{path}.forward"), rs.forward);
        self.port_rule(vs, path, vs.forward_of(rs), rs.port, p);
        timing(p, path, &rs.timing, true);
        p.script(&format!("{path}.notify_up"), &rs.notify_up);
        p.script(&format!("{path}.notify_down"), &rs.notify_down);
        p.request_text(format!("{path}.virtualhost"), &rs.virtualhost);
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for c in &rs.checks {
            let key = c.kind.key();
            let n = counts.entry(key).or_insert(0);
            let cp = format!("{path}.{key}[{n}]");
            *n += 1;
            self.validate_check(vs, rs, c, &cp, p);
        }
    }

    fn validate_check(&self, vs: &VirtualServer, rs: &RealServer, c: &Check, path: &str, p: &mut Problems) {
        let key = c.kind.key();
        if c.kind.connects() {
            for (field, v) in [("connect_port", c.connect.port), ("bind_port", c.connect.bind_port)] {
                if v == Some(0) {
                    p.at(format!("{path}.{field}"), 0, "a port must not be 0");
                }
            }
            if let (Some(a), Some(b)) = (c.connect.ip, c.connect.bind_ip) {
                if a.is_ipv4() != b.is_ipv4() {
                    p.at(format!("{path}.bindto"), b, format!("not of the family of connect_ip {a}"));
                }
            }
            p.ifname(format!("{path}.bind_if"), &c.connect.bind_if);
            let r = ResolvedCheck::new(&self.global, vs, rs, c);
            if let Some(t) = r.target {
                if t.port() == 0 {
                    p.at(path, "", "nothing gives this check a port: give the real server a port, or set connect_port");
                }
                if t.ip().is_unspecified() || t.ip().is_multicast() {
                    p.at(format!("{path}.connect_ip"), t.ip(), "not a unicast address");
                }
                if let IpAddr::V6(a) = t.ip() {
                    if (a.segments()[0] & 0xffc0) == 0xfe80 && c.connect.bind_if.is_none() {
                        p.at(format!("{path}.bind_if"), "", format!("a link-local address ({a}) needs bind_if"));
                    }
                }
            }
        } else if !c.connect.is_empty() || c.timing.connect_timeout.is_some() {
            p.at(path, "", format!("{key} does not connect: connect_ip, connect_port, bindto, bind_port, bind_if, fwmark and connect_timeout do not apply"));
        }
        timing(p, path, &c.timing, false);
        match &c.kind {
            CheckKind::Tcp => {}
            CheckKind::Http(h) | CheckKind::Https(h) => {
                if h.urls.is_empty() {
                    p.at(format!("{path}.url"), "", "a check needs at least one url (keepalived drops one with none)");
                }
                for (k, u) in h.urls.iter().enumerate() {
                    // The request line's rule: no blank, and no control character.
                    if u.path.is_empty() || u.path.contains(' ') {
                        p.at(format!("{path}.url[{k}].path"), &u.path, "a path must be non-empty, without blanks");
                    } else if let Err(why) = request_text(&u.path) {
                        p.at(format!("{path}.url[{k}].path"), format!("{:?}", u.path), why.to_string());
                    }
                    p.request_text(format!("{path}.url[{k}].virtualhost"), &u.virtualhost);
                }
                p.request_text(format!("{path}.virtualhost"), &h.virtualhost);
                if h.enable_sni && matches!(c.kind, CheckKind::Http(_)) {
                    p.at(format!("{path}.enable_sni"), true, "SNI is only for ssl_get");
                }
            }
            CheckKind::Dns(d) => {
                if let Err(e) = dns_name(&d.name) {
                    p.at(format!("{path}.name"), &d.name, e.to_string());
                }
            }
            CheckKind::Misc(m) => {
                p.script(&format!("{path}.misc_path"), &Some(m.command.clone()));
                if m.timeout.is_some_and(|t| t.is_zero()) {
                    p.at(
                        format!("{path}.misc_timeout"),
                        0,
                        "must be more than 0 (leave it out for the virtual server's delay_loop)",
                    );
                }
            }
            CheckKind::Smtp(s) => p.request_text(format!("{path}.helo_name"), &s.helo_name),
        }
    }
}

/// A destination's own rules and its family against the service's.
fn destination(path: &str, id: &ServiceId, d: &Destination, p: &mut Problems) {
    if let Err(e) = d.validate_for(id) {
        let field = match e.field {
            "lower_threshold" | "upper_threshold" | "weight" | "forward" => e.field,
            "tunnel_port" | "tunnel_checksum" | "tunnel_type" => e.field,
            _ => "address",
        };
        let reason = if field == "address" && e.reason.contains("needs tunnel") {
            format!("{} (service {id})", e.reason)
        } else {
            e.reason.clone()
        };
        p.invalid(path, InvalidInput { field, reason, ..e });
    }
}

/// A virtual address: unicast, not unspecified.
fn service_address(a: &IpAddr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || matches!(a, IpAddr::V4(v4) if v4.is_broadcast()))
}

fn forward_allowed(p: &mut Problems, path: &str, f: Option<Forward>) {
    match f {
        None | Some(Forward::Masquerade | Forward::DirectRoute | Forward::Tunnel(_)) => {}
        Some(other) => p.at(path, other, "a director forwards by nat, dr or tunnel"),
    }
}

/// Timing ranges. Virtual and real servers take retry 1 or more (keepalived refuses 0
/// there); checks take 0.
fn timing(p: &mut Problems, path: &str, t: &Timing, server: bool) {
    if t.delay_loop.is_some_and(|d| d.is_zero()) {
        p.at(format!("{path}.delay_loop"), 0, "must be more than 0");
    }
    if let Some(c) = t.connect_timeout {
        if c.is_zero() || c > defaults::MAX_CONNECT_TIMEOUT {
            p.at(
                format!("{path}.connect_timeout"),
                c.as_secs_f64(),
                format!("must be more than 0 and at most {} s", defaults::MAX_CONNECT_TIMEOUT.as_secs_f64()),
            );
        }
    }
    if server && t.retry == Some(0) {
        p.at(format!("{path}.retry"), 0, "must be at least 1 here (keepalived refuses 0 but for a check)");
    }
}

/// The rule for text a check sends in its request line or a header (a url's path, a
/// `virtualhost`, the SMTP `helo_name`): no control character — CR or LF would end the line
/// and let the text add headers or commands of its own; NUL, tab, DEL and the rest have no
/// place there either. The error names the first one.
pub(crate) fn request_text(v: &str) -> Result<(), ControlCharacter> {
    match v.chars().find(|c| c.is_control()) {
        Some(c) => Err(ControlCharacter(c)),
        None => Ok(()),
    }
}

/// Text sent in a request line or header with a control character in it (the first one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("has a control character ({0:?}): it would end or corrupt the request line or header it is sent in")]
pub(crate) struct ControlCharacter(char);

/// Why a name is not a DNS name to query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DnsNameError {
    /// More than 255 bytes.
    #[error("longer than 255 bytes")]
    TooLong,
    /// A label is empty or longer than 63 bytes.
    #[error("has an empty label, or one longer than 63 bytes")]
    BadLabel,
}

/// A DNS name to query: labels of 1 to 63 bytes, at most 255 in all; `.` is the root.
pub(crate) fn dns_name(name: &str) -> Result<(), DnsNameError> {
    if name == "." {
        return Ok(());
    }
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if name.len() > 255 {
        return Err(DnsNameError::TooLong);
    }
    if trimmed.split('.').any(|l| l.is_empty() || l.len() > 63) {
        return Err(DnsNameError::BadLabel);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names() {
        assert!(dns_name(".").is_ok());
        assert!(dns_name("example.org").is_ok());
        assert!(dns_name("example.org.").is_ok());
        assert!(dns_name("a..b").is_err());
        assert!(dns_name(".a").is_err());
        assert!(dns_name("").is_err());
        assert!(dns_name(&"a".repeat(64)).is_err());
    }
}
