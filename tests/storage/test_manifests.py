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
