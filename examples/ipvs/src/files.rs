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

/// Reads a desired table from `path` (`-`: standard input).
pub fn read(path: &str, format: Option<Format>) -> Result<Table, String> {
    let text = if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| format!("standard input: {e}"))?;
        s
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?
    };
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
