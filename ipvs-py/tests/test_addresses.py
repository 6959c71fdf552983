"""One address rule in every front-end: a v4-mapped IPv6 address is refused for a service as it
is for a destination, a zoned IPv6 address (`fe80::1%eth0`) is refused rather than its zone
dropped, and a desired-state table is read only from an object."""

from __future__ import annotations

from ipaddress import IPv6Address
from typing import Any, Callable

import pytest

import ipvs


@pytest.mark.parametrize(
    "build",
    [
        lambda: ipvs.Service(protocol="tcp", address=IPv6Address("fe80::1%eth0"), port=80),
        lambda: ipvs.Service(protocol="udp", address=IPv6Address("2001:db8::1%1"), port=53),
        lambda: ipvs.Destination(IPv6Address("2001:db8::2%eth0"), port=80),
        lambda: ipvs.Service(protocol="tcp", address="fe80::1%eth0", port=80),
        lambda: ipvs.Destination("2001:db8::2%eth0", port=80),
        lambda: ipvs.Table.from_dict(
            {"services": [{"protocol": "tcp", "address": IPv6Address("2001:db8::1%eth0"), "port": 80}]}
        ),
    ],
)
def test_a_zoned_ipv6_address_is_refused_naming_the_field(build: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match="address") as e:
        build()
    assert "zone" in str(e.value) or "not an IP address" in str(e.value) or "invalid" in str(e.value)


def test_a_zoned_ipaddress_object_is_refused_not_its_zone_dropped() -> None:
    for build in (
        lambda: ipvs.Service(protocol="tcp", address=IPv6Address("2001:db8::1%eth0"), port=80),
        lambda: ipvs.Destination(IPv6Address("2001:db8::2%eth0"), port=80),
    ):
        with pytest.raises(ValueError, match=r"^address: .*zone"):
            build()
    # Without a zone the same address is taken.
    assert ipvs.Service(protocol="tcp", address=IPv6Address("2001:db8::1"), port=80).address == IPv6Address(
        "2001:db8::1"
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: ipvs.Service(protocol="tcp", address="::ffff:192.0.2.1", port=80),
        lambda: ipvs.Service(protocol="tcp", address=IPv6Address("::ffff:192.0.2.1"), port=80),
        lambda: ipvs.Service.from_dict({"protocol": "tcp", "address": "::ffff:192.0.2.1", "port": 80}),
        lambda: ipvs.Table.from_toml('[[services]]\nprotocol = "tcp"\naddress = "::ffff:192.0.2.1"\nport = 80\n'),
        lambda: ipvs.Table.from_rules("-A -t [::ffff:192.0.2.1]:80 -s rr\n"),
        lambda: ipvs.Destination("::ffff:198.51.100.1", port=80),
    ],
)
def test_a_v4_mapped_address_is_refused_for_services_as_for_destinations(build: Callable[[], Any]) -> None:
    with pytest.raises(ValueError, match="address") as e:
        build()
    assert "v4-mapped" in str(e.value)


@pytest.mark.parametrize("text", ["[]", "1", '"x"', "null", '{"services": [["tcp", "192.0.2.1", 80]]}'])
def test_a_table_is_read_only_from_an_object(text: str) -> None:
    with pytest.raises(ValueError, match="expected an object"):
        ipvs.Table.from_json(text)


def test_nested_lists_in_a_dict_are_not_taken_for_objects() -> None:
    with pytest.raises(ValueError, match=r"services\[0\]: .*expected an object"):
        ipvs.Table.from_dict({"services": [["tcp", "192.0.2.1", 80]]})
    with pytest.raises(ValueError, match=r"timeouts: .*expected an object"):
        ipvs.Table.from_dict({"timeouts": [900, 120, 300]})
