"""The resource kinds the simulated API server serves, and the registry that holds them.

Adding a kind is one line: ``registry.register(custom("example.com/v1", "Widget"))``.
Part of the cluster simulator, a test double of Kubernetes (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

BASE_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class ResourceKind:
    """One REST resource: where it lives, how it is named and how the server treats it."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    status_subresource: bool = True
    builtin: bool = True
    # True where the real registry sets ReturnDeletedObject (DELETE answers with the object,
    # otherwise with a Status of Success).
    returns_deleted_object: bool = False
    short_names: tuple[str, ...] = ()
    selectable_fields: tuple[str, ...] = ()
    initial_status: dict[str, Any] | None = field(default=None, compare=False)

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified_resource(self) -> str:
        """``pods`` or ``deployments.apps``, as the real server names resources in messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """``Pod`` or ``Deployment.apps``, as used in 422 Invalid messages."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def field_selectors(self) -> tuple[str, ...]:
        return BASE_FIELDS + self.selectable_fields

    @property
    def key(self) -> tuple[str, str]:
        return (self.group, self.plural)


def _split_group_version(group_version: str) -> tuple[str, str]:
    group, _, version = group_version.rpartition("/")
    return group, version


def core(kind: str, plural: str | None = None, **options: Any) -> ResourceKind:
    """A core (``v1``) kind."""
    return ResourceKind("", "v1", kind, plural or kind.lower() + "s", **options)


def builtin(
    group_version: str, kind: str, plural: str | None = None, **options: Any
) -> ResourceKind:
    """A kind of a built-in API group such as ``apps/v1``."""
    group, version = _split_group_version(group_version)
    return ResourceKind(group, version, kind, plural or kind.lower() + "s", **options)


def custom(
    group_version: str, kind: str, plural: str | None = None, **options: Any
) -> ResourceKind:
    """A custom resource kind (served like a CRD: status subresource, no strategic merge)."""
    options.setdefault("builtin", False)
    options.setdefault("returns_deleted_object", True)
    group, version = _split_group_version(group_version)
    return ResourceKind(group, version, kind, plural or kind.lower() + "s", **options)


POD_FIELDS = (
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "status.phase",
    "status.podIP",
)
EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "reason",
    "type",
)

DEFAULT_KINDS: tuple[ResourceKind, ...] = (
    core(
        "Pod",
        short_names=("po",),
        returns_deleted_object=True,
        selectable_fields=POD_FIELDS,
        initial_status={"phase": "Pending", "qosClass": "BestEffort"},
    ),
    core(
        "PersistentVolumeClaim",
        short_names=("pvc",),
        returns_deleted_object=True,
        initial_status={"phase": "Pending"},
    ),
    core(
        "PersistentVolume",
        short_names=("pv",),
        namespaced=False,
        returns_deleted_object=True,
        initial_status={"phase": "Pending"},
    ),
    core("ConfigMap", short_names=("cm",), status_subresource=False),
    core("Secret", status_subresource=False, selectable_fields=("type",)),
    core("Service", short_names=("svc",), returns_deleted_object=True, initial_status={}),
    core("Endpoints", "endpoints", short_names=("ep",), status_subresource=False),
    core("Event", short_names=("ev",), status_subresource=False, selectable_fields=EVENT_FIELDS),
    core(
        "Namespace",
        short_names=("ns",),
        namespaced=False,
        selectable_fields=("status.phase",),
        initial_status={"phase": "Active"},
    ),
    core(
        "ServiceAccount", short_names=("sa",), status_subresource=False, returns_deleted_object=True
    ),
    core("Node", short_names=("no",), namespaced=False, initial_status={}),
    builtin("apps/v1", "Deployment", short_names=("deploy",), initial_status={}),
    builtin("apps/v1", "ReplicaSet", short_names=("rs",), initial_status={}),
    builtin("discovery.k8s.io/v1", "EndpointSlice", status_subresource=False),
    builtin(
        "storage.k8s.io/v1",
        "StorageClass",
        "storageclasses",
        short_names=("sc",),
        namespaced=False,
        status_subresource=False,
        returns_deleted_object=True,
    ),
    # served so that manifests apply (deploy/): stored, never enforced — the simulator has
    # no authorization and no network isolation (Ingresses and Routes: router.py serves them)
    builtin("rbac.authorization.k8s.io/v1", "Role", status_subresource=False),
    builtin("rbac.authorization.k8s.io/v1", "RoleBinding", status_subresource=False),
    builtin(
        "rbac.authorization.k8s.io/v1", "ClusterRole", namespaced=False, status_subresource=False
    ),
    builtin(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        namespaced=False,
        status_subresource=False,
    ),
    builtin(
        "networking.k8s.io/v1",
        "NetworkPolicy",
        "networkpolicies",
        short_names=("netpol",),
        status_subresource=False,
    ),
    builtin(
        "networking.k8s.io/v1", "Ingress", "ingresses", short_names=("ing",), initial_status={}
    ),
    custom("image.openshift.io/v1", "ImageStream", short_names=("is",)),
    # OpenShift's build API has no status subresource: status is written with the object
    # (``oc cancel-build`` PUTs the Build with status.cancelled), and creation resets it
    custom(
        "build.openshift.io/v1",
        "BuildConfig",
        short_names=("bc",),
        status_subresource=False,
        initial_status={},
    ),
    custom(
        "build.openshift.io/v1", "Build", status_subresource=False, initial_status={"phase": "New"}
    ),
    custom("objectbucket.io/v1alpha1", "ObjectBucketClaim", short_names=("obc",)),
    custom("objectbucket.io/v1alpha1", "ObjectBucket", short_names=("ob",), namespaced=False),
    custom("route.openshift.io/v1", "Route"),
    custom("tekton.dev/v1", "PipelineRun", short_names=("pr",)),
    custom("tekton.dev/v1", "TaskRun", short_names=("tr",)),
    custom("intel.com/v1alpha1", "Notebook"),
    custom("intel.com/v1alpha1", "ModelServer"),
    custom("meteor.zone/v1alpha1", "CustomNBImage"),
)


class KindRegistry:
    """The kinds a server serves, looked up by URL parts or by apiVersion + kind."""

    def __init__(self, kinds: Iterable[ResourceKind] = DEFAULT_KINDS) -> None:
        self._by_path: dict[tuple[str, str, str], ResourceKind] = {}
        self._by_kind: dict[tuple[str, str], ResourceKind] = {}
        for kind in kinds:
            self.register(kind)

    def register(self, kind: ResourceKind) -> ResourceKind:
        self._by_path[(kind.group, kind.version, kind.plural)] = kind
        self._by_kind[(kind.api_version, kind.kind)] = kind
        return kind

    def lookup(self, group: str, version: str, plural: str) -> ResourceKind | None:
        return self._by_path.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceKind | None:
        return self._by_kind.get((api_version, kind))

    def group_versions(self) -> dict[str, list[ResourceKind]]:
        """Kinds grouped by ``group/version`` (``v1`` for core), in registration order."""
        grouped: dict[str, list[ResourceKind]] = {}
        for kind in self._by_path.values():
            grouped.setdefault(kind.api_version, []).append(kind)
        return grouped

    def __iter__(self) -> Iterator[ResourceKind]:
        return iter(list(self._by_path.values()))
