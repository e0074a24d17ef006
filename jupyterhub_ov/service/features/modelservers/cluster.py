"""Cluster ``ModelServer`` resources (``intel.com/v1alpha1``) reconciled into the Deployment
and Service of an OpenVINO Model Server, as the OpenVINO Toolkit Operator does.

Two list + watches (KubeSpawner's reflector machinery): the ModelServers (all namespaces, or
one), and the Deployments with a ``release`` label (the chart's; only those a ModelServer owns
count), so a Deployment's rollout updates its ModelServer's status. Both mark the ModelServer;
one worker reconciles marked ones, level-triggered, from the cached resource:

- the spec is parsed (`model.parse_model_server`); an invalid one gets ``InvalidSpec``
  conditions with every problem and nothing is created;
- the Deployment and Service of `manifests` are created, or replaced when they differ in what
  the manifests set (`status.needs_update`), with the ModelServer as controlling owner: the
  cluster's garbage collector deletes them with it. A same-named object this ModelServer
  does not own is left alone and reported (``NameTaken``);
- the status (`status.status_for`) is patched when it differs from the one last written.

A ModelServer gone from the cache: its Deployment and Service are deleted too if they are
its own (the garbage collector may be slower, or off). Calls are retried on 429/5xx
(`with_retries`); a failed reconcile is tried again at the next resync (a relist every
``resync_seconds``). A watch that gives up is started anew with backoff.

Per-model readiness: when the Deployment has ready replicas, the server's ``/v1/config`` is
read through its Service (the cluster IP and REST port); when it has replicas but none is
ready (a model that cannot be loaded keeps the pods unready), from a running pod's IP. It is
written to the status (``models``, and ``Degraded`` naming a model without an available
version and its path) and read again at every resync. A read that fails (a timeout of
``readiness_timeout`` seconds keeps the loop moving) keeps what the status said.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.client.rest import RESTResponse

from jupyterhub_ov.builds.manager import utcnow
from jupyterhub_ov.kube.reconciler import Reconciler
from jupyterhub_ov.kube.reflectors import CustomObjectReflector

from . import manifests, readiness, status
from .model import InvalidModelServer, ModelServerSpec, parse_model_server
from .spec import API_VERSION, GROUP, KIND, PLURAL, VERSION, server_object_name


class ModelServerReflector(CustomObjectReflector):
    """``ModelServer`` resources (all namespaces unless ``omit_namespace`` is set False)."""

    group, version, plural = GROUP, VERSION, PLURAL
    kind = PLURAL
    list_method_name = f"list_{PLURAL}"
    omit_namespace = True


class ServerDeploymentReflector(CustomObjectReflector):
    """Deployments with a ``release`` label (the model servers'), on the reflector's
    notifying cache."""

    group, version, plural = "apps", "v1", "deployments"
    kind = "deployments"
    list_method_name = "list_deployment_for_all_namespaces"
    omit_namespace = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.api = client.AppsV1Api(self.api_client)  # type: ignore[assignment]
        self.label_selector = "release"


class ModelServerReconciler(Reconciler):
    """The platform service's watch of the cluster's `ModelServer` resources
    (`intel.com/v1alpha1`), on with the openshift backend and `ModelServers.watch_cluster`:
    each becomes an OpenVINO Model Server Deployment and Service it owns, and their state is
    written to its status. The rights it needs: deploy/modelservers-rbac.yaml."""

    kind, group, version, plural = KIND, GROUP, VERSION, PLURAL
    rbac = "deploy/modelservers-rbac.yaml"

    def __init__(
        self,
        *,
        namespace: str = "",
        s3_endpoint: str = "",
        readiness_timeout: float = 3,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        #: seconds to wait for a server's /v1/config
        self.readiness_timeout = readiness_timeout
        #: the one namespace watched ("": all)
        self.namespace = namespace
        self.s3_endpoint = s3_endpoint
        self.servers: ModelServerReflector | None = None
        self.deployments: ServerDeploymentReflector | None = None
        #: key → uid of the ModelServer last seen (to clean up after it once it is gone)
        self._uids: dict[str, str] = {}

    async def start_watches(self, gave_up: asyncio.Event) -> None:
        scope: dict[str, Any] = {}
        if self.namespace:  # one namespace: the namespaced list methods
            scope = {"omit_namespace": False, "namespace": self.namespace}
        self.servers = await self.start_reflector(ModelServerReflector, self.mark, gave_up, **scope)
        if self.namespace:
            scope["list_method_name"] = "list_namespaced_deployment"
        self.deployments = await self.start_reflector(
            ServerDeploymentReflector, self._deployment_changed, gave_up, **scope
        )

    async def start(self) -> None:
        await super().start()
        self._tasks.append(asyncio.create_task(self._resync_models(), name="modelserver-models"))

    async def _resync_models(self) -> None:
        """Mark every ModelServer each resync: its models' readiness changes without any
        change the watches see (a version uploaded, a path made readable)."""
        await self.ready.wait()
        while True:
            await asyncio.sleep(self.resync_seconds)
            for key in list(self.servers.resources if self.servers else ()):
                self.mark(key)

    async def stop_watches(self) -> None:
        for reflector in (self.servers, self.deployments):
            if reflector is not None:
                await reflector.stop()

    def _deployment_changed(self, key: str) -> None:
        """Mark the ModelServer owning the Deployment of ``key`` (or, once it is gone, the
        one whose server name it has)."""
        cached = self.deployments.resources.get(key) if self.deployments else None
        namespace, _, name = key.partition("/")
        refs = (cached or {}).get("metadata", {}).get("ownerReferences") or ()
        owners = [
            r["name"] for r in refs if (r.get("apiVersion"), r.get("kind")) == (API_VERSION, KIND)
        ]
        if cached is None:
            owners = [k.partition("/")[2] for k in self._uids if k.startswith(namespace + "/")]
            owners = [o for o in owners if server_object_name(o) == name]
        for owner in owners:
            self.mark(f"{namespace}/{owner}")

    # -- one resource ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        resource = self.servers.resources.get(key) if self.servers else None
        if resource is None:
            self.forget(key)
            uid = self._uids.pop(key, None)
            if uid is not None:
                await self._delete_owned(namespace, server_object_name(name), uid)
                self.log.info("ModelServer %s was deleted, and its Deployment and Service", key)
            return
        meta = resource["metadata"]
        self._uids[key] = meta["uid"]
        spec: ModelServerSpec | None = None
        problem: status.Problem | None = None
        deployment: dict[str, Any] | None = None
        models: list[dict[str, Any]] | None = None
        current = self.current_status(key, resource)
        try:
            spec = parse_model_server(name, resource.get("spec"))
        except InvalidModelServer as e:
            problem = status.Problem(status.INVALID_SPEC, "; ".join(e.problems))
        if spec is not None:
            deployment, service, problem = await self._apply(spec, namespace, meta["uid"])
            if deployment is not None and service is not None:
                models = await self._models(spec, namespace, deployment, service)
                if models is None and (deployment.get("status") or {}).get("replicas"):
                    models = current.get("models")  # not read now: as it was
        desired = status.status_for(
            name=name,
            namespace=namespace,
            spec=spec,
            deployment=deployment,
            problem=problem,
            generation=meta.get("generation"),
            previous=current,
            models=models,
            at=utcnow(),
        )
        patch = status.status_patch(current, desired)
        if patch is None:
            return
        if problem is not None:  # the problems quote the spec: they stay in the status
            self.log.warning("ModelServer %s: %s, nothing is deployed", key, problem.reason)
        await self.write_status(key, resource, patch)

    async def _apply(
        self, spec: ModelServerSpec, namespace: str, uid: str
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None, status.Problem | None]:
        """The Deployment and Service made or updated: both as now, or the problem."""
        wanted = (
            manifests.deployment(
                spec, namespace=namespace, owner_uid=uid, s3_endpoint=self.s3_endpoint
            ),
            manifests.service(spec, namespace=namespace, owner_uid=uid),
        )
        applied: list[dict[str, Any]] = []
        for body in wanted:
            live = await self._ensure(body, uid)
            if live is None:
                kind, obj = body["kind"], body["metadata"]["name"]
                message = f"A {kind} named {obj} exists that this ModelServer does not own"
                return None, None, status.Problem(status.NAME_TAKEN, message)
            applied.append(live)
        return applied[0], applied[1], None

    async def _models(
        self,
        spec: ModelServerSpec,
        namespace: str,
        deployment: dict[str, Any],
        service: dict[str, Any],
    ) -> list[dict[str, Any]] | None:
        """The server's per-model readiness (`readiness.ModelState` as JSON), None when no
        replica runs or it cannot be asked now."""
        counts = deployment.get("status") or {}
        url = ""
        if counts.get("readyReplicas"):
            ip = (service.get("spec") or {}).get("clusterIP")
            if ip and ip != "None":
                url = f"http://{ip}:{spec.service.rest_port}"
        elif counts.get("replicas"):
            url = await self._pod_url(namespace, spec.name)
        if not url:
            return None
        try:
            states = await readiness.read_model_states(url, timeout=self.readiness_timeout)
        except readiness.ReadinessError as e:
            self.log.debug("ModelServer %s/%s: %s", namespace, spec.name, e)
            return None
        return [s.to_json() for s in states]

    async def _pod_url(self, namespace: str, name: str) -> str:
        """The REST address of a running (not ready) pod of the server, "" if none."""
        core = client.CoreV1Api(self._api)
        pods = await self._call(
            lambda: core.list_namespaced_pod(
                namespace, label_selector=status.label_selector(name), _preload_content=False
            ),
            f"list the pods of ModelServer {namespace}/{name}",
        )
        for pod in (pods or {}).get("items") or ():
            ip = (pod.get("status") or {}).get("podIP")
            if ip and (pod.get("status") or {}).get("phase") == "Running":
                return f"http://{ip}:{manifests.REST_PORT}"
        return ""

    # -- API calls -------------------------------------------------------------------------

    async def _call(self, call: Callable[[], Awaitable[Any]], what: str) -> Any:
        """The call's answer as a dict (the raw JSON; None for 404), retried on 429/5xx."""

        async def raw() -> Any:
            response = await call()  # unread (_preload_content=False): errors are ours to raise
            answer = RESTResponse(response, await response.read())
            if not 200 <= answer.status <= 299:
                raise ApiException(http_resp=answer)  # type: ignore[arg-type]
            return json.loads(answer.data)

        try:
            return await self.call(raw, what)
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    async def _object(
        self, verb: str, kind: str, namespace: str, name: str, body: Any = None
    ) -> dict[str, Any] | None:
        """``verb`` (read, create, replace, delete) on the Deployment or Service ``name``:
        the answer as JSON, None for 404."""
        api: Any = (
            client.AppsV1Api(self._api) if kind == "Deployment" else client.CoreV1Api(self._api)
        )
        method = getattr(api, f"{verb}_namespaced_{kind.lower()}")
        args = {
            "read": (name, namespace),
            "delete": (name, namespace),
            "create": (namespace, body),
            "replace": (name, namespace, body),
        }[verb]
        answer: dict[str, Any] | None = await self._call(
            lambda: method(*args, _preload_content=False), f"{verb} {kind} {namespace}/{name}"
        )
        return answer

    async def _ensure(self, body: dict[str, Any], uid: str) -> dict[str, Any] | None:
        """The object of ``body`` created, replaced if it differs, or as it is; None if one of
        its name exists that the ModelServer of ``uid`` does not own."""
        kind, namespace, name = (
            body["kind"],
            body["metadata"]["namespace"],
            body["metadata"]["name"],
        )
        live = await self._object("read", kind, namespace, name)
        if live is None:
            self.log.info("Creating %s %s/%s", kind, namespace, name)
            return await self._object("create", kind, namespace, name, body)
        if not status.owned_by(live, uid):
            return None
        if not status.needs_update(live, body):
            return live
        self.log.info("Updating %s %s/%s", kind, namespace, name)
        return await self._object("replace", kind, namespace, name, status.replacement(live, body))

    async def _delete_owned(self, namespace: str, name: str, uid: str) -> None:
        """Delete the Deployment and Service ``name`` if the ModelServer of ``uid`` owns them."""
        for kind in ("Deployment", "Service"):
            live = await self._object("read", kind, namespace, name)
            if live is not None and status.owned_by(live, uid):
                await self._object("delete", kind, namespace, name)
