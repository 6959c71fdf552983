//! Small helpers: address masks, interface names, and running work inside a network namespace.

use std::net::IpAddr;
use std::path::Path;

use crate::error::{Error, Result};

/// `ip` with all bits past `prefix_len` cleared.
pub(crate) fn masked(ip: IpAddr, prefix_len: u8) -> IpAddr {
    match ip {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix_len.min(32))).unwrap_or(0);
            IpAddr::from((bits & mask).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix_len.min(128))).unwrap_or(0);
            IpAddr::from((bits & mask).to_be_bytes())
        }
    }
}

/// The host prefix length of an address's family (32 or 128).
pub(crate) fn host_len(ip: IpAddr) -> u8 {
    if ip.is_ipv4() {
        32
    } else {
        128
    }
}

/// Refuses names the kernel would refuse, and anything that could leave /proc/sys/net/.../conf.
pub(crate) fn check_ifname(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() < 16
        && name != "."
        && name != ".."
        && name != "all"
        && name != "default"
        && !name.chars().any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("interface name {name:?}")))
    }
}

/// Runs `work` with the calling thread in the network namespace at `netns` (a short-lived
/// helper thread enters it; the caller's threads stay where they are), or directly when
/// `netns` is `None`. Sockets opened and /proc/sys files read by `work` belong to that
/// namespace. The core's [`ipvs::netns::in_netns`], with its errors as this crate's
/// [`Error::Namespace`].
pub fn in_netns<T, E, F>(netns: Option<&Path>, work: F) -> std::result::Result<T, E>
where
    T: Send,
    E: Send + From<Error>,
    F: FnOnce() -> std::result::Result<T, E> + Send,
{
    /// The work's own error, or the namespace's.
    enum Failed<E> {
        Work(E),
        Namespace(ipvs::ErrorKind),
    }
    impl<E> From<ipvs::ErrorKind> for Failed<E> {
        fn from(e: ipvs::ErrorKind) -> Self {
            Failed::Namespace(e)
        }
    }
    let Some(path) = netns else { return work() };
    ipvs::netns::in_netns(Some(path), || work().map_err(Failed::Work)).map_err(|f| match f {
        Failed::Work(e) => e,
        Failed::Namespace(e) => E::from(Error::namespace(path, e)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(masked(ip("192.0.2.77"), 24), ip("192.0.2.0"));
        assert_eq!(masked(ip("192.0.2.77"), 0), ip("0.0.0.0"));
        assert_eq!(masked(ip("192.0.2.77"), 32), ip("192.0.2.77"));
        assert_eq!(masked(ip("192.0.2.77"), 200), ip("192.0.2.77"));
        assert_eq!(masked(ip("2001:db8::1:2"), 64), ip("2001:db8::"));
        assert_eq!(masked(ip("2001:db8::1"), 0), ip("::"));
    }

    #[test]
    fn interface_names() {
        for good in ["eth0", "lo", "eth0.100", "veth-rs1"] {
            assert!(check_ifname(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "all", "default", "x".repeat(16).as_str(), "a b", "a:0"] {
            assert!(check_ifname(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_missing_namespace_is_named() {
        let e = in_netns::<(), Error, _>(Some(Path::new("/no/such/netns")), || Ok(())).unwrap_err();
        assert!(e.to_string().contains("/no/such/netns"), "{e}");
    }
}
