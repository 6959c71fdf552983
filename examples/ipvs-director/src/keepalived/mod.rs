//! keepalived.conf (keepalived 2.2.7's grammar) read into the native
//! [`Config`](crate::config::Config): run what keepalived runs, and do what keepalived does.
//! The supported subset is converted; where keepalived warns and falls back, the reader does
//! the same and returns a warning `FILE:LINE: warning: KEYWORD: what was done`
//! ([`KeepalivedWarning`]); what neither can run is an error `FILE:LINE: KEYWORD: why`. The
//! subset, and what is accepted without effect or refused, are listed in
//! `docs/director-config.md`.
//!
//! The rules followed (each fallback checked against `keepalived -t`, whose words are quoted
//! beside its code):
//!
//! * lexical: keepalived's (comments from an unquoted `#` or `!`, `"..."` words, braces
//!   anywhere, `include` with glob patterns relative to the including file, line numbers
//!   kept across includes, the include variants `includer` ... `includea`; bytes that are
//!   not UTF-8 are taken in comments and in a keyword, which is then unknown) and its
//!   preprocessor (`@ID` lines against [`ReadOptions::config_id`], `$NAME=` definitions and
//!   their substitution, `~SEQ`/`~LST`): see docs/director-config.md;
//! * an unknown keyword is a warning and is ignored, as keepalived ignores it (with a block
//!   it is refused: keepalived would read the block's statements as the enclosing block's);
//! * keepalived's fallbacks are taken with a warning: no scheduler (wlc), no or an unknown
//!   forwarding method (NAT), an invalid `persistence_timeout` (none), a direct-routing real
//!   server's port (reset to the virtual port), an `auth_pass` longer than 8 bytes (cut), a
//!   tracked script not defined before its instance or tracked twice (not tracked), a
//!   `vrrp_script` defined twice (the first), an argument to `nopreempt` (ignored);
//! * a keyword that concerns only what the director does not do (e-mail, SNMP, D-Bus,
//!   process scheduling, VRRP knobs not implemented yet) is accepted with a warning saying
//!   it has no effect and why ([`IGNORED_GLOBAL_DEFS`], [`IGNORED_KEYWORDS`] and the tables);
//! * a configuration keepalived would not run as written, or whose effect the director
//!   would not reproduce (an argument to `alpha`, words after a `misc_path` command, a
//!   checker connecting to port 0, no protocol, quorum above the total weight...), is
//!   refused, naming the problem.
//!
//! [`read_file`] logs the warnings (tracing) and returns the configuration;
//! [`read_file_with_warnings`] returns them; with [`ReadOptions::strict`] (`--strict`), a
//! warning refuses the file.
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
//! let odd = conf.replace("lb_algo rr\n", "lb_algo rr\n  colour red\n");
//! let reading = keepalived::read_str_with_warnings(&odd, "k.conf")?;
//! assert_eq!(reading.config, config);
//! assert_eq!(
//!     reading.warnings[0].to_string(),
//!     "k.conf:4: warning: colour: unknown keyword in virtual_server; ignored, as keepalived ignores it"
//! );
//! # Ok::<(), keepalived::KeepalivedErrors>(())
//! ```

mod args;
mod convert;
mod error;
mod glob;
mod lexer;
mod preprocess;
mod tree;

use std::path::Path;
use std::sync::Arc;

pub use convert::{keyword_tables, KeywordDoc, KeywordStatus, KeywordTable, IGNORED_GLOBAL_DEFS, IGNORED_KEYWORDS};
pub use error::{KeepalivedError, KeepalivedErrors, KeepalivedWarning, Loc};
pub use glob::MAX_EXPANSIONS;
pub use lexer::{MAX_ERRORS, MAX_FILES, MAX_FILE_BYTES, MAX_INCLUDE_DEPTH, MAX_LINE_BYTES, MAX_TOTAL_BYTES, MAX_WORDS};
pub use preprocess::{MAX_EXPANDED_LINE, MAX_GENERATED_LINES, MAX_SUBSTITUTIONS};
pub use tree::MAX_BLOCK_DEPTH;

use crate::config::Config;
use args::Ctx;
use lexer::Lexed;

/// A keepalived.conf read: the configuration, and the warnings (in file order) about what
/// was taken with a fallback or without effect.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    /// The validated configuration.
    pub config: Config,
    /// What keepalived would warn about, and what has no effect here.
    pub warnings: Vec<KeepalivedWarning>,
}

/// How a keepalived.conf is read: what keepalived takes from its command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOptions {
    /// keepalived's `-i, --config-id`: a line `@ID ...` is read only when ID is this, a
    /// line `@^ID ...` only when it is not; `${_INSTANCE}` gives it. By default, as
    /// keepalived, the host name up to its first dot.
    pub config_id: String,
    /// `--strict`: [`ReadOptions::read_file`] and [`ReadOptions::import_file`] (the daemon's
    /// start and reloads) refuse a file with any warning, each warning an error. Off by
    /// default.
    pub strict: bool,
}

impl Default for ReadOptions {
    fn default() -> ReadOptions {
        ReadOptions { config_id: preprocess::default_config_id(), strict: false }
    }
}

impl ReadOptions {
    /// [`read_file`] with these options: the warnings logged, or with `strict`, errors.
    pub fn read_file(&self, path: impl AsRef<Path>) -> Result<Config, KeepalivedErrors> {
        self.settle(self.read_file_with_warnings(path)?)
    }

    /// [`read_str`] with these options.
    pub fn read_str(&self, text: &str, path: impl AsRef<Path>) -> Result<Config, KeepalivedErrors> {
        self.settle(self.read_str_with_warnings(text, path)?)
    }

    /// [`read_file_with_warnings`] with these options (the warnings returned, whatever
    /// `strict` says).
    pub fn read_file_with_warnings(&self, path: impl AsRef<Path>) -> Result<Reading, KeepalivedErrors> {
        let mut lexed = Lexed::new(&self.config_id);
        lexed.file(path.as_ref(), None);
        finish(lexed)
    }

    /// [`read_str_with_warnings`] with these options.
    pub fn read_str_with_warnings(&self, text: &str, path: impl AsRef<Path>) -> Result<Reading, KeepalivedErrors> {
        let mut lexed = Lexed::new(&self.config_id);
        lexed.text(text, path.as_ref());
        finish(lexed)
    }

    /// [`import_file`] with these options.
    pub fn import_file(&self, path: impl AsRef<Path>) -> Result<String, KeepalivedErrors> {
        let config = self.read_file(path.as_ref())?;
        Ok(format!(
            "# ipvs-director configuration, converted from {} by import-keepalived.\n# Schema: docs/director-config.md.\n\n{}",
            path.as_ref().display(),
            config.to_toml()
        ))
    }

    /// The configuration, its warnings logged; with `strict`, refused if it has any.
    fn settle(&self, reading: Reading) -> Result<Config, KeepalivedErrors> {
        let Reading { config, warnings } = reading;
        if self.strict && !warnings.is_empty() {
            return Err(KeepalivedErrors(warnings.into_iter().map(KeepalivedWarning::into_error).collect()));
        }
        for w in &warnings {
            tracing::warn!(file = %w.file.display(), line = w.line, keyword = %w.keyword, "{w}");
        }
        Ok(config)
    }
}

/// Reads a keepalived.conf and its includes into a validated native configuration;
/// the warnings are logged. The default [`ReadOptions`] (not strict; the configuration id
/// from the host name).
pub fn read_file(path: impl AsRef<Path>) -> Result<Config, KeepalivedErrors> {
    ReadOptions::default().read_file(path)
}

/// Reads keepalived.conf text; `path` names it in errors and its directory is where
/// relative includes are looked for. The warnings are logged.
pub fn read_str(text: &str, path: impl AsRef<Path>) -> Result<Config, KeepalivedErrors> {
    ReadOptions::default().read_str(text, path)
}

/// [`read_file`], with the warnings returned (never logged).
pub fn read_file_with_warnings(path: impl AsRef<Path>) -> Result<Reading, KeepalivedErrors> {
    ReadOptions::default().read_file_with_warnings(path)
}

/// [`read_str`], with the warnings returned (never logged).
pub fn read_str_with_warnings(text: &str, path: impl AsRef<Path>) -> Result<Reading, KeepalivedErrors> {
    ReadOptions::default().read_str_with_warnings(text, path)
}

/// `import-keepalived`: a keepalived.conf converted to a native TOML file (reading that file
/// back gives the same configuration).
pub fn import_file(path: impl AsRef<Path>) -> Result<String, KeepalivedErrors> {
    ReadOptions::default().import_file(path)
}

fn finish(mut lexed: Lexed) -> Result<Reading, KeepalivedErrors> {
    let files = std::mem::take(&mut lexed.files);
    let mut read_warnings = std::mem::take(&mut lexed.warnings);
    let stopped = lexed.errors.stopped();
    let (nodes, mut errors, block_warnings) = lexed.finish();
    read_warnings.extend(block_warnings.list);
    // The error that stopped the reading (a limit reached) stays last.
    let mut stop = if stopped || errors.len() > MAX_ERRORS { errors.pop() } else { None };
    if stop.is_none() {
        // What was read whole is converted, unless the errors are already at their limit.
        let mut ctx = Ctx { prior: errors.len(), unlisted: block_warnings.unlisted, ..Ctx::default() };
        for w in read_warnings {
            ctx.warn_at(&Loc { file: Arc::new(w.file), line: w.line }, &w.keyword, w.what);
        }
        let config = convert::convert(&nodes, &mut ctx);
        drop(nodes);
        errors.append(&mut ctx.errors);
        let mut warnings = std::mem::take(&mut ctx.warnings);
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
            let order = |w: &KeepalivedWarning| (files.iter().position(|f| *f == w.file).unwrap_or(usize::MAX), w.line);
            warnings.sort_by_key(order);
            warnings.dedup();
            if ctx.unlisted > 0 {
                let loc = Loc { file: Arc::new(files.first().cloned().unwrap_or_default()), line: 0 };
                let what = format!("{} more warnings not listed (the first {MAX_ERRORS} are)", ctx.unlisted);
                warnings.push(KeepalivedWarning::new(&loc, "", what));
            }
            return Ok(Reading { config, warnings });
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
