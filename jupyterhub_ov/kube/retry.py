"""Kubernetes API calls that survive throttling and server hiccups.

KubeSpawner treats 409 on create as "exists" but does not retry 429 or 5xx; every call this
package adds goes through `with_retries`: jupyterhub's `exponential_backoff` (jittered,
bounded), honouring the server's ``Retry-After``; other errors propagate at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from jupyterhub.utils import exponential_backoff
from kubernetes_asyncio.client.exceptions import ApiException

T = TypeVar("T")
MAX_RETRY_AFTER = 30.0


def retryable(error: ApiException) -> bool:
    return error.status == 429 or (error.status or 0) >= 500


def retry_after(error: ApiException) -> float:
    """Seconds the server asked us to wait (0 when it did not say)."""
    headers: Any = error.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value else 0.0
    except ValueError:
        return 0.0


async def with_retries(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    timeout: float,
    log: logging.Logger | logging.LoggerAdapter[Any],
) -> T:
    """``await call()`` until it succeeds, a non-retryable error, or ``timeout`` seconds."""
    result: list[T] = []

    async def attempt() -> bool:
        try:
            result.append(await call())
            return True
        except ApiException as e:
            return await again_later(e, what=what, log=log)

    await exponential_backoff(attempt, f"{what} kept failing for {timeout:g} s", timeout=timeout)
    return result[0]


async def again_later(
    error: ApiException, *, what: str, log: logging.Logger | logging.LoggerAdapter[Any]
) -> bool:
    """For `exponential_backoff`'s callbacks: False ("try again") after the server's
    ``Retry-After`` when ``error`` is worth retrying; the error itself otherwise."""
    if not retryable(error):
        raise error
    wait = retry_after(error)
    log.warning(
        "%s: %s %s; retrying%s", what, error.status, error.reason, f" in {wait:g} s" if wait else ""
    )
    if wait:
        await asyncio.sleep(wait)
    return False
