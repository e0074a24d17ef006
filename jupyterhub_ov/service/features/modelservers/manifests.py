"""Pure: the Deployment and Service the OpenVINO Toolkit Operator's Helm chart makes of a
``ModelServer``, from the typed spec (`spec.ModelServerSpec`), as plain dicts.

What follows the chart: the names (``<name>-ovms`` unless the name contains ``ovms``), the
labels ``app``/``release``, the container ``ovms`` with ports ``grpc`` 8080 and ``rest`` 8081,
its probes, arguments, mounts (``/models``, ``/config``, ``/secret``) and environment, the
Service's ports and type, the service-mesh annotation, affinities, update strategy, envFrom.
What differs, on purpose:
- no ``--sequence_cleaner_poll_wait_minutes`` (OVMS 2026.3 refuses the option);
- S3 credentials by reference only: ``secretKeyRef`` to the Secret named by
  ``aws_secret_name`` or to the ObjectBucketClaim's Secret; with a claim, ``S3_ENDPOINT`` and
  ``AWS_REGION`` come from the claim's ConfigMap (BUCKET_HOST, BUCKET_PORT, BUCKET_REGION,
  expanded by the kubelet) unless the spec or the service's configuration gives them;
- the GCS credentials volume mounts the Secret the spec names (the chart hard-codes
  ``gcpcreds``);
- a restricted-v2 security context, and no service account token in the pod;
- owner references to the ModelServer when its uid is known, so deleting it deletes both.

Note that the OVMS image's ``USER`` is the name ``ovms``: with ``runAsNonRoot`` a kubelet
outside OpenShift (whose SCC assigns a uid) needs ``models_repository.runAsUser`` (5000).
"""

from __future__ import annotations

import json
from typing import Any

from jupyterhub_ov.storage.manifests import SECRET_KEYS, key_ref

from .spec import API_VERSION, KIND, ModelServerSpec

CONTAINER = "ovms"
GRPC_PORT = 8080
REST_PORT = 8081
MESH_ANNOTATION = "sidecar.istio.io/inject"
GCP_CREDENTIALS = "/secret/gcp-creds.json"
#: the variables OVMS reads for S3 (its s3filesystem.cpp); OVMS speaks plain HTTP to an
#: ``S3_ENDPOINT`` (it strips ``http://`` and sets the scheme to HTTP)
S3_ENDPOINT = "S3_ENDPOINT"
AWS_REGION = "AWS_REGION"
#: an ObjectBucketClaim's ConfigMap keys the environment refers to
CLAIM_ENDPOINT = "http://$(BUCKET_HOST):$(BUCKET_PORT)"
CLAIM_REGION = "$(BUCKET_REGION)"


def labels(spec: ModelServerSpec) -> dict[str, str]:
    """The chart's ``app`` (the object name) and ``release`` (the resource's name)."""
    return {"app": spec.object_name, "release": spec.name}


def owner_reference(name: str, uid: str) -> dict[str, Any]:
    """The ModelServer as the controlling owner (garbage collection deletes what it owns)."""
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": True,
    }


def _metadata(spec: ModelServerSpec, namespace: str, owner_uid: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": spec.object_name,
        "namespace": namespace,
        "labels": labels(spec),
    }
    if owner_uid:
        metadata["ownerReferences"] = [owner_reference(spec.name, owner_uid)]
    return metadata


def server_args(spec: ModelServerSpec) -> list[str]:
    """The ``ovms`` command line: the model (or the config file), then the server settings."""
    m = spec.models
    if m.single_model_mode:
        args = ["--model_path", m.model_path, "--model_name", m.model_name]
        args += ["--target_device", m.target_device]
        if m.nireq:
            args += ["--nireq", str(m.nireq)]
        if m.plugin_config:
            args += ["--plugin_config", _json(m.plugin_config)]
        for option, value in (("--batch_size", m.batch_size), ("--layout", m.layout)):
            if value:
                args += [option, value]
        if m.shape:
            args += ["--shape", m.shape]
        if m.model_version_policy:
            args += ["--model_version_policy", _json(m.model_version_policy.to_json())]
    else:
        args = ["--config_path", m.config_path]
    if spec.monitoring.metrics_enable:
        args.append("--metrics_enable")
    if spec.monitoring.metrics_list:
        args += ["--metrics_list", spec.monitoring.metrics_list]
    s = spec.server
    args += ["--log_level", s.log_level]
    args += ["--file_system_poll_wait_seconds", str(s.file_system_poll_wait_seconds)]
    if s.grpc_workers:
        args += ["--grpc_workers", str(s.grpc_workers)]
    if s.rest_workers:
        args += ["--rest_workers", str(s.rest_workers)]
    return [*args, "--port", str(GRPC_PORT), "--rest_port", str(REST_PORT)]


def _json(value: Any) -> str:
    return json.dumps(value)


def _value(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "value": value}


def _ref(name: str, kind: str, source: str, key: str) -> dict[str, Any]:
    return {"name": name, **key_ref(kind, source, key)}


def s3_environment(spec: ModelServerSpec, *, s3_endpoint: str = "") -> list[dict[str, Any]]:
    """AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY by ``secretKeyRef``, AWS_REGION, S3_ENDPOINT.

    ``s3_endpoint``: the service's configured endpoint of the cluster's object store, used
    when the spec names none; with a bucket claim and neither, the claim's host and port.
    """
    r = spec.repository
    secret = r.bucket_claim or r.aws_secret_name
    env: list[dict[str, Any]] = []
    endpoint = r.s3_compat_api_endpoint or s3_endpoint
    region = r.aws_region
    if r.bucket_claim:  # the claim's ConfigMap first: later values refer to its keys
        endpoint = endpoint or CLAIM_ENDPOINT
        region = region or CLAIM_REGION
        used = [k for k in ("BUCKET_HOST", "BUCKET_PORT") if f"$({k})" in endpoint]
        used += ["BUCKET_REGION"] if region == CLAIM_REGION else []
        env += [_ref(k, "configMapKeyRef", r.bucket_claim, k) for k in used]
    if secret:
        env += [_ref(key, "secretKeyRef", secret, key) for key in SECRET_KEYS]
    if region:
        env.append(_value(AWS_REGION, region))
    if endpoint:
        env.append(_value(S3_ENDPOINT, endpoint))
    return env


def server_environment(spec: ModelServerSpec, *, s3_endpoint: str = "") -> list[dict[str, Any]]:
    """The chart's variables in its order (proxies, GCS, S3); values are never secrets."""
    r = spec.repository
    env = [
        _value(name, value)
        for name, value in (
            ("http_proxy", r.http_proxy),
            ("https_proxy", r.https_proxy),
            ("no_proxy", r.no_proxy),
        )
        if value
    ]
    if r.gcp_creds_secret_name:
        env.append(_value("GOOGLE_APPLICATION_CREDENTIALS", GCP_CREDENTIALS))
    return env + s3_environment(spec, s3_endpoint=s3_endpoint)


def _volumes(spec: ModelServerSpec) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, mounts): GCS credentials at /secret, the config map at /config, the claim at
    /models — all read-only."""
    r, m = spec.repository, spec.models
    wanted: list[tuple[str, str, dict[str, Any]]] = []
    if r.gcp_creds_secret_name:
        wanted.append(("gcpcreds", "/secret", {"secret": {"secretName": r.gcp_creds_secret_name}}))
    if m.config_configmap_name:
        wanted.append(("config", "/config", {"configMap": {"name": m.config_configmap_name}}))
    if r.models_volume_claim:
        claim = {"claimName": r.models_volume_claim, "readOnly": True}
        wanted.append(("models", "/models", {"persistentVolumeClaim": claim}))
    volumes = [{"name": name, **source} for name, _, source in wanted]
    mounts = [{"name": name, "mountPath": path, "readOnly": True} for name, path, _ in wanted]
    return volumes, mounts


def security_context(spec: ModelServerSpec) -> dict[str, Any]:
    """What restricted-v2 (and the restricted Pod Security Standard) admits; a uid/gid only
    when the spec asks for one (OpenShift assigns one from the namespace's range)."""
    context: dict[str, Any] = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    if spec.repository.run_as_user is not None:
        context["runAsUser"] = spec.repository.run_as_user
    if spec.repository.run_as_group is not None:
        context["runAsGroup"] = spec.repository.run_as_group
    return context


def _resources(spec: ModelServerSpec) -> dict[str, Any]:
    res = spec.deployment.resources
    parts = (("limits", res.limits), ("requests", res.requests))
    return {section: dict(pairs) for section, pairs in parts if pairs}


def container(
    spec: ModelServerSpec, mounts: list[dict[str, Any]], *, s3_endpoint: str = ""
) -> dict[str, Any]:
    def probe(path: str, **timing: int) -> dict[str, Any]:
        return {**timing, "httpGet": {"path": path, "port": "rest"}}

    body: dict[str, Any] = {
        "name": CONTAINER,
        "image": spec.image_name,
        "ports": [
            {"containerPort": GRPC_PORT, "name": "grpc", "protocol": "TCP"},
            {"containerPort": REST_PORT, "name": "rest", "protocol": "TCP"},
        ],
        "livenessProbe": probe("/v2/health/live"),
        "readinessProbe": probe("/v2/health/ready", initialDelaySeconds=5, periodSeconds=5),
        "args": server_args(spec),
        "resources": _resources(spec),
        "securityContext": security_context(spec),
    }
    env = server_environment(spec, s3_endpoint=s3_endpoint)
    if env:
        body["env"] = env
    d = spec.deployment
    env_from = [{"secretRef": {"name": d.extra_envs_secret}}] if d.extra_envs_secret else []
    if d.extra_envs_configmap:
        env_from.append({"configMapRef": {"name": d.extra_envs_configmap}})
    if env_from:
        body["envFrom"] = env_from
    if mounts:
        body["volumeMounts"] = mounts
    return body


def deployment(
    spec: ModelServerSpec, *, namespace: str, owner_uid: str = "", s3_endpoint: str = ""
) -> dict[str, Any]:
    """The ``apps/v1`` Deployment ``<name>-ovms`` running OVMS for ``spec``."""
    d = spec.deployment
    volumes, mounts = _volumes(spec)
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        "containers": [container(spec, mounts, s3_endpoint=s3_endpoint)],
    }
    affinity = {
        kind: dict(value)
        for kind, value in (
            ("nodeAffinity", d.node_affinity),
            ("podAffinity", d.pod_affinity),
            ("podAntiAffinity", d.pod_antiaffinity),
        )
        if value
    }
    if affinity:
        pod["affinity"] = affinity
    if volumes:
        pod["volumes"] = volumes
    template_meta: dict[str, Any] = {"labels": labels(spec)}
    if d.openshift_service_mesh:
        template_meta["annotations"] = {MESH_ANNOTATION: "true"}
    body: dict[str, Any] = {
        "replicas": d.replicas,
        "selector": {"matchLabels": labels(spec)},
        "template": {"metadata": template_meta, "spec": pod},
    }
    if d.update_strategy:
        body["strategy"] = dict(d.update_strategy)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, namespace, owner_uid),
        "spec": body,
    }


def service(spec: ModelServerSpec, *, namespace: str, owner_uid: str = "") -> dict[str, Any]:
    """The ``v1`` Service ``<name>-ovms``: ``grpc`` and ``rest`` on the spec's ports."""
    ports = (
        ("grpc", spec.service.grpc_port, GRPC_PORT),
        ("rest", spec.service.rest_port, REST_PORT),
    )
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec, namespace, owner_uid),
        "spec": {
            "type": spec.service.service_type,
            "selector": {"app": spec.object_name},
            "ports": [
                {"name": name, "port": port, "protocol": "TCP", "targetPort": target}
                for name, port, target in ports
            ],
        },
    }
