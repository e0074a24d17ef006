"""OpenVINO Model Server deployments: the OpenVINO Toolkit Operator's ``ModelServer``
(``intel.com/v1alpha1``), serving models from the users' buckets, a volume claim or a config map.

spec.py (the typed spec, names and defaults), model.py (either spec shape into it: sections.py
reads the shapes, rules.py and modes.py check the fields), manifests.py (the Deployment and
Service the operator would create), status.py (a resource's status from its Deployment),
view.py (what the API answers about a server) and localmode.py (the local rules and command
line) are pure; cluster.py reconciles cluster ModelServers with the OpenShift backend.

The REST API (handlers.py, schemas.py, openapi.py: ``api/modelservers``) and the panel section
(templates/, static/) work over one `backends.base.ModelServerBackend`, chosen from the
service's backend: with ``local``, `backends.local` runs each server as processes of the ovms
program (supervisor.py; records in store.py; an S3 identity of its own, backends/s3identity.py);
with a cluster backend (``openshift``, ``tekton``), `backends.cluster` writes ``ModelServer``
objects that the reconciler deploys.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from typing import Any

from traitlets import Bool, Float, List, Unicode, default

from jupyterhub_ov import metrics
from jupyterhub_ov.service.feature import Feature, Host, PanelSection, Route
from jupyterhub_ov.service.scopes import MODEL_WRITE_SCOPE

from . import handlers, openapi, store
from .backends.base import ModelServerBackend
from .spec import DEFAULT_IMAGE
from .view import State


class ModelServers(Feature):
    """OpenVINO Model Servers for ModelServer specs, from the panel and the REST API (and,
    with a cluster backend, the cluster's ModelServer resources, c.ModelServerReconciler):
    local processes of the ovms program with the local backend, ModelServer objects that the
    reconciler deploys with a cluster backend."""

    name = "modelservers"

    watch_cluster = Bool(
        True,
        help="""With a cluster backend (openshift, tekton): reconcile the cluster's
        ModelServer resources (intel.com/v1alpha1) into OpenVINO Model Server Deployments
        and Services, as the OpenVINO Toolkit Operator does, and write their state to the
        resources' status.
        Needs the rights of deploy/modelservers-rbac.yaml (tuning: c.ModelServerReconciler).""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""The one namespace whose ModelServer resources are reconciled; empty: every
        namespace (the rights of deploy/modelservers-rbac.yaml then go in a ClusterRole).
        The panel and the REST API create ModelServers in this namespace (empty: the
        kubeconfig context's, or the service account's).""",
    ).tag(config=True)

    s3_endpoint = Unicode(
        "",
        help="""The cluster's S3 endpoint (http://host:port) given to model servers whose
        spec names none (models_repository.s3_compat_api_endpoint). Empty: a server reading
        from an ObjectBucketClaim's bucket uses the claim's BUCKET_HOST and BUCKET_PORT.""",
    ).tag(config=True)

    local_command = List(
        Unicode(),
        help="""Local backend: the model server program, before OVMS's options (the
        container's arguments, with loopback ports of its own).""",
    ).tag(config=True)

    @default("local_command")
    def _default_local_command(self) -> list[str]:
        """The service's own Python running ``-m jupyterhub_ov.ovms``."""
        return [sys.executable, "-m", "jupyterhub_ov.ovms"]

    local_volumes_dir = Unicode(
        "",
        help="""Local backend: the directory standing for the cluster's volumes. A spec's
        models_volume_claim <claim> (mounted at /models) is <dir>/claims/<claim>, its
        config_configmap_name <name> (at /config) is <dir>/configmaps/<name>. Empty: specs
        with a volume claim or config map are refused in local mode.""",
    ).tag(config=True)

    bucket_claim_prefix = Unicode(
        "jupyter-bucket",
        help="""Local backend: how a spec's models_repository.bucket_claim names the user
        whose bucket the model is in — <prefix>-<user>, as OVKubeSpawner.bucket_claim_prefix
        names a user's claim in OpenShift mode, so one spec works in both. The server reads
        it with an IAM identity of its own carrying that user's read rights (their bucket and
        the buckets granted to them: LocalBucketProvisioner, whose credentials_file this
        service must be given).""",
    ).tag(config=True)

    stop_timeout = Float(
        10.0,
        help="""Local backend: seconds a model server process has to exit after SIGTERM (on
        delete, scale down and service stop) before it is killed.""",
    ).tag(config=True)

    restart_backoff_max = Float(
        30.0,
        help="""Local backend: a crashed model server process is started again after 0.5 s,
        then twice as long after each further crash, at most this many seconds.""",
    ).tag(config=True)

    readiness_timeout = Float(
        3.0,
        min=0.1,
        help="""Seconds to wait for a model server's answer to GET /v1/config (the models'
        readiness) when its state is read: a local server's, or in OpenShift mode the
        reconciler's look at each ready pod. A server that does not answer in time counts
        as not ready.""",
    ).tag(config=True)

    backend: ModelServerBackend | None = None

    def routes(self) -> list[Route]:
        name = openapi.SERVER_NAME
        return [
            Route("/api/modelservers", handlers.ModelServersHandler),
            Route("/api/modelservers/{id}", handlers.ModelServerHandler, name),
            Route("/api/modelservers/{id}/scale", handlers.ScaleHandler, name),
        ]

    def openapi_paths(self) -> dict[str, Any]:
        return openapi.PATHS

    def openapi_schemas(self) -> dict[str, Any]:
        return openapi.SCHEMAS

    def panel(self) -> PanelSection:
        return PanelSection("section.html", scripts=("modelservers.js",))

    def panel_namespace(self) -> dict[str, Any]:
        # the operator's defaults, as the "Create ModelServer" form's initial values
        return {
            "modelserver_defaults": {"image_name": DEFAULT_IMAGE},
            "modelserver_write_scope": MODEL_WRITE_SCOPE,
            "modelserver_claim_prefix": self.bucket_claim_prefix,
        }

    async def start(self, host: Host) -> None:
        """The backend of the service's kind, then (a cluster backend) the reconciler."""
        in_cluster = host.manager.backend.in_cluster
        kubeconfig = getattr(host.manager.backend, "kubeconfig", "")
        self.backend = self._make_backend(in_cluster, kubeconfig, host)
        await self.backend.start()
        host.stack.push_async_callback(self.backend.stop)
        if not (self.watch_cluster and in_cluster):
            return
        from .cluster import ModelServerReconciler  # kubernetes_asyncio only when used

        reconciler = ModelServerReconciler(
            namespace=self.namespace,
            s3_endpoint=self.s3_endpoint,
            readiness_timeout=self.readiness_timeout,
            parent=self,
            log=self.log,
        )
        if not reconciler.kubeconfig:  # the backend's cluster unless configured otherwise
            reconciler.kubeconfig = kubeconfig
        await reconciler.start()
        host.stack.push_async_callback(reconciler.stop)

    async def update_metrics(self) -> None:
        """``jupyterhub_ov_model_servers{state}``: every state, 0 where none is."""
        if self.backend is None:
            return
        counts = Counter(view.state for view in await self.backend.list())
        for state in State:
            metrics.MODEL_SERVERS.labels(state.value).set(counts.get(state, 0))

    def _make_backend(self, in_cluster: bool, kubeconfig: str, host: Host) -> ModelServerBackend:
        if in_cluster:
            from .backends.cluster import ClusterBackend

            return ClusterBackend(kubeconfig=kubeconfig, namespace=self.namespace, log=self.log)
        from jupyterhub_ov.storage.s3local import LocalBucketProvisioner

        from .backends.local import LocalBackend
        from .backends.s3identity import ServerIdentities

        provisioner = LocalBucketProvisioner(parent=self, log=self.log)
        return LocalBackend(
            store=store.ServerStore(host.database),
            identities=ServerIdentities(provisioner),
            command=self.local_command,
            log=self.log,
            claim_prefix=self.bucket_claim_prefix,
            volumes_dir=self.local_volumes_dir,
            stop_timeout=self.stop_timeout,
            backoff=(0.5, self.restart_backoff_max),
            readiness_timeout=self.readiness_timeout,
            # this service's processes: those of its database (one service per database)
            mark=hashlib.sha256(host.database.url.encode()).hexdigest()[:16],
        )
