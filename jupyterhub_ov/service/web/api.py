"""The service's own routes: the OpenAPI document, the metrics, and 404 for any other API
path."""

from __future__ import annotations

from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ... import metrics
from ..scopes import METRICS_SCOPE
from .base import ApiError, BaseHandler


class OpenAPIHandler(BaseHandler):
    """The OpenAPI document, readable without authentication (it holds no data)."""

    identified = False

    def initialize(self, context: Any, document: dict[str, Any]) -> None:  # type: ignore[override]
        super().initialize(context)
        self.document = document

    def get(self) -> None:
        self.write_json(self.document)


class NotFoundHandler(BaseHandler):
    async def admit(self) -> None:
        raise ApiError(404, f"No such API path: {self.request.path}")


class MetricsHandler(BaseHandler):
    """The service's Prometheus metrics (`jupyterhub_ov.metrics.SERVICE_REGISTRY`), for
    identities with ``read:metrics``; the gauges are read now, from the build manager and
    each feature (`Feature.update_metrics`); a feature that cannot read its state (the cluster
    unreachable) keeps its gauges' last values and the log says why."""

    async def get(self) -> None:
        self.require(METRICS_SCOPE)
        metrics.BUILD_QUEUE.set(self.manager.queue_length())
        metrics.BUILDS_RUNNING.set(self.manager.in_flight())
        for feature in self.ctx.features:
            try:
                await feature.update_metrics()
            except Exception as e:  # the cluster unreachable: the rest is still worth reading
                self.log.warning("The %s metrics were not updated: %s", feature.name, e)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(metrics.SERVICE_REGISTRY))
