//! Scripts keepalived cannot run, left out as keepalived leaves them out: a user or group
//! not on this system, a program not found. These look at the machine that reads the file,
//! as keepalived's config test does.

use super::super::args::Ctx;
use crate::config::accounts;
use crate::config::security::executable;
use crate::config::{CheckKind, Config, Script};

/// keepalived 2.2.7 removes a vrrp_script it cannot run, and the instances that track it do
/// not track it ("track script chk_x not found, ignoring..."); so does the director, with a
/// warning at the script's line saying why:
/// - its user or group is not on this system ("Unable to set uid/gid for script"), or it
///   names none and `script_user`'s is not ("Unable to set default user for vrrp script
///   chk_x - removing");
/// - its program cannot be found or executed ("Disabling track script chk_x since not
///   found/accessible"), looked up on the machine that reads the file, as keepalived's
///   config test does.
///
/// A notify script of an instance or sync group whose user is not on this system is
/// ignored ("Invalid user/group for notify script ... - ignoring", "Failed to set default
/// user for notify script ... - ignoring"). An unusable `script_user` is dropped with a
/// warning ("Error setting global script uid/gid").
pub(super) fn drop_unusable(c: &mut Config, ctx: &mut Ctx) {
    let default_ok = check_script_user(c, ctx);
    checker_scripts(c, ctx, default_ok);
    let mut disabled = Vec::new();
    let mut kept = Vec::with_capacity(c.vrrp_scripts.len());
    for (i, s) in std::mem::take(&mut c.vrrp_scripts).into_iter().enumerate() {
        let path = format!("vrrp_scripts[{i}]");
        let program = s.script.argv.first().cloned().unwrap_or_default();
        let why = match user_problem(&s.script, default_ok) {
            Some(why) => Some((format!("{path}.user"), why)),
            None if !executable(&program) => {
                Some((format!("{path}.script"), format!("{program:?} is not found or not executable")))
            }
            None => None,
        };
        let Some((at, why)) = why else {
            ctx.move_places(&path, &format!("vrrp_scripts[{}]", kept.len()));
            kept.push(s);
            continue;
        };
        if let Some((loc, kw)) = ctx.places.get(&at).or_else(|| ctx.places.get(&path)).cloned() {
            let what =
                format!("{why}: the script {:?} disabled (not run, not tracked), as keepalived disables it", s.name);
            ctx.warn_at(&loc, &kw, what);
        }
        disabled.push(s.name);
    }
    c.vrrp_scripts = kept;
    for v in &mut c.vrrp_instances {
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
            let Some(why) = s.as_ref().and_then(|s| user_problem(s, default_ok)) else { continue };
            if let Some((loc, kw)) = ctx.places.get(&format!("{path}.{kw}")).cloned() {
                ctx.warn_at(&loc, &kw, format!("{why}: this notify script ignored, as keepalived ignores it"));
            }
            *s = None;
        }
    }
}

/// Whether `script_user` (and its group) can run scripts; if not, it is dropped with a
/// warning and `false` returned.
fn check_script_user(c: &mut Config, ctx: &mut Ctx) -> bool {
    let g = &mut c.global;
    let user = g.script_user.as_deref().filter(|u| !u.is_empty()).and_then(accounts::user_problem);
    let Some(why) =
        user.or_else(|| g.script_group.as_deref().filter(|u| !u.is_empty()).and_then(accounts::group_problem))
    else {
        return true;
    };
    if let Some((loc, kw)) = ctx.places.get("global.script_user").cloned() {
        let what = format!("{why}: scripts that name no user of their own are not run (vrrp_scripts disabled, MISC_CHECKs removed, notify scripts ignored), as keepalived does");
        ctx.warn_at(&loc, &kw, what);
    }
    g.script_user = None;
    g.script_group = None;
    false
}

/// Why `s` cannot run: its user or group is not on this system, or it names none and the
/// default user is unusable (`default_ok` false).
fn user_problem(s: &Script, default_ok: bool) -> Option<String> {
    match &s.user {
        Some(u) => accounts::user_problem(u).or_else(|| s.group.as_deref().and_then(accounts::group_problem)),
        None if !default_ok => Some("it names no user and script_user's is not on this system".to_owned()),
        None => None,
    }
}

/// The checker's scripts: keepalived 2.2.7 removes a MISC_CHECK whose user or group is not
/// on this system ("Failed to set uid/gid for misc checker script '/bin/check' -
/// removing"), or that names none while `script_user`'s is not ("Unable to set default user
/// for misc script '/bin/check' - removing"). A real server's or virtual server's notify or
/// quorum script in that case is not run either (the director does not run a script as
/// another user than the one meant).
fn checker_scripts(c: &mut Config, ctx: &mut Ctx, default_ok: bool) {
    for (v, vs) in c.virtual_servers.iter_mut().enumerate() {
        let vpath = format!("virtual_servers[{v}]");
        for (kw, s) in [("quorum_up", &mut vs.quorum_up), ("quorum_down", &mut vs.quorum_down)] {
            ignore_unusable(s, &format!("{vpath}.{kw}"), default_ok, ctx);
        }
        for (r, rs) in vs.real_servers.iter_mut().enumerate() {
            let rpath = format!("{vpath}.real_servers[{r}]");
            for (kw, s) in [("notify_up", &mut rs.notify_up), ("notify_down", &mut rs.notify_down)] {
                ignore_unusable(s, &format!("{rpath}.{kw}"), default_ok, ctx);
            }
            let mut misc = 0;
            let mut kept_misc = 0;
            rs.checks.retain(|check| {
                let CheckKind::Misc(m) = &check.kind else { return true };
                let path = format!("{rpath}.misc_check[{misc}]");
                misc += 1;
                let Some(why) = user_problem(&m.command, default_ok) else {
                    ctx.move_places(&path, &format!("{rpath}.misc_check[{kept_misc}]"));
                    kept_misc += 1;
                    return true;
                };
                let at = ctx.places.get(&format!("{path}.misc_path")).or_else(|| ctx.places.get(&path)).cloned();
                if let Some((loc, kw)) = at {
                    ctx.warn_at(&loc, &kw, format!("{why}: this MISC_CHECK removed, as keepalived removes it"));
                }
                false
            });
        }
    }
}

/// Sets a notify or quorum script at `path` to none, with a warning, if it cannot run.
fn ignore_unusable(s: &mut Option<Script>, path: &str, default_ok: bool, ctx: &mut Ctx) {
    let Some(why) = s.as_ref().and_then(|s| user_problem(s, default_ok)) else { return };
    if let Some((loc, kw)) = ctx.places.get(path).cloned() {
        ctx.warn_at(&loc, &kw, format!("{why}: this script ignored (not run), as keepalived ignores it"));
    }
    *s = None;
}
