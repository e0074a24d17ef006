"""The Deployment controller of the simulator: Deployment -> ReplicaSets -> (their) pods.

The ReplicaSet of the current template is ``<deployment>-<pod-template-hash>``: its
selector and template carry the ``pod-template-hash`` label, it is owned by the Deployment
and numbered by the ``deployment.kubernetes.io/revision`` annotation. A changed template
gets a new ReplicaSet; ``RollingUpdate`` (the default) scales it up within ``maxSurge`` and
the old ones down within ``maxUnavailable`` (defaults 25%, as the real controller's
arithmetic: for a few replicas that is one pod at a time, a new one first), ``Recreate``
scales the old ones to zero before the new one starts. Old ReplicaSets beyond
``revisionHistoryLimit`` (10) are deleted. Status: replicas, updatedReplicas,
readyReplicas, availableReplicas, unavailableReplicas, observedGeneration and the
``Available`` / ``Progressing`` conditions with the real reasons. Not simulated: ``paused``,
``progressDeadlineSeconds``, ``minReadySeconds``, proportional scaling during a rollout,
hash collisions. Part of the cluster simulator, a test double of Kubernetes.
"""

from __future__ import annotations

import copy
from typing import Any

from . import rollout
from .controller import Reconciler
from .errors import ApiError
from .kinds import ResourceKind
from .patches import MERGE_PATCH
from .store import ObjectStore
from .watchcache import WatchEvent

HISTORY_LIMIT = 10


class DeploymentController(Reconciler):
    component = "deployment-controller"
    watched = (("apps", "v1", "deployments"), ("apps", "v1", "replicasets"))

    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store)
        self.deployment_kind = self.kind("apps", "v1", "deployments")
        self.rs_kind = self.kind("apps", "v1", "replicasets")

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        md = event.obj["metadata"]
        if kind is self.deployment_kind:
            self.enqueue(md.get("namespace", ""), md["name"])
        else:
            self.enqueue_owner(event.obj, "Deployment")

    def reconcile(self, namespace: str, name: str) -> None:
        deployment = self.live(self.deployment_kind, namespace, name)
        if deployment is None:
            return
        uid = deployment["metadata"]["uid"]
        items, _ = self.store.list_objects(self.rs_kind, namespace)
        owned = [rs for rs in items if rollout.controller_uid(rs) == uid]
        template = rollout.without_hash((deployment.get("spec") or {}).get("template") or {})
        new = next(
            (rs for rs in owned if rollout.without_hash(rs["spec"].get("template")) == template),
            None,
        )
        olds = sorted((rs for rs in owned if rs is not new), key=_revision)
        created = new is None
        if new is None:
            new = self._create_replica_set(deployment, olds)
        # act only on ReplicaSet statuses that are up to date with their specs (the real
        # controller's "expectations"): a stale count would scale down too far
        if all(_observed(rs) for rs in [new, *olds]):
            strategy = ((deployment.get("spec") or {}).get("strategy") or {}).get("type")
            if strategy == "Recreate":
                self._recreate(deployment, new, olds)
            else:
                self._roll(deployment, new, olds)
            self._clean_history(deployment, olds)
        self._set_revision(deployment, new)
        items, _ = self.store.list_objects(self.rs_kind, namespace)
        current = [rs for rs in items if rollout.controller_uid(rs) == uid]
        new_now = next(
            (rs for rs in current if rs["metadata"]["uid"] == new["metadata"]["uid"]), None
        )
        status = rollout.deployment_status(deployment, new_now, current, created)
        self.merge_status(self.deployment_kind, deployment, status)

    # -- the steps -------------------------------------------------------------------------

    def _create_replica_set(
        self, deployment: dict[str, Any], olds: list[dict[str, Any]]
    ) -> dict[str, Any]:
        md, spec = deployment["metadata"], deployment.get("spec") or {}
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = rollout.template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[rollout.HASH_LABEL] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[rollout.HASH_LABEL] = pod_hash
        revision = max([_revision(rs) for rs in olds] + [0]) + 1
        rolling = any(rollout.replicas_of(rs) for rs in olds)
        body = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{md['name']}-{pod_hash}",
                "namespace": md["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {rollout.REVISION: str(revision)},
                "ownerReferences": [rollout.owner_reference(deployment)],
            },
            "spec": {
                "replicas": 0 if rolling else rollout.replicas_of(deployment),
                "selector": selector,
                "template": template,
            },
        }
        rs = self.store.create(self.rs_kind, md["namespace"], body)
        if not rolling:
            self._scaled_event(deployment, rs, 0, rollout.replicas_of(deployment))
        return rs

    def _scale(self, deployment: dict[str, Any], rs: dict[str, Any], replicas: int) -> None:
        before = rollout.replicas_of(rs)
        if before == replicas:
            return
        md = rs["metadata"]
        body = {"spec": {"replicas": replicas}}
        updated = self.store.patch(self.rs_kind, md["namespace"], md["name"], body, MERGE_PATCH)
        rs["spec"] = updated["spec"]
        self._scaled_event(deployment, rs, before, replicas)

    def _scaled_event(
        self, deployment: dict[str, Any], rs: dict[str, Any], before: int, after: int
    ) -> None:
        way = "up" if after > before else "down"
        message = f"Scaled {way} replica set {rs['metadata']['name']} from {before} to {after}"
        self.record_event(deployment, "ScalingReplicaSet", message)

    def _roll(
        self, deployment: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]]
    ) -> None:
        """One step of a rolling update, with the real controller's arithmetic."""
        want = rollout.replicas_of(deployment)
        surge, unavailable = rollout.surge_and_unavailable(deployment)
        everyone = [new, *olds]
        total = sum(rollout.replicas_of(rs) for rs in everyone)
        if rollout.replicas_of(new) > want or not any(rollout.replicas_of(rs) for rs in olds):
            self._scale(deployment, new, want)
        elif (room := want + surge - total) > 0:
            self._scale(deployment, new, min(want, rollout.replicas_of(new) + room))
        total = sum(rollout.replicas_of(rs) for rs in everyone)
        new_unavailable = rollout.replicas_of(new) - rollout.status_count(new, "availableReplicas")
        budget = total - (want - unavailable) - max(new_unavailable, 0)
        for rs in olds:  # first the old pods that are not available anyway
            unhealthy = rollout.replicas_of(rs) - rollout.status_count(rs, "availableReplicas")
            cut = min(max(unhealthy, 0), max(budget, 0))
            if cut:
                self._scale(deployment, rs, rollout.replicas_of(rs) - cut)
                budget -= cut
        available = sum(rollout.status_count(rs, "availableReplicas") for rs in everyone)
        budget = available - (want - unavailable)
        for rs in olds:
            cut = min(rollout.replicas_of(rs), max(budget, 0))
            if cut:
                self._scale(deployment, rs, rollout.replicas_of(rs) - cut)
                budget -= cut

    def _recreate(
        self, deployment: dict[str, Any], new: dict[str, Any], olds: list[dict[str, Any]]
    ) -> None:
        for rs in olds:
            self._scale(deployment, rs, 0)
        if not any(rollout.status_count(rs, "replicas") for rs in olds):
            self._scale(deployment, new, rollout.replicas_of(deployment))

    def _clean_history(self, deployment: dict[str, Any], olds: list[dict[str, Any]]) -> None:
        limit = (deployment.get("spec") or {}).get("revisionHistoryLimit", HISTORY_LIMIT)
        idle = [
            rs
            for rs in olds
            if not rollout.replicas_of(rs) and not rollout.status_count(rs, "replicas")
        ]
        for rs in idle[: max(len(idle) - int(limit), 0)]:
            try:
                self.store.delete(self.rs_kind, rs["metadata"]["namespace"], rs["metadata"]["name"])
            except ApiError as error:
                if error.code != 404:
                    raise

    def _set_revision(self, deployment: dict[str, Any], new: dict[str, Any]) -> None:
        revision = (new["metadata"].get("annotations") or {}).get(rollout.REVISION)
        annotations = deployment["metadata"].get("annotations") or {}
        if revision and annotations.get(rollout.REVISION) != revision:
            md = deployment["metadata"]
            body = {"metadata": {"annotations": {rollout.REVISION: revision}}}
            self.store.patch(self.deployment_kind, md["namespace"], md["name"], body, MERGE_PATCH)


def _observed(rs: dict[str, Any]) -> bool:
    observed = (rs.get("status") or {}).get("observedGeneration")
    return observed is not None and int(observed) >= int(rs["metadata"].get("generation", 1))


def _revision(rs: dict[str, Any]) -> int:
    value = (rs["metadata"].get("annotations") or {}).get(rollout.REVISION, "0")
    return int(value) if str(value).isdigit() else 0
