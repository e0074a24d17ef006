"""The baseline: stock KubeSpawner plus the pre-spawn hook the OCS guide suggests.

Loaded by the baseline hub of `spawn_requests.py` (it has to be importable by the hub
process). It creates the user's ObjectBucketClaim, re-reads it every 5 s until Bound, then
reads the claim's Secret and ConfigMap and puts the values into the pod's environment —
which is why the hub needs `get` on Secrets and the pod spec carries the secret.
"""

from __future__ import annotations

import asyncio
import base64

from kubernetes_asyncio.client.exceptions import ApiException
from kubespawner.clients import shared_client

G, V, P = "objectbucket.io", "v1alpha1", "objectbucketclaims"


async def ocs_guide_hook(spawner) -> None:
    custom, core = shared_client("CustomObjectsApi"), shared_client("CoreV1Api")
    name, ns = f"bucket-{spawner.user.name}", spawner.namespace
    body = {
        "apiVersion": f"{G}/{V}",
        "kind": "ObjectBucketClaim",
        "metadata": {"name": name},
        "spec": {"storageClassName": "openshift-storage.noobaa.io", "generateBucketName": name},
    }
    try:
        await custom.create_namespaced_custom_object(G, V, ns, P, body)
    except ApiException as e:
        if e.status != 409:
            raise
    while True:  # the guide's polling loop, measured as the baseline
        claim = await custom.get_namespaced_custom_object(G, V, ns, P, name)
        if claim.get("status", {}).get("phase") == "Bound":
            break
        await asyncio.sleep(5)
    secret = await core.read_namespaced_secret(name, ns)
    config = await core.read_namespaced_config_map(name, ns)
    env = {k: base64.b64decode(v).decode() for k, v in secret.data.items()}
    host, port = config.data["BUCKET_HOST"], config.data["BUCKET_PORT"]
    env.update(config.data, S3_ENDPOINT_URL=f"http://{host}:{port}")
    spawner.environment = {**spawner.environment, **env}
