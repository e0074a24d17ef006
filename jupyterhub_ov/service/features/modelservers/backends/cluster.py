"""OpenShift mode: a ModelServer is a ``ModelServer`` custom object (``intel.com/v1alpha1``)
in the feature's namespace; the reconciler (`..cluster`) makes its Deployment and Service and
writes its status. Create, delete and scale write the object (scale: the replicas of its spec,
in its own shape); get and list read the objects and their status. Every call is retried on
429/5xx (`kube.client.KubeIO`, `kube.retry`).

The object records its creator in the annotation `CREATOR`. A name the API server already
has is a `Conflict`, as a reserved one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kubernetes_asyncio.client.exceptions import ApiException

from jupyterhub_ov.errors import Conflict, NotFound
from jupyterhub_ov.kube.client import KubeIO, connect

from ..model import InvalidModelServer, ModelServerSpec
from ..spec import API_VERSION, GROUP, KIND, PLURAL, VERSION
from ..status import endpoints as service_endpoints
from ..view import ServerView, models_from_status, scaled_spec, spec_json, state_of
from .base import ModelServerBackend, parse, raw_spec, replicas_problem

CREATOR = "jupyterhub-ov/creator"
API = (GROUP, VERSION, PLURAL)


def _time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class ClusterBackend(ModelServerBackend):
    mode = "openshift"

    def __init__(self, *, kubeconfig: str, namespace: str, log: Any, timeout: float = 30) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.log = log
        self.timeout = timeout
        self._io: KubeIO | None = None

    async def start(self) -> None:
        api, namespace = await connect(self.kubeconfig, self.namespace)
        self.namespace = namespace
        self._io = KubeIO(api, namespace, timeout=self.timeout, log=self.log)

    async def stop(self) -> None:
        if self._io is not None:
            await self._io.api.close()
            self._io = None

    @property
    def io(self) -> KubeIO:
        assert self._io is not None, "start the backend first"
        return self._io

    async def create(self, name: Any, spec: Any, *, by: str) -> ServerView:
        parsed = parse(name, spec)
        body = {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": parsed.name, "annotations": {CREATOR: by}},
            "spec": dict(raw_spec(spec)),
        }
        create = self.io.custom.create_namespaced_custom_object
        try:
            created = await self.io.call(
                create, GROUP, VERSION, self.namespace, PLURAL, body, what=f"create {name}"
            )
        except ApiException as e:
            if e.status == 409:
                raise Conflict(f"A ModelServer named {parsed.name!r} exists already.") from None
            raise
        self.log.info("ModelServer %s/%s created by %s", self.namespace, parsed.name, by)
        return self._view(created)

    async def get(self, name: str) -> ServerView:
        found = await self.io.get(API, name)
        if found is None:
            raise NotFound(name)
        return self._view(found)

    async def list(self) -> list[ServerView]:
        items = await self.io.list(API, "")
        views = [self._view(item) for item in items]
        return sorted(views, key=lambda v: v.name)

    async def delete(self, name: str) -> None:
        if await self.io.get(API, name) is None:
            raise NotFound(name)
        await self.io.delete(API, name)
        self.log.info("ModelServer %s/%s deleted", self.namespace, name)

    async def scale(self, name: str, replicas: int) -> ServerView:
        replicas_problem(replicas)
        current = await self.io.get(API, name)
        if current is None:
            raise NotFound(name)
        parse(name, scaled_spec(current.get("spec"), replicas))  # still valid once scaled

        def change(obj: dict[str, Any]) -> bool:
            obj["spec"] = scaled_spec(obj.get("spec"), replicas)
            return True

        updated = await self.io.update(API, name, change)
        if updated is None:
            raise NotFound(name)
        return self._view(updated)

    def _view(self, obj: dict[str, Any]) -> ServerView:
        meta = obj.get("metadata") or {}
        name = meta.get("name", "")
        status = obj.get("status") or {}
        spec: ModelServerSpec | None = None
        error = ""
        try:
            spec = parse(name, obj.get("spec"))
        except (InvalidModelServer, Conflict) as e:
            error = str(e)
        conditions = tuple(
            {k: str(c.get(k, "")) for k in ("type", "status", "reason", "message")}
            for c in status.get("conditions") or ()
        )
        desired = spec.deployment.replicas if spec else 0
        degraded = [c for c in conditions if c["type"] == "Degraded" and c["status"] == "True"]
        endpoints = status.get("endpoints") or (
            service_endpoints(spec, self.namespace) if spec else {}
        )
        return ServerView(
            name=name,
            mode=self.mode,
            spec=spec_json(spec) if spec else {},
            desired_replicas=desired,
            ready_replicas=int(status.get("replicas") or 0),
            state=state_of(conditions, desired),
            conditions=conditions,
            endpoints={k: str(v) for k, v in endpoints.items()},
            models=models_from_status(status.get("models")),
            last_error=error or (degraded[0]["message"] if degraded else ""),
            creator=(meta.get("annotations") or {}).get(CREATOR, ""),
            created=_time(meta.get("creationTimestamp")),
            updated=None,
        )
