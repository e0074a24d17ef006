"""``python -m reliability.spawnernames``: usernames (a JSON list on stdin) to the Kubernetes
names real `OVKubeSpawner` objects give them, ``{target: [[user, name], ...]}`` on stdout.

A process of its own for the names scenario: KubeSpawner loads ``$KUBECONFIG`` (it connects
to nothing here), which kubernetes_asyncio reads once, when first imported.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections import defaultdict
from types import SimpleNamespace

from jupyterhub_ov import names

Names = dict[str, list[tuple[str, str]]]


async def spawner_names(usernames: list[str]) -> Names:
    from jupyterhub_ov.spawners.kube import OVKubeSpawner

    out: Names = defaultdict(list)
    hub = SimpleNamespace(public_host="", url="/hub/", base_url="/hub/", api_url="")
    for i, name in enumerate(usernames):
        user = SimpleNamespace(name=name, id=i, url=f"/user/{name}/")
        s = OVKubeSpawner(user=user, hub=hub, namespace="ns")
        claim = s.bucket_claim_name
        bucket = names.generate_bucket_name(name, s.bucket_name_prefix)
        out["Pod"].append((name, s.pod_name))
        out["PersistentVolumeClaim"].append((name, s.pvc_name))
        out["ObjectBucketClaim"].append((name, claim))
        # the provisioner names the bucket <generateBucketName>-<uuid>; the claim's Secret
        # and ConfigMap are named as the claim
        out["bucket (ObjectBucketClaim)"].append((name, f"{bucket}-{uuid.uuid4()}"))
        out["Secret"].append((name, claim))
        out["ConfigMap"].append((name, claim))
        if s.internal_ssl:  # KubeSpawner's own Secret exists only with internal_ssl
            out["Secret"].append((name, s.secret_name))
    return out


if __name__ == "__main__":
    json.dump(asyncio.run(spawner_names(json.load(sys.stdin))), sys.stdout)
