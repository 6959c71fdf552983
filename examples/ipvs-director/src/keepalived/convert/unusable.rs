//! Scripts keepalived cannot run, left out as keepalived leaves them out: a user or group
//! not on this system, a program not found. These look at the machine that reads the file,
//! as keepalived's config test does.

use super::super::args::Ctx;
use crate::config::accounts;
use crate::config::security::executable;
use crate::config::{CheckKind, Config, Script};

/// keepalived's default script user when `script_user` is not given, if the system has it.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// keepalived 2.2.7 removes a vrrp_script it cannot run; so does the director, with a
/// warning at the script's line saying why:
/// - its user or group is not on this system ("Unable to set uid/gid for script"), or it
///   names none and the default user is unusable ("Unable to set default user for vrrp
///   script chk_x - removing"); instances that track it, reading on, do not find it ("(VI_1)
///   track script chk_x not found, ignoring..."), each with a warning at its entry;
/// - its program cannot be found or executed ("Disabling track script chk_x since not
///   found/accessible", when it starts: the instances do not track it, without a word).
///
/// A notify script of an instance or sync group whose user is not on this system is
/// ignored ("Invalid user/group for notify script ... - ignoring", "Failed to set default
/// user for notify script ... - ignoring").
pub(super) fn drop_unusable(c: &mut Config, ctx: &mut Ctx) {
    let default = default_user(c, ctx);
    let unusable_default = default.as_ref().err().cloned();
    checker_scripts(c, ctx, unusable_default.as_deref());
    let mut disabled = Vec::new();
    let mut not_found = Vec::new();
    let mut kept = Vec::with_capacity(c.vrrp_scripts.len());
    for (i, s) in std::mem::take(&mut c.vrrp_scripts).into_iter().enumerate() {
        let path = format!("vrrp_scripts[{i}]");
        let program = s.script.argv.first().cloned().unwrap_or_default();
        // keepalived names the line of the user, or for the default user the block's end.
        let user_at = if s.script.user.is_some() { "user" } else { "end" };
        let why = match user_problem(&s.script, unusable_default.as_deref()) {
            Some(why) => Some((format!("{path}.{user_at}"), why, true)),
            None if !executable(&program) => {
                Some((format!("{path}.script"), format!("{program:?} is not found or not executable"), false))
            }
            None => None,
        };
        let Some((at, why, user)) = why else {
            ctx.move_places(&path, &format!("vrrp_scripts[{}]", kept.len()));
            kept.push(s);
            continue;
        };
        let at = if ctx.places.contains_key(&at) { at } else { path };
        ctx.warn_for(
            &at,
            format!("{why}: the script {:?} disabled (not run, not tracked), as keepalived disables it", s.name),
        );
        if user {
            not_found.push(s.name.clone());
        }
        disabled.push(s.name);
    }
    c.vrrp_scripts = kept;
    for (i, v) in c.vrrp_instances.iter_mut().enumerate() {
        let mut kept = 0;
        for (j, t) in v.track_scripts.iter().enumerate() {
            let at = format!("vrrp_instances[{i}].track_script[{j}]");
            if !disabled.contains(&t.script) {
                ctx.move_places(&at, &format!("vrrp_instances[{i}].track_script[{kept}]"));
                kept += 1;
            } else if not_found.contains(&t.script) {
                ctx.warn_for(&at, "its vrrp_script is disabled: not tracked, as keepalived does not find it");
            }
        }
        v.track_scripts.retain(|t| !disabled.contains(&t.script));
    }
    let notify = c.vrrp_instances.iter_mut().enumerate().map(|(i, v)| {
        (format!("vrrp_instances[{i}]"), [&mut v.notify_master, &mut v.notify_backup, &mut v.notify_fault])
    });
    let groups = c.vrrp_sync_groups.iter_mut().enumerate().map(|(i, g)| {
        (format!("vrrp_sync_groups[{i}]"), [&mut g.notify_master, &mut g.notify_backup, &mut g.notify_fault])
    });
    for (path, scripts) in notify.chain(groups) {
        for (kw, s) in ["notify_master", "notify_backup", "notify_fault"].into_iter().zip(scripts) {
            let Some(why) = s.as_ref().and_then(|s| user_problem(s, unusable_default.as_deref())) else { continue };
            ctx.warn_for(
                &format!("{path}.{kw}"),
                format!("{why}: this notify script ignored, as keepalived ignores it"),
            );
            *s = None;
        }
    }
}

/// The user of scripts that name none, as keepalived 2.2.7 picks it: `script_user` if the
/// system has it (and its group); left out, `keepalived_script` if the system has that user
/// (set as `script_user`), else root, except with `enable_script_security`, where no
/// default is usable ("Unable to set default user keepalived_script for script"). An
/// unusable `script_user` is dropped with a warning ("Error setting global script
/// uid/gid"). `Err` says why scripts that name no user cannot run.
fn default_user(c: &mut Config, ctx: &mut Ctx) -> Result<(), String> {
    let g = &mut c.global;
    let Some(user) = g.script_user.clone().filter(|u| !u.is_empty()) else {
        if accounts::user_problem(DEFAULT_SCRIPT_USER).is_none() {
            g.script_user = Some(DEFAULT_SCRIPT_USER.to_owned());
            return Ok(());
        }
        if g.enable_script_security {
            return Err(format!(
                "it names no user, and with enable_script_security keepalived's default user {DEFAULT_SCRIPT_USER} is not on this system"
            ));
        }
        return Ok(());
    };
    let group = g.script_group.as_deref().filter(|u| !u.is_empty()).and_then(accounts::group_problem);
    let Some(why) = accounts::user_problem(&user).or(group) else { return Ok(()) };
    let what = format!("{why}: scripts that name no user of their own are not run (vrrp_scripts disabled, MISC_CHECKs removed, notify scripts ignored), as keepalived does");
    ctx.warn_for("global.script_user", what);
    g.script_user = None;
    g.script_group = None;
    Err("it names no user and script_user's is not on this system".to_owned())
}

/// Why `s` cannot run: its user or group is not on this system, or it names none and the
/// default user is unusable (`default`: why).
fn user_problem(s: &Script, default: Option<&str>) -> Option<String> {
    match &s.user {
        Some(u) => accounts::user_problem(u).or_else(|| s.group.as_deref().and_then(accounts::group_problem)),
        None => default.map(str::to_owned),
    }
}

/// The checker's scripts: keepalived 2.2.7 removes a MISC_CHECK whose user or group is not
/// on this system ("Failed to set uid/gid for misc checker script '/bin/check' -
/// removing"), or that names none while `script_user`'s is not ("Unable to set default user
/// for misc script '/bin/check' - removing"). A real server's or virtual server's notify or
/// quorum script in that case is not run either (the director does not run a script as
/// another user than the one meant).
fn checker_scripts(c: &mut Config, ctx: &mut Ctx, default: Option<&str>) {
    for (v, vs) in c.virtual_servers.iter_mut().enumerate() {
        let vpath = format!("virtual_servers[{v}]");
        for (kw, s) in [("quorum_up", &mut vs.quorum_up), ("quorum_down", &mut vs.quorum_down)] {
            ignore_unusable(s, &format!("{vpath}.{kw}"), default, ctx);
        }
        for (r, rs) in vs.real_servers.iter_mut().enumerate() {
            let rpath = format!("{vpath}.real_servers[{r}]");
            for (kw, s) in [("notify_up", &mut rs.notify_up), ("notify_down", &mut rs.notify_down)] {
                ignore_unusable(s, &format!("{rpath}.{kw}"), default, ctx);
            }
            let mut misc = 0;
            let mut kept_misc = 0;
            rs.checks.retain(|check| {
                let CheckKind::Misc(m) = &check.kind else { return true };
                let path = format!("{rpath}.misc_check[{misc}]");
                misc += 1;
                let Some(why) = user_problem(&m.command, default) else {
                    ctx.move_places(&path, &format!("{rpath}.misc_check[{kept_misc}]"));
                    kept_misc += 1;
                    return true;
                };
                let at = format!("{path}.misc_path");
                let at = if ctx.places.contains_key(&at) { at } else { path };
                ctx.warn_for(&at, format!("{why}: this MISC_CHECK removed, as keepalived removes it"));
                false
            });
        }
    }
}

/// Sets a notify or quorum script at `path` to none, with a warning, if it cannot run.
fn ignore_unusable(s: &mut Option<Script>, path: &str, default: Option<&str>, ctx: &mut Ctx) {
    let Some(why) = s.as_ref().and_then(|s| user_problem(s, default)) else { return };
    ctx.warn_for(path, format!("{why}: this script ignored (not run), as keepalived ignores it"));
    *s = None;
}
