"""A shared watch of ODH connection Secrets that never carries their data into the hub.

`ConnectionReflector` is KubeSpawner's list + watch (`kubespawner.reflector`) on the Secrets
labelled ``opendatahub.io/dashboard=true``, asked for as ``PartialObjectMetadata``: the API
server answers names, labels and annotations only, never ``data``. The generated client
always sends its own ``Accept`` header, so the lister calls the client's ``call_api`` with the
metadata one. The cache keeps only ``metadata`` too, should a server ignore the request.
The connections then reach a notebook by ``envFrom`` (`connections.env_from`): the hub needs
``list`` and ``watch`` on Secrets, and reads no Secret's values.
"""

from __future__ import annotations

from typing import Any

from traitlets import validate

from ..connections import LABEL_DASHBOARD, Connection, granted, parse_connection
from .reflectors import OwnClientReflector, shared_reflector

#: what a metadata list and a metadata get/watch ask for (client-go's metadata client)
ACCEPT_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
ACCEPT_ITEM = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

_QUERY = {
    "label_selector": "labelSelector",
    "field_selector": "fieldSelector",
    "resource_version": "resourceVersion",
    "resource_version_match": "resourceVersionMatch",
    "timeout_seconds": "timeoutSeconds",
    "watch": "watch",
}


class _MetadataLister:
    """``list_namespaced_secret`` as the reflector calls it, asking for metadata only."""

    def __init__(self, api_client: Any) -> None:
        self._client = api_client

    async def list_namespaced_secret(
        self,
        namespace: str,
        *,
        _preload_content: bool = False,
        _request_timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        unknown = set(kwargs) - set(_QUERY)
        if unknown:
            raise TypeError(f"unexpected arguments {sorted(unknown)}")
        query = [(_QUERY[k], v) for k, v in kwargs.items() if v not in (None, "")]
        accept = ACCEPT_ITEM if kwargs.get("watch") else ACCEPT_LIST
        return await self._client.call_api(
            "/api/v1/namespaces/{namespace}/secrets",
            "GET",
            {"namespace": namespace},
            query,
            {"Accept": accept},
            response_types_map={},
            auth_settings=["BearerToken"],
            _preload_content=_preload_content,
            _request_timeout=_request_timeout,
        )


class _MetadataOnly(dict):
    """The reflector's cache: whatever arrives, only ``metadata`` is kept."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, {"metadata": (value or {}).get("metadata") or {}})


class ConnectionReflector(OwnClientReflector):
    """The namespace's connection Secrets, metadata only, on a shared list + watch (start it
    with `reflectors.shared_reflector`; read ``resources`` values' ``metadata``)."""

    kind = "secrets"
    plural = "secrets"  # the key in KubeSpawner.reflectors (see shared_reflector)
    list_method_name = "list_namespaced_secret"
    api_group_name = "CoreV1Api"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("labels", {LABEL_DASHBOARD: "true"})
        super().__init__(*args, **kwargs)
        shared = self.api.api_client  # type: ignore[has-type]
        self.api = _MetadataLister(shared if self.api_client is None else self.api_client)

    @validate("resources")
    def _metadata_only(self, proposal: Any) -> dict[str, Any]:
        cache = _MetadataOnly()
        for key, value in proposal.value.items():
            cache[key] = value
        return cache

    def metadata(self) -> list[dict[str, Any]]:
        """Every cached connection Secret's metadata."""
        return [obj["metadata"] for obj in list(self.resources.values())]


async def granted_connections(spawner: Any) -> list[Connection]:
    """The connections in the spawner's namespace that its user (or a group of theirs) is
    granted, from the shared watch (started on first use)."""
    reflector = await shared_reflector(
        spawner.__class__, ConnectionReflector, spawner.namespace, parent=spawner
    )
    found = [c for c in map(parse_connection, reflector.metadata()) if c is not None]
    groups = [g.name for g in getattr(spawner.user, "groups", None) or []]
    return granted(found, spawner.user.name, groups)
