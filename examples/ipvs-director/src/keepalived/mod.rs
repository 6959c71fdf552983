//! keepalived.conf (keepalived 2.2.7's grammar) read into the native
//! [`Config`](crate::config::Config): the supported subset is converted, and every statement
//! outside it is an error `FILE:LINE: KEYWORD: why`, never skipped. The subset and what is
//! refused are listed in `docs/director-config.md`.
//!
//! The rules followed:
//!
//! * lexical: keepalived's (comments from an unquoted `#` or `!`, `"..."` words, braces
//!   anywhere, `include` with glob patterns relative to the including file, line numbers
//!   kept across includes); its preprocessor (`@`, `$NAME=`, `~SEQ`) is refused;
//! * a configuration keepalived would run only after reporting a configuration error
//!   (`keepalived -t` exits non-zero: no protocol, no scheduler, a real server's port reset,
//!   quorum above the total weight...) is refused, naming the problem;
//! * a statement keepalived takes but whose effect the director would not reproduce (an
//!   argument to `alpha`, words after a `misc_path` command, a checker connecting to port 0)
//!   is refused;
//! * the `global_defs` keys of [`IGNORED_GLOBAL_DEFS`] and the keywords of
//!   [`IGNORED_KEYWORDS`] (e-mail alerts only) are accepted and ignored.
//!
//! Each block is read through a table of its keywords (keepalived's `install_keyword`
//! shape), which also says what each keyword is for: [`keyword_tables`] gives them, and
//! docs/director-config.md lists them (a test keeps the two the same).
//!
//! ```
//! use ipvs_director::keepalived;
//! let conf = "virtual_server 192.0.2.10 80 {\n  protocol TCP\n  lb_algo rr\n  lb_kind NAT\n  real_server 198.51.100.11 80 {\n    TCP_CHECK {\n      connect_timeout 3\n    }\n  }\n}\n";
//! let config = keepalived::read_str(conf, "/etc/keepalived/keepalived.conf")?;
//! assert_eq!(config.virtual_servers[0].real_servers.len(), 1);
//! let bad = keepalived::read_str(&conf.replace("lb_algo rr\n", "lb_algo rr\n  colour red\n"), "k.conf").unwrap_err();
//! assert_eq!(bad.to_string(), "k.conf:4: colour: unknown keyword in virtual_server");
//! # Ok::<(), keepalived::KeepalivedErrors>(())
//! ```

mod args;
mod convert;
mod error;
mod glob;
mod lexer;
mod tree;

use std::path::Path;
use std::sync::Arc;

pub use convert::{keyword_tables, KeywordDoc, KeywordStatus, KeywordTable, IGNORED_GLOBAL_DEFS, IGNORED_KEYWORDS};
pub use error::{KeepalivedError, KeepalivedErrors, Loc};
pub use glob::MAX_EXPANSIONS;
pub use lexer::{MAX_ERRORS, MAX_FILES, MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, MAX_LINE_BYTES, MAX_TOTAL_BYTES, MAX_WORDS};
pub use tree::MAX_BLOCK_DEPTH;

use crate::config::Config;
use args::Ctx;
use lexer::Lexed;

/// Reads a keepalived.conf and its includes into a validated native configuration.
pub fn read_file(path: impl AsRef<Path>) -> Result<Config, KeepalivedErrors> {
    let mut lexed = Lexed::default();
    lexed.file(path.as_ref(), None);
    finish(lexed)
}

/// Reads keepalived.conf text; `path` names it in errors and its directory is where
/// relative includes are looked for.
pub fn read_str(text: &str, path: impl AsRef<Path>) -> Result<Config, KeepalivedErrors> {
    let mut lexed = Lexed::default();
    lexed.text(text, path.as_ref());
    finish(lexed)
}

/// `import-keepalived`: a keepalived.conf converted to a native TOML file (reading that file
/// back gives the same configuration).
pub fn import_file(path: impl AsRef<Path>) -> Result<String, KeepalivedErrors> {
    let config = read_file(path.as_ref())?;
    Ok(format!(
        "# ipvs-director configuration, converted from {} by import-keepalived.\n# Schema: docs/director-config.md.\n\n{}",
        path.as_ref().display(),
        config.to_toml()
    ))
}

fn finish(mut lexed: Lexed) -> Result<Config, KeepalivedErrors> {
    let files = std::mem::take(&mut lexed.files);
    let stopped = lexed.errors.stopped();
    let (nodes, mut errors) = lexed.finish();
    // The error that stopped the reading (a limit reached) stays last.
    let mut stop = if stopped || errors.len() > MAX_ERRORS { errors.pop() } else { None };
    if stop.is_none() {
        // What was read whole is converted, unless the errors are already at their limit.
        let mut ctx = Ctx { prior: errors.len(), ..Ctx::default() };
        let config = convert::convert(&nodes, &mut ctx);
        drop(nodes);
        errors.append(&mut ctx.errors);
        stop = ctx.stop.take();
        if errors.is_empty() && stop.is_none() {
            if let Err(v) = config.validate() {
                errors.extend(v.0.iter().take(MAX_ERRORS).map(|e| placed(e, &ctx)));
                if v.0.len() > MAX_ERRORS {
                    let loc = Loc { file: Arc::new(files.first().cloned().unwrap_or_default()), line: 0 };
                    stop = Some(KeepalivedError::new(&loc, "", format!("too many errors; stopped after {MAX_ERRORS}")));
                }
            }
        }
        if errors.is_empty() && stop.is_none() {
            return Ok(config);
        }
    }
    let order = |e: &KeepalivedError| (files.iter().position(|f| *f == e.file).unwrap_or(usize::MAX), e.line);
    errors.sort_by_key(order);
    errors.dedup();
    errors.extend(stop);
    Err(KeepalivedErrors(errors))
}

/// A native validation problem placed at the statement its field came from (or the
/// nearest enclosing statement).
fn placed(e: &crate::config::ValidationError, ctx: &Ctx) -> KeepalivedError {
    let mut prefix = e.path.as_str();
    loop {
        if let Some((loc, keyword)) = ctx.places.get(prefix) {
            let rest = e.path.get(prefix.len()..).unwrap_or_default().trim_start_matches('.');
            let reason = match (rest.is_empty(), e.value.is_empty()) {
                (true, _) => e.reason.clone(),
                (false, true) => format!("{rest}: {}", e.reason),
                (false, false) => format!("{rest} {}: {}", e.value, e.reason),
            };
            return KeepalivedError::new(loc, keyword.clone(), reason);
        }
        match prefix.rfind(['.', '[']) {
            Some(cut) => prefix = prefix.get(..cut).unwrap_or_default(),
            None => break,
        }
    }
    let loc = Loc { file: Arc::new(Default::default()), line: 0 };
    KeepalivedError::new(&loc, "", e.to_string())
}
