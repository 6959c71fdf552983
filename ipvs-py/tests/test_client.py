"""The Python API, run on the mock everywhere and on the real kernel in the lab."""

from __future__ import annotations

import errno
import ipaddress
import threading
from typing import Any

import pytest

import ipvs
from conftest import ON_KERNEL

VIP = "192.0.2.1"


def web(**kw: Any) -> ipvs.Service:
    args: dict[str, Any] = dict(protocol="tcp", address=VIP, port=80, scheduler="rr")
    args.update(kw)
    return ipvs.Service(**args)


def test_services_round_trip(client: ipvs.Client) -> None:
    svc = web(scheduler="wrr")
    client.add_service(svc)
    assert [s.service for s in client.services()] == [svc]
    status = client.service(web())
    got = status.service
    # Configuration compares as configuration: what the kernel reports is apart.
    assert got == svc and got.scheduler == "wrr" and got.family == "inet"
    assert isinstance(status.stats, ipvs.Stats) and status.stats.conns == 0
    client.update_service(web(scheduler="sh", persistence=600, netmask="255.255.255.0", flags=0x18))
    got = client.service(web()).service
    assert (got.scheduler, got.persistence, got.netmask, got.flags) == ("sh", 600, "255.255.255.0", 0x18)
    client.delete_service(web())
    assert client.services() == []


def test_ipv6_fwmark_and_udp_services(client: ipvs.Client) -> None:
    v6 = ipvs.Service(protocol="udp", address=ipaddress.ip_address("2001:db8::1"), port=53, scheduler="mh", flags=4)
    fwm = ipvs.Service(fwmark=7, family="inet6", scheduler="lc", persistence=30, netmask=64)
    sip = ipvs.Service(protocol="udp", address="192.0.2.5", port=5060, scheduler="rr", persistence=30,
                       persistence_engine="sip")
    for s in (v6, fwm, sip):
        client.add_service(s)
    assert sorted((s.service for s in client.services()), key=repr) == sorted([v6, fwm, sip], key=repr)
    assert client.service(fwm).service.netmask == 64
    assert client.service(sip).service.persistence_engine == "sip"


def test_destinations_every_forwarding_method(client: ipvs.Client) -> None:
    svc = web()
    client.add_service(svc)
    dests = [
        ipvs.Destination(address="198.51.100.1", port=80, forward="nat", weight=3),
        ipvs.Destination(address="198.51.100.2", port=80, forward="dr", upper_threshold=100, lower_threshold=10),
        ipvs.Destination(address="198.51.100.3", port=80, forward="tunnel"),
        ipvs.Destination(address="198.51.100.4", port=80, forward="tunnel", tunnel_type="gue", tunnel_port=6080,
                         tunnel_checksum="csum"),
        ipvs.Destination(address="198.51.100.5", port=80, forward="tunnel", tunnel_type="gre",
                         tunnel_checksum="nocsum"),
    ]
    client.add_destination(svc, dests[0])
    client.add_destinations(svc, dests[1:])
    statuses = sorted(client.destinations(svc), key=lambda d: d.destination.address)
    assert [d.destination for d in statuses] == dests
    assert statuses[0].destination.weight == 3 and statuses[0].active_conns == 0
    drained = ipvs.Destination(address="198.51.100.1", port=80, forward="nat", weight=0)
    client.update_destination(svc, drained)
    weights = {str(d.destination.address): d.destination.weight for d in client.destinations(svc)}
    assert weights["198.51.100.1"] == 0
    client.delete_destination(svc, drained)
    assert len(client.destinations(svc)) == 4


def test_errors_carry_errno_and_builtin_class(client: ipvs.Client) -> None:
    client.add_service(web())
    with pytest.raises(FileExistsError) as e:
        client.add_service(web())
    assert isinstance(e.value, ipvs.IpvsError) and isinstance(e.value, OSError)
    assert e.value.errno == errno.EEXIST and e.value.operation == "add_service"
    with pytest.raises(ProcessLookupError) as e2:
        client.delete_service(web(port=81))
    assert e2.value.errno == errno.ESRCH
    with pytest.raises(ipvs.IpvsError) as e3:
        client.add_service(web(port=82, scheduler="no-such"))
    assert e3.value.errno == errno.ENOENT and isinstance(e3.value, FileNotFoundError)


def test_bad_arguments_raise_before_anything_is_sent(client: ipvs.Client) -> None:
    with pytest.raises(ValueError, match="address"):
        ipvs.Service(protocol="tcp", address="not-an-ip", port=80)
    with pytest.raises(ValueError, match="protocol"):
        ipvs.Service(protocol="icmp", address=VIP, port=80)
    with pytest.raises(TypeError, match="port"):
        ipvs.Service(protocol="tcp", address=VIP, port="80")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="port"):
        ipvs.Service(protocol="tcp", address=VIP, port=70000)
    with pytest.raises(ValueError, match="forward"):
        ipvs.Destination(address="198.51.100.1", forward="carrier-pigeon")
    with pytest.raises(ValueError, match="weight"):
        ipvs.Destination(address="198.51.100.1", weight=-1)
    with pytest.raises(TypeError):
        client.add_service("192.0.2.1:80")  # type: ignore[arg-type]
    # Checks only the library can make (they need the whole model) are ValueErrors too.
    with pytest.raises(ValueError, match="scheduler"):
        client.add_service(web(scheduler="a-name-longer-than-15"))
    with pytest.raises(ValueError, match="one-packet|ONE_PACKET|flags"):
        client.add_service(web(flags=4))
    assert client.services() == []


def test_timeouts_zero_flush_info(client: ipvs.Client) -> None:
    client.set_timeouts(ipvs.Timeouts(tcp=900, tcp_fin=120, udp=300))
    assert client.timeouts() == ipvs.Timeouts(900, 120, 300)
    client.set_timeouts(ipvs.Timeouts(tcp=0, tcp_fin=0, udp=60))
    assert client.timeouts() == ipvs.Timeouts(900, 120, 60)
    client.add_service(web())
    client.zero(web())
    client.zero()
    client.flush()
    assert client.services() == []
    info = client.info()
    assert info.version.count(".") == 2 and info.conn_table_size > 0


def test_sync_daemons(client: ipvs.Client) -> None:
    client.start_daemon(ipvs.Daemon(state="master", interface="dummy0", sync_id=7))
    client.start_daemon(ipvs.Daemon(state="backup", interface="dummy0", sync_id=7))
    states = sorted(d.state for d in client.daemons())
    assert states == ["backup", "master"]
    master = [d for d in client.daemons() if d.state == "master"][0]
    assert (master.interface, master.sync_id) == ("dummy0", 7)
    client.stop_daemon("master")
    client.stop_daemon("backup")
    assert client.daemons() == []


def test_model_dicts_repr_and_eq() -> None:
    s = ipvs.Service(fwmark=1, family="inet6")
    assert ipvs.Service.from_dict(s.to_dict()) == s
    assert "fwmark=1" in repr(s)
    assert s.scheduler == "wlc"  # the library's default
    d = ipvs.Destination(address="198.51.100.1", port=80, forward="nat", weight=3)
    assert d.to_dict()["address"] == "198.51.100.1"
    assert ipvs.Destination.from_dict(d.to_dict()) == d
    assert ipvs.Destination(address="198.51.100.1").forward == "dr"  # the library's default
    assert len({d, ipvs.Destination.from_dict(d.to_dict())}) == 1
    with pytest.raises(ValueError, match="unknown keys"):
        ipvs.Destination.from_dict({"address": "198.51.100.1", "colour": "red"})
    st = ipvs.ServiceStatus(s, ipvs.Stats(conns=5))
    assert ipvs.ServiceStatus.from_dict(st.to_dict()) == st
    ds = ipvs.DestinationStatus(d, active_conns=2, stats=ipvs.Stats(in_bytes=7))
    assert ipvs.DestinationStatus.from_dict(ds.to_dict()) == ds
    assert ds.to_dict()["destination"]["forward"] == "nat"


def test_calls_release_the_gil(client: ipvs.Client) -> None:
    # Other Python threads run while calls are in flight: four threads adding disjoint
    # services all finish, and the table has them all.
    def add(n: int) -> None:
        for p in range(1, 51):
            client.add_service(ipvs.Service(protocol="tcp", address=f"192.0.2.{n}", port=p, scheduler="rr"))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(client.services()) == 200


def test_unknown_namespace_is_an_os_error() -> None:
    with pytest.raises(FileNotFoundError):
        ipvs.Client(netns="/no/such/netns")
