"""How a cluster build's work ends when it does not succeed (`OpenShiftBuildBackend`).

A failure or a cancel undoes what the build half-made (`ImageSteps.clean_up`, the stream
marked with why); the service stopping (`DETACH`, or anything after the backend's `stop`
closed the client) is not the admin cancelling: the cluster build keeps running for
`reattach` after the restart; an API failure becomes a sentence for the admin.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import aiohttp
from kubernetes_asyncio.client.exceptions import ApiException

from jupyterhub_ov.builds import validation
from jupyterhub_ov.kube.client import Gone

from ...errors import BuildFailed
from ..base import DETACH, PublishedImage, detaching
from .steps import Attempt, ImageSteps


async def guarded(
    steps: ImageSteps,
    attempt: Attempt,
    work: Callable[[], Awaitable[PublishedImage]],
    *,
    detached: Callable[[], bool],
    rbac_file: str,
) -> PublishedImage:
    """Run ``work``; on failure or cancel undo what it half-made, unless ``detached()``."""
    tag, clean_up = attempt.resolved.tag, steps.clean_up
    try:
        try:
            return await work()
        except Exception:
            if detached():
                # `stop` closed the client under a build the service stopped following:
                # not the build's failure; the cluster build goes on for `reattach`
                raise asyncio.CancelledError(DETACH) from None
            raise
    except asyncio.CancelledError as e:
        if not (detached() or detaching(e)):
            messages = validation.cancelled_messages(tag)
            await asyncio.shield(clean_up(attempt, messages, cancelled=True))
        raise
    except BuildFailed as e:
        await clean_up(attempt, validation.failure_messages(tag, str(e)))
        raise
    except (ApiException, aiohttp.ClientError, TimeoutError, Gone) as e:
        message = cluster_problem(e, rbac_file)
        await clean_up(attempt, validation.failure_messages(tag, message))
        raise BuildFailed(message) from e


def cluster_problem(error: Exception, rbac_file: str = "deploy/builder-rbac.yaml") -> str:
    """An admin-readable sentence for an API failure."""
    if isinstance(error, ApiException):
        try:
            detail = json.loads(error.body or "{}").get("message") or error.reason
        except ValueError:
            detail = error.reason
        hint = f" (see {rbac_file})" if error.status == 403 else ""
        return f"The cluster refused a request ({error.status} {error.reason}): {detail}{hint}"
    if isinstance(error, Gone):
        return f"An object of the build disappeared: {error}"
    return f"The cluster could not be reached: {str(error) or type(error).__name__}"
