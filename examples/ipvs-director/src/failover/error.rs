//! Why the VRRP instances could not start.

use std::io;
use std::net::IpAddr;

/// Why the VRRP instances could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// Reading the links and addresses (or entering the namespace) failed.
    #[error(transparent)]
    Host(#[from] crate::host::HostError),
    /// The start-up work (run off the event loop) ended without an answer.
    #[error("the VRRP start-up task failed: {0}")]
    Interrupted(String),
    /// One instance cannot run as configured.
    #[error("vrrp_instance {instance}: {problem}")]
    Instance {
        /// The instance's name.
        instance: String,
        /// What is wrong.
        problem: InstanceProblem,
    },
}

/// What keeps one VRRP instance from running.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstanceProblem {
    /// Neither `interface` nor `unicast_src_ip` is set.
    #[error("no interface")]
    InterfaceUnset,
    /// The interface (of the instance or of a virtual address) does not exist.
    #[error("no interface {0:?}")]
    NoInterface(String),
    /// `unicast_src_ip` is not an address of this host.
    #[error("unicast_src_ip {0} is not a local address")]
    SourceNotLocal(IpAddr),
    /// No interface holds `unicast_src_ip`.
    #[error("no interface holds {0}")]
    NoInterfaceHolds(IpAddr),
    /// The interface has no address to send adverts from.
    #[error("{interface} has no {} address to send adverts from", if *.ipv6 { "link-local IPv6" } else { "IPv4" })]
    NoSourceAddress {
        /// The interface.
        interface: String,
        /// Whether an IPv6 (link-local) address was looked for.
        ipv6: bool,
    },
    /// The protocol's settings are not valid.
    #[error("{0}")]
    Vrrp(#[from] ipvs_vrrp::ConfigError),
    /// The socket adverts are received on could not be opened.
    #[error("receive socket on {interface}: {error}")]
    ReceiveSocket {
        /// The interface.
        interface: String,
        /// Why.
        error: io::Error,
    },
    /// The socket adverts are sent from could not be opened.
    #[error("send socket from {address}: {error}")]
    SendSocket {
        /// The address adverts are sent from.
        address: IpAddr,
        /// Why.
        error: io::Error,
    },
}

impl SetupError {
    /// `problem` of the instance `instance`.
    pub(super) fn of(instance: &str, problem: impl Into<InstanceProblem>) -> SetupError {
        SetupError::Instance { instance: instance.to_owned(), problem: problem.into() }
    }
}
