"""Blocking boto3 calls of the local bucket provisioner (run them in a thread)."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)

POLICY_NAME = "jupyterhub-ov-buckets"
IAM_PATH = "/jupyterhub-ov/"


_creating = threading.Lock()


def admin_clients(admin: Any, timeout: float) -> tuple[Any, Any]:
    """S3 and IAM clients for these admin credentials, made once and reused.

    Making a client loads botocore's service models (hundreds of milliseconds of CPU), so
    many launches at once must share them; clients are thread-safe, their creation is not
    (hence the lock). New credentials (a rotated key, another file) get new clients.
    """
    with _creating:
        return _clients(
            admin.endpoint_url, admin.region, admin.access_key_id, admin.secret_access_key, timeout
        )


@functools.lru_cache(maxsize=8)
def _clients(
    endpoint_url: str, region: str, key_id: str, secret: str, timeout: float
) -> tuple[Any, Any]:
    """S3 and IAM clients with short timeouts and few retries: a dead endpoint fails fast."""
    session = boto3.session.Session(
        aws_access_key_id=key_id or None,
        aws_secret_access_key=secret or None,
        region_name=region,
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


@contextmanager
def translated_errors(endpoint: str, error: type[Exception]) -> Iterator[None]:
    """botocore's exceptions → one message a user can act on (never with credentials)."""
    try:
        yield
    except (EndpointConnectionError, ConnectTimeoutError):
        raise error(f"The S3 service at {endpoint} is unreachable.") from None
    except NoCredentialsError:
        raise error(
            f"No admin credentials for the S3 service at {endpoint}: set"
            " LocalBucketProvisioner.access_key_id and secret_access_key, or credentials_file."
        ) from None
    except ReadTimeoutError:
        raise error(f"The S3 service at {endpoint} did not answer in time.") from None
    except ClientError as e:
        err = e.response.get("Error", {})
        raise error(
            f"The S3 service at {endpoint} refused {e.operation_name}:"
            f" {err.get('Code', '?')} {err.get('Message', '')}".rstrip()
        ) from None
    except BotoCoreError as e:
        raise error(f"The S3 service at {endpoint} failed: {e}") from None


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


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
    """A new key; older keys beyond the newest one are deleted (IAM allows two)."""
    keys = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    keys.sort(key=lambda k: k["CreateDate"])
    for old in keys[:-1]:
        iam.delete_access_key(UserName=user, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
