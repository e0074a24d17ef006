import json

from jupyterhub_ov.storage import manifests


def test_bucket_claim_literal():
    assert manifests.bucket_claim(
        name="jupyter-bucket-alice",
        namespace="ds",
        generate_bucket_name="jupyter-alice",
        additional_config={"bucketclass": "noobaa-default-bucket-class", "maxSize": 5},
        labels={"app": "jupyterhub"},
    ) == {
        "apiVersion": "objectbucket.io/v1alpha1",
        "kind": "ObjectBucketClaim",
        "metadata": {
            "name": "jupyter-bucket-alice",
            "namespace": "ds",
            "labels": {"app": "jupyterhub"},
        },
        "spec": {
            "storageClassName": "openshift-storage.noobaa.io",
            "generateBucketName": "jupyter-alice",
            "additionalConfig": {"bucketclass": "noobaa-default-bucket-class", "maxSize": "5"},
        },
    }


def test_claim_phase():
    assert manifests.claim_phase({}) == "Pending"
    assert manifests.claim_phase({"status": {"phase": "Bound"}}) == "Bound"


def test_environment_is_all_references_and_no_values():
    env = manifests.bucket_environment("jupyter-bucket-alice")
    secret = {
        "valueFrom": {
            "secretKeyRef": {"name": "jupyter-bucket-alice", "key": "AWS_SECRET_ACCESS_KEY"}
        }
    }
    assert env["AWS_SECRET_ACCESS_KEY"] == secret
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["key"] == "AWS_ACCESS_KEY_ID"
    for key in ("BUCKET_HOST", "BUCKET_NAME", "BUCKET_PORT", "BUCKET_REGION"):
        assert env[key] == {
            "valueFrom": {"configMapKeyRef": {"name": "jupyter-bucket-alice", "key": key}}
        }
    assert env["S3_ENDPOINT_URL"] == "http://$(BUCKET_HOST):$(BUCKET_PORT)"
    assert json.loads(env["JUPYTERHUB_OV_BUCKETS"]) == [
        {"name": "$(BUCKET_NAME)", "endpoint": "http://$(BUCKET_HOST):$(BUCKET_PORT)", "own": True}
    ]


def test_configured_endpoint_and_granted_buckets():
    env = manifests.bucket_environment(
        "c", endpoint_url="https://s3.apps.example", granted=[{"name": "team-data"}]
    )
    assert env["S3_ENDPOINT_URL"] == "https://s3.apps.example"
    assert json.loads(env["JUPYTERHUB_OV_BUCKETS"])[1] == {
        "name": "team-data",
        "endpoint": "https://s3.apps.example",
        "own": False,
    }


def ref(kind, key, name="jupyter-bucket-alice"):
    return {"valueFrom": {kind: {"name": name, "key": key}}}


def test_environment_whole_with_the_odh_connection_keys():
    env = manifests.bucket_environment("jupyter-bucket-alice", granted=[{"name": "team-data"}])
    endpoint = "http://$(BUCKET_HOST):$(BUCKET_PORT)"
    assert env == {
        "BUCKET_HOST": ref("configMapKeyRef", "BUCKET_HOST"),
        "BUCKET_NAME": ref("configMapKeyRef", "BUCKET_NAME"),
        "BUCKET_PORT": ref("configMapKeyRef", "BUCKET_PORT"),
        "BUCKET_REGION": ref("configMapKeyRef", "BUCKET_REGION"),
        "AWS_ACCESS_KEY_ID": ref("secretKeyRef", "AWS_ACCESS_KEY_ID"),
        "AWS_SECRET_ACCESS_KEY": ref("secretKeyRef", "AWS_SECRET_ACCESS_KEY"),
        "S3_ENDPOINT_URL": endpoint,
        "AWS_S3_ENDPOINT": endpoint,
        "AWS_DEFAULT_REGION": "$(BUCKET_REGION)",
        "AWS_S3_BUCKET": "$(BUCKET_NAME)",
        "JUPYTERHUB_OV_BUCKETS": json.dumps(
            [
                {"name": "$(BUCKET_NAME)", "endpoint": endpoint, "own": True},
                {"name": "team-data", "endpoint": endpoint, "own": False},
            ]
        ),
    }


def walk(value):
    """Every leaf (string, bool) of a nested structure of dicts and lists."""
    if isinstance(value, dict):
        for v in value.values():
            yield from walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from walk(v)
    else:
        yield value


def test_no_value_of_the_claim_is_inlined():
    """The claim's values (host, port, bucket, region, keys) reach the pod by valueFrom only:
    every literal is the configured endpoint or a $(KEY) the kubelet expands."""
    endpoint = "https://s3.apps.example"
    env = manifests.bucket_environment("c", endpoint_url=endpoint, granted=[{"name": "team"}])
    allowed = {endpoint, "$(BUCKET_NAME)", "$(BUCKET_REGION)", "team", True, False}
    for key, value in env.items():
        if isinstance(value, dict):
            kind = next(iter(value["valueFrom"]))
            assert value == {"valueFrom": {kind: {"name": "c", "key": key}}}
            continue
        leaves = set(walk(json.loads(value))) if key == "JUPYTERHUB_OV_BUCKETS" else {value}
        assert leaves <= allowed, (key, value)
    kinds = {k: next(iter(v["valueFrom"])) for k, v in env.items() if isinstance(v, dict)}
    assert kinds == {
        **dict.fromkeys(manifests.CONFIGMAP_KEYS, "configMapKeyRef"),
        **dict.fromkeys(manifests.SECRET_KEYS, "secretKeyRef"),
    }
