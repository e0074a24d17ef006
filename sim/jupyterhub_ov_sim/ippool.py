"""Loopback addresses for simulated pods (127.X.Y.2, 127.X.Y.3, ...) and Services (127.96/16).

All of 127/8 is loopback, so every address here is connectable on this machine. Pods never
get one of the Service network (``SERVICE_NETWORK``, in the spirit of 10.96.0.0/12), so a
Service's forwarder on ``<clusterIP>:<port>`` never meets a pod's server.

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import ipaddress
import random

FIRST = int(ipaddress.IPv4Address("127.0.0.2"))
LAST = int(ipaddress.IPv4Address("127.255.255.254"))
SERVICE_NETWORK = ipaddress.IPv4Network("127.96.0.0/16")


class IPPool:
    """Hands out addresses in order, skipping ones in use and network/broadcast-looking ones.

    Addresses are not reused until the pool wraps around, so a restarted pod never meets
    a lingering socket of its predecessor. Without ``first``, each pool starts at a random
    127.X.Y.2, so two simulators on one machine (a dry run beside a test run) do not hand
    their pods the same address and port.
    """

    def __init__(self, first: str | None = None) -> None:
        if first is None:
            first = f"127.{random.choice(_POD_SECOND_OCTETS)}.{random.randint(0, 255)}.2"
        self._next = int(ipaddress.IPv4Address(first))
        self.in_use: set[str] = set()

    def allocate(self) -> str:
        for _ in range(LAST - FIRST + 1):
            candidate = self._next
            self._next = FIRST if self._next >= LAST else self._next + 1
            address = str(ipaddress.IPv4Address(candidate))
            if candidate & 0xFF in (0, 255) or address in self.in_use:
                continue
            if ipaddress.IPv4Address(candidate) in SERVICE_NETWORK:
                continue
            self.in_use.add(address)
            return address
        raise RuntimeError("no loopback address left for another pod")

    def release(self, address: str) -> None:
        self.in_use.discard(address)


_POD_SECOND_OCTETS = [n for n in range(1, 255) if n != SERVICE_NETWORK[0].packed[1]]


class ServiceIPPool:
    """Cluster IPs of Services: 127.96.X.1, 127.96.X.2, ... from a random X, never reused
    while in use. The random start keeps two simulators on one machine apart."""

    def __init__(self, first: str | None = None) -> None:
        if first is None:
            first = f"127.96.{random.randint(0, 255)}.1"
        self._next = int(ipaddress.IPv4Address(first))
        self._first = int(SERVICE_NETWORK[1])
        self._last = int(SERVICE_NETWORK[-2])
        self.in_use: set[str] = set()

    def allocate(self) -> str:
        for _ in range(self._last - self._first + 1):
            candidate = self._next
            self._next = self._first if self._next >= self._last else self._next + 1
            address = str(ipaddress.IPv4Address(candidate))
            if candidate & 0xFF in (0, 255) or address in self.in_use:
                continue
            self.in_use.add(address)
            return address
        raise RuntimeError("the Service network has no address left")

    def reserve(self, address: str) -> None:
        self.in_use.add(address)

    def release(self, address: str) -> None:
        self.in_use.discard(address)
