"""Hostile input to the bindings: every bad value is a TypeError or ValueError naming the
field, never an OverflowError, a hang or a silent change."""

from __future__ import annotations

import os
import tempfile
import time
from typing import Any, Callable

import pytest

import ipvs


@pytest.mark.parametrize(
    "build,field",
    [
        (lambda: ipvs.Stats(conns=-1), "conns"),
        (lambda: ipvs.Stats(conns=2**64), "conns"),
        (lambda: ipvs.Stats(out_bps=10**40), "out_bps"),
        (lambda: ipvs.Info(-1, 0), "version_code"),
        (lambda: ipvs.Info(0, 2**32), "conn_table_size"),
        (lambda: ipvs.Service(protocol="tcp", address="192.0.2.1", port=2**70), "port"),
        (lambda: ipvs.Service.from_dict({"fwmark": -1}), "fwmark"),
        (lambda: ipvs.ServiceStatus.from_dict({"service": {"fwmark": 1}, "stats": {"conns": -1}}), "conns"),
        (lambda: ipvs.DestinationStatus(ipvs.Destination("198.51.100.1"), active_conns=-1), "active_conns"),
    ],
)
def test_out_of_range_integers_are_value_errors(build: Callable[[], Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        build()


def test_bools_are_not_integers() -> None:
    with pytest.raises(TypeError, match="conns"):
        ipvs.Stats(conns=True)
    with pytest.raises(TypeError, match="weight"):
        ipvs.Destination("198.51.100.1", weight=False)


def test_ranges_are_the_kernels() -> None:
    tcp = dict(protocol="tcp", address="192.0.2.1", port=80)
    with pytest.raises(ValueError, match="persistence"):
        ipvs.Service(**tcp, persistence=0)  # type: ignore[arg-type]
    # The kernel keeps timeout * HZ in 32 bits: 17179869 s is the longest it can hold.
    ipvs.Service(**tcp, persistence=17179869)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="persistence"):
        ipvs.Service(**tcp, persistence=17179870)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_len"):
        ipvs.Daemon("master", "lo", max_len=0)
    with pytest.raises(ValueError, match="port"):
        ipvs.Daemon("master", "lo", port=0)
    with pytest.raises(ValueError, match="ttl"):
        ipvs.Daemon("master", "lo", ttl=0)
    with pytest.raises(ValueError, match="tcp"):
        ipvs.Timeouts(tcp=2**31)
    with pytest.raises(ValueError, match="flags"):
        ipvs.Service(**tcp, flags=1)  # type: ignore[arg-type]


def test_namespace_paths_never_hang_and_name_the_field() -> None:
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "fifo")
        os.mkfifo(fifo)
        start = time.monotonic()
        with pytest.raises(ValueError, match="netns"):
            ipvs.Client(netns=fifo)
        assert time.monotonic() - start < 5
    with pytest.raises(ValueError, match="netns"):
        ipvs.Client(netns="a\0b")
    with pytest.raises(ValueError, match="netns"):
        ipvs.Client(netns="/run/netns/\ud800")
    with pytest.raises(ValueError, match="netns"):
        ipvs.Client(netns="/etc/hostname")
    with pytest.raises(ValueError, match="scheduler"):
        ipvs.Service(protocol="tcp", address="192.0.2.1", port=80, scheduler="\ud800")


def test_a_closed_client_says_so() -> None:
    c = ipvs.Client.mock()
    with c:
        c.add_service(ipvs.Service(protocol="tcp", address="192.0.2.1", port=80))
    assert c.closed
    with pytest.raises(ValueError, match="closed"):
        c.services()
    c.close()  # twice is fine
    c2 = ipvs.Client.mock()
    c2.close()
    with pytest.raises(ValueError, match="closed"):
        c2.info()


def test_close_releases_the_sockets() -> None:
    """On the kernel (the lab), a client's netlink sockets are gone once it is closed."""
    on_kernel = os.environ.get("IPVS_TEST_TARGET") == "kernel"

    def fds() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = fds()
    c = ipvs.Client() if on_kernel else ipvs.Client.mock()
    c.services()
    opened = fds()
    if on_kernel:
        assert opened > before
    c.close()
    assert fds() == before


def test_destination_edits_follow_the_forwarding_method() -> None:
    gue = ipvs.Destination("198.51.100.1", port=80, forward="tunnel", tunnel_type="gue", tunnel_port=6080,
                           tunnel_checksum="csum")
    nat = gue.replace(forward="nat")
    assert (nat.forward, nat.tunnel_type, nat.tunnel_port, nat.tunnel_checksum) == ("nat", None, None, None)
    gre = gue.replace(tunnel_type="gre")
    assert (gre.tunnel_type, gre.tunnel_port, gre.tunnel_checksum) == ("gre", None, "csum")
    # Fields that do not apply are refused, not dropped.
    with pytest.raises(ValueError, match="tunnel_port"):
        ipvs.Destination("198.51.100.1", forward="tunnel", tunnel_type="gre", tunnel_port=6080)
    with pytest.raises(ValueError, match="tunnel_checksum"):
        ipvs.Destination("198.51.100.1", forward="tunnel", tunnel_checksum="csum")
    with pytest.raises(ValueError, match="tunnel_checksum"):
        ipvs.Destination("198.51.100.1", forward="nat", tunnel_checksum="csum")
    with pytest.raises(ValueError, match="tunnel_port"):
        ipvs.Destination("198.51.100.1", forward="dr", tunnel_port=1)


def test_v4_mapped_destinations_are_refused_before_sending() -> None:
    with pytest.raises(ValueError, match="address"):
        ipvs.Destination("::ffff:198.51.100.1", port=80)
