//! `enable_script_security`: a script the director runs as root must not be changeable by
//! anyone but root — the file and every directory on its path owned by root and not
//! writable by group or others (keepalived's rule). Checked when a configuration is
//! loaded, so an unsafe script refuses the configuration, naming the script.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::{CheckKind, Config, Script};

/// A script `enable_script_security` refuses: one run as root that someone else could change.
#[derive(Debug, thiserror::Error)]
#[error("{at}: {program:?} runs as root but {why} (enable_script_security)")]
pub struct UnsafeScript {
    /// Where it is configured (`vrrp_scripts[0].script`).
    pub at: String,
    /// The program.
    pub program: String,
    /// What makes it unsafe.
    pub why: UnsafeProgram,
}

/// What makes a program unsafe to run as root.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsafeProgram {
    /// It is not found (on `PATH`, when given without a slash).
    #[error("it is not found")]
    NotFound,
    /// Its path, or a directory above it, cannot be looked at.
    #[error("{}: {error}", path.display())]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file or a directory above it is not owned by root.
    #[error("{} is owned by uid {uid}", path.display())]
    NotOwnedByRoot {
        /// The path.
        path: PathBuf,
        /// Its owner.
        uid: u32,
    },
    /// The file or a directory above it is writable by group or others.
    #[error("{} is writable by group or others (mode {mode:o})", path.display())]
    Writable {
        /// The path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
}

impl Config {
    /// Every command the configuration runs, with where it is configured.
    pub fn scripts(&self) -> Vec<(String, &Script)> {
        let mut out = Vec::new();
        for (v, vs) in self.virtual_servers.iter().enumerate() {
            let at = format!("virtual_servers[{v}]");
            out.extend(vs.quorum_up.iter().map(|s| (format!("{at}.quorum_up"), s)));
            out.extend(vs.quorum_down.iter().map(|s| (format!("{at}.quorum_down"), s)));
            for (r, rs) in vs.real_servers.iter().enumerate() {
                let at = format!("{at}.real_servers[{r}]");
                out.extend(rs.notify_up.iter().map(|s| (format!("{at}.notify_up"), s)));
                out.extend(rs.notify_down.iter().map(|s| (format!("{at}.notify_down"), s)));
                for (c, check) in rs.checks.iter().enumerate() {
                    if let CheckKind::Misc(m) = &check.kind {
                        out.push((format!("{at}.checks[{c}].command"), &m.command));
                    }
                }
            }
        }
        for (i, s) in self.vrrp_scripts.iter().enumerate() {
            out.push((format!("vrrp_scripts[{i}].script"), &s.script));
        }
        for (i, inst) in self.vrrp_instances.iter().enumerate() {
            for (what, s) in [
                ("notify_master", &inst.notify_master),
                ("notify_backup", &inst.notify_backup),
                ("notify_fault", &inst.notify_fault),
            ] {
                out.extend(s.iter().map(|s| (format!("vrrp_instances[{i}].{what}"), s)));
            }
        }
        for (i, g) in self.vrrp_sync_groups.iter().enumerate() {
            for (what, s) in [
                ("notify_master", &g.notify_master),
                ("notify_backup", &g.notify_backup),
                ("notify_fault", &g.notify_fault),
            ] {
                out.extend(s.iter().map(|s| (format!("vrrp_sync_groups[{i}].{what}"), s)));
            }
        }
        out
    }

    /// With `enable_script_security`, the first script run as root that someone else could
    /// change, as an error naming it; without it, `Ok`.
    pub fn check_script_security(&self) -> Result<(), UnsafeScript> {
        if !self.global.enable_script_security {
            return Ok(());
        }
        for (at, s) in self.scripts() {
            let user = s.user.as_ref().or(self.global.script_user.as_ref());
            if user.is_some_and(|u| u != "root") {
                continue;
            }
            let Some(program) = s.argv.first() else { continue };
            // A program that is not there cannot be run, let alone changed under root: each
            // run fails (and is logged). keepalived 2.2.7 starts on such a notify script
            // without a word.
            if resolve(program).is_none_or(|p| !p.exists()) {
                continue;
            }
            if let Err(why) = safe_program(program) {
                return Err(UnsafeScript { at, program: program.clone(), why });
            }
        }
        Ok(())
    }
}

/// Whether `program` names a file that can be executed: as given when it has a slash,
/// else found on `PATH`.
pub(crate) fn executable(program: &str) -> bool {
    resolve(program).and_then(|p| std::fs::metadata(p).ok()).is_some_and(|m| m.is_file() && m.mode() & 0o111 != 0)
}

/// The program's path: as given when it has a slash, else the first match on `PATH`.
fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(program)).find(|p| p.is_file())
}

/// Whether only root can change `program`: the file and each directory above it.
fn safe_program(program: &str) -> Result<(), UnsafeProgram> {
    let path = resolve(program).ok_or(UnsafeProgram::NotFound)?;
    let path = path.canonicalize().map_err(|error| UnsafeProgram::Unreadable { path: path.clone(), error })?;
    let mut at: Option<&Path> = Some(&path);
    while let Some(p) = at {
        let m = std::fs::metadata(p).map_err(|error| UnsafeProgram::Unreadable { path: p.to_owned(), error })?;
        if m.uid() != 0 {
            return Err(UnsafeProgram::NotOwnedByRoot { path: p.to_owned(), uid: m.uid() });
        }
        if m.mode() & 0o022 != 0 {
            return Err(UnsafeProgram::Writable { path: p.to_owned(), mode: m.mode() & 0o7777 });
        }
        at = p.parent();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_programs_are_safe_and_a_world_writable_one_is_not() {
        assert!(safe_program("/bin/true").is_ok());
        assert!(safe_program("true").is_ok());
        let dir = std::env::temp_dir().join(format!("ipvs-director-sec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("check.sh");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        let err = safe_program(f.to_str().unwrap()).unwrap_err().to_string();
        assert!(err.contains("writable by group or others") || err.contains("owned by uid"), "{err}");
        assert!(safe_program("/nonexistent/x").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn only_with_the_setting_and_only_for_root() {
        // Under the temporary directory, which others may write to.
        let dir = std::env::temp_dir().join(format!("ipvs-director-sec-root-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("check.sh");
        std::fs::write(&f, "#!/bin/sh\n").unwrap();
        let toml = format!("[[vrrp_scripts]]\nname = \"chk\"\nscript = \"{}\"\n", f.display());
        let mut c: Config = toml::from_str(&toml).unwrap();
        assert!(c.check_script_security().is_ok());
        c.global.enable_script_security = true;
        let err = c.check_script_security().unwrap_err().to_string();
        let want = format!("vrrp_scripts[0].script: \"{}\" runs as root", f.display());
        assert!(err.starts_with(&want), "{err}");
        // A program that is not there is not a risk (each run fails).
        c.vrrp_scripts[0].script.argv = vec!["/nonexistent/check".into()];
        assert!(c.check_script_security().is_ok());
        c.vrrp_scripts[0].script.argv = vec![f.display().to_string()];
        c.global.script_user = Some("nobody".into());
        assert!(c.check_script_security().is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
