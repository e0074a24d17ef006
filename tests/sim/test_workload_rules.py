"""The pure rules behind Deployments, Services and probes: table tests, no cluster."""

from __future__ import annotations

from typing import Any

import pytest
from jupyterhub_ov_sim import rollout
from jupyterhub_ov_sim.podenv import image_command, image_repository
from jupyterhub_ov_sim.probes import Probe, readiness_probe
from jupyterhub_ov_sim.scale import selector_string
from jupyterhub_ov_sim.serviceenv import service_env

MAPPED = {"openvino/model_server": ["ovms-local"], "localhost:5000/mine": ["mine"]}


@pytest.mark.parametrize(
    ("image", "repository", "command"),
    [
        ("openvino/model_server", "openvino/model_server", ["ovms-local"]),
        ("openvino/model_server:2024.5", "openvino/model_server", ["ovms-local"]),
        (
            "docker.io/openvino/model_server:2024.5",
            "docker.io/openvino/model_server",
            ["ovms-local"],
        ),
        (
            "quay.io/openvino/model_server@sha256:ab",
            "quay.io/openvino/model_server",
            ["ovms-local"],
        ),
        ("localhost:5000/mine:1", "localhost:5000/mine", ["mine"]),
        ("openvino/model_server_other:1", "openvino/model_server_other", []),
        ("x/openvino/model_server:1", "x/openvino/model_server", []),  # x is no registry host
    ],
)
def test_image_command(image: str, repository: str, command: list[str]) -> None:
    assert image_repository(image) == repository
    assert image_command(image, MAPPED) == command


def test_service_env() -> None:
    services = [
        {
            "metadata": {"name": "model-server"},
            "spec": {
                "clusterIP": "127.96.1.5",
                "ports": [
                    {"name": "grpc", "port": 9000, "protocol": "TCP"},
                    {"name": "rest", "port": 8000, "protocol": "TCP"},
                ],
            },
        },
        {"metadata": {"name": "headless"}, "spec": {"clusterIP": "None", "ports": [{"port": 1}]}},
        {"metadata": {"name": "external"}, "spec": {"type": "ExternalName"}},
    ]
    assert service_env(services) == {
        "MODEL_SERVER_SERVICE_HOST": "127.96.1.5",
        "MODEL_SERVER_SERVICE_PORT": "9000",
        "MODEL_SERVER_SERVICE_PORT_GRPC": "9000",
        "MODEL_SERVER_SERVICE_PORT_REST": "8000",
        "MODEL_SERVER_PORT": "tcp://127.96.1.5:9000",
        "MODEL_SERVER_PORT_9000_TCP": "tcp://127.96.1.5:9000",
        "MODEL_SERVER_PORT_9000_TCP_PROTO": "tcp",
        "MODEL_SERVER_PORT_9000_TCP_PORT": "9000",
        "MODEL_SERVER_PORT_9000_TCP_ADDR": "127.96.1.5",
        "MODEL_SERVER_PORT_8000_TCP": "tcp://127.96.1.5:8000",
        "MODEL_SERVER_PORT_8000_TCP_PROTO": "tcp",
        "MODEL_SERVER_PORT_8000_TCP_PORT": "8000",
        "MODEL_SERVER_PORT_8000_TCP_ADDR": "127.96.1.5",
    }


def _deployment(replicas: int, rolling: dict[str, Any] | None = None) -> dict[str, Any]:
    strategy = {"rollingUpdate": rolling} if rolling is not None else {}
    return {"spec": {"replicas": replicas, "strategy": strategy}}


@pytest.mark.parametrize(
    ("replicas", "rolling", "expected"),
    [
        (1, None, (1, 0)),
        (3, None, (1, 0)),
        (4, None, (1, 1)),
        (10, None, (3, 2)),
        (10, {"maxSurge": 0, "maxUnavailable": 0}, (0, 1)),
        (5, {"maxSurge": "50%", "maxUnavailable": "50%"}, (3, 2)),
        (2, {"maxSurge": 2, "maxUnavailable": 5}, (2, 2)),
    ],
)
def test_surge_and_unavailable(
    replicas: int, rolling: dict[str, Any] | None, expected: tuple[int, int]
) -> None:
    assert rollout.surge_and_unavailable(_deployment(replicas, rolling)) == expected


def test_template_hash() -> None:
    template = {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "a"}]}}
    pod_hash = rollout.template_hash(template)
    assert 1 <= len(pod_hash) <= 10 and set(pod_hash) <= set("bcdfghjklmnpqrstvwxz2456789")
    labelled = {**template, "metadata": {"labels": {"app": "web", "pod-template-hash": pod_hash}}}
    assert rollout.template_hash(labelled) == pod_hash  # its own label does not count
    changed = {**template, "spec": {"containers": [{"name": "b"}]}}
    assert rollout.template_hash(changed) != pod_hash
    assert rollout.template_hash(template, collision_count=1) != pod_hash


@pytest.mark.parametrize(
    ("container", "expected"),
    [
        ({}, None),
        ({"readinessProbe": {"exec": {"command": ["true"]}}}, None),
        ({"readinessProbe": {"tcpSocket": {"port": 80}}}, Probe(port=80)),
        (
            {
                "ports": [{"name": "rest", "containerPort": 8001}],
                "readinessProbe": {
                    "httpGet": {"path": "/v2/health/ready", "port": "rest"},
                    "initialDelaySeconds": 5,
                    "periodSeconds": 2,
                    "failureThreshold": 1,
                },
            },
            Probe(
                port=8001, path="/v2/health/ready", initial_delay=5, period=2, failure_threshold=1
            ),
        ),
        ({"readinessProbe": {"httpGet": {"port": "8080"}}}, Probe(port=8080, path="/")),
        ({"readinessProbe": {"httpGet": {"port": "missing"}}}, None),
    ],
)
def test_readiness_probe(container: dict[str, Any], expected: Probe | None) -> None:
    assert readiness_probe(container) == expected


@pytest.mark.parametrize(
    ("selector", "text"),
    [
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {"matchExpressions": [{"key": "k", "operator": "In", "values": ["x", "y"]}]},
            "k in (x,y)",
        ),
        ({"matchExpressions": [{"key": "k", "operator": "DoesNotExist"}]}, "!k"),
        ({"matchExpressions": [{"key": "k", "operator": "Exists"}]}, "k"),
        (None, ""),
    ],
)
def test_scale_selector(selector: dict[str, Any] | None, text: str) -> None:
    assert selector_string(selector) == text


def test_deletion_order() -> None:
    def pod(name: str, created: str, node: bool, running: bool, is_ready: bool) -> dict[str, Any]:
        conditions = [{"type": "Ready", "status": "True" if is_ready else "False"}]
        return {
            "metadata": {"name": name, "creationTimestamp": created},
            "spec": {"nodeName": "n"} if node else {},
            "status": {"phase": "Running" if running else "Pending", "conditions": conditions},
        }

    pods = [
        pod("old-ready", "2024-01-01T00:00:00Z", True, True, True),
        pod("new-ready", "2024-01-02T00:00:00Z", True, True, True),
        pod("unready", "2024-01-01T00:00:00Z", True, True, False),
        pod("pending", "2024-01-01T00:00:00Z", True, False, False),
        pod("unscheduled", "2024-01-01T00:00:00Z", False, False, False),
    ]
    order = [p["metadata"]["name"] for p in rollout.deletion_order(pods)]
    assert order == ["unscheduled", "pending", "unready", "new-ready", "old-ready"]
