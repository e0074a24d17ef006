"""Fault injection and request counters for the simulated API server.

Rules match requests by Kubernetes verb (get, list, watch, create, update, patch, delete,
deletecollection) and resource (``pods``, ``pods/status``, ...), ``*`` matching anything.
A matching rule can add latency, answer 500/503 at a rate, throttle with 429 + Retry-After
at a rate, or cut watch streams after some seconds. Randomness comes from a seeded RNG so a
test run is reproducible.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from . import errors
from .errors import ApiError

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


@dataclass
class FaultRule:
    """What to do to matching requests. ``times`` limits how many requests it matches."""

    verb: str = "*"
    resource: str = "*"
    latency: float = 0.0
    error_rate: float = 0.0
    error_code: int = 500
    throttle_rate: float = 0.0
    retry_after: int = 1
    drop_watch_after: float | None = None
    times: int | None = None
    matched: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.error_code not in (500, 503):
            raise ValueError("error_code must be 500 or 503")
        for name in ("error_rate", "throttle_rate"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")

    def applies_to(self, verb: str, resource: str) -> bool:
        if self.times is not None and self.matched >= self.times:
            return False
        return self.verb in ("*", verb) and self.resource in ("*", resource)


@dataclass
class Fault:
    """The faults decided for one request."""

    latency: float = 0.0
    error: ApiError | None = None
    drop_watch_after: float | None = None


class FaultInjector:
    """An ordered list of rules; every matching rule contributes to a request's Fault."""

    def __init__(self, seed: int | None = None) -> None:
        self.rules: list[FaultRule] = []
        self._rng = random.Random(seed)
        #: errors answered instead of the request, by HTTP status (500, 503, 429)
        self.injected: Counter[int] = Counter()
        #: watch streams cut by a rule's ``drop_watch_after`` (the client saw the connection end)
        self.watches_cut = 0

    def add(self, rule: FaultRule | None = None, /, **options: object) -> FaultRule:
        """Add a rule (given, or built from keyword options) and return it."""
        new = rule if rule is not None else FaultRule(**options)  # type: ignore[arg-type]
        self.rules.append(new)
        return new

    def remove(self, rule: FaultRule) -> None:
        self.rules.remove(rule)

    def clear(self) -> None:
        self.rules.clear()

    def _error(self, rule: FaultRule) -> ApiError | None:
        if rule.throttle_rate and self._rng.random() < rule.throttle_rate:
            return errors.too_many_requests(rule.retry_after)
        if rule.error_rate and self._rng.random() < rule.error_rate:
            if rule.error_code == 503:
                return errors.service_unavailable()
            return errors.internal_error("injected fault")
        return None

    def decide(self, verb: str, resource: str) -> Fault:
        fault = Fault()
        for rule in self.rules:
            if not rule.applies_to(verb, resource):
                continue
            rule.matched += 1
            fault.latency += rule.latency
            if fault.error is None:
                fault.error = self._error(rule)
                if fault.error is not None:
                    self.injected[fault.error.code] += 1
            if rule.drop_watch_after is not None and verb == "watch":
                current = fault.drop_watch_after
                fault.drop_watch_after = (
                    rule.drop_watch_after
                    if current is None
                    else min(current, rule.drop_watch_after)
                )
        return fault


class RequestCounters:
    """Requests received per (verb, resource), including those answered by an injected fault,
    and per shape of answer asked for: whole objects (None) or metadata only
    (``PartialObjectMetadata``, ``PartialObjectMetadataList``; see `partialmeta`)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._shapes: Counter[tuple[str, str, str | None]] = Counter()

    def record(self, verb: str, resource: str, *, shape: str | None = None) -> None:
        self._counts[(verb, resource)] += 1
        self._shapes[(verb, resource, shape)] += 1

    def get(self, verb: str, resource: str) -> int:
        return self._counts[(verb, resource)]

    def shaped(self, verb: str, resource: str, shape: str | None) -> int:
        """Requests of ``verb`` on ``resource`` that asked for answers of ``shape`` (None:
        whole objects, e.g. a Secret with its data)."""
        return self._shapes[(verb, resource, shape)]

    def total(self, *, verb: str | None = None, resource: str | None = None) -> int:
        return sum(
            n
            for (v, r), n in self._counts.items()
            if (verb is None or v == verb) and (resource is None or r == resource)
        )

    def snapshot(self) -> dict[tuple[str, str], int]:
        return dict(self._counts)

    def reset(self) -> None:
        self._counts.clear()
        self._shapes.clear()
