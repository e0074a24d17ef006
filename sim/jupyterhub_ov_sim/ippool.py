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
    """Hands out pod addresses in order, skipping ones in use, network/broadcast-looking
    ones and the Service network.

    Addresses are not reused until the pool wraps around, so a restarted pod never meets
    a lingering socket of its predecessor. Without ``first``, each pool starts at a random
    127.X.Y.2, so two simulators on one machine (a dry run beside a test run) do not hand
    their pods the same address and port.
    """

    low, high = FIRST, LAST
    exhausted = "no loopback address left for another pod"

    def __init__(self, first: str | None = None) -> None:
        self._next = int(ipaddress.IPv4Address(first or self.random_first()))
        self.in_use: set[str] = set()

    @staticmethod
    def random_first() -> str:
        return f"127.{random.choice(_POD_SECOND_OCTETS)}.{random.randint(0, 255)}.2"

    def usable(self, candidate: int) -> bool:
        return ipaddress.IPv4Address(candidate) not in SERVICE_NETWORK

    def allocate(self) -> str:
        for _ in range(self.high - self.low + 1):
            candidate = self._next
            self._next = self.low if self._next >= self.high else self._next + 1
            address = str(ipaddress.IPv4Address(candidate))
            if candidate & 0xFF in (0, 255) or address in self.in_use:
                continue
            if self.usable(candidate):
                self.in_use.add(address)
                return address
        raise RuntimeError(self.exhausted)

    def reserve(self, address: str) -> None:
        self.in_use.add(address)

    def release(self, address: str) -> None:
        self.in_use.discard(address)


_POD_SECOND_OCTETS = [n for n in range(1, 255) if n != SERVICE_NETWORK[0].packed[1]]


class ServiceIPPool(IPPool):
    """Cluster IPs of Services: 127.96.X.1, 127.96.X.2, ... from a random X, never reused
    while in use. The random start keeps two simulators on one machine apart."""

    low, high = int(SERVICE_NETWORK[1]), int(SERVICE_NETWORK[-2])
    exhausted = "the Service network has no address left"

    @staticmethod
    def random_first() -> str:
        return f"127.96.{random.randint(0, 255)}.1"

    def usable(self, candidate: int) -> bool:
        return True
