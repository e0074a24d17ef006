"""What a steady mixed load saw, per route: latencies and errors (pure: no I/O)."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field


def quantile(values: list[float], q: float) -> float:
    """The nearest-rank quantile (p99 of 50 samples is the largest): never interpolated
    below a value that was really seen."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass
class Load:
    """Every request of a run: ``record`` each answer, ``error`` each failure with why."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[tuple[str, str]] = field(default_factory=list)

    def record(self, route: str, seconds: float, status: int, expected: tuple[int, ...]) -> bool:
        """One answer; an unexpected status (any 5xx among them) is an error. True if fine."""
        self.latencies[route].append(seconds)
        if status not in expected:
            self.error(route, f"status {status}, expected {'/'.join(map(str, expected))}")
            return False
        return True

    def error(self, route: str, why: str) -> None:
        self.errors.append((route, why))

    def server_errors(self) -> int:
        return sum(1 for _, why in self.errors if why.startswith("status 5"))

    def p99_ms(self) -> dict[str, float]:
        return {r: 1000 * quantile(v, 0.99) for r, v in sorted(self.latencies.items()) if v}

    def counts(self) -> dict[str, int]:
        return {r: len(v) for r, v in sorted(self.latencies.items())}
