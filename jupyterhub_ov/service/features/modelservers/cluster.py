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
Per-model readiness (the server's ``/v1/config``) is not read yet.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from jupyterhub.utils import exponential_backoff
from kubernetes_asyncio import client
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.client.rest import RESTResponse
from traitlets import Float, Int, Unicode
from traitlets.config import LoggingConfigurable

from jupyterhub_ov.builds.manager import utcnow
from jupyterhub_ov.kube.client import connect
from jupyterhub_ov.kube.reflectors import CustomObjectReflector
from jupyterhub_ov.kube.retry import with_retries

from . import manifests, status
from .model import InvalidModelServer, ModelServerSpec, parse_model_server
from .spec import API_VERSION, GROUP, KIND, PLURAL, VERSION, server_object_name

MERGE_PATCH = "application/merge-patch+json"


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


class ModelServerReconciler(LoggingConfigurable):
    """The platform service's watch of the cluster's `ModelServer` resources
    (`intel.com/v1alpha1`), on with the openshift backend and `ModelServers.watch_cluster`:
    each becomes an OpenVINO Model Server Deployment and Service it owns, and their state is
    written to its status. The rights it needs: deploy/modelservers-rbac.yaml."""

    kubeconfig = Unicode(
        "",
        config=True,
        help="""Kubeconfig file to use. Empty: the OpenShiftBuildBackend's kubeconfig (the
        service passes it on), and if that is empty too: $KUBECONFIG, else ~/.kube/config,
        else the in-cluster configuration.""",
    )
    resync_seconds = Int(
        30,
        config=True,
        help="""Seconds between full relists of ModelServers and their Deployments: a
        ModelServer whose reconcile failed is tried again this often.""",
    )
    api_timeout = Float(
        60,
        config=True,
        help="""Seconds one Kubernetes API call is retried on 429 and 5xx answers before it
        fails (the ModelServer is then tried again at the next resync).""",
    )
    restart_timeout = Float(
        600,
        config=True,
        help="""Seconds of failed attempts to start a watch (backing off up to a minute
        apart) before an error is logged; it keeps trying.""",
    )

    def __init__(self, *, namespace: str = "", s3_endpoint: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: the one namespace watched ("": all)
        self.namespace = namespace
        self.s3_endpoint = s3_endpoint
        self.servers: ModelServerReflector | None = None
        self.deployments: ServerDeploymentReflector | None = None
        #: set once both first lists are in the caches
        self.ready = asyncio.Event()
        self._api: client.ApiClient | None = None
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        #: key → uid of the ModelServer last seen (to clean up after it once it is gone)
        self._uids: dict[str, str] = {}
        #: key → (uid, status) last written: our own patch may not be in the cache yet
        self._written: dict[str, tuple[str, dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect and start watching (in the background: a missing CRD or right is logged
        and retried, it does not stop the service)."""
        self._api, _ = await connect(self.kubeconfig)
        self._tasks = [
            asyncio.create_task(self._watch(), name="modelserver-watch"),
            asyncio.create_task(self._work(), name="modelserver-reconcile"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for reflector in (self.servers, self.deployments):
            if reflector is not None:
                await reflector.stop()
        if self._api is not None:
            await self._api.close()

    # -- what needs a look -----------------------------------------------------------------

    def mark(self, key: str) -> None:
        self._dirty.add(key)
        self._wake.set()

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

    async def _watch(self) -> None:
        """Run both reflectors; start them anew when one gives up (KubeSpawner's reflector
        retries a broken watch itself for about a minute)."""
        while True:
            gave_up = asyncio.Event()
            self.servers = await self._start(ModelServerReflector, self.mark, gave_up)
            self.deployments = await self._start(
                ServerDeploymentReflector, self._deployment_changed, gave_up
            )
            self.ready.set()
            await gave_up.wait()
            self.log.error("A ModelServer watch gave up; starting them again")
            await asyncio.gather(self.servers.stop(), self.deployments.stop())

    async def _start(
        self, cls: type[Any], on_change: Callable[[str], None], gave_up: asyncio.Event
    ) -> Any:
        started: list[Any] = []

        async def attempt() -> bool:
            reflector = cls(
                parent=self,
                api_client=self._api,
                on_change=on_change,
                on_failure=gave_up.set,
                timeout_seconds=self.resync_seconds,
                restart_seconds=self.resync_seconds,
            )
            if self.namespace:  # one namespace: the namespaced list methods
                reflector.omit_namespace = False
                reflector.namespace = self.namespace
                if cls is ServerDeploymentReflector:
                    reflector.list_method_name = "list_namespaced_deployment"
            try:
                await reflector.start()
            except Exception as e:
                self.log.warning(
                    "Cannot watch %s (is the ModelServer CRD installed, and are the rights of"
                    " deploy/modelservers-rbac.yaml granted?): %s",
                    cls.plural,
                    e,
                )
                return False
            started.append(reflector)
            return True

        while True:
            try:
                await exponential_backoff(
                    attempt,
                    f"The {cls.plural} watch could not start",
                    start_wait=1,
                    max_wait=60,
                    timeout=self.restart_timeout,
                )
                return started[0]
            except TimeoutError as e:
                self.log.error("%s for %g s; still trying", e, self.restart_timeout)

    async def _work(self) -> None:
        """Reconcile marked ModelServers one at a time, once both caches are listed."""
        await self.ready.wait()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._dirty = sorted(self._dirty), set()
            for key in batch:
                try:
                    await self.reconcile(key)
                except (TimeoutError, ApiException, aiohttp.ClientError) as e:
                    self.log.warning("ModelServer %s: %s; trying again at the next resync", key, e)
                except Exception:
                    self.log.exception("ModelServer %s: reconcile failed; trying again later", key)

    # -- one resource ----------------------------------------------------------------------

    async def reconcile(self, key: str) -> None:
        namespace, _, name = key.partition("/")
        resource = self.servers.resources.get(key) if self.servers else None
        if resource is None:
            self._written.pop(key, None)
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
        try:
            spec = parse_model_server(name, resource.get("spec"))
        except InvalidModelServer as e:
            problem = status.Problem(status.INVALID_SPEC, "; ".join(e.problems))
        if spec is not None:
            deployment, problem = await self._apply(spec, namespace, meta["uid"])
        current = self._current_status(key, resource)
        desired = status.status_for(
            name=name,
            namespace=namespace,
            spec=spec,
            deployment=deployment,
            problem=problem,
            generation=meta.get("generation"),
            previous=current,
            at=utcnow(),
        )
        patch = status.status_patch(current, desired)
        if patch is None:
            return
        if problem is not None:  # the problems quote the spec: they stay in the status
            self.log.warning("ModelServer %s: %s, nothing is deployed", key, problem.reason)
        written = await self._patch_status(namespace, name, patch)
        if written is not None:
            self._written[key] = (meta["uid"], written.get("status") or {})

    async def _apply(
        self, spec: ModelServerSpec, namespace: str, uid: str
    ) -> tuple[dict[str, Any] | None, status.Problem | None]:
        """The Deployment and Service made or updated: the Deployment as now, or the problem."""
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
                return None, status.Problem(status.NAME_TAKEN, message)
            applied.append(live)
        return applied[0], None

    def _current_status(self, key: str, resource: dict[str, Any]) -> dict[str, Any]:
        written = self._written.get(key)
        if written is not None and written[0] == resource["metadata"]["uid"]:
            return written[1]
        current: dict[str, Any] = resource.get("status") or {}
        return current

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
            return await with_retries(raw, what=what, timeout=self.api_timeout, log=self.log)
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

    async def _patch_status(
        self, namespace: str, name: str, patch: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The resource after the patch; None if it is gone."""
        custom = client.CustomObjectsApi(self._api)
        patched: dict[str, Any] | None = await self._call(
            # the client picks JSON patch for a dict body unless told; its stubs hide the option
            lambda: custom.patch_namespaced_custom_object_status(  # type: ignore[call-arg]
                GROUP,
                VERSION,
                namespace,
                PLURAL,
                name,
                patch,
                _content_type=MERGE_PATCH,
                _preload_content=False,
            ),
            f"patch the status of modelserver {namespace}/{name}",
        )
        return patched
