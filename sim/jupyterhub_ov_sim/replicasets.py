"""The ReplicaSet controller of the simulator: keeps ``spec.replicas`` pods of the template.

Pods are named ``<replicaset>-<5 random characters>`` (generateName), labelled from the
template and owned by the ReplicaSet (controller ownerReference), so deleting the ReplicaSet
deletes them (``gc``). Surplus pods go unscheduled, pending, not ready and newest first.
A pod whose container exited (Succeeded/Failed) is deleted and replaced after
``replace_delay`` (1 s), a shortened back-off: the simulated kubelet restarts no container.
Status: replicas, fullyLabeledReplicas, readyReplicas, availableReplicas
(``minReadySeconds`` is not honoured), observedGeneration. Orphans are not adopted.
Part of the cluster simulator, a test double of Kubernetes.
"""

from __future__ import annotations

import asyncio
from typing import Any

from . import rollout
from .controller import Reconciler
from .errors import ApiError
from .kinds import ResourceKind
from .store import ObjectStore
from .watchcache import WatchEvent


class ReplicaSetController(Reconciler):
    component = "replicaset-controller"
    watched = (("apps", "v1", "replicasets"), ("", "v1", "pods"))

    def __init__(self, store: ObjectStore, *, replace_delay: float = 1.0) -> None:
        super().__init__(store)
        #: how long a pod whose process exited stays before it is replaced (a shortened
        #: CrashLoopBackOff: the simulated kubelet restarts no container)
        self.replace_delay = replace_delay
        self._exited: dict[str, float] = {}  # pod uid -> when its exit was first seen
        self.rs_kind = self.kind("apps", "v1", "replicasets")
        self.pod_kind = self.kind("", "v1", "pods")

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        md = event.obj["metadata"]
        if kind is self.rs_kind:
            self.enqueue(md.get("namespace", ""), md["name"])
        else:
            self.enqueue_owner(event.obj, "ReplicaSet")

    def reconcile(self, namespace: str, name: str) -> None:
        rs = self.live(self.rs_kind, namespace, name)
        if rs is None:
            return
        uid = rs["metadata"]["uid"]
        pods, _ = self.store.list_objects(self.pod_kind, namespace)
        owned = [pod for pod in pods if rollout.controller_uid(pod) == uid]
        active = [pod for pod in owned if rollout.pod_active(pod)]
        exited = [pod for pod in owned if not pod["metadata"].get("deletionTimestamp")]
        waiting = self._replace_exited(rs, [pod for pod in exited if not rollout.pod_active(pod)])
        want = rollout.replicas_of(rs)
        for _ in range(want - len(active) - len(waiting)):
            pod = self._create_pod(rs)
            if pod is None:
                break
            active.append(pod)
        surplus = [*waiting, *rollout.deletion_order(active)]
        for pod in surplus[: max(len(active) + len(waiting) - want, 0)]:
            self._delete_pod(rs, pod)
            (waiting if pod in waiting else active).remove(pod)
        self.merge_status(self.rs_kind, rs, rollout.replicaset_status(rs, active + waiting))

    def _replace_exited(self, rs: dict[str, Any], exited: list[dict[str, Any]]) -> list[dict]:
        """Delete the pods whose process exited ``replace_delay`` ago (to be replaced); the
        ones still waiting keep their place, as a container in back-off would."""
        loop = asyncio.get_running_loop()
        waiting = []
        for pod in exited:
            uid = pod["metadata"]["uid"]
            left = self._exited.setdefault(uid, loop.time()) + self.replace_delay - loop.time()
            if left <= 0:
                self._exited.pop(uid, None)
                self._delete_pod(rs, pod)
            else:
                md = rs["metadata"]
                loop.call_later(left, self.enqueue, md["namespace"], md["name"])
                waiting.append(pod)
        return waiting

    def _create_pod(self, rs: dict[str, Any]) -> dict[str, Any] | None:
        template = (rs.get("spec") or {}).get("template") or {}
        template_md = template.get("metadata") or {}
        md = rs["metadata"]
        body = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "generateName": f"{md['name']}-",
                "namespace": md["namespace"],
                "labels": dict(template_md.get("labels") or {}),
                "annotations": dict(template_md.get("annotations") or {}),
                "ownerReferences": [rollout.owner_reference(rs)],
            },
            "spec": template.get("spec") or {},
        }
        try:
            pod = self.store.create(self.pod_kind, md["namespace"], body)
        except ApiError as error:  # refused by admission (PodSecurity): said, tried again
            if error.code != 403:
                raise
            self.record_event(rs, "FailedCreate", f"Error creating: {error.message}", "Warning")
            return None
        self.record_event(rs, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")
        return pod

    def _delete_pod(self, rs: dict[str, Any], pod: dict[str, Any]) -> None:
        try:
            self.store.delete(self.pod_kind, pod["metadata"]["namespace"], pod["metadata"]["name"])
        except ApiError as error:
            if error.code != 404:
                raise
            return
        self.record_event(rs, "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}")
