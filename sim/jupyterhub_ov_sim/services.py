"""The Service controller of the simulator: endpoints and a forwarder per Service port.

For every Service with a ``selector`` it keeps the Endpoints object of the same name and
the EndpointSlices (``<service>-<random>``, labelled ``kubernetes.io/service-name``, owned
by the Service) listing the selected pods, ready or not (``endpoints``). For every TCP
port of a Service with a cluster IP it listens on ``<clusterIP>:<port>`` and forwards each
connection to a ready address of the Service's Endpoints, round-robin (``forwarder``);
a Service without a selector forwards to the Endpoints its owner writes. Headless and
ExternalName Services get no forwarder; NodePort and LoadBalancer ones are served like
ClusterIP ones (no node ports). A port that cannot be bound (in use; below 1024 when not
root) is a Warning event on the Service. Part of the cluster simulator, a test double.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import endpoints
from .controller import Reconciler
from .errors import ApiError
from .forwarder import Forwarder
from .kinds import ResourceKind
from .rollout import owner_reference
from .selectors import labels_match, parse_label_selector
from .store import ObjectStore
from .watchcache import WatchEvent

log = logging.getLogger(__name__)
Key = tuple[str, str]


class ServiceController(Reconciler):
    component = "endpoint-controller"
    watched = (("", "v1", "services"), ("", "v1", "pods"), ("", "v1", "endpoints"))

    def __init__(self, store: ObjectStore) -> None:
        super().__init__(store)
        self.service_kind = self.kind("", "v1", "services")
        self.pod_kind = self.kind("", "v1", "pods")
        self.endpoints_kind = self.kind("", "v1", "endpoints")
        self.slice_kind = self.kind("discovery.k8s.io", "v1", "endpointslices")
        # (namespace, service) -> {(port name, port): its forwarder}
        self.forwarders: dict[Key, dict[tuple[str, int], Forwarder]] = {}

    async def stop(self) -> None:
        await super().stop()
        for ports in self.forwarders.values():
            for forwarder in ports.values():
                await forwarder.stop()
        self.forwarders.clear()

    def on_event(self, kind: ResourceKind, event: WatchEvent) -> None:
        md = event.obj["metadata"]
        namespace = md.get("namespace", "")
        if kind is self.pod_kind:
            services, _ = self.store.list_objects(self.service_kind, namespace)
            for service in services:
                self.enqueue(namespace, service["metadata"]["name"])
        else:  # a Service, or Endpoints (forwarders of selector-less Services follow them)
            self.enqueue(namespace, md["name"])

    def reconcile(self, namespace: str, name: str) -> None:
        try:
            service = self.store.get(self.service_kind, namespace, name)
        except ApiError as error:
            if error.code != 404:
                raise
            self._forget(namespace, name)
            return
        if (service.get("spec") or {}).get("selector"):
            pods, _ = self.store.list_objects(self.pod_kind, namespace)
            groups = endpoints.grouped(service, pods)
            self._write_endpoints(service, groups)
            self._write_slices(service, groups)
        self._forward(service)

    # -- endpoints -------------------------------------------------------------------------

    def _write_endpoints(self, service: dict[str, Any], groups: dict[Any, Any]) -> None:
        md = service["metadata"]
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {
                "name": md["name"],
                "namespace": md["namespace"],
                "labels": md.get("labels") or {},
            },
        }
        if subsets := endpoints.endpoints_subsets(groups):
            body["subsets"] = subsets
        try:
            current = self.store.get(self.endpoints_kind, md["namespace"], md["name"])
        except ApiError as error:
            if error.code != 404:
                raise
            self.store.create(self.endpoints_kind, md["namespace"], body)
            return
        body["metadata"] = {**current["metadata"], "labels": body["metadata"]["labels"]}
        self.store.update(self.endpoints_kind, md["namespace"], md["name"], body)

    def _write_slices(self, service: dict[str, Any], groups: dict[Any, Any]) -> None:
        md = service["metadata"]
        selector = parse_label_selector(f"{endpoints.SERVICE_NAME}={md['name']}")
        existing, _ = self.store.list_objects(
            self.slice_kind,
            md["namespace"],
            lambda o: labels_match(selector, o["metadata"].get("labels")),
        )
        wanted = [endpoints.slice_body(ports, pods) for ports, pods in groups.items()]
        if not wanted:
            wanted = [{"addressType": "IPv4", "endpoints": [], "ports": []}]
        for index, content in enumerate(wanted):
            if index < len(existing):
                body = {**existing[index], **content}
                self.store.update(self.slice_kind, md["namespace"], body["metadata"]["name"], body)
                continue
            labels = {
                endpoints.SERVICE_NAME: md["name"],
                endpoints.MANAGED_BY: endpoints.SLICE_CONTROLLER,
            }
            metadata = {
                "generateName": f"{md['name']}-",
                "labels": labels,
                "ownerReferences": [owner_reference(service)],
            }
            body = {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": metadata,
            }
            self.store.create(self.slice_kind, md["namespace"], {**body, **content})
        for extra in existing[len(wanted) :]:
            self.store.delete(self.slice_kind, md["namespace"], extra["metadata"]["name"])

    def _forget(self, namespace: str, name: str) -> None:
        """The Service is gone: its forwarders stop, its Endpoints go (slices: by gc)."""
        for forwarder in self.forwarders.pop((namespace, name), {}).values():
            self.spawn(forwarder.stop())
        try:
            self.store.delete(self.endpoints_kind, namespace, name)
        except ApiError as error:
            if error.code != 404:
                raise

    # -- forwarding ------------------------------------------------------------------------

    def _targets(self, namespace: str, name: str, port_name: str) -> list[tuple[str, int]]:
        try:
            current = self.store.get(self.endpoints_kind, namespace, name)
        except ApiError:
            return []
        return endpoints.ready_targets(current, port_name)

    def _forward(self, service: dict[str, Any]) -> None:
        md, spec = service["metadata"], service.get("spec") or {}
        key = (md["namespace"], md["name"])
        ip = spec.get("clusterIP")
        wanted: set[tuple[str, int]] = set()
        if ip and ip != "None":
            wanted = {
                (port.get("name") or "", int(port["port"]))
                for port in spec.get("ports") or []
                if (port.get("protocol") or "TCP") == "TCP"
            }
        running = self.forwarders.setdefault(key, {})
        for port_key in set(running) - wanted:
            self.spawn(running.pop(port_key).stop())
        for port_name, number in wanted - set(running):
            forwarder = Forwarder(str(ip), number, self._targets_of(key, port_name))
            running[(port_name, number)] = forwarder
            self.spawn(self._listen(service, forwarder))

    def _targets_of(self, key: Key, port_name: str) -> Callable[[], list[tuple[str, int]]]:
        return lambda: self._targets(key[0], key[1], port_name)

    async def _listen(self, service: dict[str, Any], forwarder: Forwarder) -> None:
        try:
            await forwarder.start()
        except OSError as error:
            message = f"cannot listen on {forwarder.host}:{forwarder.port}: {error.strerror}"
            log.warning("service %s: %s", service["metadata"]["name"], message)
            self.record_event(service, "FailedToListen", message, "Warning")
