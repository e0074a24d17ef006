"""The hypothesis settings the campaign's fuzzers share (`fuzzing`, `formfuzz`)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings


def quiet(examples: int, derandomize: bool, **more: Any) -> settings:
    """``examples`` cases, no deadline, no example database, no shrinking (a case is
    reported as sent), every health check off (the targets are real servers: slow)."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=derandomize,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        **more,
    )
