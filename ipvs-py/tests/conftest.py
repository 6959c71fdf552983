"""The client fixture: the in-memory model, or with IPVS_TEST_TARGET=kernel (in the lab, as
root) a kernel client in a fresh network namespace per test."""

from __future__ import annotations

import os
import subprocess
import uuid
from typing import Iterator

import pytest

import ipvs

ON_KERNEL = os.environ.get("IPVS_TEST_TARGET") == "kernel"


@pytest.fixture
def client() -> Iterator[ipvs.Client]:
    if not ON_KERNEL:
        with ipvs.Client.mock(interfaces=["lo", "dummy0"]) as c:
            yield c
        return
    name = "pyt-" + uuid.uuid4().hex[:8]
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        # With the loopback down the kernel refuses every IPv4 destination (EINVAL).
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "-n", name, "link", "add", "dummy0", "type", "dummy"], check=True)
        subprocess.run(["ip", "-n", name, "link", "set", "dummy0", "up", "multicast", "on"], check=True)
        with ipvs.Client(netns=f"/run/netns/{name}") as c:
            yield c
    finally:
        subprocess.run(["ip", "netns", "del", name], check=True)
