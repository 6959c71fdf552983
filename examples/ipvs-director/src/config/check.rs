//! Health checks of a real server: what each kind checks, and the settings all kinds share.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use super::{defaults, Script, Timing, ValueError};

/// One health check of a real server. A server is up only while all its checks pass.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Check {
    /// What is checked.
    pub kind: CheckKind,
    /// Where to connect (not for [`CheckKind::Misc`]).
    pub connect: ConnectOptions,
    /// Timing; what is left out comes from the real server, then the virtual server.
    /// `connect_timeout` does not apply to [`CheckKind::Misc`].
    pub timing: Timing,
    /// Start down until the check first passes (else the real server's `alpha`).
    pub alpha: Option<bool>,
    /// Log every failed attempt, not only state changes (else `global.log_all_failures`).
    pub log_all_failures: Option<bool>,
}

impl Check {
    /// A check of `kind` with every setting inherited.
    pub fn new(kind: CheckKind) -> Check {
        Check {
            kind,
            connect: ConnectOptions::default(),
            timing: Timing::default(),
            alpha: None,
            log_all_failures: None,
        }
    }
}

/// What a check does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// `TCP_CHECK`: a TCP connection is opened and closed.
    Tcp,
    /// `HTTP_GET`: each url is fetched over HTTP.
    Http(HttpCheck),
    /// `SSL_GET`: each url is fetched over TLS (no certificate verification, as keepalived).
    Https(HttpCheck),
    /// `DNS_CHECK`: one query over UDP.
    Dns(DnsCheck),
    /// `MISC_CHECK`: a command's exit status.
    Misc(MiscCheck),
    /// `SMTP_CHECK`: greeting, `HELO`, `QUIT`.
    Smtp(SmtpCheck),
}

impl CheckKind {
    /// The kind's key in the native file and the keepalived keyword it reads:
    /// (`tcp_check`, `TCP_CHECK`), ...
    pub fn names(&self) -> (&'static str, &'static str) {
        match self {
            CheckKind::Tcp => ("tcp_check", "TCP_CHECK"),
            CheckKind::Http(_) => ("http_get", "HTTP_GET"),
            CheckKind::Https(_) => ("ssl_get", "SSL_GET"),
            CheckKind::Dns(_) => ("dns_check", "DNS_CHECK"),
            CheckKind::Misc(_) => ("misc_check", "MISC_CHECK"),
            CheckKind::Smtp(_) => ("smtp_check", "SMTP_CHECK"),
        }
    }

    /// The kind's key in the native file (`tcp_check`, `http_get`, ...).
    pub fn key(&self) -> &'static str {
        self.names().0
    }

    /// Position of the kind in the native file's order of check lists.
    pub(crate) fn rank(&self) -> usize {
        match self {
            CheckKind::Tcp => 0,
            CheckKind::Http(_) => 1,
            CheckKind::Https(_) => 2,
            CheckKind::Dns(_) => 3,
            CheckKind::Misc(_) => 4,
            CheckKind::Smtp(_) => 5,
        }
    }

    /// Whether the check connects somewhere (all but [`CheckKind::Misc`]).
    pub fn connects(&self) -> bool {
        !matches!(self, CheckKind::Misc(_))
    }

    /// Retries when nothing sets them: 1, DNS 3, MISC 0 (see [`defaults`]).
    pub fn default_retry(&self) -> u32 {
        match self {
            CheckKind::Dns(_) => defaults::DNS_RETRY,
            CheckKind::Misc(_) => defaults::MISC_RETRY,
            _ => defaults::RETRY,
        }
    }

    /// `delay_before_retry` when nothing sets it: 1 s, HTTP and SSL 3 s, DNS its delay_loop.
    pub fn default_delay_before_retry(&self, delay_loop: std::time::Duration) -> std::time::Duration {
        match self {
            CheckKind::Http(_) | CheckKind::Https(_) => defaults::HTTP_DELAY_BEFORE_RETRY,
            CheckKind::Dns(_) => delay_loop,
            _ => defaults::DELAY_BEFORE_RETRY,
        }
    }
}

/// Where a check connects. Left out: the real server's address and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ConnectOptions {
    /// Address to connect to (`connect_ip`).
    pub ip: Option<IpAddr>,
    /// Port to connect to (`connect_port`).
    pub port: Option<u16>,
    /// Source address (`bindto`).
    pub bind_ip: Option<IpAddr>,
    /// Source port (`bind_port`).
    pub bind_port: Option<u16>,
    /// Interface to bind to (`bind_if`), needed for an IPv6 link-local address.
    pub bind_if: Option<String>,
    /// Firewall mark on the check's packets (`fwmark`, `SO_MARK`).
    pub fwmark: Option<u32>,
}

impl ConnectOptions {
    /// Whether nothing is set.
    pub fn is_empty(&self) -> bool {
        *self == ConnectOptions::default()
    }
}

/// An HTTP or HTTPS check: the urls, fetched one per round, in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct HttpCheck {
    /// The urls (at least one).
    pub urls: Vec<Url>,
    /// The `Host:` header (and TLS server name) when a url has none (`virtualhost`).
    pub virtualhost: Option<String>,
    /// The request's HTTP version (`http_protocol`).
    pub protocol: HttpProtocol,
    /// Send the server name in the TLS handshake (`enable_sni`, `ssl_get` only).
    pub enable_sni: bool,
    /// Check again at once, not after `delay_loop`, while recovering (`fast_recovery`).
    pub fast_recovery: bool,
}

/// One url of an HTTP check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Url {
    /// The path sent in the request, verbatim (`path`).
    pub path: String,
    /// MD5 digest the body must have, as `genhash` computes it (`digest`).
    pub digest: Option<Md5Digest>,
    /// Status codes that pass (`status_code`; default 200-299).
    pub status_codes: StatusCodes,
    /// The `Host:` header and TLS server name for this url (`virtualhost`).
    pub virtualhost: Option<String>,
}

impl Url {
    /// A url with the default status codes and no digest.
    pub fn new(path: impl Into<String>) -> Url {
        Url { path: path.into(), digest: None, status_codes: StatusCodes::default(), virtualhost: None }
    }
}

/// The HTTP version of a check's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HttpProtocol {
    /// `GET ... HTTP/1.0` (keepalived's default).
    #[default]
    Http10,
    /// HTTP/1.0 with `Connection: close` (`1.0C`).
    Http10Close,
    /// `GET ... HTTP/1.1` with `Connection: close`.
    Http11,
}

impl HttpProtocol {
    /// keepalived's name: `1.0`, `1.0C`, `1.1`.
    pub fn name(self) -> &'static str {
        match self {
            HttpProtocol::Http10 => "1.0",
            HttpProtocol::Http10Close => "1.0C",
            HttpProtocol::Http11 => "1.1",
        }
    }
}

impl FromStr for HttpProtocol {
    type Err = ValueError;
    /// `1.0`, `1.0C` (or `1.0c`), `1.1`.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s {
            "1.0" => Ok(HttpProtocol::Http10),
            "1.0C" | "1.0c" => Ok(HttpProtocol::Http10Close),
            "1.1" => Ok(HttpProtocol::Http11),
            _ => Err(ValueError::HttpProtocol(s.to_owned())),
        }
    }
}

/// A set of HTTP status codes, as inclusive ranges within 100..=599.
///
/// ```
/// use ipvs_director::config::StatusCodes;
/// let c: StatusCodes = "200 301-302".parse().unwrap();
/// assert!(c.contains(302) && !c.contains(303));
/// assert!(StatusCodes::default().contains(204));
/// assert_eq!(c.to_string(), "200 301-302");
/// assert!("99".parse::<StatusCodes>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StatusCodes(Vec<(u16, u16)>);

impl StatusCodes {
    /// The lowest and highest code keepalived takes.
    pub const RANGE: (u16, u16) = (100, 599);

    /// The set of ranges; each must be within [`StatusCodes::RANGE`], low ≤ high.
    pub fn new(ranges: Vec<(u16, u16)>) -> Result<StatusCodes, ValueError> {
        if ranges.is_empty() {
            return Err(ValueError::NoStatusCode);
        }
        for &(lo, hi) in &ranges {
            if lo > hi || lo < Self::RANGE.0 || hi > Self::RANGE.1 {
                return Err(ValueError::StatusOutOfRange(lo, hi));
            }
        }
        Ok(StatusCodes(ranges))
    }

    /// Whether `code` passes.
    pub fn contains(&self, code: u16) -> bool {
        self.0.iter().any(|&(lo, hi)| (lo..=hi).contains(&code))
    }

    /// The ranges as given.
    pub fn ranges(&self) -> &[(u16, u16)] {
        &self.0
    }

    /// Parses one keepalived `status_code` word: `200` or `200-299`.
    pub fn parse_range(word: &str) -> Result<(u16, u16), ValueError> {
        let num = |s: &str| s.parse::<u16>().map_err(|_| ValueError::StatusCode(word.to_owned()));
        match word.split_once('-') {
            Some((lo, hi)) => Ok((num(lo)?, num(hi)?)),
            None => num(word).map(|c| (c, c)),
        }
    }
}

impl Default for StatusCodes {
    fn default() -> Self {
        StatusCodes(vec![defaults::STATUS_CODES])
    }
}

impl fmt::Display for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (lo, hi)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            if lo == hi {
                write!(f, "{lo}")?;
            } else {
                write!(f, "{lo}-{hi}")?;
            }
        }
        Ok(())
    }
}

impl FromStr for StatusCodes {
    type Err = ValueError;
    /// Words separated by blanks, each a code or a range.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        StatusCodes::new(s.split_whitespace().map(StatusCodes::parse_range).collect::<Result<_, _>>()?)
    }
}

/// An MD5 digest, written as 32 hexadecimal digits (lower case, as `genhash` prints it).
///
/// ```
/// use ipvs_director::config::Md5Digest;
/// let d: Md5Digest = "D41D8CD98F00B204E9800998ECF8427E".parse().unwrap();
/// assert_eq!(d.to_string(), "d41d8cd98f00b204e9800998ecf8427e");
/// assert!("d41d".parse::<Md5Digest>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Md5Digest(pub [u8; 16]);

impl FromStr for Md5Digest {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ValueError::Digest(s.to_owned()));
        }
        let mut out = [0u8; 16];
        for (i, byte) in out.iter_mut().enumerate() {
            let pair = s.get(2 * i..2 * i + 2).unwrap_or_default();
            *byte = u8::from_str_radix(pair, 16).map_err(|_| ValueError::Digest(s.to_owned()))?;
        }
        Ok(Md5Digest(out))
    }
}

impl fmt::Display for Md5Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// A DNS check: one query, which passes when a reply with the query's id, QR set and RCODE 0
/// comes back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DnsCheck {
    /// The query type (`type`; default SOA).
    pub query_type: DnsType,
    /// The name queried (`name`; default `.`, the root).
    pub name: String,
}

impl Default for DnsCheck {
    fn default() -> Self {
        DnsCheck { query_type: DnsType::Soa, name: ".".into() }
    }
}

/// The query types keepalived's `DNS_CHECK` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[allow(missing_docs)]
pub enum DnsType {
    A,
    Ns,
    Cname,
    #[default]
    Soa,
    Mx,
    Txt,
    Aaaa,
    Rrsig,
    Dnskey,
}

impl DnsType {
    pub(super) const ALL: [(DnsType, &'static str, u16); 9] = [
        (DnsType::A, "A", 1),
        (DnsType::Ns, "NS", 2),
        (DnsType::Cname, "CNAME", 5),
        (DnsType::Soa, "SOA", 6),
        (DnsType::Mx, "MX", 15),
        (DnsType::Txt, "TXT", 16),
        (DnsType::Aaaa, "AAAA", 28),
        (DnsType::Rrsig, "RRSIG", 46),
        (DnsType::Dnskey, "DNSKEY", 48),
    ];

    /// The type's name (`SOA`).
    pub fn name(self) -> &'static str {
        Self::ALL.iter().find(|r| r.0 == self).map_or("", |r| r.1)
    }

    /// The QTYPE number (SOA 6).
    pub fn number(self) -> u16 {
        Self::ALL.iter().find(|r| r.0 == self).map_or(0, |r| r.2)
    }
}

impl FromStr for DnsType {
    type Err = ValueError;
    /// A type name in any case.
    fn from_str(s: &str) -> Result<Self, ValueError> {
        Self::ALL
            .iter()
            .find(|r| r.1.eq_ignore_ascii_case(s))
            .map(|r| r.0)
            .ok_or_else(|| ValueError::DnsType(s.to_owned()))
    }
}

/// An external command check.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MiscCheck {
    /// The command (`misc_path`), with its user and group (`user`).
    pub command: Script,
    /// How long the command may run (`misc_timeout`; default the virtual server's
    /// delay_loop).
    pub timeout: Option<std::time::Duration>,
    /// Exit codes 2..=255 pass and set the weight to code − 2 (`misc_dynamic`).
    pub dynamic: bool,
}

/// An SMTP check.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SmtpCheck {
    /// The name sent with `HELO` (`helo_name`; default `smtpchecker.keepalived.org`).
    pub helo_name: Option<String>,
}

impl SmtpCheck {
    /// The `HELO` name, default applied.
    pub fn helo(&self) -> &str {
        self.helo_name.as_deref().unwrap_or(defaults::SMTP_HELO_NAME)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_types_by_name_and_number() {
        assert_eq!("aaaa".parse::<DnsType>().unwrap(), DnsType::Aaaa);
        assert_eq!(DnsType::Aaaa.number(), 28);
        assert_eq!(DnsType::default().name(), "SOA");
        assert!("PTR".parse::<DnsType>().unwrap_err().to_string().contains("DNSKEY"));
    }

    #[test]
    fn status_codes_and_protocols() {
        assert!("600".parse::<StatusCodes>().is_err());
        assert!("300-200".parse::<StatusCodes>().is_err());
        assert!("2xx".parse::<StatusCodes>().is_err());
        assert!("".parse::<StatusCodes>().is_err());
        assert_eq!("1.0c".parse::<HttpProtocol>().unwrap(), HttpProtocol::Http10Close);
        assert!("2".parse::<HttpProtocol>().is_err());
    }

    #[test]
    fn defaults_per_kind() {
        let http = CheckKind::Http(HttpCheck::default());
        let d = std::time::Duration::from_secs(9);
        assert_eq!(http.default_retry(), 1);
        assert_eq!(http.default_delay_before_retry(d), std::time::Duration::from_secs(3));
        assert_eq!(CheckKind::Dns(DnsCheck::default()).default_delay_before_retry(d), d);
        assert_eq!(CheckKind::Dns(DnsCheck::default()).default_retry(), 3);
        assert_eq!(CheckKind::Tcp.names(), ("tcp_check", "TCP_CHECK"));
        assert_eq!(SmtpCheck::default().helo(), "smtpchecker.keepalived.org");
    }
}
