//! Reading an operator's file without trusting what the path names.
//!
//! Configuration and desired-state files come from people and from templates: a path can name
//! a FIFO (a read waits for a writer for ever), a device (`/dev/zero` never ends), a directory,
//! or a kernel pseudo-file (`/proc/kmsg` blocks; `/proc/self/environ` would hand the process's
//! environment to whatever prints the parse errors). [`read_regular_file`] reads only regular
//! files, never blocks on opening or reading, stops at a size limit, and names the path and the
//! reason in its error without ever quoting the file's contents.
//!
//! ```
//! use ipvs::fs::{read_regular_file, ReadFileError};
//!
//! let dir = std::env::temp_dir().join(format!("ipvs-fs-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let file = dir.join("web.toml");
//! std::fs::write(&file, "[[service]]\n")?;
//! assert_eq!(read_regular_file(&file, 1 << 20)?, b"[[service]]\n");
//!
//! // A directory, a device or a FIFO is refused by what it is, without waiting on it.
//! let err = read_regular_file(&dir, 1 << 20).unwrap_err();
//! assert!(matches!(err, ReadFileError::NotRegular { .. }));
//! assert_eq!(err.to_string(), format!("{}: not a regular file (a directory)", dir.display()));
//! // So is a file larger than the limit.
//! let err = read_regular_file(&file, 4).unwrap_err();
//! assert_eq!(err.to_string(), format!("{}: larger than the limit of 4 bytes", file.display()));
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{File, FileType, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::OFlag;

/// Why a file could not be read by [`read_regular_file`]. The message names the path and the
/// reason, never the file's contents.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadFileError {
    /// The path names something other than a regular file (`what` says what: "a directory",
    /// "a FIFO", "a character device", "a kernel pseudo-file", ...).
    #[error("{}: not a regular file ({what})", path.display())]
    NotRegular {
        /// The path as given.
        path: PathBuf,
        /// What it is instead.
        what: &'static str,
    },
    /// The file holds more than the limit.
    #[error("{}: larger than the limit of {limit} bytes", path.display())]
    TooLarge {
        /// The path as given.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
    /// Opening or reading failed (missing, no permission, I/O error); the errno is kept.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path as given.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: io::Error,
    },
}

impl ReadFileError {
    /// The path the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReadFileError::NotRegular { path, .. }
            | ReadFileError::TooLarge { path, .. }
            | ReadFileError::Io { path, .. } => path,
        }
    }
}

impl From<ReadFileError> for io::Error {
    fn from(e: ReadFileError) -> io::Error {
        let kind = match &e {
            ReadFileError::Io { source, .. } => return io::Error::new(source.kind(), e.to_string()),
            ReadFileError::NotRegular { .. } => io::ErrorKind::InvalidInput,
            ReadFileError::TooLarge { .. } => io::ErrorKind::FileTooLarge,
        };
        io::Error::new(kind, e)
    }
}

fn what(t: FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Reads the whole of the regular file at `path`, at most `limit` bytes.
///
/// The file is opened non-blocking, so neither opening a FIFO nor reading a kernel stream
/// such as `/proc/kmsg` waits; what it is is then checked on the open file (no race between a
/// check and the open). A kernel pseudo-file (it says it is empty, as `/proc` files do, yet
/// yields bytes) is refused too, so its contents never reach a parser or an error message.
/// Symbolic links are followed, as every program that reads configuration does.
pub fn read_regular_file(path: &Path, limit: u64) -> Result<Vec<u8>, ReadFileError> {
    let io_err = |source: io::Error| ReadFileError::Io { path: path.to_path_buf(), source };
    let not_regular = |what: &'static str| ReadFileError::NotRegular { path: path.to_path_buf(), what };
    let file: File =
        OpenOptions::new().read(true).custom_flags((OFlag::O_NONBLOCK | OFlag::O_NOCTTY).bits()).open(path).map_err(
            |e| match e.raw_os_error() {
                Some(code) if code == nix::errno::Errno::ENXIO as i32 => {
                    not_regular("a FIFO or device with no one behind it")
                }
                _ => io_err(e),
            },
        )?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.file_type().is_file() {
        return Err(not_regular(what(meta.file_type())));
    }
    let announced = meta.len();
    if announced > limit {
        return Err(ReadFileError::TooLarge { path: path.to_path_buf(), limit });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(announced).unwrap_or(0));
    match file.take(limit.saturating_add(1)).read_to_end(&mut bytes) {
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Err(not_regular("a kernel pseudo-file")),
        Err(e) => return Err(io_err(e)),
    }
    if bytes.len() as u64 > limit {
        return Err(ReadFileError::TooLarge { path: path.to_path_buf(), limit });
    }
    if announced == 0 && !bytes.is_empty() {
        return Err(not_regular("a kernel pseudo-file"));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ipvs-fs-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_regular_file_is_read_whole_up_to_the_limit() {
        let dir = scratch("regular");
        let f = dir.join("a");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_regular_file(&f, 10).unwrap(), b"0123456789");
        assert!(matches!(read_regular_file(&f, 9), Err(ReadFileError::TooLarge { limit: 9, .. })));
        std::fs::write(&f, b"").unwrap();
        assert_eq!(read_regular_file(&f, 0).unwrap(), b"");
        let e = read_regular_file(&dir.join("missing"), 10).unwrap_err();
        assert_eq!(io::Error::from(e).kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_fifo_is_refused_without_waiting_for_a_writer() {
        let dir = scratch("fifo");
        let f = dir.join("fifo");
        nix::unistd::mkfifo(&f, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let e = read_regular_file(&f, 1 << 20).unwrap_err();
        assert!(matches!(e, ReadFileError::NotRegular { what: "a FIFO", .. }), "{e}");
    }

    #[test]
    fn devices_and_directories_are_refused() {
        for (p, what) in
            [("/dev/zero", "a character device"), ("/dev/null", "a character device"), ("/", "a directory")]
        {
            let e = read_regular_file(Path::new(p), 1 << 20).unwrap_err();
            assert!(matches!(e, ReadFileError::NotRegular { what: w, .. } if w == what), "{p}: {e}");
        }
    }

    #[test]
    fn a_kernel_pseudo_file_is_refused_and_its_contents_never_quoted() {
        let e = read_regular_file(Path::new("/proc/self/environ"), 1 << 20).unwrap_err();
        assert!(matches!(e, ReadFileError::NotRegular { what: "a kernel pseudo-file", .. }), "{e}");
        assert_eq!(e.to_string(), "/proc/self/environ: not a regular file (a kernel pseudo-file)");
        // /proc/kmsg blocks a plain reader until the kernel logs (root only; elsewhere EPERM).
        if let Err(e) = read_regular_file(Path::new("/proc/kmsg"), 1 << 20) {
            assert!(!matches!(e, ReadFileError::TooLarge { .. }), "{e}");
        }
    }
}
