"""Custom notebook images from the cluster's ``CustomNBImage`` resources (``meteor.zone/
v1alpha1``): the CNBi design's interface between the ODH dashboard (or ``oc apply``) and a
build service, reconciled by this one in OpenShift mode.

resource.py (a resource read as a build request, through the REST API's parser) and
status.py (the resource's status from its build) are pure; cluster.py is the reconciler. The
builds themselves are the build engine's: they show in the panel and ``api/builds`` like any
other, linked to their resource. The feature has no routes of its own.
"""

from __future__ import annotations

from traitlets import Bool, List, Unicode

from jupyterhub_ov.service.feature import Feature, Host


class CustomImages(Feature):
    """Custom notebook images built for CustomNBImage resources, with a cluster backend
    (c.CustomNBImageReconciler). Nothing in local mode."""

    name = "customimages"

    watch_cluster = Bool(
        True,
        help="""With a cluster backend (openshift, tekton): reconcile the cluster's CustomNBImage
        resources
        (meteor.zone/v1alpha1, the CNBi design's) into image builds, as the CNBi controller
        does, and write each build's phase, image and id to the resource's status. Needs the
        rights of deploy/customimages-rbac.yaml (tuning: c.CustomNBImageReconciler).""",
    ).tag(config=True)

    namespaces = List(
        Unicode(),
        [],
        help="""The namespaces whose CustomNBImage resources are reconciled. Empty: the
        namespace the images are published in (c.OpenShiftBuildBackend.namespace), where the
        ODH dashboard keeps its notebook images and creates these resources. Images are always
        published in that namespace, named after the resource (<name>-notebook): resources of
        the same name in two namespaces build the same image.""",
    ).tag(config=True)

    async def start(self, host: Host) -> None:
        """The reconciler of cluster CustomNBImages, with a cluster backend only (openshift,
        tekton)."""
        backend = host.manager.backend
        if not (self.watch_cluster and backend.in_cluster):
            return
        from .cluster import CustomNBImageReconciler  # kubernetes_asyncio only when used

        namespaces = self.namespaces or [getattr(backend, "working_namespace", "")]
        reconciler = CustomNBImageReconciler(
            manager=host.manager, namespaces=namespaces, parent=self, log=self.log
        )
        if not reconciler.kubeconfig:  # the backend's cluster unless configured otherwise
            reconciler.kubeconfig = getattr(backend, "kubeconfig", "")
        await reconciler.start()
        host.stack.push_async_callback(reconciler.stop)
