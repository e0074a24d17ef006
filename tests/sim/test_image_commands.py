"""An image with no command the container names runs the local command mapped to its
repository (``ClusterOptions.image_commands``), the container's args after it."""

from __future__ import annotations

from pathlib import Path

import aiohttp
from jupyterhub_ov_sim.apiserver import ApiServer
from jupyterhub_ov_sim.cluster import SimulatedCluster, cluster_options
from kubernetes_asyncio import client

from .helpers import watch_until
from .workloads import PY, pod, ready

# stands in for the model server: serves /v2/health/ready on the port of --rest_port
FAKE_MODEL_SERVER = """
import argparse, http.server
parser = argparse.ArgumentParser()
parser.add_argument("--rest_port", type=int)
parser.add_argument("--model_name")
args = parser.parse_args()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = self.path == "/v2/health/ready"
        body = (args.model_name if ok else "").encode()
        self.send_response(200 if ok else 404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("0.0.0.0", args.rest_port), Handler).serve_forever()
"""


async def test_image_command_runs_for_the_repository(
    sim_server: ApiServer, sim_api_client: client.ApiClient, tmp_path: Path
) -> None:
    script = tmp_path / "fake_ovms.py"
    script.write_text(FAKE_MODEL_SERVER)
    options = cluster_options(
        tmp_path / "sim", image_commands={"openvino/model_server": [PY, str(script)]}
    )
    container = {
        "name": "ovms",
        "image": "docker.io/openvino/model_server:2024.5",
        "args": ["--rest_port", "8001", "--model_name", "resnet"],
        "ports": [{"name": "rest", "containerPort": 8001}],
        "readinessProbe": {"httpGet": {"path": "/v2/health/ready", "port": "rest"}},
    }
    core = client.CoreV1Api(sim_api_client)
    async with SimulatedCluster(options, server=sim_server):
        await core.create_namespaced_pod("default", pod("ovms", container))
        running = await watch_until(
            core.list_namespaced_pod, "default", name="ovms", predicate=ready
        )
        url = f"http://{running['status']['podIP']}:8001/v2/health/ready"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert (response.status, await response.text()) == (200, "resnet")
        # another repository has no mapping: the args alone are the command line, as a
        # runtime runs them for an image without entrypoint
        other = {**container, "image": "quay.io/other/server:1"}
        await core.create_namespaced_pod("default", pod("other", other))
        waiting = await watch_until(
            core.list_namespaced_pod,
            "default",
            name="other",
            predicate=lambda p: bool(p["status"].get("containerStatuses")),
        )
        state = waiting["status"]["containerStatuses"][0]["state"]["waiting"]
        assert state["reason"] == "CreateContainerError"
        assert state["message"] == (
            'container create failed: exec: "--rest_port": executable file not found in $PATH'
        )
