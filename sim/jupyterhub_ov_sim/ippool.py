"""Loopback addresses for simulated pods: 127.0.0.2, 127.0.0.3, ... (all of 127/8 is loopback).

Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import ipaddress
import random

FIRST = int(ipaddress.IPv4Address("127.0.0.2"))
LAST = int(ipaddress.IPv4Address("127.255.255.254"))


class IPPool:
    """Hands out addresses in order, skipping ones in use and network/broadcast-looking ones.

    Addresses are not reused until the pool wraps around, so a restarted pod never meets
    a lingering socket of its predecessor. Without ``first``, each pool starts at a random
    127.X.Y.2, so two simulators on one machine (a dry run beside a test run) do not hand
    their pods the same address and port.
    """

    def __init__(self, first: str | None = None) -> None:
        if first is None:
            first = f"127.{random.randint(1, 254)}.{random.randint(0, 255)}.2"
        self._next = int(ipaddress.IPv4Address(first))
        self.in_use: set[str] = set()

    def allocate(self) -> str:
        for _ in range(LAST - FIRST + 1):
            candidate = self._next
            self._next = FIRST if self._next >= LAST else self._next + 1
            address = str(ipaddress.IPv4Address(candidate))
            if candidate & 0xFF in (0, 255) or address in self.in_use:
                continue
            self.in_use.add(address)
            return address
        raise RuntimeError("no loopback address left for another pod")

    def release(self, address: str) -> None:
        self.in_use.discard(address)
