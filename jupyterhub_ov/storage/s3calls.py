"""Blocking boto3 calls of the local bucket provisioner (run them in a thread).

`provision` never adopts what it did not make: a user's bucket and IAM user are created
tagged ``jupyterhub-ov:user=<hub user>`` (`names.owner_tag_value`), the IAM user on the path
`IAM_PATH`; one that already exists without that mark for that user is refused (`Refused`),
and so is the identity holding the provisioner's own access key. Nothing is changed then.
"""

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

from .. import names

POLICY_NAME = "jupyterhub-ov-buckets"
IAM_PATH = "/jupyterhub-ov/"


class Refused(Exception):
    """An existing bucket or identity is not ours to hand out; the message says which."""


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
    except Refused as e:
        raise error(str(e)) from None
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


def rotate_access_key(iam: Any, user: str, *, admin_key_id: str) -> tuple[str, str]:
    """A new key; older keys beyond the newest one are deleted (IAM allows two).

    Never the provisioner's own key: an identity holding ``admin_key_id`` is refused before
    anything is deleted (deleting it would end all provisioning until a restart).
    """
    keys = _keys_not_the_admins(iam, user, admin_key_id)
    keys.sort(key=lambda k: k["CreateDate"])
    for old in keys[:-1]:
        iam.delete_access_key(UserName=user, AccessKeyId=old["AccessKeyId"])
    key = iam.create_access_key(UserName=user)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


_per_name: dict[str, threading.Lock] = {}


def _lock_for(name: str) -> threading.Lock:
    """One provisioning at a time per bucket: creating and tagging a bucket are two calls,
    and a second launch in between must not take the fresh bucket for a foreign one."""
    with _creating:
        return _per_name.setdefault(name, threading.Lock())


def provision(
    s3: Any,
    iam: Any,
    *,
    bucket: str,
    user: str,
    owner: str,
    policy: dict[str, Any],
    admin_key_id: str,
) -> tuple[str, str]:
    """Bucket and IAM user marked for hub user ``owner``, the policy, a fresh key.

    Everything is checked before anything is changed: a foreign identity or bucket leaves
    the service as it was.
    """
    if names.is_reserved_iam_user_name(user):
        raise Refused(f"IAM user {user} is reserved for the S3 server's administrator.")
    tag = {"Key": names.OWNER_TAG_KEY, "Value": names.owner_tag_value(owner)}
    with _lock_for(bucket):
        user_exists = _check_user(iam, user, tag, admin_key_id)
        if not _check_bucket(s3, bucket, tag):
            _create_bucket(s3, bucket, tag)
        if not user_exists:
            try:
                iam.create_user(UserName=user, Path=IAM_PATH, Tags=[tag])
            except ClientError as e:
                if _code(e) != "EntityAlreadyExists":
                    raise
                _check_user(iam, user, tag, admin_key_id)  # made meanwhile: by us?
        iam.put_user_policy(
            UserName=user, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(policy)
        )
        return rotate_access_key(iam, user, admin_key_id=admin_key_id)


def _check_user(iam: Any, user: str, tag: dict[str, str], admin_key_id: str) -> bool:
    """False if the IAM user does not exist, True if it is ours for this owner; else Refused."""
    try:
        found = iam.get_user(UserName=user)["User"]
    except ClientError as e:
        if _code(e) == "NoSuchEntity":
            return False
        raise
    tags = iam.list_user_tags(UserName=user)["Tags"]
    if found.get("Path") != IAM_PATH or tag not in tags:
        raise _foreign(f"IAM user {user}", tag, f"path {IAM_PATH}, tag {tag['Key']}")
    _keys_not_the_admins(iam, user, admin_key_id)
    return True


def _keys_not_the_admins(iam: Any, user: str, admin_key_id: str) -> list[dict[str, Any]]:
    """The user's access keys, refusing an identity that holds the provisioner's own."""
    keys: list[dict[str, Any]] = iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
    if any(k["AccessKeyId"] == admin_key_id for k in keys):
        raise Refused(f"IAM user {user} holds the hub's own admin key; refusing to use it.")
    return keys


def _foreign(what: str, tag: dict[str, str], marks: str) -> Refused:
    return Refused(
        f"{what} already exists but was not created by jupyterhub-ov for {tag['Value']!r}"
        f" ({marks}); refusing to use it. An administrator can remove it, or tag it if it is"
        " really this user's."
    )


def _check_bucket(s3: Any, bucket: str, tag: dict[str, str]) -> bool:
    """False if the bucket does not exist, True if it is ours for this owner; else Refused."""
    try:
        tags = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    except ClientError as e:
        if _code(e) == "NoSuchBucket":
            return False
        if _code(e) != "NoSuchTagSet":
            raise
        tags = []
    if tag not in tags:
        raise _foreign(f"Bucket {bucket}", tag, f"tag {tag['Key']}")
    return True


def _create_bucket(s3: Any, bucket: str, tag: dict[str, str]) -> None:
    """Create and mark; an untagged bucket left by a failed tagging would be refused forever,
    so it is removed again (it is empty: it was made a moment ago)."""
    try:
        s3.create_bucket(Bucket=bucket)
    except ClientError as e:
        if _code(e) != "BucketAlreadyOwnedByYou":
            raise
        _check_bucket(s3, bucket, tag)  # another hub process made it meanwhile: for whom?
        return
    try:
        s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [tag]})
    except Exception:
        s3.delete_bucket(Bucket=bucket)
        raise
