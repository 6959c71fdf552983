"""Typed control of Linux IPVS, the kernel's layer-4 load balancer.

Built on the Rust library ipvs-core. ``ipvs.Client()`` talks to the kernel (root or
CAP_NET_ADMIN); ``ipvs.Client.mock()`` to an in-memory model of the kernel's tables that
answers as the kernel does, for tests.

>>> import ipvs
>>> with ipvs.Client.mock() as c:
...     web = ipvs.Service(protocol="tcp", address="192.0.2.1", port=80, scheduler="rr")
...     c.add_service(web)
...     c.add_destination(web, ipvs.Destination(address="198.51.100.1", port=80, forward="nat"))
...     [d.address for d in c.destinations(web)]
[IPv4Address('198.51.100.1')]
"""

from __future__ import annotations

import errno as _errno
import ipaddress
from dataclasses import dataclass, field, fields
from typing import Any, Dict, List, Optional, Tuple, Type, TypeVar, Union

from ._ipvs import NativeClient as _NativeClient

__all__ = [
    "Client",
    "Service",
    "Destination",
    "Stats",
    "Timeouts",
    "Daemon",
    "Info",
    "IpvsError",
    "Address",
]

Address = Union[str, ipaddress.IPv4Address, ipaddress.IPv6Address]
IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]


class IpvsError(OSError):
    """A kernel (or transport) error. ``errno`` is set; ``operation`` and ``target`` say which
    operation on which object failed. Also an instance of the matching builtin OSError
    subclass (FileExistsError for EEXIST, FileNotFoundError for ENOENT, ...)."""

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
    cls = _ERROR_CLASSES.get(errno, IpvsError)
    return cls(errno, message, operation, target)


def _address(value: Any, name: str) -> IPAddress:
    if isinstance(value, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return value
    if isinstance(value, str):
        try:
            return ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not an IP address") from None
    raise TypeError(f"{name}: expected str or ipaddress address, got {type(value).__name__}")


def _int(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name}: expected int, got {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name}: {value} must be in {low}..={high}")
    return value


def _choice(value: Any, name: str, choices: Tuple[str, ...]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}: expected str, got {type(value).__name__}")
    if value not in choices:
        raise ValueError(f"{name}: {value!r} must be one of {', '.join(map(repr, choices))}")
    return value


_M = TypeVar("_M", bound="_Model")


class _Model:
    """to_dict / from_dict for the dataclasses below."""

    def to_dict(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            v = getattr(self, f.name)
            if isinstance(v, _Model):
                v = v.to_dict()
            elif isinstance(v, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
                v = str(v)
            out[f.name] = v
        return out

    @classmethod
    def from_dict(cls: Type[_M], data: Dict[str, Any]) -> _M:
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{cls.__name__}: unknown keys {sorted(unknown)}")
        kwargs = dict(data)
        if isinstance(kwargs.get("stats"), dict):
            kwargs["stats"] = Stats(**kwargs["stats"])
        return cls(**kwargs)


@dataclass
class Stats(_Model):
    """Counters (since the service or destination was added, or last zeroed) and rates (per
    second, estimated by the kernel every 2 seconds)."""

    conns: int = 0
    in_packets: int = 0
    out_packets: int = 0
    in_bytes: int = 0
    out_bytes: int = 0
    cps: int = 0
    in_pps: int = 0
    out_pps: int = 0
    in_bps: int = 0
    out_bps: int = 0


_SCHEDULERS = ("rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh", "twos", "none")


@dataclass
class Service(_Model):
    """A virtual service: ``protocol`` + ``address`` + ``port``, or ``fwmark`` + ``family``.

    ``persistence`` is the persistence timeout in seconds (None: not persistent); ``netmask``
    groups clients for persistence (IPv4 netmask string, or IPv6 prefix length). ``flags``
    holds the other service flags as the kernel numbers them (4 one-packet, 8 sh/mh-fallback,
    16 sh/mh-port). Equality ignores ``stats``.
    """

    protocol: Optional[str] = None
    address: Optional[Address] = None
    port: int = 0
    fwmark: Optional[int] = None
    family: Optional[str] = None
    scheduler: str = "wlc"
    persistence: Optional[int] = None
    netmask: Optional[Union[str, int]] = None
    persistence_engine: Optional[str] = None
    flags: int = 0
    stats: Stats = field(default_factory=Stats, compare=False)

    def __post_init__(self) -> None:
        if self.fwmark is not None:
            _int(self.fwmark, "fwmark", 1, 2**32 - 1)
            if self.protocol is not None or self.address is not None:
                raise ValueError("a firewall-mark service has no protocol or address")
            self.family = _choice(self.family if self.family is not None else "inet", "family", ("inet", "inet6"))
        else:
            if self.protocol is None or self.address is None:
                raise ValueError("a service needs protocol and address, or fwmark")
            _choice(self.protocol, "protocol", ("tcp", "udp", "sctp"))
            self.address = _address(self.address, "address")
            fam = "inet" if self.address.version == 4 else "inet6"
            if self.family is not None and self.family != fam:
                raise ValueError(f"family: {self.family!r} does not match address {self.address}")
            self.family = fam
        _int(self.port, "port", 0, 65535)
        if not isinstance(self.scheduler, str):
            raise TypeError(f"scheduler: expected str, got {type(self.scheduler).__name__}")
        if self.persistence is not None:
            _int(self.persistence, "persistence", 1, 2**32 - 1)
            if self.netmask is None:
                self.netmask = "255.255.255.255" if self.family == "inet" else 128
        if self.netmask is not None and not isinstance(self.netmask, (str, int)):
            raise TypeError(f"netmask: expected str or int, got {type(self.netmask).__name__}")
        _int(self.flags, "flags", 0, 2**32 - 1)
        if not isinstance(self.stats, Stats):
            raise TypeError(f"stats: expected Stats, got {type(self.stats).__name__}")


@dataclass
class Destination(_Model):
    """A real server of a service. ``forward``: "nat" | "dr" | "tunnel" | "local" | "bypass";
    for tunnels ``tunnel_type`` "ipip" | "gue" | "gre", ``tunnel_port`` (gue) and
    ``tunnel_checksum`` "nocsum" | "csum" | "remcsum". Connection counts and ``stats`` are
    read-only, and equality ignores them."""

    address: Address
    port: int = 0
    forward: str = "dr"
    weight: int = 1
    upper_threshold: int = 0
    lower_threshold: int = 0
    tunnel_type: Optional[str] = None
    tunnel_port: int = 0
    tunnel_checksum: Optional[str] = None
    active_conns: int = field(default=0, compare=False)
    inactive_conns: int = field(default=0, compare=False)
    persistent_conns: int = field(default=0, compare=False)
    stats: Stats = field(default_factory=Stats, compare=False)

    def __post_init__(self) -> None:
        self.address = _address(self.address, "address")
        _int(self.port, "port", 0, 65535)
        _choice(self.forward, "forward", ("nat", "dr", "tunnel", "local", "bypass"))
        _int(self.weight, "weight", 0, 2**31 - 1)
        _int(self.upper_threshold, "upper_threshold", 0, 2**32 - 1)
        _int(self.lower_threshold, "lower_threshold", 0, 2**32 - 1)
        if self.forward == "tunnel":
            self.tunnel_type = _choice(self.tunnel_type or "ipip", "tunnel_type", ("ipip", "gue", "gre"))
        elif self.tunnel_type is not None:
            raise ValueError(f"tunnel_type: {self.tunnel_type!r} needs forward='tunnel'")
        _int(self.tunnel_port, "tunnel_port", 0, 65535)
        if self.tunnel_checksum is not None:
            _choice(self.tunnel_checksum, "tunnel_checksum", ("nocsum", "csum", "remcsum"))


@dataclass
class Timeouts(_Model):
    """Connection timeouts in seconds; 0 in ``set_timeouts`` keeps the current value."""

    tcp: int = 0
    tcp_fin: int = 0
    udp: int = 0

    def __post_init__(self) -> None:
        for name in ("tcp", "tcp_fin", "udp"):
            _int(getattr(self, name), name, 0, 2147483)


@dataclass
class Daemon(_Model):
    """A connection-sync daemon: ``state`` "master" | "backup", on ``interface``."""

    state: str
    interface: str
    sync_id: int = 0
    max_len: Optional[int] = None
    group: Optional[Address] = None
    port: Optional[int] = None
    ttl: Optional[int] = None

    def __post_init__(self) -> None:
        _choice(self.state, "state", ("master", "backup"))
        if not isinstance(self.interface, str):
            raise TypeError(f"interface: expected str, got {type(self.interface).__name__}")
        _int(self.sync_id, "sync_id", 0, 255)
        if self.group is not None:
            self.group = _address(self.group, "group")


@dataclass(frozen=True)
class Info(_Model):
    """The kernel's IPVS version and connection table size."""

    version: str
    version_code: int
    conn_table_size: int


class Client:
    """An IPVS client: ``Client()`` for the kernel in the current network namespace,
    ``Client(netns="/run/netns/NAME")`` for another one, ``Client.mock()`` for the in-memory
    kernel model. Calls release the GIL while they talk to the kernel."""

    def __init__(self, netns: Optional[str] = None, *, _native: Optional[_NativeClient] = None) -> None:
        self._native = _native if _native is not None else _NativeClient(netns)

    @classmethod
    def mock(cls, interfaces: Optional[List[str]] = None) -> "Client":
        """A client of the in-memory kernel model (no root, no IPVS needed). ``interfaces``:
        the network interfaces sync daemons may use (default ``["lo"]``)."""
        return cls(_native=_NativeClient.mock(interfaces))

    @property
    def is_mock(self) -> bool:
        return bool(self._native.is_mock)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def __repr__(self) -> str:
        return "ipvs.Client.mock()" if self.is_mock else "ipvs.Client()"

    def add_service(self, service: Service) -> None:
        self._native.add_service(_check(service, Service))

    def update_service(self, service: Service) -> None:
        self._native.update_service(_check(service, Service))

    def delete_service(self, service: Service) -> None:
        self._native.delete_service(_check(service, Service))

    def service(self, service: Service) -> Service:
        """The service with the identity of ``service``, as the kernel has it."""
        return Service.from_dict(self._native.service(_check(service, Service)))

    def services(self) -> List[Service]:
        return [Service.from_dict(d) for d in self._native.services()]

    def add_destination(self, service: Service, destination: Destination) -> None:
        self._native.add_destination(_check(service, Service), _check(destination, Destination))

    def update_destination(self, service: Service, destination: Destination) -> None:
        self._native.update_destination(_check(service, Service), _check(destination, Destination))

    def delete_destination(self, service: Service, destination: Destination) -> None:
        self._native.delete_destination(_check(service, Service), _check(destination, Destination))

    def destinations(self, service: Service) -> List[Destination]:
        return [Destination.from_dict(d) for d in self._native.destinations(_check(service, Service))]

    def flush(self) -> None:
        self._native.flush()

    def zero(self, service: Optional[Service] = None) -> None:
        """Zeroes the statistics of one service, or of every service when None."""
        self._native.zero(None if service is None else _check(service, Service))

    def timeouts(self) -> Timeouts:
        tcp, tcp_fin, udp = self._native.timeouts()
        return Timeouts(tcp, tcp_fin, udp)

    def set_timeouts(self, timeouts: Timeouts) -> None:
        self._native.set_timeouts(_check(timeouts, Timeouts))

    def daemons(self) -> List[Daemon]:
        return [Daemon.from_dict(d) for d in self._native.daemons()]

    def start_daemon(self, daemon: Daemon) -> None:
        self._native.start_daemon(_check(daemon, Daemon))

    def stop_daemon(self, state: str) -> None:
        self._native.stop_daemon(_choice(state, "state", ("master", "backup")))

    def info(self) -> Info:
        version, code, size = self._native.info()
        return Info(version, code, size)


def _check(value: Any, cls: type) -> Any:
    if not isinstance(value, cls):
        raise TypeError(f"expected ipvs.{cls.__name__}, got {type(value).__name__}")
    return value
