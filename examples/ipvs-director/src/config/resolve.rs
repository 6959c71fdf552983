//! Effective check settings: inheritance virtual server → real server → checker resolved,
//! keepalived's defaults applied (`validate_check_config` in keepalived/check/check_data.c).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{defaults, Check, CheckKind, Global, RealServer, Url, VirtualServer, VirtualServerId};

/// One check with every setting decided.
///
/// ```
/// use ipvs_director::config::{Config, ResolvedCheck};
/// let c = Config::from_toml(r#"
/// [[virtual_servers]]
/// protocol = "tcp"
/// address = "192.0.2.10"
/// port = 80
/// delay_loop = 10
/// retry = 2
///
/// [[virtual_servers.real_servers]]
/// address = "198.51.100.11"
/// delay_before_retry = 0.5
///
/// [[virtual_servers.real_servers.http_get]]
/// url = [{ path = "/health" }]
/// "#)?;
/// let vs = &c.virtual_servers[0];
/// let rs = &vs.real_servers[0];
/// let r = ResolvedCheck::new(&c.global, vs, rs, &rs.checks[0]);
/// assert_eq!(r.target.unwrap().to_string(), "198.51.100.11:80");
/// assert_eq!((r.delay_loop.as_secs(), r.retry, r.delay_before_retry.as_millis()), (10, 2, 500));
/// assert_eq!(r.connect_timeout.as_secs(), 5);  // keepalived's default
/// assert_eq!(r.warmup, r.delay_loop);          // warmup defaults to the check's delay_loop
/// # Ok::<(), ipvs_director::config::ConfigError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResolvedCheck {
    /// What is checked.
    pub kind: CheckKind,
    /// Where it connects: `connect_ip` (else the real server's address) and `connect_port`
    /// (else the real server's port, else the virtual server's). None for a command check.
    pub target: Option<SocketAddr>,
    /// Source address and port (`bindto`, `bind_port`), if either is set.
    pub bind: Option<SocketAddr>,
    /// Interface to bind to.
    pub bind_if: Option<String>,
    /// Firewall mark of the check's packets.
    pub fwmark: Option<u32>,
    /// Time between checks.
    pub delay_loop: Duration,
    /// Connection (and each read and write) timeout. For a command check: how long the
    /// command may run (`misc_timeout`, else the virtual server's delay_loop).
    pub connect_timeout: Duration,
    /// Failed attempts retried before the check is marked failed.
    pub retry: u32,
    /// Time before a retry.
    pub delay_before_retry: Duration,
    /// Longest random delay before the first check.
    pub warmup: Duration,
    /// The check starts failed.
    pub alpha: bool,
    /// Every failed attempt is logged.
    pub log_all_failures: bool,
    /// The HTTP `Host:` when a url has none: the check's, the real server's, then the
    /// virtual server's `virtualhost`.
    pub virtualhost: Option<String>,
    /// The TLS server name when a url has none and SNI is on: the check's, then the virtual
    /// server's `virtualhost` (keepalived does not use the real server's here).
    pub server_name: Option<String>,
}

impl ResolvedCheck {
    /// Resolves `check` of real server `rs` of virtual server `vs`.
    pub fn new(global: &Global, vs: &VirtualServer, rs: &RealServer, check: &Check) -> ResolvedCheck {
        let inherited = check.timing.or(rs.timing).or(vs.timing);
        let delay_loop = inherited.delay_loop.unwrap_or(defaults::DELAY_LOOP);
        let vs_delay_loop = vs.timing.delay_loop.unwrap_or(defaults::DELAY_LOOP);
        let connect_timeout = match &check.kind {
            CheckKind::Misc(m) => m.timeout.unwrap_or(vs_delay_loop),
            _ => inherited.connect_timeout.unwrap_or(defaults::CONNECT_TIMEOUT),
        };
        let target = check.kind.connects().then(|| {
            let port = check.connect.port.or(rs.port).unwrap_or(match vs.id {
                VirtualServerId::Address { port, .. } => port,
                _ => 0,
            });
            SocketAddr::new(check.connect.ip.unwrap_or(rs.address), port)
        });
        let bind = match (check.connect.bind_ip, check.connect.bind_port) {
            (None, None) => None,
            (ip, port) => {
                let unspecified = match target.map(|t| t.ip()) {
                    Some(IpAddr::V6(_)) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
                    _ => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
                };
                Some(SocketAddr::new(ip.unwrap_or(unspecified), port.unwrap_or(0)))
            }
        };
        let (check_vhost, sni) = match &check.kind {
            CheckKind::Http(h) | CheckKind::Https(h) => (h.virtualhost.clone(), h.enable_sni),
            _ => (None, false),
        };
        ResolvedCheck {
            kind: check.kind.clone(),
            target,
            bind,
            bind_if: check.connect.bind_if.clone(),
            fwmark: check.connect.fwmark,
            delay_loop,
            connect_timeout,
            retry: inherited.retry.unwrap_or_else(|| check.kind.default_retry()),
            delay_before_retry: inherited
                .delay_before_retry
                .unwrap_or_else(|| check.kind.default_delay_before_retry(delay_loop)),
            warmup: inherited.warmup.unwrap_or(delay_loop),
            alpha: check.alpha.or(rs.alpha).unwrap_or(vs.alpha),
            log_all_failures: check.log_all_failures.unwrap_or(global.log_all_failures),
            virtualhost: check_vhost.clone().or_else(|| rs.virtualhost.clone()).or_else(|| vs.virtualhost.clone()),
            server_name: if sni { check_vhost.or_else(|| vs.virtualhost.clone()) } else { None },
        }
    }

    /// The `Host:` header sent for `url`: its `virtualhost`, else the inherited one, else
    /// the target as `address:port` (`[address]:port` for IPv6), port always included.
    pub fn host_header(&self, url: &Url) -> String {
        if let Some(h) = url.virtualhost.as_ref().or(self.virtualhost.as_ref()) {
            return h.clone();
        }
        self.target.map(|t| t.to_string()).unwrap_or_default()
    }

    /// The TLS server name (SNI) sent for `url`, when the check enables SNI: the url's
    /// `virtualhost`, else the check's, else the virtual server's.
    pub fn sni(&self, url: &Url) -> Option<String> {
        match &self.kind {
            CheckKind::Https(h) if h.enable_sni => url.virtualhost.clone().or_else(|| self.server_name.clone()),
            _ => None,
        }
    }
}

impl VirtualServer {
    /// Every check of every real server, resolved.
    pub fn resolved_checks<'a>(
        &'a self,
        global: &'a Global,
    ) -> impl Iterator<Item = (&'a RealServer, ResolvedCheck)> + 'a {
        self.real_servers
            .iter()
            .flat_map(move |rs| rs.checks.iter().map(move |c| (rs, ResolvedCheck::new(global, self, rs, c))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, HttpCheck, MiscCheck, Script};

    fn config() -> Config {
        Config::from_toml(
            r#"
[[virtual_servers]]
protocol = "tcp"
address = "2001:db8::10"
port = 443
virtualhost = "vs.example"
delay_loop = 20

[[virtual_servers.real_servers]]
address = "2001:db8::11"
virtualhost = "rs.example"
retry = 4

[[virtual_servers.real_servers.ssl_get]]
enable_sni = true
bind_port = 40000
url = [{ path = "/", virtualhost = "url.example" }, { path = "/b" }]

[[virtual_servers.real_servers.dns_check]]
delay_loop = 7

[[virtual_servers.real_servers.misc_check]]
misc_path = "/bin/true"
"#,
        )
        .unwrap()
    }

    #[test]
    fn inheritance_and_kind_defaults() {
        let c = config();
        let vs = &c.virtual_servers[0];
        let all: Vec<ResolvedCheck> = vs.resolved_checks(&c.global).map(|(_, r)| r).collect();
        let (ssl, dns, misc) = (&all[0], &all[1], &all[2]);
        assert_eq!(ssl.retry, 4);
        assert_eq!(ssl.delay_before_retry, Duration::from_secs(3));
        assert_eq!(ssl.bind.unwrap().to_string(), "[::]:40000");
        assert_eq!(ssl.target.unwrap().to_string(), "[2001:db8::11]:443");
        assert_eq!(dns.delay_before_retry, Duration::from_secs(7));
        assert_eq!(dns.warmup, Duration::from_secs(7));
        assert_eq!(dns.retry, 4);
        assert_eq!(misc.target, None);
        assert_eq!(misc.connect_timeout, Duration::from_secs(20));
        let CheckKind::Https(h) = &ssl.kind else { panic!() };
        assert_eq!(ssl.host_header(&h.urls[0]), "url.example");
        assert_eq!(ssl.host_header(&h.urls[1]), "rs.example");
        assert_eq!(ssl.sni(&h.urls[0]).as_deref(), Some("url.example"));
        assert_eq!(ssl.sni(&h.urls[1]).as_deref(), Some("vs.example"));
    }

    #[test]
    fn host_header_falls_back_to_the_target() {
        let c = config();
        let vs = &c.virtual_servers[0];
        let mut rs = vs.real_servers[0].clone();
        rs.virtualhost = None;
        let mut vs2 = vs.clone();
        vs2.virtualhost = None;
        let check = Check::new(CheckKind::Http(HttpCheck { urls: vec![Url::new("/")], ..HttpCheck::default() }));
        let r = ResolvedCheck::new(&c.global, &vs2, &rs, &check);
        assert_eq!(r.host_header(&Url::new("/")), "[2001:db8::11]:443");
        assert_eq!(r.sni(&Url::new("/")), None);
        let misc = Check::new(CheckKind::Misc(MiscCheck {
            command: Script::new(["x"]),
            timeout: Some(Duration::from_secs(2)),
            dynamic: false,
        }));
        assert_eq!(ResolvedCheck::new(&c.global, &vs2, &rs, &misc).connect_timeout, Duration::from_secs(2));
    }
}
