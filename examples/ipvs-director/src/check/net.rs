//! Connecting as keepalived's checks do: optional source address and port, interface and
//! firewall mark, within the check's connect timeout.

use std::net::SocketAddr;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpSocket, TcpStream};

use super::{CheckError, Setup, Step, Wait};
use crate::config::ResolvedCheck;

/// A TCP connection to `target` with the check's socket options, within its timeout.
pub(super) async fn connect(check: &ResolvedCheck, target: SocketAddr) -> Result<TcpStream, CheckError> {
    let socket = Socket::new(Domain::for_address(target), Type::STREAM, Some(Protocol::TCP))
        .map_err(|e| setup(Setup::Socket, e))?;
    if let Some(mark) = check.fwmark {
        socket.set_mark(mark).map_err(|e| setup(Setup::Fwmark(mark), e))?;
    }
    if let Some(dev) = &check.bind_if {
        socket.bind_device(Some(dev.as_bytes())).map_err(|e| setup(Setup::BindInterface(dev.clone()), e))?;
    }
    if let Some(bind) = check.bind {
        socket.bind(&bind.into()).map_err(|e| setup(Setup::BindAddress(bind), e))?;
    }
    socket.set_nonblocking(true).map_err(|e| setup(Setup::Socket, e))?;
    let socket = TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
    match tokio::time::timeout(check.connect_timeout, socket.connect(target)).await {
        Ok(Ok(stream)) => Ok(stream),
        Ok(Err(e)) => Err(CheckError::io(Step::Connect(target), &e)),
        Err(_) => Err(CheckError::TimedOut(Wait::Connect { target, after: check.connect_timeout })),
    }
}

/// A socket setting that failed.
pub(super) fn setup(setup: Setup, error: std::io::Error) -> CheckError {
    CheckError::Setup { setup, error: error.into() }
}
