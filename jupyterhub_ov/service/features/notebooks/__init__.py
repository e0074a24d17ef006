"""The OpenVINO notebook images feature: the OpenVINO Toolkit Operator's ``Notebook``.

A Notebook keeps the ``openvino-notebook`` image built from a branch of the
openvino_notebooks repository (and, with auto-update, rebuilt when the branch moves), through
the build engine. From the panel ("Create Notebook"), the REST API (``api/notebooks``) and,
with the OpenShift backend, ``intel.com/v1alpha1`` Notebook resources in the cluster.

model.py (the resource's parameters and status, pure), controller.py (keeps the images
built), store.py (its table), cluster.py (the reconciler of cluster Notebooks),
handlers.py, schemas.py and openapi.py (the REST API), templates/ and static/ (the panel).
"""

from __future__ import annotations

from typing import Any

from traitlets import Bool, Unicode

from jupyterhub_ov.service.feature import Feature, Host, PanelSection, Route

from . import handlers, model, openapi
from .controller import NotebookController


class OpenVINONotebooks(Feature):
    """The OpenVINO notebook image (``openvino-notebook``) kept built for Notebook requests
    from the panel and the API (and, in OpenShift mode, Notebook resources)."""

    name = "notebooks"

    watch_cluster = Bool(
        True,
        help="""With a cluster backend (openshift, tekton): reconcile the cluster's Notebook
        resources
        (intel.com/v1alpha1, watched in all namespaces) into openvino-notebook images, as the
        OpenVINO Toolkit Operator does, and write the outcome to their status. Needs the
        rights of deploy/builder-notebooks-rbac.yaml (tuning: c.NotebookReconciler).""",
    ).tag(config=True)

    namespace = Unicode(
        model.DEFAULT_NAMESPACE,
        help="""The namespace Notebook resources must be created in (the operator's rule);
        a Notebook elsewhere gets the operator's message in its status and nothing is built.
        redhat-ods-applications on Red Hat OpenShift AI; set it for other distributions.""",
    ).tag(config=True)

    watch_all_namespaces = Bool(
        True,
        help="""Watch Notebook resources in every namespace, so that one created in the wrong
        namespace is answered with the operator's message (a ClusterRole:
        deploy/builder-notebooks-rbac.yaml). False: only `namespace` is watched (a Role there
        suffices, as deploy/base grants; a Notebook elsewhere is left alone).""",
    ).tag(config=True)

    require_operator = Bool(
        True,
        help="""Build only while the RHODS or ODH operator Deployment exists (the OpenVINO
        Toolkit Operator's rule: the image integrates with their JupyterHub), reading the two
        Deployments by name in the operators' namespaces. False where this hub is the
        JupyterHub the images are for (deploy/): no operator is needed, nothing is read.""",
    ).tag(config=True)

    controller: NotebookController | None = None

    def routes(self) -> list[Route]:
        name = openapi.NOTEBOOK_NAME
        return [
            Route("/api/notebooks", handlers.NotebooksHandler),
            Route("/api/notebooks/{id}", handlers.NotebookHandler, name),
            Route("/api/notebooks/{id}/check", handlers.CheckHandler, name),
        ]

    def openapi_paths(self) -> dict[str, Any]:
        return openapi.PATHS

    def openapi_schemas(self) -> dict[str, Any]:
        return openapi.SCHEMAS

    def panel(self) -> PanelSection:
        return PanelSection("section.html", scripts=("notebooks.js",))

    def panel_namespace(self) -> dict[str, Any]:
        # the operator's defaults, as the "Create Notebook" form's initial values
        return {"notebook_defaults": model.NotebookParams(name="")}

    async def start(self, host: Host) -> None:
        """The controller, then (OpenShift backend) the reconciler of cluster Notebooks."""
        controller = NotebookController(manager=host.manager, parent=self, log=self.log)
        await controller.start()
        host.stack.push_async_callback(controller.stop)
        self.controller = controller
        if self.watch_cluster and host.manager.backend.in_cluster:
            from .cluster import NotebookReconciler  # kubernetes_asyncio only when used

            reconciler = NotebookReconciler(
                controller=controller,
                required_namespace=self.namespace,
                all_namespaces=self.watch_all_namespaces,
                require_operator=self.require_operator,
                parent=self,
                log=self.log,
            )
            if not reconciler.kubeconfig:  # the backend's cluster unless configured otherwise
                reconciler.kubeconfig = getattr(host.manager.backend, "kubeconfig", "")
            await reconciler.start()
            host.stack.push_async_callback(reconciler.stop)
