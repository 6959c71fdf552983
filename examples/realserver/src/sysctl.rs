//! Per-interface IPv4 settings under /proc/sys/net/ipv4/conf (read in the caller's network
//! namespace: a thread inside a namespace sees that namespace's values).

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The knobs this crate reads and writes.
pub(crate) const KNOBS: [&str; 3] = ["arp_ignore", "arp_announce", "rp_filter"];

/// The key of a knob: its path under /proc/sys, e.g. `net/ipv4/conf/all/arp_ignore`.
pub(crate) fn key(scope: &str, knob: &str) -> String {
    format!("net/ipv4/conf/{scope}/{knob}")
}

/// Refuses a key that is not one of ours (record files are input).
pub(crate) fn check_key(key: &str) -> Result<()> {
    let parts: Vec<&str> = key.split('/').collect();
    let ok = match parts.as_slice() {
        ["net", "ipv4", "conf", scope, knob] => {
            KNOBS.contains(knob) && (*scope == "all" || crate::net::check_ifname(scope).is_ok())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("sysctl {key:?} is not one this crate changes")))
    }
}

fn path(key: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(key)
}

/// The value, trimmed; `None` when the file does not exist (no such interface).
pub(crate) fn read(key: &str) -> Result<Option<String>> {
    let p = path(key);
    match fs::read_to_string(&p) {
        Ok(s) => Ok(Some(s.trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(p, e)),
    }
}

/// Writes a value.
pub(crate) fn write(key: &str, value: &str) -> Result<()> {
    check_key(key)?;
    let p = path(key);
    let mut f = fs::OpenOptions::new().write(true).open(&p).map_err(|e| Error::io(&p, e))?;
    f.write_all(format!("{value}\n").as_bytes()).map_err(|e| Error::io(&p, e))
}

/// The dotted name `sysctl` shows (`net.ipv4.conf.eth0/100.arp_ignore` for `eth0.100`).
pub(crate) fn dotted(key: &str) -> String {
    key.split('/').map(|part| part.replace('.', "/")).collect::<Vec<_>>().join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(check_key("net/ipv4/conf/all/arp_ignore").is_ok());
        assert!(check_key("net/ipv4/conf/eth0.100/rp_filter").is_ok());
        for bad in [
            "net/ipv4/conf/../arp_ignore",
            "net/ipv4/conf/all/forwarding",
            "kernel/core_pattern",
            "net/ipv4/conf/all/arp_ignore/x",
            "net/ipv4/conf/default/arp_ignore",
            "",
        ] {
            assert!(check_key(bad).is_err(), "{bad}");
        }
        assert_eq!(dotted("net/ipv4/conf/eth0.100/arp_ignore"), "net.ipv4.conf.eth0/100.arp_ignore");
    }
}
