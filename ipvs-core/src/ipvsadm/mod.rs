//! ipvsadm compatibility: ipvsadm 1.31's command line, listings, rule format (`-S`, `-R`),
//! messages and exit statuses, on the typed client. The `ipvsadm` example binary is a thin
//! wrapper around [`run`]; other tools can parse rules ([`parse`]) or render listings
//! ([`render`]) themselves.
//!
//! ```
//! use ipvs::ipvsadm::{run, NoNames};
//! let client = ipvs::Client::mock();
//! let rules = "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1:80 -m -w 2\n";
//! let argv = vec!["ipvsadm".to_string(), "-R".to_string()];
//! assert_eq!(run(&client, &argv, &mut rules.as_bytes(), &NoNames).code, 0);
//! let listing = run(&client, &vec!["ipvsadm".into(), "-Ln".into()], &mut &b""[..], &NoNames).stdout;
//! assert!(listing.contains("  -> 198.51.100.1:80              Masq    2      0          0         \n"));
//! ```

mod args;
mod conns;
mod names;
pub mod render;
mod run;
mod text;

pub use args::{parse, Cmd, Exit, Format, Invocation, Parsed, RawDaemon, RawDest, RawService};
pub use names::{FileNames, Names, NoNames};
pub use run::{error_text, run, Output};
