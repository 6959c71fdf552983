//! Desired-state files: TOML, JSON or ipvsadm rules, told apart by `--format`, else by the
//! file's extension, else (standard input) by a look at the text.

use std::io::Read;
use std::path::Path;

use ipvs::state::Table;

/// A file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// The desired-state file in TOML.
    Toml,
    /// The desired-state file in JSON.
    Json,
    /// ipvsadm rules (what `ipvsadm -Sn` prints).
    Rules,
}

fn guess(path: &str, text: &str) -> Format {
    match Path::new(path).extension().and_then(|e| e.to_str()) {
        Some("toml") => return Format::Toml,
        Some("json") => return Format::Json,
        Some("rules") | Some("ipvsadm") | Some("txt") => return Format::Rules,
        _ => {}
    }
    let first = text.trim_start();
    if first.starts_with('{') {
        Format::Json
    } else if first.starts_with('-') || first.starts_with("ipvsadm") {
        Format::Rules
    } else {
        Format::Toml
    }
}

/// The largest desired-state file (and standard input) read: 128 MiB, about three times a
/// table of 100,000 services in TOML (~43 MB). A larger one is refused by its size.
pub const MAX_FILE_BYTES: u64 = 128 << 20;

/// Reads a desired table from `path` (`-`: standard input), at most [`MAX_FILE_BYTES`].
///
/// A path must name a regular file: a FIFO, a device, a directory or a kernel pseudo-file is
/// refused as "not a regular file" without waiting on it or quoting it. Standard input is
/// read as it comes (it is meant to be a pipe), up to the same limit.
pub fn read(path: &str, format: Option<Format>) -> Result<Table, String> {
    let bytes = if path == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("standard input: {e}"))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(format!("standard input: larger than the limit of {MAX_FILE_BYTES} bytes"));
        }
        bytes
    } else {
        ipvs::fs::read_regular_file(Path::new(path), MAX_FILE_BYTES).map_err(|e| e.to_string())?
    };
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let name = if path == "-" { "standard input" } else { path };
        format!("{name}: not UTF-8 text (at byte {at})")
    })?;
    let name = if path == "-" { "<stdin>" } else { path };
    match format.unwrap_or_else(|| guess(path, &text)) {
        Format::Toml => Table::from_toml(&text).map_err(|e| e.in_file(name).to_string()),
        Format::Json => Table::from_json(&text).map_err(|e| e.in_file(name).to_string()),
        Format::Rules => Table::from_rules(&text).map_err(|e| format!("{name}:{e}").replacen(":line ", ":", 1)),
    }
}

/// A table in a format.
pub fn write(table: &Table, format: Format) -> String {
    match format {
        Format::Toml => table.to_toml(),
        Format::Json => table.to_json(),
        Format::Rules => table.to_rules(),
    }
}
