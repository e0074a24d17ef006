"""Async ObjectBucketClaim handling: create idempotently, wait for Bound by watch, clean up.

Waiting uses a watch from the claim's resourceVersion, so the spawn goes on as soon as the
provisioner binds the claim (no polling interval), and gives up after a timeout because
lib-bucket-provisioner rarely sets ``Failed``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kubernetes_asyncio import watch
from kubernetes_asyncio.client import CustomObjectsApi
from kubernetes_asyncio.client.exceptions import ApiException

from ..kube.retry import with_retries
from .manifests import OBC_GROUP, OBC_PLURAL, OBC_VERSION, claim_phase

Log = logging.Logger | logging.LoggerAdapter[Any]


class ClaimNotBound(RuntimeError):
    """The claim did not become Bound in time (or was deleted while waiting)."""


async def ensure_claim(
    api: CustomObjectsApi, body: dict[str, Any], *, timeout: float, log: Log
) -> tuple[dict[str, Any], bool]:
    """The claim, created if missing; and whether this call created it."""
    namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]

    async def create() -> Any:
        return await api.create_namespaced_custom_object(
            OBC_GROUP, OBC_VERSION, namespace, OBC_PLURAL, body
        )

    async def get() -> Any:
        return await api.get_namespaced_custom_object(
            OBC_GROUP, OBC_VERSION, namespace, OBC_PLURAL, name
        )

    try:
        created = await with_retries(create, what=f"create claim {name}", timeout=timeout, log=log)
        return created, True
    except ApiException as e:
        if e.status != 409:
            raise
    return await with_retries(get, what=f"get claim {name}", timeout=timeout, log=log), False


async def wait_bound(
    api: CustomObjectsApi, claim: dict[str, Any], *, timeout: float, log: Log
) -> dict[str, Any]:
    """Return the claim once its phase is Bound; ClaimNotBound after ``timeout`` seconds."""
    if claim_phase(claim) == "Bound":
        return claim
    meta = claim["metadata"]
    namespace, name = meta["namespace"], meta["name"]
    version = meta.get("resourceVersion")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        async with asyncio.timeout(timeout):
            while True:
                remaining = max(1, int(deadline - loop.time()) + 1)
                async with watch.Watch() as w:
                    stream = w.stream(
                        api.list_namespaced_custom_object,
                        OBC_GROUP,
                        OBC_VERSION,
                        namespace,
                        OBC_PLURAL,
                        field_selector=f"metadata.name={name}",
                        resource_version=version,
                        timeout_seconds=remaining,
                    )
                    async for event in stream:
                        obj = event["raw_object"]
                        if event["type"] == "DELETED":
                            raise ClaimNotBound(f"the bucket claim {name} was deleted")
                        version = obj["metadata"].get("resourceVersion", version)
                        if claim_phase(obj) == "Bound":
                            return obj
                log.debug("Watch of claim %s ended; watching again from %s", name, version)
    except TimeoutError:
        raise ClaimNotBound(f"the bucket claim {name} was not bound within {timeout:g} s") from None
    except ApiException as e:
        if e.status == 410:  # our version is too old: start over from a fresh read
            fresh = await api.get_namespaced_custom_object(
                OBC_GROUP, OBC_VERSION, namespace, OBC_PLURAL, name
            )
            return await wait_bound(api, fresh, timeout=max(deadline - loop.time(), 0.1), log=log)
        raise


async def delete_claim(
    api: CustomObjectsApi, namespace: str, name: str, *, timeout: float, log: Log
) -> None:
    async def delete() -> Any:
        return await api.delete_namespaced_custom_object(
            OBC_GROUP, OBC_VERSION, namespace, OBC_PLURAL, name
        )

    try:
        await with_retries(delete, what=f"delete claim {name}", timeout=timeout, log=log)
    except ApiException as e:
        if e.status != 404:
            raise
