"""The ObjectBucketClaims the spawner sends fit the ObjectBucketClaim CRD (NooBaa's copy of
lib-bucket-provisioner's, vendored in tests/schemas/objectbucket), checked as a strict API
server checks them; a broken claim is refused with the validator's message."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from kubespawner.slugs import is_valid_label, safe_slug

from jupyterhub_ov import names
from jupyterhub_ov.storage import manifests

from ..deploy.schemas import validate

USERS = ["alice", "Ünïcødé User", "a.b+c@example.org", "0123", "x" * 200, "UPPER_case-"]
OPTIONS: list[dict[str, Any]] = [
    {},
    {"storage_class": "rook-ceph-bucket", "prefix": "lab"},
    {
        "additional_config": {"bucketclass": "noobaa-default-bucket-class", "maxSize": 5},
        "annotations": {"hub.jupyter.org/username": "Ünïcødé User"},
    },
    {"additional_config": {"maxObjects": 1000, "quota": 2.5}, "prefix": "j"},
]


def spawner_claim(user: str, options: dict[str, Any]) -> dict[str, Any]:
    """The claim as OVKubeSpawner._ensure_bucket makes it (its labels: KubeSpawner's)."""
    options = dict(options)
    labels = {
        "hub.jupyter.org/username": safe_slug(user, is_valid=is_valid_label),
        "app.kubernetes.io/managed-by": "kubespawner",
        "component": "singleuser-server",
    }
    return manifests.bucket_claim(
        name=names.object_name(user, "jupyter-bucket"),
        namespace="ds-team",
        generate_bucket_name=names.generate_bucket_name(user, options.pop("prefix", "jupyter")),
        labels=labels,
        **options,
    )


@pytest.mark.parametrize("options", OPTIONS, ids=range(len(OPTIONS)))
@pytest.mark.parametrize("user", USERS)
def test_the_spawners_claims_fit_the_crd(user: str, options: dict[str, Any]) -> None:
    claim = spawner_claim(user, options)
    validate(claim)
    bound = copy.deepcopy(claim)  # as the provisioner leaves it
    bound["spec"] |= {"bucketName": "b-1", "objectBucketName": "obc-ds-team-x"}
    bound["status"] = {"phase": "Bound"}
    validate(bound)


def broken(change: str) -> dict[str, Any]:
    claim = spawner_claim("alice", OPTIONS[2])
    if change == "no storage class":
        del claim["spec"]["storageClassName"]
    elif change == "a number in additionalConfig":
        claim["spec"]["additionalConfig"]["maxSize"] = 5
    elif change == "a misspelt field":
        claim["spec"]["generateBucketname"] = claim["spec"].pop("generateBucketName")
    elif change == "an unknown phase":
        claim["status"] = {"phase": "Ready"}
    elif change == "a number as a label":
        claim["metadata"]["labels"]["quota"] = 5
    elif change == "an unknown metadata field":
        claim["metadata"]["label"] = {}
    return claim


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("no storage class", "'storageClassName' is a required property"),
        ("a number in additionalConfig", "5 is not of type 'string'"),
        ("a misspelt field", "('generateBucketname' was unexpected)"),
        ("an unknown phase", "'Ready' is not one of ['Pending', 'Bound', 'Released', 'Failed']"),
        ("a number as a label", "5 is not of type 'string'"),
        ("an unknown metadata field", "('label' was unexpected)"),
    ],
)
def test_a_broken_claim_is_refused_with_the_validators_message(change: str, message: str) -> None:
    with pytest.raises(jsonschema.ValidationError) as refused:
        validate(broken(change))
    assert message in refused.value.message
