//! Users and groups scripts run as must exist on this system when the configuration is
//! checked, rather than every run of the script failing later. keepalived 2.2.7 reports
//! such users ("Failed to set uid/gid for misc checker script", "Error setting global
//! script uid/gid", exit status 5) and leaves the scripts out; the keepalived.conf reader
//! does the same for VRRP scripts with a warning, and the native configuration refuses
//! them.

use nix::unistd::{Group, User};

/// Why `name` cannot run a script: no such user, or the lookup failed.
pub(crate) fn user_problem(name: &str) -> Option<String> {
    match User::from_name(name) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!("no user {name:?} on this system")),
        Err(e) => Some(format!("cannot look the user {name:?} up: {e}")),
    }
}

/// Why `name` cannot be a script's group: no such group, or the lookup failed.
pub(crate) fn group_problem(name: &str) -> Option<String> {
    match Group::from_name(name) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!("no group {name:?} on this system")),
        Err(e) => Some(format!("cannot look the group {name:?} up: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_exists_and_a_made_up_name_does_not() {
        assert_eq!(user_problem("root"), None);
        assert_eq!(group_problem("root"), None);
        assert!(user_problem("nosuchuser-ipvs-test").unwrap().starts_with("no user \"nosuchuser-ipvs-test\""));
        assert!(group_problem("nosuchgroup-ipvs-test").unwrap().starts_with("no group \"nosuchgroup-ipvs-test\""));
    }
}
