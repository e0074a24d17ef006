"""Async ObjectBucketClaim handling: create idempotently, wait for Bound by watch, clean up.

Waiting reads a shared watch on all claims of the namespace (`ClaimReflector`), woken by the
event that binds the claim: the spawn goes on as soon as the provisioner binds it (no
polling interval, no watch per spawn), and gives up after a timeout because
lib-bucket-provisioner rarely sets ``Failed``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kubernetes_asyncio.client import CustomObjectsApi
from kubernetes_asyncio.client.exceptions import ApiException

from ..kube.reflectors import CustomObjectReflector
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


class ClaimReflector(CustomObjectReflector):
    """All ObjectBucketClaims of a namespace on one shared watch (see `kube.reflectors`)."""

    group, version, plural = OBC_GROUP, OBC_VERSION, OBC_PLURAL
    kind = OBC_PLURAL
    list_method_name = f"list_{OBC_PLURAL}"


async def wait_bound(
    reflector: CustomObjectReflector, namespace: str, name: str, *, timeout: float
) -> dict[str, Any]:
    """Return the claim once its phase is Bound; ClaimNotBound after ``timeout`` seconds or
    if the claim is deleted meanwhile. Woken by the shared watch's events: no request of
    its own, no polling interval, and no watch connection held per waiting spawn."""
    seen = False

    def settled(claim: dict[str, Any] | None) -> bool:
        nonlocal seen
        if claim is None:
            return seen  # it was there, and is gone
        seen = True
        return claim_phase(claim) == "Bound"

    try:
        async with asyncio.timeout(timeout):
            claim = await reflector.wait_for(namespace, name, settled)
    except TimeoutError:
        raise ClaimNotBound(f"the bucket claim {name} was not bound within {timeout:g} s") from None
    if claim is None:
        raise ClaimNotBound(f"the bucket claim {name} was deleted")
    return claim


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
