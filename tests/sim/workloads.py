"""Pods, Deployments and Services the workload tests run: a tiny HTTP server as the app."""

from __future__ import annotations

import sys
from typing import Any

PY = sys.executable
# Answers its pod's name; /ready is 503 while $NOT_READY is set or the file $UNREADY_FILE exists
SERVER = """
import http.server, os, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        code = 200
        if self.path == "/ready" and (
            os.environ.get("NOT_READY") or os.path.exists(os.environ.get("UNREADY_FILE", "/-"))
        ):
            code = 503
        body = os.environ["HOSTNAME"].encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer((sys.argv[2], int(sys.argv[1])), Handler).serve_forever()
"""


def web_container(port: int = 8080, env: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "name": "web",
        "image": "sim/web:1",
        "command": [PY, "-c", SERVER, str(port), "0.0.0.0"],
        "env": [{"name": k, "value": v} for k, v in (env or {}).items()],
        "ports": [{"name": "http", "containerPort": port}],
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": "http"},
            "periodSeconds": 1,
            "failureThreshold": 1,
        },
    }


def deployment(replicas: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [web_container(env=env)]},
            },
        },
    }


def service(port: int = 9000) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"app": "web"},
            "ports": [{"name": "http", "port": port, "targetPort": "http"}],
        },
    }


def pod(name: str, container: dict[str, Any], labels: dict[str, str] | None = None) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {}},
        "spec": {"restartPolicy": "Never", "containers": [container]},
    }


def ready(obj: dict[str, Any]) -> bool:
    statuses = (obj.get("status") or {}).get("containerStatuses") or [{}]
    conditions = {c["type"]: c["status"] for c in obj["status"].get("conditions") or []}
    return statuses[0].get("ready") is True and conditions.get("Ready") == "True"
