//! Network namespaces: the one way into one for every user of the library (the kernel
//! transport, real servers, the exporter's totals).
//!
//! The calling thread never moves: a short-lived helper thread enters the namespace, does
//! the work (opens sockets, reads `/proc/thread-self/net/...`) and ends. Sockets keep the
//! namespace they were made in, whichever thread uses them later.
//!
//! ```no_run
//! use std::path::Path;
//! use ipvs::netlink::{Connection, NETLINK_ROUTE};
//! let conn = ipvs::netns::in_netns(Some(Path::new("/run/netns/lb1")), || Connection::open(NETLINK_ROUTE))?;
//! # Ok::<(), ipvs::ErrorKind>(())
//! ```

use std::fs::File;
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::error::{ErrorKind, InvalidInput};

/// `statfs` magic of the namespace filesystem (`NSFS_MAGIC`).
const NSFS_MAGIC: i64 = 0x6e73_6673;
/// The calling thread's network namespace.
const OWN_NAMESPACE: &str = "/proc/thread-self/ns/net";

/// Runs `work` in the network namespace at `netns` (`/run/netns/NAME`, `/proc/PID/ns/net`),
/// on a short-lived helper thread that enters it, or right here when `netns` is `None`.
/// Errors opening or entering the namespace come as [`ErrorKind`]s: `Invalid` (field
/// `netns`) for a file that is not a network namespace, `Io` for one that cannot be opened.
///
/// ```
/// let e = ipvs::netns::in_netns(Some("/no/such/netns".as_ref()), || Ok::<_, ipvs::ErrorKind>(())).unwrap_err();
/// assert!(matches!(e, ipvs::ErrorKind::Io(_)));
/// assert_eq!(ipvs::netns::in_netns(None, || Ok::<_, ipvs::ErrorKind>(7)).unwrap(), 7);
/// ```
pub fn in_netns<T, E, F>(netns: Option<&Path>, work: F) -> Result<T, E>
where
    T: Send,
    E: Send + From<ErrorKind>,
    F: FnOnce() -> Result<T, E> + Send,
{
    match netns {
        None => work(),
        Some(path) => NetNamespace::open(path)?.run(work),
    }
}

/// An open network namespace (not entered): work can be run in it again and again.
#[derive(Debug)]
pub struct NetNamespace {
    file: File,
    path: PathBuf,
}

impl NetNamespace {
    /// Opens the namespace file at `path` without blocking (a FIFO cannot hang the call) and
    /// checks that it is a namespace.
    pub fn open(path: impl AsRef<Path>) -> Result<NetNamespace, ErrorKind> {
        let path = path.as_ref();
        let shown = || path.display().to_string();
        if path.as_os_str().as_encoded_bytes().contains(&0) {
            return Err(InvalidInput::new("netns", shown().escape_default(), "a path cannot contain a NUL byte").into());
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits() | nix::fcntl::OFlag::O_CLOEXEC.bits())
            .open(path)?;
        let fs = nix::sys::statfs::fstatfs(&file).map_err(io::Error::from)?;
        if fs.filesystem_type().0 as i64 != NSFS_MAGIC {
            return Err(InvalidInput::new(
                "netns",
                shown(),
                "not a namespace (expected /run/netns/NAME or /proc/PID/ns/net)",
            )
            .into());
        }
        Ok(NetNamespace { file, path: path.to_path_buf() })
    }

    /// The calling thread's namespace.
    pub fn current() -> Result<NetNamespace, ErrorKind> {
        NetNamespace::open(OWN_NAMESPACE)
    }

    /// The path it was opened at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the calling thread is in it already.
    pub fn is_current(&self) -> bool {
        let id = |st: nix::sys::stat::FileStat| (st.st_dev, st.st_ino);
        match (nix::sys::stat::fstat(&self.file), nix::sys::stat::stat(OWN_NAMESPACE)) {
            (Ok(a), Ok(b)) => id(a) == id(b),
            _ => false,
        }
    }

    /// Runs `work` in the namespace: here when the calling thread is in it already, else on
    /// a short-lived helper thread that enters it.
    pub fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send,
        E: Send + From<ErrorKind>,
        F: FnOnce() -> Result<T, E> + Send,
    {
        if self.is_current() {
            return work();
        }
        std::thread::scope(|s| {
            s.spawn(|| -> Result<T, E> {
                nix::sched::setns(&self.file, nix::sched::CloneFlags::CLONE_NEWNET).map_err(|e| match e {
                    nix::errno::Errno::EINVAL => {
                        ErrorKind::Invalid(InvalidInput::new("netns", self.path.display(), "not a network namespace"))
                    }
                    e => ErrorKind::Io(io::Error::from(e)),
                })?;
                work()
            })
            .join()
            .unwrap_or_else(|_| Err(ErrorKind::Io(io::Error::other("namespace helper thread failed")).into()))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn namespace_paths_are_checked_without_blocking() {
        let dir = std::env::temp_dir().join(format!("ipvs-ns-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR).unwrap();
        // A FIFO with no writer would block a plain open() forever: the check runs on a
        // thread so that a regression fails here after 5 s instead of hanging the suite.
        let (tx, rx) = std::sync::mpsc::channel();
        let path = fifo.clone();
        std::thread::spawn(move || {
            let _ = tx.send(NetNamespace::open(&path).map(drop));
        });
        let e = rx.recv_timeout(Duration::from_secs(5)).expect("opening a FIFO as a namespace blocked").unwrap_err();
        assert!(matches!(&e, ErrorKind::Invalid(i) if i.field == "netns"), "{e}");
        let e = NetNamespace::open("/etc/hostname").unwrap_err();
        assert!(matches!(&e, ErrorKind::Invalid(i) if i.field == "netns"), "{e}");
        let e = NetNamespace::open("a\0b").unwrap_err();
        assert!(matches!(&e, ErrorKind::Invalid(i) if i.field == "netns"), "{e}");
        assert!(matches!(NetNamespace::open("/no/such/netns"), Err(ErrorKind::Io(_))));
        // The caller's own namespace file is a namespace, and the current one.
        assert!(NetNamespace::open("/proc/self/ns/net").unwrap().is_current());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_namespace_of_another_kind_is_refused_when_entered() {
        let e = in_netns(Some(Path::new("/proc/self/ns/mnt")), || Ok::<_, ErrorKind>(())).unwrap_err();
        assert!(e.to_string().contains("not a network namespace"), "{e}");
    }
}
