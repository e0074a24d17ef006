"""Blocking boto3 calls of the simulated bucket provisioner (run them in a thread).

The simulator's own small set, so it imports nothing of the product: admin clients, a bucket,
an IAM user with a policy allowing only its buckets, and a fresh access key. Part of the
cluster simulator, a test double (see ``jupyterhub_ov_sim``).
"""

from __future__ import annotations

import functools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

POLICY_NAME = "sim-obc-bucket"
IAM_PATH = "/sim-obc/"

_creating = threading.Lock()


@dataclass(frozen=True)
class AdminCredentials:
    endpoint_url: str
    region: str
    access_key_id: str
    secret_access_key: str = field(repr=False)


def admin_clients(admin: AdminCredentials, timeout: float) -> tuple[Any, Any]:
    """S3 and IAM clients for these credentials, made once (clients are thread-safe, their
    creation is not, hence the lock) and reused: making one costs hundreds of milliseconds."""
    with _creating:
        return _clients(
            admin.endpoint_url, admin.region, admin.access_key_id, admin.secret_access_key, timeout
        )


@functools.lru_cache(maxsize=8)
def _clients(
    endpoint_url: str, region: str, key_id: str, secret: str, timeout: float
) -> tuple[Any, Any]:
    session = boto3.session.Session(
        aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=region
    )
    config = Config(
        connect_timeout=min(5.0, timeout),
        read_timeout=min(15.0, timeout),
        retries={"max_attempts": 2, "mode": "standard"},
        s3={"addressing_style": "path"},
    )
    s3 = session.client("s3", endpoint_url=endpoint_url, config=config)
    iam = session.client("iam", endpoint_url=endpoint_url, config=config)
    return s3, iam


def bucket_policy(buckets: list[str]) -> dict[str, Any]:
    """Everything on these buckets and their objects, nothing else (what NooBaa grants)."""
    resources = [arn for b in buckets for arn in (f"arn:aws:s3:::{b}", f"arn:aws:s3:::{b}/*")]
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resources}],
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def ensure_bucket(s3: Any, bucket: str) -> None:
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:
        if _code(e) != "BucketAlreadyOwnedByYou":
            raise


def ensure_user(iam: Any, user: str, policy: dict[str, Any]) -> None:
    try:
        iam.create_user(UserName=user, Path=IAM_PATH)
    except ClientError as e:
        if _code(e) != "EntityAlreadyExists":
            raise
    iam.put_user_policy(UserName=user, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy))


def rotate_access_key(iam: Any, user: str) -> tuple[str, str]:
    """A new key; older ones beyond the newest are deleted (IAM allows two)."""
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    keys.sort(key=lambda k: k["CreateDate"])
    for old in keys[:-1]:
        iam.delete_access_key(UserName=user, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
