//! Users and groups scripts run as must exist on this system when the configuration is
//! checked, as `keepalived -t` requires: it refuses a `MISC_CHECK` `user`, a `vrrp_script`
//! `user` or a `global_defs` `script_user` naming a user or group the system does not have
//! ("Failed to set uid/gid for misc checker script", "Error setting global script uid/gid",
//! exit status 5) rather than letting every run of the script fail later.

use nix::unistd::{Group, User};

/// Why `name` cannot run a script: no such user, or the lookup failed.
pub(crate) fn user_problem(name: &str) -> Option<String> {
    match User::from_name(name) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!("no user {name:?} on this system (keepalived -t refuses it too)")),
        Err(e) => Some(format!("cannot look the user {name:?} up: {e}")),
    }
}

/// Why `name` cannot be a script's group: no such group, or the lookup failed.
pub(crate) fn group_problem(name: &str) -> Option<String> {
    match Group::from_name(name) {
        Ok(Some(_)) => None,
        Ok(None) => Some(format!("no group {name:?} on this system (keepalived -t refuses it too)")),
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
