"""The ``jupyterhub-ov-sim`` command: starts, serves a real client, stops its pods cleanly."""

# The client annotates bodies as models; it accepts dicts.
# mypy: disable-error-code="arg-type"

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
from jupyterhub_ov_sim.cli import options_from, parser
from kubernetes_asyncio import client, config

from .helpers import watch_until


def test_options_from_arguments(tmp_path: Path) -> None:
    args = parser().parse_args(
        [
            "--state-dir",
            str(tmp_path),
            "--port",
            "8001",
            "--no-volumes",
            "--storage-class",
            "fast=Retain",
            "--storage-class",
            "slow=Delete",
            "--entrypoint",
            "quay.io/jupyter/base-notebook=tini -g -- start.sh",
            "--image-command",
            "openvino/model_server=python3 -m fake_ovms",
            "--import-failure",
            "quay.io/gone:1=",
            "--import-failure",
            "quay.io/private:1=unauthorized: authentication required",
        ]
    )
    options = options_from(args)
    assert options.port == 8001
    assert options.imports is True
    assert options.import_failures == {
        "quay.io/gone:1": "",
        "quay.io/private:1": "unauthorized: authentication required",
    }
    assert (options.kubelet, options.volumes) == (True, False)
    assert options.storage_classes == {"fast": "Retain", "slow": "Delete"}
    assert options.default_storage_class == "fast"
    assert options.entrypoints == {
        "quay.io/jupyter/base-notebook": ["tini", "-g", "--", "start.sh"]
    }
    assert options.image_commands == {"openvino/model_server": ["python3", "-m", "fake_ovms"]}
    assert options.extra_env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


def test_malformed_pairs_are_refused(tmp_path: Path) -> None:
    args = parser().parse_args(["--state-dir", str(tmp_path), "--storage-class", "nameless"])
    with pytest.raises(SystemExit):
        options_from(args)


async def test_cli_runs_a_pod_and_stops_it_on_sigterm(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "jupyterhub_ov_sim",
        "--state-dir",
        str(tmp_path),
        "--log-level",
        "WARNING",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(30):
            while not lines or "Press Ctrl+C" not in lines[-1]:
                lines.append((await process.stdout.readline()).decode())
                assert lines[-1], "".join(lines)
        url = lines[0].split(": ", 1)[1].strip()
        assert lines[1].startswith("S3 endpoint (moto, IAM enforced): http://127.0.0.1:")
        assert url.startswith("http://127.0.0.1:")
        assert f"export KUBECONFIG={tmp_path / 'kubeconfig'}\n" in "".join(lines).replace("  ", "")
        configuration = client.Configuration()
        await config.load_kube_config(
            config_file=str(tmp_path / "kubeconfig"), client_configuration=configuration
        )
        assert configuration.host == url
        async with client.ApiClient(configuration) as api:
            core = client.CoreV1Api(api)
            body = {
                "metadata": {"name": "sleeper"},
                "spec": {
                    "containers": [
                        {
                            "name": "c",
                            "image": "i",
                            "command": [sys.executable, "-c", "import time; time.sleep(600)"],
                        }
                    ]
                },
            }
            await core.create_namespaced_pod("default", body)
            running = await watch_until(
                core.list_namespaced_pod,
                "default",
                name="sleeper",
                predicate=lambda p: p["status"].get("phase") == "Running",
            )
            objects = client.CustomObjectsApi(api)
            claim = {
                "apiVersion": "objectbucket.io/v1alpha1",
                "kind": "ObjectBucketClaim",
                "metadata": {"name": "data"},
                "spec": {"storageClassName": "openshift-storage.noobaa.io", "bucketName": "cli"},
            }
            claims = ("objectbucket.io", "v1alpha1", "default", "objectbucketclaims")
            await objects.create_namespaced_custom_object(*claims, claim)
            await watch_until(
                objects.list_namespaced_custom_object,
                *claims,
                name="data",
                predicate=lambda c: c.get("status", {}).get("phase") == "Bound",
            )
            assert (await core.read_namespaced_config_map("data", "default")).data[
                "BUCKET_NAME"
            ] == "cli"
        pid = int(running["status"]["containerStatuses"][0]["containerID"].removeprefix("sim://"))
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 20) == 0
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # the simulator stopped its pods on the way out
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
