//! What the command-line programs share: the transport a command works on, from its
//! `--mock`, `--mock=FILE` and `--netns PATH` flags (and, for the `ipvs` command, the
//! `IPVS_MOCK` environment variable).
//!
//! `--mock` is the in-memory kernel ([`MockTransport`]), empty or holding a seed file's
//! table; otherwise the kernel's [`NetlinkTransport`], in the caller's network namespace or
//! the one at `--netns`. Each program keeps its own messages: errors come typed
//! ([`OpenError`]).
//!
//! ```
//! use ipvs::command::{open_transport, read_rules_seed, Opened};
//! let opened = open_transport(Some(""), None, |file| read_rules_seed(file, 1 << 20))?;
//! assert!(matches!(opened, Opened::Mock(_)));
//! assert!(ipvs::Client::with_transport(opened.transport()).services()?.is_empty());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;
use std::sync::Arc;

use crate::error::ErrorKind;
use crate::state::Table;
use crate::transport::{MockTransport, NetlinkTransport, Transport};
use crate::Client;

/// The transport a command opened.
#[derive(Debug)]
pub enum Opened {
    /// The in-memory kernel (`--mock`), seeded.
    Mock(Arc<MockTransport>),
    /// The kernel.
    Kernel(Box<NetlinkTransport>),
}

impl Opened {
    /// The transport, shared.
    pub fn transport(self) -> Arc<dyn Transport> {
        match self {
            Opened::Mock(m) => m,
            Opened::Kernel(k) => Arc::from(k as Box<dyn Transport>),
        }
    }
}

/// Why a command's transport could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The `--mock=FILE` seed could not be read, or not written into the model; the message
    /// names the file.
    #[error("{0}")]
    Seed(String),
    /// The kernel's netlink transport could not be opened.
    #[error("{0}")]
    Kernel(ErrorKind),
}

/// The `ipvs` command's mock: its `--mock[=FILE]` flag, else `IPVS_MOCK` (`1`: the empty
/// model, anything else: a seed file).
pub fn mock_flag_or_env(flag: Option<&str>) -> Option<String> {
    flag.map(str::to_string)
        .or_else(|| std::env::var("IPVS_MOCK").ok().map(|v| if v == "1" { String::new() } else { v }))
}

/// Opens what the flags name: with `mock` (`Some("")`: `--mock`; `Some(FILE)`: `--mock=FILE`,
/// read by `read_seed` and written into the model), the in-memory kernel; else the kernel's
/// netlink transport, in the namespace at `netns` if given.
pub fn open_transport(
    mock: Option<&str>,
    netns: Option<&Path>,
    read_seed: impl FnOnce(&str) -> Result<Table, String>,
) -> Result<Opened, OpenError> {
    if let Some(file) = mock {
        let model = Arc::new(MockTransport::new());
        if !file.is_empty() {
            let table = read_seed(file).map_err(OpenError::Seed)?;
            let client = Client::with_transport(model.clone());
            let out = client.batch(&table.requests()).map_err(|e| OpenError::Seed(e.to_string()))?;
            if let Some(e) = out.into_iter().find_map(Result::err) {
                return Err(OpenError::Seed(format!("{file}: {e}")));
            }
        }
        return Ok(Opened::Mock(model));
    }
    let transport = match netns {
        None => NetlinkTransport::open(),
        Some(path) => NetlinkTransport::builder().namespace(path).open(),
    };
    transport.map(|t| Opened::Kernel(Box::new(t))).map_err(OpenError::Kernel)
}

/// Reads a seed of ipvsadm rules (`ipvsadm -S` output) safely: a regular file of at most
/// `limit` bytes (a FIFO or a device is refused, not waited on), UTF-8 text.
pub fn read_rules_seed(file: &str, limit: u64) -> Result<Table, String> {
    let bytes = crate::fs::read_regular_file(Path::new(file), limit).map_err(|e| e.to_string())?;
    let text = String::from_utf8(bytes).map_err(|e| format!("{file}: not UTF-8 text: {e}"))?;
    Table::from_rules(&text).map_err(|e| format!("{file}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_is_written_into_the_model_and_its_errors_name_the_file() {
        let dir = std::env::temp_dir().join(format!("ipvs-command-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let seed = dir.join("seed.rules");
        std::fs::write(&seed, "-A -t 192.0.2.1:80 -s rr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m\n").unwrap();
        let file = seed.to_str().unwrap();
        let t = open_transport(Some(file), None, |f| read_rules_seed(f, 1 << 20)).unwrap().transport();
        assert_eq!(Client::with_transport(t).services().unwrap().len(), 1);
        let e = open_transport(Some(file), None, |f| read_rules_seed(f, 10)).unwrap_err();
        assert!(e.to_string().contains("larger than the limit"), "{e}");
        std::fs::write(&seed, "-A -t 192.0.2.1:80 -s nosuch\n").unwrap();
        let e = open_transport(Some(file), None, |f| read_rules_seed(f, 1 << 20)).unwrap_err();
        assert!(matches!(&e, OpenError::Seed(m) if m.starts_with(file)), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_environment_stands_in_for_the_flag() {
        assert_eq!(mock_flag_or_env(Some("f")), Some("f".to_string()));
    }
}
