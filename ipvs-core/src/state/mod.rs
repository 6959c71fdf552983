//! Desired state: whole tables read, compared, planned and applied — minimally, in a scope,
//! verified, and safe across restarts.
//!
//! * [`Table`]: a whole configuration (services with their destinations, and the timeouts),
//!   from the kernel ([`Client::table`](crate::Client::table)), from ipvsadm rules, or built;
//!   equality is on configuration.
//! * [`Plan`]: the ordered, minimal requests from one table to another within a [`Scope`],
//!   destinations leaving as a [`Policy`] says (drained, or deleted at once); it renders as
//!   ipvsadm commands and as a summary.
//! * [`Client::apply`](crate::Client::apply): the plan's requests pipelined, each failure
//!   reported with its request, then what it touched read again: an [`ApplyReport`].
//!
//! The drain state lives in the kernel (an undesired destination at weight 0 is draining), so
//! a new process carries on where the last one stopped.
//!
//! ```
//! use ipvs::state::{Policy, Scope, Table};
//! let client = ipvs::Client::mock();
//! let desired = Table::from_rules(
//!     "-A -t 192.0.2.1:80 -s wrr\n-a -t 192.0.2.1:80 -r 198.51.100.1 -m -w 2\n-a -t 192.0.2.1:80 -r 198.51.100.2 -m\n",
//! )?;
//! let report = client.apply(&client.plan(&desired, &Scope::Named, &Policy::default())?)?;
//! assert_eq!(report.summary(), "3 writes, 0 failed, 0 draining, converged");
//! // Again: nothing to write.
//! assert_eq!(client.apply(&client.plan(&desired, &Scope::Named, &Policy::default())?)?.writes, 0);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod apply;
#[cfg(feature = "serde")]
mod file;
#[cfg(feature = "serde")]
mod json;
mod plan;
mod policy;
mod scope;
mod table;

pub use apply::{ApplyReport, Failure};
#[cfg(feature = "serde")]
pub use file::{line_of, names, FileError, LineIndex};
pub use plan::{Draining, Plan, Step, Why};
pub use policy::{DrainClock, DrainPolicy, Policy};
pub use scope::{OutsideScope, Scope, Selector};
pub use table::{Entry, Table};
