"""Typed control of Linux IPVS, the kernel's layer-4 load balancer.

Built on the Rust library ipvs-core. ``ipvs.Client()`` talks to the kernel (root or
CAP_NET_ADMIN); ``ipvs.Client.mock()`` to an in-memory model of the kernel's tables that
answers as the kernel does, for tests.

>>> import ipvs
>>> with ipvs.Client.mock() as c:
...     web = ipvs.Service(protocol="tcp", address="192.0.2.1", port=80, scheduler="rr")
...     c.add_service(web)
...     c.add_destination(web, ipvs.Destination("198.51.100.1", port=80, forward="nat"))
...     [d.destination.address for d in c.destinations(web)]
[IPv4Address('198.51.100.1')]

What you configure (``Service``, ``Destination``) is apart from what the kernel reports
(``ServiceStatus``, ``DestinationStatus``: the configuration with its statistics and
connection counts). Model objects are immutable and checked when built; ``replace(**changes)``
makes a changed copy. Bad arguments raise TypeError or ValueError before anything is sent;
failed calls raise ``IpvsError`` (an OSError with ``errno``, also the matching builtin such as
FileExistsError).

Desired state: a ``Table`` is a whole configuration (from ``client.table()``, a TOML or JSON
file's text, a dict of the same schema, ipvsadm rules, or built); ``client.plan(table)`` is
the minimal ``Plan`` to it, ``client.apply(table)`` applies one and returns an
``ApplyReport``. ``client.save()`` and ``client.restore(text)`` are ``ipvsadm -Sn`` and
``ipvsadm -R``.

>>> with ipvs.Client.mock() as c:
...     t = ipvs.Table()
...     t.add_service(web, [ipvs.Destination("198.51.100.1", port=80, forward="nat")])
...     c.apply(t).summary, c.apply(t).summary
('2 writes, 0 failed, 0 draining, converged', '0 writes, 0 failed, 0 draining, converged')
"""

from __future__ import annotations

import errno as _errno
import ipaddress
from typing import Dict, Optional, Type, Union

from ._ipvs import (
    ApplyReport,
    Client,
    Daemon,
    Destination,
    DestinationStatus,
    Draining,
    Failure,
    Info,
    Plan,
    Service,
    ServiceStatus,
    Stats,
    Step,
    Table,
    Timeouts,
)

__all__ = [
    "Client",
    "Service",
    "Destination",
    "ServiceStatus",
    "DestinationStatus",
    "Stats",
    "Timeouts",
    "Daemon",
    "Info",
    "Table",
    "Plan",
    "Step",
    "Draining",
    "ApplyReport",
    "Failure",
    "IpvsError",
    "Address",
]

Address = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address]


class IpvsError(OSError):
    """A failed call: the kernel's errno (or a system call's), with ``operation`` and
    ``target`` saying which operation on which object failed. Instances are also of the
    matching builtin OSError subclass (FileExistsError for EEXIST, FileNotFoundError for
    ENOENT, PermissionError for EPERM, ProcessLookupError for ESRCH, ...)."""

    operation: str
    target: Optional[str]

    def __init__(self, errno: int, strerror: str, operation: str = "", target: Optional[str] = None) -> None:
        super().__init__(errno, strerror)
        self.operation = operation
        self.target = target

    def __str__(self) -> str:
        return f"[Errno {self.errno}] {self.strerror}"


_BUILTIN_FOR_ERRNO: Dict[int, Type[OSError]] = {
    _errno.EEXIST: FileExistsError,
    _errno.ENOENT: FileNotFoundError,
    _errno.EPERM: PermissionError,
    _errno.EACCES: PermissionError,
    _errno.ESRCH: ProcessLookupError,
    _errno.EINTR: InterruptedError,
    _errno.ETIMEDOUT: TimeoutError,
    _errno.EAGAIN: BlockingIOError,
    _errno.ECONNREFUSED: ConnectionRefusedError,
}
_ERROR_CLASSES: Dict[int, Type[IpvsError]] = {}
_BY_BUILTIN: Dict[Type[OSError], Type[IpvsError]] = {}
for _code, _builtin in _BUILTIN_FOR_ERRNO.items():
    if _builtin not in _BY_BUILTIN:
        _BY_BUILTIN[_builtin] = type("Ipvs" + _builtin.__name__, (IpvsError, _builtin), {"__module__": __name__})
    _ERROR_CLASSES[_code] = _BY_BUILTIN[_builtin]


def _make_error(errno: int, message: str, operation: str, target: Optional[str]) -> IpvsError:
    """Called by the native module to build the exception for a failed call."""
    return _ERROR_CLASSES.get(errno, IpvsError)(errno, message, operation, target)
