"""OpenVINO Model Server deployments: the OpenVINO Toolkit Operator's ``ModelServer``
(``intel.com/v1alpha1``), serving models from the users' buckets, a volume claim or a config map.

spec.py (the typed spec, names and defaults), model.py (either spec shape into it: sections.py
reads the shapes, rules.py and modes.py check the fields), manifests.py (the Deployment and
Service the operator would create) and status.py (a resource's status from its Deployment) are
pure; cluster.py reconciles cluster ModelServers with the OpenShift backend. The local model
server, the panel and the REST API come later (issue 13): the feature has no routes yet.
"""

from __future__ import annotations

from traitlets import Bool, Unicode

from jupyterhub_ov.service.feature import Feature, Host


class ModelServers(Feature):
    """OpenVINO Model Servers for ModelServer resources; so far, with the openshift backend,
    those of the cluster (c.ModelServerReconciler). Nothing in local mode yet."""

    name = "modelservers"

    watch_cluster = Bool(
        True,
        help="""With the openshift backend: reconcile the cluster's ModelServer resources
        (intel.com/v1alpha1) into OpenVINO Model Server Deployments and Services, as the
        OpenVINO Toolkit Operator does, and write their state to the resources' status.
        Needs the rights of deploy/modelservers-rbac.yaml (tuning: c.ModelServerReconciler).""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""The one namespace whose ModelServer resources are reconciled; empty: every
        namespace (the rights of deploy/modelservers-rbac.yaml then go in a ClusterRole).""",
    ).tag(config=True)

    s3_endpoint = Unicode(
        "",
        help="""The cluster's S3 endpoint (http://host:port) given to model servers whose
        spec names none (models_repository.s3_compat_api_endpoint). Empty: a server reading
        from an ObjectBucketClaim's bucket uses the claim's BUCKET_HOST and BUCKET_PORT.""",
    ).tag(config=True)

    async def start(self, host: Host) -> None:
        """The reconciler of cluster ModelServers, with the openshift backend only."""
        if not (self.watch_cluster and host.manager.backend.kind == "openshift"):
            return
        from .cluster import ModelServerReconciler  # kubernetes_asyncio only when used

        reconciler = ModelServerReconciler(
            namespace=self.namespace, s3_endpoint=self.s3_endpoint, parent=self, log=self.log
        )
        if not reconciler.kubeconfig:  # the backend's cluster unless configured otherwise
            reconciler.kubeconfig = getattr(host.manager.backend, "kubeconfig", "")
        await reconciler.start()
        host.stack.push_async_callback(reconciler.stop)
