//! The record of what `prepare` changed, kept in a state file so that `undo` can put back
//! exactly the previous values.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::Change;

/// The record format this crate writes.
pub const RECORD_VERSION: u32 = 1;

/// Where state files go by default.
pub const STATE_DIR: &str = "/run/ipvs-realserver";

/// The largest state file read: 16 MiB (a record holds one entry per change prepare made:
/// a few sysctls, addresses, routes and tunnels per VIP, a few kilobytes).
pub const MAX_RECORD_BYTES: u64 = 16 << 20;

/// What `prepare` changed in one namespace, oldest first, each change with the value before.
///
/// ```
/// use ipvs_realserver::{Change, Record};
/// let mut r = Record::new(None);
/// let c = |before: &str, after: &str| Change::Sysctl {
///     key: "net/ipv4/conf/all/arp_ignore".into(), before: before.into(), after: after.into() };
/// r.add(&[c("0", "1")]);
/// r.add(&[c("1", "2")]); // a later prepare: the first value before is kept
/// assert_eq!(r.changes, vec![c("0", "2")]);
/// let back: Record = serde_json::from_str(&serde_json::to_string(&r)?)?;
/// assert_eq!(back, r);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// [`RECORD_VERSION`].
    pub version: u32,
    /// The namespace the changes were made in (`None`: the caller's).
    pub netns: Option<PathBuf>,
    /// The changes, oldest first (`undo` goes newest first).
    pub changes: Vec<Change>,
}

impl Record {
    /// An empty record for a namespace.
    pub fn new(netns: Option<PathBuf>) -> Self {
        Record { version: RECORD_VERSION, netns, changes: Vec::new() }
    }

    /// Whether nothing is recorded.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Adds changes of a later `prepare`. A setting written again keeps its first value
    /// before (the one to restore); a change already recorded is not repeated.
    pub fn add(&mut self, changes: &[Change]) {
        for c in changes {
            if let Change::Sysctl { key, after, .. } = c {
                let old = self.changes.iter_mut().find_map(|o| match o {
                    Change::Sysctl { key: k, after: a, .. } if k == key => Some(a),
                    _ => None,
                });
                if let Some(a) = old {
                    a.clone_from(after);
                    continue;
                }
            }
            if !self.changes.contains(c) {
                self.changes.push(c.clone());
            }
        }
    }

    /// Reads a state file; `None` when there is none. Only a regular file of at most
    /// [`MAX_RECORD_BYTES`] is read: a FIFO, a device or a kernel pseudo-file is refused
    /// without waiting on it or quoting it.
    pub fn load(path: &Path) -> Result<Option<Record>> {
        use ipvs::fs::ReadFileError;
        let bad = |reason: String| Error::State { path: path.to_path_buf(), reason };
        let bytes = match ipvs::fs::read_regular_file(path, MAX_RECORD_BYTES) {
            Ok(b) => b,
            Err(ReadFileError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(ReadFileError::Io { source, .. }) => return Err(Error::io(path, source)),
            Err(ReadFileError::NotRegular { what, .. }) => return Err(bad(format!("not a regular file ({what})"))),
            Err(ReadFileError::TooLarge { limit, .. }) => {
                return Err(bad(format!("larger than the limit of {limit} bytes")))
            }
            Err(other) => return Err(bad(other.to_string())),
        };
        let r: Record = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if r.version != RECORD_VERSION {
            return Err(bad(format!("record version {} (this build reads {RECORD_VERSION})", r.version)));
        }
        for c in &r.changes {
            crate::apply::validate(c).map_err(|e| bad(e.to_string()))?;
        }
        Ok(Some(r))
    }

    /// Writes the state file (creating its folder), replacing it in one step.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Invalid(e.to_string()))?;
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let mut f = fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        f.write_all(text.as_bytes()).and_then(|()| f.sync_all()).map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }
}

/// The default state file of a namespace: `/run/ipvs-realserver/default.json` for the
/// caller's, `netns-NAME.json` for `/run/netns/NAME`, else the path with every character but
/// letters, digits, `-` and `.` turned into `_`.
///
/// ```
/// use std::path::Path;
/// use ipvs_realserver::state_path;
/// assert_eq!(state_path(None), Path::new("/run/ipvs-realserver/default.json"));
/// assert_eq!(state_path(Some(Path::new("/run/netns/rs1"))), Path::new("/run/ipvs-realserver/netns-rs1.json"));
/// assert_eq!(state_path(Some(Path::new("/proc/42/ns/net"))), Path::new("/run/ipvs-realserver/_proc_42_ns_net.json"));
/// ```
pub fn state_path(netns: Option<&Path>) -> PathBuf {
    let name = match netns {
        None => "default".to_string(),
        Some(p) => match p.strip_prefix("/run/netns").ok().and_then(|n| n.to_str()) {
            Some(n) if !n.is_empty() && !n.contains('/') && n != ".." => format!("netns-{n}"),
            _ => p
                .to_string_lossy()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '.' { c } else { '_' })
                .collect(),
        },
    };
    Path::new(STATE_DIR).join(format!("{name}.json"))
}
